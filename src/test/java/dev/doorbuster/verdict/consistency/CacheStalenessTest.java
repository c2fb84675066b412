package dev.doorbuster.verdict.consistency;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import dev.doorbuster.app.StorefrontHeaders;
import dev.doorbuster.chaos.FaultTimeline;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The staleness of reads served by the cache, on histories made by hand: each operation at a known time, so every
 * staleness is exact.
 */
class CacheStalenessTest {
    private static final String CACHE = ServedBy.of(StorefrontHeaders.CACHE, StorefrontHeaders.CACHE);
    private static final String REPLICA = ServedBy.of("replica", "reader-1");

    @TempDir
    Path dir;

    /** A history in the making: operations appended in time order, as the journal gives them back. */
    private static final class Ops {
        final List<History.Op> ops = new ArrayList<>();

        /** Process {@code p}'s write of {@code key}, invoked at {@code fromMs} and acknowledged at {@code atMs}. */
        Ops write(long p, String key, long version, long fromMs, long atMs) {
            ops.add(new History.Op(p, History.Type.INVOKE, true, key, "w" + version, nanos(fromMs), null, null));
            ops.add(new History.Op(p, History.Type.OK, true, key, "w" + version, nanos(atMs), version, null));
            return this;
        }

        /** Process {@code p}'s read of {@code key} from {@code fromMs} to {@code toMs}, showing {@code version}. */
        Ops read(long p, String key, long version, String servedBy, long fromMs, long toMs) {
            ops.add(new History.Op(p, History.Type.INVOKE, false, key, null, nanos(fromMs), null, null));
            ops.add(new History.Op(p, History.Type.OK, false, key, version == Observation.ABSENT ? null : "w" + version,
                    nanos(toMs), version, servedBy));
            return this;
        }

        /** The operations in time order (reads and writes of several processes interleave), measured. */
        CacheStaleness measured() {
            List<History.Op> inOrder = new ArrayList<>(ops);
            inOrder.sort(java.util.Comparator.comparingLong(History.Op::nanos));
            CacheStaleness.Measurement m = new CacheStaleness.Measurement();
            inOrder.forEach(m);
            return m.result(List.of());
        }
    }

    private static long nanos(long ms) {
        return ms * 1_000_000;
    }

    @Test
    void aCacheReadWithNoNewerWriteAcknowledgedIsNotStale() {
        CacheStaleness s = new Ops()
                .read(1, "user:7", Observation.ABSENT, CACHE, 100, 110)  // before any write: absent is all there is
                .write(2, "user:7", 1, 200, 210)
                .write(2, "user:7", 2, 300, 310)
                .read(1, "user:7", 2, CACHE, 400, 405)                   // the newest
                .write(2, "user:7", 1, 500, 510)                         // an older version acknowledged again
                .read(1, "user:7", 2, CACHE, 600, 605)
                .measured();
        assertEquals(3, s.cacheReads());
        assertEquals(0, s.staleReads());
        assertEquals(0, s.worstMs());
        assertEquals(List.of(), s.witnesses());
        assertNull(s.worst());
        assertEquals(3, s.histogram().get(0).reads(), "every read in the 'not stale' bucket: " + s.histogram());
    }

    @Test
    void aNewerWriteAcknowledgedBeforeTheReadStartedMakesItStaleByExactlyTheGap() {
        CacheStaleness s = new Ops()
                .write(2, "user:7", 1, 0, 10)
                .write(2, "user:7", 2, 900, 1_000)   // the earliest acknowledgement of a version newer than 1
                .write(3, "user:7", 3, 1_050, 1_100) // newer still, later: the read missed version 2 first
                .read(1, "user:7", 1, CACHE, 1_250, 1_260)
                .measured();
        assertEquals(1, s.cacheReads());
        assertEquals(1, s.staleReads());
        assertEquals(250.0, s.worstMs());
        CacheStaleness.Witness w = s.worst();
        assertEquals(new CacheStaleness.Witness("user:7", "version 1 'w1'", 2, 1.0, 1.25, 250.0, 1, CACHE, "none"), w);
    }

