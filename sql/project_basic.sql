-- Basic projection of jsonb documents into composite types.
CREATE EXTENSION typed_cache;

CREATE TYPE addr_t AS (street text, zip int);
CREATE TYPE user_t AS (id int, name text, active boolean, score float8,
	amount numeric, big bigint, created timestamptz, tags text[], addr addr_t);

SET TimeZone = 'UTC';

-- a full document; unknown keys are ignored by default
SELECT typed_cache.project('{"id": 1, "name": "ann", "active": true,
	"score": 1.5, "amount": 12.345, "big": 9007199254740993,
	"created": "2024-01-02T03:04:05.123Z", "tags": ["a", "b"],
	"addr": {"street": "Main St", "zip": 12345}, "extra": {"x": [1, 2]}}',
	NULL::user_t);

-- expand the row
SELECT (typed_cache.project('{"id": 2, "name": "bob", "tags": []}',
	NULL::user_t)).*;

-- missing keys and JSON nulls become SQL NULL
SELECT p IS NULL AS all_null, (p).id IS NULL AS id_null
  FROM (SELECT typed_cache.project('{"id": null}', NULL::user_t) AS p) s;
SELECT typed_cache.project('{}', NULL::user_t);

-- a NULL document gives NULL
SELECT typed_cache.project(NULL, NULL::user_t) IS NULL AS null_doc;

-- table row types work too
CREATE TABLE accounts (id int8, owner text, balance numeric(10,2));
SELECT typed_cache.project('{"id": 10, "owner": "carol", "balance": 12.5}',
	NULL::accounts);

-- in a query over many rows, each row is independent
SELECT (typed_cache.project(doc, NULL::addr_t)).*
  FROM (VALUES ('{"street": "a", "zip": 1}'::jsonb),
			   ('{"street": "b"}'),
			   ('{"zip": 3}')) v(doc);

-- same document, same answer as jsonb_populate_record where JSON types fit
SELECT typed_cache.project(d, NULL::user_t) IS NOT DISTINCT FROM
	   jsonb_populate_record(NULL::user_t, d) AS same
  FROM (VALUES ('{"id": 5, "name": "x", "active": false, "score": 2.25,
	"amount": 1e2, "big": -9223372036854775808, "tags": ["p", null],
	"addr": {"street": "s", "zip": -1}}'::jsonb)) v(d);

-- a document projected many times in one query keeps memory flat: the
-- per-row scratch context is reset after every call
SELECT count(*), sum((typed_cache.project(
	jsonb_build_object('id', g, 'name', 'n' || g, 'tags', jsonb_build_array(g::text)),
	NULL::user_t)).id)
  FROM generate_series(1, 20000) g;
