package example.springshop;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The whole application on a free port, over real HTTP, without a database (HikariCP connects only when asked, and
 * the schema is not created here): every request below is refused before any SQL, with the right status and a JSON
 * body. What needs the database (an unknown id, a retried key) is tested against PostgreSQL by Doorbuster's
 * SpringShopIT.
 */
class BadInputTest {
    private static ConfigurableApplicationContext app;
    private static URI base;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void start() {
        // Tomcat's work folder inside the build's own: by default it is left in the system's temporary folder.
        app = SpringApplication.run(ShopApplication.class, "--server.port=0", "--server.address=127.0.0.1",
                "--spring.sql.init.mode=never", "--spring.main.banner-mode=off", "--server.tomcat.basedir=target/tomcat");
        base = URI.create("http://127.0.0.1:" + app.getEnvironment().getProperty("local.server.port"));
    }

    @AfterAll
    static void stop() {
        app.close();
    }

    private HttpResponse<String> post(String key, String contentType, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve("/orders"))
                .header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofString(body));
        if (key != null) {
            request.header("Idempotency-Key", key);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void assertProblem(HttpResponse<String> answer, int status, String error) {
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(status);
        assertThat(answer.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("application/json"));
        assertThat(answer.body()).contains("\"error\":\"" + error + "\"").contains("\"message\":");
    }

    @Test
    void malformedJsonIs400() throws Exception {
        assertProblem(post("k-1", "application/json", "{\"shopperId\": 17, \"sku\": "), 400, "malformed_json");
        assertProblem(post("k-1", "application/json", ""), 400, "malformed_json");
        assertProblem(post("k-1", "application/json", "{\"shopperId\": \"seventeen\", \"sku\": \"tv\", \"quantity\": 1}"),
                400, "malformed_json");
    }

    @Test
    void aMissingIdempotencyKeyIs400() throws Exception {
        HttpResponse<String> answer = post(null, "application/json", "{\"shopperId\": 17, \"sku\": \"tv-55\", \"quantity\": 1}");
        assertProblem(answer, 400, "missing_header");
        assertThat(answer.body()).contains("Idempotency-Key");
        assertProblem(post(" ", "application/json", "{\"shopperId\": 17, \"sku\": \"tv-55\", \"quantity\": 1}"),
                400, "bad_idempotency_key");
    }

    @Test
    void missingOrOutOfRangeFieldsAre400NamingTheField() throws Exception {
        HttpResponse<String> noSku = post("k-2", "application/json", "{\"shopperId\": 17, \"quantity\": 1}");
        assertProblem(noSku, 400, "bad_field");
        assertThat(noSku.body()).contains("sku must be");
        HttpResponse<String> tooMany = post("k-3", "application/json", "{\"shopperId\": 17, \"sku\": \"tv\", \"quantity\": 101}");
        assertProblem(tooMany, 400, "bad_field");
        assertThat(tooMany.body()).contains("quantity must be");
        assertProblem(post("k-4", "application/json", "{\"sku\": \"tv\", \"quantity\": 1}"), 400, "bad_field");
    }

    @Test
    void aBodyThatIsNotJsonIs415() throws Exception {
        assertProblem(post("k-5", "text/plain", "one tv please"), 415, "unsupported_media_type");
    }

    @Test
    void anIdThatIsNotANumberIs400() throws Exception {
        HttpResponse<String> answer = http.send(HttpRequest.newBuilder(base.resolve("/orders/abc")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertProblem(answer, 400, "bad_parameter");
    }
}
