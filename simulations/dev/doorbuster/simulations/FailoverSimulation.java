package dev.doorbuster.simulations;

import java.time.Duration;

import dev.doorbuster.chaos.FaultSchedule;
import dev.doorbuster.chaos.PrimaryFailover;
import dev.doorbuster.load.DoorbusterSimulation;
import dev.doorbuster.load.LoadProfile;
import dev.doorbuster.load.Parameters;
import dev.doorbuster.verdict.JudgingMode;

/**
 * The primary dies under steady checkout traffic.
 *
 * <p><b>Load</b>: 8 shoppers/s, checkout-heavy (40% check out, 30% fill a cart, 30% browse), so many
 * orders are in flight when the primary dies.
 * <p><b>Fault</b>: at a third of the run the primary's link is cut and the server killed (SIGKILL); the
 * replica is promoted; optionally ({@code -Dfailover.rejoin=true}) the old primary rejoins as a replica.
 * <p><b>Passes when</b> the client-observed RTO (fault start → first acknowledged write) is within
 * {@code slo.failoverRtoMs}, no acknowledged write (order, cart line, profile update) is missing on the new
 * primary, looked up by the key its client chose (unanswered writes are "in doubt" and reported apart), and
 * the session and common checks hold. With asynchronous replication ({@code -Dpostgres.synchronousCommit=off})
 * acknowledged writes can be lost: that is what this finds ({@link LostWritesSimulation} makes it certain).
 * <p><b>Behind a pooler</b> ({@code -Dpostgres.pooler=pgbouncer}) the failover is unmanaged by default: the primary
 * dies under its clients and the pooler is pointed at the promoted node. {@code -Dfailover.managed=true} runs it as a
 * runbook's switchover instead: the writers paused at the pooler, the primary killed and the replica promoted, the
 * pooler repointed, the writers resumed. Run both to compare their RTO and errors.
 * <p><b>Parameters</b>: {@code -Dload.scale=1}, {@code -Dload.minutes=1}, {@code -Dfailover.rejoin=true},
 * {@code -Dfailover.managed=false}.
 */
public class FailoverSimulation extends DoorbusterSimulation {
    static final double SCALE = Parameters.positive("load.scale", 1);
    static final Duration LENGTH = loadLength(1);
    static final boolean REJOIN = Parameters.flag("failover.rejoin", true);
    /** The runbook's switchover at the pooler instead of a crash; needs {@code postgres.pooler}. */
    static final boolean MANAGED = Parameters.flag("failover.managed", false);

    final LoadProfile load = new LoadProfile().hold("steady", 8 * SCALE, LENGTH);
    final FaultSchedule faults = new FaultSchedule()
            .at(LENGTH.dividedBy(3), MANAGED ? PrimaryFailover.managed(REJOIN) : new PrimaryFailover(REJOIN),
                    LENGTH.dividedBy(3));

    {
        plan("Shoppers during a failover", load, faults, JudgingMode.STANDARD, new TrafficMix(30, 30, 40));
    }
}
