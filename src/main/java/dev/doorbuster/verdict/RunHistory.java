package dev.doorbuster.verdict;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.ToDoubleFunction;
import java.util.stream.Stream;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.doorbuster.topology.Environment;
import dev.doorbuster.verdict.consistency.Guarantee;
import dev.doorbuster.verdict.consistency.SessionReport;
import dev.doorbuster.verdict.consistency.WriteLedger;
import dev.doorbuster.verdict.recording.Recording;
import dev.doorbuster.verdict.report.ChaosReport;

/**
 * Every run under {@code reports/}, compared: {@code reports/index.html} lists the runs newest first with
 * their headline figures, draws each simulation's trends across runs, and shows each run's deltas against
 * its simulation's <b>baseline</b> run ({@code reports/baselines.json}, set with {@code doorbuster baseline}).
 * The same comparison gives the regression checks a run fails when it is worse than the baseline by more
 * than the environment's {@code slo.regression} budgets. {@code reports/} is outside {@code target/}, so the
 * history survives {@code mvn clean}.
 */
public final class RunHistory {
    public static final String BASELINES = "baselines.json";
    /** The history page's file name in {@code reports/}. */
    public static final String PAGE = "index.html";
    /** {@code -Ddoorbuster.reports=<folder>}: where runs keep their folders ({@code reports} by default). */
    public static final String REPORTS_PROPERTY = "doorbuster.reports";

    /** The reports folder this JVM was given ({@link #REPORTS_PROPERTY}), absolute. */
    public static Path reportsDir() {
        return Path.of(System.getProperty(REPORTS_PROPERTY, "reports")).toAbsolutePath();
    }
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private RunHistory() {
    }

    /**
     * A run's figures at a glance: what trends and baselines compare. NaN where the run did not measure it.
     *
     * @param staleReads  session-guarantee violations, by check name
     * @param peakRate    requests per second in the busiest second
     */
    public record Headline(double p99Ms, double errorRatePercent, double rtoMs, Map<String, Long> staleReads,
                           double lostWrites, double peakRate, long requests, double capacity) {
        /** The headline of a run that searched no capacity. */
        public Headline(double p99Ms, double errorRatePercent, double rtoMs, Map<String, Long> staleReads,
                        double lostWrites, double peakRate, long requests) {
            this(p99Ms, errorRatePercent, rtoMs, staleReads, lostWrites, peakRate, requests, Double.NaN);
        }

        public static Headline of(Verdict v, double peakRate) {
            return of(v.checks(), v.sessions(), v.writes(), v.requests(), peakRate, v.capacity());
        }

        /** The headline of a run's checks and accounting, before they are a {@link Verdict} (its regression checks). */
        public static Headline of(List<CheckResult> checks, SessionReport sessions, WriteLedger.Audit writes,
                                  long requests, double peakRate) {
            return of(checks, sessions, writes, requests, peakRate, null);
        }

        /** As {@link #of(List, SessionReport, WriteLedger.Audit, long, double)}, with the capacity search it ran. */
        public static Headline of(List<CheckResult> checks, SessionReport sessions, WriteLedger.Audit writes,
                                  long requests, double peakRate, Capacity capacity) {
            Map<String, Long> stale = new LinkedHashMap<>();
            if (sessions != null) {
                sessions.guarantees().forEach(g -> stale.put(g.check(), g.violations()));
            }
            return new Headline(actual(checks, "p99"), actual(checks, "error rate"), checks.stream()
                    .filter(c -> c.name().startsWith("failover RTO") && !c.notJudged()).mapToDouble(CheckResult::actual)
                    .max().orElse(Double.NaN),
                    stale, writes == null || writes.isEmpty() ? Double.NaN : writes.lost(), peakRate, requests,
                    capacity == null || capacity.capacityRate() <= 0 ? Double.NaN : capacity.capacityRate());
        }

        /** Violations of every session guarantee (NaN when the run checked none). */
        public double staleReadsTotal() {
            return staleReads.isEmpty() ? Double.NaN : staleReads.values().stream().mapToLong(Long::longValue).sum();
        }

        /** The figure of a judged check (a check not judged measured nothing to compare). */
        private static double actual(List<CheckResult> checks, String check) {
            return checks.stream().filter(c -> c.name().equals(check) && !c.notJudged()).mapToDouble(CheckResult::actual)
                    .findFirst().orElse(Double.NaN);
        }
    }

    /** One run folder as the history sees it; {@code problem} says why it could not be read (then the rest is null). */
    public record Entry(Path dir, Verdict verdict, Headline headline, String problem) {
        public String name() {
            return dir.getFileName().toString();
        }
    }

