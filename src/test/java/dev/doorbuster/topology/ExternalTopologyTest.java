package dev.doorbuster.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.stream.Stream;

import dev.doorbuster.chaos.CacheDown;
import dev.doorbuster.chaos.CacheFlush;
import dev.doorbuster.chaos.CacheLatency;
import dev.doorbuster.chaos.ChaosContext;
import dev.doorbuster.chaos.ChaosRunner;
import dev.doorbuster.chaos.DbLatency;
import dev.doorbuster.chaos.FaultRefusedException;
import dev.doorbuster.chaos.FaultSchedule;
import dev.doorbuster.chaos.FaultTimeline;
import dev.doorbuster.chaos.LinkTarget;
import dev.doorbuster.chaos.PrimaryFailover;
import dev.doorbuster.chaos.ProxyDown;
import dev.doorbuster.postgres.PgNode;
import dev.doorbuster.process.DoorbusterHome;
import dev.doorbuster.process.ServerUser;
import dev.doorbuster.redis.RedisAdmin;
import dev.doorbuster.redis.RedisBinary;
import dev.doorbuster.redis.RedisException;
import dev.doorbuster.redis.RedisServer;
import dev.doorbuster.tools.Required;
import dev.doorbuster.verdict.probes.DatabaseDiagnostics;
import dev.doorbuster.verdict.probes.DatabaseSnapshot;
import eu.rekawek.toxiproxy.Proxy;
import eu.rekawek.toxiproxy.ToxiproxyClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An external environment pointed at a running system (here a local topology standing in for staging):
 * it connects, performs only the faults it is granted, and refuses the rest before anything happens. Its cache tier
 * is a Redis server of its own, read directly at {@code cache.url}, behind a proxy named by the environment.
 */
class ExternalTopologyTest {
    private static LocalTopology staging;

    @TempDir
    Path dir;

    /** The topology's own folder (its processes' logs), removed after the class. */
    @TempDir
    static Path stagingWork;

    @BeforeAll
    static void startStaging() throws IOException {
        Properties small = new Properties();
        small.setProperty("app.seedUsers", "1000");
        small.setProperty("app.seedProducts", "200");
        Environment env = new EnvironmentLoader(Path.of("environments"), small).load("local");
        staging = LocalTopology.start(env, stagingWork);
    }

    @AfterAll
    static void stopStaging() {
        if (staging != null) {
            staging.close();
        }
    }

    private Environment external(String allowFaults, String appUrl) throws IOException {
        String json = "{\"type\": \"external\", \"app\": {\"url\": \"" + appUrl + "\", \"metricsUrl\": \"" + appUrl
                + "/metrics\"}, \"proxy\": {\"url\": \"" + staging.toxiproxyUrl() + "\", \"proxies\": {\"primary\": \""
                + staging.links().primaryApp() + "\", \"replica\": \"" + staging.links().replicaApp().get(0)
                + "\"}}, \"database\": {\"writerUrl\": \"" + staging.writerJdbcUrl() + "\"}, \"allowFaults\": ["
                + allowFaults + "]}";
        Files.writeString(dir.resolve("staging.json"), json);
        return new EnvironmentLoader(dir, new Properties()).load("staging");
    }

    @Test
    void connectsAndPerformsOnlyGrantedFaults() throws Exception {
        ExternalTopology topology = ExternalTopology.connect(external("\"DbLatency\"", staging.appUrl().toString()));
        assertEquals(staging.appUrl(), topology.appUrl());
        assertTrue(topology.clusterControl().isEmpty(), "no cluster control from outside");
        FaultTimeline timeline = new FaultTimeline(System.nanoTime());
        ChaosContext context = new ChaosContext(topology, timeline, null);

        FaultSchedule granted = new FaultSchedule().at(Duration.ZERO, new DbLatency(LinkTarget.ALL, 5, 0), Duration.ofMillis(200));
        try (ChaosRunner runner = new ChaosRunner(context, granted)) {
            runner.checkAllowed();
            runner.start();
            Thread.sleep(500);
        }
        assertEquals(1, timeline.windows().size());
        assertTrue(timeline.events().stream().noneMatch(e -> e.kind() == FaultTimeline.Kind.ERROR), timeline.events().toString());

        FaultRefusedException notGranted = assertThrows(FaultRefusedException.class, () -> new ChaosRunner(context,
                new FaultSchedule().at(Duration.ZERO, new ProxyDown(LinkTarget.REPLICAS), null)).checkAllowed());
        assertTrue(notGranted.getMessage().contains("does not allow fault ProxyDown"), notGranted.getMessage());
        assertTrue(notGranted.getMessage().contains("allowFaults"), notGranted.getMessage());
    }

