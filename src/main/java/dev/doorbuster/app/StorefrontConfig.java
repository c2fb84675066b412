package dev.doorbuster.app;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Everything a storefront run can be told: one value per {@link StorefrontSetting}. Immutable; build it with
 * {@link #builder()} (in-process use) or {@link #fromArgs} (command line and {@code --config FILE}, parsed by
 * {@link StorefrontArgs}). Names, types, ranges, defaults, the rules between settings and the usage text all
 * come from {@link StorefrontSetting}.
 */
public final class StorefrontConfig {
    /** Where reads go. */
    public enum Routing implements StorefrontSetting.Choice {
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

        @Override
        public String flag() {
            return flag;
        }
    }

    /** How checkout guards stock against concurrent orders. */
    public enum StockLocking implements StorefrontSetting.Choice {
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

        @Override
        public String flag() {
            return flag;
        }
    }

    /** What a write does to the cached copies of what it changed (see {@link CachedReads}). */
    public enum CacheInvalidation implements StorefrontSetting.Choice {
        /** Once the write's transaction has committed, DEL the keys it made stale. */
        DELETE_AFTER_COMMIT("delete-after-commit"),
        /** Deliberately broken, for controls only: writes delete nothing, so reads stay stale until the TTL. */
        NONE("none");

        private final String flag;

        CacheInvalidation(String flag) {
            this.flag = flag;
        }

        @Override
        public String flag() {
            return flag;
        }
    }

    /** Where a cache miss is read before it is cached. */
    public enum CacheRefill implements StorefrontSetting.Choice {
        /** The writer pool: a refill never caches a replica's stale row. */
        PRIMARY("primary"),
        /** Through the read routing ({@code --routing}): possibly a lagging replica, whose answer is then cached. */
        READER("reader");

        private final String flag;

        CacheRefill(String flag) {
            this.flag = flag;
        }

        @Override
        public String flag() {
            return flag;
        }
    }

    /** What a read does when the cache fails or does not answer within {@code --cache-timeout-ms}. */
    public enum CacheOnError implements StorefrontSetting.Choice {
        /** Count it as a miss: the database answers (and nothing is cached). */
        FALLBACK("fallback"),
        /** Answer 503 {@code cache_unavailable}. */
        FAIL("fail");

        private final String flag;

        CacheOnError(String flag) {
            this.flag = flag;
        }

        @Override
        public String flag() {
            return flag;
        }
    }

    /** What concurrent misses of one key do. */
    public enum CacheStampede implements StorefrontSetting.Choice {
        /** Each reads the database. */
        NONE("none"),
        /** The first reads the database; the others (in this storefront) wait for its answer. */
        SINGLE_FLIGHT("single-flight");

        private final String flag;

        CacheStampede(String flag) {
            this.flag = flag;
        }

        @Override
        public String flag() {
            return flag;
        }
    }

    /** How the storefront's driver prepares its statements on the database. */
    public enum PreparedStatements implements StorefrontSetting.Choice {
        /**
         * PgJDBC's default: a statement run a fifth time on a connection is prepared on the server under a name and
         * reused. Behind a pooler in transaction mode that name may not exist on the next server connection.
         */
        SERVER("server"),
        /**
         * {@code prepareThreshold=0}: every statement is parsed unnamed, nothing lives on the server connection from
         * one transaction to the next. What a pooler in transaction mode without protocol-level prepared statements
         * (PgBouncer before 1.21, Debian 12's 1.18) needs.
         */
        UNNAMED("unnamed");

        private final String flag;

        PreparedStatements(String flag) {
            this.flag = flag;
        }

        @Override
        public String flag() {
            return flag;
        }
    }

    /** The storefront's {@code --help}, from {@link StorefrontSetting}. */
    public static final String USAGE = StorefrontSetting.usage();

    private final Map<StorefrontSetting, Object> values;

