/*-------------------------------------------------------------------------
 *
 * memstats.c
 *	  Memory-statistics GUCs and the per-backend shared-memory slots behind
 *	  typed_cache.backend_memory.
 *
 * When typed_cache is preloaded it reserves one slot per PGPROC that can
 * run transactions (MaxBackends plus the auxiliary processes), indexed by
 * the process's pgprocno.  A backend writes only its own slot, from a
 * transaction-end callback: at its first transaction end and then at most
 * every typed_cache.memory_publish_interval milliseconds.  It publishes
 * MemoryContextMemAllocated(TopMemoryContext) and the largest child of
 * TopMemoryContext, named as memory_contexts names it (a hash table by the
 * table's name), which costs a walk over the context headers but no
 * block walk.  The slot is emptied in a before_shmem_exit callback.
 *
 * Writers never block and never take a lock: each slot carries a change
 * counter that the writer makes odd before and even after its update
 * (the PgBackendStatus.st_changecount protocol), inside a critical
 * section; readers copy the slot and retry until they saw the same even
 * counter before and after the copy.  Nothing in the write path can
 * raise an error or allocate memory, which matters because it also runs
 * at transaction abort.
 *
 * The figures are what the backend last published: an idle backend goes
 * stale (published_at says how stale), a peak inside a query is missed,
 * and at transaction end the transaction's own contexts still count.
 *
 * Without preloading no slots exist; backend_memory then raises an error
 * while the views of the current backend (memstats_contexts.c) still work.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/memstats.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "commands/dbcommands.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "compat.h"
#include "memstats.h"
#include "memstats_contexts.h"

/* Smallest non-zero publication interval, in milliseconds. */
#define TC_MIN_PUBLISH_INTERVAL	10

/* Transaction ends within one statement between two clock reads. */
#define TC_XACTS_PER_CLOCK_READ	1024

/* One backend's published memory figures. */
typedef struct TcMemSlot
{
	uint32		changecount;	/* odd while the owner writes */
	int			pid;			/* 0 when the slot is empty */
	Oid			databaseid;
	Oid			roleid;
	BackendType backend_type;
	int64		allocated_bytes;
	int64		peak_bytes;
	int64		first_bytes;
	int64		top_context_bytes;
	TimestampTz published_at;
	char		top_context[NAMEDATALEN];
} TcMemSlot;

/* The shared array of slots. */
typedef struct TcMemShared
{
	int			nslots;
	TcMemSlot	slots[FLEXIBLE_ARRAY_MEMBER];
} TcMemShared;

/* GUC variables */
static int	tc_memory_publish_interval = 1000;
static int	tc_memory_history_retention = 7 * 24 * 60 * 60;


/* Shared state, NULL unless preloaded */
static TcMemShared *tc_mem_shared = NULL;

/* This backend's publication state */
static bool tc_published_once = false;
static TimestampTz tc_last_publish = 0;
static int64 tc_first_bytes = 0;
static int64 tc_peak_bytes = 0;
static TimestampTz tc_last_stmt_start = 0;
static uint32 tc_xacts_in_stmt = 0;

PG_FUNCTION_INFO_V1(get_backend_memory);

/*
 * tc_memstats_slot_count
 *		Number of slots: every PGPROC that can run a transaction.
 *
 * Valid from the shmem_request_hook on; MaxBackends is 0 in _PG_init.
 */
static int
tc_memstats_slot_count(void)
{
	return MaxBackends + NUM_AUXILIARY_PROCS;
}

/*
 * tc_memstats_shmem_size
 *		Bytes of shared memory the slot array needs.
 */
static Size
tc_memstats_shmem_size(void)
{
	return add_size(offsetof(TcMemShared, slots),
					mul_size(tc_memstats_slot_count(), sizeof(TcMemSlot)));
}

/*
 * tc_memstats_shmem_request
 *		Reserve the slot array (typed_cache.c's shmem_request_hook).
 */
void
tc_memstats_shmem_request(void)
{
	RequestAddinShmemSpace(tc_memstats_shmem_size());
}

/*
 * tc_memstats_shmem_startup
 *		Create or attach to the slot array (typed_cache.c's
 *		shmem_startup_hook, which holds AddinShmemInitLock).
 *		Freshly created slots are all empty.
 */
void
tc_memstats_shmem_startup(void)
{
	bool		found;
	Size		size = tc_memstats_shmem_size();

	tc_mem_shared = ShmemInitStruct("typed_cache memory slots", size, &found);
	if (!found)
	{
		memset(tc_mem_shared, 0, size);
		tc_mem_shared->nslots = tc_memstats_slot_count();
	}
}

/*
 * tc_my_slot
 *		This process's slot, or NULL when there is none (not preloaded, no
 *		PGPROC yet, or a PGPROC outside the array such as a prepared
 *		transaction's).
 */
