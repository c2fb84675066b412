package dev.doorbuster.verdict;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;

import dev.doorbuster.chaos.ChaosRunner;
import dev.doorbuster.chaos.FaultEffect;
import dev.doorbuster.chaos.FaultKind;
import dev.doorbuster.chaos.FaultTimeline;
import dev.doorbuster.chaos.WriteProbe;
import dev.doorbuster.topology.Environment;
import dev.doorbuster.topology.PoolRoles;
import dev.doorbuster.topology.SloBudget;
import dev.doorbuster.verdict.consistency.CacheStaleness;
import dev.doorbuster.verdict.consistency.Guarantee;
import dev.doorbuster.verdict.consistency.Inventory;
import dev.doorbuster.verdict.consistency.SessionReport;
import dev.doorbuster.verdict.consistency.WriteLedger;
import dev.doorbuster.verdict.probes.MetricsCoverage;
import dev.doorbuster.verdict.probes.MetricsCoverage.Missing;
import dev.doorbuster.verdict.probes.ProbeSample;
import dev.doorbuster.verdict.probes.Probes;
import dev.doorbuster.verdict.recording.LatencyRecorder;
import org.HdrHistogram.Histogram;

/**
 * Turns what was recorded during a run into checks against the environment's SLO budgets.
 *
 * <p><b>Which checks a run has.</b> A check exists where it applies to the run: no RTO check without a failover, no
 * drift check outside a soak, no lost-write check for a simulation that writes nothing, no stock check where the stock
 * is not tracked. <b>A check that applies but lacks its input is {@link CheckResult.Outcome#NOT_JUDGED not judged}</b>,
 * with the reason and the fix: never a pass, never left out.
 *
 * <p><b>Which checks a simulation asks for</b> (what {@code slo.notJudged} counts, see {@link VerdictAssembly}): a
 * simulation declares no list of checks; it asks for them by what it declares. Its {@link JudgingMode} asks for the
 * mode's checks (STANDARD: pool exhaustion, error rate, P99 and the windowed checks; SOAK adds P99 drift and pool
 * active growth; OVERLOAD its gracefulness checks), its load profile for each phase's P99, its fault schedule for
 * each fault's P99 and a failover's RTO (and the cache tier's checks, {@link CacheChecks}), its writes for their
 * audit and the stock invariant, and an environment that sets a regression budget for that regression check. Not
 * asked for: a session guarantee, which is judged wherever the traffic happens to read a key back; a simulation
 * whose traffic never does gets it reported as not judged, without failing the run.
 *
 * <p>What each check does without its input is said where it is made.
 */
public final class Judge {
    /** Soaks compare their first and last windows, each this share of the run. */
    static final double DRIFT_WINDOW_SHARE = 0.2;

    /**
     * Everything the checks look at.
     *
     * @param cache   the staleness of the reads the cache tier answered (null: not measured)
     * @param metrics what the probes' scrapes of the service's metrics found (null: unknown), which says why a pool
     *                check could not be judged
     * @param unmeasurableRto why the run's write probe could not measure a failover's RTO (no {@code app.writeProbe}
     *                        for a service of your own, or a pre-flight write not acknowledged), or null when it could
     */
    public record Facts(JudgingMode mode, Environment.Slo slo, int requestTimeoutMs, LatencyRecorder recorder,
                        List<Phase> phases, FaultTimeline timeline, List<ProbeSample> probes, SessionReport sessions,
                        long violatingReads, long client503s, WriteLedger.Audit writes, Inventory.StockAudit stock,
                        CacheStaleness cache, MetricsCoverage metrics, WriteProbe.Unmeasurable unmeasurableRto,
                        GeneratorHealth generator) {
        /** Facts of a run whose load generator was not watched (recorded data, a coordinator, tests). */
        public Facts(JudgingMode mode, Environment.Slo slo, int requestTimeoutMs, LatencyRecorder recorder,
                     List<Phase> phases, FaultTimeline timeline, List<ProbeSample> probes, SessionReport sessions,
                     long violatingReads, long client503s, WriteLedger.Audit writes, Inventory.StockAudit stock,
                     CacheStaleness cache, MetricsCoverage metrics, WriteProbe.Unmeasurable unmeasurableRto) {
            this(mode, slo, requestTimeoutMs, recorder, phases, timeline, probes, sessions, violatingReads, client503s,
                    writes, stock, cache, metrics, unmeasurableRto, null);
        }

        /** Facts of a run whose write probe could measure an RTO. */
        public Facts(JudgingMode mode, Environment.Slo slo, int requestTimeoutMs, LatencyRecorder recorder,
                     List<Phase> phases, FaultTimeline timeline, List<ProbeSample> probes, SessionReport sessions,
                     long violatingReads, long client503s, WriteLedger.Audit writes, Inventory.StockAudit stock,
                     CacheStaleness cache, MetricsCoverage metrics) {
            this(mode, slo, requestTimeoutMs, recorder, phases, timeline, probes, sessions, violatingReads, client503s,
                    writes, stock, cache, metrics, null, null);
        }

        /** Facts of a run whose probes' coverage is unknown (recorded data, tests). */
        public Facts(JudgingMode mode, Environment.Slo slo, int requestTimeoutMs, LatencyRecorder recorder,
                     List<Phase> phases, FaultTimeline timeline, List<ProbeSample> probes, SessionReport sessions,
                     long violatingReads, long client503s, WriteLedger.Audit writes, Inventory.StockAudit stock,
                     CacheStaleness cache) {
            this(mode, slo, requestTimeoutMs, recorder, phases, timeline, probes, sessions, violatingReads, client503s,
                    writes, stock, cache, null, null, null);
        }
    }

