package dev.doorbuster.app;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/** Carts: created for a user, filled with products, read back with their items. Stock is checked at checkout. */
final class CartService {
    record Cart(long id, long userId, String status, String createdAt, List<Item> items) {
    }

    record Item(long productId, String name, BigDecimal unitPrice, int quantity) {
    }

    private CartService() {
    }

    static Cart create(Connection c, long userId) throws SQLException {
        // INSERT ... SELECT: an unknown user inserts nothing, a clean 404 instead of a foreign-key error.
        try (PreparedStatement s = c.prepareStatement("INSERT INTO carts (user_id) SELECT id FROM users WHERE id = ? "
                + "RETURNING id, user_id, status, created_at")) {
            s.setLong(1, userId);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    throw ApiError.notFound("User " + userId + " does not exist.");
                }
                return new Cart(rs.getLong(1), rs.getLong(2), rs.getString(3), Json.instant(rs, 4), List.of());
            }
        }
    }

    /** Adds {@code quantity} of a product (on top of what the cart already holds) and returns the cart. */
    static Cart addItem(Connection c, long cartId, long productId, int quantity) throws SQLException {
        lockOpenCart(c, cartId);
        try (PreparedStatement s = c.prepareStatement("SELECT 1 FROM products WHERE id = ?")) {
            s.setLong(1, productId);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    throw ApiError.notFound("Product " + productId + " does not exist.");
                }
            }
        }
        try (PreparedStatement s = c.prepareStatement("INSERT INTO cart_items (cart_id, product_id, quantity) "
                + "VALUES (?, ?, ?) ON CONFLICT (cart_id, product_id) "
                + "DO UPDATE SET quantity = cart_items.quantity + EXCLUDED.quantity")) {
            s.setLong(1, cartId);
            s.setLong(2, productId);
            s.setInt(3, quantity);
            s.executeUpdate();
        } catch (SQLException e) {
            if ("23514".equals(e.getSQLState())) {
                throw ApiError.conflict("Cart " + cartId + " would hold more than 10000 of product " + productId + ".");
            }
            throw e;
        }
        try (PreparedStatement s = c.prepareStatement("UPDATE carts SET updated_at = now() WHERE id = ?")) {
            s.setLong(1, cartId);
            s.executeUpdate();
        }
        return find(c, cartId);
    }

    /**
     * Locks the cart row (a concurrent checkout of the same cart waits, then sees it checked out) and
     * returns its owner; 404 if absent, 409 if already checked out.
     */
    static long lockOpenCart(Connection c, long cartId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT user_id, status FROM carts WHERE id = ? FOR UPDATE")) {
            s.setLong(1, cartId);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    throw ApiError.notFound("Cart " + cartId + " does not exist.");
                }
                if (!"open".equals(rs.getString(2))) {
                    throw ApiError.conflict("Cart " + cartId + " is already checked out.");
                }
                return rs.getLong(1);
            }
        }
    }

    /** The cart and its items in one statement, so both come from the same snapshot. */
    static Cart find(Connection c, long cartId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT c.id, c.user_id, c.status, c.created_at, "
                + "i.product_id, p.name, p.price, i.quantity FROM carts c "
                + "LEFT JOIN cart_items i ON i.cart_id = c.id LEFT JOIN products p ON p.id = i.product_id "
                + "WHERE c.id = ? ORDER BY i.added_at, i.product_id")) {
            s.setLong(1, cartId);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    throw ApiError.notFound("Cart " + cartId + " does not exist.");
                }
                long id = rs.getLong(1);
                long userId = rs.getLong(2);
                String status = rs.getString(3);
                String createdAt = Json.instant(rs, 4);
                List<Item> items = new ArrayList<>();
                do {
                    long productId = rs.getLong(5);
                    if (!rs.wasNull()) {
                        items.add(new Item(productId, rs.getString(6), rs.getBigDecimal(7), rs.getInt(8)));
                    }
                } while (rs.next());
                return new Cart(id, userId, status, createdAt, items);
            }
        }
    }

    /** The cart's lines as (product id, quantity), in product id order. */
    static List<long[]> lines(Connection c, long cartId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT product_id, quantity FROM cart_items WHERE cart_id = ? "
                + "ORDER BY product_id")) {
            s.setLong(1, cartId);
            List<long[]> lines = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    lines.add(new long[] {rs.getLong(1), rs.getInt(2)});
                }
            }
            return lines;
        }
    }
}
