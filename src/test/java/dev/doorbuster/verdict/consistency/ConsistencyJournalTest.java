package dev.doorbuster.verdict.consistency;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

import dev.doorbuster.verdict.recording.LatencyRecorder;
import dev.doorbuster.verdict.shard.ShardData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The journal the consistency accounting is kept in: real files, read back as the verdict reads them. */
class ConsistencyJournalTest {
    /** Strings a journal must carry as they are: its separators, escapes, quotes, unicode beyond the BMP. */
    private static final List<String> AWKWARD = List.of("plain", "tab\there", "new\nline", "cr\rlf\r\n", "back\\slash",
            "\\N", "\\t", "\"quoted\" 'single'", "ünïcødé ✓ 日本 🛒", "", " lead and trail ", "lone \ud800 surrogate",
            "\t\n\\");

    @TempDir
    Path dir;

    @Test
    void everyRecordComesBackExactlyOnceFromManyConcurrentWriters() throws Exception {
        ConsistencyLog log = new ConsistencyLog(() -> 0L, dir.resolve("run.journal"));
        int threads = 8;
        int each = 5_000;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            done.add(pool.submit(() -> {
                for (int i = 0; i < each; i++) {
                    String s = AWKWARD.get(i % AWKWARD.size());
                    String id = "w-" + thread + "-" + i + "-" + s;
                    log.history().add(thread, History.Type.values()[i % 4], i % 2 == 0, "key " + i + s, i % 3 == 0 ? null : s,
                            version(i), servedBy(i, s));
                    log.inventory().attempted(id, Map.of((long) i, thread + 1, -7L, 2));
                    log.ledger().record(new WriteLedger.Write("kind " + s, "key " + s, id, thread, i / 7.0, i / 3.0,
                            WriteLedger.Outcome.values()[i % 3], i % 2 == 0 ? null : Observation.of(i - 50, s),
                            i % 5 == 0 ? null : s));
                }
            }));
        }
        for (Future<?> f : done) {
            f.get();
        }
        pool.shutdown();

