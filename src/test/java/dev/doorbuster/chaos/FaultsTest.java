package dev.doorbuster.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Properties;

import dev.doorbuster.postgres.PgCluster;
import dev.doorbuster.postgres.PgNode;
import dev.doorbuster.topology.Environment;
import dev.doorbuster.topology.EnvironmentLoader;
import dev.doorbuster.topology.LocalTopology;
import eu.rekawek.toxiproxy.ToxiproxyClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Each fault on the real local topology (PostgreSQL primary + replica, embedded proxy, storefront JVM),
 * checked where it acts: on the proxied links, on the replication stream, on the cluster. The failover
 * runs last: it changes the roles.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FaultsTest {
    private static LocalTopology topology;
    private static ChaosContext context;
    private static ToxiproxyClient toxiproxy;
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    /** The topology's own folder (its processes' logs), removed after the class. */
    @TempDir
    static Path work;

    @BeforeAll
    static void startTopology() throws IOException {
        Properties small = new Properties();
        small.setProperty("app.seedUsers", "2000");
        small.setProperty("app.seedProducts", "500");
        small.setProperty("postgres.synchronousCommit", "off");
        Environment env = new EnvironmentLoader(Path.of("environments"), small).load("local");
        topology = LocalTopology.start(env, work);
        context = new ChaosContext(topology, new FaultTimeline(System.nanoTime()), new WriteProbe(topology.appUrl()));
        toxiproxy = new ToxiproxyClient(topology.toxiproxyUrl().getHost(), topology.toxiproxyUrl().getPort());
    }

    @AfterAll
    static void stopTopology() {
        if (topology != null) {
            topology.close();
        }
    }

    @AfterEach
    void everyLinkIsCleanAgain() throws IOException {
        for (var proxy : toxiproxy.getProxies()) {
            assertTrue(proxy.isEnabled(), proxy.getName() + " left disabled");
            assertEquals(List.of(), proxy.toxics().getAll().stream().map(t -> t.getName()).toList(),
                    proxy.getName() + " left with toxics");
        }
    }

    @Test
    @Order(1)
    void dbLatencySlowsTheApplicationsDatabaseCallsUntilHealed() throws Exception {
        long before = timedWrite();
        Fault fault = new DbLatency(LinkTarget.PRIMARY, 300, 0);
        fault.inject(context.forFault("test"));
        try {
            long slowed = timedWrite();
            assertTrue(slowed >= 300, "a write through a 300 ms link took " + slowed + " ms (before: " + before + " ms)");
        } finally {
            fault.heal(context.forFault("test"));
        }
        assertTrue(timedWrite() < 300, "healed");
    }

    @Test
    @Order(2)
    void proxyDownRefusesConnectionsToTheTargetUntilHealed() throws Exception {
        String replicaLink = topology.links().replicaApp().get(0);
        InetSocketAddress listen = listenOf(replicaLink);
        Fault fault = new ProxyDown(LinkTarget.REPLICAS);
        fault.inject(context.forFault("test"));
        try {
            assertThrows(ConnectException.class, () -> new Socket(listen.getAddress(), listen.getPort()).close());
        } finally {
            fault.heal(context.forFault("test"));
        }
        new Socket(listen.getAddress(), listen.getPort()).close();
    }

    @Test
    @Order(3)
    void connectionResetResetsConnectionsOnTheTargetLink() throws Exception {
        String url = "jdbc:postgresql://" + hostPort(listenOf(topology.links().primaryApp()))
                + "/storefront?user=postgres&sslmode=disable&connectTimeout=2&socketTimeout=5";
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            s.execute("SELECT 1");
            Fault fault = new ConnectionReset(LinkTarget.PRIMARY);
            fault.inject(context.forFault("test"));
            try {
                SQLException e = assertThrows(SQLException.class, () -> s.execute("SELECT 1"));
                assertEquals("08006", e.getSQLState(), "connection failure, not an SQL error: " + e);
            } finally {
                fault.heal(context.forFault("test"));
            }
        }
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            s.execute("SELECT 1");
        }
    }

    @Test
    @Order(4)
    void replicationCutLetsTheReplicaFallBehindWhileWritesContinue() throws Exception {
        PgCluster cluster = topology.cluster().orElseThrow();
        PgNode replica = cluster.replicas().get(0);
        Fault fault = new ReplicationCut();
        fault.inject(context.forFault("test"));
        try {
            for (int i = 0; i < 5; i++) {
                assertEquals(200, write(), "the primary keeps taking writes");
            }
            cluster.primary().execute("SELECT pg_switch_wal()");
            assertTrue(cluster.lag(replica).bytes() > 0, "replica behind while cut: " + cluster.lag(replica));
        } finally {
            fault.heal(context.forFault("test"));
        }
        cluster.awaitCaughtUp(replica, Duration.ofSeconds(20));
    }

    @Test
    @Order(5)
    void replicationLagDelaysTheStreamAndReportsTheLagReached() throws Exception {
        PgCluster cluster = topology.cluster().orElseThrow();
        PgNode replica = cluster.replicas().get(0);
        FaultTimeline timeline = new FaultTimeline(System.nanoTime());
        ChaosContext ctx = new ChaosContext(topology, timeline, context.writeProbe()).forFault("F1 ReplicationLag");
        cluster.primary().execute("CREATE TABLE IF NOT EXISTS lag_probe (id int)");
        cluster.awaitCaughtUp(replica, Duration.ofSeconds(10));
        Fault fault = new ReplicationLag(500, 0, 0);
        fault.inject(ctx);
        try {
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            boolean behind = false;
            while (!behind && System.nanoTime() < deadline) {
                cluster.primary().execute("INSERT INTO lag_probe VALUES (1)");
                behind = replica.queryValue("SELECT count(*) FROM lag_probe", Long.class)
                        < cluster.primary().queryValue("SELECT count(*) FROM lag_probe", Long.class);
            }
            assertTrue(behind, "the replica must miss a just-committed row while the stream is delayed");
            Thread.sleep(600); // let the sampler see the lag
        } finally {
            fault.heal(ctx);
        }
        FaultEffect.LagReached lag = timeline.last(FaultEffect.LagReached.class).orElseThrow();
        assertTrue(lag.bytes() > 0, "lag in bytes is reported: " + lag);
        cluster.awaitCaughtUp(replica, Duration.ofSeconds(20));
    }

    @Test
    @Order(6)
    void runnerInjectsAndHealsOnScheduleAndHealAllEndsWhatIsLeft() throws Exception {
        FaultTimeline timeline = new FaultTimeline(System.nanoTime());
        FaultSchedule schedule = new FaultSchedule()
                .at(Duration.ZERO, new DbLatency(LinkTarget.REPLICAS, 10, 0), Duration.ofMillis(300))
                .at(Duration.ofMillis(100), new ProxyDown(LinkTarget.REPLICAS), null); // until the end
        try (ChaosRunner runner = new ChaosRunner(new ChaosContext(topology, timeline, context.writeProbe()), schedule)) {
            runner.checkAllowed();
            runner.start();
            Thread.sleep(800);
            runner.healAll();
        }
        List<FaultTimeline.Window> windows = timeline.windows();
        assertEquals(2, windows.size(), timeline.events().toString());
        assertEquals("F1 DbLatency", windows.get(0).fault());
        assertTrue(windows.get(0).toSecond() >= 0, "healed on schedule");
        assertEquals("F2 ProxyDown", windows.get(1).fault());
        assertTrue(windows.get(1).toSecond() >= 0, "healed by healAll");
    }

    @Test
    @Order(7)
    void primaryFailoverPromotesTheReplicaMeasuresTheRtoAndRejoinsTheOldPrimary() throws Exception {
        PgCluster cluster = topology.cluster().orElseThrow();
        PgNode oldPrimary = cluster.primary();
        PgNode replica = cluster.replicas().get(0);
        FaultTimeline timeline = new FaultTimeline(System.nanoTime());
        ChaosContext ctx = new ChaosContext(topology, timeline, context.writeProbe()).forFault("F1 PrimaryFailover");
        Fault fault = new PrimaryFailover(true);
        fault.inject(ctx);
        fault.heal(ctx);
        assertEquals(replica, cluster.primary());
        assertEquals(List.of(oldPrimary), cluster.replicas());
        assertTrue(cluster.replicationStat(oldPrimary).orElseThrow().streaming(), "old primary streams again");
        FaultEffect.Rto rto = timeline.last(FaultEffect.Rto.class).orElseThrow();
        assertTrue(rto.recovered(), "recovered: " + rto);
        assertTrue(rto.millis() > 0 && rto.millis() < 15_000, "client-observed RTO " + rto.millis() + " ms");
        assertEquals(replica.name(), topology.links().primaryApp(), "links follow the new roles");
        assertEquals(200, write(), "the application writes to the new primary without a restart");
        assertFalse(timeline.events().stream().anyMatch(e -> e.kind() == FaultTimeline.Kind.ERROR));
    }

    // ---- helpers --------------------------------------------------------------------------------------------

    private static int write() throws IOException, InterruptedException {
        // A bound, not a measurement: the first write of a fresh storefront on a busy machine once took over 10 s
        // (a fast-tier run beside other work); the checks compare medians of writes against the 300 ms link.
        HttpRequest put = HttpRequest.newBuilder(URI.create(topology.appUrl() + "/users/7"))
                .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"name\": \"Fault Tester\"}")).build();
        return HTTP.send(put, HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    /** Median of 3 writes, in ms. */
    private static long timedWrite() throws IOException, InterruptedException {
        long[] ms = new long[3];
        for (int i = 0; i < ms.length; i++) {
            long t0 = System.nanoTime();
            assertEquals(200, write());
            ms[i] = (System.nanoTime() - t0) / 1_000_000;
        }
        java.util.Arrays.sort(ms);
        return ms[1];
    }

    private static InetSocketAddress listenOf(String proxy) throws IOException {
        String listen = toxiproxy.getProxy(proxy).getListen();
        int colon = listen.lastIndexOf(':');
        return new InetSocketAddress(listen.substring(0, colon), Integer.parseInt(listen.substring(colon + 1)));
    }

    private static String hostPort(InetSocketAddress a) {
        return a.getHostString() + ":" + a.getPort();
    }
}
