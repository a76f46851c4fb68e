/*-------------------------------------------------------------------------
 *
 * project_convert.c
 *	  Conversion of JSON scalars into SQL values for typed_cache.project().
 *
 * Conversions are strict: each SQL type accepts the JSON types that
 * represent it (a number for int, a string for text, ...) and anything else
 * is an error naming the path.  Where PostgreSQL would go through text
 * (numeric_out, then the type's input function), the common cases are
 * converted directly:
 *
 * - integers are read from the numeric's base-10000 digits;
 * - floats are computed exactly when the decimal mantissa and exponent are
 *	 small enough that one IEEE division or multiplication gives the
 *	 correctly rounded result, the same value strtod() yields;
 * - ISO 8601 dates and timestamps are parsed here, with the same meaning
 *	 as date_in/timestamp_in/timestamptz_in (a timestamp without zone read
 *	 into timestamptz is in the session's TimeZone); other forms go
 *	 through those input functions.
 *
 * The numeric decoding relies on the on-disk format of numeric (which
 * pg_upgrade keeps stable), declared in numeric.c and not in a header.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/project_convert.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/int.h"
#include "datatype/timestamp.h"
#include "mb/pg_wchar.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/float.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "project_convert.h"
#include "project_path.h"

/* The numeric on-disk header (see src/backend/utils/adt/numeric.c). */
#define TC_NUMERIC_SIGN_MASK		0xC000
#define TC_NUMERIC_NEG				0x4000
#define TC_NUMERIC_SHORT			0x8000
#define TC_NUMERIC_SPECIAL			0xC000
#define TC_NUMERIC_SHORT_SIGN_MASK	0x2000
#define TC_NUMERIC_SHORT_DSCALE_MASK 0x1F80
#define TC_NUMERIC_SHORT_DSCALE_SHIFT 7
#define TC_NUMERIC_SHORT_WEIGHT_SIGN 0x0040
#define TC_NUMERIC_SHORT_WEIGHT_MASK 0x003F
#define TC_NUMERIC_DSCALE_MASK		0x3FFF

typedef struct TcNumeric
{
	bool		special;		/* NaN or infinity */
	bool		negative;
	int			weight;			/* of the first base-10000 digit */
	int			dscale;
	int			ndigits;
	const int16 *digits;
} TcNumeric;

/*
 * tc_numeric_decode
 *		Split a numeric into sign, weight, display scale and digits.
 */
static pg_attribute_always_inline void
tc_numeric_decode(Numeric num, TcNumeric *out)
{
	const char *data = VARDATA_ANY(num);
	int			size = VARSIZE_ANY_EXHDR(num);
	uint16		header;
	int			hdrlen;

	memcpy(&header, data, sizeof(uint16));
	out->special = (header & TC_NUMERIC_SIGN_MASK) == TC_NUMERIC_SPECIAL;
	if (out->special)
		return;
	if ((header & TC_NUMERIC_SIGN_MASK) == TC_NUMERIC_SHORT)
	{
		out->negative = (header & TC_NUMERIC_SHORT_SIGN_MASK) != 0;
		out->dscale = (header & TC_NUMERIC_SHORT_DSCALE_MASK) >>
			TC_NUMERIC_SHORT_DSCALE_SHIFT;
		out->weight = (header & TC_NUMERIC_SHORT_WEIGHT_SIGN) ?
			(int) (~TC_NUMERIC_SHORT_WEIGHT_MASK | (header & TC_NUMERIC_SHORT_WEIGHT_MASK)) :
			(int) (header & TC_NUMERIC_SHORT_WEIGHT_MASK);
		hdrlen = sizeof(uint16);
	}
	else
	{
		int16		weight;

		out->negative = (header & TC_NUMERIC_SIGN_MASK) == TC_NUMERIC_NEG;
		out->dscale = header & TC_NUMERIC_DSCALE_MASK;
		memcpy(&weight, data + sizeof(uint16), sizeof(int16));
		out->weight = weight;
		hdrlen = sizeof(uint16) + sizeof(int16);
	}
	out->ndigits = (size - hdrlen) / sizeof(int16);
	out->digits = (const int16 *) (data + hdrlen);
}

