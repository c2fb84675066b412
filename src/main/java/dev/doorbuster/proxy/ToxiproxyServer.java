package dev.doorbuster.proxy;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TCP chaos proxy that speaks Toxiproxy's HTTP API (version 2.12.0), so that toxiproxy-java,
 * toxiproxy-cli and a real toxiproxy-server are interchangeable with it.
 *
 * <pre>{@code
 * try (ToxiproxyServer server = ToxiproxyServer.start()) {           // 127.0.0.1, ephemeral port
 *     ToxiproxyClient client = new ToxiproxyClient(server.host(), server.port());
 *     Proxy db = client.createProxy("db", "127.0.0.1:0", "127.0.0.1:5432");
 *     db.toxics().latency("slow", ToxicDirection.DOWNSTREAM, 100);
 * }                                                                   // closes every socket and thread
 * }</pre>
 *
 * <p>Everything binds to loopback unless told otherwise; a non-loopback bind logs a warning.
 * Thread use is fixed: one API thread, one event-loop thread per core (at least two) for all proxies
 * and connections, and a small pool for name lookups.
 */
public final class ToxiproxyServer implements AutoCloseable {

    /** The Toxiproxy release whose API this server implements; {@code /version} reports it. */
    public static final String TOXIPROXY_VERSION = "2.12.0";

    private static final Logger LOG = LoggerFactory.getLogger(ToxiproxyServer.class);

    private final Addresses addresses;
    private final DataPlane dataPlane;
    private final ProxyRegistry registry;
    private final EventLoopGroup apiGroup;
    private final Channel apiChannel;
    private final InetSocketAddress apiAddress;
    private boolean stopped;

    private ToxiproxyServer(Addresses addresses, DataPlane dataPlane, ProxyRegistry registry, EventLoopGroup apiGroup,
            Channel apiChannel) {
        this.addresses = addresses;
        this.dataPlane = dataPlane;
        this.registry = registry;
        this.apiGroup = apiGroup;
        this.apiChannel = apiChannel;
        this.apiAddress = (InetSocketAddress) apiChannel.localAddress();
    }

