package dev.doorbuster.topology;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a service in a container learns about its database (and, with {@code app.cache}, its cache), as
 * {@code ${name}} placeholders in the values of {@code app.environment} (e.g.
 * {@code "SPRING_DATASOURCE_URL": "${writerJdbcUrl}"}). Addresses are the ones seen from inside the run's network:
 * through the chaos proxy, never straight to a server.
 */
public enum AppPlaceholder {
    /** JDBC URL of the writer: every node's proxy, {@code targetServerType=primary} (follows a failover). */
    WRITER_JDBC_URL("writerJdbcUrl"),
    /** JDBC URL for reads: replicas' proxies first, the primary's last ({@code preferSecondary}). */
    READER_JDBC_URL("readerJdbcUrl"),
    /** {@code host:port} list of the writer URL, for clients that take hosts rather than a JDBC URL. */
    WRITER_HOSTS("writerHosts"),
    /** {@code host:port} list of the reader URL. */
    READER_HOSTS("readerHosts"),
    DB_NAME("dbName"),
    DB_USER("dbUser"),
    DB_PASSWORD("dbPassword"),
    /** With {@code app.cache}: the host of the chaos proxy on the link to Redis ({@link CacheTier#PROXY}). */
    CACHE_HOST("cacheHost"),
    /** With {@code app.cache}: that proxy's port. */
    CACHE_PORT("cachePort");

    private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([^}]*)}");
    private final String key;

    AppPlaceholder(String key) {
        this.key = key;
    }

    public String key() {
        return key;
    }

    public static List<String> keys() {
        return Arrays.stream(values()).map(AppPlaceholder::key).toList();
    }

    /** The placeholder names in {@code value} that are not known (empty when all are). */
    public static List<String> unknownIn(String value) {
        Matcher m = PLACEHOLDER.matcher(value == null ? "" : value);
        List<String> unknown = new java.util.ArrayList<>();
        while (m.find()) {
            if (!keys().contains(m.group(1))) {
                unknown.add(m.group(1));
            }
        }
        return unknown;
    }

    /** True for the placeholders that exist only with the cache tier ({@code app.cache}). */
    public boolean needsCache() {
        return this == CACHE_HOST || this == CACHE_PORT;
    }

    /** The known placeholders in {@code value}, in order of appearance (an unknown one is left out). */
    public static List<AppPlaceholder> foundIn(String value) {
        Matcher m = PLACEHOLDER.matcher(value == null ? "" : value);
        List<AppPlaceholder> found = new java.util.ArrayList<>();
        while (m.find()) {
            Arrays.stream(values()).filter(p -> p.key.equals(m.group(1))).findFirst().ifPresent(found::add);
        }
        return found;
    }

    /** {@code value} with every placeholder replaced by {@code values}' answer. */
    public static String resolve(String value, Function<AppPlaceholder, String> values) {
        Matcher m = PLACEHOLDER.matcher(value);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            AppPlaceholder p = Arrays.stream(values()).filter(v -> v.key.equals(m.group(1))).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("unknown placeholder ${" + m.group(1) + "}"));
            m.appendReplacement(out, Matcher.quoteReplacement(values.apply(p)));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** Every entry of {@code environment} resolved. */
    public static Map<String, String> resolveAll(Map<String, String> environment, Function<AppPlaceholder, String> values) {
        Map<String, String> resolved = new java.util.LinkedHashMap<>();
        environment.forEach((k, v) -> resolved.put(k, resolve(v, values)));
        return resolved;
    }
}
