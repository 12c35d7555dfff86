/*
 * rate.c — section 11, where the server advertises rate limiting (RATE-1):
 * HTTP 429 with Retry-After, nothing applied, service again after the wait;
 * WebSocket error RATE_LIMITED then close 4429. Each case drains the bucket
 * of its own token subject, so other cases are not disturbed. The number of
 * requests needed follows from the advertised bucket: more than
 * burst + rate x elapsed without a 429 is a failure.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eb_time.h"
#include "../ebc.h"

#define RT_MAX_THREADS 64

typedef struct rt_shared {
	pthread_mutex_t mu;
	size_t total;            /* requests sent by all threads */
	bool stop;
	bool limited;            /* a 429 was seen: the bucket is empty */
	bool push_claimed;       /* one thread sends the push */
	bool push_done;
	uint64_t t0;
	size_t threads;
	/* the request that must meet the empty bucket (rate/http-429-not-applied),
	 * sent while the other connections keep the bucket empty */
	const char *push_path, *push_body;
	eb_http_resp push_resp;
	bool push_failed;
} rt_shared;

typedef struct rt_drainer {
	ebc_ctx *ctx;
	rt_shared *sh;
	const char *path, *tok;
	eb_http_resp got;        /* this thread's first 429, if any */
	long bad_status;         /* a status other than 200/429 */
	bool over;               /* bucket allowance exceeded without a 429 */
	bool failed;             /* transport error */
	bool timed_out;          /* the time or request budget ran out */
} rt_drainer;

/* Several connections so that a server slower than its own refill rate on
 * one connection can still be driven past its bucket. */
static void *rt_drain_thread(void *arg)
{
	rt_drainer *d = arg;
	rt_shared *sh = d->sh;
	const eb_limits *l = &d->ctx->run->limits;
	eb_http *h = ebc_http_new(d->ctx);
	eb_http_resp resp;

	memset(&d->got, 0, sizeof(d->got));
	if (!h) {
		d->failed = true;
		goto done;
	}
	for (;;) {
		double el = (double)(eb_time_mono_ns() - sh->t0) / 1e9;
		size_t n;
		bool stop, limited, push = false;

		pthread_mutex_lock(&sh->mu);
		stop = sh->stop;
		limited = sh->limited;
		n = ++sh->total;
		if (limited && sh->push_path && !sh->push_claimed) {
			sh->push_claimed = true;
			push = true;
		}
		pthread_mutex_unlock(&sh->mu);
		if (stop)
			break;
		if (push) {
			/* the bucket is empty and the other connections keep it so */
			if (eb_http_request(h, "POST", sh->push_path, d->tok, NULL, sh->push_body,
					    strlen(sh->push_body), NULL, 0, &resp) != EB_OK) {
				eb_http_resp_clear(&resp);
				sh->push_failed = true;
			} else {
				sh->push_resp = resp;
			}
			pthread_mutex_lock(&sh->mu);
			sh->push_done = true;
			sh->stop = true;
			pthread_mutex_unlock(&sh->mu);
			break;
		}
		if (!limited && (double)n > l->http_burst + l->http_per_second * el + 5.0 * (double)sh->threads &&
		    el > 0.05) {
			d->over = true;
			break;
		}
		if (el > (double)ebc_ms(d->ctx, 10000) / 1000.0 || n > 100000) {
			d->timed_out = true;
			break;
		}
		if (eb_http_request(h, "GET", d->path, d->tok, NULL, NULL, 0, NULL, 0, &resp) != EB_OK) {
			eb_http_resp_clear(&resp);
			d->failed = true;
			break;
		}
		if (resp.status == 429) {
			if (d->got.status != 429)
				d->got = resp;
			else
				eb_http_resp_clear(&resp);
			pthread_mutex_lock(&sh->mu);
			sh->limited = true;
			if (!sh->push_path)
				sh->stop = true;
			pthread_mutex_unlock(&sh->mu);
			continue;
		}
		if (resp.status != 200) {
			d->bad_status = resp.status;
			eb_http_resp_clear(&resp);
			break;
		}
		eb_http_resp_clear(&resp);
	}
done:
	pthread_mutex_lock(&sh->mu);
	/* a push still to come keeps the others draining */
	if (!sh->push_path || sh->push_done || !sh->limited || d->failed || d->timed_out || d->over ||
	    d->bad_status)
		sh->stop = true;
	pthread_mutex_unlock(&sh->mu);
	eb_http_free(h);
	return NULL;
}

