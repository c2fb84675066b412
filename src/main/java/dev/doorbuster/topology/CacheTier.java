package dev.doorbuster.topology;

/**
 * The cache tier of a running topology: a Redis server the application reaches through the chaos proxy
 * {@link #PROXY}, and the harness directly (never through the proxy: faulting the cache must not blind the oracle).
 */
public interface CacheTier {
    /** The chaos proxy on the application's link to the cache, wherever the topology makes that proxy itself. */
    String PROXY = "cache";

    /**
     * The name of the chaos proxy on the application's link to the cache: {@link #PROXY} where the topology creates
     * it (local, docker); an external environment's own name for it ({@code proxy.proxies.cache}), or null when it
     * names none (the faults that act through that proxy are then refused).
     */
    default String proxyName() {
        return PROXY;
    }

    /** {@code redis://host:port} of the server itself, for the harness's statistics and cache commands. */
    String directUrl();

    /** True if the topology owns the server and can restart it ({@link #restartCold()}). */
    boolean restartable();

    /**
     * Stops the server and starts it again empty on the same address: every key and every client connection gone,
     * as after a crash or a failover to a cold node.
     *
     * @throws UnsupportedOperationException when not {@link #restartable()}
     */
    void restartCold();
}
