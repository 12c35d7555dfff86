/*
 * ws.c — section 10: the notification socket. Authentication and its close
 * codes, subscriptions and their acks, delivery (to every subscriber, the
 * pusher's own socket included; never to others, never after unsubscribe,
 * never for commits of nothing), framing errors and limits.
 *
 * Absence is checked in two ways: a bounded wait (twice the advertised
 * coalescing window plus a margin), and, where possible, by a later event
 * that must arrive first-in-line (e.g. the next notification must carry the
 * next version, not a repeat).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eb_time.h"
#include "../ebc.h"

/* How long to wait for something that must not come. */
static long w_quiet(ebc_ctx *ctx)
{
	long co = ctx->run->limits_offered ? (long)ctx->run->limits.coalesce_ms : 250;

	return ebc_ms(ctx, 2 * co + 400);
}

/* Waits for the close and checks its code. */
static bool w_expect_close(ebc_ctx *ctx, ebc_ws *w, int code, long timeout_ms, const char *rule)
{
	char exp[64];

	snprintf(exp, sizeof(exp), "close code %d", code);
	if (!ebc_ws_wait_close(w, timeout_ms)) {
		ebc_fail(ctx, rule, exp, "the socket is still open %ld ms later", timeout_ms);
		return false;
	}
	if (w->close_code != code) {
		ebc_fail(ctx, rule, exp, "%s %d", w->close_code ? "closed with code" :
			 "TCP closed without a close frame, code", w->close_code);
		return false;
	}
	return true;
}

/* The socket still answers ping with pong. */
static bool w_alive(ebc_ctx *ctx, ebc_ws *w, const char *rule)
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
		ebc_fail(ctx, "WS-5", "pong", "reply of type %s", m->type_str ? m->type_str : "?");
	eb_ws_server_msg_free(m);
	(void)ctx;
	return ok;
}

/* Pushes one change to store as the given token and returns the committed
 * version (currentVersion of the response). */
static bool w_push(ebc_ctx *ctx, eb_http *h, const char *store, const char *tok, uint64_t *ver)
{
	eb_sync_response *r = NULL;

	if (!ebc_push_n(ctx, h, store, tok, 1, 0, NULL, &r, "SYNC-9"))
		return false;
	if (ver)
		*ver = r->current_version;
	eb_sync_response_free(r);
	return true;
}

/* ---- authentication -------------------------------------------------------- */

static void w_auth_timeout(ebc_ctx *ctx)
{
	ebc_ws *w = ebc_ws_open(ctx);
	uint64_t t0 = eb_time_mono_ns();

	if (!w)
		return;
	ebc_note(ctx, "sending nothing; the server must close with 4408 10 to 12 s after the upgrade");
	if (w_expect_close(ctx, w, 4408, ebc_ms(ctx, 13000), "WS-AUTH-1")) {
		double s = (double)(eb_time_mono_ns() - t0) / 1e9;

		ebc_note(ctx, "closed after %.1f s", s);
		/* t0 is taken after the 101 arrived, so the server's clock started
		 * a little earlier: 100 ms of tolerance on the early side, 250 ms
		 * on the late side for the wire and the scheduler */
		if (s < 9.9)
			ebc_fail(ctx, "WS-AUTH-9", "close 4408 no earlier than 10 s after the upgrade",
				 "closed after %.2f s", s);
		else if (s > 12.25)
			ebc_fail(ctx, "WS-AUTH-9", "close 4408 within 12 s of the upgrade",
				 "closed after %.2f s", s);
	}
	ebc_ws_free(w);
}

static void w_auth_refused(ebc_ctx *ctx, const char *token, const char *rule)
{
	ebc_ws *w = ebc_ws_open(ctx);
	char rid[16];
	char *text = NULL;

	if (!w || !token)
		goto out;
	ebc_ws_rid(w, rid, sizeof(rid));
	if (eb_ws_encode_auth(rid, token, &text) != EB_OK || !ebc_ws_send(w, text))
		goto out;
	w_expect_close(ctx, w, 4401, ebc_timeout(ctx), rule);
out:
	free(text);
	ebc_ws_free(w);
}

static void w_bad_token(ebc_ctx *ctx)
{
	w_auth_refused(ctx, "not.a.token", "WS-AUTH-2");
	if (!ebc_done(ctx))
		w_auth_refused(ctx, "", "WS-AUTH-2");
}

static void w_expired_token(ebc_ctx *ctx)
{
	eb_jwt_mint_opts o;
	const char *pats[2];
	char pb[160];
	char *tok;

	ebc_tok_default(ctx, &o, pats, pb, sizeof(pb));
	o.exp = (int64_t)(ebc_now_ms() / 1000) - ctx->run->opts->jwt_leeway_s - 120;
	tok = ebc_mint(ctx, &o);
	w_auth_refused(ctx, tok, "WS-AUTH-2");
	free(tok);
}

static void w_alg_none_token(ebc_ctx *ctx)
{
	char *tok = ebc_mint_signed(ctx, EB_JWT_NONE, NULL);

	w_auth_refused(ctx, tok, "WS-AUTH-2");
	free(tok);
}

static void w_message_before_auth(ebc_ctx *ctx)
{
	static const char *const first[] = {
		"{\"type\":\"subscribe\",\"requestId\":\"1\",\"storeIds\":[\"x\"]}",
		"{\"type\":\"ping\",\"requestId\":\"1\"}",
		"{\"type\":\"whatever\",\"requestId\":\"1\"}",
	};
	size_t i;

	for (i = 0; i < 3 && !ebc_done(ctx); i++) {
		ebc_ws *w = ebc_ws_open(ctx);

		if (!w)
			return;
		if (ebc_ws_send(w, first[i]))
			w_expect_close(ctx, w, 4401, ebc_timeout(ctx), "WS-AUTH-3");
		ebc_ws_free(w);
	}
}

static void w_auth_ok_fields(ebc_ctx *ctx)
{
	eb_jwt_mint_opts o;
	const char *pats[2];
	char pb[160];
	char *tok;
	ebc_ws *w = NULL;
	eb_ws_server_msg *ok = NULL;
	int64_t exp = (int64_t)(ebc_now_ms() / 1000) + 1800;

	ebc_tok_default(ctx, &o, pats, pb, sizeof(pb));
	o.exp = exp;
	tok = ebc_mint(ctx, &o);
	if (!tok)
		return;
	w = ebc_ws_open(ctx);
	if (!w || !ebc_ws_auth(w, tok, &ok))
		goto out;
	if (!ok->subject || strcmp(ok->subject, ctx->subject) != 0) {
		ebc_fail(ctx, "WS-AUTH-4", "subject = the token's sub", "subject %s",
			 ok->subject ? ok->subject : "(none)");
		goto out;
	}
	if (ok->expires_at != (uint64_t)exp * 1000)
		ebc_fail(ctx, "WS-AUTH-4", "expiresAt = exp in milliseconds", "expiresAt %llu, exp %lld",
			 (unsigned long long)ok->expires_at, (long long)exp);
out:
	eb_ws_server_msg_free(ok);
	ebc_ws_free(w);
	free(tok);
}

