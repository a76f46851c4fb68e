/*-------------------------------------------------------------------------
 *
 * memstats_contexts.c
 *	  The current backend's memory-context tree, session snapshots of it
 *	  and the growth between two snapshots.
 *
 * typed_cache.memory_contexts lists every context of the calling backend
 * with the counters its methods->stats callback reports; figures are per
 * context, not per subtree, as in pg_backend_memory_contexts.
 *
 * A context is named as pg_backend_memory_contexts names it: by its name,
 * except that a hash table's context, which dynahash.c always calls
 * "dynahash", is named by its identifier, the table's name, so that a
 * growing "LOCALLOCK hash" is not lumped together with "Timezones".
 *
 * A snapshot reduces the tree to context paths (names from
 * TopMemoryContext down, joined by '/'), aggregating same-named siblings,
 * and keeps them in backend-local memory for the rest of the session.
 * Snapshots live in their own context, "typed_cache memory snapshots",
 * which every walk and every total here leaves out: otherwise taking a
 * snapshot would itself show up as growth in the next one.  Snapshots are
 * not transactional; a rolled-back transaction keeps the snapshots it
 * took.
 *
 * Names may contain '/' ("PL/pgSQL function"), so a path escapes each
 * '/' and '\' inside a name with a backslash: the path then splits into
 * its names in exactly one way, and two contexts share a path only when
 * their names from TopMemoryContext down are the same.  Every path this
 * file and memstats_convergence.c produce or compare is built here, by
 * tc_walk(), so they all escape alike.
 *
 * The walk visits every block of every context (the stats callbacks do),
 * so it costs O(blocks); it is meant for on-demand use, never for hot
 * paths.  It runs only in the calling backend and takes no locks.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/memstats_contexts.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/memnodes.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "compat.h"
#include "memstats_contexts.h"

/* Most snapshots one session may keep. */
#define TC_MAX_SNAPSHOTS	1000

/* Longest ident shown by memory_contexts, as pg_backend_memory_contexts. */
#define TC_IDENT_DISPLAY_SIZE	1024

/* One snapshot of the session; everything it owns lives in its cxt. */
typedef struct TcMemSnapshot
{
	MemoryContext cxt;			/* child of snapshot_store; owns all below */
	char	   *label;
	TimestampTz taken_at;
	int64		total_bytes;	/* allocated bytes, store left out */
	int64		ncontexts;		/* contexts walked */
	int			nentries;
	TcPathEntry *entries;		/* sorted by path */
	struct TcMemSnapshot *next;
} TcMemSnapshot;

/* Signature of the per-context callback of tc_walk(). */
typedef void (*TcContextVisitor) (MemoryContext cxt, int level,
								  const char *name, const char *path,
								  MemoryContextCounters *counters,
								  void *arg);

/* State of tc_collect_paths() while walking. */
typedef struct TcCollectState
{
	MemoryContext into;
	TcPathEntry *entries;
	int			nentries;
	int			maxentries;
	int64		ncontexts;
} TcCollectState;

/* One row of memory_growth() before sorting. */
typedef struct TcGrowthRow
{
	const char *path;
	const char *name;
	bool		has_before;
	bool		has_after;
	int64		before;
	int64		after;
	int64		delta;
} TcGrowthRow;

static MemoryContext snapshot_store = NULL;
static TcMemSnapshot *snapshots = NULL;
static int	nsnapshots = 0;
static int	generated_labels = 0;

PG_FUNCTION_INFO_V1(get_memory_contexts);
PG_FUNCTION_INFO_V1(memory_snapshot);
PG_FUNCTION_INFO_V1(memory_snapshot_drop);
PG_FUNCTION_INFO_V1(get_memory_snapshots);
PG_FUNCTION_INFO_V1(memory_growth);

/*
 * tc_context_type
 *		Name of the allocator behind a context, as PostgreSQL 18's
 *		pg_backend_memory_contexts.type spells it.
 */
