package dev.doorbuster.verdict;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.doorbuster.chaos.FaultEffect;
import dev.doorbuster.chaos.FaultTimeline;
import dev.doorbuster.topology.Environment;
import dev.doorbuster.topology.SloBudget;
import dev.doorbuster.verdict.consistency.CacheStaleness;
import dev.doorbuster.verdict.consistency.Guarantee;
import dev.doorbuster.verdict.consistency.SessionReport;
import dev.doorbuster.verdict.consistency.WriteLedger;
import dev.doorbuster.verdict.probes.ProbeSample;
import dev.doorbuster.verdict.probes.PrometheusText;
import dev.doorbuster.verdict.recording.LatencyRecorder;
import dev.doorbuster.verdict.report.ChaosReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The verdict's own logic, on recorded data: parsing, windows, checks, files. */
class VerdictLogicTest {
    private static final Environment.Slo SLO = Environment.Slo.defaults().with(SloBudget.P99_MS, 100)
            .with(SloBudget.P99_MS_PER_REQUEST, Map.of("checkout", 300)).with(SloBudget.P99_MS_DURING_FAULTS, 500);

    @TempDir
    Path dir;

    @Test
    void prometheusTextWithLabelsEscapesAndJunk() {
        PrometheusText text = PrometheusText.parse("""
                # HELP hikaricp_connections_active Active
                # TYPE hikaricp_connections_active gauge
                hikaricp_connections_active{pool="writer"} 3.0
                hikaricp_connections_active{pool="reader"} 2
                storefront_pool_exhausted_total{pool="writer",note="a \\"quoted\\" , comma"} 5 1700000000000
                broken_line_without_value
                bad{pool="x" 1
                nan_metric NaN
                """);
        assertEquals(5.0, text.sum("hikaricp_connections_active"));
        assertEquals(3.0, text.sum("hikaricp_connections_active", Map.of("pool", "writer")));
        assertEquals(5.0, text.sum("storefront_pool_exhausted_total", Map.of("note", "a \"quoted\" , comma")));
        assertTrue(Double.isNaN(text.sum("missing_metric")), "absent is NaN, not 0");
        assertEquals(4, text.samples().size(), "malformed lines are skipped: " + text.samples());
    }

    @Test
    void readerPoolFiguresSumEveryReaderPool() {
        PrometheusText several = PrometheusText.parse("""
                hikaricp_connections_active{pool="writer"} 7
                hikaricp_connections_active{pool="reader-1"} 2
                hikaricp_connections_active{pool="reader-2"} 3
                hikaricp_connections_active{pool="readers"} 100
                hikaricp_connections_active{pool="reader_x"} 100
                hikaricp_connections_idle{pool="reader-1"} 50
                """);
        assertEquals(5.0, several.sumFamily("hikaricp_connections_active", "pool", "reader"), "reader-N only");
        assertEquals(7.0, several.sumFamily("hikaricp_connections_active", "pool", "writer"));
        PrometheusText one = PrometheusText.parse("hikaricp_connections_active{pool=\"reader\"} 4\n");
        assertEquals(4.0, one.sumFamily("hikaricp_connections_active", "pool", "reader"), "the single pool");
        assertTrue(Double.isNaN(one.sumFamily("hikaricp_connections_pending", "pool", "reader")), "absent is NaN");
        assertTrue(Double.isNaN(PrometheusText.parse("x{other=\"reader\"} 1").sumFamily("x", "pool", "reader")));
    }

    @Test
    void recorderGivesExactWindowsAndCounts() {
        LatencyRecorder r = new LatencyRecorder(0);
        for (int s = 0; s < 10; s++) {
            r.record("browse", s, 1_000, true);              // 1 ms every second
            if (s == 5) {
                r.record("browse", s, 900_000, false);       // one 900 ms failure in second 5
            }
            if (s == 7) {
                r.record("checkout", s, 250_000, true);
            }
        }
        assertEquals(1, r.histogram("browse", 0, 5).getValueAtPercentile(99) / 1000);
        assertEquals(900, Math.round(r.histogram("browse", 5, 6).getMaxValue() / 1000.0 / 10) * 10);
        assertEquals(new LatencyRecorder.Counts(10, 1), r.counts("browse", 0, 10));
        assertEquals(12, r.counts(null, 0, 10).total());
        assertEquals(9, r.lastSecond());
        assertTrue(r.retainedBytes() > 0 && r.retainedBytes() < 10 * 1024, "closed seconds are compressed: "
                + r.retainedBytes() + " bytes");
    }

