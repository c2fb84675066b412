package dev.doorbuster.load;

import static dev.doorbuster.load.ControlRuns.tail;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

import dev.doorbuster.app.StorefrontHeaders;
import dev.doorbuster.chaos.FaultTimeline;
import dev.doorbuster.redis.RedisBinary;
import dev.doorbuster.tools.Required;
import dev.doorbuster.verdict.CacheChecks;
import dev.doorbuster.verdict.CheckResult;
import dev.doorbuster.verdict.consistency.CacheStaleness;
import dev.doorbuster.verdict.consistency.Guarantee;
import dev.doorbuster.verdict.consistency.SessionReport;
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
        ForkedGatling.Result run = ForkedGatling.run("CacheOutageSimulation", reports, home, blackHoleRun(Map.of(
                "app.cacheTimeoutMs", "60000")));
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
        ForkedGatling.Result run = ForkedGatling.run("CacheOutageSimulation", reports, home, blackHoleRun(Map.of()));
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

    /** The cache's TTL of the invalidation control, and the oracle of how long a stale profile can be served. */
    private static final long TTL_MS = 30_000;
    /** The refill controls' TTL: shorter, to keep them short; what they tell apart is the TTL from the lag. */
    private static final long REFILL_TTL_MS = 10_000;
    /** Their replication lag: the refill from a replica is stale for the TTL, not for this. */
    private static final long LAG_MS = 1_000;

    /**
     * Writes that never delete their cached copy: the shopper's own new profile is hidden behind the cached one until
     * it expires. Oracles: the client's own history (every stale read it saw, counted by this test) and the TTL (the
     * stalest read comes near it: the profile was cached just before it was changed, and visited for longer).
     */
    @Test
    void aCacheThatIsNeverInvalidatedHidesTheShoppersOwnWritesForItsTtl() throws Exception {
        ForkedGatling.Result run = ForkedGatling.run("CacheConsistencySimulation", reports, home,
                consistencyRun("none", "primary", TTL_MS));
        assertEquals(2, run.exitCode(), tail(run));
        CheckResult later = run.check("read-your-writes (later)").orElseThrow(() -> new AssertionError(tail(run)));
        CheckResult immediate = run.check("read-your-writes (immediate)").orElseThrow();
        assertFalse(later.pass(), later.line());
        ControlRuns.HistoryCount client = ControlRuns.HistoryCount.of(ControlRuns.reportFile(reports, Run.HISTORY_FILE));
        client.assertAgrees(client.readYourWrites(), immediate.actual() + later.actual(),
                immediate.line() + " / " + later.line());
        for (SessionReport.Witness w : run.verdict().sessions().result(Guarantee.READ_YOUR_WRITES_LATER).witnesses()) {
            assertTrue(w.servedBy().startsWith(StorefrontHeaders.CACHE), "the cache answered the stale read: " + w);
        }
        CheckResult staleness = run.check(CacheStaleness.CHECK).orElseThrow(() -> new AssertionError(tail(run)));
        assertFalse(staleness.pass(), staleness.line());
        assertTrue(staleness.actual() >= 0.8 * TTL_MS && staleness.actual() <= TTL_MS + 1_000,
                "the stalest read comes near the TTL: " + staleness.line());
    }

    /**
     * Writes delete their key, but a miss is refilled through the read routing from a replica a second behind: the
     * old profile goes back into the cache right after the delete and stays for the whole TTL. Oracles: the TTL and
     * the schedule's lag (the stalest read is near the former, far beyond the latter).
     */
    @Test
    void aCacheRefilledFromALaggingReplicaKeepsTheOldStateForTheTtlNotTheLag() throws Exception {
        ForkedGatling.Result run = ForkedGatling.run("CacheConsistencySimulation", reports, home,
                consistencyRun("delete-after-commit", "reader", REFILL_TTL_MS));
        assertEquals(2, run.exitCode(), tail(run));
        CheckResult staleness = run.check(CacheStaleness.CHECK).orElseThrow(() -> new AssertionError(tail(run)));
        assertFalse(staleness.pass(), staleness.line());
        assertTrue(staleness.actual() >= 0.8 * REFILL_TTL_MS, "stale for about the TTL: " + staleness.line());
        assertTrue(staleness.actual() > 5 * LAG_MS, "not for about the lag: " + staleness.line());
        CacheStaleness measured = run.verdict().cacheStaleness();
        assertTrue(measured.staleReads() > 0 && measured.witnesses().get(0).servedBy().startsWith(StorefrontHeaders.CACHE),
                "its witnesses were answered by the cache: " + measured);
    }

    /** The known-good twin of both: deleted after the commit, refilled from the primary, under the same lag. */
    @Test
    void aCacheInvalidatedAfterTheCommitAndRefilledFromThePrimaryPasses() throws Exception {
        ForkedGatling.Result run = ForkedGatling.run("CacheConsistencySimulation", reports, home,
                consistencyRun("delete-after-commit", "primary", REFILL_TTL_MS));
        assertEquals(0, run.exitCode(), tail(run));
        CheckResult staleness = run.check(CacheStaleness.CHECK).orElseThrow(() -> new AssertionError(tail(run)));
        assertTrue(staleness.pass(), staleness.line());
        assertTrue(run.verdict().cacheStaleness().cacheReads() > 100, "the cache answered the visits: "
                + run.verdict().cacheStaleness());
    }

    /**
     * The black-hole runs: the shared machine's latency budgets, but the one during the fault, which is their subject.
     */
    private static Map<String, String> blackHoleRun(Map<String, String> more) {
        Map<String, String> run = new java.util.HashMap<>(ControlRuns.sharedMachineLatencyBudgets());
        run.put("load.minutes", "0.35");
        run.put(dev.doorbuster.topology.SloBudget.P99_MS_DURING_FAULTS.path(), P99_DURING_FAULTS_MS);
        run.putAll(more);
        return run;
    }

    /**
     * The consistency runs: every read of the replica is naive ({@code replica} routing), commits do not wait for it,
     * the abort rule is off (a known-bad run's stale reads are KOs for most of it: it must still run its course), the
     * latency budgets are the shared machine's (a cold storefront's first requests on a busy machine are not the
     * subject), and each shopper keeps visiting their profile a fifth longer than the TTL.
     */
    private static Map<String, String> consistencyRun(String invalidation, String refill, long ttlMs) {
        // The staleness budget is the default one (the lag the probes measured + the grace): the derivation is judged
        // too, including through the runs' quiet tail, where the shoppers only read.
        Map<String, String> run = new java.util.HashMap<>(ControlRuns.sharedMachineLatencyBudgets());
        run.putAll(Map.of("load.minutes", "0.35",
                "app.cacheInvalidation", invalidation, "app.cacheRefill", refill, "app.routing", "replica",
                "app.cacheTtlMs", Long.toString(ttlMs), "lag.ms", Long.toString(LAG_MS),
                "postgres.synchronousCommit", "off", "slo.abortAfterSeconds", "0"));
        run.put("revisit.seconds", Long.toString(ttlMs * 6 / 5 / 1000));
        return run;
    }

    /**
     * The hot-key runs: the TTL outlives the run (only the fault expires keys); a cache timeout that a busy machine
     * does not reach (a lookup that times out reads the database too, which is not what these runs count); and the
     * primary's data folder is kept for the statement count.
     */
    private static Map<String, String> hotKeyRun(String stampede) {
        Map<String, String> run = new java.util.HashMap<>(ControlRuns.sharedMachineLatencyBudgets());
        run.putAll(Map.of("load.minutes", "0.35", "app.cacheStampede", stampede, "app.cacheTtlMs", "600000",
                "app.cacheTimeoutMs", "2000", "postgres.keepData", "true"));
        return run;
    }

    /** The oracle's premise: every database read of a product page was a fill or an expiry's rebuild. */
    private static void assertNoCacheErrors(ForkedGatling.Result run) {
        CacheChecks.Report cache = run.verdict().cache();
        assertEquals(0, cache.lookupErrors(), "no lookup failed, so no read went to the database for that: " + cache
                + "\n" + tail(run));
    }
}
