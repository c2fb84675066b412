package dev.doorbuster.chaos;

import java.util.EnumSet;
import java.util.Set;

import dev.doorbuster.redis.RedisAdmin;
import dev.doorbuster.topology.CacheTier;

/**
 * A cold cache: every key gone at once, as after a Redis restart or a failover to an empty node. A server the
 * topology owns is restarted (its connections drop too); one it does not own is emptied with {@code FLUSHALL}.
 * Instant: the time to warm is what the verdict measures afterwards.
 */
public final class CacheFlush implements Fault {
    @Override
    public FaultKind kind() {
        return FaultKind.CACHE_FLUSH;
    }

    @Override
    public Set<Need> needs() {
        return EnumSet.of(Need.CACHE);
    }

    @Override
    public String describe() {
        return "cache restarted cold (every key gone)";
    }

    @Override
    public void inject(ChaosContext context) throws Exception {
        CacheTier cache = context.cache(this);
        long keys;
        try (RedisAdmin admin = RedisAdmin.connect(cache.directUrl())) {
            keys = admin.keyCount();
            if (!cache.restartable()) {
                admin.flushAll();
            }
        }
        if (cache.restartable()) {
            long started = System.nanoTime();
            cache.restartCold();
            context.effect(keys + " keys gone; Redis restarted in " + (System.nanoTime() - started) / 1_000_000 + " ms");
        } else {
            context.effect(keys + " keys gone (FLUSHALL)");
        }
    }

    @Override
    public void heal(ChaosContext context) {
        // Nothing to undo: the cache refills itself from the database, which is what is being watched.
    }
}
