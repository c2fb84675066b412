package dev.doorbuster.load;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import dev.doorbuster.topology.Topology;
import dev.doorbuster.verdict.GeneratorHealth;
import dev.doorbuster.verdict.shard.ShardData;
import dev.doorbuster.verdict.shard.ShardReport;
import dev.doorbuster.verdict.Verdict;
import org.HdrHistogram.Histogram;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A scaled-out run's coordinator: owns the topology, the faults and the probes; releases the injector shards at a
 * common start instant and keeps a heartbeat for them; after the load, merges their recordings into its own and
 * judges the whole run. It brings no load of its own, so it has no progress lines or abort rule (the injectors do).
 */
final class CoordinatorRole implements RunRole {
    private static final Logger log = LoggerFactory.getLogger(CoordinatorRole.class);

    private final RunPlan plan;
    private final Sharding sharding;
    private final RunRecording recording;
    private final OwnedTopology topology;
    private final StockInvariant stock;
    private final Judgement judgement;
    private final ShardDirectory shardDirectory;
    /** The injectors that were not ready when the load started. */
    private volatile List<Integer> notReady = List.of();
    private volatile ScheduledExecutorService heartbeats;

    private CoordinatorRole(RunPlan plan, RunRecording recording, OwnedTopology topology, StockInvariant stock,
                            ReportFiles reports, ShardDirectory shardDirectory) {
        this.plan = plan;
        this.sharding = plan.sharding();
        this.recording = recording;
        this.topology = topology;
        this.stock = stock;
        this.judgement = new Judgement(plan, recording, topology, stock, reports);
        this.shardDirectory = shardDirectory;
    }

    /** Starts the topology, then announces the run (and its application) in the shared directory. */
    static CoordinatorRole start(RunPlan plan, RunRecording recording, StockInvariant stock, ReportFiles reports) {
        OwnedTopology topology = OwnedTopology.start(plan, recording);
        Sharding sharding = plan.sharding();
        try {
            ShardDirectory directory = ShardDirectory.announce(sharding.dir(), plan.simulation(), sharding.count(),
                    topology.topology().appUrl());
            System.out.println("[doorbuster] coordinator of run " + directory.run() + ": waiting for "
                    + sharding.count() + " injector shard(s) in " + sharding.dir());
            return new CoordinatorRole(plan, recording, topology, stock, reports, directory);
        } catch (IOException | RuntimeException e) {
            topology.close();
            throw e instanceof RuntimeException r ? r : new IllegalStateException(e);
        }
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
        stock.prepare(); // before the injectors are released: the deals' stock is set when the first shopper comes
        releaseInjectors();
        topology.startLoad(recording);
    }

