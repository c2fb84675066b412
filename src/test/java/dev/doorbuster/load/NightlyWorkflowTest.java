package dev.doorbuster.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/**
 * The nightly soak workflow is valid: checked against GitHub's workflow schema by action-validator
 * ({@code @action-validator/cli} from the npm registry, installed into {@code target/tools} on first use), and
 * it runs the soak the README describes. Skipped, with the reason, where npm is not installed.
 */
class NightlyWorkflowTest {
    private static final Path WORKFLOW = Path.of(".github", "workflows", "nightly-soak.yml");
    private static final String VALIDATOR = "@action-validator/cli@0.6.0";

    @Test
    void theWorkflowIsValidAndRunsTheSoak() throws Exception {
        String yaml = Files.readString(WORKFLOW);
        assertTrue(yaml.contains("cron:"), "it is scheduled");
        assertTrue(yaml.contains("-Dgatling.simulationClass=dev.doorbuster.simulations.SoakSimulation"), yaml);
        assertTrue(yaml.contains("actions/upload-artifact") && yaml.contains("if: always()"),
                "the run folder is kept also when the verdict fails");

        Path tools = Path.of("target", "tools").toAbsolutePath();
        Path validator = tools.resolve("node_modules").resolve(".bin").resolve("action-validator");
        if (!Files.isExecutable(validator)) {
            assumeTrue(onPath("npm"), "npm is not installed: the workflow's schema check needs " + VALIDATOR);
            Files.createDirectories(tools);
            Result install = run(tools, List.of("npm", "install", "--no-audit", "--no-fund", "--prefix", tools.toString(),
                    VALIDATOR), 300);
            assertEquals(0, install.code(), "npm install " + VALIDATOR + " failed:\n" + install.output());
        }
        Result check = run(Path.of("").toAbsolutePath(), List.of(validator.toString(), WORKFLOW.toString()), 60);
        assertEquals(0, check.code(), "action-validator rejects " + WORKFLOW + ":\n" + check.output());

        Path broken = Files.createTempFile("broken-workflow", ".yml");
        try {
            Files.writeString(broken, yaml.replace("    steps:", "    stepz:"));
            Result rejected = run(Path.of("").toAbsolutePath(), List.of(validator.toString(), broken.toString()), 60);
            assertTrue(rejected.code() != 0 && rejected.output().contains("stepz"),
                    "the validator does catch a broken workflow:\n" + rejected.output());
        } finally {
            Files.deleteIfExists(broken);
        }
    }

    private record Result(int code, String output) {
    }

    private static Result run(Path dir, List<String> command, int seconds) throws IOException, InterruptedException {
        Path log = Files.createTempFile("workflow-check", ".log");
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

    private static boolean onPath(String tool) {
        String path = System.getenv("PATH");
        return path != null && java.util.Arrays.stream(path.split(File.pathSeparator))
                .anyMatch(d -> Files.isExecutable(Path.of(d, tool)));
    }
}
