/*-------------------------------------------------------------------------
 *
 * coherence_trigger.c
 *	  typed_cache.invalidate_trigger(): a trigger function that invalidates
 *	  tags built from the changed rows.
 *
 * Each trigger argument is a tag template: text in which {column} stands
 * for the column's value as text (a NULL is the empty string) and {{ and }}
 * stand for literal braces.  For each changed row the templates are
 * rendered from OLD and from NEW (both for an UPDATE; equal tags cost
 * nothing twice) and invalidated as typed_cache.invalidate() does, taking
 * effect when the transaction commits.  At statement level the rows come
 * from the transition tables (REFERENCING OLD TABLE / NEW TABLE); without
 * them, and for TRUNCATE, a template with a column cannot be rendered, so
 * the trigger invalidates every entry of the database instead (escalation:
 * less hit rate, never a stale entry), while templates without a column
 * are invalidated as they are.  Templates are parsed and checked at the
 * first firing of each statement, and errors name the trigger and the
 * template.
 *
 * A tag must not depend on who renders it: the session that changes a row
 * and the one that put the entry may run under different settings.  So
 * columns are rendered as under fixed settings, whatever the writer's
 * (tc_fixed_settings: TimeZone 'UTC', DateStyle 'ISO', IntervalStyle
 * 'postgres', bytea_output 'hex', extra_float_digits 1, lc_monetary 'C').
 * The date and time types, interval, bytea and the floats (and domains over
 * them) are encoded here with the routines their output functions use and
 * those settings' parameters, which costs no more than the output function.
 * Types whose output depends on no setting (text, integers, numeric,
 * boolean, uuid, json, jsonb, enums, and arrays, ranges and composites of
 * such types) go through their output function.  Any other type (an array
 * of timestamptz, money, a type of another extension) goes through its
 * output function with those of the settings that differ from the
 * session's set for the firing (a GUC nest level), which only triggers
 * whose templates have such a column pay.  Rendered tags obey put()'s
 * limits (tc_check_tag).
 *
 * The trigger only invalidates, so it cannot stand INSTEAD OF a view's
 * change: a ProcessUtility hook refuses such a CREATE TRIGGER, and the
 * function refuses to fire that way (for triggers made some other way).
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/coherence_trigger.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "common/shortest_dec.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parse_func.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/typcache.h"

#include "cache_store.h"
#include "cache_xact.h"
#include "coherence_slots.h"
#include "coherence_trigger.h"
#include "compat.h"

/* How a piece of a template is rendered. */
typedef enum TcPartKind
{
	TC_PART_LITERAL,			/* text of the template */
	TC_PART_OUTPUT,				/* output function, depends on no setting */
	TC_PART_FIXED_GUCS,			/* output function under tc_fixed_settings */
	TC_PART_TIMESTAMPTZ,		/* the rest: encoded here, fixed settings */
	TC_PART_TIMESTAMP,
	TC_PART_DATE,
	TC_PART_TIME,
	TC_PART_TIMETZ,
	TC_PART_INTERVAL,
	TC_PART_BYTEA,
	TC_PART_FLOAT4,
	TC_PART_FLOAT8
} TcPartKind;

/* One piece of a template: literal text, or a column. */
typedef struct TcTplPart
{
	TcPartKind	kind;
	char	   *literal;		/* TC_PART_LITERAL only */
	int			len;
	int			attnum;			/* 1-based */
	FmgrInfo	out;			/* the column type's output function */
} TcTplPart;

typedef struct TcTemplate
{
	char	   *text;			/* as written, for error context */
	int			nparts;
	TcTplPart  *parts;
	bool		has_columns;
} TcTemplate;

/* Parsed templates, kept in fn_extra for the statement. */
typedef struct TcTriggerPlan
{
	Oid			tgoid;
	char	   *tgname;
	int			ntemplates;
	TcTemplate *templates;
	bool		fixed_gucs;		/* some part is TC_PART_FIXED_GUCS */
} TcTriggerPlan;

/* What the error context callback names: the template being rendered. */
typedef struct TcRenderState
{
	const TcTriggerPlan *plan;
	const TcTemplate *current;
} TcRenderState;

/*
 * The settings a column whose output depends on them is rendered under
 * (TC_PART_FIXED_GUCS), and whose parameters the encoders of the other
 * kinds use: PostgreSQL's defaults, and UTC.
 */
