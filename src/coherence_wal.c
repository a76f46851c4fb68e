/*-------------------------------------------------------------------------
 *
 * coherence_wal.c
 *	  Committed invalidations carried to hot standbys through the WAL: a
 *	  custom resource manager (typed_cache.wal_rmgr_id, default 128 =
 *	  RM_EXPERIMENTAL_ID) and the settings typed_cache.wal_invalidation and
 *	  typed_cache.wal_rmgr_id.
 *
 * At XACT_EVENT_PRE_COMMIT (or XACT_EVENT_PRE_PREPARE: a prepared
 * transaction's id runs on the standby too until its COMMIT PREPARED is
 * replayed) a transaction that invalidated tags or deleted keys writes one
 * record: its database, its full transaction id, the tag
 * and key slots it invalidated and the keys it deleted.  The record comes
 * before the commit record in the WAL, so a standby replays it while the
 * transaction still counts as running there.  Redo, in the startup process
 * (with or without clients), does on the standby what the commit step does
 * on the primary: each slot's horizon becomes at least the transaction's
 * id and its counter moves (entries filled before with one of the tags are
 * misses from now on), then the deleted keys are removed.  Every standby
 * snapshot taken before the commit is replayed has an xmin at or below the
 * transaction's id, so a fill computed from it is refused; once the commit
 * is replayed, new snapshots see the new data and fills go on.  Marks are
 * not needed there: the running transaction's id does their work.
 *
 * Bounds: a transaction invalidating more than 4096 distinct slots has
 * escalated on the primary already (coherence_own.c) to every tag of its
 * database, and its record (INVALIDATE_ALL_TAGS) lists no slots, only the
 * deleted keys (whose key slots redo computes); a transaction that
 * escalated to its whole database, or whose deleted keys take more than
 * 64 kB, writes a record (INVALIDATE_DATABASE) that names only the
 * database, and its redo invalidates that database's tags and keys and
 * removes every entry of it.  No record invalidates anything of another
 * database (but through a shared tag slot, as on the primary).  A standby whose typed_cache.tag_slots differs
 * from the primary's escalates every record (the slot numbers would not
 * match).  Redo never raises an error.
 *
 * Before the point where a standby's replay starts there may be records of
 * transactions still running: coherence_fill.c keeps a standby's fills off
 * until those are over (tc_standby_floor_ok).
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/coherence_wal.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog.h"
#include "access/xlog_internal.h"
#include "access/xloginsert.h"
#include "access/xlogreader.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "cache_store.h"
#include "coherence_own.h"
#include "coherence_slots.h"
#include "coherence_wal.h"

/* Record types (the high bits of xl_info). */
#define XLOG_TC_INVALIDATE			0x00
#define XLOG_TC_INVALIDATE_DATABASE	0x10
#define XLOG_TC_INVALIDATE_ALL_TAGS	0x20

/* Deleted keys a record names, in bytes, before it escalates. */
#define TC_WAL_MAX_KEY_BYTES	(64 * 1024)

/* Keys rm_desc shows before "...". */
#define TC_WAL_DESC_KEYS		8

/*
 * The record.  The slots follow as uint32, then each key as a uint32 length
 * and its bytes; nothing after the header is aligned.  An escalated record
 * is the header alone.
 */
typedef struct xl_tc_invalidate
{
	Oid			dbid;
	uint32		nslots_total;	/* typed_cache.tag_slots of the writer */
	uint64		fxid;			/* the invalidating transaction */
	uint32		nslots;
	uint32		nkeys;
} xl_tc_invalidate;

/* GUCs */
static int	tc_wal_rmgr_id = RM_EXPERIMENTAL_ID;
static bool tc_wal_invalidation = true;

static void tc_wal_redo(XLogReaderState *record);
static void tc_wal_desc(StringInfo buf, XLogReaderState *record);
static const char *tc_wal_identify(uint8 info);

static void tc_replay_all_tags(Oid dbid, uint64 fxid);
static void tc_replay_database(Oid dbid, uint64 fxid);

static RmgrData tc_rmgr = {
	.rm_name = "typed_cache",
	.rm_redo = tc_wal_redo,
	.rm_desc = tc_wal_desc,
	.rm_identify = tc_wal_identify,
};

