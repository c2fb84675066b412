package dev.doorbuster.proxy.toxics;

import io.netty.buffer.ByteBuf;
import java.util.List;
import java.util.Map;

/**
 * {@code noop}: passes data through untouched. Also what a link runs in place of a toxic whose
 * toxicity draw lost on that link.
 */
public final class NoopToxic implements Toxic {

    public static final ToxicKind KIND = new ToxicKind("noop", List.of(), attributes -> new NoopToxic());

    @Override
    public String type() {
        return "noop";
    }

    @Override
    public Map<String, Long> attributes() {
        return Map.of();
    }

    @Override
    public Pipe start(ToxicStub stub, Object linkState) {
        return passThrough(stub);
    }

    /** A pipe that sends every chunk, and the end, straight on. */
    public static Pipe passThrough(ToxicStub stub) {
        return new Pipe() {
            @Override
            public void onData(ByteBuf data, long readNanos) {
                stub.send(data, readNanos);
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
