package dev.doorbuster.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every budget is read, defaulted and checked by its one definition ({@link SloBudget}), from an environment file
 * and from {@code -Dslo.<field>}: each wrong value is refused naming the file (or property), the field and what
 * the budget accepts.
 */
class SloBudgetTest {
    @TempDir
    Path dir;

    private final Properties props = new Properties();

    private Environment load(String json) throws IOException {
        Files.writeString(dir.resolve("test.json"), json);
        return new EnvironmentLoader(dir, props).load("test");
    }

    private String refusal(String json) {
        return assertThrows(EnvironmentException.class, () -> load(json)).getMessage();
    }

    private static void assertMentions(String message, String... parts) {
        for (String part : parts) {
            assertTrue(message.contains(part), "message should mention '" + part + "': " + message);
        }
    }

    /** {@code "a": {"b": value}} for field {@code a.b}, inside {@code slo}. */
    private static String fileWith(SloBudget budget, String value) {
        String[] parts = budget.field().split("\\.");
        String json = value;
        for (int i = parts.length - 1; i >= 0; i--) {
            json = "{\"" + parts[i] + "\": " + json + "}";
        }
        return "{\"type\": \"local\", \"slo\": " + json + "}";
    }

    private static String range(SloBudget budget) {
        return budget.max() == Long.MAX_VALUE ? "at least " + budget.min()
                : "between " + budget.min() + " and " + budget.max();
    }

    @Test
    void anEnvironmentWithoutSloIsJudgedByEveryDefault() throws IOException {
        Environment.Slo slo = load("{\"type\": \"local\"}").slo();
        assertEquals(Environment.Slo.defaults(), slo);
        for (SloBudget budget : SloBudget.values()) {
            assertEquals(budget.defaultValue(), slo.get(budget), budget.path());
        }
        assertEquals(1000, slo.p99Ms());
        assertEquals(2.0, slo.errorRatePercent());
        assertEquals(15_000, slo.failoverRtoMs());
        assertEquals(Map.of(), slo.p99MsPerRequest());
        assertEquals(new Environment.Regression(null, null, null), slo.regression(), "regressions unchecked");
    }

    @Test
    void everyBudgetIsReadFromTheFileAndFromAnOverrideThroughItsAccessor() throws IOException {
        Environment.Slo slo = load("{\"type\": \"local\", \"slo\": {\"p99Ms\": 700, \"errorRatePercent\": 0.5, "
                + "\"lostWrites\": 3, \"soakP99DriftRatio\": 2, \"regression\": {\"rtoPercent\": 25}, "
                + "\"p99MsPerRequest\": {\"checkout\": 1500}}}").slo();
        assertEquals(700, slo.p99Ms());
        assertEquals(0.5, slo.errorRatePercent());
        assertEquals(3, slo.lostWrites());
        assertEquals(2.0, slo.soakP99DriftRatio(), "a whole number is a number");
        assertEquals(new Environment.Regression(null, null, 25.0), slo.regression());
        assertEquals(Map.of("checkout", 1500), slo.p99MsPerRequest());
        assertEquals(3000, slo.p99MsDuringFaults(), "the rest keep their defaults");
        props.setProperty("slo.regression.p99Percent", "20");
        props.setProperty("slo.ghostWrites", "1");
        slo = load("{\"type\": \"local\"}").slo();
        assertEquals(20.0, slo.regression().p99Percent());
        assertEquals(1, slo.ghostWrites());
    }

    @Test
    void everyBudgetOutOfItsRangeNamesTheFileTheFieldAndTheRange() {
        for (SloBudget budget : SloBudget.values()) {
            String expected = "expected " + (budget.kind() == SloBudget.Kind.DECIMAL ? "a number " : "a whole number ");
            for (long bad : new long[] {budget.min() - 1, budget.max() + 1}) {
                if (bad == Long.MIN_VALUE || budget.max() == Long.MAX_VALUE && bad == budget.max() + 1) {
                    continue; // no upper bound
                }
                String value = Long.toString(bad);
                String shownField = budget.path();
                String json = fileWith(budget, value);
                if (budget.kind() == SloBudget.Kind.PER_REQUEST) {
                    json = fileWith(budget, "{\"checkout\": " + value + "}");
                    shownField = budget.path() + ".checkout";
                }
                assertMentions(refusal(json), "test.json: field '" + shownField + "' is " + value + "; expected",
                        range(budget), "in " + budget.unit().text());
                props.setProperty(shownField, value);
                assertMentions(refusal("{\"type\": \"local\"}"), "-D" + shownField + "=" + value
                        + " (overriding ", "test.json): field '" + shownField + "' is " + value + "; " + expected,
                        range(budget));
                props.clear();
            }
        }
    }

