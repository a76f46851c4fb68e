/*-------------------------------------------------------------------------
 *
 * project.c
 *	  typed_cache.project() and typed_cache.project_set(): jsonb documents
 *	  into composite types, through conversion plans cached per backend.
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
 * An object is matched against its plan in one pass over its keys, which
 * jsonb stores sorted (shorter first, then bytewise): the plan keeps its
 * field keys sorted the same way and merges the two lists.  Values are read
 * straight from the container without an iterator.  The common conversions
 * (strings into text, integers, booleans, numerics, exact floats) are done
 * inline; text fields are not copied into text datums but handed to the
 * tuple former (project_form.c), which writes them from the document into
 * the tuple.  Working arrays live on the stack and small intermediate
 * results (nested objects, arrays) in a per-object arena on the stack, so
 * that a typical row allocates nothing but its result; whatever else a row
 * allocates goes into a scratch context reset after the call.
 *
 * Errors name the JSON path of the value at fault.  Conversion errors
 * raised by PostgreSQL's own functions (out of range, domain checks, input
 * syntax) are caught once per call and re-thrown with that path added to
 * their detail.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/project.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port/pg_bswap.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "project.h"
#include "typed_cache.h"

PG_FUNCTION_INFO_V1(project);
PG_FUNCTION_INFO_V1(project_set);

/* One cached conversion for a composite type or a domain over one. */
typedef struct TcCacheEntry
{
	Oid			typid;			/* hash key */
	MemoryContext cxt;			/* holds conv, its plan and deps */
	TcConv	   *conv;
	List	   *deprelids;
} TcCacheEntry;

/* What project() keeps in fn_extra between calls. */
typedef struct TcCallCache
{
	Oid			typid;
	uint64		generation;
	TcConv	   *conv;
	MemoryContext scratch;		/* reset after every call */
} TcCallCache;

static HTAB *tc_plan_cache = NULL;
static MemoryContext tc_plan_cxt = NULL;
static List *tc_graveyard = NIL;	/* contexts to free at transaction end */
static uint64 tc_generation = 1;

static void tc_build_conv(TcConv *c, Oid typid, int32 typmod, bool coerce,
						  List **deps, Oid building);
static Datum tc_convert_object(TcState *st, TcPlan *plan,
							   const JsonbContainer *jc);
static Datum tc_convert_array(TcState *st, TcConv *conv,
							  const JsonbContainer *jc);

/*
 * tc_relcache_callback
 *		Drop every cached plan that depends on relid (all of them when relid
 *		is InvalidOid).  The memory is freed at transaction end.
 */
static void
tc_relcache_callback(Datum arg, Oid relid)
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
 * tc_xact_callback
 *		Free the plans dropped during the transaction.  No call of project()
 *		can still be using them: calls do not span transactions.
 */
static void
tc_xact_callback(XactEvent event, void *arg)
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
 * tc_project_init
 *		Register the invalidation callbacks.  Called from _PG_init().
 */
/*
 * tc_enum_callback
 *		An enum label was added or renamed: forget every plan, since plans
 *		remember the labels they have seen.
 */
static void
tc_enum_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	tc_relcache_callback((Datum) 0, InvalidOid);
}

