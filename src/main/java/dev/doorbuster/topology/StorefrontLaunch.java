package dev.doorbuster.topology;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.doorbuster.app.JdbcOptions;
import dev.doorbuster.app.StorefrontSetting;
import dev.doorbuster.pooler.PgBouncerConfig;

/**
 * The reference storefront as the harness starts it, in its own JVM on this machine, wired to the database
 * through the chaos proxies: one place for its flags and its JDBC URLs, whichever topology owns the database
 * ({@link LocalTopology}: processes; {@link dev.doorbuster.topology.docker.DockerTopology}: containers).
 */
public final class StorefrontLaunch {
    public static final String MAIN_CLASS = "dev.doorbuster.app.Storefront";
    /** The storefront's database, on every node. */
    public static final String DATABASE = "storefront";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(180);

    private StorefrontLaunch() {
    }

    /**
     * Starts the storefront with {@code app}'s settings (every {@link StorefrontSetting} an environment can set,
     * as its flag), seeding its schema.
     *
     * @param writerHosts every node's proxy ({@code host:port}); PgJDBC picks the primary and re-picks after a failover
     * @param replicaHosts each replica's proxy
     * @param primaryHost  the primary's proxy, the readers' last resort
     * @param cacheUrl     the cache's proxy ({@code redis://host:port}) when {@code app.cache}, else null
     */
    public static AppProcess start(Environment.App app, List<String> writerHosts, List<String> replicaHosts,
                                   String primaryHost, String cacheUrl, String dbUser, String dbPassword, Path logFile) {
        return start(app, writerUrl(writerHosts, app.requestTimeoutMs()),
                readerUrls(replicaHosts, primaryHost, app.requestTimeoutMs()), cacheUrl, dbUser, dbPassword, logFile);
    }

    /**
     * Starts the storefront on the JDBC URLs given (a pooler's aliases: {@link #pooledUrl}), with {@code app}'s
     * settings, seeding its schema.
     */
    public static AppProcess start(Environment.App app, String writerUrl, List<String> readerUrls, String cacheUrl,
                                   String dbUser, String dbPassword, Path logFile) {
        return start(app, writerUrl, readerUrls, cacheUrl, dbUser, dbPassword, logFile, true);
    }

    /**
     * As {@link #start(Environment.App, String, List, String, String, String, Path)}; {@code initSchema} false for an
     * instance that joins a running fleet: the schema is there, and creating it again (its {@code IF NOT EXISTS}
     * statements still lock the tables) would deadlock with the shoppers' transactions.
     */
    public static AppProcess start(Environment.App app, String writerUrl, List<String> readerUrls, String cacheUrl,
                                   String dbUser, String dbPassword, Path logFile, boolean initSchema) {
        List<String> args = args(app, writerUrl, readerUrls, dbUser, dbPassword);
        if (!initSchema) {
            args.remove(StorefrontSetting.INIT_SCHEMA.option());
        }
        if (cacheUrl != null) {
            args.addAll(List.of(StorefrontSetting.CACHE_URL.option(), cacheUrl));
        }
        return AppProcess.start(MAIN_CLASS, app.jvmOptions(), args, logFile, START_TIMEOUT);
    }

    /** The storefront's command line for {@link #start}. */
    static List<String> args(Environment.App app, List<String> writerHosts, List<String> replicaHosts,
                             String primaryHost, String dbUser, String dbPassword) {
        return args(app, writerUrl(writerHosts, app.requestTimeoutMs()),
                readerUrls(replicaHosts, primaryHost, app.requestTimeoutMs()), dbUser, dbPassword);
    }

    private static List<String> args(Environment.App app, String writerUrl, List<String> readerUrls, String dbUser,
                                     String dbPassword) {
        List<String> args = new ArrayList<>(List.of(
                StorefrontSetting.PORT.option(), "0",
                StorefrontSetting.WRITER_URL.option(), writerUrl));
        for (String readerUrl : readerUrls) {
            args.addAll(List.of(StorefrontSetting.READER_URL.option(), readerUrl));
        }
        args.addAll(List.of(StorefrontSetting.DB_USER.option(), dbUser, StorefrontSetting.INIT_SCHEMA.option()));
        if (!dbPassword.isEmpty()) {
            args.addAll(List.of(StorefrontSetting.DB_PASSWORD.option(), dbPassword));
        }
        app.storefrontSettings().forEach((setting, value) -> args.addAll(List.of(setting.option(), setting.format(value))));
        return args;
    }

