package dev.doorbuster.topology;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The one definition of every SLO budget the verdict judges a run by: its field under {@code slo} in an
 * environment file, its unit, default, accepted range and meaning. Everything else is derived from it: the values
 * {@link Environment.Slo} holds and their defaults, the checks of {@link EnvironmentLoader} (with
 * {@code -Dslo.<field>} overrides) and the budget column of the verdict table in docs/checks.md (checked by a test).
 *
 * <p>A field with a dot ({@code regression.p99Percent}) sits in a nested object of {@code slo}.
 */
public enum SloBudget {
    P99_MS("p99Ms", Kind.WHOLE, Unit.MS, 1000, 1, 3_600_000,
            "P99 of every request, over the run and in every load phase"),
    P99_MS_PER_REQUEST("p99MsPerRequest", Kind.PER_REQUEST, Unit.MS, null, 1, 3_600_000,
            "P99 of one request name ({\"checkout\": 1500}), instead of p99Ms"),
    P99_MS_DURING_FAULTS("p99MsDuringFaults", Kind.WHOLE, Unit.MS, 3000, 1, 3_600_000,
            "P99 of every request while a fault is active"),
    ERROR_RATE_PERCENT("errorRatePercent", Kind.DECIMAL, Unit.PERCENT, 2.0, 0, 100,
            "share of all requests that may fail"),
    READ_YOUR_WRITES_IMMEDIATE("readYourWritesImmediate", Kind.WHOLE, Unit.READS, 0, 0, Long.MAX_VALUE,
            "reads right after a shopper's own write that missed it"),
    READ_YOUR_WRITES_LATER("readYourWritesLater", Kind.WHOLE, Unit.READS, 0, 0, Long.MAX_VALUE,
            "later reads of a key that no longer showed the shopper's own last write"),
    MONOTONIC_READS("monotonicReads", Kind.WHOLE, Unit.READS, 0, 0, Long.MAX_VALUE,
            "reads older than what the same shopper had already read"),
    POOL_EXHAUSTION("poolExhaustion", Kind.WHOLE, Unit.EVENTS, 0, 0, Long.MAX_VALUE,
            "times the application's pools timed out handing out a connection"),
    POOLER_WAIT_MS("poolerWaitMs", Kind.WHOLE, Unit.MS, 1000, 1, 3_600_000,
            "the longest a client of the pooler waited for a server connection, as the pooler saw it (pooler tier)"),
    CONNECTION_REFUSALS("connectionRefusals", Kind.WHOLE, Unit.EVENTS, 0, 0, Long.MAX_VALUE,
            "connection attempts of the application's pools that the database or its pooler refused (too many clients)"),
    FAILOVER_RTO_MS("failoverRtoMs", Kind.WHOLE, Unit.MS, 15_000, 1, 3_600_000,
            "from the primary's death to the first write the application acknowledged"),
    LOST_WRITES("lostWrites", Kind.WHOLE, Unit.WRITES, 0, 0, Long.MAX_VALUE,
            "acknowledged writes absent after the faults healed"),
    GHOST_WRITES("ghostWrites", Kind.WHOLE, Unit.WRITES, 0, 0, Long.MAX_VALUE,
            "writes answered with an error that were committed all the same"),
    ORIGIN_FETCHES_PER_EXPIRY("originFetchesPerExpiry", Kind.DECIMAL, Unit.READS, 2.0, 0, 1_000_000,
            "cache tier: database reads of a hot key in the second after it expired (a stampede is many)"),
    TIME_TO_WARM_SECONDS("timeToWarmSeconds", Kind.WHOLE, Unit.SECONDS, 30, 1, 86_400,
            "cache tier: after a cold restart, seconds until the hit ratio is back within 10% of the minute before's"),
    CACHE_STALENESS_GRACE_MS("cacheStalenessGraceMs", Kind.WHOLE, Unit.MS, 1000, 0, 3_600_000,
            "cache tier: added to the run's worst replication lag to make the cache staleness budget, unless "
                    + "cacheStalenessMs sets it"),
    CACHE_STALENESS_MS("cacheStalenessMs", Kind.DECIMAL, Unit.MS, null, 0, 3_600_000,
            "cache tier: how long after a newer write of a key was acknowledged a read served by the cache may still "
                    + "show the older state",
            "the run's worst replication lag + " + CACHE_STALENESS_GRACE_MS.path()),
    SOAK_P99_DRIFT_RATIO("soakP99DriftRatio", Kind.DECIMAL, Unit.TIMES, 1.5, 1, 1000,
            "soaks: P99 of the last fifth of the run over that of the first fifth"),
    SOAK_POOL_ACTIVE_GROWTH("soakPoolActiveGrowth", Kind.DECIMAL, Unit.CONNECTIONS, 2.0, 0, 1_000_000,
            "soaks: growth of the mean active connections from the first fifth to the last (leaks)"),
    WINDOW_P99_MS("windowP99Ms", Kind.WHOLE, Unit.MS, 1000, 1, 3_600_000,
            "windowed check: a second passes when its P99 is at most this"),
    WINDOW_ERROR_RATE_PERCENT("windowErrorRatePercent", Kind.DECIMAL, Unit.PERCENT, 5.0, 0, 100,
            "windowed check: a second passes when at most this share of its requests failed"),
    WINDOW_COMPLIANCE_PERCENT("windowCompliancePercent", Kind.DECIMAL, Unit.PERCENT, 95.0, 0, 100,
            "windowed checks: at least this share of the seconds with requests must pass"),
    ABORT_ERROR_RATE_PERCENT("abortErrorRatePercent", Kind.DECIMAL, Unit.PERCENT, 50.0, 0, 100,
            "abort rule: a second is bad when more than this share of its requests failed"),
    ABORT_AFTER_SECONDS("abortAfterSeconds", Kind.WHOLE, Unit.SECONDS, 15, 0, 86_400,
            "abort rule: the load stops after this many bad seconds in a row (0: never)"),
    GENERATOR_STARTED_PERCENT("generator.startedPercent", Kind.DECIMAL, Unit.PERCENT, 99.0, 0, 100,
            "load generator: share of each second's scheduled arrivals that must start on time, or that second's "
                    + "latency checks are inconclusive"),
    GENERATOR_START_DELAY_PERCENT_OF_P99("generator.startDelayPercentOfP99", Kind.DECIMAL, Unit.PERCENT, 10.0, 0,
            1000, "load generator: a user that starts later than this share of p99Ms after its scheduled time is late"),
    GENERATOR_GC_PAUSE_MS("generator.gcPauseMs", Kind.WHOLE, Unit.MS, 100, 1, 3_600_000,
            "load generator: a GC pause of the generator's JVM longer than this makes its second inconclusive"),
    NOT_JUDGED("notJudged", Kind.WHOLE, Unit.CHECKS, 0, 0, Long.MAX_VALUE,
            "checks the simulation asks for that could not be judged (their input was missing); more fail the run"),
    REGRESSION_P99_PERCENT("regression.p99Percent", Kind.DECIMAL, Unit.PERCENT, null, 0, 100_000,
            "P99 of the run may be at most this many percent above the baseline run's"),
    REGRESSION_ERROR_RATE_POINTS("regression.errorRatePoints", Kind.DECIMAL, Unit.POINTS, null, 0, 100,
            "the error rate may be at most this many percentage points above the baseline run's"),
    REGRESSION_RTO_PERCENT("regression.rtoPercent", Kind.DECIMAL, Unit.PERCENT, null, 0, 100_000,
            "each failover's RTO may be at most this many percent above the baseline run's worst"),
    REGRESSION_CAPACITY_PERCENT("regression.capacityPercent", Kind.DECIMAL, Unit.PERCENT, null, 0, 100,
            "a capacity search's capacity may be at most this many percent below the baseline search's");

