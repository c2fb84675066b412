package dev.doorbuster.load;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

import dev.doorbuster.verdict.consistency.WriteLedger;

/**
 * The bounded waits of a run that ends while the JVM is going down (SIGTERM, Ctrl-C): the partial verdict and
 * its write audit each get a few seconds, then the topology is stopped anyway. (What an early end does to the
 * verdict, the failing {@code aborted} check and {@code complete: false}, is {@link dev.doorbuster.verdict.VerdictAssembly}'s.)
 */
final class RunEnd {
    /** How long a stopping JVM waits for the partial verdict before stopping the topology anyway. */
    static final Duration PARTIAL_VERDICT_LIMIT = Duration.ofSeconds(20);
    /** How long a stopping JVM waits for the database to answer the audit. */
    static final Duration QUICK_AUDIT_LIMIT = Duration.ofSeconds(5);

    private RunEnd() {
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
