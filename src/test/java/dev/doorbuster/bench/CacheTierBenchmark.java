package dev.doorbuster.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.doorbuster.app.CacheMeters;
import dev.doorbuster.postgres.PgCluster;
import dev.doorbuster.postgres.PgNode;
import dev.doorbuster.process.Dirs;
import dev.doorbuster.process.DoorbusterHome;
import dev.doorbuster.process.ServerUser;
import dev.doorbuster.proxy.ToxiproxyServer;
import dev.doorbuster.redis.RedisAdmin;
import dev.doorbuster.redis.RedisBinary;
import dev.doorbuster.redis.RedisServer;
import dev.doorbuster.tools.Required;
import eu.rekawek.toxiproxy.ToxiproxyClient;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Storefront read throughput with the cache tier off and on, side by side in one run (issue 17).
 *
 * <p>One primary + one streaming replica (as {@link StorefrontBenchmark}), and two storefront JVMs of the same build
 * against it, started alike ({@code --routing replica}, default pools and seed) except that the second has a
 * {@code --cache-url}: a Redis ({@link RedisServer}) behind a proxy of the embedded chaos proxy
 * ({@link ToxiproxyServer}, no toxics), the way runs connect the storefront to its cache. Both are warmed up, then
 * measured in alternating rounds (off, on, on, off, off, on, ...), so that the shared machine's noise falls on both
 * alike; only one storefront is driven at a time.
 *
 * <p>The load: {@value #CONCURRENCY} closed-loop workers on keep-alive HTTP/1.1 ({@link HttpClient}) read a fixed set
 * of {@value #PRODUCT_KEYS} product pages ({@code GET /products/{id}}) and, one request in ten, one of
 * {@value #CATEGORY_KEYS} category pages ({@code GET /products?category=&after=&limit=20}). Reported per mode:
 * requests/s, p50/p99, the database reads the storefront made ({@code storefront_db_reads_total} from its
 * {@code /metrics}) per request, and for the cache the hit ratio Redis counted ({@code INFO stats}, read directly
 * through {@link RedisAdmin}). Run: {@code mvn -Pbench test -Dtest=CacheTierBenchmark}.
 */
@Tag("bench")
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class CacheTierBenchmark {
    private static final int CONCURRENCY = Integer.getInteger("bench.concurrency", 16);
    private static final Duration WARMUP = Duration.ofSeconds(Integer.getInteger("bench.warmupSeconds", 6));
    private static final Duration ROUND = Duration.ofSeconds(Integer.getInteger("bench.roundSeconds", 8));
    private static final int ROUNDS = Integer.getInteger("bench.rounds", 6); // even: as many rounds each
    private static final int PRODUCTS = 10_000;
    private static final int PRODUCT_KEYS = 1_000;
    private static final String[] CATEGORIES = {"electronics", "books", "toys", "kitchen", "garden", "sports",
            "beauty", "fashion", "grocery", "automotive", "music", "games"};
    private static final int PAGES_PER_CATEGORY = 5;
    private static final int CATEGORY_KEYS = 60; // CATEGORIES.length * PAGES_PER_CATEGORY

    private static final String DB_READS_PREFIX = CacheMeters.DATABASE_READS.replace('.', '_') + "_total";

    /** The fixed keys both storefronts are read with: the same ids, the same category pages. */
    private static final List<String> PRODUCT_PATHS = new ArrayList<>();
    private static final List<String> CATEGORY_PATHS = new ArrayList<>();

    static {
        Random random = new Random(17);
        random.ints(1, PRODUCTS + 1).distinct().limit(PRODUCT_KEYS).forEach(id -> PRODUCT_PATHS.add("/products/" + id));
        for (String category : CATEGORIES) {
            for (int page = 0; page < PAGES_PER_CATEGORY; page++) {
                // a category holds every 12th id: 20 per page, so 240 ids of the key space per page
                CATEGORY_PATHS.add("/products?category=" + category + "&after=" + page * 240 + "&limit=20");
            }
        }
    }

    @Test
    void productAndCategoryReadsWithAndWithoutCache() throws Exception {
        Required.assume(RedisBinary.available(), RedisBinary.missingMessage());
        String machineLoad = machineLoad();
        Path redisDir = DoorbusterHome.get().resolve("bench-redis").resolve("cache-tier-" + ProcessHandle.current().pid());
        List<Process> apps = new ArrayList<>();
        try (PgCluster cluster = PgCluster.builder().replicas(1).start();
             RedisServer redis = RedisServer.start("bench-cache", RedisBinary.resolve(), ServerUser.detect(), redisDir,
                     redisDir);
             ToxiproxyServer proxy = ToxiproxyServer.start();
             RedisAdmin admin = RedisAdmin.connect(redis.url())) {
            PgNode replica = cluster.replicas().get(0);
            String listen = new ToxiproxyClient(proxy.host(), proxy.port())
                    .createProxy("cache", "127.0.0.1:0", "127.0.0.1:" + redis.port()).getListen();
            String cacheUrl = "redis://" + listen;
            String readerUrl = "jdbc:postgresql://127.0.0.1:" + replica.port() + "/storefront";

            // The first creates and seeds the schema; the second finds it there (the same database, the same rows).
            Process off = startApp(cluster.writerJdbcUrl("storefront"), readerUrl, null, true);
            apps.add(off);
            String offBase = awaitListening(off);
            Process on = startApp(cluster.writerJdbcUrl("storefront"), readerUrl, cacheUrl, false);
            apps.add(on);
            String onBase = awaitListening(on);

            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(5)).build();
            drive(client, offBase, WARMUP, null);
            drive(client, onBase, WARMUP, null);

            Mode cacheOff = new Mode("cache off", offBase);
            Mode cacheOn = new Mode("cache on (Redis through the proxy)", onBase);
            for (int round = 0; round < ROUNDS; round++) {
                // off, on, on, off, off, on, ...: each mode runs first in half the pairs
                Mode mode = round % 4 == 0 || round % 4 == 3 ? cacheOff : cacheOn;
                runRound(client, mode, mode == cacheOn ? admin : null);
            }

            for (Mode mode : List.of(cacheOff, cacheOn)) {
                BenchReport.record("cache tier, " + mode.name, mode.summary() + "; before the benchmark: " + machineLoad);
            }
            assertEquals(Map.of(200, cacheOff.requests()), new TreeMap<>(cacheOff.statuses()), "cache off: every read answered 200");
            assertEquals(Map.of(200, cacheOn.requests()), new TreeMap<>(cacheOn.statuses()), "cache on: every read answered 200");
            assertTrue(cacheOn.hits > 0, "the cache served hits"); // sanity, not a target
        } finally {
            for (Process app : apps) {
                app.destroy();
                if (!app.waitFor(15, TimeUnit.SECONDS)) {
                    app.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            }
            Dirs.deleteQuietly(redisDir);
        }
    }

    /** One mode's rounds, added up. */
    private static final class Mode {
        final String name;
        final String base;
        final Histogram micros = new Histogram(60_000_000L, 3);
        final ConcurrentHashMap<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
        final List<Double> roundRates = new ArrayList<>();
        double seconds;
        double dbReads;
        long hits;
        long misses;

        Mode(String name, String base) {
            this.name = name;
            this.base = base;
        }

        int requests() {
            return (int) micros.getTotalCount();
        }

        Map<Integer, Integer> statuses() {
            Map<Integer, Integer> counts = new TreeMap<>();
            statuses.forEach((status, count) -> counts.put(status, count.get()));
            return counts;
        }

        String summary() {
            String hitRatio = hits + misses == 0 ? "" : String.format(", Redis hit ratio %.3f (%d hits, %d misses)",
                    hits / (double) (hits + misses), hits, misses);
            return String.format("%.0f req/s (rounds %s), p50 %.2f ms, p99 %.2f ms, max %.1f ms, %.3f database reads "
                            + "per request (%d requests in %.0f s over %d rounds, %d closed-loop connections; statuses %s)%s",
                    requests() / seconds, roundRates.stream().map(r -> String.format("%.0f", r)).toList(),
                    micros.getValueAtPercentile(50) / 1000.0, micros.getValueAtPercentile(99) / 1000.0,
                    micros.getMaxValue() / 1000.0, dbReads / requests(), requests(), seconds, roundRates.size(),
                    CONCURRENCY, statuses(), hitRatio);
        }
    }

    private static void runRound(HttpClient client, Mode mode, RedisAdmin admin) throws Exception {
        double reads0 = databaseReads(client, mode.base);
        RedisAdmin.Stats stats0 = admin == null ? null : admin.stats();
        long t0 = System.nanoTime();
        long before = mode.micros.getTotalCount();
        drive(client, mode.base, ROUND, mode);
        double seconds = (System.nanoTime() - t0) / 1e9;
        RedisAdmin.Stats stats1 = admin == null ? null : admin.stats();
        mode.dbReads += databaseReads(client, mode.base) - reads0;
        mode.seconds += seconds;
        mode.roundRates.add((mode.micros.getTotalCount() - before) / seconds);
        if (admin != null) {
            mode.hits += stats1.keyspaceHits() - stats0.keyspaceHits();
            mode.misses += stats1.keyspaceMisses() - stats0.keyspaceMisses();
        }
    }

    /** The storefront's {@code storefront_db_reads_total}, every kind added up. */
    private static double databaseReads(HttpClient client, String base) throws Exception {
        String metrics = client.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).GET().build(),
                HttpResponse.BodyHandlers.ofString()).body();
        double total = 0;
        boolean found = false;
        for (String line : metrics.split("\n")) {
            if (line.startsWith(DB_READS_PREFIX + "{") || line.startsWith(DB_READS_PREFIX + " ")) {
                total += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                found = true;
            }
        }
        if (!found) {
            throw new IllegalStateException("no " + DB_READS_PREFIX + " in " + base + "/metrics");
        }
        return total;
    }

    /** Closed loop over the fixed keys; records into {@code into} (null: a warm-up, nothing recorded). */
    private static void drive(HttpClient client, String base, Duration length, Mode into) throws Exception {
        ExecutorService workers = Executors.newFixedThreadPool(CONCURRENCY);
        try {
            long end = System.nanoTime() + length.toNanos();
            List<Future<Histogram>> results = new ArrayList<>();
            for (int i = 0; i < CONCURRENCY; i++) {
                results.add(workers.submit(() -> {
                    Histogram micros = new Histogram(60_000_000L, 3);
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    while (System.nanoTime() < end) {
                        String path = random.nextInt(10) == 0 ? CATEGORY_PATHS.get(random.nextInt(CATEGORY_PATHS.size()))
                                : PRODUCT_PATHS.get(random.nextInt(PRODUCT_PATHS.size()));
                        HttpRequest request = HttpRequest.newBuilder(URI.create(base + path))
                                .timeout(Duration.ofSeconds(10)).GET().build();
                        long start = System.nanoTime();
                        int status;
                        try {
                            status = client.send(request, HttpResponse.BodyHandlers.ofByteArray()).statusCode();
                        } catch (IOException e) {
                            status = -1;
                        }
                        micros.recordValue(Math.min(60_000_000L, (System.nanoTime() - start) / 1000));
                        if (into != null) {
                            into.statuses.computeIfAbsent(status, s -> new AtomicInteger()).incrementAndGet();
                        }
                    }
                    return micros;
                }));
            }
            for (Future<Histogram> f : results) {
                Histogram h = f.get(length.toSeconds() + 60, TimeUnit.SECONDS);
                if (into != null) {
                    into.micros.add(h);
                }
            }
        } finally {
            workers.shutdownNow();
        }
    }

    private static Process startApp(String writerUrl, String readerUrl, String cacheUrl, boolean initSchema)
            throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-cp", System.getProperty("java.class.path"), "dev.doorbuster.app.Storefront",
                "--writer-url", writerUrl, "--reader-url", readerUrl, "--port", "0", "--routing", "replica"));
        if (initSchema) {
            command.add("--init-schema");
        }
        if (cacheUrl != null) {
            command.addAll(List.of("--cache-url", cacheUrl));
        }
        return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    private static String awaitListening(Process app) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(app.getInputStream(), StandardCharsets.UTF_8));
        Pattern listening = Pattern.compile("Storefront listening on (http://\\S+)");
        CompletableFuture<String> url = new CompletableFuture<>();
        StringBuilder before = new StringBuilder(); // with a cache, the client's log lines come first
        Thread reader = new Thread(() -> { // keeps draining stdout, so the app never blocks writing to it
            try (out) {
                for (String l; (l = out.readLine()) != null; ) {
                    Matcher m = listening.matcher(l);
                    if (m.matches()) {
                        url.complete(m.group(1));
                    } else if (!url.isDone() && before.length() < 4_000) {
                        before.append(l).append('\n');
                    }
                }
            } catch (IOException ignored) {
                // app gone
            }
            url.complete(null);
        }, "storefront-stdout");
        reader.setDaemon(true);
        reader.start();
        String base = url.get(120, TimeUnit.SECONDS);
        if (base == null) {
            throw new IllegalStateException("storefront did not start: " + before);
        }
        return base;
    }

    private static String machineLoad() {
        try {
            String pressure = Files.readString(Path.of("/proc/pressure/cpu")).lines().findFirst().orElse("")
                    .replaceAll(".*avg60=([\\d.]+).*", "$1");
            return "CPU pressure " + pressure + "%, load " + Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException e) {
            return "unknown";
        }
    }
}