/*
 * tc_wal_init
 *		Define the settings and register the resource manager.  Only when
 *		the library is preloaded: records can only be written or replayed by
 *		a server that loaded it at start.
 */
void
tc_wal_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	DefineCustomIntVariable("typed_cache.wal_rmgr_id",
							gettext_noop("Custom WAL resource manager id of typed_cache's invalidation records."),
							gettext_noop("128 is RM_EXPERIMENTAL_ID; every server that replays the WAL must use the same id."),
							&tc_wal_rmgr_id,
							RM_EXPERIMENTAL_ID,
							RM_MIN_CUSTOM_ID,
							RM_MAX_CUSTOM_ID,
							PGC_POSTMASTER,
							0,
							NULL, NULL, NULL);
	DefineCustomBoolVariable("typed_cache.wal_invalidation",
							 gettext_noop("Writes committed invalidations to the WAL, for hot standbys."),
							 gettext_noop("Off: standbys keep serving entries that the primary invalidated."),
							 &tc_wal_invalidation,
							 true,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);
	RegisterCustomRmgr((RmgrId) tc_wal_rmgr_id, &tc_rmgr);
}

/*
 * tc_wal_log_invalidation
 *		Write the record of a committing transaction's invalidations, if
 *		typed_cache.wal_invalidation is on and the WAL is read by standbys
 *		(wal_level replica or logical).  Called at pre-commit: it may fail,
 *		which aborts the transaction.
 */
void
tc_wal_log_invalidation(FullTransactionId fxid, bool escalated,
						bool all_slots,
						const TcOwnSlot *slots, int nslots,
						const TcOwnDelete *deletes, int ndeletes)
{
	uint8		info;
	xl_tc_invalidate xlrec;
	Size		keybytes = 0;
	StringInfoData body;

	if (!tc_wal_invalidation || !XLogStandbyInfoActive())
		return;

	for (int i = 0; i < ndeletes && !escalated; i++)
	{
		keybytes += sizeof(uint32) + deletes[i].len;
		if (keybytes > TC_WAL_MAX_KEY_BYTES)
			escalated = true;
	}

	xlrec.dbid = MyDatabaseId;
	xlrec.nslots_total = tc_coh->nslots;
	xlrec.fxid = U64FromFullTransactionId(fxid);
	xlrec.nslots = (escalated || all_slots) ? 0 : (uint32) nslots;
	xlrec.nkeys = escalated ? 0 : (uint32) ndeletes;
	info = escalated ? XLOG_TC_INVALIDATE_DATABASE :
		all_slots ? XLOG_TC_INVALIDATE_ALL_TAGS : XLOG_TC_INVALIDATE;

	initStringInfo(&body);
	appendBinaryStringInfo(&body, (char *) &xlrec, sizeof(xlrec));
	for (uint32 i = 0; i < xlrec.nslots; i++)
		appendBinaryStringInfo(&body, (char *) &slots[i].slot,
							   sizeof(uint32));
	for (uint32 i = 0; i < xlrec.nkeys; i++)
	{
		appendBinaryStringInfo(&body, (char *) &deletes[i].len,
							   sizeof(uint32));
		appendBinaryStringInfo(&body, deletes[i].key, deletes[i].len);
	}

	XLogBeginInsert();
	XLogRegisterData(body.data, body.len);
	(void) XLogInsert((RmgrId) tc_wal_rmgr_id, info);
	pfree(body.data);
	pg_atomic_fetch_add_u64(&tc_coh->wal_written, 1);
}

/*
 * tc_wal_header
 *		The record's header, copied out (the data need not be aligned).
 *		False if the record is too short to hold it.
 */
static bool
tc_wal_header(XLogReaderState *record, xl_tc_invalidate *xlrec)
{
	if (XLogRecGetDataLen(record) < sizeof(xl_tc_invalidate))
		return false;
	memcpy(xlrec, XLogRecGetData(record), sizeof(xl_tc_invalidate));
	return true;
}

/*
 * tc_wal_redo
 *		Apply a record (see the file header).  Never raises an error: a
 *		record that does not fit this server's slots, or that looks
 *		truncated, is applied as an escalated one.
 */
