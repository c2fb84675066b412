package dev.doorbuster.postgres;

import dev.doorbuster.process.DoorbusterHome;
import dev.doorbuster.process.ProcessRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Looks at the live process table (/proc), independently of what the code under test believes. */
final class Processes {
    private Processes() {
    }

    /** PIDs of live (non-zombie) processes whose command line mentions {@code text}. */
    static List<Long> mentioning(String text) {
        List<Long> found = new ArrayList<>();
        try (Stream<Path> entries = Files.list(Path.of("/proc"))) {
            for (Path entry : (Iterable<Path>) entries::iterator) {
                String name = entry.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                long pid = Long.parseLong(name);
                if (pid == ProcessHandle.current().pid() || !alive(pid)) {
                    continue;
                }
                try {
                    String cmdline = new String(Files.readAllBytes(entry.resolve("cmdline")), StandardCharsets.UTF_8);
                    if (cmdline.replace('\0', ' ').contains(text)) {
                        found.add(pid);
                    }
                } catch (IOException e) {
                    // Exited while we looked.
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /proc", e);
        }
        return found;
    }

    static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false) && !ProcessRegistry.isZombie(pid);
    }
}
