package dev.doorbuster.load;

import java.net.URI;
import java.util.List;

import dev.doorbuster.topology.Topology;
import dev.doorbuster.verdict.CheckResult;
import dev.doorbuster.verdict.Verdict;

/**
 * This process's part in a run, chosen once at start-up from {@link Sharding}: {@link SoloRole} (the whole run),
 * {@link CoordinatorRole} (topology, faults, probes and the verdict of a scaled-out run) or {@link InjectorRole}
 * (a share of the load, delivered to the coordinator). {@link Run} drives whichever it is through the same steps.
 */
sealed interface RunRole permits SoloRole, CoordinatorRole, InjectorRole {

    /**
     * How a run ended for this process: the checks the verdict scenario requests one by one, and the verdict (null
     * for an injector: its one check says whether its recording was delivered; the coordinator judges).
     */
    record Outcome(List<CheckResult> checks, Verdict verdict) {
        public Outcome {
            checks = List.copyOf(checks);
        }
    }

    /** The application the load goes to. */
    URI appUrl();

    /** The topology this process owns (null for an injector). */
    Topology topology();

    /** Second 0 of the load (from the simulation's {@code before()}). */
    void beginLoad();

    /** Why this process's load was stopped early (the abort rule, a silent coordinator), or null while it was not. */
    String abortReason();

    /**
     * The load is over, or {@code endedEarly} (its reason) stopped it; {@code quick}: the JVM is stopping, so every
     * wait on the database is bounded.
     */
    Outcome end(String endedEarly, boolean quick);

    /** Stops what this process started; {@code outcome} is null when the run never ended (nothing was recorded). */
    void close(Outcome outcome);

    /** The JVM is stopping before {@link #close}: heals the faults and stops the topology, nothing else. */
    void emergencyStop(Outcome outcome);
}
