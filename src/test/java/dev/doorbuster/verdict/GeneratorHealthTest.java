package dev.doorbuster.verdict;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.IntFunction;

import dev.doorbuster.chaos.FaultTimeline;
import dev.doorbuster.topology.Environment;
import dev.doorbuster.verdict.CheckResult.Outcome;
import dev.doorbuster.verdict.recording.LatencyRecorder;
import org.junit.jupiter.api.Test;

/**
 * A generator that fell behind makes the latency checks of those seconds inconclusive (not judged, naming the
 * generator), never PASS or FAIL; the checks that do not depend on timing stay judged; the run does not pass; and a
 * generator that kept up changes nothing.
 */
class GeneratorHealthTest {
    private static final int SECONDS = 90;
    private static final Environment.Slo SLO = Environment.Slo.defaults();
    private static final List<Phase> PHASES = List.of(new Phase("baseline", 0, 30), new Phase("spike", 30, 60),
            new Phase("cooldown", 60, SECONDS));

    /** 20 requests a second at 15-17 ms, except 3 s requests in seconds 40-49 (the generator's own stall). */
    private static LatencyRecorder recorded() {
        LatencyRecorder r = new LatencyRecorder(0);
        for (int s = 0; s < SECONDS; s++) {
            for (int i = 0; i < 20; i++) {
                r.record("browse", s, s >= 40 && s < 50 ? 3_000_000 : 15_000 + 100L * i, true);
            }
        }
        return r;
    }

    /** 10 arrivals planned each second; {@code second} says what the generator did in each. */
    private static GeneratorHealth health(IntFunction<GeneratorHealth.Second> second) {
        List<GeneratorHealth.Second> seconds = new ArrayList<>();
        for (int s = 0; s < SECONDS; s++) {
            seconds.add(second.apply(s));
        }
        return new GeneratorHealth(100, 10L * SECONDS, 10L * SECONDS, 0, 3, 40, seconds);
    }

    private static GeneratorHealth.Second onTime(int s) {
        return new GeneratorHealth.Second(s, 10, 10, 0, 3, 30, 60, 5);
    }

    /** Seconds 40-49: the machine saturated, 6 of each second's 10 arrivals started more than 100 ms late. */
    private static GeneratorHealth stalled() {
        return health(s -> s >= 40 && s < 50 ? new GeneratorHealth.Second(s, 10, 4, 6, 900, 12, 100, 5) : onTime(s));
    }

    private static List<CheckResult> judge(GeneratorHealth generator) {
        return Judge.evaluate(new Judge.Facts(JudgingMode.STANDARD, SLO, 5000, recorded(), PHASES,
                new FaultTimeline(0), List.of(), null, 0, 0, null, null, null, null, null, generator));
    }

    private static CheckResult only(List<CheckResult> checks, String name) {
        List<CheckResult> found = checks.stream().filter(c -> c.name().equals(name)).toList();
        assertEquals(1, found.size(), name + " in " + checks);
        return found.get(0);
    }

    /**
     * A capacity plateau's warm-up: the generator's own JVM is compiling its injection code too, so seconds behind in
     * it are said but not judged; the same stall after the warm-up is judged.
     */
    @Test
    void secondsBehindInAWarmUpAreSaidButNotJudged() {
        List<Phase> plateau = List.of(new Phase(Phase.WARM_UP, 0, 10), new Phase("plateau", 10, SECONDS));
        GeneratorHealth coldStart = health(s -> s == 1 ? new GeneratorHealth.Second(s, 10, 6, 4, 172, 35, 99, 5)
                : onTime(s));
        CheckResult warm = generatorCheck(plateau, coldStart);
        assertEquals(Outcome.PASS, warm.outcome(), warm.line());
        assertTrue(warm.detail().endsWith("behind during the warm-up (not judged): seconds 1 (machine CPU up to 99 %, "
                + "the generator's 35 %, 6 of 10 planned arrivals started on time, start delay up to 172 ms, GC pause up to 5 ms)"),
                warm.detail());

        GeneratorHealth laterStall = health(s -> s == 12 ? new GeneratorHealth.Second(s, 10, 6, 4, 172, 35, 99, 5)
                : onTime(s));
        CheckResult later = generatorCheck(plateau, laterStall);
        assertEquals(Outcome.FAIL, later.outcome(), later.line());
        assertEquals(1, later.actual());
    }

