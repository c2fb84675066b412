package dev.doorbuster.proxy.toxics;

import io.netty.buffer.ByteBuf;

/**
 * A toxic at work on one link. All methods run on the link's event loop.
 *
 * <p>Ownership of every buffer handed to {@link #onData} passes to the pipe, which must, eventually,
 * either {@linkplain ToxicStub#send send} or {@linkplain ToxicStub#discard discard} each byte of it
 * exactly once: the link counts bytes in flight to apply back-pressure.
 */
public interface Pipe {

    /**
     * A chunk arrives from the previous toxic (or the socket).
     *
     * @param readNanos when the chunk was read from the socket ({@link System#nanoTime()}), moved on by
     *     toxics that delay it so that two latency toxics in a row add up
     */
    void onData(ByteBuf data, long readNanos);

    /** The source side closed (or failed) after the chunks already delivered. Pass the end on when done. */
    void onEnd();

    /**
     * The toxic is being taken off this link, or replaced by an update. Pass on, now and in order,
     * whatever is held (and the end, if it arrived), then cancel timers. Nothing arrives after this.
     */
    void stop();

    /** The connection is gone: release held buffers and cancel timers without sending anything. */
    void dispose();
}
