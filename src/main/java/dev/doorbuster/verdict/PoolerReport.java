package dev.doorbuster.verdict;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.ToDoubleFunction;

import dev.doorbuster.verdict.probes.PoolerSample;

/**
 * The pooler tier over a run, from the pooler's own {@code SHOW POOLS} and {@code SHOW STATS} every second: how many of
 * the service's connections it held, how many waited for a server connection and for how long, how many server
 * connections the nodes actually held, and the transactions it pooled and the time its clients waited, per second. Per second (index = the run's second; NaN where the console did not answer) for the report's
 * charts under the fault windows.
 *
 * @param peakClients        the most client connections the pooler held in a second (active and waiting)
 * @param peakClientsWaiting the most clients waiting for a server connection in a second
 * @param peakServers        the most server connections open to the nodes in a second
 * @param longestWaitMs      the longest any client had waited, as the pooler saw it in one of its seconds
 * @param unreadableSeconds  seconds whose sample the console did not answer (a restart)
 * @param transactionsPerSecond transactions pooled in each second (NaN: not read, or the pooler restarted)
 * @param waitedMsPerSecond     the time its clients spent waiting for a server connection in each second, added up
 */
public record PoolerReport(double peakClients, double peakClientsWaiting, double peakServers, double longestWaitMs,
                           int unreadableSeconds, List<Double> clientsPerSecond, List<Double> clientsWaitingPerSecond,
                           List<Double> serversPerSecond, List<Double> longestWaitMsPerSecond,
                           List<Double> transactionsPerSecond, List<Double> waitedMsPerSecond) {

    public PoolerReport {
        // A verdict.json written before SHOW STATS was read has neither.
        transactionsPerSecond = transactionsPerSecond == null ? List.of() : transactionsPerSecond;
        waitedMsPerSecond = waitedMsPerSecond == null ? List.of() : waitedMsPerSecond;
    }

    /** The pooler report of a run, or empty when it had no pooler tier (no samples). */
    public static Optional<PoolerReport> of(List<PoolerSample> samples) {
        if (samples.isEmpty()) {
            return Optional.empty();
        }
        ToDoubleFunction<PoolerSample> clients = s -> s.clientsActive() + s.clientsWaiting();
        return Optional.of(new PoolerReport(peak(samples, clients), peak(samples, PoolerSample::clientsWaiting),
                peak(samples, PoolerSample::servers), peak(samples, PoolerSample::longestWaitMs),
                (int) samples.stream().filter(s -> Double.isNaN(s.servers())).count(), perSecond(samples, clients),
                perSecond(samples, PoolerSample::clientsWaiting), perSecond(samples, PoolerSample::servers),
                perSecond(samples, PoolerSample::longestWaitMs), increments(samples, PoolerSample::transactions),
                increments(samples, PoolerSample::waitedMs)));
    }

    /**
     * What a cumulative total of the pooler's grew by in each second (NaN where it or the second before was not read,
     * and where it went back: the pooler restarted and counts from 0 again).
     */
    private static List<Double> increments(List<PoolerSample> samples, ToDoubleFunction<PoolerSample> total) {
        List<Double> totals = perSecond(samples, total);
        Double[] values = new Double[totals.size()];
        Arrays.fill(values, Double.NaN);
        for (int s = 1; s < totals.size(); s++) {
            double grown = totals.get(s) - totals.get(s - 1);
            if (!Double.isNaN(grown) && grown >= 0) {
                values[s] = grown;
            }
        }
        return List.of(values);
    }

    /** The check's name: pool exhaustion, as the pooler sees it. */
    public static final String WAIT_CHECK = "pool exhaustion at the pooler";

    /**
     * Clients that waited at the pooler for a server connection longer than {@code budgetMs} (its own longest wait,
     * second by second, from {@code fromSecond}: after a warm-up): the pooler's queue is where a fleet's requests wait
     * when its pool is too small, when a node is gone (its login retry) or while its writers are paused. Not judged when
     * the pooler's console answered in none of those seconds.
     */
    public CheckResult waitCheck(long budgetMs, int fromSecond) {
        double longest = Double.NaN;
        int worstSecond = -1;
        for (int s = Math.max(0, fromSecond); s < longestWaitMsPerSecond.size(); s++) {
            double wait = longestWaitMsPerSecond.get(s);
            if (!Double.isNaN(wait) && (Double.isNaN(longest) || wait > longest)) {
                longest = wait;
                worstSecond = s;
            }
        }
        String after = fromSecond > 0 ? " after the warm-up (seconds " + fromSecond + "-)" : "";
        if (Double.isNaN(longest)) {
            return CheckResult.notJudged(WAIT_CHECK, budgetMs, Double.NaN, "ms", "the pooler's console answered in no "
                    + "second" + after, "see pgbouncer.log in the run's folder for why it did not answer");
        }
        return CheckResult.atMost(WAIT_CHECK, budgetMs, Math.round(longest), "ms", "the longest a client waited for a "
                + "server connection, from the pooler's SHOW POOLS every second" + after
                + (longest > 0 ? "; at second " + worstSecond : ""));
    }

    /** The highest readable value (NaN when no second was readable). */
    private static double peak(List<PoolerSample> samples, ToDoubleFunction<PoolerSample> value) {
        return samples.stream().mapToDouble(value).filter(v -> !Double.isNaN(v)).max().orElse(Double.NaN);
    }

    /** One value per second of the run, by the sample's second; a second sampled twice keeps the later sample. */
    private static List<Double> perSecond(List<PoolerSample> samples, ToDoubleFunction<PoolerSample> value) {
        int seconds = samples.stream().mapToInt(PoolerSample::second).max().orElse(-1) + 1;
        Double[] values = new Double[Math.max(0, seconds)];
        Arrays.fill(values, Double.NaN);
        for (PoolerSample s : samples) {
            if (s.second() >= 0) {
                values[s.second()] = value.applyAsDouble(s);
            }
        }
        return List.of(values);
    }
}
