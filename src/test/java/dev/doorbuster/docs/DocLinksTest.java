package dev.doorbuster.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every relative link of the project's Markdown pages (README, CONTRIBUTING, docs/, examples/) leads to a file or
 * folder that exists, and its {@code #anchor}, into a Markdown page, to one of that page's headings.
 */
class DocLinksTest {
    /**
     * Targets another branch of issue 18 brings: a link to one is accepted while it is missing, and checked like any
     * other once it exists. Remove an entry once its target is on this branch.
     */
    static final Map<Path, String> PENDING = Map.of();

    private static final Predicate<Path> IS_PENDING = file -> PENDING.keySet().stream()
            .anyMatch(p -> file.equals(p.toAbsolutePath().normalize()));

    @Test
    void everyRelativeLinkLeadsSomewhere() {
        List<Path> pages = MarkdownPages.under(Path.of(""));
        assertTrue(pages.contains(Path.of("README.md")) && pages.contains(Path.of("CONTRIBUTING.md"))
                && pages.contains(Path.of("docs", "glossary.md")), "the pages are found: " + pages);
        long links = pages.stream().mapToLong(p -> MarkdownLinks.links(p, read(p)).size()).sum();
        assertTrue(links > 100, "the links are found: " + links + " in " + pages);

        List<MarkdownLinks.Problem> problems = MarkdownLinks.check(pages, IS_PENDING);
        if (!problems.isEmpty()) {
            fail(problems.size() + " link(s) lead nowhere:\n" + problems.stream().map(Object::toString)
                    .collect(Collectors.joining("\n")));
        }
    }

    @Test
    void aMissingFileOrHeadingIsNamedWithItsPageAndLine(@TempDir Path dir) throws IOException {
        Path other = write(dir.resolve("other.md"), "# Other page\n\n## Some heading\n");
        Path page = write(dir.resolve("page.md"), String.join("\n",
                "# Page",
                "",
                "Fine: [other](other.md), [a heading](other.md#some-heading), [here](#page).",
                "Broken: [gone](missing.md).",
                "Also broken: [no such heading](other.md#no-such-heading) and [own](#nowhere).",
                ""));

        List<MarkdownLinks.Problem> problems = MarkdownLinks.check(List.of(page, other), p -> false);

        assertEquals(3, problems.size(), problems.toString());
        assertEquals(4, problems.get(0).link().line());
        assertTrue(problems.get(0).toString().startsWith(page + ":4: (missing.md) no such file"), problems.get(0).toString());
        assertEquals(5, problems.get(1).link().line());
        assertTrue(problems.get(1).toString().contains("(other.md#no-such-heading) no heading with the anchor "
                + "#no-such-heading in other.md"), problems.get(1).toString());
        assertEquals("#nowhere", problems.get(2).link().target());
    }

    @Test
    void linksInCodeAndAddressesElsewhereAreNotChecked(@TempDir Path dir) throws IOException {
        Path page = write(dir.resolve("page.md"), String.join("\n",
                "# Page",
                "",
                "```java",
                "String s = array[0](broken.md);",
                "[not a link](missing.md)",
                "```",
                "",
                "Inline `[not a link](missing.md)` code, [elsewhere](https://example.org/x.md#y),",
                "[mail](mailto:qa@example.org).",
                ""));

        assertEquals(List.of(), MarkdownLinks.links(page, read(page)));
    }

    @Test
    void imagesFoldersReferencesAndPendingTargetsAreFollowed(@TempDir Path dir) throws IOException {
        Files.createDirectories(dir.resolve("images"));
        write(dir.resolve("images").resolve("shot.png"), "png");
        Path page = write(dir.resolve("page.md"), String.join("\n",
                "# Page",
                "",
                "![a shot](images/shot.png) [the folder](images/) [missing shot](images/none.png)",
                "[later](later/) [ref]",
                "",
                "[ref]: gone.md",
                ""));
        Path later = dir.resolve("later").toAbsolutePath().normalize();

        List<MarkdownLinks.Problem> problems = MarkdownLinks.check(List.of(page), later::equals);

        assertEquals(List.of("images/none.png", "gone.md"),
                problems.stream().map(p -> p.link().target()).toList(), problems.toString());
    }

    /** GitHub's anchors: lower case, punctuation dropped but '-' and '_', spaces made '-', repeats numbered. */
    @Test
    void headingsGetGitHubsAnchors() {
        assertEquals("what-a-run-leaves-in-reports", MarkdownLinks.slug("What a run leaves in `reports/`"));
        assertEquals("the-storefront-system-under-test", MarkdownLinks.slug("The storefront (system under test)"));
        assertEquals("f1-f2-fault-labels", MarkdownLinks.slug("F1, F2 (fault labels)"));
        assertEquals("worked-example-examplesspring-shop", MarkdownLinks.slug("Worked example: examples/spring-shop"));
        assertEquals("snake_case-stays", MarkdownLinks.slug("snake_case stays"));
        assertEquals("on-a-running-service-external", MarkdownLinks.slug("On a [running](x.md) service (external)"));
        assertEquals("p99--budget", MarkdownLinks.slug("P99 ≤ budget"));

        Set<String> anchors = MarkdownLinks.anchors(String.join("\n",
                "# Title",
                "## Notes",
                "```",
                "# not a heading",
                "```",
                "## Notes ##",
                "Setext heading",
                "--------------",
                "<a id=\"custom\"></a>",
                ""));
        assertEquals(Set.of("title", "notes", "notes-1", "setext-heading", "custom"), anchors);
    }

    private static Path write(Path file, String text) throws IOException {
        return Files.writeString(file, text);
    }

    private static String read(Path page) {
        try {
            return Files.readString(page);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
