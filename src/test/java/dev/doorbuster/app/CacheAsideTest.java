package dev.doorbuster.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;

import dev.doorbuster.app.CacheMeters.Kind;
import dev.doorbuster.app.StorefrontConfig.CacheInvalidation;
import dev.doorbuster.app.StorefrontConfig.CacheRefill;
import dev.doorbuster.app.StorefrontConfig.Routing;
import dev.doorbuster.redis.RedisAdmin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The cache-aside tier on a real Redis and a real primary + replica: hits and misses say who answered, the storefront's
 * meters agree with Redis's own statistics, writes delete what they changed (or, with invalidation off, leave it stale
 * until the TTL), and a refill from a lagging replica caches the replica's stale row beyond the lag itself.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CacheAsideTest {
    private RedisFixture redis;
    private StorefrontFixture fixture;

    @BeforeAll
    void start() {
        redis = RedisFixture.start("cache-aside");
        fixture = StorefrontFixture.start();
    }

    @AfterAll
    void stop() {
        try {
            if (fixture != null) {
                fixture.close();
            }
        } finally {
            if (redis != null) {
                redis.close();
            }
        }
    }

    /**
     * A storefront on the replica-routing policy with the cache. Its cache timeout is generous: these tests are about
     * what is cached, and a 50 ms command can time out on a machine busy with other tests (CacheFailureTest is about
     * timeouts).
     */
    private Http app(java.util.function.UnaryOperator<StorefrontConfig.Builder> changes) {
        return new Http(fixture.app(b -> changes.apply(b.routing(Routing.REPLICA).cacheUrl(redis.url())
                .cacheTimeoutMs(2000))).url());
    }

    @Test
    void aMissIsReadFromTheDatabaseCachedAsTheExactAnswerAndThenHitAndRedisAgrees() {
        redis.admin().flushAll();
        Http http = app(b -> b);
        long cart = http.post("/carts", "{\"userId\": 11}").json().get("id").asLong();
        RedisAdmin.Stats before = redis.admin().stats();
        record Read(Kind kind, String path, String key) {
        }
        List<Read> reads = List.of(new Read(Kind.PRODUCT, "/products/5", CacheKeys.product(5)),
                new Read(Kind.CATEGORY, "/products?category=toys&after=10&limit=5",
                        CacheKeys.listing("toys", 10, 5)),
                new Read(Kind.CART, "/carts/" + cart, CacheKeys.cart(cart)),
                new Read(Kind.PROFILE, "/users/12", CacheKeys.user(12)));
        for (Read read : reads) {
            Http.Response miss = http.get(read.path());
            assertEquals(200, miss.status(), miss.body());
            assertEquals("primary", miss.header(StorefrontHeaders.SERVED_BY), "a miss says which database answered");
            assertEquals("writer", miss.header(StorefrontHeaders.SERVED_BY_POOL), "refilled from the primary");
            assertEquals(List.of(read.key()), redis.admin().keys(read.key()), "cached under " + read.key());
            for (int i = 0; i < 2; i++) {
                Http.Response hit = http.get(read.path());
                assertEquals(200, hit.status(), hit.body());
                assertEquals(StorefrontHeaders.CACHE, hit.header(StorefrontHeaders.SERVED_BY));
                assertEquals(StorefrontHeaders.CACHE, hit.header(StorefrontHeaders.SERVED_BY_POOL));
                assertEquals("application/json", hit.header("Content-Type"));
                assertEquals(miss.body(), hit.body(), "a hit answers exactly what the miss answered");
            }
            assertEquals(1, metric(http, lookups(read.kind(), "miss")), read.toString());
            assertEquals(2, metric(http, lookups(read.kind(), "hit")), read.toString());
            assertEquals(0, metric(http, lookups(read.kind(), "error")), read.toString());
            assertEquals(1, metric(http, CacheMeters.series(CacheMeters.FILLS, CacheMeters.KIND, read.kind().tag(),
                    CacheMeters.OUTCOME, "ok")), read.toString());
            assertEquals(1, metric(http, databaseReads(read.kind())), "one database read for three requests");
        }
        // Redis's own account of the same lookups: the oracle the harness's cache checks use.
        RedisAdmin.Stats after = redis.admin().stats();
        assertEquals(reads.size(), after.keyspaceMisses() - before.keyspaceMisses(), "Redis saw one miss per read");
        assertEquals(2L * reads.size(), after.keyspaceHits() - before.keyspaceHits(), "and two hits");
        // The other pages of the listing are other keys.
        assertEquals("primary", http.get("/products?category=toys&after=10&limit=6").header(StorefrontHeaders.SERVED_BY));
        assertEquals("primary", http.get("/products?after=10&limit=5").header(StorefrontHeaders.SERVED_BY));
    }

    @Test
    void notFoundIsNeverCachedAndOrdersAreNotCachedAtAll() {
        Http http = app(b -> b);
        for (int i = 0; i < 2; i++) {
            Http.Response missing = http.get("/products/987654321");
            assertEquals(404, missing.status(), missing.body());
            assertEquals("primary", missing.header(StorefrontHeaders.SERVED_BY));
        }
        assertEquals(List.of(), redis.admin().keys(CacheKeys.product(987654321)));
        assertEquals(2, metric(http, lookups(Kind.PRODUCT, "miss")));
        assertEquals(2, metric(http, databaseReads(Kind.PRODUCT)));

        long order = http.post("/orders", "{\"userId\": 13, \"items\": [{\"productId\": 14, \"quantity\": 1}]}").json()
                .get("id").asLong();
        // No key added: a count could drop meanwhile, when another test's cached entry reaches its TTL.
        java.util.Set<String> keys = new java.util.HashSet<>(redis.admin().keys("*"));
        assertEquals(200, http.get("/orders/" + order).status());
        assertEquals(200, http.get("/users/13/orders").status());
        List<String> added = redis.admin().keys("*").stream().filter(k -> !keys.contains(k)).toList();
        assertEquals(List.of(), added, "order reads leave the cache alone");
        assertEquals(0, metric(http, lookups(Kind.PROFILE, "miss")) + metric(http, lookups(Kind.PROFILE, "hit")));
    }

    @Test
    void deleteAfterCommitShowsAProfileUpdateAtOnce() {
        Http http = app(b -> b.cacheInvalidation(CacheInvalidation.DELETE_AFTER_COMMIT));
        int version = http.get("/users/20").json().get("version").asInt();
        assertEquals(StorefrontHeaders.CACHE, http.get("/users/20").header(StorefrontHeaders.SERVED_BY));

        Http.Response written = http.put("/users/20", "{\"name\": \"Twenty v2\"}");
        assertEquals(200, written.status(), written.body());
        assertEquals(version + 1, written.json().get("version").asInt());
        assertEquals(List.of(), redis.admin().keys(CacheKeys.user(20)), "deleted by the write");

        Http.Response read = http.get("/users/20");
        assertEquals("primary", read.header(StorefrontHeaders.SERVED_BY), "a miss, refilled from the primary");
        assertEquals(version + 1, read.json().get("version").asInt());
        Http.Response hit = http.get("/users/20");
        assertEquals(StorefrontHeaders.CACHE, hit.header(StorefrontHeaders.SERVED_BY));
        assertEquals("Twenty v2", hit.json().get("name").asText());
        assertEquals(1, metric(http, invalidations("deleted")));
    }

    /**
     * A delete that Redis refuses (its own ACL takes DEL from the storefront's user, a real failure of the command):
     * the write is answered, the old copy stays in Redis, yet every read of it meanwhile comes from the database; once
     * DEL is allowed again the retry removes the copy, counted as deleted.
     */
    @Test
    void aDeleteThatFailsIsRetriedAndUntilThenTheKeyIsReadFromTheDatabase() {
        Http http = app(b -> b.cacheInvalidation(CacheInvalidation.DELETE_AFTER_COMMIT));
        int version = http.get("/users/24").json().get("version").asInt();
        assertEquals(StorefrontHeaders.CACHE, http.get("/users/24").header(StorefrontHeaders.SERVED_BY));

        allowDeletes(false);
        try {
            Http.Response written = http.put("/users/24", "{\"name\": \"Twenty-four v2\"}");
            assertEquals(200, written.status(), "the write stands although its delete failed: " + written.body());
            assertEquals(1, metric(http, invalidations("error")));
            assertEquals(List.of(CacheKeys.user(24)), redis.admin().keys(CacheKeys.user(24)), "the old copy is cached");
            for (int i = 0; i < 3; i++) {
                Http.Response read = http.get("/users/24");
                assertEquals("primary", read.header(StorefrontHeaders.SERVED_BY), "read " + i + ": not the old copy");
                assertEquals(version + 1, read.json().get("version").asInt());
            }
            assertEquals(0, metric(http, invalidations("deleted")), "still refused");
        } finally {
            allowDeletes(true);
        }
        StorefrontFixture.await("the delete retried", Duration.ofSeconds(10),
                () -> metric(http, invalidations("deleted")) == 1);
        assertEquals(List.of(), redis.admin().keys(CacheKeys.user(24)));
        Http.Response refilled = http.get("/users/24");
        assertEquals("primary", refilled.header(StorefrontHeaders.SERVED_BY), "a miss");
        Http.Response hit = http.get("/users/24");
        assertEquals(StorefrontHeaders.CACHE, hit.header(StorefrontHeaders.SERVED_BY), "cached again");
        assertEquals(version + 1, hit.json().get("version").asInt());
        assertEquals(0, metric(http, invalidations("gave-up")));
    }

    /** Grants or takes away the DEL command of Redis's default user (the one every client here logs in as). */
    private void allowDeletes(boolean allowed) {
        io.lettuce.core.RedisClient client = io.lettuce.core.RedisClient.create(redis.url());
        try (var connection = client.connect()) {
            io.lettuce.core.protocol.CommandType del = io.lettuce.core.protocol.CommandType.DEL;
            connection.sync().aclSetuser("default", allowed ? io.lettuce.core.AclSetuserArgs.Builder.addCommand(del)
                    : io.lettuce.core.AclSetuserArgs.Builder.removeCommand(del));
        } finally {
            client.shutdown();
        }
    }

    @Test
    void withoutInvalidationAProfileUpdateStaysStaleUntilTheTtl() {
        int ttlMs = 1500;
        Http http = app(b -> b.cacheInvalidation(CacheInvalidation.NONE).cacheTtlMs(ttlMs));
        int version = http.get("/users/21").json().get("version").asInt();
        long cachedAt = System.nanoTime();

        assertEquals(200, http.put("/users/21", "{\"name\": \"Twenty-one v2\"}").status());
        Http.Response stale = http.get("/users/21");
        assertEquals(StorefrontHeaders.CACHE, stale.header(StorefrontHeaders.SERVED_BY));
        assertEquals(version, stale.json().get("version").asInt(), "the write deleted nothing: the old profile");
        assertEquals(0, metric(http, invalidations("deleted")) + metric(http, invalidations("absent")));

        StorefrontFixture.await("the cached profile expires", Duration.ofSeconds(10),
                () -> !StorefrontHeaders.CACHE.equals(http.get("/users/21").header(StorefrontHeaders.SERVED_BY)));
        long staleForMs = (System.nanoTime() - cachedAt) / 1_000_000;
        assertTrue(staleForMs >= ttlMs - 100, "stale for the TTL: " + staleForMs + " ms");
        assertEquals(version + 1, http.get("/users/21").json().get("version").asInt(), "fresh once expired");
    }

    @Test
    void cartWritesAndOrdersDeleteTheCopiesTheyChange() {
        Http http = app(b -> b);
        long cart = http.post("/carts", "{\"userId\": 30}").json().get("id").asLong();
        assertEquals(0, http.get("/carts/" + cart).json().get("items").size());
        assertEquals(201, http.post("/carts/" + cart + "/items", "{\"productId\": 31, \"quantity\": 2}").status());
        Http.Response filled = http.get("/carts/" + cart);
        assertEquals("primary", filled.header(StorefrontHeaders.SERVED_BY), "the item add deleted the cart");
        assertEquals(1, filled.json().get("items").size());

        int stock = http.get("/products/31").json().get("stock").asInt();
        assertEquals(StorefrontHeaders.CACHE, http.get("/products/31").header(StorefrontHeaders.SERVED_BY));
        assertEquals(StorefrontHeaders.CACHE, http.get("/carts/" + cart).header(StorefrontHeaders.SERVED_BY));
        String listing = "/products?category=" + http.get("/products/31").json().get("category").asText()
                + "&after=30&limit=1";
        assertEquals(stock, http.get(listing).json().get("products").get(0).get("stock").asInt());

        assertEquals(201, http.post("/orders", "{\"cartId\": " + cart + "}").status());
        Http.Response product = http.get("/products/31");
        assertEquals("primary", product.header(StorefrontHeaders.SERVED_BY), "the order deleted the product");
        assertEquals(stock - 2, product.json().get("stock").asInt());
        assertEquals("checked_out", http.get("/carts/" + cart).json().get("status").asText(), "and the cart");
        Http.Response page = http.get(listing);
        assertEquals(StorefrontHeaders.CACHE, page.header(StorefrontHeaders.SERVED_BY));
        assertEquals(stock, page.json().get("products").get(0).get("stock").asInt(),
                "pages are refreshed by their TTL only: the old stock");
    }

    @Test
    void aRefillFromALaggingReplicaCachesItsStaleRowBeyondTheLag() {
        Http fromReader = app(b -> b.cacheRefill(CacheRefill.READER));
        Http fromPrimary = app(b -> b.cacheRefill(CacheRefill.PRIMARY));
        int forty;
        fixture.replica().execute("SELECT pg_wal_replay_pause()");
        try {
            StorefrontFixture.await("replay paused", Duration.ofSeconds(10), () -> "paused".equals(
                    fixture.replica().queryValue("SELECT pg_get_wal_replay_pause_state()", String.class)));
            Http.Response viaReader = fromReader.put("/users/40", "{\"name\": \"Forty v2\"}");
            Http.Response viaPrimary = fromPrimary.put("/users/41", "{\"name\": \"Forty-one v2\"}");
            forty = viaReader.json().get("version").asInt();
            int fortyOne = viaPrimary.json().get("version").asInt();

            Http.Response stale = fromReader.get("/users/40");
            assertEquals("replica", stale.header(StorefrontHeaders.SERVED_BY), "refilled through the routing");
            assertEquals(forty - 1, stale.json().get("version").asInt(), "the replica has not replayed the write");
            Http.Response fresh = fromPrimary.get("/users/41");
            assertEquals("primary", fresh.header(StorefrontHeaders.SERVED_BY));
            assertEquals(fortyOne, fresh.json().get("version").asInt());
        } finally {
            fixture.replica().execute("SELECT pg_wal_replay_resume()");
        }
        fixture.cluster.awaitCaughtUp(fixture.replica(), Duration.ofSeconds(15));
        assertEquals(forty, fixture.value(fixture.replica(), Integer.class, "SELECT version FROM users WHERE id = 40"),
                "the replica has caught up");
        Http.Response stillStale = fromReader.get("/users/40");
        assertEquals(StorefrontHeaders.CACHE, stillStale.header(StorefrontHeaders.SERVED_BY));
        assertEquals(forty - 1, stillStale.json().get("version").asInt(),
                "the cache keeps what the lagging replica had, after the lag is gone");
        Http.Response stillFresh = fromPrimary.get("/users/41");
        assertEquals(StorefrontHeaders.CACHE, stillFresh.header(StorefrontHeaders.SERVED_BY));
        assertEquals(fixture.value(fixture.primary(), Integer.class, "SELECT version FROM users WHERE id = 41"),
                stillFresh.json().get("version").asInt());
        assertEquals(1, metric(fromReader, "storefront_read_routing_total{decision=\"replica\",policy=\"replica\"}"),
                "the reader refill was the routing's decision");
        assertEquals(0, metric(fromPrimary, "storefront_read_routing_total{decision=\"replica\",policy=\"replica\"}"),
                "the primary refill bypassed the routing");
    }

    static String lookups(Kind kind, String outcome) {
        return CacheMeters.series(CacheMeters.LOOKUPS, CacheMeters.KIND, kind.tag(), CacheMeters.OUTCOME, outcome);
    }

    static String databaseReads(Kind kind) {
        return CacheMeters.series(CacheMeters.DATABASE_READS, CacheMeters.KIND, kind.tag());
    }

    static String invalidations(String outcome) {
        return CacheMeters.series(CacheMeters.INVALIDATIONS, CacheMeters.OUTCOME, outcome);
    }

    static double metric(Http http, String series) {
        return Http.metric(http.get("/metrics").body(), series);
    }
}