void
tc_project_init(void)
{
	CacheRegisterRelcacheCallback(tc_relcache_callback, (Datum) 0);
	CacheRegisterSyscacheCallback(ENUMOID, tc_enum_callback, (Datum) 0);
	RegisterXactCallback(tc_xact_callback, NULL);
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
 * tc_get_conv
 *		Return the conversion for composite type typid (or a domain over
 *		one), building and caching it if needed.  The result stays valid at
 *		least until the end of the current transaction.
 */
TcConv *
tc_get_conv(Oid typid)
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
				subconv = tc_get_conv(c->basetypid);
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

/*
 * tc_key_cmp
 *		Order keys as jsonb stores an object's keys: shorter first, then
 *		bytewise.  With fold, ASCII letters compare case-insensitively.
 */
static int
tc_key_cmp(const char *a, int alen, const char *b, int blen, bool fold)
{
	if (alen != blen)
		return alen < blen ? -1 : 1;
	if (!fold)
		return memcmp(a, b, alen);
	for (int i = 0; i < alen; i++)
	{
		unsigned char ca = pg_ascii_tolower((unsigned char) a[i]);
		unsigned char cb = pg_ascii_tolower((unsigned char) b[i]);

		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
	return 0;
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
 * tc_root_value
 *		The root of doc as a JsonbValue.
 */
static void
tc_root_value(Jsonb *doc, JsonbValue *v)
{
	if (JB_ROOT_IS_SCALAR(doc))
		JsonbExtractScalar(&doc->root, v);
	else
	{
		v->type = jbvBinary;
		v->val.binary.data = &doc->root;
		v->val.binary.len = VARSIZE(doc) - VARHDRSZ;
	}
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

/* ---------- conversion ---------- */

/*
 * tc_path_push_key / tc_path_push_index
 *		Descend one level in the JSON path kept for error messages.  Levels
 *		beyond TC_MAX_DEPTH are counted but not recorded.
 */
void
tc_path_push_key(TcState *st, const char *key, int keylen)
{
	if (st->depth < TC_MAX_DEPTH)
	{
		st->seg[st->depth].key = key;
		st->seg[st->depth].keylen = keylen;
	}
	st->depth++;
}

void
tc_path_push_index(TcState *st, int index)
{
	if (st->depth < TC_MAX_DEPTH)
	{
		st->seg[st->depth].key = NULL;
		st->seg[st->depth].index = index;
	}
	st->depth++;
}

/*
 * tc_path_string
 *		The current path as text: $, .key (quoted when not an identifier),
 *		[index].
 */
char *
tc_path_string(const TcState *st)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '$');
	for (int i = 0; i < st->depth && i < TC_MAX_DEPTH; i++)
	{
		const TcPathSeg *s = &st->seg[i];
		bool		plain = true;

		if (s->key == NULL)
		{
			appendStringInfo(&buf, "[%d]", s->index);
			continue;
		}
		for (int j = 0; j < s->keylen; j++)
		{
			unsigned char ch = (unsigned char) s->key[j];

			if (!(isalnum(ch) || ch == '_' || ch >= 0x80) ||
				(j == 0 && isdigit(ch)))
				plain = false;
		}
		if (s->keylen == 0)
			plain = false;
		appendStringInfoChar(&buf, '.');
		if (plain)
			appendBinaryStringInfo(&buf, s->key, s->keylen);
		else
		{
			appendStringInfoChar(&buf, '"');
			for (int j = 0; j < s->keylen; j++)
			{
				if (s->key[j] == '"' || s->key[j] == '\\')
					appendStringInfoChar(&buf, '\\');
				appendStringInfoChar(&buf, s->key[j]);
			}
			appendStringInfoChar(&buf, '"');
		}
	}
	if (st->depth > TC_MAX_DEPTH)
		appendStringInfoString(&buf, "...");
	return buf.data;
}

/*
 * tc_note_value
 *		Remember what is being converted, for tc_project_value()'s message.
 *		The JsonbValue is copied: v may live in a frame that an error
 *		unwinds.
 */
static inline void
tc_note_value(TcState *st, const TcConv *conv, const JsonbValue *v)
{
	st->cur_conv = conv;
	st->cur_present = (v != NULL);
	if (v != NULL)
		st->cur_value = *v;
}

/*
 * tc_convert
 *		Convert one JSON value (NULL: missing) into conv's type.  JSON null
 *		and missing values become SQL NULL, still subject to domain checks.
 */
Datum
tc_convert(TcState *st, TcConv *conv, const JsonbValue *v, bool *isnull)
{
	Datum		result = (Datum) 0;
	bool		checked = false;

	tc_note_value(st, conv, v);

	if (v == NULL || v->type == jbvNull)
		*isnull = true;
	else
	{
		*isnull = false;
		if (v->type == jbvBinary &&
			((conv->kind == TC_ARRAY &&
			  JsonContainerIsArray(v->val.binary.data)) ||
			 (conv->kind == TC_COMPOSITE &&
			  JsonContainerIsObject(v->val.binary.data))))
		{
			if (conv->kind == TC_ARRAY)
				result = tc_convert_array(st, conv, v->val.binary.data);
			else
				result = tc_convert_object(st, conv->sub, v->val.binary.data);
		}
		else if (conv->coerce && conv->kind != TC_JSON &&
				 conv->kind != TC_JSONB)
		{
			/* the input function of a domain checks its constraints */
			result = tc_convert_via_input(st, conv, v);
			checked = true;
		}
		else if (conv->kind == TC_ARRAY || conv->kind == TC_COMPOSITE)
			tc_mismatch_error(st, conv, v);
		else
			result = tc_convert_scalar(st, conv, v);
	}

	if (conv->is_domain && !checked)
	{
		tc_note_value(st, conv, v);
		domain_check(result, *isnull, conv->typid, &conv->domain_extra,
					 conv->mcxt);
	}
	return result;
}

/*
 * tc_object_value
 *		Read the value of entry index (a key or a value) of an object, or an
 *		element of an array, whose data starts at offset.
 */
void
tc_fill_value(const JsonbContainer *jc, int index, const char *base,
			  uint32 offset, uint32 len, JsonbValue *result)
{
	JEntry		entry = jc->children[index];

	if (JBE_ISNULL(entry))
		result->type = jbvNull;
	else if (JBE_ISSTRING(entry))
	{
		result->type = jbvString;
		result->val.string.val = (char *) base + offset;
		result->val.string.len = len;
	}
	else if (JBE_ISNUMERIC(entry))
	{
		result->type = jbvNumeric;
		result->val.numeric = (Numeric) (base + INTALIGN(offset));
	}
	else if (JBE_ISBOOL_TRUE(entry))
	{
		result->type = jbvBool;
		result->val.boolean = true;
	}
	else if (JBE_ISBOOL_FALSE(entry))
	{
		result->type = jbvBool;
		result->val.boolean = false;
	}
	else
	{
		Assert(JBE_ISCONTAINER(entry));
		result->type = jbvBinary;
		result->val.binary.data = (JsonbContainer *) (base + INTALIGN(offset));
		result->val.binary.len = len - (INTALIGN(offset) - offset);
	}
}

/*
 * tc_missing
 *		The value of field f when its key is absent: its default, an error
 *		if it is required, else NULL (domain constraints still apply).
 */
static Datum
tc_missing(TcState *st, TcPlan *plan, TcField *f, bool *isnull)
{
	JsonbValue	v;

	if (f->defval)
	{
		tc_root_value(f->defval, &v);
		return tc_convert(st, &f->conv, &v, isnull);
	}
	if (f->required)
	{
		char	   *path = tc_path_string(st);

		st->own_error = true;
		ereport(ERROR,
				(errcode(ERRCODE_SQL_JSON_MEMBER_NOT_FOUND),
				 errmsg("required field \"%s\" of type %s is missing",
						f->name, format_type_be(plan->typid)),
				 errdetail("No JSON value at %s.", path),
				 errhint("Add the key to the document, or give the field a \"default\" in its registration.")));
	}
	return tc_convert(st, &f->conv, NULL, isnull);
}

/*
 * tc_unknown_key_error
 *		Raise the error of unknown_keys = error.
 */
TC_NORETURN static void
tc_unknown_key_error(TcState *st, TcPlan *plan, const char *key, int keylen)
{
	char	   *path = tc_path_string(st);

	st->own_error = true;
	ereport(ERROR,
			(errcode(ERRCODE_TOO_MANY_JSON_OBJECT_MEMBERS),
			 errmsg("unknown key \"%s\" for type %s",
					pnstrdup(key, keylen), format_type_be(plan->typid)),
			 errdetail("The JSON object at %s has a key that matches no field, and the type is registered with \"unknown_keys\": \"error\".",
					   path),
			 errhint("Remove the key from the document, or register the type with \"unknown_keys\": \"ignore\".")));
}

/*
 * tc_match_folded
 *		Find the key entry that key matches case-insensitively, or -1.
 */
static int
tc_match_folded(TcPlan *plan, const char *key, int keylen)
{
	int			lo = 0;
	int			hi = plan->nkeys - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;
		TcKey	   *k = &plan->keys[mid];
		int			cmp;

		/* path heads match exactly, fields case-insensitively */
		cmp = tc_key_cmp(key, keylen, k->key, k->keylen, true);
		if (cmp == 0)
		{
			int			first = mid;
			int			last = mid;
			int			exact = -1;

			/* neighbours may be equal when folded: prefer a field */
			while (first > 0 &&
				   tc_key_cmp(key, keylen, plan->keys[first - 1].key,
							  plan->keys[first - 1].keylen, true) == 0)
				first--;
			while (last < plan->nkeys - 1 &&
				   tc_key_cmp(key, keylen, plan->keys[last + 1].key,
							  plan->keys[last + 1].keylen, true) == 0)
				last++;
			for (int i = first; i <= last; i++)
			{
				k = &plan->keys[i];
				if (k->field >= 0)
					return i;
				if (k->keylen == keylen && memcmp(key, k->key, keylen) == 0)
					exact = i;
			}
			return exact;
		}
		if (cmp < 0)
			hi = mid - 1;
		else
			lo = mid + 1;
	}
	return -1;
}

/*
 * tc_resolve_path
 *		Follow field f's path from the object jc.  Returns false when a key
 *		is missing; a JSON null on the way yields a null value.
 */
static bool
tc_resolve_path(TcState *st, TcField *f, const JsonbContainer *jc,
				JsonbValue *out)
{
	const JsonbContainer *cur = jc;

	for (int s = 0; s < f->npath; s++)
	{
		JsonbValue *found;

		found = getKeyJsonValueFromContainer((JsonbContainer *) cur,
											 f->path[s], f->pathlen[s], out);
		tc_path_push_key(st, f->path[s], f->pathlen[s]);
		if (found == NULL)
			return false;
		if (s == f->npath - 1 || out->type == jbvNull)
			return true;
		if (out->type != jbvBinary || !JsonContainerIsObject(out->val.binary.data))
		{
			char	   *path = tc_path_string(st);

			st->own_error = true;
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("JSON %s cannot be traversed by the path \"%s\" of field \"%s\"",
							tc_describe_value(out), f->pathtext, f->name),
					 errdetail("At %s: the path expects a JSON object, found %s.",
							   path, tc_describe_value(out))));
		}
		cur = out->val.binary.data;
	}
	return true;
}