static const struct
{
	const char *name;
	const char *value;
}			tc_fixed_settings[] =
{
	{"TimeZone", "UTC"},
	{"DateStyle", "ISO, MDY"},
	{"IntervalStyle", "postgres"},
	{"bytea_output", "hex"},
	{"extra_float_digits", "1"},
	{"lc_monetary", "C"},
};


PG_FUNCTION_INFO_V1(tc_invalidate_trigger);

/*
 * tc_template_error
 *		Raise 22023 for a template that cannot be parsed.
 */
static void
tc_template_error(const char *trigger, const char *tpl, const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid tag template \"%s\" of trigger \"%s\"", tpl, trigger),
			 errdetail("%s", why),
			 errhint("Write {column} for a column's value and {{ or }} for a literal brace.")));
}

/*
 * tc_output_is_fixed
 *		True if the output function of type typid gives the same text under
 *		any setting: the built-in types known to, and arrays, ranges,
 *		multiranges and composites of such types.  Unknown types are
 *		assumed to depend on settings.
 */
static bool
tc_output_is_fixed(Oid typid)
{
	check_stack_depth();
	typid = getBaseType(typid);
	switch (typid)
	{
		case BOOLOID:
		case CHAROID:
		case NAMEOID:
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case OIDOID:
		case XIDOID:
		case XID8OID:
		case CIDOID:
		case TIDOID:
		case TEXTOID:
		case BPCHAROID:
		case VARCHAROID:
		case NUMERICOID:
		case UUIDOID:
		case JSONOID:
		case JSONBOID:
		case JSONPATHOID:
		case TIMEOID:
		case TIMETZOID:
		case INETOID:
		case CIDROID:
		case MACADDROID:
		case MACADDR8OID:
		case BITOID:
		case VARBITOID:
		case PG_LSNOID:
			return true;
		default:
			break;
	}
	switch (get_typtype(typid))
	{
		case TYPTYPE_ENUM:
			return true;
		case TYPTYPE_RANGE:
			return tc_output_is_fixed(get_range_subtype(typid));
		case TYPTYPE_MULTIRANGE:
			return tc_output_is_fixed(get_range_subtype(get_multirange_range(typid)));
		case TYPTYPE_COMPOSITE:
			{
				TupleDesc	desc = lookup_rowtype_tupdesc(typid, -1);
				bool		fixed = true;

				for (int i = 0; i < desc->natts && fixed; i++)
				{
					Form_pg_attribute att = TupleDescAttr(desc, i);

					if (!att->attisdropped)
						fixed = tc_output_is_fixed(att->atttypid);
				}
				ReleaseTupleDesc(desc);
				return fixed;
			}
		case TYPTYPE_BASE:
			{
				Oid			elem = get_element_type(typid);

				return OidIsValid(elem) && tc_output_is_fixed(elem);
			}
		default:
			return false;
	}
}

/*
 * tc_part_kind
 *		How a column of type typid is rendered (see the file header).
 */
static TcPartKind
tc_part_kind(Oid typid)
{
	switch (getBaseType(typid))
	{
		case TIMESTAMPTZOID:
			return TC_PART_TIMESTAMPTZ;
		case TIMESTAMPOID:
			return TC_PART_TIMESTAMP;
		case DATEOID:
			return TC_PART_DATE;
		case TIMEOID:
			return TC_PART_TIME;
		case TIMETZOID:
			return TC_PART_TIMETZ;
		case INTERVALOID:
			return TC_PART_INTERVAL;
		case BYTEAOID:
			return TC_PART_BYTEA;
		case FLOAT4OID:
			return TC_PART_FLOAT4;
		case FLOAT8OID:
			return TC_PART_FLOAT8;
		default:
			return tc_output_is_fixed(typid) ? TC_PART_OUTPUT : TC_PART_FIXED_GUCS;
	}
}

/*
 * tc_parse_template
 *		Parse template tpl of trigger trigger on relation rel into t, in
 *		CurrentMemoryContext.
 */
