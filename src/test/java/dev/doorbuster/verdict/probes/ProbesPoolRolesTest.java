package dev.doorbuster.verdict.probes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import com.sun.net.httpserver.HttpServer;
import dev.doorbuster.chaos.FaultTimeline;
import dev.doorbuster.postgres.Lag;
import dev.doorbuster.topology.ClusterControl;
import dev.doorbuster.topology.DatabaseLinks;
import dev.doorbuster.topology.Environment;
import dev.doorbuster.topology.EnvironmentLoader;
import dev.doorbuster.topology.Topology;
import dev.doorbuster.verdict.CheckResult;
import dev.doorbuster.verdict.Judge;
import dev.doorbuster.verdict.JudgingMode;
import dev.doorbuster.verdict.recording.LatencyRecorder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The probes read a service's HikariCP pools by the roles {@code app.pools} gives them, from a real HTTP endpoint
 * serving Prometheus text as Spring Boot's Actuator writes it ({@code pool="HikariPool-1",}); what they could not
 * match is what a pool check's reason says.
 */
class ProbesPoolRolesTest {
    /** One pool, as Spring Boot's Actuator (Micrometer's Prometheus registry) writes it, trailing comma included. */
    private static final String SPRING_BOOT = """
            # HELP hikaricp_connections_active Active connections
            # TYPE hikaricp_connections_active gauge
            hikaricp_connections_active{pool="HikariPool-1",} 3.0
            # HELP hikaricp_connections_idle Idle connections
            # TYPE hikaricp_connections_idle gauge
            hikaricp_connections_idle{pool="HikariPool-1",} 7.0
            hikaricp_connections_pending{pool="HikariPool-1",} 1.0
            # TYPE hikaricp_connections_timeout_total counter
            hikaricp_connections_timeout_total{pool="HikariPool-1",} 2.0
            jvm_threads_live_threads 42.0
            """;
    /** Two data sources: Spring Boot names them HikariPool-1 and HikariPool-2, which says nothing of their roles. */
    private static final String TWO_POOLS = SPRING_BOOT + """
            hikaricp_connections_active{pool="HikariPool-2",} 5.0
            hikaricp_connections_idle{pool="HikariPool-2",} 5.0
            hikaricp_connections_pending{pool="HikariPool-2",} 0.0
            hikaricp_connections_timeout_total{pool="HikariPool-2",} 1.0
            """;
    /** The storefront's names, reads spread over two replicas. */
    private static final String STOREFRONT = """
            hikaricp_connections_active{pool="writer"} 4
            hikaricp_connections_idle{pool="writer"} 6
            hikaricp_connections_pending{pool="writer"} 0
            hikaricp_connections_timeout_total{pool="writer"} 0
            hikaricp_connections_active{pool="reader-1"} 2
            hikaricp_connections_active{pool="reader-2"} 3
            hikaricp_connections_idle{pool="reader-1"} 8
            hikaricp_connections_idle{pool="reader-2"} 7
            hikaricp_connections_pending{pool="reader-1"} 0
            hikaricp_connections_pending{pool="reader-2"} 1
            hikaricp_connections_timeout_total{pool="reader-1"} 0
            hikaricp_connections_timeout_total{pool="reader-2"} 0
            """;

    @TempDir
    Path dir;

    private HttpServer server;
    private final AtomicReference<String> body = new AtomicReference<>(SPRING_BOOT);
    private final AtomicInteger status = new AtomicInteger(200);
    private final AtomicReference<String> query = new AtomicReference<>();

