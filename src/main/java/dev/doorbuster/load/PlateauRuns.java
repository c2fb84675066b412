package dev.doorbuster.load;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import dev.doorbuster.process.Classpath;
import dev.doorbuster.process.DoorbusterHome;
import dev.doorbuster.process.ProcessRegistry;
import dev.doorbuster.verdict.Capacity;
import dev.doorbuster.verdict.CheckResult;
import dev.doorbuster.verdict.GeneratorHealth;
import dev.doorbuster.verdict.RunHistory;
import dev.doorbuster.verdict.Verdict;
import dev.doorbuster.verdict.VerdictAssembly;

/**
 * The capacity search's plateaus, each a run of the same simulation in a JVM of its own ({@code -Dcapacity=plateau}):
 * its own topology, recording and verdict, so that a plateau is judged exactly as any run is and nothing of one
 * plateau (a backlog, a pool, a cache) carries into the next. The plateaus' run folders go into the search's folder,
 * which has its own history page.
 */
final class PlateauRuns implements CapacitySearch.Trial {
    /** Options of this JVM a plateau's must not inherit: a debugger's port, and what the plateau sets itself. */
    private static final List<String> NOT_INHERITED = List.of("-agentlib:jdwp", "-Xrunjdwp", "-D" + CapacitySearch.MODE
            + "=", "-D" + CapacitySearch.RATE + "=", "-D" + RunHistory.REPORTS_PROPERTY + "=", "-D" + Run.BASELINE + "=",
            "-Ddoorbuster.instance=");

    private final String simulationClass;
    private final Path folder;
    private final Duration timeout;

    /**
     * @param folder   where the plateaus' run folders go
     * @param length   a plateau's load length: it is given that and ten minutes to finish
     */
    PlateauRuns(String simulationClass, Path folder, Duration length) {
        this.simulationClass = simulationClass;
        this.folder = folder;
        this.timeout = length.plus(Duration.ofMinutes(10));
    }

