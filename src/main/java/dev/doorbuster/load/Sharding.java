package dev.doorbuster.load;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;

/**
 * A run's part in a scaled-out run, from system properties (or Kubernetes' Indexed Job):
 * <ul>
 *   <li>{@link Role#SOLO}: the whole run in one process (no {@code shard.*} property set);</li>
 *   <li>{@link Role#COORDINATOR} ({@code -Dshard.role=coordinator}): owns the topology, the fault schedule, the
 *       probes, the audit and the verdict; injects no load;</li>
 *   <li>{@link Role#INJECTOR} ({@code -Dshard.index=i}, or {@code JOB_COMPLETION_INDEX} with {@code -Dshard.count}):
 *       injects {@code 1/count} of every arrival rate of the load profile from the common start instant, records its
 *       requests and writes, and neither injects faults nor audits.</li>
 * </ul>
 * All of a run's processes share {@code -Dshard.dir}, one directory per run (see {@link ShardDirectory}).
 */
public record Sharding(Role role, int index, int count, Path dir, Duration startTimeout, Duration resultsTimeout) {
    public enum Role {
        SOLO, COORDINATOR, INJECTOR
    }

    public static final String ROLE = "shard.role";
    public static final String INDEX = "shard.index";
    public static final String COUNT = "shard.count";
    public static final String DIR = "shard.dir";
    public static final String START_TIMEOUT = "shard.startTimeout";
    public static final String RESULTS_TIMEOUT = "shard.resultsTimeout";
    /** Set by Kubernetes in each pod of an Indexed Job: the pod's completion index. */
    public static final String KUBERNETES_INDEX = "JOB_COMPLETION_INDEX";
    /** More injectors than this is a typo, not a plan. */
    static final int MAX_SHARDS = 1000;

    public static final Sharding SOLO = new Sharding(Role.SOLO, 0, 1, null, Duration.ZERO, Duration.ZERO);

    public boolean isInjector() {
        return role == Role.INJECTOR;
    }

    public boolean isCoordinator() {
        return role == Role.COORDINATOR;
    }

    /** "shard 2 of 3", "coordinator of 3 shards" or "solo". */
    public String describe() {
        return switch (role) {
            case SOLO -> "solo";
            case COORDINATOR -> "coordinator of " + count + " injector shard(s)";
            case INJECTOR -> "injector shard " + index + " of " + count;
        };
    }

    /** From the system properties and the process environment; a bad value is refused naming the property. */
    public static Sharding fromParameters() {
        return from(System.getenv());
    }

    static Sharding from(Map<String, String> environment) {
        String role = property(ROLE);
        String index = property(INDEX);
        String kubernetesIndex = environment.get(KUBERNETES_INDEX);
        String count = property(COUNT);
        if (role == null && index == null && count == null && property(DIR) == null) {
            return SOLO; // JOB_COMPLETION_INDEX alone does not make a shard: a plain run may be in an Indexed Job
        }
        Role r;
        if (role == null) {
            r = index != null || kubernetesIndex != null ? Role.INJECTOR : null;
            if (r == null) {
                throw Parameters.refused("-D" + COUNT + "/-D" + DIR + " are set but not the role: add -D" + ROLE
                        + "=coordinator for the coordinator, or -D" + INDEX + "=<0.." + "count-1> for an injector");
            }
        } else {
            r = switch (role.trim().toLowerCase(Locale.ROOT)) {
                case "coordinator" -> Role.COORDINATOR;
                case "injector" -> Role.INJECTOR;
                default -> throw Parameters.refused("-D" + ROLE + "=" + role + " must be coordinator or injector");
            };
        }
        if (count == null) {
            throw Parameters.refused("-D" + COUNT + " is missing: a " + r.name().toLowerCase(Locale.ROOT)
                    + " needs the number of injector shards (e.g. -D" + COUNT + "=3)");
        }
        int n = whole(COUNT, count, 1, MAX_SHARDS);
        int i = 0;
        if (r == Role.INJECTOR) {
            if (index != null) {
                i = whole(INDEX, index, 0, n - 1);
            } else if (kubernetesIndex != null) {
                try {
                    i = Integer.parseInt(kubernetesIndex.trim());
                } catch (NumberFormatException e) {
                    i = -1;
                }
                if (i < 0 || i >= n) {
                    throw Parameters.refused(KUBERNETES_INDEX + "=" + kubernetesIndex + " is not a shard index of -D"
                            + COUNT + "=" + n + " (0 to " + (n - 1) + "): the Job's completions must equal -D" + COUNT);
                }
            } else {
                throw Parameters.refused("an injector needs its index: -D" + INDEX + "=<0.." + (n - 1)
                        + "> (or Kubernetes' " + KUBERNETES_INDEX + ")");
            }
        } else if (index != null) {
            throw Parameters.refused("-D" + INDEX + "=" + index + " is for injectors; the coordinator has none");
        }
        String dir = property(DIR);
        if (dir == null) {
            throw Parameters.refused("-D" + DIR + " is missing: the directory every shard of this run shares "
                    + "(one per run, e.g. -D" + DIR + "=/results/run-42)");
        }
        Path path = Path.of(dir).toAbsolutePath().normalize();
        try {
            Files.createDirectories(path);
        } catch (IOException | RuntimeException e) {
            throw Parameters.refused("-D" + DIR + "=" + dir + " cannot be created: " + e.getMessage());
        }
        if (!Files.isWritable(path)) {
            throw Parameters.refused("-D" + DIR + "=" + dir + " is not writable by this process");
        }
        Duration start = Parameters.duration(START_TIMEOUT, Duration.ofMinutes(5));
        Duration results = Parameters.duration(RESULTS_TIMEOUT, Duration.ofMinutes(2));
        return new Sharding(r, i, n, path, start, results);
    }

    private static String property(String name) {
        String value = System.getProperty(name);
        return value == null || value.isBlank() ? null : value.trim();
    }

    private static int whole(String name, String raw, int min, int max) {
        try {
            int value = Integer.parseInt(raw);
            if (value >= min && value <= max) {
                return value;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw Parameters.refused("-D" + name + "=" + raw + " is not a whole number from " + min + " to " + max);
    }
}
