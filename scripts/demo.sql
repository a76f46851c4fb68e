-- scripts/demo.sql -- what typed_cache does, on a throwaway cluster.
\set ECHO queries
\pset footer off
CREATE EXTENSION typed_cache;

-- 1. Typed projection: schemaless events read back as typed rows.
CREATE TYPE geo_t AS (lat float8, lon float8);
CREATE TYPE event_t AS (
	user_id    int,
	kind       text,
	created_at timestamptz,
	amount     numeric(10,2),
	tags       text[],
	geo        geo_t
);
SELECT typed_cache.register('event_t', '{
	"naming": "camel_to_snake",
	"fields": {
		"user_id": {"path": "data.user.id", "required": true},
		"kind":    {"default": "click"}
	}}');

CREATE TABLE events (id serial, doc jsonb);
INSERT INTO events (doc)
SELECT jsonb_build_object(
	'data', jsonb_build_object('user', jsonb_build_object('id', g % 50)),
	'createdAt', '2026-11-01T00:00:00Z'::timestamptz + g * interval '37 min',
	'amount', (g * 7 % 1000) / 10.0,
	'tags', jsonb_build_array('t' || g % 3),
	'geo', jsonb_build_object('lat', 48.85 + g / 1000.0, 'lon', 2.35),
	'trackingId', md5(g::text))
  FROM generate_series(1, 10000) g;

SELECT e.*
  FROM events, typed_cache.project(doc, NULL::event_t) e
 ORDER BY created_at
 LIMIT 3;

SELECT e.kind, count(*), sum(e.amount) AS revenue
  FROM events, typed_cache.project(doc, NULL::event_t) e
 GROUP BY 1;

-- Strict typing: bad input is an error that names the JSON path.
CREATE FUNCTION demo_try(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	msg text;
	det text;
	code text;
BEGIN
	EXECUTE q;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL,
		code = RETURNED_SQLSTATE;
	RETURN code || ' ' || msg || E'\n      ' || det;
END $$;
SELECT demo_try($q$SELECT typed_cache.project('{"data": {"user": {"id": "42"}}}', NULL::event_t)$q$) AS string_into_int;
SELECT demo_try($q$SELECT typed_cache.project('{"createdAt": "2026-11-01"}', NULL::event_t)$q$) AS missing_required;
SELECT demo_try($q$SELECT typed_cache.project('{"data": {"user": {"id": 1}}, "geo": {"lat": "north"}}', NULL::event_t)$q$) AS nested_path;

-- A whole array of objects at once.
SELECT * FROM typed_cache.project_set(
	'[{"data": {"user": {"id": 1}}, "kind": "view"}, {"data": {"user": {"id": 2}}}]',
	NULL::event_t);
