package dev.doorbuster.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static dev.doorbuster.load.ControlRuns.assertTheScheduleCertainOrdersAreReportedLost;
import static dev.doorbuster.load.ControlRuns.stripSeconds;
import static dev.doorbuster.load.ControlRuns.tail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doorbuster.verdict.report.ChaosReport;
import dev.doorbuster.verdict.CheckResult;
import dev.doorbuster.verdict.GeneratorHealth;
import dev.doorbuster.verdict.consistency.Guarantee;
import dev.doorbuster.verdict.consistency.Inventory;
import dev.doorbuster.verdict.RunHistory;
import dev.doorbuster.verdict.consistency.SessionReport;
import dev.doorbuster.verdict.Verdict;
import dev.doorbuster.verdict.consistency.WriteLedger;
import dev.doorbuster.tools.Required;
import dev.doorbuster.topology.SloBudget;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Known-bad and known-good controls, each a short real simulation on the real local topology (forked
 * Gatling, PostgreSQL primary + replica, chaos proxy, storefront JVM). The harness is only worth
 * something if it tells them apart.
 */
@Execution(ExecutionMode.CONCURRENT)
class SimulationControlsIT {
    @TempDir
    Path reports;
    private Path home;

    @BeforeEach
    void ownHome() throws IOException {
        home = ControlRuns.newHome("doorbuster-controls-");
    }

    @AfterEach
    void nothingIsLeftRunning() throws IOException {
        ControlRuns.assertNothingLeftRunning(home);
    }

    @Test
    void naiveReplicaReadsUnderReplicationLagFailOnReadYourWrites() throws Exception {
        ForkedGatling.Result run = ForkedGatling.run("ReplicationLagSimulation", reports, home, Map.of(
                "app.routing", "replica", "postgres.synchronousCommit", "off"));
        assertEquals(2, run.exitCode(), "assertions must fail the run\n" + tail(run));
        CheckResult immediate = run.check("read-your-writes (immediate)").orElseThrow();
        CheckResult later = run.check("read-your-writes (later)").orElseThrow();
        assertFalse(immediate.pass());
        // The oracle: the client's own history, read by this test. Nearly every read right after a write misses
        // it on an asynchronous replica under lag: hundreds of them, every one counted, none invented.
        ControlRuns.HistoryCount client = ControlRuns.HistoryCount.of(reportFile(run, Run.HISTORY_FILE));
        assertTrue(client.readYourWrites() >= 5, "the client's history shows stale reads: " + client);
        client.assertAgrees(client.readYourWrites(), immediate.actual() + later.actual(),
                immediate.line() + " / " + later.line());
        assertTrue(run.output().contains("FAIL read-your-writes (immediate)"), "the reason is printed");
        // Gatling's console wraps long KO messages: look for their start.
        assertTrue(run.output().contains("IllegalStateException: read-your-writes (immediate): stale"),
                "violations are KOs in Gatling's report, named after the guarantee");
        SessionReport.Witness w = run.verdict().sessions().result(Guarantee.READ_YOUR_WRITES_IMMEDIATE).witnesses().get(0);
        assertTrue(w.servedBy().startsWith("replica"), "the witness names the server that answered: " + w);
        assertTrue(w.faults().contains("ReplicationLag") || w.faults().equals("none"), w.toString());
        assertNotNull(reportFile(run, Run.HISTORY_FILE), "the operation history is exported");
        assertReportMatchesTheVerdict(run);
    }

    /**
     * Sticky routing keeps a shopper on the primary for 2 s after a write: with 3 s of lag, the shopper's
     * return a few seconds later lands on a replica that has not caught up.
     */
    @Test
    // timed: the shopper's return must fall inside the lag
    @Tag(ControlRuns.TIMED)
    void stickyRoutingShorterThanTheLagFailsOnLaterReads() throws Exception {
        ForkedGatling.Result run = ForkedGatling.run("ReplicationLagSimulation", reports, home, Map.of(
                "app.routing", "sticky", "lag.ms", "3000", "postgres.synchronousCommit", "off"));
        assertEquals(2, run.exitCode(), tail(run));
        CheckResult later = run.check("read-your-writes (later)").orElseThrow(() -> new AssertionError(tail(run)));
        assertFalse(later.pass(), later.line());
        assertTrue(run.check("read-your-writes (immediate)").orElseThrow().pass(),
                "right after a write the sticky window still covers the read");
        ControlRuns.HistoryCount client = ControlRuns.HistoryCount.of(reportFile(run, Run.HISTORY_FILE));
        client.assertAgrees(client.readYourWrites(), later.actual(), later.line());
        for (SessionReport.Witness w : run.verdict().sessions().result(Guarantee.READ_YOUR_WRITES_LATER).witnesses()) {
            assertTrue(w.servedBy().startsWith("replica"), w.toString());
            // The window runs from the shopper's last write of any key, at or after this one (less the answer's trip).
            assertTrue(w.at() - w.expectedAt() > 1.5, "read after the 2 s sticky window: " + w);
        }
    }

