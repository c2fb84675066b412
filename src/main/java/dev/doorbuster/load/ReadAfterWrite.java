package dev.doorbuster.load;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts the immediate reads of a user's own write and those that did not see it (stale or missing):
 * the read-after-write violations the verdict fails on.
 */
public final class ReadAfterWrite {
    /** The KO message of a violation in Gatling's report (one fixed text: one row in its errors table). */
    public static final String STALE = "read-after-write violation: own write not visible";

    private final AtomicLong reads = new AtomicLong();
    private final AtomicLong violations = new AtomicLong();

    /** Records one read; returns normally if it saw the write, else counts it and throws (→ KO). */
    public void check(boolean sawOwnWrite) {
        reads.incrementAndGet();
        if (!sawOwnWrite) {
            violations.incrementAndGet();
            throw new IllegalStateException(STALE);
        }
    }

    public long reads() {
        return reads.get();
    }

    public long violations() {
        return violations.get();
    }
}