/* How many connections empty the bucket: enough that the requests in flight
 * outpace the refill (rate x the server's time per request), measured as
 * the median of three requests (one slow answer on a loaded machine does
 * not decide). 0 after a verdict (SKIP when more than RT_MAX_THREADS would
 * be needed: such a server cannot be driven past its bucket from here). */
static size_t rt_threads(ebc_ctx *ctx, const char *path, const char *tok)
{
	const eb_limits *l = &ctx->run->limits;
	eb_http *h = ebc_http_new(ctx);
	double t[3], lat, need;
	size_t n;
	int i;

	if (!h)
		return 0;
	for (i = 0; i < 3; i++) {
		eb_http_resp resp;
		uint64_t t0 = eb_time_mono_ns();

		if (eb_http_request(h, "GET", path, tok, NULL, NULL, 0, NULL, 0, &resp) != EB_OK) {
			ebc_error(ctx, "GET %s: network error: %s", path,
				  resp.error[0] ? resp.error : "no response");
			eb_http_resp_clear(&resp);
			eb_http_free(h);
			return 0;
		}
		eb_http_resp_clear(&resp);
		t[i] = (double)(eb_time_mono_ns() - t0) / 1e9;
	}
	eb_http_free(h);
	/* median of three */
	lat = t[0] > t[1] ? (t[1] > t[2] ? t[1] : (t[0] > t[2] ? t[2] : t[0]))
			  : (t[0] > t[2] ? t[0] : (t[1] > t[2] ? t[2] : t[1]));
	/* 1.25 x the refill in flight, plus the 3 connections of a fast server */
	need = l->http_per_second * lat * 1.25 + 3.0;
	if (need > (double)RT_MAX_THREADS) {
		ebc_skip(ctx, "the server takes %.0f ms per request: emptying a bucket refilling at "
			 "%.0f/s needs %.0f parallel connections, more than the suite's %d",
			 lat * 1000.0, l->http_per_second, need, RT_MAX_THREADS);
		return 0;
	}
	n = (size_t)need;
	ebc_note(ctx, "%.1f ms per request, %.0f/s refill: %zu connections", lat * 1000.0,
		 l->http_per_second, n);
	return n;
}

/* Sends GETs with tok on enough connections until a 429 (kept in *resp).
 * With push_path/push_body, the first connection to see a 429 then sends
 * that POST while the others keep the bucket empty; its answer goes to
 * *push_resp. false after a verdict. */
