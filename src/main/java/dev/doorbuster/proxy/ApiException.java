package dev.doorbuster.proxy;

/** An error the API reports to its caller as {@code {"error": message, "status": status}}. */
final class ApiException extends Exception {

    private static final long serialVersionUID = 1L;

    private final int status;

    ApiException(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }

    int status() {
        return status;
    }

    static ApiException badRequestBody(String detail) {
        return new ApiException(400, "bad request body: " + detail);
    }

    static ApiException missingField(String field) {
        return new ApiException(400, "missing required field: " + field);
    }

    static ApiException proxyNotFound() {
        return new ApiException(404, "proxy not found");
    }

    static ApiException proxyExists() {
        return new ApiException(409, "proxy already exists");
    }

    static ApiException toxicNotFound() {
        return new ApiException(404, "toxic not found");
    }

    static ApiException toxicExists() {
        return new ApiException(409, "toxic already exists");
    }

    static ApiException invalidStream() {
        return new ApiException(400, "stream was invalid, can be either upstream or downstream");
    }

    static ApiException invalidToxicType() {
        return new ApiException(400, "invalid toxic type");
    }

    /** Anything that is not one of the API's own errors: a 500 carrying the underlying text, as in Toxiproxy. */
    static ApiException internal(String message) {
        return new ApiException(500, message);
    }
}
