package dev.doorbuster.app;

import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import dev.doorbuster.app.Api.RawJson;
import dev.doorbuster.app.Api.Reply;
import dev.doorbuster.app.Api.Request;
import dev.doorbuster.app.CacheMeters.Fill;
import dev.doorbuster.app.CacheMeters.Invalidation;
import dev.doorbuster.app.CacheMeters.Kind;
import dev.doorbuster.app.CacheMeters.Lookup;
import dev.doorbuster.app.Database.Pool;
import dev.doorbuster.app.Database.SqlWork;
import dev.doorbuster.app.ReadRouter.Served;
import dev.doorbuster.app.StorefrontConfig.CacheInvalidation;
import dev.doorbuster.app.StorefrontConfig.CacheOnError;
import dev.doorbuster.app.StorefrontConfig.CacheRefill;
import dev.doorbuster.app.StorefrontConfig.CacheStampede;
import io.micrometer.core.instrument.Counter;

/**
 * The cacheable reads (a product, a page of products, a cart, a profile) and the cache-aside tier in front of them,
 * when there is one ({@code --cache-url}); without one, the read goes through the {@link ReadRouter} exactly as any
 * other. Either way each execution of the read's query is counted ({@link CacheMeters#DATABASE_READS}), so a run can
 * tell how many database reads a request costs with and without the cache.
 *
 * <p>With a cache, a read looks its key up ({@link CacheKeys}): a hit answers the cached bytes, which are exactly the
 * JSON the endpoint answered when they were cached, with {@code X-Served-By: cache} and {@code X-Served-By-Pool:
 * cache}. A miss reads the database ({@code --cache-refill}: the writer pool, or the read routing and so possibly a
 * lagging replica), answers with that pool's headers as without a cache, and caches the answer for
 * {@code --cache-ttl-ms}. A "not found" is not cached: a created row must not stay invisible for a TTL. A cache that
 * fails or does not answer within {@code --cache-timeout-ms} is, per {@code --cache-on-error}, a miss (the database
 * answers, and nothing is cached: a cache that has just failed would most likely fail the write too, and make the
 * request wait once more) or a 503 {@code cache_unavailable}.
 *
 * <p>Writes ({@link #invalidate}) delete the keys of what they changed once their transaction has committed
 * ({@code --cache-invalidation delete-after-commit}), or nothing ({@code none}, the classic bug). Pages of products
 * are never deleted by a write (an order changes the stock shown on every page listing its products, and finding them
 * all would cost more than the cache saves): they are refreshed by their TTL only, so a listing may show stock up to a
 * TTL old. Product, cart and profile reads show a committed write at once, with two known exceptions of cache-aside
 * with deletes: a miss that read the database before a write committed and fills the cache after the write's delete
 * caches the old row until the TTL; and a refill from a lagging replica caches what the replica had. A delete that
 * fails is retried ({@link DeleteRetries}), and until it succeeds this storefront reads that key from the database.
 *
 * <p>Concurrent misses of one key each read the database ({@code --cache-stampede none}), or only the first does and
 * the others, in this storefront, wait for its answer, at most the request bound ({@code single-flight}). A waiter
 * gets the first request's answer whatever its own consistency token says, as a hit would.
 */
final class CachedReads implements AutoCloseable {
    /** An answer as cached: the JSON bytes, and the pool that read them from the database. */
    private record Loaded(byte[] json, Pool servedBy) {
    }

    private static final Map<String, String> SERVED_BY_CACHE = Map.of(StorefrontHeaders.SERVED_BY, StorefrontHeaders.CACHE,
            StorefrontHeaders.SERVED_BY_POOL, StorefrontHeaders.CACHE);

