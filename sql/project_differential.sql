--
-- project_differential: typed_cache.project() against jsonb_populate_record()
--
-- 12,000 documents, generated deterministically (arithmetic on
-- generate_series, no random()), over five composite types: every scalar
-- kind the projection converts directly, 1-D and 2-D arrays, nested
-- composites (and arrays of them), domains (CHECK, NOT NULL, over arrays,
-- with typmods), an enum, and quoted field names.  Each document is a valid
-- base document in which at most one field has been replaced or removed by
-- a "variant"; every variant carries a category saying what the two
-- functions are expected to do with it:
--
--   fit: ...       the JSON type fits the field: both succeed and give the
--                  same row (compared through the text form, which is
--                  stricter than equality: 1.0 and 1 differ), or, for
--                  values the SQL type itself rejects, both fail
--   reject: ...    values both must reject (out of range, bad syntax,
--                  domain violations, ragged arrays)
--   strict: ...    the difference by design: the JSON type does not fit the
--                  field, so project() raises 42804 (type mismatch) where
--                  jsonb_populate_record() converts through text and
--                  succeeds ("12" into int, 12 into text, 1 into boolean,
--                  a number into a date, a string into an array or a
--                  composite, an object into text)
--
-- The expected output is aggregate counts, so a wrong conversion anywhere
-- moves a number.  A second pass registers every type with
-- {"coerce": true}, which must make project() accept what
-- jsonb_populate_record() accepts: the "strict" rows turn equal.
--
SET timezone = 'America/New_York';	-- a zone with DST gaps and overlaps
SET datestyle = 'ISO, MDY';
SET extra_float_digits = 0;
SET client_min_messages = warning;

CREATE EXTENSION IF NOT EXISTS typed_cache;

CREATE SCHEMA diff;
SET search_path = diff, public;

CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy', 'ecstatic');
CREATE DOMAIN posint AS int CHECK (VALUE > 0);
CREATE DOMAIN nn_text AS text NOT NULL;
CREATE DOMAIN short_code AS varchar(5) CHECK (VALUE ~ '^[A-Z]+$');
CREATE DOMAIN money62 AS numeric(6,2) CHECK (VALUE >= 0);
CREATE DOMAIN small_arr AS int[] CHECK (cardinality(VALUE) <= 3);

-- 1: scalars of every directly converted kind, and an enum
CREATE TYPE d_scalars AS (
	i2 int2, i4 int4, i8 int8, f4 float4, f8 float8, n numeric,
	n62 numeric(6,2), b boolean, t text, vc varchar(8), c char(4), u uuid,
	d date, ts timestamp, tz timestamptz, m mood
);
-- 2: arrays, 1-D and 2-D
CREATE TYPE d_arrays AS (
	ia int[], ta text[], g int[][], fa float8[], ba boolean[], da date[],
	ea mood[], ua uuid[]
);
-- 3: nested composites, arrays of them, json and jsonb sub-documents
CREATE TYPE d_inner AS (x int, y text, z numeric[]);
CREATE TYPE d_mid AS (label text, inner_v d_inner);
CREATE TYPE d_nested AS (
	id int, inner_v d_inner, inners d_inner[], mid d_mid, j json, jb jsonb
);
-- 4: domains
CREATE TYPE d_domains AS (
	p posint, nt nn_text, code short_code, amount money62, pa posint[],
	sa small_arr
);
-- 5: quoted field names ("a.b" is a key, not a path)
CREATE TYPE d_quoted AS (
	"Mixed Case" int, "with space" text, "UPPER" boolean, "select" date,
	"a.b" text, "ünï" text, "quote""d" numeric
);

