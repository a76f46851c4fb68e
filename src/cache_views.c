/*-------------------------------------------------------------------------
 *
 * cache.c
 *	  Shared-memory sharded cache with TTL: GUCs, shared memory set-up and
 *	  the SQL-callable functions of the typed_cache.put/get family.
 *
 * The cache is one shared-memory region of exactly typed_cache.memory
 * bytes, requested at start-up and split into typed_cache.shards shards (a
 * power of two).  A key's hash, seeded with the current database's OID so
 * that databases never see each other's keys, picks the shard (high bits)
 * and the bucket within it (low bits).  Each shard has its own LWLock from
 * the named tranche "typed_cache"; no operation takes more than one shard
 * lock at a time and there is no global lock.  The data structures of a
 * shard (index, allocator, CLOCK eviction) live in cache_shard.c.
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
 *	  src/cache.c
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

#include "cache.h"
#include "cache_shard.h"
#include "coherence.h"
#include "project.h"
#include "typed_cache.h"

/* Name of the shared-memory region and of the LWLock tranche. */
#define TC_CACHE_NAME			"typed_cache"

/* Smallest and largest shard, so that offsets fit in 32 bits. */
#define TC_MIN_SHARD_BYTES		((Size) 64 * 1024)
#define TC_MAX_SHARD_BYTES		((Size) 2 * 1024 * 1024 * 1024 - 1024)

/* Longest key, in bytes. */
#define TC_MAX_KEY_BYTES		8192

/* Bucket chains visited per exclusive lock hold by clear/evict_expired. */
#define TC_BATCH_BUCKETS		256

/* Shared header of the cache region; the shards follow. */
typedef struct TcCache
{
	uint32		nshards;
	uint32		shard_bits;		/* log2(nshards) */
	Size		shard_bytes;	/* bytes per shard, a cache-line multiple */
	Size		shards_off;		/* offset of shard 0 from the header */
} TcCache;

/* GUCs */
static int	tc_memory_kb = 64 * 1024;
static int	tc_shards = 16;
static int	tc_default_ttl = 0;
static int	tc_max_value_kb = 1024;
static bool tc_transactional_put = true;

/* Shared state, attached in every process by the startup hook. */
static TcCache *tc_cache = NULL;
static LWLockPadded *tc_locks = NULL;

/* Size of the last value copied out: first guess for the next one. */
static Size tc_copy_hint = 256;

/*
 * Scratch memory for put()'s schema-on-write projection, reset after every
 * call, failed or not.  tc_put_depth counts typed puts in progress: a put
 * made while another is validating (from a domain's CHECK function, say)
 * gets a context of its own, so that it cannot reset the outer one's.
 */
static MemoryContext tc_put_scratch = NULL;
static int	tc_put_depth = 0;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
static object_access_hook_type prev_object_access_hook = NULL;

/* Databases dropped by the current transaction (in TopTransactionContext). */
static List *tc_dropped_databases = NIL;

static uint64 tc_sweep_database(Oid dbid, bool interruptible);

PG_FUNCTION_INFO_V1(tc_cache_put);
PG_FUNCTION_INFO_V1(tc_cache_get);
PG_FUNCTION_INFO_V1(tc_cache_get_typed);
PG_FUNCTION_INFO_V1(tc_cache_get_many);
PG_FUNCTION_INFO_V1(tc_cache_delete);
PG_FUNCTION_INFO_V1(tc_cache_touch);
PG_FUNCTION_INFO_V1(tc_cache_ttl);
PG_FUNCTION_INFO_V1(tc_cache_evict_expired);
PG_FUNCTION_INFO_V1(tc_cache_clear);
PG_FUNCTION_INFO_V1(tc_cache_stats);
PG_FUNCTION_INFO_V1(tc_cache_shard_stats);
PG_FUNCTION_INFO_V1(tc_cache_stats_reset);
PG_FUNCTION_INFO_V1(tc_cache_entries);
PG_FUNCTION_INFO_V1(tc_cache_memory);

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
 *		shmem_request_hook: reserve the region and one LWLock per shard.
 *		typed_cache.memory and typed_cache.shards are only checked together
 *		here, once both are final (a check hook cannot rely on the order in
 *		which the configuration file sets them): each shard must get between
 *		64kB and 2GB, or the server does not start.
 */
static void
tc_cache_shmem_request(void)
{
	Size		per;

	if (prev_shmem_request_hook)
		prev_shmem_request_hook();

	per = tc_shard_bytes_for(tc_region_size(), tc_shards);
	if (per < TC_MIN_SHARD_BYTES || per > TC_MAX_SHARD_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("typed_cache.memory of %d kB cannot be split into %d shards",
						tc_memory_kb, tc_shards),
				 errdetail("Each shard must get between 64kB and 2GB."),
				 errhint("Change typed_cache.memory or typed_cache.shards.")));

	RequestAddinShmemSpace(tc_region_size());
	RequestAddinShmemSpace(tc_coherence_shmem_size());
	RequestAddinShmemSpace(tc_fetch_shmem_size());
	RequestNamedLWLockTranche(TC_CACHE_NAME, tc_shards);
}

/*
 * tc_shard
 *		Shard number i of the region.
 */
TcShard *
tc_shard(uint32 i)
{
	return (TcShard *) ((char *) tc_cache + tc_cache->shards_off +
						(Size) i * tc_cache->shard_bytes);
}

/*
 * tc_cache_shmem_startup
 *		shmem_startup_hook: create (or, after a crash restart, re-create) the
 *		region, with every shard empty.
 */
static void
tc_cache_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
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
	tc_coherence_shmem_startup();
	tc_fetch_shmem_startup();
	LWLockRelease(AddinShmemInitLock);
}

/*
 * tc_object_access
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
 */
static void
tc_object_access(ObjectAccessType access, Oid classId, Oid objectId,
				 int subId, void *arg)
{
	if (prev_object_access_hook)
		prev_object_access_hook(access, classId, objectId, subId, arg);

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
static void
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
 *		Called from _PG_init(): define the cache's GUCs and, when the library
 *		is being preloaded, install the shared-memory hooks.
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

	DefineCustomIntVariable("typed_cache.max_value_size",
							gettext_noop("Largest jsonb value the cache accepts; larger ones are refused."),
							NULL,
							&tc_max_value_kb,
							1024,
							1,
							1024 * 1024,
							PGC_SUSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("typed_cache.transactional_put",
							 gettext_noop("Inside a transaction block, put() takes effect when the transaction commits."),
							 gettext_noop("The transaction itself sees its puts at once; a rollback discards them."),
							 &tc_transactional_put,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	/* fetch's callbacks run after coherence's: flights end after puts */
	tc_fetch_init();
	tc_coherence_init();

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

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = tc_cache_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = tc_cache_shmem_startup;
	prev_object_access_hook = object_access_hook;
	object_access_hook = tc_object_access;
	RegisterXactCallback(tc_cache_xact_callback, NULL);
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
 * tc_shard_lock
 *		The LWLock of shard i.
 */
static inline LWLock *
tc_shard_lock(uint32 i)
{
	return &tc_locks[i].lock;
}

/*
 * tc_expiry
 *		Expiry time of an entry written at now with the given ttl (NULL means
 *		typed_cache.default_ttl).  Rejects ttl <= 0 and expiry times that do
 *		not fit in a timestamp.
 */
static TimestampTz
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
 * tc_entry_live
 *		True if the entry is neither expired nor invalidated through one of
 *		its tags (see coherence.c).  Safe under the shard lock.
 */
static inline bool
tc_entry_live(TcEntry *e, TimestampTz now)
{
	return !tc_entry_expired(e, now) &&
		(e->ntags == 0 ||
		 tc_entry_tags_valid(TcEntryFillSeq(e), TcEntrySlots(e), e->ntags));
}

/*
 * tc_note_read
 *		Record a hit on an entry: raise its CLOCK usage counter (a relaxed
 *		store: a lost update only costs a little recency) and its hit count.
 *		Safe under the shared lock.
 */
static inline void
tc_note_read(TcEntry *e)
{
	uint32		usage = pg_atomic_read_u32(&e->usage);

	if (usage < TC_USAGE_MAX)
		pg_atomic_write_u32(&e->usage, usage + 1);
	pg_atomic_fetch_add_u32(&e->hits, 1);
}

/*
 * tc_coh_key
 *		The coherence module's view of a key.
 */
static inline void
tc_coh_key(const TcCacheKey *k, TcCohKey *ck)
{
	ck->data = k->data;
	ck->len = k->len;
	ck->hash = k->hash;
	ck->shard = k->shard;
}

/* The tags of a put, checked. */
typedef struct TcTags
{
	int			n;
	uint32		slots[TC_MAX_TAGS];
	char	   *text;			/* each NUL-terminated, one after another */
	uint16		bytes;
} TcTags;

/*
 * tc_parse_tags
 *		Check put()'s tags argument (NULL: none) and compute their slots.
 */
static void
tc_parse_tags(ArrayType *arr, TcTags *t)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	Size		bytes = 0;
	char	   *p;

	t->n = 0;
	t->bytes = 0;
	t->text = NULL;
	if (arr == NULL)
		return;
	tc_tags_deconstruct(arr, &elems, &nulls, &n);
	if (n > TC_MAX_TAGS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a cache entry can carry at most %d tags", TC_MAX_TAGS),
				 errdetail("%d tags were given.", n),
				 errhint("Use broader tags, for example one per table instead of one per row.")));
	for (int i = 0; i < n; i++)
	{
		Size		len;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("cache tags must not be null")));
		len = VARSIZE_ANY_EXHDR(DatumGetTextPP(elems[i]));
		tc_check_tag(len);
		bytes += len + 1;
	}
	t->text = p = palloc(Max(bytes, 1));
	for (int i = 0; i < n; i++)
	{
		text	   *tag = DatumGetTextPP(elems[i]);
		Size		len = VARSIZE_ANY_EXHDR(tag);

		memcpy(p, VARDATA_ANY(tag), len);
		p[len] = '\0';
		p += len + 1;
		t->slots[t->n++] = tc_tag_slot(VARDATA_ANY(tag), (int) len);
	}
	t->bytes = (uint16) bytes;
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
static bool
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

