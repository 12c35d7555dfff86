/*
 * cases_poll.c — client cases without a live socket: the catch-up at a loss
 * (per close code), poll intervals per activity state, activity changes,
 * back-off and Retry-After, one read per store per round, the reconnect
 * timer and what a reconnect does, tokens.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eb_time.h"
#include "ebcc.h"

#define A 0

/* "At once": within half an active poll interval plus the fixed slack
 * (CLIENT-DRIVER.md, "Tolerances"): still before the earliest next poll
 * (0.9 x 30 s), so a catch-up is told apart from the first poll. */
static double poll_at_once(ebcc_ctx *cc)
{
	double f = cc->time_scale > 1 ? cc->time_scale : 1;

	return ebcc_proto_ms(cc, 15) + EBCC_SLACK_MS * f;
}

/* Live, then the socket is lost by fault (a JSON of ebmock's admin API);
 * with refuse, reconnects are refused from then on. Returns the index of
 * the ws_close, -1 after a verdict. */
static long poll_lose(ebcc_ctx *cc, const char *activity, int n_stores, const char *fault,
		      bool refuse)
{
	long live = ebcc_boot(cc, A, activity, n_stores, true);
	ebcc_q cl = { EBCC_Q_WS_CLOSE, NULL, -1, NULL };
	long c;

	if (live < 0)
		return -1;
	if (refuse && !ebcc_fault(cc, "{\"refuseWs\":true}"))
		return -1;
	if (!ebcc_fault(cc, fault))
		return -1;
	c = ebcc_q_wait(cc, &cl, (size_t)live + 1, ebcc_now() + (double)ebc_ms(&cc->base, 3000));
	if (c < 0)
		ebc_error(&cc->base, "the fault %s closed no socket within %ld ms", fault,
			  ebc_ms(&cc->base, 3000));
	return c;
}

/* The catch-up read of store after event at (a loss); its index, or -1
 * after ebc_fail(CLIENT-POLL-5). */
static long poll_catch_up(ebcc_ctx *cc, long at, const char *store, const char *why)
{
	ebcc_q rd = { EBCC_Q_READ, store, A, NULL };
	double t = cc->ev[at].t, lim = poll_at_once(cc);
	long r = ebcc_q_wait(cc, &rd, (size_t)at + 1, t + lim + (double)ebc_ms(&cc->base, 1000));

	ebcc_tl_expect(cc, A, t, t + lim, "catch-up");
	if (r < 0 || cc->ev[r].t0 - t > lim) {
		ebc_fail(&cc->base, "CLIENT-POLL-5",
			 "a catch-up read of each open store at once (within half an active poll "
			 "interval + 100 ms) after the socket is lost",
			 "%s: %s", why, r < 0 ? "no read at all" : "the first read came late");
		if (r >= 0) {
			char *a = cc->base.actual + strlen(cc->base.actual);

			snprintf(a, sizeof(cc->base.actual) - (size_t)(a - cc->base.actual),
				 " (%.0f ms after, limit %.0f ms)", cc->ev[r].t0 - t, lim);
		}
		return -1;
	}
	return r;
}

static void poll_close_code(ebcc_ctx *cc, const char *fault, const char *label)
{
	long c = poll_lose(cc, "active", 1, fault, true), r, a;
	ebcc_q att = { EBCC_Q_ATTEMPT, NULL, -1, NULL };
	ebcc_window w;
	char what[96];

	if (c < 0)
		return;
	r = poll_catch_up(cc, c, ebcc_store(cc, 0), label);
	if (r < 0)
		return;
	/* The first reconnect attempt: 2 min after the loss, never earlier. */
	ebcc_window_for(ebcc_proto_ms(cc, 120), 0.10, cc->time_scale, &w);
	ebcc_tl_expect(cc, A, cc->ev[c].t + w.lo, cc->ev[c].t + w.hi, "first reconnect");
	a = ebcc_q_wait(cc, &att, (size_t)c + 1, cc->ev[c].t + w.hi + 50);
	if (a < 0) {
		ebc_fail(&cc->base, "CLIENT-RECONNECT-2", "a reconnect attempt 2 min (±10 %) after the loss",
			 "%s: no attempt within %.0f ms", label, w.hi);
		return;
	}
	snprintf(what, sizeof(what), "first reconnect after %s", label);
	ebcc_expect_in(cc, "CLIENT-RECONNECT-2", what, &w, cc->ev[a].t - cc->ev[c].t);
}

static void case_close_1001(ebcc_ctx *cc) { poll_close_code(cc, "{\"closeWs\":1001}", "close 1001"); }
static void case_close_1012(ebcc_ctx *cc) { poll_close_code(cc, "{\"closeWs\":1012}", "close 1012"); }
static void case_close_4429(ebcc_ctx *cc) { poll_close_code(cc, "{\"closeWs\":4429}", "close 4429"); }
static void case_close_4400(ebcc_ctx *cc) { poll_close_code(cc, "{\"closeWs\":4400}", "close 4400"); }
static void case_close_drop(ebcc_ctx *cc) { poll_close_code(cc, "{\"dropWs\":\"now\"}", "TCP drop without close frame"); }

