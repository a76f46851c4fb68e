/*-------------------------------------------------------------------------
 *
 * project_options.h
 *	  Projection options of a composite type: parsing them, and reading a
 *	  type's registration from typed_cache.registrations
 *	  (project_options.c).
 *
 * Callers: project_plan.c (the registered options of the type it compiles
 * a plan for) and project_registry.c (register() parses the options it is
 * given).  project_options.c calls only project_path.c.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/project_options.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TYPED_CACHE_PROJECT_OPTIONS_H
#define TYPED_CACHE_PROJECT_OPTIONS_H

#include "postgres.h"

#include "utils/jsonb.h"

#include "project_convert.h"

/* internal to the library (see the Makefile) */
#pragma GCC visibility push(hidden)

/* Options of a registration, parsed. */
typedef struct TcFieldOptions
{
	char	   *name;
	char	   *path;			/* NULL if none */
	bool		required;
	Jsonb	   *defval;			/* NULL if none */
	int			coerce;			/* -1 inherit, 0 no, 1 yes */
} TcFieldOptions;

typedef struct TcTypeOptions
{
	bool		coerce;
	bool		unknown_error;
	TcNaming	naming;
	int			nfields;
	TcFieldOptions *fields;
} TcTypeOptions;

extern void tc_parse_options(Oid typid, Jsonb *options, TcTypeOptions *opts);
extern Oid	tc_registrations_relid(void);
extern bool tc_lookup_registration(Oid typid, TcTypeOptions *opts);

#pragma GCC visibility pop

#endif							/* TYPED_CACHE_PROJECT_OPTIONS_H */
