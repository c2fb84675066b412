package dev.doorbuster.app;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.Date;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.ScheduledFuture;

/**
 * The storefront's HTTP/1.1 server, on Netty: the application owns every answer, including those to
 * requests too malformed to route. Event-loop threads only parse and write; each request, its body
 * aggregated, runs on a worker ({@link RequestHandler}, blocking JDBC) and connections are served one request
 * at a time, in order (pipelined requests wait their turn).
 *
 * <p>Transport-level answers, all JSON {@code {"error","message"}} and all followed by closing the connection:
 * a request Netty's decoder cannot parse (request line, header, {@code Content-Length}, chunk) or whose
 * request line or headers are too long is 400 {@code bad_request}; a request whose headers and body are not
 * received in full within the request timeout of its first byte (a body shorter than its
 * {@code Content-Length}, a stalled client) is 408 {@code request_timeout}. A body over
 * {@link RequestHandler#MAX_BODY_BYTES} reaches the handler as "too large" (413 after routing, as before).
 * Keep-alive connections idle for {@value #IDLE_SECONDS} s are closed.
 */
final class HttpTransport {
    static final int MAX_INITIAL_LINE = 8192;
    static final int MAX_HEADER_BYTES = 16 * 1024;
    private static final int IDLE_SECONDS = 30;
    /** Pipelined requests queued on one connection before it stops reading. */
    private static final int MAX_QUEUED = 16;

    private final EventLoopGroup group;
    private final Channel server;
    private final ChannelGroup channels;
    private final Executor workers;
    private final RequestHandler handler;
    private final StorefrontMetrics metrics;
    private final long receiveTimeoutMs;
    private volatile boolean draining;

