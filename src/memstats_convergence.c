/*-------------------------------------------------------------------------
 *
 * memstats_convergence.c
 *	  typed_cache.check_convergence: does a repeated workload stop growing
 *	  the backend's memory?
 *
 * The statement runs through SPI in the calling backend, first warmup
 * times unmeasured (catalog caches and plan caches fill legitimately),
 * then iterations times, reading the bytes allocated by all memory
 * contexts after each run.  The baseline is the reading after the
 * warm-up.  Over the second half of the measured runs (from iteration
 * iterations / 2 on, the baseline counting as iteration 0) a least-squares
 * slope is fitted; the workload has converged when the growth the slope
 * predicts over that half is at most tolerance times the baseline.
 * Otherwise the verdict gives the slope in bytes per iteration and the
 * context path that grew most over the second half, the leak suspect,
 * spelled as memory_growth spells paths (memstats_contexts.c builds both).
 *
 * The check keeps its own figures in a context that the totals leave out,
 * so that measuring does not look like growth.  Allocated bytes grow by
 * blocks: a leak of small chunks in a long-lived context shows only once
 * it fills new blocks, so run enough work per iteration.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/memstats_convergence.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "memstats_contexts.h"

/* Most warm-up runs or measured iterations one call may ask for. */
#define TC_MAX_ITERATIONS	100000

/* What the error context callback reports about the current run. */
typedef struct TcConvergenceRun
{
	int			run;
	int			total;
	bool		warmup;
} TcConvergenceRun;

PG_FUNCTION_INFO_V1(check_convergence);

/*
 * tc_convergence_errcontext
 *		Error context callback naming the run that failed.
 */
static void
tc_convergence_errcontext(void *arg)
{
	TcConvergenceRun *run = (TcConvergenceRun *) arg;

	if (run->warmup)
		errcontext("warm-up run %d of %d of typed_cache.check_convergence",
				   run->run, run->total);
	else
		errcontext("iteration %d of %d of typed_cache.check_convergence",
				   run->run, run->total);
}

/*
 * tc_run_statement
 *		Run sql once through SPI and free whatever it returned.
 */
static void
tc_run_statement(const char *sql)
{
	int			rc;

	rc = SPI_execute(sql, false, 0);
	if (rc < 0)
		ereport(ERROR,
				(errcode(rc == SPI_ERROR_TRANSACTION ||
						 rc == SPI_ERROR_COPY ?
						 ERRCODE_FEATURE_NOT_SUPPORTED :
						 ERRCODE_INTERNAL_ERROR),
				 errmsg("could not run the statement: %s",
						SPI_result_code_string(rc)),
				 errhint("typed_cache.check_convergence runs statements inside one function call: transaction control and COPY to or from the client are not possible.")));
	SPI_freetuptable(SPI_tuptable);
}

/*
 * tc_check_count
 *		Reject a count of runs outside 1 .. TC_MAX_ITERATIONS.
 */
static void
tc_check_count(const char *argname, int32 value)
{
	if (value < 1 || value > TC_MAX_ITERATIONS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be between 1 and %d, not %d",
						argname, TC_MAX_ITERATIONS, value)));
}

/*
 * tc_slope
 *		Least-squares slope of y[first .. last] against the index.
 */
static double
tc_slope(const int64 *y, int first, int last)
{
	double		n = last - first + 1;
	double		mean_x = 0.0;
	double		mean_y = 0.0;
	double		sxy = 0.0;
	double		sxx = 0.0;
	int			i;

	for (i = first; i <= last; i++)
	{
		mean_x += i;
		mean_y += (double) y[i];
	}
	mean_x /= n;
	mean_y /= n;
	for (i = first; i <= last; i++)
	{
		sxy += (i - mean_x) * ((double) y[i] - mean_y);
		sxx += (i - mean_x) * (i - mean_x);
	}
	return (sxx > 0.0) ? sxy / sxx : 0.0;
}

