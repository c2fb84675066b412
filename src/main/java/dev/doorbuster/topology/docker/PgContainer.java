package dev.doorbuster.topology.docker;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Mount;
import com.github.dockerjava.api.model.MountType;
import dev.doorbuster.topology.TopologyException;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.Transferable;
import org.testcontainers.postgresql.PostgreSQLContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * One PostgreSQL node in a container, named {@code pg1}, {@code pg2}, ... by creation (never by role), reachable
 * as that name inside the run's network and on a published 127.0.0.1 port from here. Its data lives in a
 * labelled volume of the run. Relies only on the official {@code postgres} image's contract.
 */
final class PgContainer {
    static final int PORT = 5432;
    /** Where the official image keeps its data. */
    static final String PGDATA = "/var/lib/postgresql/data";
    /** Replication connections are refused by the image's default pg_hba.conf; every node allows them. */
    private static final String ALLOW_REPLICATION = "#!/bin/sh\n"
            + "echo 'host replication all all scram-sha-256' >> \"$PGDATA/pg_hba.conf\"\n";

    private final String name;
    private final GenericContainer<?> container;
    private final String volume;
    private final int hostPort;
    private volatile boolean killed;

    private PgContainer(String name, GenericContainer<?> container, String volume) {
        this.name = name;
        this.container = container;
        this.volume = volume;
        this.hostPort = container.getMappedPort(PORT);
    }

    /** Settings of every node of a cluster. */
    record Spec(DockerImageName image, Network network, RunResources run, String database, String user,
                String password, List<String> serverArgs, Duration startTimeout) {
    }

    /** The first node: a fresh primary, initialised by the image's entrypoint. */
    static PgContainer primary(DockerClient docker, Spec spec, String name) {
        String volume = volume(docker, spec.run(), name);
        PostgreSQLContainer pg = new PostgreSQLContainer(spec.image().asCompatibleSubstituteFor("postgres"))
                .withDatabaseName(spec.database())
                .withUsername(spec.user())
                .withPassword(spec.password())
                .withCopyToContainer(Transferable.of(ALLOW_REPLICATION, 0755),
                        "/docker-entrypoint-initdb.d/doorbuster-replication.sh");
        // Testcontainers' default command turns fsync off, which would make every lost-write result meaningless.
        pg.withCommand(command(spec.serverArgs()).toArray(String[]::new));
        configure(pg, spec, name, volume);
        return start(docker, name, pg, volume);
    }

    /**
     * A replica: a base backup of the primary taken through {@code sourceHost:sourcePort} (the chaos proxy on
     * its replication link), then streaming from there through slot {@code name} (created beforehand).
     */
    static PgContainer replica(DockerClient docker, Spec spec, String name, String sourceHost, int sourcePort) {
        String volume = volume(docker, spec.run(), name);
        String conninfo = "host=" + sourceHost + " port=" + sourcePort + " user=" + spec.user() + " password="
                + spec.password() + " application_name=" + name + " connect_timeout=5";
        String script = String.join("\n",
                "set -e",
                "chmod 700 \"$PGDATA\"",
                "tries=0",
                "until pg_basebackup --pgdata=\"$PGDATA\" --dbname='" + conninfo + "' --wal-method=stream "
                        + "--checkpoint=fast --slot=" + name + " --no-password; do",
                "  tries=$((tries+1)); [ \"$tries\" -lt 30 ] || exit 1",
                "  rm -rf \"$PGDATA\"/* ; sleep 1",
                "done",
                "touch \"$PGDATA/standby.signal\"",
                "printf \"%s\\n\" \"primary_conninfo = '" + conninfo + "'\" \"primary_slot_name = '" + name + "'\" "
                        + ">> \"$PGDATA/postgresql.auto.conf\"",
                "exec " + shellQuoted(command(spec.serverArgs())));
        GenericContainer<?> replica = new GenericContainer<>(spec.image())
                .withEnv("PGDATA", PGDATA)
                .withExposedPorts(PORT)
                .withCommand("bash", "-c", script)
                .waitingFor(Wait.forLogMessage(".*database system is ready to accept read-only connections.*", 1));
        configure(replica, spec, name, volume);
        // The base backup must belong to the server's user: run the whole container as it.
        replica.withCreateContainerCmdModifier(cmd -> cmd.withUser("postgres"));
        return start(docker, name, replica, volume);
    }

    private static List<String> command(List<String> serverArgs) {
        List<String> command = new ArrayList<>(List.of("postgres"));
        for (String arg : serverArgs) {
            command.add("-c");
            command.add(arg);
        }
        return command;
    }

