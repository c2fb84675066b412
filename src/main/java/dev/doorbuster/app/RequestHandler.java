package dev.doorbuster.app;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HTTP plumbing around {@link Api}: reads a bounded body, enforces the request deadline, renders errors as
 * JSON, and times every request into {@code http_server_requests_seconds{route,method,status}}.
 *
 * <p>The deadline starts when the request was queued for a worker thread, not when a worker picked it
 * up: under overload the queue is where time goes. A request already past its deadline is answered 503
 * at once; a running one is answered 503 {@code timeout} by a watchdog when the deadline passes, whatever
 * its worker is stuck on (the worker's statement is then cancelled by {@code statement_timeout}). A
 * timed-out write may still commit: like any 503 on a write, its outcome is unknown to the client.
 */
final class RequestHandler implements HttpHandler {
    private static final Logger log = LoggerFactory.getLogger(RequestHandler.class);

    /** When the current request was handed to the worker pool; set by {@link Storefront}'s executor. */
    static final ThreadLocal<Long> QUEUED_AT = new ThreadLocal<>();
    /** Larger bodies are refused (413) before being read: no order or profile needs more. */
    static final int MAX_BODY_BYTES = 64 * 1024;
    private static final long MAX_DISCARD_BYTES = 1024 * 1024;
    private static final Set<String> KNOWN_METHODS = Set.of("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS");
    private static final String JSON = "application/json";
    private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

    private final Api api;
    private final StorefrontMetrics metrics;
    private final ScheduledExecutorService watchdog;
    private final long timeoutNanos;
    private volatile boolean draining;

    RequestHandler(Api api, StorefrontMetrics metrics, ScheduledExecutorService watchdog, int requestTimeoutMs) {
        this.api = api;
        this.metrics = metrics;
        this.watchdog = watchdog;
        this.timeoutNanos = TimeUnit.MILLISECONDS.toNanos(requestTimeoutMs);
    }

    /** From now on every response asks the client to close its connection (the server is going away). */
    void drain() {
        draining = true;
    }

    @Override
    public void handle(HttpExchange exchange) {
        Long queued = QUEUED_AT.get();
        long received = queued != null ? queued : System.nanoTime();
        String method = exchange.getRequestMethod();
        String path = exchange.getRequestURI().getRawPath(); // null for an opaque URI such as "GET a:b HTTP/1.1"
        path = path == null ? "" : path;
        Api.Match match = api.match(method, path);
        Response response = new Response(exchange, match.template(),
                KNOWN_METHODS.contains(method) ? method : "OTHER", received);
        metrics.inFlight().incrementAndGet();
        ScheduledFuture<?> alarm = null;
        try {
            if (match.route() == null) {
                throw match.allowed().isEmpty()
                        ? ApiError.notFound("No such resource: " + Api.shorten(path))
                        : ApiError.methodNotAllowed(method + " is not allowed here; use " + Api.allowHeader(match.allowed()));
            }
            long remaining = received + timeoutNanos - System.nanoTime();
            if (remaining <= 0) {
                throw ApiError.timeout("The request waited too long for a worker thread; the storefront is overloaded.");
            }
            byte[] body = readBody(exchange);
            Headers headers = exchange.getRequestHeaders();
            // Only writes take an Idempotency-Key; a read ignores one (it is safe to repeat anyway).
            String idempotencyKey = method.equals("GET") ? null : Idempotency.key(headers.get(Idempotency.HEADER));
            Api.Request request = new Api.Request(method, match.template(), match.params(),
                    Api.parseQuery(exchange.getRequestURI().getRawQuery()), clientId(headers),
                    headers.getFirst(Api.CONSISTENCY_TOKEN), idempotencyKey, body);
            alarm = watchdog.schedule(() -> response.send(ApiError.timeout(
                    "No answer within the request time limit; a write's outcome is unknown.")),
                    received + timeoutNanos - System.nanoTime(), TimeUnit.NANOSECONDS);
            response.send(match.route().handler().handle(request));
        } catch (ApiError e) {
            if (e.status() == 405) {
                response.header("Allow", Api.allowHeader(match.allowed()));
            }
            response.send(e);
        } catch (RuntimeException | Error e) {
            log.error("Unexpected failure handling {} {}", method, match.template(), e);
            response.send(ApiError.internal());
        } finally {
            if (alarm != null) {
                alarm.cancel(false);
            }
        }
    }

    private static String clientId(Headers headers) {
        String id = headers.getFirst(Api.CLIENT_ID);
        if (id == null || id.isEmpty()) {
            return null;
        }
        if (id.length() > ReadRouter.MAX_CLIENT_ID_LENGTH) {
            throw ApiError.badRequest(Api.CLIENT_ID + " must be at most " + ReadRouter.MAX_CLIENT_ID_LENGTH + " characters.");
        }
        return id;
    }

    /**
     * Reads at most {@link #MAX_BODY_BYTES}; a larger body is a 413. The excess is read and thrown away up
     * to {@link #MAX_DISCARD_BYTES} first: closing a socket with unread input makes TCP reset it, and the
     * reset destroys the 413 on its way to the client. Beyond that the client gets the reset.
     */
    private static byte[] readBody(HttpExchange exchange) {
        String declared = exchange.getRequestHeaders().getFirst("Content-Length");
        long length = -1;
        if (declared != null) {
            try {
                length = Long.parseLong(declared.strip());
            } catch (NumberFormatException e) {
                throw ApiError.badRequest("Content-Length must be a number.");
            }
        }
        try (InputStream in = exchange.getRequestBody()) {
            if (length > MAX_DISCARD_BYTES) {
                throw tooLarge();
            }
            byte[] body = in.readNBytes(MAX_BODY_BYTES + 1);
            if (body.length > MAX_BODY_BYTES) {
                discard(in, MAX_DISCARD_BYTES - body.length);
                throw tooLarge();
            }
            return body;
        } catch (IOException e) {
            throw ApiError.badRequest("The request body could not be read.");
        }
    }

    private static void discard(InputStream in, long max) throws IOException {
        byte[] sink = new byte[8192];
        for (long left = max; left > 0; ) {
            int n = in.read(sink, 0, (int) Math.min(sink.length, left));
            if (n < 0) {
                return;
            }
            left -= n;
        }
    }

    private static ApiError tooLarge() {
        return ApiError.payloadTooLarge("Request bodies are limited to " + MAX_BODY_BYTES + " bytes.");
    }

    /**
     * One response per exchange, sent by whichever comes first: the worker's answer or the watchdog's
     * timeout. Only the first is written (and timed); the other is dropped.
     */
    private final class Response {
        private final HttpExchange exchange;
        private final String route;
        private final String method;
        private final long received;
        private final AtomicBoolean sent = new AtomicBoolean();

        Response(HttpExchange exchange, String route, String method, long received) {
            this.exchange = exchange;
            this.route = route;
            this.method = method;
            this.received = received;
        }

        void header(String name, String value) {
            if (!sent.get()) {
                exchange.getResponseHeaders().set(name, value);
            }
        }

        void send(ApiError error) {
            Map<String, String> headers = new java.util.LinkedHashMap<>(error.headers());
            if (error.retryable()) {
                headers.put("Retry-After", "1");
            }
            if (write(error.status(), Json.write(error.body()), JSON, headers, error.status() == 413)
                    && error.code().equals("timeout")) {
                metrics.requestTimeouts().increment();
            }
        }

        void send(Api.Reply reply) {
            if (reply.body() instanceof String text) {
                write(reply.status(), text.getBytes(StandardCharsets.UTF_8), PROMETHEUS_TEXT, reply.headers(), false);
            } else if (reply.body() instanceof Api.RawJson json) {
                write(reply.status(), json.bytes(), JSON, reply.headers(), false);
            } else {
                write(reply.status(), Json.write(reply.body()), JSON, reply.headers(), false);
            }
        }

        /** Writes the response unless one was already written; true if this one was. */
        private boolean write(int status, byte[] body, String contentType, Map<String, String> headers, boolean close) {
            if (!sent.compareAndSet(false, true)) {
                return false;
            }
            Headers h = exchange.getResponseHeaders();
            h.set("Content-Type", contentType);
            headers.forEach(h::set);
            if (draining || close) {
                h.set("Connection", "close");
            }
            try {
                exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
                exchange.getResponseBody().write(body);
            } catch (IOException e) {
                log.debug("Client went away before the response was written: {}", e.toString());
            } finally {
                exchange.close();
                metrics.inFlight().decrementAndGet(); // "in flight" = not yet answered; drain waits for 0
                metrics.recordRequest(route, method, status, System.nanoTime() - received);
            }
            return true;
        }
    }
}
