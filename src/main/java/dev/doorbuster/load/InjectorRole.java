package dev.doorbuster.load;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import dev.doorbuster.topology.Topology;
import dev.doorbuster.verdict.CheckResult;
import dev.doorbuster.verdict.GeneratorHealth;
import dev.doorbuster.verdict.recording.LatencyRecorder;
import dev.doorbuster.verdict.shard.ShardData;
import dev.doorbuster.verdict.shard.ShardReport;

/**
 * One injector shard of a scaled-out run: no topology of its own. It joins the run its coordinator announced, brings
 * its share of the load from the common start instant with its own progress lines and abort rule, and delivers its
 * recording into its folder of the shared directory; the coordinator judges.
 */
final class InjectorRole implements RunRole {
    private final RunPlan plan;
    private final Sharding sharding;
    private final RunRecording recording;
    private final ShardDirectory shardDirectory;
    /** The application, as the coordinator announced it. */
    private final URI appUrl;
    private volatile ScheduledExecutorService heartbeats;
    private volatile RunWatch watch;
    /** Why the coordinator is taken for gone (the load then stops, as the abort rule stops it), or null. */
    private volatile String coordinatorGone;

    private InjectorRole(RunPlan plan, RunRecording recording, ShardDirectory shardDirectory, URI appUrl) {
        this.plan = plan;
        this.sharding = plan.sharding();
        this.recording = recording;
        this.shardDirectory = shardDirectory;
        this.appUrl = appUrl;
    }

    /**
     * Waits for the coordinator's announcement in the shared directory, checks the application answers from here,
     * and says it is ready.
     */
    static InjectorRole join(RunPlan plan, RunRecording recording) {
        Sharding sharding = plan.sharding();
        try {
            System.out.println("[doorbuster] " + sharding.describe() + ": waiting for the coordinator in "
                    + sharding.dir());
            ShardDirectory.Joined joined = ShardDirectory.join(sharding.dir(), plan.simulation(), sharding.index(),
                    sharding.count(), sharding.startTimeout());
            checkReachable(joined.appUrl(), sharding);
            recording.consistencyLog().shard(sharding.index());
            return new InjectorRole(plan, recording, joined.directory(), joined.appUrl());
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
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        try {
            client.send(HttpRequest.newBuilder(appUrl).timeout(Duration.ofSeconds(10)).GET().build(),
                    HttpResponse.BodyHandlers.discarding());
        } catch (IOException e) {
            throw new IllegalStateException(sharding.describe() + " cannot reach the application the coordinator "
                    + "announced (" + appUrl + "): " + e + ". A local or docker environment serves on the coordinator's "
                    + "machine only (127.0.0.1): run the injectors there, or use an external environment.", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while checking " + appUrl, e);
        }
    }

    @Override
    public URI appUrl() {
        return appUrl;
    }

    @Override
    public Topology topology() {
        return null;
    }

    /** Second 0 is the common start instant; no probes, no faults, its own progress lines and abort rule. */
    @Override
    public void beginLoad() {
        try {
            long startEpochMillis = shardDirectory.awaitStart(sharding.startTimeout());
            long late = System.currentTimeMillis() - startEpochMillis;
            if (late > 1000) {
                System.err.println("[doorbuster] " + sharding.describe() + " joins " + late + " ms after the common start");
            }
            recording.startClockAt(startEpochMillis);
            recording.watchGenerator(plan.profile().scaled(1.0 / sharding.count()), plan.environment().slo());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the common start", e);
        }
        recording.startRequestLog(shardDirectory.shard(sharding.index()));
        heartbeats = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "doorbuster-shard-heartbeat");
            t.setDaemon(true);
            return t;
        });
        heartbeats.scheduleAtFixedRate(() -> {
            shardDirectory.heartbeat(sharding.index(), recording.second());
            // A load with nobody left to judge it is load for nothing: stop it, as the abort rule would.
            shardDirectory.coordinatorGone(ShardDirectory.COORDINATOR_SILENCE).ifPresent(why -> {
                if (coordinatorGone == null) {
                    coordinatorGone = why;
                    System.err.println("[doorbuster] " + sharding.describe() + ": " + why + "; stopping this shard's load");
                }
            });
        }, 0, 2, TimeUnit.SECONDS);
        watch = RunWatch.start(recording.recorder(), recording.timeline(), () -> null, plan.profile().total(), 0, 0,
                plan.abortGuard());
    }

    @Override
    public String abortReason() {
        if (coordinatorGone != null) {
            return coordinatorGone;
        }
        RunWatch w = watch;
        return w == null ? null : w.abortReason();
    }

    /**
     * The load is over (or stopped early): writes this shard's recording, then its delivery note, into its folder of
     * the shared directory. The one check here says whether the delivery worked.
     */
    @Override
    public Outcome end(String endedEarly, boolean quick) {
        if (watch != null) {
            watch.close();
        }
        if (heartbeats != null) {
            heartbeats.shutdownNow();
        }
        String aborted = abortReason();
        String incomplete = aborted != null ? aborted : endedEarly;
        LatencyRecorder.Counts counts = recording.counts();
        Path own = shardDirectory.shard(sharding.index());
        long writes = recording.consistencyLog().ledger().size();
        long users = recording.usersStarted();
        ShardReport.Shard shard = new ShardReport.Shard(sharding.index(), counts.total(), counts.ko(), users, writes,
                incomplete);
        String name = "shard " + sharding.index() + " delivered";
        CheckResult delivery;
        try {
            recording.closeRequestLog();
            ShardData.write(own, recording.recorder(), recording.consistencyLog());
            GeneratorHealth generator = recording.generatorHealth(recording.second());
            if (generator != null) {
                ShardData.writeGenerator(own, generator);
            }
            try {
                // Its clients' own view, for reading a shard alone; the coordinator's history.json has every shard's.
                recording.consistencyLog().history().writeElleJson(own.resolve(Run.HISTORY_FILE));
            } catch (IOException e) {
                System.err.println("[doorbuster] " + sharding.describe() + ": no " + Run.HISTORY_FILE + ": " + e.getMessage());
            }
            shardDirectory.done(shard);
            delivery = new CheckResult(name, 1, 1, "recording", true,
                    counts.total() + " requests, " + writes + " writes, " + users + " users, into " + own, true);
        } catch (IOException | RuntimeException e) {
            delivery = new CheckResult(name, 1, 0, "recording", false,
                    "cannot write into " + own + ": " + e.getMessage(), true);
        }
        System.out.println();
        System.out.println("[doorbuster] " + sharding.describe() + " (run " + shardDirectory.run() + "): "
                + delivery.line() + (incomplete == null ? "" : "; ended early: " + incomplete)
                + ". The coordinator judges the run.");
        System.out.println();
        return new Outcome(List.of(delivery), null);
    }

    @Override
    public void close(Outcome outcome) {
        try {
            if (watch != null) {
                watch.close();
            }
        } finally {
            if (heartbeats != null) {
                heartbeats.shutdownNow();
            }
        }
    }

    /** Nothing to heal or stop: the heartbeat's thread is a daemon, and the coordinator's silence ends nothing here. */
    @Override
    public void emergencyStop(Outcome outcome) {
    }
}