static void w_token_expiry(ebc_ctx *ctx)
{
	eb_jwt_mint_opts o;
	const char *pats[2];
	char pb[160];
	char *tok;
	ebc_ws *w = NULL;
	uint64_t now_ms = ebc_now_ms();
	int64_t exp = (int64_t)(now_ms / 1000) + 2;
	long wait;

	ebc_tok_default(ctx, &o, pats, pb, sizeof(pb));
	o.exp = exp;
	tok = ebc_mint(ctx, &o);
	if (!tok)
		return;
	w = ebc_ws_open(ctx);
	if (!w || !ebc_ws_auth(w, tok, NULL))
		goto out;
	/* close due by exp + leeway + 2 s (WS-AUTH-5); one more second of margin */
	wait = (long)((exp + ctx->run->opts->jwt_leeway_s) * 1000 - (int64_t)ebc_now_ms()) + 2000;
	ebc_note(ctx, "token expires at %lld s; waiting up to %ld ms for close 4401", (long long)exp,
		 ebc_ms(ctx, wait + 1000));
	w_expect_close(ctx, w, 4401, ebc_ms(ctx, wait + 1000), "WS-AUTH-5");
out:
	ebc_ws_free(w);
	free(tok);
}

static void w_reauth_same_sub(ebc_ctx *ctx)
{
	eb_jwt_mint_opts o;
	const char *pats[2];
	char pb[160];
	char *t2 = NULL;
	ebc_ws *w = NULL;
	eb_ws_server_msg *ok = NULL;
	int64_t exp2 = (int64_t)(ebc_now_ms() / 1000) + 7200;

	w = ebc_ws_ready(ctx, NULL, NULL, NULL);
	if (!w)
		goto out;
	ebc_tok_default(ctx, &o, pats, pb, sizeof(pb));
	o.exp = exp2;
	t2 = ebc_mint(ctx, &o);
	if (!t2 || !ebc_ws_auth(w, t2, &ok))
		goto out;
	if (ok->expires_at != (uint64_t)exp2 * 1000) {
		ebc_fail(ctx, "WS-AUTH-6", "auth_ok for the new token (its expiresAt)",
			 "expiresAt %llu, new exp %lld", (unsigned long long)ok->expires_at, (long long)exp2);
		goto out;
	}
	w_alive(ctx, w, "WS-AUTH-6");
out:
	eb_ws_server_msg_free(ok);
	ebc_ws_free(w);
	free(t2);
}

static void w_reauth_other_sub(ebc_ctx *ctx)
{
	char *t2 = ebc_token_sub(ctx, "other");
	ebc_ws *w = NULL;
	char rid[16];
	char *text = NULL;

	if (!t2)
		return;
	w = ebc_ws_ready(ctx, NULL, NULL, NULL);
	if (!w)
		goto out;
	ebc_ws_rid(w, rid, sizeof(rid));
	if (eb_ws_encode_auth(rid, t2, &text) != EB_OK || !ebc_ws_send(w, text))
		goto out;
	w_expect_close(ctx, w, 4401, ebc_timeout(ctx), "WS-AUTH-6");
out:
	free(text);
	ebc_ws_free(w);
	free(t2);
}

static void w_token_not_from_url(ebc_ctx *ctx)
{
	char suffix[8192];
	const char *tok = ebc_token(ctx);
	ebc_ws *w;

	if (!tok)
		return;
	snprintf(suffix, sizeof(suffix), "?token=%.3000s&access_token=%.3000s", tok, tok);
	w = ebc_ws_open_path(ctx, suffix);
	if (!w)
		return;
	if (ebc_ws_send(w, "{\"type\":\"ping\",\"requestId\":\"1\"}"))
		w_expect_close(ctx, w, 4401, ebc_timeout(ctx), "WS-1");
	ebc_ws_free(w);
}

/* ---- subscriptions ----------------------------------------------------------- */

static void w_ack_version(ebc_ctx *ctx)
{
	char store[160];
	uint64_t v = 99;
	ebc_ws *w;

	ebc_store(ctx, NULL, store, sizeof(store));
	if (!ebc_push_n(ctx, NULL, store, ebc_token(ctx), 3, 0, NULL, NULL, "SYNC-9"))
		return;
	w = ebc_ws_ready(ctx, NULL, store, &v);
	if (w && v != 3)
		ebc_fail(ctx, "WS-SUB-1", "the store's current version (3) in the ack", "version %llu",
			 (unsigned long long)v);
	ebc_ws_free(w);
}

static void w_ack_unknown_store(ebc_ctx *ctx)
{
	char store[160];
	uint64_t v = 99;
	ebc_ws *w;

	ebc_store(ctx, "never", store, sizeof(store));
	w = ebc_ws_ready(ctx, NULL, store, &v);
	if (w && v != 0)
		ebc_fail(ctx, "STORE-3", "version 0 for a store nobody wrote", "version %llu",
			 (unsigned long long)v);
	ebc_ws_free(w);
}

static void w_subscribe_repeat(ebc_ctx *ctx)
{
	char store[160];
	uint64_t v = 0, committed = 0, last = 0;
	ebc_ws *w;
	eb_ws_server_msg *m = NULL;
	const char *s[1];
	int r;

	ebc_store(ctx, NULL, store, sizeof(store));
	if (!ebc_push_n(ctx, NULL, store, ebc_token(ctx), 2, 0, NULL, NULL, "SYNC-9"))
		return;
	w = ebc_ws_ready(ctx, NULL, store, &v);
	if (!w)
		return;
	s[0] = store;
	m = ebc_ws_sub(w, false, s, 1, "WS-SUB-4");
	if (!m)
		goto out;
	if (m->n_stores != 1 || strcmp(m->stores[0].store_id, store) != 0 || m->stores[0].version != 2) {
		ebc_fail(ctx, "WS-SUB-4", "the repeat answered like a new subscription (version 2)",
			 "%zu stores, version %llu", m->n_stores,
			 m->n_stores ? (unsigned long long)m->stores[0].version : 0ULL);
		goto out;
	}
	eb_ws_server_msg_free(m);
	m = NULL;
	if (!w_push(ctx, NULL, store, ebc_token(ctx), &committed))
		goto out;
	r = ebc_ws_wait_notif(w, store, committed, ebc_timeout(ctx), NULL, "WS-NOTIF-1");
	if (r == 0)
		ebc_fail(ctx, "WS-NOTIF-1", "a notification after the push", "none within %ld ms", ebc_timeout(ctx));
	if (r != 1)
		goto out;
	last = committed;
	/* a double subscription must not double the notifications */
	r = ebc_ws_wait_notif(w, store, 0, w_quiet(ctx), &m, NULL);
	if (r == 1 && m->version <= last)
		ebc_fail(ctx, "WS-NOTIF-4", "one notification per commit (strictly increasing)",
			 "a second store_changed with version %llu", (unsigned long long)m->version);
out:
	eb_ws_server_msg_free(m);
	ebc_ws_free(w);
}

