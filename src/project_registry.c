/*-------------------------------------------------------------------------
 *
 * project_registry.c
 *	  typed_cache.register() and typed_cache.unregister(): projection
 *	  options of composite types, kept in typed_cache.registrations.
 *
 * Options are validated when they are registered, by parsing them
 * (project_options.c) and compiling a plan with them (project_plan.c); a
 * plan is rebuilt from the table whenever it is needed again.  Registering
 * or unregistering a type sends a relcache invalidation for the type's
 * relation, which every backend's plan cache (project_plan.c) watches, so
 * that the change applies to the next call in every session.
 *
 * Only the owner of a type may change its registration.  The table itself
 * is writable only by its owner (the extension's owner): register() checks
 * ownership of the type as the caller, then writes as the table's owner.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/project_registry.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "compat.h"
#include "project_options.h"
#include "project_plan.h"

PG_FUNCTION_INFO_V1(tc_register);
PG_FUNCTION_INFO_V1(tc_unregister);

/*
 * tc_check_registrable
 *		Common checks of register() and unregister(): a composite type (not
 *		a domain) that the caller owns.  Returns the type's relation.
 */
static Oid
tc_check_registrable(Oid typid)
{
	if (!OidIsValid(typid))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("no type given"),
				 errhint("Pass the name of a composite type, for example 'my_type'.")));
	tc_check_composite(typid);
	if (getBaseType(typid) != typid)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("cannot register domain %s", format_type_be(typid)),
				 errhint("Register the composite type the domain is based on.")));
	if (!tc_type_ownercheck(typid, GetUserId()))
		aclcheck_error_type(ACLCHECK_NOT_OWNER, typid);

	/*
	 * A temporary type disappears with its session without firing sql_drop,
	 * which would leave its registration behind for a later type of the
	 * same OID.
	 */
	if (isAnyTempNamespace(get_rel_namespace(get_typ_typrelid(typid))))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot register temporary type %s", format_type_be(typid)),
				 errdetail("A temporary type goes away with its session, and its registration would outlive it."),
				 errhint("Register a type of a permanent schema; temporary types can be projected without registration.")));
	return get_typ_typrelid(typid);
}

/*
 * tc_write_registration
 *		Run sql with args as the owner of typed_cache.registrations, then
 *		tell every backend that typid's plans are stale.  Returns the number
 *		of rows processed.
 */
static uint64
tc_write_registration(Oid typid, const char *sql, int nargs, Oid *argtypes,
					  Datum *args)
{
	Oid			relid = tc_registrations_relid();
	Oid			save_userid;
	int			save_sec_context;
	HeapTuple	reltup;
	Oid			owner;
	int			ret;
	uint64		processed;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("table typed_cache.registrations does not exist"),
				 errhint("Run CREATE EXTENSION typed_cache in this database.")));
	reltup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(reltup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(reltup))->relowner;
	ReleaseSysCache(reltup);

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(owner,
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_with_args(sql, nargs, argtypes, args, NULL, false, 0);
	if (ret < 0)
		elog(ERROR, "SPI_execute_with_args failed: %s",
			 SPI_result_code_string(ret));
	processed = SPI_processed;
	SPI_finish();
	SetUserIdAndSecContext(save_userid, save_sec_context);

	CacheInvalidateRelcacheByRelid(get_typ_typrelid(typid));
	CommandCounterIncrement();
	return processed;
}

/*
 * tc_register
 *		typed_cache.register(target regtype, options jsonb DEFAULT '{}')
 *		RETURNS void
 */
Datum
tc_register(PG_FUNCTION_ARGS)
{
	Oid			typid;
	Jsonb	   *options;
	TcTypeOptions opts;
	MemoryContext cxt;
	MemoryContext oldcxt;
	Oid			argtypes[3] = {OIDOID, JSONBOID, NAMEOID};
	Datum		args[3];

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("target type must not be NULL")));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("options must not be NULL"),
				 errhint("Pass '{}' for a registration without options.")));
	typid = PG_GETARG_OID(0);
	options = PG_GETARG_JSONB_P(1);

	(void) tc_check_registrable(typid);

	/* Validate by compiling a plan with the options; then forget it. */
	cxt = AllocSetContextCreate(CurrentMemoryContext, "typed_cache register",
								ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(cxt);
	tc_parse_options(typid, options, &opts);
	(void) tc_build_plan(typid, &opts);
	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(cxt);

	args[0] = ObjectIdGetDatum(typid);
	args[1] = JsonbPGetDatum(options);
	args[2] = NameGetDatum(DatumGetName(DirectFunctionCall1(namein,
															CStringGetDatum(GetUserNameFromId(GetUserId(), false)))));
	tc_write_registration(typid,
						  "INSERT INTO typed_cache.registrations AS r "
						  "(type_oid, options, registered_by) "
						  "VALUES ($1::pg_catalog.regtype, $2, $3) "
						  "ON CONFLICT (type_oid) DO UPDATE SET "
						  "options = excluded.options, "
						  "registered_at = pg_catalog.now(), "
						  "registered_by = excluded.registered_by",
						  3, argtypes, args);
	PG_RETURN_VOID();
}

/*
 * tc_unregister
 *		typed_cache.unregister(target regtype) RETURNS boolean: true if the
 *		type was registered.
 */
Datum
tc_unregister(PG_FUNCTION_ARGS)
{
	Oid			typid = PG_GETARG_OID(0);
	Oid			argtypes[1] = {OIDOID};
	Datum		args[1];

	(void) tc_check_registrable(typid);
	args[0] = ObjectIdGetDatum(typid);
	PG_RETURN_BOOL(tc_write_registration(typid,
										 "DELETE FROM typed_cache.registrations "
										 "WHERE type_oid OPERATOR(pg_catalog.=) $1::pg_catalog.regtype",
										 1, argtypes, args) > 0);
}
