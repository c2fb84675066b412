package dev.doorbuster.process;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Knows every long-running process this JVM started (PostgreSQL servers, application JVMs), so none
 * outlives it.
 *
 * <ul>
 *   <li>A JVM shutdown hook stops the ones still running (normal exit, Ctrl-C, a failed test).</li>
 *   <li>Each is also recorded as a file under {@link DoorbusterHome#processRecords()}. A JVM killed with
 *       SIGKILL runs no hook: its {@link Watchdog} (a small process started with the first of them) notices
 *       within milliseconds and stops that JVM's recorded processes; and the next JVM to start anything
 *       reads the records and stops every process whose owning JVM is gone (the backstop, e.g. when the
 *       watchdog was disabled or itself killed). Both stop by PID, after checking that the PID still runs
 *       the recorded command (PIDs get reused): never by name.</li>
 * </ul>
 */
public final class ProcessRegistry {
    private static final Logger log = LoggerFactory.getLogger(ProcessRegistry.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<Tracked, Long> RUNNING = new ConcurrentHashMap<>();
    private static final Object HOOK_LOCK = new Object();
    private static boolean hookInstalled;

    /** A process owned by this JVM. */
    public interface Tracked {
        /** Short name for messages, e.g. {@code postgres pg1}. */
        String label();

        /** Stops it quickly; called from the shutdown hook, so it must not wait long. */
        void stopAtExit();
    }

    /**
     * What is written to disk per process.
     *
     * @param match      arguments that must all appear in the PID's command line for it to be ours
     * @param stopSignal first signal for a leftover (e.g. QUIT for PostgreSQL's immediate shutdown)
     * @param cleanupDir folder to delete once every process of that dead run is gone (or null)
     */
    record ProcessRecord(long ownerPid, String ownerStart, long pid, String label, List<String> match,
                         String stopSignal, String cleanupDir) {
    }

    private ProcessRegistry() {
    }

    public static void started(Tracked process, long pid, List<String> match, String stopSignal, Path cleanupDir) {
        installHook();
        Watchdog.watch(DoorbusterHome.get());
        RUNNING.put(process, pid);
        ProcessRecord record = new ProcessRecord(ProcessHandle.current().pid(), ownStart(), pid, process.label(),
                List.copyOf(match), stopSignal, cleanupDir == null ? null : cleanupDir.toString());
        try {
            Files.createDirectories(DoorbusterHome.processRecords());
            JSON.writeValue(recordFile(pid).toFile(), record);
        } catch (IOException e) {
            log.warn("Cannot record {} (PID {}) for leftover clean-up: {}", process.label(), pid, e.toString());
        }
    }

    public static void stopped(Tracked process, long pid) {
        RUNNING.remove(process);
        try {
            Files.deleteIfExists(recordFile(pid));
        } catch (IOException e) {
            log.debug("Cannot delete record of PID {}: {}", pid, e.toString());
        }
    }

    /**
     * Stops the processes of runs whose JVM has died. Called before anything starts; it costs a listing
     * of a small folder, so it runs every time (a long-lived JVM still notices another run's crash).
     *
     * @return how many leftover processes were stopped
     */
    public static int stopLeftovers() {
        return reap(record -> !ownerAlive(record));
    }

    /**
     * Stops the recorded processes of one JVM, identified by PID and start instant, once it is dead (what
     * the {@link Watchdog} does); the processes of a live JVM, or of any other JVM, are left alone.
     *
     * @return how many of its processes were stopped
     */
    static int stopLeftoversOf(long ownerPid, String ownerStart) {
        return reap(record -> record.ownerPid() == ownerPid && record.ownerStart().equals(ownerStart)
                && !ownerAlive(record));
    }

    /**
     * Stops the recorded processes that {@code orphan} selects, all at once (each stop may wait a few seconds),
     * and forgets their records. Another JVM reaping the same folder (a run starting while a watchdog works)
     * waits for this one: a lock file serialises them.
     */
    private static synchronized int reap(Predicate<ProcessRecord> orphan) {
        Path dir = DoorbusterHome.processRecords();
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (FileChannel lockFile = FileChannel.open(dir.resolve(".reaper.lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE); FileLock lock = lockFile.lock()) {
            return reapLocked(dir, orphan);
        } catch (IOException e) {
            log.debug("Cannot lock {} ({}); reaping without the lock", dir, e.toString());
            return reapLocked(dir, orphan);
        }
    }

    private static int reapLocked(Path dir, Predicate<ProcessRecord> orphan) {
        List<ProcessRecord> orphans = new ArrayList<>();
        List<Path> orphanFiles = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.json")) {
            for (Path file : files) {
                try {
                    ProcessRecord record = JSON.readValue(file.toFile(), ProcessRecord.class);
                    if (orphan.test(record)) { // else another live JVM (a parallel run) owns it
                        orphans.add(record);
                        orphanFiles.add(file);
                    }
                } catch (IOException e) {
                    if (olderThanAMinute(file)) { // a newer one may be being written by a live JVM
                        log.warn("Ignoring unreadable process record {} ({}); deleting it", file, e.getMessage());
                        deleteQuietly(file);
                    }
                }
            }
        } catch (IOException e) {
            log.warn("Cannot read process records in {}: {}", dir, e.toString());
            return 0;
        }
        List<ProcessRecord> survivors = java.util.Collections.synchronizedList(new ArrayList<>());
        java.util.concurrent.atomic.AtomicInteger stopped = new java.util.concurrent.atomic.AtomicInteger();
        List<Thread> stoppers = new ArrayList<>();
        for (ProcessRecord record : orphans) {
            if (!matches(record.pid(), record.match())) {
                continue;
            }
            log.warn("Stopping leftover {} (PID {}) of a run that ended without stopping it (JVM PID {})",
                    record.label(), record.pid(), record.ownerPid());
            Thread stopper = new Thread(() -> {
                stop(record.pid(), record.stopSignal(), 5_000);
                if (matches(record.pid(), record.match())) {
                    log.error("Leftover {} (PID {}) survived SIGKILL; will retry at the next start", record.label(),
                            record.pid());
                    survivors.add(record);
                } else {
                    stopped.incrementAndGet();
                }
            }, "doorbuster-stop-" + record.pid());
            stopper.setDaemon(true);
            stopper.start();
            stoppers.add(stopper);
        }
        for (Thread stopper : stoppers) {
            try {
                stopper.join(30_000); // stop() itself gives up after about 14 s
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return stopped.get();
            }
            if (stopper.isAlive()) {
                log.error("Gave up waiting for {}; its record is kept for the next start", stopper.getName());
                orphans.stream().filter(r -> stopper.getName().endsWith("-" + r.pid())).forEach(survivors::add);
            }
        }
        // Only once every process of a dead run is down (their folders may share a parent), and a record
        // is forgotten only when its process is confirmed gone.
        for (int i = 0; i < orphans.size(); i++) {
            ProcessRecord record = orphans.get(i);
            boolean busy = List.copyOf(survivors).stream().anyMatch(s -> s.equals(record)
                    || (s.cleanupDir() != null && s.cleanupDir().equals(record.cleanupDir())));
            if (busy) {
                continue;
            }
            if (record.cleanupDir() != null) {
                Dirs.deleteQuietly(Path.of(record.cleanupDir()));
            }
            deleteQuietly(orphanFiles.get(i));
        }
        return stopped.get();
    }

    /**
     * True if {@code pid} is alive (not a zombie) and every one of {@code match} is an argument of its
     * command line. PIDs are reused, so a recorded PID alone never justifies a signal.
     */
    public static boolean matches(long pid, List<String> match) {
        Optional<ProcessHandle> handle = ProcessHandle.of(pid);
        if (handle.isEmpty() || !handle.get().isAlive() || isZombie(pid)) {
            return false;
        }
        List<String> args = commandLine(pid);
        return !args.isEmpty() && args.containsAll(match);
    }

    /**
     * Stops a process by PID: {@code firstSignal}, then after {@code graceMillis} SIGKILL to it and the
     * children it had. Returns once they are gone (or about 5 s after the SIGKILL).
     */
    public static void stop(long pid, String firstSignal, long graceMillis) {
        Optional<ProcessHandle> handle = ProcessHandle.of(pid);
        if (handle.isEmpty()) {
            return;
        }
        List<ProcessHandle> children = handle.get().descendants().toList();
        signal(pid, firstSignal);
        if (!awaitExit(handle.get(), graceMillis)) {
            handle.get().destroyForcibly();
            children.forEach(ProcessHandle::destroyForcibly);
            awaitExit(handle.get(), 5_000);
        }
        for (ProcessHandle child : children) {
            if (!awaitExit(child, 2_000)) {
                child.destroyForcibly();
            }
        }
    }

    /** Sends a signal by PID: TERM and KILL from Java, others with kill(1). */
    public static boolean signal(long pid, String signal) {
        if (signal.equals("TERM") || signal.equals("KILL")) { // no kill(1) to fork: quicker, under load too
            Optional<ProcessHandle> handle = ProcessHandle.of(pid);
            return handle.isPresent() && (signal.equals("TERM") ? handle.get().destroy() : handle.get().destroyForcibly());
        }
        try {
            Process kill = new ProcessBuilder("kill", "-s", signal, Long.toString(pid)).redirectErrorStream(true).start();
            kill.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
            return kill.waitFor(5, TimeUnit.SECONDS) && kill.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Waits until {@code handle} is gone or a zombie (dead, waiting to be reaped by whoever adopted it;
     * {@code onExit()} would keep waiting for that reaping, which some init processes do slowly).
     */
    public static boolean awaitExit(ProcessHandle handle, long millis) {
        long deadline = System.nanoTime() + millis * 1_000_000;
        while (handle.isAlive() && !isZombie(handle.pid())) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    /** A killed process that its parent has not reaped yet still answers isAlive(). */
    public static boolean isZombie(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.UTF_8);
            int close = stat.lastIndexOf(')');
            return close > 0 && close + 2 < stat.length() && stat.charAt(close + 2) == 'Z';
        } catch (IOException e) {
            return false;
        }
    }

    /** The command line of {@code pid} (empty if unknown or gone). */
    public static List<String> commandLine(long pid) {
        try {
            byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
            List<String> args = new ArrayList<>();
            int start = 0;
            for (int i = 0; i < raw.length; i++) {
                if (raw[i] == 0) {
                    args.add(new String(raw, start, i - start, StandardCharsets.UTF_8));
                    start = i + 1;
                }
            }
            return args;
        } catch (IOException e) {
            return ProcessHandle.of(pid).flatMap(h -> h.info().arguments().map(a -> {
                List<String> all = new ArrayList<>();
                h.info().command().ifPresent(all::add);
                all.addAll(List.of(a));
                return all;
            })).orElse(List.of());
        }
    }

    private static boolean ownerAlive(ProcessRecord record) {
        return ownerAlive(record.ownerPid(), record.ownerStart());
    }

    /**
     * True while JVM {@code pid} runs and is the one that started at {@code start} (not a recycled PID).
     * A zombie owns nothing: it is dead, only not yet reaped by its parent.
     */
    static boolean ownerAlive(long pid, String start) {
        return ProcessHandle.of(pid)
                .filter(ProcessHandle::isAlive)
                .filter(h -> !isZombie(pid))
                .filter(h -> h.info().startInstant().map(Instant::toString).orElse("").equals(start))
                .isPresent();
    }

    static String ownStart() {
        return ProcessHandle.current().info().startInstant().map(Instant::toString).orElse("");
    }

    private static Path recordFile(long pid) {
        return DoorbusterHome.processRecords().resolve(ProcessHandle.current().pid() + "-" + pid + ".json");
    }

    /** Loads and runs once what reaping needs (JSON, /proc), so a watchdog is quick when the time comes. */
    static void warmUp() {
        try {
            ProcessRecord sample = new ProcessRecord(1, "", 1, "warm-up", List.of("x"), "TERM", null);
            JSON.readValue(JSON.writeValueAsBytes(sample), ProcessRecord.class);
        } catch (IOException e) {
            // only a warm-up
        }
        matches(ProcessHandle.current().pid(), List.of("-no-such-argument-"));
        ownerAlive(ProcessHandle.current().pid(), ownStart());
    }

    private static boolean olderThanAMinute(Path file) {
        try {
            return Files.getLastModifiedTime(file).toMillis() < System.currentTimeMillis() - 60_000;
        } catch (IOException e) {
            return false; // gone meanwhile
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            log.debug("Cannot delete {}: {}", file, e.toString());
        }
    }

    private static void installHook() {
        synchronized (HOOK_LOCK) {
            if (hookInstalled) {
                return;
            }
            Runtime.getRuntime().addShutdownHook(new Thread(ProcessRegistry::stopAllAtExit, "doorbuster-stop-at-exit"));
            hookInstalled = true;
        }
    }

    private static void stopAllAtExit() {
        List<Tracked> running = new ArrayList<>(RUNNING.keySet());
        if (running.isEmpty()) {
            return;
        }
        System.err.println("[doorbuster] stopping " + running.size() + " process(es) at JVM exit");
        // In parallel: the JVM is going away, and each stop may wait a few seconds in the worst case.
        running.parallelStream().forEach(process -> {
            try {
                process.stopAtExit();
            } catch (RuntimeException e) {
                System.err.println("[doorbuster] could not stop " + process.label() + ": " + e.getMessage());
            }
        });
    }
}
