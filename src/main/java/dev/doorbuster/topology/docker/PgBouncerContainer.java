package dev.doorbuster.topology.docker;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.github.dockerjava.api.DockerClient;
import dev.doorbuster.pooler.PgBouncerConfig;
import dev.doorbuster.pooler.PgBouncerConsole;
import dev.doorbuster.pooler.PgBouncerServer;
import dev.doorbuster.pooler.PoolerException;
import dev.doorbuster.topology.PoolerTier;
import dev.doorbuster.topology.TopologyException;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

/**
 * The pooler tier's PgBouncer in a container of the run's network, reachable as {@code pgbouncer:6432} there (where the
 * chaos proxy {@link PoolerTier#PROXY} forwards to it) and, for the harness's admin console only, directly on a
 * published 127.0.0.1 port. Its aliases reach the nodes through their own proxies, so faults apply on both sides.
 *
 * <p>What it is told comes from the pooler package ({@link PgBouncerConfig}'s pgbouncer.ini and users file) and what is
 * asked of it goes through {@link PgBouncerConsole}, as for a PgBouncer process; only how the files get there and how it
 * is started and restarted are a container's: the files are copied into {@link #CONFIG_DIR} before its first start and
 * again on a repoint. They are root's and readable by all (mode 0644) so that whichever unprivileged user the image
 * runs PgBouncer as can read them; the image keeps them private by its folder (doorbuster/pgbouncer's is that user's,
 * mode 0700), as the users file holds the database password, which PgBouncer gives the servers.
 *
 * <p>The published port is chosen here and fixed when the container is created, as for {@link RedisContainer}: a
 * {@code docker restart} would otherwise give it a new one.
 */
final class PgBouncerContainer implements PoolerTier {
    static final String ALIAS = "pgbouncer";
    static final int PORT = 6432;
    /** Where the image's {@code pgbouncer} looks for its configuration (docker/images/pgbouncer/Dockerfile). */
    static final String CONFIG_DIR = "/etc/pgbouncer";
    private static final String INI = "pgbouncer.ini";
    private static final String USERS = "users.txt";
    /** The image's own command is not relied on: any image with {@code pgbouncer} on its PATH runs the same way. */
    private static final List<String> COMMAND = List.of("pgbouncer", CONFIG_DIR + "/" + INI);
    /** PgBouncer's first line once it listens. */
    private static final String READY = ".*process up: PgBouncer.*";
    /** SIGTERM (PgBouncer's immediate shutdown), then SIGKILL after this long. */
    private static final int STOP_SECONDS = 5;

    private final DockerClient docker;
    private final GenericContainer<?> container;
    private final int hostPort;
    private final String writerAlias;
    private final String login;
    private final Duration startTimeout;
    private volatile PgBouncerConfig config;

    private PgBouncerContainer(DockerClient docker, GenericContainer<?> container, int hostPort, String writerAlias,
                               String login, PgBouncerConfig config, Duration startTimeout) {
        this.docker = docker;
        this.container = container;
        this.hostPort = hostPort;
        this.writerAlias = writerAlias;
        this.login = login;
        this.config = config;
        this.startTimeout = startTimeout;
    }

    /**
     * Starts PgBouncer from {@code image} in {@code network}, labelled with {@code run}, serving {@code config}'s
     * aliases; returns once its admin console answers on the published port.
     *
     * @param writerAlias the alias the application's writers use (the one a failover repoints)
     * @param login       the database user clients and the console log in as
     * @param password    {@code login}'s password at the servers
     */
    static PgBouncerContainer start(DockerClient docker, String image, Network network, RunResources run,
                                    PgBouncerConfig config, String writerAlias, String login, String password,
                                    Duration startTimeout) {
        config.requireAlias(writerAlias, PoolerTier.PROXY);
        Map<String, String> files = new LinkedHashMap<>();
        files.put(INI, config.ini(placement(login)));
        files.put(USERS, PgBouncerConfig.usersFile(Map.of(login, password)));
        return Containers.startOnLoopbackPort("the PgBouncer container", image + ", docker.pgbouncerImage", PORT,
                () -> new Configured(DockerImageName.parse(image), docker, files)
                        .withNetwork(network)
                        .withNetworkAliases(ALIAS)
                        .withLabels(run.labels())
                        .withCommand(COMMAND.toArray(String[]::new))
                        .withExposedPorts(PORT)
                        .waitingFor(Wait.forLogMessage(READY, 1))
                        .withStartupTimeout(startTimeout)
                        .withCreateContainerCmdModifier(cmd -> cmd.withName(run.name(ALIAS))),
                (c, hostPort) -> {
                    PgBouncerContainer pooler = new PgBouncerContainer(docker, c, hostPort, writerAlias, login, config,
                            startTimeout);
                    pooler.awaitConsole("its start");
                    return pooler;
                });
    }

    /** A container whose configuration files are copied in once it is created, before PgBouncer starts and reads them. */
    private static final class Configured extends GenericContainer<Configured> {
        private final DockerClient docker;
        private final Map<String, String> files;

        Configured(DockerImageName image, DockerClient docker, Map<String, String> files) {
            super(image);
            this.docker = docker;
            this.files = files;
        }

        @Override
        protected void containerIsCreated(String containerId) {
            copyIn(docker, containerId, files);
        }
    }

