package dev.doorbuster.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

import dev.doorbuster.app.Storefront;
import dev.doorbuster.app.StorefrontConfig;
import dev.doorbuster.postgres.PgCluster;
import dev.doorbuster.postgres.PgNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

/**
 * {@code doorbuster app}: runs the reference storefront. Without {@code --writer-url} it first starts a
 * local primary + streaming replica and seeds them, so one command gives a shop to point Gatling at.
 * All other flags are the storefront's own ({@code doorbuster app --help}).
 */
@Command(name = "app", description = "Run the reference storefront (system under test). Without --writer-url: on a "
        + "fresh local PostgreSQL primary + replica, seeded. Flags: see `doorbuster app --help`.")
final class AppCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Unmatched
    List<String> args = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (args.contains("--help") || args.contains("-h")) {
            out.print(StorefrontConfig.USAGE);
            out.println("Without --writer-url (and --config), `doorbuster app` starts a local primary + replica first, "
                    + "creates database 'storefront' and seeds it (--init-schema).");
            return 0;
        }
        boolean local = args.stream().noneMatch(a -> a.equals("--writer-url") || a.startsWith("--writer-url=")
                || a.equals("--config") || a.startsWith("--config="));
        List<String> storefrontArgs = new ArrayList<>();
        if (local) {
            // Reject bad flags before spending seconds on a cluster.
            if (usageError(err, concat(List.of("--writer-url", "jdbc:postgresql://127.0.0.1/storefront"), args)) == null) {
                return 2;
            }
        }
        PgCluster cluster = local ? PgCluster.builder().replicas(1).start() : null;
        try {
            if (cluster != null) {
                PgNode replica = cluster.replicas().get(0);
                // No timeouts in the URLs: the storefront derives them from its own request bound (JdbcOptions),
                // and a URL's options would win over them.
                String nodes = cluster.nodes().stream().map(n -> "127.0.0.1:" + n.port())
                        .collect(java.util.stream.Collectors.joining(","));
                storefrontArgs.addAll(List.of("--writer-url", "jdbc:postgresql://" + nodes + "/storefront?targetServerType="
                                + dev.doorbuster.app.JdbcOptions.WRITER_TARGET,
                        "--reader-url", "jdbc:postgresql://127.0.0.1:" + replica.port() + "/storefront", "--init-schema"));
            }
            storefrontArgs.addAll(args);
            StorefrontConfig config = usageError(err, storefrontArgs);
            if (config == null) {
                return 2;
            }
            Storefront storefront;
            try {
                storefront = Storefront.start(config);
            } catch (Storefront.StartupException e) {
                err.println("doorbuster app: " + e.getMessage());
                return 1;
            }
            PgCluster started = cluster;
            cluster = null; // from here on the shutdown hook owns it
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                storefront.close();
                if (started != null) {
                    started.close();
                }
                stopped.countDown();
            }, "doorbuster-app-shutdown"));
            out.println("Storefront listening on " + storefront.url());
            if (started != null) {
                out.println("  primary  127.0.0.1:" + started.primary().port() + "   replica  127.0.0.1:"
                        + started.replicas().get(0).port() + "   database storefront (user postgres)");
                out.println("  data and logs: " + started.workDir());
            }
            out.println("  routing " + config.routing().flag() + "; Press Ctrl-C to stop.");
            out.flush();
            stopped.await();
            return 0;
        } finally {
            if (cluster != null) {
                cluster.close();
            }
        }
    }

    /** Parses the storefront flags; on error prints it with the usage and returns null. */
    private static StorefrontConfig usageError(PrintWriter err, List<String> storefrontArgs) {
        try {
            return StorefrontConfig.fromArgs(storefrontArgs.toArray(String[]::new));
        } catch (StorefrontConfig.UsageException e) {
            err.println("doorbuster app: " + e.getMessage());
            err.print(StorefrontConfig.USAGE);
            err.flush();
            return null;
        } catch (StorefrontConfig.HelpRequested e) {
            return null;
        }
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}
