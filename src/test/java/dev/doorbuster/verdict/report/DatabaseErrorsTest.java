package dev.doorbuster.verdict.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import dev.doorbuster.verdict.CheckResult;
import dev.doorbuster.verdict.Judge;
import dev.doorbuster.verdict.probes.DatabaseErrors;
import dev.doorbuster.verdict.probes.PrometheusText;
import org.junit.jupiter.api.Test;

/** The service's database errors by SQLSTATE, added up over a fleet's instances, as the report lists them. */
class DatabaseErrorsTest {
    /** What two storefront instances serve: each counts its own, the series registered at 0 up front included. */
    private static final String FIRST = """
            storefront_db_errors_total{pool="writer",sqlstate="none"} 2.0
            storefront_db_errors_total{pool="writer",sqlstate="53300"} 1.0
            storefront_db_connection_failures_total{pool="writer",refused="true",sqlstate="53300"} 4.0
            storefront_db_connection_failures_total{pool="reader",refused="true",sqlstate="53300"} 0.0
            """;
    private static final String SECOND = """
            storefront_db_connection_failures_total{pool="writer",refused="true",sqlstate="53300"} 3.0
            storefront_db_connection_failures_total{pool="writer",refused="false",sqlstate="08001"} 2.0
            storefront_db_errors_total{pool="reader",sqlstate="26000"} 0.0
            """;

    @Test
    void theInstancesCountsAddUpByCodeAndASeriesAtZeroIsNoError() {
        DatabaseErrors errors = DatabaseErrors.of(2, PrometheusText.merge(List.of(PrometheusText.parse(FIRST),
                PrometheusText.parse(SECOND))));
        assertEquals(2, errors.instances());
        assertEquals(List.of("08001", "53300", "none"), errors.rows().stream().map(DatabaseErrors.Row::sqlState).toList(),
                "in code order, the pool's own timeout last; 26000 counted nothing");
        DatabaseErrors.Row storm = errors.rows().get(1);
        assertEquals(1, storm.answered());
        assertEquals(7, storm.connectionFailures(), "4 refused attempts on one instance, 3 on the other");
        assertEquals(7, storm.refused());
        assertTrue(storm.meaning().startsWith("too many connections"), storm.meaning());
        DatabaseErrors.Row unreachable = errors.rows().get(0);
        assertEquals(2, unreachable.connectionFailures());
        assertEquals(0, unreachable.refused(), "a failed attempt that was not a refusal");
        assertEquals(2, errors.rows().get(2).answered());
    }

    @Test
    void theFirstScreenListsThemOrSaysAFleetHadNone() {
        DatabaseErrors errors = DatabaseErrors.of(2, PrometheusText.parse(FIRST));
        String html = render(errors);
        assertTrue(html.contains("<h2>Database errors</h2>"), html);
        assertTrue(html.contains("The service's 2 instances counted"), html);
        assertTrue(html.contains("<td>53300</td><td>too many connections: the server had no slot left</td><td>1</td>"
                + "<td>4</td><td>4</td>"), html);
        String none = render(DatabaseErrors.of(4, PrometheusText.parse("")));
        assertTrue(none.contains("The service's 4 instances counted no database error"), none);
        assertEquals("", render(DatabaseErrors.of(1, PrometheusText.parse(""))),
                "one instance without errors: nothing to say");
    }

    /**
     * The known-bad setup of the pooler tier: named statements behind a transaction pooler. The failing error rate says
     * which code broke the requests, the most answered first; a passing one, and one of a service without errors, are
     * left as they were.
     */
    @Test
    void aFailedErrorRateNamesTheCodesTheServiceAnsweredWithMostFirst() {
        DatabaseErrors errors = DatabaseErrors.of(1, PrometheusText.parse("""
                storefront_db_errors_total{pool="writer",sqlstate="42P05"} 12.0
                storefront_db_errors_total{pool="reader",sqlstate="26000"} 300.0
                storefront_db_errors_total{pool="writer",sqlstate="26000"} 98.0
                storefront_db_connection_failures_total{pool="writer",refused="true",sqlstate="53300"} 9.0
                """));
        CheckResult failed = new CheckResult(Judge.ERROR_RATE, 1, 8.3, "%", false, "412 of 4960 requests failed");
        CheckResult named = Judge.namingDatabaseErrors(List.of(failed), errors).get(0);
        assertEquals("412 of 4960 requests failed; the service's database errors: 26000 × 398 (prepared statement "
                + "missing: named statements behind a transaction pooler), 42P05 × 12 (prepared statement already "
                + "exists: named statements behind a transaction pooler)", named.detail(),
                "answered requests only: the refused connection attempts were no answer");
        assertTrue(named.failed() && named.actual() == 8.3, named.line());
        CheckResult passed = new CheckResult(Judge.ERROR_RATE, 1, 0.1, "%", true, "5 of 4960 requests failed");
        assertEquals(passed, Judge.namingDatabaseErrors(List.of(passed), errors).get(0));
        assertEquals(failed, Judge.namingDatabaseErrors(List.of(failed), DatabaseErrors.of(1, PrometheusText.parse("")))
                .get(0));
        assertEquals(failed, Judge.namingDatabaseErrors(List.of(failed), null).get(0), "a service of one's own");
    }

    private static String render(DatabaseErrors errors) {
        StringBuilder html = new StringBuilder();
        ChaosReport.databaseErrors(html, errors);
        return html.toString();
    }
}
