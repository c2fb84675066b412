package dev.doorbuster.verdict.recording;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.doorbuster.chaos.FaultTimeline;
import dev.doorbuster.verdict.Phase;
import dev.doorbuster.verdict.Verdict;
import dev.doorbuster.verdict.probes.ProbeSample;
import org.HdrHistogram.EncodableHistogram;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogReader;
import org.HdrHistogram.HistogramLogWriter;

/**
 * What the reports are made from, kept in the run folder so {@code doorbuster report} can rebuild them
 * without rerunning (and shards' recordings can be merged):
 * <ul>
 *   <li>{@value #LATENCY}: per second and request name, the latency histogram (µs) in HdrHistogram's
 *       interval-log format, tagged with the request name; interval start = run second;</li>
 *   <li>{@value #COUNTS}: per second and request name, requests that succeeded and failed;</li>
 *   <li>{@value #PROBES}: the once-a-second probe samples (pools, errors by kind, lag);</li>
 *   <li>{@value #PHASES}: the load profile's phases as run seconds;</li>
 *   <li>{@code verdict.json} (written by {@link Verdict}): checks, audit, session report, stock, fault timeline.</li>
 * </ul>
 * Reading never gives up on the first bad file: each missing or corrupt file is named in
 * {@link Loaded#problems()} and the rest is loaded.
 */
public final class Recording {
    public static final String LATENCY = "latency.hlog";
    public static final String COUNTS = "counts.csv";
    public static final String PROBES = "probes.json";
    public static final String PHASES = "phases.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    /** Latencies are recorded in µs; the log's max column is shown in ms. */
    private static final double MICROS_PER_MS = 1000.0;

    private Recording() {
    }

    /** Everything a report is drawn from, as read back; {@code problems} names each file that was missing or corrupt. */
    public record Loaded(Verdict verdict, LatencyRecorder recorder, List<ProbeSample> probes, List<Phase> phases,
                         FaultTimeline timeline, List<String> problems) {
    }

    public static void write(Path dir, LatencyRecorder recorder, List<ProbeSample> probes, List<Phase> phases)
            throws IOException {
        writeLatency(dir, recorder);
        JSON.writeValue(dir.resolve(PROBES).toFile(), probes);
        JSON.writeValue(dir.resolve(PHASES).toFile(), phases);
    }

