/* typed_cache--1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION typed_cache" to load this file. \quit

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

/* ---- memory views (issue 4) go below this line ---- */
