package dev.doorbuster.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import eu.rekawek.toxiproxy.Proxy;
import eu.rekawek.toxiproxy.ToxiproxyClient;
import eu.rekawek.toxiproxy.model.ToxicDirection;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Timeout.ThreadMode;

/** The embedded server's life cycle: loopback defaults, and stop() closing every socket and thread. */
@Timeout(value = 60, threadMode = ThreadMode.SEPARATE_THREAD)
class EmbeddedServerTest {

    private static long proxyThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> thread.isAlive() && thread.getName().startsWith("doorbuster-proxy"))
                .count();
    }

    @Test
    void stopClosesTheApiEveryListenerEveryConnectionAndEveryThread() throws Exception {
        long threadsBefore = proxyThreads();
        String listen;
        Socket live;
        ToxiproxyServer server;
        try (EchoServer echo = new EchoServer()) {
            server = ToxiproxyServer.start();
            assertTrue(server.url().matches("http://127\\.0\\.0\\.1:\\d+"), server.url());
            ToxiproxyClient client = new ToxiproxyClient(server.host(), server.port());
            Proxy proxy = client.createProxy("p", "127.0.0.1:0", echo.address());
            proxy.toxics().latency("held", ToxicDirection.DOWNSTREAM, 60_000);
            listen = proxy.getListen();
            live = Sockets.connect(listen);
            live.getOutputStream().write(1); // held for a minute by the latency toxic
            Thread.sleep(100);
            server.stop();
            server.stop(); // idempotent
            assertTrue(Sockets.closedWithin(live, 10_000), "live connection closed by stop()");
            live.close();
        }
        assertThrows(ConnectException.class, () -> Sockets.connect(server.host() + ":" + server.port()).close());
        assertThrows(ConnectException.class, () -> Sockets.connect(listen).close());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (proxyThreads() > threadsBefore && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(threadsBefore, proxyThreads(), "no proxy thread outlives stop()");
    }

    @Test
    void listenersWithoutAHostBindLoopback() throws Exception {
        try (ToxiproxyServer server = ToxiproxyServer.start()) {
            ToxiproxyClient client = new ToxiproxyClient(server.host(), server.port());
            assertTrue(client.createProxy("empty", "", "127.0.0.1:9").getListen().matches("127\\.0\\.0\\.1:\\d+"));
            assertTrue(client.createProxy("port-only", ":0", "127.0.0.1:9").getListen().matches("127\\.0\\.0\\.1:\\d+"));
        }
    }

    @Test
    void anApiPortInUseIsAClearError() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            IllegalStateException error = assertThrows(IllegalStateException.class,
                    () -> ToxiproxyServer.start("127.0.0.1", taken.getLocalPort()));
            assertTrue(error.getMessage().startsWith("listen tcp 127.0.0.1:" + taken.getLocalPort() + ": bind: "),
                    error.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> ToxiproxyServer.start("127.0.0.1", 65536));
    }

    @Test
    void populateFromJava() {
        try (ToxiproxyServer server = ToxiproxyServer.start()) {
            assertEquals(2, server.populate("[{\"name\":\"a\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"x:1\"},"
                    + "{\"name\":\"b\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"x:1\",\"enabled\":false}]"));
            IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                    () -> server.populate("[{\"listen\":\"127.0.0.1:0\"}]"));
            assertEquals("missing required field: name at proxy 1 (status 400)", bad.getMessage());
        }
    }
}
