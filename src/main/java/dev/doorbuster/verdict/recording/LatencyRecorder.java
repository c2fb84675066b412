package dev.doorbuster.verdict.recording;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.zip.DataFormatException;

import org.HdrHistogram.Histogram;

/**
 * Client-observed latency per request name, one HDR histogram per second of the run, plus OK/KO counts.
 *
 * <p>Any window (a load phase, the seconds a fault was active, the last ten minutes of a soak) gets an
 * exact-to-1% percentile by merging its seconds. A closed second is kept only in HdrHistogram's
 * compressed form (typically a few hundred bytes), so a multi-hour soak stays within a few MB per
 * request name; only the current second is a live histogram.
 */
public final class LatencyRecorder {
    /** Longest latency tracked exactly (10 minutes, in µs); longer ones are clamped to it. */
    public static final long HIGHEST_MICROS = TimeUnit.MINUTES.toMicros(10);
    private static final int SIGNIFICANT_DIGITS = 3;

    private final long startNanos;
    private final Map<String, Series> series = new ConcurrentHashMap<>();

    /** @param startNanos {@link System#nanoTime()} at second 0 of the run */
    public LatencyRecorder(long startNanos) {
        this.startNanos = startNanos;
    }

    public long startNanos() {
        return startNanos;
    }

    /** The run second {@code nanoTime} falls in (negative before the start). */
    public int secondOf(long nanoTime) {
        return (int) Math.floorDiv(nanoTime - startNanos, 1_000_000_000L);
    }

    /** Records one request that ended now. */
    public void record(String name, long latencyMicros, boolean ok) {
        record(name, secondOf(System.nanoTime()), latencyMicros, ok);
    }

    /** Records one request that ended in run second {@code second}. */
    public void record(String name, int second, long latencyMicros, boolean ok) {
        if (second < 0) {
            second = 0;
        }
        series.computeIfAbsent(name, n -> new Series()).record(second, Math.max(0, Math.min(latencyMicros, HIGHEST_MICROS)), ok);
    }

    public Set<String> names() {
        return new TreeSet<>(series.keySet());
    }

    /** Latencies of {@code name} (or of every name, if null) in seconds [{@code from}, {@code to}). */
    public Histogram histogram(String name, int from, int to) {
        Histogram merged = newHistogram();
        for (Series s : select(name)) {
            s.addTo(merged, from, to);
        }
        return merged;
    }

    /** OK and KO counts of {@code name} (or every name, if null) in seconds [{@code from}, {@code to}). */
    public Counts counts(String name, int from, int to) {
        long ok = 0;
        long ko = 0;
        for (Series s : select(name)) {
            Counts c = s.counts(from, to);
            ok += c.ok();
            ko += c.ko();
        }
        return new Counts(ok, ko);
    }

    /** The last second anything was recorded in (−1 if nothing was). */
    public int lastSecond() {
        int last = -1;
        for (Series s : series.values()) {
            last = Math.max(last, s.lastSecond());
        }
        return last;
    }

    /** Bytes held for closed seconds (compressed): what a long soak costs in memory. */
    public long retainedBytes() {
        return series.values().stream().mapToLong(Series::retainedBytes).sum();
    }

    /** One second of one request name, as kept: for writing the recording to disk. */
    @FunctionalInterface
    public interface SecondVisitor {
        void visit(String name, int second, Histogram histogram, long ok, long ko);
    }

    /** Every recorded second of every request name, in name then second order. */
    public void forEachSecond(SecondVisitor visitor) {
        for (String name : names()) {
            series.get(name).forEach(name, visitor);
        }
    }

    /** Puts back one second read from a recording (a rebuilt report); seconds must come in order per name. */
    public void restore(String name, int second, Histogram histogram, long ok, long ko) {
        series.computeIfAbsent(name, n -> new Series()).restore(second, histogram, ok, ko);
    }

