package dev.doorbuster.proxy.toxics;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The registry of toxic types, and small helpers the toxics share. */
public final class Toxics {

    /**
     * Delays are capped here (about 146 years) so that deadlines computed as {@code now + delay} never
     * overflow; Toxiproxy accepts any int64 and so do we.
     */
    static final long MAX_DELAY_NANOS = 1L << 62;

    private static final Map<String, ToxicKind> KINDS = byType(List.of(
            LatencyToxic.KIND,
            BandwidthToxic.KIND,
            SlowCloseToxic.KIND,
            TimeoutToxic.KIND,
            ResetPeerToxic.KIND,
            SlicerToxic.KIND,
            LimitDataToxic.KIND,
            NoopToxic.KIND));

    private Toxics() {
    }

    /** The kind registered under this exact (case-sensitive) type name, or null. */
    public static ToxicKind kind(String type) {
        return type == null ? null : KINDS.get(type);
    }

    private static Map<String, ToxicKind> byType(List<ToxicKind> kinds) {
        Map<String, ToxicKind> map = new LinkedHashMap<>();
        for (ToxicKind kind : kinds) {
            map.put(kind.type(), kind);
        }
        return Map.copyOf(map);
    }

    static long attribute(Map<String, Long> attributes, String name) {
        Long value = attributes.get(name);
        return value == null ? 0 : value;
    }

    static long nonNegative(String type, Map<String, Long> attributes, String name) {
        long value = attribute(attributes, name);
        if (value < 0) {
            throw new IllegalArgumentException(
                    type + " attribute " + name + " must not be negative, got " + value);
        }
        return value;
    }

    static long atLeastOne(String type, Map<String, Long> attributes, String name, String why) {
        long value = attribute(attributes, name);
        if (value < 1) {
            throw new IllegalArgumentException(
                    type + " attribute " + name + " must be at least 1 (" + why + "), got " + value);
        }
        return value;
    }

    static long millisToNanos(long millis) {
        return millis >= MAX_DELAY_NANOS / 1_000_000 ? MAX_DELAY_NANOS : millis * 1_000_000;
    }

    static long microsToNanos(long micros) {
        return micros >= MAX_DELAY_NANOS / 1_000 ? MAX_DELAY_NANOS : micros * 1_000;
    }

    static Map<String, Long> ordered(String name1, long value1) {
        Map<String, Long> map = new LinkedHashMap<>();
        map.put(name1, value1);
        return map;
    }

    static Map<String, Long> ordered(String name1, long value1, String name2, long value2) {
        Map<String, Long> map = ordered(name1, value1);
        map.put(name2, value2);
        return map;
    }
}
