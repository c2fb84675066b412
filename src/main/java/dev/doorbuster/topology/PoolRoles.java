package dev.doorbuster.topology;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * The one definition of {@code app.pools}: which of the service's HikariCP connection pools is which, by the
 * {@code pool} label of its {@code hikaricp_connections_*} meters (Prometheus format). The probes chart and judge the
 * pools by role: {@code writer} (on the primary) and {@code reader} (on a replica; several are summed).
 *
 * <pre>{@code "app": { "pools": { "HikariPool-1": "writer", "HikariPool-2": "reader" } } }</pre>
 * or for one run {@code -Dapp.pools.HikariPool-1=writer}. A pool the setting does not name has no role: it is neither
 * charted nor judged.
 *
 * <p><b>Left out (the default)</b>, the names are recognised: {@code writer}; {@code reader} and {@code reader-1},
 * {@code reader-2}, ... (the storefront's, and what the guide used to ask services for); and when no pool has one
 * of those names and the service has <b>exactly one pool, whatever its name, it is the writer</b>. Spring Boot names
 * its one pool {@code HikariPool-1}, and a service with a single pool sends every query through it, writes included,
 * so it must be on the primary: a writer by what it does. Two or more pools with other names cannot be told apart (is
 * {@code HikariPool-2} a replica or a batch pool?): none is given a role, and the pool checks say so, naming the pools
 * and this setting.
 */
public final class PoolRoles {
    /** The environment field, as messages and docs write it. */
    public static final String FIELD = "app.pools";
    /** The environment field naming the service's metrics, where the pools' meters are read. */
    public static final String METRICS_FIELD = "app.metricsUrl";
    /** The recognised name of the writer pool (when the setting is left out). */
    static final String WRITER_NAME = "writer";
    /** The recognised name of a reader pool, alone or followed by {@code -<n>} (when the setting is left out). */
    static final String READER_NAME = "reader";

    /** What a pool is for. */
    public enum Role {
        WRITER, READER;

        /** As the setting writes it: {@code writer}, {@code reader}. */
        public String text() {
            return name().toLowerCase(Locale.ROOT);
        }

        static Role of(String text) {
            for (Role role : values()) {
                if (role.text().equals(text)) {
                    return role;
                }
            }
            return null;
        }
    }

    private final Map<String, Role> named;

    private PoolRoles(Map<String, Role> named) {
        this.named = Collections.unmodifiableMap(new LinkedHashMap<>(named));
    }

    /** The default: the storefront's names, or a single pool as the writer. */
    public static PoolRoles byDefault() {
        return new PoolRoles(Map.of());
    }

    /** Exactly these pools, with these roles. */
    public static PoolRoles of(Map<String, Role> named) {
        return new PoolRoles(named);
    }

    /** The pools the setting names (empty: left out, the default rule applies). */
    public Map<String, Role> named() {
        return named;
    }

    /**
     * The role of each pool in {@code seen} (the pool labels of one scrape's HikariCP meters); a pool without one is
     * left out of the answer.
     */
    public Map<String, Role> roles(Collection<String> seen) {
        Map<String, Role> roles = new LinkedHashMap<>();
        if (!named.isEmpty()) {
            seen.stream().filter(named::containsKey).forEach(pool -> roles.put(pool, named.get(pool)));
            return roles;
        }
        for (String pool : seen) {
            if (pool.equals(WRITER_NAME)) {
                roles.put(pool, Role.WRITER);
            } else if (pool.equals(READER_NAME) || pool.startsWith(READER_NAME + "-")) {
                roles.put(pool, Role.READER);
            }
        }
        if (roles.isEmpty() && seen.size() == 1) {
            roles.put(seen.iterator().next(), Role.WRITER);
        }
        return roles;
    }

    /** What the setting accepts, for messages. */
    static String expected() {
        return "a JSON object of pool name (the pool label of the service's hikaricp_connections_* meters) to role, "
                + "like {\"HikariPool-1\": \"writer\"}; roles: " + roleList() + " (or leave it out: writer and reader* "
                + "by name, or a single pool as the writer)";
    }

    private static String roleList() {
        return java.util.Arrays.stream(Role.values()).map(Role::text).collect(Collectors.joining(", "));
    }

    /**
     * Reads the merged environment's {@code app.pools} (null or missing: left out).
     *
     * @param refusal makes the exception naming the file or -D property, the field and what is accepted
     */
    public static PoolRoles read(JsonNode pools, SloBudget.Refusal refusal) {
        if (pools == null || pools.isMissingNode() || pools.isNull()) {
            return byDefault();
        }
        if (!pools.isObject()) {
            throw refusal.wrong(FIELD, "is " + shown(pools) + "; expected " + expected());
        }
        Map<String, Role> named = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> entry : pools.properties()) {
            String pool = entry.getKey();
            if (pool.isBlank()) {
                throw refusal.wrong(FIELD, "names a pool '" + pool + "'; expected the pool label of the service's "
                        + "hikaricp_connections_* meters, like \"HikariPool-1\"");
            }
            JsonNode value = entry.getValue();
            Role role = value.isTextual() ? Role.of(value.asText()) : null;
            if (role == null) {
                throw refusal.wrong(FIELD + "." + pool, "is " + shown(value) + "; expected one of " + roleList());
            }
            named.put(pool, role);
        }
        return new PoolRoles(named);
    }

    /**
     * Binds a value {@link EnvironmentLoader} has already checked with {@link #read} naming the file, so a refusal
     * here is a bug.
     */
    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    static PoolRoles fromJson(JsonNode pools) {
        return read(pools, new SloBudget.Refusal() {
            @Override
            public RuntimeException wrong(String field, String problem) {
                return new IllegalArgumentException("field '" + field + "' " + problem);
            }

            @Override
            public RuntimeException unknown(String field, String parent, java.util.Set<String> allowed) {
                return new IllegalArgumentException("unknown field '" + field + "'");
            }
        });
    }

    /** As the environment file writes it. */
    @JsonValue
    Map<String, String> json() {
        Map<String, String> json = new LinkedHashMap<>();
        named.forEach((pool, role) -> json.put(pool, role.text()));
        return json;
    }

    private static String shown(JsonNode node) {
        return node.isTextual() ? "'" + node.asText() + "'" : node.toString();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof PoolRoles roles && roles.named.equals(named);
    }

    @Override
    public int hashCode() {
        return named.hashCode();
    }

    @Override
    public String toString() {
        return named.isEmpty() ? "PoolRoles[by default]" : "PoolRoles" + json();
    }
}
