/*-------------------------------------------------------------------------
 *
 * cache_shard.h
 *	  One shard of the shared-memory cache: hash index, arena allocator and
 *	  CLOCK eviction.
 *
 * A shard is a contiguous piece of the cache's shared-memory region: a
 * TcShard header, an array of hash buckets (4-byte arena offsets heading
 * singly linked chains) and an arena that holds every entry.  Entries are
 * variable-size blocks managed by a boundary-tag allocator with segregated
 * free lists (first fit within a power-of-two size class, splitting and
 * coalescing), so the arena never needs more memory than configured and
 * freeing everything returns it to a single free block.
 *
 * Locking: every field of a shard, and every entry in its arena, is
 * protected by the shard's LWLock.  Readers hold it in LW_SHARED and touch
 * only the atomic fields (an entry's usage counter and hit count, the
 * shard's statistics counters); everything else is changed under
 * LW_EXCLUSIVE.  None of the functions declared here allocates backend
 * memory or raises an error, so they may run with the lock held.
 *
 * Who may use it: the entry store (cache_store.c) and the layers above it
 * that read or change entries under a shard lock (cache_xact.c,
 * cache_sql.c, cache_views.c).  It calls nothing else of typed_cache (the
 * slot type comes from coherence_slots.h).
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/cache_shard.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TYPED_CACHE_CACHE_SHARD_H
#define TYPED_CACHE_CACHE_SHARD_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "port/atomics.h"

#include "coherence_slots.h"

/* internal to the library (see the Makefile) */
#pragma GCC visibility push(hidden)

/* Largest value of an entry's CLOCK usage counter (2 bits). */
#define TC_USAGE_MAX		3

/* No expiry. */
#define TC_NO_EXPIRY		DT_NOEND

/* Number of segregated free lists: one per power of two up to 2^31. */
#define TC_NCLASSES			32

/* Smallest block: header, two free-list links and a footer. */
#define TC_MIN_BLOCK		16

/* Block header flag bits; sizes are multiples of 8. */
#define TC_BLOCK_INUSE		0x1
#define TC_BLOCK_PREV_INUSE 0x2
#define TC_BLOCK_SIZE_MASK	(~(uint32) 7)

/*
 * A cache entry, stored at the start of an allocated block.  After the
 * header come, for an entry with tags, the invalidation sequence number at
 * its fill (uint64) and the slots of its tags (uint32 each; see
 * coherence_slots.h); then the key bytes, the tags' text (each NUL-terminated)
 * and the value (a complete jsonb varlena).  The first field doubles as the
 * allocator's block header.
 */
typedef struct TcEntry
{
	uint32		bhdr;			/* block size | TC_BLOCK_* flags */
	uint32		next;			/* next entry in the bucket chain, or 0 */
	uint32		hash;			/* hash of (database, key) */
	Oid			dbid;			/* database the entry belongs to */
	Oid			typid;			/* type named by put(), or InvalidOid */
	uint32		keylen;			/* bytes of key */
	uint32		vallen;			/* bytes of value */
	pg_atomic_uint32 usage;		/* CLOCK usage counter, 0..TC_USAGE_MAX */
	TimestampTz expires_at;		/* TC_NO_EXPIRY if none */
	pg_atomic_uint32 hits;		/* reads served by this entry */
	uint16		ntags;			/* tags, 0..TC_MAX_TAGS */
	uint16		tagbytes;		/* bytes of the tags' text */
	char		data[FLEXIBLE_ARRAY_MEMBER];	/* see above */
} TcEntry;

#define TC_ENTRY_HEADER		offsetof(TcEntry, data)
#define TcTagMetaBytes(ntags)	((ntags) == 0 ? 0 : 8 + 4 * (Size) (ntags))
#define TcEntryFillSeq(e)	(*(uint64 *) (e)->data)
#define TcEntrySlots(e)		((uint32 *) ((e)->data + 8))
#define TcEntryKey(e)		((e)->data + TcTagMetaBytes((e)->ntags))
#define TcEntryTags(e)		(TcEntryKey(e) + (e)->keylen)
#define TcEntryValue(e)		(TcEntryTags(e) + (e)->tagbytes)

/* Statistics of one shard; atomics because readers bump hits and misses. */
typedef struct TcShardStats
{
	pg_atomic_uint64 hits;
	pg_atomic_uint64 misses;
	pg_atomic_uint64 puts;
	pg_atomic_uint64 deletes;
	pg_atomic_uint64 expirations;
	pg_atomic_uint64 evictions;
	pg_atomic_uint64 refusals;
	pg_atomic_uint64 invalidations;	/* committed, of keys and tag slots */
	pg_atomic_uint64 stale_refusals;	/* fills refused as possibly stale */
	pg_atomic_uint64 fetch_waits;	/* fetch() calls that waited */
	pg_atomic_uint64 fetch_timeouts;	/* ... and gave up waiting */
	pg_atomic_uint64 fetch_queries;	/* queries run by fetch() */
} TcShardStats;

/*
 * Shard header.  The bucket array and the arena follow it in shared memory
 * at the offsets recorded here (relative to the header).
 *
 * keys is a summary of what committing deletes did to the key slots of this
 * shard's keys, kept in the line every lookup reads: the invalidation
 * sequence of the last step, the largest horizon and the deletes committing
 * now, each an upper bound of the same figure of any of those key slots.  A
 * fill that the summary allows needs no look at its key slot (see
 * tc_key_fill_state).
 */
