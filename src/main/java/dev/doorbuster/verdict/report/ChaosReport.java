package dev.doorbuster.verdict.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

import dev.doorbuster.chaos.FaultTimeline;
import dev.doorbuster.verdict.CacheChecks;
import dev.doorbuster.verdict.CheckResult;
import dev.doorbuster.verdict.GeneratorHealth;
import dev.doorbuster.verdict.Provenance;
import dev.doorbuster.verdict.Phase;
import dev.doorbuster.verdict.PoolerReport;
import dev.doorbuster.verdict.probes.DatabaseErrors;
import dev.doorbuster.verdict.RunHistory;
import dev.doorbuster.verdict.SecondCompliance;
import dev.doorbuster.verdict.Verdict;
import dev.doorbuster.verdict.consistency.CacheStaleness;
import dev.doorbuster.verdict.consistency.Inventory;
import dev.doorbuster.verdict.consistency.SessionReport;
import dev.doorbuster.verdict.consistency.WriteLedger;
import dev.doorbuster.verdict.probes.ProbeSample;
import dev.doorbuster.verdict.recording.LatencyRecorder;
import dev.doorbuster.verdict.recording.Recording;
import dev.doorbuster.verdict.shard.ShardReport;
import org.HdrHistogram.Histogram;

/**
 * {@code chaos.html}: what users suffered, second by second, with every fault drawn over it. One
 * self-contained page (charts by {@link Charts}, inlined: no outside resource) next to Gatling's report: the
 * verdict, then latency, throughput and errors, consistency, the cache tier, both pools, replication lag, then the
 * fault timeline.
 */
public final class ChaosReport {
    /** The page's file name in a run folder. */
    public static final String FILE = "chaos.html";
    /** Gatling's own report page, written into the same run folder; the page links to it. */
    public static final String GATLING_PAGE = "index.html";

    private ChaosReport() {
    }

    /** A link to a file of the same run folder, named by its file name. */
    private static String link(String file) {
        return "<a href=\"" + esc(file) + "\">" + esc(file) + "</a>";
    }

    public static void write(Path file, Verdict verdict, LatencyRecorder recorder, List<ProbeSample> probes,
                             List<Phase> phases, FaultTimeline timeline) throws IOException {
        write(file, verdict, recorder, probes, phases, timeline, List.of());
    }

    /**
     * Rebuilds {@code chaos.html} in {@code runDir} from the run's recorded data ({@link Recording}); returns
     * the files that were missing or corrupt (also shown at the top of the page). Never needs the run again.
     */
    public static List<String> rebuild(Path runDir) throws IOException {
        Recording.Loaded loaded = Recording.read(runDir);
        Verdict verdict = loaded.verdict() != null ? loaded.verdict()
                : Verdict.of(runDir.getFileName().toString(), "?", "?", 0, List.of(CheckResult.notJudged(
                        Verdict.JSON_FILE, Double.NaN, Double.NaN, "", "missing or corrupt: whether this run passed is "
                                + "unknown", "run it again")), 0, 0, null, null, null, List.of());
        write(runDir.resolve(FILE), verdict, loaded.recorder(), loaded.probes(), loaded.phases(), loaded.timeline(),
                loaded.problems());
        return loaded.problems();
    }

