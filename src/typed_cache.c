/*-------------------------------------------------------------------------
 *
 * typed_cache.c
 *	  Module entry point: the one place that defines every module's
 *	  settings and registers its shared memory, hooks and callbacks.
 *
 * No module installs a hook or asks for shared memory itself, and none
 * calls another just to be set up: each offers an init function (its
 * settings), shmem request and startup functions when it has shared
 * memory, and the functions that the hooks and callbacks below call.
 *
 * Projection works whether or not the library is preloaded.  The cache,
 * its coherence and the per-backend memory slots need shared memory, which
 * can only be requested when the library is listed in
 * shared_preload_libraries.
 *
 * The layers, lowest first (a file calls only files of lower layers; see
 * docs/contributing.md):
 *	  project_*: projection, on its own;
 *	  coherence_slots, coherence_own, coherence_fill: the slot table, this
 *	  transaction's invalidations, guarded fills;
 *	  cache_shard, cache_store: one shard, the cache's shared memory;
 *	  coherence_wal: WAL records of invalidations and their replay;
 *	  cache_xact: transactional puts, reads of one's own changes, the
 *	  invalidation operations;
 *	  coherence_commit: the transaction steps;
 *	  cache_sql, cache_views, cache_fetch, coherence_trigger,
 *	  coherence_citus: SQL-callable functions, triggers and Citus;
 *	  memstats*: memory views, on their own;
 *	  typed_cache: this file.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/typed_cache.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/objectaccess.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "tcop/utility.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/syscache.h"

#include "cache_fetch.h"
#include "cache_store.h"
#include "cache_xact.h"
#include "coherence_citus.h"
#include "coherence_commit.h"
#include "coherence_slots.h"
#include "coherence_trigger.h"
#include "coherence_wal.h"
#include "memstats.h"
#include "project_plan.h"

PG_MODULE_MAGIC;

extern PGDLLEXPORT void _PG_init(void);

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
static object_access_hook_type prev_object_access_hook = NULL;
static ProcessUtility_hook_type prev_process_utility_hook = NULL;
static ExecutorStart_hook_type prev_executor_start_hook = NULL;

/*
 * tc_shmem_request
 *		shmem_request_hook: every module's shared memory and locks.
 */
static void
tc_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	tc_cache_shmem_request();
	tc_coherence_shmem_request();
	tc_fetch_shmem_request();
	tc_memstats_shmem_request();
}

/*
 * tc_shmem_startup
 *		shmem_startup_hook: create (or, after a crash restart, re-create) or
 *		attach every module's shared memory.
 */
static void
tc_shmem_startup(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	tc_cache_shmem_startup();
	tc_coherence_shmem_startup();
	tc_fetch_shmem_startup();
	tc_memstats_shmem_startup();
	LWLockRelease(AddinShmemInitLock);
}

/*
 * tc_object_access
 *		object_access_hook: databases created and dropped (cache_store.c).
 */
static void
tc_object_access(ObjectAccessType access, Oid classId, Oid objectId,
				 int subId, void *arg)
{
	if (prev_object_access_hook)
		prev_object_access_hook(access, classId, objectId, subId, arg);
	tc_cache_object_access(access, classId, objectId);
}

/*
 * tc_process_utility
 *		ProcessUtility hook: refuse invalidate_trigger() as an INSTEAD OF
 *		trigger before anything is created (coherence_trigger.c), then,
 *		with Citus, invalidate around its DDL (coherence_citus.c).
 */
static void
tc_process_utility(PlannedStmt *pstmt, const char *queryString,
				   bool readOnlyTree, ProcessUtilityContext context,
				   ParamListInfo params, QueryEnvironment *queryEnv,
				   DestReceiver *dest, QueryCompletion *qc)
{
	Oid			watched;

	tc_trigger_check_utility(pstmt);
	watched = tc_citus_utility_begin(pstmt);
	if (prev_process_utility_hook)
		prev_process_utility_hook(pstmt, queryString, readOnlyTree, context,
								  params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
	tc_citus_utility_end(pstmt, watched);
}

/*
 * tc_executor_start
 *		ExecutorStart hook, with Citus only: note distributed plans
 *		(coherence_citus.c).
 */
static void
tc_executor_start(QueryDesc *queryDesc, int eflags)
{
	tc_citus_executor_start(queryDesc, eflags);
	if (prev_executor_start_hook)
		prev_executor_start_hook(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
}

/*
 * _PG_init
 *		Initialise every module of the extension.  Called once per process
 *		when the library is loaded.
 */
void
_PG_init(void)
{
	bool		citus;

	/* settings */
	tc_cache_init();
	tc_cache_xact_init();
	tc_fetch_init();
	tc_coherence_init();
	tc_wal_init();
	citus = tc_citus_init();
	tc_memstats_init();

	/* projection's plans: dropped when their types change, freed at the end */
	CacheRegisterRelcacheCallback(tc_plan_relcache_callback, (Datum) 0);
	CacheRegisterSyscacheCallback(ENUMOID, tc_plan_enum_callback, (Datum) 0);

	/*
	 * Transaction callbacks run in the reverse order of their registration:
	 * the backend's memory figures are published first, then a dropped
	 * database's entries go, Citus's flag is cleared, the commit steps of
	 * coherence run (and store the pending puts), fetch's flights end, and
	 * last projection frees the plans it dropped.
	 */
	RegisterXactCallback(tc_plan_xact_callback, NULL);
	RegisterXactCallback(tc_fetch_xact_callback, NULL);
	RegisterSubXactCallback(tc_fetch_subxact_callback, NULL);
	RegisterXactCallback(tc_coherence_xact_callback, NULL);
	RegisterSubXactCallback(tc_coherence_subxact_callback, NULL);

	/*
	 * Citus must be loaded first (it refuses to load after a library that
	 * set the executor and utility hooks): when it is listed but not loaded
	 * yet, the hooks are set anyway, so that the server refuses to start
	 * rather than run Citus unwatched.
	 */
	if (citus)
	{
		prev_executor_start_hook = ExecutorStart_hook;
		ExecutorStart_hook = tc_executor_start;
		RegisterXactCallback(tc_citus_xact_callback, NULL);
	}
	prev_process_utility_hook = ProcessUtility_hook;
	ProcessUtility_hook = tc_process_utility;

	if (process_shared_preload_libraries_in_progress)
	{
		prev_shmem_request_hook = shmem_request_hook;
		shmem_request_hook = tc_shmem_request;
		prev_shmem_startup_hook = shmem_startup_hook;
		shmem_startup_hook = tc_shmem_startup;
		prev_object_access_hook = object_access_hook;
		object_access_hook = tc_object_access;
		RegisterXactCallback(tc_cache_xact_callback, NULL);
		RegisterXactCallback(tc_memstats_xact_callback, NULL);
	}

	MarkGUCPrefixReserved("typed_cache");
}
