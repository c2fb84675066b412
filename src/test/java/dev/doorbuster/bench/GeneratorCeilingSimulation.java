package dev.doorbuster.bench;

import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.http;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import dev.doorbuster.load.LoadProfile;
import dev.doorbuster.verdict.GeneratorHealth;
import dev.doorbuster.verdict.Phase;
import dev.doorbuster.verdict.recording.GeneratorMonitor;
import dev.doorbuster.verdict.recording.LatencyRecorder;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import org.HdrHistogram.Histogram;

/**
 * The load generator's own ceiling: Gatling with the harness's per-request recording ({@link LatencyRecorder}) and its
 * watch over itself ({@link GeneratorMonitor}), driving a service that does nothing (one {@code GET /} answered 204 by
 * {@link GeneratorCeilingBenchmark}'s server in another JVM), in steps of constant arrival rates. Each shopper makes
 * one request, as a run's shoppers make each of theirs. Prints one line per step ({@code [ceiling] ...}).
 */
public class GeneratorCeilingSimulation extends Simulation {
    static final List<Integer> RATES = Arrays.stream(System.getProperty("bench.rates", "500,1000,2000,4000,6000,8000,12000,16000")
            .split(",")).map(String::trim).map(Integer::parseInt).toList();
    static final Duration STEP = Duration.ofSeconds(Integer.getInteger("bench.stepSeconds", 10));
    /** A run's default: 10 % of the local environment's 1000 ms p99 budget. */
    static final long LATE_AFTER_MICROS = 100_000;
    private static final String T0 = "ceiling.t0";

    final LoadProfile load = new LoadProfile();
    private volatile LatencyRecorder recorder;
    private volatile GeneratorMonitor monitor;

    {
        String url = System.getProperty("bench.noopUrl");
        if (url == null) {
            throw new IllegalArgumentException("set -Dbench.noopUrl to the no-op service's base URL");
        }
        // The JVMs' compilers are still at work in the first seconds (11 % of 500 arrivals/s were late then): a warm-up
        // the benchmark does not count.
        load.hold("warm-up", RATES.get(0), STEP);
        for (int rate : RATES) {
            load.hold("rate-" + rate, rate, STEP);
        }
        ScenarioBuilder shoppers = scenario("one request each")
                .exec(session -> {
                    monitor.userStarted();
                    return session.set(T0, System.nanoTime());
                })
                .exec(http("no-op").get("/"))
                .exec(session -> {
                    recorder.record("no-op", (System.nanoTime() - session.getLong(T0)) / 1000, !session.isFailed());
                    return session;
                });
        setUp(shoppers.injectOpen(load.injection())).protocols(http.baseUrl(url).disableWarmUp());
    }

    @Override
    public void before() {
        long start = System.nanoTime();
        recorder = new LatencyRecorder(start);
        monitor = new GeneratorMonitor(start, load::arrivals, LATE_AFTER_MICROS);
    }

    @Override
    public void after() {
        GeneratorHealth health = monitor.report(recorder.secondOf(System.nanoTime()));
        monitor.close();
        for (Phase phase : load.phases()) {
            long planned = 0;
            long late = 0;
            int cpu = -1;
            int machine = -1;
            int gc = 0;
            int delay = 0;
            for (GeneratorHealth.Second s : health.seconds()) {
                if (s.second() >= phase.fromSecond() && s.second() < phase.toSecond()) {
                    planned += s.planned();
                    late += s.late();
                    cpu = Math.max(cpu, s.processCpu());
                    machine = Math.max(machine, s.machineCpu());
                    gc = Math.max(gc, s.gcPauseMs());
                    delay = Math.max(delay, s.maxDelayMs());
                }
            }
            int seconds = phase.toSecond() - phase.fromSecond();
            LatencyRecorder.Counts counts = recorder.counts(null, phase.fromSecond(), phase.toSecond());
            Histogram h = recorder.histogram(null, phase.fromSecond(), phase.toSecond());
            System.out.printf(java.util.Locale.ROOT, "[ceiling] %s planned/s=%.0f req/s=%.0f late=%.2f%% delaymax=%d "
                            + "p99ms=%.2f errors=%.2f%% cpu=%d machine=%d gc=%d%n", phase.name(),
                    planned / (double) seconds, counts.total() / (double) seconds,
                    planned == 0 ? 0 : 100.0 * late / planned, delay, h.getValueAtPercentile(99) / 1000.0,
                    counts.errorPercent(), cpu, machine, gc);
        }
    }
}
