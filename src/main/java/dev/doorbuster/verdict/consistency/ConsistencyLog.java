package dev.doorbuster.verdict.consistency;

import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.DoubleSupplier;
import java.util.function.LongSupplier;

import dev.doorbuster.chaos.FaultTimeline;
import dev.doorbuster.verdict.shard.ShardData;

/**
 * The run's consistency accounting, shared by every virtual user: the ledger of writes, each session's
 * guarantees and the reads that broke them, the operation history, and the stock ledger. Thread-safe.
 * Knows nothing of any particular service: journeys say what they write and read.
 *
 * <p>Operations, writes and orders go to a {@link ConsistencyJournal} file as they happen; in memory stay counts and
 * the kept violations (bounded), so the heap stays flat however long the run.
 */
public final class ConsistencyLog {
    /** Violations kept in memory for reclassification and witnesses; beyond it they are only counted. */
    static final int KEPT_VIOLATIONS = 200_000;

    private final String runToken;
    private final AtomicLong writeCounter = new AtomicLong();
    private final DoubleSupplier clock;
    private final ConsistencyJournal journal;
    private final WriteLedger ledger;
    private final History history;
    private final Inventory inventory;
    private final Map<Guarantee, AtomicLong> checked = new EnumMap<>(Guarantee.class);
    private final Map<Guarantee, AtomicLong> violated = new EnumMap<>(Guarantee.class);
    private final ConcurrentLinkedQueue<Violation> violations = new ConcurrentLinkedQueue<>();
    private final AtomicInteger keptViolations = new AtomicInteger();
    private final AtomicLong processes = new AtomicLong(PROCESSES_FROM);
    /** Virtual users' processes are numbered from 1; processes a user goes on as after an {@code info}, from here. */
    private static final long PROCESSES_FROM = 1_000_000_000L;
    /** Added to every session and process id: injector shards number their virtual users apart (see {@link #shard}). */
    private volatile long sessionBase;

    /**
     * A log journaled in a temporary file (tests, benchmarks; a run gives its work folder's file).
     *
     * @param startNanos {@link System#nanoTime()} at second 0 of the run (the start of the load)
     */
    public ConsistencyLog(LongSupplier startNanos) {
        this(startNanos, ConsistencyJournal.temporary(startNanos));
    }

    /**
     * @param startNanos  {@link System#nanoTime()} at second 0 of the run (the start of the load)
     * @param journalFile where operations, writes and orders go as they happen (created, or emptied)
     */
    public ConsistencyLog(LongSupplier startNanos, Path journalFile) {
        this(startNanos, ConsistencyJournal.open(journalFile, startNanos));
    }

    ConsistencyLog(LongSupplier startNanos, ConsistencyJournal journal) {
        this.clock = () -> (System.nanoTime() - startNanos.getAsLong()) / 1e9;
        this.journal = journal;
        this.ledger = new WriteLedger(journal);
        this.history = new History(journal);
        this.inventory = new Inventory(journal);
        byte[] random = new byte[6];
        new SecureRandom().nextBytes(random);
        // Write ids must be unique beyond this run: an external database keeps the keys of earlier runs.
        this.runToken = java.util.HexFormat.of().formatHex(random);
        for (Guarantee g : Guarantee.values()) {
            checked.put(g, new AtomicLong());
            violated.put(g, new AtomicLong());
        }
    }

    /** A fresh client-chosen write identity, unique across runs ({@code db-3f9a0c1b2e4d-17}). */
    public String newWriteId() {
        return "db-" + runToken + "-" + writeCounter.incrementAndGet();
    }

    /** Run seconds now. */
    public double now() {
        return clock.getAsDouble();
    }

    /**
     * This log belongs to injector shard {@code index}: its sessions and processes are numbered from
     * {@code (index + 1) × 10^12}, so the shards' ledgers and histories merge without two users sharing an id
     * (each shard's load generator numbers its virtual users from 1).
     */
    public void shard(int index) {
        sessionBase = (index + 1) * 1_000_000_000_000L;
    }

    /** The run-wide id of the load generator's virtual user {@code userId}. */
    public long sessionOf(long userId) {
        return sessionBase + userId;
    }

    /** A new session for virtual user {@code userId} (the load generator's number). */
    public SessionGuarantees session(long userId) {
        return new SessionGuarantees(sessionOf(userId), this);
    }

    /** A process id for the history that no virtual user has: after an {@code info}, a user goes on as a new process. */
    public long newProcess() {
        return sessionBase + processes.incrementAndGet();
    }

    public WriteLedger ledger() {
        return ledger;
    }

    public History history() {
        return history;
    }

    public Inventory inventory() {
        return inventory;
    }

    /** Where the operations, writes and orders are (a coordinator's: its own, then its shards'). */
    public ConsistencyJournal journal() {
        return journal;
    }

    void checked(Guarantee g) {
        checked.get(g).incrementAndGet();
    }

