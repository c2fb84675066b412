package dev.doorbuster.topology.docker;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import com.github.dockerjava.api.DockerClient;
import dev.doorbuster.postgres.Lag;
import dev.doorbuster.process.ProcessRegistry;
import dev.doorbuster.process.Watchdog;
import dev.doorbuster.postgres.PgNode;
import dev.doorbuster.postgres.SyncMode;
import dev.doorbuster.topology.AppPlaceholder;
import dev.doorbuster.topology.AppProcess;
import dev.doorbuster.topology.CacheTier;
import dev.doorbuster.topology.ClusterControl;
import dev.doorbuster.topology.DatabaseLinks;
import dev.doorbuster.topology.DiagnosticTarget;
import dev.doorbuster.topology.Environment;
import dev.doorbuster.topology.PoolerTier;
import dev.doorbuster.topology.StatementStatistics;
import dev.doorbuster.topology.StorefrontLaunch;
import dev.doorbuster.topology.Topology;
import dev.doorbuster.topology.TopologyException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

/**
 * The {@code docker} environment: PostgreSQL primary and replicas in containers of the environment's image, a
 * proxy container on every link (the applications' and the replication streams'), and the application: the
 * user's service as a container in the same network, or the reference storefront as a process on this machine
 * wired to the proxies' published ports (as in the local environment: no image to build for each code change,
 * and its JVM is not squeezed into a container's CPU share next to the databases).
 *
 * <pre>
 *   app ──▶ toxiproxy:pg1 ──▶ pg1 (primary)
 *       ──▶ toxiproxy:pg2 ──▶ pg2 (replica) ──▶ toxiproxy:pg2-replication ──▶ pg1
 *       ──▶ toxiproxy:cache ──▶ redis                                          (app.cache only)
 *
 *   with postgres.pooler=pgbouncer:
 *   app ──▶ toxiproxy:pooler ──▶ pgbouncer ─"storefront"─────▶ toxiproxy:pg1 ──▶ pg1 (primary)
 *                                          ─"storefront_pg2"─▶ toxiproxy:pg2 ──▶ pg2 (replica)
 * </pre>
 *
 * Behind the pooler the application's URLs name the pooler's aliases ({@link StorefrontLaunch#DATABASE} for the
 * writers, {@link StorefrontLaunch#readerAlias} for each replica). The pooler follows no failover by itself: promoting a
 * node through {@link #clusterControl()} repoints the writers' alias at it, as an operator's runbook does.
 *
 * Everything is labelled with the run and removed at the end, from a shutdown hook on Ctrl-C, and by the next
 * run if this JVM died ({@link RunResources}); Testcontainers' reaper container is not used.
 */
public final class DockerTopology implements Topology {
    static final String USER = "postgres";
    private static final String APP_ALIAS = "app";
    private static final Logger log = LoggerFactory.getLogger(DockerTopology.class);

    private final Environment environment;
    private final Path runDir;
    private final String password = randomPassword();
    private DockerClient docker;
    private RunResources run;
    private Thread shutdownHook;
    private Network network;
    private ProxyContainer proxies;
    private RedisContainer redis;
    private PgBouncerContainer pooler;
    private ContainerCluster cluster;
    private AppProcess storefront;
    private GenericContainer<?> appContainer;
    private URI appUrl;
    private volatile boolean closed;

    private DockerTopology(Environment environment, Path runDir) {
        this.environment = environment;
        this.runDir = runDir;
    }

    /** Starts everything; on failure removes what was started and throws a {@link TopologyException}. */
    public static DockerTopology start(Environment environment, Path runDir) {
        if (!environment.isDocker()) {
            throw new TopologyException(environment.source() + " is not a docker environment; DockerTopology needs "
                    + "\"type\": \"docker\".");
        }
        DockerTopology topology = new DockerTopology(environment, runDir);
        try {
            topology.startAll();
            return topology;
        } catch (RuntimeException e) {
            topology.close();
            throw e;
        }
    }

