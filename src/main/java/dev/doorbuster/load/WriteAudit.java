package dev.doorbuster.load;

import java.time.Duration;

import dev.doorbuster.topology.Topology;
import dev.doorbuster.verdict.consistency.WriteLedger;
import dev.doorbuster.verdict.consistency.WriteLookup;

/**
 * Looks every acknowledged write up by its identity on the current primary, once the faults healed. Right after
 * healing the primary may still be coming back, so the audit is retried for a while; a stopping JVM gets one bounded
 * try instead.
 */
final class WriteAudit {
    static final Duration RETRY = Duration.ofSeconds(30);

    private final RunRecording recording;
    private final Topology topology;

    WriteAudit(RunRecording recording, Topology topology) {
        this.recording = recording;
        this.topology = topology;
    }

    /** Retried until it succeeds or {@link #RETRY} passed; {@code quick}: one try, bounded by {@link RunEnd#bounded}. */
    WriteLedger.Audit audit(boolean quick) {
        return quick ? RunEnd.bounded(this::once, RunEnd.skippedAudit()) : retried();
    }

    private WriteLedger.Audit retried() {
        long deadline = System.nanoTime() + RETRY.toNanos();
        while (true) {
            WriteLedger.Audit audit = once();
            // A journal that cannot be trusted stays so: no point retrying.
            if (audit.error() == null || System.nanoTime() > deadline
                    || recording.consistencyLog().journal().problem() != null) {
                return audit;
            }
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return audit;
            }
        }
    }

    private WriteLedger.Audit once() {
        return recording.consistencyLog().ledger().audit(recording.consistency().lookups(), new WriteLookup.Target(
                topology.writerJdbcUrl(), topology.dbUser(), topology.dbPassword(), topology.appUrl()));
    }
}
