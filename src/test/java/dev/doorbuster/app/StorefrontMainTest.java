package dev.doorbuster.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/**
 * The storefront as its own process: flags and exit codes, the one stdout line the harness parses, and a
 * SIGTERM that stops accepting, lets the request in flight finish, and exits 0.
 */
class StorefrontMainTest {
    @Test
    void badFlagsPrintUsageAndExit2WithoutStarting() {
        String[][] cases = {
                {"--port", "abc", "--writer-url", "jdbc:postgresql://127.0.0.1:1/x"},
                {"--no-such-flag", "--writer-url", "jdbc:postgresql://127.0.0.1:1/x"},
                {"--port", "8080"}, // no writer URL
                {"--writer-url", "mysql://127.0.0.1/x"},
                {"--writer-url", "jdbc:postgresql://127.0.0.1:1/x", "--routing", "random"},
                {"--writer-url", "jdbc:postgresql://127.0.0.1:1/x", "--stock-locking", "bogus"},
                {"--writer-url", "jdbc:postgresql://127.0.0.1:1/x", "--stock-locking"},
                {"--writer-url", "jdbc:postgresql://127.0.0.1:1/x", "--pool-timeout-ms", "100"},
                {"--writer-url", "jdbc:postgresql://127.0.0.1:1/x", "--pool-timeout-ms", "6000"}, // ≥ request timeout
                {"--writer-url", "jdbc:postgresql://127.0.0.1:1/x", "--ryw-wait-ms", "5000"}, // ≥ request timeout
                {"--writer-url", "jdbc:postgresql://127.0.0.1:1/x", "--request-timeout-ms", "300"}, // below its range
                {"--writer-url", "jdbc:postgresql://127.0.0.1:1/x", "--writer-pool-size", "0"},
                {"--writer-url", "jdbc:postgresql://127.0.0.1:1/x", "--port", "70000"},
                {"--writer-url"},
                {"stray", "--writer-url", "jdbc:postgresql://127.0.0.1:1/x"},
                {"--config", "/no/such/file.env"},
                {"--writer-url", "jdbc:postgresql://127.0.0.1:1/x", "--reader-url", "jdbc:postgresql://127.0.0.1:1/x",
                        "--reader-url", ""}, // a second reader URL that is empty
                {"--writer-url", "jdbc:postgresql://127.0.0.1:1/x", "--reader-url", "jdbc:postgresql://127.0.0.1:1/x",
                        "--reader-url=mysql://127.0.0.1/x"},
        };
        for (String[] args : cases) {
            Result r = run(args);
            assertEquals(2, r.code, String.join(" ", args) + " → " + r.err);
            assertTrue(r.err.startsWith("storefront: "), r.err);
            assertTrue(r.err.contains("Usage:"), "usage on stderr: " + r.err);
            assertEquals("", r.out, "nothing on stdout, nothing started");
        }
    }

    @Test
    void badStockLockingNamesTheAllowedValues() {
        Result r = run("--writer-url", "jdbc:postgresql://127.0.0.1:1/x", "--stock-locking", "bogus");
        assertEquals(2, r.code, r.err);
        assertTrue(r.err.startsWith("storefront: --stock-locking must be one of row-lock, none; got 'bogus'"), r.err);
    }

    @Test
    void helpGoesToStdoutWithExit0() {
        Result r = run("--help");
        assertEquals(0, r.code);
        assertTrue(r.out.contains("--writer-url") && r.out.contains("--routing"), r.out);
        assertTrue(r.out.contains("--stock-locking") && r.out.contains("never for real use"), r.out);
    }

    @Test
    void stockLockingNoneWarnsOnStderrBeforeAnythingElse() throws IOException {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        Result r = run("--writer-url", "jdbc:postgresql://127.0.0.1:" + closedPort + "/storefront", "--port", "0",
                "--pool-timeout-ms", "250", "--stock-locking", "none");
        assertEquals(1, r.code, r.err); // no database: it stops after the warning
        assertTrue(r.err.startsWith("storefront: WARNING: --stock-locking none: checkout reads stock without a lock"),
                r.err);
        assertTrue(r.err.contains("never use it for real"), r.err);
        assertEquals("", r.out, "stdout keeps its one line for the listening address");
    }

