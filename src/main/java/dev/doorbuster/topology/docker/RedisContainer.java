package dev.doorbuster.topology.docker;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import com.github.dockerjava.api.DockerClient;
import dev.doorbuster.topology.CacheTier;
import dev.doorbuster.topology.TopologyException;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

/**
 * The cache tier's Redis server in a container of the run's network, reachable as {@code redis:6379} there (where
 * the chaos proxy {@link CacheTier#PROXY} forwards to it) and directly from this machine on a published 127.0.0.1
 * port, for the harness only. Run as a cache: no snapshots, no append-only file, so a restart is cold.
 *
 * <p>The published port is chosen here and fixed when the container is created: Docker gives a container published
 * with an ephemeral port ({@code -p 127.0.0.1::6379}) a new host port on every {@code docker restart} (measured:
 * 32769, then 32770), and the harness's probes keep reconnecting to the address they were given.
 */
final class RedisContainer implements CacheTier {
    static final String ALIAS = "redis";
    static final int PORT = 6379;
    /**
     * A cache: every interface inside the container (its port is published on loopback only), no protected mode (it
     * would refuse the proxy's container, as no password is set), nothing saved. The image's own default is not
     * relied on, so the official {@code redis} image runs the same way.
     */
    static final List<String> COMMAND = List.of("redis-server", "--port", Integer.toString(PORT), "--bind", "0.0.0.0",
            "--protected-mode", "no", "--save", "", "--appendonly", "no");
    private static final String READY = ".*Ready to accept connections.*";
    /** SIGTERM, then SIGKILL after this long: with nothing to save Redis exits at once. */
    private static final int STOP_SECONDS = 5;

    private final DockerClient docker;
    private final GenericContainer<?> container;
    private final int hostPort;
    private final Duration startTimeout;

    private RedisContainer(DockerClient docker, GenericContainer<?> container, int hostPort, Duration startTimeout) {
        this.docker = docker;
        this.container = container;
        this.hostPort = hostPort;
        this.startTimeout = startTimeout;
    }

    /**
     * Starts Redis from {@code image} in {@code network}, labelled with {@code run}; retries with another host port
     * when the one chosen was taken meanwhile.
     */
    static RedisContainer start(DockerClient docker, String image, Network network, RunResources run,
                                Duration startTimeout) {
        return Containers.startOnLoopbackPort("the Redis container", image + ", docker.redisImage", PORT,
                () -> new GenericContainer<>(DockerImageName.parse(image))
                        .withNetwork(network)
                        .withNetworkAliases(ALIAS)
                        .withLabels(run.labels())
                        .withCommand(COMMAND.toArray(String[]::new))
                        .withExposedPorts(PORT)
                        .waitingFor(Wait.forLogMessage(READY, 1))
                        .withStartupTimeout(startTimeout)
                        .withCreateContainerCmdModifier(cmd -> cmd.withName(run.name(ALIAS))),
                (c, hostPort) -> new RedisContainer(docker, c, hostPort, startTimeout));
    }

    /** Where the proxy reaches it inside the run's network. */
    String internalAddress() {
        return ALIAS + ":" + PORT;
    }

    String containerId() {
        return container.getContainerId();
    }

    /** The published port on 127.0.0.1, the same for the container's whole life. */
    int hostPort() {
        return hostPort;
    }

    String image() {
        return container.getDockerImageName();
    }

    @Override
    public String directUrl() {
        return "redis://127.0.0.1:" + hostPort;
    }

    @Override
    public boolean restartable() {
        return true;
    }

    /**
     * {@code docker restart}: Redis ends on SIGTERM without saving anything and starts empty in the same container,
     * on the same published port and network address (the proxy's upstream name keeps resolving to it); returns once
     * it answers PING there.
     */
    @Override
    public synchronized void restartCold() {
        try {
            docker.restartContainerCmd(container.getContainerId()).withTimeout(STOP_SECONDS).exec();
        } catch (RuntimeException e) {
            throw new TopologyException("Cannot restart the Redis container: " + Containers.rootMessage(e));
        }
        awaitPong();
    }

    private void awaitPong() {
        long deadline = System.nanoTime() + startTimeout.toNanos();
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            try {
                if (pong()) {
                    return;
                }
                last = "an answer other than +PONG";
            } catch (IOException e) {
                last = e.toString();
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new TopologyException("Interrupted while waiting for the restarted Redis container");
            }
        }
        throw new TopologyException("The Redis container did not answer PING on 127.0.0.1:" + hostPort + " within "
                + startTimeout.toSeconds() + " s (docker.startTimeoutSeconds) after its restart (" + last + "). Last "
                + "lines of its log:\n" + Containers.logTail(container, 15));
    }

    /** One {@code PING} on a fresh connection: no client library, whose reconnecting would hide the restart. */
    private boolean pong() throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), hostPort), 500);
            socket.setSoTimeout(1_000);
            OutputStream out = socket.getOutputStream();
            out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            byte[] answer = in.readNBytes(7);
            return "+PONG\r\n".equals(new String(answer, StandardCharsets.US_ASCII));
        }
    }

    String logs() {
        return Containers.logs(container);
    }

    void stop() {
        Containers.stopQuietly(container);
    }

    @Override
    public String toString() {
        return container.getDockerImageName() + " at " + directUrl();
    }
}
