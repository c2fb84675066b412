package dev.doorbuster.app;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.metrics.micrometer.MicrometerMetricsTrackerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connection pools (one writer, one or more readers) and the rules for using them: how a transaction is
 * run (and retried), how the consistency token of a write is taken, and how a failed JDBC call becomes an HTTP answer. Every
 * database error of the app goes through {@link #translate}, so "pool exhausted" and "database down" are
 * told apart in one place.
 */
final class Database implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Database.class);

    /** SQLSTATEs meaning the server is gone, going, or refuses work: the request may succeed elsewhere/later. */
    private static final Set<String> UNAVAILABLE_STATES = Set.of("57P01", "57P02", "57P03", "53300", "25006", "3D000");
    /** Transaction rolled back by the server for concurrency reasons: safe to run again from the start. */
    private static final Set<String> RETRYABLE_STATES = Set.of("40001", "40P01");
    private static final int MAX_ATTEMPTS = 3;

    /** What a pool is for: the primary's writes and reads, or reads from a replica. */
    enum Role {
        WRITER("primary"), READER("replica");

        private final String server;

        Role(String server) {
            this.server = server;
        }
    }

    /**
     * One connection pool: its name ({@code writer}; {@code reader} when there is one reader URL,
     * {@code reader-1} … {@code reader-N} when there are several) and its role.
     */
    record Pool(String tag, Role role) {
        /** The one writer pool. */
        static final Pool WRITER = new Pool("writer", Role.WRITER);

        /** The pool's name: {@code pool} tag of the meters, {@code pool} field of errors, {@code X-Served-By-Pool}. */
        @Override
        public String tag() {
            return tag;
        }

        /** The role of the server the pool is meant for: the {@code X-Served-By} value. */
        String server() {
            return role.server;
        }

        /** The reader pools' names for {@code count} reader URLs. */
        static List<Pool> readers(int count) {
            if (count == 1) {
                return List.of(new Pool("reader", Role.READER));
            }
            List<Pool> pools = new ArrayList<>(count);
            for (int i = 1; i <= count; i++) {
                pools.add(new Pool("reader-" + i, Role.READER));
            }
            return List.copyOf(pools);
        }
    }

    /** A unit of SQL work on one connection. */
    @FunctionalInterface
    interface SqlWork<T> {
        T run(Connection connection) throws SQLException;
    }

    /** The consistency token of a committed write whose WAL position is unknown: read it from the primary. */
    static final String PRIMARY_TOKEN = "primary";

    /** A committed write and its consistency token (the primary's WAL position once it committed). */
    record Written<T>(T value, String token) {
    }

    /** Every pool, writer first, then the readers in the order of their URLs. */
    private final Map<Pool, HikariDataSource> pools = new LinkedHashMap<>();
    private final Map<Pool, String> urls = new LinkedHashMap<>();
    private final Map<Pool, CountedConnections> sources = new LinkedHashMap<>();
    private final List<Pool> readers;
    private final StorefrontMetrics metrics;

    Database(StorefrontConfig config, StorefrontMetrics metrics) {
        this.metrics = metrics;
        this.readers = Pool.readers(config.readerUrls().size());
        urls.put(Pool.WRITER, config.writerUrl());
        for (int i = 0; i < readers.size(); i++) {
            urls.put(readers.get(i), config.readerUrls().get(i));
        }
        try {
            for (Map.Entry<Pool, String> e : urls.entrySet()) {
                Pool pool = e.getKey();
                int size = pool.role() == Role.WRITER ? config.writerPoolSize() : config.readerPoolSize();
                CountedConnections connections = new CountedConnections(e.getValue(), driverProperties(pool, config),
                        failure -> metrics.connectionFailures(pool, failure.getSQLState(),
                                DatabaseErrorMeters.isRefusal(failure.getSQLState(), failure.getMessage())));
                sources.put(pool, connections);
                pools.put(pool, pool(pool, e.getValue(), size, config, metrics, connections));
                metrics.poolExhausted(pool); // registered up front: the series exist at 0
                metrics.databaseUnavailable(pool);
                metrics.connectionFailures(pool, DatabaseErrorMeters.TOO_MANY_CONNECTIONS, true); // at 0: it exists
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** The reader pools, in the order of their URLs (one, named {@code reader}, unless several URLs were given). */
    List<Pool> readers() {
        return readers;
    }

    /** The JDBC URL behind {@code pool}. */
    String url(Pool pool) {
        return urls.get(pool);
    }

    /**
     * The reader pool for one read: with several, one of them uniformly at random, per read. This is
     * per-query balancing, as pgpool-II or ProxySQL do, or an application holding a list of replica data
     * sources: successive reads of one shopper land on different replicas, which is how real deployments
     * produce non-monotonic reads when those replicas lag differently. One pool over a URL with
     * {@code loadBalanceHosts=true} only spreads connections: under light load HikariCP keeps handing out the
     * same idle connection, so nearly every read goes to one replica.
     */
    Pool pickReader() {
        return readers.size() == 1 ? readers.get(0) : readers.get(ThreadLocalRandom.current().nextInt(readers.size()));
    }

    /**
     * Connection properties the URL does not already set (PgJDBC lets URL parameters win over these), computed
     * by {@link JdbcOptions} from the request bound. {@code targetServerType=primary} on a URL listing every
     * server is what follows a failover.
     */
    static Properties driverDefaults(Pool pool, StorefrontConfig config) {
        return JdbcOptions.driverProperties(pool.role() == Role.WRITER ? JdbcOptions.WRITER_TARGET : JdbcOptions.READER_TARGET,
                config.requestTimeoutMs(), "storefront-" + pool.tag(), config.preparedStatements());
    }

    private static HikariDataSource pool(Pool pool, String url, int size, StorefrontConfig config,
            StorefrontMetrics metrics, CountedConnections connections) {
        HikariConfig hc = new HikariConfig();
        hc.setPoolName(pool.tag());
        hc.setDataSource(connections);
        hc.setMaximumPoolSize(size);
        hc.setMinimumIdle(size); // a fixed pool: a spike must not pay for new connections
        hc.setConnectionTimeout(config.poolTimeoutMs());
        hc.setValidationTimeout(Math.min(config.poolTimeoutMs(), 1000));
        hc.setInitializationFailTimeout(-1); // start empty; Storefront checks reachability itself, with a clear message
        hc.setMetricsTrackerFactory(new MicrometerMetricsTrackerFactory(metrics.registry()));
        return new HikariDataSource(hc);
    }

    DataSource dataSource(Pool pool) {
        HikariDataSource ds = pools.get(pool);
        if (ds == null) {
            throw new IllegalArgumentException("no pool " + pool.tag());
        }
        return ds;
    }

    // ---- running work ------------------------------------------------------------------------------------------

    /**
     * Runs read-only work on {@code pool} in autocommit mode. A connection lost mid-read (failover, reset) is
     * retried once on a fresh connection: reads are idempotent.
     */
    <T> T read(Pool pool, SqlWork<T> work) {
        for (int attempt = 1; ; attempt++) {
            Connection c = acquire(pool);
            try (c) {
                return work.run(c);
            } catch (SQLException e) {
                if (attempt < 2 && isConnectionLoss(e)) {
                    continue;
                }
                throw translate(e, pool);
            }
        }
    }

    /**
     * Runs {@code work} in one transaction on the writer and returns its result with the consistency token.
     * Retried from the start when the server rolled it back (deadlock, serialization failure) or the
     * connection was lost before COMMIT was sent; never after, because then the outcome is unknown.
     */
    <T> Written<T> write(SqlWork<T> work) {
        for (int attempt = 1; ; attempt++) {
            Connection c = acquire(Pool.WRITER);
            boolean committing = false;
            try (c) {
                c.setAutoCommit(false);
                T value = work.run(c);
                committing = true;
                c.commit();
                c.setAutoCommit(true);
                return new Written<>(value, consistencyToken(c));
            } catch (SQLException e) {
                // The connection is back in the pool here: HikariCP rolled back whatever was left open.
                if (!committing && attempt < MAX_ATTEMPTS && (RETRYABLE_STATES.contains(sqlState(e))
                        || (attempt == 1 && isConnectionLoss(e)))) {
                    continue;
                }
                throw translate(e, Pool.WRITER);
            }
        }
    }

    /**
     * The WAL insert position right after COMMIT on the same connection: it is at or past the end of our
     * commit record whatever {@code synchronous_commit} says, so "replica replayed ≥ token" implies the
     * replica shows this write. ({@code pg_current_wal_lsn()}, the write position, can lag behind an
     * asynchronous commit.) It may be a little ahead (other sessions' WAL), which only makes a reader wait
     * slightly longer, never see stale data.
     */
    private static String consistencyToken(Connection c) {
        try (PreparedStatement s = c.prepareStatement("SELECT pg_current_wal_insert_lsn()::text");
             ResultSet rs = s.executeQuery()) {
            rs.next();
            return rs.getString(1);
        } catch (SQLException e) {
            // Committed, but the connection broke before we learnt where (typically: the primary's link cut at
            // a failover). No position means no replica can prove it shows this write: the token sends the
            // client's next read to the primary instead of silently dropping the guarantee.
            log.warn("Write committed but its consistency token could not be read: {}", e.getMessage());
            return PRIMARY_TOKEN;
        }
    }

    /** The position up to which the server behind {@code c} shows the primary's writes. */
    static Long visibleLsn(Connection c) throws SQLException {
        // A standby: what it has replayed. A promoted replica, or a reader URL pointing at the primary:
        // it is the primary, so everything committed there is visible.
        try (PreparedStatement s = c.prepareStatement("SELECT CASE WHEN pg_is_in_recovery() "
                + "THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_insert_lsn() END::text");
             ResultSet rs = s.executeQuery()) {
            rs.next();
            String lsn = rs.getString(1);
            return lsn == null ? null : parseLsn(lsn);
        }
    }

    /** {@code 16/B374D848} → a comparable number; {@link IllegalArgumentException} if malformed. */
    static long parseLsn(String text) {
        int slash = text.indexOf('/');
        if (slash <= 0 || slash == text.length() - 1 || text.length() > 17) {
            throw new IllegalArgumentException("not an LSN: " + text);
        }
        long high = Long.parseLong(text.substring(0, slash), 16);
        long low = Long.parseLong(text.substring(slash + 1), 16);
        if (high < 0 || high > 0xFFFF_FFFFL || low < 0 || low > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("not an LSN: " + text);
        }
        return (high << 32) | low;
    }

    private Connection acquire(Pool pool) {
        try {
            return ((HikariDataSource) dataSource(pool)).getConnection();
        } catch (SQLException e) {
            throw translate(e, pool);
        }
    }

    // ---- health ------------------------------------------------------------------------------------------------

    /** {@code up}, {@code saturated} (no free connection in time: busy, not broken) or {@code down}. */
    String probe(Pool pool) {
        try (Connection c = ((HikariDataSource) dataSource(pool)).getConnection()) {
            return c.isValid(1) ? "up" : "down";
        } catch (SQLException e) {
            return isPoolTimeout(e) && sqlState(e) == null ? "saturated" : "down";
        }
    }

    /** The driver's properties of {@code pool}'s connections, its login included. */
    private static Properties driverProperties(Pool pool, StorefrontConfig config) {
        Properties driver = driverDefaults(pool, config);
        driver.setProperty("user", config.dbUser());
        if (!config.dbPassword().isEmpty()) {
            driver.setProperty("password", config.dbPassword());
        }
        return driver;
    }

    /**
     * Waits, at most {@code waitMs}, until every pool holds its whole size or has had a connection attempt fail (a
     * database that refuses more clients: the pool then serves with what it got, and goes on trying). So an instance
     * is ready with its pools open, and the refusals a full database answers it with are counted by then.
     *
     * @return the pools that were neither full nor refused in time (empty: all settled)
     */
    List<Pool> awaitPoolsOpen(long waitMs) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMs);
        while (true) {
            List<Pool> filling = new ArrayList<>();
            for (Map.Entry<Pool, HikariDataSource> e : pools.entrySet()) {
                HikariDataSource ds = e.getValue();
                boolean full = ds.getHikariPoolMXBean() != null
                        && ds.getHikariPoolMXBean().getTotalConnections() >= ds.getMaximumPoolSize();
                if (!full && sources.get(e.getKey()).failed() == 0) {
                    filling.add(e.getKey());
                }
            }
            if (filling.isEmpty() || System.nanoTime() > deadline) {
                return filling;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return filling;
            }
        }
    }

    /** Why {@code pool} cannot reach its database right now, or null if it can. */
    SQLException unreachable(Pool pool) {
        try (Connection c = ((HikariDataSource) dataSource(pool)).getConnection()) {
            return c.isValid(2) ? null : new SQLException("connection not valid");
        } catch (SQLException e) {
            return e;
        }
    }

    // ---- errors ------------------------------------------------------------------------------------------------

    /**
     * Turns a JDBC failure into the answer the client gets. HikariCP signals both "every connection is
     * busy" and "cannot connect" with {@link SQLTransientConnectionException}; only the second carries
     * the driver's SQLSTATE (08xxx), which is how they are told apart.
     */
    ApiError translate(SQLException e, Pool pool) {
        String state = sqlState(e);
        metrics.databaseErrors(pool, state).increment();
        if (isPoolTimeout(e) && state == null) {
            metrics.poolExhausted(pool).increment();
            return ApiError.poolExhausted(pool, "No " + pool.tag() + " connection became free in time; retry shortly.");
        }
        if (isPoolTimeout(e) || isConnectionLoss(e) || (state != null && UNAVAILABLE_STATES.contains(state))
                || isPoolClosed(e)) {
            metrics.databaseUnavailable(pool).increment();
            return ApiError.databaseUnavailable(pool, "The " + pool.tag() + " database is unreachable; retry shortly.");
        }
        if ("57014".equals(state)) { // query_canceled: statement_timeout at the request bound
            return ApiError.timeout("The database did not answer within the request time limit.");
        }
        if (state != null && (RETRYABLE_STATES.contains(state) || state.equals("23505") || state.equals("23514"))) {
            return ApiError.conflict("The request conflicts with another one or with a constraint; retry.");
        }
        log.error("Unexpected database error on the {} pool (SQLSTATE {})", pool.tag(), state, e);
        return ApiError.internal();
    }

    static boolean isPoolTimeout(SQLException e) {
        return e instanceof SQLTransientConnectionException && String.valueOf(e.getMessage()).contains("request timed out");
    }

    private static boolean isPoolClosed(SQLException e) {
        return String.valueOf(e.getMessage()).contains("has been closed");
    }

    private static boolean isConnectionLoss(SQLException e) {
        String state = sqlState(e);
        return state != null && state.startsWith("08");
    }

    /** The first SQLSTATE along the cause chain (HikariCP copies the driver's onto its own exception). */
    static String sqlState(Throwable t) {
        for (Throwable x = t; x != null; x = x.getCause()) {
            if (x instanceof SQLException s && s.getSQLState() != null) {
                return s.getSQLState();
            }
        }
        return null;
    }

    static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage() != null ? root.getMessage() : root.toString();
        return message.replaceAll("\\s+", " ").strip();
    }

    /** The URL with any password parameter masked, for messages. */
    static String redact(String url) {
        return url == null ? null : url.replaceAll("(?i)(password=)[^&]*", "$1***");
    }

    /** Closes every pool (readers first), even if closing one fails. */
    @Override
    public void close() {
        List<HikariDataSource> all = new ArrayList<>(pools.values());
        java.util.Collections.reverse(all);
        RuntimeException failure = null;
        for (HikariDataSource ds : all) {
            try {
                ds.close();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
