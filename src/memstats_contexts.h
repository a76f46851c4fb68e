/*-------------------------------------------------------------------------
 *
 * memstats_contexts.h
 *	  The walk of the current backend's memory-context tree, and the paths
 *	  and totals it yields.
 *
 * Who may use it: memstats.c (context names of the backend views) and
 * memstats_convergence.c.  It calls nothing else of typed_cache.
 *
 * memstats.c owns the GUCs, the per-backend shared-memory slots behind
 * typed_cache.backend_memory and their publication at transaction end.
 * memstats_contexts.c walks the current backend's memory-context tree for
 * typed_cache.memory_contexts, the session's snapshots and
 * typed_cache.memory_growth.  memstats_convergence.c runs
 * typed_cache.check_convergence.
 *
 * Both the snapshots and the convergence check measure the backend while
 * keeping memory of their own; that memory lives in contexts that the
 * walk and the totals leave out, so that observing does not look like
 * growth.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/memstats_contexts.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TYPED_CACHE_MEMSTATS_CONTEXTS_H
#define TYPED_CACHE_MEMSTATS_CONTEXTS_H

#include "postgres.h"

#include "utils/memutils.h"

/* internal to the library (see the Makefile) */
#pragma GCC visibility push(hidden)

/*
 * Separator between the context names of a path, and the character that
 * escapes a separator or itself inside a name: "PL/pgSQL function" under
 * TopMemoryContext has the path "TopMemoryContext/PL\/pgSQL function".
 */
#define TC_PATH_SEPARATOR	'/'
#define TC_PATH_ESCAPE		'\\'

/*
 * One context path of a snapshot: every context whose names from
 * TopMemoryContext down join to the same path, aggregated (hundreds of
 * same-named siblings such as "index info" become one entry).
 */
typedef struct TcPathEntry
{
	char	   *path;			/* escaped names joined by TC_PATH_SEPARATOR */
	char	   *name;			/* the last name, unescaped */
	int64		ncontexts;		/* contexts aggregated into this entry */
	int64		total_bytes;	/* sum of their allocated blocks */
	int64		used_bytes;		/* sum of their allocated minus free bytes */
} TcPathEntry;

/* memstats_contexts.c */
extern const char *tc_context_name(MemoryContext cxt);
extern int	tc_collect_paths(MemoryContext into, MemoryContext exclude,
							 TcPathEntry **entries, int64 *ncontexts);
extern int64 tc_allocated_bytes(MemoryContext exclude);
extern const char *tc_largest_growth_path(TcPathEntry *before, int nbefore,
										  TcPathEntry *after, int nafter,
										  int64 *delta);

#pragma GCC visibility pop

#endif							/* TYPED_CACHE_MEMSTATS_CONTEXTS_H */
