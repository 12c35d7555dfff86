/*
 * behaviours.c — behaviours no other case pinned down, each checked through
 * the rule it breaks first (so that the verdict names that rule, not a
 * neighbour that happens to notice later):
 *   future timestamps inside the skew allowance kept (TS-1); a sync page
 *   cut to limit after leaving out the pushed changes (SYNC-7); array aud
 *   (AUTH-6); change-id length in bytes (LIMIT-5); one HTTP bucket per
 *   subject, not per token (RATE-1); sync itself rate-limited (RATE-2);
 *   deletes in the feed (FEED-6); pong echoing requestId (WS-4); no version
 *   used up by a refused conflict (VER-2).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eb_time.h"
#include "../ebc.h"

/* POST body (NUL-terminated) to store's sync with tok (NULL: the case's). */
static bool b_post(ebc_ctx *ctx, const char *store, const char *tok, const char *body,
		   unsigned flags, eb_http_resp *resp)
{
	char path[256];

	snprintf(path, sizeof(path), "/api/stores/%s/sync", store);
	return ebc_req(ctx, NULL, "POST", path, tok ? tok : ebc_token(ctx), NULL, body,
		       strlen(body), NULL, 0, flags, resp);
}

/* ---- TS-1: a future timestamp inside the allowance is kept ------------------- */

static void b_future_ts_kept(ebc_ctx *ctx)
{
	uint64_t skew = ctx->run->limits.timestamp_skew_ms, ahead, ts;
	char store[160], id[32];
	char *ch = NULL, *body = NULL;
	const char *one[1];
	eb_sync_response *r = NULL;
	eb_change *got = NULL;
	size_t n = 0;
	uint64_t cur = 0;

	if (skew < 2000) {
		ebc_skip(ctx, "the advertised timestampSkewMs (%llu) leaves no room for a future "
			 "timestamp inside it", (unsigned long long)skew);
		return;
	}
	ahead = skew / 2 < 30000 ? skew / 2 : 30000;
	ts = ebc_now_ms() + ahead;
	ebc_store(ctx, NULL, store, sizeof(store));
	ch = ebc_set_json(ebc_cid(ctx, id, sizeof(id)), ts, "f", "1");
	one[0] = ch;
	body = ch ? ebc_body(0, one, 1, -1) : NULL;
	if (!body) {
		ebc_error(ctx, "out of memory");
		goto out;
	}
	r = ebc_sync_ok(ctx, NULL, store, ebc_token(ctx), body, "TS-2");
	if (!r) {
		ebc_note(ctx, "timestamp %llu ms ahead, inside the allowance of %llu ms",
			 (unsigned long long)ahead, (unsigned long long)skew);
		goto out;
	}
	if (!ebc_read_all(ctx, NULL, store, ebc_token(ctx), 0, 0, false, &got, &n, &cur))
		goto out;
	if (n != 1 || got[0].timestamp != ts)
		ebc_fail(ctx, "TS-1", "the timestamp as pushed (a client's clock may run ahead)",
			 "pushed %llu (%llu ms ahead), read back %llu", (unsigned long long)ts,
			 (unsigned long long)ahead, n ? (unsigned long long)got[0].timestamp : 0ULL);
out:
	ebc_changes_free(got, n);
	eb_sync_response_free(r);
	free(body);
	free(ch);
}

/* ---- SYNC-7: own changes left out before the page is cut ---------------------- */

