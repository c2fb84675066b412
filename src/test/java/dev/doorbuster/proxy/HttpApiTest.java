package dev.doorbuster.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Timeout.ThreadMode;

/** API conformance over raw HTTP, for what toxiproxy-java does not exercise. */
@Timeout(value = 60, threadMode = ThreadMode.SEPARATE_THREAD)
class HttpApiTest {

    private static final String TEXT = "text/plain; charset=utf-8";
    private static final String JSON = "application/json";

    private static ToxiproxyServer server;
    private static EchoServer echo;
    private static HttpClient http;

    @BeforeAll
    static void start() throws IOException {
        server = ToxiproxyServer.start();
        echo = new EchoServer();
        http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterAll
    static void stop() throws IOException {
        if (server != null) {
            server.stop();
        }
        if (echo != null) {
            echo.close();
        }
    }

    @AfterEach
    void resetState() throws Exception {
        for (String name : names(call("GET", "/proxies", null).body())) {
            call("DELETE", "/proxies/" + name, null);
        }
    }

    private static java.util.List<String> names(String proxiesJson) {
        java.util.List<String> names = new java.util.ArrayList<>();
        Matcher matcher = Pattern.compile("\\{\"name\":\"([^\"]+)\"").matcher(proxiesJson);
        while (matcher.find()) {
            names.add(matcher.group(1));
        }
        return names;
    }

    static HttpResponse<String> call(String method, String path, String body) throws Exception {
        return call(method, path, body, "Java/17");
    }

    static HttpResponse<String> call(String method, String path, String body, String userAgent) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(server.url() + path))
                .timeout(Duration.ofSeconds(20))
                .header("User-Agent", userAgent)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            // What toxiproxy-java sends: the server must not care.
            request.header("Content-Type", "application/x-www-form-urlencoded");
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static Optional<String> header(HttpResponse<?> response, String name) {
        return response.headers().firstValue(name);
    }

    private static void assertApiError(HttpResponse<String> response, int status, String message) {
        assertEquals(status, response.statusCode(), response.body());
        assertEquals("{\"error\":\"" + message + "\",\"status\":" + status + "}\n", response.body());
        assertEquals(TEXT, header(response, "Content-Type").orElse(null));
        assertEquals("nosniff", header(response, "X-Content-Type-Options").orElse(null));
        assertTrue(header(response, "X-Toxiproxy-Request-Id").isPresent());
    }

    private static void assertBadBody(HttpResponse<String> response) {
        assertEquals(400, response.statusCode(), response.body());
        assertTrue(response.body().startsWith("{\"error\":\"bad request body: "), response.body());
    }

    private static String createEcho(String name) throws Exception {
        HttpResponse<String> created = call("POST", "/proxies",
                "{\"name\":\"" + name + "\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"" + echo.address() + "\"}");
        assertEquals(201, created.statusCode(), created.body());
        Matcher listen = Pattern.compile("\"listen\":\"([^\"]+)\"").matcher(created.body());
        assertTrue(listen.find());
        return listen.group(1);
    }

    // ---- routing, headers, browser block ----

    @Test
    void unknownPathsAre404PlainText() throws Exception {
        for (String path : new String[] {"/", "/nope", "/proxies/", "/proxies/x/", "/proxies//toxics",
            "/proxies/x/toxics/", "/proxies/x/other", "/version/", "/proxies/a/toxics/b/c"}) {
            HttpResponse<String> response = call("GET", path, null);
            assertEquals(404, response.statusCode(), path);
            assertEquals("404 page not found\n", response.body(), path);
            assertEquals(TEXT, header(response, "Content-Type").orElse(null), path);
            assertFalse(header(response, "X-Toxiproxy-Request-Id").isPresent(), path);
        }
    }

