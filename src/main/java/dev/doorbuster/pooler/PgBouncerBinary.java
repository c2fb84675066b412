package dev.doorbuster.pooler;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.doorbuster.process.Exec;

/**
 * The {@code pgbouncer} executable a run starts its pooler with: {@code -Ddoorbuster.pgbouncer.bin} if set, else the
 * first on {@code PATH}, else Debian's {@code /usr/sbin/pgbouncer} (a user's {@code PATH} often lacks
 * {@code /usr/sbin}). Nothing is bundled: Debian's {@code pgbouncer} package is the reference.
 *
 * @param path    the executable
 * @param version what {@code pgbouncer --version} says ({@code 1.18.0})
 */
public record PgBouncerBinary(Path path, String version) {
    public static final String PROPERTY = "doorbuster.pgbouncer.bin";
    private static final Path DEBIAN = Path.of("/usr/sbin/pgbouncer");
    private static final Pattern VERSION = Pattern.compile("PgBouncer (\\d+)\\.(\\d+)(?:\\.(\\d+))?");
    /** {@code PAUSE db}, {@code RESUME db}, {@code RELOAD}, {@code SHOW POOLS} with {@code maxwait_us}: 1.8 and newer. */
    private static final int OLDEST_MINOR_OF_1 = 8;

    /** The binary to use, or a {@link PoolerException} saying how to get one. */
    public static PgBouncerBinary resolve() {
        String configured = System.getProperty(PROPERTY);
        if (configured != null && !configured.isBlank()) {
            Path path = Path.of(configured.strip());
            if (!Files.isRegularFile(path) || !Files.isExecutable(path)) {
                throw new PoolerException("-D" + PROPERTY + "=" + configured + " is not an executable file. Point it "
                        + "at pgbouncer (Debian: /usr/sbin/pgbouncer from the pgbouncer package) or unset it to use the "
                        + "one on PATH.");
            }
            return of(path);
        }
        return find().map(PgBouncerBinary::of).orElseThrow(() -> new PoolerException(missingMessage()));
    }

    /** True if a binary would be found (for tests and simulations that say early what they need). */
    public static boolean available() {
        try {
            resolve();
            return true;
        } catch (PoolerException e) {
            return false;
        }
    }

    /** One line naming the package and the alternatives. */
    public static String missingMessage() {
        return "The pooler tier (postgres.pooler=pgbouncer) needs pgbouncer, which is neither on PATH nor at " + DEBIAN
                + ": install Debian's pgbouncer package (apt-get install pgbouncer), or point -D" + PROPERTY
                + " at the binary.";
    }

    private static Optional<Path> find() {
        List<Path> candidates = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(File.pathSeparator)) {
                if (!dir.isBlank()) {
                    candidates.add(Path.of(dir, "pgbouncer"));
                }
            }
        }
        candidates.add(DEBIAN);
        return candidates.stream().filter(c -> Files.isRegularFile(c) && Files.isExecutable(c)).findFirst()
                .map(Path::toAbsolutePath);
    }

    static PgBouncerBinary of(Path path) {
        Exec.Result result = Exec.run(List.of(path.toString(), "--version"), null, Duration.ofSeconds(10));
        Matcher m = VERSION.matcher(result.output());
        if (!result.ok() || !m.find()) {
            throw new PoolerException(path + " --version did not name a PgBouncer version (exit " + result.exitCode()
                    + ": " + result.output().strip() + "). Point -D" + PROPERTY + " at a pgbouncer binary.");
        }
        int major = Integer.parseInt(m.group(1));
        int minor = Integer.parseInt(m.group(2));
        if (major < 1 || major == 1 && minor < OLDEST_MINOR_OF_1) {
            throw new PoolerException(path + " is PgBouncer " + major + "." + minor + "; the pooler tier needs 1."
                    + OLDEST_MINOR_OF_1 + " or newer (Debian 12's pgbouncer package is 1.18).");
        }
        return new PgBouncerBinary(path, major + "." + minor + "." + (m.group(3) == null ? "0" : m.group(3)));
    }
}
