package dev.doorbuster.load;

import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

import dev.doorbuster.process.Durations;

/**
 * Simulation parameters from {@code -D} system properties, with defaults, checked on read: a bad value
 * stops the run before anything starts, with a message naming the property and what it accepts.
 */
public final class Parameters {
    private Parameters() {
    }

    /** A positive number, e.g. {@code -Dload.scale=2.5}. */
    public static double positive(String property, double defaultValue) {
        return taken(property, number(property, defaultValue, Double::parseDouble, v -> v > 0 && Double.isFinite(v),
                "a positive number"));
    }

    /** A duration like {@code 90s}, {@code 2m}, {@code 2h} or {@code 500ms}. */
    public static Duration duration(String property, Duration defaultValue) {
        return taken(property, parseDuration(property, defaultValue));
    }

    private static Duration parseDuration(String property, Duration defaultValue) {
        String raw = System.getProperty(property);
        if (raw == null || raw.isBlank()) {
            return defaultValue;
        }
        try {
            return Durations.parse(raw);
        } catch (IllegalArgumentException e) {
            throw refused("-D" + property + "=" + e.getMessage());
        }
    }

    /** A whole number ≥ 0, e.g. {@code -Ddoorbusters.count=3}. */
    public static int wholeNumber(String property, int defaultValue) {
        return taken(property, number(property, defaultValue, Integer::parseInt, v -> v >= 0, "a whole number ≥ 0"));
    }

    /** A share between 0 and 1, e.g. {@code -Ddoorbusters.share=0.5}. */
    public static double fraction(String property, double defaultValue) {
        return taken(property, number(property, defaultValue, Double::parseDouble, v -> v >= 0 && v <= 1, "a share between 0 and 1"));
    }

    /** {@code -Dproperty} parsed and checked, or {@code defaultValue} when unset; else a message saying what it takes. */
    private static <T> T number(String property, T defaultValue, java.util.function.Function<String, T> parse,
                                java.util.function.Predicate<T> valid, String expected) {
        String raw = System.getProperty(property);
        if (raw == null || raw.isBlank()) {
            return defaultValue;
        }
        try {
            T value = parse.apply(raw.trim());
            if (valid.test(value)) {
                return value;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw refused("-D" + property + "=" + raw + " is not " + expected + " (e.g. -D" + property
                + "=" + defaultValue + ")");
    }

    /** One of {@code allowed} (case-insensitive), e.g. {@code -Dcapacity=search}; {@code meaning} says what they do. */
    public static String choice(String property, String defaultValue, java.util.List<String> allowed, String meaning) {
        String raw = System.getProperty(property);
        String value = raw == null || raw.isBlank() ? defaultValue : raw.strip().toLowerCase(Locale.ROOT);
        if (!allowed.contains(value)) {
            throw refused("-D" + property + "=" + raw + " is not one of " + String.join(", ", allowed) + " (" + meaning
                    + ")");
        }
        return taken(property, value);
    }

    /** A yes/no switch ({@code true}/{@code false}). */
    public static boolean flag(String property, boolean defaultValue) {
        return taken(property, parseFlag(property, defaultValue));
    }

    private static boolean parseFlag(String property, boolean defaultValue) {
        String raw = System.getProperty(property);
        if (raw == null || raw.isBlank()) {
            return defaultValue;
        }
        return switch (raw.trim().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on" -> true;
            case "false", "no", "off" -> false;
            default -> throw refused("-D" + property + "=" + raw + " must be true or false");
        };
    }

    /** Every parameter read so far in this JVM, with the value it took (its default when unset): the run's provenance. */
    private static final Map<String, String> TAKEN = new ConcurrentHashMap<>();

    /** The parameters this JVM's simulation read, with the values they took. */
    public static Map<String, String> taken() {
        return new TreeMap<>(TAKEN);
    }

    private static <T> T taken(String property, T value) {
        TAKEN.put(property, String.valueOf(value));
        return value;
    }

    /**
     * A refused parameter. Simulations read their parameters while Gatling loads them, which it reports as a crash
     * under a reflection stack trace: the reason is printed plainly first.
     */
    static IllegalArgumentException refused(String message) {
        System.err.println("[doorbuster] cannot start: " + message);
        System.err.flush();
        return new IllegalArgumentException(message);
    }
}
