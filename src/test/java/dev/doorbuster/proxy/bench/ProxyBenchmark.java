package dev.doorbuster.proxy.bench;

import dev.doorbuster.proxy.ToxiproxyServer;
import eu.rekawek.toxiproxy.Proxy;
import eu.rekawek.toxiproxy.ToxiproxyClient;
import eu.rekawek.toxiproxy.model.ToxicDirection;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The proxy's benchmark (docs/BENCHMARKS.md): through the proxy with no toxics versus direct, in one run,
 * on loopback, everything in this one JVM (proxy, upstream servers, clients) as in the harness's default
 * topology. Run with {@code mvn -B -Pbench -DskipTests verify} (add {@code -Dbench.args=--quick} for a
 * short run). Not a test: surefire never runs it.
 *
 * <ol>
 *   <li>Throughput of 1 MiB transfers (request 1 byte, receive 1 MiB), direct vs proxied, alternating rounds.</li>
 *   <li>Added latency of small request/response round trips (64 bytes), direct vs proxied.</li>
 *   <li>Accuracy of a 100 ms latency toxic: round trip minus 100 ms, over concurrent connections.</li>
 *   <li>1,000 concurrent connections doing round trips: completion, latency, and the proxy's thread count.</li>
 * </ol>
 */
public final class ProxyBenchmark {

    private static final int MIB = 1 << 20;

    private final boolean quick;
    private final StringBuilder report = new StringBuilder();

    private ProxyBenchmark(boolean quick) {
        this.quick = quick;
    }

    public static void main(String[] args) throws Exception {
        boolean quick = Arrays.asList(args).contains("--quick");
        new ProxyBenchmark(quick).run();
    }

