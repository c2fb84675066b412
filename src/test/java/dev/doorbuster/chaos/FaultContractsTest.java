package dev.doorbuster.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doorbuster.postgres.Lag;
import dev.doorbuster.topology.ClusterControl;
import dev.doorbuster.topology.DatabaseLinks;
import dev.doorbuster.topology.Environment;
import dev.doorbuster.topology.EnvironmentException;
import dev.doorbuster.topology.EnvironmentLoader;
import dev.doorbuster.topology.Topology;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The contracts between faults, the environment and the verdict, without a database: typed effects, needs, names. */
class FaultContractsTest {
    @TempDir
    Path dir;

    // ---- typed effects -------------------------------------------------------------------------------------

    @Test
    void anRtoIsStoredUnderTheNamesVerdictJsonHasAlwaysUsedAndReadBack() {
        FaultEffect.Rto recovered = new FaultEffect.Rto(Duration.ofMillis(316), true);
        assertEquals(Map.of("rtoMs", 316.0), recovered.values());
        assertEquals(Optional.of(recovered), FaultEffect.of(recovered.values()));

        FaultEffect.Rto gaveUp = new FaultEffect.Rto(Duration.ofSeconds(60), false);
        assertEquals(Map.of("rtoMs", 60_000.0, "rtoUnrecovered", 1.0), gaveUp.values());
        assertEquals(Optional.of(gaveUp), FaultEffect.of(gaveUp.values()));
        assertThrows(IllegalArgumentException.class, () -> new FaultEffect.Rto(Duration.ofMillis(-1), true));
    }

    @Test
    void aLagReachedIsStoredInBytesAndMillisecondsAndReadBack() {
        FaultEffect.LagReached lag = new FaultEffect.LagReached(123_456, Duration.ofMillis(870));
        assertEquals(Map.of("maxLagBytes", 123_456.0, "maxLagMs", 870.0), lag.values());
        assertEquals(870, lag.millis());
        assertEquals(Optional.of(lag), FaultEffect.of(lag.values()));
        assertThrows(IllegalArgumentException.class, () -> new FaultEffect.LagReached(-1, Duration.ZERO));
    }

    @Test
    void anEventThatMeasuredNothingHasNoEffect() {
        assertEquals(Optional.empty(), FaultEffect.of(Map.of()));
        assertEquals(Optional.empty(), FaultEffect.of(null));
        assertEquals(Optional.empty(), FaultEffect.of(Map.of("somethingElse", 1.0)));
    }

    @Test
    void theTimelineHandsEffectsBackByType() {
        FaultTimeline timeline = new FaultTimeline(System.nanoTime());
        ChaosContext first = new ChaosContext(new StubTopology(environment("[]", true), null, links(List.of()), false),
                timeline, null).forFault("F1 PrimaryFailover");
        first.effect("pg2 promoted");
        first.effect("client-observed RTO 400 ms", new FaultEffect.Rto(Duration.ofMillis(400), true));
        timeline.add("F2 ReplicationLag", FaultTimeline.Kind.EFFECT, "lag reached",
                new FaultEffect.LagReached(10, Duration.ofMillis(5)));
        timeline.add("F3 PrimaryFailover", FaultTimeline.Kind.EFFECT, "no write acknowledged",
                new FaultEffect.Rto(Duration.ofSeconds(60), false));

        assertEquals(List.of(new FaultEffect.Rto(Duration.ofMillis(400), true), new FaultEffect.Rto(Duration.ofSeconds(60),
                false)), timeline.effects(FaultEffect.Rto.class));
        assertFalse(timeline.last(FaultEffect.Rto.class).orElseThrow().recovered());
        assertEquals(10, timeline.last(FaultEffect.LagReached.class).orElseThrow().bytes());
        List<FaultTimeline.Event> events = timeline.events();
        assertEquals("F1 PrimaryFailover", events.get(0).fault());
        assertEquals(Optional.empty(), events.get(0).effect(), "a promotion note measures nothing");
        assertTrue(events.get(1).effect().orElseThrow() instanceof FaultEffect.Rto);
    }