static const char *
tc_context_type(MemoryContext cxt)
{
	switch (nodeTag(cxt))
	{
		case T_AllocSetContext:
			return "AllocSet";
		case T_GenerationContext:
			return "Generation";
		case T_SlabContext:
			return "Slab";
#ifdef TC_HAVE_BUMP_CONTEXT
		case T_BumpContext:
			return "Bump";
#endif
		default:
			return "???";
	}
}

/*
 * tc_context_name
 *		The name under which cxt is shown and aggregated: its identifier
 *		for a hash table's context, which dynahash.c names "dynahash" and
 *		identifies by the table's name, its name otherwise.
 *
 * This is how pg_backend_memory_contexts and MemoryContextStats() label
 * hash tables.  The result lives as long as cxt.  Neither allocates nor
 * raises an error, so that memstats.c may call it at transaction end.
 */
const char *
tc_context_name(MemoryContext cxt)
{
	if (cxt->ident != NULL && strcmp(cxt->name, "dynahash") == 0)
		return cxt->ident;
	return cxt->name;
}

/*
 * tc_append_path_name
 *		Append name to path, escaping TC_PATH_SEPARATOR and TC_PATH_ESCAPE
 *		with TC_PATH_ESCAPE.
 *
 * Byte by byte is safe in every server encoding: '/' and '\' never occur
 * inside a multibyte character of one.
 */
static void
tc_append_path_name(StringInfo path, const char *name)
{
	const char *p;

	for (p = name; *p != '\0'; p++)
	{
		if (*p == TC_PATH_SEPARATOR || *p == TC_PATH_ESCAPE)
			appendStringInfoChar(path, TC_PATH_ESCAPE);
		appendStringInfoChar(path, *p);
	}
}

/*
 * tc_walk
 *		Visit cxt and its descendants depth first, calling visit for each
 *		with its level (0 for the root), its name (tc_context_name()), its
 *		escaped path and its counters.
 *
 * The snapshot store and the caller's exclude context are skipped with
 * their subtrees.  path is a scratch buffer that is restored on return.
 * The visitor must not create or delete memory contexts.  This is the
 * only recursion of the memory-statistics code; check_stack_depth()
 * guards it against a context tree deeper than the stack.
 */
static void
tc_walk(MemoryContext cxt, int level, StringInfo path,
		MemoryContext exclude, TcContextVisitor visit, void *arg)
{
	int			saved_len = path->len;
	const char *name;
	MemoryContextCounters counters;
	MemoryContext child;

	check_stack_depth();

	if (cxt == exclude || cxt == snapshot_store)
		return;

	name = tc_context_name(cxt);
	if (level > 0)
		appendStringInfoChar(path, TC_PATH_SEPARATOR);
	tc_append_path_name(path, name);

	memset(&counters, 0, sizeof(counters));
	cxt->methods->stats(cxt, NULL, NULL, &counters, false);
	visit(cxt, level, name, path->data, &counters, arg);

	for (child = cxt->firstchild; child != NULL; child = child->nextchild)
		tc_walk(child, level + 1, path, exclude, visit, arg);

	path->len = saved_len;
	path->data[saved_len] = '\0';
}

/*
 * tc_allocated_bytes
 *		Bytes allocated by every context of the backend, leaving out the
 *		snapshot store and, when not NULL, the subtree of exclude (which
 *		must not lie inside the store).
 *
 * Uses the contexts' running mem_allocated counters, so it is cheap and
 * independent of the stats walk; the regression tests compare the two.
 */
int64
tc_allocated_bytes(MemoryContext exclude)
{
	int64		total;

	total = (int64) MemoryContextMemAllocated(TopMemoryContext, true);
	if (snapshot_store != NULL)
		total -= (int64) MemoryContextMemAllocated(snapshot_store, true);
	if (exclude != NULL)
		total -= (int64) MemoryContextMemAllocated(exclude, true);
	return total;
}

/*
 * tc_collect_visit
 *		tc_walk() callback of tc_collect_paths(): append one entry.
 */