    /** As {@link #write(Path, Verdict, LatencyRecorder, List, List, FaultTimeline)}, naming missing data first. */
    static void write(Path file, Verdict verdict, LatencyRecorder recorder, List<ProbeSample> probes,
                      List<Phase> phases, FaultTimeline timeline, List<String> problems) throws IOException {
        int seconds = Math.max(1, recorder.lastSecond() + 1);
        double[] p50 = new double[seconds];
        double[] p99 = new double[seconds];
        double[] ok = new double[seconds];
        double[] ko = new double[seconds];
        for (int s = 0; s < seconds; s++) {
            Histogram h = recorder.histogram(null, s, s + 1);
            p50[s] = h.getTotalCount() == 0 ? Double.NaN : h.getValueAtPercentile(50) / 1000.0;
            p99[s] = h.getTotalCount() == 0 ? Double.NaN : h.getValueAtPercentile(99) / 1000.0;
            LatencyRecorder.Counts c = recorder.counts(null, s, s + 1);
            ok[s] = c.ok();
            ko[s] = c.ko();
        }
        List<FaultTimeline.Window> windows = timeline.windows();
        StringBuilder html = new StringBuilder();
        html.append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Doorbuster: ")
                .append(esc(verdict.simulation())).append("</title><style>")
                .append("body{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:1000px}")
                .append("h1{font-size:22px}h2{font-size:17px;margin-top:28px}table{border-collapse:collapse;width:100%}")
                .append("td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}")
                .append(".pass{color:#1a7f37}.fail{color:#cf222e;font-weight:600}.badge{padding:2px 10px;border-radius:4px;")
                .append("color:#fff}.bp{background:#1a7f37}.bf{background:#cf222e}svg text{font-size:11px}")
                // Not judged: neither green nor red, and never mistaken for either.
                .append(".nj{color:#9a6700;font-weight:600}.bn{background:#9a6700}tr.nj-row td{background:#fff8c5}")
                .append(".legend span{margin-right:14px}.chart{margin:4px 0 14px}.worse{color:#cf222e}.better{color:#1a7f37}</style>").append(Charts.head())
                .append("</head><body>");
        html.append("<h1>").append(esc(verdict.simulation())).append(" on '").append(esc(verdict.environment()))
                .append("' <span class=\"badge ").append(verdict.passed() ? "bp\">PASSED" : "bf\">FAILED")
                .append("</span>").append(verdict.notJudged().isEmpty() ? "" : " <span class=\"badge bn\">"
                        + verdict.notJudged().size() + " NOT JUDGED</span>")
                .append("</h1><p>Started ").append(esc(verdict.startedAt())).append(", ")
                .append(Math.round(verdict.durationSeconds())).append(" s of load, ").append(verdict.requests())
                .append(" requests, ").append(verdict.failedRequests())
                .append(" failed. Gatling's load report: ").append(link(GATLING_PAGE)).append("; machine-readable: ")
                .append(link(Verdict.JSON_FILE)).append(", ").append(link(Verdict.JUNIT_FILE)).append(".</p>");
        double peak = 0;
        for (int s = 0; s < seconds; s++) {
            peak = Math.max(peak, ok[s] + ko[s]);
        }
        html.append(RunHistory.comparison(file.getParent(), verdict, peak));

        if (!problems.isEmpty()) {
            html.append("<div class=\"fail\"><p>Rebuilt from the run's recorded data; some of it could not be read, so "
                    + "parts of this page are missing:</p><ul>");
            problems.forEach(p -> html.append("<li>").append(esc(p)).append("</li>"));
            html.append("</ul></div>");
        }
        cacheSummary(html, verdict, recorder);
        poolerSummary(html, verdict.pooler());
        databaseErrors(html, verdict.databaseErrors());
        CapacityReport.write(html, verdict.capacity(), verdict.passed());
        html.append("<h2>Checks</h2><table><tr><th></th><th>check</th><th>actual</th><th>budget</th><th>how measured</th></tr>");
        for (CheckResult c : verdict.checks()) {
            String outcome = switch (c.outcome()) {
                case PASS -> "pass";
                case FAIL -> "fail";
                case NOT_JUDGED -> "nj";
            };
            html.append("<tr").append(c.notJudged() ? " class=\"nj-row\"" : "").append("><td class=\"").append(outcome)
                    .append("\">").append(c.outcome().label()).append("</td><td>")
                    .append(esc(c.name())).append("</td><td>").append(CheckResult.format(c.actual())).append(' ')
                    .append(esc(c.unit())).append("</td><td>").append(CheckResult.format(c.budget())).append(' ')
                    .append(esc(c.unit())).append("</td><td>");
            if (c.notJudged()) {
                html.append("<b>not judged:</b> ").append(esc(c.detail()));
                if (c.fix() != null) {
                    html.append("<br><b>to judge it:</b> ").append(esc(c.fix()));
                }
                if (!c.notJudgedAskedFor()) {
                    html.append("<br>not asked for by the simulation: reported only");
                }
            } else {
                html.append(esc(c.detail()));
            }
            html.append("</td></tr>");
        }
        html.append("</table>");
        baselineDifferences(html, verdict.provenance());
        shards(html, verdict.shards());
        secondStrips(html, verdict, recorder, seconds);

        html.append("<h2>Latency (all requests, per second)</h2>");
        chart(html, seconds, windows, phases, "ms", List.of(new Series("p99", p99), new Series("p50", p50)));
        html.append("<h2>Throughput</h2>");
        chart(html, seconds, windows, phases, "req/s", List.of(new Series("OK", ok), new Series("KO", ko)));
        generator(html, verdict.generator(), seconds, windows, phases);
        consistency(html, verdict, seconds, windows, phases);
        cache(html, verdict, seconds, windows, phases);
        cacheStaleness(html, verdict.cacheStaleness());
        pooler(html, verdict.pooler(), seconds, windows, phases);
        if (!probes.isEmpty()) {
            html.append("<h2>Connection pools</h2>");
            chart(html, seconds, windows, phases, "connections", List.of(
                    new Series("writer active", perSecond(probes, seconds, ProbeSample::writerActive)),
                    new Series("writer pending", perSecond(probes, seconds, ProbeSample::writerPending)),
                    new Series("reader active", perSecond(probes, seconds, ProbeSample::readerActive)),
                    new Series("reader pending", perSecond(probes, seconds, ProbeSample::readerPending))));
            html.append("<h2>Application errors (per second, by kind)</h2>");
            chart(html, seconds, windows, phases, "errors/s", List.of(
                    new Series("pool exhausted (503)", increments(probes, seconds, ProbeSample::poolExhaustedErrors)),
                    new Series("database unavailable (503)", increments(probes, seconds, ProbeSample::dbUnavailableErrors)),
                    new Series("request timeout", increments(probes, seconds, ProbeSample::requestTimeouts)),
                    new Series("pool connection timeouts", increments(probes, seconds, ProbeSample::poolTimeouts))));
            html.append("<h2>Replication lag</h2>");
            chart(html, seconds, windows, phases, "ms", List.of(new Series("lag (ms)",
                    perSecond(probes, seconds, s -> s.lagMillis() < 0 ? Double.NaN : s.lagMillis()))));
            chart(html, seconds, windows, phases, "kB", List.of(new Series("lag (kB of WAL)",
                    perSecond(probes, seconds, s -> s.lagBytes() < 0 ? Double.NaN : s.lagBytes() / 1000.0))));
        }

        DatabaseReport.appendHtml(html, verdict.database());
        html.append("<h2>Fault timeline</h2><table><tr><th>time</th><th>fault</th><th>event</th><th>what</th></tr>");
        for (FaultTimeline.Event e : timeline.events()) {
            html.append("<tr><td>").append(String.format(Locale.ROOT, "%.1f s", e.atMillis() / 1000.0)).append("</td><td>")
                    .append(esc(e.fault())).append("</td><td>").append(e.kind().name().toLowerCase(Locale.ROOT))
                    .append("</td><td>").append(esc(e.message())).append("</td></tr>");
        }
        if (timeline.events().isEmpty()) {
            html.append("<tr><td colspan=\"4\">No fault in this run.</td></tr>");
        }
        html.append("</table>");
        provenance(html, verdict.provenance());
        html.append(Charts.script()).append("</body></html>\n");
        Files.createDirectories(file.getParent());
        Files.writeString(file, html, StandardCharsets.UTF_8);
    }

