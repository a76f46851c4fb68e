/*-------------------------------------------------------------------------
 *
 * cache_shard.c
 *	  One shard of the shared-memory cache: hash index, arena allocator and
 *	  CLOCK eviction.
 *
 * Allocator.  The arena is a sequence of blocks whose sizes are multiples
 * of 8.  A block starts with a 4-byte header (size and two flags: in use,
 * previous block in use).  Free blocks also carry two free-list links after
 * the header and a copy of their size in their last 4 bytes (a boundary
 * tag), so that freeing a block can merge it with both neighbours in O(1).
 * Free blocks sit on one of TC_NCLASSES lists by the position of their
 * highest bit; allocation takes the first fitting block of its own class
 * (looking at a few) or the head of any larger class, and splits off the
 * rest.  Two free blocks are never adjacent, so the arena of an empty shard
 * is always one free block: nothing can leak.  Offsets 0..7 of the arena
 * are unused (offset 0 means "none"), and the last 8 bytes hold an "in use"
 * end marker so that the last block never looks for a right neighbour.
 *
 * Eviction.  A CLOCK hand walks the arena in address order.  Each entry has
 * a 2-bit usage counter that readers raise with a relaxed atomic store
 * under the shared lock; the hand, under the exclusive lock, reclaims
 * expired entries at once, decrements non-zero counters and evicts entries
 * whose counter is zero.  Because the hand frees neighbouring blocks, it
 * also builds contiguous free space for large values, and a new entry
 * usually lands in the hole the hand just made, right behind the hand, as
 * in textbook CLOCK.  New entries start at 1, so that an entry placed just
 * ahead of the hand survives until the hand comes round again; on a
 * Zipf(0.99) trace this beats exact LRU (see README and the benchmark).
 * The hand must always point at a block start: freeing a block that merges
 * the hand's block into a neighbour moves the hand to the merged start.
 *
 * Expiry.  Expired entries are invisible to readers at once and reclaimed
 * by whoever meets them first with the exclusive lock: the CLOCK hand, an
 * expiry sweep run before evicting when the shard's lower bound of expiry
 * times says something may have expired, delete/put/touch of the same key,
 * or typed_cache.evict_expired().  Sweeps walk a bounded number of bucket
 * chains per call from a cursor, and the lower bound is recomputed each
 * time the cursor completes a cycle.
 *
 * Nothing here allocates backend memory or raises errors: callers hold
 * the shard's LWLock across these functions.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/cache_shard.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "port/pg_bitutils.h"

#include "cache_shard.h"

/* Bucket chains the expiry sweep visits before a put starts evicting. */
#define TC_ROOM_SWEEP_BUCKETS	256

/* Fitting blocks of the request's own class examined before going up. */
#define TC_FIT_PROBES			8

/* Free blocks examined for the largest one (cache_memory view). */
#define TC_LARGEST_PROBES		1024

/* Free block links, right after the block header. */
typedef struct TcFreeBlock
{
	uint32		bhdr;
	uint32		next;
	uint32		prev;
} TcFreeBlock;

/*
 * arena_base
 *		Address of the shard's arena.
 */
static inline char *
arena_base(TcShard *shard)
{
	return (char *) shard + shard->arena_off;
}

/*
 * block_hdr
 *		Address of the header of the block at arena offset off.
 */
static inline uint32 *
block_hdr(TcShard *shard, uint32 off)
{
	return (uint32 *) (arena_base(shard) + off);
}

/*
 * arena_end
 *		Offset of the end marker; blocks live in [8, arena_end).
 */
static inline uint32
arena_end(TcShard *shard)
{
	return shard->arena_size - 8;
}

/*
 * entry_offset
 *		Arena offset of an entry.
 */
static inline uint32
entry_offset(TcShard *shard, TcEntry *entry)
{
	return (uint32) ((char *) entry - arena_base(shard));
}

/*
 * size_class
 *		Free list of a block of the given size (>= TC_MIN_BLOCK).
 */
static inline int
size_class(uint32 size)
{
	return pg_leftmost_one_pos32(size);
}

/*
 * freelist_push
 *		Put the free block at off on the front of its size class list.
 */
static void
freelist_push(TcShard *shard, uint32 off, uint32 size)
{
	TcFreeBlock *blk = (TcFreeBlock *) block_hdr(shard, off);
	int			c = size_class(size);
	uint32		head = shard->freelist[c];

	blk->prev = 0;
	blk->next = head;
	if (head != 0)
		((TcFreeBlock *) block_hdr(shard, head))->prev = off;
	shard->freelist[c] = off;
}

