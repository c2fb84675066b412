package dev.doorbuster.verdict;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.ToDoubleFunction;

import dev.doorbuster.chaos.FaultEffect;
import dev.doorbuster.chaos.FaultKind;
import dev.doorbuster.chaos.FaultTimeline;
import dev.doorbuster.topology.Environment;
import dev.doorbuster.topology.PoolRoles;
import dev.doorbuster.verdict.probes.CacheSample;

/**
 * What the cache tier's faults did to the database, from the per-second counters ({@link CacheSample}): pure, so every
 * case is testable on constructed samples.
 * <ul>
 *   <li><b>database amplification during a cache fault</b> (reported): the database reads per second while a cache
 *       outage, black hole or slowdown was on, over those of the minute before. The consequences are judged by the
 *       existing checks (P99, pool exhaustion, errors); this says why.</li>
 *   <li><b>time to warm</b> (judged): after a cold restart, the seconds until the hit ratio is back within 10% of the
 *       minute before's.</li>
 *   <li><b>origin fetches per expiry</b> (judged): database reads of product pages in the two seconds after the hot
 *       keys expired, above the rate before, per key that expired. With single-flight it is about 1; a stampede is
 *       many.</li>
 * </ul>
 */
public final class CacheChecks {
    /** The check judging {@link FaultKind#HOT_KEY_EXPIRY}. */
    public static final String ORIGIN_FETCHES = "origin fetches per expiry";
    /** The check judging {@link FaultKind#CACHE_FLUSH}. */
    public static final String TIME_TO_WARM = "time to warm";
    /** Seconds before a fault its baseline is taken over, at most. */
    static final int BASELINE_SECONDS = 60;
    /** Seconds after an expiry its origin fetches are counted over: the herd arrives within the first. */
    static final int EXPIRY_SECONDS = 2;
    /** Warm: a hit ratio of at least this share of the one before the restart. */
    static final double WARM_SHARE = 0.9;

    private CacheChecks() {
    }

    /**
     * Database reads per second during one cache fault, against the minute before.
     *
     * @param readsPerSecondBefore the database reads a second before the fault (its baseline)
     * @param readsPerSecondDuring the same while it was on
     * @param redisHitsPerSecondBefore Redis's own hits a second before the fault ({@code INFO stats}): the reads the
     *                             cache absorbed, which the database must take when it goes
     */
    public record Amplification(String fault, int fromSecond, int toSecond, double readsPerSecondBefore,
                                double readsPerSecondDuring, double redisHitsPerSecondBefore) {
        /** During over before (NaN without a baseline). */
        public double ratio() {
            return readsPerSecondBefore > 0 ? readsPerSecondDuring / readsPerSecondBefore : Double.NaN;
        }
    }

    /**
     * @param hitRatioBefore the application's hits over hits and misses in the minute before the restart
     * @param secondsToWarm  seconds from the restart until a second's hit ratio was back within 10% of it; -1: never
     *                       before the run ended
     */
    public record Warmup(String fault, int atSecond, double hitRatioBefore, int secondsToWarm) {
    }

    /**
     * @param originFetches database reads of product pages in the {@value #EXPIRY_SECONDS} s after the expiry, above
     *                      the rate before
     * @param keys          keys that were cached and expired
     */
    public record Expiry(String fault, int atSecond, double originFetches, int keys) {
        public double perKey() {
            return keys > 0 ? originFetches / keys : Double.NaN;
        }
    }

    /**
     * The cache tier over a run: totals from both witnesses, each cache fault's measure, and per second (index = the
     * run's second) the application's hit ratio (hits over hits, misses and errors; NaN without lookups) and the
     * database reads of its cacheable endpoints, for the report's charts.
     */
    public record Report(double lookupHits, double lookupMisses, double lookupErrors, double databaseReads,
                         double redisHits, double redisMisses, List<Amplification> amplifications,
                         List<Warmup> warmups, List<Expiry> expiries, List<Double> hitRatioPerSecond,
                         List<Double> databaseReadsPerSecond) {
        /** The application's hit ratio over the run (NaN without lookups). */
        public double hitRatio() {
            double lookups = lookupHits + lookupMisses + lookupErrors;
            return lookups > 0 ? lookupHits / lookups : Double.NaN;
        }
    }