    /** Every run under {@code reportsDir}, newest first (by start time, then folder name). */
    public static List<Entry> runs(Path reportsDir) throws IOException {
        List<Entry> entries = new ArrayList<>();
        if (!Files.isDirectory(reportsDir)) {
            return entries;
        }
        try (Stream<Path> dirs = Files.list(reportsDir)) {
            for (Path dir : dirs.filter(d -> Files.isRegularFile(d.resolve(Verdict.JSON_FILE))).toList()) {
                entries.add(entry(dir));
            }
        }
        entries.sort(Comparator.comparing((Entry e) -> e.verdict() == null ? "" : e.verdict().startedAt())
                .thenComparing(Entry::name).reversed());
        return entries;
    }

    static Entry entry(Path dir) {
        try {
            Verdict v = Verdict.readJson(dir.resolve(Verdict.JSON_FILE));
            return new Entry(dir, v, Headline.of(v, Recording.peakRate(dir)), null);
        } catch (IOException | RuntimeException e) {
            return new Entry(dir, null, null, "unreadable " + Verdict.JSON_FILE + ": " + e.getMessage());
        }
    }

    /** Marks {@code runDir} as the baseline of its simulation. */
    public static String markBaseline(Path runDir) throws IOException {
        Entry e = entry(runDir);
        if (e.verdict() == null) {
            throw new IOException(runDir + " has no readable " + Verdict.JSON_FILE + ", so it cannot be a baseline (" + e.problem() + ")");
        }
        Path reportsDir = runDir.toAbsolutePath().getParent();
        Map<String, String> baselines = new TreeMap<>(baselines(reportsDir));
        baselines.put(e.verdict().simulation(), e.name());
        JSON.writeValue(reportsDir.resolve(BASELINES).toFile(), baselines);
        return e.verdict().simulation();
    }

    /** Simulation → baseline run folder name, from {@code reports/baselines.json} (empty if none or unreadable). */
    public static Map<String, String> baselines(Path reportsDir) {
        Path file = reportsDir.resolve(BASELINES);
        if (!Files.isRegularFile(file)) {
            return Map.of();
        }
        try {
            return JSON.readValue(file.toFile(), new TypeReference<Map<String, String>>() { });
        } catch (IOException e) {
            return Map.of();
        }
    }

    /**
     * The baseline of {@code simulation}: {@code override} if given ({@code -Dbaseline=<run folder or name>}),
     * else the one marked in baselines.json; empty if none (or it cannot be read).
     */
    public static Optional<Entry> baseline(Path reportsDir, String simulation, String override) {
        String name = override != null && !override.isBlank() ? override : baselines(reportsDir).get(simulation);
        if (name == null) {
            return Optional.empty();
        }
        Path dir = Path.of(name).isAbsolute() || name.contains("/") ? Path.of(name) : reportsDir.resolve(name);
        Entry e = entry(dir);
        return e.verdict() == null ? Optional.empty() : Optional.of(e);
    }

