package dev.doorbuster.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import eu.rekawek.toxiproxy.Proxy;
import eu.rekawek.toxiproxy.ToxiproxyClient;
import eu.rekawek.toxiproxy.model.Toxic;
import eu.rekawek.toxiproxy.model.ToxicDirection;
import eu.rekawek.toxiproxy.model.toxic.Bandwidth;
import eu.rekawek.toxiproxy.model.toxic.Latency;
import eu.rekawek.toxiproxy.model.toxic.LimitData;
import eu.rekawek.toxiproxy.model.toxic.ResetPeer;
import eu.rekawek.toxiproxy.model.toxic.Slicer;
import eu.rekawek.toxiproxy.model.toxic.SlowClose;
import eu.rekawek.toxiproxy.model.toxic.Timeout;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout.ThreadMode;

/** API conformance through the published toxiproxy-java client (2.1.11), unchanged. */
@org.junit.jupiter.api.Timeout(value = 60, threadMode = ThreadMode.SEPARATE_THREAD)
class ToxiproxyJavaClientTest {

    private static ToxiproxyServer server;
    private static EchoServer echo;
    private ToxiproxyClient client;

    @BeforeAll
    static void startServers() throws IOException {
        server = ToxiproxyServer.start();
        echo = new EchoServer();
    }

    @AfterAll
    static void stopServers() throws IOException {
        if (server != null) {
            server.stop();
        }
        if (echo != null) {
            echo.close();
        }
    }

    @org.junit.jupiter.api.BeforeEach
    void newClient() {
        client = new ToxiproxyClient(server.host(), server.port());
    }

    @AfterEach
    void deleteProxies() throws IOException {
        for (Proxy proxy : client.getProxies()) {
            proxy.delete();
        }
    }

    private static void assertEchoes(Proxy proxy) throws IOException {
        try (Socket socket = Sockets.connect(proxy.getListen())) {
            byte[] data = Sockets.pattern(1000);
            socket.getOutputStream().write(data);
            assertArrayEquals(data, Sockets.readExactly(socket, data.length));
        }
    }

    @Test
    void createsProxyAndRewritesPortZeroToTheBoundAddress() throws IOException {
        Proxy proxy = client.createProxy("echo", "localhost:0", echo.address());
        assertEquals("echo", proxy.getName());
        assertTrue(proxy.getListen().matches("127\\.0\\.0\\.1:\\d+"), proxy.getListen());
        assertNotEquals("127.0.0.1:0", proxy.getListen());
        assertEquals(echo.address(), proxy.getUpstream());
        assertTrue(proxy.isEnabled());
        assertEchoes(proxy);
    }

    @Test
    void getProxyAndGetProxyOrNull() throws IOException {
        Proxy created = client.createProxy("db", "127.0.0.1:0", echo.address());
        Proxy fetched = client.getProxy("db");
        assertEquals(created.getListen(), fetched.getListen());
        assertEquals(echo.address(), fetched.getUpstream());
        assertTrue(fetched.isEnabled());
        assertNull(client.getProxyOrNull("missing"));
        IOException missing = assertThrows(IOException.class, () -> client.getProxy("missing"));
        assertEquals("[404] proxy not found", missing.getMessage());
    }

    @Test
    void listsProxiesSortedByName() throws IOException {
        client.createProxy("charlie", "127.0.0.1:0", echo.address());
        client.createProxy("alpha", "127.0.0.1:0", echo.address());
        client.createProxy("bravo", "127.0.0.1:0", echo.address());
        List<Proxy> proxies = client.getProxies();
        assertEquals(3, proxies.size());
        assertEquals("alpha", proxies.get(0).getName());
        assertEquals("bravo", proxies.get(1).getName());
        assertEquals("charlie", proxies.get(2).getName());
    }

    @Test
    void duplicateNameIs409BeforeAnyBind() throws IOException {
        Proxy first = client.createProxy("dup", "127.0.0.1:0", echo.address());
        // Same listen address as the running proxy: the name clash must win over the bind error.
        IOException clash = assertThrows(IOException.class,
                () -> client.createProxy("dup", first.getListen(), echo.address()));
        assertEquals("[409] proxy already exists", clash.getMessage());
    }

