package dev.doorbuster.pooler;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.doorbuster.process.ProcessException;
import dev.doorbuster.process.ProcessRegistry;
import dev.doorbuster.process.ServerLog;
import dev.doorbuster.process.ServerUser;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One PgBouncer on 127.0.0.1, run as the same unprivileged user as PostgreSQL (PgBouncer refuses root) and recorded
 * with the {@link ProcessRegistry} (shutdown hook, watchdog, next-start reaper) like every server a run starts.
 *
 * <p>Clients log in as the database's user without a password ({@code auth_type = trust}: the servers behind it trust
 * loopback too), and that user is the admin console's: {@link #pause}, {@link #resume}, {@link #repoint} and the
 * {@link #pools()} and {@link #stats()} probes go through the console, as an operator's runbook does.
 */
public final class PgBouncerServer implements ProcessRegistry.Tracked, AutoCloseable {
    /** The admin console's database name, PgBouncer's own. */
    public static final String ADMIN_DATABASE = "pgbouncer";
    private static final Logger log = LoggerFactory.getLogger(PgBouncerServer.class);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(15);
    private static final int PORT_ATTEMPTS = 3;

    private final String name;
    private final PgBouncerBinary binary;
    private final ServerUser user;
    /** Database users besides {@code login} who may log in as clients. */
    private List<String> clients = List.of();
    private final String login;
    private final Path dir;
    private final Path cleanupDir;
    private volatile PgBouncerConfig config;
    private int port;
    private Process process;

    private PgBouncerServer(String name, PgBouncerBinary binary, ServerUser user, String login, Path dir,
                            Path cleanupDir, PgBouncerConfig config) {
        this.name = name;
        this.binary = binary;
        this.user = user;
        this.login = login;
        this.dir = dir.toAbsolutePath();
        this.cleanupDir = cleanupDir;
        this.config = config;
    }

    /**
     * Starts a pooler named {@code name} with its configuration and log in {@code dir} (created), on a free loopback
     * port.
     *
     * @param login      the database user clients and the admin console log in as (the servers must trust it)
     * @param cleanupDir folder the reaper deletes once a dead run's servers are gone (or null)
     */
    public static PgBouncerServer start(String name, PgBouncerBinary binary, ServerUser user, String login, Path dir,
                                        Path cleanupDir, PgBouncerConfig config) {
        return start(name, binary, user, login, List.of(), dir, cleanupDir, config);
    }

    /**
     * As {@link #start(String, PgBouncerBinary, ServerUser, String, Path, Path, PgBouncerConfig)}, with more database
     * users who may log in as clients (an application's own role), but not at the admin console.
     */
    public static PgBouncerServer start(String name, PgBouncerBinary binary, ServerUser user, String login,
                                        List<String> clients, Path dir, Path cleanupDir, PgBouncerConfig config) {
        List<String> logins = new java.util.ArrayList<>(List.of(login == null ? "" : login));
        logins.addAll(clients);
        for (String each : logins) {
            if (!each.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                throw new PoolerException("the pooler's login '" + each + "' must be a plain database user name");
            }
        }
        if (dir.toAbsolutePath().toString().matches(".*[\\s;#\"].*")) {
            throw new PoolerException("PgBouncer's folder " + dir + " has a space, ';', '#' or '\"' in its path, which "
                    + "pgbouncer.ini cannot hold; set -Ddoorbuster.home to a plain path");
        }
        PgBouncerServer server = new PgBouncerServer(name, binary, user, login, dir, cleanupDir, config);
        server.clients = List.copyOf(clients);
        server.prepareDir();
        ProcessRegistry.stopLeftovers();
        for (int attempt = 1; ; attempt++) {
            server.port = freePort();
            try {
                server.launch();
                return server;
            } catch (PortTakenException e) {
                if (attempt >= PORT_ATTEMPTS) {
                    throw new PoolerException(e.getMessage());
                }
                log.info("Port {} was taken before PgBouncer '{}' could bind it; trying another", server.port, name);
            }
        }
    }

    public String name() {
        return name;
    }

    public InetSocketAddress address() {
        return new InetSocketAddress("127.0.0.1", port);
    }

    public PgBouncerConfig config() {
        return config;
    }

    public String version() {
        return binary.version();
    }

    public Path logFile() {
        return dir.resolve("pgbouncer.log");
    }

    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    /**
     * {@code PAUSE alias}: waits until every server connection of the alias is back in the pool, then holds new
     * queries of its clients (they wait, connected) until {@link #resume}. Returns once the pause took hold.
     */
    public void pause(String alias) {
        config.requireAlias(alias, name);
        console().pause(alias);
    }

    /** {@code RESUME alias}: the held clients' queries go on. */
    public void resume(String alias) {
        config.requireAlias(alias, name);
        console().resume(alias);
    }

    /**
     * {@code RESUME alias} when it may or may not be paused (a {@code PAUSE} whose answer did not come in time may still
     * have taken hold): PgBouncer's "is not paused" answer is no failure here.
     *
     * @return false when the alias was not paused
     */
    public boolean resumeIfPaused(String alias) {
        config.requireAlias(alias, name);
        return console().resumeIfPaused(alias);
    }

    /**
     * Points {@code alias} at another server: pgbouncer.ini rewritten, then {@code RELOAD}. PgBouncer closes the
     * alias's server connections to the old server once they are released, and opens new ones to the new server.
     */
    public synchronized void repoint(String alias, InetSocketAddress server) {
        config = config.withTarget(alias, server);
        writeConfig();
        console().reload();
    }

    /** {@code SHOW POOLS}: one row per database and user of the console's view, the admin console's own left out. */
    public List<Pool> pools() {
        return console().pools();
    }

    /** {@code SHOW STATS}: totals since the pooler started, per database, the admin console's own left out. */
    public List<Stats> stats() {
        return console().stats();
    }

    /**
     * One database's pool now. {@code serversIdle} counts every open server connection not running a transaction
     * (PgBouncer's idle, used and tested ones); {@code maxWaitMicros} is how long the client waiting longest has waited
     * for a server connection.
     */
    public record Pool(String database, int clientsActive, int clientsWaiting, int serversActive, int serversIdle,
                       int serversLoggingIn, long maxWaitMicros) {
        public int servers() {
            return serversActive + serversIdle + serversLoggingIn;
        }
    }

    /** One database's totals: transactions and queries pooled, and the time clients spent waiting for a server. */
    public record Stats(String database, long transactions, long queries, long waitMicros) {
    }

    /**
     * Stops the pooler and starts it again on the same port, as a crash and a supervisor's restart: every client's
     * and server's connection is cut.
     */
    public synchronized void restart() {
        stop();
        try {
            launch();
        } catch (PortTakenException e) {
            throw new PoolerException("PgBouncer '" + name + "' could not come back on port " + port + ": "
                    + e.getMessage());
        }
    }

    /** SIGTERM, PgBouncer's immediate shutdown (SIGINT would wait for clients), then SIGKILL after 5 s. */
    public synchronized void stop() {
        Process p = process;
        if (p == null) {
            return;
        }
        ProcessRegistry.stop(p.pid(), "TERM", 5_000);
        try {
            p.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        ProcessRegistry.stopped(this, p.pid());
        process = null;
    }

    @Override
    public void close() {
        stop();
    }

    @Override
    public String label() {
        return "PgBouncer '" + name + "' (" + dir + ")";
    }

    @Override
    public void stopAtExit() {
        Process p = process;
        if (p != null) {
            p.destroyForcibly();
        }
    }

    @Override
    public String toString() {
        return name + "@127.0.0.1:" + port;
    }

    private Path iniFile() {
        return dir.resolve("pgbouncer.ini");
    }

    private void prepareDir() {
        try {
            user.requireReachable(dir, "PgBouncer folder");
            Files.createDirectories(dir);
            // Every client logs in as one of these database users, without a password: the servers behind trust loopback.
            Map<String, String> users = new java.util.LinkedHashMap<>();
            users.put(login, "");
            clients.forEach(client -> users.put(client, ""));
            Files.writeString(dir.resolve("users.txt"), PgBouncerConfig.usersFile(users), StandardCharsets.UTF_8);
            user.own(dir);
            user.own(dir.resolve("users.txt"));
        } catch (IOException | ProcessException e) {
            throw new PoolerException("Cannot prepare the folder of PgBouncer '" + name + "' at " + dir + ": "
                    + e.getMessage());
        }
    }

    private void writeConfig() {
        String ini = config.ini(new PgBouncerConfig.Placement("127.0.0.1", port, dir.resolve("users.txt").toString(),
                logFile().toString(), login));
        try {
            Files.writeString(iniFile(), ini, StandardCharsets.UTF_8);
            user.own(iniFile());
        } catch (IOException | ProcessException e) {
            throw new PoolerException("Cannot write " + iniFile() + ": " + e.getMessage());
        }
    }

    private synchronized void launch() throws PortTakenException {
        writeConfig();
        List<String> command = user.command(List.of(binary.path().toString(), iniFile().toString()));
        long logStart = ServerLog.size(logFile());
        Process started;
        try {
            started = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("pgbouncer.out").toFile())).start();
        } catch (IOException e) {
            throw new PoolerException("Cannot launch " + binary.path() + " for PgBouncer '" + name + "': "
                    + e.getMessage());
        }
        process = started;
        ProcessRegistry.started(this, started.pid(), List.of(binary.path().toString(), iniFile().toString()), "TERM",
                cleanupDir);
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        try {
            while (true) {
                if (!started.isAlive()) {
                    ProcessRegistry.stopped(this, started.pid());
                    process = null;
                    String output = ServerLog.since(logFile(), logStart) + ServerLog.read(dir.resolve("pgbouncer.out"));
                    if (output.contains("Address already in use")) {
                        throw new PortTakenException("port " + port + " is already in use");
                    }
                    throw new PoolerException("PgBouncer '" + name + "' exited during start-up (exit code "
                            + started.exitValue() + "). It said:\n" + ServerLog.tail(output, 12));
                }
                if (accepts()) {
                    log.debug("PgBouncer '{}' ready on port {} (PID {})", name, port, started.pid());
                    return;
                }
                if (System.nanoTime() > deadline) {
                    stop();
                    throw new PoolerException("PgBouncer '" + name + "' did not accept connections within "
                            + START_TIMEOUT.toSeconds() + " s. Its log (" + logFile() + ") ends:\n"
                            + ServerLog.tail(ServerLog.since(logFile(), logStart), 12));
                }
                Thread.sleep(10);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stop();
            throw new PoolerException("Interrupted while starting PgBouncer '" + name + "'");
        }
    }

    private boolean accepts() {
        try (Socket socket = new Socket()) {
            socket.connect(address(), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Its admin console, at its address now. */
    private PgBouncerConsole console() {
        return new PgBouncerConsole(name, address(), login);
    }

    private static int freePort() {
        try {
            return ServerLog.freeLoopbackPort();
        } catch (IOException e) {
            throw new PoolerException("No free loopback port for PgBouncer: " + e.getMessage());
        }
    }

    /** The chosen port was taken between choosing it and the server binding it. */
    private static final class PortTakenException extends Exception {
        private static final long serialVersionUID = 1L;

        PortTakenException(String message) {
            super(message);
        }
    }
}
