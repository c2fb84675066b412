package dev.doorbuster.topology.docker;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import com.github.dockerjava.api.DockerClient;
import dev.doorbuster.tools.Required;
import dev.doorbuster.topology.TopologyException;

/**
 * What the docker-environment tests need: a Docker engine and the images {@code docker/images/build} makes from
 * Debian's packages (no registry is pulled from). Where either is missing the tests are skipped, saying why.
 */
public final class DockerTestSupport {
    /** PostgreSQL 15 from Debian's packages, honouring the official image's contract. */
    public static final String POSTGRES_IMAGE = "doorbuster/postgres:15";
    /** Java 17 runtime from Debian's packages: Doorbuster's own proxy image is layered on it. */
    public static final String JAVA_IMAGE = "doorbuster/java:17";
    /** Redis 7 from Debian's packages, run as a cache: the cache tier ({@code app.cache}). */
    public static final String REDIS_IMAGE = "doorbuster/redis:7";
    /** PgBouncer 1.18 from Debian's package: the pooler tier ({@code postgres.pooler=pgbouncer}). */
    public static final String PGBOUNCER_IMAGE = "doorbuster/pgbouncer:1.18";

    private static String unavailable;
    private static boolean checked;

    private DockerTestSupport() {
    }

    /** As {@link #assumeDocker()}, and the cache tier's Redis image is here too. */
    public static void assumeDockerWithCache() {
        assumeDocker();
        Required.assume(DockerEngine.hasImage(docker(), REDIS_IMAGE), "Docker-environment test of the cache tier "
                + "skipped: image " + REDIS_IMAGE + " is not on this machine (build it: docker/images/build)");
    }

    /** As {@link #assumeDocker()}, and the pooler tier's PgBouncer image is here too. */
    public static void assumeDockerWithPooler() {
        assumeDocker();
        Required.assume(DockerEngine.hasImage(docker(), PGBOUNCER_IMAGE), "Docker-environment test of the pooler tier "
                + "skipped: image " + PGBOUNCER_IMAGE + " is not on this machine (build it: docker/images/build)");
    }

    /** Skips the calling test, with one line saying why, unless the engine answers and the images are here. */
    public static synchronized void assumeDocker() {
        if (!checked) {
            checked = true;
            awaitImageBuild();
            try {
                DockerClient docker = DockerEngine.connect();
                for (String image : List.of(POSTGRES_IMAGE, JAVA_IMAGE)) {
                    if (!DockerEngine.hasImage(docker, image)) {
                        unavailable = "image " + image + " is not on this machine (build it: docker/images/build)";
                        break;
                    }
                }
            } catch (TopologyException e) {
                unavailable = e.getMessage();
            }
        }
        Required.assume(unavailable == null, "Docker-environment test skipped: " + unavailable);
    }

