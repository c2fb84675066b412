package dev.doorbuster.topology.docker;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Arrays;
import java.util.List;

import dev.doorbuster.topology.TopologyException;
import org.testcontainers.containers.GenericContainer;

/** Small helpers for messages about containers and for stopping them. */
final class Containers {
    private Containers() {
    }

    /** {@code c}'s whole log (empty if it is gone). */
    static String logs(GenericContainer<?> c) {
        try {
            return c.getLogs();
        } catch (RuntimeException e) {
            return "";
        }
    }

    /** The last {@code lines} lines of {@code c}'s log (empty if it has none or is gone). */
    static String logTail(GenericContainer<?> c, int lines) {
        try {
            if (c.getContainerId() == null) {
                return "";
            }
            List<String> all = Arrays.asList(c.getLogs().split("\\R"));
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size())).strip();
        } catch (RuntimeException e) {
            return "";
        }
    }

    /** Stops and removes {@code c} (with its anonymous volumes); never throws. */
    static void stopQuietly(GenericContainer<?> c) {
        try {
            c.stop();
        } catch (RuntimeException ignored) {
            // already gone; the run's label sweep removes whatever is left
        }
    }

    /**
     * A free port on 127.0.0.1 for a container to publish at a port fixed at its creation (its address then survives
     * a {@code docker restart}); {@code what} names the container in the error.
     */
    static int freeLoopbackPort(String what) {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new TopologyException("No free port on 127.0.0.1 for " + what + ": " + e.getMessage());
        }
    }

    /** True when a container's start failed because its chosen host port was taken meanwhile: try another. */
    static boolean portTaken(String reason) {
        return reason.contains("port is already allocated") || reason.contains("address already in use");
    }

    /** The innermost cause's message: Testcontainers wraps the useful part several levels deep. */
    static String rootMessage(Throwable e) {
        Throwable t = e;
        StringBuilder chain = new StringBuilder(String.valueOf(e.getMessage()));
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
            if (t.getMessage() != null && !chain.toString().contains(t.getMessage())) {
                chain.append(": ").append(t.getMessage());
            }
        }
        return chain.toString();
    }
}
