package dev.doorbuster.postgres;

import dev.doorbuster.process.ServerUser;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every mistake a user can make gets a message that says what is wrong and what to do. */
class BadInputTest {
    @TempDir
    Path tmp;

    @BeforeEach
    void letTheServerUserIn() throws IOException {
        // JUnit makes temp folders 0700; PostgreSQL may run as another user (when we are root).
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @Test
    void missingBinariesFolder() {
        Path missing = tmp.resolve("no-such-folder");
        PgException e = assertThrows(PgException.class, () -> PgBinaries.fromDirectory(missing));
        assertMentions(e, missing.toString(), "does not exist", PgBinaries.PROPERTY);
    }

    @Test
    void binariesFolderWithoutPostgres() throws IOException {
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        executable(bin.resolve("initdb"), "#!/bin/sh\nexit 0\n");
        PgException e = assertThrows(PgException.class, () -> PgBinaries.fromDirectory(bin));
        assertMentions(e, "has no 'postgres'", bin.resolve("postgres").toString(), PgBinaries.PROPERTY);
    }

    @Test
    void corruptBinariesFolder() throws IOException {
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        executable(bin.resolve("initdb"), "\u007fELF garbage");
        executable(bin.resolve("postgres"), "\u007fELF garbage, truncated by a bad copy");
        PgException e = assertThrows(PgException.class, () -> PgBinaries.fromDirectory(bin));
        assertMentions(e, bin.resolve("postgres").toString(), "does not run", "damaged", PgBinaries.PROPERTY);
    }

    @Test
    void notExecutableBinary() throws IOException {
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        executable(bin.resolve("initdb"), "#!/bin/sh\n");
        Files.writeString(bin.resolve("postgres"), "#!/bin/sh\n");
        PgException e = assertThrows(PgException.class, () -> PgBinaries.fromDirectory(bin));
        assertMentions(e, "not executable", "chmod");
    }

    @Test
    void damagedExtractionCacheIsNoticedAndRepaired() throws IOException {
        Path cache = tmp.resolve("cache");
        PgBinaries first = PgBinaries.bundled(cache);
        Files.delete(first.postgres());
        Path lib = first.binDir().resolveSibling("lib");
        try (var libs = Files.list(lib)) {
            Path someLibrary = libs.filter(Files::isRegularFile).findFirst().orElseThrow();
            Files.writeString(someLibrary, "truncated"); // wrong size
        }
        PgBinaries repaired = PgBinaries.bundled(cache);
        assertTrue(Files.isExecutable(repaired.postgres()), "postgres extracted again");
        assertEquals(first.version(), repaired.version());
    }

    @Test
    void portAlreadyTaken() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            PgException e = assertThrows(PgException.class,
                    () -> PgCluster.builder().replicas(0).ports(port).workDir(tmp.resolve("cluster")).start());
            assertMentions(e, "127.0.0.1:" + port, "already in use", "port 0");
            assertEquals(List.of(), Processes.mentioning(tmp.resolve("cluster").toString()), "nothing left running");
        }
    }

    @Test
    void portOutOfRange() {
        PgException e = assertThrows(PgException.class,
                () -> PgCluster.builder().replicas(0).ports(70000).workDir(tmp.resolve("cluster")).start());
        assertMentions(e, "70000", "out of range", "1-65535");
    }

    @Test
    void unwritableDataFolder() throws Exception {
        Path locked = Files.createDirectories(tmp.resolve("locked"));
        boolean root = ServerUser.currentUid() == 0;
        // Root may write anywhere except into an immutable folder; anyone else is stopped by mode 0555.
        if (root) {
            run("chattr", "+i", locked.toString());
        } else {
            Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("r-xr-xr-x"));
        }
        try {
            Path workDir = locked.resolve("cluster");
            PgException e = assertThrows(PgException.class,
                    () -> PgCluster.builder().replicas(0).workDir(workDir).start());
            assertMentions(e, workDir.toString(), "writable");
        } finally {
            if (root) {
                run("chattr", "-i", locked.toString());
            } else {
                Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
        }
    }

    @Test
    void foreignNonEmptyWorkFolderIsNotWiped() throws IOException {
        Path workDir = Files.createDirectories(tmp.resolve("precious"));
        Path precious = Files.writeString(workDir.resolve("thesis.txt"), "do not delete");
        PgException e = assertThrows(PgException.class, () -> PgCluster.builder().replicas(0).workDir(workDir).start());
        assertMentions(e, workDir.toString(), "not empty", "not made by Doorbuster");
        assertTrue(Files.exists(precious));
    }

    @Test
    void unknownSyncMode() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SyncMode.parse("sometimes"));
        assertMentions(e, "sometimes", "off, on, remote_apply");
        assertEquals(SyncMode.REMOTE_APPLY, SyncMode.parse("Remote-Apply"));
    }

    @Test
    void unreachableWorkFolderForTheServerUser() throws IOException {
        ServerUser user = ServerUser.detect();
        dev.doorbuster.tools.Required.assume(user.switchesUser(), "only when servers run as another user (as root)");
        Path closed = Files.createDirectories(tmp.resolve("closed"));
        Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString("rwx------"));
        dev.doorbuster.process.ProcessException e = assertThrows(dev.doorbuster.process.ProcessException.class,
                () -> PgCluster.builder().replicas(0).workDir(closed.resolve("cluster")).start());
        assertMentions(e, user.name(), closed.toString(), "chmod o+x");
    }

    private static void assertMentions(Exception e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "message should mention '" + part + "': " + e.getMessage());
        }
    }

    private static void executable(Path file, String content) throws IOException {
        Files.writeString(file, content);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).inheritIO().start();
        assertTrue(p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS) && p.exitValue() == 0, String.join(" ", command));
    }
}