    @Test
    void bindErrorsAre500WithGoText() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            String address = "127.0.0.1:" + taken.getLocalPort();
            IOException inUse = assertThrows(IOException.class, () -> client.createProxy("busy", address, echo.address()));
            assertEquals("[500] listen tcp " + address + ": bind: address already in use", inUse.getMessage());
        }
        assertNull(client.getProxyOrNull("busy"), "a proxy that cannot bind is not added");
        IOException malformed = assertThrows(IOException.class,
                () -> client.createProxy("bad", "local373", echo.address()));
        assertEquals("[500] listen tcp: address local373: missing port in address", malformed.getMessage());
    }

    @Test
    void disableRefusesConnectionsAndEnableRebindsTheSamePort() throws IOException {
        Proxy proxy = client.createProxy("toggle", "127.0.0.1:0", echo.address());
        String listen = proxy.getListen();
        proxy.disable();
        assertFalse(proxy.isEnabled());
        assertFalse(client.getProxy("toggle").isEnabled());
        assertThrows(ConnectException.class, () -> Sockets.connect(listen).close());
        proxy.enable();
        assertTrue(proxy.isEnabled());
        assertEquals(listen, proxy.getListen());
        assertEchoes(proxy);
    }

    @Test
    void setListenAndSetUpstreamRestartTheProxy() throws IOException {
        Proxy proxy = client.createProxy("moving", "127.0.0.1:0", "127.0.0.1:1");
        proxy.setUpstream(echo.address());
        assertEquals(echo.address(), proxy.getUpstream());
        assertEchoes(proxy);
        String before = proxy.getListen();
        proxy.setListen("127.0.0.1:0");
        assertNotEquals(before, proxy.getListen());
        assertTrue(proxy.isEnabled());
        assertEchoes(proxy);
        IOException bad = assertThrows(IOException.class, () -> proxy.setListen("local373"));
        assertEquals("[500] address local373: missing port in address", bad.getMessage());
    }

    @Test
    void deleteRemovesAndSecondDeleteIsFileNotFound() throws IOException {
        Proxy proxy = client.createProxy("gone", "127.0.0.1:0", echo.address());
        String listen = proxy.getListen();
        proxy.delete();
        assertNull(client.getProxyOrNull("gone"));
        assertThrows(ConnectException.class, () -> Sockets.connect(listen).close());
        assertThrows(FileNotFoundException.class, proxy::delete);
    }

    @Test
    void versionIsToxiproxyJsonForm() throws IOException {
        assertEquals("{\"version\": \"2.12.0\"}", client.version());
    }

    @Test
    void everyToxicTypeRoundTripsThroughTheClient() throws IOException {
        Proxy proxy = client.createProxy("toxic", "127.0.0.1:0", echo.address());
        Latency latency = proxy.toxics().latency("lat", ToxicDirection.DOWNSTREAM, 100);
        assertEquals(100, latency.getLatency());
        assertEquals(0, latency.getJitter());
        assertEquals(ToxicDirection.DOWNSTREAM, latency.getStream());
        assertEquals(1.0f, latency.getToxicity());
        Bandwidth bandwidth = proxy.toxics().bandwidth("bw", ToxicDirection.UPSTREAM, 1000);
        assertEquals(1000, bandwidth.getRate());
        Slicer slicer = proxy.toxics().slicer("sl", ToxicDirection.DOWNSTREAM, 10, 5);
        assertEquals(10, slicer.getAverageSize());
        assertEquals(0, slicer.getSizeVariation());
        assertEquals(5, slicer.getDelay());
        SlowClose slowClose = proxy.toxics().slowClose("sc", ToxicDirection.UPSTREAM, 50);
        assertEquals(50, slowClose.getDelay());
        Timeout timeout = proxy.toxics().timeout("to", ToxicDirection.UPSTREAM, 0);
        assertEquals(0, timeout.getTimeout());
        LimitData limitData = proxy.toxics().limitData("ld", ToxicDirection.DOWNSTREAM, 4096);
        assertEquals(4096, limitData.getBytes());
        ResetPeer resetPeer = proxy.toxics().resetPeer("rp", ToxicDirection.UPSTREAM, 7);
        assertEquals(7, resetPeer.getTimeout());

        List<? extends Toxic> all = proxy.toxics().getAll();
        // Upstream toxics first, then downstream, each in creation order.
        assertEquals(List.of("bw", "sc", "to", "rp", "lat", "sl", "ld"), all.stream().map(Toxic::getName).toList());
        assertInstanceOf(Bandwidth.class, all.get(0));
        assertInstanceOf(Latency.class, proxy.toxics().get("lat"));
        assertEquals(50, proxy.toxics().get("sc", SlowClose.class).getDelay());
        assertEquals(7, proxy.toxics().get("rp", ResetPeer.class).getTimeout());
    }

    @Test
    void attributeUpdatesMergeAndToxicityUpdatesKeepAttributes() throws IOException {
        Proxy proxy = client.createProxy("merge", "127.0.0.1:0", echo.address());
        Latency latency = proxy.toxics().latency("lat", ToxicDirection.UPSTREAM, 100);
        latency.setJitter(5);
        Latency fetched = proxy.toxics().get("lat", Latency.class);
        assertEquals(100, fetched.getLatency(), "latency kept when only jitter is posted");
        assertEquals(5, fetched.getJitter());
        latency.setToxicity(0.5f);
        fetched = proxy.toxics().get("lat", Latency.class);
        assertEquals(0.5f, fetched.getToxicity());
        assertEquals(100, fetched.getLatency());
        assertEquals(5, fetched.getJitter());
        latency.setLatency(250);
        assertEquals(250, proxy.toxics().get("lat", Latency.class).getLatency());

        Slicer slicer = proxy.toxics().slicer("sl", ToxicDirection.DOWNSTREAM, 100, 10);
        slicer.setSizeVariation(20).setDelay(30).setAverageSize(200);
        Slicer slicerNow = proxy.toxics().get("sl", Slicer.class);
        assertEquals(200, slicerNow.getAverageSize());
        assertEquals(20, slicerNow.getSizeVariation());
        assertEquals(30, slicerNow.getDelay());
        proxy.toxics().get("sl", Slicer.class).remove();

        proxy.toxics().bandwidth("bw", ToxicDirection.DOWNSTREAM, 10).setRate(20);
        assertEquals(20, proxy.toxics().get("bw", Bandwidth.class).getRate());
        proxy.toxics().slowClose("sc", ToxicDirection.DOWNSTREAM, 1).setDelay(2);
        assertEquals(2, proxy.toxics().get("sc", SlowClose.class).getDelay());
        proxy.toxics().timeout("to", ToxicDirection.DOWNSTREAM, 1).setTimeout(3);
        assertEquals(3, proxy.toxics().get("to", Timeout.class).getTimeout());
        proxy.toxics().limitData("ld", ToxicDirection.DOWNSTREAM, 1).setBytes(4);
        assertEquals(4, proxy.toxics().get("ld", LimitData.class).getBytes());
        proxy.toxics().resetPeer("rp", ToxicDirection.DOWNSTREAM, 1).setTimeout(5);
        assertEquals(5, proxy.toxics().get("rp", ResetPeer.class).getTimeout());
    }

    @Test
    void toxicErrorsCarryTheSpecMessages() throws IOException {
        Proxy proxy = client.createProxy("errors", "127.0.0.1:0", echo.address());
        Latency latency = proxy.toxics().latency("same", ToxicDirection.UPSTREAM, 1);
        IOException clash = assertThrows(IOException.class,
                () -> proxy.toxics().bandwidth("same", ToxicDirection.DOWNSTREAM, 1));
        assertEquals("[409] toxic already exists", clash.getMessage(), "names are unique across both directions");
        IOException missing = assertThrows(IOException.class, () -> proxy.toxics().get("nope"));
        assertEquals("[404] toxic not found", missing.getMessage());
        IOException rate = assertThrows(IOException.class,
                () -> proxy.toxics().bandwidth("zero", ToxicDirection.DOWNSTREAM, 0));
        assertTrue(rate.getMessage().startsWith("[400] bad request body: bandwidth attribute rate"), rate.getMessage());
        IOException negative = assertThrows(IOException.class,
                () -> proxy.toxics().latency("neg", ToxicDirection.DOWNSTREAM, -5));
        assertTrue(negative.getMessage().startsWith("[400] bad request body: latency attribute latency"),
                negative.getMessage());
        IOException slicer = assertThrows(IOException.class,
                () -> proxy.toxics().slicer("sl0", ToxicDirection.DOWNSTREAM, 0, 0));
        assertTrue(slicer.getMessage().startsWith("[400] bad request body: slicer attribute average_size"),
                slicer.getMessage());
        IOException badUpdate = assertThrows(IOException.class, () -> latency.setLatency(-1));
        assertTrue(badUpdate.getMessage().startsWith("[400] "), badUpdate.getMessage());
        assertEquals(1, proxy.toxics().get("same", Latency.class).getLatency(), "a rejected update changes nothing");

        latency.remove();
        assertThrows(FileNotFoundException.class, latency::remove);
        proxy.delete();
        IOException noProxy = assertThrows(IOException.class,
                () -> proxy.toxics().latency("x", ToxicDirection.UPSTREAM, 1));
        assertEquals("[404] proxy not found", noProxy.getMessage());
    }

    @Test
    void resetEnablesProxiesAndRemovesToxics() throws IOException {
        Proxy proxy = client.createProxy("reset", "127.0.0.1:0", echo.address());
        proxy.toxics().latency("lat", ToxicDirection.DOWNSTREAM, 1000);
        proxy.toxics().timeout("to", ToxicDirection.UPSTREAM, 0);
        proxy.disable();
        client.reset();
        assertTrue(proxy.isEnabled(), "reset refreshes the Proxy objects this client made");
        assertTrue(client.getProxy("reset").isEnabled());
        assertTrue(proxy.toxics().getAll().isEmpty());
        assertEchoes(proxy);
    }
}
