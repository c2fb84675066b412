package dev.doorbuster.load;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import dev.doorbuster.postgres.PgBinaries;
import dev.doorbuster.verdict.Verdict;

/**
 * Runs one simulation the way {@code mvn gatling:test} does, in a forked JVM
 * ({@code io.gatling.app.Gatling -s <class> -rf <dir>}), bounded in time, and returns its exit code
 * (0 passed, 2 assertions failed, 1 error), console output and verdict.
 */
public final class ForkedGatling {
    /**
     * Set to {@code "true"} in a run's properties to have Gatling write its own HTML report too (about 3 s a run);
     * otherwise only Doorbuster's reports are written. Not passed to the run.
     */
    public static final String GATLING_REPORT = "forked.gatlingReport";
    /**
     * Set to {@code "false"} for a control that judges time budgets: its JVMs then run with the JVM's own compilers
     * and collector, as a user's run does, instead of the quick compiler and serial collector that save the counting
     * controls a third of their CPU. Not passed to the run.
     */
    public static final String QUICK_JVM = "forked.quickJvm";

    /**
     * What every JVM of a counting control runs with (the run's own, and through {@code JAVA_TOOL_OPTIONS} the
     * storefront and the watchdog it starts, which choose their own collectors): the quick compiler alone, and no
     * verification of the class path's bytecode, which javac and scalac wrote and which the JVM otherwise checks
     * class by class at every start (measured side by side, 2026-12-06: a control's processes used 18.1-18.5 s of
     * CPU instead of 21-22.8 s). Test runs only: a user's run verifies as usual.
     */
    static final List<String> QUICK_JVM_FLAGS = List.of("-XX:TieredStopAtLevel=1",
            "-XX:+UnlockDiagnosticVMOptions", "-XX:-BytecodeVerificationRemote");

    /**
     * The generator's budgets of a counting control (in the quick JVM), unless it sets its own. Those controls count,
     * and run two at a time on two cores: a failover's promotion beside another control's load started a few users
     * 107 ms late (the default allows 100 ms with a 1000 ms p99 budget), and the serial collector the quick JVM
     * chooses paused 102-148 ms (the default allows 100 ms), both seen in fresh-clone rehearsals. A generator late
     * by half the p99 budget, or paused for half a second, still makes their latency checks inconclusive. The
     * controls that judge time run alone, without the quick JVM, on the defaults.
     */
    static final Map<String, String> QUICK_JVM_GENERATOR_BUDGETS = Map.of(
            dev.doorbuster.topology.SloBudget.GENERATOR_START_DELAY_PERCENT_OF_P99.path(), "50",
            dev.doorbuster.topology.SloBudget.GENERATOR_GC_PAUSE_MS.path(), "500");

    /** Short runs with a small data set: the controls check the verdict's logic, not capacity. */
    static final Map<String, String> SHORT = Map.of(
            "load.minutes", "0.35",
            "app.seedUsers", "5000",
            "app.seedProducts", "2000");

    public record Result(int exitCode, String output, Verdict verdict) {
        public Optional<dev.doorbuster.verdict.CheckResult> check(String name) {
            return verdict == null ? Optional.empty()
                    : verdict.checks().stream().filter(c -> c.name().equals(name)).findFirst();
        }
    }

    /** The PIDs of the runs started with each home: what they own on the Docker engine is labelled with them. */
    private static final Map<Path, List<Long>> STARTED = new java.util.concurrent.ConcurrentHashMap<>();

    private ForkedGatling() {
    }

    /** The PIDs of the runs this JVM started with {@code home} as their {@code doorbuster.home}, oldest first. */
    public static List<Long> pidsStartedWith(Path home) {
        return List.copyOf(STARTED.getOrDefault(home.toAbsolutePath(), List.of()));
    }

    /**
     * @param home the run's own {@code doorbuster.home}, so everything it starts is recognisable (and a
     *             parallel run elsewhere on the machine is not mistaken for a leftover of this one)
     */
    public static Result run(String simulation, Path reports, Path home, Map<String, String> properties)
            throws IOException, InterruptedException {
        return start(simulation, reports, home, properties).await(java.time.Duration.ofMinutes(8));
    }

    /** A forked run in progress. */
    public static final class Running {
        private final String simulation;
        private final Process process;
        private final Path log;
        private final Path reports;

        Running(String simulation, Process process, Path log, Path reports) {
            this.simulation = simulation;
            this.process = process;
            this.log = log;
            this.reports = reports;
        }

        public long pid() {
            return process.pid();
        }

        /** SIGKILL: the run gets no chance to clean up or deliver anything. Its console log goes once it is dead. */
        public void kill() {
            process.destroyForcibly();
            process.onExit().thenRun(() -> {
                try {
                    Files.deleteIfExists(log);
                } catch (IOException e) {
                    // a log left in the temporary folder is only clutter
                }
            });
        }

        public boolean isAlive() {
            return process.isAlive();
        }

        /** What the run's console has shown so far. */
        public String outputSoFar() throws IOException {
            return Files.readString(log, StandardCharsets.UTF_8);
        }

