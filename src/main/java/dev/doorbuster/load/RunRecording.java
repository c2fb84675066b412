package dev.doorbuster.load;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;

import dev.doorbuster.chaos.FaultTimeline;
import dev.doorbuster.topology.Environment;
import dev.doorbuster.verdict.GeneratorHealth;
import dev.doorbuster.verdict.consistency.ConsistencyLog;
import dev.doorbuster.verdict.recording.GeneratorMonitor;
import dev.doorbuster.verdict.recording.LatencyRecorder;
import dev.doorbuster.verdict.recording.RequestLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What this process records during the load: latency per request and second, the fault timeline, the consistency
 * accounting behind {@link Consistency}, the optional per-request log, and the counts a verdict or an injector's
 * delivery reports. Second 0 is set once by {@link #startClock}; until then it is the moment the run was created.
 */
final class RunRecording implements Consistency.Recorder {
    private static final Logger log = LoggerFactory.getLogger(RunRecording.class);

    private final ConsistencyLog consistencyLog;
    private final Consistency consistency;
    private final AtomicLong client503s = new AtomicLong();
    private final AtomicLong usersStarted = new AtomicLong();
    private volatile LatencyRecorder recorder = new LatencyRecorder(System.nanoTime());
    private volatile FaultTimeline timeline = new FaultTimeline(System.nanoTime());
    private volatile Instant loadStarted;
    private volatile RequestLog requestLog;
    private volatile GeneratorMonitor generator;
    private volatile GeneratorHealth shardGenerators;

    /**
     * @param workDir the run's work folder: the consistency journal goes there, named after this process (a
     *                coordinator and its injectors on one machine may share the folder's name)
     */
    RunRecording(Path workDir) {
        consistencyLog = new ConsistencyLog(() -> this.recorder.startNanos(),
                workDir.resolve("consistency-" + ProcessHandle.current().pid() + ".journal"));
        consistency = new Consistency(consistencyLog, this);
    }

    /** Second 0 of the load: {@code t0} on this process's {@code nanoTime}, {@code started} on the wall clock. */
    void startClock(long t0, Instant started) {
        recorder = new LatencyRecorder(t0);
        timeline = new FaultTimeline(t0);
        loadStarted = started;
    }

    /**
     * A scaled-out run's common start: sleeps until the wall-clock instant {@code epochMillis}, then starts the clock
     * with the {@code nanoTime} it corresponds to.
     */
    void startClockAt(long epochMillis) throws InterruptedException {
        long t0 = System.nanoTime() + (epochMillis - System.currentTimeMillis()) * 1_000_000L;
        long wait;
        while ((wait = t0 - System.nanoTime()) > 0) {
            Thread.sleep(Math.max(1, wait / 1_000_000L));
        }
        startClock(t0, Instant.ofEpochMilli(epochMillis));
    }

    /** True once the load's clock started. */
    boolean started() {
        return loadStarted != null;
    }

    Instant loadStarted() {
        return loadStarted;
    }

    /** Seconds from second 0 until now (wall clock). */
    double secondsSinceStart() {
        return Duration.between(loadStarted, Instant.now()).toMillis() / 1000.0;
    }

    /** The run second now is in. */
    int second() {
        return recorder.secondOf(System.nanoTime());
    }

    LatencyRecorder recorder() {
        return recorder;
    }

    /** A coordinator judges every shard's latency: the merged recorder (same second 0) replaces its own. */
    void useMerged(LatencyRecorder merged) {
        recorder = merged;
    }

    FaultTimeline timeline() {
        return timeline;
    }

    ConsistencyLog consistencyLog() {
        return consistencyLog;
    }

    Consistency consistency() {
        return consistency;
    }

    LatencyRecorder.Counts counts() {
        LatencyRecorder r = recorder;
        return r.counts(null, 0, r.lastSecond() + 1);
    }

    long client503s() {
        return client503s.get();
    }

    /** Counts a virtual user that started its journey (a shard's arrival rate is checked from these). */
    void userStarted() {
        usersStarted.incrementAndGet();
        GeneratorMonitor monitor = generator;
        if (monitor != null) {
            monitor.userStarted();
        }
    }

    /**
     * Watches this process's load generator from second 0 on: {@code injected} is the profile this process injects
     * (an injector's share of it), judged by {@code slo}'s generator budgets. Call after the clock started.
     */
    void watchGenerator(LoadProfile injected, Environment.Slo slo) {
        generator = new GeneratorMonitor(recorder.startNanos(), injected::arrivals, GeneratorHealth.lateAfterMicros(slo));
    }

    /**
     * A coordinator's view of the load generators: its injector shards' health, merged. It watches no generator of
     * its own (it brings no load).
     */
    void useShardGenerators(GeneratorHealth merged) {
        shardGenerators = merged;
    }

    /**
     * What the load generator did until second {@code stoppedAt}, and stops watching it; for a coordinator its shards'
     * (see {@link #useShardGenerators}); null when no generator was watched.
     */
    GeneratorHealth generatorHealth(int stoppedAt) {
        GeneratorMonitor monitor = generator;
        if (monitor == null) {
            return shardGenerators;
        }
        monitor.close();
        return monitor.report(stoppedAt);
    }

    long usersStarted() {
        return usersStarted.get();
    }

    @Override
    public void record(String request, long micros, boolean ok) {
        LatencyRecorder r = recorder;
        int second = r.secondOf(System.nanoTime());
        r.record(request, second, micros, ok);
        RequestLog requests = requestLog;
        if (requests != null) {
            requests.add(Math.max(0, second), request, micros, ok);
        }
    }

    @Override
    public void client503() {
        client503s.incrementAndGet();
    }

    /** {@code -Drecording.requests=true}: every request's latency in {@code dir/requests.csv}, besides the histograms. */
    void startRequestLog(Path dir) {
        if (!Parameters.flag(RequestLog.PROPERTY, false)) {
            return;
        }
        try {
            requestLog = RequestLog.open(dir.resolve(RequestLog.FILE));
        } catch (IOException e) {
            log.warn("Cannot write {}: {}", dir.resolve(RequestLog.FILE), e.toString());
        }
    }

    /** Closes the per-request log, if kept, where it was opened. */
    void closeRequestLog() throws IOException {
        if (requestLog != null) {
            requestLog.close();
        }
    }

    /** Closes the per-request log, if kept, and moves it into {@code dir}. */
    void moveRequestLogInto(Path dir) throws IOException {
        if (requestLog != null) {
            requestLog.close();
            Files.move(requestLog.file(), dir.resolve(RequestLog.FILE), StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
