package dev.doorbuster.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading a server's log since its launch: only the new lines, and nothing at all rather than an error. */
class ServerLogTest {
    @TempDir
    Path tmp;

    @Test
    void onlyWhatWasWrittenSinceTheOffsetIsRead() throws Exception {
        Path log = tmp.resolve("server.log");
        Files.writeString(log, "an earlier launch failed\n");
        long start = ServerLog.size(log);
        Files.writeString(log, "ready\n", java.nio.file.StandardOpenOption.APPEND);
        assertEquals("ready\n", ServerLog.since(log, start));
        assertEquals("", ServerLog.since(log, start + 1000), "an offset past the end reads nothing");
        assertEquals("an earlier launch failed\nready\n", ServerLog.read(log));
    }

    @Test
    void anAbsentLogReadsAsEmpty() {
        Path absent = tmp.resolve("never-written.log");
        assertEquals(0, ServerLog.size(absent));
        assertEquals("", ServerLog.since(absent, 0));
        assertEquals("", ServerLog.read(absent));
    }

    @Test
    void theTailIsTheLastLines() {
        assertEquals("c\nd", ServerLog.tail("a\nb\nc\nd\n", 2));
        assertEquals("a", ServerLog.tail("a", 5));
    }

    @Test
    void aFreeLoopbackPortCanBeBound() throws Exception {
        int port = ServerLog.freeLoopbackPort();
        assertTrue(port > 0);
        try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            assertEquals(port, socket.getLocalPort());
        }
    }
}
