package dev.doorbuster.proxy.toxics;

import io.netty.buffer.ByteBuf;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;

/**
 * {@code latency}: holds each chunk until {@code latency ± jitter} ms after it was read from the socket.
 *
 * <p>Chunks wait side by side in a queue, each with its own deadline, so the delays overlap instead of
 * adding up and the throughput of a stream is kept. Chunks never overtake each other: with jitter, a
 * chunk whose draw is shorter than its predecessor's leaves right after it. The end of the stream is
 * passed on right after the last chunk, not delayed again.
 */
public final class LatencyToxic implements Toxic {

    public static final ToxicKind KIND =
            new ToxicKind("latency", List.of("latency", "jitter"), LatencyToxic::new);

    private final long latencyMillis;
    private final long jitterMillis;

    private LatencyToxic(Map<String, Long> attributes) {
        this.latencyMillis = Toxics.nonNegative("latency", attributes, "latency");
        this.jitterMillis = Toxics.nonNegative("latency", attributes, "jitter");
    }

    @Override
    public String type() {
        return "latency";
    }

    @Override
    public Map<String, Long> attributes() {
        return Toxics.ordered("latency", latencyMillis, "jitter", jitterMillis);
    }

    @Override
    public Pipe start(ToxicStub stub, Object linkState) {
        return new LatencyPipe(stub);
    }

    /** A fresh draw in [latency - jitter, latency + jitter), never negative. */
    private long drawDelayNanos() {
        long latency = Toxics.millisToNanos(latencyMillis);
        if (jitterMillis == 0) {
            return latency;
        }
        long jitter = Toxics.millisToNanos(jitterMillis);
        long delay = latency + ThreadLocalRandom.current().nextLong(-jitter, jitter);
        return Math.max(0, Math.min(delay, Toxics.MAX_DELAY_NANOS));
    }

    private record Held(ByteBuf data, long readNanos, long releaseAt) {
    }

    private final class LatencyPipe implements Pipe {
        private final ToxicStub stub;
        private final ArrayDeque<Held> queue = new ArrayDeque<>();
        private Future<?> timer;
        private boolean endPending;
        private long lastReleaseAt;

        LatencyPipe(ToxicStub stub) {
            this.stub = stub;
        }

        @Override
        public void onData(ByteBuf data, long readNanos) {
            long releaseAt = readNanos + drawDelayNanos();
            if (!queue.isEmpty() && releaseAt - lastReleaseAt < 0) {
                releaseAt = lastReleaseAt; // keep the order: never leave before the chunk ahead
            }
            lastReleaseAt = releaseAt;
            queue.addLast(new Held(data, readNanos, releaseAt));
            if (queue.size() == 1) {
                releaseDue();
            }
        }

        private void releaseDue() {
            timer = null;
            long now = stub.nanoTime();
            while (!queue.isEmpty() && queue.peekFirst().releaseAt() - now <= 0) {
                Held held = queue.pollFirst();
                // Stamped with its intended release time, so a second latency toxic adds on top.
                stub.send(held.data(), held.releaseAt());
            }
            if (!queue.isEmpty()) {
                timer = stub.schedule(this::releaseDue, queue.peekFirst().releaseAt() - now);
            } else if (endPending) {
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
            // Released at once, stamped with their read time so that a toxic after this one (or this
            // toxic's replacement after an update) times them from when they were really read.
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