    private List<Series> select(String name) {
        if (name == null) {
            return new ArrayList<>(series.values());
        }
        Series s = series.get(name);
        return s == null ? List.of() : List.of(s);
    }

    /**
     * An auto-resizing histogram: its counts cover only the range recorded so far (a second of ~10 ms requests needs
     * a few thousand counts, not the ~21,000 of the whole 10-minute range). Same buckets, same precision; it saves
     * zeroing, copying and adding empty counts (the shard merge benchmark's latency part went from 32.7 to 27.3 s
     * with it alone; see docs/BENCHMARKS.md for the change that mattered more).
     */
    public static Histogram newHistogram() {
        return new Histogram(SIGNIFICANT_DIGITS);
    }

    /** Requests that succeeded and failed. */
    public record Counts(long ok, long ko) {
        public long total() {
            return ok + ko;
        }

        /** KO share in percent (0 when there were no requests). */
        public double errorPercent() {
            return total() == 0 ? 0 : 100.0 * ko / total();
        }
    }

    /** One request name: closed seconds (compressed) and the live one. */
    private static final class Series {
        private final List<ClosedSecond> closed = new ArrayList<>();
        private int liveSecond = -1;
        private Histogram live = newHistogram();
        private long liveOk;
        private long liveKo;

        synchronized void record(int second, long micros, boolean ok) {
            if (second > liveSecond) {
                close();
                liveSecond = second;
            }
            // A request ending in an earlier second than the live one (threads racing at the boundary)
            // is counted in the live second: off by at most one second, never lost.
            live.recordValue(micros);
            if (ok) {
                liveOk++;
            } else {
                liveKo++;
            }
        }

        private void close() {
            if (liveSecond < 0 || live.getTotalCount() == 0) {
                return;
            }
            ByteBuffer buffer = ByteBuffer.allocate(live.getNeededByteBufferCapacity());
            int length = live.encodeIntoCompressedByteBuffer(buffer);
            byte[] bytes = new byte[length];
            buffer.flip();
            buffer.get(bytes);
            closed.add(new ClosedSecond(liveSecond, bytes, liveOk, liveKo));
            live.reset();
            liveOk = 0;
            liveKo = 0;
        }

        synchronized void addTo(Histogram target, int from, int to) {
            for (ClosedSecond s : closed) {
                if (s.second >= from && s.second < to) {
                    target.add(s.decode());
                }
            }
            if (liveSecond >= from && liveSecond < to) {
                target.add(live);
            }
        }

        synchronized Counts counts(int from, int to) {
            long ok = 0;
            long ko = 0;
            for (ClosedSecond s : closed) {
                if (s.second >= from && s.second < to) {
                    ok += s.ok;
                    ko += s.ko;
                }
            }
            if (liveSecond >= from && liveSecond < to) {
                ok += liveOk;
                ko += liveKo;
            }
            return new Counts(ok, ko);
        }

        synchronized int lastSecond() {
            return liveSecond;
        }

        synchronized void forEach(String name, SecondVisitor visitor) {
            for (ClosedSecond s : closed) {
                visitor.visit(name, s.second, s.decode(), s.ok, s.ko);
            }
            if (liveSecond >= 0 && live.getTotalCount() + liveOk + liveKo > 0) {
                visitor.visit(name, liveSecond, live.copy(), liveOk, liveKo);
            }
        }

        synchronized void restore(int second, Histogram histogram, long ok, long ko) {
            close();
            liveSecond = second;
            live.add(histogram);
            liveOk = ok;
            liveKo = ko;
        }

        synchronized long retainedBytes() {
            return closed.stream().mapToLong(s -> s.histogram.length + 32L).sum();
        }
    }

    private record ClosedSecond(int second, byte[] histogram, long ok, long ko) {
        Histogram decode() {
            try {
                return Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(histogram), 0);
            } catch (DataFormatException e) {
                throw new IllegalStateException("corrupt histogram of second " + second, e);
            }
        }
    }
}
