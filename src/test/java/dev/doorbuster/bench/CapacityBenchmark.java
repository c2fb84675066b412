package dev.doorbuster.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.doorbuster.load.ForkedGatling;
import dev.doorbuster.topology.EnvironmentLoader;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The largest arrival rate of shoppers the whole local stack sustains on this machine with p99 within
 * the local environment's budget and errors within its error budget ({@link CapacitySimulation}).
 * Run: {@code mvn -B -Pbench test -Dtest=CapacityBenchmark}.
 */
@Tag("bench")
@Timeout(value = 20, unit = TimeUnit.MINUTES) // longer than the tests' default of 5 minutes
class CapacityBenchmark {
    private static final Pattern STEP = Pattern.compile(
            "\\[capacity] rate-(\\d+) req/s=([\\d.]+) p99ms=([\\d.]+) p50ms=([\\d.]+) errors=([\\d.]+)%");

    @Test
    void largestSustainedArrivalRate() throws Exception {
        var slo = new EnvironmentLoader(Path.of("environments"), new java.util.Properties()).load("local").slo();
        Path home = Files.createTempDirectory(Path.of("/var/tmp"), "doorbuster-capacity-");
        Files.setPosixFilePermissions(home, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        ForkedGatling.Result run = ForkedGatling.start(CapacitySimulation.class.getName(),
                Files.createTempDirectory("capacity-reports"), home, Map.of("load.minutes", "1"))
                .await(Duration.ofMinutes(15));
        List<String> rows = new ArrayList<>();
        int sustained = 0;
        Matcher m = STEP.matcher(run.output());
        while (m.find()) {
            int rate = Integer.parseInt(m.group(1));
            double p99 = Double.parseDouble(m.group(3));
            double errors = Double.parseDouble(m.group(5));
            boolean ok = p99 <= slo.p99Ms() && errors <= slo.errorRatePercent();
            if (ok && rate > sustained && rows.stream().allMatch(r -> r.endsWith("| yes |"))) {
                sustained = rate;
            }
            rows.add("| " + rate + " | " + m.group(2) + " | " + m.group(4) + " | " + m.group(3) + " | " + m.group(5)
                    + " | " + (ok ? "yes" : "no") + " |");
        }
        BenchReport.record("capacity of the local stack (Black Friday mix, no faults; budget p99 ≤ " + slo.p99Ms()
                + " ms, errors ≤ " + slo.errorRatePercent() + "%)", "largest sustained rate " + sustained
                + " shoppers/s\n| shoppers/s | requests/s | p50 ms | p99 ms | errors % | within budget |\n"
                + "|---|---|---|---|---|---|\n" + String.join("\n", rows));
    }
}
