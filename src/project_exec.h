/*-------------------------------------------------------------------------
 *
 * project_exec.h
 *	  Executing a conversion plan: JSON objects into composite values and
 *	  JSON arrays into SQL arrays, with the errors of their values
 *	  (project_exec.c).
 *
 * Callers: project_plan.c (checking a field's default when it compiles a
 * plan, and sorting the plan's keys in the order the executor merges them
 * in) and project.c (the SQL functions).  project_exec.c calls
 * project_convert.c, project_form.c and project_path.c, never the plan
 * cache: it is given the plan.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/project_exec.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TYPED_CACHE_PROJECT_EXEC_H
#define TYPED_CACHE_PROJECT_EXEC_H

#include "postgres.h"

#include "utils/jsonb.h"

#include "project_convert.h"
#include "project_path.h"

/* internal to the library (see the Makefile) */
#pragma GCC visibility push(hidden)

/*
 * tc_root_value
 *		The root of doc as a JsonbValue.  Inline: project() calls it for
 *		every document.
 */
static inline void
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

extern int	tc_key_cmp(const char *a, int alen, const char *b, int blen,
					   bool fold);
extern Datum tc_convert(TcState *st, TcConv *conv, const JsonbValue *v,
						bool *isnull);
extern void tc_fill_value(const JsonbContainer *jc, int index,
						  const char *base, uint32 offset, uint32 len,
						  JsonbValue *result);
extern Datum tc_project_value(TcState *st, TcConv *conv, const JsonbValue *v,
							  bool *isnull, MemoryContext resultcxt);

#pragma GCC visibility pop

#endif							/* TYPED_CACHE_PROJECT_EXEC_H */
