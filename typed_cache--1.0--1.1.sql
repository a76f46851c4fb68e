/* typed_cache--1.0--1.1.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION typed_cache UPDATE TO '1.1'" to load this file. \quit

/*
 * ------------------------------------------------------------------------
 * 1.1: a coherent cache (src/coherence.c, src/fetch.c,
 * src/invalidate_trigger.c).  Entries carry tags; invalidate() and delete()
 * take effect when the transaction commits; fills older than a committed
 * invalidation are refused; fetch() computes a missing key once while
 * other backends wait; a trigger function invalidates tags built from the
 * changed rows.  Grants made on the functions and views that change shape
 * here are carried over to their new versions.
 * ------------------------------------------------------------------------
 */

-- put() gains tags.  The new function is created beside the old one, gets
-- the old one's grants, and the old one goes.
CREATE FUNCTION @extschema@.put(key pg_catalog.text, value pg_catalog.jsonb,
								ttl pg_catalog.interval DEFAULT NULL,
								type pg_catalog.regtype DEFAULT NULL,
								tags pg_catalog.text[] DEFAULT NULL)
RETURNS pg_catalog.jsonb
AS 'MODULE_PATHNAME', 'tc_cache_put'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@.put(pg_catalog.text, pg_catalog.jsonb,
									   pg_catalog.interval, pg_catalog.regtype,
									   pg_catalog.text[]) FROM PUBLIC;

CREATE FUNCTION @extschema@.invalidate(tags pg_catalog.text[])
RETURNS void
AS 'MODULE_PATHNAME', 'tc_invalidate'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@.invalidate(pg_catalog.text[]) FROM PUBLIC;

CREATE FUNCTION @extschema@.fetch(key pg_catalog.text, query pg_catalog.text,
								  ttl pg_catalog.interval DEFAULT NULL,
								  tags pg_catalog.text[] DEFAULT NULL)
RETURNS pg_catalog.jsonb
AS 'MODULE_PATHNAME', 'tc_fetch'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@.fetch(pg_catalog.text, pg_catalog.text,
										 pg_catalog.interval,
										 pg_catalog.text[]) FROM PUBLIC;

-- A trigger function.  Attaching it (CREATE TRIGGER needs EXECUTE) lets a
-- table's changes invalidate any tag, so it follows put's grants too.
CREATE FUNCTION @extschema@.invalidate_trigger()
RETURNS trigger
AS 'MODULE_PATHNAME', 'tc_invalidate_trigger'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
REVOKE ALL ON FUNCTION @extschema@.invalidate_trigger() FROM PUBLIC;

-- Carry the grants of put(4 arguments) over to put(5), and give the roles
-- that may put the right to invalidate and fetch as well (they follow
-- put's grants).  Names come from the catalogs, never from text pasted
-- into the statement.
DO $grants$
DECLARE
	old_put pg_catalog.oid;
	g record;
	target pg_catalog.oid;
BEGIN
	SELECT p.oid INTO old_put
	  FROM pg_catalog.pg_proc p
	 WHERE p.proname OPERATOR(pg_catalog.=) 'put'
	   AND p.pronamespace OPERATOR(pg_catalog.=) (SELECT n.oid FROM pg_catalog.pg_namespace n
								  WHERE n.nspname OPERATOR(pg_catalog.=) pg_catalog.current_schema())
	   AND p.pronargs OPERATOR(pg_catalog.=) 4;
	FOR g IN SELECT a.grantee, a.is_grantable
			   FROM pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) a
			  WHERE p.oid OPERATOR(pg_catalog.=) old_put
				AND a.privilege_type OPERATOR(pg_catalog.=) 'EXECUTE'
				AND a.grantee OPERATOR(pg_catalog.<>) p.proowner
	LOOP
		FOR target IN SELECT p.oid FROM pg_catalog.pg_proc p
					   WHERE p.pronamespace OPERATOR(pg_catalog.=) (SELECT pronamespace FROM pg_catalog.pg_proc WHERE oid OPERATOR(pg_catalog.=) old_put)
						 AND ((p.proname OPERATOR(pg_catalog.=) 'put' AND p.pronargs OPERATOR(pg_catalog.=) 5)
							  OR p.proname OPERATOR(pg_catalog.=) 'invalidate'
							  OR p.proname OPERATOR(pg_catalog.=) 'invalidate_trigger'
							  OR p.proname OPERATOR(pg_catalog.=) 'fetch')
		LOOP
			EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %s%s',
				target::pg_catalog.regprocedure,
				CASE WHEN g.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'
					 ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(g.grantee)) END,
				CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
		END LOOP;
	END LOOP;
END
$grants$;

