package dev.doorbuster.load;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

import dev.doorbuster.verdict.CacheChecks;
import dev.doorbuster.verdict.PoolerReport;
import dev.doorbuster.verdict.CheckResult;
import dev.doorbuster.verdict.GeneratorHealth;
import dev.doorbuster.verdict.report.ChaosReport;
import dev.doorbuster.verdict.report.DatabaseReport;
import dev.doorbuster.verdict.consistency.CacheStaleness;
import dev.doorbuster.verdict.consistency.Inventory;
import dev.doorbuster.verdict.Judge;
import dev.doorbuster.process.Exec;
import dev.doorbuster.verdict.Provenance;
import dev.doorbuster.verdict.RunHistory;
import dev.doorbuster.verdict.consistency.SessionReport;
import dev.doorbuster.verdict.shard.ShardReport;
import dev.doorbuster.verdict.Verdict;
import dev.doorbuster.verdict.VerdictAssembly;
import dev.doorbuster.verdict.consistency.WriteLedger;

/**
 * The end of a run in the process that owns the topology (solo, or a scaled-out run's coordinator once it merged
 * the shards' recordings): heals every fault, audits every write by its identity, classifies the session checks'
 * violations, measures how stale the cache's reads were, evaluates the stock invariant and the checks, assembles the verdict ({@link VerdictAssembly}), writes
 * its files and prints it.
 */
final class Judgement {
    private final RunPlan plan;
    private final RunRecording recording;
    private final OwnedTopology topology;
    private final StockInvariant stock;
    private final WriteAudit audit;
    private final ReportFiles reports;

    Judgement(RunPlan plan, RunRecording recording, OwnedTopology topology, StockInvariant stock, ReportFiles reports) {
        this.plan = plan;
        this.recording = recording;
        this.topology = topology;
        this.stock = stock;
        this.audit = new WriteAudit(recording, topology.topology());
        this.reports = reports;
    }

    /**
     * @param seconds    the load's length (measured before a coordinator waits for its shards)
     * @param endedEarly why the load stopped early, or null
     * @param abortedAt  the abort rule's second when it stopped the load (else the load's end is taken now)
     * @param shards     what the injector shards delivered (null when solo)
     * @param quick      the JVM is stopping: no retried audit, no stock reading, no last probe sample
     */
    Verdict judge(double seconds, String endedEarly, OptionalInt abortedAt, ShardReport shards, boolean quick) {
        int stoppedAt = abortedAt.orElse(recording.second());
        GeneratorHealth generator = recording.generatorHealth(stoppedAt);
        DatabaseReport database = topology.heal(quick);
        WriteLedger.Audit writes = audit.audit(quick);
        SessionReport sessions = recording.consistencyLog().report(writes, recording.timeline());
        Inventory.StockAudit stockAudit = quick ? null : stock.audit(writes);
        long violatingReads = sessions.guarantees().stream()
                .mapToLong(r -> r.violations() + r.explainedByLostWrites()).sum();
        CacheStaleness cacheStaleness = CacheStaleness.measure(recording.consistencyLog().history(), recording.timeline());
        List<CheckResult> checks = Judge.evaluate(new Judge.Facts(plan.mode(), plan.environment().slo(),
                plan.environment().app().requestTimeoutMs(), recording.recorder(), plan.profile().phases(),
                recording.timeline(), topology.samples(), sessions, violatingReads, recording.client503s(), writes,
                stockAudit, cacheStaleness, topology.metricsCoverage(), topology.unmeasurableRto(), generator));
        // The cache tier's own checks, from its per-second counters: judged like the others.
        Optional<CacheChecks.Report> cache = CacheChecks.measure(recording.timeline(), topology.cacheSamples());
        if (cache.isPresent()) {
            checks = new ArrayList<>(checks);
            checks.addAll(CacheChecks.checks(cache.get(), plan.environment().slo()));
        }
        // The pooler tier's queue: pool exhaustion as the pooler saw it, after a warm-up like the service's own.
        Optional<PoolerReport> pooler = PoolerReport.of(topology.poolerSamples());
        if (pooler.isPresent() && plan.mode() != dev.doorbuster.verdict.JudgingMode.OVERLOAD) {
            checks = new ArrayList<>(checks);
            checks.add(pooler.get().waitCheck(plan.environment().slo().poolerWaitMs(),
                    dev.doorbuster.verdict.Phase.judgedFrom(plan.profile().phases())));
        }
        dev.doorbuster.verdict.probes.DatabaseErrors databaseErrors = topology.databaseErrors();
        checks = Judge.namingDatabaseErrors(checks, databaseErrors);
        Optional<RunHistory.Entry> baseline = RunHistory.baseline(plan.reportsDir(), plan.simulation(),
                System.getProperty(Run.BASELINE));
        Verdict verdict = VerdictAssembly.assemble(new VerdictAssembly.Facts(
                new VerdictAssembly.Identity(plan.simulation(), plan.environment().name(),
                        recording.loadStarted().toString(), seconds),
                plan.mode(), plan.environment().slo(), recording.recorder(), checks,
                new VerdictAssembly.Ending(endedEarly, stoppedAt), shards, baseline, writes, sessions, stockAudit,
                recording.timeline().events(), database, plan.capacity())).withCache(cache.orElse(null))
                // Only a run with reads served by the cache has their staleness to report.
                .withCacheStaleness(cacheStaleness.cacheReads() > 0 ? cacheStaleness : null)
                .withProvenance(provenance(baseline)).withGenerator(generator)
                .withPooler(pooler.orElse(null))
                .withDatabaseErrors(databaseErrors);
        Path dir = reports.write(verdict, recording, topology.samples(), plan.profile().phases());
        System.out.println();
        System.out.print(verdict.summary());
        Provenance what = verdict.provenance();
        if (what != null && !what.differencesFromBaseline().isEmpty()) {
            System.out.println("Compared with baseline " + what.baseline() + ", which ran differently: "
                    + String.join("; ", what.differencesFromBaseline()));
        }
        System.out.println("Reports: " + dir.resolve(ChaosReport.FILE) + " (faults) and " + dir.resolve(ChaosReport.GATLING_PAGE)
                + " (Gatling)");
        System.out.println();
        return verdict;
    }