    @Test
    void judgeFailsEachKindOfSufferingAndNamesIt() {
        LatencyRecorder r = new LatencyRecorder(0);
        for (int s = 0; s < 20; s++) {
            for (int i = 0; i < 50; i++) {
                r.record("browse", s, s < 10 ? 20_000 : 400_000, true); // slow in the second phase
            }
        }
        r.record("checkout", 3, 200_000, false);
        FaultTimeline timeline = new FaultTimeline(System.nanoTime());
        timeline.add("F1 PrimaryFailover", FaultTimeline.Kind.EFFECT, "rto", new FaultEffect.Rto(Duration.ofSeconds(20), true));
        List<ProbeSample> probes = List.of(sample(0, 0), sample(19, 7));
        WriteLedger.Audit audit = new WriteLedger.Audit(List.of(new WriteLedger.KindAudit("order", 100, 2, 1, 0, 0, 0,
                List.of(new WriteLedger.Named("k7", "order:k7", 3, 4.2), new WriteLedger.Named("k9", "order:k9", 4, 4.9)),
                List.of())), null, java.util.Set.of("k7", "k9"));
        SessionReport sessions = new SessionReport(List.of(new SessionReport.GuaranteeResult(
                Guarantee.READ_YOUR_WRITES_IMMEDIATE, "read-your-writes (immediate)", 40, 3, 0, List.of(),
                Map.of(2, 2L, 15, 1L))), 0, List.of());
        List<CheckResult> checks = Judge.evaluate(new Judge.Facts(JudgingMode.STANDARD, SLO, 5000, r,
                List.of(new Phase("calm", 0, 10), new Phase("storm", 10, 20)), timeline, probes, sessions, 3, 0, audit,
                null, null));

        assertFailed(checks, "read-your-writes (immediate)", 3);
        assertTrue(find(checks, "read-your-writes (immediate)").detail().contains("at second(s) 2, 15"),
                find(checks, "read-your-writes (immediate)").detail());
        assertFailed(checks, "pool exhaustion", 7);
        assertFailed(checks, "p99 during storm", 400);
        assertPassed(checks, "p99 during calm");
        assertPassed(checks, "p99 checkout"); // its own budget (300 ms), not the global 100 ms
        assertFailed(checks, "failover RTO (F1 PrimaryFailover)", 20_000);
        assertFailed(checks, "lost acknowledged writes", 2);
        assertPassed(checks, "error rate");
        assertTrue(checks.stream().noneMatch(c -> c.name().equals("p99 drift")), "drift only for soaks");
    }

    /**
     * A leading warm-up phase (a capacity plateau's) is not judged for latency, errors or pool exhaustion: a cold
     * start's slow, failing first seconds fail nothing, the seconds after it are judged as usual, and its writes are audited as any.
     */
    @Test
    void aWarmUpIsNotJudgedForLatencyOrErrorsButTheSecondsAfterItAre() {
        LatencyRecorder r = new LatencyRecorder(0);
        for (int s = 0; s < 20; s++) {
            for (int i = 0; i < 50; i++) {
                r.record("browse", s, s < 5 ? 2_000_000 : 20_000, s >= 5 || i % 2 == 0); // cold: 2 s, half failing
            }
        }
        List<Phase> plateau = List.of(new Phase(Phase.WARM_UP, 0, 5), new Phase("plateau", 5, 20));
        // Cold pools: 5 'pool exhausted' answers in the warm-up, none after it.
        List<ProbeSample> coldPools = List.of(sample(0, 0), sample(4, 5), sample(19, 5));
        List<CheckResult> checks = Judge.evaluate(new Judge.Facts(JudgingMode.STANDARD, SLO, 5000, r, plateau,
                new FaultTimeline(System.nanoTime()), coldPools, null, 0, 0, null, null, null));
        assertPassed(checks, "pool exhaustion");
        assertTrue(find(checks, "pool exhaustion").detail().endsWith("after the warm-up (seconds 5-)"),
                find(checks, "pool exhaustion").detail());
        assertPassed(checks, "p99");
        assertTrue(find(checks, "p99").detail().contains("seconds 5-20"), find(checks, "p99").detail());
        assertTrue(find(checks, "error rate").detail().endsWith("after the warm-up (seconds 5-20)"),
                find(checks, "error rate").detail());
        assertPassed(checks, "error rate");
        assertEquals(0, find(checks, "error rate").actual());
        assertPassed(checks, "p99 during plateau");
        assertTrue(checks.stream().noneMatch(c -> c.name().equals("p99 during " + Phase.WARM_UP)), "not judged at all");
        assertTrue(checks.stream().filter(c -> c.name().startsWith("p99 ≤") || c.name().startsWith("error rate ≤"))
                .allMatch(CheckResult::pass), "the windowed checks count the seconds after it");

        // The same seconds without the warm-up: judged, and failing.
        List<CheckResult> unwarmed = Judge.evaluate(new Judge.Facts(JudgingMode.STANDARD, SLO, 5000, r,
                List.of(new Phase("plateau", 0, 20)), new FaultTimeline(System.nanoTime()), coldPools, null, 0, 0, null,
                null, null));
        assertFailed(unwarmed, "p99", 2000);
        assertFailed(unwarmed, "pool exhaustion", 5);
        assertFalse(find(unwarmed, "error rate").pass());
    }

