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

import dev.doorbuster.app.StorefrontConfig.StockLocking;

/**
 * Orders: checkout (the one write that must never oversell) and order reads.
 *
 * <p>Checkout locks the ordered products' rows in id order ({@code FOR NO KEY UPDATE}), checks every
 * line's stock, and only then decrements them all: either every line is taken or nothing is. Locking in
 * one global order means two orders over the same products queue instead of deadlocking, and
 * {@code NO KEY UPDATE} does not block carts and order lines that merely reference the products. The
 * {@code CHECK (stock >= 0)} constraint backs this up in the database.
 *
 * <p>{@link StockLocking#NONE} removes the lock on purpose (see {@link #takeStock}), for controls only.
 *
 * <p>An order keeps the {@code Idempotency-Key} of the request that placed it: after a failover a promoted
 * replica may hand out an acknowledged order's id again, and the key is how a client tells its order apart.
 */
final class CheckoutService {
    record Order(long id, long userId, Long cartId, String status, BigDecimal total, String createdAt,
                 String idempotencyKey, List<Line> lines) {
    }

    record Line(int lineNo, long productId, int quantity, BigDecimal unitPrice) {
    }

    record OrderSummary(long id, long userId, Long cartId, String status, BigDecimal total, String createdAt,
                        String idempotencyKey) {
    }

    private CheckoutService() {
    }

    /**
     * Checks out an open cart; 404 unknown cart, 409 checked out or empty, 409 out_of_stock.
     * {@code idempotencyKey}: the request's, stored with the order (null: none).
     */
    static Order placeFromCart(Connection c, StockLocking locking, long cartId, String idempotencyKey)
            throws SQLException {
        long userId = CartService.lockOpenCart(c, cartId);
        SortedMap<Long, Integer> quantities = new TreeMap<>();
        for (long[] line : CartService.lines(c, cartId)) {
            quantities.put(line[0], (int) line[1]);
        }
        if (quantities.isEmpty()) {
            throw ApiError.conflict("Cart " + cartId + " is empty; add items before checking out.");
        }
        Order order = place(c, locking, userId, cartId, quantities, idempotencyKey);
        try (PreparedStatement s = c.prepareStatement("UPDATE carts SET status = 'checked_out', updated_at = now() "
                + "WHERE id = ?")) {
            s.setLong(1, cartId);
            s.executeUpdate();
        }
        return order;
    }

    /** Places an order for the given product quantities (product id → quantity, already merged). */
    static Order placeDirect(Connection c, StockLocking locking, long userId, SortedMap<Long, Integer> quantities,
            String idempotencyKey) throws SQLException {
        if (!UserService.exists(c, userId)) {
            throw ApiError.notFound("User " + userId + " does not exist.");
        }
        return place(c, locking, userId, null, quantities, idempotencyKey);
    }

    private static Order place(Connection c, StockLocking locking, long userId, Long cartId,
            SortedMap<Long, Integer> quantities, String idempotencyKey) throws SQLException {
        Long[] productIds = quantities.keySet().toArray(Long[]::new);
        Integer[] counts = quantities.values().toArray(Integer[]::new);
        Map<Long, BigDecimal> prices = takeStock(c, locking, quantities);
        Array ids = c.createArrayOf("bigint", productIds);
        Array qty = c.createArrayOf("integer", counts);

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
        try (PreparedStatement s = c.prepareStatement("INSERT INTO orders (user_id, cart_id, total, idempotency_key) "
                + "VALUES (?, ?, ?, ?) RETURNING id, status, created_at")) {
            s.setLong(1, userId);
            s.setObject(2, cartId, Types.BIGINT);
            s.setBigDecimal(3, total);
            s.setObject(4, idempotencyKey, Types.VARCHAR);
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
        return new Order(orderId, userId, cartId, status, total, createdAt, idempotencyKey, lines);
    }

    /**
     * Checks every line's stock and takes it: all lines or none (404 unknown product, 409 out_of_stock).
     * Returns the products' prices.
     *
     * <p>{@link StockLocking#ROW_LOCK}: the rows are locked in id order as they are read, and decremented
     * relative to their current value. {@link StockLocking#NONE} is the classic lost-update bug, kept only so
     * a control can prove the harness catches overselling: the read takes no lock, and the stock computed
     * from it is written back as an absolute value, so two concurrent orders that read 10 both write 9.
     * {@code CHECK (stock >= 0)} never fires: the oversold units simply vanish from the count.
     */
    private static Map<Long, BigDecimal> takeStock(Connection c, StockLocking locking, SortedMap<Long, Integer> quantities)
            throws SQLException {
        boolean lock = locking == StockLocking.ROW_LOCK;
        Map<Long, BigDecimal> prices = new HashMap<>();
        SortedMap<Long, Integer> left = new TreeMap<>(); // ROW_LOCK ignores it: it decrements in the UPDATE
        Set<Long> missing = new TreeSet<>(quantities.keySet());
        List<Long> lacking = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement("SELECT id, price, stock FROM products WHERE id = ANY (?) "
                + "ORDER BY id" + (lock ? " FOR NO KEY UPDATE" : ""))) {
            s.setArray(1, c.createArrayOf("bigint", quantities.keySet().toArray(Long[]::new)));
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    long id = rs.getLong(1);
                    missing.remove(Long.valueOf(id));
                    prices.put(id, rs.getBigDecimal(2));
                    left.put(id, rs.getInt(3) - quantities.get(id));
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
        SortedMap<Long, Integer> change = lock ? quantities : left;
        try (PreparedStatement s = c.prepareStatement("UPDATE products p SET stock = "
                + (lock ? "p.stock - l.n" : "l.n") + ", updated_at = now() "
                + "FROM unnest(?::bigint[], ?::integer[]) AS l(id, n) WHERE p.id = l.id")) {
            s.setArray(1, c.createArrayOf("bigint", change.keySet().toArray(Long[]::new)));
            s.setArray(2, c.createArrayOf("integer", change.values().toArray(Integer[]::new)));
            s.executeUpdate();
        }
        return prices;
    }

    /** The order and its lines in one statement (one snapshot). */
    static Order find(Connection c, long orderId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT o.id, o.user_id, o.cart_id, o.status, o.total, o.created_at, "
                + "o.idempotency_key, l.line_no, l.product_id, l.quantity, l.unit_price FROM orders o "
                + "LEFT JOIN order_lines l ON l.order_id = o.id WHERE o.id = ? ORDER BY l.line_no")) {
            s.setLong(1, orderId);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    throw ApiError.notFound("Order " + orderId + " does not exist.");
                }
                OrderSummary o = summary(rs);
                List<Line> lines = new ArrayList<>();
                do {
                    int lineNo = rs.getInt(8);
                    if (!rs.wasNull()) {
                        lines.add(new Line(lineNo, rs.getLong(9), rs.getInt(10), rs.getBigDecimal(11)));
                    }
                } while (rs.next());
                return new Order(o.id(), o.userId(), o.cartId(), o.status(), o.total(), o.createdAt(),
                        o.idempotencyKey(), lines);
            }
        }
    }

    /** A user's newest orders first; served by the (user_id, created_at DESC, id DESC) index, no sort. */
    static List<OrderSummary> ofUser(Connection c, long userId, int limit) throws SQLException {
        List<OrderSummary> orders = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement("SELECT id, user_id, cart_id, status, total, created_at, "
                + "idempotency_key FROM orders "
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
                Json.instant(rs, 6), rs.getString(7));
    }
}
