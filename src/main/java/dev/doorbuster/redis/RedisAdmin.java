package dev.doorbuster.redis;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;

/**
 * The harness's own connection to a Redis server, direct (never through the chaos proxy): its statistics, the
 * oracle of the cache checks, and the commands some faults are made of. Short timeouts: the harness must never
 * hang on the server it is faulting.
 */
public final class RedisAdmin implements AutoCloseable {
    private static final Duration TIMEOUT = Duration.ofSeconds(2);

    /** The counters of {@code INFO stats} the cache checks read. */
    public record Stats(long keyspaceHits, long keyspaceMisses, long expiredKeys, long evictedKeys,
                        long commandsProcessed) {
    }

    private final String url;
    private final RedisClient client;
    private final StatefulRedisConnection<String, String> connection;
    private final RedisCommands<String, String> commands;

    private RedisAdmin(String url, RedisClient client, StatefulRedisConnection<String, String> connection) {
        this.url = url;
        this.client = client;
        this.connection = connection;
        this.commands = connection.sync();
    }

    /** Connects to {@code url} ({@code redis://host:port}). */
    public static RedisAdmin connect(String url) {
        RedisURI uri;
        try {
            uri = RedisURI.create(url);
        } catch (IllegalArgumentException e) {
            throw new RedisException("'" + url + "' is not a Redis URL (expected redis://host:port): " + e.getMessage());
        }
        uri.setTimeout(TIMEOUT);
        RedisClient client = RedisClient.create(uri);
        try {
            return new RedisAdmin(url, client, client.connect());
        } catch (RuntimeException e) {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
            throw new RedisException("Cannot reach Redis at " + url + ": " + e.getMessage());
        }
    }

    /** One section of {@code INFO} as name → value. */
    public Map<String, String> info(String section) {
        Map<String, String> fields = new LinkedHashMap<>();
        for (String line : commands.info(section).split("\r?\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && !line.startsWith("#")) {
                fields.put(line.substring(0, colon), line.substring(colon + 1).strip());
            }
        }
        return fields;
    }

    public Stats stats() {
        Map<String, String> s = info("stats");
        return new Stats(number(s, "keyspace_hits"), number(s, "keyspace_misses"), number(s, "expired_keys"),
                number(s, "evicted_keys"), number(s, "total_commands_processed"));
    }

    /** The value of one server setting ({@code CONFIG GET}), or null if there is no such setting. */
    public String config(String name) {
        return commands.configGet(name).get(name);
    }

    /** Every key gone. */
    public void flushAll() {
        commands.flushall();
    }

    /** How many keys the server holds. */
    public long keyCount() {
        return commands.dbsize();
    }

    /** Keys matching {@code pattern} ({@code KEYS}: for small test caches and fault set-up only). */
    public List<String> keys(String pattern) {
        return commands.keys(pattern);
    }

    /**
     * Makes each of {@code keys} that exists expire now (a one-millisecond TTL rather than a delete, so the server
     * counts it as an expiry); returns how many existed.
     */
    public int expireNow(List<String> keys) {
        int existing = 0;
        for (String key : keys) {
            if (commands.pexpire(key, 1)) {
                existing++;
            }
        }
        return existing;
    }

    public String url() {
        return url;
    }

    @Override
    public void close() {
        connection.close();
        client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
    }

    private static long number(Map<String, String> fields, String name) {
        try {
            return Long.parseLong(fields.getOrDefault(name, "0"));
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