    @Test
    void refusesAFailoverItCannotPerformEvenIfGranted() throws Exception {
        ExternalTopology topology = ExternalTopology.connect(external("\"PrimaryFailover\"", staging.appUrl().toString()));
        FaultRefusedException e = assertThrows(FaultRefusedException.class, () -> new ChaosRunner(
                new ChaosContext(topology, new FaultTimeline(System.nanoTime()), null),
                new FaultSchedule().at(Duration.ZERO, new PrimaryFailover(false), null)).checkAllowed());
        assertTrue(e.getMessage().contains("needs control of the PostgreSQL cluster"), e.getMessage());
    }

    @Test
    void anApplicationThatDoesNotAnswerIsNamed() throws Exception {
        Environment env = external("", "http://127.0.0.1:9");
        TopologyException e = assertThrows(TopologyException.class, () -> ExternalTopology.connect(env));
        assertTrue(e.getMessage().contains("http://127.0.0.1:9") && e.getMessage().contains("app.url"), e.getMessage());
    }

    @Test
    void measuresReplicationLagWhenGivenAReplicaUrl() throws Exception {
        String replicaUrl = staging.cluster().orElseThrow().replicas().get(0).jdbcUrl("storefront");
        String json = Files.readString(Path.of("environments", "staging.example.json"))
                .replace("http://127.0.0.1:8080/metrics", staging.appUrl() + "/metrics")
                .replace("http://127.0.0.1:8080", staging.appUrl().toString())
                .replace("http://127.0.0.1:8474", staging.toxiproxyUrl().toString())
                .replace("\"pg-primary\"", "\"" + staging.links().primaryApp() + "\"")
                .replace("\"pg-replica\"", "\"" + staging.links().replicaApp().get(0) + "\"")
                .replace("jdbc:postgresql://127.0.0.1:5432/storefront", staging.writerJdbcUrl())
                .replace("jdbc:postgresql://127.0.0.1:5433/storefront", replicaUrl);
        Files.writeString(dir.resolve("example.json"), json);
        ExternalTopology topology = ExternalTopology.connect(new EnvironmentLoader(dir, new Properties()).load("example"));
        assertTrue(topology.replicationLag().isPresent(), "lag measured from the two JDBC URLs");
    }

    @Test
    void diagnosticsInspectEveryLocalNodeDirectlyAndTheExternalWriter() throws Exception {
        List<DiagnosticTarget> local = staging.diagnosticTargets();
        List<PgNode> nodes = staging.cluster().orElseThrow().nodes();
        assertEquals(List.of("pg1", "pg2"), local.stream().map(DiagnosticTarget::name).toList());
        assertEquals(List.of("primary", "replica"), local.stream().map(DiagnosticTarget::role).toList());
        for (int i = 0; i < nodes.size(); i++) {
            assertTrue(local.get(i).jdbcUrl().startsWith("jdbc:postgresql://127.0.0.1:" + nodes.get(i).port() + "/storefront"),
                    "the node's own port, not its proxy: " + local.get(i).jdbcUrl());
        }
        List<DatabaseSnapshot> snapshots = DatabaseDiagnostics.snapshot(staging);
        assertEquals(2, snapshots.size());
        for (DatabaseSnapshot s : snapshots) {
            assertTrue(s.statements().value() != null, s.node() + ": pg_stat_statements is preloaded and created: "
                    + s.statements().unavailable());
            assertTrue(s.tables().value().stream().anyMatch(t -> t.table().equals("public.products")), s.tables().toString());
        }
        assertTrue(snapshots.get(0).statements().value().stream().anyMatch(q -> q.query().contains("products")),
                "the storefront's seeding is among the primary's statements");

        ExternalTopology external = ExternalTopology.connect(external("", staging.appUrl().toString()));
        List<DiagnosticTarget> targets = external.diagnosticTargets();
        assertEquals(List.of("writer"), targets.stream().map(DiagnosticTarget::name).toList(), "no replica URL given");
        DatabaseSnapshot writer = DatabaseDiagnostics.snapshot(external).get(0);
        assertEquals("primary", writer.role());
        assertTrue(writer.cache().value() != null && writer.replication().value() != null);
    }

