package dev.doorbuster.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doorbuster.chaos.ChaosRunner;
import dev.doorbuster.chaos.FaultTimeline;
import dev.doorbuster.process.ProcessRegistry;
import dev.doorbuster.tools.SharedResources;

/**
 * What the forked controls share: a home of their own for each run, the check that nothing of a run is left
 * running, the run folder's files, and the oracles that are independent of the code under test (the fault
 * schedule and the client's own history).
 *
 * <p>The integration tier runs the timed controls alone, then the rest several at a time: see {@link SharedResources}.
 * Public for the controls of the worked examples ({@code dev.doorbuster.examples}).
 */
public final class ControlRuns {
    static final String TIMED = SharedResources.TIMED;
    /**
     * The P99 budget (overall, per phase, per second) of the known-good twins that run beside two other controls: what
     * they are about is a count (stale reads, lost writes, database reads), and on two shared cores a cold JVM's first
     * requests or a refill behind a deliberately slow database must not decide them. The timed execution judges the
     * default budgets, alone on the machine. Ten seconds, because three were broken twice by a busy machine alone in
     * CI: a starved standby's profile updates at 7.6 s (2026-12-06), the Spring shop's order placing at 3.1 s
     * (2026-12-07), each in a run that counted nothing wrong.
     */
    public static final String SHARED_MACHINE_P99_MS = "10000";

    /**
     * {@link #SHARED_MACHINE_P99_MS} for every latency budget a twin is judged on: over the run and each phase, each
     * second, and while its faults are on (a fault's window on a busy machine is as slow as the rest). A control whose
     * subject is one of them sets that one after these.
     */
    public static Map<String, String> sharedMachineLatencyBudgets() {
        return Map.of(dev.doorbuster.topology.SloBudget.P99_MS.path(), SHARED_MACHINE_P99_MS,
                dev.doorbuster.topology.SloBudget.WINDOW_P99_MS.path(), SHARED_MACHINE_P99_MS,
                dev.doorbuster.topology.SloBudget.P99_MS_DURING_FAULTS.path(), SHARED_MACHINE_P99_MS);
    }

    private ControlRuns() {
    }

