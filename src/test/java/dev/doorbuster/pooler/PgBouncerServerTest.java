package dev.doorbuster.pooler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import dev.doorbuster.postgres.PgCluster;
import dev.doorbuster.postgres.PgNode;
import dev.doorbuster.process.DoorbusterHome;
import dev.doorbuster.process.ProcessRegistry;
import dev.doorbuster.process.ServerUser;
import dev.doorbuster.tools.Required;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A real pgbouncer in front of a real primary and replica, as a run starts it: on loopback, as the servers' user
 * (PgBouncer refuses root), recognisable by the process registry, and steered through its admin console. What each
 * test counts is the database's own view ({@code pg_stat_activity}, {@code pg_is_in_recovery()}) or what the client
 * saw, never the pooler's word alone.
 */
class PgBouncerServerTest {
    private static final String DATABASE = "postgres";
    private static final String ALIAS = "primary";
    private static PgCluster cluster;
    private Path scratch;

    @BeforeAll
    static void startCluster() {
        Required.assume(PgBouncerBinary.available(), PgBouncerBinary.missingMessage());
        cluster = PgCluster.builder().replicas(1).start();
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @BeforeEach
    void scratch() throws Exception {
        // Under the Doorbuster home, which the servers' user can reach (a @TempDir under /tmp is root's alone).
        scratch = Files.createDirectories(DoorbusterHome.get().resolve("pgbouncer-test-" + UUID.randomUUID()));
    }

    @AfterEach
    void removeScratch() throws Exception {
        if (scratch != null) {
            try (Stream<Path> tree = Files.walk(scratch)) {
                tree.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private PgBouncerServer start(PoolMode mode, int poolSize) {
        return PgBouncerServer.start("pooler", PgBouncerBinary.resolve(), ServerUser.detect(), "postgres",
                scratch.resolve("pgbouncer"), null, new PgBouncerConfig(mode, 100, poolSize,
                        Map.of(ALIAS, new PgBouncerConfig.Target(cluster.primary().address(), DATABASE))));
    }

    private static Connection client(PgBouncerServer pooler, String extra) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + pooler.address().getPort() + "/" + ALIAS
                + "?user=postgres&connectTimeout=5&socketTimeout=30&ApplicationName=pooled" + extra);
    }

    /** Server connections the primary holds for the pooled clients, by its own {@code pg_stat_activity}. */
    private static long serverConnections(PgBouncerServer pooler) {
        return cluster.primary().queryValue("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
                + " AND datname = ? AND client_port IS NOT NULL AND pid <> pg_backend_pid()", Long.class, DATABASE);
    }

    @Test
    void runsOnLoopbackAsTheServerUserAndStopsByPid() throws Exception {
        ServerUser user = ServerUser.detect();
        PgBouncerServer pooler = start(PoolMode.SESSION, 5);
        try {
            assertEquals("127.0.0.1", pooler.address().getHostString());
            long pid = ProcessHandle.allProcesses().filter(p -> ProcessRegistry.matches(p.pid(), List.of(
                    PgBouncerBinary.resolve().path().toString(), scratch.resolve("pgbouncer").resolve("pgbouncer.ini")
                            .toString()))).mapToLong(ProcessHandle::pid).findFirst().orElseThrow();
            if (user.switchesUser()) {
                int uid = (Integer) Files.getAttribute(Path.of("/proc", Long.toString(pid)), "unix:uid");
                assertNotEquals(0, uid, "pgbouncer must not run as root");
            }
            try (Connection c = client(pooler, ""); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT 41 + 1")) {
                assertTrue(rs.next());
                assertEquals(42, rs.getInt(1), "a query answered through the pooler");
            }
            assertTrue(pooler.version().startsWith("1."), pooler.version());
            pooler.close();
            assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "stopped by its PID");
            assertFalse(pooler.isRunning());
        } finally {
            pooler.close();
        }
    }

    @Test
    void transactionModeServesManyClientsWithNoMoreServerConnectionsThanThePool() throws Exception {
        int clients = 12;
        int poolSize = 3;
        try (PgBouncerServer pooler = start(PoolMode.TRANSACTION, poolSize)) {
            ExecutorService threads = Executors.newFixedThreadPool(clients);
            AtomicInteger answered = new AtomicInteger();
            List<Future<?>> running = new ArrayList<>();
            long mostSeen = 0;
            int mostWaiting = 0;
            try {
                for (int i = 0; i < clients; i++) {
                    running.add(threads.submit(() -> {
                        try (Connection c = client(pooler, "&prepareThreshold=0"); Statement s = c.createStatement()) {
                            for (int q = 0; q < 5; q++) {
                                s.execute("SELECT pg_sleep(0.1)");
                            }
                            answered.incrementAndGet();
                        }
                        return null;
                    }));
                }
                while (running.stream().anyMatch(f -> !f.isDone())) {
                    mostSeen = Math.max(mostSeen, serverConnections(pooler));
                    mostWaiting = Math.max(mostWaiting, pooler.pools().stream()
                            .mapToInt(PgBouncerServer.Pool::clientsWaiting).sum());
                    Thread.sleep(20);
                }
                for (Future<?> f : running) {
                    f.get();
                }
            } finally {
                threads.shutdownNow();
            }
            assertEquals(clients, answered.get(), "every client's queries answered");
            assertTrue(mostSeen > 0 && mostSeen <= poolSize, "the primary held at most the pool's " + poolSize
                    + " server connections for " + clients + " clients (pg_stat_activity): " + mostSeen);
            assertTrue(mostWaiting > 0, "clients queued at the pooler for a server connection (SHOW POOLS)");
            PgBouncerServer.Stats stats = pooler.stats().stream().filter(s -> s.database().equals(ALIAS)).findFirst()
                    .orElseThrow();
            assertTrue(stats.queries() >= clients * 5L, "SHOW STATS counts the queries: " + stats);
        }
    }

    /**
     * PgJDBC names a statement on the server after its fifth execution; in transaction mode the next transaction may
     * be given another server connection, which has no such statement (Debian's PgBouncer 1.18 does not carry
     * prepared statements across). Which connection it gets is the pooler's choice: the second client takes the
     * server connection the first prepared on (PgBouncer reuses the last one released), so the first one's next
     * execution lands on a fresh one.
     */
    @Test
    void transactionModeBreaksTheDriversServerSidePreparedStatementsUnlessTheyAreOff() throws Exception {
        try (PgBouncerServer pooler = start(PoolMode.TRANSACTION, 2)) {
            SQLException broken = assertThrows(SQLException.class, () -> preparedThenMoved(pooler, ""));
            assertTrue("26000".equals(broken.getSQLState()) || "42P05".equals(broken.getSQLState()), "a prepared statement missing (26000) "
                    + "or already there (42P05) on the server: " + broken.getSQLState() + " " + broken.getMessage());
            assertEquals(6, preparedThenMoved(pooler, "&prepareThreshold=0"), "with the driver's setting, every "
                    + "execution answered");
        }
    }

    /** Executes one prepared statement 5 times, lets another client hold that server connection, then once more. */
    private static int preparedThenMoved(PgBouncerServer pooler, String extra) throws Exception {
        try (Connection first = client(pooler, extra); Connection second = client(pooler, extra);
             PreparedStatement select = first.prepareStatement("SELECT ?::int + 1")) {
            int answered = 0;
            for (int i = 0; i < 5; i++) {
                select.setInt(1, i);
                try (ResultSet rs = select.executeQuery()) {
                    answered += rs.next() ? 1 : 0;
                }
            }
            second.setAutoCommit(false);
            try (Statement s = second.createStatement()) {
                s.execute("SELECT 1"); // holds a server connection until the rollback
                select.setInt(1, 5);
                try (ResultSet rs = select.executeQuery()) {
                    answered += rs.next() ? 1 : 0;
                }
            } finally {
                second.rollback();
            }
            return answered;
        }
    }

    @Test
    void aPauseHoldsQueriesUntilTheResumeAndTheClientsStayConnected() throws Exception {
        try (PgBouncerServer pooler = start(PoolMode.TRANSACTION, 2); Connection c = client(pooler,
                "&prepareThreshold=0")) {
            pooler.pause(ALIAS);
            CompletableFuture<Integer> held = CompletableFuture.supplyAsync(() -> {
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 7")) {
                    rs.next();
                    return rs.getInt(1);
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThrows(TimeoutException.class, () -> held.get(700, TimeUnit.MILLISECONDS),
                    "the query waits while the pooler is paused");
            assertTrue(pooler.pools().stream().anyMatch(p -> p.database().equals(ALIAS) && p.clientsWaiting() == 1),
                    "SHOW POOLS shows the client waiting: " + pooler.pools());
            pooler.resume(ALIAS);
            assertEquals(7, held.get(10, TimeUnit.SECONDS), "answered after the resume, on the same connection");
            // After a PAUSE that may or may not have taken hold, resuming a resumed alias is no failure, and says so.
            assertFalse(pooler.resumeIfPaused(ALIAS), "not paused any more");
            PoolerException strict = assertThrows(PoolerException.class, () -> pooler.resume(ALIAS));
            assertTrue(strict.getMessage().contains(ALIAS + " is not paused"), strict.getMessage());
            pooler.pause(ALIAS);
            assertTrue(pooler.resumeIfPaused(ALIAS), "paused: resumed");
        }
    }

    @Test
    void aRepointedAliasGoesToTheNewServerForTheNextTransaction() throws Exception {
        PgNode replica = cluster.replicas().get(0);
        try (PgBouncerServer pooler = start(PoolMode.TRANSACTION, 2); Connection c = client(pooler,
                "&prepareThreshold=0")) {
            assertFalse(inRecovery(c), "first on the primary");
            pooler.repoint(ALIAS, replica.address());
            assertTrue(inRecovery(c), "after RELOAD, the same client's next transaction is served by the replica");
            assertEquals(replica.address(), pooler.config().databases().get(ALIAS).server());
        }
    }

    @Test
    void aRestartCutsTheClientsAndTheyCanConnectAgainOnTheSameAddress() throws Exception {
        try (PgBouncerServer pooler = start(PoolMode.SESSION, 2)) {
            var before = pooler.address();
            try (Connection c = client(pooler, "")) {
                assertFalse(inRecovery(c));
                pooler.restart();
                assertThrows(SQLException.class, () -> inRecovery(c), "the connection was cut by the restart");
            }
            assertEquals(before, pooler.address());
            try (Connection again = client(pooler, "")) {
                assertFalse(inRecovery(again), "a new connection works at once");
            }
        }
    }

    @Test
    void aMissingBinaryIsRefusedNamingThePackageAndTheProperty() {
        String saved = System.getProperty(PgBouncerBinary.PROPERTY);
        System.setProperty(PgBouncerBinary.PROPERTY, scratch.resolve("no-such-pgbouncer").toString());
        try {
            PoolerException e = assertThrows(PoolerException.class, PgBouncerBinary::resolve);
            assertTrue(e.getMessage().contains("-D" + PgBouncerBinary.PROPERTY + "=") && e.getMessage().contains(
                    "pgbouncer package"), e.getMessage());
        } finally {
            if (saved == null) {
                System.clearProperty(PgBouncerBinary.PROPERTY);
            } else {
                System.setProperty(PgBouncerBinary.PROPERTY, saved);
            }
        }
    }

    @Test
    void badSettingsAreRefusedBeforeAnythingStarts() {
        var target = Map.of(ALIAS, new PgBouncerConfig.Target(cluster.primary().address(), DATABASE));
        assertThrows(IllegalArgumentException.class, () -> new PgBouncerConfig(PoolMode.SESSION, 0, 5, target));
        assertThrows(IllegalArgumentException.class, () -> new PgBouncerConfig(PoolMode.SESSION, 10, 0, target));
        assertThrows(IllegalArgumentException.class, () -> new PgBouncerConfig(PoolMode.SESSION, 10, 5, Map.of()));
        IllegalArgumentException admin = assertThrows(IllegalArgumentException.class, () -> new PgBouncerConfig(
                PoolMode.SESSION, 10, 5, Map.of("pgbouncer", target.get(ALIAS))));
        assertTrue(admin.getMessage().contains("admin console"), admin.getMessage());
        IllegalArgumentException dropped = assertThrows(IllegalArgumentException.class, () -> new PgBouncerConfig(
                PoolMode.TRANSACTION, 10, 5, target, List.of(PgBouncerConfig.OPTIONS), Map.of()));
        assertTrue(dropped.getMessage().contains("serverSettings"), dropped.getMessage());
        IllegalArgumentException injected = assertThrows(IllegalArgumentException.class, () -> new PgBouncerConfig(
                PoolMode.TRANSACTION, 10, 5, target, null, Map.of("statement_timeout", "1'; DROP TABLE x")));
        assertTrue(injected.getMessage().contains("plain value"), injected.getMessage());
        try (PgBouncerServer pooler = start(PoolMode.SESSION, 2)) {
            PoolerException unknown = assertThrows(PoolerException.class, () -> pooler.pause("replica"));
            assertTrue(unknown.getMessage().contains("serves no database 'replica'"), unknown.getMessage());
        }
    }

    private static boolean inRecovery(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_is_in_recovery()")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }
}
