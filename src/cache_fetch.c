/*-------------------------------------------------------------------------
 *
 * cache_fetch.c
 *	  typed_cache.fetch(): read a key, or compute it with a query while
 *	  other backends that want the same key wait for the result.
 *
 * Single flight.  A small shared table of "flights" (TC_FLIGHTS entries,
 * picked by the key's hash) records which backend is computing which key.
 * A backend that misses a key whose flight another backend leads waits on
 * that entry's condition variable (no LWLock held, cancel works) until the
 * leader publishes, then reads the key again; if it is still missing (the
 * leader failed, or its fill was refused) the waiter tries to lead itself.
 * Waiting is bounded by typed_cache.fill_timeout: after it the waiter runs
 * the query itself, which also breaks cycles (a leader waiting, through
 * its query, on a key whose leader waits on it) and waits the deadlock
 * detector cannot see (a waiter holding a row lock the leader needs).  A
 * leader that errors, is cancelled or exits releases its flights in the
 * abort path (a subtransaction's abort releases those it took) and wakes
 * its waiters at once.  Two keys whose hashes share a flight entry do not
 * wait for each other: the second runs its query without a flight.
 *
 * The query runs through SPI as the calling user; it must be one statement
 * (checked before anything runs) that returns one row of one jsonb column.  Its result is stored like a put() whose lease is
 * the miss (coherence_fill.c): refused if an invalidation of the key or its tags
 * committed after the miss or while the query ran.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/cache_fetch.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "cache_fetch.h"
#include "cache_store.h"
#include "cache_xact.h"
#include "compat.h"

/* Flight entries, a power of two. */
#define TC_FLIGHTS			1024

/* Flights one backend may lead at once (nested fetch calls). */
#define TC_MAX_HELD			32

typedef struct TcFlight
{
	slock_t		mutex;
	int			leader;			/* proc number, or -1 */
	Oid			dbid;
	uint32		hash;
	uint32		generation;		/* bumped whenever a leader finishes */
	ConditionVariable cv;
} TcFlight;

typedef struct TcHeld
{
	int			index;
	int			level;
} TcHeld;

static TcFlight *tc_flights = NULL;
static TcHeld tc_held[TC_MAX_HELD];
static int	tc_nheld = 0;

/* GUC */
static int	tc_fill_timeout = 5000;

PG_FUNCTION_INFO_V1(tc_fetch);

/*
 * tc_fetch_shmem_size
 *		Bytes of shared memory for the flights.
 */
static Size
tc_fetch_shmem_size(void)
{
	return mul_size(TC_FLIGHTS, sizeof(TcFlight));
}

/*
 * tc_fetch_shmem_request
 *		Reserve the flights (typed_cache.c's shmem_request_hook).
 */
void
tc_fetch_shmem_request(void)
{
	RequestAddinShmemSpace(tc_fetch_shmem_size());
}

/*
 * tc_fetch_shmem_startup
 *		Create or attach the flights; caller holds AddinShmemInitLock.
 */
void
tc_fetch_shmem_startup(void)
{
	bool		found;

	tc_flights = ShmemInitStruct("typed_cache flights",
								 tc_fetch_shmem_size(), &found);
	if (!found)
	{
		for (int i = 0; i < TC_FLIGHTS; i++)
		{
			SpinLockInit(&tc_flights[i].mutex);
			tc_flights[i].leader = -1;
			tc_flights[i].dbid = InvalidOid;
			tc_flights[i].hash = 0;
			tc_flights[i].generation = 0;
			ConditionVariableInit(&tc_flights[i].cv);
		}
	}
}

/*
 * tc_flight_release
 *		End the flight this backend leads in entry i and wake its waiters.
 *		Cannot fail: runs in abort paths.
 */
static void
tc_flight_release(int i)
{
	TcFlight   *f = &tc_flights[i];

	SpinLockAcquire(&f->mutex);
	if (f->leader == TC_MY_PROC_NUMBER)
	{
		f->leader = -1;
		f->generation++;
	}
	SpinLockRelease(&f->mutex);
	ConditionVariableBroadcast(&f->cv);
}

/*
 * tc_fetch_release_held
 *		Release the flights taken at nesting level >= level (all of them at
 *		level 0).
 */
static void
tc_fetch_release_held(int level)
{
	while (tc_nheld > 0 && tc_held[tc_nheld - 1].level >= level)
	{
		tc_nheld--;
		tc_flight_release(tc_held[tc_nheld].index);
	}
}

/*
 * tc_fetch_xact_callback / tc_fetch_subxact_callback
 *		A transaction or subtransaction that ends with flights still held
 *		(an error or cancel in the query) releases them.
 */