    @Test
    void malformedRequestsAre400AndTheServerCarriesOn() throws Exception {
        try (Socket socket = Sockets.connect(server.host() + ":" + server.port())) {
            socket.getOutputStream().write("GET /proxies/%zz HTTP/1.1\r\nHost: x\r\n\r\n"
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            assertTrue(readHead(socket).startsWith("HTTP/1.1 400 "));
        }
        try (Socket socket = Sockets.connect(server.host() + ":" + server.port())) {
            socket.getOutputStream().write("NOT-HTTP\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            assertTrue(readHead(socket).startsWith("HTTP/1.1 400 "));
        }
        assertEquals(200, call("GET", "/version", null).statusCode());
    }

    @Test
    void knownPathsWithWrongMethodAre405Empty() throws Exception {
        String[][] cases = {{"DELETE", "/proxies"}, {"PUT", "/proxies/x"}, {"GET", "/reset"}, {"POST", "/version"},
            {"GET", "/populate"}, {"PATCH", "/proxies/x/toxics"}, {"PUT", "/proxies/x/toxics/y"}, {"HEAD", "/version"}};
        for (String[] c : cases) {
            HttpResponse<String> response = call(c[0], c[1], null);
            assertEquals(405, response.statusCode(), c[0] + " " + c[1]);
            assertEquals("", response.body());
            assertFalse(header(response, "Content-Type").isPresent(), c[0] + " " + c[1]);
            assertFalse(header(response, "X-Toxiproxy-Request-Id").isPresent());
        }
    }

    @Test
    void browsersGet403OnRoutedPathsOnly() throws Exception {
        String mozilla = "Mozilla/5.0 (X11; Linux x86_64)";
        HttpResponse<String> blocked = call("GET", "/proxies", null, mozilla);
        assertEquals(403, blocked.statusCode());
        assertEquals("User agent not allowed\n", blocked.body());
        assertEquals(TEXT, header(blocked, "Content-Type").orElse(null));
        assertTrue(header(blocked, "X-Toxiproxy-Request-Id").isPresent());
        assertEquals(403, call("POST", "/reset", null, mozilla).statusCode());
        assertEquals(404, call("GET", "/unknown", null, mozilla).statusCode());
        assertEquals(200, call("GET", "/proxies", null, "curl/8.0 Mozilla/5.0").statusCode());
    }

    @Test
    void routedResponsesCarryARequestId() throws Exception {
        HttpResponse<String> first = call("GET", "/proxies", null);
        HttpResponse<String> second = call("GET", "/proxies/missing", null);
        String id = header(first, "X-Toxiproxy-Request-Id").orElseThrow();
        assertTrue(id.matches("[0-9a-v]{20}"), id);
        assertFalse(id.equals(header(second, "X-Toxiproxy-Request-Id").orElseThrow()));
    }

    @Test
    void versionIsToxiproxysJsonWithNewline() throws Exception {
        HttpResponse<String> response = call("GET", "/version", null);
        assertEquals(200, response.statusCode());
        assertEquals("{\"version\": \"2.12.0\"}\n", response.body());
        assertEquals("application/json;charset=utf-8", header(response, "Content-Type").orElse(null));
    }

    // ---- proxies ----

    @Test
    void createReturns201WithExactBody() throws Exception {
        HttpResponse<String> response = call("POST", "/proxies",
                "{\"name\":\"db\",\"listen\":\"localhost:0\",\"upstream\":\"" + echo.address() + "\"}");
        assertEquals(201, response.statusCode());
        assertEquals(JSON, header(response, "Content-Type").orElse(null));
        assertTrue(response.body().matches("\\{\"name\":\"db\",\"listen\":\"127\\.0\\.0\\.1:\\d+\",\"upstream\":\""
                + Pattern.quote(echo.address()) + "\",\"enabled\":true,\"toxics\":\\[]}"), response.body());
        assertEquals(response.body(), call("GET", "/proxies/db", null).body());
        assertTrue(call("GET", "/proxies", null).body().startsWith("{\"db\":{\"name\":\"db\""));
    }

    @Test
    void emptyProxyListIsAnEmptyObject() throws Exception {
        HttpResponse<String> response = call("GET", "/proxies", null);
        assertEquals(200, response.statusCode());
        assertEquals("{}", response.body());
    }

    @Test
    void createValidatesInOrder() throws Exception {
        assertApiError(call("POST", "/proxies", "{}"), 400, "missing required field: name");
        assertApiError(call("POST", "/proxies", "null"), 400, "missing required field: name");
        assertApiError(call("POST", "/proxies", "{\"name\":\"\",\"upstream\":\"\"}"), 400,
                "missing required field: name");
        assertApiError(call("POST", "/proxies", "{\"name\":\"x\"}"), 400, "missing required field: upstream");
        assertApiError(call("POST", "/proxies", ""), 400, "bad request body: EOF");
        assertApiError(call("POST", "/proxies", "{\"name\":"), 400, "bad request body: unexpected EOF");
        assertApiError(call("POST", "/proxies", "{\"name\":5,\"upstream\":\"a:1\"}"), 400,
                "bad request body: json: cannot unmarshal number 5 into Go struct field Proxy.name of type string");
        assertApiError(call("POST", "/proxies", "{\"name\":\"x\",\"upstream\":\"a:1\",\"enabled\":\"yes\"}"), 400,
                "bad request body: json: cannot unmarshal string into Go struct field Proxy.enabled of type bool");
        assertApiError(call("POST", "/proxies", "[]"), 400,
                "bad request body: json: cannot unmarshal array into Go value of type toxiproxy.Proxy");
        assertBadBody(call("POST", "/proxies", "{name: 1}"));
        assertBadBody(call("POST", "/proxies", "nonsense"));
        assertEquals("{}", call("GET", "/proxies", null).body(), "nothing was created");
    }

    @Test
    void decodesLikeGo() throws Exception {
        // Case-insensitive keys, last duplicate wins, unknown keys ignored, trailing bytes ignored.
        HttpResponse<String> response = call("POST", "/proxies",
                "{\"NAME\":\"first\",\"name\":\"second\",\"Upstream\":\"example.invalid:1\",\"bogus\":[1,{}],"
                        + "\"Enabled\":false,\"LISTEN\":\"localhost:3310\"} trailing {garbage");
        assertEquals(201, response.statusCode(), response.body());
        assertEquals("{\"name\":\"second\",\"listen\":\"localhost:3310\",\"upstream\":\"example.invalid:1\","
                + "\"enabled\":false,\"toxics\":[]}", response.body(), "a disabled proxy echoes listen as given");
    }

    @Test
    void escapesLikeGo() throws Exception {
        HttpResponse<String> response = call("POST", "/proxies",
                "{\"name\":\"<a&b>\",\"upstream\":\"x:1\",\"enabled\":false}");
        assertEquals(201, response.statusCode());
        assertTrue(response.body().contains("\"name\":\"\\u003ca\\u0026b\\u003e\""), response.body());
        // Path variables match the decoded path.
        assertEquals(204, call("DELETE", "/proxies/%3Ca%26b%3E", null).statusCode());
    }

    @Test
    void duplicateCreateIs409() throws Exception {
        createEcho("twice");
        assertApiError(call("POST", "/proxies", "{\"name\":\"twice\",\"upstream\":\"x:1\"}"), 409,
                "proxy already exists");
    }

    @Test
    void missingProxyIs404OnEveryProxyRoute() throws Exception {
        for (String[] c : new String[][] {{"GET", "/proxies/none"}, {"POST", "/proxies/none"},
            {"PATCH", "/proxies/none"}, {"DELETE", "/proxies/none"}, {"GET", "/proxies/none/toxics"},
            {"POST", "/proxies/none/toxics"}, {"GET", "/proxies/none/toxics/t"}, {"PATCH", "/proxies/none/toxics/t"},
            {"DELETE", "/proxies/none/toxics/t"}}) {
            assertApiError(call(c[0], c[1], "{bad json"), 404, "proxy not found");
        }
    }

    @Test
    void patchAndPostUpdateWithMissingFieldsKept() throws Exception {
        String listen = createEcho("upd");
        HttpResponse<String> disabled = call("PATCH", "/proxies/upd", "{\"enabled\":false,\"name\":\"renamed\"}");
        assertEquals(200, disabled.statusCode());
        assertEquals("{\"name\":\"upd\",\"listen\":\"" + listen + "\",\"upstream\":\"" + echo.address()
                + "\",\"enabled\":false,\"toxics\":[]}", disabled.body());
        HttpResponse<String> enabled = call("POST", "/proxies/upd", "{\"enabled\":true}");
        assertEquals(200, enabled.statusCode());
        assertTrue(enabled.body().contains("\"listen\":\"" + listen + "\""), "re-enable binds the same port");
        assertEquals(200, call("PATCH", "/proxies/upd", "null").statusCode());
        assertBadBody(call("PATCH", "/proxies/upd", ""));
        assertBadBody(call("PATCH", "/proxies/upd", "{\"listen\":7}"));
        assertApiError(call("PATCH", "/proxies/upd", "{\"listen\":\"local373\"}"), 500,
                "address local373: missing port in address");
    }

    @Test
    void sameResolvedListenDoesNotRestartButNewUpstreamDoes() throws Exception {
        String listen = createEcho("restart");
        int port = Integer.parseInt(listen.substring(listen.lastIndexOf(':') + 1));
        try (Socket live = Sockets.connect(listen)) {
            live.getOutputStream().write(1);
            assertEquals(1, Sockets.readExactly(live, 1)[0]);
            HttpResponse<String> same = call("PATCH", "/proxies/restart", "{\"listen\":\"localhost:" + port + "\"}");
            assertEquals(200, same.statusCode(), same.body());
            assertTrue(same.body().contains("\"listen\":\"127.0.0.1:" + port + "\""));
            live.getOutputStream().write(2);
            assertEquals(2, Sockets.readExactly(live, 1)[0], "connection survives an update that changes nothing");
            assertEquals(200, call("PATCH", "/proxies/restart", "{\"upstream\":\"localhost:" + echo.port() + "\"}")
                    .statusCode());
            assertTrue(Sockets.closedWithin(live, 10_000), "an upstream change closes live connections");
        }
    }

    @Test
    void failedRestartLeavesTheProxyDisabledWithTheNewListen() throws Exception {
        createEcho("stuck");
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            String address = "127.0.0.1:" + taken.getLocalPort();
            HttpResponse<String> response = call("PATCH", "/proxies/stuck", "{\"listen\":\"" + address + "\"}");
            assertApiError(response, 500, "listen tcp " + address + ": bind: address already in use");
            HttpResponse<String> now = call("GET", "/proxies/stuck", null);
            assertTrue(now.body().contains("\"listen\":\"" + address + "\""), now.body());
            assertTrue(now.body().contains("\"enabled\":false"), now.body());
        }
    }

    @Test
    void deleteIs204Empty() throws Exception {
        createEcho("del");
        HttpResponse<String> response = call("DELETE", "/proxies/del", null);
        assertEquals(204, response.statusCode());
        assertEquals("", response.body());
        assertFalse(header(response, "Content-Type").isPresent());
        assertApiError(call("DELETE", "/proxies/del", null), 404, "proxy not found");
    }

    // ---- toxics ----

    @Test
    void toxicDefaultsAndExactBody() throws Exception {
        createEcho("tx");
        HttpResponse<String> created = call("POST", "/proxies/tx/toxics", "{\"type\":\"latency\"}");
        assertEquals(200, created.statusCode(), "create toxic is 200, not 201");
        assertEquals(JSON, header(created, "Content-Type").orElse(null));
        assertEquals("{\"attributes\":{\"latency\":0,\"jitter\":0},\"name\":\"latency_downstream\",\"type\":\"latency\","
                + "\"stream\":\"downstream\",\"toxicity\":1}", created.body());
        HttpResponse<String> upper = call("POST", "/proxies/tx/toxics",
                "{\"type\":\"slicer\",\"stream\":\"UpStream\",\"toxicity\":0.1,\"attributes\":{\"Average_Size\":10}}");
        assertEquals("{\"attributes\":{\"average_size\":10,\"size_variation\":0,\"delay\":0},\"name\":\"slicer_UpStream\","
                + "\"type\":\"slicer\",\"stream\":\"UpStream\",\"toxicity\":0.1}", upper.body());
        HttpResponse<String> list = call("GET", "/proxies/tx/toxics", null);
        assertTrue(list.body().startsWith("[{\"attributes\":{\"average_size\""), "upstream toxics listed first");
        assertEquals(created.body(), call("GET", "/proxies/tx/toxics/latency_downstream", null).body());
        HttpResponse<String> proxy = call("GET", "/proxies/tx", null);
        assertTrue(proxy.body().contains("\"toxics\":[{\"attributes\":{\"average_size\":10"), proxy.body());
    }

    @Test
    void everyTypeHasItsAttributesAndNoopIsAccepted() throws Exception {
        createEcho("types");
        String[][] expected = {
            {"latency", "{\"latency\":0,\"jitter\":0}"}, {"bandwidth", "{\"rate\":5}"}, {"slow_close", "{\"delay\":0}"},
            {"timeout", "{\"timeout\":0}"}, {"reset_peer", "{\"timeout\":0}"},
            {"slicer", "{\"average_size\":5,\"size_variation\":0,\"delay\":0}"}, {"limit_data", "{\"bytes\":0}"},
            {"noop", "{}"}};
        for (String[] type : expected) {
            String body = "{\"type\":\"" + type[0] + "\",\"attributes\":{\"rate\":5,\"average_size\":5}}";
            HttpResponse<String> response = call("POST", "/proxies/types/toxics", body);
            assertEquals(200, response.statusCode(), type[0] + ": " + response.body());
            assertTrue(response.body().startsWith("{\"attributes\":" + type[1] + ","), response.body());
        }
    }

    @Test
    void toxicCreateValidatesInSpecOrder() throws Exception {
        createEcho("val");
        assertApiError(call("POST", "/proxies/val/toxics", "{\"type\":\"nope\",\"stream\":\"sideways\"}"), 400,
                "stream was invalid, can be either upstream or downstream");
        assertApiError(call("POST", "/proxies/val/toxics", "{\"type\":\"latency\",\"stream\":\"\"}"), 400,
                "stream was invalid, can be either upstream or downstream");
        assertApiError(call("POST", "/proxies/val/toxics", "{\"type\":\"Latency\"}"), 400, "invalid toxic type");
        assertApiError(call("POST", "/proxies/val/toxics", "{}"), 400, "invalid toxic type");
        assertEquals(200, call("POST", "/proxies/val/toxics", "{\"name\":\"t\",\"type\":\"latency\"}").statusCode());
        // The name clash (409) is found before the attributes are parsed.
        assertApiError(call("POST", "/proxies/val/toxics",
                "{\"name\":\"t\",\"type\":\"timeout\",\"stream\":\"upstream\",\"attributes\":{\"timeout\":\"x\"}}"), 409,
                "toxic already exists");
        assertApiError(call("POST", "/proxies/val/toxics", "{\"type\":\"latency\",\"attributes\":{\"latency\":100.5}}"),
                400, "bad request body: json: cannot unmarshal number 100.5 into Go struct field "
                        + "ToxicWrapper.attributes.latency of type int64");
        assertBadBody(call("POST", "/proxies/val/toxics", "{\"type\":\"latency\",\"attributes\":{\"latency\":1e3}}"));
        assertBadBody(call("POST", "/proxies/val/toxics",
                "{\"type\":\"latency\",\"attributes\":{\"latency\":9223372036854775808}}"));
        assertBadBody(call("POST", "/proxies/val/toxics", "{\"type\":\"latency\",\"attributes\":{\"jitter\":\"5\"}}"));
        assertBadBody(call("POST", "/proxies/val/toxics", "{\"type\":\"latency\",\"attributes\":[1]}"));
        assertBadBody(call("POST", "/proxies/val/toxics", "{\"type\":\"latency\",\"toxicity\":\"0.5\"}"));
        assertBadBody(call("POST", "/proxies/val/toxics", "{\"type\":\"latency\",\"toxicity\":1e100}"));
        assertBadBody(call("POST", "/proxies/val/toxics", "{\"type\":\"bandwidth\",\"attributes\":{\"rate\":-1}}"));
        assertBadBody(call("POST", "/proxies/val/toxics", "{\"type\":\"bandwidth\"}"));
        assertBadBody(call("POST", "/proxies/val/toxics", "{\"type\":\"slicer\",\"attributes\":{\"average_size\":0}}"));
        assertBadBody(call("POST", "/proxies/val/toxics", "[]"));
        assertBadBody(call("POST", "/proxies/val/toxics", ""));
        assertEquals(1, call("GET", "/proxies/val/toxics", null).body().split("\"name\"").length - 1,
                "only the valid toxic was added");
    }

    @Test
    void toxicUpdateMergesAndIgnoresIdentityFields() throws Exception {
        createEcho("merge");
        call("POST", "/proxies/merge/toxics",
                "{\"name\":\"lat\",\"type\":\"latency\",\"stream\":\"upstream\",\"attributes\":{\"latency\":100}}");
        HttpResponse<String> patched = call("PATCH", "/proxies/merge/toxics/lat",
                "{\"attributes\":{\"jitter\":5},\"name\":\"other\",\"type\":\"timeout\",\"stream\":\"downstream\"}");
        assertEquals(200, patched.statusCode());
        assertEquals("{\"attributes\":{\"latency\":100,\"jitter\":5},\"name\":\"lat\",\"type\":\"latency\","
                + "\"stream\":\"upstream\",\"toxicity\":1}", patched.body());
        HttpResponse<String> toxicity = call("POST", "/proxies/merge/toxics/lat", "{\"toxicity\":0.5}");
        assertTrue(toxicity.body().contains("\"latency\":100,\"jitter\":5") && toxicity.body().endsWith("\"toxicity\":0.5}"),
                toxicity.body());
        assertEquals(200, call("PATCH", "/proxies/merge/toxics/lat", "null").statusCode());
        assertBadBody(call("PATCH", "/proxies/merge/toxics/lat", "{\"attributes\":{\"latency\":-1}}"));
        assertBadBody(call("PATCH", "/proxies/merge/toxics/lat", "{\"toxicity\":true}"));
        assertTrue(call("GET", "/proxies/merge/toxics/lat", null).body().contains("\"latency\":100,\"jitter\":5"));
        assertApiError(call("PATCH", "/proxies/merge/toxics/none", "{bad"), 404, "toxic not found");
        assertApiError(call("GET", "/proxies/merge/toxics/none", null), 404, "toxic not found");
        HttpResponse<String> deleted = call("DELETE", "/proxies/merge/toxics/lat", null);
        assertEquals(204, deleted.statusCode());
        assertApiError(call("DELETE", "/proxies/merge/toxics/lat", null), 404, "toxic not found");
    }

    // ---- populate, reset ----

    @Test
    void populateCreatesKeepsAndReplaces() throws Exception {
        String keepListen = createEcho("keep");
        call("POST", "/proxies/keep/toxics", "{\"type\":\"latency\"}");
        createEcho("replace");
        call("POST", "/proxies/replace/toxics", "{\"type\":\"latency\"}");
        String body = "[{\"name\":\"keep\",\"listen\":\"" + keepListen + "\",\"upstream\":\"" + echo.address() + "\"},"
                + "{\"name\":\"replace\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"" + echo.address() + "\"},"
                + "{\"name\":\"fresh\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"" + echo.address() + "\",\"enabled\":false}]";
        HttpResponse<String> response = call("POST", "/populate", body);
        assertEquals(201, response.statusCode(), response.body());
        assertEquals(JSON, header(response, "Content-Type").orElse(null));
        assertTrue(response.body().startsWith("{\"proxies\":[{\"name\":\"keep\""), response.body());
        assertTrue(call("GET", "/proxies/keep", null).body().contains("latency_downstream"), "kept with its toxics");
        assertTrue(call("GET", "/proxies/replace", null).body().contains("\"toxics\":[]"), "replaced without toxics");
        assertTrue(call("GET", "/proxies/fresh", null).body().contains("\"enabled\":false"));
        HttpResponse<String> empty = call("POST", "/populate", "[]");
        assertEquals(201, empty.statusCode());
        assertEquals("{\"proxies\":null}", empty.body());
    }

    @Test
    void populateChecksEveryEntryFirstAndStopsAtTheFirstFailure() throws Exception {
        HttpResponse<String> missing = call("POST", "/populate",
                "[{\"name\":\"a\",\"upstream\":\"x:1\",\"listen\":\"127.0.0.1:0\"},{\"upstream\":\"x:1\"}]");
        assertEquals(400, missing.statusCode());
        assertEquals(JSON, header(missing, "Content-Type").orElse(null));
        assertEquals("{\"error\":\"missing required field: name at proxy 2\",\"status\":400,\"proxies\":null}",
                missing.body());
        assertEquals("{}", call("GET", "/proxies", null).body(), "nothing created");
        assertEquals("{\"error\":\"missing required field: upstream at proxy 1\",\"status\":400,\"proxies\":null}",
                call("POST", "/populate", "[{\"name\":\"a\"}]").body());

        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            String busy = "127.0.0.1:" + taken.getLocalPort();
            HttpResponse<String> failed = call("POST", "/populate",
                    "[{\"name\":\"ok\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"x:1\"},"
                            + "{\"name\":\"busy\",\"listen\":\"" + busy + "\",\"upstream\":\"x:1\"},"
                            + "{\"name\":\"never\",\"listen\":\"127.0.0.1:0\",\"upstream\":\"x:1\"}]");
            assertEquals(500, failed.statusCode());
            assertTrue(failed.body().startsWith("{\"error\":\"listen tcp " + busy + ": bind: address already in use\","
                    + "\"status\":500,\"proxies\":[{\"name\":\"ok\""), failed.body());
        }
        assertEquals(200, call("GET", "/proxies/ok", null).statusCode(), "entries before the failure stay");
        assertEquals(404, call("GET", "/proxies/never", null).statusCode());
        HttpResponse<String> notArray = call("POST", "/populate", "{\"name\":\"x\"}");
        assertEquals(400, notArray.statusCode());
        assertTrue(notArray.body().startsWith("{\"error\":\"bad request body: "), notArray.body());
        assertTrue(notArray.body().endsWith(",\"status\":400,\"proxies\":null}"), notArray.body());
        assertEquals(201, call("POST", "/populate", "null").statusCode());
    }

