/* typed_cache--1.1--1.2.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION typed_cache UPDATE TO '1.2'" to load this file. \quit

/*
 * ------------------------------------------------------------------------
 * 1.2: invalidations reach hot standbys through the WAL
 * (src/coherence_wal.c).  The statistics gain the server-wide figures of
 * it: escalations (invalidating transactions that escalated to their whole
 * database, committed or replayed here), wal_written and wal_replayed
 * (typed_cache's WAL records written and replayed by this server) and
 * wal_replay_lsn (where the last one replayed starts).
 * ------------------------------------------------------------------------
 */

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
	OUT fetch_timeouts pg_catalog.int8, OUT escalations pg_catalog.int8,
	OUT wal_written pg_catalog.int8, OUT wal_replayed pg_catalog.int8,
	OUT wal_replay_lsn pg_catalog.pg_lsn)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tc_cache_stats'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE ROWS 1;
CREATE VIEW @extschema@.stats AS
	SELECT * FROM @extschema@.cache_stats();
GRANT SELECT ON @extschema@.stats TO PUBLIC;
