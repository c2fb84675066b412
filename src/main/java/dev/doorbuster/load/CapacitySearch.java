package dev.doorbuster.load;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import dev.doorbuster.verdict.Capacity;
import dev.doorbuster.verdict.Phase;

/**
 * How big a spike the service takes: plateaus of constant arrival rate, each a whole run of the simulation judged by
 * every check (latency, errors, pools, session guarantees, lost writes, the stock invariant, the load generator's
 * health), growing geometrically until one does not pass, then bisecting between the highest rate that passed and the
 * lowest that did not until they are within the resolution.
 *
 * <p>A plateau keeps the simulation's traffic mix, its length ({@code -Dload.minutes}) and its fault schedule (a
 * failover in every plateau: the capacity during failover); only the arrival rate is constant. Its first
 * {@code -Dcapacity.warmupSeconds} are a {@link Phase#WARM_UP} that the latency, error and pool exhaustion checks do
 * not judge.
 *
 * <p>The capacity is the highest rate that passed below the lowest rate that did not (a noisy plateau near the knee
 * lowers it, never raises it). A plateau whose load generator fell behind proves nothing about the service: it ends the
 * climb like a failure, and when it is the lowest, the answer is "limited by the load generator".
 */
public final class CapacitySearch {
    /** {@code -Dcapacity}: {@code off}, {@code search}, or {@code plateau} (one plateau; what the search runs). */
    public static final String MODE = "capacity";
    public static final String RATE = "capacity.rate";
    static final String START_RATE = "capacity.startRate";
    static final String GROWTH = "capacity.growth";
    static final String RESOLUTION = "capacity.resolutionPercent";
    static final String MAX_PLATEAUS = "capacity.maxPlateaus";
    static final String REPEATS = "capacity.repeats";
    static final String WARM_UP = "capacity.warmupSeconds";

    public enum Mode {
        OFF, SEARCH, PLATEAU
    }

    /**
     * @param startRate         the first plateau's shoppers per second
     * @param growth            each plateau of the climb is this many times the one before
     * @param resolutionPercent the search stops once the lowest rate that failed is within this much of the highest
     *                          that passed
     * @param maxPlateaus       at most this many plateaus (the search's own time bound)
     * @param repeats           plateaus run again at the capacity found, at the end: one that fails lowers it
     */
    record Settings(double startRate, double growth, double resolutionPercent, int maxPlateaus, int repeats) {
        Settings {
            if (growth <= 1) {
                throw Parameters.refused("-D" + GROWTH + "=" + growth + " must be more than 1 (e.g. 2: each plateau "
                        + "doubles the one before)");
            }
            if (resolutionPercent < 0.5 || resolutionPercent > 100) {
                throw Parameters.refused("-D" + RESOLUTION + "=" + resolutionPercent + " must be between 0.5 and 100");
            }
            if (maxPlateaus < 2) {
                throw Parameters.refused("-D" + MAX_PLATEAUS + "=" + maxPlateaus + " must be at least 2");
            }
        }

        /** From {@code -D}; the first plateau defaults to the simulation's own peak rate. */
        static Settings fromParameters(double peakRate) {
            return new Settings(Parameters.positive(START_RATE, round(peakRate)), Parameters.positive(GROWTH, 2),
                    Parameters.positive(RESOLUTION, 5), Parameters.wholeNumber(MAX_PLATEAUS, 12),
                    Parameters.wholeNumber(REPEATS, 0));
        }
    }

    /** Runs one plateau and says how it went; throws when it could not run at all (then the search stops). */
    @FunctionalInterface
    interface Trial {
        Capacity.Plateau run(int index, String purpose, double rate) throws IOException, InterruptedException;
    }

    private CapacitySearch() {
    }

    /** {@code -Dcapacity}, off unless set. */
    public static Mode mode() {
        return mode(false);
    }

