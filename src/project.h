/*-------------------------------------------------------------------------
 *
 * project.h
 *	  Typed projection of jsonb documents into composite types: what the
 *	  rest of typed_cache calls (project.c).
 *
 * Projection is layered, each layer a file with a header of its own that
 * says who may call it; lower layers never call or include higher ones:
 *
 *	project.c			typed_cache.project() and project_set(), and the
 *						entry points below
 *	project_registry.c	typed_cache.register() and unregister()
 *	project_plan.c		conversion plans: compiled, cached per backend,
 *						dropped on invalidation
 *	project_options.c	registration options: parsed, read from
 *						typed_cache.registrations
 *	project_exec.c		the executor of a plan: objects and arrays
 *	project_form.c		forming tuples and text arrays
 *	project_convert.c	conversion of JSON scalars; the plan's types
 *	project_path.c		JSON paths (messages, registered paths)
 *
 * Callers of this header: the cache (typed reads and schema on write).  No other file of projection includes it.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/project.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TYPED_CACHE_PROJECT_H
#define TYPED_CACHE_PROJECT_H

#include "postgres.h"

#include "utils/jsonb.h"

/* internal to the library (see the Makefile) */
#pragma GCC visibility push(hidden)

struct TcConv;

/*
 * Project a jsonb document into the composite type typid exactly as
 * typed_cache.project() does (registered options applied, same errors).
 * The result is a composite Datum allocated in CurrentMemoryContext, as are
 * the temporaries: call it in a short-lived context.  Raises 42804 if typid
 * is not a composite type (or a domain over one).
 */
extern Datum tc_project_jsonb(Jsonb *doc, Oid typid);

/*
 * The conversion plan for composite type typid (or a domain over one),
 * built and cached if needed; valid at least until the end of the current
 * transaction.  Raises 42804 if typid is not a composite type.  The cache
 * calls it to check a target type once, before projecting into it.
 */
extern struct TcConv *tc_get_conv(Oid typid);

#pragma GCC visibility pop

#endif							/* TYPED_CACHE_PROJECT_H */
