package dev.doorbuster.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The storefront's settings come from one definition: every flag is parsed, documented and range-checked by it,
 * every rule between settings is refused with a usage error (exit 2), and the JDBC options follow the request bound.
 */
class StorefrontSettingTest {
    private static final String WRITER = "jdbc:postgresql://127.0.0.1:1/x";

    private record Result(int code, String out, String err) {
    }

    private static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Storefront.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static void assertUsageError(String expected, String... args) {
        Result r = run(args);
        assertEquals(2, r.code, String.join(" ", args) + " → " + r.err);
        assertTrue(r.err.startsWith("storefront: " + expected), "expected '" + expected + "': " + r.err);
        assertTrue(r.err.contains("Usage:"), "usage on stderr: " + r.err);
        assertEquals("", r.out, "nothing started");
    }

    @Test
    void everyWholeNumberSettingRefusesValuesOutsideItsRangeNamingIt() {
        for (StorefrontSetting s : StorefrontSetting.values()) {
            if (s.kind() != StorefrontSetting.Kind.INT) {
                continue;
            }
            String range = "between " + s.min() + " and " + s.max();
            assertUsageError(s.option() + " must be " + range + ", got " + (s.min() - 1), "--writer-url", WRITER,
                    s.option(), Integer.toString(s.min() - 1));
            assertUsageError(s.option() + " must be " + range + ", got " + (s.max() + 1), "--writer-url", WRITER,
                    s.option() + "=" + (s.max() + 1));
            assertUsageError(s.option() + " must be a whole number " + range + ", got 'lots'", "--writer-url", WRITER,
                    s.option(), "lots");
        }
    }

    @Test
    void everyChoiceSettingNamesItsValues() {
        assertUsageError("--routing must be one of replica, primary, read-your-writes, sticky; got 'random'",
                "--writer-url", WRITER, "--routing", "random");
        assertUsageError("--stock-locking must be one of row-lock, none; got 'bogus'", "--writer-url", WRITER,
                "--stock-locking", "bogus");
        assertUsageError("--init-schema must be true or false, got 'maybe'", "--writer-url", WRITER,
                "--init-schema=maybe");
        assertUsageError("unknown option --pool-timeout", "--writer-url", WRITER, "--pool-timeout", "300");
        assertUsageError("--cache-invalidation must be one of delete-after-commit, none; got 'write-through'",
                "--writer-url", WRITER, "--cache-invalidation", "write-through");
        assertUsageError("--cache-refill must be one of primary, reader; got 'replica'", "--writer-url", WRITER,
                "--cache-refill=replica");
        assertUsageError("--cache-on-error must be one of fallback, fail; got ''", "--writer-url", WRITER,
                "--cache-on-error", "");
        assertUsageError("--cache-stampede must be one of none, single-flight; got 'singleflight'", "--writer-url",
                WRITER, "--cache-stampede", "singleflight");
    }

