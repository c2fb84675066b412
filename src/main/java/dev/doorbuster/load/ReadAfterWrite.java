package dev.doorbuster.load;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;

/**
 * Counts the immediate reads of a user's own write and those that did not see it (stale or missing):
 * the read-after-write violations the verdict fails on.
 */
public final class ReadAfterWrite {
    /** The KO message of a violation in Gatling's report (one fixed text: one row in its errors table). */
    public static final String STALE = "read-after-write violation: own write not visible";

    /** Run seconds of at most this many violations are kept (enough to see when they cluster). */
    private static final int KEPT = 10_000;

    private final AtomicLong reads = new AtomicLong();
    private final AtomicLong violations = new AtomicLong();
    private final ConcurrentLinkedQueue<Integer> seconds = new ConcurrentLinkedQueue<>();
    private final IntSupplier clock;

    /** @param clock the current run second, to say when each violation happened */
    public ReadAfterWrite(IntSupplier clock) {
        this.clock = clock;
    }

    /** Records one read; returns normally if it saw the write, else counts it and throws (→ KO). */
    public void check(boolean sawOwnWrite) {
        reads.incrementAndGet();
        if (!sawOwnWrite) {
            if (violations.incrementAndGet() <= KEPT) {
                seconds.add(clock.getAsInt());
            }
            throw new IllegalStateException(STALE);
        }
    }

    /** The run seconds the (first 10,000) violations happened in. */
    public List<Integer> violationSeconds() {
        return List.copyOf(seconds);
    }

    public long reads() {
        return reads.get();
    }

    public long violations() {
        return violations.get();
    }
}
