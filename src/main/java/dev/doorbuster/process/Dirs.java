package dev.doorbuster.process;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Recursive delete, which the JDK lacks. */
public final class Dirs {
    private Dirs() {
    }

    /** Deletes {@code root} and everything below it; a missing {@code root} is fine. */
    public static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> tree = Files.walk(root)) {
            for (Path p : (Iterable<Path>) tree.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** {@link #deleteTree} for clean-up paths, where a failure must not hide the original problem. */
    public static boolean deleteQuietly(Path root) {
        try {
            deleteTree(root);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
