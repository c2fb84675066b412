package dev.doorbuster.proxy.toxics;

import io.netty.buffer.ByteBuf;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;

/**
 * {@code bandwidth}: passes data at {@code rate} KB/s, where a KB is 1000 bytes (so rate 1000 is 1 MB/s).
 *
 * <p>Each piece leaves once the link has been "busy" long enough for the bytes before it: sustained
 * throughput is exactly the rate, and an idle link earns no credit for a later burst. Chunks larger than
 * 100 ms worth of bytes go out in 100 ms pieces, as in Toxiproxy, so a slow link still trickles.
 * Toxiproxy stalls for ever at rate 0 and crashes on a negative rate; here the API refuses both.
 */
public final class BandwidthToxic implements Toxic {

    public static final ToxicKind KIND = new ToxicKind("bandwidth", List.of("rate"), BandwidthToxic::new);

    private static final long NONE = Long.MIN_VALUE;

    private final long rateKilobytesPerSecond;

    private BandwidthToxic(Map<String, Long> attributes) {
        this.rateKilobytesPerSecond = Toxics.atLeastOne("bandwidth", attributes, "rate", "KB/s, 1 KB = 1000 bytes");
    }

    @Override
    public String type() {
        return "bandwidth";
    }

    @Override
    public Map<String, Long> attributes() {
        return Toxics.ordered("rate", rateKilobytesPerSecond);
    }

    @Override
    public Pipe start(ToxicStub stub, Object linkState) {
        return new BandwidthPipe(stub);
    }

    /** Time on the wire of {@code bytes} at the rate: bytes / (rate * 1000) seconds. */
    private long costNanos(int bytes) {
        // bytes <= Integer.MAX_VALUE, so bytes * 1e6 fits in a long.
        return bytes * 1_000_000L / rateKilobytesPerSecond;
    }

    private int maxPieceBytes() {
        return (int) Math.min(Integer.MAX_VALUE, rateKilobytesPerSecond * 100);
    }

    private record Held(ByteBuf data, long readNanos) {
    }

    private final class BandwidthPipe implements Pipe {
        private final ToxicStub stub;
        private final ArrayDeque<Held> queue = new ArrayDeque<>();
        private Future<?> timer;
        private boolean endPending;
        /** When the link finished sending the last piece. */
        private long freeAt;
        /** When the head piece may leave, once computed. */
        private long dueAt = NONE;

        BandwidthPipe(ToxicStub stub) {
            this.stub = stub;
            this.freeAt = stub.nanoTime();
        }

        @Override
        public void onData(ByteBuf data, long readNanos) {
            queue.addLast(new Held(data, readNanos));
            if (timer == null) {
                drain();
            }
        }

        private void drain() {
            timer = null;
            long now = stub.nanoTime();
            while (!queue.isEmpty()) {
                Held head = queue.peekFirst();
                int piece = Math.min(head.data().readableBytes(), maxPieceBytes());
                if (dueAt == NONE) {
                    long start = freeAt - now < 0 ? now : freeAt;
                    dueAt = start + costNanos(piece);
                }
                if (dueAt - now > 0) {
                    timer = stub.schedule(this::drain, dueAt - now);
                    return;
                }
                freeAt = dueAt;
                dueAt = NONE;
                if (piece == head.data().readableBytes()) {
                    queue.pollFirst();
                    stub.send(head.data(), head.readNanos());
                } else {
                    stub.send(head.data().readRetainedSlice(piece), head.readNanos());
                }
            }
            if (endPending) {
                endPending = false;
                stub.sendEnd();
            }
        }

        @Override
        public void onEnd() {
            if (queue.isEmpty()) {
                stub.sendEnd();
            } else {
                endPending = true;
            }
        }

        @Override
        public void stop() {
            cancelTimer();
            Held held;
            while ((held = queue.pollFirst()) != null) {
                stub.send(held.data(), held.readNanos());
            }
            if (endPending) {
                endPending = false;
                stub.sendEnd();
            }
        }

        @Override
        public void dispose() {
            cancelTimer();
            Held held;
            while ((held = queue.pollFirst()) != null) {
                held.data().release();
            }
        }

        private void cancelTimer() {
            if (timer != null) {
                timer.cancel(false);
                timer = null;
            }
        }
    }
}