static bool rt_drain_push(ebc_ctx *ctx, const char *store, const char *tok, eb_http_resp *resp,
			  const char *push_path, const char *push_body, eb_http_resp *push_resp)
{
	const eb_limits *l = &ctx->run->limits;
	rt_drainer d[RT_MAX_THREADS];
	rt_shared sh;
	size_t i, nt;
	bool ok = false, kept = false;
	char path[256];
	double el;

	memset(resp, 0, sizeof(*resp));
	if (push_resp)
		memset(push_resp, 0, sizeof(*push_resp));
	snprintf(path, sizeof(path), "/api/stores/%s/changes?since=0", store);
	nt = rt_threads(ctx, path, tok);
	if (nt == 0)
		return false;
	memset(&sh, 0, sizeof(sh));
	pthread_mutex_init(&sh.mu, NULL);
	sh.push_path = push_path;
	sh.push_body = push_body;
	sh.threads = nt;
	memset(d, 0, sizeof(d));
	for (i = 0; i < nt; i++) {
		d[i].ctx = ctx;
		d[i].sh = &sh;
		d[i].path = path;
		d[i].tok = tok;
	}
	sh.t0 = eb_time_mono_ns();
	ebc_parallel(nt, rt_drain_thread, d, sizeof(d[0]));
	pthread_mutex_destroy(&sh.mu);
	el = (double)(eb_time_mono_ns() - sh.t0) / 1e9;
	for (i = 0; i < nt; i++) {
		if (d[i].got.status == 429 && !kept) {
			*resp = d[i].got;
			kept = true;
			ok = true;
		} else {
			eb_http_resp_clear(&d[i].got);
		}
	}
	if (push_resp)
		*push_resp = sh.push_resp;
	else
		eb_http_resp_clear(&sh.push_resp);
	if (ok && push_path && (sh.push_failed || !sh.push_done)) {
		eb_http_resp_clear(resp);
		ebc_error(ctx, "the push after the bucket was emptied got no answer");
		return false;
	}
	if (ok) {
		ebc_note(ctx, "429 after %zu requests on %zu connections in %.3f s (bucket: burst %.0f, %.0f/s)",
			 sh.total, nt, el, l->http_burst, l->http_per_second);
		return true;
	}
	for (i = 0; i < nt; i++) {
		if (d[i].bad_status) {
			ebc_fail(ctx, "RATE-2", "200 until the bucket is empty, then 429", "status %ld",
				 d[i].bad_status);
			return false;
		}
	}
	for (i = 0; i < nt; i++) {
		if (d[i].over) {
			ebc_fail(ctx, "RATE-2", "429 once the advertised bucket is exhausted",
				 "%zu requests in %.2f s all served; the bucket allows at most %.0f", sh.total, el,
				 l->http_burst + l->http_per_second * el);
			return false;
		}
	}
	for (i = 0; i < nt; i++) {
		if (d[i].failed) {
			ebc_error(ctx, "could not exhaust the bucket: a network error after %zu requests on "
				  "%zu connections in %.2f s", sh.total, nt, el);
			return false;
		}
	}
	/* Neither a wrong answer nor a transport error: the suite could not
	 * send faster than the bucket refills (a server slower than measured,
	 * or a loaded machine). Not the server's fault, and no verdict. */
	ebc_skip(ctx, "could not drive the bucket past its refill: %zu requests on %zu connections in "
		 "%.2f s (%.0f/s against a refill of %.0f/s), no 429 and none owed", sh.total, nt, el,
		 el > 0 ? (double)sh.total / el : 0.0, l->http_per_second);
	return false;
}

static bool rt_drain(ebc_ctx *ctx, const char *store, const char *tok, eb_http_resp *resp)
{
	return rt_drain_push(ctx, store, tok, resp, NULL, NULL, NULL);
}

static long rt_retry_after(ebc_ctx *ctx, const eb_http_resp *resp)
{
	char v[64];
	char *end = NULL;
	long s;

	if (!eb_http_resp_header(resp, "Retry-After", v, sizeof(v))) {
		ebc_fail(ctx, "ERR-6", "Retry-After in whole seconds (>= 1) on a 429", "no Retry-After header");
		return -1;
	}
	s = strtol(v, &end, 10);
	if (end == v || *end || s < 1) {
		ebc_fail(ctx, "ERR-6", "Retry-After in whole seconds (>= 1)", "Retry-After: %s", v);
		return -1;
	}
	return s;
}

static void rt_http_429(ebc_ctx *ctx)
{
	char store[160];
	eb_http_resp resp;

	memset(&resp, 0, sizeof(resp));
	ebc_store(ctx, NULL, store, sizeof(store));
	if (!rt_drain(ctx, store, ebc_token(ctx), &resp))
		return;
	if (ebc_expect_error(ctx, &resp, 429, "RATE_LIMITED", "RATE-2", NULL))
		rt_retry_after(ctx, &resp);
	eb_http_resp_clear(&resp);
}

