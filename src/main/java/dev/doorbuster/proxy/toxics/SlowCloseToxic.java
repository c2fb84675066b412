package dev.doorbuster.proxy.toxics;

import io.netty.buffer.ByteBuf;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;

/** {@code slow_close}: data passes untouched; when the source side closes, the close is passed on {@code delay} ms later. */
public final class SlowCloseToxic implements Toxic {

    public static final ToxicKind KIND = new ToxicKind("slow_close", List.of("delay"), SlowCloseToxic::new);

    private final long delayMillis;

    private SlowCloseToxic(Map<String, Long> attributes) {
        this.delayMillis = Toxics.nonNegative("slow_close", attributes, "delay");
    }

    @Override
    public String type() {
        return "slow_close";
    }

    @Override
    public Map<String, Long> attributes() {
        return Toxics.ordered("delay", delayMillis);
    }

    @Override
    public Pipe start(ToxicStub stub, Object linkState) {
        return new Pipe() {
            private Future<?> closeTimer;

            @Override
            public void onData(ByteBuf data, long readNanos) {
                stub.send(data, readNanos);
            }

            @Override
            public void onEnd() {
                if (delayMillis == 0) {
                    stub.sendEnd();
                } else {
                    closeTimer = stub.schedule(stub::sendEnd, Toxics.millisToNanos(delayMillis));
                }
            }

            @Override
            public void stop() {
                // Taken off while holding a close: the close goes on now.
                if (closeTimer != null) {
                    closeTimer.cancel(false);
                    closeTimer = null;
                    stub.sendEnd();
                }
            }

            @Override
            public void dispose() {
                if (closeTimer != null) {
                    closeTimer.cancel(false);
                    closeTimer = null;
                }
            }
        };
    }
}