    private void startAll() {
        long started = System.nanoTime();
        ProcessRegistry.stopLeftovers(); // a storefront JVM of a run whose JVM was killed
        docker = DockerEngine.connect();
        RunResources.removeOrphans(docker);
        requireImages();
        run = RunResources.ownedByThisJvm(runId(runDir));
        Watchdog.alsoOnDeath(RemoveContainersOfDeadRun.class); // before the first container: gone with this JVM
        shutdownHook = new Thread(this::close, "doorbuster-docker-cleanup");
        Runtime.getRuntime().addShutdownHook(shutdownHook);

        network = Network.builder().createNetworkCmdModifier(cmd -> cmd.withName(run.name("net"))
                .withLabels(run.labels())).build();
        network.getId(); // created now, labelled, so that a failure below still finds it to remove

        Environment.Docker settings = environment.docker();
        Duration startTimeout = Duration.ofSeconds(settings.startTimeoutSeconds());
        proxies = ProxyContainer.start(docker, settings, network, run, startTimeout);
        if (environment.app().cache()) {
            startCache(startTimeout);
        }
        PgContainer.Spec spec = new PgContainer.Spec(DockerImageName.parse(settings.postgresImage()), network, run,
                StorefrontLaunch.DATABASE, USER, password, serverArgs(), startTimeout);
        cluster = ContainerCluster.start(docker, spec, proxies, environment.postgres().replicas(),
                SyncMode.parse(environment.postgres().synchronousCommit()),
                primary -> StatementStatistics.createExtension(primary.jdbcUrl(StorefrontLaunch.DATABASE), USER, password));
        if (environment.postgres().pooled()) {
            startPooler(startTimeout);
        }
        if (environment.app().image() == null) {
            startStorefront();
        } else {
            startAppContainer(startTimeout);
        }
        log.info("Docker topology up in {} ms: app {}, proxy API {} ({}), primary {}, replicas {}, cache {}, pooler {}; "
                        + "containers, network and volumes labelled {}={}", (System.nanoTime() - started) / 1_000_000,
                appUrl, proxies.apiUrl(), proxies.image(), cluster.primary(), cluster.replicas(),
                redis == null ? "none" : redis, pooler == null ? "none" : pooler, RunResources.RUN, run.runId());
    }

    /** Redis in the run's network behind the proxy {@link CacheTier#PROXY}, which is all the application sees of it. */
    private void startCache(Duration startTimeout) {
        redis = RedisContainer.start(docker, environment.docker().redisImage(), network, run, startTimeout);
        proxies.proxy(CacheTier.PROXY, redis.internalAddress());
        log.info("Cache: {} behind proxy '{}' ({} from here, {} inside the run's network)", redis, CacheTier.PROXY,
                proxies.hostAddress(CacheTier.PROXY), proxies.internalAddress(CacheTier.PROXY));
    }

    /**
     * PgBouncer in the run's network behind the proxy {@link PoolerTier#PROXY}, which is all the application sees of it;
     * each of its aliases reaches its node through the node's own proxy, so faults apply on both sides of it.
     */
    private void startPooler(Duration startTimeout) {
        java.util.Map<String, java.net.InetSocketAddress> replicas = new java.util.LinkedHashMap<>();
        for (String replica : cluster.replicas()) {
            replicas.put(replica, nodeProxy(replica));
        }
        pooler = PgBouncerContainer.start(docker, environment.docker().pgbouncerImage(), network, run,
                StorefrontLaunch.poolerConfig(environment, nodeProxy(cluster.primary()), replicas),
                StorefrontLaunch.DATABASE, USER, password, startTimeout);
        proxies.proxy(PoolerTier.PROXY, pooler.internalAddress());
        Environment.PgBouncer settings = environment.postgres().pgbouncer();
        log.info("Pooler: {} ({} mode, {} server connections per alias, {} clients at most) behind proxy '{}' ({} from "
                        + "here, {} inside the run's network)", pooler, settings.poolMode().iniValue(),
                settings.defaultPoolSize(), settings.maxClientConn(), PoolerTier.PROXY,
                proxies.hostAddress(PoolerTier.PROXY), proxies.internalAddress(PoolerTier.PROXY));
    }

