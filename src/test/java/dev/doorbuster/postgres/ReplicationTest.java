package dev.doorbuster.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A primary streaming to a replica: data flows, the replica is read-only, probes agree. */
class ReplicationTest {
    private static PgCluster cluster;

    @BeforeAll
    static void startCluster() {
        cluster = PgCluster.builder().replicas(1).start();
        cluster.primary().execute("CREATE TABLE items (id int PRIMARY KEY, label text NOT NULL)");
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void rowWrittenOnPrimaryIsReadableOnReplica() {
        PgNode replica = cluster.replicas().get(0);
        cluster.primary().execute("INSERT INTO items VALUES (?, ?)", 1, "written on the primary");
        // The table itself may not have reached the replica yet: querying it then fails instead of counting 0.
        Await.until("row 1 on the replica", Duration.ofSeconds(10),
                () -> replica.queryValue("SELECT to_regclass('items') IS NOT NULL", Boolean.class)
                        && replica.queryValue("SELECT count(*) FROM items WHERE id = 1", Long.class) == 1L);
        assertEquals("written on the primary", replica.queryValue("SELECT label FROM items WHERE id = ?", String.class, 1));
    }

    @Test
    void replicaRejectsWrites() {
        PgNode replica = cluster.replicas().get(0);
        Await.until("table on the replica", Duration.ofSeconds(10),
                () -> replica.queryValue("SELECT to_regclass('items') IS NOT NULL", Boolean.class));
        PgException e = assertThrows(PgException.class,
                () -> replica.execute("INSERT INTO items VALUES (?, ?)", 2, "must fail"));
        assertTrue(e.getMessage().contains("25006"), "read-only transaction SQLState expected: " + e.getMessage());
    }

    @Test
    void rolesAndStreamingStateAreReported() {
        PgNode replica = cluster.replicas().get(0);
        assertFalse(cluster.primary().isInRecovery());
        assertTrue(replica.isInRecovery());
        assertEquals("streaming", cluster.receiverStatus(replica));
        ReplicationStat stat = cluster.replicationStat(replica).orElseThrow();
        assertTrue(stat.streaming(), "state " + stat.state());
        assertEquals("async", stat.syncState());
        assertEquals(replica.name(), stat.applicationName());
    }

    @Test
    void lagIsZeroOnceCaughtUp() {
        PgNode replica = cluster.replicas().get(0);
        cluster.primary().execute("INSERT INTO items VALUES (?, ?)", 3, "catch me up");
        cluster.awaitCaughtUp(replica, Duration.ofSeconds(10));
        Await.until("zero lag", Duration.ofSeconds(10), () -> cluster.lag(replica).caughtUp());
        assertEquals(Lag.NONE, cluster.lag(replica));
    }
}
