package dev.doorbuster.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalDate;
import java.util.Arrays;

/** Prints a benchmark's figures and appends them to target/bench/results.md for docs/BENCHMARKS.md. */
public final class BenchReport {
    private BenchReport() {
    }

    public static void record(String benchmark, String line) {
        String entry = "- " + LocalDate.now() + " " + machine() + " — " + benchmark + ": " + line;
        System.out.println("[bench] " + entry);
        try {
            Path file = Path.of("target", "bench", "results.md");
            Files.createDirectories(file.getParent());
            Files.writeString(file, entry + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            System.out.println("[bench] cannot write target/bench/results.md: " + e);
        }
    }

    public static String machine() {
        return Runtime.getRuntime().availableProcessors() + " cores, " + System.getProperty("os.name") + " "
                + System.getProperty("os.arch") + ", Java " + System.getProperty("java.version");
    }

    /** Median of the values (mean of the middle two for an even count). */
    public static double median(double... values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int mid = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