    private record Series(String name, double[] values) {
    }

    /**
     * The first screen's answer for a run with a cache tier: what each cache fault did to the database (its reads per
     * second during the fault against the minute before, and what Redis itself says the cache was absorbing) and to
     * the shoppers (P99 and failed requests while it lasted), and how long a cold cache took to warm.
     */
    private static void cacheSummary(StringBuilder html, Verdict verdict, LatencyRecorder recorder) {
        CacheChecks.Report cache = verdict.cache();
        if (cache == null) {
            return;
        }
        html.append("<h2>Cache tier</h2><ul>");
        html.append("<li>The cache answered ").append(percent(cache.hitRatio())).append(" of the storefront's ")
                .append(CheckResult.format(cache.lookupHits() + cache.lookupMisses() + cache.lookupErrors()))
                .append(" lookups (Redis's own count: ").append(CheckResult.format(cache.redisHits())).append(" hits, ")
                .append(CheckResult.format(cache.redisMisses())).append(" misses); ")
                .append(CheckResult.format(cache.lookupErrors())).append(" lookups failed.</li>");
        for (CacheChecks.Amplification a : cache.amplifications()) {
            LatencyRecorder.Counts counts = recorder.counts(null, a.fromSecond(), a.toSecond());
            Histogram h = recorder.histogram(null, a.fromSecond(), a.toSecond());
            html.append("<li><b>").append(esc(a.fault())).append("</b> (").append(a.fromSecond()).append("–")
                    .append(a.toSecond()).append(" s): the database took ")
                    .append(String.format(Locale.ROOT, "%.0f reads/s, %s the %.0f/s of the minute before",
                            a.readsPerSecondDuring(), Double.isNaN(a.ratio()) ? "against"
                                    : String.format(Locale.ROOT, "%.1f×", a.ratio()), a.readsPerSecondBefore()))
                    .append(Double.isNaN(a.redisHitsPerSecondBefore()) ? "" : String.format(Locale.ROOT,
                            " (the cache had been absorbing %.0f reads/s)", a.redisHitsPerSecondBefore()))
                    .append("; shoppers saw P99 ")
                    .append(h.getTotalCount() == 0 ? "n/a" : h.getValueAtPercentile(99) / 1000 + " ms")
                    .append(" and ").append(counts.ko()).append(" failed of ").append(counts.total())
                    .append(" requests.</li>");
        }
        for (CacheChecks.Warmup w : cache.warmups()) {
            html.append("<li><b>").append(esc(w.fault())).append("</b> at ").append(w.atSecond())
                    .append(" s: cold; ").append(w.secondsToWarm() < 0 ? "it never warmed back"
                            : "back within 10% of its hit ratio (" + percent(w.hitRatioBefore()) + ") after "
                            + w.secondsToWarm() + " s").append(".</li>");
        }
        for (CacheChecks.Expiry e : cache.expiries()) {
            html.append("<li><b>").append(esc(e.fault())).append("</b> at ").append(e.atSecond()).append(" s: ")
                    .append(e.keys()).append(" hot key(s) expired; ")
                    .append(String.format(Locale.ROOT, "%.0f", e.originFetches()))
                    .append(" database reads rebuilt them (").append(CheckResult.format(e.perKey()))
                    .append(" per key).</li>");
        }
        html.append("</ul>");
    }

