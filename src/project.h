/*-------------------------------------------------------------------------
 *
 * project.h
 *	  Typed projection of jsonb documents into composite types.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/project.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TYPED_CACHE_PROJECT_H
#define TYPED_CACHE_PROJECT_H

#include "postgres.h"

#include "utils/jsonb.h"

/*
 * Project a jsonb document into the composite type typid exactly as
 * typed_cache.project() does (registered options applied, same errors).
 * The result is a composite Datum allocated in CurrentMemoryContext, as are
 * the temporaries: call it in a short-lived context.  Raises 42804 if typid
 * is not a composite type.
 */
extern Datum tc_project_jsonb(Jsonb *doc, Oid typid);

/*
 * Raise an error unless typid is a composite type (or a domain over one).
 */
extern void tc_check_composite(Oid typid);

#endif							/* TYPED_CACHE_PROJECT_H */