    private StorefrontConfig(Map<StorefrontSetting, Object> values) {
        this.values = values;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this configuration, to derive a variant. */
    public Builder toBuilder() {
        Builder b = builder();
        b.values.putAll(values);
        return b;
    }

    /** The value of {@code setting}: Integer, Boolean, String, a {@link StorefrontSetting.Choice}, or (reader-url) a List. */
    public Object get(StorefrontSetting setting) {
        return values.get(setting);
    }

    private int integer(StorefrontSetting setting) {
        return (Integer) values.get(setting);
    }

    public String host() {
        return (String) values.get(StorefrontSetting.HOST);
    }

    public int port() {
        return integer(StorefrontSetting.PORT);
    }

    public String writerUrl() {
        return (String) values.get(StorefrontSetting.WRITER_URL);
    }

    /** The first reader URL (the only one, unless several were given). */
    public String readerUrl() {
        return readerUrls().get(0);
    }

    /** Every reader URL, in the order given: one reader pool each. */
    @SuppressWarnings("unchecked")
    public List<String> readerUrls() {
        return (List<String>) values.get(StorefrontSetting.READER_URL);
    }

    public String dbUser() {
        return (String) values.get(StorefrontSetting.DB_USER);
    }

    public String dbPassword() {
        return (String) values.get(StorefrontSetting.DB_PASSWORD);
    }

    public Routing routing() {
        return (Routing) values.get(StorefrontSetting.ROUTING);
    }

    public StockLocking stockLocking() {
        return (StockLocking) values.get(StorefrontSetting.STOCK_LOCKING);
    }

    public int writerPoolSize() {
        return integer(StorefrontSetting.WRITER_POOL_SIZE);
    }

    public int readerPoolSize() {
        return integer(StorefrontSetting.READER_POOL_SIZE);
    }

    public int poolTimeoutMs() {
        return integer(StorefrontSetting.POOL_TIMEOUT_MS);
    }

    public int rywWaitMs() {
        return integer(StorefrontSetting.RYW_WAIT_MS);
    }

    public int stickyMs() {
        return integer(StorefrontSetting.STICKY_MS);
    }

    public int requestTimeoutMs() {
        return integer(StorefrontSetting.REQUEST_TIMEOUT_MS);
    }

    public int httpThreads() {
        return integer(StorefrontSetting.HTTP_THREADS);
    }

    public boolean initSchema() {
        return (Boolean) values.get(StorefrontSetting.INIT_SCHEMA);
    }

    public int seedProducts() {
        return integer(StorefrontSetting.SEED_PRODUCTS);
    }

    public int seedUsers() {
        return integer(StorefrontSetting.SEED_USERS);
    }

    /** The cache tier's {@code redis://host:port}, or null: no cache tier. */
    public String cacheUrl() {
        return (String) values.get(StorefrontSetting.CACHE_URL);
    }

    public int cacheTtlMs() {
        return integer(StorefrontSetting.CACHE_TTL_MS);
    }

    public CacheInvalidation cacheInvalidation() {
        return (CacheInvalidation) values.get(StorefrontSetting.CACHE_INVALIDATION);
    }

    public CacheRefill cacheRefill() {
        return (CacheRefill) values.get(StorefrontSetting.CACHE_REFILL);
    }

    public int cacheTimeoutMs() {
        return integer(StorefrontSetting.CACHE_TIMEOUT_MS);
    }

    public CacheOnError cacheOnError() {
        return (CacheOnError) values.get(StorefrontSetting.CACHE_ON_ERROR);
    }

    public CacheStampede cacheStampede() {
        return (CacheStampede) values.get(StorefrontSetting.CACHE_STAMPEDE);
    }

    public PreparedStatements preparedStatements() {
        return (PreparedStatements) values.get(StorefrontSetting.PREPARED_STATEMENTS);
    }

    @Override
    public String toString() {
        List<String> readerUrls = readerUrls();
        return "routing=" + routing().flag() + " stock-locking=" + stockLocking().flag() + " writer="
                + Database.redact(writerUrl()) + " (pool " + writerPoolSize() + ")"
                + " reader=" + String.join(" ", readerUrls.stream().map(Database::redact).toList()) + " (pool "
                + readerPoolSize() + (readerUrls.size() > 1 ? " each, one picked per read" : "") + ") pool-timeout="
                + poolTimeoutMs() + "ms request-timeout=" + requestTimeoutMs() + "ms ryw-wait=" + rywWaitMs()
                + "ms sticky=" + stickyMs() + "ms http-threads=" + httpThreads() + " prepared-statements="
                + preparedStatements().flag()
                + (cacheUrl() == null ? " cache=off" : " cache=" + cacheUrl() + " (ttl " + cacheTtlMs()
                + "ms, invalidation " + cacheInvalidation().flag() + ", refill " + cacheRefill().flag() + ", timeout "
                + cacheTimeoutMs() + "ms, on-error " + cacheOnError().flag() + ", stampede " + cacheStampede().flag()
                + ")");
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
     * Parses {@code --flag value}, {@code --flag=value} and {@code --config FILE} (see {@link StorefrontArgs}).
     * Values from the file come first; the command line overrides them, flag by flag.
     */
    public static StorefrontConfig fromArgs(String... args) throws UsageException, HelpRequested {
        return StorefrontArgs.parse(args);
    }

    /**
     * Settings start at their {@link StorefrontSetting#defaultValue() defaults}; {@link #build()} checks every
     * value against its setting and the {@link StorefrontSetting#RULES rules} between them.
     */
    public static final class Builder {
        private final Map<StorefrontSetting, Object> values = new EnumMap<>(StorefrontSetting.class);

        private Builder() {
            for (StorefrontSetting s : StorefrontSetting.values()) {
                values.put(s, s.defaultValue());
            }
            values.put(StorefrontSetting.READER_URL, List.of());
        }

        /** Sets {@code setting} to a typed value (as {@link StorefrontSetting#parse} returns; a List for reader-url). */
        public Builder set(StorefrontSetting setting, Object value) {
            if (setting == StorefrontSetting.READER_URL) {
                List<String> urls = new ArrayList<>();
                if (value instanceof List<?> list) {
                    list.forEach(url -> urls.add((String) url));
                } else if (value != null) {
                    urls.add((String) value);
                }
                value = urls;
            }
            values.put(setting, value);
            return this;
        }

        public Builder host(String host) {
            return set(StorefrontSetting.HOST, host);
        }

        public Builder port(int port) {
            return set(StorefrontSetting.PORT, port);
        }

        public Builder writerUrl(String writerUrl) {
            return set(StorefrontSetting.WRITER_URL, writerUrl);
        }

        /** One reader URL, replacing any given before; null means "the writer URL". */
        public Builder readerUrl(String readerUrl) {
            return set(StorefrontSetting.READER_URL, readerUrl);
        }

        /** Several reader URLs (one pool each, one picked per read), replacing any given before. */
        public Builder readerUrls(List<String> readerUrls) {
            return set(StorefrontSetting.READER_URL, readerUrls);
        }

        public Builder dbUser(String dbUser) {
            return set(StorefrontSetting.DB_USER, dbUser);
        }

        public Builder dbPassword(String dbPassword) {
            return set(StorefrontSetting.DB_PASSWORD, dbPassword);
        }

        public Builder routing(Routing routing) {
            return set(StorefrontSetting.ROUTING, routing);
        }

        public Builder stockLocking(StockLocking stockLocking) {
            return set(StorefrontSetting.STOCK_LOCKING, stockLocking);
        }

        public Builder writerPoolSize(int n) {
            return set(StorefrontSetting.WRITER_POOL_SIZE, n);
        }

        public Builder readerPoolSize(int n) {
            return set(StorefrontSetting.READER_POOL_SIZE, n);
        }

        public Builder poolTimeoutMs(int ms) {
            return set(StorefrontSetting.POOL_TIMEOUT_MS, ms);
        }

        public Builder rywWaitMs(int ms) {
            return set(StorefrontSetting.RYW_WAIT_MS, ms);
        }

        public Builder stickyMs(int ms) {
            return set(StorefrontSetting.STICKY_MS, ms);
        }

        public Builder requestTimeoutMs(int ms) {
            return set(StorefrontSetting.REQUEST_TIMEOUT_MS, ms);
        }

        public Builder httpThreads(int n) {
            return set(StorefrontSetting.HTTP_THREADS, n);
        }

        public Builder initSchema(boolean initSchema) {
            return set(StorefrontSetting.INIT_SCHEMA, initSchema);
        }

        public Builder seedProducts(int n) {
            return set(StorefrontSetting.SEED_PRODUCTS, n);
        }

        public Builder seedUsers(int n) {
            return set(StorefrontSetting.SEED_USERS, n);
        }

        /** The cache tier's {@code redis://host:port}; null turns the tier off. */
        public Builder cacheUrl(String url) {
            return set(StorefrontSetting.CACHE_URL, url);
        }

        public Builder cacheTtlMs(int ms) {
            return set(StorefrontSetting.CACHE_TTL_MS, ms);
        }

        public Builder cacheInvalidation(CacheInvalidation invalidation) {
            return set(StorefrontSetting.CACHE_INVALIDATION, invalidation);
        }

        public Builder cacheRefill(CacheRefill refill) {
            return set(StorefrontSetting.CACHE_REFILL, refill);
        }

        public Builder cacheTimeoutMs(int ms) {
            return set(StorefrontSetting.CACHE_TIMEOUT_MS, ms);
        }

        public Builder cacheOnError(CacheOnError onError) {
            return set(StorefrontSetting.CACHE_ON_ERROR, onError);
        }

        public Builder cacheStampede(CacheStampede stampede) {
            return set(StorefrontSetting.CACHE_STAMPEDE, stampede);
        }

        public Builder preparedStatements(PreparedStatements prepared) {
            return set(StorefrontSetting.PREPARED_STATEMENTS, prepared);
        }

        /** @throws IllegalArgumentException naming the option and what it accepts */
        public StorefrontConfig build() {
            Object writerUrl = values.get(StorefrontSetting.WRITER_URL);
            if (writerUrl == null || writerUrl.toString().isBlank()) {
                throw new IllegalArgumentException("--writer-url is required (a jdbc:postgresql:// URL of the primary)");
            }
            Map<StorefrontSetting, Object> checked = new EnumMap<>(StorefrontSetting.class);
            for (StorefrontSetting s : StorefrontSetting.values()) {
                Object value = values.get(s);
                if (s == StorefrontSetting.READER_URL) {
                    @SuppressWarnings("unchecked")
                    List<String> urls = (List<String>) value;
                    if (urls.size() > StorefrontSetting.MAX_READER_URLS) {
                        throw new IllegalArgumentException(s.option() + " may be given at most "
                                + StorefrontSetting.MAX_READER_URLS + " times, got " + urls.size());
                    }
                    for (int i = 0; i < urls.size(); i++) {
                        String problem = s.problem(urls.get(i));
                        if (problem != null) {
                            throw new IllegalArgumentException((urls.size() == 1 ? s.option()
                                    : s.option() + " #" + (i + 1) + " of " + urls.size()) + " " + problem);
                        }
                    }
                    checked.put(s, urls.isEmpty() ? List.of((String) writerUrl) : List.copyOf(urls));
                    continue;
                }
                String problem = s.problem(value);
                if (problem != null) {
                    throw new IllegalArgumentException(s.option() + " " + problem);
                }
                checked.put(s, value);
            }
            for (StorefrontSetting.Rule rule : StorefrontSetting.RULES) {
                int lower = (Integer) checked.get(rule.lower());
                int upper = (Integer) checked.get(rule.upper());
                if (!rule.holds(lower, upper)) {
                    throw new IllegalArgumentException(rule.problem(StorefrontSetting::option, lower, upper));
                }
            }
            return new StorefrontConfig(checked);
        }
    }
}
