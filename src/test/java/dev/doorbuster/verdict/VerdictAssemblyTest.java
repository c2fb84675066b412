package dev.doorbuster.verdict;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

import dev.doorbuster.chaos.FaultTimeline;
import dev.doorbuster.topology.Environment;
import dev.doorbuster.topology.EnvironmentLoader;
import dev.doorbuster.verdict.consistency.WriteLedger;
import dev.doorbuster.verdict.consistency.WriteLookup;
import dev.doorbuster.verdict.probes.ProbeSample;
import dev.doorbuster.verdict.recording.LatencyRecorder;
import dev.doorbuster.verdict.shard.ShardReport;
import org.junit.jupiter.api.Test;

/**
 * Every way a run can end, assembled into its verdict from recorded latency and the {@link Judge}'s own checks,
 * without a forked Gatling run: pass, a failed budget, the abort rule, SIGTERM, shards, a baseline, no audit.
 */
class VerdictAssemblyTest {
    private static final int SECONDS = 20;
    private static final int PER_SECOND = 50;

    /** The local environment's budgets (p99 1000 ms, error rate 2 %, windows 95 % of seconds), with overrides. */
    private static Environment.Slo slo(Map<String, String> overrides) {
        Properties properties = new Properties();
        properties.putAll(overrides);
        return new EnvironmentLoader(Path.of("environments"), properties).load("local").slo();
    }

    /** {@link #SECONDS} seconds of {@link #PER_SECOND} browse requests at {@code micros}; every {@code failEvery}-th fails. */
    private static LatencyRecorder recorded(long micros, int failEvery) {
        LatencyRecorder r = new LatencyRecorder(0);
        int n = 0;
        for (int s = 0; s < SECONDS; s++) {
            for (int i = 0; i < PER_SECOND; i++) {
                r.record("browse", s, micros + i * 100L, failEvery == 0 || ++n % failEvery != 0);
            }
        }
        return r;
    }

    private static List<CheckResult> judged(LatencyRecorder r, Environment.Slo slo, JudgingMode mode,
                                            WriteLedger.Audit writes) {
        return Judge.evaluate(new Judge.Facts(mode, slo, 5000, r, List.of(), new FaultTimeline(0), pools(), null, 0,
                0, writes, null, null));
    }

    /** A service's pools read every second, never timing out: what every check needs about them. */
    private static List<ProbeSample> pools() {
        List<ProbeSample> samples = new ArrayList<>();
        for (int s = 0; s < SECONDS; s++) {
            samples.add(new ProbeSample(s, 3, 7, 0, Double.NaN, Double.NaN, Double.NaN, 0, Double.NaN, Double.NaN,
                    Double.NaN, -1, -1));
        }
        return samples;
    }

    private static VerdictAssembly.Facts facts(LatencyRecorder r, Environment.Slo slo, JudgingMode mode,
                                               List<CheckResult> checks, VerdictAssembly.Ending ending,
                                               ShardReport shards, Optional<RunHistory.Entry> baseline,
                                               WriteLedger.Audit writes) {
        return new VerdictAssembly.Facts(new VerdictAssembly.Identity("TestSimulation", "local",
                "2026-12-04T20:00:00Z", SECONDS), mode, slo, r, checks, ending, shards, baseline, writes, null, null,
                List.of(), null);
    }

    private static List<String> names(List<CheckResult> checks) {
        return checks.stream().map(CheckResult::name).toList();
    }

    private static List<String> with(List<String> names, String last) {
        List<String> all = new ArrayList<>(names);
        all.add(last);
        return all;
    }

    @Test
    void aRunThatRanItsCourseAndMetEveryBudgetPasses() {
        LatencyRecorder r = recorded(20_000, 0);
        Environment.Slo slo = slo(Map.of());
        List<CheckResult> judged = judged(r, slo, JudgingMode.STANDARD, null);
        assertTrue(judged.stream().allMatch(CheckResult::pass), "the fixture must meet every budget: " + judged);

        Verdict v = VerdictAssembly.assemble(facts(r, slo, JudgingMode.STANDARD, judged,
                VerdictAssembly.Ending.ranItsCourse(SECONDS), null, Optional.empty(), null));

        assertTrue(v.passed(), v.summary());
        assertTrue(v.wasComplete());
        assertNull(v.incompleteReason());
        assertEquals(names(judged), names(v.checks()), "the Judge's checks, in its order, and nothing else");
        assertEquals(SECONDS * PER_SECOND, v.requests());
        assertEquals(0, v.failedRequests());
        assertEquals("TestSimulation", v.simulation());
        assertEquals("2026-12-04T20:00:00Z", v.startedAt());
        assertEquals(2, v.windows().size(), "p99 and error rate, second by second");
        assertTrue(v.windows().stream().allMatch(w -> w.counted() == SECONDS && w.failingSeconds().isEmpty()),
                v.windows().toString());
        assertNull(v.shards());
    }

