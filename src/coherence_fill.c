/*-------------------------------------------------------------------------
 *
 * coherence.c
 *	  Invalidation that follows transactions, guarded fills and leases:
 *	  typed_cache.invalidate() and the transactional side of delete() and
 *	  put().
 *
 * Tags.  An entry may carry up to TC_MAX_TAGS tags.  A tag is not stored
 * anywhere by itself: a hash of (database, tag) picks one of
 * typed_cache.tag_slots slots, and invalidating a tag invalidates its slot,
 * so a collision invalidates too much, never too little, and invalidate()
 * costs O(number of tags) whatever the size of the cache.  A key is
 * treated as a tag of its own entry for fills (its slot comes from the
 * key's hash), so delete() and invalidate() share one mechanism.
 *
 * Shared state per slot: inval_seq, the value of a global sequence when
 * the slot was last invalidated; horizon, the newest (largest) full
 * transaction id that committed an invalidation of the slot; marks, the
 * number of transactions between their pre-commit and commit steps that
 * invalidate it.  An entry records the global sequence at the time it was
 * filled (fill_seq) and the slots of its tags; a read treats it as a miss
 * if any of those slots has inval_seq > fill_seq.
 *
 * A transaction's invalidations take effect in three steps:
 *	- at the call: the slots are remembered as this transaction's own,
 *	  which its own reads treat as misses until it ends (other sessions
 *	  keep reading what they could read before: the change is not
 *	  committed); delete() also removes the entry at once;
 *	- at XACT_EVENT_PRE_COMMIT (which may still fail): the slots are marked
 *	  and bumped again, deleted keys are removed again.  From here until
 *	  the mark is cleared, fills of those slots are refused and reads miss
 *	  anything filled before, which closes the gap between the commit
 *	  becoming visible and the commit callback;
 *	- at XACT_EVENT_COMMIT (which must not fail; nothing here allocates or
 *	  raises): each slot's horizon becomes at least this transaction's id,
 *	  inval_seq is bumped once more and the mark is cleared.
 * An abort only clears marks it set, so a rolled-back invalidate() leaves
 * the cache as it was.  A subtransaction that rolls back takes its
 * invalidations off this transaction's list.
 *
 * Two-phase commit.  At XACT_EVENT_PRE_PREPARE all three steps run at
 * once, the horizons becoming the prepared transaction's id: that id keeps
 * running until COMMIT PREPARED or ROLLBACK PREPARED (on standbys too,
 * which replay the record written at PREPARE), so every snapshot taken
 * meanwhile has an xmin that does not pass the horizons and its fills are
 * refused, and a snapshot taken after COMMIT PREPARED sees the changes.  A
 * rollback leaves an invalidation that was not needed.  The transaction's
 * own puts are not kept: each becomes a delete of its key.  A restart
 * loses the horizons of transactions still prepared: fills then wait for a
 * floor (tc_restart_floor_ok) that every such transaction precedes.
 *
 * Guarded fills.  A put is refused (a miss for the next reader, counted in
 * stale_refusals) unless, for its key slot and every tag slot: no
 * transaction is committing an invalidation (marks = 0), the slot's horizon
 * precedes the xmin of the snapshot the value was computed from (so every
 * transaction that invalidated it had ended before that snapshot and the
 * snapshot sees its changes) and, when a lease is used, the slot was not
 * invalidated since the lease was taken.  Transaction id order is not
 * commit order, so the horizon is a maximum compared with xmin, never
 * "latest commit wins".  The snapshot is the caller's active snapshot,
 * except when the session missed this key earlier: the miss is a lease,
 * and it records the global sequence and the active snapshot's xmin at the
 * miss, which covers the cache-aside pattern of a get() that misses, a
 * query in a later statement or transaction, and a put().
 *
 * Transactional put.  Inside a transaction block, with
 * typed_cache.transactional_put on, a put is kept in this backend (its own
 * reads see it) and applied at commit, after the checks above are made
 * again; a rollback (or rollback to a savepoint) discards it.
 *
 * Escalation.  Each database has two slots of its own (TcDbSlot): tags,
 * checked by every read of a tagged entry and every tagged fill of the
 * database, and keys, checked by every fill of it.  A transaction past
 * 4096 distinct slots invalidates its database's tags slot instead (its
 * deleted keys' slots are still invalidated one by one); one past 8192
 * deleted keys invalidates both and removes every entry of the database.
 * Neither touches another database (but for the shared-slot overflow past
 * TC_DB_SLOTS databases).
 *
 * Memory: 32 bytes per slot in shared memory (inval_seq 8, horizon 8,
 * marks 4, padded so that a slot never straddles a cache line), and 64
 * bytes per database slot; per backend a bitmap of nslots bits and a list
 * of the slots this transaction invalidated (at most 4096).  Pending
 * deleted keys (8192) and puts (64 MB of entries, cache.c) are bounded;
 * past the bound a transaction escalates or turns the put into a delete:
 * less hit rate, never a stale entry and never an error at commit.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/coherence.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/twophase.h"
#include "access/xlog.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/controldata_utils.h"
#include "common/hashfn.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/procarray.h"
#include "storage/shmem.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "cache.h"
#include "coherence.h"
#include "compat.h"

/* Deleted keys one transaction remembers before escalating. */
#define TC_MAX_PENDING_DELETES	8192

