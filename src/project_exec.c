/*-------------------------------------------------------------------------
 *
 * project_exec.c
 *	  The executor of a conversion plan: JSON objects into composite
 *	  values and JSON arrays into SQL arrays, for typed_cache.project().
 *
 * An object is matched against its plan in one pass over its keys, which
 * jsonb stores sorted (shorter first, then bytewise): the plan keeps its
 * field keys sorted the same way and merges the two lists.  Values are read
 * straight from the container without an iterator.  The common conversions
 * (strings into text, integers, booleans, numerics, exact floats) are done
 * inline; text fields are not copied into text datums but handed to the
 * tuple former (project_form.c), which writes them from the document into
 * the tuple.  Working arrays live on the stack and small intermediate
 * results (nested objects, arrays) in a per-object arena on the stack, so
 * that a typical row allocates nothing but its result.  Scalars are
 * converted by project_convert.c.
 *
 * Errors name the JSON path of the value at fault (project_path.c).
 * Conversion errors raised by PostgreSQL's own functions (out of range,
 * domain checks, input syntax) are caught once per call and re-thrown with
 * that path added to their detail.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/project_exec.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "port/pg_bswap.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"

#include "project_convert.h"
#include "project_exec.h"
#include "project_form.h"
#include "project_path.h"

static Datum tc_convert_object(TcState *st, TcPlan *plan,
							   const JsonbContainer *jc);
static Datum tc_convert_array(TcState *st, TcConv *conv,
							  const JsonbContainer *jc);

/*
 * tc_key_cmp
 *		Order keys as jsonb stores an object's keys: shorter first, then
 *		bytewise.  With fold, ASCII letters compare case-insensitively.
 */
