package dev.doorbuster.pooler;

import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one PgBouncer is told: how it pools and which databases it serves. Only holds settings; {@link PgBouncerServer}
 * writes them into its pgbouncer.ini.
 *
 * @param poolMode                 {@code pool_mode}
 * @param maxClientConn            {@code max_client_conn}: client connections it accepts at most (more are refused)
 * @param defaultPoolSize          {@code default_pool_size}: server connections per database and user at most
 * @param databases                the databases clients ask for, each an alias of a database on a server
 * @param ignoredStartupParameters {@code ignore_startup_parameters}: what clients send at login that PgBouncer would
 *                                 otherwise refuse the login for. PgJDBC's {@code extra_float_digits} always; a
 *                                 client's {@code options} ({@code -c statement_timeout=...}) only when
 *                                 {@code serverSettings} gives the server what they asked for, since PgBouncer 1.18
 *                                 cannot pass them on
 * @param serverSettings           settings every server connection gets when it opens ({@code connect_query} of each
 *                                 database), for all its clients: where per-client {@code options} cannot go
 * @param serverLoginRetrySeconds  {@code server_login_retry}: after a server connection could not be opened, how long
 *                                 PgBouncer waits before it tries again, its clients waiting meanwhile (0-3600; PgBouncer's
 *                                 default, 15, is what a failover behind it waits at worst)
 */
public record PgBouncerConfig(PoolMode poolMode, int maxClientConn, int defaultPoolSize, Map<String, Target> databases,
                              List<String> ignoredStartupParameters, Map<String, String> serverSettings,
                              int serverLoginRetrySeconds) {
    /** What PgJDBC sends at every login and PgBouncer does not track. */
    public static final String EXTRA_FLOAT_DIGITS = "extra_float_digits";
    /** The startup parameter carrying {@code -c name=value} settings; PgBouncer 1.18 refuses it unless ignored. */
    public static final String OPTIONS = "options";
    /** PgBouncer's own {@code server_login_retry}. */
    public static final int DEFAULT_SERVER_LOGIN_RETRY_SECONDS = 15;
    public static final int MAX_SERVER_LOGIN_RETRY_SECONDS = 3600;

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
        if (serverLoginRetrySeconds < 0 || serverLoginRetrySeconds > MAX_SERVER_LOGIN_RETRY_SECONDS) {
            throw new IllegalArgumentException("serverLoginRetrySeconds (" + serverLoginRetrySeconds + ") must be 0 to "
                    + MAX_SERVER_LOGIN_RETRY_SECONDS);
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
        ignoredStartupParameters = ignoredStartupParameters == null ? List.of(EXTRA_FLOAT_DIGITS)
                : List.copyOf(ignoredStartupParameters);
        serverSettings = serverSettings == null ? Map.of() : Map.copyOf(serverSettings);
        for (String parameter : ignoredStartupParameters) {
            if (!parameter.matches("[a-z_]+")) {
                throw new IllegalArgumentException("startup parameter '" + parameter + "' is not a parameter name");
            }
        }
        for (Map.Entry<String, String> setting : serverSettings.entrySet()) {
            if (!setting.getKey().matches("[a-z_.]+") || !setting.getValue().matches("[A-Za-z0-9_.:-]+")) {
                throw new IllegalArgumentException("server setting " + setting.getKey() + "=" + setting.getValue()
                        + " must be a plain name and a plain value (letters, digits, _ . : -)");
            }
        }
        if (ignoredStartupParameters.contains(OPTIONS) && serverSettings.isEmpty()) {
            throw new IllegalArgumentException("ignoring the clients' '" + OPTIONS + "' drops what they asked the "
                    + "server for: give it as serverSettings too");
        }
    }

    /** PgBouncer's own login retry. */
    public PgBouncerConfig(PoolMode poolMode, int maxClientConn, int defaultPoolSize, Map<String, Target> databases,
                           List<String> ignoredStartupParameters, Map<String, String> serverSettings) {
        this(poolMode, maxClientConn, defaultPoolSize, databases, ignoredStartupParameters, serverSettings,
                DEFAULT_SERVER_LOGIN_RETRY_SECONDS);
    }

    /** Only PgJDBC's {@code extra_float_digits} ignored, no server settings, PgBouncer's own login retry. */
    public PgBouncerConfig(PoolMode poolMode, int maxClientConn, int defaultPoolSize, Map<String, Target> databases) {
        this(poolMode, maxClientConn, defaultPoolSize, databases, null, null);
    }

    /** The same settings with {@code alias} pointed at another server (a failover's repointing). */
    public PgBouncerConfig withTarget(String alias, InetSocketAddress server) {
        Target old = databases.get(alias);
        if (old == null) {
            throw new IllegalArgumentException("no database alias '" + alias + "'; the pooler serves " + databases.keySet());
        }
        Map<String, Target> changed = new LinkedHashMap<>(databases);
        changed.put(alias, new Target(server, old.database()));
        return new PgBouncerConfig(poolMode, maxClientConn, defaultPoolSize, changed, ignoredStartupParameters,
                serverSettings, serverLoginRetrySeconds);
    }
}
