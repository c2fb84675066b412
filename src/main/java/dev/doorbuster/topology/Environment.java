package dev.doorbuster.topology;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.net.URI;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.databind.JsonNode;
import dev.doorbuster.app.StorefrontSetting;

/**
 * What a run targets, read from {@code environments/<name>.json} by {@link EnvironmentLoader}: how to
 * get a database, a chaos proxy and the application under test, and the SLO budgets the verdict uses.
 *
 * @param name        the file's base name ({@code local}, {@code staging}, ...)
 * @param source      the file it came from (for error messages and reports)
 * @param type        {@code local} (everything on this machine), {@code docker} (containers) or {@code external}
 *                    (already running elsewhere)
 * @param description free text shown in reports
 */
public record Environment(String name, Path source, Type type, String description, Postgres postgres, Proxy proxy,
                          App app, Docker docker, Database database, Cache cache, List<String> allowFaults,
                          Slo slo) {

    public enum Type {
        LOCAL, DOCKER, EXTERNAL
    }

    /**
     * The PostgreSQL cluster (local: processes; docker: containers).
     *
     * @param replicas          streaming replicas (0-8)
     * @param synchronousCommit {@code off}, {@code on} or {@code remote_apply}
     * @param binaries          local only: folder of system PostgreSQL binaries, or null for the bundled ones
     * @param settings          extra server settings for every node
     * @param keepData          local only: keep the servers' data folders after the run (stopped, under
     *                          {@code <doorbuster.home>/kept/<run>}), to look at the rows a run left with SQL
     * @param pooler            {@link #NO_POOLER} (default: the service's pools connect to the nodes' proxies) or
     *                          {@link #PGBOUNCER}: local and docker, one PgBouncer between the service and the nodes
     *                          (docker: a container of {@code docker.pgbouncerImage}), set by {@code pgbouncer}
     * @param pgbouncer         the PgBouncer of {@code pooler=pgbouncer}
     */
    public record Postgres(int replicas, String synchronousCommit, String binaries, Map<String, String> settings,
                           boolean keepData, String pooler, PgBouncer pgbouncer) {
        /** {@code pooler}'s values. */
        public static final String NO_POOLER = "none";
        public static final String PGBOUNCER = "pgbouncer";
        public static final java.util.Set<String> POOLERS = java.util.Set.of(NO_POOLER, PGBOUNCER);

        /** True when the service reaches PostgreSQL through a pooler. */
        public boolean pooled() {
            return PGBOUNCER.equals(pooler);
        }
    }

    /**
     * PgBouncer's settings (with {@code postgres.pooler=pgbouncer}), as its own pgbouncer.ini names them.
     *
     * @param poolMode        {@code session} (a server connection per client connection, as without a pooler) or
     *                        {@code transaction} (given back after each transaction; the storefront then names no
     *                        statement on the server, see {@code app.preparedStatements})
     * @param maxClientConn   client connections it accepts at most (1-100000); more are refused
     * @param defaultPoolSize server connections per database alias at most (1-10000); more clients wait
     * @param serverLoginRetrySeconds {@code server_login_retry}: after a node refused or dropped a new server
     *                        connection, how long PgBouncer waits before it tries again (0-3600, PgBouncer's default
     *                        15); its clients wait meanwhile, so a failover behind it waits up to that long
     */
    public record PgBouncer(dev.doorbuster.pooler.PoolMode poolMode, int maxClientConn, int defaultPoolSize,
                            int serverLoginRetrySeconds) {
        public static final int MAX_CLIENT_CONN = 100_000;
        public static final int MAX_POOL_SIZE = 10_000;
    }

    /**
     * The containers of a {@code docker} environment.
     *
     * @param postgresImage       image of every PostgreSQL node; it must keep the official {@code postgres} image's
     *                            contract ({@code POSTGRES_USER}/{@code _PASSWORD}/{@code _DB}, {@code PGDATA},
     *                            {@code postgres -c name=value}, {@code /docker-entrypoint-initdb.d}, {@code pg_basebackup})
     * @param proxyImage          {@link #DOORBUSTER_PROXY} for Doorbuster's own proxy (layered on {@code javaImage}
     *                            from this project's classes), or a Toxiproxy image (one with the {@code reset_peer} toxic)
     * @param javaImage           Java 17+ runtime image that Doorbuster's own images are layered on
     * @param redisImage          with {@code app.cache}: image of the Redis server, run as
     *                            {@code redis-server --port 6379 --bind 0.0.0.0 --protected-mode no --save "" --appendonly no}
     *                            (the official {@code redis} image takes that command, as does {@code docker/images/build}'s)
     * @param pgbouncerImage      with {@code postgres.pooler=pgbouncer}: image of the pooler, whose {@code pgbouncer} (1.8
     *                            or newer) is on its {@code PATH} and runs as its (unprivileged) user, which may write
     *                            {@code /etc/pgbouncer}: {@code docker/images/build} makes one from Debian's package
     * @param pull                pull an image that is not on this machine; false (default): refuse, saying how to get it
     * @param startTimeoutSeconds how long each container may take to become ready
     */
    public record Docker(String postgresImage, String proxyImage, String javaImage, String redisImage,
                         String pgbouncerImage, boolean pull, int startTimeoutSeconds) {
        /** {@code proxyImage} value naming Doorbuster's own proxy. */
        public static final String DOORBUSTER_PROXY = "doorbuster";

        public boolean doorbusterProxy() {
            return DOORBUSTER_PROXY.equals(proxyImage);
        }
    }

    /**
     * The Toxiproxy-compatible chaos proxy.
     *
     * @param url     null for the embedded proxy, else the API URL of a running Toxiproxy (or Doorbuster proxy)
     * @param proxies external environments: proxy names in that server by link ({@code primary},
     *                {@code replica}, {@code replication}, and {@code cache} for the application's link to its Redis);
     *                unused by local ones (proxies are named by node)
     */
    public record Proxy(URI url, Map<String, String> proxies) {
    }

    /**
     * The application under test. Local and docker without {@code image}: the reference storefront, started in
     * its own JVM with these settings. Docker with {@code image}: the user's service in a container. External:
     * only {@code url} (and optionally {@code metricsUrl}) are used, and {@code requestTimeoutMs} as the
     * application's request bound.
     *
     * <p>{@code routing} to {@code preparedStatements} are the storefront's settings: one component per
     * {@link StorefrontSetting} with a {@link StorefrontSetting#field() field}, named by it; its type, range,
     * default and meaning are defined there (see {@link #storefrontSettings()}).
     *
     * @param metricsUrl   Prometheus metrics: absolute (external), or a path of the app ({@code /metrics}) for an image
     * @param image        docker: the user's service image, or null for the reference storefront
     * @param port         docker with an image: the port the service listens on inside its container
     * @param healthPath   docker with an image: answers 2xx once the service is ready
     * @param environment  docker with an image: the container's environment variables; values may hold
     *                     {@link AppPlaceholder} placeholders such as {@code ${writerJdbcUrl}}
     * @param cache        the cache-aside tier: local and docker runs start a Redis server (a process; a container of
     *                     {@code docker.redisImage}) and give the application its address through the chaos proxy
     *                     {@link CacheTier#PROXY}; external ones name their own ({@link Cache}, {@code proxy.proxies.cache})
     * @param pools        which of the service's HikariCP pools (by the {@code pool} label of its meters at
     *                     {@code metricsUrl}) is the writer and which a reader: {@link PoolRoles}, its one definition
     * @param writeProbe   a service of your own (docker with {@code image}, external): the write a failover's probe
     *                     sends, or null when not set: {@link WriteProbeRequest}, its one definition; read it through
     *                     {@link Environment#writeProbe()}, which knows the storefront's
     * @param instances    local: how many storefront JVMs serve the load, each with its own pools (an autoscaled
     *                     fleet, whose pools together may exceed what the database takes), behind one balancer that
     *                     gives each new connection to the next instance
     */
    public record App(URI url, URI metricsUrl, String routing, String stockLocking, int writerPoolSize, int readerPoolSize,
                      int poolTimeoutMs, int rywWaitMs, int stickyMs, int requestTimeoutMs, int httpThreads,
                      int seedProducts, int seedUsers, int cacheTtlMs, String cacheInvalidation, String cacheRefill,
                      int cacheTimeoutMs, String cacheOnError, String cacheStampede, String preparedStatements,
                      List<String> jvmOptions,
                      String image, int port, String healthPath, Map<String, String> environment, boolean cache,
                      PoolRoles pools, WriteProbeRequest writeProbe, int instances) {
        /** Most storefront JVMs a local fleet starts ({@code app.instances}). */
        public static final int MAX_INSTANCES = 16;

        public App {
            pools = pools == null ? PoolRoles.byDefault() : pools;
        }

        /**
         * Every storefront setting an environment can set, with its value here (Integer or String), in the
         * definition's order: what the harness validates and starts the storefront with.
         */
        public Map<StorefrontSetting, Object> storefrontSettings() {
            Map<StorefrontSetting, Object> values = new EnumMap<>(StorefrontSetting.class);
            for (StorefrontSetting setting : StorefrontSetting.environmentSettings()) {
                RecordComponent component = Arrays.stream(App.class.getRecordComponents())
                        .filter(c -> c.getName().equals(setting.field())).findFirst()
                        .orElseThrow(() -> new IllegalStateException("Environment.App has no component '"
                                + setting.field() + "' for storefront setting " + setting.option()));
                try {
                    values.put(setting, component.getAccessor().invoke(this));
                } catch (IllegalAccessException | InvocationTargetException e) {
                    throw new IllegalStateException(e);
                }
            }
            return values;
        }
    }

    /**
     * External environments' cache tier (with {@code app.cache}): the Redis the service uses, reached directly by the
     * harness for its statistics (the cache checks' oracle) and for the faults made of Redis commands.
     *
     * @param url {@code redis://host:port}, or null
     */
    public record Cache(URI url) {
    }

    /** External environments: how the harness reaches the database for probes and the lost-write audit. */
    public record Database(String writerUrl, String replicaUrl, String user, String password) {
    }

    /**
     * The service-level budgets a run is judged by; a run fails when one is exceeded. Each value, its environment
     * field ({@code slo.<field>}, overridable with {@code -Dslo.<field>=value}), default, range and meaning are
     * defined by {@link SloBudget}; the accessors read them through it.
     */
    public static final class Slo {
        private final Map<SloBudget, Object> values;

        private Slo(Map<SloBudget, Object> values) {
            Map<SloBudget, Object> checked = new EnumMap<>(SloBudget.class);
            for (SloBudget budget : SloBudget.values()) {
                if (!values.containsKey(budget)) {
                    throw new IllegalArgumentException(budget.path() + " has no value");
                }
                checked.put(budget, budget.check(values.get(budget)));
            }
            this.values = Collections.unmodifiableMap(checked);
        }

        /** Every budget at its default. */
        public static Slo defaults() {
            return new Slo(SloBudget.defaults());
        }

        /**
         * Reads an environment's {@code slo} object (null: left out); {@link EnvironmentLoader} has already refused
         * a wrong one naming the file, so a refusal here is a bug.
         */
        @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
        static Slo fromJson(JsonNode slo) {
            return new Slo(SloBudget.read(slo, new SloBudget.Refusal() {
                @Override
                public RuntimeException wrong(String field, String problem) {
                    return new IllegalArgumentException("field '" + field + "' " + problem);
                }

                @Override
                public RuntimeException unknown(String field, String parent, java.util.Set<String> allowed) {
                    return new IllegalArgumentException("unknown field '" + field + "'");
                }
            }));
        }

        /**
         * This with {@code budget} set to {@code value}: a whole number, a number (null: unset, for an
         * optional budget), or a map of request name to Integer.
         *
         * @throws IllegalArgumentException if the budget does not accept the value
         */
        public Slo with(SloBudget budget, Object value) {
            Object typed = value;
            if (budget.kind() == SloBudget.Kind.WHOLE && (value instanceof Integer || value instanceof Long)) {
                typed = ((Number) value).longValue();
            } else if (budget.kind() == SloBudget.Kind.DECIMAL && value instanceof Number n) {
                typed = n.doubleValue();
            }
            Map<SloBudget, Object> changed = new EnumMap<>(values);
            changed.put(budget, typed);
            return new Slo(changed);
        }

        /** A budget's value as {@link SloBudget#defaultValue()} types it. */
        public Object get(SloBudget budget) {
            return values.get(budget);
        }

        private long whole(SloBudget budget) {
            return (Long) values.get(budget);
        }

        private double decimal(SloBudget budget) {
            return (Double) values.get(budget);
        }

        public int p99Ms() {
            return (int) whole(SloBudget.P99_MS);
        }

        @SuppressWarnings("unchecked")
        public Map<String, Integer> p99MsPerRequest() {
            return (Map<String, Integer>) values.get(SloBudget.P99_MS_PER_REQUEST);
        }

        public int p99MsDuringFaults() {
            return (int) whole(SloBudget.P99_MS_DURING_FAULTS);
        }

        public double errorRatePercent() {
            return decimal(SloBudget.ERROR_RATE_PERCENT);
        }

        public long readYourWritesImmediate() {
            return whole(SloBudget.READ_YOUR_WRITES_IMMEDIATE);
        }

        public long readYourWritesLater() {
            return whole(SloBudget.READ_YOUR_WRITES_LATER);
        }

        public long monotonicReads() {
            return whole(SloBudget.MONOTONIC_READS);
        }

        public long poolExhaustion() {
            return whole(SloBudget.POOL_EXHAUSTION);
        }

        public long poolerWaitMs() {
            return whole(SloBudget.POOLER_WAIT_MS);
        }

        public long connectionRefusals() {
            return whole(SloBudget.CONNECTION_REFUSALS);
        }

        public long failoverRtoMs() {
            return whole(SloBudget.FAILOVER_RTO_MS);
        }

        public long lostWrites() {
            return whole(SloBudget.LOST_WRITES);
        }

        public long ghostWrites() {
            return whole(SloBudget.GHOST_WRITES);
        }

        public double originFetchesPerExpiry() {
            return decimal(SloBudget.ORIGIN_FETCHES_PER_EXPIRY);
        }

        public int timeToWarmSeconds() {
            return (int) whole(SloBudget.TIME_TO_WARM_SECONDS);
        }

        /** The cache staleness budget in ms, or null: the run's worst replication lag + {@link #cacheStalenessGraceMs()}. */
        public Double cacheStalenessMs() {
            return (Double) values.get(SloBudget.CACHE_STALENESS_MS);
        }

        public long cacheStalenessGraceMs() {
            return whole(SloBudget.CACHE_STALENESS_GRACE_MS);
        }

        public double soakP99DriftRatio() {
            return decimal(SloBudget.SOAK_P99_DRIFT_RATIO);
        }

        public double soakPoolActiveGrowth() {
            return decimal(SloBudget.SOAK_POOL_ACTIVE_GROWTH);
        }

        /** The regression budgets; each null when not checked. */
        public Regression regression() {
            return new Regression((Double) values.get(SloBudget.REGRESSION_P99_PERCENT),
                    (Double) values.get(SloBudget.REGRESSION_ERROR_RATE_POINTS),
                    (Double) values.get(SloBudget.REGRESSION_RTO_PERCENT),
                    (Double) values.get(SloBudget.REGRESSION_CAPACITY_PERCENT));
        }

        public double generatorStartedPercent() {
            return decimal(SloBudget.GENERATOR_STARTED_PERCENT);
        }

        public double generatorStartDelayPercentOfP99() {
            return decimal(SloBudget.GENERATOR_START_DELAY_PERCENT_OF_P99);
        }

        public long generatorGcPauseMs() {
            return whole(SloBudget.GENERATOR_GC_PAUSE_MS);
        }

        public int windowP99Ms() {
            return (int) whole(SloBudget.WINDOW_P99_MS);
        }

        public double windowErrorRatePercent() {
            return decimal(SloBudget.WINDOW_ERROR_RATE_PERCENT);
        }

        public double windowCompliancePercent() {
            return decimal(SloBudget.WINDOW_COMPLIANCE_PERCENT);
        }

        public double abortErrorRatePercent() {
            return decimal(SloBudget.ABORT_ERROR_RATE_PERCENT);
        }

        public int abortAfterSeconds() {
            return (int) whole(SloBudget.ABORT_AFTER_SECONDS);
        }

        /** How many checks the simulation asks for may go not judged before the run fails. */
        public long notJudged() {
            return whole(SloBudget.NOT_JUDGED);
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Slo slo && slo.values.equals(values);
        }

        @Override
        public int hashCode() {
            return values.hashCode();
        }

        @Override
        public String toString() {
            return values.entrySet().stream().map(e -> e.getKey().field() + "=" + e.getValue())
                    .collect(java.util.stream.Collectors.joining(", ", "Slo[", "]"));
        }
    }

    /**
     * Regression budgets against the simulation's baseline run (see {@code doorbuster baseline}); null = not
     * checked. Defined (fields, ranges, meanings) by {@link SloBudget#REGRESSION_P99_PERCENT},
     * {@link SloBudget#REGRESSION_ERROR_RATE_POINTS} and {@link SloBudget#REGRESSION_RTO_PERCENT}.
     */
    public record Regression(Double p99Percent, Double errorRatePoints, Double rtoPercent, Double capacityPercent) {
        /** Without a capacity budget. */
        public Regression(Double p99Percent, Double errorRatePoints, Double rtoPercent) {
            this(p99Percent, errorRatePoints, rtoPercent, null);
        }
    }

    public boolean isLocal() {
        return type == Type.LOCAL;
    }

    public boolean isDocker() {
        return type == Type.DOCKER;
    }

    /** Local and docker runs make their own database: its data is the harness's to set up and to judge. */
    public boolean ownsDatabase() {
        return type != Type.EXTERNAL;
    }

    /** The reference storefront started by the harness with {@link #app()}'s settings (pool sizes known). */
    public boolean runsStorefront() {
        return type == Type.LOCAL || (type == Type.DOCKER && app.image() == null);
    }

    /**
     * The write a failover's probe sends to measure the RTO: the storefront's ({@link WriteProbeRequest#STOREFRONT})
     * when this run starts it, else {@code app.writeProbe}; empty when a service of your own does not set it.
     */
    public Optional<WriteProbeRequest> writeProbe() {
        return runsStorefront() ? Optional.of(WriteProbeRequest.STOREFRONT) : Optional.ofNullable(app.writeProbe());
    }
}
