package dev.doorbuster.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;

import dev.doorbuster.chaos.ChaosContext;
import dev.doorbuster.chaos.ChaosRunner;
import dev.doorbuster.chaos.DbLatency;
import dev.doorbuster.chaos.FaultRefusedException;
import dev.doorbuster.chaos.FaultSchedule;
import dev.doorbuster.chaos.FaultTimeline;
import dev.doorbuster.chaos.LinkTarget;
import dev.doorbuster.chaos.PrimaryFailover;
import dev.doorbuster.chaos.ProxyDown;
import dev.doorbuster.postgres.PgNode;
import dev.doorbuster.verdict.probes.DatabaseDiagnostics;
import dev.doorbuster.verdict.probes.DatabaseSnapshot;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An external environment pointed at a running system (here a local topology standing in for staging):
 * it connects, performs only the faults it is granted, and refuses the rest before anything happens.
 */
class ExternalTopologyTest {
    private static LocalTopology staging;

    @TempDir
    Path dir;

    @BeforeAll
    static void startStaging() throws IOException {
        Properties small = new Properties();
        small.setProperty("app.seedUsers", "1000");
        small.setProperty("app.seedProducts", "200");
        Environment env = new EnvironmentLoader(Path.of("environments"), small).load("local");
        staging = LocalTopology.start(env, Files.createTempDirectory("staging"));
    }

    @AfterAll
    static void stopStaging() {
        if (staging != null) {
            staging.close();
        }
    }

    private Environment external(String allowFaults, String appUrl) throws IOException {
        String json = "{\"type\": \"external\", \"app\": {\"url\": \"" + appUrl + "\", \"metricsUrl\": \"" + appUrl
                + "/metrics\"}, \"proxy\": {\"url\": \"" + staging.toxiproxyUrl() + "\", \"proxies\": {\"primary\": \""
                + staging.links().primaryApp() + "\", \"replica\": \"" + staging.links().replicaApp().get(0)
                + "\"}}, \"database\": {\"writerUrl\": \"" + staging.writerJdbcUrl() + "\"}, \"allowFaults\": ["
                + allowFaults + "]}";
        Files.writeString(dir.resolve("staging.json"), json);
        return new EnvironmentLoader(dir, new Properties()).load("staging");
    }

    @Test
    void connectsAndPerformsOnlyGrantedFaults() throws Exception {
        ExternalTopology topology = ExternalTopology.connect(external("\"DbLatency\"", staging.appUrl().toString()));
        assertEquals(staging.appUrl(), topology.appUrl());
        assertTrue(topology.clusterControl().isEmpty(), "no cluster control from outside");
        FaultTimeline timeline = new FaultTimeline(System.nanoTime());
        ChaosContext context = new ChaosContext(topology, timeline, null);

        FaultSchedule granted = new FaultSchedule().at(Duration.ZERO, new DbLatency(LinkTarget.ALL, 5, 0), Duration.ofMillis(200));
        try (ChaosRunner runner = new ChaosRunner(context, granted)) {
            runner.checkAllowed();
            runner.start();
            Thread.sleep(500);
        }
        assertEquals(1, timeline.windows().size());
        assertTrue(timeline.events().stream().noneMatch(e -> e.kind() == FaultTimeline.Kind.ERROR), timeline.events().toString());

        FaultRefusedException notGranted = assertThrows(FaultRefusedException.class, () -> new ChaosRunner(context,
                new FaultSchedule().at(Duration.ZERO, new ProxyDown(LinkTarget.REPLICAS), null)).checkAllowed());
        assertTrue(notGranted.getMessage().contains("does not allow fault ProxyDown"), notGranted.getMessage());
        assertTrue(notGranted.getMessage().contains("allowFaults"), notGranted.getMessage());
    }

