package dev.doorbuster.app;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An answer that is not a success: HTTP status, a stable machine-readable code, a human message, and
 * optional extra fields (the pool that was exhausted, the products out of stock). Thrown anywhere in a
 * request and turned into {@code {"error":code,"message":...}} in one place ({@link RequestHandler}).
 */
final class ApiError extends RuntimeException {
    private final int status;
    private final String code;
    private final Map<String, Object> extra;
    private final Map<String, String> headers;

    private ApiError(int status, String code, String message, Map<String, Object> extra) {
        this(status, code, message, extra, Map.of());
    }

    private ApiError(int status, String code, String message, Map<String, Object> extra, Map<String, String> headers) {
        super(message, null, false, false); // no stack trace: these are answers, not bugs
        this.status = status;
        this.code = code;
        this.extra = extra;
        this.headers = headers;
    }

    /**
     * This answer, saying which server gave it: a read's "not found" is as much a read as a found row, and a
     * client judging staleness needs to know whether a replica or the primary said so.
     */
    ApiError answeredBy(Map<String, String> servedBy) {
        return new ApiError(status, code, getMessage(), extra, Map.copyOf(servedBy));
    }

    /** Extra response headers ({@code X-Served-By} of a read's 404). */
    Map<String, String> headers() {
        return headers;
    }

    static ApiError badRequest(String message) {
        return new ApiError(400, "bad_request", message, Map.of());
    }

    static ApiError notFound(String message) {
        return new ApiError(404, "not_found", message, Map.of());
    }

    static ApiError methodNotAllowed(String message) {
        return new ApiError(405, "method_not_allowed", message, Map.of());
    }

    static ApiError conflict(String message) {
        return new ApiError(409, "conflict", message, Map.of());
    }

    static ApiError outOfStock(String message, Object productIds) {
        return new ApiError(409, "out_of_stock", message, Map.of("productIds", productIds));
    }

    /** An {@code Idempotency-Key} sent again with another request than the one it was first used for. */
    static ApiError idempotencyKeyReused(String message) {
        return new ApiError(422, "idempotency_key_reused", message, Map.of());
    }

    /** The request did not arrive in full (headers, or a body shorter than its Content-Length) in time. */
    static ApiError requestTimeout(String message) {
        return new ApiError(408, "request_timeout", message, Map.of());
    }

    static ApiError payloadTooLarge(String message) {
        return new ApiError(413, "payload_too_large", message, Map.of());
    }

    /** The pool gave no connection within its timeout: the app is overloaded, the database may be fine. */
    static ApiError poolExhausted(Database.Pool pool, String message) {
        return new ApiError(503, "pool_exhausted", message, Map.of("pool", pool.tag()));
    }

    /** The database behind the pool cannot be reached (or refuses work): not an overload. */
    static ApiError databaseUnavailable(Database.Pool pool, String message) {
        return new ApiError(503, "database_unavailable", message, Map.of("pool", pool.tag()));
    }

    /**
     * The cache tier failed or did not answer in time, and {@code --cache-on-error fail} says not to use the database
     * instead. {@code pool} is {@code cache}, as in {@code X-Served-By-Pool} of a hit.
     */
    static ApiError cacheUnavailable(String message) {
        return new ApiError(503, "cache_unavailable", message, Map.of("pool", StorefrontHeaders.CACHE));
    }

    static ApiError timeout(String message) {
        return new ApiError(503, "timeout", message, Map.of());
    }

    static ApiError internal() {
        return new ApiError(500, "internal_error", "Unexpected server error; it has been logged.", Map.of());
    }

    int status() {
        return status;
    }

    String code() {
        return code;
    }

    /** 503s tell clients when to come back: overload and outages are expected to pass. */
    boolean retryable() {
        return status == 503;
    }

    Map<String, Object> body() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", code);
        body.put("message", getMessage());
        body.putAll(extra);
        return body;
    }
}
