package dev.doorbuster.topology;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.doorbuster.app.StorefrontSetting;

/**
 * Reads {@code environments/<name>.json}, fills in defaults, applies {@code -D} overrides
 * ({@code -Dslo.p99Ms=500}, {@code -Dapp.routing=replica}, {@code -Dpostgres.replicas=2}, ...) and
 * validates everything before anything starts. Every error names the file (or the -D property), the
 * field, what was found and what is allowed.
 */
public final class EnvironmentLoader {
    /** System property choosing the environment by name or path; default {@code local}. */
    public static final String PROPERTY = "doorbuster.env";
    /** Top-level sections that {@code -D<section>.<field>=value} may override. */
    static final Set<String> OVERRIDABLE = Set.of("postgres", "proxy", "app", "docker", "database", "cache", "slo");
    /** {@code app.routing}'s values, from {@link StorefrontSetting#ROUTING}. */
    public static final Set<String> ROUTING_POLICIES = new java.util.LinkedHashSet<>(StorefrontSetting.ROUTING.choices());
    /** {@code none} is a deliberately broken checkout (it oversells), only for controls. */
    public static final Set<String> STOCK_LOCKING = new java.util.LinkedHashSet<>(StorefrontSetting.STOCK_LOCKING.choices());
    public static final Set<String> SYNC_MODES = new java.util.LinkedHashSet<>(List.of("off", "on", "remote_apply"));

    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS)
            .enable(JsonParser.Feature.ALLOW_COMMENTS)
            .build();

    private final Path environmentsDir;
    private final Properties overrides;

    public EnvironmentLoader(Path environmentsDir, Properties overrides) {
        this.environmentsDir = environmentsDir;
        this.overrides = overrides;
    }

    /** The environment named by {@code -Ddoorbuster.env} (default local), from ./environments, with -D overrides. */
    public static Environment fromSystemProperties() {
        return new EnvironmentLoader(Path.of("environments"), System.getProperties())
                .load(System.getProperty(PROPERTY, "local"));
    }

    /**
     * As {@link #fromSystemProperties()}, for a simulation that needs the cache tier: {@code app.cache} is on unless
     * {@code -Dapp.cache} says otherwise (then the faults that need it are refused, naming the field).
     */
    public static Environment withCacheTier() {
        Properties overrides = new Properties();
        overrides.putAll(System.getProperties());
        overrides.putIfAbsent(CACHE_TIER, "true");
        return new EnvironmentLoader(Path.of("environments"), overrides).load(System.getProperty(PROPERTY, "local"));
    }

    /**
     * As {@link #fromSystemProperties()} (or {@link #withCacheTier()}), for a run that grows a fleet: a service started
     * as one instance is started as {@value #SMALLEST_FLEET} instead, unless {@code -Dapp.instances} says otherwise
     * (then the faults that need a fleet are refused, naming the field).
     */
    public static Environment withFleet(boolean cacheTier) {
        Environment environment = cacheTier ? withCacheTier() : fromSystemProperties();
        if (environment.app().instances() > 1 || System.getProperty(INSTANCES) != null) {
            return environment;
        }
        Properties overrides = new Properties();
        overrides.putAll(System.getProperties());
        if (cacheTier) {
            overrides.putIfAbsent(CACHE_TIER, "true");
        }
        overrides.setProperty(INSTANCES, Integer.toString(SMALLEST_FLEET));
        return new EnvironmentLoader(Path.of("environments"), overrides).load(System.getProperty(PROPERTY, "local"));
    }

    /** The environment field that says how many instances of the service run. */
    public static final String INSTANCES = "app.instances";
    /** What a run that grows a fleet starts with when the environment says one instance: one with a balancer. */
    public static final int SMALLEST_FLEET = 2;

    /** The environment field that turns the cache tier on. */
    public static final String CACHE_TIER = "app.cache";
    /** {@link PoolRoles#FIELD}'s name under {@code app}. */
    private static final String POOLS = PoolRoles.FIELD.substring("app.".length());
    /** {@link WriteProbeRequest#FIELD}'s name under {@code app}. */
    private static final String WRITE_PROBE = WriteProbeRequest.FIELD.substring("app.".length());

    /** Loads by name ({@code local} → {@code environments/local.json}) or by path to a .json file. */
    public Environment load(String nameOrPath) {
        Path file = resolve(nameOrPath);
        String shown = file.toString();
        JsonNode tree;
        try {
            tree = MAPPER.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw new EnvironmentException(shown + ": not valid JSON at line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr() + ": " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new EnvironmentException(shown + ": cannot be read (" + e + ")");
        }
        if (tree == null || !tree.isObject()) {
            throw new EnvironmentException(shown + ": expected a JSON object at the top, like {\"type\": \"local\", ...}");
        }
        ObjectNode merged = defaults();
        merge(merged, (ObjectNode) tree);
        Map<String, String> origins = applyOverrides(merged, shown);
        requireField(tree, "type", shown, "local, docker or external");
        String name = file.getFileName().toString().replaceFirst("\\.json$", "");
        merged.put("name", name);
        merged.put("source", file.toString());
        // The budgets first, by their definition: their messages say what each one accepts.
        SloBudget.read(merged.get(SloBudget.SECTION), new Checker(shown, origins));
        // As are the pools' roles: Jackson would take {"HikariPool-1": 1} as text.
        PoolRoles.read(merged.path("app").get(POOLS), new Checker(shown, origins));
        // And the write probe's: its body may be JSON text or an object, which Jackson alone would not tell apart.
        WriteProbeRequest.read(merged.path("app").get(WRITE_PROBE), new Checker(shown, origins));
        unnamedStatementsBehindATransactionPooler(merged, tree, origins);
        Environment environment;
        try {
            environment = MAPPER.treeToValue(merged, Environment.class);
        } catch (JsonProcessingException e) {
            throw new EnvironmentException(describe(e, shown, origins));
        }
        validate(environment, (ObjectNode) tree, shown, origins);
        return environment;
    }

    private Path resolve(String nameOrPath) {
        if (nameOrPath == null || nameOrPath.isBlank()) {
            throw new EnvironmentException("-D" + PROPERTY + " is empty: name an environment (e.g. local) or a .json file");
        }
        Path asPath = Path.of(nameOrPath);
        if (nameOrPath.endsWith(".json") || nameOrPath.contains("/")) {
            if (!Files.isRegularFile(asPath)) {
                throw new EnvironmentException("Environment file " + asPath.toAbsolutePath() + " does not exist.");
            }
            return asPath;
        }
        Path file = environmentsDir.resolve(nameOrPath + ".json");
        if (!Files.isRegularFile(file)) {
            throw new EnvironmentException("Environment '" + nameOrPath + "' not found: there is no " + file
                    + ". Available: " + String.join(", ", available()) + " (choose with -D" + PROPERTY + "=<name>).");
        }
        return file;
    }

    private List<String> available() {
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(environmentsDir, "*.json")) {
            files.forEach(f -> names.add(f.getFileName().toString().replaceFirst("\\.json$", "")));
        } catch (IOException e) {
            return List.of("(none: " + environmentsDir.toAbsolutePath() + " cannot be listed)");
        }
        names.sort(null);
        return names;
    }

    /**
     * defaults.json, with each storefront setting's default ({@link StorefrontSetting}) under {@code app} where
     * defaults.json does not choose another one for runs. The budgets' defaults ({@code slo}) are
     * {@link SloBudget}'s, filled in when the section is read.
     */
    static ObjectNode defaults() {
        ObjectNode defaults;
        try (InputStream in = EnvironmentLoader.class.getResourceAsStream("defaults.json")) {
            defaults = (ObjectNode) MAPPER.readTree(in);
        } catch (IOException | NullPointerException e) {
            throw new IllegalStateException("defaults.json missing from the build", e);
        }
        ObjectNode app = (ObjectNode) defaults.get("app");
        for (StorefrontSetting setting : StorefrontSetting.environmentSettings()) {
            if (!app.has(setting.field())) {
                Object value = setting.defaultValue();
                app.set(setting.field(), value instanceof Integer i ? JsonNodeFactory.instance.numberNode(i)
                        : JsonNodeFactory.instance.textNode(setting.format(value)));
            }
        }
        return defaults;
    }

    /** Deep merge: objects merge field by field; anything else in {@code over} replaces. */
    private static void merge(ObjectNode base, ObjectNode over) {
        for (Map.Entry<String, JsonNode> field : over.properties()) {
            JsonNode existing = base.get(field.getKey());
            if (existing instanceof ObjectNode target && field.getValue() instanceof ObjectNode source) {
                merge(target, source);
            } else {
                base.set(field.getKey(), field.getValue());
            }
        }
    }

    /** Applies -D<section>.<field>[.<key>]=value; returns which JSON path came from which property. */
    private Map<String, String> applyOverrides(ObjectNode tree, String shown) {
        Map<String, String> origins = new LinkedHashMap<>();
        for (String key : new TreeSet<>(overrides.stringPropertyNames())) {
            int dot = key.indexOf('.');
            if (dot < 0 || !OVERRIDABLE.contains(key.substring(0, dot))) {
                continue;
            }
            String[] path = key.split("\\.");
            ObjectNode parent = tree;
            for (int i = 0; i < path.length - 1; i++) {
                JsonNode child = parent.get(path[i]);
                if (!(child instanceof ObjectNode)) {
                    if (child != null && !child.isNull()) {
                        throw new EnvironmentException("-D" + key + ": '" + String.join(".", List.of(path).subList(0, i + 1))
                                + "' is not an object in " + shown + ", so it has no field '" + path[i + 1] + "'.");
                    }
                    child = parent.putObject(path[i]);
                }
                parent = (ObjectNode) child;
            }
            parent.set(path[path.length - 1], scalar(overrides.getProperty(key)));
            origins.put(key, "-D" + key + "=" + overrides.getProperty(key));
        }
        return origins;
    }

    /** A -D value as JSON: numbers and booleans as such, comma lists for arrays, the rest as text. */
    private static JsonNode scalar(String value) {
        String v = value.trim();
        if (v.equals("true") || v.equals("false")) {
            return JsonNodeFactory.instance.booleanNode(Boolean.parseBoolean(v));
        }
        if (v.matches("-?\\d+")) {
            return JsonNodeFactory.instance.numberNode(Long.parseLong(v));
        }
        if (v.matches("-?\\d*\\.\\d+")) {
            return JsonNodeFactory.instance.numberNode(Double.parseDouble(v));
        }
        if (v.equals("null")) {
            return JsonNodeFactory.instance.nullNode();
        }
        return JsonNodeFactory.instance.textNode(v);
    }

    /**
     * Behind PgBouncer in transaction mode, the storefront runs with {@code app.preparedStatements} "unnamed" unless the
     * environment (file or -D) sets it: Debian 12's PgBouncer 1.18 cannot carry a statement the driver named on one
     * server connection to the next. Set to "server", it is the known-bad setup a control runs.
     */
    private static void unnamedStatementsBehindATransactionPooler(ObjectNode merged, JsonNode raw,
                                                                  Map<String, String> origins) {
        JsonNode postgres = merged.path("postgres");
        boolean transactionPooler = Environment.Postgres.PGBOUNCER.equals(postgres.path("pooler").asText())
                && dev.doorbuster.pooler.PoolMode.TRANSACTION.iniValue()
                        .equalsIgnoreCase(postgres.path("pgbouncer").path("poolMode").asText());
        String field = StorefrontSetting.PREPARED_STATEMENTS.field();
        if (transactionPooler && merged.get("app") instanceof ObjectNode app && !raw.path("app").has(field)
                && !origins.containsKey("app." + field)) {
            app.put(field, StorefrontSetting.PREPARED_STATEMENTS.format(
                    dev.doorbuster.app.StorefrontConfig.PreparedStatements.UNNAMED));
        }
    }

    private static void requireField(JsonNode tree, String field, String shown, String expected) {
        JsonNode value = tree.get(field);
        if (value == null || value.isNull() || (value.isTextual() && value.asText().isBlank())) {
            throw new EnvironmentException(shown + ": missing required field '" + field + "' (expected " + expected + ").");
        }
    }

    private static String describe(JsonProcessingException e, String shown, Map<String, String> origins) {
        String path = e instanceof JsonMappingException m ? fieldPath(m) : "?";
        String where = origins.keySet().stream().filter(k -> k.equals(path) || path.startsWith(k + "."))
                .findFirst().map(origins::get).orElse(shown);
        if (e instanceof UnrecognizedPropertyException u) {
            String parent = path.contains(".") ? path.substring(0, path.lastIndexOf('.')) : "the top level";
            Collection<Object> known = u.getKnownPropertyIds();
            Set<String> allowed = known == null ? Set.of() : known.stream().map(String::valueOf)
                    .filter(k -> !k.equals("name") && !k.equals("source")).collect(Collectors.toCollection(TreeSet::new));
            return where + ": unknown field '" + path + "'; allowed fields of " + parent + ": " + String.join(", ", allowed)
                    + ".";
        }
        if (e instanceof InvalidFormatException f) {
            Class<?> target = f.getTargetType();
            String expected = target != null && target.isEnum()
                    ? "one of " + java.util.Arrays.stream(target.getEnumConstants()).map(c -> c.toString().toLowerCase(Locale.ROOT))
                            .collect(Collectors.joining(", "))
                    : expectedType(target);
            return where + ": field '" + path + "' has value '" + f.getValue() + "'; expected " + expected + ".";
        }
        if (e instanceof MismatchedInputException m) {
            return where + ": field '" + path + "' has the wrong type; expected " + expectedType(m.getTargetType()) + ".";
        }
        return where + ": " + e.getOriginalMessage();
    }

    private static String fieldPath(JsonMappingException e) {
        return e.getPath().stream().map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                .collect(Collectors.joining(".")).replace(".[", "[");
    }

    private static String expectedType(Class<?> type) {
        if (type == null) {
            return "another type";
        }
        if (type == int.class || type == Integer.class || type == long.class || type == Long.class) {
            return "a whole number";
        }
        if (type == double.class || type == Double.class) {
            return "a number";
        }
        if (type == String.class) {
            return "a string";
        }
        if (List.class.isAssignableFrom(type)) {
            return "a JSON array";
        }
        if (Map.class.isAssignableFrom(type) || type.isRecord()) {
            return "a JSON object";
        }
        if (type == java.net.URI.class) {
            return "a URL string";
        }
        return "a " + type.getSimpleName();
    }

    // ---- semantic checks ---------------------------------------------------------------------------------

    private static void validate(Environment env, ObjectNode raw, String shown, Map<String, String> origins) {
        Checker c = new Checker(shown, origins);
        c.oneOf("postgres.synchronousCommit", env.postgres().synchronousCommit(), SYNC_MODES);
        c.range("postgres.replicas", env.postgres().replicas(), 0, 8);
        validatePooler(env, c);
        validateStorefrontSettings(env, c);
        c.range("app.instances", env.app().instances(), 1, Environment.App.MAX_INSTANCES);
        if (env.app().instances() > 1 && !env.isLocal()) {
            c.fail("app.instances", "is " + env.app().instances() + ", but only a local environment starts a fleet of "
                    + "storefronts so far (" + (env.isDocker() ? "a docker run starts one container of the service"
                    : "an external service's instances are its own: give its balancer's address as app.url")
                    + "); set it to 1 or use \"type\": \"local\"");
        }
        if (!env.isDocker() && raw.has("docker")) {
            c.fail("docker", "is only for docker environments; remove it or set \"type\": \"docker\"");
        }
        if (!env.isDocker() && env.app().image() != null) {
            c.fail("app.image", "is only for docker environments (a container image of the service under test); "
                    + "remove it or set \"type\": \"docker\"");
        }
        if (env.ownsDatabase()) {
            if (raw.has("database")) {
                c.fail("database", "is only for external environments (a " + env.type().name().toLowerCase(Locale.ROOT)
                        + " one makes its own database); remove it");
            }
            if (env.app().url() != null) {
                c.fail("app.url", "is only for external environments (a " + env.type().name().toLowerCase(Locale.ROOT)
                        + " run gets the application's address when it starts it); remove it or set \"type\": \"external\"");
            }
        } else {
            if (env.app().url() == null) {
                c.fail("app.url", "is required for an external environment: the base URL of the running application, "
                        + "e.g. \"http://127.0.0.1:8080\"");
            }
            if (env.database().writerUrl() == null) {
                c.fail("database.writerUrl", "is required for an external environment: a JDBC URL of the primary, used "
                        + "to audit acknowledged writes, e.g. \"jdbc:postgresql://127.0.0.1:5432/shop\"");
            }
            if (env.postgres().keepData()) {
                c.fail("postgres.keepData", "is only for local environments (an external database is never Doorbuster's "
                        + "to stop or keep); remove it");
            }
            if (!env.allowFaults().isEmpty() && env.proxy().url() == null) {
                c.fail("proxy.url", "is required when allowFaults is not empty: the Toxiproxy API URL, e.g. "
                        + "\"http://127.0.0.1:8474\"");
            }
        }
        if (env.isDocker()) {
            validateDocker(env, c);
        }
        if (env.runsStorefront() && env.app().writeProbe() != null) {
            c.fail(WriteProbeRequest.FIELD, "is only for a service of your own (app.image, or an external app.url): the "
                    + "reference storefront is always probed with " + WriteProbeRequest.STOREFRONT.describe() + "; remove it");
        }
        validateCache(env, c);
    }

    /** The pooler tier: PgBouncer's settings, and where it can run. */
    private static void validatePooler(Environment env, Checker c) {
        Environment.Postgres postgres = env.postgres();
        c.oneOf("postgres.pooler", postgres.pooler(), new TreeSet<>(Environment.Postgres.POOLERS));
        Environment.PgBouncer pgbouncer = postgres.pgbouncer();
        if (pgbouncer == null) {
            c.fail("postgres.pgbouncer", "is null; expected PgBouncer's settings, e.g. {\"poolMode\": \"transaction\", "
                    + "\"maxClientConn\": 1000, \"defaultPoolSize\": 20}, or leave it out for those defaults");
        }
        if (pgbouncer.poolMode() == null) {
            c.fail("postgres.pgbouncer.poolMode", "is null; expected one of session, transaction");
        }
        c.range("postgres.pgbouncer.maxClientConn", pgbouncer.maxClientConn(), 1, Environment.PgBouncer.MAX_CLIENT_CONN);
        c.range("postgres.pgbouncer.defaultPoolSize", pgbouncer.defaultPoolSize(), 1, Environment.PgBouncer.MAX_POOL_SIZE);
        c.range("postgres.pgbouncer.serverLoginRetrySeconds", pgbouncer.serverLoginRetrySeconds(), 0,
                dev.doorbuster.pooler.PgBouncerConfig.MAX_SERVER_LOGIN_RETRY_SECONDS);
        if (postgres.pooled() && !env.ownsDatabase()) {
            c.fail("postgres.pooler", "is \"" + Environment.Postgres.PGBOUNCER + "\", which only a local or docker "
                    + "environment starts (an external service's pooler is its own: give its address as the service's "
                    + "database); set it to \"" + Environment.Postgres.NO_POOLER + "\" or use \"type\": \"local\"");
        }
    }

    /**
     * The cache tier: a Redis the run starts (local: a process; docker: a container of {@code docker.redisImage}), or
     * the service's own named by {@code cache.url} (external).
     */
    private static void validateCache(Environment env, Checker c) {
        java.net.URI url = env.cache().url();
        if (url != null) {
            if (env.ownsDatabase()) {
                c.fail("cache.url", "is only for external environments (a " + env.type().name().toLowerCase(Locale.ROOT)
                        + " run starts its own Redis when app.cache is true); remove it");
            } else if (!"redis".equals(url.getScheme()) || url.getHost() == null || url.getPort() < 1) {
                c.fail("cache.url", "is '" + url + "'; expected redis://host:port, e.g. \"redis://127.0.0.1:6379\"");
            }
        }
        if (!env.app().cache()) {
            return;
        }
        if (!env.ownsDatabase() && url == null) {
            c.fail("cache.url", "is required with app.cache on an external environment: the Redis the service caches in, "
                    + "read directly by the harness (e.g. \"redis://127.0.0.1:6379\")");
        }
    }

    /**
     * The storefront's settings ({@code app.*}), by their one definition: each value's range or allowed values,
     * then (when this run starts the storefront) the rules between them, so that the storefront never refuses
     * what the environment accepted after the database was started.
     */
    private static void validateStorefrontSettings(Environment env, Checker c) {
        Map<StorefrontSetting, Object> values = env.app().storefrontSettings();
        values.forEach((setting, value) -> {
            String field = "app." + setting.field();
            switch (setting.kind()) {
                case INT -> c.range(field, ((Number) value).doubleValue(), setting.min(), setting.max());
                case CHOICE -> c.oneOf(field, (String) value, setting.choices());
                default -> {
                    String problem = setting.problem(value);
                    if (problem != null) {
                        c.fail(field, problem);
                    }
                }
            }
        });
        if (!env.runsStorefront()) {
            return; // the application's own rules are not the storefront's
        }
        for (StorefrontSetting.Rule rule : StorefrontSetting.RULES) {
            int lower = (Integer) values.get(rule.lower());
            int upper = (Integer) values.get(rule.upper());
            if (!rule.holds(lower, upper)) {
                c.failTogether("app." + rule.lower().field(), "app." + rule.upper().field(),
                        rule.problem(s -> "app." + s.field(), lower, upper));
            }
        }
    }

    private static void validateDocker(Environment env, Checker c) {
        Environment.Docker docker = env.docker();
        c.image("docker.postgresImage", docker.postgresImage());
        if (!docker.doorbusterProxy()) {
            c.image("docker.proxyImage", docker.proxyImage());
        }
        c.image("docker.javaImage", docker.javaImage());
        c.image("docker.redisImage", docker.redisImage());
        c.image("docker.pgbouncerImage", docker.pgbouncerImage());
        c.range("docker.startTimeoutSeconds", docker.startTimeoutSeconds(), 10, 3600);
        if (env.postgres().binaries() != null) {
            c.fail("postgres.binaries", "is only for local environments (a docker one runs docker.postgresImage); "
                    + "remove it");
        }
        if (env.postgres().keepData()) {
            c.fail("postgres.keepData", "is only for local environments (a docker run removes its containers and "
                    + "volumes); remove it");
        }
        if (env.proxy().url() != null) {
            c.fail("proxy.url", "is only for local and external environments (a docker one runs its own proxy "
                    + "container, chosen with docker.proxyImage); remove it");
        }
        Environment.App app = env.app();
        if (app.image() == null) {
            if (!app.environment().isEmpty()) {
                c.fail("app.environment", "is only for a service image (app.image); the reference storefront is "
                        + "configured by the other app fields");
            }
            return;
        }
        c.image("app.image", app.image());
        c.range("app.port", app.port(), 1, 65_535);
        if (app.healthPath() == null || !app.healthPath().startsWith("/")) {
            c.fail("app.healthPath", "is '" + app.healthPath() + "'; expected a path that starts with /, e.g. "
                    + "\"/health\" (it must answer 2xx once the service is ready)");
        }
        if (app.metricsUrl() != null && (app.metricsUrl().isAbsolute() || !app.metricsUrl().getPath().startsWith("/"))) {
            c.fail("app.metricsUrl", "is '" + app.metricsUrl() + "'; for a service image expected a path of the "
                    + "service, e.g. \"/metrics\" (its address is known only once the container runs)");
        }
        app.environment().forEach((variable, value) -> {
            List<String> unknown = AppPlaceholder.unknownIn(value);
            if (!unknown.isEmpty()) {
                c.fail("app.environment." + variable, "uses placeholder ${" + unknown.get(0) + "}; known placeholders: "
                        + AppPlaceholder.keys().stream().map(k -> "${" + k + "}").collect(Collectors.joining(", ")));
            }
            if (!app.cache()) {
                AppPlaceholder.foundIn(value).stream().filter(AppPlaceholder::needsCache).findFirst().ifPresent(p ->
                        c.fail("app.environment." + variable, "uses placeholder ${" + p.key() + "}, which exists only "
                                + "with the cache tier; expected app.cache true (the run then starts Redis behind the "
                                + "proxy '" + CacheTier.PROXY + "'), or remove it"));
            }
        });
    }

    /** Collects the semantic checks' failures into one message naming the file or -D property. */
    private static final class Checker implements SloBudget.Refusal {
        private final String shown;
        private final Map<String, String> origins;

        Checker(String shown, Map<String, String> origins) {
            this.shown = shown;
            this.origins = origins;
        }

        void oneOf(String field, String value, Collection<String> allowed) {
            if (value == null || !allowed.contains(value)) {
                fail(field, "is '" + value + "'; expected one of " + String.join(", ", allowed));
            }
        }

        void range(String field, double value, double min, double max) {
            if (value < min || value > max || Double.isNaN(value)) {
                String shownValue = value == Math.rint(value) ? Long.toString((long) value) : Double.toString(value);
                fail(field, "is " + shownValue + "; expected between " + fmt(min) + " and " + fmt(max));
            }
        }

        void image(String field, String name) {
            if (name == null || name.isBlank()) {
                fail(field, "is empty; expected an image name such as \"postgres:15\"");
            }
            try {
                org.testcontainers.utility.DockerImageName.parse(name).assertValid();
            } catch (IllegalArgumentException e) {
                fail(field, "is '" + name + "', not a valid image name (" + e.getMessage() + "); expected e.g. "
                        + "\"postgres:15\" or \"team/shop:1.4\"");
            }
        }

        void fail(String field, String problem) {
            throw wrong(field, problem);
        }

        @Override
        public EnvironmentException wrong(String field, String problem) {
            return new EnvironmentException(where(field) + ": field '" + field + "' " + problem + ".");
        }

        @Override
        public EnvironmentException unknown(String field, String parent, Set<String> allowed) {
            return new EnvironmentException(where(field) + ": unknown field '" + field + "'; allowed fields of "
                    + parent + ": " + String.join(", ", new TreeSet<>(allowed)) + ".");
        }

        private String where(String field) {
            if (origins.containsKey(field)) {
                return origins.get(field) + " (overriding " + shown + ")";
            }
            // A field refused as a whole (an object) that -D properties filled in part: they are where it came from.
            List<String> parts = origins.entrySet().stream().filter(o -> o.getKey().startsWith(field + "."))
                    .map(Map.Entry::getValue).toList();
            return parts.isEmpty() ? shown : String.join(" and ", parts) + " (overriding " + shown + ")";
        }

        /** Two fields whose values are each allowed but not together; names every -D property that set one. */
        void failTogether(String field, String other, String problem) {
            List<String> set = new ArrayList<>();
            for (String f : List.of(field, other)) {
                if (origins.containsKey(f)) {
                    set.add(origins.get(f));
                }
            }
            String where = set.isEmpty() ? shown : String.join(" and ", set) + " (overriding " + shown + ")";
            throw new EnvironmentException(where + ": fields '" + field + "' and '" + other + "' do not fit together: "
                    + problem + ".");
        }

        private static String fmt(double v) {
            return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
        }
    }
}
