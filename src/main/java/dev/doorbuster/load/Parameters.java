package dev.doorbuster.load;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Simulation parameters from {@code -D} system properties, with defaults, checked on read: a bad value
 * stops the run before anything starts, with a message naming the property and what it accepts.
 */
public final class Parameters {
    private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h)");

    private Parameters() {
    }

    /** A positive number, e.g. {@code -Dload.scale=2.5}. */
    public static double positive(String property, double defaultValue) {
        String raw = System.getProperty(property);
        if (raw == null || raw.isBlank()) {
            return defaultValue;
        }
        try {
            double value = Double.parseDouble(raw.trim());
            if (value > 0 && Double.isFinite(value)) {
                return value;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("-D" + property + "=" + raw + " is not a positive number (e.g. -D" + property
                + "=" + defaultValue + ")");
    }

    /** A duration like {@code 90s}, {@code 2m}, {@code 2h} or {@code 500ms}. */
    public static Duration duration(String property, Duration defaultValue) {
        String raw = System.getProperty(property);
        if (raw == null || raw.isBlank()) {
            return defaultValue;
        }
        Matcher m = DURATION.matcher(raw.trim().toLowerCase(Locale.ROOT));
        if (m.matches()) {
            double n = Double.parseDouble(m.group(1));
            long millis = switch (m.group(2)) {
                case "ms" -> (long) n;
                case "s" -> (long) (n * 1000);
                case "m" -> (long) (n * 60_000);
                default -> (long) (n * 3_600_000);
            };
            if (millis > 0) {
                return Duration.ofMillis(millis);
            }
        }
        throw new IllegalArgumentException("-D" + property + "=" + raw + " is not a duration: use e.g. 500ms, 30s, 5m or 2h");
    }

    /** A yes/no switch ({@code true}/{@code false}). */
    public static boolean flag(String property, boolean defaultValue) {
        String raw = System.getProperty(property);
        if (raw == null || raw.isBlank()) {
            return defaultValue;
        }
        return switch (raw.trim().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on" -> true;
            case "false", "no", "off" -> false;
            default -> throw new IllegalArgumentException("-D" + property + "=" + raw + " must be true or false");
        };
    }
}
