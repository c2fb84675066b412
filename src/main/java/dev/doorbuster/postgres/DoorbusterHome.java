package dev.doorbuster.postgres;

import java.nio.file.Path;

/**
 * Where Doorbuster keeps what outlives a run: extracted PostgreSQL binaries and the record of servers
 * it started (so the next run can stop the leftovers of a killed one).
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
        if (ServerUser.currentUid() == 0) {
            return Path.of("/var/tmp/doorbuster");
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path cache = xdg != null && !xdg.isBlank()
                ? Path.of(xdg)
                : Path.of(System.getProperty("user.home"), ".cache");
        return cache.resolve("doorbuster").toAbsolutePath().normalize();
    }

    /** Folder of extracted PostgreSQL binaries. */
    public static Path binaries() {
        return get().resolve("postgres");
    }

    /** Folder recording running servers, one file each, read by the next run to stop leftovers. */
    public static Path serverRecords() {
        return get().resolve("servers");
    }

    /** Default parent of cluster work folders (data directories and logs) when the caller names none. */
    public static Path clusters() {
        return get().resolve("clusters");
    }
}
