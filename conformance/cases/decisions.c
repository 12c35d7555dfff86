/*
 * decisions.c — the questions PROTOCOL.md used to leave open, one case per
 * decided rule (GEN-8..11, CHG-10, FEED-7, ERR-8, ERR-9, LIMIT-11, AUTH-13,
 * WS-8..10, WS-AUTH-8, WS-SUB-7..9, RATE-5, RATE-6).
 *
 * Where the spec now allows two answers ("either is conformant"), the case
 * accepts exactly those two and still fails everything else: a server that
 * answers 500, applies the request, closes with another code or invents a
 * requestId is caught by the same case.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eb_json.h"
#include "eb_time.h"
#include "../ebc.h"

/* ---- helpers ----------------------------------------------------------------- */

/* POST body to store's sync with token (NULL: the case's). */
static bool d_post(ebc_ctx *ctx, const char *store, const char *tok, const char *body,
		   size_t len, eb_http_resp *resp)
{
	char path[256];

	snprintf(path, sizeof(path), "/api/stores/%s/sync", store);
	return ebc_req(ctx, NULL, "POST", path, tok ? tok : ebc_token(ctx), NULL, body, len,
		       NULL, 0, 0, resp);
}

/* The store is still at version want (nothing applied). */
static bool d_version_is(ebc_ctx *ctx, const char *store, uint64_t want, const char *rule)
{
	uint64_t v = 99;

	if (!ebc_version(ctx, store, &v))
		return false;
	if (v != want) {
		ebc_fail(ctx, rule, "the store unchanged by the refused request",
			 "version %llu, expected %llu", (unsigned long long)v,
			 (unsigned long long)want);
		return false;
	}
	return true;
}

/* A 400 whose code is one of a / b (ERR-1 body). */
static bool d_expect_400_either(ebc_ctx *ctx, const eb_http_resp *resp, const char *a,
				const char *b, const char *rule)
{
	eb_error_body *eb = NULL;
	bool ok;

	if (!ebc_expect_error(ctx, resp, 400, NULL, rule, &eb))
		return false;
	ok = eb->code && (strcmp(eb->code, a) == 0 || (b && strcmp(eb->code, b) == 0));
	if (!ok)
		ebc_fail(ctx, rule, b ? "400 with one of the two codes the rule allows" : "400 with the rule's code",
			 "400 %s (allowed: %s%s%s)", eb->code ? eb->code : "?", a, b ? ", " : "", b ? b : "");
	eb_error_body_free(eb);
	return ok;
}

/* Waits for the close and accepts code a or b. */
static bool d_expect_close2(ebc_ctx *ctx, ebc_ws *w, int a, int b, const char *rule)
{
	long to = ebc_timeout(ctx);
	char exp[64];

	snprintf(exp, sizeof(exp), "close code %d or %d", a, b);
	if (!ebc_ws_wait_close(w, to)) {
		ebc_fail(ctx, rule, exp, "the socket is still open %ld ms later", to);
		return false;
	}
	if (w->close_code != a && w->close_code != b) {
		ebc_fail(ctx, rule, exp, "%s %d", w->close_code ? "closed with code" :
			 "TCP closed without a close frame, code", w->close_code);
		return false;
	}
	return true;
}

/* ping answered by pong echoing the id. */
static bool d_alive(ebc_ws *w, const char *rule)
{
	char rid[16], text[64];
	eb_ws_server_msg *m;
	bool ok;

	ebc_ws_rid(w, rid, sizeof(rid));
	snprintf(text, sizeof(text), "{\"type\":\"ping\",\"requestId\":\"%s\"}", rid);
	m = ebc_ws_call(w, text, rid, rule);
	if (!m)
		return false;
	ok = m->type == EB_WS_S_PONG;
	if (!ok)
		ebc_fail(w->ctx, "WS-5", "pong", "reply of type %s", m->type_str ? m->type_str : "?");
	eb_ws_server_msg_free(m);
	return ok;
}

/* One change pushed to store with the case's token. */
static bool d_push_one(ebc_ctx *ctx, const char *store)
{
	uint64_t v = 0;

	if (!ebc_version(ctx, store, &v))
		return false;
	return ebc_push_n(ctx, NULL, store, ebc_token(ctx), 1, v, NULL, NULL, "SYNC-9");
}

static long d_quiet(ebc_ctx *ctx)
{
	long co = ctx->run->limits_offered ? (long)ctx->run->limits.coalesce_ms : 250;

	return ebc_ms(ctx, 2 * co + 400);
}

/* No store_changed of store within the quiet window (queued ones count). */
static bool d_no_notif(ebc_ctx *ctx, ebc_ws *w, const char *store, const char *rule,
		       const char *why)
{
	eb_ws_server_msg *m = NULL;
	int r = ebc_ws_wait_notif(w, store, 0, d_quiet(ctx), &m, NULL);

	if (r == 1) {
		ebc_fail(ctx, rule, why, "store_changed of %s version %llu", store,
			 (unsigned long long)m->version);
		eb_ws_server_msg_free(m);
		return false;
	}
	if (r < 0 && w->closed) {
		ebc_fail(ctx, rule, "the socket stays open", "closed with code %d", w->close_code);
		return false;
	}
	return !ebc_done(ctx);
}

/* ---- section 1 ------------------------------------------------------------------ */

static void d_bom(ebc_ctx *ctx)
{
	char store[160], id[32], body[512];
	eb_http_resp resp;
	int n;

	ebc_store(ctx, NULL, store, sizeof(store));
	n = snprintf(body, sizeof(body), "\xef\xbb\xbf{\"lastKnownVersion\":0,\"changes\":[{\"id\":\"%s\","
		     "\"timestamp\":1000,\"operation\":\"set\",\"path\":[\"a\"],\"value\":1}]}",
		     ebc_cid(ctx, id, sizeof(id)));
	if (!d_post(ctx, store, NULL, body, (size_t)n, &resp))
		return;
	if (resp.body_len >= 3 && memcmp(resp.body, "\xef\xbb\xbf", 3) == 0) {
		ebc_fail(ctx, "GEN-8", "a response body without a byte order mark",
			 "the response body starts with EF BB BF");
	} else if (resp.status == 200) {
		eb_sync_response *r = ebc_expect_ok(ctx, &resp, "GEN-8");

		if (r && r->current_version != 1)
			ebc_fail(ctx, "GEN-8", "accepted with the mark ignored: the change committed (version 1)",
				 "200 with currentVersion %llu", (unsigned long long)r->current_version);
		eb_sync_response_free(r);
	} else if (d_expect_400_either(ctx, &resp, "INVALID_JSON", NULL, "GEN-8")) {
		d_version_is(ctx, store, 0, "GEN-8");
	}
	ebc_note(ctx, "sent a body that starts with a UTF-8 byte order mark");
	eb_http_resp_clear(&resp);
}