static void b_own_before_limit(ebc_ctx *ctx)
{
	char store[160], ids[3][32];
	char *ch[3] = { NULL, NULL, NULL };
	char *b = NULL;
	eb_sync_response *r = NULL;
	size_t i;

	ebc_store(ctx, NULL, store, sizeof(store));
	/* version 1 comes from another request */
	if (!ebc_push_n(ctx, NULL, store, ebc_token(ctx), 1, 0, NULL, NULL, "SYNC-9"))
		return;
	for (i = 0; i < 3; i++) {
		ch[i] = ebc_set_json(ebc_cid(ctx, ids[i], sizeof(ids[i])), 1000 + i, ids[i], "2");
		if (!ch[i]) {
			ebc_error(ctx, "out of memory");
			goto out;
		}
	}
	b = ebc_body(0, (const char *const *)ch, 3, 2);
	if (!b) {
		ebc_error(ctx, "out of memory");
		goto out;
	}
	r = ebc_sync_ok(ctx, NULL, store, ebc_token(ctx), b, "SYNC-9");
	if (!r)
		goto out;
	for (i = 0; i < r->n; i++)
		if (r->changes[i].version != 1) {
			ebc_fail(ctx, "SYNC-5", "only version 1 (the request's own changes left out)",
				 "version %llu in the response", (unsigned long long)r->changes[i].version);
			goto out;
		}
	if (r->n != 1 || r->has_more || r->to_version != r->current_version)
		ebc_fail(ctx, "SYNC-7", "[version 1], hasMore false, toVersion = currentVersion (4): nothing "
			 "but the request's own changes remains",
			 "%zu changes, hasMore %s, toVersion %llu, currentVersion %llu", r->n,
			 r->has_more ? "true" : "false", (unsigned long long)r->to_version,
			 (unsigned long long)r->current_version);
	ebc_note(ctx, "pushed 3 changes at lastKnownVersion 0 with limit 2 onto a store at version 1");
out:
	eb_sync_response_free(r);
	free(b);
	for (i = 0; i < 3; i++)
		free(ch[i]);
}

/* ---- AUTH-6: an array aud must contain the audience ----------------------------- */

static void b_aud_array(ebc_ctx *ctx)
{
	eb_jwt_mint_opts o;
	const char *pats[2];
	char pb[160], store[160];
	const char *bad[2] = { "ebc-other-audience-1", "ebc-other-audience-2" };
	const char *good[2] = { "ebc-other-audience-1", ctx->run->opts->jwt_audience };
	char *tb = NULL, *tg = NULL;
	eb_http_resp resp;

	memset(&resp, 0, sizeof(resp));
	ebc_tok_default(ctx, &o, pats, pb, sizeof(pb));
	o.aud_list = bad;
	o.n_aud_list = 2;
	tb = ebc_mint(ctx, &o);
	o.aud_list = good;
	tg = tb ? ebc_mint(ctx, &o) : NULL;
	if (!tg)
		goto out;
	ebc_store(ctx, NULL, store, sizeof(store));
	if (!ebc_get_changes(ctx, NULL, store, tb, "since=0", &resp))
		goto out;
	if (!ebc_expect_error(ctx, &resp, 401, "UNAUTHORIZED", "AUTH-6", NULL)) {
		ebc_note(ctx, "aud was [\"%s\", \"%s\"], the server's audience is %s", bad[0], bad[1],
			 good[1]);
		goto out;
	}
	eb_http_resp_clear(&resp);
	if (!ebc_get_changes(ctx, NULL, store, tg, "since=0", &resp))
		goto out;
	{
		eb_sync_response *r = ebc_expect_ok(ctx, &resp, "AUTH-6");

		if (!r)
			ebc_note(ctx, "aud was an array holding the server's audience");
		eb_sync_response_free(r);
	}
out:
	eb_http_resp_clear(&resp);
	free(tb);
	free(tg);
}

/* ---- LIMIT-5: change-id length in UTF-8 bytes ---------------------------------- */