static void w_unsubscribe_ack(ebc_ctx *ctx)
{
	char store[160], other[160];
	ebc_ws *w;
	eb_ws_server_msg *m = NULL;
	const char *s[1];

	ebc_store(ctx, NULL, store, sizeof(store));
	ebc_store(ctx, NULL, other, sizeof(other));
	if (!ebc_push_n(ctx, NULL, store, ebc_token(ctx), 4, 0, NULL, NULL, "SYNC-9"))
		return;
	w = ebc_ws_ready(ctx, NULL, store, NULL);
	if (!w)
		return;
	s[0] = store;
	m = ebc_ws_sub(w, true, s, 1, "WS-SUB-5");
	if (!m)
		goto out;
	if (m->n_stores != 1 || strcmp(m->stores[0].store_id, store) != 0 || m->stores[0].version != 4) {
		ebc_fail(ctx, "WS-SUB-5", "unsubscribed listing the store with its version (4)",
			 "%zu stores, version %llu", m->n_stores,
			 m->n_stores ? (unsigned long long)m->stores[0].version : 0ULL);
		goto out;
	}
	eb_ws_server_msg_free(m);
	s[0] = other;
	m = ebc_ws_sub(w, true, s, 1, "WS-SUB-4");
	if (m)
		w_alive(ctx, w, "WS-SUB-4");
out:
	eb_ws_server_msg_free(m);
	ebc_ws_free(w);
}

static void w_no_delivery_after_unsubscribe(ebc_ctx *ctx)
{
	char store[160];
	ebc_ws *a = NULL, *b = NULL;
	eb_ws_server_msg *m = NULL;
	const char *s[1];
	uint64_t v = 0;
	int r;

	ebc_store(ctx, NULL, store, sizeof(store));
	a = ebc_ws_ready(ctx, NULL, store, NULL);
	b = a ? ebc_ws_ready(ctx, NULL, store, NULL) : NULL;
	if (!b)
		goto out;
	s[0] = store;
	m = ebc_ws_sub(a, true, s, 1, "WS-SUB-5");
	if (!m)
		goto out;
	eb_ws_server_msg_free(m);
	m = NULL;
	if (!w_push(ctx, NULL, store, ebc_token(ctx), &v))
		goto out;
	/* b proves the notification was sent */
	r = ebc_ws_wait_notif(b, store, v, ebc_timeout(ctx), NULL, "WS-NOTIF-1");
	if (r == 0)
		ebc_fail(ctx, "WS-NOTIF-1", "the still-subscribed socket notified", "nothing within %ld ms",
			 ebc_timeout(ctx));
	if (r != 1)
		goto out;
	r = ebc_ws_wait_notif(a, store, 0, w_quiet(ctx), &m, NULL);
	if (r == 1)
		ebc_fail(ctx, "WS-SUB-5", "no notification after the unsubscribe ack",
			 "store_changed version %llu on the unsubscribed socket", (unsigned long long)m->version);
out:
	eb_ws_server_msg_free(m);
	ebc_ws_free(a);
	ebc_ws_free(b);
}

static void w_sub_errors(ebc_ctx *ctx, const char *bad, const char *code, const char *rule)
{
	char store[160];
	ebc_ws *w;
	eb_ws_server_msg *m = NULL;
	const char *s[2];

	ebc_store(ctx, NULL, store, sizeof(store));
	w = ebc_ws_ready(ctx, NULL, NULL, NULL);
	if (!w)
		return;
	s[0] = bad;
	s[1] = store;
	m = ebc_ws_sub(w, false, s, 2, rule);
	if (!m)
		goto out;
	if (m->n_errors != 1 || strcmp(m->errors[0].store_id, bad) != 0 ||
	    strcmp(m->errors[0].code, code) != 0) {
		ebc_fail(ctx, rule, "errors: [{storeId: <the bad store>, code}]", "%zu errors%s%s %s",
			 m->n_errors, m->n_errors ? ", first " : "", m->n_errors ? m->errors[0].store_id : "",
			 m->n_errors ? m->errors[0].code : "");
		goto out;
	}
	if (m->n_stores != 1 || strcmp(m->stores[0].store_id, store) != 0) {
		ebc_fail(ctx, "WS-SUB-3", "the other store of the request still subscribed",
			 "%zu stores in the ack", m->n_stores);
		goto out;
	}
	w_alive(ctx, w, "WS-CLOSE-5");
out:
	eb_ws_server_msg_free(m);
	ebc_ws_free(w);
}

static void w_forbidden_store(ebc_ctx *ctx)
{
	char forb[160];

	snprintf(forb, sizeof(forb), "%s-not-%s", ctx->run->prefix, ctx->case_tag);
	w_sub_errors(ctx, forb, "FORBIDDEN", "WS-SUB-3");
}

static void w_invalid_store(ebc_ctx *ctx)
{
	w_sub_errors(ctx, "bad!store id", "INVALID_STORE_ID", "STORE-1");
}

/* Read permission suffices to subscribe; write permission implies it. */
static void w_subscribe_permissions(ebc_ctx *ctx)
{
	char s1[160], s2[160];
	const char *p1[1], *p2[1];
	char *ro = NULL, *wo = NULL;
	ebc_ws *w = NULL;
	uint64_t v = 99;

	ebc_store(ctx, NULL, s1, sizeof(s1));
	ebc_store(ctx, NULL, s2, sizeof(s2));
	p1[0] = s1;
	p2[0] = s2;
	ro = ebc_token_perm(ctx, p1, 1, NULL, 0);
	wo = ro ? ebc_token_perm(ctx, NULL, 0, p2, 1) : NULL;
	if (!wo)
		goto out;
	ebc_note(ctx, "subscribing with a read-only token");
	w = ebc_ws_ready(ctx, ro, s1, &v);
	if (!w)
		goto out;
	ebc_ws_free(w);
	ebc_note(ctx, "subscribing with a write-only token");
	w = ebc_ws_ready(ctx, wo, s2, &v);
out:
	ebc_ws_free(w);
	free(ro);
	free(wo);
}

/* ---- delivery ------------------------------------------------------------- */

