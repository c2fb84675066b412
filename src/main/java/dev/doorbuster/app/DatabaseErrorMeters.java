package dev.doorbuster.app;

import java.util.regex.Pattern;

/**
 * The name of the storefront's meter of database errors by SQLSTATE, its tags and their values, defined once: the
 * storefront registers it ({@link StorefrontMetrics}) and the harness reads the same names from {@code /metrics}
 * (its Prometheus series: {@link CacheMeters#series}). A connection storm shows here as {@link #TOO_MANY_CONNECTIONS};
 * a driver's named statements behind a transaction pooler as {@code 26000} or {@code 42P05}.
 */
public final class DatabaseErrorMeters {
    /**
     * Database errors the storefront turned into an answer (5xx, 409 or a timeout), by {@link #POOL} and
     * {@link #SQLSTATE}; the retries it made before answering are not counted.
     */
    public static final String ERRORS = "storefront.db.errors";
    /**
     * Connection attempts of a pool that failed (the server refused the login, or could not be reached), by
     * {@link #POOL} and {@link #SQLSTATE}: one per attempt, retries included, as the server logs each refusal.
     */
    public static final String CONNECTION_FAILURES = "storefront.db.connection.failures";
    /** Tag: the pool the failed work ran on ({@code writer}, {@code reader}, {@code reader-N}). */
    public static final String POOL = "pool";
    /** Tag: the error's SQLSTATE, {@link #NO_SQLSTATE} or {@link #OTHER}. */
    public static final String SQLSTATE = "sqlstate";
    /** The SQLSTATE tag of an error that carried none: a pool's own timeout (every connection busy). */
    public static final String NO_SQLSTATE = "none";
    /** The SQLSTATE tag of a code that is not five letters and digits (kept out of the series' names). */
    public static final String OTHER = "other";
    /** {@code too_many_connections}: the server refused a new connection ("sorry, too many clients already"). */
    public static final String TOO_MANY_CONNECTIONS = "53300";

    /**
     * Tag of {@link #CONNECTION_FAILURES}: {@code true} when the attempt was refused for want of room (a connection
     * storm), {@code false} for every other failure (a server down, a login refused for another reason): see
     * {@link #isRefusal}.
     */
    public static final String REFUSED = "refused";
    /**
     * What PgBouncer answers a login it has no room for, with SQLSTATE {@code 08P01} (protocol violation, which it
     * uses for all of its own errors, so the code alone does not say it): its {@code max_client_conn} refusal, as
     * 1.18 words it (measured here).
     */
    static final String POOLER_FULL = "no more connections allowed";

    private static final Pattern CODE = Pattern.compile("[0-9A-Z]{5}");

    private DatabaseErrorMeters() {
    }

    /**
     * Whether a failed connection attempt was refused for want of room: the server's {@code too_many_connections}
     * ({@link #TOO_MANY_CONNECTIONS}, "sorry, too many clients already"), or a pooler's "no more connections allowed".
     */
    public static boolean isRefusal(String sqlState, String message) {
        return TOO_MANY_CONNECTIONS.equals(sqlState)
                || ("08P01".equals(sqlState) && message != null && message.contains(POOLER_FULL));
    }

    /** The {@link #SQLSTATE} tag's value for {@code sqlState} (null: {@link #NO_SQLSTATE}). */
    public static String tag(String sqlState) {
        if (sqlState == null) {
            return NO_SQLSTATE;
        }
        return CODE.matcher(sqlState).matches() ? sqlState : OTHER;
    }
}
