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

import dev.doorbuster.load.ControlRuns;
import dev.doorbuster.load.ForkedGatling;
import dev.doorbuster.topology.EnvironmentLoader;
import dev.doorbuster.verdict.Capacity;
import dev.doorbuster.verdict.Verdict;
import org.junit.jupiter.api.AfterEach;
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
 *       as the limit, and the limiting plateau's own p99 must have passed; each plateau's database rows must show
 *       exactly the units its verdict says were oversold.</li>
 * </ul>
 * Run: {@code mvn -B -Pbench test -Dtest=CapacitySearchBenchmark}.
 */
@Tag("bench")
@Timeout(value = 75, unit = TimeUnit.MINUTES)
class CapacitySearchBenchmark {
    private static final Pattern STEP = Pattern.compile(
            "\\[capacity] rate-(\\d+) req/s=([\\d.]+) p99ms=([\\d.]+) p50ms=([\\d.]+) errors=([\\d.]+)%");
    /**
     * Steps 15 % apart over the range this machine's knee has been in (352-465 shoppers/s in 2026-12 runs, see
     * docs/BENCHMARKS.md), each a minute long so that its judged part (the last 40 s) is about as long as a plateau's
     * (80 s of 2 min): 20 s steps judged on 13 s let a queue that builds for longer pass, and put the knee 20 % above
     * the search's (405-465 against 322 in one run). The first step, 100/s, warms the cold stack: a run that began at
     * 200/s had its first step over budget (p99 3.4 s, the generator behind) and within budget from 230 to 463.
     */
    private static final List<Integer> STEPS = List.of(100, 200, 230, 265, 304, 350, 402, 463, 532, 612, 704);
    private static final int STEP_SECONDS = 60;
    /**
     * The search's plateaus: 2 minutes by default ({@code -Dbench.plateauMinutes}). The controls' 21 s plateaus on a
     * fresh stack measured the stack's start-up (capacity 183-200 against a stepped knee of 405-465 on this machine).
     */
    private static final String PLATEAU_MINUTES = System.getProperty("bench.plateauMinutes", "2");

