package dev.doorbuster.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

/**
 * The replication link runs through a forwarder the test can cut: while it is cut and writes go on,
 * the measured lag (bytes) grows; once it heals, the replica catches up and lag returns to 0.
 */
class ReplicationLagTest {
    @Test
    void lagGrowsWhileTheLinkIsCutAndReturnsToZeroAfterItHeals() throws Exception {
        AtomicReference<TcpForwarder> link = new AtomicReference<>();
        try (PgCluster cluster = PgCluster.builder().replicas(1).replicationRoute((replica, primary) -> {
            try {
                link.set(new TcpForwarder(primary.address()));
                return link.get().address();
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
        }).start(); TcpForwarder forwarder = link.get()) {
            PgNode primary = cluster.primary();
            PgNode replica = cluster.replicas().get(0);
            assertEquals(forwarder.address().getPort(),
                    Integer.parseInt(replica.queryValue("SELECT setting FROM pg_settings WHERE name = 'primary_conninfo'",
                            String.class).replaceAll(".*port=(\\d+).*", "$1")), "replica streams through the forwarder");
            primary.execute("CREATE TABLE events (id bigserial PRIMARY KEY, payload text)");
            cluster.awaitCaughtUp(replica, Duration.ofSeconds(10));

            forwarder.stop();
            Await.until("receiver to notice the cut", Duration.ofSeconds(15),
                    () -> !cluster.receiverStatus(replica).equals("streaming"));
            primary.execute("INSERT INTO events (payload) SELECT repeat('x', 200) FROM generate_series(1, 1000)");
            long first = cluster.lag(replica).bytes();
            primary.execute("INSERT INTO events (payload) SELECT repeat('x', 200) FROM generate_series(1, 1000)");
            Lag second = cluster.lag(replica);
            assertTrue(first > 100_000, "lag after 1000 rows should exceed 100 kB, was " + first);
            assertTrue(second.bytes() > first, "lag must grow while writes continue: " + first + " then " + second.bytes());
            assertTrue(second.time().compareTo(Duration.ZERO) > 0, "time lag while behind: " + second.time());
            assertTrue(cluster.replicationStat(replica).isEmpty(), "primary no longer lists the cut replica");
            assertEquals(0L, replica.queryValue("SELECT count(*) FROM events", Long.class), "replica saw no new rows");

            forwarder.start();
            Await.until("lag back to 0 after healing", Duration.ofSeconds(20), () -> cluster.lag(replica).caughtUp());
            assertEquals(2000L, replica.queryValue("SELECT count(*) FROM events", Long.class));
            Await.until("streaming again", Duration.ofSeconds(10),
                    () -> cluster.replicationStat(replica).map(ReplicationStat::streaming).orElse(false));
        }
    }
}
