package dev.doorbuster.load;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

import dev.doorbuster.topology.Environment;
import dev.doorbuster.verdict.CheckResult;
import dev.doorbuster.verdict.JudgingMode;
import dev.doorbuster.verdict.LatencyRecorder;
import dev.doorbuster.verdict.SecondCompliance;
import dev.doorbuster.verdict.Verdict;
import dev.doorbuster.verdict.WriteLedger;

/**
 * How a run's verdict ends: the windowed checks' per-second data, and for a run that stopped early (the
 * abort rule, SIGTERM, Gatling stopping before the verdict scenario) the failing {@code aborted} check and
 * {@code complete: false}, with bounded waits when the JVM is going down.
 */
final class RunEnd {
    /** Name of the check an incomplete run fails. */
    static final String ABORTED = "aborted";
    /** How long a stopping JVM waits for the partial verdict before stopping the topology anyway. */
    static final Duration PARTIAL_VERDICT_LIMIT = Duration.ofSeconds(20);
    /** How long a stopping JVM waits for the database to answer the audit. */
    static final Duration QUICK_AUDIT_LIMIT = Duration.ofSeconds(5);

    private RunEnd() {
    }

    /** {@code checks} plus, when {@code reason} is set, the failing {@code aborted} check at {@code second}. */
    static List<CheckResult> withAbortCheck(List<CheckResult> checks, String reason, int second) {
        if (reason == null) {
            return checks;
        }
        List<CheckResult> all = new ArrayList<>(checks);
        all.add(new CheckResult(ABORTED, 0, Math.max(0, second), "s", false, reason));
        return all;
    }

    /** The verdict with the windowed checks' per-second outcome, marked incomplete when {@code reason} is set. */
    static Verdict finish(Verdict verdict, JudgingMode mode, Environment.Slo slo, LatencyRecorder recorder, String reason) {
        Verdict v = mode == JudgingMode.OVERLOAD ? verdict
                : verdict.withWindows(SecondCompliance.evaluate(recorder, slo, recorder.lastSecond() + 1));
        return reason == null ? v : v.incomplete(reason);
    }

    static WriteLedger.Audit skippedAudit() {
        return new WriteLedger.Audit(List.of(), "not audited: the database did not answer within "
                + QUICK_AUDIT_LIMIT.toSeconds() + " s while the run was stopping", Set.of());
    }

    /** {@code work} on a daemon thread, or {@code fallback} if it fails or takes longer than {@link #QUICK_AUDIT_LIMIT}. */
    static <T> T bounded(Supplier<T> work, T fallback) {
        CompletableFuture<T> future = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                future.complete(work.get());
            } catch (RuntimeException e) {
                future.completeExceptionally(e);
            }
        }, "doorbuster-quick-audit");
        t.setDaemon(true);
        t.start();
        try {
            return future.get(QUICK_AUDIT_LIMIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            return fallback;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return fallback;
        }
    }

    /** Runs {@code work} on a daemon thread and waits for it at most {@code limit}. */
    static void within(Duration limit, Runnable work) {
        Thread t = new Thread(() -> {
            try {
                work.run();
            } catch (RuntimeException e) {
                System.err.println("[doorbuster] cannot write the partial verdict: " + e);
            }
        }, "doorbuster-partial-verdict");
        t.setDaemon(true);
        t.start();
        try {
            t.join(limit.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (t.isAlive()) {
            System.err.println("[doorbuster] the partial verdict took longer than " + limit.toSeconds() + " s: stopping");
        }
    }
}