    @Test
    void unreachableDatabaseIsAOneLineErrorAndExit1() throws IOException {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        long started = System.nanoTime();
        Result r = run("--writer-url", "jdbc:postgresql://127.0.0.1:" + closedPort + "/storefront", "--port", "0",
                "--pool-timeout-ms", "250");
        assertEquals(1, r.code, r.err);
        assertEquals(1, r.err.strip().lines().count(), "one line: " + r.err);
        assertTrue(r.err.startsWith("storefront: cannot reach the writer database at jdbc:postgresql://127.0.0.1:"
                + closedPort), r.err);
        assertTrue(r.err.contains("refused"), r.err);
        assertEquals("", r.out);
        assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(10), "fails fast");
    }

    @Test
    void configFileGivesDefaultsAndTheCommandLineWins(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path file = dir.resolve("storefront.env");
        java.nio.file.Files.writeString(file, String.join("\n", "# storefront settings", "",
                "writer-url = jdbc:postgresql://127.0.0.1:5432/shop", "routing=sticky", "port=9000", "init-schema=true",
                "--sticky-ms=750", "stock-locking=none"));
        StorefrontConfig c = StorefrontConfig.fromArgs("--config", file.toString(), "--port", "9001");
        assertEquals(9001, c.port(), "command line wins");
        assertEquals(StorefrontConfig.StockLocking.NONE, c.stockLocking());
        assertEquals(StorefrontConfig.StockLocking.ROW_LOCK,
                StorefrontConfig.fromArgs("--config", file.toString(), "--stock-locking", "row-lock").stockLocking());
        assertEquals(StorefrontConfig.StockLocking.ROW_LOCK,
                StorefrontConfig.fromArgs("--writer-url", "jdbc:postgresql://h/db").stockLocking(), "the default");
        assertEquals(StorefrontConfig.Routing.STICKY, c.routing());
        assertEquals(750, c.stickyMs());
        assertTrue(c.initSchema());
        assertEquals(c.writerUrl(), c.readerUrl(), "reader defaults to the writer");
        assertEquals(10, c.writerPoolSize());

        assertEquals(List.of(c.writerUrl()), c.readerUrls());

        // --reader-url repeats: every value counts; the command line's list replaces the file's as a whole.
        java.nio.file.Files.writeString(file, String.join("\n", "writer-url=jdbc:postgresql://h/db",
                "reader-url=jdbc:postgresql://r1/db", "reader-url=jdbc:postgresql://r2/db", "port=9000", "port=9002"));
        StorefrontConfig two = StorefrontConfig.fromArgs("--config", file.toString());
        assertEquals(List.of("jdbc:postgresql://r1/db", "jdbc:postgresql://r2/db"), two.readerUrls());
        assertEquals("jdbc:postgresql://r1/db", two.readerUrl(), "the first");
        assertEquals(9002, two.port(), "other flags: the last one wins");
        assertEquals(List.of("jdbc:postgresql://r3/db"),
                StorefrontConfig.fromArgs("--config", file.toString(), "--reader-url", "jdbc:postgresql://r3/db").readerUrls());
        assertEquals(List.of("jdbc:postgresql://r3/db", "jdbc:postgresql://r4/db"), StorefrontConfig.fromArgs(
                "--writer-url", "jdbc:postgresql://h/db", "--reader-url", "jdbc:postgresql://r3/db",
                "--reader-url=jdbc:postgresql://r4/db").readerUrls());
        assertEquals(two.readerUrls(), two.toBuilder().build().readerUrls(), "kept by toBuilder");
        StorefrontConfig.UsageException empty = assertThrows(StorefrontConfig.UsageException.class,
                () -> StorefrontConfig.fromArgs("--config", file.toString(), "--reader-url", "jdbc:postgresql://r3/db",
                        "--reader-url", " "));
        assertTrue(empty.getMessage().contains("--reader-url #2 of 2 is empty"), empty.getMessage());

        java.nio.file.Files.writeString(file, "writer-url=jdbc:postgresql://h/db\nbogus=1\n");
        StorefrontConfig.UsageException e = assertThrows(StorefrontConfig.UsageException.class,
                () -> StorefrontConfig.fromArgs("--config", file.toString()));
        assertTrue(e.getMessage().contains(file + ":2"), e.getMessage());
    }

    @Test
    void ownJvmPrintsOneLineServesAndDrainsOnSigterm() throws Exception {
        try (StorefrontFixture fixture = StorefrontFixture.start()) {
            Process jvm = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx256m", "-cp", System.getProperty("java.class.path"), Storefront.class.getName(),
                    "--writer-url", fixture.writerUrl(), "--reader-url", fixture.readerUrl(), "--port", "0",
                    "--writer-pool-size", "2", "--reader-pool-size", "2").start();
            BlockingQueue<String> stdout = new LinkedBlockingQueue<>();
            StringBuffer stderr = new StringBuffer();
            Thread outReader = pump(new BufferedReader(new InputStreamReader(jvm.getInputStream(), StandardCharsets.UTF_8)),
                    stdout::add);
            Thread errReader = pump(new BufferedReader(new InputStreamReader(jvm.getErrorStream(), StandardCharsets.UTF_8)),
                    line -> stderr.append(line).append('\n'));
            try {
                String line = stdout.poll(60, TimeUnit.SECONDS);
                Matcher m = Pattern.compile("Storefront listening on (http://127\\.0\\.0\\.1:\\d+)").matcher(String.valueOf(line));
                assertTrue(m.matches(), "listening line, got " + line + "; stderr: " + stderr);
                Http http = new Http(m.group(1));
                assertEquals(200, http.get("/health").status());

                CompletableFuture<Http.Response> inFlight;
                try (Connection lock = DriverManager.getConnection(fixture.primary().jdbcUrl(StorefrontFixture.DB))) {
                    lock.setAutoCommit(false);
                    try (PreparedStatement s = lock.prepareStatement("SELECT 1 FROM products WHERE id = 120 FOR UPDATE")) {
                        s.executeQuery().close();
                    }
                    inFlight = CompletableFuture.supplyAsync(() -> http.post("/orders",
                            "{\"userId\": 90, \"items\": [{\"productId\": 120, \"quantity\": 1}]}"));
                    StorefrontFixture.await("order in flight", Duration.ofSeconds(10), () -> Http.metric(
                            http.get("/metrics").body(), "hikaricp_connections_active{pool=\"writer\"}") == 1);

                    jvm.destroy(); // SIGTERM
                    StorefrontFixture.await("listener closed", Duration.ofSeconds(10), () -> refused(m.group(1)));
                    assertTrue(jvm.isAlive(), "still draining the order in flight");
                    lock.rollback();
                }
                Http.Response drained = inFlight.get(20, TimeUnit.SECONDS);
                assertEquals(201, drained.status(), "the request in flight finished: " + drained);
                assertTrue(jvm.waitFor(20, TimeUnit.SECONDS), "exits after draining");
                assertEquals(0, jvm.exitValue(), "stderr: " + stderr);
                outReader.join(5000);
                List<String> rest = new ArrayList<>();
                stdout.drainTo(rest);
                assertEquals(List.of(), rest, "exactly one line on stdout");
                errReader.join(5000);
                assertTrue(stderr.toString().contains("storefront: serving"), stderr.toString());
            } finally {
                if (jvm.isAlive()) {
                    jvm.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            }
        }
    }

    @Test
    void closeInProcessFinishesTheRequestInFlight() throws Exception {
        try (StorefrontFixture fixture = StorefrontFixture.start()) {
            Storefront app = fixture.app(b -> b);
            Http http = new Http(app.url());
            CompletableFuture<Http.Response> inFlight;
            try (Connection lock = DriverManager.getConnection(fixture.primary().jdbcUrl(StorefrontFixture.DB))) {
                lock.setAutoCommit(false);
                try (PreparedStatement s = lock.prepareStatement("SELECT 1 FROM products WHERE id = 121 FOR UPDATE")) {
                    s.executeQuery().close();
                }
                inFlight = CompletableFuture.supplyAsync(() -> http.post("/orders",
                        "{\"userId\": 91, \"items\": [{\"productId\": 121, \"quantity\": 1}]}"));
                StorefrontFixture.await("order in flight", Duration.ofSeconds(10), () -> Http.metric(
                        http.get("/metrics").body(), "storefront_http_in_flight") == 2); // the order + this scrape
                CompletableFuture<Void> closing = CompletableFuture.runAsync(app::close);
                StorefrontFixture.await("listener closed", Duration.ofSeconds(10), () -> refused(app.url()));
                assertTrue(!closing.isDone(), "close waits for the order");
                lock.rollback();
                closing.get(20, TimeUnit.SECONDS);
            }
            assertEquals(201, inFlight.get(5, TimeUnit.SECONDS).status());
            long idleStart = System.nanoTime();
            fixture.app(b -> b).close();
            assertTrue(System.nanoTime() - idleStart < TimeUnit.SECONDS.toNanos(3), "an idle storefront closes at once");
        }
    }

    private static boolean refused(String url) {
        try {
            new Http(url).get("/health");
            return false;
        } catch (UncheckedIOException e) {
            return true;
        }
    }

    private static Thread pump(BufferedReader reader, java.util.function.Consumer<String> sink) {
        Thread t = new Thread(() -> {
            try (reader) {
                for (String line; (line = reader.readLine()) != null; ) {
                    sink.accept(line);
                }
            } catch (IOException ignored) {
                // process gone
            }
        }, "storefront-jvm-output");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private record Result(int code, String out, String err) {
    }

    private static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Storefront.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
