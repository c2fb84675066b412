package dev.doorbuster.verdict.consistency;

/**
 * The session guarantees every read of a key is checked against, over a virtual user's whole session.
 * Each is its own check with its own budget.
 */
public enum Guarantee {
    /** The first read of a key after the user's own acknowledged write of it shows at least that write. */
    READ_YOUR_WRITES_IMMEDIATE("read-your-writes (immediate)", "stale read of own write, right after writing"),
    /** Every later read of that key still shows at least the user's own last write. */
    READ_YOUR_WRITES_LATER("read-your-writes (later)", "stale read of own write, seconds after writing"),
    /** No read shows an older state of a key than a read the user already made. */
    MONOTONIC_READS("monotonic reads", "read went back in time: older than already seen");

    private final String check;
    private final String ko;

    Guarantee(String check, String ko) {
        this.check = check;
        this.ko = ko;
    }

    /** The check's name in the verdict. */
    public String check() {
        return check;
    }

    /**
     * The KO message of a violating read in Gatling's report: one fixed text per guarantee, so each is
     * one row of its errors table.
     */
    public String koMessage() {
        return check + ": " + ko;
    }
}
