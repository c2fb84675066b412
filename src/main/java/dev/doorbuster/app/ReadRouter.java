package dev.doorbuster.app;

import java.sql.SQLException;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import dev.doorbuster.app.Database.Pool;
import dev.doorbuster.app.Database.Role;
import dev.doorbuster.app.Database.SqlWork;
import dev.doorbuster.app.StorefrontConfig.Routing;
import io.micrometer.core.instrument.Counter;

/**
 * Decides, for each read, whether the replica or the primary serves it, and counts every decision in
 * {@code storefront_read_routing_total{policy,decision}}. The policies are the classic answers to
 * "my read did not see my write": none ({@code replica}), avoid the replica ({@code primary}), pin the
 * client to the primary for a while ({@code sticky}), or wait until the replica has replayed the write
 * ({@code read-your-writes}).
 */
final class ReadRouter {
    /** Where a read went and why; {@link #tag} is the metric's {@code decision} value. */
    enum Decision {
        REPLICA("replica", Role.READER),
        PRIMARY("primary", Role.WRITER),
        REPLICA_AFTER_WAIT("replica_after_wait", Role.READER),
        PRIMARY_FALLBACK("primary_fallback", Role.WRITER),
        PRIMARY_STICKY("primary_sticky", Role.WRITER);

        final String tag;
        final Role role;

        Decision(String tag, Role role) {
            this.tag = tag;
            this.role = role;
        }
    }

    /**
     * What a read returned and which pool answered it: its role is {@code X-Served-By}, its name
     * {@code X-Served-By-Pool}.
     */
    record Served<T>(T value, Pool servedBy) {
    }

    /** Longest client id remembered by the sticky policy; longer ones are refused (unbounded keys = memory). */
    static final int MAX_CLIENT_ID_LENGTH = 200;
    /** The sticky table is pruned of expired entries when it grows past this many clients. */
    private static final int STICKY_PRUNE_SIZE = 100_000;

    private final Routing policy;
    private final Database database;
    private final long rywWaitNanos;
    private final long stickyNanos;
    private final Map<Decision, Counter> counters = new EnumMap<>(Decision.class);
    private final ConcurrentHashMap<String, Long> lastWriteByClient = new ConcurrentHashMap<>();
    private final AtomicLong lastPrune = new AtomicLong(System.nanoTime());

    ReadRouter(StorefrontConfig config, Database database, StorefrontMetrics metrics) {
        this.policy = config.routing();
        this.database = database;
        this.rywWaitNanos = TimeUnit.MILLISECONDS.toNanos(config.rywWaitMs());
        this.stickyNanos = TimeUnit.MILLISECONDS.toNanos(config.stickyMs());
        for (Decision d : possibleDecisions(policy)) {
            counters.put(d, metrics.readRouting(policy, d.tag)); // registered up front: series exist at 0
        }
    }

    static Decision[] possibleDecisions(Routing policy) {
        return switch (policy) {
            case REPLICA -> new Decision[] {Decision.REPLICA};
            case PRIMARY -> new Decision[] {Decision.PRIMARY};
            case STICKY -> new Decision[] {Decision.REPLICA, Decision.PRIMARY_STICKY};
            case READ_YOUR_WRITES -> new Decision[] {Decision.REPLICA, Decision.REPLICA_AFTER_WAIT, Decision.PRIMARY_FALLBACK};
        };
    }

    /**
     * Runs the read {@code query} where the policy says.
     *
     * @param clientId the client's {@code X-Client-Id}, or null
     * @param token the {@code X-Consistency-Token} the client got from its last write, or null
     */
    <T> Served<T> read(String clientId, String token, SqlWork<T> query) {
        return switch (policy) {
            case REPLICA -> on(Decision.REPLICA, query);
            case PRIMARY -> on(Decision.PRIMARY, query);
            case STICKY -> on(recentlyWrote(clientId) ? Decision.PRIMARY_STICKY : Decision.REPLICA, query);
            case READ_YOUR_WRITES -> token == null ? on(Decision.REPLICA, query)
                    : Database.PRIMARY_TOKEN.equals(token.strip()) ? on(Decision.PRIMARY_FALLBACK, query)
                    : readYourWrites(parseToken(token), query);
        };
    }

