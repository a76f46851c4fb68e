--
-- project_former: the composite values typed_cache.project() forms are
-- byte for byte those jsonb_populate_record() forms with heap_form_tuple()
--
-- project() writes text fields straight from the JSON string bytes, builds
-- text arrays in place and forms tuples itself; jsonb_populate_record()
-- goes through text datums, construct_md_array() and heap_form_tuple().
-- On documents that both accept, every result is compared three ways:
--   bytes: record_image_eq(ROW(project(...)), ROW(populate(...))): the
--          composite datums compared byte for byte as a column, header
--          (length, type id, typmod, infomask, null bitmap) and data
--          included (the function, not ROW(..) *= ROW(..), which the
--          parser would turn into p *= q, a comparison column by column
--          that does not see how a varlena's header is written);
--   text:  their text forms;
--   size:  pg_column_size() of each.
-- The documents are of the kinds project() is tuned for (numbers of one or
-- two digits, fractional-second timestamps with numeric offsets, text
-- arrays, nested objects, keys of equal length) and around the former's
-- edges: JSON nulls and missing keys (the null bitmap), strings on both
-- sides of the 126-byte limit of one-byte varlena headers, arrays larger
-- than the per-object arena, more attributes and keys than the stack
-- arrays hold, domains, typmods, arrays of composites, dropped columns.
--
SET timezone = 'Asia/Kolkata';
SET datestyle = 'ISO, MDY';
SET extra_float_digits = 0;
SET client_min_messages = warning;

CREATE EXTENSION IF NOT EXISTS typed_cache;

CREATE SCHEMA former;
SET search_path = former, public;

-- compare(type, table): the three comparisons over table's documents
CREATE FUNCTION compare(typ regtype, tab text)
RETURNS TABLE (docs bigint, same_bytes bigint, same_text bigint,
			   same_size bigint)
LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY EXECUTE format(
		'SELECT count(*),
				count(*) FILTER (WHERE pg_catalog.record_image_eq(ROW(p), ROW(q))),
				count(*) FILTER (WHERE p::text = q::text),
				count(*) FILTER (WHERE pg_column_size(p) = pg_column_size(q))
		   FROM (SELECT typed_cache.project(doc, NULL::%1$s) AS p,
						jsonb_populate_record(NULL::%1$s, doc) AS q
				   FROM %2$I) s', typ, tab);
END
$$;

-- 1: flat, keys of equal length, short numbers, JSON nulls and missing keys
CREATE TYPE f_flat AS (
	code int, size bigint, name text, mail text, live boolean,
	cost numeric, rate float8, tiny int2
);
CREATE TABLE flat_docs AS
SELECT jsonb_strip_nulls(jsonb_build_object(
	'code', CASE WHEN i % 11 = 0 THEN NULL ELSE i % 100 END,
	'size', i % 97 - 40,
	'name', CASE WHEN i % 7 = 0 THEN NULL ELSE 'n' || i % 1000 END,
	'mail', 'u' || i % 1000 || '@x.io',
	'live', CASE WHEN i % 5 = 0 THEN NULL ELSE i % 2 = 0 END,
	'cost', round((i % 90) / 10.0, 1),
	'rate', round((i % 50) / 4.0, 2),
	'tiny', i % 3 - 1,
	'kind', 'k' || i % 5, 'zone', i % 24, 'hash', left(md5(i::text), 6)))
	|| CASE WHEN i % 13 = 0 THEN '{"name": null, "rate": null}'::jsonb
			ELSE '{}' END AS doc
  FROM generate_series(1, 500) i;
SELECT * FROM compare('f_flat', 'flat_docs');

-- 2: mixed: timestamps with fractional seconds and offsets, text arrays
-- with nulls and empty ones, nested objects (one of them partly null)
CREATE TYPE f_spot AS (x int, y int, tag text);
CREATE TYPE f_mixed AS (
	code int, name text, seen timestamptz, day date, at timestamp,
	tags text[], spot f_spot, note text, cost numeric, rate float4
);
CREATE TABLE mixed_docs AS
SELECT jsonb_build_object(
	'code', i % 100,
	'name', 'n' || i,
	'seen', to_char(timestamp '2024-03-01' + i * interval '1.25 second',
					CASE WHEN i % 2 = 0 THEN 'YYYY-MM-DD"T"HH24:MI:SS.MS'
						 ELSE 'YYYY-MM-DD"T"HH24:MI:SS.US' END)
			|| (ARRAY['+02:00', '-05:00', '+05:30', 'Z', '-0330'])[i % 5 + 1],
	'day', to_char(date '2024-01-01' + i, 'YYYY-MM-DD'),
	'at', to_char(timestamp '2024-03-01' + i * interval '0.5 second',
				  'YYYY-MM-DD"T"HH24:MI:SS.MS'),
	'tags', CASE i % 6
		WHEN 0 THEN '[]'::jsonb
		WHEN 1 THEN 'null'::jsonb
		WHEN 2 THEN jsonb_build_array('a', NULL, 'b' || i)
		ELSE (SELECT jsonb_agg('t' || (i + k) % 20)
				FROM generate_series(1, i % 12) k) END,
	'spot', CASE WHEN i % 9 = 0 THEN 'null'::jsonb
				 ELSE jsonb_build_object('x', i % 10, 'y', CASE WHEN i % 4 = 0 THEN NULL ELSE i % 13 END,
										 'tag', 's' || i % 5, 'more', i) END,
	'note', repeat('x', i % 260),
	'cost', CASE WHEN i % 3 = 0 THEN to_jsonb(i * 1000003) ELSE to_jsonb(round(i / 7.0, i % 6)) END,
	'rate', round((i % 50) / 8.0, 3)) AS doc
  FROM generate_series(1, 600) i;
SELECT * FROM compare('f_mixed', 'mixed_docs');

-- 3: arrays bigger than the arena, long strings, nested composites in
-- composites and in arrays
CREATE TYPE f_inner AS (a text, b int[], c text[]);
CREATE TYPE f_outer AS (name text, inner_v f_inner, inners f_inner[]);
CREATE TYPE f_big AS (
	id int, big text[], long_text text, o f_outer, words text[]
);
CREATE TABLE big_docs AS
SELECT jsonb_build_object(
	'id', i,
	'big', (SELECT jsonb_agg(repeat(chr(97 + k % 26), (i + k) % 40))
			  FROM generate_series(1, i % 90) k),
	'long_text', repeat('é', i * 7 % 3000),
	'o', jsonb_build_object(
		'name', 'o' || i,
		'inner_v', jsonb_build_object('a', repeat('a', i % 130), 'b', jsonb_build_array(i, i + 1),
									  'c', jsonb_build_array('p', repeat('q', i % 200))),
		'inners', (SELECT coalesce(jsonb_agg(jsonb_build_object('a', 'e' || k, 'c',
													jsonb_build_array(NULL, 'z'))), '[]')
					 FROM generate_series(1, i % 4) k)),
	'words', (SELECT jsonb_agg(CASE WHEN k % 10 = 0 THEN NULL ELSE 'w' || k END)
				FROM generate_series(1, 1 + i % 30) k)) AS doc
  FROM generate_series(1, 200) i;
SELECT * FROM compare('f_big', 'big_docs');

-- 4: domains and typmods
CREATE DOMAIN f_code AS varchar(5) CHECK (VALUE ~ '^[A-Z]+$');
CREATE DOMAIN f_name AS text CHECK (VALUE <> '');
CREATE DOMAIN f_tags AS text[] CHECK (cardinality(VALUE) < 20);
CREATE DOMAIN f_spot_d AS f_spot CHECK ((VALUE).x >= 0);
CREATE TYPE f_domains AS (
	code f_code, name f_name, tags f_tags, spot f_spot_d, v varchar(10),
	c char(4), n numeric(6,2), t timestamptz(2), vs varchar(3)[],
	names f_name[]
);
CREATE TABLE domain_docs AS
SELECT jsonb_build_object(
	'code', left('ABCDE', i % 5 + 1),
	'name', 'nm' || i,
	'tags', jsonb_build_array('x', 'y' || i),
	'spot', jsonb_build_object('x', i % 10, 'y', i, 'tag', NULL),
	'v', 'v' || i,
	'c', left('abcd', i % 4),
	'n', round(i / 7.0, 3),
	't', to_char(timestamp '2024-03-01' + i * interval '1.234567 second',
				 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+01:00',
	'vs', jsonb_build_array('ab', 'c' || i % 10, NULL),
	'names', jsonb_build_array('a' || i, 'b')) AS doc
  FROM generate_series(1, 300) i;
SELECT * FROM compare('f_domains', 'domain_docs');

-- 5: more attributes than the stack arrays hold, more keys than the
-- stack holds, a dropped column, all-null rows
CREATE TABLE f_wide AS
SELECT ''::text AS c01, true AS c02 WITH NO DATA;
DO $$
BEGIN
	FOR k IN 3..40 LOOP
		EXECUTE format('ALTER TABLE former.f_wide ADD COLUMN c%s %s',
					   lpad(k::text, 2, '0'),
					   (ARRAY['int', 'text', 'boolean', 'text[]'])[k % 4 + 1]);
	END LOOP;
END
$$;
ALTER TABLE f_wide DROP COLUMN c05;
CREATE TABLE wide_docs AS
SELECT (SELECT jsonb_object_agg('c' || lpad(k::text, 2, '0'),
			CASE WHEN (i + k) % 9 = 0 THEN 'null'::jsonb
				 WHEN k % 4 = 0 THEN to_jsonb((i * k) % 100)
				 WHEN k % 4 = 1 THEN to_jsonb('v' || (i + k))
				 WHEN k % 4 = 2 THEN to_jsonb((i + k) % 3 = 0)
				 ELSE jsonb_build_array('a' || k, 'b') END)
		  FROM generate_series(1, CASE WHEN i % 10 = 0 THEN 0 ELSE 70 END) k)
	   || '{}'::jsonb AS doc
  FROM generate_series(1, 200) i;
UPDATE wide_docs SET doc = '{}' WHERE doc IS NULL;
SELECT * FROM compare('f_wide', 'wide_docs');

-- project_set() forms its rows the same way (two set-returning functions
-- in a select list run in step)
SELECT count(*) AS rows,
	   count(*) FILTER (WHERE record_image_eq(ROW(p), ROW(jsonb_populate_record(NULL::f_mixed, d)))) AS same_bytes
  FROM (SELECT typed_cache.project_set(docs, NULL::f_mixed) AS p,
			   jsonb_array_elements(docs) AS d
		  FROM (SELECT jsonb_agg(doc) AS docs FROM mixed_docs) a) x;

-- a composite stored in a table and read back is the same value
CREATE TABLE stored AS
SELECT doc, typed_cache.project(doc, NULL::f_mixed) AS v FROM mixed_docs;
SELECT count(*) AS stored_rows,
	   count(*) FILTER (WHERE record_image_eq(ROW(v), ROW(jsonb_populate_record(NULL::f_mixed, doc)))) AS same_bytes
  FROM stored;

DROP SCHEMA former CASCADE;
