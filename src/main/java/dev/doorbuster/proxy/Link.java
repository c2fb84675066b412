package dev.doorbuster.proxy;

import dev.doorbuster.proxy.toxics.NoopToxic;
import dev.doorbuster.proxy.toxics.Pipe;
import dev.doorbuster.proxy.toxics.ToxicStub;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One direction of one connection: bytes read from {@code source} run through the chain of toxics of
 * that direction, in creation order, and are written to {@code dest}.
 *
 * <p>Everything here runs on the connection's event loop (both sockets of a connection share it), so
 * the chain needs no locks. Toxics are added, updated and removed on the live chain: a removed toxic
 * hands whatever it holds to the next one first, so no byte is lost or reordered.
 *
 * <p>Back-pressure: reading from the source pauses while more than {@link #PAUSE_READ_ABOVE} bytes are
 * inside the chain (held by toxics such as latency) or while the destination's outbound buffer is full,
 * and resumes once the chain drains below {@link #RESUME_READ_BELOW}. The kernel's socket buffers then
 * push back on the sender, as a slow network would.
 */
final class Link {

    private static final Logger LOG = LoggerFactory.getLogger(Link.class);

    /** Bytes a link may hold in its toxics before it stops reading: 16 MiB keeps a 100 ms latency at 160 MB/s. */
    static final int PAUSE_READ_ABOVE = 16 << 20;
    static final int RESUME_READ_BELOW = 8 << 20;

    /** Where a chunk goes next: the next toxic, or the destination socket. */
    private interface Target {
        void data(ByteBuf data, long readNanos);

        void end();
    }

    private final Connection connection;
    private final Direction direction;
    private final Channel source;
    private final Channel dest;
    private final LongAdder receivedBytes;
    private final LongAdder sentBytes;
    private final List<Node> nodes = new ArrayList<>();
    private final Sink sink = new Sink();
    private long appliedVersion = Long.MIN_VALUE;
    private long heldBytes;
    private boolean readPaused;
    private boolean sourceEnded;
    private boolean disposed;

    Link(Connection connection, Direction direction, Channel source, Channel dest,
            LongAdder receivedBytes, LongAdder sentBytes, ToxicSnapshot toxics) {
        this.connection = connection;
        this.direction = direction;
        this.source = source;
        this.dest = dest;
        this.receivedBytes = receivedBytes;
        this.sentBytes = sentBytes;
        sync(toxics);
    }

    Direction direction() {
        return direction;
    }

    // ---- events from the sockets ----

    void onSourceData(ByteBuf data) {
        if (disposed || sourceEnded) {
            data.release();
            return;
        }
        int bytes = data.readableBytes();
        receivedBytes.add(bytes);
        heldBytes += bytes;
        try {
            entry().data(data, System.nanoTime());
        } catch (RuntimeException e) {
            fail(e);
            return;
        }
        if (heldBytes > PAUSE_READ_ABOVE || !dest.isWritable()) {
            pauseReading();
        }
    }

    /** The source sent FIN, failed, or was closed: the end travels down the chain after the data. */
    void onSourceEnded() {
        if (sourceEnded) {
            return;
        }
        sourceEnded = true;
        if (disposed) {
            return;
        }
        try {
            entry().end();
        } catch (RuntimeException e) {
            fail(e);
        }
    }

    void onDestWritabilityChanged() {
        if (!dest.isWritable()) {
            pauseReading();
        } else {
            resumeReadingIfDrained();
        }
    }

    /** The destination is closed: nothing can be delivered any more, so drop what the toxics hold. */
    void onDestGone() {
        dispose();
    }

    private void pauseReading() {
        if (!readPaused) {
            readPaused = true;
            source.config().setAutoRead(false);
        }
    }

    private void resumeReadingIfDrained() {
        if (readPaused && !disposed && heldBytes < RESUME_READ_BELOW && dest.isWritable()) {
            readPaused = false;
            source.config().setAutoRead(true);
        }
    }

    private void discard(ByteBuf data) {
        heldBytes -= data.readableBytes();
        data.release();
        resumeReadingIfDrained();
    }

    private void fail(RuntimeException e) {
        LOG.warn("Toxic failed on {} link of proxy {}; closing the connection", direction.label(),
                connection.proxyName(), e);
        connection.close();
    }

    /** Drops everything the toxics hold and cancels their timers; the link is inert afterwards. */
    void dispose() {
        if (disposed) {
            return;
        }
        disposed = true;
        for (Node node : nodes) {
            node.run.retired = true;
            try {
                node.run.pipe.dispose();
            } catch (RuntimeException e) {
                LOG.warn("Toxic {} failed to release its data", node.definition.name(), e);
            }
        }
    }

    // ---- the chain ----

    private Target entry() {
        return nodes.isEmpty() ? sink : nodes.get(0);
    }

    /**
     * Brings the chain in line with the proxy's toxics for this direction: removes toxics that are gone,
     * restarts updated ones, appends new ones. Older snapshots than the last applied one are ignored.
     */
    void sync(ToxicSnapshot snapshot) {
        if (disposed || snapshot.version() <= appliedVersion) {
            return;
        }
        appliedVersion = snapshot.version();
        Map<Long, ToxicDefinition> wanted = new HashMap<>();
        for (ToxicDefinition definition : snapshot.definitions()) {
            wanted.put(definition.id(), definition);
        }
        for (int i = 0; i < nodes.size(); ) {
            if (wanted.containsKey(nodes.get(i).definition.id())) {
                i++;
                continue;
            }
            remove(i);
            if (disposed) {
                return;
            }
        }
        for (Node node : new ArrayList<>(nodes)) {
            ToxicDefinition definition = wanted.get(node.definition.id());
            if (definition != node.definition) {
                update(node, definition);
                if (disposed) {
                    return;
                }
            }
        }
        Set<Long> present = new HashSet<>();
        for (Node node : nodes) {
            present.add(node.definition.id());
        }
        for (ToxicDefinition definition : snapshot.definitions()) {
            if (!present.contains(definition.id())) {
                add(definition);
            }
        }
    }

    private static boolean draw(ToxicDefinition definition) {
        return ThreadLocalRandom.current().nextFloat() < definition.toxicity();
    }

    private void add(ToxicDefinition definition) {
        Node node = new Node(definition);
        if (!nodes.isEmpty()) {
            nodes.get(nodes.size() - 1).next = node;
        }
        nodes.add(node);
        node.run = new Run(node, definition, draw(definition));
    }

    private void remove(int index) {
        Node node = nodes.remove(index);
        if (index > 0) {
            nodes.get(index - 1).next = node.next;
        }
        Run run = node.run;
        if (run.active && node.definition.toxic().closesConnectionWhenRemoved()) {
            run.retired = true;
            run.pipe.dispose();
            connection.close();
            return;
        }
        run.pipe.stop(); // hands held data to node.next, which is where the chain now leads
        run.retired = true;
    }

    private void update(Node node, ToxicDefinition definition) {
        Run old = node.run;
        // A draw is a property of the link: it is made again only when the toxicity changes.
        boolean active = definition.toxicity() == node.definition.toxicity() ? old.active : draw(definition);
        if (old.active && !active && definition.toxic().closesConnectionWhenRemoved()) {
            node.definition = definition;
            old.retired = true;
            old.pipe.dispose();
            connection.close();
            return;
        }
        node.definition = definition;
        Run fresh = new Run(node, definition, active);
        fresh.inputEnded = old.inputEnded && old.outputEnded;
        fresh.outputEnded = old.outputEnded;
        node.run = fresh;
        old.redirect = node; // what the old pipe still holds goes through its replacement
        old.pipe.stop();
        old.retired = true;
    }

    /** A position in the chain, holding one toxic. */
    private final class Node implements Target {
        ToxicDefinition definition;
        final Object state;
        Run run;
        Target next = sink;

        Node(ToxicDefinition definition) {
            this.definition = definition;
            this.state = definition.toxic().newLinkState();
        }

        @Override
        public void data(ByteBuf data, long readNanos) {
            run.data(data, readNanos);
        }

        @Override
        public void end() {
            run.end();
        }
    }

    /** One start of a toxic on this link, until it is removed or replaced; its pipe's stub. */
    private final class Run implements ToxicStub {
        final Node node;
        final boolean active;
        final Pipe pipe;
        boolean inputEnded;
        boolean outputEnded;
        boolean retired;
        Target redirect;

        Run(Node node, ToxicDefinition definition, boolean active) {
            this.node = node;
            this.active = active;
            this.pipe = active ? definition.toxic().start(this, node.state) : NoopToxic.passThrough(this);
        }

        void data(ByteBuf data, long readNanos) {
            if (retired || inputEnded || outputEnded || disposed) {
                discard(data);
            } else {
                pipe.onData(data, readNanos);
            }
        }

        void end() {
            if (inputEnded) {
                return;
            }
            inputEnded = true;
            if (!retired && !outputEnded && !disposed) {
                pipe.onEnd();
            }
        }

        private Target target() {
            return redirect != null ? redirect : node.next;
        }

        @Override
        public void send(ByteBuf data, long readNanos) {
            if (retired || outputEnded || disposed) {
                Link.this.discard(data);
            } else {
                target().data(data, readNanos);
            }
        }

        @Override
        public void sendEnd() {
            if (retired || outputEnded || disposed) {
                return;
            }
            outputEnded = true;
            target().end();
        }

        @Override
        public void discard(ByteBuf data) {
            Link.this.discard(data);
        }

        @Override
        public Future<?> schedule(Runnable task, long delayNanos) {
            return source.eventLoop().schedule(() -> {
                if (retired || disposed) {
                    return;
                }
                try {
                    task.run();
                } catch (RuntimeException e) {
                    fail(e);
                }
            }, Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
        }

        @Override
        public void resetConnection() {
            connection.reset();
        }

        @Override
        public long nanoTime() {
            return System.nanoTime();
        }
    }

    /** The end of the chain: the destination socket. */
    private final class Sink implements Target {
        private boolean ended;

        @Override
        public void data(ByteBuf data, long readNanos) {
            if (ended || disposed) {
                discard(data);
                return;
            }
            int bytes = data.readableBytes();
            heldBytes -= bytes;
            sentBytes.add(bytes);
            // One flush per chunk: what a toxic sends as separate chunks (slicer) leaves as separate writes.
            dest.writeAndFlush(data, dest.voidPromise());
            resumeReadingIfDrained();
        }

        @Override
        public void end() {
            if (ended) {
                return;
            }
            ended = true;
            // No half-close, as in Toxiproxy: the destination is fully closed once its data is flushed.
            dest.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }
}