/* A put kept until its transaction commits (typed_cache.transactional_put). */
typedef struct TcPendingPut
{
	TcCacheKey	k;				/* k.data points into this struct's copy */
	Size		blocksize;
	Jsonb	   *value;
	Oid			typid;
	TimestampTz expires_at;
	TcTags		tags;
	TcFillGuard guard;
	uint32		keyslot;
	bool		drop;			/* slots this transaction invalidated */
	int			killed;			/* 0: live; > 0: replaced, deleted or
								 * invalidated at that nesting level (a
								 * rollback to it revives the put); -1:
								 * rolled back */
	int			level;
	int			prev;			/* the older put of the same key, or -1 */
} TcPendingPut;

/*
 * A transaction's pending puts are bounded by the bytes their entries will
 * take (a put past the bound becomes a delete of its key), not by their
 * number: a bulk load of small values stays precise.
 */
#define TC_MAX_PENDING_BYTES	((Size) 64 * 1024 * 1024)

/*
 * The pending puts, in the order they were made, and an open-addressing
 * index of them by key (the position of the newest put of each key, or -1;
 * twice as many cells as the array has room for), all in
 * TopTransactionContext; and a bitmap of the tag slots they carry, so that
 * an invalidation finds at once that none of them is concerned.
 */
static TcPendingPut *tc_pending_puts = NULL;
static int	tc_npending_puts = 0;
static int	tc_pending_cap = 0;
static Size tc_pending_bytes = 0;
static int32 *tc_pending_index = NULL;
static uint32 tc_pending_index_mask = 0;
static uint8 *tc_pending_slotmap = NULL;

/*
 * tc_pending_cell
 *		The index cell of key k: the one that holds its newest put, or the
 *		empty one where it would go.
 */
static int32 *
tc_pending_cell(const TcCacheKey *k)
{
	uint32		i = k->hash & tc_pending_index_mask;

	for (;;)
	{
		int32		pos = tc_pending_index[i];
		TcPendingPut *p;

		if (pos < 0)
			return &tc_pending_index[i];
		p = &tc_pending_puts[pos];
		if (p->k.hash == k->hash && p->k.len == k->len &&
			memcmp(p->k.data, k->data, k->len) == 0)
			return &tc_pending_index[i];
		i = (i + 1) & tc_pending_index_mask;
	}
}

/*
 * tc_pending_find
 *		This transaction's newest live pending put of key k, or NULL.
 */
static TcPendingPut *
tc_pending_find(const TcCacheKey *k)
{
	int32		pos;

	if (tc_npending_puts == 0)
		return NULL;
	for (pos = *tc_pending_cell(k); pos >= 0;
		 pos = tc_pending_puts[pos].prev)
		if (tc_pending_puts[pos].killed == 0)
			return &tc_pending_puts[pos];
	return NULL;
}

/*
 * tc_pending_grow
 *		Make room for one more pending put: the array doubles and the index
 *		is built again for the new size.
 */
static void
tc_pending_grow(void)
{
	int			cap = tc_pending_cap == 0 ? 64 : tc_pending_cap * 2;
	uint32		cells = (uint32) cap * 2;

	if (tc_pending_puts == NULL)
	{
		tc_pending_puts = MemoryContextAlloc(TopTransactionContext,
											 sizeof(TcPendingPut) * cap);
		tc_pending_slotmap = MemoryContextAllocZero(TopTransactionContext,
													tc_coh->nslots / 8);
	}
	else
	{
		tc_pending_puts = repalloc(tc_pending_puts,
								   sizeof(TcPendingPut) * cap);
		pfree(tc_pending_index);
	}
	tc_pending_index = MemoryContextAlloc(TopTransactionContext,
										  sizeof(int32) * cells);
	memset(tc_pending_index, 0xff, sizeof(int32) * cells);
	tc_pending_index_mask = cells - 1;
	tc_pending_cap = cap;
	for (int i = 0; i < tc_npending_puts; i++)
		*tc_pending_cell(&tc_pending_puts[i].k) = i;
}

/*
 * tc_pending_kill
 *		A later put or a delete of k in this transaction replaces its
 *		pending puts.
 */
static void
tc_pending_kill(const TcCacheKey *k)
{
	TcPendingPut *p;

	if (tc_npending_puts == 0)
		return;
	while ((p = tc_pending_find(k)) != NULL)
		p->killed = GetCurrentTransactionNestLevel();
}

/*
 * tc_cache_pending_kill_slot
 *		This transaction invalidated tag slot (TC_SLOTS_TAGGED: every tag;
 *		TC_SLOTS_ALL: every entry of the database): its own pending puts
 *		that carry the tag are invalidated with it (a rollback to before the
 *		invalidation gives them back).  The put had replaced the key's
 *		entry, so the key is deleted too: it must miss, now and after
 *		commit, rather than show the entry the put replaced.
 */
void
tc_cache_pending_kill_slot(uint32 slot)
{
	int			level = GetCurrentTransactionNestLevel();

	if (tc_npending_puts == 0 ||
		(slot < TC_SLOTS_TAGGED &&
		 !(tc_pending_slotmap[slot >> 3] & (1 << (slot & 7)))))
		return;
	/* a delete invalidates the key's slot, which may be a tag's: recursion */
	check_stack_depth();
	for (int i = 0; i < tc_npending_puts; i++)
	{
		TcPendingPut *p = &tc_pending_puts[i];
		bool		hit = (slot == TC_SLOTS_ALL ||
						   (slot == TC_SLOTS_TAGGED && p->tags.n > 0));
		TcCohKey	ck;

		for (int j = 0; j < p->tags.n && !hit; j++)
			hit = (p->tags.slots[j] == slot);
		if (!hit || p->killed != 0)
			continue;
		p->killed = level;
		/* on escalation to the database, every key misses anyway */
		if (slot == TC_SLOTS_ALL)
			continue;
		tc_coh_key(&p->k, &ck);
		tc_pending_delete(&ck);
	}
}

/* What this transaction itself did to a key. */
typedef enum TcOwnState
{
	TC_OWN_NONE,				/* nothing: read the shared cache */
	TC_OWN_PUT,					/* a live pending put (*p) */
	TC_OWN_DELETED				/* deleted, invalidated or expired */
} TcOwnState;

