/*-------------------------------------------------------------------------
 *
 * project_form.c
 *	  Forming the composite values and text arrays typed_cache.project()
 *	  returns, without intermediate copies.
 *
 * heap_form_tuple() wants a Datum per attribute: a text field would be
 * copied out of the JSON document into a text datum, then again into the
 * tuple, and an array three times (element datums, construct_md_array(),
 * the tuple).  The former here takes, beside ordinary Datums, text fields
 * as pointers to the JSON string bytes and writes them straight into the
 * tuple; text arrays are written in one piece.  It works from a layout of
 * the type compiled once per plan (length, alignment, by-value, packable
 * per attribute) and lays the data out exactly as heap_fill_tuple() does:
 * the same alignment, the same one-byte headers for short varlenas, the
 * same null bitmap and infomask bits.
 *
 * The fixed part of the header is copied from a tuple that heap_form_tuple()
 * itself formed for the type when the plan was compiled, so that whatever a
 * server build stamps there (datum length, type id, typmod, anything else)
 * is there in ours; length, t_hoff and the infomask bits that depend on
 * the data are then set as heap_form_tuple() sets them.  As a safeguard the
 * first tuple a plan forms is formed both ways and compared byte for byte:
 * should they ever differ, the plan uses heap_form_tuple() from then on.
 * Values the former does not handle (external or expanded varlenas,
 * cstrings) go through heap_form_tuple() too.
 *
 * Small results (nested objects, arrays) are placed in a TcArena: a buffer
 * on the stack of the object being converted, that lives until that object
 * is formed and has copied them.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/project_form.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/tupmacs.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "project_form.h"

/*
 * tc_alloc0
 *		size zeroed bytes, MAXALIGNed, from arena when it has room, else
 *		from CurrentMemoryContext.
 */
void *
tc_alloc0(TcArena *arena, Size size)
{
	if (arena != NULL && MAXALIGN(size) <= (Size) (arena->end - arena->next))
	{
		char	   *p = arena->next;

		arena->next += MAXALIGN(size);
		memset(p, 0, size);
		return p;
	}
	return palloc0(size);
}

/*
 * tc_layout_build
 *		Compile the physical layout of plan's tuple descriptor and the
 *		template header, in CurrentMemoryContext.
 */
void
tc_layout_build(TcPlan *plan)
{
	TupleDesc	tupdesc = plan->tupdesc;
	int			natts = tupdesc->natts;
	Datum	   *values = palloc0(sizeof(Datum) * Max(natts, 1));
	bool	   *nulls = palloc(sizeof(bool) * Max(natts, 1));
	HeapTuple	tuple;

	plan->layout = palloc0(sizeof(TcAttLayout) * Max(natts, 1));
	for (int i = 0; i < natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);
		TcAttLayout *l = &plan->layout[i];

		l->attlen = att->attlen;
		l->byval = att->attbyval;
		l->packable = (att->attlen == -1 &&
					   att->attstorage != TYPSTORAGE_PLAIN);
		switch (att->attalign)
		{
			case TYPALIGN_CHAR:
				l->alignby = 1;
				break;
			case TYPALIGN_INT:
				l->alignby = ALIGNOF_INT;
				break;
			case TYPALIGN_DOUBLE:
				l->alignby = ALIGNOF_DOUBLE;
				break;
			default:
				l->alignby = ALIGNOF_SHORT;
				break;
		}
		nulls[i] = true;
	}

	tuple = heap_form_tuple(tupdesc, values, nulls);
	plan->header = palloc(SizeofHeapTupleHeader);
	memcpy(plan->header, tuple->t_data, SizeofHeapTupleHeader);
	heap_freetuple(tuple);
	pfree(values);
	pfree(nulls);
	plan->former = TC_FORMER_UNCHECKED;
}

/*
 * tc_form_direct
 *		Form the tuple as heap_form_tuple() would, into arena or cxt.  A
 *		value with textlen[i] >= 0 is text given as the textlen[i] bytes at
 *		DatumGetPointer(values[i]).  Returns (Datum) 0 if a value needs
 *		heap_form_tuple() (external or expanded varlena, cstring).
 */
