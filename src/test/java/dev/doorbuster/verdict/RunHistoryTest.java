package dev.doorbuster.verdict;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.doorbuster.cli.Doorbuster;
import dev.doorbuster.topology.Environment;
import dev.doorbuster.verdict.recording.Recording;
import dev.doorbuster.verdict.report.ChaosReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The history page: rows, trends, baselines, deltas and regression budgets, from run folders on disk. */
class RunHistoryTest {
    @TempDir
    Path reports;

    @Test
    void threeRunsGiveThreeRowsTrendsOfThreePointsAndDeltasAgainstTheBaseline() throws Exception {
        Path first = run("blackfridaysimulation-20261201010000000", "2026-12-01T01:00:00Z", 200, 1.0, 40);
        run("blackfridaysimulation-20261201020000000", "2026-12-01T02:00:00Z", 300, 0.5, 50);
        run("blackfridaysimulation-20261201030000000", "2026-12-01T03:00:00Z", 100, 2.0, 60);
        StringWriter out = new StringWriter();
        assertEquals(0, Doorbuster.run(new PrintWriter(out, true), new PrintWriter(new StringWriter(), true), "baseline",
                first.toString()));
        assertTrue(out.toString().contains("is now the baseline of BlackFridaySimulation"), out.toString());

        List<RunHistory.Entry> runs = RunHistory.runs(reports);
        assertEquals(List.of("blackfridaysimulation-20261201030000000", "blackfridaysimulation-20261201020000000",
                "blackfridaysimulation-20261201010000000"), runs.stream().map(RunHistory.Entry::name).toList(),
                "newest first");
        assertEquals(60, runs.get(0).headline().peakRate(), "the busiest second, from counts.csv");

        String html = Files.readString(reports.resolve(RunHistory.PAGE));
        assertEquals(3, count(html, "/" + ChaosReport.FILE + "\">"), "three rows");
        for (String svg : html.split("<svg").length > 1 ? List.of(html.split("<svg")).subList(1, html.split("<svg").length)
                : List.<String>of()) {
            assertEquals(3, count(svg.substring(0, svg.indexOf("</svg>")), "<circle"), "three points per trend");
        }
        assertTrue(html.contains("300 ms <span class=\"worse\">(+50%)</span>"), "p99 200 → 300 ms: +50%");
        assertTrue(html.contains("100 ms <span class=\"better\">(-50%)</span>"), "p99 200 → 100 ms: -50%");
        assertTrue(html.contains("<b>baseline</b>"));

        Path third = reports.resolve("blackfridaysimulation-20261201030000000");
        ChaosReport.rebuild(third);
        String page = Files.readString(third.resolve(ChaosReport.FILE));
        assertTrue(page.contains("Against the baseline <a href=\"../blackfridaysimulation-20261201010000000/" + ChaosReport.FILE + "\">")
                && page.contains("p99 100 ms <span class=\"better\">(-50%)</span>"), "the first screen compares");
        ChaosReport.rebuild(first);
        assertTrue(Files.readString(first.resolve(ChaosReport.FILE)).contains("This run is the baseline of"));
    }

    @Test
    void regressionBudgetsAgainstTheBaseline() throws Exception {
        run("base", "2026-12-01T01:00:00Z", 200, 1.0, 40);
        RunHistory.markBaseline(reports.resolve("base"));
        RunHistory.Entry base = RunHistory.baseline(reports, "BlackFridaySimulation", null).orElseThrow();
        RunHistory.Headline now = new RunHistory.Headline(260, 1.5, Double.NaN, java.util.Map.of(), 0, 50, 1000);

        List<CheckResult> tight = RunHistory.regressions(now, base, new Environment.Regression(20.0, 0.25, 10.0));
        assertEquals(List.of("p99 vs baseline", "error rate vs baseline"), tight.stream().map(CheckResult::name).toList(),
                "no RTO in either run: no RTO check");
        assertFalse(tight.get(0).pass(), tight.get(0).line());
        assertEquals(30, tight.get(0).actual(), 0.01);
        assertFalse(tight.get(1).pass(), tight.get(1).line());
        assertEquals(0.5, tight.get(1).actual(), 0.001);
        List<CheckResult> loose = RunHistory.regressions(now, base, new Environment.Regression(40.0, 1.0, null));
        assertTrue(loose.stream().allMatch(CheckResult::pass), loose.toString());
        assertEquals(List.of(), RunHistory.regressions(now, base, new Environment.Regression(null, null, null)));

        // A failover in this run only: its RTO regression cannot be compared, which is said, not left out.
        RunHistory.Headline failedOver = new RunHistory.Headline(260, 1.5, 4000, java.util.Map.of(), 0, 50, 1000);
        List<CheckResult> rto = RunHistory.regressions(failedOver, base, new Environment.Regression(null, null, 10.0));
        assertEquals(List.of("failover RTO vs baseline"), rto.stream().map(CheckResult::name).toList());
        assertTrue(rto.get(0).notJudged() && rto.get(0).notJudgedAskedFor(), rto.get(0).line());
        assertTrue(rto.get(0).detail().equals("the baseline base measured no failover RTO"), rto.get(0).line());

        assertTrue(RunHistory.baseline(reports, "BlackFridaySimulation", "no-such-run").isEmpty());
        assertTrue(RunHistory.baseline(reports, "SoakSimulation", null).isEmpty(), "no baseline marked for it");
    }

