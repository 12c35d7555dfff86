/*
 * ebf_gen.c — the case generator of ebfuzz: grammar-aware mutations of valid
 * sync, changes-feed and WebSocket traffic, and raw TCP exchanges.
 *
 * Every case carries what PROTOCOL.md requires back. For request bodies the
 * protocol library is the oracle: the exact bytes sent are parsed with the
 * server's advertised limits and the first failing check of ERR-3 gives the
 * status, code and rule, so blind byte mutations are judged as precisely as
 * the targeted ones.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eb_buf.h"
#include "eb_ids.h"
#include "eb_json.h"
#include "eb_time.h"
#include "eb_ws.h"
#include "ebf.h"

/* Timestamps this close to the server's skew bound are not judged: the two
 * clocks and the request's travel time make the verdict uncertain. */
#define GEN_TS_MARGIN_MS 10000
#define GEN_FUTURE_MS (10 * 60 * 1000)

/* ---- random numbers (splitmix64: small, deterministic everywhere) ---------- */

uint64_t ebf_rand(ebf_rng *r)
{
	uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

uint32_t ebf_below(ebf_rng *r, uint32_t n)
{
	return n ? (uint32_t)(ebf_rand(r) % n) : 0;
}

static bool gen_chance(ebf_rng *r, unsigned percent)
{
	return ebf_below(r, 100) < percent;
}

/* ---- text ------------------------------------------------------------------ */

static void buf_repeat(eb_buf *b, const char *s, size_t times)
{
	for (size_t i = 0; i < times && !b->oom; i++)
		eb_buf_str(b, s);
}

/* ---- cases ----------------------------------------------------------------- */

void ebf_case_clear(ebf_case *c)
{
	if (!c)
		return;
	free(c->path);
	free(c->content_type);
	free(c->body);
	for (size_t i = 0; i < c->n_steps; i++)
		free(c->steps[i].data);
	free(c->steps);
	memset(c, 0, sizeof(*c));
}

int ebf_case_copy(ebf_case *dst, const ebf_case *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->kind = src->kind;
	memcpy(dst->gen, src->gen, sizeof(dst->gen));
	dst->ex = src->ex;
	memcpy(dst->method, src->method, sizeof(dst->method));
	dst->auth = src->auth;
	dst->has_body = src->has_body;
	dst->ws_auth = src->ws_auth;
	if (src->path && !(dst->path = strdup(src->path)))
		goto fail;
	if (src->content_type && !(dst->content_type = strdup(src->content_type)))
		goto fail;
	if (src->body) {
		if (!(dst->body = malloc(src->body_len + 1)))
			goto fail;
		memcpy(dst->body, src->body, src->body_len);
		dst->body[src->body_len] = '\0';
		dst->body_len = src->body_len;
	}
	for (size_t i = 0; i < src->n_steps; i++) {
		const ebf_step *s = &src->steps[i];

		if (ebf_case_step(dst, s->op, s->opcode, s->fin, s->data, s->len, s->ms) != 0)
			goto fail;
		dst->steps[i].unmasked = s->unmasked;
	}
	return 0;
fail:
	ebf_case_clear(dst);
	return -1;
}

int ebf_case_step(ebf_case *c, ebf_step_op op, int opcode, bool fin,
		  const void *data, size_t len, long ms)
{
	ebf_step *ns = realloc(c->steps, (c->n_steps + 1) * sizeof(*ns));
	ebf_step *s;

	if (!ns)
		return -1;
	c->steps = ns;
	s = &c->steps[c->n_steps];
	memset(s, 0, sizeof(*s));
	s->op = op;
	s->opcode = opcode;
	s->fin = fin;
	s->ms = ms;
	s->data = malloc(len + 1);
	if (!s->data)
		return -1;
	if (len)
		memcpy(s->data, data, len);
	s->data[len] = '\0';
	s->len = len;
	c->n_steps++;
	return 0;
}

static void ex_set(ebf_expect *ex, const char *rule, int status, const char *code,
		   bool valid)
{
	snprintf(ex->rule, sizeof(ex->rule), "%s", rule ? rule : "");
	ex->want_status = status;
	snprintf(ex->want_code, sizeof(ex->want_code), "%s", code ? code : "");
	ex->valid = valid;
}

/* ---- the pieces of a valid sync request ------------------------------------------ */

static const char *const gen_segments[] = {
	"users", "user-456", "name", "profile", "\xc3\xa9t\xc3\xa9", "a b",
	"\xf0\x9f\x98\x80", "x.y", "0", "quote\\\"d",
};

/* A JSON value, valid, of up to depth levels. */
static void gen_value(eb_buf *b, ebf_rng *r, int depth)
{
	switch (ebf_below(r, depth > 0 ? 9 : 7)) {
	case 0: eb_buf_str(b, "null"); break;
	case 1: eb_buf_str(b, ebf_below(r, 2) ? "true" : "false"); break;
	case 2: eb_buf_fmt(b, "%u", ebf_below(r, 100000)); break;
	case 3: eb_buf_str(b, ebf_below(r, 2) ? "-12.5e-3" : "9007199254740991"); break;
	case 4: eb_buf_str(b, "\"Alice\""); break;
	case 5: eb_buf_str(b, "\"\\u00e9\\n\\\"\xe2\x82\xac\""); break;
	case 6: eb_buf_str(b, "\"\""); break;
	case 7: {
		uint32_t n = ebf_below(r, 4);

		eb_buf_str(b, "[");
		for (uint32_t i = 0; i < n; i++) {
			if (i)
				eb_buf_str(b, ",");
			gen_value(b, r, depth - 1);
		}
		eb_buf_str(b, "]");
		break;
	}
	default: {
		uint32_t n = ebf_below(r, 4);

		eb_buf_str(b, "{");
		for (uint32_t i = 0; i < n; i++) {
			eb_buf_fmt(b, "%s\"k%u\":", i ? "," : "", i);
			gen_value(b, r, depth - 1);
		}
		eb_buf_str(b, "}");
	}
	}
}

/* Where a targeted mutation goes inside one change. */
typedef enum gen_mut {
	M_NONE = 0,
	M_ID_MISSING, M_ID_EMPTY, M_ID_NUMBER, M_ID_CONTROL, M_ID_TOO_LONG, M_ID_MAX,
	M_TS_MISSING, M_TS_STRING, M_TS_NEGATIVE, M_TS_FRACTION, M_TS_HUGE, M_TS_2_53,
	M_TS_FUTURE, M_TS_ZERO, M_TS_EXPONENT,
	M_OP_MISSING, M_OP_UNKNOWN, M_OP_CASE, M_OP_NUMBER,
	M_PATH_MISSING, M_PATH_EMPTY, M_PATH_EMPTY_SEG, M_PATH_NUMBER, M_PATH_STRING,
	M_PATH_TOO_MANY, M_PATH_MAX, M_PATH_SEG_TOO_LONG, M_PATH_SEG_MAX,
	M_SET_NO_VALUE, M_DELETE_VALUE, M_VALUE_TOO_DEEP, M_VALUE_DEPTH_MAX,
	M_VALUE_TOO_BIG, M_VALUE_SIZE_MAX, M_VERSION_MEMBER, M_UNKNOWN_MEMBER,
	M_DUP_KEY, M_BAD_UTF8, M_NOT_OBJECT, M_SAME_ID, M_DEEP_NESTING, M_WIDE_VALUE,
	M__COUNT
} gen_mut;

static void gen_change(ebf_ctx *x, eb_buf *b, ebf_rng *r, unsigned long casei,
		       unsigned k, gen_mut m)
{
	uint64_t now = eb_time_now_ms();
	bool del = m == M_DELETE_VALUE || (m != M_SET_NO_VALUE && ebf_below(r, 5) == 0);
	uint32_t segs = 1 + ebf_below(r, 3), i;

	if (m == M_NOT_OBJECT) {
		eb_buf_str(b, ebf_below(r, 2) ? "\"change\"" : "[1,2]");
		return;
	}
	eb_buf_str(b, "{");
	switch (m) {
	case M_ID_MISSING: eb_buf_str(b, "\"_id\":\"x\""); break;
	case M_ID_EMPTY: eb_buf_str(b, "\"id\":\"\""); break;
	case M_ID_NUMBER: eb_buf_str(b, "\"id\":7"); break;
	case M_ID_CONTROL: eb_buf_fmt(b, "\"id\":\"c\\u0001%lu\"", casei); break;
	case M_ID_TOO_LONG:
	case M_ID_MAX: {
		size_t want = m == M_ID_MAX ? x->limits.max_change_id_bytes
					    : x->limits.max_change_id_bytes + 1;
		char head[64];
		int n = snprintf(head, sizeof(head), "e%llx-%lu-%u-",
				 (unsigned long long)x->run_id, casei, k);

		eb_buf_str(b, "\"id\":\"");
		eb_buf_str(b, head);
		if (want > (size_t)n)
			buf_repeat(b, "i", want - (size_t)n);
		eb_buf_str(b, "\"");
		break;
	}
	case M_SAME_ID: /* IDEM-4: change 0's id with other content */
		eb_buf_fmt(b, "\"id\":\"e%llx-%lu-0\"", (unsigned long long)x->run_id, casei);
		break;
	default:
		eb_buf_fmt(b, "\"id\":\"e%llx-%lu-%u\"", (unsigned long long)x->run_id, casei, k);
	}
	switch (m) {
	case M_TS_MISSING: break;
	case M_TS_STRING: eb_buf_str(b, ",\"timestamp\":\"1640995200000\""); break;
	case M_TS_NEGATIVE: eb_buf_str(b, ",\"timestamp\":-1"); break;
	case M_TS_FRACTION: eb_buf_str(b, ",\"timestamp\":1640995200000.5"); break;
	case M_TS_HUGE: eb_buf_str(b, ",\"timestamp\":1e300"); break;
	case M_TS_2_53: eb_buf_str(b, ",\"timestamp\":9007199254740992"); break;
	case M_TS_FUTURE:
		eb_buf_fmt(b, ",\"timestamp\":%llu", (unsigned long long)(now +
			x->limits.timestamp_skew_ms + GEN_FUTURE_MS));
		break;
	case M_TS_ZERO: eb_buf_str(b, ",\"timestamp\":0"); break;
	case M_TS_EXPONENT: eb_buf_str(b, ",\"timestamp\":1.6409952e12"); break;
	default: eb_buf_fmt(b, ",\"timestamp\":%llu", (unsigned long long)(now - ebf_below(r, 100000)));
	}
	switch (m) {
	case M_OP_MISSING: break;
	case M_OP_UNKNOWN: eb_buf_str(b, ",\"operation\":\"put\""); break;
	case M_OP_CASE: eb_buf_str(b, ",\"operation\":\"SET\""); break;
	case M_OP_NUMBER: eb_buf_str(b, ",\"operation\":1"); break;
	default: eb_buf_str(b, del ? ",\"operation\":\"delete\"" : ",\"operation\":\"set\"");
	}
	switch (m) {
	case M_PATH_MISSING: break;
	case M_PATH_EMPTY: eb_buf_str(b, ",\"path\":[]"); break;
	case M_PATH_EMPTY_SEG: eb_buf_str(b, ",\"path\":[\"a\",\"\"]"); break;
	case M_PATH_NUMBER: eb_buf_str(b, ",\"path\":[\"a\",3]"); break;
	case M_PATH_STRING: eb_buf_str(b, ",\"path\":\"a.b\""); break;
	case M_PATH_TOO_MANY:
	case M_PATH_MAX: {
		uint32_t n = x->limits.max_path_segments + (m == M_PATH_TOO_MANY);

		eb_buf_str(b, ",\"path\":[");
		for (i = 0; i < n; i++)
			eb_buf_str(b, i ? ",\"s\"" : "\"s\"");
		eb_buf_str(b, "]");
		break;
	}
	case M_PATH_SEG_TOO_LONG:
	case M_PATH_SEG_MAX:
		eb_buf_str(b, ",\"path\":[\"");
		buf_repeat(b, "p", x->limits.max_path_segment_bytes + (m == M_PATH_SEG_TOO_LONG));
		eb_buf_str(b, "\"]");
		break;
	default:
		eb_buf_str(b, ",\"path\":[");
		for (i = 0; i < segs; i++) {
			eb_buf_str(b, i ? ",\"" : "\"");
			eb_buf_str(b, gen_segments[ebf_below(r, sizeof(gen_segments) /
							  sizeof(gen_segments[0]))]);
			eb_buf_str(b, "\"");
		}
		eb_buf_str(b, "]");
	}
	switch (m) {
	case M_SET_NO_VALUE: break;
	case M_DELETE_VALUE: eb_buf_str(b, ",\"value\":1"); break;
	case M_VALUE_TOO_DEEP:
	case M_VALUE_DEPTH_MAX: {
		uint32_t d = x->limits.max_value_depth + (m == M_VALUE_TOO_DEEP);

		eb_buf_str(b, ",\"value\":");
		buf_repeat(b, "[", d);
		buf_repeat(b, "]", d);
		break;
	}
	case M_DEEP_NESTING: {
		/* thousands of levels: recursive parsers overflow their stack */
		uint32_t d = 2000 + ebf_below(r, 30000);
		bool objects = ebf_below(r, 2);

		eb_buf_str(b, ",\"value\":");
		buf_repeat(b, objects ? "{\"a\":[" : "[", d);
		eb_buf_str(b, "1");
		buf_repeat(b, objects ? "]}" : "]", d);
		break;
	}
	case M_WIDE_VALUE: /* many small members: over the value size limit */
		eb_buf_str(b, ",\"value\":[0");
		buf_repeat(b, ",0", x->limits.max_value_bytes / 2 + 1);
		eb_buf_str(b, "]");
		break;
	case M_VALUE_TOO_BIG:
	case M_VALUE_SIZE_MAX:
		/* A string's canonical form is its bytes plus two quotes. */
		eb_buf_str(b, ",\"value\":\"");
		buf_repeat(b, "v", x->limits.max_value_bytes - 2 + (m == M_VALUE_TOO_BIG));
		eb_buf_str(b, "\"");
		break;
	default:
		if (!del) {
			eb_buf_str(b, ",\"value\":");
			gen_value(b, r, 3);
		}
	}
	if (m == M_VERSION_MEMBER)
		eb_buf_str(b, ",\"version\":77");
	if (m == M_UNKNOWN_MEMBER)
		eb_buf_str(b, ",\"clientMeta\":{\"device\":\"fuzz\"}");
	if (m == M_DUP_KEY)
		eb_buf_str(b, ",\"operation\":\"set\"");
	if (m == M_BAD_UTF8)
		eb_buf_str(b, ",\"note\":\"\xc3\x28\xff\"");
	eb_buf_str(b, "}");
}

/* ---- expectations of sync bodies (the ERR-3 order, steps 7-12) ------------------ */

void ebf_gen_expect_sync_body(ebf_ctx *x, ebf_case *c)
{
	eb_sync_request *req = NULL;
	eb_problems pr = { 0 };
	eb_err err;
	eb_rc rc;
	uint64_t now = eb_time_now_ms(), bound = now + x->limits.timestamp_skew_ms;

	if (c->body_len > x->limits.max_body_bytes) {
		ex_set(&c->ex, "LIMIT-1", 413, "PAYLOAD_TOO_LARGE", false);
		return;
	}
	eb_err_clear(&err);
	rc = eb_sync_request_parse(c->body, c->body_len, &x->limits, &req, &pr, &err);
	eb_problems_clear(&pr);
	if (rc == EB_ERR_JSON) {
		ex_set(&c->ex, err.rule[0] ? err.rule : "GEN-1", 400, "INVALID_JSON", false);
		return;
	}
	if (rc == EB_ERR_SHAPE) {
		ex_set(&c->ex, err.rule[0] ? err.rule : "SYNC-1", 400, "INVALID_REQUEST", false);
		return;
	}
	if (rc == EB_ERR_LIMIT) {
		ex_set(&c->ex, err.rule[0] ? err.rule : "LIMIT-2", 422, "LIMIT_EXCEEDED", false);
		return;
	}
	if (rc != EB_OK) {
		ex_set(&c->ex, "", 0, NULL, false);
		return;
	}
	for (size_t i = 0; i < req->n; i++) {
		uint64_t ts = req->changes[i].timestamp;

		if (ts + GEN_TS_MARGIN_MS > bound && ts <= bound + GEN_TS_MARGIN_MS) {
			/* Too close to the bound to judge: robustness only. */
			ex_set(&c->ex, "", 0, NULL, false);
			goto out;
		}
	}
	if (eb_sync_request_check_timestamps(req, now, x->limits.timestamp_skew_ms,
					     NULL, NULL) == EB_ERR_TIMESTAMP) {
		ex_set(&c->ex, "TS-2", 422, "TIMESTAMP_IN_FUTURE", false);
		goto out;
	}
	/* Every case writes a store of its own, so the store is at version 0. */
	if (req->last_known_version > 0) {
		ex_set(&c->ex, "SYNC-8", 409, "RESYNC_REQUIRED", false);
		goto out;
	}
	if (eb_sync_request_check_internal_conflicts(req, NULL, NULL) == EB_ERR_CONFLICT) {
		ex_set(&c->ex, "IDEM-4", 409, "CHANGE_ID_CONFLICT", false);
		goto out;
	}
	ex_set(&c->ex, "SYNC-9", 200, NULL, true);
out:
	eb_sync_request_free(req);
}

/* ---- HTTP generators -------------------------------------------------------------- */

static int set_path(ebf_case *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int set_path(ebf_case *c, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -1;
	free(c->path);
	c->path = strdup(tmp);
	return c->path ? 0 : -1;
}

static int take_body(ebf_case *c, eb_buf *b)
{
	size_t len;
	char *body = eb_buf_take(b, &len);

	if (!body)
		return -1;
	c->body = body;
	c->body_len = len;
	c->has_body = true;
	return 0;
}

static void store_id(ebf_ctx *x, unsigned long i, char *buf, size_t len)
{
	snprintf(buf, len, "ebfuzz-%llx-%lu", (unsigned long long)x->run_id, i);
}

/* A sync body: valid, or with one targeted mutation m in change k. */
static int gen_sync_body(ebf_ctx *x, ebf_rng *r, unsigned long i, gen_mut m,
			 int top, ebf_case *c)
{
	eb_buf b = { 0 };
	uint32_t n = ebf_below(r, 4), k, bad = n ? ebf_below(r, n) : 0;

	if (m != M_NONE && n == 0)
		n = 1;
	if (m == M_SAME_ID) {
		/* the repeated id goes after change 0, with a value of its own */
		if (n < 2)
			n = 2;
		bad = 1 + ebf_below(r, n - 1);
	}
	switch (top) {
	case 1: eb_buf_str(&b, "{\"lastKnownVersion\":\"0\""); break;
	case 2: eb_buf_str(&b, "{\"lastKnownVersion\":-1"); break;
	case 3: eb_buf_str(&b, "{\"lastKnownVersion\":0.5"); break;
	case 4: eb_buf_str(&b, "{\"lastKnownVersion\":9007199254740992"); break;
	case 5: eb_buf_str(&b, "{\"lastKnownVersion\":3"); break;
	case 6: eb_buf_str(&b, "{\"changes\":[]"); break;
	case 7: eb_buf_str(&b, "{\"lastKnownVersion\":0,\"changes\":{}"); break;
	case 8: eb_buf_str(&b, "{\"lastKnownVersion\":0,\"limit\":0"); break;
	case 9: eb_buf_fmt(&b, "{\"lastKnownVersion\":0,\"limit\":%u", x->limits.max_page_limit + 1); break;
	case 10: eb_buf_str(&b, "{\"lastKnownVersion\":0,\"limit\":\"10\""); break;
	case 11: eb_buf_fmt(&b, "{\"lastKnownVersion\":0,\"limit\":%u", x->limits.max_page_limit); break;
	case 12: eb_buf_str(&b, "{\"lastKnownVersion\":0,\"lastKnownVersion\":0"); break;
	case 13: eb_buf_str(&b, "{\"lastKnownVersion\":0,\"future\":[1,{\"a\":null}]"); break;
	default: eb_buf_str(&b, "{\"lastKnownVersion\":0");
	}
	if (top != 6 && top != 7) {
		eb_buf_str(&b, ",\"changes\":[");
		for (k = 0; k < n; k++) {
			if (k)
				eb_buf_str(&b, ",");
			gen_change(x, &b, r, i, k, k == bad ? m : M_NONE);
		}
		/* IDEM-4 half the time a mutation is absent: repeat change 0's id. */
		eb_buf_str(&b, "]");
	}
	eb_buf_str(&b, "}");
	return take_body(c, &b);
}

/* Blind mutation of a valid body: byte edits the grammar did not plan. */
static void blind_mutate(ebf_rng *r, ebf_case *c)
{
	/* No "\u0000", lone surrogates or 1e999: RFC 8259 allows them and the
	 * library's refusal would be stricter than the spec. */
	static const char *const tokens[] = { "\"", "{", "}", "[", "]", ",", ":",
		"null", "-", "0", "1e308", "\\n", "\\u00e9", "\xff", "\xc0\x80",
		"9007199254740993", "\"id\"", "\"value\"", "\"path\"", "true" };
	uint32_t edits = 1 + ebf_below(r, 3);

	for (uint32_t e = 0; e < edits && c->body_len > 0; e++) {
		size_t at = ebf_below(r, (uint32_t)c->body_len);
		const char *t = tokens[ebf_below(r, sizeof(tokens) / sizeof(tokens[0]))];
		size_t tl = strlen(t);
		char *nb;

		switch (ebf_below(r, 3)) {
		case 0: /* replace one byte */
			c->body[at] = t[0];
			break;
		case 1: /* delete a run */
		{
			size_t n = 1 + ebf_below(r, 8);

			if (at + n > c->body_len)
				n = c->body_len - at;
			memmove(c->body + at, c->body + at + n, c->body_len - at - n + 1);
			c->body_len -= n;
			break;
		}
		default: /* insert a token */
			nb = realloc(c->body, c->body_len + tl + 1);
			if (!nb)
				return;
			c->body = nb;
			memmove(c->body + at + tl, c->body + at, c->body_len - at + 1);
			memcpy(c->body + at, t, tl);
			c->body_len += tl;
		}
	}
}

static int gen_http_sync(ebf_ctx *x, ebf_rng *r, unsigned long i, ebf_case *c, int family)
{
	char id[96];
	gen_mut m = M_NONE;
	int top = 0;

	c->kind = EBF_HTTP;
	snprintf(c->method, sizeof(c->method), "POST");
	c->auth = EBF_AUTH_VALID;
	store_id(x, i, id, sizeof(id));
	if (set_path(c, "/api/stores/%s/sync", id))
		return -1;
	if (family == 0) {
		/* valid, sometimes exactly at a limit (LIMIT-9) */
		static const gen_mut edge[] = { M_ID_MAX, M_PATH_MAX, M_PATH_SEG_MAX,
			M_VALUE_DEPTH_MAX, M_VALUE_SIZE_MAX, M_TS_ZERO, M_VERSION_MEMBER,
			M_UNKNOWN_MEMBER };

		if (gen_chance(r, 40))
			m = edge[ebf_below(r, sizeof(edge) / sizeof(edge[0]))];
		else if (gen_chance(r, 20))
			top = gen_chance(r, 50) ? 11 : 13;
		snprintf(c->gen, sizeof(c->gen), "sync/valid%s", m || top ? "-edge" : "");
	} else if (family == 1) {
		if (gen_chance(r, 25))
			top = 1 + (int)ebf_below(r, 12);
		else
			m = (gen_mut)(1 + ebf_below(r, M__COUNT - 1));
		snprintf(c->gen, sizeof(c->gen), "sync/mutation-%d-%d", (int)m, top);
	} else {
		snprintf(c->gen, sizeof(c->gen), "sync/blind");
	}
	if (gen_sync_body(x, r, i, m, top, c))
		return -1;
	if (family == 2)
		blind_mutate(r, c);
	ebf_gen_expect_sync_body(x, c);
	if (m == M_DEEP_NESTING && !c->ex.valid) {
		/* 400 INVALID_JSON (a parser's nesting limit, RFC 8259 section 9)
		 * and 422 LIMIT_EXCEEDED (LIMIT-4) are both right. */
		c->ex.any_refusal = true;
		snprintf(c->ex.rule, sizeof(c->ex.rule), "LIMIT-4");
	}
	return 0;
}

static int gen_http_auth(ebf_ctx *x, ebf_rng *r, unsigned long i, ebf_case *c)
{
	static const ebf_auth bad[] = { EBF_AUTH_NONE, EBF_AUTH_EXPIRED,
		EBF_AUTH_ALG_NONE, EBF_AUTH_BADSIG, EBF_AUTH_GARBAGE };
	static const char *const rules[] = { "AUTH-1", "AUTH-4", "AUTH-3", "AUTH-2", "AUTH-2" };
	uint32_t k = ebf_below(r, 5);
	char id[96];

	if (gen_http_sync(x, r, i, c, gen_chance(r, 50) ? 0 : 2))
		return -1;
	/* ERR-3: authentication (step 2) comes before the body (steps 7+),
	 * and before the store id (step 4). */
	c->auth = bad[k];
	if (gen_chance(r, 30)) {
		snprintf(id, sizeof(id), "bad~id!%lu", i);
		if (set_path(c, "/api/stores/%s/sync", id))
			return -1;
	}
	snprintf(c->gen, sizeof(c->gen), "auth/%s", rules[k]);
	ex_set(&c->ex, rules[k], 401, "UNAUTHORIZED", false);
	if (gen_chance(r, 30)) {
		/* The changes feed needs the token too. */
		snprintf(c->method, sizeof(c->method), "GET");
		store_id(x, i, id, sizeof(id));
		free(c->body);
		c->body = NULL;
		c->body_len = 0;
		c->has_body = false;
		if (set_path(c, "/api/stores/%s/changes?since=0", id))
			return -1;
	}
	return 0;
}

static int gen_http_route(ebf_ctx *x, ebf_rng *r, unsigned long i, ebf_case *c)
{
	char id[96];

	store_id(x, i, id, sizeof(id));
	c->kind = EBF_HTTP;
	c->auth = EBF_AUTH_VALID;
	switch (ebf_below(r, 7)) {
	case 0:
		snprintf(c->method, sizeof(c->method), "GET");
		snprintf(c->gen, sizeof(c->gen), "route/405-sync");
		ex_set(&c->ex, "ERR-5", 405, "METHOD_NOT_ALLOWED", false);
		return set_path(c, "/api/stores/%s/sync", id);
	case 1:
		snprintf(c->method, sizeof(c->method), ebf_below(r, 2) ? "DELETE" : "PUT");
		snprintf(c->gen, sizeof(c->gen), "route/405-changes");
		ex_set(&c->ex, "ERR-5", 405, "METHOD_NOT_ALLOWED", false);
		return set_path(c, "/api/stores/%s/changes?since=0", id);
	case 2:
		snprintf(c->method, sizeof(c->method), "GET");
		snprintf(c->gen, sizeof(c->gen), "route/404");
		ex_set(&c->ex, "ERR-3", 404, "NOT_FOUND", false);
		return set_path(c, ebf_below(r, 2) ? "/api/stores/%s" : "/api/nothing/%s", id);
	case 3: {
		/* No ';': frameworks commonly strip ";params" from paths. */
		static const char *const bad_ids[] = { "bad~id", "a!b", "plus+sign",
			"x@y", "(paren)", "star*" };

		snprintf(c->method, sizeof(c->method), "GET");
		snprintf(c->gen, sizeof(c->gen), "route/invalid-store-id");
		ex_set(&c->ex, "STORE-1", 400, "INVALID_STORE_ID", false);
		return set_path(c, "/api/stores/%s%lu/changes?since=0",
				bad_ids[ebf_below(r, 6)], i);
	}
	case 4: {
		char longid[160];

		memset(longid, 'L', 129);
		longid[129] = '\0';
		snprintf(c->method, sizeof(c->method), "GET");
		snprintf(c->gen, sizeof(c->gen), "route/store-id-129");
		ex_set(&c->ex, "STORE-1", 400, "INVALID_STORE_ID", false);
		return set_path(c, "/api/stores/%s/changes?since=0", longid);
	}
	case 5:
		if (gen_http_sync(x, r, i, c, 0))
			return -1;
		free(c->content_type);
		c->content_type = strdup(ebf_below(r, 2) ? "text/plain" : "application/x-www-form-urlencoded");
		snprintf(c->gen, sizeof(c->gen), "route/415");
		ex_set(&c->ex, "ERR-3", 415, "UNSUPPORTED_MEDIA_TYPE", false);
		return c->content_type ? 0 : -1;
	default:
		if (gen_http_sync(x, r, i, c, 0))
			return -1;
		/* a push needs write permission (AUTH-11); only valid bodies,
		 * so no earlier check of ERR-3 can answer first */
		if (!c->ex.valid || !strstr(c->body, "\"changes\":[{")) {
			static const char ro[] = "{\"lastKnownVersion\":0}";

			free(c->body);
			c->body = strdup(ro);
			c->body_len = sizeof(ro) - 1;
			if (!c->body)
				return -1;
			snprintf(c->gen, sizeof(c->gen), "route/readonly-read");
			c->auth = EBF_AUTH_READONLY;
			ex_set(&c->ex, "AUTH-10", 200, NULL, true);
			return 0;
		}
		c->auth = EBF_AUTH_READONLY;
		snprintf(c->gen, sizeof(c->gen), "route/readonly-push");
		ex_set(&c->ex, "AUTH-11", 403, "FORBIDDEN", false);
		return 0;
	}
}

static int gen_http_feed(ebf_ctx *x, ebf_rng *r, unsigned long i, ebf_case *c)
{
	static const char *const queries[] = { "since=0", "since=0&limit=1",
		"since=0&limit=1000", "since=0&limit=1001", "since=0&limit=0",
		"since=01", "since=-1", "since=%2B1", "since=", "limit=5", "",
		"since=0&since=0", "since=0&limit=1&limit=2", "since=1",
		"since=9007199254740991", "since=9007199254740992", "since=0&x=1&y",
		"since=1e3", "since=0&limit=5000", "since=0x10", "since=0&limit=abc",
		"since=0&&limit=2", "since=0&limit=", "since=99999999999999999999" };
	char id[96], q[160];
	uint64_t since = 0;
	uint32_t limit = 0;
	eb_err err;

	c->kind = EBF_HTTP;
	c->auth = EBF_AUTH_VALID;
	snprintf(c->method, sizeof(c->method), "GET");
	store_id(x, i, id, sizeof(id));
	snprintf(q, sizeof(q), "%s", queries[ebf_below(r, sizeof(queries) / sizeof(queries[0]))]);
	if (strstr(q, "limit=1000") && x->limits.max_page_limit != 1000)
		snprintf(q, sizeof(q), "since=0&limit=%u", x->limits.max_page_limit);
	if (strstr(q, "limit=1001"))
		snprintf(q, sizeof(q), "since=0&limit=%u", x->limits.max_page_limit + 1);
	snprintf(c->gen, sizeof(c->gen), "feed/query");
	if (set_path(c, "/api/stores/%s/changes%s%s", id, q[0] ? "?" : "", q))
		return -1;
	/* The library's FEED-1/2/5 parser is the oracle (no percent-decoding). */
	eb_err_clear(&err);
	if (strchr(q, '%')) {
		ex_set(&c->ex, "FEED-1", 400, "INVALID_REQUEST", false);
	} else if (eb_feed_query_parse(q, strlen(q), x->limits.max_page_limit, &since,
				       &limit, &err) != EB_OK) {
		ex_set(&c->ex, err.rule[0] ? err.rule : "FEED-1", 400, "INVALID_REQUEST", false);
	} else if (since > 0) {
		ex_set(&c->ex, "FEED-4", 409, "RESYNC_REQUIRED", false);
	} else {
		ex_set(&c->ex, "FEED-3", 200, NULL, true);
	}
	return 0;
}

static int gen_http_big(ebf_ctx *x, ebf_rng *r, unsigned long i, ebf_case *c)
{
	char id[96];
	eb_buf b = { 0 };

	c->kind = EBF_HTTP;
	c->auth = EBF_AUTH_VALID;
	snprintf(c->method, sizeof(c->method), "POST");
	store_id(x, i, id, sizeof(id));
	if (set_path(c, "/api/stores/%s/sync", id))
		return -1;
	if (ebf_below(r, 2) == 0) {
		/* LIMIT-1: one byte over the body limit, as valid JSON */
		size_t target = x->limits.max_body_bytes + 1;

		eb_buf_str(&b, "{\"lastKnownVersion\":0,\"pad\":\"");
		if (target > b.len + 2)
			buf_repeat(&b, "x", target - b.len - 2);
		eb_buf_str(&b, "\"}");
		snprintf(c->gen, sizeof(c->gen), "big/body-over-limit");
	} else {
		/* LIMIT-2: one change more than allowed */
		uint32_t n = x->limits.max_changes_per_request + 1;
		uint64_t now = eb_time_now_ms();

		eb_buf_str(&b, "{\"lastKnownVersion\":0,\"changes\":[");
		for (uint32_t k = 0; k < n; k++)
			eb_buf_fmt(&b, "%s{\"id\":\"b%llx-%lu-%u\",\"timestamp\":%llu,"
			       "\"operation\":\"set\",\"path\":[\"k\"],\"value\":%u}",
			       k ? "," : "", (unsigned long long)x->run_id, i, k,
			       (unsigned long long)now, k);
		eb_buf_str(&b, "]}");
		snprintf(c->gen, sizeof(c->gen), "big/too-many-changes");
	}
	if (take_body(c, &b))
		return -1;
	ebf_gen_expect_sync_body(x, c);
	return 0;
}

/* ---- raw TCP --------------------------------------------------------------------- */

static int gen_tcp(ebf_ctx *x, ebf_rng *r, unsigned long i, ebf_case *c)
{
	char id[96], head[4096];
	const char *tok = ebf_token(x, EBF_AUTH_VALID), *base;
	eb_buf b = { 0 }, body = { 0 };
	uint32_t k = ebf_below(r, 8);
	uint64_t now = eb_time_now_ms();
	int rc;

	c->kind = EBF_TCP;
	/* Raw requests carry the request target themselves: the base path of a
	 * server mounted under a prefix goes in front, as eb_http does. */
	base = x->o->target.url.path;
	store_id(x, i, id, sizeof(id));
	eb_buf_fmt(&body, "{\"lastKnownVersion\":0,\"changes\":[{\"id\":\"t%llx-%lu\","
	       "\"timestamp\":%llu,\"operation\":\"set\",\"path\":[\"t\"],\"value\":1}]}",
	       (unsigned long long)x->run_id, i, (unsigned long long)now);
	if (body.oom)
		goto fail;
	switch (k) {
	case 0: /* ERR-3 step 6: a POST body must be application/json */
		snprintf(c->gen, sizeof(c->gen), "tcp/no-content-type");
		snprintf(head, sizeof(head), "POST %s/api/stores/%s/sync HTTP/1.1\r\nHost: %s\r\n"
			 "Authorization: Bearer %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
			 base, id, x->host, tok, body.len);
		eb_buf_str(&b, head);
		eb_buf_put(&b, body.p, body.len);
		ex_set(&c->ex, "ERR-3", 415, "UNSUPPORTED_MEDIA_TYPE", false);
		rc = ebf_case_step(c, EBF_S_RAW, 0, false, b.p, b.len, 0);
		break;
	case 1: /* a valid request sent slowly, in pieces */
		snprintf(c->gen, sizeof(c->gen), "tcp/slow-valid");
		snprintf(head, sizeof(head), "POST %s/api/stores/%s/sync HTTP/1.1\r\nHost: %s\r\n"
			 "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n", base, id, x->host, tok, body.len);
		eb_buf_str(&b, head);
		eb_buf_put(&b, body.p, body.len);
		ex_set(&c->ex, "SYNC-9", 200, NULL, true);
		rc = ebf_case_step(c, EBF_S_SLOW, 0, false, b.p, b.len, 10);
		break;
	case 2: /* AUTH-1: a scheme other than Bearer */
		snprintf(c->gen, sizeof(c->gen), "tcp/basic-auth");
		snprintf(head, sizeof(head), "GET %s/api/stores/%s/changes?since=0 HTTP/1.1\r\nHost: %s\r\n"
			 "Authorization: Basic ZWJmdXp6OmViZnV6eg==\r\nConnection: close\r\n\r\n",
			 base, id, x->host);
		eb_buf_str(&b, head);
		ex_set(&c->ex, "AUTH-1", 401, "UNAUTHORIZED", false);
		rc = ebf_case_step(c, EBF_S_RAW, 0, false, b.p, b.len, 0);
		break;
	case 3: /* an oversized header: any answer but a fault */
		snprintf(c->gen, sizeof(c->gen), "tcp/huge-header");
		snprintf(head, sizeof(head), "GET %s/api/stores/%s/changes?since=0 HTTP/1.1\r\nHost: %s\r\n"
			 "Authorization: Bearer %s\r\nX-Fuzz: ", base, id, x->host, tok);
		eb_buf_str(&b, head);
		buf_repeat(&b, "h", 16384 + ebf_below(r, 65536));
		eb_buf_str(&b, "\r\nConnection: close\r\n\r\n");
		ex_set(&c->ex, "", 0, NULL, false);
		c->ex.raw_only = true;
		rc = ebf_case_step(c, EBF_S_RAW, 0, false, b.p, b.len, 0);
		break;
	case 4: { /* garbage request lines */
		static const char *const junk[] = { "GARBAGE\r\n\r\n", "GET\r\n\r\n",
			"GET / HTTP/9.9\r\n\r\n", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
			"POST /api/stores/a/sync HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
			"GET /api/limits HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n" };

		snprintf(c->gen, sizeof(c->gen), "tcp/garbage");
		eb_buf_str(&b, junk[ebf_below(r, 6)]);
		ex_set(&c->ex, "", 0, NULL, false);
		c->ex.raw_only = true;
		rc = ebf_case_step(c, EBF_S_RAW, 0, false, b.p, b.len, 0);
		break;
	}
	case 5: /* a body shorter than its Content-Length, then half-close */
		snprintf(c->gen, sizeof(c->gen), "tcp/short-body");
		snprintf(head, sizeof(head), "POST %s/api/stores/%s/sync HTTP/1.1\r\nHost: %s\r\n"
			 "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
			 "Content-Length: %zu\r\n\r\n", base, id, x->host, tok, body.len + 50);
		eb_buf_str(&b, head);
		eb_buf_put(&b, body.p, body.len / 2);
		ex_set(&c->ex, "", 0, NULL, false);
		rc = ebf_case_step(c, EBF_S_RAW, 0, false, b.p, b.len, 0);
		break;
	case 6: /* two requests pipelined on one connection */
		snprintf(c->gen, sizeof(c->gen), "tcp/pipelined");
		snprintf(head, sizeof(head), "GET %s/api/stores/%s/changes?since=0 HTTP/1.1\r\nHost: %s\r\n"
			 "Authorization: Bearer %s\r\n\r\n", base, id, x->host, tok);
		eb_buf_str(&b, head);
		eb_buf_str(&b, head);
		ex_set(&c->ex, "FEED-3", 200, NULL, true);
		rc = ebf_case_step(c, EBF_S_RAW, 0, false, b.p, b.len, 0);
		break;
	default: /* chunked body of a valid sync */
		snprintf(c->gen, sizeof(c->gen), "tcp/chunked");
		snprintf(head, sizeof(head), "POST %s/api/stores/%s/sync HTTP/1.1\r\nHost: %s\r\n"
			 "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
			 "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n", base, id, x->host, tok);
		eb_buf_str(&b, head);
		eb_buf_fmt(&b, "%zx\r\n", body.len);
		eb_buf_put(&b, body.p, body.len);
		eb_buf_str(&b, "\r\n0\r\n\r\n");
		ex_set(&c->ex, "", 0, NULL, false);
		rc = ebf_case_step(c, EBF_S_RAW, 0, false, b.p, b.len, 0);
		break;
	}
	if (b.oom)
		rc = -1;
	eb_buf_clear(&b);
	eb_buf_clear(&body);
	return rc;
fail:
	eb_buf_clear(&b);
	eb_buf_clear(&body);
	return -1;
}

/* ---- WebSocket ------------------------------------------------------------------- */

/* The oracle for a client message: the library's parser (WS-2, WS-SUB-6). */
static void expect_ws_message(ebf_case *c, const char *msg, size_t len, const char *fallback)
{
	eb_ws_client_msg *m = NULL;
	eb_err err;
	eb_rc rc;

	eb_err_clear(&err);
	rc = eb_ws_client_msg_parse(msg, len, &m, &err);
	if (rc == EB_OK && m->type == EB_WS_C_UNKNOWN) {
		size_t rl = m->request_id ? strlen(m->request_id) : 0;

		snprintf(c->ex.rule, sizeof(c->ex.rule), "WS-3");
		snprintf(c->ex.want_code, sizeof(c->ex.want_code), "UNKNOWN_TYPE");
		c->ex.want_open = true;
		/* An unknown type with an invalid requestId may also be taken as
		 * malformed (WS-2): closing 4400 is then right too. */
		if (memmem(msg, len, "\"requestId\"", 11) && (rl < 1 || rl > EB_WS_REQUEST_ID_MAX))
			c->ex.alt_close = 4400;
	} else if (rc == EB_OK) {
		snprintf(c->ex.rule, sizeof(c->ex.rule), "%s", fallback);
		c->ex.want_open = true;
	} else {
		snprintf(c->ex.rule, sizeof(c->ex.rule), "%s", err.rule[0] ? err.rule : "WS-2");
		c->ex.want_close = 4400;
		/* RFC 6455 makes a WebSocket library close bad UTF-8 with 1007
		 * before the application sees it. */
		if (!eb_utf8_valid(msg, len))
			c->ex.alt_close = 1007;
	}
	eb_ws_client_msg_free(m);
}

static int gen_ws(ebf_ctx *x, ebf_rng *r, unsigned long i, ebf_case *c)
{
	static const char *const malformed[] = {
		"not json", "[]", "{}", "{\"type\":7,\"requestId\":\"1\"}",
		"{\"type\":\"ping\"}", "{\"type\":\"ping\",\"requestId\":\"\"}",
		"{\"type\":\"ping\",\"requestId\":5}",
		"{\"type\":\"subscribe\",\"requestId\":\"2\",\"storeIds\":\"a\"}",
		"{\"type\":\"subscribe\",\"requestId\":\"2\",\"storeIds\":[]}",
		"{\"type\":\"subscribe\",\"requestId\":\"2\",\"storeIds\":[1]}",
		"{\"type\":\"unsubscribe\",\"requestId\":\"2\"}",
		"{\"type\":\"ping\",\"requestId\":\"1\",\"requestId\":\"2\"}",
		"{\"type\":\"ping\",\"requestId\":\"\xc3\x28\"}",
		"{\"type\":\"auth\",\"requestId\":\"9\"}",
		"{\"type\":\"ping\",\"requestId\":\"1\"", "\"ping\"", "null",
	};
	static const char *const fine[] = {
		"{\"type\":\"ping\",\"requestId\":\"p\"}",
		"{\"type\":\"hello\",\"requestId\":\"h1\"}",
		"{\"type\":\"future-type\",\"requestId\":\"f\",\"x\":[1,2]}",
		"{\"type\":\"subscribe\",\"requestId\":\"s\",\"storeIds\":[\"ok-store\",\"bad id!\"]}",
		"{\"type\":\"unsubscribe\",\"requestId\":\"u\",\"storeIds\":[\"never-subscribed\"]}",
		"{\"type\":\"ping\",\"requestId\":\"p\",\"extension\":{\"a\":1}}",
		/* unknown types with odd requestIds: the error must still be a
		 * valid message (no requestId of 0 or 65+ bytes echoed) */
		"{\"type\":\"hello\",\"requestId\":\"\"}",
		"{\"type\":\"hello\",\"requestId\":\"0123456789012345678901234567890123456789012345678901234567890123456789\"}",
		"{\"type\":\"hello\",\"requestId\":7}",
	};
	eb_buf b = { 0 };
	uint32_t k = ebf_below(r, 11);
	int rc = 0;

	(void)i;
	c->kind = EBF_WS;
	c->ws_auth = true;
	c->auth = EBF_AUTH_VALID;
	switch (k) {
	case 0:
	case 1: { /* malformed after auth: 4400 */
		const char *m = malformed[ebf_below(r, sizeof(malformed) / sizeof(malformed[0]))];

		if (gen_chance(r, 20)) {
			/* deep arrays (not an object however deep a parser goes),
			 * or one store id more than WS-SUB-6 allows */
			if (ebf_below(r, 2)) {
				uint32_t d = 1000 + ebf_below(r, 20000);

				buf_repeat(&b, "[", d);
				buf_repeat(&b, "]", d);
			} else {
				eb_buf_str(&b, "{\"type\":\"subscribe\",\"requestId\":\"s\",\"storeIds\":[");
				for (uint32_t k2 = 0; k2 <= EB_WS_MAX_STORE_IDS; k2++)
					eb_buf_fmt(&b, "%s\"s%u\"", k2 ? "," : "", k2);
				eb_buf_str(&b, "]}");
			}
			if (b.oom) {
				eb_buf_clear(&b);
				return -1;
			}
			m = b.p;
		}
		snprintf(c->gen, sizeof(c->gen), "ws/malformed");
		expect_ws_message(c, m, strlen(m), "WS-2");
		rc = ebf_case_step(c, EBF_S_TEXT, 1, true, m, strlen(m), 0);
		break;
	}
	case 2: { /* well-formed traffic, including unknown types: stays open */
		const char *m = fine[ebf_below(r, sizeof(fine) / sizeof(fine[0]))];

		if (gen_chance(r, 15)) {
			/* exactly the 100 store ids WS-SUB-6 allows */
			eb_buf_str(&b, "{\"type\":\"subscribe\",\"requestId\":\"s\",\"storeIds\":[");
			for (uint32_t k2 = 0; k2 < EB_WS_MAX_STORE_IDS; k2++)
				eb_buf_fmt(&b, "%s\"s%u\"", k2 ? "," : "", k2);
			eb_buf_str(&b, "]}");
			if (b.oom) {
				eb_buf_clear(&b);
				return -1;
			}
			m = b.p;
		}
		snprintf(c->gen, sizeof(c->gen), "ws/well-formed");
		expect_ws_message(c, m, strlen(m), "WS-CLOSE-5");
		rc = ebf_case_step(c, EBF_S_TEXT, 1, true, m, strlen(m), 0);
		break;
	}
	case 3: /* before auth: 4401 */
		snprintf(c->gen, sizeof(c->gen), "ws/before-auth");
		c->ws_auth = false;
		snprintf(c->ex.rule, sizeof(c->ex.rule), "WS-AUTH-3");
		c->ex.want_close = 4401;
		rc = ebf_case_step(c, EBF_S_TEXT, 1, true, fine[0], strlen(fine[0]), 0);
		break;
	case 4: { /* bad tokens: 4401 */
		static const ebf_auth bad[] = { EBF_AUTH_EXPIRED, EBF_AUTH_ALG_NONE,
			EBF_AUTH_BADSIG, EBF_AUTH_GARBAGE };

		snprintf(c->gen, sizeof(c->gen), "ws/bad-token");
		c->ws_auth = true;
		c->auth = bad[ebf_below(r, 4)];
		snprintf(c->ex.rule, sizeof(c->ex.rule), "WS-AUTH-2");
		c->ex.want_close = 4401;
		break;
	}
	case 5: /* binary frame: 4400 */
		snprintf(c->gen, sizeof(c->gen), "ws/binary");
		snprintf(c->ex.rule, sizeof(c->ex.rule), "WS-2");
		c->ex.want_close = 4400;
		rc = ebf_case_step(c, EBF_S_FRAME, 2, true, fine[0], strlen(fine[0]), 0);
		break;
	case 6: { /* oversize: 1009 */
		size_t pad = x->limits.max_frame_bytes + 1 + ebf_below(r, 4096);

		snprintf(c->gen, sizeof(c->gen), "ws/oversize");
		eb_buf_str(&b, "{\"type\":\"ping\",\"requestId\":\"big\",\"pad\":\"");
		buf_repeat(&b, "z", pad);
		eb_buf_str(&b, "\"}");
		if (b.oom) {
			eb_buf_clear(&b);
			return -1;
		}
		snprintf(c->ex.rule, sizeof(c->ex.rule), "LIMIT-6");
		c->ex.want_close = 1009;
		rc = ebf_case_step(c, EBF_S_TEXT, 1, true, b.p, b.len, 0);
		break;
	}
	case 7: { /* fragmented valid message: robustness, then must still answer */
		const char *m = fine[0];
		size_t n = strlen(m), cut = 1 + ebf_below(r, (uint32_t)n - 1);

		snprintf(c->gen, sizeof(c->gen), "ws/fragmented");
		rc = ebf_case_step(c, EBF_S_FRAME, 1, false, m, cut, 0) ||
		     ebf_case_step(c, EBF_S_FRAME, 0, true, m + cut, n - cut, 0);
		c->ex.rule[0] = '\0';
		break;
	}
	case 8: { /* truncated frame, then the connection ends */
		unsigned char hdr[8] = { 0x81, 0x80 | 100, 1, 2, 3, 4, 'x', 'y' };

		snprintf(c->gen, sizeof(c->gen), "ws/truncated");
		rc = ebf_case_step(c, EBF_S_RAW, 0, false, hdr, sizeof(hdr), 0);
		c->ex.rule[0] = '\0';
		break;
	}
	case 10: { /* the auth message sent a few bytes at a time */
		char *auth = NULL;
		size_t n;
		unsigned char *fr;

		if (eb_ws_encode_auth("slow", ebf_token(x, EBF_AUTH_VALID), &auth) != EB_OK)
			return -1;
		n = strlen(auth);
		/* A masked text frame with the key 0: the payload goes as is. */
		fr = malloc(n + 14);
		if (!fr) {
			free(auth);
			return -1;
		}
		fr[0] = 0x81;
		fr[1] = 0x80 | 126;
		fr[2] = (unsigned char)(n >> 8);
		fr[3] = (unsigned char)n;
		memset(fr + 4, 0, 4);
		memcpy(fr + 8, auth, n);
		snprintf(c->gen, sizeof(c->gen), "ws/slow-auth");
		c->ws_auth = false;
		snprintf(c->ex.rule, sizeof(c->ex.rule), "WS-AUTH-4");
		c->ex.want_open = true;
		rc = n < 126 || n > 65535 ? -1
					  : ebf_case_step(c, EBF_S_SLOW, 0, false, fr, n + 8,
							  1 + ebf_below(r, 4));
		free(fr);
		free(auth);
		break;
	}
	default: { /* control frames: a ping frame must get a pong (WS-7) */
		snprintf(c->gen, sizeof(c->gen), "ws/control-ping");
		snprintf(c->ex.rule, sizeof(c->ex.rule), "WS-7");
		c->ex.want_open = true;
		rc = ebf_case_step(c, EBF_S_FRAME, 9, true, "fz", 2, 0);
		break;
	}
	}
	eb_buf_clear(&b);
	return rc;
}

/* ---- the mix ------------------------------------------------------------------------ */

int ebf_gen_case(ebf_ctx *x, ebf_rng *r, unsigned long i, ebf_case *c)
{
	uint32_t d = ebf_below(r, 100);

	memset(c, 0, sizeof(*c));
	if (d < 10)
		return gen_http_sync(x, r, i, c, 0);
	if (d < 40)
		return gen_http_sync(x, r, i, c, 1);
	if (d < 50)
		return gen_http_sync(x, r, i, c, 2);
	if (d < 57)
		return gen_http_auth(x, r, i, c);
	if (d < 64)
		return gen_http_route(x, r, i, c);
	if (d < 73)
		return gen_http_feed(x, r, i, c);
	if (d < 82)
		return gen_tcp(x, r, i, c);
	if (d < 99)
		return gen_ws(x, r, i, c);
	return gen_http_big(x, r, i, c);
}
