package dev.doorbuster.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import eu.rekawek.toxiproxy.Proxy;
import eu.rekawek.toxiproxy.ToxiproxyClient;
import eu.rekawek.toxiproxy.model.ToxicDirection;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Timeout.ThreadMode;

/**
 * A real PostgreSQL client (PgJDBC) through the proxy: the proxy is a general TCP proxy, this only checks
 * that a real wire protocol survives it and that a latency toxic slows queries by the configured amount.
 *
 * <p>TODO switch to dev.doorbuster.postgres.PgCluster after merge. Until then this test starts a throwaway
 * server from Debian's PostgreSQL 15 binaries itself (as the postgres user when run as root, since
 * PostgreSQL refuses root), and is skipped when those binaries are absent.
 */
@Timeout(value = 120, threadMode = ThreadMode.SEPARATE_THREAD)
class PostgresThroughProxyTest {

    private static final Path BIN = Paths.get("/usr/lib/postgresql/15/bin");
    private static final boolean ROOT = "root".equals(System.getProperty("user.name"));

    private static Path dataRoot;
    private static Process postgres;
    private static int pgPort;
    private static ToxiproxyServer server;
    private static Proxy proxy;

    @BeforeAll
    static void startPostgresAndProxy() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(BIN.resolve("initdb")) && Files.isExecutable(BIN.resolve("postgres")),
                "PostgreSQL 15 binaries not installed at " + BIN);
        Assumptions.assumeTrue(!ROOT || (Files.isExecutable(Paths.get("/usr/sbin/runuser"))
                && Files.isExecutable(Paths.get("/usr/bin/setpriv"))), "runuser/setpriv needed to run as postgres");
        dataRoot = Files.createTempDirectory("doorbuster-proxy-pg-");
        Path data = dataRoot.resolve("data");
        if (ROOT) {
            run(List.of("chown", "postgres:postgres", dataRoot.toString()));
        }
        run(asPostgres(false, BIN.resolve("initdb").toString(), "-D", data.toString(), "--auth=trust",
                "-U", "postgres", "--no-sync", "--no-instructions"));
        pgPort = freePort();
        ProcessBuilder builder = new ProcessBuilder(asPostgres(true, BIN.resolve("postgres").toString(),
                "-D", data.toString(), "-p", Integer.toString(pgPort), "-c", "listen_addresses=127.0.0.1",
                "-c", "unix_socket_directories=", "-c", "fsync=off"));
        builder.redirectErrorStream(true).redirectOutput(dataRoot.resolve("postgres.log").toFile());
        postgres = builder.start();
        awaitReady("jdbc:postgresql://127.0.0.1:" + pgPort + "/postgres");

        server = ToxiproxyServer.start();
        proxy = new ToxiproxyClient(server.host(), server.port())
                .createProxy("pg", "127.0.0.1:0", "127.0.0.1:" + pgPort);
    }

    @AfterAll
    static void stopEverything() throws Exception {
        if (server != null) {
            server.stop();
        }
        if (postgres != null) {
            postgres.destroy(); // SIGTERM to the postgres PID itself: a smart shutdown
            if (!postgres.waitFor(15, TimeUnit.SECONDS)) {
                postgres.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
        if (dataRoot != null) {
            try (Stream<Path> paths = Files.walk(dataRoot)) {
                paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
            }
        }
    }

    private static List<String> asPostgres(boolean exec, String... command) {
        List<String> full = new ArrayList<>();
        if (ROOT) {
            if (exec) {
                // setpriv execs postgres in place, so the Process's PID is the postmaster's.
                full.addAll(List.of("setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--reset-env"));
            } else {
                full.addAll(List.of("runuser", "-u", "postgres", "--"));
            }
        }
        full.addAll(Arrays.asList(command));
        return full;
    }

    private static void run(List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getOutputStream().close();
        byte[] output = process.getInputStream().readAllBytes();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException(command + " timed out");
        }
        if (process.exitValue() != 0) {
            throw new IllegalStateException(command + " failed: " + new String(output));
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static void awaitReady(String url) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        SQLException last = null;
        while (System.nanoTime() < deadline) {
            if (!postgres.isAlive()) {
                throw new IllegalStateException("postgres exited: "
                        + Files.readString(dataRoot.resolve("postgres.log")));
            }
            try (Connection connection = connect(url)) {
                return;
            } catch (SQLException e) {
                last = e;
                Thread.sleep(100);
            }
        }
        throw new IllegalStateException("postgres not ready in 30 s", last);
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
