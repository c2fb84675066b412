package dev.doorbuster.proxy.toxics;

import io.netty.buffer.ByteBuf;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;

/**
 * {@code reset_peer}: on the first chunk (or the close) in this direction, drops it, waits {@code timeout}
 * ms, then resets both sockets of the connection (SO_LINGER 0 and close, so each peer gets an RST).
 *
 * <p>Differences from Toxiproxy: linger 0 is set only on connections this toxic actually resets, at the
 * moment it fires, so toxicity 0 means no resets (Toxiproxy #603) and connections that were live when the
 * toxic was added are reset too, not closed with a FIN. Once triggered, the reset cannot be called off:
 * taking the toxic off a triggered link resets it at once (the first chunk is already lost).
 */
public final class ResetPeerToxic implements Toxic {

    public static final ToxicKind KIND = new ToxicKind("reset_peer", List.of("timeout"), ResetPeerToxic::new);

    private final long timeoutMillis;

    private ResetPeerToxic(Map<String, Long> attributes) {
        this.timeoutMillis = Toxics.nonNegative("reset_peer", attributes, "timeout");
    }

    @Override
    public String type() {
        return "reset_peer";
    }

    @Override
    public Map<String, Long> attributes() {
        return Toxics.ordered("timeout", timeoutMillis);
    }

    @Override
    public Pipe start(ToxicStub stub, Object linkState) {
        return new Pipe() {
            private boolean triggered;
            private Future<?> timer;

            @Override
            public void onData(ByteBuf data, long readNanos) {
                stub.discard(data);
                trigger();
            }

            @Override
            public void onEnd() {
                trigger();
            }

            private void trigger() {
                if (triggered) {
                    return;
                }
                triggered = true;
                if (timeoutMillis == 0) {
                    stub.resetConnection();
                } else {
                    timer = stub.schedule(stub::resetConnection, Toxics.millisToNanos(timeoutMillis));
                }
            }

            @Override
            public void stop() {
                if (timer != null) {
                    timer.cancel(false);
                    timer = null;
                    stub.resetConnection();
                }
            }

            @Override
            public void dispose() {
                if (timer != null) {
                    timer.cancel(false);
                    timer = null;
                }
            }
        };
    }
}
