package dev.doorbuster.verdict;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import javax.xml.stream.XMLOutputFactory;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamWriter;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.doorbuster.chaos.FaultTimeline;
import dev.doorbuster.verdict.consistency.CacheStaleness;
import dev.doorbuster.verdict.consistency.Inventory;
import dev.doorbuster.verdict.consistency.SessionReport;
import dev.doorbuster.verdict.consistency.WriteLedger;
import dev.doorbuster.verdict.probes.DatabaseDiagnostics;
import dev.doorbuster.verdict.report.DatabaseReport;
import dev.doorbuster.verdict.shard.ShardReport;

/**
 * The outcome of a run: every check with its budget and actual value, the write audit, the session
 * guarantees with their witnesses, the stock invariant and the fault timeline; the cache tier's report
 * ({@code cache}) and the staleness of the reads it served ({@code cacheStaleness}); the windowed checks'
 * failing seconds; whether the run was complete (an aborted or interrupted run is judged on what it
 * recorded, with {@code complete: false} and the reason); what ran ({@code provenance}), whether the load generator
 * kept up ({@code generator}), after a capacity search its plateaus and result ({@code capacity}), and the pooler
 * tier's own view of the run ({@code pooler}). Written as {@code verdict.json} (machine-readable, also read back for the history
 * page) and {@code junit.xml} (one test case per check, for CI dashboards).
 */
