package dev.doorbuster.simulations;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import dev.doorbuster.chaos.ConnectionReset;
import dev.doorbuster.chaos.DbLatency;
import dev.doorbuster.chaos.Fault;
import dev.doorbuster.chaos.FaultSchedule;
import dev.doorbuster.chaos.LinkTarget;
import dev.doorbuster.chaos.ReplicationLag;
import dev.doorbuster.load.DoorbusterSimulation;
import dev.doorbuster.load.LoadProfile;
import dev.doorbuster.load.Parameters;
import dev.doorbuster.verdict.JudgingMode;

/**
 * The long haul: a steady stream of shoppers for hours, with trouble coming back on a period.
 *
 * <p><b>Load</b>: {@code -Dsoak.rate=5} shoppers/s (× {@code load.scale}) for {@code -Dsoak.duration=2h}
 * (the nightly run; tests use a minute), the usual mix (70% browse, 20% cart, 10% checkout).
 * <p><b>Faults</b>: every {@code -Dsoak.faultPeriod} (default a tenth of the run), in turn: replication
 * lag, slow database, connection resets, each for a fifth of the period.
 * <p><b>Passes when</b> the common checks hold, and nothing drifts: P99 of the last fifth of the run is
 * at most {@code slo.soakP99DriftRatio} times that of the first fifth, and mean active connections grew
 * by at most {@code slo.soakPoolActiveGrowth} (a steady climb is a connection leak).
 */
public class SoakSimulation extends DoorbusterSimulation {
    static final double RATE = Parameters.positive("soak.rate", 5) * Parameters.positive("load.scale", 1);
    static final Duration LENGTH = Parameters.duration("soak.duration", Duration.ofHours(2));
    static final Duration PERIOD = Parameters.duration("soak.faultPeriod", LENGTH.dividedBy(10));
    static final boolean FAULTS = Parameters.flag("faults", true);

    final LoadProfile load = new LoadProfile().hold("soak", RATE, LENGTH);

    final FaultSchedule faults = FAULTS ? new FaultSchedule()
            .every(PERIOD, PERIOD.dividedBy(2), LENGTH, new Rotation()::next, PERIOD.dividedBy(5))
            : new FaultSchedule();

    {
        plan("Shoppers all night", load, faults, JudgingMode.SOAK, new TrafficMix(70, 20, 10));
    }

    /** Replication lag, slow database, connection resets, and again. */
    private static final class Rotation {
        private final AtomicInteger next = new AtomicInteger();

        Fault next() {
            return switch (next.getAndIncrement() % 3) {
                case 0 -> ReplicationLag.lagMs(200).jitterMs(50);
                case 1 -> new DbLatency(LinkTarget.ALL, 50, 20);
                default -> new ConnectionReset(LinkTarget.REPLICAS);
            };
        }
    }
}
