package dev.doorbuster.simulations;

import java.time.Duration;

import dev.doorbuster.chaos.CacheBlackhole;
import dev.doorbuster.chaos.CacheFlush;
import dev.doorbuster.chaos.FaultSchedule;
import dev.doorbuster.load.DoorbusterSimulation;
import dev.doorbuster.load.LoadProfile;
import dev.doorbuster.load.Parameters;
import dev.doorbuster.verdict.JudgingMode;

/**
 * Black Friday on three tiers, and the cache goes away at peak.
 *
 * <p><b>Topology</b>: the storefront reads through a Redis cache (cache-aside: product pages, category pages, carts,
 * profiles), the read replica, and the primary for orders. The cache tier is turned on for this simulation
 * ({@code app.cache}); locally it needs Debian's {@code redis-server} ({@code apt-get install redis-server}), or run
 * it on the docker environment.
 *
 * <p><b>Load</b> (open model), as Black Friday: a quiet baseline of 2 shoppers/s, a spike to 30/s, the peak held,
 * the decay. Each shopper browses (70%), fills a cart (20%) or checks out (10%).
 *
 * <p><b>Faults</b>:
 * <ol>
 *   <li>a third into the peak the cache is black-holed (connections stay open, nothing is answered) for a third of the
 *       peak: every read that asks the cache waits for the storefront's cache timeout, then goes to the database;</li>
 *   <li>when it comes back it is cold (restarted: every key gone), so the database takes the herd until it warms.</li>
 * </ol>
 *
 * <p><b>Passes when</b> the shoppers did not suffer: P99 within budget overall and during each fault, no pool
 * exhausted, error rate within budget, every session guarantee and no lost write (as Black Friday), the cache warmed
 * again within {@code slo.timeToWarmSeconds}, and no read served by the cache was staler than the budget. The report's
 * cache section says what the outage did to the database: its reads per second during the outage over the minute
 * before (the amplification).
 *
 * <p><b>Parameters</b>: {@code -Dload.scale=1}, {@code -Dload.minutes=1.5}, {@code -Dfaults=true},
 * {@code -Ddoorbuster.env=local}; the cache's behaviour is the storefront's ({@code -Dapp.cacheTimeoutMs=50},
 * {@code -Dapp.cacheOnError=fallback}, {@code -Dapp.cacheTtlMs=30000}...).
 */
public class CacheOutageSimulation extends DoorbusterSimulation {
    static final double SCALE = Parameters.positive("load.scale", 1);
    static final Duration LENGTH = loadLength(1.5);
    static final boolean FAULTS = Parameters.flag("faults", true);
    /** A cold restart is instant; this window only marks it on the timeline. */
    static final Duration RESTART_MARK = Duration.ofSeconds(1);

    final LoadProfile load = new LoadProfile()
            .hold("baseline", 2 * SCALE, share(LENGTH, 0.2))
            .rampTo("spike", 30 * SCALE, share(LENGTH, 0.2))
            .hold("peak", share(LENGTH, 0.4))
            .rampTo("decay", 2 * SCALE, share(LENGTH, 0.2));

    final FaultSchedule faults = faults();

    private FaultSchedule faults() {
        FaultSchedule schedule = new FaultSchedule();
        if (!FAULTS) {
            return schedule;
        }
        Duration outageStart = load.start("peak").plus(load.duration("peak").dividedBy(3));
        Duration outage = load.duration("peak").dividedBy(3);
        schedule.at(outageStart, new CacheBlackhole(), outage);
        schedule.at(outageStart.plus(outage), new CacheFlush(), RESTART_MARK);
        return schedule;
    }

    @Override
    protected boolean needsCacheTier() {
        return true;
    }

    {
        plan("Black Friday shoppers on three tiers", load, faults, JudgingMode.STANDARD, new TrafficMix(70, 20, 10));
    }
}