/* Distinct slots one transaction invalidates before escalating. */
#define TC_MAX_OWN_SLOTS		4096

/* Leases one backend keeps (direct-mapped by key hash). */
#define TC_LEASES				256

/* GUC */
static int	tc_tag_slots = 65536;

TcCoherence *tc_coh = NULL;
TcTagSlot  *tc_coh_slots = NULL;
static TcDbSlot *tc_coh_dbs = NULL;
static pg_atomic_uint32 *tc_coh_dbids = NULL;

/* This backend's database's slots (tc_attach_db_slot). */
TcDbSlot   *tc_my_db = NULL;

/* ---- this backend's transaction state ---- */

bool		tc_own_pending = false;
static uint8 *tc_own_bitmap = NULL;
static TcOwnSlot *tc_own_slots = NULL;
static int	tc_nown = 0;
static int	tc_own_cap = 0;
static TcOwnDelete *tc_own_deletes = NULL;
static int	tc_nown_deletes = 0;
static int	tc_escalated_level = 0;	/* 0: not escalated */
static int	tc_all_slots_level = 0; /* every tag, past TC_MAX_OWN_SLOTS */
static bool tc_bitmap_unlisted = false; /* bits set beyond tc_own_slots */
static bool tc_marked = false;	/* pre-commit marked our slots */
static FullTransactionId tc_commit_fxid;

/* A lease: the state of things when this backend missed a key. */
typedef struct TcLease
{
	bool		used;
	uint32		hash;
	uint32		len;
	char	   *key;
	uint64		seq;
	uint64		xmin;
} TcLease;

static TcLease *tc_leases = NULL;
bool		tc_have_leases = false;
bool		tc_floors_done = false;

/* A restart floor that the first fill sets (tc_restart_floor). */
#define TC_FLOOR_AT_FIRST_FILL	PG_UINT64_MAX

/* Fills between two tries to lift the restart floor (tc_floors_ok). */
#define TC_FLOOR_RETRY			128
static uint32 tc_floor_tries = 0;

static bool tc_own_key_slot_pending(uint32 slot);
static void tc_coherence_xact_callback(XactEvent event, void *arg);
static void tc_coherence_subxact_callback(SubXactEvent event,
										  SubTransactionId mySubid,
										  SubTransactionId parentSubid,
										  void *arg);

PG_FUNCTION_INFO_V1(tc_invalidate);

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
 *		Define typed_cache.tag_slots (when preloading) and register the
 *		transaction callbacks.  Called from tc_cache_init().
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
	RegisterXactCallback(tc_coherence_xact_callback, NULL);
	RegisterSubXactCallback(tc_coherence_subxact_callback, NULL);
	tc_wal_init();
	tc_citus_init();
}

/*
 * tc_coherence_shmem_size
 *		Bytes of shared memory for the slots.
 */
Size
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
 * tc_full_xid
 *		A transaction id that something running holds back (a snapshot's
 *		xmin, a horizon) as a full transaction id.
 */
static uint64
tc_full_xid(TransactionId xid)
{
	FullTransactionId next;
	uint32		epoch;

	/*
	 * Any value of the next-xid counter read after xid was taken is at
	 * least xid and less than 2^31 ahead of it (what holds xid holds the
	 * horizon back): enough to give xid its epoch, so where a 64-bit read
	 * cannot tear the counter is read without XidGenLock.
	 */
#ifdef PG_HAVE_8BYTE_SINGLE_COPY_ATOMICITY
	next = *(volatile FullTransactionId *) &TC_TRANSAM_VARIABLES->nextXid;
#else
	next = ReadNextFullTransactionId();
#endif
	epoch = EpochFromFullTransactionId(next);

	if (!TransactionIdIsNormal(xid))
		return U64FromFullTransactionId(next);
	if (xid > XidFromFullTransactionId(next))
		epoch--;
	return U64FromFullTransactionId(FullTransactionIdFromEpochAndXid(epoch, xid));
}

