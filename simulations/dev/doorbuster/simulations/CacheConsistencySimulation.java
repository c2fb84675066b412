package dev.doorbuster.simulations;

import java.time.Duration;

import dev.doorbuster.chaos.FaultSchedule;
import dev.doorbuster.chaos.ReplicationLag;
import dev.doorbuster.load.DoorbusterSimulation;
import dev.doorbuster.load.LoadProfile;
import dev.doorbuster.load.Parameters;
import dev.doorbuster.verdict.JudgingMode;

/**
 * Does the cache show shoppers what they just wrote, while the replicas lag?
 *
 * <p><b>Topology</b>: the storefront with its cache tier on ({@code app.cache}; locally Debian's {@code redis-server}):
 * profiles are cached (cache-aside), a write deletes its key after the commit ({@code -Dapp.cacheInvalidation}), a
 * miss refills it from the primary or through the read routing ({@code -Dapp.cacheRefill=primary|reader}).
 *
 * <p><b>Load</b>: 5 shoppers/s, each looks at their profile (the cache fills it), changes it, reads it back at once,
 * then comes back to it every 3 s for {@code -Drevisit.seconds} (36).
 *
 * <p><b>Fault</b>: the replication link is delayed by {@code -Dlag.ms} (1000) for the whole run.
 *
 * <p><b>Passes when</b> every read shows the shopper's own write, at once and later, and no read served by the cache
 * was older than a newer acknowledged write by more than the replication lag and a grace ({@code cache staleness}).
 * A cache whose writes never delete their key ({@code -Dapp.cacheInvalidation=none}) serves the old profile until its
 * TTL; one refilled from a lagging replica ({@code -Dapp.cacheRefill=reader} with {@code -Dapp.routing=replica})
 * caches the old profile right after the delete, for the whole TTL, not for the lag.
 *
 * <p><b>Parameters</b>: {@code -Dload.scale=1}, {@code -Dload.minutes=0.5}, {@code -Dlag.ms=1000},
 * {@code -Drevisit.seconds=36}; the cache's behaviour is the storefront's ({@code -Dapp.cacheTtlMs=30000}...).
 */
public class CacheConsistencySimulation extends DoorbusterSimulation {
    static final double SCALE = Parameters.positive("load.scale", 1);
    static final Duration LENGTH = loadLength(0.5);
    static final long LAG_MS = (long) Parameters.positive("lag.ms", 1000);

    final LoadProfile load = new LoadProfile().hold("steady", 5 * SCALE, LENGTH);
    // From the first second: a refill from the replica is old from the start.
    final FaultSchedule faults = new FaultSchedule().at(Duration.ZERO, ReplicationLag.lagMs(LAG_MS), null);

    @Override
    protected boolean needsCacheTier() {
        return true;
    }

    {
        plan("Shoppers coming back to their own profile", load, faults, JudgingMode.STANDARD,
                new TrafficMix(0, 0, 0, 0, 100));
    }
}
