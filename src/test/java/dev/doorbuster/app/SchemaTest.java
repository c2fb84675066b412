package dev.doorbuster.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import dev.doorbuster.postgres.PgCluster;
import dev.doorbuster.postgres.PgNode;
import org.junit.jupiter.api.Test;

/** --init-schema: creates the database, is idempotent, seeds the same rows every time, indexes every foreign key. */
class SchemaTest {
    private static final String CONTENT = "SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM (%s) t";

    @Test
    void initCreatesTheDatabaseSeedsDeterministicallyAndIsIdempotent() throws Exception {
        try (PgCluster cluster = PgCluster.builder().replicas(0).start()) {
            PgNode pg = cluster.primary();
            for (String db : List.of("shop_a", "shop_b")) {
                StorefrontConfig config = StorefrontConfig.builder().port(0)
                        .writerUrl("jdbc:postgresql://127.0.0.1:" + pg.port() + "/" + db)
                        .initSchema(true).seedProducts(300).seedUsers(1000).build();
                Storefront.start(config).close();
            }
            for (String table : List.of("users", "products", "orders", "order_lines")) {
                String a = value(pg, "shop_a", String.format(CONTENT, "SELECT * FROM " + table));
                String b = value(pg, "shop_b", String.format(CONTENT, "SELECT * FROM " + table));
                assertEquals(a, b, table + " seeded identically in two databases");
            }
            assertEquals("1000", value(pg, "shop_a", "SELECT count(*) FROM users"));
            assertEquals("300", value(pg, "shop_a", "SELECT count(*) FROM products"));
            assertEquals("200", value(pg, "shop_a", "SELECT count(*) FROM orders"));
            assertEquals("3", value(pg, "shop_a", "SELECT count(*) FROM products WHERE stock = 0"), "every 97th sold out");
            assertEquals("0", value(pg, "shop_a", "SELECT count(*) FROM orders o WHERE total <> "
                    + "(SELECT sum(quantity * unit_price) FROM order_lines l WHERE l.order_id = o.id)"));

            // Again, with other sizes: nothing is reseeded or duplicated, identities continue after the seed.
            StorefrontConfig again = StorefrontConfig.builder().port(0)
                    .writerUrl("jdbc:postgresql://127.0.0.1:" + pg.port() + "/shop_a").build();
            try (StorefrontMetrics metrics = new StorefrontMetrics(); Database database = new Database(again, metrics)) {
                Schema.Outcome outcome = Schema.init(database.dataSource(Database.Pool.WRITER), 5, 5);
                assertFalse(outcome.seeded());
                assertEquals(300, outcome.products());
                assertEquals(1000, outcome.users());
            }
            assertEquals("1001", value(pg, "shop_a", "SELECT nextval(pg_get_serial_sequence('users', 'id'))"));
            assertEquals("201", value(pg, "shop_a", "SELECT nextval(pg_get_serial_sequence('orders', 'id'))"));
        }
    }

    @Test
    void everyForeignKeyAndListedQueryHasAnIndex() throws Exception {
        try (PgCluster cluster = PgCluster.builder().replicas(0).start()) {
            PgNode pg = cluster.primary();
            Storefront.start(StorefrontConfig.builder().port(0)
                    .writerUrl("jdbc:postgresql://127.0.0.1:" + pg.port() + "/shop").initSchema(true)
                    .seedProducts(10).seedUsers(10).build()).close();
            // Foreign keys whose columns are not the leading columns of some index.
            String unindexed = value(pg, "shop", "SELECT coalesce(string_agg(c.conrelid::regclass || '.' || c.conname, ', '), '') "
                    + "FROM pg_constraint c WHERE c.contype = 'f' AND NOT EXISTS (SELECT 1 FROM pg_index i "
                    + "WHERE i.indrelid = c.conrelid AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] = c.conkey)");
            assertEquals("", unindexed, "foreign keys without an index");
            String indexes = value(pg, "shop", "SELECT string_agg(indexdef, '\n') FROM pg_indexes WHERE schemaname = 'public'");
            assertTrue(indexes.contains("ON public.orders USING btree (user_id, created_at DESC, id DESC)"), indexes);
            assertTrue(indexes.contains("ON public.products USING btree (category, id)"), indexes);
        }
    }

    @Test
    void aDatabaseFromBeforeIdempotencyKeysMigrates() throws Exception {
        try (PgCluster cluster = PgCluster.builder().replicas(0).start()) {
            PgNode pg = cluster.primary();
            StorefrontConfig config = StorefrontConfig.builder().port(0)
                    .writerUrl("jdbc:postgresql://127.0.0.1:" + pg.port() + "/shop").initSchema(true)
                    .seedProducts(10).seedUsers(10).build();
            Storefront.start(config).close();
            // What a database created by an earlier storefront lacks.
            try (var c = java.sql.DriverManager.getConnection(pg.jdbcUrl("shop")); var s = c.createStatement()) {
                s.execute("DROP TABLE idempotency_keys; ALTER TABLE orders DROP COLUMN idempotency_key");
            }
            Storefront.start(config).close();

            assertEquals("text", value(pg, "shop", "SELECT data_type FROM information_schema.columns "
                    + "WHERE table_name = 'orders' AND column_name = 'idempotency_key'"));
            String indexes = value(pg, "shop", "SELECT string_agg(indexdef, '\n') FROM pg_indexes WHERE schemaname = 'public'");
            assertTrue(indexes.contains("CREATE UNIQUE INDEX orders_idempotency_key_key ON public.orders USING btree "
                    + "(idempotency_key)"), indexes);
            assertTrue(indexes.contains("CREATE UNIQUE INDEX idempotency_keys_pkey ON public.idempotency_keys USING btree "
                    + "(key)"), indexes);
            assertTrue(indexes.contains("ON public.idempotency_keys USING btree (created_at)"), indexes);
            assertEquals("key text NOT NULL, fingerprint text NOT NULL, status integer, body text, "
                    + "created_at timestamp with time zone NOT NULL", value(pg, "shop", "SELECT string_agg(column_name "
                    + "|| ' ' || data_type || CASE WHEN is_nullable = 'NO' THEN ' NOT NULL' ELSE '' END, ', ' "
                    + "ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 'idempotency_keys'"));
            assertEquals("2", value(pg, "shop", "SELECT count(*) FROM orders WHERE idempotency_key IS NULL"),
                    "existing orders keep their rows, without a key");
        }
    }

    private static String value(PgNode pg, String db, String sql) throws Exception {
        try (var c = java.sql.DriverManager.getConnection(pg.jdbcUrl(db)); var s = c.prepareStatement(sql);
             var rs = s.executeQuery()) {
            rs.next();
            return rs.getString(1);
        }
    }
}