static void d_lone_surrogate(ebc_ctx *ctx)
{
	static const char *const fmt[] = {
		"{\"lastKnownVersion\":0,\"changes\":[{\"id\":\"%s\\ud800\",\"timestamp\":1,\"operation\":\"set\",\"path\":[\"a\"],\"value\":1}]}",
		"{\"lastKnownVersion\":0,\"changes\":[{\"id\":\"%s\",\"timestamp\":1,\"operation\":\"set\",\"path\":[\"\\udc00\"],\"value\":1}]}",
		"{\"lastKnownVersion\":0,\"changes\":[{\"id\":\"%s\",\"timestamp\":1,\"operation\":\"set\",\"path\":[\"a\"],\"value\":\"x\\ud83dy\"}]}",
		"{\"lastKnownVersion\":0,\"changes\":[{\"id\":\"%s\",\"timestamp\":1,\"operation\":\"set\",\"path\":[\"a\"],\"value\":{\"\\udfff\":1}}]}",
		"{\"lastKnownVersion\":0,\"x\":\"\\ud800\\u0041\",\"changes\":[{\"id\":\"%s\",\"timestamp\":1,\"operation\":\"set\",\"path\":[\"a\"],\"value\":1}]}",
	};
	size_t i;

	for (i = 0; i < sizeof(fmt) / sizeof(fmt[0]) && !ebc_done(ctx); i++) {
		char store[160], id[32], body[512];
		eb_http_resp resp;

		ebc_store(ctx, NULL, store, sizeof(store));
		ebc_subst(body, sizeof(body), fmt[i], ebc_cid(ctx, id, sizeof(id)));
		if (!d_post(ctx, store, NULL, body, strlen(body), &resp))
			return;
		if (d_expect_400_either(ctx, &resp, "INVALID_JSON", "INVALID_REQUEST", "GEN-9"))
			d_version_is(ctx, store, 0, "GEN-9");
		else
			ebc_note(ctx, "body was: %s", body);
		eb_http_resp_clear(&resp);
	}
}

/* The numbers of the pushed array, read back, are the same doubles. */
static void d_number_forms(ebc_ctx *ctx)
{
	static const char *const sent[] = { "9007199254740993", "0.1000000000000000000001", "1.0",
					    "1e2", "-0", "1E-7", "123456789012345678901234567890" };
	const size_t ns = sizeof(sent) / sizeof(sent[0]);
	char store[160], id[32], id2[32], val[512], body[1024];
	char *json = NULL;
	eb_http_resp resp;
	eb_change *ch = NULL;
	size_t n = 0, i, off = 0;
	uint64_t cur = 0;

	memset(&resp, 0, sizeof(resp));
	ebc_store(ctx, NULL, store, sizeof(store));
	val[off++] = '[';
	for (i = 0; i < ns; i++)
		off += (size_t)snprintf(val + off, sizeof(val) - off, "%s%s", i ? "," : "", sent[i]);
	snprintf(val + off, sizeof(val) - off, "]");
	json = ebc_set_json(ebc_cid(ctx, id, sizeof(id)), 1000, "n", val);
	if (!json) {
		ebc_error(ctx, "out of memory");
		return;
	}
	snprintf(body, sizeof(body), "{\"lastKnownVersion\":0,\"changes\":[%s]}", json);
	if (!d_post(ctx, store, NULL, body, strlen(body), &resp))
		goto out;
	if (resp.status != 200) {
		ebc_fail(ctx, "GEN-10", "200: every number form of RFC 8259 is a valid value",
			 "status %ld for the value %s", resp.status, val);
		goto out;
	}
	if (!ebc_read_all(ctx, NULL, store, ebc_token(ctx), 0, 0, false, &ch, &n, &cur))
		goto out;
	if (n != 1 || !ch[0].value || !cJSON_IsArray(ch[0].value) ||
	    (size_t)cJSON_GetArraySize(ch[0].value) != ns) {
		ebc_fail(ctx, "CHG-9", "the value returned as pushed", "%zu changes, value not the %zu-number array",
			 n, ns);
		goto out;
	}
	for (i = 0; i < ns; i++) {
		const cJSON *e = cJSON_GetArrayItem(ch[0].value, (int)i);
		double want = strtod(sent[i], NULL);

		if (!cJSON_IsNumber(e) || e->valuedouble != want) {
			ebc_fail(ctx, "GEN-10", "each number read back as the same double",
				 "element %zu sent as %s came back as %.17g", i, sent[i],
				 cJSON_IsNumber(e) ? e->valuedouble : -1.0);
			goto out;
		}
	}
	/* beyond the range of a double: 400, or stored and returned as sent */
	eb_http_resp_clear(&resp);
	snprintf(body, sizeof(body), "{\"lastKnownVersion\":1,\"changes\":[{\"id\":\"%s\",\"timestamp\":1000,"
		 "\"operation\":\"set\",\"path\":[\"big\"],\"value\":1e400}]}", ebc_cid(ctx, id2, sizeof(id2)));
	if (!d_post(ctx, store, NULL, body, strlen(body), &resp))
		goto out;
	if (resp.status == 200) {
		eb_http_resp_clear(&resp);
		if (!ebc_get_changes(ctx, NULL, store, ebc_token(ctx), "since=1", &resp))
			goto out;
		if (resp.status != 200 || !resp.body || !strstr(resp.body, "1e400"))
			ebc_fail(ctx, "GEN-10", "1e400 accepted, so returned exactly as sent",
				 "feed status %ld without the text 1e400", resp.status);
	} else if (d_expect_400_either(ctx, &resp, "INVALID_JSON", "INVALID_REQUEST", "GEN-10")) {
		d_version_is(ctx, store, 1, "GEN-10");
	}
out:
	ebc_changes_free(ch, n);
	eb_http_resp_clear(&resp);
	free(json);
}

static void d_null_not_absent(ebc_ctx *ctx)
{
	static const char *const b[] = { "{\"lastKnownVersion\":0,\"changes\":null}",
					 "{\"lastKnownVersion\":0,\"limit\":null}",
					 "{\"lastKnownVersion\":0,\"changes\":[],\"limit\":null}" };
	size_t i;

	for (i = 0; i < 3 && !ebc_done(ctx); i++) {
		char store[160];
		eb_http_resp resp;

		ebc_store(ctx, NULL, store, sizeof(store));
		if (!d_post(ctx, store, NULL, b[i], strlen(b[i]), &resp))
			return;
		if (!ebc_expect_error(ctx, &resp, 400, "INVALID_REQUEST", "GEN-11", NULL))
			ebc_note(ctx, "body was: %s", b[i]);
		eb_http_resp_clear(&resp);
	}
}