#define TC_STACK_KEYS 64		/* JSON keys per object on the stack */
#define TC_STACK_ATTS 32		/* attributes per object on the stack */
#define TC_ARENA_SIZE 1024		/* bytes of small results per object */

/*
 * tc_keys_cmp
 *		tc_key_cmp() without folding, inline: the merge walk calls it once
 *		or twice per JSON key.  Keys of equal length are compared a word at
 *		a time (in big-endian order, which is bytewise order), without the
 *		branch per byte that keys differing at varying places mispredict.
 */
static inline int
tc_keys_cmp(const char *a, int alen, const char *b, int blen)
{
	if (alen != blen)
		return alen < blen ? -1 : 1;
	while (alen >= (int) sizeof(uint64))
	{
		uint64		x;
		uint64		y;

		memcpy(&x, a, sizeof(x));
		memcpy(&y, b, sizeof(y));
		if (x != y)
			return pg_ntoh64(x) < pg_ntoh64(y) ? -1 : 1;
		a += sizeof(uint64);
		b += sizeof(uint64);
		alen -= sizeof(uint64);
	}
	if (alen >= (int) sizeof(uint32))
	{
		uint32		x;
		uint32		y;

		memcpy(&x, a, sizeof(x));
		memcpy(&y, b, sizeof(y));
		if (x != y)
			return pg_ntoh32(x) < pg_ntoh32(y) ? -1 : 1;
		a += sizeof(uint32);
		b += sizeof(uint32);
		alen -= sizeof(uint32);
	}
	for (int i = 0; i < alen; i++)
	{
		if (a[i] != b[i])
			return (unsigned char) a[i] < (unsigned char) b[i] ? -1 : 1;
	}
	return 0;
}

