package dev.doorbuster.verdict.recording;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.PrimitiveIterator;
import java.util.stream.LongStream;

import dev.doorbuster.verdict.GeneratorHealth;
import org.junit.jupiter.api.Test;

/**
 * The monitor on the real clock: users started when scheduled are on time; users started after a stall the test
 * makes itself (it does not call {@code userStarted} until 1.2 s after their schedule) are late in the seconds they
 * were scheduled for; arrivals never started are late too. The lateness budget (300 ms) leaves room for a busy
 * machine's scheduling jitter on the on-time users.
 */
class GeneratorMonitorTest {
    private static final long LATE_AFTER_MICROS = 300_000;

    /** Ten arrivals 10 ms apart in second 0, ten in second 1, five in second 2 (offsets in µs). */
    private static final long[] SCHEDULE = LongStream.concat(LongStream.concat(
            LongStream.range(0, 10).map(i -> i * 10_000), LongStream.range(0, 10).map(i -> 1_000_000 + i * 10_000)),
            LongStream.range(0, 5).map(i -> 2_000_000 + i * 10_000)).toArray();

    private static PrimitiveIterator.OfLong schedule() {
        return Arrays.stream(SCHEDULE).iterator();
    }

    @Test
    void usersStartedAfterAStallAreLateInTheSecondsTheyWereScheduledForAndUsersNeverStartedToo() throws Exception {
        long t0 = System.nanoTime();
        GeneratorHealth health;
        try (GeneratorMonitor monitor = new GeneratorMonitor(t0, GeneratorMonitorTest::schedule, LATE_AFTER_MICROS)) {
            for (int i = 0; i < 10; i++) {
                sleepUntil(t0, SCHEDULE[i]);
                monitor.userStarted();
            }
            // The stall: the second second's users start at 2.3 s, 1.2 s or more after their schedule, all at once.
            sleepUntil(t0, 2_300_000);
            for (int i = 10; i < 20; i++) {
                monitor.userStarted();
            }
            // Second 2's five users never start; the load stops at second 4.
            sleepUntil(t0, 3_100_000);
            monitor.close();
            health = monitor.report(4);
        }
        assertEquals(25, health.planned());
        assertEquals(20, health.started());
        assertEquals(5, health.neverStarted());
        GeneratorHealth.Second first = health.seconds().get(0);
        GeneratorHealth.Second second = health.seconds().get(1);
        GeneratorHealth.Second third = health.seconds().get(2);
        assertEquals(10, first.planned());
        assertEquals(0, first.late(), "started when scheduled: " + first);
        assertEquals(10, second.planned());
        assertEquals(10, second.late(), "started 1.2 s late: " + second);
        assertTrue(second.maxDelayMs() >= 1200, second.toString());
        assertEquals(0, second.started(), "none of them started in second 1: " + second);
        assertEquals(10, third.started(), "they all started in second 2: " + third);
        assertEquals(5, third.late(), "second 2's own never started: " + third);
        assertTrue(health.startDelayMaxMs() >= 1200, health.toString());
        assertTrue(health.seconds().stream().allMatch(s -> s.machineCpu() >= -1 && s.machineCpu() <= 100));
    }

    @Test
    void arrivalsScheduledAfterTheLoadStoppedAreNotMissing() {
        long t0 = System.nanoTime();
        try (GeneratorMonitor monitor = new GeneratorMonitor(t0, GeneratorMonitorTest::schedule, LATE_AFTER_MICROS)) {
            monitor.userStarted();
            monitor.close();
            GeneratorHealth health = monitor.report(0); // stopped at once (the abort rule at second 0)
            assertEquals(0, health.neverStarted(), health.toString());
            assertEquals(1, health.started());
        }
    }

    private static void sleepUntil(long t0, long micros) throws InterruptedException {
        long wait;
        while ((wait = t0 + micros * 1000 - System.nanoTime()) > 0) {
            Thread.sleep(Math.max(1, wait / 1_000_000), 0);
        }
    }
}
