package dev.doorbuster.verdict;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.doorbuster.chaos.FaultEffect;
import dev.doorbuster.chaos.FaultTimeline;
import dev.doorbuster.topology.Environment;
import dev.doorbuster.topology.SloBudget;
import dev.doorbuster.verdict.probes.CacheSample;
import org.junit.jupiter.api.Test;

/**
 * The cache tier's measures on constructed per-second counters, where the right answer is known by construction:
 * a steady load whose hits and database reads change at set seconds.
 */
class CacheChecksTest {
    private static final Environment.Slo SLO = Environment.Slo.defaults()
            .with(SloBudget.ORIGIN_FETCHES_PER_EXPIRY, 2.0).with(SloBudget.TIME_TO_WARM_SECONDS, 10);

    /** Per-second rates; {@link #samples} accumulates them into counters. */
    private record Second(double hits, double misses, double errors, double reads, double productReads,
                          double redisHits) {
    }

    @Test
    void aBlackHoleMovesTheCachesReadsToTheDatabase() {
        // 100 reads/s: 90 hits and 10 misses (10 database reads); during the black hole (s 20-30) every lookup
        // errs and all 100 go to the database: 10 times the reads of before, which the 90 hits/s predicted.
        List<Second> seconds = new ArrayList<>();
        for (int s = 0; s < 40; s++) {
            boolean out = s >= 20 && s < 30;
            seconds.add(out ? new Second(0, 0, 100, 100, 0, 0) : new Second(90, 10, 0, 10, 0, 90));
        }
        CacheChecks.Report report = CacheChecks.measure(timeline(window("F1 CacheBlackhole", 20, 30)),
                samples(seconds)).orElseThrow();
        CacheChecks.Amplification a = report.amplifications().get(0);
        assertEquals(10, a.readsPerSecondBefore(), 1e-9);
        assertEquals(100, a.readsPerSecondDuring(), 1e-9);
        assertEquals(10, a.ratio(), 1e-9);
        assertEquals(90, a.redisHitsPerSecondBefore(), 1e-9, "Redis's own count of what the cache absorbed");
        assertEquals(List.of(), CacheChecks.checks(report, SLO), "amplification is reported, not judged");
        assertEquals(90.0 * 30, report.lookupHits(), 1e-9);
        assertEquals(1000, report.lookupErrors(), 1e-9);
    }

    @Test
    void timeToWarmIsTheFirstSecondBackWithinTenPercentOfTheRatioBefore() {
        // 80% hits before the restart at 30 s; afterwards the ratio climbs 10 points a second from 0:
        // 72% (90% of 80%) is first reached in the second ending at 38 s (70% in the one ending at 37 s).
        List<Second> seconds = new ArrayList<>();
        for (int s = 0; s < 50; s++) {
            double hits = s < 30 ? 80 : Math.min(80, 10 * (s - 30));
            seconds.add(new Second(hits, 100 - hits, 0, 100 - hits, 0, hits));
        }
        CacheChecks.Report report = CacheChecks.measure(timeline(window("F2 CacheFlush", 30, 31)), samples(seconds))
                .orElseThrow();
        CacheChecks.Warmup w = report.warmups().get(0);
        assertEquals(0.8, w.hitRatioBefore(), 1e-9);
        assertEquals(9, w.secondsToWarm(), "the counters' second 39 covers the rates of second 38");
        CheckResult check = CacheChecks.checks(report, SLO).get(0);
        assertEquals(CacheChecks.TIME_TO_WARM, check.name());
        assertTrue(check.pass(), check.line());

        CheckResult slow = CacheChecks.checks(report, SLO.with(SloBudget.TIME_TO_WARM_SECONDS, 5)).get(0);
        assertFalse(slow.pass(), slow.line());
    }

    @Test
    void aCacheThatNeverWarmsFailsSayingSo() {
        List<Second> seconds = new ArrayList<>();
        for (int s = 0; s < 50; s++) {
            seconds.add(s < 30 ? new Second(80, 20, 0, 20, 0, 80) : new Second(10, 90, 0, 90, 0, 10));
        }
        CacheChecks.Report report = CacheChecks.measure(timeline(window("F1 CacheFlush", 30, 31)), samples(seconds))
                .orElseThrow();
        CheckResult check = CacheChecks.checks(report, SLO).get(0);
        assertFalse(check.pass(), check.line());
        assertTrue(check.detail().contains("never back"), check.line());
    }

    @Test
    void failedLookupsBeforeTheRestartDoNotLowerTheRatioToComeBackTo() {
        // A black hole (errors only) right before the restart: the ratio to come back to is still the 80%.
        List<Second> seconds = new ArrayList<>();
        for (int s = 0; s < 50; s++) {
            seconds.add(s >= 20 && s < 30 ? new Second(0, 0, 100, 100, 0, 0)
                    : s < 30 || s >= 32 ? new Second(80, 20, 0, 20, 0, 80) : new Second(0, 100, 0, 100, 0, 0));
        }
        CacheChecks.Report report = CacheChecks.measure(timeline(window("F1 CacheBlackhole", 20, 30),
                window("F2 CacheFlush", 30, 31)), samples(seconds)).orElseThrow();
        assertEquals(0.8, report.warmups().get(0).hitRatioBefore(), 1e-9);
        assertEquals(3, report.warmups().get(0).secondsToWarm());
    }