typedef enum TcIntResult
{
	TC_INT_OK,
	TC_INT_FRACTION,
	TC_INT_OVERFLOW
} TcIntResult;

/*
 * tc_numeric_to_int64
 *		Convert a JSON number written without a fractional part into int64.
 *		1.0 counts as a fraction (as int4in("1.0") fails); 1e3 does not.
 */
static inline TcIntResult
tc_numeric_to_int64(Numeric num, int64 *result)
{
	TcNumeric	n;
	int64		val = 0;

	tc_numeric_decode(num, &n);
	if (n.special || n.dscale > 0)
		return TC_INT_FRACTION;
	if (n.ndigits == 0)
	{
		*result = 0;
		return TC_INT_OK;
	}
	if (n.weight > 4)
		return TC_INT_OVERFLOW;
	/* accumulate negatively so that INT64_MIN fits */
	for (int i = 0; i <= n.weight; i++)
	{
		int			d = i < n.ndigits ? n.digits[i] : 0;

		if (pg_mul_s64_overflow(val, 10000, &val) ||
			pg_sub_s64_overflow(val, d, &val))
			return TC_INT_OVERFLOW;
	}
	if (!n.negative)
	{
		if (val == PG_INT64_MIN)
			return TC_INT_OVERFLOW;
		val = -val;
	}
	*result = val;
	return TC_INT_OK;
}

/*
 * tc_numeric_small_decimal
 *		Write num as mant * 10^exp10 with mant as small as possible, when
 *		mant fits in int64.  Returns false for NaN, infinity and numbers
 *		with more than 16 significant digits.
 */
static bool
tc_numeric_small_decimal(Numeric num, int64 *mant, int *exp10, bool *negative)
{
	TcNumeric	n;
	int64		m = 0;
	int			e;

	tc_numeric_decode(num, &n);
	if (n.special || n.ndigits > 4)
		return false;
	for (int i = 0; i < n.ndigits; i++)
		m = m * 10000 + n.digits[i];
	e = 4 * (n.weight - n.ndigits + 1);
	while (m != 0 && m % 10 == 0)
	{
		m /= 10;
		e++;
	}
	*mant = m;
	*exp10 = e;
	*negative = n.negative;
	return true;
}

