/*-------------------------------------------------------------------------
 *
 * project_plan.c
 *	  Conversion plans of typed_cache.project(): compiling them from the
 *	  catalog and the registered options, caching them per backend, and
 *	  dropping them when the types they were built from change.
 *
 * A plan is compiled once per type per backend and kept in a hash table
 * keyed by type OID.  Each cache entry records the relations (composite
 * types' pg_class rows) its plan was built from, its own and those of every
 * nested composite; a relcache invalidation of any of them (ALTER TYPE,
 * DROP TYPE, and register()/unregister(), which send one on purpose) drops
 * the entry and bumps a generation counter that every caller compares
 * against before reusing the plan pointer it keeps in fn_extra.  Dropped
 * entries are freed only at transaction end, so a plan that is in use when
 * an invalidation arrives in the middle of a row stays readable.
 *
 * A plan keeps its field keys sorted as jsonb stores an object's keys
 * (shorter first, then bytewise: tc_key_cmp()), for the executor's
 * one-pass match (project_exec.c).  Defaults given in the options are
 * converted once when the plan is compiled, so that a bad default is an
 * error of register(), not of the first document that lacks the key.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/project_plan.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "project_exec.h"
#include "project_form.h"
#include "project_options.h"
#include "project_path.h"
#include "project_plan.h"

/* One cached conversion for a composite type or a domain over one. */
typedef struct TcCacheEntry
{
	Oid			typid;			/* hash key */
	MemoryContext cxt;			/* holds conv, its plan and deps */
	TcConv	   *conv;
	List	   *deprelids;
} TcCacheEntry;

static HTAB *tc_plan_cache = NULL;
static MemoryContext tc_plan_cxt = NULL;
static List *tc_graveyard = NIL;	/* contexts to free at transaction end */
static uint64 tc_generation = 1;

static void tc_build_conv(TcConv *c, Oid typid, int32 typmod, bool coerce,
						  List **deps, Oid building);

/*
 * tc_plan_relcache_callback
 *		Drop every cached plan that depends on relid (all of them when relid
 *		is InvalidOid).  The memory is freed at transaction end.
 */
void
tc_plan_relcache_callback(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS status;
	TcCacheEntry *entry;

	if (tc_plan_cache == NULL)
		return;

	hash_seq_init(&status, tc_plan_cache);
	while ((entry = hash_seq_search(&status)) != NULL)
	{
		MemoryContext oldcxt;

		if (OidIsValid(relid) && !list_member_oid(entry->deprelids, relid))
			continue;
		/* callbacks run in whatever context is current: keep the list safe */
		oldcxt = MemoryContextSwitchTo(TopMemoryContext);
		tc_graveyard = lappend(tc_graveyard, entry->cxt);
		MemoryContextSwitchTo(oldcxt);
		hash_search(tc_plan_cache, &entry->typid, HASH_REMOVE, NULL);
		tc_generation++;
	}
}

/*
 * tc_plan_xact_callback
 *		Free the plans dropped during the transaction.  No call of project()
 *		can still be using them: calls do not span transactions.
 */
void
tc_plan_xact_callback(XactEvent event, void *arg)
{
	List	   *dead;
	ListCell   *lc;

	if (tc_graveyard == NIL)
		return;
	if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT &&
		event != XACT_EVENT_PARALLEL_COMMIT &&
		event != XACT_EVENT_PARALLEL_ABORT && event != XACT_EVENT_PREPARE)
		return;

	dead = tc_graveyard;
	tc_graveyard = NIL;
	foreach(lc, dead)
		MemoryContextDelete((MemoryContext) lfirst(lc));
	list_free(dead);
}

/*
 * tc_plan_enum_callback
 *		An enum label was added or renamed: forget every plan, since plans
 *		remember the labels they have seen.
 */
void
tc_plan_enum_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	tc_plan_relcache_callback((Datum) 0, InvalidOid);
}

/*
 * tc_check_composite
 *		Raise 42804 unless typid is a named composite type or a domain over
 *		one.
 */
