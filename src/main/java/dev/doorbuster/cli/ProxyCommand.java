package dev.doorbuster.cli;

import dev.doorbuster.proxy.ToxiproxyServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code doorbuster proxy}: a standalone Toxiproxy-compatible server, taking toxiproxy-server's flags
 * ({@code -host}, {@code -port}, {@code -config}; Go's flag syntax {@code -port=8474} works too). Runs
 * until interrupted (Ctrl-C / SIGTERM), then closes every listener and connection.
 */
@Command(name = "proxy", mixinStandardHelpOptions = false,
        description = {
            "Runs a TCP chaos proxy that speaks Toxiproxy's HTTP API (2.12.0): toxiproxy-java, toxiproxy-cli",
            "and the Doorbuster harness drive it exactly as they drive toxiproxy-server."
        })
public final class ProxyCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = {"-host", "--host"}, paramLabel = "HOST",
            description = "Address the API listens on (default: ${DEFAULT-VALUE}). A non-loopback address logs a warning.")
    private String host = "127.0.0.1";

    @Option(names = {"-port", "--port"}, paramLabel = "PORT",
            description = "Port the API listens on (default: ${DEFAULT-VALUE}).")
    private int port = 8474;

    @Option(names = {"-config", "--config"}, paramLabel = "FILE",
            description = "JSON file of proxies to create at start-up, in POST /populate's format.")
    private Path config;

    @Option(names = {"-proxy-metrics", "--proxy-metrics"},
            description = "Accepted for compatibility: /metrics is always served.")
    private boolean proxyMetrics;

    @Option(names = {"-runtime-metrics", "--runtime-metrics"},
            description = "Accepted for compatibility: /metrics is always served (no JVM runtime metrics).")
    private boolean runtimeMetrics;

    @Option(names = {"-seed", "--seed"}, paramLabel = "N",
            description = "Accepted for compatibility; has no effect (as in toxiproxy-server 2.12.0).")
    private long seed;

    @Option(names = {"-version", "--version"}, description = "Prints the Toxiproxy API version served, and exits.")
    private boolean version;

    @Option(names = {"-h", "-help", "--help"}, usageHelp = true, description = "Shows this help and exits.")
    private boolean help;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (version) {
            out.println("toxiproxy-server version " + ToxiproxyServer.TOXIPROXY_VERSION + " (doorbuster proxy)");
            out.flush();
            return 0;
        }
        if (port < 0 || port > 65535) {
            err.println("Invalid value for option '-port': " + port + " is not within 0..65535");
            spec.commandLine().usage(err);
            return 2;
        }
        String populate = null;
        if (config != null) {
            try {
                populate = Files.readString(config, StandardCharsets.UTF_8);
            } catch (IOException e) {
                err.println("Cannot read config file " + config + ": " + e.getMessage());
                return 1;
            }
        }
        ToxiproxyServer server;
        try {
            server = ToxiproxyServer.start(host, port);
        } catch (IllegalStateException e) {
            err.println("Cannot start the proxy API: " + e.getMessage());
            return 1;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Thread shutdownHook = new Thread(() -> {
            server.stop();
            stopped.countDown();
        }, "doorbuster-proxy-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
        if (populate != null) {
            try {
                int count = server.populate(populate);
                out.println("Populated " + count + " proxies from " + config);
            } catch (IllegalArgumentException e) {
                err.println("Config file " + config + " rejected: " + e.getMessage());
                err.flush();
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
                server.stop();
                return 1;
            }
        }
        out.println("Toxiproxy API (" + ToxiproxyServer.TOXIPROXY_VERSION + ") listening on " + server.url()
                + "; Ctrl-C to stop");
        out.flush();
        stopped.await();
        return 0;
    }
}