static const double tc_pow10[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

static const float tc_pow10f[] = {
	1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f, 1e6f, 1e7f, 1e8f, 1e9f, 1e10f
};

/*
 * tc_numeric_to_float8_exact
 *		Compute num as a double when one correctly rounded IEEE operation on
 *		exact operands does it: a mantissa up to 2^53 and a power of ten up
 *		to 10^22.  That is the value strtod() returns.  False when the
 *		general path must be taken.
 */
static bool
tc_numeric_to_float8_exact(Numeric num, double *result)
{
	int64		mant;
	int			e;
	bool		neg;
	double		d;

	if (!tc_numeric_small_decimal(num, &mant, &e, &neg) ||
		mant > INT64CONST(9007199254740992) || e > 22 || e < -22)
		return false;
	d = e >= 0 ? (double) mant * tc_pow10[e] : (double) mant / tc_pow10[-e];
	*result = neg ? -d : d;
	return true;
}

/*
 * tc_numeric_to_float8
 *		Convert num to float8 exactly as numeric_float8() does (the value
 *		strtod() gives for its decimal text), without numeric_out(): the
 *		digits are written as mantissa and exponent into a stack buffer.
 */
static double
tc_numeric_to_float8(Numeric num)
{
	TcNumeric	n;
	char		buf[128];
	char	   *p = buf;
	double		d;

	if (tc_numeric_to_float8_exact(num, &d))
		return d;
	tc_numeric_decode(num, &n);
	if (n.special || n.ndigits * 4 + 16 > (int) sizeof(buf))
		return DatumGetFloat8(DirectFunctionCall1(numeric_float8,
												  NumericGetDatum(num)));
	if (n.negative)
		*p++ = '-';
	for (int i = 0; i < n.ndigits; i++)
		p += sprintf(p, i == 0 ? "%d" : "%04d", n.digits[i]);
	sprintf(p, "e%d", 4 * (n.weight - n.ndigits + 1));
	return tc_float8in_internal(buf, NULL, "double precision", buf);
}

/*
 * tc_numeric_to_float4_exact
 *		The same in single precision: mantissa up to 2^24, 10^10 at most.
 */
static bool
tc_numeric_to_float4_exact(Numeric num, float4 *result)
{
	int64		mant;
	int			e;
	bool		neg;
	float4		f;

	if (!tc_numeric_small_decimal(num, &mant, &e, &neg) ||
		mant > 16777216 || e > 10 || e < -10)
		return false;
	f = e >= 0 ? (float4) mant * tc_pow10f[e] : (float4) mant / tc_pow10f[-e];
	*result = neg ? -f : f;
	return true;
}

/* ---------- ISO 8601 dates and timestamps ---------- */

static inline bool
tc_digits(const char *s, int n, int *val)
{
	int			v = 0;

	for (int i = 0; i < n; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*val = v;
	return true;
}

/*
 * tc_parse_iso_date
 *		Parse YYYY-MM-DD (years 1 to 9999) at s; false if it is not that.
 */
static bool
tc_parse_iso_date(const char *s, int len, struct pg_tm *tm)
{
	if (len < 10 || s[4] != '-' || s[7] != '-' ||
		!tc_digits(s, 4, &tm->tm_year) || !tc_digits(s + 5, 2, &tm->tm_mon) ||
		!tc_digits(s + 8, 2, &tm->tm_mday))
		return false;
	if (tm->tm_year < 1 || tm->tm_mon < 1 || tm->tm_mon > 12 ||
		tm->tm_mday < 1 ||
		tm->tm_mday > day_tab[isleap(tm->tm_year)][tm->tm_mon - 1])
		return false;
	return true;
}

/*
 * tc_parse_iso_timestamp
 *		Parse YYYY-MM-DD[(T| )HH:MM[:SS[.ffffff]]][Z|(+|-)HH[[:]MM]].
 *		*has_tz says whether a zone was given (*tz then holds it in seconds
 *		west of UTC, PostgreSQL's convention).  Returns false for any other
 *		form, including those PostgreSQL's parser accepts: the caller falls
 *		back to it.
 */
static bool
tc_parse_iso_timestamp(const char *s, int len, struct pg_tm *tm, fsec_t *fsec,
					   bool *has_tz, int *tz)
{
	int			p = 10;

	memset(tm, 0, sizeof(*tm));
	*fsec = 0;
	*has_tz = false;
	*tz = 0;
	if (!tc_parse_iso_date(s, len, tm))
		return false;
	if (p == len)
		return true;
	if (s[p] != 'T' && s[p] != ' ')
		return false;
	p++;
	if (len - p < 5 || s[p + 2] != ':' ||
		!tc_digits(s + p, 2, &tm->tm_hour) ||
		!tc_digits(s + p + 3, 2, &tm->tm_min))
		return false;
	p += 5;
	if (p < len && s[p] == ':')
	{
		if (len - p < 3 || !tc_digits(s + p + 1, 2, &tm->tm_sec))
			return false;
		p += 3;
		if (p < len && s[p] == '.')
		{
			int			ndig = 0;
			int			frac = 0;

			p++;
			while (p < len && s[p] >= '0' && s[p] <= '9')
			{
				if (ndig == 6)
					return false;	/* PostgreSQL rounds: let it */
				frac = frac * 10 + (s[p] - '0');
				ndig++;
				p++;
			}
			if (ndig == 0)
				return false;
			while (ndig++ < 6)
				frac *= 10;
			*fsec = frac;
		}
	}
	if (tm->tm_hour > 23 || tm->tm_min > 59 || tm->tm_sec > 59)
		return false;
	if (p == len)
		return true;
	if (s[p] == 'Z' && p + 1 == len)
	{
		*has_tz = true;
		return true;
	}
	if (s[p] == '+' || s[p] == '-')
	{
		int			sign = s[p] == '-' ? -1 : 1;
		int			hh;
		int			mm = 0;

		p++;
		if (len - p < 2 || !tc_digits(s + p, 2, &hh))
			return false;
		p += 2;
		if (p < len && s[p] == ':')
			p++;
		if (p < len)
		{
			if (len - p != 2 || !tc_digits(s + p, 2, &mm))
				return false;
			p += 2;
		}
		if (hh > 15 || mm > 59 || p != len)
			return false;
		*has_tz = true;
		*tz = -sign * (hh * SECS_PER_HOUR + mm * SECS_PER_MINUTE);
		return true;
	}
	return false;
}

/* ---------- messages ---------- */

/*
 * tc_json_kind
 *		The JSON type of v, as messages name it.
 */
static const char *
tc_json_kind(const JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			return "null";
		case jbvString:
			return "string";
		case jbvNumeric:
			return "number";
		case jbvBool:
			return "boolean";
		case jbvBinary:
			return JsonContainerIsArray(v->val.binary.data) ? "array" : "object";
		default:
			return "value";
	}
}

/*
 * tc_describe_value
 *		A short description of a JSON value for messages: its JSON type and,
 *		abbreviated, its text.
 */
char *
tc_describe_value(const JsonbValue *v)
{
	const char *kind = tc_json_kind(v);
	char	   *text;
	int			len;

	if (v->type == jbvNull)
		return pstrdup("null");
	if (v->type == jbvBool)
		return pstrdup(v->val.boolean ? "boolean true" : "boolean false");
	if (v->type == jbvNumeric)
		text = DatumGetCString(DirectFunctionCall1(numeric_out,
												   NumericGetDatum(v->val.numeric)));
	else
	{
		Jsonb	   *jb = JsonbValueToJsonb((JsonbValue *) v);

		text = JsonbToCString(NULL, &jb->root, VARSIZE(jb));
	}
	len = strlen(text);
	if (len > 40)
	{
		len = pg_mbcliplen(text, len, 37);
		text[len] = '\0';
		return psprintf("%s %s...", kind, text);
	}
	return psprintf("%s %s", kind, text);
}

/*
 * tc_expected
 *		What JSON a conversion accepts, for messages.
 */
static const char *
tc_expected(const TcConv *conv)
{
	switch (conv->kind)
	{
		case TC_INT2:
		case TC_INT4:
		case TC_INT8:
			return "a JSON number without a fractional part";
		case TC_FLOAT4:
		case TC_FLOAT8:
		case TC_NUMERIC:
			return "a JSON number";
		case TC_BOOL:
			return "a JSON boolean";
		case TC_ARRAY:
			return "a JSON array";
		case TC_COMPOSITE:
			return "a JSON object";
		case TC_JSON:
		case TC_JSONB:
			return "any JSON value";
		case TC_OTHER:
			if (conv->typcategory == TYPCATEGORY_NUMERIC)
				return "a JSON number or string";
			if (conv->typcategory == TYPCATEGORY_BOOLEAN)
				return "a JSON boolean or string";
			return "a JSON string";
		default:
			return "a JSON string";
	}
}

/*
 * tc_mismatch_error
 *		Raise 42804: the JSON type of v does not fit conv's type.
 */
void
tc_mismatch_error(TcState *st, const TcConv *conv, const JsonbValue *v)
{
	char	   *path = tc_path_string(st);
	char	   *typname = format_type_with_typemod(conv->typid, conv->typmod);
	const char *kind = tc_json_kind(v);

	st->own_error = true;
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("JSON %s cannot be projected into type %s", kind, typname),
			 errdetail("At %s: type %s expects %s, found %s.",
					   path, typname, tc_expected(conv), tc_describe_value(v)),
			 (conv->coerce || st->depth == 0) ? 0 :
			 errhint("Fix the document, or register the type with \"coerce\": true (for the type or this field) to convert as jsonb_populate_record does.")));
}

