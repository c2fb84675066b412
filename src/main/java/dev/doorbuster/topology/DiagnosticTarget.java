package dev.doorbuster.topology;

/**
 * A database endpoint the harness may inspect after the fact (statistics views, sizes, replication), named
 * and direct: no chaos proxy between the harness and the server, so a fault never blurs what the report says
 * the database was doing.
 *
 * @param name     the node's name ({@code pg1}) or, for an external environment, {@code writer} / {@code replica}
 * @param role     what the topology believes the endpoint is now ({@code primary}, {@code replica}, {@code stopped});
 *                 a snapshot records what the server itself says
 * @param jdbcUrl  JDBC URL of the application's database on that endpoint
 * @param user     database user
 * @param password its password (may be empty); never printed
 */
public record DiagnosticTarget(String name, String role, String jdbcUrl, String user, String password) {
    @Override
    public String toString() {
        return name + " (" + role + ", " + jdbcUrl + ")";
    }
}