    private final ReadRouter router;
    private final CacheAside cache;
    private final long ttlMs;
    private final CacheInvalidation invalidation;
    private final CacheRefill refill;
    private final CacheOnError onError;
    private final boolean singleFlight;
    private final long waitNanos;
    private final Map<Kind, Counter> databaseReads = new EnumMap<>(Kind.class);
    private final Map<Kind, Map<Lookup, Counter>> lookups = new EnumMap<>(Kind.class);
    private final Map<Kind, Map<Fill, Counter>> fills = new EnumMap<>(Kind.class);
    private final Map<Invalidation, Counter> invalidations = new EnumMap<>(Invalidation.class);
    private final Map<Kind, Counter> singleFlightWaits = new EnumMap<>(Kind.class);
    /** Deletes that failed after a commit, retried; null without a cache or without invalidation. */
    private final DeleteRetries deleteRetries;
    /** Single-flight: the database read under way for each key, which other misses of that key wait for. */
    private final ConcurrentHashMap<String, CompletableFuture<Loaded>> inFlight = new ConcurrentHashMap<>();

    /** {@code cache} null: no cache tier, every read goes to the database. */
    CachedReads(StorefrontConfig config, ReadRouter router, CacheAside cache, StorefrontMetrics metrics) {
        this.router = router;
        this.cache = cache;
        this.ttlMs = config.cacheTtlMs();
        this.invalidation = config.cacheInvalidation();
        this.refill = config.cacheRefill();
        this.onError = config.cacheOnError();
        this.singleFlight = config.cacheStampede() == CacheStampede.SINGLE_FLIGHT;
        this.waitNanos = TimeUnit.MILLISECONDS.toNanos(config.requestTimeoutMs());
        // Registered up front: every series exists at 0, so a scraper tells "none yet" from "not measured".
        for (Kind kind : Kind.values()) {
            databaseReads.put(kind, metrics.databaseReads(kind));
            if (cache == null) {
                continue;
            }
            Map<Lookup, Counter> byOutcome = new EnumMap<>(Lookup.class);
            for (Lookup outcome : Lookup.values()) {
                byOutcome.put(outcome, metrics.cacheLookups(kind, outcome));
            }
            lookups.put(kind, byOutcome);
            Map<Fill, Counter> fillOutcomes = new EnumMap<>(Fill.class);
            for (Fill outcome : Fill.values()) {
                fillOutcomes.put(outcome, metrics.cacheFills(kind, outcome));
            }
            fills.put(kind, fillOutcomes);
            singleFlightWaits.put(kind, metrics.singleFlightWaits(kind));
        }
        if (cache != null) {
            for (Invalidation outcome : Invalidation.values()) {
                invalidations.put(outcome, metrics.cacheInvalidations(outcome));
            }
        }
        this.deleteRetries = cache == null || invalidation == CacheInvalidation.NONE ? null
                : new DeleteRetries(cache, ttlMs, invalidations);
    }

    /**
     * Answers the read {@code query} of {@code kind}, cached under {@code key}: from the cache if it holds the key,
     * else from the database (see the class comment).
     */
    Reply read(Kind kind, String key, Request request, SqlWork<?> query) {
        Counter reads = databaseReads.get(kind);
        SqlWork<?> counted = c -> {
            reads.increment();
            return query.run(c);
        };
        if (cache == null) {
            Served<?> served = router.read(request.clientId(), request.token(), counted);
            return Reply.ok(served.value(), served.servedBy());
        }
        boolean fill = true;
        if (deleteRetries != null && deleteRetries.pending(key)) {
            // A write's delete of this key failed and is being retried: the cached copy may be the old state.
            lookups.get(kind).get(Lookup.MISS).increment();
            Loaded loaded = load(kind, key, request, counted, false);
            return Reply.ok(new RawJson(loaded.json()), loaded.servedBy());
        }
        try {
            byte[] cached = cache.get(key);
            if (cached != null) {
                lookups.get(kind).get(Lookup.HIT).increment();
                return new Reply(200, new RawJson(cached), SERVED_BY_CACHE);
            }
            lookups.get(kind).get(Lookup.MISS).increment();
        } catch (CacheAside.Unavailable e) {
            lookups.get(kind).get(Lookup.ERROR).increment();
            cache.warn("lookup of " + key, e);
            if (onError == CacheOnError.FAIL) {
                throw ApiError.cacheUnavailable("The cache is unreachable or did not answer in time; retry shortly.");
            }
            fill = false;
        }
        Loaded loaded = singleFlight ? loadOnce(kind, key, request, counted, fill) : load(kind, key, request, counted,
                fill);
        return Reply.ok(new RawJson(loaded.json()), loaded.servedBy());
    }