/* ---- section 2: the value size counts canonical UTF-8 bytes --------------------- */

/* A change whose value is the string of n copies of unit (raw bytes) plus
 * pad ASCII 'x'; the canonical size is 2 + n * unit_bytes + pad. */
static char *d_string_value_change(const char *id, const char *unit, size_t n, size_t pad)
{
	size_t ul = strlen(unit), cap = 256 + n * ul + pad;
	char *s = malloc(cap);
	size_t off;

	if (!s)
		return NULL;
	off = (size_t)snprintf(s, cap, "{\"id\":\"%s\",\"timestamp\":1000,\"operation\":\"set\",\"path\":[\"v\"],\"value\":\"", id);
	while (n--) {
		memcpy(s + off, unit, ul);
		off += ul;
	}
	memset(s + off, 'x', pad);
	off += pad;
	snprintf(s + off, cap - off, "\"}");
	return s;
}

/* Posts one string-valued change; want_ok: 200 expected, else 422. */
static bool d_value_try(ebc_ctx *ctx, const char *unit, size_t n, size_t pad, bool want_ok,
			const char *what)
{
	char store[160], id[32];
	char *ch = NULL, *body = NULL;
	const char *one[1];
	eb_http_resp resp;
	eb_error_body *eb = NULL;
	bool ok = false;

	memset(&resp, 0, sizeof(resp));
	ebc_store(ctx, NULL, store, sizeof(store));
	ch = d_string_value_change(ebc_cid(ctx, id, sizeof(id)), unit, n, pad);
	one[0] = ch;
	body = ch ? ebc_body(0, one, 1, -1) : NULL;
	if (!body) {
		ebc_error(ctx, "out of memory");
		goto out;
	}
	if (!d_post(ctx, store, NULL, body, strlen(body), &resp))
		goto out;
	if (want_ok) {
		if (resp.status != 200) {
			ebc_fail(ctx, "CHG-7", "200: the canonical value is exactly at the limit",
				 "status %ld for %s", resp.status, what);
			goto out;
		}
	} else {
		if (resp.status == 200) {
			ebc_fail(ctx, "CHG-7", "422 LIMIT_EXCEEDED: the canonical value is one byte over",
				 "200 (accepted) for %s", what);
			goto out;
		}
		if (!ebc_expect_error(ctx, &resp, 422, "LIMIT_EXCEEDED", "CHG-7", &eb) ||
		    !ebc_expect_problem(ctx, eb, 0, "changes[0].value", "LIMIT_EXCEEDED", "ERR-2"))
			goto out;
	}
	ok = true;
out:
	eb_error_body_free(eb);
	eb_http_resp_clear(&resp);
	free(body);
	free(ch);
	return ok;
}

static void d_value_bytes(ebc_ctx *ctx)
{
	size_t max = ctx->run->limits.max_value_bytes;
	size_t room = max - 2;        /* the two quotes */
	size_t n2 = room / 2;          /* U+00E9: 2 bytes raw */
	size_t n6 = room / 4;          /* U+20AC as \u20ac: 3 bytes canonical, 6 sent */

	/* characters counted instead of bytes: max bytes of 2-byte characters
	 * is max/2 characters, so one byte over looks well under the limit */
	if (!d_value_try(ctx, "\xc3\xa9", n2, room - 2 * n2 + 1, false,
			 "a string of U+00E9 one UTF-8 byte over the limit"))
		return;
	if (!d_value_try(ctx, "\xc3\xa9", n2, room - 2 * n2, true,
			 "a string of U+00E9 exactly at the limit in UTF-8 bytes"))
		return;
	/* escapes sent count as the raw character: \u20ac is 3 bytes canonical */
	n6 = room / 3;
	d_value_try(ctx, "\\u20ac", n6, room - 3 * n6, true,
		    "a string of \\u20ac escapes (6 bytes each sent, 3 canonical) at the limit");
}

/* ---- section 4 ------------------------------------------------------------------- */

static void d_unknown_param_twice(ebc_ctx *ctx)
{
	char store[160];
	eb_http_resp resp;

	ebc_store(ctx, NULL, store, sizeof(store));
	if (!ebc_push_n(ctx, NULL, store, ebc_token(ctx), 2, 0, NULL, NULL, "SYNC-9"))
		return;
	if (!ebc_get_changes(ctx, NULL, store, ebc_token(ctx), "since=0&x-ext=1&x-ext=2", &resp))
		return;
	if (resp.status == 200) {
		eb_sync_response *r = ebc_expect_ok(ctx, &resp, "FEED-7");

		if (r && (r->n != 2 || r->current_version != 2))
			ebc_fail(ctx, "FEED-7", "the unknown parameter ignored: the 2 changes after since=0",
				 "%zu changes, currentVersion %llu", r->n, (unsigned long long)r->current_version);
		eb_sync_response_free(r);
	} else {
		ebc_expect_error(ctx, &resp, 400, "INVALID_REQUEST", "FEED-7", NULL);
	}
	eb_http_resp_clear(&resp);
	if (ebc_done(ctx))
		return;
	if (!ebc_get_changes(ctx, NULL, store, ebc_token(ctx), "since=0&x-ext=1&since=1", &resp))
		return;
	ebc_expect_error(ctx, &resp, 400, "INVALID_REQUEST", "FEED-7", NULL);
	eb_http_resp_clear(&resp);
}

/* ---- section 7 ------------------------------------------------------------------- */

static void d_whole_body_errors(ebc_ctx *ctx)
{
	static const char *const b[] = { "[]", "7", "\"x\"", "{", "[{\"lastKnownVersion\":0}]" };
	size_t i, k;

	for (i = 0; i < sizeof(b) / sizeof(b[0]) && !ebc_done(ctx); i++) {
		char store[160];
		eb_http_resp resp;
		eb_error_body *eb = NULL;

		ebc_store(ctx, NULL, store, sizeof(store));
		if (!d_post(ctx, store, NULL, b[i], strlen(b[i]), &resp))
			return;
		if (ebc_expect_error(ctx, &resp, 400, i == 3 ? "INVALID_JSON" : "INVALID_REQUEST",
				     i == 3 ? "GEN-1" : "SYNC-1", &eb)) {
			for (k = 0; eb->has_errors && k < eb->errors.n; k++) {
				if (eb->errors.items[k].index >= 0) {
					ebc_fail(ctx, "ERR-8", "errors absent, or entries without index",
						 "errors[%zu].index %ld for the body %s", k,
						 eb->errors.items[k].index, b[i]);
					break;
				}
			}
		}
		eb_error_body_free(eb);
		eb_http_resp_clear(&resp);
	}
}

