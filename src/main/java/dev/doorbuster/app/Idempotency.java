package dev.doorbuster.app;

import static dev.doorbuster.app.StorefrontHeaders.IDEMPOTENCY_KEY;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HexFormat;
import java.util.List;

import dev.doorbuster.app.Api.RawJson;
import dev.doorbuster.app.Api.Reply;
import dev.doorbuster.app.Api.Request;
import dev.doorbuster.app.Database.SqlWork;
import dev.doorbuster.app.Database.Written;

/**
 * {@code Idempotency-Key} (the IETF httpapi draft's header) on every write, in this one place.
 *
 * <p>A client that got no answer (timeout, reset, failover) cannot know whether its write committed; with a
 * key it can simply send the request again. The key is recorded in table {@code idempotency_keys} <em>in the
 * write's own transaction</em>, together with the answer, so a key exists exactly when its write committed:
 * <ol>
 *   <li>{@code INSERT ... ON CONFLICT (key) DO NOTHING RETURNING key}. A concurrent request with the same key
 *       blocks here on the primary key's unique index until the first one commits or rolls back.</li>
 *   <li>Inserted: perform the write, store the answer's status and JSON in the row, commit.</li>
 *   <li>Already there: same request (fingerprint) → the stored answer again, byte for byte, with
 *       {@code Idempotent-Replayed: true} and without performing the write; another request → 422.</li>
 * </ol>
 * A write that fails (404, 409, 503...) rolls back, key included: errors are not stored, so the client may
 * retry with the same key once the cause is gone.
 */
final class Idempotency {
    static final int MAX_KEY_LENGTH = 200;

    /** The answer to a keyed write: status and rendered JSON, and whether it was replayed from an earlier one. */
    private record Outcome(int status, byte[] json, boolean replayed) {
    }

    private final Database database;

    Idempotency(Database database) {
        this.database = database;
    }

    /**
     * The request's key from the header's values (null: no header), or a 400: 1-200 printable ASCII
     * characters (0x21-0x7E), given once. No trimming or case folding: the key is compared as sent.
     */
    static String key(List<String> values) {
        if (values == null || values.isEmpty()) {
            return null;
        }
        if (values.size() > 1) {
            throw ApiError.badRequest(IDEMPOTENCY_KEY + " must be given at most once, got " + values.size() + " values.");
        }
        String key = values.get(0);
        String problem = key.isEmpty() ? "it is empty"
                : key.length() > MAX_KEY_LENGTH ? "it has " + key.length() + " characters"
                : key.chars().allMatch(ch -> ch >= 0x21 && ch <= 0x7E) ? null
                : "it contains a space, control or non-ASCII character";
        if (problem != null) {
            throw ApiError.badRequest(IDEMPOTENCY_KEY + " must be 1-" + MAX_KEY_LENGTH + " printable ASCII characters "
                    + "(0x21-0x7E: no spaces, control or non-ASCII characters); " + problem + ".");
        }
        return key;
    }

    /**
     * What makes two requests "the same": method, route template, path values (as sent) and the SHA-256 of
     * the raw body. Raw on purpose: re-serialising would make the check depend on our parser, and a client
     * retrying sends the very same bytes.
     */
    static String fingerprint(Request r) {
        return target(r) + " sha256:" + sha256(r.body());
    }

    /** {@code POST /carts/{id}/items [42]}: the fingerprint without the body's hash. */
    private static String target(Request r) {
        return r.method() + " " + r.route() + " [" + String.join(",", r.params()) + "]";
    }

    /**
     * Runs {@code work} as a write answered with {@code status}: exactly as {@link Database#write} without a
     * key; with one, recorded in the same transaction and replayed to a retry.
     */
    Reply write(Request r, int status, SqlWork<?> work) {
        if (r.idempotencyKey() == null) {
            return Reply.written(status, database.write(work));
        }
        String key = r.idempotencyKey();
        String fingerprint = fingerprint(r);
        Written<Outcome> written = database.write(c -> claim(c, key, fingerprint)
                ? perform(c, key, status, work)
                : stored(c, key, fingerprint, target(r)));
        Outcome outcome = written.value();
        Reply reply = Reply.written(outcome.status(), new Written<>(new RawJson(outcome.json()), written.token()));
        return outcome.replayed() ? reply.withHeader(StorefrontHeaders.IDEMPOTENT_REPLAYED, "true") : reply;
    }

    /** True if this transaction now owns {@code key}; false if it was already committed by another request. */
    private static boolean claim(Connection c, String key, String fingerprint) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("INSERT INTO idempotency_keys (key, fingerprint) VALUES (?, ?) "
                + "ON CONFLICT (key) DO NOTHING RETURNING key")) {
            s.setString(1, key);
            s.setString(2, fingerprint);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** Performs the write and stores its answer in the key's row, in the same transaction. */
    private static Outcome perform(Connection c, String key, int status, SqlWork<?> work) throws SQLException {
        byte[] json = Json.write(work.run(c));
        try (PreparedStatement s = c.prepareStatement("UPDATE idempotency_keys SET status = ?, body = ? WHERE key = ?")) {
            s.setInt(1, status);
            s.setString(2, new String(json, StandardCharsets.UTF_8)); // Jackson writes valid UTF-8: round-trips exactly
            s.setString(3, key);
            s.executeUpdate();
        }
        return new Outcome(status, json, false);
    }

    /** The answer stored under {@code key} by an earlier request, if that request was this same one. */
    private static Outcome stored(Connection c, String key, String fingerprint, String target) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT fingerprint, status, body FROM idempotency_keys "
                + "WHERE key = ?")) {
            s.setString(1, key);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    // Deleted between our INSERT and this SELECT (expiry): nothing to replay, nothing performed.
                    throw ApiError.conflict(IDEMPOTENCY_KEY + " '" + Api.shorten(key) + "' changed concurrently; retry.");
                }
                String used = rs.getString(1);
                if (!fingerprint.equals(used)) {
                    String other = used.startsWith(target + " ") ? "the same endpoint with another body"
                            : used.substring(0, Math.max(0, used.lastIndexOf(" sha256:")));
                    throw ApiError.idempotencyKeyReused(IDEMPOTENCY_KEY + " '" + Api.shorten(key) + "' was already used for "
                            + "another request (" + other + "); use a new key for a new request.");
                }
                Integer status = rs.getObject(2, Integer.class);
                String body = rs.getString(3);
                if (status == null || body == null) {
                    // Cannot happen (the answer is stored in the key's own transaction); never replay half a row.
                    throw ApiError.conflict(IDEMPOTENCY_KEY + " '" + Api.shorten(key) + "' has no stored answer yet; retry.");
                }
                return new Outcome(status, body.getBytes(StandardCharsets.UTF_8), true);
            }
        }
    }

    private static String sha256(byte[] body) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