    /**
     * Two replicas, only the second delayed by 4 s, and reads spread over both per query: a shopper who read
     * fresh data on replica 1 and comes back on replica 2 goes back in time. The schedule says which replica
     * is behind, so every such read must have been served by replica 2 (the pool {@code reader-2}).
     */
    @Test
    void readsSpreadOverReplicasThatLagDifferentlyFailOnMonotonicReads() throws Exception {
        ForkedGatling.Result run = ForkedGatling.run("ReplicationLagSimulation", reports, home, Map.of(
                "postgres.replicas", "2", "app.routing", "replica", "lag.ms", "4000", "lag.onReplica", "2",
                "postgres.synchronousCommit", "off"));
        assertEquals(2, run.exitCode(), tail(run));
        CheckResult monotonic = run.check("monotonic reads").orElseThrow(() -> new AssertionError(tail(run)));
        assertFalse(monotonic.pass(), monotonic.line());
        ControlRuns.HistoryCount client = ControlRuns.HistoryCount.of(reportFile(run, Run.HISTORY_FILE));
        assertTrue(client.monotonic() > 0, "the client's history shows reads going back in time: " + client);
        client.assertAgrees(client.monotonic(), monotonic.actual(), monotonic.line());
        List<SessionReport.Witness> witnesses = run.verdict().sessions().result(Guarantee.MONOTONIC_READS).witnesses();
        assertFalse(witnesses.isEmpty());
        for (SessionReport.Witness w : witnesses) {
            assertEquals("replica (reader-2)", w.servedBy(), "only replica 2 is behind: " + w);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"read-your-writes", "primary"})
    void routingThatHonoursTheSessionPassesEverySessionCheckUnderTheSameLag(String routing) throws Exception {
        ForkedGatling.Result run = ForkedGatling.run("ReplicationLagSimulation", reports, home, Map.of(
                "app.routing", routing, "lag.ms", "3000", "postgres.synchronousCommit", "off"));
        for (Guarantee g : Guarantee.values()) {
            CheckResult c = run.check(g.check()).orElseThrow(() -> new AssertionError(g.check() + " missing\n" + tail(run)));
            assertTrue(c.pass(), c.line());
            assertTrue(run.verdict().sessions().result(g).reads() > 20, "enough reads were checked: " + c.line());
        }
        assertTrue(run.verdict().timeline().stream().anyMatch(e -> e.effect().orElse(null)
                instanceof dev.doorbuster.chaos.FaultEffect.LagReached lag && lag.bytes() > 0),
                "the lag actually reached is measured");
        ControlRuns.HistoryCount client = ControlRuns.HistoryCount.of(reportFile(run, Run.HISTORY_FILE));
        assertEquals(0, client.readYourWrites() + client.monotonic(), "the client's own history agrees: " + client);
    }

    /**
     * Asynchronous replication, the replication link cut, then the primary killed: the schedule makes every
     * order acknowledged after the cut and before the kill certain to be lost (its WAL never left the dead
     * primary). The oracle is that schedule and the client-side history, not the audit.
     */
    @Test
    void asyncCutThenFailoverLosesTheWritesAcknowledgedInBetween() throws Exception {
        ForkedGatling.Result run = ForkedGatling.run("LostWritesSimulation", reports, home, Map.of(
                "postgres.synchronousCommit", "off", "load.minutes", "0.5"));
        assertEquals(2, run.exitCode(), tail(run));
        assertTheScheduleCertainOrdersAreReportedLost(run, reports);
        CheckResult lostCheck = run.check("lost acknowledged writes").orElseThrow();
        assertFalse(lostCheck.pass(), lostCheck.line());

        // A profile update lost with the primary, read again later, is a lost write, not a stale read.
        WriteLedger.KindAudit profiles = run.verdict().writes().kinds().stream()
                .filter(k -> k.kind().equals("profile update")).findFirst().orElseThrow();
        assertTrue(profiles.lost() > 0, "profile updates were lost too: " + lostCheck.line());
        SessionReport sessions = run.verdict().sessions();
        assertTrue(sessions.explainedByLostWrites() > 0, "reads that missed a lost write were seen: " + lostCheck.line());
        Set<String> lostIds = new java.util.HashSet<>();
        run.verdict().writes().kinds().forEach(k -> k.lostWrites().forEach(n -> lostIds.add(n.id())));
        for (SessionReport.Witness w : sessions.explained()) {
            assertTrue(lostIds.contains(w.lostWrite()), "explained by a write the audit found lost: " + w);
        }
        Set<String> lostProfiles = new java.util.HashSet<>();
        profiles.lostWrites().forEach(n -> lostProfiles.add(n.key()));
        for (SessionReport.GuaranteeResult g : sessions.guarantees()) {
            for (SessionReport.Witness w : g.witnesses()) {
                assertFalse(lostProfiles.contains(w.key()), "a lost profile update is never a stale read: " + w);
            }
            assertTrue(run.check(g.check()).orElseThrow().pass(), run.check(g.check()).orElseThrow().line());
        }
    }

