--
-- coherence_defects: the smaller defects of issue 16 (section 4), each
-- of which once gave a wrong result: trigger tags that depended on the
-- writer's settings, get_many() returning the transaction's own expired
-- put, fetch() running several statements, trigger tags put() refuses, and
-- invalidate_trigger() as an INSTEAD OF trigger.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS typed_cache;
RESET client_min_messages;
SELECT typed_cache.clear() >= 0 AS cleared;

-- SQLSTATE, message and the first line of context of a failing statement
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	st text;
	msg text;
	ctx text;
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
		ctx = PG_EXCEPTION_CONTEXT;
	RETURN st || ': ' || msg || ' [' || split_part(ctx, E'\n', 1) || ']';
END $$;

-- the settings a reader has by default (pg_regress sets others)
CREATE FUNCTION pg_temp.reader_settings() RETURNS void LANGUAGE sql AS $$
	SELECT set_config('TimeZone', 'UTC', false),
		   set_config('DateStyle', 'ISO, MDY', false),
		   set_config('IntervalStyle', 'postgres', false),
		   set_config('bytea_output', 'hex', false),
		   set_config('extra_float_digits', '1', false),
		   set_config('lc_monetary', 'C', false);
$$;
-- settings as far from those as can be
CREATE FUNCTION pg_temp.writer_settings() RETURNS void LANGUAGE sql AS $$
	SELECT set_config('TimeZone', 'America/New_York', false),
		   set_config('DateStyle', 'SQL, DMY', false),
		   set_config('IntervalStyle', 'sql_standard', false),
		   set_config('bytea_output', 'escape', false),
		   set_config('extra_float_digits', '0', false);
$$;

--
-- 1. Trigger tags are rendered under fixed settings: a writer's TimeZone,
-- DateStyle, IntervalStyle, bytea_output and extra_float_digits do not
-- change them.
--
CREATE DOMAIN def_stamp AS timestamptz;
CREATE TYPE def_pair AS (a int, b date);
CREATE TABLE def_t (
	id int PRIMARY KEY,
	ts timestamptz, tsn timestamp, d date, t time, ttz timetz,
	iv interval, b bytea, f4 real, f8 double precision,
	n numeric, i8 bigint, flag boolean, u uuid, j jsonb, txt text,
	dom def_stamp, arr timestamptz[], ints int[], pair def_pair,
	rng tstzrange, m money, other int);
INSERT INTO def_t VALUES
	(1, '2026-01-02 03:04:05.25+00', '2026-01-02 03:04:05.5', '2026-01-02',
	 '03:04:05.125', '03:04:05+05:30', '1 year 2 mons 3 days 04:05:06.5',
	 '\x00ff41', 1/3::real, 1/3::float8, 1.50, 9007199254740993, true,
	 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"b": [1, 2.50], "a": null}',
	 'Ann', '2026-07-01 12:00+02', ARRAY['2026-07-01 12:00+02'::timestamptz],
	 '{1,2}', '(1,2026-03-04)', '[2026-01-01 00:00+00,2026-02-01 00:00+00)',
	 1234.5, 0),
	(2, 'infinity', '-infinity', '0044-03-15 BC', '24:00', '00:00-12',
	 '-1 day +02:03', '', 'NaN', '-Infinity', -0.000, 0, false,
	 NULL, '[]', '', '1999-12-31 23:59:59.999999+00', '{}', '{}', '(,)',
	 'empty', 0, 0),
	(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0);
CREATE TRIGGER def_t_cache AFTER UPDATE ON def_t FOR EACH ROW
	EXECUTE FUNCTION typed_cache.invalidate_trigger(
		'ts:{ts}', 'tsn:{tsn}', 'd:{d}', 't:{t}', 'ttz:{ttz}', 'iv:{iv}',
		'b:{b}', 'f4:{f4}', 'f8:{f8}', 'n:{n}', 'i8:{i8}', 'flag:{flag}',
		'u:{u}', 'j:{j}', 'txt:{txt}', 'dom:{dom}', 'arr:{arr}', 'ints:{ints}',
		'pair:{pair}', 'rng:{rng}', 'm:{m}');