/* WWW-Authenticate of resp into buf ("" when absent). */
static void d_challenge(const eb_http_resp *resp, char *buf, size_t len)
{
	if (!eb_http_resp_header(resp, "WWW-Authenticate", buf, len))
		buf[0] = '\0';
}

static bool d_starts_bearer(const char *c)
{
	return strncasecmp(c, "Bearer", 6) == 0 && (c[6] == '\0' || c[6] == ' ');
}

static void d_basic_no_error(ebc_ctx *ctx)
{
	char store[160], path[256], ch[256];
	eb_http_header h[1] = { { "Authorization", "Basic dXNlcjpwYXNzd29yZA==" } };
	eb_http_resp resp;

	ebc_store(ctx, NULL, store, sizeof(store));
	snprintf(path, sizeof(path), "/api/stores/%s/changes?since=0", store);
	if (!ebc_req(ctx, NULL, "GET", path, NULL, NULL, NULL, 0, h, 1, 0, &resp))
		return;
	if (ebc_expect_error(ctx, &resp, 401, "UNAUTHORIZED", "AUTH-1", NULL)) {
		d_challenge(&resp, ch, sizeof(ch));
		if (!d_starts_bearer(ch))
			ebc_fail(ctx, "ERR-4", "WWW-Authenticate: Bearer", "WWW-Authenticate: %s", ch);
		else if (strstr(ch, "error="))
			ebc_fail(ctx, "ERR-9", "WWW-Authenticate: Bearer without an error (Basic is no token)",
				 "WWW-Authenticate: %s", ch);
	}
	eb_http_resp_clear(&resp);
}

static void d_empty_bearer(ebc_ctx *ctx)
{
	static const char *const vals[] = { "Bearer", "Bearer ", "Bearer   " };
	size_t i;

	for (i = 0; i < 3 && !ebc_done(ctx); i++) {
		char store[160], path[256], ch[256];
		eb_http_header h[1];
		eb_http_resp resp;
		const char *e;

		h[0].name = "Authorization";
		h[0].value = vals[i];
		ebc_store(ctx, NULL, store, sizeof(store));
		snprintf(path, sizeof(path), "/api/stores/%s/changes?since=0", store);
		if (!ebc_req(ctx, NULL, "GET", path, NULL, NULL, NULL, 0, h, 1, 0, &resp))
			return;
		if (ebc_expect_error(ctx, &resp, 401, "UNAUTHORIZED", "AUTH-1", NULL)) {
			d_challenge(&resp, ch, sizeof(ch));
			e = strstr(ch, "error=");
			if (!d_starts_bearer(ch))
				ebc_fail(ctx, "ERR-4", "WWW-Authenticate: Bearer", "WWW-Authenticate: %s", ch);
			else if (e && strncmp(e, "error=\"invalid_token\"", 21) != 0 &&
				 strncmp(e, "error=\"invalid_request\"", 23) != 0)
				ebc_fail(ctx, "ERR-9", "no error, or error=\"invalid_token\" / \"invalid_request\"",
					 "WWW-Authenticate: %s", ch);
		}
		ebc_note(ctx, "sent Authorization: \"%s\"", vals[i]);
		eb_http_resp_clear(&resp);
	}
}

/* ---- section 8: advertised limits replace the defaults --------------------------- */

static void d_advertised_apply(ebc_ctx *ctx)
{
	const eb_limits *l = &ctx->run->limits;
	char store[160], q[64], id[32];
	char *cid = NULL, *json = NULL, *body = NULL;
	const char *one[1];
	eb_http_resp resp;
	eb_sync_response *r = NULL;
	size_t i, idlen = l->max_change_id_bytes;

	memset(&resp, 0, sizeof(resp));
	ebc_store(ctx, NULL, store, sizeof(store));
	if (!ebc_push_n(ctx, NULL, store, ebc_token(ctx), 1, 0, NULL, NULL, "SYNC-9"))
		return;
	snprintf(q, sizeof(q), "since=0&limit=%u", (unsigned)l->max_page_limit);
	if (!ebc_get_changes(ctx, NULL, store, ebc_token(ctx), q, &resp))
		goto out;
	r = ebc_expect_ok(ctx, &resp, "LIMIT-11");
	if (!r)
		goto out;
	eb_http_resp_clear(&resp);
	snprintf(q, sizeof(q), "since=0&limit=%u", (unsigned)l->max_page_limit + 1);
	if (!ebc_get_changes(ctx, NULL, store, ebc_token(ctx), q, &resp))
		goto out;
	if (!ebc_expect_error(ctx, &resp, 400, "INVALID_REQUEST", "LIMIT-11", NULL)) {
		ebc_note(ctx, "limit one above the advertised maxPageLimit %u", (unsigned)l->max_page_limit);
		goto out;
	}
	eb_http_resp_clear(&resp);
	/* a change id of exactly maxChangeIdBytes */
	cid = malloc(idlen + 1);
	if (!cid) {
		ebc_error(ctx, "out of memory");
		goto out;
	}
	ebc_cid(ctx, id, sizeof(id));
	for (i = 0; i < idlen; i++)
		cid[i] = i < strlen(id) ? id[i] : 'i';
	cid[idlen] = '\0';
	json = ebc_set_json(cid, 1000, "id", "1");
	one[0] = json;
	body = json ? ebc_body(1, one, 1, -1) : NULL;
	if (!body) {
		ebc_error(ctx, "out of memory");
		goto out;
	}
	if (!d_post(ctx, store, NULL, body, strlen(body), &resp))
		goto out;
	if (resp.status != 200)
		ebc_fail(ctx, "LIMIT-11", "200 for a change id of exactly the advertised maxChangeIdBytes",
			 "status %ld for a %zu-byte id", resp.status, idlen);
out:
	eb_sync_response_free(r);
	eb_http_resp_clear(&resp);
	free(body);
	free(json);
	free(cid);
}

/* ---- section 9 -------------------------------------------------------------------- */