/*
 * tc_convert_object
 *		Project the object jc with plan into a composite Datum: in the
 *		arena of the enclosing object if it has room, else in
 *		CurrentMemoryContext (st->tuplecxt for the outermost object).
 *		Working arrays are on the stack up to TC_STACK_ATTS attributes and
 *		TC_STACK_KEYS keys.
 */
static Datum
tc_convert_object(TcState *st, TcPlan *plan, const JsonbContainer *jc)
{
	int			npairs = JsonContainerSize(jc);
	const char *base = (const char *) &jc->children[npairs * 2];
	int			natts = plan->natts;
	int			nfields = plan->nfields;
	Datum		values_buf[TC_STACK_ATTS];
	bool		nulls_buf[TC_STACK_ATTS];
	int32		textlen_buf[TC_STACK_ATTS];
	int			fieldkey_buf[TC_STACK_ATTS];
	JsonbValue	fieldval_buf[TC_STACK_ATTS];
	int			keyfield_buf[TC_STACK_KEYS];
	bool		exact_buf[TC_STACK_KEYS];
	union
	{
		char		data[TC_ARENA_SIZE];
		double		force_align_d;
		int64		force_align_i64;
	}			arena_buf;
	TcArena		arena;
	TcArena    *outer_arena = st->arena;
	Datum	   *values = values_buf;
	bool	   *nulls = nulls_buf;
	int32	   *textlen = textlen_buf;
	int		   *fieldkey = fieldkey_buf;	/* per field: JSON key, or -1 */
	JsonbValue *fieldval = fieldval_buf;
	int		   *keyfield = keyfield_buf;	/* per JSON key: field, or -1 */
	bool	   *exact = exact_buf;
	uint32		offset = 0;
	int			j = 0;
	int			maxkey = -1;
	int			depth = st->depth;
	Datum		result;
	MemoryContext formcxt = st->tuplecxt;

	/* only the outermost object is formed in the caller's context */
	st->tuplecxt = NULL;
	check_stack_depth();
	CHECK_FOR_INTERRUPTS();

	if (natts > TC_STACK_ATTS)
	{
		values = palloc(sizeof(Datum) * natts);
		nulls = palloc(sizeof(bool) * natts);
		textlen = palloc(sizeof(int32) * natts);
		fieldkey = palloc(sizeof(int) * natts);
		fieldval = palloc(sizeof(JsonbValue) * natts);
	}
	if (npairs > TC_STACK_KEYS)
	{
		keyfield = palloc(sizeof(int) * npairs);
		exact = palloc(sizeof(bool) * npairs);
	}
	for (int i = 0; i < nfields; i++)
		fieldkey[i] = -1;
	memset(nulls, true, sizeof(bool) * natts);
	memset(textlen, -1, sizeof(int32) * natts);

	/* One pass over the keys, merged with the plan's sorted keys. */
	for (int i = 0; i < npairs; i++)
	{
		uint32		next = offset;
		const char *key = base + offset;
		int			keylen;
		int			match = -1;

		JBE_ADVANCE_OFFSET(next, jc->children[i]);
		keylen = next - offset;
		offset = next;
		keyfield[i] = -1;

		if (plan->naming != TC_NAMING_CASE_INSENSITIVE)
		{
			while (j < plan->nkeys)
			{
				int			cmp = tc_keys_cmp(key, keylen, plan->keys[j].key,
											  plan->keys[j].keylen);

				if (cmp < 0)
					break;
				if (cmp == 0)
				{
					match = j++;
					break;
				}
				j++;
			}
		}
		else
			match = tc_match_folded(plan, key, keylen);

		if (match < 0)
		{
			if (plan->unknown_error)
				tc_unknown_key_error(st, plan, key, keylen);
			continue;
		}
		if (plan->keys[match].field >= 0)
		{
			int			f = plan->keys[match].field;
			bool		is_exact = (plan->naming != TC_NAMING_CASE_INSENSITIVE ||
									memcmp(key, plan->fields[f].key, keylen) == 0);

			if (fieldkey[f] >= 0)
			{
				/* case-insensitive: an exact spelling wins, else ambiguous */
				if (exact[fieldkey[f]] == is_exact)
				{
					char	   *path = tc_path_string(st);

					st->own_error = true;
					ereport(ERROR,
							(errcode(ERRCODE_DUPLICATE_JSON_OBJECT_KEY_VALUE),
							 errmsg("ambiguous keys for field \"%s\" of type %s",
									plan->fields[f].name,
									format_type_be(plan->typid)),
							 errdetail("The JSON object at %s has several keys that match the field case-insensitively.",
									   path)));
				}
				if (!is_exact)
					continue;
				keyfield[fieldkey[f]] = -1;
			}
			fieldkey[f] = i;
			keyfield[i] = f;
			exact[i] = is_exact;
			if (i > maxkey)
				maxkey = i;
		}
	}

	/* Values follow the keys: walk them up to the last one we need. */
	for (int i = 0; i <= maxkey; i++)
	{
		uint32		next = offset;
		int			idx = npairs + i;

		JBE_ADVANCE_OFFSET(next, jc->children[idx]);
		if (keyfield[i] >= 0)
			tc_fill_value(jc, idx, base, offset, next - offset,
						  &fieldval[keyfield[i]]);
		offset = next;
	}

	arena.next = arena_buf.data;
	arena.end = arena_buf.data + TC_ARENA_SIZE;
	st->arena = &arena;
	for (int i = 0; i < nfields; i++)
	{
		TcField    *f = &plan->fields[i];
		int			attno = f->attno;

		if (f->npath > 0)
		{
			JsonbValue	v;

			if (tc_resolve_path(st, f, jc, &v))
				values[attno] = tc_convert(st, &f->conv, &v, &nulls[attno]);
			else
			{
				/* report the whole path, not only its existing part */
				st->depth = depth;
				for (int s = 0; s < f->npath; s++)
					tc_path_push_key(st, f->path[s], f->pathlen[s]);
				values[attno] = tc_missing(st, plan, f, &nulls[attno]);
			}
		}
		else if (fieldkey[i] >= 0 && f->direct_text &&
				 fieldval[i].type == jbvString)
		{
			/* the former copies the string from the document */
			values[attno] = PointerGetDatum(fieldval[i].val.string.val);
			textlen[attno] = fieldval[i].val.string.len;
			nulls[attno] = false;
			continue;
		}
		else if (fieldkey[i] >= 0 && f->conv.fast &&
				 tc_convert_fast(&f->conv, &fieldval[i], &values[attno]))
		{
			nulls[attno] = false;
			continue;
		}
		else
		{
			tc_path_push_key(st, f->key, f->keylen);
			if (fieldkey[i] >= 0)
				values[attno] = tc_convert(st, &f->conv, &fieldval[i],
										   &nulls[attno]);
			else
				values[attno] = tc_missing(st, plan, f, &nulls[attno]);
		}
		st->depth = depth;
	}
	st->arena = outer_arena;

	if (formcxt)
		result = tc_form_tuple(plan, values, nulls, textlen, formcxt, NULL);
	else
		result = tc_form_tuple(plan, values, nulls, textlen,
							   CurrentMemoryContext, outer_arena);
	return result;
}

