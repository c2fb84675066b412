package dev.doorbuster.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doorbuster.chaos.FaultEffect;
import dev.doorbuster.chaos.FaultTimeline;
import dev.doorbuster.load.ControlRuns;
import dev.doorbuster.load.ForkedGatling;
import dev.doorbuster.load.Run;
import dev.doorbuster.process.ProcessRegistry;
import dev.doorbuster.topology.docker.DockerTestSupport;
import dev.doorbuster.verdict.CheckResult;
import dev.doorbuster.verdict.consistency.Guarantee;
import dev.doorbuster.verdict.consistency.SessionReport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

/**
 * The Spring Boot worked example (examples/spring-shop) as a user runs it: its image built here from its own Maven
 * build, started by the docker environment of {@code examples/spring-shop/doorbuster-docker.json}, judged by
 * {@link SpringShopSimulation} in a forked Gatling run. The naive routing setting must FAIL read-your-writes with the
 * count the client's own history shows, the safe one must PASS under the same lag, and an asynchronous replication cut
 * followed by a failover must report the orders the schedule makes certain to be lost. Skipped, saying why, without
 * a Docker engine or the images docker/images/build makes.
 */
@Execution(ExecutionMode.CONCURRENT)
class SpringShopIT {
    static final Path ENVIRONMENT = SpringShopImage.PROJECT.resolve("doorbuster-docker.json");
    static final String SIMULATION = SpringShopSimulation.class.getName();
    /** Each control's load: half a minute. */
    static final String LOAD_MINUTES = "0.5";
    /**
     * Reads the lag schedule makes certain to be stale on the replica must be this many at least, or the run proved
     * nothing (8 shoppers/s inside a 24 s lag window make about 190).
     */
    static final int AT_LEAST_CERTAIN_READS = 50;
    private static final java.util.regex.Pattern RUN_LABEL =
            java.util.regex.Pattern.compile("labelled dev\\.doorbuster\\.run=(\\S+)");

    @TempDir
    Path reports;
    private Path home;
    /** The docker label of each run this test started (other checkouts may run docker tests on the same engine). */
    private final List<String> runLabels = new ArrayList<>();

    @BeforeEach
    void ownHome() throws IOException {
        DockerTestSupport.assumeDocker();
        home = Files.createTempDirectory(Path.of("/var/tmp"), "doorbuster-spring-shop-");
    }

    @AfterEach
    void nothingIsLeft() throws IOException {
        if (home == null) {
            return;
        }
        List<Long> left = ControlRuns.leftovers(home.toString());
        ControlRuns.deleteTree(home);
        assertEquals(List.of(), left, "processes of the run still alive: " + left.stream()
                .map(pid -> pid + " " + String.join(" ", ProcessRegistry.commandLine(pid))).toList());
        for (String label : runLabels) {
            assertEquals(List.of(), DockerTestSupport.resourcesOf(label), "containers, networks or volumes of run "
                    + label + " are left");
        }
    }

    /** A forked run of the simulation against the shop's image, with {@code reads} as its routing setting. */
    private ForkedGatling.Result shop(String reads, String faults, Map<String, String> more) throws Exception {
        String image = image();
        Map<String, String> properties = new HashMap<>(DockerTestSupport.localImages());
        properties.putAll(Map.of("doorbuster.env", ENVIRONMENT.toAbsolutePath().toString(), "app.image", image,
                "app.environment.SHOP_READS", reads, "shop.faults", faults, "load.minutes", LOAD_MINUTES));
        properties.putAll(more);
        long started = System.nanoTime();
        ForkedGatling.Result run = ForkedGatling.run(SIMULATION, reports, home, properties);
        java.util.regex.Matcher label = RUN_LABEL.matcher(run.output());
        assertTrue(label.find(), "the run names its docker label\n" + ControlRuns.tail(run));
        runLabels.add(label.group(1));
        // Where the time went: the run's own progress lines.
        run.output().lines().filter(l -> l.contains("topology up") || l.contains("Doorbuster SpringShopSimulation")
                || l.contains("Verdict:") || l.contains("PASS ") || l.contains("FAIL ")).limit(40)
                .forEach(l -> System.out.println("  | " + l));
        System.out.printf("SpringShopIT: SHOP_READS=%s, faults %s: exit %d in %.1f s%n", reads, faults, run.exitCode(),
                (System.nanoTime() - started) / 1e9);
        return run;
    }

