package dev.doorbuster.verdict.probes;

import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;

import dev.doorbuster.topology.PoolRoles;

/**
 * What the probes' scrapes of the service's metrics found over a run: whether there was an address to read, how many
 * scrapes could be read, and which HikariCP pools the meters named, with the role each was given
 * ({@link PoolRoles}). A pool check that has no figures says from this why, and what to set.
 *
 * @param metricsUrl  where the metrics were read (null: the environment names none)
 * @param scrapes     scrapes tried
 * @param readable    scrapes answered with Prometheus text
 * @param lastProblem why the last unreadable scrape failed (null: none failed)
 * @param pools       every pool label of the {@code hikaricp_connections_*} meters seen, with its role's
 *                    {@link PoolRoles.Role#text() text} or {@link #NO_ROLE}
 */
public record MetricsCoverage(String metricsUrl, long scrapes, long readable, String lastProblem,
                              Map<String, String> pools) {
    /** How a pool without a role is shown. */
    public static final String NO_ROLE = "?";

    public MetricsCoverage {
        pools = pools == null ? Map.of() : java.util.Collections.unmodifiableMap(new TreeMap<>(pools));
    }

    /** Why a check about the pools has no figures and what to set; empty when some pool had a role. */
    public record Missing(String reason, String fix) {
    }

    /** The pools seen, with their roles: {@code [HikariPool-1 → ?]}. */
    public String poolsText() {
        return pools.entrySet().stream().map(e -> e.getKey() + " → " + e.getValue())
                .collect(Collectors.joining(", ", "[", "]"));
    }

    /** Why the pools have no figures, from the first thing that was missing; empty when some pool had a role. */
    public Optional<Missing> poolsMissing() {
        if (metricsUrl == null) {
            return Optional.of(new Missing("the environment sets no " + PoolRoles.METRICS_FIELD
                    + ", so no pool metric was read", "set " + PoolRoles.METRICS_FIELD + " to the service's Prometheus "
                    + "endpoint (Spring Boot with Actuator: /actuator/prometheus)"));
        }
        if (readable == 0) {
            return Optional.of(new Missing("the metrics at " + metricsUrl + " could not be read (" + scrapes
                    + " tries" + (lastProblem == null ? "" : ", last: " + lastProblem) + ")", "make "
                    + PoolRoles.METRICS_FIELD + " answer 200 with Prometheus text while the load runs"));
        }
        if (pools.isEmpty()) {
            return Optional.of(new Missing("the metrics at " + metricsUrl + " list no hikaricp_connections_* meters",
                    "serve HikariCP's meters in Prometheus format (Spring Boot: Actuator and "
                            + "micrometer-registry-prometheus)"));
        }
        if (pools.values().stream().allMatch(NO_ROLE::equals)) {
            String first = pools.keySet().iterator().next();
            return Optional.of(new Missing("no HikariCP meters matched pool names " + poolsText(), "set "
                    + PoolRoles.FIELD + " to each pool's role, e.g. {\"" + first + "\": \"writer\"} (or -D"
                    + PoolRoles.FIELD + "." + first + "=writer)"));
        }
        return Optional.empty();
    }
}
