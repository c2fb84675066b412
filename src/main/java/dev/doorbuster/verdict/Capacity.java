package dev.doorbuster.verdict;

import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import com.fasterxml.jackson.annotation.JsonIgnore;

/**
 * The result of a capacity search ({@code -Dcapacity=search}): every plateau it ran, each a whole run judged by every
 * check at one constant arrival rate, and what they add up to. In {@code verdict.json} as {@code capacity}.
 *
 * @param capacityRate       the highest rate of shoppers per second whose plateau passed (0: none did)
 * @param capacityRequestsPerSecond the requests per second that plateau served
 * @param limitedBy          the first failing check of the lowest plateau that did not pass; null when every plateau
 *                           passed (the search ran out of plateaus)
 * @param limitedAtRate      that plateau's rate
 * @param witness            that check's line, as its run judged it
 * @param limitedByGenerator the lowest plateau that did not pass was inconclusive: the load generator fell behind
 * @param resolutionPercent  the bracket the search narrowed to (the rate that failed over the rate that passed, - 1);
 *                           null without both
 * @param plateaus           in the order they ran
 */
public record Capacity(double capacityRate, double capacityRequestsPerSecond, String limitedBy, double limitedAtRate,
                       String witness, boolean limitedByGenerator, Double resolutionPercent, List<Plateau> plateaus) {
    /** The outcome of one plateau. */
    public enum Outcome {
        /** Every check passed. */
        PASS,
        /** A check failed: the service did not take this rate. */
        FAIL,
        /** The load generator fell behind: the latency checks could not be judged, so the rate is not proven. */
        INCONCLUSIVE
    }

    /**
     * One plateau: a run at a constant rate.
     *
     * @param purpose           why it ran: {@code grow}, {@code narrow}, {@code bisect} or {@code repeat}
     * @param failedChecks      every check that failed, first the one the plateau is said to be limited by
     * @param witness           the limiting check's line
     * @param folder            the plateau's own run folder (its chaos.html and verdict.json), relative to the
     *                          reports folder
     */
    public record Plateau(int index, String purpose, double rate, double requestsPerSecond, double p99Ms,
                          double errorPercent, Outcome outcome, List<String> failedChecks, String witness,
                          String folder) {
        public Plateau {
            failedChecks = failedChecks == null ? List.of() : List.copyOf(failedChecks);
        }

        @JsonIgnore
        public boolean passed() {
            return outcome == Outcome.PASS;
        }
    }

    public Capacity {
        plateaus = plateaus == null ? List.of() : List.copyOf(plateaus);
    }

    /**
     * What {@code plateaus} show: the capacity is the highest rate that passed below the lowest rate that did not (a
     * noisy plateau near the knee lowers it, never raises it); that lowest one is the limit.
     */
    public static Capacity of(List<Plateau> plateaus) {
        Optional<Plateau> limit = plateaus.stream().filter(p -> !p.passed()).min(Comparator.comparingDouble(Plateau::rate));
        double ceiling = limit.map(Plateau::rate).orElse(Double.POSITIVE_INFINITY);
        Optional<Plateau> best = plateaus.stream().filter(Plateau::passed).filter(p -> p.rate() < ceiling)
                .max(Comparator.comparingDouble(Plateau::rate).thenComparingDouble(Plateau::requestsPerSecond));
        double capacity = best.map(Plateau::rate).orElse(0.0);
        return new Capacity(capacity, best.map(Plateau::requestsPerSecond).orElse(0.0),
                limit.map(p -> p.failedChecks().isEmpty() ? null : p.failedChecks().get(0)).orElse(null),
                limit.map(Plateau::rate).orElse(0.0), limit.map(Plateau::witness).orElse(null),
                limit.map(p -> p.outcome() == Outcome.INCONCLUSIVE).orElse(false),
                capacity > 0 && limit.isPresent() ? Double.valueOf(Math.round((ceiling / capacity - 1) * 1000) / 10.0)
                        : null, plateaus);
    }

    /** The search's answer in one line, as the console and the report print it. */
    public String summary() {
        String found = capacityRate > 0 ? "capacity " + rate(capacityRate) + " shoppers/s (" + rate(
                capacityRequestsPerSecond) + " requests/s)" : "no capacity found: even the lowest plateau did not pass";
        if (limitedByGenerator) {
            return found + " — limited by the load generator at " + rate(limitedAtRate)
                    + " shoppers/s: add injectors or cores (" + witness + ")";
        }
        if (limitedBy == null) {
            return found + " — every plateau passed: the limit is higher (raise -Dcapacity.maxPlateaus)";
        }
        return found + " — limited by `" + limitedBy + "` at " + rate(limitedAtRate) + " shoppers/s (" + witness + ")";
    }

    static String rate(double rate) {
        return rate >= 100 ? String.format(Locale.ROOT, "%.0f", rate) : String.format(Locale.ROOT, "%.1f", rate);
    }
}
