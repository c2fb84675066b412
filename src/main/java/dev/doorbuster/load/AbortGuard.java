package dev.doorbuster.load;

import dev.doorbuster.verdict.recording.LatencyRecorder;

/**
 * The abort rule: the load stops once more than {@code maxErrorPercent} of the requests failed in each of
 * {@code afterSeconds} consecutive seconds (0 disables it). Seconds are judged once complete, in order;
 * a second without any request neither extends nor breaks the streak; a second within the rule breaks it.
 */
final class AbortGuard {
    private final double maxErrorPercent;
    private final int afterSeconds;
    private int nextSecond;
    private int streak;
    private int trippedAt = -1;

    AbortGuard(double maxErrorPercent, int afterSeconds) {
        this.maxErrorPercent = maxErrorPercent;
        this.afterSeconds = afterSeconds;
    }

    boolean enabled() {
        return afterSeconds > 0;
    }

    /**
     * Judges every second before {@code currentSecond} not judged yet. Returns true when this call tripped
     * the rule (once per run).
     */
    synchronized boolean advance(LatencyRecorder recorder, int currentSecond) {
        if (!enabled() || tripped()) {
            return false;
        }
        for (; nextSecond < currentSecond; nextSecond++) {
            LatencyRecorder.Counts c = recorder.counts(null, nextSecond, nextSecond + 1);
            if (c.total() == 0) {
                continue;
            }
            streak = c.errorPercent() > maxErrorPercent ? streak + 1 : 0;
            if (streak >= afterSeconds) {
                trippedAt = nextSecond;
                nextSecond++;
                return true;
            }
        }
        return false;
    }

    synchronized boolean tripped() {
        return trippedAt >= 0;
    }

    /** The second the rule tripped in (−1 while it has not). */
    synchronized int trippedAt() {
        return trippedAt;
    }

    /** The console line, e.g. {@code aborting at second 20: error rate above 50% for 15 s}. */
    String logLine() {
        return "aborting at second " + trippedAt() + ": error rate above " + fmt(maxErrorPercent) + "% for "
                + afterSeconds + " s";
    }

    /** The verdict's reason, e.g. {@code aborted at second 20 because error rate above 50% for 15 consecutive seconds}. */
    String reason() {
        return "aborted at second " + trippedAt() + " because error rate above " + fmt(maxErrorPercent) + "% for "
                + afterSeconds + " consecutive seconds";
    }

    private static String fmt(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
