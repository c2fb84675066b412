package dev.doorbuster.postgres;

import java.time.Duration;

/**
 * A replica's row in the primary's {@code pg_stat_replication}: what the primary knows of the stream.
 * The {@code *Lag} durations are PostgreSQL's own estimates (null until measured); they freeze at stale
 * values when the link stalls, so use {@link PgCluster#lag} for the true lag.
 */
public record ReplicationStat(String applicationName, String state, String syncState, Lsn sent, Lsn write,
                              Lsn flush, Lsn replay, Duration writeLag, Duration flushLag, Duration replayLag) {
    public boolean streaming() {
        return "streaming".equals(state);
    }
}
