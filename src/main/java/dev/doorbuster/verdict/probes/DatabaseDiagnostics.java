package dev.doorbuster.verdict.probes;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;

import dev.doorbuster.topology.DiagnosticTarget;
import dev.doorbuster.topology.Topology;
import dev.doorbuster.verdict.probes.DatabaseSnapshot.CacheHits;
import dev.doorbuster.verdict.probes.DatabaseSnapshot.Count;
import dev.doorbuster.verdict.probes.DatabaseSnapshot.Receiver;
import dev.doorbuster.verdict.probes.DatabaseSnapshot.Replication;
import dev.doorbuster.verdict.probes.DatabaseSnapshot.RunningQuery;
import dev.doorbuster.verdict.probes.DatabaseSnapshot.Section;
import dev.doorbuster.verdict.probes.DatabaseSnapshot.Standby;
import dev.doorbuster.verdict.probes.DatabaseSnapshot.TableSize;
import dev.doorbuster.verdict.report.DatabaseReport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The database half of the report: snapshots of every node the topology lets the harness inspect, before the load
 * and after it, and their difference over the run ({@link #compare}). Plain JDBC, one short connection per node,
 * every statement bounded by {@code statement_timeout}; each topic is queried on its own, and a topic that fails
 * is recorded as not available with the reason. Nothing here throws: a diagnostic never fails a run.
 */
public final class DatabaseDiagnostics {
    /** Bound of every diagnostic statement, and of connecting. */
    public static final int TIMEOUT_SECONDS = 5;
    /** Statements kept per snapshot for the difference (pg_stat_statements.max defaults to 5000). */
    static final int STATEMENT_ROWS = 5000;
    static final int RUNNING_ROWS = 5;
    static final int TABLE_ROWS = 10;
    /**
     * Starts every diagnostic query, so that pg_stat_statements' entries of the harness's own queries can be left
     * out (a leading comment would not do: the entry keeps the statement's text only).
     */
    static final String MARKER = "WITH doorbuster_diagnostics AS (SELECT 1) ";
    private static final Logger log = LoggerFactory.getLogger(DatabaseDiagnostics.class);

    private DatabaseDiagnostics() {
    }

    /** A snapshot of every node {@code topology} lists; never throws (an empty list if it cannot even list them). */
    public static List<DatabaseSnapshot> snapshot(Topology topology) {
        try {
            return snapshot(topology.diagnosticTargets());
        } catch (RuntimeException | LinkageError e) {
            log.warn("Database diagnostics: cannot list the nodes: {}", e.toString());
            return List.of();
        }
    }

    /** A snapshot of each target, in order; never throws. */
    public static List<DatabaseSnapshot> snapshot(List<DiagnosticTarget> targets) {
        long started = System.nanoTime();
        List<DatabaseSnapshot> snapshots = new ArrayList<>();
        for (DiagnosticTarget target : targets) {
            snapshots.add(take(target));
        }
        log.info("Database diagnostics: {} node(s) in {} ms", snapshots.size(), (System.nanoTime() - started) / 1_000_000);
        return snapshots;
    }

    /** One node's snapshot: every topic, or why it is not available. Never throws. */
    public static DatabaseSnapshot take(DiagnosticTarget target) {
        long started = System.nanoTime();
        String takenAt = Instant.now().toString();
        try (Connection c = connect(target)) {
            Node node = new Node(c);
            String role = node.value("SELECT CASE WHEN pg_is_in_recovery() THEN 'replica' ELSE 'primary' END");
            role = role == null ? target.role() : role;
            String serverStarted = node.value("SELECT pg_postmaster_start_time()::text");
            int version = parseInt(node.value("SELECT current_setting('server_version_num')"));
            Section<List<DatabaseSnapshot.Statement>> statements = node.section(() -> statements(c, version));
            String statementsReset = statements.value() == null || version < 140000 ? null
                    : node.value("SELECT stats_reset::text FROM pg_stat_statements_info");
            Section<CacheHits> cache = node.section(() -> cache(c));
            Section<List<Count>> byState = node.section(() -> counts(c, "coalesce(state, 'unknown')"));
            Section<List<Count>> byApp = node.section(() -> counts(c, "coalesce(nullif(application_name, ''), "
                    + "'(none)')"));
            Section<List<RunningQuery>> running = node.section(() -> longestRunning(c));
            Section<List<TableSize>> tables = node.section(() -> tables(c));
            boolean replica = "replica".equals(role);
            Section<Replication> replication = node.section(() -> replica ? new Replication(List.of(), receiver(c))
                    : new Replication(standbys(c), null));
            return new DatabaseSnapshot(target.name(), role, takenAt, millisSince(started), serverStarted, statementsReset,
                    statements, cache, byState, byApp, running, tables, replication);
        } catch (SQLException | RuntimeException e) {
            return unavailable(target, takenAt, millisSince(started), reason(e));
        }
    }

    /** A snapshot whose every topic is not available for {@code reason} (the node is down, refused us ...). */
    static DatabaseSnapshot unavailable(DiagnosticTarget target, String takenAt, long tookMillis, String reason) {
        return new DatabaseSnapshot(target.name(), target.role(), takenAt, tookMillis, null, null, Section.missing(reason),
                Section.missing(reason), Section.missing(reason), Section.missing(reason), Section.missing(reason),
                Section.missing(reason), Section.missing(reason));
    }

    // ---- the run as a whole -----------------------------------------------------------------------------------

    /**
     * Pairs the snapshots by node and computes the run as a whole: statement counters after minus before (matched
     * by queryid, dbid, userid and toplevel; an entry whose calls went down was reset or evicted, so its after
     * values count whole) and the cache hit ratio of the blocks touched during the run. Never throws.
     */
    public static DatabaseReport compare(List<DatabaseSnapshot> before, List<DatabaseSnapshot> after) {
        try {
            List<DatabaseSnapshot> b = before == null ? List.of() : before;
            List<DatabaseSnapshot> a = after == null ? List.of() : after;
            List<String> names = new ArrayList<>();
            b.forEach(s -> names.add(s.node()));
            a.stream().map(DatabaseSnapshot::node).filter(n -> !names.contains(n)).forEach(names::add);
            List<DatabaseReport.Node> nodes = new ArrayList<>();
            for (String name : names) {
                DatabaseSnapshot first = find(b, name);
                DatabaseSnapshot last = find(a, name);
                nodes.add(new DatabaseReport.Node(name, last != null ? last.role() : first.role(), trim(first), trim(last),
                        run(first, last)));
            }
            return new DatabaseReport(nodes);
        } catch (RuntimeException e) {
            log.warn("Database diagnostics: cannot compare the snapshots: {}", e.toString());
            return new DatabaseReport(List.of());
        }
    }

    /** Every node now, as a fault hits: bounded like every snapshot, never throws; statements trimmed. */
    public static DatabaseReport.AtFault atFault(Topology topology, String fault, String description, double atSecond) {
        return new DatabaseReport.AtFault(fault, description, atSecond, snapshot(topology).stream()
                .map(DatabaseDiagnostics::trim).toList());
    }

    private static DatabaseReport.RunTotals run(DatabaseSnapshot before, DatabaseSnapshot after) {
        String noBefore = before == null ? "no snapshot before the load" : null;
        String noAfter = after == null ? "no snapshot after the load" : null;
        String missing = noBefore != null ? noBefore : noAfter;
        if (missing != null) {
            return new DatabaseReport.RunTotals(Section.missing(missing), Section.missing(missing), Section.missing(missing),
                    null);
        }
        List<String> notes = new ArrayList<>();
        if (before.serverStarted() != null && after.serverStarted() != null
                && !before.serverStarted().equals(after.serverStarted())) {
            notes.add("the server restarted during the run (at " + after.serverStarted() + ")");
        }
        boolean statementsReset = after.statementsReset() != null
                && !after.statementsReset().equals(before.statementsReset());
        if (statementsReset) {
            notes.add("pg_stat_statements began counting afresh at " + after.statementsReset() + ": the run's "
                    + "statements are those since then");
        }
        String note = notes.isEmpty() ? null : String.join("; ", notes);
        Section<List<DatabaseSnapshot.Statement>> delta = statementDelta(statementsReset
                ? Section.of(List.of()) : before.statements(), after.statements());
        Section<List<DatabaseSnapshot.Statement>> byTotal = delta.value() == null ? delta : Section.of(delta.value()
                .stream().sorted(Comparator.comparingDouble(DatabaseSnapshot.Statement::totalMs).reversed())
                .limit(DatabaseReport.TOP).toList());
        Section<List<DatabaseSnapshot.Statement>> byMean = delta.value() == null ? delta : Section.of(delta.value()
                .stream().sorted(Comparator.comparingDouble(DatabaseSnapshot.Statement::meanMs).reversed())
                .limit(DatabaseReport.TOP).toList());
        return new DatabaseReport.RunTotals(byTotal, byMean, cacheDelta(before.cache(), after.cache()), note);
    }

    static Section<List<DatabaseSnapshot.Statement>> statementDelta(Section<List<DatabaseSnapshot.Statement>> before,
                                                                    Section<List<DatabaseSnapshot.Statement>> after) {
        if (after.value() == null) {
            return Section.missing(after.unavailable());
        }
        if (before.value() == null) {
            return Section.missing("no statement statistics before the load (" + before.unavailable() + ")");
        }
        Map<String, DatabaseSnapshot.Statement> earlier = new HashMap<>();
        before.value().forEach(s -> earlier.put(s.key(), s));
        List<DatabaseSnapshot.Statement> delta = new ArrayList<>();
        for (DatabaseSnapshot.Statement s : after.value()) {
            DatabaseSnapshot.Statement e = earlier.get(s.key());
            DatabaseSnapshot.Statement d = e == null || s.calls() < e.calls() ? s
                    : new DatabaseSnapshot.Statement(s.queryid(), s.dbid(), s.userid(), s.toplevel(), s.query(),
                    s.calls() - e.calls(), Math.max(0, s.totalMs() - e.totalMs()), Math.max(0, s.rows() - e.rows()));
            if (d.calls() > 0) {
                delta.add(d);
            }
        }
        return Section.of(delta);
    }

    static Section<CacheHits> cacheDelta(Section<CacheHits> before, Section<CacheHits> after) {
        if (after.value() == null) {
            return Section.missing(after.unavailable());
        }
        if (before.value() == null) {
            return Section.missing("no cache statistics before the load (" + before.unavailable() + ")");
        }
        CacheHits b = before.value();
        CacheHits a = after.value();
        boolean reset = a.hit() < b.hit() || a.read() < b.read() || !Objects.equals(a.statsReset(), b.statsReset());
        return Section.of(reset ? a : new CacheHits(a.hit() - b.hit(), a.read() - b.read(), a.statsReset()));
    }

    /** The snapshot as the report keeps it: the top statements by total time only (the full list is for the difference). */
    private static DatabaseSnapshot trim(DatabaseSnapshot s) {
        if (s == null || s.statements().value() == null) {
            return s;
        }
        List<DatabaseSnapshot.Statement> top = s.statements().value().stream()
                .sorted(Comparator.comparingDouble(DatabaseSnapshot.Statement::totalMs).reversed())
                .limit(DatabaseReport.TOP).toList();
        return new DatabaseSnapshot(s.node(), s.role(), s.takenAt(), s.tookMillis(), s.serverStarted(),
                s.statementsReset(), Section.of(top),
                s.cache(), s.connectionsByState(), s.connectionsByApplication(), s.longestRunning(), s.tables(),
                s.replication());
    }

    private static DatabaseSnapshot find(List<DatabaseSnapshot> snapshots, String node) {
        return snapshots.stream().filter(s -> s.node().equals(node)).findFirst().orElse(null);
    }

    // ---- the topics -------------------------------------------------------------------------------------------

    private static List<DatabaseSnapshot.Statement> statements(Connection c, int version) throws SQLException {
        String installed = single(c, MARKER + "SELECT extversion FROM pg_extension WHERE extname = 'pg_stat_statements'");
        String preload = single(c, MARKER + "SELECT current_setting('shared_preload_libraries')");
        boolean preloaded = preload != null && preload.contains("pg_stat_statements");
        String database = single(c, MARKER + "SELECT current_database()");
        if (installed == null) {
            throw new Unavailable("pg_stat_statements is not installed in database '" + database + "'"
                    + (preloaded ? "" : " nor preloaded") + ": to enable it, set shared_preload_libraries = "
                    + "'pg_stat_statements' in postgresql.conf (restart the server), then run CREATE EXTENSION "
                    + "pg_stat_statements in '" + database + "' on the primary");
        }
        if (!preloaded) {
            throw new Unavailable("the pg_stat_statements extension exists in '" + database + "' but the module is not "
                    + "loaded: set shared_preload_libraries = 'pg_stat_statements' in postgresql.conf and restart the "
                    + "server (shared_preload_libraries is '" + preload + "')");
        }
        String toplevel = version >= 140000 ? "toplevel" : "true";
        List<DatabaseSnapshot.Statement> rows = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(MARKER + "SELECT queryid, dbid, userid, "
                + toplevel + ", query, calls, total_exec_time, rows FROM pg_stat_statements "
                + "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                + "AND queryid IS NOT NULL AND query NOT LIKE 'WITH doorbuster\\_diagnostics %' "
                + "ORDER BY total_exec_time DESC LIMIT " + STATEMENT_ROWS)) {
            while (r.next()) {
                rows.add(new DatabaseSnapshot.Statement(r.getLong(1), r.getLong(2), r.getLong(3), r.getBoolean(4),
                        r.getString(5), r.getLong(6), r.getDouble(7), r.getLong(8)));
            }
        }
        return rows;
    }

    private static CacheHits cache(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(MARKER + "SELECT blks_hit, blks_read, "
                + "stats_reset::text FROM pg_stat_database WHERE datname = current_database()")) {
            if (!r.next()) {
                throw new Unavailable("pg_stat_database has no row for this database");
            }
            return new CacheHits(r.getLong(1), r.getLong(2), r.getString(3));
        }
    }

    /** Client connections (ours excluded) grouped by {@code expression}, largest group first. */
    private static List<Count> counts(Connection c, String expression) throws SQLException {
        List<Count> rows = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(MARKER + "SELECT " + expression
                + " AS k, count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
                + "AND pid <> pg_backend_pid() GROUP BY k ORDER BY count(*) DESC, k")) {
            while (r.next()) {
                rows.add(new Count(r.getString(1), r.getLong(2)));
            }
        }
        return rows;
    }

    private static List<RunningQuery> longestRunning(Connection c) throws SQLException {
        List<RunningQuery> rows = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(MARKER + "SELECT pid, usename, "
                + "application_name, state, concat_ws(':', wait_event_type, wait_event), "
                + "extract(epoch FROM clock_timestamp() - query_start)::float8, left(query, 1000) "
                + "FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() "
                + "AND state IS DISTINCT FROM 'idle' AND query_start IS NOT NULL "
                + "ORDER BY query_start LIMIT " + RUNNING_ROWS)) {
            while (r.next()) {
                rows.add(new RunningQuery(r.getInt(1), r.getString(2), r.getString(3), r.getString(4), r.getString(5),
                        r.getDouble(6), r.getString(7)));
            }
        }
        return rows;
    }

    private static List<TableSize> tables(Connection c) throws SQLException {
        List<TableSize> rows = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(MARKER + "SELECT "
                + "format('%I.%I', n.nspname, c.relname), pg_total_relation_size(c.oid), pg_relation_size(c.oid), "
                + "pg_indexes_size(c.oid), greatest(c.reltuples::bigint, coalesce(s.n_live_tup, 0), 0) FROM pg_class c "
                + "JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid "
                + "WHERE c.relkind IN ('r', 'p', 'm') "
                + "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' "
                + "ORDER BY pg_total_relation_size(c.oid) DESC, 1 LIMIT " + TABLE_ROWS)) {
            while (r.next()) {
                rows.add(new TableSize(r.getString(1), r.getLong(2), r.getLong(3), r.getLong(4), r.getLong(5)));
            }
        }
        return rows;
    }

    private static List<Standby> standbys(Connection c) throws SQLException {
        List<Standby> rows = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(MARKER + "SELECT application_name, "
                + "coalesce(host(client_addr) || ':' || client_port, 'local'), state, sync_state, sent_lsn::text, "
                + "write_lsn::text, flush_lsn::text, replay_lsn::text, "
                + "pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint, "
                + "extract(epoch FROM write_lag)::float8 * 1000, extract(epoch FROM flush_lag)::float8 * 1000, "
                + "extract(epoch FROM replay_lag)::float8 * 1000 FROM pg_stat_replication ORDER BY application_name")) {
            while (r.next()) {
                rows.add(new Standby(r.getString(1), r.getString(2), r.getString(3), r.getString(4), r.getString(5),
                        r.getString(6), r.getString(7), r.getString(8), (Long) r.getObject(9, Long.class),
                        r.getObject(10, Double.class), r.getObject(11, Double.class), r.getObject(12, Double.class)));
            }
        }
        return rows;
    }

    private static Receiver receiver(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(MARKER + "SELECT "
                + "coalesce((SELECT status FROM pg_stat_wal_receiver), 'stopped'), "
                + "(SELECT sender_host || ':' || sender_port FROM pg_stat_wal_receiver), "
                + "pg_last_wal_receive_lsn()::text, pg_last_wal_replay_lsn()::text, "
                + "extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8 * 1000")) {
            r.next();
            return new Receiver(r.getString(1), r.getString(2), r.getString(3), r.getString(4),
                    r.getObject(5, Double.class));
        }
    }

    // ---- plumbing ---------------------------------------------------------------------------------------------

    private static Connection connect(DiagnosticTarget target) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", target.user() == null ? "" : target.user());
        props.setProperty("password", target.password() == null ? "" : target.password());
        props.setProperty("connectTimeout", Integer.toString(TIMEOUT_SECONDS));
        props.setProperty("loginTimeout", Integer.toString(TIMEOUT_SECONDS));
        props.setProperty("socketTimeout", Integer.toString(2 * TIMEOUT_SECONDS));
        props.setProperty("ApplicationName", "doorbuster-diagnostics");
        props.setProperty("preferQueryMode", "simple"); // no server-side prepared statements left behind
        // Settings in the startup packet, not as SET statements the report would list among the application's.
        props.setProperty("assumeMinServerVersion", "10");
        props.setProperty("options", "-c statement_timeout=" + TIMEOUT_SECONDS + "s");
        return DriverManager.getConnection(target.jdbcUrl(), props);
    }

    /** A topic's query; throws {@link Unavailable} with a reason for the reader. */
    @FunctionalInterface
    private interface Topic<T> {
        T read() throws SQLException;
    }

    /** Why a topic is not available, already phrased for the report. */
    private static final class Unavailable extends RuntimeException {
        Unavailable(String reason) {
            super(reason, null, false, false);
        }
    }

    /** One node's connection: once it is lost, the remaining topics say so without trying. */
    private static final class Node {
        private final Connection connection;
        private String lost;

        Node(Connection connection) {
            this.connection = connection;
        }

        /** The first column of the first row, or null if there is none or the query fails. */
        String value(String sql) {
            Section<String> v = section(() -> single(connection, MARKER + sql));
            return v.value();
        }

        <T> Section<T> section(Topic<T> topic) {
            if (lost != null) {
                return Section.missing(lost);
            }
            try {
                return Section.of(topic.read());
            } catch (Unavailable e) {
                return Section.missing(e.getMessage());
            } catch (SQLException | RuntimeException e) {
                String reason = reason(e);
                if (closed()) {
                    lost = "connection lost: " + reason;
                }
                return Section.missing(reason);
            }
        }

        private boolean closed() {
            try {
                return connection.isClosed();
            } catch (SQLException e) {
                return true;
            }
        }
    }

    private static String single(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
            return r.next() ? r.getString(1) : null;
        }
    }

    private static String reason(Exception e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().strip();
        if (e instanceof SQLException sql && sql.getSQLState() != null) {
            if ("42501".equals(sql.getSQLState())) {
                message = "no permission (" + message + "); grant the role pg_read_all_stats or pg_monitor";
            } else if ("57014".equals(sql.getSQLState())) {
                message = "timed out after " + TIMEOUT_SECONDS + " s (" + message + ")";
            }
        }
        int newline = message.indexOf('\n');
        return newline > 0 ? message.substring(0, newline) : message;
    }

    private static int parseInt(String text) {
        try {
            return text == null ? 0 : Integer.parseInt(text.trim());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static long millisSince(long nanos) {
        return (System.nanoTime() - nanos) / 1_000_000;
    }
}