    /**
     * A capacity search's capacity, read back from its verdict.json: a drop beyond the budget fails "capacity vs
     * baseline", a rise never does, and the history page colours the drop as worse (higher is better here).
     */
    @Test
    void aCapacityBelowTheBaselinesBeyondItsBudgetIsARegression() throws Exception {
        Path base = run("capacity-base", "2026-12-01T01:00:00Z", 200, 0, 40);
        Verdict.readJson(base.resolve(Verdict.JSON_FILE)).withCapacity(capacity(80))
                .writeJson(base.resolve(Verdict.JSON_FILE));
        RunHistory.markBaseline(base);
        RunHistory.Entry baseline = RunHistory.baseline(reports, "BlackFridaySimulation", null).orElseThrow();
        assertEquals(80, baseline.headline().capacity(), "read back from verdict.json");
        Environment.Regression budget = new Environment.Regression(null, null, null, 10.0);

        Path dropped = run("capacity-now", "2026-12-02T01:00:00Z", 200, 0, 40);
        Verdict now = Verdict.readJson(dropped.resolve(Verdict.JSON_FILE)).withCapacity(capacity(68));
        now.writeJson(dropped.resolve(Verdict.JSON_FILE));
        List<CheckResult> worse = RunHistory.regressions(RunHistory.Headline.of(now, 40), baseline, budget);
        assertEquals(List.of("capacity vs baseline"), worse.stream().map(CheckResult::name).toList());
        assertFalse(worse.get(0).pass(), worse.get(0).line());
        assertEquals(15, worse.get(0).actual(), 0.01, "68 is 15 % below 80");
        assertTrue(worse.get(0).detail().startsWith("capacity 68 shoppers/s now, 80 shoppers/s vs baseline"),
                worse.get(0).line());

        List<CheckResult> better = RunHistory.regressions(RunHistory.Headline.of(now.withCapacity(capacity(95)), 40),
                baseline, budget);
        assertTrue(better.get(0).pass() && better.get(0).actual() == 0, better.get(0).line());
        List<CheckResult> none = RunHistory.regressions(RunHistory.Headline.of(now.withCapacity(null), 40), baseline,
                budget);
        assertTrue(none.get(0).notJudged(), "a run that searched no capacity is not compared: " + none.get(0).line());

        ChaosReport.writeHistory(reports);
        String history = Files.readString(reports.resolve(RunHistory.PAGE));
        assertTrue(history.contains("68 shoppers/s <span class=\"worse\">(-15%)</span>")
                || history.contains("68 <span class=\"worse\">(-15%)</span>"), "a drop in capacity is worse");
    }

    private static dev.doorbuster.verdict.Capacity capacity(double rate) {
        return dev.doorbuster.verdict.Capacity.of(List.of(new dev.doorbuster.verdict.Capacity.Plateau(1, "grow", rate,
                rate * 5, 100, 0, dev.doorbuster.verdict.Capacity.Outcome.PASS, List.of(), null, "p")));
    }

    @Test
    void aBaselineMustBeARun() {
        StringWriter err = new StringWriter();
        assertEquals(1, Doorbuster.run(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true), "baseline",
                reports.resolve("nothing-here").toString()));
        assertTrue(err.toString().contains("is not a run folder"), err.toString());
    }

    private Path run(String name, String startedAt, double p99, double errorRate, int peak) throws Exception {
        Path dir = reports.resolve(name);
        Verdict.of("BlackFridaySimulation", "local", startedAt, 90, List.of(
                CheckResult.atMost("p99", 1000, p99, "ms", ""), CheckResult.atMost("error rate", 2, errorRate, "%", "")),
                1000, 10, null, null, null, List.of()).writeJson(dir.resolve(Verdict.JSON_FILE));
        Files.writeString(dir.resolve(Recording.COUNTS), "second,request,ok,ko\n0,\"browse\"," + (peak - 10) + ",10\n"
                + "1,\"browse\",5,0\n1,\"checkout\",3,0\n");
        return dir;
    }

    private static int count(String text, String needle) {
        Matcher m = Pattern.compile(Pattern.quote(needle)).matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }
}
