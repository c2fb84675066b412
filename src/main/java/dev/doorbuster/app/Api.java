package dev.doorbuster.app;

import static dev.doorbuster.app.StorefrontHeaders.CONSISTENCY_TOKEN;
import static dev.doorbuster.app.StorefrontHeaders.SERVED_BY;
import static dev.doorbuster.app.StorefrontHeaders.SERVED_BY_POOL;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Pattern;

import dev.doorbuster.app.Database.Pool;
import dev.doorbuster.app.Database.SqlWork;
import dev.doorbuster.app.Database.Written;
import dev.doorbuster.app.ReadRouter.Served;
import dev.doorbuster.app.StorefrontConfig.StockLocking;

/**
 * The storefront's HTTP API: the route table, input validation, and which operations read (through the
 * {@link ReadRouter}; products, pages of products, carts and profiles through the cache tier of {@link CachedReads})
 * and which write (on the primary, returning a consistency token; made safe to retry by {@link Idempotency}; then
 * deleting the cached copies of what they changed). Transport details (deadlines, body limits, error rendering,
 * metrics) are {@link RequestHandler}'s.
 */
final class Api {
    static final int DEFAULT_LIMIT = 20;
    static final int MAX_LIMIT = 100;
    static final int MAX_QUANTITY = 1000;
    static final int MAX_ORDER_LINES = 100;
    private static final Pattern ID = Pattern.compile("[0-9]{1,18}");

    /**
     * A parsed request; {@code route} is the matched template, {@code params} are the path's {@code {id}} values
     * in order, {@code idempotencyKey} the validated {@code Idempotency-Key} of a write (null: none).
     */
    record Request(String method, String route, List<String> params, Map<String, String> query, String clientId,
                   String token, String idempotencyKey, byte[] body) {
        String query(String name) {
            return query.get(name);
        }
    }

    /** The headers saying which server (role, and pool) answered a read. */
    static Map<String, String> servedBy(Pool pool) {
        return Map.of(SERVED_BY, pool.server(), SERVED_BY_POOL, pool.tag());
    }

    /**
     * What to answer: status, a body (serialised as JSON; a {@code String} is sent as Prometheus text, a
     * {@link RawJson} as the JSON it already is), extra headers.
     */
    record Reply(int status, Object body, Map<String, String> headers) {
        static Reply ok(Object body, Pool servedBy) {
            return new Reply(200, body, servedBy(servedBy));
        }

        static Reply written(int status, Written<?> written) {
            Map<String, String> headers = new LinkedHashMap<>();
            headers.put(SERVED_BY, Pool.WRITER.server());
            headers.put(SERVED_BY_POOL, Pool.WRITER.tag());
            if (written.token() != null) {
                headers.put(CONSISTENCY_TOKEN, written.token());
            }
            return new Reply(status, written.value(), headers);
        }

        Reply withHeader(String name, String value) {
            Map<String, String> more = new LinkedHashMap<>(headers);
            more.put(name, value);
            return new Reply(status, body, more);
        }
    }

    /** JSON rendered before the answer was built (a stored answer replayed): sent as these exact bytes. */
    record RawJson(byte[] bytes) {
    }

    @FunctionalInterface
    interface Handler {
        Reply handle(Request request);
    }

    record Route(String method, String template, String[] segments, Handler handler) {
    }

    /** The outcome of routing a path: the route (null if none), its path values, and the methods it allows. */
    record Match(String template, Route route, List<String> params, List<String> allowed) {
    }

    // Request bodies. Boxed types so a missing field is told apart from zero.
    record NewCart(Long userId) {
    }

    record NewCartItem(Long productId, Integer quantity) {
    }

    record NewOrder(Long cartId, Long userId, List<OrderItem> items) {
    }

    record OrderItem(Long productId, Integer quantity) {
    }

    record UserChanges(String name, String email) {
    }

    private final Database database;
    private final ReadRouter router;
    private final CachedReads cachedReads;
    private final StorefrontMetrics metrics;
    private final Idempotency idempotency;
    private final StockLocking stockLocking;
    private final List<Route> routes = new ArrayList<>();