        /** Waits until the run's console shows {@code text}; false if the run ended or {@code limit} passed first. */
        public boolean awaitOutput(String text, java.time.Duration limit) throws IOException, InterruptedException {
            long deadline = System.nanoTime() + limit.toNanos();
            while (System.nanoTime() < deadline) {
                if (outputSoFar().contains(text)) {
                    return true;
                }
                if (!process.isAlive()) {
                    return false;
                }
                Thread.sleep(250);
            }
            return false;
        }

        /** Waits for the end (killing the run after {@code limit}) and collects the outcome. */
        public Result await(java.time.Duration limit) throws IOException, InterruptedException {
            try {
                if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                    stop(process);
                    throw new AssertionError(simulation + " did not finish within " + limit + ":\n" + tail(log));
                }
            } finally {
                stop(process);
            }
            String output = Files.readString(log, StandardCharsets.UTF_8);
            Files.deleteIfExists(log);
            return new Result(process.exitValue(), output, findVerdict(reports));
        }
    }

    /** SIGTERM first, so the run's own hooks stop its topology; SIGKILL if it does not go. */
    private static void stop(Process process) {
        if (!process.isAlive()) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /** Starts a run and returns at once. */
    public static Running start(String simulation, Path reports, Path home, Map<String, String> properties)
            throws IOException {
        return start(simulation, reports, home, properties, Map.of());
    }

    /** As {@link #run}, with {@code environment} variables added to the run's process. */
    public static Result run(String simulation, Path reports, Path home, Map<String, String> properties,
                             Map<String, String> environment) throws IOException, InterruptedException {
        return start(simulation, reports, home, properties, environment).await(java.time.Duration.ofMinutes(8));
    }

    /** Starts a run with {@code environment} variables added to its process, and returns at once. */
    public static Running start(String simulation, Path reports, Path home, Map<String, String> properties,
                                Map<String, String> environment) throws IOException {
        Map<String, String> all = new java.util.TreeMap<>(SHORT);
        all.putAll(properties);
        boolean gatlingReport = Boolean.parseBoolean(all.remove(GATLING_REPORT));
        boolean quickJvm = !"false".equals(all.remove(QUICK_JVM));
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "--add-opens=java.base/java.lang=ALL-UNNAMED",
                // Gatling's version check must fail locally (no outside calls; see gatling-notes.md).
                "-Dhttps.proxyHost=127.0.0.1", "-Dhttps.proxyPort=9",
                "-Ddoorbuster.reports=" + reports, "-Ddoorbuster.home=" + home,
                // The binaries already extracted for the tests' JVM: no second extraction per run.
                "-Ddoorbuster.pg.bin=" + PgBinaries.resolve().binDir()));
        if (quickJvm) {
            // Short runs that judge counts, not capacity: the quick compiler alone and the serial collector spend
            // about a third less CPU per run (measured: 21 s of CPU instead of 32 s for a control), which is what
            // lets two controls share the machine's two cores.
            command.add("-XX:+UseSerialGC");
            command.addAll(QUICK_JVM_FLAGS);
            QUICK_JVM_GENERATOR_BUDGETS.forEach(all::putIfAbsent);
        }
        all.forEach((k, v) -> command.add("-D" + k + "=" + v));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.gatling.app.Gatling",
                "-s", simulation.contains(".") ? simulation : "dev.doorbuster.simulations." + simulation,
                "-rf", reports.toString()));
        if (!gatlingReport) {
            command.add("-nr"); // assertions are still evaluated: the exit code still says pass or fail
        }
        Path log = Files.createTempFile("gatling-" + simulation, ".log");
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        if (quickJvm) {
            // The storefront JVM (and the watchdog) the run starts inherit this: the same quick compiler for them.
            builder.environment().put("JAVA_TOOL_OPTIONS", String.join(" ", QUICK_JVM_FLAGS));
        }
        builder.environment().putAll(environment);
        Process process = builder.start();
        STARTED.computeIfAbsent(home.toAbsolutePath(), h -> new java.util.concurrent.CopyOnWriteArrayList<>())
                .add(process.pid());
        // If this JVM dies first (Ctrl-C, a killed build), the run is stopped too: SIGTERM lets its own hooks
        // stop its topology.
        Runtime.getRuntime().addShutdownHook(new Thread(process::destroy, "stop-forked-gatling"));
        return new Running(simulation, process, log, reports);
    }

    private static Verdict findVerdict(Path reports) throws IOException {
        if (!Files.isDirectory(reports)) {
            return null;
        }
        try (Stream<Path> files = Files.walk(reports, 2)) {
            // The newest: a test may have put an older run (a baseline) next to it.
            Optional<Path> file = files.filter(f -> f.getFileName().toString().equals(Verdict.JSON_FILE))
                    .max(java.util.Comparator.comparing(f -> f.toFile().lastModified()));
            return file.isPresent() ? Verdict.readJson(file.get()) : null;
        }
    }

    private static String tail(Path log) throws IOException {
        List<String> lines = Files.readAllLines(log);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    }
}
