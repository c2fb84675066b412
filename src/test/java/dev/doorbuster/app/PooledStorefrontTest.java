package dev.doorbuster.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import dev.doorbuster.app.StorefrontConfig.PreparedStatements;
import dev.doorbuster.pooler.PgBouncerBinary;
import dev.doorbuster.pooler.PgBouncerConfig;
import dev.doorbuster.pooler.PgBouncerServer;
import dev.doorbuster.pooler.PoolMode;
import dev.doorbuster.process.DoorbusterHome;
import dev.doorbuster.process.ServerUser;
import dev.doorbuster.tools.Concurrently;
import dev.doorbuster.tools.Required;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The storefront behind a real PgBouncer in transaction mode, with more client connections (its pools) than the
 * pooler has server connections, so that consecutive transactions of one client connection land on different server
 * connections. With the driver's default, a statement named on one server connection is missing on the next: the
 * answers fail. With {@code --prepared-statements unnamed} every answer is right, and {@code /metrics} says which mode
 * the storefront runs in.
 */
class PooledStorefrontTest {
    private static final int SERVER_CONNECTIONS = 2;
    private static final int CLIENTS = 8;
    private static final int REQUESTS_EACH = 25;
    /** The storefront's default request bound, its statement_timeout. */
    private static final int REQUEST_BOUND_MS = 5000;
    private static StorefrontFixture fixture;
    private static PgBouncerServer pooler;
    private static Path scratch;

    @BeforeAll
    static void start() throws Exception {
        Required.assume(PgBouncerBinary.available(), PgBouncerBinary.missingMessage());
        fixture = StorefrontFixture.start();
        // Under the Doorbuster home, which the servers' user can reach (a @TempDir under /tmp is root's alone).
        scratch = Files.createDirectories(DoorbusterHome.get().resolve("pooled-storefront-" + UUID.randomUUID()));
        // The alias is the database's own name, so the storefront's URLs differ from the direct ones by address only.
        // The storefront asks for its statement_timeout at login ("options"), which PgBouncer 1.18 refuses ("unsupported
        // startup parameter: options"): the pooler ignores it and gives every server connection the same bound.
        pooler = PgBouncerServer.start("pooler", PgBouncerBinary.resolve(), ServerUser.detect(), "postgres",
                scratch.resolve("pgbouncer"), null, new PgBouncerConfig(PoolMode.TRANSACTION, 200, SERVER_CONNECTIONS,
                        Map.of(StorefrontFixture.DB, new PgBouncerConfig.Target(fixture.primary().address(),
                                StorefrontFixture.DB)),
                        List.of(PgBouncerConfig.EXTRA_FLOAT_DIGITS, PgBouncerConfig.OPTIONS),
                        Map.of("statement_timeout", Integer.toString(REQUEST_BOUND_MS))));
    }