static void
tc_parse_template(const char *trigger, Relation rel, const char *tpl,
				  TcTemplate *t)
{
	int			max = 1;
	StringInfoData lit;
	const char *p = tpl;

	for (const char *q = tpl; *q; q++)
		if (*q == '{')
			max += 2;
	t->text = pstrdup(tpl);
	t->parts = palloc0(sizeof(TcTplPart) * max);
	t->nparts = 0;
	t->has_columns = false;
	initStringInfo(&lit);

	while (*p)
	{
		if (p[0] == '{' && p[1] == '{')
		{
			appendStringInfoChar(&lit, '{');
			p += 2;
		}
		else if (p[0] == '}' && p[1] == '}')
		{
			appendStringInfoChar(&lit, '}');
			p += 2;
		}
		else if (p[0] == '}')
			tc_template_error(trigger, tpl, "A \"}\" closes no \"{\".");
		else if (p[0] == '{')
		{
			const char *end = strchr(p + 1, '}');
			char	   *name;
			int			attnum;
			TcTplPart  *part;
			Oid			typid;
			Oid			outfunc;
			bool		isvarlena;

			if (end == NULL)
				tc_template_error(trigger, tpl, "A \"{\" is not closed.");
			name = pnstrdup(p + 1, end - p - 1);
			if (name[0] == '\0' || strchr(name, '{') != NULL)
				tc_template_error(trigger, tpl, "Braces must enclose a column name.");
			attnum = SPI_fnumber(RelationGetDescr(rel), name);
			if (attnum <= 0)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("column \"%s\" of tag template \"%s\" of trigger \"%s\" does not exist",
								name, tpl, trigger),
						 errdetail("Table \"%s\" has no such column.",
								   RelationGetRelationName(rel)),
						 errhint("Name a column of the table, or write {{ and }} for literal braces.")));
			if (lit.len > 0)
			{
				t->parts[t->nparts].kind = TC_PART_LITERAL;
				t->parts[t->nparts].literal = pnstrdup(lit.data, lit.len);
				t->parts[t->nparts].len = lit.len;
				t->nparts++;
				resetStringInfo(&lit);
			}
			part = &t->parts[t->nparts++];
			typid = TupleDescAttr(RelationGetDescr(rel), attnum - 1)->atttypid;
			part->kind = tc_part_kind(typid);
			part->literal = NULL;
			part->attnum = attnum;
			getTypeOutputInfo(typid, &outfunc, &isvarlena);
			fmgr_info(outfunc, &part->out);
			t->has_columns = true;
			p = end + 1;
		}
		else
			appendStringInfoChar(&lit, *p++);
	}
	if (lit.len > 0 || t->nparts == 0)
	{
		t->parts[t->nparts].kind = TC_PART_LITERAL;
		t->parts[t->nparts].literal = pnstrdup(lit.data, lit.len);
		t->parts[t->nparts].len = lit.len;
		t->nparts++;
	}
}

/*
 * tc_trigger_plan
 *		The parsed templates of this trigger, from fn_extra or parsed now.
 */
static TcTriggerPlan *
tc_trigger_plan(FunctionCallInfo fcinfo, TriggerData *td)
{
	TcTriggerPlan *plan = fcinfo->flinfo->fn_extra;
	Trigger    *tg = td->tg_trigger;
	MemoryContext old;

	if (plan != NULL && plan->tgoid == tg->tgoid)
		return plan;
	if (tg->tgnargs == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("trigger \"%s\" gives typed_cache.invalidate_trigger() no tag templates",
						tg->tgname),
				 errhint("Pass the tags as trigger arguments, for example EXECUTE FUNCTION typed_cache.invalidate_trigger('user:{id}', 'users').")));
	old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	plan = palloc0(sizeof(TcTriggerPlan));
	plan->templates = palloc0(sizeof(TcTemplate) * tg->tgnargs);
	for (int i = 0; i < tg->tgnargs; i++)
		tc_parse_template(tg->tgname, td->tg_relation, tg->tgargs[i],
						  &plan->templates[i]);
	plan->ntemplates = tg->tgnargs;
	plan->tgname = pstrdup(tg->tgname);
	for (int i = 0; i < plan->ntemplates; i++)
		for (int j = 0; j < plan->templates[i].nparts; j++)
			if (plan->templates[i].parts[j].kind == TC_PART_FIXED_GUCS)
				plan->fixed_gucs = true;
	plan->tgoid = tg->tgoid;
	MemoryContextSwitchTo(old);
	fcinfo->flinfo->fn_extra = plan;
	return plan;
}