    /** A run's own {@code doorbuster.home}, under /var/tmp (PostgreSQL may run as another user and must reach it). */
    static Path newHome(String prefix) throws IOException {
        Path home = Files.createTempDirectory(Path.of("/var/tmp"), prefix);
        Files.setPosixFilePermissions(home, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        return home;
    }

    /** Deletes {@code home} and fails if any process of the run under it is still alive. */
    static void assertNothingLeftRunning(Path home) throws IOException {
        List<Long> left = leftovers(home.toString());
        deleteTree(home);
        assertEquals(List.of(), left, "processes of the run still alive: " + left.stream()
                .map(pid -> pid + " " + String.join(" ", ProcessRegistry.commandLine(pid))).toList());
    }

    /** Live servers, app JVMs and Gatling JVMs of the runs under {@code home}, judged by their command lines. */
    public static List<Long> leftovers(String home) {
        try (var procs = Files.list(Path.of("/proc"))) {
            return procs.map(p -> p.getFileName().toString()).filter(n -> n.chars().allMatch(Character::isDigit))
                    .map(Long::parseLong).filter(pid -> pid != ProcessHandle.current().pid())
                    .filter(pid -> {
                        List<String> args = ProcessRegistry.commandLine(pid);
                        return !ProcessRegistry.isZombie(pid) && args.stream().anyMatch(a -> a.contains(home));
                    }).toList();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (var tree = Files.walk(root)) {
            for (Path p : (Iterable<Path>) tree.sorted(java.util.Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** The file {@code name} of the run folder under {@code reports}. */
    public static Path reportFile(Path reports, String name) throws IOException {
        try (var files = Files.walk(reports, 2)) {
            return files.filter(f -> f.getFileName().toString().equals(name) && !f.getParent().equals(reports))
                    .findFirst().orElseThrow(() -> new AssertionError(name + " missing under " + reports));
        }
    }

    /** The end of a run's console and its verdict's summary, for failure messages. */
    public static String tail(ForkedGatling.Result run) {
        String[] lines = run.output().split("\n");
        return String.join("\n", List.of(lines).subList(Math.max(0, lines.length - 60), lines.length))
                + (run.verdict() == null ? "" : "\n" + run.verdict().summary());
    }

    /**
     * The sum of the counts in Gatling's own final error table ({@code > message   count (share%)}) of the errors
     * whose message contains {@code text}: what the load generator saw, counted by Gatling, not by Doorbuster.
     */
    static long gatlingErrors(ForkedGatling.Result run, String text) {
        String output = run.output();
        int table = output.lastIndexOf("---- Errors");
        assertTrue(table >= 0, "Gatling printed an error table\n" + tail(run));
        int end = output.indexOf("=====", table);
        long sum = 0;
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^> (.*?)\\s+(\\d+)\\s+\\(\\s*[\\d.]+%\\)\\s*$")
                .matcher(output.substring(table, end < 0 ? output.length() : end));
        while (m.find()) {
            if (m.group(1).contains(text)) {
                sum += Long.parseLong(m.group(2));
            }
        }
        return sum;
    }

    /** The seconds of one strip of chaos.html in {@code state} (pass, fail, none). */
    static List<Integer> stripSeconds(String html, String check, String state) {
        String escaped = check.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
        int start = html.indexOf("data-check=\"" + escaped + "\"");
        assertTrue(start >= 0, "a strip for " + check);
        String strip = html.substring(start, html.indexOf("</g>", start));
        java.util.regex.Matcher m = java.util.regex.Pattern
                .compile("data-second=\"(\\d+)\" data-state=\"" + state + "\"").matcher(strip);
        List<Integer> seconds = new ArrayList<>();
        while (m.find()) {
            seconds.add(Integer.parseInt(m.group(1)));
        }
        return seconds;
    }

    // ---- the fault schedule's oracle of lost writes ---------------------------------------------------------------

    /**
     * The oracle of the lost-write controls, independent of the audit: orders the client saw acknowledged between
     * the replication cut taking hold and the primary's kill (from the run's history and fault timeline) can exist
     * nowhere else, so at least 90% of them must be reported lost. And the other way: an order acknowledged well
     * before the cut, or by the promoted replica after the promotion, is on the new primary, so none of them may be
     * reported lost; every order reported lost was acknowledged inside the window the schedule opens.
     */
    public static void assertTheScheduleCertainOrdersAreReportedLost(ForkedGatling.Result run, Path reports) throws IOException {
        Path history = reportFile(reports, Run.HISTORY_FILE);
        double cutAt = inPlaceAt(run, "ReplicationCut");
        double killAt = injectedAt(run, "PrimaryFailover");
        double promotedAt = effectAt(run, "PrimaryFailover", " promoted ");
        Map<String, Double> ackedOrders = acknowledged(history, "order:");
        Set<String> certain = keysAcknowledgedBetween(ackedOrders, cutAt + 0.2, killAt);
        Set<String> before = keysAcknowledgedBetween(ackedOrders, 0, cutAt - 0.5);
        Set<String> after = keysAcknowledgedBetween(ackedOrders, promotedAt + 0.5, Double.MAX_VALUE);
        assertTrue(certain.size() >= 5, "orders were acknowledged between cut and kill: " + certain.size());
        // The upper bound must have something to bite on: orders acknowledged outside the window (before the cut, or
        // after the promotion; on a busy machine the first checkouts may come only after the cut).
        assertTrue(before.size() + after.size() >= 3, "orders acknowledged before the cut (" + before.size()
                + ") or after the promotion (" + after.size() + ")");
        Set<String> lost = new HashSet<>();
        run.verdict().writes().kinds().forEach(k -> k.lostWrites().stream().filter(n -> n.key().startsWith("order:"))
                .forEach(n -> lost.add(n.key())));
        long found = certain.stream().filter(lost::contains).count();
        assertTrue(found >= Math.ceil(0.9 * certain.size()), found + " of the " + certain.size()
                + " orders the schedule makes certain to be lost were reported lost");
        assertEquals(Set.of(), intersection(before, lost), "no order acknowledged before the cut is reported lost");
        assertEquals(Set.of(), intersection(after, lost), "no order acknowledged after the promotion ("
                + promotedAt + " s) is reported lost");
        Set<String> window = keysAcknowledgedBetween(ackedOrders, cutAt - 0.5, promotedAt + 0.5);
        Set<String> outside = new HashSet<>(lost);
        outside.removeAll(window);
        assertEquals(Set.of(), outside, "every order reported lost was acknowledged between the cut (" + cutAt
                + " s) and the promotion (" + promotedAt + " s)");
    }

    private static Set<String> intersection(Set<String> a, Set<String> b) {
        return a.stream().filter(b::contains).collect(Collectors.toSet());
    }

    /**
     * When {@code fault}'s injection completed (its "in place" note), in run seconds: what a fault makes certain is
     * certain from then, not from when it was asked for (a proxy call takes a while on a loaded machine).
     */
    public static double inPlaceAt(ForkedGatling.Result run, String fault) {
        return effectAt(run, fault, ChaosRunner.IN_PLACE);
    }

    /** When {@code fault} noted an effect whose message contains {@code text}, in run seconds. */
    static double effectAt(ForkedGatling.Result run, String fault, String text) {
        return run.verdict().timeline().stream().filter(e -> e.fault().endsWith(fault)
                        && e.kind() == FaultTimeline.Kind.EFFECT && e.message().contains(text))
                .findFirst().orElseThrow(() -> new AssertionError("no '" + text.strip() + "' note of " + fault
                        + " in the timeline"))
                .atMillis() / 1000.0;
    }

    public static double injectedAt(ForkedGatling.Result run, String fault) {
        return run.verdict().timeline().stream().filter(e -> e.fault().endsWith(fault)
                        && e.kind() == FaultTimeline.Kind.INJECT)
                .findFirst().orElseThrow(() -> new AssertionError("no " + fault + " in the timeline")).atMillis() / 1000.0;
    }

    /** Keys starting with {@code prefix} of writes the client saw acknowledged, with the run second of the answer. */
    static Map<String, Double> acknowledged(Path history, String prefix) throws IOException {
        Map<String, Double> acked = new HashMap<>();
        for (JsonNode op : new ObjectMapper().readTree(history.toFile())) {
            JsonNode mop = op.path("value").path(0);
            if (op.path("type").asText().equals("ok") && mop.path(0).asText().equals("w")
                    && mop.path(1).asText().startsWith(prefix)) {
                acked.put(mop.path(1).asText(), op.path("time").asLong() / 1e9);
            }
        }
        return acked;
    }

    static Set<String> keysAcknowledgedBetween(Map<String, Double> acked, double from, double to) {
        Set<String> keys = new HashSet<>();
        acked.forEach((key, at) -> {
            if (at >= from && at < to) {
                keys.add(key);
            }
        });
        return keys;
    }

    // ---- the client's history as an oracle of the session checks ------------------------------------------------

    /**
     * Stale reads counted straight from the client's operation history ({@code history.json}, Elle's rw-register
     * form, values numbered per key in the order they were written), by this test's own reading of it: a process's
     * read that returns nothing or an older value than that process's last acknowledged write of the key broke
     * read-your-writes; one older than a value the same process had already read broke monotonic reads (a read
     * can break both).
     *
     * <p>After a request that got no answer (an {@code info}), Elle's convention makes the user go on as a new
     * process, while the session checks go on judging that user's session: reads in such continued processes
     * ({@code continuedReads}) may count as violations in the verdict that the history alone cannot show. So the
     * verdict's count lies between the history's and the history's plus those reads; with no unanswered request
     * at all, the two are equal.
     */
    public record HistoryCount(long readYourWrites, long monotonic, long reads, long continuedReads) {
        /** Processes numbered from here (within a shard's range) are users going on after an unanswered request. */
        private static final long CONTINUED_PROCESSES = 1_000_000_000L;

        public static HistoryCount of(Path history) throws IOException {
            Map<String, Long> written = new HashMap<>();
            Map<String, Long> seen = new HashMap<>();
            long ryw = 0;
            long monotonic = 0;
            long reads = 0;
            long continued = 0;
            List<JsonNode> ops = new ArrayList<>();
            new ObjectMapper().readTree(history.toFile()).forEach(ops::add);
            ops.sort(java.util.Comparator.comparingLong(op -> op.path("index").asLong()));
            for (JsonNode op : ops) {
                if (!op.path("type").asText().equals("ok")) {
                    continue;
                }
                JsonNode mop = op.path("value").path(0);
                long process = op.path("process").asLong();
                String processKey = process + "/" + mop.path(1).asText();
                long value = mop.path(2).isNull() ? 0 : mop.path(2).asLong();
                if (mop.path(0).asText().equals("w")) {
                    written.merge(processKey, value, Math::max);
                    continue;
                }
                reads++;
                if (process % 1_000_000_000_000L >= CONTINUED_PROCESSES) {
                    continued++;
                }
                Long own = written.get(processKey);
                Long before = seen.get(processKey);
                if (own != null && value < own) {
                    ryw++;
                }
                if (before != null && value < before) {
                    monotonic++;
                }
                seen.merge(processKey, value, Math::max);
            }
            return new HistoryCount(ryw, monotonic, reads, continued);
        }

        /** Asserts that {@code counted} (a check's count) is what this history allows: see the class comment. */
        public void assertAgrees(long fromHistory, double counted, String what) {
            long checked = Math.round(counted);
            if (continuedReads == 0) {
                assertEquals(fromHistory, checked, what + ": the check counts exactly what the client's history shows ("
                        + this + ")");
            } else {
                assertTrue(checked >= fromHistory && checked <= fromHistory + continuedReads, what + ": the check counts "
                        + checked + ", the client's history shows " + fromHistory + " and " + continuedReads
                        + " reads after an unanswered request it cannot judge (" + this + ")");
            }
        }
    }

    /** One doorbuster product as the database's own rows show it after the run. */
    public record ProductRows(long product, long unitsInPlacedOrders, long stockNow) {
        /** Units in orders beyond what left the stock, given the stock it started with. */
        public long oversold(long initialStock) {
            return Math.max(0, unitsInPlacedOrders - (initialStock - stockNow));
        }
    }

    /**
     * The database's own word on products {@code 1..count}, independent of the verdict's accounting: a server is
     * started on the primary's data folder that the run kept ({@code -Dpostgres.keepData=true}, under
     * {@code home}), and the order lines and stock are counted with SQL, then the server is stopped again. The run's
     * orders are those with an idempotency key (every checkout the journeys send carries one); the seeded order
     * history has none.
     */
    static List<ProductRows> productRows(Path home, int count) throws Exception {
        return productRowsOf(theKeptRun(home), count);
    }

    /** {@link #productRows(Path, int)} of one kept run's folder (one of {@link #keptRuns(Path)}). */
    public static List<ProductRows> productRowsOf(Path keptRun, int count) throws Exception {
        return onKeptPrimary(keptRun, c -> {
            try (java.sql.PreparedStatement q = c.prepareStatement("SELECT p.id, p.stock, coalesce((SELECT "
                    + "sum(l.quantity) FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE l.product_id = p.id "
                    + "AND o.status = 'placed' AND o.idempotency_key IS NOT NULL), 0) "
                    + "FROM products p WHERE p.id <= ? ORDER BY p.id")) {
                q.setLong(1, count);
                List<ProductRows> rows = new ArrayList<>();
                try (java.sql.ResultSet rs = q.executeQuery()) {
                    while (rs.next()) {
                        rows.add(new ProductRows(rs.getLong(1), rs.getLong(3), rs.getLong(2)));
                    }
                }
                return rows;
            }
        });
    }

    /**
     * The data folders the runs under {@code home} kept ({@code -Dpostgres.keepData=true}), oldest first: each is
     * named after its run's simulation, start time and PID, so runs of one simulation one after another (a capacity
     * search's plateaus) sort in the order they ran.
     */
    public static List<Path> keptRuns(Path home) throws java.io.IOException {
        try (var runs = Files.list(home.resolve(dev.doorbuster.topology.LocalTopology.KEPT_DATA))) {
            return runs.sorted().toList();
        }
    }

    private static Path theKeptRun(Path home) throws java.io.IOException {
        List<Path> all = keptRuns(home);
        assertEquals(1, all.size(), "one kept run under " + home + ": " + all);
        return all.get(0);
    }

    /** SQL against the storefront's database on the primary of one kept run, started for it and stopped after. */
    private static <T> T onKeptPrimary(Path keptRun, SqlWork<T> work) throws Exception {
        dev.doorbuster.postgres.PgNode primary = new dev.doorbuster.postgres.PgNode("pg1",
                dev.doorbuster.postgres.PgBinaries.resolve(), dev.doorbuster.process.ServerUser.detect(),
                keptRun.resolve("pg1"), 0, null);
        primary.start();
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(
                primary.jdbcUrl(dev.doorbuster.topology.StorefrontLaunch.DATABASE))) {
            return work.run(c);
        } finally {
            primary.stop();
        }
    }

    @FunctionalInterface
    private interface SqlWork<T> {
        T run(java.sql.Connection c) throws java.sql.SQLException;
    }

    /**
     * The database's own count of executions of statements whose normalised text ends with {@code statementEnd}
     * ({@code pg_stat_statements}, saved by the primary when it stopped cleanly), on the primary a run kept
     * ({@code -Dpostgres.keepData=true}): an oracle no code of the harness or the storefront computed.
     */
    static long statementCalls(Path home, String statementEnd) throws Exception {
        return onKeptPrimary(theKeptRun(home), c -> {
            try (java.sql.PreparedStatement q = c.prepareStatement(
                    "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query LIKE ?")) {
                q.setString(1, "%" + statementEnd);
                try (java.sql.ResultSet rs = q.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
    }
}