int
tc_key_cmp(const char *a, int alen, const char *b, int blen, bool fold)
{
	if (alen != blen)
		return alen < blen ? -1 : 1;
	if (!fold)
		return memcmp(a, b, alen);
	for (int i = 0; i < alen; i++)
	{
		unsigned char ca = pg_ascii_tolower((unsigned char) a[i]);
		unsigned char cb = pg_ascii_tolower((unsigned char) b[i]);

		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
	return 0;
}

/* ---------- conversion ---------- */

/*
 * tc_note_value
 *		Remember what is being converted, for tc_project_value()'s message.
 *		The JsonbValue is copied: v may live in a frame that an error
 *		unwinds.
 */
static inline void
tc_note_value(TcState *st, const TcConv *conv, const JsonbValue *v)
{
	st->cur_conv = conv;
	st->cur_present = (v != NULL);
	if (v != NULL)
		st->cur_value = *v;
}

/*
 * tc_convert
 *		Convert one JSON value (NULL: missing) into conv's type.  JSON null
 *		and missing values become SQL NULL, still subject to domain checks.
 */
Datum
tc_convert(TcState *st, TcConv *conv, const JsonbValue *v, bool *isnull)
{
	Datum		result = (Datum) 0;
	bool		checked = false;

	tc_note_value(st, conv, v);

	if (v == NULL || v->type == jbvNull)
		*isnull = true;
	else
	{
		*isnull = false;
		if (v->type == jbvBinary &&
			((conv->kind == TC_ARRAY &&
			  JsonContainerIsArray(v->val.binary.data)) ||
			 (conv->kind == TC_COMPOSITE &&
			  JsonContainerIsObject(v->val.binary.data))))
		{
			if (conv->kind == TC_ARRAY)
				result = tc_convert_array(st, conv, v->val.binary.data);
			else
				result = tc_convert_object(st, conv->sub, v->val.binary.data);
		}
		else if (conv->coerce && conv->kind != TC_JSON &&
				 conv->kind != TC_JSONB)
		{
			/* the input function of a domain checks its constraints */
			result = tc_convert_via_input(st, conv, v);
			checked = true;
		}
		else if (conv->kind == TC_ARRAY || conv->kind == TC_COMPOSITE)
			tc_mismatch_error(st, conv, v);
		else
			result = tc_convert_scalar(st, conv, v);
	}

	if (conv->is_domain && !checked)
	{
		tc_note_value(st, conv, v);
		domain_check(result, *isnull, conv->typid, &conv->domain_extra,
					 conv->mcxt);
	}
	return result;
}

/*
 * tc_object_value
 *		Read the value of entry index (a key or a value) of an object, or an
 *		element of an array, whose data starts at offset.
 */
void
tc_fill_value(const JsonbContainer *jc, int index, const char *base,
			  uint32 offset, uint32 len, JsonbValue *result)
{
	JEntry		entry = jc->children[index];

	if (JBE_ISNULL(entry))
		result->type = jbvNull;
	else if (JBE_ISSTRING(entry))
	{
		result->type = jbvString;
		result->val.string.val = (char *) base + offset;
		result->val.string.len = len;
	}
	else if (JBE_ISNUMERIC(entry))
	{
		result->type = jbvNumeric;
		result->val.numeric = (Numeric) (base + INTALIGN(offset));
	}
	else if (JBE_ISBOOL_TRUE(entry))
	{
		result->type = jbvBool;
		result->val.boolean = true;
	}
	else if (JBE_ISBOOL_FALSE(entry))
	{
		result->type = jbvBool;
		result->val.boolean = false;
	}
	else
	{
		Assert(JBE_ISCONTAINER(entry));
		result->type = jbvBinary;
		result->val.binary.data = (JsonbContainer *) (base + INTALIGN(offset));
		result->val.binary.len = len - (INTALIGN(offset) - offset);
	}
}

/*
 * tc_missing
 *		The value of field f when its key is absent: its default, an error
 *		if it is required, else NULL (domain constraints still apply).
 */
static Datum
tc_missing(TcState *st, TcPlan *plan, TcField *f, bool *isnull)
{
	JsonbValue	v;

	if (f->defval)
	{
		tc_root_value(f->defval, &v);
		return tc_convert(st, &f->conv, &v, isnull);
	}
	if (f->required)
	{
		char	   *path = tc_path_string(st);

		st->own_error = true;
		ereport(ERROR,
				(errcode(ERRCODE_SQL_JSON_MEMBER_NOT_FOUND),
				 errmsg("required field \"%s\" of type %s is missing",
						f->name, format_type_be(plan->typid)),
				 errdetail("No JSON value at %s.", path),
				 errhint("Add the key to the document, or give the field a \"default\" in its registration.")));
	}
	return tc_convert(st, &f->conv, NULL, isnull);
}

/*
 * tc_unknown_key_error
 *		Raise the error of unknown_keys = error.
 */
TC_NORETURN static void
tc_unknown_key_error(TcState *st, TcPlan *plan, const char *key, int keylen)
{
	char	   *path = tc_path_string(st);

	st->own_error = true;
	ereport(ERROR,
			(errcode(ERRCODE_TOO_MANY_JSON_OBJECT_MEMBERS),
			 errmsg("unknown key \"%s\" for type %s",
					pnstrdup(key, keylen), format_type_be(plan->typid)),
			 errdetail("The JSON object at %s has a key that matches no field, and the type is registered with \"unknown_keys\": \"error\".",
					   path),
			 errhint("Remove the key from the document, or register the type with \"unknown_keys\": \"ignore\".")));
}

/*
 * tc_match_folded
 *		Find the key entry that key matches case-insensitively, or -1.
 */
static int
tc_match_folded(TcPlan *plan, const char *key, int keylen)
{
	int			lo = 0;
	int			hi = plan->nkeys - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;
		TcKey	   *k = &plan->keys[mid];
		int			cmp;

		/* path heads match exactly, fields case-insensitively */
		cmp = tc_key_cmp(key, keylen, k->key, k->keylen, true);
		if (cmp == 0)
		{
			int			first = mid;
			int			last = mid;
			int			exact = -1;

			/* neighbours may be equal when folded: prefer a field */
			while (first > 0 &&
				   tc_key_cmp(key, keylen, plan->keys[first - 1].key,
							  plan->keys[first - 1].keylen, true) == 0)
				first--;
			while (last < plan->nkeys - 1 &&
				   tc_key_cmp(key, keylen, plan->keys[last + 1].key,
							  plan->keys[last + 1].keylen, true) == 0)
				last++;
			for (int i = first; i <= last; i++)
			{
				k = &plan->keys[i];
				if (k->field >= 0)
					return i;
				if (k->keylen == keylen && memcmp(key, k->key, keylen) == 0)
					exact = i;
			}
			return exact;
		}
		if (cmp < 0)
			hi = mid - 1;
		else
			lo = mid + 1;
	}
	return -1;
}

