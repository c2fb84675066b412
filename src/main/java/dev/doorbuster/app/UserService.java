package dev.doorbuster.app;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;

/** User profiles. Every update bumps {@code version}: the field a read-after-write check looks at. */
final class UserService {
    record User(long id, String name, String email, int version, String createdAt, String updatedAt) {
    }

    private static final String COLUMNS = "id, name, email, version, created_at, updated_at";

    private UserService() {
    }

    static User find(Connection c, long id) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT " + COLUMNS + " FROM users WHERE id = ?")) {
            s.setLong(1, id);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    throw ApiError.notFound("User " + id + " does not exist.");
                }
                return user(rs);
            }
        }
    }

    /** Changes the given fields (null = keep) and increments the version, in one statement. */
    static User update(Connection c, long id, String name, String email) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("UPDATE users SET name = coalesce(?, name), "
                + "email = coalesce(?, email), version = version + 1, updated_at = now() WHERE id = ? RETURNING "
                + COLUMNS)) {
            s.setObject(1, name, Types.VARCHAR);
            s.setObject(2, email, Types.VARCHAR);
            s.setLong(3, id);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    throw ApiError.notFound("User " + id + " does not exist.");
                }
                return user(rs);
            }
        } catch (SQLException e) {
            if ("23505".equals(e.getSQLState())) {
                throw ApiError.conflict("Email " + email + " is already used by another user.");
            }
            throw e;
        }
    }

    static boolean exists(Connection c, long id) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT 1 FROM users WHERE id = ?")) {
            s.setLong(1, id);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next();
            }
        }
    }

    private static User user(ResultSet rs) throws SQLException {
        return new User(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getInt(4), Json.instant(rs, 5),
                Json.instant(rs, 6));
    }
}
