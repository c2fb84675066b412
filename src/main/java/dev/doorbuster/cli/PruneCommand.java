package dev.doorbuster.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

import dev.doorbuster.verdict.RunHistory;
import dev.doorbuster.verdict.Verdict;
import dev.doorbuster.verdict.report.ChaosReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code doorbuster prune --keep N}: bounds the history a nightly job carries from one night to the next. Keeps the
 * newest N runs of each simulation (so every simulation's trend keeps N points, however often others run) and every
 * baseline run (the regression checks compare with it); deletes the other run folders, then rewrites the history page.
 * Only folders the history counts as runs (those with a verdict.json) are ever deleted; an unreadable one is left
 * alone and named, since nobody can tell which simulation's it is.
 */
@Command(name = "prune", mixinStandardHelpOptions = true,
        description = "Keep the newest --keep runs of each simulation under reports/ and every baseline run ("
                + RunHistory.BASELINES + "); delete the older run folders and rewrite reports/" + RunHistory.PAGE
                + ". For a history that must stay small, such as a CI cache.")
final class PruneCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--keep", required = true, paramLabel = "N",
            description = "Runs to keep per simulation, newest first (at least 1).")
    int keep;

    @Option(names = "--reports", description = "Folder of the runs and the history page. Default: the doorbuster.reports "
            + "property, else ./reports.")
    Path reports;

    @Option(names = "--dry-run", description = "Only say which run folders would be deleted.")
    boolean dryRun;

    /** What a prune did (or, dry, would do). */
    record Outcome(List<Path> deleted, List<Path> kept, List<Path> unreadable) {
    }

    @Override
    public Integer call() throws IOException {
        if (keep < 1) {
            throw new ParameterException(spec.commandLine(), "--keep must be at least 1 (got " + keep + "): the run "
                    + "that just finished is always kept.");
        }
        PrintWriter out = spec.commandLine().getOut();
        Path reportsDir = reports != null ? reports : RunHistory.reportsDir();
        if (!Files.isDirectory(reportsDir)) {
            out.println(reportsDir + " does not exist yet: nothing to prune.");
            return 0;
        }
        Outcome outcome = prune(reportsDir, keep, dryRun);
        for (Path run : outcome.deleted()) {
            out.println((dryRun ? "would delete " : "deleted ") + run);
        }
        for (Path run : outcome.unreadable()) {
            out.println("left alone (its " + Verdict.JSON_FILE + " cannot be read): " + run);
        }
        out.println((dryRun ? "Would keep " : "Kept ") + outcome.kept().size() + " run(s): the newest " + keep
                + " of each simulation and every baseline.");
        if (!dryRun) {
            ChaosReport.writeHistory(reportsDir);
            out.println(reportsDir.resolve(RunHistory.PAGE));
        }
        return 0;
    }

    /** Deletes (unless {@code dryRun}) every run folder of {@code reportsDir} but the newest {@code keep} of each simulation and the baselines. */
    static Outcome prune(Path reportsDir, int keep, boolean dryRun) throws IOException {
        Set<String> baselines = new HashSet<>(RunHistory.baselines(reportsDir).values());
        Map<String, Integer> keptPerSimulation = new HashMap<>();
        List<Path> deleted = new ArrayList<>();
        List<Path> kept = new ArrayList<>();
        List<Path> unreadable = new ArrayList<>();
        for (RunHistory.Entry run : RunHistory.runs(reportsDir)) { // newest first
            if (run.verdict() == null) {
                unreadable.add(run.dir());
            } else if (baselines.contains(run.name())
                    || keptPerSimulation.merge(run.verdict().simulation(), 1, Integer::sum) <= keep) {
                kept.add(run.dir());
            } else {
                deleted.add(run.dir());
            }
        }
        if (!dryRun) {
            for (Path run : deleted) {
                deleteTree(run);
            }
        }
        return new Outcome(deleted, kept, unreadable);
    }

    /** Deletes a run folder and everything in it, deepest first; links are deleted, never followed. */
    private static void deleteTree(Path dir) throws IOException {
        List<Path> paths;
        try (Stream<Path> walk = Files.walk(dir)) {
            paths = walk.sorted(Comparator.reverseOrder()).toList();
        }
        for (Path p : paths) {
            Files.deleteIfExists(p);
        }
    }
}