    @Test
    void aStaleReadIsMeasuredToTheMicrosecondAndNeverShowsAsZero() {
        List<History.Op> ops = List.of(
                new History.Op(2, History.Type.OK, true, "cart:a", "p1x1", 1_000, 1L, null),
                new History.Op(1, History.Type.INVOKE, false, "cart:a", null, 1_400, null, null),
                new History.Op(1, History.Type.OK, false, "cart:a", null, 2_000, Observation.ABSENT, CACHE),
                new History.Op(2, History.Type.OK, true, "cart:a", "p1x2", 5_000_000, 2L, null),
                new History.Op(1, History.Type.INVOKE, false, "cart:a", null, 5_000_000 + 12_345_678, null, null),
                new History.Op(1, History.Type.OK, false, "cart:a", "p1x1", 5_000_000 + 12_400_000, 1L, CACHE));
        CacheStaleness.Measurement m = new CacheStaleness.Measurement();
        ops.forEach(m);
        CacheStaleness s = m.result(List.of());
        assertEquals(2, s.staleReads());
        assertEquals(12.346, s.worstMs(), "12.345678 ms, rounded up to the microsecond");
        assertEquals(0.001, s.witnesses().get(1).stalenessMs(), "400 ns stale: a microsecond, not 0");
        assertEquals("absent", s.witnesses().get(1).shown(), "a cached 'not found' after the cart was created");
    }

    @Test
    void aWriteAcknowledgedAfterTheReadStartedIsConcurrentNotStale() {
        CacheStaleness s = new Ops()
                .write(2, "user:7", 1, 0, 10)
                .write(2, "user:7", 2, 900, 1_050)   // acknowledged while the read is in flight
                .read(1, "user:7", 1, CACHE, 1_000, 1_100)
                .measured();
        assertEquals(1, s.cacheReads());
        assertEquals(0, s.staleReads(), "either state is a correct answer to a read concurrent with the write");
        assertEquals(0, s.worstMs());
    }

    @Test
    void readsNotServedByTheCacheAreNotCounted() {
        CacheStaleness s = new Ops()
                .write(2, "user:7", 1, 0, 10)
                .write(2, "user:7", 2, 100, 200)
                .read(1, "user:7", 1, REPLICA, 1_000, 1_010)                       // stale, but the replica's
                .read(3, "user:7", 1, ServedBy.of("primary", "writer"), 1_000, 1_010)
                .read(4, "user:7", 1, null, 1_000, 1_010)                          // a service naming no server
                .read(5, "user:7", 1, CACHE, 1_000, 1_010)
                .measured();
        assertEquals(1, s.cacheReads());
        assertEquals(1, s.staleReads());
        assertEquals(800.0, s.worstMs());
        assertEquals(5, s.worst().process());
    }

    @Test
    void eachKeyIsJudgedByItsOwnWritesOnly() {
        CacheStaleness s = new Ops()
                .write(2, "user:7", 5, 0, 100)
                .write(2, "user:8", 1, 0, 100)
                .write(2, "user:8", 2, 200, 300)
                .write(2, "cart:x", 3, 0, 400)
                .read(11, "user:7", 5, CACHE, 1_000, 1_001)   // user:8's newer version is not user:7's
                .read(12, "user:8", 1, CACHE, 1_000, 1_001)   // stale since 300
                .read(13, "cart:x", 2, CACHE, 2_000, 2_001)   // stale since 400
                .read(14, "user:9", 1, CACHE, 2_000, 2_001)   // never written in the run
                .measured();
        assertEquals(4, s.cacheReads());
        assertEquals(2, s.staleReads());
        assertEquals(List.of("cart:x", "user:8"), s.witnesses().stream().map(CacheStaleness.Witness::key).toList());
        assertEquals(List.of(1600.0, 700.0), s.witnesses().stream().map(CacheStaleness.Witness::stalenessMs).toList());
        assertEquals(List.of(3L, 2L), s.witnesses().stream().map(CacheStaleness.Witness::newerVersion).toList());
    }

