package dev.doorbuster.app;

import java.io.PrintStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.sql.SQLException;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import dev.doorbuster.app.Database.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Doorbuster reference storefront, the system under test: a small shop (products, carts, orders,
 * users) over HTTP/JSON on a PostgreSQL primary (writer pool) and replica (reader pool), with the classic
 * failure modes of such services and their fixes selectable per run (see {@link StorefrontConfig.Routing}).
 *
 * <p>Run it in its own JVM with {@link #main} (flags in {@link StorefrontConfig#USAGE}), or in-process
 * with {@link #start}. {@link #close} stops accepting, lets in-flight requests finish (at most
 * {@value #DRAIN_SECONDS} s), then closes the pools.
 */
public final class Storefront implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Storefront.class);
    private static final int DRAIN_SECONDS = 5;
    /** After --init-schema creates the database, the replica needs a moment to replay it. */
    private static final long READER_WAIT_MS = 15_000;
    /** How long a pool may take to make its first connection at start-up, whatever its own timeout. */
    private static final long CONNECT_WAIT_MS = 10_000;
    /** How long a start waits for its pools to open their connections (or be refused) before it serves anyway. */
    private static final long POOLS_OPEN_WAIT_MS = 10_000;

    /** The storefront could not start; the message is one line saying why. */
    public static final class StartupException extends RuntimeException {
        StartupException(String message) {
            super(message);
        }
    }

    private final StorefrontConfig config;
    private final HttpTransport server;
    private final ThreadPoolExecutor workers;
    private final ScheduledThreadPoolExecutor watchdog;
    private final RequestHandler handler;
    private final Database database;
    private final CacheAside cache;
    private final CachedReads cachedReads;
    private final StorefrontMetrics metrics;
    private final CountDownLatch closed = new CountDownLatch(1);
    private boolean closing;

    private Storefront(StorefrontConfig config, HttpTransport server, ThreadPoolExecutor workers,
            ScheduledThreadPoolExecutor watchdog, RequestHandler handler, Database database, CacheAside cache,
            CachedReads cachedReads, StorefrontMetrics metrics) {
        this.config = config;
        this.server = server;
        this.workers = workers;
        this.watchdog = watchdog;
        this.handler = handler;
        this.database = database;
        this.cache = cache;
        this.cachedReads = cachedReads;
        this.metrics = metrics;
    }

    // ---- command line ----------------------------------------------------------------------------------------

    /** Exit codes: 0 after a clean shutdown (SIGTERM/Ctrl-C), 1 cannot start, 2 bad flags. */
    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /**
     * Parses {@code args}, starts, prints {@code Storefront listening on http://HOST:PORT} to {@code out},
     * and serves until the JVM is asked to stop; then drains and returns 0. Returns 2 (usage printed) for
     * bad flags and 1 (one-line reason) if it cannot start, before anything is left running.
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        StorefrontConfig config;
        try {
            config = StorefrontConfig.fromArgs(args);
        } catch (StorefrontConfig.HelpRequested e) {
            out.print(StorefrontConfig.USAGE);
            return 0;
        } catch (StorefrontConfig.UsageException e) {
            err.println("storefront: " + e.getMessage());
            err.print(StorefrontConfig.USAGE);
            return 2;
        }
        Storefront storefront;
        try {
            storefront = start(config, note -> err.println("storefront: " + note),
                    warning -> err.println("storefront: WARNING: " + warning));
        } catch (StartupException e) {
            err.println("storefront: " + e.getMessage());
            return 1;
        }
        // SIGTERM/Ctrl-C run the hooks; the JVM would then exit 143/130. A drained shutdown is a success: 0.
        Thread hook = new Thread(() -> {
            storefront.close();
            out.flush();
            err.flush();
            Runtime.getRuntime().halt(0);
        }, "storefront-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        out.println("Storefront listening on " + storefront.url());
        out.flush();
        storefront.awaitClosed();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is what closed it
        }
        return 0;
    }

    // ---- in-process ------------------------------------------------------------------------------------------

    /**
     * Starts a storefront: checks both databases are reachable (and initialises the schema if asked), connects to
     * the cache if there is one (a cache that does not answer is only a warning: reads then use the database), then
     * listens. Nothing is left running if it fails.
     *
     * @throws StartupException with a one-line reason (database unreachable, port taken, ...)
     */
    public static Storefront start(StorefrontConfig config) {
        return start(config, log::info, log::warn);
    }

    /** {@code notes} and {@code warnings}: the log in-process; stderr for {@link #run} (stdout has one line). */
    private static Storefront start(StorefrontConfig config, Consumer<String> notes, Consumer<String> warnings) {
        if (!isLoopback(config.host())) {
            warnings.accept("listening on " + config.host() + ", not loopback: reachable from other machines.");
        }
        if (config.stockLocking() == StorefrontConfig.StockLocking.NONE) {
            warnings.accept("--stock-locking none: checkout reads stock without a lock and oversells under concurrent "
                    + "orders. It exists only so a control can prove a harness catches overselling; never use it for real.");
        }
        if (config.cacheUrl() != null && config.cacheInvalidation() == StorefrontConfig.CacheInvalidation.NONE) {
            warnings.accept("--cache-invalidation none: writes never delete what they change from the cache, so reads "
                    + "stay stale until --cache-ttl-ms. It exists only so a control can prove a harness catches stale "
                    + "reads; never use it for real.");
        }
        StorefrontMetrics metrics = new StorefrontMetrics();
        metrics.preparedStatements(config.preparedStatements());
        Database database = null;
        CacheAside cache = null;
        CachedReads cachedReads = null;
        HttpTransport server = null;
        ThreadPoolExecutor workers = null;
        ScheduledThreadPoolExecutor watchdog = null;
        try {
            if (config.initSchema()) {
                createDatabaseIfAbsent(config);
            }
            database = new Database(config, metrics);
            requireReachable(database, Pool.WRITER, CONNECT_WAIT_MS);
            if (config.initSchema()) {
                initSchema(config, database, notes);
            }
            for (Pool reader : database.readers()) {
                requireReachable(database, reader, config.initSchema() ? READER_WAIT_MS : CONNECT_WAIT_MS);
            }
            // Ready with open pools: a spike must not pay for new connections, and an instance that a full database
            // refuses has said so (counted) before it serves.
            List<Pool> filling = database.awaitPoolsOpen(POOLS_OPEN_WAIT_MS);
            if (!filling.isEmpty()) {
                warnings.accept("pools " + filling.stream().map(Pool::tag).toList() + " still opening connections after "
                        + POOLS_OPEN_WAIT_MS + " ms; serving meanwhile");
            }

            if (config.cacheUrl() != null) {
                cache = CacheAside.start(config.cacheUrl(), config.cacheTimeoutMs(), warnings);
            }
            ReadRouter router = new ReadRouter(config, database, metrics);
            cachedReads = new CachedReads(config, router, cache, metrics);
            Api api = new Api(database, router, cachedReads, metrics, config.stockLocking());
            watchdog = new ScheduledThreadPoolExecutor(1, threads("storefront-watchdog"));
            watchdog.setRemoveOnCancelPolicy(true); // most alarms are cancelled: do not keep them queued
            RequestHandler handler = new RequestHandler(api, metrics, watchdog, config.requestTimeoutMs());
            workers = new ThreadPoolExecutor(config.httpThreads(), config.httpThreads(), 60, TimeUnit.SECONDS,
                    new LinkedBlockingQueue<>(), threads("storefront-http"));
            server = HttpTransport.listen(config.host(), config.port(), ioThreads(), workers, handler, metrics,
                    config.requestTimeoutMs());
            Storefront storefront = new Storefront(config, server, workers, watchdog, handler, database, cache,
                    cachedReads, metrics);
            notes.accept("serving " + storefront.url() + " (" + config + ")");
            return storefront;
        } catch (RuntimeException | Error e) {
            RuntimeException failure = e instanceof StartupException s ? s
                    : e instanceof RuntimeException ? new StartupException(Database.rootMessage(e)) : null;
            if (server != null) {
                server.close();
            }
            if (workers != null) {
                workers.shutdownNow();
            }
            if (watchdog != null) {
                watchdog.shutdownNow();
            }
            if (cachedReads != null) {
                cachedReads.close();
            }
            if (cache != null) {
                cache.close();
            }
            if (database != null) {
                database.close();
            }
            metrics.close();
            if (failure == null) {
                throw (Error) e;
            }
            throw failure;
        }
    }

    private static void createDatabaseIfAbsent(StorefrontConfig config) {
        Properties props = Database.driverDefaults(Pool.WRITER, config);
        props.setProperty("user", config.dbUser());
        if (!config.dbPassword().isEmpty()) {
            props.setProperty("password", config.dbPassword());
        }
        try {
            Schema.ensureDatabase(config.writerUrl(), props);
        } catch (SQLException e) {
            throw new StartupException("cannot reach the writer database at " + Database.redact(config.writerUrl())
                    + ": " + Database.rootMessage(e));
        }
    }

    private static void initSchema(StorefrontConfig config, Database database, Consumer<String> notes) {
        try {
            Schema.Outcome outcome = Schema.init(database.dataSource(Pool.WRITER), config.seedProducts(),
                    config.seedUsers());
            notes.accept(outcome.seeded()
                    ? "schema created and seeded with " + outcome.products() + " products and " + outcome.users()
                            + " users in " + outcome.millis() + " ms"
                    : "schema present (" + outcome.products() + " products, " + outcome.users() + " users); not reseeded");
        } catch (SQLException e) {
            throw new StartupException("cannot initialise the schema: " + Database.rootMessage(e));
        }
    }

    private static void requireReachable(Database database, Pool pool, long waitMs) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMs);
        while (true) {
            SQLException failure = database.unreachable(pool);
            if (failure == null) {
                return;
            }
            // Worth waiting for: "database does not exist" (a replica replaying CREATE DATABASE), and a pool whose
            // first connection was still being made when its timeout ran out (a short pool timeout on a busy
            // machine: no SQLSTATE, unlike a refused connection, which is final).
            String state = Database.sqlState(failure);
            boolean transientFailure = "3D000".equals(state) || (Database.isPoolTimeout(failure) && state == null);
            if (!transientFailure || System.nanoTime() > deadline) {
                throw new StartupException("cannot reach the " + pool.tag() + " database at " + Database.redact(database.url(pool)) + ": "
                        + Database.rootMessage(failure));
            }
            sleep(200);
        }
    }

    /** Event loops only parse and write (requests run on the workers): one per core is plenty. */
    private static int ioThreads() {
        return Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
    }

    public int port() {
        return server.port();
    }

    /** {@code http://127.0.0.1:PORT} */
    public String url() {
        String host = config.host();
        return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port();
    }

    public StorefrontConfig config() {
        return config;
    }

    /** Blocks until {@link #close()} has finished. */
    public void awaitClosed() {
        try {
            closed.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Graceful stop: the listening socket closes, requests in flight finish (every response now says
     * {@code Connection: close}), then the workers stop, and the cache connection and the pools close. Bounded by
     * {@value #DRAIN_SECONDS} s for the drain. Idempotent.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closing) {
                awaitClosed();
                return;
            }
            closing = true;
        }
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(DRAIN_SECONDS);
            handler.drain();
            server.stopAccepting();
            workers.shutdown();
            awaitTermination(workers, deadline);
            server.close();
            watchdog.shutdownNow();
            try {
                cachedReads.close();
                if (cache != null) {
                    cache.close();
                }
            } finally {
                database.close();
                metrics.close();
            }
        } finally {
            closed.countDown();
        }
    }

    private static void awaitTermination(ThreadPoolExecutor workers, long deadline) {
        try {
            if (!workers.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                log.warn("Requests still running after the {} s drain; abandoning them", DRAIN_SECONDS);
                workers.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            workers.shutdownNow();
        }
    }

    private static boolean isLoopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    private static ThreadFactory threads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        ThreadFactory defaults = Executors.defaultThreadFactory();
        return r -> {
            Thread t = defaults.newThread(r);
            t.setName(prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StartupException("interrupted while starting");
        }
    }
}
