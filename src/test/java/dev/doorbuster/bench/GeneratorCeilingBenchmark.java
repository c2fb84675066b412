package dev.doorbuster.bench;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.sun.net.httpserver.HttpServer;
import dev.doorbuster.load.ForkedGatling;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * How many requests a second the load generator can offer and record on this machine, the service being no
 * bottleneck: the JDK's HTTP server in this JVM answers every {@code GET /} with 204 and no work, Gatling runs
 * {@link GeneratorCeilingSimulation} in a JVM of its own. The ceiling is the highest step whose arrivals the
 * generator still started on time (at most 1 % later than 100 ms, the budget a run applies by default). Run:
 * {@code mvn -B -Pbench test -Dtest=GeneratorCeilingBenchmark}.
 */
@Tag("bench")
@Timeout(value = 20, unit = TimeUnit.MINUTES)
class GeneratorCeilingBenchmark {
    private static final Pattern STEP = Pattern.compile("\\[ceiling] rate-(\\d+) planned/s=(\\d+) req/s=(\\d+) "
            + "late=([\\d.]+)% delaymax=(\\d+) p99ms=([\\d.]+) errors=([\\d.]+)% cpu=(-?\\d+) machine=(-?\\d+) gc=(\\d+)");

    @Test
    void requestsASecondTheGeneratorOffersAndRecords() throws Exception {
        HttpServer noop = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 1024);
        ExecutorService threads = Executors.newFixedThreadPool(4);
        noop.setExecutor(threads);
        noop.createContext("/", exchange -> {
            exchange.getRequestBody().readAllBytes();
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        noop.start();
        // Both folders go with the benchmark: its figures are in docs/BENCHMARKS.md, not in the run's reports.
        Path home = Files.createTempDirectory(Path.of("/var/tmp"), "doorbuster-ceiling-");
        Path reports = Files.createTempDirectory("ceiling-reports");
        try {
            Map<String, String> properties = new java.util.HashMap<>(Map.of("bench.noopUrl",
                    "http://127.0.0.1:" + noop.getAddress().getPort(), ForkedGatling.QUICK_JVM, "false"));
            for (String passed : List.of("bench.rates", "bench.stepSeconds")) {
                if (System.getProperty(passed) != null) {
                    properties.put(passed, System.getProperty(passed));
                }
            }
            ForkedGatling.Result run = ForkedGatling.start(GeneratorCeilingSimulation.class.getName(),
                    reports, home, properties).await(Duration.ofMinutes(15));
            List<String> rows = new ArrayList<>();
            int ceiling = 0;
            boolean keptUp = true;
            Matcher m = STEP.matcher(run.output());
            while (m.find()) {
                int rate = Integer.parseInt(m.group(1));
                boolean onTime = Double.parseDouble(m.group(4)) <= 1.0;
                keptUp &= onTime;
                if (keptUp) {
                    ceiling = rate;
                }
                rows.add("| " + rate + " | " + m.group(3) + " | " + m.group(4) + " | " + m.group(5) + " | " + m.group(6)
                        + " | " + m.group(7) + " | " + m.group(8) + " | " + m.group(9) + " | " + m.group(10) + " | "
                        + (onTime ? "yes" : "no") + " |");
            }
            if (rows.isEmpty()) {
                throw new AssertionError("no [ceiling] lines:\n" + run.output());
            }
            BenchReport.record("the load generator's ceiling (Gatling + the harness's recording, one GET per shopper, a "
                    + "no-op HTTP service in another JVM)", "kept up to " + ceiling + " requests/s\n"
                    + "| offered/s | recorded req/s | late % | start delay max ms | p99 ms | errors % | generator CPU % "
                    + "| machine CPU % | GC pause ms | kept up |\n|---|---|---|---|---|---|---|---|---|---|\n"
                    + String.join("\n", rows));
        } finally {
            noop.stop(0);
            threads.shutdownNow();
            dev.doorbuster.load.ControlRuns.deleteTree(reports);
            dev.doorbuster.load.ControlRuns.deleteTree(home);
        }
    }
}