    /** Called after every successful write, so the sticky policy can pin the client. */
    void wrote(String clientId) {
        if (policy != Routing.STICKY || clientId == null) {
            return;
        }
        long now = System.nanoTime();
        long pruned = lastPrune.get();
        // Expired entries are dropped lazily on read; a sweep bounds memory when many clients never read
        // again, at most once per sticky window so a large table is not rescanned on every write.
        if (lastWriteByClient.size() >= STICKY_PRUNE_SIZE && now - pruned >= stickyNanos
                && lastPrune.compareAndSet(pruned, now)) {
            lastWriteByClient.values().removeIf(t -> now - t >= stickyNanos);
        }
        lastWriteByClient.put(clientId, now);
    }

    private boolean recentlyWrote(String clientId) {
        if (clientId == null) {
            return false;
        }
        Long at = lastWriteByClient.get(clientId);
        if (at == null) {
            return false;
        }
        if (System.nanoTime() - at < stickyNanos) {
            return true;
        }
        lastWriteByClient.remove(clientId, at);
        return false;
    }

    /**
     * Runs {@code query} on the primary whatever the policy: for a cache refill that must not cache a replica's
     * stale row. Not a routing decision, so not counted as one.
     */
    <T> Served<T> onPrimary(SqlWork<T> query) {
        return new Served<>(database.read(Pool.WRITER, answeredBy(Pool.WRITER, query)), Pool.WRITER);
    }

    private <T> Served<T> on(Decision decision, SqlWork<T> query) {
        counters.get(decision).increment();
        // Every replica read picks its reader pool anew (Database#pickReader): per-query balancing.
        Pool pool = decision.role == Role.READER ? database.pickReader() : Pool.WRITER;
        return new Served<>(database.read(pool, answeredBy(pool, query)), pool);
    }

    /** {@code query}, whose "not found" answers say which server gave them (they are reads too). */
    private static <T> SqlWork<T> answeredBy(Pool pool, SqlWork<T> query) {
        return c -> {
            try {
                return query.run(c);
            } catch (ApiError e) {
                throw e.status() == 404 ? e.answeredBy(Api.servedBy(pool)) : e;
            }
        };
    }

    /**
     * Serves from the replica once it has replayed the client's last write, checked on the very connection
     * that will run the query (a connection of the reader pool picked for this read, when there are several).
     * While waiting (bounded by --ryw-wait-ms) the reader connection stays held: simple and exact, at the
     * price of reader-pool pressure when the replica lags, which is the trade-off this policy shows under
     * load. Then falls back to the primary.
     */
    private <T> Served<T> readYourWrites(long token, SqlWork<T> query) {
        Pool reader = database.pickReader();
        Served<T> fromReplica = database.read(reader, c -> {
            long deadline = System.nanoTime() + rywWaitNanos;
            long pause = 1;
            for (boolean waited = false; ; waited = true) {
                Long visible = Database.visibleLsn(c);
                if (visible != null && visible >= token) {
                    counters.get(waited ? Decision.REPLICA_AFTER_WAIT : Decision.REPLICA).increment();
                    return new Served<>(answeredBy(reader, query).run(c), reader);
                }
                if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(pause) > deadline) {
                    return null;
                }
                sleep(pause);
                pause = Math.min(pause * 2, 10); // replay of a small commit takes ~1 ms once it arrives
            }
        });
        if (fromReplica != null) {
            return fromReplica;
        }
        return on(Decision.PRIMARY_FALLBACK, query);
    }

    private static long parseToken(String token) {
        try {
            return Database.parseLsn(token.strip());
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest(StorefrontHeaders.CONSISTENCY_TOKEN + " must be an LSN like 0/16B3748, or 'primary', as returned by "
                    + "a write");
        }
    }

    private static void sleep(long millis) throws SQLException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("interrupted while waiting for the replica", e);
        }
    }
}
