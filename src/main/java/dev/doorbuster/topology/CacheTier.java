package dev.doorbuster.topology;

/**
 * The cache tier of a running topology: a Redis server the application reaches through the chaos proxy
 * {@link #PROXY}, and the harness directly (never through the proxy: faulting the cache must not blind the oracle).
 */
public interface CacheTier {
    /** The chaos proxy on the application's link to the cache, in every environment. */
    String PROXY = "cache";

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