    private static CheckResult generatorCheck(List<Phase> phases, GeneratorHealth generator) {
        return only(Judge.evaluate(new Judge.Facts(JudgingMode.STANDARD, SLO, 5000, recorded(), phases,
                new FaultTimeline(0), List.of(), null, 0, 0, null, null, null, null, null, generator)),
                GeneratorHealth.CHECK);
    }

    /** A GC pause before any user was due delays nothing; the same pause once users are due is behind. */
    @Test
    void aPauseBeforeTheFirstUserIsDueIsNotBehind() {
        GeneratorHealth.Second pausedEmpty = new GeneratorHealth.Second(1, 0, 0, 0, 0, 8, 100, 694);
        GeneratorHealth beforeUsers = new GeneratorHealth(100, 20, 20, 0, 3, 40, List.of(
                new GeneratorHealth.Second(0, 0, 0, 0, 0, 5, 100, 0), pausedEmpty,
                new GeneratorHealth.Second(2, 10, 10, 0, 3, 30, 60, 5), new GeneratorHealth.Second(3, 10, 10, 0, 3, 30,
                        60, 5)));
        assertEquals(List.of(), beforeUsers.behind(SLO), "nobody was due in seconds 0-1");

        GeneratorHealth amongUsers = new GeneratorHealth(100, 20, 20, 0, 3, 40, List.of(
                new GeneratorHealth.Second(0, 10, 10, 0, 3, 30, 60, 5), pausedEmpty,
                new GeneratorHealth.Second(2, 10, 10, 0, 3, 30, 60, 5)));
        assertEquals(List.of(1), amongUsers.behind(SLO), "users started in second 0 were in flight during the pause");
    }

    @Test
    void theLatencyChecksOfTheSecondsItFellBehindAreInconclusiveNeverAFail() {
        List<CheckResult> checks = judge(stalled());

        CheckResult generator = only(checks, GeneratorHealth.CHECK);
        assertEquals(Outcome.FAIL, generator.outcome());
        assertEquals(10, generator.actual(), "ten seconds behind");
        assertTrue(generator.detail().startsWith("inconclusive: the load generator fell behind at seconds 40-49 "
                + "(machine CPU up to 100 %, the generator's 12 %, 40 of 100 planned arrivals started on time, start "
                + "delay up to 900 ms"), generator.detail());

        // Without the generator's health these three fail on the 3 s requests: with it, they say nothing.
        for (String name : List.of("p99", "p99 browse", "p99 during spike")) {
            CheckResult c = only(checks, name);
            assertEquals(Outcome.NOT_JUDGED, c.outcome(), c.line());
            assertTrue(c.notJudgedAskedFor(), "counts against slo.notJudged: " + c.line());
            assertTrue(c.detail().startsWith("inconclusive: the load generator fell behind at seconds 40-49"), c.line());
            assertTrue(c.fix().contains("shard.count"), c.line());
        }
        // The phases it kept up in are judged as ever.
        assertEquals(Outcome.PASS, only(checks, "p99 during baseline").outcome());
        assertEquals(Outcome.PASS, only(checks, "p99 during cooldown").outcome());
        // Not a matter of timing: judged.
        assertEquals(Outcome.PASS, only(checks, "error rate").outcome());
        assertTrue(checks.stream().noneMatch(c -> c.name().startsWith("p99") && c.failed()),
                "no latency check fails for the generator's stall: " + checks);
    }