void
tc_fetch_xact_callback(XactEvent event, void *arg)
{
	if (tc_nheld > 0 && (event == XACT_EVENT_ABORT ||
						 event == XACT_EVENT_PARALLEL_ABORT ||
						 event == XACT_EVENT_COMMIT ||
						 event == XACT_EVENT_PARALLEL_COMMIT ||
						 event == XACT_EVENT_PREPARE))
		tc_fetch_release_held(0);
}

void
tc_fetch_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						  SubTransactionId parentSubid, void *arg)
{
	if (tc_nheld > 0 && event == SUBXACT_EVENT_ABORT_SUB)
		tc_fetch_release_held(GetCurrentTransactionNestLevel());
}

/*
 * tc_fetch_init
 *		Define typed_cache.fill_timeout.  Called from _PG_init().
 */
void
tc_fetch_init(void)
{
	DefineCustomIntVariable("typed_cache.fill_timeout",
							gettext_noop("How long fetch() waits for another backend computing the same key before it runs the query itself."),
							NULL,
							&tc_fill_timeout,
							5000,
							0,
							INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);
}

/*
 * tc_fetch_query
 *		Run the query as the caller and return its one jsonb value (NULL if
 *		that value is SQL NULL), copied into the caller's context.
 */
static Jsonb *
tc_fetch_query(const char *query)
{
	int			ret;
	Jsonb	   *result = NULL;
	bool		isnull;
	Datum		d;
	SPIPlanPtr	plan;
	int			nstatements;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/*
	 * One statement: given several, SPI would run them all and return the
	 * last one's rows, so a query string could change data before the
	 * statement whose result is cached.  Nothing runs before this check.
	 */
	plan = SPI_prepare(query, 0, NULL);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s",
			 SPI_result_code_string(SPI_result));
	nstatements = list_length(SPI_plan_get_plan_sources(plan));
	if (nstatements != 1)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("fetch query must be exactly one statement"),
				 errdetail_plural("The query string holds %d statement.",
								  "The query string holds %d statements.",
								  nstatements, nstatements),
				 errhint("Give fetch() a single SELECT of one jsonb column.")));
	ret = SPI_execute_plan(plan, NULL, NULL, false, 2);
	if (ret == SPI_ERROR_TRANSACTION)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("fetch query cannot control transactions"),
				 errhint("Give fetch() a SELECT of one jsonb column.")));
	if (ret < 0 || SPI_tuptable == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("fetch query must return rows"),
				 errdetail("The query returned no result set."),
				 errhint("Give fetch() a SELECT (or a statement with RETURNING) of one jsonb column.")));
	if (SPI_tuptable->tupdesc->natts != 1 ||
		SPI_gettypeid(SPI_tuptable->tupdesc, 1) != JSONBOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("fetch query must return one column of type jsonb"),
				 SPI_tuptable->tupdesc->natts == 0 ?
				 errdetail("The query returns no columns.") :
				 errdetail("The query returns %d column(s), the first of type %s.",
						   SPI_tuptable->tupdesc->natts,
						   format_type_be(SPI_gettypeid(SPI_tuptable->tupdesc, 1))),
				 errhint("Select exactly one jsonb expression, for example to_jsonb(t) or jsonb_build_object(...).")));
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(SPI_processed == 0 ? ERRCODE_NO_DATA_FOUND :
						 ERRCODE_CARDINALITY_VIOLATION),
				 errmsg("fetch query returned %s rows, not one",
						SPI_processed == 0 ? "no" : "several"),
				 errhint("Make the query return exactly one row, for example with an aggregate or COALESCE.")));
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
					  &isnull);
	if (!isnull)
		result = DatumGetJsonbP(SPI_datumTransfer(PointerGetDatum(PG_DETOAST_DATUM(d)),
												  false, -1));
	SPI_finish();
	return result;
}

/* What tc_fetch_join decided. */
typedef enum TcJoin
{
	TC_JOIN_LEAD,				/* we lead the flight: compute and publish */
	TC_JOIN_WAITED,				/* the leader finished: read again */
	TC_JOIN_ALONE				/* compute without a flight */
} TcJoin;

/*
 * tc_fetch_join
 *		Lead the flight of k, or wait for its leader (at most
 *		typed_cache.fill_timeout), or neither.
 */
