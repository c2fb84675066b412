package dev.doorbuster.verdict.shard;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Base64;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

import dev.doorbuster.verdict.recording.LatencyRecorder;
import org.HdrHistogram.Histogram;

/**
 * Adds one interval of an HdrHistogram log (a base64, compressed histogram) to a histogram, for the merge of many
 * shards' logs. HdrHistogram's own decoding builds a new histogram per interval (a fresh counts array, a fresh
 * inflater); a merge of 8 shards × 2 hours × 12 request names decodes 700,000 of them, and that allocation was
 * most of its time. Here one inflater and one buffer are reused, and the counts are added straight from the
 * encoding: HdrHistogram's V2 layout (a 40-byte header, then ZigZag LEB128 varints, each a count at the next index
 * or, when negative, a run of empty indexes).
 *
 * <p>The fast path applies to what {@link LatencyRecorder} writes (lowest discernible value 1, 3 significant digits,
 * no index offset), so an index means the same bucket in {@code sum}; anything else is decoded by HdrHistogram.
 */
final class IntervalDecoder {
    /** HdrHistogram's V2 encoding cookie, without its word-size bits. */
    private static final int V2_COOKIE_BASE = 0x1c849303;
    private static final int HEADER_BYTES = 40;
    /** Sub-buckets per half bucket for 3 significant digits (2048 sub-buckets): index arithmetic below. */
    private static final int SUB_BUCKET_HALF_COUNT_MAGNITUDE = 10;
    private static final int SUB_BUCKET_HALF_COUNT = 1 << SUB_BUCKET_HALF_COUNT_MAGNITUDE;

    private final Inflater inflater = new Inflater();
    private byte[] buffer = new byte[1 << 14];

    void addTo(Histogram sum, String base64) throws DataFormatException {
        byte[] compressed = Base64.getDecoder().decode(base64);
        ByteBuffer in = ByteBuffer.wrap(compressed);
        in.getInt(); // the compressed encoding's cookie
        int length = in.getInt();
        if (length < 0 || length > compressed.length - 8) {
            throw new DataFormatException("compressed length " + length + " does not fit in " + compressed.length + " bytes");
        }
        inflater.reset();
        inflater.setInput(compressed, 8, length);
        int size = 0;
        while (!inflater.finished()) {
            if (size == buffer.length) {
                buffer = Arrays.copyOf(buffer, buffer.length * 2);
            }
            int n = inflater.inflate(buffer, size, buffer.length - size);
            if (n == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
                throw new DataFormatException("truncated histogram");
            }
            size += n;
        }
        ByteBuffer encoding = ByteBuffer.wrap(buffer, 0, size);
        int cookie = encoding.getInt(0);
        int payload = encoding.getInt(4);
        int indexOffset = encoding.getInt(8);
        int digits = encoding.getInt(12);
        long lowest = encoding.getLong(16);
        if ((cookie & ~0xf0) != V2_COOKIE_BASE || indexOffset != 0 || digits != 3 || lowest != 1
                || payload < 0 || HEADER_BYTES + payload > size) {
            sum.add(Histogram.decodeFromByteBuffer(ByteBuffer.wrap(Arrays.copyOf(buffer, size)), 0));
            return;
        }
        encoding.position(HEADER_BYTES);
        encoding.limit(HEADER_BYTES + payload);
        long index = 0;
        while (encoding.hasRemaining()) {
            long count = zigZag(encoding);
            if (count < 0) {
                index -= count; // a run of empty indexes
            } else {
                if (count > 0) {
                    sum.recordValueWithCount(valueAt(index), count);
                }
                index++;
            }
        }
    }

    /** The lowest value of the bucket at {@code index} (lowest discernible value 1, 3 significant digits). */
    static long valueAt(long index) {
        int bucket = (int) (index >> SUB_BUCKET_HALF_COUNT_MAGNITUDE) - 1;
        long subBucket = (index & (SUB_BUCKET_HALF_COUNT - 1)) + SUB_BUCKET_HALF_COUNT;
        if (bucket < 0) {
            subBucket -= SUB_BUCKET_HALF_COUNT;
            bucket = 0;
        }
        return subBucket << bucket;
    }

    /** One ZigZag-encoded LEB128 long: 7 bits a byte, up to 8 bytes, a 9th with 8 bits. */
    private static long zigZag(ByteBuffer in) {
        long value = 0;
        int shift = 0;
        while (true) {
            long b = in.get();
            if (shift == 56) {
                value |= (b & 0xFF) << 56;
                break;
            }
            value |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                break;
            }
            shift += 7;
        }
        return (value >>> 1) ^ -(value & 1);
    }
}