    /** Name of the phase an OVERLOAD run must recover in. */
    public static final String RECOVERY_PHASE = "recovery";
    /** Slack over the application's request bound before a request counts as hung. */
    static final int HANG_SLACK_MS = 1000;

    private Judge() {
    }

    public static List<CheckResult> evaluate(Facts f) {
        List<CheckResult> checks = new ArrayList<>();
        int end = f.recorder().lastSecond() + 1;
        Environment.Slo slo = f.slo();

        sessionGuarantees(checks, f);
        cacheStaleness(checks, f);
        if (f.generator() != null) {
            checks.add(arrivalsUnreported(f) ? CheckResult.notJudgedUnasked(GeneratorHealth.CHECK, 0, "s",
                    "requests were made but no user said it started, so when the generator started them is unknown",
                    "start the scenario that injects the run's load profile with run.scenario(name) (see "
                            + "docs/writing-simulations.md)") : f.generator().check(slo, Phase.judgedFrom(f.phases())));
        }
        if (f.mode() == JudgingMode.OVERLOAD) {
            // Under a deliberate overload, errors and latency budgets cannot hold: gracefulness is judged instead.
            overload(checks, f, end);
        } else {
            // A leading warm-up phase is not judged for latency, errors or pool exhaustion (Phase.WARM_UP).
            int from = Math.min(Phase.judgedFrom(f.phases()), end);
            checks.add(poolExhaustion(f, from));
            connectionRefusals(f).ifPresent(checks::add);
            String judged = from == 0 ? "" : " after the warm-up (seconds " + from + "-" + end + ")";
            LatencyRecorder.Counts all = f.recorder().counts(null, from, end);
            if (all.total() == 0) {
                // 0 of 0 requests failed is no error rate: the run measured nothing.
                checks.add(CheckResult.notJudged(ERROR_RATE, slo.errorRatePercent(), Double.NaN, "%",
                        "no request was recorded" + judged, NO_REQUEST_FIX));
            } else {
                checks.add(CheckResult.atMost(ERROR_RATE, slo.errorRatePercent(), round2(all.errorPercent()), "%",
                        all.ko() + " of " + all.total() + " requests failed" + judged));
            }
            p99(checks, "p99", f.recorder(), null, from, end, slo.p99Ms(), "was recorded" + judged);
            timed(checks, f, from, end);
            for (String name : f.recorder().names()) {
                p99(checks, "p99 " + name, f.recorder(), name, from, end, slo.p99MsPerRequest().getOrDefault(name,
                        slo.p99Ms()), "named '" + name + "' completed" + judged);
                timed(checks, f, from, end);
            }
            for (FaultTimeline.Window w : f.timeline().windows()) {
                // A fault's window without a completed request is not a fault the users got through: it may be one
                // that hung every request past its end. Not judged, never passed.
                int to = w.toSecond() < 0 ? end : Math.max(w.toSecond(), w.fromSecond() + 1);
                p99(checks, "p99 during " + w.fault(), f.recorder(), null, w.fromSecond(), to, slo.p99MsDuringFaults(),
                        "completed while " + w.fault() + " was on (seconds " + w.fromSecond() + "-" + to + ")");
                timed(checks, f, w.fromSecond(), to);
            }
            for (Phase phase : f.phases()) {
                if (phase.toSecond() <= from) {
                    continue; // the warm-up
                }
                int to = Math.min(phase.toSecond(), end);
                p99(checks, "p99 during " + phase.name(), f.recorder(), null, phase.fromSecond(), to, slo.p99Ms(),
                        phase.fromSecond() >= end ? "in phase '" + phase.name() + "': the load ended before it began "
                                + "(second " + phase.fromSecond() + ")"
                                : "completed in phase '" + phase.name() + "' (seconds " + phase.fromSecond() + "-" + to + ")");
                timed(checks, f, phase.fromSecond(), to);
            }
            // The windowed checks count the seconds with requests; a run without any has its run-wide p99 and error
            // rate not judged, which say so once.
            for (SecondCompliance.Window w : SecondCompliance.evaluate(f.recorder(), slo, from, end)) {
                checks.add(SecondCompliance.check(w, when(w.failingSeconds(), f)));
                if (w.measure().equals(SecondCompliance.P99)) {
                    timed(checks, f, from, end);
                }
            }
        }
        faultsInjected(f).ifPresent(checks::add);
        rto(checks, f);
        lostWrites(checks, f);
        stock(checks, f);
        if (f.mode() == JudgingMode.SOAK) {
            drift(checks, f, end);
        }
        return checks;
    }

