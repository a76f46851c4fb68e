/* typed_cache--1.2--1.3.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION typed_cache UPDATE TO '1.3'" to load this file. \quit

/*
 * ------------------------------------------------------------------------
 * 1.3: coherence under two-phase commit and parallel queries.
 *
 * The readers see what their own transaction did: its pending puts, the
 * tags it invalidated and the keys it deleted.  That state lives in the
 * backend that runs the transaction, where a parallel worker cannot see
 * it, so the readers run in the leader only (PARALLEL RESTRICTED): a
 * query may still run in parallel, with these calls evaluated above the
 * Gather.
 * ------------------------------------------------------------------------
 */

ALTER FUNCTION @extschema@.get(pg_catalog.text) PARALLEL RESTRICTED;
ALTER FUNCTION @extschema@.get(pg_catalog.text, anyelement) PARALLEL RESTRICTED;
ALTER FUNCTION @extschema@.get_many(pg_catalog.text[]) PARALLEL RESTRICTED;
ALTER FUNCTION @extschema@.ttl(pg_catalog.text) PARALLEL RESTRICTED;
ALTER FUNCTION @extschema@.cache_entries() PARALLEL RESTRICTED;

/*
 * ------------------------------------------------------------------------
 * 1.3: typed_cache.status, one row that says whether the cache runs and
 * how it does: the extension's version, whether the library was preloaded
 * (only then does the cache exist), its memory, shards, entries and hit
 * ratio, and whether committed invalidations go to the WAL for hot
 * standbys (typed_cache.wal_invalidation on and wal_level above minimal).
 *
 * Without preloading the row is still there, with preloaded false and the
 * cache's columns NULL, instead of the 55000 of typed_cache.stats: the
 * statistics are read only when the settings that exist only when the
 * library was preloaded at server start are there (a typed_cache.shards
 * written in postgresql.conf without preloading is a placeholder, whose
 * context is not postmaster).  "Only when" rests on the executor, not on
 * the planner: a CASE evaluates its THEN branch only when the condition
 * holds, and the subqueries there read a materialized CTE that runs at its
 * first read (a join qual was gated on 15 but not on 18).
 * ------------------------------------------------------------------------
 */

CREATE VIEW @extschema@.status AS
	WITH p AS MATERIALIZED (
		SELECT EXISTS (SELECT FROM pg_catalog.pg_settings g
						WHERE g.name OPERATOR(pg_catalog.=) 'typed_cache.shards'
						  AND g.context OPERATOR(pg_catalog.=) 'postmaster')
			   AS preloaded
	), s AS MATERIALIZED (
		-- read once, and only if a CASE below asks: never without preloading
		SELECT c.entries, c.used_bytes, c.capacity_bytes, c.hit_ratio
		  FROM @extschema@.cache_stats() c
	)
	SELECT e.extversion AS version,
		   p.preloaded,
		   CASE WHEN p.preloaded THEN (SELECT s.used_bytes FROM s) END AS used_bytes,
		   CASE WHEN p.preloaded THEN (SELECT s.capacity_bytes FROM s) END AS capacity_bytes,
		   CASE WHEN p.preloaded
			   THEN pg_catalog.current_setting('typed_cache.shards')::pg_catalog.int4
		   END AS shards,
		   CASE WHEN p.preloaded THEN (SELECT s.entries FROM s) END AS entries,
		   CASE WHEN p.preloaded THEN (SELECT s.hit_ratio FROM s) END AS hit_ratio,
		   CASE WHEN p.preloaded
			   THEN pg_catalog.current_setting('typed_cache.wal_invalidation')::pg_catalog.bool
					AND pg_catalog.current_setting('wal_level')
						OPERATOR(pg_catalog.<>) 'minimal'
		   END AS wal_invalidation
	  FROM pg_catalog.pg_extension e, p
	 WHERE e.extname OPERATOR(pg_catalog.=) 'typed_cache';
GRANT SELECT ON @extschema@.status TO PUBLIC;