        Map<WriteLedger.Write, Integer> writes = new HashMap<>();
        Map<String, Map<Long, Integer>> orders = new HashMap<>();
        Map<List<Object>, Integer> ops = new HashMap<>();
        long[] previousNanos = {Long.MIN_VALUE};
        log.journal().forEach(new ConsistencyJournal.Visitor() {
            @Override
            public void op(History.Op op) {
                assertTrue(op.nanos() >= previousNanos[0], "operations are journaled in time order");
                previousNanos[0] = op.nanos();
                ops.merge(List.of(op.process(), op.type(), op.write(), op.key(), String.valueOf(op.value()),
                        String.valueOf(op.version()), String.valueOf(op.servedBy())), 1, Integer::sum);
            }

            @Override
            public void write(WriteLedger.Write write) {
                writes.merge(write, 1, Integer::sum);
            }

            @Override
            public void order(String writeId, Map<Long, Integer> units) {
                assertNull(orders.put(writeId, units), "order " + writeId + " twice");
            }
        });
        assertEquals(threads * each, writes.size());
        assertEquals(threads * each, orders.size());
        assertTrue(writes.values().stream().allMatch(n -> n == 1), "every write exactly once");
        for (int t = 0; t < threads; t++) {
            for (int i = 0; i < each; i++) {
                String s = AWKWARD.get(i % AWKWARD.size());
                String id = "w-" + t + "-" + i + "-" + s;
                WriteLedger.Write expected = new WriteLedger.Write("kind " + s, "key " + s, id, t, i / 7.0, i / 3.0,
                        WriteLedger.Outcome.values()[i % 3], i % 2 == 0 ? null : Observation.of(i - 50, s),
                        i % 5 == 0 ? null : s);
                assertEquals(1, writes.getOrDefault(expected, 0), expected::toString);
                assertEquals(Map.of((long) i, t + 1, -7L, 2), orders.get(id));
                List<Object> op = List.of((long) t, History.Type.values()[i % 4], i % 2 == 0, "key " + i + s,
                        String.valueOf(i % 3 == 0 ? null : s), String.valueOf(version(i)), String.valueOf(servedBy(i, s)));
                assertEquals(1, ops.getOrDefault(op, 0), op::toString);
            }
        }
        assertEquals(threads * each, ops.values().stream().mapToInt(Integer::intValue).sum());
        assertEquals(threads * each, log.history().size());
        assertEquals(threads * each, log.ledger().size());
        assertEquals(threads * each, log.inventory().orders());
    }

    /** An answered operation's version in the concurrency test: none, absent, negative, positive, the extremes. */
    private static Long version(int i) {
        return switch (i % 6) {
            case 0 -> null;
            case 1 -> Observation.ABSENT;
            case 2 -> Long.MAX_VALUE;
            default -> (long) i - 50;
        };
    }

    /** Who answered, in the concurrency test: none, or an awkward name (every third op with a version has none). */
    private static String servedBy(int i, String awkward) {
        return i % 5 == 0 ? null : "cache (" + awkward + ")";
    }

    /**
     * The version and server of an answered operation come back as written; an operation without them is a line of
     * the shape every operation had before they were added, and such a line (an older journal's) reads as one.
     */
    @Test
    void anOperationCarriesItsVersionAndServerOnlyWhenItHasThem() throws IOException {
        AtomicLong clock = new AtomicLong(0);
        Path file = dir.resolve("run.journal");
        ConsistencyLog log = new ConsistencyLog(() -> 0L, ConsistencyJournal.open(file, () -> clock.addAndGet(10), () -> 0L));
        History h = log.history();
        h.add(4, History.Type.INVOKE, false, "user:7", null);
        h.add(4, History.Type.OK, false, "user:7", "Ada w1", 3L, "cache (cache)");
        h.add(4, History.Type.OK, false, "user:8", null, Observation.ABSENT, "replica (reader-2)");
        h.add(5, History.Type.OK, true, "user:7", "Ada w2", 4L, null);
        h.add(5, History.Type.OK, true, "user:7", "Ada w3", null, null);
        log.journal().flush();
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        assertEquals(List.of("H\t10\t4\tI\tr\tuser:7\t\\N",
                "H\t20\t4\tO\tr\tuser:7\tAda w1\t3\tcache (cache)",
                "H\t30\t4\tO\tr\tuser:8\t\\N\t" + Long.MIN_VALUE + "\treplica (reader-2)",
                "H\t40\t5\tO\tw\tuser:7\tAda w2\t4\t\\N",
                "H\t50\t5\tO\tw\tuser:7\tAda w3"), lines);
        List<History.Op> ops = new ArrayList<>();
        h.forEach(ops::add);
        assertEquals(List.of(new History.Op(4, History.Type.INVOKE, false, "user:7", null, 10, null, null),
                new History.Op(4, History.Type.OK, false, "user:7", "Ada w1", 20, 3L, "cache (cache)"),
                new History.Op(4, History.Type.OK, false, "user:8", null, 30, Observation.ABSENT, "replica (reader-2)"),
                new History.Op(5, History.Type.OK, true, "user:7", "Ada w2", 40, 4L, null),
                new History.Op(5, History.Type.OK, true, "user:7", "Ada w3", 50, null, null)), ops);

        // A line with one of the two fields only is torn, not an operation without a server.
        Path torn = Files.write(dir.resolve("torn.journal"), List.of("H\t20\t4\tO\tr\tuser:7\tAda w1\t3"));
        IOException e = assertThrows(IOException.class, () -> ConsistencyJournal.count(torn));
        assertTrue(e.getMessage().contains("torn.journal line 1 does not read"), e.getMessage());
    }

    /** The same operations as the in-memory history wrote them (times from a known clock), byte for byte. */
    @Test
    void historyJsonFromTheJournalIsWhatTheInMemoryHistoryWrote() throws Exception {
        AtomicLong clock = new AtomicLong(1_000);
        ConsistencyLog log = new ConsistencyLog(() -> 0L,
                ConsistencyJournal.open(dir.resolve("run.journal"), () -> clock.getAndAdd(1_000), () -> 0L));
        History h = log.history();
        h.add(1, History.Type.INVOKE, true, "user:7", "Ada w1");
        h.add(1, History.Type.OK, true, "user:7", "Ada w1", 1L, null);
        h.add(1, History.Type.INVOKE, false, "user:7", null);
        h.add(1, History.Type.OK, false, "user:7", "Ada w1", 1L, "cache (cache)");
        h.add(2, History.Type.INVOKE, true, "user:\t8", "Bo\nw2");
        h.add(2, History.Type.INFO, true, "user:\t8", "Bo\nw2");
        h.add(1, History.Type.INVOKE, true, "user:7", "Ada w3");
        h.add(1, History.Type.FAIL, true, "user:7", "Ada w3");
        h.add(3, History.Type.INVOKE, false, "user:7", null);
        h.add(3, History.Type.OK, false, "user:7", "Ada (seeded)", 0L, "replica (reader)");
        Path file = dir.resolve("history.json");
        h.writeElleJson(file);
        String expected = "["
                + "{\"type\":\"invoke\",\"f\":\"txn\",\"value\":[[\"w\",\"user:7\",1]],\"process\":1,\"time\":1000,\"index\":0},\n "
                + "{\"type\":\"ok\",\"f\":\"txn\",\"value\":[[\"w\",\"user:7\",1]],\"process\":1,\"time\":2000,\"index\":1},\n "
                + "{\"type\":\"invoke\",\"f\":\"txn\",\"value\":[[\"r\",\"user:7\",null]],\"process\":1,\"time\":3000,\"index\":2},\n "
                + "{\"type\":\"ok\",\"f\":\"txn\",\"value\":[[\"r\",\"user:7\",1]],\"process\":1,\"time\":4000,\"index\":3},\n "
                + "{\"type\":\"invoke\",\"f\":\"txn\",\"value\":[[\"w\",\"user:\\t8\",1]],\"process\":2,\"time\":5000,\"index\":4},\n "
                + "{\"type\":\"info\",\"f\":\"txn\",\"value\":[[\"w\",\"user:\\t8\",1]],\"process\":2,\"time\":6000,\"index\":5},\n "
                + "{\"type\":\"invoke\",\"f\":\"txn\",\"value\":[[\"w\",\"user:7\",2]],\"process\":1,\"time\":7000,\"index\":6},\n "
                + "{\"type\":\"fail\",\"f\":\"txn\",\"value\":[[\"w\",\"user:7\",2]],\"process\":1,\"time\":8000,\"index\":7},\n "
                + "{\"type\":\"invoke\",\"f\":\"txn\",\"value\":[[\"r\",\"user:7\",null]],\"process\":3,\"time\":9000,\"index\":8},\n "
                + "{\"type\":\"ok\",\"f\":\"txn\",\"value\":[[\"r\",\"user:7\",null]],\"process\":3,\"time\":10000,\"index\":9}"
                + "]\n";
        // As Jackson wrote it before: each operation a root value, after a root separator (a space) following ",\n";
        // what the answers showed besides the state (versions, servers) is not Elle's.
        assertEquals(expected, Files.readString(file, StandardCharsets.UTF_8));
    }

    @Test
    void theAuditFromTheJournalClassifiesAsTheLookupAnswersInChunks() {
        ConsistencyLog log = new ConsistencyLog(() -> 0L, dir.resolve("run.journal"));
        java.util.SplittableRandom random = new java.util.SplittableRandom(16);
        Set<String> present = new HashSet<>();
        List<WriteLedger.Write> lostOrders = new ArrayList<>();
        Set<String> absent = new HashSet<>();
        long[] expected = new long[4]; // acknowledged orders, lost orders, in-doubt committed, ghosts
        for (int i = 0; i < 25_000; i++) {
            WriteLedger.Outcome outcome = WriteLedger.Outcome.values()[random.nextInt(3)];
            boolean there = random.nextInt(5) != 0;
            // Completion times out of journal order, with ties: lost writes are listed by completion, then journal.
            WriteLedger.Write w = new WriteLedger.Write("order", "order:" + i, "o" + i, i % 50, i, 100 + random.nextInt(5_000),
                    outcome, null, "o" + i);
            log.ledger().record(w);
            if (there) {
                present.add(w.id());
            }
            switch (outcome) {
                case ACKNOWLEDGED -> {
                    expected[0]++;
                    if (!there) {
                        expected[1]++;
                        lostOrders.add(w);
                        absent.add(w.id());
                    }
                }
                case IN_DOUBT -> {
                    if (there) {
                        expected[2]++;
                    } else {
                        absent.add(w.id());
                    }
                }
                case FAILED -> expected[3] += there ? 1 : 0;
            }
        }
        for (int i = 0; i < 3_000; i++) {
            log.ledger().record(new WriteLedger.Write("profile update", "user:" + i, "p" + i, 1, i, i + 0.5,
                    WriteLedger.Outcome.ACKNOWLEDGED, Observation.of(i, "p" + i), "p" + i));
            present.add("p" + i);
        }
        List<Integer> calls = Collections.synchronizedList(new ArrayList<>());
        WriteLookup fromASet = (ids, target) -> {
            calls.add(ids.size());
            Set<String> found = new HashSet<>(ids);
            found.retainAll(present);
            return found;
        };
        WriteLedger.Audit audit = log.ledger().audit(Map.of("order", fromASet, "profile update", fromASet), null);

        assertNull(audit.error());
        assertTrue(calls.stream().allMatch(n -> n <= WriteLedger.LOOKUP_CHUNK), "ids looked up in chunks: " + calls);
        assertEquals(28_000, calls.stream().mapToInt(Integer::intValue).sum(), "every id looked up once");
        WriteLedger.KindAudit orders = audit.kinds().get(0);
        assertEquals("order", orders.kind());
        assertEquals(expected[0], orders.acknowledged());
        assertEquals(expected[1], orders.lost());
        assertEquals(expected[2], orders.inDoubtCommitted());
        assertEquals(expected[3], orders.ghosts());
        assertEquals(absent, audit.absent());
        lostOrders.sort(Comparator.comparingDouble(WriteLedger.Write::completedAt)); // stable: ties in journal order
        assertTrue(expected[1] > WriteLedger.LISTED, "more lost than listed: " + expected[1]);
        assertEquals(lostOrders.stream().limit(WriteLedger.LISTED).map(WriteLedger.Write::id).toList(),
                orders.lostWrites().stream().map(WriteLedger.Named::id).toList());
        WriteLedger.KindAudit profiles = audit.kinds().get(1);
        assertEquals(3_000, profiles.acknowledged());
        assertEquals(0, profiles.lost());
    }

    @Test
    void aJournalThatCannotOpenIsAnAuditErrorNotACrash() throws IOException {
        Path notADir = Files.writeString(dir.resolve("a-file"), "x");
        ConsistencyLog log = new ConsistencyLog(() -> 0L, notADir.resolve("run.journal"));
        record(log, 3);
        assertNotNull(log.journal().problem());
        WriteLedger.Audit audit = log.ledger().audit(Map.of("order", (ids, t) -> Set.copyOf(ids)), null);
        assertTrue(audit.error().startsWith("the consistency journal cannot be trusted (cannot open "), audit.error());
        assertEquals(-1, audit.lost(), "unknown, not zero");
        assertEquals(3, audit.acknowledged(), "what is counted in memory still is");
        Inventory.StockAudit stock = log.inventory().evaluate(Map.of(1L, 5L), Map.of(1L, 2L), log.ledger(), audit);
        assertNotNull(stock.error());
        assertThrows(IOException.class, () -> log.history().writeElleJson(dir.resolve("history.json")));
    }

    /** A full disk: {@code /dev/full} refuses every write with ENOSPC. */
    @Test
    void aFullDiskIsAnAuditErrorNotACrash() {
        Path full = Path.of("/dev/full");
        assumeTrue(Files.isWritable(full), "no /dev/full here");
        ConsistencyLog log = new ConsistencyLog(() -> 0L, ConsistencyJournal.open(full, System::nanoTime, () -> 0L));
        record(log, 5_000); // more than the writer's buffer: the OS write fails while virtual users record
        assertTrue(log.journal().problem().contains("No space left"), log.journal().problem());
        WriteLedger.Audit audit = log.ledger().audit(Map.of("order", (ids, t) -> Set.copyOf(ids)), null);
        assertNotNull(audit.error());
        assertEquals(-1, audit.lost());
        assertEquals(5_000, audit.acknowledged());
    }

    @Test
    void aJournalReplacedByADirectoryIsAnAuditError() throws IOException {
        Path file = dir.resolve("run.journal");
        ConsistencyLog log = new ConsistencyLog(() -> 0L, file);
        record(log, 10);
        log.journal().flush();
        Files.delete(file);
        Files.createDirectory(file);
        WriteLedger.Audit audit = log.ledger().audit(Map.of("order", (ids, t) -> Set.copyOf(ids)), null);
        assertTrue(audit.error().contains("cannot read it back"), audit.error());
        assertEquals(-1, audit.lost());
    }

    @Test
    void aJournalHoldingFewerWritesThanRecordedIsAnAuditError() throws IOException {
        Path file = dir.resolve("run.journal");
        ConsistencyLog log = new ConsistencyLog(() -> 0L, file);
        record(log, 10);
        log.journal().flush();
        List<String> lines = Files.readAllLines(file);
        Files.write(file, lines.subList(0, lines.size() - 1)); // the last write is gone
        WriteLedger.Audit audit = log.ledger().audit(Map.of("order", (ids, t) -> Set.copyOf(ids)), null);
        assertTrue(audit.error().contains("holds 9 acknowledged writes of kind 'order', 10 were recorded"), audit.error());
        assertEquals(-1, audit.lost());
    }

    /** Two shards' journals: history.json has both in time order, the audit both shards' writes. */
    @Test
    void shardJournalsMergeInTimeOrder() throws IOException {
        ConsistencyLog coordinator = new ConsistencyLog(() -> 0L, dir.resolve("coordinator.journal"));
        for (int shard = 0; shard < 2; shard++) {
            AtomicLong clock = new AtomicLong(10 + shard * 10L); // shard 0 at 10, 30, 50...; shard 1 at 20, 40, 60...
            ConsistencyLog log = new ConsistencyLog(() -> 0L,
                    ConsistencyJournal.open(dir.resolve("shard-" + shard + ".journal"), () -> clock.getAndAdd(20), () -> 0L));
            log.shard(shard);
            for (int i = 0; i < 3; i++) {
                String id = "s" + shard + "-" + i;
                log.history().add(log.sessionOf(1), History.Type.INVOKE, true, "user:" + shard, id);
                log.inventory().attempted(id, Map.of(1L, 1));
                log.ledger().record(new WriteLedger.Write("order", "order:" + id, id, log.sessionOf(1), i, i + 0.5,
                        WriteLedger.Outcome.ACKNOWLEDGED, Observation.of(1, id), id));
            }
            Path shardDir = dir.resolve("shard-" + shard);
            ShardData.write(shardDir, new LatencyRecorder(0), log);
            coordinator.absorb(ShardData.readConsistency(shardDir), shardDir.resolve(ShardData.JOURNAL));
        }
        assertNull(coordinator.journal().problem());
        assertEquals(6, coordinator.history().size());
        List<Long> times = new ArrayList<>();
        List<String> values = new ArrayList<>();
        coordinator.history().forEach(op -> {
            times.add(op.nanos());
            values.add(op.value());
        });
        assertEquals(List.of(10L, 20L, 30L, 40L, 50L, 60L), times);
        assertEquals(List.of("s0-0", "s1-0", "s0-1", "s1-1", "s0-2", "s1-2"), values);
        Path history = dir.resolve("history.json");
        coordinator.history().writeElleJson(history);
        assertEquals(6, new com.fasterxml.jackson.databind.ObjectMapper().readTree(history.toFile()).size());

        WriteLedger.Audit audit = coordinator.ledger().audit(Map.of("order", (ids, t) -> Set.of("s1-2")), null);
        assertNull(audit.error());
        assertEquals(6, audit.acknowledged());
        assertEquals(5, audit.lost());
        Inventory.StockAudit stock = coordinator.inventory().evaluate(Map.of(1L, 10L), Map.of(1L, 9L),
                coordinator.ledger(), audit);
        assertEquals(0, stock.broken(), "only the present order took stock: " + stock);
    }

    /** A shard whose journal lost its last line, or cannot be read, leaves the audit unable to tell. */
    @Test
    void anUnreadableShardJournalIsAnAuditErrorNeverASmallerCount() throws IOException {
        for (String damage : List.of("truncated", "missing", "corrupt")) {
            ConsistencyLog coordinator = new ConsistencyLog(() -> 0L, dir.resolve("coordinator-" + damage + ".journal"));
            ConsistencyLog shard = new ConsistencyLog(() -> 0L, dir.resolve("shard-" + damage + ".journal"));
            record(shard, 20);
            Path shardDir = dir.resolve("shard-" + damage);
            ShardData.write(shardDir, new LatencyRecorder(0), shard);
            Path journal = shardDir.resolve(ShardData.JOURNAL);
            List<String> lines = Files.readAllLines(journal);
            switch (damage) {
                case "truncated" -> Files.write(journal, lines.subList(0, lines.size() - 1));
                case "missing" -> Files.delete(journal);
                default -> {
                    lines.set(3, "W\tnot\ta\twrite");
                    Files.write(journal, lines);
                }
            }
            coordinator.absorb(ShardData.readConsistency(shardDir), journal);
            WriteLedger.Audit audit = coordinator.ledger().audit(Map.of("order", (ids, t) -> Set.copyOf(ids)), null);
            assertNotNull(audit.error(), damage);
            assertTrue(audit.error().contains(journal.toString()), audit.error());
            assertEquals(-1, audit.lost(), damage);
            assertEquals(20, audit.acknowledged(), damage + ": the shard's declared count");
        }
    }

    /**
     * Two million records leave the heap as it was: they are on disk. (In memory they took well over 100 MB; the
     * bound leaves room for the collector's own noise.)
     */
    @Test
    void theHeapDoesNotHoldTheRecords() {
        ConsistencyLog log = new ConsistencyLog(() -> 0L, dir.resolve("run.journal"));
        record(log, 1_000); // warm up: classes loaded, buffers allocated
        long before = usedHeapAfterGc();
        for (int i = 0; i < 1_000_000; i++) {
            String id = "db-0123456789ab-" + i;
            log.history().add(i % 500, History.Type.OK, i % 2 == 0, "user:" + (i % 500), id, (long) i,
                    i % 2 == 0 ? null : "cache (cache)");
            log.ledger().record(new WriteLedger.Write("profile update", "user:" + (i % 500), id, i % 500, i, i + 0.01,
                    WriteLedger.Outcome.ACKNOWLEDGED, Observation.of(i, id), id));
        }
        long grown = usedHeapAfterGc() - before;
        assertNull(log.journal().problem());
        assertEquals(1_001_000, log.ledger().size());
        assertTrue(grown < 24L << 20, "heap grew by " + (grown >> 20) + " MB for 2,000,000 records");
    }

    private static long usedHeapAfterGc() {
        Runtime runtime = Runtime.getRuntime();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            used = Math.min(used, runtime.totalMemory() - runtime.freeMemory());
        }
        return used;
    }

    private static void record(ConsistencyLog log, int writes) {
        for (int i = 0; i < writes; i++) {
            String id = log.newWriteId();
            log.inventory().attempted(id, Map.of(1L, 1));
            log.ledger().record(new WriteLedger.Write("order", "order:" + id, id, 1, i, i + 0.1,
                    WriteLedger.Outcome.ACKNOWLEDGED, Observation.of(1, id), id));
        }
    }
}
