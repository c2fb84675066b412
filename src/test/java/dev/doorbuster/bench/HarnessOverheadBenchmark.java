package dev.doorbuster.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

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
 * scheduled time), in windows with the harness's per-request recording and per-second probes on, and in windows
 * with them off, in one run on one topology. Goal: p99 within 5 % of "off", beyond the noise.
 *
 * <p>The noise is measured in the same run, not in another hour: the "off" windows are of two kinds, A and B, that do
 * exactly the same thing. Each round runs one window of each (on, A, B) in an order that rotates from round to round,
 * so that none of them always follows another. A vs B is the A/A difference, the floor below which no overhead can be
 * told apart; on vs A and B together is the overhead. Run: {@code mvn -B -Pbench test -Dtest=HarnessOverheadBenchmark}.
 */
@Tag("bench")
@Timeout(value = 20, unit = TimeUnit.MINUTES) // longer than the tests' default of 5 minutes
class HarnessOverheadBenchmark {
    private static final int RATE = Integer.getInteger("bench.rate", 150);
    private static final Duration WINDOW = Duration.ofSeconds(Integer.getInteger("bench.windowSeconds", 15));
    private static final int ROUNDS = Integer.getInteger("bench.rounds", 8);
    /** What "on" switches on: both (default), or only {@code probes} or only {@code recording} to split the cost. */
    private static final String PART = System.getProperty("bench.harness", "both");

    /** A window's kind: the harness measuring, or one of the two identical kinds of window without it. */
    private enum Window {
        ON, OFF_A, OFF_B
    }

    /** The rounds' orders: each kind first, second and third equally often, and after each other kind equally often. */
    private static final List<List<Window>> ORDERS = List.of(List.of(Window.ON, Window.OFF_A, Window.OFF_B),
            List.of(Window.OFF_A, Window.OFF_B, Window.ON), List.of(Window.OFF_B, Window.ON, Window.OFF_A),
            List.of(Window.ON, Window.OFF_B, Window.OFF_A), List.of(Window.OFF_B, Window.OFF_A, Window.ON),
            List.of(Window.OFF_A, Window.ON, Window.OFF_B));

    @Test
    void recordingAndProbesOnVersusOff() throws Exception {
        Properties props = new Properties();
        props.setProperty("app.seedUsers", "20000");
        props.setProperty("app.seedProducts", "5000");
        Environment env = new EnvironmentLoader(Path.of("environments"), props).load("local");
        try (LocalTopology topology = LocalTopology.start(env, Files.createTempDirectory("overhead-bench"))) {
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2))
                    .executor(Executors.newFixedThreadPool(8)).build();
            Map<Window, Recorder> latencies = new EnumMap<>(Window.class);
            for (Window w : Window.values()) {
                latencies.put(w, new Recorder(3));
            }
            AtomicLong errors = new AtomicLong();
            LatencyRecorder harness = new LatencyRecorder(System.nanoTime());
            ScheduledExecutorService sender = Executors.newSingleThreadScheduledExecutor();
            AtomicReference<Window> current = new AtomicReference<>(Window.OFF_A);
            long periodNanos = 1_000_000_000L / RATE;
            long start = System.nanoTime();
            AtomicLong sent = new AtomicLong();
            sender.scheduleAtFixedRate(() -> {
                long intended = start + sent.getAndIncrement() * periodNanos;
                Window sentIn = current.get();
                client.sendAsync(request(topology.appUrl()), HttpResponse.BodyHandlers.discarding())
                        .whenComplete((response, failure) -> {
                            long micros = (System.nanoTime() - intended) / 1000;
                            boolean ok = failure == null && response.statusCode() < 400;
                            if (!ok) {
                                errors.incrementAndGet();
                            }
                            if (sentIn == Window.ON && !PART.equals("probes")) {
                                harness.record("bench", micros, ok); // the harness's recording, as in a run
                            }
                            // Each request counts for the window it was sent in, also when it completes in the next.
                            latencies.get(sentIn).recordValue(Math.min(micros, 60_000_000));
                        });
            }, 0, periodNanos, TimeUnit.NANOSECONDS);

