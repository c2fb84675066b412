package dev.doorbuster.topology;

import java.util.List;

import dev.doorbuster.pooler.PgBouncerServer;

/**
 * The pooler tier of a running topology ({@code postgres.pooler}): one PgBouncer between the application and the
 * nodes. The application reaches it through the chaos proxy {@link #PROXY}; the harness through its admin console
 * (never through the proxy: faulting the pooler's link must not blind the probes).
 */
public interface PoolerTier {
    /** The chaos proxy on the application's link to the pooler. */
    String PROXY = "pooler";

    /** The database alias the application's writers use: the one a failover repoints. */
    String writerAlias();

    /**
     * {@code PAUSE} of the writers' alias, as a runbook's switchover starts: returns once every transaction running on
     * it has finished; from then on its clients' queries wait, connected, until {@link #resumeWriters()}.
     */
    void pauseWriters();

    /** {@code RESUME} of the writers' alias: the waiting queries go on. */
    void resumeWriters();

    /**
     * {@link #resumeWriters()} after a {@link #pauseWriters()} that failed: it may have taken hold all the same (its
     * answer timed out), so the writers are resumed unless the pooler says they are not paused.
     */
    void resumeWritersIfPaused();

    /**
     * Stops the pooler and starts it again on the same address, as a crash and its supervisor would: every client and
     * server connection is cut.
     */
    void restart();

    /** {@code SHOW POOLS} now: clients active and waiting, server connections, the longest wait, per alias. */
    List<PgBouncerServer.Pool> pools();

    /** {@code SHOW STATS} now: totals since the pooler (re)started, per alias. */
    List<PgBouncerServer.Stats> stats();
}