    // ---- the cache tier (app.cache) -----------------------------------------------------------------------------

    /** The environment of a service that caches in {@code cacheUrl}, its link to it through proxy {@code cacheProxy}. */
    private Environment externalWithCache(String cacheUrl, String cacheProxy, String allowFaults) throws IOException {
        String proxies = "\"primary\": \"" + staging.links().primaryApp() + "\""
                + (cacheProxy == null ? "" : ", \"cache\": \"" + cacheProxy + "\"");
        String json = "{\"type\": \"external\", \"app\": {\"url\": \"" + staging.appUrl() + "\", \"cache\": true}, "
                + "\"proxy\": {\"url\": \"" + staging.toxiproxyUrl() + "\", \"proxies\": {" + proxies + "}}, "
                + "\"database\": {\"writerUrl\": \"" + staging.writerJdbcUrl() + "\"}, "
                + (cacheUrl == null ? "" : "\"cache\": {\"url\": \"" + cacheUrl + "\"}, ")
                + "\"allowFaults\": [" + allowFaults + "]}";
        Files.writeString(dir.resolve("cached.json"), json);
        return new EnvironmentLoader(dir, new Properties()).load("cached");
    }

    @Test
    void theCacheIsReadAtCacheUrlNeverRestartedAndFaultedThroughTheProxyTheEnvironmentNames() throws Exception {
        Required.assume(RedisBinary.available(), RedisBinary.missingMessage());
        Path redisDir = Files.createDirectories(DoorbusterHome.get().resolve("external-cache-test-" + UUID.randomUUID()));
        ToxiproxyClient toxiproxy = new ToxiproxyClient(staging.toxiproxyUrl().getHost(), staging.toxiproxyUrl().getPort());
        Proxy shopCache = null;
        try (RedisServer redis = RedisServer.start("shop-cache", RedisBinary.resolve(), ServerUser.detect(), redisDir,
                null)) {
            // The service's own proxy on its cache link, under a name of its own (not the local topology's "cache").
            shopCache = toxiproxy.createProxy("shop-cache", "127.0.0.1:0", "127.0.0.1:" + redis.port());
            String proxied = "redis://" + shopCache.getListen();
            ExternalTopology topology = ExternalTopology.connect(
                    externalWithCache(redis.url(), "shop-cache", "\"CacheDown\", \"CacheFlush\""));

            CacheTier cache = topology.cache().orElseThrow();
            assertEquals(redis.url(), cache.directUrl(), "cache.url, read directly");
            assertFalse(cache.restartable(), "not Doorbuster's to restart");
            UnsupportedOperationException refused = assertThrows(UnsupportedOperationException.class, cache::restartCold);
            assertTrue(refused.getMessage().contains("cache.url") && refused.getMessage().contains("FLUSHALL"),
                    refused.getMessage());
            assertEquals("shop-cache", cache.proxyName(), "proxy.proxies.cache");

            FaultTimeline timeline = new FaultTimeline(System.nanoTime());
            ChaosContext context = new ChaosContext(topology, timeline, null).forFault("F1 CacheDown");
            CacheDown down = new CacheDown();
            context.check(down);
            down.inject(context);
            try {
                assertThrows(RedisException.class, () -> RedisAdmin.connect(proxied).close(), "the link refuses");
                try (RedisAdmin direct = RedisAdmin.connect(cache.directUrl())) {
                    direct.keyCount(); // the harness's own way in is not the faulted link
                }
            } finally {
                down.heal(context);
            }
            try (RedisAdmin throughProxy = RedisAdmin.connect(proxied)) {
                assertEquals(0, throughProxy.keyCount(), "healed");
            }

            try (var client = io.lettuce.core.RedisClient.create(redis.url()); var connection = client.connect()) {
                connection.sync().set("product:1", "{\"id\":1}");
                connection.sync().set("product:2", "{\"id\":2}");
            }
            new CacheFlush().inject(context);
            try (RedisAdmin direct = RedisAdmin.connect(cache.directUrl())) {
                assertEquals(0, direct.keyCount(), "a cold cache, by FLUSHALL");
            }
            assertTrue(timeline.events().stream().anyMatch(e -> e.message().contains("2 keys gone (FLUSHALL)")),
                    timeline.events().toString());
            assertTrue(redis.isRunning(), "the server itself was left alone");
        } finally {
            if (shopCache != null) {
                shopCache.delete();
            }
            try (Stream<Path> tree = Files.walk(redisDir)) {
                tree.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void theCachesNetworkFaultsAreRefusedWhenNoProxyIsNamedOnItsLink() throws Exception {
        Required.assume(RedisBinary.available(), RedisBinary.missingMessage());
        Path redisDir = Files.createDirectories(DoorbusterHome.get().resolve("external-cache-test-" + UUID.randomUUID()));
        try (RedisServer redis = RedisServer.start("shop-cache", RedisBinary.resolve(), ServerUser.detect(), redisDir,
                null)) {
            ExternalTopology topology = ExternalTopology.connect(externalWithCache(redis.url(), null,
                    "\"CacheLatency\", \"CacheFlush\""));
            ChaosContext context = new ChaosContext(topology, new FaultTimeline(System.nanoTime()), null);
            FaultRefusedException e = assertThrows(FaultRefusedException.class, () -> new ChaosRunner(context,
                    new FaultSchedule().at(Duration.ZERO, CacheLatency.ofMs(100), null)).checkAllowed());
            assertTrue(e.getMessage().contains("CacheLatency") && e.getMessage().contains("proxy.proxies.cache")
                    && e.getMessage().contains("cached.json"), e.getMessage());
            // A flush needs no proxy: it is a Redis command on the harness's own connection.
            new ChaosRunner(context, new FaultSchedule().at(Duration.ZERO, new CacheFlush(), null)).checkAllowed();
        } finally {
            try (Stream<Path> tree = Files.walk(redisDir)) {
                tree.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void aCacheThatDoesNotAnswerIsNamed() throws Exception {
        int closed;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = socket.getLocalPort();
        }
        Environment env = externalWithCache("redis://127.0.0.1:" + closed, null, "");
        TopologyException e = assertThrows(TopologyException.class, () -> ExternalTopology.connect(env));
        assertTrue(e.getMessage().startsWith("The cache at redis://127.0.0.1:" + closed + " (cache.url in "
                + dir.resolve("cached.json") + ") does not answer"), e.getMessage());
    }

    @Test
    void cacheUrlIsRequiredWithTheCacheTierAndMustBeARedisUrl() {
        String file = dir.resolve("cached.json").toString();
        EnvironmentException missing = assertThrows(EnvironmentException.class,
                () -> externalWithCache(null, null, ""));
        assertTrue(missing.getMessage().startsWith(file + ": field 'cache.url' is required with app.cache on an "
                + "external environment"), missing.getMessage());
        for (String bad : List.of("http://127.0.0.1:6379", "redis://127.0.0.1", "localhost:6379")) {
            EnvironmentException e = assertThrows(EnvironmentException.class, () -> externalWithCache(bad, null, ""));
            assertTrue(e.getMessage().startsWith(file + ": field 'cache.url' is '" + bad + "'; expected redis://host:port"),
                    e.getMessage());
        }
    }

    @Test
    void withoutTheCacheTierThereIsNoCache() throws Exception {
        assertTrue(ExternalTopology.connect(external("", staging.appUrl().toString())).cache().isEmpty());
    }
}
