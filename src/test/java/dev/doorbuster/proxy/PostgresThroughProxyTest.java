package dev.doorbuster.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.doorbuster.postgres.PgCluster;
import eu.rekawek.toxiproxy.Proxy;
import eu.rekawek.toxiproxy.ToxiproxyClient;
import eu.rekawek.toxiproxy.model.ToxicDirection;
import java.net.URI;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Timeout.ThreadMode;

/**
 * A real PostgreSQL client (PgJDBC) through the proxy: the proxy is a general TCP proxy, this only checks
 * that a real wire protocol survives it and that a latency toxic slows queries by the configured amount.
 * The server comes from the cluster manager (the proxy's main code knows nothing of PostgreSQL).
 */
@Timeout(value = 120, threadMode = ThreadMode.SEPARATE_THREAD)
class PostgresThroughProxyTest {
    private static PgCluster cluster;
    private static int pgPort;
    private static ToxiproxyServer server;
    private static Proxy proxy;

    @BeforeAll
    static void startPostgresAndProxy() throws Exception {
        cluster = PgCluster.builder().replicas(0).start();
        pgPort = cluster.primary().port();
        server = ToxiproxyServer.start();
        URI api = URI.create(server.url());
        proxy = new ToxiproxyClient(api.getHost(), api.getPort()).createProxy("postgres", "127.0.0.1:0",
                "127.0.0.1:" + pgPort);
    }

    @AfterAll
    static void stopEverything() {
        if (server != null) {
            server.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private static Connection connect(String url) throws SQLException {
        return DriverManager.getConnection(url + "?user=postgres&connectTimeout=10&socketTimeout=30");
    }

    private static String proxiedUrl() {
        return "jdbc:postgresql://" + proxy.getListen() + "/postgres";
    }

    private static double medianQueryMillis(Connection connection) throws SQLException {
        long[] samples = new long[7];
        try (Statement statement = connection.createStatement()) {
            statement.execute("SELECT 1"); // warm up
            for (int i = 0; i < samples.length; i++) {
                long start = System.nanoTime();
                try (ResultSet result = statement.executeQuery("SELECT 1")) {
                    assertTrue(result.next());
                }
                samples[i] = System.nanoTime() - start;
            }
        }
        Arrays.sort(samples);
        return samples[samples.length / 2] / 1e6;
    }

    @Test
    void pgJdbcWorksThroughTheProxy() throws Exception {
        try (Connection connection = connect(proxiedUrl()); Statement statement = connection.createStatement()) {
            statement.execute("CREATE TABLE IF NOT EXISTS items (id int primary key, label text)");
            statement.execute("TRUNCATE items");
            statement.execute("INSERT INTO items SELECT g, repeat('x', 100) || g FROM generate_series(1, 20000) g");
            try (ResultSet result = statement.executeQuery("SELECT count(*), sum(id), sum(length(label)) FROM items")) {
                assertTrue(result.next());
                assertEquals(20000, result.getLong(1));
                assertEquals(20000L * 20001 / 2, result.getLong(2));
            }
            try (ResultSet rows = statement.executeQuery("SELECT id, label FROM items ORDER BY id")) {
                int expected = 1;
                while (rows.next()) {
                    assertEquals(expected, rows.getInt(1));
                    assertEquals("x".repeat(100) + expected, rows.getString(2));
                    expected++;
                }
                assertEquals(20001, expected);
            }
        }
    }

    @Test
    void aLatencyToxicSlowsQueriesByTheConfiguredAmount() throws Exception {
        try (Connection direct = connect("jdbc:postgresql://127.0.0.1:" + pgPort + "/postgres");
                Connection proxied = connect(proxiedUrl())) {
            double baseline = medianQueryMillis(direct);
            proxy.toxics().latency("pg-latency", ToxicDirection.DOWNSTREAM, 100);
            try {
                double slowed = medianQueryMillis(proxied);
                assertTrue(slowed >= 100 && slowed - baseline < 2_000, String.format(
                        "a 100 ms downstream latency: %.2f ms per query (direct %.2f ms)", slowed, baseline));
            } finally {
                proxy.toxics().get("pg-latency").remove();
            }
        }
    }
}
