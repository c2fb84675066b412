package dev.doorbuster.chaos;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Every fault start, end and measured effect, stamped with the run time. Reports draw it over the
 * latency charts; the verdict takes per-fault windows (P99 while each fault was active) and measured
 * effects ({@link FaultEffect}: the failover RTO, the lag reached) from it.
 */
public final class FaultTimeline {
    public enum Kind {
        INJECT, HEAL, EFFECT, ERROR
    }

    /**
     * @param atMillis milliseconds since the run started
     * @param fault    the fault instance's label ({@code F2 PrimaryFailover})
     * @param values   what was measured, as {@code verdict.json} holds it; read it as {@link #effect()}
     */
    public record Event(long atMillis, String fault, Kind kind, String message, Map<String, Double> values) {
        public int second() {
            return (int) (atMillis / 1000);
        }

        /** What this event measured, if anything (an RTO, the lag reached). */
        public Optional<FaultEffect> effect() {
            return FaultEffect.of(values);
        }
    }

    /** When a fault instance was active: seconds [{@code fromSecond}, {@code toSecond}); -1 = never healed. */
    public record Window(String fault, String description, int fromSecond, int toSecond) {
    }

    private final long startNanos;
    private final List<Event> events = new ArrayList<>();

    public FaultTimeline(long startNanos) {
        this.startNanos = startNanos;
    }

    /** A timeline holding {@code events} as recorded (a report rebuilt from disk). */
    public static FaultTimeline of(List<Event> events) {
        FaultTimeline timeline = new FaultTimeline(0);
        timeline.events.addAll(events);
        return timeline;
    }

    public void add(String fault, Kind kind, String message) {
        add(fault, kind, message, null);
    }

    /** An event of {@code fault} now; {@code effect} (or null) is what it measured. */
    public synchronized void add(String fault, Kind kind, String message, FaultEffect effect) {
        events.add(new Event((System.nanoTime() - startNanos) / 1_000_000, fault, kind, message,
                effect == null ? Map.of() : new LinkedHashMap<>(effect.values())));
    }

    public synchronized List<Event> events() {
        return List.copyOf(events);
    }

    /** One window per injected fault instance, in start order. */
    public synchronized List<Window> windows() {
        List<Window> windows = new ArrayList<>();
        for (Event start : events) {
            if (start.kind() != Kind.INJECT) {
                continue;
            }
            int end = events.stream().filter(e -> e.kind() == Kind.HEAL && e.fault().equals(start.fault())
                    && e.atMillis() >= start.atMillis()).mapToInt(e -> (int) Math.ceil(e.atMillis() / 1000.0))
                    .findFirst().orElse(-1);
            windows.add(new Window(start.fault(), start.message(), start.second(), end));
        }
        return windows;
    }

    /** The last effect of type {@code type} measured by any fault (e.g. the last failover's RTO). */
    public synchronized <T extends FaultEffect> Optional<T> last(Class<T> type) {
        List<T> all = effects(type);
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
    }

    /** Every effect of type {@code type}, in order (e.g. one RTO per failover of a soak). */
    public synchronized <T extends FaultEffect> List<T> effects(Class<T> type) {
        return events.stream().flatMap(e -> e.effect().stream()).filter(type::isInstance).map(type::cast).toList();
    }
}
