package dev.doorbuster.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.doorbuster.app.StorefrontConfig;
import dev.doorbuster.app.StorefrontSetting;

/** The shipped environment files load; every kind of mistake names the file, the field and what is allowed. */
class EnvironmentLoaderTest {
    @TempDir
    Path dir;

    private final Properties props = new Properties();

    private Environment load(String json) throws IOException {
        Files.writeString(dir.resolve("test.json"), json);
        return new EnvironmentLoader(dir, props).load("test");
    }

    private EnvironmentException fails(String json) {
        return assertThrows(EnvironmentException.class, () -> load(json));
    }

    private static void assertMentions(Exception e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "message should mention '" + part + "': " + e.getMessage());
        }
    }

    @Test
    void shippedLocalEnvironment() {
        Environment env = new EnvironmentLoader(Path.of("environments"), new Properties()).load("local");
        assertEquals("local", env.name());
        assertTrue(env.isLocal());
        assertEquals(1, env.postgres().replicas());
        assertEquals("on", env.postgres().synchronousCommit());
        assertEquals("read-your-writes", env.app().routing());
        assertEquals("row-lock", env.app().stockLocking(), "the correct checkout unless asked");
        assertEquals("200", env.postgres().settings().get("max_connections"));
        assertNull(env.proxy().url(), "embedded proxy");
        assertEquals(0, env.slo().lostWrites());
    }

    @Test
    void shippedExternalExample() {
        Environment env = new EnvironmentLoader(Path.of("environments"), new Properties()).load("staging.example");
        assertEquals(Environment.Type.EXTERNAL, env.type());
        assertEquals("http://127.0.0.1:8080", env.app().url().toString());
        assertEquals(List.of("DbLatency", "ConnectionReset", "ProxyDown"), env.allowFaults());
        assertEquals("pg-primary", env.proxy().proxies().get("primary"));
    }

    @Test
    void defaultsFillWhatTheFileLeavesOut() throws IOException {
        Environment env = load("{\"type\": \"local\"}");
        assertEquals(10, env.app().writerPoolSize());
        assertEquals(1000, env.slo().p99Ms());
        assertEquals(100_000, env.app().seedUsers());
    }

    @Test
    void overridesFromSystemProperties() throws IOException {
        props.setProperty("slo.p99Ms", "250");
        props.setProperty("app.routing", "replica");
        props.setProperty("postgres.replicas", "2");
        props.setProperty("slo.p99MsPerRequest.checkout", "1500");
        props.setProperty("load.scale", "3"); // not an environment section: ignored
        Environment env = load("{\"type\": \"local\", \"slo\": {\"p99Ms\": 900}}");
        assertEquals(250, env.slo().p99Ms());
        assertEquals("replica", env.app().routing());
        assertEquals(2, env.postgres().replicas());
        assertEquals(1500, env.slo().p99MsPerRequest().get("checkout"));
    }

    @Test
    void stockLockingNoneIsAcceptedForControls() throws IOException {
        assertEquals("none", load("{\"type\": \"local\", \"app\": {\"stockLocking\": \"none\"}}").app().stockLocking());
        props.setProperty("app.stockLocking", "bogus");
        assertMentions(fails("{\"type\": \"local\"}"), "-Dapp.stockLocking=bogus", "row-lock, none");
    }

    @Test
    void unknownFieldNamesTheFieldAndTheAllowedOnes() {
        EnvironmentException e = fails("{\"type\": \"local\", \"app\": {\"routng\": \"replica\"}}");
        assertMentions(e, "test.json", "unknown field 'app.routng'", "routing", "writerPoolSize");
    }

    @Test
    void unknownTopLevelField() {
        EnvironmentException e = fails("{\"type\": \"local\", \"databse\": {}}");
        assertMentions(e, "unknown field 'databse'", "allowed fields of the top level", "postgres", "slo");
    }

    @Test
    void wrongEnumValueListsTheChoices() {
        assertMentions(fails("{\"type\": \"cloud\"}"), "field 'type'", "'cloud'", "local, docker, external");
        assertMentions(fails("{\"type\": \"local\", \"app\": {\"routing\": \"replika\"}}"), "app.routing", "'replika'",
                "replica, primary, read-your-writes, sticky");
        assertMentions(fails("{\"type\": \"local\", \"postgres\": {\"synchronousCommit\": \"yes\"}}"),
                "postgres.synchronousCommit", "off, on, remote_apply");
        assertMentions(fails("{\"type\": \"local\", \"app\": {\"stockLocking\": \"optimistic\"}}"),
                "test.json", "app.stockLocking", "'optimistic'", "row-lock, none");
    }

    @Test
    void wrongTypeNamesTheExpectedType() {
        assertMentions(fails("{\"type\": \"local\", \"app\": {\"writerPoolSize\": \"ten\"}}"), "app.writerPoolSize",
                "'ten'", "a whole number");
        assertMentions(fails("{\"type\": \"local\", \"app\": {\"writerPoolSize\": 2.5}}"), "app.writerPoolSize");
        assertMentions(fails("{\"type\": \"local\", \"slo\": 5}"), "slo", "a JSON object");
    }

    @Test
    void outOfRangeValues() {
        assertMentions(fails("{\"type\": \"local\", \"app\": {\"poolTimeoutMs\": 100}}"), "app.poolTimeoutMs", "is 100",
                "between 250 and");
        assertMentions(fails("{\"type\": \"local\", \"postgres\": {\"replicas\": -1}}"), "postgres.replicas", "between 0 and 8");
        assertMentions(fails("{\"type\": \"local\", \"slo\": {\"errorRatePercent\": 120}}"), "slo.errorRatePercent");
        assertMentions(fails("{\"type\": \"local\", \"slo\": {\"lostWrites\": -3}}"), "slo.lostWrites", "at least 0");
    }

    @Test
    void windowedSloAndAbortRuleHaveDefaultsOverridesAndRanges() throws IOException {
        Environment.Slo slo = load("{\"type\": \"local\"}").slo();
        assertEquals(1000, slo.windowP99Ms());
        assertEquals(5.0, slo.windowErrorRatePercent());
        assertEquals(95.0, slo.windowCompliancePercent());
        assertEquals(50.0, slo.abortErrorRatePercent());
        assertEquals(15, slo.abortAfterSeconds());
        props.setProperty("slo.abortAfterSeconds", "0");
        props.setProperty("slo.windowCompliancePercent", "99.5");
        slo = load("{\"type\": \"local\", \"slo\": {\"abortAfterSeconds\": 30, \"windowP99Ms\": 400}}").slo();
        assertEquals(0, slo.abortAfterSeconds(), "0 disables the abort rule");
        assertEquals(99.5, slo.windowCompliancePercent());
        assertEquals(400, slo.windowP99Ms());
        props.clear();
        assertMentions(fails("{\"type\": \"local\", \"slo\": {\"windowCompliancePercent\": 101}}"), "test.json",
                "slo.windowCompliancePercent", "is 101", "between 0 and 100");
        assertMentions(fails("{\"type\": \"local\", \"slo\": {\"windowP99Ms\": 0}}"), "slo.windowP99Ms", "between 1 and");
        assertMentions(fails("{\"type\": \"local\", \"slo\": {\"windowErrorRatePercent\": -1}}"),
                "slo.windowErrorRatePercent", "between 0 and 100");
        assertMentions(fails("{\"type\": \"local\", \"slo\": {\"abortErrorRatePercent\": 150}}"),
                "slo.abortErrorRatePercent", "between 0 and 100");
        props.setProperty("slo.abortAfterSeconds", "-5");
        assertMentions(fails("{\"type\": \"local\"}"), "-Dslo.abortAfterSeconds=-5", "test.json",
                "slo.abortAfterSeconds", "between 0 and 86400");
    }

    @Test
    void missingType() {
        assertMentions(fails("{\"app\": {}}"), "test.json", "missing required field 'type'", "local, docker or external");
    }

    @Test
    void externalNeedsItsEndpoints() {
        assertMentions(fails("{\"type\": \"external\", \"database\": {\"writerUrl\": \"jdbc:postgresql://x/db\"}}"),
                "app.url", "required");
        assertMentions(fails("{\"type\": \"external\", \"app\": {\"url\": \"http://127.0.0.1:8080\"}}"),
                "database.writerUrl", "required");
        assertMentions(fails("{\"type\": \"external\", \"app\": {\"url\": \"http://127.0.0.1:8080\"}, \"database\": "
                + "{\"writerUrl\": \"jdbc:postgresql://x/db\"}, \"allowFaults\": [\"DbLatency\"]}"), "proxy.url");
    }

    @Test
    void keepDataIsForLocalEnvironmentsOnly() throws IOException {
        assertFalse(load("{\"type\": \"local\"}").postgres().keepData(), "off unless asked for");
        props.setProperty("postgres.keepData", "true");
        assertTrue(load("{\"type\": \"local\"}").postgres().keepData());
        assertMentions(fails("{\"type\": \"docker\"}"), "field 'postgres.keepData' is only for local environments");
        assertMentions(fails("{\"type\": \"external\", \"app\": {\"url\": \"http://127.0.0.1:8080\"}, "
                + "\"database\": {\"writerUrl\": \"jdbc:postgresql://x/db\"}}"), "postgres.keepData", "only for local");
        props.setProperty("postgres.keepData", "sometimes");
        assertMentions(fails("{\"type\": \"local\"}"), "postgres.keepData");
    }

    @Test
    void localRejectsExternalOnlyFields() {
        assertMentions(fails("{\"type\": \"local\", \"app\": {\"url\": \"http://127.0.0.1:1\"}}"), "app.url",
                "only for external");
    }

    @Test
    void badOverrideNamesTheProperty() {
        props.setProperty("slo.p99ms", "200");
        assertMentions(fails("{\"type\": \"local\"}"), "-Dslo.p99ms=200", "unknown field 'slo.p99ms'", "p99Ms");
        props.clear();
        props.setProperty("slo.p99Ms", "fast");
        assertMentions(fails("{\"type\": \"local\"}"), "-Dslo.p99Ms=fast", "a whole number");
        props.clear();
        props.setProperty("app.routing", "random");
        assertMentions(fails("{\"type\": \"local\"}"), "-Dapp.routing=random", "overriding", "read-your-writes");
    }

    @Test
    void invalidJsonNamesTheLine() {
        assertMentions(fails("{\n\"type\": \"local\",\n\"app\": {\"routing\" \"replica\"}\n}"), "test.json",
                "not valid JSON", "line 3");
        assertMentions(fails("[1, 2]"), "expected a JSON object");
        assertMentions(fails(""), "expected a JSON object");
    }

    @Test
    void unknownEnvironmentListsTheAvailableOnes() throws IOException {
        Files.writeString(dir.resolve("local.json"), "{\"type\": \"local\"}");
        EnvironmentException e = assertThrows(EnvironmentException.class,
                () -> new EnvironmentLoader(dir, props).load("stagng"));
        assertMentions(e, "'stagng' not found", "stagng.json", "Available: local", "-Ddoorbuster.env");
    }

    // ---- docker ----------------------------------------------------------------------------------------------

    @Test
    void shippedDockerEnvironment() {
        Environment env = new EnvironmentLoader(Path.of("environments"), new Properties()).load("docker");
        assertEquals(Environment.Type.DOCKER, env.type());
        assertTrue(env.ownsDatabase() && env.runsStorefront());
        assertEquals("postgres:15", env.docker().postgresImage(), "the official image, a pinned major");
        assertEquals("redis:7", env.docker().redisImage(), "the official image, a pinned major");
        assertEquals("doorbuster/pgbouncer:1.18", env.docker().pgbouncerImage(), "built here: docker/images/build");
        assertFalse(env.postgres().pooled(), "no pooler unless asked");
        assertFalse(env.app().cache(), "no Redis unless asked");
        assertTrue(env.docker().doorbusterProxy());
        assertEquals(false, env.docker().pull(), "nothing is pulled unless asked");
        assertNull(env.app().image(), "the reference storefront");
    }

    @Test
    void dockerImagesAreOverridableAndValidated() throws IOException {
        props.setProperty("docker.postgresImage", "doorbuster/postgres:15");
        assertEquals("doorbuster/postgres:15", load("{\"type\": \"docker\"}").docker().postgresImage());
        props.setProperty("docker.postgresImage", "Postgres::15");
        assertMentions(fails("{\"type\": \"docker\"}"), "-Ddocker.postgresImage=Postgres::15",
                "field 'docker.postgresImage' is 'Postgres::15', not a valid image name");
        props.clear();
        assertMentions(fails("{\"type\": \"docker\", \"docker\": {\"javaImage\": \" \"}}"),
                "field 'docker.javaImage' is empty");
        props.setProperty("docker.redisImage", "doorbuster/redis:7");
        assertEquals("doorbuster/redis:7", load("{\"type\": \"docker\"}").docker().redisImage());
        props.setProperty("docker.redisImage", "Redis::7");
        assertMentions(fails("{\"type\": \"docker\"}"), "-Ddocker.redisImage=Redis::7 (overriding "
                + dir.resolve("test.json") + ")", "field 'docker.redisImage' is 'Redis::7', not a valid image name",
                "expected e.g. \"postgres:15\"");
        props.clear();
        assertMentions(fails("{\"type\": \"docker\", \"docker\": {\"redisImage\": \"\"}}"),
                dir.resolve("test.json") + ": field 'docker.redisImage' is empty; expected an image name");
        props.setProperty("docker.pgbouncerImage", "team/pgbouncer:1.21");
        assertEquals("team/pgbouncer:1.21", load("{\"type\": \"docker\"}").docker().pgbouncerImage());
        props.setProperty("docker.pgbouncerImage", "PgBouncer::1.18");
        assertMentions(fails("{\"type\": \"docker\"}"), "-Ddocker.pgbouncerImage=PgBouncer::1.18 (overriding "
                + dir.resolve("test.json") + ")", "field 'docker.pgbouncerImage' is 'PgBouncer::1.18', not a valid image "
                + "name", "expected e.g. \"postgres:15\"");
        props.clear();
        assertMentions(fails("{\"type\": \"docker\", \"docker\": {\"pgbouncerImage\": null}}"),
                dir.resolve("test.json") + ": field 'docker.pgbouncerImage' is empty; expected an image name");
        assertMentions(fails("{\"type\": \"docker\", \"docker\": {\"startTimeoutSeconds\": 5}}"),
                "field 'docker.startTimeoutSeconds' is 5; expected between 10 and 3600");
        assertMentions(fails("{\"type\": \"docker\", \"docker\": {\"postgres\": \"x\"}}"),
                "unknown field 'docker.postgres'", "postgresImage");
    }

    @Test
    void aServiceImageNeedsAPortAHealthPathAndKnownPlaceholders() throws IOException {
        Environment env = load("{\"type\": \"docker\", \"app\": {\"image\": \"shop/checkout:1.42\", \"port\": 9000, "
                + "\"healthPath\": \"/ready\", \"metricsUrl\": \"/metrics\", "
                + "\"environment\": {\"DB_URL\": \"${writerJdbcUrl}\", \"DB\": \"${dbUser}:${dbPassword}\"}}}");
        assertEquals("shop/checkout:1.42", env.app().image());
        assertEquals(9000, env.app().port());
        assertTrue(env.ownsDatabase());
        assertTrue(!env.runsStorefront(), "the pools are the service's own");
        assertMentions(fails("{\"type\": \"docker\", \"app\": {\"image\": \"shop/checkout:1.42\", "
                        + "\"environment\": {\"DB_URL\": \"${writerUrl}\"}}}"),
                "field 'app.environment.DB_URL' uses placeholder ${writerUrl}", "${writerJdbcUrl}", "${dbPassword}");
        assertMentions(fails("{\"type\": \"docker\", \"app\": {\"image\": \"shop/checkout:1.42\", \"port\": 0}}"),
                "field 'app.port' is 0; expected between 1 and 65535");
        assertMentions(fails("{\"type\": \"docker\", \"app\": {\"image\": \"shop/checkout:1.42\", "
                + "\"healthPath\": \"health\"}}"), "field 'app.healthPath' is 'health'; expected a path that starts with /");
        assertMentions(fails("{\"type\": \"docker\", \"app\": {\"image\": \"shop/checkout:1.42\", "
                + "\"metricsUrl\": \"http://127.0.0.1:9000/metrics\"}}"), "field 'app.metricsUrl'", "a path of the service");
        assertMentions(fails("{\"type\": \"docker\", \"app\": {\"environment\": {\"A\": \"b\"}}}"),
                "field 'app.environment' is only for a service image (app.image)");
    }

    @Test
    void dockerOnlyFieldsAreRefusedElsewhereAndOthersInDocker() {
        assertMentions(fails("{\"type\": \"local\", \"docker\": {\"postgresImage\": \"postgres:16\"}}"),
                "field 'docker' is only for docker environments");
        assertMentions(fails("{\"type\": \"local\", \"app\": {\"image\": \"shop/checkout:1.42\"}}"),
                "field 'app.image' is only for docker environments");
        assertMentions(fails("{\"type\": \"docker\", \"proxy\": {\"url\": \"http://127.0.0.1:8474\"}}"),
                "field 'proxy.url' is only for local and external environments", "docker.proxyImage");
        assertMentions(fails("{\"type\": \"docker\", \"postgres\": {\"binaries\": \"/usr/lib/postgresql/15/bin\"}}"),
                "field 'postgres.binaries' is only for local environments");
        assertMentions(fails("{\"type\": \"docker\", \"app\": {\"url\": \"http://127.0.0.1:8080\"}}"),
                "field 'app.url' is only for external environments (a docker run");
        assertMentions(fails("{\"type\": \"docker\", \"database\": {\"writerUrl\": \"jdbc:postgresql://x/y\"}}"),
                "field 'database' is only for external environments (a docker one makes its own database)");
        assertMentions(fails("{\"type\": \"kubernetes\"}"), "field 'type' has value 'kubernetes'; expected one of "
                + "local, docker, external");
    }

    // ---- the storefront's settings: one definition (StorefrontSetting) ------------------------------------------

    @Test
    void everyStorefrontSettingHasAnEnvironmentFieldWithTheDefinitionsDefault() throws IOException {
        Environment env = load("{\"type\": \"local\"}");
        java.util.Map<StorefrontSetting, Object> values = env.app().storefrontSettings();
        assertEquals(StorefrontSetting.environmentSettings(), List.copyOf(values.keySet()));
        values.forEach((setting, value) -> {
            Object expected = setting == StorefrontSetting.ROUTING ? "read-your-writes" // the runs' own default
                    : setting.format(setting.defaultValue());
            assertEquals(expected, setting.format(value), "app." + setting.field());
        });
        assertEquals(200, env.app().rywWaitMs());
        assertEquals(2000, env.app().stickyMs());
        assertEquals(64, env.app().httpThreads());
    }

    @Test
    void theNewFieldsAreSetFromTheFileAndFromOverrides() throws IOException {
        Environment env = load("{\"type\": \"local\", \"app\": {\"rywWaitMs\": 400, \"stickyMs\": 0, "
                + "\"httpThreads\": 16}}");
        assertEquals(400, env.app().rywWaitMs());
        assertEquals(0, env.app().stickyMs());
        assertEquals(16, env.app().httpThreads());
        props.setProperty("app.stickyMs", "750");
        props.setProperty("app.rywWaitMs", "50");
        props.setProperty("app.httpThreads", "8");
        env = load("{\"type\": \"local\", \"app\": {\"stickyMs\": 100}}");
        assertEquals(750, env.app().stickyMs());
        assertEquals(50, env.app().rywWaitMs());
        assertEquals(8, env.app().httpThreads());
    }

    @Test
    void everyStorefrontNumberOutOfItsRangeNamesTheFileTheFieldAndTheRange() {
        for (StorefrontSetting s : StorefrontSetting.environmentSettings()) {
            if (s.kind() != StorefrontSetting.Kind.INT) {
                continue;
            }
            String field = "app." + s.field();
            String range = "expected between " + s.min() + " and " + s.max();
            for (long bad : new long[] {s.min() - 1L, s.max() + 1L}) {
                assertMentions(fails("{\"type\": \"local\", \"app\": {\"" + s.field() + "\": " + bad + "}}"),
                        "test.json: field '" + field + "' is " + bad + "; " + range);
                props.setProperty(field, Long.toString(bad));
                assertMentions(fails("{\"type\": \"local\"}"), "-D" + field + "=" + bad + " (overriding ",
                        "test.json): field '" + field + "' is " + bad + "; " + range);
                props.clear();
            }
        }
    }

    @Test
    void everyStorefrontChoiceNamesItsValues() {
        for (StorefrontSetting s : StorefrontSetting.environmentSettings()) {
            if (s.kind() == StorefrontSetting.Kind.CHOICE) {
                assertMentions(fails("{\"type\": \"local\", \"app\": {\"" + s.field() + "\": \"bogus\"}}"),
                        "test.json: field 'app." + s.field() + "' is 'bogus'; expected one of "
                                + String.join(", ", s.choices()));
            }
        }
    }

    @Test
    void aPoolTimeoutNotBelowTheRequestTimeoutIsRefusedNamingBothFields() {
        assertMentions(fails("{\"type\": \"local\", \"app\": {\"requestTimeoutMs\": 800}}"),
                "test.json: fields 'app.poolTimeoutMs' and 'app.requestTimeoutMs' do not fit together",
                "app.poolTimeoutMs (1000) must be less than app.requestTimeoutMs (800)",
                "app.poolTimeoutMs may be 250 to 799", "or raise app.requestTimeoutMs above 1000");
        assertMentions(fails("{\"type\": \"local\", \"app\": {\"poolTimeoutMs\": 5000}}"),
                "test.json: fields 'app.poolTimeoutMs' and 'app.requestTimeoutMs'",
                "app.poolTimeoutMs (5000) must be less than app.requestTimeoutMs (5000)");
    }

    @Test
    void aReadYourWritesWaitNotBelowTheRequestTimeoutIsRefused() {
        assertMentions(fails("{\"type\": \"local\", \"app\": {\"rywWaitMs\": 5000}}"),
                "test.json: fields 'app.rywWaitMs' and 'app.requestTimeoutMs' do not fit together",
                "app.rywWaitMs (5000) must be less than app.requestTimeoutMs (5000)", "app.rywWaitMs may be 0 to 4999");
    }

    @Test
    void anInvalidCombinationFromOverridesNamesTheProperties() {
        props.setProperty("app.requestTimeoutMs", "800");
        assertMentions(fails("{\"type\": \"local\"}"), "-Dapp.requestTimeoutMs=800 (overriding ",
                "test.json): fields 'app.poolTimeoutMs' and 'app.requestTimeoutMs' do not fit together");
        props.setProperty("app.poolTimeoutMs", "900");
        assertMentions(fails("{\"type\": \"local\"}"), "-Dapp.poolTimeoutMs=900 and -Dapp.requestTimeoutMs=800 "
                + "(overriding ", "app.poolTimeoutMs (900) must be less than app.requestTimeoutMs (800)");
        props.setProperty("app.poolTimeoutMs", "700");
        props.setProperty("app.rywWaitMs", "800");
        assertMentions(fails("{\"type\": \"local\", \"app\": {\"rywWaitMs\": 100}}"),
                "-Dapp.rywWaitMs=800 and -Dapp.requestTimeoutMs=800", "app.rywWaitMs (800) must be less than");
    }

    /**
     * The issue: {@code -Dapp.requestTimeoutMs=300} passed here, PostgreSQL started, then the storefront exited
     * with code 2. Now the loader refuses it, naming the property and the storefront's own range, before any
     * topology exists.
     */
    @Test
    void aRequestTimeoutTheStorefrontWouldRefuseIsRefusedBeforeAnythingStarts() {
        props.setProperty("app.requestTimeoutMs", "300");
        EnvironmentException e = fails("{\"type\": \"local\"}");
        assertMentions(e, "-Dapp.requestTimeoutMs=300 (overriding ", "field 'app.requestTimeoutMs' is 300; "
                + "expected between 500 and 600000");
        assertMentions(fails("{\"type\": \"docker\"}"), "-Dapp.requestTimeoutMs=300", "app.requestTimeoutMs",
                "between 500 and 600000"); // the storefront in a docker environment too
    }

    @Test
    void theStorefrontsRulesDoNotBindAnotherApplication() throws IOException {
        // An external application's request bound is its own; the storefront's pool is not involved.
        Environment env = load("{\"type\": \"external\", \"app\": {\"url\": \"http://127.0.0.1:9\", "
                + "\"requestTimeoutMs\": 800}, \"database\": {\"writerUrl\": \"jdbc:postgresql://h/db\"}}");
        assertEquals(800, env.app().requestTimeoutMs());
    }

    @Test
    void everyValueTheEnvironmentAcceptsTheStorefrontAccepts() throws Exception {
        for (StorefrontSetting s : StorefrontSetting.environmentSettings()) {
            List<String> values = s.kind() == StorefrontSetting.Kind.INT
                    ? List.of(Integer.toString(s.min()), Integer.toString(s.max())) : s.choices();
            for (String value : values) {
                props.clear();
                props.setProperty("app." + s.field(), value);
                // Make room for the rules: the request bound at its widest unless it is the value under test.
                if (s != StorefrontSetting.REQUEST_TIMEOUT_MS) {
                    props.setProperty("app.requestTimeoutMs", Integer.toString(StorefrontSetting.REQUEST_TIMEOUT_MS.max()));
                } else if (value.equals(Integer.toString(s.min()))) {
                    props.setProperty("app.poolTimeoutMs", "250");
                }
                Environment env = load("{\"type\": \"local\"}");
                StorefrontConfig config = StorefrontConfig.fromArgs(StorefrontLaunch.args(env.app(), List.of("h:1"),
                        List.of(), "h:1", "postgres", "").toArray(String[]::new));
                assertEquals(value, s.format(config.get(s)), s.option());
            }
        }
    }

    // ---- the cache tier ---------------------------------------------------------------------------------------

    @Test
    void theCacheTierRunsOnLocalAndDockerEnvironmentsWhichStartTheirOwnRedis() throws IOException {
        assertTrue(load("{\"type\": \"local\", \"app\": {\"cache\": true}}").app().cache());
        Environment docker = load("{\"type\": \"docker\", \"app\": {\"cache\": true}}");
        assertTrue(docker.app().cache(), "docker starts a Redis container");
        assertNull(docker.cache().url());
        props.setProperty("app.cache", "true");
        assertTrue(load("{\"type\": \"docker\"}").app().cache(), "-Dapp.cache=true");
        props.clear();
        String file = dir.resolve("test.json").toString();
        assertMentions(fails("{\"type\": \"docker\", \"app\": {\"cache\": true}, \"cache\": {\"url\": "
                + "\"redis://127.0.0.1:6379\"}}"), file + ": field 'cache.url' is only for external environments (a "
                + "docker run starts its own Redis when app.cache is true); remove it");
        assertMentions(fails("{\"type\": \"local\", \"cache\": {\"url\": \"redis://127.0.0.1:6379\"}}"),
                file + ": field 'cache.url' is only for external environments (a local run");
        assertMentions(fails("{\"type\": \"docker\", \"app\": {\"cache\": \"yes\"}}"),
                file + ": field 'app.cache'", "expected a boolean");
    }

    @Test
    void anExternalCacheTierNeedsARedisUrl() throws IOException {
        String external = "{\"type\": \"external\", \"app\": {\"url\": \"http://127.0.0.1:8080\", \"cache\": true}, "
                + "\"database\": {\"writerUrl\": \"jdbc:postgresql://127.0.0.1:5432/shop\"}";
        Environment env = load(external + ", \"cache\": {\"url\": \"redis://10.0.0.7:6379\"}}");
        assertEquals("redis://10.0.0.7:6379", env.cache().url().toString());
        String file = dir.resolve("test.json").toString();
        assertMentions(fails(external + "}"), file + ": field 'cache.url' is required with app.cache on an external "
                + "environment", "redis://127.0.0.1:6379");
        assertMentions(fails(external + ", \"cache\": {\"url\": \"http://10.0.0.7:6379\"}}"),
                file + ": field 'cache.url' is 'http://10.0.0.7:6379'; expected redis://host:port");
        assertMentions(fails(external + ", \"cache\": {\"url\": \"redis://10.0.0.7\"}}"),
                "field 'cache.url' is 'redis://10.0.0.7'; expected redis://host:port");
        props.setProperty("cache.url", "redis:/nohost");
        assertMentions(fails(external + "}"), "-Dcache.url=redis:/nohost (overriding " + file + ")",
                "field 'cache.url' is 'redis:/nohost'; expected redis://host:port");
    }

    @Test
    void aServiceImageReachesTheCacheThroughPlaceholdersOnlyWithTheCacheTier() throws IOException {
        String image = "{\"type\": \"docker\", \"app\": {\"image\": \"shop/checkout:1.42\", %s"
                + "\"environment\": {\"REDIS_URL\": \"redis://${cacheHost}:${cachePort}\"}}}";
        Environment env = load(String.format(image, "\"cache\": true, "));
        assertEquals("redis://${cacheHost}:${cachePort}", env.app().environment().get("REDIS_URL"),
                "resolved when the run starts");
        assertMentions(fails(String.format(image, "")), dir.resolve("test.json") + ": field "
                + "'app.environment.REDIS_URL' uses placeholder ${cacheHost}, which exists only with the cache tier; "
                + "expected app.cache true");
    }

    // ---- the pooler tier --------------------------------------------------------------------------------------

    @Test
    void thePoolerIsOffByDefaultAndPgBouncerHasItsOwnDefaults() throws IOException {
        Environment env = load("{\"type\": \"local\"}");
        assertEquals("none", env.postgres().pooler());
        assertFalse(env.postgres().pooled());
        assertEquals(dev.doorbuster.pooler.PoolMode.TRANSACTION, env.postgres().pgbouncer().poolMode());
        assertEquals(1000, env.postgres().pgbouncer().maxClientConn());
        assertEquals(20, env.postgres().pgbouncer().defaultPoolSize());
        assertEquals(15, env.postgres().pgbouncer().serverLoginRetrySeconds(), "PgBouncer's own default");
        assertEquals("server", env.app().preparedStatements(), "no pooler: the driver's default");
    }

    @Test
    void pgBouncerIsSetFromTheFileAndFromOverrides() throws IOException {
        Environment env = load("{\"type\": \"local\", \"postgres\": {\"pooler\": \"pgbouncer\", \"pgbouncer\": "
                + "{\"poolMode\": \"session\", \"defaultPoolSize\": 5}}}");
        assertTrue(env.postgres().pooled());
        assertEquals(dev.doorbuster.pooler.PoolMode.SESSION, env.postgres().pgbouncer().poolMode());
        assertEquals(5, env.postgres().pgbouncer().defaultPoolSize());
        assertEquals(1000, env.postgres().pgbouncer().maxClientConn(), "the rest keep their defaults");
        assertEquals("server", env.app().preparedStatements(), "a session pooler keeps a connection's statements");
        props.setProperty("postgres.pooler", "pgbouncer");
        props.setProperty("postgres.pgbouncer.maxClientConn", "50");
        env = load("{\"type\": \"local\"}");
        assertTrue(env.postgres().pooled());
        assertEquals(50, env.postgres().pgbouncer().maxClientConn());
    }

    @Test
    void behindATransactionPoolerTheStorefrontNamesNoStatementUnlessTheEnvironmentSaysSo() throws IOException {
        props.setProperty("postgres.pooler", "pgbouncer");
        assertEquals("unnamed", load("{\"type\": \"local\"}").app().preparedStatements());
        assertEquals("server", load("{\"type\": \"local\", \"app\": {\"preparedStatements\": \"server\"}}").app()
                .preparedStatements(), "the file's choice stands (the known-bad control)");
        props.setProperty("app.preparedStatements", "server");
        assertEquals("server", load("{\"type\": \"local\"}").app().preparedStatements(), "as does -D's");
    }

    @Test
    void aWrongPoolerSettingNamesTheFieldAndWhatIsAllowed() {
        String file = dir.resolve("test.json").toString();
        assertMentions(fails("{\"type\": \"local\", \"postgres\": {\"pooler\": \"pgpool\"}}"),
                file + ": field 'postgres.pooler' is 'pgpool'; expected one of none, pgbouncer");
        assertMentions(fails("{\"type\": \"local\", \"postgres\": {\"pgbouncer\": {\"poolMode\": \"statement\"}}}"),
                file + ": field 'postgres.pgbouncer.poolMode' has value 'statement'; expected one of session, transaction");
        assertMentions(fails("{\"type\": \"local\", \"postgres\": {\"pgbouncer\": {\"poolMode\": null}}}"),
                "field 'postgres.pgbouncer.poolMode' is null; expected one of session, transaction");
        assertMentions(fails("{\"type\": \"local\", \"postgres\": {\"pgbouncer\": null}}"),
                "field 'postgres.pgbouncer' is null; expected PgBouncer's settings");
        assertMentions(fails("{\"type\": \"local\", \"postgres\": {\"pgbouncer\": {\"poolSize\": 5}}}"),
                "unknown field 'postgres.pgbouncer.poolSize'", "defaultPoolSize, maxClientConn, poolMode, "
                        + "serverLoginRetrySeconds");
        assertMentions(fails("{\"type\": \"local\", \"postgres\": {\"pgbouncer\": {\"maxClientConn\": \"many\"}}}"),
                "field 'postgres.pgbouncer.maxClientConn'", "expected a whole number");
        props.setProperty("postgres.pgbouncer.defaultPoolSize", "0");
        assertMentions(fails("{\"type\": \"local\"}"), "-Dpostgres.pgbouncer.defaultPoolSize=0 (overriding " + file
                + "): field 'postgres.pgbouncer.defaultPoolSize' is 0; expected between 1 and 10000");
        props.clear();
        props.setProperty("postgres.pgbouncer.maxClientConn", "100001");
        assertMentions(fails("{\"type\": \"local\"}"), "field 'postgres.pgbouncer.maxClientConn' is 100001; "
                + "expected between 1 and 100000");
        props.clear();
        props.setProperty("postgres.pgbouncer.serverLoginRetrySeconds", "-1");
        assertMentions(fails("{\"type\": \"local\"}"), "field 'postgres.pgbouncer.serverLoginRetrySeconds' is -1; "
                + "expected between 0 and 3600");
    }

    @Test
    void localAndDockerEnvironmentsStartAPoolerAnExternalOneDoesNot() throws IOException {
        Environment docker = load("{\"type\": \"docker\", \"postgres\": {\"pooler\": \"pgbouncer\"}}");
        assertTrue(docker.postgres().pooled());
        assertEquals("doorbuster/pgbouncer:1.18", docker.docker().pgbouncerImage(),
                "no official PgBouncer image: the one docker/images/build makes from Debian's package");
        assertMentions(fails("{\"type\": \"external\", \"app\": {\"url\": \"http://127.0.0.1:8080\"}, \"database\": "
                + "{\"writerUrl\": \"jdbc:postgresql://127.0.0.1:5432/shop\"}, \"postgres\": {\"pooler\": \"pgbouncer\"}}"),
                "an external service's pooler is its own");
    }

    @Test
    void aFleetIsOneInstanceByDefaultAndOnlyALocalEnvironmentStartsSeveral() throws IOException {
        assertEquals(1, load("{\"type\": \"local\"}").app().instances());
        assertEquals(4, load("{\"type\": \"local\", \"app\": {\"instances\": 4}}").app().instances());
        String file = dir.resolve("test.json").toString();
        assertMentions(fails("{\"type\": \"local\", \"app\": {\"instances\": 0}}"),
                file + ": field 'app.instances' is 0; expected between 1 and 16");
        assertMentions(fails("{\"type\": \"local\", \"app\": {\"instances\": \"four\"}}"),
                "field 'app.instances'", "expected a whole number");
        props.setProperty("app.instances", "17");
        assertMentions(fails("{\"type\": \"local\"}"), "-Dapp.instances=17 (overriding " + file
                + "): field 'app.instances' is 17; expected between 1 and 16");
        props.clear();
        assertMentions(fails("{\"type\": \"docker\", \"app\": {\"instances\": 2}}"),
                "field 'app.instances' is 2, but only a local environment starts a fleet", "set it to 1");
        assertMentions(fails("{\"type\": \"external\", \"app\": {\"url\": \"http://127.0.0.1:8080\", "
                + "\"instances\": 3}, \"database\": {\"writerUrl\": \"jdbc:postgresql://127.0.0.1:5432/shop\"}}"),
                "an external service's instances are its own");
    }
}
