package dev.doorbuster.postgres;

import dev.doorbuster.process.DoorbusterHome;
import dev.doorbuster.process.ProcessRegistry;
import dev.doorbuster.process.Watchdog;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/** No server outlives its cluster, nor the JVM that started it, even one killed with SIGKILL. */
class CleanupTest {
    private static final Pattern PID = Pattern.compile("\\(PID (\\d+)\\)");
    private static final Pattern WORK_DIR = Pattern.compile("data and logs: (\\S+)");

    @Test
    void closingTheClusterLeavesNoPostgresProcessAndNoFiles() {
        PgCluster cluster = PgCluster.builder().replicas(1).start();
        Path workDir = cluster.workDir();
        List<Long> pids = new ArrayList<>();
        for (PgNode node : cluster.nodes()) {
            pids.add(node.pid());
            ProcessHandle.of(node.pid()).orElseThrow().descendants().forEach(h -> pids.add(h.pid()));
        }
        assertTrue(pids.size() > 4, "postmasters and their workers: " + pids);
        assertFalse(Processes.mentioning(workDir.toString()).isEmpty());

        cluster.close();

        for (long pid : pids) {
            assertFalse(Processes.alive(pid), "process " + pid + " of the cluster survived close()");
        }
        assertEquals(List.of(), Processes.mentioning(workDir.toString()));
        assertFalse(Files.exists(workDir), "temporary work folder deleted");
    }

    @Test
    void serversOfAKilledJvmAreStoppedByTheNextStart() throws Exception {
        // A real crash: another JVM starts a cluster and is killed with SIGKILL (no shutdown hook runs).
        Process jvm = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"),
                "-D" + DoorbusterHome.PROPERTY + "=" + DoorbusterHome.get(),
                // Without its watchdog (WatchdogTest, KilledRunIT): this is about the backstop.
                "-D" + Watchdog.PROPERTY + "=false",
                "dev.doorbuster.cli.Doorbuster", "up", "--db-only", "--replicas", "1", "--for", "120s")
                .redirectErrorStream(true).start();
        List<Long> serverPids = new ArrayList<>();
        String workDir = null;
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(jvm.getInputStream(), StandardCharsets.UTF_8));
            StringBuilder seen = new StringBuilder();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            for (String line; (line = out.readLine()) != null && !line.startsWith("Stopping by itself"); ) {
                seen.append(line).append('\n');
                Matcher pid = PID.matcher(line);
                if (pid.find()) {
                    serverPids.add(Long.parseLong(pid.group(1)));
                }
                Matcher dir = WORK_DIR.matcher(line);
                if (dir.find()) {
                    workDir = dir.group(1);
                }
                assertTrue(System.nanoTime() < deadline, "the other JVM did not come up:\n" + seen);
            }
            assertEquals(2, serverPids.size(), "primary and replica PIDs printed by 'up':\n" + seen);
        } finally {
            jvm.destroyForcibly(); // SIGKILL
            jvm.waitFor(10, TimeUnit.SECONDS);
        }
        for (long pid : serverPids) {
            assertTrue(Processes.alive(pid), "server " + pid + " should have outlived the killed JVM");
        }

        // The next start in any JVM finds them by their records and stops them.
        try (PgCluster next = PgCluster.builder().replicas(0).start()) {
            for (long pid : serverPids) {
                assertFalse(Processes.alive(pid), "leftover server " + pid + " is still running");
            }
            assertEquals(List.of(), Processes.mentioning(workDir));
            assertFalse(Files.exists(Path.of(workDir)), "the crashed run's temporary folder is deleted");
            assertTrue(next.primary().isRunning());
        }
        Await.until("no record of the crashed run's servers", Duration.ofSeconds(5), () -> {
            try (var records = Files.list(DoorbusterHome.processRecords())) {
                return records.noneMatch(f -> serverPids.stream().anyMatch(p -> f.toString().endsWith("-" + p + ".json")));
            } catch (java.io.IOException e) {
                return false;
            }
        });
    }

    @Test
    void aStalePidFileFromACrashDoesNotPreventARestart() throws Exception {
        try (PgCluster cluster = PgCluster.builder().replicas(0).start()) {
            PgNode node = cluster.primary();
            node.execute("CREATE TABLE survived (id int)");
            node.kill(); // leaves postmaster.pid behind
            Path pidFile = node.dataDir().resolve("postmaster.pid");
            assertTrue(Files.exists(pidFile));
            // The dead PID may be reused by any process: point it at a live one that is not postgres (us).
            List<String> lines = new ArrayList<>(Files.readAllLines(pidFile));
            lines.set(0, Long.toString(ProcessHandle.current().pid()));
            Files.write(pidFile, lines);

            node.start();
            assertTrue(node.isRunning());
            assertEquals(Boolean.TRUE, node.queryValue("SELECT to_regclass('survived') IS NOT NULL", Boolean.class),
                    "crash recovery kept the committed table");
        }
    }
}