    @Test
    void theSameRecordingWithoutTheGeneratorsHealthFailsTheLatencyChecks() {
        // The control of the test above: its recording does fail these checks when nothing says the generator stalled.
        List<CheckResult> checks = judge(null);
        assertTrue(only(checks, "p99 during spike").failed());
        assertTrue(checks.stream().noneMatch(c -> c.name().equals(GeneratorHealth.CHECK)));
    }

    /**
     * A simulation whose scenario was not started with {@code Run#scenario}: requests were made, but no user said it
     * started. Every planned arrival would look missing; the check says it cannot tell (reported, not asked for), and
     * the latency checks are judged as if nobody watched the generator, which is what happened.
     */
    @Test
    void aSimulationWhoseUsersNeverSayTheyStartedGetsTheCheckNotJudgedNotEverySecondBehind() {
        GeneratorHealth unreported = health(s -> new GeneratorHealth.Second(s, 10, 0, 10, 0, 20, 40, 5));
        unreported = new GeneratorHealth(unreported.lateAfterMs(), 10L * SECONDS, 0, 10L * SECONDS, 0, 0,
                unreported.seconds());
        List<CheckResult> checks = judge(unreported);
        CheckResult kept = only(checks, GeneratorHealth.CHECK);
        assertTrue(kept.notJudged() && !kept.notJudgedAskedFor(), kept.line());
        assertTrue(kept.fix().contains("run.scenario(name)"), kept.fix());
        assertTrue(only(checks, "p99 during spike").failed(), "judged on its own, as without a watched generator");
        assertTrue(only(checks, "p99 during baseline").pass());
    }

    @Test
    void aRunWhoseGeneratorFellBehindNeverPassesAndSaysWhy() {
        List<CheckResult> checks = judge(stalled());
        Verdict verdict = VerdictAssembly.assemble(new VerdictAssembly.Facts(new VerdictAssembly.Identity(
                "TestSimulation", "local", "2026-12-06T20:00:00Z", SECONDS), JudgingMode.STANDARD, SLO, recorded(), checks,
                VerdictAssembly.Ending.ranItsCourse(SECONDS), null, Optional.empty(), null, null, null, List.of(), null))
                .withGenerator(stalled());
        assertFalse(verdict.passed());
        assertTrue(verdict.generatorFellBehind());
        assertTrue(verdict.outcomeText().endsWith("latency INCONCLUSIVE: the load generator fell behind"),
                verdict.outcomeText());
        assertTrue(verdict.summary().contains("NOT JUDGED p99 during spike: inconclusive: the load generator fell behind"),
                verdict.summary());
    }

    @Test
    void aGeneratorThatKeptUpChangesNothing() {
        LatencyRecorder steady = new LatencyRecorder(0);
        for (int s = 0; s < SECONDS; s++) {
            for (int i = 0; i < 20; i++) {
                steady.record("browse", s, 15_000 + 100L * i, true);
            }
        }
        List<CheckResult> checks = Judge.evaluate(new Judge.Facts(JudgingMode.STANDARD, SLO, 5000, steady, PHASES,
                new FaultTimeline(0), List.of(), null, 0, 0, null, null, null, null, null, health(GeneratorHealthTest::onTime)));
        CheckResult generator = only(checks, GeneratorHealth.CHECK);
        assertEquals(Outcome.PASS, generator.outcome(), generator.line());
        // Pool exhaustion is not judged here for want of pool metrics, which has nothing to do with the generator.
        assertTrue(checks.stream().filter(c -> !c.name().equals("pool exhaustion"))
                .allMatch(c -> c.outcome() == Outcome.PASS), checks.toString());
    }

