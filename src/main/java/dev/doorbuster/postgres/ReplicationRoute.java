package dev.doorbuster.postgres;

import java.net.InetSocketAddress;

/**
 * Where a replica connects to stream from its primary. Directly to the primary by default; a topology
 * puts a proxy in between (one per replica) so the replication link itself can be delayed or cut.
 * Called whenever a replica is (re)pointed at a primary: at creation, after a failover, at rejoin.
 */
@FunctionalInterface
public interface ReplicationRoute {
    ReplicationRoute DIRECT = (replica, primary) -> primary.address();

    InetSocketAddress route(PgNode replica, PgNode primary);
}