    private static String image() throws Exception {
        long started = System.nanoTime();
        String image = SpringShopImage.ensure();
        System.out.printf("SpringShopIT: image %s (%.1f s in this test)%n", SpringShopImage.lastBuild,
                (System.nanoTime() - started) / 1e9);
        return image;
    }

    /**
     * SHOP_READS=replica reads a shopper's own new order from the replica, which the lag keeps behind: the immediate
     * read-back says "no such order". The oracle is the client's own history.json, read here: the verdict counts
     * exactly the reads that missed the reader's own order there, and at least every read the schedule makes certain
     * (answered sooner after the order was sent than the replica could have received it).
     */
    @Test
    void naiveReplicaReadsFailReadYourWritesWithTheClientsOwnCount() throws Exception {
        ForkedGatling.Result run = shop("replica", "replication-lag", Map.of());
        assertEquals(2, run.exitCode(), "the failed check fails the run\n" + ControlRuns.tail(run));
        CheckResult immediate = run.check("read-your-writes (immediate)").orElseThrow(() -> new AssertionError(ControlRuns.tail(run)));
        CheckResult later = run.check("read-your-writes (later)").orElseThrow();
        assertFalse(immediate.pass(), immediate.line());
        Path history = ControlRuns.reportFile(reports, Run.HISTORY_FILE);
        ControlRuns.HistoryCount client = ControlRuns.HistoryCount.of(history);
        client.assertAgrees(client.readYourWrites(), immediate.actual() + later.actual(),
                immediate.line() + " / " + later.line());
        LagWindow lag = LagWindow.of(run);
        CertainReads certain = CertainReads.of(history, lag);
        System.out.printf("SpringShopIT naive: verdict %.0f + %.0f stale reads, history %s, certain %s%n",
                immediate.actual(), later.actual(), client, certain);
        assertTrue(certain.reads() >= AT_LEAST_CERTAIN_READS, "reads inside the lag: " + certain);
        assertEquals(certain.reads(), certain.stale(), "every read the lag makes certain to miss the shopper's own "
                + "order missed it in the client's history: " + certain);
        assertTrue(immediate.actual() + later.actual() >= certain.reads(), "the verdict counts at least the certain "
                + "ones: " + immediate.line() + " / " + later.line() + "; " + certain);
        for (SessionReport.Witness w : run.verdict().sessions().result(Guarantee.READ_YOUR_WRITES_IMMEDIATE).witnesses()) {
            assertEquals("replica", w.servedBy(), "the shop's X-Served-By names the replica pool: " + w);
        }
        assertTrue(run.output().contains("FAIL read-your-writes (immediate)"), "the reason is printed");
    }

