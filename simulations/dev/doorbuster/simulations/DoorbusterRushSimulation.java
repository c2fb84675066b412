package dev.doorbuster.simulations;

import java.time.Duration;

import dev.doorbuster.chaos.DbLatency;
import dev.doorbuster.chaos.FaultSchedule;
import dev.doorbuster.chaos.LinkTarget;
import dev.doorbuster.load.DoorbusterSimulation;
import dev.doorbuster.load.Doorbusters;
import dev.doorbuster.load.LoadProfile;
import dev.doorbuster.load.Parameters;
import dev.doorbuster.verdict.JudgingMode;

/**
 * The doors open: a crowd rushes the doorbuster deals.
 *
 * <p><b>Load</b>: 2 shoppers/s, then 30/s within a fifth of the run, held for half of it, then back to 2/s;
 * 80% of them check out, 10% fill a cart, 10% browse.
 * <p><b>Deals</b>: 2 doorbuster products with 40 units each draw 80% of the carts and checkouts
 * ({@code -Ddoorbusters.count=2}, {@code -Ddoorbusters.stock=40}, {@code -Ddoorbusters.share=0.8}). They sell
 * out during the rush; later checkouts are answered {@code out_of_stock}, an expected answer.
 * <p><b>Fault</b>: during the rush the primary answers 5 ms slower ({@code -Drush.dbLatencyMs=5}), as a busy
 * database does, so each checkout holds its stock a realistic while.
 * <p><b>Passes when</b> for every product, stock before = stock now + units in the orders present (no unit
 * oversold, none below zero), no acknowledged write is lost, plus the session and common checks. A checkout
 * that reads stock without locking it ({@code -Dapp.stockLocking=none}, the storefront's deliberately broken
 * mode) sells some units twice here and fails the stock invariant.
 */
public class DoorbusterRushSimulation extends DoorbusterSimulation {
    static final double SCALE = Parameters.positive("load.scale", 1);
    static final Duration LENGTH = loadLength(1);
    static final long DB_LATENCY_MS = Parameters.wholeNumber("rush.dbLatencyMs", 5);

    final LoadProfile load = new LoadProfile()
            .hold("doors closed", 2 * SCALE, share(LENGTH, 0.1))
            .rampTo("doors open", 30 * SCALE, share(LENGTH, 0.2))
            .hold("rush", share(LENGTH, 0.5))
            .rampTo("after the rush", 2 * SCALE, share(LENGTH, 0.2));

    final FaultSchedule faults = DB_LATENCY_MS == 0 ? new FaultSchedule() : new FaultSchedule()
            .at(load.start("doors open"), new DbLatency(LinkTarget.PRIMARY, DB_LATENCY_MS, 0),
                    load.duration("doors open").plus(load.duration("rush")));

    {
        plan("Shoppers rushing the doorbusters", load, faults, JudgingMode.STANDARD, new TrafficMix(10, 10, 80),
                Doorbusters.fromParameters(2, 40, 0.8));
    }
}