-- the reader puts one entry per row and column, tagged with the column's
-- text under its (default) settings
CREATE VIEW def_cols AS
SELECT id, c, c || ':' || v AS tag
  FROM def_t, LATERAL (VALUES
	('ts', format('%s', ts)), ('tsn', format('%s', tsn)),
	('d', format('%s', d)), ('t', format('%s', t)), ('ttz', format('%s', ttz)),
	('iv', format('%s', iv)), ('b', format('%s', b)),
	('f4', format('%s', f4)), ('f8', format('%s', f8)),
	('n', format('%s', n)), ('i8', format('%s', i8)),
	('flag', format('%s', flag)), ('u', format('%s', u)),
	('j', format('%s', j)), ('txt', format('%s', txt)),
	('dom', format('%s', dom)), ('arr', format('%s', arr)),
	('ints', format('%s', ints)), ('pair', format('%s', pair)),
	('rng', format('%s', rng)), ('m', format('%s', m))) AS x(c, v);
CREATE FUNCTION pg_temp.fill_cols() RETURNS bigint LANGUAGE sql AS $$
	SELECT typed_cache.clear();
	SELECT count(typed_cache.put('def:' || id || ':' || c, '1', NULL, NULL,
								 ARRAY[tag]))
	  FROM def_cols;
$$;
SELECT pg_temp.reader_settings();
SELECT pg_temp.fill_cols() AS entries;
-- the exact text of each type (README, "Trigger templates")
SELECT id, string_agg(tag, ' | ' ORDER BY c) AS tags FROM def_cols
 GROUP BY id ORDER BY id;
-- a writer with other settings invalidates every one of them
SELECT pg_temp.writer_settings();
SHOW TimeZone;
SHOW DateStyle;
SELECT ts, iv, b, f8 FROM def_t WHERE id = 1;
UPDATE def_t SET other = other + 1;
SELECT pg_temp.reader_settings();
SELECT key, tags FROM typed_cache.entries WHERE key LIKE 'def:%' ORDER BY key;
-- the same from the transition tables of a statement-level trigger
DROP TRIGGER def_t_cache ON def_t;
CREATE TRIGGER def_t_cache AFTER UPDATE ON def_t
	REFERENCING OLD TABLE AS o NEW TABLE AS n FOR EACH STATEMENT
	EXECUTE FUNCTION typed_cache.invalidate_trigger(
		'ts:{ts}', 'tsn:{tsn}', 'd:{d}', 't:{t}', 'ttz:{ttz}', 'iv:{iv}',
		'b:{b}', 'f4:{f4}', 'f8:{f8}', 'n:{n}', 'i8:{i8}', 'flag:{flag}',
		'u:{u}', 'j:{j}', 'txt:{txt}', 'dom:{dom}', 'arr:{arr}', 'ints:{ints}',
		'pair:{pair}', 'rng:{rng}', 'm:{m}');
SELECT pg_temp.fill_cols() AS entries;
SELECT pg_temp.writer_settings();
UPDATE def_t SET other = other + 1;
SELECT pg_temp.reader_settings();
SELECT key, tags FROM typed_cache.entries WHERE key LIKE 'def:%' ORDER BY key;
-- an infinite interval (PostgreSQL 17 and later)
CREATE TABLE def_inf (iv interval);
CREATE TRIGGER def_inf_cache AFTER INSERT ON def_inf FOR EACH ROW
	EXECUTE FUNCTION typed_cache.invalidate_trigger('iv:{iv}');
