package dev.doorbuster.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import eu.rekawek.toxiproxy.Proxy;
import eu.rekawek.toxiproxy.ToxiproxyClient;
import eu.rekawek.toxiproxy.model.ToxicDirection;
import eu.rekawek.toxiproxy.model.toxic.Latency;
import eu.rekawek.toxiproxy.model.toxic.Slicer;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Timeout.ThreadMode;

/** Toxics added, updated and removed on live connections; disabling and deleting live proxies. */
@Timeout(value = 60, threadMode = ThreadMode.SEPARATE_THREAD)
class LiveToxicChangesTest {

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
        proxy = client.createProxy("live", "127.0.0.1:0", echo.address());
    }

    @AfterEach
    void deleteProxy() throws IOException {
        if (client.getProxyOrNull("live") != null) {
            client.getProxy("live").delete();
        }
    }

    @Test
    void addingUpdatingAndRemovingToxicsMidStreamLosesAndReordersNothing() throws Exception {
        byte[] data = Sockets.pattern(6 << 20);
        try (Socket socket = Sockets.connect(proxy.getListen())) {
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    for (int offset = 0; offset < data.length; offset += 16 << 10) {
                        socket.getOutputStream().write(data, offset, Math.min(16 << 10, data.length - offset));
                        if (offset % (512 << 10) == 0) {
                            Thread.sleep(20); // spread the stream over the changes below
                        }
                    }
                } catch (IOException | InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            CompletableFuture<byte[]> reader = CompletableFuture.supplyAsync(() -> {
                try {
                    return Sockets.readExactly(socket, data.length);
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            Latency up = proxy.toxics().latency("up", ToxicDirection.UPSTREAM, 30);
            Slicer slicer = proxy.toxics().slicer("slices", ToxicDirection.DOWNSTREAM, 4096, 0);
            Latency down = proxy.toxics().latency("down", ToxicDirection.DOWNSTREAM, 20);
            proxy.toxics().bandwidth("bw", ToxicDirection.UPSTREAM, 200_000);
            proxy.toxics().limitData("roomy", ToxicDirection.UPSTREAM, 1L << 40);
            up.setLatency(60).setJitter(20);
            slicer.setSizeVariation(1000);
            down.remove();
            proxy.toxics().get("bw").remove();
            up.setToxicity(0.5f);
            slicer.remove();
            up.remove();
            proxy.toxics().latency("late", ToxicDirection.DOWNSTREAM, 10);
            writer.get(30, TimeUnit.SECONDS);
            assertArrayEquals(data, reader.get(30, TimeUnit.SECONDS), "every byte, in order");
        }
    }

    @Test
    void removingALatencyToxicReleasesHeldDataAtOnce() throws Exception {
        Latency latency = proxy.toxics().latency("slow", ToxicDirection.DOWNSTREAM, 10_000);
        try (Socket socket = Sockets.connect(proxy.getListen())) {
            long start = System.nanoTime();
            socket.getOutputStream().write(Sockets.pattern(100));
            Thread.sleep(200);
            latency.remove();
            assertArrayEquals(Sockets.pattern(100), Sockets.readExactly(socket, 100));
            assertTrue(System.nanoTime() - start < 5_000_000_000L, "released well before the 10 s latency");
        }
    }

    @Test
    void aToxicAddedToALiveConnectionActsOnIt() throws Exception {
        try (Socket socket = Sockets.connect(proxy.getListen())) {
            socket.getOutputStream().write(1);
            assertEquals(1, socket.getInputStream().read());
            proxy.toxics().resetPeer("rp", ToxicDirection.UPSTREAM, 0);
            socket.getOutputStream().write(2);
            // Reset, not a FIN, though the connection predates the toxic (Toxiproxy would close it plainly).
            assertThrows(SocketException.class, () -> socket.getInputStream().read());
        }
    }

    @Test
    void disablingRefusesNewConnectionsAndClosesLiveOnes() throws Exception {
        String listen = proxy.getListen();
        try (Socket live = Sockets.connect(listen)) {
            live.getOutputStream().write(1);
            assertEquals(1, live.getInputStream().read());
            proxy.disable();
            assertTrue(Sockets.closedWithin(live, 10_000), "the live connection is closed");
            assertThrows(ConnectException.class, () -> Sockets.connect(listen).close());
            proxy.enable();
            try (Socket again = Sockets.connect(listen)) {
                again.getOutputStream().write(3);
                assertEquals(3, again.getInputStream().read());
            }
        }
    }

    @Test
    void deletingClosesLiveConnections() throws Exception {
        try (Socket live = Sockets.connect(proxy.getListen())) {
            live.getOutputStream().write(1);
            assertEquals(1, live.getInputStream().read());
            proxy.toxics().latency("held", ToxicDirection.DOWNSTREAM, 10_000);
            live.getOutputStream().write(2); // held by the latency toxic when the proxy goes
            proxy.delete();
            assertTrue(Sockets.closedWithin(live, 10_000));
        }
    }

    @Test
    void resetRemovesToxicsFromLiveConnections() throws Exception {
        proxy.toxics().latency("lat", ToxicDirection.DOWNSTREAM, 10_000);
        try (Socket live = Sockets.connect(proxy.getListen())) {
            client.reset();
            long start = System.nanoTime();
            live.getOutputStream().write(5);
            assertEquals(5, live.getInputStream().read());
            assertTrue(System.nanoTime() - start < 5_000_000_000L, "no latency after reset");
        }
    }

    @Test
    void removingAToxicWhileTheUpstreamReadsNothingDoesNotBlockTheApi() throws Exception {
        // Toxiproxy can block here (and answer 503 after 25 s): the held data cannot be written on.
        try (ServerSocket deaf = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            proxy.setUpstream("127.0.0.1:" + deaf.getLocalPort());
            Latency latency = proxy.toxics().latency("held", ToxicDirection.UPSTREAM, 60_000);
            try (Socket socket = Sockets.connect(proxy.getListen()); Socket accepted = deaf.accept()) {
                socket.getOutputStream().write(Sockets.pattern(4 << 20)); // held by the latency toxic
                long start = System.nanoTime();
                latency.remove();
                proxy.toxics().timeout("t", ToxicDirection.DOWNSTREAM, 0).remove();
                client.reset();
                long millis = (System.nanoTime() - start) / 1_000_000;
                assertTrue(millis < 10_000, "API calls took " + millis + " ms with a deaf upstream");
                assertTrue(accepted.isConnected());
            }
        }
    }
}