    /**
     * The cache report of a run, or empty when it had no cache tier (no samples): then no cache check applies, since a
     * cache fault is refused before the run starts without one. A run with a cache tier has a sample every second,
     * its unreadable counters NaN, so its checks are made and say what they could not read.
     */
    public static Optional<Report> measure(FaultTimeline timeline, List<CacheSample> samples) {
        if (samples.isEmpty()) {
            return Optional.empty();
        }
        CacheSample last = samples.get(samples.size() - 1);
        List<Amplification> amplifications = new ArrayList<>();
        List<Warmup> warmups = new ArrayList<>();
        List<Expiry> expiries = new ArrayList<>();
        for (FaultTimeline.Window w : timeline.windows()) {
            FaultKind kind = kindOf(w.fault()).orElse(null);
            if (kind == null) {
                continue;
            }
            int to = w.toSecond() < 0 ? last.second() : Math.max(w.toSecond(), w.fromSecond() + 1);
            switch (kind) {
                case CACHE_DOWN, CACHE_BLACKHOLE, CACHE_LATENCY -> amplifications.add(new Amplification(w.fault(),
                        w.fromSecond(), to, rateBefore(samples, w.fromSecond(), CacheSample::databaseReads),
                        rate(samples, w.fromSecond(), to, CacheSample::databaseReads),
                        rateBefore(samples, w.fromSecond(), CacheSample::redisHits)));
                case CACHE_FLUSH -> warmups.add(warmup(samples, w.fault(), w.fromSecond()));
                case HOT_KEY_EXPIRY -> expiries.add(expiry(samples, timeline, w.fault(), w.fromSecond()));
                default -> {
                }
            }
        }
        return Optional.of(new Report(increase(samples, CacheSample::lookupHits),
                increase(samples, CacheSample::lookupMisses), increase(samples, CacheSample::lookupErrors),
                increase(samples, CacheSample::databaseReads), increase(samples, CacheSample::redisHits),
                increase(samples, CacheSample::redisMisses), List.copyOf(amplifications), List.copyOf(warmups),
                List.copyOf(expiries), perSecond(samples, true), perSecond(samples, false)));
    }

    /** Per second from consecutive readable samples: the hit ratio, or the database reads. */
    private static List<Double> perSecond(List<CacheSample> samples, boolean hitRatio) {
        int seconds = samples.get(samples.size() - 1).second() + 1;
        Double[] values = new Double[Math.max(0, seconds)];
        java.util.Arrays.fill(values, Double.NaN);
        for (int i = 1; i < samples.size(); i++) {
            CacheSample a = samples.get(i - 1);
            CacheSample b = samples.get(i);
            if (Double.isNaN(a.databaseReads()) || Double.isNaN(b.databaseReads()) || b.second() <= a.second()) {
                continue;
            }
            double span = b.second() - a.second();
            double value;
            if (hitRatio) {
                double hits = b.lookupHits() - a.lookupHits();
                double lookups = hits + b.lookupMisses() - a.lookupMisses() + b.lookupErrors() - a.lookupErrors();
                value = lookups > 0 ? hits / lookups : Double.NaN;
            } else {
                value = (b.databaseReads() - a.databaseReads()) / span;
            }
            values[a.second()] = value;
        }
        return List.of(values);
    }