static void
tc_wal_redo(XLogReaderState *record)
{
	uint8		info = XLogRecGetInfo(record) & ~XLR_INFO_MASK;
	xl_tc_invalidate xlrec;
	const char *p;
	const char *end;
	bool		have_header;
	bool		ok;

	if (tc_coh == NULL)
		return;

	ok = have_header = tc_wal_header(record, &xlrec);
	p = XLogRecGetData(record) + sizeof(xl_tc_invalidate);
	end = XLogRecGetData(record) + XLogRecGetDataLen(record);

	/* check the body before applying any of it */
	if (ok && (info == XLOG_TC_INVALIDATE ||
			   (info == XLOG_TC_INVALIDATE_ALL_TAGS && xlrec.nslots == 0)) &&
		xlrec.nslots_total == tc_coh->nslots &&
		(Size) (end - p) >= (Size) xlrec.nslots * sizeof(uint32))
	{
		const char *q = p + (Size) xlrec.nslots * sizeof(uint32);

		for (uint32 i = 0; i < xlrec.nkeys && ok; i++)
		{
			uint32		len;

			if (end - q < (ssize_t) sizeof(uint32))
				ok = false;
			else
			{
				memcpy(&len, q, sizeof(uint32));
				q += sizeof(uint32);
				if (len == 0 || (Size) (end - q) < len)
					ok = false;
				else
					q += len;
			}
		}
		for (uint32 i = 0; i < xlrec.nslots && ok; i++)
		{
			uint32		slot;

			memcpy(&slot, p + (Size) i * sizeof(uint32), sizeof(uint32));
			if (slot >= tc_coh->nslots)
				ok = false;
		}
	}
	else
		ok = false;

	if (!ok)
	{
		/*
		 * Escalated, or not applicable slot by slot: every slot and the
		 * whole database (with no header, which the WAL's checksums make
		 * impossible, every slot up to the newest transaction id).
		 */
		if (have_header)
			tc_replay_database(xlrec.dbid, xlrec.fxid);
		else
			tc_replay_database(InvalidOid,
							   U64FromFullTransactionId(ReadNextFullTransactionId()));
		tc_cache_count_invalidations(0, 1);
	}
	else
	{
		/* slots first, then keys: as the primary's commit does */
		if (info == XLOG_TC_INVALIDATE_ALL_TAGS)
		{
			tc_replay_all_tags(xlrec.dbid, xlrec.fxid);
			tc_cache_count_invalidations(0, 1);
		}
		for (uint32 i = 0; i < xlrec.nslots; i++)
		{
			uint32		slot;

			memcpy(&slot, p, sizeof(uint32));
			p += sizeof(uint32);
			tc_slot_replay(&tc_coh_slots[slot], xlrec.fxid);
			tc_cache_count_invalidations(slot, 1);
		}
		for (uint32 i = 0; i < xlrec.nkeys; i++)
		{
			uint32		len;
			uint32		hash;
			uint32		shard;

			memcpy(&len, p, sizeof(uint32));
			p += sizeof(uint32);
			tc_cache_key_hash(xlrec.dbid, p, len, &hash, &shard);
			/* listed among the slots too, unless every tag was invalidated */
			if (info == XLOG_TC_INVALIDATE_ALL_TAGS)
				tc_slot_replay(&tc_coh_slots[tc_key_slot(hash)], xlrec.fxid);
			tc_slot_replay(tc_cache_key_summary(shard), xlrec.fxid);
			tc_cache_delete_key(xlrec.dbid, p, len, hash, shard);
			p += len;
		}
	}
	pg_atomic_fetch_add_u64(&tc_coh->wal_replayed, 1);
	pg_atomic_write_u64(&tc_coh->wal_replay_lsn, (uint64) record->ReadRecPtr);
}

/*
 * tc_wal_desc
 *		A record, readably: for pg_walinspect and messages about replay.
 */
