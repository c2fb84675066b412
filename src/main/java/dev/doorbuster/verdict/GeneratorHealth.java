package dev.doorbuster.verdict;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToIntFunction;

import dev.doorbuster.topology.Environment;
import dev.doorbuster.topology.SloBudget;

/**
 * Whether the load generator kept up, second by second (recorded by
 * {@link dev.doorbuster.verdict.recording.GeneratorMonitor}): a generator that falls behind records its own delays as
 * the service's latency, and a load it never offered as a load the service survived. In the seconds it fell behind, a
 * latency check can say neither PASS nor FAIL: {@link Judge} makes those checks not judged, "inconclusive", and the
 * check {@value #CHECK} fails the run naming the generator. The correctness checks stay judged: a lost write is lost
 * however slowly it was sent.
 *
 * <p>A second is behind when fewer than {@code slo.generator.startedPercent} of the arrivals scheduled in it started
 * within {@code slo.generator.startDelayPercentOfP99} of {@code slo.p99Ms} of their scheduled time (an arrival that
 * never started is late), or when the generator's JVM paused for GC longer than {@code slo.generator.gcPauseMs}.
 *
 * @param lateAfterMs   the start delay beyond which an arrival is late (from the budgets)
 * @param planned       arrivals the load profile scheduled for the whole run
 * @param started       virtual users that started
 * @param neverStarted  arrivals scheduled before the load stopped that never started
 * @param startDelayP99Ms the 99th percentile of the delay between a user's scheduled and actual start
 * @param startDelayMaxMs the longest such delay
 * @param seconds       per second of the run
 */
