package dev.doorbuster.verdict;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doorbuster.topology.Environment;
import dev.doorbuster.topology.SloBudget;
import dev.doorbuster.verdict.recording.LatencyRecorder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The third outcome, NOT JUDGED: how its line reads, that verdict.json keeps it (and still reads files from before
 * it existed), that the run's first line counts it, and that {@code slo.notJudged} decides, both ways, whether it
 * fails the run.
 */
class CheckResultOutcomeTest {
    @TempDir
    Path dir;

    private static final CheckResult PASSED = CheckResult.atMost("p99", 1000, 20, "ms", "900 requests");
    private static final CheckResult FAILED = CheckResult.atMost("error rate", 2, 5.5, "%", "50 of 900 requests failed");
    private static final CheckResult GROWTH = CheckResult.notJudged("pool active growth", 2, Double.NaN, "connections",
            "no HikariCP meters matched pool names [HikariPool-1 → ?, HikariPool-2 → ?]",
            "set app.pools to each pool's role, e.g. {\"HikariPool-1\": \"writer\"}");
    private static final CheckResult MONOTONIC = CheckResult.notJudgedUnasked("monotonic reads", 0, "reads",
            "no read this guarantee applies to", "read keys back with the consistency API");

    @Test
    void theLineSaysNotJudgedWithTheReasonAndTheFix() {
        assertEquals("NOT JUDGED pool active growth: no HikariCP meters matched pool names [HikariPool-1 → ?, "
                + "HikariPool-2 → ?]; set app.pools to each pool's role, e.g. {\"HikariPool-1\": \"writer\"}", GROWTH.line());
        assertEquals("NOT JUDGED monotonic reads: no read this guarantee applies to; read keys back with the consistency "
                + "API (not asked for by the simulation: reported only)", MONOTONIC.line());
        assertEquals("PASS p99: 20 ms ≤ 1000 ms (900 requests)", PASSED.line(), "a pass reads as before");
        assertEquals("FAIL error rate: 5.50 % > budget 2 % (50 of 900 requests failed)", FAILED.line());
    }

    @Test
    void notJudgedIsNeitherAPassNorAFailure() {
        assertFalse(GROWTH.pass(), "never a pass");
        assertFalse(GROWTH.failed());
        assertTrue(GROWTH.notJudged() && GROWTH.notJudgedAskedFor());
        assertTrue(MONOTONIC.notJudged() && !MONOTONIC.notJudgedAskedFor());
        assertTrue(PASSED.pass() && !PASSED.notJudged() && !PASSED.failed());
        assertNull(PASSED.fix(), "only a check not judged has a fix");
        assertNull(PASSED.askedFor());
    }

    @Test
    void verdictJsonKeepsTheOutcomeTheReasonAndTheFix() throws IOException {
        Verdict v = Verdict.of("SoakSimulation", "docker", "2026-11-27T00:00:00Z", 3600,
                List.of(PASSED, FAILED, GROWTH, MONOTONIC), 900, 50, null, null, null, List.of());
        Path file = dir.resolve(Verdict.JSON_FILE);
        v.writeJson(file);

        JsonNode checks = new ObjectMapper().readTree(file.toFile()).path("checks");
        assertEquals("NOT_JUDGED", checks.get(2).path("outcome").asText());
        assertFalse(checks.get(2).path("pass").asBoolean(true), "a reader that knows only pass sees no pass");
        assertTrue(checks.get(2).path("fix").asText().startsWith("set app.pools"));
        assertTrue(checks.get(2).path("askedFor").asBoolean());
        assertFalse(checks.get(3).path("askedFor").asBoolean(true));
        assertEquals("PASS", checks.get(0).path("outcome").asText());
        assertFalse(checks.get(0).has("fix") || checks.get(0).has("askedFor"), "a judged check carries neither");

        Verdict back = Verdict.readJson(file);
        assertEquals(v.checks(), back.checks());
        assertEquals(List.of("pool active growth", "monotonic reads"), back.notJudged().stream().map(CheckResult::name)
                .toList());
        assertEquals(List.of("error rate"), back.failures().stream().map(CheckResult::name).toList());
    }

    /** A verdict.json of a run judged before there were outcomes: baselines and history hold such files. */
    @Test
    void aVerdictJsonWithOnlyPassIsStillRead() throws IOException {
        Path file = dir.resolve("old-" + Verdict.JSON_FILE);
        Files.writeString(file, """
                {
                  "simulation" : "BlackFridaySimulation", "environment" : "local",
                  "startedAt" : "2026-11-01T00:00:00Z", "durationSeconds" : 300.0, "passed" : false,
                  "checks" : [ {
                    "name" : "p99", "budget" : 1000.0, "actual" : 412.0, "unit" : "ms", "pass" : true,
                    "detail" : "9000 requests", "atLeast" : false
                  }, {
                    "name" : "lost acknowledged writes", "budget" : 0.0, "actual" : 3.0, "unit" : "writes",
                    "pass" : false, "detail" : "order 3 of 900", "atLeast" : false
                  } ],
                  "requests" : 9000, "failedRequests" : 12, "timeline" : [ ]
                }
                """);
        Verdict old = Verdict.readJson(file);
        assertEquals(CheckResult.Outcome.PASS, old.checks().get(0).outcome());
        assertEquals(CheckResult.Outcome.FAIL, old.checks().get(1).outcome());
        assertEquals(List.of(), old.notJudged());
        assertEquals(List.of("lost acknowledged writes"), old.failures().stream().map(CheckResult::name).toList());
        assertTrue(old.summary().startsWith("Doorbuster verdict for BlackFridaySimulation on 'local': FAILED (1 of 2 "
                + "checks)\n"), old.summary());
        assertTrue(old.summary().contains("  FAIL lost acknowledged writes: 3 writes > budget 0 writes"), old.summary());
    }

