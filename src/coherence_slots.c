/*-------------------------------------------------------------------------
 *
 * coherence_slots.c
 *	  The slot table of coherence in shared memory: typed_cache.tag_slots
 *	  slots of tags and keys, a pair of slots per database, the global
 *	  invalidation sequence and the floors; tags' slots and checks.  See
 *	  coherence_slots.h for the design of coherence as a whole.
 *
 * Memory: 32 bytes per slot (inval_seq 8, horizon 8, marks 4, padded so that
 * a slot never straddles a cache line) and 64 bytes per database slot.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/coherence_slots.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/twophase.h"
#include "access/xlog.h"
#include "catalog/pg_control.h"
#include "catalog/pg_type.h"
#include "common/controldata_utils.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
#include "utils/array.h"
#include "utils/guc.h"

#include "coherence_slots.h"

/* GUC */
static int	tc_tag_slots = 65536;

TcCoherence *tc_coh = NULL;
TcTagSlot  *tc_coh_slots = NULL;
TcDbSlot   *tc_coh_dbs = NULL;
static pg_atomic_uint32 *tc_coh_dbids = NULL;

/* This backend's database's slots (tc_attach_db_slot). */
TcDbSlot   *tc_my_db = NULL;

/*
 * check_tc_tag_slots
 *		GUC check hook: typed_cache.tag_slots must be a power of two.
 */
static bool
check_tc_tag_slots(int *newval, void **extra, GucSource source)
{
	if ((*newval & (*newval - 1)) != 0)
	{
		GUC_check_errdetail("typed_cache.tag_slots must be a power of two.");
		return false;
	}
	return true;
}

/*
 * tc_coherence_init
 *		Define typed_cache.tag_slots (when preloading).  Called from
 *		_PG_init().
 */
void
tc_coherence_init(void)
{
	if (process_shared_preload_libraries_in_progress)
		DefineCustomIntVariable("typed_cache.tag_slots",
								gettext_noop("Number of tag slots that invalidations are recorded in (a power of two)."),
								gettext_noop("Tags hash into slots; a collision invalidates too much, never too little. Each slot takes 32 bytes of shared memory."),
								&tc_tag_slots,
								65536,
								1024,
								1 << 24,
								PGC_POSTMASTER,
								0,
								check_tc_tag_slots, NULL, NULL);
}

/*
 * tc_coherence_shmem_size
 *		Bytes of shared memory for the slots.
 */
static Size
tc_coherence_shmem_size(void)
{
	/* room to align the slots to a cache line */
	Size		size = CACHELINEALIGN(sizeof(TcCoherence)) + PG_CACHE_LINE_SIZE;

	size = add_size(size, mul_size(tc_tag_slots, sizeof(TcTagSlot)));
	size = add_size(size, mul_size(TC_DB_SLOTS + 1, sizeof(TcDbSlot)));
	size = add_size(size, mul_size(TC_DB_SLOTS, sizeof(pg_atomic_uint32)));
	return size;
}

/*
 * tc_slot_init
 *		A slot that nothing invalidated yet.
 */
static void
tc_slot_init(TcTagSlot *slot)
{
	pg_atomic_init_u64(&slot->inval_seq, 0);
	pg_atomic_init_u64(&slot->horizon, 0);
	pg_atomic_init_u32(&slot->marks, 0);
}

/*
 * tc_restart_floor
 *		The floor of fills after a start (see tc_restart_floor_ok), when
 *		transactions can be prepared (0 otherwise).  After a clean shutdown
 *		it is the next transaction id of the shutdown checkpoint: every
 *		transaction prepared before has a smaller one.  After a crash (or on
 *		a standby) transactions may have been prepared after the checkpoint
 *		the start replays from, and their invalidation records may be
 *		missing (typed_cache.wal_invalidation off, wal_level minimal): the
 *		floor is then the next transaction id when the first fill asks
 *		(TC_FLOOR_AT_FIRST_FILL), which is past all of them.
 */
static uint64
tc_restart_floor(void)
{
	ControlFileData *cf;
	bool		crc_ok;
	uint64		floor = TC_FLOOR_AT_FIRST_FILL;

	if (max_prepared_xacts == 0)
		return 0;
	cf = get_controlfile(DataDir, &crc_ok);
	if (crc_ok && cf->state == DB_SHUTDOWNED)
		floor = U64FromFullTransactionId(cf->checkPointCopy.nextXid);
	pfree(cf);
	return floor;
}

/*
 * tc_coherence_shmem_request
 *		Reserve the slots (typed_cache.c's shmem_request_hook).
 */
void
tc_coherence_shmem_request(void)
{
	RequestAddinShmemSpace(tc_coherence_shmem_size());
}

/*
 * tc_coherence_shmem_startup
 *		Create or attach the slots; caller holds AddinShmemInitLock.
 */
