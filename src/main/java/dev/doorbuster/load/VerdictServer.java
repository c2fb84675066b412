package dev.doorbuster.load;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Supplier;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.doorbuster.verdict.CheckResult;

/**
 * Serves the verdict's checks on loopback ({@code GET /checks/<n>}) so the run's last scenario can
 * request each one through Gatling: every check becomes a named request in Gatling's report, OK or KO
 * with its reason, and Gatling's assertions (hence the Maven build) fail on a failed check. A check not judged is
 * OK here: whether it fails the run is the check {@code checks not judged}'s, which is KO when it does.
 */
final class VerdictServer implements AutoCloseable {
    /** The answer's field that is false for a check that fails the run ({@link Verdicts} validates it). */
    static final String WITHIN_BUDGET = "withinBudget";
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpServer server;
    private final Supplier<List<CheckResult>> checks;

    VerdictServer(Supplier<List<CheckResult>> checks) throws IOException {
        System.setProperty("sun.net.httpserver.nodelay", "true");
        this.checks = checks;
        this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.createContext("/checks/", this::handle);
        server.start();
    }

    URI checkUrl(int index) {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/checks/" + index);
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            List<CheckResult> all = checks.get();
            String tail = exchange.getRequestURI().getPath().substring("/checks/".length());
            int status;
            byte[] body;
            try {
                CheckResult check = all.get(Integer.parseInt(tail));
                status = 200;
                body = JSON.writeValueAsBytes(java.util.Map.of("name", check.name(), WITHIN_BUDGET, !check.failed(),
                        "outcome", check.outcome().label(), "line", check.line()));
            } catch (RuntimeException e) {
                status = 404;
                body = ("{\"error\":\"no check '" + tail.replaceAll("[^0-9A-Za-z]", "") + "'\"}")
                        .getBytes(StandardCharsets.UTF_8);
            }
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(status, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