    /** The environment file's section holding the budgets. */
    public static final String SECTION = "slo";

    /** What a budget's values are. */
    public enum Kind {
        /** A whole number (a JSON number without a fraction). */
        WHOLE,
        /** Any number; a budget without a default may be null: not checked. */
        DECIMAL,
        /** An object of request name → whole number; a name left out is judged by {@link #P99_MS}. */
        PER_REQUEST
    }

    /** What a budget counts, as the docs and the messages write it. */
    public enum Unit {
        MS("ms"), SECONDS("s"), PERCENT("%"), POINTS("percentage points"), TIMES("times"), READS("reads"),
        WRITES("writes"), EVENTS("events"), CONNECTIONS("connections"), CHECKS("checks");

        private final String text;

        Unit(String text) {
            this.text = text;
        }

        public String text() {
            return text;
        }
    }

    /** Why a value is refused: what the loader turns into its message naming the file or -D property. */
    public interface Refusal {
        /** {@code field} (the full path, {@code slo.p99Ms}) is wrong: {@code problem} ("is 0; expected ..."). */
        RuntimeException wrong(String field, String problem);

        /** {@code field} is no budget; {@code allowed} are the fields of {@code parent}. */
        RuntimeException unknown(String field, String parent, Set<String> allowed);
    }

