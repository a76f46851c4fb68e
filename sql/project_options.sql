-- Registration options: paths, required, default, unknown_keys, naming, coerce.
\set VERBOSITY default
SET TimeZone = 'UTC';

CREATE TYPE evt_t AS (user_id int, kind text, created_at timestamptz,
	score float8, tags text[]);

-- unregistered: plain names
SELECT typed_cache.project('{"user_id": 1, "kind": "a"}', NULL::evt_t);

SELECT typed_cache.register('evt_t', '{
	"fields": {
		"user_id": {"path": "data.user.id", "required": true},
		"kind": {"default": "click"},
		"tags": {"default": ["none"]},
		"score": {"coerce": true}
	}}');
SELECT type, options FROM typed_cache.registered_types;

SELECT typed_cache.project('{"data": {"user": {"id": 42}}, "score": "2.5"}', NULL::evt_t);
SELECT typed_cache.project('{"data": {"user": {"id": 42}}, "kind": "view", "tags": ["x"]}', NULL::evt_t);
-- an explicit JSON null is not missing: no default
SELECT typed_cache.project('{"data": {"user": {"id": 1}}, "kind": null}', NULL::evt_t);
-- a null on the way along a path gives NULL
SELECT typed_cache.project('{"data": null}', NULL::evt_t);
-- missing required field, also through a missing intermediate object
SELECT typed_cache.project('{"data": {"user": {}}}', NULL::evt_t);
SELECT typed_cache.project('{"kind": "x"}', NULL::evt_t);
-- a path through a non-object
SELECT typed_cache.project('{"data": {"user": 5}}', NULL::evt_t);
-- a coerced field accepts what jsonb_populate_record accepts, others stay strict
SELECT typed_cache.project('{"data": {"user": {"id": 1}}, "score": "abc"}', NULL::evt_t);
SELECT typed_cache.project('{"data": {"user": {"id": "1"}}}', NULL::evt_t);

-- paths with quoted keys and a leading $.
CREATE TYPE q_t AS (a int, b text);
SELECT typed_cache.register('q_t', '{"fields": {"a": {"path": "$.\"x.y\".z"}, "b": {"path": "k"}}}');
SELECT typed_cache.project('{"x.y": {"z": 3}, "k": "v"}', NULL::q_t);

-- unknown_keys = error; a path's first key counts as known
SELECT typed_cache.register('q_t', '{"unknown_keys": "error", "fields": {"a": {"path": "x.z"}}}');
SELECT typed_cache.project('{"x": {"z": 1, "other": 2}, "b": "ok"}', NULL::q_t);
SELECT typed_cache.project('{"x": {"z": 1}, "b": "ok", "c": 3}', NULL::q_t);

-- a path may read a key that another field reads by name: both get it
CREATE TYPE over_t AS (a int, b int, c jsonb);
SELECT typed_cache.register('over_t', '{"fields": {"a": {"path": "b"}, "c": {"path": "b"}}}');
SELECT typed_cache.project('{"b": 5}', NULL::over_t);
SELECT typed_cache.register('over_t', '{"fields": {"a": {"path": "b.x"}}}');
SELECT typed_cache.project('{"b": {"x": 1}}', NULL::over_t);
-- case-insensitive naming: path heads match exactly, fields in any case
SELECT typed_cache.register('over_t', '{"unknown_keys": "error", "naming": "case_insensitive",
	"fields": {"a": {"path": "K.x"}, "c": {"path": "k"}}}');
SELECT typed_cache.project('{"K": {"x": 1}, "k": {"y": 2}, "B": 3}', NULL::over_t);
SELECT typed_cache.project('{"K": {"x": 1}, "kk": 1}', NULL::over_t);

-- naming: camel_to_snake reads createdAt into created_at
CREATE TYPE cam_t AS (user_id int, created_at date, x int);
SELECT typed_cache.register('cam_t', '{"naming": "camel_to_snake"}');
SELECT typed_cache.project('{"userId": 1, "createdAt": "2024-05-06", "x": 3, "user_id": 99}', NULL::cam_t);

