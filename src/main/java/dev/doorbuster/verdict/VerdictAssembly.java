package dev.doorbuster.verdict;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

import dev.doorbuster.chaos.FaultTimeline;
import dev.doorbuster.topology.Environment;
import dev.doorbuster.topology.SloBudget;
import dev.doorbuster.verdict.consistency.Inventory;
import dev.doorbuster.verdict.consistency.SessionReport;
import dev.doorbuster.verdict.consistency.WriteLedger;
import dev.doorbuster.verdict.recording.LatencyRecorder;
import dev.doorbuster.verdict.report.DatabaseReport;
import dev.doorbuster.verdict.shard.ShardReport;

/**
 * Puts a run's verdict together from what was measured, without touching a database, a file or a clock, so every
 * way a run can end is testable on recorded data. The checks come in this order:
 * <ol>
 *   <li>{@code shards delivered} (a scaled-out run's coordinator only);</li>
 *   <li>the {@link Judge}'s checks;</li>
 *   <li>{@code aborted}, failing, when the load ended early (the abort rule, SIGTERM, the verdict scenario never
 *       ran, or an injector shard's own early end);</li>
 *   <li>the regression checks against the simulation's baseline run, if it has one;</li>
 *   <li>{@code checks not judged} ({@link #NOT_JUDGED}), when any check above could not be judged: it counts those
 *       the simulation asked for against {@code slo.notJudged} (default 0), so that a missing input fails the run
 *       unless the environment says it may go unjudged. A check not judged is never a pass, but it fails the run
 *       only through this check: one place decides, and the verdict names it.</li>
 * </ol>
 * A run that ended early, or that misses a shard's recording, is incomplete and never passes.
 */
public final class VerdictAssembly {
    /** Name of the check an incomplete run fails. */
    public static final String ABORTED = "aborted";
    /** Name of the check a coordinator fails when an injector shard's recording is missing or unreadable. */
    public static final String SHARDS_DELIVERED = "shards delivered";
    /** Name of the check that counts the checks not judged against {@code slo.notJudged}. */
    public static final String NOT_JUDGED = "checks not judged";

    private VerdictAssembly() {
    }

    /**
     * Which run this is.
     *
     * @param startedAt       second 0 of the load (an ISO instant)
     * @param durationSeconds from second 0 to the end of the load
     */
    public record Identity(String simulation, String environment, String startedAt, double durationSeconds) {
    }

    /**
     * How the load ended.
     *
     * @param reason    why it stopped early (the abort rule's reason, "interrupted ..."), or null when it ran its course
     * @param stoppedAt the second it stopped at: the abort rule's second when that tripped
     */
    public record Ending(String reason, int stoppedAt) {
        public static Ending ranItsCourse(int stoppedAt) {
            return new Ending(null, stoppedAt);
        }
    }

    /**
     * Everything the verdict is assembled from.
     *
     * @param recorder the run's latency (a coordinator's: every shard's, merged): counts, windows, peak rate
     * @param checks   the {@link Judge}'s checks
     * @param shards   what the injector shards delivered (null unless this is a scaled-out run's coordinator)
     * @param baseline the simulation's baseline run (empty when it has none)
     * @param database the database diagnostics around the load (null when not taken)
     */
    public record Facts(Identity run, JudgingMode mode, Environment.Slo slo, LatencyRecorder recorder,
                        List<CheckResult> checks, Ending ending, ShardReport shards, Optional<RunHistory.Entry> baseline,
                        WriteLedger.Audit writes, SessionReport sessions, Inventory.StockAudit stock,
                        List<FaultTimeline.Event> timeline, DatabaseReport database, Capacity capacity) {
        /** The facts of a run that searched no capacity. */
        public Facts(Identity run, JudgingMode mode, Environment.Slo slo, LatencyRecorder recorder,
                     List<CheckResult> checks, Ending ending, ShardReport shards, Optional<RunHistory.Entry> baseline,
                     WriteLedger.Audit writes, SessionReport sessions, Inventory.StockAudit stock,
                     List<FaultTimeline.Event> timeline, DatabaseReport database) {
            this(run, mode, slo, recorder, checks, ending, shards, baseline, writes, sessions, stock, timeline, database,
                    null);
        }
    }