    /**
     * A failover makes requests wait out HikariCP's connection timeout for a database that is gone: HikariCP
     * counts those as timeouts, the storefront answers them 503 database_unavailable. Only the application's own
     * "pool exhausted" count is exhaustion; HikariCP's counter alone is the fallback for an application without it.
     */
    @Test
    void waitsForAnUnreachableDatabaseAreNotPoolExhaustion() {
        LatencyRecorder r = new LatencyRecorder(0);
        for (int s = 0; s < 20; s++) {
            r.record("browse", s, 5_000, true);
        }
        java.util.function.Function<List<ProbeSample>, CheckResult> judge = probes -> find(Judge.evaluate(
                new Judge.Facts(JudgingMode.STANDARD, SLO, 5000, r, List.of(), new FaultTimeline(System.nanoTime()),
                        probes, null, 0, 42, null, null, null)), "pool exhaustion");
        double nan = Double.NaN;
        CheckResult failover = judge.apply(List.of(counters(0, 0, 0), counters(19, 42, 0)));
        assertTrue(failover.pass(), failover.line());
        assertEquals(0, failover.actual());
        assertTrue(failover.detail().contains("HikariCP connection timeouts 42"), failover.detail());
        CheckResult exhausted = judge.apply(List.of(counters(0, 0, 0), counters(19, 42, 9)));
        assertFalse(exhausted.pass(), exhausted.line());
        assertEquals(9, exhausted.actual());
        CheckResult hikariOnly = judge.apply(List.of(counters(0, 0, nan), counters(19, 42, nan)));
        assertFalse(hikariOnly.pass(), hikariOnly.line());
        assertEquals(42, hikariOnly.actual());
        assertTrue(hikariOnly.detail().contains("both count"), hikariOnly.detail());
        CheckResult noMetrics = judge.apply(List.of(counters(0, nan, nan), counters(19, nan, nan)));
        assertEquals(42, noMetrics.actual(), noMetrics.line()); // the clients' 503s
    }

    /**
     * The refused connection attempts are the instances' running totals since each started (before the probes' first
     * reading, too): the last reading is the run's count, and the seconds it grew in are the witness.
     */
    @Test
    void connectionRefusalsAreTheFleetsTotalAndAServiceThatCountsNoneHasNoSuchCheck() {
        LatencyRecorder r = new LatencyRecorder(0);
        for (int s = 0; s < 20; s++) {
            r.record("browse", s, 5_000, true);
        }
        java.util.function.Function<List<ProbeSample>, List<CheckResult>> judge = probes -> Judge.evaluate(
                new Judge.Facts(JudgingMode.STANDARD, SLO, 5000, r, List.of(), new FaultTimeline(System.nanoTime()),
                        probes, null, 0, 0, null, null, null));
        CheckResult storm = find(judge.apply(List.of(refusals(0, 3), refusals(1, 3), refusals(2, Double.NaN),
                refusals(3, 7), refusals(4, 7))), "connection refusals");
        assertFalse(storm.pass(), storm.line());
        assertEquals(7, storm.actual(), "3 before the first reading, 4 more at second 3");
        assertTrue(storm.detail().contains("at second(s) 0, 3"), storm.detail());
        CheckResult room = find(judge.apply(List.of(refusals(0, 0), refusals(19, 0))), "connection refusals");
        assertTrue(room.pass(), room.line());
        assertTrue(judge.apply(List.of(refusals(0, Double.NaN), refusals(19, Double.NaN))).stream()
                .noneMatch(c -> c.name().equals("connection refusals")), "a service without the count has no check");
    }

