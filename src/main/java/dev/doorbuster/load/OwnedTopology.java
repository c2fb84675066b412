package dev.doorbuster.load;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import dev.doorbuster.chaos.ChaosContext;
import dev.doorbuster.chaos.ChaosRunner;
import dev.doorbuster.chaos.FaultKind;
import dev.doorbuster.chaos.FaultSchedule;
import dev.doorbuster.chaos.WriteProbe;
import dev.doorbuster.topology.ExternalTopology;
import dev.doorbuster.topology.LocalTopology;
import dev.doorbuster.topology.Topology;
import dev.doorbuster.topology.docker.DockerTopology;
import dev.doorbuster.verdict.Provenance;
import dev.doorbuster.verdict.probes.DatabaseDiagnostics;
import dev.doorbuster.verdict.report.DatabaseReport;
import dev.doorbuster.verdict.probes.DatabaseSnapshot;
import dev.doorbuster.verdict.probes.CacheSample;
import dev.doorbuster.verdict.probes.PoolerSample;
import dev.doorbuster.verdict.probes.MetricsCoverage;
import dev.doorbuster.verdict.probes.ProbeSample;
import dev.doorbuster.verdict.probes.Probes;

/**
 * The topology of a process that owns one (a solo run, or a scaled-out run's coordinator): started (or connected to)
 * with the faults it cannot perform refused, then during the load its probes, its fault schedule and the database's
 * state before the load, a second after each fault hits, and after the faults heal.
 */
final class OwnedTopology {
    private final Topology topology;
    private final FaultSchedule schedule;
    private final WriteProbe writeProbe;
    private final List<DatabaseReport.AtFault> atFaults = new CopyOnWriteArrayList<>();
    private volatile List<DatabaseSnapshot> before = List.of();
    private volatile ScheduledExecutorService faultSnapshots;
    private volatile Probes probes;
    private volatile ChaosRunner chaos;

    private OwnedTopology(Topology topology, FaultSchedule schedule) {
        this.topology = topology;
        this.schedule = schedule;
        this.writeProbe = WriteProbe.of(topology.environment(), topology.appUrl());
    }

    /**
     * Starts the plan's topology (connecting to an external environment starts nothing) and checks every scheduled
     * fault can be performed on it; stops it again if one cannot.
     */
    private volatile Provenance.Database database = Provenance.Database.UNKNOWN;

    static OwnedTopology start(RunPlan plan, RunRecording recording) {
        Topology topology = switch (plan.environment().type()) {
            case LOCAL -> LocalTopology.start(plan.environment(), plan.workDir());
            case DOCKER -> DockerTopology.start(plan.environment(), plan.workDir());
            case EXTERNAL -> ExternalTopology.connect(plan.environment());
        };
        try {
            new ChaosRunner(new ChaosContext(topology, recording.timeline(), null), plan.schedule()).checkAllowed();
            return new OwnedTopology(topology, plan.schedule());
        } catch (RuntimeException e) {
            topology.close();
            throw e;
        }
    }

    Topology topology() {
        return topology;
    }

    /** Every node's state before the load (bounded, never throws): taken before the clock starts. */
    void snapshotBefore() {
        before = DatabaseDiagnostics.snapshot(topology);
    }

    /**
     * Before the clock starts, when a failover is scheduled: the write probe's pre-flight with no fault on, one write
     * (two when the first gets no answer at all), at most a few seconds. A write the application does not acknowledge
     * now would not be acknowledged after a failover either: the RTO is then not judged (naming what the write got)
     * instead of failing after the give-up time.
     */
    void preflightWriteProbe() {
        if (schedule.entries().stream().noneMatch(e -> e.fault().kind() == FaultKind.PRIMARY_FAILOVER)) {
            return;
        }
        writeProbe.preflight().ifPresent(why -> System.out.println("[doorbuster] the failover RTO will not be judged: "
                + why.reason() + "; " + why.fix()));
    }