SELECT typed_cache.put('def:inf', '1', NULL, NULL, ARRAY['iv:infinity']) IS NOT NULL AS stored;
SELECT pg_temp.writer_settings();
DO $$
BEGIN
	IF current_setting('server_version_num')::int >= 170000 THEN
		EXECUTE $q$INSERT INTO def_inf VALUES ('infinity')$q$;
	ELSE
		PERFORM typed_cache.invalidate(ARRAY['iv:infinity']);
	END IF;
END $$;
SELECT pg_temp.reader_settings();
SELECT typed_cache.get('def:inf') AS invalidated;
-- the writer's settings are its own again after the firing
SELECT pg_temp.writer_settings();
UPDATE def_t SET other = other + 1 WHERE id = 1;
SHOW TimeZone;
SHOW DateStyle;
SHOW IntervalStyle;
SHOW bytea_output;
SHOW extra_float_digits;
SELECT pg_temp.reader_settings();

-- The put side: a tag written with an expression that does not depend on
-- the reader's settings matches the trigger's, whatever both sessions'
-- settings are.  A boolean is t or f, as its output function writes it
-- ('x' || true would be xtrue: || uses the cast to text).
CREATE TABLE def_ev (id int PRIMARY KEY, at timestamptz, ok boolean);
INSERT INTO def_ev VALUES (1, '2026-03-04 05:06:07.89+00', true),
	(2, '2026-03-04 05:06:07+00', false), (3, '1999-12-31 19:00-05', true);
CREATE TRIGGER def_ev_cache AFTER UPDATE ON def_ev FOR EACH ROW
	EXECUTE FUNCTION typed_cache.invalidate_trigger('ev:{id}:{at}', 'ok:{id}:{ok}');
-- UTC, ISO, trailing zeros of the fraction dropped, +00
CREATE FUNCTION def_tag_stamp(ts timestamptz) RETURNS text
	LANGUAGE sql STABLE PARALLEL SAFE
	RETURN to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')
		|| rtrim(rtrim(to_char(ts AT TIME ZONE 'UTC', '.US'), '0'), '.')
		|| '+00';
-- or any type at all: its output function under the trigger's settings
CREATE FUNCTION def_tag_text(anyelement) RETURNS text LANGUAGE sql STABLE
	SET TimeZone = 'UTC' SET DateStyle = 'ISO, MDY'
	SET IntervalStyle = 'postgres' SET bytea_output = 'hex'
	SET extra_float_digits = 1 SET lc_monetary = 'C'
	AS $$ SELECT format('%s', $1) $$;
SET TimeZone = 'Asia/Tokyo';
SET DateStyle = 'German';
SELECT id, at, 'ev:' || id || ':' || def_tag_stamp(at) AS by_to_char,
	   'ev:' || id || ':' || def_tag_text(at) AS by_function,
	   format('ok:%s:%s', id, ok) AS ok_tag, 'ok:' || id || ':' || ok AS not_this
  FROM def_ev ORDER BY id;
SELECT typed_cache.put('ev:a' || id, '1', NULL, NULL,
					   ARRAY['ev:' || id || ':' || def_tag_stamp(at)]) IS NOT NULL,
	   typed_cache.put('ev:b' || id, '1', NULL, NULL,
					   ARRAY['ev:' || id || ':' || def_tag_text(at)]) IS NOT NULL,
	   typed_cache.put('ev:c' || id, '1', NULL, NULL,
					   ARRAY[format('ok:%s:%s', id, ok)]) IS NOT NULL
  FROM def_ev ORDER BY id;
SELECT count(*) AS entries FROM typed_cache.entries WHERE key LIKE 'ev:%';
SELECT pg_temp.writer_settings();
UPDATE def_ev SET id = id;
SELECT pg_temp.reader_settings();
SELECT key FROM typed_cache.entries WHERE key LIKE 'ev:%' ORDER BY key;
-- the to_char expression agrees with the trigger for any fraction (and
-- with the output function under fixed settings)
CREATE TABLE def_many (id int, at timestamptz);
INSERT INTO def_many
	SELECT g, timestamptz '1970-01-01 00:00+00'
			  + g * interval '1 day 1 hour 1 minute 1.000997 second'
	  FROM generate_series(0, 2000) g;
