/*-------------------------------------------------------------------------
 *
 * cache_xact.c
 *	  The transaction-local layer of the cache: put and lookup as the SQL
 *	  functions and fetch run them, puts kept until commit
 *	  (typed_cache.transactional_put), what this transaction's own puts and
 *	  deletes make of a read, and the invalidation operations, which record
 *	  an invalidation (coherence_own.c) and kill the pending puts it
 *	  concerns.
 *
 * A transaction's pending puts are bounded by the bytes their entries will
 * take (64 MB; a put past the bound becomes a delete of its key), with an
 * open-addressing index by key and a bitmap of the tag slots they carry.
 * Invalidating a slot kills the pending puts that carry it and deletes
 * their keys, which invalidates the keys' slots: the operations recurse
 * (with check_stack_depth()).
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/cache_xact.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "cache_shard.h"
#include "cache_store.h"
#include "cache_xact.h"
#include "coherence_fill.h"
#include "coherence_own.h"
#include "coherence_slots.h"
#include "project.h"

/* GUCs */
static int	tc_max_value_kb = 1024;
static bool tc_transactional_put = true;

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

/*
 * tc_cache_xact_init
 *		Define the settings of puts: typed_cache.max_value_size and
 *		typed_cache.transactional_put.  Called from _PG_init().
 */
void
tc_cache_xact_init(void)
{
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
}

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
TcPendingPut *tc_pending_puts = NULL;
int			tc_npending_puts = 0;
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
 *		pending puts.  Returns true if it had a live one.
 */
bool
tc_pending_kill(const TcCacheKey *k)
{
	TcPendingPut *p;
	bool		killed = false;

	if (tc_npending_puts == 0)
		return false;
	while ((p = tc_pending_find(k)) != NULL)
	{
		p->killed = GetCurrentTransactionNestLevel();
		killed = true;
	}
	return killed;
}

/*
 * tc_pending_kill_all
 *		clear() removes this transaction's pending puts too.  Returns how
 *		many were live.
 */
uint64
tc_pending_kill_all(void)
{
	uint64		n = 0;

	for (int i = 0; i < tc_npending_puts; i++)
		if (tc_pending_puts[i].killed == 0)
		{
			tc_pending_puts[i].killed = GetCurrentTransactionNestLevel();
			n++;
		}
	return n;
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

		for (int j = 0; j < p->tags.n && !hit; j++)
			hit = (p->tags.slots[j] == slot);
		if (!hit || p->killed != 0)
			continue;
		p->killed = level;
		/* on escalation to the database, every key misses anyway */
		if (slot == TC_SLOTS_ALL)
			continue;
		tc_pending_delete(&p->k);
	}
}


/*
 * tc_own_state
 *		Whether this transaction's own pending put or delete of k decides a
 *		read of k.
 */
TcOwnState
tc_own_state(const TcCacheKey *k, TimestampTz now, TcPendingPut **p)
{
	*p = NULL;
	if (tc_npending_puts == 0 && !tc_own_pending)
		return TC_OWN_NONE;
	*p = tc_pending_find(k);
	if (*p != NULL)
		return ((*p)->expires_at != TC_NO_EXPIRY && now >= (*p)->expires_at) ?
			TC_OWN_DELETED : TC_OWN_PUT;
	if (tc_own_pending && tc_own_key_deleted(k))
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

		if (p->killed != 0)
			continue;
		p->killed = GetCurrentTransactionNestLevel();
		tc_pending_delete(&p->k);
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
			LWLockRelease(lock);
			pg_atomic_fetch_add_u64(&shard->stats.misses, 1);
			pfree(buf);
			/* the miss is a lease for a put of this key (coherence_fill.c) */
			tc_lease_note(k);
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
	tc_fill_guard(&k, &guard);
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
				tc_pending_delete(&k);
			if (tc_pending_add(&k, blocksize, value, typid, expires_at, &tags,
							   &guard, keyslot, own))
				return true;
			/* past the bounds: the key is a miss, here and after commit */
			tc_pending_delete(&k);
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
 * tc_invalidate_slot
 *		Invalidate slot for this transaction now and for everyone at commit
 *		(see coherence_slots.h): this transaction's own earlier puts with
 *		the tag are invalidated too.
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
	tc_cache_pending_kill_slot(slot);
	if (tc_own_add_slot(slot))
		tc_cache_pending_kill_slot(TC_SLOTS_TAGGED);
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
	tc_own_add_database();
}

/*
 * tc_pending_delete
 *		Remember a deleted key: it is deleted again at pre-commit and its
 *		slot invalidated like a tag's.
 */
void
tc_pending_delete(const TcCacheKey *k)
{
	tc_lease_forget(k);
	tc_invalidate_slot(tc_key_slot(k->hash));
	if (RecoveryInProgress())
		return;
	if (!tc_own_add_delete(k))
		tc_invalidate_database();
}
