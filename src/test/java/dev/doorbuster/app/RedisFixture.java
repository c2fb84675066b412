package dev.doorbuster.app;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

import dev.doorbuster.process.Dirs;
import dev.doorbuster.process.DoorbusterHome;
import dev.doorbuster.process.ServerUser;
import dev.doorbuster.redis.RedisAdmin;
import dev.doorbuster.redis.RedisBinary;
import dev.doorbuster.redis.RedisServer;
import dev.doorbuster.tools.Required;

/**
 * A real Redis server for the cache tier's tests (the harness's {@link RedisServer}: loopback, no persistence, a
 * restart is cold) and the harness's own direct connection to it ({@link RedisAdmin}: its statistics are the oracle
 * the storefront's meters are checked against). Skips the test, saying why, when redis-server is not installed.
 * {@link #close()} stops the server and deletes its folder.
 */
final class RedisFixture implements AutoCloseable {
    private static final AtomicInteger SEQUENCE = new AtomicInteger();

    final RedisServer server;
    private final Path dir;
    private RedisAdmin admin;

    private RedisFixture(RedisServer server, Path dir) {
        this.server = server;
        this.dir = dir;
    }

    static RedisFixture start(String name) {
        Required.assume(RedisBinary.available(), RedisBinary.missingMessage());
        Path dir = DoorbusterHome.get().resolve("test-redis").resolve(name + "-" + ProcessHandle.current().pid() + "-"
                + SEQUENCE.incrementAndGet());
        RedisServer server = RedisServer.start(name, RedisBinary.resolve(), ServerUser.detect(), dir, dir);
        return new RedisFixture(server, dir);
    }

    String url() {
        return server.url();
    }

    /** The harness's connection, made on first use and again after a restart of the server. */
    synchronized RedisAdmin admin() {
        if (admin == null) {
            admin = RedisAdmin.connect(server.url());
        }
        return admin;
    }

    /** A cold restart on the same port (every key gone, every connection closed). */
    synchronized void restart() {
        closeAdmin();
        server.restart();
    }

    /** Stops the server; {@link #restart()} brings it back on the same port. */
    synchronized void stop() {
        closeAdmin();
        server.stop();
    }

    private void closeAdmin() {
        if (admin != null) {
            admin.close();
            admin = null;
        }
    }

    @Override
    public synchronized void close() {
        try {
            closeAdmin();
        } finally {
            server.close();
            Dirs.deleteQuietly(dir);
        }
    }
}
