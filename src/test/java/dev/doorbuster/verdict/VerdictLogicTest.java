package dev.doorbuster.verdict;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import dev.doorbuster.chaos.FaultTimeline;
import dev.doorbuster.topology.Environment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The verdict's own logic, on recorded data: parsing, windows, checks, files. */
class VerdictLogicTest {
    private static final Environment.Slo SLO = new Environment.Slo(100, Map.of("checkout", 300), 500, 2.0, 0, 0, 0,
            0, 15_000, 0, 0, 1.5, 2.0, 1000, 5.0, 95.0, 50.0, 15);

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
        timeline.add("F1 PrimaryFailover", FaultTimeline.Kind.EFFECT, "rto", Map.of("rtoMs", 20_000.0));
        List<ProbeSample> probes = List.of(sample(0, 0), sample(19, 7));
        WriteLedger.Audit audit = new WriteLedger.Audit(List.of(new WriteLedger.KindAudit("order", 100, 2, 1, 0, 0, 0,
                List.of(new WriteLedger.Named("k7", "order:k7", 3, 4.2), new WriteLedger.Named("k9", "order:k9", 4, 4.9)),
                List.of())), null, java.util.Set.of("k7", "k9"));
        SessionReport sessions = new SessionReport(List.of(new SessionReport.GuaranteeResult(
                Guarantee.READ_YOUR_WRITES_IMMEDIATE, "read-your-writes (immediate)", 40, 3, 0, List.of(),
                Map.of(2, 2L, 15, 1L))), 0, List.of());
        List<CheckResult> checks = Judge.evaluate(new Judge.Facts(JudgingMode.STANDARD, SLO, 5000, r,
                List.of(new Phase("calm", 0, 10), new Phase("storm", 10, 20)), timeline, probes, sessions, 3, 0, audit,
                null));

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

    @Test
    void overloadRunsAreJudgedOnGracefulness() {
        LatencyRecorder r = new LatencyRecorder(0);
        for (int s = 0; s < 30; s++) {
            r.record("browse", s, s < 20 ? 900_000 : 5_000, s >= 20 || s % 2 == 0);
        }
        List<ProbeSample> probes = List.of(sample(0, 0), sample(29, 40));
        List<CheckResult> checks = Judge.evaluate(new Judge.Facts(JudgingMode.OVERLOAD, SLO, 1000, r,
                List.of(new Phase("ramp", 0, 20), new Phase(Judge.RECOVERY_PHASE, 20, 30)),
                new FaultTimeline(System.nanoTime()), probes, null, 0, 10, null, null));
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
        ChaosReport.write(dir.resolve("run").resolve("chaos.html"), v, r, List.of(sample(0, 0)), List.of(), timeline);
        String html = Files.readString(dir.resolve("run").resolve("chaos.html"));
        assertTrue(html.contains("FAILED") && html.contains("slow &lt;database&gt;") && html.contains("<svg"), html);
        ChaosReport.writeHistory(dir);
        assertTrue(Files.readString(dir.resolve("index.html")).contains("TestSimulation"));
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
