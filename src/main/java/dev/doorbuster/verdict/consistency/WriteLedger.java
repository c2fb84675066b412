package dev.doorbuster.verdict.consistency;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Consumer;

import com.fasterxml.jackson.annotation.JsonIgnore;

/**
 * Every write the virtual users made, by the identity each client chose for it (an idempotency key, a
 * unique value), with how it ended for the client: <b>acknowledged</b> (a 2xx answer), <b>failed</b> (an
 * answer saying it was not done, a 4xx) or <b>in doubt</b> (no answer, or a 5xx: it may or may not have
 * been committed).
 *
 * <p>Writes go to the run's {@link ConsistencyJournal} as they are recorded; only counts per kind and outcome stay
 * in memory. After the faults heal, {@link #audit} looks every write up by that identity on the current primary,
 * set-based lookups per kind of write. Server-assigned ids cannot be used for this: a promoted replica's
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
    /** Ids per lookup call: the audit holds at most this many writes of a kind at a time. */
    static final int LOOKUP_CHUNK = 10_000;

    private final ConsistencyJournal journal;
    /** Writes recorded per kind, by outcome (indexed by {@link Outcome#ordinal()}): cheap, kept in memory. */
    private final Map<String, AtomicLongArray> counts = new ConcurrentHashMap<>();

    /** A ledger of its own, journaled in a temporary file (tests, benchmarks). */
    public WriteLedger() {
        this(ConsistencyJournal.temporary(() -> 0L));
    }

    WriteLedger(ConsistencyJournal journal) {
        this.journal = journal;
    }

    /** Records a write once its client knows how it ended: the journal's order of writes is their completion order. */
    public void record(Write write) {
        journal.appendWrite(write);
        counts.computeIfAbsent(write.kind(), k -> new AtomicLongArray(Outcome.values().length))
                .incrementAndGet(write.outcome().ordinal());
    }

    /** Writes recorded (a shard's included once absorbed). */
    public long size() {
        long n = 0;
        for (AtomicLongArray byOutcome : counts.values()) {
            for (int i = 0; i < byOutcome.length(); i++) {
                n += byOutcome.get(i);
            }
        }
        return n;
    }

    public long count(Outcome outcome) {
        return counts.values().stream().mapToLong(c -> c.get(outcome.ordinal())).sum();
    }

    /** Writes recorded per kind and outcome (what a shard declares it delivers). */
    public Map<String, Map<Outcome, Long>> counts() {
        Map<String, Map<Outcome, Long>> all = new TreeMap<>();
        counts.forEach((kind, byOutcome) -> {
            Map<Outcome, Long> of = new EnumMap<>(Outcome.class);
            for (Outcome o : Outcome.values()) {
                of.put(o, byOutcome.get(o.ordinal()));
            }
            all.put(kind, of);
        });
        return all;
    }

    /** Counts a shard's writes (its journal is read with this one's). */
    void absorb(Map<String, Map<Outcome, Long>> shardCounts) {
        shardCounts.forEach((kind, byOutcome) -> {
            AtomicLongArray c = counts.computeIfAbsent(kind, k -> new AtomicLongArray(Outcome.values().length));
            byOutcome.forEach((outcome, n) -> c.addAndGet(outcome.ordinal(), n));
        });
    }

    /** Every write, read back from the journal in the order recorded (a shard's after this process's). */
    public void forEach(Consumer<Write> consumer) throws IOException {
        String problem = journal.problem();
        if (problem != null) {
            throw new IOException("the write ledger is incomplete: " + problem);
        }
        journal.forEach(new ConsistencyJournal.Visitor() {
            @Override
            public void write(Write write) {
                consumer.accept(write);
            }
        });
    }

    /**
     * Looks every write up on {@code target} (the current primary, after the faults healed) with the lookup
     * of its kind. A kind without a lookup is reported with an error rather than silently skipped.
     *
     * <p>Streams the journal once: each kind's writes are looked up {@value #LOOKUP_CHUNK} at a time and classified
     * as they come; what stays in memory is the counts, the first {@value #LISTED} lost writes and ghosts, and the
     * ids found absent. A journal that cannot be trusted (it failed to write, cannot be read, or holds other counts
     * than were recorded) makes the audit an error: the lost writes cannot be told, never a smaller count.
     */
    public Audit audit(Map<String, WriteLookup> lookups, WriteLookup.Target target) {
        String problem = journal.problem();
        if (problem != null) {
            return unknown(problem);
        }
        Map<String, KindPass> passes = new TreeMap<>();
        long[] order = {0};
        try {
            journal.forEach(new ConsistencyJournal.Visitor() {
                @Override
                public void write(Write w) {
                    passes.computeIfAbsent(w.kind(), kind -> {
                        WriteLookup lookup = lookups.get(kind);
                        return lookup == null ? new KindPass(kind, null, "no lookup declared for writes of kind '" + kind + "'")
                                : new KindPass(kind, ids -> lookup.present(ids, target), null);
                    }).add(w, order[0]++);
                }
            });
        } catch (IOException | RuntimeException e) {
            return unknown("cannot read it back: " + e.getMessage());
        }
        String mismatch = mismatch(passes);
        if (mismatch != null) {
            return unknown(mismatch);
        }
        List<KindAudit> kinds = new ArrayList<>();
        Set<String> absent = new HashSet<>();
        List<String> errors = new ArrayList<>();
        for (KindPass pass : passes.values()) {
            kinds.add(pass.finish(absent));
            if (pass.error != null) {
                errors.add(pass.error);
            }
        }
        return new Audit(kinds, errors.isEmpty() ? null : String.join("; ", errors), absent);
    }

    /** Why the journal's writes differ from the counts recorded in memory, or null when they agree. */
    private String mismatch(Map<String, KindPass> passes) {
        Map<String, Map<Outcome, Long>> recorded = counts();
        for (String kind : recorded.keySet()) {
            passes.putIfAbsent(kind, new KindPass(kind, null, null));
        }
        for (KindPass pass : passes.values()) {
            Map<Outcome, Long> expected = recorded.getOrDefault(pass.kind, Map.of());
            for (Outcome o : Outcome.values()) {
                long read = pass.byOutcome[o.ordinal()];
                long wanted = expected.getOrDefault(o, 0L);
                if (read != wanted) {
                    return "it holds " + read + " " + o.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ')
                            + " writes of kind '" + pass.kind + "', " + wanted + " were recorded";
                }
            }
        }
        return null;
    }

    /** The audit when the journal cannot be trusted: the outcomes counted in memory, whether any is lost unknown. */
    private Audit unknown(String why) {
        List<KindAudit> kinds = new ArrayList<>();
        counts().forEach((kind, n) -> kinds.add(new KindAudit(kind, n.get(Outcome.ACKNOWLEDGED), -1,
                n.get(Outcome.IN_DOUBT), -1, n.get(Outcome.FAILED), -1, List.of(), List.of())));
        return new Audit(kinds, "the consistency journal cannot be trusted (" + why + ")", Set.of());
    }

    /** Sorts one kind's writes into lost, in doubt (committed or not), failed and ghosts. */
    static KindAudit classify(String kind, List<Write> ofKind, Set<String> present, Set<String> absent) {
        KindPass pass = new KindPass(kind, present == null ? null : ids -> present, present == null ? "no lookup" : null);
        long order = 0;
        for (Write w : ofKind) {
            pass.add(w, order++);
        }
        return pass.finish(absent);
    }

    /** Which of some ids are present (a lookup bound to its target). */
    @FunctionalInterface
    private interface Presence {
        Set<String> present(List<String> ids) throws Exception;
    }

    /** A write listed in an audit, with its place in the journal (ties of completion time keep that order). */
    private record Listed(Write write, long order) {
        static final Comparator<Listed> FIRST = Comparator.comparingDouble((Listed l) -> l.write().completedAt())
                .thenComparingLong(Listed::order);
    }

    /**
     * One kind's audit as its writes stream by: counted at once, looked up a chunk at a time. Once a lookup failed
     * (or there is none), the kind's lost writes and ghosts are unknown: nothing more is looked up.
     */
    private static final class KindPass {
        final String kind;
        final Presence presence;
        String error;
        final long[] byOutcome = new long[Outcome.values().length];
        final List<Listed> chunk = new ArrayList<>();
        long lost;
        long inDoubtCommitted;
        long ghosts;
        /** The first {@value #LISTED} by completion time: max-heaps, the latest on top to be dropped. */
        final PriorityQueue<Listed> lostFirst = new PriorityQueue<>(Listed.FIRST.reversed());
        final PriorityQueue<Listed> ghostFirst = new PriorityQueue<>(Listed.FIRST.reversed());
        final Set<String> absent = new HashSet<>();

        KindPass(String kind, Presence presence, String error) {
            this.kind = kind;
            this.presence = presence;
            this.error = error;
        }

        void add(Write w, long order) {
            byOutcome[w.outcome().ordinal()]++;
            if (error != null || presence == null) {
                return;
            }
            chunk.add(new Listed(w, order));
            if (chunk.size() >= LOOKUP_CHUNK) {
                lookUp();
            }
        }

        private void lookUp() {
            if (chunk.isEmpty() || error != null || presence == null) {
                chunk.clear();
                return;
            }
            Set<String> present;
            try {
                present = presence.present(chunk.stream().map(l -> l.write().id()).toList());
            } catch (Exception ex) {
                error = kind + ": " + ex.getMessage();
                chunk.clear();
                return;
            }
            for (Listed l : chunk) {
                Write w = l.write();
                boolean found = present.contains(w.id());
                switch (w.outcome()) {
                    case ACKNOWLEDGED -> {
                        if (!found) {
                            lost++;
                            absent.add(w.id());
                            keepFirst(lostFirst, l);
                        }
                    }
                    case IN_DOUBT -> {
                        if (found) {
                            inDoubtCommitted++;
                        } else {
                            absent.add(w.id());
                        }
                    }
                    case FAILED -> {
                        if (found) {
                            ghosts++;
                            keepFirst(ghostFirst, l);
                        }
                    }
                }
            }
            chunk.clear();
        }

        private static void keepFirst(PriorityQueue<Listed> first, Listed l) {
            first.add(l);
            if (first.size() > LISTED) {
                first.poll();
            }
        }

        /** The kind's audit; its absent ids go into {@code absent} when its lookups all succeeded. */
        KindAudit finish(Set<String> allAbsent) {
            lookUp();
            long acknowledged = byOutcome[Outcome.ACKNOWLEDGED.ordinal()];
            long inDoubt = byOutcome[Outcome.IN_DOUBT.ordinal()];
            long failed = byOutcome[Outcome.FAILED.ordinal()];
            if (error != null || presence == null) {
                return new KindAudit(kind, acknowledged, -1, inDoubt, -1, failed, -1, List.of(), List.of());
            }
            allAbsent.addAll(absent);
            return new KindAudit(kind, acknowledged, lost, inDoubt, inDoubtCommitted, failed, ghosts, sorted(lostFirst),
                    sorted(ghostFirst));
        }

        private static List<Named> sorted(PriorityQueue<Listed> first) {
            List<Listed> listed = new ArrayList<>(first);
            listed.sort(Listed.FIRST);
            return listed.stream().map(l -> named(l.write())).toList();
        }
    }

    private static Named named(Write w) {
        return new Named(w.id(), w.key(), w.session(), w.completedAt());
    }

    /**
     * The write that produced each of the {@code wanted} states (key → states), by key then state: which write a
     * read showed. Only the states asked for are kept (the kept violations' expected states), so memory follows them,
     * not the run's writes. The first write recorded that produced a state is its writer.
     */
    Map<String, Map<String, String>> writersOfStates(Map<String, Set<String>> wanted) throws IOException {
        Map<String, Map<String, String>> writers = new LinkedHashMap<>();
        if (wanted.isEmpty()) {
            return writers;
        }
        forEach(w -> {
            String state = w.result() != null ? w.result().value() : w.intended();
            if (state != null && wanted.getOrDefault(w.key(), Set.of()).contains(state)) {
                writers.computeIfAbsent(w.key(), k -> new LinkedHashMap<>()).putIfAbsent(state, w.id());
            }
        });
        return writers;
    }
}
