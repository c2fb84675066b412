package dev.doorbuster.verdict.consistency;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One virtual user's session: per key, the newest version it wrote (acknowledged) and the newest it read,
 * and every read checked against both, whenever it happens. Not thread-safe: a virtual user runs its
 * requests one after another. Violations go to the run's {@link ConsistencyLog}.
 */
public final class SessionGuarantees {
    private final long session;
    private final ConsistencyLog log;
    private final Map<String, KeyState> keys = new HashMap<>();

    /** What this session knows of one key. */
    private static final class KeyState {
        Observation ownWrite;
        String ownWriteId;
        double ownWriteAt;
        int readsSinceOwnWrite;
        Observation newestRead;
        double newestReadAt;
    }

    SessionGuarantees(long session, ConsistencyLog log) {
        this.session = session;
        this.log = log;
    }

    public long session() {
        return session;
    }

    /** The session's write {@code writeId} of {@code key} was acknowledged; the answer showed {@code result}. */
    public void acknowledged(String key, String writeId, Observation result, double at) {
        KeyState state = keys.computeIfAbsent(key, k -> new KeyState());
        state.ownWrite = result;
        state.ownWriteId = writeId;
        state.ownWriteAt = at;
        state.readsSinceOwnWrite = 0;
    }

    /**
     * Checks one read of {@code key} that showed {@code observed}; returns the guarantees it broke (empty
     * if none). The first read after the session's own write is "immediate", the following ones "later".
     */
    public List<Violation> read(String kind, String key, String request, Observation observed, String servedBy,
                                double at) {
        KeyState state = keys.computeIfAbsent(key, k -> new KeyState());
        List<Violation> broken = new ArrayList<>(1);
        if (state.ownWrite != null) {
            Guarantee g = state.readsSinceOwnWrite == 0 ? Guarantee.READ_YOUR_WRITES_IMMEDIATE
                    : Guarantee.READ_YOUR_WRITES_LATER;
            state.readsSinceOwnWrite++;
            log.checked(g);
            if (!observed.atLeast(state.ownWrite)) {
                broken.add(new Violation(g, session, kind, key, request, state.ownWrite, state.ownWriteId,
                        state.ownWriteAt, observed, at, servedBy));
            }
        }
        if (state.newestRead != null) {
            log.checked(Guarantee.MONOTONIC_READS);
            if (!observed.atLeast(state.newestRead)) {
                broken.add(new Violation(Guarantee.MONOTONIC_READS, session, kind, key, request, state.newestRead, null,
                        state.newestReadAt, observed, at, servedBy));
            }
        }
        // What the user has seen only moves forward: a stale read does not lower the bar for the next one.
        if (state.newestRead == null || observed.atLeast(state.newestRead)) {
            state.newestRead = observed;
            state.newestReadAt = at;
        }
        for (Violation v : broken) {
            log.violated(v);
        }
        return broken;
    }
}