static void d_readonly_body(ebc_ctx *ctx)
{
	char store[160], id[32], bad[512];
	const char *rd[1];
	char *tok = NULL;
	eb_http_resp resp;
	eb_error_body *eb = NULL;
	static const char *const notpush = "{\"lastKnownVersion\":0,\"changes\":[],\"limit\":0}";

	memset(&resp, 0, sizeof(resp));
	ebc_store(ctx, NULL, store, sizeof(store));
	rd[0] = store;
	tok = ebc_token_perm(ctx, rd, 1, NULL, 0);
	if (!tok)
		return;
	if (!d_post(ctx, store, tok, "{\"lastKnownVersion\":0,\"changes\":[", 33, &resp))
		goto out;
	if (!ebc_expect_error(ctx, &resp, 400, "INVALID_JSON", "AUTH-13", NULL)) {
		ebc_note(ctx, "a read-only token, a body that is not JSON");
		goto out;
	}
	eb_http_resp_clear(&resp);
	if (!d_post(ctx, store, tok, notpush, strlen(notpush), &resp))
		goto out;
	if (!ebc_expect_error(ctx, &resp, 400, "INVALID_REQUEST", "AUTH-13", NULL)) {
		ebc_note(ctx, "a read-only token, no changes (a read) with limit 0");
		goto out;
	}
	eb_http_resp_clear(&resp);
	snprintf(bad, sizeof(bad), "{\"lastKnownVersion\":0,\"changes\":[{\"id\":\"%s\",\"timestamp\":1000,"
		 "\"operation\":\"set\",\"path\":[],\"value\":1}]}", ebc_cid(ctx, id, sizeof(id)));
	if (!d_post(ctx, store, tok, bad, strlen(bad), &resp))
		goto out;
	if (resp.status == 403) {
		ebc_expect_error(ctx, &resp, 403, "FORBIDDEN", "AUTH-13", NULL);
	} else if (ebc_expect_error(ctx, &resp, 400, "INVALID_REQUEST", "AUTH-13", &eb)) {
		ebc_note(ctx, "answered for the empty path (400) rather than the permission: allowed");
	} else {
		ebc_note(ctx, "a read-only token pushing a change with an empty path: 403 or 400 allowed");
	}
	if (!ebc_done(ctx))
		d_version_is(ctx, store, 0, "AUTH-13");
out:
	eb_error_body_free(eb);
	eb_http_resp_clear(&resp);
	free(tok);
}

/* ---- section 10 ------------------------------------------------------------------- */

static void d_malformed_before_auth(ebc_ctx *ctx)
{
	static const char *const texts[] = { "not json", "[1,2]", "{\"requestId\":\"1\"}",
					     "{\"type\":\"auth\",\"requestId\":\"1\",\"token\":\"x\"," };
	size_t i;

	for (i = 0; i < 5 && !ebc_done(ctx); i++) {
		ebc_ws *w = ebc_ws_open(ctx);
		eb_err err;
		bool sent;

		if (!w)
			return;
		eb_err_clear(&err);
		if (i < 4) {
			sent = ebc_ws_send(w, texts[i]);
		} else {
			const char *auth = "{\"type\":\"auth\",\"requestId\":\"1\",\"token\":\"x\"}";

			/* a binary frame (opcode 2) before auth */
			sent = eb_wsc_send_frame(w->c, 2, true, auth, strlen(auth), false, &err) == EB_OK;
			if (!sent)
				ebc_error(ctx, "cannot send a binary frame: %s", err.msg);
		}
		if (sent && !d_expect_close2(ctx, w, 4400, 4401, "WS-8"))
			ebc_note(ctx, "first message: %s", i < 4 ? texts[i] : "a binary frame");
		ebc_ws_free(w);
	}
}

static void d_auth_token_type(ebc_ctx *ctx)
{
	static const char *const texts[] = {
		"{\"type\":\"auth\",\"requestId\":\"a1\"}",
		"{\"type\":\"auth\",\"requestId\":\"a1\",\"token\":42}",
		"{\"type\":\"auth\",\"requestId\":\"a1\",\"token\":null}",
		"{\"type\":\"auth\",\"requestId\":\"a1\",\"token\":[\"x\"]}",
	};
	size_t i;

	for (i = 0; i < 5 && !ebc_done(ctx); i++) {
		/* the last round: a missing token on an authenticated socket */
		ebc_ws *w = i < 4 ? ebc_ws_open(ctx) : ebc_ws_ready(ctx, NULL, NULL, NULL);

		if (!w)
			return;
		if (ebc_ws_send(w, texts[i < 4 ? i : 0]) &&
		    !d_expect_close2(ctx, w, 4400, 4401, "WS-9"))
			ebc_note(ctx, "%s: %s", i < 4 ? "first message" : "after auth_ok", texts[i < 4 ? i : 0]);
		ebc_ws_free(w);
	}
}

static void d_unknown_type_no_rid(ebc_ctx *ctx)
{
	static const char *const texts[] = { "{\"type\":\"x-future-hint\"}",
					     "{\"type\":\"x-future-hint\",\"requestId\":7}",
					     "{\"type\":\"x-future-hint\",\"requestId\":\"\"}" };
	size_t i;

	for (i = 0; i < 3 && !ebc_done(ctx); i++) {
		ebc_ws *w = ebc_ws_ready(ctx, NULL, NULL, NULL);
		eb_ws_server_msg *m = NULL;
		int r;

		if (!w)
			return;
		if (!ebc_ws_send(w, texts[i]))
			goto next;
		r = ebc_ws_reply(w, texts[i], &m);
		if (r < 0 && w->closed) {
			if (w->close_code != 4400)
				ebc_fail(ctx, "WS-10", "error UNKNOWN_TYPE without requestId, or close 4400",
					 "closed with code %d after %s", w->close_code, texts[i]);
			goto next;
		}
		if (r == 0) {
			ebc_fail(ctx, "WS-10", "error UNKNOWN_TYPE without requestId, or close 4400",
				 "no answer to %s within %ld ms", texts[i], ebc_timeout(ctx));
			goto next;
		}
		if (r < 0)
			goto next;
		if (m->type != EB_WS_S_ERROR || !m->code || strcmp(m->code, "UNKNOWN_TYPE") != 0) {
			ebc_fail(ctx, "WS-10", "error UNKNOWN_TYPE without requestId, or close 4400",
				 "%s %s after %s", m->type_str ? m->type_str : "?", m->code ? m->code : "",
				 texts[i]);
			goto next;
		}
		if (m->request_id) {
			ebc_fail(ctx, "WS-10", "no requestId the message did not carry",
				 "error UNKNOWN_TYPE with requestId \"%s\" after %s", m->request_id, texts[i]);
			goto next;
		}
		d_alive(w, "WS-10");
next:
		eb_ws_server_msg_free(m);
		ebc_ws_free(w);
	}
}

/* Finds store in the ack's stores (*v its version) or errors (*code). */
static int d_ack_find(const eb_ws_server_msg *m, const char *store, uint64_t *v, const char **code)
{
	size_t i;
	int hits = 0;

	for (i = 0; i < m->n_stores; i++)
		if (strcmp(m->stores[i].store_id, store) == 0) {
			if (v)
				*v = m->stores[i].version;
			hits++;
		}
	for (i = 0; i < m->n_errors; i++)
		if (strcmp(m->errors[i].store_id, store) == 0) {
			if (code)
				*code = m->errors[i].code;
			hits += 100;
		}
	return hits;
}

