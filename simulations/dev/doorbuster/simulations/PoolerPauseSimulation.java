package dev.doorbuster.simulations;

import java.time.Duration;

import dev.doorbuster.chaos.FaultSchedule;
import dev.doorbuster.chaos.PoolerPause;
import dev.doorbuster.load.DoorbusterSimulation;
import dev.doorbuster.load.LoadProfile;
import dev.doorbuster.load.Parameters;
import dev.doorbuster.verdict.JudgingMode;

/**
 * A runbook step that holds the writers at the pooler: how long may it take before the shoppers notice?
 *
 * <p><b>Load</b>: 8 shoppers/s, checkout-heavy (40% check out, 30% fill a cart, 30% browse), as in
 * {@link FailoverSimulation}, through PgBouncer ({@code -Dpostgres.pooler=pgbouncer}; without a pooler the run refuses
 * to start, saying so).
 * <p><b>Fault</b>: at a third of the run the writers' alias is paused at the pooler ({@code PAUSE}) for
 * {@code -Dpooler.pauseMs}, then resumed: their queries wait, connected, and no connection breaks.
 * <p><b>Passes when</b> no client waited at the pooler longer than {@code slo.poolerWaitMs} (its {@code SHOW POOLS},
 * every second) and the common checks hold. The default pause, 3 s, is a switchover step that took too long for the
 * default budget of 1 s: it fails; {@code -Dpooler.pauseMs=300} is one that did not.
 * <p><b>Parameters</b>: {@code -Dload.scale=1}, {@code -Dload.minutes=0.5}, {@code -Dpooler.pauseMs=3000}.
 */
public class PoolerPauseSimulation extends DoorbusterSimulation {
    static final double SCALE = Parameters.positive("load.scale", 1);
    static final Duration LENGTH = loadLength(0.5);
    static final Duration PAUSE = Duration.ofMillis((long) Parameters.positive("pooler.pauseMs", 3000));

    final LoadProfile load = new LoadProfile().hold("steady", 8 * SCALE, LENGTH);
    final FaultSchedule faults = new FaultSchedule().at(LENGTH.dividedBy(3), new PoolerPause(), PAUSE);

    {
        plan("Shoppers while the pooler holds the writers", load, faults, JudgingMode.STANDARD,
                new TrafficMix(30, 30, 40));
    }
}
