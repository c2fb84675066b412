package dev.doorbuster.pooler;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What an operator's runbook does on one PgBouncer's admin console, wherever that PgBouncer runs (a process here, a
 * container): {@code PAUSE}, {@code RESUME}, {@code RELOAD}, {@code SHOW POOLS}, {@code SHOW STATS}. Each statement
 * on a connection of its own, as the login the pooler trusts at its console ({@code admin_users}).
 */
public final class PgBouncerConsole {
    /** PAUSE waits for the alias's server connections to be released: a busy transaction holds it that long. */
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final String name;
    private final InetSocketAddress address;
    private final String login;

    /**
     * @param name    the pooler's name, for messages
     * @param address where its console is reached from here
     * @param login   an {@code admin_users} login the pooler trusts (no password)
     */
    public PgBouncerConsole(String name, InetSocketAddress address, String login) {
        this.name = name;
        this.address = address;
        this.login = login;
    }

    /**
     * {@code PAUSE alias}: waits until every server connection of the alias is back in the pool, then holds new
     * queries of its clients (they wait, connected) until {@link #resume}. Returns once the pause took hold.
     */
    public void pause(String alias) {
        execute("PAUSE " + alias);
    }

    /** {@code RESUME alias}: the held clients' queries go on. */
    public void resume(String alias) {
        execute("RESUME " + alias);
    }

    /**
     * {@code RESUME alias} when it may or may not be paused (a {@code PAUSE} whose answer did not come in time may still
     * have taken hold): PgBouncer's "is not paused" answer is no failure here.
     *
     * @return false when the alias was not paused
     */
    public boolean resumeIfPaused(String alias) {
        try {
            resume(alias);
            return true;
        } catch (PoolerException e) {
            if (e.getMessage() != null && e.getMessage().contains(alias + " is not paused")) {
                return false;
            }
            throw e;
        }
    }

    /** {@code RELOAD}: PgBouncer reads its pgbouncer.ini again (a repointed alias takes effect). */
    public void reload() {
        execute("RELOAD");
    }

    /** {@code SHOW POOLS}: one row per database and user, the admin console's own left out. */
    public List<PgBouncerServer.Pool> pools() {
        return query("SHOW POOLS", r -> new PgBouncerServer.Pool(r.get("database"), integer(r, "cl_active"),
                integer(r, "cl_waiting"), integer(r, "sv_active"),
                integer(r, "sv_idle") + integer(r, "sv_used") + integer(r, "sv_tested"), integer(r, "sv_login"),
                number(r, "maxwait") * 1_000_000L + number(r, "maxwait_us")));
    }

    /** {@code SHOW STATS}: totals since the pooler started, per database, the admin console's own left out. */
    public List<PgBouncerServer.Stats> stats() {
        return query("SHOW STATS", r -> new PgBouncerServer.Stats(r.get("database"), number(r, "total_xact_count"),
                number(r, "total_query_count"), number(r, "total_wait_time")));
    }

    /** True when the console answers a login now (a pooler that is up, or back after a restart). */
    public boolean answers(Duration timeout) {
        try (AdminConsole console = AdminConsole.open(address, login, timeout)) {
            console.query("SHOW VERSION");
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private void execute(String command) {
        try (AdminConsole console = AdminConsole.open(address, login, TIMEOUT)) {
            console.query(command);
        } catch (IOException e) {
            throw new PoolerException("PgBouncer '" + name + "' refused '" + command + "': " + e.getMessage(), e);
        }
    }

    @FunctionalInterface
    private interface Row<T> {
        T read(Map<String, String> row);
    }

    private <T> List<T> query(String command, Row<T> row) {
        try (AdminConsole console = AdminConsole.open(address, login, TIMEOUT)) {
            List<T> rows = new ArrayList<>();
            for (Map<String, String> r : console.query(command)) {
                if (!PgBouncerServer.ADMIN_DATABASE.equals(r.get("database"))) {
                    rows.add(row.read(r));
                }
            }
            return rows;
        } catch (IOException | RuntimeException e) {
            throw new PoolerException("PgBouncer '" + name + "' could not answer '" + command + "': "
                    + e.getMessage(), e);
        }
    }

    private static int integer(Map<String, String> row, String column) {
        return (int) number(row, column);
    }

    private static long number(Map<String, String> row, String column) {
        String value = row.get(column);
        if (value == null) {
            throw new IllegalStateException("no column '" + column + "' in " + row.keySet());
        }
        return Long.parseLong(value.strip());
    }
}
