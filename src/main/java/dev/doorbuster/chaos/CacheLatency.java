package dev.doorbuster.chaos;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import dev.doorbuster.topology.CacheTier;
import eu.rekawek.toxiproxy.model.ToxicDirection;

/**
 * A slow cache: every answer on the cache link's proxy ({@link CacheTier#proxyName()}) is delayed (a saturated or
 * distant Redis).
 */
public final class CacheLatency implements Fault {
    static final String TOXIC = "doorbuster-cache-latency";
    private final long latencyMs;
    private final long jitterMs;

    private CacheLatency(long latencyMs, long jitterMs) {
        if (latencyMs < 0 || jitterMs < 0) {
            throw new IllegalArgumentException("CacheLatency needs latency and jitter ≥ 0 ms, got " + latencyMs
                    + " and " + jitterMs);
        }
        this.latencyMs = latencyMs;
        this.jitterMs = jitterMs;
    }

    /** Each cache answer {@code latencyMs} late. */
    public static CacheLatency ofMs(long latencyMs) {
        return new CacheLatency(latencyMs, 0);
    }

    /** The same, each delay varying by up to {@code jitterMs} either way. */
    public CacheLatency jitterMs(long jitterMs) {
        return new CacheLatency(latencyMs, jitterMs);
    }

    @Override
    public FaultKind kind() {
        return FaultKind.CACHE_LATENCY;
    }

    @Override
    public Set<Need> needs() {
        return EnumSet.of(Need.PROXY, Need.CACHE);
    }

    @Override
    public String describe() {
        return "cache answers delayed by " + latencyMs + " ms" + (jitterMs > 0 ? " ± " + jitterMs : "");
    }

    @Override
    public void inject(ChaosContext context) throws Exception {
        context.proxy(context.cacheProxyName(this)).toxics().latency(TOXIC, ToxicDirection.DOWNSTREAM, latencyMs)
                .setJitter(jitterMs);
    }

    @Override
    public void heal(ChaosContext context) throws Exception {
        Toxics.removeEverywhere(context, List.of(context.cacheProxyName(this)), TOXIC);
    }
}
