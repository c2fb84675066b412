package dev.doorbuster.verdict.shard;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doorbuster.verdict.GeneratorHealth;
import dev.doorbuster.verdict.consistency.ConsistencyJournal;
import dev.doorbuster.verdict.consistency.ConsistencyLog;
import dev.doorbuster.verdict.consistency.Guarantee;
import dev.doorbuster.verdict.consistency.Violation;
import dev.doorbuster.verdict.consistency.WriteLedger;
import dev.doorbuster.verdict.recording.LatencyRecorder;
import dev.doorbuster.verdict.recording.Recording;
import org.HdrHistogram.Histogram;

/**
 * What one injector shard of a scaled-out run records, and how the coordinator merges the shards into one
 * run's data:
 * <ul>
 *   <li>latency: {@value Recording#LATENCY} and {@value Recording#COUNTS}, as a run folder holds them (per
 *       second and request name, seconds counted from the common start instant);</li>
 *   <li>{@value #CONSISTENCY}: the session checks' counts and kept violations, and how many writes (per kind and
 *       outcome), orders and operations the shard recorded;</li>
 *   <li>{@value #JOURNAL}: those writes, orders and operations themselves, the shard's {@link ConsistencyJournal}
 *       (read back by the coordinator, streaming, and checked against the counts);</li>
 *   <li>{@value #GENERATOR}: whether the shard's load generator kept up, second by second.</li>
 * </ul>
 * Latency is merged by <b>adding histograms</b> second by second (a k-way merge of the shards' logs, which are
 * written in name then second order), never by averaging percentiles: a percentile of the merged data is the
 * percentile of the union of every shard's requests, to HdrHistogram's precision.
 */
public final class ShardData {
    public static final String CONSISTENCY = "consistency.json";
    public static final String JOURNAL = ConsistencyJournal.FILE;
    /** The shard's load generator's own health, when it was watched. */
    public static final String GENERATOR = "generator.json";
    private static final ObjectMapper JSON = new ObjectMapper()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private ShardData() {
    }

    /**
     * A shard's consistency accounting (see {@link ConsistencyLog#export()}), but for its journal.
     *
     * @param reads          reads checked per guarantee
     * @param violations     reads that broke each guarantee (all of them; {@code kept} holds at most
     *                       {@link ConsistencyLog#KEPT_VIOLATIONS})
     * @param writes         writes recorded per kind and outcome (its journal must hold as many)
     * @param orders         orders attempted (idem)
     * @param history        operations recorded (idem)
     * @param journalProblem why the shard's journal cannot be trusted (it failed to write), or null
     */
    public record Consistency(Map<Guarantee, Long> reads, Map<Guarantee, Long> violations, List<Violation> kept,
                              Map<String, Map<WriteLedger.Outcome, Long>> writes, long orders, long outOfStock,
                              long history, String journalProblem) {
    }

    /** Writes a shard's recording into {@code dir}: latency, its journal, then the counts it declares. */
    public static void write(Path dir, LatencyRecorder recorder, ConsistencyLog log) throws IOException {
        Recording.writeLatency(dir, recorder);
        log.journal().copyTo(dir.resolve(JOURNAL));
        JSON.writeValue(dir.resolve(CONSISTENCY).toFile(), log.export());
    }

    /** Writes what a shard's load generator did (see {@link GeneratorHealth}) into {@code dir}. */
    public static void writeGenerator(Path dir, GeneratorHealth health) throws IOException {
        JSON.writeValue(dir.resolve(GENERATOR).toFile(), health);
    }

    /** What a shard's load generator did; null when the shard did not say (its generator was not watched). */
    public static GeneratorHealth readGenerator(Path dir) throws IOException {
        Path file = dir.resolve(GENERATOR);
        return Files.exists(file) ? JSON.readValue(file.toFile(), GeneratorHealth.class) : null;
    }

    public static Consistency readConsistency(Path dir) throws IOException {
        return JSON.readValue(dir.resolve(CONSISTENCY).toFile(), Consistency.class);
    }

    /** The merged latency of several shards, and each file that could not be read (named, the rest merged). */
    public record MergedLatency(LatencyRecorder recorder, List<String> problems) {
    }