    void violated(Violation v) {
        violated.get(v.guarantee()).incrementAndGet();
        if (keptViolations.incrementAndGet() <= KEPT_VIOLATIONS) {
            violations.add(v);
        }
    }

    public long reads(Guarantee g) {
        return checked.get(g).get();
    }

    public long violations(Guarantee g) {
        return violated.get(g).get();
    }

    /**
     * A shard's counts and kept violations, to be merged into the coordinator's with {@link #absorb}; the operations,
     * writes and orders are in its journal, delivered beside them ({@link ConsistencyJournal#copyTo}).
     */
    public ShardData.Consistency export() {
        journal.flush();
        Map<Guarantee, Long> reads = new EnumMap<>(Guarantee.class);
        Map<Guarantee, Long> broken = new EnumMap<>(Guarantee.class);
        checked.forEach((g, n) -> reads.put(g, n.get()));
        violated.forEach((g, n) -> broken.put(g, n.get()));
        return new ShardData.Consistency(reads, broken, List.copyOf(violations), ledger.counts(), inventory.orders(),
                inventory.outOfStockAnswers(), history.size(), journal.problem());
    }

    /**
     * Adds a shard's log to this one: counts and kept violations, and its journal {@code shardJournal}, read after
     * this one's from now on. The journal is read through once here and must hold what the shard declared; if it does
     * not (unreadable, torn, or the shard's own journal broke), this log's journal is marked untrustworthy, so the
     * audit says it cannot tell rather than count fewer writes.
     */
    public void absorb(ShardData.Consistency shard, Path shardJournal) {
        shard.reads().forEach((g, n) -> checked.get(g).addAndGet(n));
        shard.violations().forEach((g, n) -> violated.get(g).addAndGet(n));
        for (Violation v : shard.kept()) {
            if (keptViolations.incrementAndGet() <= KEPT_VIOLATIONS) {
                violations.add(v);
            }
        }
        ledger.absorb(shard.writes());
        inventory.absorb(shard.orders(), shard.outOfStock());
        history.absorb(shard.history());
        if (shard.journalProblem() != null) {
            journal.problemElsewhere(shardJournal + ": the shard's journal broke during the load: " + shard.journalProblem());
            return;
        }
        long writes = shard.writes().values().stream().flatMap(m -> m.values().stream()).mapToLong(Long::longValue).sum();
        ConsistencyJournal.Counts declared = new ConsistencyJournal.Counts(shard.history(), writes, shard.orders());
        try {
            ConsistencyJournal.Counts read = ConsistencyJournal.count(shardJournal);
            if (!read.equals(declared)) {
                journal.problemElsewhere(shardJournal + " holds " + read + ", the shard recorded " + declared);
                return;
            }
        } catch (IOException | RuntimeException e) {
            journal.problemElsewhere("cannot read " + shardJournal + ": " + e.getMessage());
            return;
        }
        journal.addSource(shardJournal);
    }

    /** A shard delivered, but its accounting cannot be read: whatever is counted is incomplete. */
    public void absorbFailed(String why) {
        journal.problemElsewhere(why);
    }

    /**
     * The session guarantees' outcome once the writes are audited. A violation whose expected state came
     * from a write the audit found absent is <b>explained by a lost write</b>: reported with the lost writes,
     * not as a stale read (the replica was not behind; the write is gone).
     */
    public SessionReport report(WriteLedger.Audit audit, FaultTimeline timeline) {
        // Only the states some kept violation expected without knowing its writer are looked up in the journal.
        Map<String, Set<String>> wanted = new HashMap<>();
        for (Violation v : violations) {
            if (v.expectedWriteId() == null && v.expected().value() != null) {
                wanted.computeIfAbsent(v.key(), k -> new HashSet<>()).add(v.expected().value());
            }
        }
        Map<String, Map<String, String>> writers;
        try {
            writers = ledger.writersOfStates(wanted);
        } catch (IOException e) {
            // Then the audit could not read the journal either: its absent set is empty, nothing is explained.
            writers = Map.of();
        }
        List<SessionReport.Classified> classified = new ArrayList<>();
        for (Violation v : violations) {
            String writeId = v.expectedWriteId();
            if (writeId == null && v.expected().value() != null) {
                writeId = writers.getOrDefault(v.key(), Map.of()).get(v.expected().value());
            }
            String lost = writeId != null && audit.absent().contains(writeId) ? writeId : null;
            classified.add(new SessionReport.Classified(v, lost));
        }
        Map<Guarantee, Long> counted = new EnumMap<>(Guarantee.class);
        for (Guarantee g : Guarantee.values()) {
            counted.put(g, violated.get(g).get());
        }
        Map<Guarantee, Long> reads = new EnumMap<>(Guarantee.class);
        checked.forEach((g, n) -> reads.put(g, n.get()));
        return SessionReport.of(reads, counted, classified, timeline);
    }
}