    Api(Database database, ReadRouter router, CachedReads cachedReads, StorefrontMetrics metrics,
        StockLocking stockLocking) {
        this.database = database;
        this.router = router;
        this.cachedReads = cachedReads;
        this.metrics = metrics;
        this.idempotency = new Idempotency(database);
        this.stockLocking = stockLocking;
        route("GET", "/products", this::listProducts);
        route("GET", "/products/{id}", this::getProduct);
        route("POST", "/carts", this::createCart);
        route("GET", "/carts/{id}", this::getCart);
        route("POST", "/carts/{id}/items", this::addCartItem);
        route("POST", "/orders", this::placeOrder);
        route("GET", "/orders/{id}", this::getOrder);
        route("GET", "/users/{id}", this::getUser);
        route("PUT", "/users/{id}", this::updateUser);
        route("GET", "/users/{id}/orders", this::userOrders);
        route("GET", "/health", this::health);
        route("GET", "/metrics", this::metrics);
    }

    private void route(String method, String template, Handler handler) {
        routes.add(new Route(method, template, template.substring(1).split("/"), handler));
    }

    /** Finds the route for {@code method path}; {@code template} is "unmatched" when no path matches. */
    Match match(String method, String path) {
        String[] segments = path.length() > 1 ? path.substring(1).split("/", -1) : new String[] {""};
        String template = "unmatched";
        List<String> allowed = new ArrayList<>();
        for (Route route : routes) {
            List<String> params = params(route.segments(), segments);
            if (params == null) {
                continue;
            }
            template = route.template();
            allowed.add(route.method());
            if (route.method().equals(method)) {
                return new Match(template, route, params, allowed);
            }
        }
        return new Match(template, null, List.of(), allowed);
    }

    private static List<String> params(String[] pattern, String[] segments) {
        if (pattern.length != segments.length) {
            return null;
        }
        List<String> params = new ArrayList<>(1);
        for (int i = 0; i < pattern.length; i++) {
            if (pattern[i].startsWith("{")) {
                if (segments[i].isEmpty()) {
                    return null;
                }
                params.add(segments[i]);
            } else if (!pattern[i].equals(segments[i])) {
                return null;
            }
        }
        return params;
    }

    // ---- products --------------------------------------------------------------------------------------------

    private Reply listProducts(Request r) {
        String category = r.query("category");
        if (category != null && category.isEmpty()) {
            category = null;
        }
        if (category != null && category.length() > 64) {
            throw ApiError.badRequest("category must be at most 64 characters.");
        }
        long after = r.query("after") == null || r.query("after").isEmpty() ? 0 : id(r.query("after"), "after");
        int limit = limit(r);
        String c = category;
        return cachedReads.read(CacheMeters.Kind.CATEGORY, CacheKeys.listing(category, after, limit), r,
                conn -> ProductCatalog.page(conn, c, after, limit));
    }

    private Reply getProduct(Request r) {
        long id = id(r.params().get(0), "product id");
        return cachedReads.read(CacheMeters.Kind.PRODUCT, CacheKeys.product(id), r, c -> ProductCatalog.find(c, id));
    }

    // ---- carts -----------------------------------------------------------------------------------------------

    private Reply createCart(Request r) {
        NewCart body = Json.read(r.body(), NewCart.class);
        long userId = positive(body.userId(), "userId");
        // A new cart has no cached copy, unless a promoted replica handed out its id again after a failover.
        return write(r, 201, c -> CartService.create(c, userId), cart -> List.of(CacheKeys.cart(cart.id())));
    }

    private Reply getCart(Request r) {
        long id = id(r.params().get(0), "cart id");
        return cachedReads.read(CacheMeters.Kind.CART, CacheKeys.cart(id), r, c -> CartService.find(c, id));
    }

    private Reply addCartItem(Request r) {
        long cartId = id(r.params().get(0), "cart id");
        NewCartItem body = Json.read(r.body(), NewCartItem.class);
        long productId = positive(body.productId(), "productId");
        int quantity = quantity(body.quantity(), "quantity");
        return write(r, 201, c -> CartService.addItem(c, cartId, productId, quantity),
                cart -> List.of(CacheKeys.cart(cartId)));
    }

    // ---- orders ----------------------------------------------------------------------------------------------

