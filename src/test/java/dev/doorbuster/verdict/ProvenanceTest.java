package dev.doorbuster.verdict;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.doorbuster.postgres.PgBinaries;
import dev.doorbuster.postgres.PgCluster;
import dev.doorbuster.topology.DiagnosticTarget;
import dev.doorbuster.topology.Environment;
import dev.doorbuster.topology.EnvironmentLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProvenanceTest {
    private static final String PASSWORD = "s3cret-pw-4711";
    private static final String TOKEN = "tok-never-recorded-0815";

    @TempDir
    Path dir;

    /** An external environment with every kind of secret an environment can hold, and one -D override. */
    private Environment environment(Properties overrides) throws IOException {
        Files.writeString(dir.resolve("svc.json"), """
                {"type": "external",
                 "app": {"url": "http://127.0.0.1:9", "metricsUrl": "http://127.0.0.1:9/metrics",
                         "environment": {"API_TOKEN": "%s"},
                         "writeProbe": {"method": "POST", "path": "/orders", "headers": {"Authorization": "Bearer %s"},
                                        "body": "{}"}},
                 "proxy": {"url": "http://127.0.0.1:8474", "proxies": {"primary": "pg-primary"}},
                 "database": {"writerUrl": "jdbc:postgresql://127.0.0.1:5432/shop", "user": "shop", "password": "%s"},
                 "slo": {"p99Ms": 800}}
                """.formatted(TOKEN, TOKEN, PASSWORD));
        return new EnvironmentLoader(dir, overrides).load("svc");
    }

    @Test
    void theEffectiveEnvironmentIsRecordedWithItsOverridesAndWithoutItsSecrets() throws IOException {
        Properties overrides = new Properties();
        overrides.setProperty("slo.p99Ms", "650");
        Provenance provenance = Provenance.of("1.2.3", "3.16.0", environment(overrides), Provenance.Database.UNKNOWN,
                Map.of("load.minutes", "0.35"));
        Map<String, String> recorded = provenance.environment();
        assertEquals("external", recorded.get("type"));
        assertEquals("650", recorded.get("slo.p99Ms"), "the -D override, not the file's 800");
        assertEquals("read-your-writes", recorded.get("app.routing"), "a default is recorded too: " + recorded);
        assertEquals("1", recorded.get("app.instances"), "how many instances served: " + recorded);
        assertEquals("0.35", provenance.parameters().get("load.minutes"));
        String everything = new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(provenance);
        assertFalse(everything.contains(PASSWORD), "no password: " + everything);
        assertFalse(everything.contains(TOKEN), "no service environment value, no probe header: " + everything);
        assertTrue(provenance.machine().startsWith(Runtime.getRuntime().availableProcessors() + " processors"),
                provenance.machine());
        assertEquals("1.2.3", provenance.doorbuster());
        assertEquals(Provenance.DEVELOPMENT_BUILD, Provenance.of(null, null, environment(new Properties()),
                Provenance.Database.UNKNOWN, Map.of()).doorbuster());
    }

    @Test
    void aComparisonNamesWhatRanDifferentlyAndNothingElse() throws IOException {
        Properties replica = new Properties();
        replica.setProperty("app.routing", "replica");
        Provenance baseline = Provenance.of("1.2.3", "3.16.0", environment(new Properties()),
                new Provenance.Database("18.6", Map.of("max_connections", "200")), Map.of("load.minutes", "1.5"));
        Provenance now = Provenance.of("1.2.3", "3.16.0", environment(replica),
                new Provenance.Database("18.6", Map.of("max_connections", "100")), Map.of("load.minutes", "1.5"))
                .comparedWith("blackfriday-1", baseline);
        assertEquals("blackfriday-1", now.baseline());
        assertEquals(List.of("app.routing: read-your-writes → replica", "postgres setting max_connections: 200 → 100"),
                now.differencesFromBaseline());
        assertEquals(List.of(), baseline.differencesFrom(baseline));
        assertFalse(now.baselineUnrecorded());
        Provenance againstAnOldRun = now.comparedWith("blackfriday-0", null);
        assertTrue(againstAnOldRun.baselineUnrecorded(), "a baseline without a record says nothing");
        assertEquals(List.of(), againstAnOldRun.differencesFromBaseline());
    }

    @Test
    void aVerdictCarriesItThroughVerdictJsonAndAnOlderFileWithoutItStillReads() throws IOException {
        Provenance provenance = Provenance.of(null, "3.16.0", environment(new Properties()), Provenance.Database.UNKNOWN,
                Map.of("load.scale", "2.0"));
        Verdict verdict = Verdict.of("S", "svc", "2026-12-06T00:00:00Z", 21, List.of(), 0, 0, null, null, null, List.of())
                .withProvenance(provenance);
        Path file = dir.resolve(Verdict.JSON_FILE);
        verdict.writeJson(file);
        assertEquals(provenance, Verdict.readJson(file).provenance());
        ObjectMapper json = new ObjectMapper();
        ObjectNode tree = (ObjectNode) json.readTree(file.toFile());
        tree.remove("provenance");
        String older = json.writeValueAsString(tree);
        assertFalse(older.contains("provenance"), older);
        Files.writeString(file, older);
        assertNull(Verdict.readJson(file).provenance());
    }

    /** The oracle for the version is the binaries' own: the bundled PostgreSQL's version the tests run. */
    @Test
    void theDatabaseSaysItsVersionAndTheSettingsTheRunGaveIt() {
        try (PgCluster cluster = PgCluster.builder().replicas(0).setting("work_mem", "7MB").start()) {
            String url = cluster.primary().jdbcUrl("postgres");
            Provenance.Database database = Provenance.readDatabase(List.of(
                    new DiagnosticTarget("pg1", "primary", url, "postgres", "")));
            String bundled = PgBinaries.resolve().version();
            assertTrue(bundled.startsWith(database.version().split(" ")[0]) || database.version().startsWith(bundled),
                    database.version() + " vs the binaries' " + bundled);
            assertEquals("7168kB", database.settings().get("work_mem"), database.settings().toString());
            assertFalse(database.settings().containsKey("application_name"), "the connection's own are not the run's");
        }
        assertEquals(Provenance.Database.UNKNOWN, Provenance.readDatabase(List.of(
                new DiagnosticTarget("pg1", "primary", "jdbc:postgresql://127.0.0.1:9/postgres", "postgres", ""))));
    }
}
