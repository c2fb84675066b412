package dev.doorbuster.app;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The request-target of a request line, checked strictly before routing: printable ASCII only, every
 * {@code %} followed by two hex digits, percent-decoded bytes that are UTF-8 text, and no NUL anywhere. Any
 * of those wrong is a 400 {@code bad_request}: nothing malformed reaches a handler or PostgreSQL.
 *
 * <p>{@code path} stays raw (routing matches raw segments: {@code /products/%31} is not product 1, and
 * {@code //products} or {@code /products/} simply match no route: 404). {@code query} is decoded
 * ({@code +} is a space); a repeated name keeps its first value, except {@code name[]} lists, joined by commas.
 */
record RequestTarget(String path, Map<String, String> query) {

    static RequestTarget parse(String raw) {
        String target = raw == null ? "" : raw;
        for (int i = 0; i < target.length(); i++) {
            char c = target.charAt(i);
            if (c <= 0x20 || c >= 0x7F) {
                throw ApiError.badRequest("The request target must be printable ASCII; percent-encode anything else.");
            }
        }
        int hash = target.indexOf('#'); // never sent by browsers; not part of the resource
        if (hash >= 0) {
            target = target.substring(0, hash);
        }
        if (!target.startsWith("/")) {
            target = absoluteFormPath(target);
        }
        int q = target.indexOf('?');
        String path = q < 0 ? target : target.substring(0, q);
        decode(path, false, "path"); // validates; routing uses the raw form
        return new RequestTarget(path, parseQuery(q < 0 ? null : target.substring(q + 1)));
    }

    /** {@code http://host:port/path?query} → {@code /path?query}; anything else (urn:x, *) is a 400. */
    private static String absoluteFormPath(String target) {
        String lower = target.toLowerCase(java.util.Locale.ROOT);
        int scheme = lower.startsWith("http://") ? 7 : lower.startsWith("https://") ? 8 : -1;
        if (scheme < 0 || scheme == target.length()) {
            throw ApiError.badRequest("The request target must be a path such as /products/1.");
        }
        int end = scheme;
        while (end < target.length() && target.charAt(end) != '/' && target.charAt(end) != '?') {
            end++;
        }
        String rest = target.substring(end);
        return rest.startsWith("/") ? rest : "/" + rest;
    }

    /** Decodes {@code a=1&b=x%20y}; a malformed escape, bytes that are not UTF-8, or a NUL is a 400. */
    static Map<String, String> parseQuery(String raw) {
        Map<String, String> query = new LinkedHashMap<>();
        if (raw == null || raw.isEmpty()) {
            return query;
        }
        for (String pair : raw.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name = decode(eq < 0 ? pair : pair.substring(0, eq), true, "query");
            String value = eq < 0 ? "" : decode(pair.substring(eq + 1), true, "query");
            if (name.endsWith("[]")) {
                query.merge(name, value, (a, b) -> a + "," + b); // repeated list parameters: name[]=a&name[]=b
            } else {
                query.putIfAbsent(name, value);
            }
        }
        return query;
    }

    /** Percent-decodes {@code s} (and {@code +} to a space when {@code plusIsSpace}) as strict UTF-8. */
    static String decode(String s, boolean plusIsSpace, String where) {
        boolean plain = s.indexOf('%') < 0 && (!plusIsSpace || s.indexOf('+') < 0);
        if (plain) {
            return s; // printable ASCII, already checked
        }
        byte[] bytes = new byte[s.length()];
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%') {
                int hi = i + 2 < s.length() ? Character.digit(s.charAt(i + 1), 16) : -1;
                int lo = hi < 0 ? -1 : Character.digit(s.charAt(i + 2), 16);
                if (lo < 0) {
                    throw ApiError.badRequest(where.equals("query") ? "Malformed query string: '%' must be followed by two hex digits."
                            : "Malformed path: '%' must be followed by two hex digits.");
                }
                int b = (hi << 4) | lo;
                if (b == 0) {
                    throw ApiError.badRequest("The " + where + " must not contain NUL (%00).");
                }
                bytes[n++] = (byte) b;
                i += 2;
            } else {
                bytes[n++] = (byte) (c == '+' && plusIsSpace ? ' ' : c);
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes, 0, n)).toString();
        } catch (CharacterCodingException e) {
            throw ApiError.badRequest("The " + where + "'s percent-escapes must encode UTF-8 text.");
        }
    }
}