    /** Writes {@value #LATENCY} and {@value #COUNTS} only (what an injector shard records of its requests). */
    public static void writeLatency(Path dir, LatencyRecorder recorder) throws IOException {
        Files.createDirectories(dir);
        try (OutputStream out = Files.newOutputStream(dir.resolve(LATENCY));
             BufferedWriter counts = Files.newBufferedWriter(dir.resolve(COUNTS), StandardCharsets.UTF_8)) {
            HistogramLogWriter log = new HistogramLogWriter(out);
            log.outputComment("Doorbuster: client-observed latency in microseconds, one interval per run second and "
                    + "request name (Tag)");
            log.outputLogFormatVersion();
            log.outputLegend();
            counts.write("second,request,ok,ko\n");
            recorder.forEachSecond((name, second, histogram, ok, ko) -> {
                histogram.setTag(tag(name));
                log.outputIntervalHistogram(second, second + 1, histogram, MICROS_PER_MS);
                try {
                    counts.write(second + "," + csv(name) + "," + ok + "," + ko + "\n");
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            log.close();
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** Reads a run folder; never throws for a missing or corrupt file, it is named in the problems instead. */
    public static Loaded read(Path dir) {
        List<String> problems = new ArrayList<>();
        Verdict verdict = null;
        try {
            verdict = Verdict.readJson(dir.resolve(Verdict.JSON_FILE));
        } catch (IOException e) {
            problems.add(problem(Verdict.JSON_FILE, e));
        }
        LatencyRecorder recorder = new LatencyRecorder(0);
        Map<String, Map<Integer, long[]>> counts = readCounts(dir.resolve(COUNTS), problems);
        readLatency(dir.resolve(LATENCY), counts, recorder, problems);
        List<ProbeSample> probes = readJson(dir.resolve(PROBES), new TypeReference<List<ProbeSample>>() { }, problems);
        List<Phase> phases = readJson(dir.resolve(PHASES), new TypeReference<List<Phase>>() { }, problems);
        FaultTimeline timeline = FaultTimeline.of(verdict == null ? List.of() : verdict.timeline());
        return new Loaded(verdict, recorder, probes, phases, timeline, problems);
    }

    /** Requests in the busiest second, from {@value #COUNTS} (NaN if it cannot be read). */
    public static double peakRate(Path dir) {
        Map<String, Map<Integer, long[]>> counts = readCounts(dir.resolve(COUNTS), new ArrayList<>());
        if (counts == null) {
            return Double.NaN;
        }
        Map<Integer, Long> perSecond = new HashMap<>();
        counts.values().forEach(bySecond -> bySecond.forEach((second, okKo) -> perSecond.merge(second, okKo[0] + okKo[1],
                Long::sum)));
        return perSecond.values().stream().mapToLong(Long::longValue).max().orElse(0);
    }

    public static Map<String, Map<Integer, long[]>> readCounts(Path file, List<String> problems) {
        Map<String, Map<Integer, long[]>> counts = new HashMap<>();
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            problems.add(problem(COUNTS, e) + "; OK/KO counts are taken as all OK");
            return null;
        }
        for (int i = 1; i < lines.size(); i++) {
            String line = lines.get(i);
            int first = line.indexOf(',');
            int last = line.lastIndexOf(',');
            int middle = first < 0 ? -1 : line.lastIndexOf(',', last - 1);
            try {
                if (first < 0 || middle <= first) {
                    throw new NumberFormatException("expected second,request,ok,ko");
                }
                counts.computeIfAbsent(uncsv(line.substring(first + 1, middle)), n -> new HashMap<>())
                        .put(Integer.parseInt(line.substring(0, first)), new long[] {
                                Long.parseLong(line.substring(middle + 1, last)), Long.parseLong(line.substring(last + 1))});
            } catch (NumberFormatException e) {
                problems.add(COUNTS + ": corrupt at line " + (i + 1) + " (" + e.getMessage() + "); the rest is used");
                break;
            }
        }
        return counts;
    }

    private static void readLatency(Path file, Map<String, Map<Integer, long[]>> counts, LatencyRecorder recorder,
                                    List<String> problems) {
        if (!Files.isRegularFile(file)) {
            problems.add(LATENCY + ": missing; latency and throughput charts are empty");
            return;
        }
        int intervals = 0;
        try (InputStream in = Files.newInputStream(file)) {
            HistogramLogReader log = new HistogramLogReader(in);
            while (true) {
                EncodableHistogram next;
                try {
                    next = log.nextIntervalHistogram();
                } catch (RuntimeException e) {
                    problems.add(LATENCY + ": corrupt after " + intervals + " intervals (" + e.getMessage()
                            + "); the intervals before it are used");
                    break;
                }
                if (next == null) {
                    break;
                }
                if (!(next instanceof Histogram histogram)) {
                    continue;
                }
                String name = untag(histogram.getTag());
                int second = (int) Math.round(histogram.getStartTimeStamp() / 1000.0);
                long[] okKo = counts == null ? null : counts.getOrDefault(name, Map.of()).get(second);
                recorder.restore(name, second, histogram, okKo == null ? histogram.getTotalCount() : okKo[0],
                        okKo == null ? 0 : okKo[1]);
                intervals++;
            }
        } catch (IOException | RuntimeException e) {
            problems.add(problem(LATENCY, e));
        }
    }

    private static <T> List<T> readJson(Path file, TypeReference<List<T>> type, List<String> problems) {
        try {
            List<T> values = JSON.readValue(file.toFile(), type);
            return values == null ? List.of() : values;
        } catch (IOException e) {
            problems.add(problem(file.getFileName().toString(), e));
            return List.of();
        }
    }

    public static String problem(String file, Exception e) {
        if (e instanceof NoSuchFileException || e instanceof java.io.FileNotFoundException) {
            return file + ": missing";
        }
        String message = String.valueOf(e.getMessage()).lines().findFirst().orElse("");
        return file + ": corrupt (" + (message.length() > 160 ? message.substring(0, 160) + "..." : message) + ")";
    }

    /** HdrHistogram tags may not hold spaces or commas: both are escaped. */
    static String tag(String name) {
        return name.replace("%", "%25").replace(",", "%2C").replace(" ", "%20");
    }

    public static String untag(String tag) {
        return tag == null ? "" : tag.replace("%20", " ").replace("%2C", ",").replace("%25", "%");
    }

    private static String csv(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }

    private static String uncsv(String field) {
        return field.startsWith("\"") && field.endsWith("\"") && field.length() >= 2
                ? field.substring(1, field.length() - 1).replace("\"\"", "\"") : field;
    }
}
