/*-------------------------------------------------------------------------
 *
 * cache_store.c
 *	  The cache's shared memory: settings, the region and its shards, keys,
 *	  and storing, deleting and sweeping entries under the shard locks.
 *
 * The cache is one shared-memory region of exactly typed_cache.memory
 * bytes, requested at start-up and split into typed_cache.shards shards (a
 * power of two).  A key's hash, seeded with the current database's OID so
 * that databases never see each other's keys, picks the shard (high bits)
 * and the bucket within it (low bits).  Each shard has its own LWLock from
 * the named tranche "typed_cache"; no operation takes more than one shard
 * lock at a time and there is no global lock.  The data structures of a
 * shard (index, allocator, CLOCK eviction) live in cache_shard.c; the
 * transactional layer above this one is cache_xact.c, the SQL functions
 * cache_sql.c and the views cache_views.c.
 *
 * Locking discipline: reads (get, get_many, ttl, the views) take the shard
 * lock in LW_SHARED and only store to atomic fields.  Writers take it in
 * LW_EXCLUSIVE.  While a lock is held we never palloc, never call anything
 * that can raise an error and never leave a structure half-updated: values
 * are copied into backend memory reserved before the lock was taken (if
 * the reservation turns out too small, the lock is released, a larger
 * buffer allocated and the lookup repeated), and all argument checks,
 * detoasting and schema-on-write validation happen before a writer locks.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/cache_store.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "access/xact.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_database.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "common/int.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port/pg_bitutils.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/pg_lsn.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "cache_shard.h"
#include "cache_store.h"
#include "coherence_fill.h"
#include "coherence_slots.h"

/* Name of the shared-memory region and of the LWLock tranche. */
#define TC_CACHE_NAME			"typed_cache"

/* Smallest and largest shard, so that offsets fit in 32 bits. */
#define TC_MIN_SHARD_BYTES		((Size) 64 * 1024)
#define TC_MAX_SHARD_BYTES		((Size) 2 * 1024 * 1024 * 1024 - 1024)

/* Longest key, in bytes. */
#define TC_MAX_KEY_BYTES		8192

/* GUCs */
static int	tc_memory_kb = 64 * 1024;
static int	tc_shards = 16;
static int	tc_default_ttl = 0;

/* Shared state, attached in every process by the startup hook. */
TcCache    *tc_cache = NULL;
LWLockPadded *tc_locks = NULL;

/* Databases dropped by the current transaction (in TopTransactionContext). */
static List *tc_dropped_databases = NIL;

/*
 * tc_region_size
 *		Bytes of shared memory the cache asks for: typed_cache.memory.
 */
static Size
tc_region_size(void)
{
	return (Size) tc_memory_kb * 1024;
}

/*
 * tc_shard_bytes_for
 *		Bytes per shard for a region of total bytes split into nshards.
 */
static Size
tc_shard_bytes_for(Size total, int nshards)
{
	Size		hdr = TYPEALIGN(PG_CACHE_LINE_SIZE, sizeof(TcCache));

	if (total <= hdr)
		return 0;
	return ((total - hdr) / nshards) & ~((Size) PG_CACHE_LINE_SIZE - 1);
}

/*
 * tc_split_ok
 *		Whether memory_kb kilobytes split into nshards shards give each
 *		shard between 64kB and 2GB (its header and bucket array included).
 */
static bool
tc_split_ok(int memory_kb, int nshards)
{
	Size		per = tc_shard_bytes_for((Size) memory_kb * 1024, nshards);

	return per >= TC_MIN_SHARD_BYTES && per <= TC_MAX_SHARD_BYTES;
}

/*
 * tc_checking_statement
 *		Whether a check hook of typed_cache.memory or typed_cache.shards runs
 *		in a client backend after the library was loaded (ALTER SYSTEM, or a
 *		reload, which cannot change them anyway).  There the other setting
 *		is final, so a value that cannot be split is refused at once instead
 *		of stopping the server at its next start.  At server start the
 *		settings arrive in the order of the configuration file, and the pair
 *		is checked in shmem_request_hook instead.
 */
