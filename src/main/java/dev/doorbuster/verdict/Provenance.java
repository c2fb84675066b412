package dev.doorbuster.verdict;

import java.lang.management.ManagementFactory;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import dev.doorbuster.app.StorefrontSetting;
import dev.doorbuster.topology.DiagnosticTarget;
import dev.doorbuster.topology.Environment;
import dev.doorbuster.topology.SloBudget;

/**
 * What ran, so that a run's folder says it without the command line that started it: Doorbuster's, Java's and
 * Gatling's versions, the machine, PostgreSQL's version and the server settings that are not its defaults, the
 * effective environment (after {@code -D} overrides) and the simulation's parameters with the values they took
 * (defaults included). A baseline comparison names the settings that differ from its baseline's, so that a regression
 * gate does not blame the service for a changed setting.
 *
 * <p>Secrets never get here: the environment is recorded setting by setting from the definitions
 * ({@link StorefrontSetting}, {@link SloBudget}) and the fields listed below, never as the file, so a password, the
 * service's own environment variables and the write probe's headers are left out by construction.
 *
 * @param doorbuster  Doorbuster's version and the commit it was built from ({@code development build, commit …} when
 *                    run from a checkout's classes)
 * @param javaRuntime the Java runtime (vendor and version)
 * @param gatling     Gatling's version
 * @param machine     processors, memory and operating system of the machine that generated the load
 * @param postgres    the primary's {@code server_version}, or null when it could not be read
 * @param postgresSettings the primary's settings whose source is not PostgreSQL's default, by name
 * @param environment the effective environment's settings, by field path ({@code app.routing})
 * @param parameters  the simulation's parameters ({@code -Dload.minutes}...) with the value each took
 * @param baseline    the baseline run this one was compared with, or null
 * @param differencesFromBaseline what ran differently from that baseline ({@code app.routing: primary → replica}), as
 *                    far as its own provenance says
 * @param baselineUnrecorded true when that baseline recorded nothing of what ran (a run from before provenances were
 *                    recorded): nothing can be said to differ, nor to be the same
 */