    /** SHOP_READS=primary under the same lag: every consistency check passes, and the run as a whole. */
    @Test
    void primaryReadsPassEveryConsistencyCheckUnderTheSameLag() throws Exception {
        ForkedGatling.Result run = shop("primary", "replication-lag", ControlRuns.sharedMachineLatencyBudgets());
        for (Guarantee g : Guarantee.values()) {
            CheckResult c = run.check(g.check()).orElseThrow(() -> new AssertionError(g.check() + " missing\n"
                    + ControlRuns.tail(run)));
            assertTrue(c.pass(), c.line());
            assertTrue(run.verdict().sessions().result(g).reads() > 20, "enough reads were checked: " + c.line());
        }
        for (String name : List.of("lost acknowledged writes", "ghost writes")) {
            CheckResult c = run.check(name).orElseThrow(() -> new AssertionError(name + " missing\n" + ControlRuns.tail(run)));
            assertTrue(c.pass(), c.line());
        }
        assertEquals(0, run.exitCode(), ControlRuns.tail(run));
        assertTrue(run.verdict().passed(), run.verdict().summary());
        CheckResult pools = run.check("pool exhaustion").orElseThrow(() -> new AssertionError(ControlRuns.tail(run)));
        assertEquals(CheckResult.Outcome.PASS, pools.outcome(), "the environment names the shop's metrics: " + pools.line());
        assertTrue(run.verdict().writes().acknowledged() > 100, "orders were placed and audited: "
                + run.verdict().writes().acknowledged());
        Path history = ControlRuns.reportFile(reports, Run.HISTORY_FILE);
        ControlRuns.HistoryCount client = ControlRuns.HistoryCount.of(history);
        assertEquals(0, client.readYourWrites() + client.monotonic(), "the client's own history agrees: " + client);
        // The same lag was there: these reads would have missed their order on the replica.
        CertainReads certain = CertainReads.of(history, LagWindow.of(run));
        System.out.printf("SpringShopIT safe: history %s, reads inside the lag %s%n", client, certain);
        assertTrue(certain.reads() >= AT_LEAST_CERTAIN_READS, "reads inside the lag: " + certain);
        assertEquals(0, certain.stale(), certain.toString());
        assertTrue(run.verdict().timeline().stream().anyMatch(e -> e.effect().orElse(null)
                instanceof FaultEffect.LagReached reached && reached.bytes() > 0), "the lag actually reached is measured");
    }

