package dev.doorbuster.simulations;

import java.time.Duration;

import dev.doorbuster.chaos.FaultSchedule;
import dev.doorbuster.chaos.PrimaryFailover;
import dev.doorbuster.chaos.ReplicationLag;
import dev.doorbuster.load.DoorbusterSimulation;
import dev.doorbuster.load.LoadProfile;
import dev.doorbuster.load.Parameters;
import dev.doorbuster.verdict.JudgingMode;

/**
 * Black Friday, midnight: the doors open.
 *
 * <p><b>Load</b> (open model: shoppers keep arriving whatever the response times):
 * <ol>
 *   <li>baseline: a quiet evening, 2 shoppers arriving per second;</li>
 *   <li>spike: within a minute, 15 times as many (30/s): the doorbuster deals are live;</li>
 *   <li>peak: the crowd holds;</li>
 *   <li>decay: back to the baseline.</li>
 * </ol>
 * Each shopper browses (70%), fills a cart (20%) or checks out (10%); every write is read back at once,
 * and again after a few seconds of browsing. Half the carts and checkouts go for three doorbuster deals
 * with 10 units each ({@code -Ddoorbusters.count/stock/share}): they sell out under the spike, and later
 * checkouts are answered {@code out_of_stock}, an expected answer.
 *
 * <p><b>Faults</b>: replication lag (200 ms ± 50) from the start of the spike to the middle of the peak;
 * a third into the peak the primary dies, the replica is promoted and the old primary rejoins as a replica.
 *
 * <p><b>Passes when</b> no shopper misses their own write (right after writing or later) or sees their data
 * go back in time, no acknowledged write is lost, no unit is oversold (stock invariant), no pool is
 * exhausted, P99 stays within budget (overall, per request, per phase, during each fault), the failover's
 * client-observed RTO is within budget and the error rate is within budget. Budgets: the environment
 * file ({@code environments/local.json}), overridable with {@code -Dslo.<name>=...}.
 *
 * <p><b>Parameters</b>: {@code -Dload.scale=1} (arrival rates ×), {@code -Dload.minutes=1.5} (length of
 * the load), {@code -Dfaults=true} (false: no fault at all), {@code -Dfailover=true} (false: the lag without the
 * failover), {@code -Ddoorbuster.env=local}.
 */
public class BlackFridaySimulation extends DoorbusterSimulation {
    static final double SCALE = Parameters.positive("load.scale", 1);
    static final Duration LENGTH = loadLength(1.5);
    static final boolean FAULTS = Parameters.flag("faults", true);
    /** The failover of the plan; the lag stays without it ({@code -Dfailover=false}). */
    static final boolean FAILOVER = Parameters.flag("failover", true);

    final LoadProfile load = new LoadProfile()
            .hold("baseline", 2 * SCALE, share(LENGTH, 0.2))
            .rampTo("spike", 30 * SCALE, min(share(LENGTH, 0.2), Duration.ofSeconds(55)))
            .hold("peak", share(LENGTH, 0.4))
            .rampTo("decay", 2 * SCALE, share(LENGTH, 0.2));

    final FaultSchedule faults = faults();

    private FaultSchedule faults() {
        FaultSchedule schedule = new FaultSchedule();
        if (!FAULTS) {
            return schedule;
        }
        schedule.at(load.start("spike"), ReplicationLag.lagMs(200).jitterMs(50),
                load.duration("spike").plus(load.duration("peak").dividedBy(2)));
        if (FAILOVER) {
            schedule.at(load.start("peak").plus(load.duration("peak").dividedBy(3)), new PrimaryFailover(true),
                    load.duration("peak").dividedBy(3));
        }
        return schedule;
    }

    {
        plan("Black Friday shoppers", load, faults, JudgingMode.STANDARD, new TrafficMix(70, 20, 10));
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