/*
 * tc_append_value
 *		Append the text of value d of template part part to buf, as its
 *		output function would give it under tc_fixed_settings.
 */
static void
tc_append_value(const TcTplPart *part, Datum d, StringInfo buf)
{
	char		str[MAXDATELEN + 1];
	struct pg_tm tm;
	fsec_t		fsec;

	switch (part->kind)
	{
		case TC_PART_TIMESTAMPTZ:
		case TC_PART_TIMESTAMP:
			{
				Timestamp	ts = DatumGetTimestamp(d);

				if (TIMESTAMP_NOT_FINITE(ts))
					EncodeSpecialTimestamp(ts, str);
				else if (timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) == 0)
				{
					/* in UTC: no conversion, and a known offset of 0 */
					tm.tm_isdst = 0;
					EncodeDateTime(&tm, fsec, part->kind == TC_PART_TIMESTAMPTZ,
								   0, NULL, USE_ISO_DATES, str);
				}
				else
					ereport(ERROR,
							(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
							 errmsg("timestamp out of range")));
				break;
			}
		case TC_PART_DATE:
			{
				DateADT		date = DatumGetDateADT(d);

				if (DATE_NOT_FINITE(date))
					EncodeSpecialDate(date, str);
				else
				{
					j2date(date + POSTGRES_EPOCH_JDATE,
						   &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
					EncodeDateOnly(&tm, USE_ISO_DATES, str);
				}
				break;
			}
		case TC_PART_TIME:
			time2tm(DatumGetTimeADT(d), &tm, &fsec);
			EncodeTimeOnly(&tm, fsec, false, 0, USE_ISO_DATES, str);
			break;
		case TC_PART_TIMETZ:
			{
				int			tz;

				timetz2tm(DatumGetTimeTzADTP(d), &tm, &fsec, &tz);
				EncodeTimeOnly(&tm, fsec, true, tz, USE_ISO_DATES, str);
				break;
			}
		case TC_PART_INTERVAL:
			{
				Interval   *span = DatumGetIntervalP(d);
				struct pg_itm itm;

				if (!tc_interval_is_finite(span))
				{
					/* "infinity" or "-infinity" under any setting */
					appendStringInfoString(buf, OutputFunctionCall((FmgrInfo *) &part->out, d));
					return;
				}
				interval2itm(*span, &itm);
				EncodeInterval(&itm, INTSTYLE_POSTGRES, str);
				break;
			}
		case TC_PART_BYTEA:
			{
				bytea	   *b = DatumGetByteaPP(d);
				Size		len = VARSIZE_ANY_EXHDR(b);

				/* what byteaout writes for bytea_output 'hex' */
				if (len > TC_MAX_TAG_BYTES)
					tc_check_tag(buf->len + 2 + len * 2);	/* raises */
				enlargeStringInfo(buf, 2 + len * 2);
				buf->data[buf->len++] = '\\';
				buf->data[buf->len++] = 'x';
				buf->len += hex_encode(VARDATA_ANY(b), len, buf->data + buf->len);
				buf->data[buf->len] = '\0';
				return;
			}
		case TC_PART_FLOAT4:
			/* what float4out writes for extra_float_digits > 0 */
			float_to_shortest_decimal_buf(DatumGetFloat4(d), str);
			break;
		case TC_PART_FLOAT8:
			double_to_shortest_decimal_buf(DatumGetFloat8(d), str);
			break;
		case TC_PART_OUTPUT:
		case TC_PART_FIXED_GUCS:
			appendStringInfoString(buf, OutputFunctionCall((FmgrInfo *) &part->out, d));
			return;
		case TC_PART_LITERAL:
			elog(ERROR, "unexpected literal part");
	}
	appendStringInfoString(buf, str);
}

/*
 * tc_render
 *		Render template t from the row in slot into buf, check it as put()
 *		checks a tag, and invalidate it.  state tells the error context
 *		which template it is.
 */
static void
tc_render(const TcTemplate *t, TupleTableSlot *slot, StringInfo buf,
		  TcRenderState *state)
{
	state->current = t;
	resetStringInfo(buf);
	for (int i = 0; i < t->nparts; i++)
	{
		const TcTplPart *part = &t->parts[i];
		bool		isnull;
		Datum		d;

		if (part->kind == TC_PART_LITERAL)
		{
			appendBinaryStringInfo(buf, part->literal, part->len);
			continue;
		}
		d = slot_getattr(slot, part->attnum, &isnull);
		if (!isnull)
			tc_append_value(part, d, buf);
	}
	tc_check_tag(buf->len);
	tc_invalidate_slot(tc_tag_slot(buf->data, buf->len));
	state->current = NULL;
}

