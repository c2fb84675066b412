package dev.doorbuster.proxy.toxics;

import io.netty.buffer.ByteBuf;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;

/**
 * {@code timeout}: every byte in this direction is dropped; after {@code timeout} ms the connection is
 * closed. {@code timeout: 0} never closes: the connection hangs until the toxic is removed.
 *
 * <p>The timer starts when the toxic starts acting on the link (at connection start, or when the toxic
 * is added to a live connection) and is not restarted by traffic: Toxiproxy restarts it on every chunk,
 * which makes a chatty connection never time out. Removing the toxic closes each connection it acted on,
 * since the dropped bytes left its stream corrupt.
 */
public final class TimeoutToxic implements Toxic {

    public static final ToxicKind KIND = new ToxicKind("timeout", List.of("timeout"), TimeoutToxic::new);

    private final long timeoutMillis;

    private TimeoutToxic(Map<String, Long> attributes) {
        this.timeoutMillis = Toxics.nonNegative("timeout", attributes, "timeout");
    }

    @Override
    public String type() {
        return "timeout";
    }

    @Override
    public Map<String, Long> attributes() {
        return Toxics.ordered("timeout", timeoutMillis);
    }

    @Override
    public boolean closesConnectionWhenRemoved() {
        return true;
    }

    @Override
    public Pipe start(ToxicStub stub, Object linkState) {
        Future<?> timer = timeoutMillis > 0
                ? stub.schedule(stub::sendEnd, Toxics.millisToNanos(timeoutMillis))
                : null;
        return new Pipe() {
            @Override
            public void onData(ByteBuf data, long readNanos) {
                stub.discard(data);
            }

            @Override
            public void onEnd() {
                cancel();
                stub.sendEnd();
            }

            @Override
            public void stop() {
                cancel();
            }

            @Override
            public void dispose() {
                cancel();
            }

            private void cancel() {
                if (timer != null) {
                    timer.cancel(false);
                }
            }
        };
    }
}