    /** Node {@code name}'s proxy as the pooler reaches it inside the run's network. */
    private java.net.InetSocketAddress nodeProxy(String name) {
        String at = proxies.internalAddress(name);
        int colon = at.lastIndexOf(':');
        return PgBouncerContainer.server(at.substring(0, colon), Integer.parseInt(at.substring(colon + 1)));
    }

    /** Durable settings stay on (fsync, full_page_writes): a lost-write verdict means nothing without them. */
    private List<String> serverArgs() {
        List<String> args = new ArrayList<>(List.of(
                "fsync=on",
                "full_page_writes=on",
                "wal_level=replica",
                "max_wal_senders=16",
                "max_replication_slots=16",
                "hot_standby=on",
                "listen_addresses=*",
                "shared_preload_libraries=" + StatementStatistics.LIBRARY,
                "synchronous_commit=" + SyncMode.parse(environment.postgres().synchronousCommit()).setting()));
        // The local servers' replication timing: without it a promotion waits out the default 5 s retry interval.
        PgNode.REPLICATION_TIMING.forEach((name, value) -> args.add(name + "=" + value));
        environment.postgres().settings().forEach((name, value) -> args.add(name + "=" + value));
        return args;
    }

    private void requireImages() {
        Environment.Docker settings = environment.docker();
        String source = environment.source().toString();
        DockerEngine.requireImage(docker, settings.postgresImage(), "docker.postgresImage in " + source, settings.pull(),
                "Pull it (docker pull " + settings.postgresImage() + "), or build Doorbuster's image from Debian's "
                        + "packages (docker/images/build) and choose it: -Ddocker.postgresImage=doorbuster/postgres:15.");
        if (settings.doorbusterProxy()) {
            DockerEngine.requireImage(docker, settings.javaImage(), "docker.javaImage in " + source, settings.pull(),
                    "Doorbuster's own proxy (docker.proxyImage \"doorbuster\") is layered on it. Pull it (docker pull "
                            + settings.javaImage() + "), or build a Java runtime image from Debian's packages "
                            + "(docker/images/build) and choose it: -Ddocker.javaImage=doorbuster/java:17.");
        } else {
            DockerEngine.requireImage(docker, settings.proxyImage(), "docker.proxyImage in " + source, settings.pull(),
                    "Pull it (docker pull " + settings.proxyImage() + "), or use Doorbuster's own proxy: "
                            + "-Ddocker.proxyImage=doorbuster.");
        }
        if (environment.app().cache()) {
            DockerEngine.requireImage(docker, settings.redisImage(), "docker.redisImage in " + source, settings.pull(),
                    "Pull it (docker pull " + settings.redisImage() + "), or build Doorbuster's image from Debian's "
                            + "packages (docker/images/build) and choose it: -Ddocker.redisImage=doorbuster/redis:7.");
        }
        if (environment.postgres().pooled()) {
            DockerEngine.requireImage(docker, settings.pgbouncerImage(), "docker.pgbouncerImage in " + source,
                    settings.pull(), "Build Doorbuster's image from Debian's pgbouncer package (docker/images/build) and "
                            + "choose it: -Ddocker.pgbouncerImage=doorbuster/pgbouncer:1.18.");
        }
        String image = environment.app().image();
        if (image != null) {
            DockerEngine.requireImage(docker, image, "app.image in " + source, settings.pull(),
                    "Build your service's image here (docker build -t " + image + " .) or pull it.");
        }
    }

