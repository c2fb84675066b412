package dev.doorbuster.topology;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.net.URI;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

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
                          App app, Docker docker, Database database, List<String> allowFaults, Slo slo) {

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
     */
    public record Postgres(int replicas, String synchronousCommit, String binaries, Map<String, String> settings) {
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
     * @param pull                pull an image that is not on this machine; false (default): refuse, saying how to get it
     * @param startTimeoutSeconds how long each container may take to become ready
     */
    public record Docker(String postgresImage, String proxyImage, String javaImage, boolean pull,
                         int startTimeoutSeconds) {
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
     *                {@code replica}, {@code replication}); unused by local ones (proxies are named by node)
     */
    public record Proxy(URI url, Map<String, String> proxies) {
    }

    /**
     * The application under test. Local and docker without {@code image}: the reference storefront, started in
     * its own JVM with these settings. Docker with {@code image}: the user's service in a container. External:
     * only {@code url} (and optionally {@code metricsUrl}) are used, and {@code requestTimeoutMs} as the
     * application's request bound.
     *
     * <p>{@code routing} to {@code seedUsers} are the storefront's settings: one component per
     * {@link StorefrontSetting} with a {@link StorefrontSetting#field() field}, named by it; its type, range,
     * default and meaning are defined there (see {@link #storefrontSettings()}).
     *
     * @param metricsUrl   Prometheus metrics: absolute (external), or a path of the app ({@code /metrics}) for an image
     * @param image        docker: the user's service image, or null for the reference storefront
     * @param port         docker with an image: the port the service listens on inside its container
     * @param healthPath   docker with an image: answers 2xx once the service is ready
     * @param environment  docker with an image: the container's environment variables; values may hold
     *                     {@link AppPlaceholder} placeholders such as {@code ${writerJdbcUrl}}
     */
    public record App(URI url, URI metricsUrl, String routing, String stockLocking, int writerPoolSize, int readerPoolSize,
                      int poolTimeoutMs, int rywWaitMs, int stickyMs, int requestTimeoutMs, int httpThreads,
                      int seedProducts, int seedUsers, List<String> jvmOptions, String image, int port,
                      String healthPath, Map<String, String> environment) {

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

    /** External environments: how the harness reaches the database for probes and the lost-write audit. */
    public record Database(String writerUrl, String replicaUrl, String user, String password) {
    }

    /**
     * Service-level budgets; a run fails when one is exceeded. Every field can be overridden with
     * {@code -Dslo.<field>=value}.
     *
     * @param p99Ms                 P99 of every request, over the run and in every load phase
     * @param p99MsPerRequest       per request name, overriding {@code p99Ms}
     * @param p99MsDuringFaults     P99 of every request while a fault is active
     * @param readYourWritesImmediate  reads right after a user's own write that missed it
     * @param readYourWritesLater      later reads of a key that no longer showed the user's own last write
     * @param monotonicReads           reads older than what the same user had already read
     * @param lostWrites               acknowledged writes absent after the faults healed
     * @param ghostWrites              writes answered with an error that were committed all the same
     * @param soakP99DriftRatio     soaks: P99 of the last window over the first may not exceed this
     * @param soakPoolActiveGrowth  soaks: mean active connections may grow by at most this many (leaks)
     * @param regression            how much worse than the simulation's baseline run a run may be
     * @param windowP99Ms           windowed check: a second passes when its P99 is at most this
     * @param windowErrorRatePercent   windowed check: a second passes when at most this share of its requests failed
     * @param windowCompliancePercent  windowed checks: at least this share of the seconds with requests must pass
     * @param abortErrorRatePercent abort rule: a second is bad when more than this share of its requests failed
     * @param abortAfterSeconds     abort rule: the load stops after this many bad seconds in a row (0: never)
     */
    public record Slo(int p99Ms, Map<String, Integer> p99MsPerRequest, int p99MsDuringFaults,
                      double errorRatePercent, long readYourWritesImmediate, long readYourWritesLater,
                      long monotonicReads, long poolExhaustion, long failoverRtoMs, long lostWrites, long ghostWrites,
                      double soakP99DriftRatio, double soakPoolActiveGrowth, Regression regression,
                      int windowP99Ms, double windowErrorRatePercent, double windowCompliancePercent,
                      double abortErrorRatePercent, int abortAfterSeconds) {
    }

    /**
     * Regression budgets against the simulation's baseline run (see {@code doorbuster baseline}); null = not
     * checked. Override with {@code -Dslo.regression.p99Percent=20}.
     *
     * @param p99Percent      P99 of the run may be at most this many percent above the baseline's
     * @param errorRatePoints the error rate may be at most this many percentage points above the baseline's
     * @param rtoPercent      each failover's RTO may be at most this many percent above the baseline's worst
     */
    public record Regression(Double p99Percent, Double errorRatePoints, Double rtoPercent) {
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
}