static bool b_id_try(ebc_ctx *ctx, size_t n_e9, bool want_ok)
{
	char store[160], body[4096];
	char *id = malloc(2 * n_e9 + 1);
	eb_http_resp resp;
	eb_error_body *eb = NULL;
	size_t i;
	bool ok = false;

	memset(&resp, 0, sizeof(resp));
	if (!id || 2 * n_e9 + 256 > sizeof(body)) {
		ebc_error(ctx, "out of memory");
		goto out;
	}
	for (i = 0; i < n_e9; i++)
		memcpy(id + 2 * i, "\xc3\xa9", 2);
	id[2 * n_e9] = '\0';
	ebc_store(ctx, NULL, store, sizeof(store));
	snprintf(body, sizeof(body), "{\"lastKnownVersion\":0,\"changes\":[{\"id\":\"%s\",\"timestamp\":1000,"
		 "\"operation\":\"set\",\"path\":[\"a\"],\"value\":1}]}", id);
	if (!b_post(ctx, store, NULL, body, 0, &resp))
		goto out;
	if (want_ok) {
		if (resp.status != 200) {
			ebc_fail(ctx, "LIMIT-9", "200 for an id of exactly the limit in UTF-8 bytes",
				 "status %ld for %zu x U+00E9 (%zu bytes)", resp.status, n_e9, 2 * n_e9);
			goto out;
		}
	} else {
		if (resp.status == 200) {
			ebc_fail(ctx, "LIMIT-5", "422: the id is over the limit in UTF-8 bytes",
				 "200 for %zu x U+00E9 (%zu bytes, %zu characters)", n_e9, 2 * n_e9, n_e9);
			goto out;
		}
		if (!ebc_expect_error(ctx, &resp, 422, "LIMIT_EXCEEDED", "LIMIT-5", &eb) ||
		    !ebc_expect_problem(ctx, eb, 0, "changes[0].id", "LIMIT_EXCEEDED", "ERR-2"))
			goto out;
	}
	ok = true;
out:
	eb_error_body_free(eb);
	eb_http_resp_clear(&resp);
	free(id);
	return ok;
}

static void b_id_bytes(ebc_ctx *ctx)
{
	size_t max = ctx->run->limits.max_change_id_bytes;

	if (max > 1500) {
		ebc_skip(ctx, "advertised maxChangeIdBytes %zu is beyond this case's buffers", max);
		return;
	}
	if (b_id_try(ctx, max / 2 + 1, false) && max % 2 == 0)
		b_id_try(ctx, max / 2, true);
}

/* ---- RATE-1 / RATE-2 ------------------------------------------------------------ */

/* Sends requests (sync when post, else the feed) with tok until a 429 or
 * more than the bucket allows (FAIL rule). 1: got a 429, 0: verdict, -1:
 * too slow to drain (skipped). *t_empty (may be NULL) gets the moment the
 * refused request was sent: the bucket was empty at some point after it. */
static int b_drain(ebc_ctx *ctx, const char *store, const char *tok, bool post, const char *rule,
		   uint64_t *t_empty)
{
	const eb_limits *l = &ctx->run->limits;
	uint64_t t0 = eb_time_mono_ns();
	char path[256];
	size_t n = 0;
	eb_http_resp resp;
	static const char *const empty = "{\"lastKnownVersion\":0}";

	snprintf(path, sizeof(path), post ? "/api/stores/%s/sync" : "/api/stores/%s/changes?since=0",
		 store);
	for (;;) {
		double el = (double)(eb_time_mono_ns() - t0) / 1e9;

		if ((double)n > l->http_burst + l->http_per_second * el + 3.0) {
			ebc_fail(ctx, rule, "429 RATE_LIMITED past the advertised bucket",
				 "%zu %s requests in %.2f s all served (burst %.0f, %.1f/s)", n,
				 post ? "POST sync" : "GET changes", el, l->http_burst, l->http_per_second);
			return 0;
		}
		if (el > (double)ebc_ms(ctx, 4000) / 1000.0) {
			ebc_skip(ctx, "%zu requests took %.1f s: the server is slower than its own refill "
				 "rate on one connection (burst %.0f, %.1f/s)", n, el, l->http_burst,
				 l->http_per_second);
			return -1;
		}
		uint64_t sent = eb_time_mono_ns();

		if (!ebc_req(ctx, NULL, post ? "POST" : "GET", path, tok, NULL, post ? empty : NULL,
			     post ? strlen(empty) : 0, NULL, 0, EBC_REQ_NO_RETRY, &resp))
			return 0;
		n++;
		if (resp.status == 429) {
			eb_http_resp_clear(&resp);
			if (t_empty)
				*t_empty = sent;
			return 1;
		}
		if (resp.status != 200) {
			ebc_fail(ctx, rule, "200 or 429", "status %ld", resp.status);
			eb_http_resp_clear(&resp);
			return 0;
		}
		eb_http_resp_clear(&resp);
	}
}