/* Reads of store 0 after the catch-up r: n gaps measured against
 * interval_s of protocol time. */
static void poll_measure(ebcc_ctx *cc, long r, double interval_s, int gaps, const char *rule,
			 const char *label)
{
	ebcc_q rd = { EBCC_Q_READ, ebcc_store(cc, 0), A, NULL };
	ebcc_window w;
	double t = cc->ev[r].t0;
	long at = r;
	int k;

	ebcc_window_for(ebcc_proto_ms(cc, interval_s), 0.10, cc->time_scale, &w);
	for (k = 0; k < gaps; k++) {
		long nx;
		char what[96];

		ebcc_tl_expect(cc, A, t + w.lo, t + w.hi, label);
		nx = ebcc_q_wait(cc, &rd, (size_t)at + 1, t + w.hi + 50);
		snprintf(what, sizeof(what), "%s poll interval %d", label, k + 1);
		if (nx < 0) {
			char win[160];

			ebcc_window_text(&w, win, sizeof(win));
			ebc_fail(&cc->base, rule, win, "%s: no read within %.0f ms of the previous one",
				 what, w.hi);
			return;
		}
		if (!ebcc_expect_in(cc, rule, what, &w, cc->ev[nx].t0 - t))
			return;
		t = cc->ev[nx].t0;
		at = nx;
	}
}

static void poll_interval(ebcc_ctx *cc, const char *activity, double interval_s, int gaps)
{
	long c = poll_lose(cc, activity, 1, "{\"dropWs\":\"now\"}", true), r;
	char label[32];

	if (c < 0)
		return;
	r = poll_catch_up(cc, c, ebcc_store(cc, 0), "TCP drop");
	if (r < 0)
		return;
	snprintf(label, sizeof(label), "%s", activity);
	poll_measure(cc, r, interval_s, gaps, "CLIENT-POLL-1", label);
}

static void case_interval_active(ebcc_ctx *cc) { poll_interval(cc, "active", 30, 5); }
static void case_interval_idle(ebcc_ctx *cc) { poll_interval(cc, "idle", 300, 3); }
static void case_interval_background(ebcc_ctx *cc) { poll_interval(cc, "background", 900, 2); }

static void case_activity_shorter(ebcc_ctx *cc)
{
	long c = poll_lose(cc, "idle", 1, "{\"dropWs\":\"now\"}", true), r, nx;
	ebcc_q rd = { EBCC_Q_READ, ebcc_store(cc, 0), A, NULL };
	double t_switch, lim = poll_at_once(cc);

	if (c < 0)
		return;
	r = poll_catch_up(cc, c, ebcc_store(cc, 0), "TCP drop");
	if (r < 0)
		return;
	/* A third of the idle interval later the user comes back: one
	 * active interval has long passed, so the poll is due at once. */
	if (!ebcc_sleep_until(cc, cc->ev[r].t0 + ebcc_proto_ms(cc, 100)))
		return;
	t_switch = ebcc_now();
	if (!ebcc_activity(cc, A, "active"))
		return;
	ebcc_tl_expect(cc, A, t_switch, t_switch + lim, "poll at once");
	nx = ebcc_q_wait(cc, &rd, (size_t)r + 1, t_switch + lim + (double)ebc_ms(&cc->base, 1000));
	if (nx < 0 || cc->ev[nx].t0 - t_switch > lim) {
		ebc_fail(&cc->base, "CLIENT-POLL-6",
			 "idle -> active when one active interval has passed since the last poll: "
			 "a poll at once (within half an active interval + 100 ms)",
			 "%s", nx < 0 ? "no poll" : "the poll came late");
		return;
	}
	if (cc->ev[nx].t0 < t_switch - 5) {
		ebc_fail(&cc->base, "CLIENT-POLL-1", "no idle poll before 300 s",
			 "a poll %.0f ms after the catch-up", cc->ev[nx].t0 - cc->ev[r].t0);
		return;
	}
	poll_measure(cc, nx, 30, 2, "CLIENT-POLL-6", "active after switch");
}

static void case_activity_longer(ebcc_ctx *cc)
{
	long c = poll_lose(cc, "active", 1, "{\"dropWs\":\"now\"}", true), r, nx;
	ebcc_q rd = { EBCC_Q_READ, ebcc_store(cc, 0), A, NULL };
	ebcc_window w;

	if (c < 0)
		return;
	r = poll_catch_up(cc, c, ebcc_store(cc, 0), "TCP drop");
	if (r < 0)
		return;
	/* A third of an active interval after the last poll the user goes
	 * idle: the pending poll moves to 300 s after that poll. */
	if (!ebcc_sleep_until(cc, cc->ev[r].t0 + ebcc_proto_ms(cc, 10)))
		return;
	if (!ebcc_activity(cc, A, "idle"))
		return;
	ebcc_window_for(ebcc_proto_ms(cc, 300), 0.10, cc->time_scale, &w);
	ebcc_tl_expect(cc, A, cc->ev[r].t0 + w.lo, cc->ev[r].t0 + w.hi, "idle poll");
	nx = ebcc_q_wait(cc, &rd, (size_t)r + 1, cc->ev[r].t0 + w.hi + 50);
	if (nx < 0) {
		ebc_fail(&cc->base, "CLIENT-POLL-1", "an idle poll 300 s after the last",
			 "no poll within %.0f ms", w.hi);
		return;
	}
	ebcc_expect_in(cc, "CLIENT-POLL-6", "next poll after active -> idle (from the previous poll)",
		       &w, cc->ev[nx].t0 - cc->ev[r].t0);
}