static void
tc_collect_visit(MemoryContext cxt, int level, const char *name,
				 const char *path, MemoryContextCounters *counters,
				 void *arg)
{
	TcCollectState *state = (TcCollectState *) arg;
	TcPathEntry *entry;
	MemoryContext oldcxt;

	oldcxt = MemoryContextSwitchTo(state->into);
	if (state->nentries >= state->maxentries)
	{
		state->maxentries *= 2;
		state->entries = repalloc(state->entries,
								  sizeof(TcPathEntry) * state->maxentries);
	}
	entry = &state->entries[state->nentries++];
	entry->path = pstrdup(path);
	entry->name = pstrdup(name);
	entry->ncontexts = 1;
	entry->total_bytes = (int64) counters->totalspace;
	entry->used_bytes = (int64) (counters->totalspace - counters->freespace);
	state->ncontexts++;
	MemoryContextSwitchTo(oldcxt);
}

/*
 * tc_path_cmp
 *		qsort comparator ordering entries by path.
 */
static int
tc_path_cmp(const void *a, const void *b)
{
	return strcmp(((const TcPathEntry *) a)->path,
				  ((const TcPathEntry *) b)->path);
}

/*
 * tc_collect_paths
 *		Walk the backend's context tree into an array of path entries,
 *		sorted by path with same-path contexts aggregated.
 *
 * Everything is allocated in into, which the caller must keep out of the
 * walk: either a context under the snapshot store or the one passed as
 * exclude.  Returns the number of entries; *ncontexts receives the number
 * of contexts visited.
 */
int
tc_collect_paths(MemoryContext into, MemoryContext exclude,
				 TcPathEntry **entries, int64 *ncontexts)
{
	TcCollectState state;
	StringInfoData path;
	MemoryContext oldcxt;
	int			i;
	int			n;

	oldcxt = MemoryContextSwitchTo(into);
	initStringInfo(&path);
	state.into = into;
	state.maxentries = 256;
	state.nentries = 0;
	state.ncontexts = 0;
	state.entries = palloc(sizeof(TcPathEntry) * state.maxentries);
	MemoryContextSwitchTo(oldcxt);

	tc_walk(TopMemoryContext, 0, &path, exclude, tc_collect_visit, &state);

	pfree(path.data);

	if (state.nentries > 1)
		qsort(state.entries, state.nentries, sizeof(TcPathEntry),
			  tc_path_cmp);

	/* Merge runs of equal paths into their first entry. */
	n = 0;
	for (i = 0; i < state.nentries; i++)
	{
		if (n > 0 && strcmp(state.entries[n - 1].path,
							state.entries[i].path) == 0)
		{
			state.entries[n - 1].ncontexts += state.entries[i].ncontexts;
			state.entries[n - 1].total_bytes += state.entries[i].total_bytes;
			state.entries[n - 1].used_bytes += state.entries[i].used_bytes;
			pfree(state.entries[i].path);
			pfree(state.entries[i].name);
		}
		else
			state.entries[n++] = state.entries[i];
	}

	*entries = state.entries;
	*ncontexts = state.ncontexts;
	return n;
}

/*
 * tc_largest_growth_path
 *		Path whose allocated bytes grew most from before to after (both
 *		sorted by path), or NULL when nothing grew.  *delta receives the
 *		growth.
 */
const char *
tc_largest_growth_path(TcPathEntry *before, int nbefore,
					   TcPathEntry *after, int nafter, int64 *delta)
{
	const char *best = NULL;
	int64		best_delta = 0;
	int			i = 0;
	int			j = 0;

	while (j < nafter)
	{
		int			cmp;
		int64		d;

		cmp = (i < nbefore) ? strcmp(before[i].path, after[j].path) : 1;
		if (cmp < 0)
		{
			i++;
			continue;
		}
		if (cmp == 0)
			d = after[j].total_bytes - before[i++].total_bytes;
		else
			d = after[j].total_bytes;
		if (d > best_delta)
		{
			best_delta = d;
			best = after[j].path;
		}
		j++;
	}

	*delta = best_delta;
	return best;
}

