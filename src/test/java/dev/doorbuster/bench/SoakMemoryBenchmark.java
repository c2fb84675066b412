package dev.doorbuster.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.doorbuster.load.ForkedGatling;
import dev.doorbuster.process.ProcessRegistry;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Test;

/**
 * Memory of a soak at a fixed rate, sampled every minute: heap used right after a full GC (what is
 * really retained) and resident size, of the Gatling JVM (recording, probes, timeline) and of the
 * storefront JVM. Goal: flat after warm-up, so the benchmark fails unless the Gatling JVM's heap after GC at the last
 * minute is within {@value #FLAT_PERCENT}% of minute 5's (the consistency accounting used to keep every operation on
 * the heap: +1.8 MB a minute at 50 shoppers/s). Default 50 shoppers/s for 30 minutes ({@code -Dbench.soakRate},
 * {@code -Dbench.soakMinutes}).
 * Run: {@code mvn -B -Pbench test -Dtest=SoakMemoryBenchmark -Dsurefire.failIfNoSpecifiedTests=false}.
 */
@Tag("bench")
@Timeout(value = 75, unit = TimeUnit.MINUTES) // longer than the tests' default of 5 minutes
class SoakMemoryBenchmark {
    private static final int MINUTES = Integer.getInteger("bench.soakMinutes", 30);
    /** Shoppers per second: 50 (≈ 200 requests/s) makes a growth per request show within minutes. */
    private static final String RATE = System.getProperty("bench.soakRate", "50");
    /** Heap after GC at the last minute may differ from minute 5's (after warm-up) by at most this much. */
    private static final int FLAT_PERCENT = 10;
    private static final int WARM_MINUTE = 5;
    /** A heap generation's line in GC.heap_info ("PSYoungGen total 76800K, used 1311K", G1's single line...). */
    private static final Pattern HEAP_USED = Pattern.compile("total \\d+K, used (\\d+)K");

    @Test
    void memoryStaysFlatDuringASoak() throws Exception {
        Path home = Files.createTempDirectory(Path.of("/var/tmp"), "doorbuster-soak-bench-");
        Files.setPosixFilePermissions(home, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Path reports = Files.createTempDirectory("soak-bench-reports");
        ForkedGatling.Running run = ForkedGatling.start("SoakSimulation", reports, home, Map.of(
                "soak.duration", MINUTES + "m", "soak.rate", RATE, "load.minutes", "1"));
        List<String> rows = new ArrayList<>();
        Map<Integer, Double> gatlingHeap = new java.util.TreeMap<>();
        int lastMinute = 0;
        long started = System.nanoTime();
        for (int minute = 1; minute <= MINUTES && run.isAlive(); minute++) {
            long wakeUp = started + TimeUnit.MINUTES.toNanos(minute);
            while (System.nanoTime() < wakeUp && run.isAlive()) {
                Thread.sleep(1000);
            }
            Optional<Long> app = appPid(home);
            String heap = heapAfterGc(run.pid());
            if (!heap.equals("?")) {
                gatlingHeap.put(minute, Double.parseDouble(heap));
                lastMinute = minute;
            }
            String row = String.format("| %d | %s | %s | %s | %s |", minute, heap, rss(run.pid()),
                    app.map(SoakMemoryBenchmark::heapAfterGc).orElse("-"), app.map(SoakMemoryBenchmark::rss).orElse("-"));
            rows.add(row);
            System.out.println("[bench] " + row);
        }
        ForkedGatling.Result result = run.await(Duration.ofMinutes(15));
        String flat = flatness(gatlingHeap, lastMinute);
        BenchReport.record("soak memory, " + MINUTES + " min at " + RATE + " shoppers/s with faults every "
                + Math.max(1, MINUTES / 10) + " min (exit " + result.exitCode() + "); " + flat, "\n| minute | Gatling JVM heap after GC (MB) | Gatling RSS (MB) | storefront "
                + "heap after GC (MB) | storefront RSS (MB) |\n|---|---|---|---|---|\n" + String.join("\n", rows));
        if (result.verdict() != null) {
            System.out.println(result.verdict().summary());
        }
        if (!flat.startsWith("flat")) {
            throw new AssertionError("the Gatling JVM's heap is not flat: " + flat);
        }
    }

    /** Whether the heap after GC at {@code lastMinute} is within {@link #FLAT_PERCENT}% of minute 5's, and the figures. */
    private static String flatness(Map<Integer, Double> heap, int lastMinute) {
        Double warm = heap.get(WARM_MINUTE);
        Double last = heap.get(lastMinute);
        if (warm == null || last == null || lastMinute <= WARM_MINUTE) {
            return "not measured: heap after GC at minutes " + heap.keySet() + " (the soak must run past minute "
                    + WARM_MINUTE + ")";
        }
        double change = (last - warm) / warm * 100;
        return String.format(java.util.Locale.ROOT, "%s: heap after GC %.1f MB at minute %d, %.1f MB at minute %d (%+.1f%%, "
                        + "at most ±%d%%)", Math.abs(change) <= FLAT_PERCENT ? "flat" : "GROWING", warm, WARM_MINUTE, last,
                lastMinute, change, FLAT_PERCENT);
    }

    private static Optional<Long> appPid(Path home) throws IOException {
        try (var procs = Files.list(Path.of("/proc"))) {
            return procs.map(p -> p.getFileName().toString()).filter(n -> n.chars().allMatch(Character::isDigit))
                    .map(Long::parseLong).filter(pid -> ProcessRegistry.commandLine(pid).stream()
                            .anyMatch(a -> a.startsWith("-Ddoorbuster.instance=" + home)))
                    .findFirst();
        }
    }

    /** Heap in use right after a full GC, via jcmd (MB). */
    private static String heapAfterGc(long pid) {
        try {
            jcmd(pid, "GC.run");
            Matcher m = HEAP_USED.matcher(jcmd(pid, "GC.heap_info"));
            long usedKb = 0;
            boolean found = false;
            while (m.find()) { // every generation (ParallelGC: young + old; G1: one line)
                usedKb += Long.parseLong(m.group(1));
                found = true;
            }
            return found ? String.format(java.util.Locale.ROOT, "%.1f", usedKb / 1024.0) : "?";
        } catch (IOException | InterruptedException e) {
            return "?";
        }
    }

    private static String rss(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.toString(Long.parseLong(line.replaceAll("\\D", "")) / 1024);
                }
            }
        } catch (IOException e) {
            return "?";
        }
        return "?";
    }

    private static String jcmd(long pid, String command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                Long.toString(pid), command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor(30, TimeUnit.SECONDS);
        return out;
    }
}
