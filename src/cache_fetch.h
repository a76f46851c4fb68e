/*-------------------------------------------------------------------------
 *
 * cache_fetch.h
 *	  typed_cache.fetch()'s single-flight table in shared memory.
 *
 * Who may use it: typed_cache.c only (set-up and callbacks); fetch() is
 * called from SQL.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/cache_fetch.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TYPED_CACHE_CACHE_FETCH_H
#define TYPED_CACHE_CACHE_FETCH_H

#include "postgres.h"

#include "access/xact.h"

/* internal to the library (see the Makefile) */
#pragma GCC visibility push(hidden)

extern void tc_fetch_init(void);
extern void tc_fetch_shmem_request(void);
extern void tc_fetch_shmem_startup(void);
extern void tc_fetch_xact_callback(XactEvent event, void *arg);
extern void tc_fetch_subxact_callback(SubXactEvent event,
									  SubTransactionId mySubid,
									  SubTransactionId parentSubid,
									  void *arg);

#pragma GCC visibility pop

#endif							/* TYPED_CACHE_CACHE_FETCH_H */
