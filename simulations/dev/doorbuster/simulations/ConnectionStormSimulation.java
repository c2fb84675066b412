package dev.doorbuster.simulations;

import java.time.Duration;

import dev.doorbuster.chaos.FaultSchedule;
import dev.doorbuster.chaos.ScaleOut;
import dev.doorbuster.load.DoorbusterSimulation;
import dev.doorbuster.load.LoadProfile;
import dev.doorbuster.load.Parameters;
import dev.doorbuster.verdict.JudgingMode;

/**
 * Black Friday on an autoscaled fleet: the spike makes the autoscaler start more instances of the service, and each
 * opens its own pools at once. Ten instances with pools of 50 are 500 connections against a {@code max_connections}
 * of 200: the instances started last are refused ("sorry, too many clients already") and keep retrying, unless a
 * pooler in front of PostgreSQL multiplexes them.
 *
 * <p><b>Load</b> (open model), Black Friday's shape: a quiet evening at 2 shoppers/s, a spike to 30/s, the peak, the
 * decay; each shopper browses (70%), fills a cart (20%) or checks out (10%).
 *
 * <p><b>Fleet</b>: the environment's {@code app.instances} storefronts (2 when it says 1), each with the environment's
 * pools; halfway up the spike, {@code -Dstorm.addInstances=2} more start ({@code ScaleOut}; 0: none), each opening
 * its pools while the crowd arrives. No other fault.
 *
 * <p><b>Passes when</b> no connection attempt of any instance's pools was refused ({@code connection refusals}) and
 * Black Friday's checks hold: sessions, no write lost, no unit oversold, no pool exhausted, P99 and the error rate
 * within budget.
 *
 * <p><b>The storm and its fix</b>: {@code -Dapp.writerPoolSize=60 -Dapp.readerPoolSize=60
 * -Dpostgres.settings.max_connections=200} makes the four instances want 240 connections per node (FAIL,
 * {@code connection refusals}); add {@code -Dpostgres.pooler=pgbouncer} and the same fleet shares PgBouncer's 20
 * server connections per node (PASS).
 *
 * <p><b>Parameters</b>: {@code -Dload.scale=1}, {@code -Dload.minutes=1}, {@code -Dstorm.addInstances=2},
 * {@code -Ddoorbuster.env=local} (a fleet runs on local environments only).
 */
public class ConnectionStormSimulation extends DoorbusterSimulation {
    static final double SCALE = Parameters.positive("load.scale", 1);
    static final Duration LENGTH = loadLength(1);
    static final int ADDED_INSTANCES = Parameters.wholeNumber("storm.addInstances", 2);

    final LoadProfile load = new LoadProfile()
            .hold("baseline", 2 * SCALE, share(LENGTH, 0.2))
            .rampTo("spike", 30 * SCALE, share(LENGTH, 0.3))
            .hold("peak", share(LENGTH, 0.3))
            .rampTo("decay", 2 * SCALE, share(LENGTH, 0.2));

    final FaultSchedule faults = faults();

    /**
     * The scale-out halfway up the spike; its window lasts until the load ends, as the added instances do (they fill
     * their pools in the background once they serve, so their refusals can come long after they started).
     */
    private FaultSchedule faults() {
        FaultSchedule schedule = new FaultSchedule();
        if (ADDED_INSTANCES > 0) {
            schedule.at(load.start("spike").plus(load.duration("spike").dividedBy(2)),
                    ScaleOut.instances(ADDED_INSTANCES), null);
        }
        return schedule;
    }

    {
        plan("Black Friday shoppers on a scaling fleet", load, faults, JudgingMode.STANDARD, new TrafficMix(70, 20, 10));
    }
}
