package dev.doorbuster.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import eu.rekawek.toxiproxy.Proxy;
import eu.rekawek.toxiproxy.ToxiproxyClient;
import eu.rekawek.toxiproxy.model.ToxicDirection;
import eu.rekawek.toxiproxy.model.toxic.Latency;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Timeout.ThreadMode;

/**
 * Every toxic on a loopback echo server. Timing assertions have generous upper margins (the machine is
 * shared); lower bounds are strict, since a toxic must never be faster than configured.
 */
@Timeout(value = 60, threadMode = ThreadMode.SEPARATE_THREAD)
class ToxicsDataPathTest {

    /** Upper timing margin: generous, since the machine is shared (lower bounds stay exact). */
    private static final long MARGIN = 3_000;

    private static ToxiproxyServer server;
    private static EchoServer echo;
    private static ToxiproxyClient client;
    private Proxy proxy;

    @BeforeAll
    static void start() throws IOException {
        server = ToxiproxyServer.start();
        echo = new EchoServer();
        client = new ToxiproxyClient(server.host(), server.port());
    }

    @AfterAll
    static void stop() throws IOException {
        if (server != null) {
            server.stop();
        }
        if (echo != null) {
            echo.close();
        }
    }

    @BeforeEach
    void createProxy() throws IOException {
        proxy = client.createProxy("echo", "127.0.0.1:0", echo.address());
    }

    @AfterEach
    void deleteProxy() throws IOException {
        proxy.delete();
    }

    private Socket connect() throws IOException {
        return Sockets.connect(proxy.getListen());
    }

    /** Milliseconds for {@code length} bytes to go through the proxy and back. */
    private static long roundTripMillis(Socket socket, int length) throws IOException {
        byte[] data = Sockets.pattern(length);
        long start = System.nanoTime();
        socket.getOutputStream().write(data);
        assertArrayEquals(data, Sockets.readExactly(socket, length));
        return (System.nanoTime() - start) / 1_000_000;
    }

    @Test
    void withoutToxicsLargeTransfersArriveIntact() throws Exception {
        try (Socket socket = connect()) {
            byte[] data = Sockets.pattern(4 << 20);
            Thread writer = new Thread(() -> {
                try {
                    socket.getOutputStream().write(data);
                } catch (IOException e) {
                    // The read below fails then.
                }
            });
            writer.start();
            assertArrayEquals(data, Sockets.readExactly(socket, data.length));
            writer.join(10_000);
        }
    }

    @Test
    void latencyDelaysByTheConfiguredAmountAndLatenciesAddUp() throws Exception {
        try (Socket socket = connect()) {
            roundTripMillis(socket, 10);
            proxy.toxics().latency("down", ToxicDirection.DOWNSTREAM, 200);
            long one = roundTripMillis(socket, 10);
            assertTrue(one >= 200 && one < 200 + MARGIN, "round trip " + one + " ms with 200 ms latency");
            proxy.toxics().latency("up", ToxicDirection.UPSTREAM, 100);
            long two = roundTripMillis(socket, 10);
            assertTrue(two >= 300 && two < 300 + MARGIN, "round trip " + two + " ms with 100 + 200 ms latency");
            proxy.toxics().latency("down2", ToxicDirection.DOWNSTREAM, 100);
            long chained = roundTripMillis(socket, 10);
            assertTrue(chained >= 400 && chained < 400 + MARGIN, "two latency toxics in a row add up: " + chained + " ms");
        }
    }

    @Test
    void jitterStaysWithinItsBounds() throws Exception {
        proxy.toxics().latency("jit", ToxicDirection.DOWNSTREAM, 100).setJitter(50);
        try (Socket socket = connect()) {
            for (int i = 0; i < 5; i++) {
                long rtt = roundTripMillis(socket, 10);
                assertTrue(rtt >= 50 && rtt < 150 + MARGIN, "round trip " + rtt + " ms with 100 ± 50 ms");
            }
        }
    }

    @Test
    void latencyIsPipelinedSoThroughputIsKept() throws Exception {
        proxy.toxics().latency("lat", ToxicDirection.DOWNSTREAM, 300);
        try (Socket socket = connect()) {
            OutputStream out = socket.getOutputStream();
            long start = System.nanoTime();
            for (int i = 0; i < 20; i++) {
                out.write(Sockets.pattern(1000));
                Thread.sleep(10); // separate chunks, each stamped when read
            }
            Sockets.readExactly(socket, 20_000);
            long millis = (System.nanoTime() - start) / 1_000_000;
            // Serialised delays would take 20 x 300 ms = 6 s.
            assertTrue(millis >= 300 && millis < 5_000, "20 chunks took " + millis + " ms");
        }
    }