static void
tc_wal_desc(StringInfo buf, XLogReaderState *record)
{
	uint8		info = XLogRecGetInfo(record) & ~XLR_INFO_MASK;
	xl_tc_invalidate xlrec;
	const char *p;
	const char *end;

	if (!tc_wal_header(record, &xlrec))
	{
		appendStringInfoString(buf, "truncated record");
		return;
	}
	appendStringInfo(buf, "db %u, xid " UINT64_FORMAT, xlrec.dbid,
					 xlrec.fxid);
	if (info == XLOG_TC_INVALIDATE_DATABASE)
	{
		appendStringInfoString(buf, ", every entry");
		return;
	}
	if (info == XLOG_TC_INVALIDATE_ALL_TAGS)
		appendStringInfo(buf, ", every tag, %u key%s", xlrec.nkeys,
						 xlrec.nkeys == 1 ? "" : "s");
	else
		appendStringInfo(buf, ", %u slot%s, %u key%s", xlrec.nslots,
						 xlrec.nslots == 1 ? "" : "s", xlrec.nkeys,
						 xlrec.nkeys == 1 ? "" : "s");
	p = XLogRecGetData(record) + sizeof(xl_tc_invalidate);
	end = XLogRecGetData(record) + XLogRecGetDataLen(record);
	if ((Size) (end - p) < (Size) xlrec.nslots * sizeof(uint32))
		return;
	p += (Size) xlrec.nslots * sizeof(uint32);
	for (uint32 i = 0; i < xlrec.nkeys; i++)
	{
		uint32		len;
		int			clip;

		if (i == TC_WAL_DESC_KEYS)
		{
			appendStringInfoString(buf, " ...");
			break;
		}
		if (end - p < (ssize_t) sizeof(uint32))
			break;
		memcpy(&len, p, sizeof(uint32));
		p += sizeof(uint32);
		if ((Size) (end - p) < len)
			break;
		/* at most 64 bytes of it, cut at a character boundary */
		clip = pg_mbcliplen(p, (int) len, 64);
		appendStringInfo(buf, "%s \"%.*s%s\"", i == 0 ? ":" : ",",
						 clip, p, clip < (int) len ? "..." : "");
		p += len;
	}
}

/*
 * tc_wal_identify
 *		The name of a record type.
 */
static const char *
tc_wal_identify(uint8 info)
{
	switch (info & ~XLR_INFO_MASK)
	{
		case XLOG_TC_INVALIDATE:
			return "INVALIDATE";
		case XLOG_TC_INVALIDATE_DATABASE:
			return "INVALIDATE_DATABASE";
		case XLOG_TC_INVALIDATE_ALL_TAGS:
			return "INVALIDATE_ALL_TAGS";
	}
	return NULL;
}

/*
 * tc_replay_all_tags
 *		A replayed invalidation of every tag of database dbid (a transaction
 *		past TC_MAX_OWN_SLOTS slots): its tags slot, counted as an
 *		escalation.  Cannot fail.
 */
static void
tc_replay_all_tags(Oid dbid, uint64 fxid)
{
	tc_slot_replay(&tc_db_slot(dbid)->tags, fxid);
	pg_atomic_fetch_add_u64(&tc_coh->escalations, 1);
}

/*
 * tc_replay_database
 *		A replayed escalated invalidation: database dbid's tags and keys
 *		slots, then every entry of it.  With no database (a record too short
 *		to name one), every slot of the server.  Cannot fail.
 */
static void
tc_replay_database(Oid dbid, uint64 fxid)
{
	if (dbid == InvalidOid)
	{
		for (uint32 s = 0; s < tc_coh->nslots; s++)
			tc_slot_replay(&tc_coh_slots[s], fxid);
		for (uint32 i = 0; i <= TC_DB_SLOTS; i++)
		{
			tc_slot_replay(&tc_coh_dbs[i].tags, fxid);
			tc_slot_replay(&tc_coh_dbs[i].keys, fxid);
		}
		for (uint32 sh = 0; sh < tc_cache_nshards(); sh++)
			tc_slot_replay(tc_cache_key_summary(sh), fxid);
	}
	else
	{
		tc_slot_replay(&tc_db_slot(dbid)->keys, fxid);
		tc_replay_all_tags(dbid, fxid);
	}
	tc_cache_clear_database(dbid);
}
