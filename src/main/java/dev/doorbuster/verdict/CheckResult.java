package dev.doorbuster.verdict;

import java.util.Locale;

/**
 * One check of the verdict: what was measured against its budget.
 *
 * @param name   stable identifier, e.g. {@code p99 during spike}
 * @param unit   {@code ms}, {@code %}, {@code violations}, ...
 * @param detail how it was measured, and for failures what to look at
 */
public record CheckResult(String name, double budget, double actual, String unit, boolean pass, String detail,
                          boolean atLeast) {

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

    /** The one-line reason printed at the end of a run and used as the failure message. */
    public String line() {
        String comparison = atLeast ? (pass ? " ≥ " : " < required ") : (pass ? " ≤ " : " > budget ");
        return (pass ? "PASS " : "FAIL ") + name + ": " + format(actual) + " " + unit + comparison + format(budget) + " "
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
