package dev.doorbuster.chaos;

import java.util.EnumSet;
import java.util.Set;

import dev.doorbuster.topology.CacheTier;

/**
 * The cache unreachable: its link refuses new connections and every live one is closed (the cache link's proxy,
 * {@link CacheTier#proxyName()}, is disabled). A storefront that falls back to the database survives it only if the
 * database can take the reads the cache used to absorb: the herd.
 */
public final class CacheDown implements Fault {
    @Override
    public FaultKind kind() {
        return FaultKind.CACHE_DOWN;
    }

    @Override
    public Set<Need> needs() {
        return EnumSet.of(Need.PROXY, Need.CACHE);
    }

    @Override
    public String describe() {
        return "cache link down (connections refused)";
    }

    @Override
    public void inject(ChaosContext context) throws Exception {
        context.proxy(context.cacheProxyName(this)).disable();
    }

    @Override
    public void heal(ChaosContext context) throws Exception {
        context.proxy(context.cacheProxyName(this)).enable();
    }
}