/*
 * tc_own_state
 *		Whether this transaction's own pending put or delete of k decides a
 *		read of k.
 */
static TcOwnState
tc_own_state(const TcCacheKey *k, TimestampTz now, TcPendingPut **p)
{
	TcCohKey	ck;

	*p = NULL;
	if (tc_npending_puts == 0 && !tc_own_pending)
		return TC_OWN_NONE;
	*p = tc_pending_find(k);
	if (*p != NULL)
		return ((*p)->expires_at != TC_NO_EXPIRY && now >= (*p)->expires_at) ?
			TC_OWN_DELETED : TC_OWN_PUT;
	tc_coh_key(k, &ck);
	if (tc_own_pending && tc_own_key_deleted(&ck))
		return TC_OWN_DELETED;
	return TC_OWN_NONE;
}

/*
 * tc_pending_add
 *		Keep a put until commit.  Past the bounds the put is dropped (a miss
 *		later, never an error).  Returns false if dropped.
 */
static bool
tc_pending_add(const TcCacheKey *k, Size blocksize, Jsonb *value, Oid typid,
			   TimestampTz expires_at, const TcTags *tags,
			   const TcFillGuard *g, uint32 keyslot, bool drop)
{
	MemoryContext old;
	TcPendingPut *p;
	char	   *key;
	int32	   *cell;

	tc_pending_kill(k);
	if (tc_pending_bytes + blocksize > TC_MAX_PENDING_BYTES)
		return false;
	if (tc_npending_puts == tc_pending_cap)
		tc_pending_grow();
	old = MemoryContextSwitchTo(TopTransactionContext);
	p = &tc_pending_puts[tc_npending_puts];
	key = palloc(k->len);
	memcpy(key, k->data, k->len);
	p->k = *k;
	p->k.data = key;
	p->blocksize = blocksize;
	p->value = palloc(VARSIZE(value));
	memcpy(p->value, value, VARSIZE(value));
	p->typid = typid;
	p->expires_at = expires_at;
	p->tags = *tags;
	if (tags->n > 0)
	{
		p->tags.text = palloc(tags->bytes);
		memcpy(p->tags.text, tags->text, tags->bytes);
	}
	p->guard = *g;
	p->keyslot = keyslot;
	p->drop = drop;
	p->killed = 0;
	p->level = GetCurrentTransactionNestLevel();
	MemoryContextSwitchTo(old);
	cell = tc_pending_cell(k);
	p->prev = *cell;
	*cell = tc_npending_puts;
	for (int i = 0; i < tags->n; i++)
		tc_pending_slotmap[tags->slots[i] >> 3] |= 1 << (tags->slots[i] & 7);
	tc_npending_puts++;
	tc_pending_bytes += blocksize;
	return true;
}

/*
 * tc_cache_pending_puts_at_end
 *		End of a transaction (level 0) or of a subtransaction at level:
 *		commit applies the pending puts whose slots nothing invalidated in
 *		the meantime (a subtransaction's commit hands them to its parent);
 *		abort discards them.  Cannot fail.
 */
void
tc_cache_pending_puts_at_end(bool commit, int level)
{
	if (tc_npending_puts == 0)
		return;
	if (level > 0)
	{
		for (int i = 0; i < tc_npending_puts; i++)
		{
			TcPendingPut *p = &tc_pending_puts[i];

			if (commit)
			{
				if (p->level >= level)
					p->level = level - 1;
				if (p->killed >= level)
					p->killed = level - 1;
			}
			else if (p->level >= level)
				p->killed = -1;
			else if (p->killed >= level)
				p->killed = 0;	/* what killed it was rolled back */
		}
		return;
	}
	if (commit && tc_cache != NULL)
	{
		TimestampTz now = GetCurrentTimestamp();

		for (int i = 0; i < tc_npending_puts; i++)
		{
			TcPendingPut *p = &tc_pending_puts[i];
			TcShard    *shard = tc_shard(p->k.shard);

			if (p->killed != 0)
				continue;
			if (p->drop || !tc_fill_still_allowed(&p->guard, p->keyslot,
												  p->tags.slots, p->tags.n))
			{
				pg_atomic_fetch_add_u64(&shard->stats.stale_refusals, 1);
				continue;
			}
			/*
			 * The key slot's horizon was compared when the put was made,
			 * and it cannot have grown since unless the slot's counter
			 * moved past the guard's (which refuses): if no xmin was
			 * needed then, none is needed now.
			 */
			if (p->guard.xmin == 0)
				p->guard.xmin = PG_UINT64_MAX;
			if (!tc_store(&p->k, p->blocksize, p->value, p->typid,
						  p->expires_at, &p->tags, &p->guard, p->keyslot,
						  now))
				pg_atomic_fetch_add_u64(&shard->stats.stale_refusals, 1);
		}
	}
	/* the memory goes with TopTransactionContext */
	tc_pending_puts = NULL;
	tc_npending_puts = 0;
	tc_pending_cap = 0;
	tc_pending_bytes = 0;
	tc_pending_index = NULL;
	tc_pending_slotmap = NULL;
}

/*
 * tc_cache_pending_puts_at_prepare
 *		PREPARE TRANSACTION: the pending puts are not stored (their values
 *		would become visible before the transaction commits, and a prepared
 *		transaction may be rolled back); each live one becomes a delete of
 *		its key, applied with the transaction's other invalidations, so the
 *		key misses after COMMIT PREPARED instead of showing the entry the
 *		put replaced.  May fail (it runs before the transaction is
 *		prepared).
 */
void
tc_cache_pending_puts_at_prepare(void)
{
	for (int i = 0; i < tc_npending_puts; i++)
	{
		TcPendingPut *p = &tc_pending_puts[i];
		TcCohKey	ck;

		if (p->killed != 0)
			continue;
		p->killed = GetCurrentTransactionNestLevel();
		tc_coh_key(&p->k, &ck);
		tc_pending_delete(&ck);
	}
	tc_cache_pending_puts_at_end(false, 0);
}


/*
 * tc_lookup_copy
 *		Look a key up and copy its value into backend memory.  Returns the
 *		copy (a palloc'd jsonb) and its type in *typid, or NULL on a miss or
 *		an expired entry.  The copy buffer is reserved before locking; if the
 *		value is larger, the lock is dropped, a buffer of the right size
 *		allocated and the lookup repeated.
 */
Jsonb *
tc_lookup_copy(const TcCacheKey *k, Oid *typid)
{
	TcShard    *shard = tc_shard(k->shard);
	LWLock	   *lock = tc_shard_lock(k->shard);
	TimestampTz now = GetCurrentTimestamp();
	Size		bufsize = tc_copy_hint;
	char	   *buf;
	TcPendingPut *p;

	/* this transaction's own puts and deletes first */
	switch (tc_own_state(k, now, &p))
	{
		case TC_OWN_PUT:
			*typid = p->typid;
			buf = palloc(VARSIZE(p->value));
			memcpy(buf, p->value, VARSIZE(p->value));
			return (Jsonb *) buf;
		case TC_OWN_DELETED:
			pg_atomic_fetch_add_u64(&shard->stats.misses, 1);
			return NULL;
		case TC_OWN_NONE:
			break;
	}

	buf = palloc(bufsize);
	tc_shard_prefetch_chain(shard, k->hash);
	for (;;)
	{
		TcEntry    *e;
		uint32		vallen;

		LWLockAcquire(lock, LW_SHARED);
		e = tc_shard_lookup(shard, k->hash, MyDatabaseId, k->data, k->len);
		if (e == NULL || tc_entry_expired(e, now) ||
			(e->ntags > 0 &&
			 !tc_entry_tags_valid(TcEntryFillSeq(e), TcEntrySlots(e),
								  e->ntags)))
		{
			TcCohKey	ck;

			LWLockRelease(lock);
			pg_atomic_fetch_add_u64(&shard->stats.misses, 1);
			pfree(buf);
			/* the miss is a lease for a put of this key (coherence.c) */
			tc_coh_key(k, &ck);
			tc_lease_note(&ck);
			return NULL;
		}
		vallen = e->vallen;
		if (vallen > bufsize)
		{
			LWLockRelease(lock);
			pfree(buf);
			bufsize = vallen;
			buf = palloc(bufsize);
			continue;
		}
		memcpy(buf, TcEntryValue(e), vallen);
		*typid = e->typid;
		tc_note_read(e);
		LWLockRelease(lock);

		pg_atomic_fetch_add_u64(&shard->stats.hits, 1);
		tc_copy_hint = Max(TYPEALIGN(64, vallen), 128);
		return (Jsonb *) buf;
	}
}

