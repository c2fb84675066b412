package dev.doorbuster.process;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes the processes a JVM started die with it, within seconds, even when it is killed with SIGKILL
 * (which runs no shutdown hook).
 *
 * <p>With the first process {@link ProcessRegistry} records, the JVM starts one small watchdog JVM in a
 * session of its own ({@code setsid}), and keeps the write end of the watchdog's standard input open for
 * the rest of its life: its <em>lifeline</em>. The kernel closes it when the JVM dies, however it dies, so
 * the watchdog reads end-of-file at once (no polling, and no PID that could be recycled). It then waits
 * until the JVM's PID is gone (or a zombie, or another process's), and stops the processes recorded for
 * that JVM (PID and start instant) by {@link ProcessRegistry#stopLeftoversOf}: by PID, only while the PID
 * still runs the recorded command line, all at once; meanwhile it runs the extra clean-ups the JVM asked
 * for ({@link #alsoOnDeath}, e.g. removing its containers, each bounded to a minute). Then it exits. After
 * a normal exit the shutdown hook has already stopped everything and the watchdog finds nothing to do, so
 * it lives exactly as long as the JVM it guards, plus a moment.
 *
 * <p>Why not Linux's parent-death signal ({@code PR_SET_PDEATHSIG}, {@code setpriv --pdeathsig})? It fires
 * when the <em>thread</em> that forked the child ends, not the process, and servers are started from
 * whichever thread needs them (a failover's rejoin restarts a node from a chaos pool thread, shut down
 * when the chaos ends, while the node must live on);
 * and it is cleared when credentials change, which is exactly how PostgreSQL is started as root
 * ({@code setpriv --reuid}; {@code --pdeathsig keep} would need the signal set on the forking thread
 * anyway). A process that watches the whole JVM covers both, and the storefront and servers need no change.
 *
 * <p>What it is told goes through the lifeline, one line each: {@code home PATH} (a Doorbuster home whose
 * records to read), {@code owner PID START}, {@code also CLASS}. Its command line names only the owner's
 * PID, for {@code ps}. It logs into {@code watchdog.log} of the first home, only when it has stopped
 * something (it starts from this JVM's class path, logging configuration included).
 * {@code -Ddoorbuster.watchdog=false} turns it off (the next start still stops leftovers).
 */
public final class Watchdog {
    public static final String PROPERTY = "doorbuster.watchdog";
    private static final Logger log = LoggerFactory.getLogger(Watchdog.class);
    private static final Object LOCK = new Object();
    /** The write end of the watchdog's standard input: never closed, never collected, until this JVM ends. */
    private static OutputStream lifeline;
    private static Process watchdog;
    private static boolean tried;
    private static final Set<String> homesSent = new LinkedHashSet<>();
    private static final Set<String> alsoSent = new LinkedHashSet<>();

    /**
     * An extra clean-up for when the JVM that asked for it is gone; run by the watchdog, bounded to a minute.
     * A public no-argument constructor is required: the watchdog creates it by its class name.
     */
    public interface AfterDeath {
        /** Called in the watchdog as soon as it is told, while the JVM lives: get ready (e.g. connect). */
        default void prepare() throws Exception {
        }

        /** Called once the JVM {@code ownerPid} is gone, at the same time as its processes are stopped. */
        void cleanUp(long ownerPid) throws Exception;
    }

    private Watchdog() {
    }

    /** Starts this JVM's watchdog if it has none yet, and has it watch the records of {@code home}. */
    static void watch(Path home) {
        send("home " + home);
    }

    /**
     * Has this JVM's watchdog (started now if needed) also run {@code cleanUp} once this JVM is gone, after
     * stopping its processes: for what is not a local process, like the containers of a Docker run.
     */
    public static void alsoOnDeath(Class<? extends AfterDeath> cleanUp) {
        send("also " + cleanUp.getName());
    }

    /** The watchdog's PID, or -1 if it has none (not started, disabled, or it could not start). */
    public static long pid() {
        synchronized (LOCK) {
            return watchdog == null ? -1 : watchdog.pid();
        }
    }

    private static void send(String line) {
        synchronized (LOCK) {
            Set<String> sent = line.startsWith("home ") ? homesSent : alsoSent;
            if (sent.contains(line) || !ensureStarted()) {
                return;
            }
            try {
                lifeline.write((line + "\n").getBytes(StandardCharsets.UTF_8));
                lifeline.flush();
                sent.add(line);
            } catch (IOException e) {
                log.warn("The watchdog (PID {}) is gone ({}): processes of this JVM will be stopped by the next start "
                        + "instead, if this JVM is killed", watchdog.pid(), e.toString());
            }
        }
    }

    private static boolean ensureStarted() {
        if (lifeline != null) {
            return true;
        }
        if (tried || "false".equalsIgnoreCase(System.getProperty(PROPERTY, "true").trim())) {
            return false;
        }
        tried = true;
        Path home = DoorbusterHome.get();
        List<String> java = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                // Small and quick: it reads a few files once, then waits on a pipe.
                "-Xms4m", "-Xmx64m", "-Xss512k", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData",
                "-Xshare:auto",
                "-cp", Classpath.current(), Watchdog.class.getName(), Long.toString(ProcessHandle.current().pid()));
        try {
            Files.createDirectories(home);
            ProcessBuilder.Redirect logFile = ProcessBuilder.Redirect.appendTo(home.resolve("watchdog.log").toFile());
            Process started;
            try {
                // Its own session: a Ctrl-C or a hang-up meant for the run's process group leaves it alone.
                List<String> detached = new ArrayList<>(List.of("setsid"));
                detached.addAll(java);
                started = new ProcessBuilder(detached).redirectErrorStream(true).redirectOutput(logFile).start();
            } catch (IOException noSetsid) {
                started = new ProcessBuilder(java).redirectErrorStream(true).redirectOutput(logFile).start();
            }
            watchdog = started;
            lifeline = started.getOutputStream();
            ProcessHandle self = ProcessHandle.current();
            lifeline.write(("owner " + self.pid() + " " + ProcessRegistry.ownStart() + "\n")
                    .getBytes(StandardCharsets.UTF_8));
            lifeline.flush();
            log.debug("Watchdog started (PID {}): this JVM's processes die with it", started.pid());
            return true;
        } catch (IOException e) {
            log.warn("Cannot start the watchdog ({}): if this JVM is killed, its processes are stopped by the next "
                    + "start only", e.toString());
            lifeline = null;
            return false;
        }
    }

    // ---- the watchdog process ------------------------------------------------------------------------------

    /** The watchdog itself: {@code Watchdog OWNER_PID}, told the rest on standard input. */
    public static void main(String[] args) {
        long owner = -1;
        String ownerStart = null;
        List<String> homes = new ArrayList<>();
        List<Extra> also = new ArrayList<>();
        ProcessRegistry.warmUp(); // while its JVM lives: the stop then starts at once
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        try {
            for (String line; (line = in.readLine()) != null; ) {
                String[] words = line.split(" ", 2);
                if (words.length < 2) {
                    continue;
                }
                switch (words[0]) {
                    case "owner" -> {
                        String[] parts = words[1].split(" ", 2);
                        owner = Long.parseLong(parts[0]);
                        ownerStart = parts.length > 1 ? parts[1] : "";
                    }
                    case "home" -> homes.add(words[1]);
                    case "also" -> also.add(new Extra(words[1]));
                    default -> { }
                }
            }
        } catch (IOException | RuntimeException e) {
            // A broken lifeline is a dead owner, like end-of-file.
        }
        Instant endOfFile = Instant.now();
        if (owner < 0) {
            System.exit(0);
        }
        // End-of-file: the owner closed its end, which only its death does. Its PID may still answer for a
        // moment (closing files comes before the end of an exit, and a zombie waits for its parent).
        long sleptMillis = 0;
        while (ProcessRegistry.ownerAlive(owner, ownerStart)) {
            int pause = sleptMillis < 5_000 ? 10 : 1_000;
            sleep(pause);
            sleptMillis += pause;
        }
        long ownerGone = System.nanoTime();
        long eofToGone = sleptMillis;
        for (Extra extra : also) {
            extra.ownerDied(owner);
        }
        int stopped = 0;
        for (String home : homes) {
            System.setProperty(DoorbusterHome.PROPERTY, home);
            stopped += ProcessRegistry.stopLeftoversOf(owner, ownerStart);
        }
        if (stopped > 0) {
            say("JVM " + owner + " died (lifeline cut at " + endOfFile + ") without stopping its processes: stopped "
                    + stopped + " in "
                    + (System.nanoTime() - ownerGone) / 1_000_000 + " ms (its PID was gone after about " + eofToGone
                    + " ms)");
        }
        long deadline = System.nanoTime() + 60_000_000_000L;
        for (Extra extra : also) {
            extra.await(deadline);
        }
        System.exit(0);
    }

    /** One {@link AfterDeath}, in a thread of its own: created and prepared at once, cleans up at the owner's death. */
    private static final class Extra {
        private final String className;
        private final CountDownLatch ownerDead = new CountDownLatch(1);
        private final Thread thread;
        private volatile long owner;

        Extra(String className) {
            this.className = className;
            this.thread = new Thread(this::run, "after-death");
            thread.setDaemon(true);
            thread.start();
        }

        private void run() {
            AfterDeath task;
            try {
                task = (AfterDeath) Class.forName(className).getConstructor().newInstance();
            } catch (Exception | LinkageError e) {
                say(className + " cannot be created: " + e);
                return;
            }
            try {
                task.prepare();
            } catch (Exception | LinkageError e) {
                // cleanUp may still manage (e.g. the engine answers later)
            }
            try {
                ownerDead.await();
                long started = System.nanoTime();
                task.cleanUp(owner);
                say("JVM " + owner + ": ran " + className + " in " + (System.nanoTime() - started) / 1_000_000 + " ms");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception | LinkageError e) {
                say("JVM " + owner + ": " + className + " failed: " + e);
            }
        }

        void ownerDied(long pid) {
            owner = pid;
            ownerDead.countDown();
        }

        void await(long deadlineNanos) {
            try {
                thread.join(Math.max(1, (deadlineNanos - System.nanoTime()) / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (thread.isAlive()) {
                say("JVM " + owner + ": gave up on " + className + " after 60 s (the next start does it)");
            }
        }
    }

    private static void say(String message) {
        System.out.println(Instant.now() + " [doorbuster watchdog " + ProcessHandle.current().pid() + "] " + message);
        System.out.flush();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
