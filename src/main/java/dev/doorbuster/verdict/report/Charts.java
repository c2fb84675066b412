package dev.doorbuster.verdict.report;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.doorbuster.chaos.FaultTimeline;
import dev.doorbuster.verdict.Phase;

/**
 * The report's per-second charts, drawn by uPlot (a small, fast charting library, taken from its WebJar and
 * inlined into the page, so it works offline and makes no request): drag to zoom into any stretch of a
 * 2-hour soak, double-click to zoom out, values of every series under the cursor, fault windows shaded and
 * load phases marked. Each chart carries its data as JSON ({@code data-chart}); once drawn, it also says
 * where it drew each fault window ({@code data-drawn-windows}), so the page can be checked against the
 * timeline.
 */
final class Charts {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] COLORS = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"};
    static final int WIDTH = 960;
    static final int HEIGHT = 200;

    private static final String LIBRARY;
    private static final String STYLE;

    static {
        Properties versions = new Properties();
        try (InputStream in = Charts.class.getResourceAsStream("charts.properties")) {
            if (in == null) {
                throw new IllegalStateException("charts.properties missing from the build");
            }
            versions.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String dist = "META-INF/resources/webjars/uplot/" + versions.getProperty("uplot.version") + "/dist/";
        LIBRARY = resource(dist + "uPlot.iife.min.js");
        STYLE = resource(dist + "uPlot.min.css");
    }

    private Charts() {
    }

    /** uPlot's style and script, for the page's head. */
    static String head() {
        // "</" inside an inline script would end it early; the library has none, but never trust that.
        return "<style>" + STYLE + "</style><script>" + LIBRARY.replace("</", "<\\/") + "</script>";
    }

    /** One chart: {@code values[i]} of series {@code names[i]} per run second; NaN is a gap. */
    static void chart(StringBuilder html, int seconds, List<FaultTimeline.Window> windows, List<Phase> phases,
                      String unit, List<String> names, List<double[]> values) {
        Map<String, Object> chart = new LinkedHashMap<>();
        // Each second's value sits in the middle of its second, on an axis from 0 to the end of the run: a
        // fault window [from, to) and a strip cell cover exactly the seconds they name.
        List<Double> x = new ArrayList<>(seconds);
        for (int s = 0; s < seconds; s++) {
            x.add(s + 0.5);
        }
        List<List<Double>> y = new ArrayList<>();
        for (double[] series : values) {
            List<Double> points = new ArrayList<>(seconds);
            for (int s = 0; s < seconds; s++) {
                points.add(s < series.length && Double.isFinite(series[s]) ? series[s] : null);
            }
            y.add(points);
        }
        List<Map<String, Object>> shaded = new ArrayList<>();
        for (FaultTimeline.Window w : windows) {
            shaded.add(Map.of("fault", w.fault(), "description", w.description(), "from", w.fromSecond(),
                    "to", w.toSecond() < 0 ? seconds : w.toSecond()));
        }
        chart.put("unit", unit);
        chart.put("seconds", seconds);
        chart.put("series", names);
        chart.put("colors", List.of(COLORS));
        chart.put("x", x);
        chart.put("y", y);
        chart.put("windows", shaded);
        chart.put("phases", phases.stream().map(p -> Map.of("name", p.name(), "from", p.fromSecond())).toList());
        try {
            html.append("<div class=\"chart\" data-chart=\"").append(ChaosReport.esc(JSON.writeValueAsString(chart)))
                    .append("\"></div>");
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render chart data", e);
        }
    }

    /** The script that draws every chart of the page; goes last in the body. */
    static String script() {
        return "<script>" + DRAW + "</script>";
    }

    private static final String DRAW = """
            (function () {
              var drawn = [];
              var first = document.querySelector("div.chart[data-chart]");
              // Per-second strips stretch over the same plot area as the charts (known once the first is laid out).
              function alignStrips(u) {
                var plot = u.over.getBoundingClientRect();
                document.querySelectorAll("svg.strip").forEach(function (s) {
                  var parent = s.parentElement.getBoundingClientRect();
                  s.style.marginLeft = (plot.left - parent.left) + "px";
                  s.setAttribute("width", plot.width.toFixed(1));
                });
              }
              document.querySelectorAll("div.chart[data-chart]").forEach(function (el) {
                var c = JSON.parse(el.getAttribute("data-chart"));
                var series = [{label: "second"}].concat(c.series.map(function (name, i) {
                  return {label: name, stroke: c.colors[i % c.colors.length], width: 1.5, spanGaps: false};
                }));
                var shade = {hooks: {
                  drawClear: [function (u) {
                    var ctx = u.ctx, px = window.devicePixelRatio || 1;
                    ctx.save();
                    c.windows.forEach(function (w) {
                      var x0 = u.valToPos(w.from, "x", true), x1 = u.valToPos(w.to, "x", true);
                      ctx.fillStyle = "rgba(245,166,35,0.18)";
                      ctx.fillRect(x0, u.bbox.top, Math.max(1, x1 - x0), u.bbox.height);
                      ctx.fillStyle = "#a05a00";
                      ctx.font = (11 * px) + "px sans-serif";
                      ctx.fillText(w.fault, x0 + 3 * px, u.bbox.top + 12 * px);
                    });
                    c.phases.forEach(function (p) {
                      var x = u.valToPos(p.from, "x", true);
                      ctx.strokeStyle = "#999";
                      ctx.setLineDash([3 * px, 3 * px]);
                      ctx.beginPath();
                      ctx.moveTo(x, u.bbox.top);
                      ctx.lineTo(x, u.bbox.top + u.bbox.height);
                      ctx.stroke();
                      ctx.fillStyle = "#666";
                      ctx.font = (10 * px) + "px sans-serif";
                      ctx.fillText(p.name, x + 3 * px, u.bbox.top + u.bbox.height - 4 * px);
                    });
                    ctx.restore();
                  }],
                  draw: [function (u) {
                    if (el === first) {
                      alignStrips(u);
                    }
                    // Where each window was drawn (CSS pixels in the plot) and the x scale drawn on.
                    el.setAttribute("data-drawn-windows", c.windows.map(function (w) {
                      return w.fault + "@" + u.valToPos(w.from, "x").toFixed(2) + ":" + u.valToPos(w.to, "x").toFixed(2);
                    }).join(";"));
                    el.setAttribute("data-drawn-scale", u.scales.x.min + ":" + u.scales.x.max + ":"
                        + (u.bbox.width / (window.devicePixelRatio || 1)).toFixed(2));
                  }]
                }};
                drawn.push(new uPlot({width: CHART_WIDTH, height: CHART_HEIGHT, series: series,
                  scales: {x: {time: false, auto: false, range: [0, c.seconds]}},
                  axes: [{label: "second of the run"}, {label: c.unit}],
                  cursor: {drag: {x: true, y: false}}, plugins: [shade]},
                  [c.x].concat(c.y), el));
              });
              // A capacity search's knees: one measure against the offered rate, a point per plateau coloured by its
              // outcome, the capacity and the limiting rate marked.
              document.querySelectorAll("div.chart[data-knee]").forEach(function (el) {
                var c = JSON.parse(el.getAttribute("data-knee"));
                var marks = {hooks: {draw: [function (u) {
                  var ctx = u.ctx, px = window.devicePixelRatio || 1;
                  ctx.save();
                  c.x.forEach(function (rate, i) {
                    if (c.y[i] === null) {
                      return;
                    }
                    ctx.fillStyle = c.colours[i];
                    ctx.beginPath();
                    ctx.arc(u.valToPos(rate, "x", true), u.valToPos(c.y[i], "y", true), 4 * px, 0, 2 * Math.PI);
                    ctx.fill();
                  });
                  function mark(rate, colour, label) {
                    if (!(rate > 0)) {
                      return;
                    }
                    var x = u.valToPos(rate, "x", true);
                    ctx.strokeStyle = colour;
                    ctx.setLineDash([4 * px, 3 * px]);
                    ctx.beginPath();
                    ctx.moveTo(x, u.bbox.top);
                    ctx.lineTo(x, u.bbox.top + u.bbox.height);
                    ctx.stroke();
                    ctx.fillStyle = colour;
                    ctx.font = (11 * px) + "px sans-serif";
                    ctx.fillText(label, x + 3 * px, u.bbox.top + 12 * px);
                  }
                  mark(c.capacity, "#1a7f37", "capacity " + c.capacity);
                  if (c.limitedBy) {
                    mark(c.limit, "#cf222e", "limited by " + c.limitedBy + " at " + c.limit);
                  }
                  ctx.restore();
                  el.setAttribute("data-drawn-points", String(c.y.filter(function (v) { return v !== null; }).length));
                }]}};
                drawn.push(new uPlot({width: CHART_WIDTH, height: CHART_HEIGHT, series: [{label: "shoppers/s"},
                  {label: c.name, stroke: "#888", width: 1, points: {show: false}}],
                  scales: {x: {time: false}}, axes: [{label: "offered rate (shoppers/s)"}, {label: c.unit}],
                  plugins: [marks]}, [c.x, c.y], el));
              });

            })();
            """.replace("CHART_WIDTH", Integer.toString(WIDTH)).replace("CHART_HEIGHT", Integer.toString(HEIGHT));

    private static String resource(String path) {
        try (InputStream in = Charts.class.getClassLoader().getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException(path + " is missing from the classpath: the uPlot WebJar "
                        + "(org.webjars.npm:uplot) must be a dependency");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