/*
 * tc_not_rectangular
 *		Raise the error for a multi-dimensional array whose sub-arrays do
 *		not all have the same shape.
 */
TC_NORETURN static void
tc_not_rectangular(TcState *st, TcConv *conv)
{
	char	   *path = tc_path_string(st);

	st->own_error = true;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("JSON array is not a rectangular array of type %s",
					format_type_be(conv->typid)),
			 errdetail("At %s: multidimensional arrays must have sub-arrays of matching dimensions.",
					   path)));
}

/*
 * tc_fill_array
 *		Convert the elements of jc, at dimension level of a rectangular
 *		array of shape dims, into elems/enulls from *n on.
 */
static void
tc_fill_array(TcState *st, TcConv *conv, const JsonbContainer *jc, int level,
			  int ndims, const int *dims, Datum *elems, bool *enulls, int *n)
{
	int			nelems = JsonContainerSize(jc);
	const char *base = (const char *) &jc->children[nelems];
	uint32		offset = 0;
	int			depth = st->depth;

	if (nelems != dims[level])
		tc_not_rectangular(st, conv);

	for (int i = 0; i < nelems; i++)
	{
		uint32		next = offset;
		JsonbValue	v;

		JBE_ADVANCE_OFFSET(next, jc->children[i]);
		tc_fill_value(jc, i, base, offset, next - offset, &v);
		offset = next;

		tc_path_push_index(st, i);
		if (level < ndims - 1)
		{
			if (v.type != jbvBinary || !JsonContainerIsArray(v.val.binary.data))
				tc_not_rectangular(st, conv);
			tc_fill_array(st, conv, v.val.binary.data, level + 1, ndims, dims,
						  elems, enulls, n);
		}
		else if (conv->elem->fast &&
				 tc_convert_fast(conv->elem, &v, &elems[*n]))
		{
			enulls[*n] = false;
			(*n)++;
		}
		else
		{
			elems[*n] = tc_convert(st, conv->elem, &v, &enulls[*n]);
			(*n)++;
		}
		st->depth = depth;
	}
}

