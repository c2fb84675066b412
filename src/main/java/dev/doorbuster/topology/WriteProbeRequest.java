package dev.doorbuster.topology;

import java.net.URI;
import java.net.http.HttpRequest;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The one definition of {@code app.writeProbe}: the write a failover's probe sends to the application, every 100 ms
 * from the fault's start until one is acknowledged (2xx), to measure the client-observed recovery time (RTO).
 *
 * <pre>{@code "app": { "writeProbe": { "method": "POST", "path": "/orders",
 *                       "headers": { "Idempotency-Key": "doorbuster-write-probe" },
 *                       "body": { "shopperId": 1, "sku": "probe", "quantity": 1 } } } }</pre>
 * or for one run {@code -Dapp.writeProbe.path=/accounts/probe} (each field alike). The reference storefront is always
 * probed with {@link #STOREFRONT}; a service of your own has no probe unless this is set, and its failover RTO is then
 * not judged (its API is unknown: a probe of a path it lacks would fail every failover after the give-up time).
 *
 * @param method  {@code PUT}, {@code POST} or {@code PATCH}; left out: {@code PUT}
 * @param path    the path (and query) of the write on the application's base URL; starts with {@code /}
 * @param headers sent with the write, e.g. an {@code Idempotency-Key} that makes a repeated write a no-op; left out:
 *                none
 * @param body    JSON text sent as {@code application/json}, or null for a write without a body
 */
public record WriteProbeRequest(String method, String path, Map<String, String> headers, String body) {
    /** The environment field, as messages and docs write it. */
    public static final String FIELD = "app.writeProbe";
    /** The methods a write may use. */
    public static final List<String> METHODS = List.of("PUT", "POST", "PATCH");
    /** {@code method} when left out. */
    public static final String DEFAULT_METHOD = "PUT";
    /**
     * The reference storefront's write: user 1's name, which no shopper's session reads (the journeys' shoppers
     * start at user 2), so the probe never disturbs a session check.
     */
    public static final WriteProbeRequest STOREFRONT = new WriteProbeRequest("PUT", "/users/1", Map.of(),
            "{\"name\":\"doorbuster-probe\"}");

    private static final String METHOD = "method";
    private static final String PATH = "path";
    private static final String HEADERS = "headers";
    private static final String BODY = "body";
    private static final Set<String> FIELDS = Set.of(METHOD, PATH, HEADERS, BODY);
    private static final ObjectMapper JSON = new ObjectMapper();

    public WriteProbeRequest {
        headers = headers == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(headers));
    }

    /** As messages name the write: {@code PUT /users/1}. */
    public String describe() {
        return method + " " + path;
    }

    /** The write's address on the application at {@code appUrl}. */
    public URI target(URI appUrl) {
        return appUrl.resolve(path);
    }

    /** What the setting accepts, for messages. */
    static String expected() {
        return "a JSON object like {\"method\": \"PUT\", \"path\": \"/accounts/probe\", \"body\": {\"note\": \"probe\"}}: "
                + "a cheap write the service acknowledges with 2xx, again and again (method " + String.join(", ", METHODS)
                + ", default " + DEFAULT_METHOD + "; path starting with /; optional headers and JSON body)";
    }

    /**
     * Reads the merged environment's {@code app.writeProbe} (null or missing: not set, null returned).
     *
     * @param refusal makes the exception naming the file or -D property, the field and what is accepted
     */
    public static WriteProbeRequest read(JsonNode probe, SloBudget.Refusal refusal) {
        if (probe == null || probe.isMissingNode() || probe.isNull()) {
            return null;
        }
        if (!probe.isObject()) {
            throw refusal.wrong(FIELD, "is " + shown(probe) + "; expected " + expected());
        }
        for (Map.Entry<String, JsonNode> entry : probe.properties()) {
            if (!FIELDS.contains(entry.getKey())) {
                throw refusal.unknown(FIELD + "." + entry.getKey(), FIELD, FIELDS);
            }
        }
        return new WriteProbeRequest(method(probe.get(METHOD), refusal), path(probe.get(PATH), refusal),
                headers(probe.get(HEADERS), refusal), body(probe.get(BODY), refusal));
    }

    private static String method(JsonNode method, SloBudget.Refusal refusal) {
        if (method == null || method.isNull()) {
            return DEFAULT_METHOD;
        }
        if (!method.isTextual() || !METHODS.contains(method.asText())) {
            throw refusal.wrong(FIELD + "." + METHOD, "is " + shown(method) + "; expected one of "
                    + String.join(", ", METHODS) + " (or leave it out: " + DEFAULT_METHOD + ")");
        }
        return method.asText();
    }

    private static String path(JsonNode path, SloBudget.Refusal refusal) {
        String expected = "expected the path of a cheap write the service acknowledges with 2xx, starting with /, "
                + "e.g. \"/accounts/probe\"";
        if (path == null || path.isNull()) {
            throw refusal.wrong(FIELD + "." + PATH, "is missing; " + expected);
        }
        String text = path.isTextual() ? path.asText() : null;
        // "//host/x" would name another host: the probe writes to the application under test only.
        if (text == null || !text.startsWith("/") || text.startsWith("//")) {
            throw refusal.wrong(FIELD + "." + PATH, "is " + shown(path) + "; " + expected);
        }
        try {
            URI uri = new URI("http://127.0.0.1" + text);
            if (uri.getRawFragment() != null) {
                throw refusal.wrong(FIELD + "." + PATH, "is " + shown(path) + ", with a fragment (#) that is never sent; "
                        + expected);
            }
        } catch (java.net.URISyntaxException e) {
            throw refusal.wrong(FIELD + "." + PATH, "is " + shown(path) + ", not a valid URL path (" + e.getReason()
                    + " at index " + (e.getIndex() - "http://127.0.0.1".length()) + "); " + expected
                    + ", with characters such as spaces percent-encoded (%20)");
        }
        return text;
    }

    private static Map<String, String> headers(JsonNode headers, SloBudget.Refusal refusal) {
        if (headers == null || headers.isNull()) {
            return Map.of();
        }
        if (!headers.isObject()) {
            throw refusal.wrong(FIELD + "." + HEADERS, "is " + shown(headers) + "; expected a JSON object of header name "
                    + "to value, like {\"Idempotency-Key\": \"doorbuster-write-probe\"}");
        }
        Map<String, String> named = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> entry : headers.properties()) {
            String field = FIELD + "." + HEADERS + "." + entry.getKey();
            if (!entry.getValue().isTextual()) {
                throw refusal.wrong(field, "is " + shown(entry.getValue()) + "; expected a string");
            }
            try {
                // The HTTP client's own rules: a header it would refuse mid-run is refused here, before anything starts.
                HttpRequest.newBuilder().header(entry.getKey(), entry.getValue().asText());
            } catch (IllegalArgumentException e) {
                throw refusal.wrong(field, "cannot be sent (" + e.getMessage() + "); expected a header name that is an "
                        + "HTTP token and not one the client sets itself (Host, Content-Length, Connection, Expect, "
                        + "Upgrade), with a value on one line");
            }
            named.put(entry.getKey(), entry.getValue().asText());
        }
        return named;
    }

    private static String body(JsonNode body, SloBudget.Refusal refusal) {
        if (body == null || body.isNull()) {
            return null;
        }
        if (body.isObject() || body.isArray()) {
            return body.toString();
        }
        if (body.isTextual()) {
            try {
                JsonNode parsed = JSON.readTree(body.asText());
                if (parsed != null && !parsed.isMissingNode()) {
                    return body.asText();
                }
            } catch (JsonProcessingException e) {
                // refused below, with what the field accepts
            }
            throw refusal.wrong(FIELD + "." + BODY, "is " + shown(body) + ", which is not JSON; expected a JSON object, "
                    + "or a string holding JSON text");
        }
        throw refusal.wrong(FIELD + "." + BODY, "is " + shown(body) + "; expected a JSON object, or a string holding "
                + "JSON text (or leave it out: no body)");
    }

    /**
     * Binds a value {@link EnvironmentLoader} has already checked with {@link #read} naming the file, so a refusal
     * here is a bug.
     */
    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    static WriteProbeRequest fromJson(JsonNode probe) {
        return read(probe, new SloBudget.Refusal() {
            @Override
            public RuntimeException wrong(String field, String problem) {
                return new IllegalArgumentException("field '" + field + "' " + problem);
            }

            @Override
            public RuntimeException unknown(String field, String parent, Set<String> allowed) {
                return new IllegalArgumentException("unknown field '" + field + "'");
            }
        });
    }

    /** As the environment file writes it. */
    @JsonValue
    Map<String, Object> json() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put(METHOD, method);
        json.put(PATH, path);
        if (!headers.isEmpty()) {
            json.put(HEADERS, headers);
        }
        if (body != null) {
            try {
                json.put(BODY, JSON.readTree(body));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("a checked body is JSON", e);
            }
        }
        return json;
    }

    private static String shown(JsonNode node) {
        return node.isTextual() ? "'" + node.asText() + "'" : node.toString();
    }
}