static void rt_http_not_applied(ebc_ctx *ctx)
{
	char store[160], id[32], path[256];
	char *ch = NULL, *body = NULL, *reader = NULL;
	eb_http_resp resp, push;
	eb_sync_response *r = NULL;
	long wait;
	int attempt;

	memset(&resp, 0, sizeof(resp));
	memset(&push, 0, sizeof(push));
	ebc_store(ctx, NULL, store, sizeof(store));
	ch = ebc_set_json(ebc_cid(ctx, id, sizeof(id)), 1000, "a", "1");
	body = ebc_body(0, (const char *const *)&ch, 1, -1);
	reader = ebc_token_sub(ctx, "reader");
	if (!reader || !body)
		goto out;
	/* the push goes out while the other connections keep the bucket empty;
	 * should a token slip in between and the push go through anyway, start
	 * over on a fresh store */
	for (attempt = 0; attempt < 10; attempt++) {
		snprintf(path, sizeof(path), "/api/stores/%s/sync", store);
		if (!rt_drain_push(ctx, store, ebc_token(ctx), &resp, path, body, &push))
			goto out;
		eb_http_resp_clear(&resp);
		if (push.status == 429)
			break;
		eb_http_resp_clear(&push);
		ebc_store(ctx, NULL, store, sizeof(store));
	}
	if (push.status != 429) {
		/* each time the push competed with the draining connections for
		 * the tokens the refill brings, and won every time: a server that
		 * does not charge pushes to the bucket */
		ebc_fail(ctx, "RATE-2", "429 for a push sent while the subject's bucket is kept empty",
			 "the push was served %d times while the subject's other connections got 429", attempt);
		goto out;
	}
	if (!ebc_expect_error(ctx, &push, 429, "RATE_LIMITED", "RATE-2", NULL))
		goto out;
	wait = rt_retry_after(ctx, &push);
	if (wait < 0)
		goto out;
	/* read with another subject: its bucket is full */
	if (!ebc_get_changes(ctx, NULL, store, reader, "since=0", &resp))
		goto out;
	r = ebc_expect_ok(ctx, &resp, "FEED-3");
	if (r && (r->current_version != 0 || r->n != 0))
		ebc_fail(ctx, "RATE-2", "the rate-limited push not applied", "version %llu",
			 (unsigned long long)r->current_version);
out:
	eb_sync_response_free(r);
	eb_http_resp_clear(&resp);
	eb_http_resp_clear(&push);
	free(ch);
	free(body);
	free(reader);
}

static void rt_http_recovery(ebc_ctx *ctx)
{
	char store[160];
	eb_http_resp resp;
	long wait;
	eb_sync_response *r = NULL;

	memset(&resp, 0, sizeof(resp));
	ebc_store(ctx, NULL, store, sizeof(store));
	if (!rt_drain(ctx, store, ebc_token(ctx), &resp))
		return;
	wait = rt_retry_after(ctx, &resp);
	eb_http_resp_clear(&resp);
	if (wait < 0)
		return;
	ebc_note(ctx, "waiting Retry-After: %ld s", wait);
	ebc_sleep_ms(ebc_ms(ctx, wait * 1000 + 50));
	if (!ebc_get_changes(ctx, NULL, store, ebc_token(ctx), "since=0", &resp))
		return;
	if (resp.status == 429)
		ebc_fail(ctx, "RATE-3", "served again after waiting Retry-After", "429 again after %ld s", wait);
	else
		r = ebc_expect_ok(ctx, &resp, "RATE-3");
	eb_sync_response_free(r);
	eb_http_resp_clear(&resp);
}

/* Pings in lock step (each reply read before the next ping), so the server
 * can answer the first message over the limit before the second arrives. */