/*
 * tc_convert_array
 *		Convert the JSON array jc into conv's array type.  Nested JSON arrays
 *		make further dimensions unless the element type is json or jsonb.
 */
static Datum
tc_convert_array(TcState *st, TcConv *conv, const JsonbContainer *jc)
{
	int			ndims = 1;
	int			dims[MAXDIM];
	int			lbs[MAXDIM];
	const JsonbContainer *cur = jc;
	bool		elem_is_json = (conv->elem->kind == TC_JSON ||
								conv->elem->kind == TC_JSONB);
	int			nitems;
	Datum	   *elems;
	bool	   *enulls;
	int			n = 0;
	Oid			elemtype = conv->elem->typid;

	if (conv->elem->kind == TC_TEXT && !conv->elem->is_domain &&
		!conv->elem->coerce)
	{
		Datum		result = tc_form_text_array(conv, jc, st->arena);

		if (result != (Datum) 0)
			return result;
	}

	dims[0] = JsonContainerSize(cur);
	lbs[0] = 1;
	while (dims[ndims - 1] > 0 && !elem_is_json)
	{
		JsonbValue	v;
		JEntry		e0 = cur->children[0];

		if (!JBE_ISCONTAINER(e0))
			break;
		tc_fill_value(cur, 0, (const char *) &cur->children[dims[ndims - 1]],
					  0, JBE_OFFLENFLD(e0), &v);
		if (!JsonContainerIsArray(v.val.binary.data))
			break;
		if (ndims == MAXDIM)
		{
			char	   *path = tc_path_string(st);

			st->own_error = true;
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("number of array dimensions exceeds the maximum allowed (%d)",
							MAXDIM),
					 errdetail("At %s.", path)));
		}
		cur = v.val.binary.data;
		dims[ndims] = JsonContainerSize(cur);
		lbs[ndims] = 1;
		ndims++;
	}

	nitems = ArrayGetNItems(ndims, dims);
	elems = palloc(sizeof(Datum) * Max(nitems, 1));
	enulls = palloc(sizeof(bool) * Max(nitems, 1));
	/* this also checks the shape of an empty array, such as [[], [1]] */
	tc_fill_array(st, conv, jc, 0, ndims, dims, elems, enulls, &n);
	Assert(n == nitems);
	if (nitems == 0)
		return PointerGetDatum(construct_empty_array(elemtype));

	return PointerGetDatum(construct_md_array(elems, enulls, ndims, dims, lbs,
											  elemtype, conv->elmlen,
											  conv->elmbyval, conv->elmalign));
}

