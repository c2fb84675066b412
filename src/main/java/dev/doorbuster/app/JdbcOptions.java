package dev.doorbuster.app;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;

/**
 * The PgJDBC connection options of the storefront's pools, computed in this one place from the request bound:
 * used as the storefront's driver properties and by whoever builds URLs for it (the harness), so that no URL
 * carries a socket timeout other than the computed one. The short connect/login timeouts keep a dead or
 * black-holed host from hanging a request; the server cancels a statement at the request bound
 * ({@code statement_timeout}) and the socket gives up {@value #SOCKET_SLACK_SECONDS} s later, so a
 * slow-but-alive server costs a cancelled statement, not a broken connection.
 */
public final class JdbcOptions {
    public static final int CONNECT_TIMEOUT_SECONDS = 2;
    public static final int LOGIN_TIMEOUT_SECONDS = 5;
    public static final int HOST_RECHECK_SECONDS = 1;
    /** PgJDBC's option: after how many runs on a connection a statement is prepared on the server (0: never). */
    public static final String PREPARE_THRESHOLD = "prepareThreshold";
    /** How much longer than the request bound the socket waits. */
    public static final int SOCKET_SLACK_SECONDS = 2;

    /** {@code targetServerType} of the writer: follows a failover on a URL listing every server. */
    public static final String WRITER_TARGET = "primary";
    /** {@code targetServerType} of a reader: replicas first, the primary when none answers. */
    public static final String READER_TARGET = "preferSecondary";

    private JdbcOptions() {
    }

    /** The request bound rounded up to whole seconds, plus {@value #SOCKET_SLACK_SECONDS}. */
    public static int socketTimeoutSeconds(int requestTimeoutMs) {
        return (requestTimeoutMs + 999) / 1000 + SOCKET_SLACK_SECONDS;
    }

    /**
     * The options that belong in a URL, in a fixed order: {@code targetServerType}, {@code sslmode},
     * {@code connectTimeout}, {@code socketTimeout}, {@code loginTimeout}, {@code hostRecheckSeconds}.
     */
    public static Map<String, String> connection(String targetServerType, int requestTimeoutMs) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("targetServerType", targetServerType);
        p.put("sslmode", "disable"); // loopback; sslmode=prefer doubles every connect timeout
        p.put("connectTimeout", Integer.toString(CONNECT_TIMEOUT_SECONDS));
        p.put("socketTimeout", Integer.toString(socketTimeoutSeconds(requestTimeoutMs)));
        p.put("loginTimeout", Integer.toString(LOGIN_TIMEOUT_SECONDS));
        p.put("hostRecheckSeconds", Integer.toString(HOST_RECHECK_SECONDS));
        return p;
    }

    /** {@link #connection} as a URL query (no leading {@code ?}). */
    public static String query(String targetServerType, int requestTimeoutMs) {
        return connection(targetServerType, requestTimeoutMs).entrySet().stream()
                .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining("&"));
    }

    /**
     * The storefront's driver properties for one pool: {@link #connection} plus the server-side
     * {@code statement_timeout}, TCP keep-alive, the pool's application name and, for
     * {@link StorefrontConfig.PreparedStatements#UNNAMED}, {@code prepareThreshold=0}. PgJDBC lets URL parameters win
     * over these, which is why URLs built for the storefront use {@link #query} with the same bound.
     */
    static Properties driverProperties(String targetServerType, int requestTimeoutMs, String applicationName,
                                       StorefrontConfig.PreparedStatements prepared) {
        Properties p = new Properties();
        connection(targetServerType, requestTimeoutMs).forEach(p::setProperty);
        if (prepared == StorefrontConfig.PreparedStatements.UNNAMED) {
            p.setProperty(PREPARE_THRESHOLD, "0");
        }
        p.setProperty("options", "-c statement_timeout=" + requestTimeoutMs);
        p.setProperty("tcpKeepAlive", "true");
        p.setProperty("ApplicationName", applicationName);
        return p;
    }
}