DROP FUNCTION @extschema@.put(pg_catalog.text, pg_catalog.jsonb,
							  pg_catalog.interval, pg_catalog.regtype);

-- The statistics gain invalidations, stale_refusals, fetch_waits and
-- fetch_timeouts; entries gains tags.
DROP VIEW @extschema@.stats;
DROP FUNCTION @extschema@.cache_stats();
CREATE FUNCTION @extschema@.cache_stats(
	OUT entries pg_catalog.int8, OUT used_bytes pg_catalog.int8,
	OUT capacity_bytes pg_catalog.int8, OUT hits pg_catalog.int8,
	OUT misses pg_catalog.int8, OUT hit_ratio pg_catalog.float8,
	OUT puts pg_catalog.int8, OUT deletes pg_catalog.int8,
	OUT expirations pg_catalog.int8, OUT evictions pg_catalog.int8,
	OUT refusals pg_catalog.int8, OUT invalidations pg_catalog.int8,
	OUT stale_refusals pg_catalog.int8, OUT fetch_waits pg_catalog.int8,
	OUT fetch_timeouts pg_catalog.int8)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tc_cache_stats'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE ROWS 1;
CREATE VIEW @extschema@.stats AS
	SELECT * FROM @extschema@.cache_stats();
GRANT SELECT ON @extschema@.stats TO PUBLIC;

DROP VIEW @extschema@.shards;
DROP FUNCTION @extschema@.shard_stats();
CREATE FUNCTION @extschema@.shard_stats(
	OUT shard pg_catalog.int4,
	OUT entries pg_catalog.int8, OUT used_bytes pg_catalog.int8,
	OUT capacity_bytes pg_catalog.int8, OUT hits pg_catalog.int8,
	OUT misses pg_catalog.int8, OUT hit_ratio pg_catalog.float8,
	OUT puts pg_catalog.int8, OUT deletes pg_catalog.int8,
	OUT expirations pg_catalog.int8, OUT evictions pg_catalog.int8,
	OUT refusals pg_catalog.int8, OUT invalidations pg_catalog.int8,
	OUT stale_refusals pg_catalog.int8, OUT fetch_waits pg_catalog.int8,
	OUT fetch_timeouts pg_catalog.int8)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tc_cache_shard_stats'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE ROWS 16;
CREATE VIEW @extschema@.shards AS
	SELECT * FROM @extschema@.shard_stats();
GRANT SELECT ON @extschema@.shards TO PUBLIC;

-- entries: new function under a temporary name, grants carried over, old
-- view and function dropped, then the new ones take the old names.
CREATE FUNCTION @extschema@.cache_entries_1_1(
	OUT key pg_catalog.text, OUT value_bytes pg_catalog.int8,
	OUT type pg_catalog.regtype, OUT expires_at pg_catalog.timestamptz,
	OUT hits pg_catalog.int8, OUT tags pg_catalog.text[])
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tc_cache_entries'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
REVOKE ALL ON FUNCTION @extschema@.cache_entries_1_1() FROM PUBLIC;
CREATE VIEW @extschema@.entries_1_1 AS
	SELECT * FROM @extschema@.cache_entries_1_1();
REVOKE ALL ON @extschema@.entries_1_1 FROM PUBLIC;

DO $grants$
DECLARE
	g record;
BEGIN
	FOR g IN SELECT a.grantee, a.is_grantable
			   FROM pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) a
			  WHERE p.oid OPERATOR(pg_catalog.=) '@extschema@.cache_entries()'::pg_catalog.regprocedure
				AND a.privilege_type OPERATOR(pg_catalog.=) 'EXECUTE'
				AND a.grantee OPERATOR(pg_catalog.<>) p.proowner
	LOOP
		EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %s%s',
			'@extschema@.cache_entries_1_1()'::pg_catalog.regprocedure,
			CASE WHEN g.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'
				 ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(g.grantee)) END,
			CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
	END LOOP;
	FOR g IN SELECT a.grantee, a.privilege_type, a.is_grantable
			   FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
			  WHERE c.oid OPERATOR(pg_catalog.=) '@extschema@.entries'::pg_catalog.regclass
				AND a.grantee OPERATOR(pg_catalog.<>) c.relowner
	LOOP
		EXECUTE pg_catalog.format('GRANT %s ON %s TO %s%s',
			g.privilege_type,
			'@extschema@.entries_1_1'::pg_catalog.regclass,
			CASE WHEN g.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'
				 ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(g.grantee)) END,
			CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
	END LOOP;
END
$grants$;

DROP VIEW @extschema@.entries;
DROP FUNCTION @extschema@.cache_entries();
ALTER FUNCTION @extschema@.cache_entries_1_1() RENAME TO cache_entries;
ALTER VIEW @extschema@.entries_1_1 RENAME TO entries;