    /**
     * The first screen's answer for a run with a pooler tier: how many of the service's connections the pooler
     * multiplexed onto how many server connections, and whether clients queued for one (a storm, a pause).
     */
    static void poolerSummary(StringBuilder html, PoolerReport pooler) {
        if (pooler == null) {
            return;
        }
        html.append("<h2>Pooler tier</h2><ul><li>The pooler held at most ").append(CheckResult.format(pooler.peakClients()))
                .append(" of the service's connections, on at most ").append(CheckResult.format(pooler.peakServers()))
                .append(" server connections to the database.</li><li>")
                .append(pooler.peakClientsWaiting() > 0
                        ? (pooler.peakClientsWaiting() == 1 ? "A client"
                                : "Up to " + CheckResult.format(pooler.peakClientsWaiting()) + " clients")
                                + " waited for a server connection at once; the longest wait was "
                                + CheckResult.format(pooler.longestWaitMs()) + " ms."
                        : "No client waited for a server connection in any second sampled.")
                .append("</li>");
        if (pooler.unreadableSeconds() > 0) {
            html.append("<li>Its console did not answer in ").append(pooler.unreadableSeconds())
                    .append(" second(s) (a restart): those seconds are gaps in the charts.</li>");
        }
        html.append("</ul>");
    }

    /**
     * The first screen's list of the service's database errors by SQLSTATE, every instance of a fleet added up: a
     * connection storm shows as refused connection attempts (53300), a pooler's broken named statements as 26000. Only
     * when the service counted one, or runs as a fleet (then its absence is said).
     */
    static void databaseErrors(StringBuilder html, DatabaseErrors errors) {
        if (errors == null || (errors.rows().isEmpty() && errors.instances() < 2)) {
            return;
        }
        String who = errors.instances() > 1 ? "The service's " + errors.instances() + " instances" : "The service";
        html.append("<h2>Database errors</h2>");
        if (errors.rows().isEmpty()) {
            html.append("<p>").append(who).append(" counted no database error and no failed connection attempt.</p>");
            return;
        }
        html.append("<p>").append(who).append(" counted, by SQLSTATE (answers: errors turned into an answer to a client; "
                + "connection attempts: their pools' attempts to open a connection):</p><table><tr><th>SQLSTATE</th>"
                + "<th>meaning</th><th>answers</th><th>connection attempts failed</th><th>of them refused</th></tr>");
        for (DatabaseErrors.Row row : errors.rows()) {
            html.append("<tr><td>").append(esc(row.sqlState())).append("</td><td>").append(esc(row.meaning()))
                    .append("</td><td>").append(CheckResult.format(row.answered())).append("</td><td>")
                    .append(CheckResult.format(row.connectionFailures())).append("</td><td>")
                    .append(CheckResult.format(row.refused())).append("</td></tr>");
        }
        html.append("</table>");
    }

    /** The pooler's clients, waiting clients and server connections, and its longest wait, under the fault windows. */
    private static void pooler(StringBuilder html, PoolerReport pooler, int seconds, List<FaultTimeline.Window> windows,
                               List<Phase> phases) {
        if (pooler == null) {
            return;
        }
        html.append("<h2>Pooler: connections and waits (its own SHOW POOLS and SHOW STATS, per second)</h2>");
        chart(html, seconds, windows, phases, "connections", List.of(
                new Series("clients (the service's connections)", fit(pooler.clientsPerSecond(), seconds, 1)),
                new Series("clients waiting", fit(pooler.clientsWaitingPerSecond(), seconds, 1)),
                new Series("server connections (the database's)", fit(pooler.serversPerSecond(), seconds, 1))));
        chart(html, seconds, windows, phases, "ms", List.of(new Series("longest wait for a server connection",
                fit(pooler.longestWaitMsPerSecond(), seconds, 1)), new Series("clients' waiting, added up in the second",
                fit(pooler.waitedMsPerSecond(), seconds, 1))));
        chart(html, seconds, windows, phases, "transactions/s", List.of(new Series("transactions pooled",
                fit(pooler.transactionsPerSecond(), seconds, 1))));
    }

    /** The cache tier's hit ratio and the database reads per second, under the fault windows. */
    private static void cache(StringBuilder html, Verdict verdict, int seconds, List<FaultTimeline.Window> windows,
                              List<Phase> phases) {
        CacheChecks.Report cache = verdict.cache();
        if (cache == null) {
            return;
        }
        html.append("<h2>Cache: hit ratio and database reads (per second)</h2>");
        chart(html, seconds, windows, phases, "%", List.of(new Series("hit ratio (%)",
                fit(cache.hitRatioPerSecond(), seconds, 100))));
        chart(html, seconds, windows, phases, "reads/s", List.of(new Series("database reads of cacheable pages",
                fit(cache.databaseReadsPerSecond(), seconds, 1))));
    }

    private static double[] fit(List<Double> values, int seconds, double scale) {
        double[] fitted = new double[seconds];
        for (int s = 0; s < seconds; s++) {
            fitted[s] = s < values.size() && values.get(s) != null ? values.get(s) * scale : Double.NaN;
        }
        return fitted;
    }

