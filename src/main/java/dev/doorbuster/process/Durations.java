package dev.doorbuster.process;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as people type them on a command line or in a {@code -D} property: {@code 500ms}, {@code 30s},
 * {@code 1.5m}, {@code 2h}, or ISO-8601 ({@code PT5M}). Here, at the bottom of the package chain, so the
 * load parameters and the command line read them alike.
 */
public final class Durations {
    private static final Pattern SHORT = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h)");

    private Durations() {
    }

    /**
     * Parses a positive duration; the message of the exception names the text and the accepted forms.
     *
     * @throws IllegalArgumentException if {@code text} is not a positive duration
     */
    public static Duration parse(String text) {
        String value = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        Matcher m = SHORT.matcher(value);
        Duration parsed = null;
        if (m.matches()) {
            double n = Double.parseDouble(m.group(1));
            parsed = Duration.ofMillis(switch (m.group(2)) {
                case "ms" -> (long) n;
                case "s" -> (long) (n * 1000);
                case "m" -> (long) (n * 60_000);
                default -> (long) (n * 3_600_000);
            });
        } else if (value.startsWith("p")) {
            try {
                parsed = Duration.parse(value.toUpperCase(Locale.ROOT));
            } catch (DateTimeParseException e) {
                parsed = null;
            }
        }
        if (parsed == null || parsed.isNegative() || parsed.isZero()) {
            throw new IllegalArgumentException("'" + text + "' is not a duration: use e.g. 500ms, 30s, 5m, 2h or PT5M");
        }
        return parsed;
    }
}