/*
 * tc_validate_value
 *		Schema on write: project value into typid and throw the row away;
 *		raises the projection's error if it does not fit.  The projection
 *		checks that the type is composite when it first plans it.
 */
static void
tc_validate_value(Jsonb *value, Oid typid)
{
	MemoryContext old = CurrentMemoryContext;
	MemoryContext scratch;

	if (tc_put_depth == 0)
	{
		if (tc_put_scratch == NULL)
			tc_put_scratch = AllocSetContextCreate(TopMemoryContext,
												   "typed_cache put validation",
												   ALLOCSET_SMALL_SIZES);
		scratch = tc_put_scratch;
	}
	else
		scratch = AllocSetContextCreate(CurrentMemoryContext,
										"typed_cache nested put validation",
										ALLOCSET_SMALL_SIZES);

	tc_put_depth++;
	PG_TRY();
	{
		MemoryContextSwitchTo(scratch);
		(void) tc_project_jsonb(value, typid);
	}
	PG_FINALLY();
	{
		tc_put_depth--;
		MemoryContextSwitchTo(old);
		if (scratch == tc_put_scratch)
			MemoryContextReset(scratch);
		else
			MemoryContextDelete(scratch);
	}
	PG_END_TRY();
}

/*
 * tc_cache_put
 *		typed_cache.put(key, value, ttl, type, tags): store a copy of value
 *		under key, replacing any previous entry, and return value.  A type
 *		makes the value validated by projection before it is stored.  The
 *		fill is guarded (coherence.c): one that may be older than a
 *		committed invalidation of its key or tags is not stored.  Inside a
 *		transaction block with typed_cache.transactional_put on, it is
 *		stored when the transaction commits.
 */
Datum
tc_cache_put(PG_FUNCTION_ARGS)
{
	TcCacheKey	k;

	tc_require_cache();
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("cache key must not be null")));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("cache value must not be null"),
				 errhint("Use typed_cache.delete() to remove an entry, or store the jsonb value 'null'.")));
	tc_make_key(PG_GETARG_TEXT_PP(0), &k);
	(void) tc_put_value(&k, PG_GETARG_JSONB_P(1),
						PG_ARGISNULL(2) ? NULL : PG_GETARG_INTERVAL_P(2),
						PG_ARGISNULL(3) ? InvalidOid : PG_GETARG_OID(3),
						PG_NARGS() > 4 && !PG_ARGISNULL(4) ?
						PG_GETARG_ARRAYTYPE_P(4) : NULL);
	PG_RETURN_DATUM(PG_GETARG_DATUM(1));
}

/*
 * tc_put_deferred
 *		True if a put now would be kept until commit.
 */
bool
tc_put_deferred(void)
{
	return tc_transactional_put && IsTransactionBlock();
}

/*
 * tc_check_put_args
 *		Check a ttl and a tags argument as put() would, without storing:
 *		fetch() checks its arguments before it runs its query.
 */
void
tc_check_put_args(Interval *ttl, ArrayType *tagarr)
{
	TcTags		tags;

	(void) tc_expiry(ttl, GetCurrentTimestamp());
	tc_parse_tags(tagarr, &tags);
}

/*
 * tc_put_value
 *		The work of put() (and of fetch() after its query): check, validate
 *		and store value under k, guarded.  Returns true if it was stored (or
 *		kept for commit), false if the fill was refused.
 */
bool
tc_put_value(const TcCacheKey *kp, Jsonb *value, Interval *ttl, Oid typid,
			 ArrayType *tagarr)
{
	TcCacheKey	k = *kp;
	TcCohKey	ck;
	Size		vallen;
	Size		blocksize;
	TcShard    *shard;
	TimestampTz now;
	TimestampTz expires_at;
	TcTags		tags;
	TcFillGuard guard;
	uint32		keyslot;
	bool		deferred;
	bool		allowed;
	bool		own;

	keyslot = tc_key_slot(k.hash);
	tc_parse_tags(tagarr, &tags);
	shard = tc_shard(k.shard);

	vallen = VARSIZE(value);
	if (vallen > (Size) tc_max_value_kb * 1024)
	{
		pg_atomic_fetch_add_u64(&shard->stats.refusals, 1);
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("value for cache key \"%s\" is too large",
						tc_key_cstring(&k)),
				 errdetail("The value takes %zu bytes, more than typed_cache.max_value_size (%d kB).",
						   vallen, tc_max_value_kb),
				 errhint("Store a smaller value, or ask a superuser to raise typed_cache.max_value_size.")));
	}
	blocksize = tc_entry_block_size(k.len, (uint32) vallen,
									TcTagMetaBytes(tags.n) + tags.bytes);
	if (blocksize == 0 || blocksize > tc_shard_max_block(shard))
	{
		pg_atomic_fetch_add_u64(&shard->stats.refusals, 1);
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("value for cache key \"%s\" does not fit in a cache shard",
						tc_key_cstring(&k)),
				 errdetail("The entry needs %zu bytes; each of the %u shards holds at most %u bytes.",
						   blocksize, tc_cache->nshards,
						   tc_shard_max_block(shard)),
				 errhint("Raise typed_cache.memory or lower typed_cache.shards.")));
	}

	if (OidIsValid(typid))
		tc_validate_value(value, typid);

	/*
	 * The clock is read while the bucket (prefetched by tc_make_key) comes
	 * in; then the entry's chain is started, and the checks below run while
	 * it comes in.
	 */
	now = GetCurrentTimestamp();
	expires_at = tc_expiry(ttl, now);
	tc_shard_prefetch_chain(shard, k.hash);
	tc_coh_key(&k, &ck);
	tc_fill_guard(&ck, &guard);
	deferred = tc_transactional_put && IsTransactionBlock();

	/*
	 * A put stored now has its key slot checked by tc_store, under the
	 * shard lock; one kept for commit has it checked now, with this
	 * statement's snapshot, and again at commit.  A fill in a transaction
	 * that ran a Citus distributed plan is refused (coherence_citus.c).
	 */
	own = false;
	allowed = likely(!tc_citus_distributed) &&
		tc_fill_allowed(&guard, keyslot, tags.slots, tags.n, deferred, &own);
	if (deferred)
	{
		/* a refused fill is not kept: a miss for this transaction too */
		if (allowed || own)
		{
			/*
			 * A put into what this transaction invalidated is seen by the
			 * transaction but not stored at commit: its key is deleted then,
			 * as the put replaced the entry.
			 */
			if (own)
				tc_pending_delete(&ck);
			if (tc_pending_add(&k, blocksize, value, typid, expires_at, &tags,
							   &guard, keyslot, own))
				return true;
			/* past the bounds: the key is a miss, here and after commit */
			tc_pending_delete(&ck);
		}
	}
	else if (allowed)
	{
		tc_pending_kill(&k);
		if (tc_store(&k, blocksize, value, typid, expires_at, &tags,
					 &guard, keyslot, now))
			return true;
	}
	pg_atomic_fetch_add_u64(&shard->stats.stale_refusals, 1);
	return false;
}

/*
 * tc_cache_get
 *		typed_cache.get(key): the stored value, or NULL on a miss or when
 *		the entry has expired.
 */
Datum
tc_cache_get(PG_FUNCTION_ARGS)
{
	TcCacheKey		k;
	Jsonb	   *value;
	Oid			typid;

	tc_require_cache();
	tc_make_key(PG_GETARG_TEXT_PP(0), &k);
	value = tc_lookup_copy(&k, &typid);
	if (value == NULL)
		PG_RETURN_NULL();
	PG_RETURN_JSONB_P(value);
}

