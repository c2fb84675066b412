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
 * <p><b>Load</b>: 10 shoppers/s who mostly write and read back at once: profile updates, carts and
 * orders (20% browse, 40% fill a cart, 40% check out).
 * <p><b>Fault</b>: the replication link is delayed ({@code -Dlag.ms=300} ± {@code -Dlag.jitterMs=50})
 * from 10% to 90% of the run, so replicas serve reads that are hundreds of milliseconds old.
 * <p><b>Passes when</b> no read of a shopper's own write misses it (read-after-write violations are
 * counted and fail the run), plus the common checks. An application that reads from replicas naively
 * ({@code -Dapp.routing=replica}) fails here; one that waits for its writes' position
 * ({@code read-your-writes}) or reads from the primary after writing ({@code sticky}) passes.
 * <p>Note: with {@code synchronous_commit=on} (the local default) a commit returns only once the replica has
 * flushed it and replay follows within milliseconds, so naive replica reads miss rarely (about 3% here); run
 * with {@code -Dpostgres.synchronousCommit=off} to see the anomaly at full strength, as the tests' controls do.
 * <p><b>Parameters</b>: {@code -Dload.scale=1}, {@code -Dload.minutes=1}, {@code -Dlag.ms}, {@code -Dlag.jitterMs}.
 */
public class ReplicationLagSimulation extends DoorbusterSimulation {
    static final double SCALE = Parameters.positive("load.scale", 1);
    static final Duration LENGTH = loadLength(1);
    static final long LAG_MS = (long) Parameters.positive("lag.ms", 300);
    static final long JITTER_MS = (long) Parameters.positive("lag.jitterMs", 50);

    final LoadProfile load = new LoadProfile().hold("steady", 10 * SCALE, LENGTH);
    final FaultSchedule faults = new FaultSchedule()
            .at(share(LENGTH, 0.1), new ReplicationLag(LAG_MS, JITTER_MS, 0), share(LENGTH, 0.8));

    {
        plan("Shoppers reading their own writes", load, faults, JudgingMode.STANDARD, new TrafficMix(20, 40, 40));
    }
}