    /**
     * The same safe run with no {@code app.metricsUrl}: the shop still has its two HikariCP pools, and still serves
     * their meters (see {@link #theImageAnswersRetriesAndBadInputAsItsGuideSays}), but the environment names no
     * endpoint, so no pool timeout can be read and, with no 503 either, whether a pool ran dry is unknown. The oracle is
     * the environment file itself: the input is certainly missing. The run must say so, not pass: pool exhaustion NOT
     * JUDGED with the fix naming {@code app.metricsUrl}, in the console, verdict.json and chaos.html, and the run failed
     * by the "checks not judged" budget (default 0). The twin is {@link #primaryReadsPassEveryConsistencyCheckUnderTheSameLag},
     * whose environment names it and whose pool exhaustion is judged and passes.
     */
    @Test
    void withoutItsMetricsEndpointThePoolCheckIsNotJudgedAndFailsTheRun() throws Exception {
        ObjectMapper json = new ObjectMapper();
        com.fasterxml.jackson.databind.node.ObjectNode environment =
                (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(ENVIRONMENT.toFile());
        assertTrue(environment.with("app").remove("metricsUrl") != null, "the example's environment names its metrics");
        Path withoutMetrics = reports.resolve("spring-shop-without-metrics.json");
        json.writeValue(withoutMetrics.toFile(), environment);

        Map<String, String> properties = new HashMap<>(ControlRuns.sharedMachineLatencyBudgets());
        properties.putAll(Map.of("doorbuster.env", withoutMetrics.toString(), "load.minutes", "0.25"));
        ForkedGatling.Result run = shop("primary", "none", properties);
        assertEquals(2, run.exitCode(), "a check not judged fails the run\n" + ControlRuns.tail(run));
        CheckResult pools = run.check("pool exhaustion").orElseThrow(() -> new AssertionError(ControlRuns.tail(run)));
        assertEquals(CheckResult.Outcome.NOT_JUDGED, pools.outcome(), pools.line());
        assertTrue(pools.fix().contains(dev.doorbuster.topology.PoolRoles.METRICS_FIELD), "says what to set: " + pools.line());
        CheckResult notJudged = run.check(dev.doorbuster.verdict.VerdictAssembly.NOT_JUDGED)
                .orElseThrow(() -> new AssertionError(ControlRuns.tail(run)));
        assertEquals(CheckResult.Outcome.FAIL, notJudged.outcome(), notJudged.line());
        assertTrue(run.verdict().failures().stream().allMatch(c -> c.name().equals(notJudged.name())),
                "nothing else failed: the run is the safe one: " + run.verdict().summary());
        assertTrue(run.output().contains("NOT JUDGED pool exhaustion"), "the console says so\n" + ControlRuns.tail(run));
        JsonNode written = json.readTree(ControlRuns.reportFile(reports, dev.doorbuster.verdict.Verdict.JSON_FILE).toFile());
        assertTrue(written.toString().contains("NOT_JUDGED"), "verdict.json carries the outcome");
        assertTrue(Files.readString(ControlRuns.reportFile(reports, dev.doorbuster.verdict.report.ChaosReport.FILE))
                .contains("NOT JUDGED"), "chaos.html shows it");
    }

    /**
     * Asynchronous replication, the replication link cut, then the primary killed and the cut-off replica promoted:
     * every order acknowledged between the cut and the kill existed only on the dead primary. The oracle is the fault
     * schedule and the client's history: at least 90% of those are reported lost, none acknowledged before the cut or
     * after the promotion is.
     */
    @Test
    void asyncCutThenFailoverCountsTheLostOrders() throws Exception {
        ForkedGatling.Result run = shop("primary", "cut-then-failover", Map.of("postgres.synchronousCommit", "off"));
        assertEquals(2, run.exitCode(), ControlRuns.tail(run));
        CheckResult lost = run.check("lost acknowledged writes").orElseThrow(() -> new AssertionError(ControlRuns.tail(run)));
        assertFalse(lost.pass(), lost.line());
        // The environment's app.writeProbe (the shop's idempotent POST /orders) measures the RTO: judged, and the
        // service acknowledged it again (no timing bound here: this control runs beside others).
        CheckResult rto = run.verdict().checks().stream().filter(c -> c.name().startsWith("failover RTO")).findFirst()
                .orElseThrow(() -> new AssertionError(ControlRuns.tail(run)));
        assertFalse(rto.notJudged(), rto.line());
        assertEquals("from the fault's start to the first write the application acknowledged", rto.detail(), rto.line());
        ControlRuns.assertTheScheduleCertainOrdersAreReportedLost(run, reports);
        long reported = run.verdict().writes().kinds().stream().mapToLong(k -> k.lostWrites().size()).sum();
        double cut = ControlRuns.inPlaceAt(run, "ReplicationCut");
        double kill = ControlRuns.injectedAt(run, "PrimaryFailover");
        long certain = acknowledgedOrdersBetween(ControlRuns.reportFile(reports, Run.HISTORY_FILE), cut + 0.2, kill);
        System.out.printf("SpringShopIT lost writes: %d named lost; %d acknowledged between the cut (%.1f s) and the "
                + "kill (%.1f s), certain to be lost; %s%n", reported, certain, cut, kill, lost.line());
    }

    /**
     * What needs the database, against the image and a real PostgreSQL: a retry with the same Idempotency-Key gets the
     * same order and leaves one row; the key reused for another order is 409; an unknown id 404; bad input 400; all
     * answered in JSON. And what Doorbuster reads: the health path, and HikariCP's meters under Spring's default pool
     * name on the Prometheus endpoint.
     */
    @Test
    void theImageAnswersRetriesAndBadInputAsItsGuideSays() throws Exception {
        String image = image();
        String password = "shop-" + Long.toHexString(System.nanoTime());
        try (Network network = Network.newNetwork();
             GenericContainer<?> db = new GenericContainer<>(DockerImageName.parse(DockerTestSupport.POSTGRES_IMAGE))
                     .withNetwork(network).withNetworkAliases("db").withExposedPorts(5432)
                     .withEnv(Map.of("POSTGRES_USER", "shop", "POSTGRES_PASSWORD", password, "POSTGRES_DB", "shop"));
             GenericContainer<?> shop = new GenericContainer<>(DockerImageName.parse(image))
                     .withNetwork(network).withExposedPorts(8080)
                     .withEnv(Map.of("SPRING_DATASOURCE_URL", "jdbc:postgresql://db:5432/shop",
                             "SPRING_DATASOURCE_USERNAME", "shop", "SPRING_DATASOURCE_PASSWORD", password))
                     .waitingFor(Wait.forHttp("/actuator/health").forPort(8080).forStatusCode(200))
                     .withStartupTimeout(Duration.ofMinutes(3))) {
            db.start();
            String jdbc = "jdbc:postgresql://127.0.0.1:" + db.getMappedPort(5432) + "/shop";
            awaitDatabase(jdbc, password);
            shop.start();
            URI base = URI.create("http://127.0.0.1:" + shop.getMappedPort(8080));
            HttpClient http = HttpClient.newHttpClient();
            ObjectMapper json = new ObjectMapper();
            String order = "{\"shopperId\": 17, \"sku\": \"tv-55\", \"quantity\": 1}";

            HttpResponse<String> first = post(http, base, "retry-1", order);
            assertEquals(201, first.statusCode(), first.body());
            long id = json.readTree(first.body()).get("id").asLong();
            assertEquals("/orders/" + id, first.headers().firstValue("Location").orElse(""));
            HttpResponse<String> retry = post(http, base, "retry-1", order);
            assertEquals(200, retry.statusCode(), "a retry is answered with the order it placed: " + retry.body());
            assertEquals(id, json.readTree(retry.body()).get("id").asLong());
            assertEquals(1, rows(jdbc, password, "retry-1"), "a retry with the same key makes no second row");
            assertProblem(post(http, base, "retry-1", "{\"shopperId\": 17, \"sku\": \"tv-55\", \"quantity\": 2}"),
                    409, "idempotency_key_reused");
            assertEquals(1, rows(jdbc, password, "retry-1"));

            HttpResponse<String> read = get(http, base, "/orders/" + id);
            assertEquals(200, read.statusCode(), read.body());
            JsonNode shown = json.readTree(read.body());
            assertEquals("retry-1", shown.get("idempotencyKey").asText());
            assertEquals(1, shown.get("version").asInt());
            assertEquals("primary", read.headers().firstValue("X-Served-By").orElse(""));
            HttpResponse<String> unknown = get(http, base, "/orders/" + (id + 1000));
            assertProblem(unknown, 404, "not_found");
            assertEquals("primary", unknown.headers().firstValue("X-Served-By").orElse(""), "a 404 names its pool too");
            assertProblem(get(http, base, "/orders/abc"), 400, "bad_parameter");
            assertProblem(post(http, base, "bad-1", "{\"shopperId\": 17,"), 400, "malformed_json");
            assertProblem(post(http, base, null, order), 400, "missing_header");
            assertProblem(post(http, base, "bad-2", "{\"shopperId\": 17, \"quantity\": 1}"), 400, "bad_field");
            assertEquals(0, rows(jdbc, password, "bad-1") + rows(jdbc, password, "bad-2"), "refused input stores nothing");

            HttpResponse<String> metrics = get(http, base, "/actuator/prometheus");
            assertEquals(200, metrics.statusCode());
            assertTrue(metrics.body().contains("hikaricp_connections_active{pool=\"HikariPool-1\""),
                    "Spring Boot's default pool's meters: " + metrics.body().lines()
                            .filter(l -> l.startsWith("hikaricp_connections_active")).toList());
        }
    }

    private static HttpResponse<String> post(HttpClient http, URI base, String key, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve("/orders"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (key != null) {
            request.header("Idempotency-Key", key);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> get(HttpClient http, URI base, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(base.resolve(path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void assertProblem(HttpResponse<String> answer, int status, String error) {
        assertEquals(status, answer.statusCode(), answer.body());
        assertTrue(answer.headers().firstValue("Content-Type").orElse("").startsWith("application/json"),
                answer.headers().toString());
        assertTrue(answer.body().contains("\"error\":\"" + error + "\""), answer.body());
    }

    private static long rows(String jdbc, String password, String key) throws SQLException {
        try (Connection c = DriverManager.getConnection(jdbc, "shop", password);
             PreparedStatement q = c.prepareStatement("SELECT count(*) FROM orders WHERE idempotency_key = ?")) {
            q.setString(1, key);
            try (ResultSet rs = q.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static void awaitDatabase(String jdbc, String password) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (true) {
            try (Connection c = DriverManager.getConnection(jdbc, "shop", password)) {
                return;
            } catch (SQLException e) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("PostgreSQL did not accept connections within 2 min: " + e.getMessage());
                }
                Thread.sleep(250);
            }
        }
    }

    /** Orders the client saw acknowledged between {@code from} and {@code to} (run seconds), from its history. */
    private static long acknowledgedOrdersBetween(Path history, double from, double to) throws IOException {
        long count = 0;
        for (JsonNode op : new ObjectMapper().readTree(history.toFile())) {
            JsonNode mop = op.path("value").path(0);
            double at = op.path("time").asLong() / 1e9;
            if (op.path("type").asText().equals("ok") && mop.path(0).asText().equals("w")
                    && mop.path(1).asText().startsWith("order:") && at >= from && at < to) {
                count++;
            }
        }
        return count;
    }

    // ---- the lag schedule's oracle, from the client's own history --------------------------------------------------

    /**
     * When the replication lag held, in run seconds (from its "in place" note to its heal), and the least delay it
     * put on every change reaching the replica.
     */
    record LagWindow(double from, double until, double leastDelaySeconds) {
        static LagWindow of(ForkedGatling.Result run) {
            double from = ControlRuns.inPlaceAt(run, "ReplicationLag");
            double until = run.verdict().timeline().stream()
                    .filter(e -> e.fault().endsWith("ReplicationLag") && e.kind() == FaultTimeline.Kind.HEAL)
                    .findFirst().orElseThrow(() -> new AssertionError("the lag was never healed")).atMillis() / 1000.0;
            // The controls run the simulation's default lag (no -Dlag.ms).
            return new LagWindow(from, until,
                    (SpringShopSimulation.LAG_MS_DEFAULT - SpringShopSimulation.LAG_JITTER_MS) / 1000.0);
        }
    }

    /**
     * Reads of a shopper's own order that the lag makes certain to miss it on the replica: the order was sent after
     * the lag was in place, and the read was answered before the lag was healed and sooner after the order was sent
     * than any change could reach the replica. {@code stale}: how many of them the client saw without its order.
     */
    record CertainReads(long reads, long stale) {
        static CertainReads of(Path history, LagWindow lag) throws IOException {
            List<JsonNode> ops = new ArrayList<>();
            new ObjectMapper().readTree(history.toFile()).forEach(ops::add);
            ops.sort(java.util.Comparator.comparingLong(op -> op.path("index").asLong()));
            Map<Long, Double> invokedAt = new HashMap<>();
            Map<String, Double> orderSentAt = new HashMap<>();
            Map<String, Long> orderValue = new HashMap<>();
            long reads = 0;
            long stale = 0;
            for (JsonNode op : ops) {
                long process = op.path("process").asLong();
                double at = op.path("time").asLong() / 1e9;
                JsonNode mop = op.path("value").path(0);
                String processKey = process + "/" + mop.path(1).asText();
                String type = op.path("type").asText();
                if (type.equals("invoke")) {
                    invokedAt.put(process, at);
                    continue;
                }
                if (!type.equals("ok")) {
                    continue;
                }
                if (mop.path(0).asText().equals("w")) {
                    orderSentAt.put(processKey, invokedAt.get(process));
                    orderValue.put(processKey, mop.path(2).asLong());
                    continue;
                }
                Double sent = orderSentAt.get(processKey);
                if (sent == null || sent < lag.from() || at > lag.until() || at - sent >= lag.leastDelaySeconds()) {
                    continue;
                }
                reads++;
                if (mop.path(2).isNull() || mop.path(2).asLong() < orderValue.get(processKey)) {
                    stale++;
                }
            }
            return new CertainReads(reads, stale);
        }
    }
}