    /** A fault that could not be injected fails the run, with its error; a run whose faults all took hold has no such check. */
    @Test
    void aFaultThatCouldNotBeInjectedFailsTheRunNamingItsError() {
        LatencyRecorder r = new LatencyRecorder(0);
        for (int s = 0; s < 20; s++) {
            r.record("browse", s, 5_000, true);
        }
        FaultTimeline timeline = new FaultTimeline(System.nanoTime());
        timeline.add("F1 ScaleOut", FaultTimeline.Kind.INJECT, "2 instances added to the fleet");
        java.util.function.Supplier<List<CheckResult>> judge = () -> Judge.evaluate(new Judge.Facts(JudgingMode.STANDARD,
                SLO, 5000, r, List.of(), timeline, List.of(), null, 0, 0, null, null, null));
        assertTrue(judge.get().stream().noneMatch(c -> c.name().equals("faults injected")), "every fault took hold");
        timeline.add("F1 ScaleOut", FaultTimeline.Kind.ERROR, dev.doorbuster.chaos.ChaosRunner.INJECT_FAILED
                + "The application exited with code 1 before it was ready");
        CheckResult failed = find(judge.get(), "faults injected");
        assertFalse(failed.pass(), failed.line());
        assertEquals(1, failed.actual());
        assertTrue(failed.detail().contains("F1 ScaleOut at second 0: The application exited with code 1"),
                failed.detail());

        // Healed while still being injected (the run ended first): never in place, so never passed either.
        FaultTimeline late = new FaultTimeline(System.nanoTime());
        late.add("F1 ScaleOut", FaultTimeline.Kind.INJECT, "2 instances added to the fleet");
        late.add("F1 ScaleOut", FaultTimeline.Kind.HEAL, "healed");
        late.add("F1 ScaleOut", FaultTimeline.Kind.EFFECT, dev.doorbuster.chaos.ChaosRunner.IN_PLACE + "95000 ms after it "
                + "started");
        CheckResult tooLate = find(Judge.evaluate(new Judge.Facts(JudgingMode.STANDARD, SLO, 5000, r, List.of(), late,
                List.of(), null, 0, 0, null, null, null)), "faults injected");
        assertFalse(tooLate.pass(), tooLate.line());
        assertTrue(tooLate.detail().contains("still being injected when the run healed it"), tooLate.detail());
        FaultTimeline inTime = new FaultTimeline(System.nanoTime());
        inTime.add("F1 ScaleOut", FaultTimeline.Kind.INJECT, "2 instances added to the fleet");
        inTime.add("F1 ScaleOut", FaultTimeline.Kind.EFFECT, dev.doorbuster.chaos.ChaosRunner.IN_PLACE + "12 ms after it "
                + "started");
        inTime.add("F1 ScaleOut", FaultTimeline.Kind.HEAL, "healed");
        assertTrue(Judge.evaluate(new Judge.Facts(JudgingMode.STANDARD, SLO, 5000, r, List.of(), inTime, List.of(), null,
                0, 0, null, null, null)).stream().noneMatch(c -> c.name().equals("faults injected")), "in place in time");
    }

    /**
     * The generator fell behind in seconds 8-9 and caught up: pools that ran out only then, or in the 3 seconds after,
     * ran out under the generator's burst (inconclusive, never a pass); pools that ran out later too fail the run.
     */
    @Test
    void poolExhaustionOnlyInTheGeneratorsCatchUpBurstIsInconclusiveNotBlamedOnTheService() {
        LatencyRecorder r = new LatencyRecorder(0);
        List<GeneratorHealth.Second> seconds = new ArrayList<>();
        for (int s = 0; s < 20; s++) {
            r.record("browse", s, 5_000, true);
            seconds.add(s == 8 || s == 9 ? new GeneratorHealth.Second(s, 10, 3, 7, 900, 50, 100, 5)
                    : new GeneratorHealth.Second(s, 10, 10, 0, 3, 30, 60, 5));
        }
        GeneratorHealth generator = new GeneratorHealth(100, 200, 200, 0, 3, 900, seconds);
        java.util.function.BiFunction<List<ProbeSample>, GeneratorHealth, CheckResult> judge = (probes, g) -> find(
                Judge.evaluate(new Judge.Facts(JudgingMode.STANDARD, SLO, 5000, r, List.of(),
                        new FaultTimeline(System.nanoTime()), probes, null, 0, 0, null, null, null, null, null, g)),
                "pool exhaustion");
        List<ProbeSample> inTheBurst = new ArrayList<>();
        List<ProbeSample> laterToo = new ArrayList<>();
        for (int s = 0; s < 20; s++) {
            inTheBurst.add(counters(s, 0, s < 11 ? 0 : 4)); // 4 'pool exhausted' answers at second 11
            laterToo.add(counters(s, 0, s < 11 ? 0 : s < 16 ? 4 : 5)); // and one more at second 16
        }
        CheckResult burst = judge.apply(inTheBurst, generator);
        assertTrue(burst.notJudged(), burst.line());
        assertTrue(burst.detail().contains("caught up with a burst") && burst.detail().contains("(11; 4 events)"),
                burst.detail());
        CheckResult later = judge.apply(laterToo, generator);
        assertFalse(later.pass() || later.notJudged(), "second 16 is no catch-up: " + later.line());
        assertEquals(5, later.actual());
        CheckResult unwatched = judge.apply(inTheBurst, null);
        assertFalse(unwatched.pass() || unwatched.notJudged(), "without the generator's health: " + unwatched.line());
    }

    private static ProbeSample refusals(int second, double refused) {
        return new ProbeSample(second, 1, 9, 0, 1, 9, 0, 0, 0, 0, 0, 0, 0, refused);
    }

    @Test
    void overloadRunsAreJudgedOnGracefulness() {
        LatencyRecorder r = new LatencyRecorder(0);
        for (int s = 0; s < 30; s++) {
            r.record("browse", s, s < 20 ? 900_000 : 5_000, s >= 20 || s % 2 == 0);
        }
        List<ProbeSample> probes = List.of(sample(0, 0), sample(29, 40));
        List<CheckResult> checks = Judge.evaluate(new Judge.Facts(JudgingMode.OVERLOAD, SLO, 1000, r,
                List.of(new Phase("ramp", 0, 20), new Phase(Judge.RECOVERY_PHASE, 20, 30)),
                new FaultTimeline(System.nanoTime()), probes, null, 0, 10, null, null, null));
        assertPassed(checks, "pools saturated");
        assertTrue(find(checks, "pools saturated").line().contains("40 events ≥ 1 events"), find(checks, "pools saturated").line());
        assertPassed(checks, "failures other than 503");
        assertPassed(checks, "p99 after recovery");
        assertTrue(checks.stream().noneMatch(c -> c.name().equals("p99") || c.name().equals("p99 during ramp")),
                "no latency budget while overloading on purpose");
        assertPassed(checks, "no hung request");
        assertPassed(checks, "errors after recovery");
        assertTrue(checks.stream().noneMatch(c -> c.name().equals("pool exhaustion")), "expected here, not a failure");
    }