-- naming: case_insensitive; an exact spelling wins over another case
CREATE TYPE ci_t AS (id int, name text);
SELECT typed_cache.register('ci_t', '{"naming": "case_insensitive"}');
SELECT typed_cache.project('{"ID": 1, "Name": "x"}', NULL::ci_t);
SELECT typed_cache.project('{"ID": 1, "id": 2}', NULL::ci_t);
SELECT typed_cache.project('{"ID": 1, "Id": 2}', NULL::ci_t);

-- coerce for the whole type: jsonb_populate_record's conversions
CREATE TYPE loose_t AS (i int, t text, b boolean, a text[], n int[], c ci_t);
SELECT typed_cache.register('loose_t', '{"coerce": true}');
SELECT typed_cache.project('{"i": "12", "t": 12.50, "b": "yes", "a": "{x,y}", "n": ["1", 2]}', NULL::loose_t);
SELECT typed_cache.project('{"i": "12", "t": {"k": [1]}, "b": 1}', NULL::loose_t);
SELECT typed_cache.project('{"i": "abc"}', NULL::loose_t);
-- a nested registered type keeps its own options
SELECT typed_cache.project('{"c": {"ID": 5}}', NULL::loose_t);

-- nested registered types apply their options inside another type
CREATE TYPE wrap_t AS (e evt_t, es evt_t[]);
SELECT typed_cache.project('{"e": {"data": {"user": {"id": 9}}}, "es": [{"data": {"user": {"id": 10}}}]}', NULL::wrap_t);
SELECT typed_cache.project('{"es": [{"data": {"user": {"id": 10}}}, {}]}', NULL::wrap_t);

-- bad options are refused at registration, and nothing is stored
SELECT typed_cache.register('q_t', '{"colour": "red"}');
SELECT typed_cache.register('q_t', '{"fields": {"nope": {}}}');
SELECT typed_cache.register('q_t', '{"fields": {"a": {"path": "a..b"}}}');
SELECT typed_cache.register('q_t', '{"fields": {"a": {"path": ""}}}');
SELECT typed_cache.register('q_t', '{"fields": {"a": {"path": 5}}}');
SELECT typed_cache.register('q_t', '{"fields": {"a": {"required": "yes"}}}');
SELECT typed_cache.register('q_t', '{"fields": {"a": {"wat": 1}}}');
SELECT typed_cache.register('q_t', '{"fields": {"a": {"required": true, "default": 1}}}');
SELECT typed_cache.register('q_t', '{"fields": {"a": {"default": "one"}}}');
SELECT typed_cache.register('q_t', '{"fields": {"a": 1}}');
SELECT typed_cache.register('q_t', '{"unknown_keys": "maybe"}');
SELECT typed_cache.register('q_t', '{"naming": "kebab"}');
SELECT typed_cache.register('q_t', '{"coerce": "yes"}');
SELECT typed_cache.register('q_t', '[]');
SELECT typed_cache.register('q_t', NULL);
SELECT typed_cache.register(NULL, '{}');
SELECT typed_cache.register('-', '{}');
SELECT typed_cache.unregister(4242424242::oid::regtype);
SELECT typed_cache.register('int4', '{}');
CREATE DOMAIN q_dom AS q_t;
SELECT typed_cache.register('q_dom', '{}');
CREATE TYPE dup_t AS (a int, "A" int);
SELECT typed_cache.register('dup_t', '{"naming": "case_insensitive"}');
SELECT typed_cache.register('q_t', '{"fields": {"b": {"path": "a"}}}');
SELECT options FROM typed_cache.registered_types WHERE type = 'q_t'::regtype;

-- only the owner of a type may register it
CREATE ROLE tc_stranger;
SET ROLE tc_stranger;
SELECT typed_cache.register('q_t', '{}');
SELECT typed_cache.unregister('q_t');
SELECT typed_cache.project('{"x": {"z": 1}}', NULL::q_t);
RESET ROLE;
DROP ROLE tc_stranger;

-- unregister returns whether there was a registration
SELECT typed_cache.unregister('q_t');
SELECT typed_cache.unregister('q_t');
SELECT typed_cache.project('{"a": 1, "b": "x", "c": 3}', NULL::q_t);
