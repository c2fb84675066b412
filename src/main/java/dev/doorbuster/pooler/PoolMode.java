package dev.doorbuster.pooler;

import java.util.Locale;

/** When PgBouncer gives a client's server connection back to the pool: PgBouncer's {@code pool_mode}. */
public enum PoolMode {
    /** After the client disconnects: one server connection per client connection, as without a pooler. */
    SESSION,
    /**
     * After each transaction: many clients share few server connections. Session state (server-side prepared
     * statements, {@code SET}, advisory locks) does not follow the client; Debian 12's PgBouncer 1.18 has no
     * protocol-level prepared statements, so PgJDBC needs {@code prepareThreshold=0} behind it.
     */
    TRANSACTION;

    /** The value of {@code pool_mode} in pgbouncer.ini. */
    public String iniValue() {
        return name().toLowerCase(Locale.ROOT);
    }
}