static bool
tc_checking_statement(void)
{
	return IsUnderPostmaster && MyBackendType == B_BACKEND &&
		!process_shared_preload_libraries_in_progress;
}

/*
 * check_tc_shards
 *		GUC check hook: typed_cache.shards must be a power of two, and, in a
 *		statement, one that the current typed_cache.memory can be split into.
 */
static bool
check_tc_shards(int *newval, void **extra, GucSource source)
{
	if ((*newval & (*newval - 1)) != 0)
	{
		GUC_check_errdetail("typed_cache.shards must be a power of two.");
		return false;
	}
	if (tc_checking_statement() && !tc_split_ok(tc_memory_kb, *newval))
	{
		GUC_check_errdetail("typed_cache.memory (%d kB) cannot be split into %d shards of 64kB to 2GB each: the server would not start.",
							tc_memory_kb, *newval);
		GUC_check_errhint("Set typed_cache.memory first, or choose fewer shards.");
		return false;
	}
	return true;
}

/*
 * check_tc_memory
 *		GUC check hook: in a statement, typed_cache.memory must be a size
 *		that the current typed_cache.shards can split.
 */
static bool
check_tc_memory(int *newval, void **extra, GucSource source)
{
	if (tc_checking_statement() && !tc_split_ok(*newval, tc_shards))
	{
		GUC_check_errdetail("%d kB cannot be split into typed_cache.shards (%d) shards of 64kB to 2GB each: the server would not start.",
							*newval, tc_shards);
		GUC_check_errhint("Set typed_cache.shards first, or choose another size.");
		return false;
	}
	return true;
}

/*
 * tc_setting_text
 *		The value the configuration gives the not yet defined variable name
 *		(a placeholder's text), copied, or NULL if it gives none.
 */
static char *
tc_setting_text(const char *name)
{
	const char *value = GetConfigOption(name, true, false);

	return value ? pstrdup(value) : NULL;
}

/*
 * tc_require_setting
 *		Stop the server if the configuration set the postmaster variable
 *		name to text that its definition refused.  When a preloaded library
 *		defines a variable, PostgreSQL only warns about a bad value and goes
 *		on with the default; for the size of shared memory that would hide
 *		a mistake until the cache behaves unexpectedly.  Called in the
 *		postmaster, where ERROR is FATAL.
 */
static void
tc_require_setting(const char *name, const char *text, int flags, int actual)
{
	int			parsed;
	const char *hint = NULL;

	if (text == NULL)
		return;
	if (parse_int(text, &parsed, flags, &hint) && parsed == actual)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid value for parameter \"%s\": \"%s\"", name, text),
			 errdetail("The server does not start with a typed_cache setting it cannot use; the warning above says why."),
			 hint ? errhint("%s", hint) :
			 errhint("See typed_cache's README for the allowed values.")));
}

/*
 * tc_cache_shmem_request
 *		Reserve the region and one LWLock per shard (typed_cache.c's
 *		shmem_request_hook).
 *		typed_cache.memory and typed_cache.shards are only checked together
 *		here, once both are final (a check hook cannot rely on the order in
 *		which the configuration file sets them): each shard must get between
 *		64kB and 2GB, or the server does not start.
 */
void
tc_cache_shmem_request(void)
{
	Size		per;

	per = tc_shard_bytes_for(tc_region_size(), tc_shards);
	if (per < TC_MIN_SHARD_BYTES || per > TC_MAX_SHARD_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("typed_cache.memory of %d kB cannot be split into %d shards",
						tc_memory_kb, tc_shards),
				 errdetail("Each shard must get between 64kB and 2GB."),
				 errhint("Change typed_cache.memory or typed_cache.shards.")));

	RequestAddinShmemSpace(tc_region_size());
	RequestNamedLWLockTranche(TC_CACHE_NAME, tc_shards);
}


