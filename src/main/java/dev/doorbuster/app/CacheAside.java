package dev.doorbuster.app;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import io.lettuce.core.resource.DefaultClientResources;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The storefront's one connection to the Redis of its cache tier (Lettuce): GET, SET with a TTL and DEL, each bounded
 * by {@code --cache-timeout-ms}, each failure reported as {@link Unavailable} so the caller decides what a failing
 * cache means ({@link CachedReads}). What is cached, and when, is not this class's business.
 *
 * <p>One connection, shared by every request thread: Lettuce pipelines the commands of all threads on it, which is
 * how it is meant to be used, and a cache that needs a pool to keep up is a slow cache. The cache is not needed for
 * correctness, so the storefront starts without it if it does not answer (a warning), and connects as soon as a
 * request finds it missing.
 */
final class CacheAside implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CacheAside.class);

    /**
     * How long making a connection may take: connects happen in the background (start-up waits this long at most),
     * never on a request's path, so this bounds only how soon a dead address is given up on.
     */
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(1);
    /**
     * How long start-up waits for the first connection before starting without it. A refused connection is known at
     * once; this covers the first Lettuce connection of a JVM (Netty's start, the handshake), which can take over a
     * second on a busy machine, so that a healthy cache is connected before the first request.
     */
    static final Duration START_WAIT = Duration.ofSeconds(5);
    /** After a failed connect, the next request to find the cache unconnected starts another after this long. */
    private static final long RECONNECT_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    /** Lettuce's reconnection backoff, capped low so a cache that comes back is used again within a second. */
    private static final Duration RECONNECT_DELAY_MIN = Duration.ofMillis(10);
    private static final Duration RECONNECT_DELAY_MAX = Duration.ofSeconds(1);
    /** Warnings about a failing cache are logged at most this often (each request would otherwise log one). */
    private static final long WARN_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(5);
    /** Keys as text, values as the exact bytes of the JSON answers. */
    private static final RedisCodec<String, byte[]> CODEC = RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE);

    /** The cache failed, timed out or is not connected; the message says which (one line, no stack trace). */
    static final class Unavailable extends Exception {
        private static final long serialVersionUID = 1L;

        Unavailable(String message) {
            super(message, null, false, false);
        }
    }

    private final String url;
    private final RedisURI uri;
    private final ClientResources resources;
    private final RedisClient client;
    private final AtomicBoolean connecting = new AtomicBoolean();
    private final AtomicLong lastConnectStart = new AtomicLong(System.nanoTime() - RECONNECT_INTERVAL_NANOS);
    private final AtomicLong lastWarning = new AtomicLong(System.nanoTime() - WARN_INTERVAL_NANOS);
    private final AtomicLong unwarned = new AtomicLong();
    private volatile StatefulRedisConnection<String, byte[]> connection;
    private volatile boolean closed;

    private CacheAside(String url, int timeoutMs) {
        StorefrontSetting.RedisAddress address = StorefrontSetting.redisAddress(url);
        if (address == null) {
            throw new IllegalArgumentException(StorefrontSetting.CACHE_URL.option() + " " + StorefrontSetting.CACHE_URL
                    .problem(url));
        }
        this.url = url.strip();
        // The command timeout: Lettuce's own default is 60 s, which holds a request for a minute when the cache
        // swallows commands without answering. Ours is the setting's, usually a few tens of milliseconds.
        this.uri = RedisURI.Builder.redis(address.host(), address.port()).withTimeout(Duration.ofMillis(timeoutMs))
                .build();
        this.resources = DefaultClientResources.builder()
                .reconnectDelay(Delay.exponential(RECONNECT_DELAY_MIN, RECONNECT_DELAY_MAX, 2, TimeUnit.MILLISECONDS))
                .build();
        RedisClient created = RedisClient.create(resources, uri);
        created.setOptions(ClientOptions.builder()
                // Lettuce reconnects a lost connection by itself: a restarted cache is used again without us.
                .autoReconnect(true)
                // While disconnected, refuse commands at once. Lettuce's default queues them until the connection is
                // back or their timeout passes, so every request would wait out --cache-timeout-ms against a cache
                // that is known to be down (and, with a long timeout, the queue grows with the load).
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .socketOptions(SocketOptions.builder().connectTimeout(CONNECT_TIMEOUT).build())
                .build());
        this.client = created;
    }

    /**
     * Connects to the cache at {@code url} ({@code redis://host:port}), waiting at most {@link #START_WAIT}. A cache
     * that does not answer by then is reported to {@code warnings} and connected to later: the storefront starts
     * anyway.
     */
    static CacheAside start(String url, int timeoutMs, Consumer<String> warnings) {
        CacheAside cache = new CacheAside(url, timeoutMs);
        CompletableFuture<StatefulRedisConnection<String, byte[]>> attempt = cache.connectInBackground();
        try {
            attempt.get(START_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            warnings.accept("the cache at " + cache.url + " does not answer (" + Database.rootMessage(e) + "); starting "
                    + "without it: reads use the database until it does.");
        } catch (TimeoutException e) {
            warnings.accept("the cache at " + cache.url + " did not answer within " + START_WAIT.toMillis()
                    + " ms; starting without it: reads use the database until it does.");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            cache.close();
            throw new Storefront.StartupException("interrupted while connecting to the cache");
        }
        return cache;
    }

    /** {@code redis://host:port}, as configured. */
    String url() {
        return url;
    }

    /** The cached bytes of {@code key}, or null if it is not cached. */
    byte[] get(String key) throws Unavailable {
        try {
            return commands().get(key);
        } catch (RuntimeException e) {
            throw unavailable("GET", e);
        }
    }

    /** Caches {@code value} under {@code key} for {@code ttlMs}. */
    void set(String key, byte[] value, long ttlMs) throws Unavailable {
        try {
            commands().psetex(key, ttlMs, value);
        } catch (RuntimeException e) {
            throw unavailable("SET", e);
        }
    }

    /** Deletes {@code keys}; returns how many of them were cached. */
    long delete(List<String> keys) throws Unavailable {
        try {
            return commands().del(keys.toArray(String[]::new));
        } catch (RuntimeException e) {
            throw unavailable("DEL", e);
        }
    }

    /**
     * Logs a failure of the cache, at most once per {@link #WARN_INTERVAL_NANOS} (a failing cache fails every
     * request; the meters count each one).
     */
    void warn(String what, Unavailable failure) {
        long now = System.nanoTime();
        long last = lastWarning.get();
        if (now - last < WARN_INTERVAL_NANOS || !lastWarning.compareAndSet(last, now)) {
            unwarned.incrementAndGet();
            return;
        }
        long more = unwarned.getAndSet(0);
        log.warn("Cache {}: {}{}", url, what + ": " + failure.getMessage(),
                more == 0 ? "" : " (and " + more + " more cache failures since the last warning)");
    }

    private RedisCommands<String, byte[]> commands() throws Unavailable {
        StatefulRedisConnection<String, byte[]> c = connection;
        if (c == null) {
            if (closed) {
                throw new Unavailable("the cache client is closed");
            }
            connectInBackground();
            throw new Unavailable("not connected to the cache yet");
        }
        return c.sync();
    }

    /**
     * Starts connecting unless an attempt is running or started less than {@link #RECONNECT_INTERVAL_NANOS} ago
     * (then returns a failed future). Once made, the connection is kept: Lettuce re-establishes it by itself.
     */
    private CompletableFuture<StatefulRedisConnection<String, byte[]>> connectInBackground() {
        long now = System.nanoTime();
        long last = lastConnectStart.get();
        if (now - last < RECONNECT_INTERVAL_NANOS || !connecting.compareAndSet(false, true)) {
            return CompletableFuture.failedFuture(new Unavailable("a connection attempt is under way"));
        }
        lastConnectStart.set(now);
        CompletableFuture<StatefulRedisConnection<String, byte[]>> attempt;
        try {
            attempt = client.connectAsync(CODEC, uri).toCompletableFuture();
        } catch (RuntimeException e) {
            connecting.set(false);
            return CompletableFuture.failedFuture(e);
        }
        return attempt.whenComplete((made, failure) -> {
            if (made != null) {
                if (closed) {
                    made.closeAsync();
                } else {
                    connection = made;
                    log.info("Connected to the cache at {}", url);
                }
            } else {
                log.debug("Cannot connect to the cache at {}: {}", url, Database.rootMessage(failure));
            }
            connecting.set(false);
        });
    }

    private static Unavailable unavailable(String command, RuntimeException e) {
        return new Unavailable(command + " failed: " + Database.rootMessage(e));
    }

    /** Closes the connection and the client's threads; idempotent. */
    @Override
    public void close() {
        closed = true;
        StatefulRedisConnection<String, byte[]> c = connection;
        connection = null;
        try {
            if (c != null) {
                c.close();
            }
        } catch (RuntimeException e) {
            log.debug("Closing the cache connection: {}", e.toString());
        } finally {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
            try {
                resources.shutdown(0, 2, TimeUnit.SECONDS).get(3, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException e) {
                log.debug("Stopping the cache client's threads: {}", e.toString());
            }
        }
    }
}
