package dev.doorbuster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import dev.doorbuster.verdict.RunFolders;
import dev.doorbuster.verdict.RunHistory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code doorbuster prune}: the newest runs of each simulation and every baseline stay; only run folders go. */
class PruneCommandTest {
    @TempDir
    Path reports;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int doorbuster(String... args) {
        return Doorbuster.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
    }

    @Test
    void keepsTheNewestOfEachSimulationAndItsBaseline() throws IOException {
        for (int night = 1; night <= 5; night++) {
            RunFolders.write(reports, "soaksimulation-2026120" + night + "010000000", "SoakSimulation",
                    "2026-12-0" + night + "T01:00:00Z", 100 + night, 0.1, 20);
        }
        RunFolders.write(reports, "failoversimulation-20261201020000000", "FailoverSimulation", "2026-12-01T02:00:00Z",
                300, 0.5, 30);
        RunHistory.markBaseline(reports.resolve("soaksimulation-20261201010000000"));
        Path notARun = Files.createDirectories(reports.resolve("notes"));
        Files.writeString(notARun.resolve("todo.txt"), "not a run: never touched");
        Path corrupt = Files.createDirectories(reports.resolve("soaksimulation-20261130010000000"));
        Files.writeString(corrupt.resolve("verdict.json"), "{ cut short");

        assertEquals(0, doorbuster("prune", "--keep", "2", "--reports", reports.toString(), "--dry-run"), err.toString());
        assertTrue(out.toString().contains("would delete " + reports.resolve("soaksimulation-20261203010000000")), out.toString());
        assertEquals(8, folders().size(), "a dry run deletes nothing");

        assertEquals(0, doorbuster("prune", "--keep", "2", "--reports", reports.toString()), err.toString());
        assertEquals(List.of("failoversimulation-20261201020000000", "notes", "soaksimulation-20261130010000000",
                        "soaksimulation-20261201010000000", "soaksimulation-20261204010000000",
                        "soaksimulation-20261205010000000"), folders(),
                "the two newest soaks, the soak's baseline, the only failover run; unreadable and non-run folders alone");
        assertTrue(out.toString().contains("left alone (its verdict.json cannot be read): " + corrupt), out.toString());
        String page = Files.readString(reports.resolve(RunHistory.PAGE));
        assertTrue(page.contains("SoakSimulation: trends over 3 run(s)"), "the history page is rewritten");
        assertFalse(page.contains("soaksimulation-20261203010000000"));
    }

    @Test
    void keepMustBeAtLeastOne() {
        assertEquals(2, doorbuster("prune", "--keep", "0", "--reports", reports.toString()));
        assertTrue(err.toString().contains("--keep must be at least 1"), err.toString());
        assertEquals(2, doorbuster("prune"));
        assertTrue(err.toString().contains("Missing required option: '--keep=N'"), err.toString());
    }

    @Test
    void aMissingReportsFolderIsNothingToPrune() {
        assertEquals(0, doorbuster("prune", "--keep", "3", "--reports", reports.resolve("none").toString()));
        assertTrue(out.toString().contains("does not exist yet"), out.toString());
    }

    private List<String> folders() throws IOException {
        try (Stream<Path> dirs = Files.list(reports)) {
            return dirs.filter(Files::isDirectory).map(d -> d.getFileName().toString()).sorted().toList();
        }
    }
}