/* ---------- conversions ---------- */

/*
 * tc_json_text
 *		The text jsonb_populate_record would hand to an input function.
 */
static char *
tc_json_text(const JsonbValue *v)
{
	switch (v->type)
	{
		case jbvString:
			return pnstrdup(v->val.string.val, v->val.string.len);
		case jbvNumeric:
			return DatumGetCString(DirectFunctionCall1(numeric_out,
													   NumericGetDatum(v->val.numeric)));
		case jbvBool:
			return pstrdup(v->val.boolean ? "true" : "false");
		default:
			{
				Jsonb	   *jb = JsonbValueToJsonb((JsonbValue *) v);

				return JsonbToCString(NULL, &jb->root, VARSIZE(jb));
			}
	}
}

/*
 * tc_convert_via_input
 *		Convert through the text form of v and the type's input function
 *		(the "coerce" option, and types without a direct conversion).
 */
Datum
tc_convert_via_input(TcState *st, TcConv *conv, const JsonbValue *v)
{
	return InputFunctionCall(&conv->infunc, tc_json_text(v),
							 conv->typioparam, conv->typmod);
}

/*
 * tc_convert_enum
 *		An enum label to its OID.  Labels are looked up by enum_in() the
 *		first time (which also refuses values not yet safe to use) and
 *		remembered in the plan; renaming a label drops all plans.
 */
