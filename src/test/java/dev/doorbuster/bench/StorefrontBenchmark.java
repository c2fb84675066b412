package dev.doorbuster.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.LongStream;

import dev.doorbuster.postgres.PgCluster;
import dev.doorbuster.postgres.PgNode;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Test;

/**
 * Storefront throughput and latency on this machine: {@code GET /products/{id}} (replica reads) and
 * {@code POST /orders} (checkout on the primary), default seed (10k products, 100k users), default pools.
 *
 * <p>The storefront runs in its own JVM (started here with {@code java -cp ... Storefront}); the load
 * comes from this JVM through {@link HttpClient} (HTTP/1.1, keep-alive), closed loop: {@value #CONCURRENCY}
 * workers each send a request as soon as the previous one is answered. CPU seconds of the app JVM, this
 * load JVM and the PostgreSQL servers over the measured window are reported too: on 2 shared cores
 * they tell whether the app, the database or the load generator is the bottleneck.
 * Run: {@code mvn -Pbench test -Dtest=StorefrontBenchmark}.
 */
@Tag("bench")
@Timeout(value = 20, unit = TimeUnit.MINUTES) // longer than the tests' default of 5 minutes
class StorefrontBenchmark {
    private static final int CONCURRENCY = Integer.getInteger("bench.concurrency", 16);
    private static final Duration WARMUP = Duration.ofSeconds(Integer.getInteger("bench.warmupSeconds", 8));
    private static final Duration MEASURE = Duration.ofSeconds(Integer.getInteger("bench.seconds", 20));
    private static final int PRODUCTS = 10_000;
    private static final int USERS = 100_000;
    private static final long TICKS_PER_SECOND = 100; // Linux USER_HZ, the unit of /proc/<pid>/stat times

