package dev.doorbuster.verdict.consistency;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.function.Consumer;

import dev.doorbuster.chaos.FaultTimeline;

/**
 * How stale the reads answered by the cache tier were. For each {@code ok} read served by the cache
 * ({@link ServedBy#cache}) of key {@code k} that showed version {@code v} and started at {@code t}: its staleness is
 * {@code t − a}, where {@code a} is the earliest acknowledgement, before {@code t}, of a write of {@code k} whose answer
 * showed a version newer than {@code v}, by any user; 0 when no such write had been acknowledged when the read started.
 * Writes acknowledged while the read was in flight are concurrent with it (either state is a correct answer): they
 * never count. So a cache that keeps serving a state for its whole TTL after a newer one was acknowledged shows it
 * here, however long the TTL.
 *
 * <p>Versions are compared as numbers, as the answers showed them. A write acknowledged without a version (its answer
 * did not show the key) cannot be compared and is left out; after a failover a promoted replica may hand out versions
 * again, which the session guarantees (that compare states too) and the lost-writes audit account for, not this.
 *
 * <p>Measured at judge time from the history in the run's journal ({@link #measure}), streamed once in time order.
 * Held in memory meanwhile: per key, the acknowledged writes that raised its version (a version and a time each, so
 * at most keys × acknowledged writes of each), and per process the start of its read in flight; nothing during the
 * load, whose operations are on disk. The result keeps counts, a fixed histogram and the {@value #WITNESSES} worst
 * reads.
 *
 * @param cacheReads {@code ok} reads of a checked key served by the cache (-1 when not measured)
 * @param staleReads those of them with a staleness above 0 (-1 when not measured)
 * @param worstMs    the worst staleness, in ms (rounded up to the microsecond: a stale read never shows as 0)
 * @param histogram  every cache read by its staleness, in the fixed {@link #BUCKET_BOUNDS_MS} buckets; the first
 *                   holds the reads that were not stale
 * @param witnesses  the {@value #WITNESSES} stalest reads, worst first (ties: the earlier read first)
 * @param error      why it could not be measured (the journal cannot be read back), or null
 */
