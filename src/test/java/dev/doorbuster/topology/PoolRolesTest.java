package dev.doorbuster.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import dev.doorbuster.topology.PoolRoles.Role;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code app.pools}: the default recognises the storefront's names and a single pool of any name as the writer;
 * a setting names exactly its pools; and every wrong value is refused before anything starts, naming the file (or
 * the -D property), the field and what is accepted.
 */
class PoolRolesTest {
    @TempDir
    Path dir;

    private final Properties props = new Properties();

    private Environment load(String json) throws IOException {
        Files.writeString(dir.resolve("svc.json"), json);
        return new EnvironmentLoader(dir, props).load("svc");
    }

    private EnvironmentException refused(String json) {
        return assertThrows(EnvironmentException.class, () -> load(json));
    }

    private static void assertMentions(Exception e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "message should mention '" + part + "': " + e.getMessage());
        }
    }

    private static String external(String pools) {
        return "{\"type\": \"external\", \"app\": {\"url\": \"http://127.0.0.1:8080\", \"metricsUrl\": "
                + "\"http://127.0.0.1:8080/actuator/prometheus\"" + (pools == null ? "" : ", \"pools\": " + pools)
                + "}, \"database\": {\"writerUrl\": \"jdbc:postgresql://127.0.0.1:5432/shop\"}}";
    }

    @Test
    void byDefaultTheStorefrontsNamesAndASinglePoolOfAnyNameAreRecognised() {
        PoolRoles roles = PoolRoles.byDefault();
        assertEquals(Map.of("writer", Role.WRITER, "reader-1", Role.READER, "reader-2", Role.READER),
                roles.roles(List.of("writer", "reader-1", "reader-2")));
        assertEquals(Map.of("reader", Role.READER), roles.roles(List.of("reader")), "a lone reader stays a reader");
        assertEquals(Map.of("HikariPool-1", Role.WRITER), roles.roles(List.of("HikariPool-1")),
                "Spring Boot's one pool is the writer");
        assertEquals(Map.of("shop", Role.WRITER), roles.roles(List.of("shop")), "any single pool");
        assertEquals(Map.of(), roles.roles(List.of("HikariPool-1", "HikariPool-2")), "two unnamed pools: no guess");
        assertEquals(Map.of("writer", Role.WRITER), roles.roles(List.of("writer", "batch")),
                "a pool beside the recognised ones has no role");
        assertEquals(Map.of("writer", Role.WRITER), roles.roles(List.of("writer", "readers")), "readers is no reader-N");
        assertEquals(Map.of(), roles.roles(List.of()));
    }

    @Test
    void aSettingNamesExactlyItsPools() throws IOException {
        Environment env = load(external("{\"HikariPool-1\": \"writer\", \"HikariPool-2\": \"reader\"}"));
        PoolRoles roles = env.app().pools();
        assertEquals(Map.of("HikariPool-1", Role.WRITER, "HikariPool-2", Role.READER),
                roles.roles(List.of("HikariPool-1", "HikariPool-2", "batch")));
        assertEquals(Map.of(), roles.roles(List.of("writer")), "the default names no longer apply");
    }

    @Test
    void leftOutItIsTheDefaultAndADPropertyAddsAPool() throws IOException {
        assertEquals(PoolRoles.byDefault(), load(external(null)).app().pools());
        props.setProperty("app.pools.HikariPool-2", "reader");
        Environment env = load(external("{\"HikariPool-1\": \"writer\"}"));
        assertEquals(Map.of("HikariPool-1", Role.WRITER, "HikariPool-2", Role.READER), env.app().pools().named());
    }

    @Test
    void anUnknownRoleIsRefusedNamingTheFileTheFieldAndTheRoles() {
        EnvironmentException e = refused(external("{\"HikariPool-1\": \"primary\"}"));
        assertMentions(e, dir.resolve("svc.json").toString(), "field 'app.pools.HikariPool-1'", "is 'primary'",
                "expected one of writer, reader");
    }

    @Test
    void anEmptyPoolNameIsRefused() {
        EnvironmentException e = refused(external("{\"\": \"writer\"}"));
        assertMentions(e, "svc.json", "field 'app.pools' names a pool ''", "the pool label of the service's "
                + "hikaricp_connections_* meters");
    }

    @Test
    void theWrongJsonTypeIsRefused() {
        assertMentions(refused(external("[\"writer\"]")), "svc.json", "field 'app.pools' is [\"writer\"]",
                "expected a JSON object of pool name", "{\"HikariPool-1\": \"writer\"}");
        assertMentions(refused(external("\"HikariPool-1\"")), "field 'app.pools' is 'HikariPool-1'; expected a JSON object");
        assertMentions(refused(external("{\"HikariPool-1\": 1}")), "field 'app.pools.HikariPool-1' is 1",
                "expected one of writer, reader");
        assertMentions(refused(external("{\"HikariPool-1\": null}")), "field 'app.pools.HikariPool-1' is null");
    }

    @Test
    void aWrongDPropertyIsNamed() {
        props.setProperty("app.pools.HikariPool-1", "leader");
        EnvironmentException e = refused(external(null));
        assertMentions(e, "-Dapp.pools.HikariPool-1=leader (overriding ", "svc.json", "is 'leader'");

        props.clear();
        props.setProperty("app.pools", "writer");
        assertMentions(refused(external(null)), "-Dapp.pools=writer (overriding ", "expected a JSON object");
    }
}