    @Test
    void verdictFilesRoundTripAndReportRenders() throws Exception {
        List<CheckResult> checks = List.of(CheckResult.atMost("p99", 100, 80, "ms", "fine"),
                CheckResult.atMost("read-your-writes (later)", 0, 2, "reads", "2 of 9 <missed> & \"quoted\""));
        FaultTimeline timeline = new FaultTimeline(System.nanoTime());
        timeline.add("F1 DbLatency", FaultTimeline.Kind.INJECT, "slow <database>");
        Verdict v = Verdict.of("TestSimulation", "local", "2026-11-22T00:00:00Z", 12.5, checks, 100, 3,
                new WriteLedger.Audit(List.of(new WriteLedger.KindAudit("order", 5, 0, 1, 1, 0, 0, List.of(), List.of())),
                        null, java.util.Set.of()), null, null, timeline.events());
        assertFalse(v.passed());
        assertEquals(List.of("read-your-writes (later)"), v.failures().stream().map(CheckResult::name).toList());
        v.writeJson(dir.resolve("run").resolve(Verdict.JSON_FILE));
        Verdict back = Verdict.readJson(dir.resolve("run").resolve(Verdict.JSON_FILE));
        assertEquals(v.checks(), back.checks());
        assertEquals(v.writes().kinds(), back.writes().kinds());
        v.writeJunitXml(dir.resolve("run").resolve(Verdict.JUNIT_FILE));
        String xml = Files.readString(dir.resolve("run").resolve(Verdict.JUNIT_FILE));
        assertTrue(xml.contains("tests=\"2\"") && xml.contains("failures=\"1\"") && xml.contains("&lt;missed&gt;"), xml);
        LatencyRecorder r = new LatencyRecorder(0);
        r.record("browse", 0, 1000, true);
        ChaosReport.write(dir.resolve("run").resolve(ChaosReport.FILE), v, r, List.of(sample(0, 0)), List.of(), timeline);
        String html = Files.readString(dir.resolve("run").resolve(ChaosReport.FILE));
        assertTrue(html.contains("FAILED") && html.contains("slow &lt;database&gt;") && html.contains("class=\"chart\" data-chart="), html);
        ChaosReport.writeHistory(dir);
        assertTrue(Files.readString(dir.resolve(RunHistory.PAGE)).contains("TestSimulation"));
    }

    /** Cache reads of which some were stale, the stalest by {@code worstMs}. */
    private static CacheStaleness cacheReads(long reads, long stale, double worstMs) {
        List<CacheStaleness.Witness> witnesses = stale == 0 ? List.of() : List.of(new CacheStaleness.Witness("user:7",
                "version 3 'Shopper 7 db-1'", 4, 10.5, 10.5 + worstMs / 1000, worstMs, 7, "cache (cache)", "none"));
        return new CacheStaleness(reads, stale, worstMs, List.of(new CacheStaleness.Bucket(null, 0L, reads - stale),
                new CacheStaleness.Bucket(0L, null, stale)), witnesses, null);
    }

    private static List<CheckResult> judgeCache(Environment.Slo slo, List<ProbeSample> probes, CacheStaleness cache) {
        LatencyRecorder r = new LatencyRecorder(0);
        r.record("profile: read", 0, 1_000, true);
        return Judge.evaluate(new Judge.Facts(JudgingMode.STANDARD, slo, 5000, r, List.of(),
                new FaultTimeline(System.nanoTime()), probes, null, 0, 0, null, null, cache));
    }

    private static ProbeSample lag(int second, long lagMillis) {
        return new ProbeSample(second, 1, 9, 0, 1, 9, 0, 0, 0, 0, 0, lagMillis < 0 ? -1 : lagMillis * 1000, lagMillis);
    }

