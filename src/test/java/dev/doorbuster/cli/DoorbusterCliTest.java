package dev.doorbuster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;


import org.junit.jupiter.api.Test;

/** Bad command lines get exit code 2 and a message naming the problem, plus usage; nothing starts. */
class DoorbusterCliTest {
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        return Doorbuster.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
    }

    @Test
    void noCommandPrintsTheChoices() {
        assertEquals(2, run());
        assertTrue(err.toString().contains("Missing command"), err.toString());
        assertTrue(err.toString().contains("up"), err.toString());
    }

    @Test
    void unknownCommand() {
        assertEquals(2, run("launch"));
        assertTrue(err.toString().contains("launch"), err.toString());
        assertTrue(err.toString().contains("Usage: doorbuster"), err.toString());
    }

    @Test
    void nonNumericReplicas() {
        assertEquals(2, run("up", "--replicas", "two"));
        assertTrue(err.toString().contains("two"), err.toString());
        assertTrue(err.toString().contains("Usage: doorbuster up"), err.toString());
    }

    @Test
    void unknownSyncMode() {
        assertEquals(2, run("up", "--sync", "sometimes"));
        assertTrue(err.toString().contains("off, on, remote_apply"), err.toString());
    }

    @Test
    void badDuration() {
        assertEquals(2, run("up", "--for", "soon"));
        assertTrue(err.toString().contains("'soon' is not a duration"), err.toString());
    }

    @Test
    void replicasOutOfRangeIsAnErrorBeforeAnythingStarts() {
        assertEquals(1, run("up", "--replicas", "9"));
        assertTrue(err.toString().contains("postgres.replicas"), err.toString());
        assertTrue(err.toString().contains("between 0 and 8"), err.toString());
    }

    @Test
    void unknownRoutingPolicyIsAnErrorBeforeAnythingStarts() {
        assertEquals(1, run("up", "--routing", "random"));
        assertTrue(err.toString().contains("app.routing"), err.toString());
        assertTrue(err.toString().contains("replica, primary, read-your-writes, sticky"), err.toString());
    }

    @Test
    void unknownEnvironment() {
        assertEquals(1, run("up", "--env", "nowhere"));
        assertTrue(err.toString().contains("Environment 'nowhere' not found"), err.toString());
    }

    @Test
    void externalEnvironmentsAreNotStarted() {
        assertEquals(1, run("up", "--env", "staging.example"));
        assertTrue(err.toString().contains("external environment"), err.toString());
    }

    @Test
    void missingBinariesFolderNamesTheFolder() {
        assertEquals(1, run("up", "--db-only", "--pg-bin", "/nonexistent/pg/bin", "--for", "1s"));
        assertTrue(err.toString().contains("/nonexistent/pg/bin does not exist"), err.toString());
    }

    @Test
    void helpAndVersion() {
        assertEquals(0, run("up", "--help"));
        assertTrue(out.toString().contains("--replicas"));
        assertEquals(0, run("--version"));
        assertTrue(out.toString().contains("doorbuster"));
    }
}
