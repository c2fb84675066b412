package dev.doorbuster.proxy;

import java.util.Locale;

/** The two one-way links of a connection. */
enum Direction {
    /** Client to upstream server. */
    UPSTREAM,
    /** Upstream server to client. */
    DOWNSTREAM;

    /** Parses a stream name as Toxiproxy does: case-insensitively; null if it is neither. */
    static Direction parse(String stream) {
        if (stream == null) {
            return null;
        }
        return switch (stream.toLowerCase(Locale.ROOT)) {
            case "upstream" -> UPSTREAM;
            case "downstream" -> DOWNSTREAM;
            default -> null;
        };
    }

    String label() {
        return this == UPSTREAM ? "upstream" : "downstream";
    }
}
