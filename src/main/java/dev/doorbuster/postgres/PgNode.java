package dev.doorbuster.postgres;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import dev.doorbuster.process.ProcessRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import dev.doorbuster.process.Exec;
import dev.doorbuster.process.ServerUser;

/**
 * One real PostgreSQL server: its data folder, its process and its log.
 *
 * <p>The server is a direct child of this JVM (no {@code pg_ctl}, which detaches it), listens on
 * 127.0.0.1 only, on a port chosen once and kept across restarts (so proxies pointing at it stay
 * valid), with Unix sockets off. Its stdout/stderr go to {@link #logFile()}, which every start-up error
 * quotes. Stop is fast shutdown, then immediate, then SIGKILL; {@link #kill()} simulates a crash.
 */
public final class PgNode implements ProcessRegistry.Tracked {
    /**
     * Replication timing for every server, local or in a container. Short timeouts: a cut replication link is noticed
     * (and a stalled standby stops blocking a fast shutdown) in seconds, not the default minute. The retry interval
     * also bounds a promotion: a standby whose primary just died waits it out before it acts on the promote request
     * (measured in containers: with the default 5 s, "redo done" came 5 s after "received promote request"; with 1 s
     * the promotion step still took 1.5 s, long enough for the writes waiting on it to reach the pool's 1 s timeout).
     */
    public static final Map<String, String> REPLICATION_TIMING;

    static {
        Map<String, String> timing = new LinkedHashMap<>(); // in this order in every postgresql.conf
        timing.put("wal_sender_timeout", "10s");
        timing.put("wal_receiver_timeout", "10s");
        timing.put("wal_receiver_status_interval", "1s");
        timing.put("wal_retrieve_retry_interval", "200ms");
        REPLICATION_TIMING = java.util.Collections.unmodifiableMap(timing);
    }

    /** Settings every node gets; node-specific values (port, name) go on the command line instead. */
    static final Map<String, String> BASE_SETTINGS = baseSettings();
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final Logger log = LoggerFactory.getLogger(PgNode.class);

    /** Reads one row of a result set. */
    @FunctionalInterface
    public interface RowMapper<T> {
        T map(ResultSet row) throws SQLException;
    }

    /** Works on a connection it does not own (it must not close it). */
    @FunctionalInterface
    public interface ConnectionWork<T> {
        T apply(Connection connection) throws SQLException;
    }

    private final String name;
    private final PgBinaries binaries;
    private final ServerUser user;
    private final Path nodeDir;
    private final Path dataDir;
    private final Path cleanupDir;
    private final boolean portFixedByCaller;
    private volatile int port;
    private volatile Process process;
    private volatile String fencedBecause;
    /** Kept open for probes run every second: a new connection would fork a backend each time. */
    private Connection probeConnection;

    /**
     * @param nodeDir    folder for this node: {@code data/}, {@code server.log}, {@code initdb.log}
     * @param port       0 for an ephemeral port chosen at first start; otherwise this port, or fail
     * @param cleanupDir folder to delete if this node is found as the leftover of a crashed run (or null)
     */
    public PgNode(String name, PgBinaries binaries, ServerUser user, Path nodeDir, int port, Path cleanupDir) {
        if (port < 0 || port > 65535) {
            throw new PgException("Port " + port + " for node '" + name + "' is out of range: use 1-65535, or 0 for "
                    + "an ephemeral port.");
        }
        this.name = name;
        this.binaries = binaries;
        this.user = user;
        this.nodeDir = nodeDir.toAbsolutePath().normalize();
        this.dataDir = this.nodeDir.resolve("data");
        this.cleanupDir = cleanupDir;
        this.port = port;
        this.portFixedByCaller = port != 0;
    }

    public String name() {
        return name;
    }

    public Path dataDir() {
        return dataDir;
    }

    public Path logFile() {
        return nodeDir.resolve("server.log");
    }

    /** The port, or 0 before the first start when it is ephemeral. */
    public int port() {
        return port;
    }

