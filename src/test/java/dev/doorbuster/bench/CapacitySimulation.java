package dev.doorbuster.bench;

import java.time.Duration;
import java.util.List;

import dev.doorbuster.chaos.FaultSchedule;
import dev.doorbuster.load.DoorbusterSimulation;
import dev.doorbuster.load.LoadProfile;
import dev.doorbuster.verdict.JudgingMode;
import dev.doorbuster.verdict.recording.LatencyRecorder;
import dev.doorbuster.verdict.Phase;

/**
 * Capacity of the whole local stack (Gatling, storefront, proxy, primary + replica on one machine):
 * steps of constant arrival rates, Black Friday's traffic mix, no faults. Prints one line per step
 * ({@code [capacity] ...}) for {@link CapacityBenchmark}.
 */
public class CapacitySimulation extends DoorbusterSimulation {
    /** The steps' rates (shoppers/s), or {@code -Dbench.rates=10,20,40}. */
    static final List<Integer> RATES = System.getProperty("bench.rates") == null
            ? List.of(50, 200, 400, 700, 1000, 1300, 1600, 2000)
            : java.util.Arrays.stream(System.getProperty("bench.rates").split(",")).map(String::strip)
                    .map(Integer::valueOf).toList();
    static final Duration STEP = Duration.ofSeconds(Integer.getInteger("bench.stepSeconds", 20));

    final LoadProfile load = steps();

    {
        plan("Shoppers, step by step", load, new FaultSchedule(), JudgingMode.STANDARD, new TrafficMix(70, 20, 10));
    }

    private static LoadProfile steps() {
        LoadProfile profile = new LoadProfile();
        for (int rate : RATES) {
            profile.hold("rate-" + rate, rate, STEP);
        }
        return profile;
    }

    @Override
    public void after() {
        LatencyRecorder recorder = run().recorder();
        for (Phase phase : load.phases()) {
            // The step's last two thirds: the first third absorbs the backlog of the step before.
            int from = phase.fromSecond() + (phase.toSecond() - phase.fromSecond()) / 3;
            LatencyRecorder.Counts counts = recorder.counts(null, from, phase.toSecond());
            var h = recorder.histogram(null, from, phase.toSecond());
            System.out.printf("[capacity] %s req/s=%.1f p99ms=%.1f p50ms=%.1f errors=%.2f%%%n", phase.name(),
                    counts.total() / (double) (phase.toSecond() - from), h.getValueAtPercentile(99) / 1000.0,
                    h.getValueAtPercentile(50) / 1000.0, counts.errorPercent());
        }
        super.after();
    }
}