    @Test
    void syncCutThenFailoverLosesNothingAcknowledged() throws Exception {
        ForkedGatling.Result run = ForkedGatling.run("LostWritesSimulation", reports, home, Map.of(
                "postgres.synchronousCommit", "on", "load.minutes", "0.5"));
        CheckResult lost = run.check("lost acknowledged writes").orElseThrow(() -> new AssertionError(tail(run)));
        assertTrue(lost.pass(), lost.line());
        assertEquals(0, lost.actual());
        assertTrue(run.verdict().writes().acknowledged() > 50, "writes were acknowledged: " + lost.line());
        assertTrue(run.verdict().writes().inDoubt() > 0, "commits waiting on the cut standby were in doubt, not lost: "
                + lost.line());
    }

    @Test
    void doorbustersSellOutWithoutOverselling() throws Exception {
        ForkedGatling.Result run = ForkedGatling.run("DoorbusterRushSimulation", reports, home, Map.of(
                "doorbusters.stock", Long.toString(DEAL_STOCK), "postgres.keepData", "true"));
        CheckResult stock = run.check("stock invariant").orElseThrow(() -> new AssertionError(tail(run)));
        assertTrue(stock.pass(), stock.line());
        Inventory.StockAudit audit = run.verdict().stock();
        assertEquals(0, audit.oversoldUnits());
        assertEquals(2, audit.doorbusters().size());
        assertEquals(2, audit.soldOut(), "the rush sells both deals out: " + stock.line());
        assertTrue(audit.outOfStockAnswers() > 0, "later checkouts were answered out_of_stock: " + stock.line());
        // The oracle: the database's own rows. Each deal started with DEAL_STOCK units (the simulation's setting);
        // its placed orders hold exactly what left the stock, and it is sold out.
        List<ControlRuns.ProductRows> rows = ControlRuns.productRows(home, 2);
        assertEquals(2, rows.size(), rows.toString());
        for (ControlRuns.ProductRows r : rows) {
            assertEquals(0, r.stockNow(), "sold out in the database: " + r);
            assertEquals(DEAL_STOCK, r.unitsInPlacedOrders(), "every unit in exactly one placed order: " + r);
            assertEquals(0, r.oversold(DEAL_STOCK));
        }
        assertVerdictSeesTheRows(audit, rows);
    }

    /** Stock each doorbuster starts with, set for the run ({@code -Ddoorbusters.stock}). */
    private static final long DEAL_STOCK = 40;

    /** The verdict's figures for each deal are the database's: units in present orders and stock now. */
    private static void assertVerdictSeesTheRows(Inventory.StockAudit audit, List<ControlRuns.ProductRows> rows) {
        for (ControlRuns.ProductRows r : rows) {
            Inventory.ProductStock seen = audit.doorbusters().stream().filter(p -> p.product() == r.product())
                    .findFirst().orElseThrow(() -> new AssertionError("no verdict figures for deal " + r));
            assertEquals(DEAL_STOCK, seen.initial(), seen.toString());
            assertEquals(r.stockNow(), seen.current(), "stock now: verdict " + seen + ", rows " + r);
            assertEquals(r.unitsInPlacedOrders(), seen.unitsPresent(), "units in orders: verdict " + seen + ", rows " + r);
        }
    }

    /** The storefront's deliberately broken checkout reads stock without a lock: the rush sells units twice. */
    @Test
    void aCheckoutWithoutItsStockLockOversellsAndFailsTheInvariant() throws Exception {
        ForkedGatling.Result run = ForkedGatling.run("DoorbusterRushSimulation", reports, home, Map.of(
                "app.stockLocking", "none", "doorbusters.stock", Long.toString(DEAL_STOCK), "postgres.keepData", "true"));
        assertEquals(2, run.exitCode(), tail(run));
        CheckResult stock = run.check("stock invariant").orElseThrow(() -> new AssertionError(tail(run)));
        assertFalse(stock.pass(), stock.line());
        Inventory.StockAudit audit = run.verdict().stock();
        // The oracle: the database's own rows. Units in placed orders beyond what left the deal's stock were sold
        // twice; the verdict must count exactly those for the deals (other products may add a few more).
        List<ControlRuns.ProductRows> rows = ControlRuns.productRows(home, 2);
        long oversoldInRows = rows.stream().mapToLong(r -> r.oversold(DEAL_STOCK)).sum();
        assertTrue(oversoldInRows > 0, "the database holds orders for more units than left the stock: " + rows);
        assertVerdictSeesTheRows(audit, rows);
        assertEquals(oversoldInRows, audit.doorbusters().stream().mapToLong(Inventory.ProductStock::oversold).sum(),
                stock.line());
        assertTrue(audit.oversoldUnits() >= oversoldInRows, stock.line());
    }