static void b_bucket_per_subject(ebc_ctx *ctx)
{
	const eb_limits *l = &ctx->run->limits;
	eb_jwt_mint_opts o;
	const char *pats[2];
	char pb[160], store[160], path[256];
	char *t2 = NULL;
	uint64_t t0 = 0;
	/* As many tries as a fresh bucket would serve: a bucket per token
	 * serves them all at once, the subject's empty one only what it
	 * refills in the meantime. */
	size_t k, served = 0, tries = l->http_burst >= 64 ? 64 : (size_t)l->http_burst + 1;
	eb_http_resp resp;

	ebc_store(ctx, NULL, store, sizeof(store));
	/* a second token of the same subject: other exp, so another string */
	ebc_tok_default(ctx, &o, pats, pb, sizeof(pb));
	o.exp += 77;
	t2 = ebc_mint(ctx, &o);
	if (!t2 || !ebc_token(ctx))
		goto out;
	if (b_drain(ctx, store, ebc_token(ctx), false, "RATE-2", &t0) != 1)
		goto out;
	/* Refill counts from the refused request's send: the bucket held less
	 * than one token when the server refused it, and refills from then. */
	snprintf(path, sizeof(path), "/api/stores/%s/changes?since=0", store);
	for (k = 0; k < tries; k++) {
		double el;

		if (!ebc_req(ctx, NULL, "GET", path, t2, NULL, NULL, 0, NULL, 0, EBC_REQ_NO_RETRY, &resp))
			goto out;
		el = (double)(eb_time_mono_ns() - t0) / 1e9;
		if (resp.status == 429) {
			eb_http_resp_clear(&resp);
			break;
		}
		eb_http_resp_clear(&resp);
		served++;
		if (served >= 2 && (double)served > l->http_per_second * el + 1.0) {
			ebc_fail(ctx, "RATE-1", "the subject's bucket stays empty for its other token",
				 "%zu requests with another token of the subject served within %.1f ms of "
				 "the first token's refused request (refill %.1f/s explains at most %.1f)",
				 served, el * 1000.0, l->http_per_second, l->http_per_second * el + 1.0);
			goto out;
		}
	}
	ebc_note(ctx, "after the first token's 429, the second token was served %zu times", served);
out:
	free(t2);
}

static void b_sync_limited(ebc_ctx *ctx)
{
	char store[160];

	ebc_store(ctx, NULL, store, sizeof(store));
	b_drain(ctx, store, ebc_token(ctx), true, "RATE-2", NULL);
}

/* ---- FEED-6: deletes are changes too -------------------------------------------- */

