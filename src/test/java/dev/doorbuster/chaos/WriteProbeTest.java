package dev.doorbuster.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.function.LongToIntFunction;

import com.sun.net.httpserver.HttpServer;
import dev.doorbuster.topology.Environment;
import dev.doorbuster.topology.EnvironmentLoader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The write probe against a real HTTP server on 127.0.0.1: it sends the environment's write, its pre-flight tells a
 * write the service acknowledges from one it does not (naming the status or the error and the write), a service of
 * your own without {@code app.writeProbe} is never written to, and the RTO it measures is the time until the service
 * acknowledges again.
 */
class WriteProbeTest {
    @TempDir
    Path dir;

    private HttpServer server;
    /** Every request the server got: method, path with query, headers of interest and body. */
    private final List<String> requests = new CopyOnWriteArrayList<>();
    /** The status of the answer, by milliseconds since the server started. */
    private volatile LongToIntFunction status = ms -> 200;
    private volatile long started;

    @BeforeEach
    void serve() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/", exchange -> {
            try (exchange; InputStream in = exchange.getRequestBody()) {
                String body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                requests.add(exchange.getRequestMethod() + " " + exchange.getRequestURI() + " key="
                        + exchange.getRequestHeaders().getFirst("Idempotency-Key") + " type="
                        + exchange.getRequestHeaders().getFirst("Content-Type") + " body=" + body);
                int answer = status.applyAsInt((System.nanoTime() - started) / 1_000_000);
                if (answer == 0) {
                    Thread.sleep(WriteProbe.PREFLIGHT_TIMEOUT.toMillis() + 2_000); // never answers in time
                }
                exchange.sendResponseHeaders(answer == 0 ? 200 : answer, -1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        started = System.nanoTime();
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
        ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }

    private URI appUrl() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    private Environment environment(String json) throws IOException {
        Files.writeString(dir.resolve("svc.json"), json);
        return new EnvironmentLoader(dir, new Properties()).load("svc");
    }

    /** A service image probed with {@code probe} (null: app.writeProbe left out). */
    private Environment ownService(String probe) throws IOException {
        return environment("{\"type\": \"docker\", \"app\": {\"image\": \"shop/checkout:1.42\"" + (probe == null ? ""
                : ", \"writeProbe\": " + probe) + "}}");
    }

    private static final String ORDERS = "{\"method\": \"POST\", \"path\": \"/orders\", \"headers\": "
            + "{\"Idempotency-Key\": \"doorbuster-write-probe\"}, \"body\": {\"shopperId\": 1, \"quantity\": 1}}";

    @Test
    void aWriteTheServiceAcknowledgesPassesThePreflightAsTheEnvironmentSaysIt() throws IOException {
        status = ms -> 201;
        WriteProbe probe = WriteProbe.of(ownService(ORDERS), appUrl());
        assertEquals(Optional.empty(), probe.preflight());
        assertEquals(Optional.empty(), probe.unmeasurable());
        assertEquals(List.of("POST /orders key=doorbuster-write-probe type=application/json "
                + "body={\"shopperId\":1,\"quantity\":1}"), requests);
        assertTrue(probe.lastAnswer().acknowledged());
        assertEquals("POST /orders answered 201", probe.lastAnswer().toString());
    }

    @Test
    void theStorefrontsWriteIsPutUsers1() throws IOException {
        WriteProbe probe = WriteProbe.of(environment("{\"type\": \"local\"}"), appUrl());
        assertEquals(Optional.empty(), probe.preflight());
        assertEquals(List.of("PUT /users/1 key=null type=application/json body={\"name\":\"doorbuster-probe\"}"), requests);
    }

    @Test
    void aWriteWithoutABodySendsNone() throws IOException {
        WriteProbe probe = WriteProbe.of(ownService("{\"method\": \"PATCH\", \"path\": \"/accounts/7/touch?by=probe\"}"),
                appUrl());
        assertTrue(probe.tryWrite());
        assertEquals(List.of("PATCH /accounts/7/touch?by=probe key=null type=null body="), requests);
    }

    @Test
    void aWriteAnswered404FailsThePreflightNamingTheWriteAndTheStatus() throws IOException {
        status = ms -> 404;
        WriteProbe storefront = WriteProbe.of(environment("{\"type\": \"local\"}"), appUrl());
        WriteProbe.Unmeasurable why = storefront.preflight().orElseThrow();
        assertEquals("the write probe's pre-flight before the load, with no fault on, was not acknowledged: "
                + "PUT /users/1 answered 404", why.reason());
        assertTrue(why.fix().startsWith("PUT /users/1 answered 404: the reference storefront acknowledges this write"),
                why.fix());
        assertEquals(Optional.of(why), storefront.unmeasurable(), "the probe remembers it: the failover will not wait");

        WriteProbe own = WriteProbe.of(ownService(ORDERS), appUrl());
        WriteProbe.Unmeasurable ownWhy = own.preflight().orElseThrow();
        assertTrue(ownWhy.reason().endsWith("was not acknowledged: POST /orders answered 404"), ownWhy.reason());
        assertEquals(2, requests.size(), "an answer other than 2xx is final: one write per probe");
        assertEquals("POST /orders answered 404: set app.writeProbe in " + dir.resolve("svc.json") + " to a cheap write "
                + "the service acknowledges with 2xx every time (method, path, headers, body)", ownWhy.fix());
    }

    @Test
    void noAnswerFailsThePreflightNamingTheErrorWithinItsBound() throws IOException {
        int closed;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = socket.getLocalPort();
        }
        WriteProbe refused = WriteProbe.of(ownService(ORDERS), URI.create("http://127.0.0.1:" + closed));
        WriteProbe.Unmeasurable why = refused.preflight().orElseThrow();
        assertTrue(why.reason().contains("POST /orders got no answer (") && why.reason().contains("Connect"),
                why.reason());
        assertTrue(why.fix().startsWith("POST /orders got no answer ("), why.fix());

        status = ms -> 0; // the server holds every answer past the pre-flight's bound
        WriteProbe hung = WriteProbe.of(ownService(ORDERS), appUrl());
        long t0 = System.nanoTime();
        WriteProbe.Unmeasurable slow = hung.preflight().orElseThrow();
        long tookMs = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(slow.reason().endsWith("was not acknowledged in 2 tries: POST /orders got no answer (no answer "
                + "within 2000 ms)"), slow.reason());
        long bound = WriteProbe.PREFLIGHT_TRIES * WriteProbe.PREFLIGHT_TIMEOUT.toMillis();
        assertTrue(tookMs >= bound && tookMs < bound + 2_000, "bounded by the pre-flight's tries: " + tookMs + " ms");
        assertEquals(WriteProbe.PREFLIGHT_TRIES, requests.size(), "a write without an answer is tried again, once");
    }