/*
 * tc_snapshot_xmin
 *		The xmin of the active snapshot (the statement's, or the
 *		transaction's under REPEATABLE READ) as a full transaction id.
 */
static uint64
tc_snapshot_xmin(void)
{
	Snapshot	snap = ActiveSnapshotSet() ? GetActiveSnapshot() :
		GetTransactionSnapshot();

	return tc_full_xid(snap->xmin);
}

/* ---- leases ---- */

/*
 * tc_lease_for
 *		The lease table entry for a key hash.
 */
static TcLease *
tc_lease_for(uint32 hash)
{
	if (tc_leases == NULL)
	{
		tc_leases = MemoryContextAllocZero(TopMemoryContext,
										   sizeof(TcLease) * TC_LEASES);
		tc_have_leases = true;
	}
	return &tc_leases[(hash * 0x9E3779B1U) >> 24 & (TC_LEASES - 1)];
}

/*
 * tc_lease_note
 *		A miss of k: remember the invalidation sequence and the active
 *		snapshot's xmin now, for a later put of k (see the file header).
 *		Replaces any older lease in the same table entry.
 */
void
tc_lease_note(const TcCohKey *k)
{
	TcLease    *l = tc_lease_for(k->hash);
	uint64		seq = pg_atomic_read_u64(&tc_coh->seq);

	pg_read_barrier();
	if (l->key != NULL && l->len < k->len)
	{
		pfree(l->key);
		l->key = NULL;
	}
	if (l->key == NULL)
		l->key = MemoryContextAlloc(TopMemoryContext, Max(k->len, 32));
	memcpy(l->key, k->data, k->len);
	l->len = k->len;
	l->hash = k->hash;
	l->seq = seq;
	l->xmin = tc_snapshot_xmin();
	l->used = true;
}

/*
 * tc_lease_forget
 *		Drop the lease of k, if any: this session deleted k itself, so a
 *		later put of k is no fill of that miss.
 */
void
tc_lease_forget(const TcCohKey *k)
{
	TcLease    *l = tc_leases ? tc_lease_for(k->hash) : NULL;

	if (l && l->used && l->hash == k->hash && l->len == k->len &&
		memcmp(l->key, k->data, k->len) == 0)
		l->used = false;
}

/*
 * tc_fill_guard_lease
 *		tc_fill_guard's part for a session that has leases: if it missed k
 *		earlier, the guard is that lease (consumed) and true is returned.
 */
bool
tc_fill_guard_lease(const TcCohKey *k, TcFillGuard *g)
{
	TcLease    *l = tc_lease_for(k->hash);

	if (l->used && l->hash == k->hash && l->len == k->len &&
		memcmp(l->key, k->data, k->len) == 0)
	{
		g->seq = l->seq;
		g->xmin = l->xmin;
		g->from_lease = true;
		l->used = false;
		return true;
	}
	return false;
}

/*
 * tc_slot_ok
 *		One slot's part of tc_fill_allowed: the verdict tc_key_fill_state
 *		gives a key slot, with the snapshot's xmin computed when a horizon
 *		needs it.
 */
static bool
tc_slot_ok(TcFillGuard *g, TcTagSlot *slot)
{
	TcFillState st = tc_slot_fill_state(g, slot);

	if (st == TC_FILL_NEED_XMIN)
	{
		tc_fill_guard_xmin(g);
		st = tc_slot_fill_state(g, slot);
	}
	return st == TC_FILL_OK;
}

/*
 * tc_floor_value
 *		A floor of fills that the first fill to ask sets to the next
 *		transaction id; until then it holds unset.  Lock-free: of fills
 *		asking at once, one sets it and the others read its value.
 */
static uint64
tc_floor_value(pg_atomic_uint64 *floor, uint64 unset)
{
	uint64		cur = pg_atomic_read_u64(floor);

	if (cur == unset)
	{
		uint64		next = U64FromFullTransactionId(ReadNextFullTransactionId());

		/* a failed exchange leaves the value that was set in cur */
		if (pg_atomic_compare_exchange_u64(floor, &cur, next))
			cur = next;
	}
	return cur;
}