    private void startStorefront() {
        String cacheUrl = redis == null ? null : "redis://" + proxies.hostAddress(CacheTier.PROXY);
        if (pooler != null) {
            String at = proxies.hostAddress(PoolerTier.PROXY);
            int bound = environment.app().requestTimeoutMs();
            storefront = StorefrontLaunch.start(environment.app(),
                    StorefrontLaunch.pooledUrl(at, StorefrontLaunch.DATABASE, true, bound),
                    StorefrontLaunch.pooledReaderUrls(at, cluster.replicas(), bound), cacheUrl, USER, password,
                    runDir.resolve("app.log"));
            appUrl = storefront.url();
            return;
        }
        List<String> replicaNames = cluster.replicas();
        List<String> all = new ArrayList<>(List.of(cluster.primary()));
        all.addAll(replicaNames);
        storefront = StorefrontLaunch.start(environment.app(),
                all.stream().map(proxies::hostAddress).toList(),
                replicaNames.stream().map(proxies::hostAddress).toList(),
                proxies.hostAddress(cluster.primary()), cacheUrl, USER, password, runDir.resolve("app.log"));
        appUrl = storefront.url();
    }

    /** The user's service, in the run's network, given the database through the proxies' inside addresses. */
    private void startAppContainer(Duration startTimeout) {
        Environment.App app = environment.app();
        List<String> replicaNames = cluster.replicas();
        List<String> writerHosts = new ArrayList<>(List.of(proxies.internalAddress(cluster.primary())));
        replicaNames.forEach(r -> writerHosts.add(proxies.internalAddress(r)));
        List<String> readerHosts = new ArrayList<>(replicaNames.stream().map(proxies::internalAddress).toList());
        readerHosts.add(proxies.internalAddress(cluster.primary()));
        String cacheProxy = redis == null ? null : proxies.internalAddress(CacheTier.PROXY);
        var resolved = pooler == null ? appEnvironment(app, writerHosts, readerHosts, cacheProxy, password)
                : pooledAppEnvironment(app, proxies.internalAddress(PoolerTier.PROXY), replicaNames, cacheProxy,
                        password);
        GenericContainer<?> c = new GenericContainer<>(DockerImageName.parse(app.image()))
                .withNetwork(network)
                .withNetworkAliases(APP_ALIAS)
                .withLabels(run.labels())
                .withEnv(resolved)
                .withExposedPorts(app.port())
                .waitingFor(Wait.forHttp(app.healthPath()).forPort(app.port())
                        .forStatusCodeMatching(code -> code >= 200 && code < 300))
                .withStartupTimeout(startTimeout)
                .withCreateContainerCmdModifier(cmd -> cmd.withName(run.name(APP_ALIAS)));
        appContainer = c;
        try {
            c.start();
        } catch (RuntimeException e) {
            String logs = Containers.logTail(c, 30);
            throw new TopologyException("The application container (" + app.image() + ", app.image in "
                    + environment.source() + ") did not answer 2xx on " + app.healthPath() + " (app.healthPath) at port "
                    + app.port() + " (app.port) within " + startTimeout.toSeconds() + " s (docker.startTimeoutSeconds): "
                    + Containers.rootMessage(e) + (logs.isEmpty() ? "" : "\nLast lines of its log:\n" + logs));
        }
        appUrl = URI.create("http://127.0.0.1:" + c.getMappedPort(app.port()));
    }

