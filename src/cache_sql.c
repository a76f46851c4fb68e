/*-------------------------------------------------------------------------
 *
 * cache_sql.c
 *	  The SQL-callable functions of the typed_cache.put/get family: put, get
 *	  (jsonb and typed), get_many, delete, touch, ttl, evict_expired, clear
 *	  and invalidate.
 *
 * Locking discipline (see cache_store.c): reads take the shard lock in
 * LW_SHARED and only store to atomic fields; writers take it in
 * LW_EXCLUSIVE; nothing allocates or raises while a lock is held.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/cache_sql.c
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

PG_FUNCTION_INFO_V1(tc_cache_put);
PG_FUNCTION_INFO_V1(tc_cache_get);
PG_FUNCTION_INFO_V1(tc_cache_get_typed);
PG_FUNCTION_INFO_V1(tc_cache_get_many);
PG_FUNCTION_INFO_V1(tc_cache_delete);
PG_FUNCTION_INFO_V1(tc_cache_touch);
PG_FUNCTION_INFO_V1(tc_cache_ttl);
PG_FUNCTION_INFO_V1(tc_cache_evict_expired);
PG_FUNCTION_INFO_V1(tc_cache_clear);

/*
 * tc_cache_put
 *		typed_cache.put(key, value, ttl, type, tags): store a copy of value
 *		under key, replacing any previous entry, and return value.  A type
 *		makes the value validated by projection before it is stored.  The
 *		fill is guarded (coherence_fill.c): one that may be older than a
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
		if (keys[i].valoff >= 0 || keys[i].own != NULL || keys[i].skip)
			continue;
		tc_lease_note(&keys[i].k);
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
	if (tc_pending_kill(&k))
		live = true;
	/* again at commit, and the key's fills are guarded (coherence_fill.c) */
	tc_pending_delete(&k);

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
 * tc_cache_clear
 *		typed_cache.clear(): remove every entry of the current database.
 *		Returns how many were removed.
 */
Datum
tc_cache_clear(PG_FUNCTION_ARGS)
{
	uint64		own;

	tc_require_cache();
	/* this transaction's own pending puts go too, and count */
	own = tc_pending_kill_all();
	PG_RETURN_INT64((int64) (own + tc_sweep_database(MyDatabaseId, true)));
}

PG_FUNCTION_INFO_V1(tc_invalidate);

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
