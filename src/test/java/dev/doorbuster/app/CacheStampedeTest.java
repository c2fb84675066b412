package dev.doorbuster.app;

import static dev.doorbuster.app.CacheAsideTest.databaseReads;
import static dev.doorbuster.app.CacheAsideTest.lookups;
import static dev.doorbuster.app.CacheAsideTest.metric;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import dev.doorbuster.app.CacheMeters.Kind;
import dev.doorbuster.app.StorefrontConfig.CacheStampede;
import dev.doorbuster.app.StorefrontConfig.Routing;
import dev.doorbuster.postgres.PgBinaries;
import dev.doorbuster.proxy.ToxiproxyServer;
import eu.rekawek.toxiproxy.Proxy;
import eu.rekawek.toxiproxy.ToxiproxyClient;
import eu.rekawek.toxiproxy.model.ToxicDirection;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A stampede: {@value #SHOPPERS} concurrent misses of one key, while every database round trip takes
 * {@value #DB_LATENCY_MS} ms (a latency toxic on the chaos proxy between storefront and primary), so all of them miss
 * before the first database read is back. With single-flight the database is read once; without, once per miss.
 * Counted twice: by the storefront's meter, and by PostgreSQL's own {@code pg_stat_statements} (when the server
 * binaries ship it) so the meter is checked against the database rather than against itself.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CacheStampedeTest {
    private static final int SHOPPERS = 8;
    private static final int DB_LATENCY_MS = 300;
    private static final String PRODUCT_QUERY = "SELECT id, sku, name, category, price, stock FROM products WHERE id = $1";

    private RedisFixture redis;
    private StorefrontFixture fixture;
    private ToxiproxyServer chaos;
    private Proxy primaryLink;
    private boolean statementStatistics;

    @BeforeAll
    void start() throws IOException {
        redis = RedisFixture.start("cache-stampede");
        Path binaries = PgBinaries.resolve().binDir().getParent();
        statementStatistics = Files.isRegularFile(binaries.resolve("lib/postgresql/pg_stat_statements.so"))
                || Files.isRegularFile(binaries.resolve("lib/pg_stat_statements.so"));
        fixture = StorefrontFixture.start(b -> statementStatistics ? b.setting("shared_preload_libraries",
                "pg_stat_statements") : b);
        if (statementStatistics) {
            fixture.sql(fixture.primary(), "CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
        }
        chaos = ToxiproxyServer.start();
        URI api = URI.create(chaos.url());
        primaryLink = new ToxiproxyClient(api.getHost(), api.getPort()).createProxy("pg-primary", "127.0.0.1:0",
                "127.0.0.1:" + fixture.primary().port());
    }

    @AfterAll
    void stop() {
        try {
            if (chaos != null) {
                chaos.close();
            }
            if (fixture != null) {
                fixture.close();
            }
        } finally {
            if (redis != null) {
                redis.close();
            }
        }
    }

    @AfterEach
    void heal() throws IOException {
        for (eu.rekawek.toxiproxy.model.Toxic toxic : primaryLink.toxics().getAll()) {
            toxic.remove();
        }
    }

    /**
     * A storefront refilling from the primary through the proxy; the latency comes once its pool is full. A generous
     * cache timeout: a lookup timing out on a busy machine would be an error, not the miss these tests count.
     */
    private Http app(CacheStampede stampede) throws IOException {
        Http http = new Http(fixture.app(b -> b.routing(Routing.PRIMARY).cacheUrl(redis.url()).cacheStampede(stampede)
                .cacheTimeoutMs(2000)
                .writerUrl("jdbc:postgresql://" + primaryLink.getListen() + "/" + StorefrontFixture.DB)
                .writerPoolSize(SHOPPERS).requestTimeoutMs(10_000).poolTimeoutMs(5000)).url());
        primaryLink.toxics().latency("slow-database", ToxicDirection.DOWNSTREAM, DB_LATENCY_MS);
        return http;
    }

    /** {@code count} GETs of {@code path}, released at once. */
    private static List<Http.Response> stampede(Http http, String path, int count) throws Exception {
        ExecutorService shoppers = Executors.newFixedThreadPool(count);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Http.Response>> answers = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                answers.add(shoppers.submit(() -> {
                    go.await();
                    return http.get(path);
                }));
            }
            go.countDown();
            List<Http.Response> responses = new ArrayList<>();
            for (Future<Http.Response> answer : answers) {
                responses.add(answer.get(30, TimeUnit.SECONDS));
            }
            return responses;
        } finally {
            shoppers.shutdownNow();
        }
    }

    /** How often PostgreSQL ran the product query in the storefront database. */
    private long productQueries() {
        return fixture.value(fixture.primary(), Long.class, "SELECT coalesce(sum(calls), 0)::bigint FROM "
                + "pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                + "AND query = ?", PRODUCT_QUERY);
    }

    @Test
    void singleFlightReadsTheDatabaseOnceForConcurrentMissesOfOneKey() throws Exception {
        Http http = app(CacheStampede.SINGLE_FLIGHT);
        long before = statementStatistics ? productQueries() : 0;
        List<Http.Response> answers = stampede(http, "/products/70", SHOPPERS);
        for (Http.Response answer : answers) {
            assertEquals(200, answer.status(), answer.body());
            assertEquals("primary", answer.header(StorefrontHeaders.SERVED_BY), "answered by the one database read");
            assertEquals(answers.get(0).body(), answer.body());
        }
        assertEquals(1, metric(http, databaseReads(Kind.PRODUCT)));
        double misses = metric(http, lookups(Kind.PRODUCT, "miss"));
        assertTrue(misses >= 2, "the misses overlapped: " + misses);
        assertEquals(misses - 1, metric(http, CacheMeters.series(CacheMeters.SINGLE_FLIGHT_WAITS, CacheMeters.KIND,
                "product")), "every other miss waited");
        if (statementStatistics) {
            assertEquals(1, productQueries() - before, "PostgreSQL ran the query once");
        }
        assertEquals(StorefrontHeaders.CACHE, http.get("/products/70").header(StorefrontHeaders.SERVED_BY));
    }

    @Test
    void singleFlightGivesTheWaitersTheSameNotFound() throws Exception {
        Http http = app(CacheStampede.SINGLE_FLIGHT);
        for (Http.Response answer : stampede(http, "/products/876543", SHOPPERS)) {
            assertEquals(404, answer.status(), answer.body());
            assertEquals("not_found", answer.error());
            assertEquals("primary", answer.header(StorefrontHeaders.SERVED_BY));
        }
        assertEquals(1, metric(http, databaseReads(Kind.PRODUCT)));
        assertEquals(404, http.get("/products/876543").status(), "and a not found is not cached");
        assertEquals(2, metric(http, databaseReads(Kind.PRODUCT)));
    }

    @Test
    void withoutSingleFlightEveryMissReadsTheDatabase() throws Exception {
        Http http = app(CacheStampede.NONE);
        long before = statementStatistics ? productQueries() : 0;
        for (Http.Response answer : stampede(http, "/products/71", SHOPPERS)) {
            assertEquals(200, answer.status(), answer.body());
        }
        double misses = metric(http, lookups(Kind.PRODUCT, "miss"));
        assertTrue(misses >= 2, "the misses overlapped: " + misses);
        assertEquals(misses, metric(http, databaseReads(Kind.PRODUCT)), "one database read per miss");
        assertEquals(0, metric(http, CacheMeters.series(CacheMeters.SINGLE_FLIGHT_WAITS, CacheMeters.KIND, "product")));
        if (statementStatistics) {
            assertEquals((long) misses, productQueries() - before, "PostgreSQL ran the query once per miss");
        }
    }
}
