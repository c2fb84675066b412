package dev.doorbuster.load;

import static dev.doorbuster.load.ControlRuns.tail;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

import dev.doorbuster.chaos.FaultTimeline;
import dev.doorbuster.redis.RedisBinary;
import dev.doorbuster.tools.Required;
import dev.doorbuster.verdict.CacheChecks;
import dev.doorbuster.verdict.CheckResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * The cache tier's controls: each a short real run on the local topology with a real Redis behind the chaos proxy,
 * a known-bad setting that must fail with the count an independent witness gives, and its known-good twin that must
 * pass. They count (database reads, Redis's own statistics, the fault schedule); none times a budget that a busy
 * machine could break, beyond the one the bad setting breaks by seconds.
 */
@Execution(ExecutionMode.CONCURRENT)
class CacheControlsIT {
    /** Both twins of the black hole are judged on this P99 while a fault is on: the bad one misses it by seconds. */
    private static final String P99_DURING_FAULTS_MS = "1000";
    /**
     * And on this one outside the faults, for both: what they are about is the outage, and with three runs sharing two
     * cores a cold storefront's first request of the run (the only one over a second, in a baseline of some thirty)
     * must not decide the known-good twin.
     */
    private static final String P99_MS = "3000";
    /** The product page query, as {@code pg_stat_statements} normalises it. */
    private static final String PRODUCT_QUERY = "FROM products WHERE id = $1";

    @TempDir
    Path reports;
    private Path home;

    @BeforeEach
    void ownHomeAndRedis() throws IOException {
        Required.assume(RedisBinary.available(), RedisBinary.missingMessage());
        home = ControlRuns.newHome("doorbuster-cache-controls-");
    }

    @AfterEach
    void nothingIsLeftRunning() throws IOException {
        if (home != null) {
            ControlRuns.assertNothingLeftRunning(home);
        }
    }

    /**
     * A black-holed cache and the client library's own command timeout (Lettuce: a minute): every request that asks
     * the cache waits until the black hole ends. The oracle is the fault schedule: the outage's own length (from the
     * timeline's inject and heal), which the worst of those waits comes close to.
     */
    @Test
    void aBlackHoledCacheWithTheClientLibrarysDefaultTimeoutHangsTheShoppers() throws Exception {
        ForkedGatling.Result run = ForkedGatling.run("CacheOutageSimulation", reports, home, Map.of(
                "load.minutes", "0.5", "app.cacheTimeoutMs", "60000",
                "slo.p99MsDuringFaults", P99_DURING_FAULTS_MS, "slo.p99Ms", P99_MS));
        assertEquals(2, run.exitCode(), "assertions must fail the run\n" + tail(run));
        FaultTimeline.Window outage = FaultTimeline.of(run.verdict().timeline()).windows().stream()
                .filter(w -> w.fault().endsWith("CacheBlackhole")).findFirst().orElseThrow();
        CheckResult during = run.check("p99 during " + outage.fault()).orElseThrow(() -> new AssertionError(tail(run)));
        assertFalse(during.pass(), during.line());
        long outageMs = (outage.toSecond() - outage.fromSecond()) * 1000L;
        assertTrue(during.actual() >= outageMs / 2.0, "requests held for most of the " + outageMs + " ms outage: "
                + during.line());
        assertTrue(during.actual() <= outageMs + 2000, "no longer than the outage (and a second's rounding): "
                + during.line());
    }

    /**
     * The same outage with a 50 ms cache timeout and a fallback to the database: the shoppers do not notice, and the
     * database takes the reads the cache absorbed. The oracle of that amplification is Redis's own {@code INFO stats}
     * (hits per second before the fault): the database must take at least those on top of its own reads.
     */
    @Test
    void aBlackHoledCacheWithAShortTimeoutAndFallbackPassesAndTheDatabaseTakesItsReads() throws Exception {
        ForkedGatling.Result run = ForkedGatling.run("CacheOutageSimulation", reports, home, Map.of(
                "load.minutes", "0.5", "slo.p99MsDuringFaults", P99_DURING_FAULTS_MS, "slo.p99Ms", P99_MS));
        assertEquals(0, run.exitCode(), "a cache that fails fast is survived\n" + tail(run));
        CacheChecks.Report cache = run.verdict().cache();
        assertTrue(cache != null && cache.amplifications().size() == 1, tail(run));
        CacheChecks.Amplification a = cache.amplifications().get(0);
        assertTrue(a.redisHitsPerSecondBefore() > 0, "Redis absorbed reads before the fault: " + a);
        double predicted = 1 + a.redisHitsPerSecondBefore() / a.readsPerSecondBefore();
        assertTrue(a.ratio() >= 0.8 * predicted, "the database took the reads the cache had absorbed: "
                + a.ratio() + "× against " + predicted + "× from Redis's own hits (" + a + ")");
        assertTrue(cache.lookupErrors() > 0, "the black hole was felt as cache errors, answered from the database");
        CheckResult warm = run.check(CacheChecks.TIME_TO_WARM).orElseThrow(() -> new AssertionError(tail(run)));
        assertTrue(warm.pass(), warm.line());
    }

    /**
     * Two hot keys expire at peak while the database is slow, without stampede protection: every request for them
     * in that moment reads the database. The oracle is PostgreSQL's own statement count ({@code pg_stat_statements}
     * on the kept primary): the product page query ran once per key to fill the cold cache, and the rest of its runs
     * are the origin fetches of the expiry.
     */
    @Test
    void hotKeysExpiringWithoutStampedeProtectionHerdTheDatabase() throws Exception {
        ForkedGatling.Result run = ForkedGatling.run("HotKeyExpirySimulation", reports, home, hotKeyRun("none"));
        assertEquals(2, run.exitCode(), tail(run));
        CheckResult fetches = run.check(CacheChecks.ORIGIN_FETCHES).orElseThrow(() -> new AssertionError(tail(run)));
        assertFalse(fetches.pass(), fetches.line());
        assertTrue(fetches.actual() > 5, "a stampede: " + fetches.line());
        assertNoCacheErrors(run);
        CacheChecks.Expiry expiry = run.verdict().cache().expiries().get(0);
        long calls = ControlRuns.statementCalls(home, PRODUCT_QUERY);
        long afterTheColdFill = calls - expiry.keys();
        assertTrue(afterTheColdFill >= 5L * expiry.keys(), "the database saw the herd: " + calls + " runs of the "
                + "product query for " + expiry.keys() + " keys");
        assertTrue(expiry.originFetches() <= afterTheColdFill, "the check never counts more reads than the database "
                + "ran: " + expiry.originFetches() + " > " + afterTheColdFill);
    }

    /** The same with single-flight: one database read per key per expiry, by the check and by the database. */
    @Test
    void hotKeysExpiringWithSingleFlightCostOneReadEach() throws Exception {
        ForkedGatling.Result run = ForkedGatling.run("HotKeyExpirySimulation", reports, home,
                hotKeyRun("single-flight"));
        CheckResult fetches = run.check(CacheChecks.ORIGIN_FETCHES).orElseThrow(() -> new AssertionError(tail(run)));
        assertTrue(fetches.pass(), fetches.line());
        assertNoCacheErrors(run);
        CacheChecks.Expiry expiry = run.verdict().cache().expiries().get(0);
        assertEquals(2, expiry.keys(), "both hot keys were cached when they expired");
        long calls = ControlRuns.statementCalls(home, PRODUCT_QUERY);
        assertTrue(calls - expiry.keys() <= 2L * expiry.keys(), "the database ran the product query " + calls
                + " times: one cold fill and at most two rebuilds per key");
        assertEquals(0, run.exitCode(), "nothing else suffered\n" + tail(run));
    }

    /**
     * The hot-key runs: the TTL outlives the run (only the fault expires keys); a cache timeout that a busy machine
     * does not reach (a lookup that times out reads the database too, which is not what these runs count); and the
     * primary's data folder is kept for the statement count.
     */
    private static Map<String, String> hotKeyRun(String stampede) {
        return Map.of("load.minutes", "0.5", "app.cacheStampede", stampede, "app.cacheTtlMs", "600000",
                "app.cacheTimeoutMs", "2000", "postgres.keepData", "true");
    }

    /** The oracle's premise: every database read of a product page was a fill or an expiry's rebuild. */
    private static void assertNoCacheErrors(ForkedGatling.Result run) {
        CacheChecks.Report cache = run.verdict().cache();
        assertEquals(0, cache.lookupErrors(), "no lookup failed, so no read went to the database for that: " + cache);
    }
}