    /** {@code -Dcapacity}; unset, a search when {@code searchByDefault} (a simulation made for it). */
    static Mode mode(boolean searchByDefault) {
        String raw = System.getProperty(MODE);
        if ((raw == null || raw.isBlank()) && !searchByDefault) {
            return Mode.OFF; // not read as a parameter: a run that did not ask records nothing about capacity
        }
        return switch (Parameters.choice(MODE, searchByDefault ? "search" : "off", List.of("off", "search", "plateau"),
                "search (find the highest rate every check passes at) or off")) {
            case "search" -> Mode.SEARCH;
            case "plateau" -> Mode.PLATEAU;
            default -> Mode.OFF;
        };
    }

    /**
     * One plateau at {@code rate}: {@code profile}'s length, its first {@code -Dcapacity.warmupSeconds} (default a
     * third of it, 5-60 s) a warm-up ramping from a tenth of the rate to the rate, which the latency, error and pool
     * exhaustion checks do not judge, then the rate held. A third: on a 2-core machine a fresh stack at 80 shoppers/s took 8-10 s to settle (the storefront's and the
     * generator's JIT, cold pools and caches), and a sixth of a 30 s plateau judged that start-up, not the service.
     */
    static LoadProfile plateau(LoadProfile profile, double rate) {
        long total = profile.total().toSeconds();
        int warmUp = Parameters.wholeNumber(WARM_UP, (int) Math.max(5, Math.min(60, total / 3)));
        if (warmUp < 1 || warmUp * 2L > total) {
            throw Parameters.refused("-D" + WARM_UP + "=" + warmUp + " must be at least 1 and at most half the load's "
                    + "length (" + total + " s; lengthen it with -Dload.minutes)");
        }
        // The warm-up ramps from a tenth of the rate: a fresh stack hit by the whole rate in its first second measured
        // its own start-up (pools exhausted at seconds 8-13 of a 113/s plateau that a warm stack took at 185/s).
        return new LoadProfile().ramp(Phase.WARM_UP, rate / 10, rate, Duration.ofSeconds(warmUp))
                .hold("plateau", rate, Duration.ofSeconds(total - warmUp));
    }

    /** Climbs, then bisects; see the class comment. */
    static Capacity search(Settings settings, Trial trial) throws IOException, InterruptedException {
        List<Capacity.Plateau> plateaus = new ArrayList<>();
        Capacity.Plateau passed = null;
        Capacity.Plateau failed = null;
        double rate = settings.startRate();
        while (plateaus.size() < settings.maxPlateaus()) { // the climb
            Capacity.Plateau p = run(trial, plateaus, "grow", rate);
            if (!p.passed()) {
                failed = p;
                break;
            }
            passed = p;
            rate = round(rate * settings.growth());
        }
        while (passed == null && failed != null && plateaus.size() < settings.maxPlateaus()) { // the first one failed
            Capacity.Plateau p = run(trial, plateaus, "narrow", round(failed.rate() / settings.growth()));
            if (p.passed()) {
                passed = p;
            } else {
                failed = p;
            }
        }
        while (passed != null && failed != null && plateaus.size() < settings.maxPlateaus()
                && gapPercent(passed.rate(), failed.rate()) > settings.resolutionPercent()) {
            double middle = round(Math.sqrt(passed.rate() * failed.rate())); // geometric: the gap halves in ratio
            if (middle <= passed.rate() || middle >= failed.rate()) {
                break; // as fine as the rates' rounding goes
            }
            Capacity.Plateau p = run(trial, plateaus, "bisect", middle);
            if (p.passed()) {
                passed = p;
            } else {
                failed = p;
            }
        }
        for (int i = 0; i < settings.repeats() && passed != null; i++) {
            run(trial, plateaus, "repeat", passed.rate());
        }
        return Capacity.of(plateaus);
    }

    private static Capacity.Plateau run(Trial trial, List<Capacity.Plateau> plateaus, String purpose, double rate)
            throws IOException, InterruptedException {
        Capacity.Plateau p = trial.run(plateaus.size() + 1, purpose, rate);
        plateaus.add(p);
        return p;
    }

    private static double gapPercent(double lower, double upper) {
        return (upper / lower - 1) * 100;
    }

    /** Rates to 0.1 shopper/s: finer than any run can tell apart, and readable. */
    static double round(double rate) {
        return Math.max(0.1, Math.round(rate * 10) / 10.0);
    }
}