/*
 * tc_render_error_context
 *		Name the template and the trigger in errors raised while a tag is
 *		rendered or checked.
 */
static void
tc_render_error_context(void *arg)
{
	TcRenderState *state = (TcRenderState *) arg;

	if (state->current != NULL)
		errcontext("tag template \"%s\" of trigger \"%s\"",
				   state->current->text, state->plan->tgname);
}

/*
 * tc_fixed_settings_push
 *		Set those of tc_fixed_settings that differ from the session's for
 *		the rest of the firing; returns the GUC nest level to give
 *		tc_fixed_settings_pop(), or -1 if nothing needed setting (a session
 *		that runs under the fixed settings pays a lookup per setting).  An
 *		error in between is cleaned up by the (sub)transaction's abort, as
 *		for a function's SET clause.
 */
static int
tc_fixed_settings_push(void)
{
	int			nestlevel = -1;

	for (size_t i = 0; i < lengthof(tc_fixed_settings); i++)
	{
		const char *current = GetConfigOption(tc_fixed_settings[i].name,
											  false, false);

		if (strcmp(current, tc_fixed_settings[i].value) == 0)
			continue;
		if (nestlevel < 0)
			nestlevel = NewGUCNestLevel();
		(void) set_config_option(tc_fixed_settings[i].name,
								 tc_fixed_settings[i].value,
								 PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
	}
	return nestlevel;
}

static void
tc_fixed_settings_pop(int nestlevel)
{
	AtEOXact_GUC(true, nestlevel);
}

/*
 * tc_invalidate_rows
 *		Invalidate every template of plan for each row of a transition
 *		table.
 */
static void
tc_invalidate_rows(TcTriggerPlan *plan, Tuplestorestate *rows,
				   TupleDesc desc, StringInfo buf, TcRenderState *state)
{
	TupleTableSlot *slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);

	tuplestore_rescan(rows);
	while (tuplestore_gettupleslot(rows, true, false, slot))
	{
		CHECK_FOR_INTERRUPTS();
		for (int i = 0; i < plan->ntemplates; i++)
			tc_render(&plan->templates[i], slot, buf, state);
	}
	ExecDropSingleTupleTableSlot(slot);
}

/*
 * tc_instead_error
 *		Raise 39P01 for trigger tgname used as an INSTEAD OF trigger.
 */
static void
tc_instead_error(const char *tgname)
{
	ereport(ERROR,
			(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
			 errmsg("typed_cache.invalidate_trigger() cannot be an INSTEAD OF trigger"),
			 errdetail("Trigger \"%s\" would replace the change to the view with an invalidation, so the change would do nothing.",
					   tgname),
			 errhint("Create the trigger AFTER INSERT, UPDATE or DELETE on the table the view changes, or call typed_cache.invalidate() from the view's own INSTEAD OF trigger.")));
}

/*
 * tc_invalidate_trigger
 *		typed_cache.invalidate_trigger() RETURNS trigger.
 */
