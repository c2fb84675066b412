package dev.doorbuster.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
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
import java.util.stream.Collectors;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.doorbuster.tools.NpmTools;
import dev.doorbuster.load.Sharding;
import dev.doorbuster.topology.Environment;
import dev.doorbuster.topology.EnvironmentLoader;
import dev.doorbuster.tools.Required;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Kubernetes manifests in {@code k8s/}: every object, as {@code kubectl apply -k k8s/} would send it, is valid
 * against the Kubernetes OpenAPI schema (the npm package kubernetes-models, installed into {@code target/tools} on
 * first use; skipped, with the reason, where npm is not installed), and the manifests agree with the sharded run's
 * contract (docs/kubernetes.md): an Indexed injector Job whose completions and parallelism are the
 * {@code -Dshard.count} every pod passes, one coordinator with the same count and shard directory, one
 * ReadWriteMany claim mounted by all, an environment file that loads, a simulation class that exists.
 *
 * <p>The kustomization is rendered here as far as these manifests use it (namespace, images, configMapGenerator
 * literals and files, replacements into scalar fields keeping their type, as kustomize does), so the test needs
 * no kubectl.
 */
class ManifestsTest {
    private static final Path DIR = Path.of("k8s");
    private static final String VALIDATOR = "kubernetes-models@5.1.0";
    private static final YAMLMapper YAML = new YAMLMapper();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern VARIABLE = Pattern.compile("\\$\\(([A-Za-z_][A-Za-z0-9_]*)\\)");

    /** kustomization.yaml */
    private static JsonNode kustomization;
    /** Every object as applied: the resources, then the generated ConfigMaps; each with the file it came from. */
    private static final List<Source> objects = new ArrayList<>();

    private record Source(String file, ObjectNode object) {
        String kind() {
            return object.path("kind").asText();
        }

        String name() {
            return object.path("metadata").path("name").asText();
        }
    }

