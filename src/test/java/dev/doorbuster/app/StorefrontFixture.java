package dev.doorbuster.app;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;

import dev.doorbuster.postgres.PgCluster;
import dev.doorbuster.postgres.PgNode;

/**
 * A real PostgreSQL primary + streaming replica with the storefront schema and a small seed (500
 * products, 2000 users) in database {@code storefront}, and storefronts started on it. Everything is
 * stopped by {@link #close()}, also when a test failed.
 */
final class StorefrontFixture implements AutoCloseable {
    static final String DB = "storefront";
    static final int PRODUCTS = 500;
    static final int USERS = 2000;

    final PgCluster cluster;
    private final List<Storefront> apps = new ArrayList<>();

    private StorefrontFixture(PgCluster cluster) {
        this.cluster = cluster;
    }

    static StorefrontFixture start() {
        return start(UnaryOperator.identity());
    }

    /** As {@link #start()}, with changes to the cluster (server settings, say). */
    static StorefrontFixture start(UnaryOperator<PgCluster.Builder> clusterChanges) {
        PgCluster cluster = clusterChanges.apply(PgCluster.builder().replicas(1)).start();
        StorefrontFixture fixture = new StorefrontFixture(cluster);
        try {
            fixture.app(b -> b.initSchema(true).seedProducts(PRODUCTS).seedUsers(USERS)).close();
            cluster.awaitCaughtUp(fixture.replica(), Duration.ofSeconds(20));
            return fixture;
        } catch (RuntimeException | Error e) {
            fixture.close();
            throw e;
        }
    }

    PgNode primary() {
        return cluster.primary();
    }

    PgNode replica() {
        return cluster.replicas().get(0);
    }

    /** Lists every node with targetServerType=primary: follows a failover. */
    String writerUrl() {
        return cluster.writerJdbcUrl(DB);
    }

    String readerUrl() {
        return "jdbc:postgresql://127.0.0.1:" + replica().port() + "/" + DB;
    }

    StorefrontConfig.Builder config() {
        return StorefrontConfig.builder().port(0).writerUrl(writerUrl()).readerUrl(readerUrl()).httpThreads(16)
                .writerPoolSize(4).readerPoolSize(4);
    }

    /** Starts a storefront (ephemeral port) with the fixture's URLs and the given changes; closed with the fixture. */
    Storefront app(UnaryOperator<StorefrontConfig.Builder> changes) {
        Storefront app = Storefront.start(changes.apply(config()).build());
        apps.add(app);
        return app;
    }

    /** Runs SQL on {@code node}'s storefront database. */
    int sql(PgNode node, String sql, Object... params) {
        try (Connection c = DriverManager.getConnection(node.jdbcUrl(DB)); PreparedStatement s = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                s.setObject(i + 1, params[i]);
            }
            s.execute();
            return Math.max(0, s.getUpdateCount());
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }

    /** First column of the first row of a query on {@code node}'s storefront database. */
    <T> T value(PgNode node, Class<T> type, String sql, Object... params) {
        try (Connection c = DriverManager.getConnection(node.jdbcUrl(DB)); PreparedStatement s = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                s.setObject(i + 1, params[i]);
            }
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? rs.getObject(1, type) : null;
            }
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("Timed out after " + timeout.toMillis() + " ms waiting for: " + what);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for: " + what);
            }
        }
    }

    @Override
    public void close() {
        try {
            for (Storefront app : apps) {
                app.close();
            }
        } finally {
            cluster.close();
        }
    }
}
