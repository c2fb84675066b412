package dev.doorbuster.verdict;

import java.util.ArrayList;
import java.util.List;

import dev.doorbuster.topology.Environment;
import dev.doorbuster.verdict.recording.LatencyRecorder;
import org.HdrHistogram.Histogram;

/**
 * Windowed SLOs: "p99 ≤ X ms in at least Y% of seconds" and "error rate ≤ Z% in at least Y% of seconds".
 * Each second of the run with at least one request is judged on its own; seconds without requests are not
 * counted (neither passing nor failing). The per-second outcome goes into {@code verdict.json} (the failing
 * seconds of each check) and into {@code chaos.html} (a pass/fail strip aligned with the charts).
 */
public final class SecondCompliance {
    /** What one second of the run looked like (all request names together). */
    public record Second(int second, long requests, long failed, double p99Ms, double errorPercent) {
    }

    /**
     * One windowed check's outcome, as written to {@code verdict.json}.
     *
     * @param check          the check's name, as in the verdict's checks
     * @param threshold      the per-second budget (ms or %)
     * @param counted        seconds that had requests
     * @param failingSeconds the run seconds over the budget, ascending
     */
    public record Window(String check, String measure, double threshold, double requiredPercent, int counted,
                         List<Integer> failingSeconds) {
        public Window {
            failingSeconds = failingSeconds == null ? List.of() : List.copyOf(failingSeconds);
        }

        /** Share of counted seconds within budget, in percent (100 when nothing was counted). */
        public double compliancePercent() {
            return counted == 0 ? 100 : 100.0 * (counted - failingSeconds.size()) / counted;
        }

        public boolean passes(int second) {
            return !failingSeconds.contains(second);
        }
    }

    /** {@link Window#measure()} of the latency check. */
    public static final String P99 = "p99";
    /** {@link Window#measure()} of the error-rate check. */
    public static final String ERROR_RATE = "error rate";

    private SecondCompliance() {
    }

    /** Seconds [{@code from}, {@code to}) that had requests, in order. */
    public static List<Second> seconds(LatencyRecorder recorder, int from, int to) {
        List<Second> seconds = new ArrayList<>();
        for (int s = Math.max(0, from); s < to; s++) {
            LatencyRecorder.Counts c = recorder.counts(null, s, s + 1);
            if (c.total() == 0) {
                continue;
            }
            Histogram h = recorder.histogram(null, s, s + 1);
            seconds.add(new Second(s, c.total(), c.ko(), h.getValueAtPercentile(99) / 1000.0, c.errorPercent()));
        }
        return seconds;
    }

    public static String p99Name(Environment.Slo slo) {
        return "p99 ≤ " + CheckResult.format(slo.windowP99Ms()) + " ms in ≥ "
                + CheckResult.format(slo.windowCompliancePercent()) + "% of seconds";
    }

    public static String errorRateName(Environment.Slo slo) {
        return "error rate ≤ " + CheckResult.format(slo.windowErrorRatePercent()) + "% in ≥ "
                + CheckResult.format(slo.windowCompliancePercent()) + "% of seconds";
    }

    /** Both windowed checks over seconds [0, {@code end}); empty when no second had requests. */
    public static List<Window> evaluate(LatencyRecorder recorder, Environment.Slo slo, int end) {
        return evaluate(recorder, slo, 0, end);
    }

    /** Both windowed checks over seconds [{@code from}, {@code end}); empty when no second had requests. */
    public static List<Window> evaluate(LatencyRecorder recorder, Environment.Slo slo, int from, int end) {
        List<Second> seconds = seconds(recorder, from, end);
        if (seconds.isEmpty()) {
            return List.of();
        }
        List<Integer> slow = new ArrayList<>();
        List<Integer> failing = new ArrayList<>();
        for (Second s : seconds) {
            if (s.p99Ms() > slo.windowP99Ms()) {
                slow.add(s.second());
            }
            if (s.errorPercent() > slo.windowErrorRatePercent()) {
                failing.add(s.second());
            }
        }
        return List.of(
                new Window(p99Name(slo), P99, slo.windowP99Ms(), slo.windowCompliancePercent(), seconds.size(), slow),
                new Window(errorRateName(slo), ERROR_RATE, slo.windowErrorRatePercent(), slo.windowCompliancePercent(),
                        seconds.size(), failing));
    }

    /** The check of one window: passes when at least the required share of seconds is within budget. */
    static CheckResult check(Window w, String when) {
        String budget = w.measure().equals(P99) ? "p99 ≤ " + CheckResult.format(w.threshold()) + " ms"
                : "error rate ≤ " + CheckResult.format(w.threshold()) + "%";
        double compliance = Math.floor(w.compliancePercent() * 100) / 100.0; // never rounded up into a pass
        return CheckResult.atLeast(w.check(), w.requiredPercent(), compliance, "% of seconds",
                (w.counted() - w.failingSeconds().size()) + " of " + w.counted() + " seconds with requests had "
                        + budget + (w.failingSeconds().isEmpty() ? "" : when));
    }
}