/* n sockets subscribed with token tok(i); one push with push_tok. */
static void w_delivery(ebc_ctx *ctx, size_t n, bool same_subject)
{
	char store[160];
	ebc_ws *w[3] = { NULL, NULL, NULL };
	char *other = NULL;
	const char *push_tok;
	uint64_t v = 0;
	size_t i;

	ebc_store(ctx, NULL, store, sizeof(store));
	if (!same_subject) {
		other = ebc_token_sub(ctx, "pusher");
		if (!other)
			return;
	}
	push_tok = same_subject ? ebc_token(ctx) : other;
	for (i = 0; i < n; i++) {
		w[i] = ebc_ws_ready(ctx, NULL, store, NULL);
		if (!w[i])
			goto out;
	}
	if (same_subject)
		ebc_note(ctx, "the sockets and the push use the same token subject %s", ctx->subject);
	if (!w_push(ctx, NULL, store, push_tok, &v))
		goto out;
	for (i = 0; i < n; i++) {
		int r = ebc_ws_wait_notif(w[i], store, v, ebc_timeout(ctx), NULL, "WS-NOTIF-1");

		if (r == 0) {
			ebc_fail(ctx, "WS-NOTIF-1", "store_changed with version >= the committed one on every subscribed socket",
				 "socket %zu of %zu: no notification with version >= %llu within %ld ms%s", i + 1, n,
				 (unsigned long long)v, ebc_timeout(ctx),
				 same_subject ? " (socket of the pushing subject)" : "");
		}
		if (r != 1)
			goto out;
	}
out:
	for (i = 0; i < n; i++)
		ebc_ws_free(w[i]);
	free(other);
}

static void w_notify_subscriber(ebc_ctx *ctx)
{
	w_delivery(ctx, 1, false);
}

static void w_notify_pusher(ebc_ctx *ctx)
{
	w_delivery(ctx, 1, true);
}

static void w_notify_every(ebc_ctx *ctx)
{
	w_delivery(ctx, 3, false);
}

static void w_no_notify_non_subscriber(ebc_ctx *ctx)
{
	char s1[160], s2[160];
	ebc_ws *a = NULL, *b = NULL, *c = NULL;
	eb_ws_server_msg *m = NULL;
	uint64_t v = 0;
	int r;

	ebc_store(ctx, NULL, s1, sizeof(s1));
	ebc_store(ctx, NULL, s2, sizeof(s2));
	a = ebc_ws_ready(ctx, NULL, s1, NULL);      /* other store */
	b = a ? ebc_ws_ready(ctx, NULL, s2, NULL) : NULL;
	c = b ? ebc_ws_ready(ctx, NULL, NULL, NULL) : NULL; /* no subscription */
	if (!c)
		goto out;
	if (!w_push(ctx, NULL, s2, ebc_token(ctx), &v))
		goto out;
	r = ebc_ws_wait_notif(b, s2, v, ebc_timeout(ctx), NULL, "WS-NOTIF-1");
	if (r == 0)
		ebc_fail(ctx, "WS-NOTIF-1", "the subscriber notified", "nothing within %ld ms", ebc_timeout(ctx));
	if (r != 1)
		goto out;
	r = ebc_ws_wait_notif(a, s2, 0, w_quiet(ctx), &m, NULL);
	if (r == 1) {
		ebc_fail(ctx, "WS-NOTIF-6", "no notification for a store the socket did not subscribe",
			 "store_changed for %s on a socket subscribed to another store", s2);
		goto out;
	}
	r = ebc_ws_wait_notif(c, s2, 0, ebc_ms(ctx, 200), &m, NULL);
	if (r == 1)
		ebc_fail(ctx, "WS-NOTIF-6", "no notification on a socket without subscriptions",
			 "store_changed for %s", s2);
out:
	eb_ws_server_msg_free(m);
	ebc_ws_free(a);
	ebc_ws_free(b);
	ebc_ws_free(c);
}

static void w_version_committed(ebc_ctx *ctx)
{
	char store[160];
	ebc_ws *w;
	eb_ws_server_msg *m = NULL;
	uint64_t v = 0, now;
	int r, round;

	ebc_store(ctx, NULL, store, sizeof(store));
	w = ebc_ws_ready(ctx, NULL, store, NULL);
	if (!w)
		return;
	for (round = 0; round < 3; round++) {
		if (!w_push(ctx, NULL, store, ebc_token(ctx), &v))
			goto out;
		/* the first notification after the commit, whatever its version */
		r = ebc_ws_wait_notif(w, store, 0, ebc_timeout(ctx), &m, "WS-NOTIF-1");
		if (r == 0)
			ebc_fail(ctx, "WS-NOTIF-1", "a notification", "nothing within %ld ms", ebc_timeout(ctx));
		if (r != 1)
			goto out;
		if (m->version != v) {
			ebc_fail(ctx, "WS-NOTIF-3", "version = the store's version when sent (the commit's)",
				 "store_changed version %llu after the commit of version %llu (no other writer)",
				 (unsigned long long)m->version, (unsigned long long)v);
			goto out;
		}
		now = ebc_now_ms();
		if (m->timestamp + 60000 < now || m->timestamp > now + 60000) {
			ebc_fail(ctx, "WS-NOTIF-3", "timestamp = the server's clock when sent",
				 "timestamp %llu, harness clock %llu", (unsigned long long)m->timestamp,
				 (unsigned long long)now);
			goto out;
		}
		eb_ws_server_msg_free(m);
		m = NULL;
	}
out:
	eb_ws_server_msg_free(m);
	ebc_ws_free(w);
}

static void w_versions_increase(ebc_ctx *ctx)
{
	char store[160];
	ebc_ws *w;
	eb_ws_server_msg *m = NULL;
	uint64_t last = 0, v = 0;
	size_t i;

	ebc_store(ctx, NULL, store, sizeof(store));
	w = ebc_ws_ready(ctx, NULL, store, NULL);
	if (!w)
		return;
	for (i = 0; i < 10; i++)
		if (!w_push(ctx, NULL, store, ebc_token(ctx), &v))
			goto out;
	while (last < v) {
		int r = ebc_ws_wait_notif(w, store, 0, ebc_timeout(ctx), &m, "WS-NOTIF-1");

		if (r == 0)
			ebc_fail(ctx, "WS-NOTIF-1", "notifications up to the last commit (version 10)",
				 "last notified version %llu", (unsigned long long)last);
		if (r != 1)
			goto out;
		if (m->version <= last) {
			ebc_fail(ctx, "WS-NOTIF-4", "strictly increasing versions", "version %llu after %llu",
				 (unsigned long long)m->version, (unsigned long long)last);
			goto out;
		}
		last = m->version;
		eb_ws_server_msg_free(m);
		m = NULL;
	}
out:
	eb_ws_server_msg_free(m);
	ebc_ws_free(w);
}

