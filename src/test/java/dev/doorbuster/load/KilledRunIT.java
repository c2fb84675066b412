package dev.doorbuster.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import dev.doorbuster.process.ProcessRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run's JVM killed with SIGKILL mid-run takes its PostgreSQL servers (and their workers) and its storefront
 * JVM with it within seconds, through its watchdog, with no next start to clean up after it.
 */
class KilledRunIT {
    private static final String WATCHDOG_CLASS = "dev.doorbuster.process.Watchdog";

    @TempDir
    Path reports;
    private Path home;

    @BeforeEach
    void ownHome() throws IOException {
        // Under /var/tmp, not the 0700 temp folder: PostgreSQL may run as another user and must reach it.
        home = Files.createTempDirectory(Path.of("/var/tmp"), "doorbuster-killed-");
        Files.setPosixFilePermissions(home, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @AfterEach
    void deleteHome() throws IOException {
        ControlRuns.deleteTree(home);
    }

    @Test
    void everyProcessOfARunDiesWithinSecondsOfItsSigkill() throws Exception {
        ForkedGatling.Running running = ForkedGatling.start("ReplicationLagSimulation", reports, home,
                Map.of("load.minutes", "1"));
        assertTrue(running.awaitOutput("Local topology up", java.time.Duration.ofMinutes(3)), "the topology came up");
        ProcessHandle run = ProcessHandle.of(running.pid()).orElseThrow();
        // Everything it started: PostgreSQL primary and replica with their workers, the storefront JVM, the watchdog.
        List<ProcessHandle> children = run.descendants().toList();
        long watchdog = children.stream().filter(h -> isWatchdogOf(h.pid(), running.pid())).map(ProcessHandle::pid)
                .findFirst().orElseThrow(() -> new AssertionError("no watchdog among " + describe(children)));
        List<ProcessHandle> topology = children.stream().filter(h -> h.pid() != watchdog).toList();
        List<Long> servers = ControlRuns.leftovers(home.toString()).stream()
                .filter(pid -> pid != running.pid()).toList();
        assertTrue(servers.size() >= 3, "two postmasters and a storefront mention the run's home: " + servers);
        assertTrue(topology.size() > servers.size(), "and the servers' workers: " + describe(topology));

        run.destroyForcibly(); // SIGKILL: no shutdown hook runs
        long killed = System.nanoTime();
        ForkedGatling.Result result = running.await(java.time.Duration.ofSeconds(30));
        assertEquals(137, result.exitCode(), "killed by SIGKILL (128 + 9)");

        long lastGone = -1;
        while (System.nanoTime() - killed < 10_000_000_000L) {
            if (topology.stream().noneMatch(KilledRunIT::alive)
                    && ControlRuns.leftovers(home.toString()).isEmpty()) {
                lastGone = System.nanoTime();
                break;
            }
            Thread.sleep(10);
        }
        assertTrue(lastGone > 0, "still running 10 s after the run's SIGKILL: "
                + describe(topology.stream().filter(KilledRunIT::alive).toList()) + " / mentioning the home: "
                + ControlRuns.leftovers(home.toString()));
        System.out.printf("last process of the killed run gone %d ms after its SIGKILL (%d processes)%n",
                (lastGone - killed) / 1_000_000, topology.size());

        ProcessHandle dog = ProcessHandle.of(watchdog).orElse(null);
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (dog != null && alive(dog) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(dog == null || !alive(dog), "the watchdog exits once done");
        String log = Files.readString(home.resolve("watchdog.log"));
        assertTrue(log.contains("JVM " + running.pid() + " died"), log);
        System.out.println(log);
        try (var records = Files.list(home.resolve("processes"))) {
            assertEquals(List.of(), records.filter(f -> f.toString().endsWith(".json")).toList(),
                    "the killed run's records are forgotten");
        }
    }

    private static boolean isWatchdogOf(long pid, long owner) {
        List<String> args = ProcessRegistry.commandLine(pid);
        int at = args.indexOf(WATCHDOG_CLASS);
        return at >= 0 && at + 1 < args.size() && args.get(at + 1).equals(Long.toString(owner));
    }

    private static boolean alive(ProcessHandle h) {
        return h.isAlive() && !ProcessRegistry.isZombie(h.pid());
    }

    private static String describe(List<ProcessHandle> handles) {
        return handles.stream().map(h -> h.pid() + " " + String.join(" ", Optional.of(ProcessRegistry.commandLine(h.pid()))
                .filter(a -> !a.isEmpty()).map(a -> a.subList(0, Math.min(3, a.size()))).orElse(List.of("?"))))
                .toList().toString();
    }
}
