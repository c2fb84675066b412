package dev.doorbuster.app;

import java.util.Map;
import java.util.TreeMap;

/**
 * The names of the storefront's cache-tier meters, their tags and tag values, defined once: the storefront registers
 * them ({@link StorefrontMetrics}) and the harness, which may depend on {@code app} (never the other way round), reads
 * the same names from {@code /metrics}. Every meter is a counter; {@link #series} gives a sample's Prometheus name.
 *
 * <p>{@link #DATABASE_READS} is registered whether or not the cache tier is on, so that a run without a cache and one
 * with it can be compared (the cache's amplification: database reads per request); the others only when it is on.
 */
public final class CacheMeters {
    /** Cache lookups of a read, by {@link #KIND} and {@link #OUTCOME} ({@link Lookup}). */
    public static final String LOOKUPS = "storefront.cache.lookups";
    /** Writes of a database answer into the cache after a miss, by {@link #KIND} and {@link #OUTCOME} ({@link Fill}). */
    public static final String FILLS = "storefront.cache.fills";
    /** Keys a write deleted from the cache after its commit, by {@link #OUTCOME} ({@link Invalidation}). */
    public static final String INVALIDATIONS = "storefront.cache.invalidations";
    /** Misses that waited for another request's database read of the same key (single-flight), by {@link #KIND}. */
    public static final String SINGLE_FLIGHT_WAITS = "storefront.cache.single_flight.waits";
    /**
     * Database reads made by the cacheable endpoints, by {@link #KIND}: every execution of the endpoint's query,
     * a cache refill included, with or without a cache.
     */
    public static final String DATABASE_READS = "storefront.db.reads";

    /** Tag: which kind of read ({@link Kind}). */
    public static final String KIND = "kind";
    /** Tag: what happened. */
    public static final String OUTCOME = "outcome";

    /** The kinds of cached reads, the {@link #KIND} tag's values. */
    public enum Kind {
        /** {@code GET /products/{id}}. */
        PRODUCT("product"),
        /** {@code GET /products?category=&after=&limit=}: a page of a category, or of every product. */
        CATEGORY("category"),
        /** {@code GET /carts/{id}}. */
        CART("cart"),
        /** {@code GET /users/{id}}. */
        PROFILE("profile");

        private final String tag;

        Kind(String tag) {
            this.tag = tag;
        }

        public String tag() {
            return tag;
        }
    }

    /** The {@link #OUTCOME} of a {@link #LOOKUPS lookup}. */
    public enum Lookup {
        /** Answered from the cache. */
        HIT("hit"),
        /** Not in the cache: read from the database. */
        MISS("miss"),
        /** The cache failed or did not answer in time ({@code --cache-on-error} says what the request then did). */
        ERROR("error");

        private final String tag;

        Lookup(String tag) {
            this.tag = tag;
        }

        public String tag() {
            return tag;
        }
    }

    /** The {@link #OUTCOME} of a {@link #FILLS fill}. */
    public enum Fill {
        OK("ok"),
        ERROR("error");

        private final String tag;

        Fill(String tag) {
            this.tag = tag;
        }

        public String tag() {
            return tag;
        }
    }

    /** The {@link #OUTCOME} of an {@link #INVALIDATIONS invalidation}, per key. */
    public enum Invalidation {
        /** The key was cached and is gone. */
        DELETED("deleted"),
        /** The key was not cached. */
        ABSENT("absent"),
        /**
         * The delete failed or did not answer in time: retried in the background until it succeeds (then counted
         * again as deleted or absent), the storefront reading the key from the database meanwhile.
         */
        ERROR("error"),
        /**
         * A failed delete was given up: the copy's TTL passed first, or too many deletes were pending. Other storefront
         * instances may have served the stale copy until its TTL.
         */
        GAVE_UP("gave-up");

        private final String tag;

        Invalidation(String tag) {
            this.tag = tag;
        }

        public String tag() {
            return tag;
        }
    }

    private CacheMeters() {
    }

    /**
     * The Prometheus name of a sample of counter {@code meter} with the given tags (name, value pairs), as
     * {@code /metrics} writes it: {@code storefront_cache_lookups_total{kind="product",outcome="hit"}}.
     */
    public static String series(String meter, String... tags) {
        if (tags.length % 2 != 0) {
            throw new IllegalArgumentException("tags come in name, value pairs");
        }
        Map<String, String> sorted = new TreeMap<>(); // Prometheus text lists labels by name
        for (int i = 0; i < tags.length; i += 2) {
            sorted.put(tags[i], tags[i + 1]);
        }
        StringBuilder series = new StringBuilder(meter.replace('.', '_')).append("_total");
        if (!sorted.isEmpty()) {
            series.append('{');
            sorted.forEach((name, value) -> series.append(name).append("=\"").append(value).append("\","));
            series.setCharAt(series.length() - 1, '}');
        }
        return series.toString();
    }
}