    @Test
    void refusesAFailoverItCannotPerformEvenIfGranted() throws Exception {
        ExternalTopology topology = ExternalTopology.connect(external("\"PrimaryFailover\"", staging.appUrl().toString()));
        FaultRefusedException e = assertThrows(FaultRefusedException.class, () -> new ChaosRunner(
                new ChaosContext(topology, new FaultTimeline(System.nanoTime()), null),
                new FaultSchedule().at(Duration.ZERO, new PrimaryFailover(false), null)).checkAllowed());
        assertTrue(e.getMessage().contains("needs control of the PostgreSQL cluster"), e.getMessage());
    }

    @Test
    void anApplicationThatDoesNotAnswerIsNamed() throws Exception {
        Environment env = external("", "http://127.0.0.1:9");
        TopologyException e = assertThrows(TopologyException.class, () -> ExternalTopology.connect(env));
        assertTrue(e.getMessage().contains("http://127.0.0.1:9") && e.getMessage().contains("app.url"), e.getMessage());
    }

    @Test
    void measuresReplicationLagWhenGivenAReplicaUrl() throws Exception {
        String replicaUrl = staging.cluster().orElseThrow().replicas().get(0).jdbcUrl("storefront");
        String json = Files.readString(Path.of("environments", "staging.example.json"))
                .replace("http://127.0.0.1:8080/metrics", staging.appUrl() + "/metrics")
                .replace("http://127.0.0.1:8080", staging.appUrl().toString())
                .replace("http://127.0.0.1:8474", staging.toxiproxyUrl().toString())
                .replace("\"pg-primary\"", "\"" + staging.links().primaryApp() + "\"")
                .replace("\"pg-replica\"", "\"" + staging.links().replicaApp().get(0) + "\"")
                .replace("jdbc:postgresql://127.0.0.1:5432/storefront", staging.writerJdbcUrl())
                .replace("jdbc:postgresql://127.0.0.1:5433/storefront", replicaUrl);
        Files.writeString(dir.resolve("example.json"), json);
        ExternalTopology topology = ExternalTopology.connect(new EnvironmentLoader(dir, new Properties()).load("example"));
        assertTrue(topology.replicationLag().isPresent(), "lag measured from the two JDBC URLs");
    }

    @Test
    void diagnosticsInspectEveryLocalNodeDirectlyAndTheExternalWriter() throws Exception {
        List<DiagnosticTarget> local = staging.diagnosticTargets();
        List<PgNode> nodes = staging.cluster().orElseThrow().nodes();
        assertEquals(List.of("pg1", "pg2"), local.stream().map(DiagnosticTarget::name).toList());
        assertEquals(List.of("primary", "replica"), local.stream().map(DiagnosticTarget::role).toList());
        for (int i = 0; i < nodes.size(); i++) {
            assertTrue(local.get(i).jdbcUrl().startsWith("jdbc:postgresql://127.0.0.1:" + nodes.get(i).port() + "/storefront"),
                    "the node's own port, not its proxy: " + local.get(i).jdbcUrl());
        }
        List<DatabaseSnapshot> snapshots = DatabaseDiagnostics.snapshot(staging);
        assertEquals(2, snapshots.size());
        for (DatabaseSnapshot s : snapshots) {
            assertTrue(s.statements().value() != null, s.node() + ": pg_stat_statements is preloaded and created: "
                    + s.statements().unavailable());
            assertTrue(s.tables().value().stream().anyMatch(t -> t.table().equals("public.products")), s.tables().toString());
        }
        assertTrue(snapshots.get(0).statements().value().stream().anyMatch(q -> q.query().contains("products")),
                "the storefront's seeding is among the primary's statements");

        ExternalTopology external = ExternalTopology.connect(external("", staging.appUrl().toString()));
        List<DiagnosticTarget> targets = external.diagnosticTargets();
        assertEquals(List.of("writer"), targets.stream().map(DiagnosticTarget::name).toList(), "no replica URL given");
        DatabaseSnapshot writer = DatabaseDiagnostics.snapshot(external).get(0);
        assertEquals("primary", writer.role());
        assertTrue(writer.cache().value() != null && writer.replication().value() != null);
    }
}
