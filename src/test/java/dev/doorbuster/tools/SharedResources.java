package dev.doorbuster.tools;

/**
 * What the integration tier's tests share when two run at once (JUnit's {@code @ResourceLock} names; the
 * failsafe configuration in pom.xml runs two at a time).
 */
public final class SharedResources {
    /**
     * The machine's cores. A control that only counts (violations, lost writes, oversold units) holds it for
     * reading and shares the machine; one that times something (a P99 budget, an RTO, an arrival rate) holds it for
     * writing, alone, so that a neighbour's load never decides its verdict.
     */
    public static final String MACHINE = "doorbuster.machine";
    /**
     * The Docker engine's containers, networks and volumes: tests that start them hold it for writing, since their
     * clean-up checks look at every run's resources on the engine.
     */
    public static final String DOCKER_ENGINE = "doorbuster.docker-engine";

    private SharedResources() {
    }
}
