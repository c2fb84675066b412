package dev.doorbuster.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.concurrent.Promise;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One accepted client and its upstream connection: two {@link Link}s, one per direction.
 *
 * <p>Both sockets live on the client's event loop, so all of a connection's work is single-threaded.
 * The upstream is dialled without blocking anything: while it is dialled, the client is accepted but
 * not read; if the dial fails the client is closed at once (as Toxiproxy does, the client sees its
 * connect succeed and then EOF).
 */
final class Connection {

    private static final Logger LOG = LoggerFactory.getLogger(Connection.class);

    private final Proxy proxy;
    private final DataPlane dataPlane;
    private final Channel client;
    private final Promise<Void> closed;
    private Channel server;
    private Link upstream;
    private Link downstream;
    private boolean closing;
    private boolean finished;

    Connection(Proxy proxy, DataPlane dataPlane, Channel client) {
        this.proxy = proxy;
        this.dataPlane = dataPlane;
        this.client = client;
        this.closed = client.eventLoop().newPromise();
        client.pipeline().addLast(new SocketHandler(true));
    }

    String proxyName() {
        return proxy.name();
    }

    EventLoop eventLoop() {
        return client.eventLoop();
    }

    /** Completes when both sockets are closed and the connection has let go of everything. */
    io.netty.util.concurrent.Future<Void> closedFuture() {
        return closed;
    }

    /** Dials the upstream; runs on the event loop right after the client was accepted. */
    void dial(String upstreamAddress) {
        Addresses.HostPort hostPort;
        int port;
        try {
            hostPort = Addresses.split(upstreamAddress);
            port = Addresses.port(hostPort.port());
        } catch (ApiException e) {
            LOG.warn("Proxy {}: cannot dial upstream {}: {}", proxy.name(), upstreamAddress, e.getMessage());
            client.close();
            return;
        }
        String host = hostPort.host().isEmpty() ? "localhost" : hostPort.host();
        // Resolved for every connection, so DNS changes are picked up, and off the event loop.
        dataPlane.addresses().lookupAsync(host).whenComplete((address, error) -> eventLoop().execute(() -> {
            if (error != null) {
                LOG.warn("Proxy {}: cannot resolve upstream {}: {}", proxy.name(), upstreamAddress, error.toString());
                client.close();
            } else {
                connect(address, port);
            }
        }));
    }

    private void connect(InetAddress address, int port) {
        if (closing || !client.isActive()) {
            client.close();
            return;
        }
        Bootstrap bootstrap = dataPlane.clientBootstrap(eventLoop())
                .handler(new SocketHandler(false));
        ChannelFuture connect = bootstrap.connect(new InetSocketAddress(address, port));
        server = connect.channel();
        connect.addListener(done -> {
            if (!done.isSuccess()) {
                LOG.debug("Proxy {}: upstream {}:{} unreachable: {}", proxy.name(), address.getHostAddress(), port,
                        done.cause() == null ? "cancelled" : done.cause().getMessage());
                client.close();
                return;
            }
            begin();
        });
    }

    private void begin() {
        if (closing || !client.isActive()) {
            server.close();
            client.close();
            return;
        }
        Proxy.LinkSetup setup = proxy.linkSetup();
        upstream = new Link(this, Direction.UPSTREAM, client, server,
                setup.upstreamReceived(), setup.upstreamSent(), setup.upstreamToxics());
        downstream = new Link(this, Direction.DOWNSTREAM, server, client,
                setup.downstreamReceived(), setup.downstreamSent(), setup.downstreamToxics());
        client.config().setAutoRead(true);
        server.config().setAutoRead(true);
    }

    /** Applies the proxy's current toxics to the live links. Runs on the event loop. */
    void sync(ToxicSnapshot upstreamToxics, ToxicSnapshot downstreamToxics) {
        if (upstream != null && !closing) {
            upstream.sync(upstreamToxics);
        }
        if (downstream != null && !closing) {
            downstream.sync(downstreamToxics);
        }
    }

    /** Closes both sockets now, each with a FIN, dropping what toxics hold. Any thread. */
    io.netty.util.concurrent.Future<Void> close() {
        runOnLoop(() -> shutDown(false));
        return closed;
    }

    /** Resets both sockets now: SO_LINGER 0 and close, so each peer gets an RST. Any thread. */
    void reset() {
        runOnLoop(() -> shutDown(true));
    }

    private void runOnLoop(Runnable task) {
        if (eventLoop().inEventLoop()) {
            task.run();
        } else {
            try {
                eventLoop().execute(task);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // The server is stopping: its event loops close every socket anyway.
            }
        }
    }

    private void shutDown(boolean reset) {
        if (closing && !reset) {
            return;
        }
        closing = true;
        if (upstream != null) {
            upstream.dispose();
        }
        if (downstream != null) {
            downstream.dispose();
        }
        closeSocket(client, reset);
        if (server != null) {
            closeSocket(server, reset);
        }
    }

    private static void closeSocket(Channel channel, boolean reset) {
        if (reset && channel.isOpen()) {
            try {
                channel.config().setOption(ChannelOption.SO_LINGER, 0);
            } catch (RuntimeException e) {
                // Already closing: a plain close is all that is left.
            }
        }
        channel.close();
    }

    private void onInactive(boolean clientSide) {
        if (clientSide) {
            if (upstream != null) {
                upstream.onSourceEnded();
            }
            if (downstream != null) {
                downstream.onDestGone();
            }
        } else {
            if (downstream != null) {
                downstream.onSourceEnded();
            }
            if (upstream != null) {
                upstream.onDestGone();
            }
        }
        if (!client.isOpen() && (server == null || !server.isOpen())) {
            finish();
        } else if (upstream == null) {
            // Still dialling, or the dial failed: nothing to drain.
            client.close();
            if (server != null) {
                server.close();
            }
        }
    }

    private void finish() {
        if (finished) {
            return;
        }
        finished = true;
        if (upstream != null) {
            upstream.dispose();
        }
        if (downstream != null) {
            downstream.dispose();
        }
        proxy.unregister(this);
        closed.trySuccess(null);
    }

    /** Reads, closes and writability of one of the two sockets. */
    private final class SocketHandler extends ChannelInboundHandlerAdapter {
        private final boolean clientSide;

        SocketHandler(boolean clientSide) {
            this.clientSide = clientSide;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            Link link = clientSide ? upstream : downstream;
            if (link == null || !(msg instanceof ByteBuf)) {
                io.netty.util.ReferenceCountUtil.release(msg);
                return;
            }
            link.onSourceData((ByteBuf) msg);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
            if (event instanceof ChannelInputShutdownEvent) {
                Link link = clientSide ? upstream : downstream;
                if (link != null) {
                    link.onSourceEnded();
                } else {
                    ctx.close();
                }
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            Link writer = clientSide ? downstream : upstream;
            if (writer != null) {
                writer.onDestWritabilityChanged();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            onInactive(clientSide);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof IOException) {
                // Resets and broken pipes are ordinary here; the channel closes and the links follow.
                LOG.debug("Proxy {}: {} socket error: {}", proxy.name(), clientSide ? "client" : "upstream",
                        cause.toString());
            } else {
                LOG.warn("Proxy {}: unexpected error on {} socket", proxy.name(), clientSide ? "client" : "upstream",
                        cause);
            }
            ctx.close();
        }
    }
}