    @Test
    void bandwidthCapsThroughputWithKiloBytesOf1000() throws Exception {
        proxy.toxics().bandwidth("bw", ToxicDirection.DOWNSTREAM, 100); // 100,000 bytes/s
        try (Socket socket = connect()) {
            long millis = roundTripMillis(socket, 100_000);
            assertTrue(millis >= 950 && millis < 1_000 + MARGIN, "100 kB at 100 KB/s took " + millis + " ms");
        }
    }

    @Test
    void slowCloseDelaysTheClose() throws Exception {
        proxy.toxics().slowClose("sc", ToxicDirection.DOWNSTREAM, 500);
        try (Socket socket = connect()) {
            assertEquals(10, Sockets.readExactly(socketWithEcho(socket, 10), 10).length);
            long start = System.nanoTime();
            socket.shutdownOutput(); // no half-close: the proxy closes the whole connection
            assertEquals(0, Sockets.readToEof(socket).length);
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(millis >= 500 && millis < 500 + MARGIN, "close took " + millis + " ms");
        }
    }

    private static Socket socketWithEcho(Socket socket, int length) throws IOException {
        socket.getOutputStream().write(Sockets.pattern(length));
        return socket;
    }

    @Test
    void timeoutDropsDataAndClosesAfterTheTimeoutEvenWhileTrafficFlows() throws Exception {
        proxy.toxics().timeout("to", ToxicDirection.UPSTREAM, 400);
        try (Socket socket = connect()) {
            long start = System.nanoTime();
            socket.setSoTimeout(50);
            int received = 0;
            boolean closed = false;
            while (!closed && System.nanoTime() - start < 10_000_000_000L) {
                try {
                    socket.getOutputStream().write(1); // traffic does not restart the timer
                    int read = socket.getInputStream().read();
                    if (read < 0) {
                        closed = true;
                    } else {
                        received++;
                    }
                } catch (java.net.SocketTimeoutException e) {
                    // Nothing came back, as expected.
                } catch (SocketException e) {
                    closed = true;
                }
            }
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertEquals(0, received, "all data is dropped");
            assertTrue(closed, "closed by the timeout");
            assertTrue(millis >= 400 && millis < 400 + MARGIN, "closed after " + millis + " ms");
        }
    }

    @Test
    void timeoutZeroHangsUntilRemovedAndRemovalCloses() throws Exception {
        proxy.toxics().timeout("hang", ToxicDirection.UPSTREAM, 0);
        try (Socket socket = connect()) {
            socket.getOutputStream().write(Sockets.pattern(100));
            assertFalse(Sockets.closedWithin(socket, 700), "timeout 0 never closes and passes nothing");
            proxy.toxics().get("hang").remove();
            assertTrue(Sockets.closedWithin(socket, 10_000), "removing a timeout closes the connections it acted on");
        }
        try (Socket fresh = connect()) {
            roundTripMillis(fresh, 10); // new connections are clean
        }
    }

    @Test
    void resetPeerResetsTheConnection() throws Exception {
        proxy.toxics().resetPeer("rp", ToxicDirection.UPSTREAM, 0);
        try (Socket socket = connect()) {
            socket.getOutputStream().write(Sockets.pattern(10));
            SocketException reset = assertThrows(SocketException.class, () -> socket.getInputStream().read());
            assertTrue(reset.getMessage().toLowerCase().contains("reset"), reset.getMessage());
        }
    }

    @Test
    void resetPeerWaitsItsTimeoutAfterTheFirstData() throws Exception {
        proxy.toxics().resetPeer("rp", ToxicDirection.UPSTREAM, 300);
        try (Socket socket = connect()) {
            long start = System.nanoTime();
            socket.getOutputStream().write(Sockets.pattern(10));
            assertThrows(SocketException.class, () -> socket.getInputStream().read());
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(millis >= 300 && millis < 300 + MARGIN, "reset after " + millis + " ms");
        }
    }

    @Test
    void resetPeerAtToxicityZeroNeverResets() throws Exception {
        proxy.toxics().resetPeer("rp", ToxicDirection.UPSTREAM, 0).setToxicity(0f);
        try (Socket socket = connect()) {
            roundTripMillis(socket, 100);
            socket.shutdownOutput();
            // An ordinary close (FIN), not an RST (Toxiproxy #603 would reset here).
            assertEquals(0, Sockets.readToEof(socket).length);
        }
    }

