package dev.doorbuster.postgres;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Knows every PostgreSQL server this JVM started, so none outlives it.
 *
 * <ul>
 *   <li>A JVM shutdown hook stops the servers still running (normal exit, Ctrl-C, a failed test).</li>
 *   <li>Each running server is also recorded as a file under {@link DoorbusterHome#serverRecords()}.
 *       A JVM killed with SIGKILL runs no hook; the next JVM to start a server reads those records and
 *       stops every server whose owning JVM is gone, by PID, after checking that the PID really is a
 *       postgres serving that data folder (PIDs get reused).</li>
 * </ul>
 */
public final class ServerRegistry {
    private static final Logger log = LoggerFactory.getLogger(ServerRegistry.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<PgNode> RUNNING = ConcurrentHashMap.newKeySet();
    private static final Object HOOK_LOCK = new Object();
    private static boolean hookInstalled;

    /** What is written to disk per running server. */
    record ServerRecord(long ownerPid, String ownerStart, long pid, String dataDir, String node, int port,
                        String cleanupDir) {
    }

    private ServerRegistry() {
    }

    static void started(PgNode node, long pid, Path cleanupDir) {
        installHook();
        RUNNING.add(node);
        ServerRecord record = new ServerRecord(ProcessHandle.current().pid(), ownStart(), pid,
                node.dataDir().toString(), node.name(), node.port(), cleanupDir == null ? null : cleanupDir.toString());
        try {
            Files.createDirectories(DoorbusterHome.serverRecords());
            JSON.writeValue(recordFile(pid).toFile(), record);
        } catch (IOException e) {
            log.warn("Cannot record server {} (PID {}) for leftover clean-up: {}", node.name(), pid, e.toString());
        }
    }

    static void stopped(PgNode node, long pid) {
        RUNNING.remove(node);
        try {
            Files.deleteIfExists(recordFile(pid));
        } catch (IOException e) {
            log.debug("Cannot delete server record of PID {}: {}", pid, e.toString());
        }
    }

    /**
     * Stops the servers of runs whose JVM has died. Called before any server starts; it costs a listing
     * of a small folder, so it runs every time (a long-lived JVM still notices another run's crash).
     *
     * @return how many leftover servers were stopped
     */
    public static synchronized int stopLeftovers() {
        Path dir = DoorbusterHome.serverRecords();
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir, "*.json")) {
            stream.forEach(files::add);
        } catch (IOException e) {
            log.warn("Cannot read server records in {}: {}", dir, e.toString());
            return 0;
        }
        List<ServerRecord> orphans = new ArrayList<>();
        List<Path> orphanFiles = new ArrayList<>();
        for (Path file : files) {
            try {
                ServerRecord record = JSON.readValue(file.toFile(), ServerRecord.class);
                if (!ownerAlive(record)) { // else another live JVM (a parallel run) owns it
                    orphans.add(record);
                    orphanFiles.add(file);
                }
            } catch (IOException e) {
                log.warn("Ignoring unreadable server record {} ({}); deleting it", file, e.getMessage());
                deleteQuietly(file);
            }
        }
        int stopped = 0;
        List<ServerRecord> survivors = new ArrayList<>();
        for (ServerRecord record : orphans) {
            if (isServerOf(record.pid(), Path.of(record.dataDir()))) {
                log.warn("Stopping leftover PostgreSQL server '{}' (PID {}, data folder {}) of a run that ended "
                        + "without stopping it (JVM PID {})", record.node(), record.pid(), record.dataDir(),
                        record.ownerPid());
                stopProcess(record.pid());
                if (isServerOf(record.pid(), Path.of(record.dataDir()))) {
                    log.error("Leftover PostgreSQL server PID {} survived SIGKILL; will retry at the next start",
                            record.pid());
                    survivors.add(record);
                    continue;
                }
                stopped++;
            }
        }
        // Only once every server of a dead run is down: their folders may share a parent. A record is
        // forgotten only when its server is confirmed gone.
        for (int i = 0; i < orphans.size(); i++) {
            ServerRecord record = orphans.get(i);
            if (survivors.stream().anyMatch(s -> s.cleanupDir() != null && s.cleanupDir().equals(record.cleanupDir()))
                    || survivors.contains(record)) {
                continue;
            }
            if (record.cleanupDir() != null) {
                Dirs.deleteQuietly(Path.of(record.cleanupDir()));
            }
            deleteQuietly(orphanFiles.get(i));
        }
        return stopped;
    }

    /**
     * True if {@code pid} is alive and is a postgres server started on {@code dataDir}. PIDs are reused,
     * so a recorded PID alone never justifies a signal.
     */
    static boolean isServerOf(long pid, Path dataDir) {
        Optional<ProcessHandle> handle = ProcessHandle.of(pid);
        if (handle.isEmpty() || !handle.get().isAlive() || isZombie(pid)) {
            return false;
        }
        List<String> args = commandLine(pid);
        if (args.isEmpty() || !args.get(0).endsWith("postgres")) {
            return false;
        }
        String dir = dataDir.toAbsolutePath().normalize().toString();
        for (int i = 0; i + 1 < args.size(); i++) {
            if (args.get(i).equals("-D") && Path.of(args.get(i + 1)).toAbsolutePath().normalize().toString().equals(dir)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Stops a server that is not our child: immediate shutdown (SIGQUIT), then SIGKILL of it and its
     * children. Returns once they are gone, or after about 10 s.
     */
    static void stopProcess(long pid) {
        Optional<ProcessHandle> handle = ProcessHandle.of(pid);
        if (handle.isEmpty()) {
            return;
        }
        List<ProcessHandle> children = handle.get().descendants().toList();
        Exec.signal(pid, "QUIT");
        if (!awaitExit(handle.get(), 5_000)) {
            handle.get().destroyForcibly();
            children.forEach(ProcessHandle::destroyForcibly);
            awaitExit(handle.get(), 5_000);
        }
        for (ProcessHandle child : children) {
            awaitExit(child, 2_000);
        }
    }

    /**
     * Waits until {@code handle} is gone or a zombie (dead, waiting to be reaped by whoever adopted it;
     * {@code onExit()} would keep waiting for that reaping, which some init processes do slowly).
     */
    static boolean awaitExit(ProcessHandle handle, long millis) {
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
    static boolean isZombie(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.UTF_8);
            int close = stat.lastIndexOf(')');
            return close > 0 && close + 2 < stat.length() && stat.charAt(close + 2) == 'Z';
        } catch (IOException e) {
            return false;
        }
    }

    static List<String> commandLine(long pid) {
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

    private static boolean ownerAlive(ServerRecord record) {
        return ProcessHandle.of(record.ownerPid())
                .filter(ProcessHandle::isAlive)
                .filter(h -> h.info().startInstant().map(Instant::toString).orElse("").equals(record.ownerStart()))
                .isPresent();
    }

    private static String ownStart() {
        return ProcessHandle.current().info().startInstant().map(Instant::toString).orElse("");
    }

    private static Path recordFile(long pid) {
        return DoorbusterHome.serverRecords().resolve(ProcessHandle.current().pid() + "-" + pid + ".json");
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
            Runtime.getRuntime().addShutdownHook(new Thread(ServerRegistry::stopAllAtExit, "doorbuster-pg-shutdown"));
            hookInstalled = true;
        }
    }

    private static void stopAllAtExit() {
        List<PgNode> nodes = new ArrayList<>(RUNNING);
        if (nodes.isEmpty()) {
            return;
        }
        System.err.println("[doorbuster] stopping " + nodes.size() + " PostgreSQL server(s) at JVM exit");
        // In parallel: the JVM is going away, and each stop may wait a few seconds in the worst case.
        nodes.parallelStream().forEach(node -> {
            try {
                node.stopImmediately();
            } catch (RuntimeException e) {
                System.err.println("[doorbuster] could not stop " + node.name() + ": " + e.getMessage());
            }
        });
    }
}
