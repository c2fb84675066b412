package dev.doorbuster.simulations;

import java.time.Duration;

import dev.doorbuster.chaos.FaultSchedule;
import dev.doorbuster.chaos.PrimaryFailover;
import dev.doorbuster.chaos.ReplicationCut;
import dev.doorbuster.load.DoorbusterSimulation;
import dev.doorbuster.load.LoadProfile;
import dev.doorbuster.load.Parameters;
import dev.doorbuster.verdict.JudgingMode;

/**
 * The replica is cut off, then the primary dies: what did the shoppers lose?
 *
 * <p><b>Load</b>: 8 shoppers/s, checkout-heavy (40% check out, 30% fill a cart, 30% browse): orders, cart
 * lines and profile updates are acknowledged all the time.
 * <p><b>Faults</b>: at 15% of the run the replication link is cut (until 85%); at half the run the primary is
 * killed and the cut-off replica promoted ({@code -Dfailover.rejoin=false} by default: the old primary stays
 * fenced).
 * <p><b>Passes when</b> no acknowledged write is lost, plus the session and common checks. With
 * asynchronous replication ({@code -Dpostgres.synchronousCommit=off}) every write acknowledged between the
 * cut and the kill exists only on the dead primary: the run fails on {@code lost acknowledged writes}, naming
 * them, and a shopper's later read that misses such a write is counted as lost, not stale. With synchronous
 * replication ({@code on}) commits wait while the link is cut (shoppers get errors, their writes are in
 * doubt) and nothing acknowledged is lost.
 * <p><b>Parameters</b>: {@code -Dload.scale=1}, {@code -Dload.minutes=1}, {@code -Dfailover.rejoin=false}.
 */
public class LostWritesSimulation extends DoorbusterSimulation {
    static final double SCALE = Parameters.positive("load.scale", 1);
    static final Duration LENGTH = loadLength(1);
    static final boolean REJOIN = Parameters.flag("failover.rejoin", false);

    final LoadProfile load = new LoadProfile().hold("steady", 8 * SCALE, LENGTH);
    final Duration cutAt = share(LENGTH, 0.15);
    final Duration failoverAt = share(LENGTH, 0.5);
    final FaultSchedule faults = new FaultSchedule()
            .at(cutAt, new ReplicationCut(), share(LENGTH, 0.7))
            .at(failoverAt, new PrimaryFailover(REJOIN), share(LENGTH, 0.3));

    {
        plan("Shoppers losing a primary cut off from its replica", load, faults, JudgingMode.STANDARD,
                new TrafficMix(30, 30, 40));
    }
}