    @BeforeEach
    void serveMetrics() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4);
        server.createContext("/actuator/prometheus", exchange -> {
            try (exchange) {
                query.set(exchange.getRequestURI().getRawQuery());
                byte[] bytes = body.get().getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4");
                exchange.sendResponseHeaders(status.get(), bytes.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(bytes);
                }
            }
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private URI metricsUrl() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/actuator/prometheus");
    }

    /** An external environment naming the server's metrics, with {@code pools} as app.pools (null: left out). */
    private Environment environment(String pools) throws IOException {
        Files.writeString(dir.resolve("svc.json"), "{\"type\": \"external\", \"app\": {\"url\": \"http://127.0.0.1:"
                + server.getAddress().getPort() + "\", \"metricsUrl\": \"" + metricsUrl() + "\""
                + (pools == null ? "" : ", \"pools\": " + pools) + "}, \"database\": {\"writerUrl\": "
                + "\"jdbc:postgresql://127.0.0.1:5432/shop\"}}");
        return new EnvironmentLoader(dir, new Properties()).load("svc");
    }

    private Probes probes(String pools) throws IOException {
        return new Probes(new MetricsOnly(environment(pools), metricsUrl()), () -> 0);
    }

    @Test
    void springBootsSinglePoolIsReadAsTheWriter() throws IOException {
        try (Probes probes = probes(null)) {
            ProbeSample s = probes.sample();
            assertEquals(3.0, s.writerActive());
            assertEquals(7.0, s.writerIdle());
            assertEquals(1.0, s.writerPending());
            assertTrue(Double.isNaN(s.readerActive()), "no reader pool: no reader figure");
            assertEquals(2.0, s.poolTimeouts());
            assertTrue(query.get().contains("name%5B%5D=hikaricp_connections_active"), "only the meters asked for");
            MetricsCoverage coverage = probes.coverage();
            assertEquals(Map.of("HikariPool-1", "writer"), coverage.pools());
            assertEquals(Optional.empty(), coverage.poolsMissing());
        }
    }

    @Test
    void twoPoolsWithoutRolesAreNamedInTheReason() throws IOException {
        body.set(TWO_POOLS);
        try (Probes probes = probes(null)) {
            ProbeSample s = probes.sample();
            assertTrue(Double.isNaN(s.writerActive()) && Double.isNaN(s.readerActive()), "no guess: " + s);
            assertTrue(Double.isNaN(s.poolTimeouts()), "timeouts of pools without a role are not counted");
            MetricsCoverage.Missing missing = probes.coverage().poolsMissing().orElseThrow();
            assertEquals("no HikariCP meters matched pool names [HikariPool-1 → ?, HikariPool-2 → ?]", missing.reason());
            assertTrue(missing.fix().startsWith("set app.pools"), missing.fix());

            // What the soak's leak check then says, from these very samples.
            LatencyRecorder r = new LatencyRecorder(0);
            for (int second = 0; second < 10; second++) {
                r.record("browse", second, 10_000, true);
            }
            List<CheckResult> checks = Judge.evaluate(new Judge.Facts(JudgingMode.SOAK, Environment.Slo.defaults(),
                    5000, r, List.of(), new FaultTimeline(0), probes.samples(), null, 0, 0, null, null, null,
                    probes.coverage()));
            CheckResult growth = checks.stream().filter(c -> c.name().equals(Judge.POOL_ACTIVE_GROWTH)).findFirst()
                    .orElseThrow(() -> new AssertionError("the leak check is never absent: " + checks));
            assertTrue(growth.notJudged(), growth.line());
            assertTrue(growth.line().startsWith("NOT JUDGED pool active growth: no HikariCP meters matched pool names "
                    + "[HikariPool-1 → ?, HikariPool-2 → ?]; set app.pools"), growth.line());
        }
    }

    @Test
    void appPoolsGivesEachPoolItsRole() throws IOException {
        body.set(TWO_POOLS);
        try (Probes probes = probes("{\"HikariPool-1\": \"writer\", \"HikariPool-2\": \"reader\"}")) {
            ProbeSample s = probes.sample();
            assertEquals(3.0, s.writerActive());
            assertEquals(5.0, s.readerActive());
            assertEquals(5.0, s.readerIdle());
            assertEquals(3.0, s.poolTimeouts(), "both pools' timeouts");
            assertEquals(Map.of("HikariPool-1", "writer", "HikariPool-2", "reader"), probes.coverage().pools());
        }
    }

    @Test
    void theStorefrontsNamesAreReadAsBefore() throws IOException {
        body.set(STOREFRONT);
        try (Probes probes = probes(null)) {
            ProbeSample s = probes.sample();
            assertEquals(4.0, s.writerActive());
            assertEquals(5.0, s.readerActive(), "reader-1 and reader-2 summed");
            assertEquals(15.0, s.readerIdle());
            assertEquals(1.0, s.readerPending());
            assertEquals(0.0, s.poolTimeouts());
        }
    }

    @Test
    void metricsThatCannotBeReadAreNamedWithTheirProblem() throws IOException {
        status.set(503);
        try (Probes probes = probes(null)) {
            assertTrue(Double.isNaN(probes.sample().writerActive()));
            probes.sample();
            MetricsCoverage coverage = probes.coverage();
            assertEquals(2, coverage.scrapes());
            assertEquals(0, coverage.readable());
            assertEquals("the metrics at " + metricsUrl() + " could not be read (2 tries, last: HTTP 503)",
                    coverage.poolsMissing().orElseThrow().reason());
        }
    }

    @Test
    void metricsWithoutHikariMetersAreNamed() throws IOException {
        body.set("jvm_threads_live_threads 42.0\n");
        try (Probes probes = probes(null)) {
            // A scrape the loaded fast tier timed out (800 ms to connect) is another case, tested above: this one needs
            // a scrape that was read.
            for (int tries = 0; tries < 5 && (tries == 0 || probes.coverage().readable() == 0); tries++) {
                probes.sample();
            }
            assertEquals("the metrics at " + metricsUrl() + " list no hikaricp_connections_* meters",
                    probes.coverage().poolsMissing().orElseThrow().reason());
        }
    }

    /** The system under test as the probes see it: an environment and its metrics endpoint; no database. */
    private record MetricsOnly(Environment environment, URI appMetricsUrl) implements Topology {
        @Override
        public URI appUrl() {
            return environment.app().url();
        }

        @Override
        public URI toxiproxyUrl() {
            return null;
        }

        @Override
        public DatabaseLinks links() {
            throw new UnsupportedOperationException("the probes need no proxy");
        }

        @Override
        public Optional<ClusterControl> clusterControl() {
            return Optional.empty();
        }

        @Override
        public String writerJdbcUrl() {
            return environment.database().writerUrl();
        }

        @Override
        public String dbUser() {
            return environment.database().user();
        }

        @Override
        public String dbPassword() {
            return environment.database().password();
        }

        @Override
        public Optional<Lag> replicationLag() {
            return Optional.empty();
        }

        @Override
        public boolean allows(String faultName) {
            return false;
        }

        @Override
        public void close() {
        }
    }
}
