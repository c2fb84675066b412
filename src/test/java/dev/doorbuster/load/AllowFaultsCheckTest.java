package dev.doorbuster.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import dev.doorbuster.chaos.FaultSchedule;
import dev.doorbuster.topology.EnvironmentException;
import dev.doorbuster.topology.EnvironmentLoader;
import dev.doorbuster.verdict.JudgingMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fault names live in the chaos package, which the environment loader cannot see: a run checks them
 * right after loading the environment, before any PostgreSQL starts.
 */
class AllowFaultsCheckTest {
    private static final String SIMULATION = "AllowFaultsCheckProbe";

    @TempDir
    Path dir;

    @Test
    void anUnknownFaultNameIsRefusedBeforeAnythingStarts() throws IOException {
        Path env = dir.resolve("meteor.json");
        Files.writeString(env, "{\"type\": \"local\", \"allowFaults\": [\"ReplicationLag\", \"Meteor\"]}");
        String before = System.getProperty(EnvironmentLoader.PROPERTY);
        System.setProperty(EnvironmentLoader.PROPERTY, env.toString());
        try {
            EnvironmentException e = assertThrows(EnvironmentException.class, () -> Run.start(SIMULATION,
                    new LoadProfile().hold("steady", 1, Duration.ofSeconds(1)), new FaultSchedule(), JudgingMode.STANDARD));
            assertTrue(e.getMessage().startsWith(env + ": field 'allowFaults[1]' is 'Meteor'; expected one of "
                    + "ReplicationLag, ReplicationCut, PrimaryFailover, DbLatency, ConnectionReset, ProxyDown"), e.getMessage());
        } finally {
            if (before == null) {
                System.clearProperty(EnvironmentLoader.PROPERTY);
            } else {
                System.setProperty(EnvironmentLoader.PROPERTY, before);
            }
        }
        assertEquals(List.of(), runDirs(), "no run folder: the local topology never started");
    }

    private static List<Path> runDirs() throws IOException {
        Path runs = Path.of("target", "doorbuster");
        if (!Files.isDirectory(runs)) {
            return List.of();
        }
        try (Stream<Path> all = Files.list(runs)) {
            return all.filter(p -> p.getFileName().toString().startsWith(SIMULATION.toLowerCase(java.util.Locale.ROOT)))
                    .toList();
        }
    }
}
