package dev.doorbuster.chaos;

import java.time.Duration;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

import dev.doorbuster.topology.ClusterControl;
import dev.doorbuster.topology.PoolerTier;

/**
 * The primary dies: its application link is cut, the server is killed (SIGKILL, no clean shutdown),
 * and the first replica is promoted (the old primary is fenced: it never comes back as a primary).
 *
 * <p>Measures the <b>client-observed RTO</b>: from the fault's start to the first write the
 * application acknowledges, probed every 100 ms ({@link WriteProbe#PERIOD}) through the application itself.
 * A probe that cannot measure it ({@link WriteProbe#unmeasurable()}) does not wait: the failover happens all the same,
 * and the timeline says why its RTO was not measured. Optionally the old primary then rejoins as a replica of the new
 * one.
 *
 * <p>Behind a pooler it happens one of two ways ({@code postgres.pooler}). Unmanaged ({@link #PrimaryFailover(boolean)}):
 * the primary dies under its clients and the pooler is pointed at the promoted node; the writers' queries in flight
 * fail, and the pooler waits out its login retry on the dead node. Managed ({@link #managed(boolean)}), as a runbook's
 * switchover: {@code PAUSE} of the writers at the pooler first (it returns once their transactions are done; new ones
 * wait, connected), then the primary is killed and the replica promoted and the pooler repointed, then {@code RESUME}:
 * the writes that waited go to the new primary, none answered with an error for the pause.
 */
public final class PrimaryFailover implements Fault {
    /** How long the probe keeps trying before the failover counts as never recovered. */
    static final Duration GIVE_UP_AFTER = Duration.ofSeconds(60);
    private final boolean rejoin;
    private final boolean managed;
    private String oldPrimary;
    private boolean linkCut;
    private boolean writersPaused;

    /** The unmanaged failover: the primary dies under its clients. */
    public PrimaryFailover(boolean rejoin) {
        this(rejoin, false);
    }

    private PrimaryFailover(boolean rejoin, boolean managed) {
        this.rejoin = rejoin;
        this.managed = managed;
    }

    /** The managed failover behind a pooler: writers paused at the pooler, primary killed and replaced, resumed. */
    public static PrimaryFailover managed(boolean rejoin) {
        return new PrimaryFailover(rejoin, true);
    }

    @Override
    public FaultKind kind() {
        return FaultKind.PRIMARY_FAILOVER;
    }

    @Override
    public Set<Need> needs() {
        return managed ? EnumSet.of(Need.PROXY, Need.CLUSTER_CONTROL, Need.POOLER)
                : EnumSet.of(Need.PROXY, Need.CLUSTER_CONTROL);
    }

    @Override
    public String describe() {
        return (managed ? "managed at the pooler: writers paused, primary killed, replica promoted, writers resumed"
                : "primary killed, replica promoted") + (rejoin ? ", old primary rejoins as a replica" : "");
    }

    @Override
    public void inject(ChaosContext context) throws Exception {
        ClusterControl cluster = context.cluster(this);
        if (cluster.replicas().isEmpty()) {
            throw new FaultRefusedException("PrimaryFailover needs a replica to promote; the cluster has none "
                    + "(postgres.replicas is 0).");
        }
        PoolerTier pooler = managed ? context.pooler(this) : null;
        long start = System.nanoTime();
        if (pooler != null) {
            // Marked before it is asked: a PAUSE whose answer times out may still take hold, and heal must resume it.
            writersPaused = true;
            pooler.pauseWriters(); // returns once the writers' transactions are done: none is running on the primary
        }
        long paused = System.nanoTime();
        oldPrimary = cluster.primary();
        String next = cluster.replicas().get(0);
        context.proxy(oldPrimary).disable();
        linkCut = true;
        long cut = System.nanoTime();
        cluster.kill(oldPrimary);
        long killed = System.nanoTime();
        cluster.promote(next); // behind a pooler, the topology points the writers' alias at it
        long promoted = System.nanoTime();
        if (pooler != null) {
            pooler.resumeWriters();
            writersPaused = false;
        }
        // Where the failover's time went, step by step: a slow one is explained, not only measured.
        context.effect(next + " promoted " + millis(promoted - start) + " ms after the fault started ("
                + (pooler == null ? "" : "writers paused at the pooler in " + millis(paused - start) + " ms, ")
                + "link cut in " + millis(cut - paused) + " ms, " + oldPrimary + " killed in " + millis(killed - cut)
                + " ms, promotion " + millis(promoted - killed) + " ms" + (pooler == null ? ""
                : ", then resumed: held " + millis(System.nanoTime() - paused) + " ms") + "); " + oldPrimary
                + " fenced");

        WriteProbe probe = context.writeProbe();
        Optional<WriteProbe.Unmeasurable> unmeasurable = probe.unmeasurable();
        if (unmeasurable.isPresent()) {
            // Waiting out the give-up time would only report a failure the failover did not cause; the verdict says
            // the RTO is not judged, and why (see Judge).
            context.effect("client-observed RTO not measured: " + unmeasurable.get().reason());
        } else {
            Optional<Duration> rto = probe.awaitFirstSuccess(start, GIVE_UP_AFTER);
            if (rto.isPresent()) {
                context.effect("client-observed RTO " + rto.get().toMillis() + " ms (first acknowledged write)",
                        new FaultEffect.Rto(rto.get(), true));
            } else {
                WriteProbe.Answer last = probe.lastAnswer();
                context.effect("no write acknowledged within " + GIVE_UP_AFTER.toSeconds() + " s of the failover"
                                + (last == null ? "" : " (last: " + last + ")"), new FaultEffect.Rto(GIVE_UP_AFTER, false));
            }
        }
        if (rejoin) {
            cluster.rejoin(oldPrimary);
            context.proxy(oldPrimary).enable();
            linkCut = false;
            context.effect(oldPrimary + " rejoined as a replica of " + next);
        }
    }

    @Override
    public void heal(ChaosContext context) throws Exception {
        if (writersPaused) { // the injection failed at or after PAUSE, before RESUME: never leave the writers held
            context.pooler(this).resumeWritersIfPaused();
            writersPaused = false;
        }
        // A failover is not undone; healing restores the old primary's link (it now leads to a fenced or
        // rejoined node, which a targetServerType=primary client will not pick for writes).
        if (linkCut && oldPrimary != null) {
            context.proxy(oldPrimary).enable();
            linkCut = false;
        }
    }

    private static long millis(long nanos) {
        return nanos / 1_000_000;
    }
}
