package dev.doorbuster.proxy.toxics;

import io.netty.buffer.ByteBuf;
import java.util.concurrent.Future;

/**
 * What a {@link Pipe} sees of its link: where its output goes, a timer on the link's thread, and the
 * connection's emergency exits. (The name follows Toxiproxy's ToxicStub, which plays the same role.)
 */
public interface ToxicStub {

    /** Passes a chunk on to the next toxic in the chain (or the destination socket). Takes ownership. */
    void send(ByteBuf data, long readNanos);

    /**
     * Ends this direction after the chunks already sent: the end travels down the rest of the chain, the
     * destination socket is closed, and the other direction then closes too (Toxiproxy has no half-close).
     * Anything that reaches this pipe afterwards is dropped by the link.
     */
    void sendEnd();

    /** Drops a chunk (or what is left of one) on the floor and releases it. */
    void discard(ByteBuf data);

    /** Runs a task on the link's event loop after a delay; the task is skipped if the pipe is gone by then. */
    Future<?> schedule(Runnable task, long delayNanos);

    /** Resets both sockets of the connection now (SO_LINGER 0, then close: the peers see an RST). */
    void resetConnection();

    /** The clock chunks are stamped with ({@link System#nanoTime()}). */
    long nanoTime();
}
