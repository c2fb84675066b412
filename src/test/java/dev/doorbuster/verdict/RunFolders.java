package dev.doorbuster.verdict;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import dev.doorbuster.verdict.recording.Recording;

/**
 * A run folder as a finished run leaves it for the history: its verdict.json, written by {@link Verdict}'s own
 * writer, and the per-second counts the history takes the peak rate from. For tests of what reads reports/ later
 * (history, trends, baselines, pruning), without running a simulation. In this package for {@link CheckResult}'s
 * factories, which the verdict keeps to itself.
 */
public final class RunFolders {
    private RunFolders() {
    }

    /** Writes {@code reports/<name>} for a run of {@code simulation} started at {@code startedAt} (ISO-8601). */
    public static Path write(Path reports, String name, String simulation, String startedAt, double p99Ms,
                             double errorRatePercent, int peakRate) throws IOException {
        Path dir = reports.resolve(name);
        Verdict.of(simulation, "local", startedAt, 90, List.of(
                        CheckResult.atMost("p99", 1000, p99Ms, "ms", ""),
                        CheckResult.atMost("error rate", 2, errorRatePercent, "%", "")),
                1000, 10, null, null, null, List.of()).writeJson(dir.resolve(Verdict.JSON_FILE));
        Files.writeString(dir.resolve(Recording.COUNTS), "second,request,ok,ko\n0,\"browse\"," + (peakRate - 10)
                + ",10\n1,\"browse\",5,0\n");
        return dir;
    }
}
