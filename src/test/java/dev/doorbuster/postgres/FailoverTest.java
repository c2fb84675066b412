package dev.doorbuster.postgres;

import dev.doorbuster.process.DoorbusterHome;
import dev.doorbuster.process.ProcessRegistry;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

/** Promotion, fencing of the old primary, rejoin by re-cloning, and a client that follows the failover. */
class FailoverTest {
    @Test
    void crashedPrimaryIsFencedReplicaTakesWritesAndOldPrimaryRejoinsAsStreamingReplica() {
        try (PgCluster cluster = PgCluster.builder().replicas(1).start()) {
            PgNode pg1 = cluster.primary();
            PgNode pg2 = cluster.replicas().get(0);
            pg1.execute("CREATE TABLE orders (id int PRIMARY KEY)");
            pg1.execute("INSERT INTO orders VALUES (1)");
            cluster.awaitCaughtUp(pg2, Duration.ofSeconds(10));

            pg1.kill();
            assertFalse(pg1.isRunning());
            assertSame(pg2, cluster.promote(pg2));

            assertSame(pg2, cluster.primary());
            assertFalse(pg2.isInRecovery());
            assertEquals(1, pg2.execute("INSERT INTO orders VALUES (2)"), "the promoted node accepts writes");
            assertTrue(pg1.isFenced());
            PgException refused = assertThrows(PgException.class, pg1::start);
            assertTrue(refused.getMessage().contains("fenced"), refused.getMessage());
            assertFalse(pg1.isRunning(), "a fenced node never starts as a second primary");
            assertTrue(cluster.replicas().isEmpty());

            cluster.rejoin(pg1);
            assertFalse(pg1.isFenced());
            assertEquals(List.of(pg1), cluster.replicas());
            assertTrue(pg1.isInRecovery(), "rejoined as a standby");
            assertTrue(cluster.replicationStat(pg1).orElseThrow().streaming());
            pg2.execute("INSERT INTO orders VALUES (3)");
            cluster.awaitCaughtUp(pg1, Duration.ofSeconds(10));
            assertEquals(List.of(1, 2, 3), pg1.query("SELECT id FROM orders ORDER BY id", r -> r.getInt(1)));
            assertThrows(PgException.class, () -> pg1.execute("INSERT INTO orders VALUES (4)"));
        }
    }

    @Test
    void promotingWhileTheOldPrimaryStillRunsStopsItSoThereIsNoSplitBrain() {
        try (PgCluster cluster = PgCluster.builder().replicas(1).start()) {
            PgNode pg1 = cluster.primary();
            long oldPid = pg1.pid();
            cluster.promote(cluster.replicas().get(0));
            assertFalse(pg1.isRunning());
            assertFalse(ProcessHandle.of(oldPid).map(h -> h.isAlive() && !ProcessRegistry.isZombie(oldPid)).orElse(false));
        }
    }

    @Test
    void otherReplicasFollowTheNewPrimary() {
        try (PgCluster cluster = PgCluster.builder().replicas(2).start()) {
            PgNode pg2 = cluster.node("pg2");
            PgNode pg3 = cluster.node("pg3");
            cluster.primary().execute("CREATE TABLE t (id int)");
            cluster.awaitCaughtUp(pg2, Duration.ofSeconds(10));
            cluster.awaitCaughtUp(pg3, Duration.ofSeconds(10));

            cluster.primary().kill();
            cluster.promote(pg2);
            pg2.execute("INSERT INTO t VALUES (42)");
            cluster.awaitStreaming(pg3, Duration.ofSeconds(20));
            cluster.awaitCaughtUp(pg3, Duration.ofSeconds(10));
            assertEquals(42, pg3.queryValue("SELECT id FROM t", Integer.class));
        }
    }

    @Test
    void writerUrlListingAllNodesFollowsTheFailover() throws SQLException {
        try (PgCluster cluster = PgCluster.builder().replicas(1).start()) {
            PgNode pg2 = cluster.replicas().get(0);
            String url = cluster.writerJdbcUrl("postgres");
            try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE t (id int)");
                assertEquals(cluster.primary().port(), serverPort(s));
            }
            cluster.primary().kill();
            cluster.promote(pg2);
            try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
                assertEquals(1, s.executeUpdate("INSERT INTO t VALUES (1)"));
                assertEquals(pg2.port(), serverPort(s), "the writer URL reached the promoted node");
            }
        }
    }

    private static int serverPort(Statement s) throws SQLException {
        try (var rows = s.executeQuery("SELECT inet_server_port()")) {
            rows.next();
            return rows.getInt(1);
        }
    }
}
