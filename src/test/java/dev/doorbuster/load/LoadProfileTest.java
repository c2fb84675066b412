package dev.doorbuster.load;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import io.gatling.core.controller.inject.open.RampRateOpenInjection;
import scala.collection.Iterator;
import scala.concurrent.duration.FiniteDuration;

class LoadProfileTest {

    @Test
    void aRampShorterThanASecondIsRefusedNamingThePhaseAndTheFix() {
        LoadProfile profile = new LoadProfile().hold("baseline", 2, Duration.ofMillis(240))
                .rampTo("spike", 30, Duration.ofMillis(240));
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, profile::requireInjectable);
        assertEquals("phase 'spike' ramps from 2.0 to 30.0 users/s in 240 ms, but Gatling needs at least 1 s to ramp a "
                + "rate; give the load more time (-Dload.minutes)", refused.getMessage());
    }

    @Test
    void shortHoldsAndOneSecondRampsAreAccepted() {
        LoadProfile profile = new LoadProfile().hold("baseline", 2, Duration.ofMillis(240))
                .rampTo("spike", 30, LoadProfile.SHORTEST_RAMP).hold("peak", Duration.ofMillis(300));
        assertDoesNotThrow(profile::requireInjectable);
        assertEquals(3, profile.injection().length);
    }

    /**
     * The oracle is Gatling's own injector, not this class: the shortest ramp it can chain is the one the profile
     * accepts, and the longest it cannot is refused. If a Gatling upgrade changes that, this test says so.
     */
    @Test
    void theRuleIsGatlingsOwn() {
        assertThrows(ArithmeticException.class, () -> usersGatlingInjects(Duration.ofMillis(999)));
        assertTrue(usersGatlingInjects(LoadProfile.SHORTEST_RAMP) > 0);
        LoadProfile accepted = new LoadProfile().hold("a", 2, Duration.ofSeconds(1)).rampTo("b", 30, LoadProfile.SHORTEST_RAMP);
        LoadProfile refused = new LoadProfile().hold("a", 2, Duration.ofSeconds(1)).rampTo("b", 30, Duration.ofMillis(999));
        assertDoesNotThrow(accepted::requireInjectable);
        assertThrows(IllegalArgumentException.class, refused::requireInjectable);
    }

    /**
     * The schedule a generator is held to is Gatling's: as many arrivals as Gatling's steps say they inject, in order,
     * within the profile's length, spaced as the rate says (a hold at 10 users/s: 100 ms apart; the ramp: closer
     * together as it climbs).
     */
    @Test
    void theArrivalScheduleIsTheOneGatlingInjects() {
        LoadProfile profile = new LoadProfile().hold("baseline", 10, Duration.ofSeconds(3))
                .rampTo("spike", 50, Duration.ofSeconds(4)).hold("peak", Duration.ofSeconds(2));
        long gatlingUsers = java.util.Arrays.stream(profile.injection()).mapToLong(step -> step.asScala().users()).sum();
        java.util.List<Long> offsets = new java.util.ArrayList<>();
        profile.arrivals().forEachRemaining((long micros) -> offsets.add(micros));
        assertEquals(gatlingUsers, offsets.size());
        assertEquals(profile.expectedUsers(), offsets.size(), 1.0);
        for (int i = 1; i < offsets.size(); i++) {
            assertTrue(offsets.get(i) >= offsets.get(i - 1), "ascending at " + i);
        }
        assertTrue(offsets.get(offsets.size() - 1) < profile.total().toNanos() / 1000);
        assertEquals(100_000, offsets.get(1) - offsets.get(0), "a hold at 10 users/s: 100 ms apart");
        assertEquals(30, offsets.stream().filter(o -> o < 3_000_000).count(), "3 s at 10 users/s");
        assertEquals(100, offsets.stream().filter(o -> o >= 7_000_000).count(), "2 s at 50 users/s");
    }

    /** How many arrivals Gatling schedules for a ramp from 2 to 30 users/s over {@code length}. */
    private static int usersGatlingInjects(Duration length) {
        RampRateOpenInjection ramp = new RampRateOpenInjection(2.0, 30.0,
                new FiniteDuration(length.toMillis(), TimeUnit.MILLISECONDS));
        Iterator<FiniteDuration> arrivals = ramp.chain(Iterator.empty());
        int users = 0;
        while (arrivals.hasNext() && users < 10_000) {
            arrivals.next();
            users++;
        }
        return users;
    }
}
