package dev.doorbuster.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.doorbuster.verdict.consistency.Observation;
import org.junit.jupiter.api.Test;

/**
 * What the storefront journeys read from an answer. An error answer is never a read of the key (so never a
 * stale read); a "not found" of the key is a read of its absence; another user's cart or order behind a
 * reused id is the absence of this shopper's.
 */
class StorefrontAnswersTest {
    private static final String POOL_EXHAUSTED = "{\"error\":\"pool_exhausted\",\"message\":\"No reader connection\","
            + "\"pool\":\"reader\"}";
    private static final String NOT_FOUND = "{\"error\":\"not_found\",\"message\":\"Cart 4 does not exist.\"}";

    @Test
    void anErrorAnswerIsNeverARead() {
        for (Consistency.Answer error : new Consistency.Answer[] {
                answer(503, POOL_EXHAUSTED), answer(500, "{\"error\":\"internal_error\",\"message\":\"x\"}"),
                answer(502, "<html>Bad Gateway</html>"), answer(404, "<html>404 from a proxy</html>"),
                answer(200, POOL_EXHAUSTED), answer(200, ""), answer(200, "[1, 2]"), answer(409, NOT_FOUND)}) {
            assertNull(StorefrontJourneys.profile(error), error.toString());
            assertNull(StorefrontJourneys.cartOf(error, 9), error.toString());
            assertNull(StorefrontJourneys.orderOf(error, "k1"), error.toString());
            assertNull(StorefrontJourneys.myOrdersOf(error, "k1"), error.toString());
        }
    }

    @Test
    void notFoundIsAReadOfAbsence() {
        assertEquals(Observation.absent(), StorefrontJourneys.profile(answer(404, NOT_FOUND)));
        assertEquals(Observation.absent(), StorefrontJourneys.cartOf(answer(404, NOT_FOUND), 9));
        assertEquals(Observation.absent(), StorefrontJourneys.orderOf(answer(404, NOT_FOUND), "k1"));
    }

    @Test
    void keysAreReadByTheirClientChosenIdentity() {
        assertEquals(Observation.of(6, "Shopper 9 db-1-3"), StorefrontJourneys.profile(answer(200,
                "{\"id\":9,\"name\":\"Shopper 9 db-1-3\",\"email\":\"u@x.test\",\"version\":6}")));
        String cart = "{\"id\":4,\"userId\":9,\"status\":\"open\",\"items\":[{\"productId\":7,\"quantity\":2},"
                + "{\"productId\":3,\"quantity\":1}]}";
        assertEquals(Observation.of(3, "p3x1,p7x2"), StorefrontJourneys.cartOf(answer(200, cart), 9));
        assertEquals(Observation.absent(), StorefrontJourneys.cartOf(answer(200, cart), 10),
                "cart 4 of another user: this shopper's cart 4 is gone (its id was handed out again)");
        assertEquals(Observation.of(0, ""), StorefrontJourneys.cartOf(answer(201,
                "{\"id\":4,\"userId\":9,\"status\":\"open\",\"items\":[]}"), 9), "a created cart is empty, not absent");
        String order = "{\"id\":20032,\"userId\":9,\"idempotencyKey\":\"k1\",\"status\":\"placed\",\"lines\":[]}";
        assertEquals(Observation.of(1, "k1"), StorefrontJourneys.orderOf(answer(200, order), "k1"));
        assertEquals(Observation.absent(), StorefrontJourneys.orderOf(answer(200, order), "k2"),
                "order 20032 holding someone else's key is not this shopper's order 20032");
        assertEquals(Observation.of(1, "k1"), StorefrontJourneys.myOrdersOf(answer(200,
                "{\"orders\":[{\"id\":5,\"idempotencyKey\":null},{\"id\":20032,\"idempotencyKey\":\"k1\"}]}"), "k1"));
        assertEquals(Observation.absent(), StorefrontJourneys.myOrdersOf(answer(200, "{\"orders\":[]}"), "k1"));
    }

    private static Consistency.Answer answer(int status, String body) {
        return new Consistency.Answer(status, body, "replica");
    }
}