/*
 * freelist_unlink
 *		Take the free block at off off its size class list.
 */
static void
freelist_unlink(TcShard *shard, uint32 off, uint32 size)
{
	TcFreeBlock *blk = (TcFreeBlock *) block_hdr(shard, off);

	if (blk->prev != 0)
		((TcFreeBlock *) block_hdr(shard, blk->prev))->next = blk->next;
	else
		shard->freelist[size_class(size)] = blk->next;
	if (blk->next != 0)
		((TcFreeBlock *) block_hdr(shard, blk->next))->prev = blk->prev;
}

/*
 * make_free_block
 *		Write the header and boundary tag of a free block [off, off+size)
 *		whose left neighbour is in use, and put it on its free list.
 */
static void
make_free_block(TcShard *shard, uint32 off, uint32 size)
{
	*block_hdr(shard, off) = size | TC_BLOCK_PREV_INUSE;
	*block_hdr(shard, off + size - 4) = size;
	freelist_push(shard, off, size);
}

/*
 * take_block
 *		Allocate need bytes from the free block at off: unlink it, split off
 *		the tail if big enough to be a block, mark the rest in use.
 */
static void
take_block(TcShard *shard, uint32 off, uint32 need)
{
	uint32	   *hdr = block_hdr(shard, off);
	uint32		size = *hdr & TC_BLOCK_SIZE_MASK;
	uint32		prevflag = *hdr & TC_BLOCK_PREV_INUSE;

	freelist_unlink(shard, off, size);
	if (size - need >= TC_MIN_BLOCK)
	{
		*hdr = need | TC_BLOCK_INUSE | prevflag;
		make_free_block(shard, off + need, size - need);
	}
	else
	{
		*hdr = size | TC_BLOCK_INUSE | prevflag;
		*block_hdr(shard, off + size) |= TC_BLOCK_PREV_INUSE;
	}
}

/*
 * block_alloc
 *		Allocate a block of need bytes (a multiple of 8, at least
 *		TC_MIN_BLOCK).  Returns its arena offset, or 0 if no free block is
 *		large enough.  The caller accounts for used_bytes using the size
 *		recorded in the header, which may exceed need by less than
 *		TC_MIN_BLOCK.
 */
static uint32
block_alloc(TcShard *shard, uint32 need)
{
	int			c = size_class(need);
	uint32		off;
	int			probes = 0;

	for (off = shard->freelist[c]; off != 0 && probes < TC_FIT_PROBES;
		 off = ((TcFreeBlock *) block_hdr(shard, off))->next, probes++)
	{
		if ((*block_hdr(shard, off) & TC_BLOCK_SIZE_MASK) >= need)
		{
			take_block(shard, off, need);
			return off;
		}
	}
	for (c = c + 1; c < TC_NCLASSES; c++)
	{
		off = shard->freelist[c];
		if (off != 0)
		{
			take_block(shard, off, need);
			return off;
		}
	}
	return 0;
}

/*
 * block_free
 *		Free the in-use block at off, merging it with free neighbours, and
 *		keep the CLOCK hand on a block start.
 */
static void
block_free(TcShard *shard, uint32 off)
{
	uint32		hdr = *block_hdr(shard, off);
	uint32		start = off;
	uint32		end = off + (hdr & TC_BLOCK_SIZE_MASK);
	uint32		nexthdr;

	Assert(hdr & TC_BLOCK_INUSE);
	if (!(hdr & TC_BLOCK_PREV_INUSE))
	{
		uint32		prevsize = *block_hdr(shard, off - 4);

		start = off - prevsize;
		freelist_unlink(shard, start, prevsize);
	}
	nexthdr = *block_hdr(shard, end);
	if (!(nexthdr & TC_BLOCK_INUSE))
	{
		uint32		nextsize = nexthdr & TC_BLOCK_SIZE_MASK;

		freelist_unlink(shard, end, nextsize);
		end += nextsize;
	}
	make_free_block(shard, start, end - start);
	*block_hdr(shard, end) &= ~TC_BLOCK_PREV_INUSE;

	if (shard->hand > start && shard->hand < end)
		shard->hand = start;
}

/*
 * tc_shard_layout
 *		Compute where the bucket array and the arena of a shard of
 *		shard_bytes bytes go.  Returns the arena size (0 if the shard is too
 *		small).  About one bucket per 256 bytes of arena keeps chains short
 *		for entries of typical size at 4 bytes of index each.
 */
