package dev.doorbuster.load;

import java.io.IOException;
import java.net.URI;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doorbuster.verdict.shard.ShardReport;

/**
 * How the processes of one scaled-out run meet, through files in the directory they share ({@code -Dshard.dir}:
 * a local folder, a volume every Kubernetes pod mounts, a network file system). Every file is written whole and
 * renamed into place, so a reader never sees half of one.
 * <ol>
 *   <li>The coordinator, once its topology is up, writes {@value #COORDINATOR} (a fresh run id, the simulation, the
 *       shard count, the application's URL). A directory that already holds a coordinator or a finished run is
 *       refused: one directory per run, so no shard can join a stale run.</li>
 *   <li>Each injector waits for it, checks it is the same simulation and count, and writes
 *       {@code shard-<i>/}{@value #READY}.</li>
 *   <li>When every injector is ready (or the start timeout passed), the coordinator writes {@value #START}: the
 *       common start instant (wall clock, a few seconds ahead). Everyone's second 0 is that instant, so phases,
 *       fault times and recorded seconds line up across machines whose clocks are synchronised.</li>
 *   <li>During the load each injector rewrites {@code shard-<i>/}{@value #HEARTBEAT} every few seconds; after it,
 *       it writes its recording into {@code shard-<i>/} and then {@value #DONE}.</li>
 *   <li>The coordinator waits for every {@value #DONE} until the results timeout, merges, judges, and writes
 *       {@value #FINISHED}.</li>
 * </ol>
 * From the start on, the coordinator rewrites {@value #COORDINATOR_HEARTBEAT} every few seconds; an injector that
 * finds the run finished, or the coordinator silent for {@link #COORDINATOR_SILENCE}, stops its load (a killed
 * coordinator leaves nobody to judge it).
 */
final class ShardDirectory {
    static final String COORDINATOR = "coordinator.json";
    static final String START = "start.json";
    static final String FINISHED = "finished.json";
    static final String COORDINATOR_HEARTBEAT = "coordinator-heartbeat.json";
    /** An injector whose coordinator was silent this long (or finished the run) stops its load. */
    static final Duration COORDINATOR_SILENCE = Duration.ofSeconds(30);
    static final String READY = "ready.json";
    static final String HEARTBEAT = "heartbeat.json";
    static final String DONE = "done.json";
    /** How far ahead of its announcement the common start lies: every injector polling sees it in time. */
    static final Duration START_LEAD = Duration.ofSeconds(2);
    private static final Duration POLL = Duration.ofMillis(100);
    private static final ObjectMapper JSON = new ObjectMapper()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** What the coordinator announces. */
    record Coordinator(String run, String simulation, int shards, String appUrl, String createdAt) {
    }

    record Start(String run, long startEpochMillis) {
    }

    record Ready(String run, int index, long pid, String host, String at) {
    }

    record Heartbeat(String run, int second, String at) {
    }

    /** An injector's delivery: its summary, written after its recording. */
    record Done(String run, ShardReport.Shard shard) {
    }

    record Finished(String run, boolean passed, String at) {
    }

    record CoordinatorHeartbeat(String run, long epochMillis) {
    }

    private final Path dir;
    private final String run;

    private ShardDirectory(Path dir, String run) {
        this.dir = dir;
        this.run = run;
    }

    String run() {
        return run;
    }

    Path dir() {
        return dir;
    }

    /** The folder of shard {@code index}'s files. */
    Path shard(int index) {
        return dir.resolve("shard-" + index);
    }

    // ---- coordinator side ------------------------------------------------------------------------------