    /**
     * {@code app.environment} with every placeholder resolved to the addresses seen inside the run's network.
     *
     * @param cacheProxy {@code host:port} of the cache's proxy there, or null without a cache tier (the environment's
     *                   loader refuses the cache placeholders then)
     */
    static Map<String, String> appEnvironment(Environment.App app, List<String> writerHosts, List<String> readerHosts,
                                              String cacheProxy, String dbPassword) {
        return AppPlaceholder.resolveAll(app.environment(), p -> switch (p) {
            case WRITER_JDBC_URL -> StorefrontLaunch.writerUrl(writerHosts, app.requestTimeoutMs());
            case READER_JDBC_URL -> StorefrontLaunch.readerUrl(readerHosts, app.requestTimeoutMs());
            case WRITER_HOSTS -> String.join(",", writerHosts);
            case READER_HOSTS -> String.join(",", readerHosts);
            case DB_NAME -> StorefrontLaunch.DATABASE;
            case DB_USER -> USER;
            case DB_PASSWORD -> dbPassword;
            case CACHE_HOST -> cachePart(cacheProxy, p, true);
            case CACHE_PORT -> cachePart(cacheProxy, p, false);
        });
    }

    /**
     * {@code app.environment} behind the pooler: the URLs name its aliases through the proxy {@link PoolerTier#PROXY}
     * (the readers' URL the first replica's alias, or the writers' without a replica), the host lists are that proxy
     * alone, and the database name is the writers' alias.
     *
     * @param poolerProxy {@code host:port} of the pooler's proxy inside the run's network
     */
    static Map<String, String> pooledAppEnvironment(Environment.App app, String poolerProxy, List<String> replicas,
                                                    String cacheProxy, String dbPassword) {
        return AppPlaceholder.resolveAll(app.environment(), p -> switch (p) {
            case WRITER_JDBC_URL -> StorefrontLaunch.pooledUrl(poolerProxy, StorefrontLaunch.DATABASE, true,
                    app.requestTimeoutMs());
            case READER_JDBC_URL -> StorefrontLaunch.pooledReaderUrls(poolerProxy, replicas, app.requestTimeoutMs())
                    .get(0);
            case WRITER_HOSTS, READER_HOSTS -> poolerProxy;
            case DB_NAME -> StorefrontLaunch.DATABASE;
            case DB_USER -> USER;
            case DB_PASSWORD -> dbPassword;
            case CACHE_HOST -> cachePart(cacheProxy, p, true);
            case CACHE_PORT -> cachePart(cacheProxy, p, false);
        });
    }

    private static String cachePart(String cacheProxy, AppPlaceholder placeholder, boolean host) {
        if (cacheProxy == null) {
            throw new TopologyException("app.environment uses ${" + placeholder.key() + "}, but this run has no cache "
                    + "tier: set app.cache to true.");
        }
        int colon = cacheProxy.lastIndexOf(':');
        return host ? cacheProxy.substring(0, colon) : cacheProxy.substring(colon + 1);
    }

