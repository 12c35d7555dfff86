/*
 * eb_ids.c — store ids (STORE-1), permission patterns (AUTH-9), routes and
 * the query string of the changes feed (FEED-1, FEED-2, FEED-5).
 */
#include "eb_ids.h"

#include <string.h>

#define UINT53_MAX_VALUE 9007199254740991ULL
/* 9007199254740991 has 16 digits. */
#define UINT53_MAX_DIGITS 16
#define DEFAULT_PAGE_LIMIT 1000u

static bool store_id_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
	       c == '-';
}

bool eb_store_id_valid(const char *s, size_t len)
{
	size_t i;

	if (!s || len == 0 || len > EB_STORE_ID_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!store_id_char((unsigned char)s[i]))
			return false;
	return true;
}

bool eb_pattern_match(const char *pattern, const char *store_id)
{
	size_t n;

	if (!pattern || !store_id)
		return false;
	/* An exact id or a prefix that differs in its first byte cannot
	 * match; most of a long claims list is refused here, without the
	 * string calls below. */
	if (pattern[0] != store_id[0] && pattern[0] != '*')
		return false;
	n = strlen(pattern);
	if (n == 0 || pattern[n - 1] != '*')
		return strcmp(pattern, store_id) == 0;
	/* Only one '*', at the end: "a**" or "*a*" is no prefix pattern and
	 * matches nothing. ("a*b" is compared as an exact id above; STORE-1
	 * ids hold no '*', so it matches no store.) */
	if (memchr(pattern, '*', n - 1))
		return false;
	return strncmp(pattern, store_id, n - 1) == 0;
}

/* true when the len bytes at s equal the NUL-terminated lit. */
static bool bytes_eq(const char *s, size_t len, const char *lit)
{
	return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

static eb_route_kind store_route_tail(const char *s, size_t len)
{
	if (bytes_eq(s, len, "/sync"))
		return EB_ROUTE_SYNC;
	if (bytes_eq(s, len, "/changes"))
		return EB_ROUTE_CHANGES;
	return EB_ROUTE_NONE;
}

void eb_route_parse(const char *path, size_t len, eb_route *out)
{
	static const char prefix[] = "/api/stores/";
	const size_t plen = sizeof(prefix) - 1;
	const char *id, *slash;
	size_t idlen;

	if (!out)
		return;
	memset(out, 0, sizeof(*out));
	out->kind = EB_ROUTE_NONE;
	if (!path)
		return;
	if (bytes_eq(path, len, "/api/sync/notifications")) {
		out->kind = EB_ROUTE_NOTIFICATIONS;
		return;
	}
	if (bytes_eq(path, len, "/api/limits")) {
		out->kind = EB_ROUTE_LIMITS;
		return;
	}
	if (len <= plen || memcmp(path, prefix, plen) != 0)
		return;
	id = path + plen;
	slash = memchr(id, '/', len - plen);
	if (!slash)
		return;
	idlen = (size_t)(slash - id);
	out->kind = store_route_tail(slash, len - plen - idlen);
	if (out->kind == EB_ROUTE_NONE)
		return;
	out->store_id_ok = eb_store_id_valid(id, idlen);
	if (out->store_id_ok)
		memcpy(out->store_id, id, idlen); /* rest is zero from memset */
}

bool eb_parse_uint53(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (!s || len == 0 || len > UINT53_MAX_DIGITS)
		return false;
	if (s[0] == '0' && len > 1)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > UINT53_MAX_VALUE)
		return false;
	if (out)
		*out = v;
	return true;
}

/* One known parameter of the query: where its value is and how often it came. */
typedef struct qparam {
	const char *val;
	size_t len;
	int count;
} qparam;

/* Splits "name[=value]" and counts it if the name is since or limit; other
 * names are ignored (FEED-5). */
static void note_param(const char *s, size_t len, qparam *since, qparam *limit)
{
	const char *eq = memchr(s, '=', len);
	size_t nlen = eq ? (size_t)(eq - s) : len;
	qparam *q = NULL;

	if (bytes_eq(s, nlen, "since"))
		q = since;
	else if (bytes_eq(s, nlen, "limit"))
		q = limit;
	if (!q)
		return;
	q->count++;
	q->val = eq ? eq + 1 : s + len;
	q->len = eq ? len - nlen - 1 : 0;
}

static void split_query(const char *query, size_t len, qparam *since,
			qparam *limit)
{
	size_t i = 0, j;
	const char *amp;

	/* memchr, not a loop over the bytes: a query is scanned on every
	 * feed request, and each compare of such a loop is a call under the
	 * fuzzer (a fifth of fuzz_ids). */
	while (i < len) {
		amp = memchr(query + i, '&', len - i);
		j = amp ? (size_t)(amp - query) : len;
		if (j > i)
			note_param(query + i, j - i, since, limit);
		i = j + 1;
	}
}

eb_rc eb_feed_query_parse(const char *query, size_t len, uint32_t max_limit,
			  uint64_t *since, uint32_t *limit, eb_err *err)
{
	qparam qs = { NULL, 0, 0 }, ql = { NULL, 0, 0 };
	uint64_t v;

	if (!since || !limit || (!query && len))
		return eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1,
				  "eb_feed_query_parse: bad argument");
	if (max_limit == 0)
		max_limit = DEFAULT_PAGE_LIMIT;
	if (query)
		split_query(query, len, &qs, &ql);
	if (qs.count > 1 || ql.count > 1)
		return eb_err_set(err, EB_ERR_SHAPE, "FEED-5",
				  qs.count > 1 ? "since" : "limit",
				  EB_CODE_INVALID_REQUEST, -1,
				  "query parameter %s given twice",
				  qs.count > 1 ? "since" : "limit");
	if (qs.count == 0)
		return eb_err_set(err, EB_ERR_SHAPE, "FEED-1", "since",
				  EB_CODE_INVALID_REQUEST, -1,
				  "query parameter since is required");
	if (!eb_parse_uint53(qs.val, qs.len, since))
		return eb_err_set(err, EB_ERR_SHAPE, "FEED-1", "since",
				  EB_CODE_INVALID_REQUEST, -1,
				  "since must be a decimal integer 0..2^53-1");
	*limit = max_limit;
	if (ql.count == 0)
		return EB_OK;
	if (!eb_parse_uint53(ql.val, ql.len, &v))
		return eb_err_set(err, EB_ERR_SHAPE, "FEED-2", "limit",
				  EB_CODE_INVALID_REQUEST, -1,
				  "limit must be a decimal integer");
	if (v < 1 || v > max_limit)
		return eb_err_set(err, EB_ERR_SHAPE, "LIMIT-7", "limit",
				  EB_CODE_INVALID_REQUEST, -1,
				  "limit must be 1..%u", (unsigned)max_limit);
	*limit = (uint32_t)v;
	return EB_OK;
}