            Thread.sleep(10_000); // warm-up: JIT, pools, caches
            latencies.values().forEach(Recorder::reset);
            Map<Window, Histogram> totals = new EnumMap<>(Window.class);
            Map<Window, double[]> perRound = new EnumMap<>(Window.class);
            for (Window w : Window.values()) {
                totals.put(w, new Histogram(3));
                perRound.put(w, new double[ROUNDS]);
            }
            for (int round = 0; round < ROUNDS; round++) {
                Map<Window, Histogram> thisRound = new EnumMap<>(Window.class);
                for (Window window : ORDERS.get(round % ORDERS.size())) {
                    current.set(window);
                    Probes probes = null;
                    if (window == Window.ON && !PART.equals("recording")) {
                        probes = new Probes(topology, () -> harness.secondOf(System.nanoTime()));
                        probes.start();
                    }
                    Thread.sleep(WINDOW.toMillis());
                    if (probes != null) {
                        probes.close();
                    }
                    for (Window w : Window.values()) { // late completions of the window before count for it
                        Histogram h = latencies.get(w).getIntervalHistogram();
                        totals.get(w).add(h);
                        thisRound.computeIfAbsent(w, k -> new Histogram(3)).add(h);
                    }
                }
                for (Window w : Window.values()) {
                    perRound.get(w)[round] = thisRound.get(w).getValueAtPercentile(99) / 1000.0;
                }
            }
            sender.shutdownNow();
            Thread.sleep(2_000); // the last requests complete
            for (Window w : Window.values()) {
                totals.get(w).add(latencies.get(w).getIntervalHistogram());
            }
            Histogram off = new Histogram(3);
            off.add(totals.get(Window.OFF_A));
            off.add(totals.get(Window.OFF_B));
            double p99On = p99(totals.get(Window.ON));
            double p99Off = p99(off);
            double p99A = p99(totals.get(Window.OFF_A));
            double p99B = p99(totals.get(Window.OFF_B));
            double overhead = percent(p99On, p99Off);
            double aa = percent(p99A, p99B);
            // Per round, the same two differences: how much they move from round to round is the figures' spread.
            double[] roundOverhead = new double[ROUNDS];
            double[] roundAa = new double[ROUNDS];
            for (int r = 0; r < ROUNDS; r++) {
                roundOverhead[r] = percent(perRound.get(Window.ON)[r], (perRound.get(Window.OFF_A)[r]
                        + perRound.get(Window.OFF_B)[r]) / 2);
                roundAa[r] = percent(perRound.get(Window.OFF_A)[r], perRound.get(Window.OFF_B)[r]);
            }
            boolean met = overhead <= 5 || overhead <= Math.abs(aa);
            BenchReport.record("harness overhead (" + PART + "), storefront at " + RATE + " req/s (80% GET /products/{id}, "
                    + "20% PUT /users/{id}), " + ROUNDS + " rounds of three " + WINDOW.toSeconds() + " s windows (on, "
                    + "off A, off B)", String.format(Locale.ROOT, "p99 on %.1f ms, off %.1f ms: %+.1f%%; A/A in the same "
                            + "run (off A %.1f vs off B %.1f ms): %+.1f%%; per round, median overhead %+.1f%% and "
                            + "median A/A %+.1f%%; p50 on %.2f, off %.2f ms; %d on, %d off requests; %d errors; goal "
                            + "(overhead ≤ 5%% or within the A/A noise) %s", p99On, p99Off, overhead, p99A, p99B, aa,
                    BenchReport.median(roundOverhead), BenchReport.median(roundAa),
                    totals.get(Window.ON).getValueAtPercentile(50) / 1000.0, off.getValueAtPercentile(50) / 1000.0,
                    totals.get(Window.ON).getTotalCount(), off.getTotalCount(), errors.get(), met ? "met" : "NOT met"));
        }
    }

    private static double p99(Histogram h) {
        return h.getValueAtPercentile(99) / 1000.0;
    }

    private static double percent(double value, double reference) {
        return 100 * (value - reference) / reference;
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
