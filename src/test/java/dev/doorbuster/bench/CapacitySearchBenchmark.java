package dev.doorbuster.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import dev.doorbuster.load.ForkedGatling;
import dev.doorbuster.topology.EnvironmentLoader;
import dev.doorbuster.verdict.Capacity;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The capacity search's controls, on the real local stack (minutes each: benchmarks, not CI).
 * <ul>
 *   <li>Side by side with the stepped {@link CapacitySimulation} (one warm stack; p99 and errors per step from the
 *       recorder, and the load generator's health in the step's judged seconds): the search's capacity must lie
 *       within 15 % of the stepped run's bracket, the last step within budget and the first over it.</li>
 *   <li>A checkout that oversells ({@code --stock-locking none}): the search must name the stock invariant, not p99,
 *       as the limit, and the limiting plateau's own p99 must have passed.</li>
 * </ul>
 * Run: {@code mvn -B -Pbench test -Dtest=CapacitySearchBenchmark}.
 */
@Tag("bench")
@Timeout(value = 40, unit = TimeUnit.MINUTES)
class CapacitySearchBenchmark {
    private static final Pattern STEP = Pattern.compile(
            "\\[capacity] rate-(\\d+) req/s=([\\d.]+) p99ms=([\\d.]+) p50ms=([\\d.]+) errors=([\\d.]+)%");
    /** Steps 15 % apart, over the range this machine's knee is in (see docs/BENCHMARKS.md). */
    private static final List<Integer> STEPS = List.of(100, 115, 132, 152, 175, 201, 231, 266, 306, 352, 405, 465,
            535);
    private static final int STEP_SECONDS = 20;

    @Test
    void theSearchFindsTheKneeTheSteppedRunFindsWithin15Percent() throws Exception {
        var slo = new EnvironmentLoader(Path.of("environments"), new java.util.Properties()).load("local").slo();
        Path home = home();
        ForkedGatling.Result stepped = ForkedGatling.start(CapacitySimulation.class.getName(),
                Files.createTempDirectory("capacity-steps"), home, Map.of("bench.rates", STEPS.stream()
                        .map(String::valueOf).collect(Collectors.joining(",")), "bench.stepSeconds",
                        Integer.toString(STEP_SECONDS),
                        ForkedGatling.QUICK_JVM, "false")).await(Duration.ofMinutes(12));
        int lastWithin = 0;
        int firstOver = 0;
        List<String> rows = new ArrayList<>();
        Matcher m = STEP.matcher(stepped.output());
        // A step whose judged seconds had the generator behind is not within budget either: its latency was the
        // generator's as much as the service's (the first version of this benchmark ignored it and put the stepped
        // knee at 306-352/s, where the machine's CPU was at 100 % and a third of the arrivals started late).
        List<Integer> behind = stepped.verdict().generator().behind(slo);
        int step = 0;
        while (m.find()) {
            int rate = Integer.parseInt(m.group(1));
            int from = step * STEP_SECONDS + STEP_SECONDS / 3; // the step's last two thirds, as its own figures
            int to = (step + 1) * STEP_SECONDS;
            step++;
            boolean generatorBehind = behind.stream().anyMatch(sec -> sec >= from && sec < to);
            boolean within = Double.parseDouble(m.group(3)) <= slo.p99Ms()
                    && Double.parseDouble(m.group(5)) <= slo.errorRatePercent() && !generatorBehind;
            rows.add(rate + ": " + (within ? "within" : "over") + " (p99 " + m.group(3) + " ms"
                    + (generatorBehind ? ", generator behind" : "") + ")");
            if (within && firstOver == 0) {
                lastWithin = rate;
            } else if (!within && firstOver == 0) {
                firstOver = rate;
            }
        }
        assertTrue(lastWithin > 0 && firstOver > 0, "the stepped run brackets the knee: " + rows);

        ForkedGatling.Result search = ForkedGatling.start("CapacitySimulation", Files.createTempDirectory(
                "capacity-search"), home, Map.of("capacity.startRate", "100", ForkedGatling.QUICK_JVM, "false"))
                .await(Duration.ofMinutes(25));
        Capacity capacity = search.verdict().capacity();
        assertNotNull(capacity, search.output());
        double found = capacity.capacityRate();
        BenchReport.record("capacity search vs stepped capacity (Black Friday mix, no faults)", "stepped: last within "
                + "budget " + lastWithin + ", first over " + firstOver + " shoppers/s; search: " + capacity.summary()
                + " in " + capacity.plateaus().size() + " plateaus");
        assertTrue(found >= 0.85 * lastWithin && found <= 1.15 * firstOver, "search " + found + " vs stepped ["
                + lastWithin + ", " + firstOver + "]: " + rows);
    }

    @Test
    void anOversellingCheckoutIsLimitedByTheStockInvariantNotP99() throws Exception {
        ForkedGatling.Result search = ForkedGatling.start("CapacitySimulation", Files.createTempDirectory(
                "capacity-oversell"), home(), Map.of("app.stockLocking", "none", "doorbusters.stock", "40",
                "capacity.startRate", "5", "capacity.resolutionPercent", "20", ForkedGatling.QUICK_JVM, "false"))
                .await(Duration.ofMinutes(25));
        Capacity capacity = search.verdict().capacity();
        assertNotNull(capacity, search.output());
        assertEquals("stock invariant", capacity.limitedBy(), capacity.summary());
        assertFalse(capacity.limitedByGenerator());
        Capacity.Plateau limit = capacity.plateaus().stream().filter(p -> p.rate() == capacity.limitedAtRate())
                .findFirst().orElseThrow();
        assertTrue(limit.p99Ms() <= new EnvironmentLoader(Path.of("environments"), new java.util.Properties())
                .load("local").slo().p99Ms(), "p99 was within budget where the stock broke: " + limit);
        BenchReport.record("capacity search, checkout without its stock lock", capacity.summary());
    }

    private static Path home() throws java.io.IOException {
        Path home = Files.createTempDirectory(Path.of("/var/tmp"), "doorbuster-capacity-");
        Files.setPosixFilePermissions(home, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        return home;
    }
}
