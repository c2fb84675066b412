package dev.doorbuster.topology.docker;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.NotFoundException;
import dev.doorbuster.topology.TopologyException;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.dockerclient.DockerClientProviderStrategy;
import org.testcontainers.dockerclient.UnixSocketClientProviderStrategy;
import org.testcontainers.utility.ResourceReaper;

/**
 * The Docker engine, through Testcontainers, without its reaper container (its image cannot be pulled on
 * machines without a registry, and some users disable it): {@link RunResources} cleans up instead.
 */
final class DockerEngine {
    private DockerEngine() {
    }

    /** The engine's client; a {@link TopologyException} saying how to get one when none answers. */
    static DockerClient connect() {
        String host = System.getenv("DOCKER_HOST");
        if (host != null && !host.isBlank() && !answers(host)) {
            // Testcontainers would quietly try other sockets; the docker CLI, and a user, take DOCKER_HOST at its word.
            throw noEngine(" at DOCKER_HOST=" + host);
        }
        withoutReaper();
        DockerClientFactory factory = DockerClientFactory.instance();
        publishedPortsOnLoopbackWhenTheEngineIsOurs(factory);
        if (!factory.isDockerAvailable()) {
            throw noEngine(host == null ? " (DOCKER_HOST is not set; the default socket /var/run/docker.sock was tried)"
                    : " at DOCKER_HOST=" + host);
        }
        return factory.client();
    }

    private static TopologyException noEngine(String where) {
        return new TopologyException("No Docker engine answers" + where + ". Start one (Linux: `sudo dockerd --ip "
                + "127.0.0.1`, so published ports stay on loopback; or Docker Desktop), check that `docker info` works for "
                + "this user, or run without Docker: -Ddoorbuster.env=local.");
    }

    /** Whether something accepts connections at a {@code unix://} or {@code tcp://} DOCKER_HOST (others: assumed). */
    private static boolean answers(String dockerHost) {
        try {
            URI uri = URI.create(dockerHost);
            if ("unix".equals(uri.getScheme())) {
                try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                    channel.connect(UnixDomainSocketAddress.of(uri.getPath()));
                    return true;
                }
            }
            if ("tcp".equals(uri.getScheme())) {
                try (Socket socket = new Socket()) {
                    socket.connect(new InetSocketAddress(uri.getHost(), uri.getPort()), 3_000);
                    return true;
                }
            }
            return true;
        } catch (IOException | IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * What {@code TESTCONTAINERS_RYUK_DISABLED=true} does, without needing the variable in every JVM that runs a
     * simulation: Testcontainers keeps its in-JVM clean-up hook instead of starting the reaper container.
     */
    private static synchronized void withoutReaper() {
        if (Boolean.parseBoolean(System.getenv("TESTCONTAINERS_RYUK_DISABLED"))) {
            return;
        }
        try {
            Field instance = ResourceReaper.class.getDeclaredField("instance");
            instance.setAccessible(true);
            if (instance.get(null) == null) {
                Constructor<?> hookOnly = Class.forName("org.testcontainers.utility.JVMHookResourceReaper")
                        .getDeclaredConstructor();
                hookOnly.setAccessible(true);
                instance.set(null, hookOnly.newInstance());
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new TopologyException("Cannot turn off the Testcontainers reaper in this Testcontainers version ("
                    + e + "). Set the environment variable TESTCONTAINERS_RYUK_DISABLED=true and run again.");
        }
    }

    /**
     * Inside a container, Testcontainers assumes the engine is the host's (its socket mounted in) and looks for
     * the host through a gateway, which needs a helper image pulled from a registry. When the engine runs in this
     * very container instead (its {@code docker0} bridge is in our network namespace), published ports are on
     * this machine's 127.0.0.1: say so, as {@code TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1} would.
     */
    private static synchronized void publishedPortsOnLoopbackWhenTheEngineIsOurs(DockerClientFactory factory) {
        String override = System.getenv("TESTCONTAINERS_HOST_OVERRIDE");
        if ((override != null && !override.isBlank()) || System.getenv("DOCKER_HOST") != null
                || !Files.exists(Path.of("/.dockerenv")) || !Files.exists(Path.of("/var/run/docker.sock"))) {
            return;
        }
        try {
            if (NetworkInterface.getByName("docker0") == null) {
                return;
            }
            Field chosen = DockerClientFactory.class.getDeclaredField("strategy");
            chosen.setAccessible(true);
            if (chosen.get(factory) != null) {
                return;
            }
            DockerClientProviderStrategy local = new UnixSocketClientProviderStrategy();
            Field host = DockerClientProviderStrategy.class.getDeclaredField("dockerHostIpAddress");
            host.setAccessible(true);
            host.set(local, "127.0.0.1");
            java.lang.reflect.Method answers = DockerClientProviderStrategy.class.getDeclaredMethod("test");
            answers.setAccessible(true);
            if (Boolean.TRUE.equals(answers.invoke(local))) { // it connects: keep the engine's info as Testcontainers does
                Field info = DockerClientProviderStrategy.class.getDeclaredField("info");
                info.setAccessible(true);
                info.set(local, local.getDockerClient().infoCmd().exec());
                chosen.set(factory, local);
            }
        } catch (ReflectiveOperationException | java.net.SocketException | RuntimeException e) {
            throw new TopologyException("Cannot tell Testcontainers that the Docker engine publishes ports on 127.0.0.1 ("
                    + e + "). Set the environment variable TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1 and run again.");
        }
    }

    /** True if {@code image} is on this machine. */
    static boolean hasImage(DockerClient docker, String image) {
        try {
            docker.inspectImageCmd(image).exec();
            return true;
        } catch (NotFoundException e) {
            return false;
        }
    }

    /**
     * Makes sure {@code image} is here: pulls it when {@code pull}, else refuses with {@code howToGet}.
     *
     * @param field which setting named it, for the message ({@code docker.postgresImage in environments/docker.json})
     */
    static void requireImage(DockerClient docker, String image, String field, boolean pull, String howToGet) {
        if (hasImage(docker, image)) {
            return;
        }
        if (!pull) {
            throw new TopologyException("Image '" + image + "' (" + field + ") is not on this machine, and docker.pull "
                    + "is false. " + howToGet + " Or set docker.pull to true (-Ddocker.pull=true) to let Doorbuster "
                    + "pull what is missing.");
        }
        try {
            DockerClientFactory.instance().checkAndPullImage(docker, image);
        } catch (RuntimeException e) {
            throw new TopologyException("Image '" + image + "' (" + field + ") is not on this machine and could not be "
                    + "pulled: " + e.getMessage() + ". " + howToGet);
        }
    }
}
