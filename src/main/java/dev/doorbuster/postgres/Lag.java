package dev.doorbuster.postgres;

import java.time.Duration;

/**
 * How far a replica is behind its primary, measured from both ends at (nearly) the same moment.
 *
 * @param bytes WAL written on the primary ({@code pg_current_wal_lsn()}) that the replica has not yet
 *              replayed ({@code pg_last_wal_replay_lsn()}); the true lag, even when the link is cut
 * @param time  0 when {@code bytes} is 0, else how old the replica's last replayed commit is; meaningful
 *              while writes flow (an idle primary makes it grow without any lag)
 */
public record Lag(long bytes, Duration time) {
    public static final Lag NONE = new Lag(0, Duration.ZERO);

    public boolean caughtUp() {
        return bytes == 0;
    }
}
