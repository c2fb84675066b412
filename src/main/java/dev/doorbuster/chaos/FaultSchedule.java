package dev.doorbuster.chaos;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * When each fault starts and how long it lasts, as offsets from the start of the load (simulations
 * derive them from the load profile's phases, e.g. "replication lag during the spike").
 */
public final class FaultSchedule {
    /**
     * @param duration how long the fault lasts; null means until the load ends
     */
    public record Entry(Fault fault, Duration at, Duration duration) {
    }

    private final List<Entry> entries = new ArrayList<>();

    /** {@code fault} from {@code at} for {@code duration} (null: until the end). */
    public FaultSchedule at(Duration at, Fault fault, Duration duration) {
        if (at.isNegative() || (duration != null && (duration.isNegative() || duration.isZero()))) {
            throw new IllegalArgumentException("fault " + fault.name() + " needs a start ≥ 0 and a positive duration, got "
                    + at + " and " + duration);
        }
        entries.add(new Entry(fault, at, duration));
        return this;
    }

    /** A fresh fault from {@code faults} every {@code period}, from {@code first} until {@code end} (soaks). */
    public FaultSchedule every(Duration period, Duration first, Duration end, Supplier<Fault> faults, Duration duration) {
        if (period.compareTo(duration) <= 0) {
            throw new IllegalArgumentException("a repeating fault must end before the next starts: period " + period
                    + " ≤ duration " + duration);
        }
        for (Duration t = first; t.plus(duration).compareTo(end) <= 0; t = t.plus(period)) {
            at(t, faults.get(), duration);
        }
        return this;
    }

    public List<Entry> entries() {
        return List.copyOf(entries);
    }

    public boolean isEmpty() {
        return entries.isEmpty();
    }
}