/*
 * tc_standby_floor_ok
 *		On a hot standby, a fill must also come from a snapshot in which
 *		every transaction that was running when the standby started is
 *		over: one of them may have logged its invalidation before the point
 *		where this server's replay began, so its commit would arrive with
 *		nothing to tell the cache.  The floor is the next transaction id
 *		when the first fill asks (at least the next id of the redo start
 *		point, so it covers them all); a fill is allowed once its
 *		snapshot's xmin has reached it.
 */
static bool
tc_standby_floor_ok(TcFillGuard *g)
{
	uint64		floor = tc_floor_value(&tc_coh->standby_floor, 0);

	tc_fill_guard_xmin(g);
	/* the floor was not assigned yet: xmin may equal it */
	return floor <= g->xmin;
}

/*
 * tc_restart_floor_ok
 *		After a start, a fill must come from a snapshot in which every
 *		transaction prepared before the start is over: its invalidation was
 *		applied to shared memory that the start lost, and may not be in the
 *		WAL that the start replayed (see tc_restart_floor); a fill is
 *		allowed once its snapshot's xmin has reached the floor.  Once no running
 *		snapshot is older than the floor, it is lifted for good.
 */
static bool
tc_restart_floor_ok(TcFillGuard *g)
{
	uint64		floor = pg_atomic_read_u64(&tc_coh->restart_floor);

	if (floor == 0)
		return true;
	floor = tc_floor_value(&tc_coh->restart_floor, TC_FLOOR_AT_FIRST_FILL);
	tc_fill_guard_xmin(g);
	/* a floor set just now may equal xmin */
	if (g->xmin < floor)
		return false;
	/* no snapshot of this server older than the floor: lift it */
	if (!RecoveryInProgress() && tc_floor_tries++ % TC_FLOOR_RETRY == 0 &&
		tc_full_xid(GetOldestNonRemovableTransactionId(NULL)) >= floor)
		pg_atomic_compare_exchange_u64(&tc_coh->restart_floor, &floor, 0);
	return true;
}

/*
 * tc_floors_ok
 *		The floors a fill must pass for some time after a start: the
 *		standby's (tc_standby_floor_ok) and the restart's
 *		(tc_restart_floor_ok).  Once a backend has seen recovery end and the
 *		restart floor lifted, it checks neither again.
 */
static bool
tc_floors_ok(TcFillGuard *g)
{
	bool		recovery = RecoveryInProgress();

	if (recovery && !tc_standby_floor_ok(g))
		return false;
	if (!tc_restart_floor_ok(g))
		return false;
	if (!recovery && pg_atomic_read_u64(&tc_coh->restart_floor) == 0)
		tc_floors_done = true;
	return true;
}

/*
 * tc_fill_allowed_full
 *		tc_fill_allowed when there is anything to check.
 */
bool
tc_fill_allowed_full(TcFillGuard *g, uint32 keyslot, const uint32 *slots,
				int nslots, bool check_key, bool *own)
{
	bool		ok = true;

	*own = false;
	if (tc_own_pending)
	{
		if (tc_own_key_slot_pending(keyslot))
			*own = true;
		for (int i = 0; i < nslots && !*own; i++)
			if (tc_own_slot_pending(slots[i]))
				*own = true;
		if (*own)
			return false;
	}
	if (!tc_floors_done && !tc_floors_ok(g))
		return false;
	if (check_key)
		ok = tc_slot_ok(g, &tc_my_db->keys) &&
			tc_slot_ok(g, &tc_coh_slots[keyslot]);
	if (nslots > 0 && ok)
		ok = tc_slot_ok(g, &tc_my_db->tags);
	for (int i = 0; i < nslots && ok; i++)
		ok = tc_slot_ok(g, &tc_coh_slots[slots[i]]);
	return ok;
}

/*
 * tc_fill_guard_xmin
 *		Set g->xmin, if not set yet, from the active snapshot.
 */
void
tc_fill_guard_xmin(TcFillGuard *g)
{
	if (g->xmin == 0)
		g->xmin = tc_snapshot_xmin();
}

/*
 * tc_fill_still_allowed
 *		At commit, for a transactional put that passed tc_fill_allowed when
 *		it was made: nothing is committing an invalidation of its slots and
 *		none was invalidated since.  Reads atomics only: cannot fail.
 */