/* Start offline (upgrades refused) at activity, let the client settle, then
 * set fault (the failures under test). Returns the event index from which
 * the failures count, or -1 after a verdict. */
static long poll_failing(ebcc_ctx *cc, const char *activity, const char *fault)
{
	long b;

	if (!ebcc_fault(cc, "{\"refuseWs\":true}"))
		return -1;
	if (ebcc_boot(cc, A, activity, 1, false) < 0)
		return -1;
	if (!ebcc_sleep(cc, ebcc_proto_ms(cc, 5)))
		return -1;
	ebcc_evlog_poll(cc);
	b = (long)cc->n_ev;
	if (!ebcc_fault(cc, fault))
		return -1;
	return b;
}

/* Failed client requests from index from; their indexes into out. */
static size_t poll_failures(ebcc_ctx *cc, size_t from, size_t *out, size_t cap, double deadline)
{
	ebcc_q f = { EBCC_Q_FAILED, NULL, A, NULL };
	size_t n = 0;
	long at = (long)from - 1;

	while (n < cap) {
		at = ebcc_q_wait(cc, &f, (size_t)(at + 1), deadline);
		if (at < 0)
			break;
		out[n++] = (size_t)at;
	}
	return n;
}

static void case_backoff_sequence(ebcc_ctx *cc)
{
	long b = poll_failing(cc, "active",
				 "{\"http503Ms\":600000,\"retryAfterSeconds\":1}");
	size_t idx[8], n, k;
	double until;

	/* 503 for the whole sequence: 30+60+120+240+300+300 s of protocol
	 * time, Retry-After 1 s (below every back-off step). */
	if (b < 0)
		return;
	until = ebcc_now() + ebcc_proto_ms(cc, 30 + 30 + 60 + 120 + 240 + 300 + 300) * 1.1 +
		(double)ebc_ms(&cc->base, 1000);
	n = poll_failures(cc, (size_t)b, idx, 7, until);
	if (n < 7) {
		ebc_fail(&cc->base, "CLIENT-POLL-2", "failed requests keep being retried on the back-off",
			 "%zu failed requests in %.0f ms", n, until - cc->ev[b > 0 ? b - 1 : 0].t);
		return;
	}
	for (k = 0; k + 1 < n; k++) {
		ebcc_window w;
		char what[80];
		double nominal = ebcc_backoff_s((unsigned)(k + 1));

		ebcc_window_for(ebcc_proto_ms(cc, nominal), 0.10, cc->time_scale, &w);
		ebcc_tl_expect(cc, A, cc->ev[idx[k]].t + w.lo, cc->ev[idx[k]].t + w.hi, "back-off");
		snprintf(what, sizeof(what), "wait after failure %zu (back-off %.0f s)", k + 1, nominal);
		/* From the failure's answer to the next request. */
		if (!ebcc_expect_in(cc, "CLIENT-POLL-2", what, &w,
				    cc->ev[idx[k + 1]].t0 - cc->ev[idx[k]].t))
			return;
	}
}

static void case_backoff_reset(ebcc_ctx *cc)
{
	long b = poll_failing(cc, "active",
				 "{\"http503Ms\":600000,\"retryAfterSeconds\":1}"), ok;
	size_t idx[4], n;
	ebcc_q okq = { EBCC_Q_REQ, NULL, A, NULL };
	ebcc_window w;
	double deadline;

	if (b < 0)
		return;
	n = poll_failures(cc, (size_t)b, idx, 3, ebcc_now() + ebcc_proto_ms(cc, 300) +
			  (double)ebc_ms(&cc->base, 1000));
	if (n < 3) {
		ebc_fail(&cc->base, "CLIENT-POLL-2", "failed polls retried on the back-off",
			 "%zu failures", n);
		return;
	}
	/* Back-off is now at 120 s; the next request succeeds. */
	if (!ebcc_fault(cc, "{\"http503Ms\":0}"))
		return;
	for (;;) {
		ok = ebcc_q_wait(cc, &okq, idx[2] + 1, ebcc_now() + ebcc_proto_ms(cc, 200) +
				 (double)ebc_ms(&cc->base, 1000));
		if (ok < 0) {
			ebc_fail(&cc->base, "CLIENT-POLL-2", "the client retries after its back-off",
				 "no request within 200 s of protocol time");
			return;
		}
		if (cc->ev[ok].status == 200)
			break;
		idx[2] = (size_t)ok;
	}
	if (!ebcc_fault(cc, "{\"http503Ms\":600000,\"retryAfterSeconds\":1}"))
		return;
	deadline = ebcc_now() + ebcc_proto_ms(cc, 200) + (double)ebc_ms(&cc->base, 1000);
	n = poll_failures(cc, (size_t)ok + 1, idx, 2, deadline);
	if (n < 2) {
		ebc_fail(&cc->base, "CLIENT-POLL-8", "after a success, a new failure waits 30 s",
			 "%zu failed requests after the success", n);
		return;
	}
	ebcc_window_for(ebcc_proto_ms(cc, 30), 0.10, cc->time_scale, &w);
	ebcc_tl_expect(cc, A, cc->ev[idx[0]].t + w.lo, cc->ev[idx[0]].t + w.hi, "30 s again");
	ebcc_expect_in(cc, "CLIENT-POLL-8", "wait after the first failure following a success", &w,
		       cc->ev[idx[1]].t0 - cc->ev[idx[0]].t);
}