/*
 * tc_cache_get_typed
 *		typed_cache.get(key, target anyelement): the stored value projected
 *		into target's composite type.  An entry stored with put(..., type)
 *		can only be read as that type (42804 otherwise); an untyped entry is
 *		validated by the projection now.
 */
Datum
tc_cache_get_typed(PG_FUNCTION_ARGS)
{
	Oid			target = get_fn_expr_argtype(fcinfo->flinfo, 1);
	TcCacheKey		k;
	Jsonb	   *value;
	Oid			typid = InvalidOid;

	tc_require_cache();
	if (!OidIsValid(target))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("could not determine the target type")));
	/* the plan, cached per type, checks the target once, not per row */
	(void) tc_get_conv(target);
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	tc_make_key(PG_GETARG_TEXT_PP(0), &k);
	value = tc_lookup_copy(&k, &typid);
	if (value == NULL)
		PG_RETURN_NULL();
	if (OidIsValid(typid) && typid != target)
	{
		if (!SearchSysCacheExists1(TYPEOID, ObjectIdGetDatum(typid)))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("cache entry \"%s\" was stored as a type that has been dropped",
							tc_key_cstring(&k)),
					 errdetail("The entry's type had OID %u.", typid),
					 errhint("Read it without a type, or store it again.")));
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("cache entry \"%s\" was stored as type %s, not %s",
						tc_key_cstring(&k), format_type_be(typid),
						format_type_be(target)),
				 errhint("Read it as %s, or read it without a type.",
						 format_type_be(typid))));
	}
	PG_RETURN_DATUM(tc_project_jsonb(value, target));
}

/* One key of a get_many() call. */
typedef struct TcManyKey
{
	TcCacheKey		k;
	int			index;			/* position in the argument array */
	Datum		keydatum;
	int64		valoff;			/* offset in the copy buffer, -1 = miss */
	Jsonb	   *own;			/* this transaction's pending put, if any */
	bool		skip;			/* this transaction deleted the key */
} TcManyKey;

/*
 * tc_many_cmp
 *		qsort comparator: by shard, then by position.
 */
static int
tc_many_cmp(const void *a, const void *b)
{
	const TcManyKey *x = (const TcManyKey *) a;
	const TcManyKey *y = (const TcManyKey *) b;

	if (x->k.shard != y->k.shard)
		return x->k.shard < y->k.shard ? -1 : 1;
	return x->index < y->index ? -1 : (x->index > y->index ? 1 : 0);
}

/*
 * tc_many_index_cmp
 *		qsort comparator: by position.
 */
static int
tc_many_index_cmp(const void *a, const void *b)
{
	const TcManyKey *x = (const TcManyKey *) a;
	const TcManyKey *y = (const TcManyKey *) b;

	return x->index < y->index ? -1 : (x->index > y->index ? 1 : 0);
}

/*
 * tc_cache_get_many
 *		typed_cache.get_many(keys): (key, value) for every key present, in
 *		the order of the array, taking each shard's lock once (again only
 *		when the copy buffer fills up; the keys already read are kept).
 *		NULL elements are skipped; a key given twice is returned twice.
 */
Datum
tc_cache_get_many(PG_FUNCTION_ARGS)
{
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	TcManyKey  *keys;
	int			nkeys = 0;
	int			nonnull = 0;
	int			i;
	Size		cap = 8192;
	Size		used = 0;
	char	   *buf;
	TimestampTz now;

	tc_require_cache();
	InitMaterializedSRF(fcinfo, 0);
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("keys must be a one-dimensional array")));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &nelems);
	for (i = 0; i < nelems; i++)
		if (!nulls[i])
			nonnull++;
	/* up to MaxArraySize keys: more than palloc's 1GB at 48 bytes each */
	keys = MemoryContextAllocHuge(CurrentMemoryContext,
								  sizeof(TcManyKey) * Max(nonnull, 1));
	now = GetCurrentTimestamp();
	for (i = 0; i < nelems; i++)
	{
		TcPendingPut *p;

		if (nulls[i])
			continue;
		tc_make_key(DatumGetTextPP(elems[i]), &keys[nkeys].k);
		keys[nkeys].index = i;
		keys[nkeys].keydatum = elems[i];
		keys[nkeys].valoff = -1;
		keys[nkeys].own = NULL;
		keys[nkeys].skip = false;
		/* this transaction's own puts and deletes first, as get()'s */
		switch (tc_own_state(&keys[nkeys].k, now, &p))
		{
			case TC_OWN_PUT:
				keys[nkeys].own = p->value;
				break;
			case TC_OWN_DELETED:
				keys[nkeys].skip = true;
				break;
			case TC_OWN_NONE:
				break;
		}
		nkeys++;
	}
	qsort(keys, nkeys, sizeof(TcManyKey), tc_many_cmp);

	buf = palloc(cap);
	i = 0;
	while (i < nkeys)
	{
		uint32		s = keys[i].k.shard;
		TcShard    *shard = tc_shard(s);
		int			end = i;
		Size		need = 0;
		uint64		hits = 0;
		uint64		misses = 0;
		int			j;

		while (end < nkeys && keys[end].k.shard == s)
			end++;

		LWLockAcquire(tc_shard_lock(s), LW_SHARED);
		for (j = i; j < end; j++)
		{
			TcEntry    *e;

			if (keys[j].own != NULL || keys[j].skip)
				continue;
			e = tc_shard_lookup(shard, keys[j].k.hash, MyDatabaseId,
								keys[j].k.data, keys[j].k.len);
			if (e == NULL || tc_entry_expired(e, now) ||
				(e->ntags > 0 &&
				 !tc_entry_tags_valid(TcEntryFillSeq(e), TcEntrySlots(e),
									  e->ntags)))
			{
				keys[j].valoff = -1;
				misses++;
				continue;
			}
			if (used + MAXALIGN(e->vallen) > cap)
			{
				need = used + MAXALIGN(e->vallen);
				break;
			}
			memcpy(buf + used, TcEntryValue(e), e->vallen);
			keys[j].valoff = (int64) used;
			used += MAXALIGN(e->vallen);
			tc_note_read(e);
			hits++;
		}
		LWLockRelease(tc_shard_lock(s));

		if (hits > 0)
			pg_atomic_fetch_add_u64(&shard->stats.hits, hits);
		if (misses > 0)
			pg_atomic_fetch_add_u64(&shard->stats.misses, misses);
		if (need > 0)
		{
			/*
			 * The buffer is full: grow it and go on with this shard from the
			 * key that did not fit (the keys before it are read and counted).
			 * Values are returned as datums, which cannot pass 1GB in all.
			 */
			if (need > MaxAllocSize)
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("values found by get_many exceed 1GB in total"),
						 errdetail("The values read so far need %zu bytes.", need),
						 errhint("Ask for fewer keys per call.")));
			cap = Min(Max(cap * 2, need), MaxAllocSize);
			buf = repalloc(buf, cap);
			i = j;
			continue;
		}
		i = end;
	}

	/* misses are leases, as get()'s are (the last TC_LEASES of them) */
	for (i = Max(0, nkeys - 256); i < nkeys; i++)
	{
		TcCohKey	ck;

		if (keys[i].valoff >= 0 || keys[i].own != NULL || keys[i].skip)
			continue;
		tc_coh_key(&keys[i].k, &ck);
		tc_lease_note(&ck);
	}

	qsort(keys, nkeys, sizeof(TcManyKey), tc_many_index_cmp);
	for (i = 0; i < nkeys; i++)
	{
		Datum		values[2];
		bool		isnull[2] = {false, false};

		if (keys[i].own != NULL)
			values[1] = PointerGetDatum(keys[i].own);
		else if (keys[i].valoff < 0)
			continue;
		else
			values[1] = PointerGetDatum(buf + keys[i].valoff);
		values[0] = keys[i].keydatum;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc,
							 values, isnull);
	}
	return (Datum) 0;
}

/*
 * tc_cache_delete
 *		typed_cache.delete(key): remove the entry; true if a live one was
 *		removed (an expired one is reclaimed but reports false).
 */