static inline bool
tc_slot_unchanged(const TcFillGuard *g, TcTagSlot *s)
{
	return pg_atomic_read_u32(&s->marks) == 0 &&
		pg_atomic_read_u64(&s->inval_seq) <= g->seq;
}

bool
tc_fill_still_allowed(const TcFillGuard *g, uint32 keyslot,
					  const uint32 *slots, int nslots)
{
	if (!tc_slot_unchanged(g, &tc_my_db->keys) ||
		!tc_slot_unchanged(g, &tc_coh_slots[keyslot]))
		return false;
	if (nslots > 0 && !tc_slot_unchanged(g, &tc_my_db->tags))
		return false;
	for (int i = 0; i < nslots; i++)
		if (!tc_slot_unchanged(g, &tc_coh_slots[slots[i]]))
			return false;
	return true;
}

/* ---- this transaction's invalidations ---- */

/*
 * tc_own_slot_pending
 *		True if this transaction invalidated tag slot (or every tag).
 */
bool
tc_own_slot_pending(uint32 slot)
{
	if (tc_escalated_level > 0 || tc_all_slots_level > 0)
		return true;
	return (tc_own_bitmap[slot >> 3] & (1 << (slot & 7))) != 0;
}

/*
 * tc_own_key_slot_pending
 *		True if this transaction invalidated a key slot (or every key): an
 *		invalidation of every tag leaves the other keys alone.
 */
static bool
tc_own_key_slot_pending(uint32 slot)
{
	if (tc_escalated_level > 0)
		return true;
	return (tc_own_bitmap[slot >> 3] & (1 << (slot & 7))) != 0;
}

/*
 * tc_own_begin
 *		Make sure the per-backend state exists and this transaction has an
 *		id (an invalidation is a change: its horizon is this transaction).
 */
static void
tc_own_begin(void)
{
	if (IsInParallelMode())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_STATE),
				 errmsg("cannot invalidate typed_cache entries during a parallel operation"),
				 errhint("Mark functions that call typed_cache.invalidate() or delete() PARALLEL UNSAFE.")));
	if (tc_own_bitmap == NULL)
	{
		tc_own_bitmap = MemoryContextAllocZero(TopMemoryContext,
											   tc_coh->nslots / 8);
		tc_own_cap = 64;
		tc_own_slots = MemoryContextAlloc(TopMemoryContext,
										  sizeof(TcOwnSlot) * tc_own_cap);
	}
	(void) GetTopTransactionId();
}

/*
 * tc_invalidate_slot
 *		Invalidate slot for this transaction now and for everyone at commit
 *		(see the file header).
 */
void
tc_invalidate_slot(uint32 slot)
{
	/* a standby has no transactions that change data: apply it now */
	if (RecoveryInProgress())
	{
		pg_atomic_write_u64(&tc_coh_slots[slot].inval_seq,
							pg_atomic_add_fetch_u64(&tc_coh->seq, 1));
		return;
	}
	tc_own_begin();
	/* this transaction's own earlier puts with the tag are invalidated too */
	tc_cache_pending_kill_slot(slot);
	if (tc_all_slots_level > 0 ||
		(tc_own_bitmap[slot >> 3] & (1 << (slot & 7))))
		return;
	if (tc_nown >= TC_MAX_OWN_SLOTS)
	{
		/*
		 * Bounded (memory here, the WAL record, the work at commit): past
		 * this many slots the transaction invalidates every tag of its
		 * database (its database's tags slot), which costs the same
		 * whatever the size of the cache.  Deleted keys are still listed,
		 * and their key slots invalidated one by one.
		 */
		tc_all_slots_level = GetCurrentTransactionNestLevel();
		tc_cache_pending_kill_slot(TC_SLOTS_TAGGED);
		return;
	}
	if (tc_nown == tc_own_cap)
	{
		tc_own_cap *= 2;
		tc_own_slots = repalloc(tc_own_slots, sizeof(TcOwnSlot) * tc_own_cap);
	}
	tc_own_slots[tc_nown].slot = slot;
	tc_own_slots[tc_nown].level = GetCurrentTransactionNestLevel();
	tc_nown++;
	tc_own_bitmap[slot >> 3] |= (1 << (slot & 7));
	tc_own_pending = true;
}

/*
 * tc_invalidate_database
 *		Escalation: this transaction invalidates every entry of the current
 *		database (and, through the slots, fills of every key and tag).
 */
