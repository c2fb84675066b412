package dev.doorbuster.postgres;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Optional;

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

    /**
     * The lag of the server behind {@code replica} relative to the one behind {@code primary}, over plain JDBC
     * connections; empty when the replica has replayed nothing yet. The one lag query of Doorbuster: every
     * topology measures with it ({@link PgCluster#lag} on its probe connections, through {@link #written}
     * and {@link #behind}).
     */
    public static Optional<Lag> measure(Connection primary, Connection replica) throws SQLException {
        return behind(written(primary), replica);
    }

    /** WAL written so far on the server behind {@code primary}; null if it reports none (not a primary). */
    public static Lsn written(Connection primary) throws SQLException {
        try (Statement s = primary.createStatement(); ResultSet r = s.executeQuery("SELECT pg_current_wal_lsn()::text")) {
            r.next();
            return Lsn.parse(r.getString(1));
        }
    }

    /**
     * How far the server behind {@code replica} is behind {@code written} (see {@link #written}); empty when
     * either position is unknown (the replica has replayed nothing yet).
     */
    public static Optional<Lag> behind(Lsn written, Connection replica) throws SQLException {
        try (Statement s = replica.createStatement(); ResultSet r = s.executeQuery("SELECT pg_last_wal_replay_lsn()::text, "
                + "extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8")) {
            r.next();
            Lsn replayed = Lsn.parse(r.getString(1));
            if (written == null || replayed == null) {
                return Optional.empty();
            }
            long bytes = Math.max(0, written.minus(replayed));
            if (bytes == 0) {
                return Optional.of(NONE);
            }
            double seconds = r.getDouble(2);
            Duration time = r.wasNull() || seconds < 0 ? Duration.ZERO : Duration.ofNanos((long) (seconds * 1e9));
            return Optional.of(new Lag(bytes, time));
        }
    }
}
