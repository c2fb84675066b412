package dev.doorbuster.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import eu.rekawek.toxiproxy.ToxiproxyClient;
import org.junit.jupiter.api.Test;

/**
 * {@link ToxiproxyServer#main}: the entry point a proxy container runs (the docker topology names it, never the
 * command line's class), in its own JVM as there.
 */
class ProxyEntryPointTest {
    private static Process start(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), ToxiproxyServer.class.getName()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getOutputStream().close();
        return process;
    }

    @Test
    void servesTheApiOnTheGivenAddressAndStopsOnSigterm() throws Exception {
        Process process = start("-host", "127.0.0.1", "-port", "0");
        try {
            BufferedReader output = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            Pattern listening = Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)");
            int port = -1;
            StringBuilder seen = new StringBuilder();
            String line;
            while (port < 0 && (line = output.readLine()) != null) {
                seen.append(line).append('\n');
                Matcher matcher = listening.matcher(line);
                if (matcher.find()) {
                    port = Integer.parseInt(matcher.group(1));
                }
            }
            assertTrue(port > 0, "no listening line in:\n" + seen);
            assertEquals("{\"version\": \"" + ToxiproxyServer.TOXIPROXY_VERSION + "\"}",
                    new ToxiproxyClient("127.0.0.1", port).version());
            process.destroy(); // SIGTERM, as docker stop sends
            assertTrue(process.waitFor(15, TimeUnit.SECONDS), "exits on SIGTERM");
            int apiPort = port;
            assertThrows(ConnectException.class, () -> Sockets.connect("127.0.0.1:" + apiPort).close());
        } finally {
            process.destroyForcibly();
            process.waitFor(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void anUnknownFlagIsAUsageError() throws Exception {
        Process process = start("-config", "x.json");
        try {
            assertTrue(process.waitFor(30, TimeUnit.SECONDS));
            assertEquals(2, process.exitValue());
            String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(out.contains("Usage: dev.doorbuster.proxy.ToxiproxyServer [-host HOST] [-port PORT]; got '-config'"),
                    out);
        } finally {
            process.destroyForcibly();
            process.waitFor(5, TimeUnit.SECONDS);
        }
    }
}
