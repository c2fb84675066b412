package dev.doorbuster.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
}
