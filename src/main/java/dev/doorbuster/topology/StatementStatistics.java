package dev.doorbuster.topology;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;

import dev.doorbuster.postgres.PgBinaries;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code pg_stat_statements} on servers the harness starts: preloaded on every node when the binaries ship the
 * contrib module, and created in the application's database on the primary (replicas get it by replication).
 * Without the module the servers start as before and the report's statement section says why it is empty.
 */
public final class StatementStatistics {
    public static final String LIBRARY = "pg_stat_statements";
    private static final Logger log = LoggerFactory.getLogger(StatementStatistics.class);

    private StatementStatistics() {
    }

    /** True if {@code binaries} come with the module (bundled layout {@code lib/postgresql}, Debian's {@code lib}). */
    static boolean shippedWith(PgBinaries binaries) {
        Path home = binaries.binDir().getParent();
        if (home == null) {
            return false;
        }
        for (Path lib : List.of(home.resolve("lib").resolve("postgresql"), home.resolve("lib"))) {
            for (String suffix : List.of(".so", ".dylib", ".dll")) {
                if (Files.isRegularFile(lib.resolve(LIBRARY + suffix))) {
                    return true;
                }
            }
        }
        return false;
    }

    /** {@code CREATE EXTENSION} in the database at {@code jdbcUrl}; a failure is logged, never thrown. */
    static void createExtension(String jdbcUrl) {
        createExtension(jdbcUrl, "postgres", "");
    }

    /** As {@link #createExtension(String)}, as {@code user}. */
    public static void createExtension(String jdbcUrl, String user, String password) {
        Properties props = new Properties();
        props.setProperty("user", user);
        if (!password.isEmpty()) {
            props.setProperty("password", password);
        }
        props.setProperty("connectTimeout", "5");
        props.setProperty("socketTimeout", "30");
        try (Connection c = DriverManager.getConnection(jdbcUrl, props); Statement s = c.createStatement()) {
            s.execute("CREATE EXTENSION IF NOT EXISTS " + LIBRARY);
        } catch (SQLException e) {
            log.warn("Cannot create extension {} ({}): the report will show no statement statistics", LIBRARY,
                    e.getMessage());
        }
    }
}
