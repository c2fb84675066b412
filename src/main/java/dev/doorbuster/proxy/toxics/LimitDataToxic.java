package dev.doorbuster.proxy.toxics;

import io.netty.buffer.ByteBuf;
import java.util.List;
import java.util.Map;

/**
 * {@code limit_data}: lets {@code bytes} bytes through in this direction, per connection, then closes the
 * connection. The chunk that crosses the limit is cut at the limit; {@code bytes: 0} closes on the first
 * data and passes nothing.
 *
 * <p>The count belongs to the link and survives updates of the toxic (lowering {@code bytes} below what was
 * already sent closes on the next chunk); it starts at 0 for new connections and when the toxic is added.
 */
public final class LimitDataToxic implements Toxic {

    public static final ToxicKind KIND = new ToxicKind("limit_data", List.of("bytes"), LimitDataToxic::new);

    private final long bytes;

    private LimitDataToxic(Map<String, Long> attributes) {
        this.bytes = Toxics.nonNegative("limit_data", attributes, "bytes");
    }

    @Override
    public String type() {
        return "limit_data";
    }

    @Override
    public Map<String, Long> attributes() {
        return Toxics.ordered("bytes", bytes);
    }

    /** Bytes already let through on one link. */
    private static final class Sent {
        long bytes;
    }

    @Override
    public Object newLinkState() {
        return new Sent();
    }

    @Override
    public Pipe start(ToxicStub stub, Object linkState) {
        Sent sent = (Sent) linkState;
        return new Pipe() {
            @Override
            public void onData(ByteBuf data, long readNanos) {
                long remaining = Math.max(0, bytes - sent.bytes);
                if (data.readableBytes() <= remaining) {
                    sent.bytes += data.readableBytes();
                    stub.send(data, readNanos);
                } else {
                    if (remaining > 0) {
                        ByteBuf allowed = data.readRetainedSlice((int) remaining);
                        sent.bytes += remaining;
                        stub.send(allowed, readNanos);
                    }
                    stub.discard(data);
                }
                if (bytes - sent.bytes <= 0) {
                    stub.sendEnd();
                }
            }

            @Override
            public void onEnd() {
                stub.sendEnd();
            }

            @Override
            public void stop() {
                // Holds nothing.
            }

            @Override
            public void dispose() {
                // Holds nothing.
            }
        };
    }
}
