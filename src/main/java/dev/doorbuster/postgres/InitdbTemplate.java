package dev.doorbuster.postgres;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import dev.doorbuster.process.Dirs;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import dev.doorbuster.process.Exec;
import dev.doorbuster.process.ServerUser;

/**
 * A per-machine copy of what initdb produces, so a new node's data folder is copied (about a quarter of a second)
 * instead of initialised again (over a second, most of it CPU, on a 2-core machine). Every run and most tests start
 * a fresh cluster, so this is the cost they all share.
 *
 * <p>The template is the data folder right after initdb, before Doorbuster writes any setting: settings are
 * appended to each copy's {@code postgresql.conf} by {@link PgNode#init}, so changing them never needs a new
 * template. A template is made for one combination of what does shape initdb's output: the server's version
 * ({@code postgres --version}), its binaries folder, initdb's arguments and the OS user who owns the files. Each
 * combination has its own folder, named by a hash of it, so a new PostgreSQL version or another server user makes
 * (and uses) a new template and never an old one. It is built once under a file lock (parallel JVMs wait for it) into
 * a staging folder moved into place when complete; a copy that fails for any reason falls back to running initdb.
 * {@code -Ddoorbuster.pg.initdbTemplate=false} turns it off.
 */
final class InitdbTemplate {
    static final String PROPERTY = "doorbuster.pg.initdbTemplate";
    /** Written last into a template folder: present only when the template is complete. It names the key. */
    static final String COMPLETE = "template.key";
    private static final Logger log = LoggerFactory.getLogger(InitdbTemplate.class);

    private final PgBinaries binaries;
    private final ServerUser user;
    private final List<String> initdbArguments;
    private final Path root;

    /**
     * @param root            folder of this machine's templates (one sub-folder per key)
     * @param initdbArguments initdb's arguments after {@code -D <folder>}
     */
    InitdbTemplate(PgBinaries binaries, ServerUser user, List<String> initdbArguments, Path root) {
        this.binaries = binaries;
        this.user = user;
        this.initdbArguments = List.copyOf(initdbArguments);
        this.root = root;
    }

    static boolean enabled() {
        return !"false".equalsIgnoreCase(System.getProperty(PROPERTY, "true").trim());
    }

    /** What the template depends on, one item per line (hashed into its folder name, kept in {@value #COMPLETE}). */
    String key() {
        return "version=" + binaries.version() + "\nbinaries=" + binaries.binDir() + "\ninitdb=" + String.join(" ",
                initdbArguments) + "\nuser=" + user.name() + "\n";
    }

    Path folder() {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(key().getBytes(StandardCharsets.UTF_8));
            return root.resolve("initdb-" + binaries.version() + "-" + HexFormat.of().formatHex(hash, 0, 8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
    }

    /**
     * Makes {@code dataDir} (which must not exist) a copy of the template, building the template first if needed.
     *
     * @return what happened, for the node's {@code initdb.log}; empty when the copy could not be made (then
     *         {@code dataDir} does not exist, and the caller runs initdb itself)
     */
    java.util.Optional<String> copyInto(Path dataDir, Path workDir) {
        Path template;
        try {
            template = ensureBuilt(workDir);
        } catch (IOException | PgException e) {
            log.warn("No initdb template in {} ({}); running initdb instead", root, e.getMessage());
            return java.util.Optional.empty();
        }
        // As the server user: the copy is theirs, with the modes PostgreSQL insists on (0700), like initdb's output.
        Exec.Result copy = Exec.run(user.command(List.of("cp", "-a", "--", template.resolve("data").toString(),
                dataDir.toString())), workDir, Duration.ofSeconds(60));
        if (!copy.ok()) {
            log.warn("Copying the initdb template {} failed (exit {}): {}; running initdb instead", template,
                    copy.exitCode(), copy.output().strip());
            try {
                Dirs.deleteTree(dataDir);
            } catch (IOException e) {
                throw new PgException("Cannot remove the half-copied data folder " + dataDir + ": " + e);
            }
            return java.util.Optional.empty();
        }
        return java.util.Optional.of("Copied from the initdb template " + template + " (made once per machine by: initdb -D"
                + " <folder> " + String.join(" ", initdbArguments) + "; -D" + PROPERTY + "=false runs initdb each time)\n");
    }

    @SuppressWarnings("try") // the lock is held for the block's duration, never referenced
    private Path ensureBuilt(Path workDir) throws IOException {
        Path target = folder();
        if (isComplete(target)) {
            return target;
        }
        Files.createDirectories(root);
        // The server user must reach the template to copy it (root's JVM made the folder).
        root.toFile().setReadable(true, false);
        root.toFile().setExecutable(true, false);
        try (FileChannel lockFile = FileChannel.open(root.resolve(".build.lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE); FileLock ignored = lockFile.lock()) {
            if (isComplete(target)) {
                return target;
            }
            long started = System.nanoTime();
            Path staging = root.resolve("." + target.getFileName() + ".tmp-" + ProcessHandle.current().pid());
            Dirs.deleteTree(staging);
            Files.createDirectories(staging);
            user.own(staging);
            List<String> command = new ArrayList<>(List.of(binaries.initdb().toString(), "-D",
                    staging.resolve("data").toString()));
            command.addAll(initdbArguments);
            Exec.Result result = Exec.run(user.command(command), workDir, Duration.ofSeconds(120));
            if (!result.ok()) {
                Dirs.deleteTree(staging);
                throw new PgException("initdb for the template failed (exit " + result.exitCode() + "): "
                        + result.output().strip());
            }
            Files.writeString(staging.resolve(COMPLETE), key(), StandardCharsets.UTF_8);
            Dirs.deleteTree(target); // an incomplete one left by a killed build
            try {
                Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(staging, target);
            }
            log.info("Made the initdb template {} in {} ms", target, (System.nanoTime() - started) / 1_000_000);
            return target;
        }
    }

    private boolean isComplete(Path target) {
        try {
            return Files.isRegularFile(target.resolve("data").resolve("PG_VERSION"))
                    && key().equals(Files.readString(target.resolve(COMPLETE), StandardCharsets.UTF_8));
        } catch (IOException e) {
            return false;
        }
    }
}