/*
 * tc_resolve_path
 *		Follow field f's path from the object jc.  Returns false when a key
 *		is missing; a JSON null on the way yields a null value.
 */
static bool
tc_resolve_path(TcState *st, TcField *f, const JsonbContainer *jc,
				JsonbValue *out)
{
	const JsonbContainer *cur = jc;

	for (int s = 0; s < f->npath; s++)
	{
		JsonbValue *found;

		found = getKeyJsonValueFromContainer((JsonbContainer *) cur,
											 f->path[s], f->pathlen[s], out);
		tc_path_push_key(st, f->path[s], f->pathlen[s]);
		if (found == NULL)
			return false;
		if (s == f->npath - 1 || out->type == jbvNull)
			return true;
		if (out->type != jbvBinary || !JsonContainerIsObject(out->val.binary.data))
		{
			char	   *path = tc_path_string(st);

			st->own_error = true;
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("JSON %s cannot be traversed by the path \"%s\" of field \"%s\"",
							tc_describe_value(out), f->pathtext, f->name),
					 errdetail("At %s: the path expects a JSON object, found %s.",
							   path, tc_describe_value(out))));
		}
		cur = out->val.binary.data;
	}
	return true;
}

#define TC_STACK_KEYS 64		/* JSON keys per object on the stack */
#define TC_STACK_ATTS 32		/* attributes per object on the stack */
#define TC_ARENA_SIZE 1024		/* bytes of small results per object */

/*
 * tc_keys_cmp
 *		tc_key_cmp() without folding, inline: the merge walk calls it once
 *		or twice per JSON key.  Keys of equal length are compared a word at
 *		a time (in big-endian order, which is bytewise order), without the
 *		branch per byte that keys differing at varying places mispredict.
 */
static inline int
tc_keys_cmp(const char *a, int alen, const char *b, int blen)
{
	if (alen != blen)
		return alen < blen ? -1 : 1;
	while (alen >= (int) sizeof(uint64))
	{
		uint64		x;
		uint64		y;

		memcpy(&x, a, sizeof(x));
		memcpy(&y, b, sizeof(y));
		if (x != y)
			return pg_ntoh64(x) < pg_ntoh64(y) ? -1 : 1;
		a += sizeof(uint64);
		b += sizeof(uint64);
		alen -= sizeof(uint64);
	}
	if (alen >= (int) sizeof(uint32))
	{
		uint32		x;
		uint32		y;

		memcpy(&x, a, sizeof(x));
		memcpy(&y, b, sizeof(y));
		if (x != y)
			return pg_ntoh32(x) < pg_ntoh32(y) ? -1 : 1;
		a += sizeof(uint32);
		b += sizeof(uint32);
		alen -= sizeof(uint32);
	}
	for (int i = 0; i < alen; i++)
	{
		if (a[i] != b[i])
			return (unsigned char) a[i] < (unsigned char) b[i] ? -1 : 1;
	}
	return 0;
}

/*
 * tc_convert_object
 *		Project the object jc with plan into a composite Datum: in the
 *		arena of the enclosing object if it has room, else in
 *		CurrentMemoryContext (st->tuplecxt for the outermost object).
 *		Working arrays are on the stack up to TC_STACK_ATTS attributes and
 *		TC_STACK_KEYS keys.
 */
