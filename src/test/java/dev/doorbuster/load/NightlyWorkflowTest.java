package dev.doorbuster.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import dev.doorbuster.tools.NpmTools;
import org.junit.jupiter.api.Test;

/**
 * The nightly soak workflow is valid: checked against GitHub's workflow schema by action-validator
 * ({@code @action-validator/cli} from the npm registry, installed into {@code target/tools} on first use), and
 * it runs the soak docs/nightly-ci.md describes. Skipped, with the reason, where npm is not installed.
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

        Path validator = NpmTools.DIR.resolve("node_modules").resolve(".bin").resolve("action-validator");
        NpmTools.ensure(VALIDATOR, validator, "the workflow's schema check");
        NpmTools.Result check = NpmTools.run(Path.of("").toAbsolutePath(), List.of(validator.toString(), WORKFLOW.toString()), 60);
        assertEquals(0, check.code(), "action-validator rejects " + WORKFLOW + ":\n" + check.output());

        Path broken = Files.createTempFile("broken-workflow", ".yml");
        try {
            Files.writeString(broken, yaml.replace("    steps:", "    stepz:"));
            NpmTools.Result rejected = NpmTools.run(Path.of("").toAbsolutePath(), List.of(validator.toString(), broken.toString()), 60);
            assertTrue(rejected.code() != 0 && rejected.output().contains("stepz"),
                    "the validator does catch a broken workflow:\n" + rejected.output());
        } finally {
            Files.deleteIfExists(broken);
        }
    }

}
