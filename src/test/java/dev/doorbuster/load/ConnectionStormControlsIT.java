package dev.doorbuster.load;

import static dev.doorbuster.load.ControlRuns.tail;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.doorbuster.pooler.PgBouncerBinary;
import dev.doorbuster.tools.Required;
import dev.doorbuster.verdict.CheckResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * The seeds' connection storm: a fleet of {@value #INSTANCES} storefronts ({@code ConnectionStormSimulation}), pools of
 * {@value #POOL} each, against a {@code max_connections} of {@value #MAX_CONNECTIONS}: 240 connections wanted per node. The oracle
 * is each node's own log, with every session's start and end logged ({@code log_connections},
 * {@code log_disconnections}) and every refusal: how many connections of the storefront's role the node held at
 * once, and how many it refused. Without a pooler the node fills and refuses, and the verdict fails on
 * {@code connection refusals} without counting a refusal the nodes did not log; through PgBouncer in transaction mode
 * the same fleet passes, and no node ever held more of the storefront's sessions than the pooler's pool size (the
 * logs show the busiest node at exactly that size; the test's own reads of {@code pg_stat_activity} never above it). With the
 * driver naming its statements on the server (PgJDBC's default) the same pooled run fails, naming the SQLSTATE of the
 * broken statements, which the nodes' logs hold as errors. In the run without a pooler one more instance is added
 * mid-spike: on the full nodes it cannot start, and the run also fails on {@code faults injected} (the plan's fleet was
 * never there, which the fault schedule and the nodes' slots make certain).
 *
 * <p>One at a time: each run is five JVMs, PostgreSQL's two nodes and a pooler; two of them beside a third control
 * are more than two cores serve in time, and the pooled twin must pass.
 */
@Execution(ExecutionMode.SAME_THREAD)
class ConnectionStormControlsIT {
    /**
     * All started before the load: each serves once its pools are open or refused, so every refusal is counted before
     * the run's last reading (an instance that cannot start at all is another check's: {@link #ADDED}). Grown
     * mid-spike instead, on a machine busy with other controls, the scale-out took 31 s
     * (and once longer than the load): the refusals then came after the verdict. The scale-out itself is
     * {@code FleetTopologyTest}'s.
     */
    private static final int INSTANCES = 4;
    /**
     * Without a pooler, the autoscaler then adds one more, halfway up the spike ({@code ScaleOut}). The nodes are full
     * by then (the four want 240 connections each against 197 slots): the new instance is refused its first
     * connection and cannot start, so the run did not test the fleet its plan says ({@code faults injected}). The
     * pooled runs add none: an instance started mid-load beside three storms' worth of JVMs on two cores made the
     * pooled twin's requests time out at the pooler (a run of all three at once, 12-07); a scale-out that takes effect
     * is {@code FleetTopologyTest}'s, and a fault in place not flagged is checked in {@code PoolerControlsIT}.
     */
    private static final int ADDED = 1;
    private static final int POOL = 60;
    private static final int MAX_CONNECTIONS = 200;
    /** PostgreSQL's default {@code superuser_reserved_connections}: the slots the storefront's role cannot have. */
    private static final int SUPERUSER_RESERVED = 3;
    /**
     * The pooler's server connections per node ({@code default_pool_size}). Small enough that this short load reaches
     * it: with 20 (a production figure) the nodes never held more than 3 of the storefront's sessions, so "at most the
     * pool size" held without the cap ever doing anything. With 2 the nodes' logs show the cap reached and never
     * passed, while 480 client connections wait their turn (12-07: both nodes at 2, the twin passing).
     */
    private static final int PGBOUNCER_POOL = 2;
    /** The run's line naming its nodes' addresses, once they stream (PgCluster). */
    private static final String CLUSTER_UP = "cluster up in";
    /**
     * At least this many reads of {@code pg_stat_activity} (one node each). Two nodes ten times a second through at
     * least the 18 s of load make 360; this allows a sampler starved to a sixth of its rate on two busy cores.
     */
    private static final int SAMPLES_AT_LEAST = 60;
    private static final String ROLE = "storefront";
    private static final Pattern AUTHORIZED = Pattern.compile("\\[(\\d+)] .*connection authorized: user=(\\w+)");
    private static final Pattern ENDED = Pattern.compile("\\[(\\d+)] .*disconnection: session time");
    /** A refusal; one of the role's sessions after its login was authorized, which logs no disconnection. */
    /** An error a statement named on another server connection ends in: missing here, or the name already taken. */
    private static final Pattern BROKEN_STATEMENT = Pattern.compile(
            "ERROR: +prepared statement \"[^\"]+\" (does not exist|already exists)");
    private static final Pattern REFUSED = Pattern.compile(
            "\\[(\\d+)] .*FATAL: .*(sorry, too many clients already|remaining connection slots are reserved)");

    @TempDir
    Path reports;
    private Path home;

    @BeforeEach
    void ownHome() throws IOException {
        home = ControlRuns.newHome("doorbuster-storm-controls-");
    }

    @AfterEach
    void nothingIsLeftRunning() throws IOException {
        if (home != null) {
            ControlRuns.assertNothingLeftRunning(home);
        }
    }

    private static Map<String, String> storm(String pooler) {
        Map<String, String> properties = new HashMap<>(Map.of(
                "load.minutes", "0.3",
                "app.instances", Integer.toString(INSTANCES),
                "storm.addInstances", pooler.equals("none") ? Integer.toString(ADDED) : "0",
                "app.writerPoolSize", Integer.toString(POOL),
                "app.readerPoolSize", Integer.toString(POOL),
                "postgres.settings.max_connections", Integer.toString(MAX_CONNECTIONS),
                "postgres.settings.log_connections", "on",
                "postgres.settings.log_disconnections", "on",
                "postgres.pooler", pooler,
                "postgres.pgbouncer.defaultPoolSize", Integer.toString(PGBOUNCER_POOL)));
        // Four storefront JVMs starting on two cores beside the load: latency is not what this control judges. Cold,
        // they may answer nothing within the spike's first phase (seconds 0-4 of this short load: a rehearsal, 12-07),
        // whose p99 is then rightly not judged; the pooled twin allows that one kind of check unjudged (see there).
        properties.putAll(ControlRuns.sharedMachineLatencyBudgets());
        properties.put("slo.notJudged", "1");
        return properties;
    }

    @Test
    void aFleetWhosePoolsExceedMaxConnectionsIsRefusedAndEveryCountedRefusalIsInTheNodesLogs() throws Exception {
        ForkedGatling.Result run = ForkedGatling.run("ConnectionStormSimulation", reports, home, storm("none"));
        assertEquals(2, run.exitCode(), "assertions must fail the run\n" + tail(run));
        CheckResult refusals = run.check("connection refusals").orElseThrow(() -> new AssertionError(tail(run)));
        assertFalse(refusals.pass(), refusals.line());
        NodeLogs logs = NodeLogs.of(reports);
        assertTrue(logs.refused() >= 1, "the nodes refused the fleet: " + logs);
        assertTrue(refusals.actual() >= 1 && refusals.actual() <= logs.refused(), "the verdict counted "
                + refusals.actual() + " refused attempts; the nodes logged " + logs.refused() + ": " + logs);
        assertEquals(MAX_CONNECTIONS - SUPERUSER_RESERVED, logs.mostSessionsOnANode(), 10, "a node held as many of the "
                + "storefront's sessions as its role may have, short of the harness's own: " + logs);
        assertTrue(logs.mostSessionsOnANode() <= MAX_CONNECTIONS - SUPERUSER_RESERVED, logs.toString());
        CheckResult injected = run.check("faults injected").orElseThrow(() -> new AssertionError(tail(run)));
        assertEquals(ADDED, injected.actual(), "the added instance could not start on full nodes: " + injected.line());
        assertTrue(injected.failed() && injected.detail().contains("ScaleOut") && (injected.detail().contains(
                "remaining connection slots are reserved") || injected.detail().contains("too many clients")),
                "the failing line says which fault and why: " + injected.line());
        dev.doorbuster.verdict.probes.DatabaseErrors errors = run.verdict().databaseErrors();
        assertEquals(INSTANCES, errors.instances(), "the probes read every instance of the fleet that served");
        assertTrue(errors.rows().stream().anyMatch(r -> r.sqlState().equals("53300")
                && r.refused() == refusals.actual()), "the report lists the refusals under 53300: " + errors);
    }

    @Test
    void theSameFleetThroughPgBouncerInTransactionModeIsNeverRefusedAndTheNodesHoldOnlyThePoolersConnections()
            throws Exception {
        Required.assume(PgBouncerBinary.available(), PgBouncerBinary.missingMessage());
        ForkedGatling.Running running = ForkedGatling.start("ConnectionStormSimulation", reports, home, storm("pgbouncer"));
        ForkedGatling.Result run;
        SessionSampler.Peaks sampled;
        try (SessionSampler sampler = new SessionSampler(ROLE)) {
            if (running.awaitOutput(CLUSTER_UP, java.time.Duration.ofMinutes(3))) {
                sampler.start(running.outputSoFar());
            }
            run = running.await(java.time.Duration.ofMinutes(8));
            sampled = sampler.stop();
        }
        CheckResult refusals = run.check("connection refusals").orElseThrow(() -> new AssertionError(tail(run)));
        assertTrue(refusals.pass() && refusals.actual() == 0, refusals.line());
        assertEquals(0, run.exitCode(), "the pooler absorbs the storm\n" + tail(run));
        assertTrue(run.verdict().checks().stream().filter(CheckResult::notJudged).allMatch(c -> c.name().startsWith("p99")),
                "only a latency check may go unjudged here: " + run.verdict().summary());
        NodeLogs logs = NodeLogs.of(reports);
        System.out.println("storm through PgBouncer: the nodes' logs " + logs + "; pg_stat_activity sampled " + sampled);
        assertEquals(0, logs.refused(), logs.toString());
        assertEquals(PGBOUNCER_POOL, logs.mostSessionsOnANode(), "the busiest node held exactly the pooler's "
                + PGBOUNCER_POOL + " server connections of the storefront's " + INSTANCES + " × " + POOL
                + " per node: the cap was reached and held: " + logs);
        // The second witness, the one the issue names: the nodes' own pg_stat_activity, read by this test while the
        // run went on. A sample can only miss a session the logs hold, never add one.
        assertTrue(sampled.samples() >= SAMPLES_AT_LEAST, "pg_stat_activity was read through the load: " + sampled);
        assertTrue(sampled.most() >= 1 && sampled.most() <= PGBOUNCER_POOL, "no node ever showed more of the "
                + "storefront's sessions than the pooler's " + PGBOUNCER_POOL + ": " + sampled);
        assertTrue(sampled.most() <= logs.mostSessionsOnANode(), "the samples saw no more than the logs hold: " + sampled
                + " / " + logs);
    }

    /**
     * The same fleet through the same pooler, with the driver preparing statements on the server under a name (PgJDBC's
     * default, {@code app.preparedStatements=server}) instead of the setting the storefront takes behind a transaction
     * pooler: Debian's PgBouncer 1.18 hands the next transaction another server connection, where the name is missing
     * (26000) or taken (42P05). The run fails on its error rate, naming the code, and the service counted no such error
     * that the nodes did not log. The known-good twin is the test above, which differs by this one setting.
     */
    @Test
    void namedStatementsBehindTheTransactionPoolerFailTheRunNamingTheirSqlState() throws Exception {
        Required.assume(PgBouncerBinary.available(), PgBouncerBinary.missingMessage());
        Map<String, String> properties = storm("pgbouncer");
        properties.put("app.preparedStatements", "server");
        ForkedGatling.Result run = ForkedGatling.run("ConnectionStormSimulation", reports, home, properties);
        assertEquals(2, run.exitCode(), "assertions must fail the run\n" + tail(run));
        CheckResult errors = run.check(dev.doorbuster.verdict.Judge.ERROR_RATE)
                .orElseThrow(() -> new AssertionError(tail(run)));
        assertTrue(errors.failed(), errors.line());
        assertTrue(errors.detail().contains("26000 × ") || errors.detail().contains("42P05 × "), "the failing line names "
                + "the code of the broken statements: " + errors.line());
        double answered = run.verdict().databaseErrors().rows().stream()
                .filter(r -> r.sqlState().equals("26000") || r.sqlState().equals("42P05"))
                .mapToDouble(dev.doorbuster.verdict.probes.DatabaseErrors.Row::answered).sum();
        long logged = NodeLogs.lines(reports, BROKEN_STATEMENT);
        System.out.println(errors.line() + "; the nodes logged " + logged + " broken prepared statements");
        assertTrue(answered >= 1 && answered <= logged, "the service answered " + answered + " requests with a broken "
                + "prepared statement's error; the nodes logged " + logged + " such errors");
        assertEquals(0, NodeLogs.of(reports).refused(), "the pooler still absorbed the storm: only the statements broke");
    }

    /**
     * The nodes' {@code pg_stat_activity}, read by the test itself every {@value #EVERY_MS} ms from the moment the run
     * logged its cluster up (the nodes' addresses are in that line) until it ended: the most sessions of {@code role}
     * each node showed at once. It logs in as the superuser, on one of the slots reserved for it, so the storefront's
     * slots are untouched; a node it cannot reach (at the run's start or end) is read again at the next tick.
     */
    private static final class SessionSampler implements AutoCloseable {
        private static final long EVERY_MS = 100;
        private static final Pattern NODE = Pattern.compile("(\\w+)@127\\.0\\.0\\.1:(\\d+)");
        private static final String QUERY = "SELECT count(*) FROM pg_stat_activity WHERE usename = ? AND backend_type = "
                + "'client backend'";

        record Peaks(int samples, int failedReads, Map<String, Integer> mostByNode) {
            int most() {
                return mostByNode.values().stream().mapToInt(Integer::intValue).max().orElse(0);
            }
        }

        private final String role;
        private final Map<String, Integer> most = new java.util.concurrent.ConcurrentSkipListMap<>();
        private final java.util.concurrent.atomic.AtomicInteger samples = new java.util.concurrent.atomic.AtomicInteger();
        private final java.util.concurrent.atomic.AtomicInteger failed = new java.util.concurrent.atomic.AtomicInteger();
        private volatile boolean stopping;
        private Thread thread;

        SessionSampler(String role) {
            this.role = role;
        }

        /** Starts reading the nodes that the run's "cluster up" line names. */
        void start(String console) {
            Matcher up = Pattern.compile(Pattern.quote(CLUSTER_UP) + ".*").matcher(console);
            assertTrue(up.find(), "the run logged its cluster");
            Map<String, Integer> ports = new java.util.LinkedHashMap<>();
            for (Matcher node = NODE.matcher(up.group()); node.find(); ) {
                ports.put(node.group(1), Integer.parseInt(node.group(2)));
            }
            assertTrue(ports.size() >= 2, "the line names the primary and its replica: " + up.group());
            thread = new Thread(() -> sample(ports), "pg-stat-activity-sampler");
            thread.setDaemon(true);
            thread.start();
        }

        private void sample(Map<String, Integer> ports) {
            Map<String, java.sql.Connection> open = new HashMap<>();
            try {
                while (!stopping) {
                    for (Map.Entry<String, Integer> node : ports.entrySet()) {
                        try {
                            java.sql.Connection c = open.get(node.getKey());
                            if (c == null) {
                                c = java.sql.DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + node.getValue()
                                        + "/postgres?user=postgres&sslmode=disable&connectTimeout=2&socketTimeout=5");
                                open.put(node.getKey(), c);
                            }
                            try (java.sql.PreparedStatement count = c.prepareStatement(QUERY)) {
                                count.setString(1, role);
                                try (java.sql.ResultSet rows = count.executeQuery()) {
                                    rows.next();
                                    most.merge(node.getKey(), rows.getInt(1), Math::max);
                                    samples.incrementAndGet();
                                }
                            }
                        } catch (java.sql.SQLException e) {
                            failed.incrementAndGet();
                            closeQuietly(open.remove(node.getKey()));
                        }
                    }
                    Thread.sleep(EVERY_MS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                open.values().forEach(SessionSampler::closeQuietly);
            }
        }

        private static void closeQuietly(java.sql.Connection c) {
            if (c != null) {
                try {
                    c.close();
                } catch (java.sql.SQLException e) {
                    // the node is gone: nothing to close
                }
            }
        }

        Peaks stop() throws InterruptedException {
            stopping = true;
            if (thread != null) {
                thread.join(10_000);
            }
            return new Peaks(samples.get(), failed.get(), Map.copyOf(most));
        }

        @Override
        public void close() throws InterruptedException {
            stop();
        }
    }

    /**
     * What the nodes' logs say: the refusals, and the most sessions of the storefront's role one node held at once
     * (each session from its "connection authorized" line to its "disconnection" line, by process id; a login refused
     * for want of a slot after it was authorized held no session).
     */
    private record NodeLogs(long refused, int mostSessionsOnANode, Map<String, Integer> mostByNode) {
        static List<Path> files(Path reports) throws IOException {
            List<Path> files;
            try (var walk = Files.walk(reports)) {
                files = walk.filter(f -> f.getFileName().toString().matches("postgres-.*\\.log")).sorted().toList();
            }
            assertTrue(files.size() >= 2, "every node's log is kept with the run: " + files);
            return files;
        }

        /** The lines of every node's log that {@code pattern} finds something in. */
        static long lines(Path reports, Pattern pattern) throws IOException {
            long found = 0;
            for (Path file : files(reports)) {
                found += Files.readAllLines(file, StandardCharsets.UTF_8).stream()
                        .filter(line -> pattern.matcher(line).find()).count();
            }
            return found;
        }

        static NodeLogs of(Path reports) throws IOException {
            List<Path> files = files(reports);
            long refused = 0;
            Map<String, Integer> most = new java.util.TreeMap<>();
            for (Path file : files) {
                List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
                // A login refused for want of a slot is logged as authorized first, and its refusal may come after
                // other sessions' lines: such a login never held a session, so its authorized line is left out.
                Set<Integer> refusedLogins = new HashSet<>();
                Map<String, Integer> lastAuthorized = new HashMap<>();
                for (int i = 0; i < lines.size(); i++) {
                    Matcher started = AUTHORIZED.matcher(lines.get(i));
                    if (started.find()) {
                        lastAuthorized.put(started.group(1), i);
                        continue;
                    }
                    Matcher refusal = REFUSED.matcher(lines.get(i));
                    if (refusal.find()) {
                        refused++;
                        Integer login = lastAuthorized.remove(refusal.group(1));
                        if (login != null) {
                            refusedLogins.add(login);
                        }
                    }
                }
                Set<String> open = new HashSet<>();
                int peak = 0;
                for (int i = 0; i < lines.size(); i++) {
                    String line = lines.get(i);
                    Matcher started = AUTHORIZED.matcher(line);
                    if (started.find()) {
                        if (started.group(2).equals(ROLE) && !refusedLogins.contains(i)) {
                            open.add(started.group(1));
                            peak = Math.max(peak, open.size());
                        }
                        continue;
                    }
                    Matcher ended = ENDED.matcher(line);
                    if (ended.find()) {
                        open.remove(ended.group(1));
                    }
                }
                most.put(file.getFileName().toString(), peak);
            }
            return new NodeLogs(refused, most.values().stream().mapToInt(Integer::intValue).max().orElse(0), most);
        }
    }
}