Size
tc_shard_layout(Size shard_bytes, uint32 *nbuckets, uint32 *buckets_off,
				uint32 *arena_off)
{
	Size		hdr = TYPEALIGN(PG_CACHE_LINE_SIZE, sizeof(TcShard));
	Size		nb;
	Size		aoff;

	nb = pg_nextpower2_size_t(Max(shard_bytes / 256, 64));
	if (nb * 4 > shard_bytes / 8)
		nb = pg_prevpower2_size_t(Max(shard_bytes / 32, 64));
	aoff = TYPEALIGN(PG_CACHE_LINE_SIZE, hdr + nb * sizeof(uint32));
	if (aoff + 1024 > shard_bytes)
		return 0;
	*nbuckets = (uint32) nb;
	*buckets_off = (uint32) hdr;
	*arena_off = (uint32) aoff;
	return (shard_bytes - aoff) & ~((Size) 7);
}

/*
 * tc_shard_init
 *		Initialise a shard occupying shard_bytes bytes of shared memory:
 *		empty index, the whole arena one free block, zero statistics.
 */
void
tc_shard_init(TcShard *shard, Size shard_bytes)
{
	/* tc_shard_layout sets them; zero for -Wmaybe-uninitialized (-flto) */
	uint32		nbuckets = 0;
	uint32		buckets_off = 0;
	uint32		arena_off = 0;
	Size		arena_size;

	arena_size = tc_shard_layout(shard_bytes, &nbuckets, &buckets_off,
								 &arena_off);
	Assert(arena_size > 0);

	memset(shard, 0, sizeof(TcShard));
	shard->nbuckets = nbuckets;
	shard->buckets_off = buckets_off;
	shard->arena_off = arena_off;
	shard->arena_size = (uint32) arena_size;
	shard->hand = 8;
	shard->min_expiry = TC_NO_EXPIRY;
	shard->sweep_min = TC_NO_EXPIRY;
	memset(tc_shard_buckets(shard), 0, sizeof(uint32) * nbuckets);

	/* end marker, then the single free block */
	*block_hdr(shard, arena_end(shard)) = TC_BLOCK_INUSE;
	make_free_block(shard, 8, arena_end(shard) - 8);

	pg_atomic_init_u64(&shard->keys.inval_seq, 0);
	pg_atomic_init_u64(&shard->keys.horizon, 0);
	pg_atomic_init_u32(&shard->keys.marks, 0);
	pg_atomic_init_u64(&shard->stats.hits, 0);
	pg_atomic_init_u64(&shard->stats.misses, 0);
	pg_atomic_init_u64(&shard->stats.puts, 0);
	pg_atomic_init_u64(&shard->stats.deletes, 0);
	pg_atomic_init_u64(&shard->stats.expirations, 0);
	pg_atomic_init_u64(&shard->stats.evictions, 0);
	pg_atomic_init_u64(&shard->stats.refusals, 0);
	pg_atomic_init_u64(&shard->stats.invalidations, 0);
	pg_atomic_init_u64(&shard->stats.stale_refusals, 0);
	pg_atomic_init_u64(&shard->stats.fetch_waits, 0);
	pg_atomic_init_u64(&shard->stats.fetch_timeouts, 0);
	pg_atomic_init_u64(&shard->stats.fetch_queries, 0);
}

/*
 * tc_shard_max_block
 *		Largest block the shard can ever hold (its whole arena).
 */
uint32
tc_shard_max_block(TcShard *shard)
{
	return arena_end(shard) - 8;
}

/*
 * tc_entry_block_size
 *		Block size for an entry with the given key and value lengths and
 *		extra bytes of tags, or 0 if it would not fit in 32 bits.
 */
Size
tc_entry_block_size(uint32 keylen, uint32 vallen, Size extra)
{
	Size		size = TC_ENTRY_HEADER + (Size) keylen + (Size) vallen + extra;

	size = TYPEALIGN(8, size);
	if (size > (Size) PG_INT32_MAX)
		return 0;
	return size;
}

/*
 * tc_shard_lookup
 *		Find the entry of (dbid, key) in the shard, expired or not.
 *		Caller holds the shard lock in either mode.
 */
TcEntry *
tc_shard_lookup(TcShard *shard, uint32 hash, Oid dbid, const char *key,
				uint32 keylen)
{
	uint32		off = tc_shard_buckets(shard)[hash & (shard->nbuckets - 1)];

	while (off != 0)
	{
		TcEntry    *e = tc_shard_entry(shard, off);

		if (e->hash == hash && e->dbid == dbid && e->keylen == keylen &&
			memcmp(TcEntryKey(e), key, keylen) == 0)
			return e;
		off = e->next;
	}
	return NULL;
}

/*
 * tc_shard_remove
 *		Unlink an entry from its chain and free its block.  Caller holds the
 *		shard lock exclusively and updates the statistics.
 */