    private static String percent(double ratio) {
        return Double.isNaN(ratio) ? "n/a" : String.format(Locale.ROOT, "%.1f%%", 100 * ratio);
    }

    /**
     * Session guarantees (violations per second, first witnesses of each kind), the write audit per kind
     * (lost writes per second of acknowledgement) and the stock invariant.
     */
    private static void consistency(StringBuilder html, Verdict verdict, int seconds, List<FaultTimeline.Window> windows,
                                    List<Phase> phases) {
        SessionReport sessions = verdict.sessions();
        WriteLedger.Audit audit = verdict.writes();
        if (sessions == null && audit == null) {
            return;
        }
        html.append("<h2>Consistency: session guarantees and lost writes (per second)</h2>");
        List<Series> series = new ArrayList<>();
        if (sessions != null) {
            for (SessionReport.GuaranteeResult r : sessions.guarantees()) {
                double[] counts = new double[seconds];
                r.perSecond().forEach((second, n) -> {
                    if (second >= 0 && second < seconds) {
                        counts[second] += n;
                    }
                });
                series.add(new Series(r.check() + " violations", counts));
            }
        }
        if (audit != null && audit.error() == null) {
            double[] lost = new double[seconds];
            for (WriteLedger.Named n : audit.lostWrites()) {
                int second = (int) Math.floor(n.completedAt());
                if (second >= 0 && second < seconds) {
                    lost[second]++;
                }
            }
            series.add(new Series("lost writes (by second acknowledged)", lost));
        }
        chart(html, seconds, windows, phases, "per s", series);
        if (sessions != null) {
            html.append("<table><tr><th>check</th><th>reads</th><th>violations</th><th>explained by lost writes</th></tr>");
            for (SessionReport.GuaranteeResult r : sessions.guarantees()) {
                html.append("<tr><td>").append(esc(r.check())).append("</td><td>").append(r.reads()).append("</td><td class=\"")
                        .append(r.violations() == 0 ? "pass" : "fail").append("\">").append(r.violations())
                        .append("</td><td>").append(r.explainedByLostWrites()).append("</td></tr>");
            }
            html.append("</table>");
            List<SessionReport.Witness> witnesses = new ArrayList<>();
            sessions.guarantees().forEach(r -> witnesses.addAll(r.witnesses()));
            witnesses(html, "First stale reads (witnesses)", witnesses);
            witnesses(html, "Stale reads explained by lost writes (counted as lost, not stale)", sessions.explained());
        }
        if (audit != null) {
            html.append("<h3>Writes, looked up by their client-chosen identity on the current primary</h3>");
            if (audit.error() != null) {
                html.append("<p class=\"fail\">The audit failed: ").append(esc(audit.error())).append("</p>");
            }
            html.append("<table><tr><th>kind</th><th>acknowledged</th><th>lost</th><th>in doubt (committed)</th>"
                    + "<th>failed</th><th>ghosts</th><th>first lost (key, acknowledged at)</th></tr>");
            for (WriteLedger.KindAudit k : audit.kinds()) {
                html.append("<tr><td>").append(esc(k.kind())).append("</td><td>").append(k.acknowledged())
                        .append("</td><td class=\"").append(k.lost() == 0 ? "pass" : "fail").append("\">")
                        .append(CheckResult.format(k.lost())).append("</td><td>").append(k.inDoubt()).append(" (")
                        .append(CheckResult.format(k.inDoubtCommitted())).append(")</td><td>").append(k.failed())
                        .append("</td><td>").append(CheckResult.format(k.ghosts())).append("</td><td>")
                        .append(esc(String.join(", ", k.lostWrites().stream().limit(5).map(n -> n.key() + " @ "
                                + String.format(Locale.ROOT, "%.1f s", n.completedAt())).toList())))
                        .append("</td></tr>");
            }
            html.append("</table>");
        }
        Inventory.StockAudit stock = verdict.stock();
        if (stock != null) {
            html.append("<h3>Stock</h3><p>").append(stock.error() != null ? "Not evaluated: " + esc(stock.error())
                    : stock.products() + " products; invariant broken on " + stock.broken() + ", " + stock.oversoldUnits()
                    + " units oversold, " + stock.belowZero() + " below zero; ").append(stock.outOfStockAnswers())
                    .append(" checkouts answered out_of_stock.</p>");
            if (!stock.doorbusters().isEmpty() || !stock.firstBroken().isEmpty()) {
                html.append("<table><tr><th>product</th><th>stock before</th><th>stock now</th><th>units in acknowledged "
                        + "orders</th><th>in doubt, committed</th><th>holds</th></tr>");
                List<Inventory.ProductStock> rows = new ArrayList<>(stock.doorbusters());
                stock.firstBroken().stream().filter(p -> !rows.contains(p)).forEach(rows::add);
                for (Inventory.ProductStock p : rows) {
                    html.append("<tr><td>").append(p.product()).append("</td><td>").append(p.initial()).append("</td><td>")
                            .append(p.current()).append("</td><td>").append(p.unitsAcknowledged()).append("</td><td>")
                            .append(p.unitsInDoubt()).append("</td><td class=\"").append(p.holds() ? "pass\">yes" : "fail\">no")
                            .append("</td></tr>");
                }
                html.append("</table>");
            }
        }
    }