/*
 * tc_project_value
 *		Convert v with conv; errors raised below by PostgreSQL's own
 *		functions get the JSON path and the value in their detail.  The
 *		result is copied into resultcxt.
 */
Datum
tc_project_value(TcState *st, TcConv *conv, const JsonbValue *v, bool *isnull,
				 MemoryContext resultcxt)
{
	Datum		result;
	MemoryContext oldcxt = CurrentMemoryContext;
	volatile bool formed_there;

	/*
	 * A composite result (not a domain over one, which is checked after it
	 * is formed) can be formed right where it is wanted, saving a copy.
	 */
	formed_there = (conv->kind == TC_COMPOSITE && !conv->is_domain &&
					v->type == jbvBinary && !conv->coerce);
	st->tuplecxt = formed_there ? resultcxt : NULL;

	PG_TRY();
	{
		result = tc_convert(st, conv, v, isnull);
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		char	   *path;
		StringInfoData detail;
		int			category = ERRCODE_TO_CATEGORY(geterrcode());

		/*
		 * Only a value that does not convert (class 22, such as 22P02) or
		 * breaks a domain's constraint (class 23) is described: a cancel, a
		 * stack overflow or running out of memory says nothing about the
		 * value it interrupted.
		 */
		if (st->own_error ||
			(category != ERRCODE_DATA_EXCEPTION &&
			 category != ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION))
			PG_RE_THROW();

		MemoryContextSwitchTo(oldcxt);
		path = tc_path_string(st);
		edata = CopyErrorData();
		FlushErrorState();

		initStringInfo(&detail);
		appendStringInfo(&detail, "At %s: converting ", path);
		if (st->cur_present)
			appendStringInfoString(&detail, tc_describe_value(&st->cur_value));
		else
			appendStringInfoString(&detail, "a missing value");
		if (st->cur_conv)
			appendStringInfo(&detail, " to type %s",
							 format_type_with_typemod(st->cur_conv->typid,
													  st->cur_conv->typmod));
		appendStringInfoChar(&detail, '.');
		if (edata->detail)
			appendStringInfo(&detail, " %s", edata->detail);
		edata->detail = detail.data;
		ReThrowError(edata);
	}
	PG_END_TRY();

	if (*isnull)
		return (Datum) 0;
	if (!formed_there && CurrentMemoryContext != resultcxt)
	{
		MemoryContextSwitchTo(resultcxt);
		result = datumCopy(result, false, -1);
		MemoryContextSwitchTo(oldcxt);
	}
	return result;
}

/*
 * tc_check_object
 *		Raise 42804 unless v is a JSON object (the document, or an element
 *		of project_set's array).
 */
static void
tc_check_object(TcState *st, TcConv *conv, const JsonbValue *v)
{
	if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
		tc_mismatch_error(st, conv, v);
}

/*
 * tc_project_jsonb
 *		See project.h.
 */
Datum
tc_project_jsonb(Jsonb *doc, Oid typid)
{
	TcConv	   *conv = tc_get_conv(typid);
	TcState		st;
	JsonbValue	root;
	bool		isnull;
	Datum		result;

	memset(&st, 0, sizeof(st));
	tc_root_value(doc, &root);
	tc_check_object(&st, conv, &root);
	result = tc_project_value(&st, conv, &root, &isnull, CurrentMemoryContext);
	if (isnull)
		elog(ERROR, "typed_cache: projection of an object returned NULL");
	return result;
}

/*
 * tc_call_cache
 *		The plan for the target argument of project() or project_set(),
 *		kept in *slot (allocated in mcxt) and revalidated against the plan
 *		generation.
 */