static Datum
tc_form_direct(TcPlan *plan, const Datum *values, const bool *nulls,
			   const int32 *textlen, MemoryContext cxt, TcArena *arena)
{
	int			natts = plan->natts;
	const TcAttLayout *layout = plan->layout;
	bool		hasnull = false;
	Size		data_len = 0;
	Size		hoff;
	Size		len;
	char	   *mem;
	char	   *data;
	uint8	   *bits;
	HeapTupleHeader td;
	uint16		infomask;

	/* the size, as heap_compute_data_size() computes it */
	for (int i = 0; i < natts; i++)
	{
		const TcAttLayout *l = &layout[i];

		if (nulls[i])
		{
			hasnull = true;
			continue;
		}
		if (textlen[i] >= 0)
		{
			if (l->packable &&
				textlen[i] + VARHDRSZ_SHORT <= VARATT_SHORT_MAX)
				data_len += VARHDRSZ_SHORT + textlen[i];
			else
				data_len = TYPEALIGN(l->alignby, data_len) +
					VARHDRSZ + textlen[i];
		}
		else if (l->attlen == -1)
		{
			Pointer		p = DatumGetPointer(values[i]);

			if (VARATT_IS_EXTERNAL(p))
				return (Datum) 0;
			if (l->packable && VARATT_CAN_MAKE_SHORT(p))
				data_len += VARATT_CONVERTED_SHORT_SIZE(p);
			else if (VARATT_IS_SHORT(p))
				data_len += VARSIZE_SHORT(p);
			else
				data_len = TYPEALIGN(l->alignby, data_len) + VARSIZE(p);
		}
		else if (l->attlen > 0)
			data_len = TYPEALIGN(l->alignby, data_len) + l->attlen;
		else
			return (Datum) 0;
	}

	hoff = SizeofHeapTupleHeader;
	if (hasnull)
		hoff += BITMAPLEN(natts);
	hoff = MAXALIGN(hoff);
	len = hoff + data_len;

	if (arena != NULL)
		mem = tc_alloc0(arena, len);
	else
		mem = MemoryContextAllocZero(cxt, len);

	td = (HeapTupleHeader) mem;
	memcpy(td, plan->header, SizeofHeapTupleHeader);
	HeapTupleHeaderSetDatumLength(td, len);
	td->t_hoff = hoff;
	infomask = td->t_infomask & ~(HEAP_HASNULL | HEAP_HASVARWIDTH |
								  HEAP_HASEXTERNAL);
	if (hasnull)
		infomask |= HEAP_HASNULL;
	bits = td->t_bits;
	data = mem + hoff;

	/* the data, as heap_fill_tuple() writes it */
	for (int i = 0; i < natts; i++)
	{
		const TcAttLayout *l = &layout[i];
		Size		n;

		if (nulls[i])
			continue;
		if (hasnull)
			bits[i >> 3] |= (uint8) (1 << (i & 7));
		if (textlen[i] >= 0)
		{
			n = textlen[i];
			infomask |= HEAP_HASVARWIDTH;
			if (l->packable && n + VARHDRSZ_SHORT <= VARATT_SHORT_MAX)
			{
				SET_VARSIZE_SHORT(data, VARHDRSZ_SHORT + n);
				memcpy(data + VARHDRSZ_SHORT, DatumGetPointer(values[i]), n);
				data += VARHDRSZ_SHORT + n;
			}
			else
			{
				data = mem + TYPEALIGN(l->alignby, data - mem);
				SET_VARSIZE(data, VARHDRSZ + n);
				memcpy(data + VARHDRSZ, DatumGetPointer(values[i]), n);
				data += VARHDRSZ + n;
			}
		}
		else if (l->byval)
		{
			data = mem + TYPEALIGN(l->alignby, data - mem);
			store_att_byval(data, values[i], l->attlen);
			data += l->attlen;
		}
		else if (l->attlen == -1)
		{
			Pointer		p = DatumGetPointer(values[i]);

			infomask |= HEAP_HASVARWIDTH;
			if (VARATT_IS_SHORT(p))
			{
				n = VARSIZE_SHORT(p);
				memcpy(data, p, n);
			}
			else if (l->packable && VARATT_CAN_MAKE_SHORT(p))
			{
				n = VARATT_CONVERTED_SHORT_SIZE(p);
				SET_VARSIZE_SHORT(data, n);
				memcpy(data + VARHDRSZ_SHORT, VARDATA(p), n - VARHDRSZ_SHORT);
			}
			else
			{
				data = mem + TYPEALIGN(l->alignby, data - mem);
				n = VARSIZE(p);
				memcpy(data, p, n);
			}
			data += n;
		}
		else
		{
			data = mem + TYPEALIGN(l->alignby, data - mem);
			memcpy(data, DatumGetPointer(values[i]), l->attlen);
			data += l->attlen;
		}
	}
	Assert(data == mem + len);
	td->t_infomask = infomask;
	return PointerGetDatum(td);
}

/*
 * tc_form_tuple
 *		The composite Datum of plan's type with these values: in arena if
 *		it has room, else in cxt.  values, nulls and textlen are as for
 *		tc_form_direct(); values of text fields may be replaced.
 */
