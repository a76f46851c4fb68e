/*-------------------------------------------------------------------------
 *
 * typed_cache.c
 *	  Module entry point: registers GUCs, hooks and callbacks of every part.
 *
 * Projection works whether or not the library is preloaded.  The cache and
 * the per-backend memory slots need shared memory, which can only be
 * requested when the library is listed in shared_preload_libraries; each
 * module checks process_shared_preload_libraries_in_progress itself.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/typed_cache.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "typed_cache.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/*
 * _PG_init
 *		Initialise every module of the extension.  Called once per process
 *		when the library is loaded.
 */
void
_PG_init(void)
{
	tc_project_init();
	tc_cache_init();
	tc_invalidate_trigger_init();
	tc_memstats_init();

	MarkGUCPrefixReserved("typed_cache");
}
