package dev.doorbuster.load;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.bodyString;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.jsonPath;
import static io.gatling.javaapi.core.CoreDsl.pause;
import static io.gatling.javaapi.core.CoreDsl.percent;
import static io.gatling.javaapi.core.CoreDsl.randomSwitch;
import static io.gatling.javaapi.http.HttpDsl.header;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gatling.javaapi.core.ChainBuilder;
import io.gatling.javaapi.core.Session;
import io.gatling.javaapi.http.HttpProtocolBuilder;
import io.gatling.javaapi.http.HttpRequestActionBuilder;

/**
 * What shoppers do on the storefront, as Gatling chains: browse, fill a cart, check out. Every write is
 * followed at once by the same user reading what it wrote ("read-after-write: ..." requests): a stale or
 * missing read is a KO with {@link ReadAfterWrite#STALE} and is counted for the verdict. Every request is
 * timed into the run's per-second histograms; every acknowledged order goes to the write ledger.
 */
public final class StorefrontJourneys {
    public static final List<String> CATEGORIES = List.of("electronics", "books", "toys", "kitchen", "garden", "sports",
            "beauty", "fashion", "grocery", "automotive", "music", "games");
    private static final String T0 = "doorbuster.t0";
    private static final String NO_TOKEN = "0/0";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Run run;
    private final int users;
    private final int products;

    public StorefrontJourneys(Run run) {
        this.run = run;
        this.users = run.environment().app().seedUsers();
        this.products = run.environment().app().seedProducts();
    }

    /** HTTP to the application: JSON, no warm-up call, each shopper identified by {@code X-Client-Id}. */
    public HttpProtocolBuilder protocol() {
        return http.baseUrl(run.appUrl().toString())
                .disableWarmUp()
                .acceptHeader("application/json")
                .contentTypeHeader("application/json")
                .header("X-Client-Id", session -> "shopper-" + session.userId());
    }

    /** A random existing shopper and product for each arriving user (user 1 is the RTO probe's). */
    public Iterator<Map<String, Object>> shoppers() {
        return Stream.generate(() -> Map.<String, Object>of(
                "userId", 2 + ThreadLocalRandom.current().nextInt(Math.max(1, users - 1)),
                "productId", 1 + ThreadLocalRandom.current().nextInt(products),
                "otherProductId", 1 + ThreadLocalRandom.current().nextInt(products),
                "category", CATEGORIES.get(ThreadLocalRandom.current().nextInt(CATEGORIES.size())),
                "quantity", 1 + ThreadLocalRandom.current().nextInt(2))).iterator();
    }

    /** Browse ≈{@code browse}%, cart ≈{@code cart}%, checkout ≈{@code checkout}% of arriving shoppers. */
    public ChainBuilder trafficMix(double browse, double cart, double checkout) {
        return exec(io.gatling.javaapi.core.CoreDsl.feed(shoppers())).exec(randomSwitch().on(
                percent(browse).then(browse()),
                percent(cart).then(fillCart()),
                percent(checkout).then(checkout())));
    }

    /** Look at a category page, then two product pages. */
    public ChainBuilder browse() {
        return timed("browse: category page", http("browse: category page").get("/products")
                .queryParam("category", "#{category}").queryParam("limit", "20"))
                .exec(think())
                .exec(timed("browse: product page", http("browse: product page").get("/products/#{productId}")))
                .exec(think())
                .exec(timed("browse: product page", http("browse: product page").get("/products/#{otherProductId}")));
    }

    /** Create a cart, add an item, and see it in the cart at once. */
    public ChainBuilder fillCart() {
        return createCartWithItem()
                .exec(timed("read-after-write: cart", http("read-after-write: cart").get("/carts/#{cartId}")
                        .header("X-Consistency-Token", StorefrontJourneys::token)
                        .check(status().is(200), bodyString().validate("own item visible", (body, session) -> {
                            // Gatling evaluates every check: an error answer (already KO by its status) is
                            // not a read of the cart, so it is neither a hit nor a violation.
                            Boolean holds = cartHolds(body, session.getLong("productId"));
                            if (holds != null) {
                                run.readAfterWrite().check(holds);
                            }
                            return body;
                        }))));
    }