void
tc_invalidate_database(void)
{
	tc_own_begin();
	tc_cache_pending_kill_slot(TC_SLOTS_ALL);
	if (tc_escalated_level == 0 ||
		GetCurrentTransactionNestLevel() < tc_escalated_level)
		tc_escalated_level = GetCurrentTransactionNestLevel();
	tc_own_pending = true;
}

/*
 * tc_pending_delete
 *		Remember a deleted key: it is deleted again at pre-commit and its
 *		slot invalidated like a tag's.
 */
void
tc_pending_delete(const TcCohKey *k)
{
	TcOwnDelete *d;
	uint32		keyslot = tc_key_slot(k->hash);

	tc_lease_forget(k);
	tc_invalidate_slot(keyslot);
	if (tc_escalated_level > 0 || RecoveryInProgress())
		return;
	/* past TC_MAX_OWN_SLOTS, the key's fills are still this one's to refuse */
	if (!(tc_own_bitmap[keyslot >> 3] & (1 << (keyslot & 7))))
	{
		tc_own_bitmap[keyslot >> 3] |= (1 << (keyslot & 7));
		tc_bitmap_unlisted = true;
	}
	if (tc_nown_deletes >= TC_MAX_PENDING_DELETES)
	{
		tc_invalidate_database();
		return;
	}
	if (tc_own_deletes == NULL)
		tc_own_deletes = MemoryContextAlloc(TopTransactionContext,
											sizeof(TcOwnDelete) *
											TC_MAX_PENDING_DELETES);
	d = &tc_own_deletes[tc_nown_deletes++];
	d->key = MemoryContextAlloc(TopTransactionContext, k->len);
	memcpy(d->key, k->data, k->len);
	d->len = k->len;
	d->hash = k->hash;
	d->shard = k->shard;
	d->level = GetCurrentTransactionNestLevel();
}

/*
 * tc_own_key_deleted
 *		True if this transaction deleted key k (its reads of k miss).
 */
