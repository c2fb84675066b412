package dev.doorbuster.load;

import static io.gatling.javaapi.core.CoreDsl.atOnceUsers;
import static io.gatling.javaapi.core.CoreDsl.details;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.foreach;
import static io.gatling.javaapi.core.CoreDsl.jsonPath;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.http;

import io.gatling.javaapi.core.Assertion;
import io.gatling.javaapi.core.PopulationBuilder;

/**
 * The verdict inside Gatling: a last scenario, run once the load is over ({@code andThen}), judges the
 * run and requests every check from the run's loopback verdict endpoint. Each check is then a row of
 * Gatling's report ("verdict: p99 during spike"), KO with its reason when it failed, and the assertion
 * fails the Gatling run (exit code 2), so the Maven build fails.
 */
public final class Verdicts {
    static final String GROUP = "verdict";

    private Verdicts() {
    }

    /** The closing scenario; chain it after the load with {@code andThen}. */
    public static PopulationBuilder closingScenario(Run run) {
        return scenario("Verdict")
                .exec(session -> session.set("checks", run.judge()))
                .group(GROUP).on(foreach("#{checks}", "check").on(exec(
                        http(session -> "verdict: " + run.checkName(session.getInt("check")))
                                .get(session -> run.checkUrl(session.getInt("check")).toString())
                                .check(jsonPath("$." + VerdictServer.WITHIN_BUDGET).ofBoolean().validate("check within budget",
                                        (within, session) -> {
                                            if (!within) {
                                                throw new IllegalStateException(run.checkLine(session.getInt("check")));
                                            }
                                            return within;
                                        })))))
                .injectOpen(atOnceUsers(1));
    }

    /** Fails the Gatling run when any check failed (or when the verdict never ran). */
    public static Assertion assertion() {
        return details(GROUP).failedRequests().count().is(0L);
    }
}