    /**
     * Serves on {@code -host HOST -port PORT} (toxiproxy-server's flags; defaults 127.0.0.1 and 8474) until the JVM
     * is stopped (SIGTERM, Ctrl-C): the proxy's own entry point, which a container runs with only this package's
     * classes in mind. {@code doorbuster proxy} is the full command line (config file, version, help).
     */
    public static void main(String[] args) throws InterruptedException {
        String host = Addresses.DEFAULT_HOST;
        int port = 8474;
        for (int i = 0; i < args.length; i++) {
            String flag = args[i].replaceFirst("^--", "-");
            if ((flag.equals("-host") || flag.equals("-port")) && i + 1 < args.length) {
                String value = args[++i];
                if (flag.equals("-host")) {
                    host = value;
                } else {
                    try {
                        port = Integer.parseInt(value);
                    } catch (NumberFormatException e) {
                        port = -1;
                    }
                }
            } else {
                System.err.println("Usage: " + ToxiproxyServer.class.getName() + " [-host HOST] [-port PORT]; got '"
                        + args[i] + "'");
                System.exit(2);
            }
        }
        if (port < 0 || port > 65535) {
            System.err.println("-port must be within 0..65535");
            System.exit(2);
        }
        ToxiproxyServer server = start(host, port);
        java.util.concurrent.CountDownLatch stopped = new java.util.concurrent.CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.stop();
            stopped.countDown();
        }, "doorbuster-proxy-shutdown"));
        System.out.println("Toxiproxy API (" + TOXIPROXY_VERSION + ") listening on " + server.url());
        System.out.flush();
        stopped.await();
    }

    /** Starts a server whose API listens on 127.0.0.1 on an ephemeral port. */
    public static ToxiproxyServer start() {
        return start(Addresses.DEFAULT_HOST, 0);
    }

    /**
     * Starts a server whose API listens on {@code host:port} (port 0: ephemeral).
     *
     * @throws IllegalStateException if the address cannot be resolved or bound, with Go's error text
     */
    public static ToxiproxyServer start(String host, int port) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be within 0..65535, got " + port);
        }
        Addresses addresses = new Addresses();
        ProxyMetrics metrics = new ProxyMetrics();
        DataPlane dataPlane = new DataPlane(addresses, metrics);
        ProxyRegistry registry = new ProxyRegistry(dataPlane);
        EventLoopGroup apiGroup = new MultiThreadIoEventLoopGroup(1,
                new DefaultThreadFactory("doorbuster-proxy-api", true), DataPlane.ioHandlerFactory());
        try {
            InetAddress ip = addresses.resolve(host == null || host.isEmpty() ? Addresses.DEFAULT_HOST : host);
            InetSocketAddress address = new InetSocketAddress(ip, port);
            ChannelFuture bind = new ServerBootstrap()
                    .group(apiGroup)
                    .channel(DataPlane.serverChannelType())
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel channel) {
                            channel.pipeline().addLast(
                                    new IdleStateHandler(0, 0, 60, TimeUnit.SECONDS),
                                    new HttpServerCodec(),
                                    new HttpServerKeepAliveHandler(),
                                    new HttpObjectAggregator(16 << 20),
                                    new ApiHandler(registry, metrics, TOXIPROXY_VERSION));
                        }
                    })
                    .bind(address);
            if (!bind.awaitUninterruptibly(Proxy.WAIT_MILLIS) || !bind.isSuccess()) {
                String reason = bind.cause() == null ? "i/o timeout" : bind.cause().getMessage();
                throw new IllegalStateException("listen tcp " + Addresses.format(address) + ": bind: " + reason);
            }
            ToxiproxyServer server = new ToxiproxyServer(addresses, dataPlane, registry, apiGroup, bind.channel());
            if (!ip.isLoopbackAddress()) {
                LOG.warn("Toxiproxy API listens on {}, reachable from other machines, with no authentication",
                        Addresses.format(server.apiAddress));
            }
            LOG.info("Toxiproxy-compatible API listening on {}", server.url());
            return server;
        } catch (ApiException e) {
            closeQuietly(apiGroup, dataPlane, addresses);
            throw new IllegalStateException(e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(apiGroup, dataPlane, addresses);
            throw e;
        }
    }

    private static void closeQuietly(EventLoopGroup apiGroup, DataPlane dataPlane, Addresses addresses) {
        apiGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        dataPlane.close();
        addresses.close();
    }

    /** The host the API is reachable at (loopback when it listens on every interface). */
    public String host() {
        InetAddress ip = apiAddress.getAddress();
        if (ip.isAnyLocalAddress()) {
            return Addresses.DEFAULT_HOST;
        }
        return io.netty.util.NetUtil.toAddressString(ip);
    }

    /** The API's port. */
    public int port() {
        return apiAddress.getPort();
    }

    /** The API's base URL, for example {@code http://127.0.0.1:8474}. */
    public String url() {
        String host = host();
        return "http://" + (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port();
    }

    /**
     * Runs a populate, as {@code POST /populate} or toxiproxy-server's {@code -config} file: a JSON array of
     * {@code {"name","listen","upstream","enabled"?}}.
     *
     * @return how many proxies the request named (created, kept or replaced)
     * @throws IllegalArgumentException with the API's error text if an entry is invalid or cannot bind;
     *     entries before it stay applied, as with the API
     */
    public int populate(String json) {
        ApiHandler.Reply reply = ApiHandler.populate(registry, json.getBytes(StandardCharsets.UTF_8));
        String body = new String(reply.body(), StandardCharsets.UTF_8);
        if (reply.status() >= 300) {
            try {
                throw new IllegalArgumentException(
                        GoJson.read(reply.body()).get("error").asText() + " (status " + reply.status() + ")");
            } catch (ApiException e) {
                throw new IllegalArgumentException(body, e);
            }
        }
        int count = 0;
        try {
            com.fasterxml.jackson.databind.JsonNode proxies = GoJson.read(reply.body()).get("proxies");
            count = proxies == null || proxies.isNull() ? 0 : proxies.size();
        } catch (ApiException e) {
            throw new IllegalStateException(e);
        }
        return count;
    }

    /** Closes the API, every proxy listener and every connection, and stops all threads. Idempotent. */
    public synchronized void stop() {
        if (stopped) {
            return;
        }
        stopped = true;
        apiChannel.close().awaitUninterruptibly(Proxy.WAIT_MILLIS);
        registry.closeAll();
        apiGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        dataPlane.close();
        addresses.close();
        LOG.info("Toxiproxy-compatible server at {} stopped", url());
    }

    @Override
    public void close() {
        stop();
    }
}