    @Test
    void tinyPoolsUnderTheSpikeFailOnPoolExhaustion() throws Exception {
        // The Black Friday plan (lag on the synchronous standby makes each commit hold its connection ~200 ms)
        // without its failover, with pools of 2 that a real service would never survive. Without the failover no
        // request waits for a database that is gone, so every 503 is a pool that had no connection free.
        ForkedGatling.Result run = ForkedGatling.run("BlackFridaySimulation", reports, home, Map.of(
                "failover", "false", "app.writerPoolSize", "2", "app.readerPoolSize", "2", "app.poolTimeoutMs", "250"));
        assertEquals(2, run.exitCode(), tail(run));
        CheckResult pool = run.check("pool exhaustion").orElseThrow();
        assertFalse(pool.pass(), pool.line());
        // The oracle: the 503 answers Gatling itself counted (its final error table). Every pool timeout is
        // answered 503, and nothing else is here.
        long gatling503s = ControlRuns.gatlingErrors(run, "found 503");
        assertTrue(gatling503s >= 10, "pools of 2 under the spike: Gatling saw " + gatling503s + " 503 answers");
        assertTrue(pool.actual() >= 0.8 * gatling503s && pool.actual() <= gatling503s + 2,
                "the check counts the pool timeouts Gatling saw answered 503 (" + gatling503s + "): " + pool.line());
    }

    @Test
    // shares the machine: an RTO of ~1 s against a budget of 15 s
    void failoverWithRemoteApplyLosesNoAcknowledgedWriteAndRecoversWithinBudget() throws Exception {
        ForkedGatling.Result run = ForkedGatling.run("FailoverSimulation", reports, home, Map.of(
                "postgres.synchronousCommit", "remote_apply"));
        CheckResult lost = run.check("lost acknowledged writes").orElseThrow(() -> new AssertionError(tail(run)));
        assertTrue(lost.pass(), lost.line());
        assertEquals(0, lost.actual());
        assertTrue(run.verdict().writes().acknowledged() > 0, "orders were acknowledged around the failover");
        CheckResult rto = run.verdict().checks().stream().filter(c -> c.name().startsWith("failover RTO"))
                .findFirst().orElseThrow();
        assertTrue(rto.pass(), rto.line());
        assertTrue(rto.actual() > 0 && rto.actual() < 15_000, rto.line());
        assertTrue(run.verdict().timeline().stream().anyMatch(e -> e.message().contains("rejoined")),
                "the old primary rejoined");
    }

    @Test
    // timed: every P99 budget must hold
    @Tag(ControlRuns.TIMED)
    void aRunWithoutFaultsPasses() throws Exception {
        // One unit per deal: the first checkout of a deal for one unit sells it out, one for two units is
        // answered out_of_stock; either way the deal runs short, and running short must not fail the run.
        ForkedGatling.Result run = ForkedGatling.run("BlackFridaySimulation", reports, home, Map.of("faults", "false",
                "doorbusters.stock", "1", ForkedGatling.GATLING_REPORT, "true", ForkedGatling.QUICK_JVM, "false"));
        assertEquals(0, run.exitCode(), tail(run));
        assertTrue(run.verdict().passed(), run.verdict().summary());
        Inventory.StockAudit stock = run.verdict().stock();
        assertTrue(stock.soldOut() + stock.outOfStockAnswers() > 0, "the deals ran short: " + run.check("stock invariant"));
        for (Inventory.ProductStock deal : stock.doorbusters()) {
            assertTrue(deal.unitsAcknowledged() <= 1, "no deal sold beyond its one unit: " + deal);
        }
        for (Guarantee g : Guarantee.values()) {
            assertTrue(run.check(g.check()).isPresent(), g.check() + " is judged");
        }
        assertTrue(run.verdict().requests() > 100, "load was applied: " + run.verdict().requests());
        GeneratorHealth generator = run.verdict().generator();
        assertNotNull(generator, "the generator's health is recorded");
        assertTrue(run.check(GeneratorHealth.CHECK).orElseThrow().pass(), run.check(GeneratorHealth.CHECK).toString());
        assertEquals(0, generator.neverStarted(), "every planned arrival started: " + generator);
        assertEquals(generator.planned(), generator.started(), "every planned arrival started: " + generator);
        assertTrue(Files.exists(reportFile(run, ChaosReport.FILE)));
        assertTrue(Files.exists(reportFile(run, Verdict.JUNIT_FILE)));
        assertTrue(Files.exists(reportFile(run, ChaosReport.GATLING_PAGE)), "Gatling's report is next to ours");
        assertTrue(Files.exists(reports.resolve(RunHistory.PAGE)), "the run history is updated");
    }