    private final String field;
    private final Kind kind;
    private final Unit unit;
    private final Number defaultValue;
    private final long min;
    private final long max;
    private final String meaning;
    private final String whenUnset;

    SloBudget(String field, Kind kind, Unit unit, Number defaultValue, long min, long max, String meaning) {
        this(field, kind, unit, defaultValue, min, max, meaning, "not checked");
    }

    /** An optional budget that judges by {@code whenUnset} (a budget derived from the run) when it is not set. */
    SloBudget(String field, Kind kind, Unit unit, Number defaultValue, long min, long max, String meaning,
              String whenUnset) {
        this.field = field;
        this.kind = kind;
        this.unit = unit;
        this.defaultValue = defaultValue;
        this.min = min;
        this.max = max;
        this.meaning = meaning;
        this.whenUnset = whenUnset;
    }

    /** Its name under {@code slo}: {@code p99Ms}, {@code regression.p99Percent}. */
    public String field() {
        return field;
    }

    /** {@code slo.p99Ms}: as in messages, {@code -D} overrides and the docs. */
    public String path() {
        return SECTION + "." + field;
    }

    public Kind kind() {
        return kind;
    }

    public Unit unit() {
        return unit;
    }

    /** Lowest accepted value. */
    public long min() {
        return min;
    }

    /** Highest accepted value; {@link Long#MAX_VALUE}: no upper bound. */
    public long max() {
        return max;
    }

    /** One line: what the budget bounds. */
    public String meaning() {
        return meaning;
    }

    /**
     * The value when the environment does not set it: a Long ({@link Kind#WHOLE}), a Double
     * ({@link Kind#DECIMAL}), an empty map ({@link Kind#PER_REQUEST}), or null: not checked.
     */
    public Object defaultValue() {
        return switch (kind) {
            case WHOLE -> defaultValue.longValue();
            case DECIMAL -> defaultValue == null ? null : defaultValue.doubleValue();
            case PER_REQUEST -> Map.of();
        };
    }

    /** Optional budgets (no default) may be null: then the check is not made, or judged as {@link #whenUnset()} says. */
    public boolean optional() {
        return kind == Kind.DECIMAL && defaultValue == null;
    }

    /** What an {@link #optional()} budget left unset means: {@code not checked}, or the budget the run derives. */
    public String whenUnset() {
        return whenUnset;
    }

    /** What is accepted, for messages: {@code a whole number between 1 and 3600000, in ms}. */
    public String allowed() {
        return switch (kind) {
            case WHOLE -> wholeAllowed();
            case DECIMAL -> "a number " + range() + (optional() ? " (or null: " + whenUnset + ")" : "") + ", in " + unit.text;
            case PER_REQUEST -> "an object of request name to " + wholeAllowed() + ", like {\"checkout\": 1500}";
        };
    }

    /** What one whole number (of a {@link Kind#PER_REQUEST} budget too) may be. */
    private String wholeAllowed() {
        return "a whole number " + range() + ", in " + unit.text;
    }

    private String range() {
        return max == Long.MAX_VALUE ? "at least " + min : "between " + min + " and " + max;
    }