    /** The verdict of {@code facts}. */
    public static Verdict assemble(Facts facts) {
        String endedEarly = endedEarly(facts.ending().reason(), facts.shards());
        LatencyRecorder recorder = facts.recorder();
        LatencyRecorder.Counts counts = recorder.counts(null, 0, recorder.lastSecond() + 1);
        List<CheckResult> measured = new ArrayList<>();
        if (facts.shards() != null) {
            measured.add(shardsDelivered(facts.shards()));
        }
        measured.addAll(facts.checks());
        if (endedEarly != null) {
            measured.add(new CheckResult(ABORTED, 0, Math.max(0, facts.ending().stoppedAt()), "s", false, endedEarly));
        }
        List<CheckResult> checks = new ArrayList<>(measured);
        facts.baseline().ifPresent(baseline -> checks.addAll(explainUnmeasured(RunHistory.regressions(
                RunHistory.Headline.of(measured, facts.sessions(), facts.writes(), counts.total(), peakRate(recorder),
                        facts.capacity()),
                baseline, facts.slo().regression()), measured)));
        notJudged(checks, facts.slo()).ifPresent(checks::add);
        String incompleteReason = endedEarly != null ? endedEarly : missingShards(facts.shards());
        boolean complete = incompleteReason == null;
        List<SecondCompliance.Window> windows = facts.mode() == JudgingMode.OVERLOAD ? List.of()
                : SecondCompliance.evaluate(recorder, facts.slo(), recorder.lastSecond() + 1);
        Identity run = facts.run();
        return new Verdict(run.simulation(), run.environment(), run.startedAt(), run.durationSeconds(),
                complete && checks.stream().noneMatch(CheckResult::failed), List.copyOf(checks), counts.total(),
                counts.ko(), facts.writes(), facts.sessions(), facts.stock(), List.copyOf(facts.timeline()), complete,
                incompleteReason, List.copyOf(windows), facts.database(), facts.shards(), null, null, null, null,
                facts.capacity(), null, null);
    }

    /** The run's own early end or, failing that, the first injector shard's. */
    /**
     * A regression check this run could not be compared on because its own check was not judged says why that check
     * was not (e.g. "inconclusive: the load generator fell behind ..."), with that check's fix: "measured no p99" alone
     * would send the reader looking for a missing measurement.
     */
    static List<CheckResult> explainUnmeasured(List<CheckResult> regressions, List<CheckResult> measured) {
        List<CheckResult> explained = new ArrayList<>(regressions.size());
        for (CheckResult r : regressions) {
            String figure = r.name().substring(0, Math.max(0, r.name().indexOf(" vs baseline")));
            CheckResult own = measured.stream().filter(c -> c.notJudged()
                    && (c.name().equals(figure) || c.name().startsWith(figure + " ("))).findFirst().orElse(null);
            explained.add(r.notJudged() && own != null && r.detail() != null && r.detail().startsWith("this run ")
                    ? CheckResult.notJudged(r.name(), r.budget(), Double.NaN, r.unit(), "this run's " + own.name()
                            + " was not judged: " + own.detail(), own.fix() != null ? own.fix() : r.fix())
                    : r);
        }
        return explained;
    }

    private static String endedEarly(String reason, ShardReport shards) {
        if (reason != null || shards == null) {
            return reason;
        }
        return shards.shards().stream().filter(shard -> shard.endedEarly() != null).findFirst()
                .map(shard -> "shard " + shard.index() + ": " + shard.endedEarly()).orElse(null);
    }

    /** Why a run that ran its course is still incomplete: shards without a recording (null when none). */
    private static String missingShards(ShardReport shards) {
        if (shards == null || shards.missing().isEmpty()) {
            return null;
        }
        return "no recording from shard(s) " + shards.missing().stream().map(m -> String.valueOf(m.index()))
                .collect(Collectors.joining(", "));
    }

    /** Passes when every injector delivered a recording that could be merged. */
    private static CheckResult shardsDelivered(ShardReport shards) {
        String detail = shards.missing().isEmpty()
                ? shards.requests() + " requests merged from " + shards.count() + " shard(s)"
                : shards.missing().stream().map(m -> "shard " + m.index() + ": " + m.reason())
                        .collect(Collectors.joining("; "));
        if (!shards.problems().isEmpty()) {
            detail += "; unreadable: " + String.join("; ", shards.problems());
        }
        return new CheckResult(SHARDS_DELIVERED, shards.count(), shards.shards().size(), "shards",
                shards.missing().isEmpty() && shards.problems().isEmpty(), detail, true);
    }

    /**
     * The checks not judged, the simulation's ones against {@code slo.notJudged}; empty when every check was judged.
     * Those it did not ask for are named in the detail and never counted.
     */
    static Optional<CheckResult> notJudged(List<CheckResult> checks, Environment.Slo slo) {
        List<String> asked = checks.stream().filter(CheckResult::notJudgedAskedFor).map(CheckResult::name).toList();
        List<String> unasked = checks.stream().filter(c -> c.notJudged() && !c.notJudgedAskedFor())
                .map(CheckResult::name).toList();
        if (asked.isEmpty() && unasked.isEmpty()) {
            return Optional.empty();
        }
        String detail = (asked.isEmpty() ? "every check the simulation asks for was judged"
                : asked.size() + " the simulation asks for could not be judged: " + String.join(", ", asked))
                + (unasked.isEmpty() ? "" : "; not asked for, reported only: " + String.join(", ", unasked))
                + (asked.size() > slo.notJudged() ? "; supply what each line asks for, or allow them with "
                        + SloBudget.NOT_JUDGED.path() : "");
        return Optional.of(CheckResult.atMost(NOT_JUDGED, slo.notJudged(), asked.size(),
                SloBudget.NOT_JUDGED.unit().text(), detail));
    }

    /** Requests in the busiest second of the run. */
    private static double peakRate(LatencyRecorder recorder) {
        long peak = 0;
        for (int s = 0; s <= recorder.lastSecond(); s++) {
            peak = Math.max(peak, recorder.counts(null, s, s + 1).total());
        }
        return peak;
    }
}
