package dev.doorbuster.load;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.IntStream;

import dev.doorbuster.chaos.Fault;
import dev.doorbuster.chaos.FaultKind;
import dev.doorbuster.chaos.FaultSchedule;
import dev.doorbuster.topology.Environment;
import dev.doorbuster.topology.EnvironmentLoader;
import dev.doorbuster.topology.Topology;
import dev.doorbuster.verdict.JudgingMode;
import dev.doorbuster.verdict.recording.LatencyRecorder;
import dev.doorbuster.verdict.RunHistory;
import dev.doorbuster.verdict.Verdict;
import io.gatling.javaapi.core.CoreDsl;
import io.gatling.javaapi.core.ScenarioBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Doorbuster run, as a simulation sees it:
 * <ol>
 *   <li>{@link #start} (from the simulation's constructor, because Gatling reads the base URL then):
 *       reads and validates the environment, refuses faults it cannot perform, and takes this process's part
 *       ({@link RunRole}: solo, a scaled-out run's coordinator, or one of its injectors), which starts the topology
 *       or joins the coordinator;</li>
 *   <li>{@link #beginLoad()} (from {@code before()}): second 0; the probes, the fault schedule and the
 *       {@link RunWatch} (a progress line every 10 s; the abort rule, which stops the load generator);</li>
 *   <li>{@link #judge()} (from the last scenario, once the load is over): the verdict ({@link Judgement}), or an
 *       injector's delivery of its recording;</li>
 *   <li>{@link #close()} (from {@code after()}): stops the topology, copies its logs next to the verdict and updates
 *       the run history.</li>
 * </ol>
 * A run that stops before the verdict scenario (the abort rule) is judged from {@link #close()}; one stopped by
 * SIGTERM or Ctrl-C gets a partial verdict from the JVM shutdown hook, which then heals faults and stops the
 * topology (as it does if {@code after()} never runs, a crash).
 */
public final class Run implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Run.class);
    /** {@code -Dbaseline=<run folder>}: compare with this run instead of the simulation's marked baseline. */
    public static final String BASELINE = "baseline";
    /** The file of every operation, for Elle's rw-register checker. */
    public static final String HISTORY_FILE = "history.json";

    private final RunPlan plan;
    private final RunRecording recording;
    private final StockInvariant stock;
    private final ReportFiles reports;
    private final RunRole role;
    private final VerdictServer verdictServer;
    private final Thread shutdownHook;
    /** Set once the run is judged (or an injector delivered). */
    private volatile RunRole.Outcome outcome;
    private volatile boolean closed;

    private Run(RunPlan plan, RunRecording recording, StockInvariant stock, ReportFiles reports, RunRole role)
            throws IOException {
        this.plan = plan;
        this.recording = recording;
        this.stock = stock;
        this.reports = reports;
        this.role = role;
        this.verdictServer = new VerdictServer(() -> outcome == null ? List.of() : outcome.checks());
        this.shutdownHook = new Thread(this::emergencyStop, "doorbuster-run-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /**
     * Reads the environment ({@code -Ddoorbuster.env}, default local), checks the schedule against it,
     * and starts (or connects to) the topology. Nothing is started if the environment or a fault is
     * refused.
     */
    public static Run start(String simulation, LoadProfile profile, FaultSchedule schedule, JudgingMode mode) {
        return start(simulation, profile, schedule, mode, false);
    }

    /**
     * As {@link #start(String, LoadProfile, FaultSchedule, JudgingMode)}; {@code cacheTier}: the simulation needs the
     * cache tier, which is turned on unless {@code -Dapp.cache=false} (a fault on the cache also turns it on).
     */
    public static Run start(String simulation, LoadProfile profile, FaultSchedule schedule, JudgingMode mode,
                            boolean cacheTier) {
        return start(simulation, profile, schedule, mode, cacheTier, null);
    }

    /** As {@link #start(String, LoadProfile, FaultSchedule, JudgingMode, boolean)}, confirming a capacity search. */
    static Run start(String simulation, LoadProfile profile, FaultSchedule schedule, JudgingMode mode,
                     boolean cacheTier, dev.doorbuster.verdict.Capacity capacity) {
        Sharding sharding = Sharding.fromParameters();
        // toxiproxy-java's HttpURLConnection sets no timeouts: bound every call so no API call can hang a run.
        System.setProperty("sun.net.client.defaultConnectTimeout", System.getProperty("sun.net.client.defaultConnectTimeout", "5000"));
        System.setProperty("sun.net.client.defaultReadTimeout", System.getProperty("sun.net.client.defaultReadTimeout", "30000"));
        boolean needsCache = cacheTier || schedule.entries().stream()
                .anyMatch(e -> e.fault().needs().contains(Fault.Need.CACHE));
        boolean growsFleet = schedule.entries().stream().anyMatch(e -> e.fault().needs().contains(Fault.Need.FLEET));
        Environment environment = growsFleet ? EnvironmentLoader.withFleet(needsCache)
                : needsCache ? EnvironmentLoader.withCacheTier() : EnvironmentLoader.fromSystemProperties();
        // The fault names live with the faults (chaos), which topology cannot see: checked here, before
        // anything starts (ChaosRunner.checkAllowed checks them again once the topology is up).
        FaultKind.checkAllowFaults(environment);
        Path reportsDir = RunHistory.reportsDir();
        String baseline = System.getProperty(BASELINE);
        if (baseline != null && !baseline.isBlank() && RunHistory.baseline(reportsDir, simulation, baseline).isEmpty()) {
            throw new IllegalArgumentException("-D" + BASELINE + "=" + baseline + " names no run with a readable "
                    + Verdict.JSON_FILE + " under " + reportsDir + " (give a run folder's name or path, e.g. -D" + BASELINE
                    + "=blackfridaysimulation-20261201014424868)");
        }
        // The PID too: two runs of one simulation started in the same second (parallel controls, two terminals) must
        // not share a folder (the storefront's log, the Redis folder named after it).
        Path workDir = Path.of("target", "doorbuster", simulation.toLowerCase(Locale.ROOT) + "-"
                + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")) + "-"
                + ProcessHandle.current().pid()).toAbsolutePath();
        log.info("Doorbuster {}: environment '{}' ({}), {} of load, {} fault(s){}", simulation, environment.name(),
                environment.source(), profile.total(), schedule.entries().size(),
                sharding.role() == Sharding.Role.SOLO ? "" : "; " + sharding.describe());
        RunPlan plan = new RunPlan(simulation, environment, profile, schedule, mode, reportsDir, workDir, sharding,
                capacity);
        RunRecording recording = new RunRecording(workDir);
        StockInvariant stock = new StockInvariant(environment, recording.consistencyLog());
        ReportFiles reports = new ReportFiles(plan);
        RunRole role = switch (sharding.role()) {
            case SOLO -> SoloRole.start(plan, recording, stock, reports);
            case COORDINATOR -> CoordinatorRole.start(plan, recording, stock, reports);
            case INJECTOR -> InjectorRole.join(plan, recording);
        };
        try {
            return new Run(plan, recording, stock, reports, role);
        } catch (IOException | RuntimeException e) {
            role.close(null); // the topology it started
            throw e instanceof RuntimeException r ? r : new IllegalStateException(e);
        }
    }

    public URI appUrl() {
        return role.appUrl();
    }

    /** This process's part in a scaled-out run. */
    public Sharding sharding() {
        return plan.sharding();
    }

    /**
     * A Gatling scenario whose every user, as it starts, tells the run so: start the scenario that injects
     * {@link #profile()} with it. The run compares those starts with the arrivals the profile planned, to know
     * whether the load generator kept up; a simulation that starts its scenario otherwise gets the check
     * {@value dev.doorbuster.verdict.GeneratorHealth#CHECK} reported as not judged.
     */
    public ScenarioBuilder scenario(String name) {
        return CoreDsl.scenario(name).exec(session -> {
            recording.userStarted();
            return session;
        });
    }

    public Environment environment() {
        return plan.environment();
    }

    /** The topology this process owns (null for an injector shard: its coordinator owns it). */
    public Topology topology() {
        return role.topology();
    }

    public LoadProfile profile() {
        return plan.profile();
    }

    public LatencyRecorder recorder() {
        return recording.recorder();
    }

    /** The run's checked requests: timing, the write ledger and the session guarantees. */
    public Consistency consistency() {
        return recording.consistency();
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

    /**
     * Evaluates the stock invariant for this run: {@code fixture} sets the doorbusters' stock before the load
     * (environments that own their database), {@code reader} reads every product's stock before the load and after the
     * faults heal. On an external environment other traffic may order too, so the invariant is not evaluated
     * there.
     */
    public void trackStock(StockReader reader, Doorbusters doorbusters, Fixture fixture) {
        stock.track(reader, doorbusters, fixture);
    }

    /** Second 0 of the run: starts the recorder, the probes and the fault schedule. */
    public synchronized void beginLoad() {
        role.beginLoad();
    }

    /** True once the abort rule tripped: the shoppers' scenario stops the load generator. */
    public boolean aborted() {
        return role.abortReason() != null;
    }

    /** Why the load was stopped early (null while it was not). */
    public String abortReason() {
        return role.abortReason();
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
        if (outcome == null) {
            if (!recording.started()) {
                beginLoad(); // before() did not run (misuse): judge an empty run rather than crash
            }
            outcome = role.end(endedEarly, quick);
        }
        return IntStream.range(0, outcome.checks().size()).boxed().toList();
    }

    public Optional<Verdict> verdict() {
        RunRole.Outcome o = outcome;
        return o == null ? Optional.empty() : Optional.ofNullable(o.verdict());
    }

    public String checkName(int index) {
        return outcome.checks().get(index).name();
    }

    /** The one-line outcome of check {@code index} (an injector's delivery check included: it has no verdict). */
    public String checkLine(int index) {
        return outcome.checks().get(index).line();
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
        if (outcome == null && recording.started()) {
            try {
                // Gatling stopped before the verdict scenario (the abort rule, or anything else): judge what was recorded.
                judge(aborted() ? null : "the load did not finish: the verdict scenario never ran", false);
            } catch (RuntimeException e) {
                log.error("Cannot judge the run: {}", e.toString());
            }
        }
        closed = true;
        try {
            role.close(outcome);
        } finally {
            verdictServer.close();
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException e) {
                // The JVM is already shutting down.
            }
        }
        if (verdict().isPresent()) {
            reports.afterClose(recording.loadStarted());
        }
    }

    private void emergencyStop() {
        if (closed) {
            return;
        }
        System.err.println("[doorbuster] the run ended without cleaning up: healing faults and stopping the topology");
        if (outcome == null && recording.started()) {
            // SIGTERM or Ctrl-C during the load: a partial verdict and chaos.html from what was recorded, bounded in time.
            RunEnd.within(RunEnd.PARTIAL_VERDICT_LIMIT, () -> judge("interrupted (SIGTERM or Ctrl-C) at second "
                    + recording.second(), true));
        }
        role.emergencyStop(outcome);
    }
}
