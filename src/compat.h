/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  Differences between the PostgreSQL major versions typed_cache builds
 *	  against (15 is the target; 16 and 17 are kept reachable).
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/compat.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TYPED_CACHE_COMPAT_H
#define TYPED_CACHE_COMPAT_H

#include "postgres.h"

#if PG_VERSION_NUM < 150000
#error "typed_cache requires PostgreSQL 15 or later"
#endif

#if PG_VERSION_NUM >= 160000
#define tc_type_ownercheck(typid, roleid) \
	object_ownercheck(TypeRelationId, (typid), (roleid))
#define tc_class_ownercheck(relid, roleid) \
	object_ownercheck(RelationRelationId, (relid), (roleid))
#else
#define tc_type_ownercheck(typid, roleid) pg_type_ownercheck((typid), (roleid))
#define tc_class_ownercheck(relid, roleid) pg_class_ownercheck((relid), (roleid))
#endif

#if PG_VERSION_NUM >= 170000
#define TC_MY_PROC_NUMBER	MyProcNumber
#else
#define TC_MY_PROC_NUMBER	(MyProc->pgprocno)
#endif

/* ---- memory statistics (src/memstats*.c) ---- */

/* PostgreSQL 17 adds the Bump memory-context type. */
#if PG_VERSION_NUM >= 170000
#define TC_HAVE_BUMP_CONTEXT 1
#endif

/* ---- end of memory statistics ---- */

#endif							/* TYPED_CACHE_COMPAT_H */
