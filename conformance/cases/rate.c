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

#define RT_THREADS 3

typedef struct rt_drainer {
	ebc_ctx *ctx;
	const char *path, *tok;
	pthread_mutex_t *mu;
	size_t *total;           /* requests sent by all threads */
	bool *stop;
	uint64_t t0;
	eb_http_resp got;        /* this thread's 429, if any */
	long bad_status;         /* a status other than 200/429 */
	bool over;               /* bucket allowance exceeded without a 429 */
	bool failed;             /* transport error or timeout */
} rt_drainer;

/* Several connections so that a server slower than its own refill rate on
 * one connection can still be driven past its bucket. */
static void *rt_drain_thread(void *arg)
{
	rt_drainer *d = arg;
	const eb_limits *l = &d->ctx->run->limits;
	eb_http *h = ebc_http_new(d->ctx);
	eb_http_resp resp;

	memset(&d->got, 0, sizeof(d->got));
	if (!h) {
		d->failed = true;
		return NULL;
	}
	for (;;) {
		double el = (double)(eb_time_mono_ns() - d->t0) / 1e9;
		size_t n;
		bool stop;

		pthread_mutex_lock(d->mu);
		stop = *d->stop;
		n = ++*d->total;
		pthread_mutex_unlock(d->mu);
		if (stop)
			break;
		if ((double)n > l->http_burst + l->http_per_second * el + 5 * RT_THREADS && el > 0.05) {
			d->over = true;
			break;
		}
		if (el > (double)ebc_ms(d->ctx, 10000) / 1000.0 || n > 100000) {
			d->failed = true;
			break;
		}
		if (eb_http_request(h, "GET", d->path, d->tok, NULL, NULL, 0, NULL, 0, &resp) != EB_OK) {
			eb_http_resp_clear(&resp);
			d->failed = true;
			break;
		}
		if (resp.status == 429) {
			d->got = resp;
			break;
		}
		if (resp.status != 200) {
			d->bad_status = resp.status;
			eb_http_resp_clear(&resp);
			break;
		}
		eb_http_resp_clear(&resp);
	}
	pthread_mutex_lock(d->mu);
	*d->stop = true;
	pthread_mutex_unlock(d->mu);
	eb_http_free(h);
	return NULL;
}

/* Sends GETs with tok on a few connections until a 429 (kept in *resp).
 * false after a verdict. */
static bool rt_drain(ebc_ctx *ctx, const char *store, const char *tok, eb_http_resp *resp)
{
	const eb_limits *l = &ctx->run->limits;
	rt_drainer d[RT_THREADS];
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	size_t total = 0, i;
	bool stop = false, ok = false, kept = false;
	char path[256];
	uint64_t t0 = eb_time_mono_ns();
	double el;

	memset(resp, 0, sizeof(*resp));
	snprintf(path, sizeof(path), "/api/stores/%s/changes?since=0", store);
	memset(d, 0, sizeof(d));
	for (i = 0; i < RT_THREADS; i++) {
		d[i].ctx = ctx;
		d[i].path = path;
		d[i].tok = tok;
		d[i].mu = &mu;
		d[i].total = &total;
		d[i].stop = &stop;
		d[i].t0 = t0;
	}
	ebc_parallel(RT_THREADS, rt_drain_thread, d, sizeof(d[0]));
	el = (double)(eb_time_mono_ns() - t0) / 1e9;
	for (i = 0; i < RT_THREADS; i++) {
		if (d[i].got.status == 429 && !kept) {
			*resp = d[i].got;
			kept = true;
			ok = true;
		} else {
			eb_http_resp_clear(&d[i].got);
		}
	}
	if (ok) {
		ebc_note(ctx, "429 after %zu requests on %d connections in %.3f s (bucket: burst %.0f, %.0f/s)",
			 total, RT_THREADS, el, l->http_burst, l->http_per_second);
		return true;
	}
	for (i = 0; i < RT_THREADS; i++) {
		if (d[i].bad_status) {
			ebc_fail(ctx, "RATE-2", "200 until the bucket is empty, then 429", "status %ld",
				 d[i].bad_status);
			return false;
		}
	}
	for (i = 0; i < RT_THREADS; i++) {
		if (d[i].over) {
			ebc_fail(ctx, "RATE-2", "429 once the advertised bucket is exhausted",
				 "%zu requests in %.2f s all served; the bucket allows at most %.0f", total, el,
				 l->http_burst + l->http_per_second * el);
			return false;
		}
	}
	ebc_error(ctx, "could not exhaust the bucket: %zu requests in %.2f s, no 429 (server slower than its refill rate, or a network error)",
		  total, el);
	return false;
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
	char store[160], id[32];
	char *ch = NULL, *body = NULL, *reader = NULL;
	eb_http_resp resp;
	eb_sync_response *r = NULL;
	long wait;
	int attempt;

	memset(&resp, 0, sizeof(resp));
	ebc_store(ctx, NULL, store, sizeof(store));
	ch = ebc_set_json(ebc_cid(ctx, id, sizeof(id)), 1000, "a", "1");
	body = ebc_body(0, (const char *const *)&ch, 1, -1);
	reader = ebc_token_sub(ctx, "reader");
	if (!reader || !body)
		goto out;
	/* the push must land before the bucket gains a token (5 ms at 200/s):
	 * a slow client (sanitizers, a loaded machine) may need a few tries */
	for (attempt = 0; attempt < 10; attempt++) {
		char path[256];

		if (!rt_drain(ctx, store, ebc_token(ctx), &resp))
			goto out;
		eb_http_resp_clear(&resp);
		snprintf(path, sizeof(path), "/api/stores/%s/sync", store);
		if (!ebc_req(ctx, NULL, "POST", path, ebc_token(ctx), NULL, body, strlen(body), NULL, 0,
			     EBC_REQ_NO_RETRY, &resp))
			goto out;
		if (resp.status == 429)
			break;
		/* a token refilled in between and the push went through: start over
		 * on a fresh store */
		eb_http_resp_clear(&resp);
		ebc_store(ctx, NULL, store, sizeof(store));
	}
	if (resp.status != 429) {
		ebc_error(ctx, "the push after an exhausted bucket was never rate limited (refills too fast to test)");
		goto out;
	}
	wait = rt_retry_after(ctx, &resp);
	if (wait < 0)
		goto out;
	eb_http_resp_clear(&resp);
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
	size_t sent = 0;
	eb_ws_server_msg *m = NULL;
	char rid[16], msg[96];

	if (!w)
		return;
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
	ebc_note(ctx, "RATE_LIMITED after %zu pings in %.3f s (bucket: burst %.0f, %.0f/s); one more message must close 4429",
		 sent, (double)(eb_time_mono_ns() - t0) / 1e9, l->ws_burst, l->ws_per_second);
	ebc_ws_rid(w, rid, sizeof(rid));
	snprintf(msg, sizeof(msg), "{\"type\":\"ping\",\"requestId\":\"%s\"}", rid);
	if (!ebc_ws_send(w, msg))
		goto out;
	if (!ebc_ws_wait_close(w, ebc_timeout(ctx)))
		ebc_fail(ctx, "RATE-4", "close 4429 at the second message over the limit",
			 "the socket is still open %ld ms later", ebc_timeout(ctx));
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