    /**
     * The judged checks of {@code report}: one per hot-key expiry and one per cold restart, each asked for by the
     * simulation's fault. Without their input they are not judged: an expiry of keys that were not cached, or whose
     * database reads could not be read, measured nothing; a restart with no lookup in the minute before has no hit
     * ratio to come back to. A restart after which the hit ratio never came back (or could never be read again, the
     * service's metrics gone with it) fails: the cache was not warm again while the run watched.
     */
    public static List<CheckResult> checks(Report report, Environment.Slo slo) {
        List<CheckResult> checks = new ArrayList<>();
        for (Expiry e : report.expiries()) {
            String detail = String.format(Locale.ROOT, "%s at %d s: %.0f database reads of product pages in the %d s "
                            + "after %d cached hot key(s) expired, above the rate before", e.fault(), e.atSecond(),
                    e.originFetches(), EXPIRY_SECONDS, e.keys());
            if (e.keys() == 0) {
                checks.add(CheckResult.notJudged(ORIGIN_FETCHES, slo.originFetchesPerExpiry(), Double.NaN, "reads",
                        detail + "; no hot key was cached when the fault hit, so nothing was measured",
                        "schedule the expiry after the keys were read"));
            } else if (Double.isNaN(e.originFetches())) {
                checks.add(CheckResult.notJudged(ORIGIN_FETCHES, slo.originFetchesPerExpiry(), Double.NaN, "reads",
                        e.fault() + " at " + e.atSecond() + " s: the service's database reads could not be read around "
                                + "the expiry", "serve the cache tier's meters at " + PoolRoles.METRICS_FIELD
                                + " during the whole run"));
            } else {
                checks.add(CheckResult.atMost(ORIGIN_FETCHES, slo.originFetchesPerExpiry(),
                        Math.round(e.perKey() * 100) / 100.0, "reads", detail));
            }
        }
        for (Warmup w : report.warmups()) {
            String before = String.format(Locale.ROOT, "hit ratio %.1f%% the minute before", 100 * w.hitRatioBefore());
            if (Double.isNaN(w.hitRatioBefore())) {
                checks.add(CheckResult.notJudged(TIME_TO_WARM, slo.timeToWarmSeconds(), Double.NaN, "s",
                        w.fault() + " at " + w.atSecond() + " s: no cache lookups in the minute before, so there is no "
                                + "hit ratio to come back to", "schedule the restart after a minute of cached reads"));
            } else if (w.secondsToWarm() < 0) {
                checks.add(new CheckResult(TIME_TO_WARM, slo.timeToWarmSeconds(), Double.POSITIVE_INFINITY, "s", false,
                        w.fault() + " at " + w.atSecond() + " s: never back within 10% of the " + before
                                + " before the run ended"));
            } else {
                checks.add(CheckResult.atMost(TIME_TO_WARM, slo.timeToWarmSeconds(), w.secondsToWarm(), "s",
                        w.fault() + " at " + w.atSecond() + " s; " + before));
            }
        }
        return checks;
    }

    /** The fault kind of a timeline label ({@code F2 CacheBlackhole}). */
    static Optional<FaultKind> kindOf(String label) {
        int space = label.indexOf(' ');
        return FaultKind.named(space < 0 ? label : label.substring(space + 1));
    }

    /**
     * The hit ratio counts hits over hits and misses: a lookup that failed (the cache away) says nothing about whether
     * the key was there, so a cache fault just before the restart does not lower the ratio to come back to.
     */
    private static Warmup warmup(List<CacheSample> samples, String fault, int at) {
        int from = Math.max(0, at - BASELINE_SECONDS);
        double hitsBefore = deltaOver(samples, from, at, CacheSample::lookupHits);
        double lookupsBefore = hitsBefore + deltaOver(samples, from, at, CacheSample::lookupMisses);
        double ratioBefore = lookupsBefore > 0 ? hitsBefore / lookupsBefore : Double.NaN;
        if (Double.isNaN(ratioBefore)) {
            return new Warmup(fault, at, ratioBefore, -1);
        }
        for (int i = 1; i < samples.size(); i++) {
            CacheSample previous = samples.get(i - 1);
            CacheSample now = samples.get(i);
            if (previous.second() < at || Double.isNaN(previous.lookupHits()) || Double.isNaN(now.lookupHits())) {
                continue;
            }
            double hits = now.lookupHits() - previous.lookupHits();
            double lookups = hits + now.lookupMisses() - previous.lookupMisses();
            if (lookups > 0 && hits / lookups >= WARM_SHARE * ratioBefore) {
                return new Warmup(fault, at, ratioBefore, now.second() - at);
            }
        }
        return new Warmup(fault, at, ratioBefore, -1);
    }