    @Test
    void verdictJsonKeepsItsShapeAndReadsBackTyped() throws IOException {
        ObjectMapper json = new ObjectMapper();
        FaultTimeline timeline = new FaultTimeline(System.nanoTime());
        timeline.add("F1 PrimaryFailover", FaultTimeline.Kind.EFFECT, "gave up", new FaultEffect.Rto(Duration.ofSeconds(60), false));
        String text = json.writeValueAsString(timeline.events());
        JsonNode event = json.readTree(text).get(0);
        assertEquals(List.of("atMillis", "fault", "kind", "message", "values"), fieldNames(event), text);
        assertEquals(60_000.0, event.get("values").get("rtoMs").asDouble());
        assertEquals(1.0, event.get("values").get("rtoUnrecovered").asDouble());

        List<FaultTimeline.Event> back = json.readValue(text, new TypeReference<List<FaultTimeline.Event>>() { });
        assertEquals(Optional.of(new FaultEffect.Rto(Duration.ofSeconds(60), false)), back.get(0).effect());
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new java.util.ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    // ---- what a fault needs ---------------------------------------------------------------------------------

    @Test
    void everyFaultSaysWhatItNeedsAndNamesItsKind() {
        Map<Fault, EnumSet<Fault.Need>> expected = new LinkedHashMap<>();
        expected.put(ReplicationLag.lagMs(100), EnumSet.of(Fault.Need.PROXY, Fault.Need.REPLICATION_LINK));
        expected.put(new ReplicationCut(), EnumSet.of(Fault.Need.PROXY, Fault.Need.REPLICATION_LINK));
        expected.put(new PrimaryFailover(false), EnumSet.of(Fault.Need.PROXY, Fault.Need.CLUSTER_CONTROL));
        expected.put(new DbLatency(LinkTarget.ALL, 5, 0), EnumSet.of(Fault.Need.PROXY));
        expected.put(new ConnectionReset(LinkTarget.ALL), EnumSet.of(Fault.Need.PROXY));
        expected.put(new ProxyDown(LinkTarget.ALL), EnumSet.of(Fault.Need.PROXY));
        expected.put(new CacheDown(), EnumSet.of(Fault.Need.PROXY, Fault.Need.CACHE));
        expected.put(new CacheBlackhole(), EnumSet.of(Fault.Need.PROXY, Fault.Need.CACHE));
        expected.put(CacheLatency.ofMs(50), EnumSet.of(Fault.Need.PROXY, Fault.Need.CACHE));
        expected.put(new CacheFlush(), EnumSet.of(Fault.Need.CACHE));
        expected.put(HotKeyExpiry.ofProducts(List.of(1L, 2L)), EnumSet.of(Fault.Need.CACHE));
        expected.put(new PoolerPause(), EnumSet.of(Fault.Need.POOLER));
        expected.put(new PoolerRestart(), EnumSet.of(Fault.Need.POOLER));
        expected.put(ScaleOut.instances(2), EnumSet.of(Fault.Need.FLEET));
        expected.forEach((fault, needs) -> assertEquals(needs, fault.needs(), fault.name()));
        assertEquals(EnumSet.of(Fault.Need.PROXY, Fault.Need.CLUSTER_CONTROL, Fault.Need.POOLER),
                PrimaryFailover.managed(true).needs(), "the managed failover pauses the writers at the pooler");
        assertEquals(FaultKind.PRIMARY_FAILOVER, PrimaryFailover.managed(true).kind(), "still a primary failover");
        assertEquals(FaultKind.labels(), expected.keySet().stream().map(Fault::name).toList(),
                "one fault class per kind, each named as allowFaults names it");
        assertEquals(Optional.of(FaultKind.PRIMARY_FAILOVER), FaultKind.named("PrimaryFailover"));
        assertEquals(Optional.empty(), FaultKind.named("primaryfailover"));
    }

    @Test
    void aFaultNeedingClusterControlIsRefusedOnAnExternalEnvironment() {
        Topology external = new StubTopology(environment("[\"PrimaryFailover\"]", true),
                URI.create("http://127.0.0.1:8474"), links(List.of("replication")), false);
        FaultRefusedException e = assertThrows(FaultRefusedException.class, () -> runner(external,
                new PrimaryFailover(false)).checkAllowed());
        assertTrue(e.getMessage().contains("PrimaryFailover needs control of the PostgreSQL cluster"), e.getMessage());
        assertTrue(e.getMessage().contains("it is external"), e.getMessage());
    }

    @Test
    void aFaultOnTheReplicationStreamIsRefusedWithoutAReplicationLink() {
        Topology noLink = new StubTopology(environment("[\"ReplicationLag\", \"ReplicationCut\"]", true),
                URI.create("http://127.0.0.1:8474"), links(List.of()), false);
        for (Fault fault : List.of(ReplicationLag.lagMs(100), new ReplicationCut())) {
            FaultRefusedException e = assertThrows(FaultRefusedException.class, () -> runner(noLink, fault).checkAllowed());
            assertTrue(e.getMessage().startsWith(fault.name() + ": "), e.getMessage());
            assertTrue(e.getMessage().contains("proxy.proxies.replication"), e.getMessage());
        }
    }

    @Test
    void aNetworkFaultIsRefusedWithoutAChaosProxy() {
        Topology noProxy = new StubTopology(environment("[]", false), null, links(List.of("replication")), true);
        FaultRefusedException e = assertThrows(FaultRefusedException.class, () -> runner(noProxy,
                new DbLatency(LinkTarget.PRIMARY, 5, 0)).checkAllowed());
        assertTrue(e.getMessage().contains("has no chaos proxy (proxy.url)"), e.getMessage());
    }

    @Test
    void whatTheEnvironmentGivesAndGrantsPasses() {
        Topology local = new StubTopology(environment("[]", false), URI.create("http://127.0.0.1:8474"),
                links(List.of("replication")), true);
        for (Fault fault : List.of(ReplicationLag.lagMs(100), new ReplicationCut(), new PrimaryFailover(true),
                new DbLatency(LinkTarget.ALL, 5, 0), new ConnectionReset(LinkTarget.ALL), new ProxyDown(LinkTarget.ALL))) {
            runner(local, fault).checkAllowed();
        }
    }

    @Test
    void aCacheFaultWithoutACacheTierIsRefusedNamingTheFieldThatTurnsItOn() {
        Topology local = new StubTopology(environment("[]", false), URI.create("http://127.0.0.1:8474"),
                links(List.of("replication")), true);
        for (Fault fault : List.of(new CacheDown(), new CacheBlackhole(), CacheLatency.ofMs(50), new CacheFlush(),
                HotKeyExpiry.ofProducts(List.of(1L)))) {
            FaultRefusedException e = assertThrows(FaultRefusedException.class, () -> runner(local, fault).checkAllowed(),
                    fault.name());
            assertTrue(e.getMessage().contains("app.cache"), e.getMessage());
        }
    }

    @Test
    void aPoolerFaultWithoutAPoolerTierIsRefusedNamingTheFieldThatTurnsItOn() {
        Topology local = new StubTopology(environment("[]", false), URI.create("http://127.0.0.1:8474"),
                links(List.of("replication")), true);
        for (Fault fault : List.of(new PoolerPause(), new PoolerRestart(), PrimaryFailover.managed(false))) {
            FaultRefusedException e = assertThrows(FaultRefusedException.class, () -> runner(local, fault).checkAllowed(),
                    fault.name());
            assertTrue(e.getMessage().startsWith(fault.name() + " acts on the pooler tier, which environment "),
                    e.getMessage());
            assertTrue(e.getMessage().contains("(or -Dpostgres.pooler=pgbouncer). "), e.getMessage());
            assertTrue(e.getMessage().endsWith(ChaosRunner.WITHOUT_IT), "and how to run without it: " + e.getMessage());
        }
    }

    @Test
    void aScaleOutWithoutAFleetIsRefusedNamingTheFieldThatStartsOne() {
        Topology local = new StubTopology(environment("[]", false), URI.create("http://127.0.0.1:8474"),
                links(List.of("replication")), true);
        FaultRefusedException e = assertThrows(FaultRefusedException.class,
                () -> runner(local, ScaleOut.instances(2)).checkAllowed());
        assertTrue(e.getMessage().startsWith("ScaleOut grows the fleet of the service's instances, which environment "),
                e.getMessage());
        assertTrue(e.getMessage().contains("(or -Dapp.instances=2; local environments only). "), e.getMessage());
        assertTrue(e.getMessage().endsWith(ChaosRunner.WITHOUT_IT), "and how to run without it: " + e.getMessage());
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> ScaleOut.instances(0));
        assertTrue(none.getMessage().contains("at least 1 instance"), none.getMessage());
    }