CREATE TRIGGER def_many_cache AFTER UPDATE ON def_many FOR EACH ROW
	EXECUTE FUNCTION typed_cache.invalidate_trigger('at:{at}');
SELECT count(*) AS compared,
	   count(*) FILTER (WHERE def_tag_stamp(at) <> def_tag_text(at)) AS disagree,
	   count(typed_cache.put('many:' || id, '1', NULL, NULL,
							 ARRAY['at:' || def_tag_stamp(at)])) AS stored
  FROM def_many;
SELECT pg_temp.writer_settings();
UPDATE def_many SET id = id;
SET TimeZone = 'Asia/Tokyo';
SELECT count(*) AS left_over FROM typed_cache.entries WHERE key LIKE 'many:%';
RESET TimeZone;
RESET DateStyle;

--
-- 2. get_many() does not return the transaction's own expired put, as get()
-- and ttl() do not.
--
SELECT typed_cache.put('def:exp', '"committed"', '1 hour') IS NOT NULL AS stored;
BEGIN;
SELECT typed_cache.put('def:exp', '"pending"', '10 ms') IS NOT NULL AS stored;
SELECT typed_cache.put('def:live', '"pending live"', '1 hour') IS NOT NULL AS stored;
SELECT pg_sleep(0.05);
SELECT typed_cache.get('def:exp') AS get, typed_cache.ttl('def:exp') AS ttl;
SELECT * FROM typed_cache.get_many(ARRAY['def:exp', 'def:live']);
COMMIT;
SELECT * FROM typed_cache.get_many(ARRAY['def:exp', 'def:live']);

--
-- 3. fetch() runs exactly one statement: given several, it refuses before
-- anything runs, and stores nothing.
--
CREATE TABLE def_log (n int);
SELECT typed_cache.fetch('def:f', 'INSERT INTO def_log VALUES (1); SELECT ''"second"''::jsonb');
SELECT pg_temp.err($$SELECT typed_cache.fetch('def:f', 'SELECT ''1''::jsonb; SELECT ''2''::jsonb')$$);
SELECT pg_temp.err($$SELECT typed_cache.fetch('def:f', '')$$);
SELECT pg_temp.err($$SELECT typed_cache.fetch('def:f', ';;')$$);
SELECT count(*) AS ran FROM def_log;
SELECT typed_cache.get('def:f') AS stored;
-- one statement, with a trailing semicolon or a comment, as before
SELECT typed_cache.fetch('def:f', 'SELECT ''"one"''::jsonb; -- comment');
SELECT typed_cache.get('def:f') AS stored;
-- ttl and tags as before; a parameter reference is an error as before
SELECT typed_cache.fetch('def:g', 'SELECT jsonb_build_object(''n'', count(*)) FROM def_log',
						 '1 hour', ARRAY['def:log']);
SELECT typed_cache.ttl('def:g') BETWEEN '59 min' AND '1 hour' AS ttl_an_hour,
	   tags FROM typed_cache.entries WHERE key = 'def:g';
SELECT pg_temp.err($$SELECT typed_cache.fetch('def:h', 'SELECT to_jsonb($1)')$$);
-- a data-modifying statement with RETURNING is still one statement
SELECT typed_cache.fetch('def:i', 'INSERT INTO def_log VALUES (2) RETURNING to_jsonb(n)');
SELECT count(*) AS ran FROM def_log;
-- transaction control is refused as before
SELECT pg_temp.err($$SELECT typed_cache.fetch('def:j', 'COMMIT')$$);

--
-- 4. Trigger tags obey put()'s limits: not empty, at most 1024 bytes.
--
CREATE TABLE def_tags (id int, name text, b bytea);
CREATE TRIGGER def_tags_cache AFTER INSERT ON def_tags FOR EACH ROW
	EXECUTE FUNCTION typed_cache.invalidate_trigger('{name}', 'b:{b}');
