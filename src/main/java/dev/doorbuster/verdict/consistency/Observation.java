package dev.doorbuster.verdict.consistency;

import java.util.Objects;

/**
 * What one answer showed of one key: the server's version of it and an identity of the state at that
 * version (the value written, a canonical list of a cart's items, an order's idempotency key). Versions
 * alone are not enough: after a failover a promoted replica hands out the same version numbers again, so
 * "version 5" on the new primary may hold something else than the "version 5" a user saw before.
 *
 * @param version the server's version of the key; {@link #ABSENT} when the key does not exist
 * @param value   an identity of the state at that version, or null when absent
 */
public record Observation(long version, String value) {
    /** The version of a key that does not exist (yet, or any more). */
    public static final long ABSENT = Long.MIN_VALUE;

    public static Observation of(long version, String value) {
        if (version == ABSENT) {
            throw new IllegalArgumentException("version " + ABSENT + " is reserved for an absent key");
        }
        return new Observation(version, value);
    }

    public static Observation absent() {
        return new Observation(ABSENT, null);
    }

    @com.fasterxml.jackson.annotation.JsonIgnore
    public boolean isAbsent() {
        return version == ABSENT;
    }

    /**
     * True when a reader who already knows {@code known} may see this: a newer version, or the very same
     * state. An older version, or the same version holding another state (a forked history), may not.
     */
    public boolean atLeast(Observation known) {
        return version > known.version || (version == known.version && Objects.equals(value, known.value));
    }

    @Override
    public String toString() {
        return isAbsent() ? "absent" : "version " + version + (value == null ? "" : " '" + value + "'");
    }
}
