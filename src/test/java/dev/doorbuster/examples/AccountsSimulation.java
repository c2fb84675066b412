package dev.doorbuster.examples;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.http.HttpDsl.http;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doorbuster.chaos.FaultSchedule;
import dev.doorbuster.chaos.ReplicationLag;
import dev.doorbuster.load.Consistency;
import dev.doorbuster.load.LoadProfile;
import dev.doorbuster.load.Run;
import dev.doorbuster.load.Verdicts;
import dev.doorbuster.verdict.JudgingMode;
import dev.doorbuster.verdict.consistency.Observation;
import dev.doorbuster.verdict.consistency.WriteLookup;
import io.gatling.javaapi.core.ChainBuilder;
import io.gatling.javaapi.core.Session;
import io.gatling.javaapi.core.Simulation;

/**
 * The example of docs/writing-simulations.md ("Checking your own API"), compiled with the tests so it stays true. Not run: it needs an
 * accounts service whose {@code PUT /accounts/{id}/nickname} stores its {@code Idempotency-Key} in a table
 * {@code request_keys} and answers {@code {"version": n, "nickname": "..."}}.
 */
public class AccountsSimulation extends Simulation {
    private static final ObjectMapper JSON = new ObjectMapper();

    Run run = Run.start("AccountsSimulation", new LoadProfile().hold("steady", 5, Duration.ofMinutes(2)),
            new FaultSchedule().at(Duration.ofSeconds(30), ReplicationLag.lagMs(500), Duration.ofSeconds(60)),
            JudgingMode.STANDARD);
    Consistency consistency = run.consistency();
    Consistency.WriteKind nickname = consistency.kind("nickname change",
            WriteLookup.sql("SELECT key FROM request_keys WHERE key = ANY(?)"));

    Function<Session, String> account = s -> "account:" + s.getLong("accountId");
    Consistency.Reader nicknameOf = (answer, s) -> {
        if (answer.status() == 404) {
            return Observation.absent();
        }
        if (answer.status() != 200) {
            return null; // an error is not a read
        }
        JsonNode body = parse(answer.body());
        return Observation.of(body.get("version").asLong(), body.get("nickname").asText());
    };

    ChainBuilder changeAndComeBack = consistency.write(nickname, "nickname: change", account,
                    s -> "nick-" + s.getString(Consistency.WRITE_ID), // the value about to be written
                    http("nickname: change").put("/accounts/#{accountId}/nickname")
                            .header("Idempotency-Key", Consistency.WRITE_ID_EL)
                            .body(StringBody("{\"nickname\": \"nick-#{doorbusterWriteId}\"}")),
                    nicknameOf)
            .exec(consistency.read(nickname, "account: read back", account,
                    http("account: read back").get("/accounts/#{accountId}"), nicknameOf))
            .pause(Duration.ofSeconds(3))
            .exec(consistency.read(nickname, "account: come back", account,
                    http("account: come back").get("/accounts/#{accountId}"), nicknameOf));

    {
        setUp(run.scenario("account holders").feed(accounts()).exec(changeAndComeBack)
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

    private static Iterator<Map<String, Object>> accounts() {
        return Stream.generate(() -> Map.<String, Object>of("accountId",
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
