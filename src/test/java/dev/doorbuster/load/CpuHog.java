package dev.doorbuster.load;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A heavier job sharing the machine: one busy loop per core at the highest scheduling priority, for a bounded
 * time. Each loop is a shell of the test's own that ends by itself when its time is up (so a killed test leaves
 * nothing spinning) and reports the CPU it burnt with the shell's own {@code times}: the oracle that the
 * machine really was taken, independent of what the harness measured about itself. Stopped by PID on close.
 *
 * <p>The highest priority (nice -20) needs root; at nice 0 the scheduler would share the cores fairly with the
 * run's own threads and the generator would only slow down, not starve.
 */
final class CpuHog implements AutoCloseable {
    private static final Pattern USER_SYS = Pattern.compile("(\\d+)m([\\d.]+)s\\s+(\\d+)m([\\d.]+)s");

    private final List<Process> loops;
    private final long startedNanos = System.nanoTime();

    private CpuHog(List<Process> loops) {
        this.loops = loops;
    }

    /** Whether this user may raise a process's priority (root). */
    static boolean canRaisePriority() {
        return "root".equals(System.getProperty("user.name"));
    }

    /** Starts one loop per core, each spinning for {@code length} and then ending. */
    static CpuHog start(Duration length) throws IOException {
        List<Process> loops = new ArrayList<>();
        String script = "SECONDS=0; while (( SECONDS < " + length.toSeconds() + " )); do :; done; times";
        try {
            for (int core = 0; core < Runtime.getRuntime().availableProcessors(); core++) {
                // nice execs bash: the PID held is the loop's own.
                loops.add(new ProcessBuilder("nice", "-n", "-20", "bash", "-c", script).redirectErrorStream(true)
                        .start());
            }
        } catch (IOException | RuntimeException e) {
            loops.forEach(Process::destroyForcibly);
            throw e;
        }
        return new CpuHog(loops);
    }

    /** Waits for every loop to end by itself and returns the CPU they burnt together, from their own report. */
    Duration awaitCpuBurnt() throws IOException, InterruptedException {
        Duration burnt = Duration.ZERO;
        for (Process loop : loops) {
            String report = new String(loop.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!loop.waitFor(30, TimeUnit.SECONDS)) {
                throw new AssertionError("a CPU hog loop did not end by itself");
            }
            Matcher m = USER_SYS.matcher(report);
            if (!m.find()) {
                throw new AssertionError("the loop's 'times' report is unreadable: " + report);
            }
            burnt = burnt.plus(seconds(m.group(1), m.group(2))).plus(seconds(m.group(3), m.group(4)));
        }
        return burnt;
    }

    /** Seconds since the loops started. */
    Duration elapsed() {
        return Duration.ofNanos(System.nanoTime() - startedNanos);
    }

    int cores() {
        return loops.size();
    }

    private static Duration seconds(String minutes, String seconds) {
        return Duration.ofMillis(Math.round((Long.parseLong(minutes) * 60 + Double.parseDouble(seconds)) * 1000));
    }

    @Override
    public void close() {
        for (Process loop : loops) {
            loop.destroy();
        }
    }
}
