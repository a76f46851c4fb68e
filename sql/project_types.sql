-- Every supported field type, converted directly from its JSON type.
SET TimeZone = 'America/New_York';
SET DateStyle = 'ISO, YMD';

CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN posint AS int CHECK (VALUE > 0);
CREATE DOMAIN nn_text AS text NOT NULL;
CREATE DOMAIN short_tags AS text[] CHECK (cardinality(VALUE) <= 2);

CREATE TYPE ints_t AS (a int2, b int4, c int8);
SELECT typed_cache.project('{"a": -32768, "b": 2147483647, "c": -9223372036854775808}', NULL::ints_t);
SELECT typed_cache.project('{"a": 1e3, "b": 12E2, "c": 0}', NULL::ints_t);
SELECT typed_cache.project('{"a": -0, "b": 100000000, "c": 9223372036854775807}', NULL::ints_t);

CREATE TYPE floats_t AS (r float4, d float8, n numeric, n2 numeric(6,2));
SELECT typed_cache.project('{"r": 0.1, "d": 0.1, "n": 0.1, "n2": 1.005}', NULL::floats_t);
SELECT typed_cache.project('{"r": 3.4e38, "d": 1.7976931348623157e308, "n": 123456789012345678901234567890.123, "n2": -9999.99}', NULL::floats_t);
-- floats equal what the text route gives, bit for bit
SELECT bool_and((typed_cache.project(d, NULL::floats_t)).d =
				(d->>'d')::float8) AS float8_exact,
	   bool_and((typed_cache.project(d, NULL::floats_t)).r =
				(d->>'r')::float4) AS float4_exact
  FROM (SELECT jsonb_build_object('d', (x * 1.37)::numeric(20,7) / 1000,
				'r', (x * 3.11)::numeric(12,3)) AS d
		  FROM generate_series(-5000, 5000, 7) x) s;
SELECT bool_and((typed_cache.project(d, NULL::floats_t)).d = (d->>'d')::float8) AS big_exps
  FROM (SELECT jsonb_build_object('d', ('1.2345678901234567e' || e)::numeric) AS d
		  FROM generate_series(-300, 300, 13) e) s;

CREATE TYPE strings_t AS (t text, v varchar(5), c char(3), b boolean, u uuid, m mood);
SELECT typed_cache.project('{"t": "héllo \"q\"", "v": "abc", "c": "x", "b": false,
	"u": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "m": "happy"}', NULL::strings_t);
-- varchar: excess trailing spaces are cut, as by a cast
SELECT (typed_cache.project('{"v": "abc     "}', NULL::strings_t)).v || '|' AS v;

CREATE TYPE times_t AS (d date, ts timestamp, tz timestamptz, ts0 timestamp(0));
SELECT typed_cache.project('{"d": "2024-02-29", "ts": "2024-01-02T03:04:05.678901",
	"tz": "2024-07-01 12:00:00", "ts0": "2024-01-02 03:04:05.6"}', NULL::times_t);
SELECT typed_cache.project('{"tz": "2024-01-01T00:00:00+05:30"}', NULL::times_t);
SELECT typed_cache.project('{"tz": "2024-01-01T00:00:00-0800"}', NULL::times_t);
SELECT typed_cache.project('{"tz": "2024-01-01T00:00:00Z", "ts": "2024-01-01T00:00:00Z"}', NULL::times_t);
-- other forms go through the type's own parser, with the same result
SELECT typed_cache.project('{"d": "Jan 5 2024", "ts": "2024-01-02 03:04:05.1234567",
	"tz": "2024-01-01 00:00:00 Europe/Paris"}', NULL::times_t);
SELECT typed_cache.project('{"tz": "infinity", "d": "-infinity"}', NULL::times_t);
-- the fast path and timestamptz_in agree, DST edges included
SELECT bool_and((typed_cache.project(jsonb_build_object('tz', s), NULL::times_t)).tz = s::timestamptz)
	   AND bool_and((typed_cache.project(jsonb_build_object('ts', s), NULL::times_t)).ts = s::timestamp)
	   AS iso_agrees
  FROM (SELECT to_char(t, 'YYYY-MM-DD"T"HH24:MI:SS.US') ||
			   (ARRAY['', 'Z', '+01:00', '-0930', '+14'])[1 + (extract(epoch from t)::bigint % 5)] AS s
		  FROM generate_series('2023-03-12 00:00'::timestamp, '2023-03-13 00:00', '7 min 13.5 s') t
		UNION ALL
		SELECT '2023-11-05T01:30:00') x;

CREATE TYPE docs_t AS (j json, jb jsonb, arr jsonb[]);
SELECT typed_cache.project('{"j": {"a": [1, 2]}, "jb": [1, {"b": null}], "arr": [{"x": 1}, [2], "s", 3]}', NULL::docs_t);
SELECT typed_cache.project('{"j": "str", "jb": 12.5}', NULL::docs_t);
SELECT (typed_cache.project('{"jb": null}', NULL::docs_t)).jb IS NULL AS json_null_is_sql_null;

CREATE TYPE arrays_t AS (i int[], m int[][], t text[], b boolean[], d date[], e mood[]);
SELECT typed_cache.project('{"i": [1, null, 3], "m": [[1, 2], [3, 4], [5, 6]],
	"t": ["x", "y"], "b": [true], "d": ["2024-01-01"], "e": ["sad", "ok"]}', NULL::arrays_t);
SELECT array_dims((typed_cache.project('{"m": [[[1], [2]], [[3], [4]]]}', NULL::arrays_t)).m);
SELECT typed_cache.project('{"i": [], "m": [[]]}', NULL::arrays_t);
-- an empty sub-array does not hide the others: the shape is checked
SELECT typed_cache.project('{"m": [[], [1, 2]]}', NULL::arrays_t);
SELECT typed_cache.project('{"m": [[], [[1]]]}', NULL::arrays_t);
SELECT typed_cache.project('{"m": [[], []], "i": [[[]]]}', NULL::arrays_t);

CREATE TYPE point_t AS (x int, y int);
CREATE TYPE shape_t AS (name text, origin point_t, pts point_t[], meta jsonb);
SELECT typed_cache.project('{"name": "tri", "origin": {"x": 0, "y": 0},
	"pts": [{"x": 1, "y": 2}, {"x": 3}, null], "meta": {"k": "v"}}', NULL::shape_t);
CREATE TYPE outer_t AS (id int, shape shape_t, shapes shape_t[]);
SELECT typed_cache.project('{"id": 1, "shape": {"name": "s", "origin": {"x": 5, "y": 6}},
	"shapes": [{"pts": [{"x": 7, "y": 8}]}]}', NULL::outer_t);

CREATE TYPE domains_t AS (p posint, n nn_text, st short_tags);
SELECT typed_cache.project('{"p": 5, "n": "x", "st": ["a", "b"]}', NULL::domains_t);

-- a domain over a composite type as the target
CREATE DOMAIN origin_pt AS point_t CHECK ((VALUE).x = 0);
SELECT typed_cache.project('{"x": 0, "y": 9}', NULL::origin_pt);

-- other types go through their input function from a JSON string
CREATE TYPE misc_t AS (ip inet, r int4range, iv interval, mo money, o oid, bits bit varying);
SELECT typed_cache.project('{"ip": "10.0.0.1/8", "r": "[1,5)", "iv": "1 day 2 hours",
	"mo": 12.5, "o": 42, "bits": "1011"}', NULL::misc_t);
