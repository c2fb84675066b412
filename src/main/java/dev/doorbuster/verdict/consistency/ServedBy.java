package dev.doorbuster.verdict.consistency;

import dev.doorbuster.app.StorefrontHeaders;

/**
 * Who answered a read, as the history, the witnesses and the checks name it: the answer's
 * {@link StorefrontHeaders#SERVED_BY X-Served-By} role, with its {@link StorefrontHeaders#SERVED_BY_POOL
 * X-Served-By-Pool} in brackets when given: {@code replica (reader-2)}, {@code primary (writer)}, {@code cache (cache)}.
 * Made here and read back here, so the journal's text and what the checks look for cannot drift apart.
 */
public final class ServedBy {
    private ServedBy() {
    }

    /** The name of an answer's server from its two headers (either may be missing: null when the role is). */
    public static String of(String role, String pool) {
        return pool == null || role == null ? role : role + " (" + pool + ")";
    }

    /** True when {@code servedBy} (as {@link #of} made it) names the cache tier: the answer is a cache hit. */
    public static boolean cache(String servedBy) {
        return StorefrontHeaders.CACHE.equals(role(servedBy));
    }

    /** The {@code X-Served-By} role in {@code servedBy}, without the pool; null for null. */
    static String role(String servedBy) {
        if (servedBy == null) {
            return null;
        }
        int bracket = servedBy.indexOf(" (");
        return bracket < 0 ? servedBy : servedBy.substring(0, bracket);
    }
}
