package dev.doorbuster.topology.docker;

import dev.doorbuster.process.Watchdog;

/**
 * Run by the watchdog of a JVM that ran a Docker topology once that JVM is gone (SIGKILL included): removes
 * the containers, networks and volumes labelled with that JVM's PID whose owner is indeed dead, and nothing
 * else (those of other dead runs are left to the next start, as before).
 */
public final class RemoveContainersOfDeadRun implements Watchdog.AfterDeath {
    public RemoveContainersOfDeadRun() {
        // created by its class name in the watchdog
    }

    @Override
    public void cleanUp(long ownerPid) {
        RunResources.removeOrphansOf(DockerEngine.connect(), ownerPid);
    }
}