/* Re-auth with a token that may read one of the two subscribed stores. */
static void d_reauth_fewer(ebc_ctx *ctx)
{
	char sa[160], sb[160];
	const char *both[2] = { sa, sb }, *only_a[1] = { sa };
	char *t2 = NULL;
	ebc_ws *w = NULL;
	eb_ws_server_msg *m = NULL;
	const char *code = NULL;
	ebc_store(ctx, "a", sa, sizeof(sa));
	ebc_store(ctx, "b", sb, sizeof(sb));
	t2 = ebc_token_perm(ctx, only_a, 1, NULL, 0);
	if (!t2)
		return;
	w = ebc_ws_ready(ctx, NULL, NULL, NULL);
	if (!w)
		goto out;
	m = ebc_ws_sub(w, false, both, 2, "WS-SUB-1");
	if (!m)
		goto out;
	eb_ws_server_msg_free(m);
	m = NULL;
	if (!ebc_ws_auth(w, t2, NULL))
		goto out;
	/* later subscriptions follow the new permissions */
	m = ebc_ws_sub(w, false, &both[1], 1, "WS-AUTH-6");
	if (!m)
		goto out;
	if (d_ack_find(m, sb, NULL, &code) != 100 || !code || strcmp(code, "FORBIDDEN") != 0) {
		ebc_fail(ctx, "WS-AUTH-6", "FORBIDDEN for a store the new token may not read",
			 "%s", code ? code : "subscribed (the old token's permissions still apply)");
		goto out;
	}
	/* and the old subscription to B has ended */
	if (!d_push_one(ctx, sb) || !d_push_one(ctx, sa))
		goto out;
	if (ebc_ws_wait_notif(w, sa, 1, ebc_ms(ctx, 2000), NULL, "WS-SUB-2") != 1) {
		if (!ebc_done(ctx))
			ebc_fail(ctx, "WS-NOTIF-1", "store_changed of the readable store", "none within 2 s");
		goto out;
	}
	d_no_notif(ctx, w, sb, "WS-AUTH-8",
		   "no notification of a store the new token may not read");
out:
	eb_ws_server_msg_free(m);
	ebc_ws_free(w);
	free(t2);
}

/* A token that expires within seconds replaces a long one: its exp closes
 * the socket (WS-AUTH-5 with the new exp). */
static void d_reauth_new_expiry(ebc_ctx *ctx)
{
	eb_jwt_mint_opts o;
	const char *pats[2];
	char pb[160];
	char *t2 = NULL;
	ebc_ws *w = NULL;
	int64_t exp = (int64_t)(ebc_now_ms() / 1000) + 2;
	long wait;

	ebc_tok_default(ctx, &o, pats, pb, sizeof(pb));
	o.exp = exp;
	t2 = ebc_mint(ctx, &o);
	if (!t2)
		return;
	w = ebc_ws_ready(ctx, NULL, NULL, NULL);
	if (!w || !ebc_ws_auth(w, t2, NULL))
		goto out;
	wait = (long)((exp + ctx->run->opts->jwt_leeway_s) * 1000 - (int64_t)ebc_now_ms()) + 3000;
	ebc_note(ctx, "re-authenticated with a token expiring at %lld s (the first one had an hour); "
		 "waiting up to %ld ms for close 4401", (long long)exp, ebc_ms(ctx, wait));
	if (!ebc_ws_wait_close(w, ebc_ms(ctx, wait))) {
		ebc_fail(ctx, "WS-AUTH-6", "close 4401 once the new token expires (it replaced the old one)",
			 "the socket is still open %ld ms later", ebc_ms(ctx, wait));
	} else if (w->close_code != 4401) {
		ebc_fail(ctx, "WS-AUTH-5", "close code 4401", "closed with code %d", w->close_code);
	}
out:
	ebc_ws_free(w);
	free(t2);
}

static void d_subscribe_twice(ebc_ctx *ctx)
{
	char sa[160];
	const char *twice[2] = { sa, sa };
	ebc_ws *w = NULL;
	eb_ws_server_msg *m = NULL;
	size_t i;
	int hits;

	ebc_store(ctx, NULL, sa, sizeof(sa));
	w = ebc_ws_ready(ctx, NULL, NULL, NULL);
	if (!w)
		return;
	m = ebc_ws_sub(w, false, twice, 2, "WS-SUB-7");
	if (!m)
		goto out;
	hits = d_ack_find(m, sa, NULL, NULL);
	if (hits < 1 || hits > 2) {
		ebc_fail(ctx, "WS-SUB-7", "the store listed in stores once or twice, no error",
			 "%d in stores, %d in errors", hits % 100, hits / 100);
		goto out;
	}
	for (i = 0; i < m->n_stores; i++)
		if (m->stores[i].version != 0) {
			ebc_fail(ctx, "WS-SUB-1", "version 0 for the new store", "version %llu",
				 (unsigned long long)m->stores[i].version);
			goto out;
		}
	eb_ws_server_msg_free(m);
	m = NULL;
	if (!d_push_one(ctx, sa))
		goto out;
	if (ebc_ws_wait_notif(w, sa, 1, ebc_ms(ctx, 2000), NULL, "WS-SUB-2") != 1) {
		if (!ebc_done(ctx))
			ebc_fail(ctx, "WS-NOTIF-1", "store_changed version 1", "none within 2 s");
		goto out;
	}
	if (!d_no_notif(ctx, w, sa, "WS-SUB-7", "one notification per commit, not one per occurrence"))
		goto out;
	m = ebc_ws_sub(w, true, twice, 1, "WS-SUB-5");
	if (!m)
		goto out;
	if (!d_push_one(ctx, sa))
		goto out;
	d_no_notif(ctx, w, sa, "WS-SUB-7", "no notification after one unsubscribe");
out:
	eb_ws_server_msg_free(m);
	ebc_ws_free(w);
}