    /** This budget of every budget whose field is {@code field} ({@code p99Ms}), or null. */
    public static SloBudget byField(String field) {
        return Arrays.stream(values()).filter(b -> b.field.equals(field)).findFirst().orElse(null);
    }

    /** Every budget's default: what an environment without {@code slo} is judged by. */
    public static Map<SloBudget, Object> defaults() {
        Map<SloBudget, Object> values = new EnumMap<>(SloBudget.class);
        for (SloBudget budget : values()) {
            values.put(budget, budget.defaultValue());
        }
        return values;
    }

    /**
     * Checks one typed value against this budget (as {@link #defaultValue()} types them).
     *
     * @return the value, per-request maps unmodifiable
     * @throws IllegalArgumentException naming the budget and what it accepts
     */
    public Object check(Object value) {
        String problem = problem(value);
        if (problem != null) {
            throw new IllegalArgumentException(path() + " " + problem);
        }
        return value instanceof Map<?, ?> map ? Collections.unmodifiableMap(new LinkedHashMap<>(map)) : value;
    }

    private String problem(Object value) {
        switch (kind) {
            case WHOLE -> {
                return value instanceof Long l ? outOfRange(l) : "must be a Long, got " + value;
            }
            case DECIMAL -> {
                if (value == null) {
                    return optional() ? null : "must be set";
                }
                return value instanceof Double d ? outOfRange(d) : "must be a Double, got " + value;
            }
            case PER_REQUEST -> {
                if (!(value instanceof Map<?, ?> map)) {
                    return "must be a map of request name to Integer, got " + value;
                }
                for (Map.Entry<?, ?> e : map.entrySet()) {
                    String p = e.getValue() instanceof Integer i ? outOfRange(i, wholeAllowed()) : "must be an Integer";
                    if (p != null) {
                        return "'" + e.getKey() + "' " + p;
                    }
                }
                return null;
            }
            default -> throw new IllegalStateException(kind.name());
        }
    }

    private String outOfRange(double value) {
        return outOfRange(value, allowed());
    }

    private String outOfRange(double value, String expected) {
        return value < min || value > max || Double.isNaN(value) ? "is " + number(value) + "; expected " + expected
                : null;
    }

    // ---- reading an environment's slo section ----------------------------------------------------------------

    /**
     * Every budget's value from an environment's {@code slo} object, a default where it is left out.
     *
     * @param slo     the merged section (file and -D overrides); null: left out
     * @param refusal makes the exception for a value that is wrong or a field that is no budget
     */
    public static Map<SloBudget, Object> read(JsonNode slo, Refusal refusal) {
        Map<SloBudget, Object> values = defaults();
        if (slo == null || slo.isMissingNode()) {
            return values;
        }
        if (!slo.isObject()) {
            throw refusal.wrong(SECTION, "is " + shown(slo) + "; expected a JSON object of budgets, like "
                    + "{\"p99Ms\": 500, \"errorRatePercent\": 1}");
        }
        refuseUnknown(slo, "", refusal);
        for (SloBudget budget : values()) {
            JsonNode node = slo.at("/" + budget.field.replace('.', '/'));
            if (!node.isMissingNode()) {
                values.put(budget, budget.value(node, refusal));
            }
        }
        return values;
    }

    /** Fields that are no budget, at any depth; a group ({@code regression}) must be an object. */
    private static void refuseUnknown(JsonNode object, String prefix, Refusal refusal) {
        Set<String> allowed = fieldsUnder(prefix);
        for (Map.Entry<String, JsonNode> entry : object.properties()) {
            String name = prefix + entry.getKey();
            if (byField(name) != null) {
                continue;
            }
            if (!fieldsUnder(name + ".").isEmpty()) {
                if (!entry.getValue().isObject()) {
                    throw refusal.wrong(SECTION + "." + name, "is " + shown(entry.getValue()) + "; expected a JSON "
                            + "object of " + String.join(", ", fieldsUnder(name + ".")) + " (or leave it out)");
                }
                refuseUnknown(entry.getValue(), name + ".", refusal);
                continue;
            }
            String parent = prefix.isEmpty() ? SECTION : SECTION + "." + prefix.substring(0, prefix.length() - 1);
            throw refusal.unknown(SECTION + "." + name, parent, allowed);
        }
    }