static Datum
tc_convert_object(TcState *st, TcPlan *plan, const JsonbContainer *jc)
{
	int			npairs = JsonContainerSize(jc);
	const char *base = (const char *) &jc->children[npairs * 2];
	int			natts = plan->natts;
	int			nfields = plan->nfields;
	Datum		values_buf[TC_STACK_ATTS];
	bool		nulls_buf[TC_STACK_ATTS];
	int32		textlen_buf[TC_STACK_ATTS];
	int			fieldkey_buf[TC_STACK_ATTS];
	JsonbValue	fieldval_buf[TC_STACK_ATTS];
	int			keyfield_buf[TC_STACK_KEYS];
	bool		exact_buf[TC_STACK_KEYS];
	union
	{
		char		data[TC_ARENA_SIZE];
		double		force_align_d;
		int64		force_align_i64;
	}			arena_buf;
	TcArena		arena;
	TcArena    *outer_arena = st->arena;
	Datum	   *values = values_buf;
	bool	   *nulls = nulls_buf;
	int32	   *textlen = textlen_buf;
	int		   *fieldkey = fieldkey_buf;	/* per field: JSON key, or -1 */
	JsonbValue *fieldval = fieldval_buf;
	int		   *keyfield = keyfield_buf;	/* per JSON key: field, or -1 */
	bool	   *exact = exact_buf;
	uint32		offset = 0;
	int			j = 0;
	int			maxkey = -1;
	int			depth = st->depth;
	Datum		result;
	MemoryContext formcxt = st->tuplecxt;

	/* only the outermost object is formed in the caller's context */
	st->tuplecxt = NULL;
	check_stack_depth();
	CHECK_FOR_INTERRUPTS();

	if (natts > TC_STACK_ATTS)
	{
		values = palloc(sizeof(Datum) * natts);
		nulls = palloc(sizeof(bool) * natts);
		textlen = palloc(sizeof(int32) * natts);
		fieldkey = palloc(sizeof(int) * natts);
		fieldval = palloc(sizeof(JsonbValue) * natts);
	}
	if (npairs > TC_STACK_KEYS)
	{
		keyfield = palloc(sizeof(int) * npairs);
		exact = palloc(sizeof(bool) * npairs);
	}
	for (int i = 0; i < nfields; i++)
		fieldkey[i] = -1;
	memset(nulls, true, sizeof(bool) * natts);
	memset(textlen, -1, sizeof(int32) * natts);

	/* One pass over the keys, merged with the plan's sorted keys. */
	for (int i = 0; i < npairs; i++)
	{
		uint32		next = offset;
		const char *key = base + offset;
		int			keylen;
		int			match = -1;

		JBE_ADVANCE_OFFSET(next, jc->children[i]);
		keylen = next - offset;
		offset = next;
		keyfield[i] = -1;

		if (plan->naming != TC_NAMING_CASE_INSENSITIVE)
		{
			while (j < plan->nkeys)
			{
				int			cmp = tc_keys_cmp(key, keylen, plan->keys[j].key,
											  plan->keys[j].keylen);

				if (cmp < 0)
					break;
				if (cmp == 0)
				{
					match = j++;
					break;
				}
				j++;
			}
		}
		else
			match = tc_match_folded(plan, key, keylen);

		if (match < 0)
		{
			if (plan->unknown_error)
				tc_unknown_key_error(st, plan, key, keylen);
			continue;
		}
		if (plan->keys[match].field >= 0)
		{
			int			f = plan->keys[match].field;
			bool		is_exact = (plan->naming != TC_NAMING_CASE_INSENSITIVE ||
									memcmp(key, plan->fields[f].key, keylen) == 0);

			if (fieldkey[f] >= 0)
			{
				/* case-insensitive: an exact spelling wins, else ambiguous */
				if (exact[fieldkey[f]] == is_exact)
				{
					char	   *path = tc_path_string(st);

					st->own_error = true;
					ereport(ERROR,
							(errcode(ERRCODE_DUPLICATE_JSON_OBJECT_KEY_VALUE),
							 errmsg("ambiguous keys for field \"%s\" of type %s",
									plan->fields[f].name,
									format_type_be(plan->typid)),
							 errdetail("The JSON object at %s has several keys that match the field case-insensitively.",
									   path)));
				}
				if (!is_exact)
					continue;
				keyfield[fieldkey[f]] = -1;
			}
			fieldkey[f] = i;
			keyfield[i] = f;
			exact[i] = is_exact;
			if (i > maxkey)
				maxkey = i;
		}
	}

	/* Values follow the keys: walk them up to the last one we need. */
	for (int i = 0; i <= maxkey; i++)
	{
		uint32		next = offset;
		int			idx = npairs + i;

		JBE_ADVANCE_OFFSET(next, jc->children[idx]);
		if (keyfield[i] >= 0)
			tc_fill_value(jc, idx, base, offset, next - offset,
						  &fieldval[keyfield[i]]);
		offset = next;
	}

	arena.next = arena_buf.data;
	arena.end = arena_buf.data + TC_ARENA_SIZE;
	st->arena = &arena;
	for (int i = 0; i < nfields; i++)
	{
		TcField    *f = &plan->fields[i];
		int			attno = f->attno;

		if (f->npath > 0)
		{
			JsonbValue	v;

			if (tc_resolve_path(st, f, jc, &v))
				values[attno] = tc_convert(st, &f->conv, &v, &nulls[attno]);
			else
			{
				/* report the whole path, not only its existing part */
				st->depth = depth;
				for (int s = 0; s < f->npath; s++)
					tc_path_push_key(st, f->path[s], f->pathlen[s]);
				values[attno] = tc_missing(st, plan, f, &nulls[attno]);
			}
		}
		else if (fieldkey[i] >= 0 && f->direct_text &&
				 fieldval[i].type == jbvString)
		{
			/* the former copies the string from the document */
			values[attno] = PointerGetDatum(fieldval[i].val.string.val);
			textlen[attno] = fieldval[i].val.string.len;
			nulls[attno] = false;
			continue;
		}
		else if (fieldkey[i] >= 0 && f->conv.fast &&
				 tc_convert_fast(&f->conv, &fieldval[i], &values[attno]))
		{
			nulls[attno] = false;
			continue;
		}
		else
		{
			tc_path_push_key(st, f->key, f->keylen);
			if (fieldkey[i] >= 0)
				values[attno] = tc_convert(st, &f->conv, &fieldval[i],
										   &nulls[attno]);
			else
				values[attno] = tc_missing(st, plan, f, &nulls[attno]);
		}
		st->depth = depth;
	}
	st->arena = outer_arena;

	if (formcxt)
		result = tc_form_tuple(plan, values, nulls, textlen, formcxt, NULL);
	else
		result = tc_form_tuple(plan, values, nulls, textlen,
							   CurrentMemoryContext, outer_arena);
	return result;
}

