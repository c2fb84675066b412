package dev.doorbuster.verdict.consistency;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.LongSupplier;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

/**
 * Every read and write of a key, as operations a black-box checker can read: each virtual user is a
 * process, each request an {@code invoke} followed by {@code ok}, {@code fail} or {@code info} (no answer,
 * or an answer that leaves the outcome unknown). Written as {@code history.json} in the format of Elle's
 * {@code rw-register} checker (as its command-line front end elle-cli reads it): one single-operation
 * transaction per request, {@code [["w", key, value]]} or {@code [["r", key, value]]}.
 *
 * <p>Elle wants integer values, unique per key among writes: each distinct state written to a key gets a
 * number (1, 2, ...) in the order first written; a read gets the number of the state it showed, or
 * {@code null} for the key's state before the run (absent, or seeded by someone else).
 */
public final class History {
    /** How an operation ended (or {@code INVOKE}: it started). */
    public enum Type {
        INVOKE, OK, FAIL, INFO
    }

    public record Op(long process, Type type, boolean write, String key, String value, long nanos) {
    }

    private final LongSupplier startNanos;
    private final ConcurrentLinkedQueue<Op> ops = new ConcurrentLinkedQueue<>();

    /** @param startNanos {@link System#nanoTime()} at second 0 of the run (the start of the load) */
    public History(LongSupplier startNanos) {
        this.startNanos = startNanos;
    }

    public void add(long process, Type type, boolean write, String key, String value) {
        ops.add(new Op(process, type, write, key, value, System.nanoTime() - startNanos.getAsLong()));
    }

    /** Every operation so far (a shard's, for the coordinator). */
    List<Op> ops() {
        return List.copyOf(ops);
    }

    /** Adds a shard's operations; their times count from the same instant as this history's (the common start). */
    void absorb(List<Op> shardOps) {
        ops.addAll(shardOps);
    }

    public int size() {
        return ops.size();
    }

    /** Writes the history as a JSON array of operations, one per line (elle-cli's JSON input). */
    public void writeElleJson(Path file) throws IOException {
        List<Op> all = new ArrayList<>(ops);
        all.sort((a, b) -> Long.compare(a.nanos(), b.nanos()));
        // Number every state written to each key, in the order it was first written (invocations carry the
        // intended value, so a state gets its number even if its write never got an answer).
        Map<String, Map<String, Integer>> numbers = new HashMap<>();
        for (Op op : all) {
            if (op.write() && op.value() != null) {
                Map<String, Integer> ofKey = numbers.computeIfAbsent(op.key(), k -> new HashMap<>());
                ofKey.putIfAbsent(op.value(), ofKey.size() + 1);
            }
        }
        Files.createDirectories(file.toAbsolutePath().getParent());
        try (OutputStream out = Files.newOutputStream(file);
             JsonGenerator json = new JsonFactory().createGenerator(out)) {
            json.writeRaw("[");
            long index = 0;
            for (Op op : all) {
                json.writeRaw(index == 0 ? "" : ",\n");
                json.writeStartObject();
                json.writeStringField("type", op.type().name().toLowerCase(java.util.Locale.ROOT));
                json.writeStringField("f", "txn");
                json.writeFieldName("value");
                json.writeStartArray();
                json.writeStartArray();
                json.writeString(op.write() ? "w" : "r");
                json.writeString(op.key());
                Integer number = op.value() == null ? null : numbers.getOrDefault(op.key(), Map.of()).get(op.value());
                // An invoked read does not know its value yet; a write that never got an answer keeps its intent.
                if (number == null || (!op.write() && op.type() == Type.INVOKE)) {
                    json.writeNull();
                } else {
                    json.writeNumber(number);
                }
                json.writeEndArray();
                json.writeEndArray();
                json.writeNumberField("process", op.process());
                json.writeNumberField("time", op.nanos());
                json.writeNumberField("index", index++);
                json.writeEndObject();
            }
            json.writeRaw("]\n");
        }
    }
}
