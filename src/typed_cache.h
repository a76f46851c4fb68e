/*-------------------------------------------------------------------------
 *
 * typed_cache.h
 *	  Declarations shared by the modules of the typed_cache extension.
 *
 * Each concern lives in its own file: projection in project.c (with the
 * per-type conversions in project_convert.c and registrations in
 * registry.c), the shared-memory cache in cache.c and the memory views in
 * memstats.c.  typed_cache.c only wires them together in _PG_init().
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/typed_cache.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TYPED_CACHE_H
#define TYPED_CACHE_H

#include "postgres.h"

#define TYPED_CACHE_SCHEMA "typed_cache"

/* project.c */
extern void tc_project_init(void);

#endif							/* TYPED_CACHE_H */
