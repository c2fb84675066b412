package dev.doorbuster.postgres;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Set;

/**
 * Copies a running server's data folder into a new one that can start as its standby: what
 * {@code pg_basebackup -X none} does, through the SQL backup API and plain file copies, because the
 * bundled binaries ship no pg_basebackup.
 *
 * <p>Between {@code pg_backup_start} and {@code pg_backup_stop} the source keeps full-page images, so
 * files that change while being copied are repaired by WAL replay. The copy gets the {@code backup_label}
 * returned by {@code pg_backup_stop}; the WAL it needs is streamed from the source, whose replication
 * slot (created by the caller before the backup) keeps it.
 */
final class BaseBackup {
    /** Files that must not be copied: they describe the source's running instance. */
    private static final Set<String> SKIPPED_FILES = Set.of("postmaster.pid", "postmaster.opts", "backup_label",
            "tablespace_map", "standby.signal", "recovery.signal", "current_logfiles", "backup_manifest",
            "pg_internal.init");
    /** Folders copied empty: runtime state, or WAL that the copy streams instead. */
    private static final Set<String> EMPTIED_DIRS = Set.of("pg_wal", "pg_replslot", "pg_dynshmem", "pg_notify",
            "pg_serial", "pg_snapshots", "pg_stat_tmp", "pg_subtrans");

    private BaseBackup() {
    }

    /** Copies {@code source}'s data folder into {@code target} (which must not exist yet). */
    static void copy(PgNode source, Path target) {
        String label = "doorbuster clone " + target.getFileName();
        boolean modernApi = source.binaries().majorVersion() >= 15;
        try (Connection c = source.connect(); Statement statement = c.createStatement()) {
            statement.execute(modernApi
                    ? "SELECT pg_backup_start('" + label + "', true)"
                    : "SELECT pg_start_backup('" + label + "', true, false)");
            copyTree(source.dataDir(), target);
            try (ResultSet stop = statement.executeQuery(modernApi
                    ? "SELECT labelfile, spcmapfile FROM pg_backup_stop(true)"
                    : "SELECT labelfile, spcmapfile FROM pg_stop_backup(false, true)")) {
                stop.next();
                Files.writeString(target.resolve("backup_label"), stop.getString(1), StandardCharsets.UTF_8);
                String tablespaceMap = stop.getString(2);
                if (tablespaceMap != null && !tablespaceMap.isEmpty()) {
                    Files.writeString(target.resolve("tablespace_map"), tablespaceMap, StandardCharsets.UTF_8);
                }
            }
        } catch (SQLException e) {
            throw new PgException("Base backup of node '" + source.name() + "' failed: " + e.getMessage()
                    + " [SQLState " + e.getSQLState() + "]", e);
        } catch (IOException e) {
            throw new PgException("Cannot copy the data folder of node '" + source.name() + "' into " + target + ": "
                    + e + ". Check free disk space and that the folder is writable.", e);
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        Files.createDirectories(to.getParent());
        Files.createDirectory(to, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Files.walkFileTree(from, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Path relative = from.relativize(dir);
                if (relative.toString().isEmpty()) {
                    return FileVisitResult.CONTINUE;
                }
                Path copy = to.resolve(relative);
                Files.createDirectories(copy);
                Files.setPosixFilePermissions(copy, Files.getPosixFilePermissions(dir));
                if (relative.getNameCount() == 1 && EMPTIED_DIRS.contains(relative.toString())) {
                    if (relative.toString().equals("pg_wal")) {
                        Files.createDirectories(copy.resolve("archive_status"));
                        copyTimelineHistories(dir, copy);
                    }
                    return FileVisitResult.SKIP_SUBTREE;
                }
                if (dir.getFileName().toString().startsWith("pgsql_tmp")) {
                    return FileVisitResult.SKIP_SUBTREE;
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                if (SKIPPED_FILES.contains(file.getFileName().toString()) || !attrs.isRegularFile()) {
                    return FileVisitResult.CONTINUE;
                }
                try {
                    Files.copy(file, to.resolve(from.relativize(file)), StandardCopyOption.COPY_ATTRIBUTES);
                } catch (NoSuchFileException e) {
                    // Dropped by the server while we copied (e.g. a temp relation): WAL replay agrees.
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE;
                }
                throw e;
            }
        });
    }

    /** Timeline history files are tiny and let a standby of a promoted server follow its timeline. */
    private static void copyTimelineHistories(Path walDir, Path copy) throws IOException {
        try (var files = Files.list(walDir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (f.getFileName().toString().endsWith(".history")) {
                    Files.copy(f, copy.resolve(f.getFileName()), StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }

    /**
     * Turns a copied data folder into a standby's: standby.signal, and a postgresql.auto.conf that streams
     * from {@code host:port} through slot {@code slot}. Settings that only make sense on a primary (its
     * synchronous standby list) are dropped, or a later promotion would wait for standbys that do not exist.
     */
    static void configureStandby(Path dataDir, String applicationName, String host, int port) throws IOException {
        Files.writeString(dataDir.resolve("standby.signal"), "");
        Path autoConf = dataDir.resolve("postgresql.auto.conf");
        List<String> kept = Files.exists(autoConf)
                ? Files.readAllLines(autoConf, StandardCharsets.UTF_8).stream()
                        .filter(line -> !line.startsWith("primary_conninfo") && !line.startsWith("primary_slot_name")
                                && !line.startsWith("synchronous_standby_names"))
                        .toList()
                : List.of("# Do not edit this file manually!");
        StringBuilder conf = new StringBuilder(String.join("\n", kept)).append('\n');
        conf.append("primary_conninfo = '").append(conninfo(applicationName, host, port).replace("'", "''")).append("'\n");
        conf.append("primary_slot_name = '").append(applicationName).append("'\n");
        Files.writeString(autoConf, conf, StandardCharsets.UTF_8);
    }

    /** The connection string a standby uses to stream from {@code host:port}. */
    static String conninfo(String applicationName, String host, int port) {
        return "host=" + host + " port=" + port + " user=postgres application_name=" + applicationName
                + " sslmode=disable connect_timeout=2";
    }
}