    @Test
    void theSearchFindsTheKneeTheSteppedRunFindsWithin15Percent() throws Exception {
        var slo = new EnvironmentLoader(Path.of("environments"), new java.util.Properties()).load("local").slo();
        Path home = home();
        ForkedGatling.Result stepped = ForkedGatling.start(CapacitySimulation.class.getName(),
                Files.createTempDirectory("capacity-steps"), home, Map.of("bench.rates", STEPS.stream()
                        .map(String::valueOf).collect(Collectors.joining(",")), "bench.stepSeconds",
                        Integer.toString(STEP_SECONDS),
                        ForkedGatling.QUICK_JVM, "false")).await(Duration.ofMinutes(16));
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
            } else if (!within && firstOver == 0 && lastWithin > 0) {
                // Steps over budget before any within it are the cold stack's start, not the knee (they stay in the
                // rows); a stack over budget at every rate brackets nothing and fails below.
                firstOver = rate;
            }
        }
        assertTrue(lastWithin > 0 && firstOver > 0, "the stepped run brackets the knee: " + rows);

        ForkedGatling.Result search = ForkedGatling.start("CapacitySimulation", Files.createTempDirectory(
                "capacity-search"), home, Map.of("capacity.startRate", "100", "load.minutes", PLATEAU_MINUTES,
                ForkedGatling.QUICK_JVM, "false")).await(Duration.ofMinutes(45));
        Capacity capacity = search.verdict().capacity();
        assertNotNull(capacity, search.output());
        double found = capacity.capacityRate();
        BenchReport.record("capacity search vs stepped capacity (Black Friday mix, no faults)", "stepped: last within "
                + "budget " + lastWithin + ", first over " + firstOver + " shoppers/s; search: " + capacity.summary()
                + " in " + capacity.plateaus().size() + " plateaus; the steps: " + rows);
        assertTrue(found >= 0.85 * lastWithin && found <= 1.15 * firstOver, "search " + found + " vs stepped ["
                + lastWithin + ", " + firstOver + "]: " + rows);
    }

    /** The overselling control's doorbuster deals (products 1..DEALS), and the units each starts with. */
    private static final int DEALS = 3;
    private static final long DEAL_STOCK = 40;

    @Test
    void anOversellingCheckoutIsLimitedByTheStockInvariantNotP99() throws Exception {
        Path home = home();
        Path reports = Files.createTempDirectory("capacity-oversell");
        ForkedGatling.Result search = ForkedGatling.start("CapacitySimulation", reports, home, Map.of(
                "app.stockLocking", "none", "doorbusters.count", Integer.toString(DEALS), "doorbusters.stock",
                Long.toString(DEAL_STOCK), "postgres.keepData", "true", "capacity.startRate", "5",
                "capacity.resolutionPercent", "20", ForkedGatling.QUICK_JVM, "false")).await(Duration.ofMinutes(25));
        Capacity capacity = search.verdict().capacity();
        assertNotNull(capacity, search.output());
        assertEquals("stock invariant", capacity.limitedBy(), capacity.summary());
        assertFalse(capacity.limitedByGenerator());
        Capacity.Plateau limit = capacity.plateaus().stream().filter(p -> p.rate() == capacity.limitedAtRate())
                .findFirst().orElseThrow();
        assertTrue(limit.p99Ms() <= new EnvironmentLoader(Path.of("environments"), new java.util.Properties())
                .load("local").slo().p99Ms(), "p99 was within budget where the stock broke: " + limit);

        // The oracle: each plateau's own database. Every plateau (and then the confirming run) kept its primary's data
        // folder, oldest first; the units in placed orders beyond what left each deal's stock are what it oversold,
        // counted by SQL on the rows, not by the verdict. The plateau that limits the capacity oversold by the rows'
        // word, every plateau counted exactly what its rows hold, and none that passed oversold a deal.
        List<Path> kept = ControlRuns.keptRuns(home);
        assertEquals(capacity.plateaus().size() + 1, kept.size(), "a kept primary per plateau and the confirming run: "
                + kept);
        List<String> rows = new ArrayList<>();
        for (Capacity.Plateau plateau : capacity.plateaus()) {
            List<ControlRuns.ProductRows> deals = ControlRuns.productRowsOf(kept.get(plateau.index() - 1), DEALS);
            Verdict verdict = Verdict.readJson(reports.resolve(plateau.folder()).resolve(Verdict.JSON_FILE));
            assertEquals(DEALS, verdict.stock().doorbusters().size(), "the verdict audits every deal");
            long inRows = 0;
            for (ControlRuns.ProductRows deal : deals) { // deal by deal: the same units, not only the same total
                long seen = verdict.stock().doorbusters().stream().filter(p -> p.product() == deal.product())
                        .findFirst().orElseThrow(() -> new AssertionError("no verdict figures for " + deal)).oversold();
                assertEquals(deal.oversold(DEAL_STOCK), seen, "plateau " + plateau.index() + " at " + plateau.rate()
                        + " shoppers/s, deal " + deal);
                inRows += deal.oversold(DEAL_STOCK);
            }
            rows.add(plateau.rate() + "/s " + plateau.outcome() + ": " + inRows + " oversold");
            if (plateau.passed()) {
                assertEquals(0, inRows, "a plateau that passed oversold no deal: " + rows);
            }
            if (plateau == limit) {
                assertTrue(inRows > 0, "the limiting plateau's rows show units sold twice: " + rows);
            }
        }
        BenchReport.record("capacity search, checkout without its stock lock", capacity.summary() + "; units of the "
                + "deals oversold per plateau by the database's rows (the verdict's the same, deal by deal): " + rows);
    }

    /** The Doorbuster home of one benchmark's runs, deleted after it (kept primaries weigh over a gigabyte). */
    private Path benchHome;

    private Path home() throws java.io.IOException {
        benchHome = Files.createTempDirectory(Path.of("/var/tmp"), "doorbuster-capacity-");
        Files.setPosixFilePermissions(benchHome, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        return benchHome;
    }

    @AfterEach
    void deleteHome() throws java.io.IOException {
        if (benchHome != null) {
            try (var tree = Files.walk(benchHome)) {
                tree.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