static void case_backoff_idle(ebcc_ctx *cc)
{
	long b = poll_failing(cc, "idle",
				 "{\"http503Ms\":600000,\"retryAfterSeconds\":1}");
	size_t idx[3], n;
	ebcc_window w;

	if (b < 0)
		return;
	n = poll_failures(cc, (size_t)b, idx, 2, ebcc_now() + ebcc_proto_ms(cc, 700) +
			  (double)ebc_ms(&cc->base, 1000));
	if (n < 2) {
		ebc_fail(&cc->base, "CLIENT-POLL-7", "an idle client retries a failure after 300 s",
			 "%zu failures", n);
		return;
	}
	/* The longest of back-off (30 s) and the idle interval (300 s). */
	ebcc_window_for(ebcc_proto_ms(cc, 300), 0.10, cc->time_scale, &w);
	ebcc_tl_expect(cc, A, cc->ev[idx[0]].t + w.lo, cc->ev[idx[0]].t + w.hi, "idle interval");
	ebcc_expect_in(cc, "CLIENT-POLL-7",
		       "wait after a failure while idle (longest of back-off and activity interval)",
		       &w, cc->ev[idx[1]].t0 - cc->ev[idx[0]].t);
}

static void case_retry_after(ebcc_ctx *cc)
{
	long b = poll_failing(cc, "active",
				 "{\"http429Ms\":600000,\"retryAfterSeconds\":240}");
	size_t idx[3], n;
	ebcc_window w;
	double ra = ebcc_proto_ms(cc, 240);

	if (b < 0)
		return;
	n = poll_failures(cc, (size_t)b, idx, 2, ebcc_now() + ra * 1.2 + ebcc_proto_ms(cc, 40) +
			  (double)ebc_ms(&cc->base, 1000));
	if (n < 2) {
		ebc_fail(&cc->base, "CLIENT-POLL-3", "a retry after Retry-After: 240",
			 "%zu failures", n);
		return;
	}
	/* Retry-After is a minimum: no jitter below it, only the slack. */
	ebcc_window_for(ra, 0.10, cc->time_scale, &w);
	w.lo = ra - w.slack;
	ebcc_tl_expect(cc, A, cc->ev[idx[0]].t + w.lo, cc->ev[idx[0]].t + w.hi, "Retry-After");
	ebcc_expect_in(cc, "CLIENT-POLL-3", "wait after 429 with Retry-After: 240 (back-off 30 s)",
		       &w, cc->ev[idx[1]].t0 - cc->ev[idx[0]].t);
}

static void case_one_read_per_round(ebcc_ctx *cc)
{
	long c = poll_lose(cc, "active", 3, "{\"dropWs\":\"now\"}", true);
	double p = ebcc_proto_ms(cc, 30), t_end;
	ebcc_q rd = { EBCC_Q_READ, NULL, A, NULL };
	size_t idx[256], n, i;
	int k;

	if (c < 0)
		return;
	if (poll_catch_up(cc, c, ebcc_store(cc, 0), "TCP drop") < 0)
		return;
	t_end = cc->ev[c].t + 4.5 * p;
	if (!ebcc_sleep_until(cc, t_end + 50))
		return;
	for (k = 0; k < 3; k++) {
		const char *s = ebcc_store(cc, k);
		double prev = -1;

		rd.store = s;
		n = ebcc_q_find(cc, &rd, (size_t)c + 1, cc->ev[c].t, t_end, idx, 256);
		if (n < 4) {
			ebc_fail(&cc->base, "CLIENT-POLL-9", "every open store read in every poll round",
				 "store %d read %zu times in 4.5 active intervals", k, n);
			return;
		}
		for (i = 0; i < n && i < 256; i++) {
			const ebcc_ev *e = &cc->ev[idx[i]];

			/* A page follow-up (since = the previous read's end) is
			 * allowed; another full read within the round is not. */
			if (prev >= 0 && e->t0 - prev < 0.5 * p) {
				ebc_fail(&cc->base, "CLIENT-POLL-9", "each store read once per poll round",
					 "store %d read at %+.0f and %+.0f ms (round %.0f ms)", k,
					 prev - cc->t_start, e->t0 - cc->t_start, p);
				return;
			}
			prev = e->t0;
		}
	}
}

