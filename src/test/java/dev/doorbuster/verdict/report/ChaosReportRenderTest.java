package dev.doorbuster.verdict.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doorbuster.chaos.FaultTimeline;
import dev.doorbuster.tools.Required;
import dev.doorbuster.verdict.Capacity;
import dev.doorbuster.verdict.CheckResult;
import dev.doorbuster.verdict.Phase;
import dev.doorbuster.verdict.SecondCompliance;
import dev.doorbuster.verdict.Verdict;
import dev.doorbuster.verdict.consistency.CacheStaleness;
import dev.doorbuster.verdict.consistency.Guarantee;
import dev.doorbuster.verdict.consistency.Inventory;
import dev.doorbuster.verdict.consistency.SessionReport;
import dev.doorbuster.verdict.consistency.WriteLedger;
import dev.doorbuster.verdict.probes.ProbeSample;
import dev.doorbuster.verdict.recording.LatencyRecorder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code chaos.html} as a person gets it: every section there, the fault windows drawn at the seconds the
 * timeline says (read from the page's data, and from where they are drawn), and the page rendered by a real
 * headless Chromium (Debian's {@code chromium}, which {@code .ci/run} installs) with no console error and no
 * network request; its screenshot is kept in the run folder.
 */
class ChaosReportRenderTest {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");

    @TempDir
    Path dir;

    @Test
    void everySectionIsThereAndFaultWindowsSitAtTheirSeconds() throws Exception {
        Path run = writeRun();
        String html = Files.readString(run.resolve(ChaosReport.FILE));
        for (String section : List.of("<h2>Checks</h2>", "<h2>Latency (all requests, per second)</h2>", "<h2>Throughput</h2>",
                "<h2>Consistency: session guarantees and lost writes (per second)</h2>", "First stale reads (witnesses)",
                "Stale reads explained by lost writes", "<h3>Writes, looked up by their client-chosen identity",
                "<h3>Stock</h3>", "<h2 id=\"cache-staleness\">Cache: staleness of reads served by the cache</h2>",
                "Stalest cache reads (witnesses)",
                "version 2 'Bo &lt;w2&gt;' at 8.5 s", "<h2>Connection pools</h2>", "<h2>Replication lag</h2>", "<h2>Fault timeline</h2>")) {
            assertTrue(html.contains(section), "missing section " + section);
        }
        // The capacity search's answer, its knees (a point per plateau, sorted by rate) and links to the plateaus.
        assertTrue(html.contains("<h2 id=\"capacity\">Capacity</h2><p><b>capacity 28.3 shoppers/s (142 requests/s) — "
                + "limited by `p99` at 40.0 shoppers/s (FAIL p99: 2400 ms &gt; 1000 ms)</b>"), "the answer");
        assertTrue(html.contains("did not pass (its checks are below): the capacity is not confirmed."),
                "this run, at the capacity, failed a check: the page says the capacity stands unconfirmed");
        Matcher knees = Pattern.compile("data-knee=\"([^\"]*)\"").matcher(html);
        int kneeCount = 0;
        while (knees.find()) {
            JsonNode knee = new ObjectMapper().readTree(knees.group(1).replace("&quot;", "\"").replace("&amp;", "&"));
            assertEquals("[10.0,20.0,28.3,40.0]", knee.path("x").toString(), "offered rates, sorted");
            assertEquals(40.0, knee.path("limit").asDouble());
            assertEquals("p99", knee.path("limitedBy").asText());
            kneeCount++;
        }
        assertEquals(3, kneeCount, "p99, error rate and throughput against the rate");
        assertTrue(html.contains("<a href=\"../capacitysimulation-capacity-20261206000000/capacitysimulation-3/chaos.html\">"),
                "each plateau's own report");
        // A check not judged: its own style and word, the reason and the fix, and counted beside the outcome.
        assertTrue(html.contains("<tr class=\"nj-row\"><td class=\"nj\">NOT JUDGED</td><td>pool active growth</td>"),
                "the not-judged row is styled apart");
        assertTrue(html.contains("<b>not judged:</b> no HikariCP meters matched pool names [HikariPool-1 → ?, "
                + "HikariPool-2 → ?]<br><b>to judge it:</b> set app.pools to each pool's role"), "its reason and fix");
        assertTrue(html.contains("<span class=\"badge bn\">1 NOT JUDGED</span>"), "counted in the heading");
        assertTrue(html.contains("<td class=\"fail\">FAIL</td><td>lost acknowledged writes</td>"), "a failure stays FAIL");
        // The timeline: F1 from second 5 to 12, F2 from second 20 to the end (30); on every chart.
        List<JsonNode> charts = charts(html);
        assertTrue(charts.size() >= 6, "charts: " + charts.size());
        for (JsonNode chart : charts) {
            assertEquals("[{\"fault\":\"F1 ReplicationLag\",\"from\":5,\"to\":12},{\"fault\":\"F2 PrimaryFailover\",\"from\":20,"
                    + "\"to\":30}]", windows(chart), "shaded where the timeline says");
            assertEquals(30, chart.path("x").size(), "one point per second");
        }
    }

    @Test
    void chromiumRendersItWithNoConsoleErrorAndNoNetworkRequest() throws Exception {
        Path run = writeRun();
        Required.assume(Files.isExecutable(CHROMIUM), "Debian's chromium is not installed (apt-get install chromium; .ci/run "
                + "installs it): the page is not rendered");
        Path profile = Files.createTempDirectory("chromium-profile");
        Path screenshot = run.resolve("chaos.png");
        // Every host resolves to nothing and every proxy is closed: any request the page made would fail and be logged.
        List<String> command = List.of(CHROMIUM.toString(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + profile, "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
                "--enable-logging=stderr", "--v=0", "--window-size=1100,3000", "--virtual-time-budget=3000",
                "--screenshot=" + screenshot, run.resolve(ChaosReport.FILE).toUri().toString());
        Path log = Files.createTempFile("chromium", ".log");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            assertTrue(p.waitFor(90, TimeUnit.SECONDS), "chromium finished");
        } finally {
            p.destroyForcibly();
        }
        String output = Files.readString(log, StandardCharsets.UTF_8);
        List<String> complaints = output.lines().filter(l -> l.contains("CONSOLE") || l.contains("Uncaught")
                || (l.contains("net::ERR_") && !l.contains("chrome://"))).toList();
        assertEquals(List.of(), complaints, "console errors or network requests:\n" + output);
        assertTrue(Files.size(screenshot) > 10_000, "a screenshot of the page is kept: " + screenshot);

        // The drawn page: where each chart shaded each fault window, in CSS pixels of its plot, must be the
        // window's seconds on the chart's x scale.
        List<String> dump = new ArrayList<>(command.subList(0, command.size() - 2));
        dump.add("--dump-dom");
        dump.add(run.resolve(ChaosReport.FILE).toUri().toString());
        Process d = new ProcessBuilder(dump).redirectErrorStream(false).redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        String dom = new String(d.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(d.waitFor(90, TimeUnit.SECONDS));
        Matcher drawn = Pattern.compile("data-drawn-windows=\"([^\"]*)\" data-drawn-scale=\"([0-9.]+):([0-9.]+):([0-9.]+)\"")
                .matcher(dom);
        int checked = 0;
        while (drawn.find()) {
            double min = Double.parseDouble(drawn.group(2));
            double max = Double.parseDouble(drawn.group(3));
            double width = Double.parseDouble(drawn.group(4));
            for (String w : drawn.group(1).split(";")) {
                String[] at = w.substring(w.indexOf('@') + 1).split(":");
                int from = w.startsWith("F1") ? 5 : 20;
                int to = w.startsWith("F1") ? 12 : 30;
                assertEquals((from - min) / (max - min) * width, Double.parseDouble(at[0]), 0.6, w);
                assertEquals((to - min) / (max - min) * width, Double.parseDouble(at[1]), 0.6, w);
            }
            checked++;
        }
        assertTrue(checked >= 6, "every chart was drawn by the page's script: " + checked);
        Matcher knees = Pattern.compile("data-drawn-points=\"(\\d+)\"").matcher(dom);
        int kneesDrawn = 0;
        while (knees.find()) {
            assertEquals("4", knees.group(1), "every plateau drawn as a point");
            kneesDrawn++;
        }
        assertEquals(3, kneesDrawn, "the three knees were drawn");
        // The per-second strip is stretched over exactly the charts' plot area.
        Matcher plot = Pattern.compile("u-over\" style=\"left: ([0-9.]+)px; top: [0-9.]+px; width: ([0-9.]+)px").matcher(dom);
        Matcher strip = Pattern.compile("<svg class=\"strip\"[^>]* width=\"([0-9.]+)\"[^>]* style=\"margin-left: ([0-9.]+)px;")
                .matcher(dom);
        assertTrue(plot.find() && strip.find(), "a drawn chart and a stretched strip");
        assertEquals(Double.parseDouble(plot.group(1)), Double.parseDouble(strip.group(2)), 1.0, "strip starts with the plot");
        assertEquals(Double.parseDouble(plot.group(2)), Double.parseDouble(strip.group(1)), 1.0, "strip as wide as the plot");
        Files.deleteIfExists(log);
        deleteTree(profile);
    }

    private static List<JsonNode> charts(String html) throws IOException {
        List<JsonNode> charts = new ArrayList<>();
        Matcher m = Pattern.compile("data-chart=\"([^\"]*)\"").matcher(html);
        while (m.find()) {
            charts.add(new ObjectMapper().readTree(m.group(1).replace("&quot;", "\"").replace("&lt;", "<")
                    .replace("&gt;", ">").replace("&amp;", "&")));
        }
        return charts;
    }

    private static String windows(JsonNode chart) {
        StringBuilder out = new StringBuilder("[");
        for (JsonNode w : chart.path("windows")) {
            out.append(out.length() > 1 ? "," : "").append("{\"fault\":").append(w.path("fault")).append(",\"from\":")
                    .append(w.path("from")).append(",\"to\":").append(w.path("to")).append("}");
        }
        return out.append("]").toString();
    }

    /** A capacity search this run confirms: climbing 10, 20, 40 (p99 failed), then 28.3 between. */
    private static final Capacity CAPACITY = Capacity.of(List.of(
            plateau(1, "grow", 10, 120, Capacity.Outcome.PASS), plateau(2, "grow", 20, 180, Capacity.Outcome.PASS),
            plateau(3, "grow", 40, 2400, Capacity.Outcome.FAIL), plateau(4, "bisect", 28.3, 300, Capacity.Outcome.PASS)));

    private static Capacity.Plateau plateau(int index, String purpose, double rate, double p99, Capacity.Outcome outcome) {
        boolean failed = outcome == Capacity.Outcome.FAIL;
        return new Capacity.Plateau(index, purpose, rate, rate * 5, p99, failed ? 1.5 : 0, outcome,
                failed ? List.of("p99") : List.of(), failed ? "FAIL p99: 2400 ms > 1000 ms" : null,
                "capacitysimulation-capacity-20261206000000/capacitysimulation-" + index);
    }

    /** A run folder with every kind of data: faults, pools, lag, stale reads, lost writes, stock. */
    private Path writeRun() throws IOException {
        Path run = dir.resolve("blackfridaysimulation-20261201000000000");
        LatencyRecorder r = new LatencyRecorder(0);
        List<ProbeSample> probes = new ArrayList<>();
        for (int s = 0; s < 30; s++) {
            for (int i = 0; i < 30; i++) {
                r.record("browse: product page", s, 2_000 + 100L * i, s != 21 || i > 3);
            }
            probes.add(new ProbeSample(s, 2, 8, 0, 1, 9, 0, 0, 0, s > 20 ? 3 : 0, 0, s * 1000L, s * 10L));
        }
        FaultTimeline timeline = FaultTimeline.of(List.of(
                new FaultTimeline.Event(5_200, "F1 ReplicationLag", FaultTimeline.Kind.INJECT, "lag <200 ms>", Map.of()),
                new FaultTimeline.Event(11_400, "F1 ReplicationLag", FaultTimeline.Kind.HEAL, "healed", Map.of()),
                new FaultTimeline.Event(20_100, "F2 PrimaryFailover", FaultTimeline.Kind.INJECT, "primary killed", Map.of())));
        SessionReport.Witness stale = new SessionReport.Witness("read-your-writes (later)", 7, "profile update", "user:7",
                "profile: come back", "version 5 'Ada w1'", 6.0, "version 4 'Ada w0'", 9.1, "replica (reader)",
                "F1 ReplicationLag", null);
        SessionReport.Witness explained = new SessionReport.Witness("read-your-writes (later)", 8, "order", "order:k",
                "orders: come back", "version 1 'k'", 19.0, "absent", 24.0, "primary (writer)", "F2 PrimaryFailover", "k");
        SessionReport sessions = new SessionReport(List.of(new SessionReport.GuaranteeResult(
                Guarantee.READ_YOUR_WRITES_LATER, "read-your-writes (later)", 40, 1, 1, List.of(stale), Map.of(9, 1L))),
                1, List.of(explained));
        WriteLedger.Audit audit = new WriteLedger.Audit(List.of(new WriteLedger.KindAudit("order", 20, 1, 1, 0, 2, 0,
                List.of(new WriteLedger.Named("k", "order:k", 8, 19.0)), List.of())), null, Set.of("k"));
        Inventory.StockAudit stock = new Inventory.StockAudit(100, 0, 0, 0, 4, 1, List.of(
                new Inventory.ProductStock(1, 10, 0, 10, 0, 10)), List.of(), null);
        Verdict v = Verdict.of("BlackFridaySimulation", "local", "2026-12-01T00:00:00Z", 30,
                List.of(new CheckResult("lost acknowledged writes", 0, 1, "writes", false, "order 1 of 20"),
                        CheckResult.notJudged("pool active growth", 2, Double.NaN, "connections",
                                "no HikariCP meters matched pool names [HikariPool-1 → ?, HikariPool-2 → ?]",
                                "set app.pools to each pool's role")), 900, 4, audit,
                sessions, stock, timeline.events()).withWindows(List.of(new SecondCompliance.Window(
                        "p99 ≤ 1000 ms in ≥ 95% of seconds", SecondCompliance.P99, 1000, 95, 30, List.of(21))))
                .withCacheStaleness(new CacheStaleness(120, 2, 2_300.5, List.of(
                        new CacheStaleness.Bucket(null, 0L, 118), new CacheStaleness.Bucket(0L, 1_000L, 1),
                        new CacheStaleness.Bucket(1_000L, null, 1)), List.of(new CacheStaleness.Witness("user:9",
                        "version 2 'Bo <w2>'", 3, 6.2, 8.5, 2_300.5, 9, "cache (cache)", "F1 ReplicationLag")), null))
                .withCapacity(CAPACITY);
        ChaosReport.write(run.resolve(ChaosReport.FILE), v, r, probes, List.of(new Phase("peak", 0, 30)), timeline);
        return run;
    }

    private static void deleteTree(Path root) throws IOException {
        try (var tree = Files.walk(root)) {
            for (Path p : (Iterable<Path>) tree.sorted(java.util.Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
