package dev.doorbuster.examples;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.BuildImageResultCallback;
import dev.doorbuster.topology.docker.DockerTestSupport;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * The image of examples/spring-shop, built on this machine as its guide says: Maven builds the jar from the example's
 * own pom (its tests included), then {@code examples/spring-shop/Dockerfile} puts it on {@code doorbuster/java:17}.
 * Tagged by a digest of what it is made from (the runtime image's id, the Dockerfile, the pom and every file under
 * src/main): an unchanged example is reused at once, without Maven; a changed one is rebuilt and the older images go.
 * Parallel tests (and checkouts) build it once: a file lock is held while building.
 */
final class SpringShopImage {
    static final Path PROJECT = Path.of("examples", "spring-shop");
    static final String REPOSITORY = "doorbuster/spring-shop";
    static final String JAR = "target/spring-shop.jar";
    private static final Path LOCK = Path.of(System.getProperty("java.io.tmpdir"), "doorbuster-spring-shop-image.lock");
    private static final long MAVEN_MINUTES = 10;

    private SpringShopImage() {
    }

    /** What the last {@link #ensure()} did, for the test log: "reused" or "built in N s". */
    static volatile String lastBuild = "";

    /** The image's name, built now unless an image of the same inputs exists. */
    static synchronized String ensure() throws IOException, InterruptedException {
        DockerClient docker = DockerTestSupport.docker();
        String base = docker.inspectImageCmd(DockerTestSupport.JAVA_IMAGE).exec().getId();
        String tag = REPOSITORY + ":" + digest(base);
        try (FileChannel channel = FileChannel.open(LOCK, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock ignored = channel.lock()) {
            if (hasImage(docker, tag)) {
                lastBuild = "reused " + tag;
                return tag;
            }
            long started = System.nanoTime();
            buildJar();
            long jarBuilt = System.nanoTime();
            buildImage(docker, tag);
            lastBuild = String.format("built %s in %.1f s (Maven %.1f s, image %.1f s)", tag,
                    (System.nanoTime() - started) / 1e9, (jarBuilt - started) / 1e9, (System.nanoTime() - jarBuilt) / 1e9);
            removeOlder(docker, tag);
            return tag;
        }
    }

    private static boolean hasImage(DockerClient docker, String tag) {
        try {
            docker.inspectImageCmd(tag).exec();
            return true;
        } catch (com.github.dockerjava.api.exception.NotFoundException e) {
            return false;
        }
    }

    /** Runtime image id, then each input file's path and content, in a fixed order. */
    private static String digest(String baseImageId) throws IOException {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(baseImageId.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            for (Path file : inputs()) {
                sha.update(PROJECT.relativize(file).toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                sha.update((byte) 0);
                sha.update(Files.readAllBytes(file));
            }
            return HexFormat.of().formatHex(sha.digest()).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<Path> inputs() throws IOException {
        List<Path> files = new ArrayList<>(List.of(PROJECT.resolve("pom.xml"), PROJECT.resolve("Dockerfile")));
        try (Stream<Path> tree = Files.walk(PROJECT.resolve("src").resolve("main"))) {
            tree.filter(Files::isRegularFile).sorted().forEach(files::add);
        }
        return files;
    }

    /**
     * {@code mvn package} of the example, offline first (everything it needs is usually in the local repository
     * already), then online if offline resolution failed. Maven is the one running this build ({@code maven.home},
     * when set), else {@code mvn} on the PATH.
     */
    private static void buildJar() throws IOException, InterruptedException {
        Path log = Files.createTempFile("spring-shop-build-", ".log");
        try {
            int exit = maven(log, true);
            if (exit != 0 && Files.readString(log).contains("offline")) {
                exit = maven(log, false);
            }
            if (exit != 0 || !Files.isRegularFile(PROJECT.resolve(JAR))) {
                List<String> lines = Files.readAllLines(log);
                throw new IllegalStateException("mvn package of " + PROJECT + " failed (exit " + exit + "):\n"
                        + String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size())));
            }
        } finally {
            Files.deleteIfExists(log);
        }
    }

    private static int maven(Path log, boolean offline) throws IOException, InterruptedException {
        String home = System.getProperty("maven.home");
        String mvn = home != null && Files.isExecutable(Path.of(home, "bin", "mvn"))
                ? Path.of(home, "bin", "mvn").toString() : "mvn";
        List<String> command = new ArrayList<>(List.of(mvn, "-B", "-f", PROJECT.resolve("pom.xml").toString()));
        if (offline) {
            command.add("-o");
        }
        String repository = System.getProperty("maven.repo.local");
        if (repository != null) {
            command.add("-Dmaven.repo.local=" + repository);
        }
        command.add("package");
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        // The surrounding build's test JVM options are not the example's.
        builder.environment().remove("JAVA_TOOL_OPTIONS");
        builder.environment().remove("MAVEN_OPTS");
        Process maven = builder.start();
        if (!maven.waitFor(MAVEN_MINUTES, TimeUnit.MINUTES)) {
            maven.destroyForcibly();
            throw new IllegalStateException("mvn package of " + PROJECT + " took more than " + MAVEN_MINUTES + " min");
        }
        return maven.exitValue();
    }

    /** {@code docker build} of the Dockerfile with the jar as its context; never pulls. */
    private static void buildImage(DockerClient docker, String tag) throws IOException {
        Path context = Files.createTempFile("spring-shop-image-", ".tar");
        try {
            try (TarArchiveOutputStream tar = new TarArchiveOutputStream(Files.newOutputStream(context))) {
                tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
                for (String name : List.of("Dockerfile", JAR)) {
                    Path file = PROJECT.resolve(name);
                    TarArchiveEntry entry = new TarArchiveEntry(name);
                    entry.setSize(Files.size(file));
                    tar.putArchiveEntry(entry);
                    Files.copy(file, tar);
                    tar.closeArchiveEntry();
                }
            }
            try (InputStream in = Files.newInputStream(context)) {
                docker.buildImageCmd().withTarInputStream(in).withTags(Set.of(tag)).withPull(false)
                        .withLabels(Map.of("dev.doorbuster.image", "true"))
                        .exec(new BuildImageResultCallback()).awaitImageId();
            }
        } finally {
            Files.deleteIfExists(context);
        }
    }

    /** Images of earlier versions of the example go (unless a container still uses one). */
    private static void removeOlder(DockerClient docker, String keep) {
        for (var image : docker.listImagesCmd().withImageNameFilter(REPOSITORY).exec()) {
            if (image.getRepoTags() != null && List.of(image.getRepoTags()).contains(keep)) {
                continue;
            }
            try {
                docker.removeImageCmd(image.getId()).withForce(false).exec();
            } catch (RuntimeException inUse) {
                // a container still uses it; the next build tries again
            }
        }
    }
}