void
tc_shard_remove(TcShard *shard, TcEntry *entry)
{
	uint32		off = entry_offset(shard, entry);
	uint32	   *link = &tc_shard_buckets(shard)[entry->hash &
												(shard->nbuckets - 1)];

	while (*link != off)
	{
		Assert(*link != 0);
		link = &tc_shard_entry(shard, *link)->next;
	}
	*link = entry->next;

	shard->nentries--;
	if (entry->expires_at != TC_NO_EXPIRY)
		shard->nexpiring--;
	shard->used_bytes -= entry->bhdr & TC_BLOCK_SIZE_MASK;
	block_free(shard, off);
}

/*
 * sweep_chain
 *		Remove the entries of one bucket chain that match: of database dbid
 *		(any database if InvalidOid), and expired if only_expired.  Stops
 *		once *limit reaches 0.  Survivors' expiry times feed *minexp.
 *		Returns how many were removed.
 */
static uint32
sweep_chain(TcShard *shard, uint32 bucket, TimestampTz now, Oid dbid,
			bool only_expired, uint64 *limit, TimestampTz *minexp)
{
	uint32		off = tc_shard_buckets(shard)[bucket];
	uint32		removed = 0;

	while (off != 0 && *limit > 0)
	{
		TcEntry    *e = tc_shard_entry(shard, off);

		off = e->next;
		if ((!OidIsValid(dbid) || e->dbid == dbid) &&
			(!only_expired || tc_entry_expired(e, now)))
		{
			tc_shard_remove(shard, e);
			removed++;
			(*limit)--;
		}
		else if (e->expires_at < *minexp)
			*minexp = e->expires_at;
	}
	return removed;
}

/*
 * tc_shard_sweep
 *		Remove matching entries (see sweep_chain) from buckets
 *		[first_bucket, first_bucket + nbuckets), at most limit of them.
 *		When only_expired, the sweep uses and advances the shard's expiry
 *		cursor instead of first_bucket, and a completed cycle of the cursor
 *		refreshes the shard's lower bound of expiry times.  Caller holds the
 *		lock exclusively and does the statistics.
 */
uint32
tc_shard_sweep(TcShard *shard, uint32 first_bucket, uint32 nbuckets,
			   TimestampTz now, Oid dbid, bool only_expired, uint64 limit)
{
	uint32		removed = 0;
	uint32		i;
	TimestampTz dummy = TC_NO_EXPIRY;

	if (!only_expired)
	{
		for (i = first_bucket; i < first_bucket + nbuckets &&
			 i < shard->nbuckets && limit > 0; i++)
			removed += sweep_chain(shard, i, now, dbid, false, &limit, &dummy);
		return removed;
	}

	for (i = 0; i < nbuckets && limit > 0; i++)
	{
		removed += sweep_chain(shard, shard->sweep_bucket, now, dbid, true,
							   &limit, &shard->sweep_min);
		if (limit == 0)
			break;				/* finish this chain next time */
		if (++shard->sweep_bucket == shard->nbuckets)
		{
			shard->sweep_bucket = 0;
			shard->min_expiry = shard->sweep_min;
			shard->sweep_min = TC_NO_EXPIRY;
		}
	}
	return removed;
}

/*
 * tc_shard_insert
 *		Allocate a block of blocksize bytes for a new entry, making room if
 *		the shard is full: first an expiry sweep when something may have
 *		expired, then the CLOCK hand.  The caller must have checked that
 *		blocksize <= tc_shard_max_block(), so this cannot fail; it fills in
 *		the entry (everything but bhdr) and links it with tc_shard_link().
 *		Caller holds the lock exclusively.
 */
