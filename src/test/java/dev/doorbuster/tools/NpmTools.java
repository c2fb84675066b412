package dev.doorbuster.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The npm tools some tests check files with (schema validators), installed on first use into
 * {@code target/tools} from the npm registry the machine is configured for; a test without npm is skipped,
 * saying why. Also runs a command bounded in time, output captured.
 */
public final class NpmTools {
    /** Where the tools are installed: {@code target/tools/node_modules}. */
    public static final Path DIR = Path.of("target", "tools").toAbsolutePath();

    private NpmTools() {
    }

    /** A finished command: its exit code (-1 if it timed out) and its output, stdout and stderr together. */
    public record Result(int code, String output) {
    }

    /**
     * Installs {@code pkg} (name@version) unless {@code installed} (a file under {@link #DIR}) exists; skips the
     * test when npm is missing, {@code purpose} saying what needed it.
     */
    public static void ensure(String pkg, Path installed, String purpose) throws IOException, InterruptedException {
        if (Files.exists(installed)) {
            return;
        }
        Required.assume(onPath("npm"), "npm is not installed: " + purpose + " needs " + pkg);
        Files.createDirectories(DIR);
        Result install = run(DIR, List.of("npm", "install", "--no-audit", "--no-fund", "--prefix", DIR.toString(), pkg),
                300);
        assertEquals(0, install.code(), "npm install " + pkg + " failed:\n" + install.output());
    }

    public static Result run(Path dir, List<String> command, int seconds) throws IOException, InterruptedException {
        Path log = Files.createTempFile("tool", ".log");
        try {
            Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, "timed out after " + seconds + " s: " + command);
            }
            return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(log);
        }
    }

    public static boolean onPath(String tool) {
        String path = System.getenv("PATH");
        return path != null && java.util.Arrays.stream(path.split(File.pathSeparator))
                .anyMatch(d -> Files.isExecutable(Path.of(d, tool)));
    }
}
