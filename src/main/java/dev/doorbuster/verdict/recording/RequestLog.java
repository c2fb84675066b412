package dev.doorbuster.verdict.recording;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Every request's latency, one line each ({@code second,request,micros,ok}), when asked for with
 * {@code -Drecording.requests=true}: the raw data behind the histograms, for one's own analysis (and for checking
 * that merged percentiles are those of the union of every shard's requests). Off by default: a long soak makes
 * millions of lines.
 */
public final class RequestLog implements AutoCloseable {
    public static final String PROPERTY = "recording.requests";
    public static final String FILE = "requests.csv";

    private final Path file;
    private final BufferedWriter out;
    private boolean closed;

    private RequestLog(Path file, BufferedWriter out) {
        this.file = file;
        this.out = out;
    }

    public static RequestLog open(Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
        out.write("second,request,micros,ok\n");
        return new RequestLog(file, out);
    }

    public Path file() {
        return file;
    }

    public synchronized void add(int second, String request, long micros, boolean ok) {
        if (closed) {
            return;
        }
        try {
            out.write(second + ",\"" + request.replace("\"", "\"\"") + "\"," + micros + "," + ok + "\n");
        } catch (IOException e) {
            closed = true; // a full disk must not fail the run: the histograms still hold everything
        }
    }

    @Override
    public synchronized void close() throws IOException {
        if (!closed) {
            closed = true;
        }
        out.close();
    }
}
