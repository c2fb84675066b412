package dev.doorbuster.verdict.recording;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.PrimitiveIterator;
import java.util.function.Supplier;

import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;

import com.sun.management.GarbageCollectionNotificationInfo;
import com.sun.management.OperatingSystemMXBean;
import dev.doorbuster.verdict.GeneratorHealth;
import org.HdrHistogram.Histogram;

/**
 * Watches the load generator itself, in the JVM that injects the load: did every virtual user start when the load
 * profile scheduled it, and what were this JVM's CPU share, the machine's CPU and this JVM's GC pauses, second by
 * second. When a generator falls behind, the latencies it records include its own delay: {@link GeneratorHealth} says
 * which seconds a latency verdict cannot be trusted for.
 *
 * <p><b>Scheduled versus actual start.</b> The schedule is Gatling's own (each injection step's arrival offsets, see
 * {@code LoadProfile#arrivals}); the k-th user to start is matched with the k-th scheduled arrival, so a generator
 * that falls behind shows a growing delay and, where it never catches up, arrivals that never started. Gatling starts
 * injecting a moment after second 0 (after the simulation's {@code before()}); that offset is taken from the first
 * user to start, the least delayed one as far as anyone can tell, and later users are measured against it.
 *
 * <p>Memory is per second of the run (a few counters), never per user.
 */
public final class GeneratorMonitor implements AutoCloseable {
    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private final long startNanos;
    private final long lateAfterMicros;
    private final Supplier<PrimitiveIterator.OfLong> scheduleSource;
    private final PrimitiveIterator.OfLong schedule;
    private final OperatingSystemMXBean os;
    private final List<Registration> listeners = new ArrayList<>();
    private final Histogram delays = new Histogram(60_000_000L, 2);
    private final Thread sampler;

    // Guarded by this.
    private int[] started = new int[64];
    private int[] late = new int[64];
    private int[] maxDelayMs = new int[64];
    private int[] processCpu = new int[64];
    private int[] machineCpu = new int[64];
    private int[] gcPauseMs = new int[64];
    private int lastSecond = -1;
    private long startedTotal;
    private long anchorMicros = Long.MIN_VALUE;
    private volatile boolean closed;

