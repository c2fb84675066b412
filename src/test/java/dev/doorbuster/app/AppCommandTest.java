package dev.doorbuster.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;

import dev.doorbuster.cli.Doorbuster;
import org.junit.jupiter.api.Test;

/** {@code doorbuster app}: storefront flags pass through; bad ones fail with 2 before any cluster starts. */
class AppCommandTest {
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        return Doorbuster.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
    }

    @Test
    void badStorefrontFlagsExit2BeforeStartingAnything() {
        long started = System.nanoTime();
        assertEquals(2, run("app", "--routing", "psychic"));
        assertTrue(err.toString().contains("--routing must be one of replica, primary, read-your-writes, sticky"), err.toString());
        assertTrue(err.toString().contains("--writer-url"), "storefront usage: " + err);
        assertTrue(System.nanoTime() - started < 2_000_000_000L, "no cluster was started");
    }

    @Test
    void helpListsTheStorefrontFlags() {
        assertEquals(0, run("app", "--help"));
        assertTrue(out.toString().contains("--ryw-wait-ms"), out.toString());
        assertTrue(out.toString().contains("starts a local primary + replica"), out.toString());
    }

    @Test
    void anUnreachableWriterUrlIsExit1WithOneLine() {
        assertEquals(1, run("app", "--writer-url", "jdbc:postgresql://127.0.0.1:1/storefront", "--port", "0",
                "--pool-timeout-ms", "250"));
        assertTrue(err.toString().startsWith("doorbuster app: cannot reach the writer database"), err.toString());
        assertEquals(1, err.toString().strip().lines().count(), err.toString());
    }
}
