package dev.doorbuster.verdict;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.ToDoubleFunction;

import dev.doorbuster.verdict.probes.PoolerSample;

/**
 * The pooler tier over a run, from the pooler's own {@code SHOW POOLS} every second: how many of the service's
 * connections it held, how many waited for a server connection and for how long, and how many server connections the
 * nodes actually held. Per second (index = the run's second; NaN where the console did not answer) for the report's
 * charts under the fault windows.
 *
 * @param peakClients        the most client connections the pooler held in a second (active and waiting)
 * @param peakClientsWaiting the most clients waiting for a server connection in a second
 * @param peakServers        the most server connections open to the nodes in a second
 * @param longestWaitMs      the longest any client had waited, as the pooler saw it in one of its seconds
 * @param unreadableSeconds  seconds whose sample the console did not answer (a restart)
 */
public record PoolerReport(double peakClients, double peakClientsWaiting, double peakServers, double longestWaitMs,
                           int unreadableSeconds, List<Double> clientsPerSecond, List<Double> clientsWaitingPerSecond,
                           List<Double> serversPerSecond, List<Double> longestWaitMsPerSecond) {

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
                perSecond(samples, PoolerSample::longestWaitMs)));
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