    /**
     * @param startNanos      second 0 of the run on {@link System#nanoTime()}
     * @param schedule        the planned arrivals' offsets from the start of injection (µs, ascending); called twice
     *                        (matched with the users as they start; counted per second at the end)
     * @param lateAfterMicros a user starting later than this after its scheduled time counts as late
     */
    public GeneratorMonitor(long startNanos, Supplier<PrimitiveIterator.OfLong> schedule, long lateAfterMicros) {
        this.startNanos = startNanos;
        this.lateAfterMicros = lateAfterMicros;
        this.scheduleSource = schedule;
        this.schedule = schedule.get();
        this.os = ManagementFactory.getOperatingSystemMXBean() instanceof OperatingSystemMXBean sun ? sun : null;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            // ZGC and Shenandoah report their concurrent cycles on a bean of their own ("... Cycles"): not pauses.
            if (gc instanceof NotificationEmitter emitter && !gc.getName().endsWith("Cycles")) {
                NotificationListener listener = this::onGc;
                emitter.addNotificationListener(listener, null, null);
                listeners.add(new Registration(emitter, listener));
            }
        }
        sampler = new Thread(this::sampleEverySecond, "doorbuster-generator-monitor");
        sampler.setDaemon(true);
        if (os != null) {
            os.getProcessCpuLoad(); // the first reading starts the interval the next one covers
            os.getCpuLoad();
        }
        sampler.start();
    }

    private record Registration(NotificationEmitter emitter, NotificationListener listener) {
    }

    /** A virtual user started its journey now. */
    public void userStarted() {
        long now = System.nanoTime();
        int second = secondOf(now);
        long sinceStartMicros = (now - startNanos) / 1000;
        synchronized (this) {
            grow(second);
            started[Math.max(0, second)]++;
            startedTotal++;
            if (!schedule.hasNext()) {
                return; // more users than scheduled: not the generator falling behind
            }
            long scheduled = schedule.nextLong();
            long offset = sinceStartMicros - scheduled;
            if (anchorMicros == Long.MIN_VALUE) {
                anchorMicros = offset;
            }
            long delay = Math.max(0, offset - anchorMicros);
            int plannedSecond = (int) ((scheduled + Math.max(0, anchorMicros)) / 1_000_000L);
            grow(plannedSecond);
            delays.recordValue(Math.min(delay, delays.getHighestTrackableValue()));
            maxDelayMs[plannedSecond] = (int) Math.max(maxDelayMs[plannedSecond], Math.min(Integer.MAX_VALUE, delay / 1000));
            if (delay > lateAfterMicros) {
                late[plannedSecond]++;
            }
        }
    }

    private void onGc(Notification notification, Object handback) {
        if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(notification.getType())) {
            return;
        }
        GarbageCollectionNotificationInfo info = GarbageCollectionNotificationInfo
                .from((CompositeData) notification.getUserData());
        long pauseMs = info.getGcInfo().getDuration();
        int second = secondOf(System.nanoTime() - pauseMs * 1_000_000L);
        if (second < 0) {
            return;
        }
        synchronized (this) {
            grow(second);
            gcPauseMs[second] = (int) Math.max(gcPauseMs[second], pauseMs);
        }
    }

    private void sampleEverySecond() {
        long next = startNanos + NANOS_PER_SECOND;
        while (!closed) {
            long wait = next - System.nanoTime();
            if (wait > 0) {
                try {
                    Thread.sleep(wait / 1_000_000L, (int) (wait % 1_000_000L));
                } catch (InterruptedException e) {
                    return;
                }
                continue;
            }
            int second = secondOf(next) - 1; // the second that just ended
            next += NANOS_PER_SECOND;
            if (second < 0 || os == null) {
                continue;
            }
            double process = os.getProcessCpuLoad();
            double machine = os.getCpuLoad();
            synchronized (this) {
                grow(second);
                processCpu[second] = process < 0 ? -1 : (int) Math.round(process * 100);
                machineCpu[second] = machine < 0 ? -1 : (int) Math.round(machine * 100);
            }
        }
    }

    private int secondOf(long nanoTime) {
        return (int) Math.floorDiv(nanoTime - startNanos, NANOS_PER_SECOND);
    }

    private void grow(int second) {
        if (second < 0) {
            return;
        }
        lastSecond = Math.max(lastSecond, second);
        if (second < started.length) {
            return;
        }
        int size = Math.max(second + 1, started.length * 2);
        started = Arrays.copyOf(started, size);
        late = Arrays.copyOf(late, size);
        maxDelayMs = Arrays.copyOf(maxDelayMs, size);
        processCpu = Arrays.copyOf(processCpu, size);
        machineCpu = Arrays.copyOf(machineCpu, size);
        gcPauseMs = Arrays.copyOf(gcPauseMs, size);
    }

    /**
     * What the generator did up to run second {@code stoppedAt} (exclusive): arrivals scheduled after it, when the
     * load stopped early or ran its course, are not counted as missing.
     */
    public synchronized GeneratorHealth report(int stoppedAt) {
        long anchor = Math.max(0, anchorMicros == Long.MIN_VALUE ? 0 : anchorMicros);
        int[] planned = new int[Math.max(0, stoppedAt)];
        long lastPlannedSecond = -1;
        long plannedTotal = 0;
        for (PrimitiveIterator.OfLong it = scheduleSource.get(); it.hasNext(); plannedTotal++) {
            long second = (it.nextLong() + anchor) / 1_000_000L;
            lastPlannedSecond = second;
            if (second < planned.length) {
                planned[(int) second]++;
            }
        }
        int seconds = (int) Math.max(0, Math.min(stoppedAt, Math.max(lastSecond, lastPlannedSecond) + 1));
        // Arrivals that never started: the scheduled ones beyond those that did, each late by definition, in the
        // seconds they were scheduled for (and only those more than the lateness budget before the stop: the rest
        // were not due yet when the load stopped).
        int[] neverStarted = new int[seconds];
        long missing = 0;
        long dueBefore = (long) stoppedAt * 1_000_000L - anchor - lateAfterMicros;
        while (schedule.hasNext()) {
            long scheduled = schedule.nextLong();
            if (scheduled >= dueBefore) {
                break;
            }
            int second = (int) ((scheduled + anchor) / 1_000_000L);
            if (second < seconds) {
                neverStarted[second]++;
                missing++;
            }
        }
        List<GeneratorHealth.Second> out = new ArrayList<>(seconds);
        for (int s = 0; s < seconds; s++) {
            out.add(new GeneratorHealth.Second(s, planned[s], at(started, s), at(late, s) + neverStarted[s],
                    at(maxDelayMs, s), at(processCpu, s), at(machineCpu, s), at(gcPauseMs, s)));
        }
        return new GeneratorHealth(lateAfterMicros / 1000.0, plannedTotal, startedTotal, missing,
                delays.getTotalCount() == 0 ? 0 : delays.getValueAtPercentile(99) / 1000.0,
                delays.getMaxValue() / 1000.0, out);
    }

    private static int at(int[] values, int s) {
        return s < values.length ? values[s] : 0;
    }

    @Override
    public void close() {
        closed = true;
        sampler.interrupt();
        for (Registration r : listeners) {
            try {
                r.emitter().removeNotificationListener(r.listener());
            } catch (javax.management.ListenerNotFoundException e) {
                // already gone
            }
        }
        listeners.clear();
    }
}