    /** Update the shipping name and see it at once; fill a cart; place the order and see it at once. */
    public ChainBuilder checkout() {
        return updateProfileAndReadItBack()
                .exec(think())
                .exec(createCartWithItem())
                .exec(timed("checkout: place order", http("checkout: place order").post("/orders")
                        .body(StringBody("{\"cartId\": #{cartId}}"))
                        .check(status().saveAs("orderStatus"), status().in(201, 409),
                                jsonPath("$.id").ofLong().optional().saveAs("orderId"),
                                header("X-Consistency-Token").optional().saveAs("token"))))
                .exec(this::recordOrderOutcome)
                .doIf(session -> session.contains("orderId")).then(
                        timed("read-after-write: order", http("read-after-write: order").get("/orders/#{orderId}")
                                .header("X-Consistency-Token", StorefrontJourneys::token)
                                .check(status().validate("own order visible", (code, session) -> {
                                    if (code == 404 || code == 200) {
                                        run.readAfterWrite().check(code == 200);
                                    }
                                    return code;
                                }), status().is(200))));
    }

    /** Profile update then immediate read: the read-after-write check at its simplest. */
    public ChainBuilder updateProfileAndReadItBack() {
        return timed("profile: update", http("profile: update").put("/users/#{userId}")
                .body(StringBody(session -> "{\"name\": \"Shopper " + session.userId() + "\"}"))
                .check(status().is(200), jsonPath("$.version").ofInt().saveAs("writtenVersion"),
                        header("X-Consistency-Token").optional().saveAs("token")))
                .exitHereIfFailed()
                .exec(timed("read-after-write: profile", http("read-after-write: profile").get("/users/#{userId}")
                        .header("X-Consistency-Token", StorefrontJourneys::token)
                        .check(status().is(200), jsonPath("$.version").ofInt().validate("own update visible",
                                (version, session) -> {
                                    run.readAfterWrite().check(version >= session.getInt("writtenVersion"));
                                    return version;
                                }))));
    }

    private ChainBuilder createCartWithItem() {
        return timed("cart: create", http("cart: create").post("/carts").body(StringBody("{\"userId\": #{userId}}"))
                .check(status().is(201), jsonPath("$.id").ofLong().saveAs("cartId")))
                .exitHereIfFailed()
                .exec(timed("cart: add item", http("cart: add item").post("/carts/#{cartId}/items")
                        .body(StringBody("{\"productId\": #{productId}, \"quantity\": #{quantity}}"))
                        .check(status().is(201), header("X-Consistency-Token").optional().saveAs("token"))))
                .exitHereIfFailed();
    }

    /** 201 → acknowledged; no answer or a 5xx → in doubt (the commit may or may not have happened). */
    private Session recordOrderOutcome(Session session) {
        Integer status = session.contains("orderStatus") ? session.getInt("orderStatus") : null;
        if (status != null && status == 201 && session.contains("orderId")) {
            run.ledger().acknowledged(session.getLong("orderId"));
        } else if (status == null || status >= 500) {
            run.ledger().inDoubt();
        }
        return session.remove("orderStatus");
    }

    /**
     * {@code request}, with its client-observed latency and OK/KO recorded into the run's per-second
     * histograms, and its 503s counted. (Gatling's own statistics are internal; the verdict records what it
     * needs itself.)
     */
    public ChainBuilder timed(String name, HttpRequestActionBuilder request) {
        return exec(session -> session.markAsSucceeded().set(T0, System.nanoTime()))
                .exec(request.transformResponse((response, session) -> {
                    if (response.status().code() == 503) {
                        run.client503(); // overload as clients see it, for apps that expose no pool metrics
                    }
                    return response;
                }))
                .exec(session -> {
                    long micros = (System.nanoTime() - session.getLong(T0)) / 1_000;
                    run.recorder().record(name, micros, !session.isFailed());
                    return session.remove(T0);
                });
    }

    private static ChainBuilder think() {
        return pause(Duration.ofMillis(100), Duration.ofMillis(500));
    }

    private static String token(Session session) {
        String token = session.getString("token");
        return token == null ? NO_TOKEN : token;
    }

    /** Whether the cart in {@code body} holds {@code productId}; null if {@code body} is not a cart. */
    static Boolean cartHolds(String body, long productId) {
        try {
            JsonNode cart = JSON.readTree(body);
            if (cart == null || !cart.has("id") || !cart.path("items").isArray()) {
                return null;
            }
            for (JsonNode item : cart.path("items")) {
                if (item.path("productId").asLong() == productId) {
                    return true;
                }
            }
            return false;
        } catch (java.io.IOException e) {
            return null;
        }
    }
}
