package dev.doorbuster.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.doorbuster.app.StorefrontConfig;
import dev.doorbuster.app.StorefrontSetting;

/**
 * The storefront's reader URLs: replicas first, the primary last; one URL with one replica (as it always
 * was), one URL per replica with several (the storefront then picks a reader pool per read). Their timeouts are
 * the storefront's own, computed from the request bound; the flags it is started with are its settings' own.
 */
class LocalTopologyUrlTest {
    /** The default request bound, 5000 ms: socket timeout 5 s + 2 s. */
    private static final String PARAMS = "/storefront?targetServerType=preferSecondary"
            + "&sslmode=disable&connectTimeout=2&socketTimeout=7&loginTimeout=5&hostRecheckSeconds=1";

    @TempDir
    Path dir;

    @Test
    void oneReplicaKeepsTheUrlAsItWas() {
        assertEquals(List.of("jdbc:postgresql://127.0.0.1:2002,127.0.0.1:2001" + PARAMS),
                StorefrontLaunch.readerUrls(List.of("127.0.0.1:2002"), "127.0.0.1:2001", 5000));
        assertEquals(List.of("jdbc:postgresql://127.0.0.1:2001" + PARAMS),
                StorefrontLaunch.readerUrls(List.of(), "127.0.0.1:2001", 5000), "no replica: the primary");
    }

    @Test
    void severalReplicasGetOneUrlEachFallingBackToThePrimary() {
        List<String> urls = StorefrontLaunch.readerUrls(List.of("127.0.0.1:2002", "127.0.0.1:2003"), "127.0.0.1:2001",
                5000);
        assertEquals(List.of("jdbc:postgresql://127.0.0.1:2002,127.0.0.1:2001" + PARAMS,
                "jdbc:postgresql://127.0.0.1:2003,127.0.0.1:2001" + PARAMS), urls);
        urls.forEach(url -> assertFalse(url.contains("loadBalanceHosts"), url));
    }

    @Test
    void noUrlOverridesTheSocketTimeoutComputedFromTheRequestBound() {
        // Was socketTimeout=10 whatever the bound: a 15 s request bound was cut at 10 s by the URL.
        assertTrue(StorefrontLaunch.writerUrl(List.of("h:1", "h:2"), 15_000).contains("&socketTimeout=17&"));
        assertTrue(StorefrontLaunch.readerUrl(List.of("h:2", "h:1"), 600_000).contains("&socketTimeout=602&"));
        assertTrue(StorefrontLaunch.writerUrl(List.of("h:1"), 500).contains("targetServerType=primary&"));
    }

    private Environment.App app(Properties overrides) throws Exception {
        Files.writeString(dir.resolve("t.json"), "{\"type\": \"local\"}");
        return new EnvironmentLoader(dir, overrides).load("t").app();
    }

    @Test
    void theLaunchPassesEverySettingAndTheStorefrontReadsBackTheSameValues() throws Exception {
        Properties p = new Properties();
        p.setProperty("app.requestTimeoutMs", "15000");
        p.setProperty("app.poolTimeoutMs", "8000");
        p.setProperty("app.rywWaitMs", "350");
        p.setProperty("app.stickyMs", "900");
        p.setProperty("app.httpThreads", "12");
        p.setProperty("app.routing", "sticky");
        p.setProperty("app.stockLocking", "none");
        Environment.App app = app(p);
        List<String> args = StorefrontLaunch.args(app, List.of("127.0.0.1:2001", "127.0.0.1:2002"),
                List.of("127.0.0.1:2002"), "127.0.0.1:2001", "postgres", "secret");
        StorefrontConfig config = StorefrontConfig.fromArgs(args.toArray(String[]::new));
        for (Map.Entry<StorefrontSetting, Object> e : app.storefrontSettings().entrySet()) {
            assertEquals(e.getKey().format(e.getValue()), e.getKey().format(config.get(e.getKey())), e.getKey().option());
        }
        assertEquals(350, config.rywWaitMs());
        assertEquals(900, config.stickyMs());
        assertEquals(12, config.httpThreads());
        assertEquals(StorefrontConfig.Routing.STICKY, config.routing());
        assertEquals(0, config.port());
        assertTrue(config.initSchema());
        assertEquals("secret", config.dbPassword());
        assertTrue(config.writerUrl().contains("socketTimeout=17"), config.writerUrl());
        config.readerUrls().forEach(url -> assertTrue(url.contains("socketTimeout=17"), url));
    }

    @Test
    void theDefaultEnvironmentStartsAStorefrontItAccepts() throws Exception {
        Environment.App app = app(new Properties());
        StorefrontConfig config = StorefrontConfig.fromArgs(StorefrontLaunch.args(app, List.of("127.0.0.1:2001"),
                List.of(), "127.0.0.1:2001", "postgres", "").toArray(String[]::new));
        assertEquals(5000, config.requestTimeoutMs());
        assertEquals(StorefrontConfig.Routing.READ_YOUR_WRITES, config.routing(), "the runs' default");
    }
}
