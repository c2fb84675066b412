package dev.doorbuster.load;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Stream;

import dev.doorbuster.verdict.RunHistory;
import dev.doorbuster.verdict.report.ChaosReport;
import dev.doorbuster.verdict.Phase;
import dev.doorbuster.verdict.probes.ProbeSample;
import dev.doorbuster.verdict.recording.Recording;
import dev.doorbuster.verdict.Verdict;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A judged run's files, next to Gatling's report in {@code reports/<simulation>-<timestamp>}: verdict.json,
 * junit.xml, the operation history, the recording, chaos.html and the processes' logs; then the reports' index page.
 */
final class ReportFiles {
    private static final Logger log = LoggerFactory.getLogger(ReportFiles.class);

    private final String simulation;
    private final Path reportsDir;
    private final Path workDir;
    /** The folder chosen when the verdict was written: the logs go there too. */
    private volatile Path dir;

    ReportFiles(RunPlan plan) {
        this.simulation = plan.simulation();
        this.reportsDir = plan.reportsDir();
        this.workDir = plan.workDir();
    }

    /** Writes every file of {@code verdict} (a failure to write is logged: the verdict stands) and returns the folder. */
    Path write(Verdict verdict, RunRecording recording, List<ProbeSample> probes, List<Phase> phases) {
        Path into = dir(recording.loadStarted());
        try {
            verdict.writeJson(into.resolve(Verdict.JSON_FILE));
            verdict.writeJunitXml(into.resolve(Verdict.JUNIT_FILE));
            Recording.write(into, recording.recorder(), probes, phases);
            recording.moveRequestLogInto(into);
            ChaosReport.write(into.resolve(ChaosReport.FILE), verdict, recording.recorder(), probes, phases,
                    recording.timeline());
        } catch (IOException e) {
            log.error("Cannot write the verdict files into {}: {}", into, e.toString());
        }
        try {
            recording.consistencyLog().history().writeElleJson(into.resolve(Run.HISTORY_FILE));
        } catch (IOException e) {
            log.error("Cannot write {}: {}", into.resolve(Run.HISTORY_FILE), e.toString());
        }
        return into;
    }

    /** Once the topology stopped (its logs are complete): copies the logs, then updates reports/index.html. */
    void afterClose(Instant loadStarted) {
        copyLogs(dir(loadStarted));
        try {
            ChaosReport.writeHistory(reportsDir);
        } catch (IOException e) {
            log.warn("Cannot update {}: {}", reportsDir.resolve(RunHistory.PAGE), e.toString());
        }
    }

    /**
     * Gatling's folder for this run ({@code reports/<simulation>-<timestamp>}), created when the run
     * started; our files go next to its report. Falls back to a folder of our own.
     */
    private synchronized Path dir(Instant loadStarted) {
        if (dir == null) {
            dir = gatlingDir(loadStarted).orElseGet(() -> reportsDir.resolve(prefix()
                    + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMddHHmmssSSS"))));
        }
        return dir;
    }

    private Optional<Path> gatlingDir(Instant loadStarted) {
        Instant since = loadStarted.minus(Duration.ofMinutes(10));
        try (Stream<Path> dirs = Files.isDirectory(reportsDir) ? Files.list(reportsDir) : Stream.empty()) {
            return dirs.filter(Files::isDirectory)
                    // Gatling's own name: the prefix and a timestamp, nothing else (not a capacity search's folder)
                    .filter(d -> d.getFileName().toString().startsWith(prefix())
                            && d.getFileName().toString().substring(prefix().length()).matches("\\d+"))
                    .filter(d -> modifiedAfter(d, since))
                    .max(Comparator.comparing(d -> d.getFileName().toString()));
        } catch (IOException e) {
            log.debug("Cannot list {}: {}", reportsDir, e.toString());
            return Optional.empty();
        }
    }

    private String prefix() {
        return simulation.toLowerCase(Locale.ROOT) + "-";
    }

    private void copyLogs(Path into) {
        List<Path> logs = new ArrayList<>();
        try (Stream<Path> files = Files.isDirectory(workDir) ? Files.list(workDir) : Stream.empty()) {
            files.filter(f -> f.getFileName().toString().endsWith(".log")).forEach(logs::add);
        } catch (IOException e) {
            return;
        }
        for (Path logFile : logs) {
            try {
                Files.createDirectories(into.resolve("logs"));
                Files.copy(logFile, into.resolve("logs").resolve(logFile.getFileName()),
                        StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                log.debug("Cannot copy {}: {}", logFile, e.toString());
            }
        }
    }

    private static boolean modifiedAfter(Path dir, Instant since) {
        try {
            return Files.getLastModifiedTime(dir).toInstant().isAfter(since);
        } catch (IOException e) {
            return false;
        }
    }
}
