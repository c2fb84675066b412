package dev.doorbuster.bench;

import java.util.concurrent.TimeUnit;
import java.util.Arrays;

import dev.doorbuster.postgres.PgBinaries;
import dev.doorbuster.postgres.PgCluster;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Test;

/**
 * Primary + replica: cold start (binaries already extracted) until the replica streams, and teardown
 * until every process is gone, with initdb for every primary and with a copy of the machine's initdb template, side
 * by side. Goal on 2 cores: up ≤ 5 s, down ≤ 2 s (medians). Run: mvn -B -Pbench verify.
 */
@Tag("bench")
@Timeout(value = 10, unit = TimeUnit.MINUTES) // longer than the tests' default of 5 minutes
class ClusterStartBenchmark {
    private static final int RUNS = Integer.getInteger("bench.runs", 7);

    /** The template's system property (InitdbTemplate.PROPERTY), switched between the two rounds of one run. */
    private static final String TEMPLATE = "doorbuster.pg.initdbTemplate";

    @Test
    void primaryAndReplicaStartAndStop() {
        PgBinaries binaries = PgBinaries.resolve(); // extraction (first use only) is not part of the figure
        String before = System.getProperty(TEMPLATE);
        try {
            // Side by side in one run: initdb for every primary, then a copy of the machine's template.
            for (boolean template : new boolean[] {false, true}) {
                System.setProperty(TEMPLATE, Boolean.toString(template));
                PgCluster.builder().binaries(binaries).replicas(1).start().close(); // warm-up (and template made)
                double[] up = new double[RUNS];
                double[] down = new double[RUNS];
                for (int i = 0; i < RUNS; i++) {
                    long t0 = System.nanoTime();
                    PgCluster cluster = PgCluster.builder().binaries(binaries).replicas(1).start();
                    long t1 = System.nanoTime();
                    cluster.close();
                    long t2 = System.nanoTime();
                    up[i] = (t1 - t0) / 1e6;
                    down[i] = (t2 - t1) / 1e6;
                }
                BenchReport.record("primary+replica (PostgreSQL " + binaries.version() + "), "
                        + (template ? "primary copied from the initdb template" : "initdb for every primary"),
                        String.format("up median %.0f ms (runs %s), down median %.0f ms (runs %s); goal up ≤ 5000 ms, "
                                        + "down ≤ 2000 ms", BenchReport.median(up),
                                Arrays.toString(Arrays.stream(up).mapToLong(Math::round).toArray()),
                                BenchReport.median(down),
                                Arrays.toString(Arrays.stream(down).mapToLong(Math::round).toArray())));
            }
        } finally {
            if (before == null) {
                System.clearProperty(TEMPLATE);
            } else {
                System.setProperty(TEMPLATE, before);
            }
        }
    }
}
