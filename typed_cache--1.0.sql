/* typed_cache--1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION typed_cache" to load this file. \quit

/*
 * Refuse a schema that someone else could have prepared.  CREATE EXTENSION
 * reuses an existing schema named in the control file; if another role owns
 * it, or may create objects in it, or it already holds objects, that role
 * could place functions there that win over ours (say put(text, text) for
 * untyped literals) and have them run by whoever calls typed_cache's
 * functions, superusers included (the class of CVE-2022-2625).  The schema
 * CREATE EXTENSION makes itself belongs to the installing role and is empty.
 * During the script, current_schema() is the extension's schema.
 */
DO $guard$
DECLARE
	nsp		pg_catalog.oid;
	owner	pg_catalog.oid;
	me		pg_catalog.oid;
BEGIN
	SELECT n.oid, n.nspowner INTO nsp, owner
	  FROM pg_catalog.pg_namespace n
	 WHERE n.nspname OPERATOR(pg_catalog.=) pg_catalog.current_schema();
	SELECT r.oid INTO me
	  FROM pg_catalog.pg_roles r
	 WHERE r.rolname OPERATOR(pg_catalog.=) pg_catalog."current_user"();
	IF owner OPERATOR(pg_catalog.<>) me THEN
		RAISE EXCEPTION 'cannot install typed_cache into schema "%" owned by role "%"',
			pg_catalog.current_schema(), pg_catalog.pg_get_userbyid(owner)
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'The schema existed before CREATE EXTENSION and belongs to another role, who could add objects that typed_cache''s callers would run.',
				  HINT = 'Drop or rename that schema (after checking what it holds), then run CREATE EXTENSION again; it creates the schema itself.';
	END IF;
	IF EXISTS (SELECT FROM pg_catalog.pg_namespace n,
					  pg_catalog.aclexplode(n.nspacl) a
				WHERE n.oid OPERATOR(pg_catalog.=) nsp
				  AND a.privilege_type OPERATOR(pg_catalog.=) 'CREATE'
				  AND a.grantee OPERATOR(pg_catalog.<>) me) THEN
		RAISE EXCEPTION 'cannot install typed_cache into schema "%" in which other roles may create objects',
			pg_catalog.current_schema()
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'Revoke CREATE on the schema from every other role, or drop the schema and let CREATE EXTENSION create it.';
	END IF;
	IF EXISTS (SELECT FROM pg_catalog.pg_class c WHERE c.relnamespace OPERATOR(pg_catalog.=) nsp)
	   OR EXISTS (SELECT FROM pg_catalog.pg_proc p WHERE p.pronamespace OPERATOR(pg_catalog.=) nsp)
	   OR EXISTS (SELECT FROM pg_catalog.pg_type t WHERE t.typnamespace OPERATOR(pg_catalog.=) nsp)
	   OR EXISTS (SELECT FROM pg_catalog.pg_operator o WHERE o.oprnamespace OPERATOR(pg_catalog.=) nsp)
	   OR EXISTS (SELECT FROM pg_catalog.pg_collation c WHERE c.collnamespace OPERATOR(pg_catalog.=) nsp)
	   OR EXISTS (SELECT FROM pg_catalog.pg_conversion c WHERE c.connamespace OPERATOR(pg_catalog.=) nsp)
	   OR EXISTS (SELECT FROM pg_catalog.pg_opfamily f WHERE f.opfnamespace OPERATOR(pg_catalog.=) nsp)
	   OR EXISTS (SELECT FROM pg_catalog.pg_ts_config c WHERE c.cfgnamespace OPERATOR(pg_catalog.=) nsp)
	   OR EXISTS (SELECT FROM pg_catalog.pg_ts_dict d WHERE d.dictnamespace OPERATOR(pg_catalog.=) nsp)
	   OR EXISTS (SELECT FROM pg_catalog.pg_statistic_ext s WHERE s.stxnamespace OPERATOR(pg_catalog.=) nsp) THEN
		RAISE EXCEPTION 'cannot install typed_cache into schema "%" because it already contains objects',
			pg_catalog.current_schema()
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Install typed_cache into a new schema: drop this one or move its objects elsewhere.';
	END IF;
END
$guard$;

