package dev.doorbuster.docs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the relative links of Markdown pages ({@code [text](path#anchor)}, images, reference definitions) and
 * checks that each leads somewhere: the file or folder exists, and an {@code #anchor} into a Markdown page matches
 * one of its headings as GitHub names them. Links in code (fenced blocks, inline code) are text, not links; links
 * with a scheme ({@code https:}, {@code mailto:}) are not checked.
 */
public final class MarkdownLinks {
    /** A link as written: where it is and its target ({@code docs/glossary.md#witness}). */
    public record Link(Path page, int line, String target) {
    }

    /** A link that leads nowhere, and why. */
    public record Problem(Link link, String why) {
        @Override
        public String toString() {
            return link.page() + ":" + link.line() + ": (" + link.target() + ") " + why;
        }
    }

    private static final Pattern FENCE = Pattern.compile("^ {0,3}(`{3,}|~{3,})");
    private static final Pattern INLINE_CODE = Pattern.compile("(`+)(.+?)\\1");
    /** {@code [text](target)} or {@code ![alt](target "title")}; the target may be in angle brackets. */
    private static final Pattern INLINE_LINK = Pattern.compile("\\]\\(\\s*(<[^>]*>|[^)\\s]+)(?:\\s+\"[^\"]*\")?\\s*\\)");
    private static final Pattern REFERENCE_DEFINITION = Pattern.compile("^ {0,3}\\[[^\\]]+\\]:\\s*(<[^>]*>|\\S+)");
    private static final Pattern ATX_HEADING = Pattern.compile("^ {0,3}(#{1,6})(?:[ \\t]+(.*?))?(?:[ \\t]+#+)?[ \\t]*$");
    private static final Pattern SETEXT_UNDERLINE = Pattern.compile("^ {0,3}(=+|-+)[ \\t]*$");
    private static final Pattern HTML_ID = Pattern.compile("<[a-zA-Z][^>]*\\s(?:id|name)=\"([^\"]+)\"");
    private static final Pattern MARKDOWN_LINK_TEXT = Pattern.compile("!?\\[([^\\]]*)\\]\\([^)]*\\)");
    private static final Pattern SCHEME = Pattern.compile("^[a-zA-Z][a-zA-Z0-9+.-]*:");

    private MarkdownLinks() {
    }

    /**
     * Every relative link of {@code pages} that leads nowhere. A link to a path {@code pending} accepts is allowed
     * while that path does not exist (it is checked like any other once it does).
     */
    public static List<Problem> check(List<Path> pages, Predicate<Path> pending) {
        Map<Path, Set<String>> anchorsByPage = new HashMap<>();
        List<Problem> problems = new ArrayList<>();
        for (Path page : pages) {
            for (Link link : links(page, read(page))) {
                String why = problem(link, pending, anchorsByPage);
                if (why != null) {
                    problems.add(new Problem(link, why));
                }
            }
        }
        return problems;
    }

    /** The links of one page with their line numbers, in order; links in code left out. */
    public static List<Link> links(Path page, String markdown) {
        List<Link> links = new ArrayList<>();
        String[] lines = markdown.split("\n", -1);
        String fence = null;
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            Matcher fenceMatch = FENCE.matcher(line);
            if (fence != null) {
                if (fenceMatch.find() && fenceMatch.group(1).charAt(0) == fence.charAt(0)
                        && fenceMatch.group(1).length() >= fence.length() && line.strip().equals(fenceMatch.group(1))) {
                    fence = null;
                }
                continue;
            }
            if (fenceMatch.find()) {
                fence = fenceMatch.group(1);
                continue;
            }
            String text = INLINE_CODE.matcher(line).replaceAll(m -> " ".repeat(m.group().length()));
            Matcher definition = REFERENCE_DEFINITION.matcher(text);
            if (definition.find()) {
                add(links, page, i + 1, definition.group(1));
                continue;
            }
            Matcher inline = INLINE_LINK.matcher(text);
            while (inline.find()) {
                add(links, page, i + 1, inline.group(1));
            }
        }
        return links;
    }

    private static void add(List<Link> links, Path page, int line, String target) {
        String bare = target.startsWith("<") && target.endsWith(">") ? target.substring(1, target.length() - 1) : target;
        if (SCHEME.matcher(bare).find() || bare.startsWith("//")) {
            return; // an address elsewhere, not this repository's
        }
        links.add(new Link(page, line, bare));
    }

    /**
     * The anchors GitHub gives the headings of {@code markdown} (a repeated one gets {@code -1}, {@code -2}, ...),
     * plus the ids of HTML elements written into the page.
     */
    public static Set<String> anchors(String markdown) {
        Set<String> anchors = new LinkedHashSet<>();
        Map<String, Integer> seen = new HashMap<>();
        String[] lines = markdown.split("\n", -1);
        String fence = null;
        String previous = "";
        for (String line : lines) {
            Matcher fenceMatch = FENCE.matcher(line);
            if (fence != null) {
                if (fenceMatch.find() && fenceMatch.group(1).charAt(0) == fence.charAt(0)
                        && fenceMatch.group(1).length() >= fence.length() && line.strip().equals(fenceMatch.group(1))) {
                    fence = null;
                }
                previous = "";
                continue;
            }
            if (fenceMatch.find()) {
                fence = fenceMatch.group(1);
                previous = "";
                continue;
            }
            Matcher html = HTML_ID.matcher(line);
            while (html.find()) {
                anchors.add(html.group(1));
            }
            String heading = null;
            Matcher atx = ATX_HEADING.matcher(line);
            if (atx.matches()) {
                heading = atx.group(2) == null ? "" : atx.group(2);
            } else if (SETEXT_UNDERLINE.matcher(line).matches() && isParagraphLine(previous)) {
                heading = previous.strip();
            }
            if (heading != null) {
                String slug = slug(heading);
                int n = seen.merge(slug, 1, Integer::sum) - 1;
                anchors.add(n == 0 ? slug : slug + "-" + n);
                previous = "";
            } else {
                previous = line;
            }
        }
        return anchors;
    }

    /** A line a setext underline turns into a heading: text, not a table row, list item or heading. */
    private static boolean isParagraphLine(String line) {
        String s = line.strip();
        return !s.isEmpty() && !s.startsWith("|") && !s.startsWith("#") && !s.startsWith("- ") && !s.startsWith("* ")
                && !s.startsWith(">");
    }

    /**
     * A heading's anchor as GitHub makes it: the heading's text (a link's text, not its address), lower-cased,
     * every character dropped that is not a letter, a digit, a space, '-' or '_', and each space made a '-'.
     */
    public static String slug(String heading) {
        String text = MARKDOWN_LINK_TEXT.matcher(heading).replaceAll(m -> Matcher.quoteReplacement(m.group(1)));
        StringBuilder slug = new StringBuilder();
        text.strip().toLowerCase(Locale.ROOT).codePoints().forEach(c -> {
            if (c == ' ') {
                slug.append('-');
            } else if (Character.isLetterOrDigit(c) || c == '-' || c == '_'
                    || Character.getType(c) == Character.NON_SPACING_MARK) {
                slug.appendCodePoint(c);
            }
        });
        return slug.toString();
    }

    private static String problem(Link link, Predicate<Path> pending, Map<Path, Set<String>> anchorsByPage) {
        String target = link.target();
        int hash = target.indexOf('#');
        String pathPart = hash < 0 ? target : target.substring(0, hash);
        String anchor = hash < 0 ? null : URLDecoder.decode(target.substring(hash + 1), StandardCharsets.UTF_8);
        Path file;
        if (pathPart.isEmpty()) {
            file = link.page();
        } else {
            String decoded = URLDecoder.decode(pathPart.replace("+", "%2B"), StandardCharsets.UTF_8);
            Path base = link.page().toAbsolutePath().getParent();
            file = base.resolve(decoded).normalize();
            if (!Files.exists(file)) {
                return pending.test(file) ? null : "no such file: " + shown(file);
            }
        }
        if (anchor == null || anchor.isEmpty() || Files.isDirectory(file)
                || !file.getFileName().toString().endsWith(".md")) {
            return null; // a file, a folder, or a line of a source file (#L10): nothing more to check
        }
        Set<String> anchors = anchorsByPage.computeIfAbsent(file.toAbsolutePath().normalize(), f -> anchors(read(f)));
        return anchors.contains(anchor) ? null
                : "no heading with the anchor #" + anchor + " in " + file.getFileName() + " (its anchors: "
                        + String.join(", ", anchors) + ")";
    }

    /** {@code file} relative to the working directory (the project's root in a build) when it is under it. */
    private static Path shown(Path file) {
        Path here = Path.of("").toAbsolutePath();
        return file.startsWith(here) ? here.relativize(file) : file;
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
