package dev.doorbuster.app;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Everything a storefront run can be told. Immutable; build it with {@link #builder()} (in-process use)
 * or {@link #fromArgs} (command line and {@code --config FILE}, where the command line wins).
 */
public final class StorefrontConfig {
    /** Where reads go. */
    public enum Routing {
        /** Naive: every read on the replica (reads right after a write can miss it). */
        REPLICA("replica"),
        /** Every read on the primary (correct, but the replica does nothing). */
        PRIMARY("primary"),
        /** Reads carrying a consistency token wait for the replica to replay it, else go to the primary. */
        READ_YOUR_WRITES("read-your-writes"),
        /** A client's reads go to the primary for a while after its write. */
        STICKY("sticky");

        private final String flag;

        Routing(String flag) {
            this.flag = flag;
        }

        public String flag() {
            return flag;
        }

        static Routing parse(String value) {
            for (Routing r : values()) {
                if (r.flag.equals(value)) {
                    return r;
                }
            }
            throw new IllegalArgumentException("--routing must be one of replica, primary, read-your-writes, sticky; got '"
                    + value + "'");
        }
    }

    /** How checkout guards stock against concurrent orders. */
    public enum StockLocking {
        /** Lock the ordered products' rows in id order, check all, decrement: never oversells. */
        ROW_LOCK("row-lock"),
        /**
         * Deliberately broken, for controls only: read stock without a lock and write back the value computed
         * from that read (a lost update), so concurrent orders oversell. Exists to prove a harness catches it.
         */
        NONE("none");

        private final String flag;

        StockLocking(String flag) {
            this.flag = flag;
        }

        public String flag() {
            return flag;
        }

        static StockLocking parse(String value) {
            for (StockLocking s : values()) {
                if (s.flag.equals(value)) {
                    return s;
                }
            }
            throw new IllegalArgumentException("--stock-locking must be one of row-lock, none; got '" + value + "'");
        }
    }

    public static final String USAGE = String.join("\n",
            "Usage: java -cp <classpath> dev.doorbuster.app.Storefront --writer-url JDBC_URL [options]",
            "",
            "The Doorbuster reference storefront: an HTTP JSON shop on a PostgreSQL primary (writer pool) and",
            "replicas (reader pools). Options (also accepted as key=value lines in --config FILE; the command line wins):",
            "  --writer-url URL          JDBC URL of the primary; list every server so failover is followed (required)",
            "  --reader-url URL          JDBC URL of a replica (default: the writer URL). Repeat it for several",
            "                            replicas: one pool each (reader-1, reader-2, ...), every replica read picks",
            "                            one at random. Given on the command line, it replaces the file's list",
            "  --db-user NAME            database user (default postgres; a user= in the URL wins)",
            "  --db-password TEXT        database password (default empty)",
            "  --port N                  HTTP port, 0 = any free port (default 8080)",
            "  --host ADDRESS            address to bind (default 127.0.0.1)",
            "  --routing POLICY          replica | primary | read-your-writes | sticky (default replica)",
            "  --stock-locking MODE      row-lock (default) | none; none is a deliberately broken checkout that",
            "                            oversells under concurrency, only for controls proving a harness catches",
            "                            overselling: never for real use",
            "  --writer-pool-size N      writer pool connections (default 10)",
            "  --reader-pool-size N      reader pool connections (default 10)",
            "  --pool-timeout-ms N       wait for a pooled connection before answering 503 (default 1000, min 250)",
            "  --ryw-wait-ms N           read-your-writes: wait for the replica before using the primary (default 200)",
            "  --sticky-ms N             sticky: reads stay on the primary this long after a write (default 2000)",
            "  --request-timeout-ms N    no request is answered later than this (default 5000)",
            "  --http-threads N          request worker threads (default 64)",
            "  --init-schema             create the database, schema and seed data if absent (idempotent)",
            "  --seed-products N         products to seed (default 10000)",
            "  --seed-users N            users to seed (default 100000)",
            "  --config FILE             read options from FILE (key=value lines, # comments)",
            "  --help                    print this help",
            "");

    private final String host;
    private final int port;
    private final String writerUrl;
    private final List<String> readerUrls;
    private final String dbUser;
    private final String dbPassword;
    private final Routing routing;
    private final StockLocking stockLocking;
    private final int writerPoolSize;
    private final int readerPoolSize;
    private final int poolTimeoutMs;
    private final int rywWaitMs;
    private final int stickyMs;
    private final int requestTimeoutMs;
    private final int httpThreads;
    private final boolean initSchema;
    private final int seedProducts;
    private final int seedUsers;

    private StorefrontConfig(Builder b) {
        this.host = b.host;
        this.port = b.port;
        this.writerUrl = b.writerUrl;
        this.readerUrls = b.readerUrls.isEmpty() ? List.of(b.writerUrl) : List.copyOf(b.readerUrls);
        this.dbUser = b.dbUser;
        this.dbPassword = b.dbPassword;
        this.routing = b.routing;
        this.stockLocking = b.stockLocking;
        this.writerPoolSize = b.writerPoolSize;
        this.readerPoolSize = b.readerPoolSize;
        this.poolTimeoutMs = b.poolTimeoutMs;
        this.rywWaitMs = b.rywWaitMs;
        this.stickyMs = b.stickyMs;
        this.requestTimeoutMs = b.requestTimeoutMs;
        this.httpThreads = b.httpThreads;
        this.initSchema = b.initSchema;
        this.seedProducts = b.seedProducts;
        this.seedUsers = b.seedUsers;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this configuration, to derive a variant. */
    public Builder toBuilder() {
        return builder().host(host).port(port).writerUrl(writerUrl).readerUrls(readerUrls).dbUser(dbUser)
                .dbPassword(dbPassword).routing(routing).stockLocking(stockLocking).writerPoolSize(writerPoolSize).readerPoolSize(readerPoolSize)
                .poolTimeoutMs(poolTimeoutMs).rywWaitMs(rywWaitMs).stickyMs(stickyMs).requestTimeoutMs(requestTimeoutMs)
                .httpThreads(httpThreads).initSchema(initSchema).seedProducts(seedProducts).seedUsers(seedUsers);
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    public String writerUrl() {
        return writerUrl;
    }

    /** The first reader URL (the only one, unless several were given). */
    public String readerUrl() {
        return readerUrls.get(0);
    }

    /** Every reader URL, in the order given: one reader pool each. */
    public List<String> readerUrls() {
        return readerUrls;
    }

    public String dbUser() {
        return dbUser;
    }

    public String dbPassword() {
        return dbPassword;
    }

    public Routing routing() {
        return routing;
    }

    public StockLocking stockLocking() {
        return stockLocking;
    }

    public int writerPoolSize() {
        return writerPoolSize;
    }

    public int readerPoolSize() {
        return readerPoolSize;
    }

    public int poolTimeoutMs() {
        return poolTimeoutMs;
    }

    public int rywWaitMs() {
        return rywWaitMs;
    }

    public int stickyMs() {
        return stickyMs;
    }

    public int requestTimeoutMs() {
        return requestTimeoutMs;
    }

    public int httpThreads() {
        return httpThreads;
    }

    public boolean initSchema() {
        return initSchema;
    }

    public int seedProducts() {
        return seedProducts;
    }

    public int seedUsers() {
        return seedUsers;
    }

    @Override
    public String toString() {
        return "routing=" + routing.flag() + " stock-locking=" + stockLocking.flag() + " writer=" + Database.redact(writerUrl) + " (pool " + writerPoolSize + ")"
                + " reader=" + String.join(" ", readerUrls.stream().map(Database::redact).toList()) + " (pool "
                + readerPoolSize + (readerUrls.size() > 1 ? " each, one picked per read" : "") + ") pool-timeout=" + poolTimeoutMs
                + "ms request-timeout=" + requestTimeoutMs + "ms ryw-wait=" + rywWaitMs + "ms sticky=" + stickyMs
                + "ms http-threads=" + httpThreads;
    }

    /** A command line (or config file) the storefront cannot run with; the message says what to fix. */
    public static final class UsageException extends Exception {
        public UsageException(String message) {
            super(message);
        }
    }

    /** Thrown by {@link #fromArgs} for {@code --help}. */
    public static final class HelpRequested extends Exception {
        public HelpRequested() {
            super("help");
        }
    }

    /**
     * Parses {@code --flag value}, {@code --flag=value} and {@code --config FILE}. Values from the file come
     * first; the command line overrides them, flag by flag. A repeated flag keeps its last value, except
     * {@code reader-url}, which keeps every value (and, given on the command line, replaces the file's list
     * as a whole).
     */
    public static StorefrontConfig fromArgs(String... args) throws UsageException, HelpRequested {
        Map<String, List<String>> options = new LinkedHashMap<>();
        Map<String, List<String>> fromCommandLine = new LinkedHashMap<>();
        String configFile = null;
        for (int i = 0; i < args.length; i++) {
            String arg = Objects.requireNonNull(args[i]);
            if (arg.equals("--help") || arg.equals("-h")) {
                throw new HelpRequested();
            }
            if (!arg.startsWith("--") || arg.length() == 2) {
                throw new UsageException("unexpected argument '" + arg + "' (options start with --)");
            }
            String name = arg.substring(2);
            String value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (!FLAGS.contains(name) && !name.equals("config")) {
                throw new UsageException("unknown option --" + name);
            }
            if (value == null) {
                if (name.equals("init-schema")) {
                    value = "true";
                } else if (i + 1 < args.length) {
                    value = args[++i];
                } else {
                    throw new UsageException("option --" + name + " needs a value");
                }
            }
            if (name.equals("config")) {
                configFile = value;
            } else {
                add(fromCommandLine, name, value);
            }
        }
        if (configFile != null) {
            options.putAll(readFile(Path.of(configFile)));
        }
        options.putAll(fromCommandLine);
        return fromOptions(options);
    }

    private static final List<String> FLAGS = List.of("port", "host", "writer-url", "reader-url", "db-user", "db-password",
            "routing", "stock-locking", "writer-pool-size", "reader-pool-size", "pool-timeout-ms", "ryw-wait-ms", "sticky-ms",
            "request-timeout-ms", "http-threads", "init-schema", "seed-products", "seed-users");

    /** The one option that may be given several times, each value counting. */
    private static final String REPEATABLE = "reader-url";

    private static void add(Map<String, List<String>> options, String name, String value) {
        List<String> values = options.computeIfAbsent(name, n -> new ArrayList<>());
        if (!name.equals(REPEATABLE)) {
            values.clear(); // the last one wins
        }
        values.add(value);
    }

    private static Map<String, List<String>> readFile(Path file) throws UsageException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UsageException("cannot read config file " + file + ": " + e.getMessage());
        }
        Map<String, List<String>> options = new LinkedHashMap<>();
        for (int n = 0; n < lines.size(); n++) {
            String line = lines.get(n).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int eq = line.indexOf('=');
            if (eq <= 0) {
                throw new UsageException(file + ":" + (n + 1) + ": expected key=value, got '" + line + "'");
            }
            String key = line.substring(0, eq).strip();
            key = key.startsWith("--") ? key.substring(2) : key;
            if (!FLAGS.contains(key)) {
                throw new UsageException(file + ":" + (n + 1) + ": unknown option '" + key + "'");
            }
            add(options, key, line.substring(eq + 1).strip());
        }
        return options;
    }

    private static StorefrontConfig fromOptions(Map<String, List<String>> o) throws UsageException {
        Builder b = builder();
        try {
            for (Map.Entry<String, List<String>> e : o.entrySet()) {
                List<String> values = e.getValue();
                String v = values.get(values.size() - 1);
                switch (e.getKey()) {
                    case "port" -> b.port(integer("port", v));
                    case "host" -> b.host(v);
                    case "writer-url" -> b.writerUrl(v);
                    case "reader-url" -> b.readerUrls(values);
                    case "db-user" -> b.dbUser(v);
                    case "db-password" -> b.dbPassword(v);
                    case "routing" -> b.routing(Routing.parse(v.toLowerCase(Locale.ROOT)));
                    case "stock-locking" -> b.stockLocking(StockLocking.parse(v.toLowerCase(Locale.ROOT)));
                    case "writer-pool-size" -> b.writerPoolSize(integer("writer-pool-size", v));
                    case "reader-pool-size" -> b.readerPoolSize(integer("reader-pool-size", v));
                    case "pool-timeout-ms" -> b.poolTimeoutMs(integer("pool-timeout-ms", v));
                    case "ryw-wait-ms" -> b.rywWaitMs(integer("ryw-wait-ms", v));
                    case "sticky-ms" -> b.stickyMs(integer("sticky-ms", v));
                    case "request-timeout-ms" -> b.requestTimeoutMs(integer("request-timeout-ms", v));
                    case "http-threads" -> b.httpThreads(integer("http-threads", v));
                    case "init-schema" -> b.initSchema(bool("init-schema", v));
                    case "seed-products" -> b.seedProducts(integer("seed-products", v));
                    case "seed-users" -> b.seedUsers(integer("seed-users", v));
                    default -> throw new UsageException("unknown option --" + e.getKey());
                }
            }
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    private static int integer(String name, String value) {
        try {
            return Integer.parseInt(value.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " must be a whole number, got '" + value + "'");
        }
    }

    private static boolean bool(String name, String value) {
        return switch (value.strip().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "1", "" -> true;
            case "false", "no", "0" -> false;
            default -> throw new IllegalArgumentException("--" + name + " must be true or false, got '" + value + "'");
        };
    }

    /** Options with their defaults; {@link #build()} checks every value and their relations. */
    public static final class Builder {
        /** More reader pools than this is a typo, not a topology (each holds --reader-pool-size connections). */
        static final int MAX_READER_URLS = 16;

        private String host = "127.0.0.1";
        private int port = 8080;
        private String writerUrl;
        private final List<String> readerUrls = new ArrayList<>();
        private String dbUser = "postgres";
        private String dbPassword = "";
        private Routing routing = Routing.REPLICA;
        private StockLocking stockLocking = StockLocking.ROW_LOCK;
        private int writerPoolSize = 10;
        private int readerPoolSize = 10;
        private int poolTimeoutMs = 1000;
        private int rywWaitMs = 200;
        private int stickyMs = 2000;
        private int requestTimeoutMs = 5000;
        private int httpThreads = 64;
        private boolean initSchema;
        private int seedProducts = 10_000;
        private int seedUsers = 100_000;

        private Builder() {
        }

        public Builder host(String host) {
            this.host = host;
            return this;
        }

        public Builder port(int port) {
            this.port = port;
            return this;
        }

        public Builder writerUrl(String writerUrl) {
            this.writerUrl = writerUrl;
            return this;
        }

        /** One reader URL, replacing any given before; null means "the writer URL". */
        public Builder readerUrl(String readerUrl) {
            this.readerUrls.clear();
            if (readerUrl != null) {
                this.readerUrls.add(readerUrl);
            }
            return this;
        }

        /** Several reader URLs (one pool each, one picked per read), replacing any given before. */
        public Builder readerUrls(List<String> readerUrls) {
            this.readerUrls.clear();
            this.readerUrls.addAll(readerUrls);
            return this;
        }

        public Builder dbUser(String dbUser) {
            this.dbUser = dbUser;
            return this;
        }

        public Builder dbPassword(String dbPassword) {
            this.dbPassword = dbPassword;
            return this;
        }

        public Builder routing(Routing routing) {
            this.routing = routing;
            return this;
        }

        public Builder stockLocking(StockLocking stockLocking) {
            this.stockLocking = stockLocking;
            return this;
        }

        public Builder writerPoolSize(int n) {
            this.writerPoolSize = n;
            return this;
        }

        public Builder readerPoolSize(int n) {
            this.readerPoolSize = n;
            return this;
        }

        public Builder poolTimeoutMs(int ms) {
            this.poolTimeoutMs = ms;
            return this;
        }

        public Builder rywWaitMs(int ms) {
            this.rywWaitMs = ms;
            return this;
        }

        public Builder stickyMs(int ms) {
            this.stickyMs = ms;
            return this;
        }

        public Builder requestTimeoutMs(int ms) {
            this.requestTimeoutMs = ms;
            return this;
        }

        public Builder httpThreads(int n) {
            this.httpThreads = n;
            return this;
        }

        public Builder initSchema(boolean initSchema) {
            this.initSchema = initSchema;
            return this;
        }

        public Builder seedProducts(int n) {
            this.seedProducts = n;
            return this;
        }

        public Builder seedUsers(int n) {
            this.seedUsers = n;
            return this;
        }

        /** @throws IllegalArgumentException naming the option and the accepted range */
        public StorefrontConfig build() {
            if (writerUrl == null || writerUrl.isBlank()) {
                throw new IllegalArgumentException("--writer-url is required (a jdbc:postgresql:// URL of the primary)");
            }
            requireJdbc("writer-url", writerUrl);
            if (readerUrls.size() > MAX_READER_URLS) {
                throw new IllegalArgumentException("--reader-url may be given at most " + MAX_READER_URLS + " times, got "
                        + readerUrls.size());
            }
            for (int i = 0; i < readerUrls.size(); i++) {
                String url = readerUrls.get(i);
                String which = readerUrls.size() == 1 ? "--reader-url" : "--reader-url #" + (i + 1) + " of " + readerUrls.size();
                if (url == null || url.isBlank()) {
                    throw new IllegalArgumentException(which + " is empty (a jdbc:postgresql:// URL of a replica)");
                }
                if (!url.startsWith("jdbc:postgresql:")) {
                    throw new IllegalArgumentException(which + " must be a jdbc:postgresql:// URL, got '"
                            + Database.redact(url) + "'");
                }
            }
            if (host == null || host.isBlank()) {
                throw new IllegalArgumentException("--host must not be empty");
            }
            Objects.requireNonNull(routing, "routing");
            Objects.requireNonNull(stockLocking, "stockLocking");
            Objects.requireNonNull(dbUser, "dbUser");
            Objects.requireNonNull(dbPassword, "dbPassword");
            range("port", port, 0, 65_535);
            range("writer-pool-size", writerPoolSize, 1, 1000);
            range("reader-pool-size", readerPoolSize, 1, 1000);
            range("pool-timeout-ms", poolTimeoutMs, 250, 60_000); // HikariCP refuses less than 250 ms
            range("request-timeout-ms", requestTimeoutMs, 500, 600_000);
            range("ryw-wait-ms", rywWaitMs, 0, 60_000);
            range("sticky-ms", stickyMs, 0, 3_600_000);
            range("http-threads", httpThreads, 1, 4096);
            range("seed-products", seedProducts, 0, 10_000_000);
            range("seed-users", seedUsers, 0, 10_000_000);
            // A pooled wait or a replica wait that could outlast the request bound would make the bound a lie.
            if (poolTimeoutMs >= requestTimeoutMs) {
                throw new IllegalArgumentException("--pool-timeout-ms (" + poolTimeoutMs + ") must be less than "
                        + "--request-timeout-ms (" + requestTimeoutMs + ")");
            }
            if (rywWaitMs >= requestTimeoutMs) {
                throw new IllegalArgumentException("--ryw-wait-ms (" + rywWaitMs + ") must be less than "
                        + "--request-timeout-ms (" + requestTimeoutMs + ")");
            }
            return new StorefrontConfig(this);
        }

        private static void requireJdbc(String name, String url) {
            if (!url.startsWith("jdbc:postgresql:")) {
                throw new IllegalArgumentException("--" + name + " must be a jdbc:postgresql:// URL, got '"
                        + Database.redact(url) + "'");
            }
        }

        private static void range(String name, int value, int min, int max) {
            if (value < min || value > max) {
                throw new IllegalArgumentException("--" + name + " must be between " + min + " and " + max + ", got "
                        + value);
            }
        }
    }
}
