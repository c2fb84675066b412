package dev.doorbuster.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import dev.doorbuster.topology.Environment;
import dev.doorbuster.topology.EnvironmentLoader;
import dev.doorbuster.topology.LocalTopology;
import dev.doorbuster.verdict.recording.LatencyRecorder;
import dev.doorbuster.verdict.probes.Probes;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Test;

/**
 * What the harness's own measuring costs the system under test: the storefront's latency under the same
 * open-model load (requests/s fixed, scheduled independently of responses, latency counted from the
 * scheduled time), in alternating windows with the harness's per-request recording and per-second
 * probes on and off, in one run on one topology. Goal: p99 within 5%. Run:
 * {@code mvn -B -Pbench test -Dtest=HarnessOverheadBenchmark}.
 */
@Tag("bench")
@Timeout(value = 20, unit = TimeUnit.MINUTES) // longer than the tests' default of 5 minutes
class HarnessOverheadBenchmark {
    private static final int RATE = Integer.getInteger("bench.rate", 150);
    private static final Duration WINDOW = Duration.ofSeconds(Integer.getInteger("bench.windowSeconds", 15));
    private static final int PAIRS = Integer.getInteger("bench.pairs", 4);
    /**
     * What "on" switches on: both (default), or only {@code probes} or only {@code recording} to split the
     * cost, or {@code none} (an A/A run: the difference is then the measurement's own noise).
     */
    private static final String PART = System.getProperty("bench.harness", "both");

    @Test
    void recordingAndProbesOnVersusOff() throws Exception {
        Properties props = new Properties();
        props.setProperty("app.seedUsers", "20000");
        props.setProperty("app.seedProducts", "5000");
        Environment env = new EnvironmentLoader(Path.of("environments"), props).load("local");
        try (LocalTopology topology = LocalTopology.start(env, Files.createTempDirectory("overhead-bench"))) {
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2))
                    .executor(Executors.newFixedThreadPool(8)).build();
            Recorder on = new Recorder(3);
            Recorder off = new Recorder(3);
            AtomicLong errors = new AtomicLong();
            LatencyRecorder harness = new LatencyRecorder(System.nanoTime());
            ScheduledExecutorService sender = Executors.newSingleThreadScheduledExecutor();
            boolean[] recording = {true};
            Probes[] probes = {null};
            long periodNanos = 1_000_000_000L / RATE;
            long start = System.nanoTime();
            AtomicLong sent = new AtomicLong();
            sender.scheduleAtFixedRate(() -> {
                long intended = start + sent.getAndIncrement() * periodNanos;
                boolean measuredOn = recording[0];
                client.sendAsync(request(topology.appUrl()), HttpResponse.BodyHandlers.discarding())
                        .whenComplete((response, failure) -> {
                            long micros = (System.nanoTime() - intended) / 1000;
                            boolean ok = failure == null && response.statusCode() < 400;
                            if (!ok) {
                                errors.incrementAndGet();
                            }
                            if (measuredOn && (PART.equals("both") || PART.equals("recording"))) {
                                harness.record("bench", micros, ok); // the harness's recording, as in a run
                            }
                            (measuredOn ? on : off).recordValue(Math.min(micros, 60_000_000));
                        });
            }, 0, periodNanos, TimeUnit.NANOSECONDS);

            Thread.sleep(10_000); // warm-up: JIT, pools, caches
            on.reset();
            off.reset();
            Histogram onTotal = new Histogram(3);
            Histogram offTotal = new Histogram(3);
            for (int i = 0; i < PAIRS * 2; i++) {
                // ON-OFF, OFF-ON, ON-OFF, ...: neither mode always goes first (an A/A run showed that bias).
                boolean harnessOn = (i % 2 == 0) == ((i / 2) % 2 == 0);
                recording[0] = harnessOn;
                if (harnessOn && (PART.equals("both") || PART.equals("probes"))) {
                    probes[0] = new Probes(topology, () -> harness.secondOf(System.nanoTime()));
                    probes[0].start();
                }
                Thread.sleep(WINDOW.toMillis());
                if (probes[0] != null) {
                    probes[0].close();
                    probes[0] = null;
                }
                // Each request counts for the mode it was sent in, also when it completes in the next window.
                onTotal.add(on.getIntervalHistogram());
                offTotal.add(off.getIntervalHistogram());
            }
            sender.shutdownNow();
            Thread.sleep(2_000); // the last requests complete
            onTotal.add(on.getIntervalHistogram());
            offTotal.add(off.getIntervalHistogram());
            double p99On = onTotal.getValueAtPercentile(99) / 1000.0;
            double p99Off = offTotal.getValueAtPercentile(99) / 1000.0;
            BenchReport.record("harness overhead (" + PART + "), storefront at " + RATE + " req/s (80% GET /products/{id}, 20% PUT "
                    + "/users/{id}), " + PAIRS + " on/off pairs of " + WINDOW.toSeconds() + " s", String.format(
                    "p99 with recording+probes %.1f ms vs without %.1f ms (%+.1f%%); p50 %.2f vs %.2f ms; %d vs %d "
                            + "requests; %d errors; goal |diff| ≤ 5%%", p99On, p99Off, 100 * (p99On - p99Off) / p99Off,
                    onTotal.getValueAtPercentile(50) / 1000.0, offTotal.getValueAtPercentile(50) / 1000.0,
                    onTotal.getTotalCount(), offTotal.getTotalCount(), errors.get()));
        }
    }

    private static HttpRequest request(URI app) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        if (random.nextInt(100) < 80) {
            return HttpRequest.newBuilder(app.resolve("/products/" + (1 + random.nextInt(5000))))
                    .timeout(Duration.ofSeconds(10)).GET().build();
        }
        return HttpRequest.newBuilder(app.resolve("/users/" + (2 + random.nextInt(19_000)))).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"name\": \"Bench " + random.nextInt(1000) + "\"}")).build();
    }
}
