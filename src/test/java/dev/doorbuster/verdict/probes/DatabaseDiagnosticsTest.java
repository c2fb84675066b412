package dev.doorbuster.verdict.probes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.stream.Stream;

import dev.doorbuster.postgres.PgCluster;
import dev.doorbuster.postgres.PgNode;
import dev.doorbuster.topology.DiagnosticTarget;
import dev.doorbuster.verdict.Verdict;
import dev.doorbuster.verdict.probes.DatabaseSnapshot.Section;
import dev.doorbuster.verdict.report.DatabaseReport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Database diagnostics on real PostgreSQL: what a snapshot shows, the run's difference, and what it says when it cannot. */
class DatabaseDiagnosticsTest {
    private static final String DB = "shop";
    private static PgCluster cluster;

    @TempDir
    Path dir;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = PgCluster.builder().replicas(1).setting("shared_preload_libraries", "pg_stat_statements").start();
        cluster.primary().execute("CREATE DATABASE " + DB);
        try (Connection c = connect(cluster.primary()); Statement s = c.createStatement()) {
            s.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
            s.execute("CREATE TABLE diag_items (id int PRIMARY KEY, label text NOT NULL)");
            s.execute("INSERT INTO diag_items SELECT g, 'item ' || g FROM generate_series(1, 2000) g");
        }
        cluster.awaitCaughtUp(cluster.replicas().get(0), Duration.ofSeconds(30));
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void beforeAndAfterShowWhatTheDatabaseDidDuringTheRun() throws Exception {
        PgNode primary = cluster.primary();
        PgNode replica = cluster.replicas().get(0);
        List<DiagnosticTarget> targets = List.of(target(primary, "primary"), target(replica, "replica"));
        List<DatabaseSnapshot> before = DatabaseDiagnostics.snapshot(targets);

        try (Connection c = connect(primary); PreparedStatement p = c.prepareStatement(
                "SELECT count(*) FROM diag_items WHERE id > ?")) {
            for (int i = 0; i < 7; i++) {
                p.setInt(1, i * 100);
                try (ResultSet r = p.executeQuery()) {
                    assertTrue(r.next());
                }
            }
            try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(
                    "SELECT pg_sleep(0.2) AS \"<script>alert(1)</script>\"")) {
                assertTrue(r.next());
            }
        }
        try (Connection sleeper = connect(primary)) {
            CompletableFuture<Void> sleeping = CompletableFuture.runAsync(() -> {
                try (Statement s = sleeper.createStatement()) {
                    s.execute("SELECT pg_sleep(3)");
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            awaitSleeping(primary);
            List<DatabaseSnapshot> after = DatabaseDiagnostics.snapshot(targets);
            sleeping.get();

            for (DatabaseSnapshot s : Stream.concat(before.stream(), after.stream()).toList()) {
                System.out.println("snapshot of " + s.node() + " took " + s.tookMillis() + " ms");
                assertTrue(s.tookMillis() < 3000, s.node() + " took " + s.tookMillis() + " ms");
            }
            DatabaseSnapshot primaryAfter = after.get(0);
            DatabaseSnapshot replicaAfter = after.get(1);
            assertEquals("primary", primaryAfter.role());
            assertEquals("replica", replicaAfter.role());

            DatabaseReport report = DatabaseDiagnostics.compare(before, after);
            assertEquals(2, report.nodes().size());
            DatabaseReport.RunTotals run = report.nodes().get(0).run();
            DatabaseSnapshot.Statement counted = value(run.topByTotal()).stream()
                    .filter(s -> s.query().contains("FROM diag_items WHERE id >")).findFirst()
                    .orElseThrow(() -> new AssertionError("not in the run's top statements: " + run.topByTotal()));
            assertEquals(7, counted.calls(), "the calls made during the run only");
            assertEquals(7, counted.rows(), "count(*): one row per call");
            assertFalse(value(run.topByMean()).isEmpty());
            assertTrue(Stream.concat(value(run.topByTotal()).stream(), value(report.nodes().get(1).run().topByTotal())
                    .stream()).noneMatch(s -> s.query().contains("pg_stat_") || s.query().contains("statement_timeout")),
                    "the harness's own diagnostic statements are left out: " + run.topByTotal());

            for (Section<DatabaseSnapshot.CacheHits> cache : List.of(before.get(0).cache(), primaryAfter.cache(),
                    run.cache())) {
                double ratio = value(cache).ratio();
                assertTrue(ratio >= 0 && ratio <= 1, "hit ratio " + ratio);
            }
            assertTrue(value(run.cache()).hit() > 0, "the run touched diag_items' blocks");

            assertFalse(value(primaryAfter.connectionsByState()).isEmpty());
            assertTrue(value(primaryAfter.connectionsByState()).stream().anyMatch(c -> c.key().equals("active")),
                    "the sleeping query is active: " + primaryAfter.connectionsByState());
            assertFalse(value(primaryAfter.connectionsByApplication()).isEmpty());

            DatabaseSnapshot.RunningQuery sleeping0 = value(primaryAfter.longestRunning()).stream()
                    .filter(q -> q.query().contains("pg_sleep(3)")).findFirst()
                    .orElseThrow(() -> new AssertionError("pg_sleep not shown: " + primaryAfter.longestRunning()));
            assertTrue(sleeping0.seconds() > 0 && sleeping0.seconds() < 3.5, "running for " + sleeping0.seconds());
            assertEquals("active", sleeping0.state());

            assertTrue(value(primaryAfter.tables()).stream().anyMatch(t -> t.table().equals("public.diag_items")
                    && t.totalBytes() > 0 && t.indexBytes() > 0), "tables: " + primaryAfter.tables());

            DatabaseSnapshot.Standby standby = value(primaryAfter.replication()).standbys().stream()
                    .filter(s -> s.name().equals(replica.name())).findFirst().orElseThrow();
            assertEquals("streaming", standby.state());
            assertNotNull(standby.replayLsn());
            DatabaseSnapshot.Receiver receiver = value(replicaAfter.replication()).receiver();
            assertEquals("streaming", receiver.status());
            assertNotNull(receiver.replayedLsn());
            assertTrue(value(replicaAfter.replication()).standbys().isEmpty(), "a replica lists no standby");

            // verdict.json keeps it, and reads it back
            Verdict verdict = Verdict.of("TestSimulation", "local", "2026-11-27T00:00:00Z", 1, List.of(), 0, 0, null,
                    null, null, List.of()).withDatabase(report);
            verdict.writeJson(dir.resolve(Verdict.JSON_FILE));
            assertEquals(report, Verdict.readJson(dir.resolve(Verdict.JSON_FILE)).database());

            // chaos.html's section: every topic, query text escaped
            StringBuilder html = new StringBuilder();
            DatabaseReport.appendHtml(html, report);
            String page = html.toString();
            java.nio.file.Files.writeString(Path.of("target", "database-section.html"), page);
            for (String expected : List.of("<h2>Database</h2>", "pg1 (primary)", "pg2 (replica)", "by total time",
                    "by mean time", "Cache hit ratio", "Connections by state", "Longest-running queries",
                    "public.diag_items", "Replication", "streaming", "pg_sleep(3)")) {
                assertTrue(page.contains(expected), "missing '" + expected + "'");
            }
            assertTrue(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "the query shows, escaped");
            assertFalse(page.contains("<script>"), "no raw markup from a query");
        }
    }

    @Test
    void statisticsResetDuringTheRunCountFromTheReset() throws Exception {
        List<DiagnosticTarget> targets = List.of(target(cluster.primary(), "primary"));
        List<DatabaseSnapshot> before = DatabaseDiagnostics.snapshot(targets);
        try (Connection c = connect(cluster.primary()); Statement s = c.createStatement()) {
            for (int i = 0; i < 3; i++) {
                s.execute("SELECT label FROM diag_items WHERE id = 42");
            }
            s.execute("SELECT pg_stat_statements_reset()");
            for (int i = 0; i < 2; i++) {
                s.execute("SELECT label FROM diag_items WHERE id = 42");
            }
        }
        DatabaseReport report = DatabaseDiagnostics.compare(before, DatabaseDiagnostics.snapshot(targets));
        DatabaseReport.RunTotals run = report.nodes().get(0).run();
        assertTrue(run.note() != null && run.note().contains("afresh"), String.valueOf(run.note()));
        assertEquals(2, value(run.topByTotal()).stream().filter(q -> q.query().contains("FROM diag_items WHERE id ="))
                .findFirst().orElseThrow().calls(), "the calls since the reset");
    }

    @Test
    void aNodeThatIsDownSaysSoInEverySectionAndNothingThrows() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        DiagnosticTarget down = new DiagnosticTarget("pg9", "stopped", "jdbc:postgresql://127.0.0.1:" + port + "/" + DB
                + "?sslmode=disable", "postgres", "");
        DiagnosticTarget nonsense = new DiagnosticTarget("bad", "primary", "jdbc:nonsense://x", "postgres", "");
        List<DatabaseSnapshot> snapshots = DatabaseDiagnostics.snapshot(List.of(down, nonsense));
        assertEquals(2, snapshots.size());
        for (DatabaseSnapshot s : snapshots) {
            for (Section<?> section : sections(s)) {
                assertNull(section.value());
                assertFalse(section.unavailable().isBlank());
            }
        }
        assertTrue(snapshots.get(0).statements().unavailable().contains("refused"),
                snapshots.get(0).statements().unavailable());
        assertEquals("stopped", snapshots.get(0).role());

        // A node up before the load and down after it (mid-failover): the run's columns say why, nothing throws.
        List<DatabaseSnapshot> before = DatabaseDiagnostics.snapshot(List.of(target(cluster.primary(), "primary")));
        DatabaseSnapshot afterDown = DatabaseDiagnostics.take(new DiagnosticTarget(cluster.primary().name(), "stopped",
                down.jdbcUrl(), "postgres", ""));
        DatabaseReport report = DatabaseDiagnostics.compare(before, List.of(afterDown));
        DatabaseReport.RunTotals run = report.nodes().get(0).run();
        assertTrue(run.topByTotal().unavailable().contains("refused"), run.topByTotal().unavailable());
        assertNull(run.cache().value());
        StringBuilder html = new StringBuilder();
        DatabaseReport.appendHtml(html, report);
        assertTrue(html.toString().contains("not available: "), html.toString());
        DatabaseReport.appendHtml(html, DatabaseDiagnostics.compare(null, null));
        DatabaseReport.appendHtml(html, null);
    }

    @Test
    void withoutThePreloadTheStatementsSayWhyAndTheRestIsThere() throws Exception {
        try (PgCluster plain = PgCluster.builder().replicas(0).start()) {
            plain.primary().execute("CREATE DATABASE " + DB);
            try (Connection c = connect(plain.primary()); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE plain_items (id int PRIMARY KEY)");
            }
            DiagnosticTarget target = target(plain.primary(), "primary");
            DatabaseSnapshot missing = DatabaseDiagnostics.take(target);
            String reason = missing.statements().unavailable();
            assertNotNull(reason);
            assertTrue(reason.contains("not installed") && reason.contains("shared_preload_libraries")
                    && reason.contains("CREATE EXTENSION pg_stat_statements"), reason);
            assertTrue(value(missing.cache()).hit() >= 0);
            assertNotNull(value(missing.connectionsByState()));
            assertNotNull(value(missing.connectionsByApplication()));
            assertNotNull(value(missing.longestRunning()));
            assertTrue(value(missing.tables()).stream().anyMatch(t -> t.table().equals("public.plain_items")));
            assertTrue(value(missing.replication()).standbys().isEmpty());
            assertNull(value(missing.replication()).receiver());

            try (Connection c = connect(plain.primary()); Statement s = c.createStatement()) {
                s.execute("CREATE EXTENSION pg_stat_statements");
            }
            String notLoaded = DatabaseDiagnostics.take(target).statements().unavailable();
            assertTrue(notLoaded.contains("not loaded") && notLoaded.contains("restart"), notLoaded);

            DatabaseReport report = DatabaseDiagnostics.compare(List.of(missing), List.of(missing));
            assertTrue(report.nodes().get(0).run().topByTotal().unavailable().contains("not installed"));
            assertNotNull(report.nodes().get(0).run().cache().value());
        }
    }

    private static List<Section<?>> sections(DatabaseSnapshot s) {
        return List.of(s.statements(), s.cache(), s.connectionsByState(), s.connectionsByApplication(),
                s.longestRunning(), s.tables(), s.replication());
    }

    private static <T> T value(Section<T> section) {
        assertNotNull(section.value(), () -> "not available: " + section.unavailable());
        return section.value();
    }

    private static DiagnosticTarget target(PgNode node, String role) {
        return new DiagnosticTarget(node.name(), role, "jdbc:postgresql://127.0.0.1:" + node.port() + "/" + DB
                + "?sslmode=disable", "postgres", "");
    }

    private static Connection connect(PgNode node) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + node.port() + "/" + DB
                + "?user=postgres&sslmode=disable&connectTimeout=5&socketTimeout=30");
    }

    private static void awaitSleeping(PgNode node) throws InterruptedException {
        Function<PgNode, Long> sleeping = n -> n.queryValue("SELECT count(*) FROM pg_stat_activity WHERE query = "
                + "'SELECT pg_sleep(3)' AND state = 'active'", Long.class);
        long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        while (sleeping.apply(node) == 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        Thread.sleep(100);
    }
}
