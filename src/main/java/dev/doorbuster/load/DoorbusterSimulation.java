package dev.doorbuster.load;

import static io.gatling.javaapi.core.CoreDsl.atOnceUsers;
import static io.gatling.javaapi.core.CoreDsl.pause;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.core.CoreDsl.stopLoadGeneratorIf;

import java.io.IOException;
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
     * True for a simulation made to search capacity: it runs the search ({@code -Dcapacity=search}) unless
     * {@code -Dcapacity=off}. Any other simulation searches when asked to. Called while the simulation is being built.
     */
    protected boolean searchesCapacity() {
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
            dev.doorbuster.verdict.Capacity capacity = null;
            CapacitySearch.Mode capacityMode = CapacitySearch.mode(searchesCapacity());
            if (capacityMode != CapacitySearch.Mode.OFF) {
                requireSearchable(mode);
            }
            if (capacityMode == CapacitySearch.Mode.SEARCH) {
                capacity = searchCapacity(load);
                // This run is one more plateau, at the capacity found: its reports are the search's.
                load = CapacitySearch.plateau(load, confirmationRate(capacity));
            } else if (capacityMode == CapacitySearch.Mode.PLATEAU) {
                load = CapacitySearch.plateau(load, Parameters.positive(CapacitySearch.RATE, load.peakRate()));
            }
            run = Run.start(getClass().getSimpleName(), load, faults, mode, needsCacheTier(), capacity);
        } catch (IOException e) {
            System.err.println("[doorbuster] " + getClass().getSimpleName() + ": the capacity search stopped: "
                    + e.getMessage());
            System.err.flush();
            throw new IllegalStateException(e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted during the capacity search", e);
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

    /** A capacity search needs plateaus it can judge, from one load generator. */
    private static void requireSearchable(JudgingMode mode) {
        if (mode == JudgingMode.OVERLOAD) {
            throw Parameters.refused("-D" + CapacitySearch.MODE + " needs a simulation judged by its budgets: this one "
                    + "is judged as a deliberate overload (JudgingMode.OVERLOAD), which is meant to fail them");
        }
        if (Sharding.fromParameters().role() != Sharding.Role.SOLO) {
            throw Parameters.refused("-D" + CapacitySearch.MODE + " runs one plateau after another from one load "
                    + "generator: run it without shards (a plateau limited by the generator says so)");
        }
    }

    /**
     * Runs the capacity search: the plateaus go into {@code <reports>/<simulation>-capacity-<time>/}, each a run of
     * this simulation in its own JVM.
     */
    private dev.doorbuster.verdict.Capacity searchCapacity(LoadProfile load) throws IOException, InterruptedException {
        CapacitySearch.plateau(load, 1); // a bad -Dcapacity.warmupSeconds is refused before any plateau runs
        CapacitySearch.Settings settings = CapacitySearch.Settings.fromParameters(load.peakRate());
        java.nio.file.Path folder = dev.doorbuster.verdict.RunHistory.reportsDir().resolve(getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT) + "-capacity-"
                        + java.time.LocalDateTime.now().format(java.time.format.DateTimeFormatter.ofPattern(
                                "yyyyMMddHHmmss")));
        System.out.println("[capacity] searching from " + settings.startRate() + " shoppers/s, x" + settings.growth()
                + " per plateau, to " + settings.resolutionPercent() + "%, at most " + settings.maxPlateaus()
                + " plateaus of " + load.total().toSeconds() + " s; plateaus in " + folder);
        dev.doorbuster.verdict.Capacity capacity = CapacitySearch.search(settings,
                new PlateauRuns(getClass().getName(), folder, load.total()));
        System.out.println("[capacity] " + capacity.summary());
        return capacity;
    }

    /** The confirming run's rate: the capacity, or with none, the lowest rate tried (its failure is the answer). */
    private static double confirmationRate(dev.doorbuster.verdict.Capacity capacity) {
        return capacity.capacityRate() > 0 ? capacity.capacityRate() : capacity.plateaus().stream()
                .mapToDouble(dev.doorbuster.verdict.Capacity.Plateau::rate).min().orElse(1);
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