    /**
     * The regression checks of a run against its baseline, for each budget that is set: P99 and RTO in percent
     * above the baseline's, the error rate in percentage points above it. A budget that is set asks for its check
     * where it applies: when neither run measured the figure (no failover in either) there is nothing to compare;
     * when only one did (a failover in one of them, a P99 not judged), it is not judged, saying which.
     */
    public static List<CheckResult> regressions(Headline now, Entry baseline, Environment.Regression budgets) {
        List<CheckResult> checks = new ArrayList<>();
        if (budgets == null || baseline == null) {
            return checks;
        }
        Headline base = baseline.headline();
        String against = " vs baseline " + baseline.name();
        if (budgets.p99Percent() != null && either(now.p99Ms(), base.p99Ms())) {
            checks.add(finite(now.p99Ms(), base.p99Ms())
                    ? CheckResult.atMost("p99 vs baseline", budgets.p99Percent(), percentAbove(now.p99Ms(), base.p99Ms()),
                            "% above", "p99 " + Math.round(now.p99Ms()) + " ms now, " + Math.round(base.p99Ms()) + " ms"
                                    + against)
                    : unmeasured("p99 vs baseline", budgets.p99Percent(), "% above", "p99", now.p99Ms(), baseline));
        }
        if (budgets.errorRatePoints() != null && either(now.errorRatePercent(), base.errorRatePercent())) {
            checks.add(finite(now.errorRatePercent(), base.errorRatePercent())
                    ? CheckResult.atMost("error rate vs baseline", budgets.errorRatePoints(),
                            round2(now.errorRatePercent() - base.errorRatePercent()), "points above", "error rate "
                                    + CheckResult.format(now.errorRatePercent()) + " % now, "
                                    + CheckResult.format(base.errorRatePercent()) + " %" + against)
                    : unmeasured("error rate vs baseline", budgets.errorRatePoints(), "points above", "error rate",
                            now.errorRatePercent(), baseline));
        }
        if (budgets.rtoPercent() != null && either(now.rtoMs(), base.rtoMs())) {
            checks.add(finite(now.rtoMs(), base.rtoMs())
                    ? CheckResult.atMost("failover RTO vs baseline", budgets.rtoPercent(),
                            percentAbove(now.rtoMs(), base.rtoMs()), "% above", "worst RTO " + Math.round(now.rtoMs())
                                    + " ms now, " + Math.round(base.rtoMs()) + " ms" + against)
                    : unmeasured("failover RTO vs baseline", budgets.rtoPercent(), "% above", "failover RTO",
                            now.rtoMs(), baseline));
        }
        if (budgets.capacityPercent() != null && either(now.capacity(), base.capacity())) {
            checks.add(finite(now.capacity(), base.capacity())
                    ? CheckResult.atMost("capacity vs baseline", budgets.capacityPercent(),
                            Math.max(0, -percentAbove(now.capacity(), base.capacity())), "% below", "capacity "
                                    + CheckResult.format(now.capacity()) + " shoppers/s now, "
                                    + CheckResult.format(base.capacity()) + " shoppers/s" + against)
                    : unmeasured("capacity vs baseline", budgets.capacityPercent(), "% below", "capacity",
                            now.capacity(), baseline));
        }
        return checks;
    }

    /** A regression check whose figure this run or its baseline did not measure. */
    private static CheckResult unmeasured(String check, double budget, String unit, String figure, double now,
                                          Entry baseline) {
        String which = Double.isFinite(now) ? "the baseline " + baseline.name() : "this run";
        return CheckResult.notJudged(check, budget, Double.NaN, unit, which + " measured no " + figure,
                "compare runs that both measure it: choose another baseline (doorbuster baseline), or unset the "
                        + "regression budget for it");
    }

    private static boolean finite(double a, double b) {
        return Double.isFinite(a) && Double.isFinite(b);
    }

    private static boolean either(double a, double b) {
        return Double.isFinite(a) || Double.isFinite(b);
    }

    private static double percentAbove(double now, double base) {
        return round2(100.0 * (now - base) / Math.max(base, 1e-9));
    }

    private static double round2(double v) {
        return Math.round(v * 100) / 100.0;
    }

    // ---- the history page ------------------------------------------------------------------------------------

    /** {@code higherIsBetter}: a rise is an improvement (the capacity), not a regression. */
    private record Metric(String name, String unit, ToDoubleFunction<Headline> value, boolean higherIsBetter) {
        Metric(String name, String unit, ToDoubleFunction<Headline> value) {
            this(name, unit, value, false);
        }
    }

    /** The history table's columns. */
    private static final List<Metric> METRICS = List.of(
            new Metric("p99", "ms", Headline::p99Ms),
            new Metric("error rate", "%", Headline::errorRatePercent),
            new Metric("failover RTO", "ms", Headline::rtoMs),
            new Metric("stale reads", "reads", h -> h.staleReadsTotal()),
            new Metric("lost writes", "writes", Headline::lostWrites),
            new Metric("peak rate", "req/s", Headline::peakRate),
            new Metric("capacity", "shoppers/s", Headline::capacity, true));

    /** The trend charts: the table's figures, with the stale reads by kind of violation. */
    private static final List<Metric> TRENDS = java.util.stream.Stream.concat(METRICS.stream()
                    .filter(m -> !m.name().equals("stale reads")),
            java.util.Arrays.stream(Guarantee.values()).map(g -> new Metric(g.check(), "reads",
                    h -> h.staleReads().containsKey(g.check()) ? h.staleReads().get(g.check()) : Double.NaN))).toList();

