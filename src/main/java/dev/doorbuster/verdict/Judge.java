package dev.doorbuster.verdict;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;

import dev.doorbuster.chaos.FaultEffect;
import dev.doorbuster.chaos.FaultTimeline;
import dev.doorbuster.topology.Environment;
import dev.doorbuster.topology.SloBudget;
import dev.doorbuster.verdict.consistency.CacheStaleness;
import dev.doorbuster.verdict.consistency.Guarantee;
import dev.doorbuster.verdict.consistency.Inventory;
import dev.doorbuster.verdict.consistency.SessionReport;
import dev.doorbuster.verdict.consistency.WriteLedger;
import dev.doorbuster.verdict.probes.ProbeSample;
import dev.doorbuster.verdict.probes.Probes;
import dev.doorbuster.verdict.recording.LatencyRecorder;
import org.HdrHistogram.Histogram;

/**
 * Turns what was recorded during a run into checks against the environment's SLO budgets. A check
 * appears only where it could be measured: no RTO check without a failover, no phase check for a phase
 * without requests, no lost-write check without writes.
 */
public final class Judge {
    /** Soaks compare their first and last windows, each this share of the run. */
    static final double DRIFT_WINDOW_SHARE = 0.2;

    /**
     * Everything the checks look at.
     *
     * @param cache the staleness of the reads the cache tier answered (null: not measured)
     */
    public record Facts(JudgingMode mode, Environment.Slo slo, int requestTimeoutMs, LatencyRecorder recorder,
                        List<Phase> phases, FaultTimeline timeline, List<ProbeSample> probes, SessionReport sessions,
                        long violatingReads, long client503s, WriteLedger.Audit writes, Inventory.StockAudit stock,
                        CacheStaleness cache) {
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
        if (f.mode() == JudgingMode.OVERLOAD) {
            // Under a deliberate overload, errors and latency budgets cannot hold: gracefulness is judged instead.
            overload(checks, f, end);
        } else {
            checks.add(poolExhaustion(f));
            LatencyRecorder.Counts all = f.recorder().counts(null, 0, end);
            checks.add(CheckResult.atMost("error rate", slo.errorRatePercent(), round2(all.errorPercent()), "%",
                    all.ko() + " of " + all.total() + " requests failed"));
            p99(checks, "p99", f.recorder(), null, 0, end, slo.p99Ms());
            for (String name : f.recorder().names()) {
                p99(checks, "p99 " + name, f.recorder(), name, 0, end, slo.p99MsPerRequest().getOrDefault(name, slo.p99Ms()));
            }
            for (FaultTimeline.Window w : f.timeline().windows()) {
                int to = w.toSecond() < 0 ? end : Math.max(w.toSecond(), w.fromSecond() + 1);
                p99(checks, "p99 during " + w.fault(), f.recorder(), null, w.fromSecond(), to, slo.p99MsDuringFaults());
            }
            for (Phase phase : f.phases()) {
                p99(checks, "p99 during " + phase.name(), f.recorder(), null, phase.fromSecond(),
                        Math.min(phase.toSecond(), end), slo.p99Ms());
            }
            for (SecondCompliance.Window w : SecondCompliance.evaluate(f.recorder(), slo, end)) {
                checks.add(SecondCompliance.check(w, when(w.failingSeconds(), f)));
            }
        }
        rto(checks, f);
        lostWrites(checks, f);
        stock(checks, f);
        if (f.mode() == JudgingMode.SOAK) {
            drift(checks, f, end);
        }
        return checks;
    }

