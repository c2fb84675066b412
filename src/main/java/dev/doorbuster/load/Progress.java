package dev.doorbuster.load;

import java.time.Duration;
import java.util.List;
import java.util.Locale;

import dev.doorbuster.chaos.FaultTimeline;
import dev.doorbuster.verdict.recording.LatencyRecorder;
import dev.doorbuster.verdict.probes.ProbeSample;
import org.HdrHistogram.Histogram;

/**
 * The progress line printed every {@link #EVERY_SECONDS} seconds while the load runs, so a log read the
 * next morning says when things went wrong, e.g.
 * {@code [doorbuster] 0:40 / 1:30  14.2 req/s  p99 231 ms  0 errors  faults: F1 ReplicationLag  lag 180 ms  pools w 3/10 r 2/10}.
 * Rate, p99 and errors are over the last complete seconds (at most ten); the pools are active/size of the
 * latest probe sample, with the waiting threads when there are any.
 */
final class Progress {
    static final int EVERY_SECONDS = 10;

    private Progress() {
    }

    /**
     * @param now         the current run second (still running: not included in the window)
     * @param total       the load profile's length
     * @param latest      the latest probe sample, or null
     * @param writerSize  the writer pool's size (0 if unknown)
     * @param readerSize  the reader pool's size (0 if unknown)
     */
    static String line(int now, Duration total, LatencyRecorder recorder, List<FaultTimeline.Window> windows,
                       ProbeSample latest, int writerSize, int readerSize) {
        int from = Math.max(0, now - EVERY_SECONDS);
        int span = Math.max(1, now - from);
        LatencyRecorder.Counts counts = recorder.counts(null, from, now);
        Histogram h = recorder.histogram(null, from, now);
        StringBuilder line = new StringBuilder("[doorbuster] ").append(clock(now)).append(" / ")
                .append(clock(total.toSeconds()));
        line.append(String.format(Locale.ROOT, "  %.1f req/s", counts.total() / (double) span));
        line.append("  p99 ").append(h.getTotalCount() == 0 ? "-" : Math.round(h.getValueAtPercentile(99) / 1000.0) + " ms");
        line.append("  ").append(counts.ko()).append(counts.ko() == 1 ? " error" : " errors");
        List<String> active = windows.stream()
                .filter(w -> w.fromSecond() <= now && (w.toSecond() < 0 || w.toSecond() > now))
                .map(FaultTimeline.Window::fault).toList();
        line.append("  faults: ").append(active.isEmpty() ? "none" : String.join(", ", active));
        if (latest == null) {
            return line.toString();
        }
        line.append("  lag ").append(latest.lagMillis() < 0 ? "n/a" : latest.lagMillis() + " ms");
        if (Double.isNaN(latest.writerActive()) && Double.isNaN(latest.readerActive())) {
            line.append("  pools n/a");
        } else {
            line.append("  pools w ").append(pool(latest.writerActive(), writerSize)).append(" r ")
                    .append(pool(latest.readerActive(), readerSize));
            double pendingW = zero(latest.writerPending());
            double pendingR = zero(latest.readerPending());
            if (pendingW > 0 || pendingR > 0) {
                line.append(" (waiting w ").append(count(pendingW)).append(" r ").append(count(pendingR)).append(')');
            }
        }
        return line.toString();
    }

    /** {@code m:ss}, or {@code h:mm:ss} from an hour on. */
    static String clock(long seconds) {
        long s = Math.max(0, seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }

    private static String pool(double active, int size) {
        return (Double.isNaN(active) ? "?" : count(active)) + (size > 0 ? "/" + size : "");
    }

    private static String count(double v) {
        return Long.toString(Math.round(v));
    }

    private static double zero(double v) {
        return Double.isNaN(v) ? 0 : v;
    }
}