/*
 * tc_not_rectangular
 *		Raise the error for a multi-dimensional array whose sub-arrays do
 *		not all have the same shape.
 */
TC_NORETURN static void
tc_not_rectangular(TcState *st, TcConv *conv)
{
	char	   *path = tc_path_string(st);

	st->own_error = true;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("JSON array is not a rectangular array of type %s",
					format_type_be(conv->typid)),
			 errdetail("At %s: multidimensional arrays must have sub-arrays of matching dimensions.",
					   path)));
}

/*
 * tc_fill_array
 *		Convert the elements of jc, at dimension level of a rectangular
 *		array of shape dims, into elems/enulls from *n on.
 */
static void
tc_fill_array(TcState *st, TcConv *conv, const JsonbContainer *jc, int level,
			  int ndims, const int *dims, Datum *elems, bool *enulls, int *n)
{
	int			nelems = JsonContainerSize(jc);
	const char *base = (const char *) &jc->children[nelems];
	uint32		offset = 0;
	int			depth = st->depth;

	if (nelems != dims[level])
		tc_not_rectangular(st, conv);

	for (int i = 0; i < nelems; i++)
	{
		uint32		next = offset;
		JsonbValue	v;

		JBE_ADVANCE_OFFSET(next, jc->children[i]);
		tc_fill_value(jc, i, base, offset, next - offset, &v);
		offset = next;

		tc_path_push_index(st, i);
		if (level < ndims - 1)
		{
			if (v.type != jbvBinary || !JsonContainerIsArray(v.val.binary.data))
				tc_not_rectangular(st, conv);
			tc_fill_array(st, conv, v.val.binary.data, level + 1, ndims, dims,
						  elems, enulls, n);
		}
		else if (conv->elem->fast &&
				 tc_convert_fast(conv->elem, &v, &elems[*n]))
		{
			enulls[*n] = false;
			(*n)++;
		}
		else
		{
			elems[*n] = tc_convert(st, conv->elem, &v, &enulls[*n]);
			(*n)++;
		}
		st->depth = depth;
	}
}

/*
 * tc_convert_array
 *		Convert the JSON array jc into conv's array type.  Nested JSON arrays
 *		make further dimensions unless the element type is json or jsonb.
 */