static Datum
tc_convert_enum(TcState *st, TcConv *conv, const JsonbValue *v)
{
	const char *label = v->val.string.val;
	int			len = v->val.string.len;
	Datum		result;
	MemoryContext oldcxt;

	for (int i = 0; i < conv->nlabels; i++)
	{
		TcEnumLabel *e = &conv->labels[i];

		if (e->len == len && memcmp(e->label, label, len) == 0)
			return ObjectIdGetDatum(e->oid);
	}
	result = tc_convert_via_input(st, conv, v);
	if (conv->nlabels < TC_ENUM_CACHE)
	{
		oldcxt = MemoryContextSwitchTo(conv->mcxt);
		if (conv->labels == NULL)
			conv->labels = palloc(sizeof(TcEnumLabel) * TC_ENUM_CACHE);
		conv->labels[conv->nlabels].label = pnstrdup(label, len);
		conv->labels[conv->nlabels].len = len;
		conv->labels[conv->nlabels].oid = DatumGetObjectId(result);
		conv->nlabels++;
		MemoryContextSwitchTo(oldcxt);
	}
	return result;
}

/*
 * tc_int_error
 *		Raise the error for a JSON number that is not a valid integer of the
 *		requested width.
 */
TC_NORETURN static void
tc_int_error(TcState *st, const TcConv *conv, const JsonbValue *v,
			 TcIntResult r)
{
	char	   *path = tc_path_string(st);
	char	   *typname = format_type_be(conv->typid);

	st->own_error = true;
	if (r == TC_INT_FRACTION)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("JSON number %s is not an integer",
						tc_json_text(v)),
				 errdetail("At %s: type %s expects %s, found %s.",
						   path, typname, tc_expected(conv),
						   tc_describe_value(v))));
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("value %s is out of range for type %s",
					tc_json_text(v), typname),
			 errdetail("At %s.", path)));
}

/*
 * tc_string_datum
 *		text Datum of a JSON string, copied.
 */
static inline Datum
tc_string_datum(const JsonbValue *v)
{
	return PointerGetDatum(cstring_to_text_with_len(v->val.string.val,
													v->val.string.len));
}

