package dev.doorbuster.verdict.probes;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

import dev.doorbuster.postgres.Lag;
import dev.doorbuster.app.CacheMeters;
import dev.doorbuster.app.DatabaseErrorMeters;
import dev.doorbuster.pooler.PgBouncerServer;
import dev.doorbuster.redis.RedisAdmin;
import dev.doorbuster.topology.CacheTier;
import dev.doorbuster.topology.Environment;
import dev.doorbuster.topology.PoolRoles;
import dev.doorbuster.topology.PoolerTier;
import dev.doorbuster.topology.Topology;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Samples, once a second, what the users cannot see but the verdict needs: the connection pools by role
 * (active, idle, pending, timeouts; which pool is the writer and which a reader is {@code app.pools},
 * {@link PoolRoles}) and the application's error kinds from its {@code /metrics}, and the replication lag from the
 * database. A sample that fails (app busy, node down mid-failover) leaves gaps (NaN / -1) rather than stopping the
 * probes; what the scrapes found over the run ({@link #coverage()}) says why a pool check has no figures. About 100
 * bytes a second: a 2-hour soak keeps ~1 MB.
 */
public final class Probes implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Probes.class);
    private static final Duration SCRAPE_TIMEOUT = Duration.ofMillis(800);
    /** The Prometheus family of the application's failed connection attempts. */
    static final String CONNECTION_FAILURES = family(DatabaseErrorMeters.CONNECTION_FAILURES);

    /**
     * Only these meter families are asked for ({@code name[]} filters, the Prometheus exporters' convention):
     * a full scrape reads every JVM meter, which costs the application CPU every second. An application that
     * ignores the filter returns everything, which works too.
     */
    static final List<String> METERS = List.of(Hikari.ACTIVE, Hikari.IDLE, Hikari.PENDING, Hikari.TIMEOUTS,
            "storefront_pool_exhausted_total",
            "storefront_db_unavailable_total", "storefront_request_timeout_total", family(CacheMeters.LOOKUPS),
            family(CacheMeters.DATABASE_READS), family(DatabaseErrorMeters.CONNECTION_FAILURES),
            family(DatabaseErrorMeters.ERRORS));
    private static final String FILTER = String.join("&", METERS.stream().map(m -> "name%5B%5D=" + m).toList());

    /** HikariCP's meter families, as its Micrometer binding names them in Prometheus format. */
    static final class Hikari {
        static final String ACTIVE = "hikaricp_connections_active";
        static final String IDLE = "hikaricp_connections_idle";
        static final String PENDING = "hikaricp_connections_pending";
        static final String TIMEOUTS = "hikaricp_connections_timeout_total";
        /** Every family above; their {@link #POOL} labels are the pools seen. */
        static final List<String> FAMILIES = List.of(ACTIVE, IDLE, PENDING, TIMEOUTS);
        /** The label naming the pool. */
        static final String POOL = "pool";

        private Hikari() {
        }
    }

    private final Topology topology;
    private final PoolRoles poolRoles;
    private final IntSupplier currentSecond;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(SCRAPE_TIMEOUT).build();
    private final List<ProbeSample> samples = new ArrayList<>();
    private final List<CacheSample> cacheSamples = new ArrayList<>();
    private final List<PoolerSample> poolerSamples = new ArrayList<>();
    private RedisAdmin redis;
    /** The last metrics read, and of how many instances (guarded by {@code samples}). */
    private PrometheusText lastReadable;
    private int lastInstances;
    private ScheduledExecutorService scheduler;
    private volatile boolean metricsWarned;
    private volatile boolean poolsWarned;
    private long scrapes;
    private long readable;
    private String lastProblem;
    private final Map<String, String> poolsSeen = new java.util.TreeMap<>();

    public Probes(Topology topology, IntSupplier currentSecond) {
        this.topology = topology;
        this.currentSecond = currentSecond;
        Environment environment = topology.environment();
        this.poolRoles = environment == null ? PoolRoles.byDefault() : environment.app().pools();
    }

    public void start() {
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "doorbuster-probes");
            t.setDaemon(true);
            return t;
        });
        scheduler.scheduleAtFixedRate(this::sampleQuietly, 0, 1, TimeUnit.SECONDS);
    }

    /** Takes one sample now (also used for the final reading after the load). */
    public ProbeSample sample() {
        PrometheusText metrics = scrape();
        if (metrics != null) {
            int instances = topology.appMetricsUrls().size();
            synchronized (samples) {
                lastReadable = metrics;
                lastInstances = instances;
            }
        }
        Lag lag = topology.replicationLag().orElse(null);
        Map<String, PoolRoles.Role> roles = roles(metrics);
        ProbeSample s = new ProbeSample(currentSecond.getAsInt(),
                pools(metrics, Hikari.ACTIVE, roles, PoolRoles.Role.WRITER),
                pools(metrics, Hikari.IDLE, roles, PoolRoles.Role.WRITER),
                pools(metrics, Hikari.PENDING, roles, PoolRoles.Role.WRITER),
                pools(metrics, Hikari.ACTIVE, roles, PoolRoles.Role.READER),
                pools(metrics, Hikari.IDLE, roles, PoolRoles.Role.READER),
                pools(metrics, Hikari.PENDING, roles, PoolRoles.Role.READER),
                pools(metrics, Hikari.TIMEOUTS, roles, null),
                metrics == null ? Double.NaN : metrics.sum("storefront_pool_exhausted_total"),
                metrics == null ? Double.NaN : metrics.sum("storefront_db_unavailable_total"),
                metrics == null ? Double.NaN : metrics.sum("storefront_request_timeout_total"),
                lag == null ? -1 : lag.bytes(), lag == null ? -1 : lag.time().toMillis(), connectionRefusals(metrics));
        CacheSample cache = cacheSample(s.second(), metrics);
        PoolerSample pooler = poolerSample(s.second());
        synchronized (samples) {
            samples.add(s);
            if (cache != null) {
                cacheSamples.add(cache);
            }
            if (pooler != null) {
                poolerSamples.add(pooler);
            }
        }
        return s;
    }

    /**
     * The pools' refused connection attempts over every instance ({@link DatabaseErrorMeters#isRefusal}); NaN when the
     * metrics could not be read or the application does not count its connection attempts.
     */
    private static double connectionRefusals(PrometheusText metrics) {
        if (metrics == null || Double.isNaN(metrics.sum(CONNECTION_FAILURES))) {
            return Double.NaN;
        }
        double refused = metrics.sum(CONNECTION_FAILURES, Map.of(DatabaseErrorMeters.REFUSED, "true"));
        return Double.isNaN(refused) ? 0 : refused;
    }

    /** The cache tier's counters this second; null when the run has no cache tier. */
    private CacheSample cacheSample(int second, PrometheusText metrics) {
        Optional<CacheTier> tier = topology.cache();
        if (tier.isEmpty()) {
            return null;
        }
        RedisAdmin.Stats stats = redisStats(tier.get());
        String lookups = family(CacheMeters.LOOKUPS);
        String reads = family(CacheMeters.DATABASE_READS);
        return new CacheSample(second,
                counter(metrics, lookups, Map.of(CacheMeters.OUTCOME, CacheMeters.Lookup.HIT.tag())),
                counter(metrics, lookups, Map.of(CacheMeters.OUTCOME, CacheMeters.Lookup.MISS.tag())),
                counter(metrics, lookups, Map.of(CacheMeters.OUTCOME, CacheMeters.Lookup.ERROR.tag())),
                counter(metrics, reads, Map.of()),
                counter(metrics, reads, Map.of(CacheMeters.KIND, CacheMeters.Kind.PRODUCT.tag())),
                stats == null ? Double.NaN : stats.keyspaceHits(), stats == null ? Double.NaN : stats.keyspaceMisses());
    }

    /** The pooler's own view this second ({@code SHOW POOLS}, {@code SHOW STATS}); null when the run has no pooler tier. */
    private PoolerSample poolerSample(int second) {
        Optional<PoolerTier> tier = topology.pooler();
        if (tier.isEmpty()) {
            return null;
        }
        List<PgBouncerServer.Pool> pools;
        try {
            pools = tier.get().pools();
        } catch (RuntimeException e) {
            return PoolerSample.unreadable(second); // restarting: the console refuses until it is back
        }
        double transactions = Double.NaN;
        double waitedMs = Double.NaN;
        try {
            List<PgBouncerServer.Stats> stats = tier.get().stats();
            transactions = stats.stream().mapToLong(PgBouncerServer.Stats::transactions).sum();
            waitedMs = stats.stream().mapToLong(PgBouncerServer.Stats::waitMicros).sum() / 1000.0;
        } catch (RuntimeException e) {
            // the pools were read: this second keeps them, its totals are a gap
        }
        return new PoolerSample(second, pools.stream().mapToInt(PgBouncerServer.Pool::clientsActive).sum(),
                pools.stream().mapToInt(PgBouncerServer.Pool::clientsWaiting).sum(),
                pools.stream().mapToInt(PgBouncerServer.Pool::servers).sum(),
                pools.stream().mapToLong(PgBouncerServer.Pool::maxWaitMicros).max().orElse(0) / 1000.0,
                transactions, waitedMs);
    }

    /**
     * A counter of the application's, NaN when its metrics could not be read; a series it does not list yet counts 0
     * (counters are created at their first event).
     */
    private static double counter(PrometheusText metrics, String family, Map<String, String> labels) {
        if (metrics == null) {
            return Double.NaN;
        }
        double value = metrics.sum(family, labels);
        return Double.isNaN(value) ? 0 : value;
    }

    /** Redis's own statistics, through the harness's direct connection (reopened after a failure). */
    private RedisAdmin.Stats redisStats(CacheTier tier) {
        try {
            if (redis == null) {
                redis = RedisAdmin.connect(tier.directUrl());
            }
            return redis.stats();
        } catch (RuntimeException e) {
            if (redis != null) {
                try {
                    redis.close();
                } catch (RuntimeException ignored) {
                    // already broken
                }
                redis = null;
            }
            return null;
        }
    }

    /** The Prometheus family of a counter meter ({@code storefront.db.reads} → {@code storefront_db_reads_total}). */
    private static String family(String meter) {
        return CacheMeters.series(meter);
    }

    /** The cache tier's samples, one a second (empty when the run has no cache and its application no such meters). */
    public List<CacheSample> cacheSamples() {
        synchronized (samples) {
            return List.copyOf(cacheSamples);
        }
    }

    /**
     * The service's database errors by SQLSTATE as of the last readable sample (after the load: the run's), every
     * instance added up; empty when its metrics were never read.
     */
    public Optional<DatabaseErrors> databaseErrors() {
        synchronized (samples) {
            return lastReadable == null ? Optional.empty() : Optional.of(DatabaseErrors.of(lastInstances, lastReadable));
        }
    }

    /** The pooler tier's samples, one a second (empty when the run has no pooler). */
    public List<PoolerSample> poolerSamples() {
        synchronized (samples) {
            return List.copyOf(poolerSamples);
        }
    }

    /** The latest sample, or null before the first. */
    public ProbeSample latest() {
        synchronized (samples) {
            return samples.isEmpty() ? null : samples.get(samples.size() - 1);
        }
    }

    public List<ProbeSample> samples() {
        synchronized (samples) {
            return List.copyOf(samples);
        }
    }

    @Override
    public void close() {
        if (redis != null) {
            redis.close();
            redis = null;
        }
        if (scheduler != null) {
            scheduler.shutdownNow();
            try {
                scheduler.awaitTermination(3, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void sampleQuietly() {
        try {
            sample();
        } catch (RuntimeException e) {
            log.debug("Probe sample failed: {}", e.toString());
        }
    }

    /**
     * The application's metrics now: every instance's, merged (their counters and gauges add up). One instance that
     * cannot be read makes the whole second unreadable: a sum missing an instance would look like counters going
     * back, or pools emptying.
     */
    private PrometheusText scrape() {
        List<URI> bases = topology.appMetricsUrls();
        if (bases.isEmpty()) {
            return null;
        }
        synchronized (poolsSeen) {
            scrapes++;
        }
        List<PrometheusText> read = new ArrayList<>(bases.size());
        for (URI base : bases) {
            PrometheusText one = scrape(base, bases.size() > 1);
            if (one == null) {
                return null;
            }
            read.add(one);
        }
        synchronized (poolsSeen) {
            readable++;
        }
        return read.size() == 1 ? read.get(0) : PrometheusText.merge(read);
    }

    private PrometheusText scrape(URI base, boolean oneOfSeveral) {
        URI url = URI.create(base + (base.getRawQuery() == null ? "?" : "&") + FILTER);
        String where = oneOfSeveral ? base + ": " : "";
        try {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(url).timeout(SCRAPE_TIMEOUT).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() == 200) {
                return PrometheusText.parse(response.body());
            }
            unreadable(where + "HTTP " + response.statusCode());
        } catch (IOException e) {
            unreadable(where + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return null;
    }

    private void unreadable(String why) {
        synchronized (poolsSeen) {
            lastProblem = why;
        }
        warnOnce(why);
    }

    /**
     * The role of every pool this scrape's HikariCP meters name, by {@code app.pools}; every pool seen is kept for
     * {@link #coverage()}, and the first scrape with pools but no role warns, naming the setting.
     */
    private Map<String, PoolRoles.Role> roles(PrometheusText metrics) {
        if (metrics == null) {
            return Map.of();
        }
        java.util.Set<String> seen = new java.util.TreeSet<>();
        for (String family : Hikari.FAMILIES) {
            seen.addAll(metrics.labelValues(family, Hikari.POOL));
        }
        Map<String, PoolRoles.Role> roles = poolRoles.roles(seen);
        synchronized (poolsSeen) {
            for (String pool : seen) {
                PoolRoles.Role role = roles.get(pool);
                poolsSeen.put(pool, role == null ? MetricsCoverage.NO_ROLE : role.text());
            }
        }
        if (!seen.isEmpty() && roles.isEmpty() && !poolsWarned) {
            poolsWarned = true;
            log.warn("No HikariCP pool of the application has a role: pools {} (set {}); the pool checks will not be "
                    + "judged", seen, PoolRoles.FIELD);
        }
        return roles;
    }

    /** What the scrapes found so far: for a pool check's reason when it has no figures. */
    public MetricsCoverage coverage() {
        URI url = topology.appMetricsUrl();
        synchronized (poolsSeen) {
            return new MetricsCoverage(url == null ? null : url.toString(), scrapes, readable, lastProblem,
                    Map.copyOf(poolsSeen));
        }
    }

    private void warnOnce(String why) {
        if (!metricsWarned) {
            metricsWarned = true;
            log.warn("Cannot read the application's metrics at {} ({}); pool probes will have gaps",
                    topology.appMetricsUrl(), why);
        }
    }

    /**
     * {@code meter} summed over the pools of {@code role} (null: every pool with a role), e.g. the reader figure over
     * {@code reader-1} … {@code reader-N} when reads are spread over several replicas; NaN when no such pool lists it.
     */
    private static double pools(PrometheusText metrics, String meter, Map<String, PoolRoles.Role> roles,
                                PoolRoles.Role role) {
        if (metrics == null) {
            return Double.NaN;
        }
        double total = 0;
        boolean found = false;
        for (Map.Entry<String, PoolRoles.Role> pool : roles.entrySet()) {
            if (role != null && pool.getValue() != role) {
                continue;
            }
            double value = metrics.sum(meter, Map.of(Hikari.POOL, pool.getKey()));
            if (!Double.isNaN(value)) {
                total += value;
                found = true;
            }
        }
        return found ? total : Double.NaN;
    }

    /** Increase of a cumulative counter over the samples (first valid to last valid reading). */
    public static double increase(List<ProbeSample> samples, java.util.function.ToDoubleFunction<ProbeSample> counter) {
        double first = Double.NaN;
        double last = Double.NaN;
        for (ProbeSample s : samples) {
            double v = counter.applyAsDouble(s);
            if (!Double.isNaN(v)) {
                if (Double.isNaN(first)) {
                    first = v;
                }
                last = v;
            }
        }
        return Double.isNaN(first) ? Double.NaN : Math.max(0, last - first);
    }
}
