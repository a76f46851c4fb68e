/*-------------------------------------------------------------------------
 *
 * coherence_citus.c
 *	  Keeping the cache coherent on Citus: fills computed through Citus's
 *	  distributed executor are refused, and TRUNCATE, creation and drop of
 *	  shards that carry typed_cache.invalidate_trigger() invalidate.
 *
 * Each node of a Citus cluster has a cache of its own, and a shard's
 * invalidate_trigger runs on the node that holds the shard, invalidating
 * that node's cache.  A value is therefore coherent only if it is cached on
 * the node whose shards it was read from, by the backend whose snapshot
 * read them: the supported pattern is a function distributed on the key
 * with force_delegation, called as a bare SELECT f($1), so that it runs on
 * the shard's node and its queries, which Citus then restricts to the
 * shard of the function's argument, read the local shard (local execution,
 * same backend, same snapshot).
 *
 * The signal.  An ExecutorStart hook looks for a Citus custom scan (a plan
 * node whose CustomName begins with "Citus": "Citus Adaptive", "Citus
 * INSERT ... SELECT", "Citus MERGE INTO ...") in each plan this backend
 * starts.  Such a plan may run its tasks on other nodes, through other
 * backends with other snapshots, and writes to what it read invalidate
 * those nodes' caches, not this one.  Unless Citus says that the plan runs
 * inside a forced-delegation call (the AllowedDistributionColumnValue that
 * Citus sets while a force_delegation function runs on the node of its
 * distribution argument) and the plan is one job routed on a value of the
 * distribution column (which Citus then requires to be the function's
 * argument, raising an error otherwise, so the job reads the local shard;
 * a multi-shard query inside such a function is allowed by Citus and
 * reads other nodes), the backend's transaction is marked, and every fill (put, fetch, transactional put)
 * made for the rest of the transaction is refused and counted in
 * stale_refusals: a miss, never a stale value.  Limits: the check is
 * conservative (a direct query on a worker that happens to read a local
 * shard, or a non-forced delegated call, is refused too); Citus's flag is
 * read through its exported symbol and its layout as of Citus 11 to 13: if
 * the symbol cannot be found, every fill after a distributed plan is
 * refused.  Values that a client reads in one transaction and puts in
 * another are beyond any check (as without Citus).
 *
 * DDL.  With Citus loaded, a ProcessUtility hook invalidates, in the
 * transaction doing it (so at its commit or PREPARE, with the horizons of
 * coherence_commit.c), what the typed_cache.invalidate_trigger() triggers
 * of a table name, when the table is truncated (Citus truncates each shard on
 * its node, where no TRUNCATE trigger fires), dropped (the source of a
 * shard move, a dropped shard) or given such a trigger (a new shard, the
 * target of a move, whose rows arrive without row triggers).  A template
 * with a column cannot be rendered for all rows, so the database is
 * invalidated (escalation), as a TRUNCATE trigger does.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/coherence_citus.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/extensible.h"
#include "nodes/plannodes.h"
#include "parser/parse_func.h"
#include "tcop/utility.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "cache_store.h"
#include "cache_xact.h"
#include "coherence_citus.h"
#include "coherence_own.h"
#include "coherence_slots.h"

/*
 * Citus's AllowedDistributionColumn (distributed/transaction_management.h,
 * Citus 11 to 13): isActive is set while a force_delegation function runs.
 */
typedef struct TcCitusAllowedColumn
{
	void	   *distributionColumnValue;
	uint32		colocationId;
	bool		isActive;
	int			executorLevel;
} TcCitusAllowedColumn;

/* Is Citus loaded in this process? -1 not known yet. */
static int	tc_citus_loaded = -1;

/* Citus's flag, or NULL if its symbol was not found. */
static TcCitusAllowedColumn *tc_citus_allowed = NULL;

/* GUC */
static bool tc_citus_ddl = true;

/* Citus is loaded or listed in shared_preload_libraries (tc_citus_init). */
static bool tc_citus_watching = false;

/*
 * tc_citus_present
 *		True if Citus is loaded in this process (it must be preloaded, so
 *		its settings exist from the start); looks up Citus's forced
 *		delegation flag the first time.
 */
