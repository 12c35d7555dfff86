/*
 * fuzz_ids.c — store ids (STORE-1), permission patterns (AUTH-9), routes,
 * decimal integers (FEED-1) and the changes-feed query (FEED-1, FEED-2,
 * FEED-5, LIMIT-7), each checked against a small independent model written
 * from PROTOCOL.md, on the same input.
 *
 * Input: the whole input is the store id, the route path, the uint53 text and
 * the query string; for patterns it is split at its first NUL byte into
 * pattern and store id.
 */
#include "../fuzz_common.h"

#include "eb_ids.h"

#define FI_UINT53_MAX 9007199254740991ULL

static bool fi_id_char(unsigned char c)
{
	return memchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		      "0123456789._:-", c, 66) != NULL && c != '\0';
}

static bool fi_store_id(const char *s, size_t len)
{
	size_t i;

	if (len < 1 || len > 128)
		return false;
	for (i = 0; i < len; i++)
		if (!fi_id_char((unsigned char)s[i]))
			return false;
	return true;
}

static bool fi_uint53(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || (len > 1 && s[0] == '0'))
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (v > FI_UINT53_MAX / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > FI_UINT53_MAX)
			return false;
	}
	*out = v;
	return true;
}

static bool fi_has_prefix(const char *s, size_t len, const char *p)
{
	size_t n = strlen(p);

	return len >= n && memcmp(s, p, n) == 0;
}

static bool fi_is(const char *s, size_t len, const char *lit)
{
	return len == strlen(lit) && memcmp(s, lit, len) == 0;
}

static void fi_route(const char *s, size_t len)
{
	eb_route r;
	eb_route_kind want = EB_ROUTE_NONE;
	const char *id = NULL;
	size_t idlen = 0;

	if (fi_is(s, len, "/api/sync/notifications"))
		want = EB_ROUTE_NOTIFICATIONS;
	else if (fi_is(s, len, "/api/limits"))
		want = EB_ROUTE_LIMITS;
	else if (fi_has_prefix(s, len, "/api/stores/")) {
		const char *rest = s + 12;
		size_t rlen = len - 12;
		const char *slash = memchr(rest, '/', rlen);

		if (slash) {
			id = rest;
			idlen = (size_t)(slash - rest);
			if (fi_is(slash, rlen - idlen, "/sync"))
				want = EB_ROUTE_SYNC;
			else if (fi_is(slash, rlen - idlen, "/changes"))
				want = EB_ROUTE_CHANGES;
		}
	}
	memset(&r, 0x5a, sizeof(r));
	eb_route_parse(s, len, &r);
	FZ_CHECK(r.kind == want, "route kind matches the path");
	if (want == EB_ROUTE_SYNC || want == EB_ROUTE_CHANGES) {
		FZ_CHECK(r.store_id_ok == fi_store_id(id, idlen),
			 "route store id validity follows STORE-1");
		if (r.store_id_ok)
			FZ_CHECK(strlen(r.store_id) == idlen &&
				 memcmp(r.store_id, id, idlen) == 0,
				 "route store id is the path segment");
	} else {
		FZ_CHECK(!r.store_id_ok, "no store id outside store routes");
	}
}

/* The model of FEED-1/2/5: '&'-separated, "name=value" or "name"; only since
 * and limit count; each at most once; values digits-only uint53. */
static eb_rc fi_query(const char *q, size_t len, uint32_t max_limit,
		      uint64_t *since, uint32_t *limit)
{
	const char *sv = NULL, *lv = NULL;
	size_t slen = 0, llen = 0, i = 0;
	int ns = 0, nl = 0;
	uint64_t v;

	if (max_limit == 0)
		max_limit = 1000;
	while (i <= len) {
		const char *amp = i < len ? memchr(q + i, '&', len - i) : NULL;
		size_t j = amp ? (size_t)(amp - q) : len, nlen;
		const char *eq;

		eq = memchr(q + i, '=', j - i);
		nlen = eq ? (size_t)(eq - (q + i)) : j - i;
		if (fi_is(q + i, nlen, "since")) {
			ns++;
			sv = eq ? eq + 1 : q + j;
			slen = eq ? (size_t)(q + j - sv) : 0;
		} else if (fi_is(q + i, nlen, "limit")) {
			nl++;
			lv = eq ? eq + 1 : q + j;
			llen = eq ? (size_t)(q + j - lv) : 0;
		}
		i = j + 1;
	}
	if (ns > 1 || nl > 1 || ns == 0 || !fi_uint53(sv, slen, since))
		return EB_ERR_SHAPE;
	*limit = max_limit;
	if (nl == 0)
		return EB_OK;
	if (!fi_uint53(lv, llen, &v) || v < 1 || v > max_limit)
		return EB_ERR_SHAPE;
	*limit = (uint32_t)v;
	return EB_OK;
}

static void fi_feed(const char *s, size_t len, uint32_t max_limit)
{
	uint64_t since = 0, msince = 0;
	uint32_t limit = 0, mlimit = 0;
	eb_err err;
	eb_rc rc = eb_feed_query_parse(s, len, max_limit, &since, &limit, &err);
	eb_rc want = fi_query(s, len, max_limit, &msince, &mlimit);

	FZ_CHECK(rc == want, "feed query verdict matches FEED-1/2/5");
	if (rc == EB_OK) {
		FZ_CHECK(since == msince && limit == mlimit,
			 "feed query values match");
	} else {
		FZ_CHECK(strcmp(err.code, "INVALID_REQUEST") == 0,
			 "feed query errors are INVALID_REQUEST");
		FZ_CHECK(strcmp(err.field, "since") == 0 ||
			 strcmp(err.field, "limit") == 0,
			 "feed query errors name since or limit");
		FZ_CHECK(err.rule[0] != '\0', "feed query errors cite a rule");
	}
}

static void fi_pattern(const char *s, size_t len)
{
	const char *nul = memchr(s, '\0', len);
	char pat[64], id[64];
	size_t plen, ilen, n;
	bool want;

	if (!nul)
		return;
	plen = (size_t)(nul - s);
	ilen = len - plen - 1;
	if (plen >= sizeof(pat) || ilen >= sizeof(id))
		return;
	memcpy(pat, s, plen);
	pat[plen] = '\0';
	memcpy(id, nul + 1, ilen);
	id[ilen] = '\0';
	n = strlen(pat);
	ilen = strlen(id);
	/* AUTH-9: exact id, or prefix + one '*' at the end. */
	if (n > 0 && pat[n - 1] == '*')
		want = memchr(pat, '*', n - 1) == NULL &&
		       ilen >= n - 1 && memcmp(pat, id, n - 1) == 0;
	else
		want = n > 0 ? strcmp(pat, id) == 0 : ilen == 0;
	FZ_CHECK(eb_pattern_match(pat, id) == want, "pattern match follows AUTH-9");
	if (strcmp(pat, "*") == 0)
		FZ_CHECK(eb_pattern_match(pat, id), "\"*\" matches every store");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	uint64_t v = 0, mv = 0;
	bool ok, mok;

	FZ_CHECK(eb_store_id_valid(s, size) == fi_store_id(s, size),
		 "store id validity follows STORE-1");
	ok = eb_parse_uint53(s, size, &v);
	mok = fi_uint53(s, size, &mv);
	FZ_CHECK(ok == mok, "uint53 verdict follows FEED-1");
	FZ_CHECK(!ok || v == mv, "uint53 value");
	fi_route(s, size);
	fi_feed(s, size, 0);
	fi_feed(s, size, 1000);
	fi_feed(s, size, 7);
	fi_pattern(s, size);
	return 0;
}