    /**
     * The staleness of the reads served by the cache (after the cache tier's charts, when a read was): how many showed
     * a state older than a write acknowledged before they started, a histogram of by how much, and the stalest reads
     * as witnesses (as the session guarantees' are).
     */
    static void cacheStaleness(StringBuilder html, CacheStaleness staleness) {
        if (staleness == null || staleness.cacheReads() <= 0) {
            return;
        }
        html.append("<h2 id=\"cache-staleness\">Cache: staleness of reads served by the cache</h2><p>")
                .append(staleness.staleReads()).append(" of ").append(staleness.cacheReads())
                .append(" reads of a checked key served by the cache showed a state older than a write of the key "
                        + "acknowledged before the read started (by anyone); the stalest by ")
                .append(CheckResult.format(staleness.worstMs())).append(" ms.</p>");
        long most = staleness.histogram().stream().mapToLong(CacheStaleness.Bucket::reads).max().orElse(0);
        html.append("<table class=\"staleness-histogram\"><tr><th>stale by</th><th>reads</th><th></th></tr>");
        for (CacheStaleness.Bucket b : staleness.histogram()) {
            String range = b.aboveMs() == null ? "not stale"
                    : b.atMostMs() == null ? "over " + b.aboveMs() + " ms" : b.aboveMs() + " – " + b.atMostMs() + " ms";
            long width = most == 0 ? 0 : Math.round(300.0 * b.reads() / most);
            html.append("<tr><td>").append(range).append("</td><td>").append(b.reads())
                    .append("</td><td><span style=\"display:inline-block;height:10px;width:").append(width)
                    .append("px;background:").append(b.aboveMs() == null ? "#2da44e" : "#cf222e")
                    .append("\"></span></td></tr>");
        }
        html.append("</table>");
        if (staleness.witnesses().isEmpty()) {
            return;
        }
        html.append("<h3>Stalest cache reads (witnesses)</h3><table><tr><th>process</th><th>key</th>"
                + "<th>newer write acknowledged</th><th>read showed</th><th>stale by</th><th>served by</th>"
                + "<th>faults active</th></tr>");
        for (CacheStaleness.Witness w : staleness.witnesses()) {
            html.append("<tr><td>").append(w.process()).append("</td><td>").append(esc(w.key())).append("</td><td>")
                    .append(String.format(Locale.ROOT, "version %d at %.1f s", w.newerVersion(), w.newerAcknowledgedAt()))
                    .append("</td><td>").append(esc(w.shown()))
                    .append(String.format(Locale.ROOT, " at %.1f s (read started)", w.readAt())).append("</td><td>")
                    .append(CheckResult.format(w.stalenessMs())).append(" ms</td><td>").append(esc(w.servedBy()))
                    .append("</td><td>").append(esc(w.faults())).append("</td></tr>");
        }
        html.append("</table>");
    }

    /**
     * Whether the run finished, then the windowed checks as strips: one cell per second, on the charts' time
     * axis, green when the second was within the budget, red when not, grey without requests (not counted).
     * Each cell's title gives the second's p99 and error rate.
     */
    /** A scaled-out run: what each injector shard delivered, and which did not. */
    /** Next to the regression checks: what ran differently from the baseline, so a changed setting is not blamed on the service. */
    private static void baselineDifferences(StringBuilder html, Provenance provenance) {
        if (provenance == null || provenance.baseline() == null) {
            return;
        }
        html.append("<p id=\"baseline-differences\">Compared with baseline ").append(esc(provenance.baseline()));
        if (provenance.baselineUnrecorded()) {
            html.append(", which recorded nothing of what ran: whether it ran with the same settings is unknown.</p>");
            return;
        }
        if (provenance.differencesFromBaseline().isEmpty()) {
            html.append(": the same settings, parameters and versions, as far as its record says.</p>");
            return;
        }
        html.append(", which ran differently; a delta may come from these and not from the service:</p><ul>");
        provenance.differencesFromBaseline().forEach(d -> html.append("<li>").append(esc(d)).append("</li>"));
        html.append("</ul>");
    }

    /** What ran: versions, machine, PostgreSQL, the effective environment and the simulation's parameters. */
    private static void provenance(StringBuilder html, Provenance provenance) {
        if (provenance == null) {
            return;
        }
        html.append("<h2 id=\"what-ran\">What ran</h2><table>");
        row(html, "Doorbuster", provenance.doorbuster());
        row(html, "Java", provenance.javaRuntime());
        row(html, "Gatling", provenance.gatling());
        row(html, "machine", provenance.machine());
        row(html, "PostgreSQL", provenance.postgres() == null ? "not read" : provenance.postgres());
        provenance.postgresSettings().forEach((k, v) -> row(html, "PostgreSQL setting " + k, v));
        provenance.environment().forEach((k, v) -> row(html, k, v));
        provenance.parameters().forEach((k, v) -> row(html, "-D" + k, v));
        html.append("</table>");
    }

