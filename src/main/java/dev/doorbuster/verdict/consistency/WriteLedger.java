package dev.doorbuster.verdict.consistency;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;

import com.fasterxml.jackson.annotation.JsonIgnore;

/**
 * Every write the virtual users made, by the identity each client chose for it (an idempotency key, a
 * unique value), with how it ended for the client: <b>acknowledged</b> (a 2xx answer), <b>failed</b> (an
 * answer saying it was not done, a 4xx) or <b>in doubt</b> (no answer, or a 5xx: it may or may not have
 * been committed).
 *
 * <p>After the faults heal, {@link #audit} looks every write up by that identity on the current primary,
 * one set-based lookup per kind of write. Server-assigned ids cannot be used for this: a promoted replica's
 * sequences hand the same ids to new rows, so a lost order would look present. The audit tells apart:
 * <ul>
 *   <li><b>lost</b>: acknowledged, absent. The failure users suffer most: they were told it was done;</li>
 *   <li><b>in doubt</b>: reported apart (how many turned out committed), never counted as lost;</li>
 *   <li><b>ghost</b>: answered with an error, yet committed: the client will retry or give up on
 *       something that happened.</li>
 * </ul>
 */
public final class WriteLedger {
    /** How a write ended for its client. */
    public enum Outcome {
        ACKNOWLEDGED, FAILED, IN_DOUBT
    }

    /**
     * One write.
     *
     * @param kind          what it writes ({@code order}, {@code profile update}, ...), one lookup per kind
     * @param key           the key it writes ({@code user:17}), for session checks and reports
     * @param id            the identity its client chose, unique in the run
     * @param session       the virtual user
     * @param invokedAt     run second the request was sent
     * @param completedAt   run second the answer came (or the request gave up)
     * @param result        what the acknowledging answer showed of the key (null unless acknowledged)
     * @param intended      the value the client meant to write, when it knows it beforehand (or null)
     */
    public record Write(String kind, String key, String id, long session, double invokedAt, double completedAt,
                        Outcome outcome, Observation result, String intended) {
    }

    /** One write named in an audit: its identity, its key, and when its client got the answer. */
    public record Named(String id, String key, long session, double completedAt) {
    }

    /**
     * The audit of one kind of write.
     *
     * @param lostWrites  the first {@value #LISTED} lost writes, in the order they were acknowledged
     * @param ghostWrites the first {@value #LISTED} ghosts
     */
    public record KindAudit(String kind, long acknowledged, long lost, long inDoubt, long inDoubtCommitted, long failed,
                            long ghosts, List<Named> lostWrites, List<Named> ghostWrites) {
    }

    /**
     * The outcome of {@link #audit}. {@code error} is set when the lookups could not be made (then the
     * counts of lost writes are unknown, -1). {@code absent} holds every write id found absent (lost
     * acknowledged writes and in-doubt writes that did not commit): a stale read explained by one of them
     * is a lost write, not a stale read. It is not written to verdict.json.
     */
    public record Audit(List<KindAudit> kinds, String error, @JsonIgnore Set<String> absent) {
        public Audit {
            kinds = List.copyOf(kinds);
            absent = absent == null ? Set.of() : Set.copyOf(absent);
        }

        public long acknowledged() {
            return kinds.stream().mapToLong(KindAudit::acknowledged).sum();
        }

        public long lost() {
            return error != null ? -1 : kinds.stream().mapToLong(KindAudit::lost).sum();
        }

        public long inDoubt() {
            return kinds.stream().mapToLong(KindAudit::inDoubt).sum();
        }

        public long ghosts() {
            return error != null ? -1 : kinds.stream().mapToLong(KindAudit::ghosts).sum();
        }

        /** Every lost write listed, over all kinds. */
        public List<Named> lostWrites() {
            return kinds.stream().flatMap(k -> k.lostWrites().stream()).toList();
        }

        @JsonIgnore
        public boolean isEmpty() {
            return kinds.isEmpty();
        }
    }

    /** At most this many lost writes and ghosts are listed per kind (all are counted). */
    static final int LISTED = 1000;

