/*
 * timing.c — WS-NOTIF-2: notification latency over repeated trials. The
 * latency is measured from just before the push request that committed is
 * sent (a 429 and its Retry-After wait come before that instant, never into
 * the figure) to the arrival of the notification, an upper bound of the
 * commit-to-send time. On a server that coalesces, the bounds count from the
 * end of the advertised window (WS-NOTIF-2, WS-NOTIF-5).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eb_time.h"
#include "../ebc.h"

#define TM_TRIALS 20

static int tm_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The advertised coalescing window (WS-NOTIF-5 caps it at 250 ms); 0 for a
 * server that advertises no limits, which therefore does not coalesce. */
static long tm_window(const ebc_ctx *ctx)
{
	long co = (long)ctx->run->limits.coalesce_ms;

	return co > 250 ? 250 : co;
}

/* Pushes one change; *t0 gets the instant the request that committed was
 * sent. A 429 is waited out (Retry-After, RATE-3) before the clock starts:
 * the suite's own wait is not the server's latency. false after a verdict. */
static bool tm_push(ebc_ctx *ctx, eb_http *h, const char *store, uint64_t *t0, uint64_t *v)
{
	char id[32], path[512];
	char *ch = NULL, *body = NULL;
	const char *one[1];
	eb_http_resp resp;
	eb_sync_response *r = NULL;
	bool ok = false;
	int attempt;

	memset(&resp, 0, sizeof(resp));
	ebc_cid(ctx, id, sizeof(id));
	ch = ebc_set_json(id, ebc_now_ms() - 1000, id, "{\"n\":1}");
	one[0] = ch;
	body = ch ? ebc_body(0, one, 1, -1) : NULL;
	if (!body) {
		ebc_error(ctx, "out of memory");
		goto out;
	}
	snprintf(path, sizeof(path), "/api/stores/%s/sync", store);
	for (attempt = 0;; attempt++) {
		char ra[32];
		long wait = 1;

		*t0 = eb_time_mono_ns();
		if (!ebc_req(ctx, h, "POST", path, ebc_token(ctx), NULL, body, strlen(body),
			     NULL, 0, EBC_REQ_NO_RETRY, &resp))
			goto out;
		if (resp.status != 429 || attempt >= 4)
			break;
		if (eb_http_resp_header(&resp, "Retry-After", ra, sizeof(ra))) {
			char *end = NULL;
			long s = strtol(ra, &end, 10);

			if (end != ra && s >= 1)
				wait = s > 10 ? 10 : s;
		}
		ebc_note(ctx, "429 on the push: waiting Retry-After %ld s; the latency clock "
			 "starts at the retry", wait);
		eb_http_resp_clear(&resp);
		ebc_sleep_ms(wait * 1000);
	}
	r = ebc_expect_ok(ctx, &resp, "SYNC-9");
	if (!r)
		goto out;
	*v = r->current_version;
	ok = true;
out:
	eb_sync_response_free(r);
	eb_http_resp_clear(&resp);
	free(body);
	free(ch);
	return ok;
}

/* Fills lat (ms, sorted) with TM_TRIALS measurements. false after a verdict. */
static bool tm_measure(ebc_ctx *ctx, double *lat)
{
	char store[160];
	ebc_ws *w;
	eb_http *h = NULL;
	size_t i;
	bool ok = false;

	ebc_store(ctx, NULL, store, sizeof(store));
	w = ebc_ws_ready(ctx, NULL, store, NULL);
	h = w ? ebc_http_new(ctx) : NULL;
	if (!h)
		goto out;
	/* one warm-up push so connection setup is not measured */
	if (!ebc_push_n(ctx, h, store, ebc_token(ctx), 1, 0, NULL, NULL, "SYNC-9"))
		goto out;
	if (ebc_ws_wait_notif(w, store, 1, ebc_timeout(ctx), NULL, "WS-NOTIF-1") != 1) {
		if (!ebc_done(ctx))
			ebc_fail(ctx, "WS-NOTIF-1", "a notification", "none within %ld ms", ebc_timeout(ctx));
		goto out;
	}
	for (i = 0; i < TM_TRIALS; i++) {
		uint64_t t0 = 0, v = 0;
		eb_ws_server_msg *m = NULL;
		int got;

		if (!tm_push(ctx, h, store, &t0, &v))
			goto out;
		got = ebc_ws_wait_notif(w, store, v, ebc_ms(ctx, 5000), &m, "WS-NOTIF-1");
		if (got != 1) {
			if (!ebc_done(ctx))
				ebc_fail(ctx, "WS-NOTIF-2", "a notification within 1000 ms of the commit",
					 "trial %zu: no notification for version %llu within 5000 ms", i + 1,
					 (unsigned long long)v);
			goto out;
		}
		eb_ws_server_msg_free(m);
		lat[i] = (double)(eb_time_mono_ns() - t0) / 1e6;
	}
	qsort(lat, TM_TRIALS, sizeof(*lat), tm_cmp);
	ebc_note(ctx, "latency over %d trials: min %.2f ms, p50 %.2f ms, p90 %.2f ms, p99/max %.2f ms",
		 TM_TRIALS, lat[0], lat[TM_TRIALS / 2], lat[(TM_TRIALS * 9) / 10], lat[TM_TRIALS - 1]);
	ok = true;
out:
	eb_http_free(h);
	ebc_ws_free(w);
	return ok;
}

static void tm_must(ebc_ctx *ctx)
{
	double lat[TM_TRIALS];
	long co = tm_window(ctx);
	double bound = (double)ebc_ms(ctx, 1000) + (double)co;
	char exp[128];

	if (!tm_measure(ctx, lat))
		return;
	snprintf(exp, sizeof(exp), "every notification within 1000 ms of the commit "
		 "(+ the %ld ms coalescing window)", co);
	if (lat[TM_TRIALS - 1] > bound)
		ebc_fail(ctx, "WS-NOTIF-2", exp,
			 "p99 (max of %d) %.1f ms, p50 %.1f ms", TM_TRIALS, lat[TM_TRIALS - 1], lat[TM_TRIALS / 2]);
}

static void tm_should(ebc_ctx *ctx)
{
	double lat[TM_TRIALS];
	long co = tm_window(ctx);
	double bound = (double)ebc_ms(ctx, 100) + (double)co;
	char exp[128];

	if (!tm_measure(ctx, lat))
		return;
	snprintf(exp, sizeof(exp), "notifications within 100 ms (p50 and p90) of the end of "
		 "the %ld ms coalescing window", co);
	if (lat[TM_TRIALS / 2] > bound || lat[(TM_TRIALS * 9) / 10] > bound)
		ebc_fail(ctx, "WS-NOTIF-2", exp,
			 "p50 %.1f ms, p90 %.1f ms, max %.1f ms", lat[TM_TRIALS / 2],
			 lat[(TM_TRIALS * 9) / 10], lat[TM_TRIALS - 1]);
}

const ebc_case ebc_cases_timing[] = {
	{ "timing/notify-latency-1000ms", "Notification latency after a push, 20 trials: p99 within 1000 ms",
	  "MUST", { "WS-NOTIF-2", "SYNC-9" }, { "timing", "notifications" }, EBC_F_ALONE, tm_must },
	{ "timing/notify-latency-100ms", "Notification latency after a push, 20 trials: p50 and p90 within 100 ms",
	  "SHOULD", { "WS-NOTIF-2" }, { "timing", "notifications" }, EBC_F_ALONE, tm_should },
};
const size_t ebc_cases_timing_n = sizeof(ebc_cases_timing) / sizeof(ebc_cases_timing[0]);