    @Test
    void aFaultNotGrantedIsRefusedBeforeItsNeedsAreLookedAt() {
        Topology external = new StubTopology(environment("[\"DbLatency\"]", true), URI.create("http://127.0.0.1:8474"),
                links(List.of()), false);
        FaultRefusedException e = assertThrows(FaultRefusedException.class, () -> runner(external,
                new ReplicationCut()).checkAllowed());
        assertTrue(e.getMessage().contains("does not allow fault ReplicationCut"), e.getMessage());
        assertTrue(e.getMessage().endsWith(ChaosRunner.WITHOUT_IT), "and how to run without it: " + e.getMessage());
    }

    // ---- fault names ------------------------------------------------------------------------------------------

    @Test
    void anUnknownFaultNameInAllowFaultsIsRefusedNamingFileFieldAndNames() {
        Environment env = environment("[\"DbLatency\", \"Meteor\"]", true);
        EnvironmentException e = assertThrows(EnvironmentException.class, () -> FaultKind.checkAllowFaults(env));
        assertTrue(e.getMessage().startsWith(env.source() + ": field 'allowFaults[1]' is 'Meteor'; expected one of "
                + "ReplicationLag, ReplicationCut, PrimaryFailover, DbLatency, ConnectionReset, ProxyDown, CacheDown, "
                + "CacheBlackhole, CacheLatency, CacheFlush, HotKeyExpiry"), e.getMessage());
        Topology topology = new StubTopology(env, URI.create("http://127.0.0.1:8474"), links(List.of()), false);
        assertThrows(EnvironmentException.class, () -> runner(topology, new DbLatency(LinkTarget.ALL, 5, 0)).checkAllowed(),
                "the runner checks the names too");
        FaultKind.checkAllowFaults(environment("[\"DbLatency\", \"ProxyDown\"]", true));
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    private static ChaosRunner runner(Topology topology, Fault fault) {
        return new ChaosRunner(new ChaosContext(topology, new FaultTimeline(System.nanoTime()), null),
                new FaultSchedule().at(Duration.ZERO, fault, null));
    }

    private static DatabaseLinks links(List<String> replication) {
        return new DatabaseLinks("primary", List.of("replica"), replication);
    }

    /** An environment file as a user would write it: external (with a proxy) or local. */
    private Environment environment(String allowFaults, boolean external) {
        try {
            String json = external
                    ? "{\"type\": \"external\", \"app\": {\"url\": \"http://127.0.0.1:8080\"}, \"database\": {\"writerUrl\": "
                            + "\"jdbc:postgresql://127.0.0.1:5432/shop\"}, \"proxy\": {\"url\": \"http://127.0.0.1:8474\"}, "
                            + "\"allowFaults\": " + allowFaults + "}"
                    : "{\"type\": \"local\", \"allowFaults\": " + allowFaults + "}";
            Files.writeString(dir.resolve("contract.json"), json);
            return new EnvironmentLoader(dir, new Properties()).load("contract");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A topology that starts nothing: only what the checks look at. */
    private record StubTopology(Environment environment, URI toxiproxyUrl, DatabaseLinks links, boolean ownsCluster)
            implements Topology {
        @Override
        public URI appUrl() {
            return URI.create("http://127.0.0.1:9");
        }

        @Override
        public URI appMetricsUrl() {
            return null;
        }

        @Override
        public Optional<ClusterControl> clusterControl() {
            return ownsCluster ? Optional.of((ClusterControl) java.lang.reflect.Proxy.newProxyInstance(
                    ClusterControl.class.getClassLoader(), new Class<?>[] {ClusterControl.class}, (p, m, a) -> {
                        throw new UnsupportedOperationException(m.getName());
                    })) : Optional.empty();
        }

        @Override
        public String writerJdbcUrl() {
            return null;
        }

        @Override
        public String dbUser() {
            return null;
        }

        @Override
        public String dbPassword() {
            return null;
        }

        @Override
        public Optional<Lag> replicationLag() {
            return Optional.empty();
        }

        @Override
        public boolean allows(String faultName) {
            return environment.ownsDatabase() || environment.allowFaults().contains(faultName);
        }

        @Override
        public void close() {
        }
    }
}