    /**
     * Waits until every injector is ready (or the start timeout passed), announces the common start instant, and
     * starts the clock once it has come.
     */
    private void releaseInjectors() {
        try {
            notReady = shardDirectory.awaitReady(sharding.count(), sharding.startTimeout());
            if (!notReady.isEmpty()) {
                System.err.println("[doorbuster] shard(s) " + notReady + " of " + sharding.count() + " not ready within "
                        + sharding.startTimeout().toSeconds() + " s: starting without them (the verdict will fail)");
            }
            long startEpochMillis = shardDirectory.announceStart();
            heartbeats = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "doorbuster-coordinator-heartbeat");
                t.setDaemon(true);
                return t;
            });
            heartbeats.scheduleAtFixedRate(shardDirectory::coordinatorHeartbeat, 0, 2, TimeUnit.SECONDS);
            System.out.println("[doorbuster] run " + shardDirectory.run() + ": " + (sharding.count() - notReady.size())
                    + " injector shard(s) start at " + Instant.ofEpochMilli(startEpochMillis));
            recording.startClockAt(startEpochMillis);
        } catch (IOException e) {
            throw new IllegalStateException("cannot announce the start in " + sharding.dir() + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the injector shards", e);
        }
    }

    /** None: the injectors watch their own load. */
    @Override
    public String abortReason() {
        return null;
    }

    @Override
    public Outcome end(String endedEarly, boolean quick) {
        double seconds = recording.secondsSinceStart(); // the load's length, without the wait for the recordings
        ShardReport shards = collectShards(quick);
        Verdict verdict = judgement.judge(seconds, endedEarly, OptionalInt.empty(), shards, quick);
        return new Outcome(verdict.checks(), verdict);
    }

    /**
     * Waits for every ready injector's recording (until the results timeout), merges latency (histograms added) and
     * consistency accounting (ledgers, session checks, orders, history) into this run's, and says which shards are
     * missing and why.
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
            String heard = shardDirectory.lastHeartbeat(i).map(s -> "last heard from at run second " + s)
                    .orElse("never heard from during the load");
            ShardReport.Missing shard = new ShardReport.Missing(i, notReady.contains(i)
                    ? "not ready within " + sharding.startTimeout().toSeconds() + " s of the coordinator's start"
                    : "no recording within " + sharding.resultsTimeout().toSeconds() + " s of the load's end ("
                    + heard + ")");
            missing.add(shard);
            log.warn("Shard {} of {}: {}", i, sharding.count(), shard.reason());
        }
        List<Path> dirs = done.keySet().stream().sorted().map(shardDirectory::shard).toList();
        ShardData.MergedLatency merged = ShardData.mergeLatency(dirs, recording.recorder().startNanos());
        List<String> problems = new ArrayList<>(merged.problems());
        for (Path dir : dirs) {
            try {
                recording.consistencyLog().absorb(ShardData.readConsistency(dir), dir.resolve(ShardData.JOURNAL));
            } catch (IOException | RuntimeException e) {
                String problem = dir.getFileName() + "/" + ShardData.CONSISTENCY + ": " + e.getMessage();
                problems.add(problem);
                // Its writes are unknown: the audit must say it cannot tell, not count the others' as the run's.
                recording.consistencyLog().absorbFailed(problem);
            }
        }
        List<GeneratorHealth> generators = new ArrayList<>();
        for (Path dir : dirs) {
            try {
                GeneratorHealth generator = ShardData.readGenerator(dir);
                if (generator == null) {
                    problems.add(dir.getFileName() + ": no " + ShardData.GENERATOR + " (its load generator was not "
                            + "watched: an injector of an older Doorbuster?)");
                }
                generators.add(generator);
            } catch (IOException | RuntimeException e) {
                problems.add(dir.getFileName() + "/" + ShardData.GENERATOR + ": " + e.getMessage());
            }
        }
        recording.useShardGenerators(GeneratorHealth.merge(generators));
        recording.useMerged(merged.recorder());
        Histogram all = merged.recorder().histogram(null, 0, merged.recorder().lastSecond() + 1);
        boolean any = all.getTotalCount() > 0;
        return new ShardReport(sharding.count(), done.values().stream()
                .sorted(Comparator.comparingInt(ShardReport.Shard::index)).toList(), missing,
                all.getTotalCount(), any ? all.getValueAtPercentile(50) : -1, any ? all.getValueAtPercentile(99) : -1,
                problems);
    }

    @Override
    public void close(Outcome outcome) {
        if (heartbeats != null) {
            heartbeats.shutdownNow();
        }
        topology.close();
        if (outcome != null) {
            try {
                shardDirectory.finish(outcome.verdict().passed()); // the injectors stop their load
            } catch (IOException e) {
                log.warn("Cannot mark {} finished: {}", sharding.dir(), e.toString());
            }
        }
    }

    @Override
    public void emergencyStop(Outcome outcome) {
        try {
            shardDirectory.finish(outcome != null && outcome.verdict().passed()); // the injectors stop their load
        } catch (IOException e) {
            // they stop anyway once the coordinator's heartbeat is silent
        }
        topology.emergencyClose();
    }
}
