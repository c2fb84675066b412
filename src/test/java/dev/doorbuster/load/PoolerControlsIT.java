package dev.doorbuster.load;

import static dev.doorbuster.load.ControlRuns.tail;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doorbuster.chaos.FaultEffect;
import dev.doorbuster.chaos.FaultTimeline;
import dev.doorbuster.pooler.PgBouncerBinary;
import dev.doorbuster.tools.Required;
import dev.doorbuster.verdict.CheckResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * The pooler tier's failovers and holds. The two failovers a team runs behind PgBouncer, side by side on the same load ({@code FailoverSimulation} through
 * the pooler in transaction mode). The oracle is the client's own record of its writes, {@code history.json}: every
 * write the virtual users sent, when its answer came and whether it was acknowledged ({@code ok}), refused
 * ({@code fail}) or left in doubt ({@code info}: a 5xx, or no answer). The verdict's accounting is not consulted for it.
 *
 * <ul>
 *   <li>Managed (the runbook's switchover: {@code PAUSE} of the writers, kill, promote, repoint, {@code RESUME}): no
 *   write gets an error answer from the fault's start until the writers are resumed, and writes sent during the pause
 *   are acknowledged once it ends: they waited, connected.</li>
 *   <li>Unmanaged (the primary dies under its clients; the pooler repointed): writes sent before the first
 *   acknowledged one after the fault end in error or in doubt. Its RTO, from the pooler's login retry, is measured
 *   like the managed one's, so the two can be compared.</li>
 * </ul>
 * Neither loses an acknowledged write.
 *
 * <p>And the check the pooler adds to pool exhaustion ({@code pool exhaustion at the pooler}, from its own
 * {@code SHOW POOLS}): writers held at the pooler longer than its budget fail it ({@code PoolerPauseSimulation}); the
 * same run with a short hold passes.
 */
@Execution(ExecutionMode.CONCURRENT)
class PoolerControlsIT {
    /**
     * How long a request may wait for a pooled connection. While the writers are paused, HikariCP's check of an idle
     * connection waits too (at most a second, {@code Database}), then it tries the next one; a request waits for all
     * of that up to this bound. The default (1 s) is shorter than a hold on a machine running two other controls
     * (a promotion there took over a second): a hold longer than the pool's wait is answered 503, which is the
     * "paused too long" failure ({@code PoolerPause}), not what this control is about.
     */
    private static final String POOL_TIMEOUT_MS = "4000";
    /**
     * The managed switchover's load, times FailoverSimulation's 8 shoppers a second. Its claim, no write answered with
     * an error while the writers were held, says something only if writes were sent during the hold; the hold is as
     * short as the switchover is quick (180-698 ms measured). At the simulation's own rate a rehearsal (12-07 18:39)
     * sent no write in a 203 ms hold. At three times the rate, alone: 3, 5 and 9 writes in holds of 180-201 ms, so
     * still about one hold in a hundred with none; four times makes that about one in two thousand. The unmanaged
     * run, whose errors last the 15 s of the pooler's login retry, keeps the simulation's rate.
     */
    private static final String MANAGED_LOAD_SCALE = "4";
    /** The writers' hold at the pooler of the known-bad run, three times its wait budget, and of its twin. */
    private static final long LONG_PAUSE_MS = 3000;
    private static final long SHORT_PAUSE_MS = 300;
    private static final long POOLER_WAIT_BUDGET_MS = 1000;

    @TempDir
    Path reports;
    private Path home;

    @BeforeEach
    void ownHome() throws IOException {
        home = ControlRuns.newHome("doorbuster-pooler-controls-");
    }

    @AfterEach
    void nothingIsLeftRunning() throws IOException {
        if (home != null) {
            ControlRuns.assertNothingLeftRunning(home);
        }
    }

    private static Map<String, String> failover(boolean managed) {
        Map<String, String> properties = new HashMap<>(ForkedGatling.SHORT);
        properties.putAll(Map.of(
                "load.minutes", "0.5",
                "postgres.pooler", "pgbouncer",
                "failover.managed", Boolean.toString(managed),
                "app.poolTimeoutMs", POOL_TIMEOUT_MS,
                "load.scale", managed ? MANAGED_LOAD_SCALE : "1",
                // Counting, beside two other controls: latency is not what this control judges.
                "slo.p99Ms", "20000",
                "slo.windowP99Ms", "20000",
                "slo.p99MsDuringFaults", "20000"));
        return properties;
    }

    @Test
    void theManagedSwitchoverAnswersNoWriteWithAnErrorWhileTheWritersArePaused() throws Exception {
        Required.assume(PgBouncerBinary.available(), PgBouncerBinary.missingMessage());
        ForkedGatling.Result run = ForkedGatling.run("FailoverSimulation", reports, home, failover(true));
        Failover failover = Failover.of(run);
        assertTrue(failover.effect().contains("writers paused at the pooler"), "the writers were paused: " + failover);
        Writes writes = Writes.of(reports, failover.startedMillis(), failover.resumedMillis());
        System.out.println("managed: " + failover + "; " + writes);
        assertEquals(0, writes.errorsInWindow(), "no write was answered with an error while the writers were held: "
                + writes + "\n" + tail(run));
        assertTrue(writes.sentInWindowAcknowledged() >= 1, "writes sent during the pause waited and were acknowledged "
                + "after it: " + writes);
        assertTrue(failover.rtoMillis() > 0, failover.toString());
        assertNoAcknowledgedWriteLost(run);
        assertTrue(run.check("faults injected").isEmpty(), "a fault that took hold is not flagged: "
                + run.check("faults injected"));
    }

    @Test
    void theUnmanagedFailoverAnswersWritesWithErrorsUntilItRecovers() throws Exception {
        Required.assume(PgBouncerBinary.available(), PgBouncerBinary.missingMessage());
        ForkedGatling.Result run = ForkedGatling.run("FailoverSimulation", reports, home, failover(false));
        Failover failover = Failover.of(run);
        Writes writes = Writes.of(reports, failover.startedMillis(), failover.startedMillis() + failover.rtoMillis());
        System.out.println("unmanaged: " + failover + "; " + writes);
        assertTrue(writes.errorsInWindow() >= 1, "the primary died under its clients: writes failed or were left in "
                + "doubt before the first acknowledged one: " + writes);
        assertTrue(failover.rtoMillis() > 0, failover.toString());
        assertNoAcknowledgedWriteLost(run);
    }

    /**
     * The writers held at the pooler for {@value #LONG_PAUSE_MS} ms, against a wait budget of
     * {@value #POOLER_WAIT_BUDGET_MS} ms: {@code pool exhaustion at the pooler} fails. What the fault schedule makes
     * certain: the writers were held from the fault's start to its heal, so a query sent at the start waited about that
     * long; the pooler's reported longest wait lies within a probe period (1 s) of the hold, and no client request
     * can have taken less than what it waited at the pooler (the client's history bounds it from above).
     */
    @Test
    void writersHeldAtThePoolerLongerThanTheBudgetFailPoolExhaustionAtThePooler() throws Exception {
        Required.assume(PgBouncerBinary.available(), PgBouncerBinary.missingMessage());
        ForkedGatling.Result run = ForkedGatling.run("PoolerPauseSimulation", reports, home, pause(LONG_PAUSE_MS));
        CheckResult wait = run.check(dev.doorbuster.verdict.PoolerReport.WAIT_CHECK)
                .orElseThrow(() -> new AssertionError(tail(run)));
        long held = heldMillis(run);
        long slowestWrite = Writes.slowestMillis(reports);
        System.out.println("pause " + LONG_PAUSE_MS + " ms: held " + held + " ms; " + wait.line()
                + "; the client's slowest write " + slowestWrite + " ms");
        assertTrue(wait.failed(), wait.line());
        assertTrue(wait.actual() >= held - 1500 && wait.actual() <= slowestWrite + 100, "the pooler's longest wait "
                + wait.actual() + " ms: the writers were held " + held + " ms, the client's slowest write took "
                + slowestWrite + " ms");
        assertEquals(2, run.exitCode(), "assertions must fail the run\n" + tail(run));
    }

    /** The known-good twin: the same run with a hold well within the budget passes that check. */
    @Test
    void aShortHoldAtThePoolerPassesPoolExhaustionAtThePooler() throws Exception {
        Required.assume(PgBouncerBinary.available(), PgBouncerBinary.missingMessage());
        ForkedGatling.Result run = ForkedGatling.run("PoolerPauseSimulation", reports, home, pause(SHORT_PAUSE_MS));
        CheckResult wait = run.check(dev.doorbuster.verdict.PoolerReport.WAIT_CHECK)
                .orElseThrow(() -> new AssertionError(tail(run)));
        System.out.println("pause " + SHORT_PAUSE_MS + " ms: " + wait.line());
        assertTrue(wait.pass(), wait.line());
        // Held from the pause's start to its heal: both are scheduled, so a late start (the machine busy) shortens it.
        assertTrue(heldMillis(run) > 0 && run.verdict().timeline().stream().anyMatch(e -> e.message().startsWith(
                "writers' alias")), "the writers were held: " + run.verdict().timeline());
        assertTrue(run.check("faults injected").isEmpty(), "a fault that took hold is not flagged: "
                + run.check("faults injected"));
        assertEquals(0, run.exitCode(), "a short hold passes every check\n" + tail(run));
    }

    private static Map<String, String> pause(long pauseMs) {
        Map<String, String> properties = new HashMap<>(ForkedGatling.SHORT);
        properties.putAll(ControlRuns.sharedMachineLatencyBudgets());
        properties.putAll(Map.of(
                "postgres.pooler", "pgbouncer",
                "pooler.pauseMs", Long.toString(pauseMs),
                "slo.poolerWaitMs", Long.toString(POOLER_WAIT_BUDGET_MS)));
        return properties;
    }

    /** From the pause's injection to its heal, as the fault timeline recorded them. */
    private static long heldMillis(ForkedGatling.Result run) {
        List<FaultTimeline.Event> events = run.verdict() == null ? List.of() : run.verdict().timeline();
        long injected = events.stream().filter(e -> e.kind() == FaultTimeline.Kind.INJECT).mapToLong(
                FaultTimeline.Event::atMillis).findFirst().orElseThrow(() -> new AssertionError(tail(run)));
        long healed = events.stream().filter(e -> e.kind() == FaultTimeline.Kind.HEAL).mapToLong(
                FaultTimeline.Event::atMillis).findFirst().orElseThrow(() -> new AssertionError(tail(run)));
        return healed - injected;
    }

    private static void assertNoAcknowledgedWriteLost(ForkedGatling.Result run) {
        CheckResult lost = run.check("lost acknowledged writes").orElseThrow(() -> new AssertionError(tail(run)));
        assertTrue(lost.pass() && lost.actual() == 0, lost.line());
    }

    /**
     * The failover as the run's fault timeline recorded it: when it was injected, its step-by-step effect (logged once
     * the writers were resumed, for a managed one) and the client-observed RTO.
     */
    private record Failover(long startedMillis, long resumedMillis, String effect, long rtoMillis) {
        static Failover of(ForkedGatling.Result run) {
            List<FaultTimeline.Event> events = run.verdict() == null ? List.of() : run.verdict().timeline();
            FaultTimeline.Event injected = events.stream().filter(e -> e.kind() == FaultTimeline.Kind.INJECT)
                    .findFirst().orElseThrow(() -> new AssertionError("no failover injected\n" + tail(run)));
            FaultTimeline.Event promoted = events.stream().filter(e -> e.kind() == FaultTimeline.Kind.EFFECT
                    && e.message().contains(" promoted ")).findFirst()
                    .orElseThrow(() -> new AssertionError("no promotion recorded: " + events + "\n" + tail(run)));
            long rto = events.stream().map(FaultTimeline.Event::effect).flatMap(java.util.Optional::stream)
                    .filter(FaultEffect.Rto.class::isInstance).map(FaultEffect.Rto.class::cast)
                    .filter(FaultEffect.Rto::recovered).mapToLong(r -> r.time().toMillis()).findFirst()
                    .orElseThrow(() -> new AssertionError("no RTO measured: " + events + "\n" + tail(run)));
            return new Failover(injected.atMillis(), promoted.atMillis(), promoted.message(), rto);
        }
    }

    /** One write as the client's {@code history.json} holds it: when it was sent and answered, and whether acknowledged. */
    private record Write(long sentMillis, long answeredMillis, boolean acknowledged) {
        /** Every answered write of the run (an {@code ok}, {@code fail} or {@code info} after its {@code invoke}). */
        static List<Write> all(Path reports) throws IOException {
            JsonNode history = new ObjectMapper().readTree(ControlRuns.reportFile(reports, Run.HISTORY_FILE).toFile());
            Map<Long, Long> sentAt = new HashMap<>(); // process → its pending write's invocation, in ms
            List<Write> writes = new java.util.ArrayList<>();
            for (JsonNode op : history) {
                if (!op.path("value").path(0).path(0).asText().equals("w")) {
                    continue;
                }
                long process = op.path("process").asLong();
                long atMillis = op.path("time").asLong() / 1_000_000;
                String type = op.path("type").asText();
                if (type.equals("invoke")) {
                    sentAt.put(process, atMillis);
                } else {
                    Long sent = sentAt.remove(process);
                    if (sent != null) {
                        writes.add(new Write(sent, atMillis, type.equals("ok")));
                    }
                }
            }
            return writes;
        }
    }

    /**
     * The client's writes around the failover: those answered in [{@code fromMillis}, {@code toMillis}], those of them
     * answered with an error or in doubt, and those sent in it that were acknowledged.
     */
    private record Writes(long fromMillis, long toMillis, long answeredInWindow, long errorsInWindow,
                          long sentInWindowAcknowledged) {
        static Writes of(Path reports, long fromMillis, long toMillis) throws IOException {
            List<Write> all = Write.all(reports);
            List<Write> answered = all.stream()
                    .filter(w -> w.answeredMillis() >= fromMillis && w.answeredMillis() <= toMillis).toList();
            return new Writes(fromMillis, toMillis, answered.size(),
                    answered.stream().filter(w -> !w.acknowledged()).count(),
                    all.stream().filter(w -> w.acknowledged() && w.sentMillis() >= fromMillis
                            && w.sentMillis() <= toMillis).count());
        }

        /** The longest any write of the run took, from its sending to its answer (or giving up). */
        static long slowestMillis(Path reports) throws IOException {
            return Write.all(reports).stream().mapToLong(w -> w.answeredMillis() - w.sentMillis()).max().orElse(0);
        }
    }
}