typedef struct TcShard
{
	uint32		nbuckets;		/* a power of two */
	uint32		buckets_off;	/* offset of uint32 buckets[nbuckets] */
	uint32		arena_off;		/* offset of the arena */
	uint32		arena_size;		/* bytes of arena, a multiple of 8 */
	TcTagSlot	keys;			/* what deletes did to its keys (below) */
	uint32		hand;			/* CLOCK hand: offset of a block start */
	uint32		sweep_bucket;	/* next bucket of the expiry sweep */
	uint32		nentries;		/* live (possibly expired) entries */
	uint32		nexpiring;		/* entries that have an expiry time */
	uint64		used_bytes;		/* bytes of allocated blocks */
	TimestampTz min_expiry;		/* lower bound of entries' expires_at */
	TimestampTz sweep_min;		/* min expires_at seen by current sweep */
	uint32		freelist[TC_NCLASSES];	/* heads of free lists, or 0 */
	TcShardStats stats;
} TcShard;

/* Outcome of making room in a shard. */
typedef struct TcRoomResult
{
	uint32		expired;		/* expired entries reclaimed */
	uint32		evicted;		/* live entries evicted */
} TcRoomResult;

/* Per-shard memory figures (cache_memory view). */
typedef struct TcShardMemory
{
	uint64		capacity_bytes;
	uint64		used_bytes;
	uint64		free_bytes;
	uint64		largest_free_bytes;
	uint64		entries;
	uint64		expired_entries;
} TcShardMemory;

extern Size tc_shard_layout(Size shard_bytes, uint32 *nbuckets,
							uint32 *buckets_off, uint32 *arena_off);
extern void tc_shard_init(TcShard *shard, Size shard_bytes);
extern uint32 tc_shard_max_block(TcShard *shard);
extern Size tc_entry_block_size(uint32 keylen, uint32 vallen, Size extra);

extern TcEntry *tc_shard_lookup(TcShard *shard, uint32 hash, Oid dbid,
								const char *key, uint32 keylen);
extern void tc_shard_remove(TcShard *shard, TcEntry *entry);
extern TcEntry *tc_shard_insert(TcShard *shard, Size blocksize,
								TimestampTz now, TcRoomResult *room);
extern void tc_shard_link(TcShard *shard, TcEntry *entry);
extern void tc_shard_set_expiry(TcShard *shard, TcEntry *entry,
								TimestampTz expires_at);
extern uint32 tc_shard_sweep(TcShard *shard, uint32 first_bucket,
							 uint32 nbuckets, TimestampTz now, Oid dbid,
							 bool only_expired, uint64 limit);
extern void tc_shard_memory(TcShard *shard, TcShardMemory *mem);
extern uint64 tc_shard_count_expired(TcShard *shard, uint32 first,
									 uint32 nbuckets, TimestampTz now);

/*
 * tc_shard_entry
 *		The entry whose block starts at arena offset off.
 */
static inline TcEntry *
tc_shard_entry(TcShard *shard, uint32 off)
{
	return (TcEntry *) ((char *) shard + shard->arena_off + off);
}

/*
 * tc_shard_buckets
 *		The shard's bucket array.
 */
static inline uint32 *
tc_shard_buckets(TcShard *shard)
{
	return (uint32 *) ((char *) shard + shard->buckets_off);
}

/*
 * A hint to the CPU that memory at addr will be read soon; nothing else
 * (it cannot fault, even on a stale address).
 */
#if defined(__GNUC__) || defined(__clang__)
#define tc_prefetch(addr)	__builtin_prefetch((addr), 0, 3)
#else
#define tc_prefetch(addr)	((void) (addr))
#endif

/*
 * tc_shard_prefetch_bucket
 *		Start fetching the bucket of hash, so that the cache miss overlaps
 *		with the work done before the shard lock is taken.  Needs no lock:
 *		the bucket array never moves.
 */
static inline void
tc_shard_prefetch_bucket(TcShard *shard, uint32 hash)
{
	tc_prefetch(&tc_shard_buckets(shard)[hash & (shard->nbuckets - 1)]);
}

/*
 * tc_shard_prefetch_chain
 *		Start fetching the first entry of hash's chain.  The bucket is read
 *		without the lock: the offset is only a hint, and a stale one merely
 *		fetches the wrong line.
 */
static inline void
tc_shard_prefetch_chain(TcShard *shard, uint32 hash)
{
	uint32		off = ((volatile uint32 *) tc_shard_buckets(shard))[hash & (shard->nbuckets - 1)];

	if (off != 0 && off < shard->arena_size)
		tc_prefetch(tc_shard_entry(shard, off));
}

/*
 * tc_entry_expired
 *		True if the entry's lifetime is over at time now.  An entry is
 *		alive while now < expires_at: at the exact expiry instant it is gone.
 */
static inline bool
tc_entry_expired(const TcEntry *entry, TimestampTz now)
{
	return entry->expires_at != TC_NO_EXPIRY && now >= entry->expires_at;
}

/*
 * tc_entry_block_fits
 *		True if the entry's block can hold an entry of blocksize bytes, as
 *		the allocator would have handed it out: no smaller, and larger by
 *		less than TC_MIN_BLOCK.  A put that replaces such an entry rewrites
 *		it in place.
 */
static inline bool
tc_entry_block_fits(const TcEntry *entry, Size blocksize)
{
	Size		size = entry->bhdr & TC_BLOCK_SIZE_MASK;

	return blocksize <= size && size - blocksize < TC_MIN_BLOCK;
}

#pragma GCC visibility pop

#endif							/* TYPED_CACHE_CACHE_SHARD_H */
