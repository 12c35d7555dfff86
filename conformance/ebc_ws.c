/*
 * ebc_ws.c — WebSocket helpers of the cases: connect, request/reply with
 * requestId matching, notifications queued while waiting for replies, waits
 * for notifications and for close codes. Every wait has a deadline.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eb_time.h"
#include "ebc.h"

#define WS_PATH "/api/sync/notifications"

ebc_ws *ebc_ws_open_path(ebc_ctx *ctx, const char *suffix)
{
	ebc_ws *w = calloc(1, sizeof(*w));
	char path[1024];
	int status = 0;
	eb_err err;
	eb_rc rc;

	if (!w) {
		ebc_error(ctx, "out of memory");
		return NULL;
	}
	w->ctx = ctx;
	pthread_mutex_lock(&ctx->mu);
	w->conn = ++ctx->next_conn;
	pthread_mutex_unlock(&ctx->mu);
	snprintf(path, sizeof(path), "%s%s", WS_PATH, suffix ? suffix : "");
	eb_err_clear(&err);
	rc = eb_wsc_connect_tls(ebc_url_for(ctx, w->conn), path, ctx->run->opts->target.tls,
				ebc_timeout(ctx), ctx->wire, w->conn, &w->c, &status, &err);
	if (rc == EB_ERR_SHAPE) {
		ebc_fail(ctx, "WS-1", "101 Switching Protocols at " WS_PATH,
			 "upgrade refused with HTTP status %d: %s", status, err.msg);
		free(w);
		return NULL;
	}
	if (rc != EB_OK) {
		ebc_error(ctx, "WebSocket connect failed: %s", err.msg);
		free(w);
		return NULL;
	}
	return w;
}

ebc_ws *ebc_ws_open(ebc_ctx *ctx)
{
	return ebc_ws_open_path(ctx, NULL);
}

void ebc_ws_free(ebc_ws *w)
{
	size_t i;

	if (!w)
		return;
	for (i = 0; i < w->nq; i++)
		eb_ws_server_msg_free(w->q[i]);
	free(w->q);
	free(w->last_text);
	eb_wsc_free(w->c);
	free(w);
}

/* Takes one token of a simulated bucket (under mu), returning how long to
 * sleep for it: in debt, later senders queue behind this one. */
static long ws_bucket_take(pthread_mutex_t *mu, bool *init, double *tokens, uint64_t *refill_ns,
			   double rate, double burst)
{
	uint64_t now;
	long wait_ms = 0;

	pthread_mutex_lock(mu);
	now = eb_time_mono_ns();
	if (!*init) {
		*tokens = burst;
		*refill_ns = now;
		*init = true;
	}
	*tokens += (double)(now - *refill_ns) / 1e9 * rate;
	if (*tokens > burst)
		*tokens = burst;
	*refill_ns = now;
	*tokens -= 1.0;
	if (*tokens < 0)
		wait_ms = (long)(-*tokens / rate * 1000.0) + 1;
	pthread_mutex_unlock(mu);
	return wait_ms;
}

/* Takes a token of the advertised WebSocket bucket the message will be
 * charged to, sleeping until there is one: the case's (its sockets share
 * the case's subject, RATE-1), or the run's for the suite's address (every
 * message of a server without auth; auth messages once the server was seen
 * to charge them to the address, RATE-5). A margin below the advertised
 * figures absorbs the difference between the clocks. */
static void ws_pace(ebc_ws *w)
{
	ebc_ctx *ctx = w->ctx;
	const ebc_run *run = ctx->run;
	const eb_limits *l = &run->limits;
	ebc_shared *sh = run->shared;
	double rate, burst;
	long wait_ms;
	bool by_addr;

	if (w->unpaced || !run->limits_offered || !l->rate_limit_on || !(l->ws_per_second > 0))
		return;
	rate = l->ws_per_second * 0.8;
	burst = l->ws_burst - 1.0 < 1.0 ? 1.0 : l->ws_burst - 1.0;
	pthread_mutex_lock(&sh->mu);
	by_addr = run->opts->no_auth_server || (!w->authed && sh->pace_preauth);
	pthread_mutex_unlock(&sh->mu);
	if (by_addr)
		wait_ms = ws_bucket_take(&sh->mu, &sh->init, &sh->tokens, &sh->refill_ns, rate, burst);
	else
		wait_ms = ws_bucket_take(&ctx->mu, &ctx->ws_bucket_init, &ctx->ws_tokens,
					 &ctx->ws_refill_ns, rate, burst);
	if (wait_ms > 0) {
		ebc_note(ctx, "pacing the socket by the advertised bucket of the %s (%.1f/s, burst %.0f): %ld ms",
			 by_addr ? "address" : "subject", l->ws_per_second, l->ws_burst, wait_ms);
		ebc_sleep_ms(wait_ms);
	}
}

