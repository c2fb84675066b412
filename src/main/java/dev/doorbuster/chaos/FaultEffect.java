package dev.doorbuster.chaos;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What a fault measured, as the verdict and the reports read it. Faults record one with
 * {@link ChaosContext#effect(String, FaultEffect)}; the timeline keeps it as the event's {@code values} (the
 * numbers {@code verdict.json} has always carried), and {@link FaultTimeline.Event#effect()} turns them back
 * into the record. The value names live here and nowhere else.
 */
public sealed interface FaultEffect permits FaultEffect.Rto, FaultEffect.LagReached, FaultEffect.KeysExpired {

    /** This effect as the timeline event's {@code values} in {@code verdict.json}. */
    Map<String, Double> values();

    /**
     * The client-observed recovery time of a failover: from the fault's start to the first write the
     * application acknowledged.
     *
     * @param time      the RTO; when not {@code recovered}, how long the probe tried before giving up
     * @param recovered false if no write was acknowledged before the probe gave up
     */
    record Rto(Duration time, boolean recovered) implements FaultEffect {
        static final String MILLIS = "rtoMs";
        static final String UNRECOVERED = "rtoUnrecovered";

        public Rto {
            if (time == null || time.isNegative()) {
                throw new IllegalArgumentException("an RTO is a duration ≥ 0, got " + time);
            }
        }

        public long millis() {
            return time.toMillis();
        }

        @Override
        public Map<String, Double> values() {
            Map<String, Double> values = new LinkedHashMap<>();
            values.put(MILLIS, (double) millis());
            if (!recovered) {
                values.put(UNRECOVERED, 1.0);
            }
            return values;
        }
    }

    /**
     * The most a replica fell behind while a fault was active.
     *
     * @param bytes WAL written on the primary and not yet replayed on the replica, at most
     * @param time  the age of the replica's last replayed commit, at most
     */
    record LagReached(long bytes, Duration time) implements FaultEffect {
        static final String BYTES = "maxLagBytes";
        static final String MILLIS = "maxLagMs";

        public LagReached {
            if (bytes < 0 || time == null || time.isNegative()) {
                throw new IllegalArgumentException("a lag is ≥ 0 bytes and ≥ 0 ms, got " + bytes + " and " + time);
            }
        }

        public long millis() {
            return time.toMillis();
        }

        @Override
        public Map<String, Double> values() {
            Map<String, Double> values = new LinkedHashMap<>();
            values.put(BYTES, (double) bytes);
            values.put(MILLIS, (double) millis());
            return values;
        }
    }

    /**
     * Cached keys a fault made expire at once (the hot keys of {@link HotKeyExpiry}).
     *
     * @param count keys that were in the cache and expired (a key not cached when the fault hit is not counted)
     */
    record KeysExpired(int count) implements FaultEffect {
        static final String COUNT = "keysExpired";

        public KeysExpired {
            if (count < 0) {
                throw new IllegalArgumentException("a count of keys is ≥ 0, got " + count);
            }
        }

        @Override
        public Map<String, Double> values() {
            return Map.of(COUNT, (double) count);
        }
    }

    /**
     * The effect an event's {@code values} describe (read back from {@code verdict.json}), or empty for an
     * event that measured nothing. Unknown names are ignored.
     */
    static Optional<FaultEffect> of(Map<String, Double> values) {
        if (values == null || values.isEmpty()) {
            return Optional.empty();
        }
        Double rto = values.get(Rto.MILLIS);
        if (rto != null) {
            return Optional.of(new Rto(Duration.ofMillis(Math.round(rto)), !values.containsKey(Rto.UNRECOVERED)));
        }
        Double bytes = values.get(LagReached.BYTES);
        if (bytes != null) {
            Double ms = values.get(LagReached.MILLIS);
            return Optional.of(new LagReached(Math.round(bytes), Duration.ofMillis(ms == null ? 0 : Math.round(ms))));
        }
        Double expired = values.get(KeysExpired.COUNT);
        if (expired != null) {
            return Optional.of(new KeysExpired((int) Math.round(expired)));
        }
        return Optional.empty();
    }
}