    /**
     * An overload's gracefulness. Without their input: {@code pools saturated} with neither a pool metric nor a 503 is
     * not judged (the pools may have saturated unseen; with metrics read and nothing counted it fails: the ramp proved
     * nothing); the others over no request are not judged (a run without requests neither hung nor failed). A
     * simulation without a {@value #RECOVERY_PHASE} phase does not ask for the recovery checks.
     */
    private static void overload(List<CheckResult> checks, Facts f, int end) {
        double timeouts = Probes.increase(f.probes(), ProbeSample::poolTimeouts);
        double exhausted = Probes.increase(f.probes(), ProbeSample::poolExhaustedErrors);
        double saturation = Math.max(nanToZero(timeouts), Math.max(nanToZero(exhausted), f.client503s()));
        if (saturation == 0 && Double.isNaN(timeouts) && Double.isNaN(exhausted)) {
            Missing why = poolsMissing(f, "HikariCP connection timeouts");
            checks.add(CheckResult.notJudged("pools saturated", 1, 0, "events", why.reason() + "; clients saw no 503, "
                    + "so whether the ramp drove the pools into exhaustion is unknown", why.fix()));
        } else {
            checks.add(CheckResult.atLeast("pools saturated", 1, saturation, "events",
                    "the ramp must drive the pools into exhaustion, or this run proved nothing about overload"));
        }
        LatencyRecorder.Counts counts = f.recorder().counts(null, 0, end);
        if (counts.total() == 0) {
            checks.add(CheckResult.notJudged("failures other than 503", f.slo().errorRatePercent(), Double.NaN, "%",
                    "no request was recorded", NO_REQUEST_FIX));
            checks.add(CheckResult.notJudged("no hung request", f.requestTimeoutMs() + HANG_SLACK_MS, Double.NaN, "ms",
                    "no request was recorded", NO_REQUEST_FIX));
        } else {
            long ungraceful = Math.max(0, counts.ko() - f.client503s() - f.violatingReads());
            checks.add(CheckResult.atMost("failures other than 503", f.slo().errorRatePercent(),
                    round2(100.0 * ungraceful / counts.total()), "%", ungraceful + " of " + counts.total()
                            + " requests failed without a 503 answer (a graceful overload refuses with 503 + Retry-After; "
                            + f.client503s() + " did)"));
            Histogram all = f.recorder().histogram(null, 0, end);
            double maxMs = Math.round(all.getMaxValue() / 1000.0);
            checks.add(CheckResult.atMost("no hung request", f.requestTimeoutMs() + HANG_SLACK_MS, maxMs, "ms",
                    "slowest request of " + all.getTotalCount() + "; the application bounds requests at "
                            + f.requestTimeoutMs() + " ms, so anything longer hung"));
            timed(checks, f, 0, end);
        }
        f.phases().stream().filter(p -> p.name().equals(RECOVERY_PHASE)).findFirst().ifPresent(p -> {
            // The first seconds of the recovery phase still drain the overload's queue.
            int from = p.fromSecond() + Math.max(1, (p.toSecond() - p.fromSecond()) / 3);
            int to = Math.min(p.toSecond(), end);
            LatencyRecorder.Counts recovery = f.recorder().counts(null, from, to);
            String when = "once the load had dropped (seconds " + from + "-" + to + ")";
            if (recovery.total() == 0) {
                checks.add(CheckResult.notJudged("errors after recovery", f.slo().errorRatePercent(), Double.NaN, "%",
                        "no request was recorded " + when, NO_REQUEST_FIX));
            } else {
                checks.add(CheckResult.atMost("errors after recovery", f.slo().errorRatePercent(),
                        round2(recovery.errorPercent()), "%", recovery.ko() + " of " + recovery.total()
                                + " requests failed " + when));
            }
            p99(checks, "p99 after recovery", f.recorder(), null, from, to, f.slo().p99Ms(), "completed " + when);
            timed(checks, f, from, to);
        });
    }

    /** The database errors the error rate's witness names, most frequent first. */
    static final int ERROR_CODES_NAMED = 3;

    /**
     * {@code checks} with a failed error rate naming the SQLSTATEs the service answered requests with (its own count,
     * read once the load is over): "error rate: 8.3 % > budget 1 % (412 of 4960 requests failed; the service's
     * database errors: 26000 × 398 (prepared statement missing ...))". Which code broke the requests is the first
     * thing a reader needs, and it is on the failing line instead of a report's table. Unchanged when the error rate
     * passed or the service counts no database error.
     */
    public static List<CheckResult> namingDatabaseErrors(List<CheckResult> checks,
                                                         dev.doorbuster.verdict.probes.DatabaseErrors errors) {
        String named = errors == null ? "" : errors.mostAnswered(ERROR_CODES_NAMED);
        if (named.isEmpty()) {
            return checks;
        }
        List<CheckResult> out = new ArrayList<>(checks.size());
        for (CheckResult c : checks) {
            out.add(!c.failed() || !c.name().equals(ERROR_RATE) ? c : new CheckResult(c.name(), c.budget(), c.actual(),
                    c.unit(), false, c.detail() + "; the service's database errors: " + named, c.atLeast(), c.outcome(),
                    c.fix(), c.askedFor()));
        }
        return List.copyOf(out);
    }

    /** Where the violations happened: their seconds, and the faults active then. */
    static String when(List<Integer> seconds, Facts f) {
        if (seconds.isEmpty()) {
            return "";
        }
        java.util.SortedSet<Integer> distinct = new java.util.TreeSet<>(seconds);
        java.util.Set<String> faults = new java.util.TreeSet<>();
        for (int s : distinct) {
            for (FaultTimeline.Window w : f.timeline().windows()) {
                if (s >= w.fromSecond() && (w.toSecond() < 0 || s < w.toSecond())) {
                    faults.add(w.fault());
                }
            }
        }
        String list = distinct.stream().limit(12).map(String::valueOf).collect(java.util.stream.Collectors.joining(", "));
        return "; at second(s) " + list + (distinct.size() > 12 ? ", ..." : "")
                + (faults.isEmpty() ? ", with no fault active" : ", during " + String.join(", ", faults));
    }

