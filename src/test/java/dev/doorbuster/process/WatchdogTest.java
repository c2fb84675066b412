package dev.doorbuster.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The watchdog on its own, with a stand-in parent JVM ({@link WatchdogTestParent}) and {@code sleep}
 * children: they die within seconds of a SIGKILL of the parent, never while it lives, and a recorded PID
 * that no longer runs the recorded command is left alone.
 */
class WatchdogTest {
    @TempDir
    Path home;
    private String token;
    private final List<Process> started = new ArrayList<>();

    @BeforeEach
    void uniqueToken() {
        // The children are `sleep TOKEN`: a duration no other process on the machine has.
        token = "97." + ThreadLocalRandom.current().nextInt(100_000, 999_999);
    }

    @AfterEach
    void stopEverything() {
        for (Process p : started) {
            p.destroyForcibly();
        }
        for (long pid : sleeps()) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    @Test
    void childrenDieWithinSecondsOfASigkillOfTheirParent() throws Exception {
        Process bystander = start(new ProcessBuilder("sleep", token + "1"));
        Parent parent = startParent(3, bystander.pid());
        assertEquals(3, parent.children.size());
        parent.children.forEach(pid -> assertTrue(alive(pid), "child " + pid + " runs"));
        assertTrue(parent.watchdog > 0, "a watchdog was started");
        assertTrue(alive(parent.watchdog));

        // A run's topology takes seconds to come up after its first process, and its watchdog JVM starts
        // meanwhile; here the children are up at once, so give the watchdog that second.
        Thread.sleep(1_000);
        parent.process.toHandle().destroyForcibly(); // SIGKILL: no shutdown hook runs
        long killed = System.nanoTime();
        long lastGone = awaitAllGone(parent.children, 5_000);
        assertTrue(lastGone >= 0, "children still running 5 s after the parent's SIGKILL: "
                + parent.children.stream().filter(WatchdogTest::alive).toList());
        System.out.printf("last child gone %d ms after the SIGKILL%n", (lastGone - killed) / 1_000_000);
        assertTrue(awaitAllGone(List.of(parent.watchdog), 5_000) >= 0, "the watchdog exits when done");
        System.out.println(Files.readString(home.resolve("watchdog.log")));

        assertTrue(alive(bystander.pid()), "a recorded PID that does not run the recorded command is not ours: untouched");
        assertEquals(List.of(), records(), "every record of the dead parent is forgotten");
        assertTrue(Files.readString(home.resolve("watchdog.log")).contains("stopped 3"),
                Files.readString(home.resolve("watchdog.log")));
    }

    @Test
    void aLiveParentsChildrenAreLeftAloneAndTheWatchdogEndsWithIt() throws Exception {
        Parent parent = startParent(2, -1);
        Thread.sleep(1_500); // the thread that started them ended long ago
        parent.children.forEach(pid -> assertTrue(alive(pid), "child " + pid + " of a live parent still runs"));
        assertTrue(alive(parent.watchdog), "the watchdog waits as long as its JVM lives");
        assertEquals(2, records().size());

        parent.process.getOutputStream().close(); // a normal exit: its hook stops the children
        assertTrue(parent.process.waitFor(10, TimeUnit.SECONDS));
        assertEquals(0, parent.process.exitValue());
        assertTrue(awaitAllGone(List.of(parent.watchdog), 5_000) >= 0, "the watchdog ends with its JVM");
        parent.children.forEach(pid -> assertFalse(alive(pid)));
        assertEquals(List.of(), records());
        assertFalse(Files.exists(home.resolve("watchdog.log")) && Files.readString(home.resolve("watchdog.log"))
                .contains("stopped"), "nothing was left for the watchdog to stop");
    }

    private record Parent(Process process, long watchdog, List<Long> children) {
    }

    private Parent startParent(int children, long recycledPid) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx64m", "-D" + DoorbusterHome.PROPERTY + "=" + home, "-cp", System.getProperty("java.class.path"),
                WatchdogTestParent.class.getName(), token, Integer.toString(children)));
        if (recycledPid > 0) {
            command.add(Long.toString(recycledPid));
        }
        Process process = start(new ProcessBuilder(command).redirectErrorStream(true));
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        long watchdog = -1;
        StringBuilder seen = new StringBuilder();
        for (String line; (line = out.readLine()) != null; ) {
            seen.append(line).append('\n');
            if (line.startsWith("watchdog ")) {
                watchdog = Long.parseLong(line.substring(9).trim());
            }
            if (line.startsWith("ready")) {
                List<Long> pids = new ArrayList<>();
                for (String pid : line.substring(5).trim().split(" ")) {
                    pids.add(Long.parseLong(pid));
                }
                return new Parent(process, watchdog, pids);
            }
        }
        throw new AssertionError("the stand-in parent did not start its children:\n" + seen);
    }

    private Process start(ProcessBuilder builder) throws IOException {
        Process p = builder.start();
        started.add(p);
        return p;
    }

    /** The time the last of {@code pids} was seen gone, or -1 if one still runs after {@code millis}. */
    private static long awaitAllGone(List<Long> pids, long millis) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000;
        while (pids.stream().anyMatch(WatchdogTest::alive)) {
            if (System.nanoTime() > deadline) {
                return -1;
            }
            Thread.sleep(5);
        }
        return System.nanoTime();
    }

    private static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false) && !ProcessRegistry.isZombie(pid);
    }

    private List<Path> records() throws IOException {
        Path dir = home.resolve("processes");
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (var files = Files.list(dir)) {
            return files.filter(f -> f.toString().endsWith(".json")).toList();
        }
    }

    /** Live {@code sleep} processes of this test (by their token). */
    private List<Long> sleeps() {
        try (var procs = Files.list(Path.of("/proc"))) {
            return procs.map(p -> p.getFileName().toString()).filter(n -> n.chars().allMatch(Character::isDigit))
                    .map(Long::parseLong)
                    .filter(pid -> ProcessRegistry.commandLine(pid).stream().anyMatch(a -> a.startsWith(token)))
                    .toList();
        } catch (IOException e) {
            return List.of();
        }
    }
}
