package dev.doorbuster.simulations;

import java.time.Duration;

import dev.doorbuster.chaos.DbLatency;
import dev.doorbuster.chaos.FaultSchedule;
import dev.doorbuster.chaos.LinkTarget;
import dev.doorbuster.load.DoorbusterSimulation;
import dev.doorbuster.load.LoadProfile;
import dev.doorbuster.load.Parameters;
import dev.doorbuster.verdict.Judge;
import dev.doorbuster.verdict.JudgingMode;

/**
 * More shoppers than the connection pools can serve: does the application degrade gracefully?
 *
 * <p><b>Load</b>: a ramp from 2 to 80 shoppers/s over 60% of the run while every database response is
 * slowed by {@code -Dpool.dbLatencyMs=100} ms (so each query holds its connection longer, as a busy
 * database would), then "recovery": 2 shoppers/s, no added latency.
 * <p><b>Passes when</b> the pools did saturate (else the run proved nothing), no request hung beyond the
 * application's own time bound (it must answer 503 with Retry-After instead of queueing for ever), and
 * errors stop once the load has dropped. Pool exhaustion itself is expected here, not a failure.
 * <p><b>Parameters</b>: {@code -Dload.scale=1}, {@code -Dload.minutes=1}, {@code -Dpool.dbLatencyMs=100};
 * shrink the pools with {@code -Dapp.writerPoolSize=2 -Dapp.readerPoolSize=2} to saturate sooner.
 */
public class PoolExhaustionSimulation extends DoorbusterSimulation {
    static final double SCALE = Parameters.positive("load.scale", 1);
    static final Duration LENGTH = loadLength(1);
    static final long DB_LATENCY_MS = (long) Parameters.positive("pool.dbLatencyMs", 100);

    final LoadProfile load = new LoadProfile()
            .hold("warm-up", 2 * SCALE, share(LENGTH, 0.1))
            .rampTo("ramp", 80 * SCALE, share(LENGTH, 0.6))
            .hold(Judge.RECOVERY_PHASE, 2 * SCALE, share(LENGTH, 0.3));

    final FaultSchedule faults = new FaultSchedule()
            .at(Duration.ZERO, new DbLatency(LinkTarget.ALL, DB_LATENCY_MS, 0), load.start(Judge.RECOVERY_PHASE));

    {
        plan("Shoppers beyond capacity", load, faults, JudgingMode.OVERLOAD, new TrafficMix(70, 20, 10));
    }
}
