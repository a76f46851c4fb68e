/*-------------------------------------------------------------------------
 *
 * project_path.c
 *	  JSON paths in projection: the path of the value being converted, as
 *	  error messages show it, and the parsing of a field's registered
 *	  path into its keys.
 *
 * The executor records the path as it descends (tc_path_push_key() and
 * tc_path_push_index(), inline in project_path.h) and only an error turns
 * it into text.  A registered path (the "path" option of a field) is split
 * into keys once, when the options are parsed and when the plan is
 * compiled.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/project_path.c
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
