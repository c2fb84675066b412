package dev.doorbuster.redis;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.doorbuster.process.Exec;

/**
 * The {@code redis-server} executable a run starts its cache with: {@code -Ddoorbuster.redis.bin} if set, else
 * the first on {@code PATH}. Nothing is bundled: Debian's {@code redis-server} package is the reference.
 *
 * @param path    the executable
 * @param version what {@code redis-server --version} says ({@code 7.0.15})
 */
public record RedisBinary(Path path, String version) {
    public static final String PROPERTY = "doorbuster.redis.bin";
    /** {@code set-proc-title no} keeps the command line the registry recognises a leftover server by: Redis 7. */
    static final int OLDEST_MAJOR = 7;
    private static final Pattern VERSION = Pattern.compile("v=(\\d+)\\.(\\d+)\\.(\\d+)");

    /** The binary to use, or a {@link RedisException} saying how to get one. */
    public static RedisBinary resolve() {
        String configured = System.getProperty(PROPERTY);
        if (configured != null && !configured.isBlank()) {
            Path path = Path.of(configured.strip());
            if (!Files.isRegularFile(path) || !Files.isExecutable(path)) {
                throw new RedisException("-D" + PROPERTY + "=" + configured + " is not an executable file. Point it at "
                        + "redis-server (Debian: /usr/bin/redis-server from the redis-server package) or unset it to "
                        + "use the one on PATH.");
            }
            return of(path);
        }
        return onPath().map(RedisBinary::of).orElseThrow(() -> new RedisException(missingMessage()));
    }

    /** True if a binary would be found (for tests and simulations that say early what they need). */
    public static boolean available() {
        try {
            resolve();
            return true;
        } catch (RedisException e) {
            return false;
        }
    }

    /** One line naming the package and the alternatives. */
    public static String missingMessage() {
        return "The cache tier needs redis-server, which is not on PATH: install Debian's redis-server package "
                + "(apt-get install redis-server), point -D" + PROPERTY + " at the binary, or run on the docker "
                + "environment (-Ddoorbuster.env=docker), which runs Redis in a container.";
    }

    private static Optional<Path> onPath() {
        String path = System.getenv("PATH");
        if (path == null) {
            return Optional.empty();
        }
        for (String dir : path.split(File.pathSeparator)) {
            if (dir.isBlank()) {
                continue;
            }
            Path candidate = Path.of(dir, "redis-server");
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate.toAbsolutePath());
            }
        }
        return Optional.empty();
    }

    private static RedisBinary of(Path path) {
        Exec.Result result = Exec.run(List.of(path.toString(), "--version"), null, Duration.ofSeconds(10));
        Matcher m = VERSION.matcher(result.output());
        if (!result.ok() || !m.find()) {
            throw new RedisException(path + " --version did not name a Redis version (exit " + result.exitCode()
                    + ": " + result.output().strip() + "). Point -D" + PROPERTY + " at a redis-server binary.");
        }
        int major = Integer.parseInt(m.group(1));
        if (major < OLDEST_MAJOR) {
            throw new RedisException(path + " is Redis " + m.group(1) + "." + m.group(2) + "." + m.group(3)
                    + "; the cache tier needs Redis " + OLDEST_MAJOR + " or newer (Debian 12's redis-server package "
                    + "is 7.0).");
        }
        return new RedisBinary(path, m.group(1) + "." + m.group(2) + "." + m.group(3));
    }
}
