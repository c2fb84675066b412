package dev.doorbuster.chaos;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a {@link FaultSchedule} on the run's clock and writes every start, end and failure to the
 * {@link FaultTimeline}. {@link #healAll()} (called at the end of every run, also a failed one, and by
 * {@link #close()}) cancels what has not started and heals everything that did.
 */
public final class ChaosRunner implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ChaosRunner.class);
    private static final long INJECT_WAIT_MILLIS = 90_000;
    /** The start of the timeline's note that a fault's injection completed. */
    public static final String IN_PLACE = "in place ";
    /** How the timeline's error of a fault that could not be injected begins: the verdict fails the run on it. */
    public static final String INJECT_FAILED = "inject failed: ";

    private final ChaosContext context;
    private final List<Scheduled> scheduled = new ArrayList<>();
    private final ScheduledThreadPoolExecutor executor;

    public ChaosRunner(ChaosContext context, FaultSchedule schedule) {
        this.context = context;
        AtomicInteger threads = new AtomicInteger();
        this.executor = new ScheduledThreadPoolExecutor(2, r -> {
            Thread t = new Thread(r, "chaos-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        int n = 0;
        for (FaultSchedule.Entry entry : schedule.entries()) {
            scheduled.add(new Scheduled(entry, "F" + (++n) + " " + entry.fault().name()));
        }
    }

    /**
     * Refuses, before anything starts, an environment granting faults that do not exist and every fault the
     * environment cannot (by what the fault {@linkplain Fault#needs() needs}) or may not perform.
     */
    public void checkAllowed() {
        FaultKind.checkAllowFaults(context.topology().environment());
        for (Scheduled s : scheduled) {
            try {
                context.check(s.entry.fault());
            } catch (FaultRefusedException e) {
                // An environment often cannot grant a fault (no proxy on the replication stream, managed PostgreSQL):
                // the way on without it is as much a part of the answer as what would allow it.
                throw new FaultRefusedException(e.getMessage() + " " + WITHOUT_IT);
            }
        }
    }

    /** How to run on an environment that does not grant a scheduled fault. */
    static final String WITHOUT_IT = "Or run without it: SoakSimulation and BlackFridaySimulation take -Dfaults=false "
            + "(the load and every check, no faults); in a simulation of your own, leave it out of its FaultSchedule.";

    /** Arms every fault relative to now (the start of the load). */
    public void start() {
        for (Scheduled s : scheduled) {
            s.injectTask = executor.schedule(s::inject, s.entry.at().toMillis(), TimeUnit.MILLISECONDS);
            if (s.entry.duration() != null) {
                s.healTask = executor.schedule(s::heal, s.entry.at().plus(s.entry.duration()).toMillis(),
                        TimeUnit.MILLISECONDS);
            }
        }
    }

    /** Cancels faults not yet started and heals the started ones, newest first. Idempotent. */
    public void healAll() {
        for (Scheduled s : scheduled) {
            if (s.injectTask != null) {
                s.injectTask.cancel(false);
            }
            if (s.healTask != null) {
                s.healTask.cancel(false);
            }
        }
        List<Scheduled> reversed = new ArrayList<>(scheduled);
        java.util.Collections.reverse(reversed);
        reversed.forEach(Scheduled::heal);
    }

    @Override
    public void close() {
        healAll();
        executor.shutdownNow();
    }

    /** One fault instance and its state; inject and heal never overlap. */
    private final class Scheduled {
        private final FaultSchedule.Entry entry;
        private final String label;
        private final ChaosContext faultContext;
        private ScheduledFuture<?> injectTask;
        private ScheduledFuture<?> healTask;
        private boolean injected;
        private boolean healed;

        Scheduled(FaultSchedule.Entry entry, String label) {
            this.entry = entry;
            this.label = label;
            this.faultContext = context.forFault(label);
        }

        synchronized void inject() {
            if (injected || healed) {
                return;
            }
            injected = true;
            context.timeline().add(label, FaultTimeline.Kind.INJECT, entry.fault().describe());
            log.info("Fault {} starts: {}", label, entry.fault().describe());
            long start = System.nanoTime();
            try {
                entry.fault().inject(faultContext);
                // When the fault took hold, not only when it was asked for: under load a proxy call can take a while,
                // and whatever a fault makes certain (lost writes after a cut) is only certain from here.
                context.timeline().add(label, FaultTimeline.Kind.EFFECT, IN_PLACE + (System.nanoTime() - start) / 1_000_000
                        + " ms after it started");
            } catch (Exception e) {
                log.error("Fault {} failed to inject: {}", label, e.toString());
                context.timeline().add(label, FaultTimeline.Kind.ERROR, INJECT_FAILED + e.getMessage());
            }
        }

        void heal() {
            // Waits (bounded) for an inject in progress: healing half-way through it would undo nothing.
            try {
                if (injectTask != null && !injectTask.isDone()) {
                    injectTask.get(INJECT_WAIT_MILLIS, TimeUnit.MILLISECONDS);
                }
            } catch (Exception e) {
                log.debug("Waiting for {} to finish injecting: {}", label, e.toString());
            }
            synchronized (this) {
                if (!injected || healed) {
                    healed = true;
                    return;
                }
                healed = true;
                try {
                    entry.fault().heal(faultContext);
                    context.timeline().add(label, FaultTimeline.Kind.HEAL, "healed");
                    log.info("Fault {} healed", label);
                } catch (Exception e) {
                    log.error("Fault {} failed to heal: {}", label, e.toString());
                    context.timeline().add(label, FaultTimeline.Kind.ERROR, "heal failed: " + e.getMessage());
                    context.timeline().add(label, FaultTimeline.Kind.HEAL, "ended (heal failed)");
                }
            }
        }
    }
}
