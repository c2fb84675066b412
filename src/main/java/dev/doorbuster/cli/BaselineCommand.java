package dev.doorbuster.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import dev.doorbuster.verdict.report.ChaosReport;
import dev.doorbuster.verdict.RunHistory;
import dev.doorbuster.verdict.Verdict;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code doorbuster baseline RUN_FOLDER}: the run later runs of its simulation are compared with. */
@Command(name = "baseline", mixinStandardHelpOptions = true,
        description = "Mark a run as the baseline of its simulation (kept in reports/" + RunHistory.BASELINES + "): later "
                + "runs of the same simulation show their deltas against it on reports/" + RunHistory.PAGE + ", and fail "
                + "when worse than the "
                + "environment's slo.regression budgets. -Dbaseline=<run folder> overrides it for one run.")
final class BaselineCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "RUN_FOLDER", description = "The run folder, e.g. reports/blackfridaysimulation-20261201014424868")
    Path run;

    @Override
    public Integer call() throws IOException {
        if (!Files.isRegularFile(run.resolve(Verdict.JSON_FILE))) {
            spec.commandLine().getErr().println("doorbuster baseline: " + run + " is not a run folder (it has no "
                    + Verdict.JSON_FILE + "); name one under reports/, e.g. reports/blackfridaysimulation-20261201014424868");
            return 1;
        }
        String simulation = RunHistory.markBaseline(run);
        Path reports = run.toAbsolutePath().getParent();
        ChaosReport.writeHistory(reports);
        spec.commandLine().getOut().println(run.getFileName() + " is now the baseline of " + simulation + " ("
                + reports.resolve(RunHistory.BASELINES) + ")");
        return 0;
    }
}