bool ebc_ws_send(ebc_ws *w, const char *text)
{
	eb_err err;
	char *copy = strdup(text);

	if (copy) {
		free(w->last_text);
		w->last_text = copy;
	}
	ws_pace(w);
	eb_err_clear(&err);
	if (eb_wsc_send_text(w->c, text, strlen(text), &err) != EB_OK) {
		ebc_error(w->ctx, "WebSocket send failed: %s", err.msg);
		return false;
	}
	return true;
}

const char *ebc_ws_rid(ebc_ws *w, char *buf, size_t len)
{
	snprintf(buf, len, "r%u", ++w->next_rid);
	return buf;
}

static long ws_left(uint64_t deadline_ns)
{
	uint64_t now = eb_time_mono_ns();

	return now >= deadline_ns ? 0 : (long)((deadline_ns - now) / 1000000ULL);
}

/* strict: a malformed server message is a failure (else it is skipped). */
static int ws_next(ebc_ws *w, long timeout_ms, eb_ws_server_msg **out, bool strict)
{
	uint64_t deadline = eb_time_mono_ns() + (uint64_t)timeout_ms * 1000000ULL;

	*out = NULL;
	if (w->closed)
		return -1;
	for (;;) {
		eb_wsc_msg m;
		eb_err err;
		eb_rc rc;
		long left = ws_left(deadline);

		/* the run is stopping: a wait that ends now changes no reported
		 * verdict (the case is listed as not run) */
		if (w->ctx->run->stop && *w->ctx->run->stop)
			return 0;
		memset(&m, 0, sizeof(m));
		eb_err_clear(&err);
		rc = eb_wsc_recv(w->c, left, &m, &err);
		if (rc != EB_OK) {
			w->closed = true;
			w->close_code = 0;
			eb_wsc_msg_clear(&m);
			return -1;
		}
		switch (m.ev) {
		case EB_WSC_TEXT: {
			eb_ws_server_msg *p = NULL;

			eb_err_clear(&err);
			if (eb_ws_server_msg_parse(m.data, m.len, &p, &err) != EB_OK) {
				if (strict) {
					ebc_fail(w->ctx, err.rule[0] ? err.rule : "WS-2",
						 "a well-formed server message",
						 "%s%s%s: %.300s", err.msg, err.field[0] ? " at " : "",
						 err.field, m.data);
					eb_wsc_msg_clear(&m);
					return -1;
				}
				eb_wsc_msg_clear(&m);
				break;
			}
			eb_wsc_msg_clear(&m);
			*out = p;
			return 1;
		}
		case EB_WSC_BINARY:
			eb_wsc_msg_clear(&m);
			if (strict) {
				ebc_fail(w->ctx, "WS-2", "JSON messages in text frames",
					 "the server sent a binary frame");
				return -1;
			}
			break;
		case EB_WSC_PING:
		case EB_WSC_PONG:
			eb_wsc_msg_clear(&m);
			break;
		case EB_WSC_CLOSE:
			w->closed = true;
			w->close_code = m.close_code;
			eb_wsc_msg_clear(&m);
			return -1;
		case EB_WSC_EOF:
		case EB_WSC_PROTOCOL_ERROR:
			w->closed = true;
			w->close_code = 0;
			eb_wsc_msg_clear(&m);
			return -1;
		case EB_WSC_TIMEOUT:
		default:
			eb_wsc_msg_clear(&m);
			if (ws_left(deadline) == 0)
				return 0;
			break;
		}
		if (ws_left(deadline) == 0)
			return 0;
	}
}

int ebc_ws_next(ebc_ws *w, long timeout_ms, eb_ws_server_msg **out)
{
	return ws_next(w, timeout_ms, out, true);
}

/* Notifications a socket holds for the case to take later; more is a
 * flood no case provokes (a case commits a few changes): the server's
 * failure, and the socket is given up so the flood costs nothing more. */
#define WS_MAX_QUEUE 4096

