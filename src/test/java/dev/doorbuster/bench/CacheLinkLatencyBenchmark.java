package dev.doorbuster.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import dev.doorbuster.process.Dirs;
import dev.doorbuster.process.DoorbusterHome;
import dev.doorbuster.process.ServerUser;
import dev.doorbuster.proxy.ToxiproxyServer;
import dev.doorbuster.redis.RedisBinary;
import dev.doorbuster.redis.RedisServer;
import dev.doorbuster.tools.Required;
import eu.rekawek.toxiproxy.ToxiproxyClient;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What the embedded chaos proxy adds to a cache command's round trip (issue 17): the storefront's link to Redis goes
 * through a proxy of {@link ToxiproxyServer} in every run, and every cache hit pays it.
 *
 * <p>One Redis ({@link RedisServer}), one proxy to it (no toxics), and the storefront's client library (Lettuce,
 * synchronous API) with one connection straight to Redis and one through the proxy. Per path and command ({@code GET}
 * of a 64-byte value, {@code PING}): {@value #WARMUP} unrecorded round trips, then {@value #ROUNDS} rounds of
 * {@value #PER_ROUND} alternating direct, proxy, proxy, direct, ... so the shared machine's noise falls on both,
 * one command at a time; each round trip timed with {@link System#nanoTime()} into an HdrHistogram.
 * Run: {@code mvn -Pbench test -Dtest=CacheLinkLatencyBenchmark}.
 */
@Tag("bench")
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class CacheLinkLatencyBenchmark {
    private static final int WARMUP = Integer.getInteger("bench.warmup", 20_000);
    private static final int ROUNDS = Integer.getInteger("bench.rounds", 4); // even: as many rounds each
    private static final int PER_ROUND = Integer.getInteger("bench.perRound", 25_000);
    private static final String KEY = "bench:product:1";
    private static final String VALUE = "x".repeat(64);

    @Test
    void getAndPingDirectAndThroughTheProxy() throws Exception {
        Required.assume(RedisBinary.available(), RedisBinary.missingMessage());
        Path redisDir = DoorbusterHome.get().resolve("bench-redis").resolve("cache-link-" + ProcessHandle.current().pid());
        RedisClient client = RedisClient.create();
        try (RedisServer redis = RedisServer.start("bench-link", RedisBinary.resolve(), ServerUser.detect(), redisDir,
                     redisDir);
             ToxiproxyServer proxy = ToxiproxyServer.start()) {
            String listen = new ToxiproxyClient(proxy.host(), proxy.port())
                    .createProxy("cache", "127.0.0.1:0", "127.0.0.1:" + redis.port()).getListen();
            try (StatefulRedisConnection<String, String> direct = connect(client, redis.url());
                 StatefulRedisConnection<String, String> proxied = connect(client, "redis://" + listen)) {
                direct.sync().set(KEY, VALUE);
                Map<String, Consumer<RedisCommands<String, String>>> commands = new LinkedHashMap<>();
                commands.put("GET (64-byte value)", c -> {
                    if (c.get(KEY).length() != VALUE.length()) {
                        throw new IllegalStateException("unexpected value");
                    }
                });
                commands.put("PING", c -> c.ping());
                for (var command : commands.entrySet()) {
                    Histogram directNanos = new Histogram(10_000_000_000L, 3);
                    Histogram proxiedNanos = new Histogram(10_000_000_000L, 3);
                    time(direct.sync(), command.getValue(), WARMUP, null);
                    time(proxied.sync(), command.getValue(), WARMUP, null);
                    for (int round = 0; round < ROUNDS; round++) {
                        boolean directRound = round % 4 == 0 || round % 4 == 3;
                        time(directRound ? direct.sync() : proxied.sync(), command.getValue(), PER_ROUND,
                                directRound ? directNanos : proxiedNanos);
                    }
                    assertEquals(directNanos.getTotalCount(), proxiedNanos.getTotalCount());
                    BenchReport.record("cache link, " + command.getKey() + ", direct", summary(directNanos));
                    BenchReport.record("cache link, " + command.getKey() + ", through the proxy",
                            summary(proxiedNanos) + "; added: p50 " + micros(proxiedNanos.getValueAtPercentile(50)
                                    - directNanos.getValueAtPercentile(50)) + " µs, p99 "
                                    + micros(proxiedNanos.getValueAtPercentile(99) - directNanos.getValueAtPercentile(99))
                                    + " µs");
                }
                System.out.println("[bench] before the benchmark: " + machineLoad());
            }
        } finally {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
            Dirs.deleteQuietly(redisDir);
        }
    }

    private static StatefulRedisConnection<String, String> connect(RedisClient client, String url) {
        RedisURI uri = RedisURI.create(url);
        uri.setTimeout(Duration.ofSeconds(5));
        return client.connect(uri);
    }

    private static void time(RedisCommands<String, String> connection, Consumer<RedisCommands<String, String>> command,
            int times, Histogram into) {
        for (int i = 0; i < times; i++) {
            long start = System.nanoTime();
            command.accept(connection);
            long nanos = System.nanoTime() - start;
            if (into != null) {
                into.recordValue(Math.min(nanos, 10_000_000_000L));
            }
        }
    }

    private static String summary(Histogram nanos) {
        return String.format("p50 %s µs, p99 %s µs, p99.9 %s µs, max %s µs (%d round trips, one connection, Lettuce sync)",
                micros(nanos.getValueAtPercentile(50)), micros(nanos.getValueAtPercentile(99)),
                micros(nanos.getValueAtPercentile(99.9)), micros(nanos.getMaxValue()), nanos.getTotalCount());
    }

    private static String micros(long nanos) {
        return String.format("%.1f", nanos / 1000.0);
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
