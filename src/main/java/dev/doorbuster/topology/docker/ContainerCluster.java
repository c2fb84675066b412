package dev.doorbuster.topology.docker;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.github.dockerjava.api.DockerClient;
import dev.doorbuster.postgres.Lag;
import dev.doorbuster.postgres.SyncMode;
import dev.doorbuster.topology.ClusterControl;
import dev.doorbuster.topology.TopologyException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A PostgreSQL primary streaming to N replicas, each in its own container; every replica streams through its
 * own proxy ({@code pgN-replication}) so the replication link can be faulted, and every node's application
 * link goes through a proxy named as the node ({@code pgN}). Failover: the primary container is killed, the
 * first replica promoted with {@code pg_promote()}, the other replicas' replication proxies repointed at it;
 * a former primary rejoins as a new container made from a fresh base backup.
 */
final class ContainerCluster implements ClusterControl {
    private static final Duration STREAMING_TIMEOUT = Duration.ofSeconds(60);
    private static final Logger log = LoggerFactory.getLogger(ContainerCluster.class);

    private final DockerClient docker;
    private final PgContainer.Spec spec;
    private final ProxyContainer proxies;
    private final SyncMode syncMode;
    private final Map<String, PgContainer> nodes = new LinkedHashMap<>();
    private final List<String> replicas = new ArrayList<>();
    /**
     * A session on each replica, opened while nothing fails: a promotion then starts at once. Connecting first (TCP,
     * SCRAM, a backend's start) took 55 ms on an idle machine, and on a busy one it is part of every failover's
     * measured RTO, which a real failover's agent, already connected, does not pay.
     */
    private final Map<String, Connection> promotionSessions = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile String primary;

    private ContainerCluster(DockerClient docker, PgContainer.Spec spec, ProxyContainer proxies, SyncMode syncMode) {
        this.docker = docker;
        this.spec = spec;
        this.proxies = proxies;
        this.syncMode = syncMode;
    }

    /** Starts {@code pg1} as primary, then {@code replicaCount} replicas streaming from it. */
    static ContainerCluster start(DockerClient docker, PgContainer.Spec spec, ProxyContainer proxies, int replicaCount,
                                  SyncMode syncMode, java.util.function.Consumer<PgContainer> onPrimaryReady) {
        ContainerCluster cluster = new ContainerCluster(docker, spec, proxies, syncMode);
        PgContainer first = PgContainer.primary(docker, spec, "pg1");
        synchronized (cluster) {
            cluster.nodes.put(first.name(), first);
            cluster.primary = first.name();
        }
        proxies.proxy(first.name(), first.internalHost() + ":" + PgContainer.PORT);
        onPrimaryReady.accept(first);
        for (int i = 2; i <= replicaCount + 1; i++) {
            cluster.addReplica("pg" + i);
        }
        cluster.applySyncMode();
        return cluster;
    }

    private void addReplica(String name) {
        PgContainer source = node(primary);
        source.execute(spec.database(), spec.user(), spec.password(), "SELECT pg_create_physical_replication_slot('"
                + name + "') WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = '" + name + "')");
        int port = proxies.proxy(name + "-replication", source.internalHost() + ":" + PgContainer.PORT);
        PgContainer replica = PgContainer.replica(docker, spec, name, ProxyContainer.ALIAS, port);
        synchronized (this) {
            nodes.put(name, replica);
            replicas.add(name);
        }
        proxies.proxy(name, replica.internalHost() + ":" + PgContainer.PORT);
        awaitStreaming(replica);
        try {
            Connection previous = promotionSessions.put(name, replica.connect(spec.database(), spec.user(),
                    spec.password()));
            if (previous != null) {
                previous.close(); // a session on the node's earlier container
            }
        } catch (SQLException e) {
            log.debug("No promotion session on '{}' (a promotion will connect first): {}", name, e.toString());
        }
    }

    /** Closes the sessions kept for promotions (the containers may already be gone); never throws. */
    void closeSessions() {
        for (Connection c : promotionSessions.values()) {
            try {
                c.close();
            } catch (SQLException | RuntimeException ignored) {
                // its container is gone: nothing to close there
            }
        }
        promotionSessions.clear();
    }

    /** The session kept on {@code replica} if it still works, else a new one. */
    private Connection promotionSession(PgContainer replica) throws SQLException {
        Connection kept = promotionSessions.remove(replica.name());
        if (kept != null) {
            try {
                if (kept.isValid(1)) {
                    return kept;
                }
            } catch (SQLException stale) {
                // fall through to a new session
            }
            try {
                kept.close();
            } catch (SQLException ignored) {
                // it was broken already
            }
        }
        return replica.connect(spec.database(), spec.user(), spec.password());
    }

    /** Waits until the primary reports {@code replica} as streaming. */
    private void awaitStreaming(PgContainer replica) {
        long deadline = System.nanoTime() + STREAMING_TIMEOUT.toNanos();
        String last = "not connected";
        while (System.nanoTime() < deadline) {
            try (Connection c = node(primary).connect(spec.database(), spec.user(), spec.password());
                 PreparedStatement s = c.prepareStatement("SELECT state FROM pg_stat_replication WHERE application_name = ?")) {
                s.setString(1, replica.name());
                try (ResultSet r = s.executeQuery()) {
                    if (r.next()) {
                        last = r.getString(1);
                        if ("streaming".equals(last)) {
                            return;
                        }
                    }
                }
            } catch (SQLException e) {
                last = e.getMessage();
            }
            sleep(100);
        }
        throw new TopologyException("Replica '" + replica.name() + "' is not streaming from '" + primary + "' after "
                + STREAMING_TIMEOUT.toSeconds() + " s (last state: " + last + "). Last lines of its log:\n"
                + tail(replica.logs(), 15));
    }