    /** Unset, the budget is the worst replication lag the probes measured plus the grace: never the cache's TTL. */
    @Test
    void cacheStalenessIsJudgedAgainstTheWorstLagPlusTheGraceUnlessABudgetIsSet() {
        Environment.Slo slo = Environment.Slo.defaults();
        assertEquals(null, slo.cacheStalenessMs(), "unset by default");
        List<ProbeSample> lagging = List.of(lag(0, -1), lag(1, 120), lag(2, 450), lag(3, -1), lag(4, 80));

        CheckResult within = find(judgeCache(slo, lagging, cacheReads(200, 3, 1_400)), CacheStaleness.CHECK);
        assertTrue(within.pass(), within.line());
        assertEquals(1_450, within.budget(), "worst lag 450 ms + the default grace 1000 ms");
        assertEquals("ms", within.unit());
        assertEquals(1_400, within.actual());
        assertTrue(within.detail().startsWith("3 of 200 reads served by the cache showed a state older than a write"),
                within.detail());
        assertTrue(within.detail().contains("the worst replication lag the probes measured while the replica was behind "
                + "by writes (450 ms) + "
                + SloBudget.CACHE_STALENESS_GRACE_MS.path() + " (1000 ms)"), within.detail());
        assertTrue(within.detail().endsWith("; stalest: user:7 read at 11.900 s by process 7 showed version 3 "
                + "'Shopper 7 db-1', version 4 acknowledged at 10.500 s (served by cache (cache); faults active: none)"),
                within.detail());

        // A replica a few hundred bytes of the server's own housekeeping behind while the primary had no writes: the
        // age of its last replayed commit grows by the second, but no write is missing; no lag to excuse staleness with.
        List<ProbeSample> idle = new java.util.ArrayList<>(lagging);
        idle.add(new ProbeSample(5, 1, 9, 0, 1, 9, 0, 0, 0, 0, 0, 0, 32_000));
        idle.add(new ProbeSample(6, 1, 9, 0, 1, 9, 0, 0, 0, 0, 0, 120, 32_900));
        assertEquals(1_450, find(judgeCache(slo, idle, cacheReads(200, 3, 1_400)), CacheStaleness.CHECK).budget(),
                "an idle replica's growing commit age is not lag");
        // Caught up at second 7, then autovacuum's few kB in flight at second 8 while the last commit is 40 s old:
        // the replica cannot be further behind than since it was caught up (2 s at most).
        List<ProbeSample> housekeeping = new java.util.ArrayList<>(idle);
        housekeeping.add(new ProbeSample(7, 1, 9, 0, 1, 9, 0, 0, 0, 0, 0, 0, 0));
        housekeeping.add(new ProbeSample(8, 1, 9, 0, 1, 9, 0, 0, 0, 0, 0, 6_000, 40_000));
        assertEquals(java.util.OptionalLong.of(2_000), Judge.worstLagBehindWrites(housekeeping));

        CheckResult beyond = find(judgeCache(slo, lagging, cacheReads(200, 3, 1_451)), CacheStaleness.CHECK);
        assertFalse(beyond.pass(), beyond.line());

        CheckResult noLag = find(judgeCache(slo.with(SloBudget.CACHE_STALENESS_GRACE_MS, 250), List.of(lag(0, -1)),
                cacheReads(10, 1, 300)), CacheStaleness.CHECK);
        assertEquals(250, noLag.budget(), "no lag measured: the grace alone");
        assertFalse(noLag.pass(), noLag.line());
        assertTrue(noLag.detail().contains("(none measured: 0 ms)"), noLag.detail());

        CheckResult set = find(judgeCache(slo.with(SloBudget.CACHE_STALENESS_MS, 5_000.0), lagging,
                cacheReads(200, 3, 4_000)), CacheStaleness.CHECK);
        assertEquals(5_000, set.budget(), "a budget set is the budget, whatever the lag");
        assertTrue(set.pass(), set.line());
        assertTrue(set.detail().contains("budget " + SloBudget.CACHE_STALENESS_MS.path()), set.detail());
        CheckResult strict = find(judgeCache(slo.with(SloBudget.CACHE_STALENESS_MS, 0.0), lagging,
                cacheReads(200, 0, 0)), CacheStaleness.CHECK);
        assertTrue(strict.pass(), "no stale read meets even a budget of 0: " + strict.line());
        assertFalse(find(judgeCache(slo.with(SloBudget.CACHE_STALENESS_MS, 0.0), lagging, cacheReads(200, 1, 0.001)),
                CacheStaleness.CHECK).pass(), "a microsecond stale is over a budget of 0");
    }

    @Test
    void noCacheStalenessCheckWithoutAReadServedByTheCacheAndAFailureWhenItCannotBeTold() {
        Environment.Slo slo = Environment.Slo.defaults();
        for (CacheStaleness none : java.util.Arrays.asList(null, cacheReads(0, 0, 0))) {
            assertTrue(judgeCache(slo, List.of(), none).stream().noneMatch(c -> c.name().equals(CacheStaleness.CHECK)),
                    "not listed: " + none);
        }
        CheckResult unknown = find(judgeCache(slo, List.of(lag(0, 30)),
                new CacheStaleness(-1, -1, Double.NaN, List.of(), List.of(), "cannot read run.journal")),
                CacheStaleness.CHECK);
        assertFalse(unknown.pass(), unknown.line());
        assertTrue(Double.isNaN(unknown.actual()));
        assertTrue(unknown.detail().contains("cannot read run.journal"), unknown.detail());
    }

