package dev.doorbuster.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/** The fleet's balancer over real sockets: echo servers as members, clients as a load generator's users. */
class BalancerTest {

    private static InetSocketAddress at(EchoServer server) {
        return new InetSocketAddress("127.0.0.1", server.port());
    }

    private static String address(Balancer balancer) {
        return "127.0.0.1:" + balancer.address().getPort();
    }

    @Test
    void givesEachNewConnectionToTheNextMemberAndRelaysBothWays() throws IOException {
        try (EchoServer a = new EchoServer(); EchoServer b = new EchoServer(); Balancer balancer = Balancer.start("fleet")) {
            balancer.add(at(a));
            balancer.add(at(b));
            List<Socket> clients = new ArrayList<>();
            try {
                for (int i = 0; i < 6; i++) {
                    Socket client = Sockets.connect(address(balancer));
                    clients.add(client);
                    byte[] sent = Sockets.pattern(60_000 + i); // more than one read: relayed read by read
                    client.getOutputStream().write(sent);
                    assertArrayEquals(sent, Sockets.readExactly(client, sent.length), "connection " + i);
                }
            } finally {
                for (Socket client : clients) {
                    client.close();
                }
            }
            assertEquals(3, a.accepted());
            assertEquals(3, b.accepted());
            assertEquals(List.of(3L, 3L), balancer.members().stream().map(Balancer.Member::connections).toList());
            assertTrue(balancer.address().getAddress().isLoopbackAddress());
        }
    }

    @Test
    void aMemberAddedLaterTakesItsShareOfNewConnectionsOnly() throws IOException {
        try (EchoServer first = new EchoServer(); EchoServer added = new EchoServer();
             Balancer balancer = Balancer.start("fleet")) {
            balancer.add(at(first));
            Socket early = Sockets.connect(address(balancer));
            early.getOutputStream().write(new byte[] {1});
            assertArrayEquals(new byte[] {1}, Sockets.readExactly(early, 1));
            balancer.add(at(added));
            for (int i = 0; i < 4; i++) {
                try (Socket client = Sockets.connect(address(balancer))) {
                    client.getOutputStream().write(new byte[] {2});
                    assertArrayEquals(new byte[] {2}, Sockets.readExactly(client, 1));
                }
            }
            early.getOutputStream().write(new byte[] {3}); // the live connection stayed with its member
            assertArrayEquals(new byte[] {3}, Sockets.readExactly(early, 1));
            early.close();
            assertEquals(3, first.accepted());
            assertEquals(2, added.accepted());
        }
    }

    @Test
    void closesTheClientWhenThereIsNoMemberOrItsMemberRefuses() throws IOException {
        int refusing;
        try (ServerSocket closed = new ServerSocket(0)) {
            refusing = closed.getLocalPort();
        }
        try (Balancer balancer = Balancer.start("fleet")) {
            try (Socket client = Sockets.connect(address(balancer))) {
                assertTrue(Sockets.closedWithin(client, 5_000), "no member: closed");
            }
            balancer.add(new InetSocketAddress("127.0.0.1", refusing));
            try (Socket client = Sockets.connect(address(balancer))) {
                assertTrue(Sockets.closedWithin(client, 5_000), "a member that refuses: closed");
            }
        }
    }

    @Test
    void aServerThatClosesClosesTheClientAfterItsLastBytes() throws IOException {
        try (ServerSocket server = new ServerSocket(0, 5, java.net.InetAddress.getLoopbackAddress());
             Balancer balancer = Balancer.start("fleet")) {
            balancer.add(new InetSocketAddress("127.0.0.1", server.getLocalPort()));
            try (Socket client = Sockets.connect(address(balancer)); Socket accepted = server.accept()) {
                byte[] last = Sockets.pattern(100_000);
                accepted.getOutputStream().write(last);
                accepted.close();
                assertArrayEquals(last, Sockets.readToEof(client));
            }
        }
    }
}