    /** Writes {@code reportsDir/index.html}: every run newest first, deltas to baselines, trends per simulation. */
    public static void writeIndex(Path reportsDir) throws IOException {
        List<Entry> runs = runs(reportsDir);
        Map<String, String> baselines = baselines(reportsDir);
        Map<String, Entry> baselineEntries = new LinkedHashMap<>();
        for (Entry e : runs) {
            if (e.verdict() != null && e.name().equals(baselines.get(e.verdict().simulation()))) {
                baselineEntries.put(e.verdict().simulation(), e);
            }
        }
        StringBuilder html = new StringBuilder("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                + "<title>Doorbuster runs</title><style>body{font:14px system-ui,sans-serif;margin:24px;color:#222}"
                + "table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:4px 10px;text-align:left;"
                + "vertical-align:top}.pass{color:#1a7f37}.fail{color:#cf222e;font-weight:600}.nj{color:#9a6700}.worse{color:#cf222e}"
                + ".better{color:#1a7f37}.base{background:#fff7d6}h2{font-size:17px;margin-top:28px}.trend{display:inline-block;"
                + "margin:0 18px 12px 0}svg text{font-size:10px}</style></head><body><h1>Doorbuster runs</h1>"
                + "<p>Newest first. Deltas are against each simulation's baseline run (highlighted; mark one with "
                + "<code>doorbuster baseline &lt;run folder&gt;</code>).</p><table><tr><th>run</th><th>started</th>"
                + "<th>environment</th><th>verdict</th>");
        for (Metric m : METRICS) {
            html.append("<th>").append(ChaosReport.esc(m.name())).append("</th>");
        }
        html.append("<th>failed checks</th></tr>");
        for (Entry e : runs) {
            String name = ChaosReport.esc(e.name());
            if (e.verdict() == null) {
                html.append("<tr><td>").append(name).append("</td><td colspan=\"").append(4 + METRICS.size())
                        .append("\">").append(ChaosReport.esc(e.problem())).append("</td></tr>");
                continue;
            }
            Verdict v = e.verdict();
            Entry base = baselineEntries.get(v.simulation());
            boolean isBase = base != null && base.name().equals(e.name());
            html.append("<tr").append(isBase ? " class=\"base\"" : "").append("><td><a href=\"").append(name)
                    .append("/").append(ChaosReport.FILE).append("\">").append(ChaosReport.esc(v.simulation()))
                    .append("</a> (<a href=\"").append(name).append("/").append(ChaosReport.GATLING_PAGE)
                    .append("\">Gatling</a>)").append(isBase ? " <b>baseline</b>" : "").append("</td><td>")
                    .append(ChaosReport.esc(v.startedAt())).append("</td><td>").append(ChaosReport.esc(v.environment()))
                    .append("</td><td class=\"").append(v.passed() ? "pass\">passed" : "fail\">failed").append("</td>");
            for (Metric m : METRICS) {
                double now = m.value().applyAsDouble(e.headline());
                html.append("<td>").append(Double.isNaN(now) ? "" : CheckResult.format(round2(now)) + " " + m.unit());
                if (base != null && !isBase) {
                    html.append(delta(now, m.value().applyAsDouble(base.headline()), m.higherIsBetter()));
                }
                html.append("</td>");
            }
            List<String> unjudged = v.notJudged().stream().map(CheckResult::name).toList();
            html.append("<td>").append(ChaosReport.esc(String.join("; ", v.failures().stream().map(CheckResult::name)
                    .toList()))).append(unjudged.isEmpty() ? "" : " <span class=\"nj\">not judged: "
                            + ChaosReport.esc(String.join("; ", unjudged)) + "</span>").append("</td></tr>");
        }
        if (runs.isEmpty()) {
            html.append("<tr><td colspan=\"").append(5 + METRICS.size()).append("\">No run yet.</td></tr>");
        }
        html.append("</table>");
        Map<String, List<Entry>> bySimulation = new TreeMap<>();
        for (Entry e : runs) {
            if (e.verdict() != null) {
                bySimulation.computeIfAbsent(e.verdict().simulation(), s -> new ArrayList<>()).add(0, e); // oldest first
            }
        }
        for (Map.Entry<String, List<Entry>> sim : bySimulation.entrySet()) {
            html.append("<h2>").append(ChaosReport.esc(sim.getKey())).append(": trends over ").append(sim.getValue().size())
                    .append(" run(s)</h2>");
            Entry base = baselineEntries.get(sim.getKey());
            for (Metric m : TRENDS) {
                if (sim.getValue().stream().anyMatch(e -> Double.isFinite(m.value().applyAsDouble(e.headline())))) {
                    trend(html, m, sim.getValue(), base); // a metric no run of it measured gets no chart
                }
            }
        }
        html.append("</body></html>\n");
        Files.createDirectories(reportsDir);
        Files.writeString(reportsDir.resolve(PAGE), html, StandardCharsets.UTF_8);
    }

    /**
     * For the first screen of a run's {@code chaos.html}: how it compares with its simulation's baseline (the
     * run marked in {@code baselines.json} next to it), or how to get one.
     */
    public static String comparison(Path runDir, Verdict v, double peakRate) {
        Path reportsDir = runDir.toAbsolutePath().getParent();
        if (reportsDir == null) {
            return "";
        }
        Optional<Entry> base = baseline(reportsDir, v.simulation(), null);
        if (base.isEmpty()) {
            return "<p>No baseline for " + ChaosReport.esc(v.simulation()) + " yet: mark a good run with <code>doorbuster "
                    + "baseline reports/&lt;run folder&gt;</code> to compare every later run with it.</p>";
        }
        if (base.get().dir().toAbsolutePath().normalize().equals(runDir.toAbsolutePath().normalize())) {
            return "<p>This run is the baseline of " + ChaosReport.esc(v.simulation()) + ".</p>";
        }
        Headline now = Headline.of(v, peakRate);
        StringBuilder line = new StringBuilder("<p id=\"baseline\">Against the baseline <a href=\"../")
                .append(ChaosReport.esc(base.get().name())).append("/").append(ChaosReport.FILE).append("\">").append(ChaosReport.esc(base.get().name()))
                .append("</a> (").append(base.get().verdict().passed() ? "passed" : "failed").append("):");
        for (Metric m : METRICS) {
            double value = m.value().applyAsDouble(now);
            if (Double.isFinite(value)) {
                line.append(" ").append(ChaosReport.esc(m.name())).append(' ').append(CheckResult.format(round2(value)))
                        .append(' ').append(m.unit()).append(delta(value, m.value().applyAsDouble(base.get().headline()), m.higherIsBetter()))
                        .append(';');
            }
        }
        return line.append("</p>").toString();
    }

    /** " (+12% vs baseline)", red when worse (lower is better, but for the capacity; the peak rate is neither). */
    private static String delta(double now, double base, boolean higherIsBetter) {
        if (!finite(now, base)) {
            return "";
        }
        double diff = now - base;
        String text = base == 0 ? (diff == 0 ? "±0" : (diff > 0 ? "+" : "") + CheckResult.format(round2(diff)))
                : String.format(Locale.ROOT, "%+.0f%%", 100 * diff / Math.abs(base));
        String cls = diff == 0 ? "" : (diff > 0) != higherIsBetter ? "worse" : "better";
        return " <span class=\"" + cls + "\">(" + text + ")</span>";
    }

    /** A small line chart of one metric over a simulation's runs, oldest left; the baseline run is ringed. */
    private static void trend(StringBuilder html, Metric m, List<Entry> runs, Entry base) {
        int w = 260;
        int h = 90;
        int pad = 24;
        double max = 0;
        for (Entry e : runs) {
            double v = m.value().applyAsDouble(e.headline());
            if (Double.isFinite(v)) {
                max = Math.max(max, v);
            }
        }
        max = max == 0 ? 1 : max * 1.1;
        html.append("<div class=\"trend\"><div>").append(ChaosReport.esc(m.name())).append(" (").append(m.unit())
                .append(")</div><svg width=\"").append(w).append("\" height=\"").append(h).append("\" role=\"img\">")
                .append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#444\"/>"
                        + "<text x=\"2\" y=\"10\">%s</text><text x=\"2\" y=\"%d\">0</text>", pad, h - pad / 2, w - 4,
                        h - pad / 2, CheckResult.format(round2(max)), h - pad / 2));
        StringBuilder points = new StringBuilder();
        for (int i = 0; i < runs.size(); i++) {
            double v = m.value().applyAsDouble(runs.get(i).headline());
            if (!Double.isFinite(v)) {
                continue;
            }
            double x = pad + (runs.size() == 1 ? (w - pad) / 2.0 : (w - pad - 8) * i / (double) (runs.size() - 1));
            double y = h - pad / 2.0 - (h - pad) * v / max;
            points.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
            boolean isBase = base != null && base.name().equals(runs.get(i).name());
            html.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%d\" fill=\"%s\" stroke=\"#a05a00\" "
                    + "stroke-width=\"%d\"><title>%s: %s %s</title></circle>", x, y, isBase ? 5 : 3,
                    runs.get(i).verdict().passed() ? "#1a7f37" : "#cf222e", isBase ? 2 : 0,
                    ChaosReport.esc(runs.get(i).name()), CheckResult.format(round2(v)), m.unit()));
        }
        html.append("<polyline fill=\"none\" stroke=\"#1f77b4\" points=\"").append(points).append("\"/></svg></div>");
    }
}
