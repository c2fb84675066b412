package dev.doorbuster.process;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * A stand-in for a run's JVM in {@link WatchdogTest}: starts {@code sleep} children from a thread that then
 * ends, records them with {@link ProcessRegistry}, prints their PIDs, and exits when its standard input
 * closes (or after two minutes, whatever happens).
 *
 * <p>Arguments: a token that the children's command lines carry, how many children, and optionally the PID
 * of a process that is not its own, recorded with a command line it does not have (a recycled PID).
 */
public final class WatchdogTestParent {
    private WatchdogTestParent() {
    }

    public static void main(String[] args) throws Exception {
        String token = args[0];
        int count = Integer.parseInt(args[1]);
        List<Long> pids = new ArrayList<>();
        Thread starter = new Thread(() -> {
            for (int i = 0; i < count; i++) {
                try {
                    Process child = new ProcessBuilder("sleep", token).start();
                    ProcessRegistry.started(tracked("sleep " + i, child), child.pid(), List.of(token), "TERM", null);
                    pids.add(child.pid());
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }
            if (args.length > 2) {
                ProcessRegistry.started(tracked("recycled", null), Long.parseLong(args[2]), List.of(token + "-not-it"),
                        "KILL", null);
            }
        }, "short-lived-starter");
        starter.start();
        starter.join(); // the thread that forked the children is gone: a parent-death signal would fire now
        System.out.println("watchdog " + Watchdog.pid());
        System.out.println("ready " + String.join(" ", pids.stream().map(String::valueOf).toList()));
        System.out.flush();
        Thread exitAtEof = new Thread(() -> {
            try (InputStream in = System.in) {
                in.transferTo(java.io.OutputStream.nullOutputStream());
            } catch (IOException e) {
                // exit anyway
            }
            System.exit(0);
        });
        exitAtEof.setDaemon(true);
        exitAtEof.start();
        Thread.sleep(120_000);
        System.exit(0);
    }

    /** {@code child} null: a PID that is not ours, never stopped (its record stays behind). */
    private static ProcessRegistry.Tracked tracked(String label, Process child) {
        return new ProcessRegistry.Tracked() {
            @Override
            public String label() {
                return label;
            }

            @Override
            public void stopAtExit() {
                if (child != null) {
                    child.destroyForcibly();
                    ProcessRegistry.awaitExit(child.toHandle(), 5_000);
                    ProcessRegistry.stopped(this, child.pid());
                }
            }
        };
    }
}