static void case_reconnect_cadence(ebcc_ctx *cc)
{
	long c = poll_lose(cc, "active", 1, "{\"dropWs\":\"now\"}", true), at;
	ebcc_q att = { EBCC_Q_ATTEMPT, NULL, -1, NULL };
	ebcc_window w;
	double t;
	int k;

	if (c < 0)
		return;
	ebcc_window_for(ebcc_proto_ms(cc, 120), 0.10, cc->time_scale, &w);
	t = cc->ev[c].t;
	at = c;
	for (k = 0; k < 3; k++) {
		long nx;
		char what[64];

		ebcc_tl_expect(cc, A, t + w.lo, t + w.hi, "reconnect");
		nx = ebcc_q_wait(cc, &att, (size_t)at + 1, t + w.hi + 50);
		if (nx < 0) {
			ebc_fail(&cc->base, "CLIENT-RECONNECT-1", "a reconnect attempt every 2 min while polling",
				 "attempt %d: none within %.0f ms", k + 1, w.hi);
			return;
		}
		snprintf(what, sizeof(what), k ? "reconnect attempt %d after the previous" :
			 "first reconnect attempt after the loss", k + 1);
		if (!ebcc_expect_in(cc, k ? "CLIENT-RECONNECT-1" : "CLIENT-RECONNECT-2", what, &w,
				    cc->ev[nx].t - t))
			return;
		t = cc->ev[nx].t;
		at = nx;
	}
}

static void case_reconnect_stops_polling(ebcc_ctx *cc)
{
	long c = poll_lose(cc, "active", 1, "{\"dropWs\":\"now\"}", true), live;
	const char *s = ebcc_store(cc, 0);
	ebcc_q rd = { EBCC_Q_READ, s, A, NULL };
	size_t idx[16], n;
	double t_live, until;
	uint64_t v = 0;

	if (c < 0)
		return;
	/* Accept sockets again before the first attempt, after a commit the
	 * client has not seen: the ack is above its version. */
	if (!ebcc_sleep_until(cc, cc->ev[c].t + ebcc_proto_ms(cc, 80)))
		return;
	if (!ebcc_fault(cc, "{\"refuseWs\":false,\"noNotify\":false}"))
		return;
	if (!ebcc_suite_push(cc, s, 1, &v))
		return;
	live = ebcc_wait_live(cc, (size_t)c + 1, 1);
	if (live < 0) {
		cc->base.raw = EBC_RAW_PASS;
		ebc_fail(&cc->base, "CLIENT-RECONNECT-1", "the client reconnects at its 2 min attempt",
			 "no subscribed socket within %.0f ms of the loss", ebcc_now() - cc->ev[c].t);
		return;
	}
	t_live = cc->ev[live].t;
	until = t_live + 4 * ebcc_proto_ms(cc, 30) + 50;
	ebcc_tl_expect(cc, A, t_live, until, "live again: at most the catch-up");
	if (!ebcc_sleep_until(cc, until))
		return;
	n = ebcc_q_find(cc, &rd, (size_t)live + 1, t_live,
			ebcc_live_until(cc, (size_t)live + 1, until), idx, 16);
	if (n > 1) {
		ebc_fail(&cc->base, "CLIENT-RECONNECT-3",
			 "after the last ack: one catch-up read at most, then no polling while live",
			 "%zu reads in %.0f ms after the ack", n, until - t_live);
		return;
	}
	if (!ebcc_wait_version(cc, A, s, v, ebcc_now() + (double)ebc_ms(&cc->base, 2000)))
		if (!ebc_done(&cc->base))
			ebc_fail(&cc->base, "CLIENT-RECONNECT-3",
				 "a store whose ack version is above the client's is synced",
				 "the client stayed below version %llu", (unsigned long long)v);
}

