package dev.doorbuster.topology;

import java.util.List;

/**
 * What a failover needs from a PostgreSQL cluster a topology owns, by node name (the same name as the node's
 * application-link proxy): processes on this machine ({@link LocalTopology}) or containers
 * ({@link dev.doorbuster.topology.docker.DockerTopology}).
 */
public interface ClusterControl {
    /** The node that takes writes now. */
    String primary();

    /** Nodes streaming from the primary now, in creation order. */
    List<String> replicas();

    /** Kills {@code node} at once (SIGKILL: no clean shutdown, no last WAL flushed to anyone). */
    void kill(String node);

    /**
     * Makes {@code replica} the primary: fences the old primary (it never comes back as a primary as it is)
     * and repoints the other replicas at the new one.
     */
    void promote(String replica);

    /** Makes a fenced former primary (or stopped replica) a fresh replica of the current primary, streaming. */
    void rejoin(String node);
}
