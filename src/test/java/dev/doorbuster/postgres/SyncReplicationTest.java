package dev.doorbuster.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

import org.junit.jupiter.api.Test;

/**
 * Read-after-write on a replica: asynchronous replication misses immediate reads (the control that
 * shows the check can fail); {@code remote_apply} never does.
 */
class SyncReplicationTest {
    private static final int WRITES = 200;

    @Test
    void remoteApplyMakesEveryImmediateReadOnTheReplicaSeeTheCommit() throws SQLException {
        try (PgCluster cluster = PgCluster.builder().replicas(1).syncMode(SyncMode.OFF).start()) {
            PgNode replica = cluster.replicas().get(0);
            cluster.primary().execute("CREATE TABLE writes (id int PRIMARY KEY)");
            cluster.awaitCaughtUp(replica, java.time.Duration.ofSeconds(10));

            int asyncMisses = writeThenReadOnReplica(cluster, 0);
            assertTrue(asyncMisses > 0, "asynchronous replication should miss some immediate reads (control)");

            cluster.syncMode(SyncMode.REMOTE_APPLY);
            assertEquals("sync", cluster.replicationStat(replica).orElseThrow().syncState());
            assertEquals("remote_apply", cluster.primary().queryValue("SHOW synchronous_commit", String.class));
            assertEquals(0, writeThenReadOnReplica(cluster, WRITES), "remote_apply: no read may miss its write");
        }
    }

    @Test
    void synchronousOnReportsTheStandbyAsSync() {
        try (PgCluster cluster = PgCluster.builder().replicas(1).syncMode(SyncMode.ON).start()) {
            assertEquals("sync", cluster.replicationStat(cluster.replicas().get(0)).orElseThrow().syncState());
            assertEquals("on", cluster.primary().queryValue("SHOW synchronous_commit", String.class));
            cluster.primary().execute("CREATE TABLE t (id int)");
            assertEquals(1, cluster.primary().execute("INSERT INTO t VALUES (1)"), "commits complete with a sync standby");
        }
    }

    /** Inserts rows on the primary, each read at once on the replica; returns how many reads missed. */
    private static int writeThenReadOnReplica(PgCluster cluster, int firstId) throws SQLException {
        int misses = 0;
        try (Connection primary = cluster.primary().connect();
             Connection replica = cluster.replicas().get(0).connect();
             PreparedStatement insert = primary.prepareStatement("INSERT INTO writes VALUES (?)");
             PreparedStatement read = replica.prepareStatement("SELECT 1 FROM writes WHERE id = ?")) {
            for (int id = firstId; id < firstId + WRITES; id++) {
                insert.setInt(1, id);
                insert.executeUpdate();
                read.setInt(1, id);
                try (ResultSet rows = read.executeQuery()) {
                    if (!rows.next()) {
                        misses++;
                    }
                }
            }
        }
        return misses;
    }
}
