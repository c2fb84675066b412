package dev.doorbuster.examples;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.jsonPath;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import java.io.IOException;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doorbuster.chaos.FaultSchedule;
import dev.doorbuster.chaos.PrimaryFailover;
import dev.doorbuster.chaos.ReplicationCut;
import dev.doorbuster.chaos.ReplicationLag;
import dev.doorbuster.load.Consistency;
import dev.doorbuster.load.LoadProfile;
import dev.doorbuster.load.Parameters;
import dev.doorbuster.load.Run;
import dev.doorbuster.load.Verdicts;
import dev.doorbuster.verdict.JudgingMode;
import dev.doorbuster.verdict.consistency.Observation;
import dev.doorbuster.verdict.consistency.WriteLookup;
import io.gatling.javaapi.core.ChainBuilder;
import io.gatling.javaapi.core.Session;
import io.gatling.javaapi.core.Simulation;

/**
 * Shoppers placing orders on the Spring Boot example (examples/spring-shop) and coming back to them: does each see
 * the order they just placed, and are acknowledged orders still there after the primary dies?
 *
 * <p><b>Load</b>: {@value #SHOPPERS_PER_SECOND} shoppers arrive each second ({@code -Dload.scale} multiplies it) for
 * {@code -Dload.minutes} (default 1). Each places one order ({@code POST /orders} with an {@code Idempotency-Key}),
 * reads it back at once ({@code GET /orders/{id}}), browses for {@link #BROWSING} and reads it again.
 * <p><b>Faults</b> ({@code -Dshop.faults}):
 * <ul>
 *   <li>{@code replication-lag} (default): from 10% to 90% of the run the replica receives the primary's changes
 *       {@code -Dlag.ms} (default {@value #LAG_MS_DEFAULT}) late. A shop that reads a shopper's own order from the
 *       replica ({@code SHOP_READS=replica}) answers "no such order" right after placing it: read-your-writes FAILs.
 *       One that reads from the primary ({@code SHOP_READS=primary}) passes.</li>
 *   <li>{@code cut-then-failover}: at 15% the replication link is cut; at half the run the primary is killed and the
 *       replica, which missed everything since the cut, is promoted. With asynchronous replication
 *       ({@code postgres.synchronousCommit: off}) every order acknowledged in between is gone: lost acknowledged
 *       writes FAILs, naming them.</li>
 *   <li>{@code none}: load only.</li>
 * </ul>
 * <p><b>Passes when</b> no read misses the shopper's own order or goes back in time, no acknowledged order is lost
 * (looked up after the run by its idempotency key in the shop's own table), and the common checks hold.
 * <p>Run it: {@code mvn gatling:test -Dgatling.simulationClass=dev.doorbuster.examples.SpringShopSimulation
 * -Ddoorbuster.env=examples/spring-shop/doorbuster-docker.json} (see examples/spring-shop/README.md).
 */
public class SpringShopSimulation extends Simulation {
    static final double SHOPPERS_PER_SECOND = 8;
    static final Duration BROWSING = Duration.ofSeconds(2);
    static final long LAG_MS_DEFAULT = 800;
    static final long LAG_JITTER_MS = 50;
    static final double LAG_FROM = 0.1;
    static final double LAG_UNTIL = 0.9;
    static final double CUT_AT = 0.15;
    static final double FAILOVER_AT = 0.5;
    static final double FAILED_OVER_FOR = 0.3;
    static final String FAULTS = System.getProperty("shop.faults", "replication-lag");
    static final List<String> FAULT_CHOICES = List.of("replication-lag", "cut-then-failover", "none");
    static final long LAG_MS = (long) Parameters.positive("lag.ms", LAG_MS_DEFAULT);
    static final Duration LENGTH = Duration.ofMillis((long) (Parameters.positive("load.minutes", 1) * 60_000));
    static final double SCALE = Parameters.positive("load.scale", 1);
    static final List<String> SKUS = List.of("tv-55", "console-x", "headphones", "blender", "drone");
    private static final ObjectMapper JSON = new ObjectMapper();

