package dev.doorbuster.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import dev.doorbuster.postgres.PgBinaries;
import dev.doorbuster.postgres.PgCluster;
import dev.doorbuster.postgres.PgNode;
import dev.doorbuster.postgres.SyncMode;
import dev.doorbuster.process.Durations;
import dev.doorbuster.topology.Environment;
import dev.doorbuster.topology.EnvironmentLoader;
import dev.doorbuster.topology.LocalTopology;
import dev.doorbuster.topology.docker.DockerTopology;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;

/** {@code doorbuster up}: starts a local or docker topology, prints its endpoints, stops it on Ctrl-C (or after --for). */
@Command(name = "up", mixinStandardHelpOptions = true,
        description = "Start the topology of a local or docker environment (PostgreSQL primary + replicas, the chaos "
                + "proxy on every database link, the application), print its endpoints, and keep it running until Ctrl-C.")
final class UpCommand implements Callable<Integer> {
    @Option(names = "--env", defaultValue = "local",
            description = "Environment name (environments/<name>.json) or file. Default: ${DEFAULT-VALUE}.")
    String env;

    @Option(names = "--db-only", description = "Only the PostgreSQL cluster: no proxy, no application.")
    boolean dbOnly;

    @Option(names = "--replicas", description = "Number of streaming replicas (0-8), overriding the environment.")
    Integer replicas;

    @Option(names = "--sync", converter = SyncModeConverter.class,
            description = "Synchronous replication: off, on or remote_apply, overriding the environment.")
    SyncMode sync;

    @Option(names = "--routing", description = "Storefront read routing: replica, primary, read-your-writes or sticky.")
    String routing;

    @Option(names = "--pg-bin", description = "Folder of system PostgreSQL binaries (initdb, postgres) instead of the bundled ones.")
    Path pgBin;

    @Option(names = "--work-dir", description = "With --db-only: folder for data and logs (kept afterwards). "
            + "Default: a temporary folder, deleted at exit.")
    Path workDir;

    @Option(names = "--for", converter = DurationConverter.class,
            description = "Stop by itself after this long (e.g. 30s, 5m, 1h). Default: until Ctrl-C.")
    Duration runFor;

    @Override
    public Integer call() throws Exception {
        Properties overrides = new Properties();
        overrides.putAll(System.getProperties());
        if (replicas != null) {
            overrides.setProperty("postgres.replicas", replicas.toString());
        }
        if (sync != null) {
            overrides.setProperty("postgres.synchronousCommit", sync.setting());
        }
        if (routing != null) {
            overrides.setProperty("app.routing", routing);
        }
        if (pgBin != null) {
            overrides.setProperty("postgres.binaries", pgBin.toString());
        }
        Environment environment = new EnvironmentLoader(Path.of("environments"), overrides).load(env);
        if (!environment.ownsDatabase()) {
            throw new IllegalArgumentException("'" + env + "' is an external environment: it already runs elsewhere, so "
                    + "there is nothing to start. 'up' starts local and docker environments.");
        }
        if (environment.isDocker() && dbOnly) {
            throw new IllegalArgumentException("--db-only is for local environments; '" + env + "' is a docker one "
                    + "(its databases come with their proxies).");
        }
        AutoCloseable running = environment.isDocker() ? startContainers(environment)
                : dbOnly ? startCluster(environment) : startTopology(environment);
        System.out.println(runFor == null ? "Press Ctrl-C to stop." : "Stopping by itself in " + runFor.toSeconds() + " s.");
        System.out.flush();
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            closeQuietly(running);
            stopped.countDown();
        }, "doorbuster-up-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        if (runFor == null) {
            stopped.await();
        } else if (!stopped.await(runFor.toMillis(), TimeUnit.MILLISECONDS)) {
            Runtime.getRuntime().removeShutdownHook(hook);
            running.close();
            System.out.println("Stopped.");
        }
        return 0;
    }

    private AutoCloseable startTopology(Environment environment) {
        Path runDir = Path.of("target", "doorbuster", "up-" + System.currentTimeMillis()).toAbsolutePath();
        LocalTopology topology = LocalTopology.start(environment, runDir);
        PgCluster cluster = topology.cluster().orElseThrow();
        System.out.println("Doorbuster topology '" + environment.name() + "' is up (" + cluster.binaries() + ")");
        System.out.println("  storefront     " + topology.appUrl() + "  (log " + runDir.resolve("app.log") + ")");
        System.out.println("  metrics        " + topology.appMetricsUrl());
        System.out.println("  toxiproxy API  " + topology.toxiproxyUrl() + "  proxies: " + topology.links());
        printNodes(cluster);
        return topology;
    }

    private AutoCloseable startContainers(Environment environment) {
        Path runDir = Path.of("target", "doorbuster", "up-" + System.currentTimeMillis()).toAbsolutePath();
        DockerTopology topology = DockerTopology.start(environment, runDir);
        System.out.println("Doorbuster topology '" + environment.name() + "' is up in containers labelled "
                + "dev.doorbuster.run=" + topology.runId() + " (logs kept in " + runDir + " when it stops)");
        System.out.println("  application    " + topology.appUrl());
        System.out.println("  toxiproxy API  " + topology.toxiproxyUrl() + "  proxies: " + topology.links());
        for (var node : topology.diagnosticTargets()) {
            System.out.println("  " + node.role() + "  " + node.name() + "  " + node.jdbcUrl() + "  (user "
                    + topology.dbUser() + ", password " + topology.dbPassword() + ")");
        }
        return topology;
    }

    private AutoCloseable startCluster(Environment environment) {
        Environment.Postgres pg = environment.postgres();
        PgCluster.Builder builder = PgCluster.builder().replicas(pg.replicas())
                .syncMode(SyncMode.parse(pg.synchronousCommit()));
        if (pg.binaries() != null) {
            builder.binaries(PgBinaries.fromDirectory(Path.of(pg.binaries())));
        }
        if (workDir != null) {
            builder.workDir(workDir);
        }
        pg.settings().forEach(builder::setting);
        PgCluster cluster = builder.start();
        System.out.println("Doorbuster PostgreSQL cluster is up (" + cluster.binaries() + ")");
        printNodes(cluster);
        System.out.println("  data and logs: " + cluster.workDir());
        return cluster;
    }

    private static void printNodes(PgCluster cluster) {
        System.out.println("  primary  " + describe(cluster.primary()));
        for (PgNode replica : cluster.replicas()) {
            System.out.println("  replica  " + describe(replica));
        }
        System.out.println("  writer URL (follows failover): " + cluster.writerJdbcUrl("postgres"));
    }

    private static String describe(PgNode node) {
        return node.name() + "  127.0.0.1:" + node.port() + "  " + node.jdbcUrl() + "  (PID " + node.pid() + ")";
    }

    private static void closeQuietly(AutoCloseable running) {
        try {
            running.close();
        } catch (Exception e) {
            System.err.println("doorbuster: while stopping: " + e.getMessage());
        }
    }

    static final class SyncModeConverter implements ITypeConverter<SyncMode> {
        @Override
        public SyncMode convert(String value) {
            return SyncMode.parse(value);
        }
    }

    /** Parses durations like {@code 90s}, {@code 5m}, {@code 2h}, {@code 500ms}, or ISO-8601 ({@code PT5M}). */
    static final class DurationConverter implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            return Durations.parse(value);
        }
    }
}
