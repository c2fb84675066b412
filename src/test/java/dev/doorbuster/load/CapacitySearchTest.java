package dev.doorbuster.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.DoublePredicate;

import dev.doorbuster.verdict.Capacity;
import dev.doorbuster.verdict.CheckResult;
import dev.doorbuster.verdict.GeneratorHealth;
import dev.doorbuster.verdict.Phase;
import dev.doorbuster.verdict.Verdict;
import dev.doorbuster.verdict.VerdictAssembly;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The search's arithmetic against services whose limit the test knows (the forked control runs it on the real stack):
 * the climb, the bisection to the resolution, a noisy plateau, a first plateau already over the limit, a generator
 * that falls behind first, the time bound; and how a plateau's verdict becomes PASS, FAIL or INCONCLUSIVE.
 */
class CapacitySearchTest {
    @AfterEach
    void clear() {
        for (String p : List.of(CapacitySearch.MODE, CapacitySearch.WARM_UP, CapacitySearch.GROWTH)) {
            System.clearProperty(p);
        }
    }

    /** A service that passes below {@code limit} shoppers/s, failing {@code check} above it; records the rates tried. */
    private static final class Service implements CapacitySearch.Trial {
        final List<Double> tried = new ArrayList<>();
        final DoublePredicate passes;
        final String check;

        Service(DoublePredicate passes, String check) {
            this.passes = passes;
            this.check = check;
        }

        @Override
        public Capacity.Plateau run(int index, String purpose, double rate) {
            tried.add(rate);
            boolean ok = passes.test(rate);
            return new Capacity.Plateau(index, purpose, rate, rate * 4, ok ? 80 : 900, 0,
                    ok ? Capacity.Outcome.PASS : Capacity.Outcome.FAIL, ok ? List.of() : List.of(check),
                    ok ? null : "FAIL " + check + " at " + rate, "plateau-" + index);
        }
    }

    private static CapacitySearch.Settings settings(double start, int maxPlateaus) {
        return new CapacitySearch.Settings(start, 2, 5, maxPlateaus, 0);
    }

    @Test
    void climbsGeometricallyThenBisectsToTheResolution() throws Exception {
        Service service = new Service(rate -> rate <= 137, "p99");
        Capacity capacity = CapacitySearch.search(settings(10, 20), service);
        assertEquals(List.of(10.0, 20.0, 40.0, 80.0, 160.0), service.tried.subList(0, 5), "doubling until one fails");
        assertTrue(capacity.capacityRate() <= 137 && capacity.capacityRate() >= 137 / 1.05,
                "within 5 % below the true limit: " + capacity.capacityRate());
        assertTrue(capacity.limitedAtRate() > 137 && capacity.limitedAtRate() <= capacity.capacityRate() * 1.05 + 0.1,
                capacity.limitedAtRate() + " over " + capacity.capacityRate());
        assertEquals("p99", capacity.limitedBy());
        assertFalse(capacity.limitedByGenerator());
        assertTrue(capacity.resolutionPercent() <= 5, capacity.toString());
        assertEquals(capacity.capacityRate() * 4, capacity.capacityRequestsPerSecond(), 1e-9);
        assertTrue(capacity.summary().startsWith("capacity " + Math.round(capacity.capacityRate()) + " shoppers/s ("),
                capacity.summary());
        assertTrue(capacity.summary().contains("limited by `p99` at "), capacity.summary());
        assertTrue(service.tried.stream().allMatch(r -> r > 0), "never a rate of zero");
    }

    @Test
    void aFirstPlateauAlreadyOverTheLimitNarrowsDownward() throws Exception {
        Service service = new Service(rate -> rate <= 30, "stock invariant");
        Capacity capacity = CapacitySearch.search(settings(200, 20), service);
        assertEquals(List.of(200.0, 100.0, 50.0, 25.0), service.tried.subList(0, 4));
        assertTrue(capacity.capacityRate() > 25 && capacity.capacityRate() <= 30, capacity.toString());
        assertEquals("stock invariant", capacity.limitedBy());
    }

