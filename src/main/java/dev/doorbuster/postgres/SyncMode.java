package dev.doorbuster.postgres;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** When a commit on the primary returns, relative to its standbys. */
public enum SyncMode {
    /** Asynchronous replication: a commit returns once flushed locally; a failover can lose it. */
    OFF("off"),
    /** A commit returns once a standby has flushed it: no acknowledged write is lost in a failover. */
    ON("on"),
    /**
     * A commit returns once a standby has applied it: a read on that standby right after the commit
     * sees it (no read-after-write anomaly), at the cost of commit latency.
     */
    REMOTE_APPLY("remote_apply");

    private final String setting;

    SyncMode(String setting) {
        this.setting = setting;
    }

    /** The value as written in configuration ({@code off}, {@code on}, {@code remote_apply}). */
    public String setting() {
        return setting;
    }

    /** Parses {@code off}, {@code on} or {@code remote_apply} (case-insensitive; '-' accepted for '_'). */
    public static SyncMode parse(String text) {
        String wanted = text == null ? "" : text.trim().toLowerCase(Locale.ROOT).replace('-', '_');
        for (SyncMode mode : values()) {
            if (mode.setting.equals(wanted)) {
                return mode;
            }
        }
        throw new IllegalArgumentException("unknown synchronous replication mode '" + text + "': expected one of "
                + Arrays.stream(values()).map(SyncMode::setting).collect(Collectors.joining(", ")));
    }
}
