package dev.doorbuster.load;

import static dev.doorbuster.app.StorefrontHeaders.IDEMPOTENCY_KEY;
import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.jsonPath;
import static io.gatling.javaapi.core.CoreDsl.pause;
import static io.gatling.javaapi.core.CoreDsl.percent;
import static io.gatling.javaapi.core.CoreDsl.randomSwitch;
import static io.gatling.javaapi.core.CoreDsl.repeat;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doorbuster.app.StorefrontHeaders;
import dev.doorbuster.verdict.consistency.Observation;
import dev.doorbuster.verdict.consistency.WriteLookup;
import io.gatling.javaapi.core.ChainBuilder;
import io.gatling.javaapi.core.Session;
import io.gatling.javaapi.http.HttpProtocolBuilder;

/**
 * What shoppers do on the storefront, as Gatling chains: browse, fill a cart, check out, and come back
 * a few seconds later to what they wrote (their cart, their order, their profile), as real shoppers do.
 *
 * <p>Every write carries an {@code Idempotency-Key} the shopper chose, so the audit finds it again by
 * that identity (never by the server's id, which a promoted replica hands out again). Every read of a
 * key the shopper wrote or saw is checked against their session guarantees through {@link Consistency};
 * a violating read is a KO named after the guarantee. Each arriving shopper is a distinct user of the
 * shop, so two shoppers never share a profile.
 */