/*
 * tc_cache_shmem_startup
 *		Create (or, after a crash restart, re-create) the region, with every
 *		shard empty, or attach it (typed_cache.c's shmem_startup_hook, which
 *		holds AddinShmemInitLock).
 */
void
tc_cache_shmem_startup(void)
{
	bool		found;

	tc_cache = ShmemInitStruct(TC_CACHE_NAME, tc_region_size(), &found);
	tc_locks = GetNamedLWLockTranche(TC_CACHE_NAME);
	if (!found)
	{
		uint32		i;

		tc_cache->nshards = tc_shards;
		tc_cache->shard_bits = pg_leftmost_one_pos32(tc_shards);
		tc_cache->shard_bytes = tc_shard_bytes_for(tc_region_size(),
												   tc_shards);
		tc_cache->shards_off = TYPEALIGN(PG_CACHE_LINE_SIZE,
										 sizeof(TcCache));
		for (i = 0; i < tc_cache->nshards; i++)
			tc_shard_init(tc_shard(i), tc_cache->shard_bytes);
	}
}

/*
 * tc_cache_object_access
 *		Keep the cache's database scoping true across the life of databases.
 *		Keys are scoped by database OID, and a dropped database's OID can be
 *		given to a later one, so:
 *		- when a database is created, entries that still carry its OID
 *		  (left by an earlier database of the same OID) are removed before
 *		  anyone can connect to it;
 *		- when a database is dropped, its entries are removed once the drop
 *		  commits, which gives their memory back at once.  Doing it at
 *		  commit means a DROP DATABASE that fails (for example because the
 *		  database is in use) leaves the cache alone.
 *		Called by typed_cache.c's object_access_hook.
 */
void
tc_cache_object_access(ObjectAccessType access, Oid classId, Oid objectId)
{
	if (classId != DatabaseRelationId || tc_cache == NULL)
		return;
	if (access == OAT_POST_CREATE)
		tc_sweep_database(objectId, true);
	else if (access == OAT_DROP)
	{
		MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);

		tc_dropped_databases = lappend_oid(tc_dropped_databases, objectId);
		MemoryContextSwitchTo(old);
	}
}

/*
 * tc_cache_xact_callback
 *		At commit, remove the entries of the databases the transaction
 *		dropped; at abort, forget them.  Nothing here can raise an error.
 */
void
tc_cache_xact_callback(XactEvent event, void *arg)
{
	ListCell   *lc;

	if (tc_dropped_databases == NIL)
		return;
	switch (event)
	{
		case XACT_EVENT_COMMIT:
			foreach(lc, tc_dropped_databases)
				tc_sweep_database(lfirst_oid(lc), false);
			tc_dropped_databases = NIL;
			break;
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PARALLEL_PRE_COMMIT:
		case XACT_EVENT_PRE_PREPARE:
			break;
		default:
			/* the list dies with TopTransactionContext */
			tc_dropped_databases = NIL;
			break;
	}
}

/*
 * tc_cache_init
 *		Define the settings of the cache's shared memory and of expiry
 *		(typed_cache.memory and typed_cache.shards only when the library is
 *		being preloaded).  Called from _PG_init().
 */