    @Test
    void limitDataClosesAfterTheLimitWithTheCrossingChunkCut() throws Exception {
        proxy.toxics().limitData("ld", ToxicDirection.DOWNSTREAM, 1000);
        try (Socket socket = connect()) {
            byte[] sent = Sockets.pattern(3000);
            socket.getOutputStream().write(sent);
            byte[] received = Sockets.readToEof(socket);
            assertEquals(1000, received.length);
            assertArrayEquals(java.util.Arrays.copyOf(sent, 1000), received);
        }
    }

    @Test
    void limitDataZeroClosesOnTheFirstData() throws Exception {
        proxy.toxics().limitData("ld", ToxicDirection.UPSTREAM, 0);
        try (Socket socket = connect()) {
            socket.getOutputStream().write(Sockets.pattern(10));
            assertEquals(0, Sockets.readToEof(socket).length);
        }
    }

    @Test
    void limitDataCountSurvivesUpdates() throws Exception {
        eu.rekawek.toxiproxy.model.toxic.LimitData limit = proxy.toxics().limitData("ld", ToxicDirection.DOWNSTREAM, 1000);
        try (Socket socket = connect()) {
            roundTripMillis(socket, 600);
            limit.setBytes(500); // below what was already sent: the next chunk closes
            socket.getOutputStream().write(Sockets.pattern(10));
            assertEquals(0, Sockets.readToEof(socket).length);
        }
    }

    @Test
    void slicerFragmentsDataWithDelays() throws Exception {
        proxy.toxics().slicer("sl", ToxicDirection.DOWNSTREAM, 100, 2_000); // 2 ms between pieces
        try (Socket socket = connect()) {
            byte[] sent = Sockets.pattern(3000);
            long start = System.nanoTime();
            socket.getOutputStream().write(sent);
            InputStream in = socket.getInputStream();
            byte[] received = new byte[sent.length];
            int offset = 0;
            int reads = 0;
            while (offset < sent.length) {
                int read = in.read(received, offset, sent.length - offset);
                assertTrue(read > 0);
                offset += read;
                reads++;
            }
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertArrayEquals(sent, received);
            // Unsliced, 3000 bytes arrive in one read; the client may merge a few pieces if it reads late.
            assertTrue(reads >= 5, "arrived in " + reads + " reads");
            assertTrue(millis >= 58, "30 pieces with 2 ms pauses took " + millis + " ms");
        }
    }

    @Test
    void toxicityZeroAndOne() throws Exception {
        Latency latency = proxy.toxics().latency("lat", ToxicDirection.DOWNSTREAM, 2_000);
        latency.setToxicity(0f);
        try (Socket socket = connect()) {
            assertTrue(roundTripMillis(socket, 10) < 1_500, "toxicity 0 never applies");
        }
        latency.setToxicity(1f);
        try (Socket socket = connect()) {
            assertTrue(roundTripMillis(socket, 10) >= 2_000, "toxicity 1 always applies");
        }
    }

    @Test
    void toxicityIsDrawnPerConnection() throws Exception {
        proxy.toxics().latency("lat", ToxicDirection.DOWNSTREAM, 1_500).setToxicity(0.5f);
        List<Socket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < 40; i++) {
                sockets.add(connect());
            }
            for (Socket socket : sockets) {
                socket.getOutputStream().write(7);
            }
            Thread.sleep(750); // undelayed echoes are back by now, delayed ones take 1.5 s
            int fast = 0;
            for (Socket socket : sockets) {
                if (socket.getInputStream().available() > 0) {
                    fast++;
                }
            }
            for (Socket socket : sockets) {
                assertEquals(7, socket.getInputStream().read());
            }
            int slow = sockets.size() - fast;
            // Each connection draws: all 40 the same way has odds of 2 in 10^12.
            assertTrue(slow > 0 && slow < 40, slow + " of 40 connections were delayed");
        } finally {
            for (Socket socket : sockets) {
                socket.close();
            }
        }
    }

    @Test
    void unreachableUpstreamAcceptsThenCloses() throws Exception {
        int closedPort;
        try (ServerSocket gone = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = gone.getLocalPort();
        }
        proxy.setUpstream("127.0.0.1:" + closedPort);
        try (Socket socket = connect()) {
            assertEquals(-1, socket.getInputStream().read(), "connect succeeds, then EOF (as Toxiproxy)");
        }
    }
}
