package dev.doorbuster.simulations;

import java.time.Duration;

import dev.doorbuster.chaos.FaultSchedule;
import dev.doorbuster.chaos.PrimaryFailover;
import dev.doorbuster.load.DoorbusterSimulation;
import dev.doorbuster.load.LoadProfile;
import dev.doorbuster.load.Parameters;
import dev.doorbuster.verdict.JudgingMode;

/**
 * How big a Black Friday can we take? A capacity search with Black Friday's shoppers.
 *
 * <p><b>Load</b>: plateaus of a constant arrival rate, each a whole run of {@code -Dload.minutes} (2) on a fresh
 * stack, the first third a warm-up that latency, errors and pool exhaustion are not judged on. Two minutes, because
 * the question is the rate the stack sustains: 21 s plateaus on this project's 2-core machine measured how much a
 * cold stack takes in its first seconds (capacity 183-200 shoppers/s where a warm stack took 350-400); with 2 minutes
 * the search found 322-400, near a stepped run's knee on one warm stack (docs/BENCHMARKS.md). A search takes about
 * 25 minutes; {@code -Dload.minutes=0.5} gives a rough answer in ten, lower than the sustained one. The first plateau
 * brings 30 shoppers/s, Black Friday's peak ({@code -Dcapacity.startRate}); each next one twice as many
 * ({@code -Dcapacity.growth}) until one does not pass; then the search bisects between the highest rate that passed
 * and the lowest that did not, until they are within 5 % ({@code -Dcapacity.resolutionPercent}), in at most 12 plateaus ({@code
 * -Dcapacity.maxPlateaus}). A last run at the capacity found confirms it: its reports are this run's.
 *
 * <p><b>Shoppers</b>: as on Black Friday, each browses (70%), fills a cart (20%) or checks out (10%), half of the carts
 * and checkouts going for the doorbuster deals; every write is read back.
 *
 * <p><b>Fault</b>: none, or with {@code -Dfailover=true} a primary failover in the middle of every plateau: the
 * capacity during failover.
 *
 * <p><b>Answers</b> "capacity N shoppers/s (M requests/s) — limited by {@code <check>} at N' shoppers/s", judged by
 * every check of the run at every plateau (p99, errors, pools, session guarantees, lost writes, the stock invariant,
 * the load generator's health), or "limited by the load generator" when the generator fell behind first. The plateaus'
 * own run folders are in {@code reports/capacitysimulation-capacity-<time>/}; {@code chaos.html} draws the knee.
 *
 * <p><b>Parameters</b>: {@code -Dload.minutes=2} (a plateau's length), {@code -Dfailover=false},
 * {@code -Dcapacity.startRate=30}, {@code -Dcapacity.growth=2}, {@code -Dcapacity.resolutionPercent=5},
 * {@code -Dcapacity.maxPlateaus=12}, {@code -Dcapacity.repeats=0}, {@code -Dcapacity.warmupSeconds} (a third of a
 * plateau, 5-60 s); {@code -Dcapacity=off} runs one plateau at 30 shoppers/s without searching.
 */
public class CapacitySimulation extends DoorbusterSimulation {
    static final Duration LENGTH = loadLength(2);
    static final boolean FAILOVER = Parameters.flag("failover", false);

    /** The first plateau's rate, Black Friday's peak; the search replaces it by each plateau's own. */
    final LoadProfile load = new LoadProfile().hold("shoppers", 30, LENGTH);

    final FaultSchedule faults = FAILOVER
            ? new FaultSchedule().at(share(LENGTH, 0.5), new PrimaryFailover(true), share(LENGTH, 0.25))
            : new FaultSchedule();

    @Override
    protected boolean searchesCapacity() {
        return true;
    }

    {
        plan("Black Friday shoppers, plateau by plateau", load, faults, JudgingMode.STANDARD,
                new TrafficMix(70, 20, 10));
    }
}
