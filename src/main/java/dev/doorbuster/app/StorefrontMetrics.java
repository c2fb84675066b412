package dev.doorbuster.app;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * The storefront's meters, served as Prometheus text on {@code /metrics}. Names follow Micrometer's
 * conventions ({@code storefront.read.routing} is exposed as {@code storefront_read_routing_total}); the
 * HikariCP meters ({@code hikaricp_connections_*{pool="writer|reader"}}, or {@code reader-1} … {@code reader-N}
 * with several reader URLs) are registered by the pools, and {@link Database} registers each pool's error
 * counters at 0.
 */
final class StorefrontMetrics implements AutoCloseable {
    /**
     * Latency buckets of {@code http_server_requests_seconds_bucket}: few, fixed, and around the budgets a
     * Black-Friday SLO talks about, so the series stay cheap to scrape and percentiles can be estimated.
     */
    private static final Duration[] LATENCY_BUCKETS = {Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
            Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
            Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10)};

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics gcMetrics = new JvmGcMetrics();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Counter requestTimeouts;

    StorefrontMetrics() {
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry); // process_cpu_usage: is the app, or the load generator, the bottleneck?
        gcMetrics.bindTo(registry);
        Gauge.builder("storefront.http.in_flight", inFlight, AtomicInteger::get)
                .description("Requests received and not yet answered").register(registry);
        requestTimeouts = Counter.builder("storefront.request.timeout")
                .description("Requests answered 503 timeout: the request bound passed (queued, or running too long)")
                .register(registry);
    }

    /**
     * {@code storefront_db_prepared_statements{mode="server|unnamed"} 1}: how the driver prepares statements, so that
     * whoever puts a pooler in front can see whether this storefront is ready for transaction mode.
     */
    void preparedStatements(StorefrontConfig.PreparedStatements mode) {
        Gauge.builder("storefront.db.prepared_statements", () -> 1)
                .description("How the driver prepares statements: server (named after five runs on a connection) or "
                        + "unnamed (prepareThreshold=0, what a pooler in transaction mode needs)")
                .tag("mode", mode.flag()).register(registry);
    }

    Counter requestTimeouts() {
        return requestTimeouts;
    }

    PrometheusMeterRegistry registry() {
        return registry;
    }

    AtomicInteger inFlight() {
        return inFlight;
    }

    void recordRequest(String route, String method, int status, long nanos) {
        Timer.builder("http.server.requests").description("HTTP requests by route template, method and status")
                .tag("route", route).tag("method", method).tag("status", Integer.toString(status))
                .serviceLevelObjectives(LATENCY_BUCKETS)
                .register(registry).record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    Counter readRouting(StorefrontConfig.Routing policy, String decision) {
        return Counter.builder("storefront.read.routing").description("Where reads went, by policy and decision")
                .tag("policy", policy.flag()).tag("decision", decision).register(registry);
    }

    Counter poolExhausted(Database.Pool pool) {
        return Counter.builder("storefront.pool.exhausted")
                .description("Requests answered 503 because the pool had no free connection within its timeout")
                .tag("pool", pool.tag()).register(registry);
    }

    /** See {@link DatabaseErrorMeters#ERRORS}. */
    Counter databaseErrors(Database.Pool pool, String sqlState) {
        return Counter.builder(DatabaseErrorMeters.ERRORS)
                .description("Database errors turned into an answer, by pool and SQLSTATE (none: the pool's timeout)")
                .tag(DatabaseErrorMeters.POOL, pool.tag())
                .tag(DatabaseErrorMeters.SQLSTATE, DatabaseErrorMeters.tag(sqlState)).register(registry);
    }

    /** See {@link DatabaseErrorMeters#CONNECTION_FAILURES}. */
    Counter connectionFailures(Database.Pool pool, String sqlState, boolean refused) {
        return Counter.builder(DatabaseErrorMeters.CONNECTION_FAILURES)
                .description("Connection attempts of a pool that failed, by pool, SQLSTATE and whether the database "
                        + "or its pooler refused them for want of room (too many clients)")
                .tag(DatabaseErrorMeters.POOL, pool.tag())
                .tag(DatabaseErrorMeters.SQLSTATE, DatabaseErrorMeters.tag(sqlState))
                .tag(DatabaseErrorMeters.REFUSED, Boolean.toString(refused)).register(registry);
    }

    Counter databaseUnavailable(Database.Pool pool) {
        return Counter.builder("storefront.db.unavailable")
                .description("Requests answered 503 because the database behind the pool could not be reached")
                .tag("pool", pool.tag()).register(registry);
    }

    /** See {@link CacheMeters#DATABASE_READS}; registered for every kind at start, cache or not. */
    Counter databaseReads(CacheMeters.Kind kind) {
        return Counter.builder(CacheMeters.DATABASE_READS)
                .description("Database reads of the cacheable endpoints (cache refills included), by kind of read")
                .tag(CacheMeters.KIND, kind.tag()).register(registry);
    }

    Counter cacheLookups(CacheMeters.Kind kind, CacheMeters.Lookup outcome) {
        return Counter.builder(CacheMeters.LOOKUPS).description("Cache lookups of reads, by kind of read and outcome")
                .tag(CacheMeters.KIND, kind.tag()).tag(CacheMeters.OUTCOME, outcome.tag()).register(registry);
    }

    Counter cacheFills(CacheMeters.Kind kind, CacheMeters.Fill outcome) {
        return Counter.builder(CacheMeters.FILLS).description("Database answers written into the cache after a miss")
                .tag(CacheMeters.KIND, kind.tag()).tag(CacheMeters.OUTCOME, outcome.tag()).register(registry);
    }

    Counter cacheInvalidations(CacheMeters.Invalidation outcome) {
        return Counter.builder(CacheMeters.INVALIDATIONS)
                .description("Cached keys a write deleted after its commit, by outcome (per key)")
                .tag(CacheMeters.OUTCOME, outcome.tag()).register(registry);
    }

    Counter singleFlightWaits(CacheMeters.Kind kind) {
        return Counter.builder(CacheMeters.SINGLE_FLIGHT_WAITS)
                .description("Cache misses answered by another request's database read of the same key")
                .tag(CacheMeters.KIND, kind.tag()).register(registry);
    }

    String scrape(java.util.Set<String> names) {
        return registry.scrape("text/plain; version=0.0.4; charset=utf-8", names);
    }

    String scrape() {
        return registry.scrape();
    }

    @Override
    public void close() {
        gcMetrics.close();
        registry.close();
    }
}
