package dev.doorbuster.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A run's part in a scaled-out run: parsed strictly, and a shared directory that belongs to one run only. */
class ShardingTest {
    private static final List<String> PROPERTIES = List.of(Sharding.ROLE, Sharding.INDEX, Sharding.COUNT, Sharding.DIR,
            Sharding.START_TIMEOUT, Sharding.RESULTS_TIMEOUT);

    @TempDir
    Path dir;

    @AfterEach
    void clear() {
        PROPERTIES.forEach(System::clearProperty);
    }

    private static Sharding with(Map<String, String> environment, String... properties) {
        for (int i = 0; i < properties.length; i += 2) {
            System.setProperty(properties[i], properties[i + 1]);
        }
        return Sharding.from(environment);
    }

    @Test
    void noShardPropertyIsASoloRunEvenInsideAnIndexedJob() {
        assertEquals(Sharding.Role.SOLO, with(Map.of(Sharding.KUBERNETES_INDEX, "2")).role());
    }

    @Test
    void injectorsAndCoordinatorsAreRecognised() {
        Sharding injector = with(Map.of(), Sharding.INDEX, "2", Sharding.COUNT, "3", Sharding.DIR, dir.toString(),
                Sharding.RESULTS_TIMEOUT, "45s");
        assertEquals(Sharding.Role.INJECTOR, injector.role());
        assertEquals(2, injector.index());
        assertEquals(Duration.ofSeconds(45), injector.resultsTimeout());
        clear();
        Sharding pod = with(Map.of(Sharding.KUBERNETES_INDEX, "1"), Sharding.COUNT, "3", Sharding.DIR, dir.toString(),
                Sharding.ROLE, "injector");
        assertEquals(1, pod.index(), "Kubernetes' completion index");
        clear();
        Sharding coordinator = with(Map.of(), Sharding.ROLE, "coordinator", Sharding.COUNT, "3", Sharding.DIR,
                dir.toString());
        assertTrue(coordinator.isCoordinator());
        assertEquals(Duration.ofMinutes(5), coordinator.startTimeout());
    }

    @Test
    void badValuesAreRefusedNamingTheProperty() {
        String d = dir.toString();
        assertRefused("-Dshard.count is missing", Map.of(), Sharding.INDEX, "0", Sharding.DIR, d);
        assertRefused("-Dshard.index=3 is not a whole number from 0 to 2", Map.of(), Sharding.INDEX, "3",
                Sharding.COUNT, "3", Sharding.DIR, d);
        assertRefused("-Dshard.count=0 is not a whole number from 1 to 1000", Map.of(), Sharding.INDEX, "0",
                Sharding.COUNT, "0", Sharding.DIR, d);
        assertRefused("-Dshard.count=three is not a whole number", Map.of(), Sharding.ROLE, "coordinator",
                Sharding.COUNT, "three", Sharding.DIR, d);
        assertRefused("-Dshard.role=boss must be coordinator or injector", Map.of(), Sharding.ROLE, "boss",
                Sharding.COUNT, "3", Sharding.DIR, d);
        assertRefused("-Dshard.dir is missing", Map.of(), Sharding.ROLE, "coordinator", Sharding.COUNT, "3");
        assertRefused("JOB_COMPLETION_INDEX=5 is not a shard index of -Dshard.count=3",
                Map.of(Sharding.KUBERNETES_INDEX, "5"), Sharding.ROLE, "injector", Sharding.COUNT, "3", Sharding.DIR, d);
        assertRefused("-Dshard.index=1 is for injectors", Map.of(), Sharding.ROLE, "coordinator", Sharding.INDEX, "1",
                Sharding.COUNT, "3", Sharding.DIR, d);
        assertRefused("are set but not the role", Map.of(), Sharding.COUNT, "3", Sharding.DIR, d);
        assertRefused("-Dshard.resultsTimeout=", Map.of(), Sharding.ROLE, "coordinator", Sharding.COUNT, "3",
                Sharding.DIR, d, Sharding.RESULTS_TIMEOUT, "soon");
        assertRefused("cannot be created", Map.of(), Sharding.ROLE, "coordinator", Sharding.COUNT, "3", Sharding.DIR,
                "/proc/doorbuster-shards");
    }

