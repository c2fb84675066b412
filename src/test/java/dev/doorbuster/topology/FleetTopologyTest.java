package dev.doorbuster.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Properties;

import dev.doorbuster.chaos.ChaosContext;
import dev.doorbuster.chaos.FaultTimeline;
import dev.doorbuster.chaos.ScaleOut;
import dev.doorbuster.chaos.WriteProbe;
import dev.doorbuster.postgres.PgNode;
import dev.doorbuster.verdict.probes.ProbeSample;
import dev.doorbuster.verdict.probes.Probes;
import dev.doorbuster.verdict.probes.PrometheusText;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * A fleet of {@value #INSTANCES} storefront JVMs ({@code app.instances}) behind the topology's balancer: the load is
 * spread over them connection by connection, and the probes add up their pools, which the primary's own
 * {@code pg_stat_activity} counts independently; then the fleet grows by one ({@code ScaleOut}).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FleetTopologyTest {
    private static final int INSTANCES = 2;
    private static final int POOL = 3;
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private static LocalTopology topology;

    /** The topology's own folder (its processes' logs), removed after the class. */
    @TempDir
    static Path work;

    @BeforeAll
    static void start() throws IOException {
        Properties settings = new Properties();
        settings.setProperty("app.instances", Integer.toString(INSTANCES));
        settings.setProperty("app.seedUsers", "200");
        settings.setProperty("app.seedProducts", "100");
        settings.setProperty("app.writerPoolSize", Integer.toString(POOL));
        settings.setProperty("app.readerPoolSize", Integer.toString(POOL));
        settings.setProperty("postgres.synchronousCommit", "off");
        Environment env = new EnvironmentLoader(Path.of("environments"), settings).load("local");
        topology = LocalTopology.start(env, work);
    }

    @AfterAll
    static void stop() {
        if (topology != null) {
            topology.close();
        }
    }

    @Test
    @Order(1)
    void theBalancerGivesEachNewConnectionToTheNextInstance() throws Exception {
        List<URI> metrics = topology.appMetricsUrls();
        assertEquals(INSTANCES, metrics.size());
        assertTrue(!metrics.get(0).equals(metrics.get(1)), "each instance serves its own metrics: " + metrics);
        double[] before = metrics.stream().mapToDouble(FleetTopologyTest::productPagesServed).toArray();
        for (int i = 0; i < 4 * INSTANCES; i++) {
            assertEquals(200, statusOnANewConnection("/products/" + (i + 1)));
        }
        // Each instance counts a request on its worker after answering it: wait until all are counted.
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        double[] served = new double[INSTANCES];
        do {
            for (int i = 0; i < INSTANCES; i++) {
                served[i] = productPagesServed(metrics.get(i)) - before[i];
            }
        } while (java.util.Arrays.stream(served).sum() < 4 * INSTANCES && System.nanoTime() < deadline);
        for (int i = 0; i < INSTANCES; i++) {
            assertEquals(4, served[i], 0.0,
                    "instance " + (i + 1) + " answered every " + INSTANCES + "th new connection");
        }
    }

    @Test
    @Order(2)
    void theProbesAddUpEveryInstancesPoolsAsThePrimaryCountsThem() throws Exception {
        Probes probes = new Probes(topology, () -> 0);
        ProbeSample sample = probes.sample();
        assertEquals(1, probes.coverage().readable(), "every instance's metrics were read: " + probes.coverage());
        double writers = sample.writerActive() + sample.writerIdle();
        assertEquals(INSTANCES * POOL, writers, 0.0, "the fleet's writer pools, added up");
        assertEquals(INSTANCES * POOL, sample.readerActive() + sample.readerIdle(), 0.0, "the fleet's reader pools");
        assertEquals(INSTANCES * POOL, storefrontWriters(topology.cluster().orElseThrow().primary()),
                "the primary holds exactly the fleet's writer connections");
        assertEquals(0, sample.connectionRefusals(), 0.0, "nothing was refused: the database has room for the fleet");
    }

    /**
     * The autoscaler's {@link ScaleOut}: one more instance, serving once its pools are open, in the probes' figures and
     * given its share of new connections from then on; the primary counts its writer pool too.
     */
    @Test
    @Order(3)
    void aScaleOutAddsAnInstanceThatTakesItsShareOfNewConnections() throws Exception {
        FaultTimeline timeline = new FaultTimeline(System.nanoTime());
        ChaosContext context = new ChaosContext(topology, timeline, new WriteProbe(topology.appUrl()))
                .forFault("F1 ScaleOut");
        ScaleOut scaleOut = ScaleOut.instances(1);
        context.check(scaleOut);
        scaleOut.inject(context);
        assertEquals(INSTANCES + 1, topology.fleet().orElseThrow().instances());
        assertTrue(timeline.events().stream().anyMatch(e -> e.message().startsWith("fleet grew from " + INSTANCES
                + " to " + (INSTANCES + 1) + " instances")), timeline.events().toString());
        List<URI> metrics = topology.appMetricsUrls();
        assertEquals(INSTANCES + 1, metrics.size());
        double before = productPagesServed(metrics.get(INSTANCES));
        for (int i = 0; i < 3 * (INSTANCES + 1); i++) {
            assertEquals(200, statusOnANewConnection("/products/" + (i + 1)));
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        double served;
        do {
            served = productPagesServed(metrics.get(INSTANCES)) - before;
        } while (served < 3 && System.nanoTime() < deadline);
        assertEquals(3, served, 0.0, "the added instance answered every " + (INSTANCES + 1) + "th new connection");
        ProbeSample sample = new Probes(topology, () -> 0).sample();
        assertEquals((INSTANCES + 1) * POOL, sample.writerActive() + sample.writerIdle(), 0.0, "its pools are counted");
        assertEquals((INSTANCES + 1) * POOL, storefrontWriters(topology.cluster().orElseThrow().primary()),
                "the primary holds its writer pool too");
    }

    /** GET over a connection of its own (closed after), as a new virtual user of a load generator opens. */
    private static int statusOnANewConnection(String path) throws IOException {
        URI app = topology.appUrl();
        try (Socket socket = new Socket(app.getHost(), app.getPort())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: " + app.getHost() + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            String response = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            return Integer.parseInt(response.substring("HTTP/1.1 ".length(), "HTTP/1.1 ".length() + 3));
        }
    }

    /** The product pages one instance answered, by its own request meter. */
    private static double productPagesServed(URI metrics) {
        try {
            String text = HTTP.send(HttpRequest.newBuilder(metrics).timeout(Duration.ofSeconds(10)).GET().build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            double served = PrometheusText.parse(text).sum("http_server_requests_seconds_count",
                    java.util.Map.of("route", "/products/{id}", "status", "200"));
            return Double.isNaN(served) ? 0 : served;
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The writer pools' connections on {@code node}, counted by the node itself. */
    static int storefrontWriters(PgNode node) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + node.port()
                + "/storefront?user=postgres&sslmode=disable");
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                     + "'storefront-writer' AND backend_type = 'client backend'")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