    @Test
    void aSecondIsBehindByItsLateArrivalsOrItsGcPauseAgainstTheBudgets() {
        GeneratorHealth health = health(s -> switch (s) {
            case 5 -> new GeneratorHealth.Second(s, 200, 200, 2, 150, 20, 50, 5);   // 1 % late: within 99 %
            case 6 -> new GeneratorHealth.Second(s, 200, 200, 3, 150, 20, 50, 5);   // 1.5 % late
            case 7 -> new GeneratorHealth.Second(s, 0, 0, 0, 0, 20, 50, 0);         // nothing planned
            case 8 -> new GeneratorHealth.Second(s, 10, 10, 0, 3, 20, 50, 100);     // a 100 ms pause: the budget
            case 9 -> new GeneratorHealth.Second(s, 10, 10, 0, 3, 20, 50, 101);     // over it
            case 10 -> new GeneratorHealth.Second(s, 2, 1, 1, 0, 20, 50, 0);        // one of two never started
            default -> onTime(s);
        });
        assertEquals(List.of(6, 9, 10), health.behind(SLO));
        assertEquals("6, 9-10", GeneratorHealth.ranges(List.of(6, 9, 10)));
        Environment.Slo lenient = SLO.with(dev.doorbuster.topology.SloBudget.GENERATOR_STARTED_PERCENT, 50.0)
                .with(dev.doorbuster.topology.SloBudget.GENERATOR_GC_PAUSE_MS, 200L);
        assertEquals(List.of(), health.behind(lenient));
        assertEquals(100_000, GeneratorHealth.lateAfterMicros(SLO), "10 % of the 1000 ms p99 budget");
    }

    /**
     * Shards of one run: a second is behind when too few of all its arrivals started on time, wherever they were
     * injected. One shard's 4 late of 10 beside another's 0 of 10 is 80 % on time: behind; one late of 100 and 0 of
     * 100 is 99.5 %: not. CPU, delays and pauses are the worst shard's.
     */
    @Test
    void shardsMergeByAddingArrivalsAndKeepingTheWorstShardsMachine() throws java.io.IOException {
        GeneratorHealth a = new GeneratorHealth(100, 120, 116, 0, 40, 900, List.of(
                new GeneratorHealth.Second(0, 100, 100, 1, 120, 30, 70, 5),
                new GeneratorHealth.Second(1, 10, 6, 4, 900, 12, 99, 150)));
        GeneratorHealth b = new GeneratorHealth(100, 112, 112, 0, 3, 20, List.of(
                new GeneratorHealth.Second(0, 100, 100, 0, 20, 45, 60, 3),
                new GeneratorHealth.Second(1, 10, 10, 0, 3, 40, 60, 4),
                new GeneratorHealth.Second(2, 2, 2, 0, 1, 40, 60, 4)));
        GeneratorHealth merged = GeneratorHealth.merge(java.util.Arrays.asList(a, null, b));
        assertEquals(232, merged.planned());
        assertEquals(228, merged.started());
        assertEquals(40, merged.startDelayP99Ms(), "the worst shard's");
        assertEquals(List.of(new GeneratorHealth.Second(0, 200, 200, 1, 120, 45, 70, 5),
                new GeneratorHealth.Second(1, 20, 16, 4, 900, 40, 99, 150),
                new GeneratorHealth.Second(2, 2, 2, 0, 1, 40, 60, 4)), merged.seconds());
        assertEquals(List.of(1), merged.behind(SLO));
        assertEquals(null, GeneratorHealth.merge(java.util.Arrays.asList(null, null)), "no shard said anything");

        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("generator-shard");
        try {
            dev.doorbuster.verdict.shard.ShardData.writeGenerator(dir, a);
            assertEquals(a, dev.doorbuster.verdict.shard.ShardData.readGenerator(dir), "what a shard writes, read back");
            java.nio.file.Files.delete(dir.resolve(dev.doorbuster.verdict.shard.ShardData.GENERATOR));
            assertEquals(null, dev.doorbuster.verdict.shard.ShardData.readGenerator(dir), "a shard that said nothing");
        } finally {
            java.nio.file.Files.deleteIfExists(dir);
        }
    }
}
