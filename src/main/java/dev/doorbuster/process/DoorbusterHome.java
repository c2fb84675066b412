package dev.doorbuster.process;

import java.nio.file.Path;

/**
 * Where Doorbuster keeps what outlives a run: extracted PostgreSQL binaries, temporary clusters and the
 * records of processes it started (so the next run can stop the leftovers of a killed one).
 *
 * <p>Chosen, in order, from the {@code doorbuster.home} system property, the {@code DOORBUSTER_HOME}
 * environment variable, then a default. The default is the user's cache folder, except for root:
 * PostgreSQL then runs as an unprivileged user who must be able to read the binaries and reach the data
 * folders, and root's home is usually closed to others, so root gets {@code /var/tmp/doorbuster}.
 * It is deliberately outside {@code target/}, so {@code mvn clean} does not force a re-extraction.
 */
public final class DoorbusterHome {
    public static final String PROPERTY = "doorbuster.home";
    public static final String ENVIRONMENT = "DOORBUSTER_HOME";

    private DoorbusterHome() {
    }

    public static Path get() {
        String configured = System.getProperty(PROPERTY);
        if (configured == null || configured.isBlank()) {
            configured = System.getenv(ENVIRONMENT);
        }
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured).toAbsolutePath().normalize();
        }
        if (currentUid() == 0) {
            return Path.of("/var/tmp/doorbuster");
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path cache = xdg != null && !xdg.isBlank()
                ? Path.of(xdg)
                : Path.of(System.getProperty("user.home"), ".cache");
        return cache.resolve("doorbuster").toAbsolutePath().normalize();
    }

    /** Folder recording running processes, one file each, read by the next run to stop leftovers. */
    public static Path processRecords() {
        return get().resolve("processes");
    }

    /** The effective uid of this JVM (0 for root). */
    public static int currentUid() {
        try {
            // /proc/self belongs to the process's effective user.
            return (Integer) java.nio.file.Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (java.io.IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "root".equals(System.getProperty("user.name")) ? 0 : 1000;
        }
    }
}
