package dev.doorbuster.verdict.probes;

/**
 * The cache tier in one second of the run, as cumulative counters from two witnesses that do not share code: the
 * application's own meters ({@code /metrics}: its lookups by outcome and its database reads) and Redis's own
 * statistics ({@code INFO stats}, read directly, never through the chaos proxy). NaN when a witness could not be read
 * that second (a black-holed or restarting cache, a busy application).
 *
 * @param lookupHits          the application's cache lookups answered from the cache
 * @param lookupMisses        its lookups that found nothing
 * @param lookupErrors        its lookups that failed or timed out
 * @param databaseReads       database reads of its cacheable endpoints, every kind (refills included)
 * @param productReads        of which product pages (the hot keys of a doorbuster sale)
 * @param redisHits           Redis's {@code keyspace_hits}; it restarts at 0 with a cold restart
 * @param redisMisses         Redis's {@code keyspace_misses}
 */
public record CacheSample(int second, double lookupHits, double lookupMisses, double lookupErrors,
                          double databaseReads, double productReads, double redisHits, double redisMisses) {
}
