/*-------------------------------------------------------------------------
 *
 * project_plan.h
 *	  Conversion plans: compiling them, caching them per backend and
 *	  dropping them when the types they were built from change
 *	  (project_plan.c).
 *
 * Callers: typed_cache.c (the invalidation callbacks), project.c (the SQL functions and the entry points of
 * projection) and project_registry.c (register() validates options by
 * compiling a plan with them).  project_plan.c calls the layers below it:
 * project_exec.c, project_form.c, project_options.c and project_path.c.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/project_plan.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TYPED_CACHE_PROJECT_PLAN_H
#define TYPED_CACHE_PROJECT_PLAN_H

#include "postgres.h"

#include "access/xact.h"

#include "project_convert.h"
#include "project_options.h"

/* internal to the library (see the Makefile) */
#pragma GCC visibility push(hidden)

/* What project() keeps in fn_extra between calls. */
typedef struct TcCallCache
{
	Oid			typid;
	uint64		generation;
	TcConv	   *conv;
	MemoryContext scratch;		/* reset after every call */
} TcCallCache;

/* the plan cache's invalidation callbacks (typed_cache.c registers them) */
extern void tc_plan_relcache_callback(Datum arg, Oid relid);
extern void tc_plan_enum_callback(Datum arg, int cacheid, uint32 hashvalue);
extern void tc_plan_xact_callback(XactEvent event, void *arg);

extern void tc_check_composite(Oid typid);
extern TcConv *tc_plan_get_conv(Oid typid);
extern TcCallCache *tc_call_cache(TcCallCache **slot, FunctionCallInfo fcinfo,
								  MemoryContext mcxt);
extern TcPlan *tc_build_plan(Oid typid, const TcTypeOptions *opts);

#pragma GCC visibility pop

#endif							/* TYPED_CACHE_PROJECT_PLAN_H */
