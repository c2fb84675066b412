package dev.doorbuster.proxy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters served at {@code /metrics} in the Prometheus text format.
 *
 * <p>Toxiproxy's two byte counters keep their names and labels; unlike Toxiproxy, they count as bytes
 * move rather than when a connection direction finishes. Connection counts are Doorbuster's own.
 */
final class ProxyMetrics {

    /** The labels Toxiproxy puts on its byte counters, in Prometheus' (alphabetical) order. */
    record Labels(String direction, String listener, String proxy, String upstream) {
    }

    private final Map<Labels, LongAdder> receivedBytes = new ConcurrentHashMap<>();
    private final Map<Labels, LongAdder> sentBytes = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> acceptedConnections = new ConcurrentHashMap<>();

    LongAdder received(Labels labels) {
        return receivedBytes.computeIfAbsent(labels, l -> new LongAdder());
    }

    LongAdder sent(Labels labels) {
        return sentBytes.computeIfAbsent(labels, l -> new LongAdder());
    }

    void connectionAccepted(String proxy) {
        acceptedConnections.computeIfAbsent(proxy, p -> new LongAdder()).increment();
    }

    /** The exposition text; {@code activeConnections} maps proxy names to their live connection counts. */
    String render(Map<String, Integer> activeConnections) {
        StringBuilder out = new StringBuilder(1024);
        counter(out, "toxiproxy_proxy_received_bytes_total", "The total bytes received by the proxy", receivedBytes);
        counter(out, "toxiproxy_proxy_sent_bytes_total", "The total bytes sent by the proxy", sentBytes);
        out.append("# HELP doorbuster_proxy_connections_total Connections accepted by the proxy\n")
                .append("# TYPE doorbuster_proxy_connections_total counter\n");
        for (Map.Entry<String, LongAdder> entry : sortedByName(acceptedConnections)) {
            out.append("doorbuster_proxy_connections_total{proxy=\"").append(escape(entry.getKey())).append("\"} ")
                    .append(entry.getValue().sum()).append('\n');
        }
        out.append("# HELP doorbuster_proxy_connections Connections open through the proxy now\n")
                .append("# TYPE doorbuster_proxy_connections gauge\n");
        activeConnections.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(entry ->
                out.append("doorbuster_proxy_connections{proxy=\"").append(escape(entry.getKey())).append("\"} ")
                        .append(entry.getValue()).append('\n'));
        return out.toString();
    }

    private static void counter(StringBuilder out, String name, String help, Map<Labels, LongAdder> values) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n')
                .append("# TYPE ").append(name).append(" counter\n");
        List<Map.Entry<Labels, LongAdder>> entries = new ArrayList<>(values.entrySet());
        entries.sort((a, b) -> key(a.getKey()).compareTo(key(b.getKey())));
        for (Map.Entry<Labels, LongAdder> entry : entries) {
            Labels labels = entry.getKey();
            out.append(name)
                    .append("{direction=\"").append(escape(labels.direction()))
                    .append("\",listener=\"").append(escape(labels.listener()))
                    .append("\",proxy=\"").append(escape(labels.proxy()))
                    .append("\",upstream=\"").append(escape(labels.upstream()))
                    .append("\"} ").append(entry.getValue().sum()).append('\n');
        }
    }

    private static String key(Labels labels) {
        return labels.proxy() + '\0' + labels.direction() + '\0' + labels.listener() + '\0' + labels.upstream();
    }

    private static List<Map.Entry<String, LongAdder>> sortedByName(Map<String, LongAdder> values) {
        List<Map.Entry<String, LongAdder>> entries = new ArrayList<>(values.entrySet());
        entries.sort(Map.Entry.comparingByKey());
        return entries;
    }

    private static String escape(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
