package dev.doorbuster.verdict.consistency;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.function.Function;

/**
 * How to find writes of one kind again after the run, by the identities their clients chose. Called once
 * per kind with every identity to look up, so a lookup should be set-based: a 2-hour soak has tens of
 * thousands of writes.
 */
@FunctionalInterface
public interface WriteLookup {
    /** Where the audit looks: the current primary (direct, not through the chaos proxy) and the application. */
    record Target(String jdbcUrl, String user, String password, URI appUrl) {
    }

    /** Which of {@code ids} are present now. Throws if the lookup cannot be made (never guesses). */
    Set<String> present(List<String> ids, Target target) throws Exception;

    /**
     * A SQL query with one {@code text[]} parameter returning the identities it finds, e.g.
     * {@code SELECT idempotency_key FROM orders WHERE idempotency_key = ANY(?)}. Ids go in chunks of 10,000.
     */
    static WriteLookup sql(String query) {
        if (query == null || query.chars().filter(c -> c == '?').count() != 1) {
            throw new IllegalArgumentException("a write lookup query takes exactly one parameter (the text[] of ids), "
                    + "e.g. SELECT idempotency_key FROM orders WHERE idempotency_key = ANY(?); got: " + query);
        }
        return (ids, target) -> {
            Properties props = new Properties();
            props.setProperty("user", target.user());
            props.setProperty("password", target.password() == null ? "" : target.password());
            props.setProperty("connectTimeout", "5");
            props.setProperty("socketTimeout", "120");
            Set<String> found = new HashSet<>();
            try (Connection c = DriverManager.getConnection(target.jdbcUrl(), props);
                 PreparedStatement s = c.prepareStatement(query)) {
                for (int from = 0; from < ids.size(); from += SQL_CHUNK) {
                    List<String> chunk = ids.subList(from, Math.min(ids.size(), from + SQL_CHUNK));
                    s.setArray(1, c.createArrayOf("text", chunk.toArray()));
                    try (ResultSet rows = s.executeQuery()) {
                        while (rows.next()) {
                            found.add(rows.getString(1));
                        }
                    }
                }
            } catch (SQLException e) {
                throw new SQLException("the lookup '" + query + "' failed on " + target.jdbcUrl() + ": " + e.getMessage(), e);
            }
            return found;
        };
    }

    /**
     * One HTTP GET per id on the application ({@code url} maps an id to its address): 200 means present,
     * 404 absent, anything else fails the lookup. For services with no SQL access; not set-based, so keep
     * it for short runs.
     */
    static WriteLookup http(Function<String, URI> url) {
        return (ids, target) -> {
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            Set<String> found = new HashSet<>();
            for (String id : ids) {
                URI address = url.apply(id);
                HttpResponse<Void> r = client.send(HttpRequest.newBuilder(address).timeout(Duration.ofSeconds(10)).GET()
                        .build(), HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) {
                    found.add(id);
                } else if (r.statusCode() != 404) {
                    throw new IllegalStateException("GET " + address + " answered " + r.statusCode()
                            + "; a lookup must answer 200 (present) or 404 (absent)");
                }
            }
            return found;
        };
    }

    /** Ids per SQL statement: large enough to be set-based, small enough for one array parameter. */
    int SQL_CHUNK = 10_000;
}
