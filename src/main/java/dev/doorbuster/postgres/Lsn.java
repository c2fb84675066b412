package dev.doorbuster.postgres;

/** A WAL position ("16/B374D848"), as a byte offset that can be subtracted. */
public record Lsn(long value) implements Comparable<Lsn> {
    public static Lsn parse(String text) {
        if (text == null) {
            return null;
        }
        int slash = text.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("not a WAL position: '" + text + "' (expected e.g. 0/16B3748)");
        }
        long high = Long.parseLong(text.substring(0, slash), 16);
        long low = Long.parseLong(text.substring(slash + 1), 16);
        return new Lsn((high << 32) | low);
    }

    /** Bytes from {@code earlier} to this position (negative if {@code earlier} is ahead). */
    public long minus(Lsn earlier) {
        return value - earlier.value;
    }

    @Override
    public int compareTo(Lsn other) {
        return Long.compareUnsigned(value, other.value);
    }

    @Override
    public String toString() {
        return Long.toHexString(value >>> 32).toUpperCase() + "/" + Long.toHexString(value & 0xFFFFFFFFL).toUpperCase();
    }
}
