package dev.doorbuster.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.doorbuster.tools.NpmTools;
import dev.doorbuster.topology.Environment;
import dev.doorbuster.topology.EnvironmentLoader;
import org.junit.jupiter.api.Test;

/**
 * The nightly workflows are valid and remember: Doorbuster's own soak (.github/workflows/nightly-soak.yml) and the
 * starter's soak of one's own service (examples/starter/.github/workflows/nightly-soak.yml) are checked against
 * GitHub's workflow schema by action-validator ({@code @action-validator/cli} from the npm registry, installed into
 * {@code target/tools} on first use; skipped, with the reason, where npm is not installed); and, read as YAML, both
 * restore reports/ before the soak and prune and save it after, whatever the verdict, and hand secrets to commands
 * only through the environment.
 */
class NightlyWorkflowTest {
    static final Path WORKFLOW = Path.of(".github", "workflows", "nightly-soak.yml");
    static final Path OWN_SERVICE_WORKFLOW = Path.of("examples", "starter", ".github", "workflows", "nightly-soak.yml");
    private static final String VALIDATOR = "@action-validator/cli@0.6.0";
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    @Test
    void theWorkflowIsValidAndRunsTheSoak() throws Exception {
        String yaml = Files.readString(WORKFLOW);
        assertTrue(yaml.contains("cron:"), "it is scheduled");
        assertTrue(yaml.contains("-Dgatling.simulationClass=dev.doorbuster.simulations.SoakSimulation"), yaml);
        assertTrue(yaml.contains("actions/upload-artifact") && yaml.contains("if: always()"),
                "the run folder is kept also when the verdict fails");

        Path validator = NpmTools.DIR.resolve("node_modules").resolve(".bin").resolve("action-validator");
        NpmTools.ensure(VALIDATOR, validator, "the workflow's schema check");
        for (Path workflow : List.of(WORKFLOW, OWN_SERVICE_WORKFLOW)) {
            NpmTools.Result check = NpmTools.run(Path.of("").toAbsolutePath(), List.of(validator.toString(), workflow.toString()), 60);
            assertEquals(0, check.code(), "action-validator rejects " + workflow + ":\n" + check.output());
        }

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

    @Test
    void bothRestoreTheHistoryBeforeTheSoakAndPruneAndSaveItAfterWhateverTheVerdict() throws IOException {
        for (Path file : List.of(WORKFLOW, OWN_SERVICE_WORKFLOW)) {
            Soak soak = Soak.of(file);
            List<JsonNode> steps = soak.steps();
            int restore = soak.index(s -> s.path("uses").asText().startsWith("actions/cache/restore@"), "restores the cache");
            int run = soak.index(s -> s.path("run").asText().contains("gatling:test"), "runs the soak");
            int prune = soak.index(s -> s.path("run").asText().contains("prune --keep"), "prunes the history");
            int save = soak.index(s -> s.path("uses").asText().startsWith("actions/cache/save@"), "saves the cache");
            int upload = soak.index(s -> s.path("uses").asText().startsWith("actions/upload-artifact@"), "uploads the runs");
            assertTrue(restore < run && run < prune && prune < save, file + ": restore, soak, prune, save in that order");
            for (int after : List.of(prune, save, upload)) {
                assertEquals("always()", steps.get(after).path("if").asText(),
                        file + ": '" + steps.get(after).path("name").asText() + "' runs whatever the verdict");
            }
            assertTrue(steps.get(restore).path("if").isMissingNode(), file + ": the history always comes back first");

            JsonNode restored = steps.get(restore).path("with");
            JsonNode saved = steps.get(save).path("with");
            assertEquals(HISTORY_PATH, restored.path("path").asText(), file + ": the runs' folder is what comes back");
            assertEquals(HISTORY_PATH, saved.path("path").asText(), file + ": the runs' folder is what is saved");
            String key = saved.path("key").asText();
            assertEquals(key, restored.path("key").asText(), file.toString());
            assertTrue(key.contains("${{ github.run_id }}"), file + ": a cache entry cannot be overwritten: a key per run");
            List<String> prefixes = restored.path("restore-keys").asText().lines().map(String::trim)
                    .filter(l -> !l.isEmpty()).toList();
            assertEquals(1, prefixes.size(), file + ": " + prefixes);
            assertTrue(key.startsWith(prefixes.get(0)) && !prefixes.get(0).contains("${{"),
                    file + ": the next night finds this night's entry by the key's fixed prefix: " + prefixes);

            int keep = Integer.parseInt(soak.workflow().path("env").path("HISTORY_RUNS").asText());
            assertTrue(keep >= 2, file + ": at least two runs of each simulation are kept, or there is no trend");
            assertTrue(steps.get(prune).path("run").asText().contains("prune --keep $HISTORY_RUNS")
                    || steps.get(prune).path("run").asText().contains("prune --keep \"$HISTORY_RUNS\""), file.toString());
            assertTrue(steps.get(run).path("timeout-minutes").asInt() < soak.job().path("timeout-minutes").asInt(),
                    file + ": the soak times out before the job, leaving time to prune and save the history");
        }
    }

    /** Where runs land: the Gatling plugin's results folder, reports/ under the project (pom.xml). */
    static final String HISTORY_PATH = "reports/";

    @Test
    void runsLandWhereTheHistoryIsKept() throws IOException {
        for (Path pom : List.of(Path.of("pom.xml"), Path.of("examples", "starter", "pom.xml"))) {
            assertTrue(Files.readString(pom).contains("<resultsFolder>${project.basedir}/reports</resultsFolder>"), pom.toString());
        }
    }

    @Test
    void secretsAndInputsReachCommandsOnlyThroughTheEnvironment() throws IOException {
        for (Path file : List.of(WORKFLOW, OWN_SERVICE_WORKFLOW)) {
            for (JsonNode step : Soak.of(file).steps()) {
                String script = step.path("run").asText();
                assertFalse(script.contains("${{"), file + ": '" + step.path("name").asText() + "' writes an expression into"
                        + " its script (a secret would be in the script's text, an input could inject commands): use env:");
                assertFalse(script.contains("set -x"), file + ": tracing would print the secrets' values");
            }
        }
        String text = Files.readString(OWN_SERVICE_WORKFLOW);
        Set<String> secrets = new TreeSet<>();
        Matcher used = Pattern.compile("secrets\\.([A-Z0-9_]+)").matcher(text);
        while (used.find()) {
            secrets.add(used.group(1));
        }
        assertTrue(secrets.contains("MY_SERVICE_DB_PASSWORD"), "the database password is a secret: " + secrets);
        String header = text.substring(0, text.indexOf("\nname:"));
        for (String secret : secrets) {
            assertTrue(header.contains("#   " + secret + " "), "the workflow's header lists the secret " + secret);
        }
    }

    @Test
    void theOwnServiceSoakLoadsItsEnvironmentWithTheSecretsAsOverrides() throws IOException {
        Soak soak = Soak.of(OWN_SERVICE_WORKFLOW);
        JsonNode step = soak.steps().get(soak.index(s -> s.path("run").asText().contains("gatling:test"), "runs the soak"));
        Map<String, String> overrides = new LinkedHashMap<>();
        Matcher d = Pattern.compile("-D([\\w.]+)=\"?\\$(\\w+)\"?").matcher(step.path("run").asText());
        while (d.find()) {
            String variable = d.group(2);
            String source = step.path("env").path(variable).asText();
            assertFalse(source.isEmpty(), "-D" + d.group(1) + " reads $" + variable + ", which the step's env: sets");
            overrides.put(d.group(1), variable);
        }
        assertTrue(overrides.containsKey("database.password") && overrides.containsKey("app.url"), overrides.toString());
        assertTrue(step.path("env").path(overrides.get("database.password")).asText().startsWith("${{ secrets."),
                "the password comes from a secret");

        Matcher env = Pattern.compile("-Ddoorbuster\\.env=([\\w-]+)").matcher(step.path("run").asText());
        assertTrue(env.find(), "the soak names its environment");
        Properties fromSecrets = new Properties();
        overrides.keySet().forEach(key -> fromSecrets.setProperty(key, sample(key)));
        Environment environment = new EnvironmentLoader(Path.of("examples", "starter", "environments"), fromSecrets)
                .load(env.group(1));
        assertEquals(Environment.Type.EXTERNAL, environment.type());
        assertEquals(sample("database.password"), environment.database().password());
        assertEquals(sample("app.url"), String.valueOf(environment.app().url()));
        assertTrue(step.path("run").asText().contains("-Dfaults.replication=false")
                        && !environment.allowFaults().contains("ReplicationLag"),
                "staging grants no replication fault, so the soak leaves it out");
    }

    /** A value a secret could hold for the field {@code key}. */
    private static String sample(String key) {
        return switch (key) {
            case "database.writerUrl" -> "jdbc:postgresql://db.staging.example.invalid:5432/my_service";
            case "database.user" -> "load_audit";
            case "database.password" -> "not-a-real-password";
            case "proxy.url" -> "http://proxy.staging.example.invalid:8474";
            case "app.metricsUrl" -> "http://staging.example.invalid:8080/actuator/prometheus";
            default -> "http://staging.example.invalid:8080";
        };
    }

    /** A workflow's one job, the soak, read as YAML. */
    record Soak(Path file, JsonNode workflow, JsonNode job) {
        static Soak of(Path file) throws IOException {
            JsonNode workflow = YAML.readTree(file.toFile());
            JsonNode jobs = workflow.path("jobs");
            assertEquals(1, jobs.size(), file + ": one job");
            return new Soak(file, workflow, jobs.elements().next());
        }

        List<JsonNode> steps() {
            List<JsonNode> steps = new ArrayList<>();
            job.path("steps").forEach(steps::add);
            assertFalse(steps.isEmpty());
            return steps;
        }

        int index(java.util.function.Predicate<JsonNode> step, String what) {
            List<JsonNode> steps = steps();
            for (int i = 0; i < steps.size(); i++) {
                if (step.test(steps.get(i))) {
                    return i;
                }
            }
            return fail(file() + ": no step that " + what);
        }
    }
}