static bool
tc_citus_present(void)
{
	if (likely(tc_citus_loaded >= 0))
		return tc_citus_loaded == 1;
	tc_citus_loaded = GetConfigOption("citus.version", true, false) != NULL;
	if (tc_citus_loaded)
		tc_citus_allowed = (TcCitusAllowedColumn *)
			load_external_function("$libdir/citus",
								   "AllowedDistributionColumnValue",
								   false, NULL);
	return tc_citus_loaded == 1;
}

/*
 * tc_citus_scan_keyed
 *		True if the Citus custom scan cs is one job routed on a value of
 *		the distribution column (its partitionKeyValue set, or a fast-path
 *		router plan whose value, a parameter, is pruned at run time; no
 *		subquery pushdown, no subplans or dependent jobs): inside a forced
 *		delegation Citus checks that value against the function's argument
 *		(an error otherwise), so the scan reads the argument's shard, on
 *		this node.  Citus's DistributedPlan is read through its own
 *		serialisation (outNode), which names its fields; a plan of any
 *		other shape (a multi-shard job has no partitionKeyValue, a
 *		recursively planned subquery adds a job) is not keyed.
 */
static bool
tc_citus_scan_keyed(CustomScan *cs)
{
	Node	   *n;
	StringInfoData buf;
	char	   *s;
	char	   *p;
	int			jobs = 0;
	bool		keyed = false;
	const char *field = ":partitionKeyValue ";

	if (list_length(cs->custom_private) != 1)
		return false;
	n = linitial(cs->custom_private);
	if (!IsA(n, ExtensibleNode) ||
		strcmp(((ExtensibleNode *) n)->extnodename, "DistributedPlan") != 0)
		return false;
	initStringInfo(&buf);
	outNode(&buf, n);
	/* Citus writes a char field holding 0 as a NUL byte: make it a space */
	for (int i = 0; i < buf.len; i++)
		if (buf.data[i] == '\0')
			buf.data[i] = ' ';
	s = buf.data;
	for (p = strstr(s, field); p != NULL; p = strstr(p + 1, field))
	{
		jobs++;
		keyed = strncmp(p + strlen(field), "<>", 2) != 0;
	}
	/* a fast-path router on a parameter: the value is known at run time */
	if (!keyed && strstr(s, ":deferredPruning true") != NULL &&
		strstr(s, ":fastPathRouterPlan true") != NULL)
		keyed = true;
	keyed = keyed && jobs == 1 &&
		strstr(s, ":subqueryPushdown false") != NULL &&
		strstr(s, ":subPlanList <>") != NULL;
	pfree(s);
	return keyed;
}

/*
 * tc_plan_reads_remote
 *		True if the plan tree contains a Citus custom scan that may read
 *		other nodes: any, unless forced (inside a forced delegation) and
 *		the scan is keyed (tc_citus_scan_keyed).
 */
static bool
tc_plan_reads_remote(Plan *plan, bool forced)
{
	ListCell   *lc;
	List	   *children = NIL;

	if (plan == NULL)
		return false;
	check_stack_depth();
	if (IsA(plan, CustomScan))
	{
		CustomScan *cs = (CustomScan *) plan;

		if (cs->methods != NULL && cs->methods->CustomName != NULL &&
			strncmp(cs->methods->CustomName, "Citus", 5) == 0 &&
			!(forced && tc_citus_scan_keyed(cs)))
			return true;
		children = cs->custom_plans;
	}
	else if (IsA(plan, Append))
		children = ((Append *) plan)->appendplans;
	else if (IsA(plan, MergeAppend))
		children = ((MergeAppend *) plan)->mergeplans;
	else if (IsA(plan, BitmapAnd))
		children = ((BitmapAnd *) plan)->bitmapplans;
	else if (IsA(plan, BitmapOr))
		children = ((BitmapOr *) plan)->bitmapplans;
	else if (IsA(plan, SubqueryScan))
		return tc_plan_reads_remote(((SubqueryScan *) plan)->subplan, forced);
	foreach(lc, children)
		if (tc_plan_reads_remote((Plan *) lfirst(lc), forced))
			return true;
	return tc_plan_reads_remote(plan->lefttree, forced) ||
		tc_plan_reads_remote(plan->righttree, forced);
}

