package dev.doorbuster.topology;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

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
     * Starts the storefront with {@code app}'s settings, seeding its schema.
     *
     * @param writerHosts every node's proxy ({@code host:port}); PgJDBC picks the primary and re-picks after a failover
     * @param replicaHosts each replica's proxy
     * @param primaryHost  the primary's proxy, the readers' last resort
     */
    public static AppProcess start(Environment.App app, List<String> writerHosts, List<String> replicaHosts,
                                   String primaryHost, String dbUser, String dbPassword, Path logFile) {
        List<String> args = new ArrayList<>(List.of(
                "--port", "0",
                "--writer-url", writerUrl(writerHosts)));
        for (String readerUrl : readerUrls(replicaHosts, primaryHost)) {
            args.addAll(List.of("--reader-url", readerUrl));
        }
        args.addAll(List.of(
                "--db-user", dbUser,
                "--routing", app.routing(),
                "--stock-locking", app.stockLocking(),
                "--writer-pool-size", Integer.toString(app.writerPoolSize()),
                "--reader-pool-size", Integer.toString(app.readerPoolSize()),
                "--pool-timeout-ms", Integer.toString(app.poolTimeoutMs()),
                "--request-timeout-ms", Integer.toString(app.requestTimeoutMs()),
                "--init-schema",
                "--seed-products", Integer.toString(app.seedProducts()),
                "--seed-users", Integer.toString(app.seedUsers())));
        if (!dbPassword.isEmpty()) {
            args.addAll(List.of("--db-password", dbPassword));
        }
        return AppProcess.start(MAIN_CLASS, app.jvmOptions(), args, logFile, START_TIMEOUT);
    }

    /** The writer URL over {@code hosts}: {@code targetServerType=primary}, so it follows a failover by itself. */
    public static String writerUrl(List<String> hosts) {
        return jdbcUrl(hosts, "primary");
    }

    /** One reader URL over {@code hosts} (replicas first, the primary last), for a service that takes one. */
    public static String readerUrl(List<String> hosts) {
        return jdbcUrl(hosts, "preferSecondary");
    }

    /**
     * The storefront's {@code --reader-url}s. Replicas first; {@code preferSecondary} falls back to the primary
     * when no replica answers. With one replica (or none) a single URL, unchanged. With two or more, one URL
     * per replica (that replica, then the primary): the storefront keeps a pool per URL and picks one per
     * read, as per-query balancing (pgpool-II, ProxySQL, an application's list of replicas) would. Replicas
     * that lag differently behind successive reads are where non-monotonic reads (newer, then older data)
     * come from; one pool over a {@code loadBalanceHosts} URL sent nearly every read to one replica.
     */
    public static List<String> readerUrls(List<String> replicas, String primary) {
        if (replicas.size() < 2) {
            List<String> hosts = new ArrayList<>(replicas);
            hosts.add(primary);
            return List.of(jdbcUrl(hosts, "preferSecondary"));
        }
        return replicas.stream().map(replica -> jdbcUrl(List.of(replica, primary), "preferSecondary")).toList();
    }

    private static String jdbcUrl(List<String> hosts, String targetServerType) {
        return "jdbc:postgresql://" + String.join(",", hosts) + "/" + DATABASE + "?targetServerType=" + targetServerType
                + "&sslmode=disable&connectTimeout=2&socketTimeout=10&loginTimeout=5&hostRecheckSeconds=1";
    }
}
