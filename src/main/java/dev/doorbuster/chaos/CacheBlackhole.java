package dev.doorbuster.chaos;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import dev.doorbuster.topology.CacheTier;
import eu.rekawek.toxiproxy.model.ToxicDirection;

/**
 * The cache swallows traffic: connections stay open, commands go nowhere and nothing is answered (a {@code timeout}
 * toxic of 0 ms on both directions of the cache link's proxy, {@link CacheTier#proxyName()}: data is held until the
 * toxic goes, the connection is never closed). Unlike a refused connection, only the client's own command timeout ends
 * each wait: with a client library's default of a minute, every request that touches the cache hangs.
 */
public final class CacheBlackhole implements Fault {
    static final String TOXIC_UPSTREAM = "doorbuster-cache-blackhole-up";
    static final String TOXIC_DOWNSTREAM = "doorbuster-cache-blackhole-down";

    @Override
    public FaultKind kind() {
        return FaultKind.CACHE_BLACKHOLE;
    }

    @Override
    public Set<Need> needs() {
        return EnumSet.of(Need.PROXY, Need.CACHE);
    }

    @Override
    public String describe() {
        return "cache link black-holed (connections open, nothing answered)";
    }

    @Override
    public void inject(ChaosContext context) throws Exception {
        var toxics = context.proxy(context.cacheProxyName(this)).toxics();
        toxics.timeout(TOXIC_UPSTREAM, ToxicDirection.UPSTREAM, 0);
        toxics.timeout(TOXIC_DOWNSTREAM, ToxicDirection.DOWNSTREAM, 0);
    }

    @Override
    public void heal(ChaosContext context) throws Exception {
        List<String> cache = List.of(context.cacheProxyName(this));
        Toxics.removeEverywhere(context, cache, TOXIC_UPSTREAM);
        Toxics.removeEverywhere(context, cache, TOXIC_DOWNSTREAM);
    }
}