    private Reply placeOrder(Request r) {
        NewOrder body = Json.read(r.body(), NewOrder.class);
        if (body.cartId() != null) {
            if (body.userId() != null || body.items() != null) {
                throw ApiError.badRequest("Give either cartId (check out a cart) or userId and items (direct order), "
                        + "not both.");
            }
            long cartId = positive(body.cartId(), "cartId");
            return write(r, 201, c -> CheckoutService.placeFromCart(c, stockLocking, cartId, r.idempotencyKey()),
                    Api::changedByOrder);
        }
        long userId = positive(body.userId(), "userId");
        if (body.items() == null || body.items().isEmpty()) {
            throw ApiError.badRequest("items must list at least one {productId, quantity}.");
        }
        if (body.items().size() > MAX_ORDER_LINES) {
            throw ApiError.badRequest("An order has at most " + MAX_ORDER_LINES + " items.");
        }
        SortedMap<Long, Integer> quantities = new TreeMap<>();
        for (int i = 0; i < body.items().size(); i++) {
            OrderItem item = body.items().get(i);
            if (item == null) {
                throw ApiError.badRequest("items[" + i + "] must be an object {productId, quantity}.");
            }
            long productId = positive(item.productId(), "items[" + i + "].productId");
            int quantity = quantity(item.quantity(), "items[" + i + "].quantity");
            quantities.merge(productId, quantity, Integer::sum);
        }
        return write(r, 201, c -> CheckoutService.placeDirect(c, stockLocking, userId, quantities,
                r.idempotencyKey()), Api::changedByOrder);
    }

    /** The cached copies an order makes stale: each product bought (its stock), and the cart it checked out. */
    private static List<String> changedByOrder(CheckoutService.Order order) {
        List<String> keys = new ArrayList<>();
        for (CheckoutService.Line line : order.lines()) {
            keys.add(CacheKeys.product(line.productId()));
        }
        if (order.cartId() != null) {
            keys.add(CacheKeys.cart(order.cartId()));
        }
        return keys;
    }

    private Reply getOrder(Request r) {
        long id = id(r.params().get(0), "order id");
        Served<CheckoutService.Order> order = router.read(r.clientId(), r.token(), c -> CheckoutService.find(c, id));
        return Reply.ok(order.value(), order.servedBy());
    }

    private Reply userOrders(Request r) {
        long userId = id(r.params().get(0), "user id");
        int limit = limit(r);
        Served<List<CheckoutService.OrderSummary>> orders = router.read(r.clientId(), r.token(),
                c -> CheckoutService.ofUser(c, userId, limit));
        return Reply.ok(Map.of("orders", orders.value()), orders.servedBy());
    }

    // ---- users -----------------------------------------------------------------------------------------------

    private Reply getUser(Request r) {
        long id = id(r.params().get(0), "user id");
        return cachedReads.read(CacheMeters.Kind.PROFILE, CacheKeys.user(id), r, c -> UserService.find(c, id));
    }

    private Reply updateUser(Request r) {
        long id = id(r.params().get(0), "user id");
        UserChanges body = Json.read(r.body(), UserChanges.class);
        if (body.name() == null && body.email() == null) {
            throw ApiError.badRequest("Give name and/or email to change.");
        }
        if (body.name() != null && (body.name().isBlank() || body.name().length() > 200 || hasControl(body.name()))) {
            throw ApiError.badRequest("name must be 1-200 printable characters.");
        }
        if (body.email() != null && !isEmail(body.email())) {
            throw ApiError.badRequest("email must look like name@domain (at most 254 characters).");
        }
        return write(r, 200, c -> UserService.update(c, id, body.name(), body.email()),
                user -> List.of(CacheKeys.user(id)));
    }

    // ---- operations ------------------------------------------------------------------------------------------

    /**
     * With several reader pools, {@code reader} sums them up: {@code down} if any is down, else
     * {@code saturated} if any is saturated, else {@code up}; {@code readers} then gives each one.
     */
    private Reply health(Request r) {
        String writer = database.probe(Pool.WRITER);
        Map<String, String> readers = new LinkedHashMap<>();
        for (Pool pool : database.readers()) {
            readers.put(pool.tag(), database.probe(pool));
        }
        String reader = readers.containsValue("down") ? "down" : readers.containsValue("saturated") ? "saturated" : "up";
        boolean down = writer.equals("down") || reader.equals("down");
        String status = down ? "down" : writer.equals("up") && reader.equals("up") ? "ok" : "degraded";
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", status);
        body.put("writer", writer);
        body.put("reader", reader);
        if (readers.size() > 1) {
            body.put("readers", readers);
        }
        return new Reply(down ? 503 : 200, body, down ? Map.of("Retry-After", "1") : Map.of());
    }

