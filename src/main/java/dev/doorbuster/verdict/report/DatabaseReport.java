package dev.doorbuster.verdict.report;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

import dev.doorbuster.verdict.probes.DatabaseSnapshot.CacheHits;
import dev.doorbuster.verdict.probes.DatabaseSnapshot.Count;
import dev.doorbuster.verdict.probes.DatabaseSnapshot.Receiver;
import dev.doorbuster.verdict.probes.DatabaseSnapshot.RunningQuery;
import dev.doorbuster.verdict.probes.DatabaseSnapshot.Section;
import dev.doorbuster.verdict.probes.DatabaseSnapshot.Standby;
import dev.doorbuster.verdict.probes.DatabaseSnapshot.Statement;
import dev.doorbuster.verdict.probes.DatabaseSnapshot.TableSize;
import dev.doorbuster.verdict.probes.DatabaseSnapshot;

/**
 * What the database was doing, per node: its snapshot before the load, after it (faults healed), and the run as
 * a whole (the difference). The {@code database} field of {@code verdict.json}, and the "Database" section of
 * {@code chaos.html} ({@link #appendHtml}).
 */
public record DatabaseReport(List<Node> nodes, List<AtFault> atFaults) {
    public DatabaseReport {
        atFaults = atFaults == null ? List.of() : List.copyOf(atFaults); // verdicts written before faults were snapshotted
    }

    public DatabaseReport(List<Node> nodes) {
        this(nodes, List.of());
    }

    /**
     * What every node was doing a second after a fault hit: connections, the longest-running queries and the
     * replication state (statements trimmed, as in the snapshots before and after).
     */
    public record AtFault(String fault, String description, double atSecond, List<DatabaseSnapshot> nodes) {
    }

    /** This report with the snapshots taken as each fault hit. */
    public DatabaseReport withFaults(List<AtFault> faults) {
        return new DatabaseReport(nodes, faults);
    }
    /** Rows of each statement table. */
    public static final int TOP = 10;
    /** Query text shown in the page, in characters. */
    static final int QUERY_CHARS = 160;

    /** One node: its role after the load, both snapshots (statements trimmed to the top) and the run's totals. */
    public record Node(String name, String role, DatabaseSnapshot before, DatabaseSnapshot after, RunTotals run) {
    }

    /**
     * The run as a whole: statements by total and by mean execution time over the run, the cache hits and reads
     * of the run, and a note when counters were reset in between.
     */
    public record RunTotals(Section<List<Statement>> topByTotal, Section<List<Statement>> topByMean,
                            Section<CacheHits> cache, String note) {
    }

    /** Appends the "Database" section of {@code chaos.html}; nothing when {@code report} is null. */
    public static void appendHtml(StringBuilder html, DatabaseReport report) {
        if (report == null) {
            return;
        }
        html.append("<h2>Database</h2><p>Each node as the harness saw it directly (not through the chaos proxy): a "
                + "snapshot before the load, one after it once the faults were healed, and the run as a whole (after "
                + "minus before). Statements are those of the application's database.</p>");
        if (report.nodes().isEmpty()) {
            html.append("<p>No database node could be inspected in this environment.</p>");
        }
        for (Node node : report.nodes()) {
            appendNode(html, node);
        }
        appendFaults(html, report.atFaults());
    }

    /** One table per fault: each node a second after it hit. */
    private static void appendFaults(StringBuilder html, List<AtFault> faults) {
        if (faults.isEmpty()) {
            return;
        }
        html.append("<h3 id=\"at-faults\">When each fault hit</h3><p>Each node a second after the fault started, as the "
                + "harness saw it directly.</p>");
        for (AtFault f : faults) {
            html.append("<h4>").append(esc(f.fault())).append(String.format(java.util.Locale.ROOT, " at %.1f s", f.atSecond()))
                    .append(": ").append(esc(f.description())).append("</h4><table><tr><th>node</th><th>role</th>"
                            + "<th>connections by state</th><th>longest-running query</th><th>replication</th></tr>");
            for (DatabaseSnapshot n : f.nodes()) {
                html.append("<tr><td>").append(esc(n.node())).append("</td><td>").append(esc(n.role())).append("</td><td>")
                        .append(summary(n.connectionsByState(), list -> String.join(", ", list.stream()
                                .map(c -> c.key() + " " + c.count()).toList()))).append("</td><td>")
                        .append(summary(n.longestRunning(), list -> list.isEmpty() ? "none"
                                : String.format(java.util.Locale.ROOT, "%.1f s: %s", list.get(0).seconds(), shorten(list.get(0).query())))).append("</td><td>")
                        .append(summary(n.replication(), DatabaseReport::replicationSummary)).append("</td></tr>");
            }
            html.append("</table>");
        }
    }

