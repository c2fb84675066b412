package dev.doorbuster.topology;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import dev.doorbuster.pooler.PgBouncerBinary;
import dev.doorbuster.pooler.PgBouncerServer;
import dev.doorbuster.postgres.Lag;
import dev.doorbuster.postgres.PgBinaries;
import dev.doorbuster.postgres.PgCluster;
import dev.doorbuster.process.DoorbusterHome;
import dev.doorbuster.postgres.PgNode;
import dev.doorbuster.postgres.SyncMode;
import dev.doorbuster.process.ServerUser;
import dev.doorbuster.proxy.Balancer;
import dev.doorbuster.proxy.ToxiproxyServer;
import dev.doorbuster.redis.RedisBinary;
import dev.doorbuster.redis.RedisServer;
import eu.rekawek.toxiproxy.Proxy;
import eu.rekawek.toxiproxy.ToxiproxyClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything on this machine, on 127.0.0.1: a PostgreSQL primary + replicas, the chaos proxy (embedded,
 * or an external Toxiproxy named by the environment) on every database link, and the storefront in its
 * own JVM wired through the proxies.
 *
 * <pre>
 *   storefront ──writer pool──▶ proxy "pg1" ──▶ pg1 (primary)
 *              ──reader pool──▶ proxy "pg2" ──▶ pg2 (replica) ──▶ proxy "pg2-replication" ──▶ primary
 *              ──cache-aside──▶ proxy "cache" ──▶ redis-server      (app.cache only)
 *
 *   with postgres.pooler=pgbouncer:
 *   storefront ──writer pool──▶ proxy "pooler" ──▶ pgbouncer ─"storefront"─────▶ proxy "pg1" ──▶ pg1 (primary)
 *              ──reader pool──▶ proxy "pooler" ──▶ pgbouncer ─"storefront_pg2"─▶ proxy "pg2" ──▶ pg2 (replica)
 * </pre>
 *
 * Proxies are named by node, not by role: after a failover "pg2" carries writes and "pg1-replication"
 * carries the rejoined old primary's stream. The storefront's writer URL lists every node's proxy with
 * {@code targetServerType=primary}, so it follows a failover by itself.
 *
 * <p>Behind the pooler the storefront's URLs name the pooler's database aliases instead: the primary's alias is
 * {@value #DATABASE}, each replica's {@code storefront_<node>}. The pooler follows no failover by itself: promoting a
 * node through {@link #clusterControl()} repoints the primary's alias at it, as an operator's runbook does.
 */
public final class LocalTopology implements Topology {
    public static final String APP_MAIN_CLASS = StorefrontLaunch.MAIN_CLASS;
    static final String DATABASE = StorefrontLaunch.DATABASE;
    private static final Logger log = LoggerFactory.getLogger(LocalTopology.class);

    private final Environment environment;
    /** Folder under the Doorbuster home where {@code postgres.keepData} keeps each run's data folders. */
    public static final String KEPT_DATA = "kept";
    private static final String POOLER_PROXY = PoolerTier.PROXY;
    /**
     * The storefront's own login, not a superuser, as a service's never is: when a fleet's pools take every connection
     * a node allows, the harness (a superuser: its audit, its probes, the failover's promotion) still gets one of
     * PostgreSQL's {@code superuser_reserved_connections}. Owner of the storefront's database.
     */
    public static final String APP_ROLE = "storefront";
    /** The balancer in front of a fleet of storefronts ({@code app.instances} over 1). */
    public static final String FLEET_BALANCER = "storefront";
    private final Path runDir;
    private ToxiproxyServer embeddedProxy;
    private ToxiproxyClient toxiproxy;
    private URI toxiproxyUrl;
    private PgCluster cluster;
    private RedisServer redis;
    private Path redisDir;
    private String cacheUrl;
    private PgBouncerServer pooler;
    private Path poolerDir;
    /** The storefront's instances, in the order they started ({@code app.instances}). */
    private final List<AppProcess> apps = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** In front of the instances when there are several; null for one, which the load reaches directly. */
    private Balancer balancer;
    private volatile boolean closed;

    private LocalTopology(Environment environment, Path runDir) {
        this.environment = environment;
        this.runDir = runDir;
    }

    /** Starts the whole topology; on failure, stops what was started and throws. */
    public static LocalTopology start(Environment environment, Path runDir) {
        if (!environment.isLocal()) {
            throw new TopologyException(environment.source() + " describes an external environment; LocalTopology "
                    + "needs \"type\": \"local\".");
        }
        LocalTopology topology = new LocalTopology(environment, runDir);
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
        // Refused before anything starts: a run that needs the cache must not first spend seconds on PostgreSQL.
        RedisBinary redisBinary = environment.app().cache() ? RedisBinary.resolve() : null;
        Environment.Postgres pg = environment.postgres();
        PgBouncerBinary poolerBinary = pg.pooled() ? PgBouncerBinary.resolve() : null;
        startProxy();
        PgCluster.Builder builder = PgCluster.builder()
                .replicas(pg.replicas())
                .syncMode(SyncMode.parse(pg.synchronousCommit()))
                .replicationRoute(this::replicationLink);
        PgBinaries binaries = pg.binaries() != null ? PgBinaries.fromDirectory(Path.of(pg.binaries())) : PgBinaries.resolve();
        builder.binaries(binaries);
        boolean statementStatistics = StatementStatistics.shippedWith(binaries);
        if (statementStatistics) { // for the report's diagnostics; an environment's own setting replaces it
            builder.setting("shared_preload_libraries", StatementStatistics.LIBRARY);
        }
        pg.settings().forEach(builder::setting);
        if (pg.keepData()) {
            // A work folder of its own is not deleted when the cluster stops: the rows stay for SQL after the run.
            Path kept = DoorbusterHome.get().resolve(KEPT_DATA).resolve(runDir.getFileName().toString());
            builder.workDir(kept);
            log.info("PostgreSQL data folders are kept after the run in {} (postgres.keepData)", kept);
        }
        cluster = builder.start();
        for (PgNode node : cluster.nodes()) {
            proxy(node.name(), node.address());
        }
        cluster.primary().execute("CREATE ROLE " + APP_ROLE + " LOGIN");
        cluster.primary().execute("CREATE DATABASE " + DATABASE + " OWNER " + APP_ROLE);
        if (statementStatistics) {
            StatementStatistics.createExtension(cluster.primary().jdbcUrl(DATABASE));
        }
        if (redisBinary != null) {
            startCache(redisBinary);
        }
        if (poolerBinary != null) {
            startPooler(poolerBinary);
        }
        startFleet();
        log.info("Local topology up in {} ms: app {}, proxy API {}, primary {}, replicas {}",
                (System.nanoTime() - started) / 1_000_000, appUrl(), toxiproxyUrl, cluster.primary(), cluster.replicas());
    }

    /**
     * Redis in a folder of the Doorbuster home (its user, when this JVM is root, may not reach the run's folder),
     * deleted with the run, or by the reaper after a run that died; its log is copied into the run's folder.
     */
    private void startCache(RedisBinary binary) {
        redisDir = DoorbusterHome.get().resolve("redis").resolve(runDir.getFileName().toString());
        redis = RedisServer.start(CacheTier.PROXY, binary, ServerUser.detect(), redisDir, redisDir);
        InetSocketAddress listen = proxy(CacheTier.PROXY, redis.address());
        cacheUrl = "redis://" + listen.getHostString() + ":" + listen.getPort();
        log.info("Cache: Redis {} ({}) behind proxy '{}' at {}", binary.version(), redis, CacheTier.PROXY, cacheUrl);
    }

    /** A replica's database alias at the pooler. */
    static String readerAlias(PgNode replica) {
        return StorefrontLaunch.readerAlias(replica.name());
    }

    /**
     * PgBouncer between the storefront and the nodes, in a folder of the Doorbuster home (deleted with the run; its log
     * copied into the run's folder): each alias reaches its node through the node's proxy, and the storefront reaches
     * it through {@link #POOLER_PROXY}, so faults apply on both sides of it. The storefront asks for its request bound
     * ({@code statement_timeout}) at login, which PgBouncer 1.18 refuses to pass on: every server connection is given
     * it instead.
     */
    private void startPooler(PgBouncerBinary binary) {
        Environment.PgBouncer settings = environment.postgres().pgbouncer();
        java.util.Map<String, InetSocketAddress> replicas = new java.util.LinkedHashMap<>();
        for (PgNode replica : cluster.replicas()) {
            replicas.put(replica.name(), parse(listenOf(replica.name())));
        }
        poolerDir = DoorbusterHome.get().resolve("pgbouncer").resolve(runDir.getFileName().toString());
        pooler = PgBouncerServer.start(POOLER_PROXY, binary, ServerUser.detect(), dbUser(), List.of(APP_ROLE),
                poolerDir, poolerDir, StorefrontLaunch.poolerConfig(environment, parse(listenOf(cluster.primary().name())),
                        replicas));
        InetSocketAddress listen = proxy(POOLER_PROXY, pooler.address());
        log.info("Pooler: PgBouncer {} ({} mode, {} server connections per alias, {} clients at most) behind proxy "
                + "'{}' at {}:{}", binary.version(), settings.poolMode().iniValue(), settings.defaultPoolSize(),
                settings.maxClientConn(), POOLER_PROXY, listen.getHostString(), listen.getPort());
    }

    private void startProxy() {
        if (environment.proxy().url() == null) {
            embeddedProxy = ToxiproxyServer.start();
            toxiproxyUrl = URI.create(embeddedProxy.url());
        } else {
            toxiproxyUrl = environment.proxy().url();
        }
        toxiproxy = new ToxiproxyClient(toxiproxyUrl.getHost(), toxiproxyUrl.getPort());
        try {
            toxiproxy.version();
        } catch (IOException e) {
            throw new TopologyException("The Toxiproxy API at " + toxiproxyUrl + " does not answer (" + e.getMessage()
                    + "). Start it, fix proxy.url in " + environment.source() + ", or remove proxy.url to use the "
                    + "embedded proxy.");
        }
    }

    /**
     * The storefront's instances, one after the other (the first creates and seeds the schema; the others find it),
     * behind a {@link Balancer} when there are several: an autoscaled fleet, each instance with its own pools.
     */
    private void startFleet() {
        int instances = environment.app().instances();
        if (instances > 1) {
            balancer = Balancer.start(FLEET_BALANCER);
        }
        for (int i = 0; i < instances; i++) {
            startInstance();
        }
        if (balancer != null) {
            log.info("Fleet: {} storefront instances behind balancer '{}' at {}", instances, FLEET_BALANCER,
                    balancer.address());
        }
    }

    /**
     * Starts one more instance and, with a balancer, gives it its share of new connections. The first creates and seeds
     * the schema; the others join it as it is.
     */
    private AppProcess startInstance() {
        int number = apps.size() + 1;
        Path logFile = runDir.resolve(number == 1 ? "app.log" : "app-" + number + ".log");
        int bound = environment.app().requestTimeoutMs();
        String writerUrl;
        List<String> readerUrls;
        if (pooler != null) {
            String at = listenOf(POOLER_PROXY);
            writerUrl = StorefrontLaunch.pooledUrl(at, DATABASE, true, bound);
            readerUrls = StorefrontLaunch.pooledReaderUrls(at, cluster.replicas().stream().map(PgNode::name).toList(),
                    bound);
        } else {
            writerUrl = StorefrontLaunch.writerUrl(cluster.nodes().stream().map(n -> listenOf(n.name())).toList(), bound);
            readerUrls = StorefrontLaunch.readerUrls(cluster.replicas().stream().map(n -> listenOf(n.name())).toList(),
                    listenOf(cluster.primary().name()), bound);
        }
        AppProcess app = StorefrontLaunch.start(environment.app(), writerUrl, readerUrls, cacheUrl, APP_ROLE, "",
                logFile, number == 1);
        apps.add(app);
        if (closed) { // stopped while it started: close() may have gone over the instances before this one joined
            app.close();
            throw new TopologyException("the topology stopped while instance " + number + " started");
        }
        if (balancer != null) {
            balancer.add(new InetSocketAddress(app.url().getHost(), app.url().getPort()));
        }
        return app;
    }

    /** The {@link dev.doorbuster.postgres.ReplicationRoute}: replica → its own proxy → current primary. */
    private InetSocketAddress replicationLink(PgNode replica, PgNode primary) {
        return proxy(replica.name() + "-replication", primary.address());
    }

    /** Creates the proxy {@code name} → {@code upstream}, or repoints it; returns where it listens. */
    private InetSocketAddress proxy(String name, InetSocketAddress upstream) {
        String target = upstream.getHostString() + ":" + upstream.getPort();
        try {
            Proxy proxy = toxiproxy.getProxyOrNull(name);
            if (proxy == null) {
                proxy = toxiproxy.createProxy(name, "127.0.0.1:0", target);
            } else if (!proxy.getUpstream().equals(target)) {
                proxy.setUpstream(target);
            }
            return parse(proxy.getListen());
        } catch (IOException e) {
            throw new TopologyException("Cannot create or update proxy '" + name + "' at " + toxiproxyUrl + ": "
                    + e.getMessage());
        }
    }

    private String listenOf(String proxyName) {
        try {
            InetSocketAddress address = parse(toxiproxy.getProxy(proxyName).getListen());
            return address.getHostString() + ":" + address.getPort();
        } catch (IOException e) {
            throw new TopologyException("Proxy '" + proxyName + "' is missing at " + toxiproxyUrl + ": " + e.getMessage());
        }
    }

    private static InetSocketAddress parse(String listen) {
        int colon = listen.lastIndexOf(':');
        String host = listen.substring(0, colon).replace("[", "").replace("]", "");
        return new InetSocketAddress(host, Integer.parseInt(listen.substring(colon + 1)));
    }

    // ---- Topology -------------------------------------------------------------------------------------------

    @Override
    public Environment environment() {
        return environment;
    }

    /** The balancer's address with several instances, else the one instance's. */
    @Override
    public URI appUrl() {
        if (balancer != null) {
            InetSocketAddress at = balancer.address();
            return URI.create("http://" + at.getHostString() + ":" + at.getPort());
        }
        return apps.get(0).url();
    }

    /** The first instance's; every instance's is {@link #appMetricsUrls()}. */
    @Override
    public URI appMetricsUrl() {
        return apps.get(0).url().resolve("/metrics");
    }

    @Override
    public List<URI> appMetricsUrls() {
        return apps.stream().map(a -> a.url().resolve("/metrics")).toList();
    }

    @Override
    public URI toxiproxyUrl() {
        return toxiproxyUrl;
    }

    @Override
    public DatabaseLinks links() {
        List<PgNode> replicas = cluster.replicas();
        return new DatabaseLinks(cluster.primary().name(), replicas.stream().map(PgNode::name).toList(),
                replicas.stream().map(r -> r.name() + "-replication").toList());
    }

    @Override
    public Optional<PoolerTier> pooler() {
        if (pooler == null) {
            return Optional.empty();
        }
        return Optional.of(new PoolerTier() {
            @Override
            public String writerAlias() {
                return DATABASE;
            }

            @Override
            public void pauseWriters() {
                pooler.pause(DATABASE);
            }

            @Override
            public void resumeWriters() {
                pooler.resume(DATABASE);
            }

            @Override
            public void resumeWritersIfPaused() {
                pooler.resumeIfPaused(DATABASE);
            }

            @Override
            public void restart() {
                pooler.restart();
            }

            @Override
            public List<PgBouncerServer.Pool> pools() {
                return pooler.pools();
            }

            @Override
            public List<PgBouncerServer.Stats> stats() {
                return pooler.stats();
            }
        });
    }

    /** The PostgreSQL cluster itself (nodes, ports, binaries), for commands and tests on this machine. */
    public Optional<PgCluster> cluster() {
        return Optional.of(cluster);
    }

    @Override
    public Optional<ClusterControl> clusterControl() {
        return Optional.of(new ClusterControl() {
            @Override
            public String primary() {
                return cluster.primary().name();
            }

            @Override
            public List<String> replicas() {
                return cluster.replicas().stream().map(PgNode::name).toList();
            }

            @Override
            public void kill(String node) {
                cluster.node(node).kill();
            }

            @Override
            public void promote(String replica) {
                cluster.promote(cluster.node(replica));
                if (pooler != null) { // the pooler's writers follow the primary only when pointed at it
                    pooler.repoint(DATABASE, parse(listenOf(replica)));
                }
            }

            @Override
            public void rejoin(String node) {
                cluster.rejoin(cluster.node(node));
            }
        });
    }

    @Override
    public String writerJdbcUrl() {
        return cluster.writerJdbcUrl(DATABASE);
    }

    @Override
    public String dbUser() {
        return "postgres";
    }

    @Override
    public String dbPassword() {
        return "";
    }

    @Override
    public Optional<Lag> replicationLag() {
        List<PgNode> replicas = cluster.replicas();
        if (replicas.isEmpty() || !replicas.get(0).isRunning()) {
            return Optional.empty();
        }
        try {
            return Optional.of(cluster.lag(replicas.get(0)));
        } catch (RuntimeException e) {
            return Optional.empty(); // A node is down (mid-failover): no reading this second.
        }
    }

    /** Every node of the cluster, whatever its state, on its own port (not through its proxy). */
    @Override
    public List<DiagnosticTarget> diagnosticTargets() {
        PgNode primary = cluster.primary();
        List<PgNode> replicas = cluster.replicas();
        return cluster.nodes().stream().map(n -> new DiagnosticTarget(n.name(),
                n == primary ? "primary" : replicas.contains(n) ? "replica" : "stopped",
                "jdbc:postgresql://127.0.0.1:" + n.port() + "/" + DATABASE + "?sslmode=disable",
                dbUser(), dbPassword())).toList();
    }

    @Override
    public Optional<CacheTier> cache() {
        if (redis == null) {
            return Optional.empty();
        }
        return Optional.of(new CacheTier() {
            @Override
            public String directUrl() {
                return redis.url();
            }

            @Override
            public boolean restartable() {
                return true;
            }

            @Override
            public void restartCold() {
                redis.restart();
            }
        });
    }

    @Override
    public Optional<Fleet> fleet() {
        if (balancer == null) {
            return Optional.empty();
        }
        return Optional.of(new Fleet() {
            @Override
            public int instances() {
                return apps.size();
            }

            @Override
            public void scaleOut(int more) {
                // Not under the topology's own lock: a run stopped meanwhile (Ctrl-C) must not wait for the starts.
                synchronized (apps) {
                    for (int i = 0; i < more; i++) {
                        if (closed) {
                            throw new TopologyException("the topology is stopping: no instance is added");
                        }
                        startInstance();
                    }
                }
            }
        });
    }

    @Override
    public boolean allows(String faultName) {
        return true;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        // A fleet's instances stop side by side (each waits for its JVM to exit), not one after the other.
        List<Thread> stopping = apps.stream().map(app -> new Thread(app::close, "stop-" + app)).toList();
        stopping.forEach(Thread::start);
        for (Thread thread : stopping) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break; // the process registry stops whatever is left at exit
            }
        }
        if (balancer != null) {
            balancer.close();
        }
        if (pooler != null) {
            pooler.close();
            keepLog(pooler.logFile(), "pgbouncer.log");
            deleteTree(poolerDir);
        }
        if (redis != null) {
            redis.close();
            keepLog(redis.logFile(), "redis.log");
            deleteTree(redisDir);
        }
        if (cluster != null) {
            copyServerLogs();
            cluster.close();
        }
        if (embeddedProxy != null) {
            embeddedProxy.close();
        }
    }

    private void keepLog(Path log, String name) {
        try {
            if (Files.exists(log)) {
                Files.createDirectories(runDir);
                Files.copy(log, runDir.resolve(name), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            LocalTopology.log.debug("Cannot keep {}: {}", log, e.toString());
        }
    }

    private static void deleteTree(Path dir) {
        try (java.util.stream.Stream<Path> tree = Files.walk(dir)) {
            tree.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            log.debug("Cannot delete {}: {}", dir, e.toString());
        }
    }

    private void copyServerLogs() {
        for (PgNode node : cluster.nodes()) {
            try {
                if (Files.exists(node.logFile())) {
                    Files.createDirectories(runDir);
                    Files.copy(node.logFile(), runDir.resolve("postgres-" + node.name() + ".log"),
                            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            } catch (IOException e) {
                log.debug("Cannot keep the log of {}: {}", node.name(), e.toString());
            }
        }
    }
}