    private static void row(StringBuilder html, String name, String value) {
        html.append("<tr><td>").append(esc(name)).append("</td><td>").append(esc(value)).append("</td></tr>");
    }

    private static void shards(StringBuilder html, ShardReport shards) {
        if (shards == null) {
            return;
        }
        html.append("<h2>Injector shards</h2><p>").append(shards.shards().size()).append(" of ").append(shards.count())
                .append(" shards delivered; ").append(shards.requests()).append(" requests merged (histograms added): p50 ")
                .append(CheckResult.format(shards.p50Micros() / 1000.0)).append(" ms, p99 ")
                .append(CheckResult.format(shards.p99Micros() / 1000.0)).append(" ms over all of them.</p>")
                .append("<table><tr><th>shard</th><th>requests</th><th>failed</th><th>users</th><th>writes</th>"
                        + "<th>ended early</th></tr>");
        for (ShardReport.Shard s : shards.shards()) {
            html.append("<tr><td>").append(s.index()).append("</td><td>").append(s.requests()).append("</td><td>")
                    .append(s.failedRequests()).append("</td><td>").append(s.users()).append("</td><td>")
                    .append(s.writes()).append("</td><td>").append(s.endedEarly() == null ? "" : esc(s.endedEarly()))
                    .append("</td></tr>");
        }
        for (ShardReport.Missing m : shards.missing()) {
            html.append("<tr><td class=\"fail\">").append(m.index()).append("</td><td colspan=\"5\">missing: ")
                    .append(esc(m.reason())).append("</td></tr>");
        }
        html.append("</table>");
        for (String problem : shards.problems()) {
            html.append("<p class=\"fail\">").append(esc(problem)).append("</p>");
        }
    }

    private static void secondStrips(StringBuilder html, Verdict verdict, LatencyRecorder recorder, int seconds) {
        if (!verdict.wasComplete()) {
            html.append("<p class=\"fail\" id=\"incomplete\">Incomplete run: ").append(esc(verdict.incompleteReason()))
                    .append(". Judged on what was recorded until then.</p>");
        }
        List<SecondCompliance.Window> windows = verdict.windows() == null ? List.of() : verdict.windows();
        if (windows.isEmpty()) {
            return;
        }
        java.util.Map<Integer, SecondCompliance.Second> bySecond = new java.util.HashMap<>();
        for (SecondCompliance.Second s : SecondCompliance.seconds(recorder, 0, seconds)) {
            bySecond.put(s.second(), s);
        }
        html.append("<h2>Seconds within budget</h2>");
        for (SecondCompliance.Window w : windows) {
            java.util.Set<Integer> failing = new java.util.HashSet<>(w.failingSeconds());
            // One unit per second; the page's script stretches each strip over the charts' plot area, so a
            // cell sits under the same second of every chart.
            html.append("<div class=\"strip-label\">").append(esc(w.check())).append("</div><svg class=\"strip\" "
                    + "viewBox=\"0 0 ").append(seconds).append(" 1\" preserveAspectRatio=\"none\" width=\"")
                    .append(Charts.WIDTH).append("\" height=\"14\" role=\"img\"><g class=\"cells\" data-check=\"")
                    .append(esc(w.check())).append("\">");
            for (int s = 0; s < seconds; s++) {
                SecondCompliance.Second second = bySecond.get(s);
                String state = second == null ? "none" : failing.contains(s) ? "fail" : "pass";
                String fill = switch (state) {
                    case "fail" -> "#cf222e";
                    case "pass" -> "#2da44e";
                    default -> "#e5e5e5";
                };
                String title = second == null ? "second " + s + ": no requests (not counted)"
                        : String.format(Locale.ROOT, "second %d: p99 %d ms, error rate %.1f%% (%d of %d failed)", s,
                                Math.round(second.p99Ms()), second.errorPercent(), second.failed(), second.requests());
                html.append(String.format(Locale.ROOT, "<rect data-second=\"%d\" data-state=\"%s\" x=\"%d\" y=\"0\" "
                        + "width=\"%s\" height=\"1\" fill=\"%s\"><title>%s</title></rect>", s, state, s,
                        seconds <= 300 ? "0.92" : "1", fill, esc(title)));
            }
            html.append("</g></svg>");
        }
        html.append("<div class=\"legend\">");
        for (SecondCompliance.Window w : windows) {
            html.append("<span>").append(esc(w.check())).append(": ").append(w.counted() - w.failingSeconds().size())
                    .append(" of ").append(w.counted()).append(" seconds within budget</span>");
        }
        html.append("</div>");
    }

