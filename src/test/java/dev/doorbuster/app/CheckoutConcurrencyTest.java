package dev.doorbuster.app;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Black-Friday doorbusters: many clients race for little stock. Whatever the interleaving, exactly the
 * stock is sold, every loser gets 409 out_of_stock, and the database agrees with the answers.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CheckoutConcurrencyTest {
    private StorefrontFixture fixture;
    private Http http;

    @BeforeAll
    void start() {
        fixture = StorefrontFixture.start();
        // Generous pool wait: this test is about overselling, not about overload (PoolExhaustionTest is).
        Storefront app = fixture.app(b -> b.writerPoolSize(10).httpThreads(64).poolTimeoutMs(8000)
                .requestTimeoutMs(15000));
        http = new Http(app.url());
    }

    @AfterAll
    void stop() {
        if (fixture != null) {
            fixture.close();
        }
    }

    @Test
    void fiftyParallelOrdersForTenItemsSellExactlyTen() throws Exception {
        fixture.sql(fixture.primary(), "UPDATE products SET stock = 10 WHERE id = 101");
        long lastOrder = lastOrderId();
        Map<Integer, Integer> statuses = race(50, "out_of_stock", i -> http.post("/orders",
                "{\"userId\": " + (200 + i) + ", \"items\": [{\"productId\": 101, \"quantity\": 1}]}"));

        assertEquals(Map.of(201, 10, 409, 40), statuses);
        assertEquals(0, fixture.value(fixture.primary(), Integer.class, "SELECT stock FROM products WHERE id = 101"));
        assertEquals(10L, fixture.value(fixture.primary(), Long.class,
                "SELECT sum(quantity) FROM order_lines l JOIN orders o ON o.id = l.order_id "
                        + "WHERE l.product_id = 101 AND o.id > ?", lastOrder));
    }

    @Test
    void ordersOverlappingInOppositeOrderNeitherDeadlockNorOversell() throws Exception {
        fixture.sql(fixture.primary(), "UPDATE products SET stock = 15 WHERE id IN (102, 103)");
        long lastOrder = lastOrderId();
        Map<Integer, Integer> statuses = race(40, "out_of_stock", i -> http.post("/orders", i % 2 == 0
                ? "{\"userId\": 300, \"items\": [{\"productId\": 102, \"quantity\": 1}, {\"productId\": 103, \"quantity\": 1}]}"
                : "{\"userId\": 301, \"items\": [{\"productId\": 103, \"quantity\": 1}, {\"productId\": 102, \"quantity\": 1}]}"));

        assertEquals(Map.of(201, 15, 409, 25), statuses);
        assertEquals(0L, fixture.value(fixture.primary(), Long.class,
                "SELECT sum(stock) FROM products WHERE id IN (102, 103)"));
        assertEquals(15L, fixture.value(fixture.primary(), Long.class,
                "SELECT count(*) FROM orders WHERE user_id IN (300, 301) AND id > ?", lastOrder));
    }

    @Test
    void aCartIsCheckedOutOnceEvenWhenTenCheckoutsRace() throws Exception {
        long cart = http.post("/carts", "{\"userId\": 302}").json().get("id").asLong();
        http.post("/carts/" + cart + "/items", "{\"productId\": 104, \"quantity\": 1}");
        int before = fixture.value(fixture.primary(), Integer.class, "SELECT stock FROM products WHERE id = 104");

        Map<Integer, Integer> statuses = race(10, "conflict", i -> http.post("/orders", "{\"cartId\": " + cart + "}"));

        assertEquals(Map.of(201, 1, 409, 9), statuses);
        assertEquals(before - 1, fixture.value(fixture.primary(), Integer.class, "SELECT stock FROM products WHERE id = 104"));
    }

    private long lastOrderId() {
        return fixture.value(fixture.primary(), Long.class, "SELECT coalesce(max(id), 0) FROM orders");
    }

    /**
     * Fires {@code n} requests at once (released together by a latch); returns status → count. Every 409
     * must carry {@code conflictCode}: a 409 "conflict" from the CHECK (stock >= 0) constraint would mean
     * the checkout logic let an oversell through to the database.
     */
    private static Map<Integer, Integer> race(int n, String conflictCode, IntFunction<Http.Response> request)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Http.Response>> results = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int id = i;
                results.add(pool.submit(() -> {
                    go.await();
                    return request.apply(id);
                }));
            }
            go.countDown();
            Map<Integer, Integer> statuses = new TreeMap<>();
            for (Future<Http.Response> f : results) {
                Http.Response r = f.get(60, TimeUnit.SECONDS);
                if (r.status() == 409 && !conflictCode.equals(r.error())) {
                    throw new AssertionError("unexpected 409: " + r);
                }
                if (r.status() >= 500) {
                    throw new AssertionError("server error under contention: " + r);
                }
                statuses.merge(r.status(), 1, Integer::sum);
            }
            return statuses;
        } finally {
            pool.shutdownNow();
        }
    }
}
