package dev.doorbuster.topology;

import java.util.List;

/**
 * The chaos proxies on the database links, by what they carry right now. Local topologies name proxies
 * by node ({@code pg1}, {@code pg2-replication}), never by role, because roles change at a failover:
 * ask again after one.
 *
 * @param primaryApp   proxy carrying the application's connections to the current primary
 * @param replicaApp   proxies carrying the application's connections to the replicas
 * @param replication  proxies carrying each replica's WAL stream from the primary
 */
public record DatabaseLinks(String primaryApp, List<String> replicaApp, List<String> replication) {
}