    /** verdict.json carries the cache reads' staleness and reads it back; chaos.html draws it, only when there is one. */
    @Test
    void theCacheSectionRoundTripsThroughVerdictJsonAndIsOnThePage() throws Exception {
        CacheStaleness staleness = cacheReads(200, 3, 1_400);
        List<CheckResult> checks = judgeCache(Environment.Slo.defaults(), List.of(), staleness);
        Verdict v = Verdict.of("TestSimulation", "local", "2026-11-22T00:00:00Z", 5, checks, 1, 0, null, null, null,
                List.of()).withCacheStaleness(staleness);
        Path run = dir.resolve("cache");
        v.writeJson(run.resolve(Verdict.JSON_FILE));
        String json = Files.readString(run.resolve(Verdict.JSON_FILE));
        assertTrue(json.contains("\"cacheStaleness\" : {\n    \"cacheReads\" : 200,\n    \"staleReads\" : 3,"), json);
        Verdict back = Verdict.readJson(run.resolve(Verdict.JSON_FILE));
        assertEquals(v.cacheStaleness(), back.cacheStaleness());

        LatencyRecorder r = new LatencyRecorder(0);
        r.record("profile: read", 0, 1_000, true);
        ChaosReport.write(run.resolve(ChaosReport.FILE), back, r, List.of(), List.of(), new FaultTimeline(System.nanoTime()));
        String html = Files.readString(run.resolve(ChaosReport.FILE));
        assertTrue(html.contains("<h2 id=\"cache-staleness\">Cache: staleness of reads served by the cache</h2>")
                && html.contains("3 of 200 reads of a checked key served by "
                + "the cache showed a state older"), html);
        assertTrue(html.contains("<tr><td>not stale</td><td>197</td>") && html.contains("<tr><td>over 0 ms</td><td>3</td>"),
                "the histogram's buckets");
        assertTrue(html.contains("<tr><td>7</td><td>user:7</td><td>version 4 at 10.5 s</td><td>version 3 'Shopper 7 db-1' "
                + "at 11.9 s (read started)</td><td>1400 ms</td><td>cache (cache)</td><td>none</td></tr>"), "the witness");

        ChaosReport.write(run.resolve("plain.html"), v.withCacheStaleness(null), r, List.of(), List.of(),
                new FaultTimeline(System.nanoTime()));
        assertFalse(Files.readString(run.resolve("plain.html")).contains("cache-staleness"), "no staleness without one");
    }

    /**
     * 25 seconds: 20 with requests (10 each), seconds 10-14 without any. Two of the 20 are slow (p99 1.5 s), two
     * others have 30% errors: 10% bad seconds for each windowed check.
     */
    private static LatencyRecorder tenPercentBadSeconds() {
        LatencyRecorder r = new LatencyRecorder(0);
        for (int s = 0; s < 25; s++) {
            if (s >= 10 && s < 15) {
                continue;
            }
            for (int i = 0; i < 10; i++) {
                boolean slow = s == 3 || s == 17;
                boolean failed = (s == 6 || s == 21) && i < 3;
                r.record("browse", s, slow ? 1_500_000 : 20_000, !failed);
            }
        }
        return r;
    }

    private static Environment.Slo windowed(double compliancePercent) {
        return Environment.Slo.defaults().with(SloBudget.P99_MS, 100).with(SloBudget.P99_MS_DURING_FAULTS, 500)
                .with(SloBudget.WINDOW_COMPLIANCE_PERCENT, compliancePercent);
    }

    private static List<CheckResult> judge(LatencyRecorder r, Environment.Slo slo) {
        return Judge.evaluate(new Judge.Facts(JudgingMode.STANDARD, slo, 5000, r, List.of(),
                new FaultTimeline(System.nanoTime()), List.of(), null, 0, 0, null, null, null));
    }

    @Test
    void tenPercentBadSecondsFailANinetyFivePercentWindowAndPassAnEightyFivePercentOne() {
        LatencyRecorder r = tenPercentBadSeconds();
        List<CheckResult> strict = judge(r, windowed(95));
        assertFailed(strict, "p99 ≤ 1000 ms in ≥ 95% of seconds", 90);
        assertFailed(strict, "error rate ≤ 5% in ≥ 95% of seconds", 90);
        CheckResult p99 = find(strict, "p99 ≤ 1000 ms in ≥ 95% of seconds");
        assertEquals(90.0, p99.actual(), 1e-9, "empty seconds are not counted (18 of 20, not of 25): " + p99.line());
        assertEquals("% of seconds", p99.unit());
        assertTrue(p99.atLeast());
        assertTrue(p99.detail().startsWith("18 of 20 seconds with requests had p99 ≤ 1000 ms; at second(s) 3, 17"),
                p99.detail());
        assertTrue(find(strict, "error rate ≤ 5% in ≥ 95% of seconds").detail().contains("at second(s) 6, 21"));
        List<CheckResult> lenient = judge(r, windowed(85));
        assertPassed(lenient, "p99 ≤ 1000 ms in ≥ 85% of seconds");
        assertPassed(lenient, "error rate ≤ 5% in ≥ 85% of seconds");

        List<SecondCompliance.Window> windows = SecondCompliance.evaluate(r, windowed(95), r.lastSecond() + 1);
        assertEquals(List.of(3, 17), windows.get(0).failingSeconds());
        assertEquals(List.of(6, 21), windows.get(1).failingSeconds());
        assertEquals(20, windows.get(0).counted());
        assertTrue(judge(new LatencyRecorder(0), windowed(95)).stream().noneMatch(c -> c.name().contains("of seconds")),
                "no windowed check without any request");
    }