static void ws_queue(ebc_ws *w, eb_ws_server_msg *m)
{
	if (w->nq >= WS_MAX_QUEUE) {
		bool ours = m->store_id && strncmp(m->store_id, w->ctx->store_prefix,
						   strlen(w->ctx->store_prefix)) == 0;

		ebc_fail(w->ctx, ours ? "WS-NOTIF-7" : "WS-NOTIF-6",
			 ours ? "a notification per commit (or fewer, coalesced)" :
				"notifications only of the stores the socket subscribed to",
			 "more than %d notifications queued on one socket (last: store %.100s "
			 "version %llu) while the case waited for something else",
			 WS_MAX_QUEUE, m->store_id ? m->store_id : "?",
			 (unsigned long long)m->version);
		eb_ws_server_msg_free(m);
		w->closed = true;
		w->close_code = 0;
		return;
	}
	if (w->nq == w->capq) {
		size_t nc = w->capq ? w->capq * 2 : 16;
		eb_ws_server_msg **p = realloc(w->q, nc * sizeof(*p));

		if (!p) {
			eb_ws_server_msg_free(m);
			return;
		}
		w->q = p;
		w->capq = nc;
	}
	w->q[w->nq++] = m;
}

/* ebc_ws_call; a close with quiet_code (0: none) returns NULL without a
 * verdict, for the caller to judge. */
static eb_ws_server_msg *ws_call(ebc_ws *w, const char *text, const char *rid, const char *rule,
				 int quiet_code)
{
	long to = ebc_timeout(w->ctx);
	uint64_t deadline = eb_time_mono_ns() + (uint64_t)to * 1000000ULL;

	if (!ebc_ws_send(w, text))
		return NULL;
	for (;;) {
		eb_ws_server_msg *m = NULL;
		int r = ebc_ws_next(w, ws_left(deadline), &m);

		if (r < 0) {
			if (w->closed && quiet_code && w->close_code == quiet_code)
				return NULL;
			if (w->closed)
				ebc_fail(w->ctx, rule, "a reply with requestId",
					 "the socket closed (code %d) instead of answering %.200s",
					 w->close_code, text);
			return NULL;
		}
		if (r == 0) {
			/* The socket is still open: an unanswered ping breaks WS-5
			 * whatever the case used it to probe, so cite that. */
			if (strstr(text, "\"type\":\"ping\""))
				rule = "WS-5";
			ebc_fail(w->ctx, rule, "a reply echoing the requestId",
				 "no reply to %.200s within %ld ms", text, to);
			return NULL;
		}
		if (m->request_id && strcmp(m->request_id, rid) == 0)
			return m;
		if (m->type == EB_WS_S_STORE_CHANGED)
			ws_queue(w, m);
		else
			eb_ws_server_msg_free(m);
	}
}

eb_ws_server_msg *ebc_ws_call(ebc_ws *w, const char *text, const char *rid, const char *rule)
{
	return ws_call(w, text, rid, rule, 0);
}

/* A message before auth was refused RATE_LIMITED: the server charges such
 * messages to the address (RATE-5), whose bucket it has just found empty.
 * From now on they are paced by the run's bucket, which starts in debt. */
static void ws_mark_preauth(ebc_ws *w)
{
	ebc_shared *sh = w->ctx->run->shared;

	pthread_mutex_lock(&sh->mu);
	if (!sh->pace_preauth) {
		sh->pace_preauth = true;
		sh->init = true;
		sh->tokens = -2.0;
		sh->refill_ns = eb_time_mono_ns();
	}
	pthread_mutex_unlock(&sh->mu);
}

/* One auth exchange. *limited set when the server answered RATE_LIMITED or
 * closed 4429 (a rate limit that is not what the case tests). */
static bool ws_auth_once(ebc_ws *w, const char *token, eb_ws_server_msg **ok, bool *limited)
{
	char rid[16];
	char *text = NULL;
	eb_ws_server_msg *m = NULL;
	bool good = false;

	*limited = false;
	if (ok)
		*ok = NULL;
	ebc_ws_rid(w, rid, sizeof(rid));
	if (eb_ws_encode_auth(rid, token ? token : "", &text) != EB_OK) {
		ebc_error(w->ctx, "out of memory");
		return false;
	}
	m = ws_call(w, text, rid, "WS-AUTH-4", EB_WS_CLOSE_RATE_LIMITED);
	if (!m) {
		*limited = w->closed && w->close_code == EB_WS_CLOSE_RATE_LIMITED;
		goto out;
	}
	if (m->type == EB_WS_S_ERROR && m->code && strcmp(m->code, "RATE_LIMITED") == 0) {
		*limited = true;
		goto out;
	}
	if (m->type != EB_WS_S_AUTH_OK) {
		ebc_fail(w->ctx, "WS-AUTH-4", "auth_ok", "reply of type %s (%s)",
			 m->type_str ? m->type_str : "?", m->code ? m->code : "");
		goto out;
	}
	good = true;
	w->authed = true;
	if (ok) {
		*ok = m;
		m = NULL;
	}
out:
	eb_ws_server_msg_free(m);
	free(text);
	return good;
}

