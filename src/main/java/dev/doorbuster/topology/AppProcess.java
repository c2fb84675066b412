package dev.doorbuster.topology;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.doorbuster.process.Classpath;
import dev.doorbuster.process.DoorbusterHome;
import dev.doorbuster.process.ProcessRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The application under test in its own JVM, so its GC and CPU do not blur the load generator's timing.
 * It is found ready by the line it prints ({@code ... listening on http://127.0.0.1:PORT}), logs into a
 * file, and is tracked by {@link ProcessRegistry}: stopped at JVM exit, and by this JVM's watchdog (or
 * else the next run) if this JVM is killed.
 */
public final class AppProcess implements ProcessRegistry.Tracked, AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("listening on (http://\\S+)");
    private static final Logger log = LoggerFactory.getLogger(AppProcess.class);

    private final Process process;
    private final Path logFile;
    private final String mainClass;
    private volatile URI url;

    private AppProcess(Process process, Path logFile, String mainClass) {
        this.process = process;
        this.logFile = logFile;
        this.mainClass = mainClass;
    }

    /**
     * Starts {@code mainClass} with this JVM's classpath and waits until it says where it listens.
     *
     * @throws TopologyException with the end of its log if it exits or stays silent for {@code timeout}
     */
    public static AppProcess start(String mainClass, List<String> jvmOptions, List<String> args, Path logFile,
                                   Duration timeout) {
        ProcessRegistry.stopLeftovers();
        // A unique argument lets the next run recognise this exact JVM by its command line; it names the
        // Doorbuster home too, so a person (or a test) can tell which installation started it.
        String instance = "-Ddoorbuster.instance=" + DoorbusterHome.get() + "#" + UUID.randomUUID();
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.add(instance);
        command.add("-cp");
        command.add(classpath());
        command.add(mainClass);
        command.addAll(args);
        Process process;
        try {
            Files.createDirectories(logFile.getParent());
            process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.to(logFile.toFile())).start();
        } catch (IOException e) {
            throw new TopologyException("Cannot start the application (" + mainClass + "): " + e);
        }
        AppProcess app = new AppProcess(process, logFile, mainClass);
        ProcessRegistry.started(app, process.pid(), List.of(instance), "TERM", null);
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (true) {
                Matcher m = LISTENING.matcher(read(logFile));
                if (m.find()) {
                    app.url = URI.create(m.group(1));
                    log.info("Application {} is up at {} (PID {}, log {})", mainClass, app.url, process.pid(), logFile);
                    return app;
                }
                if (!process.isAlive()) {
                    ProcessRegistry.stopped(app, process.pid());
                    throw new TopologyException("The application (" + mainClass + ") exited with code "
                            + process.exitValue() + " before it was ready. End of its log (" + logFile + "):\n"
                            + tail(read(logFile), 15));
                }
                if (System.nanoTime() > deadline) {
                    app.close();
                    throw new TopologyException("The application (" + mainClass + ") did not report that it listens "
                            + "within " + timeout.toSeconds() + " s. End of its log (" + logFile + "):\n"
                            + tail(read(logFile), 15));
                }
                Thread.sleep(50);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            app.close();
            throw new TopologyException("Interrupted while starting the application");
        }
    }

    /** The classpath this code was loaded from (see {@link Classpath#current()}). */
    public static String classpath() {
        return Classpath.current();
    }

    public URI url() {
        return url;
    }

    public long pid() {
        return process.pid();
    }

    public Path logFile() {
        return logFile;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** SIGTERM (the application drains in-flight requests), SIGKILL after 15 s. */
    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(15, TimeUnit.SECONDS)) {
                    log.warn("Application {} did not stop within 15 s of SIGTERM: SIGKILL", mainClass);
                    process.destroyForcibly();
                    process.waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
        ProcessRegistry.stopped(this, process.pid());
    }

    @Override
    public String label() {
        return "application " + mainClass + " (PID " + process.pid() + ")";
    }

    @Override
    public void stopAtExit() {
        close();
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    static String tail(String text, int lines) {
        String[] all = text.strip().split("\n");
        return String.join("\n", List.of(all).subList(Math.max(0, all.length - lines), all.length));
    }
}
