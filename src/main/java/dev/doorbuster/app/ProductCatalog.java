package dev.doorbuster.app;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/** Product reads: one product, and a category's products page by page (keyset pagination). */
final class ProductCatalog {
    record Product(long id, String sku, String name, String category, BigDecimal price, int stock) {
    }

    /** A page of products; {@code next} is the {@code after} value of the following page, null on the last. */
    record Page(List<Product> products, Long next) {
    }

    private static final String COLUMNS = "id, sku, name, category, price, stock";

    private ProductCatalog() {
    }

    static Product find(Connection c, long id) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT " + COLUMNS + " FROM products WHERE id = ?")) {
            s.setLong(1, id);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    throw ApiError.notFound("Product " + id + " does not exist.");
                }
                return product(rs);
            }
        }
    }

    /**
     * Products after id {@code after} (0 = from the start), in id order, optionally within one category.
     * Keyset, not OFFSET: page 1000 costs what page 1 costs, served by the primary key or (category, id).
     */
    static Page page(Connection c, String category, long after, int limit) throws SQLException {
        String sql = "SELECT " + COLUMNS + " FROM products WHERE " + (category == null ? "" : "category = ? AND ")
                + "id > ? ORDER BY id LIMIT ?";
        try (PreparedStatement s = c.prepareStatement(sql)) {
            int i = 1;
            if (category != null) {
                s.setString(i++, category);
            }
            s.setLong(i++, after);
            s.setInt(i, limit + 1); // one more than asked: tells whether another page exists
            List<Product> products = new ArrayList<>(limit + 1);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    products.add(product(rs));
                }
            }
            if (products.size() <= limit) {
                return new Page(products, null);
            }
            products.remove(limit);
            return new Page(products, products.get(limit - 1).id());
        }
    }

    private static Product product(ResultSet rs) throws SQLException {
        return new Product(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getBigDecimal(5),
                rs.getInt(6));
    }
}
