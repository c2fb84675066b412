package dev.doorbuster.app;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import io.netty.handler.codec.http.HttpHeaders;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HTTP plumbing around {@link Api}: checks the request-target ({@link RequestTarget}), enforces the body
 * limit and the request deadline, renders errors as JSON, and times every request into
 * {@code http_server_requests_seconds{route,method,status}}. Bytes on the wire are {@link HttpTransport}'s.
 *
 * <p>The deadline starts when the request was queued for a worker thread, not when a worker picked it
 * up: under overload the queue is where time goes. A request already past its deadline is answered 503
 * at once; a running one is answered 503 {@code timeout} by a watchdog when the deadline passes, whatever
 * its worker is stuck on (the worker's statement is then cancelled by {@code statement_timeout}). A
 * timed-out write may still commit: like any 503 on a write, its outcome is unknown to the client.
 */
final class RequestHandler {
    private static final Logger log = LoggerFactory.getLogger(RequestHandler.class);

    /** Larger bodies are refused (413): no order or profile needs more. */
    static final int MAX_BODY_BYTES = 64 * 1024;
    /**
     * A larger body is read and thrown away up to this size before its 413 (closing a socket with unread
     * input makes TCP reset it, and the reset destroys the 413 on its way); a larger declared length is
     * answered at once and the connection closed.
     */
    static final long MAX_DISCARD_BYTES = 1024 * 1024;
    private static final Set<String> KNOWN_METHODS = Set.of("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS");
    static final String JSON = "application/json";
    private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

    /**
     * A request as received: method, raw request-target, headers, the body ({@code null}: it was over
     * {@link #MAX_BODY_BYTES}), and when it was queued for a worker ({@link System#nanoTime()}).
     */
    record Incoming(String method, String target, HttpHeaders headers, byte[] body, long queuedAt) {
    }

    /** Where the one answer to a request is written. */
    interface Sink {
        void send(int status, String contentType, Map<String, String> headers, byte[] body, boolean close);
    }

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

    boolean draining() {
        return draining;
    }

    /** The {@code method} label of the request metrics: unknown methods are one label, not one each. */
    static String methodLabel(String method) {
        return method != null && KNOWN_METHODS.contains(method) ? method : "OTHER";
    }

    /** Runs on a worker thread: answers {@code in} through {@code sink}, exactly once. */
    void handle(Incoming in, Sink sink) {
        long received = in.queuedAt();
        String method = in.method();
        metrics.inFlight().incrementAndGet();
        RequestTarget target;
        try {
            target = RequestTarget.parse(in.target());
        } catch (ApiError e) {
            new Response(sink, "unmatched", methodLabel(method), received).send(e);
            return;
        }
        String path = target.path();
        Api.Match match = api.match(method, path);
        Response response = new Response(sink, match.template(), methodLabel(method), received);
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
            if (in.body() == null) {
                throw tooLarge();
            }
            HttpHeaders headers = in.headers();
            // Only writes take an Idempotency-Key; a read ignores one (it is safe to repeat anyway).
            String idempotencyKey = method.equals("GET") ? null : Idempotency.key(headers.getAll(StorefrontHeaders.IDEMPOTENCY_KEY));
            Api.Request request = new Api.Request(method, match.template(), match.params(), target.query(),
                    clientId(headers), headers.get(StorefrontHeaders.CONSISTENCY_TOKEN), idempotencyKey, in.body());
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

    private static String clientId(HttpHeaders headers) {
        String id = headers.get(StorefrontHeaders.CLIENT_ID);
        if (id == null || id.isEmpty()) {
            return null;
        }
        if (id.length() > ReadRouter.MAX_CLIENT_ID_LENGTH) {
            throw ApiError.badRequest(StorefrontHeaders.CLIENT_ID + " must be at most " + ReadRouter.MAX_CLIENT_ID_LENGTH + " characters.");
        }
        return id;
    }

    static ApiError tooLarge() {
        return ApiError.payloadTooLarge("Request bodies are limited to " + MAX_BODY_BYTES + " bytes.");
    }

    /** The JSON body of an error answer and its headers ({@code Retry-After} on a 503). */
    static Map<String, String> errorHeaders(ApiError error) {
        Map<String, String> headers = new LinkedHashMap<>(error.headers());
        if (error.retryable()) {
            headers.put("Retry-After", "1");
        }
        return headers;
    }

    /**
     * One response per request, sent by whichever comes first: the worker's answer or the watchdog's
     * timeout. Only the first is written (and timed); the other is dropped.
     */
    private final class Response {
        private final Sink sink;
        private final String route;
        private final String method;
        private final long received;
        private final Map<String, String> extraHeaders = new java.util.concurrent.ConcurrentHashMap<>();
        private final AtomicBoolean sent = new AtomicBoolean();

        Response(Sink sink, String route, String method, long received) {
            this.sink = sink;
            this.route = route;
            this.method = method;
            this.received = received;
        }

        void header(String name, String value) {
            if (!sent.get()) {
                extraHeaders.put(name, value);
            }
        }

        void send(ApiError error) {
            if (write(error.status(), Json.write(error.body()), JSON, errorHeaders(error), error.status() == 413)
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
            Map<String, String> all = headers;
            if (!extraHeaders.isEmpty()) {
                all = new LinkedHashMap<>(extraHeaders);
                all.putAll(headers);
            }
            try {
                sink.send(status, contentType, all, body, draining || close);
            } catch (RuntimeException e) {
                log.debug("Client went away before the response was written: {}", e.toString());
            } finally {
                metrics.inFlight().decrementAndGet(); // "in flight" = not yet answered; drain waits for 0
                metrics.recordRequest(route, method, status, System.nanoTime() - received);
            }
            return true;
        }
    }
}