/*
 * tc_convert_fast
 *		The common conversions of tc_convert_scalar(), for a conversion
 *		without domain or coercion (conv->fast): integers, booleans,
 *		numerics without typmod and floats that convert exactly.  Returns
 *		false, having done nothing, for anything else and for every value
 *		that would raise an error: the general path deals with those.
 */
bool
tc_convert_fast(const TcConv *conv, const JsonbValue *v, Datum *result)
{
	int64		i64;
	double		d;
	float4		f4;

	switch (conv->kind)
	{
		case TC_INT4:
			if (v->type != jbvNumeric ||
				tc_numeric_to_int64(v->val.numeric, &i64) != TC_INT_OK ||
				i64 < PG_INT32_MIN || i64 > PG_INT32_MAX)
				return false;
			*result = Int32GetDatum((int32) i64);
			return true;
		case TC_INT8:
			if (v->type != jbvNumeric ||
				tc_numeric_to_int64(v->val.numeric, &i64) != TC_INT_OK)
				return false;
			*result = Int64GetDatum(i64);
			return true;
		case TC_INT2:
			if (v->type != jbvNumeric ||
				tc_numeric_to_int64(v->val.numeric, &i64) != TC_INT_OK ||
				i64 < PG_INT16_MIN || i64 > PG_INT16_MAX)
				return false;
			*result = Int16GetDatum((int16) i64);
			return true;
		case TC_BOOL:
			if (v->type != jbvBool)
				return false;
			*result = BoolGetDatum(v->val.boolean);
			return true;
		case TC_NUMERIC:
			if (v->type != jbvNumeric || conv->basetypmod >= 0)
				return false;
			*result = NumericGetDatum(v->val.numeric);
			return true;
		case TC_FLOAT8:
			if (v->type != jbvNumeric ||
				!tc_numeric_to_float8_exact(v->val.numeric, &d))
				return false;
			*result = Float8GetDatum(d);
			return true;
		case TC_FLOAT4:
			if (v->type != jbvNumeric ||
				!tc_numeric_to_float4_exact(v->val.numeric, &f4))
				return false;
			*result = Float4GetDatum(f4);
			return true;
		default:
			return false;
	}
}

/*
 * tc_convert_scalar
 *		Strict conversion of a non-null JSON value into a scalar type (or
 *		json/jsonb).  The caller has dealt with null, arrays and objects
 *		into array and composite types, and the coerce option.
 */
