package dev.doorbuster.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

import dev.doorbuster.verdict.report.ChaosReport;
import dev.doorbuster.verdict.recording.Recording;
import dev.doorbuster.verdict.RunHistory;
import dev.doorbuster.verdict.Verdict;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code doorbuster report}: rebuilds {@code chaos.html} of run folders from what they recorded, and the
 * history page, without rerunning anything. A missing or corrupt file is named, and the rest is rendered.
 */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = "Rebuild " + ChaosReport.FILE + " of run folders from their recorded data (" + Verdict.JSON_FILE
                + ", " + Recording.LATENCY + ", " + Recording.COUNTS + ", " + Recording.PROBES + ", " + Recording.PHASES
                + ") and the history page reports/" + RunHistory.PAGE + ", without rerunning. "
                + "Missing or corrupt files are named; what is there is rendered.")
final class ReportCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(arity = "0..*", paramLabel = "RUN_FOLDER",
            description = "Run folders to rebuild (reports/<simulation>-<timestamp>). Default: every run under --reports.")
    List<Path> runs = new ArrayList<>();

    @Option(names = "--reports", description = "Folder of the runs and the history page. Default: the doorbuster.reports "
            + "property, else ./reports.")
    Path reports;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Path reportsDir = reports != null ? reports : RunHistory.reportsDir();
        List<Path> folders = new ArrayList<>(runs);
        if (folders.isEmpty()) {
            if (!Files.isDirectory(reportsDir)) {
                err.println("doorbuster report: " + reportsDir.toAbsolutePath() + " does not exist: name run folders, or "
                        + "--reports with the folder that holds them.");
                return 1;
            }
            try (Stream<Path> dirs = Files.list(reportsDir)) {
                dirs.filter(d -> Files.isRegularFile(d.resolve(Verdict.JSON_FILE))
                        || Files.isRegularFile(d.resolve(Recording.LATENCY))).sorted().forEach(folders::add);
            }
        }
        int failures = 0;
        for (Path run : folders) {
            if (!Files.isDirectory(run)) {
                err.println("doorbuster report: " + run + " is not a folder (expected a run folder such as "
                        + "reports/blackfridaysimulation-20261201010000000).");
                failures++;
                continue;
            }
            List<String> problems = ChaosReport.rebuild(run);
            out.println(run.resolve(ChaosReport.FILE) + (problems.isEmpty() ? "" : " (rendered what was there)"));
            problems.forEach(p -> out.println("  " + run.getFileName() + "/" + p));
        }
        ChaosReport.writeHistory(reportsDir);
        out.println(reportsDir.resolve(RunHistory.PAGE));
        return failures == 0 ? 0 : 1;
    }
}
