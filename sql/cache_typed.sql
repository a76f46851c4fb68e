--
-- cache_typed: schema on write with put(..., type) and typed reads with
-- get(key, NULL::type).
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS typed_cache;
RESET client_min_messages;
SELECT typed_cache.clear() >= 0 AS cleared;
CREATE TYPE cache_user AS (id int, name text);
CREATE TYPE cache_item AS (sku text, qty int);

-- a typed put validates and stores; a typed get projects
SELECT typed_cache.put('u1', '{"id": 1, "name": "Ann"}', NULL, 'cache_user');
SELECT * FROM typed_cache.get('u1', NULL::cache_user);
SELECT (typed_cache.get('u1', NULL::cache_user)).name;
SELECT key, type FROM typed_cache.entries WHERE key = 'u1';
-- the untyped get still returns the document
SELECT typed_cache.get('u1');

-- reading it as another type is a type mismatch, never a misread
SELECT typed_cache.get('u1', NULL::cache_item);

-- a document that does not project is refused and nothing is stored
SELECT typed_cache.put('u2', '{"id": "not a number"}', '1 min', 'cache_user');
SELECT typed_cache.get('u2') IS NULL AS not_stored;
-- and does not replace an existing entry
SELECT typed_cache.put('u1', '{"id": "x"}', NULL, 'cache_user');
SELECT typed_cache.get('u1', NULL::cache_user);

-- a type that is not composite is refused
DO $$
BEGIN
	PERFORM typed_cache.put('u3', '1', NULL, 'int4');
EXCEPTION WHEN OTHERS THEN
	RAISE NOTICE 'put as int4: %', SQLSTATE;
END $$;

-- an untyped entry can be read as any type it projects to
SELECT typed_cache.put('raw', '{"id": 2, "name": "Bo", "sku": "A-1", "qty": 3}');
SELECT * FROM typed_cache.get('raw', NULL::cache_user);
SELECT * FROM typed_cache.get('raw', NULL::cache_item);
SELECT key, type FROM typed_cache.entries WHERE key = 'raw';

-- re-putting untyped drops the type
SELECT typed_cache.put('u1', '{"sku": "B-2", "qty": 1}') IS NOT NULL AS put;
SELECT * FROM typed_cache.get('u1', NULL::cache_item);

-- misses and NULL keys give NULL rows
SELECT typed_cache.get('nope', NULL::cache_user) IS NULL AS miss;
SELECT typed_cache.get(NULL, NULL::cache_user) IS NULL AS null_key;

-- an entry whose type was dropped: untyped reads still work, typed reads
-- are refused with a message that says so
CREATE TYPE cache_gone AS (id int);
SELECT typed_cache.put('orphan', '{"id": 5}', NULL, 'cache_gone');
DROP TYPE cache_gone;
SELECT typed_cache.get('orphan');
DO $$
DECLARE
	st text;
	msg text;
	hint text;
BEGIN
	PERFORM typed_cache.get('orphan', NULL::cache_user);
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
		hint = PG_EXCEPTION_HINT;
	RAISE NOTICE '% % (%)', st, msg, hint;
END $$;

SELECT typed_cache.clear();
DROP TYPE cache_user;
DROP TYPE cache_item;