    /**
     * A URL of one database alias at a pooler ({@code host:port}): the writer's ({@code primary} true) picks only a
     * primary, a reader's prefers a replica. One host, so no fallback to another: behind a pooler, which server
     * answers is the pooler's to decide (it is repointed at a failover).
     */
    public static String pooledUrl(String poolerHost, String alias, boolean primary, int requestTimeoutMs) {
        return "jdbc:postgresql://" + poolerHost + "/" + alias + "?" + JdbcOptions.query(primary
                ? JdbcOptions.WRITER_TARGET : JdbcOptions.READER_TARGET, requestTimeoutMs);
    }

    /** A replica's database alias at the pooler; the primary's is {@link #DATABASE}. */
    public static String readerAlias(String replica) {
        return DATABASE + "_" + replica;
    }

    /**
     * The storefront's reader URLs at a pooler ({@code host:port}): one per replica's alias, or with no replica the
     * primary's alias (a reader's URL, which accepts the primary).
     */
    public static List<String> pooledReaderUrls(String poolerHost, List<String> replicas, int requestTimeoutMs) {
        if (replicas.isEmpty()) {
            return List.of(pooledUrl(poolerHost, DATABASE, false, requestTimeoutMs));
        }
        return replicas.stream().map(r -> pooledUrl(poolerHost, readerAlias(r), false, requestTimeoutMs)).toList();
    }

    /**
     * What the pooler in front of the storefront's nodes is told ({@code postgres.pgbouncer}): {@link #DATABASE} served
     * by the primary, {@link #readerAlias} by each replica, each reached at the address given (the node's proxy). The
     * storefront asks for its request bound ({@code statement_timeout}) at login, which PgBouncer 1.18 refuses to pass
     * on: every server connection is given it instead.
     *
     * @param primary  the primary's proxy, as the pooler reaches it
     * @param replicas each replica's proxy by the replica's name, in order
     */
    public static PgBouncerConfig poolerConfig(Environment environment, InetSocketAddress primary,
                                               Map<String, InetSocketAddress> replicas) {
        Environment.PgBouncer settings = environment.postgres().pgbouncer();
        Map<String, PgBouncerConfig.Target> aliases = new LinkedHashMap<>();
        aliases.put(DATABASE, new PgBouncerConfig.Target(primary, DATABASE));
        replicas.forEach((name, at) -> aliases.put(readerAlias(name), new PgBouncerConfig.Target(at, DATABASE)));
        return new PgBouncerConfig(settings.poolMode(), settings.maxClientConn(), settings.defaultPoolSize(), aliases,
                List.of(PgBouncerConfig.EXTRA_FLOAT_DIGITS, PgBouncerConfig.OPTIONS),
                Map.of("statement_timeout", Integer.toString(environment.app().requestTimeoutMs())),
                settings.serverLoginRetrySeconds());
    }

    /**
     * The writer URL over {@code hosts}: {@code targetServerType=primary}, so it follows a failover by itself; its
     * timeouts are {@link JdbcOptions}' for the request bound {@code requestTimeoutMs}.
     */
    public static String writerUrl(List<String> hosts, int requestTimeoutMs) {
        return jdbcUrl(hosts, JdbcOptions.WRITER_TARGET, requestTimeoutMs);
    }

    /** One reader URL over {@code hosts} (replicas first, the primary last), for a service that takes one. */
    public static String readerUrl(List<String> hosts, int requestTimeoutMs) {
        return jdbcUrl(hosts, JdbcOptions.READER_TARGET, requestTimeoutMs);
    }

    /**
     * The storefront's {@code --reader-url}s. Replicas first; {@code preferSecondary} falls back to the primary
     * when no replica answers. With one replica (or none) a single URL, unchanged. With two or more, one URL
     * per replica (that replica, then the primary): the storefront keeps a pool per URL and picks one per
     * read, as per-query balancing (pgpool-II, ProxySQL, an application's list of replicas) would. Replicas
     * that lag differently behind successive reads are where non-monotonic reads (newer, then older data)
     * come from; one pool over a {@code loadBalanceHosts} URL sent nearly every read to one replica.
     */
    public static List<String> readerUrls(List<String> replicas, String primary, int requestTimeoutMs) {
        if (replicas.size() < 2) {
            List<String> hosts = new ArrayList<>(replicas);
            hosts.add(primary);
            return List.of(readerUrl(hosts, requestTimeoutMs));
        }
        return replicas.stream().map(replica -> readerUrl(List.of(replica, primary), requestTimeoutMs)).toList();
    }

    private static String jdbcUrl(List<String> hosts, String targetServerType, int requestTimeoutMs) {
        return "jdbc:postgresql://" + String.join(",", hosts) + "/" + DATABASE + "?"
                + JdbcOptions.query(targetServerType, requestTimeoutMs);
    }
}
