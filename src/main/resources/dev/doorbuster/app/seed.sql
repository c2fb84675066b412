-- Deterministic seed data: same sizes, same rows, every time (arithmetic on the row number, no random(),
-- no now()). Set-based, so 100k users load in about a second. Sizes come from the transaction-local
-- settings storefront.seed_products and storefront.seed_users (see Schema.java).

INSERT INTO users (id, email, name, version, created_at, updated_at)
SELECT g, 'user' || g || '@example.test',
       (ARRAY['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Radia', 'Niklaus'])[1 + g % 10]
           || ' ' || (ARRAY['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Thompson',
                            'Perlman', 'Wirth', 'Hamilton'])[1 + g % 11] || ' ' || g,
       1,
       timestamptz '2026-01-01 00:00:00+00' + g * interval '1 minute',
       timestamptz '2026-01-01 00:00:00+00' + g * interval '1 minute'
FROM generate_series(1, current_setting('storefront.seed_users')::int) AS g;

INSERT INTO products (id, sku, name, category, price, stock, created_at, updated_at)
SELECT g, 'SKU-' || lpad(g::text, 8, '0'),
       (ARRAY['Classic', 'Pro', 'Mini', 'Ultra', 'Eco', 'Smart', 'Deluxe', 'Travel'])[1 + g % 8] || ' '
           || (ARRAY['Headphones', 'Novel', 'Puzzle', 'Blender', 'Hose', 'Racket', 'Serum', 'Jacket', 'Coffee',
                     'Wiper', 'Vinyl', 'Board Game'])[1 + g % 12] || ' ' || g,
       (ARRAY['electronics', 'books', 'toys', 'kitchen', 'garden', 'sports', 'beauty', 'fashion', 'grocery',
              'automotive', 'music', 'games'])[1 + g % 12],
       round(1.99 + ((g::bigint * 7919) % 50000) / 100.0, 2),
       -- every 97th product is sold out: out-of-stock paths exist from the start
       CASE WHEN g % 97 = 0 THEN 0 ELSE 20 + (g::bigint * 104729) % 481 END,
       timestamptz '2025-06-01 00:00:00+00' + g * interval '1 second',
       timestamptz '2025-06-01 00:00:00+00' + g * interval '1 second'
FROM generate_series(1, current_setting('storefront.seed_products')::int) AS g;

-- Order history: every fifth user has one past order of 1-3 lines, so "my orders" has rows to find.
INSERT INTO orders (id, user_id, status, total, created_at)
SELECT k, k * 5, 'placed', 0, timestamptz '2026-02-01 00:00:00+00' + k * interval '1 minute'
FROM generate_series(1, CASE WHEN current_setting('storefront.seed_products')::int > 0
                             THEN current_setting('storefront.seed_users')::int / 5 ELSE 0 END) AS k;

INSERT INTO order_lines (order_id, line_no, product_id, quantity, unit_price)
SELECT o.id, l, p.id, 1 + (o.id + l) % 3, p.price
FROM orders o
CROSS JOIN LATERAL generate_series(1, 1 + o.id % 3) AS l
JOIN products p ON p.id = 1 + (o.id * 31 + l * 17) % current_setting('storefront.seed_products')::int;

UPDATE orders o SET total = t.total
FROM (SELECT order_id, sum(quantity * unit_price) AS total FROM order_lines GROUP BY order_id) t
WHERE t.order_id = o.id;

-- Identities continue after the seeded ids.
SELECT setval(pg_get_serial_sequence('users', 'id'), coalesce((SELECT max(id) FROM users), 0) + 1, false);
SELECT setval(pg_get_serial_sequence('products', 'id'), coalesce((SELECT max(id) FROM products), 0) + 1, false);
SELECT setval(pg_get_serial_sequence('orders', 'id'), coalesce((SELECT max(id) FROM orders), 0) + 1, false);

ANALYZE users, products, orders, order_lines;
