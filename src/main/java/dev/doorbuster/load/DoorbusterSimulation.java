package dev.doorbuster.load;

import static io.gatling.javaapi.core.CoreDsl.atOnceUsers;
import static io.gatling.javaapi.core.CoreDsl.pause;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.core.CoreDsl.stopLoadGeneratorIf;

import java.time.Duration;

import dev.doorbuster.chaos.FaultSchedule;
import dev.doorbuster.verdict.JudgingMode;
import io.gatling.javaapi.core.PopulationBuilder;
import io.gatling.javaapi.core.Simulation;

/**
 * A Doorbuster test plan: shoppers arriving on a load profile, faults on a schedule, judged at the end.
 * A simulation states its plan once, in its initializer, with {@link #plan}; the run's life cycle
 * (topology, probes, faults, verdict, clean-up) is handled here.
 */
public abstract class DoorbusterSimulation extends Simulation {
    /**
     * The share of arriving shoppers who browse, fill a cart, check out, or watch a doorbuster's page (percentages).
     *
     * @param watch   shoppers who keep reloading one doorbuster's product page before the sale opens (the hot keys)
     * @param revisit shoppers who change their profile and keep coming back to it (what a cache may keep stale)
     */
    public record TrafficMix(double browse, double cart, double checkout, double watch, double revisit) {
        public TrafficMix(double browse, double cart, double checkout) {
            this(browse, cart, checkout, 0, 0);
        }
    }

    private Run run;

    /**
     * True for a simulation that needs the cache tier ({@code app.cache}) even without a fault on it: the run turns it
     * on unless {@code -Dapp.cache=false}. Called while the simulation is being built: answer without fields.
     */
    protected boolean needsCacheTier() {
        return false;
    }

    /**
     * Starts the run (environment, topology) and sets Gatling up: the shoppers' scenario on {@code load},
     * then the verdict scenario, with the assertion that fails the build when a check fails.
     */
    protected final Run plan(String shoppers, LoadProfile load, FaultSchedule faults, JudgingMode mode, TrafficMix mix) {
        return plan(shoppers, load, faults, mode, mix, Doorbusters.fromParameters());
    }

    /** As {@link #plan(String, LoadProfile, FaultSchedule, JudgingMode, TrafficMix)}, with the plan's own deals. */
    protected final Run plan(String shoppers, LoadProfile load, FaultSchedule faults, JudgingMode mode, TrafficMix mix,
                             Doorbusters doorbusters) {
        try {
            load.requireInjectable();
            run = Run.start(getClass().getSimpleName(), load, faults, mode, needsCacheTier());
        } catch (RuntimeException e) {
            // Gatling reports this as a crash under a reflection stack trace: say it plainly first.
            System.err.println("[doorbuster] " + getClass().getSimpleName() + " cannot start: " + e.getMessage());
            System.err.flush();
            throw e;
        }
        StorefrontJourneys journeys = new StorefrontJourneys(run, doorbusters);
        Run current = run;
        Sharding sharding = run.sharding();
        PopulationBuilder population;
        Duration resultsWait = Duration.ZERO;
        if (sharding.isCoordinator()) {
            // The injectors bring the shoppers; the coordinator holds the faults and probes for the load's length,
            // then waits for their recordings and judges.
            population = scenario("Coordinator of " + sharding.count() + " injector shard(s)")
                    .exec(pause(load.total()))
                    .injectOpen(atOnceUsers(1));
            resultsWait = sharding.resultsTimeout();
        } else {
            // An injector brings 1/count of every arrival rate: together the shards inject the whole profile.
            LoadProfile part = sharding.isInjector() ? load.scaled(1.0 / sharding.count()) : load;
            population = current.scenario(shoppers)
                    // The abort rule: once it trips, the next arriving shopper stops the load generator (see Run#close).
                    .exec(stopLoadGeneratorIf(session -> String.valueOf(current.abortReason()), session -> current.aborted()))
                    .exec(journeys.trafficMix(mix))
                    .injectOpen(part.injection());
        }
        setUp(population.andThen(Verdicts.closingScenario(run)))
                .protocols(journeys.protocol())
                .assertions(Verdicts.assertion())
                .maxDuration(load.total().plus(resultsWait).plus(Duration.ofMinutes(10)));
        return run;
    }

    protected final Run run() {
        return run;
    }

    /** A share of the run's length, for phases and fault times. */
    protected static Duration share(Duration length, double fraction) {
        return Duration.ofMillis((long) (length.toMillis() * fraction));
    }

    /** The length given by {@code -Dload.minutes} (a number of minutes), or {@code defaultMinutes}. */
    protected static Duration loadLength(double defaultMinutes) {
        return Duration.ofMillis((long) (Parameters.positive("load.minutes", defaultMinutes) * 60_000));
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