/* unsubscribe of a store the token may not read; strict: with FORBIDDEN. */
static void d_unsub_unreadable_run(ebc_ctx *ctx, bool strict)
{
	char sa[160], sb[160];
	const char *only_a[1] = { sa }, *b[1] = { sb };
	char *tok = NULL;
	const char *code = NULL;
	ebc_ws *w = NULL;
	eb_ws_server_msg *m = NULL;
	int hits;

	ebc_store(ctx, "a", sa, sizeof(sa));
	ebc_store(ctx, "b", sb, sizeof(sb));
	tok = ebc_token_perm(ctx, only_a, 1, NULL, 0);
	if (!tok)
		return;
	w = ebc_ws_ready(ctx, tok, sa, NULL);
	if (!w)
		goto out;
	m = ebc_ws_sub(w, true, b, 1, "WS-SUB-8");
	if (!m)
		goto out;
	hits = d_ack_find(m, sb, NULL, &code);
	if (hits != 1 && !(hits == 100 && code && strcmp(code, "FORBIDDEN") == 0)) {
		ebc_fail(ctx, "WS-SUB-8", "the store in stores, or in errors with FORBIDDEN",
			 "%d in stores, %d in errors (code %s)", hits % 100, hits / 100, code ? code : "-");
		goto out;
	}
	if (strict && hits != 100) {
		ebc_fail(ctx, "WS-SUB-9", "a per-store error FORBIDDEN, not the store's version",
			 "listed in stores with its version");
		goto out;
	}
	d_alive(w, "WS-SUB-8");
out:
	eb_ws_server_msg_free(m);
	ebc_ws_free(w);
	free(tok);
}

static void d_unsub_unreadable(ebc_ctx *ctx)
{
	d_unsub_unreadable_run(ctx, false);
}

static void d_unsub_unreadable_forbidden(ebc_ctx *ctx)
{
	d_unsub_unreadable_run(ctx, true);
}

/* ---- section 11 -------------------------------------------------------------------- */

/* Requests with a badly signed token naming the case's subject, more than
 * the bucket holds, then the subject's first real request: it must be
 * served. */
static void d_forged_sub_not_charged(ebc_ctx *ctx)
{
	const eb_limits *l = &ctx->run->limits;
	char store[160], path[256];
	char *forged = NULL;
	eb_http_resp resp;
	uint64_t t0 = eb_time_mono_ns();
	size_t n = 0;
	const long budget = ebc_ms(ctx, 6000);

	memset(&resp, 0, sizeof(resp));
	forged = ebc_mint_signed(ctx, EB_JWT_HS256, "not-the-server-secret-0123456789");
	if (!forged)
		return;
	ebc_store(ctx, NULL, store, sizeof(store));
	snprintf(path, sizeof(path), "/api/stores/%s/changes?since=0", store);
	for (;;) {
		double el = (double)(eb_time_mono_ns() - t0) / 1e9;

		if ((double)n > l->http_burst + l->http_per_second * el + 2.0)
			break;
		if (el * 1000.0 > (double)budget) {
			ebc_skip(ctx, "the server answered %zu requests in %.1f s: too slow to go past "
				 "its own bucket (burst %.0f, %.1f/s)", n, el, l->http_burst, l->http_per_second);
			goto out;
		}
		if (!ebc_req(ctx, NULL, "GET", path, forged, NULL, NULL, 0, NULL, 0, EBC_REQ_NO_RETRY, &resp))
			goto out;
		if (resp.status != 401) {
			ebc_fail(ctx, "RATE-5", "401 for every badly signed token (authentication comes first)",
				 "status %ld for forged request %zu", resp.status, n + 1);
			goto out;
		}
		eb_http_resp_clear(&resp);
		n++;
	}
	ebc_note(ctx, "%zu badly signed requests naming this subject, all 401", n);
	if (!ebc_req(ctx, NULL, "GET", path, ebc_token(ctx), NULL, NULL, 0, NULL, 0, EBC_REQ_NO_RETRY, &resp))
		goto out;
	if (resp.status == 429)
		ebc_fail(ctx, "RATE-5", "200: forged tokens are not charged to the subject they name",
			 "429 for the subject's first valid request");
	else
		eb_sync_response_free(ebc_expect_ok(ctx, &resp, "RATE-5"));
out:
	eb_http_resp_clear(&resp);
	free(forged);
}

/* Sends a ping on w and classifies the reply: 1 pong, 2 RATE_LIMITED
 * error, 3 closed 4429, 0 after a verdict. */
static int d_ping_kind(ebc_ctx *ctx, ebc_ws *w)
{
	char rid[16], text[64];
	eb_ws_server_msg *m = NULL;
	int r, kind = 0;

	ebc_ws_rid(w, rid, sizeof(rid));
	snprintf(text, sizeof(text), "{\"type\":\"ping\",\"requestId\":\"%s\"}", rid);
	if (!ebc_ws_send(w, text))
		return 0;
	for (;;) {
		r = ebc_ws_next(w, ebc_timeout(ctx), &m);
		if (r < 0 && w->closed) {
			if (w->close_code == 4429)
				return 3;
			ebc_fail(ctx, "RATE-4", "pong, error RATE_LIMITED or close 4429",
				 "closed with code %d", w->close_code);
			return 0;
		}
		if (r <= 0) {
			if (!ebc_done(ctx))
				ebc_fail(ctx, "WS-5", "a reply to ping", "none within %ld ms", ebc_timeout(ctx));
			return 0;
		}
		if (m->type == EB_WS_S_PONG)
			kind = 1;
		else if (m->type == EB_WS_S_ERROR && m->code && strcmp(m->code, "RATE_LIMITED") == 0)
			kind = 2;
		eb_ws_server_msg_free(m);
		m = NULL;
		if (kind)
			return kind;
	}
}

static void d_ws_bucket_shared(ebc_ctx *ctx)
{
	const eb_limits *l = &ctx->run->limits;
	ebc_ws *w1 = NULL, *w2 = NULL;
	uint64_t t0, t_refused;
	size_t n = 0, pongs = 0, k;
	int kind;

	w1 = ebc_ws_ready(ctx, NULL, NULL, NULL);
	w2 = w1 ? ebc_ws_ready(ctx, NULL, NULL, NULL) : NULL;
	if (!w2)
		goto out;
	/* this case is about the bucket: no pacing by it */
	w1->unpaced = true;
	w2->unpaced = true;
	t0 = eb_time_mono_ns();
	for (;;) {
		double el = (double)(eb_time_mono_ns() - t0) / 1e9;

		if (el > (double)ebc_ms(ctx, 5000) / 1000.0) {
			ebc_skip(ctx, "%zu pings took %.1f s without reaching the bucket's end: the server "
				 "answers slower than its refill rate", n, el);
			goto out;
		}
		kind = d_ping_kind(ctx, w1);
		if (!kind)
			goto out;
		n++;
		if (kind != 1)
			break;
		if ((double)n > l->ws_burst + l->ws_per_second * el + 2.0) {
			ebc_fail(ctx, "RATE-4", "RATE_LIMITED past the advertised WebSocket bucket",
				 "%zu pongs in %.2f s (burst %.0f, %.1f/s)", n, el, l->ws_burst, l->ws_per_second);
			goto out;
		}
	}
	t_refused = eb_time_mono_ns();
	/* the bucket is the subject's: the other socket finds it empty */
	for (k = 0; k < 3; k++) {
		double el = (double)(eb_time_mono_ns() - t_refused) / 1e9;

		kind = d_ping_kind(ctx, w2);
		if (!kind)
			goto out;
		if (kind != 1)
			break;
		pongs++;
		if ((double)pongs > l->ws_per_second * el + 1.0) {
			ebc_fail(ctx, "RATE-6", "the second socket of the subject refused (shared bucket)",
				 "%zu pongs on the second socket %.0f ms after the first was refused "
				 "(%.1f/s refill)", pongs, el * 1000.0, l->ws_per_second);
			goto out;
		}
	}
	ebc_note(ctx, "first socket refused after %zu messages; second socket: %zu pongs, then %s", n,
		 pongs, kind == 2 ? "RATE_LIMITED" : kind == 3 ? "close 4429" : "pongs only");
out:
	ebc_ws_free(w1);
	ebc_ws_free(w2);
}

