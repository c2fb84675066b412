package dev.doorbuster.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.doorbuster.docs.MarkdownPages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code app.writeProbe}: the write a failover's probe sends to a service of your own. Read from the file and from -D
 * properties; the storefront keeps its own; every wrong value is refused before anything starts, naming the file (or
 * the -D property), the field and what is accepted.
 */
class WriteProbeRequestTest {
    /** {@code app.writeProbe.<field>} as a page writes it. */
    private static final Pattern MENTION = Pattern.compile("app\\.writeProbe\\.([A-Za-z]+)");

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

    private String file() {
        return dir.resolve("svc.json").toString();
    }

    private static void assertMentions(Exception e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "message should mention '" + part + "': " + e.getMessage());
        }
    }

    /** A docker environment with a service image, and {@code probe} as its app.writeProbe (null: left out). */
    private static String image(String probe) {
        return "{\"type\": \"docker\", \"app\": {\"image\": \"shop/checkout:1.42\"" + (probe == null ? ""
                : ", \"writeProbe\": " + probe) + "}}";
    }

    private static String external(String probe) {
        return "{\"type\": \"external\", \"app\": {\"url\": \"http://127.0.0.1:8080\"" + (probe == null ? ""
                : ", \"writeProbe\": " + probe) + "}, \"database\": {\"writerUrl\": \"jdbc:postgresql://127.0.0.1:5432/shop\"}}";
    }

    @Test
    void aServiceOfYourOwnIsProbedWithTheWriteItSets() throws IOException {
        Environment env = load(image("{\"method\": \"POST\", \"path\": \"/orders?source=probe\", \"headers\": "
                + "{\"Idempotency-Key\": \"doorbuster-write-probe\"}, \"body\": {\"shopperId\": 1, \"sku\": \"probe\"}}"));
        WriteProbeRequest write = env.writeProbe().orElseThrow();
        assertEquals("POST", write.method());
        assertEquals("/orders?source=probe", write.path());
        assertEquals(Map.of("Idempotency-Key", "doorbuster-write-probe"), write.headers());
        assertEquals("{\"shopperId\":1,\"sku\":\"probe\"}", write.body(), "an object is sent as its JSON text");
        assertEquals("POST /orders?source=probe", write.describe());
        assertEquals(URI.create("http://127.0.0.1:9000/orders?source=probe"),
                write.target(URI.create("http://127.0.0.1:9000")));

        WriteProbeRequest external = load(external("{\"path\": \"/accounts/7\", \"body\": \"{\\\"note\\\": 1}\"}"))
                .writeProbe().orElseThrow();
        assertEquals("PUT", external.method(), "left out: " + WriteProbeRequest.DEFAULT_METHOD);
        assertEquals("{\"note\": 1}", external.body(), "a string holding JSON is sent as written");
        assertEquals(Map.of(), external.headers());
        assertNull(load(external("{\"method\": \"PATCH\", \"path\": \"/accounts/7/touch\"}")).writeProbe()
                .orElseThrow().body(), "left out: no body");
    }

    /**
     * The worked example's: the shop's one write, {@code POST /orders}, under a fixed Idempotency-Key, so the first
     * probe places one order and every later one gets the same order back (200) without a second row.
     */
    @Test
    void theSpringShopExampleProbesItsIdempotentOrderWrite() {
        Environment env = new EnvironmentLoader(Path.of("environments"), props)
                .load("examples/spring-shop/doorbuster-docker.json");
        WriteProbeRequest write = env.writeProbe().orElseThrow();
        assertEquals("POST /orders", write.describe());
        assertEquals(Map.of("Idempotency-Key", "doorbuster-write-probe"), write.headers());
        assertEquals("{\"shopperId\":1,\"sku\":\"doorbuster-probe\",\"quantity\":1}", write.body());
    }

    @Test
    void leftOutAServiceOfYourOwnHasNoProbeAndTheStorefrontKeepsItsOwn() throws IOException {
        assertEquals(Optional.empty(), load(image(null)).writeProbe());
        assertEquals(Optional.empty(), load(external(null)).writeProbe());
        assertEquals(Optional.of(WriteProbeRequest.STOREFRONT), load("{\"type\": \"local\"}").writeProbe());
        assertEquals(Optional.of(WriteProbeRequest.STOREFRONT), load("{\"type\": \"docker\"}").writeProbe(),
                "docker without app.image runs the storefront");
        assertEquals("PUT /users/1", WriteProbeRequest.STOREFRONT.describe());
        assertEquals("{\"name\":\"doorbuster-probe\"}", WriteProbeRequest.STOREFRONT.body());
    }

    @Test
    void theStorefrontRefusesAWriteProbeItWouldNotUse() {
        assertMentions(refused("{\"type\": \"local\", \"app\": {\"writeProbe\": {\"path\": \"/users/2\"}}}"), file()
                + ": field 'app.writeProbe' is only for a service of your own (app.image, or an external app.url)",
                "probed with PUT /users/1; remove it");
        props.setProperty("app.writeProbe.path", "/users/2");
        assertMentions(refused("{\"type\": \"docker\"}"), "-Dapp.writeProbe.path=/users/2", "field 'app.writeProbe' is "
                + "only for a service of your own");
    }

    @Test
    void dPropertiesSetOrOverrideEachField() throws IOException {
        props.setProperty("app.writeProbe.path", "/accounts/probe");
        WriteProbeRequest set = load(image(null)).writeProbe().orElseThrow();
        assertEquals("PUT /accounts/probe", set.describe(), "a path alone is a whole probe");

        props.setProperty("app.writeProbe.method", "PATCH");
        props.setProperty("app.writeProbe.body", "{\"note\":\"probe\"}");
        props.setProperty("app.writeProbe.headers.X-Probe", "yes");
        WriteProbeRequest overridden = load(image("{\"method\": \"POST\", \"path\": \"/orders\"}")).writeProbe()
                .orElseThrow();
        assertEquals("PATCH /accounts/probe", overridden.describe());
        assertEquals("{\"note\":\"probe\"}", overridden.body());
        assertEquals(Map.of("X-Probe", "yes"), overridden.headers());
    }

    @Test
    void aMissingPathIsRefusedNamingTheFileTheFieldAndWhatIsExpected() {
        assertMentions(refused(image("{\"method\": \"POST\"}")), file() + ": field 'app.writeProbe.path' is missing; "
                + "expected the path of a cheap write the service acknowledges with 2xx, starting with /, e.g. "
                + "\"/accounts/probe\"");
        assertMentions(refused(image("{}")), "field 'app.writeProbe.path' is missing");
    }

    @Test
    void aPathThatIsNoPathOfTheServiceIsRefused() {
        assertMentions(refused(image("{\"path\": \"orders\"}")), file() + ": field 'app.writeProbe.path' is 'orders'; "
                + "expected the path of a cheap write", "starting with /");
        assertMentions(refused(image("{\"path\": \"//other-host/orders\"}")), "field 'app.writeProbe.path' is "
                + "'//other-host/orders'; expected", "starting with /");
        assertMentions(refused(image("{\"path\": \"http://127.0.0.1:8080/orders\"}")), "field 'app.writeProbe.path'");
        assertMentions(refused(image("{\"path\": \"/orders/a b\"}")), "field 'app.writeProbe.path' is '/orders/a b', not "
                + "a valid URL path", "percent-encoded (%20)");
        assertMentions(refused(image("{\"path\": \"/orders#x\"}")), "field 'app.writeProbe.path' is '/orders#x', with a "
                + "fragment");
        assertMentions(refused(image("{\"path\": 7}")), file() + ": field 'app.writeProbe.path' is 7; expected the path");
        props.setProperty("app.writeProbe.path", "orders");
        assertMentions(refused(image(null)), "-Dapp.writeProbe.path=orders (overriding " + file() + "): field "
                + "'app.writeProbe.path' is 'orders'");
    }

    @Test
    void anUnknownMethodIsRefusedWithTheMethodsAllowed() {
        assertMentions(refused(image("{\"method\": \"DELETE\", \"path\": \"/orders/1\"}")), file()
                + ": field 'app.writeProbe.method' is 'DELETE'; expected one of PUT, POST, PATCH (or leave it out: PUT)");
        assertMentions(refused(image("{\"method\": \"put\", \"path\": \"/orders/1\"}")),
                "field 'app.writeProbe.method' is 'put'; expected one of PUT, POST, PATCH");
        assertMentions(refused(image("{\"method\": 1, \"path\": \"/orders/1\"}")),
                "field 'app.writeProbe.method' is 1; expected one of PUT, POST, PATCH");
        props.setProperty("app.writeProbe.method", "GET");
        assertMentions(refused(image("{\"path\": \"/orders/1\"}")), "-Dapp.writeProbe.method=GET (overriding " + file()
                + "): field 'app.writeProbe.method' is 'GET'; expected one of PUT, POST, PATCH");
    }

    @Test
    void theWrongJsonTypesAreRefused() {
        assertMentions(refused(image("\"PUT /orders\"")), file() + ": field 'app.writeProbe' is 'PUT /orders'; expected "
                + "a JSON object like {\"method\": \"PUT\", \"path\": \"/accounts/probe\"", "method PUT, POST, PATCH, "
                + "default PUT; path starting with /");
        assertMentions(refused(image("[\"PUT\", \"/orders\"]")), "field 'app.writeProbe' is [\"PUT\",\"/orders\"]; "
                + "expected a JSON object");
        assertMentions(refused(image("{\"path\": \"/orders\", \"body\": 5}")), file() + ": field 'app.writeProbe.body' "
                + "is 5; expected a JSON object, or a string holding JSON text");
        assertMentions(refused(image("{\"path\": \"/orders\", \"body\": \"not json\"}")),
                "field 'app.writeProbe.body' is 'not json', which is not JSON; expected a JSON object");
        assertMentions(refused(image("{\"path\": \"/orders\", \"headers\": [\"Idempotency-Key: x\"]}")), file()
                + ": field 'app.writeProbe.headers' is [\"Idempotency-Key: x\"]; expected a JSON object of header name "
                + "to value");
        assertMentions(refused(image("{\"path\": \"/orders\", \"headers\": {\"X-Attempt\": 1}}")),
                "field 'app.writeProbe.headers.X-Attempt' is 1; expected a string");
        props.setProperty("app.writeProbe", "PUT /orders");
        assertMentions(refused(image(null)), "-Dapp.writeProbe=PUT /orders (overriding " + file() + "): field "
                + "'app.writeProbe' is 'PUT /orders'; expected a JSON object");
    }

    @Test
    void aHeaderTheHttpClientWouldRefuseIsRefusedBeforeAnythingStarts() {
        assertMentions(refused(image("{\"path\": \"/orders\", \"headers\": {\"Host\": \"shop\"}}")), file()
                + ": field 'app.writeProbe.headers.Host' cannot be sent", "not one the client sets itself");
        assertMentions(refused(image("{\"path\": \"/orders\", \"headers\": {\"Bad Name\": \"x\"}}")),
                "field 'app.writeProbe.headers.Bad Name' cannot be sent", "an HTTP token");
    }

    @Test
    void anUnknownFieldInsideIsRefusedWithTheFieldsAllowed() {
        assertMentions(refused(image("{\"metod\": \"POST\", \"path\": \"/orders\"}")), file()
                + ": unknown field 'app.writeProbe.metod'; allowed fields of app.writeProbe: body, headers, method, path.");
        props.setProperty("app.writeProbe.url", "/orders");
        assertMentions(refused(image("{\"path\": \"/orders\"}")), "-Dapp.writeProbe.url=/orders (overriding " + file()
                + "): unknown field 'app.writeProbe.url'");
    }

    /** The pages (README, docs/, examples/) name only fields the setting has, and every one of them. */
    @Test
    void everyWriteProbeFieldThePagesNameIsOneAndTheCheckCanFail() throws IOException {
        Set<String> named = new TreeSet<>();
        for (Path page : MarkdownPages.under(Path.of("."))) {
            Matcher m = MENTION.matcher(Files.readString(page));
            while (m.find()) {
                named.add(m.group(1));
            }
        }
        assertEquals(Set.of("body", "headers", "method", "path"), named, "the pages document every field");
        for (String field : named) {
            assertKnown(field);
        }
        assertThrows(AssertionError.class, () -> assertKnown("metod"));
    }

    /** The loader is the definition: a field it does not know is refused as unknown, whatever its value. */
    private void assertKnown(String field) throws IOException {
        props.clear();
        props.setProperty("app.writeProbe." + field, "/x");
        try {
            load(image(null));
        } catch (EnvironmentException e) {
            assertTrue(!e.getMessage().contains("unknown field"), "app.writeProbe." + field + ": " + e.getMessage());
        } finally {
            props.clear();
        }
    }
}
