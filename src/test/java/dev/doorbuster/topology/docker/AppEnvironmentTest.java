package dev.doorbuster.topology.docker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import dev.doorbuster.topology.Environment;
import dev.doorbuster.topology.EnvironmentLoader;
import dev.doorbuster.topology.TopologyException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A service image's environment variables as the docker topology gives them (no engine needed): every placeholder
 * becomes an address inside the run's network, the cache's the proxy in front of Redis.
 */
class AppEnvironmentTest {
    @TempDir
    Path dir;

    private Environment.App app(boolean cache, Map<String, String> variables) throws IOException {
        StringBuilder environment = new StringBuilder();
        variables.forEach((k, v) -> environment.append(environment.length() == 0 ? "" : ", ")
                .append('"').append(k).append("\": \"").append(v).append('"'));
        Files.writeString(dir.resolve("service.json"), "{\"type\": \"docker\", \"app\": {\"image\": \"shop/checkout:1.42\", "
                + "\"cache\": " + cache + ", \"environment\": {" + environment + "}}}");
        return new EnvironmentLoader(dir, new Properties()).load("service").app();
    }

    @Test
    void theCachePlaceholdersAreTheCacheProxysHostAndPortInsideTheNetwork() throws IOException {
        Environment.App app = app(true, Map.of("REDIS_URL", "redis://${cacheHost}:${cachePort}/0",
                "REDIS_HOST", "${cacheHost}", "DB_USER", "${dbUser}"));
        Map<String, String> resolved = DockerTopology.appEnvironment(app, List.of("toxiproxy:8666", "toxiproxy:8668"),
                List.of("toxiproxy:8668", "toxiproxy:8666"), "toxiproxy:8669", "secret");
        assertEquals("redis://toxiproxy:8669/0", resolved.get("REDIS_URL"));
        assertEquals("toxiproxy", resolved.get("REDIS_HOST"));
        assertEquals(DockerTopology.USER, resolved.get("DB_USER"));
    }

    @Test
    void theDatabasePlaceholdersAreUnchanged() throws IOException {
        Environment.App app = app(false, Map.of("WRITER", "${writerHosts}", "READER", "${readerHosts}",
                "PASSWORD", "${dbPassword}", "DB", "${dbName}"));
        Map<String, String> resolved = DockerTopology.appEnvironment(app, List.of("toxiproxy:8666", "toxiproxy:8668"),
                List.of("toxiproxy:8668", "toxiproxy:8666"), null, "secret");
        assertEquals(Map.of("WRITER", "toxiproxy:8666,toxiproxy:8668", "READER", "toxiproxy:8668,toxiproxy:8666",
                "PASSWORD", "secret", "DB", "storefront"), resolved);
    }

    @Test
    void behindThePoolerTheDatabasePlaceholdersNameThePoolersProxyAndAliases() throws IOException {
        Environment.App app = app(false, Map.of("WRITER_URL", "${writerJdbcUrl}", "READER_URL", "${readerJdbcUrl}",
                "WRITER", "${writerHosts}", "READER", "${readerHosts}", "DB", "${dbName}"));
        Map<String, String> resolved = DockerTopology.pooledAppEnvironment(app, "toxiproxy:8669", List.of("pg2", "pg3"),
                null, "secret");
        assertTrue(resolved.get("WRITER_URL").startsWith("jdbc:postgresql://toxiproxy:8669/storefront?"),
                resolved.get("WRITER_URL"));
        assertTrue(resolved.get("READER_URL").startsWith("jdbc:postgresql://toxiproxy:8669/storefront_pg2?"),
                "the first replica's alias: " + resolved.get("READER_URL"));
        assertEquals("toxiproxy:8669", resolved.get("WRITER"), "the pooler's proxy, never a node's");
        assertEquals("toxiproxy:8669", resolved.get("READER"));
        assertEquals("storefront", resolved.get("DB"), "the writers' alias");
        assertTrue(DockerTopology.pooledAppEnvironment(app, "toxiproxy:8669", List.of(), null, "secret")
                .get("READER_URL").startsWith("jdbc:postgresql://toxiproxy:8669/storefront?"), "no replica: the writers' "
                + "alias, as a reader's URL");
    }

    /** The environment's loader refuses this first; should it ever pass, the run still says what is missing. */
    @Test
    void aCachePlaceholderWithoutACacheTierIsRefusedNamingTheField() throws IOException {
        Environment.App app = app(true, Map.of("REDIS_PORT", "${cachePort}"));
        TopologyException e = assertThrows(TopologyException.class, () -> DockerTopology.appEnvironment(app,
                List.of("toxiproxy:8666"), List.of("toxiproxy:8666"), null, "secret"));
        assertTrue(e.getMessage().contains("${cachePort}") && e.getMessage().contains("app.cache"), e.getMessage());
    }
}
