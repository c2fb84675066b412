package example.springshop;

import java.util.Optional;

import org.springframework.jdbc.core.RowMapper;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/** The {@code orders} table (schema.sql): writes on the primary, reads where {@link ReadSide} says. */
@Repository
class Orders {
    private static final String COLUMNS = "id, idempotency_key, shopper_id, sku, quantity, status, version";
    private static final RowMapper<Order> ROW = (rs, n) -> new Order(rs.getLong("id"), rs.getString("idempotency_key"),
            rs.getLong("shopper_id"), rs.getString("sku"), rs.getInt("quantity"), rs.getString("status"),
            rs.getInt("version"));

    private final JdbcClient primary;
    private final ReadSide reads;

    /** @param primary Spring Boot's JdbcClient, on its one DataSource (the writer) */
    Orders(JdbcClient primary, ReadSide reads) {
        this.primary = primary;
        this.reads = reads;
    }

    /** The result of placing: the order, and whether this request created it or an earlier one with its key did. */
    record Placed(Order order, boolean created) {
    }

    /**
     * Places the order once per idempotency key: a retry with the same key (the client never saw the first answer)
     * gets the order the first request created, and no second row.
     */
    Placed place(String idempotencyKey, Order.New request) {
        Optional<Order> created = primary.sql("INSERT INTO orders (idempotency_key, shopper_id, sku, quantity) "
                        + "VALUES (?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING RETURNING " + COLUMNS)
                .params(idempotencyKey, request.shopperId(), request.sku(), request.quantity())
                .query(ROW).optional();
        if (created.isPresent()) {
            return new Placed(created.get(), true);
        }
        Order earlier = primary.sql("SELECT " + COLUMNS + " FROM orders WHERE idempotency_key = ?")
                .param(idempotencyKey).query(ROW).single();
        return new Placed(earlier, false);
    }

    Optional<Order> find(long id) {
        return reads.jdbc().sql("SELECT " + COLUMNS + " FROM orders WHERE id = ?").param(id).query(ROW).optional();
    }
}