static void case_attempt_deadline(ebcc_ctx *cc)
{
	long live = ebcc_boot(cc, A, "active", 1, true), c, o, cl, o2;
	ebcc_q qc = { EBCC_Q_WS_CLOSE, NULL, -1, NULL };
	ebcc_q att = { EBCC_Q_ATTEMPT, NULL, -1, NULL };
	ebcc_window w, wr;

	if (live < 0)
		return;
	/* Sockets open but nothing is answered (no auth_ok): the attempt
	 * must be given up after 10 s. */
	if (!ebcc_fault(cc, "{\"silentWs\":true}") || !ebcc_fault(cc, "{\"dropWs\":\"now\"}"))
		return;
	c = ebcc_q_wait(cc, &qc, (size_t)live + 1, ebcc_now() + (double)ebc_ms(&cc->base, 3000));
	if (c < 0) {
		ebc_error(&cc->base, "dropWs closed no socket");
		return;
	}
	ebcc_window_for(ebcc_proto_ms(cc, 120), 0.10, cc->time_scale, &wr);
	o = ebcc_q_wait(cc, &att, (size_t)c + 1, cc->ev[c].t + wr.hi + 50);
	if (o < 0) {
		ebc_fail(&cc->base, "CLIENT-RECONNECT-1", "a reconnect attempt 2 min after the loss",
			 "none within %.0f ms", wr.hi);
		return;
	}
	/* The attempt deadline: 10 s scaled, never below 1 s (12.2); only
	 * its late side is judged (the rule is about giving up by it). */
	ebcc_window_for(ebcc_rt_deadline_ms(cc, 10), 0.0, cc->time_scale, &w);
	w.lo = 0;
	ebcc_tl_expect(cc, A, cc->ev[o].t + w.lo, cc->ev[o].t + w.hi, "attempt abandoned");
	cl = ebcc_q_wait(cc, &qc, (size_t)o + 1, cc->ev[o].t + w.hi + (double)ebc_ms(&cc->base, 1000));
	if (cl < 0) {
		ebc_fail(&cc->base, "CLIENT-RECONNECT-4", "an attempt not live within 10 s is closed",
			 "the attempt's socket was still open %.0f ms later", ebcc_now() - cc->ev[o].t);
		return;
	}
	if (!ebcc_expect_in(cc, "CLIENT-RECONNECT-4", "attempt abandoned after", &w,
			    cc->ev[cl].t - cc->ev[o].t))
		return;
	/* Counted as a failed attempt: the reconnect timer restarts when it
	 * is given up (section 12.2), so the next one comes 2 min after the
	 * close. */
	ebcc_tl_expect(cc, A, cc->ev[cl].t + wr.lo, cc->ev[cl].t + wr.hi, "next attempt");
	o2 = ebcc_q_wait(cc, &att, (size_t)cl + 1, cc->ev[cl].t + wr.hi + 50);
	if (o2 < 0) {
		ebc_fail(&cc->base, "CLIENT-RECONNECT-1", "the next attempt 2 min after the failed one",
			 "none within %.0f ms", wr.hi);
		return;
	}
	ebcc_expect_in(cc, "CLIENT-RECONNECT-1", "next attempt after the abandoned one was closed",
		       &wr, cc->ev[o2].t - cc->ev[cl].t);
}

/* The driver's token_requested events travel through a pipe the suite
 * reads on another thread: wait for them a little rather than race them. */
static bool poll_token_asked(ebcc_ctx *cc, long before)
{
	double until = ebcc_now() + (double)ebc_ms(&cc->base, 1000);

	while (ebcc_token_requests(cc, A) <= before) {
		if (ebcc_now() >= until)
			return false;
		ebc_sleep_ms(10);
	}
	return true;
}

static void case_token_4401(ebcc_ctx *cc)
{
	long live = ebcc_boot(cc, A, "active", 1, true), c, o;
	long before;
	ebcc_q qc = { EBCC_Q_WS_CLOSE, NULL, -1, NULL };
	ebcc_q att = { EBCC_Q_ATTEMPT, NULL, -1, NULL };
	double lim = poll_at_once(cc);

	if (live < 0)
		return;
	if (!ebcc_give_token(cc, A, 3600, NULL, 0))
		return;
	before = ebcc_token_requests(cc, A);
	if (!ebcc_fault(cc, "{\"closeWs\":4401}"))
		return;
	c = ebcc_q_wait(cc, &qc, (size_t)live + 1, ebcc_now() + (double)ebc_ms(&cc->base, 3000));
	if (c < 0) {
		ebc_error(&cc->base, "closeWs 4401 closed no socket");
		return;
	}
	ebcc_tl_expect(cc, A, cc->ev[c].t, cc->ev[c].t + lim, "reconnect at once");
	o = ebcc_q_wait(cc, &att, (size_t)c + 1, cc->ev[c].t + lim + (double)ebc_ms(&cc->base, 500));
	if (o < 0 || cc->ev[o].t - cc->ev[c].t > lim) {
		ebc_fail(&cc->base, "CLIENT-TOKEN-3", "after close 4401 a fresh token and one reconnect at once",
			 "%s (limit %.0f ms)", o < 0 ? "no reconnect" : "the reconnect came late", lim);
		return;
	}
	if (!poll_token_asked(cc, before)) {
		ebc_fail(&cc->base, "CLIENT-TOKEN-1", "the token provider asked again after 4401",
			 "no token_requested event after the close");
		return;
	}
	if (ebcc_wait_live(cc, (size_t)o, 1) < 0)
		return;
}