void
tc_cache_init(void)
{
	char	   *memory_setting;
	char	   *shards_setting;

	DefineCustomIntVariable("typed_cache.default_ttl",
							gettext_noop("Lifetime of cache entries stored without a ttl; 0 means no expiry."),
							NULL,
							&tc_default_ttl,
							0,
							0,
							INT_MAX,
							PGC_USERSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	/*
	 * Sizes of shared memory only exist when the library is preloaded;
	 * PGC_POSTMASTER variables cannot be defined later anyway.
	 */
	if (!process_shared_preload_libraries_in_progress)
		return;

	/* what the configuration asked for, before the definitions judge it */
	memory_setting = tc_setting_text("typed_cache.memory");
	shards_setting = tc_setting_text("typed_cache.shards");

	DefineCustomIntVariable("typed_cache.memory",
							gettext_noop("Shared memory for the cache, split evenly between shards."),
							gettext_noop("The cache never uses more; when a shard is full, put() evicts."),
							&tc_memory_kb,
							64 * 1024,
							1024,
							64 * 1024 * 1024,
							PGC_POSTMASTER,
							GUC_UNIT_KB,
							check_tc_memory, NULL, NULL);

	DefineCustomIntVariable("typed_cache.shards",
							gettext_noop("Number of cache shards, each with its own lock (a power of two)."),
							NULL,
							&tc_shards,
							16,
							1,
							1024,
							PGC_POSTMASTER,
							0,
							check_tc_shards, NULL, NULL);

	tc_require_setting("typed_cache.memory", memory_setting, GUC_UNIT_KB,
					   tc_memory_kb);
	tc_require_setting("typed_cache.shards", shards_setting, 0, tc_shards);
}

/*
 * tc_require_cache
 *		Raise 55000 unless the cache's shared memory exists.
 */
void
tc_require_cache(void)
{
	if (unlikely(tc_my_db == NULL))
	{
		if (tc_cache == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("typed_cache shared-memory cache is not available"),
					 errdetail("The cache's shared memory is only set up when the library is loaded at server start."),
					 errhint("Add typed_cache to shared_preload_libraries and restart the server.")));
		tc_attach_db_slot();
	}
}

/*
 * tc_make_key
 *		Check a key argument and compute its hash and shard.  NULL keys must
 *		have been dealt with by the caller.
 */
void
tc_make_key(text *key, TcCacheKey *k)
{
	Size		len = VARSIZE_ANY_EXHDR(key);

	if (len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cache key must not be empty")));
	if (len > TC_MAX_KEY_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("cache key is too long"),
				 errdetail("The key has %zu bytes; keys are limited to %d bytes.",
						   len, TC_MAX_KEY_BYTES),
				 errhint("Use a shorter key, for example a hash of the long one.")));
	k->data = VARDATA_ANY(key);
	k->len = (uint32) len;
	tc_cache_key_hash(MyDatabaseId, k->data, k->len, &k->hash, &k->shard);
	/* the bucket is almost always a cache miss: start it now */
	tc_shard_prefetch_bucket(tc_shard(k->shard), k->hash);
}

/*
 * tc_cache_key_hash
 *		The hash and the shard of a key of database dbid.
 */
void
tc_cache_key_hash(Oid dbid, const char *key, uint32 len, uint32 *hash,
				  uint32 *shard)
{
	uint64		h = hash_bytes_extended((const unsigned char *) key, (int) len,
										(uint64) dbid);

	*hash = (uint32) h;
	*shard = tc_cache->shard_bits == 0 ? 0 :
		(uint32) (h >> (64 - tc_cache->shard_bits));
}

/*
 * tc_key_cstring
 *		The key as a NUL-terminated string, for messages.
 */
char *
tc_key_cstring(const TcCacheKey *k)
{
	return pnstrdup(k->data, k->len);
}


/*
 * tc_expiry
 *		Expiry time of an entry written at now with the given ttl (NULL means
 *		typed_cache.default_ttl).  Rejects ttl <= 0 and expiry times that do
 *		not fit in a timestamp.
 */
