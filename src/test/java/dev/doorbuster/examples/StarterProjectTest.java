package dev.doorbuster.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import javax.xml.parsers.DocumentBuilderFactory;

import dev.doorbuster.topology.Environment;
import dev.doorbuster.topology.EnvironmentLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * examples/starter, the layout of a user's own load-test project, stays buildable against what {@code mvn install}
 * publishes: its POM asks for this project's coordinate, its simulations compile against the main classes and
 * their dependencies (never the test classes, which the artifact leaves out), and its environment files load.
 * javac runs in this JVM instead of a forked Maven build (seconds, not a minute, and no network); the Maven build
 * itself is in CONTRIBUTING.md ("The starter project").
 */
class StarterProjectTest {
    static final Path STARTER = Path.of("examples", "starter");

    @Test
    void itsPomDependsOnThisProjectsCoordinate() throws Exception {
        Element ours = pom(Path.of("pom.xml"));
        Element starter = pom(STARTER.resolve("pom.xml"));
        Element dependency = children(child(starter, "dependencies"), "dependency").stream()
                .filter(d -> text(d, "artifactId").equals(text(ours, "artifactId"))).findFirst().orElse(null);
        assertNotNull(dependency, "the starter depends on " + text(ours, "artifactId"));
        assertEquals(text(ours, "groupId"), text(dependency, "groupId"));
        assertEquals("${doorbuster.version}", text(dependency, "version"));
        Element starterProperties = child(starter, "properties");
        Element ourProperties = child(ours, "properties");
        assertEquals(text(ours, "version"), text(starterProperties, "doorbuster.version"),
                "the starter asks for the version `mvn install` installs");
        assertEquals(text(ourProperties, "gatling-maven-plugin.version"),
                text(starterProperties, "gatling-maven-plugin.version"), "the Gatling plugin Doorbuster is tested with");
        assertEquals(text(ourProperties, "maven.compiler.release"), text(starterProperties, "maven.compiler.release"));

        String simulation = text(starterProperties, "gatling.simulationClass");
        assertTrue(Files.isRegularFile(STARTER.resolve("src/test/java").resolve(simulation.replace('.', '/') + ".java")),
                "the default simulation exists: " + simulation);
        assertTrue(Files.isRegularFile(STARTER.resolve("environments")
                .resolve(text(starterProperties, "doorbuster.env") + ".json")), "the default environment exists");
    }

    @Test
    void itsSimulationsCompileAgainstTheArtifactsClasses(@TempDir Path out) throws IOException {
        List<Path> sources;
        try (Stream<Path> files = Files.walk(STARTER.resolve("src/test/java"))) {
            sources = files.filter(f -> f.toString().endsWith(".java")).sorted().toList();
        }
        assertFalse(sources.isEmpty(), "the starter has simulations");

        // The artifact holds target/classes and depends on the runtime jars; target/test-classes is not in it.
        Path testClasses = Path.of("target", "test-classes").toAbsolutePath();
        List<String> classpath = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(entry -> !Path.of(entry).toAbsolutePath().equals(testClasses))
                .collect(Collectors.toCollection(ArrayList::new));
        assertTrue(classpath.stream().anyMatch(e -> Path.of(e).toAbsolutePath().endsWith(Path.of("target", "classes"))),
                "the main classes are on the class path: " + classpath);

        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        StringWriter messages = new StringWriter();
        try (StandardJavaFileManager files = javac.getStandardFileManager(null, null, null)) {
            Iterable<? extends JavaFileObject> units = files.getJavaFileObjectsFromPaths(sources);
            boolean compiled = javac.getTask(messages, files, null, List.of("--release", "17", "-Xlint:all,-processing",
                    "-classpath", String.join(File.pathSeparator, classpath), "-d", out.toString()), null, units).call();
            assertTrue(compiled, "the starter's simulations do not compile against Doorbuster's main classes:\n" + messages);
        }
        assertTrue(Files.isRegularFile(out.resolve("com/example/myservice/MyServiceSimulation.class")));
    }

    @Test
    void itsEnvironmentsLoad() {
        EnvironmentLoader loader = new EnvironmentLoader(STARTER.resolve("environments"), new Properties());
        Environment docker = loader.load("my-service");
        assertEquals(Environment.Type.DOCKER, docker.type());
        assertNotNull(docker.app().image(), "the docker environment runs the service's image");

        Environment staging = loader.load("my-service-staging");
        assertEquals(Environment.Type.EXTERNAL, staging.type());
        assertFalse(staging.allowFaults().contains("ReplicationLag"),
                "no proxy on the replication stream: its CI runs with -Dfaults.replication=false");
        assertEquals("", staging.database().password(), "no password in the file: CI passes it as -Ddatabase.password");

        Properties secrets = new Properties();
        secrets.setProperty("database.password", "from-a-secret");
        secrets.setProperty("app.url", "http://staging.example.invalid:8080");
        Environment overridden = new EnvironmentLoader(STARTER.resolve("environments"), secrets).load("my-service-staging");
        assertEquals("from-a-secret", overridden.database().password(), "the workflow's -D overrides reach the run");
        assertEquals("http://staging.example.invalid:8080", String.valueOf(overridden.app().url()));
    }

    static Element pom(Path file) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        Document document = factory.newDocumentBuilder().parse(file.toFile());
        return document.getDocumentElement();
    }

    static Element child(Element parent, String name) {
        List<Element> found = children(parent, name);
        assertEquals(1, found.size(), "one <" + name + "> under <" + parent.getTagName() + ">");
        return found.get(0);
    }

    static List<Element> children(Element parent, String name) {
        List<Element> found = new ArrayList<>();
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(name)) {
                found.add(e);
            }
        }
        return found;
    }

    static String text(Element parent, String name) {
        return child(parent, name).getTextContent().trim();
    }
}
