package dev.doorbuster.verdict.recording;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;


import dev.doorbuster.chaos.FaultTimeline;
import dev.doorbuster.cli.Doorbuster;
import dev.doorbuster.verdict.CheckResult;
import dev.doorbuster.verdict.Phase;
import dev.doorbuster.verdict.RunHistory;
import dev.doorbuster.verdict.Verdict;
import dev.doorbuster.verdict.probes.ProbeSample;
import dev.doorbuster.verdict.report.ChaosReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The run's recorded data on disk: written, read back exactly, and reports rebuilt from it even when some is lost. */
class RecordingTest {
    @TempDir
    Path dir;

    @Test
    void whatIsReadBackIsWhatWasRecorded() throws Exception {
        LatencyRecorder recorder = sampleRecorder();
        List<ProbeSample> probes = List.of(sample(0), sample(1));
        List<Phase> phases = List.of(new Phase("calm", 0, 5), new Phase("storm, at night", 5, 10));
        Recording.write(dir, recorder, probes, phases);

        Recording.Loaded back = Recording.read(dir);
        assertEquals(List.of(Verdict.JSON_FILE + ": missing"), back.problems());
        assertEquals(recorder.names(), back.recorder().names());
        for (String name : recorder.names()) {
            for (int[] window : new int[][] {{0, 10}, {0, 5}, {5, 10}, {7, 8}}) {
                assertEquals(recorder.counts(name, window[0], window[1]), back.recorder().counts(name, window[0], window[1]));
                assertEquals(recorder.histogram(name, window[0], window[1]).getValueAtPercentile(99),
                        back.recorder().histogram(name, window[0], window[1]).getValueAtPercentile(99), name);
                assertEquals(recorder.histogram(name, window[0], window[1]).getTotalCount(),
                        back.recorder().histogram(name, window[0], window[1]).getTotalCount());
            }
        }
        assertEquals(recorder.lastSecond(), back.recorder().lastSecond());
        assertEquals(probes, back.probes());
        assertEquals(phases, back.phases());
        assertTrue(Files.readString(dir.resolve(Recording.LATENCY)).contains("Tag=checkout:%20place%20order"),
                "request names are HdrHistogram tags");
    }

    @Test
    void aCorruptOrMissingFileIsNamedAndTheRestIsRendered() throws Exception {
        Path run = dir.resolve("blackfridaysimulation-20261201000000000");
        Recording.write(run, sampleRecorder(), List.of(sample(0)), List.of(new Phase("calm", 0, 10)));
        FaultTimeline timeline = new FaultTimeline(System.nanoTime());
        timeline.add("F1 DbLatency", FaultTimeline.Kind.INJECT, "slow database");
        Verdict.of("BlackFridaySimulation", "local", "2026-12-01T00:00:00Z", 10, List.of(new CheckResult("p99", 100,
                80, "ms", true, "fine")), 100, 0, null, null, null, timeline.events()).writeJson(run.resolve(Verdict.JSON_FILE));
        List<String> lines = Files.readAllLines(run.resolve(Recording.LATENCY));
        Files.write(run.resolve(Recording.LATENCY), lines.subList(0, lines.size() - 3));
        Files.writeString(run.resolve(Recording.LATENCY), "Tag=browse,7.000,1.000,0.5,#not-base64!!\n",
                java.nio.file.StandardOpenOption.APPEND);
        Files.delete(run.resolve(Recording.PROBES));

        List<String> problems = ChaosReport.rebuild(run);
        assertEquals(2, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith(Recording.LATENCY + ": corrupt after "), problems.toString());
        assertEquals(Recording.PROBES + ": missing", problems.get(1));
        String html = Files.readString(run.resolve(ChaosReport.FILE));
        assertTrue(html.contains(Recording.PROBES + ": missing") && html.contains("PASSED") && html.contains("slow database")
                && html.contains("class=\"chart\" data-chart="), "named, and the rest rendered");

        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Doorbuster.run(new PrintWriter(out, true), new PrintWriter(err, true), "report", "--reports",
                dir.toString(), run.toString());
        assertEquals(0, code, err.toString());
        assertTrue(out.toString().contains(Recording.PROBES + ": missing"), out.toString());
        assertTrue(Files.readString(dir.resolve(RunHistory.PAGE)).contains("BlackFridaySimulation"), "the history too");

        Files.writeString(run.resolve(Verdict.JSON_FILE), "{\"simulation\": ");
        assertTrue(ChaosReport.rebuild(run).get(0).startsWith(Verdict.JSON_FILE + ": corrupt"));
        assertTrue(Files.readString(run.resolve(ChaosReport.FILE)).contains("whether this run passed is unknown"));
    }

    @Test
    void badReportCommandLines() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertEquals(1, Doorbuster.run(new PrintWriter(out, true), new PrintWriter(err, true), "report", "--reports",
                dir.resolve("nowhere").toString()));
        assertTrue(err.toString().contains("does not exist"), err.toString());
        assertEquals(1, Doorbuster.run(new PrintWriter(out, true), new PrintWriter(err, true), "report", "--reports",
                dir.toString(), dir.resolve("not-a-run").toString()));
        assertTrue(err.toString().contains("is not a folder"), err.toString());
        assertEquals(2, Doorbuster.run(new PrintWriter(out, true), new PrintWriter(err, true), "report", "--bogus"));
    }

    private static LatencyRecorder sampleRecorder() {
        LatencyRecorder r = new LatencyRecorder(0);
        for (int s = 0; s < 10; s++) {
            for (int i = 0; i < 20 + s; i++) {
                r.record("browse", s, 1_000 + 500L * i + 7L * s, i % 9 != 0);
            }
            if (s % 3 == 0) {
                r.record("checkout: place order", s, 250_000 + s, true);
            }
        }
        return r;
    }

    private static ProbeSample sample(int second) {
        return new ProbeSample(second, 1, 9, 0, 1, 9, 0, 0, 0, 0, 0, 1200, 40);
    }

}