    @BeforeAll
    static void render() throws IOException {
        kustomization = YAML.readTree(DIR.resolve("kustomization.yaml").toFile());
        List<String> resources = new ArrayList<>();
        kustomization.path("resources").forEach(r -> resources.add(r.asText()));
        Set<String> files;
        try (Stream<Path> list = Files.list(DIR)) {
            files = list.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".yaml") && !n.equals("kustomization.yaml"))
                    .collect(Collectors.toCollection(TreeSet::new));
        }
        assertEquals(files, new TreeSet<>(resources), "kustomization.yaml's resources are exactly the other k8s/*.yaml");
        for (String file : resources) {
            try (var docs = YAML.readerFor(ObjectNode.class).<ObjectNode>readValues(DIR.resolve(file).toFile())) {
                docs.forEachRemaining(o -> objects.add(new Source(file, o)));
            }
        }
        for (JsonNode generator : kustomization.path("configMapGenerator")) {
            ObjectNode map = JSON.createObjectNode().put("apiVersion", "v1").put("kind", "ConfigMap");
            map.putObject("metadata").put("name", generator.path("name").asText());
            ObjectNode data = map.putObject("data");
            for (JsonNode literal : generator.path("literals")) {
                String[] kv = literal.asText().split("=", 2);
                assertEquals(2, kv.length, "a literal is KEY=value: " + literal);
                data.put(kv[0], kv[1]);
            }
            for (JsonNode file : generator.path("files")) {
                String[] kv = file.asText().split("=", 2);
                Path path = DIR.resolve(kv[kv.length - 1]);
                data.put(kv.length == 2 ? kv[0] : path.getFileName().toString(), Files.readString(path));
            }
            objects.add(new Source("kustomization.yaml", map));
        }
        String namespace = kustomization.path("namespace").asText(null);
        for (Source s : objects) {
            if (namespace != null) {
                ((ObjectNode) s.object().get("metadata")).put("namespace", namespace);
            }
            for (JsonNode container : containers(s.object())) {
                for (JsonNode image : kustomization.path("images")) {
                    if (container.path("image").asText().equals(image.path("name").asText())) {
                        ((ObjectNode) container).put("image", image.path("newName").asText(image.path("name").asText())
                                + ":" + image.path("newTag").asText("latest"));
                    }
                }
            }
        }
        for (JsonNode replacement : kustomization.path("replacements")) {
            JsonNode source = replacement.path("source");
            String value = at(find(source.path("kind").asText(), source.path("name").asText()).object(),
                    source.path("fieldPath").asText()).asText();
            for (JsonNode target : replacement.path("targets")) {
                Source into = find(target.path("select").path("kind").asText(), target.path("select").path("name").asText());
                for (JsonNode fieldPath : target.path("fieldPaths")) {
                    String path = fieldPath.asText();
                    int dot = path.lastIndexOf('.');
                    ObjectNode parent = (ObjectNode) at(into.object(), path.substring(0, dot));
                    String field = path.substring(dot + 1);
                    assertTrue(parent.has(field), "replacement target " + path + " exists in " + into.name());
                    // A scalar target keeps its type (kustomize copies only the value): 3 stays a number.
                    parent.set(field, parent.get(field).isInt() ? IntNode.valueOf(Integer.parseInt(value)) : TextNode.valueOf(value));
                }
            }
        }
    }

    @Test
    void theManifestsAgreeWithTheShardedRunContract() throws Exception {
        Source injector = find("Job", "doorbuster-injector");
        Source coordinator = find("Job", "doorbuster-coordinator");
        JsonNode injectorSpec = injector.object().get("spec");
        assertEquals("Indexed", injectorSpec.path("completionMode").asText(), "the injectors are an Indexed Job");

        Map<String, String> injectorOptions = systemProperties(injector);
        Map<String, String> coordinatorOptions = systemProperties(coordinator);
        int shards = Integer.parseInt(injectorOptions.get(Sharding.COUNT));
        assertTrue(shards >= 1, "shard.count " + shards);
        assertEquals(shards, injectorSpec.path("completions").asInt(), "completions == -Dshard.count");
        assertEquals(shards, injectorSpec.path("parallelism").asInt(), "parallelism == -Dshard.count: all at once");
        assertFalse(injectorOptions.containsKey(Sharding.INDEX), "each injector's index comes from JOB_COMPLETION_INDEX");
        assertFalse(injectorOptions.containsKey(Sharding.ROLE), "injector is the default role");

        assertEquals("coordinator", coordinatorOptions.get(Sharding.ROLE));
        assertEquals(String.valueOf(shards), coordinatorOptions.get(Sharding.COUNT), "the coordinator waits for N injectors");
        assertEquals(1, coordinator.object().path("spec").path("completions").asInt(1), "one coordinator");
        assertEquals(1, coordinator.object().path("spec").path("parallelism").asInt(1), "one coordinator");
        assertNotNull(injectorOptions.get(Sharding.DIR));
        assertEquals(injectorOptions.get(Sharding.DIR), coordinatorOptions.get(Sharding.DIR), "one shard directory");
        assertEquals(injectorOptions.get("doorbuster.env"), coordinatorOptions.get("doorbuster.env"), "one environment");
        String runId = runValues().get("RUN_ID");
        assertTrue(injectorOptions.get(Sharding.DIR).contains("/" + runId + "/")
                        || injectorOptions.get(Sharding.DIR).endsWith("/" + runId),
                "one shard directory per run: " + injectorOptions.get(Sharding.DIR));
        assertTrue(coordinatorOptions.get("doorbuster.reports").contains("/" + runId + "/"),
                "the verdict is kept per run on the claim: " + coordinatorOptions.get("doorbuster.reports"));

        JsonNode claim = find("PersistentVolumeClaim", claimName(injector)).object();
        assertEquals(claimName(injector), claimName(coordinator), "both Jobs mount the same claim");
        assertTrue(claim.path("spec").path("accessModes").toString().contains("ReadWriteMany"),
                "pods on several nodes write the claim at once");
        String results = mountPath(injector, claimName(injector));
        assertEquals(results, mountPath(coordinator, claimName(coordinator)), "mounted at the same path");
        for (String where : List.of(injectorOptions.get(Sharding.DIR), coordinatorOptions.get("doorbuster.reports"))) {
            assertTrue(where.startsWith(results + "/"), where + " is on the results claim (" + results + ")");
        }

        for (Source job : List.of(injector, coordinator)) {
            JsonNode spec = job.object().get("spec");
            assertEquals(0, spec.path("backoffLimit").asInt(-1), job.name() + ": never retried (a retry duplicates load)");
            assertEquals("Never", spec.path("template").path("spec").path("restartPolicy").asText(), job.name());
            assertTrue(spec.path("activeDeadlineSeconds").asInt() > 0, job.name() + ": bounded in time");
            JsonNode container = containers(job.object()).get(0);
            for (String bound : List.of("requests", "limits")) {
                for (String resource : List.of("cpu", "memory")) {
                    assertFalse(container.path("resources").path(bound).path(resource).isMissingNode(),
                            job.name() + ": resources." + bound + "." + resource);
                }
            }
            List<String> args = new ArrayList<>();
            container.path("args").forEach(a -> args.add(expand(job, a.asText())));
            int s = args.indexOf("-s");
            assertTrue(s >= 0 && s + 1 < args.size(), job.name() + " names its simulation with -s: " + args);
            Class.forName(args.get(s + 1), false, getClass().getClassLoader()); // the simulation exists
            assertTrue(args.contains("-rf"), job.name() + " names Gatling's results folder");
        }
        assertEquals(expand(injector, "$(SIMULATION)"), expand(coordinator, "$(SIMULATION)"), "one simulation");

        // The environment file: -Ddoorbuster.env names a file of the mounted ConfigMap, by path, and it loads.
        String env = injectorOptions.get("doorbuster.env");
        JsonNode mount = null;
        String configMap = null;
        for (JsonNode volume : injector.object().at("/spec/template/spec/volumes")) {
            if (volume.has("configMap")) {
                configMap = volume.path("configMap").path("name").asText();
                for (JsonNode m : containers(injector.object()).get(0).path("volumeMounts")) {
                    if (m.path("name").asText().equals(volume.path("name").asText())) {
                        mount = m;
                    }
                }
            }
        }
        assertNotNull(mount, "the environment ConfigMap is mounted");
        String file = env.substring(env.lastIndexOf('/') + 1);
        assertEquals(mount.path("mountPath").asText() + "/" + file, env, "-Ddoorbuster.env is a path into the ConfigMap");
        assertTrue(file.endsWith(".json"), "a .json path (EnvironmentLoader reads it as a file): " + env);
        String content = find("ConfigMap", configMap).object().path("data").path(file).asText(null);
        assertNotNull(content, "ConfigMap " + configMap + " has " + file);
        Path copy = Files.createTempDirectory("k8s-env").resolve(file);
        Files.writeString(copy, content);
        Environment environment = new EnvironmentLoader(Path.of("environments"), new Properties()).load(copy.toString());
        assertEquals(Environment.Type.EXTERNAL, environment.type(),
                "in a cluster the injectors must reach the environment: an external one");
        Files.delete(copy);
        Files.delete(copy.getParent());
    }

    @Test
    void everyObjectIsValidAgainstTheKubernetesSchemaAndBrokenOnesAreNot() throws Exception {
        Path tools = NpmTools.DIR;
        NpmTools.ensure(VALIDATOR, tools.resolve("node_modules/kubernetes-models/package.json"),
                "the manifests' schema check");
        Required.assume(NpmTools.onPath("node"), "node is not installed: the manifests' schema check needs it");
        Path script = tools.resolve("validate-k8s.mjs");
        Files.writeString(script, SCRIPT);

        ArrayNode input = JSON.createArrayNode();
        for (Source s : objects) {
            input.addObject().put("id", s.file() + " " + s.kind() + "/" + s.name()).set("object", s.object());
        }
        // Deliberately broken copies: each must be rejected, saying why.
        Map<String, String> broken = new LinkedHashMap<>();
        ObjectNode wrongType = find("Job", "doorbuster-injector").object().deepCopy();
        ((ObjectNode) wrongType.get("spec")).put("completions", "three");
        broken.put("completions: \"three\"", "data/spec/completions must be integer");
        ObjectNode noName = find("Job", "doorbuster-coordinator").object().deepCopy();
        ((ObjectNode) containers(noName).get(0)).remove("name");
        broken.put("a container without a name", "must have required property name");
        ObjectNode badMode = find("Job", "doorbuster-injector").object().deepCopy();
        ((ObjectNode) badMode.get("spec")).put("completionMode", "Indexd");
        broken.put("completionMode: Indexd", "data/spec/completionMode must be equal to one of the allowed values");
        ObjectNode badSize = find("PersistentVolumeClaim", "doorbuster-results").object().deepCopy();
        ((ObjectNode) badSize.at("/spec/resources/requests")).put("storage", "five gigs");
        broken.put("storage: five gigs", "must match format \"quantity\"");
        List<ObjectNode> copies = List.of(wrongType, noName, badMode, badSize);
        int i = 0;
        for (String id : broken.keySet()) {
            input.addObject().put("id", "broken: " + id).set("object", copies.get(i++));
        }
        Path json = Files.createTempFile(tools, "k8s-objects", ".json");
        try {
            JSON.writeValue(json.toFile(), input);
            NpmTools.Result check = NpmTools.run(tools, List.of("node", script.toString(), json.toString()), 60);
            Map<String, String> verdicts = new LinkedHashMap<>();
            for (String line : check.output().split("\n")) {
                int tab = line.indexOf('\t');
                if (tab > 0) {
                    verdicts.put(line.substring(0, tab), line.substring(tab + 1));
                }
            }
            for (Source s : objects) {
                String id = s.file() + " " + s.kind() + "/" + s.name();
                assertEquals("valid", verdicts.get(id), id + " against the Kubernetes schema:\n" + check.output());
            }
            broken.forEach((id, message) -> {
                String verdict = verdicts.get("broken: " + id);
                assertTrue(verdict != null && verdict.startsWith("INVALID") && verdict.contains(message),
                        "the schema check rejects " + id + " with '" + message + "':\n" + check.output());
            });
            assertEquals(broken.size(), check.code(), "the validator's exit code counts the invalid objects:\n" + check.output());
        } finally {
            Files.deleteIfExists(json);
        }
    }

    /**
     * Validates each {@code {id, object}} of the JSON array file given with the kubernetes-models class of its
     * apiVersion and kind (Ajv against the Kubernetes OpenAPI schema: types, required fields, enums, formats;
     * unknown fields are not reported). Prints {@code id<TAB>valid} or {@code id<TAB>INVALID: reasons}; exits with
     * the number of invalid objects.
     */
    private static final String SCRIPT = """
            import { readFileSync } from "node:fs";
            const items = JSON.parse(readFileSync(process.argv[2], "utf8"));
            let invalid = 0;
            for (const { id, object } of items) {
              const apiVersion = String(object.apiVersion ?? "");
              const slash = apiVersion.indexOf("/");
              const module = slash < 0 ? `kubernetes-models/${apiVersion}`
                : `kubernetes-models/${apiVersion.slice(0, slash)}/${apiVersion.slice(slash + 1)}`;
              let verdict = "valid";
              try {
                const Kind = (await import(module))[object.kind];
                if (typeof Kind !== "function") throw new Error(`no kind ${object.kind} in ${apiVersion}`);
                new Kind(object).validate();
              } catch (e) {
                verdict = "INVALID: " + (e.message ?? e).toString().replace(/\\n/g, " ");
                invalid++;
              }
              console.log(`${id}\\t${verdict}`);
            }
            process.exitCode = invalid;
            """;

    private static Map<String, String> runValues() {
        return stringMap(find("ConfigMap", "doorbuster-run").object().path("data"));
    }

    /** The container's environment as Kubernetes gives it: envFrom ConfigMaps, then env with $(VAR) expanded. */
    private static Map<String, String> environment(Source job) {
        JsonNode container = containers(job.object()).get(0);
        Map<String, String> env = new LinkedHashMap<>();
        for (JsonNode from : container.path("envFrom")) {
            env.putAll(stringMap(find("ConfigMap", from.path("configMapRef").path("name").asText()).object().path("data")));
        }
        for (JsonNode variable : container.path("env")) {
            env.put(variable.path("name").asText(), expand(env, variable.path("value").asText()));
        }
        return env;
    }

    private static String expand(Source job, String text) {
        return expand(environment(job), text);
    }

    private static String expand(Map<String, String> env, String text) {
        Matcher m = VARIABLE.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String value = env.get(m.group(1));
            if (value == null) {
                fail("$(" + m.group(1) + ") is not defined before its use in: " + text);
            }
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        return m.appendTail(out).toString();
    }

    /** The -D options of JAVA_TOOL_OPTIONS, expanded. */
    private static Map<String, String> systemProperties(Source job) {
        String options = environment(job).get("JAVA_TOOL_OPTIONS");
        assertNotNull(options, job.name() + " passes its run's options in JAVA_TOOL_OPTIONS");
        Map<String, String> properties = new LinkedHashMap<>();
        for (String option : options.trim().split("\\s+")) {
            if (option.startsWith("-D")) {
                String[] kv = option.substring(2).split("=", 2);
                properties.put(kv[0], kv.length == 2 ? kv[1] : "");
            }
        }
        return properties;
    }

    private static String claimName(Source job) {
        for (JsonNode volume : job.object().at("/spec/template/spec/volumes")) {
            if (volume.has("persistentVolumeClaim")) {
                return volume.path("persistentVolumeClaim").path("claimName").asText();
            }
        }
        throw new AssertionError(job.name() + " mounts no claim");
    }

    private static String mountPath(Source job, String claim) {
        String volume = null;
        for (JsonNode v : job.object().at("/spec/template/spec/volumes")) {
            if (claim.equals(v.path("persistentVolumeClaim").path("claimName").asText())) {
                volume = v.path("name").asText();
            }
        }
        for (JsonNode m : containers(job.object()).get(0).path("volumeMounts")) {
            if (m.path("name").asText().equals(volume)) {
                return m.path("mountPath").asText();
            }
        }
        throw new AssertionError(job.name() + " does not mount " + claim);
    }

    private static Map<String, String> stringMap(JsonNode object) {
        Map<String, String> map = new LinkedHashMap<>();
        object.properties().forEach(e -> map.put(e.getKey(), e.getValue().asText()));
        return map;
    }

    /** The containers of a Pod or of a Job's pod template (empty for other kinds). */
    private static JsonNode containers(JsonNode object) {
        JsonNode podSpec = object.path("kind").asText().equals("Pod") ? object.path("spec")
                : object.path("spec").path("template").path("spec");
        return podSpec.path("containers").isArray() ? podSpec.path("containers") : JSON.createArrayNode();
    }

    private static JsonNode at(JsonNode object, String fieldPath) {
        JsonNode node = object.at("/" + fieldPath.replace('.', '/'));
        assertFalse(node.isMissingNode(), fieldPath + " in " + object.path("metadata").path("name").asText());
        return node;
    }

    private static Source find(String kind, String name) {
        return objects.stream().filter(s -> s.kind().equals(kind) && s.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + kind + " named " + name + " in k8s/"));
    }

}