    /** chaos.html's strip shows, second by second, what verdict.json lists; an incomplete run says why. */
    @Test
    void perSecondStripMatchesTheVerdictData() throws Exception {
        LatencyRecorder r = tenPercentBadSeconds();
        Environment.Slo slo = windowed(95);
        List<SecondCompliance.Window> windows = SecondCompliance.evaluate(r, slo, r.lastSecond() + 1);
        Verdict v = Verdict.of("TestSimulation", "local", "2026-11-22T00:00:00Z", 25, judge(r, slo), 200, 6, null, null,
                null, List.of()).withWindows(windows).incomplete("aborted at second 24 because error rate above 50% for "
                + "15 consecutive seconds");
        Path run = dir.resolve("strip");
        v.writeJson(run.resolve(Verdict.JSON_FILE));
        String json = Files.readString(run.resolve(Verdict.JSON_FILE));
        assertTrue(json.contains("\"complete\" : false") && json.contains("\"failingSeconds\" : [ 3, 17 ]"), json);
        Verdict back = Verdict.readJson(run.resolve(Verdict.JSON_FILE));
        assertFalse(back.wasComplete());
        assertFalse(back.passed());
        assertEquals(v.incompleteReason(), back.incompleteReason());
        assertEquals(windows, back.windows());
        assertTrue(back.summary().contains("INCOMPLETE: aborted at second 24"), back.summary());

        ChaosReport.write(run.resolve(ChaosReport.FILE), back, r, List.of(), List.of(), new FaultTimeline(System.nanoTime()));
        String html = Files.readString(run.resolve(ChaosReport.FILE));
        assertTrue(html.contains("Incomplete run: aborted at second 24"), "the reason is on the page");
        for (SecondCompliance.Window w : back.windows()) {
            Map<Integer, String> states = strip(html, w.check());
            assertEquals(25, states.size(), "one cell per second of the charts' axis: " + states);
            for (int s = 0; s < 25; s++) {
                String expected = s >= 10 && s < 15 ? "none" : w.failingSeconds().contains(s) ? "fail" : "pass";
                assertEquals(expected, states.get(s), w.check() + ", second " + s);
            }
        }
        assertTrue(html.contains("<title>second 3: p99 1500 ms, error rate 0.0% (0 of 10 failed)</title>"), "p99 in the title");
        assertTrue(html.contains("<title>second 6: p99 20 ms, error rate 30.0% (3 of 10 failed)</title>"),
                "error rate in the title");
        assertTrue(html.contains("<title>second 12: no requests (not counted)</title>"));
    }

    /** The cells of one strip of chaos.html: second → pass, fail or none. */
    private static Map<Integer, String> strip(String html, String check) {
        int start = html.indexOf("data-check=\"" + ChaosReport.esc(check) + "\"");
        assertTrue(start >= 0, "a strip for " + check);
        String strip = html.substring(start, html.indexOf("</g>", start));
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("data-second=\"(\\d+)\" data-state=\"(\\w+)\"")
                .matcher(strip);
        Map<Integer, String> states = new java.util.TreeMap<>();
        while (m.find()) {
            states.put(Integer.parseInt(m.group(1)), m.group(2));
        }
        return states;
    }

    private static ProbeSample counters(int second, double hikariTimeouts, double poolExhausted503s) {
        return new ProbeSample(second, 1, 9, 0, 1, 9, 0, hikariTimeouts, poolExhausted503s, 0, 0, 0, 0);
    }

    private static ProbeSample sample(int second, double poolTimeouts) {
        return new ProbeSample(second, 1, 9, 0, 1, 9, 0, poolTimeouts, poolTimeouts, 0, 0, 0, 0);
    }

    private static void assertFailed(List<CheckResult> checks, String name, double actual) {
        CheckResult c = find(checks, name);
        assertFalse(c.pass(), c.line());
        assertEquals(actual, c.actual(), Math.max(1, actual * 0.01), c.line());
    }

    private static void assertPassed(List<CheckResult> checks, String name) {
        CheckResult c = find(checks, name);
        assertTrue(c.pass(), c.line());
    }

    private static CheckResult find(List<CheckResult> checks, String name) {
        return checks.stream().filter(c -> c.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no check '" + name + "' in " + checks.stream().map(CheckResult::name).toList()));
    }
}
