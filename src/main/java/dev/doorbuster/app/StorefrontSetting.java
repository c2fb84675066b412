package dev.doorbuster.app;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The one definition of every storefront setting: its flag, type, accepted values, default and meaning, and the
 * {@link #RULES rules between settings}. Everything else is derived from it: the command line and {@code --config}
 * parsing ({@link StorefrontArgs}), the usage text, the checks of {@link StorefrontConfig.Builder#build()}, the
 * harness's {@code app.*} environment fields (their ranges and the flags it starts the storefront with) and the
 * settings table of docs/storefront.md.
 *
 * <p>A setting with an {@link #field() environment field} can be set from an environment file as
 * {@code app.<field>}; the others (addresses, credentials, schema set-up) are chosen by whoever starts the
 * storefront.
 */
public enum StorefrontSetting {
    WRITER_URL("writer-url", Kind.JDBC_URL, "URL", null, false,
            "JDBC URL of the primary; list every server so a failover is followed"),
    READER_URL("reader-url", Kind.JDBC_URL, "URL", null, false,
            "JDBC URL of a replica. Repeatable, at most " + StorefrontSetting.MAX_READER_URLS
                    + " times: one pool per URL (reader-1, reader-2, ...), every replica read picks one at random."
                    + " Given on the command line, the list replaces the --config file's as a whole"),
    DB_USER("db-user", Kind.TEXT, "NAME", "postgres", false, "database user (a user= in the URL wins)"),
    DB_PASSWORD("db-password", Kind.TEXT, "TEXT", "", false, "database password"),
    PORT("port", Kind.INT, "N", 8080, 0, 65_535, false, "HTTP port, 0 = any free port"),
    HOST("host", Kind.HOST, "ADDRESS", "127.0.0.1", false, "address to bind (a warning if not loopback)"),
    ROUTING("routing", "POLICY", StorefrontConfig.Routing.REPLICA, StorefrontConfig.Routing.values(),
            "where reads go: replica (naive: every read on the replica), primary, read-your-writes (reads wait"
                    + " for the replica to replay the client's token, else use the primary) or sticky (a client's"
                    + " reads stay on the primary for a while after its write)"),
    STOCK_LOCKING("stock-locking", "MODE", StorefrontConfig.StockLocking.ROW_LOCK,
            StorefrontConfig.StockLocking.values(),
            "row-lock, or none: a deliberately broken checkout that oversells under concurrency (stock read"
                    + " without a lock, written back: a lost update), only for controls proving a harness catches"
                    + " overselling: never for real use; the storefront warns at start"),
    WRITER_POOL_SIZE("writer-pool-size", Kind.INT, "N", 10, 1, 1000, true, "writer pool connections"),
    READER_POOL_SIZE("reader-pool-size", Kind.INT, "N", 10, 1, 1000, true, "connections of each reader pool"),
    // HikariCP refuses less than 250 ms.
    POOL_TIMEOUT_MS("pool-timeout-ms", Kind.INT, "N", 1000, 250, 60_000, true,
            "wait for a pooled connection before answering 503"),
    RYW_WAIT_MS("ryw-wait-ms", Kind.INT, "N", 200, 0, 60_000, true,
            "read-your-writes: wait for the replica before using the primary"),
    STICKY_MS("sticky-ms", Kind.INT, "N", 2000, 0, 3_600_000, true,
            "sticky: a client's reads stay on the primary this long after its write"),
    REQUEST_TIMEOUT_MS("request-timeout-ms", Kind.INT, "N", 5000, 500, 600_000, true,
            "no request is answered later than this; statement_timeout, and the socket timeout a little above it"),
    HTTP_THREADS("http-threads", Kind.INT, "N", 64, 1, 4096, true, "request worker threads"),
    PREPARED_STATEMENTS("prepared-statements", "MODE", StorefrontConfig.PreparedStatements.SERVER,
            StorefrontConfig.PreparedStatements.values(),
            "server (the driver names a statement on the server once it has run five times on a connection) or"
                    + " unnamed (prepareThreshold=0: nothing outlives a transaction on the server connection, as a"
                    + " pooler in transaction mode without prepared-statement support needs)"),
    INIT_SCHEMA("init-schema", Kind.BOOL, null, false, false,
            "create the database, tables and seed data if absent (idempotent)"),
    // The harness's shoppers pick ids from 1 to these: an empty shop cannot be loaded.
    SEED_PRODUCTS("seed-products", Kind.INT, "N", 10_000, 1, 10_000_000, true, "products to seed (--init-schema)"),
    SEED_USERS("seed-users", Kind.INT, "N", 100_000, 1, 10_000_000, true, "users to seed (--init-schema)"),
    // The cache-aside tier (CachedReads). Its address is chosen by whoever starts the storefront (the harness puts its
    // chaos proxy in between); its behaviour is the environment's to choose, like the routing policy.
    CACHE_URL("cache-url", Kind.REDIS_URL, "URL", null, false,
            "Redis of the cache-aside tier (products, category pages, carts, profiles); absent: no cache, every read"
                    + " goes to the database"),
    CACHE_TTL_MS("cache-ttl-ms", Kind.INT, "N", 30_000, 100, 86_400_000, true,
            "time to live of every cached answer; category pages are never deleted by writes, so their stock may be"
                    + " this old"),
    CACHE_INVALIDATION("cache-invalidation", "POLICY", StorefrontConfig.CacheInvalidation.DELETE_AFTER_COMMIT,
            StorefrontConfig.CacheInvalidation.values(),
            "delete-after-commit (a write deletes the cached copies of what it changed once its transaction has"
                    + " committed), or none: the classic bug, writes never delete, so reads stay stale until the TTL;"
                    + " only for controls"),
    CACHE_REFILL("cache-refill", "SOURCE", StorefrontConfig.CacheRefill.PRIMARY, StorefrontConfig.CacheRefill.values(),
            "where a miss is read before it is cached: primary (the writer pool), or reader (through --routing, so"
                    + " possibly a lagging replica, whose stale answer is then served from the cache for the TTL)"),
    CACHE_TIMEOUT_MS("cache-timeout-ms", Kind.INT, "N", 50, 1, 120_000, true,
            "wait for each cache command. 60000 is Lettuce's own default, which blocks a request for a minute on a"
                    + " black-holed cache; it may exceed --request-timeout-ms on purpose (a control shows that bug)"),
    CACHE_ON_ERROR("cache-on-error", "MODE", StorefrontConfig.CacheOnError.FALLBACK,
            StorefrontConfig.CacheOnError.values(),
            "a cache that fails or times out: fallback (counts as a miss, the database answers) or fail (503"
                    + " cache_unavailable)"),
    CACHE_STAMPEDE("cache-stampede", "MODE", StorefrontConfig.CacheStampede.NONE,
            StorefrontConfig.CacheStampede.values(),
            "none (every miss reads the database) or single-flight (concurrent misses of one key in this storefront"
                    + " wait for one database read, at most the request bound)");

    /** More reader pools than this is a typo, not a topology (each holds --reader-pool-size connections). */
    public static final int MAX_READER_URLS = 16;

    /** What a setting's values are. */
    public enum Kind {
        /** A whole number within {@link #min()}..{@link #max()}. */
        INT,
        /** One of {@link #choices()}. */
        CHOICE,
        /** true or false; as a flag, given alone it means true. */
        BOOL,
        /** Any text. */
        TEXT,
        /** A non-empty address. */
        HOST,
        /** A {@code jdbc:postgresql:} URL. */
        JDBC_URL,
        /** A {@code redis://host:port} URL; absent means the tier it names is off. */
        REDIS_URL
    }

    /**
     * {@code redis://HOST:PORT}: a name or IPv4 address, or an IPv6 one in brackets; nothing else (no password, no
     * database number, no TLS), since the storefront's cache client uses none of them.
     */
    private static final Pattern REDIS_URL_FORM = Pattern.compile(
            "redis://(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9._-]+):([0-9]{1,5})/?");

    /** A value of a {@link Kind#CHOICE} setting, named on the command line by {@link #flag()}. */
    public interface Choice {
        String flag();
    }

    /**
     * {@code lower} must be less than {@code upper}: a wait that could outlast the request bound would make the
     * bound a lie.
     */
    public record Rule(StorefrontSetting lower, StorefrontSetting upper, String why) {
        public boolean holds(int lowerValue, int upperValue) {
            return lowerValue < upperValue;
        }

        /** The message for a violation, naming each setting with {@code name}. */
        public String problem(java.util.function.Function<StorefrontSetting, String> name, int lowerValue,
                              int upperValue) {
            return name.apply(lower) + " (" + lowerValue + ") must be less than " + name.apply(upper) + " ("
                    + upperValue + "): " + why + "; with " + name.apply(upper) + " " + upperValue + ", "
                    + name.apply(lower) + " may be " + lower.min + " to " + (upperValue - 1)
                    + (lowerValue >= lower.min && lowerValue < upper.max
                    ? ", or raise " + name.apply(upper) + " above " + lowerValue : "");
        }
    }

    /** The relations between settings, checked after each value is known to be in range. */
    public static final List<Rule> RULES = List.of(
            new Rule(POOL_TIMEOUT_MS, REQUEST_TIMEOUT_MS, "a request waiting for a pooled connection must still get "
                    + "its 503 within the request bound"),
            new Rule(RYW_WAIT_MS, REQUEST_TIMEOUT_MS, "a read waiting for the replica must still be answered within "
                    + "the request bound"));

    private final String flag;
    private final Kind kind;
    private final String metavar;
    private final Object defaultValue;
    private final int min;
    private final int max;
    private final List<Choice> choices;
    private final boolean environment;
    private final String doc;

    StorefrontSetting(String flag, Kind kind, String metavar, Object defaultValue, int min, int max,
                      boolean environment, String doc) {
        this.flag = flag;
        this.kind = kind;
        this.metavar = metavar;
        this.defaultValue = defaultValue;
        this.min = min;
        this.max = max;
        this.choices = List.of();
        this.environment = environment;
        this.doc = doc;
    }

    StorefrontSetting(String flag, Kind kind, String metavar, Object defaultValue, boolean environment, String doc) {
        this(flag, kind, metavar, defaultValue, 0, 0, environment, doc);
    }

    StorefrontSetting(String flag, String metavar, Choice defaultValue, Choice[] choices, String doc) {
        this.flag = flag;
        this.kind = Kind.CHOICE;
        this.metavar = metavar;
        this.defaultValue = defaultValue;
        this.min = 0;
        this.max = 0;
        this.choices = List.of(choices);
        this.environment = true;
        this.doc = doc;
    }

    /** The name on the command line and in {@code --config} files, without the dashes: {@code pool-timeout-ms}. */
    public String flag() {
        return flag;
    }

    /** {@code --pool-timeout-ms}. */
    public String option() {
        return "--" + flag;
    }

    /**
     * The environment file's name for it ({@code app.<field>}): the flag in camel case ({@code poolTimeoutMs}), or
     * null for a setting the harness chooses itself (addresses, credentials, schema set-up).
     */
    public String field() {
        if (!environment) {
            return null;
        }
        StringBuilder camel = new StringBuilder();
        boolean upper = false;
        for (char c : flag.toCharArray()) {
            if (c == '-') {
                upper = true;
            } else {
                camel.append(upper ? Character.toUpperCase(c) : c);
                upper = false;
            }
        }
        return camel.toString();
    }

    public Kind kind() {
        return kind;
    }

    /** Lowest accepted value of an {@link Kind#INT} setting. */
    public int min() {
        return min;
    }

    /** Highest accepted value of an {@link Kind#INT} setting. */
    public int max() {
        return max;
    }

    /** The accepted values of a {@link Kind#CHOICE} setting, in their documented order. */
    public List<String> choices() {
        return choices.stream().map(Choice::flag).toList();
    }

    /** The value when not given (Integer, Boolean, String or a {@link Choice}); null: required, or no value. */
    public Object defaultValue() {
        return defaultValue;
    }

    /** Several values count (each a pool), rather than the last one winning. */
    public boolean repeatable() {
        return this == READER_URL;
    }

    /** Given alone on the command line, it means true. */
    public boolean takesNoValue() {
        return kind == Kind.BOOL;
    }

    public String doc() {
        return doc;
    }

    /** What is accepted, for messages: {@code between 250 and 60000}, {@code one of row-lock, none}. */
    public String allowed() {
        return switch (kind) {
            case INT -> "between " + min + " and " + max;
            case CHOICE -> "one of " + String.join(", ", choices());
            case BOOL -> "true or false";
            case TEXT -> "any text";
            case HOST -> "a non-empty address";
            case JDBC_URL -> "a jdbc:postgresql:// URL";
            case REDIS_URL -> "redis://HOST:PORT (e.g. redis://127.0.0.1:6379); leave it out to run without a cache";
        };
    }

    /**
     * Parses one textual value (command line, {@code --config} line, environment field).
     *
     * @return Integer, Boolean, String or the {@link Choice}
     * @throws IllegalArgumentException {@code --name must be ..., got '...'}
     */
    public Object parse(String text) {
        Objects.requireNonNull(text, flag);
        String v = text.strip();
        Object value = switch (kind) {
            case INT -> {
                try {
                    yield Integer.parseInt(v);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(option() + " must be a whole number " + allowed() + ", got '"
                            + text + "'");
                }
            }
            case BOOL -> switch (v.toLowerCase(Locale.ROOT)) {
                case "true", "yes", "1", "" -> Boolean.TRUE;
                case "false", "no", "0" -> Boolean.FALSE;
                default -> throw new IllegalArgumentException(option() + " must be true or false, got '" + text + "'");
            };
            case CHOICE -> choices.stream().filter(c -> c.flag().equals(v.toLowerCase(Locale.ROOT))).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException(option() + " must be " + allowed() + "; got '"
                            + text + "'"));
            case TEXT, HOST, JDBC_URL, REDIS_URL -> text;
        };
        String problem = problem(value);
        if (problem != null) {
            throw new IllegalArgumentException(option() + " " + problem);
        }
        return value;
    }

    /**
     * Checks one typed value against this setting's range or kind.
     *
     * @return null if accepted, else what is wrong without the setting's name ({@code must be between 250 and
     *         60000, got 100})
     */
    public String problem(Object value) {
        switch (kind) {
            case INT -> {
                if (!(value instanceof Integer i)) {
                    return "must be a whole number " + allowed() + ", got '" + value + "'";
                }
                return i < min || i > max ? "must be " + allowed() + ", got " + i : null;
            }
            case CHOICE -> {
                String text = value instanceof Choice c ? c.flag() : String.valueOf(value);
                return choices().contains(text) ? null : "must be " + allowed() + "; got '" + text + "'";
            }
            case BOOL -> {
                return value instanceof Boolean ? null : "must be true or false, got '" + value + "'";
            }
            case TEXT -> {
                return value == null ? "must be given" : null;
            }
            case HOST -> {
                return value == null || value.toString().isBlank() ? "must not be empty" : null;
            }
            case JDBC_URL -> {
                if (value == null || value.toString().isBlank()) {
                    return "is empty (" + allowed() + ")";
                }
                return value.toString().startsWith("jdbc:postgresql:") ? null
                        : "must be " + allowed() + ", got '" + Database.redact(value.toString()) + "'";
            }
            case REDIS_URL -> {
                if (value == null) {
                    return null; // absent: the tier is off
                }
                return redisAddress(value.toString()) != null ? null
                        : "must be " + allowed() + ", got '" + redactRedis(value.toString()) + "'";
            }
            default -> throw new IllegalStateException(kind.name());
        }
    }

    /** A Redis server's address, as {@link Kind#REDIS_URL} accepts it. */
    public record RedisAddress(String host, int port) {
    }

    /** The host and port of a {@code redis://HOST:PORT} URL, or null if it is not one (port 1-65535). */
    public static RedisAddress redisAddress(String url) {
        Matcher m = REDIS_URL_FORM.matcher(url.strip());
        if (!m.matches()) {
            return null;
        }
        int port = Integer.parseInt(m.group(2));
        if (port < 1 || port > 65_535) {
            return null;
        }
        String host = m.group(1);
        return new RedisAddress(host.startsWith("[") ? host.substring(1, host.length() - 1) : host, port);
    }

    /** A refused Redis URL for messages: a password in it ({@code redis://:secret@h:1}) is masked. */
    private static String redactRedis(String url) {
        return url.replaceAll("(//[^/@]*?:)[^/@]*@", "$1***@");
    }

    /** A typed value as the command line writes it. */
    public String format(Object value) {
        return value instanceof Choice c ? c.flag() : String.valueOf(value);
    }

    /** The settings an environment file can set, as {@code app.<field>}. */
    public static List<StorefrontSetting> environmentSettings() {
        return Arrays.stream(values()).filter(s -> s.environment).toList();
    }

    /** The setting named by {@code flag} ({@code pool-timeout-ms}), or null. */
    public static StorefrontSetting byFlag(String flag) {
        return Arrays.stream(values()).filter(s -> s.flag.equals(flag)).findFirst().orElse(null);
    }

    private String defaultText() {
        if (this == READER_URL) {
            return "the writer URL";
        }
        if (defaultValue == null) {
            return kind == Kind.BOOL || kind == Kind.REDIS_URL ? "off" : "required";
        }
        if (defaultValue instanceof Boolean b) {
            return b ? "on" : "off";
        }
        String text = format(defaultValue);
        return text.isEmpty() ? "empty" : text;
    }

    // ---- derived texts ---------------------------------------------------------------------------------------

    /** The storefront's {@code --help}. */
    public static String usage() {
        List<String> lines = new ArrayList<>(List.of(
                "Usage: java -cp <classpath> dev.doorbuster.app.Storefront --writer-url JDBC_URL [options]",
                "",
                "The Doorbuster reference storefront: an HTTP JSON shop on a PostgreSQL primary (writer pool) and",
                "replicas (reader pools). Options (also accepted as key=value lines in --config FILE; the command line wins):"));
        for (StorefrontSetting s : values()) {
            String head = "  " + s.option() + (s.metavar == null ? "" : " " + s.metavar);
            String def = s.defaultText();
            String text = s.doc + " (" + (s.kind == Kind.INT ? s.min + ".." + s.max + ", " : "")
                    + (def.equals("required") ? def : "default " + def) + ")";
            lines.addAll(wrap(head, text));
        }
        lines.addAll(wrap("  --config FILE", "read options from FILE (key=value lines, # comments)"));
        lines.addAll(wrap("  --help", "print this help"));
        lines.add("Rules between options:");
        for (Rule rule : RULES) {
            lines.addAll(wrap("  " + rule.lower.option() + " < " + rule.upper.option(), rule.why));
        }
        lines.add("");
        return String.join("\n", lines);
    }

    private static final int DOC_COLUMN = 28;
    private static final int WIDTH = 112;

    private static List<String> wrap(String head, String text) {
        List<String> out = new ArrayList<>();
        StringBuilder line = new StringBuilder(head);
        if (line.length() >= DOC_COLUMN - 1) {
            out.add(line.toString());
            line = new StringBuilder();
        }
        for (String word : text.split(" ")) {
            if (line.length() < DOC_COLUMN) {
                line.append(" ".repeat(DOC_COLUMN - line.length())).append(word);
            } else if (line.length() + 1 + word.length() > WIDTH) {
                out.add(line.toString());
                line = new StringBuilder(" ".repeat(DOC_COLUMN)).append(word);
            } else {
                line.append(' ').append(word);
            }
        }
        out.add(line.toString());
        return out;
    }

    /** The settings table (Markdown) of docs/storefront.md, checked against that page by a test. */
    public static String markdownTable() {
        List<String> rows = new ArrayList<>(List.of(
                "| flag (also `key=value` in `--config FILE`) | environment field | accepted | default | meaning |",
                "|---|---|---|---|---|"));
        for (StorefrontSetting s : values()) {
            String accepted = switch (s.kind) {
                case INT -> s.min + " – " + s.max;
                case CHOICE -> s.choices().stream().map(c -> "`" + c + "`").collect(Collectors.joining(" \\| "));
                case BOOL -> "flag alone, or `true`/`false`";
                case TEXT -> "text";
                case HOST -> "address";
                case JDBC_URL -> "`jdbc:postgresql:` URL" + (s.repeatable() ? ", up to " + MAX_READER_URLS : "");
                case REDIS_URL -> "`redis://host:port`";
            };
            String def = s.defaultText();
            rows.add("| `" + s.option() + "` | " + (s.field() == null ? "(set by the harness)" : "`app." + s.field() + "`")
                    + " | " + accepted + " | " + (def.equals("required") || def.equals("empty") || def.startsWith("the")
                    || def.equals("on") || def.equals("off") ? def : "`" + def + "`") + " | " + s.doc.replace("|", "\\|")
                    + " |");
        }
        rows.add("");
        for (Rule rule : RULES) {
            rows.add("- `" + rule.lower.option() + "` must be less than `" + rule.upper.option() + "`: " + rule.why
                    + ".");
        }
        return String.join("\n", rows) + "\n";
    }
}