/*
 * check_convergence
 *		typed_cache.check_convergence(sql text, iterations int DEFAULT 10,
 *		warmup int DEFAULT 2, tolerance float8 DEFAULT 0.01) returns one
 *		row per measured iteration, each with the overall verdict.
 *
 * An error in the statement propagates with a context line naming the
 * run.  Strict: a NULL argument gives no rows.
 */
Datum
check_convergence(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *sql = text_to_cstring(PG_GETARG_TEXT_PP(0));
	int32		iterations = PG_GETARG_INT32(1);
	int32		warmup = PG_GETARG_INT32(2);
	float8		tolerance = PG_GETARG_FLOAT8(3);
	MemoryContext workcxt;
	int64	   *allocated;
	int			half;
	TcPathEntry *mid_entries = NULL;
	TcPathEntry *end_entries;
	int			nmid = 0;
	int			nend;
	int64		ncontexts;
	TcConvergenceRun run;
	ErrorContextCallback errcallback;
	double		slope;
	bool		converged;
	char	   *verdict;
	int			i;

	tc_check_count("iterations", iterations);
	tc_check_count("warmup", warmup);
	if (isnan(tolerance) || tolerance < 0.0 || tolerance > 1.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tolerance must be between 0 and 1, not %g",
						tolerance),
				 errdetail("The tolerance is a fraction of the memory allocated after the warm-up, for example 0.01 for 1%%.")));

	/* a workload that runs nothing would always "converge" */
	if (pg_parse_query(sql) == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("workload contains no statement"),
				 errhint("Pass the SQL to repeat, for example 'SELECT my_function()'.")));

	InitMaterializedSRF(fcinfo, 0);

	/* Everything the check keeps lives here and is left out of totals. */
	workcxt = AllocSetContextCreate(CurrentMemoryContext,
									"typed_cache convergence check",
									ALLOCSET_DEFAULT_SIZES);
	allocated = MemoryContextAllocZero(workcxt,
									   sizeof(int64) * (iterations + 1));
	half = iterations / 2;

	if (SPI_connect() != SPI_OK_CONNECT)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not connect to the SPI manager")));

	run.total = warmup;
	run.warmup = true;
	errcallback.callback = tc_convergence_errcontext;
	errcallback.arg = &run;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	for (run.run = 1; run.run <= warmup; run.run++)
		tc_run_statement(sql);

	allocated[0] = tc_allocated_bytes(workcxt);
	if (half == 0)
		nmid = tc_collect_paths(workcxt, workcxt, &mid_entries, &ncontexts);

	run.total = iterations;
	run.warmup = false;
	for (run.run = 1; run.run <= iterations; run.run++)
	{
		tc_run_statement(sql);
		allocated[run.run] = tc_allocated_bytes(workcxt);
		if (run.run == half)
			nmid = tc_collect_paths(workcxt, workcxt, &mid_entries,
									&ncontexts);
	}
	nend = tc_collect_paths(workcxt, workcxt, &end_entries, &ncontexts);

	error_context_stack = errcallback.previous;
	SPI_finish();

	slope = tc_slope(allocated, half, iterations);
	converged = slope * (iterations - half) <= tolerance * allocated[0];
	if (converged)
		verdict = "converged";
	else
	{
		int64		delta;
		const char *suspect;

		suspect = tc_largest_growth_path(mid_entries, nmid,
										 end_entries, nend, &delta);
		if (suspect != NULL)
			verdict = psprintf("growing: %.0f bytes per iteration, most in %s",
							   slope, suspect);
		else
			verdict = psprintf("growing: %.0f bytes per iteration", slope);
	}

	for (i = 1; i <= iterations; i++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		values[0] = Int32GetDatum(i);
		values[1] = Int64GetDatum(allocated[i]);
		values[2] = Int64GetDatum(allocated[i] - allocated[i - 1]);
		values[3] = CStringGetTextDatum(verdict);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc,
							 values, nulls);
	}

	MemoryContextDelete(workcxt);
	return (Datum) 0;
}
