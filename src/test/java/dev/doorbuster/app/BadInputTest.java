package dev.doorbuster.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Malformed HTTP, sent as raw bytes over a plain socket to a storefront on a real primary + replica: every
 * one is answered 4xx with {@code Content-Type: application/json} and the {@code {"error","message"}} body,
 * never an HTML page, a 500 or a connection held open; and the server keeps answering normal requests.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BadInputTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final int REQUEST_TIMEOUT_MS = 2000;

    private StorefrontFixture fixture;
    private Storefront app;

    @BeforeAll
    void start() {
        fixture = StorefrontFixture.start();
        app = fixture.app(b -> b.routing(StorefrontConfig.Routing.PRIMARY).requestTimeoutMs(REQUEST_TIMEOUT_MS));
    }

    @AfterAll
    void stop() {
        if (fixture != null) {
            fixture.close();
        }
    }

    @AfterEach
    void stillServes() {
        Raw ok = send("GET /products/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertEquals(200, ok.status, ok.toString());
        assertEquals("primary", ok.header(StorefrontHeaders.SERVED_BY));
    }

    @Test
    void badRequestLinesAre400Json() {
        assertError(send("GARBAGE\r\n\r\n"), 400, "bad_request");
        assertError(send("GET\r\n\r\n"), 400, "bad_request");
        assertError(send("GET /products/1 HTTP/9.9\r\nHost: x\r\n\r\n"), 400, "bad_request");
        assertError(send("GET /products/1 XYZ/1.1\r\nHost: x\r\n\r\n"), 400, "bad_request");
        assertError(send("GE(T /products/1 HTTP/1.1\r\nHost: x\r\n\r\n"), 400, "bad_request");
        assertError(send("GET urn:x HTTP/1.1\r\nHost: x\r\n\r\n"), 400, "bad_request");
        assertError(send("GET * HTTP/1.1\r\nHost: x\r\n\r\n"), 400, "bad_request");
        assertError(send("GET /products/1 HTTP/1.1\r\nNo colon here\r\n\r\n"), 400, "bad_request");
    }

    @Test
    void badContentLengthsAre4xxJson() {
        assertError(send("POST /carts HTTP/1.1\r\nHost: x\r\nContent-Length: 12x\r\n\r\n{}"), 400, "bad_request");
        assertError(send("POST /carts HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n{}"), 400, "bad_request");
        assertError(send("POST /carts HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n{}"),
                400, "bad_request");
        assertError(send("POST /carts HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}"),
                400, "bad_request");
        // A valid but huge length is not read: 413 at once, connection closed.
        Raw huge = send("POST /carts HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000000\r\n\r\n{}");
        assertError(huge, 413, "payload_too_large");
        assertTrue(huge.closed, "closed after a 413");
        assertError(send("POST /carts HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"),
                400, "bad_request");
    }

    @Test
    void invalidPercentEscapesAre400() {
        assertError(send(get("/products?limit=%zz")), 400, "bad_request");
        assertError(send(get("/products?category=%4")), 400, "bad_request");
        assertError(send(get("/products/%G1")), 400, "bad_request");
        assertError(send(get("/products/1%")), 400, "bad_request");
    }

    @Test
    void nulIsRejectedNotSentToPostgres() {
        assertError(send(get("/products?category=%00")), 400, "bad_request");
        assertError(send(get("/products?category=a%00b")), 400, "bad_request");
        assertError(send(get("/products/1%00")), 400, "bad_request");
        assertError(send(get("/products?%00=1")), 400, "bad_request");
        assertError(send("GET /products?category=a\u0000b HTTP/1.1\r\nHost: x\r\n\r\n"), 400, "bad_request");
    }

    @Test
    void invalidUtf8IsRejected() {
        assertError(send(get("/products?category=%C3%28")), 400, "bad_request");
        assertError(send(get("/products?category=%FF")), 400, "bad_request");
        assertError(send(get("/products/%C0%AF")), 400, "bad_request"); // overlong '/'
        assertError(send(get("/products?category=\u00c3\u0028")), 400, "bad_request"); // raw bytes C3 28
        assertError(send(get("/products?category=\u00ff")), 400, "bad_request"); // raw byte FF
        // Valid UTF-8, percent-encoded, is fine (and matches no category).
        Raw valid = send(get("/products?category=caf%C3%A9"));
        assertEquals(200, valid.status, valid.toString());
    }

    @Test
    void emptyPathSegmentsAreNotFound() {
        assertError(send(get("//products")), 404, "not_found");
        assertError(send(get("//products/1")), 404, "not_found");
        assertError(send(get("/products//1")), 404, "not_found");
        assertError(send(get("/products/")), 404, "not_found");
    }

    @Test
    void aBodyShorterThanItsContentLengthIs408AndClosed() {
        long start = System.nanoTime();
        Raw r = send("POST /carts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{\"userId\"");
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertError(r, 408, "request_timeout");
        assertTrue(r.closed, "connection closed after the 408");
        assertTrue(millis >= REQUEST_TIMEOUT_MS - 100 && millis < REQUEST_TIMEOUT_MS + 3000, millis + " ms");
    }

    @Test
    void incompleteHeadersAre408AndClosed() {
        long start = System.nanoTime();
        Raw r = send("GET /products/1 HTTP/1.1\r\nHost: x\r\n");
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertError(r, 408, "request_timeout");
        assertTrue(r.closed, "connection closed after the 408");
        assertTrue(millis < REQUEST_TIMEOUT_MS + 3000, millis + " ms");
    }

    @Test
    void oversizedHeadersAndRequestLinesAre400() {
        assertError(send("GET /products/1 HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(20_000) + "\r\n\r\n"),
                400, "bad_request");
        assertError(send(get("/products?category=" + "a".repeat(10_000))), 400, "bad_request");
    }

    @Test
    void unknownMethodsAre405Or404() {
        Raw brew = send("BREW /products/1 HTTP/1.1\r\nHost: x\r\n\r\n");
        assertError(brew, 405, "method_not_allowed");
        assertEquals("GET", brew.header("Allow"));
        assertError(send("FOO /nowhere HTTP/1.1\r\nHost: x\r\n\r\n"), 404, "not_found");
    }

    @Test
    void tooLargeBodiesAre413Json() {
        String body = "{\"userId\": \"" + "x".repeat(70_000) + "\"}";
        Raw r = send("POST /carts HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length() + "\r\n\r\n" + body);
        assertError(r, 413, "payload_too_large");
        String chunk = Integer.toHexString(body.length());
        Raw chunked = send("POST /carts HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk + "\r\n" + body
                + "\r\n0\r\n\r\n");
        assertError(chunked, 413, "payload_too_large");
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrderOnOneConnection() throws IOException {
        try (Socket socket = socket()) {
            socket.getOutputStream().write(ascii(get("/products/2") + get("/products/nope") + get("/products/3")));
            InputStream in = socket.getInputStream();
            Raw first = read(in);
            Raw second = read(in);
            Raw third = read(in);
            assertEquals(200, first.status);
            assertEquals(2, first.json().get("id").asInt());
            assertError(second, 400, "bad_request");
            assertEquals(3, third.json().get("id").asInt());
        }
    }

    @Test
    void aClientThatShutsDownItsOutputStillGetsItsAnswer() throws IOException {
        try (Socket socket = socket()) {
            socket.getOutputStream().write(ascii(get("/products/4")));
            socket.shutdownOutput();
            Raw r = read(socket.getInputStream());
            assertEquals(200, r.status, r.toString());
            assertEquals(4, r.json().get("id").asInt());
            assertEquals(-1, socket.getInputStream().read(), "then closed");
        }
    }

    @Test
    void http10IsAnsweredAndClosed() throws IOException {
        try (Socket socket = socket()) {
            socket.getOutputStream().write(ascii("GET /products/5 HTTP/1.0\r\n\r\n"));
            Raw r = read(socket.getInputStream());
            assertEquals(200, r.status, r.toString());
            assertEquals(-1, socket.getInputStream().read(), "HTTP/1.0 without keep-alive: closed");
        }
    }

    /**
     * 400 requests made by corrupting valid ones (a byte replaced, inserted or deleted; NUL, '%', CR, LF, space,
     * 0xFF, half a UTF-8 sequence...), 16 at a time: every one is answered, none with a 500, every error as JSON,
     * none later than the receive timeout plus a margin.
     */
    @Test
    void corruptedRequestsAreAnsweredWithJsonNever500() throws Exception {
        String[] seeds = {
                "GET /products?category=widgets&limit=5 HTTP/1.1\r\nHost: x\r\n\r\n",
                withBody("POST /carts", "{\"userId\": 7}"),
                withBody("PUT /users/9", "{\"name\": \"Ann\"}"),
                "GET /products/12 HTTP/1.1\r\nHost: x\r\n" + StorefrontHeaders.CLIENT_ID + ": abc\r\n\r\n",
                withBody("POST /orders", "{\"userId\": 8, \"items\": [{\"productId\": 3, \"quantity\": 1}]}")};
        byte[] nasty = {0, '%', '/', ' ', '\r', '\n', (byte) 0xFF, (byte) 0xC3, ':', '?', '&', '=', '9', 'a'};
        java.util.Random random = new java.util.Random(20261201);
        java.util.List<String> requests = new java.util.ArrayList<>();
        for (int i = 0; i < 400; i++) {
            byte[] seed = ascii(seeds[i % seeds.length]);
            int at = random.nextInt(seed.length);
            byte b = random.nextInt(3) == 0 ? (byte) (0x20 + random.nextInt(0x5F)) : nasty[random.nextInt(nasty.length)];
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            switch (random.nextInt(3)) {
                case 0 -> { // replace
                    out.write(seed, 0, seed.length);
                    byte[] m = out.toByteArray();
                    m[at] = b;
                    out.reset();
                    out.write(m, 0, m.length);
                }
                case 1 -> { // insert
                    out.write(seed, 0, at);
                    out.write(b);
                    out.write(seed, at, seed.length - at);
                }
                default -> { // delete
                    out.write(seed, 0, at);
                    out.write(seed, at + 1, seed.length - at - 1);
                }
            }
            requests.add(out.toString(StandardCharsets.ISO_8859_1));
        }
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(16);
        try {
            java.util.List<java.util.concurrent.Future<String>> problems = new java.util.ArrayList<>();
            for (String request : requests) {
                problems.add(pool.submit(() -> {
                    long start = System.nanoTime();
                    Raw r;
                    try {
                        r = send(request);
                    } catch (RuntimeException | AssertionError e) {
                        return "no answer (" + e.getMessage() + ")";
                    }
                    long millis = (System.nanoTime() - start) / 1_000_000;
                    if (r.status >= 500 && r.status != 503 || r.status < 200) {
                        return r.toString();
                    }
                    if (millis > REQUEST_TIMEOUT_MS + 3000) {
                        return "answered after " + millis + " ms: " + r;
                    }
                    if (r.status >= 400) {
                        try {
                            assertError(r, r.status, r.json().path("error").asText());
                        } catch (AssertionError e) {
                            return e.getMessage();
                        }
                    }
                    return null;
                }));
            }
            java.util.List<String> failures = new java.util.ArrayList<>();
            for (int i = 0; i < problems.size(); i++) {
                String problem = problems.get(i).get(60, java.util.concurrent.TimeUnit.SECONDS);
                if (problem != null) {
                    failures.add(requests.get(i).replace("\r", "\\r").replace("\n", "\\n") + " -> " + problem);
                }
            }
            assertTrue(failures.isEmpty(), failures.size() + " bad answers:\n" + String.join("\n", failures));
        } finally {
            pool.shutdownNow();
        }
    }

    private static String withBody(String requestLine, String body) {
        return requestLine + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                + body.length() + "\r\n\r\n" + body;
    }

    // ---- raw HTTP ----------------------------------------------------------------------------------------

    private static String get(String target) {
        return "GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n";
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private Socket socket() throws IOException {
        Socket socket = new Socket("127.0.0.1", app.port());
        socket.setSoTimeout(10_000);
        return socket;
    }

    /** Sends {@code request} (chars as bytes, ISO-8859-1) and reads one response; the socket stays half-open. */
    private Raw send(String request) {
        try (Socket socket = socket()) {
            socket.getOutputStream().write(ascii(request));
            socket.getOutputStream().flush();
            InputStream in = socket.getInputStream();
            Raw r = read(in);
            if ("close".equalsIgnoreCase(r.header("Connection"))) {
                try {
                    r = r.withClosed(in.read() < 0);
                } catch (SocketTimeoutException e) {
                    r = r.withClosed(false);
                } catch (IOException reset) {
                    r = r.withClosed(true);
                }
            }
            return r;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Raw read(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            head.write(b);
            byte[] h = head.toByteArray();
            int n = h.length;
            if (n >= 4 && h[n - 4] == '\r' && h[n - 3] == '\n' && h[n - 2] == '\r' && h[n - 1] == '\n') {
                break;
            }
        }
        String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
        if (lines.length == 0 || !lines[0].startsWith("HTTP/1.")) {
            throw new AssertionError("no HTTP response: '" + head.toString(StandardCharsets.ISO_8859_1) + "'");
        }
        int status = Integer.parseInt(lines[0].split(" ")[1]);
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) {
                headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
            }
        }
        int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
        byte[] body = in.readNBytes(length);
        return new Raw(status, headers, new String(body, StandardCharsets.UTF_8), false);
    }

    private record Raw(int status, Map<String, String> headers, String body, boolean closed) {
        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        JsonNode json() {
            try {
                return MAPPER.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON (status " + status + "): " + body, e);
            }
        }

        Raw withClosed(boolean closed) {
            return new Raw(status, headers, body, closed);
        }

        @Override
        public String toString() {
            return status + " " + headers + " " + body;
        }
    }

    private static void assertError(Raw r, int status, String code) {
        assertEquals(status, r.status, r.toString());
        assertEquals("application/json", r.header("Content-Type"), r.toString());
        JsonNode json = r.json();
        assertEquals(code, json.path("error").asText(null), r.toString());
        assertFalse(json.path("message").asText("").isEmpty(), r.toString());
        assertFalse(r.body.contains("Exception") || r.body.contains("<h1>") || r.body.contains("\tat "), r.body);
    }
}