/*
 * tc_contexts_visit
 *		tc_walk() callback of memory_contexts(): emit one row.
 */
static void
tc_contexts_visit(MemoryContext cxt, int level, const char *name,
				  const char *path, MemoryContextCounters *counters,
				  void *arg)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) arg;
	Datum		values[11];
	bool		nulls[11];

	memset(nulls, 0, sizeof(nulls));

	values[0] = CStringGetTextDatum(name);
	/* a hash table's identifier became its name: no ident, as core does */
	if (cxt->ident != NULL && name != cxt->ident)
	{
		int			len = strlen(cxt->ident);

		if (len > TC_IDENT_DISPLAY_SIZE - 1)
			len = pg_mbcliplen(cxt->ident, len, TC_IDENT_DISPLAY_SIZE - 1);
		values[1] = PointerGetDatum(cstring_to_text_with_len(cxt->ident,
															 len));
	}
	else
		nulls[1] = true;
	values[2] = CStringGetTextDatum(tc_context_type(cxt));
	values[3] = Int32GetDatum(level);
	values[4] = CStringGetTextDatum(path);
	if (cxt->parent != NULL)
		values[5] = CStringGetTextDatum(tc_context_name(cxt->parent));
	else
		nulls[5] = true;
	values[6] = Int64GetDatum((int64) counters->totalspace);
	values[7] = Int64GetDatum((int64) (counters->totalspace -
									   counters->freespace));
	values[8] = Int64GetDatum((int64) counters->freespace);
	values[9] = Int64GetDatum((int64) counters->freechunks);
	values[10] = Int64GetDatum((int64) counters->nblocks);

	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * get_memory_contexts
 *		SQL function behind the view typed_cache.memory_contexts: one row
 *		per memory context of the calling backend.
 *
 * Unlike snapshots this shows everything, the snapshot store included.
 */
Datum
get_memory_contexts(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	StringInfoData path;
	MemoryContext saved_store = snapshot_store;

	InitMaterializedSRF(fcinfo, 0);
	initStringInfo(&path);

	/* Show the store too: tc_walk() skips it only while it is set. */
	snapshot_store = NULL;
	PG_TRY();
	{
		tc_walk(TopMemoryContext, 0, &path, NULL, tc_contexts_visit, rsinfo);
	}
	PG_FINALLY();
	{
		snapshot_store = saved_store;
	}
	PG_END_TRY();

	return (Datum) 0;
}

/*
 * tc_find_snapshot
 *		The session's snapshot labelled label, or NULL.
 */
static TcMemSnapshot *
tc_find_snapshot(const char *label)
{
	TcMemSnapshot *snap;

	for (snap = snapshots; snap != NULL; snap = snap->next)
	{
		if (strcmp(snap->label, label) == 0)
			return snap;
	}
	return NULL;
}

/*
 * tc_get_snapshot
 *		Like tc_find_snapshot(), but a missing label is an error.
 */
static TcMemSnapshot *
tc_get_snapshot(const char *label)
{
	TcMemSnapshot *snap = tc_find_snapshot(label);

	if (snap == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("memory snapshot \"%s\" does not exist", label),
				 errhint("The view typed_cache.memory_snapshots lists the snapshots of the current session.")));
	return snap;
}

/*
 * tc_take_snapshot
 *		Walk the tree into a new context under the snapshot store and
 *		return the snapshot, not yet linked into the session's list.
 *
 * If the walk fails (out of memory), the half-built snapshot is freed.
 */
static TcMemSnapshot *
tc_take_snapshot(const char *label)
{
	MemoryContext cxt;
	TcMemSnapshot *snap;

	if (snapshot_store == NULL)
		snapshot_store = AllocSetContextCreate(TopMemoryContext,
											   "typed_cache memory snapshots",
											   ALLOCSET_SMALL_SIZES);

	cxt = AllocSetContextCreate(snapshot_store, "typed_cache snapshot",
								ALLOCSET_DEFAULT_SIZES);
	snap = MemoryContextAllocZero(cxt, sizeof(TcMemSnapshot));
	snap->cxt = cxt;
	PG_TRY();
	{
		snap->label = MemoryContextStrdup(cxt, label);
		snap->nentries = tc_collect_paths(cxt, NULL, &snap->entries,
										  &snap->ncontexts);
		snap->total_bytes = tc_allocated_bytes(NULL);
		snap->taken_at = GetCurrentTimestamp();
	}
	PG_CATCH();
	{
		MemoryContextDelete(cxt);
		PG_RE_THROW();
	}
	PG_END_TRY();

	return snap;
}