    public InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    }

    public PgBinaries binaries() {
        return binaries;
    }

    /** The postmaster's PID, or -1 when not running. */
    public long pid() {
        Process p = process;
        return p != null && p.isAlive() ? p.pid() : -1;
    }

    public boolean isRunning() {
        Process p = process;
        return p != null && p.isAlive();
    }

    /** JDBC URL of database {@code database} on this node, direct (no proxy), with short timeouts. */
    public String jdbcUrl(String database) {
        return jdbcUrl(database, 60);
    }

    private String jdbcUrl(String database, int socketTimeoutSeconds) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database
                + "?user=postgres&sslmode=disable&connectTimeout=5&socketTimeout=" + socketTimeoutSeconds;
    }

    public String jdbcUrl() {
        return jdbcUrl("postgres");
    }

    // ---- life cycle --------------------------------------------------------------------------------------

    /** initdb's arguments after {@code -D <folder>}: superuser {@code postgres}, trust auth on loopback. */
    static final List<String> INITDB_ARGUMENTS = List.of("-U", "postgres", "--auth=trust", "--encoding=UTF8",
            "--locale=C", "--no-sync");

    /**
     * Creates the data folder (a copy of this machine's {@link InitdbTemplate}, else initdb's own output) and
     * configures it.
     */
    public void init(Map<String, String> extraSettings) {
        prepareNodeDir();
        if (Files.exists(dataDir)) {
            throw new PgException("Cannot initialise node '" + name + "': its data folder " + dataDir + " already exists. "
                    + "Use a new work folder, or delete the old one.");
        }
        java.util.Optional<String> copied = InitdbTemplate.enabled()
                ? new InitdbTemplate(binaries, user, INITDB_ARGUMENTS, binaries.templateRoot()).copyInto(dataDir, nodeDir)
                : java.util.Optional.empty();
        if (copied.isPresent()) {
            writeQuietly(nodeDir.resolve("initdb.log"), copied.get());
        } else {
            List<String> command = new ArrayList<>(List.of(binaries.initdb().toString(), "-D", dataDir.toString()));
            command.addAll(INITDB_ARGUMENTS);
            Exec.Result result = Exec.run(user.command(command), nodeDir, Duration.ofSeconds(120));
            writeQuietly(nodeDir.resolve("initdb.log"), result.output());
            if (!result.ok()) {
                throw new PgException("initdb failed for node '" + name + "' in " + dataDir + " (exit "
                        + result.exitCode() + "): " + tail(result.output(), 8) + "\nCheck that OS user '" + user.name()
                        + "' can write there and that the disk has free space.");
            }
        }
        Map<String, String> settings = new LinkedHashMap<>(BASE_SETTINGS);
        settings.putAll(extraSettings);
        StringBuilder conf = new StringBuilder("\n# ---- written by Doorbuster ----\n");
        settings.forEach((key, value) -> conf.append(key).append(" = '").append(value.replace("'", "''")).append("'\n"));
        try {
            Files.writeString(dataDir.resolve("postgresql.conf"), conf, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new PgException("Cannot write the configuration of node '" + name + "' (" + dataDir + "): " + e);
        }
    }

    /**
     * Starts the server and returns once it accepts connections (as primary or as hot standby).
     *
     * @throws PgException naming the cause (port in use, damaged data folder, log excerpt) on failure
     */
    public synchronized void start() {
        if (fencedBecause != null) {
            throw new PgException("Node '" + name + "' is fenced and must not start: " + fencedBecause
                    + ". Rejoin it as a replica of the current primary instead (PgCluster.rejoin).");
        }
        if (isRunning()) {
            return;
        }
        if (!Files.isRegularFile(dataDir.resolve("PG_VERSION"))) {
            throw new PgException("Node '" + name + "' has no initialised data folder at " + dataDir + "; call init() "
                    + "or clone it from a primary first.");
        }
        ProcessRegistry.stopLeftovers();
        clearStalePidFile();
        for (int attempt = 1; ; attempt++) {
            boolean ephemeral = !portFixedByCaller && (port == 0 || attempt > 1);
            if (ephemeral) {
                port = freePort();
            } else {
                requirePortFree();
            }
            try {
                launchAndAwaitReady();
                return;
            } catch (PortInUseException e) {
                if (!ephemeral || attempt >= 3) {
                    throw new PgException(e.getMessage());
                }
                log.info("Port {} was taken before node '{}' could bind it; trying another", port, name);
            }
        }
    }

    /** Fast shutdown (waits up to 10 s), then immediate (5 s), then SIGKILL. Waits until it is gone. */
    public synchronized void stop() {
        stopWith("INT", 10_000);
    }

    /** Immediate shutdown (no checkpoint: crash recovery at next start), then SIGKILL. */
    synchronized void stopImmediately() {
        stopWith("QUIT", 0);
    }

    @Override
    public String label() {
        return "PostgreSQL '" + name + "' (" + dataDir + ")";
    }

    @Override
    public void stopAtExit() {
        stopImmediately();
    }

    /** Simulates a crash: SIGKILL to the postmaster and all its children at once. */
    public synchronized void kill() {
        closeProbeConnection();
        Process p = process;
        if (p == null) {
            return;
        }
        // Freeze the postmaster before listing its children: a backend forked between the listing and the
        // SIGKILL would be orphaned alive, keep its client's connection and go on committing writes on a
        // "dead" primary (seen in CI: a write acknowledged after kill()). A stopped process cannot fork.
        ProcessRegistry.signal(p.pid(), "STOP");
        List<ProcessHandle> children = p.descendants().toList();
        p.destroyForcibly();
        children.forEach(ProcessHandle::destroyForcibly);
        awaitGone(p, children);
        ProcessRegistry.stopped(this, p.pid());
        process = null;
        log.info("Killed node '{}' (SIGKILL, PID {})", name, p.pid());
    }

    /** Promotes this standby to primary and returns once it accepts writes. */
    public void promote() {
        Boolean promoted = queryValue("SELECT pg_promote(true, 60)", Boolean.class);
        if (!Boolean.TRUE.equals(promoted)) {
            throw new PgException("Node '" + name + "' did not finish promotion within 60 s. Log: " + logFile());
        }
    }

    /** Marks this node as never to be started again as it is (an old primary after a failover). */
    void fence(String reason) {
        fencedBecause = reason;
    }

    void unfence() {
        fencedBecause = null;
    }

    public boolean isFenced() {
        return fencedBecause != null;
    }

    /** True if this node is a standby (in recovery). */
    public boolean isInRecovery() {
        return Boolean.TRUE.equals(queryValue("SELECT pg_is_in_recovery()", Boolean.class));
    }

    // ---- SQL -----------------------------------------------------------------------------------------------

    /** A new connection to database {@code postgres} as superuser. */
    public Connection connect() throws SQLException {
        Properties props = new Properties();
        props.setProperty("ApplicationName", "doorbuster");
        return DriverManager.getConnection(jdbcUrl(), props);
    }

    /** Runs a statement with parameters; returns the update count. */
    public int execute(String sql, Object... params) {
        try (Connection c = connect(); PreparedStatement statement = prepare(c, sql, params)) {
            statement.execute();
            return Math.max(statement.getUpdateCount(), 0);
        } catch (SQLException e) {
            throw sqlFailure(sql, e);
        }
    }

    /** Runs a query and maps every row. */
    public <T> List<T> query(String sql, RowMapper<T> mapper, Object... params) {
        try (Connection c = connect(); PreparedStatement statement = prepare(c, sql, params);
             ResultSet rows = statement.executeQuery()) {
            List<T> result = new ArrayList<>();
            while (rows.next()) {
                result.add(mapper.map(rows));
            }
            return result;
        } catch (SQLException e) {
            throw sqlFailure(sql, e);
        }
    }

    /**
     * Like {@link #query}, on a connection kept open between calls (reopened after a failure): for small
     * queries repeated every second by probes, which must not fork a server process each time.
     */
    public <T> List<T> probe(String sql, RowMapper<T> mapper) {
        return probeWith(sql, c -> {
            try (PreparedStatement statement = c.prepareStatement(sql); ResultSet rows = statement.executeQuery()) {
                List<T> result = new ArrayList<>();
                while (rows.next()) {
                    result.add(mapper.map(rows));
                }
                return result;
            }
        });
    }

    /**
     * {@code work} on the probe connection (see {@link #probe(String, RowMapper)}); {@code what} names it in
     * the error if it fails.
     */
    public synchronized <T> T probeWith(String what, ConnectionWork<T> work) {
        try {
            if (probeConnection == null || probeConnection.isClosed()) {
                Properties props = new Properties();
                props.setProperty("ApplicationName", "doorbuster-probe");
                probeConnection = DriverManager.getConnection(jdbcUrl("postgres", 5), props);
            }
            return work.apply(probeConnection);
        } catch (SQLException e) {
            closeProbeConnection();
            throw sqlFailure(what, e);
        }
    }

    private synchronized void closeProbeConnection() {
        if (probeConnection != null) {
            try {
                probeConnection.close();
            } catch (SQLException e) {
                log.debug("Closing the probe connection of {}: {}", name, e.toString());
            }
            probeConnection = null;
        }
    }

    /** The first column of the first row, or null if there is no row. */
    public <T> T queryValue(String sql, Class<T> type, Object... params) {
        List<T> values = query(sql, row -> row.getObject(1, type), params);
        return values.isEmpty() ? null : values.get(0);
    }

    /** The last {@code lines} lines of the server log (for error messages and reports). */
    public String logTail(int lines) {
        try {
            return tail(Files.readString(logFile(), StandardCharsets.UTF_8), lines);
        } catch (IOException e) {
            return "(no log at " + logFile() + ")";
        }
    }

    @Override
    public String toString() {
        return name + "@127.0.0.1:" + port;
    }

    // ---- internals ---------------------------------------------------------------------------------------

    void prepareNodeDir() {
        user.requireReachable(nodeDir, "data folder");
        try {
            Files.createDirectories(nodeDir);
        } catch (IOException e) {
            throw new PgException("Cannot create the data folder of node '" + name + "' at " + nodeDir + " (" + e
                    + "). Choose a writable work folder.");
        }
        if (!Files.isWritable(nodeDir)) {
            throw new PgException("The data folder of node '" + name + "' at " + nodeDir + " is not writable. Choose a "
                    + "writable work folder.");
        }
        user.own(nodeDir);
    }

    private void launchAndAwaitReady() {
        List<String> command = user.command(List.of(binaries.postgres().toString(), "-D", dataDir.toString(),
                "-p", Integer.toString(port), "-c", "cluster_name=" + name));
        long logStart = logSize();
        Process started;
        try {
            started = new ProcessBuilder(command)
                    .directory(nodeDir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile().toFile()))
                    .start();
        } catch (IOException e) {
            throw new PgException("Cannot launch " + binaries.postgres() + " for node '" + name + "': " + e);
        }
        process = started;
        ProcessRegistry.started(this, started.pid(), List.of(binaries.postgres().toString(), dataDir.toString()),
                "QUIT", cleanupDir);
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        try {
            while (true) {
                if (!started.isAlive()) {
                    ProcessRegistry.stopped(this, started.pid());
                    process = null;
                    String newLog = logSince(logStart);
                    if (newLog.contains("Address already in use")) {
                        throw new PortInUseException(portInUseMessage());
                    }
                    throw new PgException("PostgreSQL node '" + name + "' exited during start-up (exit code "
                            + started.exitValue() + "). Its log (" + logFile() + ") says:\n" + tail(newLog, 12));
                }
                String status = pidFileLine(started.pid(), 8);
                if (status != null && (status.startsWith("ready") || status.startsWith("standby"))) {
                    log.debug("Node '{}' ready on port {} (PID {})", name, port, started.pid());
                    return;
                }
                if (System.nanoTime() > deadline) {
                    stopImmediately();
                    throw new PgException("PostgreSQL node '" + name + "' did not become ready within "
                            + START_TIMEOUT.toSeconds() + " s. Last lines of its log (" + logFile() + "):\n"
                            + logTail(12));
                }
                Thread.sleep(5);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopImmediately();
            throw new PgException("Interrupted while starting node '" + name + "'");
        }
    }

    /** Line {@code n} (1-based) of postmaster.pid if it belongs to {@code pid}, else null. */
    private String pidFileLine(long pid, int n) {
        try {
            List<String> lines = Files.readAllLines(dataDir.resolve("postmaster.pid"), StandardCharsets.UTF_8);
            if (lines.size() < n || !lines.get(0).trim().equals(Long.toString(pid))) {
                return null;
            }
            return lines.get(n - 1).trim();
        } catch (IOException e) {
            return null; // Not written yet, or being rewritten.
        }
    }

    private void stopWith(String firstSignal, long firstWaitMillis) {
        closeProbeConnection();
        Process p = process;
        if (p == null) {
            return;
        }
        List<ProcessHandle> children = p.descendants().toList();
        try {
            if (p.isAlive() && firstWaitMillis > 0) {
                ProcessRegistry.signal(p.pid(), firstSignal);
                if (!p.waitFor(firstWaitMillis, TimeUnit.MILLISECONDS)) {
                    log.warn("Node '{}' did not finish a fast shutdown in {} ms: immediate shutdown", name,
                            firstWaitMillis);
                }
            }
            if (p.isAlive()) {
                ProcessRegistry.signal(p.pid(), "QUIT");
                if (!p.waitFor(5, TimeUnit.SECONDS)) {
                    log.warn("Node '{}' ignored immediate shutdown: SIGKILL", name);
                }
            }
            if (p.isAlive()) {
                p.destroyForcibly();
                children.forEach(ProcessHandle::destroyForcibly);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            children.forEach(ProcessHandle::destroyForcibly);
        }
        awaitGone(p, children);
        ProcessRegistry.stopped(this, p.pid());
        process = null;
    }

    private static void awaitGone(Process p, List<ProcessHandle> children) {
        try {
            p.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (ProcessHandle child : children) {
            if (!ProcessRegistry.awaitExit(child, 3_000)) {
                child.destroyForcibly();
                ProcessRegistry.awaitExit(child, 2_000);
            }
        }
    }

    /**
     * A postmaster.pid left by a crash is harmless if its PID is dead, but PIDs get reused: PostgreSQL
     * then refuses to start ("lock file already exists"). If the PID is a live postgres on this very data
     * folder, it is a leftover server and is stopped; otherwise the file is stale and removed.
     */
    private void clearStalePidFile() {
        Path pidFile = dataDir.resolve("postmaster.pid");
        if (!Files.exists(pidFile)) {
            return;
        }
        long pid = -1;
        try {
            pid = Long.parseLong(Files.readAllLines(pidFile, StandardCharsets.UTF_8).get(0).trim());
        } catch (IOException | RuntimeException e) {
            log.debug("Unreadable {}: {}", pidFile, e.toString());
        }
        if (pid > 0 && ProcessRegistry.matches(pid, List.of(dataDir.toString()))
                && ProcessRegistry.commandLine(pid).get(0).endsWith("postgres")) {
            log.warn("Data folder {} of node '{}' is still served by PostgreSQL PID {}, not started by this JVM: "
                    + "stopping it", dataDir, name, pid);
            ProcessRegistry.stop(pid, "QUIT", 5_000);
        }
        try {
            Files.deleteIfExists(pidFile);
        } catch (IOException e) {
            throw new PgException("Node '" + name + "' cannot start: stale lock file " + pidFile
                    + " cannot be removed (" + e + "). Delete it by hand.");
        }
    }

    private void requirePortFree() {
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        } catch (IOException e) {
            throw new PgException(portInUseMessage());
        }
    }

    private String portInUseMessage() {
        return "Node '" + name + "' cannot listen on 127.0.0.1:" + port + ": the port is already in use by another "
                + "process. Stop that process, choose another port, or use port 0 for an ephemeral one.";
    }

    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new PgException("Cannot find a free port on 127.0.0.1: " + e);
        }
    }

    private long logSize() {
        try {
            return Files.exists(logFile()) ? Files.size(logFile()) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    private String logSince(long offset) {
        try (RandomAccessFile file = new RandomAccessFile(logFile().toFile(), "r")) {
            long length = file.length();
            long from = Math.min(Math.max(offset, 0), length);
            byte[] bytes = new byte[(int) Math.min(length - from, 1 << 20)];
            file.seek(from);
            file.readFully(bytes);
            return new String(bytes, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    private PreparedStatement prepare(Connection c, String sql, Object... params) throws SQLException {
        PreparedStatement statement = c.prepareStatement(sql);
        for (int i = 0; i < params.length; i++) {
            statement.setObject(i + 1, params[i]);
        }
        return statement;
    }

    private PgException sqlFailure(String sql, SQLException e) {
        return new PgException("SQL on node '" + name + "' (127.0.0.1:" + port + ") failed: " + e.getMessage()
                + " [SQLState " + e.getSQLState() + "] while running: " + sql, e);
    }

    static String tail(String text, int lines) {
        String[] all = text.strip().split("\n");
        int from = Math.max(0, all.length - lines);
        return String.join("\n", List.of(all).subList(from, all.length));
    }

    private static void writeQuietly(Path file, String text) {
        try {
            Files.writeString(file, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            log.debug("Cannot write {}: {}", file, e.toString());
        }
    }

    private static Map<String, String> baseSettings() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("listen_addresses", "127.0.0.1");
        s.put("unix_socket_directories", ""); // TCP only: no socket folder the server user must own
        s.put("wal_level", "replica");
        s.put("max_wal_senders", "10");
        s.put("max_replication_slots", "10");
        s.put("wal_keep_size", "256MB");
        s.put("wal_log_hints", "on");
        s.put("hot_standby", "on");
        s.putAll(REPLICATION_TIMING);
        s.put("log_line_prefix", "%m [%p] %q%a ");
        return java.util.Collections.unmodifiableMap(s);
    }

    /** The chosen port was taken between choosing and binding (ephemeral ports race with other programs). */
    private static final class PortInUseException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        PortInUseException(String message) {
            super(message);
        }
    }
}