public final class StorefrontJourneys {
    public static final List<String> CATEGORIES = List.of("electronics", "books", "toys", "kitchen", "garden", "sports",
            "beauty", "fashion", "grocery", "automotive", "music", "games");
    private static final String NO_TOKEN = "0/0";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Users the shoppers play: 2.. (user 1 is the failover probe's). */
    private static final long FIRST_SHOPPER = 2;

    private final Run run;
    private final Consistency consistency;
    private final int users;
    private final int products;
    private final Doorbusters doorbusters;
    private final AtomicLong nextUser = new AtomicLong();
    private final Consistency.WriteKind profileUpdate;
    private final Consistency.WriteKind cart;
    private final Consistency.WriteKind cartLine;
    private final Consistency.WriteKind order;

    public StorefrontJourneys(Run run) {
        this(run, Doorbusters.fromParameters());
    }

    public StorefrontJourneys(Run run, Doorbusters doorbusters) {
        this.run = run;
        this.consistency = run.consistency();
        this.users = run.environment().app().seedUsers();
        this.products = run.environment().app().seedProducts();
        this.doorbusters = doorbusters;
        // The storefront keeps every write's Idempotency-Key with it, in the same transaction; orders also
        // carry theirs, so an order is found as a row of its own.
        WriteLookup byIdempotencyKey = WriteLookup.sql("SELECT key FROM idempotency_keys WHERE key = ANY(?)");
        this.profileUpdate = consistency.kind("profile update", byIdempotencyKey);
        this.cart = consistency.kind("cart", byIdempotencyKey);
        this.cartLine = consistency.kind("cart line", byIdempotencyKey);
        this.order = consistency.kind("order",
                WriteLookup.sql("SELECT idempotency_key FROM orders WHERE idempotency_key = ANY(?)"));
        run.trackStock(this::stock, doorbusters, this::setDoorbusterStock);
    }

    /** HTTP to the application: JSON, no warm-up call, each shopper identified by {@code X-Client-Id}. */
    public HttpProtocolBuilder protocol() {
        return http.baseUrl(run.appUrl().toString())
                .disableWarmUp()
                .acceptHeader("application/json")
                .contentTypeHeader("application/json")
                .header(StorefrontHeaders.CLIENT_ID, session -> "shopper-" + consistency.log().sessionOf(session.userId()));
    }

    /** A distinct shop user for each arriving shopper, a product for each of their journeys. */
    public Iterator<Map<String, Object>> shoppers() {
        return Stream.generate(() -> {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            return Map.<String, Object>of(
                    "userId", FIRST_SHOPPER + shopperNumber() % Math.max(1, users - FIRST_SHOPPER + 1),
                    "productId", doorbusters.pick(random, products),
                    "browsedProductId", 1 + random.nextInt(products),
                    "otherProductId", 1 + random.nextInt(products),
                    "category", CATEGORIES.get(random.nextInt(CATEGORIES.size())),
                    "quantity", 1 + random.nextInt(2));
        }).iterator();
    }

    /**
     * The next shopper's number: 0, 1, 2, ... in a solo run; in a sharded run every shard takes its own residue
     * (shard i of n: i, i + n, i + 2n, ...), so no two shards' shoppers share a shop user's account.
     */
    private long shopperNumber() {
        Sharding sharding = run.sharding();
        return sharding.isInjector() ? sharding.index() + (long) sharding.count() * nextUser.getAndIncrement()
                : nextUser.getAndIncrement();
    }

    /** Browse, cart, checkout and watch a doorbuster, each for its share of the arriving shoppers. */
    public ChainBuilder trafficMix(DoorbusterSimulation.TrafficMix mix) {
        java.util.List<io.gatling.javaapi.core.Choice.WithWeight> choices = new java.util.ArrayList<>();
        if (mix.browse() > 0) {
            choices.add(percent(mix.browse()).then(browse()));
        }
        if (mix.cart() > 0) {
            choices.add(percent(mix.cart()).then(fillCart()));
        }
        if (mix.checkout() > 0) {
            choices.add(percent(mix.checkout()).then(checkout()));
        }
        if (mix.watch() > 0) {
            choices.add(percent(mix.watch()).then(watchDoorbuster()));
        }
        if (mix.revisit() > 0) {
            choices.add(percent(mix.revisit()).then(revisitProfile()));
        }
        return exec(io.gatling.javaapi.core.CoreDsl.feed(shoppers())).exec(randomSwitch().on(choices));
    }

    /** How long a revisiting shopper keeps coming back to their profile ({@code -Drevisit.seconds}). */
    static final int REVISIT_SECONDS = Parameters.wholeNumber("revisit.seconds", 36);
    /** Seconds between two of their visits. */
    static final int REVISIT_EVERY_SECONDS = 3;

    /**
     * Look at the profile (a cache fills it), change it and read it back at once, then come back to it every
     * {@value #REVISIT_EVERY_SECONDS} s for {@code -Drevisit.seconds} (36): a cache that keeps the old profile shows it
     * on every visit until its copy expires.
     */
    public ChainBuilder revisitProfile() {
        return exec(readProfile("profile: before"))
                .exec(updateProfileAndReadItBack())
                .repeat(Math.max(1, REVISIT_SECONDS / REVISIT_EVERY_SECONDS)).on(
                        exec(pause(Duration.ofSeconds(REVISIT_EVERY_SECONDS)))
                                .exec(readProfile("profile: come back")));
    }

    /** Reloads of a doorbuster's page by a shopper waiting for the sale to open. */
    static final int WATCH_RELOADS = 5;

    /**
     * The page of one doorbuster ({@code -Ddoorbusters.share} of the picks; the rest any product), reloaded
     * {@value #WATCH_RELOADS} times with a short pause: the few hottest keys of the cache on Black Friday.
     */
    public ChainBuilder watchDoorbuster() {
        return repeat(WATCH_RELOADS).on(consistency.timed("doorbuster: product page",
                        http("doorbuster: product page").get("/products/#{productId}"))
                .exec(think()));
    }

    /** Look at a category page, then two product pages. */
    public ChainBuilder browse() {
        return consistency.timed("browse: category page", http("browse: category page").get("/products")
                        .queryParam("category", "#{category}").queryParam("limit", "20"))
                .exec(think())
                .exec(consistency.timed("browse: product page", http("browse: product page").get("/products/#{browsedProductId}")))
                .exec(think())
                .exec(consistency.timed("browse: product page", http("browse: product page").get("/products/#{otherProductId}")));
    }

    /** Create a cart, add an item, see it at once; browse a few seconds; come back to the cart. */
    public ChainBuilder fillCart() {
        return createCartWithItem()
                .exec(readCart("cart: read back"))
                .exec(browseElsewhere())
                .exec(readCart("cart: come back"));
    }

    /**
     * Update the shipping name and see it at once; fill a cart; place the order and see it at once; browse
     * a few seconds; come back to "my orders" and to the profile.
     */
    public ChainBuilder checkout() {
        return updateProfileAndReadItBack()
                .exec(think())
                .exec(createCartWithItem())
                .exec(placeOrder())
                .doIf(session -> session.contains("orderId")).then(readOrder())
                .exec(browseElsewhere())
                .doIf(session -> session.contains("orderKey")).then(readMyOrders())
                .exec(readProfile("profile: come back"));
    }

    /** Profile update then immediate read: read-your-writes at its simplest. */
    public ChainBuilder updateProfileAndReadItBack() {
        return consistency.write(profileUpdate, "profile: update", StorefrontJourneys::userKey,
                        session -> "Shopper " + session.getLong("userId") + " " + session.getString(Consistency.WRITE_ID),
                        http("profile: update").put("/users/#{userId}")
                                .header(IDEMPOTENCY_KEY, Consistency.WRITE_ID_EL)
                                .body(StringBody(session -> "{\"name\": \"Shopper " + session.getLong("userId") + " "
                                        + session.getString(Consistency.WRITE_ID) + "\"}"))
                                .check(status().is(200), io.gatling.javaapi.http.HttpDsl.header(StorefrontHeaders.CONSISTENCY_TOKEN)
                                        .optional().saveAs("token")),
                        (answer, session) -> profile(answer))
                .exitHereIfFailed()
                .exec(readProfile("profile: read back"));
    }

    private ChainBuilder readProfile(String name) {
        return consistency.read(profileUpdate, name, StorefrontJourneys::userKey,
                http(name).get("/users/#{userId}").header(StorefrontHeaders.CONSISTENCY_TOKEN, StorefrontJourneys::token)
                        .check(status().in(200, 404)),
                (answer, session) -> profile(answer));
    }

    private ChainBuilder createCartWithItem() {
        return consistency.write(cart, "cart: create", session -> cartKey(session), session -> "",
                        http("cart: create").post("/carts").header(IDEMPOTENCY_KEY, Consistency.WRITE_ID_EL)
                                .body(StringBody("{\"userId\": #{userId}}"))
                                .check(status().is(201), jsonPath("$.id").ofLong().saveAs("cartId")),
                        (answer, session) -> cartOf(answer, session.getLong("userId")))
                .exitHereIfFailed()
                .exec(session -> session.set("cartKey", "cart:" + session.getString(Consistency.WRITE_ID)))
                .exec(consistency.write(cartLine, "cart: add item", StorefrontJourneys::cartKey, session -> null,
                        http("cart: add item").post("/carts/#{cartId}/items").header(IDEMPOTENCY_KEY, Consistency.WRITE_ID_EL)
                                .body(StringBody("{\"productId\": #{productId}, \"quantity\": #{quantity}}"))
                                .check(status().is(201), io.gatling.javaapi.http.HttpDsl.header(StorefrontHeaders.CONSISTENCY_TOKEN)
                                        .optional().saveAs("token")),
                        (answer, session) -> cartOf(answer, session.getLong("userId"))))
                .exitHereIfFailed();
    }

    private ChainBuilder readCart(String name) {
        return consistency.read(cart, name, StorefrontJourneys::cartKey,
                http(name).get("/carts/#{cartId}").header(StorefrontHeaders.CONSISTENCY_TOKEN, StorefrontJourneys::token)
                        .check(status().in(200, 404)),
                (answer, session) -> cartOf(answer, session.getLong("userId")));
    }

    /** Checkout of the cart; an {@code out_of_stock} answer is an expected outcome once deals sell out. */
    private ChainBuilder placeOrder() {
        return exec(session -> session.remove("orderId").remove("orderKey").remove("orderError"))
                .exec(consistency.write(order, "checkout: place order", session -> "order:"
                                + session.getString(Consistency.WRITE_ID), session -> {
                            // Known before sending: what this order takes from stock, for the stock invariant.
                            run.consistency().log().inventory().attempted(session.getString(Consistency.WRITE_ID),
                                    Map.of(session.getLong("productId"), session.getInt("quantity")));
                            return session.getString(Consistency.WRITE_ID);
                        },
                        http("checkout: place order").post("/orders").header(IDEMPOTENCY_KEY, Consistency.WRITE_ID_EL)
                                .body(StringBody("{\"cartId\": #{cartId}}"))
                                .check(status().in(201, 409), jsonPath("$.id").ofLong().optional().saveAs("orderId"),
                                        jsonPath("$.error").optional().saveAs("orderError"),
                                        io.gatling.javaapi.http.HttpDsl.header(StorefrontHeaders.CONSISTENCY_TOKEN).optional()
                                                .saveAs("token")),
                        (answer, session) -> Observation.of(1, session.getString(Consistency.WRITE_ID))))
                .exec(session -> {
                    if ("out_of_stock".equals(session.getString("orderError"))) {
                        run.consistency().log().inventory().outOfStock();
                    }
                    return session.contains("orderId")
                            ? session.set("orderKey", session.getString(Consistency.WRITE_ID)) : session;
                });
    }

    private ChainBuilder readOrder() {
        return consistency.read(order, "checkout: read order", StorefrontJourneys::orderKey,
                http("checkout: read order").get("/orders/#{orderId}")
                        .header(StorefrontHeaders.CONSISTENCY_TOKEN, StorefrontJourneys::token).check(status().in(200, 404)),
                (answer, session) -> orderOf(answer, session.getString("orderKey")));
    }

    /** "My orders", newest first: the order just placed must be in it. */
    private ChainBuilder readMyOrders() {
        return consistency.read(order, "orders: come back", StorefrontJourneys::orderKey,
                http("orders: come back").get("/users/#{userId}/orders").queryParam("limit", "20")
                        .header(StorefrontHeaders.CONSISTENCY_TOKEN, StorefrontJourneys::token).check(status().in(200, 404)),
                (answer, session) -> myOrdersOf(answer, session.getString("orderKey")));
    }

    /** A few seconds elsewhere in the shop before coming back: a category page and a product page. */
    private ChainBuilder browseElsewhere() {
        return exec(pause(Duration.ofMillis(1000), Duration.ofMillis(2500)))
                .exec(consistency.timed("browse: category page", http("browse: category page").get("/products")
                        .queryParam("category", "#{category}").queryParam("limit", "20")))
                .exec(pause(Duration.ofMillis(1000), Duration.ofMillis(2500)));
    }

    private static ChainBuilder think() {
        return exec(pause(Duration.ofMillis(100), Duration.ofMillis(500)));
    }

    // ---- keys and what answers show ---------------------------------------------------------------------

    private static String userKey(Session session) {
        return "user:" + session.getLong("userId");
    }

    /** A cart is known by the key of the write that created it: its server id may be handed out again. */
    private static String cartKey(Session session) {
        return session.contains("cartKey") ? session.getString("cartKey") : "cart:" + session.getString(Consistency.WRITE_ID);
    }

    private static String orderKey(Session session) {
        return "order:" + session.getString("orderKey");
    }

    private static String token(Session session) {
        String token = session.getString("token");
        return token == null ? NO_TOKEN : token;
    }

    /** A profile: its version and name (each update writes a name holding its write's identity). */
    static Observation profile(Consistency.Answer answer) {
        JsonNode user = json(answer);
        if (user == null) {
            return notFound(answer) ? Observation.absent() : null;
        }
        if (!user.has("version") || !user.has("name")) {
            return null;
        }
        return Observation.of(user.path("version").asLong(), user.path("name").asText());
    }

    /**
     * A cart: version = units in it, state = its lines ({@code p7x2,p9x1}). A cart of another user is not
     * this shopper's cart: its id was handed out again after a failover, so theirs is absent.
     */
    static Observation cartOf(Consistency.Answer answer, long userId) {
        JsonNode cart = json(answer);
        if (cart == null) {
            return notFound(answer) ? Observation.absent() : null;
        }
        if (!cart.has("id") || !cart.path("items").isArray()) {
            return null;
        }
        if (cart.path("userId").asLong() != userId) {
            return Observation.absent();
        }
        Map<Long, Long> lines = new TreeMap<>();
        for (JsonNode item : cart.path("items")) {
            lines.merge(item.path("productId").asLong(), item.path("quantity").asLong(), Long::sum);
        }
        long units = lines.values().stream().mapToLong(Long::longValue).sum();
        return Observation.of(units, lines.entrySet().stream().map(e -> "p" + e.getKey() + "x" + e.getValue())
                .collect(Collectors.joining(",")));
    }

    /** An order page: present if it is the order with this shopper's idempotency key. */
    static Observation orderOf(Consistency.Answer answer, String key) {
        JsonNode found = json(answer);
        if (found == null) {
            return notFound(answer) ? Observation.absent() : null;
        }
        if (!found.has("id")) {
            return null;
        }
        return key.equals(found.path("idempotencyKey").asText(null)) ? Observation.of(1, key) : Observation.absent();
    }

    /** "My orders": present if the list holds the order with this shopper's idempotency key. */
    static Observation myOrdersOf(Consistency.Answer answer, String key) {
        JsonNode list = json(answer);
        if (list == null || !list.path("orders").isArray()) {
            return null;
        }
        for (JsonNode o : list.path("orders")) {
            if (key.equals(o.path("idempotencyKey").asText(null))) {
                return Observation.of(1, key);
            }
        }
        return Observation.absent();
    }

    /**
     * The answer's JSON object if it is a success (200, or 201 for a write), else null. An error answer is
     * never a read of the key.
     */
    private static JsonNode json(Consistency.Answer answer) {
        if (answer.status() != 200 && answer.status() != 201) {
            return null;
        }
        try {
            JsonNode node = JSON.readTree(answer.body());
            return node != null && node.isObject() && !node.has("error") ? node : null;
        } catch (java.io.IOException e) {
            return null;
        }
    }

    /** A 404 that says the thing does not exist (not a 404 from a proxy or a wrong path). */
    private static boolean notFound(Consistency.Answer answer) {
        if (answer.status() != 404) {
            return false;
        }
        try {
            return "not_found".equals(JSON.readTree(answer.body()).path("error").asText());
        } catch (java.io.IOException | RuntimeException e) {
            return false;
        }
    }

    // ---- stock --------------------------------------------------------------------------------------------

    /** Every product's stock, read on the current primary (direct, not through the chaos proxy). */
    private Map<Long, Long> stock() throws SQLException {
        Map<Long, Long> stock = new TreeMap<>();
        try (Connection c = connect(); PreparedStatement s = c.prepareStatement("SELECT id, stock FROM products");
             ResultSet rows = s.executeQuery()) {
            while (rows.next()) {
                stock.put(rows.getLong(1), rows.getLong(2));
            }
        }
        return stock;
    }

    /** Local environments only: the deals start with little stock, so the spike sells them out. */
    private void setDoorbusterStock() throws SQLException {
        if (doorbusters.count() == 0) {
            return;
        }
        try (Connection c = connect();
             PreparedStatement s = c.prepareStatement("UPDATE products SET stock = ? WHERE id = ANY (?)")) {
            s.setInt(1, doorbusters.stockEach());
            s.setArray(2, c.createArrayOf("bigint", doorbusters.productIds().toArray()));
            s.executeUpdate();
        }
    }

    private Connection connect() throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", run.topology().dbUser());
        props.setProperty("password", run.topology().dbPassword() == null ? "" : run.topology().dbPassword());
        props.setProperty("connectTimeout", "5");
        props.setProperty("socketTimeout", "60");
        return DriverManager.getConnection(run.topology().writerJdbcUrl(), props);
    }
}
