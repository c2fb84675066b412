package dev.doorbuster.app;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * The Redis keys of the cache tier, defined once: the storefront reads, fills and deletes them, and the harness (its
 * faults and checks) names the same keys. Each holds exactly the JSON body its endpoint answers.
 */
public final class CacheKeys {
    /** {@code product:{id}}: {@code GET /products/{id}}. */
    public static final String PRODUCT = "product:";
    /** {@code cart:{id}}: {@code GET /carts/{id}}. */
    public static final String CART = "cart:";
    /** {@code user:{id}}: {@code GET /users/{id}}. */
    public static final String USER = "user:";
    /** {@code products:...}: {@code GET /products}, one key per page (see {@link #listing}). */
    public static final String LISTING = "products:";

    private CacheKeys() {
    }

    public static String product(long id) {
        return PRODUCT + id;
    }

    public static String cart(long id) {
        return CART + id;
    }

    public static String user(long id) {
        return USER + id;
    }

    /**
     * One page of {@code GET /products}: {@code products:category=Books:after=0:limit=20}, or without a category
     * {@code products:after=0:limit=20}. The category is URL-encoded, so a {@code :} in it cannot make two pages
     * share a key.
     */
    public static String listing(String category, long after, int limit) {
        return LISTING + (category == null ? "" : "category=" + URLEncoder.encode(category, StandardCharsets.UTF_8) + ":")
                + "after=" + after + ":limit=" + limit;
    }
}