    /** Announces the run; refuses a directory that belongs to another run. */
    static ShardDirectory announce(Path dir, String simulation, int shards, URI appUrl) throws IOException {
        Optional<Finished> finished = read(dir.resolve(FINISHED), Finished.class);
        if (finished.isPresent()) {
            throw new IllegalStateException(dir + " holds the results of a finished run (" + finished.get().run()
                    + ", " + finished.get().at() + "): give each run its own -D" + Sharding.DIR);
        }
        Optional<Coordinator> other = read(dir.resolve(COORDINATOR), Coordinator.class);
        if (other.isPresent()) {
            throw new IllegalStateException(dir + " already has a coordinator (run " + other.get().run() + " of "
                    + other.get().simulation() + ", since " + other.get().createdAt() + "): give each run its own -D"
                    + Sharding.DIR);
        }
        byte[] random = new byte[6];
        new SecureRandom().nextBytes(random);
        ShardDirectory directory = new ShardDirectory(dir, HexFormat.of().formatHex(random));
        write(dir.resolve(COORDINATOR), new Coordinator(directory.run, simulation, shards, appUrl.toString(),
                Instant.now().toString()));
        return directory;
    }

    /** Waits until every injector is ready or {@code timeout} passes; returns the indexes that are not. */
    List<Integer> awaitReady(int shards, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<Integer> missing = new ArrayList<>();
            for (int i = 0; i < shards; i++) {
                Optional<Ready> ready = read(shard(i).resolve(READY), Ready.class);
                if (ready.isEmpty() || !run.equals(ready.get().run())) {
                    missing.add(i);
                }
            }
            if (missing.isEmpty() || System.nanoTime() > deadline) {
                return missing;
            }
            Thread.sleep(POLL.toMillis());
        }
    }

    /** Sets the common start instant, {@link #START_LEAD} from now, and returns it (epoch milliseconds). */
    long announceStart() throws IOException {
        long at = System.currentTimeMillis() + START_LEAD.toMillis();
        write(dir.resolve(START), new Start(run, at));
        return at;
    }

    /** Waits for the injectors' deliveries until {@code timeout} passes; returns what each delivered. */
    Map<Integer, ShardReport.Shard> awaitDone(List<Integer> expected, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<Integer, ShardReport.Shard> done = new LinkedHashMap<>();
        while (true) {
            for (int i : expected) {
                if (!done.containsKey(i)) {
                    read(shard(i).resolve(DONE), Done.class).filter(d -> run.equals(d.run()))
                            .ifPresent(d -> done.put(i, d.shard()));
                }
            }
            if (done.size() == expected.size() || System.nanoTime() > deadline) {
                return done;
            }
            Thread.sleep(POLL.toMillis() * 2);
        }
    }

    /** The run second of shard {@code index}'s last heartbeat, if it ever sent one. */
    Optional<Integer> lastHeartbeat(int index) {
        return read(shard(index).resolve(HEARTBEAT), Heartbeat.class).filter(h -> run.equals(h.run()))
                .map(Heartbeat::second);
    }

    boolean wasReady(int index) {
        return read(shard(index).resolve(READY), Ready.class).filter(r -> run.equals(r.run())).isPresent();
    }

    /** The coordinator is alive: rewritten every few seconds from the common start on. */
    void coordinatorHeartbeat() {
        try {
            write(dir.resolve(COORDINATOR_HEARTBEAT), new CoordinatorHeartbeat(run, System.currentTimeMillis()));
        } catch (IOException e) {
            // the next one may succeed; injectors allow COORDINATOR_SILENCE
        }
    }

    /**
     * Why an injector should take its coordinator for gone, if it should: it marked the run finished (it judged, or
     * it was stopped), or its heartbeat has been silent longer than {@code silence} (killed, its machine lost).
     */
    Optional<String> coordinatorGone(Duration silence) {
        Optional<Finished> finished = read(dir.resolve(FINISHED), Finished.class).filter(f -> run.equals(f.run()));
        if (finished.isPresent()) {
            return Optional.of("the coordinator of run " + run + " ended the run at " + finished.get().at());
        }
        return read(dir.resolve(COORDINATOR_HEARTBEAT), CoordinatorHeartbeat.class).filter(h -> run.equals(h.run()))
                .map(h -> System.currentTimeMillis() - h.epochMillis())
                .filter(silent -> silent > silence.toMillis())
                .map(silent -> "the coordinator of run " + run + " has not been heard from for " + silent / 1000 + " s");
    }

    void finish(boolean passed) throws IOException {
        write(dir.resolve(FINISHED), new Finished(run, passed, Instant.now().toString()));
    }

    // ---- injector side ---------------------------------------------------------------------------------

    /**
     * Waits for the coordinator's announcement (up to {@code timeout}), checks it is this run, and says shard
     * {@code index} is ready. Returns the directory and the announcement.
     */
    static Joined join(Path dir, String simulation, int index, int shards, Duration timeout)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Optional<Coordinator> coordinator;
        while (true) {
            Optional<Finished> finished = read(dir.resolve(FINISHED), Finished.class);
            if (finished.isPresent()) {
                throw new IllegalStateException(dir + " holds the results of a finished run (" + finished.get().run()
                        + "): this shard cannot join it; give each run its own -D" + Sharding.DIR);
            }
            coordinator = read(dir.resolve(COORDINATOR), Coordinator.class);
            if (coordinator.isPresent()) {
                break;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no coordinator announced a run in " + dir + " within "
                        + timeout.toSeconds() + " s (-D" + Sharding.START_TIMEOUT + "): start it with -D" + Sharding.ROLE
                        + "=coordinator and the same -D" + Sharding.DIR);
            }
            Thread.sleep(POLL.toMillis() * 2);
        }
        Coordinator c = coordinator.get();
        if (!c.simulation().equals(simulation)) {
            throw new IllegalStateException("the coordinator in " + dir + " runs " + c.simulation() + ", not "
                    + simulation + ": every shard of a run runs the same simulation");
        }
        if (c.shards() != shards) {
            throw new IllegalStateException("the coordinator in " + dir + " expects " + c.shards() + " shards, this one "
                    + "was started with -D" + Sharding.COUNT + "=" + shards);
        }
        ShardDirectory directory = new ShardDirectory(dir, c.run());
        Path own = directory.shard(index);
        Optional<Ready> earlier = read(own.resolve(READY), Ready.class);
        if (earlier.isPresent() && c.run().equals(earlier.get().run())) {
            throw new IllegalStateException("shard " + index + " of run " + c.run() + " already joined (process "
                    + earlier.get().pid() + " on " + earlier.get().host() + "): each index runs once per run");
        }
        Files.createDirectories(own);
        write(own.resolve(READY), new Ready(c.run(), index, ProcessHandle.current().pid(), host(),
                Instant.now().toString()));
        return new Joined(directory, URI.create(c.appUrl()));
    }

    record Joined(ShardDirectory directory, URI appUrl) {
    }

    /** Waits for the common start instant's announcement; returns it (epoch milliseconds). */
    long awaitStart(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Optional<Start> start = read(dir.resolve(START), Start.class).filter(s -> run.equals(s.run()));
            if (start.isPresent()) {
                return start.get().startEpochMillis();
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the coordinator of run " + run + " did not announce the start within "
                        + timeout.toSeconds() + " s (-D" + Sharding.START_TIMEOUT + ")");
            }
            Thread.sleep(POLL.toMillis());
        }
    }

    void heartbeat(int index, int second) {
        try {
            write(shard(index).resolve(HEARTBEAT), new Heartbeat(run, second, Instant.now().toString()));
        } catch (IOException e) {
            // the next one may succeed; the coordinator only uses it to say when a shard was last heard from
        }
    }

    void done(ShardReport.Shard shard) throws IOException {
        write(shard(shard.index()).resolve(DONE), new Done(run, shard));
    }

    // ---- files ---------------------------------------------------------------------------------------

    private static void write(Path file, Object value) throws IOException {
        Files.createDirectories(file.getParent());
        Path temporary = file.resolveSibling("." + file.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
        JSON.writeValue(temporary.toFile(), value);
        try {
            Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** The file's value, or empty when it does not exist (yet) or cannot be read (being replaced, foreign). */
    private static <T> Optional<T> read(Path file, Class<T> type) {
        try {
            return Optional.ofNullable(JSON.readValue(file.toFile(), type));
        } catch (NoSuchFileException | java.io.FileNotFoundException e) {
            return Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The host's name as the shell sees it (a pod's name on Kubernetes); no name lookup. */
    private static String host() {
        String name = System.getenv("HOSTNAME");
        return name == null || name.isBlank() ? "this host" : name;
    }
}