static TcCallCache *
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
	cc->conv = tc_get_conv(cc->typid);
	cc->generation = tc_generation;
	return cc;
}

/*
 * project
 *		typed_cache.project(doc jsonb, target anyelement) RETURNS anyelement
 */
Datum
project(PG_FUNCTION_ARGS)
{
	TcCallCache *cc = tc_call_cache((TcCallCache **) &fcinfo->flinfo->fn_extra,
									fcinfo, fcinfo->flinfo->fn_mcxt);
	MemoryContext callercxt = CurrentMemoryContext;
	TcState		st;
	JsonbValue	root;
	Jsonb	   *doc;
	bool		isnull;
	Datum		result;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();

	MemoryContextSwitchTo(cc->scratch);
	doc = PG_GETARG_JSONB_P(0);

	/*
	 * The document is read key by key, value by value: ask for all of its
	 * first cache lines at once rather than wait for each in turn.
	 */
	for (Size off = 0; off < Min(VARSIZE(doc), TC_DOC_PREFETCH);
		 off += TC_CACHE_LINE)
		tc_doc_prefetch((char *) doc + off);
	memset(&st, 0, offsetof(TcState, seg));
	tc_root_value(doc, &root);
	tc_check_object(&st, cc->conv, &root);
	result = tc_project_value(&st, cc->conv, &root, &isnull, callercxt);
	MemoryContextSwitchTo(callercxt);
	/* most calls allocate nothing there: save the call then */
	if (!cc->scratch->isReset || cc->scratch->firstchild != NULL)
		MemoryContextReset(cc->scratch);

	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}

/* project_set's state across calls */
typedef struct TcSetState
{
	Jsonb	   *docs;
	int			nelems;
	int			next;
	uint32		offset;
	TcCallCache *cc;
} TcSetState;

/*
 * project_set
 *		typed_cache.project_set(docs jsonb, target anyelement)
 *		RETURNS SETOF anyelement: one row per object of a JSON array.
 */
Datum
project_set(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;
	TcSetState *ss;
	TcCallCache *cc;
	MemoryContext callercxt;
	const JsonbContainer *jc;
	JsonbValue	v;
	TcState		st;
	bool		isnull;
	Datum		result;
	uint32		next;

	if (SRF_IS_FIRSTCALL())
	{
		MemoryContext oldcxt;

		funcctx = SRF_FIRSTCALL_INIT();
		oldcxt = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
		ss = palloc0(sizeof(TcSetState));
		(void) tc_call_cache(&ss->cc, fcinfo, funcctx->multi_call_memory_ctx);
		if (!PG_ARGISNULL(0))
		{
			ss->docs = PG_GETARG_JSONB_P_COPY(0);
			if (JB_ROOT_IS_SCALAR(ss->docs) || !JB_ROOT_IS_ARRAY(ss->docs))
			{
				memset(&st, 0, offsetof(TcState, seg));
				tc_root_value(ss->docs, &v);
				st.own_error = true;
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("project_set expects a JSON array of objects"),
						 errdetail("At $: found %s.", tc_describe_value(&v)),
						 errhint("Use typed_cache.project() for a single object.")));
			}
			ss->nelems = JB_ROOT_COUNT(ss->docs);
		}
		funcctx->user_fctx = ss;
		MemoryContextSwitchTo(oldcxt);
	}

	funcctx = SRF_PERCALL_SETUP();
	ss = funcctx->user_fctx;
	cc = tc_call_cache(&ss->cc, fcinfo, funcctx->multi_call_memory_ctx);
	if (ss->next >= ss->nelems)
		SRF_RETURN_DONE(funcctx);

	callercxt = CurrentMemoryContext;
	jc = &ss->docs->root;
	next = ss->offset;
	JBE_ADVANCE_OFFSET(next, jc->children[ss->next]);
	tc_fill_value(jc, ss->next, (const char *) &jc->children[ss->nelems],
				  ss->offset, next - ss->offset, &v);

	memset(&st, 0, offsetof(TcState, seg));
	tc_path_push_index(&st, ss->next);
	ss->offset = next;
	ss->next++;

	MemoryContextSwitchTo(cc->scratch);
	tc_check_object(&st, cc->conv, &v);
	result = tc_project_value(&st, cc->conv, &v, &isnull, callercxt);
	MemoryContextSwitchTo(callercxt);
	MemoryContextReset(cc->scratch);

	if (isnull)
		elog(ERROR, "typed_cache: projection of an object returned NULL");
	SRF_RETURN_NEXT(funcctx, result);
}
