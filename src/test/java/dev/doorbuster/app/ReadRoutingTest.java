package dev.doorbuster.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

import dev.doorbuster.app.StorefrontConfig.Routing;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Read-after-write with a lagging replica. The replica applies every commit {@value #DELAY_MS} ms late
 * ({@code recovery_min_apply_delay}), so a read right after a write deterministically finds the replica
 * behind: the naive policy must be seen to miss, the fixed ones must never miss.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReadRoutingTest {
    private static final int DELAY_MS = 1500;
    private StorefrontFixture fixture;

    @BeforeAll
    void start() {
        fixture = StorefrontFixture.start();
        fixture.replica().execute("ALTER SYSTEM SET recovery_min_apply_delay = '" + DELAY_MS + "ms'");
        fixture.replica().execute("SELECT pg_reload_conf()");
        StorefrontFixture.await("replica applies the delay", Duration.ofSeconds(10), () -> (DELAY_MS + "ms").equals(
                fixture.replica().queryValue("SHOW recovery_min_apply_delay", String.class)));
    }

    @AfterAll
    void stop() {
        if (fixture != null) {
            fixture.close();
        }
    }

    @Test
    void replicaPolicyMissesTheWriteItJustMade() {
        Http http = new Http(fixture.app(b -> b.routing(Routing.REPLICA)).url());
        Http.Response written = http.put("/users/60", "{\"name\": \"Sixty v2\"}");
        assertEquals(200, written.status(), written.body());
        int version = written.json().get("version").asInt();

        Http.Response read = http.get("/users/60", StorefrontHeaders.CONSISTENCY_TOKEN, written.header(StorefrontHeaders.CONSISTENCY_TOKEN));
        assertEquals("replica", read.header(StorefrontHeaders.SERVED_BY));
        assertEquals(version - 1, read.json().get("version").asInt(), "the naive policy serves the stale row");

        StorefrontFixture.await("replica catches up", Duration.ofSeconds(15),
                () -> http.get("/users/60").json().get("version").asInt() == version);
        assertTrue(metric(http, "storefront_read_routing_total{decision=\"replica\",policy=\"replica\"}") >= 2);
    }

    @Test
    void readYourWritesNeverMissesFallingBackToThePrimaryWhenTheReplicaIsTooSlow() {
        Http http = new Http(fixture.app(b -> b.routing(Routing.READ_YOUR_WRITES).rywWaitMs(200)).url());
        for (int i = 1; i <= 5; i++) {
            Http.Response written = http.put("/users/61", "{\"name\": \"Sixty-one v" + i + "\"}");
            String token = written.header(StorefrontHeaders.CONSISTENCY_TOKEN);
            assertNotNull(token);
            long started = System.nanoTime();
            Http.Response read = http.get("/users/61", StorefrontHeaders.CONSISTENCY_TOKEN, token);
            long tookMs = (System.nanoTime() - started) / 1_000_000;
            assertEquals(written.json().get("version").asInt(), read.json().get("version").asInt(), "never a miss");
            assertEquals("primary", read.header(StorefrontHeaders.SERVED_BY));
            assertTrue(tookMs >= 150, "waited for the replica before falling back: " + tookMs + " ms");
        }
        assertEquals(5, metric(http, "storefront_read_routing_total{decision=\"primary_fallback\",policy=\"read-your-writes\"}"));
        assertEquals(0, metric(http, "storefront_read_routing_total{decision=\"replica_after_wait\",policy=\"read-your-writes\"}"));

        Http.Response tokenless = http.get("/users/61");
        assertEquals("replica", tokenless.header(StorefrontHeaders.SERVED_BY), "reads without a token stay on the replica");
    }

    @Test
    void readYourWritesWaitsForTheReplicaWhenItCatchesUpInTime() {
        Http http = new Http(fixture.app(b -> b.routing(Routing.READ_YOUR_WRITES).rywWaitMs(DELAY_MS * 2)).url());
        Http.Response written = http.put("/users/62", "{\"email\": \"sixty-two@example.test\"}");
        Http.Response read = http.get("/users/62", StorefrontHeaders.CONSISTENCY_TOKEN, written.header(StorefrontHeaders.CONSISTENCY_TOKEN));
        assertEquals("replica", read.header(StorefrontHeaders.SERVED_BY));
        assertEquals(written.json().get("version").asInt(), read.json().get("version").asInt());
        assertEquals("sixty-two@example.test", read.json().get("email").asText());
        assertEquals(1, metric(http, "storefront_read_routing_total{decision=\"replica_after_wait\",policy=\"read-your-writes\"}"));

        // Once the replica has replayed the token, the read goes straight to it.
        fixture.cluster.awaitCaughtUp(fixture.replica(), Duration.ofSeconds(15));
        Http.Response later = http.get("/users/62", StorefrontHeaders.CONSISTENCY_TOKEN, written.header(StorefrontHeaders.CONSISTENCY_TOKEN));
        assertEquals("replica", later.header(StorefrontHeaders.SERVED_BY));
        assertEquals(1, metric(http, "storefront_read_routing_total{decision=\"replica\",policy=\"read-your-writes\"}"));
    }

    @Test
    void readYourWritesCoversCartsAndOrdersToo() {
        Http http = new Http(fixture.app(b -> b.routing(Routing.READ_YOUR_WRITES).rywWaitMs(100)).url());
        Http.Response cart = http.post("/carts", "{\"userId\": 63}");
        long id = cart.json().get("id").asLong();
        assertEquals(200, http.get("/carts/" + id, StorefrontHeaders.CONSISTENCY_TOKEN, cart.header(StorefrontHeaders.CONSISTENCY_TOKEN)).status());
        assertEquals(404, http.get("/carts/" + id).status(), "without the token the lagging replica has no such cart yet");

        Http.Response order = http.post("/orders", "{\"userId\": 63, \"items\": [{\"productId\": 105, \"quantity\": 1}]}");
        long orderId = order.json().get("id").asLong();
        Http.Response mine = http.get("/users/63/orders", StorefrontHeaders.CONSISTENCY_TOKEN, order.header(StorefrontHeaders.CONSISTENCY_TOKEN));
        assertEquals(orderId, mine.json().get("orders").get(0).get("id").asLong());
    }

    @Test
    void aWriteWhosePositionIsUnknownSendsItsReaderToThePrimary() {
        // The token a write gets when its connection broke right after COMMIT: no replica can prove it has it.
        Http http = new Http(fixture.app(b -> b.routing(Routing.READ_YOUR_WRITES)).url());
        Http.Response read = http.get("/users/64", StorefrontHeaders.CONSISTENCY_TOKEN, "primary");
        assertEquals(200, read.status(), read.body());
        assertEquals("primary", read.header(StorefrontHeaders.SERVED_BY));
    }

    @Test
    void badConsistencyTokensAre400() {
        Http http = new Http(fixture.app(b -> b.routing(Routing.READ_YOUR_WRITES)).url());
        for (String token : new String[] {"yesterday", "0/", "/5", "G/1", "1/2/3", "123456789/1"}) {
            Http.Response r = http.get("/users/64", StorefrontHeaders.CONSISTENCY_TOKEN, token);
            assertEquals(400, r.status(), token + " → " + r.body());
            assertEquals("bad_request", r.error());
        }
    }

    @Test
    void stickyKeepsAWriterOnThePrimaryForItsWindowOnly() throws InterruptedException {
        int stickyMs = 500;
        Http http = new Http(fixture.app(b -> b.routing(Routing.STICKY).stickyMs(stickyMs)).url());
        Http.Response written = http.put("/users/65", "{\"name\": \"Sticky\"}", StorefrontHeaders.CLIENT_ID, "alice");
        int version = written.json().get("version").asInt();

        Http.Response alice = http.get("/users/65", StorefrontHeaders.CLIENT_ID, "alice");
        assertEquals("primary", alice.header(StorefrontHeaders.SERVED_BY));
        assertEquals(version, alice.json().get("version").asInt(), "the writer sees its write");
        Http.Response bob = http.get("/users/65", StorefrontHeaders.CLIENT_ID, "bob");
        assertEquals("replica", bob.header(StorefrontHeaders.SERVED_BY), "other clients stay on the replica");
        assertEquals("replica", http.get("/users/65").header(StorefrontHeaders.SERVED_BY), "no client id, no stickiness");

        Thread.sleep(stickyMs + 100);
        // The window (500 ms) is shorter than the lag (1500 ms): this is sticky's known weakness.
        assertEquals("replica", http.get("/users/65", StorefrontHeaders.CLIENT_ID, "alice").header(StorefrontHeaders.SERVED_BY));
        assertEquals(1, metric(http, "storefront_read_routing_total{decision=\"primary_sticky\",policy=\"sticky\"}"));
        assertEquals(3, metric(http, "storefront_read_routing_total{decision=\"replica\",policy=\"sticky\"}"));
    }

    @Test
    void primaryPolicyAlwaysSeesTheWrite() {
        Http http = new Http(fixture.app(b -> b.routing(Routing.PRIMARY)).url());
        Http.Response written = http.put("/users/66", "{\"name\": \"Primary\"}");
        Http.Response read = http.get("/users/66");
        assertEquals("primary", read.header(StorefrontHeaders.SERVED_BY));
        assertEquals(written.json().get("version").asInt(), read.json().get("version").asInt());
    }

    private static double metric(Http http, String series) {
        return Http.metric(http.get("/metrics").body(), series);
    }
}