    private static <T> String summary(Section<T> section, Function<T, String> text) {
        if (section == null || section.value() == null) {
            return "<span style=\"color:#777\">not available: " + esc(section == null ? "no snapshot"
                    : section.unavailable()) + "</span>";
        }
        return esc(text.apply(section.value()));
    }

    private static String replicationSummary(DatabaseSnapshot.Replication r) {
        List<String> parts = new java.util.ArrayList<>();
        if (r.standbys() != null) {
            r.standbys().forEach(s -> parts.add(s.name() + " " + s.state() + (s.replayLagBytes() == null ? ""
                    : ", " + s.replayLagBytes() + " bytes behind")));
        }
        if (r.receiver() != null) {
            parts.add("receiver " + r.receiver().status());
        }
        return parts.isEmpty() ? "no standby" : String.join("; ", parts);
    }

    private static void appendNode(StringBuilder html, Node node) {
        DatabaseSnapshot before = node.before();
        DatabaseSnapshot after = node.after();
        html.append("<h3>").append(esc(node.name())).append(" (").append(esc(node.role())).append(")</h3><p>");
        html.append("Before: ").append(taken(before)).append("; after: ").append(taken(after)).append(".");
        if (node.run() != null && node.run().note() != null) {
            html.append(" Note: ").append(esc(node.run().note())).append('.');
        }
        html.append("</p>");

        RunTotals run = node.run();
        html.append("<h4>Statements over the run: top ").append(TOP).append(" by total time</h4>");
        statements(html, run == null ? null : run.topByTotal());
        html.append("<h4>Statements over the run: top ").append(TOP).append(" by mean time</h4>");
        statements(html, run == null ? null : run.topByMean());

        html.append("<h4>Cache hit ratio</h4><table><tr><th></th><th>hit ratio</th><th>blocks hit</th>"
                + "<th>blocks read</th></tr>");
        cacheRow(html, "before (since statistics began)", before == null ? null : before.cache());
        cacheRow(html, "after (since statistics began)", after == null ? null : after.cache());
        cacheRow(html, "run as a whole", run == null ? null : run.cache());
        html.append("</table>");

        html.append("<h4>Connections by state</h4>");
        counts(html, "state", section(before, DatabaseSnapshot::connectionsByState),
                section(after, DatabaseSnapshot::connectionsByState));
        html.append("<h4>Connections by application</h4>");
        counts(html, "application_name", section(before, DatabaseSnapshot::connectionsByApplication),
                section(after, DatabaseSnapshot::connectionsByApplication));

        html.append("<h4>Longest-running queries</h4>");
        running(html, "before", section(before, DatabaseSnapshot::longestRunning));
        running(html, "after", section(after, DatabaseSnapshot::longestRunning));

        html.append("<h4>Largest tables (after)</h4>");
        tables(html, section(after, DatabaseSnapshot::tables));

        html.append("<h4>Replication</h4>");
        replication(html, "before", section(before, DatabaseSnapshot::replication));
        replication(html, "after", section(after, DatabaseSnapshot::replication));
    }

    private static String taken(DatabaseSnapshot s) {
        return s == null ? "none" : esc(s.takenAt()) + " as " + esc(s.role()) + " (" + s.tookMillis() + " ms)";
    }

    private static <T> Section<T> section(DatabaseSnapshot s, Function<DatabaseSnapshot, Section<T>> topic) {
        return s == null ? Section.missing("no snapshot") : topic.apply(s);
    }

