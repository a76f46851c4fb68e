/*-------------------------------------------------------------------------
 *
 * project_options.c
 *	  Projection options of composite types: parsing them, and reading a
 *	  type's registration from typed_cache.registrations.
 *
 * The options are a jsonb object ("fields", "unknown_keys", "naming",
 * "coerce"); they are parsed into a TcTypeOptions for the plan builder
 * (project_plan.c), which checks them against the type.  A plan is rebuilt
 * from the table whenever it is needed again; typed_cache.register() and
 * unregister() (project_registry.c) write the table.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/project_options.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/skey.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "compat.h"
#include "project_options.h"
#include "project_path.h"

/* The extension's schema, and its table of registrations. */
#define TYPED_CACHE_SCHEMA "typed_cache"
#define TC_REGISTRATIONS "registrations"

/*
 * tc_option_error
 *		Raise 22023 for an invalid option.
 */
TC_NORETURN static void
tc_option_error(Oid typid, const char *msg, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid typed_cache options for type %s: %s",
					format_type_be(typid), msg),
			 detail ? errdetail_internal("%s", detail) : 0,
			 errhint("Valid options are \"fields\", \"unknown_keys\" (\"ignore\" or \"error\"), \"naming\" (\"exact\", \"case_insensitive\" or \"camel_to_snake\") and \"coerce\" (a boolean); each field takes \"path\", \"required\", \"default\" and \"coerce\".")));
}

static char *
tc_key_string(const JsonbValue *k)
{
	return pnstrdup(k->val.string.val, k->val.string.len);
}

/*
 * tc_get_choice
 *		The index in choices[] of an option's string value, or an error
 *		with message msg.
 */
static int
tc_get_choice(Oid typid, const JsonbValue *v, const char *const *choices,
			  int nchoices, const char *msg)
{
	if (v->type == jbvString)
	{
		char	   *s = tc_key_string(v);
		int			i;

		for (i = 0; i < nchoices; i++)
			if (strcmp(s, choices[i]) == 0)
				return i;
	}
	tc_option_error(typid, msg, NULL);
}

/*
 * tc_get_bool
 *		The boolean value of option name, or an error.
 */
static bool
tc_get_bool(Oid typid, const char *name, const JsonbValue *v)
{
	if (v->type != jbvBool)
		tc_option_error(typid, psprintf("\"%s\" must be a boolean", name),
						NULL);
	return v->val.boolean;
}

/*
 * tc_jsonb_of
 *		A standalone jsonb copy of the value v.
 */
static Jsonb *
tc_jsonb_of(const JsonbValue *v)
{
	return JsonbValueToJsonb((JsonbValue *) v);
}

/*
 * tc_parse_field
 *		Parse the options of one field: an object with "path", "required",
 *		"default" and "coerce".
 */
static void
tc_parse_field(Oid typid, const char *name, const JsonbValue *val,
			   TcFieldOptions *fo)
{
	JsonbIterator *it;
	JsonbValue	k;
	JsonbValue	v;
	JsonbIteratorToken tok;
	bool		has_default = false;

	memset(fo, 0, sizeof(*fo));
	fo->name = pstrdup(name);
	fo->coerce = -1;

	if (val->type != jbvBinary || !JsonContainerIsObject(val->val.binary.data))
		tc_option_error(typid,
						psprintf("the options of field \"%s\" must be a JSON object", name),
						NULL);

	it = JsonbIteratorInit(val->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		char	   *key;

		if (tok != WJB_KEY)
			continue;
		key = tc_key_string(&k);
		tok = JsonbIteratorNext(&it, &v, true);
		if (strcmp(key, "path") == 0)
		{
			char	  **segs;
			int		   *lens;
			int			nsegs;

			if (v.type != jbvString)
				tc_option_error(typid,
								psprintf("\"path\" of field \"%s\" must be a string", name),
								NULL);
			fo->path = tc_key_string(&v);
			if (!tc_split_path(fo->path, &segs, &lens, &nsegs))
				tc_option_error(typid,
								psprintf("invalid path \"%s\" for field \"%s\"",
										 fo->path, name),
								"A path is a list of keys separated by dots, such as data.user.id; a key containing a dot is written in double quotes.");
		}
		else if (strcmp(key, "required") == 0)
			fo->required = tc_get_bool(typid, "required", &v);
		else if (strcmp(key, "coerce") == 0)
			fo->coerce = tc_get_bool(typid, "coerce", &v) ? 1 : 0;
		else if (strcmp(key, "default") == 0)
		{
			has_default = true;
			fo->defval = tc_jsonb_of(&v);
		}
		else
			tc_option_error(typid,
							psprintf("unknown option \"%s\" for field \"%s\"",
									 key, name),
							NULL);
	}
	if (fo->required && has_default)
		tc_option_error(typid,
						psprintf("field \"%s\" cannot be both required and have a default",
								 name),
						NULL);
}

