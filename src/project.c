/*-------------------------------------------------------------------------
 *
 * project.c
 *	  typed_cache.project() and typed_cache.project_set(): jsonb documents
 *	  into composite types, through conversion plans cached per backend;
 *	  and the entry points the rest of typed_cache calls.
 *
 * This is the top of projection (see project.h for its layers): the SQL
 * functions find the plan of their target type (project_plan.c), keep it
 * in fn_extra while the plan generation does not change, and hand each
 * document to the executor (project_exec.c) in a scratch context that is
 * reset after the call, so that a typical row allocates nothing but its
 * result.  tc_project_jsonb() does the same for the cache (typed get()
 * and schema on write), and tc_get_conv() lets it check a target type
 * once.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/project.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "funcapi.h"
#include "utils/memutils.h"

#include "project.h"
#include "project_convert.h"
#include "project_exec.h"
#include "project_path.h"
#include "project_plan.h"

/*
 * A hint to load the cache line at p: project() asks for the first
 * TC_DOC_PREFETCH bytes of a document at once (documents are seldom in
 * cache).  A no-op for compilers without the builtin.
 */
#if defined(__GNUC__) || defined(__clang__)
#define tc_doc_prefetch(p) __builtin_prefetch((p), 0, 3)
#else
#define tc_doc_prefetch(p) ((void) (p))
#endif
#define TC_CACHE_LINE		64
#define TC_DOC_PREFETCH		1024

PG_FUNCTION_INFO_V1(project);
PG_FUNCTION_INFO_V1(project_set);

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
 * tc_get_conv
 *		The conversion for composite type typid (or a domain over one), from
 *		the plan cache: see tc_plan_get_conv().  The rest of typed_cache
 *		calls it to check a target type once, before projecting into it.
 */
TcConv *
tc_get_conv(Oid typid)
{
	return tc_plan_get_conv(typid);
}

/*
 * tc_project_jsonb
 *		See project.h.
 */
Datum
tc_project_jsonb(Jsonb *doc, Oid typid)
{
	TcConv	   *conv = tc_plan_get_conv(typid);
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
