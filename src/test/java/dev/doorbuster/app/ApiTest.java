package dev.doorbuster.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Every endpoint's happy path and its bad inputs, over real HTTP against a real primary + replica. Reads
 * go to the primary here (routing is {@code ReadRoutingTest}'s subject), so each read sees the write
 * before it. Each test uses its own products and users, so order does not matter.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ApiTest {
    private StorefrontFixture fixture;
    private Storefront app;
    private Http http;

    @BeforeAll
    void start() {
        fixture = StorefrontFixture.start();
        app = fixture.app(b -> b.routing(StorefrontConfig.Routing.PRIMARY));
        http = new Http(app.url());
    }

    @AfterAll
    void stop() {
        if (fixture != null) {
            fixture.close();
        }
    }

    // ---- products ----------------------------------------------------------------------------------------

    @Test
    void productByIdIsTheDeterministicSeedRow() {
        Http.Response r = http.get("/products/1");
        assertEquals(200, r.status(), r.body());
        JsonNode p = r.json();
        assertEquals(1, p.get("id").asLong());
        assertEquals("SKU-00000001", p.get("sku").asText());
        assertEquals("books", p.get("category").asText());
        assertEquals(new BigDecimal("81.18"), p.get("price").decimalValue());
        assertTrue(p.get("price").isNumber(), "price is a JSON number");
        assertEquals(372, p.get("stock").asInt());
        assertEquals("application/json", r.header("Content-Type"));
        assertEquals("primary", r.header(StorefrontHeaders.SERVED_BY));
    }

    @Test
    void aReadsNotFoundSaysWhichServerGaveIt() {
        // A 404 of a read is a read: a client judging a stale "not found" needs to know who said it.
        Http.Response r = http.get("/users/999999999");
        assertEquals(404, r.status(), r.body());
        assertEquals("not_found", r.json().get("error").asText());
        assertTrue(java.util.List.of("primary", "replica").contains(r.header(StorefrontHeaders.SERVED_BY)), r.header(StorefrontHeaders.SERVED_BY));
        assertTrue(r.header(StorefrontHeaders.SERVED_BY_POOL) != null && !r.header(StorefrontHeaders.SERVED_BY_POOL).isEmpty());
        Http.Response write = http.put("/users/999999999", "{\"name\": \"Nobody\"}");
        assertEquals(404, write.status(), write.body());
        assertEquals(null, write.header(StorefrontHeaders.SERVED_BY), "a write's 404 is not a read");
    }

    @Test
    void productBadIdsAre400AndUnknownIs404() {
        for (String id : new String[] {"abc", "-1", "1.5", "1e3", "99999999999999999999", "%20", "1%2F2"}) {
            Http.Response r = http.get("/products/" + id);
            assertEquals(400, r.status(), id + " → " + r.body());
            assertEquals("bad_request", r.error());
            assertNotNull(r.json().get("message"));
        }
        Http.Response missing = http.get("/products/" + (StorefrontFixture.PRODUCTS + 1000));
        assertEquals(404, missing.status());
        assertEquals("not_found", missing.error());
    }

    @Test
    void productPagesFollowTheCursorWithoutGapsOrDuplicates() {
        Set<Long> seen = new HashSet<>();
        String after = "";
        int pages = 0;
        long previous = 0;
        while (true) {
            Http.Response r = http.get("/products?category=toys&limit=17" + (after.isEmpty() ? "" : "&after=" + after));
            assertEquals(200, r.status(), r.body());
            for (JsonNode p : r.json().get("products")) {
                assertEquals("toys", p.get("category").asText());
                assertTrue(p.get("id").asLong() > previous, "ascending ids");
                previous = p.get("id").asLong();
                assertTrue(seen.add(previous), "no duplicates");
            }
            pages++;
            JsonNode next = r.json().get("next");
            if (next.isNull()) {
                break;
            }
            after = next.asText();
        }
        long toys = fixture.value(fixture.primary(), Long.class, "SELECT count(*) FROM products WHERE category = 'toys'");
        assertEquals(toys, seen.size(), "every toy exactly once");
        assertEquals((toys + 16) / 17, pages, "no empty trailing page");
    }

    @Test
    void productListLimitIsCappedAndDefaulted() {
        assertEquals(100, http.get("/products?limit=100000").json().get("products").size());
        assertEquals(20, http.get("/products").json().get("products").size());
        JsonNode page = http.get("/products?after=" + (StorefrontFixture.PRODUCTS - 2)).json();
        assertEquals(2, page.get("products").size());
        assertTrue(page.get("next").isNull());
        assertEquals(0, http.get("/products?category=no-such-category").json().get("products").size());
    }

    @Test
    void productListBadParametersAre400() {
        for (String q : new String[] {"limit=0", "limit=-5", "limit=ten", "after=x", "after=-1", "limit=1.5",
                "category=" + "c".repeat(65)}) {
            Http.Response r = http.get("/products?" + q);
            assertEquals(400, r.status(), q + " → " + r.body());
            assertEquals("bad_request", r.error());
        }
    }

    // ---- carts -------------------------------------------------------------------------------------------

    @Test
    void cartIsCreatedFilledAndReadBack() {
        Http.Response created = http.post("/carts", "{\"userId\": 11}");
        assertEquals(201, created.status(), created.body());
        assertNotNull(created.header(StorefrontHeaders.CONSISTENCY_TOKEN), "writes carry a consistency token");
        assertTrue(created.header(StorefrontHeaders.CONSISTENCY_TOKEN).matches("[0-9A-F]+/[0-9A-F]+"), created.header(StorefrontHeaders.CONSISTENCY_TOKEN));
        long cart = created.json().get("id").asLong();
        assertEquals(11, created.json().get("userId").asLong());
        assertEquals(0, created.json().get("items").size());

        Http.Response added = http.post("/carts/" + cart + "/items", "{\"productId\": 21, \"quantity\": 2}");
        assertEquals(201, added.status(), added.body());
        assertNotNull(added.header(StorefrontHeaders.CONSISTENCY_TOKEN));
        http.post("/carts/" + cart + "/items", "{\"productId\": 21, \"quantity\": 3}");
        http.post("/carts/" + cart + "/items", "{\"productId\": 22, \"quantity\": 1}");

        Http.Response read = http.get("/carts/" + cart);
        assertEquals(200, read.status());
        JsonNode items = read.json().get("items");
        assertEquals(2, items.size(), read.body());
        assertEquals(21, items.get(0).get("productId").asLong());
        assertEquals(5, items.get(0).get("quantity").asInt(), "same product adds up");
        assertEquals("open", read.json().get("status").asText());
    }

    @Test
    void cartBadInputs() {
        assertBad(http.post("/carts", "{\"userId\": \"11\"}"), 400); // string for a number
        assertBad(http.post("/carts", "{\"userId\": 1.5}"), 400);
        assertBad(http.post("/carts", "{\"userId\": -3}"), 400);
        assertBad(http.post("/carts", "{\"userId\": 0}"), 400);
        assertBad(http.post("/carts", "{}"), 400);
        assertBad(http.post("/carts", "{\"userId\": null}"), 400);
        assertBad(http.post("/carts", "{\"userId\": 11, \"admin\": true}"), 400); // unknown field
        assertBad(http.post("/carts", "{\"userId\": 11"), 400); // truncated
        assertBad(http.post("/carts", "{\"userId\": 11} trailing"), 400);
        assertBad(http.post("/carts", "[11]"), 400);
        assertBad(http.post("/carts", "null"), 400);
        assertBad(http.post("/carts", ""), 400);
        assertBad(http.post("/carts", "{\"userId\": 99999999999999999999999}"), 400);
        assertBad(http.post("/carts", "{\"userId\": 999999}"), 404); // unknown user

        long cart = http.post("/carts", "{\"userId\": 12}").json().get("id").asLong();
        assertBad(http.post("/carts/" + cart + "/items", "{\"productId\": 23, \"quantity\": -1}"), 400);
        assertBad(http.post("/carts/" + cart + "/items", "{\"productId\": 23, \"quantity\": 0}"), 400);
        assertBad(http.post("/carts/" + cart + "/items", "{\"productId\": 23, \"quantity\": 1001}"), 400);
        assertBad(http.post("/carts/" + cart + "/items", "{\"productId\": 23}"), 400);
        assertBad(http.post("/carts/" + cart + "/items", "{\"productId\": \"x\", \"quantity\": 1}"), 400);
        assertBad(http.post("/carts/" + cart + "/items", "{\"productId\": 99999, \"quantity\": 1}"), 404);
        assertBad(http.post("/carts/987654/items", "{\"productId\": 23, \"quantity\": 1}"), 404);
        assertBad(http.post("/carts/abc/items", "{\"productId\": 23, \"quantity\": 1}"), 400);
        assertBad(http.get("/carts/987654"), 404);
        assertBad(http.get("/carts/x"), 400);
        assertEquals(0, http.get("/carts/" + cart).json().get("items").size(), "bad requests changed nothing");
    }

    @Test
    void cartQuantityCannotGrowPastTheLimit() {
        long cart = http.post("/carts", "{\"userId\": 13}").json().get("id").asLong();
        for (int i = 0; i < 10; i++) {
            assertEquals(201, http.post("/carts/" + cart + "/items", "{\"productId\": 24, \"quantity\": 1000}").status());
        }
        assertBad(http.post("/carts/" + cart + "/items", "{\"productId\": 24, \"quantity\": 1}"), 409);
        assertEquals(10000, http.get("/carts/" + cart).json().get("items").get(0).get("quantity").asInt());
    }

    // ---- orders ------------------------------------------------------------------------------------------

    @Test
    void checkoutOfACartDecrementsStockAndClosesTheCart() {
        long cart = http.post("/carts", "{\"userId\": 14}").json().get("id").asLong();
        http.post("/carts/" + cart + "/items", "{\"productId\": 31, \"quantity\": 2}");
        http.post("/carts/" + cart + "/items", "{\"productId\": 30, \"quantity\": 1}");
        int stock31 = stock(31);
        int stock30 = stock(30);

        Http.Response placed = http.post("/orders", "{\"cartId\": " + cart + "}");
        assertEquals(201, placed.status(), placed.body());
        assertNotNull(placed.header(StorefrontHeaders.CONSISTENCY_TOKEN));
        JsonNode order = placed.json();
        assertEquals("placed", order.get("status").asText());
        assertEquals(14, order.get("userId").asLong());
        assertEquals(cart, order.get("cartId").asLong());
        assertTrue(order.has("idempotencyKey") && order.get("idempotencyKey").isNull(), "no Idempotency-Key sent");
        assertNull(placed.header(StorefrontHeaders.IDEMPOTENT_REPLAYED));
        assertEquals(2, order.get("lines").size());
        assertEquals(30, order.get("lines").get(0).get("productId").asLong(), "lines in product order");
        BigDecimal expected = price(31).multiply(BigDecimal.valueOf(2)).add(price(30));
        assertEquals(0, expected.compareTo(order.get("total").decimalValue()), order.toString());
        assertEquals(stock31 - 2, stock(31));
        assertEquals(stock30 - 1, stock(30));

        Http.Response again = http.post("/orders", "{\"cartId\": " + cart + "}");
        assertBad(again, 409);
        assertEquals("conflict", again.error());
        assertEquals("checked_out", http.get("/carts/" + cart).json().get("status").asText());
        assertBad(http.post("/carts/" + cart + "/items", "{\"productId\": 31, \"quantity\": 1}"), 409);

        Http.Response read = http.get("/orders/" + order.get("id").asLong());
        assertEquals(200, read.status());
        assertEquals(order.get("lines"), read.json().get("lines"));
        assertEquals(0, order.get("total").decimalValue().compareTo(read.json().get("total").decimalValue()));
        assertTrue(read.json().get("idempotencyKey").isNull(), read.body());
    }

    @Test
    void directOrderMergesDuplicateLines() {
        int before = stock(40);
        Http.Response placed = http.post("/orders",
                "{\"userId\": 15, \"items\": [{\"productId\": 40, \"quantity\": 1}, {\"productId\": 40, \"quantity\": 2}]}");
        assertEquals(201, placed.status(), placed.body());
        assertEquals(1, placed.json().get("lines").size());
        assertEquals(3, placed.json().get("lines").get(0).get("quantity").asInt());
        assertEquals(before - 3, stock(40));
    }

    @Test
    void outOfStockIs409AndTakesNothing() {
        // product 97 is seeded sold out; product 41 has stock: the order must not take 41 either
        int before = stock(41);
        Http.Response r = http.post("/orders",
                "{\"userId\": 16, \"items\": [{\"productId\": 41, \"quantity\": 1}, {\"productId\": 97, \"quantity\": 1}]}");
        assertBad(r, 409);
        assertEquals("out_of_stock", r.error());
        assertEquals(97, r.json().get("productIds").get(0).asLong());
        assertEquals(before, stock(41), "nothing decremented");
        assertEquals(0L, fixture.value(fixture.primary(), Long.class, "SELECT count(*) FROM orders WHERE user_id = 16"));
    }

    @Test
    void orderBadInputs() {
        assertBad(http.post("/orders", "{}"), 400);
        assertBad(http.post("/orders", "{\"cartId\": 1, \"userId\": 2, \"items\": []}"), 400);
        assertBad(http.post("/orders", "{\"userId\": 17}"), 400);
        assertBad(http.post("/orders", "{\"userId\": 17, \"items\": []}"), 400);
        assertBad(http.post("/orders", "{\"userId\": 17, \"items\": [null]}"), 400);
        assertBad(http.post("/orders", "{\"userId\": 17, \"items\": [{\"productId\": 42, \"quantity\": -2}]}"), 400);
        assertBad(http.post("/orders", "{\"userId\": 17, \"items\": [{\"productId\": 42, \"quantity\": 2.5}]}"), 400);
        assertBad(http.post("/orders", "{\"userId\": 17, \"items\": [{\"productId\": 42, \"qty\": 2}]}"), 400);
        assertBad(http.post("/orders", "{\"userId\": 17, \"items\": {\"productId\": 42}}"), 400);
        StringBuilder many = new StringBuilder("{\"userId\": 17, \"items\": [");
        for (int i = 1; i <= 101; i++) {
            many.append(i > 1 ? "," : "").append("{\"productId\": ").append(i).append(", \"quantity\": 1}");
        }
        assertBad(http.post("/orders", many.append("]}").toString()), 400);
        assertBad(http.post("/orders", "{\"userId\": 999999, \"items\": [{\"productId\": 42, \"quantity\": 1}]}"), 404);
        assertBad(http.post("/orders", "{\"userId\": 17, \"items\": [{\"productId\": 999999, \"quantity\": 1}]}"), 404);
        assertBad(http.post("/orders", "{\"cartId\": 999999}"), 404);
        long empty = http.post("/carts", "{\"userId\": 17}").json().get("id").asLong();
        assertBad(http.post("/orders", "{\"cartId\": " + empty + "}"), 409);
        assertBad(http.get("/orders/999999"), 404);
        assertBad(http.get("/orders/1x"), 400);
        assertEquals(0L, fixture.value(fixture.primary(), Long.class, "SELECT count(*) FROM orders WHERE user_id IN (17, 999999)"));
    }

    @Test
    void userOrdersAreNewestFirstAndLimited() {
        long first = http.post("/orders", "{\"userId\": 18, \"items\": [{\"productId\": 43, \"quantity\": 1}]}").json()
                .get("id").asLong();
        long second = http.post("/orders", "{\"userId\": 18, \"items\": [{\"productId\": 44, \"quantity\": 1}]}").json()
                .get("id").asLong();
        JsonNode orders = http.get("/users/18/orders").json().get("orders");
        assertEquals(2, orders.size());
        assertEquals(second, orders.get(0).get("id").asLong(), "newest first");
        assertEquals(first, orders.get(1).get("id").asLong());
        assertTrue(orders.get(0).has("idempotencyKey") && orders.get(0).get("idempotencyKey").isNull(), orders.toString());
        assertEquals(1, http.get("/users/18/orders?limit=1").json().get("orders").size());
        assertEquals(1, http.get("/users/20/orders").json().get("orders").size(), "seeded history: every 5th user");
        assertEquals(0, http.get("/users/19/orders").json().get("orders").size());
        assertBad(http.get("/users/999999/orders"), 404);
        assertBad(http.get("/users/18/orders?limit=0"), 400);
        assertBad(http.get("/users/x/orders"), 400);
    }

    // ---- users -------------------------------------------------------------------------------------------

    @Test
    void userUpdatesBumpTheVersion() {
        JsonNode before = http.get("/users/50").json();
        assertEquals(50, before.get("id").asLong());
        assertEquals("user50@example.test", before.get("email").asText());
        int version = before.get("version").asInt();

        Http.Response named = http.put("/users/50", "{\"name\": \"Renamed Fifty\"}");
        assertEquals(200, named.status(), named.body());
        assertNotNull(named.header(StorefrontHeaders.CONSISTENCY_TOKEN));
        assertEquals(version + 1, named.json().get("version").asInt());
        assertEquals("user50@example.test", named.json().get("email").asText(), "partial update keeps the rest");

        Http.Response both = http.put("/users/50", "{\"name\": \"Fifty\", \"email\": \"fifty@example.test\"}");
        assertEquals(version + 2, both.json().get("version").asInt());
        JsonNode after = http.get("/users/50").json();
        assertEquals("Fifty", after.get("name").asText());
        assertEquals("fifty@example.test", after.get("email").asText());
        assertEquals(version + 2, after.get("version").asInt());
    }

    @Test
    void userBadInputs() {
        int version = http.get("/users/51").json().get("version").asInt();
        assertBad(http.put("/users/51", "{}"), 400);
        assertBad(http.put("/users/51", "{\"name\": \"\"}"), 400);
        assertBad(http.put("/users/51", "{\"name\": 5}"), 400);
        assertBad(http.put("/users/51", "{\"name\": \"" + "n".repeat(201) + "\"}"), 400);
        assertBad(http.put("/users/51", "{\"email\": \"not-an-email\"}"), 400);
        assertBad(http.put("/users/51", "{\"version\": 99}"), 400);
        assertBad(http.put("/users/51", "{\"name\": \"a\\u0000b\"}"), 400);
        assertBad(http.put("/users/51", "{\"email\": \"user52@example.test\"}"), 409); // taken by user 52
        assertBad(http.put("/users/999999", "{\"name\": \"Nobody\"}"), 404);
        assertBad(http.put("/users/abc", "{\"name\": \"Nobody\"}"), 400);
        assertBad(http.get("/users/999999"), 404);
        assertBad(http.get("/users/-1"), 400);
        assertEquals(version, http.get("/users/51").json().get("version").asInt(), "no bad request changed the user");
    }

    // ---- transport ---------------------------------------------------------------------------------------

    @Test
    void hugeBodiesAre413WithoutBeingRead() {
        byte[] huge = ("{\"name\": \"" + "x".repeat(200_000) + "\"}").getBytes(StandardCharsets.UTF_8);
        Http.Response r = http.send("PUT", "/users/53", huge);
        assertBad(r, 413);
        assertEquals("payload_too_large", r.error());
        assertEquals(200, http.get("/users/53").status(), "the server is fine afterwards");
    }

    @Test
    void unknownPathsAre404AndWrongMethodsAre405() {
        Http.Response unknown = http.get("/admin");
        assertBad(unknown, 404);
        assertBad(http.get("/products/1/extra"), 404);
        assertBad(http.get("/"), 404);
        Http.Response wrong = http.send("DELETE", "/products/1", null);
        assertBad(wrong, 405);
        assertEquals("method_not_allowed", wrong.error());
        assertEquals("GET", wrong.header("Allow"));
        assertBad(http.post("/users/1", "{}"), 405);
        assertEquals("GET, PUT", http.send("PATCH", "/users/1", null).header("Allow"));
        assertBad(http.send("BREW", "/orders", null), 405);
    }

    @Test
    void malformedRequestLinesAreAnsweredNotCrashed() {
        // Malformed requests are answered 400 with the JSON error body (BadInputTest has the full list).
        String bad = http.raw("GET /products?limit=%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertTrue(bad.startsWith("HTTP/1.1 400"), bad);
        assertTrue(bad.contains("\"error\":\"bad_request\""), bad);
        assertFalse(bad.contains("\tat "), bad);
        String opaque = http.raw("GET urn:x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertTrue(opaque.startsWith("HTTP/1.1 400"), opaque);
        assertFalse(opaque.contains("\tat "), opaque);
        String length = http.raw("POST /carts HTTP/1.1\r\nHost: x\r\nContent-Length: 12x\r\nConnection: close\r\n\r\n");
        assertTrue(length.startsWith("HTTP/1.1 400"), length);
        assertEquals(200, http.get("/products/1").status());
    }

    @Test
    void healthReportsBothPools() {
        Http.Response r = http.get("/health");
        assertEquals(200, r.status(), r.body());
        assertEquals("ok", r.json().get("status").asText());
        assertEquals("up", r.json().get("writer").asText());
        assertEquals("up", r.json().get("reader").asText());
    }

    @Test
    void metricsExposeRequestsPoolsAndRouting() {
        http.get("/products/2");
        http.get("/products/nope");
        // A request is timed once its answer is sent, so the client can ask for /metrics a moment before the
        // server has counted it, each request on its own worker: the second can be counted before the first. Look
        // again for up to 2 s, until both are.
        Http.Response r = http.get("/metrics");
        for (long until = System.nanoTime() + 2_000_000_000L; System.nanoTime() < until
                && !(r.body().contains("route=\"/products/{id}\",status=\"400\"")
                        && r.body().contains("route=\"/products/{id}\",status=\"200\"")); ) {
            r = http.get("/metrics");
        }
        assertEquals(200, r.status());
        assertTrue(r.header("Content-Type").startsWith("text/plain"), r.header("Content-Type"));
        String m = r.body();
        assertTrue(Http.metric(m, "http_server_requests_seconds_count{method=\"GET\",route=\"/products/{id}\",status=\"200\"}") >= 1);
        assertTrue(Http.metric(m, "http_server_requests_seconds_count{method=\"GET\",route=\"/products/{id}\",status=\"400\"}") >= 1);
        assertTrue(m.contains("http_server_requests_seconds_bucket{method=\"GET\",route=\"/products/{id}\",status=\"200\",le=\"0.1\"}"), m);
        for (String pool : new String[] {"writer", "reader"}) {
            assertEquals(4, Http.metric(m, "hikaricp_connections_max{pool=\"" + pool + "\"}"));
            for (String meter : new String[] {"hikaricp_connections_active", "hikaricp_connections_idle",
                    "hikaricp_connections_pending", "hikaricp_connections_timeout_total"}) {
                assertTrue(Http.metric(m, meter + "{pool=\"" + pool + "\"}") >= 0);
            }
            assertEquals(0, Http.metric(m, "storefront_pool_exhausted_total{pool=\"" + pool + "\"}"));
            assertEquals(0, Http.metric(m, "storefront_db_unavailable_total{pool=\"" + pool + "\"}"));
        }
        assertTrue(Http.metric(m, "storefront_read_routing_total{decision=\"primary\",policy=\"primary\"}") >= 1);
        assertTrue(m.contains("process_cpu_usage"), "process CPU, to tell app from load generator");
    }

    @Test
    void metricsCanBeFilteredByName() {
        Http.Response r = http.get("/metrics?name%5B%5D=hikaricp_connections_active&name%5B%5D=storefront_pool_exhausted_total");
        assertEquals(200, r.status());
        String m = r.body();
        assertTrue(Http.metric(m, "hikaricp_connections_active{pool=\"writer\"}") >= 0);
        assertEquals(0, Http.metric(m, "storefront_pool_exhausted_total{pool=\"reader\"}"));
        assertTrue(!m.contains("jvm_") && !m.contains("http_server_requests") && !m.contains("hikaricp_connections_idle"),
                "only the named families:\n" + m);
    }

    @Test
    void noErrorResponseEverLeaksAStackTrace() {
        String[] bodies = {"{\"userId\": {\"$gt\": 1}}", "{\"userId\": [1,2]}", "\u0000\u0001", "{\"userId\": 1e999}",
                "{\"a\":" + "[".repeat(2000) + "]".repeat(2000) + "}"};
        for (String body : bodies) {
            Http.Response r = http.post("/carts", body);
            assertEquals(400, r.status(), body + " → " + r.body());
            assertFalse(r.body().contains("Exception") || r.body().contains("at dev.") || r.body().contains("jackson"),
                    r.body());
            assertNull(r.json().get("stackTrace"));
        }
    }

    private static void assertBad(Http.Response r, int status) {
        assertEquals(status, r.status(), r.body());
        assertNotNull(r.error(), "JSON error body: " + r.body());
        assertFalse(r.json().path("message").asText().isEmpty());
    }

    private int stock(long productId) {
        return http.get("/products/" + productId).json().get("stock").asInt();
    }

    private BigDecimal price(long productId) {
        return http.get("/products/" + productId).json().get("price").decimalValue();
    }
}
