package dev.doorbuster.chaos;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import dev.doorbuster.app.CacheKeys;
import dev.doorbuster.redis.RedisAdmin;

/**
 * The hottest keys expire at a chosen instant, at peak: the doorbusters' product pages drop out of the cache at once
 * (their TTL set to a millisecond through the harness's own connection), and every request for them in the next
 * moment misses. Without stampede protection each of those misses reads the database: the thundering herd this fault
 * exists to show. Instant: schedule it with a short window, the second after it is what the verdict looks at.
 */
public final class HotKeyExpiry implements Fault {
    private final List<Long> productIds;

    private HotKeyExpiry(List<Long> productIds) {
        if (productIds.isEmpty()) {
            throw new IllegalArgumentException("HotKeyExpiry needs at least one product id");
        }
        this.productIds = List.copyOf(productIds);
    }

    /** The product pages of {@code productIds} (the doorbusters) expire. */
    public static HotKeyExpiry ofProducts(List<Long> productIds) {
        return new HotKeyExpiry(productIds);
    }

    /** The product ids whose pages expire. */
    public List<Long> productIds() {
        return productIds;
    }

    @Override
    public FaultKind kind() {
        return FaultKind.HOT_KEY_EXPIRY;
    }

    @Override
    public Set<Need> needs() {
        return EnumSet.of(Need.CACHE);
    }

    @Override
    public String describe() {
        return "cached pages of products " + productIds + " expire at once";
    }

    @Override
    public void inject(ChaosContext context) throws Exception {
        List<String> keys = productIds.stream().map(CacheKeys::product).toList();
        try (RedisAdmin admin = RedisAdmin.connect(context.cache(this).directUrl())) {
            int cached = admin.expireNow(keys);
            context.effect(cached + " of " + keys.size() + " hot keys were cached and expired",
                    new FaultEffect.KeysExpired(cached));
        }
    }

    @Override
    public void heal(ChaosContext context) {
        // Nothing to undo: the next requests refill the keys, which is what is being watched.
    }
}
