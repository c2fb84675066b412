package dev.doorbuster.tools;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What a test needs from the machine (a Docker engine, Chromium, npm, root). A contributor's {@code mvn verify}
 * without it skips that test, saying why; CI, which installs and starts all of it ({@code .ci/run} sets
 * {@value #ENVIRONMENT}), fails instead, so a missing step can never pass as a green run.
 */
public final class Required {
    /** Set to {@code true} (by {@code .ci/run}): every test's needs must be met, a skip is a failure. */
    public static final String ENVIRONMENT = "DOORBUSTER_TESTS_REQUIRE_ALL";

    private Required() {
    }

    /** Skips the calling test (or fails it, where everything is required) unless {@code available}. */
    public static void assume(boolean available, String why) {
        if (available) {
            return;
        }
        if (everything()) {
            fail(why + " (" + ENVIRONMENT + "=true: this machine must run every test)");
        }
        assumeTrue(false, why);
    }

    static boolean everything() {
        return Boolean.parseBoolean(System.getenv(ENVIRONMENT));
    }
}
