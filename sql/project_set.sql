-- project_set: a JSON array of objects into rows.
\set VERBOSITY default
CREATE TYPE item_t AS (sku text, qty int, price numeric);

SELECT * FROM typed_cache.project_set('[{"sku": "a", "qty": 1, "price": 9.99},
	{"sku": "b", "qty": 2}, {}]', NULL::item_t);
SELECT count(*) FROM typed_cache.project_set('[]', NULL::item_t);
SELECT count(*) FROM typed_cache.project_set(NULL, NULL::item_t);
-- the same as jsonb_populate_recordset where types fit
SELECT (SELECT array_agg(x) FROM typed_cache.project_set(d, NULL::item_t) x) =
	   (SELECT array_agg(y) FROM jsonb_populate_recordset(NULL::item_t, d) y) AS same
  FROM (SELECT jsonb_agg(jsonb_build_object('sku', 's' || g, 'qty', g, 'price', g / 4.0)) d
		  FROM generate_series(1, 1000) g) s;
-- in a select list, and LATERAL over a table
CREATE TABLE orders (id int, items jsonb);
INSERT INTO orders VALUES (1, '[{"sku": "x", "qty": 3}]'), (2, '[{"sku": "y", "qty": 1}, {"sku": "z", "qty": 5}]');
SELECT o.id, i.* FROM orders o, typed_cache.project_set(o.items, NULL::item_t) i ORDER BY 1, 2;
SELECT id, (typed_cache.project_set(items, NULL::item_t)).qty FROM orders ORDER BY 1, 2;

-- errors name the element
SELECT * FROM typed_cache.project_set('[{"qty": 1}, {"qty": "2"}]', NULL::item_t);
SELECT * FROM typed_cache.project_set('[{"qty": 1}, 5]', NULL::item_t);
SELECT * FROM typed_cache.project_set('{"qty": 1}', NULL::item_t);
SELECT * FROM typed_cache.project_set('3', NULL::item_t);
SELECT * FROM typed_cache.project_set('[]', NULL::int);