static void rt_ws(ebc_ctx *ctx)
{
	const eb_limits *l = &ctx->run->limits;
	ebc_ws *w = ebc_ws_ready(ctx, NULL, NULL, NULL);
	uint64_t t0 = eb_time_mono_ns();
	size_t sent = 0, volley, i;
	eb_ws_server_msg *m = NULL;
	char rid[16], msg[96];

	if (!w)
		return;
	w->unpaced = true;   /* this case is about going over the bucket */
	for (;;) {
		double el = (double)(eb_time_mono_ns() - t0) / 1e9;

		if ((double)sent > l->ws_burst + l->ws_per_second * el + 5) {
			ebc_fail(ctx, "RATE-4", "error RATE_LIMITED once the advertised bucket is exhausted",
				 "%zu pings in %.2f s all answered with pong", sent, el);
			goto out;
		}
		if (sent >= 20000) {
			ebc_error(ctx, "no RATE_LIMITED after 20000 pings");
			goto out;
		}
		ebc_ws_rid(w, rid, sizeof(rid));
		snprintf(msg, sizeof(msg), "{\"type\":\"ping\",\"requestId\":\"%s\"}", rid);
		eb_ws_server_msg_free(m);
		m = ebc_ws_call(w, msg, rid, "RATE-4");
		sent++;
		if (!m)
			goto out;
		if (m->type == EB_WS_S_ERROR && m->code && strcmp(m->code, "RATE_LIMITED") == 0)
			break;
		if (m->type != EB_WS_S_PONG) {
			ebc_fail(ctx, "RATE-4", "pong, or error RATE_LIMITED over the limit",
				 "reply of type %s", m->type_str ? m->type_str : "?");
			goto out;
		}
	}
	/* The bucket may gain a token between two pings, and a ping that finds
	 * one is rightly answered: a volley sent at once, larger than what the
	 * bucket refills in 200 ms, holds a second message over the limit
	 * whatever the timing. Sends stop once the server has closed. */
	volley = (size_t)(l->ws_per_second * 0.2) + 2;
	if (volley > 1000)
		volley = 1000;
	ebc_note(ctx, "RATE_LIMITED after %zu pings in %.3f s (bucket: burst %.0f, %.0f/s); a volley of %zu "
		 "more must close 4429", sent, (double)(eb_time_mono_ns() - t0) / 1e9, l->ws_burst,
		 l->ws_per_second, volley);
	for (i = 0; i < volley; i++) {
		eb_err err;

		ebc_ws_rid(w, rid, sizeof(rid));
		snprintf(msg, sizeof(msg), "{\"type\":\"ping\",\"requestId\":\"%s\"}", rid);
		eb_err_clear(&err);
		if (eb_wsc_send_text(w->c, msg, strlen(msg), &err) != EB_OK)
			break;
	}
	if (!ebc_ws_wait_close(w, ebc_timeout(ctx)))
		ebc_fail(ctx, "RATE-4", "close 4429 at the second message over the limit",
			 "the socket is still open %ld ms after %zu more pings", ebc_timeout(ctx), volley);
	else if (w->close_code != 4429)
		ebc_fail(ctx, "RATE-4", "close code 4429", "closed with %d", w->close_code);
out:
	eb_ws_server_msg_free(m);
	ebc_ws_free(w);
}

const ebc_case ebc_cases_rate[] = {
	{ "rate/http-429-retry-after", "Over the advertised bucket: 429 RATE_LIMITED with Retry-After",
	  "MUST", { "RATE-2", "ERR-6", "RATE-1" }, { "rate" }, EBC_F_RATE, rt_http_429 },
	{ "rate/http-429-not-applied", "A rate-limited push is not applied",
	  "MUST", { "RATE-2", "ERR-7" }, { "rate" }, EBC_F_RATE, rt_http_not_applied },
	{ "rate/http-recovery", "After waiting Retry-After the client is served again",
	  "MUST", { "RATE-3", "ERR-6" }, { "rate" }, EBC_F_RATE, rt_http_recovery },
	{ "rate/ws-error-then-close", "Over the WebSocket bucket: error RATE_LIMITED, then close 4429",
	  "MUST", { "RATE-4" }, { "rate", "ws" }, EBC_F_RATE, rt_ws },
};
const size_t ebc_cases_rate_n = sizeof(ebc_cases_rate) / sizeof(ebc_cases_rate[0]);