    @Test
    void aCacheUrlMustBeRedisHostAndPortNamingTheFlag() throws Exception {
        String expected = "--cache-url must be redis://HOST:PORT (e.g. redis://127.0.0.1:6379); leave it out to run "
                + "without a cache, got '";
        for (String bad : new String[] {"", " ", "127.0.0.1:6379", "http://127.0.0.1:6379", "rediss://127.0.0.1:6379",
                "redis://127.0.0.1", "redis://127.0.0.1:", "redis://:6379", "redis://127.0.0.1:0",
                "redis://127.0.0.1:65536", "redis://127.0.0.1:99999999999", "redis://127.0.0.1:6379/0",
                "redis://127.0.0.1:6379?timeout=1s", "redis://h st:6379", "redis://[::1:6379"}) {
            assertUsageError(expected + bad + "'", "--writer-url", WRITER, "--cache-url", bad);
        }
        Result secret = run("--writer-url", WRITER, "--cache-url", "redis://:hunter2@127.0.0.1:6379");
        assertEquals(2, secret.code, secret.err);
        assertTrue(secret.err.contains("got 'redis://:***@127.0.0.1:6379'"), "a password is not echoed: " + secret.err);
        assertTrue(!secret.err.contains("hunter2"), secret.err);

        assertEquals("redis://127.0.0.1:6379", StorefrontConfig.fromArgs("--writer-url", WRITER, "--cache-url",
                "redis://127.0.0.1:6379").cacheUrl());
        assertEquals(new StorefrontSetting.RedisAddress("cache.internal", 6380),
                StorefrontSetting.redisAddress("redis://cache.internal:6380"));
        assertEquals(new StorefrontSetting.RedisAddress("::1", 1), StorefrontSetting.redisAddress("redis://[::1]:1/"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StorefrontConfig.builder()
                .writerUrl(WRITER).cacheUrl("localhost:6379").build());
        assertTrue(e.getMessage().startsWith(expected + "localhost:6379'"), e.getMessage());
    }

    @Test
    void theCacheIsOffUnlessAUrlIsGivenAndItsTimeoutMayOutlastTheRequestBound() throws Exception {
        StorefrontConfig defaults = StorefrontConfig.fromArgs("--writer-url", WRITER);
        assertEquals(null, defaults.cacheUrl());
        assertTrue(defaults.toString().contains("cache=off"), defaults.toString());
        assertEquals(30_000, defaults.cacheTtlMs());
        assertEquals(50, defaults.cacheTimeoutMs());
        assertEquals(StorefrontConfig.CacheInvalidation.DELETE_AFTER_COMMIT, defaults.cacheInvalidation());
        assertEquals(StorefrontConfig.CacheRefill.PRIMARY, defaults.cacheRefill());
        assertEquals(StorefrontConfig.CacheOnError.FALLBACK, defaults.cacheOnError());
        assertEquals(StorefrontConfig.CacheStampede.NONE, defaults.cacheStampede());
        assertTrue(StorefrontConfig.USAGE.contains("Lettuce's own default"), StorefrontConfig.USAGE);
        // Lettuce's default with the default request bound: the bug a control demonstrates, so it must stay allowed.
        StorefrontConfig lettuceDefault = StorefrontConfig.fromArgs("--writer-url", WRITER, "--cache-url",
                "redis://127.0.0.1:6379", "--cache-timeout-ms", "60000", "--request-timeout-ms", "5000",
                "--cache-invalidation", "none", "--cache-refill", "reader", "--cache-on-error", "fail",
                "--cache-stampede", "single-flight", "--cache-ttl-ms", "100");
        assertEquals(60_000, lettuceDefault.cacheTimeoutMs());
        assertEquals(5000, lettuceDefault.requestTimeoutMs());
        assertEquals(StorefrontConfig.CacheStampede.SINGLE_FLIGHT, lettuceDefault.cacheStampede());
        assertEquals(lettuceDefault.toString(), lettuceDefault.toBuilder().build().toString(), "kept by toBuilder");
        assertTrue(lettuceDefault.toString().contains("cache=redis://127.0.0.1:6379 (ttl 100ms, invalidation none, "
                + "refill reader, timeout 60000ms, on-error fail, stampede single-flight)"), lettuceDefault.toString());
    }

    @Test
    void everyRuleBetweenSettingsIsAUsageError() {
        assertUsageError("--pool-timeout-ms (1000) must be less than --request-timeout-ms (800)", "--writer-url", WRITER,
                "--request-timeout-ms", "800");
        assertUsageError("--pool-timeout-ms (5000) must be less than --request-timeout-ms (5000)", "--writer-url",
                WRITER, "--pool-timeout-ms", "5000");
        assertUsageError("--ryw-wait-ms (900) must be less than --request-timeout-ms (800)", "--writer-url", WRITER,
                "--request-timeout-ms", "800", "--pool-timeout-ms", "250", "--ryw-wait-ms", "900");
        Result r = run("--writer-url", WRITER, "--request-timeout-ms", "800");
        assertTrue(r.err.contains("--pool-timeout-ms may be 250 to 799"), r.err);
        assertTrue(r.err.contains("or raise --request-timeout-ms above 1000"), r.err);
        // The request timeout the issue was about: below the storefront's range, named with it.
        assertUsageError("--request-timeout-ms must be between 500 and 600000, got 300", "--writer-url", WRITER,
                "--request-timeout-ms", "300");
        assertEquals(StorefrontSetting.RULES.size(), 2, "a new rule needs a case here");
    }

    @Test
    void rulesHoldInTheBuilderToo() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StorefrontConfig.builder()
                .writerUrl(WRITER).requestTimeoutMs(1000).poolTimeoutMs(500).rywWaitMs(1000).build());
        assertTrue(e.getMessage().startsWith("--ryw-wait-ms (1000) must be less than --request-timeout-ms (1000)"),
                e.getMessage());
    }

    @Test
    void aConfigFileIsCheckedByTheSameDefinition(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("storefront.env");
        Files.writeString(file, "writer-url=" + WRITER + "\nrequest-timeout-ms=900\n");
        assertUsageError("--pool-timeout-ms (1000) must be less than --request-timeout-ms (900)", "--config",
                file.toString());
        assertEquals(700, StorefrontConfig.fromArgs("--config", file.toString(), "--pool-timeout-ms", "700")
                .poolTimeoutMs(), "the command line wins, and then the combination fits");
    }

    @Test
    void usageAndDefaultsComeFromTheDefinition() throws Exception {
        StorefrontConfig defaults = StorefrontConfig.fromArgs("--writer-url", WRITER);
        for (StorefrontSetting s : StorefrontSetting.values()) {
            assertTrue(StorefrontConfig.USAGE.contains("  " + s.option()), "usage lists " + s.option());
            if (s != StorefrontSetting.WRITER_URL && s != StorefrontSetting.READER_URL) {
                assertEquals(s.defaultValue(), defaults.get(s), s.option());
            }
        }
        assertEquals(List.of(WRITER), defaults.readerUrls());
        assertTrue(StorefrontConfig.USAGE.contains("--pool-timeout-ms < --request-timeout-ms"), StorefrontConfig.USAGE);
        StorefrontConfig all = StorefrontConfig.fromArgs("--writer-url", WRITER, "--ryw-wait-ms", "300",
                "--sticky-ms", "0", "--http-threads", "8", "--request-timeout-ms", "20000", "--pool-timeout-ms", "19999");
        assertEquals(300, all.rywWaitMs());
        assertEquals(0, all.stickyMs());
        assertEquals(8, all.httpThreads());
        assertEquals(all.toString(), all.toBuilder().build().toString(), "kept by toBuilder");
    }

    @Test
    void environmentFieldsAreTheFlagsInCamelCase() {
        List<String> fields = new ArrayList<>();
        StorefrontSetting.environmentSettings().forEach(s -> fields.add(s.field()));
        assertEquals(List.of("routing", "stockLocking", "writerPoolSize", "readerPoolSize", "poolTimeoutMs",
                "rywWaitMs", "stickyMs", "requestTimeoutMs", "httpThreads", "preparedStatements", "seedProducts", "seedUsers", "cacheTtlMs",
                "cacheInvalidation", "cacheRefill", "cacheTimeoutMs", "cacheOnError", "cacheStampede"), fields);
        assertEquals(null, StorefrontSetting.CACHE_URL.field(), "the harness chooses the cache's address (its proxy)");
        for (StorefrontSetting s : StorefrontSetting.RULES.stream().flatMap(r -> java.util.stream.Stream.of(r.lower(),
                r.upper())).toList()) {
            assertNotNull(s.field(), "a rule's settings can be set from an environment, so it can refuse them: " + s);
        }
    }

    @Test
    void jdbcOptionsFollowTheRequestBound() {
        assertEquals(7, JdbcOptions.socketTimeoutSeconds(5000));
        assertEquals(3, JdbcOptions.socketTimeoutSeconds(500));
        assertEquals(4, JdbcOptions.socketTimeoutSeconds(1001));
        assertEquals(602, JdbcOptions.socketTimeoutSeconds(600_000));
        assertEquals("targetServerType=primary&sslmode=disable&connectTimeout=2&socketTimeout=17&loginTimeout=5"
                + "&hostRecheckSeconds=1", JdbcOptions.query("primary", 15_000));
        StorefrontConfig config = StorefrontConfig.builder().writerUrl(WRITER).requestTimeoutMs(15_000)
                .poolTimeoutMs(8000).build();
        Properties writer = Database.driverDefaults(Database.Pool.WRITER, config);
        assertEquals("17", writer.getProperty("socketTimeout"), "the storefront's own bound");
        assertEquals("-c statement_timeout=15000", writer.getProperty("options"));
        assertEquals("primary", writer.getProperty("targetServerType"));
        JdbcOptions.connection("primary", 15_000).forEach((k, v) -> assertEquals(v, writer.getProperty(k), k));
    }
}