    /** Why the write probe cannot measure a failover's RTO (null: it can), for the verdict. */
    WriteProbe.Unmeasurable unmeasurableRto() {
        return writeProbe.unmeasurable().orElse(null);
    }

    /** At second 0: starts the probes, the fault schedule and the snapshots a second after each fault. */
    void startLoad(RunRecording recording) {
        // What the database is as the load starts, for the run's provenance (read directly, before any fault).
        database = Provenance.readDatabase(topology.diagnosticTargets());
        probes = new Probes(topology, recording::second);
        probes.start();
        chaos = new ChaosRunner(new ChaosContext(topology, recording.timeline(), writeProbe), schedule);
        chaos.start();
        snapshotEachFault(recording);
    }

    /** The primary's version and non-default settings as the load started ({@link Provenance.Database#UNKNOWN} before). */
    Provenance.Database database() {
        return database;
    }

    /** The latest probe sample (for the progress lines). */
    ProbeSample latest() {
        return probes.latest();
    }

    List<ProbeSample> samples() {
        return probes.samples();
    }

    /** What the probes' scrapes of the service's metrics found (null before the load started). */
    MetricsCoverage metricsCoverage() {
        return probes == null ? null : probes.coverage();
    }

    /** The cache tier's per-second counters (empty without a cache tier). */
    List<CacheSample> cacheSamples() {
        return probes == null ? List.of() : probes.cacheSamples();
    }

    /** The service's database errors by SQLSTATE over the run (null when its metrics were never read). */
    dev.doorbuster.verdict.probes.DatabaseErrors databaseErrors() {
        return probes == null ? null : probes.databaseErrors().orElse(null);
    }

    /** The pooler tier's per-second view (empty without a pooler tier). */
    List<PoolerSample> poolerSamples() {
        return probes == null ? List.of() : probes.poolerSamples();
    }

    /**
     * After the load: heals every fault, takes a last probe sample (not when {@code quick}), stops the probes, and
     * compares the database before and after. A quick end (SIGTERM) skips the after snapshot: a hung node could hold
     * it for seconds.
     */
    DatabaseReport heal(boolean quick) {
        chaos.healAll();
        if (!quick) {
            probes.sample();
        }
        probes.close();
        if (faultSnapshots != null) {
            faultSnapshots.shutdownNow(); // a fault that has not hit yet never will
        }
        List<DatabaseSnapshot> after = quick ? List.of() : DatabaseDiagnostics.snapshot(topology);
        return DatabaseDiagnostics.compare(before, after).withFaults(List.copyOf(atFaults));
    }

    /** Stops the probes and the fault schedule (healing what is still on), then the topology. */
    void close() {
        try {
            if (chaos != null) {
                chaos.close();
            }
            if (probes != null) {
                probes.close();
            }
        } finally {
            topology.close();
        }
    }

    /** The JVM is stopping: heals the faults and stops the topology, nothing else. */
    void emergencyClose() {
        try {
            if (chaos != null) {
                chaos.close();
            }
        } finally {
            topology.close();
        }
    }

    /**
     * A second after each scheduled fault starts (the fault numbering of {@link ChaosRunner}), every node's
     * connections, longest-running queries and replication state, for the report's "when each fault hit".
     */
    private void snapshotEachFault(RunRecording recording) {
        List<FaultSchedule.Entry> entries = schedule.entries();
        if (entries.isEmpty()) {
            return;
        }
        faultSnapshots = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "doorbuster-fault-snapshots");
            t.setDaemon(true);
            return t;
        });
        for (int i = 0; i < entries.size(); i++) {
            FaultSchedule.Entry entry = entries.get(i);
            String label = "F" + (i + 1) + " " + entry.fault().name();
            long at = entry.at().plusSeconds(1).toMillis();
            faultSnapshots.schedule(() -> atFaults.add(DatabaseDiagnostics.atFault(topology, label,
                    entry.fault().describe(), (System.nanoTime() - recording.recorder().startNanos()) / 1e9)), at,
                    TimeUnit.MILLISECONDS);
        }
    }
}