/* A request that commits nothing (replay, or no changes) notifies nobody:
 * after it, the next notification must be the next real commit's. */
static void w_no_notify_nothing(ebc_ctx *ctx, bool replay)
{
	char store[160], id[32];
	char *ch = NULL, *body = NULL;
	ebc_ws *w;
	eb_ws_server_msg *m = NULL;
	eb_sync_response *r = NULL;
	uint64_t v2 = 0;
	int got;

	ebc_store(ctx, NULL, store, sizeof(store));
	w = ebc_ws_ready(ctx, NULL, store, NULL);
	if (!w)
		return;
	ch = ebc_set_json(ebc_cid(ctx, id, sizeof(id)), ebc_now_ms() - 10, "a", "1");
	body = ebc_body(0, (const char *const *)&ch, 1, -1);
	r = ebc_sync_ok(ctx, NULL, store, ebc_token(ctx), body, "SYNC-9");
	if (!r)
		goto out;
	eb_sync_response_free(r);
	r = NULL;
	got = ebc_ws_wait_notif(w, store, 1, ebc_timeout(ctx), NULL, "WS-NOTIF-1");
	if (got == 0)
		ebc_fail(ctx, "WS-NOTIF-1", "a notification for version 1", "nothing within %ld ms", ebc_timeout(ctx));
	if (got != 1)
		goto out;
	ebc_note(ctx, "%s", replay ? "replaying the committed change (a duplicate)" : "syncing without changes");
	r = ebc_sync_ok(ctx, NULL, store, ebc_token(ctx), replay ? body : "{\"lastKnownVersion\":1,\"changes\":[]}",
			replay ? "IDEM-2" : "VER-5");
	if (!r)
		goto out;
	eb_sync_response_free(r);
	r = NULL;
	got = ebc_ws_wait_notif(w, store, 0, w_quiet(ctx), &m, NULL);
	if (got == 1) {
		ebc_fail(ctx, "WS-NOTIF-7", "no notification for a request that committed nothing",
			 "store_changed version %llu after %s", (unsigned long long)m->version,
			 replay ? "a duplicate-only push" : "a sync without changes");
		goto out;
	}
	if (got < 0)
		goto out;
	if (!w_push(ctx, NULL, store, ebc_token(ctx), &v2))
		goto out;
	got = ebc_ws_wait_notif(w, store, 0, ebc_timeout(ctx), &m, "WS-NOTIF-1");
	if (got == 1 && m->version != v2)
		ebc_fail(ctx, "WS-NOTIF-7", "the next notification is the next commit's (version 2)",
			 "store_changed version %llu", (unsigned long long)m->version);
out:
	eb_ws_server_msg_free(m);
	eb_sync_response_free(r);
	ebc_ws_free(w);
	free(ch);
	free(body);
}

static void w_no_notify_duplicate(ebc_ctx *ctx)
{
	w_no_notify_nothing(ctx, true);
}

static void w_no_notify_empty(ebc_ctx *ctx)
{
	w_no_notify_nothing(ctx, false);
}

/* Commits racing the subscription: anything after the ack's version arrives. */
static void w_subscribe_race(ebc_ctx *ctx)
{
	char store[160];
	ebc_ws *w = NULL;
	eb_http *h = NULL;
	uint64_t ack = 0, v = 0;
	int r;

	ebc_store(ctx, NULL, store, sizeof(store));
	if (!ebc_push_n(ctx, NULL, store, ebc_token(ctx), 2, 0, NULL, NULL, "SYNC-9"))
		return;
	h = ebc_http_new(ctx);
	w = h ? ebc_ws_ready(ctx, NULL, store, &ack) : NULL;
	if (!w)
		goto out;
	if (!w_push(ctx, h, store, ebc_token(ctx), &v))
		goto out;
	r = ebc_ws_wait_notif(w, store, v, ebc_timeout(ctx), NULL, "WS-SUB-2");
	if (r == 0)
		ebc_fail(ctx, "WS-SUB-2", "a notification for the commit after the ack's version",
			 "ack version %llu, commit %llu, no notification within %ld ms",
			 (unsigned long long)ack, (unsigned long long)v, ebc_timeout(ctx));
out:
	ebc_ws_free(w);
	eb_http_free(h);
}

static void w_coalescing_bound(ebc_ctx *ctx)
{
	char store[160];
	ebc_ws *w;
	uint64_t v = 0, t_last;
	size_t i;
	int r;
	long co = ctx->run->limits.coalesce_ms > 250 ? 250 : (long)ctx->run->limits.coalesce_ms;
	long bound = ebc_ms(ctx, 250 + 1000);

	ebc_store(ctx, NULL, store, sizeof(store));
	w = ebc_ws_ready(ctx, NULL, store, NULL);
	if (!w)
		return;
	for (i = 0; i < 5; i++)
		if (!w_push(ctx, NULL, store, ebc_token(ctx), &v))
			goto out;
	t_last = eb_time_mono_ns();
	ebc_note(ctx, "5 commits in a row; the last version (%llu) must arrive within the coalescing window (%ld ms advertised) plus 1000 ms",
		 (unsigned long long)v, co);
	r = ebc_ws_wait_notif(w, store, v, bound, NULL, "WS-NOTIF-5");
	if (r == 0)
		ebc_fail(ctx, "WS-NOTIF-5", "the latest version notified within the coalescing window (<= 250 ms) + 1000 ms",
			 "no store_changed with version %llu within %ld ms", (unsigned long long)v, bound);
	else if (r == 1)
		ebc_note(ctx, "latest version arrived after %.1f ms",
			 (double)(eb_time_mono_ns() - t_last) / 1e6);
out:
	ebc_ws_free(w);
}

/* ---- messages and framing -------------------------------------------------- */

static void w_app_ping(ebc_ctx *ctx)
{
	ebc_ws *w = ebc_ws_ready(ctx, NULL, NULL, NULL);
	eb_ws_server_msg *m;

	if (!w)
		return;
	m = ebc_ws_call(w, "{\"type\":\"ping\",\"requestId\":\"ping-42\"}", "ping-42", "WS-5");
	if (m && m->type != EB_WS_S_PONG)
		ebc_fail(ctx, "WS-5", "pong echoing requestId ping-42", "reply of type %s",
			 m->type_str ? m->type_str : "?");
	eb_ws_server_msg_free(m);
	ebc_ws_free(w);
}