    @Test
    void aNoisyFailureBelowAPassLowersTheCapacityNeverRaisesIt() {
        List<Capacity.Plateau> plateaus = List.of(plateau(1, 50, true), plateau(2, 100, false), plateau(3, 70, true),
                plateau(4, 84, true), plateau(5, 92, false), plateau(6, 84, false)); // the repeat at 84 failed
        Capacity capacity = Capacity.of(plateaus);
        assertEquals(70, capacity.capacityRate(), "the highest pass below the lowest failure (84)");
        assertEquals(84, capacity.limitedAtRate());
        assertEquals(20.0, capacity.resolutionPercent());
    }

    @Test
    void whenTheGeneratorFallsBehindFirstTheAnswerSaysSo() throws Exception {
        CapacitySearch.Trial generatorBound = (index, purpose, rate) -> rate <= 60
                ? plateau(index, rate, true)
                : new Capacity.Plateau(index, purpose, rate, rate * 4, Double.NaN, 0, Capacity.Outcome.INCONCLUSIVE,
                        List.of(GeneratorHealth.CHECK), "FAIL load generator kept up: behind", "p");
        Capacity capacity = CapacitySearch.search(settings(10, 20), generatorBound);
        assertTrue(capacity.limitedByGenerator());
        assertTrue(capacity.summary().contains("limited by the load generator at ")
                && capacity.summary().contains("add injectors or cores"), capacity.summary());
    }

    @Test
    void theSearchStopsAtItsPlateauBound() throws Exception {
        Service service = new Service(rate -> true, "p99");
        Capacity capacity = CapacitySearch.search(settings(1, 4), service);
        assertEquals(4, service.tried.size());
        assertNull(capacity.limitedBy());
        assertNull(capacity.resolutionPercent());
        assertEquals(8, capacity.capacityRate());
        assertTrue(capacity.summary().contains("every plateau passed"), capacity.summary());
    }

    @Test
    void nothingPassingIsNoCapacityNotAGuess() throws Exception {
        Service service = new Service(rate -> false, "error rate");
        Capacity capacity = CapacitySearch.search(settings(8, 5), service);
        assertEquals(0, capacity.capacityRate());
        assertEquals(5, service.tried.size());
        assertTrue(capacity.summary().startsWith("no capacity found"), capacity.summary());
        assertEquals("error rate", capacity.limitedBy());
    }

