package dev.doorbuster.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * A TCP load balancer in front of a fleet of equal servers: each new connection goes to the next member, round robin,
 * and stays there, as a layer-4 balancer in front of an autoscaled service does. Members can be added while it runs
 * (instances scaled out mid-spike): new connections reach them at once, live ones stay where they are. It knows
 * nothing of what the bytes say, and has no toxics: faults belong on the links behind the members.
 *
 * <p>A member that refuses the connection closes the client's: the client sees what it would see from that instance.
 */
public final class Balancer implements AutoCloseable {
    private static final int CONNECT_TIMEOUT_MILLIS = 5_000;

    /** One server behind the balancer, and the connections it was given. */
    public record Member(InetSocketAddress address, long connections) {
    }

    private final String name;
    private final EventLoopGroup group;
    private final Channel listener;
    private final AtomicLong next = new AtomicLong();
    // Guarded by this: replaced, never changed in place, so a connection reads one consistent list.
    private List<InetSocketAddress> members = List.of();
    private final List<LongAdder> given = new ArrayList<>();

    private Balancer(String name, EventLoopGroup group, Channel listener) {
        this.name = name;
        this.group = group;
        this.listener = listener;
    }

    /** Listens on 127.0.0.1 (an ephemeral port); connections are closed until a member is added. */
    public static Balancer start(String name) {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, new DefaultThreadFactory("doorbuster-" + name, true),
                DataPlane.ioHandlerFactory());
        Balancer[] self = new Balancer[1];
        ServerBootstrap bootstrap = new ServerBootstrap().group(group).channel(DataPlane.serverChannelType())
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel client) {
                        self[0].accept(client);
                    }
                });
        try {
            Channel bound = bootstrap.bind(new InetSocketAddress("127.0.0.1", 0)).syncUninterruptibly().channel();
            self[0] = new Balancer(name, group, bound);
            return self[0];
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new IllegalStateException("balancer '" + name + "' cannot listen on 127.0.0.1: " + e.getMessage(), e);
        }
    }

    public String name() {
        return name;
    }

    /** Where clients connect. */
    public InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    /** Adds a member: from now on, one new connection in N goes to it. */
    public synchronized void add(InetSocketAddress member) {
        List<InetSocketAddress> grown = new ArrayList<>(members);
        grown.add(member);
        members = List.copyOf(grown);
        given.add(new LongAdder());
    }

    /** The members, in the order they were added, with the connections each was given so far. */
    public synchronized List<Member> members() {
        List<Member> list = new ArrayList<>();
        for (int i = 0; i < members.size(); i++) {
            list.add(new Member(members.get(i), given.get(i).sum()));
        }
        return list;
    }

    private void accept(Channel client) {
        InetSocketAddress member;
        LongAdder count;
        synchronized (this) {
            if (members.isEmpty()) {
                client.close();
                return;
            }
            int i = (int) Math.floorMod(next.getAndIncrement(), (long) members.size());
            member = members.get(i);
            count = given.get(i);
        }
        count.increment();
        new Bootstrap().group(client.eventLoop()).channel(DataPlane.socketChannelType())
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MILLIS)
                .handler(new Relay(client))
                .connect(member).addListener((ChannelFutureListener) connected -> {
                    if (!connected.isSuccess()) {
                        client.close();
                        return;
                    }
                    Channel server = connected.channel();
                    client.pipeline().addLast(new Relay(server));
                    client.read();
                    server.read();
                });
    }

    @Override
    public void close() {
        listener.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
    }

    /** Copies what one side reads to the other, reading on only once it is written (no unbounded buffering). */
    private static final class Relay extends ChannelInboundHandlerAdapter {
        private final Channel peer;

        Relay(Channel peer) {
            this.peer = peer;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object message) {
            peer.writeAndFlush(message).addListener((ChannelFutureListener) written -> {
                if (written.isSuccess()) {
                    ctx.channel().read();
                } else {
                    written.channel().close();
                    ctx.channel().close();
                }
            });
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            // Whatever is still queued to the peer goes out before it is closed.
            if (peer.isActive()) {
                peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