static void w_protocol_ping(ebc_ctx *ctx)
{
	ebc_ws *w = ebc_ws_ready(ctx, NULL, NULL, NULL);
	uint64_t deadline;
	eb_err err;

	if (!w)
		return;
	eb_err_clear(&err);
	if (eb_wsc_send_frame(w->c, 9, true, "ebc-ping", 8, false, &err) != EB_OK) {
		ebc_error(ctx, "sending a ping frame failed: %s", err.msg);
		goto out;
	}
	deadline = eb_time_mono_ns() + (uint64_t)ebc_timeout(ctx) * 1000000ULL;
	for (;;) {
		eb_wsc_msg m;
		uint64_t now = eb_time_mono_ns();
		long left = now >= deadline ? 0 : (long)((deadline - now) / 1000000ULL);
		bool done = false;

		memset(&m, 0, sizeof(m));
		if (eb_wsc_recv(w->c, left, &m, &err) != EB_OK) {
			ebc_error(ctx, "receive failed: %s", err.msg);
			goto out;
		}
		if (m.ev == EB_WSC_PONG) {
			if (m.len != 8 || memcmp(m.data, "ebc-ping", 8) != 0)
				ebc_fail(ctx, "WS-7", "a pong echoing the ping's payload", "pong payload %.*s",
					 (int)m.len, m.data ? m.data : "");
			done = true;
		} else if (m.ev == EB_WSC_TIMEOUT || m.ev == EB_WSC_CLOSE || m.ev == EB_WSC_EOF ||
			   m.ev == EB_WSC_PROTOCOL_ERROR) {
			ebc_fail(ctx, "WS-7", "a pong frame", "%s", m.ev == EB_WSC_TIMEOUT ?
				 "no pong within the timeout" : "the socket closed instead");
			done = true;
		}
		eb_wsc_msg_clear(&m);
		if (done)
			break;
	}
out:
	ebc_ws_free(w);
}

/* Authenticated socket; send a malformed text (or binary) and expect 4400. */
static bool w_malformed(ebc_ctx *ctx, const char *text, size_t len, bool binary, const char *rule)
{
	ebc_ws *w = ebc_ws_ready(ctx, NULL, NULL, NULL);
	eb_err err;
	bool ok = false;

	if (!w)
		return false;
	eb_err_clear(&err);
	if (eb_wsc_send_frame(w->c, binary ? 2 : 1, true, text, len, false, &err) != EB_OK) {
		ebc_error(ctx, "send failed: %s", err.msg);
		goto out;
	}
	ok = w_expect_close(ctx, w, 4400, ebc_timeout(ctx), rule);
	if (!ok)
		ebc_note(ctx, "message was %s: %.200s", binary ? "a binary frame" : "text", text);
out:
	ebc_ws_free(w);
	return ok;
}

static void w_malformed_list(ebc_ctx *ctx, const char *const *msgs, size_t n, const char *rule)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!w_malformed(ctx, msgs[i], strlen(msgs[i]), false, rule))
			return;
}

static void w_mal_not_json(ebc_ctx *ctx)
{
	const char *m[] = { "hello", "{\"type\":\"ping\",", "{\"type\":\"ping\",\"requestId\":\"1\"} x" };

	w_malformed_list(ctx, m, 3, "WS-2");
}

static void w_mal_not_object(ebc_ctx *ctx)
{
	const char *m[] = { "[\"ping\"]", "\"ping\"", "42", "null" };

	w_malformed_list(ctx, m, 4, "WS-2");
}

static void w_mal_no_type(ebc_ctx *ctx)
{
	const char *m[] = { "{\"requestId\":\"1\"}", "{\"type\":7,\"requestId\":\"1\"}", "{}" };

	w_malformed_list(ctx, m, 3, "WS-2");
}

static void w_mal_binary(ebc_ctx *ctx)
{
	const char *p = "{\"type\":\"ping\",\"requestId\":\"1\"}";

	w_malformed(ctx, p, strlen(p), true, "WS-2");
}

static void w_mal_request_id(ebc_ctx *ctx)
{
	const char *m[] = {
		"{\"type\":\"ping\"}",
		"{\"type\":\"ping\",\"requestId\":7}",
		"{\"type\":\"ping\",\"requestId\":\"\"}",
		"{\"type\":\"ping\",\"requestId\":\"0123456789012345678901234567890123456789012345678901234567890123x\"}",
		"{\"type\":\"subscribe\",\"storeIds\":[\"a\"]}",
	};

	w_malformed_list(ctx, m, 5, "WS-2");
}

static void w_mal_store_ids(ebc_ctx *ctx)
{
	eb_buf b = { 0 };
	size_t i;
	const char *m[] = {
		"{\"type\":\"subscribe\",\"requestId\":\"1\",\"storeIds\":\"a\"}",
		"{\"type\":\"subscribe\",\"requestId\":\"1\",\"storeIds\":[]}",
		"{\"type\":\"subscribe\",\"requestId\":\"1\",\"storeIds\":[1]}",
		"{\"type\":\"subscribe\",\"requestId\":\"1\"}",
		"{\"type\":\"unsubscribe\",\"requestId\":\"1\",\"storeIds\":{}}",
	};

	w_malformed_list(ctx, m, 5, "WS-SUB-6");
	if (ebc_done(ctx))
		return;
	eb_buf_put(&b, "{\"type\":\"subscribe\",\"requestId\":\"1\",\"storeIds\":[", 48);
	for (i = 0; i < 101; i++)
		eb_buf_fmt(&b, "%s\"%s-s%zu\"", i ? "," : "", ctx->store_prefix, i);
	eb_buf_put(&b, "]}", 2);
	if (!b.oom)
		w_malformed(ctx, b.p, b.len, false, "WS-SUB-6");
	eb_buf_clear(&b);
}

/* A ping padded to exactly size bytes. */
static char *w_padded_ping(size_t size)
{
	const char *head = "{\"type\":\"ping\",\"requestId\":\"big\",\"pad\":\"";
	size_t hl = strlen(head);
	char *p;

	if (size < hl + 3)
		return NULL;
	p = malloc(size + 1);
	if (!p)
		return NULL;
	memcpy(p, head, hl);
	memset(p + hl, 'p', size - hl - 2);
	memcpy(p + size - 2, "\"}", 2);
	p[size] = '\0';
	return p;
}

static void w_oversize(ebc_ctx *ctx)
{
	size_t size = ctx->run->limits.max_frame_bytes + 1;
	char *p = w_padded_ping(size);
	ebc_ws *w = NULL;
	eb_err err;

	if (!p) {
		ebc_error(ctx, "out of memory");
		return;
	}
	w = ebc_ws_ready(ctx, NULL, NULL, NULL);
	if (!w)
		goto out;
	eb_err_clear(&err);
	ebc_note(ctx, "sending a well-formed ping of %zu bytes (limit %u)", size, ctx->run->limits.max_frame_bytes);
	if (eb_wsc_send_frame(w->c, 1, true, p, size, false, &err) != EB_OK) {
		/* a server may close while we still write: read the close */
		ebc_note(ctx, "send stopped: %s", err.msg);
	}
	w_expect_close(ctx, w, 1009, ebc_timeout(ctx), "LIMIT-6");
out:
	ebc_ws_free(w);
	free(p);
}