    @Test
    void aServiceOfYourOwnWithoutAWriteProbeIsNeverWrittenTo() throws IOException {
        WriteProbe probe = WriteProbe.of(ownService(null), appUrl());
        WriteProbe.Unmeasurable why = probe.unmeasurable().orElseThrow();
        assertEquals(Optional.of(why), probe.preflight());
        assertEquals(List.of(), requests, "no write of an API the harness does not know");
        assertEquals("the environment sets no app.writeProbe, so no write of the service could be probed "
                + "(PUT /users/1 is the reference storefront's)", why.reason());
        assertTrue(why.fix().startsWith("set app.writeProbe in " + dir.resolve("svc.json") + " to a cheap write the "
                + "service acknowledges with 2xx every time (method, path, body;"), why.fix());
    }

    /**
     * The service answers 503 until {@code recoveredAfter}, then 201: the RTO is at least that (nothing was
     * acknowledged before) and at most a probe period later, plus slack for a busy machine.
     */
    @Test
    void theRtoIsTheTimeUntilTheServiceAcknowledgesAgain() throws Exception {
        long recoveredAfter = 1_500;
        WriteProbe probe = WriteProbe.of(ownService(ORDERS), appUrl());
        long since = System.nanoTime();
        started = since;
        status = ms -> ms < recoveredAfter ? 503 : 201;
        Duration rto = probe.awaitFirstSuccess(since, Duration.ofSeconds(10)).orElseThrow();
        assertTrue(rto.toMillis() >= recoveredAfter, "nothing was acknowledged before " + recoveredAfter + " ms: " + rto);
        assertTrue(rto.toMillis() < recoveredAfter + WriteProbe.PERIOD.toMillis() + 1_000, "within a period: " + rto);
        assertTrue(requests.size() >= 10, "written every " + WriteProbe.PERIOD.toMillis() + " ms: " + requests.size());
        assertEquals("POST /orders answered 201", probe.lastAnswer().toString());
    }

    @Test
    void aServiceThatNeverAcknowledgesIsGivenUpOnSayingWhatItAnswered() throws Exception {
        status = ms -> 503;
        WriteProbe probe = WriteProbe.of(ownService(ORDERS), appUrl());
        assertFalse(probe.awaitFirstSuccess(System.nanoTime(), Duration.ofMillis(350)).isPresent());
        assertEquals("POST /orders answered 503", probe.lastAnswer().toString());
    }
}
