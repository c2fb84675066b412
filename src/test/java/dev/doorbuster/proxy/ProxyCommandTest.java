package dev.doorbuster.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.doorbuster.cli.Doorbuster;
import eu.rekawek.toxiproxy.Proxy;
import eu.rekawek.toxiproxy.ToxiproxyClient;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Timeout.ThreadMode;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code doorbuster proxy}: toxiproxy-server's flags, bad flags, and a real standalone run. */
@Timeout(value = 60, threadMode = ThreadMode.SEPARATE_THREAD)
class ProxyCommandTest {

    private record Result(int exitCode, String out, String err) {
    }

    private static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine commandLine = new CommandLine(new Doorbuster());
        commandLine.setOut(new PrintWriter(out));
        commandLine.setErr(new PrintWriter(err));
        int exitCode = commandLine.execute(args);
        return new Result(exitCode, out.toString(), err.toString());
    }

    @Test
    void badFlagsPrintUsageAndExit2() {
        for (String[] args : new String[][] {{"proxy", "-bogus"}, {"proxy", "-port", "abc"}, {"proxy", "-port"},
            {"proxy", "-port", "70000"}, {"proxy", "extra"}}) {
            Result result = run(args);
            assertEquals(2, result.exitCode(), String.join(" ", args));
            assertTrue(result.err().contains("Usage: doorbuster proxy"), result.err());
        }
    }

    @Test
    void versionAndHelp() {
        Result version = run("proxy", "-version");
        assertEquals(0, version.exitCode());
        assertTrue(version.out().contains("2.12.0"), version.out());
        Result help = run("proxy", "-help");
        assertEquals(0, help.exitCode());
        assertTrue(help.out().contains("-host") && help.out().contains("-config"), help.out());
    }

    @Test
    void unreadableOrInvalidConfigFails(@TempDir Path dir) throws IOException {
        Result missing = run("proxy", "-port", "0", "-config", dir.resolve("none.json").toString());
        assertEquals(1, missing.exitCode());
        assertTrue(missing.err().contains("Cannot read config file"), missing.err());
        Path invalid = Files.writeString(dir.resolve("bad.json"), "[{\"name\":\"x\"}]");
        Result rejected = run("proxy", "-port=0", "-config=" + invalid);
        assertEquals(1, rejected.exitCode());
        assertTrue(rejected.err().contains("missing required field: upstream at proxy 1"), rejected.err());
    }

    @Test
    void standaloneServerServesTheApiAndStopsOnSigterm(@TempDir Path dir) throws Exception {
        Path config = Files.writeString(dir.resolve("toxiproxy.json"),
                "[{\"name\":\"from-config\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"127.0.0.1:9\"}]");
        Path java = Paths.get(System.getProperty("java.home"), "bin", "java");
        Process process = new ProcessBuilder(List.of(java.toString(), "-cp", System.getProperty("java.class.path"),
                Doorbuster.class.getName(), "proxy", "-host", "127.0.0.1", "-port", "0", "-config", config.toString()))
                .redirectErrorStream(true).start();
        try {
            process.getOutputStream().close();
            BufferedReader output = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            Pattern listening = Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)");
            int port = -1;
            String line;
            StringBuilder seen = new StringBuilder();
            while (port < 0 && (line = output.readLine()) != null) {
                seen.append(line).append('\n');
                Matcher matcher = listening.matcher(line);
                if (matcher.find() && line.contains("Ctrl-C")) {
                    port = Integer.parseInt(matcher.group(1));
                }
            }
            assertTrue(port > 0, "no listening line in:\n" + seen);
            ToxiproxyClient client = new ToxiproxyClient("127.0.0.1", port);
            assertEquals("{\"version\": \"2.12.0\"}", client.version());
            Proxy fromConfig = client.getProxy("from-config");
            assertTrue(fromConfig.isEnabled());
            process.destroy(); // SIGTERM: the shutdown hook closes everything
            assertTrue(process.waitFor(15, TimeUnit.SECONDS), "exits on SIGTERM");
            int apiPort = port;
            assertThrows(ConnectException.class, () -> Sockets.connect("127.0.0.1:" + apiPort).close());
            assertThrows(ConnectException.class, () -> Sockets.connect(fromConfig.getListen()).close());
        } finally {
            process.destroyForcibly();
            process.waitFor(5, TimeUnit.SECONDS);
        }
    }
}