    @Test
    void aValueOfTheWrongTypeIsRefusedSayingWhatIsExpected() {
        for (SloBudget budget : SloBudget.values()) {
            String message = refusal(fileWith(budget, "\"fast\""));
            assertMentions(message, "test.json: field '" + budget.path() + "' is 'fast'; expected ", range(budget));
            if (budget.kind() == SloBudget.Kind.WHOLE) {
                assertMentions(message, "a whole number");
                assertMentions(refusal(fileWith(budget, "2.5")), "field '" + budget.path() + "' is 2.5; expected "
                        + "a whole number");
            }
            if (!budget.optional()) {
                assertMentions(refusal(fileWith(budget, "null")), "field '" + budget.path() + "' is null; expected");
            }
        }
        assertMentions(refusal("{\"type\": \"local\", \"slo\": {\"p99MsPerRequest\": {\"checkout\": \"1s\"}}}"),
                "field 'slo.p99MsPerRequest.checkout' is '1s'; expected a whole number between 1 and 3600000, in ms");
        assertMentions(refusal("{\"type\": \"local\", \"slo\": [1]}"), "test.json: field 'slo' is [1]; expected a "
                + "JSON object of budgets");
        assertMentions(refusal("{\"type\": \"local\", \"slo\": {\"regression\": 20}}"),
                "field 'slo.regression' is 20; expected a JSON object of p99Percent, errorRatePoints, rtoPercent");
        props.setProperty("slo.lostWrites", "none");
        assertMentions(refusal("{\"type\": \"local\"}"), "-Dslo.lostWrites=none (overriding ",
                "field 'slo.lostWrites' is 'none'; expected a whole number at least 0, in writes");
    }

    @Test
    void anOptionalBudgetMayBeNullAndThenIsNotChecked() throws IOException {
        Environment env = load("{\"type\": \"local\", \"slo\": {\"regression\": {\"p99Percent\": null}}}");
        assertNull(env.slo().regression().p99Percent());
        assertTrue(SloBudget.REGRESSION_P99_PERCENT.optional());
    }

    @Test
    void anUnknownFieldNamesTheFieldAndTheBudgets() {
        assertMentions(refusal("{\"type\": \"local\", \"slo\": {\"p99\": 500}}"), "test.json: unknown field "
                + "'slo.p99'; allowed fields of slo: ", "abortAfterSeconds", "p99Ms", "regression", "windowP99Ms");
        assertMentions(refusal("{\"type\": \"local\", \"slo\": {\"regression\": {\"p99\": 5}}}"),
                "test.json: unknown field 'slo.regression.p99'; allowed fields of slo.regression: capacityPercent, errorRatePoints, "
                        + "p99Percent, rtoPercent.");
        props.setProperty("slo.lostWrite", "0");
        assertMentions(refusal("{\"type\": \"local\"}"), "-Dslo.lostWrite=0 (overriding ", "unknown field "
                + "'slo.lostWrite'", "lostWrites");
    }

    @Test
    void budgetsSetInCodeAreCheckedToo() {
        Environment.Slo slo = Environment.Slo.defaults().with(SloBudget.P99_MS, 250)
                .with(SloBudget.P99_MS_PER_REQUEST, Map.of("checkout", 900));
        assertEquals(250, slo.p99Ms());
        assertEquals(900, slo.p99MsPerRequest().get("checkout"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Environment.Slo.defaults().with(SloBudget.ERROR_RATE_PERCENT, 101));
        assertMentions(e.getMessage(), "slo.errorRatePercent", "is 101; expected a number between 0 and 100");
        assertThrows(IllegalArgumentException.class,
                () -> Environment.Slo.defaults().with(SloBudget.P99_MS_PER_REQUEST, Map.of("checkout", 0)));
        assertThrows(IllegalArgumentException.class, () -> Environment.Slo.defaults().with(SloBudget.P99_MS, "fast"));
    }

    @Test
    void everyBudgetHasAFieldAUnitAndAMeaning() {
        for (SloBudget budget : SloBudget.values()) {
            assertEquals(budget, SloBudget.byField(budget.field()));
            assertTrue(budget.min() <= budget.max(), budget.path());
            assertTrue(budget.meaning().length() > 10, budget.path());
            Object def = budget.defaultValue();
            if (def != null) {
                assertEquals(def, budget.check(def), budget.path() + "'s default is in its own range");
            }
        }
    }
}
