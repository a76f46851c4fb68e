/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  Differences between the PostgreSQL major versions typed_cache builds
 *	  against: 15 and 18 are built and tested, 16 and 17 go through the
 *	  same definitions but are not tested.
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

/*
 * PostgreSQL 18 removed pg_attribute_noreturn() in favour of pg_noreturn, a
 * function specifier written before the declaration (commit "Add support for
 * C11 noreturn").  TC_NORETURN goes first in a declaration on every version.
 */
#if PG_VERSION_NUM >= 180000
#define TC_NORETURN pg_noreturn
#else
#define TC_NORETURN pg_attribute_noreturn()
#endif

/*
 * PostgreSQL 16 added soft-error reporting: float8in_internal() and
 * AdjustTimestampForTypmod() take a trailing "Node *escontext" (NULL means
 * throw, as before).
 */
#if PG_VERSION_NUM >= 160000
#define tc_float8in_internal(num, endptr, type, orig) \
	float8in_internal((num), (endptr), (type), (orig), NULL)
#define tc_adjust_timestamp(ts, typmod) \
	((void) AdjustTimestampForTypmod((ts), (typmod), NULL))
#else
#define tc_float8in_internal(num, endptr, type, orig) \
	float8in_internal((num), (endptr), (type), (orig))
#define tc_adjust_timestamp(ts, typmod) \
	AdjustTimestampForTypmod((ts), (typmod))
#endif

#if PG_VERSION_NUM >= 170000
#define TC_MY_PROC_NUMBER	MyProcNumber
#else
#define TC_MY_PROC_NUMBER	(MyProc->pgprocno)
#endif

/* The shared transaction-id counters: PostgreSQL 17 renames them. */
#if PG_VERSION_NUM >= 170000
#define TC_TRANSAM_VARIABLES	TransamVariables
#else
#define TC_TRANSAM_VARIABLES	ShmemVariableCache
#endif

/* ---- memory statistics (src/memstats*.c) ---- */

/* PostgreSQL 17 adds the Bump memory-context type. */
#if PG_VERSION_NUM >= 170000
#define TC_HAVE_BUMP_CONTEXT 1
#endif

/* ---- end of memory statistics ---- */

#endif							/* TYPED_CACHE_COMPAT_H */