    private void run() throws Exception {
        line("## Proxy benchmark run " + ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
        line("");
        line("- Machine: " + Runtime.getRuntime().availableProcessors() + " cores, " + System.getProperty("os.name")
                + " " + System.getProperty("os.version") + ", " + System.getProperty("java.vm.name") + " "
                + System.getProperty("java.version") + ", heap " + Runtime.getRuntime().maxMemory() / MIB + " MiB");
        line("- Transport: " + (io.netty.channel.epoll.Epoll.isAvailable() ? "epoll" : "nio")
                + "; proxy, upstream servers and clients share this JVM and its cores" + (quick ? "; QUICK run" : ""));
        line("");
        EventLoopGroup upstreamGroup = new MultiThreadIoEventLoopGroup(1,
                new DefaultThreadFactory("bench-upstream", true), EpollIoHandler.newFactory());
        EventLoopGroup clientGroup = new MultiThreadIoEventLoopGroup(1,
                new DefaultThreadFactory("bench-client", true), EpollIoHandler.newFactory());
        try (ToxiproxyServer server = ToxiproxyServer.start()) {
            Channel blob = serve(upstreamGroup, BlobHandler::new);
            Channel echo = serve(upstreamGroup, EchoHandler::new);
            ToxiproxyClient client = new ToxiproxyClient(server.host(), server.port());
            Proxy blobProxy = client.createProxy("blob", "127.0.0.1:0", address(blob));
            Proxy echoProxy = client.createProxy("echo", "127.0.0.1:0", address(echo));

            throughput(address(blob), blobProxy.getListen());
            roundTrips(address(echo), echoProxy.getListen());
            latencyToxicAccuracy(clientGroup, address(echo), echoProxy);
            manyConnections(clientGroup, address(echo), echoProxy.getListen());
        } finally {
            upstreamGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
            clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        System.out.println();
        System.out.println(report);
    }

    private void line(String text) {
        report.append(text).append('\n');
        System.out.println(text);
    }

    // ---- 1. throughput ----

    private void throughput(String direct, String proxied) throws IOException {
        int rounds = quick ? 3 : 7;
        int transfers = quick ? 100 : 300;
        List<Double> directRates = new ArrayList<>();
        List<Double> proxiedRates = new ArrayList<>();
        try (Socket directSocket = connect(direct); Socket proxiedSocket = connect(proxied)) {
            transfer(directSocket, transfers / 4); // warm-up
            transfer(proxiedSocket, transfers / 4);
            for (int round = 0; round < rounds; round++) {
                directRates.add(transfer(directSocket, transfers));
                proxiedRates.add(transfer(proxiedSocket, transfers));
            }
        }
        double directMedian = median(directRates);
        double proxiedMedian = median(proxiedRates);
        line("### 1 MiB transfers (" + rounds + " alternating rounds of " + transfers + " transfers, one connection)");
        line("");
        line("| path | MiB/s (median of rounds) | min | max |");
        line("|---|---|---|---|");
        line(String.format(Locale.ROOT, "| direct | %.0f | %.0f | %.0f |", directMedian, min(directRates), max(directRates)));
        line(String.format(Locale.ROOT, "| proxy, no toxics | %.0f | %.0f | %.0f |", proxiedMedian, min(proxiedRates),
                max(proxiedRates)));
        line(String.format(Locale.ROOT, "%nProxied / direct: **%.0f%%** (goal ≥ 90%%)%n", 100 * proxiedMedian / directMedian));
    }

    /** Requests {@code count} 1 MiB blobs one after the other; returns MiB/s. */
    private static double transfer(Socket socket, int count) throws IOException {
        OutputStream out = socket.getOutputStream();
        InputStream in = socket.getInputStream();
        byte[] buffer = new byte[256 << 10];
        long start = System.nanoTime();
        for (int i = 0; i < count; i++) {
            out.write(1);
            int remaining = MIB;
            while (remaining > 0) {
                int read = in.read(buffer, 0, Math.min(buffer.length, remaining));
                if (read < 0) {
                    throw new IOException("EOF");
                }
                remaining -= read;
            }
        }
        return count / ((System.nanoTime() - start) / 1e9);
    }

    // ---- 2. small round trips ----

    private void roundTrips(String direct, String proxied) throws IOException {
        int samples = quick ? 5_000 : 30_000;
        long[] directNanos;
        long[] proxiedNanos;
        try (Socket directSocket = connect(direct); Socket proxiedSocket = connect(proxied)) {
            pingPong(directSocket, samples / 5);
            pingPong(proxiedSocket, samples / 5);
            // Interleaved halves so that drift on the shared machine hits both paths alike.
            long[] d1 = pingPong(directSocket, samples / 2);
            long[] p1 = pingPong(proxiedSocket, samples / 2);
            long[] d2 = pingPong(directSocket, samples / 2);
            long[] p2 = pingPong(proxiedSocket, samples / 2);
            directNanos = concat(d1, d2);
            proxiedNanos = concat(p1, p2);
        }
        Arrays.sort(directNanos);
        Arrays.sort(proxiedNanos);
        line("### 64-byte request/response round trips (" + samples + " per path, one connection)");
        line("");
        line("| path | p50 µs | p90 µs | p99 µs | p99.9 µs |");
        line("|---|---|---|---|---|");
        line(row("direct", directNanos));
        line(row("proxy, no toxics", proxiedNanos));
        line(String.format(Locale.ROOT, "%nAdded by the proxy: **p50 %.0f µs**, p99 %.0f µs (goal: p50 ≤ 100 µs)%n",
                (percentile(proxiedNanos, 50) - percentile(directNanos, 50)) / 1e3,
                (percentile(proxiedNanos, 99) - percentile(directNanos, 99)) / 1e3));
    }

    private static long[] pingPong(Socket socket, int count) throws IOException {
        byte[] request = new byte[64];
        byte[] response = new byte[64];
        OutputStream out = socket.getOutputStream();
        InputStream in = socket.getInputStream();
        long[] nanos = new long[count];
        for (int i = 0; i < count; i++) {
            long start = System.nanoTime();
            out.write(request);
            int offset = 0;
            while (offset < 64) {
                int read = in.read(response, offset, 64 - offset);
                if (read < 0) {
                    throw new IOException("EOF");
                }
                offset += read;
            }
            nanos[i] = System.nanoTime() - start;
        }
        return nanos;
    }

    // ---- 3. latency toxic accuracy ----

    private void latencyToxicAccuracy(EventLoopGroup clientGroup, String direct, Proxy proxy) throws Exception {
        int connections = 20;
        int perConnection = quick ? 10 : 30;
        long[] baseline;
        try (Socket socket = connect(direct)) {
            baseline = pingPong(socket, 2_000);
        }
        Arrays.sort(baseline);
        double baselineMillis = percentile(baseline, 50) / 1e6;
        proxy.toxics().latency("accuracy", ToxicDirection.DOWNSTREAM, 100);
        long[] errors;
        try {
            // The non-blocking client (one thread) adds less wake-up noise than a thread per connection.
            // A first, unrecorded run warms the JIT up on the toxic's code (on 2 cores a compiling C2
            // thread delays everything else); connections start spread over one latency period, as
            // independent clients would, rather than all firing their timers in the same instant.
            many(clientGroup, proxy.getListen(), connections, 5, 100);
            Many run = many(clientGroup, proxy.getListen(), connections, perConnection, 100);
            errors = run.sortedNanos().clone();
            for (int i = 0; i < errors.length; i++) {
                errors[i] -= 100_000_000L;
            }
        } finally {
            proxy.toxics().get("accuracy").remove();
        }
        Arrays.sort(errors);
        line("### 100 ms latency toxic (downstream), " + errors.length + " round trips over " + connections
                + " concurrent connections");
        line("");
        line("Round trip minus 100 ms (direct round trip p50 is " + String.format(Locale.ROOT, "%.3f", baselineMillis)
                + " ms):");
        line("");
        line("| min | p50 | p99 | max |");
        line("|---|---|---|---|");
        line(String.format(Locale.ROOT, "| %+.3f ms | %+.3f ms | %+.3f ms | %+.3f ms |", errors[0] / 1e6,
                percentile(errors, 50) / 1e6, percentile(errors, 99) / 1e6, errors[errors.length - 1] / 1e6));
        line("");
        line("Goal: within ±2 ms at p99. Never below +0: a chunk is never released early.");
        line("");
    }

    // ---- 4. 1,000 connections ----

    private void manyConnections(EventLoopGroup clientGroup, String direct, String proxied) throws Exception {
        int connections = 1_000;
        int roundTrips = quick ? 20 : 100;
        Many directRun = many(clientGroup, direct, connections, roundTrips, 0);
        int threadsBefore = proxyThreads();
        Many proxiedRun = many(clientGroup, proxied, connections, roundTrips, 0);
        line("### " + connections + " concurrent connections, " + roundTrips + " round trips of 64 bytes each");
        line("");
        line("| path | connections completed | round trips/s | p50 ms | p99 ms | proxy threads during run |");
        line("|---|---|---|---|---|---|");
        line(directRun.row("direct", "-"));
        line(proxiedRun.row("proxy, no toxics", threadsBefore + " before, " + proxiedRun.proxyThreadsDuring + " during"));
        line("");
        line("Proxy threads are fixed: 1 API thread, max(2, cores) event loops, up to 2 DNS lookup threads.");
        line("");
    }

    private record Many(int completed, double perSecond, long[] sortedNanos, int proxyThreadsDuring) {
        String row(String path, String threads) {
            return String.format(Locale.ROOT, "| %s | %d | %.0f | %.2f | %.2f | %s |", path, completed, perSecond,
                    percentile(sortedNanos, 50) / 1e6, percentile(sortedNanos, 99) / 1e6, threads);
        }
    }

    private static int proxyThreads() {
        int count = 0;
        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            if (thread.getName().startsWith("doorbuster-proxy")) {
                count++;
            }
        }
        return count;
    }

    /** Runs {@code roundTrips} per connection on {@code connections} connections, first pings spread over {@code spreadMillis}. */
    private static Many many(EventLoopGroup group, String address, int connections, int roundTrips, int spreadMillis)
            throws Exception {
        CountDownLatch connected = new CountDownLatch(connections);
        CountDownLatch done = new CountDownLatch(connections);
        AtomicInteger completed = new AtomicInteger();
        long[][] samples = new long[connections][];
        List<Channel> channels = new ArrayList<>();
        Bootstrap bootstrap = new Bootstrap().group(group).channel(EpollSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000);
        InetSocketAddress target = parse(address);
        for (int i = 0; i < connections; i++) {
            int index = i;
            PingPongHandler handler = new PingPongHandler(roundTrips, connected, nanos -> {
                samples[index] = nanos;
                completed.incrementAndGet();
                done.countDown();
            }, done);
            Channel channel = bootstrap.clone().handler(handler).connect(target).syncUninterruptibly().channel();
            channels.add(channel);
        }
        if (!connected.await(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("not all connections were set up");
        }
        long start = System.nanoTime();
        for (int i = 0; i < channels.size(); i++) {
            Channel channel = channels.get(i);
            long delay = spreadMillis == 0 ? 0 : (long) spreadMillis * 1_000_000L * i / channels.size();
            channel.eventLoop().schedule(() -> channel.pipeline().get(PingPongHandler.class).begin(channel),
                    delay, TimeUnit.NANOSECONDS);
        }
        int threadsDuring = proxyThreads();
        if (!done.await(5, TimeUnit.MINUTES)) {
            throw new IllegalStateException("round trips did not finish");
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        for (Channel channel : channels) {
            channel.close().syncUninterruptibly();
        }
        int total = 0;
        for (long[] s : samples) {
            total += s == null ? 0 : s.length;
        }
        long[] all = new long[total];
        int offset = 0;
        for (long[] s : samples) {
            if (s != null) {
                System.arraycopy(s, 0, all, offset, s.length);
                offset += s.length;
            }
        }
        Arrays.sort(all);
        return new Many(completed.get(), total / seconds, all, threadsDuring);
    }

    /** Sends 64 bytes, waits for 64 back, repeats; the first round trip (connection warm-up) is not recorded. */
    private static final class PingPongHandler extends ChannelInboundHandlerAdapter {
        private final int roundTrips;
        private final CountDownLatch connected;
        private final java.util.function.Consumer<long[]> finished;
        private final CountDownLatch done;
        private final long[] nanos;
        private int index;
        private int received;
        private long sentAt;
        private boolean warmedUp;

        PingPongHandler(int roundTrips, CountDownLatch connected, java.util.function.Consumer<long[]> finished,
                CountDownLatch done) {
            this.roundTrips = roundTrips;
            this.connected = connected;
            this.finished = finished;
            this.done = done;
            this.nanos = new long[roundTrips];
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            connected.countDown();
        }

        void begin(Channel channel) {
            channel.eventLoop().execute(() -> send(channel));
        }

        private void send(Channel channel) {
            sentAt = System.nanoTime();
            channel.writeAndFlush(Unpooled.wrappedBuffer(new byte[64]));
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf data = (ByteBuf) msg;
            received += data.readableBytes();
            data.release();
            if (received >= 64) {
                received -= 64;
                if (!warmedUp) {
                    warmedUp = true;
                    send(ctx.channel());
                    return;
                }
                nanos[index++] = System.nanoTime() - sentAt;
                if (index == roundTrips) {
                    finished.accept(nanos);
                } else {
                    send(ctx.channel());
                }
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (index < roundTrips) {
                done.countDown(); // counted as not completed
            }
        }
    }

    // ---- upstream servers ----

    private static Channel serve(EventLoopGroup group, java.util.function.Supplier<ChannelInboundHandlerAdapter> handler) {
        return new ServerBootstrap().group(group).channel(EpollServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 2048)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel channel) {
                        channel.pipeline().addLast(handler.get());
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0)).syncUninterruptibly().channel();
    }

    /** Echoes every byte. */
    private static final class EchoHandler extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.writeAndFlush(msg);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /** Answers every byte it reads with 1 MiB. */
    private static final class BlobHandler extends ChannelInboundHandlerAdapter {
        private static final ByteBuf BLOB = Unpooled.unreleasableBuffer(
                Unpooled.directBuffer(MIB).writeBytes(new byte[MIB]));

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf request = (ByteBuf) msg;
            int count = request.readableBytes();
            request.release();
            for (int i = 0; i < count; i++) {
                ctx.write(BLOB.duplicate());
            }
            ctx.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    // ---- helpers ----

    private static String address(Channel channel) {
        InetSocketAddress address = (InetSocketAddress) channel.localAddress();
        return "127.0.0.1:" + address.getPort();
    }

    private static InetSocketAddress parse(String address) {
        int colon = address.lastIndexOf(':');
        return new InetSocketAddress(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)));
    }

    private static Socket connect(String address) throws IOException {
        Socket socket = new Socket();
        socket.setTcpNoDelay(true);
        socket.setReceiveBufferSize(1 << 20);
        socket.connect(parse(address), 5_000);
        socket.setSoTimeout(60_000);
        return socket;
    }

    private static long[] concat(long[] a, long[] b) {
        long[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    private static double percentile(long[] sorted, double p) {
        int index = (int) Math.ceil(p / 100 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }

    private static String row(String path, long[] sorted) {
        return String.format(Locale.ROOT, "| %s | %.1f | %.1f | %.1f | %.1f |", path, percentile(sorted, 50) / 1e3,
                percentile(sorted, 90) / 1e3, percentile(sorted, 99) / 1e3, percentile(sorted, 99.9) / 1e3);
    }

    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        return sorted.get(sorted.size() / 2);
    }

    private static double min(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).min().orElse(0);
    }

    private static double max(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).max().orElse(0);
    }
}