/*
 * tc_parse_options
 *		Parse a registration's options.  Attribute names are checked later,
 *		against the type, by tc_build_plan().
 */
void
tc_parse_options(Oid typid, Jsonb *options, TcTypeOptions *opts)
{
	JsonbIterator *it;
	JsonbValue	k;
	JsonbValue	v;
	JsonbIteratorToken tok;

	memset(opts, 0, sizeof(*opts));
	if (!JB_ROOT_IS_OBJECT(options))
		tc_option_error(typid, "options must be a JSON object", NULL);

	it = JsonbIteratorInit(&options->root);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		char	   *key;

		if (tok != WJB_KEY)
			continue;
		key = tc_key_string(&k);
		tok = JsonbIteratorNext(&it, &v, true);

		if (strcmp(key, "coerce") == 0)
			opts->coerce = tc_get_bool(typid, "coerce", &v);
		else if (strcmp(key, "unknown_keys") == 0)
		{
			static const char *const choices[] = {"ignore", "error"};

			opts->unknown_error =
				tc_get_choice(typid, &v, choices, lengthof(choices),
							  "\"unknown_keys\" must be \"ignore\" or \"error\"") == 1;
		}
		else if (strcmp(key, "naming") == 0)
		{
			static const char *const choices[] = {
				"exact", "case_insensitive", "camel_to_snake"
			};
			static const TcNaming namings[] = {
				TC_NAMING_EXACT, TC_NAMING_CASE_INSENSITIVE,
				TC_NAMING_CAMEL_TO_SNAKE
			};

			opts->naming =
				namings[tc_get_choice(typid, &v, choices, lengthof(choices),
									  "\"naming\" must be \"exact\", \"case_insensitive\" or \"camel_to_snake\"")];
		}
		else if (strcmp(key, "fields") == 0)
		{
			JsonbIterator *fit;
			JsonbValue	fk;
			JsonbValue	fv;
			int			n;

			if (v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data))
				tc_option_error(typid, "\"fields\" must be a JSON object",
								NULL);
			n = JsonContainerSize(v.val.binary.data);
			opts->fields = palloc0(sizeof(TcFieldOptions) * Max(n, 1));
			fit = JsonbIteratorInit(v.val.binary.data);
			while ((tok = JsonbIteratorNext(&fit, &fk, true)) != WJB_DONE)
			{
				if (tok != WJB_KEY)
					continue;
				tok = JsonbIteratorNext(&fit, &fv, true);
				tc_parse_field(typid, tc_key_string(&fk), &fv,
							   &opts->fields[opts->nfields++]);
			}
		}
		else
			tc_option_error(typid, psprintf("unknown option \"%s\"", key),
							NULL);
	}
}

/*
 * tc_registrations_relid
 *		OID of typed_cache.registrations, InvalidOid if the extension is not
 *		installed in this database.
 */
Oid
tc_registrations_relid(void)
{
	Oid			nsp = get_namespace_oid(TYPED_CACHE_SCHEMA, true);

	if (!OidIsValid(nsp))
		return InvalidOid;
	return get_relname_relid(TC_REGISTRATIONS, nsp);
}

/*
 * tc_lookup_registration
 *		Fill opts from typid's registration; false if it has none.
 */
bool
tc_lookup_registration(Oid typid, TcTypeOptions *opts)
{
	Oid			relid = tc_registrations_relid();
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tuple;
	bool		found = false;

	memset(opts, 0, sizeof(*opts));
	if (!OidIsValid(relid))
		return false;

	rel = table_open(relid, AccessShareLock);
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(typid));
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 1, &key);
	if (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		d = heap_getattr(tuple, 2, RelationGetDescr(rel), &isnull);

		if (!isnull)
		{
			tc_parse_options(typid, DatumGetJsonbPCopy(d), opts);
			found = true;
		}
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}
