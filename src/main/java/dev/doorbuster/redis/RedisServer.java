package dev.doorbuster.redis;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.doorbuster.process.ProcessException;
import dev.doorbuster.process.ProcessRegistry;
import dev.doorbuster.process.ServerLog;
import dev.doorbuster.process.ServerUser;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Redis server on 127.0.0.1, used as a cache: no persistence (no RDB snapshots, no AOF), so a restart is a
 * cold cache. Run as the same unprivileged user as PostgreSQL when this JVM is root, and recorded with the
 * {@link ProcessRegistry} (shutdown hook, watchdog, next-start reaper) like every server a run starts.
 *
 * <p>{@code set-proc-title no} keeps the server's command line as launched, so a leftover is recognised by its
 * binary and folder before it is signalled (PIDs get reused).
 */
public final class RedisServer implements ProcessRegistry.Tracked, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RedisServer.class);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(15);
    private static final String READY = "Ready to accept connections";
    private static final int PORT_ATTEMPTS = 3;

    private final String name;
    private final RedisBinary binary;
    private final ServerUser user;
    private final Path dir;
    private final Path cleanupDir;
    private int port;
    private Process process;

    private RedisServer(String name, RedisBinary binary, ServerUser user, Path dir, Path cleanupDir) {
        this.name = name;
        this.binary = binary;
        this.user = user;
        this.dir = dir.toAbsolutePath();
        this.cleanupDir = cleanupDir;
    }

    /**
     * Starts a server named {@code name} with its log and working files in {@code dir} (created), on a free
     * loopback port.
     *
     * @param cleanupDir folder the reaper deletes once a dead run's servers are gone (or null)
     */
    public static RedisServer start(String name, RedisBinary binary, ServerUser user, Path dir, Path cleanupDir) {
        RedisServer server = new RedisServer(name, binary, user, dir, cleanupDir);
        server.prepareDir();
        ProcessRegistry.stopLeftovers();
        for (int attempt = 1; ; attempt++) {
            server.port = freePort();
            try {
                server.launch();
                return server;
            } catch (PortTakenException e) {
                if (attempt >= PORT_ATTEMPTS) {
                    throw new RedisException(e.getMessage());
                }
                log.info("Port {} was taken before Redis '{}' could bind it; trying another", server.port, name);
            }
        }
    }

    public String name() {
        return name;
    }

    public int port() {
        return port;
    }

    public InetSocketAddress address() {
        return new InetSocketAddress("127.0.0.1", port);
    }

    /** {@code redis://127.0.0.1:<port>}: a URL the storefront's client and the harness's admin both accept. */
    public String url() {
        return "redis://127.0.0.1:" + port;
    }

    public Path logFile() {
        return dir.resolve("redis.log");
    }

    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    /**
     * A cold restart on the same port: the server stops (every key gone, every connection closed) and starts
     * again empty. Clients reconnect to the same address.
     */
    public synchronized void restart() {
        stop();
        try {
            launch();
        } catch (PortTakenException e) {
            throw new RedisException("Redis '" + name + "' could not come back on port " + port + ": " + e.getMessage());
        }
    }

    /** Graceful stop (SIGTERM; with nothing to save it is immediate), then SIGKILL after 5 s. Waits until gone. */
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
        return "Redis '" + name + "' (" + dir + ")";
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

    private void prepareDir() {
        try {
            user.requireReachable(dir, "Redis folder");
            Files.createDirectories(dir);
            user.own(dir);
        } catch (IOException | ProcessException e) {
            throw new RedisException("Cannot prepare the folder of Redis '" + name + "' at " + dir + ": "
                    + e.getMessage());
        }
    }

    private synchronized void launch() throws PortTakenException {
        List<String> command = user.command(List.of(binary.path().toString(),
                "--port", Integer.toString(port),
                "--bind", "127.0.0.1",
                "--protected-mode", "yes",
                // A cache: nothing is ever written to disk, so a restart is cold.
                "--save", "",
                "--appendonly", "no",
                "--daemonize", "no",
                "--set-proc-title", "no",
                "--dir", dir.toString(),
                "--logfile", logFile().toString()));
        long logStart = ServerLog.size(logFile());
        Process started;
        try {
            started = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("redis.out").toFile())).start();
        } catch (IOException e) {
            throw new RedisException("Cannot launch " + binary.path() + " for Redis '" + name + "': " + e.getMessage());
        }
        process = started;
        ProcessRegistry.started(this, started.pid(), List.of(binary.path().toString(), dir.toString()), "TERM",
                cleanupDir);
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        try {
            while (true) {
                String newLog = ServerLog.since(logFile(), logStart);
                if (!started.isAlive()) {
                    ProcessRegistry.stopped(this, started.pid());
                    process = null;
                    String output = newLog + ServerLog.read(dir.resolve("redis.out"));
                    if (output.contains("Address already in use")) {
                        throw new PortTakenException("port " + port + " is already in use");
                    }
                    throw new RedisException("Redis '" + name + "' exited during start-up (exit code "
                            + started.exitValue() + "). It said:\n" + ServerLog.tail(output, 12));
                }
                if (newLog.contains(READY)) {
                    log.debug("Redis '{}' ready on port {} (PID {})", name, port, started.pid());
                    return;
                }
                if (System.nanoTime() > deadline) {
                    stop();
                    throw new RedisException("Redis '" + name + "' did not accept connections within "
                            + START_TIMEOUT.toSeconds() + " s. Its log (" + logFile() + ") ends:\n" + ServerLog.tail(newLog, 12));
                }
                Thread.sleep(5);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stop();
            throw new RedisException("Interrupted while starting Redis '" + name + "'");
        }
    }

    private static int freePort() {
        try {
            return ServerLog.freeLoopbackPort();
        } catch (IOException e) {
            throw new RedisException("No free loopback port for Redis: " + e.getMessage());
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