static void w_at_frame_limit(ebc_ctx *ctx)
{
	size_t size = ctx->run->limits.max_frame_bytes;
	char *p = w_padded_ping(size);
	ebc_ws *w = NULL;
	eb_ws_server_msg *m = NULL;

	if (!p) {
		ebc_error(ctx, "out of memory");
		return;
	}
	w = ebc_ws_ready(ctx, NULL, NULL, NULL);
	if (!w)
		goto out;
	m = ebc_ws_call(w, p, "big", "LIMIT-9");
	if (m && m->type != EB_WS_S_PONG)
		ebc_fail(ctx, "LIMIT-9", "pong to a message of exactly the frame limit", "reply type %s",
			 m->type_str ? m->type_str : "?");
out:
	eb_ws_server_msg_free(m);
	ebc_ws_free(w);
	free(p);
}

static void w_unknown_type(ebc_ctx *ctx)
{
	ebc_ws *w = ebc_ws_ready(ctx, NULL, NULL, NULL);
	eb_ws_server_msg *m;

	if (!w)
		return;
	m = ebc_ws_call(w, "{\"type\":\"frobnicate\",\"requestId\":\"u1\",\"x\":[1]}", "u1", "WS-3");
	if (m && (m->type != EB_WS_S_ERROR || !m->code || strcmp(m->code, "UNKNOWN_TYPE") != 0)) {
		ebc_fail(ctx, "WS-3", "error UNKNOWN_TYPE echoing requestId u1", "reply of type %s code %s",
			 m->type_str ? m->type_str : "?", m->code ? m->code : "-");
		eb_ws_server_msg_free(m);
		goto out;
	}
	if (m) {
		eb_ws_server_msg_free(m);
		w_alive(ctx, w, "WS-CLOSE-5");
	}
out:
	ebc_ws_free(w);
}

