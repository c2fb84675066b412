package dev.doorbuster.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The read-after-write judgement on a cart read: a hit, a miss, or not a read of the cart at all. */
class StorefrontJourneysTest {
    @Test
    void cartReadIsJudgedOnlyWhenItIsACart() {
        assertEquals(Boolean.TRUE, StorefrontJourneys.cartHolds(
                "{\"id\": 4, \"userId\": 9, \"items\": [{\"productId\": 7, \"quantity\": 1}]}", 7));
        assertEquals(Boolean.FALSE, StorefrontJourneys.cartHolds("{\"id\": 4, \"userId\": 9, \"items\": []}", 7));
        assertNull(StorefrontJourneys.cartHolds(
                "{\"error\": \"pool_exhausted\", \"message\": \"...\", \"pool\": \"reader\"}", 7), "an error is not a stale read");
        assertNull(StorefrontJourneys.cartHolds("<html>502</html>", 7));
        assertNull(StorefrontJourneys.cartHolds("", 7));
    }

    @Test
    void violationsAreCountedWithTheirSecond() {
        int[] now = {3};
        ReadAfterWrite raw = new ReadAfterWrite(() -> now[0]);
        raw.check(true);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> raw.check(false));
        assertEquals(ReadAfterWrite.STALE, e.getMessage());
        assertEquals(2, raw.reads());
        assertEquals(1, raw.violations());
        assertEquals(java.util.List.of(3), raw.violationSeconds());
    }
}
