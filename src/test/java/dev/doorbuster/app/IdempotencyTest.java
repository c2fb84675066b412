package dev.doorbuster.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * {@code Idempotency-Key} on every write, over real HTTP against a real primary: a retry gets the first
 * answer back byte for byte without the write happening twice, a key cannot be reused for another request,
 * errors are not remembered, and racing duplicates produce one write. Each test uses its own users,
 * products and keys, so order does not matter.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class IdempotencyTest {
    private static final String KEY = StorefrontHeaders.IDEMPOTENCY_KEY;
    private static final String REPLAYED = StorefrontHeaders.IDEMPOTENT_REPLAYED;

    private StorefrontFixture fixture;
    private Http http;

    @BeforeAll
    void start() {
        fixture = StorefrontFixture.start();
        // Generous pool wait: the race below is about duplicates, not overload.
        Storefront app = fixture.app(b -> b.routing(StorefrontConfig.Routing.PRIMARY).writerPoolSize(10)
                .httpThreads(32).poolTimeoutMs(8000).requestTimeoutMs(15000));
        http = new Http(app.url());
    }

    @AfterAll
    void stop() {
        if (fixture != null) {
            fixture.close();
        }
    }

    // ---- replays -----------------------------------------------------------------------------------------

    @Test
    void anOrderSentTwiceWithOneKeyIsPlacedOnce() {
        int before = stock(61);
        String body = "{\"userId\": 401, \"items\": [{\"productId\": 61, \"quantity\": 2}]}";
        Http.Response first = http.post("/orders", body, KEY, "order-401-a");
        Http.Response second = http.post("/orders", body, KEY, "order-401-a");

        assertEquals(201, first.status(), first.body());
        assertEquals(201, second.status(), second.body());
        assertEquals(first.body(), second.body(), "the replay is the first answer, byte for byte");
        assertNull(first.header(REPLAYED), "the first answer is not a replay");
        assertEquals("true", second.header(REPLAYED));
        for (Http.Response r : List.of(first, second)) {
            assertEquals("primary", r.header(StorefrontHeaders.SERVED_BY));
            assertTrue(r.header(StorefrontHeaders.CONSISTENCY_TOKEN).matches("[0-9A-F]+/[0-9A-F]+"), r.header(StorefrontHeaders.CONSISTENCY_TOKEN));
            assertEquals("application/json", r.header("Content-Type"));
        }
        assertEquals("order-401-a", first.json().get("idempotencyKey").asText());
        assertEquals(1L, count("SELECT count(*) FROM orders WHERE user_id = 401"));
        assertEquals(before - 2, stock(61), "stock taken once");
        // The harness's audit queries, as it runs them.
        assertEquals(1L, count("SELECT count(*) FROM orders WHERE idempotency_key = ANY(?)",
                (Object) new String[] {"order-401-a", "never-used"}));
        assertEquals(1L, count("SELECT count(*) FROM idempotency_keys WHERE key = ANY(?)",
                (Object) new String[] {"order-401-a", "never-used"}));
        assertEquals(201, fixture.value(fixture.primary(), Integer.class,
                "SELECT status FROM idempotency_keys WHERE key = 'order-401-a'"));
    }

    @Test
    void aCartCheckoutRetriedWithItsKeyIsReplayedNotRefused() {
        long cart = http.post("/carts", "{\"userId\": 402}").json().get("id").asLong();
        http.post("/carts/" + cart + "/items", "{\"productId\": 62, \"quantity\": 1}");
        String body = "{\"cartId\": " + cart + "}";
        Http.Response first = http.post("/orders", body, KEY, "checkout-402");
        Http.Response retry = http.post("/orders", body, KEY, "checkout-402");
        assertEquals(201, first.status(), first.body());
        assertEquals(201, retry.status(), "without the key this would be 409 already checked out: " + retry.body());
        assertEquals(first.body(), retry.body());
        assertEquals(409, http.post("/orders", body).status(), "a keyless retry is a new request");
    }

    @Test
    void aCartCreatedTwiceWithOneKeyExistsOnce() {
        Http.Response first = http.post("/carts", "{\"userId\": 403}", KEY, "cart-403");
        Http.Response second = http.post("/carts", "{\"userId\": 403}", KEY, "cart-403");
        assertEquals(201, first.status(), first.body());
        assertEquals(201, second.status(), second.body());
        assertEquals(first.body(), second.body());
        assertEquals("true", second.header(REPLAYED));
        assertEquals(1L, count("SELECT count(*) FROM carts WHERE user_id = 403"));
    }

    @Test
    void anItemAddedTwiceWithOneKeyIsNotDoubled() {
        long cart = http.post("/carts", "{\"userId\": 404}").json().get("id").asLong();
        String body = "{\"productId\": 63, \"quantity\": 2}";
        Http.Response first = http.post("/carts/" + cart + "/items", body, KEY, "item-404");
        Http.Response second = http.post("/carts/" + cart + "/items", body, KEY, "item-404");
        assertEquals(201, first.status(), first.body());
        assertEquals(201, second.status(), second.body());
        assertEquals(first.body(), second.body());
        assertEquals("true", second.header(REPLAYED));
        assertEquals(2, http.get("/carts/" + cart).json().get("items").get(0).get("quantity").asInt(), "not 4");

        // Another key is another request: that one adds up, as always.
        assertEquals(201, http.post("/carts/" + cart + "/items", body, KEY, "item-404-b").status());
        assertEquals(4, http.get("/carts/" + cart).json().get("items").get(0).get("quantity").asInt());
    }

    @Test
    void aProfileUpdatedTwiceWithOneKeyBumpsTheVersionOnce() {
        int version = http.get("/users/405").json().get("version").asInt();
        String body = "{\"name\": \"Four Hundred Five\"}";
        Http.Response first = http.put("/users/405", body, KEY, "user-405");
        Http.Response second = http.put("/users/405", body, KEY, "user-405");
        assertEquals(200, first.status(), first.body());
        assertEquals(200, second.status(), "the stored status, not 201: " + second.body());
        assertEquals(first.body(), second.body());
        assertEquals("true", second.header(REPLAYED));
        assertEquals(version + 1, first.json().get("version").asInt());
        assertEquals(version + 1, http.get("/users/405").json().get("version").asInt(), "bumped once");
    }

    // ---- misuse ------------------------------------------------------------------------------------------

    @Test
    void aKeyReusedWithAnotherBodyIs422AndWritesNothing() {
        int before = stock(64);
        assertEquals(201, http.post("/orders", "{\"userId\": 406, \"items\": [{\"productId\": 64, \"quantity\": 1}]}",
                KEY, "reused-406").status());
        Http.Response other = http.post("/orders", "{\"userId\": 407, \"items\": [{\"productId\": 64, \"quantity\": 3}]}",
                KEY, "reused-406");
        assertEquals(422, other.status(), other.body());
        assertEquals("idempotency_key_reused", other.error());
        assertTrue(other.json().get("message").asText().contains(StorefrontHeaders.IDEMPOTENCY_KEY), other.body());
        assertNull(other.header(REPLAYED));
        assertEquals(0L, count("SELECT count(*) FROM orders WHERE user_id = 407"), "nothing written");
        assertEquals(before - 1, stock(64));
    }

    @Test
    void aKeyReusedOnAnotherPathOrEndpointIs422() {
        long cartA = http.post("/carts", "{\"userId\": 408}").json().get("id").asLong();
        long cartB = http.post("/carts", "{\"userId\": 408}").json().get("id").asLong();
        String body = "{\"productId\": 65, \"quantity\": 1}";
        assertEquals(201, http.post("/carts/" + cartA + "/items", body, KEY, "path-408").status());

        Http.Response otherCart = http.post("/carts/" + cartB + "/items", body, KEY, "path-408");
        assertEquals(422, otherCart.status(), otherCart.body());
        assertEquals("idempotency_key_reused", otherCart.error());
        assertEquals(0, http.get("/carts/" + cartB).json().get("items").size(), "nothing added to the other cart");

        int version = http.get("/users/408").json().get("version").asInt();
        Http.Response otherEndpoint = http.put("/users/408", "{\"name\": \"Eight\"}", KEY, "path-408");
        assertEquals(422, otherEndpoint.status(), otherEndpoint.body());
        assertEquals("idempotency_key_reused", otherEndpoint.error());
        assertEquals(version, http.get("/users/408").json().get("version").asInt());
    }

    @Test
    void badKeysAre400NamingTheHeaderAndWriteNothing() {
        String body = "{\"userId\": 409}";
        for (String key : new String[] {"", "k".repeat(201), "two words"}) {
            Http.Response r = http.post("/carts", body, KEY, key);
            assertEquals(400, r.status(), "'" + key + "' → " + r.body());
            assertEquals("bad_request", r.error());
            assertTrue(r.json().get("message").asText().contains(StorefrontHeaders.IDEMPOTENCY_KEY), r.body());
        }
        // What HttpClient refuses (or mangles) when sending: control characters, Latin-1 and UTF-8 bytes.
        for (String key : new String[] {"a\u0001b", "a\u007fb", "caf\u00e9", "caf\u00c3\u00a9"}) {
            String raw = http.raw("POST /carts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + KEY + ": "
                    + key + "\r\nContent-Length: " + body.length() + "\r\nConnection: close\r\n\r\n" + body);
            assertTrue(raw.startsWith("HTTP/1.1 400"), raw);
            assertTrue(raw.contains("\"error\":\"bad_request\"") && raw.contains(StorefrontHeaders.IDEMPOTENCY_KEY), raw);
        }
        Http.Response twice = http.send("POST", "/carts", body.getBytes(StandardCharsets.UTF_8), KEY, "one", KEY, "two");
        assertEquals(400, twice.status(), twice.body());
        assertEquals(0L, count("SELECT count(*) FROM carts WHERE user_id = 409"), "no bad key wrote anything");

        assertEquals(201, http.post("/carts", body, KEY, "k".repeat(200)).status(), "200 characters are fine");
        assertEquals(201, http.post("/carts", body, KEY, "!~\"#{}").status(), "any printable ASCII");
        assertEquals(200, http.get("/users/409", KEY, "ignored on reads").status());
    }

    // ---- errors are not stored ---------------------------------------------------------------------------

    @Test
    void aFailedWriteKeepsNoKeySoItsRetryPerformsIt() {
        fixture.sql(fixture.primary(), "UPDATE products SET stock = 0 WHERE id = 66");
        String body = "{\"userId\": 413, \"items\": [{\"productId\": 66, \"quantity\": 1}]}";
        Http.Response failed = http.post("/orders", body, KEY, "retry-413");
        assertEquals(409, failed.status(), failed.body());
        assertEquals("out_of_stock", failed.error());
        assertEquals(0L, count("SELECT count(*) FROM idempotency_keys WHERE key = 'retry-413'"), "errors are not stored");

        fixture.sql(fixture.primary(), "UPDATE products SET stock = 5 WHERE id = 66");
        Http.Response retried = http.post("/orders", body, KEY, "retry-413");
        assertEquals(201, retried.status(), retried.body());
        assertNull(retried.header(REPLAYED), "performed, not replayed");
        assertEquals(4, stock(66));
        Http.Response again = http.post("/orders", body, KEY, "retry-413");
        assertEquals("true", again.header(REPLAYED));
        assertEquals(retried.body(), again.body());
        assertEquals(4, stock(66));
        assertEquals(1L, count("SELECT count(*) FROM orders WHERE user_id = 413"));
    }

    @Test
    void aNotFoundWithAKeyIsNotStoredEither() {
        Http.Response missing = http.put("/users/999999", "{\"name\": \"Nobody\"}", KEY, "missing-user");
        assertEquals(404, missing.status(), missing.body());
        assertEquals(0L, count("SELECT count(*) FROM idempotency_keys WHERE key = 'missing-user'"));
    }

    // ---- concurrency -------------------------------------------------------------------------------------

    @Test
    void twentyRacingDuplicatesPlaceOneOrder() throws Exception {
        int before = stock(67);
        String body = "{\"userId\": 411, \"items\": [{\"productId\": 67, \"quantity\": 1}]}";
        ExecutorService pool = Executors.newFixedThreadPool(20);
        List<Http.Response> answers = new ArrayList<>();
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Http.Response>> results = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                results.add(pool.submit(() -> {
                    go.await();
                    return http.post("/orders", body, KEY, "race-411");
                }));
            }
            go.countDown();
            for (Future<Http.Response> f : results) {
                answers.add(f.get(60, TimeUnit.SECONDS));
            }
        } finally {
            pool.shutdownNow();
        }
        Set<Long> ids = new HashSet<>();
        int fresh = 0;
        for (Http.Response r : answers) {
            assertEquals(201, r.status(), r.body());
            ids.add(r.json().get("id").asLong());
            fresh += r.header(REPLAYED) == null ? 1 : 0;
        }
        assertEquals(1, ids.size(), "every answer names the same order: " + ids);
        assertEquals(1, fresh, "one performed, the others replayed");
        assertEquals(1L, count("SELECT count(*) FROM orders WHERE idempotency_key = 'race-411'"));
        assertEquals(1L, count("SELECT count(*) FROM orders WHERE user_id = 411"));
        assertEquals(before - 1, stock(67));
    }

    // ---- orders carry their key --------------------------------------------------------------------------

    @Test
    void ordersShowTheirKeyOrNull() {
        long keyed = http.post("/orders", "{\"userId\": 412, \"items\": [{\"productId\": 68, \"quantity\": 1}]}",
                KEY, "shown-412").json().get("id").asLong();
        Http.Response plain = http.post("/orders", "{\"userId\": 412, \"items\": [{\"productId\": 69, \"quantity\": 1}]}");
        assertEquals(201, plain.status(), plain.body());
        assertTrue(plain.json().has("idempotencyKey") && plain.json().get("idempotencyKey").isNull(), plain.body());
        long unkeyed = plain.json().get("id").asLong();

        assertEquals("shown-412", http.get("/orders/" + keyed).json().get("idempotencyKey").asText());
        JsonNode read = http.get("/orders/" + unkeyed).json();
        assertTrue(read.has("idempotencyKey") && read.get("idempotencyKey").isNull(), read.toString());

        JsonNode orders = http.get("/users/412/orders").json().get("orders");
        assertEquals(2, orders.size());
        assertEquals(unkeyed, orders.get(0).get("id").asLong(), "newest first");
        assertTrue(orders.get(0).has("idempotencyKey") && orders.get(0).get("idempotencyKey").isNull());
        assertEquals("shown-412", orders.get(1).get("idempotencyKey").asText());
        assertNotNull(fixture.value(fixture.primary(), String.class,
                "SELECT idempotency_key FROM orders WHERE id = ?", keyed));
        assertFalse(orders.get(1).has("lines"), "summaries stay summaries");
    }

    private long count(String sql, Object... params) {
        return fixture.value(fixture.primary(), Long.class, sql, params);
    }

    private int stock(long productId) {
        return fixture.value(fixture.primary(), Integer.class, "SELECT stock FROM products WHERE id = ?", productId);
    }
}