    @Test
    void theWitnessesAreTheStalestWorstFirstAndTheHistogramCountsEveryCacheRead() {
        Ops ops = new Ops().write(2, "user:1", 1, 0, 1).write(2, "user:1", 2, 5, 10);
        // user:2's newer version is acknowledged later: its read 40 ms stale starts after user:1's 40 ms stale one.
        ops.write(2, "user:2", 1, 0, 1).write(2, "user:2", 2, 900, 1_000).read(99, "user:2", 1, CACHE, 1_040, 1_041);
        // user:1 read stale by 5, 20, 90, 40, 3000, 70000, 600 ms (process 10, 11...); and two fresh reads.
        long[] staleBy = {5, 20, 90, 40, 3_000, 70_000, 600};
        long process = 10;
        for (long ms : staleBy) {
            ops.read(process++, "user:1", 1, CACHE, 10 + ms, 10 + ms + 2);
        }
        ops.read(process++, "user:1", 2, CACHE, 80_000, 80_001).read(process, "user:1", 2, CACHE, 80_000, 80_001);
        CacheStaleness s = ops.measured();
        assertEquals(10, s.cacheReads());
        assertEquals(8, s.staleReads());
        assertEquals(70_000.0, s.worstMs());
        assertEquals(CacheStaleness.WITNESSES, s.witnesses().size());
        assertEquals(List.of(70_000.0, 3_000.0, 600.0, 90.0, 40.0),
                s.witnesses().stream().map(CacheStaleness.Witness::stalenessMs).toList());
        assertEquals(List.of(15L, 14L, 16L, 12L, 13L), s.witnesses().stream().map(CacheStaleness.Witness::process).toList(),
                "of the two reads 40 ms stale, the earlier one (user:1's, by process 13) is kept");

        List<String> buckets = s.histogram().stream().map(b -> b.aboveMs() + "-" + b.atMostMs() + ":" + b.reads()).toList();
        assertEquals(List.of("null-0:2", "0-10:1", "10-50:3", "50-100:1", "100-250:0", "250-500:0", "500-1000:1",
                "1000-2500:0", "2500-5000:1", "5000-10000:0", "10000-30000:0", "30000-60000:0", "60000-null:1"), buckets);
        assertEquals(s.cacheReads(), s.histogram().stream().mapToLong(CacheStaleness.Bucket::reads).sum());
    }

    /** Through the run's journal, as the judge measures it: times from the journal's clock, faults from the timeline. */
    @Test
    void measuredFromTheJournalWithTheFaultsActiveAtTheRead() {
        AtomicLong clock = new AtomicLong();
        ConsistencyLog log = new ConsistencyLog(() -> 0L,
                ConsistencyJournal.open(dir.resolve("run.journal"), clock::get, () -> 0L));
        History h = log.history();
        clock.set(nanos(1_000));
        h.add(2, History.Type.INVOKE, true, "user:7", "Ada w2");
        clock.set(nanos(1_200));
        h.add(2, History.Type.OK, true, "user:7", "Ada w2", 2L, null);
        clock.set(nanos(3_500));
        h.add(1, History.Type.INVOKE, false, "user:7", null);
        clock.set(nanos(3_510));
        h.add(1, History.Type.OK, false, "user:7", "Ada w1", 1L, CACHE);
        FaultTimeline timeline = FaultTimeline.of(List.of(
                new FaultTimeline.Event(3_000, "F1 CacheInvalidationOff", FaultTimeline.Kind.INJECT, "", java.util.Map.of())));

        CacheStaleness s = CacheStaleness.measure(h, timeline);
        assertNull(s.error());
        assertTrue(s.judged());
        assertEquals(1, s.staleReads());
        assertEquals(new CacheStaleness.Witness("user:7", "version 1 'Ada w1'", 2, 1.2, 3.5, 2300.0, 1, CACHE,
                "F1 CacheInvalidationOff"), s.worst());
    }

    /** A journal that cannot be read back is no measurement: the check says so, never "no stale read". */
    @Test
    void aJournalThatCannotBeTrustedIsNotMeasured() throws Exception {
        Path notADir = Files.writeString(dir.resolve("a-file"), "x");
        ConsistencyLog log = new ConsistencyLog(() -> 0L, notADir.resolve("run.journal"));
        log.history().add(1, History.Type.OK, false, "user:7", "Ada", 1L, CACHE);
        CacheStaleness s = CacheStaleness.measure(log.history(), null);
        assertNotNull(s.error());
        assertTrue(s.error().contains("cannot open"), s.error());
        assertTrue(s.judged(), "whether the cache served a read is unknown: judged, and failed");
        assertEquals(-1, s.cacheReads());

        CacheStaleness none = new Ops().read(1, "user:7", 1, REPLICA, 0, 1).measured();
        assertFalse(none.judged(), "no read served by the cache: nothing to judge");
    }
}
