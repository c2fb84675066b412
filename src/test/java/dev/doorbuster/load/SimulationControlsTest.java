package dev.doorbuster.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import dev.doorbuster.process.ProcessRegistry;
import dev.doorbuster.verdict.CheckResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Known-bad and known-good controls, each a short real simulation on the real local topology (forked
 * Gatling, PostgreSQL primary + replica, chaos proxy, storefront JVM). The harness is only worth
 * something if it tells them apart.
 */
class SimulationControlsTest {
    @TempDir
    Path reports;
    private Path home;

    @BeforeEach
    void ownHome() throws IOException {
        // Under /var/tmp, not the 0700 temp folder: PostgreSQL may run as another user and must reach it.
        home = Files.createTempDirectory(Path.of("/var/tmp"), "doorbuster-controls-");
        Files.setPosixFilePermissions(home, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @AfterEach
    void nothingIsLeftRunning() throws IOException {
        List<Long> left = leftovers(home.toString());
        deleteTree(home);
        assertEquals(List.of(), left, "processes of the run still alive: " + left.stream()
                .map(pid -> pid + " " + String.join(" ", ProcessRegistry.commandLine(pid))).toList());
    }

    @Test
    void naiveReplicaReadsUnderReplicationLagFailOnReadAfterWrite() throws Exception {
        ForkedGatling.Result run = ForkedGatling.run("ReplicationLagSimulation", reports, home, Map.of(
                "app.routing", "replica", "postgres.synchronousCommit", "off"));
        assertEquals(2, run.exitCode(), "assertions must fail the run\n" + tail(run));
        CheckResult raw = run.check("read-after-write").orElseThrow();
        assertFalse(raw.pass());
        assertTrue(raw.actual() >= 5, "violations counted: " + raw.line());
        assertTrue(run.output().contains("FAIL read-after-write"), "the reason is printed");
        assertTrue(run.output().contains("read-after-write violation"), "violations are KOs in Gatling's report");
    }

    @Test
    void readYourWritesUnderTheSameLagPasses() throws Exception {
        ForkedGatling.Result run = ForkedGatling.run("ReplicationLagSimulation", reports, home, Map.of(
                "app.routing", "read-your-writes", "postgres.synchronousCommit", "off"));
        assertEquals(0, run.exitCode(), tail(run));
        CheckResult raw = run.check("read-after-write").orElseThrow();
        assertTrue(raw.pass(), raw.line());
        assertEquals(0, raw.actual());
        assertTrue(run.verdict().passed());
        assertTrue(run.verdict().timeline().stream().anyMatch(e -> e.values().containsKey("maxLagBytes")
                && e.values().get("maxLagBytes") > 0), "the lag actually reached is measured");
    }

    @Test
    void tinyPoolsUnderTheSpikeFailOnPoolExhaustion() throws Exception {
        // The Black Friday plan as it is (lag on the synchronous standby makes each commit hold its
        // connection ~200 ms), with pools of 2 that a real service would never survive.
        ForkedGatling.Result run = ForkedGatling.run("BlackFridaySimulation", reports, home, Map.of(
                "app.writerPoolSize", "2", "app.readerPoolSize", "2", "app.poolTimeoutMs", "250"));
        assertEquals(2, run.exitCode(), tail(run));
        CheckResult pool = run.check("pool exhaustion").orElseThrow();
        assertFalse(pool.pass(), pool.line());
        assertTrue(pool.actual() > 0);
    }

    @Test
    void failoverWithRemoteApplyLosesNoAcknowledgedWriteAndRecoversWithinBudget() throws Exception {
        ForkedGatling.Result run = ForkedGatling.run("FailoverSimulation", reports, home, Map.of(
                "postgres.synchronousCommit", "remote_apply"));
        CheckResult lost = run.check("lost acknowledged writes").orElseThrow(() -> new AssertionError(tail(run)));
        assertTrue(lost.pass(), lost.line());
        assertEquals(0, lost.actual());
        assertTrue(run.verdict().writes().acknowledged() > 0, "orders were acknowledged around the failover");
        CheckResult rto = run.verdict().checks().stream().filter(c -> c.name().startsWith("failover RTO"))
                .findFirst().orElseThrow();
        assertTrue(rto.pass(), rto.line());
        assertTrue(rto.actual() > 0 && rto.actual() < 15_000, rto.line());
        assertTrue(run.verdict().timeline().stream().anyMatch(e -> e.message().contains("rejoined")),
                "the old primary rejoined");
    }

    @Test
    void aRunWithoutFaultsPasses() throws Exception {
        ForkedGatling.Result run = ForkedGatling.run("BlackFridaySimulation", reports, home, Map.of("faults", "false"));
        assertEquals(0, run.exitCode(), tail(run));
        assertTrue(run.verdict().passed(), run.verdict().summary());
        assertTrue(run.verdict().requests() > 100, "load was applied: " + run.verdict().requests());
        assertTrue(Files.exists(reportFile(run, "chaos.html")));
        assertTrue(Files.exists(reportFile(run, "junit.xml")));
        assertTrue(Files.exists(reportFile(run, "index.html")), "Gatling's report is next to ours");
        assertTrue(Files.exists(reports.resolve("index.html")), "the run history is updated");
    }

    @Test
    void aWrongEnvironmentFieldIsAClearErrorBeforeAnythingStarts() throws Exception {
        Path env = Files.writeString(reports.resolve("broken.json"),
                "{\"type\": \"local\", \"app\": {\"routing\": \"replika\"}}");
        ForkedGatling.Result run = ForkedGatling.run("BlackFridaySimulation", reports, home, Map.of(
                "doorbuster.env", env.toString()));
        assertEquals(1, run.exitCode(), tail(run));
        assertTrue(run.output().contains("field 'app.routing' is 'replika'; expected one of replica, primary, "
                + "read-your-writes, sticky"), tail(run));
        assertFalse(run.output().contains("Local topology up"), "nothing was started");
        assertNull(run.verdict());
    }

    /** Live servers, app JVMs and Gatling JVMs of the runs under {@code home}, judged by their command lines. */
    private static List<Long> leftovers(String home) {
        try (var procs = Files.list(Path.of("/proc"))) {
            return procs.map(p -> p.getFileName().toString()).filter(n -> n.chars().allMatch(Character::isDigit))
                    .map(Long::parseLong).filter(pid -> pid != ProcessHandle.current().pid())
                    .filter(pid -> {
                        List<String> args = ProcessRegistry.commandLine(pid);
                        return !ProcessRegistry.isZombie(pid) && args.stream().anyMatch(a -> a.contains(home));
                    }).toList();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteTree(Path root) throws IOException {
        try (var tree = Files.walk(root)) {
            for (Path p : (Iterable<Path>) tree.sorted(java.util.Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }

    private Path reportFile(ForkedGatling.Result run, String name) throws IOException {
        try (var files = Files.walk(reports, 2)) {
            return files.filter(f -> f.getFileName().toString().equals(name) && !f.getParent().equals(reports))
                    .findFirst().orElseThrow(() -> new AssertionError(name + " missing under " + reports));
        }
    }

    private static String tail(ForkedGatling.Result run) {
        String[] lines = run.output().split("\n");
        return String.join("\n", List.of(lines).subList(Math.max(0, lines.length - 60), lines.length))
                + (run.verdict() == null ? "" : "\n" + run.verdict().summary());
    }

}