Datum
tc_cache_delete(PG_FUNCTION_ARGS)
{
	TcCohKey	ck;
	TcCacheKey		k;
	TcShard    *shard;
	TcEntry    *e;
	TimestampTz now;
	bool		live = false;
	bool		found = false;

	tc_require_cache();
	tc_make_key(PG_GETARG_TEXT_PP(0), &k);
	shard = tc_shard(k.shard);
	now = GetCurrentTimestamp();

	/* this transaction's own pending put of the key counts as live */
	if (tc_npending_puts > 0 && tc_pending_find(&k) != NULL)
	{
		live = true;
		tc_pending_kill(&k);
	}
	/* again at commit, and the key's fills are guarded (coherence.c) */
	tc_coh_key(&k, &ck);
	tc_pending_delete(&ck);

	LWLockAcquire(tc_shard_lock(k.shard), LW_EXCLUSIVE);
	e = tc_shard_lookup(shard, k.hash, MyDatabaseId, k.data, k.len);
	if (e != NULL)
	{
		found = true;
		live = live || !tc_entry_expired(e, now);
		tc_shard_remove(shard, e);
	}
	LWLockRelease(tc_shard_lock(k.shard));

	if (found)
		pg_atomic_fetch_add_u64(live ? &shard->stats.deletes :
								&shard->stats.expirations, 1);
	PG_RETURN_BOOL(live);
}

/*
 * tc_cache_touch
 *		typed_cache.touch(key, ttl): give a live entry a new lifetime from
 *		now (NULL ttl: typed_cache.default_ttl).  False if there is none.
 */
Datum
tc_cache_touch(PG_FUNCTION_ARGS)
{
	TcCacheKey		k;
	TcShard    *shard;
	TcEntry    *e;
	TimestampTz now;
	TimestampTz expires_at;
	bool		done = false;
	TcPendingPut *p;

	tc_require_cache();
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("cache key must not be null")));
	tc_make_key(PG_GETARG_TEXT_PP(0), &k);
	shard = tc_shard(k.shard);
	now = GetCurrentTimestamp();
	expires_at = tc_expiry(PG_ARGISNULL(1) ? NULL : PG_GETARG_INTERVAL_P(1),
						   now);

	/* this transaction's own put or delete of the key decides */
	switch (tc_own_state(&k, now, &p))
	{
		case TC_OWN_PUT:
			p->expires_at = expires_at;
			PG_RETURN_BOOL(true);
		case TC_OWN_DELETED:
			PG_RETURN_BOOL(false);
		case TC_OWN_NONE:
			break;
	}

	LWLockAcquire(tc_shard_lock(k.shard), LW_EXCLUSIVE);
	e = tc_shard_lookup(shard, k.hash, MyDatabaseId, k.data, k.len);
	if (e != NULL && tc_entry_live(e, now))
	{
		tc_shard_set_expiry(shard, e, expires_at);
		done = true;
	}
	LWLockRelease(tc_shard_lock(k.shard));

	PG_RETURN_BOOL(done);
}

/*
 * tc_cache_ttl
 *		typed_cache.ttl(key): remaining lifetime of a live entry; NULL if
 *		there is no live entry or it never expires.
 */
Datum
tc_cache_ttl(PG_FUNCTION_ARGS)
{
	TcCacheKey		k;
	TcShard    *shard;
	TcEntry    *e;
	TimestampTz now;
	TimestampTz expires_at = TC_NO_EXPIRY;
	bool		found = false;
	Interval   *result;
	TcPendingPut *p;

	tc_require_cache();
	tc_make_key(PG_GETARG_TEXT_PP(0), &k);
	shard = tc_shard(k.shard);
	now = GetCurrentTimestamp();

	switch (tc_own_state(&k, now, &p))
	{
		case TC_OWN_PUT:
			found = true;
			expires_at = p->expires_at;
			break;
		case TC_OWN_DELETED:
			break;
		case TC_OWN_NONE:
			LWLockAcquire(tc_shard_lock(k.shard), LW_SHARED);
			e = tc_shard_lookup(shard, k.hash, MyDatabaseId, k.data, k.len);
			if (e != NULL && tc_entry_live(e, now))
			{
				found = true;
				expires_at = e->expires_at;
			}
			LWLockRelease(tc_shard_lock(k.shard));
			break;
	}

	if (!found || expires_at == TC_NO_EXPIRY)
		PG_RETURN_NULL();

	/*
	 * Whole milliseconds, rounded up so that a live entry never shows 0 and
	 * a fresh '3 hours' shows 03:00:00 rather than 02:59:59.999997; 24-hour
	 * periods become days, as justify_hours() does.
	 */
	result = palloc0(sizeof(Interval));
	result->time = expires_at - now;
	result->time = (result->time + 999) / 1000 * 1000;
	result->day = (int32) (result->time / USECS_PER_DAY);
	result->time -= (int64) result->day * USECS_PER_DAY;
	PG_RETURN_INTERVAL_P(result);
}

/*
 * tc_cache_evict_expired
 *		typed_cache.evict_expired(max_entries): reclaim expired entries of
 *		every database, shard by shard, holding each shard's lock for at most
 *		TC_BATCH_BUCKETS bucket chains at a time.  Stops after max_entries
 *		(NULL: no limit).  Returns how many were reclaimed.
 */
Datum
tc_cache_evict_expired(PG_FUNCTION_ARGS)
{
	uint64		limit = PG_UINT64_MAX;
	uint64		total = 0;
	uint32		s;

	tc_require_cache();
	if (!PG_ARGISNULL(0))
	{
		int64		max = PG_GETARG_INT64(0);

		if (max < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("max_entries must not be negative"),
					 errhint("Pass NULL to reclaim every expired entry.")));
		limit = (uint64) max;
	}

	for (s = 0; s < tc_cache->nshards && total < limit; s++)
	{
		TcShard    *shard = tc_shard(s);
		uint64		n = 0;
		uint32		visited = 0;

		while (total + n < limit)
		{
			TimestampTz now = GetCurrentTimestamp();
			uint32		nbuckets;
			uint32		batch;

			LWLockAcquire(tc_shard_lock(s), LW_EXCLUSIVE);
			nbuckets = shard->nbuckets;
			if (visited == 0 && (shard->min_expiry > now ||
								 shard->nexpiring == 0))
			{
				LWLockRelease(tc_shard_lock(s));
				break;
			}
			batch = tc_shard_sweep(shard, 0, TC_BATCH_BUCKETS, now, InvalidOid,
								   true, limit - total - n);
			LWLockRelease(tc_shard_lock(s));
			/* count each batch at once: a cancel may come before the next */
			if (batch > 0)
				pg_atomic_fetch_add_u64(&shard->stats.expirations, batch);
			n += batch;
			visited += TC_BATCH_BUCKETS;
			if (visited >= nbuckets)
				break;
			CHECK_FOR_INTERRUPTS();
		}
		total += n;
	}
	PG_RETURN_INT64((int64) total);
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
 * tc_cache_clear
 *		typed_cache.clear(): remove every entry of the current database.
 *		Returns how many were removed.
 */
Datum
tc_cache_clear(PG_FUNCTION_ARGS)
{
	uint64		own = 0;

	tc_require_cache();
	/* this transaction's own pending puts go too, and count */
	for (int i = 0; i < tc_npending_puts; i++)
		if (tc_pending_puts[i].killed == 0)
		{
			tc_pending_puts[i].killed = GetCurrentTransactionNestLevel();
			own++;
		}
	PG_RETURN_INT64((int64) (own + tc_sweep_database(MyDatabaseId, true)));
}

/*
 * tc_sweep_database
 *		Remove every entry of database dbid, in bounded batches per shard,
 *		and count them as deletes.  Returns how many were removed.  Checks
 *		for interrupts between batches only when interruptible (not at
 *		commit).
 */
static uint64
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

/* Counters of one shard or of all of them. */
typedef struct TcStatsRow
{
	uint64		entries;
	uint64		used_bytes;
	uint64		capacity_bytes;
	uint64		hits;
	uint64		misses;
	uint64		puts;
	uint64		deletes;
	uint64		expirations;
	uint64		evictions;
	uint64		refusals;
	uint64		invalidations;
	uint64		stale_refusals;
	uint64		fetch_waits;
	uint64		fetch_timeouts;
} TcStatsRow;

