package dev.doorbuster.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import dev.doorbuster.app.StorefrontConfig.Routing;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Pools of 2 and slow work: a hot product row locked by another transaction (the classic Black-Friday
 * hot spot) keeps writer connections busy, a lagging replica keeps read-your-writes reads waiting on
 * reader connections. Requests that cannot get a connection within the pool timeout get a fast 503
 * naming the pool, are counted, and the app serves normally once the pressure is gone.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PoolExhaustionTest {
    private StorefrontFixture fixture;
    private final ExecutorService clients = Executors.newFixedThreadPool(8);

    @BeforeAll
    void start() {
        fixture = StorefrontFixture.start();
    }

    @AfterAll
    void stop() {
        clients.shutdownNow();
        if (fixture != null) {
            fixture.close();
        }
    }

    @Test
    void writerPoolExhaustionIs503NamingTheWriterAndRecovers() throws Exception {
        Storefront app = fixture.app(b -> b.routing(Routing.REPLICA).writerPoolSize(2).poolTimeoutMs(250));
        Http http = new Http(app.url());
        String order = "{\"userId\": 70, \"items\": [{\"productId\": 110, \"quantity\": 1}]}";

        List<Future<Http.Response>> blocked = new ArrayList<>();
        List<Http.Response> refused = new ArrayList<>();
        try (Connection lock = DriverManager.getConnection(fixture.primary().jdbcUrl(StorefrontFixture.DB))) {
            lock.setAutoCommit(false);
            try (PreparedStatement s = lock.prepareStatement("SELECT stock FROM products WHERE id = 110 FOR UPDATE")) {
                s.executeQuery().close();
            }
            for (int i = 0; i < 2; i++) {
                blocked.add(clients.submit(() -> http.post("/orders", order)));
            }
            StorefrontFixture.await("both writer connections stuck on the lock", Duration.ofSeconds(10),
                    () -> metric(http, "hikaricp_connections_active{pool=\"writer\"}") == 2);

            List<Future<Http.Response>> more = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                more.add(clients.submit(() -> http.post("/orders", order)));
            }
            for (Future<Http.Response> f : more) {
                refused.add(f.get(10, TimeUnit.SECONDS));
            }
            Http.Response health = http.get("/health");
            assertEquals(200, health.status(), "a saturated pool is not a dead database: " + health);
            assertEquals("saturated", health.json().get("writer").asText());
            assertEquals("degraded", health.json().get("status").asText());

            Http.Response read = http.get("/products/1");
            assertEquals(200, read.status(), "the reader pool is unaffected: " + read);
            lock.rollback();
        }
        for (Http.Response r : refused) {
            assertEquals(503, r.status(), r.body());
            assertEquals("pool_exhausted", r.error());
            assertEquals("writer", r.json().get("pool").asText());
            assertEquals("1", r.header("Retry-After"));
        }
        for (Future<Http.Response> f : blocked) {
            assertEquals(201, f.get(10, TimeUnit.SECONDS).status(), "the stuck orders complete once the lock is gone");
        }
        String m = http.get("/metrics").body();
        assertEquals(5, Http.metric(m, "storefront_pool_exhausted_total{pool=\"writer\"}"));
        assertTrue(Http.metric(m, "hikaricp_connections_timeout_total{pool=\"writer\"}") >= 6, "5 orders + 1 health probe");
        assertEquals(5, Http.metric(m,
                "http_server_requests_seconds_count{method=\"POST\",route=\"/orders\",status=\"503\"}"));
        assertEquals(0, Http.metric(m, "storefront_db_unavailable_total{pool=\"writer\"}"), "not confused with an outage");

        for (int i = 0; i < 5; i++) {
            assertEquals(201, http.post("/orders", order).status(), "recovered");
        }
    }

    @Test
    void readYourWritesWaitsHoldReaderConnectionsAndExhaustTheReaderPool() throws Exception {
        // Waits (3 s) far longer than the pool timeout (250 ms): the third read is refused however slow this machine is.
        Storefront app = fixture.app(b -> b.routing(Routing.READ_YOUR_WRITES).readerPoolSize(2).poolTimeoutMs(250)
                .rywWaitMs(3000));
        Http http = new Http(app.url());
        fixture.replica().execute("ALTER SYSTEM SET recovery_min_apply_delay = '10s'");
        fixture.replica().execute("SELECT pg_reload_conf()");
        try {
            StorefrontFixture.await("replica applies the delay", Duration.ofSeconds(10), () -> "10s".equals(
                    fixture.replica().queryValue("SHOW recovery_min_apply_delay", String.class)));
            String token = http.put("/users/71", "{\"name\": \"Seventy-one\"}").header(StorefrontHeaders.CONSISTENCY_TOKEN);

            List<Future<Http.Response>> reads = new ArrayList<>();
            Supplier<Http.Response> read = () -> http.get("/users/71", StorefrontHeaders.CONSISTENCY_TOKEN, token);
            for (int i = 0; i < 2; i++) {
                reads.add(clients.submit(read::get));
            }
            StorefrontFixture.await("both reader connections waiting for the replica", Duration.ofSeconds(10),
                    () -> metric(http, "hikaricp_connections_active{pool=\"reader\"}") == 2);
            Http.Response refused = http.get("/users/71", StorefrontHeaders.CONSISTENCY_TOKEN, token);
            assertEquals(503, refused.status(), refused.body());
            assertEquals("pool_exhausted", refused.error());
            assertEquals("reader", refused.json().get("pool").asText());
            for (Future<Http.Response> f : reads) {
                Http.Response r = f.get(10, TimeUnit.SECONDS);
                assertEquals(200, r.status());
                assertEquals("primary", r.header(StorefrontHeaders.SERVED_BY), "fell back after waiting");
            }
            assertEquals(1, metric(http, "storefront_pool_exhausted_total{pool=\"reader\"}"));
        } finally {
            fixture.replica().execute("ALTER SYSTEM RESET recovery_min_apply_delay");
            fixture.replica().execute("SELECT pg_reload_conf()");
        }
        fixture.cluster.awaitCaughtUp(fixture.replica(), Duration.ofSeconds(20));
        Http.Response after = http.get("/users/71", StorefrontHeaders.CONSISTENCY_TOKEN,
                http.put("/users/71", "{\"name\": \"Seventy-one again\"}").header(StorefrontHeaders.CONSISTENCY_TOKEN));
        assertEquals(200, after.status(), "recovered");
    }

    @Test
    void aRequestStuckOnALockIsAnswered503TimeoutAtTheRequestBound() throws Exception {
        Storefront app = fixture.app(b -> b.requestTimeoutMs(1000).poolTimeoutMs(250));
        Http http = new Http(app.url());
        int stock = fixture.value(fixture.primary(), Integer.class, "SELECT stock FROM products WHERE id = 111");
        try (Connection lock = DriverManager.getConnection(fixture.primary().jdbcUrl(StorefrontFixture.DB))) {
            lock.setAutoCommit(false);
            try (PreparedStatement s = lock.prepareStatement("SELECT 1 FROM products WHERE id = 111 FOR UPDATE")) {
                s.executeQuery().close();
            }
            long started = System.nanoTime();
            Http.Response r = http.post("/orders", "{\"userId\": 72, \"items\": [{\"productId\": 111, \"quantity\": 1}]}");
            long tookMs = (System.nanoTime() - started) / 1_000_000;
            assertEquals(503, r.status(), r.body());
            assertEquals("timeout", r.error());
            assertEquals("1", r.header("Retry-After"));
            assertTrue(tookMs >= 900 && tookMs < 3000, "answered at the 1 s bound, not when the lock went: " + tookMs + " ms");
            // The server cancelled the statement too (statement_timeout = request bound): the connection is freed.
            StorefrontFixture.await("writer connection returned", Duration.ofSeconds(5),
                    () -> metric(http, "hikaricp_connections_active{pool=\"writer\"}") == 0);
            assertEquals(1, metric(http, "storefront_request_timeout_total"));
            lock.rollback();
        }
        assertEquals(stock, fixture.value(fixture.primary(), Integer.class, "SELECT stock FROM products WHERE id = 111"),
                "the timed-out order did not commit");
        assertEquals(201, http.post("/orders", "{\"userId\": 72, \"items\": [{\"productId\": 111, \"quantity\": 1}]}")
                .status());
    }

    private static double metric(Http http, String series) {
        return Http.metric(http.get("/metrics").body(), series);
    }
}
