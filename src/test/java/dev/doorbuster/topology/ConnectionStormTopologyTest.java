package dev.doorbuster.topology;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;

import dev.doorbuster.app.DatabaseErrorMeters;
import dev.doorbuster.app.CacheMeters;
import dev.doorbuster.postgres.PgNode;
import dev.doorbuster.verdict.probes.PrometheusText;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A storm in miniature: {@value #INSTANCES} storefronts whose pools of {@value #POOL} want more connections than
 * {@code max_connections} {@value #MAX_CONNECTIONS} gives the storefront's role. Each refused attempt is counted by the
 * instance that made it; the oracle is the nodes' own logs, one {@code FATAL} line per refusal. Nothing
 * else connects to the nodes while the test reads, so what the instances counted before the logs were read cannot
 * exceed them, and what they counted after bounds them.
 */
class ConnectionStormTopologyTest {
    private static final int INSTANCES = 2;
    private static final int POOL = 5;
    /** Of which PostgreSQL's {@code superuser_reserved_connections} (3) are not the storefront's: it gets 7. */
    private static final int MAX_CONNECTIONS = 10;
    /** The two ways a node words "no room" in its log (both SQLSTATE 53300): for everyone, and for all but superusers. */
    private static final java.util.regex.Pattern REFUSED_LINE = java.util.regex.Pattern.compile(
            "FATAL: .*(sorry, too many clients already|remaining connection slots are reserved)");
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
        settings.setProperty("postgres.settings.max_connections", Integer.toString(MAX_CONNECTIONS));
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
    void everyRefusalTheInstancesCountTheNodesLoggedAndEveryLoggedOneBelongsToAFailedAttempt() throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        double refusedBefore;
        do {
            Thread.sleep(500);
            refusedBefore = fleetCount(Map.of(DatabaseErrorMeters.REFUSED, "true"));
        } while (refusedBefore < 2 && System.nanoTime() < deadline);
        long logged = 0;
        for (PgNode node : topology.cluster().orElseThrow().nodes()) {
            logged += Files.readAllLines(node.logFile(), StandardCharsets.UTF_8).stream()
                    .filter(line -> REFUSED_LINE.matcher(line).find()).count();
        }
        double failedAfter = fleetCount(Map.of());
        assertTrue(refusedBefore >= 2, INSTANCES + " pools of " + POOL + " against max_connections " + MAX_CONNECTIONS
                + ": the second instance's pools are refused, again and again (counted " + refusedBefore + ")");
        assertTrue(refusedBefore <= logged, "the fleet counted " + refusedBefore + " refused attempts, more than the "
                + logged + " refusals the nodes logged");
        // A URL names both nodes (the writer's follows a failover; a reader falls back to the primary): the driver tries
        // each in turn, so one failed attempt is logged by one node or both; it reports the last node's error only.
        assertTrue(logged <= 2 * failedAfter, "the nodes logged " + logged + " refusals; the fleet counted only "
                + failedAfter + " failed attempts of at most 2 nodes each");
    }

    /** What every instance counted of its failed connection attempts with these tags, from their own {@code /metrics}. */
    private static double fleetCount(Map<String, String> tags) throws IOException, InterruptedException {
        String family = CacheMeters.series(DatabaseErrorMeters.CONNECTION_FAILURES);
        double total = 0;
        for (URI metrics : topology.appMetricsUrls()) {
            String text = HTTP.send(HttpRequest.newBuilder(metrics).timeout(Duration.ofSeconds(10)).GET().build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            double counted = PrometheusText.parse(text).sum(family, tags);
            total += Double.isNaN(counted) ? 0 : counted;
        }
        return total;
    }
}
