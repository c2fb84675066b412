package dev.doorbuster.verdict;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

import dev.doorbuster.chaos.FaultEffect;
import dev.doorbuster.chaos.FaultTimeline;
import dev.doorbuster.chaos.WriteProbe;
import dev.doorbuster.topology.Environment;
import dev.doorbuster.topology.EnvironmentLoader;
import dev.doorbuster.verdict.consistency.Guarantee;
import dev.doorbuster.verdict.consistency.SessionReport;
import dev.doorbuster.verdict.probes.MetricsCoverage;
import dev.doorbuster.verdict.probes.ProbeSample;
import dev.doorbuster.verdict.recording.LatencyRecorder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Judge on runs that lack an input: each check that applies is there, NOT JUDGED with its reason and fix, never a
 * PASS and never absent; and with the input (a Spring Boot service's single pool) it is judged as before.
 */
class JudgeNotJudgedTest {
    private static final int SECONDS = 100;
    private static final Environment.Slo SLO = Environment.Slo.defaults();
    /** What a Spring Boot service with two data sources and no app.pools shows the probes. */
    private static final MetricsCoverage TWO_UNNAMED_POOLS = new MetricsCoverage(
            "http://127.0.0.1:8080/actuator/prometheus", SECONDS, SECONDS, null,
            Map.of("HikariPool-1", MetricsCoverage.NO_ROLE, "HikariPool-2", MetricsCoverage.NO_ROLE));

    private static LatencyRecorder steady() {
        LatencyRecorder r = new LatencyRecorder(0);
        for (int s = 0; s < SECONDS; s++) {
            for (int i = 0; i < 20; i++) {
                r.record("browse", s, 15_000 + 100L * i, true);
            }
        }
        return r;
    }

    /** Samples without any pool figure: the metrics were read, but no pool had a role. */
    private static List<ProbeSample> noPools() {
        List<ProbeSample> samples = new ArrayList<>();
        for (int s = 0; s < SECONDS; s++) {
            samples.add(new ProbeSample(s, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
                    Double.NaN, Double.NaN, Double.NaN, Double.NaN, -1, -1));
        }
        return samples;
    }

    /** A single pool (the writer), {@code activeAt} connections busy at each second; no reader pool at all. */
    private static List<ProbeSample> writerOnly(java.util.function.IntToDoubleFunction activeAt) {
        List<ProbeSample> samples = new ArrayList<>();
        for (int s = 0; s < SECONDS; s++) {
            samples.add(new ProbeSample(s, activeAt.applyAsDouble(s), 10 - activeAt.applyAsDouble(s), 0, Double.NaN,
                    Double.NaN, Double.NaN, 0, Double.NaN, Double.NaN, Double.NaN, -1, -1));
        }
        return samples;
    }

    private static List<CheckResult> judge(JudgingMode mode, LatencyRecorder r, FaultTimeline timeline,
                                           List<ProbeSample> probes, long client503s, SessionReport sessions,
                                           MetricsCoverage metrics) {
        return Judge.evaluate(new Judge.Facts(mode, SLO, 5000, r, List.of(), timeline, probes, sessions, 0, client503s,
                null, null, null, metrics));
    }

    private static List<CheckResult> named(List<CheckResult> checks, String name) {
        return checks.stream().filter(c -> c.name().equals(name)).toList();
    }

    private static CheckResult only(List<CheckResult> checks, String name) {
        List<CheckResult> found = named(checks, name);
        assertEquals(1, found.size(), "exactly one check '" + name + "', never absent: " + checks);
        return found.get(0);
    }

    @Test
    void aSoakWithoutPoolSamplesHasItsLeakCheckNotJudgedWithTheReasonAndTheFix() {
        List<CheckResult> checks = judge(JudgingMode.SOAK, steady(), new FaultTimeline(0), noPools(), 0, null,
                TWO_UNNAMED_POOLS);
        CheckResult growth = only(checks, Judge.POOL_ACTIVE_GROWTH);
        assertTrue(growth.notJudged(), growth.line());
        assertFalse(growth.pass(), "never a pass");
        assertTrue(growth.notJudgedAskedFor(), "a soak asks for it");
        assertEquals("NOT JUDGED pool active growth: no HikariCP meters matched pool names [HikariPool-1 → ?, "
                + "HikariPool-2 → ?]; set app.pools to each pool's role, e.g. {\"HikariPool-1\": \"writer\"} (or "
                + "-Dapp.pools.HikariPool-1=writer)", growth.line());
        assertTrue(only(checks, Judge.P99_DRIFT).pass(), "the latency drift had its input");

        // The pool exhaustion check lacks the same input; with no 503 either it cannot pass.
        CheckResult exhaustion = only(checks, "pool exhaustion");
        assertTrue(exhaustion.notJudged(), exhaustion.line());
        assertTrue(exhaustion.detail().startsWith("HikariCP connection timeouts not read: no HikariCP meters matched "
                + "pool names [HikariPool-1 → ?, HikariPool-2 → ?]; clients saw 0 503 responses"), exhaustion.detail());

        // And the run fails by default, through the budget that counts them.
        Verdict v = VerdictAssembly.assemble(new VerdictAssembly.Facts(new VerdictAssembly.Identity("SoakSimulation",
                "docker", "2026-11-27T00:00:00Z", SECONDS), JudgingMode.SOAK, SLO, steady(), checks,
                VerdictAssembly.Ending.ranItsCourse(SECONDS), null, Optional.empty(), null, null, null, List.of(), null));
        assertFalse(v.passed(), v.summary());
        assertTrue(v.summary().contains("FAILED (1 of "), v.summary());
        assertTrue(v.summary().contains("; 2 checks not judged)"), v.summary());
    }

    @Test
    void withoutAnyProbeTheReasonStillSaysWhatToSupply() {
        List<CheckResult> checks = judge(JudgingMode.SOAK, steady(), new FaultTimeline(0), List.of(), 0, null, null);
        CheckResult growth = only(checks, Judge.POOL_ACTIVE_GROWTH);
        assertTrue(growth.notJudged(), growth.line());
        assertTrue(growth.fix().contains("app.metricsUrl") && growth.fix().contains("app.pools"), growth.line());

        MetricsCoverage noUrl = new MetricsCoverage(null, 0, 0, null, Map.of());
        CheckResult unset = only(judge(JudgingMode.SOAK, steady(), new FaultTimeline(0), List.of(), 0, null, noUrl),
                Judge.POOL_ACTIVE_GROWTH);
        assertEquals("the environment sets no app.metricsUrl, so no pool metric was read", unset.detail());
        assertTrue(unset.fix().startsWith("set app.metricsUrl"), unset.fix());

        MetricsCoverage unreadable = new MetricsCoverage("http://127.0.0.1:9/metrics", 100, 0, "HTTP 404", Map.of());
        assertEquals("the metrics at http://127.0.0.1:9/metrics could not be read (100 tries, last: HTTP 404)",
                only(judge(JudgingMode.SOAK, steady(), new FaultTimeline(0), List.of(), 0, null, unreadable),
                        Judge.POOL_ACTIVE_GROWTH).detail());
    }

    @Test
    void aSingleWriterPoolIsJudgedWithoutAReaderPool() {
        List<CheckResult> steady = judge(JudgingMode.SOAK, steady(), new FaultTimeline(0), writerOnly(s -> 3), 0, null,
                null);
        CheckResult growth = only(steady, Judge.POOL_ACTIVE_GROWTH);
        assertTrue(growth.pass(), growth.line());
        assertEquals(0, growth.actual());
        assertTrue(only(steady, "pool exhaustion").pass(), "HikariCP's timeouts of the one pool were read");

        CheckResult leaking = only(judge(JudgingMode.SOAK, steady(), new FaultTimeline(0), writerOnly(s -> s / 10.0), 0,
                null, null), Judge.POOL_ACTIVE_GROWTH);
        assertTrue(leaking.failed(), "a climbing writer pool is a leak: " + leaking.line());
    }

    @Test
    void clients503sCanFailPoolExhaustionButNotPassIt() {
        CheckResult failed = only(judge(JudgingMode.STANDARD, steady(), new FaultTimeline(0), noPools(), 4, null,
                TWO_UNNAMED_POOLS), "pool exhaustion");
        assertTrue(failed.failed(), failed.line());
        assertEquals(4, failed.actual());
        assertTrue(failed.detail().contains("HikariCP connection timeouts not read: no HikariCP meters matched"),
                failed.detail());
    }

    @Test
    void aFaultWithoutACompletedRequestIsNotJudgedNotPassed() {
        LatencyRecorder r = new LatencyRecorder(0);
        for (int s = 0; s < SECONDS; s++) {
            if (s < 40 || s >= 50) {
                r.record("browse", s, 15_000, true);
            }
        }
        FaultTimeline timeline = FaultTimeline.of(List.of(
                new FaultTimeline.Event(40_000, "F1 ProxyDown", FaultTimeline.Kind.INJECT, "primary link down", Map.of()),
                new FaultTimeline.Event(49_500, "F1 ProxyDown", FaultTimeline.Kind.HEAL, "healed", Map.of())));
        List<CheckResult> checks = judge(JudgingMode.STANDARD, r, timeline, writerOnly(s -> 3), 0, null, null);
        CheckResult during = only(checks, "p99 during F1 ProxyDown");
        assertTrue(during.notJudged() && during.notJudgedAskedFor(), during.line());
        assertEquals("no request completed while F1 ProxyDown was on (seconds 40-50)", during.detail());
    }

    @Test
    void aFailoverWhoseRtoWasNeverMeasuredIsNotJudged() {
        FaultTimeline timeline = FaultTimeline.of(List.of(
                new FaultTimeline.Event(30_000, "F1 PrimaryFailover", FaultTimeline.Kind.INJECT, "primary killed", Map.of()),
                new FaultTimeline.Event(30_500, "F1 PrimaryFailover", FaultTimeline.Kind.ERROR,
                        "inject failed: pg_ctl promote timed out", Map.of())));
        CheckResult rto = only(judge(JudgingMode.STANDARD, steady(), timeline, writerOnly(s -> 3), 0, null, null),
                "failover RTO (F1 PrimaryFailover)");
        assertTrue(rto.notJudged(), rto.line());
        assertEquals("the failover's RTO was never measured: inject failed: pg_ctl promote timed out", rto.detail());
    }

    // ---- the failover RTO, by what the write probe could measure -----------------------------------------------

    @TempDir
    Path dir;

    /** The probe of a service image's environment file, {@code probe} as its app.writeProbe (null: left out). */
    private WriteProbe probeOf(String type, String probe) throws IOException {
        String app = type.equals("docker-image") ? "\"image\": \"shop/checkout:1.42\"" : "";
        Files.writeString(dir.resolve("svc.json"), "{\"type\": \"" + (type.equals("docker-image") ? "docker" : type)
                + "\", \"app\": {" + app + (probe == null ? "" : ", \"writeProbe\": " + probe) + "}}");
        return WriteProbe.of(new EnvironmentLoader(dir, new Properties()).load("svc"), URI.create("http://127.0.0.1:9"));
    }

    /** A failover at second 30 that measured {@code rto} (null: what a probe that cannot measure leaves: a note). */
    private static FaultTimeline failover(FaultEffect.Rto rto) {
        return FaultTimeline.of(List.of(
                new FaultTimeline.Event(30_000, "F1 PrimaryFailover", FaultTimeline.Kind.INJECT, "primary killed", Map.of()),
                new FaultTimeline.Event(30_400, "F1 PrimaryFailover", FaultTimeline.Kind.EFFECT, "pg2 promoted", Map.of()),
                rto == null
                        ? new FaultTimeline.Event(30_401, "F1 PrimaryFailover", FaultTimeline.Kind.EFFECT,
                                "client-observed RTO not measured: ...", Map.of())
                        : new FaultTimeline.Event(31_000, "F1 PrimaryFailover", FaultTimeline.Kind.EFFECT, "rto",
                                rto.values())));
    }

    private static CheckResult rtoJudged(FaultTimeline timeline, WriteProbe probe) {
        return only(Judge.evaluate(new Judge.Facts(JudgingMode.STANDARD, SLO, 5000, steady(), List.of(), timeline,
                writerOnly(s -> 3), null, 0, 0, null, null, null, null, probe.unmeasurable().orElse(null))),
                "failover RTO (F1 PrimaryFailover)");
    }

    @Test
    void aServiceOfYourOwnWithoutAWriteProbeHasItsFailoverRtoNotJudgedSayingWhatToSet() throws IOException {
        CheckResult rto = rtoJudged(failover(null), probeOf("docker-image", null));
        assertTrue(rto.notJudged() && rto.notJudgedAskedFor(), rto.line());
        assertFalse(rto.pass() || rto.failed(), "neither a pass nor a false 60 s failure");
        assertEquals("the failover's RTO could not be measured: the environment sets no app.writeProbe, so no write of "
                + "the service could be probed (PUT /users/1 is the reference storefront's)", rto.detail());
        assertTrue(rto.fix().startsWith("set app.writeProbe in " + dir.resolve("svc.json") + " to a cheap write the "
                + "service acknowledges with 2xx every time (method, path, body;"), rto.fix());
        assertTrue(rto.line().startsWith("NOT JUDGED failover RTO (F1 PrimaryFailover): "), rto.line());

        // Counted against slo.notJudged like every check not judged: the run does not pass on an RTO nobody measured.
        Verdict v = VerdictAssembly.assemble(new VerdictAssembly.Facts(new VerdictAssembly.Identity("LostWrites",
                "svc", "2026-11-27T00:00:00Z", SECONDS), JudgingMode.STANDARD, SLO, steady(), List.of(rto),
                VerdictAssembly.Ending.ranItsCourse(SECONDS), null, Optional.empty(), null, null, null, List.of(), null));
        assertFalse(v.passed(), v.summary());
        assertTrue(v.checks().stream().anyMatch(c -> c.name().equals(VerdictAssembly.NOT_JUDGED) && c.failed()
                && c.detail().contains("failover RTO (F1 PrimaryFailover)")), v.summary());
    }

    @Test
    void aPreflightWriteNotAcknowledgedHasTheRtoNotJudgedNamingWhatItGot() throws IOException {
        WriteProbe.Unmeasurable why = new WriteProbe.Unmeasurable("the write probe's pre-flight before the load, with "
                + "no fault on, was not acknowledged: PUT /users/1 answered 404", "PUT /users/1 answered 404: set "
                + "app.writeProbe in svc.json to a cheap write the service acknowledges with 2xx every time");
        CheckResult rto = only(Judge.evaluate(new Judge.Facts(JudgingMode.STANDARD, SLO, 5000, steady(), List.of(),
                failover(null), writerOnly(s -> 3), null, 0, 0, null, null, null, null, why)),
                "failover RTO (F1 PrimaryFailover)");
        assertTrue(rto.notJudged(), rto.line());
        assertTrue(rto.detail().endsWith("PUT /users/1 answered 404"), rto.detail());
        assertTrue(rto.fix().startsWith("PUT /users/1 answered 404: set app.writeProbe"), rto.fix());
    }

    @Test
    void withAWriteProbeTheRtoIsJudgedAsBefore() throws IOException {
        WriteProbe own = probeOf("docker-image", "{\"path\": \"/accounts/probe\"}");
        CheckResult fast = rtoJudged(failover(new FaultEffect.Rto(Duration.ofMillis(900), true)), own);
        assertTrue(fast.pass(), fast.line());
        assertEquals(900, fast.actual());
        CheckResult gaveUp = rtoJudged(failover(new FaultEffect.Rto(Duration.ofSeconds(60), false)), own);
        assertTrue(gaveUp.failed(), gaveUp.line());
        assertEquals("no write was acknowledged before the probe gave up", gaveUp.detail());

        // The storefront's probe (local, and docker without app.image): judged exactly the same way.
        for (String storefront : List.of("local", "docker")) {
            WriteProbe probe = probeOf(storefront, null);
            assertEquals(Optional.empty(), probe.unmeasurable(), storefront + ": PUT /users/1");
            CheckResult slow = rtoJudged(failover(new FaultEffect.Rto(Duration.ofSeconds(20), true)), probe);
            assertTrue(slow.failed(), slow.line());
            assertEquals(20_000, slow.actual());
        }
    }

    @Test
    void aRunWithoutRequestsHasItsErrorRateAndP99NotJudged() {
        List<CheckResult> checks = judge(JudgingMode.STANDARD, new LatencyRecorder(0), new FaultTimeline(0),
                writerOnly(s -> 0), 0, null, null);
        assertTrue(only(checks, "error rate").notJudged(), "0 of 0 failed is no error rate: " + checks);
        assertTrue(only(checks, "p99").notJudged());
    }

    @Test
    void aGuaranteeNoReadAppliedToIsReportedButNotAskedFor() {
        SessionReport sessions = new SessionReport(List.of(
                new SessionReport.GuaranteeResult(Guarantee.READ_YOUR_WRITES_IMMEDIATE, Guarantee.READ_YOUR_WRITES_IMMEDIATE
                        .check(), 50, 0, 0, List.of(), Map.of()),
                new SessionReport.GuaranteeResult(Guarantee.MONOTONIC_READS, Guarantee.MONOTONIC_READS.check(), 0, 0, 0,
                        List.of(), Map.of())), 0, List.of());
        List<CheckResult> checks = judge(JudgingMode.STANDARD, steady(), new FaultTimeline(0), writerOnly(s -> 3), 0,
                sessions, null);
        assertTrue(only(checks, Guarantee.READ_YOUR_WRITES_IMMEDIATE.check()).pass());
        CheckResult monotonic = only(checks, Guarantee.MONOTONIC_READS.check());
        assertTrue(monotonic.notJudged() && !monotonic.notJudgedAskedFor(), monotonic.line());
    }
}
