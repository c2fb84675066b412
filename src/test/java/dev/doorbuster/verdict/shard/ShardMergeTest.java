package dev.doorbuster.verdict.shard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import dev.doorbuster.verdict.consistency.ConsistencyLog;
import dev.doorbuster.verdict.consistency.Guarantee;
import dev.doorbuster.verdict.consistency.History;
import dev.doorbuster.verdict.consistency.Observation;
import dev.doorbuster.verdict.consistency.SessionGuarantees;
import dev.doorbuster.verdict.consistency.SessionReport;
import dev.doorbuster.verdict.consistency.WriteLedger;
import dev.doorbuster.verdict.recording.LatencyRecorder;
import dev.doorbuster.verdict.recording.Recording;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Merging injector shards' recordings: exact to the union of their requests, and loud about bad files. */
class ShardMergeTest {
    @TempDir
    Path work;

    /** The merge's own decoder adds exactly what HdrHistogram's decoding gives, over the whole latency range. */
    @Test
    void theIntervalDecoderAddsWhatHdrHistogramDecodes() throws Exception {
        SplittableRandom random = new SplittableRandom(7);
        IntervalDecoder decoder = new IntervalDecoder();
        for (int round = 0; round < 300; round++) {
            Histogram h = LatencyRecorder.newHistogram();
            int values = 1 + random.nextInt(round % 10 == 0 ? 5000 : 40);
            for (int i = 0; i < values; i++) {
                long v = switch (random.nextInt(4)) {
                    case 0 -> random.nextLong(2048); // exact range
                    case 1 -> random.nextLong(1, 50_000);
                    case 2 -> random.nextLong(1, 5_000_000);
                    default -> random.nextLong(LatencyRecorder.HIGHEST_MICROS + 1);
                };
                h.recordValueWithCount(v, 1 + random.nextInt(3));
            }
            ByteBuffer buffer = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
            int length = h.encodeIntoCompressedByteBuffer(buffer);
            byte[] bytes = java.util.Arrays.copyOf(buffer.array(), length);
            Histogram expected = Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(bytes), 0);
            Histogram sum = LatencyRecorder.newHistogram();
            decoder.addTo(sum, Base64.getEncoder().encodeToString(bytes));
            assertEquals(expected.getTotalCount(), sum.getTotalCount(), "round " + round);
            for (double p : new double[] {0, 1, 25, 50, 90, 99, 99.9, 100}) {
                assertEquals(expected.getValueAtPercentile(p), sum.getValueAtPercentile(p), "round " + round + " p" + p);
            }
            assertEquals(expected.getMaxValue(), sum.getMaxValue(), "round " + round);
        }
    }

    /** A histogram of another layout (not what LatencyRecorder writes) is still added, by HdrHistogram's decoding. */
    @Test
    void anotherHistogramLayoutIsDecodedByHdrHistogram() throws Exception {
        Histogram other = new Histogram(1000, 3_600_000_000L, 2);
        other.recordValueWithCount(1_234_567, 3);
        other.recordValue(42_000);
        ByteBuffer buffer = ByteBuffer.allocate(other.getNeededByteBufferCapacity());
        int length = other.encodeIntoCompressedByteBuffer(buffer);
        Histogram sum = LatencyRecorder.newHistogram();
        new IntervalDecoder().addTo(sum, Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(buffer.array(), length)));
        assertEquals(4, sum.getTotalCount());
        assertEquals(other.getValueAtPercentile(50), sum.getValueAtPercentile(50), other.getValueAtPercentile(50) / 100.0);
        assertEquals(other.getMaxValue(), sum.getMaxValue(), other.getMaxValue() / 100.0);
    }

    /** Three shards' recordings merged: per second and name the counts add up, percentiles are the union's. */
    @Test
    void mergedLatencyIsTheUnionOfTheShards() throws IOException {
        SplittableRandom random = new SplittableRandom(11);
        List<String> names = List.of("cart: create", "browse: product page", "checkout: place order, fast");
        List<Path> dirs = new ArrayList<>();
        List<Long> all = new ArrayList<>();
        Map<String, long[]> okKo = new java.util.TreeMap<>();
        for (int shard = 0; shard < 3; shard++) {
            LatencyRecorder recorder = new LatencyRecorder(0);
            for (int second = 0; second < 60; second++) {
                for (int i = 0; i < 5 + shard * 7; i++) {
                    String name = names.get(random.nextInt(names.size()));
                    long micros = 200 + (long) (random.nextDouble() * random.nextDouble() * 900_000);
                    boolean ok = random.nextInt(20) != 0;
                    recorder.record(name, second, micros, ok);
                    all.add(micros);
                    okKo.computeIfAbsent(name + "@" + second, k -> new long[2])[ok ? 0 : 1]++;
                }
            }
            Path dir = work.resolve("shard-" + shard);
            ShardData.write(dir, recorder, new ConsistencyLog(() -> 0L));
            dirs.add(dir);
        }
        ShardData.MergedLatency merged = ShardData.mergeLatency(dirs, 0);
        assertEquals(List.of(), merged.problems());
        LatencyRecorder r = merged.recorder();
        assertEquals(all.size(), r.counts(null, 0, 60).total());
        okKo.forEach((key, expected) -> {
            String name = key.substring(0, key.lastIndexOf('@'));
            int second = Integer.parseInt(key.substring(key.lastIndexOf('@') + 1));
            LatencyRecorder.Counts c = r.counts(name, second, second + 1);
            assertEquals(expected[0], c.ok(), key);
            assertEquals(expected[1], c.ko(), key);
        });
        all.sort(Long::compare);
        Histogram h = r.histogram(null, 0, 60);
        for (double p : new double[] {50, 90, 99, 99.9}) {
            long exact = all.get((int) Math.max(1, (long) Math.ceil(p / 100 * all.size() - 1e-9)) - 1);
            long value = h.getValueAtPercentile(p);
            assertTrue(value >= exact && value <= exact + exact / 1000 + 1, "p" + p + ": " + value + " vs exact " + exact);
        }
    }

    @Test
    void aCorruptOrMissingShardFileIsNamedAndTheRestMerged() throws IOException {
        List<Path> dirs = new ArrayList<>();
        for (int shard = 0; shard < 3; shard++) {
            LatencyRecorder recorder = new LatencyRecorder(0);
            for (int second = 0; second < 10; second++) {
                recorder.record("browse: product page", second, 1000 + second, true);
            }
            Path dir = work.resolve("shard-" + shard);
            ShardData.write(dir, recorder, new ConsistencyLog(() -> 0L));
            dirs.add(dir);
        }
        Path corrupt = dirs.get(1).resolve(Recording.LATENCY);
        List<String> lines = new ArrayList<>(Files.readAllLines(corrupt));
        int last = lines.size() - 1;
        lines.set(last, lines.get(last).substring(0, lines.get(last).length() - 12) + "!!!!notbase64");
        Files.write(corrupt, lines);
        Files.delete(dirs.get(2).resolve(Recording.LATENCY));
        ShardData.MergedLatency merged = ShardData.mergeLatency(dirs, 0);
        assertTrue(merged.problems().stream().anyMatch(p -> p.startsWith("shard-1/" + Recording.LATENCY + ": interval 10")
                && p.contains("corrupt")), merged.problems().toString());
        assertTrue(merged.problems().stream().anyMatch(p -> p.equals("shard-2/" + Recording.LATENCY + ": missing")),
                merged.problems().toString());
        // shard 0 whole, shard 1's nine good intervals
        assertEquals(19, merged.recorder().histogram(null, 0, 10).getTotalCount());
    }

    /** Shards' consistency logs merge without two shards' users sharing a session or process id. */
    @Test
    void consistencyLogsOfShardsMergeWithDistinctSessions() throws IOException {
        ConsistencyLog coordinator = new ConsistencyLog(() -> 0L);
        for (int shard = 0; shard < 2; shard++) {
            ConsistencyLog log = new ConsistencyLog(() -> 0L);
            log.shard(shard);
            SessionGuarantees user = log.session(1); // both shards' load generators number their first user 1
            String id = log.newWriteId();
            log.ledger().record(new WriteLedger.Write("profile update", "user:9", id, user.session(), 1, 1.1,
                    WriteLedger.Outcome.ACKNOWLEDGED, Observation.of(5, "v" + shard), null));
            user.acknowledged("user:9", id, Observation.of(5, "v" + shard), 1.1);
            user.read("profile update", "user:9", "profile: read back", Observation.of(4, "old"), "replica", 1.2);
            log.inventory().attempted(id, Map.of(3L, 2));
            log.history().add(user.session(), History.Type.OK, true, "user:9", "v" + shard);
            Path dir = work.resolve("shard-" + shard);
            ShardData.write(dir, new LatencyRecorder(0), log);
            coordinator.absorb(ShardData.readConsistency(dir), dir.resolve(ShardData.JOURNAL));
        }
        assertNull(coordinator.journal().problem());
        List<WriteLedger.Write> writes = new ArrayList<>();
        coordinator.ledger().forEach(writes::add);
        assertEquals(2, writes.size());
        assertEquals(java.util.Set.of(1_000_000_000_001L, 2_000_000_000_001L),
                java.util.Set.copyOf(writes.stream().map(WriteLedger.Write::session).toList()));
        assertEquals(2, coordinator.reads(Guarantee.READ_YOUR_WRITES_IMMEDIATE));
        assertEquals(2, coordinator.violations(Guarantee.READ_YOUR_WRITES_IMMEDIATE));
        assertEquals(2, coordinator.history().size());
        assertEquals(2, coordinator.export().orders());
        SessionReport report = coordinator.report(new WriteLedger.Audit(List.of(), null,
                java.util.Set.of(writes.get(0).id())), null);
        assertEquals(1, report.explainedByLostWrites(), "a shard's stale read explained by its lost write");
        assertEquals(1, report.result(Guarantee.READ_YOUR_WRITES_IMMEDIATE).violations());
    }
}
