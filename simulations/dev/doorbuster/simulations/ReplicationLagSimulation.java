package dev.doorbuster.simulations;

import java.time.Duration;

import dev.doorbuster.chaos.FaultSchedule;
import dev.doorbuster.chaos.ReplicationLag;
import dev.doorbuster.load.DoorbusterSimulation;
import dev.doorbuster.load.LoadProfile;
import dev.doorbuster.load.Parameters;
import dev.doorbuster.verdict.JudgingMode;

/**
 * Do shoppers see what they just wrote while the replicas lag?
 *
 * <p><b>Load</b>: 10 shoppers/s who mostly write, read back at once, browse a few seconds and come back
 * to what they wrote: profile updates, carts and orders (20% browse, 40% fill a cart, 40% check out).
 * <p><b>Fault</b>: the replication link is delayed ({@code -Dlag.ms=300} ± {@code -Dlag.jitterMs=50})
 * from 10% to 90% of the run, so replicas serve reads that are hundreds of milliseconds old. With
 * {@code -Dlag.onReplica=N} only replica N lags (use {@code -Dpostgres.replicas=2}): reads spread over a
 * fresh and a stale replica then go back in time.
 * <p><b>Passes when</b> no read misses the shopper's own write, right after it or later, and no read shows
 * older data than the shopper already saw (each its own check), plus the common checks. An application
 * that reads from replicas naively ({@code -Dapp.routing=replica}) fails here; one that waits for its writes'
 * position ({@code read-your-writes}) or reads from the primary passes; one that reads from the primary for a
 * while after a write ({@code sticky}, 2 s) passes only while the lag stays below that while: with
 * {@code -Dlag.ms=3000} its shoppers' later reads fail.
 * <p>Note: with {@code synchronous_commit=on} (the local default) a commit returns only once the replica has
 * flushed it and replay follows within milliseconds, so naive replica reads miss rarely (about 3% here); run
 * with {@code -Dpostgres.synchronousCommit=off} to see the anomaly at full strength, as the tests' controls do.
 * <p><b>Parameters</b>: {@code -Dload.scale=1}, {@code -Dload.minutes=1}, {@code -Dlag.ms}, {@code -Dlag.jitterMs},
 * {@code -Dlag.onReplica}.
 */
public class ReplicationLagSimulation extends DoorbusterSimulation {
    static final double SCALE = Parameters.positive("load.scale", 1);
    static final Duration LENGTH = loadLength(1);
    static final long LAG_MS = (long) Parameters.positive("lag.ms", 300);
    static final long JITTER_MS = Parameters.wholeNumber("lag.jitterMs", 50);
    static final int ON_REPLICA = Parameters.wholeNumber("lag.onReplica", 0);

    final LoadProfile load = new LoadProfile().hold("steady", 10 * SCALE, LENGTH);
    final ReplicationLag lag = ON_REPLICA > 0 ? ReplicationLag.lagMs(LAG_MS).jitterMs(JITTER_MS).onReplica(ON_REPLICA)
            : ReplicationLag.lagMs(LAG_MS).jitterMs(JITTER_MS);
    final FaultSchedule faults = new FaultSchedule().at(share(LENGTH, 0.1), lag, share(LENGTH, 0.8));

    {
        plan("Shoppers reading their own writes", load, faults, JudgingMode.STANDARD, new TrafficMix(20, 40, 40));
    }
}