    private static Verdict assemble(List<CheckResult> judged, Environment.Slo slo) {
        LatencyRecorder r = new LatencyRecorder(0);
        for (int s = 0; s < 10; s++) {
            r.record("browse", s, 20_000, true);
        }
        return VerdictAssembly.assemble(new VerdictAssembly.Facts(new VerdictAssembly.Identity("SoakSimulation",
                "docker", "2026-11-27T00:00:00Z", 10), JudgingMode.SOAK, slo, r, judged,
                VerdictAssembly.Ending.ranItsCourse(10), null, Optional.empty(), null, null, null, List.of(), null));
    }

    private static CheckResult check(Verdict v, String name) {
        return v.checks().stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow(
                () -> new AssertionError("no check " + name + ": " + v.summary()));
    }

    @Test
    void byDefaultACheckTheSimulationAsksForThatIsNotJudgedFailsTheRun() {
        Verdict v = assemble(List.of(PASSED, GROWTH, MONOTONIC), Environment.Slo.defaults());
        assertFalse(v.passed(), v.summary());
        CheckResult budget = check(v, VerdictAssembly.NOT_JUDGED);
        assertTrue(budget.failed(), budget.line());
        assertEquals(1, budget.actual(), "only the one asked for counts");
        assertEquals(0, budget.budget());
        assertEquals("FAIL checks not judged: 1 checks > budget 0 checks (1 the simulation asks for could not be "
                + "judged: pool active growth; not asked for, reported only: monotonic reads; supply what each line asks "
                + "for, or allow them with " + SloBudget.NOT_JUDGED.path() + ")", budget.line());
        assertEquals(List.of(VerdictAssembly.NOT_JUDGED), v.failures().stream().map(CheckResult::name).toList());
        assertTrue(v.summary().startsWith("Doorbuster verdict for SoakSimulation on 'docker': FAILED (1 of 4 checks; "
                + "2 checks not judged)\n"), v.summary());
        assertTrue(v.summary().contains("\n  NOT JUDGED pool active growth: no HikariCP meters matched"), v.summary());
        assertEquals(v.checks().size() - 1, v.checks().indexOf(budget), "it comes last");
    }

    @Test
    void aBudgetThatAllowsItLetsTheRunPassAndStillCountsIt() {
        Verdict v = assemble(List.of(PASSED, GROWTH), Environment.Slo.defaults().with(SloBudget.NOT_JUDGED, 1));
        assertTrue(v.passed(), v.summary());
        assertTrue(check(v, VerdictAssembly.NOT_JUDGED).pass());
        assertTrue(v.summary().startsWith("Doorbuster verdict for SoakSimulation on 'docker': PASSED, 1 check not "
                + "judged\n"), v.summary());
        assertTrue(check(v, "pool active growth").notJudged(), "allowed, yet still not judged: never a pass");
    }

    @Test
    void checksTheSimulationDoesNotAskForNeverFailTheRun() {
        Verdict v = assemble(List.of(PASSED, MONOTONIC), Environment.Slo.defaults());
        assertTrue(v.passed(), v.summary());
        assertEquals(0, check(v, VerdictAssembly.NOT_JUDGED).actual());
        assertTrue(v.summary().startsWith("Doorbuster verdict for SoakSimulation on 'docker': PASSED, 1 check not "
                + "judged\n"), v.summary());
    }

    @Test
    void aRunWithEveryCheckJudgedHasNoBudgetCheck() {
        Verdict v = assemble(List.of(PASSED), Environment.Slo.defaults());
        assertTrue(v.passed());
        assertTrue(v.checks().stream().noneMatch(c -> c.name().equals(VerdictAssembly.NOT_JUDGED)));
        assertTrue(v.summary().startsWith("Doorbuster verdict for SoakSimulation on 'docker': PASSED\n"), v.summary());
    }

    @Test
    void junitXmlSkipsACheckNotJudged() throws IOException {
        Verdict v = assemble(List.of(PASSED, GROWTH), Environment.Slo.defaults());
        Path file = dir.resolve(Verdict.JUNIT_FILE);
        v.writeJunitXml(file);
        String xml = Files.readString(file);
        assertTrue(xml.contains("skipped=\"1\""), xml);
        assertTrue(xml.contains("<testcase classname=\"doorbuster.SoakSimulation.docker\" name=\"pool active growth\" "
                + "time=\"0\"><skipped message=\"NOT JUDGED pool active growth: no HikariCP meters"), xml);
        assertTrue(xml.contains("failures=\"1\""), "the budget check fails: " + xml);
    }

    @Test
    void aRebuiltReportWithoutItsVerdictIsNotJudgedNeverPassed() {
        Verdict v = Verdict.of("x", "?", "?", 0, List.of(CheckResult.notJudged(Verdict.JSON_FILE, Double.NaN,
                Double.NaN, "", "missing", "run it again")), 0, 0, null, null, null, List.of());
        assertFalse(v.passed(), "no budget allows it here");
    }
}