public record Provenance(String doorbuster, String javaRuntime, String gatling, String machine, String postgres,
                         Map<String, String> postgresSettings, Map<String, String> environment,
                         Map<String, String> parameters, String baseline, List<String> differencesFromBaseline,
                         boolean baselineUnrecorded) {
    public static final String DEVELOPMENT_BUILD = "development build";

    public Provenance {
        postgresSettings = postgresSettings == null ? Map.of() : new TreeMap<>(postgresSettings);
        environment = environment == null ? Map.of() : new LinkedHashMap<>(environment);
        parameters = parameters == null ? Map.of() : new TreeMap<>(parameters);
        differencesFromBaseline = differencesFromBaseline == null ? List.of() : List.copyOf(differencesFromBaseline);
    }

    /** This, compared with the provenance of {@code baselineRun} (null when that run recorded none). */
    public Provenance comparedWith(String baselineRun, Provenance ofBaseline) {
        return new Provenance(doorbuster, javaRuntime, gatling, machine, postgres, postgresSettings, environment, parameters,
                baselineRun, differencesFrom(ofBaseline), ofBaseline == null);
    }

    /** The primary's version and non-default settings, as recorded by {@link #readDatabase}. */
    public record Database(String version, Map<String, String> settings) {
        public static final Database UNKNOWN = new Database(null, Map.of());
    }

    /**
     * @param doorbusterVersion the jar's version and commit, or the checkout's commit; null when neither is known
     * @param gatlingVersion    Gatling's version, or null when unknown
     */
    public static Provenance of(String doorbusterVersion, String gatlingVersion, Environment environment,
                                Database database, Map<String, String> parameters) {
        return new Provenance(doorbusterVersion == null ? DEVELOPMENT_BUILD : doorbusterVersion,
                System.getProperty("java.vendor") + " " + System.getProperty("java.runtime.version"),
                gatlingVersion == null ? "unknown" : gatlingVersion, thisMachine(), database.version(), database.settings(),
                settings(environment), parameters, null, List.of(), false);
    }

    /** Processors, memory and operating system of this machine. */
    static String thisMachine() {
        long memoryMb = -1;
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            memoryMb = os.getTotalMemorySize() / (1024 * 1024);
        }
        return Runtime.getRuntime().availableProcessors() + " processors, "
                + (memoryMb < 0 ? "memory unknown" : memoryMb + " MB of memory") + ", " + System.getProperty("os.name")
                + " " + System.getProperty("os.version") + " (" + System.getProperty("os.arch") + ")";
    }

    /**
     * The environment's settings that decide what a run does, by field path: its type, the cluster and its pooler,
     * the service's instances and settings (every {@link StorefrontSetting} an environment may set), its image, and every budget.
     */
    static Map<String, String> settings(Environment environment) {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("name", environment.name());
        settings.put("type", environment.type().name().toLowerCase(java.util.Locale.ROOT));
        settings.put("postgres.replicas", String.valueOf(environment.postgres().replicas()));
        settings.put("postgres.synchronousCommit", environment.postgres().synchronousCommit());
        new TreeMap<>(environment.postgres().settings() == null ? Map.<String, String>of()
                : environment.postgres().settings()).forEach((k, v) -> settings.put("postgres.settings." + k, v));
        settings.put("postgres.pooler", environment.postgres().pooler());
        if (environment.postgres().pooled()) { // PgBouncer's settings matter only where it runs
            Environment.PgBouncer pgbouncer = environment.postgres().pgbouncer();
            settings.put("postgres.pgbouncer.poolMode", pgbouncer.poolMode().iniValue());
            settings.put("postgres.pgbouncer.maxClientConn", String.valueOf(pgbouncer.maxClientConn()));
            settings.put("postgres.pgbouncer.defaultPoolSize", String.valueOf(pgbouncer.defaultPoolSize()));
            settings.put("postgres.pgbouncer.serverLoginRetrySeconds", String.valueOf(pgbouncer.serverLoginRetrySeconds()));
        }
        environment.app().storefrontSettings().forEach((setting, value) -> {
            if (setting.field() != null) {
                settings.put("app." + setting.field(), String.valueOf(value));
            }
        });
        settings.put("app.cache", String.valueOf(environment.app().cache()));
        settings.put("app.instances", String.valueOf(environment.app().instances()));
        if (environment.app().image() != null) {
            settings.put("app.image", environment.app().image());
        }
        for (SloBudget budget : SloBudget.values()) {
            Object value = environment.slo().get(budget);
            if (value != null) {
                settings.put(budget.path(), String.valueOf(value));
            }
        }
        return settings;
    }

    /**
     * The version and non-default settings of the first primary among {@code targets}, read directly (not through the
     * chaos proxy); {@link Database#UNKNOWN} when none answers, which a provenance may be without.
     */
    public static Database readDatabase(List<DiagnosticTarget> targets) {
        for (DiagnosticTarget target : targets) {
            if (!"primary".equals(target.role()) && !"writer".equals(target.name())) {
                continue;
            }
            java.util.Properties login = new java.util.Properties();
            login.setProperty("user", target.user());
            if (target.password() != null && !target.password().isEmpty()) {
                login.setProperty("password", target.password());
            }
            login.setProperty("connectTimeout", "2");
            login.setProperty("socketTimeout", "5");
            try (Connection c = DriverManager.getConnection(target.jdbcUrl(), login); Statement s = c.createStatement()) {
                String version;
                try (ResultSet rs = s.executeQuery("SHOW server_version")) {
                    version = rs.next() ? rs.getString(1) : null;
                }
                Map<String, String> settings = new TreeMap<>();
                // 'override' is what initdb or the server computed for this machine; 'client' and 'session' are this
                // connection's own: neither is a choice of the environment.
                try (ResultSet rs = s.executeQuery("SELECT name, setting || coalesce(unit, '') FROM pg_settings "
                        + "WHERE source NOT IN ('default', 'override', 'client', 'session')")) {
                    while (rs.next()) {
                        settings.put(rs.getString(1), rs.getString(2));
                    }
                }
                return new Database(version, settings);
            } catch (SQLException e) {
                return Database.UNKNOWN;
            }
        }
        return Database.UNKNOWN;
    }

    /**
     * The settings that differ between {@code baseline} and this, as {@code field: baseline → this} (environment,
     * parameters, PostgreSQL's settings and versions); empty when the baseline recorded no provenance.
     */
    public List<String> differencesFrom(Provenance baseline) {
        if (baseline == null) {
            return List.of();
        }
        List<String> differences = new java.util.ArrayList<>();
        compare("", baseline.environment, environment, differences);
        compare("-D", baseline.parameters, parameters, differences);
        compare("postgres setting ", baseline.postgresSettings, postgresSettings, differences);
        compareOne("PostgreSQL", baseline.postgres, postgres, differences);
        compareOne("Doorbuster", baseline.doorbuster, doorbuster, differences);
        compareOne("Java", baseline.javaRuntime, javaRuntime, differences);
        compareOne("machine", baseline.machine, machine, differences);
        return differences;
    }

    private static void compare(String prefix, Map<String, String> before, Map<String, String> now, List<String> out) {
        java.util.Set<String> keys = new java.util.TreeSet<>(before.keySet());
        keys.addAll(now.keySet());
        for (String key : keys) {
            compareOne(prefix + key, before.get(key), now.get(key), out);
        }
    }

    private static void compareOne(String what, String before, String now, List<String> out) {
        if (!java.util.Objects.equals(before, now)) {
            out.add(what + ": " + (before == null ? "(unset)" : before) + " → " + (now == null ? "(unset)" : now));
        }
    }
}
