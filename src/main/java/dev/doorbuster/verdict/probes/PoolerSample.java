package dev.doorbuster.verdict.probes;

/**
 * The pooler tier in one second, from the pooler's own {@code SHOW POOLS} through its admin console (never through
 * the chaos proxy), summed over its database aliases. NaN when the console did not answer that second (a restart).
 *
 * @param clientsActive  client connections the pooler holds that are not waiting (idle or running a transaction)
 * @param clientsWaiting client connections waiting for a server connection (a full pool, a pause, a node down)
 * @param servers        server connections open to the nodes: what the database actually holds for the service
 * @param longestWaitMs  how long the client waiting longest had waited, over every alias (0 when none waits)
 */
public record PoolerSample(int second, double clientsActive, double clientsWaiting, double servers,
                           double longestWaitMs) {
    /** A second in which the console did not answer. */
    static PoolerSample unreadable(int second) {
        return new PoolerSample(second, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
    }
}
