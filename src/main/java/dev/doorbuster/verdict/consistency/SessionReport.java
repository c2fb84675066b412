package dev.doorbuster.verdict.consistency;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import dev.doorbuster.chaos.FaultTimeline;

/**
 * The session guarantees' outcome: per guarantee, the reads checked, the violations (stale reads the
 * replica or routing caused) and those explained by a lost write (counted with the lost writes instead),
 * the first witnesses of each, and violations per second for the report.
 */
public record SessionReport(List<GuaranteeResult> guarantees, long explainedByLostWrites, List<Witness> explained) {
    /** Witnesses kept per guarantee in verdict.json and the report. */
    static final int WITNESSES = 20;

    /**
     * One guarantee.
     *
     * @param reads      reads this guarantee applied to
     * @param violations reads that broke it, not explained by a lost write
     * @param perSecond  run second → violations in it (seconds with none are absent)
     */
    public record GuaranteeResult(Guarantee guarantee, String check, long reads, long violations,
                                  long explainedByLostWrites, List<Witness> witnesses, Map<Integer, Long> perSecond) {
    }

    /**
     * One violating read, as a person reads it: who, which key, what they had written or seen and when,
     * what the read showed and when, which server answered, which faults were active, and the lost write
     * that explains it (or null).
     */
    public record Witness(String check, long user, String kind, String key, String request, String expected,
                          double expectedAt, String observed, double at, String servedBy, String faults,
                          String lostWrite) {
    }

    /** A violation and the absent write that explains it, if any. */
    record Classified(Violation violation, String lostWriteId) {
    }

    static SessionReport of(Map<Guarantee, Long> reads, Map<Guarantee, Long> counted, List<Classified> all,
                            FaultTimeline timeline) {
        List<GuaranteeResult> results = new ArrayList<>();
        List<Witness> explained = new ArrayList<>();
        long explainedTotal = 0;
        List<FaultTimeline.Window> windows = timeline == null ? List.of() : timeline.windows();
        for (Guarantee g : Guarantee.values()) {
            long lostExplained = 0;
            List<Witness> witnesses = new ArrayList<>();
            Map<Integer, Long> perSecond = new TreeMap<>();
            for (Classified c : all) {
                Violation v = c.violation();
                if (v.guarantee() != g) {
                    continue;
                }
                if (c.lostWriteId() != null) {
                    lostExplained++;
                    if (explained.size() < WITNESSES) {
                        explained.add(witness(v, c.lostWriteId(), windows));
                    }
                    continue;
                }
                perSecond.merge(v.second(), 1L, Long::sum);
                if (witnesses.size() < WITNESSES) {
                    witnesses.add(witness(v, null, windows));
                }
            }
            explainedTotal += lostExplained;
            long violations = Math.max(0, counted.getOrDefault(g, 0L) - lostExplained);
            results.add(new GuaranteeResult(g, g.check(), reads.getOrDefault(g, 0L), violations, lostExplained, witnesses,
                    perSecond));
        }
        return new SessionReport(results, explainedTotal, explained);
    }

    public GuaranteeResult result(Guarantee g) {
        return guarantees.stream().filter(r -> r.guarantee() == g).findFirst().orElseThrow();
    }

    static Witness witness(Violation v, String lostWrite, List<FaultTimeline.Window> windows) {
        return new Witness(v.guarantee().check(), v.session(), v.kind(), v.key(), v.request(), v.expected().toString(),
                round(v.expectedAt()), v.observed().toString(), round(v.at()), v.servedBy(),
                activeFaults(windows, v.second()), lostWrite);
    }

    /** The faults active in run second {@code second}, or "none". */
    static String activeFaults(List<FaultTimeline.Window> windows, int second) {
        Set<String> active = new TreeSet<>();
        for (FaultTimeline.Window w : windows) {
            if (second >= w.fromSecond() && (w.toSecond() < 0 || second < w.toSecond())) {
                active.add(w.fault());
            }
        }
        return active.isEmpty() ? "none" : String.join(", ", active);
    }

    private static double round(double seconds) {
        return Math.round(seconds * 1000) / 1000.0;
    }
}