    @Test
    void productReadsAndCheckouts() throws Exception {
        String machineLoad = machineLoad();
        try (PgCluster cluster = PgCluster.builder().replicas(1).start()) {
            PgNode replica = cluster.replicas().get(0);
            Process app = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx512m", "-cp", System.getProperty("java.class.path"), "dev.doorbuster.app.Storefront",
                    "--writer-url", cluster.writerJdbcUrl("storefront"),
                    "--reader-url", "jdbc:postgresql://127.0.0.1:" + replica.port() + "/storefront",
                    "--port", "0", "--routing", "replica", "--init-schema")
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            try {
                String base = awaitListening(app);
                HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                        .connectTimeout(Duration.ofSeconds(5)).build();
                List<PgNode> servers = List.of(cluster.primary(), replica);

                Run reads = measure("GET /products/{id}", client, app, servers, machineLoad, () -> HttpRequest.newBuilder(
                        URI.create(base + "/products/" + (1 + ThreadLocalRandom.current().nextInt(PRODUCTS)))).GET());
                Run orders = measure("POST /orders", client, app, servers, machineLoad, () -> {
                    ThreadLocalRandom r = ThreadLocalRandom.current();
                    int product = 1 + r.nextInt(PRODUCTS);
                    product = product % 97 == 0 ? product + 1 : product; // every 97th product is seeded sold out
                    String body = "{\"userId\": " + (1 + r.nextInt(USERS)) + ", \"items\": [{\"productId\": " + product
                            + ", \"quantity\": 1}]}";
                    return HttpRequest.newBuilder(URI.create(base + "/orders")).header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(body));
                });
                List<Run> runs = new ArrayList<>(List.of(reads, orders));
                if (wrkInstalled()) {
                    runs.add(measureWithWrk("GET /products/{id}", base, "math.randomseed(42)\n"
                            + "request = function() return wrk.format('GET', '/products/' .. math.random(1, " + PRODUCTS
                            + ")) end\n", app, servers, machineLoad));
                    runs.add(measureWithWrk("POST /orders", base, "math.randomseed(43)\n"
                            + "request = function()\n"
                            + "  local p = math.random(1, " + PRODUCTS + ")\n"
                            + "  if p % 97 == 0 then p = p + 1 end\n"
                            + "  return wrk.format('POST', '/orders', {['Content-Type'] = 'application/json'},\n"
                            + "    '{\"userId\": ' .. math.random(1, " + USERS + ") .. ', \"items\": [{\"productId\": ' .. p"
                            + " .. ', \"quantity\": 1}]}')\n"
                            + "end\n", app, servers, machineLoad));
                } else {
                    System.out.println("[bench] wrk not installed: HttpClient figures only (apt-get install -y wrk)");
                }
                for (Run run : runs) {
                    BenchReport.record("storefront " + run.name(), run.summary());
                }
            } finally {
                app.destroy();
                if (!app.waitFor(15, TimeUnit.SECONDS)) {
                    app.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            }
        }
    }

    /** One endpoint's figures over the measured window; CPU in seconds over the window. */
    private record Run(String name, String tool, long requests, double seconds, double p50Ms, double p99Ms, double maxMs,
                       String statuses, double appCpu, double dbCpu, double loadCpu, String loadAverage) {
        String summary() {
            return String.format("%.0f req/s, p50 %.2f ms, p99 %.2f ms, max %.1f ms (%d requests in %.0f s, %d concurrent "
                            + "connections, load from %s; statuses %s); CPU s per s: app %.2f, PostgreSQL %.2f, "
                            + "load generator %.2f; before the benchmark: %s",
                    requests / seconds, p50Ms, p99Ms, maxMs, requests, seconds, CONCURRENCY, tool, statuses,
                    appCpu / seconds, dbCpu / seconds, loadCpu / seconds, loadAverage);
        }
    }

    /**
     * The machine's CPU pressure (share of time some runnable task waited for a CPU, last 60 s) and 1-minute
     * load average before the benchmark starts: other work on these shared cores lengthens the tails.
     */
    private static String machineLoad() {
        try {
            String pressure = Files.readString(Path.of("/proc/pressure/cpu")).lines().findFirst().orElse("")
                    .replaceAll(".*avg60=([\\d.]+).*", "$1");
            return "CPU pressure " + pressure + "%, load " + Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static Run measure(String name, HttpClient client, Process app, List<PgNode> servers, String machineLoad,
            Supplier<HttpRequest.Builder> request) throws Exception {
        drive(client, request, WARMUP, null); // JIT, pools, caches
        ConcurrentHashMap<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
        double app0 = cpuSeconds(app.toHandle());
        double db0 = servers.stream().mapToDouble(s -> cpuSecondsOfTree(s.pid())).sum();
        double load0 = ownCpuSeconds();
        long t0 = System.nanoTime();
        long[] micros = drive(client, request, MEASURE, statuses);
        double seconds = (System.nanoTime() - t0) / 1e9;
        double app1 = cpuSeconds(app.toHandle());
        double db1 = servers.stream().mapToDouble(s -> cpuSecondsOfTree(s.pid())).sum();
        double load1 = ownCpuSeconds();
        Arrays.sort(micros);
        return new Run(name, "java.net.http.HttpClient in the benchmark JVM", micros.length, seconds,
                percentile(micros, 0.50), percentile(micros, 0.99), micros[micros.length - 1] / 1000.0,
                statuses.toString(), app1 - app0, db1 - db0, load1 - load0, machineLoad);
    }

    private static double percentile(long[] sortedMicros, double p) {
        return sortedMicros[Math.min(sortedMicros.length - 1, (int) Math.ceil(p * sortedMicros.length) - 1)] / 1000.0;
    }

    /**
     * The same load from wrk (a C load generator, one thread), when installed: a second opinion on how much
     * of the figure above is the Java load generator's own cost.
     */
    private static Run measureWithWrk(String name, String url, String lua, Process app, List<PgNode> servers,
            String machineLoad) throws Exception {
        Path script = Files.createTempFile("storefront-bench", ".lua");
        try {
            Files.writeString(script, lua);
            double app0 = cpuSeconds(app.toHandle());
            double db0 = servers.stream().mapToDouble(s -> cpuSecondsOfTree(s.pid())).sum();
            double children0 = reapedChildrenCpuSeconds();
            Process wrk = new ProcessBuilder("wrk", "-t1", "-c" + CONCURRENCY, "-d" + MEASURE.toSeconds() + "s", "--latency",
                    "--timeout", "10s", "-s", script.toString(), url).redirectErrorStream(true).start();
            String output = new String(wrk.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!wrk.waitFor(MEASURE.toSeconds() + 30, TimeUnit.SECONDS) || wrk.exitValue() != 0) {
                wrk.destroyForcibly();
                throw new IllegalStateException("wrk failed: " + output);
            }
            double app1 = cpuSeconds(app.toHandle());
            double db1 = servers.stream().mapToDouble(s -> cpuSecondsOfTree(s.pid())).sum();
            double wrkCpu = reapedChildrenCpuSeconds() - children0;
            Matcher done = Pattern.compile("(\\d+) requests in ([\\d.]+)s").matcher(output);
            Matcher max = Pattern.compile("Latency\\s+\\S+\\s+\\S+\\s+(\\S+)").matcher(output);
            if (!done.find() || !max.find()) {
                throw new IllegalStateException("unexpected wrk output: " + output);
            }
            Matcher non2xx = Pattern.compile("Non-2xx or 3xx responses: (\\d+)").matcher(output);
            return new Run(name, "wrk 4.1 (1 thread)", Long.parseLong(done.group(1)), Double.parseDouble(done.group(2)),
                    wrkMillis(output, "50%"), wrkMillis(output, "99%"), toMillis(max.group(1)),
                    non2xx.find() ? "non-2xx " + non2xx.group(1) : "all 2xx", app1 - app0, db1 - db0, wrkCpu,
                    machineLoad);
        } finally {
            Files.deleteIfExists(script);
        }
    }

    private static double wrkMillis(String output, String percentile) {
        Matcher m = Pattern.compile(percentile + "\\s+(\\S+)").matcher(output);
        if (!m.find()) {
            throw new IllegalStateException("no " + percentile + " in wrk output: " + output);
        }
        return toMillis(m.group(1));
    }

    private static double toMillis(String wrkDuration) {
        Matcher m = Pattern.compile("([\\d.]+)(us|ms|s|m)").matcher(wrkDuration);
        if (!m.matches()) {
            throw new IllegalStateException("not a wrk duration: " + wrkDuration);
        }
        double value = Double.parseDouble(m.group(1));
        return switch (m.group(2)) {
            case "us" -> value / 1000;
            case "ms" -> value;
            case "s" -> value * 1000;
            default -> value * 60_000;
        };
    }

    private static boolean wrkInstalled() {
        try {
            Process p = new ProcessBuilder("wrk", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            p.waitFor(5, TimeUnit.SECONDS);
            return true;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** CPU of this JVM's exited-and-reaped children (cutime + cstime of /proc/self/stat). */
    private static double reapedChildrenCpuSeconds() throws IOException {
        String stat = Files.readString(Path.of("/proc/self/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(fields[13]) + Long.parseLong(fields[14])) / (double) TICKS_PER_SECOND;
    }

    /** Closed loop: every worker sends its next request when the previous one is answered, until {@code length}. */
    private static long[] drive(HttpClient client, Supplier<HttpRequest.Builder> request, Duration length,
            ConcurrentHashMap<Integer, AtomicInteger> statuses) throws Exception {
        ExecutorService workers = Executors.newFixedThreadPool(CONCURRENCY);
        try {
            long end = System.nanoTime() + length.toNanos();
            List<Future<long[]>> results = new ArrayList<>();
            for (int i = 0; i < CONCURRENCY; i++) {
                results.add(workers.submit(() -> {
                    LongStream.Builder latencies = LongStream.builder();
                    while (System.nanoTime() < end) {
                        HttpRequest r = request.get().timeout(Duration.ofSeconds(10)).build();
                        long start = System.nanoTime();
                        int status;
                        try {
                            status = client.send(r, HttpResponse.BodyHandlers.ofByteArray()).statusCode();
                        } catch (IOException e) {
                            status = -1;
                        }
                        latencies.add((System.nanoTime() - start) / 1000);
                        if (statuses != null) {
                            statuses.computeIfAbsent(status, s -> new AtomicInteger()).incrementAndGet();
                        }
                    }
                    return latencies.build().toArray();
                }));
            }
            List<long[]> all = new ArrayList<>();
            for (Future<long[]> f : results) {
                all.add(f.get(length.toSeconds() + 60, TimeUnit.SECONDS));
            }
            return all.stream().flatMapToLong(LongStream::of).toArray();
        } finally {
            workers.shutdownNow();
        }
    }

    private static String awaitListening(Process app) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(app.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<String> line = new CompletableFuture<>();
        Thread reader = new Thread(() -> { // keeps draining stdout, so the app never blocks writing to it
            try (out) {
                for (String l; (l = out.readLine()) != null; ) {
                    line.complete(l);
                }
            } catch (IOException ignored) {
                // app gone
            }
            line.complete(null);
        }, "storefront-stdout");
        reader.setDaemon(true);
        reader.start();
        String first = line.get(120, TimeUnit.SECONDS);
        Matcher m = Pattern.compile("Storefront listening on (http://\\S+)").matcher(String.valueOf(first));
        if (!m.matches()) {
            throw new IllegalStateException("storefront did not start: " + first);
        }
        return m.group(1);
    }

    private static double ownCpuSeconds() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime() / 1e9;
    }

    private static double cpuSecondsOfTree(long pid) {
        return ProcessHandle.of(pid).map(h -> cpuSeconds(h) + h.descendants().mapToDouble(StorefrontBenchmark::cpuSeconds)
                .sum()).orElse(0.0);
    }

    /** utime + stime of one process from /proc (0 if it is gone). */
    private static double cpuSeconds(ProcessHandle process) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / (double) TICKS_PER_SECOND;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }
}
