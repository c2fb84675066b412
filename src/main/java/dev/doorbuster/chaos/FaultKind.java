package dev.doorbuster.chaos;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import dev.doorbuster.topology.Environment;
import dev.doorbuster.topology.EnvironmentException;

/**
 * Every kind of fault there is, by the name environments grant it with in {@code allowFaults}. The
 * names live here, with the faults: an environment file naming any other is refused by
 * {@link #checkAllowFaults(Environment)} before anything starts.
 */
public enum FaultKind {
    REPLICATION_LAG("ReplicationLag"),
    REPLICATION_CUT("ReplicationCut"),
    PRIMARY_FAILOVER("PrimaryFailover"),
    DB_LATENCY("DbLatency"),
    CONNECTION_RESET("ConnectionReset"),
    PROXY_DOWN("ProxyDown"),
    CACHE_DOWN("CacheDown"),
    CACHE_BLACKHOLE("CacheBlackhole"),
    CACHE_LATENCY("CacheLatency"),
    CACHE_FLUSH("CacheFlush"),
    HOT_KEY_EXPIRY("HotKeyExpiry"),
    POOLER_PAUSE("PoolerPause"),
    POOLER_RESTART("PoolerRestart"),
    SCALE_OUT("ScaleOut");

    private final String label;

    FaultKind(String label) {
        this.label = label;
    }

    /** The name in {@code allowFaults} and on the timeline ({@code ReplicationLag}). */
    public String label() {
        return label;
    }

    /** Every name {@code allowFaults} accepts, in this order. */
    public static List<String> labels() {
        return Arrays.stream(values()).map(FaultKind::label).toList();
    }

    /** The kind named {@code label} exactly, if there is one. */
    public static Optional<FaultKind> named(String label) {
        return Arrays.stream(values()).filter(k -> k.label.equals(label)).findFirst();
    }

    /**
     * Refuses an environment whose {@code allowFaults} names a fault that does not exist, naming the file,
     * the field and the names allowed (as {@code EnvironmentLoader} does for every other field).
     */
    public static void checkAllowFaults(Environment environment) {
        List<String> granted = environment.allowFaults() == null ? List.of() : environment.allowFaults();
        for (int i = 0; i < granted.size(); i++) {
            if (named(granted.get(i)).isEmpty()) {
                throw new EnvironmentException(environment.source() + ": field 'allowFaults[" + i + "]' is '"
                        + granted.get(i) + "'; expected one of " + String.join(", ", labels()) + ".");
            }
        }
    }

    @Override
    public String toString() {
        return label;
    }
}
