package dev.doorbuster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import dev.doorbuster.tools.Required;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bin/doorbuster, run as a real process with a PATH and JAVA_HOME of the test's choosing, in a copy of the clone's
 * layout: bin/doorbuster next to a target/doorbuster-&lt;version&gt;.jar. That jar is the packaged one's stand-in, a
 * manifest naming the CLI's main class and, as the real one names target/lib/, this build's classes and jars; so the
 * real command line answers, without `mvn package` in the fast tier.
 */
class LauncherTest {
    static final Path SCRIPT = Path.of("bin", "doorbuster");

    @TempDir
    Path dir;

    Path clone;
    /** A folder for PATH that holds nothing: the script must not need any tool but java and mvn. */
    Path emptyPath;
    String javaHome = System.getProperty("java.home");

    @BeforeEach
    void cloneLayout() throws IOException, URISyntaxException {
        clone = dir.resolve("clone with space");
        Files.createDirectories(clone.resolve("bin"));
        Files.copy(SCRIPT, clone.resolve("bin/doorbuster"));
        emptyPath = Files.createDirectories(dir.resolve("empty-path"));
    }

    @Test
    void theScriptIsAnExecutablePosixShellScript() throws IOException {
        assertTrue(Files.isExecutable(SCRIPT), SCRIPT + " is executable (git keeps its mode 755)");
        assertTrue(Files.readString(SCRIPT).startsWith("#!/bin/sh\n"), "POSIX sh, not bash");
    }

    @Test
    void helpComesFromTheCommandLine() throws Exception {
        packagedJar();
        Result help = run(Map.of("JAVA_HOME", javaHome), "--help");
        assertEquals(0, help.code(), help.toString());
        assertTrue(help.out().contains("Usage: doorbuster") && help.out().contains("prune"), help.toString());
    }

    @Test
    void noArgumentsPrintUsageWithoutStartingJava() throws Exception {
        Result none = run(Map.of()); // no java on PATH, no jar: neither is needed to say how to use it
        assertEquals(2, none.code(), none.toString());
        assertTrue(none.err().contains("Usage: doorbuster COMMAND") && none.err().contains("baseline"), none.toString());
    }

    @Test
    void aBadCommandIsAUsageErrorOfTheCommandLine() throws Exception {
        packagedJar();
        Result bad = run(Map.of("JAVA_HOME", javaHome), "frobnicate");
        assertEquals(2, bad.code(), bad.toString());
        assertTrue(bad.err().contains("'frobnicate'") && bad.err().contains("Usage: doorbuster"), bad.toString());
    }

    @Test
    void argumentsPassUnchangedAndTheExitCodeComesBack() throws Exception {
        packagedJar();
        Path notARun = dir.resolve("no run * here");
        Result failed = run(Map.of("JAVA_HOME", javaHome), "baseline", notARun.toString());
        assertEquals(1, failed.code(), failed.toString());
        assertTrue(failed.err().contains(notARun + " is not a run folder"), "one argument, spaces and star kept: " + failed);
    }

    @Test
    void javaOnPathIsFoundThroughALinkToTheScript() throws Exception {
        packagedJar();
        Path onPath = Files.createDirectories(dir.resolve("path-with-java"));
        Files.createSymbolicLink(onPath.resolve("java"), Path.of(javaHome, "bin", "java"));
        Path userBin = Files.createDirectories(dir.resolve("user-bin"));
        Path link = Files.createSymbolicLink(userBin.resolve("doorbuster"), clone.resolve("bin/doorbuster"));
        Result cannotFollow = run(link, Map.of("PATH", onPath.toString()), "--version");
        assertEquals(1, cannotFollow.code(), cannotFollow.toString());
        assertTrue(cannotFollow.err().contains("no readlink on PATH to follow it"), cannotFollow.toString());

        Path readlink = Path.of("/usr/bin/readlink");
        Required.assume(Files.isExecutable(readlink), "no " + readlink + " to follow the link with");
        Files.createSymbolicLink(onPath.resolve("readlink"), readlink);
        Result version = run(link, Map.of("PATH", onPath.toString()), "--version");
        assertEquals(0, version.code(), version.toString());
        assertTrue(version.out().startsWith("doorbuster "), version.toString());
    }

    @Test
    void noJavaAnywhereIsSaid() throws Exception {
        packagedJar();
        Result noJava = run(Map.of(), "report");
        assertEquals(1, noJava.code(), noJava.toString());
        assertTrue(noJava.err().contains("no java found: install a JDK 17 or newer, or set JAVA_HOME"), noJava.toString());

        Result wrongHome = run(Map.of("JAVA_HOME", dir.resolve("no-jdk-here").toString()), "report");
        assertEquals(1, wrongHome.code(), wrongHome.toString());
        assertTrue(wrongHome.err().contains("which has no bin/java"), wrongHome.toString());
    }