void
tc_coherence_shmem_startup(void)
{
	bool		found;

	tc_coh = ShmemInitStruct("typed_cache coherence",
							 tc_coherence_shmem_size(), &found);
	tc_coh_slots = (TcTagSlot *)
		CACHELINEALIGN((char *) tc_coh + sizeof(TcCoherence));
	tc_coh_dbs = (TcDbSlot *) (tc_coh_slots + tc_tag_slots);
	tc_coh_dbids = (pg_atomic_uint32 *) (tc_coh_dbs + TC_DB_SLOTS + 1);
	if (!found)
	{
		pg_atomic_init_u64(&tc_coh->seq, 1);
		pg_atomic_init_u64(&tc_coh->standby_floor, 0);
		pg_atomic_init_u64(&tc_coh->restart_floor, tc_restart_floor());
		pg_atomic_init_u64(&tc_coh->escalations, 0);
		pg_atomic_init_u64(&tc_coh->wal_written, 0);
		pg_atomic_init_u64(&tc_coh->wal_replayed, 0);
		pg_atomic_init_u64(&tc_coh->wal_replay_lsn, 0);
		tc_coh->nslots = tc_tag_slots;
		for (int i = 0; i < tc_tag_slots; i++)
			tc_slot_init(&tc_coh_slots[i]);
		for (int i = 0; i <= TC_DB_SLOTS; i++)
		{
			tc_slot_init(&tc_coh_dbs[i].tags);
			tc_slot_init(&tc_coh_dbs[i].keys);
		}
		for (int i = 0; i < TC_DB_SLOTS; i++)
			pg_atomic_init_u32(&tc_coh_dbids[i], 0);
	}
}

/*
 * tc_db_slot
 *		The slots of database dbid, taken at its first use.  A database
 *		keeps them until the server stops (a database that reuses the OID of
 *		a dropped one inherits them: it can only invalidate too much).  Past
 *		TC_DB_SLOTS databases, the others share one: their escalations then
 *		invalidate each other's entries.  Lock-free; cannot fail.
 */
TcDbSlot *
tc_db_slot(Oid dbid)
{
	uint32		start = hash_uint32((uint32) dbid) & (TC_DB_SLOTS - 1);

	if (dbid == InvalidOid)
		return &tc_coh_dbs[TC_DB_SLOTS];
	for (uint32 i = 0; i < TC_DB_SLOTS; i++)
	{
		uint32		at = (start + i) & (TC_DB_SLOTS - 1);
		uint32		cur = pg_atomic_read_u32(&tc_coh_dbids[at]);

		/* a failed exchange leaves the database that took it in cur */
		if (cur == 0 &&
			pg_atomic_compare_exchange_u32(&tc_coh_dbids[at], &cur,
										   (uint32) dbid))
			return &tc_coh_dbs[at];
		if (cur == (uint32) dbid)
			return &tc_coh_dbs[at];
	}
	return &tc_coh_dbs[TC_DB_SLOTS];
}

/*
 * tc_attach_db_slot
 *		Find this backend's database's slots (tc_require_cache calls it
 *		once).
 */
void
tc_attach_db_slot(void)
{
	tc_my_db = tc_db_slot(MyDatabaseId);
}

/*
 * tc_tag_slot
 *		The slot of a tag in the current database.
 */
uint32
tc_tag_slot(const char *tag, int len)
{
	uint64		h = hash_bytes_extended((const unsigned char *) tag, len,
										(uint64) MyDatabaseId ^
										UINT64CONST(0x7461677300000000));

	return (uint32) h & (tc_coh->nslots - 1);
}

/*
 * tc_slot_replay
 *		A committed (or, on a standby, replayed) invalidation of a slot by
 *		transaction fxid: its horizon becomes at least fxid, then its
 *		counter moves.  Reads and writes atomics only: cannot fail.
 */
void
tc_slot_replay(TcTagSlot *slot, uint64 fxid)
{
	uint64		old = pg_atomic_read_u64(&slot->horizon);

	while (old < fxid &&
		   !pg_atomic_compare_exchange_u64(&slot->horizon, &old, fxid))
		;
	pg_write_barrier();
	pg_atomic_write_u64(&slot->inval_seq,
						pg_atomic_add_fetch_u64(&tc_coh->seq, 1));
}

/*
 * tc_tags_deconstruct
 *		The elements of a tags argument, which must be one-dimensional.
 */
void
tc_tags_deconstruct(ArrayType *arr, Datum **elems, bool **nulls, int *n)
{
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tags must be a one-dimensional array")));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT,
					  elems, nulls, n);
}

/*
 * tc_check_tag
 *		Raise an error unless a tag of len bytes is allowed.
 */
void
tc_check_tag(Size len)
{
	if (len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cache tags must not be empty")));
	if (len > TC_MAX_TAG_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("cache tag is too long"),
				 errdetail("The tag has %zu bytes; tags are limited to %d bytes.",
						   len, TC_MAX_TAG_BYTES)));
}