TcEntry *
tc_shard_insert(TcShard *shard, Size blocksize, TimestampTz now,
				TcRoomResult *room)
{
	uint32		need = (uint32) Max(blocksize, TC_MIN_BLOCK);
	uint32		off;
	TcEntry    *e;

	room->expired = 0;
	room->evicted = 0;
	Assert(need <= tc_shard_max_block(shard));

	off = block_alloc(shard, need);
	if (off == 0 && shard->min_expiry <= now)
	{
		room->expired += tc_shard_sweep(shard, 0, TC_ROOM_SWEEP_BUCKETS,
										now, InvalidOid, true, PG_UINT64_MAX);
		off = block_alloc(shard, need);
	}
	while (off == 0)
	{
		uint32		hdr;

		if (shard->nentries == 0)
			elog(PANIC, "typed_cache shard arena is corrupted");
		hdr = *block_hdr(shard, shard->hand);
		if (!(hdr & TC_BLOCK_INUSE))
		{
			shard->hand += hdr & TC_BLOCK_SIZE_MASK;
		}
		else
		{
			uint32		usage;

			e = tc_shard_entry(shard, shard->hand);
			usage = pg_atomic_read_u32(&e->usage);
			if (tc_entry_expired(e, now))
			{
				tc_shard_remove(shard, e);
				room->expired++;
				off = block_alloc(shard, need);
				continue;
			}
			else if (usage > 0)
			{
				pg_atomic_write_u32(&e->usage, usage - 1);
				shard->hand += hdr & TC_BLOCK_SIZE_MASK;
			}
			else
			{
				tc_shard_remove(shard, e);
				room->evicted++;
				off = block_alloc(shard, need);
				continue;
			}
		}
		if (shard->hand >= arena_end(shard))
			shard->hand = 8;
	}

	e = tc_shard_entry(shard, off);
	shard->used_bytes += e->bhdr & TC_BLOCK_SIZE_MASK;
	return e;
}

/*
 * tc_shard_link
 *		Put a filled-in entry returned by tc_shard_insert() into the index.
 */
void
tc_shard_link(TcShard *shard, TcEntry *entry)
{
	uint32	   *head = &tc_shard_buckets(shard)[entry->hash &
												(shard->nbuckets - 1)];

	entry->next = *head;
	*head = entry_offset(shard, entry);
	shard->nentries++;
	if (entry->expires_at != TC_NO_EXPIRY)
	{
		shard->nexpiring++;
		if (entry->expires_at < shard->min_expiry)
			shard->min_expiry = entry->expires_at;
		if (entry->expires_at < shard->sweep_min)
			shard->sweep_min = entry->expires_at;
	}
}

/*
 * tc_shard_set_expiry
 *		Change an entry's expiry time, keeping the shard's bounds valid.
 */
void
tc_shard_set_expiry(TcShard *shard, TcEntry *entry, TimestampTz expires_at)
{
	if (entry->expires_at != TC_NO_EXPIRY)
		shard->nexpiring--;
	entry->expires_at = expires_at;
	if (expires_at != TC_NO_EXPIRY)
	{
		shard->nexpiring++;
		if (expires_at < shard->min_expiry)
			shard->min_expiry = expires_at;
		if (expires_at < shard->sweep_min)
			shard->sweep_min = expires_at;
	}
}

/*
 * tc_shard_memory
 *		Report the shard's occupancy from its counters, without walking the
 *		arena: capacity, used and free bytes, entries, and the largest free
 *		block.  That is the largest of the first TC_LARGEST_PROBES blocks of
 *		the highest non-empty size class, so exact unless that class holds
 *		more blocks, and then at least half the true figure.  expired_entries
 *		is left 0: see tc_shard_count_expired.  Caller holds the lock in
 *		either mode; the work is bounded.
 */
void
tc_shard_memory(TcShard *shard, TcShardMemory *mem)
{
	memset(mem, 0, sizeof(TcShardMemory));
	mem->capacity_bytes = tc_shard_max_block(shard);
	mem->used_bytes = shard->used_bytes;
	mem->free_bytes = mem->capacity_bytes - shard->used_bytes;
	mem->entries = shard->nentries;
	for (int c = TC_NCLASSES - 1; c >= 0; c--)
	{
		uint32		off = shard->freelist[c];

		if (off == 0)
			continue;
		for (int probes = 0; off != 0 && probes < TC_LARGEST_PROBES; probes++)
		{
			TcFreeBlock *blk = (TcFreeBlock *) block_hdr(shard, off);
			uint32		size = blk->bhdr & TC_BLOCK_SIZE_MASK;

			if (size > mem->largest_free_bytes)
				mem->largest_free_bytes = size;
			off = blk->next;
		}
		break;
	}
}

/*
 * tc_shard_count_expired
 *		Count the expired entries of buckets [first, first + nbuckets), all
 *		databases.  Caller holds the lock in either mode.
 */
uint64
tc_shard_count_expired(TcShard *shard, uint32 first, uint32 nbuckets,
					   TimestampTz now)
{
	uint64		n = 0;

	if (shard->nexpiring == 0 || shard->min_expiry > now)
		return 0;
	for (uint32 b = first; b < first + nbuckets && b < shard->nbuckets; b++)
	{
		uint32		off = tc_shard_buckets(shard)[b];

		while (off != 0)
		{
			TcEntry    *e = tc_shard_entry(shard, off);

			if (tc_entry_expired(e, now))
				n++;
			off = e->next;
		}
	}
	return n;
}
