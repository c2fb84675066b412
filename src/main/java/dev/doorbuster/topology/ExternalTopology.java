package dev.doorbuster.topology;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

import dev.doorbuster.postgres.Lag;
import dev.doorbuster.postgres.Lsn;
import dev.doorbuster.redis.RedisAdmin;
import eu.rekawek.toxiproxy.ToxiproxyClient;

/**
 * An application, database and Toxiproxy that already run elsewhere (staging). Doorbuster starts and
 * stops nothing here; it checks at connect time that each endpoint answers, and performs only the faults
 * the environment's {@code allowFaults} grants (never a failover: it has no control of the cluster).
 * With {@code app.cache}, the service's Redis ({@code cache.url}) is read directly and never restarted (a cold
 * cache is a {@code FLUSHALL}); the proxy on the service's link to it is the one named {@code proxy.proxies.cache}.
 */
public final class ExternalTopology implements Topology {
    /** The key of {@code proxy.proxies} naming the proxy on the application's link to its cache. */
    public static final String CACHE_LINK = "cache";

    private final Environment environment;

    private ExternalTopology(Environment environment) {
        this.environment = environment;
    }

    /** Checks that the application, the database and (if faults are allowed) the proxies answer. */
    public static ExternalTopology connect(Environment environment) {
        if (environment.isLocal()) {
            throw new TopologyException(environment.source() + " describes a local environment; use LocalTopology.");
        }
        ExternalTopology topology = new ExternalTopology(environment);
        topology.checkApp();
        topology.checkDatabase();
        if (environment.app().cache()) {
            topology.checkCache();
        }
        if (!environment.allowFaults().isEmpty()) {
            topology.checkProxies();
        }
        return topology;
    }

    private void checkApp() {
        URI url = environment.app().url();
        try {
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            client.send(HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(10)).GET().build(),
                    HttpResponse.BodyHandlers.discarding());
        } catch (IOException e) {
            throw new TopologyException("The application at " + url + " (app.url in " + environment.source()
                    + ") does not answer: " + e + ". Start it or fix app.url.");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TopologyException("Interrupted while checking " + url);
        }
    }

    private void checkDatabase() {
        try (Connection c = connect(environment.database().writerUrl())) {
            c.isValid(5);
        } catch (SQLException e) {
            throw new TopologyException("The database at " + environment.database().writerUrl() + " (database.writerUrl "
                    + "in " + environment.source() + ") refused a connection: " + e.getMessage());
        }
    }

    private void checkCache() {
        URI url = environment.cache().url();
        try (RedisAdmin admin = RedisAdmin.connect(url.toString())) {
            admin.keyCount();
        } catch (RuntimeException e) { // ours (unreachable) or the client's (a command timed out, refused)
            throw new TopologyException("The cache at " + url + " (cache.url in " + environment.source() + ") does not "
                    + "answer: " + e.getMessage() + ". Start it, fix cache.url, or set app.cache to false.");
        }
    }

    private void checkProxies() {
        URI url = environment.proxy().url();
        ToxiproxyClient client = new ToxiproxyClient(url.getHost(), url.getPort());
        List<String> missing = new ArrayList<>();
        try {
            client.version();
            for (String name : environment.proxy().proxies().values()) {
                if (client.getProxyOrNull(name) == null) {
                    missing.add(name);
                }
            }
        } catch (IOException e) {
            throw new TopologyException("The Toxiproxy API at " + url + " (proxy.url in " + environment.source()
                    + ") does not answer: " + e.getMessage());
        }
        if (!missing.isEmpty()) {
            throw new TopologyException("Toxiproxy at " + url + " has no proxy named " + String.join(", ", missing)
                    + " (proxy.proxies in " + environment.source() + "). Create them or fix the names.");
        }
    }

    @Override
    public Environment environment() {
        return environment;
    }

    @Override
    public URI appUrl() {
        return environment.app().url();
    }

    @Override
    public URI appMetricsUrl() {
        return environment.app().metricsUrl();
    }

    @Override
    public URI toxiproxyUrl() {
        return environment.proxy().url();
    }

    @Override
    public DatabaseLinks links() {
        var names = environment.proxy().proxies();
        return new DatabaseLinks(names.get("primary"), names.containsKey("replica") ? List.of(names.get("replica")) : List.of(),
                names.containsKey("replication") ? List.of(names.get("replication")) : List.of());
    }

    @Override
    public Optional<ClusterControl> clusterControl() {
        return Optional.empty();
    }

    @Override
    public String writerJdbcUrl() {
        return environment.database().writerUrl();
    }

    @Override
    public String dbUser() {
        return environment.database().user();
    }

    @Override
    public String dbPassword() {
        return environment.database().password();
    }

    @Override
    public Optional<Lag> replicationLag() {
        String replicaUrl = environment.database().replicaUrl();
        if (replicaUrl == null) {
            return Optional.empty();
        }
        try (Connection primary = connect(writerJdbcUrl()); Connection replica = connect(replicaUrl)) {
            return Lag.measure(primary, replica);
        } catch (SQLException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The environment's writer URL and, if set, its replica URL, with its user and password. */
    @Override
    public List<DiagnosticTarget> diagnosticTargets() {
        Environment.Database db = environment.database();
        List<DiagnosticTarget> targets = new ArrayList<>();
        targets.add(new DiagnosticTarget("writer", "primary", db.writerUrl(), db.user(), db.password()));
        if (db.replicaUrl() != null) {
            targets.add(new DiagnosticTarget("replica", "replica", db.replicaUrl(), db.user(), db.password()));
        }
        return targets;
    }

    /**
     * With {@code app.cache}: the service's own Redis, read directly at {@code cache.url}; not restartable (Doorbuster
     * does not own it), and its link's proxy is the one named {@code proxy.proxies.cache} (none if not named).
     */
    @Override
    public Optional<CacheTier> cache() {
        if (!environment.app().cache()) {
            return Optional.empty();
        }
        String directUrl = environment.cache().url().toString();
        String proxyName = environment.proxy().proxies().get(CACHE_LINK);
        return Optional.of(new CacheTier() {
            @Override
            public String directUrl() {
                return directUrl;
            }

            @Override
            public boolean restartable() {
                return false;
            }

            @Override
            public void restartCold() {
                throw new UnsupportedOperationException("The cache at " + directUrl + " (cache.url in "
                        + environment.source() + ") is not Doorbuster's to restart: empty it with FLUSHALL instead.");
            }

            @Override
            public String proxyName() {
                return proxyName;
            }
        });
    }

    @Override
    public boolean allows(String faultName) {
        return environment.allowFaults().contains(faultName);
    }

    @Override
    public void close() {
        // Nothing was started here.
    }

    private Connection connect(String url) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", dbUser());
        props.setProperty("password", dbPassword() == null ? "" : dbPassword());
        props.setProperty("connectTimeout", "5");
        props.setProperty("socketTimeout", "10");
        return DriverManager.getConnection(url, props);
    }

    private static String single(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
            return r.next() ? r.getString(1) : null;
        }
    }
}
