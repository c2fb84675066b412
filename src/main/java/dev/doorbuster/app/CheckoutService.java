package dev.doorbuster.app;

import java.math.BigDecimal;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Orders: checkout (the one write that must never oversell) and order reads.
 *
 * <p>Checkout locks the ordered products' rows in id order ({@code FOR NO KEY UPDATE}), checks every
 * line's stock, and only then decrements them all: either every line is taken or nothing is. Locking in
 * one global order means two orders over the same products queue instead of deadlocking, and
 * {@code NO KEY UPDATE} does not block carts and order lines that merely reference the products. The
 * {@code CHECK (stock >= 0)} constraint backs this up in the database.
 */
final class CheckoutService {
    record Order(long id, long userId, Long cartId, String status, BigDecimal total, String createdAt,
                 List<Line> lines) {
    }

    record Line(int lineNo, long productId, int quantity, BigDecimal unitPrice) {
    }

    record OrderSummary(long id, long userId, Long cartId, String status, BigDecimal total, String createdAt) {
    }

    private CheckoutService() {
    }

    /** Checks out an open cart; 404 unknown cart, 409 checked out or empty, 409 out_of_stock. */
    static Order placeFromCart(Connection c, long cartId) throws SQLException {
        long userId = CartService.lockOpenCart(c, cartId);
        SortedMap<Long, Integer> quantities = new TreeMap<>();
        for (long[] line : CartService.lines(c, cartId)) {
            quantities.put(line[0], (int) line[1]);
        }
        if (quantities.isEmpty()) {
            throw ApiError.conflict("Cart " + cartId + " is empty; add items before checking out.");
        }
        Order order = place(c, userId, cartId, quantities);
        try (PreparedStatement s = c.prepareStatement("UPDATE carts SET status = 'checked_out', updated_at = now() "
                + "WHERE id = ?")) {
            s.setLong(1, cartId);
            s.executeUpdate();
        }
        return order;
    }

    /** Places an order for the given product quantities (product id → quantity, already merged). */
    static Order placeDirect(Connection c, long userId, SortedMap<Long, Integer> quantities) throws SQLException {
        if (!UserService.exists(c, userId)) {
            throw ApiError.notFound("User " + userId + " does not exist.");
        }
        return place(c, userId, null, quantities);
    }

    private static Order place(Connection c, long userId, Long cartId, SortedMap<Long, Integer> quantities)
            throws SQLException {
        Long[] productIds = quantities.keySet().toArray(Long[]::new);
        Integer[] counts = quantities.values().toArray(Integer[]::new);
        Map<Long, BigDecimal> prices = new HashMap<>();
        Set<Long> missing = new TreeSet<>(quantities.keySet());
        List<Long> lacking = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement("SELECT id, price, stock FROM products WHERE id = ANY (?) "
                + "ORDER BY id FOR NO KEY UPDATE")) {
            s.setArray(1, c.createArrayOf("bigint", productIds));
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    long id = rs.getLong(1);
                    missing.remove(Long.valueOf(id));
                    prices.put(id, rs.getBigDecimal(2));
                    if (rs.getInt(3) < quantities.get(id)) {
                        lacking.add(id);
                    }
                }
            }
        }
        if (!missing.isEmpty()) {
            throw ApiError.notFound("Product(s) " + missing + " do not exist.");
        }
        if (!lacking.isEmpty()) {
            throw ApiError.outOfStock("Not enough stock for product(s) " + lacking + "; nothing was ordered.", lacking);
        }

        Array ids = c.createArrayOf("bigint", productIds);
        Array qty = c.createArrayOf("integer", counts);
        try (PreparedStatement s = c.prepareStatement("UPDATE products p SET stock = p.stock - l.qty, updated_at = now() "
                + "FROM unnest(?::bigint[], ?::integer[]) AS l(id, qty) WHERE p.id = l.id")) {
            s.setArray(1, ids);
            s.setArray(2, qty);
            s.executeUpdate();
        }

        BigDecimal total = BigDecimal.ZERO;
        List<Line> lines = new ArrayList<>();
        int lineNo = 0;
        for (Map.Entry<Long, Integer> e : quantities.entrySet()) {
            BigDecimal price = prices.get(e.getKey());
            total = total.add(price.multiply(BigDecimal.valueOf(e.getValue())));
            lines.add(new Line(++lineNo, e.getKey(), e.getValue(), price));
        }

        long orderId;
        String createdAt;
        String status;
        try (PreparedStatement s = c.prepareStatement("INSERT INTO orders (user_id, cart_id, total) VALUES (?, ?, ?) "
                + "RETURNING id, status, created_at")) {
            s.setLong(1, userId);
            s.setObject(2, cartId, Types.BIGINT);
            s.setBigDecimal(3, total);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                orderId = rs.getLong(1);
                status = rs.getString(2);
                createdAt = Json.instant(rs, 3);
            }
        }
        try (PreparedStatement s = c.prepareStatement("INSERT INTO order_lines (order_id, line_no, product_id, quantity, "
                + "unit_price) SELECT ?, l.n, l.id, l.qty, p.price "
                + "FROM unnest(?::bigint[], ?::integer[]) WITH ORDINALITY AS l(id, qty, n) JOIN products p ON p.id = l.id")) {
            s.setLong(1, orderId);
            s.setArray(2, ids);
            s.setArray(3, qty);
            s.executeUpdate();
        }
        return new Order(orderId, userId, cartId, status, total, createdAt, lines);
    }

    /** The order and its lines in one statement (one snapshot). */
    static Order find(Connection c, long orderId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT o.id, o.user_id, o.cart_id, o.status, o.total, o.created_at, "
                + "l.line_no, l.product_id, l.quantity, l.unit_price FROM orders o "
                + "LEFT JOIN order_lines l ON l.order_id = o.id WHERE o.id = ? ORDER BY l.line_no")) {
            s.setLong(1, orderId);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    throw ApiError.notFound("Order " + orderId + " does not exist.");
                }
                OrderSummary o = summary(rs);
                List<Line> lines = new ArrayList<>();
                do {
                    int lineNo = rs.getInt(7);
                    if (!rs.wasNull()) {
                        lines.add(new Line(lineNo, rs.getLong(8), rs.getInt(9), rs.getBigDecimal(10)));
                    }
                } while (rs.next());
                return new Order(o.id(), o.userId(), o.cartId(), o.status(), o.total(), o.createdAt(), lines);
            }
        }
    }

    /** A user's newest orders first; served by the (user_id, created_at DESC, id DESC) index, no sort. */
    static List<OrderSummary> ofUser(Connection c, long userId, int limit) throws SQLException {
        List<OrderSummary> orders = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement("SELECT id, user_id, cart_id, status, total, created_at FROM orders "
                + "WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT ?")) {
            s.setLong(1, userId);
            s.setInt(2, limit);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    orders.add(summary(rs));
                }
            }
        }
        if (orders.isEmpty() && !UserService.exists(c, userId)) {
            throw ApiError.notFound("User " + userId + " does not exist.");
        }
        return orders;
    }

    private static OrderSummary summary(ResultSet rs) throws SQLException {
        long cartId = rs.getLong(3);
        Long cart = rs.wasNull() ? null : cartId;
        return new OrderSummary(rs.getLong(1), rs.getLong(2), cart, rs.getString(4), rs.getBigDecimal(5),
                Json.instant(rs, 6));
    }
}