static void b_deletes_in_feed(ebc_ctx *ctx)
{
	char store[160], i1[32], i2[32], i3[32], body[1024];
	eb_sync_response *r = NULL;
	eb_http_resp resp;
	const char *ids[3] = { i1, i2, i3 };
	size_t k, j;

	memset(&resp, 0, sizeof(resp));
	ebc_store(ctx, NULL, store, sizeof(store));
	ebc_cid(ctx, i1, sizeof(i1));
	ebc_cid(ctx, i2, sizeof(i2));
	ebc_cid(ctx, i3, sizeof(i3));
	snprintf(body, sizeof(body), "{\"lastKnownVersion\":0,\"changes\":["
		 "{\"id\":\"%s\",\"timestamp\":1000,\"operation\":\"set\",\"path\":[\"k\"],\"value\":1},"
		 "{\"id\":\"%s\",\"timestamp\":1001,\"operation\":\"delete\",\"path\":[\"k\"]},"
		 "{\"id\":\"%s\",\"timestamp\":1002,\"operation\":\"delete\",\"path\":[\"never\",\"set\"]}]}",
		 i1, i2, i3);
	r = ebc_sync_ok(ctx, NULL, store, ebc_token(ctx), body, "SYNC-9");
	if (!r)
		goto out;
	eb_sync_response_free(r);
	r = NULL;
	if (!ebc_get_changes(ctx, NULL, store, ebc_token(ctx), "since=0", &resp))
		goto out;
	r = ebc_expect_ok(ctx, &resp, "FEED-3");
	if (!r)
		goto out;
	for (k = 0; k < 3; k++) {
		for (j = 0; j < r->n; j++)
			if (strcmp(r->changes[j].id, ids[k]) == 0)
				break;
		if (j == r->n) {
			ebc_fail(ctx, "FEED-6", "every change the store holds, deletes included",
				 "change %s (%s) missing from the feed (%zu of 3 returned)", ids[k],
				 k ? "a delete" : "the set", r->n);
			goto out;
		}
		if (r->changes[j].op != (k ? EB_OP_DELETE : EB_OP_SET)) {
			ebc_fail(ctx, "CHG-9", "the operation as pushed", "change %s came back as another operation",
				 ids[k]);
			goto out;
		}
	}
out:
	eb_sync_response_free(r);
	eb_http_resp_clear(&resp);
}

/* ---- WS-4: pong echoes the requestId -------------------------------------------- */

static void b_pong_rid(ebc_ctx *ctx)
{
	ebc_ws *w = ebc_ws_ready(ctx, NULL, NULL, NULL);
	static const char *const rids[] = { "p-1", "x", "0123456789012345678901234567890123456789012345678901234567890123" };
	size_t i;

	if (!w)
		return;
	for (i = 0; i < 3 && !ebc_done(ctx); i++) {
		char text[160];
		eb_ws_server_msg *m = NULL;
		int r;

		snprintf(text, sizeof(text), "{\"type\":\"ping\",\"requestId\":\"%s\"}", rids[i]);
		if (!ebc_ws_send(w, text))
			break;
		r = ebc_ws_reply(w, text, &m);
		if (r == 1 && m->type == EB_WS_S_PONG &&
		    (!m->request_id || strcmp(m->request_id, rids[i]) != 0))
			ebc_fail(ctx, "WS-4", "pong echoing the ping's requestId", "ping %s, pong with %s%s%s",
				 rids[i], m->request_id ? "requestId \"" : "no requestId",
				 m->request_id ? m->request_id : "", m->request_id ? "\"" : "");
		else if (r == 1 && m->type != EB_WS_S_PONG)
			ebc_fail(ctx, "WS-5", "pong", "%s", m->type_str ? m->type_str : "?");
		else if (r == 0)
			ebc_fail(ctx, "WS-5", "pong", "no reply within %ld ms", ebc_timeout(ctx));
		else if (r < 0 && w->closed)
			ebc_fail(ctx, "WS-5", "pong", "socket closed with code %d", w->close_code);
		eb_ws_server_msg_free(m);
	}
	ebc_ws_free(w);
}

/* ---- VER-2: a refused conflict uses up no version ------------------------------- */

