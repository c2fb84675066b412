package dev.doorbuster.load;

import static io.gatling.javaapi.core.CoreDsl.constantUsersPerSec;
import static io.gatling.javaapi.core.CoreDsl.rampUsersPerSec;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.PrimitiveIterator;

import dev.doorbuster.verdict.Phase;
import io.gatling.javaapi.core.OpenInjectionStep;
import scala.concurrent.duration.FiniteDuration;

/**
 * An open-model arrival profile made of named phases ("baseline", "spike", ...), each holding or ramping
 * the arrival rate of new users per second. The same description feeds Gatling's injection, the verdict's
 * per-phase checks, the report's phase markers and the fault schedule ("lag during the spike").
 */
public final class LoadProfile {
    /** One phase: the rate goes from {@code fromRate} to {@code toRate} users/s over {@code duration}. */
    public record Step(String phase, double fromRate, double toRate, Duration duration) {
    }

    private final List<Step> steps = new ArrayList<>();

    /** Starts at {@code rate} users/s for {@code duration}. */
    public LoadProfile hold(String phase, double rate, Duration duration) {
        return add(new Step(phase, rate, rate, duration));
    }

    /** Moves linearly from the previous phase's end rate to {@code rate} users/s over {@code duration}. */
    public LoadProfile rampTo(String phase, double rate, Duration duration) {
        return add(new Step(phase, endRate(), rate, duration));
    }

    /** Moves linearly from {@code fromRate} to {@code toRate} users/s over {@code duration}, whatever came before. */
    public LoadProfile ramp(String phase, double fromRate, double toRate, Duration duration) {
        return add(new Step(phase, fromRate, toRate, duration));
    }

    /** Keeps the previous phase's end rate for {@code duration}. */
    public LoadProfile hold(String phase, Duration duration) {
        return hold(phase, endRate(), duration);
    }

    private LoadProfile add(Step step) {
        if (step.fromRate() < 0 || step.toRate() < 0 || step.duration().isNegative() || step.duration().isZero()) {
            throw new IllegalArgumentException("phase '" + step.phase() + "' needs rates ≥ 0 and a positive duration, got "
                    + step.fromRate() + " → " + step.toRate() + " users/s over " + step.duration());
        }
        steps.add(step);
        return this;
    }

    private double endRate() {
        if (steps.isEmpty()) {
            throw new IllegalStateException("the first phase needs an explicit rate");
        }
        return steps.get(steps.size() - 1).toRate();
    }

    /**
     * The same phases with every arrival rate multiplied by {@code factor}: one injector shard's part of the profile
     * ({@code 1/count}), so that the shards together inject the whole of it.
     */
    public LoadProfile scaled(double factor) {
        if (!(factor > 0) || Double.isInfinite(factor)) {
            throw new IllegalArgumentException("a load profile is scaled by a positive factor, got " + factor);
        }
        LoadProfile scaled = new LoadProfile();
        steps.forEach(s -> scaled.add(new Step(s.phase(), s.fromRate() * factor, s.toRate() * factor, s.duration())));
        return scaled;
    }

    public List<Step> steps() {
        return List.copyOf(steps);
    }

    /** The shortest ramp Gatling can inject: it ramps a rate over whole seconds. */
    public static final Duration SHORTEST_RAMP = Duration.ofSeconds(1);

    /**
     * Refuses a profile Gatling would accept and then fail to inject. Gatling ramps a rate over whole seconds: a ramp
     * under {@link #SHORTEST_RAMP} divides by zero in its injector, which stops injecting without ending the run, so
     * the run would wait for its maximum duration with no load (measured with Gatling 3.16: a 240 ms ramp of a
     * 1.2 s Black Friday). Call before anything starts.
     */
    public void requireInjectable() {
        for (Step s : steps) {
            if (s.fromRate() != s.toRate() && s.duration().compareTo(SHORTEST_RAMP) < 0) {
                throw new IllegalArgumentException("phase '" + s.phase() + "' ramps from " + s.fromRate() + " to "
                        + s.toRate() + " users/s in " + s.duration().toMillis() + " ms, but Gatling needs at least "
                        + SHORTEST_RAMP.toSeconds() + " s to ramp a rate; give the load more time (-Dload.minutes)");
            }
        }
    }

    /** Gatling's open injection steps for this profile. */
    public OpenInjectionStep[] injection() {
        return steps.stream().map(s -> s.fromRate() == s.toRate()
                ? constantUsersPerSec(s.fromRate()).during(s.duration())
                : rampUsersPerSec(s.fromRate()).to(s.toRate()).during(s.duration())).toArray(OpenInjectionStep[]::new);
    }

    /**
     * The arrivals Gatling schedules for {@link #injection()}, as offsets from the start of injection in µs, ascending:
     * taken from Gatling's own injection steps (each step's arrivals, chained as Gatling chains them), so the schedule
     * a generator is held to is the one it was given. Lazy: a two-hour soak is never held in memory.
     */
    public PrimitiveIterator.OfLong arrivals() {
        OpenInjectionStep[] injection = injection();
        scala.collection.Iterator<FiniteDuration> chained = scala.collection.Iterator.empty();
        for (int i = injection.length - 1; i >= 0; i--) {
            chained = injection[i].asScala().chain(chained);
        }
        scala.collection.Iterator<FiniteDuration> offsets = chained;
        return new PrimitiveIterator.OfLong() {
            @Override
            public boolean hasNext() {
                return offsets.hasNext();
            }

            @Override
            public long nextLong() {
                return offsets.next().toMicros();
            }
        };
    }

    /** The phases as run seconds, for the verdict and the report. */
    public List<Phase> phases() {
        List<Phase> phases = new ArrayList<>();
        long at = 0;
        for (Step s : steps) {
            long end = at + s.duration().toMillis();
            phases.add(new Phase(s.phase(), (int) (at / 1000), (int) Math.ceil(end / 1000.0)));
            at = end;
        }
        return phases;
    }

    /** When {@code phase} starts, from the start of the load. */
    public Duration start(String phase) {
        Duration at = Duration.ZERO;
        for (Step s : steps) {
            if (s.phase().equals(phase)) {
                return at;
            }
            at = at.plus(s.duration());
        }
        throw new IllegalArgumentException("no phase '" + phase + "' in this profile; phases: "
                + steps.stream().map(Step::phase).toList());
    }

    public Duration duration(String phase) {
        return steps.stream().filter(s -> s.phase().equals(phase)).findFirst().map(Step::duration)
                .orElseThrow(() -> new IllegalArgumentException("no phase '" + phase + "' in this profile"));
    }

    public Duration total() {
        return steps.stream().map(Step::duration).reduce(Duration.ZERO, Duration::plus);
    }

    public double peakRate() {
        return steps.stream().mapToDouble(s -> Math.max(s.fromRate(), s.toRate())).max().orElse(0);
    }

    /** Expected number of users the profile injects (area under the rate curve). */
    public long expectedUsers() {
        return Math.round(steps.stream().mapToDouble(s -> (s.fromRate() + s.toRate()) / 2 * s.duration().toMillis() / 1000.0)
                .sum());
    }
}