static TcJoin
tc_fetch_join(const TcCacheKey *k, int *index)
{
	int			i = k->hash & (TC_FLIGHTS - 1);
	TcFlight   *f = &tc_flights[i];
	TcShard    *shard = tc_shard(k->shard);
	uint32		generation;
	TimestampTz deadline;
	bool		timed_out = false;

	*index = i;
	SpinLockAcquire(&f->mutex);
	if (f->leader < 0 && tc_nheld < TC_MAX_HELD)
	{
		f->leader = TC_MY_PROC_NUMBER;
		f->dbid = MyDatabaseId;
		f->hash = k->hash;
		SpinLockRelease(&f->mutex);
		tc_held[tc_nheld].index = i;
		tc_held[tc_nheld].level = GetCurrentTransactionNestLevel();
		tc_nheld++;
		return TC_JOIN_LEAD;
	}
	if (f->leader < 0 || f->leader == TC_MY_PROC_NUMBER ||
		f->dbid != MyDatabaseId || f->hash != k->hash)
	{
		/* we lead it ourselves (fetch inside fetch), or another key's */
		SpinLockRelease(&f->mutex);
		return TC_JOIN_ALONE;
	}
	generation = f->generation;
	SpinLockRelease(&f->mutex);

	pg_atomic_fetch_add_u64(&shard->stats.fetch_waits, 1);
	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
										   tc_fill_timeout);
	ConditionVariablePrepareToSleep(&f->cv);
	for (;;)
	{
		long		remaining;
		bool		done;

		SpinLockAcquire(&f->mutex);
		done = (f->generation != generation);
		SpinLockRelease(&f->mutex);
		if (done)
			break;
		remaining = TimestampDifferenceMilliseconds(GetCurrentTimestamp(),
													deadline);
		if (remaining <= 0)
		{
			timed_out = true;
			break;
		}
		(void) ConditionVariableTimedSleep(&f->cv, remaining,
										   PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();
	if (timed_out)
	{
		pg_atomic_fetch_add_u64(&shard->stats.fetch_timeouts, 1);
		return TC_JOIN_ALONE;
	}
	return TC_JOIN_WAITED;
}

/*
 * tc_fetch
 *		typed_cache.fetch(key text, query text, ttl interval DEFAULT NULL,
 *		tags text[] DEFAULT NULL) RETURNS jsonb: the cached value of key, or
 *		the result of query, stored (guarded) under key with ttl and tags.
 *		See the file header for how concurrent callers share one query.
 */
Datum
tc_fetch(PG_FUNCTION_ARGS)
{
	TcCacheKey	k;
	char	   *query;
	Interval   *ttl = PG_ARGISNULL(2) ? NULL : PG_GETARG_INTERVAL_P(2);
	ArrayType  *tags = PG_ARGISNULL(3) ? NULL : PG_GETARG_ARRAYTYPE_P(3);
	Jsonb	   *value;
	Oid			typid;
	int			index = -1;
	TcJoin		join = TC_JOIN_ALONE;

	tc_require_cache();
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("cache key must not be null")));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("fetch query must not be null")));
	tc_make_key(PG_GETARG_TEXT_PP(0), &k);
	query = text_to_cstring(PG_GETARG_TEXT_PP(1));
	/* bad arguments fail before the query runs, and on a hit too */
	tc_check_put_args(ttl, tags);

	/* read; on a miss lead, or wait and read again (at most twice) */
	for (int attempt = 0; attempt < 3; attempt++)
	{
		value = tc_lookup_copy(&k, &typid);
		if (value != NULL)
			PG_RETURN_JSONB_P(value);
		if (attempt == 2)
			break;
		join = tc_fetch_join(&k, &index);
		if (join != TC_JOIN_WAITED)
			break;
	}

	pg_atomic_fetch_add_u64(&tc_shard(k.shard)->stats.fetch_queries, 1);
	value = tc_fetch_query(query);
	if (value != NULL && tc_put_value(&k, value, ttl, InvalidOid, tags) &&
		tc_put_deferred())
	{
		/*
		 * Kept until commit: waiters could not read it yet, so the flight
		 * ends with the transaction (tc_fetch_xact_callback), after the
		 * put is stored.
		 */
		join = TC_JOIN_ALONE;
	}
	if (join == TC_JOIN_LEAD)
	{
		/* published (or refused): let the waiters read */
		for (int i = tc_nheld - 1; i >= 0; i--)
			if (tc_held[i].index == index)
			{
				/* keep the others in order of level */
				memmove(&tc_held[i], &tc_held[i + 1],
						sizeof(TcHeld) * (tc_nheld - i - 1));
				tc_nheld--;
				break;
			}
		tc_flight_release(index);
	}
	if (value == NULL)
		PG_RETURN_NULL();
	PG_RETURN_JSONB_P(value);
}