static volatile TcMemSlot *
tc_my_slot(void)
{
	int			procno;

	if (tc_mem_shared == NULL || MyProc == NULL)
		return NULL;
	procno = TC_MY_PROC_NUMBER;
	if (procno < 0 || procno >= tc_mem_shared->nslots)
		return NULL;
	return &tc_mem_shared->slots[procno];
}

/*
 * tc_memstats_shmem_exit
 *		before_shmem_exit callback: empty this backend's slot so that the
 *		backend disappears from backend_memory as it exits.
 */
static void
tc_memstats_shmem_exit(int code, Datum arg)
{
	volatile TcMemSlot *slot = tc_my_slot();

	if (slot == NULL)
		return;

	START_CRIT_SECTION();
	slot->changecount++;
	pg_write_barrier();
	slot->pid = 0;
	pg_write_barrier();
	slot->changecount++;
	END_CRIT_SECTION();
}

/*
 * tc_publish
 *		Write this backend's current figures into its slot.
 *
 * Must not allocate or raise errors: it runs at transaction end, aborts
 * included.  The context names it reads are static strings or live as
 * long as their contexts.  A hash table's name can be longer than the
 * slot's field; it is cut at a character boundary, so that readers never
 * see half a multibyte character.
 */
static void
tc_publish(volatile TcMemSlot *slot, TimestampTz now)
{
	int64		allocated;
	int64		top_bytes = 0;
	const char *top_name = NULL;
	int			top_len = 0;
	MemoryContext child;

	allocated = (int64) MemoryContextMemAllocated(TopMemoryContext, false);
	for (child = TopMemoryContext->firstchild; child != NULL;
		 child = child->nextchild)
	{
		int64		bytes = (int64) MemoryContextMemAllocated(child, true);

		allocated += bytes;
		if (top_name == NULL || bytes > top_bytes)
		{
			top_bytes = bytes;
			top_name = tc_context_name(child);
		}
	}
	if (top_name != NULL)
	{
		top_len = strlen(top_name);
		if (top_len > NAMEDATALEN - 1)
			top_len = pg_mbcliplen(top_name, top_len, NAMEDATALEN - 1);
	}

	if (!tc_published_once)
	{
		before_shmem_exit(tc_memstats_shmem_exit, (Datum) 0);
		tc_first_bytes = allocated;
		tc_peak_bytes = allocated;
		tc_published_once = true;
	}
	if (allocated > tc_peak_bytes)
		tc_peak_bytes = allocated;
	tc_last_publish = now;

	START_CRIT_SECTION();
	slot->changecount++;
	pg_write_barrier();
	slot->pid = MyProcPid;
	slot->databaseid = MyDatabaseId;
	slot->roleid = MyProc->roleId;
	slot->backend_type = MyBackendType;
	slot->allocated_bytes = allocated;
	slot->peak_bytes = tc_peak_bytes;
	slot->first_bytes = tc_first_bytes;
	slot->top_context_bytes = top_bytes;
	slot->published_at = now;
	if (top_len > 0)
		memcpy((char *) slot->top_context, top_name, top_len);
	slot->top_context[top_len] = '\0';
	pg_write_barrier();
	slot->changecount++;
	END_CRIT_SECTION();
}

/*
 * tc_memstats_xact_callback
 *		Transaction-end callback: publish at the first transaction end and
 *		then at most every typed_cache.memory_publish_interval ms.
 *
 * The fast path reads no clock: it compares the start time of the current
 * statement, which PostgreSQL records anyway, with the last publication.
 * Transactions that end within one statement (a procedure committing in
 * a loop, a background worker that never sets a statement time) read the
 * clock once every TC_XACTS_PER_CLOCK_READ transaction ends instead.
 */
void
tc_memstats_xact_callback(XactEvent event, void *arg)
{
	volatile TcMemSlot *slot;
	TimestampTz now;
	TimestampTz stmt_start;

	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			break;
		default:
			return;
	}

	if (tc_memory_publish_interval <= 0)
		return;

	if (tc_published_once)
	{
		stmt_start = GetCurrentStatementStartTimestamp();
		if (stmt_start != tc_last_stmt_start)
		{
			tc_last_stmt_start = stmt_start;
			tc_xacts_in_stmt = 0;
			now = stmt_start;
		}
		else if (++tc_xacts_in_stmt % TC_XACTS_PER_CLOCK_READ == 0)
			now = GetCurrentTimestamp();
		else
			return;

		if (!TimestampDifferenceExceeds(tc_last_publish, now,
										tc_memory_publish_interval))
			return;
	}
	now = GetCurrentTimestamp();

	slot = tc_my_slot();
	if (slot == NULL)
		return;

	tc_publish(slot, now);
}