-- Base documents: valid values that vary with i, plus keys no field reads
-- (including keys that differ from a field name only in case or spacing).
CREATE FUNCTION base_doc(typ text, i int) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
SELECT CASE typ
WHEN 'd_scalars' THEN jsonb_build_object(
	'i2', (i * 37) % 65536 - 32768,
	'i4', (i::int8 * 104729) % 2147483647 * (1 - 2 * (i % 2)),
	'i8', i::int8 * 922337203685477 * (1 - 2 * (i % 3 / 2)),
	'f4', round(i / 7.0, i % 25),
	'f8', (i * 1.1) * power(10::numeric, i % 40 - 20),
	'n', round(i / 3.0, i % 30),
	'n62', round(i / 13.0, 3),
	'b', i % 2 = 0,
	't', format('s%s "q" \ é 😀 {a,b} %s', i, repeat('x', i % 7)),
	'vc', left(md5(i::text), i % 9) || repeat(' ', i % 4),
	'c', left(md5(i::text), i % 5),
	'u', CASE WHEN i % 2 = 0 THEN md5(i::text)::uuid::text
			  ELSE upper(md5(i::text)::uuid::text) END,
	'd', ('2000-01-01'::date + i * 37)::text,
	'ts', CASE i % 4
		WHEN 0 THEN to_char('2001-01-01'::timestamp + i * interval '7 hours 13 minutes 1.25 seconds', 'YYYY-MM-DD"T"HH24:MI:SS.US')
		WHEN 1 THEN to_char('2001-01-01'::timestamp + i * interval '3 days 1 second', 'YYYY-MM-DD HH24:MI:SS')
		WHEN 2 THEN to_char('2001-01-01'::timestamp + i * interval '11 hours', 'YYYY-MM-DD"T"HH24:MI')
		ELSE to_char('1999-12-31'::timestamp + i * interval '1 day', 'YYYY-MM-DD') END,
	'tz', CASE i % 5
		WHEN 0 THEN to_char('2020-01-01'::timestamp + i * interval '5 hours 7 minutes 3.5 seconds', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
		WHEN 1 THEN to_char('2020-01-01'::timestamp + i * interval '13 hours 1 second', 'YYYY-MM-DD"T"HH24:MI:SS') || '+05:30'
		WHEN 2 THEN to_char('2020-01-01'::timestamp + i * interval '2 days 1 hour', 'YYYY-MM-DD HH24:MI:SS')
		WHEN 3 THEN to_char('2020-01-01'::timestamp + i * interval '17 hours', 'YYYY-MM-DD"T"HH24:MI:SS') || '-08'
		ELSE to_char('2020-03-08'::timestamp + i * interval '1 hour', 'YYYY-MM-DD"T"HH24:MI:SS') END,
	'm', (enum_range(NULL::mood))[i % 4 + 1],
	'extra', jsonb_build_object('k', i, 'l', jsonb_build_array(i, 'x')),
	'I4', 'not read', 'ts ', 'not read either')
WHEN 'd_arrays' THEN jsonb_build_object(
	'ia', (SELECT coalesce(jsonb_agg(i * k - 1000), '[]') FROM generate_series(1, i % 5) k),
	'ta', (SELECT coalesce(jsonb_agg(format('e%s,"{}\ %s', k, CASE WHEN k = 2 THEN 'NULL' ELSE '' END)), '[]') FROM generate_series(1, i % 4) k),
	'g', (SELECT jsonb_agg(r) FROM (SELECT (SELECT jsonb_agg(i + 10 * a + b) FROM generate_series(1, i % 3 + 1) b) r FROM generate_series(1, i % 2 + 1) a) s),
	'fa', jsonb_build_array(i / 8.0, -i * 1e10, 0.1),
	'ba', jsonb_build_array(i % 2 = 0, i % 3 = 0, NULL),
	'da', jsonb_build_array(('1990-01-01'::date + i)::text, ('2030-06-30'::date - i)::text),
	'ea', jsonb_build_array((enum_range(NULL::mood))[i % 4 + 1], 'sad'),
	'ua', jsonb_build_array(md5(i::text)::uuid::text),
	'IA', '[1]', 'other', jsonb_build_object('ia', '[2]'))
WHEN 'd_nested' THEN jsonb_build_object(
	'id', i,
	'inner_v', jsonb_build_object('x', i % 100, 'y', 'y' || i, 'z', jsonb_build_array(i / 4.0, i), 'ignored', i),
	'inners', (SELECT coalesce(jsonb_agg(jsonb_build_object('x', k, 'y', CASE WHEN k % 2 = 0 THEN NULL ELSE 'k' || k END)), '[]') FROM generate_series(1, i % 3) k),
	'mid', jsonb_build_object('label', 'm' || i, 'inner_v', jsonb_build_object('x', -i, 'z', '[]'::jsonb)),
	'j', CASE i % 4 WHEN 0 THEN jsonb_build_object('a', i, 'b', jsonb_build_array(1, 'two', NULL, true, 1.50))
		WHEN 1 THEN to_jsonb('str ' || i) WHEN 2 THEN to_jsonb(i * 1.25) ELSE jsonb_build_array() END,
	'jb', CASE i % 3 WHEN 0 THEN jsonb_build_object('deep', jsonb_build_object('er', i)) WHEN 1 THEN to_jsonb(i % 2 = 0) ELSE to_jsonb(i) END)
WHEN 'd_domains' THEN jsonb_build_object(
	'p', i,
	'nt', 'nt' || i,
	'code', left('ABCDEFGHIJ', i % 5 + 1),
	'amount', round(i / 7.0, 3),
	'pa', jsonb_build_array(i, i + 1),
	'sa', (SELECT coalesce(jsonb_agg(k), '[]') FROM generate_series(1, i % 4) k))
ELSE jsonb_build_object(
	'Mixed Case', i,
	'with space', 'ws' || i,
	'UPPER', i % 3 = 0,
	'select', ('2010-01-01'::date + i)::text,
	'a.b', 'dot' || i,
	'ünï', 'ü' || i,
	'quote"d', i / 16.0,
	'mixed case', 'x', 'with  space', 'x', 'upper', 'x', 'a', jsonb_build_object('b', 'path'))
END
$$;

-- Variants: one field replaced by val (or removed when val IS NULL).
CREATE TABLE variant (
	typ text NOT NULL,
	field text NOT NULL,
	cat text NOT NULL,
	val jsonb
);
INSERT INTO variant (typ, field, cat, val)
SELECT 'd_scalars', f, 'fit: null', 'null'::jsonb
  FROM unnest('{i2,i4,i8,f4,f8,n,n62,b,t,vc,c,u,d,ts,tz,m}'::text[]) f
UNION ALL
SELECT 'd_scalars', f, 'fit: missing key', NULL::jsonb
  FROM unnest('{i2,i4,i8,f4,f8,n,n62,b,t,vc,c,u,d,ts,tz,m}'::text[]) f
UNION ALL
SELECT 'd_scalars', f, 'fit: edge value', v::jsonb FROM (VALUES
	('i2', '32767'), ('i2', '-32768'), ('i4', '2147483647'),
	('i4', '-2147483648'), ('i4', '1e3'), ('i4', '12E+2'), ('i4', '0.5e1'),
	('i4', '-0'), ('i8', '9223372036854775807'),
	('i8', '-9223372036854775808'), ('f4', '3.4028235e38'),
	('f4', '1.17549435e-38'), ('f4', '0.14285714285714285714285714'),
	('f4', '16777217'), ('f8', '1.7976931348623157e308'),
	('f8', '4.9e-324'), ('f8', '-0.0'), ('f8', '0.1'),
	('f8', '9007199254740993'), ('n', '0.000000000000000000001'),
	('n', '-1.50'), ('n', '1e30'), ('n62', '1.005'), ('n62', '-9999.994'),
	('b', 'false'), ('t', '""'), ('t', '"\t\n\"\\ \u00e9 \ud83d\ude00"'),
	('vc', '"abcdefgh"'), ('vc', '"abc     "'), ('vc', '"abcdefgh   "'),
	('c', '"ab"'), ('c', '"abcd  "'), ('c', '""'),
	('u', '"{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}"'),
	('u', '"a0eebc999c0b4ef8bb6d6bb9bd380a11"'),
	('d', '"infinity"'), ('d', '"0044-03-15 BC"'), ('d', '"5874897-12-31"'),
	('d', '"2024-02-29"'), ('d', '"January 8, 1999"'),
	('d', '"2024-01-02T10:00:00"'),
	('ts', '"2024-01-02T03:04:05.1234567"'),
	('ts', '"2024-01-02 03:04:05+05"'), ('ts', '"2024-12-31 23:59:60"'),
	('ts', '"2024-01-02 24:00:00"'), ('ts', '"-infinity"'),
	('ts', '"20240102T030405"'), ('ts', '"epoch"'),
	('tz', '"2024-03-10T02:30:00"'), ('tz', '"2024-11-03T01:30:00"'),
	('tz', '"2024-01-02T03:04:05.9999995Z"'),
	('tz', '"2024-01-02T03:04:05-00:30"'),
	('tz', '"2024-01-02T03:04:05+14:59"'),
	('tz', '"294276-12-31 23:59:59+00"'), ('tz', '"2024-06-01 12:00 PST"'),
	('tz', '"2024-01-02T03:04:05.123+0530"'),
	('tz', '"2024-01-02t03:04:05z"'), ('tz', '" 2024-01-02T03:04:05Z "'),
	('tz', '"Jan 2 2024 3:04pm Europe/Paris"'), ('m', '"ecstatic"')
) x(f, v)
UNION ALL
SELECT 'd_scalars', f, 'reject: value the SQL type rejects', v::jsonb FROM (VALUES
	('i2', '32768'), ('i4', '2147483648'), ('i8', '9223372036854775808'),
	('i4', '1.5'), ('i4', '1.0'), ('f4', '1e39'), ('f4', '1e-46'),
	('f8', '1e309'), ('n62', '12345.678'), ('vc', '"abcdefghi"'),
	('c', '"abcde"'), ('u', '"not-a-uuid"'), ('d', '"2024-02-30"'),
	('d', '"5874898-01-01"'), ('d', '""'), ('ts', '"garbage"'),
	('ts', '"2024-13-01"'), ('tz', '"2024-01-02T25:00:00Z"'),
	('tz', '"294277-01-01 00:00:00+00"'), ('m', '"angry"'),
	('i4', '[1]'), ('i4', '{}'), ('i4', 'true'), ('u', '123'), ('m', '1')
) x(f, v)
UNION ALL
SELECT 'd_scalars', f, 'strict: string into number', v::jsonb FROM (VALUES
	('i2', '" 7 "'), ('i4', '"12"'), ('i8', '"-5"'), ('f4', '"NaN"'),
	('f8', '"Infinity"'), ('f8', '"1.5"'), ('n', '"NaN"'), ('n', '"3.25"'),
	('n62', '"1.5"')
) x(f, v)
UNION ALL
SELECT 'd_scalars', f, 'strict: number or boolean into string', v::jsonb FROM (VALUES
	('t', '12'), ('t', '1.50'), ('t', 'true'), ('vc', '1'), ('c', 'true')
) x(f, v)
UNION ALL
SELECT 'd_scalars', f, 'strict: container into text', v::jsonb FROM (VALUES
	('t', '{"a": 1}'), ('t', '[1, "x"]'), ('vc', '[]')
) x(f, v)
UNION ALL
SELECT 'd_scalars', 'b', 'strict: non-boolean into boolean', v::jsonb FROM (VALUES
	('1'), ('0'), ('"true"'), ('"yes"'), ('"on"'), ('"t"')
) x(v)
UNION ALL
SELECT 'd_scalars', f, 'strict: number into date/time', v::jsonb FROM (VALUES
	('d', '20240102'), ('ts', '20240102'), ('tz', '20240102')
) x(f, v);

INSERT INTO variant (typ, field, cat, val)
SELECT 'd_arrays', f, 'fit: null', 'null'::jsonb
  FROM unnest('{ia,ta,g,fa,ba,da,ea,ua}'::text[]) f
UNION ALL
SELECT 'd_arrays', f, 'fit: missing key', NULL::jsonb
  FROM unnest('{ia,ta,g,fa,ba,da,ea,ua}'::text[]) f
UNION ALL
SELECT 'd_arrays', f, 'fit: edge value', v::jsonb FROM (VALUES
	('ia', '[]'), ('ia', '[1, null, 3]'), ('ia', '[null]'),
	('ia', '[[1, 2], [3, 4]]'), ('ia', '[[[1]], [[2]]]'), ('ia', '[[], []]'),
	('ta', '["NULL", null, "", "a b", "{}", "\""]'), ('ta', '[["a"], ["b"]]'),
	('g', '[1, 2]'), ('g', '[[1, 2, 3]]'), ('g', '[[null, 1], [2, null]]'),
	('fa', '[1e308, -4.9e-324, 0]'), ('ba', '[false]'),
	('da', '["infinity", "2024-02-29"]'), ('ea', '[]'),
	('ua', '["{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}"]')
) x(f, v)
UNION ALL
SELECT 'd_arrays', f, 'reject: value the SQL type rejects', v::jsonb FROM (VALUES
	('ia', '[[1, 2], [3]]'), ('ia', '[[1], 2]'), ('ia', '[1.5]'),
	('ia', '[9999999999]'), ('g', '[[1], [2, 3]]'), ('ea', '["angry"]'),
	('da', '["2024-02-30"]'), ('ua', '["x"]'), ('ia', '5'), ('ia', '{"a": 1}'),
	('ta', 'true')
) x(f, v)
UNION ALL
SELECT 'd_arrays', f, 'strict: string into array', v::jsonb FROM (VALUES
	('ia', '"{1,2}"'), ('ta', '"{a,b}"'), ('g', '"{{1},{2}}"')
) x(f, v)
UNION ALL
SELECT 'd_arrays', f, 'strict: element of the wrong JSON type', v::jsonb FROM (VALUES
	('ia', '["1", "2"]'), ('ta', '[1, true]'), ('ba', '[1, 0]'),
	('fa', '["1.5"]'), ('da', '[20240102]'), ('g', '[["1"]]')
) x(f, v);

INSERT INTO variant (typ, field, cat, val)
SELECT 'd_nested', f, 'fit: null', 'null'::jsonb
  FROM unnest('{id,inner_v,inners,mid,j,jb}'::text[]) f
UNION ALL
SELECT 'd_nested', f, 'fit: missing key', NULL::jsonb
  FROM unnest('{id,inner_v,inners,mid,j,jb}'::text[]) f
UNION ALL
SELECT 'd_nested', f, 'fit: edge value', v::jsonb FROM (VALUES
	('inner_v', '{}'), ('inner_v', '{"x": null, "y": null, "z": null}'),
	('inner_v', '{"z": [[1, 2], [3, 4]], "X": 5}'),
	('inners', '[]'), ('inners', '[null, {"x": 1}]'),
	('inners', '[[{"x": 1}], [{"x": 2}]]'),
	('mid', '{"inner_v": null}'), ('mid', '{"label": "l", "inner_v": {}}'),
	('j', '"a\"b\\c\u00e9"'), ('j', '1e400'), ('j', '-0.000'),
	('j', '{"b": 1, "a": [{}, []], "a ": null}'), ('j', 'false'),
	('jb', '{"x": {"y": {"z": [1, 2.50, "3"]}}}'), ('jb', '""'), ('jb', '0')
) x(f, v)
UNION ALL
SELECT 'd_nested', f, 'reject: value the SQL type rejects', v::jsonb FROM (VALUES
	('inner_v', '{"x": 1.5}'), ('inner_v', '{"x": "abc"}'),
	('inner_v', '{"z": [[1], 2]}'), ('inners', '[1]'), ('inners', '[[1]]'),
	('mid', '{"inner_v": {"x": 99999999999}}'), ('id', '1.25'),
	('inner_v', '5'), ('inner_v', '[1]')
) x(f, v)
UNION ALL
SELECT 'd_nested', f, 'strict: string into composite', v::jsonb FROM (VALUES
	('inner_v', '"(1,a,{2})"'), ('mid', '"(l,\"(1,b,)\")"'),
	('inners', '"{\"(1,a,)\"}"')
) x(f, v)
UNION ALL
SELECT 'd_nested', f, 'strict: wrong JSON type inside a nested object', v::jsonb FROM (VALUES
	('inner_v', '{"x": "5"}'), ('inner_v', '{"y": 5}'),
	('inner_v', '{"z": ["1"]}'), ('inners', '[{"x": "1"}]'),
	('mid', '{"label": 7}'), ('mid', '{"inner_v": {"x": "7"}}')
) x(f, v);

INSERT INTO variant (typ, field, cat, val)
SELECT 'd_domains', f, 'fit: null', 'null'::jsonb
  FROM unnest('{p,code,amount,pa,sa}'::text[]) f
UNION ALL
SELECT 'd_domains', f, 'fit: missing key', NULL::jsonb
  FROM unnest('{p,code,amount,pa,sa}'::text[]) f
UNION ALL
SELECT 'd_domains', f, 'fit: edge value', v::jsonb FROM (VALUES
	('p', '1'), ('p', '2147483647'), ('nt', '""'), ('code', '"ABCDE"'),
	('amount', '0'), ('amount', '9999.994'),
	('amount', '1.005'), ('pa', '[]'), ('pa', '[null]'), ('sa', '[1, 2, 3]'),
	('sa', '[]')
) x(f, v)
UNION ALL
SELECT 'd_domains', f, 'reject: domain constraint or typmod', v::jsonb FROM (VALUES
	('p', '0'), ('p', '-5'), ('nt', 'null'), ('nt', NULL), ('code', '"abc"'),
	('code', '"ABCDEF"'), ('code', '""'), ('code', '"AB   "'), ('amount', '-0.01'),
	('amount', '10000'), ('amount', '9999.995'), ('pa', '[1, 0]'),
	('sa', '[1, 2, 3, 4]'), ('p', '2147483648')
) x(f, v)
UNION ALL
SELECT 'd_domains', f, 'strict: wrong JSON type for the base type', v::jsonb FROM (VALUES
	('p', '"5"'), ('nt', '5'), ('nt', 'true'), ('amount', '"1.5"'),
	('pa', '["1"]'), ('sa', '"{1,2}"')
) x(f, v);

INSERT INTO variant (typ, field, cat, val)
SELECT 'd_quoted', f, 'fit: null', 'null'::jsonb
  FROM unnest('{"Mixed Case","with space",UPPER,select,a.b,ünï,"quote\"d"}'::text[]) f
UNION ALL
SELECT 'd_quoted', f, 'fit: missing key', NULL::jsonb
  FROM unnest('{"Mixed Case","with space",UPPER,select,a.b,ünï,"quote\"d"}'::text[]) f
UNION ALL
SELECT 'd_quoted', f, 'reject: value the SQL type rejects', v::jsonb FROM (VALUES
	('select', '"2024-02-30"'), ('Mixed Case', '1.5'), ('quote"d', '{}')
) x(f, v)
UNION ALL
SELECT 'd_quoted', f, 'strict: JSON type does not fit', v::jsonb FROM (VALUES
	('Mixed Case', '"7"'), ('UPPER', '"t"'), ('with space', '7'),
	('quote"d', '"1"')
) x(f, v);

-- 2,400 documents per type: every third one is a base document, the others
-- cycle through the variants of the type.
CREATE TABLE doc AS
WITH v AS (
	SELECT typ, field, cat, val,
		   row_number() OVER (PARTITION BY typ ORDER BY cat, field, val::text) - 1 AS k,
		   count(*) OVER (PARTITION BY typ) AS nv
	  FROM variant
)
SELECT t.typ, i,
	   coalesce(v.cat, 'fit: base document') AS cat,
	   CASE WHEN v.typ IS NULL THEN base_doc(t.typ, i)
			WHEN v.val IS NULL THEN base_doc(t.typ, i) - v.field
			ELSE base_doc(t.typ, i) || jsonb_build_object(v.field, v.val) END AS doc
  FROM unnest('{d_scalars,d_arrays,d_nested,d_domains,d_quoted}'::text[]) t(typ)
 CROSS JOIN generate_series(1, 2400) i
  LEFT JOIN v ON v.typ = t.typ AND i % 3 <> 0
			 AND v.k = (i - 1 - (i - 1) / 3) % v.nv;

SELECT count(*) AS documents, count(DISTINCT typ) AS types,
	   count(DISTINCT doc) AS distinct_documents
  FROM doc;

-- Runs both functions on one document, catching the error of each side;
-- "ok" or the SQLSTATE, and the row's text form when it succeeded.
CREATE FUNCTION compare_one(d jsonb, target anyelement,
							OUT p_state text, OUT r_state text,
							OUT p_text text, OUT r_text text)
LANGUAGE plpgsql AS $$
BEGIN
	BEGIN
		p_text := typed_cache.project(d, target)::text;
		p_state := 'ok';
	EXCEPTION WHEN OTHERS THEN
		p_state := SQLSTATE;
	END;
	BEGIN
		r_text := jsonb_populate_record(target, d)::text;
		r_state := 'ok';
	EXCEPTION WHEN OTHERS THEN
		r_state := SQLSTATE;
	END;
END
$$;

CREATE FUNCTION run_pass(pass text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO outcome
	SELECT pass, d.typ, d.i, d.cat, c.*
	  FROM doc d, compare_one(d.doc, NULL::d_scalars) c
	 WHERE d.typ = 'd_scalars'
	UNION ALL
	SELECT pass, d.typ, d.i, d.cat, c.*
	  FROM doc d, compare_one(d.doc, NULL::d_arrays) c
	 WHERE d.typ = 'd_arrays'
	UNION ALL
	SELECT pass, d.typ, d.i, d.cat, c.*
	  FROM doc d, compare_one(d.doc, NULL::d_nested) c
	 WHERE d.typ = 'd_nested'
	UNION ALL
	SELECT pass, d.typ, d.i, d.cat, c.*
	  FROM doc d, compare_one(d.doc, NULL::d_domains) c
	 WHERE d.typ = 'd_domains'
	UNION ALL
	SELECT pass, d.typ, d.i, d.cat, c.*
	  FROM doc d, compare_one(d.doc, NULL::d_quoted) c
	 WHERE d.typ = 'd_quoted';
END
$$;

CREATE TABLE outcome (
	pass text, typ text, i int, cat text,
	p_state text, r_state text, p_text text, r_text text
);

-- Pass 1: no registration, strict typing.
SELECT run_pass('strict');

-- Per type and category: documents, both succeed with the same row, both
-- fail, only project() fails, only jsonb_populate_record() fails, both
-- succeed with different rows.
SELECT typ, cat, count(*) AS docs,
	   count(*) FILTER (WHERE p_state = 'ok' AND r_state = 'ok'
						AND p_text = r_text) AS equal,
	   count(*) FILTER (WHERE p_state <> 'ok' AND r_state <> 'ok') AS both_fail,
	   count(*) FILTER (WHERE p_state <> 'ok' AND r_state = 'ok') AS only_project_fails,
	   count(*) FILTER (WHERE p_state = 'ok' AND r_state <> 'ok') AS only_populate_fails,
	   count(*) FILTER (WHERE p_state = 'ok' AND r_state = 'ok'
						AND p_text IS DISTINCT FROM r_text) AS differ
  FROM outcome WHERE pass = 'strict'
 GROUP BY typ, cat ORDER BY typ, cat;

-- Every "strict" document fails in project() with 42804 (type mismatch) and
-- only there; every "reject" document fails on both sides, mostly with the
-- same SQLSTATE (the same input function or domain check raised it).  Where
-- the JSON type does not fit and the text route fails too (1.5 into int,
-- [1] into int, 5 into int[], 5 into a composite) project() says 42804 with
-- the path, populate says 22P02 or 22023 without one.  SQLSTATEs of the
-- failures, per category class:
SELECT split_part(cat, ':', 1) AS class, p_state, r_state, count(*)
  FROM outcome WHERE pass = 'strict' AND (p_state <> 'ok' OR r_state <> 'ok')
 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;

-- Pass 2: every type registered with {"coerce": true} (nested types too):
-- project() must now accept what jsonb_populate_record() accepts, with the
-- same result.
SELECT typed_cache.register(t::regtype, '{"coerce": true}')
  FROM unnest('{d_scalars,d_arrays,d_inner,d_mid,d_nested,d_domains,d_quoted}'::text[]) t;
SELECT run_pass('coerce');

SELECT split_part(cat, ':', 1) AS class, count(*) AS docs,
	   count(*) FILTER (WHERE p_state = 'ok' AND r_state = 'ok'
						AND p_text = r_text) AS equal,
	   count(*) FILTER (WHERE p_state <> 'ok' AND r_state <> 'ok') AS both_fail,
	   count(*) FILTER (WHERE p_state <> 'ok' AND r_state = 'ok') AS only_project_fails,
	   count(*) FILTER (WHERE p_state = 'ok' AND r_state <> 'ok') AS only_populate_fails,
	   count(*) FILTER (WHERE p_state = 'ok' AND r_state = 'ok'
						AND p_text IS DISTINCT FROM r_text) AS differ
  FROM outcome WHERE pass = 'coerce'
 GROUP BY 1 ORDER BY 1;

-- With coerce, a document that is not a "strict" one succeeds or fails as
-- without it, with the same row (SQLSTATEs may change: with coerce a JSON
-- type mismatch fails in the type's input function, as in
-- jsonb_populate_record()).
SELECT count(*) AS changed_outside_strict
  FROM outcome s JOIN outcome c USING (typ, i)
 WHERE s.pass = 'strict' AND c.pass = 'coerce' AND s.cat NOT LIKE 'strict:%'
   AND (s.p_state = 'ok', s.p_text) IS DISTINCT FROM (c.p_state = 'ok', c.p_text);

-- In neither pass may a document give two different rows: list any
-- (expected: none).
SELECT pass, typ, i, cat, p_text, r_text
  FROM outcome
 WHERE p_state = 'ok' AND r_state = 'ok' AND p_text IS DISTINCT FROM r_text
 ORDER BY pass, typ, i LIMIT 20;

SELECT count(*) AS unregistered
  FROM unnest('{d_scalars,d_arrays,d_inner,d_mid,d_nested,d_domains,d_quoted}'::text[]) t
 WHERE typed_cache.unregister(t::regtype);

RESET search_path;
DROP SCHEMA diff CASCADE;
