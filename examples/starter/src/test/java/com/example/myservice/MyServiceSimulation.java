package com.example.myservice;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doorbuster.chaos.ConnectionReset;
import dev.doorbuster.chaos.DbLatency;
import dev.doorbuster.chaos.Fault;
import dev.doorbuster.chaos.FaultSchedule;
import dev.doorbuster.chaos.LinkTarget;
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
 * Users who rename their profile and come back to it, on a service that stores profiles in PostgreSQL.
 *
 * <p><b>The API it assumes</b> (change the requests and {@link #profileIn} to yours):
 * {@code PUT /profiles/{id}} with a JSON body {@code {"displayName": "..."}} creates or updates the profile, and
 * stores the request's {@code Idempotency-Key} header in a table {@code request_keys} in the same transaction;
 * {@code GET /profiles/{id}} answers {@code {"version": n, "displayName": "..."}} (404 when there is none), where
 * {@code version} grows with every update.
 *
 * <p><b>Parameters</b> ({@code -D...} on the Maven command line):
 * <ul>
 *   <li>{@code my.rate} new users a second (default 5), {@code my.duration} how long (default 3m);</li>
 *   <li>{@code my.soak=true} judges as a soak (adds the drift and leak checks; give it hours: {@code my.duration=2h});</li>
 *   <li>{@code faults=false} runs without faults, for an environment that grants none;
 *       {@code faults.replication=false} leaves replication lag out, for one without a proxy on the replication
 *       stream (an external environment, often). The rest of the rotation, a slow database and connection resets,
 *       needs a proxy on the service's database links.</li>
 * </ul>
 */
public class MyServiceSimulation extends Simulation {
    static final double RATE = Parameters.positive("my.rate", 5);
    static final Duration LENGTH = Parameters.duration("my.duration", Duration.ofMinutes(3));
    static final boolean SOAK = Parameters.flag("my.soak", false);
    static final boolean FAULTS = Parameters.flag("faults", true);
    static final boolean REPLICATION_FAULTS = Parameters.flag("faults.replication", true);

    private static final ObjectMapper JSON = new ObjectMapper();

    /** A fault every tenth of the run, each lasting a fifth of that; the first after a twentieth, once warm. */
    static FaultSchedule faults() {
        if (!FAULTS) {
            return new FaultSchedule();
        }
        Duration period = LENGTH.dividedBy(10);
        return new FaultSchedule().every(period, LENGTH.dividedBy(20), LENGTH, new Rotation()::next, period.dividedBy(5));
    }

    Run run = Run.start("MyServiceSimulation", new LoadProfile().hold("steady", RATE, LENGTH), faults(),
            SOAK ? JudgingMode.SOAK : JudgingMode.STANDARD);
    Consistency consistency = run.consistency();

    /** Renames, found again after the run by the Idempotency-Key the service stored with each. */
    Consistency.WriteKind rename = consistency.kind("profile rename",
            WriteLookup.sql("SELECT key FROM request_keys WHERE key = ANY(?)"));

    Function<Session, String> profile = s -> "profile:" + s.getLong("profileId");

    /** The version and name a profile answer shows; absent for a 404; null (not a read) for an error. */
    Consistency.Reader profileIn = (answer, s) -> {
        if (answer.status() == 404) {
            return Observation.absent();
        }
        if (answer.status() < 200 || answer.status() >= 300) {
            return null;
        }
        JsonNode body = parse(answer.body());
        return Observation.of(body.path("version").asLong(), body.path("displayName").asText());
    };

    ChainBuilder renameAndComeBack = consistency.write(rename, "profile: rename", profile,
                    s -> "name-" + s.getString(Consistency.WRITE_ID),
                    http("profile: rename").put("/profiles/#{profileId}")
                            .header("Content-Type", "application/json")
                            .header("Idempotency-Key", Consistency.WRITE_ID_EL)
                            .body(StringBody("{\"displayName\": \"name-" + Consistency.WRITE_ID_EL + "\"}")),
                    profileIn)
            .exec(consistency.read(rename, "profile: read own rename", profile,
                    http("profile: read own rename").get("/profiles/#{profileId}").check(status().in(200, 404)),
                    profileIn))
            .pause(Duration.ofSeconds(2))
            .exec(consistency.read(rename, "profile: come back", profile,
                    http("profile: come back").get("/profiles/#{profileId}").check(status().in(200, 404)),
                    profileIn));

    {
        setUp(run.scenario("profile owners").feed(profileIds()).exec(renameAndComeBack)
                .injectOpen(run.profile().injection()).andThen(Verdicts.closingScenario(run)))
                .protocols(http.baseUrl(run.appUrl().toString()))
                .assertions(Verdicts.assertion());
    }

    @Override
    public void before() {
        run.beginLoad();
    }

    @Override
    public void after() {
        run.close();
    }

    /** Replication lag (unless left out), a slow database, connection resets, and again. */
    private static final class Rotation {
        private final List<Fault> turns = new ArrayList<>();
        private final AtomicInteger next = new AtomicInteger();

        Rotation() {
            if (REPLICATION_FAULTS) {
                turns.add(ReplicationLag.lagMs(300).jitterMs(50));
            }
            turns.add(new DbLatency(LinkTarget.ALL, 80, 20));
            turns.add(new ConnectionReset(LinkTarget.ALL));
        }

        Fault next() {
            return turns.get(next.getAndIncrement() % turns.size());
        }
    }

    private static Iterator<Map<String, Object>> profileIds() {
        return Stream.generate(() -> Map.<String, Object>of("profileId",
                1 + ThreadLocalRandom.current().nextInt(10_000))).iterator();
    }

    private static JsonNode parse(String body) {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