/*
 * tc_check_publish_interval
 *		GUC check hook: 0 or at least TC_MIN_PUBLISH_INTERVAL ms.
 */
static bool
tc_check_publish_interval(int *newval, void **extra, GucSource source)
{
	if (*newval != 0 && *newval < TC_MIN_PUBLISH_INTERVAL)
	{
		GUC_check_errdetail("typed_cache.memory_publish_interval must be 0 (off) or at least %d ms.",
							TC_MIN_PUBLISH_INTERVAL);
		return false;
	}
	return true;
}

/*
 * tc_memstats_init
 *		Define the GUCs (typed_cache.c registers the rest).
 */
void
tc_memstats_init(void)
{
	DefineCustomIntVariable("typed_cache.memory_publish_interval",
							gettext_noop("Sets the minimum time between two publications of a backend's memory figures in typed_cache.backend_memory."),
							gettext_noop("A backend publishes at its first transaction end and then at transaction end at most this often. 0 turns publication off."),
							&tc_memory_publish_interval,
							1000,
							0,
							INT_MAX,
							PGC_SUSET,
							GUC_UNIT_MS,
							tc_check_publish_interval,
							NULL,
							NULL);

	DefineCustomIntVariable("typed_cache.memory_history_retention",
							gettext_noop("Sets how long typed_cache.sample_memory() keeps rows of typed_cache.memory_history."),
							gettext_noop("Older rows are deleted at each sample. 0 keeps every row."),
							&tc_memory_history_retention,
							7 * 24 * 60 * 60,
							0,
							INT_MAX,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL,
							NULL,
							NULL);
}

/*
 * tc_read_slot
 *		Copy a slot consistently: retry until the change counter was the
 *		same even value before and after the copy.
 */
static void
tc_read_slot(volatile TcMemSlot *slot, TcMemSlot *copy)
{
	for (;;)
	{
		uint32		before;
		uint32		after;

		before = slot->changecount;
		pg_read_barrier();
		memcpy(copy, (const TcMemSlot *) slot, sizeof(TcMemSlot));
		pg_read_barrier();
		after = slot->changecount;
		if (before == after && (before & 1) == 0)
			break;
		CHECK_FOR_INTERRUPTS();
	}
	copy->top_context[NAMEDATALEN - 1] = '\0';
}

/*
 * get_backend_memory
 *		SQL function behind the view typed_cache.backend_memory: one row
 *		per backend that has published.
 *
 * As pg_stat_activity, members of pg_read_all_stats see every backend;
 * other roles see the backends of roles whose privileges they have.
 */
Datum
get_backend_memory(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			userid = GetUserId();
	bool		see_all;
	int			i;

	if (tc_mem_shared == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("typed_cache.backend_memory requires typed_cache to be preloaded"),
				 errdetail("The per-backend memory slots live in shared memory, which is reserved at server start."),
				 errhint("Add typed_cache to shared_preload_libraries and restart the server.")));

	InitMaterializedSRF(fcinfo, 0);
	see_all = has_privs_of_role(userid, ROLE_PG_READ_ALL_STATS);

	for (i = 0; i < tc_mem_shared->nslots; i++)
	{
		TcMemSlot	copy;
		Datum		values[11];
		bool		nulls[11];
		char	   *datname = NULL;
		char	   *usename = NULL;

		tc_read_slot(&tc_mem_shared->slots[i], &copy);
		if (copy.pid == 0)
			continue;
		if (!see_all && !has_privs_of_role(userid, copy.roleid))
			continue;

		memset(nulls, 0, sizeof(nulls));
		if (OidIsValid(copy.databaseid))
			datname = get_database_name(copy.databaseid);
		if (OidIsValid(copy.roleid))
			usename = GetUserNameFromId(copy.roleid, true);

		values[0] = Int32GetDatum(copy.pid);
		if (datname != NULL)
			values[1] = CStringGetTextDatum(datname);
		else
			nulls[1] = true;
		if (usename != NULL)
			values[2] = CStringGetTextDatum(usename);
		else
			nulls[2] = true;
		values[3] = CStringGetTextDatum(GetBackendTypeDesc(copy.backend_type));
		values[4] = Int64GetDatum(copy.allocated_bytes);
		values[5] = Int64GetDatum(copy.peak_bytes);
		values[6] = Int64GetDatum(copy.first_bytes);
		values[7] = Int64GetDatum(copy.allocated_bytes - copy.first_bytes);
		values[8] = CStringGetTextDatum(copy.top_context);
		values[9] = Int64GetDatum(copy.top_context_bytes);
		values[10] = TimestampTzGetDatum(copy.published_at);

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc,
							 values, nulls);
	}

	return (Datum) 0;
}