    private HttpTransport(EventLoopGroup group, ChannelGroup channels, Executor workers, RequestHandler handler,
            StorefrontMetrics metrics, long receiveTimeoutMs, InetSocketAddress address) throws InterruptedException {
        this.group = group;
        this.channels = channels;
        this.workers = workers;
        this.handler = handler;
        this.metrics = metrics;
        this.receiveTimeoutMs = receiveTimeoutMs;
        boolean epoll = Epoll.isAvailable();
        Class<? extends ServerChannel> type = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        this.server = new ServerBootstrap().group(group).channel(type)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                // A client that shuts down its output after its request still gets the answer.
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        channels.add(ch);
                        Connection connection = new Connection();
                        ch.pipeline()
                                .addLast("arrivals", connection.arrivals)
                                .addLast("codec", new HttpServerCodec(new HttpDecoderConfig()
                                        .setMaxInitialLineLength(MAX_INITIAL_LINE)
                                        .setMaxHeaderSize(MAX_HEADER_BYTES)
                                        .setMaxChunkSize(16 * 1024)
                                        .setStrictLineParsing(true)
                                        // Header names are checked; values reach the app as sent, which checks
                                        // those it uses and names them in its 400 (Idempotency-Key...).
                                        .setHeadersFactory(DefaultHttpHeadersFactory.headersFactory()
                                                .withValueValidation(false))))
                                .addLast("idle", new IdleStateHandler(0, 0, IDLE_SECONDS, TimeUnit.SECONDS))
                                .addLast("requests", connection);
                    }
                })
                .bind(address).sync().channel();
    }

    /**
     * Listens on {@code host:port} with {@code ioThreads} event loops.
     *
     * @throws Storefront.StartupException if the address cannot be bound
     */
    static HttpTransport listen(String host, int port, int ioThreads, Executor workers, RequestHandler handler,
            StorefrontMetrics metrics, long receiveTimeoutMs) {
        IoHandlerFactory io = Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(ioThreads, new DefaultThreadFactory("storefront-io", true), io);
        try {
            return new HttpTransport(group, new DefaultChannelGroup(GlobalEventExecutor.INSTANCE), workers, handler,
                    metrics, receiveTimeoutMs, new InetSocketAddress(InetAddress.getByName(host), port));
        } catch (Exception e) {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new Storefront.StartupException("cannot listen on " + host + ":" + port + ": " + e.getMessage());
        }
    }

    int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    /**
     * Stops accepting; from now on connections close after their current answer, and idle ones at once.
     * Requests in flight go on ({@link #close()} ends the rest).
     */
    void stopAccepting() {
        draining = true;
        server.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        for (Channel ch : channels) {
            ch.pipeline().fireUserEventTriggered(Drain.INSTANCE);
        }
    }

    /** Closes every connection and stops the event loops. */
    void close() {
        server.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        channels.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
    }

    private enum Drain {
        INSTANCE
    }

    /** What comes next on a connection: a request for a worker, or an error answered here, then close. */
    private record Next(RequestHandler.Incoming request, boolean keepAlive, HttpVersion version,
                        ApiError rejection, String method, long receivedAt) {
    }

    /**
     * One connection's state, touched only on its event loop: the request being received (headers, body so
     * far), the receive deadline, and the queue of complete requests waiting for the one being answered.
     */
    private final class Connection extends ChannelInboundHandlerAdapter {
        /** First in the pipeline: sees raw bytes, to start the receive deadline on a request's first byte. */
        final ChannelInboundHandlerAdapter arrivals = new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof ByteBuf buf && buf.isReadable()) {
                    bytesArrived(ctx);
                }
                ctx.fireChannelRead(msg);
            }
        };

        private ChannelHandlerContext ctx;
        private HttpRequest head;
        private ByteArrayOutputStream body;
        private long bodyBytes;
        private boolean oversized;
        /** Everything further is ignored: the connection closes once its queued answers are written. */
        private boolean discarding;
        private long firstByteAt;
        private ScheduledFuture<?> receiveDeadline;
        private final ArrayDeque<Next> queue = new ArrayDeque<>();
        private boolean answering;
        private boolean closed;

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            this.ctx = ctx;
        }

        void bytesArrived(ChannelHandlerContext c) {
            if (receiveDeadline == null && !discarding) {
                firstByteAt = System.nanoTime();
                receiveDeadline = c.executor().schedule(this::receiveTimedOut, receiveTimeoutMs, TimeUnit.MILLISECONDS);
            }
        }

        private void received() {
            if (receiveDeadline != null) {
                receiveDeadline.cancel(false);
                receiveDeadline = null;
            }
        }

        private void receiveTimedOut() {
            receiveDeadline = null;
            if (discarding || closed) {
                return;
            }
            String method = head == null ? null : head.method().name();
            reject(ApiError.requestTimeout("The request was not received in full within " + receiveTimeoutMs
                    + " ms (headers, or a body shorter than its Content-Length)."), method);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (discarding || !(msg instanceof HttpObject object)) {
                    return;
                }
                if (object.decoderResult().isFailure()) {
                    reject(malformed(object.decoderResult().cause()), head == null ? null : head.method().name());
                    return;
                }
                if (msg instanceof HttpRequest request) {
                    HttpVersion v = request.protocolVersion();
                    if (!v.equals(HttpVersion.HTTP_1_1) && !v.equals(HttpVersion.HTTP_1_0)) {
                        reject(ApiError.badRequest("Only HTTP/1.1 and HTTP/1.0 are served."), request.method().name());
                        return;
                    }
                    startRequest(request);
                }
                if (msg instanceof HttpContent content && !discarding) {
                    content(content);
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        private void startRequest(HttpRequest request) {
            head = request;
            oversized = false;
            bodyBytes = 0;
            long declared = HttpUtil.getContentLength(request, -1L);
            if (declared > RequestHandler.MAX_DISCARD_BYTES) {
                // Not worth reading: answer (413 after routing) and close.
                complete(false);
                discarding = true;
                return;
            }
            if (declared > RequestHandler.MAX_BODY_BYTES) {
                oversized = true;
            }
            body = new ByteArrayOutputStream(declared > 0 && !oversized ? (int) declared : 256);
            if (HttpUtil.is100ContinueExpected(request) && !oversized && !answering && queue.isEmpty()) {
                ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE,
                        Unpooled.EMPTY_BUFFER));
            }
        }

        private void content(HttpContent content) {
            if (head == null) {
                return;
            }
            ByteBuf data = content.content();
            int n = data.readableBytes();
            bodyBytes += n;
            if (!oversized && bodyBytes > RequestHandler.MAX_BODY_BYTES) {
                oversized = true;
                body = null;
            }
            if (!oversized) {
                byte[] chunk = new byte[n];
                data.readBytes(chunk);
                body.write(chunk, 0, n);
            }
            if (bodyBytes > RequestHandler.MAX_DISCARD_BYTES) {
                complete(false);
                discarding = true;
            } else if (content instanceof LastHttpContent) {
                complete(!oversized);
            }
        }

        private void complete(boolean bodyKept) {
            received();
            HttpRequest request = head;
            byte[] bytes = bodyKept && body != null ? body.toByteArray() : null;
            boolean keepAlive = HttpUtil.isKeepAlive(request) && bytes != null;
            head = null;
            body = null;
            queue.add(new Next(new RequestHandler.Incoming(request.method().name(), request.uri(), request.headers(),
                    bytes, 0), keepAlive, request.protocolVersion(), null, null, 0));
            if (queue.size() >= MAX_QUEUED) {
                ctx.channel().config().setAutoRead(false);
            }
            answerNext();
        }

        /** An error answered here, after any answers queued before it; the connection then closes. */
        private void reject(ApiError error, String method) {
            received();
            head = null;
            body = null;
            discarding = true;
            queue.add(new Next(null, false, HttpVersion.HTTP_1_1, error, method, firstByteAt));
            answerNext();
        }

        private void answerNext() {
            if (answering || closed) {
                return;
            }
            Next next = queue.poll();
            if (next == null) {
                if (discarding || draining) {
                    closeNow();
                } else if (!ctx.channel().config().isAutoRead()) {
                    ctx.channel().config().setAutoRead(true);
                }
                return;
            }
            answering = true;
            if (next.rejection() != null) {
                ApiError e = next.rejection();
                write(next.version(), e.status(), RequestHandler.JSON, RequestHandler.errorHeaders(e),
                        Json.write(e.body()), true);
                metrics.recordRequest("unmatched", RequestHandler.methodLabel(next.method()), e.status(),
                        System.nanoTime() - next.receivedAt());
                return;
            }
            RequestHandler.Incoming in = next.request();
            RequestHandler.Incoming queued = new RequestHandler.Incoming(in.method(), in.target(), in.headers(), in.body(),
                    System.nanoTime()); // the request deadline counts time queued for a worker
            RequestHandler.Sink sink = (status, contentType, headers, bytes, close) -> write(next.version(), status,
                    contentType, headers, bytes, close || !next.keepAlive() || draining);
            try {
                workers.execute(() -> handler.handle(queued, sink));
            } catch (RejectedExecutionException stopping) {
                closeNow();
            }
        }

        /** Any thread: writes one answer; once it is on the wire, closes or answers the next request. */
        private void write(HttpVersion version, int status, String contentType, Map<String, String> headers,
                byte[] bytes, boolean close) {
            FullHttpResponse response = new DefaultFullHttpResponse(version, HttpResponseStatus.valueOf(status),
                    Unpooled.wrappedBuffer(bytes));
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
            headers.forEach((name, value) -> response.headers().set(name, value));
            response.headers().set(HttpHeaderNames.DATE, DateFormatter.format(new Date()));
            HttpUtil.setContentLength(response, bytes.length);
            if (close) {
                response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            } else if (version.equals(HttpVersion.HTTP_1_0)) {
                response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            }
            ctx.writeAndFlush(response).addListener((ChannelFutureListener) f -> {
                answering = false;
                if (close || !f.isSuccess()) {
                    closeNow();
                } else {
                    answerNext();
                }
            });
        }

        private void closeNow() {
            if (!closed) {
                closed = true;
                received();
                ctx.close();
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
            if (event instanceof ChannelInputShutdownEvent) {
                // The client sent all it will: answer what was received in full, then close.
                discarding = true;
                received();
                if (!answering && queue.isEmpty()) {
                    closeNow();
                }
                return;
            }
            if (event instanceof IdleStateEvent || event == Drain.INSTANCE) {
                if (!answering && queue.isEmpty() && receiveDeadline == null) {
                    closeNow();
                }
                return;
            }
            ctx.fireUserEventTriggered(event);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            closed = true;
            received();
            queue.clear();
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            closeNow(); // a reset by the peer, mostly: nothing to answer
        }
    }

    private static ApiError malformed(Throwable cause) {
        if (cause instanceof TooLongHttpLineException) {
            return ApiError.badRequest("The request line is longer than " + MAX_INITIAL_LINE + " bytes.");
        }
        if (cause instanceof TooLongHttpHeaderException) {
            return ApiError.badRequest("The request headers are larger than " + MAX_HEADER_BYTES + " bytes.");
        }
        if (cause instanceof TooLongFrameException) {
            return ApiError.badRequest("A chunk of the request body is too large.");
        }
        String m = cause == null || cause.getMessage() == null ? "" : cause.getMessage().toLowerCase(java.util.Locale.ROOT);
        if (m.contains("content-length")) {
            return ApiError.badRequest("Content-Length must be a single non-negative number.");
        }
        if (m.contains("chunk")) {
            return ApiError.badRequest("Malformed chunked request body.");
        }
        return ApiError.badRequest("Malformed HTTP request (request line or headers).");
    }
}
