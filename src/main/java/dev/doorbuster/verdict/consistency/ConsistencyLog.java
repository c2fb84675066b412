package dev.doorbuster.verdict.consistency;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
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
 */
public final class ConsistencyLog {
    /** Violations kept in memory for reclassification and witnesses; beyond it they are only counted. */
    static final int KEPT_VIOLATIONS = 200_000;

    private final String runToken;
    private final AtomicLong writeCounter = new AtomicLong();
    private final DoubleSupplier clock;
    private final WriteLedger ledger = new WriteLedger();
    private final History history;
    private final Inventory inventory = new Inventory();
    private final Map<Guarantee, AtomicLong> checked = new EnumMap<>(Guarantee.class);
    private final Map<Guarantee, AtomicLong> violated = new EnumMap<>(Guarantee.class);
    private final ConcurrentLinkedQueue<Violation> violations = new ConcurrentLinkedQueue<>();
    private final AtomicInteger keptViolations = new AtomicInteger();
    private final AtomicLong processes = new AtomicLong(PROCESSES_FROM);
    /** Virtual users' processes are numbered from 1; processes a user goes on as after an {@code info}, from here. */
    private static final long PROCESSES_FROM = 1_000_000_000L;
    /** Added to every session and process id: injector shards number their virtual users apart (see {@link #shard}). */
    private volatile long sessionBase;

    /** @param startNanos {@link System#nanoTime()} at second 0 of the run (the start of the load) */
    public ConsistencyLog(LongSupplier startNanos) {
        this.clock = () -> (System.nanoTime() - startNanos.getAsLong()) / 1e9;
        this.history = new History(startNanos);
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

    /** Everything a shard's log holds, to be merged into the coordinator's with {@link #absorb}. */
    public ShardData.Consistency export() {
        Map<Guarantee, Long> reads = new EnumMap<>(Guarantee.class);
        Map<Guarantee, Long> broken = new EnumMap<>(Guarantee.class);
        checked.forEach((g, n) -> reads.put(g, n.get()));
        violated.forEach((g, n) -> broken.put(g, n.get()));
        return new ShardData.Consistency(reads, broken, List.copyOf(violations), ledger.writes(), inventory.orders(),
                inventory.outOfStockAnswers(), history.ops());
    }

    /** Adds a shard's log to this one: counts, kept violations, writes, orders and operations. */
    public void absorb(ShardData.Consistency shard) {
        shard.reads().forEach((g, n) -> checked.get(g).addAndGet(n));
        shard.violations().forEach((g, n) -> violated.get(g).addAndGet(n));
        for (Violation v : shard.kept()) {
            if (keptViolations.incrementAndGet() <= KEPT_VIOLATIONS) {
                violations.add(v);
            }
        }
        shard.writes().forEach(ledger::record);
        inventory.absorb(shard.orders(), shard.outOfStock());
        history.absorb(shard.history());
    }

    /**
     * The session guarantees' outcome once the writes are audited. A violation whose expected state came
     * from a write the audit found absent is <b>explained by a lost write</b>: reported with the lost writes,
     * not as a stale read (the replica was not behind; the write is gone).
     */
    public SessionReport report(WriteLedger.Audit audit, FaultTimeline timeline) {
        Map<String, Map<String, String>> writers = ledger.writersOfStates();
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
