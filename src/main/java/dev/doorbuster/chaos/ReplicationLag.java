package dev.doorbuster.chaos;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import dev.doorbuster.postgres.Lag;
import eu.rekawek.toxiproxy.model.ToxicDirection;

/**
 * Replication lag: the WAL stream to every replica is delayed (and optionally throttled) on its
 * replication link. Reads on replicas then miss recent writes: the read-after-write anomaly. While it
 * is active the lag actually reached is sampled (primary's WAL position against the replica's replay
 * position), and the maximum goes to the timeline.
 */
public final class ReplicationLag implements Fault {
    static final String LATENCY = "doorbuster-replication-latency";
    static final String BANDWIDTH = "doorbuster-replication-bandwidth";
    private final long latencyMs;
    private final long jitterMs;
    private final long bandwidthKBps;
    /** 1-based number of the only replica whose link is delayed, or 0 for every replica. */
    private final int onlyReplica;
    private final List<String> affected = new ArrayList<>();
    private final AtomicLong maxLagBytes = new AtomicLong();
    private final AtomicLong maxLagMillis = new AtomicLong();
    private ScheduledExecutorService sampler;

    /**
     * @param bandwidthKBps 0 for no throttling, else the WAL stream's cap in KB/s (1 KB = 1000 bytes)
     */
    public ReplicationLag(long latencyMs, long jitterMs, long bandwidthKBps) {
        this(latencyMs, jitterMs, bandwidthKBps, 0);
    }

    private ReplicationLag(long latencyMs, long jitterMs, long bandwidthKBps, int onlyReplica) {
        if (latencyMs < 0 || jitterMs < 0 || bandwidthKBps < 0 || onlyReplica < 0) {
            throw new IllegalArgumentException("ReplicationLag needs latency, jitter, bandwidth and replica number ≥ 0, "
                    + "got " + latencyMs + " ms, " + jitterMs + " ms, " + bandwidthKBps + " KB/s, replica " + onlyReplica);
        }
        this.latencyMs = latencyMs;
        this.jitterMs = jitterMs;
        this.bandwidthKBps = bandwidthKBps;
        this.onlyReplica = onlyReplica;
    }

    /** Every replica's WAL stream delayed by {@code ms}: {@code ReplicationLag.lagMs(200).jitterMs(50)}. */
    public static ReplicationLag lagMs(long ms) {
        return new ReplicationLag(ms, 0, 0, 0);
    }

    /** The same lag, varying by up to ± {@code ms}. */
    public ReplicationLag jitterMs(long ms) {
        return new ReplicationLag(latencyMs, ms, bandwidthKBps, onlyReplica);
    }

    /** The same lag, with the WAL stream also capped at {@code kBps} KB/s. */
    public ReplicationLag bandwidthKBps(long kBps) {
        return new ReplicationLag(latencyMs, jitterMs, kBps, onlyReplica);
    }

    /**
     * The same lag on one replica only (1 = the first, in the cluster's order), the others streaming
     * normally: replicas that lag differently behind one read pool are where non-monotonic reads come from.
     */
    public ReplicationLag onReplica(int number) {
        if (number < 1) {
            throw new IllegalArgumentException("replicas are numbered from 1, got " + number);
        }
        return new ReplicationLag(latencyMs, jitterMs, bandwidthKBps, number);
    }

    @Override
    public FaultKind kind() {
        return FaultKind.REPLICATION_LAG;
    }

    @Override
    public Set<Need> needs() {
        return EnumSet.of(Need.PROXY, Need.REPLICATION_LINK);
    }

    @Override
    public String describe() {
        return (onlyReplica > 0 ? "replica " + onlyReplica + "'s " : "") + "replication delayed by " + latencyMs + " ms"
                + (jitterMs > 0 ? " ± " + jitterMs : "")
                + (bandwidthKBps > 0 ? ", capped at " + bandwidthKBps + " KB/s" : "");
    }

    @Override
    public void inject(ChaosContext context) throws Exception {
        List<String> links = context.topology().links().replication();
        if (links.isEmpty()) {
            throw new FaultRefusedException("ReplicationLag: environment '" + context.topology().environment().name()
                    + "' names no replication link proxy (proxy.proxies.replication) to delay.");
        }
        if (onlyReplica > links.size()) {
            throw new FaultRefusedException("ReplicationLag on replica " + onlyReplica + ": environment '"
                    + context.topology().environment().name() + "' has " + links.size() + " replication link(s); "
                    + "set postgres.replicas to at least " + onlyReplica + ".");
        }
        affected.addAll(onlyReplica > 0 ? List.of(links.get(onlyReplica - 1)) : links);
        for (String proxy : affected) {
            // The replica is the proxy's client, so WAL from the primary flows downstream.
            context.proxy(proxy).toxics().latency(LATENCY, ToxicDirection.DOWNSTREAM, latencyMs).setJitter(jitterMs);
            if (bandwidthKBps > 0) {
                context.proxy(proxy).toxics().bandwidth(BANDWIDTH, ToxicDirection.DOWNSTREAM, bandwidthKBps);
            }
        }
        maxLagBytes.set(0);
        maxLagMillis.set(0);
        sampler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "replication-lag-sampler");
            t.setDaemon(true);
            return t;
        });
        sampler.scheduleWithFixedDelay(() -> context.topology().replicationLag().ifPresent(this::observe), 0, 250,
                TimeUnit.MILLISECONDS);
    }

    private void observe(Lag lag) {
        maxLagBytes.accumulateAndGet(lag.bytes(), Math::max);
        maxLagMillis.accumulateAndGet(lag.time().toMillis(), Math::max);
    }

    @Override
    public void heal(ChaosContext context) throws Exception {
        if (sampler != null) {
            sampler.shutdownNow();
            sampler.awaitTermination(2, TimeUnit.SECONDS);
            sampler = null;
            context.effect("lag reached " + maxLagBytes.get() + " bytes / " + maxLagMillis.get() + " ms",
                    new FaultEffect.LagReached(maxLagBytes.get(), java.time.Duration.ofMillis(maxLagMillis.get())));
        }
        Toxics.removeEverywhere(context, affected, LATENCY);
        if (bandwidthKBps > 0) {
            Toxics.removeEverywhere(context, affected, BANDWIDTH);
        }
        affected.clear();
    }
}