    /**
     * The same healthy run as {@link #aRunWithoutFaultsPasses()}, with a heavier job taking both cores for 8 s of
     * its 21. Oracle: the hog's own CPU report (it burnt most of both cores while it ran), not the harness's view of
     * itself. Whatever the latency of those seconds, it says as much about the starved generator as about the
     * service: the latency checks that cover them are inconclusive, none of them may PASS or FAIL, and the verdict
     * is not a PASS, naming the generator.
     */
    @Test
    @Tag(ControlRuns.TIMED)
    void aStarvedLoadGeneratorMakesTheLatencyChecksInconclusive() throws Exception {
        Required.assume(CpuHog.canRaisePriority(), "the CPU hog runs at nice -20, which needs root");
        // The default lateness budget (10 % of the p99 budget), not the counting controls' (see ForkedGatling).
        ForkedGatling.Running running = ForkedGatling.start("BlackFridaySimulation", reports, home, Map.of(
                "faults", "false", SloBudget.GENERATOR_START_DELAY_PERCENT_OF_P99.path(), "10"));
        assertTrue(running.awaitOutput("[doorbuster] 0:10 / ", java.time.Duration.ofSeconds(120)),
                "the load ran for 10 s");
        Duration hogLength = Duration.ofSeconds(8);
        Duration burnt;
        int cores;
        ForkedGatling.Result ended;
        try (CpuHog hog = CpuHog.start(hogLength)) {
            cores = hog.cores();
            burnt = hog.awaitCpuBurnt();
        } finally {
            // Also when the hog could not start: the run ends, and what it started with it.
            ended = running.await(java.time.Duration.ofMinutes(5));
        }
        ForkedGatling.Result run = ended;
        // The run's PostgreSQL servers sit in scheduling groups of their own and keep a share: "most", not all.
        assertTrue(burnt.toMillis() >= 0.6 * cores * hogLength.toMillis(),
                "the hog took most of the machine: " + burnt + " of CPU in " + hogLength + " on " + cores + " cores");
        assertNotNull(run.verdict(), tail(run));
        CheckResult kept = run.check(GeneratorHealth.CHECK).orElseThrow(() -> new AssertionError(tail(run)));
        assertTrue(kept.failed(), "the generator fell behind while the hog ran (" + burnt + " of CPU): " + kept.line());
        List<Integer> behind = run.verdict().generator().behind(dev.doorbuster.topology.Environment.Slo.defaults());
        // The hog began once the 0:10 line was out (second 10 or 11) and spun for 8 s: the generator fell behind in
        // that stretch, give or take the second a late user was scheduled in.
        assertTrue(behind.stream().allMatch(second -> second >= 8 && second <= 21), "behind only while hogged: " + behind);
        // Before the hog, the generator kept up and the baseline's latency was judged as usual.
        assertFalse(run.check("p99 during baseline").orElseThrow().notJudged(), run.check("p99 during baseline").toString());
        CheckResult p99 = run.check("p99").orElseThrow();
        assertTrue(p99.notJudgedAskedFor() && p99.detail().startsWith(GeneratorHealth.INCONCLUSIVE), p99.line());
        for (CheckResult check : run.verdict().checks()) {
            if (check.name().startsWith("p99")) {
                assertFalse(check.failed(), "a starved generator produces no latency FAIL: " + check.line());
            }
        }
        assertFalse(run.verdict().passed(), run.verdict().summary());
        assertNotEquals(0, run.exitCode(), "the build fails");
        assertTrue(run.output().contains("load generator fell behind"), tail(run));
    }

    /**
     * The other half of the generator's control: the service really is slow (every round trip to the primary
     * 300 ms late during the rush) and the generator is healthy, so p99 is judged and FAILs, never inconclusive.
     * Oracle: the fault schedule. A checkout is at least a write and its commit on the primary, two delayed round
     * trips, over 600 ms; checkouts are most of the rush's requests, far more than 1 % of the run's: the P99 is over
     * 600 ms, above the 500 ms budget this run sets.
     */
    @Test
    void aSlowDatabaseOnAHealthyGeneratorFailsP99NotInconclusive() throws Exception {
        ForkedGatling.Result run = ForkedGatling.run("DoorbusterRushSimulation", reports, home, Map.of(
                "rush.dbLatencyMs", "300", "slo.p99Ms", "500", "load.scale", "0.3", "doorbusters.share", "0",
                // 12 s: the rush's 8 s of slow checkouts are far more than 1 % of the requests.
                "load.minutes", "0.2"));
        assertNotNull(run.verdict(), tail(run));
        CheckResult kept = run.check(GeneratorHealth.CHECK).orElseThrow(() -> new AssertionError(tail(run)));
        assertTrue(kept.pass(), kept.line());
        CheckResult p99 = run.check("p99").orElseThrow();
        assertTrue(p99.failed(), "judged and failed: " + p99.line());
        assertTrue(p99.actual() >= 600, "at least two delayed round trips: " + p99.line());
        for (CheckResult check : run.verdict().checks()) {
            assertFalse(check.detail() != null && check.detail().startsWith(GeneratorHealth.INCONCLUSIVE), check.line());
        }
        assertFalse(run.verdict().passed());
        assertNotEquals(0, run.exitCode(), "the build fails");
    }