static Datum
tc_convert_array(TcState *st, TcConv *conv, const JsonbContainer *jc)
{
	int			ndims = 1;
	int			dims[MAXDIM];
	int			lbs[MAXDIM];
	const JsonbContainer *cur = jc;
	bool		elem_is_json = (conv->elem->kind == TC_JSON ||
								conv->elem->kind == TC_JSONB);
	int			nitems;
	Datum	   *elems;
	bool	   *enulls;
	int			n = 0;
	Oid			elemtype = conv->elem->typid;

	if (conv->elem->kind == TC_TEXT && !conv->elem->is_domain &&
		!conv->elem->coerce)
	{
		Datum		result = tc_form_text_array(conv, jc, st->arena);

		if (result != (Datum) 0)
			return result;
	}

	dims[0] = JsonContainerSize(cur);
	lbs[0] = 1;
	while (dims[ndims - 1] > 0 && !elem_is_json)
	{
		JsonbValue	v;
		JEntry		e0 = cur->children[0];

		if (!JBE_ISCONTAINER(e0))
			break;
		tc_fill_value(cur, 0, (const char *) &cur->children[dims[ndims - 1]],
					  0, JBE_OFFLENFLD(e0), &v);
		if (!JsonContainerIsArray(v.val.binary.data))
			break;
		if (ndims == MAXDIM)
		{
			char	   *path = tc_path_string(st);

			st->own_error = true;
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("number of array dimensions exceeds the maximum allowed (%d)",
							MAXDIM),
					 errdetail("At %s.", path)));
		}
		cur = v.val.binary.data;
		dims[ndims] = JsonContainerSize(cur);
		lbs[ndims] = 1;
		ndims++;
	}

	nitems = ArrayGetNItems(ndims, dims);
	elems = palloc(sizeof(Datum) * Max(nitems, 1));
	enulls = palloc(sizeof(bool) * Max(nitems, 1));
	/* this also checks the shape of an empty array, such as [[], [1]] */
	tc_fill_array(st, conv, jc, 0, ndims, dims, elems, enulls, &n);
	Assert(n == nitems);
	if (nitems == 0)
		return PointerGetDatum(construct_empty_array(elemtype));

	return PointerGetDatum(construct_md_array(elems, enulls, ndims, dims, lbs,
											  elemtype, conv->elmlen,
											  conv->elmbyval, conv->elmalign));
}

/*
 * tc_project_value
 *		Convert v with conv; errors raised below by PostgreSQL's own
 *		functions get the JSON path and the value in their detail.  The
 *		result is copied into resultcxt.
 */
Datum
tc_project_value(TcState *st, TcConv *conv, const JsonbValue *v, bool *isnull,
				 MemoryContext resultcxt)
{
	Datum		result;
	MemoryContext oldcxt = CurrentMemoryContext;
	volatile bool formed_there;

	/*
	 * A composite result (not a domain over one, which is checked after it
	 * is formed) can be formed right where it is wanted, saving a copy.
	 */
	formed_there = (conv->kind == TC_COMPOSITE && !conv->is_domain &&
					v->type == jbvBinary && !conv->coerce);
	st->tuplecxt = formed_there ? resultcxt : NULL;

	PG_TRY();
	{
		result = tc_convert(st, conv, v, isnull);
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		char	   *path;
		StringInfoData detail;
		int			category = ERRCODE_TO_CATEGORY(geterrcode());

		/*
		 * Only a value that does not convert (class 22, such as 22P02) or
		 * breaks a domain's constraint (class 23) is described: a cancel, a
		 * stack overflow or running out of memory says nothing about the
		 * value it interrupted.
		 */
		if (st->own_error ||
			(category != ERRCODE_DATA_EXCEPTION &&
			 category != ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION))
			PG_RE_THROW();

		MemoryContextSwitchTo(oldcxt);
		path = tc_path_string(st);
		edata = CopyErrorData();
		FlushErrorState();

		initStringInfo(&detail);
		appendStringInfo(&detail, "At %s: converting ", path);
		if (st->cur_present)
			appendStringInfoString(&detail, tc_describe_value(&st->cur_value));
		else
			appendStringInfoString(&detail, "a missing value");
		if (st->cur_conv)
			appendStringInfo(&detail, " to type %s",
							 format_type_with_typemod(st->cur_conv->typid,
													  st->cur_conv->typmod));
		appendStringInfoChar(&detail, '.');
		if (edata->detail)
			appendStringInfo(&detail, " %s", edata->detail);
		edata->detail = detail.data;
		ReThrowError(edata);
	}
	PG_END_TRY();

	if (*isnull)
		return (Datum) 0;
	if (!formed_there && CurrentMemoryContext != resultcxt)
	{
		MemoryContextSwitchTo(resultcxt);
		result = datumCopy(result, false, -1);
		MemoryContextSwitchTo(oldcxt);
	}
	return result;
}