INSERT INTO def_tags VALUES (1, NULL, NULL);
INSERT INTO def_tags VALUES (2, repeat('x', 1025), NULL);
SELECT pg_temp.err($$INSERT INTO def_tags VALUES (3, '', NULL)$$);
SELECT pg_temp.err($$INSERT INTO def_tags VALUES (4, 'ok', decode(repeat('00', 512), 'hex'))$$);
SELECT pg_temp.err($$INSERT INTO def_tags VALUES (4, 'ok', decode(repeat('00', 100000), 'hex'))$$);
INSERT INTO def_tags VALUES (5, repeat('x', 1024), decode(repeat('00', 510), 'hex'));
SELECT id FROM def_tags ORDER BY id;
-- and from transition tables, and a template without a column
CREATE TABLE def_tags2 (name text);
CREATE TRIGGER def_tags2_cache AFTER INSERT ON def_tags2
	REFERENCING NEW TABLE AS n FOR EACH STATEMENT
	EXECUTE FUNCTION typed_cache.invalidate_trigger('{name}');
SELECT pg_temp.err($$INSERT INTO def_tags2 VALUES ('a'), (repeat('y', 2000))$$);
CREATE TABLE def_tags3 (name text);
CREATE TRIGGER def_tags3_cache AFTER INSERT ON def_tags3 FOR EACH STATEMENT
	EXECUTE FUNCTION typed_cache.invalidate_trigger('');
SELECT pg_temp.err($$INSERT INTO def_tags3 VALUES ('a')$$);
SELECT (SELECT count(*) FROM def_tags2) + (SELECT count(*) FROM def_tags3) AS inserted;

--
-- 5. invalidate_trigger() cannot be an INSTEAD OF trigger: it would make
-- the view's change do nothing.
--
CREATE VIEW def_v AS SELECT id, name FROM def_tags;
CREATE TRIGGER def_v_cache INSTEAD OF INSERT ON def_v FOR EACH ROW
	EXECUTE FUNCTION typed_cache.invalidate_trigger('x:{id}');
-- under another name too
CREATE FUNCTION def_alias() RETURNS trigger LANGUAGE c
	AS '$libdir/typed_cache', 'tc_invalidate_trigger';
SELECT pg_temp.err($$CREATE TRIGGER def_v_cache INSTEAD OF INSERT ON def_v
	FOR EACH ROW EXECUTE FUNCTION def_alias('x:{id}')$$);
-- a trigger made before the check (here: a function replaced under it)
-- refuses to fire, so the INSERT fails instead of doing nothing
CREATE FUNCTION def_swap() RETURNS trigger LANGUAGE plpgsql
	AS $$ BEGIN RETURN NULL; END $$;
CREATE TRIGGER def_v_cache INSTEAD OF INSERT ON def_v FOR EACH ROW
	EXECUTE FUNCTION def_swap('x:{id}');
CREATE OR REPLACE FUNCTION def_swap() RETURNS trigger LANGUAGE c
	AS '$libdir/typed_cache', 'tc_invalidate_trigger';
INSERT INTO def_v VALUES (9, 'nine');
SELECT count(*) AS nine FROM def_tags WHERE id = 9;
-- other trigger kinds on the view's table are fine
SELECT pg_temp.err($$CREATE TRIGGER def_tags_upd AFTER UPDATE ON def_tags FOR EACH ROW
	EXECUTE FUNCTION typed_cache.invalidate_trigger('x:{id}')$$);

DROP VIEW def_v;
DROP TABLE def_t, def_inf, def_many, def_ev, def_log, def_tags, def_tags2, def_tags3 CASCADE;
DROP FUNCTION def_tag_stamp(timestamptz), def_tag_text(anyelement),
	def_alias(), def_swap();
DROP TYPE def_pair;
DROP DOMAIN def_stamp;
SELECT typed_cache.clear() >= 0 AS cleared;