    @Override
    public Capacity.Plateau run(int index, String purpose, double rate) throws IOException, InterruptedException {
        System.out.printf(Locale.ROOT, "[capacity] plateau %d (%s): %s shoppers/s...%n", index, purpose, rate(rate));
        Files.createDirectories(folder);
        String instance = "-Ddoorbuster.instance=" + DoorbusterHome.get() + "#" + UUID.randomUUID();
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String option : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (NOT_INHERITED.stream().noneMatch(option::startsWith)) {
                command.add(option);
            }
        }
        command.addAll(List.of(instance, "-D" + CapacitySearch.MODE + "=plateau",
                "-D" + CapacitySearch.RATE + "=" + rate, "-D" + RunHistory.REPORTS_PROPERTY + "=" + folder,
                "-cp", Classpath.current(), "io.gatling.app.Gatling", "-s", simulationClass, "-rf", folder.toString(),
                "-nr")); // a plateau's Gatling report would be one of many: its own chaos.html and verdict are kept
        Path log = folder.resolve(String.format(Locale.ROOT, "plateau-%02d.log", index));
        long started = System.currentTimeMillis();
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        ProcessRegistry.Tracked tracked = new ProcessRegistry.Tracked() {
            @Override
            public String label() {
                return "capacity plateau " + index;
            }

            @Override
            public void stopAtExit() {
                process.destroy(); // SIGTERM: the plateau's own hooks stop its topology
            }
        };
        ProcessRegistry.started(tracked, process.pid(), List.of(instance), "TERM", null);
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                stop(process);
                throw new IOException("capacity plateau " + index + " at " + rate(rate) + " shoppers/s did not finish "
                        + "within " + timeout.toMinutes() + " min; its log: " + log);
            }
        } catch (InterruptedException e) {
            stop(process);
            throw e;
        } finally {
            ProcessRegistry.stopped(tracked, process.pid());
        }
        Optional<Path> verdictFile = newestVerdict(started);
        if (verdictFile.isEmpty()) {
            throw new IOException("capacity plateau " + index + " at " + rate(rate) + " shoppers/s ended (exit code "
                    + process.exitValue() + ") without a verdict, so the search cannot tell how it went; end of its log ("
                    + log + "):\n" + tail(log));
        }
        Capacity.Plateau plateau = judge(index, purpose, rate, Verdict.readJson(verdictFile.get()),
                folder.getParent().relativize(verdictFile.get().getParent()).toString());
        System.out.printf(Locale.ROOT, "[capacity] plateau %d: %s shoppers/s %s%s (%.1f requests/s, p99 %s ms, errors "
                        + "%s%%)%n", index, rate(rate), plateau.outcome(), plateau.failedChecks().isEmpty() ? ""
                        : " — " + plateau.witness(), plateau.requestsPerSecond(), number(plateau.p99Ms()),
                number(plateau.errorPercent()));
        return plateau;
    }

    /**
     * A plateau's outcome from its verdict. A failed check other than the generator's own is a FAIL, whatever the
     * generator did (the correctness checks do not depend on timing); a plateau whose only failures are the generator
     * falling behind, and the latency checks it left not judged, is INCONCLUSIVE.
     */
    static Capacity.Plateau judge(int index, String purpose, double rate, Verdict verdict, String folder) {
        List<CheckResult> failed = verdict.checks().stream().filter(CheckResult::failed).toList();
        boolean generatorBehind = failed.stream().anyMatch(c -> c.name().equals(GeneratorHealth.CHECK));
        List<CheckResult> service = failed.stream().filter(c -> !c.name().equals(GeneratorHealth.CHECK)
                && !(generatorBehind && c.name().equals(VerdictAssembly.NOT_JUDGED))).toList();
        Capacity.Outcome outcome = verdict.passed() ? Capacity.Outcome.PASS : !service.isEmpty() ? Capacity.Outcome.FAIL
                : generatorBehind ? Capacity.Outcome.INCONCLUSIVE : Capacity.Outcome.FAIL;
        List<CheckResult> limiting = outcome == Capacity.Outcome.INCONCLUSIVE ? failed : service;
        List<String> names = new ArrayList<>(limiting.stream().map(CheckResult::name).toList());
        if (outcome == Capacity.Outcome.FAIL && names.isEmpty()) {
            names.add("complete run"); // nothing failed, yet it did not pass: it ended early
        }
        String witness = limiting.isEmpty() ? verdict.incompleteReason() : limiting.get(0).line();
        if (outcome == Capacity.Outcome.INCONCLUSIVE) {
            names.remove(GeneratorHealth.CHECK);
            names.add(0, GeneratorHealth.CHECK);
            witness = failed.stream().filter(c -> c.name().equals(GeneratorHealth.CHECK)).findFirst()
                    .map(CheckResult::line).orElse(witness);
        }
        double seconds = Math.max(1, verdict.durationSeconds());
        return new Capacity.Plateau(index, purpose, rate, Math.round(verdict.requests() / seconds * 10) / 10.0,
                actual(verdict, "p99"), actual(verdict, "error rate"), outcome, names, witness, folder);
    }

    private static double actual(Verdict verdict, String check) {
        return verdict.checks().stream().filter(c -> c.name().equals(check) && !c.notJudged()).findFirst()
                .map(CheckResult::actual).orElse(Double.NaN);
    }

    private Optional<Path> newestVerdict(long since) throws IOException {
        try (Stream<Path> files = Files.walk(folder, 2)) {
            return files.filter(f -> f.getFileName().toString().equals(Verdict.JSON_FILE))
                    .filter(f -> f.toFile().lastModified() >= since)
                    .max(Comparator.comparingLong(f -> f.toFile().lastModified()));
        }
    }

    private static void stop(Process process) throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }

    private static String rate(double rate) {
        return String.format(Locale.ROOT, "%.1f", rate);
    }

    private static String number(double value) {
        return Double.isNaN(value) ? "n/a" : String.format(Locale.ROOT, "%.0f", value);
    }
}