/* Columns of a stats row: 11 in version 1.0, 15 since 1.1. */
#define TC_STATS_COLS		15

/*
 * tc_read_stats
 *		Add shard s's figures to *row.
 */
static void
tc_read_stats(uint32 s, TcStatsRow *row)
{
	TcShard    *shard = tc_shard(s);

	LWLockAcquire(tc_shard_lock(s), LW_SHARED);
	row->entries += shard->nentries;
	row->used_bytes += shard->used_bytes;
	row->capacity_bytes += tc_shard_max_block(shard);
	LWLockRelease(tc_shard_lock(s));
	row->hits += pg_atomic_read_u64(&shard->stats.hits);
	row->misses += pg_atomic_read_u64(&shard->stats.misses);
	row->puts += pg_atomic_read_u64(&shard->stats.puts);
	row->deletes += pg_atomic_read_u64(&shard->stats.deletes);
	row->expirations += pg_atomic_read_u64(&shard->stats.expirations);
	row->evictions += pg_atomic_read_u64(&shard->stats.evictions);
	row->refusals += pg_atomic_read_u64(&shard->stats.refusals);
	row->invalidations += pg_atomic_read_u64(&shard->stats.invalidations);
	row->stale_refusals += pg_atomic_read_u64(&shard->stats.stale_refusals);
	row->fetch_waits += pg_atomic_read_u64(&shard->stats.fetch_waits);
	row->fetch_timeouts += pg_atomic_read_u64(&shard->stats.fetch_timeouts);
}

/*
 * tc_stats_values
 *		Fill values[first..first+14] with a stats row: entries, used_bytes,
 *		capacity_bytes, hits, misses, hit_ratio, puts, deletes, expirations,
 *		evictions, refusals, invalidations, stale_refusals, fetch_waits,
 *		fetch_timeouts.  The SQL definitions of version 1.0 have only the
 *		first 11 columns: tuplestore_putvalues() reads as many as the
 *		result's descriptor has.
 */
static void
tc_stats_values(const TcStatsRow *row, Datum *values, bool *nulls, int first)
{
	Datum	   *v = values + first;
	bool	   *n = nulls + first;

	v[0] = Int64GetDatum((int64) row->entries);
	v[1] = Int64GetDatum((int64) row->used_bytes);
	v[2] = Int64GetDatum((int64) row->capacity_bytes);
	v[3] = Int64GetDatum((int64) row->hits);
	v[4] = Int64GetDatum((int64) row->misses);
	if (row->hits + row->misses == 0)
		n[5] = true;
	else
		v[5] = Float8GetDatum((double) row->hits /
							  (double) (row->hits + row->misses));
	v[6] = Int64GetDatum((int64) row->puts);
	v[7] = Int64GetDatum((int64) row->deletes);
	v[8] = Int64GetDatum((int64) row->expirations);
	v[9] = Int64GetDatum((int64) row->evictions);
	v[10] = Int64GetDatum((int64) row->refusals);
	v[11] = Int64GetDatum((int64) row->invalidations);
	v[12] = Int64GetDatum((int64) row->stale_refusals);
	v[13] = Int64GetDatum((int64) row->fetch_waits);
	v[14] = Int64GetDatum((int64) row->fetch_timeouts);
}

/*
 * tc_cache_stats
 *		typed_cache.cache_stats(): one row of figures summed over shards,
 *		and (1.2) escalations, wal_written, wal_replayed and wal_replay_lsn,
 *		behind the typed_cache.stats view.  Older definitions have fewer
 *		columns: tuplestore_putvalues() reads as many as they have.
 */
Datum
tc_cache_stats(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TcStatsRow	row;
	Datum		values[TC_STATS_COLS + 4];
	bool		nulls[TC_STATS_COLS + 4];
	uint32		s;
	uint64		lsn;

	tc_require_cache();
	InitMaterializedSRF(fcinfo, 0);
	memset(&row, 0, sizeof(row));
	memset(nulls, 0, sizeof(nulls));
	for (s = 0; s < tc_cache->nshards; s++)
		tc_read_stats(s, &row);
	tc_stats_values(&row, values, nulls, 0);
	/* 1.2: the server-wide figures of invalidation through the WAL */
	values[TC_STATS_COLS] =
		Int64GetDatum((int64) pg_atomic_read_u64(&tc_coh->escalations));
	values[TC_STATS_COLS + 1] =
		Int64GetDatum((int64) pg_atomic_read_u64(&tc_coh->wal_written));
	values[TC_STATS_COLS + 2] =
		Int64GetDatum((int64) pg_atomic_read_u64(&tc_coh->wal_replayed));
	lsn = pg_atomic_read_u64(&tc_coh->wal_replay_lsn);
	if (lsn == 0)
		nulls[TC_STATS_COLS + 3] = true;
	else
		values[TC_STATS_COLS + 3] = LSNGetDatum((XLogRecPtr) lsn);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return (Datum) 0;
}

/*
 * tc_cache_shard_stats
 *		typed_cache.shard_stats(): the figures of each shard, behind the
 *		typed_cache.shards view.
 */
Datum
tc_cache_shard_stats(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	uint32		s;

	tc_require_cache();
	InitMaterializedSRF(fcinfo, 0);
	for (s = 0; s < tc_cache->nshards; s++)
	{
		TcStatsRow	row;
		Datum		values[TC_STATS_COLS + 1];
		bool		nulls[TC_STATS_COLS + 1];

		memset(&row, 0, sizeof(row));
		memset(nulls, 0, sizeof(nulls));
		tc_read_stats(s, &row);
		values[0] = Int32GetDatum((int32) s);
		tc_stats_values(&row, values, nulls, 1);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc,
							 values, nulls);
	}
	return (Datum) 0;
}

/*
 * tc_cache_stats_reset
 *		typed_cache.stats_reset(): zero the counters of every shard (entries
 *		and bytes are facts, not counters, and stay).
 */
Datum
tc_cache_stats_reset(PG_FUNCTION_ARGS)
{
	uint32		s;

	tc_require_cache();
	for (s = 0; s < tc_cache->nshards; s++)
	{
		TcShardStats *st = &tc_shard(s)->stats;

		pg_atomic_write_u64(&st->hits, 0);
		pg_atomic_write_u64(&st->misses, 0);
		pg_atomic_write_u64(&st->puts, 0);
		pg_atomic_write_u64(&st->deletes, 0);
		pg_atomic_write_u64(&st->expirations, 0);
		pg_atomic_write_u64(&st->evictions, 0);
		pg_atomic_write_u64(&st->refusals, 0);
		pg_atomic_write_u64(&st->invalidations, 0);
		pg_atomic_write_u64(&st->stale_refusals, 0);
		pg_atomic_write_u64(&st->fetch_waits, 0);
		pg_atomic_write_u64(&st->fetch_timeouts, 0);
		pg_atomic_write_u64(&st->fetch_queries, 0);
	}
	PG_RETURN_VOID();
}

/* An entry's metadata copied out for the entries view. */
typedef struct TcEntryInfo
{
	Size		keyoff;			/* key, then tagbytes of tags */
	uint32		keylen;
	uint32		tagbytes;
	uint16		ntags;
	uint32		vallen;
	Oid			typid;
	TimestampTz expires_at;
	uint32		hits;
} TcEntryInfo;

/*
 * tc_entries_batch
 *		Copy the metadata and keys of the live entries of the current
 *		database in buckets [first, first + TC_BATCH_BUCKETS) of shard into
 *		info and keys, which hold maxinfo entries and keycap bytes.  Returns
 *		the number of entries found; if they do not fit, sets *keyneed to the
 *		key bytes needed and copies nothing usable.  Caller holds the lock
 *		in either mode: the work is bounded by the batch.
 */
