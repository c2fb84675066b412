package dev.doorbuster.topology.docker;

import com.github.dockerjava.api.DockerClient;
import dev.doorbuster.process.Watchdog;

/**
 * Run by the watchdog of a JVM that ran a Docker topology once that JVM is gone (SIGKILL included): removes
 * the containers, networks and volumes labelled with that JVM's PID whose owner is indeed dead, and nothing
 * else (those of other dead runs are left to the next start, as before).
 */
public final class RemoveContainersOfDeadRun implements Watchdog.AfterDeath {
    private volatile DockerClient docker;

    public RemoveContainersOfDeadRun() {
        // created by its class name in the watchdog
    }

    /** Connects while the run lives: Testcontainers takes a few seconds to start in a fresh JVM. */
    @Override
    public void prepare() {
        docker = DockerEngine.connect();
    }

    @Override
    public void cleanUp(long ownerPid) {
        RunResources.removeOrphansOf(docker != null ? docker : DockerEngine.connect(), ownerPid);
    }
}