    @Test
    void originFetchesPerExpiryAreTheProductReadsAboveTheRateBeforePerKeyExpired() {
        // 2 product reads/s of background; 2 hot keys expire at 20 s and 14 more reads follow within 2 s: 7 per key.
        List<Second> seconds = new ArrayList<>();
        for (int s = 0; s < 30; s++) {
            double product = s == 20 ? 2 + 14 : 2;
            seconds.add(new Second(50, 2, 0, product, product, 50));
        }
        FaultTimeline timeline = timeline(window("F1 HotKeyExpiry", 20, 21));
        timeline = FaultTimeline.of(withEffect(timeline.events(), "F1 HotKeyExpiry", 2));
        CacheChecks.Report report = CacheChecks.measure(timeline, samples(seconds)).orElseThrow();
        CacheChecks.Expiry e = report.expiries().get(0);
        assertEquals(14, e.originFetches(), 1e-9);
        assertEquals(7, e.perKey(), 1e-9);
        CheckResult check = CacheChecks.checks(report, SLO).get(0);
        assertEquals(CacheChecks.ORIGIN_FETCHES, check.name());
        assertFalse(check.pass(), check.line());
        assertEquals(7, check.actual(), 1e-9);
    }

    @Test
    void anExpiryOfKeysThatWereNotCachedMeasuredNothingAndIsNotJudged() {
        List<Second> seconds = new ArrayList<>();
        for (int s = 0; s < 30; s++) {
            seconds.add(new Second(50, 2, 0, 2, 2, 50));
        }
        FaultTimeline timeline = FaultTimeline.of(withEffect(timeline(window("F1 HotKeyExpiry", 20, 21)).events(),
                "F1 HotKeyExpiry", 0));
        CheckResult check = CacheChecks.checks(CacheChecks.measure(timeline, samples(seconds)).orElseThrow(), SLO).get(0);
        assertFalse(check.pass(), "a measure of nothing never passes: " + check.line());
        assertTrue(check.notJudged() && check.notJudgedAskedFor(), "the scheduled expiry asks for it: " + check.line());
        assertEquals("schedule the expiry after the keys were read", check.fix());
    }

    @Test
    void redisCountersThatRestartFromZeroStillAddUp() {
        List<CacheSample> samples = List.of(sample(0, 0, 100), sample(1, 0, 150), sample(2, 0, 20), sample(3, 0, 50));
        assertEquals(50 + 20 + 30, CacheChecks.increase(samples, CacheSample::redisHits), 1e-9);
    }

    @Test
    void aRunWithoutACacheTierHasNoCacheReport() {
        assertTrue(CacheChecks.measure(timeline(), List.of()).isEmpty());
    }

    private static CacheSample sample(int second, double hits, double redisHits) {
        return new CacheSample(second, hits, 0, 0, 0, 0, redisHits, 0);
    }

    /** Counters at the start of each second: sample s holds the sum of the rates of seconds 0..s-1. */
    private static List<CacheSample> samples(List<Second> seconds) {
        List<CacheSample> samples = new ArrayList<>();
        double[] c = new double[6];
        for (int s = 0; s <= seconds.size(); s++) {
            samples.add(new CacheSample(s, c[0], c[1], c[2], c[3], c[4], c[5], 0));
            if (s < seconds.size()) {
                Second r = seconds.get(s);
                c[0] += r.hits();
                c[1] += r.misses();
                c[2] += r.errors();
                c[3] += r.reads();
                c[4] += r.productReads();
                c[5] += r.redisHits();
            }
        }
        return samples;
    }

    private record Window(String fault, int from, int to) {
    }

    private static Window window(String fault, int from, int to) {
        return new Window(fault, from, to);
    }

    private static FaultTimeline timeline(Window... windows) {
        List<FaultTimeline.Event> events = new ArrayList<>();
        for (Window w : windows) {
            events.add(new FaultTimeline.Event(w.from() * 1000L, w.fault(), FaultTimeline.Kind.INJECT, w.fault(), Map.of()));
            events.add(new FaultTimeline.Event(w.to() * 1000L, w.fault(), FaultTimeline.Kind.HEAL, "healed", Map.of()));
        }
        return FaultTimeline.of(events);
    }

    private static List<FaultTimeline.Event> withEffect(List<FaultTimeline.Event> events, String fault, int keys) {
        List<FaultTimeline.Event> all = new ArrayList<>(events);
        all.add(new FaultTimeline.Event(events.get(0).atMillis(), fault, FaultTimeline.Kind.EFFECT,
                keys + " hot keys expired", new FaultEffect.KeysExpired(keys).values()));
        return all;
    }
}
