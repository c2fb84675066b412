package dev.doorbuster.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README stays short enough to read at once (what Doorbuster is, the two commands, a verdict, which
 * environment): everything else belongs in docs/ or CONTRIBUTING.md.
 */
class ReadmeLengthTest {
    static final int MAX_LINES = 200;

    /** Why {@code page} is too long, or empty when it has at most {@code max} lines. */
    static Optional<String> tooLong(Path page, int max) throws IOException {
        int lines = Files.readAllLines(page).size();
        return lines <= max ? Optional.empty()
                : Optional.of(page + " has " + lines + " lines, more than " + max
                        + ": move the details to a page under docs/ (or CONTRIBUTING.md) and link it");
    }

    @Test
    void theReadmeHasAtMost200Lines() throws IOException {
        Optional<String> problem = tooLong(Path.of("README.md"), MAX_LINES);
        assertTrue(problem.isEmpty(), problem.orElse(""));
    }

    @Test
    void aLongerPageIsCaught(@TempDir Path dir) throws IOException {
        Path fits = Files.writeString(dir.resolve("fits.md"), "line\n".repeat(MAX_LINES));
        Path over = Files.writeString(dir.resolve("over.md"), "line\n".repeat(MAX_LINES) + "one more");

        assertEquals(Optional.empty(), tooLong(fits, MAX_LINES));
        assertTrue(tooLong(over, MAX_LINES).orElseThrow().contains("has 201 lines, more than 200"),
                tooLong(over, MAX_LINES).orElseThrow());
    }
}
