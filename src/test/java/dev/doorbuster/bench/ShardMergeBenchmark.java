package dev.doorbuster.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import dev.doorbuster.verdict.consistency.ConsistencyLog;
import dev.doorbuster.verdict.consistency.History;
import dev.doorbuster.verdict.recording.LatencyRecorder;
import dev.doorbuster.verdict.consistency.Observation;
import dev.doorbuster.verdict.recording.Recording;
import dev.doorbuster.verdict.shard.ShardData;
import dev.doorbuster.verdict.consistency.WriteLedger;
import org.HdrHistogram.EncodableHistogram;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogReader;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a coordinator merges after a 2-hour soak split over 8 injector shards, each shard at the default soak's
 * rate (5 shoppers/s: about 20 requests/s over the storefront's 12 request names, half of them checked reads,
 * 4 writes/s): per shard 7,200
 * seconds of per-name latency histograms and OK/KO counts, about 29,000 writes with their orders, and the
 * operation history. Timed: reading and merging all 8 shards' recordings (histograms added second by second,
 * ledgers, session counts, orders and histories absorbed), as {@code CoordinatorRole} does once the shards delivered.
 * Median of 3 runs; side by side, the same k-way merge of the latency logs with HdrHistogram's own log reader (what
 * the merge did first), for the figure that made it decode intervals itself. Run: mvn -B -Pbench verify.
 */
@Tag("bench")
@Timeout(value = 20, unit = TimeUnit.MINUTES)
class ShardMergeBenchmark {
    private static final int SHARDS = 8;
    private static final int SECONDS = 2 * 3600;
    private static final List<String> NAMES = List.of("browse: category page", "browse: product page", "cart: add item",
            "cart: come back", "cart: create", "cart: read back", "checkout: place order", "checkout: read order",
            "orders: come back", "profile: come back", "profile: read back", "profile: update");
    private static final int REQUESTS_PER_SECOND = 20;
    private static final int WRITES_PER_SECOND = 4;
    private static final int RUNS = Integer.getInteger("bench.runs", 3);

    @TempDir
    Path work;

