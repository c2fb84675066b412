package dev.doorbuster.pooler;

import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one PgBouncer is told: how it pools and which databases it serves. Only holds settings; {@link PgBouncerServer}
 * writes them into its pgbouncer.ini.
 *
 * @param poolMode        {@code pool_mode}
 * @param maxClientConn   {@code max_client_conn}: client connections it accepts at most (more are refused)
 * @param defaultPoolSize {@code default_pool_size}: server connections per database and user at most
 * @param databases       the databases clients ask for, each an alias of a database on a server
 */
public record PgBouncerConfig(PoolMode poolMode, int maxClientConn, int defaultPoolSize, Map<String, Target> databases) {
    /** An alias: clients connecting to it are given server connections to {@code database} at {@code server}. */
    public record Target(InetSocketAddress server, String database) {
    }

    public PgBouncerConfig {
        if (poolMode == null) {
            throw new IllegalArgumentException("poolMode is required (session or transaction)");
        }
        if (maxClientConn < 1 || defaultPoolSize < 1) {
            throw new IllegalArgumentException("maxClientConn (" + maxClientConn + ") and defaultPoolSize ("
                    + defaultPoolSize + ") must be at least 1");
        }
        if (databases == null || databases.isEmpty()) {
            throw new IllegalArgumentException("a pooler serves at least one database");
        }
        for (String alias : databases.keySet()) {
            if (!alias.matches("[a-z_][a-z0-9_]*") || alias.equals(PgBouncerServer.ADMIN_DATABASE)) {
                throw new IllegalArgumentException("database alias '" + alias + "' must be lower-case letters, digits "
                        + "and '_' and not '" + PgBouncerServer.ADMIN_DATABASE + "' (the admin console's)");
            }
        }
        databases = Map.copyOf(new LinkedHashMap<>(databases));
    }

    /** The same settings with {@code alias} pointed at another server (a failover's repointing). */
    public PgBouncerConfig withTarget(String alias, InetSocketAddress server) {
        Target old = databases.get(alias);
        if (old == null) {
            throw new IllegalArgumentException("no database alias '" + alias + "'; the pooler serves " + databases.keySet());
        }
        Map<String, Target> changed = new LinkedHashMap<>(databases);
        changed.put(alias, new Target(server, old.database()));
        return new PgBouncerConfig(poolMode, maxClientConn, defaultPoolSize, changed);
    }
}
