package dev.doorbuster.verdict.probes;

import java.util.List;

/**
 * What one database node was doing at one instant, topic by topic. Every topic is a {@link Section}: its value,
 * or why it is not available (no permission, extension missing, node down), so one missing topic never hides the
 * others. Taken by {@link DatabaseDiagnostics}; kept in {@code verdict.json} and drawn in {@code chaos.html}.
 *
 * @param node          the node's name as the topology knows it
 * @param role          {@code primary} or {@code replica} as the server says ({@code pg_is_in_recovery()}), else the
 *                      topology's belief ({@code stopped} ...)
 * @param takenAt       ISO-8601 instant
 * @param tookMillis    how long taking it took
 * @param serverStarted {@code pg_postmaster_start_time()}, to tell counters reset by a restart
 * @param statementsReset when pg_stat_statements last began counting afresh ({@code pg_stat_statements_info},
 *                        PostgreSQL 14+; after a crash or a re-clone too), null if unknown
 */
public record DatabaseSnapshot(String node, String role, String takenAt, long tookMillis, String serverStarted,
                               String statementsReset, Section<List<Statement>> statements, Section<CacheHits> cache,
                               Section<List<Count>> connectionsByState, Section<List<Count>> connectionsByApplication,
                               Section<List<RunningQuery>> longestRunning, Section<List<TableSize>> tables,
                               Section<Replication> replication) {

    /** A topic's value, or (value null) the reason it is not available. */
    public record Section<T>(T value, String unavailable) {
        public static <T> Section<T> of(T value) {
            return new Section<>(value, null);
        }

        public static <T> Section<T> missing(String reason) {
            return new Section<>(null, reason == null || reason.isBlank() ? "unknown reason" : reason);
        }
    }

    /**
     * One {@code pg_stat_statements} entry (cumulative since the server's statistics began, or over the run when
     * it is a difference). Identified by {@code queryid}, {@code dbid}, {@code userid} and {@code toplevel}.
     */
    public record Statement(long queryid, long dbid, long userid, boolean toplevel, String query, long calls,
                            double totalMs, long rows) {
        /** Mean execution time per call, in ms. */
        public double meanMs() {
            return calls == 0 ? 0 : totalMs / calls;
        }

        String key() {
            return dbid + "/" + userid + "/" + queryid + "/" + toplevel;
        }
    }

    /** Shared-buffer hits and reads of the application's database ({@code pg_stat_database}). */
    public record CacheHits(long hit, long read, String statsReset) {
        /** hit / (hit + read), or NaN with no block accessed. */
        public double ratio() {
            return hit + read == 0 ? Double.NaN : (double) hit / (hit + read);
        }
    }

    /** A group ({@code state} or {@code application_name}) and its number of client connections. */
    public record Count(String key, long count) {
    }

    /** A non-idle client backend, with how long its current query (or transaction state) has run. */
    public record RunningQuery(int pid, String user, String application, String state, String waitEvent,
                               double seconds, String query) {
    }

    /** A table with its heap, index and total (with TOAST) size, and its estimated row count. */
    public record TableSize(String table, long totalBytes, long tableBytes, long indexBytes, long estimatedRows) {
    }

    /**
     * Replication as this node sees it: a primary lists its standbys ({@code pg_stat_replication}); a replica
     * its WAL receiver ({@code pg_stat_wal_receiver}) and replay position.
     */
    public record Replication(List<Standby> standbys, Receiver receiver) {
    }

    /** One row of {@code pg_stat_replication}; lags in ms (null when the server has none to report). */
    public record Standby(String name, String client, String state, String syncState, String sentLsn, String writeLsn,
                          String flushLsn, String replayLsn, Long replayLagBytes, Double writeLagMs,
                          Double flushLagMs, Double replayLagMs) {
    }

    /**
     * A replica's WAL receiver: its status ({@code streaming}, {@code waiting}, ..., {@code stopped} when there is
     * none), where it streams from, what it received and replayed, and the age of the last replayed commit.
     */
    public record Receiver(String status, String sender, String receivedLsn, String replayedLsn, Double replayAgeMs) {
    }
}