    private static void overload(List<CheckResult> checks, Facts f, int end) {
        double saturation = Math.max(nanToZero(Probes.increase(f.probes(), ProbeSample::poolTimeouts)),
                Math.max(nanToZero(Probes.increase(f.probes(), ProbeSample::poolExhaustedErrors)), f.client503s()));
        checks.add(CheckResult.atLeast("pools saturated", 1, saturation, "events",
                "the ramp must drive the pools into exhaustion, or this run proved nothing about overload"));
        LatencyRecorder.Counts counts = f.recorder().counts(null, 0, end);
        long ungraceful = Math.max(0, counts.ko() - f.client503s() - f.violatingReads());
        checks.add(CheckResult.atMost("failures other than 503", f.slo().errorRatePercent(),
                counts.total() == 0 ? 0 : round2(100.0 * ungraceful / counts.total()), "%", ungraceful + " of " + counts.total()
                        + " requests failed without a 503 answer (a graceful overload refuses with 503 + Retry-After; "
                        + f.client503s() + " did)"));
        Histogram all = f.recorder().histogram(null, 0, end);
        double maxMs = Math.round(all.getMaxValue() / 1000.0);
        checks.add(CheckResult.atMost("no hung request", f.requestTimeoutMs() + HANG_SLACK_MS, maxMs, "ms",
                "slowest request of " + all.getTotalCount() + "; the application bounds requests at "
                        + f.requestTimeoutMs() + " ms, so anything longer hung"));
        f.phases().stream().filter(p -> p.name().equals(RECOVERY_PHASE)).findFirst().ifPresent(p -> {
            // The first seconds of the recovery phase still drain the overload's queue.
            int from = p.fromSecond() + Math.max(1, (p.toSecond() - p.fromSecond()) / 3);
            int to = Math.min(p.toSecond(), end);
            LatencyRecorder.Counts recovery = f.recorder().counts(null, from, to);
            checks.add(CheckResult.atMost("errors after recovery", f.slo().errorRatePercent(),
                    round2(recovery.errorPercent()), "%", recovery.ko() + " of " + recovery.total()
                            + " requests failed once the load had dropped (seconds " + from + "-" + to + ")"));
            p99(checks, "p99 after recovery", f.recorder(), null, from, to, f.slo().p99Ms());
        });
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
     */
    private static CheckResult poolExhaustion(Facts f) {
        double timeouts = Probes.increase(f.probes(), ProbeSample::poolTimeouts);
        double exhausted = Probes.increase(f.probes(), ProbeSample::poolExhaustedErrors);
        if (!Double.isNaN(exhausted)) {
            return CheckResult.atMost("pool exhaustion", f.slo().poolExhaustion(), exhausted, "events",
                    "'pool exhausted' 503 responses " + CheckResult.format(exhausted) + "; HikariCP connection timeouts "
                            + CheckResult.format(timeouts) + ", which also count waits for an unreachable database");
        }
        if (!Double.isNaN(timeouts)) {
            return CheckResult.atMost("pool exhaustion", f.slo().poolExhaustion(), timeouts, "events",
                    "HikariCP connection timeouts " + CheckResult.format(timeouts) + "; the application does not tell "
                            + "a busy pool from an unreachable database, so both count");
        }
        return CheckResult.atMost("pool exhaustion", f.slo().poolExhaustion(), f.client503s(), "events",
                "503 responses seen by clients (the application exposes no pool metrics)");
    }

    private static void p99(List<CheckResult> checks, String name, LatencyRecorder recorder, String request, int from,
                            int to, double budgetMs) {
        Histogram h = recorder.histogram(request, from, to);
        if (h.getTotalCount() == 0) {
            return;
        }
        double p99 = h.getValueAtPercentile(99) / 1000.0;
        checks.add(CheckResult.atMost(name, budgetMs, Math.round(p99), "ms", h.getTotalCount() + " requests, seconds "
                + from + "-" + to + ", p50 " + Math.round(h.getValueAtPercentile(50) / 1000.0) + " ms, max "
                + Math.round(h.getMaxValue() / 1000.0) + " ms"));
    }

    private static void rto(List<CheckResult> checks, Facts f) {
        for (FaultTimeline.Event e : f.timeline().events()) {
            if (e.effect().orElse(null) instanceof FaultEffect.Rto rto) {
                checks.add(new CheckResult("failover RTO (" + e.fault() + ")", f.slo().failoverRtoMs(), rto.millis(), "ms",
                        rto.recovered() && rto.millis() <= f.slo().failoverRtoMs(), rto.recovered()
                                ? "from the fault's start to the first write the application acknowledged"
                                : "no write was acknowledged before the probe gave up"));
            }
        }
    }

    /** One check per session guarantee, each with its budget; reads explained by a lost write are not counted here. */
    private static void sessionGuarantees(List<CheckResult> checks, Facts f) {
        if (f.sessions() == null) {
            return;
        }
        for (SessionReport.GuaranteeResult r : f.sessions().guarantees()) {
            if (r.reads() == 0 && r.violations() == 0) {
                continue; // nothing read twice, nothing to judge
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
            checks.add(new CheckResult(CacheStaleness.CHECK, budget.ms(), Double.NaN, "ms", false,
                    "not evaluated: the history cannot be read back (" + cache.error() + "); " + budget.derivation()));
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

    private static void lostWrites(List<CheckResult> checks, Facts f) {
        WriteLedger.Audit audit = f.writes();
        if (audit == null || audit.isEmpty()) {
            return;
        }
        if (audit.error() != null) {
            checks.add(new CheckResult("lost acknowledged writes", f.slo().lostWrites(), Double.NaN, "writes", false,
                    "could not audit " + audit.acknowledged() + " acknowledged writes: " + audit.error()));
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

    /** The stock invariant: no unit leaves without an order, none is sold twice, stock never below zero. */
    private static void stock(List<CheckResult> checks, Facts f) {
        Inventory.StockAudit stock = f.stock();
        if (stock == null) {
            return;
        }
        if (stock.error() != null) {
            checks.add(new CheckResult("stock invariant", 0, Double.NaN, "products", false, "not evaluated: "
                    + stock.error()));
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

    private static void drift(List<CheckResult> checks, Facts f, int end) {
        int window = Math.max(1, (int) (end * DRIFT_WINDOW_SHARE));
        Histogram first = f.recorder().histogram(null, 0, window);
        Histogram last = f.recorder().histogram(null, end - window, end);
        if (first.getTotalCount() > 0 && last.getTotalCount() > 0) {
            double p99First = Math.max(1, first.getValueAtPercentile(99)) / 1000.0;
            double p99Last = last.getValueAtPercentile(99) / 1000.0;
            checks.add(CheckResult.atMost("p99 drift", f.slo().soakP99DriftRatio(), round2(p99Last / p99First), "x",
                    "p99 of the last " + window + " s " + Math.round(p99Last) + " ms vs the first " + window + " s "
                            + Math.round(p99First) + " ms"));
        }
        OptionalDouble firstActive = meanActive(f.probes(), 0, window);
        OptionalDouble lastActive = meanActive(f.probes(), end - window, end);
        if (firstActive.isPresent() && lastActive.isPresent()) {
            double growth = round2(lastActive.getAsDouble() - firstActive.getAsDouble());
            checks.add(CheckResult.atMost("pool active growth", f.slo().soakPoolActiveGrowth(), growth, "connections",
                    "mean active connections (both pools) " + CheckResult.format(round2(firstActive.getAsDouble()))
                            + " in the first " + window + " s, " + CheckResult.format(round2(lastActive.getAsDouble()))
                            + " in the last: a steady climb means connections are not returned"));
        }
    }

    private static OptionalDouble meanActive(List<ProbeSample> probes, int from, int to) {
        return probes.stream().filter(s -> s.second() >= from && s.second() < to)
                .filter(s -> !Double.isNaN(s.writerActive()) && !Double.isNaN(s.readerActive()))
                .mapToDouble(s -> s.writerActive() + s.readerActive()).average();
    }

    private static double nanToZero(double v) {
        return Double.isNaN(v) ? 0 : v;
    }

    private static double round2(double v) {
        return Math.round(v * 100) / 100.0;
    }
}