/*
 * ------------------------------------------------------------------------
 * Typed projection (src/project.c, src/project_convert.c, src/registry.c)
 * ------------------------------------------------------------------------
 */

GRANT USAGE ON SCHEMA @extschema@ TO PUBLIC;

-- Registered composite types and their projection options.  pg_dump keeps
-- the rows (pg_extension_config_dump); register() and unregister() are the
-- supported way to change them.
CREATE TABLE @extschema@.registrations (
	type_oid	pg_catalog.regtype PRIMARY KEY,
	options		pg_catalog.jsonb NOT NULL,
	registered_at pg_catalog.timestamptz NOT NULL
		DEFAULT pg_catalog.now(),
	registered_by pg_catalog.name NOT NULL
		DEFAULT pg_catalog."current_user"()
);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.registrations', '');
REVOKE ALL ON @extschema@.registrations FROM PUBLIC;
GRANT SELECT ON @extschema@.registrations TO PUBLIC;

CREATE FUNCTION @extschema@.project(doc pg_catalog.jsonb, target anyelement)
RETURNS anyelement
AS 'MODULE_PATHNAME', 'project'
LANGUAGE C STABLE PARALLEL SAFE;

CREATE FUNCTION @extschema@.project_set(docs pg_catalog.jsonb,
										target anyelement)
RETURNS SETOF anyelement
AS 'MODULE_PATHNAME', 'project_set'
LANGUAGE C STABLE PARALLEL SAFE ROWS 100;

CREATE FUNCTION @extschema@.register(target pg_catalog.regtype,
									 options pg_catalog.jsonb DEFAULT '{}')
RETURNS void
AS 'MODULE_PATHNAME', 'tc_register'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE FUNCTION @extschema@.unregister(target pg_catalog.regtype)
RETURNS boolean
AS 'MODULE_PATHNAME', 'tc_unregister'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

CREATE VIEW @extschema@.registered_types AS
	SELECT r.type_oid AS type,
		   r.options,
		   r.registered_at,
		   r.registered_by
	  FROM @extschema@.registrations r;
GRANT SELECT ON @extschema@.registered_types TO PUBLIC;

-- A dropped type loses its registration (its OID could be reused later).
CREATE FUNCTION @extschema@.drop_registrations()
RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	DELETE FROM @extschema@.registrations r
	 WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type t
						WHERE t.oid OPERATOR(pg_catalog.=) r.type_oid);
END
$$;
REVOKE ALL ON FUNCTION @extschema@.drop_registrations() FROM PUBLIC;
CREATE EVENT TRIGGER typed_cache_drop_registrations ON sql_drop
	EXECUTE FUNCTION @extschema@.drop_registrations();

/* ---- cache (issue 3) goes below this line ---- */

/*
 * ------------------------------------------------------------------------
 * Shared-memory cache (src/cache.c, src/cache_shard.c).  Every function
 * needs shared_preload_libraries = 'typed_cache' and raises 55000 without.
 * Writers and anything listing keys are revoked from PUBLIC; reads of a
 * known key and aggregate sizes stay public.
 * ------------------------------------------------------------------------
 */

CREATE FUNCTION @extschema@.put(key pg_catalog.text, value pg_catalog.jsonb,
								ttl pg_catalog.interval DEFAULT NULL,
								type pg_catalog.regtype DEFAULT NULL)
RETURNS pg_catalog.jsonb
AS 'MODULE_PATHNAME', 'tc_cache_put'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE FUNCTION @extschema@.get(key pg_catalog.text)
RETURNS pg_catalog.jsonb
AS 'MODULE_PATHNAME', 'tc_cache_get'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.get(key pg_catalog.text, target anyelement)
RETURNS anyelement
AS 'MODULE_PATHNAME', 'tc_cache_get_typed'
LANGUAGE C VOLATILE PARALLEL SAFE;

CREATE FUNCTION @extschema@.get_many(keys pg_catalog.text[])
RETURNS TABLE(key pg_catalog.text, value pg_catalog.jsonb)
AS 'MODULE_PATHNAME', 'tc_cache_get_many'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE ROWS 10;

CREATE FUNCTION @extschema@.delete(key pg_catalog.text)
RETURNS pg_catalog.bool
AS 'MODULE_PATHNAME', 'tc_cache_delete'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

CREATE FUNCTION @extschema@.touch(key pg_catalog.text,
								  ttl pg_catalog.interval)