/* Replaces the connection of w by a new one (after a rate-limited auth). */
static bool ws_reconnect(ebc_ws *w)
{
	ebc_ctx *ctx = w->ctx;
	eb_wsc *c = NULL;
	int status = 0;
	eb_err err;

	eb_wsc_free(w->c);
	w->c = NULL;
	w->closed = false;
	w->close_code = 0;
	w->authed = false;
	pthread_mutex_lock(&ctx->mu);
	w->conn = ++ctx->next_conn;
	pthread_mutex_unlock(&ctx->mu);
	eb_err_clear(&err);
	if (eb_wsc_connect_tls(ebc_url_for(ctx, w->conn), WS_PATH, ctx->run->opts->target.tls,
			       ebc_timeout(ctx), ctx->wire, w->conn, &c, &status,
			       &err) != EB_OK) {
		ebc_error(ctx, "WebSocket reconnect failed: %s", err.msg);
		return false;
	}
	w->c = c;
	return true;
}

bool ebc_ws_auth(ebc_ws *w, const char *token, eb_ws_server_msg **ok)
{
	int attempt;

	if (w->ctx->run->opts->no_auth_server) {
		/* WS-AUTH-7: a server without auth serves the socket from the
		 * upgrade on; whether it answers an auth is its choice */
		if (ok)
			*ok = NULL;
		w->authed = true;
		return true;
	}

	for (attempt = 0;; attempt++) {
		bool limited = false;

		if (ws_auth_once(w, token, ok, &limited))
			return true;
		if (!limited)
			return false;
		if (!w->authed) {
			/* the server charges auth to the address (RATE-5): from now
			 * on every case paces its auth by the address's bucket */
			ws_mark_preauth(w);
		}
		if (attempt >= 6) {
			ebc_error(w->ctx, "auth answered RATE_LIMITED %d times: the server's WebSocket "
				  "rate limit is too tight for this run", attempt + 1);
			return false;
		}
		/* Rate limiting is not what this case tests: like a client
		 * honouring Retry-After, back off and use a fresh socket. */
		ebc_note(w->ctx, "auth answered RATE_LIMITED; new socket in 1 s (retry %d)", attempt + 1);
		ebc_sleep_ms(ebc_ms(w->ctx, 1000));
		if (!ws_reconnect(w))
			return false;
	}
}

eb_ws_server_msg *ebc_ws_sub(ebc_ws *w, bool unsub, const char *const *stores, size_t n,
			     const char *rule)
{
	char rid[16];
	char *text = NULL;
	eb_ws_server_msg *m = NULL;

	ebc_ws_rid(w, rid, sizeof(rid));
	if (eb_ws_encode_subscribe(rid, unsub, stores, n, &text) != EB_OK) {
		ebc_error(w->ctx, "out of memory");
		return NULL;
	}
	m = ebc_ws_call(w, text, rid, rule);
	free(text);
	if (!m)
		return NULL;
	if (m->type != (unsub ? EB_WS_S_UNSUBSCRIBED : EB_WS_S_SUBSCRIBED)) {
		ebc_fail(w->ctx, rule, unsub ? "unsubscribed" : "subscribed",
			 "reply of type %s (%s)", m->type_str ? m->type_str : "?",
			 m->code ? m->code : "");
		eb_ws_server_msg_free(m);
		return NULL;
	}
	return m;
}

ebc_ws *ebc_ws_ready(ebc_ctx *ctx, const char *token, const char *store, uint64_t *ack_version)
{
	ebc_ws *w = NULL;
	eb_ws_server_msg *m = NULL;
	size_t i;

	if (!token)
		token = ebc_token(ctx);
	w = ebc_ws_open(ctx);
	if (!w)
		return NULL;
	if (!ebc_ws_auth(w, token, NULL))
		goto fail;
	if (!store)
		return w;
	m = ebc_ws_sub(w, false, &store, 1, "WS-SUB-1");
	if (!m)
		goto fail;
	for (i = 0; i < m->n_stores; i++)
		if (strcmp(m->stores[i].store_id, store) == 0)
			break;
	if (i == m->n_stores) {
		ebc_fail(ctx, "WS-SUB-1", "the ack lists the store with its version",
			 "subscribed ack without %s (%zu stores, %zu errors%s%s)", store,
			 m->n_stores, m->n_errors, m->n_errors ? ", first " : "",
			 m->n_errors ? m->errors[0].code : "");
		goto fail;
	}
	if (ack_version)
		*ack_version = m->stores[i].version;
	eb_ws_server_msg_free(m);
	return w;
fail:
	eb_ws_server_msg_free(m);
	ebc_ws_free(w);
	return NULL;
}

