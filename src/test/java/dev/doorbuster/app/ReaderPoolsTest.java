package dev.doorbuster.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

import dev.doorbuster.app.StorefrontConfig.Routing;
import dev.doorbuster.postgres.PgNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Several {@code --reader-url}s: one pool each ({@code reader-1}, {@code reader-2}), one picked at random per
 * replica read. The fixture has one replica, so the second reader URL points at the primary: the two pools
 * really read from two different servers, which is what per-read balancing is about.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReaderPoolsTest {
    /** A login of its own for reader-2, so that reader (and only it) can be taken down and brought back. */
    private static final String READER2_ROLE = "doorbuster_reader2";
    private StorefrontFixture fixture;

    @BeforeAll
    void start() {
        fixture = StorefrontFixture.start();
        fixture.primary().execute("CREATE ROLE " + READER2_ROLE + " LOGIN SUPERUSER");
    }

    @AfterAll
    void stop() {
        if (fixture != null) {
            fixture.close();
        }
    }

    private String primaryReaderUrl() {
        return "jdbc:postgresql://127.0.0.1:" + fixture.primary().port() + "/" + StorefrontFixture.DB;
    }

    private Storefront twoReaders(Function<StorefrontConfig.Builder, StorefrontConfig.Builder> changes) {
        return fixture.app(b -> changes.apply(b.readerUrls(List.of(fixture.readerUrl(), primaryReaderUrl()))));
    }

    @Test
    void everyReadPicksAReaderPoolSoBothServeAndSuccessiveReadsAlternate() {
        Storefront app = twoReaders(b -> b.routing(Routing.REPLICA));
        Http http = new Http(app.url());
        Map<String, Integer> byPool = new TreeMap<>();
        int switches = 0;
        String previous = null;
        for (int i = 1; i <= 200; i++) {
            Http.Response r = http.get("/products/" + (1 + i % 50));
            assertEquals(200, r.status(), r.body());
            assertEquals("replica", r.header(StorefrontHeaders.SERVED_BY), "the role, as with one reader");
            String pool = r.header(StorefrontHeaders.SERVED_BY_POOL);
            byPool.merge(pool, 1, Integer::sum);
            switches += previous != null && !previous.equals(pool) ? 1 : 0;
            previous = pool;
        }
        assertEquals(List.of("reader-1", "reader-2"), List.copyOf(byPool.keySet()), byPool.toString());
        byPool.forEach((pool, n) -> assertTrue(n >= 40, "each pool serves at least 20% of 200 reads: " + byPool));
        // Per read, not per connection: a shopper's successive reads change replica about every other read.
        assertTrue(switches >= 50, "successive reads alternate between the pools: " + switches + " switches in 199");

        // Two different servers answered: each pool's connections are on its own server.
        assertTrue(sessions(fixture.replica(), "storefront-reader-1") > 0, "reader-1 is on the replica");
        assertEquals(0, sessions(fixture.replica(), "storefront-reader-2"));
        assertTrue(sessions(fixture.primary(), "storefront-reader-2") > 0, "reader-2 is on the primary");

        Http.Response written = http.put("/users/70", "{\"name\": \"Seventy v2\"}");
        assertEquals(200, written.status(), written.body());
        assertEquals("primary", written.header(StorefrontHeaders.SERVED_BY));
        assertEquals("writer", written.header(StorefrontHeaders.SERVED_BY_POOL));

        String m = http.get("/metrics").body();
        for (String pool : new String[] {"writer", "reader-1", "reader-2"}) {
            assertEquals(4, Http.metric(m, "hikaricp_connections_max{pool=\"" + pool + "\"}"), pool);
            assertTrue(Http.metric(m, "hikaricp_connections_active{pool=\"" + pool + "\"}") >= 0);
            assertEquals(0, Http.metric(m, "storefront_pool_exhausted_total{pool=\"" + pool + "\"}"));
            assertEquals(0, Http.metric(m, "storefront_db_unavailable_total{pool=\"" + pool + "\"}"));
        }
        assertFalse(m.contains("pool=\"reader\""), "no pool named plain 'reader' when there are several");
        assertEquals(200, Http.metric(m, "storefront_read_routing_total{decision=\"replica\",policy=\"replica\"}"));

        Http.Response health = http.get("/health");
        assertEquals(200, health.status(), health.body());
        assertEquals("ok", health.json().get("status").asText());
        assertEquals("up", health.json().get("reader").asText());
        assertEquals("up", health.json().path("readers").path("reader-1").asText());
        assertEquals("up", health.json().path("readers").path("reader-2").asText());

        app.close(); // closes every pool
        StorefrontFixture.await("every reader pool's connections closed", Duration.ofSeconds(10),
                () -> sessions(fixture.replica(), "storefront-reader-1") == 0
                        && sessions(fixture.primary(), "storefront-reader-2") == 0);
    }

    @Test
    void readYourWritesAndStickyPickAReaderPoolPerReadToo() {
        Storefront ryw = twoReaders(b -> b.routing(Routing.READ_YOUR_WRITES).rywWaitMs(2000));
        Http http = new Http(ryw.url());
        Map<String, Integer> byPool = new TreeMap<>();
        for (int i = 1; i <= 40; i++) {
            Http.Response written = http.put("/users/71", "{\"name\": \"Seventy-one v" + i + "\"}");
            assertEquals(200, written.status(), written.body());
            Http.Response read = http.get("/users/71", StorefrontHeaders.CONSISTENCY_TOKEN, written.header(StorefrontHeaders.CONSISTENCY_TOKEN));
            assertEquals(written.json().get("version").asInt(), read.json().get("version").asInt(), "never a miss");
            byPool.merge(read.header(StorefrontHeaders.SERVED_BY_POOL), 1, Integer::sum);
        }
        assertTrue(byPool.getOrDefault("reader-1", 0) >= 5 && byPool.getOrDefault("reader-2", 0) >= 5,
                "token reads wait on whichever reader pool was picked: " + byPool);
        ryw.close();

        Storefront sticky = twoReaders(b -> b.routing(Routing.STICKY));
        Http shopper = new Http(sticky.url());
        byPool.clear();
        for (int i = 1; i <= 40; i++) {
            Http.Response read = shopper.get("/products/" + i, StorefrontHeaders.CLIENT_ID, "never-wrote");
            assertEquals("replica", read.header(StorefrontHeaders.SERVED_BY));
            byPool.merge(read.header(StorefrontHeaders.SERVED_BY_POOL), 1, Integer::sum);
        }
        assertTrue(byPool.getOrDefault("reader-1", 0) >= 5 && byPool.getOrDefault("reader-2", 0) >= 5,
                "sticky's replica branch: " + byPool);
        shopper.put("/users/72", "{\"name\": \"Seventy-two v2\"}", StorefrontHeaders.CLIENT_ID, "wrote");
        Http.Response pinned = shopper.get("/users/72", StorefrontHeaders.CLIENT_ID, "wrote");
        assertEquals("primary", pinned.header(StorefrontHeaders.SERVED_BY));
        assertEquals("writer", pinned.header(StorefrontHeaders.SERVED_BY_POOL));
        sticky.close();
    }

    @Test
    void oneReaderDownMakesHealthDownAndItsReadsNameThatPool() {
        String reader2 = primaryReaderUrl() + "?user=" + READER2_ROLE;
        Storefront app = fixture.app(b -> b.routing(Routing.REPLICA).poolTimeoutMs(500)
                .readerUrls(List.of(fixture.readerUrl(), reader2)));
        Http http = new Http(app.url());
        assertEquals(200, http.get("/health").status());
        assertTrue(sessions(fixture.primary(), "storefront-reader-2", READER2_ROLE) > 0, "reader-2 logs in as its role");
        try {
            fixture.primary().execute("ALTER ROLE " + READER2_ROLE + " NOLOGIN");
            fixture.primary().execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = ?",
                    READER2_ROLE);

            Http.Response health = http.get("/health");
            assertEquals(503, health.status(), health.body());
            assertEquals("down", health.json().get("status").asText());
            assertEquals("down", health.json().get("reader").asText());
            assertEquals("up", health.json().get("writer").asText());
            assertEquals("up", health.json().path("readers").path("reader-1").asText());
            assertEquals("down", health.json().path("readers").path("reader-2").asText());

            int failed = 0;
            for (int i = 1; i <= 20; i++) {
                Http.Response r = http.get("/products/" + i);
                if (r.status() == 503) {
                    failed++;
                    assertEquals("database_unavailable", r.error(), r.body());
                    assertEquals("reader-2", r.json().get("pool").asText(), "the actual pool");
                } else {
                    assertEquals(200, r.status(), r.body());
                    assertEquals("reader-1", r.header(StorefrontHeaders.SERVED_BY_POOL));
                }
            }
            assertTrue(failed > 0 && failed < 20, "only reads that picked reader-2 fail: " + failed + " of 20");
            String m = http.get("/metrics").body();
            assertEquals(failed, Http.metric(m, "storefront_db_unavailable_total{pool=\"reader-2\"}"));
            assertEquals(0, Http.metric(m, "storefront_db_unavailable_total{pool=\"reader-1\"}"));
        } finally {
            fixture.primary().execute("ALTER ROLE " + READER2_ROLE + " LOGIN");
        }
        StorefrontFixture.await("reader-2 back up", Duration.ofSeconds(20), () -> http.get("/health").status() == 200);
        app.close();
    }

    @Test
    void startupChecksEveryReaderAndNamesTheOneThatIsUnreachable() {
        RuntimeException e = assertThrows(RuntimeException.class, () -> fixture.app(b -> b.readerUrls(
                List.of(fixture.readerUrl(), "jdbc:postgresql://127.0.0.1:1/" + StorefrontFixture.DB))));
        assertTrue(e.getMessage().contains("reader-2") && e.getMessage().contains("127.0.0.1:1/"), e.getMessage());
    }

    private static int sessions(PgNode node, String applicationName) {
        return node.queryValue("SELECT count(*)::int FROM pg_stat_activity WHERE application_name = ?", Integer.class,
                applicationName);
    }

    private static int sessions(PgNode node, String applicationName, String user) {
        return node.queryValue("SELECT count(*)::int FROM pg_stat_activity WHERE application_name = ? AND usename = ?",
                Integer.class, applicationName, user);
    }
}