/* ---- the table --------------------------------------------------------------------- */

const ebc_case ebc_cases_decisions[] = {
	{ "validation/bom-accepted-or-400", "A body starting with a byte order mark: applied or 400 INVALID_JSON",
	  "MUST", { "GEN-8", "GEN-1" }, { "validation", "json" }, 0, d_bom },
	{ "validation/lone-surrogate-400", "An escaped lone surrogate anywhere in a body is 400 and applies nothing",
	  "MUST", { "GEN-9", "GEN-1", "SYNC-2" }, { "validation", "json" }, 0, d_lone_surrogate },
	{ "validation/number-forms", "Number forms read back as the same doubles; 1e400 is 400 or kept as sent",
	  "MUST", { "GEN-10", "CHG-9" }, { "validation", "json" }, 0, d_number_forms },
	{ "validation/null-is-not-absent", "\"changes\": null and \"limit\": null are type errors",
	  "MUST", { "GEN-11", "SYNC-1" }, { "validation" }, 0, d_null_not_absent },
	{ "limits/value-size-utf8-bytes", "The value limit counts canonical UTF-8 bytes, not characters or escapes",
	  "MUST", { "CHG-7", "CHG-10", "LIMIT-4" }, { "limits" }, 0, d_value_bytes },
	{ "feed/unknown-param-repeated", "An unknown parameter twice is ignored or 400; since twice is 400",
	  "MUST", { "FEED-7", "FEED-5" }, { "feed", "syntax" }, 0, d_unknown_param_twice },
	{ "errors/whole-body-errors", "Errors about the whole body carry no errors[].index",
	  "MUST", { "ERR-8", "ERR-2" }, { "errors" }, 0, d_whole_body_errors },
	{ "auth/basic-scheme-no-error", "Authorization: Basic is no token: the challenge carries no error",
	  "SHOULD", { "ERR-9", "ERR-4" }, { "auth" }, EBC_F_AUTH, d_basic_no_error },
	{ "auth/empty-bearer", "An empty Bearer credential is 401 with a Bearer challenge",
	  "MUST", { "ERR-4", "AUTH-1" }, { "auth" }, EBC_F_AUTH, d_empty_bearer },
	{ "limits/advertised-values-apply", "The advertised maxPageLimit and maxChangeIdBytes replace 1000 and 128",
	  "MUST", { "LIMIT-11", "LIMIT-7", "LIMIT-5" }, { "limits" }, 0, d_advertised_apply },
	{ "auth/read-only-body-judged", "A read-only token: bad JSON 400, a read 400 on its own merits, a push 403 or 400",
	  "MUST", { "AUTH-13", "AUTH-11" }, { "auth", "permissions" }, EBC_F_AUTH, d_readonly_body },
	{ "ws/malformed-before-auth", "A malformed or binary first message closes with 4400 or 4401",
	  "MUST", { "WS-8", "WS-2" }, { "ws", "auth" }, EBC_F_AUTH, d_malformed_before_auth },
	{ "ws/auth-token-not-string", "auth without a string token closes with 4400 or 4401",
	  "MUST", { "WS-9", "WS-AUTH-2" }, { "ws", "auth" }, EBC_F_AUTH, d_auth_token_type },
	{ "ws/unknown-type-without-request-id", "An unknown type without a valid requestId: UNKNOWN_TYPE without one, or 4400",
	  "MUST", { "WS-10", "WS-3", "WS-4" }, { "ws" }, 0, d_unknown_type_no_rid },
	{ "ws/reauth-fewer-permissions", "After a re-auth with fewer permissions, unreadable stores are refused and no longer notified",
	  "MUST", { "WS-AUTH-6", "WS-AUTH-8" }, { "ws", "auth" }, EBC_F_AUTH, d_reauth_fewer },
	{ "ws/reauth-new-expiry", "After a re-auth the new token's exp closes the socket",
	  "MUST", { "WS-AUTH-6", "WS-AUTH-8", "WS-AUTH-5" }, { "ws", "auth" }, EBC_F_AUTH | EBC_F_SLOW,
	  d_reauth_new_expiry },
	{ "ws/subscribe-same-store-twice", "One store twice in a subscribe: one subscription, one notification per commit",
	  "MUST", { "WS-SUB-7", "WS-SUB-1" }, { "ws", "subscriptions" }, 0, d_subscribe_twice },
	{ "ws/unsubscribe-unreadable", "Unsubscribing a store the token may not read is acknowledged, socket open",
	  "MUST", { "WS-SUB-8" }, { "ws", "subscriptions" }, EBC_F_AUTH, d_unsub_unreadable },
	{ "ws/unsubscribe-unreadable-forbidden", "Unsubscribing an unreadable store reports FORBIDDEN, not its version",
	  "SHOULD", { "WS-SUB-9" }, { "ws", "subscriptions" }, EBC_F_AUTH, d_unsub_unreadable_forbidden },
	{ "rate/forged-sub-not-charged", "Badly signed tokens naming a subject do not drain its bucket",
	  "MUST", { "RATE-5", "RATE-1" }, { "rate" }, EBC_F_RATE | EBC_F_AUTH, d_forged_sub_not_charged },
	{ "rate/ws-bucket-per-subject", "The WebSocket bucket is shared by the subject's sockets",
	  "MUST", { "RATE-6", "RATE-4" }, { "rate", "ws" }, EBC_F_RATE, d_ws_bucket_shared },
};
const size_t ebc_cases_decisions_n = sizeof(ebc_cases_decisions) / sizeof(ebc_cases_decisions[0]);
