/*-------------------------------------------------------------------------
 *
 * project.h
 *	  Typed projection of jsonb documents into composite types.
 *
 * A projection is driven by a conversion plan (TcConv) compiled once per
 * type per backend: for a composite type, a TcPlan with one TcField per
 * attribute, the JSON key or path each is read from, and how the JSON value
 * is converted into the attribute's type.  Plans live in a backend-local
 * cache (project.c) that syscache/relcache callbacks invalidate; they are
 * built from the type's catalog entries and its registered options
 * (registry.c).  Scalar conversions are in project_convert.c.
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

#include "access/tupdesc.h"
#include "fmgr.h"
#include "nodes/pg_list.h"
#include "utils/jsonb.h"

#include "compat.h"

/*
 * Project a jsonb document into the composite type typid exactly as
 * typed_cache.project() does (registered options applied, same errors).
 * The result is a composite Datum allocated in CurrentMemoryContext, as are
 * the temporaries: call it in a short-lived context.  Raises 42804 if typid
 * is not a composite type (or a domain over one).
 */
extern Datum tc_project_jsonb(Jsonb *doc, Oid typid);

/*
 * Raise an error unless typid is a composite type (or a domain over one).
 */
extern void tc_check_composite(Oid typid);

/* ---------- internals shared by project*.c and registry.c ---------- */

/*
 * A hint to load the cache line at p: project() asks for the first
 * TC_DOC_PREFETCH bytes of a document at once (documents are seldom in
 * cache).  A no-op for compilers without the builtin.
 */
#if defined(__GNUC__) || defined(__clang__)
#define tc_doc_prefetch(p) __builtin_prefetch((p), 0, 3)
#else
#define tc_doc_prefetch(p) ((void) (p))
#endif
#define TC_CACHE_LINE		64
#define TC_DOC_PREFETCH		1024

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

/* Physical layout of one attribute, for the tuple former. */
typedef struct TcAttLayout
{
	int16		attlen;
	uint8		alignby;		/* 1, 2, 4 or 8 */
	bool		byval;
	bool		packable;		/* varlena that may get a 1-byte header */
} TcAttLayout;

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
	TcAttLayout *layout;		/* per attribute, natts of them */
	char	   *header;			/* SizeofHeapTupleHeader template bytes */
	TcFormer	former;
} TcPlan;

/*
 * Room for small results (nested objects, arrays) that live until the
 * object being converted is formed: a buffer on that object's stack frame.
 */
typedef struct TcArena
{
	char	   *next;
	char	   *end;
} TcArena;

/* Options of a registration, parsed (registry.c). */
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

/* Per-call conversion state: where we are, for error messages. */
#define TC_MAX_DEPTH 64

typedef struct TcPathSeg
{
	const char *key;			/* NULL for an array index */
	int			keylen;
	int			index;
} TcPathSeg;

/*
 * The value being converted is copied into the state, not pointed to: it is
 * often a local of a frame that an error unwinds before tc_project_value()
 * describes it.  What the copy points to (the document, a default in the
 * plan) outlives the call.  seg comes last so that callers can clear
 * everything else with memset(st, 0, offsetof(TcState, seg)).
 */
typedef struct TcState
{
	int			depth;
	/* what was being converted when an error was raised */
	bool		cur_present;	/* false: a missing value */
	JsonbValue	cur_value;
	const TcConv *cur_conv;		/* lives in the plan */
	bool		own_error;		/* the error carries its path already */
	MemoryContext tuplecxt;		/* where to form the outermost tuple */
	TcArena    *arena;			/* of the object being converted, or NULL */
	TcPathSeg	seg[TC_MAX_DEPTH];
} TcState;

/* project.c */
extern void tc_project_init(void);
extern TcConv *tc_get_conv(Oid typid);

/* project_plan.c */
extern uint64 tc_generation;
extern void tc_plan_init(void);
extern TcConv *tc_plan_get_conv(Oid typid);
extern TcPlan *tc_build_plan(Oid typid, const TcTypeOptions *opts);
extern Datum tc_convert(TcState *st, TcConv *conv, const JsonbValue *v,
						bool *isnull);
extern Datum tc_project_value(TcState *st, TcConv *conv, const JsonbValue *v,
							  bool *isnull, MemoryContext resultcxt);
extern char *tc_path_string(const TcState *st);
extern char *tc_describe_value(const JsonbValue *v);
extern void tc_path_push_key(TcState *st, const char *key, int keylen);
extern void tc_path_push_index(TcState *st, int index);
extern bool tc_split_path(const char *path, char ***segs, int **lens,
						  int *nsegs);

/* project_exec.c */
extern int	tc_key_cmp(const char *a, int alen, const char *b, int blen,
					   bool fold);
extern void tc_root_value(Jsonb *doc, JsonbValue *v);

/* project_convert.c */
extern bool tc_convert_fast(const TcConv *conv, const JsonbValue *v,
							Datum *result);
extern Datum tc_convert_scalar(TcState *st, TcConv *conv, const JsonbValue *v);
extern Datum tc_convert_via_input(TcState *st, TcConv *conv,
								  const JsonbValue *v);
extern void tc_fill_value(const JsonbContainer *jc, int index,
						  const char *base, uint32 offset, uint32 len,
						  JsonbValue *result);
TC_NORETURN extern void tc_mismatch_error(TcState *st,
										  const TcConv *conv,
										  const JsonbValue *v);

/* project_form.c */
extern void *tc_alloc0(TcArena *arena, Size size);
extern void tc_layout_build(TcPlan *plan);
extern Datum tc_form_tuple(TcPlan *plan, Datum *values, bool *nulls,
						   int32 *textlen, MemoryContext cxt, TcArena *arena);
extern Datum tc_form_text_array(TcConv *conv, const JsonbContainer *jc,
								TcArena *arena);

/* registry.c */
extern bool tc_lookup_registration(Oid typid, TcTypeOptions *opts);
extern void tc_parse_options(Oid typid, Jsonb *options, TcTypeOptions *opts);
extern Oid	tc_registrations_relid(void);

#endif							/* TYPED_CACHE_PROJECT_H */
