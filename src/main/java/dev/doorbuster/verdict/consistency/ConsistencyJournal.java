package dev.doorbuster.verdict.consistency;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The run's consistency accounting on disk: every history operation, every write of the ledger and every order
 * attempted, appended as it happens, so the heap holds none of them however long the run. Read back, streaming,
 * once the load is over (the audit, the session report, the stock invariant, history.json).
 *
 * <p>One record per line, fields separated by tabs; in a field, {@code \} {@code TAB} {@code LF} {@code CR} and
 * unpaired surrogates are escaped ({@code \\ \t \n \r \}uXXXX), and {@code \N} alone is null, so any string
 * round-trips:
 * <pre>
 * H  nanos  process  type(I|O|F|N)  r|w  key  value  [version  servedBy]
 * W  kind  key  id  session  invokedAt  completedAt  outcome(A|F|D)  resultVersion  resultValue  intended
 * O  writeId  product:quantity,product:quantity...
 * </pre>
 * An operation's last two fields are there only when its answer said something of them ({@code ok} operations: the
 * key's version as the answer showed it, {@link Observation#ABSENT} when absent, and who answered a read), each {@code \N}
 * when unknown; an operation without them ends after its value, as every operation did before they were added.
 * Appends are serialized by one lock around a buffered writer (an append is a copy into the buffer; the OS write
 * behind it goes to the page cache). An operation's time is taken inside that lock, so a journal's operations are
 * in time order and history.json is written by merging, never by sorting.
 *
 * <p>An I/O error never reaches the virtual users: the journal marks itself broken with the cause and stops
 * writing; whoever reads it back gets {@link #problem()} and reports that it cannot tell (the audit's error),
 * never a count from a partial journal.
 *
 * <p>A coordinator reads its own journal followed by the journals its injector shards delivered ({@link #addSource}),
 * in that order.
 */
public final class ConsistencyJournal {
    /** A journal as an injector shard delivers it in its folder. */
    public static final String FILE = "consistency.journal";

    /** What a reader is told, record by record. */
    public interface Visitor {
        default void op(History.Op op) {
        }

        default void write(WriteLedger.Write write) {
        }

        default void order(String writeId, Map<Long, Integer> units) {
        }
    }

    /** Records of each type in a journal file (to check a shard's journal against the counts it declared). */
    public record Counts(long ops, long writes, long orders) {
    }

    private static final String NULL = "\\N";
    /** Fields of an {@code H} line: without, and with, what its answer showed (version, server). */
    private static final int OP_FIELDS = 7;
    private static final int OP_FIELDS_ANSWERED = 9;

    private final Path file;
    private final LongSupplier clock;
    private final LongSupplier startNanos;
    private final List<Path> sources = new CopyOnWriteArrayList<>();
    /** Null once broken (or never opened). Guarded by {@code this}. */
    private Writer out;
    private volatile String problem;

    private ConsistencyJournal(Path file, LongSupplier clock, LongSupplier startNanos) {
        this.file = file;
        this.clock = clock;
        this.startNanos = startNanos;
        sources.add(file);
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            out = new BufferedWriter(new OutputStreamWriter(Files.newOutputStream(file, StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE), StandardCharsets.UTF_8), 1 << 16);
        } catch (IOException | RuntimeException e) {
            fail("cannot open " + file + ": " + e);
        }
    }

    /**
     * A journal appending to {@code file} (created, or emptied). Operations are timed in nanoseconds from
     * {@code startNanos}, second 0 of the run.
     */
    public static ConsistencyJournal open(Path file, LongSupplier startNanos) {
        return new ConsistencyJournal(file, System::nanoTime, startNanos);
    }

    /** {@link #open} with an explicit clock standing for {@link System#nanoTime()} (tests: known times). */
    static ConsistencyJournal open(Path file, LongSupplier clock, LongSupplier startNanos) {
        return new ConsistencyJournal(file, clock, startNanos);
    }

    /** A journal in a temporary file deleted when the JVM exits: for logs no run folder was given for. */
    public static ConsistencyJournal temporary(LongSupplier startNanos) {
        Path file;
        try {
            file = Files.createTempFile("doorbuster-consistency-", ".journal");
            file.toFile().deleteOnExit();
        } catch (IOException e) {
            // Opening it will fail too: the journal is born broken and says why.
            file = Path.of(System.getProperty("java.io.tmpdir"), "doorbuster-consistency-" + ProcessHandle.current().pid()
                    + "-" + System.nanoTime() + ".journal");
        }
        return new ConsistencyJournal(file, System::nanoTime, startNanos);
    }

    public Path file() {
        return file;
    }

    /** Why the journal cannot be trusted (it failed to write, or a shard's journal was unreadable), or null. */
    public String problem() {
        return problem;
    }

    /** Marks the journal untrustworthy; the first cause is kept. */
    public synchronized void fail(String why) {
        if (problem == null) {
            problem = why;
        }
        closeQuietly();
    }

    /** A shard's problem: the journal as a whole cannot be trusted, but this process's own file still is written. */
    void problemElsewhere(String why) {
        synchronized (this) {
            if (problem == null) {
                problem = why;
            }
        }
    }

    void appendOp(long process, History.Type type, boolean write, String key, String value, Long version,
                  String servedBy) {
        StringBuilder rest = new StringBuilder(64);
        rest.append('\t').append(process).append('\t').append(typeCode(type)).append('\t').append(write ? 'w' : 'r');
        field(rest, key);
        field(rest, value);
        if (version != null || servedBy != null) {
            // Only answered operations have these: invocations and failures stay as short as they were.
            rest.append('\t').append(version == null ? NULL : version.toString());
            field(rest, servedBy);
        }
        rest.append('\n');
        synchronized (this) {
            if (out == null) {
                return;
            }
            // Timed inside the lock: the journal's order is the operations' time order.
            long nanos = clock.getAsLong() - startNanos.getAsLong();
            try {
                out.write("H\t");
                out.write(Long.toString(nanos));
                out.append(rest);
            } catch (IOException | RuntimeException e) {
                writeFailed(e);
            }
        }
    }

    void appendWrite(WriteLedger.Write w) {
        StringBuilder line = new StringBuilder(128).append('W');
        field(line, w.kind());
        field(line, w.key());
        field(line, w.id());
        line.append('\t').append(w.session()).append('\t').append(w.invokedAt()).append('\t').append(w.completedAt())
                .append('\t').append(outcomeCode(w.outcome()));
        if (w.result() == null) {
            line.append('\t').append(NULL).append('\t').append(NULL);
        } else {
            line.append('\t').append(w.result().version());
            field(line, w.result().value());
        }
        field(line, w.intended());
        line.append('\n');
        append(line);
    }

    void appendOrder(String writeId, Map<Long, Integer> units) {
        StringBuilder line = new StringBuilder(64).append('O');
        field(line, writeId);
        line.append('\t');
        boolean first = true;
        for (Map.Entry<Long, Integer> e : units.entrySet()) {
            line.append(first ? "" : ",").append(e.getKey()).append(':').append(e.getValue());
            first = false;
        }
        line.append('\n');
        append(line);
    }

    private synchronized void append(CharSequence line) {
        if (out == null) {
            return;
        }
        try {
            out.append(line);
        } catch (IOException | RuntimeException e) {
            writeFailed(e);
        }
    }

    private void writeFailed(Exception e) {
        fail("cannot write " + file + ": " + e);
    }

    /** Writes out what is buffered (before it is read back or copied). */
    public synchronized void flush() {
        if (out == null) {
            return;
        }
        try {
            out.flush();
        } catch (IOException | RuntimeException e) {
            writeFailed(e);
        }
    }

    /** Flushes and closes the file; later appends are dropped (without marking the journal broken). */
    public synchronized void close() {
        flush();
        closeQuietly();
    }

    private void closeQuietly() {
        if (out != null) {
            try {
                out.close();
            } catch (IOException | RuntimeException e) {
                // what could be written was; the cause that matters is already recorded
            }
            out = null;
        }
    }

    /**
     * Copies this process's own journal, flushed, to {@code target} (an injector's delivery). A journal that never
     * opened has nothing to copy: its {@link #problem()} travels with the shard's counts instead.
     */
    public void copyTo(Path target) throws IOException {
        flush();
        if (problem != null && !Files.isRegularFile(file)) {
            return;
        }
        Files.copy(file, target, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Reads {@code shardJournal} after this process's own journal (and the shards' added before it). */
    void addSource(Path shardJournal) {
        sources.add(shardJournal);
    }

    /** Every record of every source, in order: this process's journal, then the shards' in the order added. */
    public void forEach(Visitor visitor) throws IOException {
        flush();
        for (Path source : sources) {
            read(source, visitor);
        }
    }

    /**
     * Every history operation of every source, in time order: each source is already in time order, so they are
     * merged (k-way); equal times keep the sources' order.
     */
    public void forEachOpInTimeOrder(Consumer<History.Op> consumer) throws IOException {
        flush();
        record Cursor(int source, Reader reader, History.Op[] current) {
        }
        PriorityQueue<Cursor> queue = new PriorityQueue<>(Comparator.comparingLong((Cursor c) -> c.current()[0].nanos())
                .thenComparingInt(Cursor::source));
        List<Reader> open = new ArrayList<>();
        try {
            for (int i = 0; i < sources.size(); i++) {
                Reader reader = new Reader(sources.get(i));
                open.add(reader);
                History.Op first = reader.nextOp();
                if (first != null) {
                    queue.add(new Cursor(i, reader, new History.Op[] {first}));
                }
            }
            while (!queue.isEmpty()) {
                Cursor c = queue.poll();
                consumer.accept(c.current()[0]);
                History.Op next = c.reader().nextOp();
                if (next != null) {
                    c.current()[0] = next;
                    queue.add(c);
                }
            }
        } finally {
            for (Reader r : open) {
                r.close();
            }
        }
    }

    /** Counts the records of one journal file, checking that every line reads. */
    public static Counts count(Path file) throws IOException {
        long[] n = new long[3];
        read(file, new Visitor() {
            @Override
            public void op(History.Op op) {
                n[0]++;
            }

            @Override
            public void write(WriteLedger.Write write) {
                n[1]++;
            }

            @Override
            public void order(String writeId, Map<Long, Integer> units) {
                n[2]++;
            }
        });
        return new Counts(n[0], n[1], n[2]);
    }

    /** Reads every record of {@code file}. A line that does not read is an error naming the file and line. */
    public static void read(Path file, Visitor visitor) throws IOException {
        try (Reader reader = new Reader(file)) {
            reader.each(visitor);
        }
    }

    /** One journal file, line by line. */
    private static final class Reader implements Closeable {
        private final Path file;
        private final BufferedReader in;
        private long lineNumber;

        Reader(Path file) throws IOException {
            this.file = file;
            this.in = Files.newBufferedReader(file, StandardCharsets.UTF_8);
        }

        void each(Visitor visitor) throws IOException {
            String line;
            while ((line = in.readLine()) != null) {
                lineNumber++;
                try {
                    dispatch(line, visitor);
                } catch (RuntimeException e) {
                    throw corrupt(e);
                }
            }
        }

        /** The next history operation, skipping other records; null at the end. */
        History.Op nextOp() throws IOException {
            String line;
            while ((line = in.readLine()) != null) {
                lineNumber++;
                try {
                    if (line.startsWith("H\t")) {
                        return op(line);
                    }
                    check(line);
                } catch (RuntimeException e) {
                    throw corrupt(e);
                }
            }
            return null;
        }

        private IOException corrupt(RuntimeException e) {
            return new IOException(file + " line " + lineNumber + " does not read: " + e.getMessage(), e);
        }

        /** A record skipped while looking for operations must still be one (a torn or foreign line is an error). */
        private static void check(String line) {
            if (!(line.startsWith("W\t") && split(line, 11) != null || line.startsWith("O\t") && split(line, 3) != null)) {
                throw new IllegalArgumentException("not a journal record");
            }
        }

        private static void dispatch(String line, Visitor visitor) {
            if (line.startsWith("H\t")) {
                visitor.op(op(line));
            } else if (line.startsWith("W\t")) {
                String[] f = split(line, 11);
                Observation result = f[8].equals(NULL) ? null
                        : new Observation(Long.parseLong(f[8]), unescape(f[9]));
                visitor.write(new WriteLedger.Write(unescape(f[1]), unescape(f[2]), unescape(f[3]), Long.parseLong(f[4]),
                        Double.parseDouble(f[5]), Double.parseDouble(f[6]), outcome(f[7]), result, unescape(f[10])));
            } else if (line.startsWith("O\t")) {
                String[] f = split(line, 3);
                Map<Long, Integer> units = new LinkedHashMap<>();
                if (!f[2].isEmpty()) {
                    for (String pair : f[2].split(",")) {
                        int colon = pair.indexOf(':');
                        units.put(Long.parseLong(pair.substring(0, colon)), Integer.parseInt(pair.substring(colon + 1)));
                    }
                }
                visitor.order(unescape(f[1]), units);
            } else {
                throw new IllegalArgumentException("not a journal record");
            }
        }

        /** An {@code H} line: 7 fields, or 9 with the answer's version and server. */
        private static History.Op op(String line) {
            String[] f = split(line, tabs(line) == OP_FIELDS_ANSWERED - 1 ? OP_FIELDS_ANSWERED : OP_FIELDS);
            boolean answered = f.length == OP_FIELDS_ANSWERED;
            Long version = !answered || f[7].equals(NULL) ? null : Long.parseLong(f[7]);
            return new History.Op(Long.parseLong(f[2]), type(f[3]), switch (f[4]) {
                case "w" -> true;
                case "r" -> false;
                default -> throw new IllegalArgumentException("neither r nor w: " + f[4]);
            }, unescape(f[5]), unescape(f[6]), Long.parseLong(f[1]), version, answered ? unescape(f[8]) : null);
        }

        private static int tabs(String line) {
            int n = 0;
            for (int i = line.indexOf('\t'); i >= 0; i = line.indexOf('\t', i + 1)) {
                n++;
            }
            return n;
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }

    /** The line's {@code n} tab-separated fields (a line with another number of fields is not a record). */
    private static String[] split(String line, int n) {
        String[] fields = new String[n];
        int from = 0;
        for (int i = 0; i < n - 1; i++) {
            int tab = line.indexOf('\t', from);
            if (tab < 0) {
                throw new IllegalArgumentException(n + " fields expected, " + (i + 1) + " found");
            }
            fields[i] = line.substring(from, tab);
            from = tab + 1;
        }
        if (line.indexOf('\t', from) >= 0) {
            throw new IllegalArgumentException("more than " + n + " fields");
        }
        fields[n - 1] = line.substring(from);
        return fields;
    }

    private static void field(StringBuilder line, String value) {
        line.append('\t');
        if (value == null) {
            line.append(NULL);
            return;
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '\\' -> line.append("\\\\");
                case '\t' -> line.append("\\t");
                case '\n' -> line.append("\\n");
                case '\r' -> line.append("\\r");
                default -> {
                    if (Character.isHighSurrogate(c) && i + 1 < value.length()
                            && Character.isLowSurrogate(value.charAt(i + 1))) {
                        line.append(c).append(value.charAt(++i));
                    } else if (Character.isSurrogate(c)) {
                        // Unpaired: UTF-8 cannot carry it, so it is written as its code unit.
                        line.append(String.format("\\u%04x", (int) c));
                    } else {
                        line.append(c);
                    }
                }
            }
        }
    }

    static String unescape(String field) {
        if (field.equals(NULL)) {
            return null;
        }
        if (field.indexOf('\\') < 0) {
            return field;
        }
        StringBuilder s = new StringBuilder(field.length());
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c != '\\') {
                s.append(c);
                continue;
            }
            char e = field.charAt(++i);
            switch (e) {
                case '\\' -> s.append('\\');
                case 't' -> s.append('\t');
                case 'n' -> s.append('\n');
                case 'r' -> s.append('\r');
                case 'u' -> {
                    s.append((char) Integer.parseInt(field.substring(i + 1, i + 5), 16));
                    i += 4;
                }
                default -> throw new IllegalArgumentException("unknown escape \\" + e);
            }
        }
        return s.toString();
    }

    private static char typeCode(History.Type type) {
        return switch (type) {
            case INVOKE -> 'I';
            case OK -> 'O';
            case FAIL -> 'F';
            case INFO -> 'N';
        };
    }

    private static History.Type type(String code) {
        return switch (code) {
            case "I" -> History.Type.INVOKE;
            case "O" -> History.Type.OK;
            case "F" -> History.Type.FAIL;
            case "N" -> History.Type.INFO;
            default -> throw new IllegalArgumentException("unknown operation type " + code);
        };
    }

    private static char outcomeCode(WriteLedger.Outcome outcome) {
        return switch (outcome) {
            case ACKNOWLEDGED -> 'A';
            case FAILED -> 'F';
            case IN_DOUBT -> 'D';
        };
    }

    private static WriteLedger.Outcome outcome(String code) {
        return switch (code) {
            case "A" -> WriteLedger.Outcome.ACKNOWLEDGED;
            case "F" -> WriteLedger.Outcome.FAILED;
            case "D" -> WriteLedger.Outcome.IN_DOUBT;
            default -> throw new IllegalArgumentException("unknown outcome " + code);
        };
    }
}
