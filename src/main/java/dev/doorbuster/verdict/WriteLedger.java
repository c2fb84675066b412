package dev.doorbuster.verdict;

import java.sql.Array;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Every order the application acknowledged (201 with its id) and every order request that got no
 * answer at all. After the run (faults healed), {@link #audit} checks that each acknowledged order
 * exists on the current primary: a missing one is a <b>lost acknowledged write</b>, which a failover
 * with asynchronous replication can cause. Unanswered requests are "in doubt" (the commit may or may
 * not have happened): reported apart, never counted as lost.
 */
public final class WriteLedger {
    private static final int CHUNK = 10_000;
    private static final int LISTED = 50;

    private final ConcurrentLinkedQueue<Long> acknowledged = new ConcurrentLinkedQueue<>();
    private final AtomicLong inDoubt = new AtomicLong();

    /** Result of the audit. {@code lostIds} lists at most the first 50. */
    public record Audit(long acknowledged, long lost, long inDoubt, List<Long> lostIds, String error) {
        public static Audit notPossible(long acknowledged, long inDoubt, String why) {
            return new Audit(acknowledged, -1, inDoubt, List.of(), why);
        }
    }

    public void acknowledged(long orderId) {
        acknowledged.add(orderId);
    }

    public void inDoubt() {
        inDoubt.incrementAndGet();
    }

    public long acknowledgedCount() {
        return acknowledged.size();
    }

    public long inDoubtCount() {
        return inDoubt.get();
    }

    /** Looks every acknowledged order up on the database at {@code jdbcUrl} (the current primary). */
    public Audit audit(String jdbcUrl, String user, String password) {
        List<Long> ids = new ArrayList<>(acknowledged);
        Properties props = new Properties();
        props.setProperty("user", user);
        props.setProperty("password", password == null ? "" : password);
        props.setProperty("connectTimeout", "5");
        props.setProperty("socketTimeout", "60");
        Set<Long> found = new HashSet<>();
        try (Connection c = DriverManager.getConnection(jdbcUrl, props);
             PreparedStatement query = c.prepareStatement("SELECT id FROM orders WHERE id = ANY (?)")) {
            for (int from = 0; from < ids.size(); from += CHUNK) {
                List<Long> chunk = ids.subList(from, Math.min(ids.size(), from + CHUNK));
                Array array = c.createArrayOf("bigint", chunk.toArray());
                query.setArray(1, array);
                try (ResultSet rows = query.executeQuery()) {
                    while (rows.next()) {
                        found.add(rows.getLong(1));
                    }
                }
            }
        } catch (SQLException e) {
            return Audit.notPossible(ids.size(), inDoubt.get(), "the audit query failed on " + jdbcUrl + ": "
                    + e.getMessage());
        }
        List<Long> lost = ids.stream().filter(id -> !found.contains(id)).sorted().toList();
        return new Audit(ids.size(), lost.size(), inDoubt.get(), lost.subList(0, Math.min(LISTED, lost.size())), null);
    }
}
