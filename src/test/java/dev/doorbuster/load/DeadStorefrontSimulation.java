package dev.doorbuster.load;

import java.time.Duration;

import dev.doorbuster.chaos.FaultSchedule;
import dev.doorbuster.chaos.LinkTarget;
import dev.doorbuster.chaos.ProxyDown;
import dev.doorbuster.verdict.JudgingMode;

/**
 * Test plan for the abort rule: steady shoppers, then every database link of the storefront down for the
 * rest of the run (from {@code -Ddead.atSeconds}, default 5), so nearly every request fails. With the abort
 * rule on, the run must stop long before its planned length.
 */
public class DeadStorefrontSimulation extends DoorbusterSimulation {
    static final Duration LENGTH = loadLength(1);
    static final Duration DEAD_AT = Duration.ofSeconds(Parameters.wholeNumber("dead.atSeconds", 5));

    final LoadProfile load = new LoadProfile().hold("steady", 10, LENGTH);
    final FaultSchedule faults = new FaultSchedule().at(DEAD_AT, new ProxyDown(LinkTarget.ALL), LENGTH.minus(DEAD_AT));

    {
        plan("Shoppers of a dying storefront", load, faults, JudgingMode.STANDARD, new TrafficMix(40, 30, 30));
    }
}
