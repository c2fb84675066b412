package dev.doorbuster.verdict;

import dev.doorbuster.verdict.consistency.CacheStaleness;

/**
 * The cache tier's section of {@code verdict.json} ({@code cache}), and of {@code chaos.html}: present when a read
 * was answered by the cache. What the cache tier's other measurements add goes beside {@code staleness}.
 *
 * @param staleness how long cache reads kept showing a state older than an acknowledged write
 */
public record CacheReport(CacheStaleness staleness) {
    /** The section for a run whose cache reads measured {@code staleness}; null when none was served by the cache. */
    public static CacheReport of(CacheStaleness staleness) {
        return staleness == null || staleness.cacheReads() <= 0 ? null : new CacheReport(staleness);
    }
}