    /**
     * A baseline whose P99 was 1 ms: any real run is far above it, so a 20% budget must fail the build. The baseline
     * also says it ran with primary routing and 1.5 minutes of load: the run (read-your-writes, the default, and 0.15
     * minutes) must name both differences next to the delta, and record what it ran with itself.
     */
    @Test
    void aRunWorseThanItsBaselineBeyondTheBudgetFailsTheBuild() throws Exception {
        Path baseline = reports.resolve("blackfridaysimulation-20260101000000000");
        dev.doorbuster.verdict.Provenance baselineRan = new dev.doorbuster.verdict.Provenance("0.0.1", "a Java",
                "3.16.0", "a machine", null, Map.of(), Map.of("app.routing", "primary"), Map.of("load.minutes", "1.5"),
                null, List.of(), false);
        Verdict.of("BlackFridaySimulation", "local", "2026-01-01T00:00:00Z", 21, List.of(new CheckResult("p99", 1000, 1,
                "ms", true, "")), 500, 0, null, null, null, List.of()).withProvenance(baselineRan)
                .writeJson(baseline.resolve(Verdict.JSON_FILE));
        Files.setLastModifiedTime(baseline.resolve(Verdict.JSON_FILE), java.nio.file.attribute.FileTime.fromMillis(0));
        dev.doorbuster.verdict.RunHistory.markBaseline(baseline); // as `doorbuster baseline <folder>` does
        // A short run is enough: any real P99 is hundreds of times the baseline's 1 ms.
        ForkedGatling.Result run = ForkedGatling.run("BlackFridaySimulation", reports, home, Map.of("faults", "false",
                "slo.regression.p99Percent", "20", "load.minutes", "0.15"));
        assertEquals(2, run.exitCode(), tail(run));
        CheckResult regression = run.check("p99 vs baseline").orElseThrow(() -> new AssertionError(tail(run)));
        assertFalse(regression.pass(), regression.line());
        assertTrue(regression.actual() > 20, regression.line());
        assertTrue(Files.readString(reports.resolve(RunHistory.PAGE)).contains("class=\"worse\""),
                "the history shows the delta");
        assertTrue(Files.readString(reportFile(run, ChaosReport.FILE)).contains("Against the baseline <a href=\"../"
                + baseline.getFileName()), "the run's own report compares it with the baseline on its first screen");
        dev.doorbuster.verdict.Provenance ran = run.verdict().provenance();
        assertEquals("0.15", ran.parameters().get("load.minutes"), "the parameter as given: " + ran.parameters());
        assertEquals("read-your-writes", ran.environment().get("app.routing"), ran.environment().toString());
        assertTrue(ran.postgres() != null && !ran.postgresSettings().isEmpty(), "what the database ran with: " + ran);
        // Forked from the packaged jar (its manifest) or from a checkout's classes (git): either way the commit.
        assertTrue(ran.doorbuster().matches("(development build|\\d+\\.\\d+\\.\\d+(-SNAPSHOT)?), commit "
                + "[0-9a-f]{12}( with uncommitted changes)?"), "the build that ran, with its commit: " + ran.doorbuster());
        assertTrue(ran.differencesFromBaseline().containsAll(List.of("app.routing: primary → read-your-writes",
                "-Dload.minutes: 1.5 → 0.15")), ran.differencesFromBaseline().toString());
        assertTrue(run.output().contains("which ran differently: "), "the console says so\n" + tail(run));
        String report = Files.readString(reportFile(run, ChaosReport.FILE));
        assertTrue(report.contains("app.routing: primary → read-your-writes") && report.contains("id=\"what-ran\""),
                "chaos.html names the difference and what ran");

        ForkedGatling.Result unknown = ForkedGatling.run("BlackFridaySimulation", reports, home, Map.of(
                "baseline", "no-such-run"));
        assertEquals(1, unknown.exitCode(), tail(unknown));
        assertTrue(unknown.output().contains("-Dbaseline=no-such-run names no run"), tail(unknown));
        assertFalse(unknown.output().contains("Local topology up"), "nothing was started");
    }

    @Test
    void aWrongEnvironmentFieldIsAClearErrorBeforeAnythingStarts() throws Exception {
        Path env = Files.writeString(reports.resolve("broken.json"),
                "{\"type\": \"local\", \"app\": {\"routing\": \"replika\"}}");
        ForkedGatling.Result run = ForkedGatling.run("BlackFridaySimulation", reports, home, Map.of(
                "doorbuster.env", env.toString()));
        assertEquals(1, run.exitCode(), tail(run));
        assertTrue(run.output().contains("field 'app.routing' is 'replika'; expected one of replica, primary, "
                + "read-your-writes, sticky"), tail(run));
        String firstError = run.output().lines().filter(l -> l.contains("ERROR") || l.contains("Exception")
                || l.contains("[doorbuster]")).findFirst().orElse("");
        assertTrue(firstError.startsWith("[doorbuster] BlackFridaySimulation cannot start: " + env + ": field 'app.routing'"),
                "one clear line comes first, before any stack trace: " + firstError);
        assertFalse(run.output().contains("Local topology up"), "nothing was started");
        assertNull(run.verdict());
    }

