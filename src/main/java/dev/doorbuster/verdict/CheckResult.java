package dev.doorbuster.verdict;

import java.util.Locale;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * One check of the verdict: what was measured against its budget, and its {@link Outcome}. A check whose input was
 * missing (no pool metrics, no request in a fault's window, an audit that could not read the database) is
 * {@link Outcome#NOT_JUDGED}: never a pass, and never left out. Whether it fails the run is the budget
 * {@code slo.notJudged}'s decision, through the check {@link VerdictAssembly#NOT_JUDGED} (see there).
 *
 * @param name     stable identifier, e.g. {@code p99 during spike}
 * @param unit     {@code ms}, {@code %}, {@code violations}, ...
 * @param pass     the outcome is {@link Outcome#PASS}: kept for the readers of {@code verdict.json} that know only
 *                 pass and fail, to whom a check not judged is not a pass
 * @param detail   how it was measured, and for failures what to look at; for a check not judged, why not
 * @param outcome  null only in a {@code verdict.json} written before there were outcomes: then {@code pass} says
 * @param fix      for a check not judged: what to supply so that the next run judges it (else null)
 * @param askedFor for a check not judged: whether the simulation asked for it, so that it counts against
 *                 {@code slo.notJudged} (else null); see {@link Judge} for which checks a simulation asks for
 */
public record CheckResult(String name, double budget, double actual, String unit, boolean pass, String detail,
                          boolean atLeast, Outcome outcome, @JsonInclude(JsonInclude.Include.NON_NULL) String fix,
                          @JsonInclude(JsonInclude.Include.NON_NULL) Boolean askedFor) {

    /** A check's three outcomes. */
    public enum Outcome {
        PASS("PASS"),
        FAIL("FAIL"),
        /** Its input was missing: it could not look, so it says neither. */
        NOT_JUDGED("NOT JUDGED");

        private final String label;

        Outcome(String label) {
            this.label = label;
        }

        /** As the console line, junit.xml and chaos.html write it. */
        public String label() {
            return label;
        }
    }

    public CheckResult {
        if (outcome == null) {
            outcome = pass ? Outcome.PASS : Outcome.FAIL; // a verdict.json from before outcomes
        }
        pass = outcome == Outcome.PASS;
        if (outcome == Outcome.NOT_JUDGED) {
            askedFor = askedFor == null || askedFor;
        } else {
            fix = null;
            askedFor = null;
        }
    }

    public CheckResult(String name, double budget, double actual, String unit, boolean pass, String detail,
                       boolean atLeast) {
        this(name, budget, actual, unit, pass, detail, atLeast, null, null, null);
    }

    public CheckResult(String name, double budget, double actual, String unit, boolean pass, String detail) {
        this(name, budget, actual, unit, pass, detail, false);
    }

    /** Passes when {@code actual ≤ budget}. */
    static CheckResult atMost(String name, double budget, double actual, String unit, String detail) {
        return new CheckResult(name, budget, actual, unit, actual <= budget, detail, false);
    }

    /** Passes when {@code actual ≥ minimum}. */
    static CheckResult atLeast(String name, double minimum, double actual, String unit, String detail) {
        return new CheckResult(name, minimum, actual, unit, actual >= minimum, detail, true);
    }

    /**
     * A check that could not be judged, which the simulation asked for.
     *
     * @param budget what it would have been judged against (NaN: none)
     * @param actual what was measured all the same, if anything (NaN: nothing)
     * @param reason what was missing
     * @param fix    what to supply so that the next run judges it
     */
    public static CheckResult notJudged(String name, double budget, double actual, String unit, String reason,
                                        String fix) {
        return new CheckResult(name, budget, actual, unit, false, reason, false, Outcome.NOT_JUDGED, fix, true);
    }

    /** As {@link #notJudged}, for a check the simulation did not ask for: reported, never failing the run. */
    public static CheckResult notJudgedUnasked(String name, double budget, String unit, String reason, String fix) {
        return new CheckResult(name, budget, Double.NaN, unit, false, reason, false, Outcome.NOT_JUDGED, fix, false);
    }

    /** The check was measured and is over its budget. */
    public boolean failed() {
        return outcome == Outcome.FAIL;
    }

    /** The check could not be judged. */
    public boolean notJudged() {
        return outcome == Outcome.NOT_JUDGED;
    }

    /** Not judged, and asked for by the simulation: what {@code slo.notJudged} counts. */
    public boolean notJudgedAskedFor() {
        return notJudged() && Boolean.TRUE.equals(askedFor);
    }

    /** The one-line reason printed at the end of a run and used as the failure message. */
    public String line() {
        if (notJudged()) {
            return Outcome.NOT_JUDGED.label() + " " + name + ": " + detail + (fix == null || fix.isEmpty() ? "" : "; " + fix)
                    + (Boolean.TRUE.equals(askedFor) ? "" : " (not asked for by the simulation: reported only)");
        }
        String comparison = atLeast ? (pass ? " ≥ " : " < required ") : (pass ? " ≤ " : " > budget ");
        return outcome.label() + " " + name + ": " + format(actual) + " " + unit + comparison + format(budget) + " "
                + unit + (detail == null || detail.isEmpty() ? "" : " (" + detail + ")");
    }

    public static String format(double value) {
        if (Double.isNaN(value)) {
            return "n/a";
        }
        return value == Math.rint(value) && Math.abs(value) < 1e15 ? Long.toString((long) value)
                : String.format(Locale.ROOT, "%.2f", value);
    }
}