    /**
     * Requests refused because no pooled connection became free in time. HikariCP's own timeout counter also
     * counts the waits for a database that cannot be reached (a failover, a cut link): those are outages, judged
     * by the error rate and the RTO, not exhaustion. So an application that tells the two apart (the storefront's
     * "pool exhausted" 503 counter, which only counts timeouts without a connection error behind them) is taken at
     * its word; HikariCP's counter is the fallback for one that does not, and the detail says what it includes.
     * Counted from second {@code from} on: after a warm-up, from its last sample.
     */
    private static CheckResult poolExhaustion(Facts f, int from) {
        // Without either count, the 503s clients saw can fail the check but not pass it: a pool that timed out
        // without the service answering 503 (a 500, a hung request) shows none. So it is then not judged.
        List<ProbeSample> judged = from == 0 ? f.probes()
                : f.probes().stream().filter(s -> s.second() >= from - 1).toList();
        String after = from == 0 ? "" : " after the warm-up (seconds " + from + "-)";
        double timeouts = Probes.increase(judged, ProbeSample::poolTimeouts);
        double exhausted = Probes.increase(judged, ProbeSample::poolExhaustedErrors);
        if (!Double.isNaN(exhausted)) {
            return unlessTheGeneratorsBurst(CheckResult.atMost("pool exhaustion", f.slo().poolExhaustion(), exhausted,
                    "events", "'pool exhausted' 503 responses " + CheckResult.format(exhausted) + "; HikariCP connection "
                            + "timeouts " + CheckResult.format(timeouts) + ", which also count waits for an unreachable "
                            + "database" + after), f, judged, ProbeSample::poolExhaustedErrors);
        }
        if (!Double.isNaN(timeouts)) {
            return unlessTheGeneratorsBurst(CheckResult.atMost("pool exhaustion", f.slo().poolExhaustion(), timeouts,
                    "events", "HikariCP connection timeouts " + CheckResult.format(timeouts) + "; the application does "
                            + "not tell a busy pool from an unreachable database, so both count" + after), f, judged,
                    ProbeSample::poolTimeouts);
        }
        Missing why = poolsMissing(f, "HikariCP connection timeouts");
        if (f.client503s() > f.slo().poolExhaustion()) {
            return CheckResult.atMost("pool exhaustion", f.slo().poolExhaustion(), f.client503s(), "events",
                    "503 responses seen by clients; HikariCP connection timeouts not read: " + why.reason());
        }
        return CheckResult.notJudged("pool exhaustion", f.slo().poolExhaustion(), f.client503s(), "events",
                "HikariCP connection timeouts not read: " + why.reason() + "; clients saw " + f.client503s()
                        + " 503 responses, which do not show a pool that timed out without a 503 answer", why.fix());
    }

    /**
     * Connection attempts of the service's pools that the database or its pooler refused ("too many clients"): a
     * fleet whose pools add up to more than the database takes, the storm of the seeds' autoscaled Black Friday. Counted
     * over the whole run, warm-up included: an instance's pools fill when it starts, and a refusal then is the storm.
     * Judged from the service's count of its failed connection attempts by SQLSTATE
     * ({@code storefront_db_connection_failures_total}); a service that keeps no such count does not get the check
     * (not judged would fail every run of a service that cannot have it), unless its metrics could not be read at all,
     * which the pool checks already say.
     */
    private static Optional<CheckResult> connectionRefusals(Facts f) {
        // Each instance counts from its start, before the probes' first reading: the last reading is the total.
        double total = Double.NaN;
        for (ProbeSample s : f.probes()) {
            total = Double.isNaN(s.connectionRefusals()) ? total : s.connectionRefusals();
        }
        if (Double.isNaN(total)) {
            return Optional.empty();
        }
        List<Integer> seconds = new ArrayList<>();
        double previous = 0;
        for (ProbeSample s : f.probes()) {
            if (!Double.isNaN(s.connectionRefusals())) {
                if (s.connectionRefusals() > previous) {
                    seconds.add(s.second());
                }
                previous = s.connectionRefusals();
            }
        }
        return Optional.of(CheckResult.atMost("connection refusals", f.slo().connectionRefusals(), total, "events",
                CheckResult.format(total) + " connection attempts of the service's pools were refused by the database "
                        + "(SQLSTATE 53300, too many clients) or its pooler (no more connections allowed)"
                        + when(seconds, f)));
    }

