package dev.doorbuster.topology.docker;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.Network;
import dev.doorbuster.process.ProcessRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every container, network and volume a run creates carries the run's labels: which run, and which JVM owns
 * it (PID and start instant, so a recycled PID is not mistaken for the owner). That is what lets Doorbuster
 * work without the Testcontainers reaper: the run removes its own at the end (and from a shutdown hook on
 * Ctrl-C), the JVM's watchdog removes them within seconds if it dies (SIGKILL, a crash), and the next run
 * removes those of runs whose JVM died without either (a power cut, the watchdog disabled).
 */
final class RunResources {
    static final String RUN = "dev.doorbuster.run";
    static final String OWNER_PID = "dev.doorbuster.owner-pid";
    static final String OWNER_STARTED = "dev.doorbuster.owner-started";
    private static final Logger log = LoggerFactory.getLogger(RunResources.class);

    private final String runId;
    private final Map<String, String> labels;

    private RunResources(String runId, Map<String, String> labels) {
        this.runId = runId;
        this.labels = labels;
    }

    /** Labels for run {@code runId}, owned by this JVM. */
    static RunResources ownedByThisJvm(String runId) {
        ProcessHandle self = ProcessHandle.current();
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(RUN, runId);
        labels.put(OWNER_PID, Long.toString(self.pid()));
        labels.put(OWNER_STARTED, self.info().startInstant().map(i -> Long.toString(i.toEpochMilli())).orElse(""));
        return new RunResources(runId, Map.copyOf(labels));
    }

    String runId() {
        return runId;
    }

    /** The labels every resource of this run carries. */
    Map<String, String> labels() {
        return labels;
    }

    /** A name for one of this run's resources ({@code doorbuster-<run>-pg1}), readable in {@code docker ps}. */
    String name(String part) {
        return "doorbuster-" + runId + "-" + part;
    }

    /** Removes every container, network and volume of this run; never throws. */
    void removeAll(DockerClient docker) {
        removeRuns(docker, Set.of(runId));
    }

    /**
     * Removes the resources of every run whose owning JVM is gone.
     *
     * @return the runs cleaned up
     */
    static Set<String> removeOrphans(DockerClient docker) {
        return removeOrphans(docker, -1);
    }

    /**
     * Removes the resources of the runs of JVM {@code ownerPid} once it is gone (what its watchdog does),
     * leaving any other's alone.
     *
     * @return the runs cleaned up
     */
    static Set<String> removeOrphansOf(DockerClient docker, long ownerPid) {
        return removeOrphans(docker, ownerPid);
    }

    /** {@code ownerPid} -1: of every dead owner. */
    private static Set<String> removeOrphans(DockerClient docker, long ownerPid) {
        java.util.function.Predicate<Map<String, String>> orphan = labels -> !ownerAlive(labels)
                && (ownerPid < 0 || (labels != null && Long.toString(ownerPid).equals(labels.get(OWNER_PID))));
        Set<String> orphans = new TreeSet<>();
        try {
            for (Container c : docker.listContainersCmd().withShowAll(true).withLabelFilter(List.of(RUN)).exec()) {
                if (orphan.test(c.getLabels())) {
                    orphans.add(c.getLabels().get(RUN));
                }
            }
            for (Network n : docker.listNetworksCmd().withFilter("label", List.of(RUN)).exec()) {
                if (orphan.test(n.getLabels())) {
                    orphans.add(n.getLabels().get(RUN));
                }
            }
            var volumes = docker.listVolumesCmd().withFilter("label", List.of(RUN)).exec().getVolumes();
            for (var v : volumes == null ? List.<com.github.dockerjava.api.command.InspectVolumeResponse>of() : volumes) {
                if (orphan.test(v.getLabels())) {
                    orphans.add(v.getLabels().get(RUN));
                }
            }
        } catch (RuntimeException e) {
            log.warn("Could not look for containers left by earlier runs: {}", e.toString());
            return orphans;
        }
        if (!orphans.isEmpty()) {
            log.info("Removing containers, networks and volumes of {} earlier run(s) whose JVM is gone: {}",
                    orphans.size(), orphans);
            removeRuns(docker, orphans);
        }
        return orphans;
    }

    /** True while the JVM that labelled a resource still runs (same PID and the same start instant). */
    static boolean ownerAlive(Map<String, String> labels) {
        if (labels == null) {
            return false;
        }
        long pid;
        try {
            pid = Long.parseLong(labels.getOrDefault(OWNER_PID, ""));
        } catch (NumberFormatException e) {
            return false;
        }
        // A zombie is dead, only not yet reaped by its parent.
        Optional<ProcessHandle> owner = ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
                .filter(h -> !ProcessRegistry.isZombie(pid));
        if (owner.isEmpty()) {
            return false;
        }
        String started = labels.getOrDefault(OWNER_STARTED, "");
        Optional<Instant> actual = owner.get().info().startInstant();
        if (started.isEmpty() || actual.isEmpty()) {
            return true; // cannot tell a recycled PID apart: leave it alone rather than break a live run
        }
        // startInstant is derived from clock ticks: allow for rounding between two readings.
        return Math.abs(actual.get().toEpochMilli() - Long.parseLong(started)) < 1_000;
    }

    /** Removes every container, network and volume of {@code runs}; never throws. */
    static void removeRuns(DockerClient docker, Set<String> runs) {
        for (String run : runs) {
            Map<String, String> filter = Map.of(RUN, run);
            try {
                // All at once: each removal stops a container, which may take the engine a second.
                docker.listContainersCmd().withShowAll(true).withLabelFilter(filter).exec().parallelStream().forEach(c -> {
                    try {
                        docker.removeContainerCmd(c.getId()).withForce(true).withRemoveVolumes(true).exec();
                    } catch (NotFoundException gone) {
                        // removed meanwhile
                    }
                });
                for (Network n : docker.listNetworksCmd().withFilter("label", List.of(RUN + "=" + run)).exec()) {
                    try {
                        docker.removeNetworkCmd(n.getId()).exec();
                    } catch (NotFoundException gone) {
                        // removed meanwhile
                    }
                }
                var volumes = docker.listVolumesCmd().withFilter("label", List.of(RUN + "=" + run)).exec().getVolumes();
                for (var v : volumes == null ? List.<com.github.dockerjava.api.command.InspectVolumeResponse>of() : volumes) {
                    try {
                        docker.removeVolumeCmd(v.getName()).exec();
                    } catch (NotFoundException gone) {
                        // removed meanwhile
                    }
                }
            } catch (RuntimeException e) {
                log.warn("Could not remove every container, network and volume of run {}: {} (remove them with "
                        + "docker rm -f / docker network rm / docker volume rm; they carry the label {}={})", run,
                        e.toString(), RUN, run);
            }
        }
    }
}
