package dev.doorbuster.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import com.sun.net.httpserver.HttpServer;
import dev.doorbuster.postgres.Lag;
import dev.doorbuster.proxy.ToxiproxyServer;
import dev.doorbuster.topology.ClusterControl;
import dev.doorbuster.topology.DatabaseLinks;
import dev.doorbuster.topology.Environment;
import dev.doorbuster.topology.EnvironmentLoader;
import dev.doorbuster.topology.Topology;
import eu.rekawek.toxiproxy.ToxiproxyClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link PrimaryFailover} with each kind of write probe, on a real chaos proxy and a real HTTP service (the cluster
 * is a stand-in that only records what the fault asked of it): a probe that cannot measure does not hold the failover
 * for its give-up time, and the failover happens all the same; one that can measures the time until the service
 * acknowledges again.
 */
class PrimaryFailoverProbeTest {
    @TempDir
    Path dir;

    private ToxiproxyServer proxyServer;
    private HttpServer service;
    private final AtomicInteger writes = new AtomicInteger();
    /** The service acknowledges writes from this instant ({@link System#nanoTime()}) on; 503 before. */
    private final AtomicLong acknowledgesFrom = new AtomicLong(Long.MIN_VALUE);
    private final RecordingCluster cluster = new RecordingCluster();

    @BeforeEach
    void start() throws IOException {
        proxyServer = ToxiproxyServer.start();
        service = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
        service.createContext("/", exchange -> {
            try (exchange) {
                exchange.getRequestBody().readAllBytes();
                writes.incrementAndGet();
                exchange.sendResponseHeaders(System.nanoTime() >= acknowledgesFrom.get() ? 200 : 503, -1);
            }
        });
        service.start();
        ToxiproxyClient client = new ToxiproxyClient(proxyServer.host(), proxyServer.port());
        // The primary's application link: the fault cuts it; where it leads does not matter here.
        client.createProxy("pg1", "127.0.0.1:0", "127.0.0.1:" + service.getAddress().getPort());
    }

    @AfterEach
    void stop() {
        service.stop(0);
        proxyServer.close();
    }

    private URI appUrl() {
        return URI.create("http://127.0.0.1:" + service.getAddress().getPort());
    }

    private Environment ownService(String probe) throws IOException {
        Files.writeString(dir.resolve("svc.json"), "{\"type\": \"docker\", \"app\": {\"image\": \"shop/checkout:1.42\""
                + (probe == null ? "" : ", \"writeProbe\": " + probe) + "}}");
        return new EnvironmentLoader(dir, new Properties()).load("svc");
    }

    private FaultTimeline inject(Environment environment) throws Exception {
        Topology topology = new ProxiedCluster(environment, URI.create(proxyServer.url()), appUrl(), cluster);
        WriteProbe probe = WriteProbe.of(environment, appUrl());
        probe.preflight();
        writes.set(0);
        FaultTimeline timeline = new FaultTimeline(System.nanoTime());
        ChaosContext context = new ChaosContext(topology, timeline, probe).forFault("F1 PrimaryFailover");
        PrimaryFailover fault = new PrimaryFailover(true);
        fault.inject(context);
        fault.heal(context);
        assertTrue(new ToxiproxyClient(proxyServer.host(), proxyServer.port()).getProxy("pg1").isEnabled(),
                "the old primary's link is restored");
        return timeline;
    }

    @Test
    void withoutAWriteProbeTheFailoverHappensAndItsRtoIsNotMeasuredWithoutWaiting() throws Exception {
        long t0 = System.nanoTime();
        FaultTimeline timeline = inject(ownService(null));
        long tookMs = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(List.of("kill pg1", "promote pg2", "rejoin pg1"), cluster.calls, "the failover itself happened");
        assertTrue(tookMs < 10_000, "not the probe's " + PrimaryFailover.GIVE_UP_AFTER.toSeconds() + " s give-up: "
                + tookMs + " ms");
        assertEquals(0, writes.get(), "no write of an API the harness does not know");
        assertEquals(List.of(), timeline.effects(FaultEffect.Rto.class), "no RTO, not even a given-up one");
        assertTrue(timeline.events().stream().anyMatch(e -> e.message().equals("client-observed RTO not measured: the "
                + "environment sets no app.writeProbe, so no write of the service could be probed (PUT /users/1 is the "
                + "reference storefront's)")), timeline.events().toString());
        assertTrue(timeline.events().stream().anyMatch(e -> e.message().contains("rejoined as a replica")));
    }