    /**
     * All meters, or only those named by {@code name[]} parameters (the Prometheus exporters' convention):
     * a scraper polling every second asks for the few it needs, and the JVM meters are not read for it.
     */
    private Reply metrics(Request r) {
        String names = r.query("name[]");
        if (names == null || names.isBlank()) {
            return new Reply(200, metrics.scrape(), Map.of());
        }
        java.util.Set<String> wanted = new java.util.HashSet<>();
        for (String name : names.split(",")) {
            wanted.add(name);
            if (name.endsWith("_total")) {
                wanted.add(name.substring(0, name.length() - "_total".length())); // counters go by their base name
            }
        }
        return new Reply(200, metrics.scrape(wanted), Map.of());
    }

    // ---- helpers ---------------------------------------------------------------------------------------------

    /**
     * Every write goes through here: one transaction on the primary, keyed by the request's Idempotency-Key; then the
     * cache keys {@code changed} names for its result are deleted. They are taken from the attempt that ran last (a
     * retried transaction runs its work again) and deleted after the transaction: committed, failed with an unknown
     * outcome (it may have committed), or rolled back after its work ran (a needless delete costs one miss). A write
     * whose work failed (404, 409...) deletes nothing, nor does a replayed answer, which ran no work.
     */
    private <T> Reply write(Request r, int status, SqlWork<T> work, Function<T, List<String>> changed) {
        List<List<String>> stale = new ArrayList<>(1);
        SqlWork<T> noted = c -> {
            T value = work.run(c);
            stale.clear();
            stale.add(changed.apply(value));
            return value;
        };
        try {
            Reply reply = idempotency.write(r, status, noted);
            router.wrote(r.clientId());
            return reply;
        } finally {
            if (!stale.isEmpty()) {
                cachedReads.invalidate(stale.get(0));
            }
        }
    }

    /** A path or query id: digits only (no sign, no spaces), at most 18 of them so it fits a bigint. */
    static long id(String raw, String what) {
        if (raw == null || !ID.matcher(raw).matches()) {
            throw ApiError.badRequest(what + " must be a non-negative integer, got '" + shorten(raw) + "'.");
        }
        return Long.parseLong(raw);
    }

    private static long positive(Long value, String field) {
        if (value == null) {
            throw ApiError.badRequest(field + " is required.");
        }
        if (value < 1) {
            throw ApiError.badRequest(field + " must be a positive integer.");
        }
        return value;
    }

    private static int quantity(Integer value, String field) {
        if (value == null) {
            throw ApiError.badRequest(field + " is required.");
        }
        if (value < 1 || value > MAX_QUANTITY) {
            throw ApiError.badRequest(field + " must be between 1 and " + MAX_QUANTITY + ", got " + value + ".");
        }
        return value;
    }

    /** {@code ?limit=}: default 20, capped at 100; zero, negative or not a number is a 400. */
    private static int limit(Request r) {
        String raw = r.query("limit");
        if (raw == null || raw.isEmpty()) {
            return DEFAULT_LIMIT;
        }
        if (!ID.matcher(raw).matches() || Long.parseLong(raw) < 1) {
            throw ApiError.badRequest("limit must be a positive integer, got '" + shorten(raw) + "'.");
        }
        return (int) Math.min(Long.parseLong(raw), MAX_LIMIT);
    }

    private static boolean isEmail(String s) {
        int at = s.indexOf('@');
        return s.length() <= 254 && at > 0 && at == s.lastIndexOf('@') && at < s.length() - 1
                && s.chars().noneMatch(ch -> Character.isWhitespace(ch) || Character.isISOControl(ch));
    }

    private static boolean hasControl(String s) {
        return s.chars().anyMatch(Character::isISOControl);
    }

    static String shorten(String s) {
        if (s == null) {
            return "";
        }
        String printable = s.replaceAll("\\p{Cntrl}", "?");
        return printable.length() <= 40 ? printable : printable.substring(0, 40) + "...";
    }

    /** Decodes {@code a=1&b=x%20y} strictly (see {@link RequestTarget#parseQuery}). */
    static Map<String, String> parseQuery(String raw) {
        return RequestTarget.parseQuery(raw);
    }

    /** Distinct methods allowed on a path, for the {@code Allow} header of a 405. */
    static String allowHeader(List<String> allowed) {
        return String.join(", ", new TreeSet<>(allowed));
    }
}