    /**
     * A storefront setting the storefront would refuse (it used to pass here, start PostgreSQL, and end in the
     * storefront's exit 2 under a Gatling stack trace) is refused by the environment check, naming the property
     * and the storefront's own range, before PostgreSQL starts.
     */
    @Test
    void aStorefrontSettingItWouldRefuseStopsTheRunBeforePostgresStarts() throws Exception {
        ForkedGatling.Result run = ForkedGatling.run("BlackFridaySimulation", reports, home, Map.of(
                "app.requestTimeoutMs", "300"));
        assertEquals(1, run.exitCode(), tail(run));
        assertTrue(run.output().contains("-Dapp.requestTimeoutMs=300 (overriding "), tail(run));
        assertTrue(run.output().contains("field 'app.requestTimeoutMs' is 300; expected between 500 and 600000"),
                tail(run));
        assertFalse(run.output().contains("PostgreSQL"), "PostgreSQL was never started\n" + tail(run));
        assertFalse(run.output().contains("Local topology up"), "nothing was started");
        assertNull(run.verdict());
    }

    @Test
    void aBadSimulationParameterIsOneClearLineBeforeAnythingStarts() throws Exception {
        ForkedGatling.Result run = ForkedGatling.run("BlackFridaySimulation", reports, home, Map.of("load.scale", "lots"));
        assertEquals(1, run.exitCode(), tail(run));
        String firstError = run.output().lines().filter(l -> l.contains("ERROR") || l.contains("Exception")
                || l.contains("[doorbuster]")).findFirst().orElse("");
        assertEquals("[doorbuster] cannot start: -Dload.scale=lots is not a positive number (e.g. -Dload.scale=1.0)",
                firstError, "one clear line comes first, before any stack trace");
        assertFalse(run.output().contains("Local topology up"), "nothing was started");
    }

    /**
     * A load too short for its ramps (1.2 s of Black Friday: a 240 ms spike) once made Gatling's injector divide by
     * zero and stop injecting, and the run waited ten minutes for its maximum duration before failing as aborted.
     * It is now refused in one line, before anything starts.
     */
    @Test
    void aLoadTooShortForItsRampsIsOneClearLineBeforeAnythingStarts() throws Exception {
        ForkedGatling.Result run = ForkedGatling.run("BlackFridaySimulation", reports, home, Map.of("load.minutes", "0.02"));
        assertEquals(1, run.exitCode(), tail(run));
        String firstError = run.output().lines().filter(l -> l.contains("ERROR") || l.contains("Exception")
                || l.contains("[doorbuster]")).findFirst().orElse("");
        assertTrue(firstError.startsWith("[doorbuster] BlackFridaySimulation cannot start: phase '"), firstError);
        assertTrue(firstError.endsWith("but Gatling needs at least 1 s to ramp a rate; give the load more time "
                + "(-Dload.minutes)"), firstError);
        assertFalse(run.output().contains("Local topology up"), "nothing was started");
    }

    /**
     * The abort rule: every database link of the storefront goes down at second 5 of a planned minute, so
     * nearly every request fails; with 5 bad seconds in a row allowed, the load stops within seconds and the
     * run is still judged (partial verdict, chaos.html), fails, and says why.
     */
    @Test
    void aDyingStorefrontIsAbortedEarlyAndStillJudged() throws Exception {
        ForkedGatling.Result run = ForkedGatling.run("dev.doorbuster.load.DeadStorefrontSimulation", reports, home, Map.of(
                "load.minutes", "1", "slo.abortAfterSeconds", "5", "slo.abortErrorRatePercent", "50"));
        assertTrue(run.exitCode() != 0, "an aborted run fails the build\n" + tail(run));
        assertTrue(run.output().contains("[doorbuster] aborting at second "), tail(run));
        assertTrue(run.output().contains("[doorbuster] 0:10 / 1:00"), "progress every 10 s\n" + tail(run));
        assertNotNull(run.verdict(), "verdict.json is written\n" + tail(run));
        assertFalse(run.verdict().wasComplete(), run.verdict().summary());
        assertFalse(run.verdict().passed());
        CheckResult aborted = run.check("aborted").orElseThrow(() -> new AssertionError(tail(run)));
        assertFalse(aborted.pass(), aborted.line());
        int second = (int) aborted.actual();
        assertTrue(second >= 9 && second < 30, "5 bad seconds after the links went down at 5 s: " + aborted.line());
        assertEquals("aborted at second " + second + " because error rate above 50% for 5 consecutive seconds",
                aborted.detail());
        assertEquals(aborted.detail(), run.verdict().incompleteReason());
        assertTrue(run.output().contains("[doorbuster] aborting at second " + second + ": error rate above 50% for 5 s"),
                tail(run));
        assertTrue(run.verdict().durationSeconds() < 40, "ended well before its planned 60 s: "
                + run.verdict().durationSeconds());
        String html = Files.readString(reportFile(run, ChaosReport.FILE));
        assertTrue(html.contains("Incomplete run: aborted at second " + second), "chaos.html says so");
        assertTrue(Files.exists(reportFile(run, Verdict.JUNIT_FILE)));
        // The strip shows exactly the failing seconds verdict.json lists.
        dev.doorbuster.verdict.SecondCompliance.Window errors = run.verdict().windows().stream()
                .filter(w -> w.measure().equals(dev.doorbuster.verdict.SecondCompliance.ERROR_RATE)).findFirst()
                .orElseThrow();
        assertTrue(errors.failingSeconds().size() >= 5, errors.toString());
        assertEquals(errors.failingSeconds(), stripSeconds(html, errors.check(), "fail"));
    }

