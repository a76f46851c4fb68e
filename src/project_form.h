/*-------------------------------------------------------------------------
 *
 * project_form.h
 *	  Forming the composite values and text arrays typed_cache.project()
 *	  returns (project_form.c).
 *
 * Callers: project_exec.c (forming tuples and text arrays) and
 * project_plan.c (tc_layout_build(), when a plan is compiled).
 * project_form.c calls nothing else of typed_cache.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/project_form.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TYPED_CACHE_PROJECT_FORM_H
#define TYPED_CACHE_PROJECT_FORM_H

#include "postgres.h"

#include "utils/jsonb.h"

#include "project_convert.h"

/* internal to the library (see the Makefile) */
#pragma GCC visibility push(hidden)

/* Physical layout of one attribute, for the tuple former. */
typedef struct TcAttLayout
{
	int16		attlen;
	uint8		alignby;		/* 1, 2, 4 or 8 */
	bool		byval;
	bool		packable;		/* varlena that may get a 1-byte header */
} TcAttLayout;

/*
 * Room for small results (nested objects, arrays) that live until the
 * object being converted is formed: a buffer on that object's stack frame.
 */
typedef struct TcArena
{
	char	   *next;
	char	   *end;
} TcArena;

extern void *tc_alloc0(TcArena *arena, Size size);
extern void tc_layout_build(TcPlan *plan);
extern Datum tc_form_tuple(TcPlan *plan, Datum *values, bool *nulls,
						   int32 *textlen, MemoryContext cxt, TcArena *arena);
extern Datum tc_form_text_array(TcConv *conv, const JsonbContainer *jc,
								TcArena *arena);

#pragma GCC visibility pop

#endif							/* TYPED_CACHE_PROJECT_FORM_H */
