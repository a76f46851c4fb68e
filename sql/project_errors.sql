-- Every class of bad input: an ERROR with a SQLSTATE and the JSON path.
\set VERBOSITY default
\set SHOW_CONTEXT never

CREATE TYPE mood2 AS ENUM ('sad', 'happy');
CREATE DOMAIN pos2 AS int CHECK (VALUE > 0);
CREATE DOMAIN nn2 AS text NOT NULL;
CREATE TYPE inner_t AS (zip int, tags text[]);
CREATE TYPE err_t AS (i int, s smallint, b boolean, t text, v varchar(3),
	c char(2), d date, tz timestamptz, n numeric(4,1), m mood2, p pos2,
	u uuid, inner_v inner_t, grid int[][], f float8, "odd key" int);
CREATE TYPE nn_t AS (x nn2);

-- wrong JSON type for the field: 42804
SELECT typed_cache.project('{"i": "12"}', NULL::err_t);
SELECT typed_cache.project('{"t": 12}', NULL::err_t);
SELECT typed_cache.project('{"t": {"a": 1}}', NULL::err_t);
SELECT typed_cache.project('{"b": 1}', NULL::err_t);
SELECT typed_cache.project('{"b": "true"}', NULL::err_t);
SELECT typed_cache.project('{"d": 20240101}', NULL::err_t);
SELECT typed_cache.project('{"f": "1.5"}', NULL::err_t);
SELECT typed_cache.project('{"i": [1]}', NULL::err_t);
SELECT typed_cache.project('{"grid": 5}', NULL::err_t);
SELECT typed_cache.project('{"inner_v": [1]}', NULL::err_t);
SELECT typed_cache.project('{"inner_v": {"zip": "x"}}', NULL::err_t);
SELECT typed_cache.project('{"inner_v": {"tags": ["a", 2]}}', NULL::err_t);
SELECT typed_cache.project('{"odd key": "x"}', NULL::err_t);
SELECT typed_cache.project('{"u": 1}', NULL::err_t);
SELECT typed_cache.project('{"m": 1}', NULL::err_t);

-- integers: fractions and out-of-range values
SELECT typed_cache.project('{"i": 1.5}', NULL::err_t);
SELECT typed_cache.project('{"i": 1.0}', NULL::err_t);
SELECT typed_cache.project('{"i": 2147483648}', NULL::err_t);
SELECT typed_cache.project('{"s": -32769}', NULL::err_t);
SELECT typed_cache.project('{"n": 12345.6}', NULL::err_t);

-- values the type itself rejects
SELECT typed_cache.project('{"v": "abcd"}', NULL::err_t);
SELECT typed_cache.project('{"c": "abc"}', NULL::err_t);
SELECT typed_cache.project('{"d": "2024-02-30"}', NULL::err_t);
SELECT typed_cache.project('{"tz": "yesterday-ish"}', NULL::err_t);
SELECT typed_cache.project('{"m": "angry"}', NULL::err_t);
SELECT typed_cache.project('{"u": "not-a-uuid"}', NULL::err_t);
SELECT typed_cache.project('{"f": 1e400}', NULL::err_t);

-- domains: CHECK and NOT NULL, also for a missing key
SELECT typed_cache.project('{"p": -1}', NULL::err_t);
SELECT typed_cache.project('{"x": null}', NULL::nn_t);
SELECT typed_cache.project('{}', NULL::nn_t);

-- arrays that are not rectangular
SELECT typed_cache.project('{"grid": [[1, 2], [3]]}', NULL::err_t);
SELECT typed_cache.project('{"grid": [[1, 2], 3]}', NULL::err_t);
SELECT typed_cache.project('{"grid": [1, [2]]}', NULL::err_t);

-- the document itself must be an object
SELECT typed_cache.project('[{"i": 1}]', NULL::err_t);
SELECT typed_cache.project('"text"', NULL::err_t);
SELECT typed_cache.project('null', NULL::err_t);

-- the target must be a composite type
SELECT typed_cache.project('{"a": 1}', NULL::int);
SELECT typed_cache.project('{"a": 1}', NULL::record);
SELECT typed_cache.project('{"a": 1}', NULL::int[]);
SELECT typed_cache.project('{"a": 1}', NULL);

-- a long value is abbreviated in the message
SELECT typed_cache.project(jsonb_build_object('i', repeat('x', 100)), NULL::err_t);

-- after an error, the next call works (nothing is left half-done)
SELECT (typed_cache.project('{"i": 7}', NULL::err_t)).i AS works;

-- the SQLSTATE of each class of error
CREATE FUNCTION sqlstate_of(doc jsonb, target anyelement) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM typed_cache.project(doc, target);
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE;
END$$;
SELECT d AS doc, sqlstate_of(d::jsonb, NULL::err_t)
  FROM unnest(ARRAY['{"i": "12"}', '{"t": 1}', '{"b": 1}', '{"grid": 5}',
	'{"i": 1.5}', '{"i": 2147483648}', '{"n": 12345.6}', '{"v": "abcd"}',
	'{"d": "2024-02-30"}', '{"tz": "x"}', '{"m": "angry"}', '{"p": -1}',
	'{"grid": [[1], [2, 3]]}', '[1]', '{"u": "x"}', '{"f": 1e400}']) d;
SELECT sqlstate_of('{}', NULL::nn_t) AS not_null_domain;
SELECT sqlstate_of('{}', NULL::int) AS not_composite;
