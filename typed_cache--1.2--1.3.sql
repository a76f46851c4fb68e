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
