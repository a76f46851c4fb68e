-- Plans are cached per backend; ALTER TYPE, DROP TYPE and (un)registration
-- take effect on the next call, in this session and in another one.
\set VERBOSITY default
CREATE EXTENSION dblink;
CREATE TYPE inv_t AS (a int, b text);
CREATE TYPE holder_t AS (h inv_t);

SELECT dblink_connect('other', 'dbname=' || current_database());
-- warm the other session's plan cache
SELECT * FROM dblink('other', $$SELECT typed_cache.project('{"a": 1, "b": "x", "c": 2}', NULL::inv_t)::text$$) AS t(r text);
SELECT * FROM dblink('other', $$SELECT typed_cache.project('{"h": {"a": 1}}', NULL::holder_t)::text$$) AS t(r text);
SELECT typed_cache.project('{"a": 1, "b": "x", "c": 2}', NULL::inv_t);

-- add an attribute
ALTER TYPE inv_t ADD ATTRIBUTE c int;
SELECT typed_cache.project('{"a": 1, "b": "x", "c": 2}', NULL::inv_t);
SELECT * FROM dblink('other', $$SELECT typed_cache.project('{"a": 1, "b": "x", "c": 2}', NULL::inv_t)::text$$) AS t(r text);
-- the plan of a type that nests it is rebuilt too
SELECT * FROM dblink('other', $$SELECT typed_cache.project('{"h": {"a": 1, "c": 3}}', NULL::holder_t)::text$$) AS t(r text);

-- retype, rename and drop attributes
ALTER TYPE inv_t ALTER ATTRIBUTE a TYPE text;
SELECT typed_cache.project('{"a": "now text", "b": "x", "c": 2}', NULL::inv_t);
SELECT * FROM dblink('other', $$SELECT typed_cache.project('{"a": "now text"}', NULL::inv_t)::text$$) AS t(r text);
ALTER TYPE inv_t RENAME ATTRIBUTE b TO bb;
SELECT * FROM dblink('other', $$SELECT typed_cache.project('{"a": "t", "b": "old", "bb": "new"}', NULL::inv_t)::text$$) AS t(r text);
ALTER TYPE inv_t DROP ATTRIBUTE c;
SELECT typed_cache.project('{"a": "t", "bb": "y", "c": 2}', NULL::inv_t);
SELECT * FROM dblink('other', $$SELECT typed_cache.project('{"a": "t", "bb": "y", "c": 2}', NULL::inv_t)::text$$) AS t(r text);

-- registration and re-registration
SELECT typed_cache.register('inv_t', '{"fields": {"a": {"path": "x.y"}}}');
SELECT * FROM dblink('other', $$SELECT typed_cache.project('{"x": {"y": "deep"}, "a": "top"}', NULL::inv_t)::text$$) AS t(r text);
SELECT * FROM dblink('other', $$SELECT typed_cache.project('{"h": {"x": {"y": "nested"}}}', NULL::holder_t)::text$$) AS t(r text);
SELECT typed_cache.register('inv_t', '{"unknown_keys": "error"}');
SELECT * FROM dblink('other', $$SELECT typed_cache.project('{"x": {"y": "deep"}, "a": "top"}', NULL::inv_t)::text$$) AS t(r text);
SELECT typed_cache.unregister('inv_t');
SELECT * FROM dblink('other', $$SELECT typed_cache.project('{"x": {"y": "deep"}, "a": "top"}', NULL::inv_t)::text$$) AS t(r text);

-- a registration inside a transaction that rolls back leaves no trace
BEGIN;
SELECT typed_cache.register('inv_t', '{"fields": {"a": {"default": "d"}}}');
SELECT typed_cache.project('{}', NULL::inv_t);
ROLLBACK;
SELECT typed_cache.project('{}', NULL::inv_t);

-- drop and recreate under the same name; a dropped type's registration goes
SELECT typed_cache.register('holder_t', '{"unknown_keys": "error"}');
SELECT count(*) FROM typed_cache.registrations WHERE type_oid = 'holder_t'::regtype;
DROP TYPE holder_t;
SELECT count(*) AS dangling FROM typed_cache.registrations
 WHERE NOT EXISTS (SELECT 1 FROM pg_type t WHERE t.oid = type_oid);
DROP TYPE inv_t;
CREATE TYPE inv_t AS (z boolean);
SELECT typed_cache.project('{"z": true}', NULL::inv_t);
SELECT * FROM dblink('other', $$SELECT typed_cache.project('{"z": true}', NULL::inv_t)::text$$) AS t(r text);

-- a cached plan inside a PL/pgSQL function sees the change too
CREATE FUNCTION proj_z(d jsonb) RETURNS text LANGUAGE plpgsql AS
$$BEGIN RETURN typed_cache.project(d, NULL::inv_t)::text; END$$;
SELECT proj_z('{"z": false, "w": 1}');
ALTER TYPE inv_t ADD ATTRIBUTE w int;
SELECT proj_z('{"z": false, "w": 1}');

SELECT dblink_disconnect('other');

-- renaming an enum label applies at once (plans remember labels they saw)
CREATE TYPE colour AS ENUM ('red', 'blue');
CREATE TYPE paint_t AS (c colour);
SELECT dblink_connect('other2', 'dbname=' || current_database());
SELECT * FROM dblink('other2', $$SELECT typed_cache.project('{"c": "red"}', NULL::paint_t)::text$$) AS t(r text);
SELECT typed_cache.project('{"c": "red"}', NULL::paint_t);
ALTER TYPE colour RENAME VALUE 'red' TO 'crimson';
SELECT typed_cache.project('{"c": "red"}', NULL::paint_t);
SELECT typed_cache.project('{"c": "crimson"}', NULL::paint_t);
SELECT * FROM dblink('other2', $$SELECT typed_cache.project('{"c": "crimson"}', NULL::paint_t)::text$$) AS t(r text);
SELECT * FROM dblink('other2', $$SELECT typed_cache.project('{"c": "red"}', NULL::paint_t)::text$$) AS t(r text);
ALTER TYPE colour ADD VALUE 'green';
SELECT typed_cache.project('{"c": "green"}', NULL::paint_t);
SELECT dblink_disconnect('other2');
