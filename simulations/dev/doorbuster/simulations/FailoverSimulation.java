package dev.doorbuster.simulations;

import static io.gatling.javaapi.core.CoreDsl.scenario;

import java.time.Duration;

import dev.doorbuster.chaos.FaultSchedule;
import dev.doorbuster.chaos.PrimaryFailover;
import dev.doorbuster.load.LoadProfile;
import dev.doorbuster.load.Parameters;
import dev.doorbuster.load.Run;
import dev.doorbuster.load.StorefrontJourneys;
import dev.doorbuster.load.Verdicts;
import dev.doorbuster.verdict.JudgingMode;
import io.gatling.javaapi.core.Simulation;

/**
 * The primary dies under steady checkout traffic.
 *
 * <p><b>Load</b>: 8 shoppers/s, checkout-heavy (40% check out, 30% fill a cart, 30% browse), so many
 * orders are in flight when the primary dies.
 * <p><b>Fault</b>: at a third of the run the primary's link is cut and the server killed (SIGKILL); the
 * replica is promoted; optionally ({@code -Dfailover.rejoin=true}) the old primary rejoins as a replica.
 * <p><b>Passes when</b> the client-observed RTO (fault start → first acknowledged write) is within
 * {@code slo.failoverRtoMs}, no acknowledged order is missing on the new primary (unanswered orders are
 * "in doubt" and reported apart), and the common checks hold. With asynchronous replication
 * ({@code -Dpostgres.synchronousCommit=off}) acknowledged orders can be lost: that is what this finds.
 * <p><b>Parameters</b>: {@code -Dload.scale=1}, {@code -Dload.minutes=1}, {@code -Dfailover.rejoin=true}.
 */
public class FailoverSimulation extends Simulation {
    static final double SCALE = Parameters.positive("load.scale", 1);
    static final Duration LENGTH = Duration.ofMillis((long) (Parameters.positive("load.minutes", 1) * 60_000));
    static final boolean REJOIN = Parameters.flag("failover.rejoin", true);

    final LoadProfile load = new LoadProfile().hold("steady", 8 * SCALE, LENGTH);
    final FaultSchedule faults = new FaultSchedule()
            .at(LENGTH.dividedBy(3), new PrimaryFailover(REJOIN), LENGTH.dividedBy(3));

    final Run run = Run.start("FailoverSimulation", load, faults, JudgingMode.STANDARD);
    final StorefrontJourneys shoppers = new StorefrontJourneys(run);

    {
        setUp(scenario("Shoppers during a failover")
                .exec(shoppers.trafficMix(30, 30, 40))
                .injectOpen(load.injection())
                .andThen(Verdicts.closingScenario(run)))
                .protocols(shoppers.protocol())
                .assertions(Verdicts.assertion())
                .maxDuration(load.total().plus(Duration.ofMinutes(5)));
    }

    @Override
    public void before() {
        run.beginLoad();
    }

    @Override
    public void after() {
        run.close();
    }
}
