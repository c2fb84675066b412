package dev.doorbuster.docs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The project's Markdown pages that users and contributors read: the *.md files of the repository's root, and
 * every *.md under {@code docs/} and {@code examples/} (an example's build output left out).
 */
public final class MarkdownPages {
    /** Folders under docs/ and examples/ that hold generated files, not pages. */
    private static final Set<String> NOT_PAGES = Set.of("target", "node_modules", ".git");

    private MarkdownPages() {
    }

    /** The pages under {@code root}, sorted by path. */
    public static List<Path> under(Path root) {
        List<Path> pages = new ArrayList<>();
        try (Stream<Path> top = Files.list(root)) {
            top.filter(MarkdownPages::isPage).forEach(pages::add);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (String folder : List.of("docs", "examples")) {
            Path dir = root.resolve(folder);
            if (!Files.isDirectory(dir)) {
                continue;
            }
            try (Stream<Path> files = Files.walk(dir)) {
                files.filter(MarkdownPages::isPage)
                        .filter(p -> dir.relativize(p).getNameCount() == 1 || !generated(dir.relativize(p)))
                        .forEach(pages::add);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        pages.sort(null);
        return pages;
    }

    private static boolean isPage(Path file) {
        return Files.isRegularFile(file) && file.getFileName().toString().endsWith(".md");
    }

    private static boolean generated(Path relative) {
        for (Path part : relative.getParent()) {
            if (NOT_PAGES.contains(part.toString())) {
                return true;
            }
        }
        return false;
    }
}
