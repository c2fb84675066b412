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

    /**
     * Where one PgBouncer listens and keeps its files: what its pgbouncer.ini says besides these settings.
     *
     * @param listenAddress {@code listen_addr}: 127.0.0.1 for a process here; every interface inside a container whose
     *                      port is published on 127.0.0.1 only
     * @param port          {@code listen_port}
     * @param usersFile     {@code auth_file}: the path of {@link #usersFile}'s text, as PgBouncer sees it
     * @param logFile       {@code logfile}, or null to log to its standard error only (a container's output)
     * @param adminLogin    the login of its admin console ({@code admin_users}, {@code stats_users})
     */
    public record Placement(String listenAddress, int port, String usersFile, String logFile, String adminLogin) {
        public Placement {
            for (String path : logFile == null ? List.of(usersFile) : List.of(usersFile, logFile)) {
                if (path.matches(".*[\\s;#\"].*")) {
                    throw new IllegalArgumentException("path " + path + " has a space, ';', '#' or '\"', which "
                            + "pgbouncer.ini cannot hold");
                }
            }
        }
    }

    /**
     * The text of pgbouncer.ini for these settings at {@code placement}. Clients are trusted ({@code auth_type =
     * trust}: PgBouncer is reached only through a loopback address or a run's own network), and each logs in as a user
     * of the users file, whose password there (if any) is what PgBouncer gives the server.
     */
    public String ini(Placement placement) {
        StringBuilder ini = new StringBuilder("; written by Doorbuster for one run; rewritten when a database is repointed\n");
        ini.append("[databases]\n");
        for (Map.Entry<String, Target> db : databases.entrySet()) {
            InetSocketAddress server = db.getValue().server();
            ini.append(db.getKey()).append(" = host=").append(server.getHostString()).append(" port=")
                    .append(server.getPort()).append(" dbname=").append(db.getValue().database());
            if (!serverSettings.isEmpty()) {
                ini.append(" connect_query='").append(serverSettings.entrySet().stream()
                        .map(e -> "SET " + e.getKey() + " = ''" + e.getValue() + "''")
                        .collect(java.util.stream.Collectors.joining("; "))).append('\'');
            }
            ini.append('\n');
        }
        ini.append("\n[pgbouncer]\n");
        setting(ini, "listen_addr", placement.listenAddress());
        setting(ini, "listen_port", Integer.toString(placement.port()));
        setting(ini, "unix_socket_dir", ""); // no socket file: nothing outside its own folder
        setting(ini, "auth_type", "trust");
        setting(ini, "auth_file", placement.usersFile());
        setting(ini, "admin_users", placement.adminLogin());
        setting(ini, "stats_users", placement.adminLogin());
        setting(ini, "pool_mode", poolMode.iniValue());
        setting(ini, "max_client_conn", Integer.toString(maxClientConn));
        setting(ini, "default_pool_size", Integer.toString(defaultPoolSize));
        setting(ini, "server_login_retry", Integer.toString(serverLoginRetrySeconds));
        // PgJDBC sends extra_float_digits at login, which PgBouncer does not track: without this it refuses the login.
        setting(ini, "ignore_startup_parameters", String.join(",", ignoredStartupParameters));
        if (placement.logFile() != null) {
            setting(ini, "logfile", placement.logFile());
        }
        setting(ini, "log_connections", "0"); // a storm opens thousands: the log would cost more than the run
        setting(ini, "log_disconnections", "0");
        setting(ini, "stats_period", "1");
        return ini.toString();
    }

    /**
     * The text of a users file ({@code auth_file}): each login with its password, empty for a login the servers trust
     * without one. PgBouncer answers its clients without asking them (trust) and gives the server this password.
     */
    public static String usersFile(Map<String, String> passwordsByLogin) {
        StringBuilder users = new StringBuilder();
        passwordsByLogin.forEach((login, password) -> {
            if (!login.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                throw new IllegalArgumentException("the pooler's login '" + login + "' must be a plain database user "
                        + "name");
            }
            if (password.indexOf('"') >= 0 || password.indexOf('\n') >= 0) {
                throw new IllegalArgumentException("the password of '" + login + "' has a '\"' or a line break, which "
                        + "a PgBouncer users file cannot hold");
            }
            users.append('"').append(login).append("\" \"").append(password).append("\"\n");
        });
        return users.toString();
    }

    /** A {@link PoolerException} naming what it serves unless {@code alias} is one of its databases. */
    public void requireAlias(String alias, String poolerName) {
        if (!databases.containsKey(alias)) {
            throw new PoolerException("PgBouncer '" + poolerName + "' serves no database '" + alias + "'; it serves "
                    + databases.keySet());
        }
    }

    private static void setting(StringBuilder ini, String key, String value) {
        ini.append(key).append(" = ").append(value).append('\n');
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