TimestampTz
tc_expiry(Interval *ttl, TimestampTz now)
{
	int64		usec;
	int64		days;
	TimestampTz result;

	if (ttl == NULL)
	{
		if (tc_default_ttl == 0)
			return TC_NO_EXPIRY;
		usec = (int64) tc_default_ttl * USECS_PER_SEC;
	}
	else
	{
		days = (int64) ttl->month * DAYS_PER_MONTH + ttl->day;
		if (pg_mul_s64_overflow(days, USECS_PER_DAY, &usec) ||
			pg_add_s64_overflow(usec, ttl->time, &usec))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("ttl is out of range")));
		if (usec <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("ttl must be positive"),
					 errdetail("The ttl given was %s.",
							   DatumGetCString(DirectFunctionCall1(interval_out,
																   IntervalPGetDatum(ttl)))),
					 errhint("Pass NULL to use typed_cache.default_ttl, or delete the entry.")));
	}
	if (pg_add_s64_overflow(now, usec, &result) || !IS_VALID_TIMESTAMP(result))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("ttl is out of range"),
				 errdetail("The expiry time would be past the largest timestamp.")));
	return result;
}





/*
 * tc_store
 *		Write an entry into shard s under key, replacing any previous one:
 *		the part of put() that runs under the exclusive lock.  Cannot fail
 *		(blocksize was checked against the shard's capacity), so it may run
 *		at commit.  Counts the put, evictions and expirations.  Returns
 *		false, storing nothing, if the key slot refuses the fill (see
 *		tc_key_fill_state; at commit, guard->xmin was set when the put was
 *		made).  now is the caller's current time.
 */
bool
tc_store(const TcCacheKey *k, Size blocksize, Jsonb *value, Oid typid,
		 TimestampTz expires_at, const TcTags *tags, TcFillGuard *guard,
		 uint32 keyslot, TimestampTz now)
{
	TcShard    *shard = tc_shard(k->shard);
	LWLock	   *lock = tc_shard_lock(k->shard);
	Size		vallen = VARSIZE(value);
	TcEntry    *e;
	TcRoomResult room;
	bool		replaced_expired = false;

	tc_shard_prefetch_chain(shard, k->hash);
	/* a horizon will be compared: the snapshot's xmin, before the lock */
	if (pg_atomic_read_u64(&shard->keys.horizon) != 0 ||
		pg_atomic_read_u64(&tc_my_db->keys.horizon) != 0)
		tc_fill_guard_xmin(guard);
	LWLockAcquire(lock, LW_EXCLUSIVE);

	/*
	 * The key's slot, under the lock that a committing delete takes to
	 * remove the key: a delete that marked the slot (or committed) since
	 * the guard was taken, or whose transaction the value's snapshot does
	 * not see, makes the value stale.  Reads do not check an entry's key
	 * slot, so this is the last chance.  Comparing the horizon may need the
	 * snapshot's xmin, which is not computed under the lock.
	 */
	for (;;)
	{
		TcFillState st = tc_key_fill_state(guard, keyslot, &shard->keys);

		if (st == TC_FILL_OK)
			break;
		LWLockRelease(lock);
		if (st == TC_FILL_REFUSED)
			return false;
		tc_fill_guard_xmin(guard);
		LWLockAcquire(lock, LW_EXCLUSIVE);
	}
	e = tc_shard_lookup(shard, k->hash, MyDatabaseId, k->data, k->len);
	room.expired = room.evicted = 0;
	if (e != NULL)
		replaced_expired = tc_entry_expired(e, now);
	if (e != NULL && tc_entry_block_fits(e, blocksize) &&
		e->ntags == tags->n)
	{
		/* same key, same tag count, about the same size: rewrite in place */
		tc_shard_set_expiry(shard, e, expires_at);
	}
	else
	{
		if (e != NULL)
			tc_shard_remove(shard, e);
		e = tc_shard_insert(shard, blocksize, now, &room);
		e->hash = k->hash;
		e->dbid = MyDatabaseId;
		e->keylen = k->len;
		e->ntags = (uint16) tags->n;
		e->expires_at = expires_at;
		memcpy(TcEntryKey(e), k->data, k->len);
		tc_shard_link(shard, e);
	}
	e->typid = typid;
	e->vallen = (uint32) vallen;
	e->tagbytes = tags->bytes;
	if (tags->n > 0)
	{
		TcEntryFillSeq(e) = guard->seq;
		memcpy(TcEntrySlots(e), tags->slots, sizeof(uint32) * tags->n);
		memcpy(TcEntryTags(e), tags->text, tags->bytes);
	}
	pg_atomic_init_u32(&e->usage, 1);
	pg_atomic_init_u32(&e->hits, 0);
	memcpy(TcEntryValue(e), value, vallen);
	LWLockRelease(lock);

	pg_atomic_fetch_add_u64(&shard->stats.puts, 1);
	if (room.evicted > 0)
		pg_atomic_fetch_add_u64(&shard->stats.evictions, room.evicted);
	if (room.expired > 0 || replaced_expired)
		pg_atomic_fetch_add_u64(&shard->stats.expirations,
								room.expired + (replaced_expired ? 1 : 0));
	return true;
}

