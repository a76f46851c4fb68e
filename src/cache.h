/*-------------------------------------------------------------------------
 *
 * cache.h
 *	  What cache.c shares with the other parts of the cache (fetch.c).
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/cache.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TYPED_CACHE_CACHE_H
#define TYPED_CACHE_CACHE_H

#include "postgres.h"

#include "utils/array.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "cache_shard.h"

/* A key as the cache's functions see it. */
typedef struct TcCacheKey
{
	const char *data;
	uint32		len;
	uint32		hash;			/* of (database, key) */
	uint32		shard;
} TcCacheKey;

extern void tc_require_cache(void);
extern void tc_make_key(text *key, TcCacheKey *k);
extern char *tc_key_cstring(const TcCacheKey *k);
extern TcShard *tc_shard(uint32 i);
extern Jsonb *tc_lookup_copy(const TcCacheKey *k, Oid *typid);
extern bool tc_put_deferred(void);
extern void tc_check_put_args(Interval *ttl, ArrayType *tagarr);
extern bool tc_put_value(const TcCacheKey *k, Jsonb *value, Interval *ttl,
						 Oid typid, ArrayType *tagarr);

/* fetch.c */
extern Size tc_fetch_shmem_size(void);
extern void tc_fetch_shmem_startup(void);
extern void tc_fetch_init(void);

#endif							/* TYPED_CACHE_CACHE_H */
