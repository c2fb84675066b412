package dev.doorbuster.postgres;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import dev.doorbuster.process.Dirs;
import dev.doorbuster.process.DoorbusterHome;
import dev.doorbuster.process.ProcessRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import dev.doorbuster.process.ServerUser;

/**
 * A real PostgreSQL primary streaming to N real replicas, on 127.0.0.1.
 *
 * <p>Nodes are named {@code pg1}, {@code pg2}, ... by creation, never by role, because roles change at
 * failover. {@code pg1} starts as primary. Each replica is a hot copy of the primary
 * ({@link BaseBackup}) streaming through its own replication slot from the address its
 * {@link ReplicationRoute} gives, so a proxy can sit on the replication link.
 *
 * <p>Failover: {@link #promote} fences the old primary (it is stopped and will never start again as
 * it is, which would be a split brain), promotes the replica and repoints the other replicas;
 * {@link #rejoin} makes the old primary a fresh replica of the new one.
 */
public final class PgCluster implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PgCluster.class);
    private static final AtomicInteger SEQUENCE = new AtomicInteger();
    private static final String MARKER = ".doorbuster-cluster";
    private static final Duration STREAMING_TIMEOUT = Duration.ofSeconds(30);

    private final PgBinaries binaries;
    private final ServerUser user;
    private final Path workDir;
    private final boolean temporaryWorkDir;
    private final ReplicationRoute route;
    private final List<PgNode> nodes = new ArrayList<>();
    private final List<PgNode> replicas = new ArrayList<>();
    private volatile PgNode primary;
    private volatile SyncMode syncMode;
    private volatile boolean closed;

    private PgCluster(Builder b, PgBinaries binaries, ServerUser user, Path workDir, boolean temporary) {
        this.binaries = binaries;
        this.user = user;
        this.workDir = workDir;
        this.temporaryWorkDir = temporary;
        this.route = b.route;
        this.syncMode = b.syncMode;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Options of a cluster; {@link #start()} builds and starts it. */
    public static final class Builder {
        private PgBinaries binaries;
        private int replicas = 1;
        private SyncMode syncMode = SyncMode.OFF;
        private Path workDir;
        private ReplicationRoute route = ReplicationRoute.DIRECT;
        private final Map<String, String> settings = new LinkedHashMap<>();
        private final List<Integer> ports = new ArrayList<>();

        private Builder() {
        }

        /** Binaries to use; default {@link PgBinaries#resolve()} (bundled, or {@code doorbuster.pg.bin}). */
        public Builder binaries(PgBinaries binaries) {
            this.binaries = binaries;
            return this;
        }

        /** Number of replicas (0 to 8); default 1. */
        public Builder replicas(int replicas) {
            if (replicas < 0 || replicas > 8) {
                throw new IllegalArgumentException("replicas must be between 0 and 8, got " + replicas);
            }
            this.replicas = replicas;
            return this;
        }

        public Builder syncMode(SyncMode syncMode) {
            this.syncMode = java.util.Objects.requireNonNull(syncMode, "syncMode");
            return this;
        }

        /**
         * Folder for the nodes' data and logs; it must be empty, absent, or an earlier Doorbuster cluster
         * folder (then it is wiped). Default: a fresh folder under {@code <doorbuster.home>/clusters},
         * deleted at {@link #close()}.
         */
        public Builder workDir(Path workDir) {
            this.workDir = workDir;
            return this;
        }

        /** Where each replica streams from (default: straight to the primary). */
        public Builder replicationRoute(ReplicationRoute route) {
            this.route = java.util.Objects.requireNonNull(route, "route");
            return this;
        }

        /** A server setting for every node (postgresql.conf), e.g. {@code max_connections=200}. */
        public Builder setting(String name, String value) {
            settings.put(name, value);
            return this;
        }

        /** Fixed ports for pg1, pg2, ... (0 = ephemeral, the default for nodes not listed). */
        public Builder ports(int... ports) {
            this.ports.clear();
            for (int p : ports) {
                this.ports.add(p);
            }
            return this;
        }

        /** Creates and starts the cluster; on any failure everything started so far is stopped again. */
        public PgCluster start() {
            ProcessRegistry.stopLeftovers();
            ServerUser user = ServerUser.detect();
            PgBinaries bin = binaries != null ? binaries : PgBinaries.resolve();
            boolean temporary = workDir == null;
            Path dir = temporary
                    ? DoorbusterHome.get().resolve("clusters").resolve(LocalDateTime.now().format(DateTimeFormatter.ofPattern(
                            "yyyyMMdd-HHmmss")) + "-" + ProcessHandle.current().pid() + "-" + SEQUENCE.incrementAndGet())
                    : workDir.toAbsolutePath().normalize();
            PgCluster cluster = new PgCluster(this, bin, user, dir, temporary);
            try {
                cluster.create(replicas, settings, ports);
                return cluster;
            } catch (RuntimeException e) {
                cluster.close();
                throw e;
            }
        }
    }

    private void create(int replicaCount, Map<String, String> settings, List<Integer> ports) {
        long started = System.nanoTime();
        prepareWorkDir();
        for (int i = 0; i <= replicaCount; i++) {
            int port = i < ports.size() ? ports.get(i) : 0;
            nodes.add(new PgNode("pg" + (i + 1), binaries, user, workDir.resolve("pg" + (i + 1)), port,
                    temporaryWorkDir ? workDir : null));
        }
        primary = nodes.get(0);
        primary.init(settings);
        primary.start();
        for (PgNode replica : nodes.subList(1, nodes.size())) {
            cloneAsReplica(replica);
            replicas.add(replica);
        }
        for (PgNode replica : replicas) {
            awaitStreaming(replica, STREAMING_TIMEOUT);
        }
        applySyncMode();
        log.info("PostgreSQL {} cluster up in {} ms: primary {}, replicas {}, synchronous_commit {}",
                binaries.version(), (System.nanoTime() - started) / 1_000_000, primary, replicas, syncMode.setting());
    }

    private void prepareWorkDir() {
        user.requireReachable(workDir, "work folder");
        try {
            if (Files.isDirectory(workDir)) {
                boolean empty;
                try (Stream<Path> entries = Files.list(workDir)) {
                    empty = entries.findAny().isEmpty();
                }
                if (!empty && !Files.exists(workDir.resolve(MARKER))) {
                    throw new PgException("Cluster work folder " + workDir + " is not empty and was not made by "
                            + "Doorbuster. Choose a new or empty folder (it will hold data folders and logs).");
                }
                if (!empty) {
                    Dirs.deleteTree(workDir); // An earlier run's cluster: its servers were stopped above.
                }
            }
            Files.createDirectories(workDir);
            Files.writeString(workDir.resolve(MARKER), "Doorbuster cluster work folder; safe to delete when no run is "
                    + "using it.\n");
        } catch (IOException e) {
            throw new PgException("Cannot create the cluster work folder " + workDir + " (" + e + "). Choose a writable "
                    + "folder" + (temporaryWorkDir ? " with -D" + DoorbusterHome.PROPERTY + "=<folder>" : "") + ".");
        }
    }

    // ---- accessors -------------------------------------------------------------------------------------------

    public PgNode primary() {
        return primary;
    }

    /** The current replicas (fenced nodes excluded), in creation order. */
    public synchronized List<PgNode> replicas() {
        return List.copyOf(replicas);
    }

    /** Every node ever created, in creation order, whatever its role or state. */
    public List<PgNode> nodes() {
        return Collections.unmodifiableList(nodes);
    }

    public PgNode node(String name) {
        return nodes.stream().filter(n -> n.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no node '" + name + "' in this cluster; nodes are "
                        + nodes.stream().map(PgNode::name).collect(Collectors.joining(", "))));
    }

    public Path workDir() {
        return workDir;
    }

    public PgBinaries binaries() {
        return binaries;
    }

    public SyncMode syncMode() {
        return syncMode;
    }

    /**
     * A JDBC URL listing every node with {@code targetServerType=primary}: PgJDBC connects to whichever
     * node is primary, so a client using it follows a failover. Direct to the nodes (no proxy).
     */
    public String writerJdbcUrl(String database) {
        return "jdbc:postgresql://" + nodes.stream().map(n -> "127.0.0.1:" + n.port()).collect(Collectors.joining(","))
                + "/" + database + "?user=postgres&targetServerType=primary&sslmode=disable&connectTimeout=2"
                + "&socketTimeout=5&loginTimeout=5&hostRecheckSeconds=1";
    }

    // ---- replication -----------------------------------------------------------------------------------------

    /** Changes synchronous replication on the current primary, live. */
    public synchronized void syncMode(SyncMode mode) {
        this.syncMode = java.util.Objects.requireNonNull(mode, "mode");
        applySyncMode();
    }

    /** Points {@code replica} at {@code source} for streaming, live (the WAL receiver reconnects). */
    public void setReplicationSource(PgNode replica, InetSocketAddress source) {
        requireReplica(replica);
        String conninfo = BaseBackup.conninfo(replica.name(), source.getHostString(), source.getPort());
        replica.execute("ALTER SYSTEM SET primary_conninfo = '" + conninfo.replace("'", "''") + "'");
        replica.execute("SELECT pg_reload_conf()");
    }

    /**
     * True lag of {@code replica}: WAL bytes not yet replayed, and the age of its last replayed commit
     * ({@link Lag#measure}'s query, on the nodes' probe connections). A replica that has replayed nothing
     * yet is behind by all the WAL written.
     */
    public Lag lag(PgNode replica) {
        requireReplica(replica);
        Lsn written = primary.probeWith("measuring the WAL written on " + primary.name(), Lag::written);
        Optional<Lag> lag = replica.probeWith("measuring the lag of " + replica.name(), c -> Lag.behind(written, c));
        return lag.orElseGet(() -> written == null ? Lag.NONE : new Lag(written.value(), Duration.ZERO));
    }

    /** The primary's {@code pg_stat_replication} row for {@code replica}, if it is connected. */
    public Optional<ReplicationStat> replicationStat(PgNode replica) {
        List<ReplicationStat> rows = primary.query("SELECT application_name, state, sync_state, sent_lsn::text, "
                + "write_lsn::text, flush_lsn::text, replay_lsn::text, extract(epoch FROM write_lag)::float8, "
                + "extract(epoch FROM flush_lag)::float8, extract(epoch FROM replay_lag)::float8 "
                + "FROM pg_stat_replication WHERE application_name = ?", PgCluster::replicationStat, replica.name());
        return rows.stream().findFirst();
    }

    /** The replica's WAL receiver status ({@code streaming}, {@code waiting}, ...) or {@code stopped}. */
    public String receiverStatus(PgNode replica) {
        String status = replica.queryValue("SELECT status FROM pg_stat_wal_receiver", String.class);
        return status == null ? "stopped" : status;
    }

    /** Waits until the primary reports {@code replica} as streaming. */
    public void awaitStreaming(PgNode replica, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (replicationStat(replica).map(ReplicationStat::streaming).orElse(false)) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new PgException("Replica '" + replica.name() + "' is not streaming from primary '" + primary.name()
                        + "' after " + timeout.toSeconds() + " s (receiver: " + safeReceiverStatus(replica)
                        + "). Last lines of its log (" + replica.logFile() + "):\n" + replica.logTail(10));
            }
            sleep(20);
        }
    }

    /** Waits until {@code replica} has replayed everything the primary has written so far. */
    public void awaitCaughtUp(PgNode replica, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Lsn target = Lsn.parse(primary.queryValue("SELECT pg_current_wal_lsn()::text", String.class));
        while (true) {
            Lsn replayed = Lsn.parse(replica.queryValue("SELECT pg_last_wal_replay_lsn()::text", String.class));
            if (replayed != null && replayed.compareTo(target) >= 0) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new PgException("Replica '" + replica.name() + "' did not catch up with " + target + " within "
                        + timeout.toSeconds() + " s (replayed " + replayed + ").");
            }
            sleep(10);
        }
    }

    // ---- failover --------------------------------------------------------------------------------------------

    /**
     * Makes {@code replica} the primary: fences the current primary (stops it if it still runs, and never
     * lets it start again as it is), promotes {@code replica}, and repoints the other replicas at it.
     * With synchronous replication and no standby left, the new primary runs asynchronously until a
     * replica rejoins (otherwise every commit would wait for ever).
     *
     * @return the new primary
     */
    public synchronized PgNode promote(PgNode replica) {
        requireReplica(replica);
        PgNode old = primary;
        fence(old, "it was primary until '" + replica.name() + "' was promoted");
        replica.promote();
        replicas.remove(replica);
        primary = replica;
        for (PgNode other : replicas) {
            createSlot(other.name());
            setReplicationSource(other, route.route(other, primary));
        }
        applySyncMode();
        log.info("Promoted '{}' to primary; '{}' is fenced", replica.name(), old.name());
        return replica;
    }

    /** Stops {@code node} (immediately, as a fence must) and forbids starting it until it rejoins. */
    public synchronized void fence(PgNode node, String reason) {
        node.fence(reason);
        if (node.isRunning()) {
            node.stopImmediately();
        }
    }

    /**
     * Makes a fenced (or stopped) node a replica of the current primary again: its data folder is thrown
     * away and re-cloned (its unreplicated writes diverge from the new timeline), then it streams.
     */
    public synchronized void rejoin(PgNode node) {
        if (node == primary) {
            throw new PgException("Node '" + node.name() + "' is the current primary; only a former primary or a "
                    + "stopped replica can rejoin.");
        }
        if (node.isRunning()) {
            node.stopImmediately();
        }
        try {
            Dirs.deleteTree(node.dataDir());
        } catch (IOException e) {
            throw new PgException("Cannot delete the old data folder " + node.dataDir() + " of node '" + node.name()
                    + "' to re-clone it: " + e);
        }
        replicas.remove(node);
        node.unfence();
        cloneAsReplica(node);
        replicas.add(node);
        awaitStreaming(node, STREAMING_TIMEOUT);
        applySyncMode();
        log.info("Node '{}' rejoined as a replica of '{}'", node.name(), primary.name());
    }

    // ---- teardown --------------------------------------------------------------------------------------------

    /** Stops every node (replicas first) and deletes the work folder if it was a temporary one. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<PgNode> order = new ArrayList<>(nodes);
        Collections.reverse(order); // Replicas first: a primary's fast shutdown waits for its WAL senders.
        RuntimeException failure = null;
        for (PgNode node : order) {
            try {
                node.stop();
            } catch (RuntimeException e) {
                failure = failure == null ? e : failure;
            }
        }
        if (temporaryWorkDir && !Dirs.deleteQuietly(workDir)) {
            log.warn("Could not delete cluster work folder {}", workDir);
        }
        if (failure != null) {
            throw failure;
        }
    }

    // ---- internals -------------------------------------------------------------------------------------------

    private void cloneAsReplica(PgNode replica) {
        replica.prepareNodeDir();
        createSlot(replica.name());
        BaseBackup.copy(primary, replica.dataDir());
        InetSocketAddress source = route.route(replica, primary);
        try {
            BaseBackup.configureStandby(replica.dataDir(), replica.name(), source.getHostString(), source.getPort());
        } catch (IOException e) {
            throw new PgException("Cannot write the standby configuration of '" + replica.name() + "': " + e);
        }
        user.own(replica.dataDir());
        replica.start();
    }

    private void createSlot(String slot) {
        primary.execute("SELECT pg_create_physical_replication_slot(?, true) "
                + "WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = ?)", slot, slot);
    }

    private void applySyncMode() {
        String standbys = replicas.stream().map(r -> "\"" + r.name() + "\"").collect(Collectors.joining(", "));
        if (syncMode == SyncMode.OFF || replicas.isEmpty()) {
            if (syncMode != SyncMode.OFF) {
                log.warn("Synchronous replication ({}) requested but primary '{}' has no replica: running "
                        + "asynchronously until one rejoins", syncMode.setting(), primary.name());
            }
            primary.execute("ALTER SYSTEM RESET synchronous_standby_names");
            primary.execute("ALTER SYSTEM RESET synchronous_commit");
        } else {
            primary.execute("ALTER SYSTEM SET synchronous_standby_names = 'FIRST 1 (" + standbys + ")'");
            primary.execute("ALTER SYSTEM SET synchronous_commit = '" + syncMode.setting() + "'");
        }
        primary.execute("SELECT pg_reload_conf()");
    }

    private void requireReplica(PgNode node) {
        if (!replicas.contains(node)) {
            throw new IllegalArgumentException("'" + node.name() + "' is not a replica of this cluster (replicas: "
                    + replicas.stream().map(PgNode::name).collect(Collectors.joining(", ")) + ")");
        }
    }

    private String safeReceiverStatus(PgNode replica) {
        try {
            return receiverStatus(replica);
        } catch (RuntimeException e) {
            return "unknown: " + e.getMessage();
        }
    }

    private static ReplicationStat replicationStat(ResultSet r) throws SQLException {
        return new ReplicationStat(r.getString(1), r.getString(2), r.getString(3), Lsn.parse(r.getString(4)),
                Lsn.parse(r.getString(5)), Lsn.parse(r.getString(6)), Lsn.parse(r.getString(7)), seconds(r, 8),
                seconds(r, 9), seconds(r, 10));
    }

    private static Duration seconds(ResultSet r, int column) throws SQLException {
        double value = r.getDouble(column);
        return r.wasNull() ? null : Duration.ofNanos((long) (value * 1e9));
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PgException("interrupted");
        }
    }
}