    /**
     * Inside the container: every interface (its port is published on loopback only), the files of
     * {@link #CONFIG_DIR}, and its log on its output (the container's log, kept with the run's).
     */
    private static PgBouncerConfig.Placement placement(String login) {
        return new PgBouncerConfig.Placement("0.0.0.0", PORT, CONFIG_DIR + "/" + USERS, null, login);
    }

    /**
     * Copies {@code files} into {@link #CONFIG_DIR} of container {@code id}. Not given to the container's user with the
     * engine's {@code copyUIDGID}: Docker 20.10 looks that user's name up in this machine's passwd, not the image's
     * (measured: the image's {@code postgres}, uid 999, got this machine's 101 and PgBouncer could not read its ini).
     */
    private static void copyIn(DockerClient docker, String id, Map<String, String> files) {
        ByteArrayOutputStream tar = new ByteArrayOutputStream();
        try (TarArchiveOutputStream out = new TarArchiveOutputStream(tar)) {
            for (Map.Entry<String, String> file : files.entrySet()) {
                byte[] content = file.getValue().getBytes(StandardCharsets.UTF_8);
                TarArchiveEntry entry = new TarArchiveEntry(file.getKey());
                entry.setMode(0100644);
                entry.setSize(content.length);
                out.putArchiveEntry(entry);
                out.write(content);
                out.closeArchiveEntry();
            }
        } catch (IOException e) {
            throw new TopologyException("Cannot make the PgBouncer container's configuration: " + e.getMessage());
        }
        try {
            docker.copyArchiveToContainerCmd(id).withRemotePath(CONFIG_DIR)
                    .withTarInputStream(new ByteArrayInputStream(tar.toByteArray())).exec();
        } catch (RuntimeException e) {
            throw new TopologyException("Cannot copy " + files.keySet() + " into " + CONFIG_DIR + " of the PgBouncer "
                    + "container (docker.pgbouncerImage must have that folder): " + Containers.rootMessage(e));
        }
    }

    /** Where the chaos proxy reaches it inside the run's network. */
    String internalAddress() {
        return ALIAS + ":" + PORT;
    }

    /** A node's proxy inside the run's network, as an alias's server ({@code toxiproxy:8666}). */
    static InetSocketAddress server(String host, int port) {
        return InetSocketAddress.createUnresolved(host, port);
    }

    String containerId() {
        return container.getContainerId();
    }

    /** The published port of its admin console on 127.0.0.1, the same for the container's whole life. */
    int hostPort() {
        return hostPort;
    }

    PgBouncerConfig config() {
        return config;
    }

    private PgBouncerConsole console() {
        return new PgBouncerConsole(PoolerTier.PROXY, new InetSocketAddress(InetAddress.getLoopbackAddress(), hostPort),
                login);
    }

    /**
     * Points {@code alias} at another server (a node's proxy inside the network): pgbouncer.ini rewritten in the
     * container, then {@code RELOAD}. PgBouncer closes the alias's server connections to the old server once they are
     * released, and opens new ones to the new server.
     */
    synchronized void repoint(String alias, InetSocketAddress server) {
        PgBouncerConfig changed = config.withTarget(alias, server);
        copyIn(docker, container.getContainerId(), Map.of(INI, changed.ini(placement(login))));
        config = changed;
        console().reload();
    }

    // ---- PoolerTier -----------------------------------------------------------------------------------------

    @Override
    public String writerAlias() {
        return writerAlias;
    }

    @Override
    public void pauseWriters() {
        console().pause(writerAlias);
    }

    @Override
    public void resumeWriters() {
        console().resume(writerAlias);
    }

    @Override
    public void resumeWritersIfPaused() {
        console().resumeIfPaused(writerAlias);
    }

    /**
     * {@code docker restart}: SIGTERM ends PgBouncer at once, cutting every client and server connection, and it starts
     * again in the same container with its latest pgbouncer.ini (a repointed alias stays repointed), on the same
     * published port and network alias; returns once its console answers there.
     */
    @Override
    public synchronized void restart() {
        try {
            docker.restartContainerCmd(container.getContainerId()).withTimeout(STOP_SECONDS).exec();
        } catch (RuntimeException e) {
            throw new PoolerException("Cannot restart the PgBouncer container: " + Containers.rootMessage(e));
        }
        awaitConsole("its restart");
    }

    @Override
    public List<PgBouncerServer.Pool> pools() {
        return console().pools();
    }

    @Override
    public List<PgBouncerServer.Stats> stats() {
        return console().stats();
    }

    private void awaitConsole(String after) {
        PgBouncerConsole console = console();
        long deadline = System.nanoTime() + startTimeout.toNanos();
        while (!console.answers(Duration.ofSeconds(1))) {
            if (System.nanoTime() > deadline) {
                throw new PoolerException("The PgBouncer container's console did not answer on 127.0.0.1:" + hostPort
                        + " within " + startTimeout.toSeconds() + " s (docker.startTimeoutSeconds) after " + after
                        + ". Last lines of its log:\n" + Containers.logTail(container, 15));
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new PoolerException("Interrupted while waiting for the PgBouncer container after " + after);
            }
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
        return container.getDockerImageName() + " (console at 127.0.0.1:" + hostPort + ")";
    }
}
