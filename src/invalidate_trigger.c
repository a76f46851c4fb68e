/*-------------------------------------------------------------------------
 *
 * invalidate_trigger.c
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
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/invalidate_trigger.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/tuplestore.h"

#include "cache.h"
#include "coherence.h"

/* One piece of a template: literal text, or a column. */
typedef struct TcTplPart
{
	char	   *literal;		/* NULL for a column */
	int			len;
	int			attnum;			/* 1-based */
	FmgrInfo	out;
} TcTplPart;

typedef struct TcTemplate
{
	int			nparts;
	TcTplPart  *parts;
	bool		has_columns;
} TcTemplate;

/* Parsed templates, kept in fn_extra for the statement. */
typedef struct TcTriggerPlan
{
	Oid			tgoid;
	int			ntemplates;
	TcTemplate *templates;
} TcTriggerPlan;

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
				t->parts[t->nparts].literal = pnstrdup(lit.data, lit.len);
				t->parts[t->nparts].len = lit.len;
				t->nparts++;
				resetStringInfo(&lit);
			}
			part = &t->parts[t->nparts++];
			part->literal = NULL;
			part->attnum = attnum;
			getTypeOutputInfo(TupleDescAttr(RelationGetDescr(rel), attnum - 1)->atttypid,
							  &outfunc, &isvarlena);
			fmgr_info(outfunc, &part->out);
			t->has_columns = true;
			p = end + 1;
		}
		else
			appendStringInfoChar(&lit, *p++);
	}
	if (lit.len > 0 || t->nparts == 0)
	{
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
	plan->tgoid = tg->tgoid;
	MemoryContextSwitchTo(old);
	fcinfo->flinfo->fn_extra = plan;
	return plan;
}

/*
 * tc_render
 *		Render template t from the row in slot into buf, and invalidate it.
 */
static void
tc_render(const TcTemplate *t, TupleTableSlot *slot, StringInfo buf)
{
	resetStringInfo(buf);
	for (int i = 0; i < t->nparts; i++)
	{
		const TcTplPart *part = &t->parts[i];
		bool		isnull;
		Datum		d;

		if (part->literal != NULL)
		{
			appendBinaryStringInfo(buf, part->literal, part->len);
			continue;
		}
		d = slot_getattr(slot, part->attnum, &isnull);
		if (!isnull)
			appendStringInfoString(buf, OutputFunctionCall((FmgrInfo *) &part->out, d));
	}
	tc_invalidate_slot(tc_tag_slot(buf->data, buf->len));
}

/*
 * tc_invalidate_rows
 *		Invalidate every template of plan for each row of a transition
 *		table.
 */
static void
tc_invalidate_rows(TcTriggerPlan *plan, Tuplestorestate *rows,
				   TupleDesc desc, StringInfo buf)
{
	TupleTableSlot *slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);

	tuplestore_rescan(rows);
	while (tuplestore_gettupleslot(rows, true, false, slot))
	{
		CHECK_FOR_INTERRUPTS();
		for (int i = 0; i < plan->ntemplates; i++)
			tc_render(&plan->templates[i], slot, buf);
	}
	ExecDropSingleTupleTableSlot(slot);
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

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("typed_cache.invalidate_trigger() must be called as a trigger")));
	tc_require_cache();
	ev = td->tg_event;
	plan = tc_trigger_plan(fcinfo, td);
	initStringInfo(&buf);

	if (TRIGGER_FIRED_FOR_ROW(ev))
	{
		TupleDesc	desc = RelationGetDescr(td->tg_relation);
		TupleTableSlot *slot = MakeSingleTupleTableSlot(desc, &TTSOpsHeapTuple);

		if (!TRIGGER_FIRED_BY_INSERT(ev))
		{
			ExecStoreHeapTuple(td->tg_trigtuple, slot, false);
			for (int i = 0; i < plan->ntemplates; i++)
				tc_render(&plan->templates[i], slot, &buf);
		}
		if (TRIGGER_FIRED_BY_INSERT(ev) || TRIGGER_FIRED_BY_UPDATE(ev))
		{
			ExecStoreHeapTuple(TRIGGER_FIRED_BY_UPDATE(ev) ?
							   td->tg_newtuple : td->tg_trigtuple,
							   slot, false);
			for (int i = 0; i < plan->ntemplates; i++)
				tc_render(&plan->templates[i], slot, &buf);
		}
		ExecDropSingleTupleTableSlot(slot);
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
				tc_render(&plan->templates[i], NULL, &buf);
		}
		if (need_rows)
		{
			if (TRIGGER_FIRED_BY_TRUNCATE(ev) ||
				(td->tg_oldtable == NULL && td->tg_newtable == NULL))
				tc_invalidate_database();
			else
			{
				if (td->tg_oldtable != NULL)
					tc_invalidate_rows(plan, td->tg_oldtable, desc, &buf);
				if (td->tg_newtable != NULL)
					tc_invalidate_rows(plan, td->tg_newtable, desc, &buf);
			}
		}
	}
	return PointerGetDatum(NULL);
}
