package dev.doorbuster.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;

import dev.doorbuster.chaos.FaultTimeline;
import dev.doorbuster.verdict.recording.LatencyRecorder;
import dev.doorbuster.verdict.probes.ProbeSample;
import org.junit.jupiter.api.Test;

/** The progress line and the abort rule, on recorded data. */
class RunWatchTest {

    @Test
    void progressLineFromRecordedData() {
        LatencyRecorder r = new LatencyRecorder(0);
        for (int s = 0; s < 41; s++) {
            for (int i = 0; i < 14; i++) {
                r.record("browse", s, s >= 30 && i == 0 ? 231_000 : 10_000, !(s == 35 && i < 2));
            }
        }
        r.record("browse", 40, 5_000_000, false); // the current second: not in the window
        List<FaultTimeline.Window> windows = List.of(new FaultTimeline.Window("F1 ReplicationLag", "lag", 20, -1),
                new FaultTimeline.Window("F0 DbLatency", "slow", 5, 15));
        ProbeSample latest = new ProbeSample(39, 3, 7, 0, 2, 8, 0, 0, 0, 0, 0, 4096, 180);
        assertEquals("[doorbuster] 0:40 / 1:30  14.0 req/s  p99 231 ms  2 errors  faults: F1 ReplicationLag  lag 180 ms"
                + "  pools w 3/10 r 2/10", Progress.line(40, Duration.ofSeconds(90), r, windows, latest, 10, 10));
        ProbeSample waiting = new ProbeSample(39, 10, 0, 4, Double.NaN, Double.NaN, Double.NaN, 0, 0, 0, 0, -1, -1);
        assertEquals("[doorbuster] 0:10 / 2:00:00  14.0 req/s  p99 10 ms  0 errors  faults: F0 DbLatency  lag n/a"
                + "  pools w 10/10 r ?/10 (waiting w 4 r 0)", Progress.line(10, Duration.ofHours(2), r, windows, waiting,
                10, 10));
        assertEquals("[doorbuster] 0:00 / 1:30  0.0 req/s  p99 -  0 errors  faults: none",
                Progress.line(0, Duration.ofSeconds(90), new LatencyRecorder(0), List.of(), null, 10, 10));
        assertEquals("1:01:05", Progress.clock(3665));
    }

    @Test
    void abortRuleTripsAfterConsecutiveBadSecondsOnly() {
        LatencyRecorder r = new LatencyRecorder(0);
        // seconds 0-4 fine; 5-7 bad; 8 fine (breaks the streak); 9-10 bad; 11-12 empty (skipped); 13-14 bad
        for (int s = 0; s < 20; s++) {
            if (s == 11 || s == 12) {
                continue;
            }
            boolean bad = (s >= 5 && s <= 7) || s == 9 || s == 10 || s >= 13;
            for (int i = 0; i < 10; i++) {
                r.record("browse", s, 1_000, !(bad && i < 6)); // 60% errors in a bad second
            }
        }
        AbortGuard guard = new AbortGuard(50, 4);
        assertFalse(guard.advance(r, 9), "3 bad seconds, then a good one");
        assertFalse(guard.advance(r, 13), "9, 10 bad; 11, 12 without requests neither count nor break");
        assertFalse(guard.advance(r, 14), "the current second is not judged yet");
        assertTrue(guard.advance(r, 15), "9, 10, 13, 14: four bad seconds in a row");
        assertEquals(14, guard.trippedAt());
        assertFalse(guard.advance(r, 20), "trips once");
        assertEquals("aborting at second 14: error rate above 50% for 4 s", guard.logLine());
        assertEquals("aborted at second 14 because error rate above 50% for 4 consecutive seconds", guard.reason());

        AbortGuard lenient = new AbortGuard(60, 2);
        assertFalse(lenient.advance(r, 20), "60% is not above 60%");
        AbortGuard disabled = new AbortGuard(50, 0);
        assertFalse(disabled.enabled());
        assertFalse(disabled.advance(r, 20));
    }
}