static void case_token_http_401(ebcc_ctx *cc)
{
	long b, f, r;
	long before;
	ebcc_q fq = { EBCC_Q_FAILED, NULL, A, NULL };
	ebcc_q rq = { EBCC_Q_REQ, NULL, A, NULL };
	char jti[160];
	char fault[400];

	if (!ebcc_fault(cc, "{\"refuseWs\":true}"))
		return;
	/* The token in use gets revoked; the provider already holds a fresh
	 * one, which the client must fetch and retry with once. */
	if (!ebcc_give_token(cc, A, 3600, jti, sizeof(jti)))
		return;
	b = ebcc_boot(cc, A, "active", 1, false);
	if (b < 0)
		return;
	if (!ebcc_sleep(cc, ebcc_proto_ms(cc, 10)))
		return;
	if (!ebcc_give_token(cc, A, 3600, NULL, 0))
		return;
	before = ebcc_token_requests(cc, A);
	snprintf(fault, sizeof(fault), "{\"revoke\":[\"%s\"]}", jti);
	ebcc_evlog_poll(cc);
	b = (long)cc->n_ev;
	if (!ebcc_fault(cc, fault))
		return;
	f = ebcc_q_wait(cc, &fq, (size_t)b, ebcc_now() + ebcc_proto_ms(cc, 40) + (double)ebc_ms(&cc->base, 1000));
	if (f < 0 || cc->ev[f].status != 401) {
		ebc_error(&cc->base, "the revoked token got no 401 (%s)", f < 0 ? "no failed request" : "other status");
		return;
	}
	r = ebcc_q_wait(cc, &rq, (size_t)f + 1, cc->ev[f].t + poll_at_once(cc) + (double)ebc_ms(&cc->base, 300));
	if (r < 0 || cc->ev[r].t0 - cc->ev[f].t > poll_at_once(cc) || cc->ev[r].status != 200) {
		ebc_fail(&cc->base, "CLIENT-TOKEN-3", "on HTTP 401 a fresh token and one retry at once",
			 "%s", r < 0 ? "no retry" : cc->ev[r].status != 200 ? "the retry failed too" :
			 "the retry came late");
		return;
	}
	if (!poll_token_asked(cc, before))
		ebc_fail(&cc->base, "CLIENT-TOKEN-1", "the provider is asked for the retry's token",
			 "no token_requested event after the 401");
}

static void case_token_reauth(ebcc_ctx *cc)
{
	long live, c;
	ebcc_q au = { EBCC_Q_WS_IN, NULL, -1, "auth" };
	ebcc_q qc = { EBCC_Q_WS_CLOSE, NULL, -1, NULL };
	double t_exp;
	long ra;
	uint64_t now_s = eb_time_now_ms() / 1000;

	/* Token lifetimes are not scaled: 4 s of real time, ebmock without
	 * leeway, so the socket closes with 4401 at exp unless re-authed. */
	if (!ebcc_give_token(cc, A, 4, NULL, 0))
		return;
	t_exp = ebcc_now() + (double)((now_s + 4) * 1000 - eb_time_now_ms());
	live = ebcc_boot(cc, A, "active", 1, true);
	if (live < 0)
		return;
	if (!ebcc_give_token(cc, A, 3600, NULL, 0))
		return;
	ebcc_tl_expect(cc, A, t_exp - 1000, t_exp, "re-auth before exp");
	ra = ebcc_q_wait(cc, &au, (size_t)live + 1, t_exp + 500);
	if (ra < 0 || cc->ev[ra].t > t_exp) {
		ebc_fail(&cc->base, "CLIENT-TOKEN-2", "auth with a fresh token on the open socket before exp",
			 "%s", ra < 0 ? "no re-auth" : "the re-auth came after exp");
		return;
	}
	c = ebcc_q_wait(cc, &qc, (size_t)live + 1, t_exp + 1000);
	if (c >= 0 && cc->ev[c].close_code == 4401)
		ebc_fail(&cc->base, "CLIENT-TOKEN-2", "the socket stays open past the first token's exp",
			 "closed with 4401: the re-auth did not carry a fresh token");
}

