package dev.doorbuster.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import dev.doorbuster.cli.Doorbuster;
import dev.doorbuster.verdict.RunFolders;
import dev.doorbuster.verdict.RunHistory;
import dev.doorbuster.verdict.report.ChaosReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * "The nightly workflow shows a trend after its second night": two nights of the workflow on fresh checkouts, with
 * its cache steps played by copying the folder they name, and everything else the real thing: run folders as a
 * finished run leaves them, the history page as a finished run writes it, and the prune and baseline commands the
 * workflow runs. The second night's history page draws each trend through both nights, and compares with the
 * baseline marked on the first; without the restore it would know one night only.
 */
class NightlyHistoryTest {
    @TempDir
    Path dir;

    /** The Actions cache of the repository: one folder per saved entry, named by its key. */
    Path cache;
    String historyPath;
    String keyPrefix;
    String keep;

    @Test
    void theSecondNightShowsATrendThroughBothNights() throws IOException {
        readTheWorkflow();
        cache = Files.createDirectories(dir.resolve("actions-cache"));

        Path firstNight = checkout("night-1");
        restore(firstNight);
        assertFalse(Files.exists(firstNight.resolve(historyPath).resolve(RunHistory.PAGE)), "nothing to restore on the first night");
        Path first = finishedRun(firstNight, "soaksimulation-20261201010000000", "2026-12-01T01:00:00Z", 210);
        assertTrue(history(firstNight).contains("SoakSimulation: trends over 1 run(s)"));
        doorbuster("baseline", first.toString()); // a QA engineer marks the first good night
        afterTheSoak(firstNight, "1001-1");

        Path secondNight = checkout("night-2");
        restore(secondNight);
        finishedRun(secondNight, "soaksimulation-20261202010000000", "2026-12-02T01:00:00Z", 315);
        String page = history(secondNight);
        assertTrue(page.contains("SoakSimulation: trends over 2 run(s)"), page);
        List<String> charts = List.of(page.split("<svg")).subList(1, page.split("<svg").length);
        assertFalse(charts.isEmpty(), "trend charts are drawn");
        for (String chart : charts) {
            String svg = chart.substring(0, chart.indexOf("</svg>"));
            assertEquals(2, svg.split("<circle", -1).length - 1, "a point per night: " + svg);
            assertEquals(2, svg.substring(svg.indexOf("points=\"")).trim().split("\"")[1].trim().split(" ").length,
                    "a line through both nights");
        }
        assertTrue(page.contains("315 ms <span class=\"worse\">(+50%)</span>"), "the second night against the baseline");
        assertTrue(RunHistory.baseline(secondNight.resolve(historyPath), "SoakSimulation", null).isPresent(),
                "the baseline gate has its baseline on the second night");
        afterTheSoak(secondNight, "1002-1");

        Path forgetful = checkout("night-2-without-restore");
        finishedRun(forgetful, "soaksimulation-20261202010000000", "2026-12-02T01:00:00Z", 315);
        assertTrue(history(forgetful).contains("SoakSimulation: trends over 1 run(s)"), "the restore is what makes the trend");
    }

    @Test
    void theHistoryStaysWithinItsBoundNightAfterNight() throws IOException {
        readTheWorkflow();
        cache = Files.createDirectories(dir.resolve("actions-cache"));
        int nights = Integer.parseInt(keep) + 3;
        for (int night = 1; night <= nights; night++) {
            Path workspace = checkout("night-" + night);
            restore(workspace);
            String day = String.format("%02d", night);
            finishedRun(workspace, "soaksimulation-202612" + day + "010000000", "2026-12-" + day + "T01:00:00Z", 200 + night);
            afterTheSoak(workspace, night + "-1");
        }
        Path last = checkout("the-morning-after");
        restore(last);
        try (Stream<Path> runs = Files.list(last.resolve(historyPath))) {
            assertEquals(Integer.parseInt(keep), runs.filter(Files::isDirectory).count(), "the newest " + keep + " nights");
        }
        assertTrue(history(last).contains("trends over " + keep + " run(s)"));
    }

    /** The cache step's folder and key prefix, and the runs the prune step keeps, as the workflow says. */
    private void readTheWorkflow() throws IOException {
        NightlyWorkflowTest.Soak soak = NightlyWorkflowTest.Soak.of(NightlyWorkflowTest.WORKFLOW);
        JsonNode restore = soak.steps().get(soak.index(s -> s.path("uses").asText().startsWith("actions/cache/restore@"),
                "restores the cache")).path("with");
        historyPath = restore.path("path").asText();
        keyPrefix = restore.path("restore-keys").asText().trim();
        keep = soak.workflow().path("env").path("HISTORY_RUNS").asText();
        assertEquals(NightlyWorkflowTest.HISTORY_PATH, historyPath);
    }

    /** A fresh checkout: reports/ holds only what Git tracks there. */
    private Path checkout(String name) throws IOException {
        Path workspace = dir.resolve(name);
        Files.createDirectories(workspace.resolve(historyPath));
        Files.writeString(workspace.resolve(historyPath).resolve("README.md"), "tracked by Git\n");
        return workspace;
    }

    /** actions/cache/restore with no exact hit: the newest entry whose key starts with the prefix, if any. */
    private void restore(Path workspace) throws IOException {
        try (Stream<Path> entries = Files.list(cache)) {
            Path newest = entries.filter(e -> e.getFileName().toString().startsWith(keyPrefix))
                    .max(Comparator.comparing(e -> modified(e))).orElse(null);
            if (newest != null) {
                copy(newest, workspace.resolve(historyPath));
            }
        }
    }

    /** The steps after the soak: `doorbuster prune --keep $HISTORY_RUNS`, then actions/cache/save under a new key. */
    private void afterTheSoak(Path workspace, String runIdAndAttempt) throws IOException {
        assertEquals(0, doorbuster("prune", "--keep", keep, "--reports", workspace.resolve(historyPath).toString()));
        Path entry = cache.resolve(keyPrefix + runIdAndAttempt);
        assertFalse(Files.exists(entry), "a cache key is used once");
        copy(workspace.resolve(historyPath), entry);
        Files.setLastModifiedTime(entry, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis()
                + 1000L * cacheEntries()));
    }

    /** What a finished run leaves: its folder under reports/, then the history page (ReportFiles.afterClose). */
    private Path finishedRun(Path workspace, String name, String startedAt, double p99) throws IOException {
        Path reports = workspace.resolve(historyPath);
        Path run = RunFolders.write(reports, name, "SoakSimulation", startedAt, p99, 0.2, 12);
        ChaosReport.writeHistory(reports);
        return run;
    }

    private String history(Path workspace) throws IOException {
        return Files.readString(workspace.resolve(historyPath).resolve(RunHistory.PAGE));
    }

    private int doorbuster(String... args) {
        StringWriter err = new StringWriter();
        int code = Doorbuster.run(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true), args);
        assertEquals(0, code, String.join(" ", args) + ": " + err);
        return code;
    }

    private long cacheEntries() throws IOException {
        try (Stream<Path> entries = Files.list(cache)) {
            return entries.count();
        }
    }

    private static long modified(Path p) {
        try {
            return Files.getLastModifiedTime(p).toMillis();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void copy(Path from, Path to) throws IOException {
        try (Stream<Path> all = Files.walk(from)) {
            for (Path source : all.toList()) {
                Path target = to.resolve(from.relativize(source).toString());
                if (Files.isDirectory(source)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }
}
