package dev.doorbuster.verdict.report;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doorbuster.verdict.Capacity;
import dev.doorbuster.verdict.CheckResult;

/**
 * The capacity section of {@code chaos.html}: the search's answer, the knee (p99, error rate and throughput against
 * the offered rate, every plateau a point coloured by its outcome, the capacity and the limiting rate marked), and the
 * plateaus with links to their own reports.
 */
final class CapacityReport {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String PASS_COLOUR = "#1a7f37";
    static final String FAIL_COLOUR = "#cf222e";
    static final String INCONCLUSIVE_COLOUR = "#9a6700";

    private CapacityReport() {
    }

    static void write(StringBuilder html, Capacity capacity, boolean confirmed) {
        if (capacity == null) {
            return;
        }
        html.append("<h2 id=\"capacity\">Capacity</h2><p><b>").append(ChaosReport.esc(capacity.summary()))
                .append("</b></p><p>").append(confirmed ? "This run, at the capacity found, passed every check: the "
                        + "capacity is confirmed." : "<span class=\"fail\">This run, at the capacity found, did not pass"
                        + " (its checks are below): the capacity is not confirmed.</span>").append("</p><p>")
                .append(capacity.plateaus().size()).append(" plateaus, each a whole run at one arrival rate judged by ")
                .append("every check (its warm-up not judged for latency, errors or pool exhaustion). Green: passed; ")
                .append("red: a check failed; amber: the load generator fell behind (inconclusive).</p>");
        List<Capacity.Plateau> byRate = new ArrayList<>(capacity.plateaus());
        byRate.sort(Comparator.comparingDouble(Capacity.Plateau::rate).thenComparingInt(Capacity.Plateau::index));
        knee(html, byRate, capacity, "ms", "p99 (ms)", Capacity.Plateau::p99Ms);
        knee(html, byRate, capacity, "%", "error rate (%)", Capacity.Plateau::errorPercent);
        knee(html, byRate, capacity, "req/s", "throughput (requests/s)", Capacity.Plateau::requestsPerSecond);
        html.append("<table><tr><th>#</th><th>why</th><th>shoppers/s</th><th>requests/s</th><th>p99</th><th>errors</th>")
                .append("<th>outcome</th><th>limited by</th><th>report</th></tr>");
        for (Capacity.Plateau p : capacity.plateaus()) {
            String outcome = switch (p.outcome()) {
                case PASS -> "pass";
                case FAIL -> "fail";
                case INCONCLUSIVE -> "nj";
            };
            html.append("<tr><td>").append(p.index()).append("</td><td>").append(ChaosReport.esc(p.purpose()))
                    .append("</td><td>").append(CheckResult.format(p.rate())).append("</td><td>")
                    .append(CheckResult.format(p.requestsPerSecond())).append("</td><td>")
                    .append(CheckResult.format(p.p99Ms())).append(" ms</td><td>")
                    .append(CheckResult.format(p.errorPercent())).append(" %</td><td class=\"").append(outcome)
                    .append("\">").append(p.outcome()).append("</td><td>")
                    .append(p.passed() ? "" : ChaosReport.esc(p.witness())).append("</td><td>");
            if (p.folder() != null) {
                html.append("<a href=\"../").append(ChaosReport.esc(p.folder().replace('\\', '/')))
                        .append("/chaos.html\">chaos.html</a>");
            }
            html.append("</td></tr>");
        }
        html.append("</table>");
    }

    /** One knee chart: {@code measure} of each plateau against its offered rate. */
    private static void knee(StringBuilder html, List<Capacity.Plateau> byRate, Capacity capacity, String unit,
                             String name, java.util.function.ToDoubleFunction<Capacity.Plateau> measure) {
        Map<String, Object> chart = new LinkedHashMap<>();
        List<Double> x = new ArrayList<>();
        List<Double> y = new ArrayList<>();
        List<String> colours = new ArrayList<>();
        for (Capacity.Plateau p : byRate) {
            double value = measure.applyAsDouble(p);
            x.add(p.rate());
            y.add(Double.isFinite(value) ? value : null);
            colours.add(switch (p.outcome()) {
                case PASS -> PASS_COLOUR;
                case FAIL -> FAIL_COLOUR;
                case INCONCLUSIVE -> INCONCLUSIVE_COLOUR;
            });
        }
        chart.put("unit", unit);
        chart.put("name", name);
        chart.put("x", x);
        chart.put("y", y);
        chart.put("colours", colours);
        chart.put("capacity", capacity.capacityRate());
        chart.put("limit", capacity.limitedAtRate());
        chart.put("limitedBy", capacity.limitedByGenerator() ? "the load generator"
                : capacity.limitedBy() == null ? "" : capacity.limitedBy());
        try {
            html.append("<div class=\"chart\" data-knee=\"").append(ChaosReport.esc(JSON.writeValueAsString(chart)))
                    .append("\"></div>");
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render the knee's data", e);
        }
    }
}