bool
tc_own_key_deleted(const TcCohKey *k)
{
	if (tc_escalated_level > 0)
		return true;
	for (int i = 0; i < tc_nown_deletes; i++)
	{
		TcOwnDelete *d = &tc_own_deletes[i];

		if (d->hash == k->hash && d->len == k->len &&
			memcmp(d->key, k->data, k->len) == 0)
			return true;
	}
	return false;
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
 * tc_replay_all_tags
 *		A replayed invalidation of every tag of database dbid (a transaction
 *		past TC_MAX_OWN_SLOTS slots): its tags slot, counted as an
 *		escalation.  Cannot fail.
 */
void
tc_replay_all_tags(Oid dbid, uint64 fxid)
{
	tc_slot_replay(&tc_db_slot(dbid)->tags, fxid);
	pg_atomic_fetch_add_u64(&tc_coh->escalations, 1);
}

/*
 * tc_replay_database
 *		A replayed escalated invalidation: database dbid's tags and keys
 *		slots, then every entry of it.  With no database (a record too short
 *		to name one), every slot of the server.  Cannot fail.
 */
void
tc_replay_database(Oid dbid, uint64 fxid)
{
	if (dbid == InvalidOid)
	{
		for (uint32 s = 0; s < tc_coh->nslots; s++)
			tc_slot_replay(&tc_coh_slots[s], fxid);
		for (uint32 i = 0; i <= TC_DB_SLOTS; i++)
		{
			tc_slot_replay(&tc_coh_dbs[i].tags, fxid);
			tc_slot_replay(&tc_coh_dbs[i].keys, fxid);
		}
		for (uint32 sh = 0; sh < tc_cache_nshards(); sh++)
			tc_slot_replay(tc_cache_key_summary(sh), fxid);
	}
	else
	{
		tc_slot_replay(&tc_db_slot(dbid)->keys, fxid);
		tc_replay_all_tags(dbid, fxid);
	}
	tc_cache_clear_database(dbid);
}

/*
 * tc_slot_commit_step
 *		Apply one step of this transaction's invalidation to a slot (or to a
 *		shard's summary of its keys).
 */
static inline void
tc_slot_commit_step(TcTagSlot *slot, XactEvent event)
{
	if (event == XACT_EVENT_PRE_COMMIT)
	{
		pg_atomic_fetch_add_u32(&slot->marks, 1);
		pg_memory_barrier();
		pg_atomic_write_u64(&slot->inval_seq,
							pg_atomic_add_fetch_u64(&tc_coh->seq, 1));
	}
	else if (event == XACT_EVENT_COMMIT)
	{
		tc_slot_replay(slot, U64FromFullTransactionId(tc_commit_fxid));
		pg_atomic_fetch_sub_u32(&slot->marks, 1);
	}
	else
		pg_atomic_fetch_sub_u32(&slot->marks, 1);
}

/*
 * tc_own_apply
 *		Run one commit step over every slot this transaction invalidated
 *		(all of them once it escalated).
 */
static void
tc_own_apply(XactEvent event)
{
	if (tc_escalated_level > 0)
	{
		/* every entry of the database: its keys and its tags */
		tc_slot_commit_step(&tc_my_db->keys, event);
		tc_slot_commit_step(&tc_my_db->tags, event);
	}
	else
	{
		/*
		 * Every tag of the database: its tags slot, not the slots listed
		 * before the escalation, which other databases' tags share (the
		 * deleted keys' slots follow).
		 */
		if (tc_all_slots_level > 0)
			tc_slot_commit_step(&tc_my_db->tags, event);
		else
			for (int i = 0; i < tc_nown; i++)
			{
				tc_slot_commit_step(&tc_coh_slots[tc_own_slots[i].slot], event);
				if (event == XACT_EVENT_COMMIT)
					tc_cache_count_invalidations(tc_own_slots[i].slot, 1);
			}
		for (int i = 0; i < tc_nown_deletes; i++)
		{
			TcOwnDelete *d = &tc_own_deletes[i];

			/* past TC_MAX_OWN_SLOTS, key slots are not all listed */
			if (tc_all_slots_level > 0)
				tc_slot_commit_step(&tc_coh_slots[tc_key_slot(d->hash)],
									event);
			/* the summaries of the deleted keys' shards bound their slots */
			tc_slot_commit_step(tc_cache_key_summary(d->shard), event);
		}
	}
	if (event == XACT_EVENT_COMMIT &&
		(tc_escalated_level > 0 || tc_all_slots_level > 0))
	{
		tc_cache_count_invalidations(0, 1);
		pg_atomic_fetch_add_u64(&tc_coh->escalations, 1);
	}
}

/*
 * tc_own_reset
 *		Forget this transaction's invalidations.
 */
static void
tc_own_reset(void)
{
	if (tc_bitmap_unlisted)
		memset(tc_own_bitmap, 0, tc_coh->nslots / 8);
	else
		for (int i = 0; i < tc_nown; i++)
			tc_own_bitmap[tc_own_slots[i].slot >> 3] = 0;
	tc_bitmap_unlisted = false;
	tc_nown = 0;
	tc_own_deletes = NULL;		/* in TopTransactionContext */
	tc_nown_deletes = 0;
	tc_escalated_level = 0;
	tc_all_slots_level = 0;
	tc_own_pending = false;
	tc_marked = false;
}

/*
 * tc_own_pre_commit
 *		The pre-commit step of this transaction's invalidations: the WAL
 *		record, the marks, the removal of the deleted keys.  May fail.
 */
static void
tc_own_pre_commit(void)
{
	tc_commit_fxid = GetTopFullTransactionId();

	/*
	 * Standbys learn of it from the WAL, in a record before the commit (or
	 * prepare) record; nothing is marked yet if this fails.
	 */
	tc_wal_log_invalidation(tc_commit_fxid, tc_escalated_level > 0,
							tc_all_slots_level > 0,
							tc_own_slots, tc_nown,
							tc_own_deletes, tc_nown_deletes);

	/*
	 * Mark first, then remove deleted keys (on escalation, the database's
	 * entries): a fill that stores after the removal sees the mark under
	 * the shard lock and is refused.
	 */
	tc_own_apply(XACT_EVENT_PRE_COMMIT);
	tc_marked = true;
	if (tc_escalated_level > 0)
		tc_cache_clear_database(MyDatabaseId);
	else
		for (int i = 0; i < tc_nown_deletes; i++)
			tc_cache_delete_key(MyDatabaseId, tc_own_deletes[i].key,
								tc_own_deletes[i].len,
								tc_own_deletes[i].hash,
								tc_own_deletes[i].shard);
}

/*
 * tc_coherence_xact_callback
 *		The transaction steps of the file header, and the end of
 *		transactional puts.
 */
static void
tc_coherence_xact_callback(XactEvent event, void *arg)
{
	if (tc_coh == NULL)
		return;

	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			if (tc_own_pending)
				tc_own_pre_commit();
			break;
		case XACT_EVENT_PRE_PREPARE:

			/*
			 * A prepared transaction's puts are not stored: their keys are
			 * deleted instead, so that after COMMIT PREPARED they miss
			 * rather than show what the transaction replaced.
			 */
			tc_cache_pending_puts_at_prepare();
			if (!tc_own_pending)
				break;

			/*
			 * The whole invalidation now, horizons included: the prepared
			 * transaction's id stays running (here and, once its record is
			 * replayed, on standbys) until COMMIT PREPARED or ROLLBACK
			 * PREPARED, so every snapshot taken meanwhile has an xmin that
			 * does not pass the horizons and its fills are refused; a
			 * snapshot taken after COMMIT PREPARED sees the changes.  A
			 * rollback leaves an invalidation that was not needed.
			 */
			tc_own_pre_commit();
			tc_own_apply(XACT_EVENT_COMMIT);
			tc_own_reset();
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			if (tc_marked)
				tc_own_apply(XACT_EVENT_COMMIT);
			tc_own_reset();
			tc_cache_pending_puts_at_end(true, 0);
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			if (tc_marked)
				tc_own_apply(XACT_EVENT_ABORT);
			tc_own_reset();
			tc_cache_pending_puts_at_end(false, 0);
			break;
		default:
			break;
	}
}