/*
 * tc_citus_executor_start
 *		Mark the transaction when a plan with a Citus custom scan that may
 *		read other nodes starts.
 */
void
tc_citus_executor_start(QueryDesc *queryDesc, int eflags)
{
	if (!tc_citus_distributed && tc_citus_present() &&
		(eflags & EXEC_FLAG_EXPLAIN_ONLY) == 0)
	{
		PlannedStmt *ps = queryDesc->plannedstmt;
		bool		forced = tc_citus_allowed != NULL &&
			tc_citus_allowed->isActive;
		bool		remote = tc_plan_reads_remote(ps->planTree, forced);
		ListCell   *lc;

		foreach(lc, ps->subplans)
			if (!remote)
				remote = tc_plan_reads_remote((Plan *) lfirst(lc), forced);
		if (remote)
			tc_citus_distributed = true;
	}
}

/*
 * tc_citus_xact_callback
 *		A transaction's end clears its mark.
 */
void
tc_citus_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PREPARE || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_PARALLEL_ABORT)
		tc_citus_distributed = false;
}

/*
 * tc_invalidate_trigger_oid
 *		The oid of typed_cache.invalidate_trigger(), or InvalidOid.
 */
static Oid
tc_invalidate_trigger_oid(void)
{
	List	   *name = list_make2(makeString("typed_cache"),
								  makeString("invalidate_trigger"));

	if (!OidIsValid(get_namespace_oid("typed_cache", true)))
		return InvalidOid;
	return LookupFuncName(name, 0, NULL, true);
}

/*
 * tc_invalidate_templates
 *		Invalidate what the tag templates of one trigger name for every row:
 *		a template without braces is the tag itself; one with a column (or a
 *		brace) cannot be rendered for all rows, so the database is
 *		invalidated.
 */
static void
tc_invalidate_templates(char **args, int nargs)
{
	for (int i = 0; i < nargs; i++)
	{
		const char *tpl = args[i];

		if (strchr(tpl, '{') != NULL || strchr(tpl, '}') != NULL)
			tc_invalidate_database();
		else
		{
			tc_check_tag(strlen(tpl));
			tc_invalidate_slot(tc_tag_slot(tpl, strlen(tpl)));
		}
	}
}

/*
 * tc_invalidate_relation
 *		Invalidate what the invalidate_trigger triggers of relation relid
 *		name (nothing if it has none, or does not exist).  Reads pg_trigger
 *		rather than opening the relation: the statement that follows takes
 *		its own lock on it, after its permission checks.
 */