    @Test
    void aWriteNotAcknowledgedInThePreflightDoesNotHoldTheFailoverEither() throws Exception {
        acknowledgesFrom.set(Long.MAX_VALUE); // 503 to everything, before the fault too
        long t0 = System.nanoTime();
        FaultTimeline timeline = inject(ownService("{\"path\": \"/accounts/probe\"}"));
        assertTrue((System.nanoTime() - t0) / 1_000_000 < 10_000, "no give-up time spent");
        assertEquals(List.of("kill pg1", "promote pg2", "rejoin pg1"), cluster.calls);
        assertEquals(List.of(), timeline.effects(FaultEffect.Rto.class));
        assertTrue(timeline.events().stream().anyMatch(e -> e.message().endsWith("was not acknowledged: "
                + "PUT /accounts/probe answered 503")), timeline.events().toString());
    }

    @Test
    void withAWriteProbeTheRtoIsTheTimeUntilTheServiceAcknowledgesAgain() throws Exception {
        long recoveredAfterMs = 1_200;
        cluster.onKill = () -> acknowledgesFrom.set(System.nanoTime() + recoveredAfterMs * 1_000_000);
        FaultTimeline timeline = inject(ownService("{\"method\": \"POST\", \"path\": \"/orders\", \"body\": {\"a\": 1}}"));
        FaultEffect.Rto rto = timeline.last(FaultEffect.Rto.class).orElseThrow();
        assertTrue(rto.recovered(), rto.toString());
        // The fault starts a little before the kill, so the RTO is at least the outage; at most a probe period more,
        // plus slack for a busy machine.
        assertTrue(rto.millis() >= recoveredAfterMs && rto.millis() < recoveredAfterMs + WriteProbe.PERIOD.toMillis()
                + 1_000, "client-observed RTO " + rto.millis() + " ms for an outage of " + recoveredAfterMs + " ms");
        assertFalse(timeline.events().stream().anyMatch(e -> e.message().contains("not measured")));
    }

    /** A cluster of pg1 (primary) and pg2 that records what a failover asks of it. */
    private static final class RecordingCluster implements ClusterControl {
        final List<String> calls = new ArrayList<>();
        volatile Runnable onKill = () -> { };
        private String primary = "pg1";
        private final List<String> replicas = new ArrayList<>(List.of("pg2"));

        @Override
        public String primary() {
            return primary;
        }

        @Override
        public List<String> replicas() {
            return List.copyOf(replicas);
        }

        @Override
        public void kill(String node) {
            calls.add("kill " + node);
            onKill.run();
        }

        @Override
        public void promote(String replica) {
            calls.add("promote " + replica);
            replicas.remove(replica);
            primary = replica;
        }

        @Override
        public void rejoin(String node) {
            calls.add("rejoin " + node);
            replicas.add(node);
        }
    }

    /** The application at {@code appUrl} behind a real chaos proxy, on a cluster the test controls. */
    private record ProxiedCluster(Environment environment, URI toxiproxyUrl, URI appUrl, ClusterControl cluster)
            implements Topology {
        @Override
        public URI appMetricsUrl() {
            return null;
        }

        @Override
        public DatabaseLinks links() {
            return new DatabaseLinks(cluster.primary(), cluster.replicas(), List.of());
        }

        @Override
        public Optional<ClusterControl> clusterControl() {
            return Optional.of(cluster);
        }

        @Override
        public String writerJdbcUrl() {
            return null;
        }

        @Override
        public String dbUser() {
            return null;
        }

        @Override
        public String dbPassword() {
            return null;
        }

        @Override
        public Optional<Lag> replicationLag() {
            return Optional.empty();
        }

        @Override
        public boolean allows(String faultName) {
            return true;
        }

        @Override
        public void close() {
        }
    }
}
