package dev.doorbuster.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.doorbuster.process.ProcessRegistry;
import dev.doorbuster.verdict.report.ChaosReport;
import dev.doorbuster.verdict.CheckResult;
import dev.doorbuster.verdict.GeneratorHealth;
import dev.doorbuster.verdict.recording.Recording;
import dev.doorbuster.verdict.recording.RequestLog;
import dev.doorbuster.verdict.shard.ShardReport;
import dev.doorbuster.verdict.consistency.WriteLedger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * A scaled-out run as real processes on this machine: one coordinator (topology, faults, audit, verdict) and
 * injector shards (each a forked Gatling with 1/N of the load), meeting in a shared directory. The oracles are
 * the shards' own files (their counts, every request's latency, their clients' histories) and the load profile,
 * never the coordinator's merge.
 */
@Execution(ExecutionMode.CONCURRENT)
class ShardedRunIT {
    @TempDir
    Path work;
    private Path home;

    @BeforeEach
    void ownHome() throws IOException {
        home = Files.createTempDirectory(Path.of("/var/tmp"), "doorbuster-shards-");
        Files.setPosixFilePermissions(home, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @AfterEach
    void nothingIsLeftRunning() throws IOException {
        List<Long> left = ControlRuns.leftovers(home.toString());
        ControlRuns.deleteTree(home);
        assertEquals(List.of(), left, "processes of the run still alive: " + left.stream()
                .map(pid -> pid + " " + String.join(" ", ProcessRegistry.commandLine(pid))).toList());
    }

    /**
     * Three injectors and a coordinator, asynchronous replication, the replication link cut and then the primary
     * killed: one verdict whose counts and percentiles are those of the union of the shards' requests, at the
     * profile's arrival rate, with every shard's lost writes found.
     */
    @Test
    @Tag(ControlRuns.TIMED)
    void threeInjectorsAndACoordinatorGiveOneExactVerdict() throws Exception {
        int shards = 3;
        double rate = 8; // LostWritesSimulation's arrival rate (users/s) at load.scale 1
        double minutes = 0.5;
        Path shared = work.resolve("shared");
        Map<String, String> common = Map.of("shard.count", String.valueOf(shards), "shard.dir", shared.toString(),
                "postgres.synchronousCommit", "off", "load.minutes", String.valueOf(minutes),
                "recording.requests", "true", "shard.resultsTimeout", "60s");
        Path coordinatorReports = work.resolve("coordinator");
        ForkedGatling.Running coordinator = ForkedGatling.start("LostWritesSimulation", coordinatorReports, home,
                with(common, "shard.role", "coordinator"));
        List<ForkedGatling.Running> injectors = new ArrayList<>();
        for (int i = 0; i < shards; i++) {
            injectors.add(ForkedGatling.start("LostWritesSimulation", work.resolve("injector-" + i), home,
                    with(common, "shard.index", String.valueOf(i))));
        }
        List<ForkedGatling.Result> injected = new ArrayList<>();
        for (ForkedGatling.Running injector : injectors) {
            injected.add(injector.await(Duration.ofMinutes(5)));
        }
        ForkedGatling.Result run = coordinator.await(Duration.ofMinutes(5));
        for (int i = 0; i < shards; i++) {
            ForkedGatling.Result r = injected.get(i);
            assertEquals(0, r.exitCode(), "injector " + i + " delivers and exits 0\n" + tail(r));
            assertTrue(r.output().contains("shard " + i + " delivered"), tail(r));
        }
        assertNotNull(run.verdict(), "the coordinator wrote the verdict\n" + ControlRuns.tail(run));
        assertEquals(2, run.exitCode(), "the lost writes fail the run\n" + ControlRuns.tail(run));
        CheckResult delivered = run.check("shards delivered").orElseThrow();
        assertTrue(delivered.pass(), delivered.line());
        ShardReport report = run.verdict().shards();
        assertEquals(shards, report.shards().size(), report.toString());

        // Counts: the merged verdict's requests are the sum of what each shard counted.
        long sum = 0;
        List<Long> latencies = new ArrayList<>();
        for (int i = 0; i < shards; i++) {
            Path own = shared.resolve("shard-" + i);
            long counted = countsCsvTotal(own.resolve(Recording.COUNTS));
            List<Long> raw = requestLatencies(own.resolve(RequestLog.FILE));
            assertEquals(counted, raw.size(), "shard " + i + ": every counted request is in its raw log");
            assertTrue(counted > 50, "shard " + i + " made requests: " + counted);
            sum += counted;
            latencies.addAll(raw);
        }
        assertEquals(sum, run.verdict().requests(), "merged count = sum of the shards' counts");
        assertEquals(sum, report.requests());

        // Percentiles: those of the union of every recorded latency (nearest rank: the smallest value with at least
        // p% of the values at or below it), to HdrHistogram's precision (3 significant digits).
        latencies.sort(Long::compare);
        for (double p : new double[] {50, 99}) {
            long rank = Math.max(1, (long) Math.ceil(p / 100 * latencies.size() - 1e-9));
            long exact = latencies.get((int) rank - 1);
            long merged = p == 50 ? report.p50Micros() : report.p99Micros();
            assertTrue(merged >= exact && merged <= exact + exact / 1000 + 1, "p" + (int) p + ": merged " + merged
                    + " µs, exact over the union of " + latencies.size() + " latencies " + exact + " µs");
        }
        CheckResult p99 = run.check("p99").orElseThrow();
        assertEquals(report.p99Micros() / 1000.0, p99.actual(), 0.5, "the p99 check (whole ms) is judged on the merged data");

        // Arrival rate: the shards together started the profile's users, within 10%.
        long users = report.shards().stream().mapToLong(ShardReport.Shard::users).sum();
        double expected = rate * minutes * 60;
        assertTrue(Math.abs(users - expected) <= 0.1 * expected, users + " users started, the profile makes "
                + expected);
        for (ShardReport.Shard s : report.shards()) {
            assertTrue(Math.abs(s.users() - expected / shards) <= 0.15 * expected / shards,
                    "each shard injects 1/" + shards + " of the profile: " + s);
        }
        // The generators' health is every shard's, merged: the users each shard's own counter saw start, and the
        // profile's arrivals planned (the same oracle as above, rate x length).
        GeneratorHealth generator = run.verdict().generator();
        assertNotNull(generator, "the shards' generator health reaches the coordinator's verdict");
        assertEquals(users, generator.started(), "merged started = the shards' started users: " + generator);
        assertTrue(Math.abs(generator.planned() - expected) <= 0.1 * expected, generator.planned() + " planned");
        assertEquals(generator.planned(), generator.seconds().stream().mapToLong(GeneratorHealth.Second::planned).sum(),
                "every planned arrival is in a second");
        assertTrue(run.check(GeneratorHealth.CHECK).isPresent(), "the coordinator judges its injectors' generators");

        // Lost writes: the schedule makes each shard's orders acknowledged between the cut and the kill certain to
        // be lost (oracle: that shard's own client history and the coordinator's fault timeline).
        double cutAt = ControlRuns.inPlaceAt(run, "ReplicationCut");
        double killAt = ControlRuns.injectedAt(run, "PrimaryFailover");
        Set<String> lost = new java.util.HashSet<>();
        Map<Integer, Long> lostPerShard = new HashMap<>();
        for (WriteLedger.KindAudit k : run.verdict().writes().kinds()) {
            for (WriteLedger.Named n : k.lostWrites()) {
                lost.add(n.key());
                lostPerShard.merge((int) (n.session() / 1_000_000_000_000L) - 1, 1L, Long::sum);
            }
        }
        for (int i = 0; i < shards; i++) {
            Map<String, Double> acked = ControlRuns.acknowledged(shared.resolve("shard-" + i)
                    .resolve(Run.HISTORY_FILE), "order:");
            Set<String> certain = ControlRuns.keysAcknowledgedBetween(acked, cutAt + 0.2, killAt);
            Set<String> before = ControlRuns.keysAcknowledgedBetween(acked, 0, cutAt - 0.5);
            assertTrue(certain.size() >= 2, "shard " + i + " had orders acknowledged between cut and kill: " + certain);
            long found = certain.stream().filter(lost::contains).count();
            Map<String, Double> missed = new java.util.TreeMap<>();
            certain.stream().filter(key -> !lost.contains(key)).forEach(key -> missed.put(key, acked.get(key)));
            assertTrue(found >= Math.ceil(0.9 * certain.size()), "shard " + i + ": " + found + " of the "
                    + certain.size() + " orders the schedule makes certain to be lost were reported lost; cut in place at "
                    + cutAt + " s, kill at " + killAt + " s; not reported: " + missed + "\n" + run.verdict().timeline());
            assertTrue(before.stream().noneMatch(lost::contains), "shard " + i + ": nothing acknowledged before the "
                    + "cut is lost");
            assertTrue(lostPerShard.getOrDefault(i, 0L) > 0, "the audit covers shard " + i + "'s writes: " + lostPerShard);
        }
        CheckResult lostCheck = run.check("lost acknowledged writes").orElseThrow();
        assertFalse(lostCheck.pass(), lostCheck.line());
        assertTrue(Files.isRegularFile(shared.resolve(ShardDirectory.FINISHED)), "the run directory is marked finished");
        String html = Files.readString(ControlRuns.reportFile(coordinatorReports, ChaosReport.FILE));
        assertTrue(html.contains("Injector shards") && html.contains(shards + " of " + shards + " shards delivered"),
                "the report says what the shards delivered");
        assertTrue(run.output().contains(shards + " of " + shards + " injector shards merged"), "and so does the console");
    }

    /** An injector SIGKILLed mid-run never delivers: the coordinator fails the run after the deadline, naming it. */
    @Test
    void aShardThatDiesMidRunFailsTheRunNamingIt() throws Exception {
        Path shared = work.resolve("shared");
        Map<String, String> common = Map.of("shard.count", "2", "shard.dir", shared.toString(), "faults", "false",
                "shard.resultsTimeout", "8s", "load.minutes", "0.25");
        ForkedGatling.Running coordinator = ForkedGatling.start("BlackFridaySimulation", work.resolve("coordinator"),
                home, with(common, "shard.role", "coordinator"));
        ForkedGatling.Running survivor = ForkedGatling.start("BlackFridaySimulation", work.resolve("injector-0"), home,
                with(common, "shard.index", "0"));
        ForkedGatling.Running victim = ForkedGatling.start("BlackFridaySimulation", work.resolve("injector-1"), home,
                with(common, "shard.index", "1"));
        Path heartbeat = shared.resolve("shard-1").resolve(ShardDirectory.HEARTBEAT);
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (System.nanoTime() < deadline && !heartbeatAtLeast(heartbeat, 4)) {
            Thread.sleep(200);
        }
        assertTrue(heartbeatAtLeast(heartbeat, 4), "shard 1 got into its load");
        victim.kill();
        long killedAt = System.nanoTime();
        ForkedGatling.Result run = coordinator.await(Duration.ofMinutes(4));
        ForkedGatling.Result other = survivor.await(Duration.ofMinutes(2));
        assertEquals(0, other.exitCode(), tail(other));
        assertNotNull(run.verdict(), ControlRuns.tail(run));
        assertEquals(2, run.exitCode(), ControlRuns.tail(run));
        CheckResult delivered = run.check("shards delivered").orElseThrow();
        assertFalse(delivered.pass(), delivered.line());
        assertTrue(delivered.line().contains("shard 1: no recording within 8 s of the load's end (last heard from at "
                + "run second"), delivered.line());
        assertFalse(delivered.line().contains("shard 0:"), "the survivor is not blamed: " + delivered.line());
        assertFalse(run.verdict().wasComplete(), "the verdict says it is incomplete");
        assertTrue(run.verdict().incompleteReason().contains("shard(s) 1"), run.verdict().incompleteReason());
        assertEquals(1, run.verdict().shards().shards().size(), "the survivor's recording is merged");
        assertTrue(run.verdict().requests() > 0);
        assertTrue(run.output().contains("FAIL shards delivered"), "the reason is printed");
        assertTrue(System.nanoTime() - killedAt >= Duration.ofSeconds(8).toNanos(), "it waited for the deadline");
    }

    private static boolean heartbeatAtLeast(Path file, int second) {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().readTree(file.toFile()).path("second").asInt()
                    >= second;
        } catch (IOException e) {
            return false;
        }
    }

    private static Map<String, String> with(Map<String, String> common, String key, String value) {
        Map<String, String> all = new HashMap<>(common);
        all.put(key, value);
        return all;
    }

    /** The shard's own count of requests: the sum of ok and ko over counts.csv ({@code second,"request",ok,ko}). */
    private static long countsCsvTotal(Path file) throws IOException {
        long total = 0;
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (String line : lines.subList(1, lines.size())) {
            String[] tail = line.substring(line.lastIndexOf('"') + 2).split(",");
            total += Long.parseLong(tail[0]) + Long.parseLong(tail[1]);
        }
        return total;
    }

    /** Every request's latency in µs, from requests.csv ({@code second,"request",micros,ok}). */
    private static List<Long> requestLatencies(Path file) throws IOException {
        List<Long> latencies = new ArrayList<>();
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (String line : lines.subList(1, lines.size())) {
            String[] tail = line.substring(line.lastIndexOf('"') + 2).split(",");
            latencies.add(Long.parseLong(tail[0]));
        }
        return latencies;
    }

    private static String tail(ForkedGatling.Result r) {
        List<String> lines = r.output().lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    }
}
