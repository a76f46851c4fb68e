/*-------------------------------------------------------------------------
 *
 * memstats.h
 *	  Memory views of every backend: per-backend slots in shared memory that
 *	  each backend publishes its memory figures to at transaction end.
 *
 * Who may use it: typed_cache.c only (set-up and the callback).
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/memstats.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TYPED_CACHE_MEMSTATS_H
#define TYPED_CACHE_MEMSTATS_H

#include "postgres.h"

#include "access/xact.h"

/* internal to the library (see the Makefile) */
#pragma GCC visibility push(hidden)

extern void tc_memstats_init(void);
extern void tc_memstats_shmem_request(void);
extern void tc_memstats_shmem_startup(void);
extern void tc_memstats_xact_callback(XactEvent event, void *arg);

#pragma GCC visibility pop

#endif							/* TYPED_CACHE_MEMSTATS_H */