    /**
     * After a write: deletes {@code keys} (what the write changed) from the cache, unless invalidation is off. Called
     * once the write's transaction has committed, or its commit failed without an answer (it may have committed;
     * a needless delete costs one miss). A failed delete is counted, logged and retried in the background
     * ({@link DeleteRetries}); the write stands and is answered at once.
     */
    void invalidate(List<String> keys) {
        if (cache == null || invalidation == CacheInvalidation.NONE || keys.isEmpty()) {
            return;
        }
        List<String> distinct = List.copyOf(new LinkedHashSet<>(keys));
        try {
            long deleted = cache.delete(distinct);
            invalidations.get(Invalidation.DELETED).increment(deleted);
            invalidations.get(Invalidation.ABSENT).increment(distinct.size() - deleted);
        } catch (CacheAside.Unavailable e) {
            invalidations.get(Invalidation.ERROR).increment(distinct.size());
            // Pending before the write is answered: from now on this storefront reads these keys from the database.
            deleteRetries.add(distinct);
            cache.warn("delete of " + distinct + " after a write (retried; read from the database meanwhile)", e);
        }
    }

    /** Single-flight: the first miss of {@code key} reads the database; misses meanwhile wait for its answer. */
    private Loaded loadOnce(Kind kind, String key, Request request, SqlWork<?> counted, boolean fill) {
        CompletableFuture<Loaded> mine = new CompletableFuture<>();
        CompletableFuture<Loaded> running = inFlight.putIfAbsent(key, mine);
        if (running != null) {
            singleFlightWaits.get(kind).increment();
            return await(running);
        }
        try {
            Loaded loaded = load(kind, key, request, counted, false);
            // Waiters are answered first; the key stays claimed until the fill is done, so a miss arriving
            // meanwhile takes this answer rather than reading the database again.
            mine.complete(loaded);
            if (fill) {
                fill(kind, key, loaded.json());
            }
            return loaded;
        } catch (RuntimeException | Error e) {
            mine.completeExceptionally(e); // a 404 or a 503 is the waiters' answer too
            throw e;
        } finally {
            inFlight.remove(key, mine);
        }
    }

    private Loaded await(CompletableFuture<Loaded> running) {
        try {
            return running.get(waitNanos, TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException failure) {
                throw failure;
            }
            if (e.getCause() instanceof Error error) {
                throw error;
            }
            throw new IllegalStateException(e.getCause());
        } catch (TimeoutException e) {
            throw ApiError.timeout("Another request's database read of the same data did not finish within the "
                    + "request time limit.");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ApiError.timeout("Interrupted while waiting for another request's database read.");
        }
    }

    private Loaded load(Kind kind, String key, Request request, SqlWork<?> counted, boolean fill) {
        Served<?> served = refill == CacheRefill.PRIMARY ? router.onPrimary(counted)
                : router.read(request.clientId(), request.token(), counted);
        Loaded loaded = new Loaded(Json.write(served.value()), served.servedBy());
        if (fill) {
            fill(kind, key, loaded.json());
        }
        return loaded;
    }

    private void fill(Kind kind, String key, byte[] json) {
        if (deleteRetries != null && deleteRetries.pending(key)) {
            return; // read before a write whose delete is still pending: it may be the old state
        }
        try {
            cache.set(key, json, ttlMs);
            fills.get(kind).get(Fill.OK).increment();
        } catch (CacheAside.Unavailable e) {
            fills.get(kind).get(Fill.ERROR).increment();
            cache.warn("fill of " + key, e);
        }
    }

    /** Stops the delete retries (the cache connection is the storefront's to close). */
    @Override
    public void close() {
        if (deleteRetries != null) {
            deleteRetries.close();
        }
    }
}