    private static boolean unavailable(StringBuilder html, String label, Section<?> section) {
        if (section == null) {
            html.append("<p style=\"color:#777\">").append(label).append("not available: no snapshot</p>");
            return true;
        }
        if (section.value() == null) {
            html.append("<p style=\"color:#777\">").append(label).append("not available: ").append(esc(section.unavailable()))
                    .append("</p>");
            return true;
        }
        return false;
    }

    private static void statements(StringBuilder html, Section<List<Statement>> section) {
        if (unavailable(html, "", section)) {
            return;
        }
        if (section.value().isEmpty()) {
            html.append("<p>No statement ran.</p>");
            return;
        }
        html.append("<table><tr><th>query</th><th>calls</th><th>total ms</th><th>mean ms</th><th>rows</th></tr>");
        for (Statement s : section.value()) {
            html.append("<tr><td><code>").append(esc(shorten(s.query()))).append("</code></td><td>").append(s.calls())
                    .append("</td><td>").append(ms(s.totalMs())).append("</td><td>").append(ms(s.meanMs()))
                    .append("</td><td>").append(s.rows()).append("</td></tr>");
        }
        html.append("</table>");
    }

    private static void cacheRow(StringBuilder html, String label, Section<CacheHits> section) {
        html.append("<tr><td>").append(label).append("</td>");
        if (section == null || section.value() == null) {
            html.append("<td colspan=\"3\" style=\"color:#777\">not available: ")
                    .append(esc(section == null ? "no snapshot" : section.unavailable())).append("</td></tr>");
            return;
        }
        CacheHits c = section.value();
        html.append("<td>").append(Double.isNaN(c.ratio()) ? "no block accessed"
                : String.format(Locale.ROOT, "%.2f %%", 100 * c.ratio())).append("</td><td>").append(c.hit())
                .append("</td><td>").append(c.read()).append("</td></tr>");
    }

    private static void counts(StringBuilder html, String what, Section<List<Count>> before, Section<List<Count>> after) {
        if (before.value() == null && after.value() == null) {
            unavailable(html, "before: ", before);
            unavailable(html, "after: ", after);
            return;
        }
        Map<String, long[]> rows = new LinkedHashMap<>();
        if (before.value() != null) {
            before.value().forEach(c -> rows.computeIfAbsent(c.key(), k -> new long[2])[0] = c.count());
        }
        if (after.value() != null) {
            after.value().forEach(c -> rows.computeIfAbsent(c.key(), k -> new long[2])[1] = c.count());
        }
        html.append("<table><tr><th>").append(what).append("</th><th>before</th><th>after</th></tr>");
        for (Map.Entry<String, long[]> e : rows.entrySet()) {
            html.append("<tr><td>").append(esc(e.getKey())).append("</td><td>")
                    .append(before.value() == null ? "n/a" : Long.toString(e.getValue()[0])).append("</td><td>")
                    .append(after.value() == null ? "n/a" : Long.toString(e.getValue()[1])).append("</td></tr>");
        }
        if (rows.isEmpty()) {
            html.append("<tr><td colspan=\"3\">no client connection but ours</td></tr>");
        }
        html.append("</table>");
        if (before.value() == null) {
            unavailable(html, "before: ", before);
        }
        if (after.value() == null) {
            unavailable(html, "after: ", after);
        }
    }

    private static void running(StringBuilder html, String label, Section<List<RunningQuery>> section) {
        if (unavailable(html, label + ": ", section)) {
            return;
        }
        if (section.value().isEmpty()) {
            html.append("<p>").append(label).append(": none (every other client connection was idle)</p>");
            return;
        }
        html.append("<table><tr><th>").append(label).append(": running for</th><th>pid</th><th>user</th>"
                + "<th>application</th><th>state</th><th>waiting on</th><th>query</th></tr>");
        for (RunningQuery q : section.value()) {
            html.append("<tr><td>").append(String.format(Locale.ROOT, "%.1f s", q.seconds())).append("</td><td>")
                    .append(q.pid()).append("</td><td>").append(esc(q.user())).append("</td><td>")
                    .append(esc(q.application())).append("</td><td>").append(esc(q.state())).append("</td><td>")
                    .append(esc(q.waitEvent())).append("</td><td><code>").append(esc(shorten(q.query())))
                    .append("</code></td></tr>");
        }
        html.append("</table>");
    }