static void b_no_gap_after_conflict(ebc_ctx *ctx)
{
	char store[160], id[32], id2[32];
	char *c1 = NULL, *c1b = NULL, *c2 = NULL, *b = NULL;
	const char *one[1];
	eb_sync_response *r = NULL;
	eb_http_resp resp;

	memset(&resp, 0, sizeof(resp));
	ebc_store(ctx, NULL, store, sizeof(store));
	ebc_cid(ctx, id, sizeof(id));
	c1 = ebc_set_json(id, 1000, "k", "1");
	c1b = ebc_set_json(id, 1000, "k", "2");
	c2 = ebc_set_json(ebc_cid(ctx, id2, sizeof(id2)), 1001, "k", "3");
	if (!c1 || !c1b || !c2) {
		ebc_error(ctx, "out of memory");
		goto out;
	}
	one[0] = c1;
	b = ebc_body(0, one, 1, -1);
	r = b ? ebc_sync_ok(ctx, NULL, store, ebc_token(ctx), b, "SYNC-9") : NULL;
	if (!r)
		goto out;
	eb_sync_response_free(r);
	r = NULL;
	free(b);
	one[0] = c1b;
	b = ebc_body(1, one, 1, -1);
	if (!b || !b_post(ctx, store, NULL, b, 0, &resp))
		goto out;
	if (!ebc_expect_error(ctx, &resp, 409, "CHANGE_ID_CONFLICT", "IDEM-3", NULL))
		goto out;
	free(b);
	one[0] = c2;
	b = ebc_body(1, one, 1, -1);
	r = b ? ebc_sync_ok(ctx, NULL, store, ebc_token(ctx), b, "SYNC-9") : NULL;
	if (!r)
		goto out;
	if (r->current_version != 2)
		ebc_fail(ctx, "VER-2", "version 2 for the next change (the refused conflict took none)",
			 "currentVersion %llu after [v1, 409 conflict, one new change]",
			 (unsigned long long)r->current_version);
out:
	eb_sync_response_free(r);
	eb_http_resp_clear(&resp);
	free(b);
	free(c1);
	free(c1b);
	free(c2);
}

const ebc_case ebc_cases_behaviours[] = {
	{ "versioning/future-timestamp-kept", "A timestamp ahead of the server but inside the allowance is kept",
	  "MUST", { "TS-1", "TS-2", "CHG-9" }, { "timestamps" }, 0, b_future_ts_kept },
	{ "sync/own-left-out-before-limit", "A page leaves out the request's own changes before applying limit",
	  "MUST", { "SYNC-7", "SYNC-5", "SYNC-6" }, { "sync", "pagination" }, 0, b_own_before_limit },
	{ "auth/aud-array", "An array aud must contain the audience",
	  "MUST", { "AUTH-6" }, { "auth" }, EBC_F_AUTH | EBC_F_AUD, b_aud_array },
	{ "limits/id-counts-utf8-bytes", "The change-id limit counts UTF-8 bytes (U+00E9 is 2)",
	  "MUST", { "LIMIT-5", "CHG-1", "LIMIT-9" }, { "limits" }, 0, b_id_bytes },
	{ "rate/bucket-per-subject", "Another token of the same subject finds the HTTP bucket empty",
	  "MUST", { "RATE-1", "RATE-2" }, { "rate" }, EBC_F_RATE | EBC_F_AUTH, b_bucket_per_subject },
	{ "rate/sync-rate-limited", "POST sync is rate-limited like every request",
	  "MUST", { "RATE-2", "RATE-1" }, { "rate" }, EBC_F_RATE, b_sync_limited },
	{ "feed/deletes-returned", "The feed returns delete changes, also of paths that never existed",
	  "MUST", { "FEED-6", "MERGE-6", "CHG-9" }, { "feed" }, 0, b_deletes_in_feed },
	{ "ws/pong-echoes-request-id", "pong echoes the ping's requestId (1 to 64 bytes)",
	  "MUST", { "WS-4", "WS-5" }, { "ws" }, 0, b_pong_rid },
	{ "versioning/no-gap-after-conflict", "A request refused with CHANGE_ID_CONFLICT takes no version",
	  "MUST", { "VER-2", "VER-4", "ERR-7" }, { "versioning" }, 0, b_no_gap_after_conflict },
};
const size_t ebc_cases_behaviours_n = sizeof(ebc_cases_behaviours) / sizeof(ebc_cases_behaviours[0]);