    @Test
    void aJavaOlderThan17IsRefused() throws Exception {
        packagedJar();
        for (String[] old : new String[][] {{"openjdk version \"11.0.22\" 2024-01-16", "Java 11.0.22"},
                {"java version \"1.8.0_402\"", "Java 1.8.0_402"}}) {
            Path home = fakeJava(old[0]);
            Result refused = run(Map.of("JAVA_HOME", home.toString()), "report");
            assertEquals(1, refused.code(), refused.toString());
            assertTrue(refused.err().contains("Doorbuster needs Java 17 or newer; " + home.resolve("bin/java") + " is "
                    + old[1] + ". Set JAVA_HOME to a JDK 17 or newer."), refused.toString());
        }
        Result newer = run(Map.of("JAVA_HOME", fakeJava("openjdk version \"25-ea\" 2025-09-16").toString()), "report");
        assertEquals(0, newer.code(), "Java 25 is accepted (the fake java exits 0): " + newer);
    }

    @Test
    void aMissingJarWithoutMavenSaysHowToBuildIt() throws Exception {
        Files.writeString(clone.resolve("pom.xml"), "<project/>");
        Result noJar = run(Map.of("JAVA_HOME", javaHome), "report");
        assertEquals(1, noJar.code(), noJar.toString());
        assertTrue(noJar.err().contains("no target/doorbuster-<version>.jar yet, and no mvn on PATH to build it: run "
                + "'mvn -q -DskipTests package' in " + clone), noJar.toString());
        assertFalse(Files.exists(clone.resolve("target")), "nothing was built");
    }

    @Test
    void aMissingJarIsBuiltWithMavenOnce() throws Exception {
        Files.writeString(clone.resolve("pom.xml"), "<project/>");
        packagedJar();
        Path built = Files.move(clone.resolve("target"), dir.resolve("built-target")); // what the fake build leaves
        Path tools = Files.createDirectories(dir.resolve("path-with-mvn"));
        Path calls = dir.resolve("mvn-calls.txt");
        fakeTool(tools.resolve("mvn"), "printf '%s\\n' \"$PWD: $*\" >> '" + calls + "'\n"
                + "[ -d '" + built + "' ] || exit 1\n/bin/mv '" + built + "' target\n");

        Result first = run(Map.of("JAVA_HOME", javaHome, "PATH", tools.toString()), "--version");
        assertEquals(0, first.code(), first.toString());
        assertTrue(first.err().contains("building the jar once (mvn -q -DskipTests package in " + clone + ")"), first.toString());
        Result second = run(Map.of("JAVA_HOME", javaHome, "PATH", tools.toString()), "--version");
        assertEquals(0, second.code(), second.toString());
        assertEquals(List.of(clone + ": -q -DskipTests package"), Files.readAllLines(calls), "built in the clone, once");

        Files.move(clone.resolve("target"), dir.resolve("gone"));
        Result failedBuild = run(Map.of("JAVA_HOME", javaHome, "PATH", tools.toString()), "--version");
        assertEquals(1, failedBuild.code(), failedBuild.toString());
        assertTrue(failedBuild.err().contains("the build failed (above)"), failedBuild.toString());
    }

    /**
     * target/doorbuster-0.1.0-SNAPSHOT.jar and target/lib/ in the clone: a manifest-only jar whose Class-Path names,
     * relative to it as the Class-Path attribute requires, the main classes and the jars of this test's class path.
     */
    private void packagedJar() throws IOException, URISyntaxException {
        Path target = Files.createDirectories(clone.resolve("target"));
        Files.createDirectories(target.resolve("lib"));
        Path testClasses = Path.of("target", "test-classes").toAbsolutePath();
        List<String> classPath = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path path = Path.of(entry).toAbsolutePath();
            if (path.equals(testClasses) || !Files.exists(path)) {
                continue;
            }
            String relative = target.relativize(path).toString().replace(File.separatorChar, '/')
                    + (Files.isDirectory(path) ? "/" : "");
            classPath.add(new URI(null, null, relative, null).getRawPath());
        }
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, Doorbuster.class.getName());
        manifest.getMainAttributes().put(Attributes.Name.CLASS_PATH, String.join(" ", classPath));
        try (OutputStream out = Files.newOutputStream(target.resolve("doorbuster-0.1.0-SNAPSHOT.jar"));
             JarOutputStream jar = new JarOutputStream(out, manifest)) {
            jar.flush();
        }
    }

    /** A JAVA_HOME whose bin/java only prints {@code versionLine} as `java -version` does (to stderr). */
    private Path fakeJava(String versionLine) throws IOException {
        Path home = Files.createTempDirectory(dir, "jdk");
        fakeTool(Files.createDirectories(home.resolve("bin")).resolve("java"),
                "printf '%s\\n' '" + versionLine + "' 'OpenJDK Runtime Environment' >&2\n");
        return home;
    }

    private static void fakeTool(Path file, String script) throws IOException {
        Files.writeString(file, "#!/bin/sh\n" + script);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    record Result(int code, String out, String err) {
    }

    private Result run(Map<String, String> environment, String... args) throws Exception {
        return run(clone.resolve("bin/doorbuster"), environment, args);
    }

    /** Runs {@code script} with only the given environment, PATH defaulting to a folder with nothing in it. */
    private Result run(Path script, Map<String, String> environment, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(script.toString()));
        command.addAll(Arrays.asList(args));
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile());
        builder.environment().clear();
        builder.environment().put("PATH", emptyPath.toString());
        builder.environment().putAll(environment);
        Path out = dir.resolve("out.txt");
        Path err = dir.resolve("err.txt");
        Process process = builder.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("bin/doorbuster " + String.join(" ", args) + " did not end within 60 s");
        }
        return new Result(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }
}