    private static void tables(StringBuilder html, Section<List<TableSize>> section) {
        if (unavailable(html, "", section)) {
            return;
        }
        html.append("<table><tr><th>table</th><th>total</th><th>table</th><th>indexes</th><th>rows (estimate)</th></tr>");
        for (TableSize t : section.value()) {
            html.append("<tr><td>").append(esc(t.table())).append("</td><td>").append(bytes(t.totalBytes()))
                    .append("</td><td>").append(bytes(t.tableBytes())).append("</td><td>").append(bytes(t.indexBytes()))
                    .append("</td><td>").append(t.estimatedRows()).append("</td></tr>");
        }
        if (section.value().isEmpty()) {
            html.append("<tr><td colspan=\"5\">no table</td></tr>");
        }
        html.append("</table>");
    }

    private static void replication(StringBuilder html, String label,
                                    Section<DatabaseSnapshot.Replication> section) {
        if (unavailable(html, label + ": ", section)) {
            return;
        }
        Receiver r = section.value().receiver();
        if (r != null) {
            html.append("<p>").append(label).append(": WAL receiver <b>").append(esc(r.status())).append("</b>")
                    .append(r.sender() == null ? "" : " from " + esc(r.sender())).append(", received ")
                    .append(esc(r.receivedLsn())).append(", replayed ").append(esc(r.replayedLsn()))
                    .append(r.replayAgeMs() == null ? "" : String.format(Locale.ROOT, ", last replayed commit %.0f ms "
                            + "old", r.replayAgeMs())).append("</p>");
            return;
        }
        List<Standby> standbys = section.value().standbys();
        if (standbys == null || standbys.isEmpty()) {
            html.append("<p>").append(label).append(": no standby connected</p>");
            return;
        }
        html.append("<table><tr><th>").append(label).append(": standby</th><th>client</th><th>state</th><th>sync</th>"
                + "<th>sent</th><th>written</th><th>flushed</th><th>replayed</th><th>replay behind</th>"
                + "<th>write / flush / replay lag</th></tr>");
        for (Standby s : standbys) {
            html.append("<tr><td>").append(esc(s.name())).append("</td><td>").append(esc(s.client())).append("</td><td>")
                    .append(esc(s.state())).append("</td><td>").append(esc(s.syncState())).append("</td><td>")
                    .append(esc(s.sentLsn())).append("</td><td>").append(esc(s.writeLsn())).append("</td><td>")
                    .append(esc(s.flushLsn())).append("</td><td>").append(esc(s.replayLsn())).append("</td><td>")
                    .append(s.replayLagBytes() == null ? "" : bytes(s.replayLagBytes())).append("</td><td>")
                    .append(lag(s.writeLagMs())).append(" / ").append(lag(s.flushLagMs())).append(" / ")
                    .append(lag(s.replayLagMs())).append("</td></tr>");
        }
        html.append("</table>");
    }

    static String shorten(String query) {
        if (query == null) {
            return "";
        }
        String oneLine = query.strip().replaceAll("\\s+", " ");
        return oneLine.length() <= QUERY_CHARS ? oneLine : oneLine.substring(0, QUERY_CHARS - 1) + "…";
    }

    private static String ms(double ms) {
        return String.format(Locale.ROOT, ms < 10 ? "%.3f" : "%.1f", ms);
    }

    private static String lag(Double ms) {
        return ms == null ? "–" : String.format(Locale.ROOT, "%.1f ms", ms);
    }

    private static String bytes(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        List<String> units = new ArrayList<>(List.of("kB", "MB", "GB", "TB"));
        double value = bytes / 1024.0;
        String unit = units.remove(0);
        while (value >= 1024 && !units.isEmpty()) {
            value /= 1024;
            unit = units.remove(0);
        }
        return String.format(Locale.ROOT, "%.1f %s", value, unit);
    }

    private static String esc(String text) {
        return ChaosReport.esc(text);
    }
}
