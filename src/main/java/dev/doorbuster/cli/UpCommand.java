package dev.doorbuster.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import dev.doorbuster.postgres.PgBinaries;
import dev.doorbuster.postgres.PgCluster;
import dev.doorbuster.postgres.PgNode;
import dev.doorbuster.postgres.SyncMode;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;

/** {@code doorbuster up}: starts the local database topology, prints its endpoints, stops it on Ctrl-C. */
@Command(name = "up", mixinStandardHelpOptions = true,
        description = "Start a local PostgreSQL primary + streaming replica(s), print their endpoints, and keep them "
                + "running until Ctrl-C (or --for).")
final class UpCommand implements Callable<Integer> {
    @Option(names = "--replicas", defaultValue = "1", description = "Number of streaming replicas (0-8). Default: ${DEFAULT-VALUE}.")
    int replicas;

    @Option(names = "--sync", defaultValue = "off", converter = SyncModeConverter.class,
            description = "Synchronous replication: off, on or remote_apply. Default: ${DEFAULT-VALUE}.")
    SyncMode sync;

    @Option(names = "--pg-bin", description = "Folder of system PostgreSQL binaries (initdb, postgres) instead of the bundled ones.")
    Path pgBin;

    @Option(names = "--work-dir", description = "Folder for data and logs (kept afterwards). Default: a temporary folder, deleted at exit.")
    Path workDir;

    @Option(names = "--for", converter = DurationConverter.class,
            description = "Stop by itself after this long (e.g. 30s, 5m, 1h). Default: until Ctrl-C.")
    Duration runFor;

    @Override
    public Integer call() throws Exception {
        if (replicas < 0 || replicas > 8) {
            throw new IllegalArgumentException("--replicas must be between 0 and 8, got " + replicas);
        }
        PgCluster.Builder builder = PgCluster.builder().replicas(replicas).syncMode(sync);
        if (pgBin != null) {
            builder.binaries(PgBinaries.fromDirectory(pgBin));
        }
        if (workDir != null) {
            builder.workDir(workDir);
        }
        PgCluster cluster = builder.start();
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            cluster.close();
            stopped.countDown();
        }, "doorbuster-up-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);

        System.out.println("Doorbuster topology is up (" + cluster.binaries() + ")");
        System.out.println("  primary  " + describe(cluster.primary()));
        for (PgNode replica : cluster.replicas()) {
            System.out.println("  replica  " + describe(replica));
        }
        System.out.println("  writer URL (follows failover): " + cluster.writerJdbcUrl("postgres"));
        System.out.println("  data and logs: " + cluster.workDir());
        System.out.println(runFor == null ? "Press Ctrl-C to stop." : "Stopping by itself in " + runFor.toSeconds() + " s.");
        System.out.flush();

        if (runFor == null) {
            stopped.await();
        } else if (!stopped.await(runFor.toMillis(), TimeUnit.MILLISECONDS)) {
            Runtime.getRuntime().removeShutdownHook(hook);
            cluster.close();
            System.out.println("Stopped.");
        }
        return 0;
    }

    private static String describe(PgNode node) {
        return node.name() + "  127.0.0.1:" + node.port() + "  " + node.jdbcUrl() + "  (PID " + node.pid() + ")";
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