/*
 * memory_snapshot
 *		typed_cache.memory_snapshot(label text DEFAULT NULL) returns text.
 *
 * Records the calling backend's context tree under label, or under a
 * generated label "snapshot_N" when label is NULL, and returns the label.
 * Labels are unique within the session.
 */
Datum
memory_snapshot(PG_FUNCTION_ARGS)
{
	char	   *label;
	TcMemSnapshot *snap;
	TcMemSnapshot **tail;

	if (PG_ARGISNULL(0))
	{
		do
		{
			generated_labels++;
			label = psprintf("snapshot_%d", generated_labels);
		} while (tc_find_snapshot(label) != NULL);
	}
	else
	{
		label = text_to_cstring(PG_GETARG_TEXT_PP(0));
		if (label[0] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("memory snapshot label must not be empty"),
					 errhint("Pass a non-empty label, or NULL to have one generated.")));
		if (tc_find_snapshot(label) != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("memory snapshot \"%s\" already exists", label),
					 errhint("Choose another label, or drop the old snapshot with typed_cache.memory_snapshot_drop().")));
	}

	if (nsnapshots >= TC_MAX_SNAPSHOTS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many memory snapshots in this session"),
				 errdetail("A session can keep at most %d snapshots.",
						   TC_MAX_SNAPSHOTS),
				 errhint("Drop snapshots you no longer need with typed_cache.memory_snapshot_drop().")));

	snap = tc_take_snapshot(label);

	/* Append, so that the view lists snapshots in the order taken. */
	for (tail = &snapshots; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = snap;
	nsnapshots++;

	PG_RETURN_TEXT_P(cstring_to_text(label));
}

/*
 * memory_snapshot_drop
 *		typed_cache.memory_snapshot_drop(label text): forget a snapshot and
 *		free its memory.  An unknown label is an error.
 */
Datum
memory_snapshot_drop(PG_FUNCTION_ARGS)
{
	char	   *label = text_to_cstring(PG_GETARG_TEXT_PP(0));
	TcMemSnapshot **link;

	for (link = &snapshots; *link != NULL; link = &(*link)->next)
	{
		if (strcmp((*link)->label, label) == 0)
		{
			TcMemSnapshot *snap = *link;

			*link = snap->next;
			nsnapshots--;
			MemoryContextDelete(snap->cxt);
			PG_RETURN_VOID();
		}
	}

	(void) tc_get_snapshot(label);	/* raises the error */
	PG_RETURN_VOID();
}

/*
 * get_memory_snapshots
 *		SQL function behind the view typed_cache.memory_snapshots: the
 *		session's snapshots in the order they were taken.
 */
Datum
get_memory_snapshots(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TcMemSnapshot *snap;

	InitMaterializedSRF(fcinfo, 0);

	for (snap = snapshots; snap != NULL; snap = snap->next)
	{
		Datum		values[4];
		bool		nulls[4];

		memset(nulls, 0, sizeof(nulls));
		values[0] = CStringGetTextDatum(snap->label);
		values[1] = TimestampTzGetDatum(snap->taken_at);
		values[2] = Int64GetDatum(snap->total_bytes);
		values[3] = Int64GetDatum(snap->ncontexts);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc,
							 values, nulls);
	}

	return (Datum) 0;
}

/*
 * tc_growth_cmp
 *		qsort comparator: largest delta first, then by path.
 */