Datum
tc_convert_scalar(TcState *st, TcConv *conv, const JsonbValue *v)
{
	int64		i64;
	TcIntResult r;
	float4		f4;
	struct pg_tm tm;
	fsec_t		fsec;
	bool		has_tz;
	int			tz;

	switch (conv->kind)
	{
		case TC_INT2:
		case TC_INT4:
		case TC_INT8:
			if (v->type != jbvNumeric)
				break;
			r = tc_numeric_to_int64(v->val.numeric, &i64);
			if (r == TC_INT_OK)
			{
				if (conv->kind == TC_INT8)
					return Int64GetDatum(i64);
				if (conv->kind == TC_INT4 && i64 >= PG_INT32_MIN &&
					i64 <= PG_INT32_MAX)
					return Int32GetDatum((int32) i64);
				if (conv->kind == TC_INT2 && i64 >= PG_INT16_MIN &&
					i64 <= PG_INT16_MAX)
					return Int16GetDatum((int16) i64);
				r = TC_INT_OVERFLOW;
			}
			tc_int_error(st, conv, v, r);

		case TC_FLOAT8:
			if (v->type != jbvNumeric)
				break;
			return Float8GetDatum(tc_numeric_to_float8(v->val.numeric));

		case TC_FLOAT4:
			if (v->type != jbvNumeric)
				break;
			if (tc_numeric_to_float4_exact(v->val.numeric, &f4))
				return Float4GetDatum(f4);
			return DirectFunctionCall1(numeric_float4,
									   NumericGetDatum(v->val.numeric));

		case TC_NUMERIC:
			if (v->type != jbvNumeric)
				break;
			if (conv->basetypmod >= 0)
				return DirectFunctionCall2(numeric,
										   NumericGetDatum(v->val.numeric),
										   Int32GetDatum(conv->basetypmod));
			return NumericGetDatum(v->val.numeric);

		case TC_BOOL:
			if (v->type != jbvBool)
				break;
			return BoolGetDatum(v->val.boolean);

		case TC_TEXT:
			if (v->type != jbvString)
				break;
			return tc_string_datum(v);

		case TC_VARCHAR:
			if (v->type != jbvString)
				break;
			return DirectFunctionCall3(varchar, tc_string_datum(v),
									   Int32GetDatum(conv->basetypmod),
									   BoolGetDatum(false));

		case TC_BPCHAR:
			if (v->type != jbvString)
				break;
			return DirectFunctionCall3(bpchar, tc_string_datum(v),
									   Int32GetDatum(conv->basetypmod),
									   BoolGetDatum(false));

		case TC_DATE:
			if (v->type != jbvString)
				break;
			if (v->val.string.len == 10 &&
				tc_parse_iso_date(v->val.string.val, 10, &tm))
				return DateADTGetDatum(date2j(tm.tm_year, tm.tm_mon,
											  tm.tm_mday) -
									   POSTGRES_EPOCH_JDATE);
			return DirectFunctionCall1(date_in,
									   CStringGetDatum(tc_json_text(v)));

		case TC_TIMESTAMP:
		case TC_TIMESTAMPTZ:
			if (v->type != jbvString)
				break;
			if (tc_parse_iso_timestamp(v->val.string.val, v->val.string.len,
									   &tm, &fsec, &has_tz, &tz))
			{
				Timestamp	ts;
				bool		ok;

				if (conv->kind == TC_TIMESTAMPTZ)
				{
					if (!has_tz)
						tz = DetermineTimeZoneOffset(&tm, session_timezone);
					ok = tm2timestamp(&tm, fsec, &tz, &ts) == 0;
				}
				else
					ok = tm2timestamp(&tm, fsec, NULL, &ts) == 0;
				if (ok && IS_VALID_TIMESTAMP(ts))
				{
					if (conv->basetypmod >= 0)
						tc_adjust_timestamp(&ts, conv->basetypmod);
					return TimestampGetDatum(ts);
				}
			}
			return DirectFunctionCall3(conv->kind == TC_TIMESTAMPTZ ?
									   timestamptz_in : timestamp_in,
									   CStringGetDatum(tc_json_text(v)),
									   ObjectIdGetDatum(InvalidOid),
									   Int32GetDatum(conv->basetypmod));

		case TC_JSONB:
			return JsonbPGetDatum(JsonbValueToJsonb((JsonbValue *) v));

		case TC_JSON:
			{
				/* serialised as JSON: a string keeps its quotes */
				Jsonb	   *jb = JsonbValueToJsonb((JsonbValue *) v);

				return PointerGetDatum(cstring_to_text(JsonbToCString(NULL, &jb->root,
																	  VARSIZE(jb))));
			}

		case TC_OTHER:
			if (v->type == jbvString ||
				(v->type == jbvNumeric &&
				 conv->typcategory == TYPCATEGORY_NUMERIC) ||
				(v->type == jbvBool &&
				 conv->typcategory == TYPCATEGORY_BOOLEAN))
			{
				/* the base type's input: the caller checks the domain */
				if (conv->is_enum && v->type == jbvString)
					return tc_convert_enum(st, conv, v);
				return InputFunctionCall(&conv->baseinfunc, tc_json_text(v),
										 conv->baseioparam, conv->basetypmod);
			}
			break;

		case TC_ARRAY:
		case TC_COMPOSITE:
			break;
	}
	tc_mismatch_error(st, conv, v);
}
