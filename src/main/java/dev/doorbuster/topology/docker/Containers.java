package dev.doorbuster.topology.docker;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Arrays;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Supplier;

import dev.doorbuster.topology.TopologyException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.containers.GenericContainer;

/** Small helpers for messages about containers and for stopping them. */
final class Containers {
    private static final Logger log = LoggerFactory.getLogger(Containers.class);
    /** Another host port is tried this many times in all when the one chosen was taken before the engine published it. */
    private static final int PORT_ATTEMPTS = 3;

    private Containers() {
    }

    /**
     * Starts the container {@code create} makes, with its {@code port} published on a free 127.0.0.1 port fixed at
     * creation (so its address survives a {@code docker restart}), and returns what {@code started} makes of it
     * (which may wait for more: a failure there stops the container too). Another port is tried when the one chosen
     * was taken meanwhile; any other failure is a {@link TopologyException} naming the container, its image and the
     * setting that chose it, with the last lines of its log.
     *
     * @param what    the container in messages, e.g. "the Redis container"
     * @param image   its image, and the setting that names it, e.g. "doorbuster/redis:7, docker.redisImage"
     */
    static <C extends GenericContainer<?>, T> T startOnLoopbackPort(String what, String image, int port,
                                                                   Supplier<C> create,
                                                                   BiFunction<C, Integer, T> started) {
        for (int attempt = 1; ; attempt++) {
            int hostPort = freeLoopbackPort(what);
            C c = create.get();
            // Loopback only, whatever address the engine publishes on by default.
            c.setPortBindings(List.of("127.0.0.1:" + hostPort + ":" + port));
            try {
                c.start();
                return started.apply(c, hostPort);
            } catch (RuntimeException e) {
                String reason = rootMessage(e);
                String logs = logTail(c, 25);
                stopQuietly(c);
                if (portTaken(reason) && attempt < PORT_ATTEMPTS) {
                    log.info("Port {} was taken before {} could publish it; trying another", hostPort, what);
                    continue;
                }
                String name = Character.toUpperCase(what.charAt(0)) + what.substring(1);
                throw new TopologyException(name + " (" + image + ") did not start: " + reason
                        + (logs.isEmpty() ? "" : "\nLast lines of its log:\n" + logs));
            }
        }
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
