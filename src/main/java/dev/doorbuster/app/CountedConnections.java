package dev.doorbuster.app;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.Properties;
import java.util.function.Function;
import java.util.logging.Logger;

import javax.sql.DataSource;

import io.micrometer.core.instrument.Counter;

/**
 * Where a pool's connections come from: the PostgreSQL driver, with every attempt that fails counted by SQLSTATE
 * and whether it was refused for want of room ({@link DatabaseErrorMeters#CONNECTION_FAILURES}). HikariCP opens connections in the background (to fill a pool,
 * to replace a broken one) and keeps no count of the openings that failed; a connection storm is made of exactly
 * those, so they are counted here, one per refused login, as the server logs them.
 */
final class CountedConnections implements DataSource {
    private final Driver driver = new org.postgresql.Driver();
    private final String url;
    private final Properties properties;
    private final Function<SQLException, Counter> failures;
    private final java.util.concurrent.atomic.LongAdder failed = new java.util.concurrent.atomic.LongAdder();
    private volatile int loginTimeoutSeconds;

    /**
     * @param properties the driver's properties, user and password included
     * @param failures   the counter of an attempt that failed with this error
     */
    CountedConnections(String url, Properties properties, Function<SQLException, Counter> failures) {
        this.url = url;
        this.properties = properties;
        this.failures = failures;
    }

    @Override
    public Connection getConnection() throws SQLException {
        Connection connection;
        try {
            connection = driver.connect(url, properties);
        } catch (SQLException e) {
            failed.increment();
            failures.apply(e).increment();
            throw e;
        }
        if (connection == null) { // the driver answers null for a URL that is not its own
            throw new SQLException("not a PostgreSQL JDBC URL: " + url, "08001");
        }
        return connection;
    }

    /** Attempts that failed so far. */
    long failed() {
        return failed.sum();
    }

    /** The pools pass no credentials of their own: the user and password are in the driver's properties. */
    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        throw new SQLFeatureNotSupportedException("credentials are set once, in the driver's properties");
    }

    @Override
    public PrintWriter getLogWriter() {
        return null;
    }

    @Override
    public void setLogWriter(PrintWriter out) {
        // the driver logs through java.util.logging
    }

    /** Kept for HikariCP, which sets it; the driver's own {@code loginTimeout} property bounds each attempt. */
    @Override
    public void setLoginTimeout(int seconds) {
        loginTimeoutSeconds = seconds;
    }

    @Override
    public int getLoginTimeout() {
        return loginTimeoutSeconds;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        return driver.getParentLogger();
    }

    @Override
    public <T> T unwrap(Class<T> type) throws SQLException {
        if (type.isInstance(this)) {
            return type.cast(this);
        }
        throw new SQLException("not a wrapper of " + type.getName());
    }

    @Override
    public boolean isWrapperFor(Class<?> type) {
        return type.isInstance(this);
    }
}