static int
tc_growth_cmp(const void *a, const void *b)
{
	const TcGrowthRow *ra = (const TcGrowthRow *) a;
	const TcGrowthRow *rb = (const TcGrowthRow *) b;

	if (ra->delta != rb->delta)
		return (ra->delta > rb->delta) ? -1 : 1;
	return strcmp(ra->path, rb->path);
}

/*
 * tc_emit_growth
 *		Merge two snapshots path by path into rsinfo's tuplestore, largest
 *		delta first.
 */
static void
tc_emit_growth(ReturnSetInfo *rsinfo, TcMemSnapshot *from, TcMemSnapshot *to)
{
	TcGrowthRow *rows;
	int			nrows = 0;
	int			i = 0;
	int			j = 0;
	int			k;

	rows = palloc(sizeof(TcGrowthRow) * (from->nentries + to->nentries + 1));

	/* Merge the two path-sorted arrays. */
	while (i < from->nentries || j < to->nentries)
	{
		TcGrowthRow *row = &rows[nrows++];
		int			cmp;

		if (i >= from->nentries)
			cmp = 1;
		else if (j >= to->nentries)
			cmp = -1;
		else
			cmp = strcmp(from->entries[i].path, to->entries[j].path);

		row->has_before = (cmp <= 0);
		row->has_after = (cmp >= 0);
		row->before = row->has_before ? from->entries[i].total_bytes : 0;
		row->after = row->has_after ? to->entries[j].total_bytes : 0;
		row->delta = row->after - row->before;
		if (row->has_before)
		{
			row->path = from->entries[i].path;
			row->name = from->entries[i].name;
			i++;
		}
		else
		{
			row->path = to->entries[j].path;
			row->name = to->entries[j].name;
		}
		if (row->has_after)
			j++;
	}

	if (nrows > 1)
		qsort(rows, nrows, sizeof(TcGrowthRow), tc_growth_cmp);

	for (k = 0; k < nrows; k++)
	{
		TcGrowthRow *row = &rows[k];
		Datum		values[7];
		bool		nulls[7];
		const char *status;

		memset(nulls, 0, sizeof(nulls));
		values[0] = CStringGetTextDatum(row->path);
		values[1] = CStringGetTextDatum(row->name);
		if (row->has_before)
			values[2] = Int64GetDatum(row->before);
		else
			nulls[2] = true;
		if (row->has_after)
			values[3] = Int64GetDatum(row->after);
		else
			nulls[3] = true;
		values[4] = Int64GetDatum(row->delta);
		if (row->has_before && row->before > 0)
			values[5] = Float8GetDatum(100.0 * (double) row->delta /
									   (double) row->before);
		else
			nulls[5] = true;

		if (!row->has_before)
			status = "new";
		else if (!row->has_after)
			status = "gone";
		else if (row->delta > 0)
			status = "grew";
		else if (row->delta < 0)
			status = "shrank";
		else
			status = "same";
		values[6] = CStringGetTextDatum(status);

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc,
							 values, nulls);
	}
}

/*
 * memory_growth
 *		typed_cache.memory_growth(from_label text, to_label text DEFAULT
 *		NULL): per context path, the allocated bytes in both snapshots.
 *
 * A NULL to_label compares with the tree as it is now; that temporary
 * snapshot is taken under the snapshot store and freed before returning.
 */
Datum
memory_growth(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TcMemSnapshot *volatile from;
	TcMemSnapshot *volatile to;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("from_label must not be null"),
				 errhint("Pass the label of a snapshot taken with typed_cache.memory_snapshot().")));

	InitMaterializedSRF(fcinfo, 0);

	from = tc_get_snapshot(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	if (!PG_ARGISNULL(1))
	{
		to = tc_get_snapshot(text_to_cstring(PG_GETARG_TEXT_PP(1)));
		tc_emit_growth(rsinfo, from, to);
	}
	else
	{
		to = tc_take_snapshot("now");
		PG_TRY();
		{
			tc_emit_growth(rsinfo, from, to);
		}
		PG_FINALLY();
		{
			MemoryContextDelete(to->cxt);
		}
		PG_END_TRY();
	}

	return (Datum) 0;
}
