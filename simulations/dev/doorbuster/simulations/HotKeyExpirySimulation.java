package dev.doorbuster.simulations;

import java.time.Duration;

import dev.doorbuster.chaos.DbLatency;
import dev.doorbuster.chaos.FaultSchedule;
import dev.doorbuster.chaos.HotKeyExpiry;
import dev.doorbuster.chaos.LinkTarget;
import dev.doorbuster.load.DoorbusterSimulation;
import dev.doorbuster.load.Doorbusters;
import dev.doorbuster.load.LoadProfile;
import dev.doorbuster.load.Parameters;
import dev.doorbuster.verdict.JudgingMode;

/**
 * Two doorbusters, thirty shoppers a second reloading their pages, and the pages expire from the cache at peak.
 *
 * <p><b>Topology</b>: the storefront with its cache tier on ({@code app.cache}; locally Debian's {@code redis-server}).
 *
 * <p><b>Load</b> (open model): 5 shoppers/s warming up, then 30/s; each reloads one of the 2 doorbusters' product
 * pages 5 times ({@code -Ddoorbusters.count=2}).
 *
 * <p><b>Faults</b>: the database answers slowly around the expiry ({@code DbLatency} of 400 ms on every database link, from
 * a second before to two after: at peak a page query is not instant); at the middle of the peak both doorbusters'
 * cached pages expire at once ({@code HotKeyExpiry}). Every request for them in the next moment misses.
 *
 * <p><b>Passes when</b> the expiry costs about one database read per key ({@code slo.originFetchesPerExpiry},
 * default 2): the storefront's stampede protection ({@code -Dapp.cacheStampede=single-flight}) lets one request
 * rebuild each key while the others wait for it. Without it ({@code none}, the default) each waiting request reads
 * the database: the herd.
 *
 * <p><b>Parameters</b>: {@code -Dload.scale=1}, {@code -Dload.minutes=0.75}, {@code -Dfaults=true},
 * {@code -Dexpiry.dbLatencyMs=400}.
 */
public class HotKeyExpirySimulation extends DoorbusterSimulation {
    static final double SCALE = Parameters.positive("load.scale", 1);
    static final Duration LENGTH = loadLength(0.75);
    static final boolean FAULTS = Parameters.flag("faults", true);
    static final long DB_LATENCY_MS = Parameters.wholeNumber("expiry.dbLatencyMs", 400);
    static final Doorbusters HOT = Doorbusters.fromParameters(2, 10, 1.0);

    final LoadProfile load = new LoadProfile()
            .hold("warm-up", 5 * SCALE, share(LENGTH, 0.3))
            .rampTo("spike", 30 * SCALE, share(LENGTH, 0.1))
            .hold("peak", share(LENGTH, 0.6));

    final FaultSchedule faults = faults();

    private FaultSchedule faults() {
        FaultSchedule schedule = new FaultSchedule();
        if (!FAULTS) {
            return schedule;
        }
        Duration expiry = load.start("peak").plus(load.duration("peak").dividedBy(2));
        schedule.at(expiry.minusSeconds(1), new DbLatency(LinkTarget.ALL, DB_LATENCY_MS, 0), Duration.ofSeconds(3));
        schedule.at(expiry, HotKeyExpiry.ofProducts(HOT.productIds()), Duration.ofSeconds(1));
        return schedule;
    }

    {
        plan("Shoppers watching two doorbusters", load, faults, JudgingMode.STANDARD, new TrafficMix(0, 0, 0, 100, 0), HOT);
    }
}