    private static String runId(Path runDir) {
        String base = runDir == null ? "run" : runDir.getFileName().toString().toLowerCase(Locale.ROOT)
                .replaceAll("[^a-z0-9_.-]", "-");
        return base + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("HHmmssSSS"));
    }

    private static String randomPassword() {
        SecureRandom random = new SecureRandom();
        String alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < 24; i++) {
            s.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return s.toString();
    }

    // ---- Topology -------------------------------------------------------------------------------------------

    @Override
    public Environment environment() {
        return environment;
    }

    @Override
    public URI appUrl() {
        return appUrl;
    }

    @Override
    public URI appMetricsUrl() {
        if (storefront != null) {
            return appUrl.resolve("/metrics");
        }
        URI metrics = environment.app().metricsUrl();
        return metrics == null ? null : appUrl.resolve(metrics);
    }

    @Override
    public URI toxiproxyUrl() {
        return proxies.apiUrl();
    }

    @Override
    public DatabaseLinks links() {
        List<String> replicas = cluster.replicas();
        return new DatabaseLinks(cluster.primary(), replicas, replicas.stream().map(r -> r + "-replication").toList());
    }

    /**
     * The cluster's own control; with the pooler, a promotion also repoints the writers' alias at the promoted node's
     * proxy (the pooler follows no failover by itself).
     */
    @Override
    public Optional<ClusterControl> clusterControl() {
        if (pooler == null) {
            return Optional.of(cluster);
        }
        return Optional.of(new ClusterControl() {
            @Override
            public String primary() {
                return cluster.primary();
            }

            @Override
            public List<String> replicas() {
                return cluster.replicas();
            }

            @Override
            public void kill(String node) {
                cluster.kill(node);
            }

            @Override
            public void promote(String replica) {
                cluster.promote(replica);
                pooler.repoint(pooler.writerAlias(), nodeProxy(replica));
            }

            @Override
            public void rejoin(String node) {
                cluster.rejoin(node);
            }
        });
    }

    @Override
    public String writerJdbcUrl() {
        return cluster.node(cluster.primary()).jdbcUrl(StorefrontLaunch.DATABASE);
    }

    @Override
    public String dbUser() {
        return USER;
    }

    @Override
    public String dbPassword() {
        return password;
    }

    @Override
    public Optional<Lag> replicationLag() {
        List<String> replicas = cluster.replicas();
        return replicas.isEmpty() ? Optional.empty() : cluster.lag(replicas.get(0));
    }

    /** Every node on its published port (not through its proxy), whatever its state. */
    @Override
    public List<DiagnosticTarget> diagnosticTargets() {
        String primary = cluster.primary();
        List<String> replicas = cluster.replicas();
        return cluster.nodes().stream().map(n -> new DiagnosticTarget(n.name(),
                n.name().equals(primary) ? "primary" : replicas.contains(n.name()) ? "replica" : "stopped",
                n.jdbcUrl(StorefrontLaunch.DATABASE), USER, password)).toList();
    }

    /** With {@code app.cache}: the Redis container, read directly on its published port, restarted cold in place. */
    @Override
    public Optional<CacheTier> cache() {
        return Optional.ofNullable(redis);
    }

    /** With {@code postgres.pooler=pgbouncer}: the PgBouncer container, steered through its console on its published port. */
    @Override
    public Optional<PoolerTier> pooler() {
        return Optional.ofNullable(pooler);
    }

    @Override
    public boolean allows(String faultName) {
        return true;
    }

    /** The labels of this run's containers, networks and volumes ({@code dev.doorbuster.run=<id>}). */
    public String runId() {
        return run == null ? null : run.runId();
    }

    /** Where the proxy {@code name} is reached from this machine ({@code 127.0.0.1:port}). */
    String proxyHostAddress(String name) {
        return proxies.hostAddress(name);
    }

    ContainerCluster cluster() {
        return cluster;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (shutdownHook != null && Thread.currentThread() != shutdownHook) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or about to
            }
        }
        if (storefront != null) {
            storefront.close();
        }
        if (appContainer != null) {
            keepLog("app.log", Containers.logTail(appContainer, Integer.MAX_VALUE));
            Containers.stopQuietly(appContainer);
        }
        if (pooler != null) {
            keepLog("pgbouncer.log", pooler.logs());
            pooler.stop();
        }
        if (redis != null) {
            keepLog("redis.log", redis.logs());
            redis.stop();
        }
        if (cluster != null) {
            cluster.closeSessions();
            for (PgContainer node : cluster.nodes()) {
                keepLog("postgres-" + node.name() + ".log", node.logs());
                node.remove(docker);
            }
        }
        if (proxies != null) {
            keepLog("proxy.log", proxies.logs());
            proxies.stop();
        }
        if (network != null) {
            try {
                network.close();
            } catch (RuntimeException ignored) {
                // the label sweep below removes it
            }
        }
        if (run != null && docker != null) {
            run.removeAll(docker);
        }
    }

    private void keepLog(String file, String content) {
        if (content == null || content.isEmpty() || runDir == null) {
            return;
        }
        try {
            Files.createDirectories(runDir);
            Files.writeString(runDir.resolve(file), content, StandardCharsets.UTF_8);
        } catch (IOException e) {
            log.debug("Cannot keep {}: {}", file, e.toString());
        }
    }
}