    final LoadProfile load = new LoadProfile().hold("steady", SHOPPERS_PER_SECOND * SCALE, LENGTH);
    final Run run = Run.start("SpringShopSimulation", load, faults(), JudgingMode.STANDARD);
    final Consistency consistency = run.consistency();

    /** An order is found after the run by the key its shopper chose, in the shop's own table. */
    final Consistency.WriteKind order = consistency.kind("order",
            WriteLookup.sql("SELECT idempotency_key FROM orders WHERE idempotency_key = ANY(?)"));
    /** Each order is its own key, named by its idempotency key: written once, read back twice. */
    final Function<Session, String> orderKey = s -> "order:" + s.getString(Consistency.WRITE_ID);

    /**
     * What an answer shows of the shopper's order: 404 says it does not exist; an order with another idempotency key
     * under the same id (a promoted replica hands out ids again) is not this shopper's order either.
     */
    final Consistency.Reader orderOf = (answer, s) -> {
        if (answer.status() == 404) {
            return Observation.absent();
        }
        if (answer.status() != 200 && answer.status() != 201) {
            return null; // an error answer is not a read
        }
        JsonNode body = parse(answer.body());
        if (body == null) {
            return null; // not the shop's JSON: not a read
        }
        String key = body.path("idempotencyKey").asText();
        if (!key.equals(s.getString(Consistency.WRITE_ID))) {
            return Observation.absent();
        }
        return Observation.of(body.path("version").asLong(), key);
    };

    final ChainBuilder placeAndComeBack = exec(s -> s.remove("orderId"))
            .exec(consistency.write(order, "order: place", orderKey, s -> s.getString(Consistency.WRITE_ID),
                    http("order: place").post("/orders")
                            .header("Idempotency-Key", Consistency.WRITE_ID_EL)
                            .header("Content-Type", "application/json")
                            .body(StringBody("{\"shopperId\": #{shopperId}, \"sku\": \"#{sku}\", \"quantity\": 1}"))
                            .check(jsonPath("$.id").optional().saveAs("orderId")),
                    orderOf))
            .doIf(s -> s.contains("orderId")).then(
                    exec(consistency.read(order, "order: read back", orderKey,
                            http("order: read back").get("/orders/#{orderId}").check(status().in(200, 404)), orderOf))
                    .pause(BROWSING)
                    .exec(consistency.read(order, "order: come back", orderKey,
                            http("order: come back").get("/orders/#{orderId}").check(status().in(200, 404)), orderOf)));

    {
        setUp(run.scenario("shoppers").feed(shoppers()).exec(placeAndComeBack)
                .injectOpen(run.profile().injection()).andThen(Verdicts.closingScenario(run)))
                .protocols(http.baseUrl(run.appUrl().toString()))
                .assertions(Verdicts.assertion());
    }

    static FaultSchedule faults() {
        return switch (FAULTS) {
            case "replication-lag" -> new FaultSchedule().at(share(LAG_FROM),
                    ReplicationLag.lagMs(LAG_MS).jitterMs(LAG_JITTER_MS), share(LAG_UNTIL - LAG_FROM));
            case "cut-then-failover" -> new FaultSchedule()
                    .at(share(CUT_AT), new ReplicationCut(), share(1 - 2 * CUT_AT))
                    .at(share(FAILOVER_AT), new PrimaryFailover(false), share(FAILED_OVER_FOR));
            case "none" -> new FaultSchedule();
            default -> throw new IllegalArgumentException("-Dshop.faults=" + FAULTS + " is not one of " + FAULT_CHOICES);
        };
    }

    private static Duration share(double fraction) {
        return Duration.ofMillis((long) (LENGTH.toMillis() * fraction));
    }

    @Override
    public void before() {
        run.beginLoad();
    }

    @Override
    public void after() {
        run.close();
    }

    private static Iterator<Map<String, Object>> shoppers() {
        return Stream.generate(() -> Map.<String, Object>of(
                "shopperId", 1 + ThreadLocalRandom.current().nextInt(100_000),
                "sku", SKUS.get(ThreadLocalRandom.current().nextInt(SKUS.size())))).iterator();
    }

    private static JsonNode parse(String body) {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            return null;
        }
    }
}