    @Test
    void oneFailedCheckFailsTheVerdictOfACompleteRun() {
        LatencyRecorder r = recorded(20_000, 10); // 10 % of the requests fail, every second
        Environment.Slo slo = slo(Map.of());
        List<CheckResult> judged = judged(r, slo, JudgingMode.STANDARD, null);

        Verdict v = VerdictAssembly.assemble(facts(r, slo, JudgingMode.STANDARD, judged,
                VerdictAssembly.Ending.ranItsCourse(SECONDS), null, Optional.empty(), null));

        assertFalse(v.passed());
        assertTrue(v.wasComplete(), "a failed budget is no early end");
        assertEquals(SECONDS * PER_SECOND / 10, v.failedRequests());
        CheckResult errorRate = v.checks().stream().filter(c -> c.name().equals("error rate")).findFirst().orElseThrow();
        assertFalse(errorRate.pass());
        assertEquals(10.0, errorRate.actual(), 1e-9);
        assertTrue(names(v.failures()).contains("error rate"), v.summary());
        assertFalse(names(v.checks()).contains(VerdictAssembly.ABORTED));
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19),
                v.windows().get(1).failingSeconds(), "every second's error rate is above 5 %");
    }

    @Test
    void theAbortRuleEndsTheRunIncompleteWithAFailingAbortedCheckAtItsSecond() {
        LatencyRecorder r = recorded(20_000, 0);
        Environment.Slo slo = slo(Map.of());
        List<CheckResult> judged = judged(r, slo, JudgingMode.STANDARD, null);
        String reason = "aborted at second 12 because error rate above 50% for 15 consecutive seconds";

        Verdict v = VerdictAssembly.assemble(facts(r, slo, JudgingMode.STANDARD, judged,
                new VerdictAssembly.Ending(reason, 12), null, Optional.empty(), null));

        assertFalse(v.passed(), "every budget met, yet the load did not finish");
        assertFalse(v.wasComplete());
        assertEquals(reason, v.incompleteReason());
        assertEquals(with(names(judged), VerdictAssembly.ABORTED), names(v.checks()));
        CheckResult aborted = v.checks().get(v.checks().size() - 1);
        assertFalse(aborted.pass());
        assertEquals(12, aborted.actual());
        assertEquals("s", aborted.unit());
        assertEquals(reason, aborted.detail());
        assertEquals(List.of(VerdictAssembly.ABORTED), names(v.failures()));
    }

    @Test
    void anInterruptedOverloadRunIsIncompleteAndHasNoWindows() {
        LatencyRecorder r = recorded(20_000, 0);
        Environment.Slo slo = slo(Map.of());
        List<CheckResult> judged = judged(r, slo, JudgingMode.OVERLOAD, null);
        String reason = "interrupted (SIGTERM or Ctrl-C) at second 7";

        Verdict v = VerdictAssembly.assemble(facts(r, slo, JudgingMode.OVERLOAD, judged,
                new VerdictAssembly.Ending(reason, 7), null, Optional.empty(), null));

        assertFalse(v.passed());
        assertFalse(v.wasComplete());
        assertEquals(reason, v.incompleteReason());
        assertEquals(VerdictAssembly.ABORTED, v.checks().get(v.checks().size() - 1).name());
        assertEquals(7, v.checks().get(v.checks().size() - 1).actual());
        assertTrue(v.windows().isEmpty(), "an overload run is judged on gracefulness, not second by second");
    }

    @Test
    void aMissingShardFailsShardsDeliveredFirstAndLeavesTheRunIncomplete() {
        LatencyRecorder r = recorded(20_000, 0);
        Environment.Slo slo = slo(Map.of());
        List<CheckResult> judged = judged(r, slo, JudgingMode.STANDARD, null);
        ShardReport shards = new ShardReport(2, List.of(new ShardReport.Shard(0, 1000, 0, 500, 40, null)),
                List.of(new ShardReport.Missing(1, "no recording within 60 s of the load's end (last heard from at "
                        + "run second 9)")), 1000, 20_000, 24_900, List.of());

        Verdict v = VerdictAssembly.assemble(facts(r, slo, JudgingMode.STANDARD, judged,
                VerdictAssembly.Ending.ranItsCourse(SECONDS), shards, Optional.empty(), null));

        assertFalse(v.passed());
        assertFalse(v.wasComplete());
        assertEquals("no recording from shard(s) 1", v.incompleteReason());
        List<String> expected = new ArrayList<>(List.of(VerdictAssembly.SHARDS_DELIVERED));
        expected.addAll(names(judged));
        assertEquals(expected, names(v.checks()), "no aborted check: the load itself ran its course");
        CheckResult delivered = v.checks().get(0);
        assertFalse(delivered.pass());
        assertEquals(2, delivered.budget());
        assertEquals(1, delivered.actual());
        assertEquals("shard 1: no recording within 60 s of the load's end (last heard from at run second 9)",
                delivered.detail());
        assertSame(shards, v.shards());
    }

    @Test
    void aShardThatEndedEarlyMakesTheWholeRunIncomplete() {
        LatencyRecorder r = recorded(20_000, 0);
        Environment.Slo slo = slo(Map.of());
        List<CheckResult> judged = judged(r, slo, JudgingMode.STANDARD, null);
        ShardReport shards = new ShardReport(2, List.of(new ShardReport.Shard(0, 500, 0, 250, 20, null),
                new ShardReport.Shard(1, 500, 0, 250, 20, "the coordinator is silent")), List.of(), 1000, 20_000,
                24_900, List.of());

        Verdict v = VerdictAssembly.assemble(facts(r, slo, JudgingMode.STANDARD, judged,
                VerdictAssembly.Ending.ranItsCourse(15), shards, Optional.empty(), null));

        assertFalse(v.passed());
        assertEquals("shard 1: the coordinator is silent", v.incompleteReason());
        assertTrue(v.checks().get(0).pass(), v.checks().get(0).line());
        assertEquals("1000 requests merged from 2 shard(s)", v.checks().get(0).detail());
        CheckResult aborted = v.checks().get(v.checks().size() - 1);
        assertEquals(VerdictAssembly.ABORTED, aborted.name());
        assertEquals(15, aborted.actual(), "the coordinator's own end of the load");
        assertEquals("shard 1: the coordinator is silent", aborted.detail());
    }

    @Test
    void aRegressionAgainstTheBaselineAddsAFailingCheckAfterTheOthers() {
        LatencyRecorder r = recorded(20_000, 0); // p99 about 24.9 ms
        Environment.Slo slo = slo(Map.of("slo.regression.p99Percent", "20"));
        List<CheckResult> judged = judged(r, slo, JudgingMode.STANDARD, null);
        RunHistory.Entry baseline = new RunHistory.Entry(Path.of("reports", "testsimulation-20261201000000000"), null,
                new RunHistory.Headline(10, 0, Double.NaN, Map.of(), Double.NaN, PER_SECOND, SECONDS * PER_SECOND),
                null);

        Verdict v = VerdictAssembly.assemble(facts(r, slo, JudgingMode.STANDARD, judged,
                VerdictAssembly.Ending.ranItsCourse(SECONDS), null, Optional.of(baseline), null));

        assertFalse(v.passed());
        assertTrue(v.wasComplete());
        assertEquals(with(names(judged), "p99 vs baseline"), names(v.checks()));
        CheckResult regression = v.checks().get(v.checks().size() - 1);
        assertFalse(regression.pass());
        assertEquals(20, regression.budget());
        assertTrue(regression.actual() > 100, "about 150 % above 10 ms: " + regression.line());
        assertTrue(regression.detail().endsWith(" ms vs baseline testsimulation-20261201000000000"), regression.detail());
        assertEquals(List.of("p99 vs baseline"), names(v.failures()));
    }

    @Test
    void withoutARegressionBudgetTheBaselineAddsNoCheck() {
        LatencyRecorder r = recorded(20_000, 0);
        Environment.Slo slo = slo(Map.of());
        List<CheckResult> judged = judged(r, slo, JudgingMode.STANDARD, null);
        RunHistory.Entry baseline = new RunHistory.Entry(Path.of("reports", "testsimulation-20261201000000000"), null,
                new RunHistory.Headline(10, 0, Double.NaN, Map.of(), Double.NaN, PER_SECOND, SECONDS * PER_SECOND),
                null);

        Verdict v = VerdictAssembly.assemble(facts(r, slo, JudgingMode.STANDARD, judged,
                VerdictAssembly.Ending.ranItsCourse(SECONDS), null, Optional.of(baseline), null));

        assertTrue(v.passed(), v.summary());
        assertEquals(names(judged), names(v.checks()));
    }

    @Test
    void anUnreachableDatabaseLeavesTheAuditWithItsErrorAndTheLostWritesCheckFailing() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        WriteLedger ledger = new WriteLedger();
        ledger.record(new WriteLedger.Write("order", "order:w1", "w1", 1, 2.0, 2.1, WriteLedger.Outcome.ACKNOWLEDGED,
                null, null));
        WriteLedger.Audit audit = ledger.audit(Map.of("order",
                        WriteLookup.sql("SELECT idempotency_key FROM orders WHERE idempotency_key = ANY(?)")),
                new WriteLookup.Target("jdbc:postgresql://127.0.0.1:" + closedPort + "/doorbuster", "doorbuster", null,
                        null));
        assertNotNull(audit.error(), "nothing listens on port " + closedPort);
        LatencyRecorder r = recorded(20_000, 0);
        Environment.Slo slo = slo(Map.of());
        List<CheckResult> judged = judged(r, slo, JudgingMode.STANDARD, audit);

        Verdict v = VerdictAssembly.assemble(facts(r, slo, JudgingMode.STANDARD, judged,
                VerdictAssembly.Ending.ranItsCourse(SECONDS), null, Optional.empty(), audit));

        assertFalse(v.passed());
        assertTrue(v.wasComplete(), "the load ran its course; only its audit is missing");
        assertSame(audit, v.writes());
        assertEquals(-1, v.writes().lost(), "unknown, not zero");
        assertTrue(v.writes().error().startsWith("order: the lookup "), v.writes().error());
        // The audit could not look: its checks are not judged, and the run fails through the budget that counts them.
        assertEquals(List.of("lost acknowledged writes", "ghost writes"), names(v.notJudged()));
        assertTrue(v.notJudged().get(0).detail().startsWith("could not audit 1 acknowledged writes: order: "),
                v.notJudged().get(0).detail());
        assertEquals(List.of(VerdictAssembly.NOT_JUDGED), names(v.failures()));
        assertEquals(2, v.failures().get(0).actual(), v.failures().get(0).line());
    }

    /** A run compared with its baseline whose own p99 was inconclusive says so, not "measured no p99". */
    @Test
    void aRegressionCheckThisRunCouldNotCompareSaysWhyItsOwnCheckWasNotJudged() {
        CheckResult p99 = CheckResult.notJudged("p99", 1000, 248, "ms", GeneratorHealth.INCONCLUSIVE
                + "seconds 0-29 (...); measured 248 ms, which cannot be told apart from the generator's own delay", GeneratorHealth.FIX);
        CheckResult rto = CheckResult.atMost("failover RTO (F2 PrimaryFailover)", 15000, 900, "ms", "probe");
        List<CheckResult> regressions = List.of(
                CheckResult.notJudged("p99 vs baseline", 20, Double.NaN, "% above", "this run measured no p99", "choose"),
                CheckResult.atMost("failover RTO vs baseline", 10, 5, "% above", "worst RTO 900 ms now"),
                CheckResult.notJudged("error rate vs baseline", 1, Double.NaN, "points above",
                        "the baseline b measured no error rate", "choose"));
        List<CheckResult> explained = VerdictAssembly.explainUnmeasured(regressions, List.of(p99, rto));
        assertTrue(explained.get(0).detail().startsWith("this run's p99 was not judged: inconclusive: the load "
                + "generator fell behind at seconds 0-29"), explained.get(0).detail());
        assertEquals(GeneratorHealth.FIX, explained.get(0).fix());
        assertSame(regressions.get(1), explained.get(1), "a judged comparison stays as it is");
        assertSame(regressions.get(2), explained.get(2), "the baseline's own gap is the baseline's");
    }
}