    @Test
    void resetTakesAnyBodyAndAnswers204() throws Exception {
        createEcho("r");
        call("POST", "/proxies/r/toxics", "{\"type\":\"latency\"}");
        call("PATCH", "/proxies/r", "{\"enabled\":false}");
        HttpResponse<String> reset = call("POST", "/reset", "this is not json");
        assertEquals(204, reset.statusCode());
        assertEquals("", reset.body());
        String proxy = call("GET", "/proxies/r", null).body();
        assertTrue(proxy.contains("\"enabled\":true") && proxy.contains("\"toxics\":[]"), proxy);
        assertEquals(204, call("POST", "/reset", null).statusCode());
    }

    // ---- metrics ----

    @Test
    void metricsCountBytesPerProxyAndDirectionAndConnections() throws Exception {
        String listen = createEcho("metered");
        try (Socket socket = Sockets.connect(listen)) {
            socket.getOutputStream().write(new byte[1000]);
            Sockets.readExactly(socket, 1000);
        }
        HttpResponse<String> metrics = call("GET", "/metrics", null);
        assertEquals(200, metrics.statusCode());
        assertTrue(header(metrics, "Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
        String labels = "listener=\"" + listen + "\",proxy=\"metered\",upstream=\"" + echo.address() + "\"";
        assertTrue(metrics.body().contains("toxiproxy_proxy_received_bytes_total{direction=\"upstream\"," + labels
                + "} 1000\n"), metrics.body());
        assertTrue(metrics.body().contains("toxiproxy_proxy_sent_bytes_total{direction=\"downstream\"," + labels
                + "} 1000\n"), metrics.body());
        assertTrue(metrics.body().contains("doorbuster_proxy_connections_total{proxy=\"metered\"} 1\n"), metrics.body());
        assertEquals(200, call("POST", "/metrics", null).statusCode(), "any method");
    }

    @Test
    void keepAliveServesManyRequestsOnOneConnection() throws Exception {
        try (Socket socket = Sockets.connect(server.host() + ":" + server.port())) {
            String request = "GET /version HTTP/1.1\r\nHost: x\r\nUser-Agent: Java/17\r\n\r\n";
            for (int i = 0; i < 3; i++) {
                socket.getOutputStream().write(request.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                String head = readHead(socket);
                assertTrue(head.startsWith("HTTP/1.1 200 OK"), head);
                assertArrayEquals("{\"version\": \"2.12.0\"}\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII),
                        Sockets.readExactly(socket, 22));
            }
        }
    }

    private static String readHead(Socket socket) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = socket.getInputStream().read();
            if (b < 0) {
                throw new IOException("EOF in headers: " + head);
            }
            head.append((char) b);
        }
        return head.toString();
    }
}
