package dev.doorbuster.verdict.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import dev.doorbuster.verdict.PoolerReport;
import dev.doorbuster.verdict.Verdict;
import dev.doorbuster.verdict.probes.PoolerSample;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pooler's per-second view summed up for the verdict, its first-screen lines, and its trip through verdict.json. */
class PoolerReportTest {
    @TempDir
    Path dir;

    /** 20 clients on 3 servers; at second 2 a pause queues 7 of them for up to 1.4 s; second 3 the console is down. */
    private static final List<PoolerSample> SAMPLES = List.of(
            new PoolerSample(0, 20, 0, 3, 0),
            new PoolerSample(1, 20, 0, 3, 0),
            new PoolerSample(2, 13, 7, 3, 1400),
            new PoolerSample(3, Double.NaN, Double.NaN, Double.NaN, Double.NaN),
            new PoolerSample(4, 18, 0, 2, 0));

    @Test
    void noSamplesIsARunWithoutAPooler() {
        assertEquals(Optional.empty(), PoolerReport.of(List.of()));
    }

    @Test
    void peaksAreTheReadableSecondsHighestAndEverySecondKeepsItsPlace() {
        PoolerReport report = PoolerReport.of(SAMPLES).orElseThrow();
        assertEquals(20, report.peakClients());
        assertEquals(7, report.peakClientsWaiting());
        assertEquals(3, report.peakServers());
        assertEquals(1400, report.longestWaitMs());
        assertEquals(1, report.unreadableSeconds());
        assertEquals(List.of(0.0, 0.0, 7.0, Double.NaN, 0.0), report.clientsWaitingPerSecond());
        assertEquals(List.of(20.0, 20.0, 20.0, Double.NaN, 18.0), report.clientsPerSecond());
        assertEquals(List.of(3.0, 3.0, 3.0, Double.NaN, 2.0), report.serversPerSecond());
    }

    @Test
    void aConsoleThatNeverAnsweredHasNoPeaks() {
        PoolerReport report = PoolerReport.of(List.of(new PoolerSample(0, Double.NaN, Double.NaN, Double.NaN,
                Double.NaN))).orElseThrow();
        assertTrue(Double.isNaN(report.peakServers()));
        assertEquals(1, report.unreadableSeconds());
    }

    @Test
    void theFirstScreenSaysWhatWasMultiplexedAndWhoWaited() {
        StringBuilder html = new StringBuilder();
        ChaosReport.poolerSummary(html, PoolerReport.of(SAMPLES).orElseThrow());
        String text = html.toString();
        assertTrue(text.contains("The pooler held at most 20 of the service's connections, on at most 3 server "
                + "connections to the database."), text);
        assertTrue(text.contains("Up to 7 clients waited for a server connection at once; the longest wait was 1400 ms."),
                text);
        assertTrue(text.contains("did not answer in 1 second(s)"), text);

        StringBuilder calm = new StringBuilder();
        ChaosReport.poolerSummary(calm, PoolerReport.of(SAMPLES.subList(0, 2)).orElseThrow());
        assertTrue(calm.toString().contains("No client waited for a server connection"), calm.toString());
        assertFalse(calm.toString().contains("did not answer"), calm.toString());

        StringBuilder none = new StringBuilder();
        ChaosReport.poolerSummary(none, null);
        assertEquals("", none.toString(), "a run without a pooler says nothing of one");
    }

    @Test
    void itTravelsThroughVerdictJsonUnreadableSecondsIncluded() throws IOException {
        PoolerReport report = PoolerReport.of(SAMPLES).orElseThrow();
        Verdict verdict = Verdict.of("S", "local", "2026-12-07T00:00:00Z", 5, List.of(), 0, 0, null, null, null,
                List.of()).withPooler(report);
        Path file = dir.resolve(Verdict.JSON_FILE);
        verdict.writeJson(file);
        PoolerReport back = Verdict.readJson(file).pooler();
        assertEquals(report.peakClientsWaiting(), back.peakClientsWaiting());
        assertEquals(report.clientsWaitingPerSecond(), back.clientsWaitingPerSecond());
        assertNull(Verdict.of("S", "local", "2026-12-07T00:00:00Z", 5, List.of(), 0, 0, null, null, null, List.of())
                .pooler());
    }

    /** The pooler's longest wait against the budget, from the first judged second; no readable second: not judged. */
    @Test
    void clientsWaitingAtThePoolerLongerThanTheBudgetFailPoolExhaustionThere() {
        PoolerReport report = PoolerReport.of(SAMPLES).orElseThrow();
        dev.doorbuster.verdict.CheckResult slow = report.waitCheck(1000, 0);
        assertEquals(PoolerReport.WAIT_CHECK, slow.name());
        assertFalse(slow.pass(), slow.line());
        assertEquals(1400, slow.actual());
        assertTrue(slow.detail().contains("at second 2"), slow.detail());
        assertTrue(report.waitCheck(1500, 0).pass(), "within a budget of 1.5 s");
        dev.doorbuster.verdict.CheckResult afterWarmUp = report.waitCheck(1000, 3);
        assertTrue(afterWarmUp.pass() && afterWarmUp.actual() == 0, "the wait at second 2 was in the warm-up: "
                + afterWarmUp.line());
        PoolerReport silent = PoolerReport.of(List.of(new PoolerSample(0, Double.NaN, Double.NaN, Double.NaN,
                Double.NaN))).orElseThrow();
        assertTrue(silent.waitCheck(1000, 0).notJudged(), "no second read: not judged");
    }

    /** SHOW STATS' totals become per-second figures; a restart's totals start again at 0 and leave a gap, not a dip. */
    @Test
    void thePoolersTotalsBecomePerSecondFiguresAndARestartLeavesAGap() {
        PoolerReport report = PoolerReport.of(List.of(
                new PoolerSample(0, 20, 0, 3, 0, 100, 0),
                new PoolerSample(1, 20, 0, 3, 0, 160, 0),
                new PoolerSample(2, 13, 7, 3, 1400, 170, 2500),
                new PoolerSample(3, 18, 0, 2, 0, 12, 0),
                new PoolerSample(4, 18, 0, 2, 0, 70, 0))).orElseThrow();
        assertEquals(List.of(Double.NaN, 60.0, 10.0, Double.NaN, 58.0), report.transactionsPerSecond());
        assertEquals(List.of(Double.NaN, 0.0, 2500.0, Double.NaN, 0.0), report.waitedMsPerSecond());
        PoolerReport poolsOnly = PoolerReport.of(SAMPLES).orElseThrow();
        assertTrue(poolsOnly.transactionsPerSecond().stream().allMatch(v -> v.isNaN()), "no SHOW STATS read: gaps");
    }
}