/*
 * tc_coherence_subxact_callback
 *		A subtransaction that rolls back takes back its invalidations and
 *		its transactional puts (deleted entries stay deleted: deleting
 *		early is allowed); one that commits hands them to its parent.
 */
static void
tc_coherence_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
							  SubTransactionId parentSubid, void *arg)
{
	int			level = GetCurrentTransactionNestLevel();
	int			kept = 0;

	if (event != SUBXACT_EVENT_ABORT_SUB && event != SUBXACT_EVENT_COMMIT_SUB)
		return;
	if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		for (int i = 0; i < tc_nown; i++)
			if (tc_own_slots[i].level >= level)
				tc_own_slots[i].level = level - 1;
		for (int i = 0; i < tc_nown_deletes; i++)
			if (tc_own_deletes[i].level >= level)
				tc_own_deletes[i].level = level - 1;
		if (tc_escalated_level >= level)
			tc_escalated_level = level - 1;
		if (tc_all_slots_level >= level)
			tc_all_slots_level = level - 1;
		tc_cache_pending_puts_at_end(true, level);
		return;
	}

	for (int i = 0; i < tc_nown; i++)
	{
		if (tc_own_slots[i].level >= level)
			tc_own_bitmap[tc_own_slots[i].slot >> 3] &=
				~(1 << (tc_own_slots[i].slot & 7));
		else
			tc_own_slots[kept++] = tc_own_slots[i];
	}
	tc_nown = kept;
	kept = 0;
	for (int i = 0; i < tc_nown_deletes; i++)
		if (tc_own_deletes[i].level < level)
			tc_own_deletes[kept++] = tc_own_deletes[i];
	tc_nown_deletes = kept;
	if (tc_escalated_level >= level)
		tc_escalated_level = 0;
	if (tc_all_slots_level >= level)
		tc_all_slots_level = 0;
	tc_own_pending = (tc_nown > 0 || tc_nown_deletes > 0 ||
					  tc_escalated_level > 0 || tc_all_slots_level > 0);
	tc_cache_pending_puts_at_end(false, level);
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

/*
 * tc_invalidate
 *		typed_cache.invalidate(tags text[]): invalidate, in the current
 *		database, every entry that carries any of the tags, when this
 *		transaction commits (and at once, for this transaction's reads and
 *		as far as others' entries go).  NULL elements are ignored.
 */
Datum
tc_invalidate(PG_FUNCTION_ARGS)
{
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	tc_require_cache();
	if (PG_ARGISNULL(0))
		PG_RETURN_VOID();
	arr = PG_GETARG_ARRAYTYPE_P(0);
	tc_tags_deconstruct(arr, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		text	   *t;

		if (nulls[i])
			continue;
		/* as put() checks them: no entry can carry another tag */
		t = DatumGetTextPP(elems[i]);
		tc_check_tag(VARSIZE_ANY_EXHDR(t));
		tc_invalidate_slot(tc_tag_slot(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)));
	}
	PG_RETURN_VOID();
}
