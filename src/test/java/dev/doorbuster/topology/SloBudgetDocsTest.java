package dev.doorbuster.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/**
 * The verdict table of docs/checks.md says which budget judges each check; its budget column is {@link SloBudget}'s,
 * cell for cell ({@link SloBudget#tableCell}), every budget in exactly one row, and every {@code slo.<field>} that any
 * Markdown page of the project names is a budget.
 */
class SloBudgetDocsTest {
    static final Path CHECKS_PAGE = Path.of("docs", "checks.md");
    private static final String HEADER = "| check | fails when | budget |";
    /** {@code `slo.p99Ms`}, {@code `slo.p99MsPerRequest.<name>`}, {@code -Dslo.regression.p99Percent=20}. */
    private static final Pattern MENTION = Pattern.compile("slo\\.([A-Za-z][A-Za-z0-9]*(?:\\.[A-Za-z][A-Za-z0-9]*)*)");

    /** The verdict table's rows, each split into its cells. */
    private static List<List<String>> verdictRows(String page) {
        int at = page.indexOf(HEADER + "\n|---|---|---|\n");
        assertTrue(at >= 0, CHECKS_PAGE + " must hold the verdict table headed " + HEADER);
        List<List<String>> rows = new ArrayList<>();
        for (String line : page.substring(at).split("\n", -1)) {
            if (!line.startsWith("|")) {
                break;
            }
            if (line.equals(HEADER) || line.startsWith("|---")) {
                continue;
            }
            String inner = line.substring(1, line.length() - (line.endsWith("|") ? 1 : 0));
            List<String> cells = new ArrayList<>();
            for (String cell : inner.split("(?<!\\\\)\\|", -1)) {
                cells.add(cell.strip());
            }
            assertEquals(3, cells.size(), "a verdict table row has a check, when it fails and its budget: " + line);
            rows.add(cells);
        }
        assertTrue(rows.size() > 10, "the verdict table has its rows: " + rows.size());
        return rows;
    }

    /**
     * The budgets named in {@code text}, in order: {@code slo.p99Ms}, {@code slo.p99MsPerRequest.checkout} (a
     * request's own); a group ({@code slo.regression}) names none. Fails on a name that is neither.
     */
    private static List<SloBudget> named(String text, String where) {
        Set<SloBudget> budgets = new LinkedHashSet<>();
        Matcher m = MENTION.matcher(text);
        while (m.find()) {
            String mention = m.group(1);
            SloBudget budget = SloBudget.byField(mention);
            if (budget == null) {
                budget = java.util.Arrays.stream(SloBudget.values())
                        .filter(b -> b.kind() == SloBudget.Kind.PER_REQUEST && mention.startsWith(b.field() + "."))
                        .findFirst().orElse(null);
            }
            if (budget != null) {
                budgets.add(budget);
                continue;
            }
            boolean group = java.util.Arrays.stream(SloBudget.values()).anyMatch(b -> b.field().startsWith(mention + "."));
            assertTrue(group, where + " names slo." + mention + ", which is no budget; budgets: " + SloBudget.paths());
        }
        return new ArrayList<>(budgets);
    }

    @Test
    void theBudgetColumnIsTheDefinitions() throws Exception {
        Map<SloBudget, String> rowOf = new EnumMap<>(SloBudget.class);
        List<String> problems = new ArrayList<>();
        for (List<String> row : verdictRows(Files.readString(CHECKS_PAGE))) {
            String check = row.get(0);
            List<SloBudget> budgets = named(row.get(2), "the budget cell of " + check);
            String expected = SloBudget.tableCell(budgets);
            if (!expected.equals(row.get(2))) {
                problems.add("row " + check + ": budget cell differs from SloBudget; it should read\n  " + expected
                        + "\n  not\n  " + row.get(2));
            }
            for (SloBudget mentioned : named(row.get(0) + " " + row.get(1), "row " + check)) {
                if (!budgets.contains(mentioned)) {
                    problems.add("row " + check + " mentions " + mentioned.path() + " but its budget cell does not "
                            + "hold it");
                }
            }
            for (SloBudget budget : budgets) {
                String earlier = rowOf.put(budget, check);
                if (earlier != null) {
                    problems.add(budget.path() + " is the budget of two rows: " + earlier + " and " + check);
                }
            }
        }
        for (SloBudget budget : SloBudget.values()) {
            if (!rowOf.containsKey(budget)) {
                problems.add(budget.path() + " is in no row's budget cell; add it to the row of the check it judges: "
                        + budget.tableText());
            }
        }
        if (!problems.isEmpty()) {
            fail(CHECKS_PAGE + "'s verdict table and SloBudget differ:\n" + String.join("\n", problems));
        }
    }

    /** The README, CONTRIBUTING and every page under docs/ (where the {@code -Dslo} overrides are shown). */
    @Test
    void everySloFieldThePagesNameIsABudget() throws IOException {
        List<Path> pages = new ArrayList<>(List.of(Path.of("README.md"), Path.of("CONTRIBUTING.md")));
        try (var docs = Files.walk(Path.of("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        Set<SloBudget> all = new LinkedHashSet<>();
        for (Path page : pages) {
            all.addAll(named(Files.readString(page), page.toString()));
        }
        assertTrue(all.contains(SloBudget.P99_MS) && all.contains(SloBudget.REGRESSION_P99_PERCENT),
                "the pages' -Dslo overrides are found: " + all);
    }

    /** The checks above can fail: a page with an edited default or a renamed field is refused. */
    @Test
    void aDriftedCellOrAnUnknownFieldIsCaught() {
        String cell = SloBudget.tableCell(List.of(SloBudget.P99_MS));
        assertTrue(cell.contains("default 1000 ms") && cell.contains("1 – 3600000"), cell);
        assertTrue(!cell.equals(cell.replace("1000", "900")), "a changed default changes the cell");
        org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class,
                () -> named("override with `-Dslo.p99ms=500`", "text"));
        assertEquals(List.of(SloBudget.P99_MS_PER_REQUEST), named("`slo.p99MsPerRequest.checkout`", "text"));
    }
}