    private void assertRefused(String message, Map<String, String> environment, String... properties) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> with(environment, properties));
        assertTrue(e.getMessage().contains(message), e.getMessage());
        clear();
    }

    /** The barrier: injectors join the announced run, the start is common, a stale or foreign run is refused. */
    @Test
    void theSharedDirectoryBelongsToOneRun() throws Exception {
        URI app = URI.create("http://127.0.0.1:9/");
        ShardDirectory coordinator = ShardDirectory.announce(dir, "BlackFridaySimulation", 2, app);
        IllegalStateException second = assertThrows(IllegalStateException.class,
                () -> ShardDirectory.announce(dir, "BlackFridaySimulation", 2, app));
        assertTrue(second.getMessage().contains("already has a coordinator"), second.getMessage());

        IllegalStateException other = assertThrows(IllegalStateException.class,
                () -> ShardDirectory.join(dir, "SoakSimulation", 0, 2, Duration.ofSeconds(1)));
        assertTrue(other.getMessage().contains("runs BlackFridaySimulation, not SoakSimulation"), other.getMessage());
        IllegalStateException count = assertThrows(IllegalStateException.class,
                () -> ShardDirectory.join(dir, "BlackFridaySimulation", 0, 3, Duration.ofSeconds(1)));
        assertTrue(count.getMessage().contains("expects 2 shards"), count.getMessage());

        ShardDirectory.Joined zero = ShardDirectory.join(dir, "BlackFridaySimulation", 0, 2, Duration.ofSeconds(1));
        assertEquals(app, zero.appUrl());
        assertEquals(coordinator.run(), zero.directory().run());
        IllegalStateException twice = assertThrows(IllegalStateException.class,
                () -> ShardDirectory.join(dir, "BlackFridaySimulation", 0, 2, Duration.ofSeconds(1)));
        assertTrue(twice.getMessage().contains("shard 0 of run " + coordinator.run() + " already joined"),
                twice.getMessage());
        assertEquals(List.of(1), coordinator.awaitReady(2, Duration.ofMillis(300)), "shard 1 is not ready");
        ShardDirectory.join(dir, "BlackFridaySimulation", 1, 2, Duration.ofSeconds(1));
        assertEquals(List.of(), coordinator.awaitReady(2, Duration.ofSeconds(1)));

        long start = coordinator.announceStart();
        assertEquals(start, zero.directory().awaitStart(Duration.ofSeconds(1)), "the injector sees the common start");
        assertTrue(start - System.currentTimeMillis() > 500, "announced ahead of time");

        zero.directory().heartbeat(0, 7);
        assertEquals(java.util.Optional.of(7), coordinator.lastHeartbeat(0));
        zero.directory().done(new dev.doorbuster.verdict.shard.ShardReport.Shard(0, 10, 1, 3, 2, null));
        Map<Integer, dev.doorbuster.verdict.shard.ShardReport.Shard> done = coordinator.awaitDone(List.of(0, 1),
                Duration.ofMillis(500));
        assertEquals(List.of(0), List.copyOf(done.keySet()), "shard 1 never delivered");

        coordinator.coordinatorHeartbeat();
        assertEquals(java.util.Optional.empty(), zero.directory().coordinatorGone(Duration.ofSeconds(30)));
        Thread.sleep(30);
        assertTrue(zero.directory().coordinatorGone(Duration.ofMillis(10)).orElseThrow()
                .contains("has not been heard from"), "a silent coordinator is taken for gone");
        coordinator.finish(true);
        assertTrue(zero.directory().coordinatorGone(Duration.ofSeconds(30)).orElseThrow().contains("ended the run"),
                "an injector stops once the coordinator ended the run");
        IllegalStateException stale = assertThrows(IllegalStateException.class,
                () -> ShardDirectory.join(dir, "BlackFridaySimulation", 1, 2, Duration.ofSeconds(1)));
        assertTrue(stale.getMessage().contains("holds the results of a finished run"), stale.getMessage());
    }

    @Test
    void anInjectorWithoutACoordinatorGivesUpSayingHowToFixIt(@TempDir Path empty) {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> ShardDirectory.join(empty, "BlackFridaySimulation", 0, 2, Duration.ofMillis(400)));
        assertTrue(e.getMessage().contains("no coordinator announced a run in " + empty) && e.getMessage()
                .contains("-Dshard.role=coordinator"), e.getMessage());
    }

    @Test
    void anInjectorThatCannotReachTheApplicationSaysWhyBeforeItStarts() throws Exception {
        int closedPort;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        Sharding shard = new Sharding(Sharding.Role.INJECTOR, 1, 3, dir, Duration.ofSeconds(1), Duration.ofSeconds(1));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> InjectorRole.checkReachable(URI.create("http://127.0.0.1:" + closedPort + "/"), shard));
        assertTrue(e.getMessage().startsWith("injector shard 1 of 3 cannot reach the application the coordinator "
                + "announced (http://127.0.0.1:" + closedPort + "/)") && e.getMessage().contains("external environment"),
                e.getMessage());
    }

    @Test
    void aShardGetsItsShareOfEveryRate() {
        LoadProfile profile = new LoadProfile().hold("baseline", 3, Duration.ofSeconds(10))
                .rampTo("spike", 30, Duration.ofSeconds(10));
        LoadProfile third = profile.scaled(1.0 / 3);
        assertEquals(List.of(1.0, 1.0, 1.0, 10.0), third.steps().stream()
                .flatMap(s -> java.util.stream.Stream.of(s.fromRate(), s.toRate())).toList());
        assertEquals(profile.phases(), third.phases(), "the same phases, at the same seconds");
        assertThrows(IllegalArgumentException.class, () -> profile.scaled(0));
    }
}