public record Verdict(String simulation, String environment, String startedAt, double durationSeconds, boolean passed,
                      List<CheckResult> checks, long requests, long failedRequests, WriteLedger.Audit writes,
                      SessionReport sessions, Inventory.StockAudit stock, List<FaultTimeline.Event> timeline,
                      Boolean complete, String incompleteReason, List<SecondCompliance.Window> windows,
                      DatabaseReport database, ShardReport shards, CacheChecks.Report cache,
                      CacheStaleness cacheStaleness, Provenance provenance,
                      GeneratorHealth generator, Capacity capacity, PoolerReport pooler,
                      dev.doorbuster.verdict.probes.DatabaseErrors databaseErrors) {
    public static final String JSON_FILE = "verdict.json";
    public static final String JUNIT_FILE = "junit.xml";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public static Verdict of(String simulation, String environment, String startedAt, double durationSeconds,
                             List<CheckResult> checks, long requests, long failed, WriteLedger.Audit writes,
                             SessionReport sessions, Inventory.StockAudit stock, List<FaultTimeline.Event> timeline) {
        // No budget decides here whether a check not judged may pass: only a check that passed does.
        boolean passed = checks.stream().allMatch(CheckResult::pass);
        return new Verdict(simulation, environment, startedAt, durationSeconds, passed, List.copyOf(checks), requests,
                failed, writes, sessions, stock, List.copyOf(timeline), true, null, List.of(), null, null, null, null, null, null, null, null,
                null);
    }

    /** This verdict with the database diagnostics ({@link DatabaseDiagnostics}) of the run. */
    public Verdict withDatabase(DatabaseReport report) {
        return new Verdict(simulation, environment, startedAt, durationSeconds, passed, checks, requests, failedRequests,
                writes, sessions, stock, timeline, complete, incompleteReason, windows, report, shards, cache,
                cacheStaleness, provenance, generator, capacity, pooler, databaseErrors);
    }

    /** This verdict with the injector shards' deliveries (a scaled-out run's coordinator). */
    public Verdict withShards(ShardReport report) {
        return new Verdict(simulation, environment, startedAt, durationSeconds, passed, checks, requests, failedRequests,
                writes, sessions, stock, timeline, complete, incompleteReason, windows, database, report, cache,
                cacheStaleness, provenance, generator, capacity, pooler, databaseErrors);
    }

    /** This verdict with the windowed checks' per-second outcome. */
    public Verdict withWindows(List<SecondCompliance.Window> perSecond) {
        return new Verdict(simulation, environment, startedAt, durationSeconds, passed, checks, requests, failedRequests,
                writes, sessions, stock, timeline, complete, incompleteReason, List.copyOf(perSecond), database, shards, cache,
                cacheStaleness, provenance, generator, capacity, pooler, databaseErrors);
    }

    /** This verdict with its cache tier's report ({@link CacheChecks}), or null for a run without one. */
    public Verdict withCache(CacheChecks.Report report) {
        return new Verdict(simulation, environment, startedAt, durationSeconds, passed, checks, requests, failedRequests,
                writes, sessions, stock, timeline, complete, incompleteReason, windows, database, shards, report,
                cacheStaleness, provenance, generator, capacity, pooler, databaseErrors);
    }

    /**
     * This verdict with the staleness of the reads the cache served ({@link CacheStaleness}), or null for a run in which
     * the cache served none.
     */
    public Verdict withCacheStaleness(CacheStaleness staleness) {
        return new Verdict(simulation, environment, startedAt, durationSeconds, passed, checks, requests, failedRequests,
                writes, sessions, stock, timeline, complete, incompleteReason, windows, database, shards, cache,
                staleness, provenance, generator, capacity, pooler, databaseErrors);
    }

    /** This verdict with what ran ({@link Provenance}). */
    public Verdict withProvenance(Provenance what) {
        return new Verdict(simulation, environment, startedAt, durationSeconds, passed, checks, requests, failedRequests,
                writes, sessions, stock, timeline, complete, incompleteReason, windows, database, shards, cache, cacheStaleness,
                what, generator, capacity, pooler, databaseErrors);
    }

    /** This verdict with what the load generator did ({@link GeneratorHealth}), or null when it was not watched. */
    public Verdict withGenerator(GeneratorHealth health) {
        return new Verdict(simulation, environment, startedAt, durationSeconds, passed, checks, requests, failedRequests,
                writes, sessions, stock, timeline, complete, incompleteReason, windows, database, shards, cache, cacheStaleness,
                provenance, health, capacity, pooler, databaseErrors);
    }

    /** This verdict with the capacity search that led to it ({@code -Dcapacity=search}), or null. */
    public Verdict withCapacity(Capacity search) {
        return new Verdict(simulation, environment, startedAt, durationSeconds, passed, checks, requests, failedRequests,
                writes, sessions, stock, timeline, complete, incompleteReason, windows, database, shards, cache, cacheStaleness,
                provenance, generator, search, pooler, databaseErrors);
    }

    /** This verdict with its pooler tier's report ({@link PoolerReport}), or null for a run without one. */
    public Verdict withPooler(PoolerReport report) {
        return new Verdict(simulation, environment, startedAt, durationSeconds, passed, checks, requests, failedRequests,
                writes, sessions, stock, timeline, complete, incompleteReason, windows, database, shards, cache, cacheStaleness,
                provenance, generator, capacity, report, databaseErrors);
    }

    /** This verdict with the service's database errors by SQLSTATE ({@link dev.doorbuster.verdict.probes.DatabaseErrors}), or null. */
    public Verdict withDatabaseErrors(dev.doorbuster.verdict.probes.DatabaseErrors errors) {
        return new Verdict(simulation, environment, startedAt, durationSeconds, passed, checks, requests, failedRequests,
                writes, sessions, stock, timeline, complete, incompleteReason, windows, database, shards, cache, cacheStaleness,
                provenance, generator, capacity, pooler, errors);
    }

    /** This verdict for a run that did not finish its load ({@code reason}: aborted, interrupted): never passed. */
    public Verdict incomplete(String reason) {
        return new Verdict(simulation, environment, startedAt, durationSeconds, false, checks, requests, failedRequests,
                writes, sessions, stock, timeline, false, reason, windows, database, shards, cache,
                cacheStaleness, provenance, generator, capacity, pooler, databaseErrors);
    }

    /** False only for a run that was aborted or interrupted (a verdict file without the field was complete). */
    public boolean wasComplete() {
        return complete == null || complete;
    }

    /** The checks that were measured over their budget (a check not judged is not among them: see {@link #notJudged()}). */
    public List<CheckResult> failures() {
        return checks.stream().filter(CheckResult::failed).toList();
    }

    /** The checks that could not be judged; whether they failed the run is the check {@link VerdictAssembly#NOT_JUDGED}'s. */
    public List<CheckResult> notJudged() {
        return checks.stream().filter(CheckResult::notJudged).toList();
    }

    /** The outcome as the console's first line and chaos.html's heading say it: {@code PASSED, 2 checks not judged}. */
    public String outcomeText() {
        int failed = failures().size();
        int unjudged = notJudged().size();
        String notJudgedText = unjudged == 0 ? "" : unjudged + (unjudged == 1 ? " check" : " checks") + " not judged";
        if (passed) {
            return "PASSED" + (unjudged == 0 ? "" : ", " + notJudgedText);
        }
        return "FAILED (" + failed + " of " + checks.size() + " checks" + (unjudged == 0 ? "" : "; " + notJudgedText) + ")"
                + (generatorFellBehind() ? "; latency INCONCLUSIVE: the load generator fell behind" : "");
    }

    /** True when the load generator fell behind: this run's latency says nothing of the service in those seconds. */
    public boolean generatorFellBehind() {
        return checks.stream().anyMatch(c -> c.name().equals(GeneratorHealth.CHECK) && c.failed());
    }

    /** What the console shows at the end of a run: the outcome, then one line per check. */
    public String summary() {
        StringBuilder text = new StringBuilder();
        text.append("Doorbuster verdict for ").append(simulation).append(" on '").append(environment).append("': ")
                .append(outcomeText())
                .append(wasComplete() ? "" : "; INCOMPLETE: " + incompleteReason).append('\n');
        if (shards != null) {
            text.append("  (").append(shards.shards().size()).append(" of ").append(shards.count())
                    .append(" injector shards merged: ").append(requests).append(" requests)\n");
        }
        if (capacity != null) {
            text.append("  Capacity search (").append(capacity.plateaus().size()).append(" plateaus): ")
                    .append(capacity.summary()).append('\n').append(passed
                            ? "  This run, at the capacity found, passed every check: the capacity is confirmed.\n"
                            : "  This run, at the capacity found, did NOT pass (below): the capacity is not confirmed.\n");
        }
        for (CheckResult c : checks) {
            text.append("  ").append(c.line()).append('\n');
        }
        return text.toString();
    }

    public void writeJson(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        JSON.writeValue(file.toFile(), this);
    }

    public static Verdict readJson(Path file) throws IOException {
        return JSON.readValue(file.toFile(), Verdict.class);
    }

    /**
     * JUnit XML: one test suite, one test case per check; a failed check is a failure with its reason, a check not
     * judged is skipped with its reason (CI dashboards show skipped tests apart).
     */
    public void writeJunitXml(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        try (Writer out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            XMLStreamWriter xml = XMLOutputFactory.newInstance().createXMLStreamWriter(out);
            xml.writeStartDocument("UTF-8", "1.0");
            xml.writeCharacters("\n");
            xml.writeStartElement("testsuite");
            xml.writeAttribute("name", "doorbuster." + simulation);
            xml.writeAttribute("tests", Integer.toString(checks.size()));
            xml.writeAttribute("failures", Integer.toString(failures().size()));
            xml.writeAttribute("errors", "0");
            xml.writeAttribute("skipped", Integer.toString(notJudged().size()));
            xml.writeAttribute("time", String.format(Locale.ROOT, "%.3f", durationSeconds));
            xml.writeAttribute("timestamp", startedAt);
            for (CheckResult c : checks) {
                xml.writeCharacters("\n  ");
                xml.writeStartElement("testcase");
                xml.writeAttribute("classname", "doorbuster." + simulation + "." + environment);
                xml.writeAttribute("name", c.name());
                xml.writeAttribute("time", "0");
                if (c.notJudged()) {
                    xml.writeStartElement("skipped");
                    xml.writeAttribute("message", c.line());
                    xml.writeEndElement();
                } else if (c.failed()) {
                    xml.writeStartElement("failure");
                    xml.writeAttribute("message", c.line());
                    xml.writeAttribute("type", "SloViolation");
                    xml.writeCharacters(c.line());
                    xml.writeEndElement();
                } else {
                    xml.writeStartElement("system-out");
                    xml.writeCharacters(c.line());
                    xml.writeEndElement();
                }
                xml.writeEndElement();
            }
            xml.writeCharacters("\n");
            xml.writeEndElement();
            xml.writeEndDocument();
            xml.flush();
        } catch (XMLStreamException e) {
            throw new IOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
