package dev.doorbuster.app;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import dev.doorbuster.app.CacheMeters.Invalidation;
import io.micrometer.core.instrument.Counter;

/**
 * The cache deletes that failed after a write committed, retried in the background until Redis confirms them.
 *
 * <p>Without this, one delete that times out (a 50 ms command timeout is one GC pause on a busy machine) or meets a
 * reconnecting client leaves the pre-write copy cached for its whole TTL: the writer reads their own write back and
 * sees the old state. While a key's delete is pending, reads of it skip the cache and fills of it are not made
 * ({@link #pending}), so this storefront never serves the copy the write made stale, and the write is answered at once
 * as before. Other storefront instances sharing the cache do not know about the pending key: they may serve the old
 * copy until the retry succeeds (usually within {@value #RETRY_EVERY_MS} ms of the cache answering again).
 *
 * <p>A retry stops when the copy's TTL, counted from the write, has passed (Redis has dropped it by then), or when more
 * than {@value #MAX_PENDING} keys are pending (a cache that has been unreachable through a long burst of writes): those
 * are counted as {@link Invalidation#GAVE_UP}.
 */
final class DeleteRetries implements AutoCloseable {
    static final long RETRY_EVERY_MS = 100;
    static final int MAX_PENDING = 100_000;
    /** Keys per retried DEL: a long outage's backlog is sent in bounded commands. */
    private static final int BATCH = 500;

    private final CacheAside cache;
    private final long ttlNanos;
    /** Key → when its copy has expired anyway (the TTL after the latest write whose delete failed). */
    private final ConcurrentHashMap<String, Long> pending = new ConcurrentHashMap<>();
    private final Map<Invalidation, Counter> outcomes;
    private final ScheduledExecutorService retrier;

    DeleteRetries(CacheAside cache, long ttlMs, Map<Invalidation, Counter> outcomes) {
        this.cache = cache;
        this.ttlNanos = TimeUnit.MILLISECONDS.toNanos(ttlMs);
        this.outcomes = outcomes;
        this.retrier = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "storefront-cache-delete-retry");
            t.setDaemon(true);
            return t;
        });
        retrier.scheduleWithFixedDelay(this::retry, RETRY_EVERY_MS, RETRY_EVERY_MS, TimeUnit.MILLISECONDS);
    }

    /** Remembers {@code keys}, whose delete after a committed write failed, for retrying. */
    void add(List<String> keys) {
        long expires = System.nanoTime() + ttlNanos;
        for (String key : keys) {
            if (pending.size() >= MAX_PENDING && !pending.containsKey(key)) {
                outcomes.get(Invalidation.GAVE_UP).increment();
                continue;
            }
            pending.merge(key, expires, Math::max);
        }
    }

    /** Whether {@code key}'s cached copy may be older than a committed write (its delete has not succeeded yet). */
    boolean pending(String key) {
        return !pending.isEmpty() && pending.containsKey(key);
    }

    /** How many keys wait for their delete (tests, and the warning). */
    int size() {
        return pending.size();
    }

    private void retry() {
        if (pending.isEmpty()) {
            return;
        }
        try {
            long now = System.nanoTime();
            List<Map.Entry<String, Long>> batch = new ArrayList<>();
            for (Map.Entry<String, Long> entry : pending.entrySet()) {
                if (entry.getValue() - now <= 0) {
                    if (pending.remove(entry.getKey(), entry.getValue())) {
                        outcomes.get(Invalidation.GAVE_UP).increment();
                    }
                } else if (batch.size() < BATCH) {
                    batch.add(Map.entry(entry.getKey(), entry.getValue()));
                }
            }
            if (batch.isEmpty()) {
                return;
            }
            List<String> keys = batch.stream().map(Map.Entry::getKey).toList();
            long deleted = cache.delete(keys);
            outcomes.get(Invalidation.DELETED).increment(deleted);
            outcomes.get(Invalidation.ABSENT).increment(keys.size() - deleted);
            // Only the entries this DEL covered: a key whose write failed its delete again meanwhile has a later
            // expiry, and stays pending for the next round (this DEL may have run before that write committed).
            for (Map.Entry<String, Long> entry : batch) {
                pending.remove(entry.getKey(), entry.getValue());
            }
        } catch (CacheAside.Unavailable e) {
            cache.warn("retry of " + pending.size() + " deletes after writes (those keys are read from the database "
                    + "meanwhile)", e);
        } catch (RuntimeException e) {
            // never let the scheduled task die: a later round retries
            cache.warn("retry of deletes after writes", new CacheAside.Unavailable(e.toString()));
        }
    }

    /** Stops retrying; what is still pending expires by its TTL. */
    @Override
    public void close() {
        retrier.shutdownNow();
        try {
            retrier.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
