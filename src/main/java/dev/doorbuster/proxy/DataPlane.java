package dev.doorbuster.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The sockets' side of the server: one small, fixed pool of event-loop threads (one per core, at least
 * two) serves every listener and connection of every proxy, so the thread count does not grow with
 * connections. Uses native epoll where Netty has it (Linux), NIO elsewhere.
 */
final class DataPlane implements AutoCloseable {

    /** Netty's native transport, unless {@code -Ddoorbuster.proxy.nio=true}. */
    static final boolean EPOLL = !Boolean.getBoolean("doorbuster.proxy.nio") && Epoll.isAvailable();

    private static final int CONNECT_TIMEOUT_MILLIS = 10_000;
    private static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(256 << 10, 1 << 20);
    /** Reads grow up to 1 MiB when a stream is fast: fewer, larger reads and writes per byte moved. */
    private static final int MAX_READ = Integer.getInteger("doorbuster.proxy.maxRead", 1 << 20);

    private final EventLoopGroup group;
    private final Addresses addresses;
    private final ProxyMetrics metrics;

    DataPlane(Addresses addresses, ProxyMetrics metrics) {
        this.addresses = addresses;
        this.metrics = metrics;
        int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
        this.group = new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("doorbuster-proxy-io", true),
                ioHandlerFactory());
    }

    static IoHandlerFactory ioHandlerFactory() {
        return EPOLL ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    }

    static Class<? extends ServerChannel> serverChannelType() {
        return EPOLL ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }

    static Class<? extends Channel> socketChannelType() {
        return EPOLL ? EpollSocketChannel.class : NioSocketChannel.class;
    }

    private static io.netty.channel.RecvByteBufAllocator readAllocator() {
        return new io.netty.channel.AdaptiveRecvByteBufAllocator(512, 16 << 10, MAX_READ);
    }

    Addresses addresses() {
        return addresses;
    }

    ProxyMetrics metrics() {
        return metrics;
    }

    /** A listener whose accepted sockets are not read until {@code onAccept} says so. */
    ServerBootstrap listener(Consumer<Channel> onAccept) {
        return new ServerBootstrap()
                .group(group)
                .channel(serverChannelType())
                .option(ChannelOption.SO_REUSEADDR, true) // as Go's listeners: re-enable binds at once
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, readAllocator())
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel channel) {
                        onAccept.accept(channel);
                    }
                });
    }

    /** Dials an upstream on the client's own event loop. */
    Bootstrap clientBootstrap(EventLoop loop) {
        return new Bootstrap()
                .group(loop)
                .channel(socketChannelType())
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                .option(ChannelOption.RCVBUF_ALLOCATOR, readAllocator())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MILLIS);
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