Datum
tc_form_tuple(TcPlan *plan, Datum *values, bool *nulls, int32 *textlen,
			  MemoryContext cxt, TcArena *arena)
{
	Datum		direct = (Datum) 0;
	Datum		result;
	HeapTuple	tuple;
	MemoryContext oldcxt;

	if (plan->former == TC_FORMER_OK)
	{
		direct = tc_form_direct(plan, values, nulls, textlen, cxt, arena);
		if (direct != (Datum) 0)
			return direct;
	}
	else if (plan->former == TC_FORMER_UNCHECKED)
		direct = tc_form_direct(plan, values, nulls, textlen,
								CurrentMemoryContext, NULL);

	/* heap_form_tuple() wants text datums */
	for (int i = 0; i < plan->natts; i++)
	{
		if (!nulls[i] && textlen[i] >= 0)
		{
			const char *str = DatumGetPointer(values[i]);

			values[i] = PointerGetDatum(cstring_to_text_with_len(str,
																 textlen[i]));
			textlen[i] = -1;
		}
	}
	oldcxt = MemoryContextSwitchTo(cxt);
	tuple = heap_form_tuple(plan->tupdesc, values, nulls);
	result = HeapTupleGetDatum(tuple);
	MemoryContextSwitchTo(oldcxt);

	if (direct != (Datum) 0)
	{
		HeapTupleHeader a = (HeapTupleHeader) DatumGetPointer(direct);
		HeapTupleHeader b = (HeapTupleHeader) DatumGetPointer(result);

		if (HeapTupleHeaderGetDatumLength(a) == HeapTupleHeaderGetDatumLength(b) &&
			memcmp(a, b, HeapTupleHeaderGetDatumLength(a)) == 0)
			plan->former = TC_FORMER_OK;
		else
		{
			plan->former = TC_FORMER_OFF;
			elog(DEBUG1, "typed_cache: tuples of type %u are formed by heap_form_tuple",
				 plan->typid);
		}
		pfree(a);
	}
	return result;
}

/*
 * tc_form_text_array
 *		The text[] (or array of another type that TC_TEXT converts into,
 *		without domain or coercion) of the one-dimensional JSON array jc of
 *		strings and nulls, built in place in one allocation exactly as
 *		construct_md_array() builds it.  Returns (Datum) 0, having done
 *		nothing, when jc holds anything else or is empty: the general path
 *		deals with those (and their errors).
 */
Datum
tc_form_text_array(TcConv *conv, const JsonbContainer *jc, TcArena *arena)
{
	int			nelems = JsonContainerSize(jc);
	const char *base = (const char *) &jc->children[nelems];
	Size		nbytes = 0;
	Size		dataoffset = 0;
	bool		hasnulls = false;
	uint32		offset = 0;
	ArrayType  *result;
	char	   *p;
	uint8	   *bitmap;

	if (nelems == 0)
		return (Datum) 0;
	for (int i = 0; i < nelems; i++)
	{
		JEntry		e = jc->children[i];
		uint32		next = offset;

		JBE_ADVANCE_OFFSET(next, e);
		if (JBE_ISNULL(e))
			hasnulls = true;
		else if (JBE_ISSTRING(e))
		{
			nbytes += VARHDRSZ + (next - offset);
			nbytes = att_align_nominal(nbytes, conv->elmalign);
		}
		else
			return (Datum) 0;
		offset = next;
	}
	if (hasnulls)
	{
		dataoffset = ARR_OVERHEAD_WITHNULLS(1, nelems);
		nbytes += dataoffset;
	}
	else
		nbytes += ARR_OVERHEAD_NONULLS(1);
	if (!AllocSizeIsValid(nbytes))
		return (Datum) 0;

	result = (ArrayType *) tc_alloc0(arena, nbytes);
	SET_VARSIZE(result, nbytes);
	result->ndim = 1;
	result->dataoffset = dataoffset;
	result->elemtype = conv->elem->typid;
	ARR_DIMS(result)[0] = nelems;
	ARR_LBOUND(result)[0] = 1;
	/* ARR_DATA_PTR() and ARR_NULLBITMAP() for one dimension */
	p = (char *) result + (hasnulls ? dataoffset : ARR_OVERHEAD_NONULLS(1));
	bitmap = hasnulls ?
		(uint8 *) ((char *) result + sizeof(ArrayType) + 2 * sizeof(int)) :
		NULL;

	offset = 0;
	for (int i = 0; i < nelems; i++)
	{
		JEntry		e = jc->children[i];
		uint32		next = offset;
		Size		n;

		JBE_ADVANCE_OFFSET(next, e);
		if (!JBE_ISNULL(e))
		{
			if (bitmap)
				bitmap[i >> 3] |= (uint8) (1 << (i & 7));
			n = next - offset;
			SET_VARSIZE(p, VARHDRSZ + n);
			memcpy(p + VARHDRSZ, base + offset, n);
			p += att_align_nominal(VARHDRSZ + n, conv->elmalign);
		}
		offset = next;
	}
	return PointerGetDatum(result);
}
