package dev.doorbuster.verdict.consistency;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

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
 *
 * <p>Operations go to the run's {@link ConsistencyJournal} as they happen; only their count stays in memory.
 */
public final class History {
    /** How an operation ended (or {@code INVOKE}: it started). */
    public enum Type {
        INVOKE, OK, FAIL, INFO
    }

    /**
     * One operation.
     *
     * @param value    the state written or read ({@link Observation#value()}), a write's intent before its answer
     * @param nanos    when it happened, in nanoseconds from second 0 of the run
     * @param version  the key's version as the answer showed it ({@link Observation#version()}; {@link Observation#ABSENT}
     *                 when it showed the key absent), for {@code ok} operations whose answer showed one; else null
     * @param servedBy who answered an {@code ok} read ({@link ServedBy}), when the answer said; else null
     */
    public record Op(long process, Type type, boolean write, String key, String value, long nanos, Long version,
                     String servedBy) {
    }

    private final ConsistencyJournal journal;
    private final AtomicLong count = new AtomicLong();

    History(ConsistencyJournal journal) {
        this.journal = journal;
    }

    /** Records one operation, timed now (in the journal, so that its order is the operations' time order). */
    public void add(long process, Type type, boolean write, String key, String value) {
        add(process, type, write, key, value, null, null);
    }

    /**
     * Records one operation with what its answer showed besides the state: the key's {@code version} and, for a
     * read, who answered it ({@code servedBy}); each null when unknown. The cache staleness check reads them back.
     */
    public void add(long process, Type type, boolean write, String key, String value, Long version, String servedBy) {
        journal.appendOp(process, type, write, key, value, version, servedBy);
        count.incrementAndGet();
    }

    /** Counts a shard's operations (its journal is read with this one's). */
    void absorb(long shardOps) {
        count.addAndGet(shardOps);
    }

    /** Operations recorded (a shard's included once absorbed). */
    public long size() {
        return count.get();
    }

    /** Every operation, read back from the journal in time order (a shard's included once absorbed). */
    public void forEach(java.util.function.Consumer<Op> consumer) throws IOException {
        check();
        journal.forEachOpInTimeOrder(consumer);
    }

    private void check() throws IOException {
        String problem = journal.problem();
        if (problem != null) {
            throw new IOException("the operation history is incomplete: " + problem);
        }
    }

    /** Writes the history as a JSON array of operations, one per line (elle-cli's JSON input). */
    public void writeElleJson(Path file) throws IOException {
        check();
        // Number every state written to each key, in the order it was first written (invocations carry the
        // intended value, so a state gets its number even if its write never got an answer). A first pass over the
        // journal; the numbers stay in memory until the file is written: one entry per distinct state written,
        // smaller than the operations, which are streamed (a second pass).
        Map<String, Map<String, Integer>> numbers = new HashMap<>();
        journal.forEachOpInTimeOrder(op -> {
            if (op.write() && op.value() != null) {
                Map<String, Integer> ofKey = numbers.computeIfAbsent(op.key(), k -> new HashMap<>());
                ofKey.putIfAbsent(op.value(), ofKey.size() + 1);
            }
        });
        Files.createDirectories(file.toAbsolutePath().getParent());
        try (OutputStream out = Files.newOutputStream(file);
             JsonGenerator json = new JsonFactory().createGenerator(out)) {
            json.writeRaw("[");
            long[] index = {0};
            IOException[] failed = {null};
            journal.forEachOpInTimeOrder(op -> {
                if (failed[0] == null) {
                    try {
                        writeOp(json, op, numbers, index[0]++);
                    } catch (IOException e) {
                        failed[0] = e;
                    }
                }
            });
            if (failed[0] != null) {
                throw failed[0];
            }
            json.writeRaw("]\n");
        }
    }

    private static void writeOp(JsonGenerator json, Op op, Map<String, Map<String, Integer>> numbers, long index)
            throws IOException {
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
        json.writeNumberField("index", index);
        json.writeEndObject();
    }
}
