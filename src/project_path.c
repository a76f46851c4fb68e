/*-------------------------------------------------------------------------
 *
 * project.c
 *	  typed_cache.project() and typed_cache.project_set(): jsonb documents
 *	  into composite types, through conversion plans cached per backend.
 *
 * A plan is compiled once per type per backend and kept in a hash table
 * keyed by type OID.  Each cache entry records the relations (composite
 * types' pg_class rows) its plan was built from, its own and those of every
 * nested composite; a relcache invalidation of any of them (ALTER TYPE,
 * DROP TYPE, and register()/unregister(), which send one on purpose) drops
 * the entry and bumps a generation counter that every caller compares
 * against before reusing the plan pointer it keeps in fn_extra.  Dropped
 * entries are freed only at transaction end, so a plan that is in use when
 * an invalidation arrives in the middle of a row stays readable.
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
 * that a typical row allocates nothing but its result; whatever else a row
 * allocates goes into a scratch context reset after the call.
 *
 * Errors name the JSON path of the value at fault.  Conversion errors
 * raised by PostgreSQL's own functions (out of range, domain checks, input
 * syntax) are caught once per call and re-thrown with that path added to
 * their detail.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/project.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"

#include "project_path.h"

/*
 * tc_path_string
 *		The current path as text: $, .key (quoted when not an identifier),
 *		[index].
 */
char *
tc_path_string(const TcState *st)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '$');
	for (int i = 0; i < st->depth && i < TC_MAX_DEPTH; i++)
	{
		const TcPathSeg *s = &st->seg[i];
		bool		plain = true;

		if (s->key == NULL)
		{
			appendStringInfo(&buf, "[%d]", s->index);
			continue;
		}
		for (int j = 0; j < s->keylen; j++)
		{
			unsigned char ch = (unsigned char) s->key[j];

			if (!(isalnum(ch) || ch == '_' || ch >= 0x80) ||
				(j == 0 && isdigit(ch)))
				plain = false;
		}
		if (s->keylen == 0)
			plain = false;
		appendStringInfoChar(&buf, '.');
		if (plain)
			appendBinaryStringInfo(&buf, s->key, s->keylen);
		else
		{
			appendStringInfoChar(&buf, '"');
			for (int j = 0; j < s->keylen; j++)
			{
				if (s->key[j] == '"' || s->key[j] == '\\')
					appendStringInfoChar(&buf, '\\');
				appendStringInfoChar(&buf, s->key[j]);
			}
			appendStringInfoChar(&buf, '"');
		}
	}
	if (st->depth > TC_MAX_DEPTH)
		appendStringInfoString(&buf, "...");
	return buf.data;
}

/*
 * tc_split_path
 *		Split a field path such as data.user.id (optionally starting with
 *		"$.", segments optionally in double quotes to contain dots) into
 *		its keys.  Returns false if the path is malformed.
 */
bool
tc_split_path(const char *path, char ***segs, int **lens, int *nsegs)
{
	const char *p = path;
	int			max = 1;
	int			n = 0;

	for (const char *q = path; *q; q++)
		if (*q == '.')
			max++;
	*segs = palloc(sizeof(char *) * max);
	*lens = palloc(sizeof(int) * max);

	if (p[0] == '$' && p[1] == '.')
		p += 2;
	else if (p[0] == '$' && p[1] == '\0')
		return false;

	for (;;)
	{
		StringInfoData buf;

		initStringInfo(&buf);
		if (*p == '"')
		{
			p++;
			while (*p && *p != '"')
			{
				if (*p == '\\' && p[1])
					p++;
				appendStringInfoChar(&buf, *p++);
			}
			if (*p != '"')
				return false;
			p++;
		}
		else
		{
			while (*p && *p != '.')
			{
				if (*p == '"' || *p == '[' || *p == ']')
					return false;
				appendStringInfoChar(&buf, *p++);
			}
		}
		if (buf.len == 0 || n == max)
			return false;
		(*segs)[n] = buf.data;
		(*lens)[n] = buf.len;
		n++;
		if (*p == '\0')
			break;
		if (*p != '.')
			return false;
		p++;
	}
	*nsegs = n;
	return true;
}
