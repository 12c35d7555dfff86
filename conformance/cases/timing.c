/*
 * timing.c — WS-NOTIF-2: notification latency over repeated trials. The
 * latency is measured from just before the push request is sent to the
 * arrival of the notification, an upper bound of the commit-to-send time.
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
		eb_sync_response *r = NULL;
		uint64_t t0 = eb_time_mono_ns(), v;
		eb_ws_server_msg *m = NULL;
		int got;

		if (!ebc_push_n(ctx, h, store, ebc_token(ctx), 1, 0, NULL, &r, "SYNC-9"))
			goto out;
		v = r->current_version;
		eb_sync_response_free(r);
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
	double bound = (double)ebc_ms(ctx, 1000);

	if (!tm_measure(ctx, lat))
		return;
	if (lat[TM_TRIALS - 1] > bound)
		ebc_fail(ctx, "WS-NOTIF-2", "every notification within 1000 ms of the commit",
			 "p99 (max of %d) %.1f ms, p50 %.1f ms", TM_TRIALS, lat[TM_TRIALS - 1], lat[TM_TRIALS / 2]);
}

static void tm_should(ebc_ctx *ctx)
{
	double lat[TM_TRIALS];
	double bound = (double)ebc_ms(ctx, 100);

	if (!tm_measure(ctx, lat))
		return;
	if (lat[TM_TRIALS / 2] > bound || lat[(TM_TRIALS * 9) / 10] > bound)
		ebc_fail(ctx, "WS-NOTIF-2", "notifications within 100 ms (p50 and p90)",
			 "p50 %.1f ms, p90 %.1f ms, max %.1f ms", lat[TM_TRIALS / 2],
			 lat[(TM_TRIALS * 9) / 10], lat[TM_TRIALS - 1]);
}

const ebc_case ebc_cases_timing[] = {
	{ "timing/notify-latency-1000ms", "Notification latency after a push, 20 trials: p99 within 1000 ms",
	  "MUST", { "WS-NOTIF-2", "SYNC-9" }, { "timing", "notifications" }, 0, tm_must },
	{ "timing/notify-latency-100ms", "Notification latency after a push, 20 trials: p50 and p90 within 100 ms",
	  "SHOULD", { "WS-NOTIF-2" }, { "timing", "notifications" }, 0, tm_should },
};
const size_t ebc_cases_timing_n = sizeof(ebc_cases_timing) / sizeof(ebc_cases_timing[0]);