    /**
     * Merges the shards' latency recordings into one recorder whose second 0 is {@code startNanos}: per request name
     * and second, the shards' histograms added and their OK/KO counts summed. Streams the logs: one histogram per
     * shard is held at a time.
     */
    public static MergedLatency mergeLatency(List<Path> shardDirs, long startNanos) {
        List<String> problems = new ArrayList<>();
        LatencyRecorder merged = new LatencyRecorder(startNanos);
        Map<String, Map<Integer, long[]>> counts = new HashMap<>();
        boolean countsComplete = true;
        for (Path dir : shardDirs) {
            List<String> own = new ArrayList<>();
            Map<String, Map<Integer, long[]>> shardCounts = Recording.readCounts(dir.resolve(Recording.COUNTS), own);
            own.forEach(p -> problems.add(dir.getFileName() + "/" + p));
            if (shardCounts == null) {
                countsComplete = false;
                continue;
            }
            shardCounts.forEach((name, bySecond) -> bySecond.forEach((second, okKo) -> {
                long[] sum = counts.computeIfAbsent(name, n -> new HashMap<>()).computeIfAbsent(second, s -> new long[2]);
                sum[0] += okKo[0];
                sum[1] += okKo[1];
            }));
        }
        PriorityQueue<Cursor> queue = new PriorityQueue<>(Comparator.comparing((Cursor c) -> c.name)
                .thenComparingInt(c -> c.second));
        List<BufferedReader> open = new ArrayList<>();
        IntervalDecoder decoder = new IntervalDecoder();
        try {
            for (Path dir : shardDirs) {
                Path file = dir.resolve(Recording.LATENCY);
                try {
                    BufferedReader in = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
                    open.add(in);
                    Cursor cursor = new Cursor(dir.getFileName() + "/" + Recording.LATENCY, in);
                    if (cursor.advance(problems)) {
                        queue.add(cursor);
                    }
                } catch (IOException e) {
                    problems.add(Recording.problem(dir.getFileName() + "/" + Recording.LATENCY, e));
                }
            }
            Histogram sum = LatencyRecorder.newHistogram();
            while (!queue.isEmpty()) {
                Cursor first = queue.poll();
                String name = first.name;
                int second = first.second;
                sum.reset();
                first.addTo(sum, decoder, queue, problems);
                while (!queue.isEmpty() && queue.peek().name.equals(name) && queue.peek().second == second) {
                    queue.poll().addTo(sum, decoder, queue, problems);
                }
                long[] okKo = counts.getOrDefault(name, Map.of()).get(second);
                boolean known = countsComplete && okKo != null;
                merged.restore(name, second, sum, known ? okKo[0] : sum.getTotalCount(), known ? okKo[1] : 0);
            }
        } finally {
            for (BufferedReader in : open) {
                try {
                    in.close();
                } catch (IOException e) {
                    // read-only: nothing to lose
                }
            }
        }
        if (!countsComplete) {
            problems.add("OK/KO counts are incomplete: requests of the shards without " + Recording.COUNTS
                    + " are taken as all OK");
        }
        return new MergedLatency(merged, problems);
    }

    /**
     * One shard's latency log, positioned on its next interval. Lines are HdrHistogram's interval-log lines as
     * {@link Recording} writes them ({@code Tag=<name>,<start s>,<length s>,<max>,<base64 histogram>}); the histogram
     * is only decoded when it is added.
     */
    private static final class Cursor {
        private final String file;
        private final BufferedReader reader;
        private String name;
        private int second;
        private String payload;
        private int intervals;

        Cursor(String file, BufferedReader reader) {
            this.file = file;
            this.reader = reader;
        }

        /** Adds the current interval to {@code sum}, moves on, and goes back in the queue if anything is left. */
        void addTo(Histogram sum, IntervalDecoder decoder, PriorityQueue<Cursor> queue, List<String> problems) {
            try {
                decoder.addTo(sum, payload);
            } catch (RuntimeException | java.util.zip.DataFormatException e) {
                problems.add(file + ": interval " + intervals + " (" + name + ", second " + second + ") is corrupt ("
                        + e.getMessage() + "); the rest of this file is not merged");
                return;
            }
            if (advance(problems)) {
                queue.add(this);
            }
        }

        boolean advance(List<String> problems) {
            while (true) {
                String line;
                try {
                    line = reader.readLine();
                } catch (IOException e) {
                    problems.add(Recording.problem(file, e));
                    return false;
                }
                if (line == null) {
                    return false;
                }
                if (line.isEmpty() || line.startsWith("#") || line.startsWith("\"")) {
                    continue; // comments, the legend
                }
                String previous = name;
                int previousSecond = second;
                try {
                    String rest = line;
                    String tag = "";
                    if (rest.startsWith("Tag=")) {
                        int comma = rest.indexOf(',');
                        tag = rest.substring(4, comma);
                        rest = rest.substring(comma + 1);
                    }
                    String[] fields = rest.split(",", 4);
                    if (fields.length != 4) {
                        throw new IllegalArgumentException("expected start,length,max,histogram");
                    }
                    name = Recording.untag(tag);
                    second = (int) Math.round(Double.parseDouble(fields[0]));
                    payload = fields[3];
                } catch (RuntimeException e) {
                    problems.add(file + ": corrupt after " + intervals + " intervals (" + e.getMessage()
                            + "); the intervals before it are merged");
                    return false;
                }
                intervals++;
                if (previous != null && (name.compareTo(previous) < 0 || (name.equals(previous) && second <= previousSecond))) {
                    problems.add(file + ": interval " + intervals + " (" + name + ", second " + second
                            + ") is out of order; the rest of this file is not merged");
                    return false;
                }
                return true;
            }
        }
    }
}