int ebc_ws_wait_notif(ebc_ws *w, const char *store, uint64_t min, long timeout_ms,
		      eb_ws_server_msg **out, const char *rule)
{
	uint64_t deadline = eb_time_mono_ns() + (uint64_t)timeout_ms * 1000000ULL;
	size_t i;

	if (out)
		*out = NULL;
	for (i = 0; i < w->nq; i++) {
		eb_ws_server_msg *m = w->q[i];

		if (strcmp(m->store_id, store) == 0 && m->version >= min) {
			memmove(&w->q[i], &w->q[i + 1], (w->nq - i - 1) * sizeof(*w->q));
			w->nq--;
			if (out)
				*out = m;
			else
				eb_ws_server_msg_free(m);
			return 1;
		}
	}
	for (;;) {
		eb_ws_server_msg *m = NULL;
		int r = ebc_ws_next(w, ws_left(deadline), &m);

		if (r < 0) {
			if (w->closed && rule)
				ebc_fail(w->ctx, rule, "the socket stays open and notifies",
					 "socket closed (code %d) while waiting for store_changed of %s",
					 w->close_code, store);
			return -1;
		}
		if (r == 0)
			return 0;
		if (m->type == EB_WS_S_STORE_CHANGED && strcmp(m->store_id, store) == 0 &&
		    m->version >= min) {
			if (out)
				*out = m;
			else
				eb_ws_server_msg_free(m);
			return 1;
		}
		if (m->type == EB_WS_S_STORE_CHANGED)
			ws_queue(w, m);
		else
			eb_ws_server_msg_free(m);
	}
}

bool ebc_ws_wait_close(ebc_ws *w, long timeout_ms)
{
	uint64_t deadline = eb_time_mono_ns() + (uint64_t)timeout_ms * 1000000ULL;
	int resent = 0;

	for (;;) {
		eb_ws_server_msg *m = NULL;
		int r = ws_next(w, ws_left(deadline), &m, false);
		bool limited = r == 1 && m->type == EB_WS_S_ERROR && m->code &&
			       strcmp(m->code, "RATE_LIMITED") == 0;

		eb_ws_server_msg_free(m);
		if (r < 0)
			return true;
		if (r == 0)
			return false;
		if (limited && !w->authed && !w->unpaced && w->last_text && resent < 3) {
			char *text = strdup(w->last_text);
			uint64_t t0 = eb_time_mono_ns();

			ws_mark_preauth(w);
			ebc_note(w->ctx, "the message before auth was answered RATE_LIMITED (charged to the "
				 "address, RATE-5): sending it again, paced");
			resent++;
			if (!text || !ebc_ws_send(w, text)) {
				free(text);
				return false;
			}
			free(text);
			/* the pacing wait is the suite's, not the server's */
			deadline += eb_time_mono_ns() - t0;
		}
	}
}

/* (ebc.h) The next reply after sending text on w, notifications skipped. A
 * RATE_LIMITED error is a bucket this case does not test (shared by the
 * run's parallel cases when the subject is the address): text is sent
 * again, up to 3 times. 1 reply in *out, 0 timeout, -1 closed. */
int ebc_ws_reply(ebc_ws *w, const char *text, eb_ws_server_msg **out)
{
	int r, tries = 0;
	/* one deadline for the reply: notifications arriving meanwhile do not
	 * extend it (only the suite's own 1.5 s pauses do) */
	uint64_t deadline = eb_time_mono_ns() + (uint64_t)ebc_timeout(w->ctx) * 1000000ULL;

	for (;;) {
		*out = NULL;
		r = ebc_ws_next(w, ws_left(deadline), out);
		if (r != 1)
			return r;
		if ((*out)->type == EB_WS_S_STORE_CHANGED) {
			eb_ws_server_msg_free(*out);
			continue;
		}
		if ((*out)->type == EB_WS_S_ERROR && (*out)->code &&
		    strcmp((*out)->code, "RATE_LIMITED") == 0 && tries < 3) {
			eb_ws_server_msg_free(*out);
			tries++;
			ebc_note(w->ctx, "RATE_LIMITED, a bucket this case does not test: sent again in 1.5 s");
			ebc_sleep_ms(ebc_ms(w->ctx, 1500));
			deadline += (uint64_t)ebc_ms(w->ctx, 1500) * 1000000ULL;
			if (!ebc_ws_send(w, text))
				return -1;
			continue;
		}
		return 1;
	}
}