void
tc_check_composite(Oid typid)
{
	Oid			basetypid;

	if (!OidIsValid(typid))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("could not determine the target type"),
				 errhint("Pass a typed NULL as target, for example NULL::my_type.")));
	if (!SearchSysCacheExists1(TYPEOID, ObjectIdGetDatum(typid)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("type with OID %u does not exist", typid)));
	basetypid = getBaseType(typid);
	if (basetypid == RECORDOID || get_typtype(basetypid) != TYPTYPE_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("type %s is not a composite type",
						format_type_be(typid)),
				 errdetail("typed_cache projects JSON objects into named composite types only."),
				 errhint("Create one with CREATE TYPE ... AS (...) or use a table's row type.")));
}

/*
 * tc_plan_get_conv
 *		Return the conversion for composite type typid (or a domain over
 *		one), building and caching it if needed.  The result stays valid at
 *		least until the end of the current transaction.
 */
TcConv *
tc_plan_get_conv(Oid typid)
{
	TcCacheEntry *entry;
	bool		found;

	if (tc_plan_cache == NULL)
	{
		HASHCTL		ctl;

		tc_plan_cxt = AllocSetContextCreate(TopMemoryContext,
											"typed_cache plans",
											ALLOCSET_SMALL_SIZES);
		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(TcCacheEntry);
		ctl.hcxt = tc_plan_cxt;
		tc_plan_cache = hash_create("typed_cache plan cache", 64, &ctl,
									HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}

	entry = hash_search(tc_plan_cache, &typid, HASH_FIND, NULL);
	if (entry)
		return entry->conv;

	tc_check_composite(typid);

	for (;;)
	{
		uint64		start_generation = tc_generation;
		MemoryContext cxt;
		MemoryContext oldcxt;
		TcConv	   *conv;
		List	   *deps = NIL;

		/*
		 * Build under the current (transaction) context so that an error
		 * leaves nothing behind, then hand the context to the cache.
		 */
		cxt = AllocSetContextCreate(CurrentMemoryContext,
									"typed_cache plan",
									ALLOCSET_SMALL_SIZES);
		oldcxt = MemoryContextSwitchTo(cxt);
		conv = palloc0(sizeof(TcConv));
		tc_build_conv(conv, typid, -1, false, &deps, typid);
		MemoryContextSwitchTo(oldcxt);

		/* A nested plan was invalidated while we built: start again. */
		if (start_generation != tc_generation)
		{
			MemoryContextDelete(cxt);
			continue;
		}

		MemoryContextSetParent(cxt, tc_plan_cxt);
		MemoryContextSetIdentifier(cxt, "typed_cache plan");
		entry = hash_search(tc_plan_cache, &typid, HASH_ENTER, &found);
		entry->cxt = cxt;
		entry->conv = conv;
		entry->deprelids = deps;
		return conv;
	}
}

/*
 * tc_call_cache
 *		The plan for the target argument of project() or project_set(),
 *		kept in *slot (allocated in mcxt) and revalidated against the plan
 *		generation.
 */
TcCallCache *
tc_call_cache(TcCallCache **slot, FunctionCallInfo fcinfo, MemoryContext mcxt)
{
	TcCallCache *cc = *slot;

	if (likely(cc != NULL && cc->conv != NULL &&
			   cc->generation == tc_generation))
		return cc;
	if (cc == NULL)
	{
		cc = MemoryContextAllocZero(mcxt, sizeof(TcCallCache));
		cc->scratch = AllocSetContextCreate(mcxt,
											"typed_cache projection",
											ALLOCSET_DEFAULT_SIZES);
		/* the argument's type is that of an expression: it never changes */
		cc->typid = get_fn_expr_argtype(fcinfo->flinfo, 1);
		*slot = cc;
	}
	cc->conv = NULL;
	cc->conv = tc_plan_get_conv(cc->typid);
	cc->generation = tc_generation;
	return cc;
}

/*
 * tc_build_conv
 *		Fill c with the conversion of JSON values into typid/typmod, in
 *		CurrentMemoryContext.  Relations the conversion depends on are
 *		appended to *deps.  building is the type whose cache entry is being
 *		built: its plan is compiled here, other composites' plans come from
 *		their own cache entries.
 */
static void
tc_build_conv(TcConv *c, Oid typid, int32 typmod, bool coerce, List **deps,
			  Oid building)
{
	Oid			infuncoid;
	Oid			elemtype;
	bool		preferred;

	/* nested composite types recurse through here, as deep as they go */
	check_stack_depth();

	c->typid = typid;
	c->typmod = typmod;
	c->coerce = coerce;
	c->basetypmod = typmod;
	c->basetypid = getBaseTypeAndTypmod(typid, &c->basetypmod);
	c->is_domain = (c->basetypid != typid);
	c->domain_extra = NULL;
	c->mcxt = CurrentMemoryContext;
	getTypeInputInfo(typid, &infuncoid, &c->typioparam);
	fmgr_info_cxt(infuncoid, &c->infunc, CurrentMemoryContext);
	if (c->is_domain)
	{
		getTypeInputInfo(c->basetypid, &infuncoid, &c->baseioparam);
		fmgr_info_cxt(infuncoid, &c->baseinfunc, CurrentMemoryContext);
	}
	else
	{
		c->baseinfunc = c->infunc;
		c->baseioparam = c->typioparam;
	}
	get_type_category_preferred(c->basetypid, &c->typcategory, &preferred);
	c->fast = (!c->is_domain && !coerce);

	switch (c->basetypid)
	{
		case INT2OID:
			c->kind = TC_INT2;
			break;
		case INT4OID:
			c->kind = TC_INT4;
			break;
		case INT8OID:
			c->kind = TC_INT8;
			break;
		case FLOAT4OID:
			c->kind = TC_FLOAT4;
			break;
		case FLOAT8OID:
			c->kind = TC_FLOAT8;
			break;
		case NUMERICOID:
			c->kind = TC_NUMERIC;
			break;
		case BOOLOID:
			c->kind = TC_BOOL;
			break;
		case TEXTOID:
			c->kind = TC_TEXT;
			break;
		case VARCHAROID:
			c->kind = c->basetypmod >= 0 ? TC_VARCHAR : TC_TEXT;
			break;
		case BPCHAROID:
			c->kind = c->basetypmod >= 0 ? TC_BPCHAR : TC_TEXT;
			break;
		case DATEOID:
			c->kind = TC_DATE;
			break;
		case TIMESTAMPOID:
			c->kind = TC_TIMESTAMP;
			break;
		case TIMESTAMPTZOID:
			c->kind = TC_TIMESTAMPTZ;
			break;
		case JSONOID:
			c->kind = TC_JSON;
			break;
		case JSONBOID:
			c->kind = TC_JSONB;
			break;
		default:
			if (c->basetypid != RECORDOID &&
				get_typtype(c->basetypid) == TYPTYPE_COMPOSITE)
			{
				TcCacheEntry *sub;
				TcConv	   *subconv;

				c->kind = TC_COMPOSITE;
				if (c->basetypid == building)
				{
					c->sub = tc_build_plan(building, NULL);
					*deps = list_concat_unique_oid(*deps, c->sub->deprelids);
					break;
				}
				subconv = tc_plan_get_conv(c->basetypid);
				c->sub = subconv->sub;
				sub = hash_search(tc_plan_cache, &c->basetypid, HASH_FIND,
								  NULL);
				/* sub can be gone only if invalidated meanwhile */
				if (sub)
					*deps = list_concat_unique_oid(*deps, sub->deprelids);
			}
			else if ((elemtype = get_element_type(c->basetypid)) != InvalidOid)
			{
				c->kind = TC_ARRAY;
				c->elem = palloc0(sizeof(TcConv));
				tc_build_conv(c->elem, elemtype, c->basetypmod, coerce, deps,
							  InvalidOid);
				get_typlenbyvalalign(elemtype, &c->elmlen, &c->elmbyval,
									 &c->elmalign);
			}
			else
			{
				c->kind = TC_OTHER;
				c->is_enum = type_is_enum(c->basetypid) && !c->is_domain;
			}
			break;
	}
}

/*
 * tc_naming_key
 *		The JSON key a field named name is read from under a naming mode.
 *		camel_to_snake maps the field created_at to the key createdAt.
 */
static char *
tc_naming_key(const char *name, TcNaming naming)
{
	StringInfoData buf;
	bool		upper_next = false;

	if (naming != TC_NAMING_CAMEL_TO_SNAKE)
		return pstrdup(name);

	initStringInfo(&buf);
	for (const char *p = name; *p; p++)
	{
		if (*p == '_' && buf.len > 0 && p[1] != '\0' && p[1] != '_')
		{
			upper_next = true;
			continue;
		}
		appendStringInfoChar(&buf, upper_next ? pg_ascii_toupper((unsigned char) *p) : *p);
		upper_next = false;
	}
	return buf.data;
}

static TcNaming tc_sort_naming;

static int
tc_tckey_qsort_cmp(const void *a, const void *b)
{
	const TcKey *ka = a;
	const TcKey *kb = b;

	return tc_key_cmp(ka->key, ka->keylen, kb->key, kb->keylen,
					  tc_sort_naming == TC_NAMING_CASE_INSENSITIVE);
}

/*
 * tc_default_errcontext
 *		Error context of a field's default checked at plan time.
 */
static void
tc_default_errcontext(void *arg)
{
	TcField    *f = (TcField *) arg;

	errcontext("default value of field \"%s\" in the registered options",
			   f->name);
}

/*
 * tc_build_plan
 *		Compile the plan of composite type typid with options opts (NULL:
 *		the type's registration, if any) in CurrentMemoryContext.  Raises
 *		errors for options that do not fit the type; register() relies on
 *		that to validate options.
 */
TcPlan *
tc_build_plan(Oid typid, const TcTypeOptions *opts)
{
	TcPlan	   *plan = palloc0(sizeof(TcPlan));
	TcTypeOptions regopts;
	TupleDesc	tupdesc;
	int			nkeys = 0;

	if (opts == NULL)
	{
		memset(&regopts, 0, sizeof(regopts));
		plan->registered = tc_lookup_registration(typid, &regopts);
		opts = &regopts;
	}
	else
		plan->registered = true;

	tupdesc = lookup_rowtype_tupdesc_copy(typid, -1);
	plan->typid = typid;
	plan->typrelid = get_typ_typrelid(typid);
	plan->tupdesc = tupdesc;
	plan->natts = tupdesc->natts;
	plan->unknown_error = opts->unknown_error;
	plan->naming = opts->naming;
	plan->fields = palloc0(sizeof(TcField) * Max(tupdesc->natts, 1));
	plan->keys = palloc0(sizeof(TcKey) * Max(tupdesc->natts, 1));
	plan->pathfields = palloc0(sizeof(int) * Max(tupdesc->natts, 1));
	plan->deprelids = list_make1_oid(plan->typrelid);
	tc_layout_build(plan);

	/* every option must name a live attribute */
	for (int o = 0; o < opts->nfields; o++)
	{
		bool		found = false;

		for (int i = 0; i < tupdesc->natts && !found; i++)
		{
			Form_pg_attribute att = TupleDescAttr(tupdesc, i);

			if (!att->attisdropped &&
				strcmp(NameStr(att->attname), opts->fields[o].name) == 0)
				found = true;
		}
		if (!found)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("type %s has no attribute \"%s\"",
							format_type_be(typid), opts->fields[o].name),
					 errdetail("The option \"fields\" names an attribute the type does not have."),
					 errhint("Use the attribute names of the composite type as keys of \"fields\".")));
	}

	for (int i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);
		TcField    *f;
		const TcFieldOptions *fo = NULL;
		bool		coerce = opts->coerce;

		if (att->attisdropped)
			continue;
		f = &plan->fields[plan->nfields];
		f->attno = i;
		f->name = pstrdup(NameStr(att->attname));

		for (int o = 0; o < opts->nfields; o++)
			if (strcmp(opts->fields[o].name, f->name) == 0)
				fo = &opts->fields[o];
		if (fo)
		{
			f->required = fo->required;
			f->defval = fo->defval;
			if (fo->coerce >= 0)
				coerce = fo->coerce;
			if (fo->path)
			{
				f->pathtext = pstrdup(fo->path);
				if (!tc_split_path(fo->path, &f->path, &f->pathlen, &f->npath))
					elog(ERROR, "typed_cache: unvalidated path \"%s\"", fo->path);
			}
		}

		tc_build_conv(&f->conv, att->atttypid, att->atttypmod, coerce,
					  &plan->deprelids, InvalidOid);
		f->direct_text = (f->conv.kind == TC_TEXT && !f->conv.is_domain &&
						  !f->conv.coerce && f->npath == 0);

		if (f->npath > 0)
		{
			plan->pathfields[plan->npathfields++] = plan->nfields;
			/* the path's head is a known key, not a field */
			plan->keys[nkeys].key = f->path[0];
			plan->keys[nkeys].keylen = f->pathlen[0];
			plan->keys[nkeys].field = -1;
			nkeys++;
		}
		else
		{
			f->key = tc_naming_key(f->name, opts->naming);
			f->keylen = strlen(f->key);
			plan->keys[nkeys].key = f->key;
			plan->keys[nkeys].keylen = f->keylen;
			plan->keys[nkeys].field = plan->nfields;
			nkeys++;
		}
		plan->nfields++;
	}

	tc_sort_naming = opts->naming;
	qsort(plan->keys, nkeys, sizeof(TcKey), tc_tckey_qsort_cmp);

	/*
	 * One entry per key.  A path's head that is also a field's key, or
	 * another path's head, is the same key: the field keeps it (paths are
	 * followed separately).  Two fields matched by name to one key are an
	 * error.  Under case-insensitive naming, path heads that differ only in
	 * case stay apart, since they match exactly.
	 */
	{
		bool		folded = (opts->naming == TC_NAMING_CASE_INSENSITIVE);
		int			kept = 0;

		for (int k = 0; k < nkeys; k++)
		{
			TcKey	   *b = &plan->keys[k];
			TcKey	   *a = kept > 0 ? &plan->keys[kept - 1] : NULL;

			if (a != NULL &&
				tc_key_cmp(a->key, a->keylen, b->key, b->keylen, folded) == 0)
			{
				if (a->field >= 0 && b->field >= 0)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("fields \"%s\" and \"%s\" of type %s read the same JSON key",
									plan->fields[a->field].name,
									plan->fields[b->field].name,
									format_type_be(typid)),
							 errhint("Give one of them a \"path\", or use the \"exact\" naming.")));
				if (b->field >= 0)
				{
					*a = *b;
					continue;
				}
				if (a->field >= 0 ||
					(a->keylen == b->keylen &&
					 memcmp(a->key, b->key, a->keylen) == 0))
					continue;
			}
			plan->keys[kept++] = *b;
		}
		nkeys = kept;
	}
	plan->nkeys = nkeys;

	/* defaults must convert: validate them now, not at the first miss */
	for (int i = 0; i < plan->nfields; i++)
	{
		TcField    *f = &plan->fields[i];
		TcState		st;
		JsonbValue	v;
		bool		isnull;
		ErrorContextCallback errcallback;

		if (f->defval == NULL)
			continue;
		errcallback.callback = tc_default_errcontext;
		errcallback.arg = f;
		errcallback.previous = error_context_stack;
		error_context_stack = &errcallback;
		memset(&st, 0, sizeof(st));
		tc_path_push_key(&st, f->name, strlen(f->name));
		tc_root_value(f->defval, &v);
		(void) tc_project_value(&st, &f->conv, &v, &isnull,
								CurrentMemoryContext);
		error_context_stack = errcallback.previous;
	}

	return plan;
}