RETURNS pg_catalog.bool
AS 'MODULE_PATHNAME', 'tc_cache_touch'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE FUNCTION @extschema@.ttl(key pg_catalog.text)
RETURNS pg_catalog.interval
AS 'MODULE_PATHNAME', 'tc_cache_ttl'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.evict_expired(max_entries pg_catalog.int8
										  DEFAULT NULL)
RETURNS pg_catalog.int8
AS 'MODULE_PATHNAME', 'tc_cache_evict_expired'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE FUNCTION @extschema@.clear()
RETURNS pg_catalog.int8
AS 'MODULE_PATHNAME', 'tc_cache_clear'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE FUNCTION @extschema@.cache_stats(
	OUT entries pg_catalog.int8, OUT used_bytes pg_catalog.int8,
	OUT capacity_bytes pg_catalog.int8, OUT hits pg_catalog.int8,
	OUT misses pg_catalog.int8, OUT hit_ratio pg_catalog.float8,
	OUT puts pg_catalog.int8, OUT deletes pg_catalog.int8,
	OUT expirations pg_catalog.int8, OUT evictions pg_catalog.int8,
	OUT refusals pg_catalog.int8)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tc_cache_stats'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE ROWS 1;

CREATE VIEW @extschema@.stats AS
	SELECT * FROM @extschema@.cache_stats();
GRANT SELECT ON @extschema@.stats TO PUBLIC;

CREATE FUNCTION @extschema@.shard_stats(
	OUT shard pg_catalog.int4,
	OUT entries pg_catalog.int8, OUT used_bytes pg_catalog.int8,
	OUT capacity_bytes pg_catalog.int8, OUT hits pg_catalog.int8,
	OUT misses pg_catalog.int8, OUT hit_ratio pg_catalog.float8,
	OUT puts pg_catalog.int8, OUT deletes pg_catalog.int8,
	OUT expirations pg_catalog.int8, OUT evictions pg_catalog.int8,
	OUT refusals pg_catalog.int8)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tc_cache_shard_stats'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE ROWS 16;

CREATE VIEW @extschema@.shards AS
	SELECT * FROM @extschema@.shard_stats();
GRANT SELECT ON @extschema@.shards TO PUBLIC;

CREATE FUNCTION @extschema@.stats_reset()
RETURNS void
AS 'MODULE_PATHNAME', 'tc_cache_stats_reset'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE FUNCTION @extschema@.cache_entries(
	OUT key pg_catalog.text, OUT value_bytes pg_catalog.int8,
	OUT type pg_catalog.regtype, OUT expires_at pg_catalog.timestamptz,
	OUT hits pg_catalog.int8)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tc_cache_entries'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

CREATE VIEW @extschema@.entries AS
	SELECT * FROM @extschema@.cache_entries();

CREATE FUNCTION @extschema@.cache_memory_shards(
	OUT shard pg_catalog.int4, OUT capacity_bytes pg_catalog.int8,
	OUT used_bytes pg_catalog.int8, OUT free_bytes pg_catalog.int8,
	OUT largest_free_bytes pg_catalog.int8, OUT entries pg_catalog.int8,
	OUT expired_entries pg_catalog.int8)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'tc_cache_memory'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE ROWS 16;

CREATE VIEW @extschema@.cache_memory AS
	SELECT * FROM @extschema@.cache_memory_shards();
GRANT SELECT ON @extschema@.cache_memory TO PUBLIC;