    /**
     * Synchronous replication needs a standby to wait for: with none left (after a failover) the primary
     * runs asynchronously until one rejoins, else every commit would wait for ever. Set with ALTER SYSTEM, not
     * on the command line (which would win over it).
     */
    private void applySyncMode() {
        if (syncMode == SyncMode.OFF) {
            return;
        }
        String standbys = replicas().isEmpty() ? "" : "*";
        PgContainer p = node(primary);
        p.execute(spec.database(), spec.user(), spec.password(), "ALTER SYSTEM SET synchronous_standby_names = '"
                + standbys + "'");
        p.execute(spec.database(), spec.user(), spec.password(), "SELECT pg_reload_conf()");
    }

    // ---- ClusterControl -------------------------------------------------------------------------------------

    @Override
    public String primary() {
        return primary;
    }

    @Override
    public synchronized List<String> replicas() {
        return List.copyOf(replicas);
    }

    @Override
    public void kill(String name) {
        node(name).kill(docker);
    }

    @Override
    public void promote(String replica) {
        PgContainer next;
        String old;
        synchronized (this) {
            if (!replicas.contains(replica)) {
                throw new TopologyException("'" + replica + "' is not a replica; replicas: " + replicas);
            }
            next = nodes.get(replica);
            old = primary;
        }
        long started = System.nanoTime();
        PgContainer fenced = node(old);
        if (fenced.isAlive()) {
            fenced.kill(docker); // a fence: the old primary must never take writes again as it is
        }
        long fencedAt = System.nanoTime();
        promoteNow(next);
        List<String> others;
        synchronized (this) {
            replicas.remove(replica);
            primary = replica;
            others = List.copyOf(replicas);
        }
        for (String other : others) {
            next.execute(spec.database(), spec.user(), spec.password(), "SELECT pg_create_physical_replication_slot('"
                    + other + "') WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = '" + other + "')");
            proxies.proxy(other + "-replication", next.internalHost() + ":" + PgContainer.PORT);
        }
        applySyncMode();
        log.info("Promoted '{}' to primary in {} ms (fence {} ms, promotion {} ms); '{}' is fenced", replica,
                (System.nanoTime() - started) / 1_000_000, (fencedAt - started) / 1_000_000,
                (System.nanoTime() - fencedAt) / 1_000_000, old);
    }

    /**
     * {@code pg_promote()} without its own wait (which checks ten times a second), then watching the recovery end
     * every 10 ms: the measured failover time is the server's, not the poll's.
     */
    private void promoteNow(PgContainer replica) {
        long started = System.nanoTime();
        try (Connection c = promotionSession(replica);
             java.sql.Statement s = c.createStatement()) {
            long connected = System.nanoTime();
            s.execute("SELECT pg_promote(false)");
            log.info("Asked '{}' to promote ({} ms to have a session on it)", replica.name(),
                    (connected - started) / 1_000_000);
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (true) {
                try (ResultSet r = s.executeQuery("SELECT pg_is_in_recovery()")) {
                    r.next();
                    if (!r.getBoolean(1)) {
                        return;
                    }
                }
                if (System.nanoTime() > deadline) {
                    throw new TopologyException("Node '" + replica.name() + "' was asked to promote but is still in "
                            + "recovery after 60 s. Last lines of its log:\n" + tail(replica.logs(), 15));
                }
                sleep(10);
            }
        } catch (SQLException e) {
            throw new TopologyException("Cannot promote node '" + replica.name() + "': " + e.getMessage());
        }
    }

    @Override
    public void rejoin(String name) {
        if (name.equals(primary)) {
            throw new TopologyException("Node '" + name + "' is the current primary; only a former primary or a "
                    + "stopped replica can rejoin.");
        }
        PgContainer old = node(name);
        synchronized (this) {
            replicas.remove(name);
        }
        old.remove(docker);
        addReplica(name);
        applySyncMode();
        log.info("Node '{}' rejoined as a replica of '{}'", name, primary);
    }

    // ---- for the topology -----------------------------------------------------------------------------------

    synchronized PgContainer node(String name) {
        PgContainer node = nodes.get(name);
        if (node == null) {
            throw new TopologyException("No node '" + name + "'; nodes: " + nodes.keySet());
        }
        return node;
    }

    synchronized List<PgContainer> nodes() {
        return List.copyOf(nodes.values());
    }

    /** Lag of {@code replica} now, empty when either end does not answer (mid-failover). */
    Optional<Lag> lag(String replica) {
        try (Connection p = node(primary).connect(spec.database(), spec.user(), spec.password());
             Connection r = node(replica).connect(spec.database(), spec.user(), spec.password())) {
            return Lag.measure(p, r);
        } catch (SQLException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static String tail(String text, int lines) {
        String[] all = text.split("\\R");
        return String.join("\n", java.util.Arrays.asList(all).subList(Math.max(0, all.length - lines), all.length));
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TopologyException("Interrupted while waiting for replication");
        }
    }
}
