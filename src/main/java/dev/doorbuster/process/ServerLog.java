package dev.doorbuster.process;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What the servers a run starts (Redis, PgBouncer) share about their start-up: a free loopback port to offer them, and
 * reading what their log said since they were launched, to tell "ready" from "failed" and to quote the failure.
 */
public final class ServerLog {
    /** More than any start-up says; a log grown beyond it is read from its start only this far. */
    private static final int LARGEST_READ = 1 << 20;

    private ServerLog() {
    }

    /** A port free on 127.0.0.1 now (another process may take it before the server binds it: retry then). */
    public static int freeLoopbackPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** The file's size, 0 if absent or unreadable: where a new launch's lines will start. */
    public static long size(Path log) {
        try {
            return Files.exists(log) ? Files.size(log) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    /** What was written to {@code log} from byte {@code offset} on (at most 1 MiB), empty if nothing or unreadable. */
    public static String since(Path log, long offset) {
        if (!Files.exists(log)) {
            return "";
        }
        try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "r")) {
            long length = file.length();
            long from = Math.min(Math.max(offset, 0), length);
            byte[] bytes = new byte[(int) Math.min(length - from, LARGEST_READ)];
            file.seek(from);
            file.readFully(bytes);
            return new String(bytes, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    /** The whole (small) file, empty if absent or unreadable. */
    public static String read(Path file) {
        return since(file, 0);
    }

    /** The last {@code lines} lines of {@code text}. */
    public static String tail(String text, int lines) {
        List<String> all = text.strip().lines().toList();
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }
}
