package dev.doorbuster.topology;

import java.net.URI;
import java.util.List;
import java.util.Optional;

import dev.doorbuster.postgres.Lag;

/**
 * A running system under test: the application, its database and the chaos proxy in front of every
 * database link. {@link LocalTopology} starts all of it on this machine, {@link
 * dev.doorbuster.topology.docker.DockerTopology} in containers; {@link ExternalTopology} targets what already
 * runs elsewhere. Closing stops whatever this topology started.
 */
public interface Topology extends AutoCloseable {
    Environment environment();

    /** Base URL of the application under test. */
    URI appUrl();

    /** Where the application exposes Prometheus metrics (pools, routing), or null if unknown. */
    URI appMetricsUrl();

    /**
     * Where each instance of the application exposes its metrics, as of now: one per instance of a fleet
     * ({@code app.instances}), whose figures add up. Default: {@link #appMetricsUrl()}, when known.
     */
    default List<URI> appMetricsUrls() {
        URI url = appMetricsUrl();
        return url == null ? List.of() : List.of(url);
    }

    /** The Toxiproxy API, or null when this topology has no chaos proxy. */
    URI toxiproxyUrl();

    /** Proxy names on each database link, as of now. */
    DatabaseLinks links();

    /** Control of the PostgreSQL cluster (kill, promote, rejoin), for topologies that own it. */
    Optional<ClusterControl> clusterControl();

    /** Direct (unproxied) JDBC URL of the current primary, for the lost-write audit. */
    String writerJdbcUrl();

    String dbUser();

    String dbPassword();

    /** Replication lag of the first replica now, if measurable here. */
    Optional<Lag> replicationLag();

    /**
     * The database endpoints the harness may inspect for the report's diagnostics, direct (unproxied), each
     * with a JDBC URL of the application's database; as of now (roles change at failover). Default: none.
     */
    default List<DiagnosticTarget> diagnosticTargets() {
        return List.of();
    }

    /** The cache tier, when the environment has one ({@code app.cache}). Default: none. */
    default Optional<CacheTier> cache() {
        return Optional.empty();
    }

    /** The pooler tier, when the environment has one ({@code postgres.pooler}). Default: none. */
    default Optional<PoolerTier> pooler() {
        return Optional.empty();
    }

    /** The fleet of the service's instances, when it runs several behind a balancer ({@code app.instances}). */
    default Optional<Fleet> fleet() {
        return Optional.empty();
    }

    /** True if the environment permits fault {@code faultName} (local: all of them). */
    boolean allows(String faultName);

    /** Stops everything this topology started; safe to call twice. */
    @Override
    void close();
}
