package dev.doorbuster.app;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.sql.DataSource;

/**
 * Creates the storefront's database, tables and seed data when they are absent ({@code --init-schema}).
 * The SQL lives in {@code schema.sql} and {@code seed.sql} next to this class.
 */
final class Schema {
    /** Serialises concurrent initialisations (two app instances starting at once) in one database. */
    private static final long INIT_LOCK = 0x5707_EF20_0000_0001L;
    private static final Pattern URL_DATABASE = Pattern.compile("^(jdbc:postgresql://[^/?]*/)([^?/]+)(\\?.*)?$");
    private static final Pattern PLAIN_IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");

    /** What {@link #init} did. */
    record Outcome(boolean seeded, long products, long users, long millis) {
    }

    private Schema() {
    }

    /**
     * Creates the database named in {@code url} if the server says it does not exist, connecting to the
     * server's {@code postgres} database to do so. Only plain names are created (no quoting games).
     */
    static void ensureDatabase(String url, Properties props) throws SQLException {
        try {
            DriverManager.getConnection(url, props).close();
            return;
        } catch (SQLException e) {
            if (!"3D000".equals(e.getSQLState())) {
                throw e;
            }
        }
        Matcher m = URL_DATABASE.matcher(url);
        if (!m.matches() || !PLAIN_IDENTIFIER.matcher(m.group(2)).matches()) {
            throw new SQLException("database in " + Database.redact(url) + " does not exist and its name is not a plain "
                    + "identifier; create it first");
        }
        String maintenanceUrl = m.group(1) + "postgres" + (m.group(3) == null ? "" : m.group(3));
        try (Connection c = DriverManager.getConnection(maintenanceUrl, props);
             PreparedStatement s = c.prepareStatement("CREATE DATABASE " + m.group(2))) {
            s.execute();
        } catch (SQLException e) {
            if (!"42P04".equals(e.getSQLState())) { // duplicate_database: someone else just created it
                throw e;
            }
        }
    }

    /** Creates missing tables and indexes; seeds if the shop is empty. One transaction: all or nothing. */
    static Outcome init(DataSource writer, int seedProducts, int seedUsers) throws SQLException {
        long started = System.nanoTime();
        try (Connection c = writer.getConnection()) {
            c.setAutoCommit(false);
            try {
                execute(c, "SET LOCAL statement_timeout = 0"); // seeding may outlast the request bound
                execute(c, "SELECT pg_advisory_xact_lock(" + INIT_LOCK + ")");
                for (String statement : statements("schema.sql")) {
                    execute(c, statement);
                }
                boolean seeded = false;
                if (isEmpty(c)) {
                    setLocal(c, "storefront.seed_products", seedProducts);
                    setLocal(c, "storefront.seed_users", seedUsers);
                    for (String statement : statements("seed.sql")) {
                        execute(c, statement);
                    }
                    seeded = true;
                }
                long products = count(c, "SELECT count(*) FROM products");
                long users = count(c, "SELECT count(*) FROM users");
                c.commit();
                return new Outcome(seeded, products, users, (System.nanoTime() - started) / 1_000_000);
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }

    private static boolean isEmpty(Connection c) throws SQLException {
        return count(c, "SELECT (SELECT count(*) FROM (SELECT 1 FROM products LIMIT 1) p) "
                + "+ (SELECT count(*) FROM (SELECT 1 FROM users LIMIT 1) u)") == 0;
    }

    private static void setLocal(Connection c, String name, int value) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT set_config(?, ?, true)")) {
            s.setString(1, name);
            s.setString(2, Integer.toString(value));
            s.execute();
        }
    }

    private static void execute(Connection c, String sql) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(sql)) {
            s.execute();
        }
    }

    private static long count(Connection c, String sql) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(sql); ResultSet rs = s.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** The statements of a bundled SQL file: full-line comments dropped, split at a semicolon ending a line. */
    static List<String> statements(String resource) {
        String text;
        try (InputStream in = Schema.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + resource + " next to " + Schema.class.getName());
            }
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> statements = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : text.split("\n")) {
            if (line.strip().startsWith("--")) {
                continue;
            }
            current.append(line).append('\n');
            if (line.stripTrailing().endsWith(";")) {
                String statement = current.toString().strip();
                statements.add(statement.substring(0, statement.length() - 1));
                current.setLength(0);
            }
        }
        if (!current.toString().isBlank()) {
            throw new IllegalStateException(resource + " ends without a semicolon");
        }
        return statements;
    }
}