    /** What ran, and what ran differently from the baseline when there is one. */
    private Provenance provenance(Optional<RunHistory.Entry> baseline) {
        Provenance provenance = Provenance.of(doorbusterVersion(),
                io.gatling.app.Gatling.class.getPackage().getImplementationVersion(), plan.environment(),
                topology.database(), Parameters.taken());
        return baseline.map(b -> provenance.comparedWith(b.name(), b.verdict().provenance())).orElse(provenance);
    }

    /**
     * The jar's version and the commit it was built from (written into its manifest by the build); run from classes
     * (a checkout of Doorbuster), the git commit of that checkout. Either is marked when the tree had uncommitted
     * changes. Null when nothing says which build ran. Never the commit of the directory the run was started in:
     * that is the user's project, not Doorbuster.
     */
    private static String doorbusterVersion() {
        Path classes;
        try {
            classes = Path.of(Judgement.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (java.net.URISyntaxException | RuntimeException e) {
            return Judgement.class.getPackage().getImplementationVersion();
        }
        if (java.nio.file.Files.isDirectory(classes)) {
            Exec.Result commit = Exec.run(List.of("git", "rev-parse", "--short=12", "HEAD"), classes,
                    Duration.ofSeconds(5));
            if (!commit.ok() || commit.output().isBlank()) {
                return null;
            }
            Exec.Result changes = Exec.run(List.of("git", "status", "--porcelain", "--untracked-files=no"), classes,
                    Duration.ofSeconds(5));
            return withCommit(Provenance.DEVELOPMENT_BUILD, commit.output().strip(),
                    changes.ok() && !changes.output().isBlank());
        }
        try (java.util.jar.JarFile jar = new java.util.jar.JarFile(classes.toFile())) {
            java.util.jar.Manifest manifest = jar.getManifest();
            java.util.jar.Attributes main = manifest == null ? new java.util.jar.Attributes() : manifest.getMainAttributes();
            String version = main.getValue(java.util.jar.Attributes.Name.IMPLEMENTATION_VERSION);
            String commit = main.getValue(MANIFEST_COMMIT);
            if (commit == null || !commit.matches("[0-9a-f]{7,40}")) {
                return version; // built without git (a source archive): the version is all there is
            }
            return withCommit(version == null ? Provenance.DEVELOPMENT_BUILD : version, commit,
                    Boolean.parseBoolean(main.getValue(MANIFEST_UNCOMMITTED)));
        } catch (java.io.IOException e) {
            return Judgement.class.getPackage().getImplementationVersion();
        }
    }

    /** Manifest entries the build writes (pom.xml, maven-jar-plugin's manifestEntries). */
    private static final String MANIFEST_COMMIT = "Doorbuster-Commit";
    private static final String MANIFEST_UNCOMMITTED = "Doorbuster-Uncommitted-Changes";

    private static String withCommit(String version, String commit, boolean uncommittedChanges) {
        return version + ", commit " + commit + (uncommittedChanges ? " with uncommitted changes" : "");
    }
}