static void w_subscribe_many(ebc_ctx *ctx)
{
	const char **ids = NULL;
	char (*names)[160] = NULL;
	ebc_ws *w = NULL;
	eb_ws_server_msg *m = NULL;
	size_t n = 100, i;
	char extra[160];
	const char *one[1];
	unsigned max = ctx->run->limits.max_subscriptions;

	ids = calloc(n, sizeof(*ids));
	names = calloc(n, sizeof(*names));
	if (!ids || !names) {
		ebc_error(ctx, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++)
		ids[i] = ebc_store(ctx, NULL, names[i], sizeof(names[i]));
	w = ebc_ws_ready(ctx, NULL, NULL, NULL);
	if (!w)
		goto out;
	m = ebc_ws_sub(w, false, ids, n, "LIMIT-8");
	if (!m)
		goto out;
	if (m->n_stores != n || m->n_errors != 0) {
		ebc_fail(ctx, "LIMIT-8", "100 subscriptions on one socket", "%zu subscribed, %zu errors",
			 m->n_stores, m->n_errors);
		goto out;
	}
	eb_ws_server_msg_free(m);
	m = NULL;
	if (max != 100 || !ctx->run->limits_offered) {
		ebc_note(ctx, "the server allows %u subscriptions%s; not testing one beyond", max,
			 ctx->run->limits_offered ? "" : " (not advertised)");
		goto out;
	}
	ebc_store(ctx, "extra", extra, sizeof(extra));
	one[0] = extra;
	m = ebc_ws_sub(w, false, one, 1, "LIMIT-8");
	if (!m)
		goto out;
	if (m->n_errors != 1 || strcmp(m->errors[0].code, "LIMIT_EXCEEDED") != 0) {
		ebc_fail(ctx, "LIMIT-8", "a per-store LIMIT_EXCEEDED for subscription 101",
			 "%zu stores, %zu errors%s%s", m->n_stores, m->n_errors, m->n_errors ? ", code " : "",
			 m->n_errors ? m->errors[0].code : "");
		goto out;
	}
	w_alive(ctx, w, "LIMIT-8");
out:
	eb_ws_server_msg_free(m);
	ebc_ws_free(w);
	free(ids);
	free(names);
}

const ebc_case ebc_cases_ws[] = {
	{ "ws/auth-timeout", "A socket that does not authenticate is closed with 4408 10 to 12 s after the upgrade",
	  "MUST", { "WS-AUTH-1", "WS-AUTH-9" }, { "ws", "auth", "slow" }, EBC_F_SLOW | EBC_F_AUTH, w_auth_timeout },
	{ "ws/bad-token", "auth with a malformed or empty token closes with 4401",
	  "MUST", { "WS-AUTH-2" }, { "ws", "auth" }, EBC_F_AUTH, w_bad_token },
	{ "ws/expired-token", "auth with an expired token closes with 4401",
	  "MUST", { "WS-AUTH-2", "AUTH-4" }, { "ws", "auth" }, EBC_F_AUTH, w_expired_token },
	{ "ws/alg-none-token", "auth with an alg:none token closes with 4401",
	  "MUST", { "WS-AUTH-2", "AUTH-3" }, { "ws", "auth" }, EBC_F_AUTH, w_alg_none_token },
	{ "ws/message-before-auth", "subscribe, ping or any message before auth closes with 4401",
	  "MUST", { "WS-AUTH-3" }, { "ws", "auth" }, EBC_F_AUTH, w_message_before_auth },
	{ "ws/auth-ok-fields", "auth_ok carries subject (sub) and expiresAt (exp in ms)",
	  "MUST", { "WS-AUTH-4", "WS-4" }, { "ws", "auth" }, EBC_F_AUTH, w_auth_ok_fields },
	{ "ws/token-expiry-closes", "When the token expires the socket is closed with 4401 within leeway + 2 s",
	  "MUST", { "WS-AUTH-5" }, { "ws", "auth", "slow" }, EBC_F_SLOW | EBC_F_AUTH, w_token_expiry },
	{ "ws/reauth-same-subject", "A new auth with the same sub is answered auth_ok and replaces the token",
	  "MUST", { "WS-AUTH-6" }, { "ws", "auth" }, EBC_F_AUTH, w_reauth_same_sub },
	{ "ws/reauth-other-subject", "A new auth with another sub closes with 4401",
	  "MUST", { "WS-AUTH-6" }, { "ws", "auth" }, EBC_F_AUTH, w_reauth_other_sub },
	{ "ws/token-not-from-url", "A token in the URL is not used: a first ping still closes with 4401",
	  "MUST", { "WS-1", "WS-AUTH-3" }, { "ws", "auth" }, EBC_F_AUTH, w_token_not_from_url },
	{ "ws/subscribe-ack-version", "subscribed lists the store with its current version",
	  "MUST", { "WS-SUB-1", "WS-4" }, { "ws", "subscriptions" }, 0, w_ack_version },
	{ "ws/subscribe-unknown-store", "Subscribing to a store nobody wrote acks version 0",
	  "MUST", { "STORE-3", "WS-SUB-1" }, { "ws", "subscriptions" }, 0, w_ack_unknown_store },
	{ "ws/subscribe-repeat-noop", "Subscribing twice is acknowledged again and does not double notifications",
	  "MUST", { "WS-SUB-4", "WS-NOTIF-4" }, { "ws", "subscriptions" }, 0, w_subscribe_repeat },
	{ "ws/unsubscribe-ack", "unsubscribed lists each store with its version; unknown ones are still acked",
	  "MUST", { "WS-SUB-5", "WS-SUB-4" }, { "ws", "subscriptions" }, 0, w_unsubscribe_ack },
	{ "ws/no-delivery-after-unsubscribe", "After the unsubscribe ack the socket gets no notification of the store",
	  "MUST", { "WS-SUB-5" }, { "ws", "subscriptions" }, 0, w_no_delivery_after_unsubscribe },
	{ "ws/forbidden-store-error", "A store the token may not read gets a per-store FORBIDDEN; others subscribe; socket open",
	  "MUST", { "WS-SUB-3", "AUTH-12", "WS-CLOSE-5" }, { "ws", "subscriptions" }, EBC_F_AUTH, w_forbidden_store },
	{ "ws/subscribe-permissions", "A read-only token may subscribe; write permission implies read",
	  "MUST", { "AUTH-12", "AUTH-10", "WS-SUB-1" }, { "ws", "subscriptions", "permissions" }, EBC_F_AUTH, w_subscribe_permissions },
	{ "ws/invalid-store-error", "An invalid store id gets a per-store INVALID_STORE_ID; socket open",
	  "MUST", { "STORE-1", "WS-SUB-3", "WS-CLOSE-5" }, { "ws", "subscriptions" }, 0, w_invalid_store },
	{ "ws/subscribe-100-stores", "A socket holds 100 subscriptions; one beyond the maximum gets LIMIT_EXCEEDED",
	  "MUST", { "LIMIT-8" }, { "ws", "subscriptions", "limits" }, 0, w_subscribe_many },
	{ "ws/notify-subscriber", "A commit by another subject notifies the subscriber",
	  "MUST", { "WS-NOTIF-1" }, { "ws", "notifications" }, 0, w_notify_subscriber },
	{ "ws/notify-pusher-own-socket", "The pushing subject's own socket is notified too",
	  "MUST", { "WS-NOTIF-1" }, { "ws", "notifications" }, 0, w_notify_pusher },
	{ "ws/notify-every-subscriber", "Every one of 3 subscribed sockets is notified",
	  "MUST", { "WS-NOTIF-1" }, { "ws", "notifications" }, 0, w_notify_every },
	{ "ws/no-notify-non-subscriber", "Sockets not subscribed to the store get nothing",
	  "MUST", { "WS-NOTIF-6" }, { "ws", "notifications" }, 0, w_no_notify_non_subscriber },
	{ "ws/notify-version-committed", "store_changed carries the committed version and the server clock",
	  "MUST", { "WS-NOTIF-3", "WS-NOTIF-1" }, { "ws", "notifications" }, 0, w_version_committed },
	{ "ws/notify-versions-increase", "Notification versions of a store on a socket strictly increase",
	  "MUST", { "WS-NOTIF-4", "WS-NOTIF-1" }, { "ws", "notifications" }, 0, w_versions_increase },
	{ "ws/no-notify-duplicate-push", "A duplicate-only push causes no notification",
	  "MUST", { "WS-NOTIF-7", "IDEM-2" }, { "ws", "notifications" }, 0, w_no_notify_duplicate },
	{ "ws/no-notify-empty-sync", "A sync without changes causes no notification",
	  "MUST", { "WS-NOTIF-7", "VER-5" }, { "ws", "notifications" }, 0, w_no_notify_empty },
	{ "ws/subscribe-race", "A commit after the ack's version reaches the new subscriber",
	  "MUST", { "WS-SUB-2" }, { "ws", "notifications" }, 0, w_subscribe_race },
	{ "ws/coalescing-bound", "After a burst, the latest version arrives within the coalescing window",
	  "MUST", { "WS-NOTIF-5", "WS-NOTIF-2" }, { "ws", "notifications" }, 0, w_coalescing_bound },
	{ "ws/app-ping", "ping is answered with pong echoing the requestId",
	  "MUST", { "WS-5", "WS-4" }, { "ws", "messages" }, 0, w_app_ping },
	{ "ws/protocol-ping", "A protocol-level ping frame is answered with a pong frame",
	  "MUST", { "WS-7" }, { "ws", "framing" }, 0, w_protocol_ping },
	{ "ws/malformed-not-json", "A text frame that is not JSON closes with 4400",
	  "MUST", { "WS-2", "WS-CLOSE-2" }, { "ws", "framing" }, 0, w_mal_not_json },
	{ "ws/malformed-not-object", "A JSON message that is not an object closes with 4400",
	  "MUST", { "WS-2" }, { "ws", "framing" }, 0, w_mal_not_object },
	{ "ws/malformed-no-type", "A message without a string type closes with 4400",
	  "MUST", { "WS-2" }, { "ws", "framing" }, 0, w_mal_no_type },
	{ "ws/malformed-binary-frame", "A binary frame closes with 4400",
	  "MUST", { "WS-2" }, { "ws", "framing" }, 0, w_mal_binary },
	{ "ws/malformed-request-id", "A request without a valid requestId (1-64 byte string) closes with 4400",
	  "MUST", { "WS-2" }, { "ws", "framing" }, 0, w_mal_request_id },
	{ "ws/malformed-store-ids", "storeIds not an array of 1-100 strings closes with 4400",
	  "MUST", { "WS-SUB-6", "WS-2" }, { "ws", "framing" }, 0, w_mal_store_ids },
	{ "ws/oversize-message", "A message over the frame limit (65536 bytes) closes with 1009",
	  "MUST", { "LIMIT-6", "WS-CLOSE-2" }, { "ws", "framing", "limits" }, 0, w_oversize },
	{ "ws/message-at-frame-limit", "A message of exactly the frame limit is processed",
	  "MUST", { "LIMIT-9", "LIMIT-6" }, { "ws", "framing", "limits" }, 0, w_at_frame_limit },
	{ "ws/unknown-type", "An unknown type gets error UNKNOWN_TYPE and the socket stays open",
	  "MUST", { "WS-3", "WS-CLOSE-5", "WS-4" }, { "ws", "messages" }, 0, w_unknown_type },
};
const size_t ebc_cases_ws_n = sizeof(ebc_cases_ws) / sizeof(ebc_cases_ws[0]);
