package dev.doorbuster.pooler;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * PgBouncer's admin console, spoken to with the PostgreSQL wire protocol's simple queries, one connection per use.
 *
 * <p>Why not PgJDBC: since 42.7.5 the driver sends {@code SET extra_float_digits} after logging in to any server that
 * reports a version below 12, and the console (PgBouncer reports "1.18.0/bouncer") refuses every {@code SET} it does
 * not know: "SET failed" (pgbouncer/pgbouncer#1509, fixed in PgBouncer releases newer than Debian 12's 1.18). The
 * console needs only a login without a password, {@code Query} and the rows back, so that is all this speaks.
 */
final class AdminConsole implements AutoCloseable {
    private static final int PROTOCOL_3_0 = 196_608;
    /** A console answer is a few rows; anything near this is not PgBouncer. */
    private static final int LARGEST_MESSAGE = 16 * 1024 * 1024;

    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;

    private AdminConsole(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
        this.out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream()));
    }

    /** Logs in to the console at {@code address} as {@code user} (an {@code admin_users} or {@code stats_users} one). */
    static AdminConsole open(InetSocketAddress address, String user, Duration timeout) throws IOException {
        Socket socket = new Socket();
        try {
            socket.connect(address, (int) timeout.toMillis());
            socket.setSoTimeout((int) timeout.toMillis());
            AdminConsole console = new AdminConsole(socket);
            console.login(user);
            return console;
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /** One statement; its rows, each column by name, as text (empty for a command without rows). */
    List<Map<String, String>> query(String sql) throws IOException {
        byte[] text = (sql + '\0').getBytes(StandardCharsets.UTF_8);
        out.writeByte('Q');
        out.writeInt(4 + text.length);
        out.write(text);
        out.flush();
        List<String> columns = List.of();
        List<Map<String, String>> rows = new ArrayList<>();
        String error = null;
        while (true) {
            Message m = read();
            switch (m.type) {
                case 'T' -> columns = columns(m.body);
                case 'D' -> rows.add(row(columns, m.body));
                case 'E' -> error = errorText(m.body);
                case 'Z' -> {
                    if (error != null) {
                        throw new IOException(error);
                    }
                    return Collections.unmodifiableList(rows);
                }
                default -> {
                    // CommandComplete, EmptyQueryResponse, notices, parameter changes: nothing to keep
                }
            }
        }
    }

    @Override
    public void close() {
        try {
            out.writeByte('X');
            out.writeInt(4);
            out.flush();
        } catch (IOException e) {
            // the console is gone already; closing the socket is all that is left
        } finally {
            try {
                socket.close();
            } catch (IOException ignored) {
                // nothing more to release
            }
        }
    }

    private void login(String user) throws IOException {
        byte[] parameters = ("user\0" + user + "\0database\0" + PgBouncerServer.ADMIN_DATABASE + "\0\0")
                .getBytes(StandardCharsets.UTF_8);
        out.writeInt(8 + parameters.length);
        out.writeInt(PROTOCOL_3_0);
        out.write(parameters);
        out.flush();
        while (true) {
            Message m = read();
            switch (m.type) {
                case 'R' -> {
                    int method = m.int32(0);
                    if (method != 0) {
                        throw new IOException("the console asked for a password (authentication method " + method
                                + "); the pooler must trust its own login (auth_type = trust)");
                    }
                }
                case 'E' -> throw new IOException(errorText(m.body));
                case 'Z' -> {
                    return;
                }
                default -> {
                    // parameter statuses and the cancel key: not needed
                }
            }
        }
    }

    private record Message(char type, byte[] body) {
        int int32(int at) {
            return ((body[at] & 0xff) << 24) | ((body[at + 1] & 0xff) << 16) | ((body[at + 2] & 0xff) << 8)
                    | (body[at + 3] & 0xff);
        }
    }

    private Message read() throws IOException {
        int type = in.read();
        if (type < 0) {
            throw new EOFException("the console closed the connection");
        }
        int length = in.readInt();
        if (length < 4 || length > LARGEST_MESSAGE) {
            throw new IOException("not a PostgreSQL protocol message (type '" + (char) type + "', length " + length + ")");
        }
        byte[] body = new byte[length - 4];
        in.readFully(body);
        return new Message((char) type, body);
    }

    /** RowDescription: the columns' names (the types do not matter: every value comes as text). */
    private static List<String> columns(byte[] body) {
        int count = ((body[0] & 0xff) << 8) | (body[1] & 0xff);
        List<String> names = new ArrayList<>(count);
        int at = 2;
        for (int i = 0; i < count; i++) {
            int end = at;
            while (body[end] != 0) {
                end++;
            }
            names.add(new String(body, at, end - at, StandardCharsets.UTF_8));
            at = end + 1 + 18; // table OID 4, column 2, type OID 4, size 2, modifier 4, format 2
        }
        return names;
    }

    private static Map<String, String> row(List<String> columns, byte[] body) {
        Message m = new Message('D', body);
        int count = ((body[0] & 0xff) << 8) | (body[1] & 0xff);
        Map<String, String> row = new LinkedHashMap<>();
        int at = 2;
        for (int i = 0; i < count; i++) {
            int length = m.int32(at);
            at += 4;
            String value = null;
            if (length >= 0) {
                value = new String(body, at, length, StandardCharsets.UTF_8);
                at += length;
            }
            row.put(i < columns.size() ? columns.get(i) : "column" + i, value);
        }
        return row;
    }

    /** ErrorResponse's severity, SQLSTATE and message. */
    private static String errorText(byte[] body) {
        String severity = "ERROR";
        String code = "";
        String message = "";
        int at = 0;
        while (at < body.length && body[at] != 0) {
            char field = (char) body[at];
            int end = at + 1;
            while (end < body.length && body[end] != 0) {
                end++;
            }
            String value = new String(body, at + 1, end - at - 1, StandardCharsets.UTF_8);
            switch (field) {
                case 'S' -> severity = value;
                case 'C' -> code = value;
                case 'M' -> message = value;
                default -> {
                    // detail, hint, position: not sent by the console
                }
            }
            at = end + 1;
        }
        return severity + (code.isEmpty() ? "" : " " + code) + ": " + message;
    }
}