    /**
     * Faults of the plan that could not be injected: the run did not test what its plan says, so it must not pass as if
     * it had. Some are the service's own failure (an instance of a growing fleet that could not start: the seeds'
     * crash-looping autoscaled instance), others the harness's (a proxy that did not answer): the error says which.
     * Only in a run where one failed.
     */
    private static Optional<CheckResult> faultsInjected(Facts f) {
        List<String> failed = new ArrayList<>(f.timeline().events().stream()
                .filter(e -> e.kind() == FaultTimeline.Kind.ERROR && e.message().startsWith(ChaosRunner.INJECT_FAILED))
                .map(e -> e.fault() + " at second " + e.atMillis() / 1000 + ": "
                        + e.message().substring(ChaosRunner.INJECT_FAILED.length()))
                .toList());
        // A fault still being injected when it was healed (the run's end came first: a scale-out whose instances had
        // not all started) never was in place for the run to be judged on.
        for (FaultTimeline.Event start : f.timeline().events()) {
            if (start.kind() != FaultTimeline.Kind.INJECT) {
                continue;
            }
            List<FaultTimeline.Event> own = f.timeline().events().stream()
                    .filter(e -> e.fault().equals(start.fault())).toList();
            boolean erred = own.stream().anyMatch(e -> e.kind() == FaultTimeline.Kind.ERROR);
            // The timeline lists events in the order they happened: what came before the heal is its own prefix.
            int heal = -1;
            for (int i = 0; i < own.size() && heal < 0; i++) {
                heal = own.get(i).kind() == FaultTimeline.Kind.HEAL ? i : -1;
            }
            Optional<FaultTimeline.Event> healed = heal < 0 ? Optional.empty() : Optional.of(own.get(heal));
            boolean inPlaceFirst = own.subList(0, heal < 0 ? own.size() : heal).stream().anyMatch(e ->
                    e.kind() == FaultTimeline.Kind.EFFECT && e.message().startsWith(ChaosRunner.IN_PLACE));
            if (!erred && healed.isPresent() && !inPlaceFirst) {
                failed.add(start.fault() + " at second " + start.atMillis() / 1000 + ": still being injected when the "
                        + "run healed it at second " + healed.get().atMillis() / 1000);
            }
        }
        if (failed.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(CheckResult.atMost("faults injected", 0, failed.size(), "faults", "the run did not test "
                + "what its plan says: " + String.join("; ", failed)));
    }

    /**
     * Seconds after the generator fell behind in which its late arrivals still come in: an open model starts the users it
     * owes as soon as it can, so the service gets them as a burst the plan never had.
     */
    static final int CATCH_UP_SECONDS = 3;

    /**
     * A failed pool exhaustion whose every exhausted second is one in which the load generator was behind, or one of
     * the {@value #CATCH_UP_SECONDS} seconds after: the pools ran out under the burst of the generator catching up, which
     * the planned load would not have sent. Inconclusive (not judged, asked for), never a pass; exhaustion in any other
     * second keeps the failure.
     */
    private static CheckResult unlessTheGeneratorsBurst(CheckResult check, Facts f, List<ProbeSample> judged,
                                                        java.util.function.ToDoubleFunction<ProbeSample> counter) {
        if (!check.failed() || f.generator() == null || arrivalsUnreported(f)) {
            return check;
        }
        List<Integer> behind = f.generator().behind(f.slo());
        List<Integer> exhaustedAt = new ArrayList<>();
        double previous = Double.NaN;
        for (ProbeSample s : judged) {
            double v = counter.applyAsDouble(s);
            if (!Double.isNaN(v)) {
                if (!Double.isNaN(previous) && v > previous) {
                    exhaustedAt.add(s.second());
                }
                previous = v;
            }
        }
        boolean inTheBurst = !behind.isEmpty() && !exhaustedAt.isEmpty() && exhaustedAt.stream()
                .allMatch(e -> behind.stream().anyMatch(b -> e >= b && e <= b + CATCH_UP_SECONDS));
        if (!inTheBurst) {
            return check;
        }
        return CheckResult.notJudged(check.name(), check.budget(), check.actual(), check.unit(),
                GeneratorHealth.INCONCLUSIVE + f.generator().describe(behind) + ", then caught up with a burst of the "
                        + "arrivals it owed; the pools ran out only in those seconds (" + exhaustedAt.stream()
                        .map(String::valueOf).collect(java.util.stream.Collectors.joining(", ")) + "; "
                        + CheckResult.format(check.actual()) + " events), which cannot be told apart from the burst",
                GeneratorHealth.FIX);
    }

    /** What the check's fix says when no request was recorded where it looks. */
    static final String NO_REQUEST_FIX = "check that the load reached the service (Gatling's report, the service's log)";

    /** Why the probes have no {@code figure} of the service's pools: from what their scrapes found. */
    static Missing poolsMissing(Facts f, String figure) {
        if (f.metrics() == null) {
            return new Missing("no " + figure + " were sampled", "serve HikariCP's meters at " + PoolRoles.METRICS_FIELD
                    + " and name the pools' roles in " + PoolRoles.FIELD);
        }
        return f.metrics().poolsMissing().orElse(new Missing("the metrics at " + f.metrics().metricsUrl() + " list no "
                + figure + " of pools " + f.metrics().poolsText(), "serve HikariCP's meters of those pools (every "
                + "hikaricp_connections_* family)"));
    }

    /**
     * Makes the check just added inconclusive (not judged, asked for) when the load generator fell behind in any of
     * seconds [{@code from}, {@code to}): its timing would be the generator's as much as the service's. A check already
     * not judged keeps its own reason.
     */
    private static void timed(List<CheckResult> checks, Facts f, int from, int to) {
        if (!timedOut(f, from, to)) {
            return;
        }
        int last = checks.size() - 1;
        CheckResult c = checks.get(last);
        if (c.notJudged()) {
            return;
        }
        List<Integer> behind = f.generator().behind(f.slo()).stream().filter(s -> s >= from && s < to).toList();
        checks.set(last, CheckResult.notJudged(c.name(), c.budget(), c.actual(), c.unit(), GeneratorHealth.INCONCLUSIVE
                + f.generator().describe(behind) + "; measured " + CheckResult.format(c.actual()) + " " + c.unit()
                + ", which cannot be told apart from the generator's own delay", GeneratorHealth.FIX));
    }

    /** True when the load generator fell behind in any of seconds [{@code from}, {@code to}). */
    private static boolean timedOut(Facts f, int from, int to) {
        return f.generator() != null && !arrivalsUnreported(f)
                && GeneratorHealth.overlaps(f.generator().behind(f.slo()), from, to);
    }

    /**
     * A simulation whose scenario was not started with {@code Run#scenario}: its users never report their start, so
     * every planned arrival would look missing. Its generator cannot be judged on arrivals (nor its latency made
     * inconclusive by them): the check says so instead.
     */
    private static boolean arrivalsUnreported(Facts f) {
        return f.generator().started() == 0 && f.generator().planned() > 0
                && f.recorder().counts(null, 0, f.recorder().lastSecond() + 1).total() > 0;
    }

    /** A P99 check; not judged when no request {@code where} (a P99 of nothing is no latency). */
    private static void p99(List<CheckResult> checks, String name, LatencyRecorder recorder, String request, int from,
                            int to, double budgetMs, String where) {
        Histogram h = recorder.histogram(request, from, to);
        if (h.getTotalCount() == 0) {
            checks.add(CheckResult.notJudged(name, budgetMs, Double.NaN, "ms", "no request " + where, NO_REQUEST_FIX));
            return;
        }
        double p99 = h.getValueAtPercentile(99) / 1000.0;
        checks.add(CheckResult.atMost(name, budgetMs, Math.round(p99), "ms", h.getTotalCount() + " requests, seconds "
                + from + "-" + to + ", p50 " + Math.round(h.getValueAtPercentile(50) / 1000.0) + " ms, max "
                + Math.round(h.getMaxValue() / 1000.0) + " ms"));
    }

    /**
     * One check per failover's RTO. Not judged: every failover of a run whose write probe could not measure one (a
     * service of your own without {@code app.writeProbe}, or a probe write not acknowledged before the load: waiting for
     * it would report the probe's failure as the failover's), with the probe's reason and fix; and a failover whose
     * write probe never reported (its injection failed, or the run ended first), with the timeline's error.
     */
    private static void rto(List<CheckResult> checks, Facts f) {
        for (FaultTimeline.Window w : f.timeline().windows()) {
            if (CacheChecks.kindOf(w.fault()).orElse(null) != FaultKind.PRIMARY_FAILOVER) {
                continue;
            }
            List<FaultTimeline.Event> own = f.timeline().events().stream().filter(e -> e.fault().equals(w.fault())).toList();
            Optional<String> error = own.stream().filter(e -> e.kind() == FaultTimeline.Kind.ERROR)
                    .map(FaultTimeline.Event::message).findFirst();
            if (f.unmeasurableRto() != null) {
                checks.add(CheckResult.notJudged("failover RTO (" + w.fault() + ")", f.slo().failoverRtoMs(), Double.NaN,
                        "ms", "the failover's RTO could not be measured: " + f.unmeasurableRto().reason()
                                + error.map(e -> "; the failover also failed: " + e).orElse(""),
                        f.unmeasurableRto().fix()));
            } else if (own.stream().noneMatch(e -> e.effect().orElse(null) instanceof FaultEffect.Rto)) {
                checks.add(CheckResult.notJudged("failover RTO (" + w.fault() + ")", f.slo().failoverRtoMs(), Double.NaN,
                        "ms", "the failover's RTO was never measured: " + error.orElse("the run ended before the write "
                                + "probe saw a write acknowledged or gave up"), "see the fault timeline and the "
                                + "harness's log for why the failover did not complete"));
            }
        }
        if (f.unmeasurableRto() != null) {
            return;
        }
        for (FaultTimeline.Event e : f.timeline().events()) {
            if (e.effect().orElse(null) instanceof FaultEffect.Rto rto) {
                checks.add(new CheckResult("failover RTO (" + e.fault() + ")", f.slo().failoverRtoMs(), rto.millis(), "ms",
                        rto.recovered() && rto.millis() <= f.slo().failoverRtoMs(), rto.recovered()
                                ? "from the fault's start to the first write the application acknowledged"
                                : "no write was acknowledged before the probe gave up"));
                // The probe times the failover from this JVM: a generator that fell behind then timed itself too.
                int from = f.timeline().windows().stream().filter(w -> w.fault().equals(e.fault()))
                        .mapToInt(FaultTimeline.Window::fromSecond).findFirst().orElse((int) (e.atMillis() / 1000));
                timed(checks, f, from, from + (int) Math.ceil(rto.millis() / 1000.0) + 1);
            }
        }
    }

    /**
     * One check per session guarantee, each with its budget; reads explained by a lost write are not counted here. A
     * guarantee no read applied to is not judged and not asked for (see the class comment). A run without a session
     * report (none recorded at all) has none of these checks.
     */
    private static void sessionGuarantees(List<CheckResult> checks, Facts f) {
        if (f.sessions() == null) {
            return;
        }
        for (SessionReport.GuaranteeResult r : f.sessions().guarantees()) {
            if (r.reads() == 0 && r.violations() == 0) {
                checks.add(CheckResult.notJudgedUnasked(r.check(), budget(f.slo(), r.guarantee()), "reads",
                        "no read this guarantee applies to: the traffic never read a key back after "
                                + (r.guarantee() == Guarantee.MONOTONIC_READS ? "reading it" : "the same shopper wrote it"),
                        "read keys back with the consistency API (Consistency.read) if the service must keep it"));
                continue;
            }
            String what = switch (r.guarantee()) {
                case READ_YOUR_WRITES_IMMEDIATE -> " first reads after a user's own write did not show it";
                case READ_YOUR_WRITES_LATER -> " later reads no longer showed the user's own last write";
                case MONOTONIC_READS -> " reads showed an older state than the same user had already read";
            };
            String explained = r.explainedByLostWrites() == 0 ? ""
                    : "; " + r.explainedByLostWrites() + " more explained by lost writes (counted there)";
            checks.add(CheckResult.atMost(r.check(), budget(f.slo(), r.guarantee()), r.violations(), "reads",
                    r.violations() + " of " + r.reads() + what + explained
                            + when(new java.util.ArrayList<>(r.perSecond().keySet()), f)));
        }
    }

    /**
     * How long the cache kept serving a state older than an acknowledged write, against a budget that says what any
     * reader must tolerate anyway: the replication lag the run measured (a refill from a lagging replica is that
     * stale) plus a grace; never the TTL, which would excuse a cache that is never invalidated. Judged only when some
     * read was served by the cache (or whether one was is unknown).
     */
    private static void cacheStaleness(List<CheckResult> checks, Facts f) {
        CacheStaleness cache = f.cache();
        if (cache == null || !cache.judged()) {
            return;
        }
        CacheStalenessBudget budget = cacheStalenessBudget(f.slo(), f.probes());
        if (cache.error() != null) {
            checks.add(CheckResult.notJudged(CacheStaleness.CHECK, budget.ms(), Double.NaN, "ms",
                    "the history cannot be read back (" + cache.error() + "); " + budget.derivation(),
                    "see the harness's log for why the run's consistency journal could not be read"));
            return;
        }
        StringBuilder detail = new StringBuilder().append(cache.staleReads()).append(" of ").append(cache.cacheReads())
                .append(" reads served by the cache showed a state older than a write of their key acknowledged before "
                        + "they started; ").append(budget.derivation());
        CacheStaleness.Witness w = cache.worst();
        if (w != null) {
            detail.append(String.format(java.util.Locale.ROOT, "; stalest: %s read at %.3f s by process %d showed %s, "
                    + "version %d acknowledged at %.3f s (served by %s; faults active: %s)", w.key(), w.readAt(),
                    w.process(), w.shown(), w.newerVersion(), w.newerAcknowledgedAt(), w.servedBy(), w.faults()));
        }
        checks.add(CheckResult.atMost(CacheStaleness.CHECK, budget.ms(), cache.worstMs(), "ms", detail.toString()));
    }

    /** Less WAL than this not yet replayed is the server's own housekeeping, not writes the replica lags behind on. */
    static final long BACKGROUND_WAL_BYTES = 1024;

    /** The cache staleness budget in ms and how it was arrived at, for the check's detail. */
    record CacheStalenessBudget(double ms, String derivation) {
    }

    static CacheStalenessBudget cacheStalenessBudget(Environment.Slo slo, List<ProbeSample> probes) {
        Double set = slo.cacheStalenessMs();
        if (set != null) {
            return new CacheStalenessBudget(set, "budget " + SloBudget.CACHE_STALENESS_MS.path());
        }
        java.util.OptionalLong lag = worstLagBehindWrites(probes);
        long grace = slo.cacheStalenessGraceMs();
        return new CacheStalenessBudget(lag.orElse(0) + grace, "budget: the worst replication lag the probes measured while the replica was behind by writes ("
                + (lag.isPresent() ? lag.getAsLong() + " ms" : "none measured: 0 ms") + ") + "
                + SloBudget.CACHE_STALENESS_GRACE_MS.path() + " (" + grace + " ms)");
    }

    /**
     * The worst replication lag of the run, in ms, counting only what the shoppers' writes can have waited for.
     * <ul>
     *   <li>Only seconds when the replica was behind by more than the server's own background WAL
     *       ({@value #BACKGROUND_WAL_BYTES} bytes: a standby snapshot every 15 s, a checkpoint record).</li>
     *   <li>No more than the time since the replica was last seen caught up: the measured lag is the age of its last
     *       replayed commit, which on a primary without writes grows by the second although nothing is missing,
     *       and a little housekeeping WAL in flight (autovacuum) would then pass for a lag of the whole quiet tail.</li>
     * </ul>
     */
    static java.util.OptionalLong worstLagBehindWrites(List<ProbeSample> probes) {
        long worst = -1;
        int caughtUpAt = Integer.MIN_VALUE;
        for (ProbeSample p : probes) {
            if (p.lagMillis() < 0) {
                continue; // not measured that second
            }
            if (p.lagBytes() < BACKGROUND_WAL_BYTES) {
                caughtUpAt = p.second();
                continue;
            }
            long bound = caughtUpAt == Integer.MIN_VALUE ? p.lagMillis()
                    : Math.min(p.lagMillis(), (p.second() - caughtUpAt + 1) * 1000L);
            worst = Math.max(worst, bound);
        }
        return worst < 0 ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(worst);
    }

    static long budget(Environment.Slo slo, Guarantee g) {
        return switch (g) {
            case READ_YOUR_WRITES_IMMEDIATE -> slo.readYourWritesImmediate();
            case READ_YOUR_WRITES_LATER -> slo.readYourWritesLater();
            case MONOTONIC_READS -> slo.monotonicReads();
        };
    }

    /**
     * The write audit's checks. A simulation that wrote nothing has none (nothing to lose); an audit that could not
     * read the database is not judged (asked for: the run wrote), and neither is the ghost-write count it would have
     * made.
     */
    private static void lostWrites(List<CheckResult> checks, Facts f) {
        WriteLedger.Audit audit = f.writes();
        if (audit == null || audit.isEmpty()) {
            return;
        }
        if (audit.error() != null) {
            String fix = "make the current primary reachable from the harness once the faults healed (external "
                    + "environments: database.writerUrl)";
            checks.add(CheckResult.notJudged("lost acknowledged writes", f.slo().lostWrites(), Double.NaN, "writes",
                    "could not audit " + audit.acknowledged() + " acknowledged writes: " + audit.error(), fix));
            checks.add(CheckResult.notJudged("ghost writes", f.slo().ghostWrites(), Double.NaN, "writes",
                    "the audit that finds them could not run: " + audit.error(), fix));
            return;
        }
        StringBuilder detail = new StringBuilder();
        for (WriteLedger.KindAudit k : audit.kinds()) {
            detail.append(detail.length() == 0 ? "" : ", ").append(k.kind()).append(' ').append(k.lost()).append(" of ")
                    .append(k.acknowledged());
        }
        detail.append(" acknowledged, looked up by their client-chosen identity on the current primary; ")
                .append(audit.inDoubt()).append(" in doubt (no answer or 5xx), not counted: ")
                .append(audit.kinds().stream().mapToLong(WriteLedger.KindAudit::inDoubtCommitted).sum())
                .append(" of them committed");
        if (f.sessions() != null && f.sessions().explainedByLostWrites() > 0) {
            detail.append("; ").append(f.sessions().explainedByLostWrites())
                    .append(" stale reads are explained by lost writes");
        }
        List<WriteLedger.Named> lost = audit.lostWrites();
        if (!lost.isEmpty()) {
            detail.append("; first lost ").append(lost.stream().limit(5).map(WriteLedger.Named::key).toList())
                    .append(", acknowledged").append(when(lost.stream().map(n -> (int) Math.floor(n.completedAt())).toList(), f)
                            .replaceFirst("^; ", " "));
        }
        checks.add(CheckResult.atMost("lost acknowledged writes", f.slo().lostWrites(), audit.lost(), "writes",
                detail.toString()));
        long failed = audit.kinds().stream().mapToLong(WriteLedger.KindAudit::failed).sum();
        checks.add(CheckResult.atMost("ghost writes", f.slo().ghostWrites(), audit.ghosts(), "writes", audit.ghosts()
                + " of " + failed + " writes answered with an error (4xx) were committed all the same"
                + (audit.ghosts() > 0 ? ": " + audit.kinds().stream().flatMap(k -> k.ghostWrites().stream()).limit(5)
                        .map(WriteLedger.Named::key).toList() : "")));
    }

    /**
     * The stock invariant: no unit leaves without an order, none is sold twice, stock never below zero. None where the
     * stock is not tracked (an external database that other traffic orders from too, a quick end); not judged when
     * the stock could not be read.
     */
    private static void stock(List<CheckResult> checks, Facts f) {
        Inventory.StockAudit stock = f.stock();
        if (stock == null) {
            return;
        }
        if (stock.error() != null) {
            checks.add(CheckResult.notJudged("stock invariant", 0, Double.NaN, "products", stock.error(),
                    "see the harness's log for why the stock could not be read"));
            return;
        }
        String detail = "for every product on the current primary, stock before the load = stock now + units in "
                + "the users' orders present there (" + stock.products() + " products); " + stock.oversoldUnits()
                + " units oversold, " + stock.belowZero() + " products below zero; " + stock.outOfStockAnswers()
                + " checkouts answered out_of_stock" + (stock.doorbusters().isEmpty() ? ""
                : "; doorbusters sold out " + stock.soldOut() + " of " + stock.doorbusters().size())
                + (stock.firstBroken().isEmpty() ? "" : "; first broken: " + stock.firstBroken().stream().limit(3)
                        .map(p -> "product " + p.product() + " " + p.initial() + " before, " + p.current() + " now, "
                                + p.unitsPresent() + " in orders").toList());
        checks.add(CheckResult.atMost("stock invariant", 0, stock.broken(), "products", detail));
    }

    /** Name of the soak's leak check. */
    public static final String POOL_ACTIVE_GROWTH = "pool active growth";
    /** The share of requests that failed, after the warm-up. */
    public static final String ERROR_RATE = "error rate";
    /** Name of the soak's latency creep check. */
    public static final String P99_DRIFT = "p99 drift";

    /**
     * A soak's drift: first fifth against last. Both checks are asked for by the soak, so a window without requests
     * or without pool samples makes them not judged (a leak the probes could not see is not an absent leak).
     */
    private static void drift(List<CheckResult> checks, Facts f, int end) {
        int window = Math.max(1, (int) (end * DRIFT_WINDOW_SHARE));
        Histogram first = f.recorder().histogram(null, 0, window);
        Histogram last = f.recorder().histogram(null, end - window, end);
        if (first.getTotalCount() > 0 && last.getTotalCount() > 0) {
            double p99First = Math.max(1, first.getValueAtPercentile(99)) / 1000.0;
            double p99Last = last.getValueAtPercentile(99) / 1000.0;
            checks.add(CheckResult.atMost(P99_DRIFT, f.slo().soakP99DriftRatio(), round2(p99Last / p99First), "x",
                    "p99 of the last " + window + " s " + Math.round(p99Last) + " ms vs the first " + window + " s "
                            + Math.round(p99First) + " ms"));
            if (timedOut(f, 0, window) || timedOut(f, end - window, end)) {
                timed(checks, f, 0, end);
            }
        } else {
            checks.add(CheckResult.notJudged(P99_DRIFT, f.slo().soakP99DriftRatio(), Double.NaN, "x", "no request in the "
                    + (first.getTotalCount() == 0 ? "first " : "last ") + window + " s of the soak", NO_REQUEST_FIX));
        }
        OptionalDouble firstActive = meanActive(f.probes(), 0, window);
        OptionalDouble lastActive = meanActive(f.probes(), end - window, end);
        if (firstActive.isPresent() && lastActive.isPresent()) {
            double growth = round2(lastActive.getAsDouble() - firstActive.getAsDouble());
            checks.add(CheckResult.atMost(POOL_ACTIVE_GROWTH, f.slo().soakPoolActiveGrowth(), growth, "connections",
                    "mean active connections (every pool with a role) "
                            + CheckResult.format(round2(firstActive.getAsDouble())) + " in the first " + window + " s, "
                            + CheckResult.format(round2(lastActive.getAsDouble()))
                            + " in the last: a steady climb means connections are not returned"));
        } else {
            boolean none = meanActive(f.probes(), 0, end).isEmpty();
            Missing why = none ? poolsMissing(f, "active connections")
                    : new Missing("no pool sample in the " + (firstActive.isEmpty() ? "first " : "last ") + window
                            + " s of the soak (the metrics could not be read then)",
                            "keep the service's metrics endpoint answering during the whole soak");
            checks.add(CheckResult.notJudged(POOL_ACTIVE_GROWTH, f.slo().soakPoolActiveGrowth(), Double.NaN,
                    "connections", why.reason(), why.fix()));
        }
    }

    /**
     * Mean active connections over the seconds [from, to), over every pool with a role: a service with a writer pool
     * only (most of them) has no reader figure, which then counts for nothing. A sample with no figure is skipped.
     */
    private static OptionalDouble meanActive(List<ProbeSample> probes, int from, int to) {
        return probes.stream().filter(s -> s.second() >= from && s.second() < to)
                .filter(s -> !Double.isNaN(s.writerActive()) || !Double.isNaN(s.readerActive()))
                .mapToDouble(s -> nanToZero(s.writerActive()) + nanToZero(s.readerActive())).average();
    }

    private static double nanToZero(double v) {
        return Double.isNaN(v) ? 0 : v;
    }

    private static double round2(double v) {
        return Math.round(v * 100) / 100.0;
    }
}