public record GeneratorHealth(double lateAfterMs, long planned, long started, long neverStarted, double startDelayP99Ms,
                              double startDelayMaxMs, List<Second> seconds) {
    /** Name of the check that fails a run whose generator fell behind. */
    public static final String CHECK = "load generator kept up";

    /**
     * One second of the run, as the generator saw it.
     *
     * @param planned     arrivals scheduled in this second
     * @param started     users that started in this second
     * @param late        of the arrivals scheduled in this second, those that started late or never
     * @param maxDelayMs  longest start delay of the arrivals scheduled in this second
     * @param processCpu  the generator JVM's share of all the machine's cores, % (-1: unknown)
     * @param machineCpu  the whole machine's CPU use, % (-1: unknown)
     * @param gcPauseMs   the generator JVM's longest GC pause that began in this second
     */
    public record Second(int second, int planned, int started, int late, int maxDelayMs, int processCpu,
                         int machineCpu, int gcPauseMs) {
    }

    public GeneratorHealth {
        seconds = seconds == null ? List.of() : List.copyOf(seconds);
    }

    /**
     * The generators of a run split over injector shards, as one: each second's planned, started and late arrivals
     * added over the shards (so a second is behind when too few of the run's arrivals in it started on time, whichever
     * shard they belonged to); its CPU figures, start delays and GC pauses those of the worst shard in that second.
     * The run's start delay p99 is the worst shard's (percentiles of separate shards do not add). Seconds are counted
     * from the common start instant, as each shard counts them. Null when no shard reported.
     */
    public static GeneratorHealth merge(List<GeneratorHealth> shards) {
        List<GeneratorHealth> reported = shards.stream().filter(java.util.Objects::nonNull).toList();
        if (reported.isEmpty()) {
            return null;
        }
        int length = reported.stream().mapToInt(h -> h.seconds().size()).max().orElse(0);
        List<Second> merged = new ArrayList<>(length);
        for (int s = 0; s < length; s++) {
            int planned = 0;
            int started = 0;
            int late = 0;
            int delay = 0;
            int process = -1;
            int machine = -1;
            int gc = 0;
            for (GeneratorHealth shard : reported) {
                if (s >= shard.seconds().size()) {
                    continue;
                }
                Second one = shard.seconds().get(s);
                planned += one.planned();
                started += one.started();
                late += one.late();
                delay = Math.max(delay, one.maxDelayMs());
                process = Math.max(process, one.processCpu());
                machine = Math.max(machine, one.machineCpu());
                gc = Math.max(gc, one.gcPauseMs());
            }
            merged.add(new Second(s, planned, started, late, delay, process, machine, gc));
        }
        return new GeneratorHealth(reported.get(0).lateAfterMs(), reported.stream().mapToLong(GeneratorHealth::planned).sum(),
                reported.stream().mapToLong(GeneratorHealth::started).sum(),
                reported.stream().mapToLong(GeneratorHealth::neverStarted).sum(),
                reported.stream().mapToDouble(GeneratorHealth::startDelayP99Ms).max().orElse(0),
                reported.stream().mapToDouble(GeneratorHealth::startDelayMaxMs).max().orElse(0), merged);
    }

    /** The start delay beyond which an arrival is late: {@code startDelayPercentOfP99} of {@code p99Ms}. */
    public static long lateAfterMicros(Environment.Slo slo) {
        return Math.round(slo.p99Ms() * slo.generatorStartDelayPercentOfP99() / 100.0 * 1000);
    }

    /**
     * The seconds the generator fell behind in, ascending. A GC pause before the first user was due does not count:
     * it delayed nothing the run measures (a quick JVM's collector pausing for 694 ms while Gatling was still loading,
     * with no user yet, made a control's latency checks inconclusive). A pause that runs on into the first users'
     * seconds still shows as their late starts.
     */
    public List<Integer> behind(Environment.Slo slo) {
        double onTimeShare = slo.generatorStartedPercent() / 100.0;
        List<Integer> behind = new ArrayList<>();
        long plannedSoFar = 0;
        for (Second s : seconds.stream().sorted(java.util.Comparator.comparingInt(Second::second)).toList()) {
            plannedSoFar += s.planned();
            boolean late = s.planned() > 0 && s.planned() - s.late() < onTimeShare * s.planned() - 1e-9;
            boolean paused = plannedSoFar > 0 && s.gcPauseMs() > slo.generatorGcPauseMs();
            if (late || paused) {
                behind.add(s.second());
            }
        }
        return behind;
    }

    /** True when any of {@code from}..{@code to} (exclusive) is among {@code behind}. */
    static boolean overlaps(List<Integer> behind, int from, int to) {
        return behind.stream().anyMatch(s -> s >= from && s < to);
    }

    /**
     * What the generator did in {@code behind}: "seconds 12-26 (CPU 97 %, 412 of 600 planned arrivals started on
     * time, start delay up to 840 ms, GC pause up to 20 ms)".
     */
    public String describe(List<Integer> behind) {
        List<Second> those = seconds.stream().filter(s -> behind.contains(s.second())).toList();
        long planned = those.stream().mapToLong(Second::planned).sum();
        long late = those.stream().mapToLong(Second::late).sum();
        StringBuilder text = new StringBuilder("seconds ").append(ranges(behind)).append(" (");
        int machine = max(those, Second::machineCpu);
        int process = max(those, Second::processCpu);
        if (machine >= 0) {
            text.append("machine CPU up to ").append(machine).append(" %, the generator's ").append(process).append(" %, ");
        }
        text.append(planned - late).append(" of ").append(planned).append(" planned arrivals started on time");
        int delay = max(those, Second::maxDelayMs);
        if (delay > 0) {
            text.append(", start delay up to ").append(delay).append(" ms");
        }
        int gc = max(those, Second::gcPauseMs);
        if (gc > 0) {
            text.append(", GC pause up to ").append(gc).append(" ms");
        }
        return text.append(")").toString();
    }

    /** {@code 3, 4, 5, 9} as {@code 3-5, 9}. */
    static String ranges(List<Integer> seconds) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < seconds.size(); i++) {
            int from = seconds.get(i);
            int to = from;
            while (i + 1 < seconds.size() && seconds.get(i + 1) == to + 1) {
                to = seconds.get(++i);
            }
            text.append(text.length() == 0 ? "" : ", ").append(from).append(from == to ? "" : "-" + to);
        }
        return text.toString();
    }

    private static int max(List<Second> seconds, ToIntFunction<Second> value) {
        return seconds.stream().mapToInt(value).max().orElse(-1);
    }

    /** The check {@value #CHECK}: seconds behind, against none allowed. */
    CheckResult check(Environment.Slo slo) {
        return check(slo, 0);
    }

    /**
     * As {@link #check(Environment.Slo)}, from second {@code judgedFrom}: a warm-up ({@link Phase#WARM_UP}) is where
     * the generator's JVM compiles its own injection code too, so it is not held to the budgets there either.
     */
    CheckResult check(Environment.Slo slo, int judgedFrom) {
        List<Integer> all = behind(slo);
        List<Integer> behind = all.stream().filter(s -> s >= judgedFrom).toList();
        List<Integer> inWarmUp = all.stream().filter(s -> s < judgedFrom).toList();
        // said, not judged: a generator that lags through its warm-up may well lag later too
        return check(behind, slo, inWarmUp.isEmpty() ? "" : "; behind during the warm-up (not judged): "
                + describe(inWarmUp));
    }

    private CheckResult check(List<Integer> behind, Environment.Slo slo, String warmUp) {
        String budgets = "on time: within " + CheckResult.format(lateAfterMs) + " ms ("
                + SloBudget.GENERATOR_START_DELAY_PERCENT_OF_P99.path() + " of " + SloBudget.P99_MS.path() + "), at least "
                + CheckResult.format(slo.generatorStartedPercent()) + " % of each second's arrivals; GC pauses ≤ "
                + slo.generatorGcPauseMs() + " ms";
        if (behind.isEmpty()) {
            return CheckResult.atMost(CHECK, 0, 0, "s", String.format(Locale.ROOT,
                    "%d of %d planned arrivals started, start delay p99 %.1f ms, max %.1f ms; %s", started, planned,
                    startDelayP99Ms, startDelayMaxMs, budgets) + warmUp);
        }
        return CheckResult.atMost(CHECK, 0, behind.size(), "s", INCONCLUSIVE + describe(behind)
                + "; the latency checks of those seconds are not judged; " + budgets + "; " + FIX + warmUp);
    }

    /** How an inconclusive check's reason begins. */
    public static final String INCONCLUSIVE = "inconclusive: the load generator fell behind at ";
    /** What to do about a generator that fell behind. */
    static final String FIX = "give the load generator a machine of its own, or split it over injectors (-Dshard.count)";
}
