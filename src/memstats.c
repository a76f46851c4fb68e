/*-------------------------------------------------------------------------
 *
 * memstats.c
 *	  Memory-context growth views and convergence check.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/memstats.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "typed_cache.h"

/*
 * tc_memstats_init
 *		Called from _PG_init().
 */
void
tc_memstats_init(void)
{
}
