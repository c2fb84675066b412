package dev.doorbuster.proxy.toxics;

import io.netty.buffer.ByteBuf;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;

/**
 * {@code slicer}: cuts each chunk into pieces of about {@code average_size} bytes (± {@code size_variation})
 * and sends each piece on its own, followed by a pause of {@code delay} <em>microseconds</em>.
 *
 * <p>Chunks are cut by halving, each cut point shifted by a random amount within ± size_variation, until
 * every piece is at most {@code average_size + size_variation} bytes; this spreads piece sizes evenly over
 * the chunk. Cut points are kept strictly inside the piece being cut, so any variation terminates.
 * Toxiproxy recurses for ever (and crashes) at average_size 0; the API refuses it.
 */
public final class SlicerToxic implements Toxic {

    public static final ToxicKind KIND = new ToxicKind(
            "slicer", List.of("average_size", "size_variation", "delay"), SlicerToxic::new);

    private final long averageSize;
    private final long sizeVariation;
    private final long delayMicros;

    private SlicerToxic(Map<String, Long> attributes) {
        this.averageSize = Toxics.atLeastOne("slicer", attributes, "average_size", "bytes");
        this.sizeVariation = Toxics.nonNegative("slicer", attributes, "size_variation");
        this.delayMicros = Toxics.nonNegative("slicer", attributes, "delay");
    }

    @Override
    public String type() {
        return "slicer";
    }

    @Override
    public Map<String, Long> attributes() {
        Map<String, Long> attributes = Toxics.ordered("average_size", averageSize, "size_variation", sizeVariation);
        attributes.put("delay", delayMicros);
        return attributes;
    }

    @Override
    public Pipe start(ToxicStub stub, Object linkState) {
        return new SlicerPipe(stub);
    }

    /** Appends to {@code out} the sizes of the pieces a chunk of {@code length} bytes is cut into, in order. */
    void cut(int length, ArrayDeque<Integer> out) {
        ArrayDeque<int[]> pending = new ArrayDeque<>();
        pending.push(new int[] {0, length});
        ThreadLocalRandom random = ThreadLocalRandom.current();
        while (!pending.isEmpty()) {
            int[] segment = pending.pop();
            int start = segment[0];
            int end = segment[1];
            int size = end - start;
            if (size - averageSize <= sizeVariation || size < 2) {
                out.addLast(size);
                continue;
            }
            long mid = start + size / 2;
            if (sizeVariation > 0) {
                mid += random.nextLong(-sizeVariation, sizeVariation);
            }
            int cut = (int) Math.max(start + 1, Math.min(end - 1, mid));
            pending.push(new int[] {cut, end}); // right half after the left one
            pending.push(new int[] {start, cut});
        }
    }

    private record Piece(ByteBuf data, long readNanos) {
    }

    private final class SlicerPipe implements Pipe {
        private final ToxicStub stub;
        private final ArrayDeque<Piece> pieces = new ArrayDeque<>();
        private final ArrayDeque<Integer> sizes = new ArrayDeque<>();
        private Future<?> pause;
        private boolean endPending;

        SlicerPipe(ToxicStub stub) {
            this.stub = stub;
        }

        @Override
        public void onData(ByteBuf data, long readNanos) {
            if (!data.isReadable()) {
                stub.discard(data);
                return;
            }
            cut(data.readableBytes(), sizes);
            Integer size;
            while ((size = sizes.pollFirst()) != null) {
                pieces.addLast(new Piece(data.readRetainedSlice(size), readNanos));
            }
            stub.discard(data); // nothing readable is left: only releases the original
            if (pause == null) {
                sendNext();
            }
        }

        private void sendNext() {
            pause = null;
            if (delayMicros == 0) {
                Piece piece;
                while ((piece = pieces.pollFirst()) != null) {
                    stub.send(piece.data(), piece.readNanos());
                }
            } else {
                Piece piece = pieces.pollFirst();
                if (piece != null) {
                    stub.send(piece.data(), piece.readNanos());
                    // Every piece is followed by a pause, as in Toxiproxy.
                    pause = stub.schedule(this::sendNext, Toxics.microsToNanos(delayMicros));
                    return;
                }
            }
            if (endPending) {
                endPending = false;
                stub.sendEnd();
            }
        }

        @Override
        public void onEnd() {
            if (pause == null && pieces.isEmpty()) {
                stub.sendEnd();
            } else {
                endPending = true;
            }
        }

        @Override
        public void stop() {
            if (pause != null) {
                pause.cancel(false);
                pause = null;
            }
            Piece piece;
            while ((piece = pieces.pollFirst()) != null) {
                stub.send(piece.data(), piece.readNanos());
            }
            if (endPending) {
                endPending = false;
                stub.sendEnd();
            }
        }

        @Override
        public void dispose() {
            if (pause != null) {
                pause.cancel(false);
                pause = null;
            }
            Piece piece;
            while ((piece = pieces.pollFirst()) != null) {
                piece.data().release();
            }
        }
    }
}