    /**
     * An image build in progress ({@code .ci/run} starts {@code docker/images/build} beside the fast tier) holds the
     * build's lock ({@code flock}, as the script takes it): wait, bounded, until it is done, so the images it makes
     * are judged present or missing only once it has finished.
     */
    private static void awaitImageBuild() {
        String tmp = System.getenv().getOrDefault("TMPDIR", "/tmp");
        Path lock = Path.of(tmp.isEmpty() ? "/tmp" : tmp, "doorbuster-images.lock");
        try {
            Process wait = new ProcessBuilder("flock", "-w", "900", lock.toString(), "true")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!wait.waitFor(910, TimeUnit.SECONDS)) {
                wait.destroyForcibly();
            }
        } catch (IOException e) {
            // No flock on this machine: nothing can hold the lock either.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** {@code -D} overrides that point the docker environment at the images built here. */
    public static Map<String, String> localImages() {
        return Map.of("doorbuster.env", "docker", "docker.postgresImage", POSTGRES_IMAGE, "docker.javaImage", JAVA_IMAGE,
                "docker.redisImage", REDIS_IMAGE, "docker.pgbouncerImage", PGBOUNCER_IMAGE);
    }

    /**
     * The reference storefront as a service image, as a user's would be: it takes its database from environment
     * variables ({@code WRITER_URL}, {@code READER_URL}, {@code DB_USER}, {@code DB_PASSWORD}, {@code SEED_PRODUCTS},
     * {@code SEED_USERS}, {@code ROUTING}), listens on 8080 and answers {@code /health}. Built here on Doorbuster's runtime image.
     */
    public static String storefrontImage() {
        DockerClient docker = docker();
        String runtime = RuntimeImage.ensure(docker, JAVA_IMAGE);
        String dockerfile = "FROM " + runtime + "\n"
                + "EXPOSE 8080\n"
                + "CMD [\"sh\", \"-c\", \"exec java -Xmx384m -XX:+UseParallelGC -cp '" + RuntimeImage.CLASSPATH + "' "
                + "dev.doorbuster.app.Storefront --host 0.0.0.0 --port 8080 --writer-url \\\"$WRITER_URL\\\" "
                + "--reader-url \\\"$READER_URL\\\" --db-user \\\"$DB_USER\\\" --db-password \\\"$DB_PASSWORD\\\" "
                + "--routing \\\"$ROUTING\\\" --init-schema --seed-products \\\"$SEED_PRODUCTS\\\" --seed-users \\\"$SEED_USERS\\\"\"]\n";
        String tag = "doorbuster/storefront-test:" + runtime.substring(runtime.indexOf(':') + 1) + "-"
                + Integer.toHexString(dockerfile.hashCode());
        if (DockerEngine.hasImage(docker, tag)) {
            return tag;
        }
        // Earlier builds (older classes) go, so that their runtime images can go too.
        for (var image : docker.listImagesCmd().withImageNameFilter("doorbuster/storefront-test").exec()) {
            try {
                docker.removeImageCmd(image.getId()).withForce(true).exec();
            } catch (RuntimeException inUse) {
                // a container still uses it; the next build tries again
            }
        }
        try {
            java.io.ByteArrayOutputStream tar = new java.io.ByteArrayOutputStream();
            try (var out = new org.apache.commons.compress.archivers.tar.TarArchiveOutputStream(tar)) {
                byte[] content = dockerfile.getBytes(java.nio.charset.StandardCharsets.UTF_8);
                var entry = new org.apache.commons.compress.archivers.tar.TarArchiveEntry("Dockerfile");
                entry.setSize(content.length);
                out.putArchiveEntry(entry);
                out.write(content);
                out.closeArchiveEntry();
            }
            docker.buildImageCmd().withTarInputStream(new java.io.ByteArrayInputStream(tar.toByteArray()))
                    .withTags(java.util.Set.of(tag)).withPull(false).withLabels(Map.of("dev.doorbuster.image", "true"))
                    .exec(new com.github.dockerjava.api.command.BuildImageResultCallback()).awaitImageId();
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        return tag;
    }

    public static DockerClient docker() {
        return DockerEngine.connect();
    }

    /** Containers, networks and volumes labelled with run {@code runId}, as "kind name" lines. */
    public static List<String> resourcesOf(String runId) {
        DockerClient docker = docker();
        String label = RunResources.RUN + "=" + runId;
        List<String> found = new ArrayList<>();
        docker.listContainersCmd().withShowAll(true).withLabelFilter(List.of(label)).exec()
                .forEach(c -> found.add("container " + String.join(",", c.getNames())));
        docker.listNetworksCmd().withFilter("label", List.of(label)).exec()
                .forEach(n -> found.add("network " + n.getName()));
        var volumes = docker.listVolumesCmd().withFilter("label", List.of(label)).exec().getVolumes();
        if (volumes != null) {
            volumes.forEach(v -> found.add("volume " + v.getName()));
        }
        return found;
    }

    /**
     * Runs of the JVM {@code ownerPid} that have labelled containers, networks or volumes now. Scoped to one owner
     * because the docker tests share the engine with each other (and with other checkouts' runs): what one test left
     * is told apart from what a neighbour is still using by the owner label every resource carries.
     */
    public static java.util.Set<String> runsOwnedBy(long ownerPid) {
        DockerClient docker = docker();
        String owner = RunResources.OWNER_PID + "=" + ownerPid;
        java.util.Set<String> runs = new java.util.TreeSet<>();
        docker.listContainersCmd().withShowAll(true).withLabelFilter(List.of(owner)).exec()
                .forEach(c -> runs.add(c.getLabels().get(RunResources.RUN)));
        docker.listNetworksCmd().withFilter("label", List.of(owner)).exec()
                .forEach(n -> runs.add(n.getLabels().get(RunResources.RUN)));
        var volumes = docker.listVolumesCmd().withFilter("label", List.of(owner)).exec().getVolumes();
        if (volumes != null) {
            volumes.forEach(v -> runs.add(v.getLabels().get(RunResources.RUN)));
        }
        return runs;
    }
}