    @AfterAll
    static void stop() throws Exception {
        if (pooler != null) {
            pooler.close();
        }
        if (fixture != null) {
            fixture.close();
        }
        if (scratch != null) {
            try (Stream<Path> tree = Files.walk(scratch)) {
                tree.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static Http storefront(PreparedStatements mode) {
        String pooled = "jdbc:postgresql://127.0.0.1:" + pooler.address().getPort() + "/" + StorefrontFixture.DB;
        return new Http(fixture.app(b -> b.writerUrl(pooled).readerUrl(pooled).writerPoolSize(CLIENTS / 2)
                .readerPoolSize(CLIENTS / 2).requestTimeoutMs(REQUEST_BOUND_MS).preparedStatements(mode)).url());
    }

    /** Product pages from {@link #CLIENTS} threads at once: each status answered, counted. */
    private static Map<Integer, Integer> browse(Http http) throws Exception {
        AtomicInteger product = new AtomicInteger();
        return Concurrently.countStatuses(CLIENTS, (thread, seen) -> {
            for (int i = 0; i < REQUESTS_EACH; i++) {
                seen.accept(http.get("/products/" + (1 + product.getAndIncrement() % StorefrontFixture.PRODUCTS))
                        .status());
            }
        });
    }

    @Test
    void theDriversNamedStatementsFailBehindATransactionPooler() throws Exception {
        Http http = storefront(PreparedStatements.SERVER);
        Map<Integer, Integer> statuses = browse(http);
        int failed = statuses.entrySet().stream().filter(e -> e.getKey() >= 500).mapToInt(Map.Entry::getValue).sum();
        assertTrue(failed > 0, "a statement named on one server connection was missing on another: " + statuses);
        String metrics = http.get("/metrics").body();
        assertEquals(1.0, Http.metric(metrics, "storefront_db_prepared_statements{mode=\"server\"}"));
        // Each failed answer was a database error the storefront counted by its SQLSTATE: a statement name missing on
        // this server connection (26000) or already taken on it by another client's (42P05).
        Map<String, Double> bySqlState = errorsBySqlState(metrics);
        assertEquals(failed, bySqlState.values().stream().mapToDouble(Double::doubleValue).sum(),
                "one counted error per failed answer: " + bySqlState);
        assertTrue(Set.of("26000", "42P05").containsAll(bySqlState.keySet()), "the broken statements' SQLSTATEs: "
                + bySqlState);
    }

    private static final java.util.regex.Pattern DB_ERRORS = java.util.regex.Pattern.compile(
            "(?m)^" + CacheMeters.series(DatabaseErrorMeters.ERRORS) + "\\{(.*)} (\\S+)$");

    /** {@code storefront_db_errors_total} summed by its SQLSTATE tag, from a scrape of {@code /metrics}. */
    private static Map<String, Double> errorsBySqlState(String metrics) {
        Map<String, Double> states = new java.util.TreeMap<>();
        java.util.regex.Matcher m = DB_ERRORS.matcher(metrics);
        while (m.find()) {
            java.util.regex.Matcher state = java.util.regex.Pattern.compile(DatabaseErrorMeters.SQLSTATE + "=\"([^\"]+)\"")
                    .matcher(m.group(1));
            if (state.find() && Double.parseDouble(m.group(2)) > 0) {
                states.merge(state.group(1), Double.parseDouble(m.group(2)), Double::sum);
            }
        }
        return states;
    }

    @Test
    void unnamedStatementsAreAnsweredBehindATransactionPooler() throws Exception {
        Http http = storefront(PreparedStatements.UNNAMED);
        Map<Integer, Integer> statuses = browse(http);
        assertEquals(Map.of(200, CLIENTS * REQUESTS_EACH), statuses, "every product page answered");
        assertEquals(Map.of(), errorsBySqlState(http.get("/metrics").body()), "no database error counted");
        assertEquals(1.0, Http.metric(http.get("/metrics").body(),
                "storefront_db_prepared_statements{mode=\"unnamed\"}"));
        assertTrue(pooler.pools().stream().allMatch(p -> p.servers() <= SERVER_CONNECTIONS), "the pooler kept to its "
                + SERVER_CONNECTIONS + " server connections: " + pooler.pools());
    }

    /**
     * A pooler with no room left refuses a login itself: PgBouncer 1.18 answers "no more connections allowed
     * (max_client_conn)" with SQLSTATE 08P01, the code of all its own errors. The pools' connection source counts that
     * attempt as a refusal, and a failed attempt that is no refusal (a pooler that is not there) as a plain failure.
     */
    @Test
    void aFullPoolerRefusesALoginAndThePoolsCountItAsARefusal() throws Exception {
        io.micrometer.core.instrument.simple.SimpleMeterRegistry meters =
                new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
        java.util.function.Function<java.sql.SQLException, io.micrometer.core.instrument.Counter> counted = e ->
                meters.counter("attempts", "sqlstate", String.valueOf(e.getSQLState()),
                        "refused", Boolean.toString(DatabaseErrorMeters.isRefusal(e.getSQLState(), e.getMessage())));
        java.util.Properties login = new java.util.Properties();
        login.setProperty("user", "postgres");
        login.setProperty("connectTimeout", "5");
        try (PgBouncerServer full = PgBouncerServer.start("full", PgBouncerBinary.resolve(), ServerUser.detect(),
                "postgres", scratch.resolve("pgbouncer-full"), null, new PgBouncerConfig(PoolMode.TRANSACTION, 1,
                        SERVER_CONNECTIONS, Map.of(StorefrontFixture.DB, new PgBouncerConfig.Target(
                                fixture.primary().address(), StorefrontFixture.DB)),
                        List.of(PgBouncerConfig.EXTRA_FLOAT_DIGITS), Map.of()))) {
            CountedConnections source = new CountedConnections("jdbc:postgresql://127.0.0.1:" + full.address().getPort()
                    + "/" + StorefrontFixture.DB, login, counted);
            try (java.sql.Connection first = source.getConnection()) {
                java.sql.SQLException refused = org.junit.jupiter.api.Assertions.assertThrows(
                        java.sql.SQLException.class, source::getConnection, "max_client_conn 1: no room for a second");
                assertTrue(refused.getMessage().contains("no more connections allowed"), refused.getMessage());
                assertEquals(1, meters.counter("attempts", "sqlstate", "08P01", "refused", "true").count());
                assertEquals(1, source.failed());
            }
            int port = full.address().getPort();
            full.close();
            CountedConnections gone = new CountedConnections("jdbc:postgresql://127.0.0.1:" + port + "/"
                    + StorefrontFixture.DB, login, counted);
            org.junit.jupiter.api.Assertions.assertThrows(java.sql.SQLException.class, gone::getConnection);
            assertEquals(1, meters.find("attempts").tag("refused", "false").counters().stream()
                    .mapToDouble(io.micrometer.core.instrument.Counter::count).sum(), "nobody listening: no refusal");
        }
    }

    @Test
    void theRequestBoundReachesTheServerThroughThePooler() throws Exception {
        try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:postgresql://127.0.0.1:"
                + pooler.address().getPort() + "/" + StorefrontFixture.DB + "?user=postgres&prepareThreshold=0");
             java.sql.Statement s = c.createStatement(); java.sql.ResultSet rs = s.executeQuery("SHOW statement_timeout")) {
            rs.next();
            assertEquals("5s", rs.getString(1), "the server connection's own statement_timeout");
        }
    }
}
