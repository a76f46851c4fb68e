/*-------------------------------------------------------------------------
 *
 * project_path.h
 *	  JSON paths in projection: the path of the value being converted,
 *	  kept for error messages, and the parsing of a field's registered
 *	  path.
 *
 * The lowest layer of projection: it calls nothing else of typed_cache,
 * and every other projection file may include it.  TcState, the state of
 * one conversion, is defined here because the path is most of it and every
 * layer passes it down; the conversion (TcConv) and the arena (TcArena) it
 * points to are defined in project_convert.h and project_form.h.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/project_path.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TYPED_CACHE_PROJECT_PATH_H
#define TYPED_CACHE_PROJECT_PATH_H

#include "postgres.h"

#include "utils/jsonb.h"

/* internal to the library (see the Makefile) */
#pragma GCC visibility push(hidden)

struct TcConv;
struct TcArena;

/* Per-call conversion state: where we are, for error messages. */
#define TC_MAX_DEPTH 64

typedef struct TcPathSeg
{
	const char *key;			/* NULL for an array index */
	int			keylen;
	int			index;
} TcPathSeg;

/*
 * The value being converted is copied into the state, not pointed to: it is
 * often a local of a frame that an error unwinds before tc_project_value()
 * describes it.  What the copy points to (the document, a default in the
 * plan) outlives the call.  seg comes last so that callers can clear
 * everything else with memset(st, 0, offsetof(TcState, seg)).
 */
typedef struct TcState
{
	int			depth;
	/* what was being converted when an error was raised */
	bool		cur_present;	/* false: a missing value */
	JsonbValue	cur_value;
	const struct TcConv *cur_conv;	/* lives in the plan */
	bool		own_error;		/* the error carries its path already */
	MemoryContext tuplecxt;		/* where to form the outermost tuple */
	struct TcArena *arena;		/* of the object being converted, or NULL */
	TcPathSeg	seg[TC_MAX_DEPTH];
} TcState;

/*
 * tc_path_push_key / tc_path_push_index
 *		Descend one level in the JSON path kept for error messages.  Levels
 *		beyond TC_MAX_DEPTH are counted but not recorded.  Inline: the
 *		executor calls them for every field and array element it converts
 *		out of line.
 */
static inline void
tc_path_push_key(TcState *st, const char *key, int keylen)
{
	if (st->depth < TC_MAX_DEPTH)
	{
		st->seg[st->depth].key = key;
		st->seg[st->depth].keylen = keylen;
	}
	st->depth++;
}

static inline void
tc_path_push_index(TcState *st, int index)
{
	if (st->depth < TC_MAX_DEPTH)
	{
		st->seg[st->depth].key = NULL;
		st->seg[st->depth].index = index;
	}
	st->depth++;
}

extern char *tc_path_string(const TcState *st);
extern bool tc_split_path(const char *path, char ***segs, int **lens,
						  int *nsegs);

#pragma GCC visibility pop

#endif							/* TYPED_CACHE_PROJECT_PATH_H */
