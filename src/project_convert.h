/*-------------------------------------------------------------------------
 *
 * project_convert.h
 *	  Conversion plans, and the conversion of JSON scalars into SQL values
 *	  (project_convert.c).
 *
 * A projection is driven by a conversion plan (TcConv) compiled once per
 * type per backend by project_plan.c: for a composite type, a TcPlan with
 * one TcField per attribute, the JSON key or path each is read from, and
 * how the JSON value is converted into the attribute's type.  The plan's
 * types are defined here, in the lowest layer that reads them, so that the
 * layers above (the tuple former, the executor, the plan builder) share
 * them without including one another.
 *
 * Callers: project_form.c, project_exec.c, project_options.c (TcNaming),
 * project_plan.c and project.c.  project_convert.c calls only
 * project_path.c.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/project_convert.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TYPED_CACHE_PROJECT_CONVERT_H
#define TYPED_CACHE_PROJECT_CONVERT_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "fmgr.h"
#include "nodes/pg_list.h"
#include "utils/jsonb.h"

#include "compat.h"
#include "project_path.h"

/* internal to the library (see the Makefile) */
#pragma GCC visibility push(hidden)

/* How a JSON value becomes a value of one SQL type. */
typedef enum TcConvKind
{
	TC_INT2,
	TC_INT4,
	TC_INT8,
	TC_FLOAT4,
	TC_FLOAT8,
	TC_NUMERIC,
	TC_BOOL,
	TC_TEXT,					/* text, and varchar/bpchar without length */
	TC_VARCHAR,					/* varchar(n) */
	TC_BPCHAR,					/* char(n) */
	TC_DATE,
	TC_TIMESTAMP,
	TC_TIMESTAMPTZ,
	TC_JSON,
	TC_JSONB,
	TC_ARRAY,
	TC_COMPOSITE,
	TC_OTHER					/* through the type's input function */
} TcConvKind;

struct TcPlan;

typedef struct TcConv
{
	TcConvKind	kind;
	Oid			typid;			/* declared type, possibly a domain */
	int32		typmod;
	Oid			basetypid;		/* typid with domains stripped */
	int32		basetypmod;
	bool		is_domain;
	bool		coerce;			/* accept what jsonb_populate_record does */
	bool		fast;			/* no domain, no coercion: tc_convert_fast() */
	char		typcategory;	/* of the base type */
	void	   *domain_extra;	/* domain_check() cache */
	MemoryContext mcxt;			/* where the plan lives */
	FmgrInfo	infunc;			/* input function of typid */
	Oid			typioparam;
	FmgrInfo	baseinfunc;		/* input function of basetypid */
	Oid			baseioparam;
	/* TC_ARRAY */
	struct TcConv *elem;
	int16		elmlen;
	bool		elmbyval;
	char		elmalign;
	/* TC_COMPOSITE */
	struct TcPlan *sub;
	/* enums: labels already seen, with their OIDs (filled by enum_in) */
	bool		is_enum;
	int			nlabels;
	struct TcEnumLabel *labels;
} TcConv;

#define TC_ENUM_CACHE 32

typedef struct TcEnumLabel
{
	char	   *label;
	int			len;
	Oid			oid;
} TcEnumLabel;

typedef struct TcField
{
	int			attno;			/* 0-based index into the tuple */
	char	   *name;			/* attribute name */
	char	   *key;			/* JSON key read when npath == 0 */
	int			keylen;
	int			npath;			/* > 0: read from this path instead */
	char	  **path;
	int		   *pathlen;
	char	   *pathtext;		/* the path as registered, for messages */
	bool		required;
	Jsonb	   *defval;			/* default when the key is missing */
	bool		direct_text;	/* a JSON string is written as is */
	TcConv		conv;
} TcField;

typedef enum TcNaming
{
	TC_NAMING_EXACT,
	TC_NAMING_CASE_INSENSITIVE,
	TC_NAMING_CAMEL_TO_SNAKE
} TcNaming;

/* Entry of the sorted key table that drives the one-pass match. */
typedef struct TcKey
{
	const char *key;
	int			keylen;
	int			field;			/* index into fields, or -1: a path's head */
} TcKey;

/* What the tuple former of a plan is trusted with (project_form.c). */
typedef enum TcFormer
{
	TC_FORMER_UNCHECKED,		/* compare the next tuple to heap_form_tuple */
	TC_FORMER_OK,
	TC_FORMER_OFF				/* heap_form_tuple only */
} TcFormer;

typedef struct TcPlan
{
	Oid			typid;			/* the composite type */
	Oid			typrelid;
	TupleDesc	tupdesc;
	int			natts;			/* tupdesc->natts, dropped ones included */
	int			nfields;		/* live attributes */
	TcField    *fields;
	int			nkeys;			/* sorted in jsonb key order */
	TcKey	   *keys;
	int			npathfields;
	int		   *pathfields;		/* indexes of fields read from paths */
	bool		unknown_error;
	TcNaming	naming;
	bool		registered;
	List	   *deprelids;		/* relids whose change invalidates this */
	struct TcAttLayout *layout; /* per attribute, natts of them */
	char	   *header;			/* SizeofHeapTupleHeader template bytes */
	TcFormer	former;
} TcPlan;

extern bool tc_convert_fast(const TcConv *conv, const JsonbValue *v,
							Datum *result);
extern Datum tc_convert_scalar(TcState *st, TcConv *conv, const JsonbValue *v);
extern Datum tc_convert_via_input(TcState *st, TcConv *conv,
								  const JsonbValue *v);
extern char *tc_describe_value(const JsonbValue *v);
TC_NORETURN extern void tc_mismatch_error(TcState *st,
										  const TcConv *conv,
										  const JsonbValue *v);

#pragma GCC visibility pop

#endif							/* TYPED_CACHE_PROJECT_CONVERT_H */