static void
tc_invalidate_relation(Oid relid, Oid fnoid)
{
	Relation	tgrel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;

	if (!OidIsValid(relid))
		return;
	tgrel = table_open(TriggerRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_trigger_tgrelid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(tgrel, TriggerRelidNameIndexId, true, NULL,
							  1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_trigger tg = (Form_pg_trigger) GETSTRUCT(tup);
		bool		isnull;
		Datum		d;
		char	   *p;
		char	  **args;

		if (tg->tgfoid != fnoid || tg->tgnargs <= 0)
			continue;
		d = fastgetattr(tup, Anum_pg_trigger_tgargs,
						RelationGetDescr(tgrel), &isnull);
		if (isnull)
			continue;
		/* the arguments, each followed by a NUL (as RelationBuildTriggers) */
		p = (char *) VARDATA_ANY(DatumGetByteaPP(d));
		args = palloc(sizeof(char *) * tg->tgnargs);
		for (int i = 0; i < tg->tgnargs; i++)
		{
			args[i] = p;
			p += strlen(p) + 1;
		}
		tc_invalidate_templates(args, tg->tgnargs);
		pfree(args);
	}
	systable_endscan(scan);
	table_close(tgrel, AccessShareLock);
}

/*
 * tc_citus_utility_before
 *		TRUNCATE and DROP TABLE of a relation that carries invalidate_trigger
 *		invalidate what its triggers name (before the relation is gone).
 */
static void
tc_citus_utility_before(Node *stmt, Oid fnoid)
{
	ListCell   *lc;

	if (IsA(stmt, TruncateStmt))
	{
		foreach(lc, ((TruncateStmt *) stmt)->relations)
			tc_invalidate_relation(RangeVarGetRelid((RangeVar *) lfirst(lc),
													NoLock, true), fnoid);
	}
	else if (IsA(stmt, DropStmt) &&
			 ((DropStmt *) stmt)->removeType == OBJECT_TABLE)
	{
		foreach(lc, ((DropStmt *) stmt)->objects)
		{
			RangeVar   *rv = makeRangeVarFromNameList((List *) lfirst(lc));

			tc_invalidate_relation(RangeVarGetRelid(rv, NoLock, true), fnoid);
		}
	}
}

/*
 * tc_citus_utility_after
 *		A new invalidate_trigger trigger (on a new shard: its rows arrived
 *		without row triggers) invalidates what it names.
 */
static void
tc_citus_utility_after(Node *stmt, Oid fnoid)
{
	CreateTrigStmt *ct;
	Oid			fn;
	char	  **args;
	int			nargs = 0;
	ListCell   *lc;

	if (!IsA(stmt, CreateTrigStmt))
		return;
	ct = (CreateTrigStmt *) stmt;
	fn = LookupFuncName(ct->funcname, 0, NULL, true);
	if (fn != fnoid)
		return;
	args = palloc(sizeof(char *) * (list_length(ct->args) + 1));
	foreach(lc, ct->args)
		args[nargs++] = strVal(lfirst(lc));
	tc_invalidate_templates(args, nargs);
}

/*
 * tc_citus_utility_begin
 *		Before a utility statement (typed_cache.c's ProcessUtility hook):
 *		with Citus loaded, TRUNCATE, DROP TABLE and CREATE TRIGGER of tables
 *		carrying invalidate_trigger invalidate.  Returns the trigger
 *		function to watch, for tc_citus_utility_end, or InvalidOid.
 */
Oid
tc_citus_utility_begin(PlannedStmt *pstmt)
{
	Node	   *stmt = pstmt->utilityStmt;
	Oid			fnoid = InvalidOid;

	if (tc_citus_watching && tc_citus_ddl && IsTransactionState() &&
		(IsA(stmt, TruncateStmt) || IsA(stmt, DropStmt) ||
		 IsA(stmt, CreateTrigStmt)) &&
		tc_citus_present() && tc_coh != NULL)
	{
		fnoid = tc_invalidate_trigger_oid();
		if (OidIsValid(fnoid))
		{
			tc_require_cache();
			tc_citus_utility_before(stmt, fnoid);
		}
	}
	return fnoid;
}

/*
 * tc_citus_utility_end
 *		After the utility statement that tc_citus_utility_begin watched.
 */
void
tc_citus_utility_end(PlannedStmt *pstmt, Oid watched)
{
	if (OidIsValid(watched) && tc_coh != NULL)
		tc_citus_utility_after(pstmt->utilityStmt, watched);
}

/*
 * tc_citus_init
 *		Define typed_cache.citus_ddl_invalidation.  Returns true when Citus
 *		is loaded or listed in shared_preload_libraries: typed_cache.c then
 *		installs the executor hook and the transaction callback.  Called
 *		from _PG_init().
 */
bool
tc_citus_init(void)
{
	DefineCustomBoolVariable("typed_cache.citus_ddl_invalidation",
							 gettext_noop("With Citus loaded, TRUNCATE, DROP TABLE and CREATE TRIGGER of a table that carries typed_cache.invalidate_trigger() invalidate what its triggers name."),
							 gettext_noop("Citus truncates, creates and drops shards without firing their row triggers."),
							 &tc_citus_ddl,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	/* without Citus there is nothing to watch */
	tc_citus_watching =
		GetConfigOption("citus.version", true, false) != NULL ||
		(shared_preload_libraries_string != NULL &&
		 strstr(shared_preload_libraries_string, "citus") != NULL);
	return tc_citus_watching;
}
