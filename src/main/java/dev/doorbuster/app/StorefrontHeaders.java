package dev.doorbuster.app;

/**
 * The HTTP headers of the storefront's contract with its clients, named once: the storefront reads and writes
 * them, and the harness (which may depend on {@code app}, never the other way round) sends and checks the same
 * names. A service of your own that the harness drives speaks these too.
 */
public final class StorefrontHeaders {
    /** A client's identity (the harness: one per shopper); {@code sticky} routing keeps its reads on the primary. */
    public static final String CLIENT_ID = "X-Client-Id";
    /**
     * Answered by every write (the primary's WAL position after its commit, e.g. {@code 0/16B3748}); sent back on
     * reads so that {@code read-your-writes} routing waits for the replica to have replayed it.
     */
    public static final String CONSISTENCY_TOKEN = "X-Consistency-Token";
    /** The role of the server that answered a read: {@code primary}, {@code replica} or {@link #CACHE cache}. */
    public static final String SERVED_BY = "X-Served-By";
    /**
     * The name of the pool that answered ({@code writer}, {@code reader}, {@code reader-2}...): which replica; or
     * {@link #CACHE cache}.
     */
    public static final String SERVED_BY_POOL = "X-Served-By-Pool";
    /** {@link #SERVED_BY} and {@link #SERVED_BY_POOL} of a read answered from the cache tier (a hit). */
    public static final String CACHE = "cache";
    /** The client's key of a write (the IETF httpapi draft's header): a retry gets the first answer back. */
    public static final String IDEMPOTENCY_KEY = "Idempotency-Key";
    /** {@code true} on an answer replayed for a retried {@link #IDEMPOTENCY_KEY} instead of writing again. */
    public static final String IDEMPOTENT_REPLAYED = "Idempotent-Replayed";

    private StorefrontHeaders() {
    }
}
