package dev.doorbuster.load;

import java.net.URI;
import java.time.Instant;
import java.util.OptionalInt;

import dev.doorbuster.topology.Environment;
import dev.doorbuster.topology.Topology;
import dev.doorbuster.verdict.Verdict;

/**
 * The whole run in one process: the topology, the faults and the probes, the load with its progress lines and abort
 * rule, and the verdict.
 */
final class SoloRole implements RunRole {
    private final RunPlan plan;
    private final RunRecording recording;
    private final OwnedTopology topology;
    private final StockInvariant stock;
    private final Judgement judgement;
    private volatile RunWatch watch;

    private SoloRole(RunPlan plan, RunRecording recording, OwnedTopology topology, StockInvariant stock,
                     ReportFiles reports) {
        this.plan = plan;
        this.recording = recording;
        this.topology = topology;
        this.stock = stock;
        this.judgement = new Judgement(plan, recording, topology, stock, reports);
    }

    static SoloRole start(RunPlan plan, RunRecording recording, StockInvariant stock, ReportFiles reports) {
        return new SoloRole(plan, recording, OwnedTopology.start(plan, recording), stock, reports);
    }

    @Override
    public URI appUrl() {
        return topology.topology().appUrl();
    }

    @Override
    public Topology topology() {
        return topology.topology();
    }

    @Override
    public void beginLoad() {
        topology.snapshotBefore(); // before the clock starts
        topology.preflightWriteProbe(); // before the clock starts: no fault is on
        recording.startClock(System.nanoTime(), Instant.now());
        recording.watchGenerator(plan.profile(), plan.environment().slo());
        stock.prepare();
        recording.startRequestLog(plan.workDir());
        topology.startLoad(recording);
        Environment environment = plan.environment();
        boolean sizesKnown = environment.runsStorefront(); // a user's application's pools are its own
        watch = RunWatch.start(recording.recorder(), recording.timeline(), topology::latest, plan.profile().total(),
                sizesKnown ? environment.app().writerPoolSize() : 0, sizesKnown ? environment.app().readerPoolSize() : 0,
                plan.abortGuard());
    }

    @Override
    public String abortReason() {
        RunWatch w = watch;
        return w == null ? null : w.abortReason();
    }

    @Override
    public Outcome end(String endedEarly, boolean quick) {
        double seconds = recording.secondsSinceStart();
        RunWatch w = watch;
        if (w != null) {
            w.close();
        }
        String aborted = abortReason();
        Verdict verdict = judgement.judge(seconds, aborted != null ? aborted : endedEarly,
                aborted != null ? OptionalInt.of(w.abortedAt()) : OptionalInt.empty(), null, quick);
        return new Outcome(verdict.checks(), verdict);
    }

    @Override
    public void close(Outcome outcome) {
        try {
            if (watch != null) {
                watch.close();
            }
        } finally {
            topology.close();
        }
    }

    @Override
    public void emergencyStop(Outcome outcome) {
        topology.emergencyClose();
    }
}