    @Test
    void mergeOfATwoHourSoakFromEightShards() throws IOException {
        List<Path> dirs = new ArrayList<>();
        long requests = 0;
        long writes = 0;
        long bytes = 0;
        for (int shard = 0; shard < SHARDS; shard++) {
            Path dir = work.resolve("shard-" + shard);
            requests += recordShard(dir, shard);
            writes += (long) SECONDS * WRITES_PER_SECOND;
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    bytes += Files.size(f);
                }
            }
            dirs.add(dir);
        }
        double[] ms = new double[RUNS];
        double[] latencyMs = new double[RUNS];
        double[] referenceMs = new double[RUNS];
        for (int r = 0; r < RUNS; r++) {
            long reference = System.nanoTime();
            long referenceTotal = mergeWithHdrHistogramsReader(dirs);
            referenceMs[r] = (System.nanoTime() - reference) / 1e6;
            if (referenceTotal != requests) {
                throw new AssertionError("reference merge counted " + referenceTotal + " of " + requests);
            }
            long t0 = System.nanoTime();
            ShardData.MergedLatency merged = ShardData.mergeLatency(dirs, 0);
            latencyMs[r] = (System.nanoTime() - t0) / 1e6;
            ConsistencyLog log = new ConsistencyLog(() -> 0L);
            for (Path dir : dirs) {
                log.absorb(ShardData.readConsistency(dir), dir.resolve(ShardData.JOURNAL));
            }
            ms[r] = (System.nanoTime() - t0) / 1e6;
            long total = merged.recorder().counts(null, 0, SECONDS).total();
            if (total != requests || !merged.problems().isEmpty() || log.ledger().size() != writes
                    || log.journal().problem() != null) {
                throw new AssertionError("merged " + total + " of " + requests + " requests, "
                        + log.ledger().size() + " of " + writes + " writes; problems " + merged.problems() + ", journal: "
                        + log.journal().problem());
            }
        }
        BenchReport.record("shard merge", String.format("2-hour soak from %d shards (%,d requests, %,d writes, %d MB "
                        + "on disk) read and merged in median %.1f s, of which latency %.1f s (runs %s ms); latency with "
                        + "HdrHistogram's log reader, side by side: %.1f s (runs %s ms)", SHARDS, requests,
                writes, bytes >> 20, BenchReport.median(ms) / 1000, BenchReport.median(latencyMs) / 1000,
                Arrays.toString(Arrays.stream(ms).mapToLong(Math::round).toArray()), BenchReport.median(referenceMs) / 1000,
                Arrays.toString(Arrays.stream(referenceMs).mapToLong(Math::round).toArray())));
    }

    /**
     * The reference: the same k-way merge of the shards' latency logs with HdrHistogram's own
     * {@link HistogramLogReader} (a histogram decoded per interval, then added). Returns the requests merged.
     */
    private static long mergeWithHdrHistogramsReader(List<Path> dirs) throws IOException {
        record Cursor(HistogramLogReader reader, Histogram[] current) {
            boolean advance() {
                while (true) {
                    EncodableHistogram next = reader.nextIntervalHistogram();
                    if (next == null) {
                        return false;
                    }
                    if (next instanceof Histogram h) {
                        current[0] = h;
                        return true;
                    }
                }
            }

            String name() {
                return current[0].getTag();
            }

            long start() {
                return current[0].getStartTimeStamp();
            }
        }
        PriorityQueue<Cursor> queue = new PriorityQueue<>(Comparator.comparing(Cursor::name)
                .thenComparingLong(Cursor::start));
        List<InputStream> open = new ArrayList<>();
        long total = 0;
        try {
            for (Path dir : dirs) {
                InputStream in = Files.newInputStream(dir.resolve(Recording.LATENCY));
                open.add(in);
                Cursor c = new Cursor(new HistogramLogReader(in), new Histogram[1]);
                if (c.advance()) {
                    queue.add(c);
                }
            }
            Histogram sum = new Histogram(3);
            while (!queue.isEmpty()) {
                Cursor first = queue.poll();
                String name = first.name();
                long start = first.start();
                sum.reset();
                sum.add(first.current()[0]);
                if (first.advance()) {
                    queue.add(first);
                }
                while (!queue.isEmpty() && queue.peek().name().equals(name) && queue.peek().start() == start) {
                    Cursor next = queue.poll();
                    sum.add(next.current()[0]);
                    if (next.advance()) {
                        queue.add(next);
                    }
                }
                total += sum.getTotalCount();
            }
        } finally {
            for (InputStream in : open) {
                in.close();
            }
        }
        return total;
    }

    /** One shard's recording: latencies (log-normal around 8 ms, 1% errors), writes, orders and history. */
    private static long recordShard(Path dir, int shard) throws IOException {
        SplittableRandom random = new SplittableRandom(shard);
        LatencyRecorder recorder = new LatencyRecorder(0);
        long requests = 0;
        for (int second = 0; second < SECONDS; second++) {
            for (int i = 0; i < REQUESTS_PER_SECOND; i++) {
                String name = NAMES.get(random.nextInt(NAMES.size()));
                long micros = (long) Math.exp(Math.log(8000) + 0.6 * gaussian(random));
                recorder.record(name, second, micros, random.nextInt(100) != 0);
                requests++;
            }
        }
        ConsistencyLog log = new ConsistencyLog(() -> 0L);
        log.shard(shard);
        for (int second = 0; second < SECONDS; second++) {
            for (int i = 0; i < WRITES_PER_SECOND; i++) {
                String id = log.newWriteId();
                long user = second * 5L + i;
                boolean order = i == 0;
                String key = order ? "order:" + id : "user:" + user;
                log.ledger().record(new WriteLedger.Write(order ? "order" : "profile update", key, id,
                        log.sessionOf(user), second, second + 0.02, WriteLedger.Outcome.ACKNOWLEDGED,
                        Observation.of(second, id), id));
                if (order) {
                    log.inventory().attempted(id, Map.of(1L + random.nextInt(2000), 1 + random.nextInt(2)));
                }
                log.history().add(log.sessionOf(user), History.Type.INVOKE, true, key, id);
                log.history().add(log.sessionOf(user), History.Type.OK, true, key, id);
            }
            // About half the requests are checked reads of a key: each an invoke and an ok in the history.
            for (int i = 0; i < REQUESTS_PER_SECOND / 2; i++) {
                String key = "user:" + (second * 5L + i % 5);
                log.history().add(log.sessionOf(second * 5L + i), History.Type.INVOKE, false, key, null);
                log.history().add(log.sessionOf(second * 5L + i), History.Type.OK, false, key, "value-" + second);
            }
        }
        ShardData.write(dir, recorder, log);
        return requests;
    }

    private static double gaussian(SplittableRandom random) {
        double u = 1 - random.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextDouble());
    }
}
