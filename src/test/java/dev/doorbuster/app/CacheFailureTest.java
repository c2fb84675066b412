package dev.doorbuster.app;

import static dev.doorbuster.app.CacheAsideTest.invalidations;
import static dev.doorbuster.app.CacheAsideTest.lookups;
import static dev.doorbuster.app.CacheAsideTest.metric;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

import dev.doorbuster.app.CacheMeters.Kind;
import dev.doorbuster.app.StorefrontConfig.CacheOnError;
import dev.doorbuster.app.StorefrontConfig.Routing;
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
 * A cache that fails: black-holed (the embedded chaos proxy between storefront and Redis drops every byte, the
 * {@code timeout} toxic) or down (the server stopped). The storefront must answer within its cache timeout plus a
 * database read ({@code fallback}) or with a prompt 503 naming the cache ({@code fail}); a write whose delete failed
 * still succeeds; and the cache is used again by itself once it is back. With Lettuce's own 60 s timeout a
 * black-holed cache holds each request until the request bound: the bug a control demonstrates.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CacheFailureTest {
    private static final String BLACK_HOLE = "black-hole-";
    /**
     * Far above 50 ms plus a database read, even on a busy machine; below the default request bound (5 s), and far
     * below the 60 s of Lettuce's default.
     */
    private static final long QUICK_MS = 2000;

    private RedisFixture redis;
    private StorefrontFixture fixture;
    private ToxiproxyServer chaos;
    private Proxy cacheLink;

    @BeforeAll
    void start() throws IOException {
        redis = RedisFixture.start("cache-failure");
        fixture = StorefrontFixture.start();
        chaos = ToxiproxyServer.start();
        URI api = URI.create(chaos.url());
        cacheLink = new ToxiproxyClient(api.getHost(), api.getPort()).createProxy("cache", "127.0.0.1:0",
                redis.server.address().getHostString() + ":" + redis.server.port());
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
        for (eu.rekawek.toxiproxy.model.Toxic toxic : cacheLink.toxics().getAll()) {
            toxic.remove();
        }
        if (!redis.server.isRunning()) {
            redis.restart();
        }
    }

    /** A storefront whose cache is reached through the chaos proxy. */
    private Http throughProxy(UnaryOperator<StorefrontConfig.Builder> changes) {
        return new Http(fixture.app(b -> changes.apply(b.routing(Routing.PRIMARY).cacheUrl("redis://"
                + cacheLink.getListen()))).url());
    }

    /** Every byte dropped both ways, the connection never closed: commands never reach Redis, nor answers us. */
    private void blackHole() throws IOException {
        for (ToxicDirection direction : ToxicDirection.values()) {
            cacheLink.toxics().timeout(BLACK_HOLE + direction.name().toLowerCase(java.util.Locale.ROOT), direction, 0);
        }
    }

    private record Timed(Http.Response response, long millis) {
    }

    /**
     * Reads {@code path} until the cache answers it: a warm-up that does not depend on a 50 ms fill succeeding at
     * once on a busy machine.
     */
    private static void awaitCached(Http http, String path) {
        StorefrontFixture.await(path + " is cached", Duration.ofSeconds(10),
                () -> StorefrontHeaders.CACHE.equals(http.get(path).header(StorefrontHeaders.SERVED_BY)));
    }

    private static Timed timed(Http http, String method, String path, String body) {
        long started = System.nanoTime();
        Http.Response r = method.equals("GET") ? http.get(path) : http.put(path, body);
        return new Timed(r, (System.nanoTime() - started) / 1_000_000);
    }

    @Test
    void aBlackHoledCacheWithFallbackIsAnsweredQuicklyByTheDatabase() throws IOException {
        Http http = throughProxy(b -> b.cacheTimeoutMs(50).cacheOnError(CacheOnError.FALLBACK));
        int version = http.get("/users/50").json().get("version").asInt();
        awaitCached(http, "/users/50");

        blackHole();
        for (int i = 0; i < 5; i++) {
            Timed read = timed(http, "GET", "/products/51", null);
            assertEquals(200, read.response().status(), read.response().body());
            assertEquals("primary", read.response().header(StorefrontHeaders.SERVED_BY), "the database answered");
            assertTrue(read.millis() >= 45, "waited for the cache first: " + read.millis() + " ms");
            assertTrue(read.millis() < QUICK_MS, "within the cache timeout and a database read: " + read.millis() + " ms");
        }
        assertEquals(5, metric(http, lookups(Kind.PRODUCT, "error")));
        assertEquals(0, metric(http, CacheMeters.series(CacheMeters.FILLS, CacheMeters.KIND, "product",
                CacheMeters.OUTCOME, "error")), "no fill is tried on a cache that has just failed");
        assertEquals(5, metric(http, CacheAsideTest.databaseReads(Kind.PRODUCT)));

        Timed write = timed(http, "PUT", "/users/50", "{\"name\": \"Fifty v2\"}");
        assertEquals(200, write.response().status(), "the write stands although its delete failed");
        assertTrue(write.millis() < QUICK_MS, write.millis() + " ms");
        assertEquals(1, metric(http, invalidations("error")));

        Http.Response meanwhile = http.get("/users/50");
        assertEquals("primary", meanwhile.header(StorefrontHeaders.SERVED_BY), "its delete is pending: the database");
        assertEquals(version + 1, meanwhile.json().get("version").asInt());

        heal(); // the embedded proxy closes the connections it corrupted
        awaitCached(http, "/products/52"); // used again, by itself
        // The old profile is still in Redis (the delete never reached it) until the retry deletes it.
        StorefrontFixture.await("the failed delete retried", Duration.ofSeconds(10),
                () -> metric(http, invalidations("deleted")) == 1);
        assertEquals(List.of(), redis.admin().keys(CacheKeys.user(50)), "the old profile is gone from the cache");
        awaitCached(http, "/users/50");
        assertEquals(version + 1, http.get("/users/50").json().get("version").asInt(), "refilled with the write");
        assertEquals(0, metric(http, invalidations("gave-up")));
    }

    @Test
    void aBlackHoledCacheWithFailIsA503NamingTheCache() throws IOException {
        Http http = throughProxy(b -> b.cacheTimeoutMs(50).cacheOnError(CacheOnError.FAIL));
        blackHole();
        Timed read = timed(http, "GET", "/products/53", null);
        assertEquals(503, read.response().status(), read.response().body());
        assertEquals("cache_unavailable", read.response().error());
        assertEquals(StorefrontHeaders.CACHE, read.response().json().get("pool").asText());
        assertTrue(read.response().json().get("message").asText().contains("cache"), read.response().body());
        assertEquals("1", read.response().header("Retry-After"));
        assertEquals("application/json", read.response().header("Content-Type"));
        assertTrue(read.millis() < QUICK_MS, read.millis() + " ms");
        assertEquals(1, metric(http, lookups(Kind.PRODUCT, "error")));
        assertEquals(0, metric(http, CacheAsideTest.databaseReads(Kind.PRODUCT)), "the database was not asked");
        assertEquals(200, http.get("/orders/1").status(), "reads that are not cached do not need the cache");
    }

    @Test
    void lettucesOwnTimeoutHoldsARequestOnABlackHoledCacheUntilItsBound() throws IOException {
        int requestTimeoutMs = 1000;
        Http http = throughProxy(b -> b.cacheTimeoutMs(60_000).requestTimeoutMs(requestTimeoutMs).poolTimeoutMs(500));
        assertEquals(200, http.get("/products/54").status());
        blackHole();
        Timed read = timed(http, "GET", "/products/55", null);
        assertEquals(503, read.response().status(), read.response().body());
        assertEquals("timeout", read.response().error(), "the request bound answered, not the cache timeout");
        assertTrue(read.millis() >= requestTimeoutMs - 50, read.millis() + " ms");
        assertEquals(0, metric(http, lookups(Kind.PRODUCT, "error")), "the lookup is still waiting");
    }

    /**
     * A cache known to be down refuses commands at once rather than queueing them until the cache timeout (4 s here,
     * so waiting would show); the first read may still meet a connection that has not noticed yet.
     */
    @Test
    void aStoppedCacheFallsBackAtOnceAndIsUsedAgainWhenItIsBack() {
        int cacheTimeoutMs = 4000;
        Http http = new Http(fixture.app(b -> b.routing(Routing.PRIMARY).cacheUrl(redis.url())
                .cacheTimeoutMs(cacheTimeoutMs)).url());
        awaitCached(http, "/products/60");

        redis.stop();
        for (int i = 0; i < 4; i++) {
            Timed read = timed(http, "GET", "/products/60", null);
            assertEquals(200, read.response().status(), read.response().body());
            assertEquals("primary", read.response().header(StorefrontHeaders.SERVED_BY));
            assertTrue(read.millis() < (i == 0 ? cacheTimeoutMs : 0) + QUICK_MS, "read " + i + ": " + read.millis()
                    + " ms");
        }
        assertTrue(metric(http, lookups(Kind.PRODUCT, "error")) >= 3);

        redis.restart(); // cold: every key gone
        awaitCached(http, "/products/60"); // the restarted cache, used again by itself
    }

    @Test
    void theStorefrontStartsWithoutACacheThatIsDownAndConnectsWhenItComesUp() {
        redis.stop();
        List<String> warnings = new ArrayList<>();
        CacheAside.start(redis.url(), 50, warnings::add).close();
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).startsWith("the cache at " + redis.url() + " does not answer (")
                && warnings.get(0).contains("refused") && warnings.get(0).endsWith("starting without it: reads use the "
                + "database until it does."), "a refused cache is known at once, not waited for: " + warnings);

        Http http = new Http(fixture.app(b -> b.routing(Routing.PRIMARY).cacheUrl(redis.url())).url());
        Http.Response read = http.get("/users/62");
        assertEquals(200, read.status(), read.body());
        assertEquals("primary", read.header(StorefrontHeaders.SERVED_BY));
        assertEquals(1, metric(http, lookups(Kind.PROFILE, "error")));

        redis.restart();
        awaitCached(http, "/users/62"); // the cache that came up, connected to by itself
    }
}
