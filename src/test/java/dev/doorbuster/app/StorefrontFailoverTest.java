package dev.doorbuster.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import dev.doorbuster.postgres.PgNode;
import org.junit.jupiter.api.Test;

/**
 * Database outages: the primary dies and the replica is promoted (the writer URL lists both servers, so
 * the running app finds the new primary by itself), and the replica goes away and comes back. Outages
 * are answered 503 database_unavailable, never 500, and never mistaken for pool exhaustion.
 */
class StorefrontFailoverTest {
    @Test
    void writesSucceedAgainAfterPromotionWithoutRestartingTheApp() {
        try (StorefrontFixture fixture = StorefrontFixture.start()) {
            PgNode oldPrimary = fixture.primary();
            PgNode replica = fixture.replica();
            Http http = new Http(fixture.app(b -> b).url());
            assertEquals(201, http.post("/carts", "{\"userId\": 80}").status());

            oldPrimary.kill();
            Http.Response down = http.post("/carts", "{\"userId\": 80}");
            assertEquals(503, down.status(), "no primary at all: " + down);
            assertEquals("database_unavailable", down.error());
            assertEquals("writer", down.json().get("pool").asText());
            assertEquals("1", down.header("Retry-After"));
            Http.Response health = http.get("/health");
            assertEquals(503, health.status(), health.body());
            assertEquals("down", health.json().get("writer").asText());
            assertEquals("up", health.json().get("reader").asText());
            assertEquals(200, http.get("/products/1").status(), "reads from the replica survive the primary's death");

            fixture.cluster.promote(replica);
            List<Http.Response> gap = new ArrayList<>();
            Http.Response after = null;
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline) {
                after = http.post("/carts", "{\"userId\": 80}");
                if (after.status() == 201) {
                    break;
                }
                gap.add(after);
            }
            assertEquals(201, after.status(), "writes resume on the promoted node: " + after);
            for (Http.Response r : gap) {
                assertEquals("database_unavailable", r.error(), r.body());
            }
            long cart = after.json().get("id").asLong();
            assertEquals(1L, fixture.value(replica, Long.class, "SELECT count(*) FROM carts WHERE id = ?", cart),
                    "the cart is on the promoted node");
            assertTrue(Http.metric(http.get("/metrics").body(), "storefront_db_unavailable_total{pool=\"writer\"}") >= 1);
            assertEquals(0, Http.metric(http.get("/metrics").body(), "storefront_pool_exhausted_total{pool=\"writer\"}"));
            assertEquals(200, http.get("/health").status());
        }
    }

    @Test
    void aLostReplicaIs503ForReadsOnlyAndReadsRecoverWhenItReturns() {
        try (StorefrontFixture fixture = StorefrontFixture.start()) {
            Http http = new Http(fixture.app(b -> b.poolTimeoutMs(500)).url());
            assertEquals(200, http.get("/products/2").status());

            fixture.replica().stop();
            Http.Response read = http.get("/products/2");
            assertEquals(503, read.status(), read.body());
            assertEquals("database_unavailable", read.error());
            assertEquals("reader", read.json().get("pool").asText());
            assertEquals(201, http.post("/carts", "{\"userId\": 81}").status(), "writes do not need the replica");
            Http.Response health = http.get("/health");
            assertEquals(503, health.status());
            assertEquals("down", health.json().get("reader").asText());
            assertEquals("up", health.json().get("writer").asText());

            fixture.replica().start();
            StorefrontFixture.await("reads served again", Duration.ofSeconds(20),
                    () -> http.get("/products/2").status() == 200);
            assertTrue(Http.metric(http.get("/metrics").body(), "storefront_db_unavailable_total{pool=\"reader\"}") >= 1);
        }
    }
}