Datum
tc_invalidate_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TcTriggerPlan *plan;
	StringInfoData buf;
	TriggerEvent ev;
	TcRenderState state;
	ErrorContextCallback errcallback;
	int			nestlevel = -1;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("typed_cache.invalidate_trigger() must be called as a trigger")));
	ev = td->tg_event;
	if (TRIGGER_FIRED_INSTEAD(ev))
		tc_instead_error(td->tg_trigger->tgname);
	tc_require_cache();
	plan = tc_trigger_plan(fcinfo, td);
	initStringInfo(&buf);

	state.plan = plan;
	state.current = NULL;
	errcallback.callback = tc_render_error_context;
	errcallback.arg = &state;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	if (TRIGGER_FIRED_FOR_ROW(ev))
	{
		TupleDesc	desc = RelationGetDescr(td->tg_relation);
		TupleTableSlot *slot = MakeSingleTupleTableSlot(desc, &TTSOpsHeapTuple);

		if (plan->fixed_gucs)
			nestlevel = tc_fixed_settings_push();
		if (!TRIGGER_FIRED_BY_INSERT(ev))
		{
			ExecStoreHeapTuple(td->tg_trigtuple, slot, false);
			for (int i = 0; i < plan->ntemplates; i++)
				tc_render(&plan->templates[i], slot, &buf, &state);
		}
		if (TRIGGER_FIRED_BY_INSERT(ev) || TRIGGER_FIRED_BY_UPDATE(ev))
		{
			ExecStoreHeapTuple(TRIGGER_FIRED_BY_UPDATE(ev) ?
							   td->tg_newtuple : td->tg_trigtuple,
							   slot, false);
			for (int i = 0; i < plan->ntemplates; i++)
				tc_render(&plan->templates[i], slot, &buf, &state);
		}
		if (nestlevel >= 0)
			tc_fixed_settings_pop(nestlevel);
		ExecDropSingleTupleTableSlot(slot);
		error_context_stack = errcallback.previous;
		if (TRIGGER_FIRED_BEFORE(ev))
			return PointerGetDatum(TRIGGER_FIRED_BY_UPDATE(ev) ?
								   td->tg_newtuple : td->tg_trigtuple);
		return PointerGetDatum(NULL);
	}

	/* statement level, or TRUNCATE */
	{
		bool		need_rows = false;
		TupleDesc	desc = RelationGetDescr(td->tg_relation);

		for (int i = 0; i < plan->ntemplates; i++)
		{
			if (plan->templates[i].has_columns)
				need_rows = true;
			else
				tc_render(&plan->templates[i], NULL, &buf, &state);
		}
		if (need_rows)
		{
			if (TRIGGER_FIRED_BY_TRUNCATE(ev) ||
				(td->tg_oldtable == NULL && td->tg_newtable == NULL))
				tc_invalidate_database();
			else
			{
				if (plan->fixed_gucs)
					nestlevel = tc_fixed_settings_push();
				if (td->tg_oldtable != NULL)
					tc_invalidate_rows(plan, td->tg_oldtable, desc, &buf,
									   &state);
				if (td->tg_newtable != NULL)
					tc_invalidate_rows(plan, td->tg_newtable, desc, &buf,
									   &state);
				if (nestlevel >= 0)
					tc_fixed_settings_pop(nestlevel);
			}
		}
	}
	error_context_stack = errcallback.previous;
	return PointerGetDatum(NULL);
}

/*
 * tc_is_invalidate_trigger
 *		True if function funcoid is this library's invalidate_trigger(),
 *		under whatever name.
 */
static bool
tc_is_invalidate_trigger(Oid funcoid)
{
	HeapTuple	tup;
	bool		candidate = false;
	FmgrInfo	finfo;

	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcoid));
	if (!HeapTupleIsValid(tup))
		return false;
	if (((Form_pg_proc) GETSTRUCT(tup))->prolang == ClanguageId)
	{
		bool		isnull;
		Datum		src = SysCacheGetAttr(PROCOID, tup, Anum_pg_proc_prosrc,
										  &isnull);

		candidate = !isnull && strcmp(TextDatumGetCString(src),
									  "tc_invalidate_trigger") == 0;
	}
	ReleaseSysCache(tup);
	if (!candidate)
		return false;
	/* the same symbol name: is it this library's? */
	fmgr_info(funcoid, &finfo);
	return finfo.fn_addr == tc_invalidate_trigger;
}

/*
 * tc_trigger_check_utility
 *		Before a utility statement (typed_cache.c's ProcessUtility hook):
 *		refuse CREATE TRIGGER ... INSTEAD OF ... EXECUTE FUNCTION
 *		typed_cache.invalidate_trigger() before anything is created.
 */
void
tc_trigger_check_utility(PlannedStmt *pstmt)
{
	Node	   *parsetree = pstmt->utilityStmt;

	if (IsA(parsetree, CreateTrigStmt) &&
		(((CreateTrigStmt *) parsetree)->timing & TRIGGER_TYPE_INSTEAD) != 0)
	{
		CreateTrigStmt *stmt = (CreateTrigStmt *) parsetree;
		Oid			funcoid = LookupFuncName(stmt->funcname, 0, NULL, true);

		if (OidIsValid(funcoid) && tc_is_invalidate_trigger(funcoid))
			tc_instead_error(stmt->trigname);
	}
}
