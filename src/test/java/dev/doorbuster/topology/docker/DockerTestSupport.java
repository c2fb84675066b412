package dev.doorbuster.topology.docker;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.github.dockerjava.api.DockerClient;
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

    private static String unavailable;
    private static boolean checked;

    private DockerTestSupport() {
    }

    /** Skips the calling test, with one line saying why, unless the engine answers and the images are here. */
    public static synchronized void assumeDocker() {
        if (!checked) {
            checked = true;
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
        assumeTrue(unavailable == null, () -> "Docker-environment test skipped: " + unavailable);
    }

    /** {@code -D} overrides that point the docker environment at the images built here. */
    public static Map<String, String> localImages() {
        return Map.of("doorbuster.env", "docker", "docker.postgresImage", POSTGRES_IMAGE, "docker.javaImage", JAVA_IMAGE);
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

    /** Runs that have labelled containers, networks or volumes now. */
    public static java.util.Set<String> runsWithResources() {
        DockerClient docker = docker();
        java.util.Set<String> runs = new java.util.TreeSet<>();
        docker.listContainersCmd().withShowAll(true).withLabelFilter(List.of(RunResources.RUN)).exec()
                .forEach(c -> runs.add(c.getLabels().get(RunResources.RUN)));
        docker.listNetworksCmd().withFilter("label", List.of(RunResources.RUN)).exec()
                .forEach(n -> runs.add(n.getLabels().get(RunResources.RUN)));
        var volumes = docker.listVolumesCmd().withFilter("label", List.of(RunResources.RUN)).exec().getVolumes();
        if (volumes != null) {
            volumes.forEach(v -> runs.add(v.getLabels().get(RunResources.RUN)));
        }
        return runs;
    }
}
