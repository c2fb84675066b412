package dev.doorbuster.load;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import dev.doorbuster.chaos.FaultTimeline;
import dev.doorbuster.verdict.recording.LatencyRecorder;
import dev.doorbuster.verdict.probes.ProbeSample;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches a run while its load runs, on one daemon thread ticking every second: evaluates the abort rule
 * on the last complete second and prints the {@link Progress} line every ten seconds. Started by
 * {@link Run#beginLoad()}, stopped when the run is judged or closed.
 */
final class RunWatch implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RunWatch.class);

    private final LatencyRecorder recorder;
    private final FaultTimeline timeline;
    private final Supplier<ProbeSample> latest;
    private final Duration total;
    private final int writerSize;
    private final int readerSize;
    private final AbortGuard guard;
    private final ScheduledExecutorService scheduler;
    private int nextProgress = Progress.EVERY_SECONDS;
    private volatile boolean aborted;

    private RunWatch(LatencyRecorder recorder, FaultTimeline timeline, Supplier<ProbeSample> latest, Duration total,
                     int writerSize, int readerSize, AbortGuard guard) {
        this.recorder = recorder;
        this.timeline = timeline;
        this.latest = latest;
        this.total = total;
        this.writerSize = writerSize;
        this.readerSize = readerSize;
        this.guard = guard;
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "doorbuster-watch");
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts watching; {@code guard} null: no abort rule (e.g. a deliberate overload). */
    static RunWatch start(LatencyRecorder recorder, FaultTimeline timeline, Supplier<ProbeSample> latest, Duration total,
                          int writerSize, int readerSize, AbortGuard guard) {
        RunWatch watch = new RunWatch(recorder, timeline, latest, total, writerSize, readerSize,
                guard == null ? new AbortGuard(100, 0) : guard);
        watch.scheduler.scheduleAtFixedRate(watch::tickQuietly, 1, 1, TimeUnit.SECONDS);
        return watch;
    }

    boolean aborted() {
        return aborted;
    }

    /** The second the abort rule tripped in (−1 while it has not). */
    int abortedAt() {
        return guard.trippedAt();
    }

    /** Why the load was stopped (null while it was not). */
    String abortReason() {
        return aborted ? guard.reason() : null;
    }

    private void tickQuietly() {
        try {
            tick(recorder.secondOf(System.nanoTime()));
        } catch (RuntimeException e) {
            log.debug("Watch tick failed: {}", e.toString());
        }
    }

    synchronized void tick(int now) {
        if (guard.advance(recorder, now)) {
            aborted = true;
            System.out.println("[doorbuster] " + guard.logLine());
        }
        if (now >= nextProgress) {
            nextProgress = (now / Progress.EVERY_SECONDS + 1) * Progress.EVERY_SECONDS;
            System.out.println(Progress.line(now, total, recorder, timeline.windows(), latest.get(), writerSize, readerSize));
        }
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
    }
}
