/*-------------------------------------------------------------------------
 *
 * cache.c
 *	  Shared-memory sharded cache with TTL.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/cache.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "typed_cache.h"

/*
 * tc_cache_init
 *		Called from _PG_init().
 */
void
tc_cache_init(void)
{
}
