package dev.doorbuster.verdict.probes;

/**
 * The pooler tier in one second, from the pooler's own {@code SHOW POOLS} and {@code SHOW STATS} through its admin
 * console (never through the chaos proxy), summed over its database aliases. NaN when the console did not answer that
 * second (a restart).
 *
 * @param clientsActive  client connections the pooler holds that are not waiting (idle or running a transaction)
 * @param clientsWaiting client connections waiting for a server connection (a full pool, a pause, a node down)
 * @param servers        server connections open to the nodes: what the database actually holds for the service
 * @param longestWaitMs  how long the client waiting longest had waited, over every alias (0 when none waits)
 * @param transactions   transactions the pooler has pooled since it (re)started ({@code SHOW STATS}, cumulative)
 * @param waitedMs       time its clients spent waiting for a server connection since it (re)started (cumulative)
 */
public record PoolerSample(int second, double clientsActive, double clientsWaiting, double servers,
                           double longestWaitMs, double transactions, double waitedMs) {
    /** A second read from {@code SHOW POOLS} only. */
    public PoolerSample(int second, double clientsActive, double clientsWaiting, double servers, double longestWaitMs) {
        this(second, clientsActive, clientsWaiting, servers, longestWaitMs, Double.NaN, Double.NaN);
    }

    /** A second in which the console did not answer. */
    static PoolerSample unreadable(int second) {
        return new PoolerSample(second, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
    }
}
