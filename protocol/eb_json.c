/*
 * eb_json.c — strict JSON parsing and canonical JSON (PROTOCOL.md 1.1).
 *
 * cJSON 1.7.15 is lenient: it accepts leading zeros, raw control characters
 * in strings, invalid UTF-8, lone surrogate escapes, any byte <= 0x20 as
 * whitespace, duplicate member names, and it silently truncates numbers longer
 * than 63 characters. So a full RFC 8259 grammar check runs first (bounded by
 * the depth limit, so its recursion is bounded too); cJSON then only builds
 * the tree of a text already known to be valid, and a walk of that tree
 * rejects duplicate names (GEN-6) and numbers outside the double range.
 */
#include "eb_json.h"
#include "eb_buf.h"
#include "eb_utf8.h"

#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cJSON's own nesting limit; deeper limits cannot be honoured. */
#define DEPTH_CAP 1000
/* cJSON copies a number into a 64-byte buffer and silently drops the rest. */
#define NUMBER_MAX_CHARS 63
/* 2^53: integers up to this magnitude are exact in a double. */
#define TWO_POW_53 9007199254740992.0

/* ---- UTF-8 ---------------------------------------------------------------- */


bool eb_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;

	if (!s)
		return len == 0;
	while (i < len) {
		/* ASCII a word at a time: most text is */
		if (len - i >= 8) {
			uint64_t x;

			memcpy(&x, p + i, 8);
			if (!(x & 0x8080808080808080ULL)) {
				i += 8;
				continue;
			}
		}
		n = eb_utf8_seq_len(p + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

/* ---- grammar check ---------------------------------------------------------- */

typedef struct scan {
	const unsigned char *start, *p, *end;
	int depth, max_depth;
	size_t values;   /* values in the text (a valid one): nodes of its tree */
	const char *why; /* static reason of the first failure */
} scan;

static bool fail(scan *sc, const char *why)
{
	if (!sc->why)
		sc->why = why;
	return false;
}

/* Byte classes of the grammar check, one table lookup a byte: the scan
 * runs on every request body and message, and under the fuzzer's
 * instrumentation each comparison is a call (four per byte of whitespace
 * and five per byte of a string were most of a parse). */
#define CL_WS 1     /* ' ' '\t' '\n' '\r' */
#define CL_PLAIN 2  /* string byte taken as is: 0x20..0x7F but '"' '\\' */
#define CL_DIGIT 4  /* '0'..'9' */
/* Rows of 16 bytes from 0x00; 0x80 and above are 0 (UTF-8 is checked
 * sequence by sequence). */
static const unsigned char json_class[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	3, 2, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};

/* The grammar check walks the text with a pointer of its own, in one loop
 * over values with a stack of open containers (a bit each), instead of
 * mutually recursive functions that kept the position in *sc: under the
 * fuzzers' instrumentation every load and store through sc was an ASan
 * check and every call a frame, at each byte outside strings and digits.
 * Failures stop at the same byte, for the same reason, as before. */

static const unsigned char *skip_ws(const unsigned char *p,
				    const unsigned char *end)
{
	while (p < end && (json_class[*p] & CL_WS))
		p++;
	return p;
}

/* Most values have no whitespace before them: no call for those. */
#define SKIP_WS(p, end) \
	do { \
		if ((p) < (end) && (json_class[*(p)] & CL_WS)) \
			(p) = skip_ws((p), (end)); \
	} while (0)

/* The failure at p: sc->p and sc->why tell it; NULL for the callers. */
static const unsigned char *fail_at(scan *sc, const unsigned char *p,
				    const char *why)
{
	sc->p = p;
	fail(sc, why);
	return NULL;
}

static int hex_val(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Reads "\uXXXX" at p (p at the backslash); -1 if it is not one. */
static long read_u_escape(const scan *sc, const unsigned char *p)
{
	long v = 0;
	int i, h;

	if (sc->end - p < 6 || p[0] != '\\' || p[1] != 'u')
		return -1;
	for (i = 2; i < 6; i++) {
		h = hex_val(p[i]);
		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

/* \uXXXX escapes at p: a high surrogate must be followed by a low one, a
 * low one must not stand alone (cJSON would produce invalid UTF-8 from
 * either), and U+0000 is refused because cJSON strings are NUL-terminated
 * and would be silently cut. The byte after the escape(s), or NULL. */
static const unsigned char *scan_u_escape(scan *sc, const unsigned char *p)
{
	long cp = read_u_escape(sc, p), lo;

	if (cp < 0)
		return fail_at(sc, p, "bad \\u escape");
	if (cp == 0)
		return fail_at(sc, p, "\\u0000 is not supported");
	if (cp >= 0xDC00 && cp <= 0xDFFF)
		return fail_at(sc, p, "lone low surrogate escape");
	p += 6;
	if (cp < 0xD800 || cp > 0xDBFF)
		return p;
	lo = read_u_escape(sc, p);
	if (lo < 0xDC00 || lo > 0xDFFF)
		return fail_at(sc, p, "lone high surrogate escape");
	return p + 6;
}

/* The escape at p (at the backslash): the byte after it, or NULL. */
static const unsigned char *scan_escape(scan *sc, const unsigned char *p)
{
	if (sc->end - p < 2)
		return fail_at(sc, p, "unterminated string");
	switch (p[1]) {
	case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r':
	case 't':
		return p + 2;
	case 'u':
		return scan_u_escape(sc, p);
	default:
		return fail_at(sc, p, "bad escape in string");
	}
}

/* The bytes of the word x that a JSON string cannot hold as they are:
 * below 0x20, '"' or '\\'. Their top bits are set in the result (and a
 * word without such a byte gives 0: the "has a zero byte" test,
 * (x - 0x01..) & ~x & 0x80.., borrows only from a byte that is found).
 * One load and no indexed access, each of which is a call under the
 * fuzzer's instrumentation. */
static uint64_t special8(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
	uint64_t quote = x ^ (ones * '"'), bslash = x ^ (ones * '\\');

	return (((x - ones * 0x20) & ~x) | ((quote - ones) & ~quote) |
		((bslash - ones) & ~bslash)) & high;
}

/* Whether the 8 bytes at p are all plain string bytes (CL_PLAIN): none is
 * special or >= 0x80 (UTF-8, checked sequence by sequence). */
static bool plain8(const unsigned char *p)
{
	uint64_t x;

	memcpy(&x, p, 8);
	return ((x & 0x8080808080808080ULL) | special8(x)) == 0;
}

/* The string whose opening quote is at p: the byte after its closing
 * quote, or NULL. */
static const unsigned char *scan_string(scan *sc, const unsigned char *p)
{
	const unsigned char *end = sc->end;
	unsigned char c;
	size_t n;

	p++; /* opening quote */
	while (p < end) {
		/* Runs of plain ASCII eight bytes a test, then one by one. */
		while (end - p >= 8 && plain8(p))
			p += 8;
		while (p < end && (json_class[*p] & CL_PLAIN))
			p++;
		if (p == end)
			break;
		c = *p;
		if (c == '"')
			return p + 1;
		if (c == '\\') {
			p = scan_escape(sc, p);
			if (!p)
				return NULL;
			continue;
		}
		if (c < 0x20)
			return fail_at(sc, p, "control character in string");
		n = eb_utf8_seq_len(p, (size_t)(end - p));
		if (n == 0)
			return fail_at(sc, p, "invalid UTF-8");
		p += n;
	}
	return fail_at(sc, p, "unterminated string");
}

/* Whether the 8 bytes at p are all '0'..'9': each has high nibble 3, and
 * still has it after adding 6 (0x3A..0x3F carry into the high nibble; a
 * byte that carries into the next has failed the first test already). */
static bool digits8(const unsigned char *p)
{
	const uint64_t nib = 0xF0F0F0F0F0F0F0F0ULL, three = 0x3030303030303030ULL;
	uint64_t x;

	memcpy(&x, p, 8);
	return (((x & nib) ^ three) | (((x + 0x0606060606060606ULL) & nib) ^ three)) == 0;
}

/* One or more digits at p: the byte after them, or NULL. */
static const unsigned char *scan_digits(scan *sc, const unsigned char *p)
{
	const unsigned char *end = sc->end;

	if (!(p < end && (json_class[*p] & CL_DIGIT)))
		return fail_at(sc, p, "bad number");
	while (end - p >= 8 && digits8(p))
		p += 8;
	while (p < end && (json_class[*p] & CL_DIGIT))
		p++;
	return p;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? at p: the byte after it,
 * or NULL. */
static const unsigned char *scan_number(scan *sc, const unsigned char *p)
{
	const unsigned char *begin = p, *end = sc->end;

	if (*p == '-')
		p++;
	if (p < end && *p == '0')
		p++;
	else if (!(p = scan_digits(sc, p)))
		return NULL;
	if (p < end && *p == '.' && !(p = scan_digits(sc, p + 1)))
		return NULL;
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (!(p = scan_digits(sc, p)))
			return NULL;
	}
	if (p - begin > NUMBER_MAX_CHARS)
		return fail_at(sc, p, "number literal longer than 63 characters");
	return p;
}

/* A scalar at p (p < end): the byte after it, or NULL. */
static const unsigned char *scan_scalar(scan *sc, const unsigned char *p)
{
	const char *word;
	size_t n;

	switch (*p) {
	case '"': return scan_string(sc, p);
	case 't': word = "true"; n = 4; break;
	case 'f': word = "false"; n = 5; break;
	case 'n': word = "null"; n = 4; break;
	default:
		if (*p == '-' || (json_class[*p] & CL_DIGIT))
			return scan_number(sc, p);
		return fail_at(sc, p, "unexpected character");
	}
	if ((size_t)(sc->end - p) < n || memcmp(p, word, n) != 0)
		return fail_at(sc, p, "unexpected character");
	return p + n;
}

/* What the check looks for next. */
enum scan_state { SC_VALUE, SC_AFTER_VALUE, SC_NAME };

/* The whole text: one value between optional whitespace. Bit d of objs is
 * set when the container at depth d is an object (clear: an array). */
static bool scan_text(scan *sc)
{
	const unsigned char *p = sc->start, *end = sc->end;
	uint64_t objs[(DEPTH_CAP + 63) / 64];
	enum scan_state st = SC_VALUE;
	int depth = 0;
	bool obj = false;
	unsigned char c;

	SKIP_WS(p, end);
	if (p >= end)
		return fail_at(sc, p, "empty body") != NULL;
	for (;;) {
		switch (st) {
		case SC_VALUE:
			if (p >= end)
				return fail_at(sc, p, "unexpected end of text") != NULL;
			sc->values++;
			c = *p;
			if (c != '{' && c != '[') {
				if (!(p = scan_scalar(sc, p)))
					return false;
				st = SC_AFTER_VALUE;
				break;
			}
			if (depth >= sc->max_depth)
				return fail_at(sc, p, "nesting deeper than the limit") != NULL;
			obj = c == '{';
			if (obj)
				objs[depth / 64] |= (uint64_t)1 << (depth % 64);
			else
				objs[depth / 64] &= ~((uint64_t)1 << (depth % 64));
			depth++;
			p++;
			SKIP_WS(p, end);
			if (p < end && *p == (obj ? '}' : ']')) {
				p++;
				depth--;
				st = SC_AFTER_VALUE;
			} else {
				st = obj ? SC_NAME : SC_VALUE;
			}
			break;
		case SC_AFTER_VALUE:
			SKIP_WS(p, end);
			if (depth == 0) {
				if (p != end)
					return fail_at(sc, p, "data after the JSON value") != NULL;
				sc->p = p;
				return true;
			}
			obj = (objs[(depth - 1) / 64] >> ((depth - 1) % 64)) & 1;
			if (p < end && *p == ',') {
				p++;
				SKIP_WS(p, end);
				st = obj ? SC_NAME : SC_VALUE;
			} else if (p < end && *p == (obj ? '}' : ']')) {
				p++;
				depth--;
			} else {
				return fail_at(sc, p, obj ? "expected ',' or '}'"
							 : "expected ',' or ']'") != NULL;
			}
			break;
		case SC_NAME:
			if (p >= end || *p != '"')
				return fail_at(sc, p, "expected a member name") != NULL;
			if (!(p = scan_string(sc, p)))
				return false;
			SKIP_WS(p, end);
			if (p >= end || *p != ':')
				return fail_at(sc, p, "expected ':'") != NULL;
			p++;
			SKIP_WS(p, end);
			st = SC_VALUE;
			break;
		}
	}
}

/* ---- tree checks ------------------------------------------------------------ */

static int cmp_name_ptr(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;

	return strcmp(x, y);
}

/* Objects of up to this many members sort their names (or members, when
 * printed) in an array on the stack: most protocol objects are small, and
 * a malloc per object was a tenth of a parse under ASan. */
#define SMALL_OBJECT 16

/* Insertion sort of a few names: qsort's set-up and its call back per
 * compare cost more than the compares of the small objects of most bodies
 * (2-16 members). Any sort finds the same smallest duplicated name. */
static void sort_small(const char **names, size_t n)
{
	const char *x;
	size_t i, j;

	for (i = 1; i < n; i++) {
		x = names[i];
		for (j = i; j > 0 && strcmp(names[j - 1], x) > 0; j--)
			names[j] = names[j - 1];
		names[j] = x;
	}
}

/* Sorting the names makes the duplicate check O(n log n): a 1 MiB body can
 * hold ~100k members. Sets *dup to a duplicated name or NULL. */
static eb_rc find_dup_name(const cJSON *obj, const char **dup)
{
	const cJSON *c;
	const char *small[SMALL_OBJECT], **names = small;
	size_t n = 0, i;

	*dup = NULL;
	for (c = obj->child; c; c = c->next)
		n++;
	if (n < 2)
		return EB_OK;
	if (n > SMALL_OBJECT && !(names = malloc(n * sizeof(*names))))
		return EB_ERR_NOMEM;
	i = 0;
	for (c = obj->child; c; c = c->next)
		names[i++] = c->string ? c->string : "";
	if (n <= SMALL_OBJECT)
		sort_small(names, n);
	else
		qsort(names, n, sizeof(*names), cmp_name_ptr);
	for (i = 1; i < n && !*dup; i++)
		if (strcmp(names[i - 1], names[i]) == 0)
			*dup = names[i];
	if (names != small)
		free(names);
	return EB_OK;
}

static eb_rc check_tree(const cJSON *v, eb_err *err)
{
	const cJSON *c;
	const char *dup;
	eb_rc rc;

	if (cJSON_IsNumber(v) && !isfinite(v->valuedouble))
		return eb_err_set(err, EB_ERR_JSON, "GEN-1", "",
				  EB_CODE_INVALID_JSON, -1,
				  "number outside the range of a double");
	if (cJSON_IsObject(v)) {
		rc = find_dup_name(v, &dup);
		if (rc != EB_OK)
			return rc;
		if (dup)
			return eb_err_set(err, EB_ERR_JSON, "GEN-6", "",
					  EB_CODE_INVALID_JSON, -1,
					  "duplicate member name \"%.64s\"",
					  dup);
	}
	for (c = v->child; c; c = c->next) {
		rc = check_tree(c, err);
		if (rc != EB_OK)
			return rc;
	}
	return EB_OK;
}

/* Defence in depth: cJSON must have stopped where the grammar check did. */
static bool ends_in_ws(scan *sc, const char *end)
{
	if (!end || (const unsigned char *)end < sc->start ||
	    (const unsigned char *)end > sc->end)
		return false;
	sc->p = skip_ws((const unsigned char *)end, sc->end);
	return sc->p == sc->end;
}

/* ---- trees in one block ------------------------------------------------------ */

/* A tree built from a text the grammar check passed, as cJSON would build
 * it (the same nodes, types, strings, numbers and links), but its nodes
 * and strings carved from one allocation: the root node, then the other
 * nodes, then the strings. */
typedef struct builder {
	const unsigned char *p, *end;
	cJSON *next_node;
	char *next_str;
	char decimal_point; /* the locale's, as cJSON's strtod sees it */
} builder;

static cJSON *new_node(builder *b)
{
	cJSON *n = b->next_node++;

	memset(n, 0, sizeof(*n));
	return n;
}

static void build_ws(builder *b)
{
	while (json_class[*b->p] & CL_WS)
		b->p++;
}

static unsigned hex4(const unsigned char *p)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < 4; i++)
		v = v * 16 + (unsigned)hex_val(p[i]);
	return v;
}

/* The string at b->p (its opening quote), unescaped and NUL-terminated
 * in the block; the grammar check has passed its escapes and surrogates. */
static char *build_string(builder *b)
{
	const unsigned char *p = b->p + 1, *run;
	char *out = b->next_str, *o = out;
	unsigned long cp;
	uint64_t x;
	int k;

	for (;;) {
		run = p;
		while (b->end - p >= 8) {
			memcpy(&x, p, 8);
			if (special8(x))
				break;
			p += 8;
		}
		while (*p != '"' && *p != '\\')
			p++;
		memcpy(o, run, (size_t)(p - run));
		o += p - run;
		if (*p == '"')
			break;
		switch (p[1]) {
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u':
			cp = hex4(p + 2);
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				cp = 0x10000 + (((cp & 0x3FF) << 10) | (hex4(p + 8) & 0x3FF));
				p += 6;
			}
			p += 4;
			k = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
			if (k == 1) {
				*o = (char)cp;
			} else {
				o[0] = (char)((cp >> (6 * (k - 1))) | (0xF00u >> k));
				for (int i = 1; i < k; i++)
					o[i] = (char)(0x80 | ((cp >> (6 * (k - 1 - i))) & 0x3F));
			}
			o += k;
			break;
		default: /* '"' '\\' '/' */
			*o++ = (char)p[1];
		}
		p += 2;
	}
	*o++ = '\0';
	b->next_str = o;
	b->p = p + 1;
	return out;
}

static void build_number(builder *b, cJSON *item)
{
	char num[NUMBER_MAX_CHARS + 1], *after = NULL;
	size_t i = 0;
	double d;

	for (; i < NUMBER_MAX_CHARS && b->p + i < b->end; i++) {
		unsigned char c = b->p[i];

		if (c == '.')
			num[i] = b->decimal_point;
		else if ((json_class[c] & CL_DIGIT) || c == '-' || c == '+' ||
			 c == 'e' || c == 'E')
			num[i] = (char)c;
		else
			break;
	}
	num[i] = '\0';
	d = strtod(num, &after);
	item->type = cJSON_Number;
	item->valuedouble = d;
	if (d >= INT_MAX)
		item->valueint = INT_MAX;
	else if (d <= (double)INT_MIN)
		item->valueint = INT_MIN;
	else
		item->valueint = (int)d;
	b->p += after - num;
}

/* The value at b->p (no whitespace before it) into item. */
static void build_value(builder *b, cJSON *item)
{
	cJSON *head = NULL, *last = NULL, *c;
	unsigned char open = *b->p;

	switch (open) {
	case '"':
		item->type = cJSON_String;
		item->valuestring = build_string(b);
		return;
	case 't':
		item->type = cJSON_True;
		item->valueint = 1;
		b->p += 4;
		return;
	case 'f':
		item->type = cJSON_False;
		b->p += 5;
		return;
	case 'n':
		item->type = cJSON_NULL;
		b->p += 4;
		return;
	case '{':
	case '[':
		break;
	default:
		build_number(b, item);
		return;
	}
	item->type = open == '{' ? cJSON_Object : cJSON_Array;
	b->p++;
	build_ws(b);
	while (*b->p != (open == '{' ? '}' : ']')) {
		c = new_node(b);
		if (last) {
			last->next = c;
			c->prev = last;
		} else {
			head = c;
		}
		last = c;
		if (open == '{') {
			c->string = build_string(b);
			build_ws(b);
			b->p++; /* ':' */
			build_ws(b);
		}
		build_value(b, c);
		build_ws(b);
		if (*b->p == ',') {
			b->p++;
			build_ws(b);
		}
	}
	b->p++;
	if (head)
		head->prev = last;
	item->child = head;
}

/* The tree of the text sc checked, in one allocation; NULL when out of
 * memory. *end: where the value ended. */
static cJSON *build_block(const scan *sc, const char **end)
{
	size_t len = (size_t)(sc->end - sc->start);
	builder b;
	cJSON *root;

	/* strings unescaped are no longer than their text, quotes included */
	if (sc->values > (SIZE_MAX - len - 1) / sizeof(cJSON))
		return NULL;
	root = malloc(sc->values * sizeof(cJSON) + len + 1);
	if (!root)
		return NULL;
	b.p = sc->start;
	b.end = sc->end;
	b.next_node = root;
	b.next_str = (char *)(root + sc->values);
	b.decimal_point = *localeconv()->decimal_point;
	build_ws(&b);
	build_value(&b, new_node(&b));
	*end = (const char *)b.p;
	return root;
}

/* "invalid JSON at byte <at>: <why>", without a printf: most fuzz inputs
 * and many bodies are refused here, and vsnprintf (its interceptor parsing
 * the format under ASan) was a sixth of a fuzz target's time. */
static eb_rc invalid_at(eb_err *err, size_t at, const char *why)
{
	char head[48], rev[24];
	size_t n = sizeof("invalid JSON at byte ") - 1, k = 0;

	memcpy(head, "invalid JSON at byte ", n);
	do {
		rev[k++] = (char)('0' + at % 10);
		at /= 10;
	} while (at);
	while (k)
		head[n++] = rev[--k];
	head[n] = '\0';
	return eb_err_set(err, EB_ERR_JSON, "GEN-1", "", EB_CODE_INVALID_JSON,
			  -1, "%s: %s", head, why ? why : "(null)");
}

/* eb_json_parse and eb_json_parse_block: block picks the tree's storage. */
static eb_rc parse(const char *buf, size_t len, int max_depth, bool block,
		   cJSON **out, eb_err *err)
{
	scan sc;
	cJSON *root;
	const char *end = NULL;
	eb_rc rc;

	if (!out || (!buf && len) || max_depth < 0)
		return eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1,
				  "eb_json_parse: bad argument");
	*out = NULL;
	if (max_depth > DEPTH_CAP)
		max_depth = DEPTH_CAP;
	memset(&sc, 0, sizeof(sc));
	sc.start = (const unsigned char *)(buf ? buf : "");
	sc.p = sc.start;
	sc.end = sc.start + len;
	sc.max_depth = max_depth;
	if (!scan_text(&sc))
		return invalid_at(err, (size_t)(sc.p - sc.start), sc.why);
	root = block ? build_block(&sc, &end)
		     : cJSON_ParseWithLengthOpts(buf, len, &end, 0);
	/* The text passed the full grammar check, so a refusal here can only
	 * be an allocation failure. */
	if (!root)
		return eb_err_set(err, EB_ERR_NOMEM, NULL, NULL, NULL, -1,
				  "out of memory parsing JSON");
	if (!ends_in_ws(&sc, end)) {
		rc = eb_err_set(err, EB_ERR_JSON, "GEN-1", "",
				EB_CODE_INVALID_JSON, -1,
				"data after the JSON value");
		goto fail;
	}
	rc = check_tree(root, err);
	if (rc != EB_OK) {
		if (rc == EB_ERR_NOMEM)
			eb_err_set(err, rc, NULL, NULL, NULL, -1,
				   "out of memory parsing JSON");
		goto fail;
	}
	*out = root;
	return EB_OK;
fail:
	if (block)
		free(root);
	else
		cJSON_Delete(root);
	return rc;
}

eb_rc eb_json_parse(const char *buf, size_t len, int max_depth, cJSON **out,
		    eb_err *err)
{
	return parse(buf, len, max_depth, false, out, err);
}

eb_rc eb_json_parse_block(const char *buf, size_t len, int max_depth,
			  cJSON **out, eb_err *err)
{
	return parse(buf, len, max_depth, true, out, err);
}

void eb_json_block_free(cJSON *root)
{
	free(root);
}

int eb_json_depth(const cJSON *v)
{
	const cJSON *c;
	int d, best = 0;

	if (!v || !(cJSON_IsArray(v) || cJSON_IsObject(v)))
		return 0;
	for (c = v->child; c; c = c->next) {
		d = eb_json_depth(c);
		if (d > best)
			best = d;
	}
	return best + 1;
}

/* ---- canonical serialization ----------------------------------------------- */

typedef struct printer {
	eb_buf out;
	bool canonical; /* sort members, 17 digits; else keep order, shortest */
	bool count_only; /* only count the bytes (eb_json_canonical_size) */
	size_t count;
} printer;

static void emit(printer *b, const void *s, size_t n)
{
	if (b->count_only)
		b->count += n;
	else
		eb_buf_put(&b->out, s, n);
}

/* RFC 8259 minimal escaping: only '"', '\\' and C0 controls. Runs of
 * bytes kept as they are go out in one piece, skipped a word at a time. */
static void put_string(printer *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	const unsigned char *end = p + strlen((const char *)p), *run = p;
	char esc[7];
	uint64_t x;

	emit(b, "\"", 1);
	for (; p < end; p++) {
		while (end - p >= 8) {
			memcpy(&x, p, 8);
			if (special8(x))
				break;
			p += 8;
		}
		if (p == end)
			break;
		if (*p >= 0x20 && *p != '"' && *p != '\\')
			continue;
		emit(b, (const char *)run, (size_t)(p - run));
		run = p + 1;
		switch (*p) {
		case '"': emit(b, "\\\"", 2); break;
		case '\\': emit(b, "\\\\", 2); break;
		case '\b': emit(b, "\\b", 2); break;
		case '\f': emit(b, "\\f", 2); break;
		case '\n': emit(b, "\\n", 2); break;
		case '\r': emit(b, "\\r", 2); break;
		case '\t': emit(b, "\\t", 2); break;
		default:
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[*p >> 4];
			esc[5] = hex[*p & 15];
			emit(b, esc, 6);
		}
	}
	emit(b, (const char *)run, (size_t)(end - run));
	emit(b, "\"", 1);
}

/* Shortest of 15, 16, 17 significant digits that reads back as d. */
static int shortest_double(char *tmp, size_t cap, double d)
{
	int prec, n = 0;

	for (prec = 15; prec <= 17; prec++) {
		n = snprintf(tmp, cap, "%.*g", prec, d);
		if (n > 0 && (size_t)n < cap && strtod(tmp, NULL) == d)
			break;
	}
	return n;
}

/* The decimal digits of v (|v| <= 2^53) into tmp, which has room for 17
 * digits and a sign; returns their count. snprintf("%lld") was a tenth of
 * the instructions of a sync request's parse, encode and compare. */
static int int_digits(char *tmp, long long v)
{
	char rev[20];
	int n = 0, o = 0;
	unsigned long long u = v < 0 ? (unsigned long long)-v : (unsigned long long)v;

	do {
		rev[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		tmp[o++] = '-';
	while (n)
		tmp[o++] = rev[--n];
	return o;
}

static void put_number(printer *b, double d)
{
	char tmp[40];
	int n;

	if (!isfinite(d)) {
		emit(b, "null", 4); /* what cJSON prints; parse never yields it */
		return;
	}
	if (d == floor(d) && fabs(d) <= TWO_POW_53)
		n = int_digits(tmp, (long long)d);
	else if (b->canonical)
		n = snprintf(tmp, sizeof(tmp), "%.17g", d);
	else
		n = shortest_double(tmp, sizeof(tmp), d);
	if (n > 0 && (size_t)n < sizeof(tmp))
		emit(b, tmp, (size_t)n);
	else
		b->out.oom = true;
}

static void put_value(printer *b, const cJSON *v);

static int cmp_member(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;

	return strcmp(x->string ? x->string : "", y->string ? y->string : "");
}

static void put_object(printer *b, const cJSON *v)
{
	const cJSON *c, *small[SMALL_OBJECT], **m = small;
	size_t n = 0, i;

	for (c = v->child; c; c = c->next)
		n++;
	if (n == 0) {
		emit(b, "{}", 2);
		return;
	}
	if (n > SMALL_OBJECT && !(m = malloc(n * sizeof(*m)))) {
		b->out.oom = true;
		return;
	}
	i = 0;
	for (c = v->child; c; c = c->next)
		m[i++] = c;
	if (b->canonical)
		qsort(m, n, sizeof(*m), cmp_member);
	emit(b, "{", 1);
	for (i = 0; i < n && !b->out.oom; i++) {
		if (i)
			emit(b, ",", 1);
		put_string(b, m[i]->string);
		emit(b, ":", 1);
		put_value(b, m[i]);
	}
	emit(b, "}", 1);
	if (m != small)
		free(m);
}

static void put_array(printer *b, const cJSON *v)
{
	const cJSON *c;

	emit(b, "[", 1);
	for (c = v->child; c && !b->out.oom; c = c->next) {
		if (c != v->child)
			emit(b, ",", 1);
		put_value(b, c);
	}
	emit(b, "]", 1);
}

static void put_value(printer *b, const cJSON *v)
{
	if (cJSON_IsObject(v))
		put_object(b, v);
	else if (cJSON_IsArray(v))
		put_array(b, v);
	else if (cJSON_IsString(v))
		put_string(b, v->valuestring);
	else if (cJSON_IsNumber(v))
		put_number(b, v->valuedouble);
	else if (cJSON_IsTrue(v))
		emit(b, "true", 4);
	else if (cJSON_IsFalse(v))
		emit(b, "false", 5);
	else
		emit(b, "null", 4); /* cJSON_NULL, and raw/invalid nodes */
}

static eb_rc serialize(const cJSON *v, bool canonical, char **out,
		       size_t *out_len)
{
	printer b = { { 0 }, canonical, false, 0 };

	if (!out)
		return EB_ERR_ARG;
	put_value(&b, v);
	*out = eb_buf_take(&b.out, out_len);
	return *out ? EB_OK : EB_ERR_NOMEM;
}

eb_rc eb_json_canonical(const cJSON *v, char **out, size_t *out_len)
{
	return serialize(v, true, out, out_len);
}

eb_rc eb_json_canonical_size(const cJSON *v, size_t *out_len)
{
	printer b = { { 0 }, true, true, 0 };

	if (!out_len)
		return EB_ERR_ARG;
	put_value(&b, v);
	*out_len = b.out.oom ? 0 : b.count;
	return b.out.oom ? EB_ERR_NOMEM : EB_OK;
}

eb_rc eb_json_print(const cJSON *v, char **out, size_t *out_len)
{
	return serialize(v, false, out, out_len);
}

void eb_json_put_value(eb_buf *b, const cJSON *v)
{
	printer p = { *b, false, false, 0 };

	put_value(&p, v);
	*b = p.out;
}

void eb_json_put_string(eb_buf *b, const char *s)
{
	printer p = { *b, false, false, 0 };

	put_string(&p, s);
	*b = p.out;
}

void eb_json_put_number(eb_buf *b, double d)
{
	printer p = { *b, false, false, 0 };

	put_number(&p, d);
	*b = p.out;
}

/* What put_value prints a node as: non-finite numbers, raw and invalid
 * nodes all print "null". */
static char canon_kind(const cJSON *v)
{
	if (cJSON_IsObject(v))
		return 'o';
	if (cJSON_IsArray(v))
		return 'a';
	if (cJSON_IsString(v))
		return 's';
	if (cJSON_IsNumber(v))
		return isfinite(v->valuedouble) ? 'n' : 'z';
	if (cJSON_IsTrue(v))
		return 't';
	if (cJSON_IsFalse(v))
		return 'f';
	return 'z';
}

/* The members of v in the canonical printer's order (the same qsort over
 * the same array, so names that repeat come out as they are printed);
 * NULL when out of memory. */
static const cJSON **canon_members(const cJSON *v, size_t n, const cJSON **small)
{
	const cJSON *c, **m = small;
	size_t i = 0;

	if (n > SMALL_OBJECT && !(m = malloc(n * sizeof(*m))))
		return NULL;
	for (c = v->child; c; c = c->next)
		m[i++] = c;
	qsort(m, n, sizeof(*m), cmp_member);
	return m;
}

/* Whether a and b have the same canonical text, decided on the trees
 * (printing both was most of a merge check's time): JSON text reads back
 * to one tree, so equal texts are equal kinds with equal strings, equal
 * numbers (finite doubles print equal exactly when they are equal: whole
 * ones up to 2^53 as their digits, the rest with 17 significant digits,
 * enough to tell any two apart; -0 prints as 0), arrays equal element by
 * element and objects member by member in printed order. -1: out of
 * memory (the printer would have failed too). */
static int canon_eq(const cJSON *a, const cJSON *b)
{
	const cJSON *x, *y, *sa[SMALL_OBJECT], *sb[SMALL_OBJECT], **ma, **mb;
	size_t n = 0, i;
	char k = canon_kind(a);
	int r = 1;

	if (k != canon_kind(b))
		return 0;
	switch (k) {
	case 's':
		return strcmp(a->valuestring ? a->valuestring : "",
			      b->valuestring ? b->valuestring : "") == 0;
	case 'n':
		return a->valuedouble == b->valuedouble;
	case 'a':
		for (x = a->child, y = b->child; x && y; x = x->next, y = y->next) {
			r = canon_eq(x, y);
			if (r != 1)
				return r;
		}
		return !x && !y;
	case 'o':
		for (x = a->child, y = b->child; x && y; x = x->next, y = y->next)
			n++;
		if (x || y)
			return 0;
		if (n == 0)
			return 1;
		ma = canon_members(a, n, sa);
		mb = ma ? canon_members(b, n, sb) : NULL;
		if (!mb)
			r = -1;
		for (i = 0; r == 1 && i < n; i++) {
			if (cmp_member(&ma[i], &mb[i]) != 0)
				r = 0;
			else
				r = canon_eq(ma[i], mb[i]);
		}
		if (ma && ma != sa)
			free(ma);
		if (mb && mb != sb)
			free(mb);
		return r;
	default: /* true, false, null */
		return 1;
	}
}

bool eb_json_canon_equal(const cJSON *a, const cJSON *b)
{
	if (!a || !b)
		return a == b;
	if (a == b)
		return true;
	return canon_eq(a, b) == 1;
}

bool eb_json_get_uint53(const cJSON *v, uint64_t *out)
{
	double d;

	if (!cJSON_IsNumber(v))
		return false;
	d = v->valuedouble;
	if (!isfinite(d) || d < 0 || d != floor(d) || d > TWO_POW_53 - 1)
		return false;
	if (out)
		*out = (uint64_t)d;
	return true;
}