public record CacheStaleness(long cacheReads, long staleReads, double worstMs, List<Bucket> histogram,
                             List<Witness> witnesses, String error) {
    /** The check's name in the verdict. */
    public static final String CHECK = "cache staleness";
    /** Stale reads kept as witnesses in verdict.json and the report. */
    static final int WITNESSES = 5;
    /** Upper bounds (inclusive) of the histogram's buckets, in ms; one more bucket holds what is beyond the last. */
    static final long[] BUCKET_BOUNDS_MS = {0, 10, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000};

    public CacheStaleness {
        histogram = List.copyOf(histogram);
        witnesses = List.copyOf(witnesses);
    }

    /**
     * Cache reads whose staleness was above {@code aboveMs} (null: the first bucket, from 0) and at most
     * {@code atMostMs} (null: no bound, the last bucket).
     */
    public record Bucket(Long aboveMs, Long atMostMs, long reads) {
    }

    /**
     * One stale read, as a person reads it: which key, what the read showed, the newer version it missed and when
     * that was acknowledged, when the read started and how stale it was, who read it (the history's process: the
     * virtual user's session, or the process it went on as after an unanswered request) and who answered, and the
     * faults active when it started.
     */
    public record Witness(String key, String shown, long newerVersion, double newerAcknowledgedAt, double readAt,
                          double stalenessMs, long process, String servedBy, String faults) {
    }

    /** Whether any read was served by the cache, or whether that is unknown: the check is judged only then. */
    public boolean judged() {
        return error != null || cacheReads > 0;
    }

    /** The witness of the stalest read, or null when none was stale. */
    public Witness worst() {
        return witnesses.isEmpty() ? null : witnesses.get(0);
    }

    /** The staleness of the cache reads in {@code history}; faults active at each witness's read from {@code timeline}. */
    public static CacheStaleness measure(History history, FaultTimeline timeline) {
        Measurement measurement = new Measurement();
        try {
            history.forEach(measurement);
        } catch (IOException | RuntimeException e) {
            return notMeasured(e.getMessage());
        }
        return measurement.result(timeline == null ? List.of() : timeline.windows());
    }

    static CacheStaleness notMeasured(String why) {
        return new CacheStaleness(-1, -1, Double.NaN, List.of(), List.of(), why);
    }

    /** Staleness in ms, rounded up to the microsecond. */
    static double millis(long nanos) {
        return Math.ceil(nanos / 1_000.0) / 1_000.0;
    }

    /** Run seconds, to the millisecond. */
    private static double seconds(long nanos) {
        return Math.round(nanos / 1_000_000.0) / 1_000.0;
    }

    /** One key's acknowledged writes that raised its version, in acknowledgement order: both columns ascend. */
    private static final class Raises {
        long[] versions = new long[2];
        long[] acknowledged = new long[2];
        int size;

        /**
         * A write of this key acknowledged at {@code at} (never before the previous one: the history is in time order)
         * showing {@code version}. Only one that raises the version is kept: the earliest acknowledgement of a version
         * newer than any {@code v} is always a raise, since every write acknowledged before it showed at most {@code v}.
         */
        void acknowledged(long version, long at) {
            if (size > 0 && version <= versions[size - 1]) {
                return;
            }
            if (size == versions.length) {
                versions = Arrays.copyOf(versions, size * 2);
                acknowledged = Arrays.copyOf(acknowledged, size * 2);
            }
            versions[size] = version;
            acknowledged[size] = at;
            size++;
        }

        /** The index of the earliest acknowledged write newer than {@code version}, or -1. */
        int firstNewerThan(long version) {
            int low = 0;
            int high = size;
            while (low < high) {
                int mid = (low + high) >>> 1;
                if (versions[mid] > version) {
                    high = mid;
                } else {
                    low = mid + 1;
                }
            }
            return low < size ? low : -1;
        }
    }

    /** A stale read before it becomes a witness. */
    private record Stale(String key, String shown, long newerVersion, long newerAcknowledged, long started,
                         long staleness, long process, String servedBy) {
        static final Comparator<Stale> WORST_FIRST = Comparator.comparingLong(Stale::staleness).reversed()
                .thenComparingLong(Stale::started).thenComparing(Stale::key);
    }

    /** The computation, fed the history's operations one by one in time order. */
    static final class Measurement implements Consumer<History.Op> {
        private final Map<String, Raises> writes = new HashMap<>();
        /** Process → when its read in flight started (a process makes one request at a time). */
        private final Map<Long, Long> readsInFlight = new HashMap<>();
        private final long[] buckets = new long[BUCKET_BOUNDS_MS.length + 1];
        /** The stalest reads so far, the least stale on top (to be dropped when there are more than kept). */
        private final PriorityQueue<Stale> stalest = new PriorityQueue<>(Stale.WORST_FIRST.reversed());
        private long cacheReads;
        private long staleReads;
        private long worst;

        @Override
        public void accept(History.Op op) {
            if (op.write()) {
                if (op.type() == History.Type.OK && op.version() != null) {
                    writes.computeIfAbsent(op.key(), k -> new Raises()).acknowledged(op.version(), op.nanos());
                }
                return;
            }
            if (op.type() == History.Type.INVOKE) {
                readsInFlight.put(op.process(), op.nanos());
                return;
            }
            Long started = readsInFlight.remove(op.process());
            if (op.type() == History.Type.OK && op.version() != null && ServedBy.cache(op.servedBy())) {
                // A read whose invocation is missing (a complete journal has none) is measured from its answer.
                read(op, started == null ? op.nanos() : started);
            }
        }

        private void read(History.Op op, long started) {
            cacheReads++;
            Raises raises = writes.get(op.key());
            int newer = raises == null ? -1 : raises.firstNewerThan(op.version());
            long staleness = newer >= 0 && raises.acknowledged[newer] < started ? started - raises.acknowledged[newer] : 0;
            buckets[bucket(staleness)]++;
            if (staleness == 0) {
                return;
            }
            staleReads++;
            worst = Math.max(worst, staleness);
            stalest.add(new Stale(op.key(), new Observation(op.version(), op.value()).toString(), raises.versions[newer],
                    raises.acknowledged[newer], started, staleness, op.process(), op.servedBy()));
            if (stalest.size() > WITNESSES) {
                stalest.poll();
            }
        }

        private static int bucket(long stalenessNanos) {
            for (int i = 0; i < BUCKET_BOUNDS_MS.length; i++) {
                if (stalenessNanos <= BUCKET_BOUNDS_MS[i] * 1_000_000) {
                    return i;
                }
            }
            return BUCKET_BOUNDS_MS.length;
        }

        CacheStaleness result(List<FaultTimeline.Window> windows) {
            List<Bucket> histogram = new ArrayList<>();
            for (int i = 0; i < buckets.length; i++) {
                histogram.add(new Bucket(i == 0 ? null : BUCKET_BOUNDS_MS[i - 1],
                        i < BUCKET_BOUNDS_MS.length ? BUCKET_BOUNDS_MS[i] : null, buckets[i]));
            }
            List<Stale> worstFirst = new ArrayList<>(stalest);
            worstFirst.sort(Stale.WORST_FIRST);
            List<Witness> witnesses = worstFirst.stream().map(s -> new Witness(s.key(), s.shown(), s.newerVersion(),
                    seconds(s.newerAcknowledged()), seconds(s.started()), millis(s.staleness()), s.process(), s.servedBy(),
                    SessionReport.activeFaults(windows, (int) Math.floorDiv(s.started(), 1_000_000_000L)))).toList();
            return new CacheStaleness(cacheReads, staleReads, millis(worst), histogram, witnesses, null);
        }
    }
}