    /** SIGTERM (what Ctrl-C or a CI timeout sends) mid-load: a partial verdict and chaos.html, then nothing left running. */
    @Test
    void aRunStoppedBySigtermWritesAPartialVerdict() throws Exception {
        ForkedGatling.Running running = ForkedGatling.start("ReplicationLagSimulation", reports, home, Map.of(
                "load.minutes", "1"));
        assertTrue(running.awaitOutput("[doorbuster] 0:10 / 1:00", java.time.Duration.ofSeconds(90)),
                "the load ran for 10 s");
        ProcessHandle.of(running.pid()).ifPresent(ProcessHandle::destroy);
        ForkedGatling.Result run = running.await(java.time.Duration.ofSeconds(60));
        assertEquals(143, run.exitCode(), "killed by SIGTERM (128 + 15)\n" + tail(run));
        assertNotNull(run.verdict(), "verdict.json is written\n" + tail(run));
        assertFalse(run.verdict().wasComplete());
        assertFalse(run.verdict().passed());
        assertTrue(run.verdict().incompleteReason().startsWith("interrupted"), run.verdict().incompleteReason());
        CheckResult aborted = run.check("aborted").orElseThrow(() -> new AssertionError(tail(run)));
        assertFalse(aborted.pass());
        assertTrue(aborted.actual() >= 10 && aborted.actual() < 30, aborted.line());
        assertTrue(run.verdict().requests() > 50, "what was recorded is judged: " + run.verdict().requests());
        assertTrue(Files.readString(reportFile(run, ChaosReport.FILE)).contains("Incomplete run: interrupted"));
    }

    /**
     * The run's chaos.html holds every section, its charts shade the fault windows the verdict's timeline
     * has, and its strips mark failing the seconds the verdict lists (read from the page's data).
     */
    private void assertReportMatchesTheVerdict(ForkedGatling.Result run) throws IOException {
        String html = Files.readString(reportFile(run, ChaosReport.FILE));
        for (String section : List.of("<h2>Checks</h2>", "<h2>Seconds within budget</h2>", "<h2>Latency",
                "<h2>Throughput</h2>", "<h2>Consistency", "<h3>Writes, looked up", "<h3>Stock</h3>", "<h2>Connection pools</h2>",
                "<h2>Replication lag</h2>", "<h2>Database</h2>", "<h2>Fault timeline</h2>")) {
            assertTrue(html.contains(section), "chaos.html has " + section);
        }
        Set<String> expected = new java.util.TreeSet<>();
        dev.doorbuster.chaos.FaultTimeline.of(run.verdict().timeline()).windows().forEach(w -> expected.add(w.fault() + " "
                + w.fromSecond()));
        java.util.regex.Matcher chart = java.util.regex.Pattern.compile("data-chart=\"([^\"]*)\"").matcher(html);
        int charts = 0;
        while (chart.find()) {
            JsonNode data = new ObjectMapper().readTree(chart.group(1).replace("&quot;", "\"").replace("&lt;", "<")
                    .replace("&gt;", ">").replace("&amp;", "&"));
            Set<String> shaded = new java.util.TreeSet<>();
            data.path("windows").forEach(w -> shaded.add(w.path("fault").asText() + " " + w.path("from").asInt()));
            assertEquals(expected, shaded, "every chart shades the timeline's fault windows");
            charts++;
        }
        assertTrue(charts >= 6, "charts: " + charts);
        if (!expected.isEmpty()) {
            assertTrue(html.contains("When each fault hit"), "what the database was doing as each fault hit");
            assertEquals(expected.stream().map(w -> w.substring(0, w.lastIndexOf(' '))).toList(),
                    run.verdict().database().atFaults().stream().map(f -> f.fault()).sorted().toList(),
                    "a database snapshot per fault");
        }
        for (var window : run.verdict().windows()) {
            assertEquals(window.failingSeconds(), stripSeconds(html, window.check(), "fail"),
                    "the strip marks the seconds the verdict lists");
        }
    }

    private Path reportFile(ForkedGatling.Result run, String name) throws IOException {
        return ControlRuns.reportFile(reports, name);
    }


}