    private final ConcurrentLinkedQueue<Write> writes = new ConcurrentLinkedQueue<>();

    public void record(Write write) {
        writes.add(write);
    }

    public List<Write> writes() {
        return List.copyOf(writes);
    }

    public long count(Outcome outcome) {
        return writes.stream().filter(w -> w.outcome() == outcome).count();
    }

    /**
     * Looks every write up on {@code target} (the current primary, after the faults healed) with the lookup
     * of its kind. A kind without a lookup is reported with an error rather than silently skipped.
     */
    public Audit audit(Map<String, WriteLookup> lookups, WriteLookup.Target target) {
        Map<String, List<Write>> byKind = new TreeMap<>();
        for (Write w : writes) {
            byKind.computeIfAbsent(w.kind(), k -> new ArrayList<>()).add(w);
        }
        List<KindAudit> kinds = new ArrayList<>();
        Set<String> absent = new HashSet<>();
        List<String> errors = new ArrayList<>();
        for (Map.Entry<String, List<Write>> e : byKind.entrySet()) {
            List<Write> ofKind = e.getValue();
            WriteLookup lookup = lookups.get(e.getKey());
            Set<String> present;
            if (lookup == null) {
                errors.add("no lookup declared for writes of kind '" + e.getKey() + "'");
                present = null;
            } else {
                try {
                    present = lookup.present(ofKind.stream().map(Write::id).toList(), target);
                } catch (Exception ex) {
                    errors.add(e.getKey() + ": " + ex.getMessage());
                    present = null;
                }
            }
            kinds.add(classify(e.getKey(), ofKind, present, absent));
        }
        return new Audit(kinds, errors.isEmpty() ? null : String.join("; ", errors), absent);
    }

    /** Sorts one kind's writes into lost, in doubt (committed or not), failed and ghosts. */
    static KindAudit classify(String kind, List<Write> ofKind, Set<String> present, Set<String> absent) {
        long acknowledged = 0;
        long lost = 0;
        long inDoubt = 0;
        long inDoubtCommitted = 0;
        long failed = 0;
        long ghosts = 0;
        List<Named> lostWrites = new ArrayList<>();
        List<Named> ghostWrites = new ArrayList<>();
        List<Write> sorted = new ArrayList<>(ofKind);
        sorted.sort((a, b) -> Double.compare(a.completedAt(), b.completedAt()));
        for (Write w : sorted) {
            boolean found = present != null && present.contains(w.id());
            switch (w.outcome()) {
                case ACKNOWLEDGED -> {
                    acknowledged++;
                    if (present != null && !found) {
                        lost++;
                        absent.add(w.id());
                        if (lostWrites.size() < LISTED) {
                            lostWrites.add(named(w));
                        }
                    }
                }
                case IN_DOUBT -> {
                    inDoubt++;
                    if (found) {
                        inDoubtCommitted++;
                    } else if (present != null) {
                        absent.add(w.id());
                    }
                }
                case FAILED -> {
                    failed++;
                    if (found) {
                        ghosts++;
                        if (ghostWrites.size() < LISTED) {
                            ghostWrites.add(named(w));
                        }
                    }
                }
            }
        }
        return new KindAudit(kind, acknowledged, present == null ? -1 : lost, inDoubt,
                present == null ? -1 : inDoubtCommitted, failed, present == null ? -1 : ghosts, lostWrites, ghostWrites);
    }

    private static Named named(Write w) {
        return new Named(w.id(), w.key(), w.session(), w.completedAt());
    }

    /** The write that produced each acknowledged state, by key then state: which write a read showed. */
    public Map<String, Map<String, String>> writersOfStates() {
        Map<String, Map<String, String>> writers = new LinkedHashMap<>();
        for (Write w : writes) {
            String state = w.result() != null ? w.result().value() : w.intended();
            if (state != null) {
                writers.computeIfAbsent(w.key(), k -> new LinkedHashMap<>()).putIfAbsent(state, w.id());
            }
        }
        return writers;
    }
}
