package dev.doorbuster.verdict.probes;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads Prometheus' text exposition format (what {@code /metrics} returns): samples with labels.
 * Only what the probes need: comments and type lines are skipped, timestamps ignored, and a malformed
 * line is skipped rather than failing a scrape.
 */
public final class PrometheusText {
    /** One sample, e.g. {@code hikaricp_connections_active{pool="writer"} 3}. */
    public record Sample(String name, Map<String, String> labels, double value) {
    }

    private final List<Sample> samples;

    private PrometheusText(List<Sample> samples) {
        this.samples = samples;
    }

    public static PrometheusText parse(String text) {
        List<Sample> samples = new ArrayList<>();
        for (String line : text.split("\n")) {
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#")) {
                continue;
            }
            Sample sample = parseLine(l);
            if (sample != null) {
                samples.add(sample);
            }
        }
        return new PrometheusText(samples);
    }

    /** The samples of several scrapes as one (the instances of one service: sums add up over them). */
    public static PrometheusText merge(List<PrometheusText> scrapes) {
        List<Sample> all = new ArrayList<>();
        for (PrometheusText scrape : scrapes) {
            all.addAll(scrape.samples);
        }
        return new PrometheusText(all);
    }

    public List<Sample> samples() {
        return samples;
    }

    /** Sum of every sample of {@code name} whose labels include all of {@code labels} (NaN if none). */
    public double sum(String name, Map<String, String> labels) {
        double total = 0;
        boolean found = false;
        for (Sample s : samples) {
            if (s.name.equals(name) && s.labels.entrySet().containsAll(labels.entrySet())) {
                total += s.value;
                found = true;
            }
        }
        return found ? total : Double.NaN;
    }

    public double sum(String name) {
        return sum(name, Map.of());
    }

    /** The values of {@code label} over the samples of {@code name}, in order of appearance (a sample without it: none). */
    public java.util.Set<String> labelValues(String name, String label) {
        java.util.Set<String> values = new java.util.LinkedHashSet<>();
        for (Sample s : samples) {
            String value = s.labels.get(label);
            if (s.name.equals(name) && value != null) {
                values.add(value);
            }
        }
        return values;
    }

    /**
     * Sum of every sample of {@code name} whose {@code label} is {@code family} or starts with
     * {@code family + "-"} (NaN if none): {@code pool="reader"} and {@code reader-1}, {@code reader-2}... but
     * not {@code readers} or {@code writer}.
     */
    public double sumFamily(String name, String label, String family) {
        double total = 0;
        boolean found = false;
        for (Sample s : samples) {
            String value = s.labels.get(label);
            if (s.name.equals(name) && value != null && (value.equals(family) || value.startsWith(family + "-"))) {
                total += s.value;
                found = true;
            }
        }
        return found ? total : Double.NaN;
    }

    private static Sample parseLine(String line) {
        int brace = line.indexOf('{');
        int space = line.indexOf(' ');
        String name;
        Map<String, String> labels = new LinkedHashMap<>();
        String rest;
        if (brace >= 0 && (space < 0 || brace < space)) {
            name = line.substring(0, brace);
            int end = parseLabels(line, brace + 1, labels);
            if (end < 0) {
                return null;
            }
            rest = line.substring(end + 1).strip();
        } else if (space > 0) {
            name = line.substring(0, space);
            rest = line.substring(space + 1).strip();
        } else {
            return null;
        }
        String value = rest.split("\\s+")[0];
        try {
            return new Sample(name, labels, switch (value) {
                case "+Inf" -> Double.POSITIVE_INFINITY;
                case "-Inf" -> Double.NEGATIVE_INFINITY;
                case "NaN" -> Double.NaN;
                default -> Double.parseDouble(value);
            });
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** Parses {@code a="x",b="y"} from {@code from}; returns the index of the closing brace, or -1. */
    private static int parseLabels(String line, int from, Map<String, String> labels) {
        int i = from;
        while (i < line.length()) {
            char c = line.charAt(i);
            if (c == '}') {
                return i;
            }
            if (c == ',' || c == ' ') {
                i++;
                continue;
            }
            int eq = line.indexOf('=', i);
            if (eq < 0 || eq + 1 >= line.length() || line.charAt(eq + 1) != '"') {
                return -1;
            }
            String key = line.substring(i, eq).strip();
            StringBuilder value = new StringBuilder();
            int j = eq + 2;
            for (; j < line.length(); j++) {
                char v = line.charAt(j);
                if (v == '\\' && j + 1 < line.length()) {
                    char next = line.charAt(++j);
                    value.append(next == 'n' ? '\n' : next);
                } else if (v == '"') {
                    break;
                } else {
                    value.append(v);
                }
            }
            if (j >= line.length()) {
                return -1;
            }
            labels.put(key, value.toString());
            i = j + 1;
        }
        return -1;
    }
}
