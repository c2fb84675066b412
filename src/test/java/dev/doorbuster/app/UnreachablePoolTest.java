package dev.doorbuster.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.Locale;

import dev.doorbuster.app.StorefrontConfig.Routing;
import dev.doorbuster.proxy.ToxiproxyServer;
import eu.rekawek.toxiproxy.Proxy;
import eu.rekawek.toxiproxy.ToxiproxyClient;
import eu.rekawek.toxiproxy.model.ToxicDirection;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A pool timeout is not always a busy pool. When the primary goes silent behind its proxy (a black-holed link, a dead
 * host), the pool finds its idle connections dead when it checks them before lending them, and the new ones it opens
 * hang in the driver's login for up to {@link JdbcOptions#LOGIN_TIMEOUT_SECONDS} s: the request times out waiting,
 * as it would on a pool whose connections are all busy. HikariCP keeps the failure of that check as the timeout's
 * cause (PgJDBC's 08003), which is what lets the storefront answer "database unavailable" and not count exhaustion.
 * The oracle is the test's own schedule: no other request ran, so no connection can have been busy. The twin that
 * must still count exhaustion, every connection busy on a lock, is {@link PoolExhaustionTest}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class UnreachablePoolTest {
    private static final int POOL_SIZE = 2;
    private StorefrontFixture fixture;
    private ToxiproxyServer chaos;
    private Proxy writerLink;

    @BeforeAll
    void start() throws IOException {
        fixture = StorefrontFixture.start();
        chaos = ToxiproxyServer.start();
        URI api = URI.create(chaos.url());
        writerLink = new ToxiproxyClient(api.getHost(), api.getPort()).createProxy("writer", "127.0.0.1:0",
                "127.0.0.1:" + fixture.primary().port());
    }

    @AfterAll
    void stop() {
        try {
            if (chaos != null) {
                chaos.close();
            }
        } finally {
            if (fixture != null) {
                fixture.close();
            }
        }
    }

    @Test
    void aPoolThatLostItsConnectionsToABlackHoledPrimaryIsAnOutageNotExhaustion() throws Exception {
        Storefront app = fixture.app(b -> b.routing(Routing.PRIMARY).writerPoolSize(POOL_SIZE).poolTimeoutMs(300)
                .writerUrl("jdbc:postgresql://" + writerLink.getListen() + "/" + StorefrontFixture.DB));
        Http http = new Http(app.url());
        String order = "{\"userId\": 80, \"items\": [{\"productId\": 120, \"quantity\": 1}]}";
        assertEquals(201, http.post("/orders", order).status(), "the link works before the cut");
        StorefrontFixture.await("the writer pool full and idle", Duration.ofSeconds(10),
                () -> metric(http, "hikaricp_connections_idle{pool=\"writer\"}") == POOL_SIZE);

        // Every byte dropped both ways, no connection closed: the pool's connections go silent and new ones reach the
        // proxy and hang in the driver's login, as behind a dead primary's address.
        for (ToxicDirection direction : ToxicDirection.values()) {
            writerLink.toxics().timeout("black-hole-" + direction.name().toLowerCase(Locale.ROOT), direction, 0);
        }
        // Longer than HikariCP's 500 ms alive-bypass window: the pool checks its connections before lending them,
        // finds them silent, drops them and opens new ones.
        Thread.sleep(700);

        Http.Response answer = http.post("/orders", order);
        assertEquals(503, answer.status(), answer.body());
        assertEquals("database_unavailable", answer.error(), "no connection was busy: " + answer.body());
        String m = http.get("/metrics").body();
        assertEquals(0, Http.metric(m, "storefront_pool_exhausted_total{pool=\"writer\"}"), "not counted as exhaustion");
        assertTrue(Http.metric(m, "storefront_db_unavailable_total{pool=\"writer\"}") >= 1, "counted as an outage");
        assertTrue(Http.metric(m, "hikaricp_connections_timeout_total{pool=\"writer\"}") >= 1,
                "it was a pool timeout, the case the driver gives no SQLSTATE for");

        for (eu.rekawek.toxiproxy.model.Toxic toxic : writerLink.toxics().getAll()) {
            toxic.remove();
        }
        StorefrontFixture.await("orders accepted again once the link is back", Duration.ofSeconds(20),
                () -> http.post("/orders", order).status() == 201);
        assertEquals(0, metric(http, "storefront_pool_exhausted_total{pool=\"writer\"}"), "still none after the outage");
    }

    private static double metric(Http http, String series) {
        return Http.metric(http.get("/metrics").body(), series);
    }
}