static int
tc_entries_batch(TcShard *shard, uint32 first, TimestampTz now,
				 TcEntryInfo *info, int maxinfo, char *keys, Size keycap,
				 Size *keyneed)
{
	int			n = 0;
	Size		keyused = 0;

	for (uint32 b = first; b < first + TC_BATCH_BUCKETS && b < shard->nbuckets; b++)
	{
		uint32		off = tc_shard_buckets(shard)[b];

		while (off != 0)
		{
			TcEntry    *e = tc_shard_entry(shard, off);

			off = e->next;
			if (e->dbid != MyDatabaseId || !tc_entry_live(e, now))
				continue;
			if (tc_npending_puts > 0 || tc_own_pending)
			{
				TcCacheKey	ek;
				TcPendingPut *p;

				/* this transaction's own put or delete hides the entry */
				ek.data = TcEntryKey(e);
				ek.len = e->keylen;
				ek.hash = e->hash;
				ek.shard = 0;
				if (tc_own_state(&ek, now, &p) != TC_OWN_NONE)
					continue;
			}
			if (n < maxinfo && keyused + e->keylen + e->tagbytes <= keycap)
			{
				info[n].keyoff = keyused;
				info[n].keylen = e->keylen;
				info[n].tagbytes = e->tagbytes;
				info[n].ntags = e->ntags;
				memcpy(keys + keyused + e->keylen, TcEntryTags(e), e->tagbytes);
				info[n].vallen = e->vallen;
				info[n].typid = e->typid;
				info[n].expires_at = e->expires_at;
				info[n].hits = pg_atomic_read_u32(&e->hits);
				memcpy(keys + keyused, TcEntryKey(e), e->keylen);
			}
			keyused += e->keylen + e->tagbytes;
			n++;
		}
	}
	*keyneed = keyused;
	return n;
}

/*
 * tc_cache_entries
 *		typed_cache.cache_entries(): key, value_bytes, type, expires_at and
 *		hits of every live entry of the current database.  Each shard is
 *		read TC_BATCH_BUCKETS bucket chains at a time under its shared lock,
 *		so that writers get in between; the rows of a batch go out before
 *		the next is read.  Buffers grow to what a batch holds, and a batch
 *		that did not fit is read again.  Entries that move between batches
 *		while the view runs may be missed or shown twice, as in any scan
 *		that does not stop the cache.
 */
Datum
tc_cache_entries(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			maxinfo = 1024;
	Size		keycap = 16384;
	TcEntryInfo *info;
	char	   *keys;

	tc_require_cache();
	InitMaterializedSRF(fcinfo, 0);
	info = palloc(sizeof(TcEntryInfo) * maxinfo);
	keys = palloc(keycap);

	for (uint32 s = 0; s < tc_cache->nshards; s++)
	{
		TcShard    *shard = tc_shard(s);
		uint32		b = 0;

		while (b < shard->nbuckets)
		{
			TimestampTz now = GetCurrentTimestamp();
			Size		keyneed;
			int			n;

			LWLockAcquire(tc_shard_lock(s), LW_SHARED);
			n = tc_entries_batch(shard, b, now, info, maxinfo, keys, keycap,
								 &keyneed);
			LWLockRelease(tc_shard_lock(s));

			if (n > maxinfo || keyneed > keycap)
			{
				/* grow to what the batch held (and some), then read it again */
				if (n > maxinfo)
				{
					maxinfo = n + n / 2;
					info = repalloc(info, sizeof(TcEntryInfo) * maxinfo);
				}
				if (keyneed > keycap)
				{
					keycap = keyneed + keyneed / 2;
					keys = repalloc(keys, keycap);
				}
				continue;
			}

			for (int i = 0; i < n; i++)
			{
				Datum		values[6];
				bool		nulls[6] = {false, false, false, false, false, false};
				Datum		tagd[TC_MAX_TAGS];
				const char *t = keys + info[i].keyoff + info[i].keylen;

				values[0] = PointerGetDatum(cstring_to_text_with_len(keys + info[i].keyoff,
																	 info[i].keylen));
				values[1] = Int64GetDatum((int64) info[i].vallen);
				if (OidIsValid(info[i].typid))
					values[2] = ObjectIdGetDatum(info[i].typid);
				else
					nulls[2] = true;
				if (info[i].expires_at == TC_NO_EXPIRY)
					nulls[3] = true;
				else
					values[3] = TimestampTzGetDatum(info[i].expires_at);
				values[4] = Int64GetDatum((int64) info[i].hits);
				/* tags: a column since version 1.1 */
				if (rsinfo->setDesc->natts > 5)
				{
					for (int j = 0; j < info[i].ntags; j++)
					{
						tagd[j] = CStringGetTextDatum(t);
						t += strlen(t) + 1;
					}
					values[5] = PointerGetDatum(construct_array(tagd, info[i].ntags,
																TEXTOID, -1, false,
																TYPALIGN_INT));
				}
				tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc,
									 values, nulls);
			}
			b += TC_BATCH_BUCKETS;
			CHECK_FOR_INTERRUPTS();
		}
	}

	/* this transaction's own pending puts, as it sees them */
	for (int i = 0; i < tc_npending_puts; i++)
	{
		TcPendingPut *p = &tc_pending_puts[i];
		Datum		values[6];
		bool		nulls[6] = {false, false, true, true, false, false};
		Datum		tagd[TC_MAX_TAGS];
		const char *t = p->tags.text;

		if (p->killed != 0 || (p->expires_at != TC_NO_EXPIRY &&
						GetCurrentTimestamp() >= p->expires_at))
			continue;
		values[0] = PointerGetDatum(cstring_to_text_with_len(p->k.data, p->k.len));
		values[1] = Int64GetDatum((int64) VARSIZE(p->value));
		if (OidIsValid(p->typid))
		{
			nulls[2] = false;
			values[2] = ObjectIdGetDatum(p->typid);
		}
		if (p->expires_at != TC_NO_EXPIRY)
		{
			nulls[3] = false;
			values[3] = TimestampTzGetDatum(p->expires_at);
		}
		values[4] = Int64GetDatum(0);
		for (int j = 0; j < p->tags.n; j++)
		{
			tagd[j] = CStringGetTextDatum(t);
			t += strlen(t) + 1;
		}
		values[5] = PointerGetDatum(construct_array(tagd, p->tags.n, TEXTOID,
													-1, false, TYPALIGN_INT));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc,
							 values, nulls);
	}
	return (Datum) 0;
}

/*
 * tc_cache_memory
 *		typed_cache.cache_memory_shards(): per shard, the arena's capacity,
 *		used and free bytes, largest free block, entries and expired entries
 *		not yet reclaimed (all databases; sizes only).  Nothing is walked
 *		under one lock hold beyond a batch of bucket chains.
 */
Datum
tc_cache_memory(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	uint32		s;

	tc_require_cache();
	InitMaterializedSRF(fcinfo, 0);
	for (s = 0; s < tc_cache->nshards; s++)
	{
		TcShard    *shard = tc_shard(s);
		TcShardMemory mem;
		Datum		values[7];
		bool		nulls[7] = {false, false, false, false, false, false, false};
		uint32		nbuckets;

		LWLockAcquire(tc_shard_lock(s), LW_SHARED);
		tc_shard_memory(shard, &mem);
		nbuckets = shard->nbuckets;
		LWLockRelease(tc_shard_lock(s));

		/* expired entries are counted chain by chain, a batch per lock hold */
		for (uint32 b = 0; b < nbuckets; b += TC_BATCH_BUCKETS)
		{
			TimestampTz now = GetCurrentTimestamp();

			LWLockAcquire(tc_shard_lock(s), LW_SHARED);
			mem.expired_entries += tc_shard_count_expired(shard, b,
														  TC_BATCH_BUCKETS,
														  now);
			LWLockRelease(tc_shard_lock(s));
			CHECK_FOR_INTERRUPTS();
		}
		mem.expired_entries = Min(mem.expired_entries, mem.entries);

		values[0] = Int32GetDatum((int32) s);
		values[1] = Int64GetDatum((int64) mem.capacity_bytes);
		values[2] = Int64GetDatum((int64) mem.used_bytes);
		values[3] = Int64GetDatum((int64) mem.free_bytes);
		values[4] = Int64GetDatum((int64) mem.largest_free_bytes);
		values[5] = Int64GetDatum((int64) mem.entries);
		values[6] = Int64GetDatum((int64) mem.expired_entries);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc,
							 values, nulls);
	}
	return (Datum) 0;
}
