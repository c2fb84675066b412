package dev.doorbuster.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

import dev.doorbuster.process.DoorbusterHome;
import dev.doorbuster.process.ProcessRegistry;
import dev.doorbuster.process.ServerUser;
import dev.doorbuster.tools.Required;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real redis-server as a run starts it: on loopback, as the servers' unprivileged user when root, nothing on disk,
 * recognisable by the process registry (so the watchdog and the next-start reaper can stop it by PID), cold after a
 * restart, gone after close; and a clear refusal when the binary is missing.
 */
class RedisServerTest {
    @TempDir
    Path tmp;
    /** Under the Doorbuster home, which the servers' user can reach (a @TempDir under /tmp is root's alone). */
    private Path scratch;

    @BeforeEach
    void needsRedis() throws Exception {
        Required.assume(RedisBinary.available(), RedisBinary.missingMessage());
        scratch = Files.createDirectories(DoorbusterHome.get().resolve("redis-test-" + UUID.randomUUID()));
    }

    @AfterEach
    void removeScratch() throws Exception {
        if (scratch != null) {
            try (Stream<Path> tree = Files.walk(scratch)) {
                tree.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void startsOnLoopbackAsTheServerUserAndStopsByPid() throws Exception {
        Path dir = scratch;
        ServerUser user = ServerUser.detect();
        try (RedisServer server = RedisServer.start("cache", RedisBinary.resolve(), user, dir.resolve("redis"), null)) {
            long pid = pidListeningOn(server);
            assertTrue(ProcessRegistry.matches(pid, List.of(RedisBinary.resolve().path().toString(),
                    dir.resolve("redis").toAbsolutePath().toString())),
                    "the recorded command line must still be the process's (set-proc-title no): "
                            + ProcessRegistry.commandLine(pid));
            if (user.switchesUser()) {
                int uid = (Integer) Files.getAttribute(Path.of("/proc", Long.toString(pid)), "unix:uid");
                assertNotEquals(0, uid, "redis-server must not run as root");
            }
            try (RedisAdmin admin = RedisAdmin.connect(server.url())) {
                assertEquals("", admin.config("save"), "a cache never snapshots to disk");
                assertEquals("no", admin.config("appendonly"), "nor keeps an append-only file");
                assertEquals("127.0.0.1", admin.config("bind"), "loopback only");
            }
            server.close();
            assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "stopped by its PID");
            assertFalse(server.isRunning());
        }
    }

    @Test
    void statisticsCountHitsAndMissesAndARestartIsCold() {
        try (RedisServer server = RedisServer.start("cache", RedisBinary.resolve(), ServerUser.detect(),
                scratch.resolve("redis"), null);
             RedisAdmin admin = RedisAdmin.connect(server.url())) {
            try (var client = io.lettuce.core.RedisClient.create(server.url());
                 var connection = client.connect()) {
                var commands = connection.sync();
                commands.set("product:1", "{\"id\":1}");
                commands.get("product:1");
                commands.get("product:1");
                commands.get("product:2");
            }
            RedisAdmin.Stats stats = admin.stats();
            assertEquals(2, stats.keyspaceHits());
            assertEquals(1, stats.keyspaceMisses());
            assertEquals(1, admin.keyCount());
            assertEquals(1, admin.expireNow(List.of("product:1", "product:2")), "one of the two keys existed");

            int port = server.port();
            server.restart();
            assertEquals(port, server.port(), "a restart keeps the address clients know");
            try (RedisAdmin after = RedisAdmin.connect(server.url())) {
                assertEquals(0, after.keyCount(), "nothing survives a restart: it is a cache");
                assertEquals(0, after.stats().keyspaceHits());
            }
        }
    }

    @Test
    void aMissingBinaryIsOneLineNamingThePackageAndTheDockerEnvironment() {
        String previous = System.getProperty(RedisBinary.PROPERTY);
        System.setProperty(RedisBinary.PROPERTY, tmp.resolve("no-such-redis-server").toString());
        try {
            RedisException e = assertThrows(RedisException.class, RedisBinary::resolve);
            assertTrue(e.getMessage().contains("no-such-redis-server") && e.getMessage().contains("redis-server"),
                    e.getMessage());
            assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
            assertTrue(RedisBinary.missingMessage().contains("apt-get install redis-server")
                    && RedisBinary.missingMessage().contains("docker"), RedisBinary.missingMessage());
        } finally {
            if (previous == null) {
                System.clearProperty(RedisBinary.PROPERTY);
            } else {
                System.setProperty(RedisBinary.PROPERTY, previous);
            }
        }
    }

    @Test
    void aBinaryThatIsNotRedisIsRefusedNamingIt() throws Exception {
        Path fake = tmp.resolve("redis-server");
        Files.writeString(fake, "#!/bin/sh\necho 'hello'\n");
        fake.toFile().setExecutable(true);
        String previous = System.getProperty(RedisBinary.PROPERTY);
        System.setProperty(RedisBinary.PROPERTY, fake.toString());
        try {
            RedisException e = assertThrows(RedisException.class, RedisBinary::resolve);
            assertTrue(e.getMessage().contains(fake.toString()) && e.getMessage().contains("version"), e.getMessage());
        } finally {
            if (previous == null) {
                System.clearProperty(RedisBinary.PROPERTY);
            } else {
                System.setProperty(RedisBinary.PROPERTY, previous);
            }
        }
    }

    /** The PID of the server process: the one whose command line names this server's port. */
    private static long pidListeningOn(RedisServer server) {
        return ProcessHandle.current().descendants()
                .filter(h -> ProcessRegistry.commandLine(h.pid()).contains(Integer.toString(server.port())))
                .mapToLong(ProcessHandle::pid).findFirst()
                .orElseThrow(() -> new AssertionError("no child process serves port " + server.port()));
    }
}