    private static String shellQuoted(List<String> words) {
        return String.join(" ", words.stream().map(w -> "'" + w.replace("'", "'\\''") + "'").toList());
    }

    private static void configure(GenericContainer<?> c, Spec spec, String name, String volume) {
        c.withNetwork(spec.network())
                .withNetworkAliases(name)
                .withLabels(spec.run().labels())
                .withStartupTimeout(spec.startTimeout())
                .withCreateContainerCmdModifier(cmd -> {
                    cmd.withName(spec.run().name(name));
                    cmd.getHostConfig().withMounts(List.of(new Mount().withType(MountType.VOLUME)
                            .withSource(volume).withTarget(PGDATA)));
                });
    }

    private static String volume(DockerClient docker, RunResources run, String node) {
        String volume = run.name(node + "-data");
        try {
            docker.removeVolumeCmd(volume).exec(); // an earlier incarnation of this node (a rejoin)
        } catch (NotFoundException absent) {
            // the usual case
        }
        docker.createVolumeCmd().withName(volume).withLabels(run.labels()).exec();
        return volume;
    }

    private static PgContainer start(DockerClient docker, String name, GenericContainer<?> c, String volume) {
        try {
            c.start();
        } catch (RuntimeException e) {
            String logs = Containers.logTail(c, 25);
            Containers.stopQuietly(c);
            throw new TopologyException("PostgreSQL node '" + name + "' (" + c.getDockerImageName() + ") did not start: "
                    + Containers.rootMessage(e) + (logs.isEmpty() ? "" : "\nLast lines of its log:\n" + logs));
        }
        return new PgContainer(name, c, volume);
    }

    String name() {
        return name;
    }

    String volume() {
        return volume;
    }

    String containerId() {
        return container.getContainerId();
    }

    /** Inside the run's network. */
    String internalHost() {
        return name;
    }

    /** Direct JDBC URL from this machine (not through a proxy). */
    String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + hostPort + "/" + database
                + "?sslmode=disable&connectTimeout=2&socketTimeout=10&loginTimeout=5";
    }

    Connection connect(String database, String user, String password) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", user);
        props.setProperty("password", password);
        return DriverManager.getConnection(jdbcUrl(database), props);
    }

    void execute(String database, String user, String password, String sql) {
        try (Connection c = connect(database, user, password); Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new TopologyException("On node '" + name + "': " + sql + " failed: " + e.getMessage());
        }
    }

    boolean isRunning() {
        return container.isRunning();
    }

    /**
     * SIGKILL: no clean shutdown, no last WAL sent anywhere. When the engine runs on this machine the server is
     * killed by its PID (a few milliseconds; `docker kill` takes some 300 ms, which would count in the measured
     * failover time), else through the engine.
     */
    void kill(DockerClient docker) {
        killed = true;
        Optional<ProcessHandle> server = localServerProcess(docker);
        // SIGKILL ends the server at once; the kernel then takes 0.1-0.2 s to tear down its other processes,
        // which is not part of the failover.
        if (server.isPresent() && server.get().destroyForcibly()) {
            return;
        }
        try {
            docker.killContainerCmd(container.getContainerId()).exec();
        } catch (RuntimeException e) {
            if (container.isRunning()) {
                throw new TopologyException("Cannot kill node '" + name + "': " + e.getMessage());
            }
        }
    }

    /** The container's first process, if it runs on this machine: its PID's cgroup names this container. */
    private Optional<ProcessHandle> localServerProcess(DockerClient docker) {
        try {
            // The inspection made when the container started names its first process: no call to the engine here,
            // which on a busy machine can take seconds and would count in the measured failover time.
            var started = container.getContainerInfo();
            Long pid = started != null ? started.getState().getPidLong()
                    : docker.inspectContainerCmd(container.getContainerId()).exec().getState().getPidLong();
            if (pid == null || pid <= 0) {
                return Optional.empty();
            }
            Path cgroup = Path.of("/proc", Long.toString(pid), "cgroup");
            if (!Files.isReadable(cgroup) || !Files.readString(cgroup).contains(container.getContainerId())) {
                return Optional.empty();
            }
            return ProcessHandle.of(pid);
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** False once killed (the engine's view of it may lag). */
    boolean isAlive() {
        return !killed && container.isRunning();
    }

    String logs() {
        try {
            return container.getLogs();
        } catch (RuntimeException e) {
            return "";
        }
    }

    /** Removes the container and its data volume. */
    void remove(DockerClient docker) {
        Containers.stopQuietly(container);
        try {
            docker.removeVolumeCmd(volume).exec();
        } catch (RuntimeException gone) {
            // removed with the container, or never there
        }
    }

    Map<String, String> labels() {
        return container.getLabels();
    }
}