    private static void witnesses(StringBuilder html, String title, List<SessionReport.Witness> witnesses) {
        if (witnesses.isEmpty()) {
            return;
        }
        html.append("<h3>").append(esc(title)).append("</h3><table><tr><th>check</th><th>user</th><th>key</th>"
                + "<th>had written or seen</th><th>read showed</th><th>served by</th><th>faults active</th>"
                + "<th>lost write</th></tr>");
        for (SessionReport.Witness w : witnesses) {
            html.append("<tr><td>").append(esc(w.check())).append("</td><td>").append(w.user()).append("</td><td>")
                    .append(esc(w.key())).append("</td><td>").append(esc(w.expected()))
                    .append(String.format(Locale.ROOT, " at %.1f s", w.expectedAt())).append("</td><td>")
                    .append(esc(w.observed())).append(String.format(Locale.ROOT, " at %.1f s (%s)", w.at(), esc(w.request())))
                    .append("</td><td>").append(esc(w.servedBy())).append("</td><td>").append(esc(w.faults()))
                    .append("</td><td>").append(esc(w.lostWrite())).append("</td></tr>");
        }
        html.append("</table>");
    }

    private static double[] perSecond(List<ProbeSample> probes, int seconds, ToDoubleFunction<ProbeSample> f) {
        double[] values = new double[seconds];
        java.util.Arrays.fill(values, Double.NaN);
        for (ProbeSample s : probes) {
            if (s.second() >= 0 && s.second() < seconds) {
                values[s.second()] = f.applyAsDouble(s);
            }
        }
        return values;
    }

    /** Per-second increase of a cumulative counter (NaN where a reading is missing). */
    private static double[] increments(List<ProbeSample> probes, int seconds, ToDoubleFunction<ProbeSample> counter) {
        double[] cumulative = perSecond(probes, seconds, counter);
        double[] perSecond = new double[seconds];
        double previous = Double.NaN;
        for (int s = 0; s < seconds; s++) {
            perSecond[s] = Double.isNaN(previous) || Double.isNaN(cumulative[s]) ? Double.NaN
                    : Math.max(0, cumulative[s] - previous);
            if (!Double.isNaN(cumulative[s])) {
                previous = cumulative[s];
            }
        }
        return perSecond;
    }

    /**
     * The load generator under the run: arrivals it was given against those it started, and its CPU against the
     * machine's. A gap between the first two, or a machine at 100 %, is why latency checks were inconclusive.
     */
    private static void generator(StringBuilder html, GeneratorHealth health, int seconds,
                                  List<FaultTimeline.Window> windows, List<Phase> phases) {
        if (health == null) {
            return;
        }
        double[] planned = new double[seconds];
        double[] started = new double[seconds];
        double[] late = new double[seconds];
        double[] processCpu = new double[seconds];
        double[] machineCpu = new double[seconds];
        double[] gc = new double[seconds];
        java.util.Arrays.fill(processCpu, Double.NaN);
        java.util.Arrays.fill(machineCpu, Double.NaN);
        for (GeneratorHealth.Second s : health.seconds()) {
            if (s.second() < 0 || s.second() >= seconds) {
                continue;
            }
            planned[s.second()] = s.planned();
            started[s.second()] = s.started();
            late[s.second()] = s.late();
            processCpu[s.second()] = s.processCpu() < 0 ? Double.NaN : s.processCpu();
            machineCpu[s.second()] = s.machineCpu() < 0 ? Double.NaN : s.machineCpu();
            gc[s.second()] = s.gcPauseMs();
        }
        html.append("<h2 id=\"generator\">Load generator</h2><p>").append(health.started()).append(" users started of ")
                .append(health.planned()).append(" planned; start delay p99 ")
                .append(CheckResult.format(Math.round(health.startDelayP99Ms() * 10) / 10.0)).append(" ms, max ")
                .append(CheckResult.format(Math.round(health.startDelayMaxMs() * 10) / 10.0))
                .append(" ms (late after ").append(CheckResult.format(health.lateAfterMs())).append(" ms)")
                .append(health.neverStarted() == 0 ? "" : "; " + health.neverStarted() + " never started")
                .append(".</p>");
        chart(html, seconds, windows, phases, "users/s", List.of(new Series("planned arrivals", planned),
                new Series("started", started), new Series("late or never started", late)));
        chart(html, seconds, windows, phases, "%", List.of(new Series("generator CPU (% of the machine)", processCpu),
                new Series("machine CPU (%)", machineCpu)));
        chart(html, seconds, windows, phases, "ms", List.of(new Series("longest GC pause of the generator (ms)", gc)));
    }

    private static void chart(StringBuilder html, int seconds, List<FaultTimeline.Window> windows, List<Phase> phases,
                              String unit, List<Series> series) {
        Charts.chart(html, seconds, windows, phases, unit, series.stream().map(Series::name).toList(),
                series.stream().map(Series::values).toList());
    }

    public static String esc(String text) {
        if (text == null) {
            return "";
        }
        StringBuilder out = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    /** Every run under {@code reportsDir}, compared, as {@code reportsDir/index.html} ({@link RunHistory}). */
    public static void writeHistory(Path reportsDir) throws IOException {
        RunHistory.writeIndex(reportsDir);
    }
}
