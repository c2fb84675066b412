package dev.doorbuster.chaos;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
    private final List<String> affected = new ArrayList<>();
    private final AtomicLong maxLagBytes = new AtomicLong();
    private final AtomicLong maxLagMillis = new AtomicLong();
    private ScheduledExecutorService sampler;

    /**
     * @param bandwidthKBps 0 for no throttling, else the WAL stream's cap in KB/s (1 KB = 1000 bytes)
     */
    public ReplicationLag(long latencyMs, long jitterMs, long bandwidthKBps) {
        if (latencyMs < 0 || jitterMs < 0 || bandwidthKBps < 0) {
            throw new IllegalArgumentException("ReplicationLag needs latency, jitter and bandwidth ≥ 0, got " + latencyMs
                    + " ms, " + jitterMs + " ms, " + bandwidthKBps + " KB/s");
        }
        this.latencyMs = latencyMs;
        this.jitterMs = jitterMs;
        this.bandwidthKBps = bandwidthKBps;
    }

    @Override
    public String name() {
        return "ReplicationLag";
    }

    @Override
    public String describe() {
        return "replication delayed by " + latencyMs + " ms" + (jitterMs > 0 ? " ± " + jitterMs : "")
                + (bandwidthKBps > 0 ? ", capped at " + bandwidthKBps + " KB/s" : "");
    }

    @Override
    public void inject(ChaosContext context) throws Exception {
        affected.addAll(context.topology().links().replication());
        if (affected.isEmpty()) {
            throw new FaultRefusedException("ReplicationLag: environment '" + context.topology().environment().name()
                    + "' names no replication link proxy (proxy.proxies.replication) to delay.");
        }
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
                    Map.of("maxLagBytes", (double) maxLagBytes.get(), "maxLagMs", (double) maxLagMillis.get()));
        }
        Toxics.removeEverywhere(context, affected, LATENCY);
        if (bandwidthKBps > 0) {
            Toxics.removeEverywhere(context, affected, BANDWIDTH);
        }
        affected.clear();
    }
}