const ebcc_case ebcc_cases_poll[] = {
	{ { "client/loss/close-1001", "close 1001: catch-up read at once, first reconnect at 2 min",
	    "MUST", { "CLIENT-POLL-5", "CLIENT-RECONNECT-2" }, { "timing" }, 0, NULL },
	  case_close_1001, 1, NULL, 140 },
	{ { "client/loss/close-1012", "close 1012: catch-up read at once, first reconnect at 2 min",
	    "MUST", { "CLIENT-POLL-5", "CLIENT-RECONNECT-2" }, { "timing" }, 0, NULL },
	  case_close_1012, 1, NULL, 140 },
	{ { "client/loss/close-4429", "close 4429: catch-up read at once, first reconnect at 2 min",
	    "MUST", { "CLIENT-POLL-5", "CLIENT-RECONNECT-2" }, { "timing" }, 0, NULL },
	  case_close_4429, 1, NULL, 140 },
	{ { "client/loss/close-4400", "close 4400: catch-up read at once, first reconnect at 2 min",
	    "MUST", { "CLIENT-POLL-5", "CLIENT-RECONNECT-2" }, { "timing" }, 0, NULL },
	  case_close_4400, 1, NULL, 140 },
	{ { "client/loss/tcp-drop", "TCP drop without a close frame: catch-up at once, reconnect at 2 min",
	    "MUST", { "CLIENT-POLL-5", "CLIENT-RECONNECT-2" }, { "timing" }, 0, NULL },
	  case_close_drop, 1, NULL, 140 },
	{ { "client/poll/interval-active", "polling every 30 s while active, five periods",
	    "MUST", { "CLIENT-POLL-1", "CLIENT-POLL-4" }, { "timing" }, 0, NULL },
	  case_interval_active, 1, NULL, 170 },
	{ { "client/poll/interval-idle", "polling every 5 min while idle, three periods",
	    "MUST", { "CLIENT-POLL-1", "CLIENT-POLL-4" }, { "timing" }, 0, NULL },
	  case_interval_idle, 1, NULL, 920 },
	{ { "client/poll/interval-background", "polling every 15 min in the background, two periods",
	    "MUST", { "CLIENT-POLL-1", "CLIENT-POLL-4" }, { "timing" }, 0, NULL },
	  case_interval_background, 1, NULL, 1820 },
	{ { "client/poll/activity-shorter-at-once", "idle -> active: the poll comes at once when its time has passed",
	    "MUST", { "CLIENT-POLL-6" }, { "timing" }, 0, NULL },
	  case_activity_shorter, 1, NULL, 200 },
	{ { "client/poll/activity-longer-postpones", "active -> idle: the pending poll moves to 5 min after the last",
	    "MUST", { "CLIENT-POLL-6" }, { "timing" }, 0, NULL },
	  case_activity_longer, 1, NULL, 320 },
	{ { "client/poll/backoff-sequence", "failures back off 30, 60, 120, 240, 300, 300 s",
	    "MUST", { "CLIENT-POLL-2", "CLIENT-POLL-7", "CLIENT-POLL-4" }, { "timing" }, 0, NULL },
	  case_backoff_sequence, 1, NULL, 1100 },
	{ { "client/poll/backoff-reset", "a success resets the back-off: the next failure waits 30 s",
	    "MUST", { "CLIENT-POLL-8", "CLIENT-POLL-2" }, { "timing" }, 0, NULL },
	  case_backoff_reset, 1, NULL, 400 },
	{ { "client/poll/backoff-idle", "while idle a failure waits the idle interval (longest of the two)",
	    "MUST", { "CLIENT-POLL-7" }, { "timing" }, 0, NULL },
	  case_backoff_idle, 1, NULL, 650 },
	{ { "client/poll/retry-after", "429 with Retry-After 240 s: no retry before it",
	    "MUST", { "CLIENT-POLL-3" }, { "timing" }, 0, NULL },
	  case_retry_after, 1, NULL, 300 },
	{ { "client/poll/one-read-per-round", "three stores: each read once per poll round",
	    "MUST", { "CLIENT-POLL-9" }, { "timing" }, 0, NULL },
	  case_one_read_per_round, 1, NULL, 150 },
	{ { "client/reconnect/cadence", "reconnect attempts at 2 min after the loss, then every 2 min",
	    "MUST", { "CLIENT-RECONNECT-1", "CLIENT-RECONNECT-2" }, { "timing" }, 0, NULL },
	  case_reconnect_cadence, 1, NULL, 400 },
	{ { "client/reconnect/stops-polling", "a successful reconnect: subscribe, one catch-up, then no polling",
	    "MUST", { "CLIENT-RECONNECT-3", "CLIENT-RECONNECT-1" }, { "timing" }, 0, NULL },
	  case_reconnect_stops_polling, 1, NULL, 260 },
	{ { "client/reconnect/attempt-deadline", "an attempt that never gets auth_ok is closed after 10 s",
	    "MUST", { "CLIENT-RECONNECT-4", "CLIENT-RECONNECT-1" }, { "timing" }, 0, NULL },
	  case_attempt_deadline, 1, NULL, 260 },
	{ { "client/token/close-4401", "close 4401: the provider is asked and the client reconnects at once",
	    "MUST", { "CLIENT-TOKEN-3", "CLIENT-TOKEN-1" }, { 0 }, 0, NULL },
	  case_token_4401, 1, NULL, 20 },
	{ { "client/token/http-401", "HTTP 401: a fresh token from the provider and one retry",
	    "MUST", { "CLIENT-TOKEN-3", "CLIENT-TOKEN-1" }, { 0 }, 0, NULL },
	  case_token_http_401, 1, NULL, 60 },
	{ { "client/token/reauth-before-exp", "a short-lived token: auth again on the socket before exp",
	    "MUST", { "CLIENT-TOKEN-2", "CLIENT-TOKEN-1" }, { 0 }, 0, NULL },
	  case_token_reauth, 1, "--jwt-leeway 0", 500 },
};
const size_t ebcc_cases_poll_n = sizeof(ebcc_cases_poll) / sizeof(ebcc_cases_poll[0]);