    private static Expiry expiry(List<CacheSample> samples, FaultTimeline timeline, String fault, int at) {
        int keys = timeline.events().stream().filter(e -> e.fault().equals(fault))
                .flatMap(e -> e.effect().stream()).filter(FaultEffect.KeysExpired.class::isInstance)
                .map(FaultEffect.KeysExpired.class::cast).mapToInt(FaultEffect.KeysExpired::count).findFirst().orElse(0);
        double baseline = rateBefore(samples, at, CacheSample::productReads);
        double after = deltaOver(samples, at, at + EXPIRY_SECONDS, CacheSample::productReads);
        double fetches = Double.isNaN(after) ? Double.NaN
                : Math.max(0, after - (Double.isNaN(baseline) ? 0 : baseline) * EXPIRY_SECONDS);
        return new Expiry(fault, at, fetches, keys);
    }

    /** Per second over the {@value #BASELINE_SECONDS} s (at most) before second {@code at}. */
    private static double rateBefore(List<CacheSample> samples, int at, ToDoubleFunction<CacheSample> counter) {
        return rate(samples, Math.max(0, at - BASELINE_SECONDS), at, counter);
    }

    /** Increase per second of {@code counter} over seconds [from, to), from the samples nearest those bounds. */
    private static double rate(List<CacheSample> samples, int from, int to, ToDoubleFunction<CacheSample> counter) {
        CacheSample start = atOrBefore(samples, from);
        CacheSample end = atOrBefore(samples, to);
        if (start == null || end == null || end.second() <= start.second()) {
            return Double.NaN;
        }
        return (counter.applyAsDouble(end) - counter.applyAsDouble(start)) / (end.second() - start.second());
    }

    /** Increase of {@code counter} over seconds [from, to). */
    private static double deltaOver(List<CacheSample> samples, int from, int to, ToDoubleFunction<CacheSample> counter) {
        CacheSample start = atOrBefore(samples, from);
        CacheSample end = atOrBefore(samples, to);
        if (start == null || end == null) {
            return Double.NaN;
        }
        return counter.applyAsDouble(end) - counter.applyAsDouble(start);
    }

    /**
     * The last sample taken at or before {@code second} whose application counters were read (NaN samples are
     * skipped); the first readable one when none was taken that early (the run's first second).
     */
    private static CacheSample atOrBefore(List<CacheSample> samples, int second) {
        CacheSample found = null;
        for (CacheSample s : samples) {
            if (Double.isNaN(s.databaseReads())) {
                continue;
            }
            if (s.second() > second) {
                return found != null ? found : s;
            }
            found = s;
        }
        return found;
    }

    /**
     * The total increase of a cumulative counter over the run, from consecutive readable samples; a counter that went
     * down restarted from 0 (Redis after a cold restart), so its new value is the increase.
     */
    static double increase(List<CacheSample> samples, ToDoubleFunction<CacheSample> counter) {
        double total = 0;
        double previous = Double.NaN;
        for (CacheSample s : samples) {
            double value = counter.applyAsDouble(s);
            if (Double.isNaN(value)) {
                continue;
            }
            if (!Double.isNaN(previous)) {
                total += value >= previous ? value - previous : value;
            }
            previous = value;
        }
        return total;
    }
}
