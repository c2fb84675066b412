package dev.doorbuster.verdict.probes;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import dev.doorbuster.app.CacheMeters;
import dev.doorbuster.app.DatabaseErrorMeters;

/**
 * The service's database errors over the run, by SQLSTATE, as its instances counted them (every instance of a fleet
 * added up, from their last readable metrics): the errors turned into an answer, and the connection attempts of its
 * pools that failed (those refused for want of room apart). What the report lists under "Database errors".
 *
 * @param instances the service's instances whose metrics were read
 * @param rows      one per SQLSTATE seen, in code order ({@link DatabaseErrorMeters#NO_SQLSTATE} last)
 */
public record DatabaseErrors(int instances, List<Row> rows) {

    /**
     * One SQLSTATE.
     *
     * @param answered           database errors with it that the service turned into an answer (5xx, 409, timeout)
     * @param connectionFailures connection attempts of its pools that failed with it
     * @param refused            of those, the refusals for want of room (too many clients, a full pooler)
     */
    public record Row(String sqlState, String meaning, double answered, double connectionFailures, double refused) {
    }

    /** What the common codes mean to someone reading the report; others are looked up in PostgreSQL's appendix. */
    private static final Map<String, String> MEANINGS = Map.ofEntries(
            Map.entry(DatabaseErrorMeters.TOO_MANY_CONNECTIONS, "too many connections: the server had no slot left"),
            Map.entry("08P01", "protocol violation: PgBouncer's own errors (\"no more connections allowed\": no room; "
                    + "\"server login has been failing\": its node is down, it retries later)"),
            Map.entry("08001", "could not connect (no server reachable, or none of the role asked for)"),
            Map.entry("08006", "connection failure: the connection broke"),
            Map.entry("08003", "connection does not exist: the driver had closed it already (after an I/O error or "
                    + "its socket timeout)"),
            Map.entry("57P01", "the server shut down the connection (a node stopped)"),
            Map.entry("57P03", "the server is not accepting connections yet (starting, or shutting down)"),
            Map.entry("57014", "statement cancelled: the statement timeout (the request bound) passed"),
            Map.entry("25006", "a write sent to a read-only server (a replica, or a demoted primary)"),
            Map.entry("26000", "prepared statement missing: named statements behind a transaction pooler"),
            Map.entry("42P05", "prepared statement already exists: named statements behind a transaction pooler"),
            Map.entry("25P02", "in a failed transaction: a statement sent after an earlier one of the same "
                    + "transaction failed"),
            Map.entry("40001", "serialization failure"),
            Map.entry("40P01", "deadlock detected"),
            Map.entry(DatabaseErrorMeters.NO_SQLSTATE, "no SQLSTATE: the pool's own timeout (no connection free in time)"),
            Map.entry(DatabaseErrorMeters.OTHER, "a code that is not five letters and digits"));

    /** From one reading of the service's metrics (every instance merged); empty rows when it counted no error. */
    public static DatabaseErrors of(int instances, PrometheusText metrics) {
        String answeredFamily = CacheMeters.series(DatabaseErrorMeters.ERRORS);
        String attemptsFamily = CacheMeters.series(DatabaseErrorMeters.CONNECTION_FAILURES);
        TreeSet<String> codes = new TreeSet<>((a, b) -> a.equals(b) ? 0
                : a.equals(DatabaseErrorMeters.NO_SQLSTATE) ? 1 : b.equals(DatabaseErrorMeters.NO_SQLSTATE) ? -1 : a.compareTo(b));
        codes.addAll(metrics.labelValues(answeredFamily, DatabaseErrorMeters.SQLSTATE));
        codes.addAll(metrics.labelValues(attemptsFamily, DatabaseErrorMeters.SQLSTATE));
        List<Row> rows = new ArrayList<>();
        for (String code : codes) {
            Map<String, String> only = Map.of(DatabaseErrorMeters.SQLSTATE, code);
            double answered = zeroIfAbsent(metrics.sum(answeredFamily, only));
            double failures = zeroIfAbsent(metrics.sum(attemptsFamily, only));
            double refused = zeroIfAbsent(metrics.sum(attemptsFamily, Map.of(DatabaseErrorMeters.SQLSTATE, code,
                    DatabaseErrorMeters.REFUSED, "true")));
            if (answered + failures > 0) { // series registered at 0 up front are not errors
                rows.add(new Row(code, MEANINGS.getOrDefault(code, "see PostgreSQL's error codes appendix"), answered,
                        failures, refused));
            }
        }
        return new DatabaseErrors(instances, List.copyOf(rows));
    }

    /**
     * The codes the service answered most requests with, most first, at most {@code top} of them: "26000 × 412
     * (prepared statement missing: ...)". Empty when it answered none with a database error.
     */
    public String mostAnswered(int top) {
        return rows.stream().filter(r -> r.answered() > 0)
                .sorted(java.util.Comparator.comparingDouble(Row::answered).reversed().thenComparing(Row::sqlState))
                .limit(top)
                .map(r -> r.sqlState() + " × " + (long) r.answered() + " (" + r.meaning() + ")")
                .collect(java.util.stream.Collectors.joining(", "));
    }

    private static double zeroIfAbsent(double value) {
        return Double.isNaN(value) ? 0 : value;
    }
}