/*
 * tc_cache_delete_key
 *		Remove key (hash, shard) of database dbid, if present: a
 *		transaction's delete applied again at pre-commit, or replayed.
 */
void
tc_cache_delete_key(Oid dbid, const char *key, uint32 len, uint32 hash,
					uint32 shard)
{
	TcShard    *sh = tc_shard(shard);
	TcEntry    *e;

	LWLockAcquire(tc_shard_lock(shard), LW_EXCLUSIVE);
	e = tc_shard_lookup(sh, hash, dbid, key, len);
	if (e != NULL)
		tc_shard_remove(sh, e);
	LWLockRelease(tc_shard_lock(shard));
	if (e != NULL)
		pg_atomic_fetch_add_u64(&sh->stats.deletes, 1);
}

/*
 * tc_cache_clear_database
 *		Remove every entry of database dbid: a transaction's escalated
 *		invalidation, at pre-commit or replayed.
 */
void
tc_cache_clear_database(Oid dbid)
{
	(void) tc_sweep_database(dbid, false);
}

/*
 * tc_cache_nshards
 *		Number of shards.
 */
uint32
tc_cache_nshards(void)
{
	return tc_cache->nshards;
}

/*
 * tc_cache_key_summary
 *		The summary of what deletes did to shard's keys (cache_shard.h).
 */
TcTagSlot *
tc_cache_key_summary(uint32 shard)
{
	return &tc_shard(shard)->keys;
}

/*
 * tc_cache_count_invalidations
 *		Count n committed invalidations of tag or key slot in the shard that
 *		the slot number picks (tags belong to no shard; this spreads them).
 */
void
tc_cache_count_invalidations(uint32 slot, uint64 n)
{
	if (tc_cache != NULL)
		pg_atomic_fetch_add_u64(&tc_shard(slot & (tc_cache->nshards - 1))->stats.invalidations, n);
}

/*
 * tc_sweep_database
 *		Remove every entry of database dbid, in bounded batches per shard,
 *		and count them as deletes.  Returns how many were removed.  Checks
 *		for interrupts between batches only when interruptible (not at
 *		commit).
 */
uint64
tc_sweep_database(Oid dbid, bool interruptible)
{
	uint64		total = 0;
	uint32		s;

	for (s = 0; s < tc_cache->nshards; s++)
	{
		TcShard    *shard = tc_shard(s);
		uint32		b = 0;

		while (b < shard->nbuckets)
		{
			TimestampTz now = GetCurrentTimestamp();
			uint32		batch;

			LWLockAcquire(tc_shard_lock(s), LW_EXCLUSIVE);
			batch = tc_shard_sweep(shard, b, TC_BATCH_BUCKETS, now,
								   dbid, false, PG_UINT64_MAX);
			LWLockRelease(tc_shard_lock(s));
			/* count each batch at once: a cancel may come before the next */
			if (batch > 0)
				pg_atomic_fetch_add_u64(&shard->stats.deletes, batch);
			total += batch;
			b += TC_BATCH_BUCKETS;
			if (interruptible)
				CHECK_FOR_INTERRUPTS();
		}
	}
	return total;
}
