/*-------------------------------------------------------------------------
 *
 * cache_views.c
 *	  The cache's views: typed_cache.stats, shard_stats, stats_reset(),
 *	  cache_entries and cache_memory.
 *
 * Each reads one shard at a time under its shared lock (the entries and the
 * memory views TC_BATCH_BUCKETS bucket chains at a time), copying what it
 * needs into backend memory reserved before the lock.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/cache_views.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/lwlock.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/pg_lsn.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "cache_shard.h"
#include "cache_store.h"
#include "cache_xact.h"
#include "coherence_own.h"
#include "coherence_slots.h"
#include "project.h"

PG_FUNCTION_INFO_V1(tc_cache_stats);
PG_FUNCTION_INFO_V1(tc_cache_shard_stats);
PG_FUNCTION_INFO_V1(tc_cache_stats_reset);
PG_FUNCTION_INFO_V1(tc_cache_entries);
PG_FUNCTION_INFO_V1(tc_cache_memory);

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