REVOKE ALL ON FUNCTION @extschema@.put(pg_catalog.text, pg_catalog.jsonb,
									   pg_catalog.interval,
									   pg_catalog.regtype) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.delete(pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.touch(pg_catalog.text,
										 pg_catalog.interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.clear() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.evict_expired(pg_catalog.int8) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.stats_reset() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.cache_entries() FROM PUBLIC;
REVOKE ALL ON @extschema@.entries FROM PUBLIC;


/* ---- memory views (issue 4) go below this line ---- */

/*
 * ------------------------------------------------------------------------
 * Memory views (src/memstats.c, src/memstats_contexts.c,
 * src/memstats_convergence.c)
 * ------------------------------------------------------------------------
 */

-- The calling backend's memory contexts.  Like pg_backend_memory_contexts,
-- idents can show query texts, so only pg_read_all_stats may read them.
CREATE FUNCTION @extschema@.get_memory_contexts(
	OUT name pg_catalog.text,
	OUT ident pg_catalog.text,
	OUT type pg_catalog.text,
	OUT level pg_catalog.int4,
	OUT path pg_catalog.text,
	OUT parent pg_catalog.text,
	OUT total_bytes pg_catalog.int8,
	OUT used_bytes pg_catalog.int8,
	OUT free_bytes pg_catalog.int8,
	OUT free_chunks pg_catalog.int8,
	OUT nblocks pg_catalog.int8)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'get_memory_contexts'
LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;

CREATE VIEW @extschema@.memory_contexts AS
	SELECT * FROM @extschema@.get_memory_contexts();

REVOKE ALL ON FUNCTION @extschema@.get_memory_contexts() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.get_memory_contexts()
	TO pg_read_all_stats;
REVOKE ALL ON @extschema@.memory_contexts FROM PUBLIC;
GRANT SELECT ON @extschema@.memory_contexts TO pg_read_all_stats;

-- Snapshots of the calling backend's context tree, kept for the session.
-- They hold context names and byte counts of the caller's own backend.
CREATE FUNCTION @extschema@.memory_snapshot(label pg_catalog.text DEFAULT NULL)
RETURNS pg_catalog.text
AS 'MODULE_PATHNAME', 'memory_snapshot'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE FUNCTION @extschema@.memory_snapshot_drop(label pg_catalog.text)
RETURNS void
AS 'MODULE_PATHNAME', 'memory_snapshot_drop'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

CREATE FUNCTION @extschema@.get_memory_snapshots(
	OUT label pg_catalog.text,
	OUT taken_at pg_catalog.timestamptz,
	OUT total_bytes pg_catalog.int8,
	OUT contexts pg_catalog.int8)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'get_memory_snapshots'
LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;

CREATE VIEW @extschema@.memory_snapshots AS
	SELECT * FROM @extschema@.get_memory_snapshots();
GRANT SELECT ON @extschema@.memory_snapshots TO PUBLIC;

CREATE FUNCTION @extschema@.memory_growth(from_label pg_catalog.text,
										  to_label pg_catalog.text DEFAULT NULL)
RETURNS TABLE(path pg_catalog.text,
			  name pg_catalog.text,
			  before_bytes pg_catalog.int8,
			  after_bytes pg_catalog.int8,
			  delta_bytes pg_catalog.int8,
			  delta_pct pg_catalog.float8,
			  status pg_catalog.text)
AS 'MODULE_PATHNAME', 'memory_growth'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;

-- Every backend's last published figures.  Everybody may call it: the C
-- function shows other roles' backends only to pg_read_all_stats, as
-- pg_stat_activity does.
CREATE FUNCTION @extschema@.get_backend_memory(
	OUT pid pg_catalog.int4,
	OUT datname pg_catalog.text,
	OUT usename pg_catalog.text,
	OUT backend_type pg_catalog.text,
	OUT allocated_bytes pg_catalog.int8,
	OUT peak_bytes pg_catalog.int8,
	OUT first_bytes pg_catalog.int8,
	OUT growth_bytes pg_catalog.int8,
	OUT top_context pg_catalog.text,
	OUT top_context_bytes pg_catalog.int8,
	OUT published_at pg_catalog.timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'get_backend_memory'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

CREATE VIEW @extschema@.backend_memory AS
	SELECT * FROM @extschema@.get_backend_memory();
GRANT SELECT ON @extschema@.backend_memory TO PUBLIC;

-- Runs arbitrary SQL as the caller, in the caller's backend.
CREATE FUNCTION @extschema@.check_convergence(sql pg_catalog.text,
											  iterations pg_catalog.int4 DEFAULT 10,
											  warmup pg_catalog.int4 DEFAULT 2,
											  tolerance pg_catalog.float8 DEFAULT 0.01)
RETURNS TABLE(iteration pg_catalog.int4,
			  allocated_bytes pg_catalog.int8,
			  delta_bytes pg_catalog.int8,
			  verdict pg_catalog.text)
AS 'MODULE_PATHNAME', 'check_convergence'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;

-- History of backend_memory, appended by sample_memory().  These are
-- observations of processes of this server, meaningless after a restore,
-- so pg_dump does not keep them (no pg_extension_config_dump).
CREATE TABLE @extschema@.memory_history (
	sampled_at	pg_catalog.timestamptz NOT NULL,
	pid			pg_catalog.int4 NOT NULL,
	backend_start pg_catalog.timestamptz,
	datname		pg_catalog.text,
	usename		pg_catalog.text,
	backend_type pg_catalog.text NOT NULL,
	allocated_bytes pg_catalog.int8 NOT NULL,
	peak_bytes	pg_catalog.int8 NOT NULL,
	first_bytes pg_catalog.int8 NOT NULL,
	growth_bytes pg_catalog.int8 NOT NULL,
	top_context pg_catalog.text,
	top_context_bytes pg_catalog.int8,
	published_at pg_catalog.timestamptz NOT NULL
);
CREATE INDEX memory_history_sampled_at_idx
	ON @extschema@.memory_history (sampled_at);
REVOKE ALL ON @extschema@.memory_history FROM PUBLIC;
GRANT SELECT ON @extschema@.memory_history TO pg_read_all_stats;

-- Appends one row per backend visible in backend_memory, then deletes rows
-- older than typed_cache.memory_history_retention (0 keeps everything).
-- Returns the number of rows appended.
CREATE FUNCTION @extschema@.sample_memory()
RETURNS pg_catalog.int4
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	appended	pg_catalog.int4;
	retention	pg_catalog.int4;
BEGIN
	INSERT INTO @extschema@.memory_history
		(sampled_at, pid, backend_start, datname, usename, backend_type,
		 allocated_bytes, peak_bytes, first_bytes, growth_bytes,
		 top_context, top_context_bytes, published_at)
	SELECT pg_catalog.now(), b.pid, a.backend_start, b.datname, b.usename,
		   b.backend_type, b.allocated_bytes, b.peak_bytes, b.first_bytes,
		   b.growth_bytes, b.top_context, b.top_context_bytes,
		   b.published_at
	  FROM @extschema@.backend_memory b
	  LEFT JOIN pg_catalog.pg_stat_activity a
		ON a.pid OPERATOR(pg_catalog.=) b.pid;
	GET DIAGNOSTICS appended = ROW_COUNT;

	SELECT CAST(s.setting AS pg_catalog.int4) INTO retention
	  FROM pg_catalog.pg_settings s
	 WHERE s.name OPERATOR(pg_catalog.=) 'typed_cache.memory_history_retention';
	IF retention OPERATOR(pg_catalog.>) 0 THEN
		DELETE FROM @extschema@.memory_history
		 WHERE sampled_at OPERATOR(pg_catalog.<)
			   (pg_catalog.now() OPERATOR(pg_catalog.-)
				pg_catalog.make_interval(secs => retention));
	END IF;

	RETURN appended;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.sample_memory() FROM PUBLIC;

-- Per backend (pid and start time) over the history: samples, bytes at
-- the oldest and latest sample and the least-squares growth rate.
CREATE VIEW @extschema@.memory_trend AS
	SELECT h.pid,
		   h.backend_start,
		   h.datname,
		   h.usename,
		   h.backend_type,
		   pg_catalog.count(*) AS samples,
		   pg_catalog.min(h.sampled_at) AS first_sampled_at,
		   pg_catalog.max(h.sampled_at) AS last_sampled_at,
		   (pg_catalog.array_agg(h.allocated_bytes
								 ORDER BY h.sampled_at))[1] AS oldest_bytes,
		   (pg_catalog.array_agg(h.allocated_bytes
								 ORDER BY h.sampled_at DESC))[1] AS latest_bytes,
		   pg_catalog.max(h.peak_bytes) AS peak_bytes,
		   pg_catalog.regr_slope(
			   CAST(h.allocated_bytes AS pg_catalog.float8),
			   (pg_catalog.date_part('epoch', h.sampled_at)
				OPERATOR(pg_catalog./) 60)) AS bytes_per_minute
	  FROM @extschema@.memory_history h
	 GROUP BY h.pid, h.backend_start, h.datname, h.usename, h.backend_type;
REVOKE ALL ON @extschema@.memory_trend FROM PUBLIC;
GRANT SELECT ON @extschema@.memory_trend TO pg_read_all_stats;
