package dev.doorbuster.verdict;

import java.util.List;

/** A named stretch of the load profile (baseline, spike, hold, decay): run seconds [from, to). */
public record Phase(String name, int fromSecond, int toSecond) {
    /**
     * The name of a phase the latency, error and pool exhaustion checks (and the load generator's budgets) do not
     * judge, when the load profile starts with it: the seconds a cold service and a cold generator take to reach their
     * steady state (JIT, pools, caches), which a capacity plateau must not be failed for. The correctness checks
     * (session guarantees, lost writes, the stock invariant) judge its requests as any others.
     */
    public static final String WARM_UP = "warm-up";

    /** The first second the timing checks judge: after the profile's leading warm-up, if it has one. */
    public static int judgedFrom(List<Phase> phases) {
        return !phases.isEmpty() && phases.get(0).name().equals(WARM_UP) ? phases.get(0).toSecond() : 0;
    }
}