    @Test
    void aPlateauIsItsWholeLengthWithARampedWarmUpThatIsNotJudgedThenOneRate() {
        LoadProfile spike = new LoadProfile().hold("baseline", 5, Duration.ofSeconds(20)).hold("spike", 50,
                Duration.ofSeconds(40));
        LoadProfile plateau = CapacitySearch.plateau(spike, 12.5);
        assertEquals(Duration.ofSeconds(60), plateau.total());
        assertEquals(List.of(new Phase(Phase.WARM_UP, 0, 20), new Phase("plateau", 20, 60)), plateau.phases());
        assertEquals(12.5, plateau.peakRate());
        assertEquals(new LoadProfile.Step(Phase.WARM_UP, 1.25, 12.5, Duration.ofSeconds(20)), plateau.steps().get(0),
                "the warm-up ramps up from a tenth of the rate");
        assertEquals(new LoadProfile.Step("plateau", 12.5, 12.5, Duration.ofSeconds(40)), plateau.steps().get(1));
        assertEquals(20, Phase.judgedFrom(plateau.phases()));

        System.setProperty(CapacitySearch.WARM_UP, "31");
        IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class,
                () -> CapacitySearch.plateau(spike, 1));
        assertTrue(tooLong.getMessage().contains("-Dcapacity.warmupSeconds=31") && tooLong.getMessage()
                .contains("-Dload.minutes"), tooLong.getMessage());
    }

    @Test
    void badSettingsAreRefusedByName() {
        System.setProperty(CapacitySearch.MODE, "find");
        IllegalArgumentException mode = assertThrows(IllegalArgumentException.class, CapacitySearch::mode);
        assertTrue(mode.getMessage().contains("-Dcapacity=find is not one of off, search, plateau"), mode.getMessage());
        System.setProperty(CapacitySearch.MODE, "SEARCH");
        assertEquals(CapacitySearch.Mode.SEARCH, CapacitySearch.mode());
        IllegalArgumentException growth = assertThrows(IllegalArgumentException.class,
                () -> new CapacitySearch.Settings(10, 1, 5, 12, 0));
        assertTrue(growth.getMessage().contains("-Dcapacity.growth=1.0 must be more than 1"), growth.getMessage());
        IllegalArgumentException resolution = assertThrows(IllegalArgumentException.class,
                () -> new CapacitySearch.Settings(10, 2, 0.1, 12, 0));
        assertTrue(resolution.getMessage().contains("-Dcapacity.resolutionPercent=0.1 must be between 0.5 and 100"),
                resolution.getMessage());
        IllegalArgumentException plateaus = assertThrows(IllegalArgumentException.class,
                () -> new CapacitySearch.Settings(10, 2, 5, 1, 0));
        assertTrue(plateaus.getMessage().contains("-Dcapacity.maxPlateaus=1 must be at least 2"), plateaus.getMessage());
        System.setProperty(CapacitySearch.GROWTH, "fast");
        IllegalArgumentException notANumber = assertThrows(IllegalArgumentException.class,
                () -> CapacitySearch.Settings.fromParameters(10));
        assertTrue(notANumber.getMessage().contains("-Dcapacity.growth=fast is not a positive number"),
                notANumber.getMessage());
    }

    @Test
    void aPlateauFailsOnTheServicesChecksAndIsInconclusiveOnlyWhenTheGeneratorAloneFailed() {
        CheckResult generator = new CheckResult(GeneratorHealth.CHECK, 99, 60, "%", false, "behind at seconds 3-9");
        CheckResult notJudged = new CheckResult(VerdictAssembly.NOT_JUDGED, 0, 3, "checks", false, "3 not judged");
        CheckResult stock = new CheckResult("stock invariant", 0, 4, "units", false, "4 units oversold");
        CheckResult p99 = new CheckResult("p99", 2000, 180, "ms", true, "fine");

        Capacity.Plateau behind = PlateauRuns.judge(1, "grow", 40, verdict(false, generator, notJudged, p99), "f");
        assertEquals(Capacity.Outcome.INCONCLUSIVE, behind.outcome());
        assertEquals(GeneratorHealth.CHECK, behind.failedChecks().get(0));

        Capacity.Plateau oversold = PlateauRuns.judge(2, "grow", 40, verdict(false, generator, notJudged, stock, p99),
                "f");
        assertEquals(Capacity.Outcome.FAIL, oversold.outcome(), "correctness does not depend on the generator");
        assertEquals(List.of("stock invariant"), oversold.failedChecks());
        assertEquals(stock.line(), oversold.witness());

        Capacity.Plateau fine = PlateauRuns.judge(3, "grow", 40, verdict(true, p99), "f");
        assertEquals(Capacity.Outcome.PASS, fine.outcome());
        assertEquals(180, fine.p99Ms());
        assertEquals(12.5, fine.requestsPerSecond(), "500 requests in 40 s");
    }

    private static Verdict verdict(boolean passed, CheckResult... checks) {
        Verdict v = Verdict.of("S", "local", "2026-12-06T00:00:00Z", 40, List.of(checks), 500, 0, null, null, null,
                List.of());
        assertEquals(passed, v.passed());
        return v;
    }

    private static Capacity.Plateau plateau(int index, double rate, boolean passed) {
        return new Capacity.Plateau(index, "grow", rate, rate * 4, passed ? 100 : 900, 0,
                passed ? Capacity.Outcome.PASS : Capacity.Outcome.FAIL, passed ? List.of() : List.of("p99"),
                passed ? null : "FAIL p99", "p");
    }
}