    /** The next name of every budget field starting with {@code prefix}: {@code p99Ms}, ..., {@code regression}. */
    private static Set<String> fieldsUnder(String prefix) {
        Set<String> names = new LinkedHashSet<>();
        for (SloBudget budget : values()) {
            if (budget.field.startsWith(prefix)) {
                String rest = budget.field.substring(prefix.length());
                names.add(rest.contains(".") ? rest.substring(0, rest.indexOf('.')) : rest);
            }
        }
        return names;
    }

    private Object value(JsonNode node, Refusal refusal) {
        switch (kind) {
            case WHOLE -> {
                return wholeNumber(node, path(), refusal);
            }
            case DECIMAL -> {
                if (node.isNull() && optional()) {
                    return null;
                }
                if (!node.isNumber()) {
                    throw refusal.wrong(path(), "is " + shown(node) + "; expected " + allowed());
                }
                double value = node.doubleValue();
                String problem = outOfRange(value);
                if (problem != null) {
                    throw refusal.wrong(path(), problem);
                }
                return value;
            }
            case PER_REQUEST -> {
                if (!node.isObject()) {
                    throw refusal.wrong(path(), "is " + shown(node) + "; expected " + allowed());
                }
                Map<String, Integer> byName = new LinkedHashMap<>();
                for (Map.Entry<String, JsonNode> entry : node.properties()) {
                    long value = wholeNumber(entry.getValue(), path() + "." + entry.getKey(), refusal);
                    byName.put(entry.getKey(), (int) value);
                }
                return Collections.unmodifiableMap(byName);
            }
            default -> throw new IllegalStateException(kind.name());
        }
    }

    private long wholeNumber(JsonNode node, String shownField, Refusal refusal) {
        if (!node.isIntegralNumber() || !node.canConvertToLong()) {
            throw refusal.wrong(shownField, "is " + shown(node) + "; expected " + wholeAllowed());
        }
        String problem = outOfRange(node.longValue(), wholeAllowed());
        if (problem != null) {
            throw refusal.wrong(shownField, problem);
        }
        return node.longValue();
    }

    private static String shown(JsonNode node) {
        return node.isTextual() ? "'" + node.asText() + "'" : node.toString();
    }

    private static String number(double v) {
        return v == Math.rint(v) && !Double.isInfinite(v) ? Long.toString((long) v) : Double.toString(v);
    }

    // ---- the docs: the verdict table of docs/checks.md ------------------------------------------------------

    /**
     * One budget as the verdict table of docs/checks.md shows it in its budget column:
     * {@code `slo.p99Ms` — default 1000 ms, accepted 1 – 3600000}.
     */
    public String tableText() {
        String accepted = max == Long.MAX_VALUE ? "≥ " + min : min + " – " + max;
        return switch (kind) {
            case WHOLE, DECIMAL -> defaultValue == null
                    ? "`" + path() + "` — default unset (" + whenUnset + "), accepted " + accepted + " " + unit.text
                    : "`" + path() + "` — default " + number(defaultValue.doubleValue()) + " " + unit.text
                            + ", accepted " + accepted;
            case PER_REQUEST -> "`" + path() + ".<name>` — default `" + P99_MS.path() + "`, accepted " + accepted
                    + " " + unit.text;
        };
    }

    /** The budget column's cell of a verdict table row judged by {@code budgets}; a dash for none. */
    public static String tableCell(List<SloBudget> budgets) {
        return budgets.isEmpty() ? "—" : budgets.stream().map(SloBudget::tableText).collect(Collectors.joining("<br>"));
    }

    /** Every budget's {@link #path()}, in the definition's order. */
    public static List<String> paths() {
        List<String> paths = new ArrayList<>();
        for (SloBudget budget : values()) {
            paths.add(budget.path());
        }
        return paths;
    }
}
