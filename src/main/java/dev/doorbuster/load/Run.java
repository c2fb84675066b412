package dev.doorbuster.load;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import dev.doorbuster.chaos.ChaosContext;
import dev.doorbuster.chaos.ChaosRunner;
import dev.doorbuster.chaos.FaultKind;
import dev.doorbuster.chaos.FaultSchedule;
import dev.doorbuster.chaos.FaultTimeline;
import dev.doorbuster.chaos.WriteProbe;
import dev.doorbuster.topology.Environment;
import dev.doorbuster.topology.EnvironmentLoader;
import dev.doorbuster.topology.ExternalTopology;
import dev.doorbuster.topology.LocalTopology;
import dev.doorbuster.topology.docker.DockerTopology;
import dev.doorbuster.topology.Topology;
import dev.doorbuster.verdict.ChaosReport;
import dev.doorbuster.verdict.CheckResult;
import dev.doorbuster.verdict.ConsistencyLog;
import dev.doorbuster.verdict.DatabaseDiagnostics;
import dev.doorbuster.verdict.DatabaseReport;
import dev.doorbuster.verdict.Inventory;
import dev.doorbuster.verdict.Judge;
import dev.doorbuster.verdict.JudgingMode;
import dev.doorbuster.verdict.LatencyRecorder;
import dev.doorbuster.verdict.Probes;
import dev.doorbuster.verdict.Recording;
import dev.doorbuster.verdict.RunHistory;
import dev.doorbuster.verdict.SessionReport;
import dev.doorbuster.verdict.ShardData;
import dev.doorbuster.verdict.ShardReport;
import dev.doorbuster.verdict.Verdict;
import dev.doorbuster.verdict.WriteLedger;
import dev.doorbuster.verdict.WriteLookup;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Doorbuster run, as a simulation sees it:
 * <ol>
 *   <li>{@link #start} (from the simulation's constructor, because Gatling reads the base URL then):
 *       reads and validates the environment, refuses faults it cannot perform, starts the topology;</li>
 *   <li>{@link #beginLoad()} (from {@code before()}): starts the clock, the probes, the fault schedule and the
 *       {@link RunWatch} (a progress line every 10 s; the abort rule, which stops the load generator);</li>
 *   <li>{@link #judge()} (from the last scenario, once the load is over): heals every fault, audits every
 *       write by its identity, classifies the session checks' violations, evaluates the stock invariant and
 *       the checks, and writes the verdict files, {@code chaos.html} and the operation history;</li>
 *   <li>{@link #close()} (from {@code after()}): stops the topology and updates the run history.</li>
 * </ol>
 * A run that stops before the verdict scenario (the abort rule) is judged from {@link #close()}; one stopped by
 * SIGTERM or Ctrl-C gets a partial verdict from the JVM shutdown hook, which then heals faults and stops the
 * topology (as it does if {@code after()} never runs, a crash).
 */
public final class Run implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Run.class);
    private static final Duration AUDIT_RETRY = Duration.ofSeconds(30);

    private final String simulation;
    private final Environment environment;
    private final Topology topology;
    private final LoadProfile profile;
    private final FaultSchedule schedule;
    private final JudgingMode mode;
    private final Path reportsDir;
    private final Path workDir;
    /** {@code -Dbaseline=<run folder>}: compare with this run instead of the simulation's marked baseline. */
    public static final String BASELINE = "baseline";
    /** The file of every operation, for Elle's rw-register checker. */
    public static final String HISTORY_FILE = "history.json";

    private final ConsistencyLog consistencyLog = new ConsistencyLog(() -> this.recorder.startNanos());
    private final Consistency consistency;
    private final AtomicLong client503s = new AtomicLong();
    private volatile StockTracking stockTracking;
    private volatile Map<Long, Long> initialStock;
    private volatile String stockError;
    private final VerdictServer verdictServer;
    private final Thread shutdownHook;
    private volatile LatencyRecorder recorder = new LatencyRecorder(System.nanoTime());
    private volatile FaultTimeline timeline = new FaultTimeline(System.nanoTime());
    private volatile Probes probes;
    private volatile ChaosRunner chaos;
    private volatile RunWatch watch;
    private volatile Instant loadStarted;
    private volatile List<CheckResult> checks = List.of();
    private volatile Verdict verdict;
    private volatile List<dev.doorbuster.verdict.DatabaseSnapshot> databaseBefore = List.of();
    /** What the database was doing a second after each fault hit, and the timer that takes it. */
    private final List<DatabaseReport.AtFault> databaseAtFaults = new java.util.concurrent.CopyOnWriteArrayList<>();
    private volatile java.util.concurrent.ScheduledExecutorService faultSnapshots;
    private volatile boolean closed;
    /** This process's part in a scaled-out run (solo when not sharded). */
    private final Sharding sharding;
    /** Where a sharded run's processes meet (null when solo). */
    private volatile ShardDirectory shardDirectory;
    /** An injector's application, as the coordinator announced it (others ask their topology). */
    private volatile URI announcedAppUrl;
    /** Coordinator: the injectors that were not ready when the load started. */
    private volatile List<Integer> notReady = List.of();
    /** Injector: its recording was delivered (it has no verdict of its own). */
    private volatile boolean delivered;
    private volatile java.util.concurrent.ScheduledExecutorService heartbeats;
    private final AtomicLong usersStarted = new AtomicLong();
    /** Injector: why its coordinator is taken for gone (its load then stops, like the abort rule stops it), or null. */
    private volatile String coordinatorGone;
    private volatile dev.doorbuster.verdict.RequestLog requestLog;

    private Run(String simulation, Environment environment, Topology topology, LoadProfile profile,
                FaultSchedule schedule, JudgingMode mode, Path reportsDir, Path workDir, Sharding sharding)
            throws IOException {
        this.simulation = simulation;
        this.sharding = sharding;
        this.environment = environment;
        this.topology = topology;
        this.profile = profile;
        this.schedule = schedule;
        this.mode = mode;
        this.reportsDir = reportsDir;
        this.workDir = workDir;
        this.verdictServer = new VerdictServer(() -> checks);
        this.consistency = new Consistency(consistencyLog, new Consistency.Recorder() {
            @Override
            public void record(String request, long micros, boolean ok) {
                LatencyRecorder r = recorder;
                int second = r.secondOf(System.nanoTime());
                r.record(request, second, micros, ok);
                dev.doorbuster.verdict.RequestLog requests = requestLog;
                if (requests != null) {
                    requests.add(Math.max(0, second), request, micros, ok);
                }
            }

            @Override
            public void client503() {
                client503s.incrementAndGet();
            }
        });
        this.shutdownHook = new Thread(this::emergencyStop, "doorbuster-run-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /**
     * Reads the environment ({@code -Ddoorbuster.env}, default local), checks the schedule against it,
     * and starts (or connects to) the topology. Nothing is started if the environment or a fault is
     * refused.
     */
    public static Run start(String simulation, LoadProfile profile, FaultSchedule schedule, JudgingMode mode) {
        Sharding sharding = Sharding.fromParameters();
        // toxiproxy-java's HttpURLConnection sets no timeouts: bound every call so no API call can hang a run.
        System.setProperty("sun.net.client.defaultConnectTimeout", System.getProperty("sun.net.client.defaultConnectTimeout", "5000"));
        System.setProperty("sun.net.client.defaultReadTimeout", System.getProperty("sun.net.client.defaultReadTimeout", "30000"));
        Environment environment = EnvironmentLoader.fromSystemProperties();
        // The fault names live with the faults (chaos), which topology cannot see: checked here, before
        // anything starts (ChaosRunner.checkAllowed checks them again once the topology is up).
        FaultKind.checkAllowFaults(environment);
        Path reportsDir = Path.of(System.getProperty("doorbuster.reports", "reports")).toAbsolutePath();
        String baseline = System.getProperty(BASELINE);
        if (baseline != null && !baseline.isBlank() && RunHistory.baseline(reportsDir, simulation, baseline).isEmpty()) {
            throw new IllegalArgumentException("-D" + BASELINE + "=" + baseline + " names no run with a readable "
                    + Verdict.JSON_FILE + " under " + reportsDir + " (give a run folder's name or path, e.g. -D" + BASELINE
                    + "=blackfridaysimulation-20261201014424868)");
        }
        Path workDir = Path.of("target", "doorbuster", simulation.toLowerCase(Locale.ROOT) + "-"
                + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"))).toAbsolutePath();
        log.info("Doorbuster {}: environment '{}' ({}), {} of load, {} fault(s){}", simulation, environment.name(),
                environment.source(), profile.total(), schedule.entries().size(),
                sharding.role() == Sharding.Role.SOLO ? "" : "; " + sharding.describe());
        if (sharding.isInjector()) {
            return joinAsInjector(simulation, environment, profile, schedule, mode, reportsDir, workDir, sharding);
        }
        // Connecting to an external environment starts nothing, so faults are checked right after it.
        Topology topology = switch (environment.type()) {
            case LOCAL -> LocalTopology.start(environment, workDir);
            case DOCKER -> DockerTopology.start(environment, workDir);
            case EXTERNAL -> ExternalTopology.connect(environment);
        };
        try {
            Run run = new Run(simulation, environment, topology, profile, schedule, mode, reportsDir, workDir, sharding);
            new ChaosRunner(new ChaosContext(topology, run.timeline, null), schedule).checkAllowed();
            if (sharding.isCoordinator()) {
                run.shardDirectory = ShardDirectory.announce(sharding.dir(), simulation, sharding.count(),
                        topology.appUrl());
                System.out.println("[doorbuster] coordinator of run " + run.shardDirectory.run() + ": waiting for "
                        + sharding.count() + " injector shard(s) in " + sharding.dir());
            }
            return run;
        } catch (IOException | RuntimeException e) {
            topology.close();
            throw e instanceof RuntimeException r ? r : new IllegalStateException(e);
        }
    }

    /**
     * An injector: no topology of its own. It waits for the coordinator's announcement in the shared directory,
     * checks the application answers from here, and says it is ready.
     */
    private static Run joinAsInjector(String simulation, Environment environment, LoadProfile profile,
                                      FaultSchedule schedule, JudgingMode mode, Path reportsDir, Path workDir,
                                      Sharding sharding) {
        try {
            System.out.println("[doorbuster] " + sharding.describe() + ": waiting for the coordinator in "
                    + sharding.dir());
            ShardDirectory.Joined joined = ShardDirectory.join(sharding.dir(), simulation, sharding.index(),
                    sharding.count(), sharding.startTimeout());
            checkReachable(joined.appUrl(), sharding);
            Run run = new Run(simulation, environment, null, profile, schedule, mode, reportsDir, workDir, sharding);
            run.shardDirectory = joined.directory();
            run.announcedAppUrl = joined.appUrl();
            run.consistencyLog.shard(sharding.index());
            return run;
        } catch (IOException e) {
            throw new IllegalStateException(sharding.describe() + " cannot use " + sharding.dir() + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(sharding.describe() + " was interrupted while waiting for its coordinator", e);
        }
    }

    /**
     * Any HTTP answer from the announced application will do; no answer at all means this injector would only
     * record connection errors. (The commonest cause: a local or docker environment serves on its machine's loopback.)
     */
    static void checkReachable(URI appUrl, Sharding sharding) {
        java.net.http.HttpClient client = java.net.http.HttpClient.newBuilder()
                .connectTimeout(Duration.ofSeconds(5)).build();
        try {
            client.send(java.net.http.HttpRequest.newBuilder(appUrl).timeout(Duration.ofSeconds(10)).GET().build(),
                    java.net.http.HttpResponse.BodyHandlers.discarding());
        } catch (IOException e) {
            throw new IllegalStateException(sharding.describe() + " cannot reach the application the coordinator "
                    + "announced (" + appUrl + "): " + e + ". A local or docker environment serves on the coordinator's "
                    + "machine only (127.0.0.1): run the injectors there, or use an external environment.", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while checking " + appUrl, e);
        }
    }

    public URI appUrl() {
        return topology == null ? announcedAppUrl : topology.appUrl();
    }

    /** This process's part in a scaled-out run. */
    public Sharding sharding() {
        return sharding;
    }

    /** Counts a virtual user that started its journey (a shard's arrival rate is checked from these). */
    void userStarted() {
        usersStarted.incrementAndGet();
    }

    public Environment environment() {
        return environment;
    }

    public Topology topology() {
        return topology;
    }

    public LoadProfile profile() {
        return profile;
    }

    public LatencyRecorder recorder() {
        return recorder;
    }

    /** The run's checked requests: timing, the write ledger and the session guarantees. */
    public Consistency consistency() {
        return consistency;
    }

    /** Reads every product's stock on the current primary. */
    @FunctionalInterface
    public interface StockReader {
        Map<Long, Long> read() throws Exception;
    }

    /** Prepares the data before the load (local and docker environments: the harness owns that database). */
    @FunctionalInterface
    public interface Fixture {
        void apply() throws Exception;
    }

    private record StockTracking(StockReader reader, Doorbusters doorbusters, Fixture fixture) {
    }

    /**
     * Evaluates the stock invariant for this run: {@code fixture} sets the doorbusters' stock before the load
     * (environments that own their database), {@code reader} reads every product's stock before the load and after the
     * faults heal. On an external environment other traffic may order too, so the invariant is not evaluated
     * there.
     */
    public void trackStock(StockReader reader, Doorbusters doorbusters, Fixture fixture) {
        stockTracking = new StockTracking(reader, doorbusters, fixture);
    }

    /** Second 0 of the run: starts the recorder, the probes and the fault schedule. */
    public synchronized void beginLoad() {
        if (sharding.isInjector()) {
            beginInjectorLoad();
            return;
        }
        databaseBefore = DatabaseDiagnostics.snapshot(topology); // bounded, never throws; before the clock starts
        long t0;
        if (sharding.isCoordinator()) {
            prepareStock(); // before the injectors are released: the deals' stock is set when the first shopper comes
            t0 = releaseInjectors();
        } else {
            t0 = System.nanoTime();
            loadStarted = Instant.now();
        }
        recorder = new LatencyRecorder(t0);
        timeline = new FaultTimeline(t0);
        if (!sharding.isCoordinator()) {
            prepareStock();
            startRequestLog(workDir);
        }
        probes = new Probes(topology, () -> recorder.secondOf(System.nanoTime()));
        probes.start();
        chaos = new ChaosRunner(new ChaosContext(topology, timeline, new WriteProbe(topology.appUrl())), schedule);
        chaos.start();
        snapshotEachFault();
        if (sharding.isCoordinator()) {
            return; // the injectors watch their own load (progress lines, the abort rule)
        }
        Environment.Slo slo = environment.slo();
        boolean sizesKnown = environment.runsStorefront(); // a user's application's pools are its own
        watch = RunWatch.start(recorder, timeline, probes::latest, profile.total(),
                sizesKnown ? environment.app().writerPoolSize() : 0, sizesKnown ? environment.app().readerPoolSize() : 0,
                mode == JudgingMode.OVERLOAD ? null
                        : new AbortGuard(slo.abortErrorRatePercent(), slo.abortAfterSeconds()));
    }

    /**
     * Coordinator: waits until every injector is ready (or the start timeout passed), announces the common start
     * instant, and returns its {@code nanoTime} once it has come.
     */
    private long releaseInjectors() {
        try {
            notReady = shardDirectory.awaitReady(sharding.count(), sharding.startTimeout());
            if (!notReady.isEmpty()) {
                System.err.println("[doorbuster] shard(s) " + notReady + " of " + sharding.count() + " not ready within "
                        + sharding.startTimeout().toSeconds() + " s: starting without them (the verdict will fail)");
            }
            long startEpochMillis = shardDirectory.announceStart();
            heartbeats = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "doorbuster-coordinator-heartbeat");
                t.setDaemon(true);
                return t;
            });
            heartbeats.scheduleAtFixedRate(shardDirectory::coordinatorHeartbeat, 0, 2,
                    java.util.concurrent.TimeUnit.SECONDS);
            System.out.println("[doorbuster] run " + shardDirectory.run() + ": " + (sharding.count() - notReady.size())
                    + " injector shard(s) start at " + Instant.ofEpochMilli(startEpochMillis));
            return awaitInstant(startEpochMillis);
        } catch (IOException e) {
            throw new IllegalStateException("cannot announce the start in " + sharding.dir() + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the injector shards", e);
        }
    }

    /** Injector: second 0 is the common start instant; no probes, no faults, its own progress lines and abort rule. */
    private void beginInjectorLoad() {
        long t0;
        try {
            long startEpochMillis = shardDirectory.awaitStart(sharding.startTimeout());
            long late = System.currentTimeMillis() - startEpochMillis;
            if (late > 1000) {
                System.err.println("[doorbuster] " + sharding.describe() + " joins " + late + " ms after the common start");
            }
            t0 = awaitInstant(startEpochMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the common start", e);
        }
        recorder = new LatencyRecorder(t0);
        timeline = new FaultTimeline(t0);
        startRequestLog(shardDirectory.shard(sharding.index()));
        heartbeats = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "doorbuster-shard-heartbeat");
            t.setDaemon(true);
            return t;
        });
        heartbeats.scheduleAtFixedRate(() -> {
            shardDirectory.heartbeat(sharding.index(), recorder.secondOf(System.nanoTime()));
            // A load with nobody left to judge it is load for nothing: stop it, as the abort rule would.
            shardDirectory.coordinatorGone(ShardDirectory.COORDINATOR_SILENCE).ifPresent(why -> {
                if (coordinatorGone == null) {
                    coordinatorGone = why;
                    System.err.println("[doorbuster] " + sharding.describe() + ": " + why + "; stopping this shard's load");
                }
            });
        }, 0, 2, java.util.concurrent.TimeUnit.SECONDS);
        Environment.Slo slo = environment.slo();
        watch = RunWatch.start(recorder, timeline, () -> null, profile.total(), 0, 0,
                mode == JudgingMode.OVERLOAD ? null
                        : new AbortGuard(slo.abortErrorRatePercent(), slo.abortAfterSeconds()));
    }

    /** Sleeps until the wall-clock instant {@code epochMillis} and returns the {@code nanoTime} it corresponds to. */
    private long awaitInstant(long epochMillis) throws InterruptedException {
        long t0 = System.nanoTime() + (epochMillis - System.currentTimeMillis()) * 1_000_000L;
        long wait;
        while ((wait = t0 - System.nanoTime()) > 0) {
            Thread.sleep(Math.max(1, wait / 1_000_000L));
        }
        loadStarted = Instant.ofEpochMilli(epochMillis);
        return t0;
    }

    /** {@code -Drecording.requests=true}: every request's latency in {@code dir/requests.csv}, besides the histograms. */
    private void startRequestLog(Path dir) {
        if (!Parameters.flag(dev.doorbuster.verdict.RequestLog.PROPERTY, false)) {
            return;
        }
        try {
            requestLog = dev.doorbuster.verdict.RequestLog.open(dir.resolve(dev.doorbuster.verdict.RequestLog.FILE));
        } catch (IOException e) {
            log.warn("Cannot write {}: {}", dir.resolve(dev.doorbuster.verdict.RequestLog.FILE), e.toString());
        }
    }

    /** True once the abort rule tripped: the shoppers' scenario stops the load generator. */
    public boolean aborted() {
        RunWatch w = watch;
        return coordinatorGone != null || (w != null && w.aborted());
    }

    /** Why the load was stopped early (null while it was not). */
    public String abortReason() {
        if (coordinatorGone != null) {
            return coordinatorGone;
        }
        RunWatch w = watch;
        return w == null ? null : w.abortReason();
    }

    /**
     * After the load: heals every fault, takes a last probe sample, audits acknowledged writes on the
     * current primary, evaluates the checks, writes verdict.json, junit.xml and chaos.html, and prints
     * one line per check. Returns the check indexes, for the verdict scenario to request one by one.
     */
    public synchronized List<Integer> judge() {
        return judge(null, false);
    }

    /**
     * As {@link #judge()}; {@code endedEarly} (or the abort rule's reason) marks the verdict incomplete with a
     * failing {@code aborted} check. {@code quick} (the JVM is stopping): no retried audit, and no audit or stock
     * reading at all if the database does not answer within seconds.
     */
    private synchronized List<Integer> judge(String endedEarly, boolean quick) {
        if (verdict != null || delivered) {
            return IntStream.range(0, checks.size()).boxed().toList();
        }
        if (loadStarted == null) {
            beginLoad(); // before() did not run (misuse): judge an empty run rather than crash
        }
        if (sharding.isInjector()) {
            return deliver(endedEarly);
        }
        double seconds = Duration.between(loadStarted, Instant.now()).toMillis() / 1000.0;
        if (watch != null) {
            watch.close();
        }
        String incomplete = aborted() ? abortReason() : endedEarly;
        ShardReport shards = sharding.isCoordinator() ? collectShards(quick) : null;
        if (incomplete == null && shards != null) {
            incomplete = shards.shards().stream().filter(sh -> sh.endedEarly() != null).findFirst()
                    .map(sh -> "shard " + sh.index() + ": " + sh.endedEarly()).orElse(null);
        }
        int stoppedAt = recorder.secondOf(System.nanoTime());
        chaos.healAll();
        if (!quick) {
            probes.sample();
        }
        probes.close();
        if (faultSnapshots != null) {
            faultSnapshots.shutdownNow(); // a fault that has not hit yet never will
        }
        // A quick end (SIGTERM) skips the after snapshot: a hung node could hold it for seconds.
        List<dev.doorbuster.verdict.DatabaseSnapshot> databaseAfter = quick ? List.of()
                : DatabaseDiagnostics.snapshot(topology);
        WriteLedger.Audit audit = quick ? RunEnd.bounded(this::auditOnce, RunEnd.skippedAudit()) : auditWrites();
        SessionReport sessions = consistencyLog.report(audit, timeline);
        Inventory.StockAudit stock = quick ? null : auditStock(audit);
        long violatingReads = sessions.guarantees().stream().mapToLong(r -> r.violations() + r.explainedByLostWrites())
                .sum();
        List<CheckResult> results = new ArrayList<>(Judge.evaluate(new Judge.Facts(mode, environment.slo(),
                environment.app().requestTimeoutMs(), recorder, profile.phases(), timeline, probes.samples(), sessions,
                violatingReads, client503s.get(), audit, stock)));
        if (shards != null) {
            results.add(0, shardsCheck(shards));
        }
        results = new ArrayList<>(RunEnd.withAbortCheck(results, incomplete, aborted() ? watch.abortedAt() : stoppedAt));
        LatencyRecorder.Counts counts = recorder.counts(null, 0, recorder.lastSecond() + 1);
        verdict = Verdict.of(simulation, environment.name(), loadStarted.toString(), seconds, results, counts.total(),
                counts.ko(), audit, sessions, stock, timeline.events());
        Optional<RunHistory.Entry> baseline = RunHistory.baseline(reportsDir, simulation, System.getProperty(BASELINE));
        if (baseline.isPresent()) {
            results.addAll(RunHistory.regressions(RunHistory.Headline.of(verdict, peakRate()), baseline.get(),
                    environment.slo().regression()));
            verdict = Verdict.of(simulation, environment.name(), loadStarted.toString(), seconds, results, counts.total(),
                    counts.ko(), audit, sessions, stock, timeline.events());
        }
        verdict = RunEnd.finish(verdict, mode, environment.slo(), recorder, incomplete);
        if (shards != null) {
            verdict = verdict.withShards(shards);
            if (!shards.missing().isEmpty() && verdict.wasComplete()) {
                verdict = verdict.incomplete("no recording from shard(s) " + shards.missing().stream()
                        .map(m -> String.valueOf(m.index())).collect(java.util.stream.Collectors.joining(", ")));
            }
        }
        checks = results;
        verdict = verdict.withDatabase(DatabaseDiagnostics.compare(databaseBefore, databaseAfter)
                .withFaults(List.copyOf(databaseAtFaults)));
        Path dir = reportDir();
        try {
            verdict.writeJson(dir.resolve(Verdict.JSON_FILE));
            verdict.writeJunitXml(dir.resolve(Verdict.JUNIT_FILE));
            consistencyLog.history().writeElleJson(dir.resolve(HISTORY_FILE));
            Recording.write(dir, recorder, probes.samples(), profile.phases());
            if (requestLog != null) {
                requestLog.close();
                Files.move(requestLog.file(), dir.resolve(dev.doorbuster.verdict.RequestLog.FILE),
                        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            ChaosReport.write(dir.resolve(ChaosReport.FILE), verdict, recorder, probes.samples(), profile.phases(), timeline);
        } catch (IOException e) {
            log.error("Cannot write the verdict files into {}: {}", dir, e.toString());
        }
        System.out.println();
        System.out.print(verdict.summary());
        System.out.println("Reports: " + dir.resolve(ChaosReport.FILE) + " (faults) and " + dir.resolve(ChaosReport.GATLING_PAGE)
                + " (Gatling)");
        System.out.println();
        return IntStream.range(0, checks.size()).boxed().toList();
    }

    /**
     * Injector: the load is over (or stopped early): writes this shard's recording, then its delivery note, into its
     * folder of the shared directory. The coordinator judges; the one check here says whether the delivery worked.
     */
    private List<Integer> deliver(String endedEarly) {
        if (watch != null) {
            watch.close();
        }
        if (heartbeats != null) {
            heartbeats.shutdownNow();
        }
        String incomplete = aborted() ? abortReason() : endedEarly;
        LatencyRecorder.Counts counts = recorder.counts(null, 0, recorder.lastSecond() + 1);
        Path own = shardDirectory.shard(sharding.index());
        long writes = consistencyLog.ledger().writes().size();
        ShardReport.Shard shard = new ShardReport.Shard(sharding.index(), counts.total(), counts.ko(), usersStarted.get(),
                writes, incomplete);
        CheckResult delivery;
        try {
            if (requestLog != null) {
                requestLog.close();
            }
            ShardData.write(own, recorder, consistencyLog.export());
            consistencyLog.history().writeElleJson(own.resolve(HISTORY_FILE)); // this shard's clients' own view
            shardDirectory.done(shard);
            delivery = new CheckResult("shard " + sharding.index() + " delivered", 1, 1, "recording", true,
                    counts.total() + " requests, " + writes + " writes, " + usersStarted.get() + " users, into " + own,
                    true);
        } catch (IOException | RuntimeException e) {
            delivery = new CheckResult("shard " + sharding.index() + " delivered", 1, 0, "recording", false,
                    "cannot write into " + own + ": " + e.getMessage(), true);
        }
        delivered = true;
        checks = List.of(delivery);
        System.out.println();
        System.out.println("[doorbuster] " + sharding.describe() + " (run " + shardDirectory.run() + "): "
                + delivery.line() + (incomplete == null ? "" : "; ended early: " + incomplete)
                + ". The coordinator judges the run.");
        System.out.println();
        return List.of(0);
    }

    /**
     * Coordinator: waits for every ready injector's recording (until the results timeout), merges latency (histograms
     * added) and consistency accounting (ledgers, session checks, orders, history) into this run's, and says which
     * shards are missing and why.
     */
    private ShardReport collectShards(boolean quick) {
        List<Integer> expected = IntStream.range(0, sharding.count()).boxed().filter(i -> !notReady.contains(i)).toList();
        Map<Integer, ShardReport.Shard> done;
        try {
            if (!quick) {
                System.out.println("[doorbuster] waiting up to " + sharding.resultsTimeout().toSeconds()
                        + " s for the recordings of shard(s) " + expected);
            }
            done = shardDirectory.awaitDone(expected, quick ? Duration.ZERO : sharding.resultsTimeout());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            done = Map.of();
        }
        List<ShardReport.Missing> missing = new ArrayList<>();
        for (int i = 0; i < sharding.count(); i++) {
            if (done.containsKey(i)) {
                continue;
            }
            int index = i;
            String heard = shardDirectory.lastHeartbeat(i).map(s -> "last heard from at run second " + s)
                    .orElse("never heard from during the load");
            missing.add(new ShardReport.Missing(i, notReady.contains(i)
                    ? "not ready within " + sharding.startTimeout().toSeconds() + " s of the coordinator's start"
                    : "no recording within " + sharding.resultsTimeout().toSeconds() + " s of the load's end ("
                    + heard + ")"));
            log.warn("Shard {} of {}: {}", index, sharding.count(), missing.get(missing.size() - 1).reason());
        }
        List<Path> dirs = done.keySet().stream().sorted().map(shardDirectory::shard).toList();
        ShardData.MergedLatency merged = ShardData.mergeLatency(dirs, recorder.startNanos());
        List<String> problems = new ArrayList<>(merged.problems());
        for (Path dir : dirs) {
            try {
                consistencyLog.absorb(ShardData.readConsistency(dir));
            } catch (IOException | RuntimeException e) {
                problems.add(dir.getFileName() + "/" + ShardData.CONSISTENCY + ": " + e.getMessage());
            }
        }
        recorder = merged.recorder();
        org.HdrHistogram.Histogram all = recorder.histogram(null, 0, recorder.lastSecond() + 1);
        boolean any = all.getTotalCount() > 0;
        return new ShardReport(sharding.count(), done.values().stream()
                .sorted(java.util.Comparator.comparingInt(ShardReport.Shard::index)).toList(), missing,
                all.getTotalCount(), any ? all.getValueAtPercentile(50) : -1, any ? all.getValueAtPercentile(99) : -1,
                problems);
    }

    /** Passes when every injector delivered a recording that could be merged. */
    private static CheckResult shardsCheck(ShardReport shards) {
        String detail = shards.missing().isEmpty()
                ? shards.requests() + " requests merged from " + shards.count() + " shard(s)"
                : shards.missing().stream().map(m -> "shard " + m.index() + ": " + m.reason())
                        .collect(java.util.stream.Collectors.joining("; "));
        if (!shards.problems().isEmpty()) {
            detail += "; unreadable: " + String.join("; ", shards.problems());
        }
        return new CheckResult("shards delivered", shards.count(), shards.shards().size(), "shards",
                shards.missing().isEmpty() && shards.problems().isEmpty(), detail, true);
    }

    public Optional<Verdict> verdict() {
        return Optional.ofNullable(verdict);
    }

    public String checkName(int index) {
        return checks.get(index).name();
    }

    /** The one-line outcome of check {@code index} (an injector's delivery check included: it has no verdict). */
    public String checkLine(int index) {
        return checks.get(index).line();
    }

    public URI checkUrl(int index) {
        return verdictServer.checkUrl(index);
    }

    /** Stops the topology and updates reports/index.html. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        if (verdict == null && !delivered && loadStarted != null) {
            try {
                // Gatling stopped before the verdict scenario (the abort rule, or anything else): judge what was recorded.
                judge(aborted() ? null : "the load did not finish: the verdict scenario never ran", false);
            } catch (RuntimeException e) {
                log.error("Cannot judge the run: {}", e.toString());
            }
        }
        closed = true;
        try {
            if (watch != null) {
                watch.close();
            }
            if (chaos != null) {
                chaos.close();
            }
            if (probes != null) {
                probes.close();
            }
        } finally {
            if (heartbeats != null) {
                heartbeats.shutdownNow();
            }
            if (topology != null) {
                topology.close();
            }
            verdictServer.close();
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException e) {
                // The JVM is already shutting down.
            }
        }
        if (verdict != null && shardDirectory != null) {
            try {
                shardDirectory.finish(verdict.passed());
            } catch (IOException e) {
                log.warn("Cannot mark {} finished: {}", sharding.dir(), e.toString());
            }
        }
        if (verdict != null) {
            copyLogs();
            try {
                ChaosReport.writeHistory(reportsDir);
            } catch (IOException e) {
                log.warn("Cannot update {}: {}", reportsDir.resolve(RunHistory.PAGE), e.toString());
            }
        }
    }

    private void emergencyStop() {
        if (closed) {
            return;
        }
        System.err.println("[doorbuster] the run ended without cleaning up: healing faults and stopping the topology");
        if (verdict == null && !delivered && loadStarted != null) {
            // SIGTERM or Ctrl-C during the load: a partial verdict and chaos.html from what was recorded, bounded in time.
            RunEnd.within(RunEnd.PARTIAL_VERDICT_LIMIT, () -> judge("interrupted (SIGTERM or Ctrl-C) at second "
                    + recorder.secondOf(System.nanoTime()), true));
        }
        if (sharding.isCoordinator() && shardDirectory != null) {
            try {
                shardDirectory.finish(verdict != null && verdict.passed()); // the injectors stop their load
            } catch (IOException e) {
                // they stop anyway once the coordinator's heartbeat is silent
            }
        }
        try {
            if (chaos != null) {
                chaos.close();
            }
        } finally {
            if (topology != null) {
                topology.close();
            }
        }
    }

    /**
     * A second after each scheduled fault starts (the fault numbering of {@link ChaosRunner}), every node's
     * connections, longest-running queries and replication state, for the report's "when each fault hit".
     */
    private void snapshotEachFault() {
        List<FaultSchedule.Entry> entries = schedule.entries();
        if (entries.isEmpty()) {
            return;
        }
        faultSnapshots = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "doorbuster-fault-snapshots");
            t.setDaemon(true);
            return t;
        });
        for (int i = 0; i < entries.size(); i++) {
            FaultSchedule.Entry entry = entries.get(i);
            String label = "F" + (i + 1) + " " + entry.fault().name();
            long at = entry.at().plusSeconds(1).toMillis();
            faultSnapshots.schedule(() -> databaseAtFaults.add(DatabaseDiagnostics.atFault(topology, label,
                    entry.fault().describe(), (System.nanoTime() - recorder.startNanos()) / 1e9)), at,
                    java.util.concurrent.TimeUnit.MILLISECONDS);
        }
    }

    /** Requests in the busiest second of the run. */
    private double peakRate() {
        long peak = 0;
        for (int s = 0; s <= recorder.lastSecond(); s++) {
            peak = Math.max(peak, recorder.counts(null, s, s + 1).total());
        }
        return peak;
    }

    /** Environments that own their database: applies the doorbuster fixture, then reads every product's stock before the load. */
    private void prepareStock() {
        StockTracking tracking = stockTracking;
        if (tracking == null) {
            return;
        }
        if (!environment.ownsDatabase()) {
            stockError = "environment '" + environment.name() + "' is external: other traffic may take stock too";
            return;
        }
        try {
            tracking.fixture().apply();
            initialStock = tracking.reader().read();
            consistencyLog.inventory().doorbusters(new java.util.HashSet<>(tracking.doorbusters().productIds()));
        } catch (Exception e) {
            stockError = "the stock could not be read before the load: " + e.getMessage();
            log.warn("Stock invariant disabled: {}", stockError);
        }
    }

    /** The stock invariant on the current primary, once the writes are audited (null when not tracked). */
    private Inventory.StockAudit auditStock(WriteLedger.Audit audit) {
        StockTracking tracking = stockTracking;
        if (tracking == null || (!environment.ownsDatabase() && initialStock == null)) {
            return null;
        }
        Inventory inventory = consistencyLog.inventory();
        if (initialStock == null) {
            return Inventory.StockAudit.notPossible(inventory.outOfStockAnswers(), stockError);
        }
        try {
            return inventory.evaluate(initialStock, tracking.reader().read(), consistencyLog.ledger(), audit);
        } catch (Exception e) {
            return Inventory.StockAudit.notPossible(inventory.outOfStockAnswers(), "the stock could not be read after "
                    + "the load: " + e.getMessage());
        }
    }

    private WriteLedger.Audit auditOnce() {
        return consistencyLog.ledger().audit(consistency.lookups(), new WriteLookup.Target(topology.writerJdbcUrl(),
                topology.dbUser(), topology.dbPassword(), topology.appUrl()));
    }

    /** The audit retries for a while: right after healing, the primary may still be coming back. */
    private WriteLedger.Audit auditWrites() {
        long deadline = System.nanoTime() + AUDIT_RETRY.toNanos();
        while (true) {
            WriteLedger.Audit audit = auditOnce();
            if (audit.error() == null || System.nanoTime() > deadline) {
                return audit;
            }
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return audit;
            }
        }
    }

    /**
     * Gatling's folder for this run ({@code reports/<simulation>-<timestamp>}), created when the run
     * started; our files go next to its report. Falls back to a folder of our own.
     */
    private Path reportDir() {
        String prefix = simulation.toLowerCase(Locale.ROOT) + "-";
        Instant since = loadStarted.minus(Duration.ofMinutes(10));
        try (Stream<Path> dirs = Files.isDirectory(reportsDir) ? Files.list(reportsDir) : Stream.empty()) {
            Optional<Path> gatling = dirs.filter(Files::isDirectory)
                    .filter(d -> d.getFileName().toString().startsWith(prefix))
                    .filter(d -> modifiedAfter(d, since))
                    .max(Comparator.comparing(d -> d.getFileName().toString()));
            if (gatling.isPresent()) {
                return gatling.get();
            }
        } catch (IOException e) {
            log.debug("Cannot list {}: {}", reportsDir, e.toString());
        }
        return reportsDir.resolve(prefix + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMddHHmmssSSS")));
    }

    private void copyLogs() {
        Path dir = reportDir();
        List<Path> logs = new ArrayList<>();
        try (Stream<Path> files = Files.isDirectory(workDir) ? Files.list(workDir) : Stream.empty()) {
            files.filter(f -> f.getFileName().toString().endsWith(".log")).forEach(logs::add);
        } catch (IOException e) {
            return;
        }
        for (Path logFile : logs) {
            try {
                Files.createDirectories(dir.resolve("logs"));
                Files.copy(logFile, dir.resolve("logs").resolve(logFile.getFileName()),
                        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
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
