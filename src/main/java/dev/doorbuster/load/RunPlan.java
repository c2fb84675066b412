package dev.doorbuster.load;

import java.nio.file.Path;

import dev.doorbuster.chaos.FaultSchedule;
import dev.doorbuster.topology.Environment;
import dev.doorbuster.verdict.Capacity;
import dev.doorbuster.verdict.JudgingMode;

/**
 * What a run was asked to do, fixed before anything starts.
 *
 * @param reportsDir where Gatling's report folders are (our files go into this run's)
 * @param workDir    this run's logs and data directories ({@code target/doorbuster/<simulation>-<time>})
 * @param sharding   this process's part in a scaled-out run (solo when not sharded)
 * @param capacity   the capacity search this run confirms (null for any other run)
 */
record RunPlan(String simulation, Environment environment, LoadProfile profile, FaultSchedule schedule,
               JudgingMode mode, Path reportsDir, Path workDir, Sharding sharding, Capacity capacity) {

    /** The abort rule of a process that watches its own load; none when judging overload (it is meant to fail). */
    AbortGuard abortGuard() {
        Environment.Slo slo = environment.slo();
        return mode == JudgingMode.OVERLOAD ? null : new AbortGuard(slo.abortErrorRatePercent(), slo.abortAfterSeconds());
    }
}
