/*
 * cases_live.c — client cases while the socket is live: no polling, syncs
 * on notifications and acks, one sync at a time per store, the messages a
 * live client sends, silent sockets, unknown members, large integers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eb_json.h"
#include "eb_time.h"
#include "ebcc.h"

#define A 0

/* auth first, subscribe only after auth_ok, and nothing else but the
 * allowed types (CLIENT-WS-4, CLIENT-WS-7). */
static bool live_check_ws_order(ebcc_ctx *cc)
{
	size_t i;
	bool authed = false, auth_ok = false;
	long conn = -1;

	ebcc_evlog_poll(cc);
	for (i = 0; i < cc->n_ev; i++) {
		const ebcc_ev *e = &cc->ev[i];

		if (e->kind == EBCC_EV_WS_OPEN && conn < 0)
			conn = e->conn;
		if (e->conn != conn || conn < 0)
			continue;
		if (e->kind == EBCC_EV_WS_OUT && strcmp(e->type, "auth_ok") == 0)
			auth_ok = true;
		if (e->kind != EBCC_EV_WS_IN)
			continue;
		if (!authed && strcmp(e->type, "auth") != 0) {
			ebc_fail(&cc->base, "CLIENT-WS-4", "auth is the first message on a socket",
				 "the first message was \"%s\"", e->type);
			return false;
		}
		authed = true;
		if (strcmp(e->type, "subscribe") == 0 && !auth_ok) {
			ebc_fail(&cc->base, "CLIENT-WS-4", "subscribe only after auth_ok",
				 "subscribe sent before the server's auth_ok");
			return false;
		}
	}
	return true;
}

static bool live_allowed_type(const char *t)
{
	return strcmp(t, "auth") == 0 || strcmp(t, "subscribe") == 0 ||
	       strcmp(t, "unsubscribe") == 0 || strcmp(t, "ping") == 0;
}

static void case_no_polling_while_live(ebcc_ctx *cc)
{
	long live = ebcc_boot(cc, A, "active", 1, true);
	double t_live, until;
	ebcc_q q = { EBCC_Q_READ, NULL, A, NULL };
	size_t idx[8], n;

	if (live < 0)
		return;
	if (!live_check_ws_order(cc))
		return;
	t_live = cc->ev[live].t;
	/* Four active poll intervals: a client that polls while live reads
	 * three or four times. */
	until = t_live + 4 * ebcc_proto_ms(cc, 30) + 50;
	ebcc_tl_expect(cc, A, t_live, until, "live: no reads");
	if (!ebcc_sleep_until(cc, until))
		return;
	n = ebcc_q_find(cc, &q, (size_t)live + 1, t_live,
			ebcc_live_until(cc, (size_t)live + 1, until), idx, 8);
	if (n > 0) {
		char d[300];

		ebcc_ev_describe(&cc->ev[idx[0]], cc->t_start, d, sizeof(d));
		ebc_fail(&cc->base, "CLIENT-WS-1",
			 "no read of a store while the socket is authenticated and subscribed "
			 "(the store did not change)",
			 "%zu reads in %.0f ms of live socket, the first: %s", n, until - t_live, d);
	}
}

static void case_sync_on_store_changed(ebcc_ctx *cc)
{
	long live = ebcc_boot(cc, A, "active", 1, true);
	const char *s = ebcc_store(cc, 0);
	uint64_t v = 0;
	double t_push;
	ebcc_q q = { EBCC_Q_READ, s, A, NULL };
	long at;

	if (live < 0)
		return;
	t_push = ebcc_now();
	if (!ebcc_suite_push(cc, s, 2, &v))
		return;
	/* Not a timing rule: "on a store_changed" has no interval; the
	 * bound only keeps the case short (a poll would come at 30 s). */
	at = ebcc_q_wait(cc, &q, (size_t)live + 1, t_push + (double)ebc_ms(&cc->base, 3000));
	if (at < 0) {
		ebc_fail(&cc->base, "CLIENT-WS-2", "a read of the store after its store_changed",
			 "no read within %ld ms of a commit that notified the client",
			 ebc_ms(&cc->base, 3000));
		return;
	}
	if (!ebcc_wait_version(cc, A, s, v, ebcc_now() + (double)ebc_ms(&cc->base, 3000))) {
		if (!ebc_done(&cc->base))
			ebc_fail(&cc->base, "CLIENT-WS-2", "the client reaches the notified version",
				 "the client's version stayed below %llu", (unsigned long long)v);
		return;
	}
	ebcc_check_state(cc, A, s, "CLIENT-MERGE-1");
}

typedef struct live_pusher {
	ebcc_ctx *cc;
	int k;
	double at;
} live_pusher;

static void *live_push_thread(void *arg)
{
	live_pusher *p = arg;
	eb_http *h;
	char id[64], *ch, *body;
	const char *one[1];
	eb_http_resp r;

	/* Not ebcc_sleep_until: it reads the event log, which belongs to
	 * the case thread. */
	{
		double left = p->at - ebcc_now();

		if (left > 0)
			ebc_sleep_ms((long)left);
	}
	h = ebc_http_new(&p->cc->base);
	if (!h)
		return NULL;
	snprintf(id, sizeof(id), "burst-%d", p->k);
	ch = ebc_set_json(id, eb_time_now_ms(), id, "1");
	one[0] = ch;
	body = ch ? ebc_body(0, one, 1, -1) : NULL;
	memset(&r, 0, sizeof(r));
	if (body)
		ebc_post_sync(&p->cc->base, h, ebcc_store(p->cc, 0), ebc_token(&p->cc->base), body, &r);
	eb_http_resp_clear(&r);
	free(body);
	free(ch);
	eb_http_free(h);
	return NULL;
}

static void case_one_sync_at_a_time(ebcc_ctx *cc)
{
	long live;
	const char *s = ebcc_store(cc, 0);
	live_pusher p[6];
	ebcc_q q = { EBCC_Q_READ, s, A, NULL };
	size_t idx[64], n, i, j;
	double t0;
	int k;

	/* The token is minted before the threads share the context. */
	if (!ebc_token(&cc->base))
		return;
	live = ebcc_boot(cc, A, "active", 1, true);
	if (live < 0)
		return;
	/* Every response 400 ms late: the client's first sync is still in
	 * flight while five more notifications arrive. */
	if (!ebcc_fault(cc, "{\"delayMs\":400}"))
		return;
	t0 = ebcc_now() + 20;
	for (k = 0; k < 6; k++) {
		p[k].cc = cc;
		p[k].k = k;
		p[k].at = t0 + 60.0 * k;
	}
	ebc_parallel(6, live_push_thread, p, sizeof(p[0]));
	if (!ebcc_wait_version(cc, A, s, 6, ebcc_now() + (double)ebc_ms(&cc->base, 6000))) {
		if (!ebc_done(&cc->base))
			ebc_fail(&cc->base, "CLIENT-WS-2", "the client syncs to version 6 after 6 notified commits",
				 "it did not within %ld ms", ebc_ms(&cc->base, 6000));
		return;
	}
	ebcc_sleep(cc, 500);
	n = ebcc_q_find(cc, &q, (size_t)live + 1, t0 - 20, 1e300, idx, 64);
	for (i = 0; i + 1 < n && i < 63; i++) {
		const ebcc_ev *a = &cc->ev[idx[i]], *b = &cc->ev[idx[i + 1]];
		bool notified = false;

		if (b->t0 < a->t) {
			ebc_fail(&cc->base, "CLIENT-WS-2", "syncs of one store run one at a time",
				 "a read started at %+.0f ms while the one of %+.0f ms ran until %+.0f ms",
				 b->t0 - cc->t_start, a->t0 - cc->t_start, a->t - cc->t_start);
			return;
		}
		/* A follow-up needs a notification the client could not yet
		 * have acted on when it decided on the previous sync: one that
		 * came after the sync before that one ended (a client decides
		 * a little before the server sees the request, so a
		 * notification just ahead of A's arrival may be the reason
		 * for B). A client that syncs once per notification runs out
		 * of such notifications by the third sync. */
		{
			double since = i > 0 ? cc->ev[idx[i - 1]].t : cc->ev[live].t;

			for (j = (size_t)live; j < cc->n_ev; j++) {
				const ebcc_ev *e = &cc->ev[j];

				if (e->kind == EBCC_EV_WS_OUT && strcmp(e->type, "store_changed") == 0 &&
				    e->t > since && e->t <= b->t0 && e->t > a->t0 - 50.0 * cc->time_scale)
					notified = true;
			}
		}
		if (!notified) {
			ebc_fail(&cc->base, "CLIENT-WS-2",
				 "notifications during a sync coalesce into at most one follow-up sync",
				 "the read at %+.0f ms followed the one at %+.0f ms with no notification "
				 "in between (%zu reads for 6 commits)", b->t0 - cc->t_start,
				 a->t0 - cc->t_start, n);
			return;
		}
	}
	ebcc_check_state(cc, A, s, "CLIENT-MERGE-1");
}

static void case_ack_higher_version(ebcc_ctx *cc)
{
	const char *s = ebcc_store(cc, 0);
	uint64_t v = 0;
	long live;
	ebcc_q q = { EBCC_Q_READ, s, A, NULL };

	if (!ebcc_suite_push(cc, s, 3, &v))
		return;
	live = ebcc_boot(cc, A, "active", 1, true);
	if (live < 0)
		return;
	if (ebcc_q_wait(cc, &q, 0, ebcc_now() + (double)ebc_ms(&cc->base, 2000)) < 0) {
		ebc_fail(&cc->base, "CLIENT-WS-3",
			 "a read after a subscribe ack whose version is above the client's",
			 "the ack said version %llu, the client knew 0, and no read followed within %ld ms",
			 (unsigned long long)v, ebc_ms(&cc->base, 2000));
		return;
	}
	if (!ebcc_wait_version(cc, A, s, v, ebcc_now() + (double)ebc_ms(&cc->base, 3000))) {
		if (!ebc_done(&cc->base))
			ebc_fail(&cc->base, "CLIENT-WS-3", "the client reaches the acknowledged version",
				 "its version stayed below %llu", (unsigned long long)v);
		return;
	}
	ebcc_check_state(cc, A, s, "CLIENT-MERGE-1");
}

static void case_store_opened_while_live(ebcc_ctx *cc)
{
	long live = ebcc_boot(cc, A, "active", 1, true);
	ebcc_q sub = { EBCC_Q_WS_IN, NULL, -1, "subscribe" };
	ebcc_q att = { EBCC_Q_ATTEMPT, NULL, -1, NULL };
	const char *s1 = ebcc_store(cc, 1);
	long at;

	if (live < 0)
		return;
	if (!ebcc_open(cc, A, s1))
		return;
	at = ebcc_q_wait(cc, &sub, (size_t)live + 1, ebcc_now() + (double)ebc_ms(&cc->base, 2000));
	if (at < 0 || cc->ev[at].conn != cc->ev[live].conn) {
		ebc_fail(&cc->base, "CLIENT-WS-4",
			 "a store opened while live is subscribed on the open socket",
			 "%s within %ld ms", at < 0 ? "no subscribe" : "a subscribe on another socket",
			 ebc_ms(&cc->base, 2000));
		return;
	}
	{
		const cJSON *ids = cJSON_GetObjectItemCaseSensitive(cc->ev[at].raw, "storeIds");
		const cJSON *it;
		bool found = false;

		cJSON_ArrayForEach(it, ids)
			if (cJSON_IsString(it) && strcmp(it->valuestring, s1) == 0)
				found = true;
		if (!found) {
			ebc_fail(&cc->base, "CLIENT-WS-4", "the new store's id in the subscribe",
				 "the subscribe after open did not name %s", s1);
			return;
		}
	}
	if (ebcc_q_find(cc, &att, (size_t)live + 1, 0, 1e300, NULL, 0) > 0)
		ebc_fail(&cc->base, "CLIENT-WS-4", "no new socket for a store opened while live",
			 "the client opened another socket");
}

static void case_no_sync_for_own_version(ebcc_ctx *cc)
{
	long live = ebcc_boot(cc, A, "active", 1, true);
	const char *s = ebcc_store(cc, 0);
	ebcc_q push = { EBCC_Q_PUSH, s, A, NULL };
	ebcc_q rd = { EBCC_Q_READ, s, A, NULL };
	char id[64];
	long at;
	size_t n, idx[4];
	double end;
	bool flushed = false;

	if (live < 0)
		return;
	if (!ebcc_set(cc, A, s, "mine", "1", id, sizeof(id)))
		return;
	at = ebcc_q_wait(cc, &push, (size_t)live + 1, ebcc_now() + (double)ebc_ms(&cc->base, 3000));
	if (at < 0) {
		ebc_fail(&cc->base, "CLIENT-QUEUE-1", "a local change made while live is pushed",
			 "no push within %ld ms", ebc_ms(&cc->base, 3000));
		return;
	}
	if (!ebcc_flush(cc, A, ebc_ms(&cc->base, 3000), &flushed))
		return;
	/* The server notifies every subscriber of the commit, the writer
	 * included, with the version the push already told it. */
	end = cc->ev[at].t + 3 * ebcc_proto_ms(cc, 30) + 100;
	ebcc_tl_expect(cc, A, cc->ev[at].t, end, "no read: version already known");
	if (!ebcc_sleep_until(cc, end))
		return;
	{
		/* The stage: ebmock's coalescing window holds the notification
		 * back until the push's answer told the client the version. */
		ebcc_q sc = { EBCC_Q_WS_OUT, NULL, -1, "store_changed" };
		long nt = ebcc_q_wait(cc, &sc, (size_t)live + 1, 0);

		if (nt < 0 || cc->ev[nt].t < cc->ev[at].t) {
			ebc_error(&cc->base, "%s", nt < 0 ? "no store_changed reached the writer" :
				  "the store_changed came before the push's answer (coalescing window too short)");
			return;
		}
	}
	n = ebcc_q_find(cc, &rd, (size_t)at + 1, cc->ev[at].t,
			ebcc_live_until(cc, (size_t)at + 1, end), idx, 4);
	if (n > 0) {
		char d[300];

		ebcc_ev_describe(&cc->ev[idx[0]], cc->t_start, d, sizeof(d));
		ebc_fail(&cc->base, "CLIENT-WS-8",
			 "no sync for a store_changed whose version is not above the known one",
			 "after its own push (version %lld) the client read again: %s",
			 (long long)cc->ev[at].current_version, d);
	}
}

static void case_unknown_members_ignored(ebcc_ctx *cc)
{
	const char *s = ebcc_store(cc, 0);
	long live;
	uint64_t v = 0;
	ebcc_q att = { EBCC_Q_ATTEMPT, NULL, -1, NULL };
	size_t n;

	/* Unknown members in every object the server sends, and messages of
	 * an unknown type on the socket (ebmock's extras fault). */
	if (!ebcc_fault(cc, "{\"extras\":true}"))
		return;
	if (!ebcc_suite_push(cc, s, 2, &v))
		return;
	live = ebcc_boot(cc, A, "active", 1, true);
	if (live < 0)
		return;
	if (!ebcc_wait_version(cc, A, s, v, ebcc_now() + (double)ebc_ms(&cc->base, 3000))) {
		if (!ebc_done(&cc->base))
			ebc_fail(&cc->base, "CLIENT-GEN-1", "the client reads answers with unknown members",
				 "its version stayed below %llu", (unsigned long long)v);
		return;
	}
	if (!ebcc_suite_push(cc, s, 1, &v))
		return;
	if (!ebcc_wait_version(cc, A, s, v, ebcc_now() + (double)ebc_ms(&cc->base, 3000))) {
		if (!ebc_done(&cc->base))
			ebc_fail(&cc->base, "CLIENT-GEN-1",
				 "the client keeps working after messages with unknown members and types",
				 "it did not follow a notified commit (version %llu)", (unsigned long long)v);
		return;
	}
	/* The unknown message (x-future) follows the store_changed: give the
	 * client a moment to trip over it, then the socket must still be
	 * the first one, open. */
	if (!ebcc_sleep(cc, ebcc_proto_ms(cc, 10) + 50))
		return;
	{
		ebcc_q cl = { EBCC_Q_WS_CLOSE, NULL, -1, NULL };
		size_t ci[1];

		if (ebcc_q_find(cc, &cl, 0, 0, 1e300, ci, 1) > 0) {
			/* Blame the unknown message only when it is what the
			 * socket last got and no ping of the client went
			 * unanswered since (a pong late on a loaded machine is
			 * the pong deadline's business, CLIENT-WS-6). */
			long j, xf = -1;
			bool ping = false;

			for (j = (long)ci[0] - 1; j >= 0; j--) {
				const ebcc_ev *e = &cc->ev[j];

				if (e->conn != cc->ev[ci[0]].conn)
					continue;
				if (e->kind == EBCC_EV_WS_IN && strcmp(e->type, "ping") == 0)
					ping = true;
				if (e->kind == EBCC_EV_WS_OUT) {
					if (strcmp(e->type, "x-future") == 0)
						xf = j;
					break;
				}
			}
			if (xf >= 0 && !ping) {
				ebc_fail(&cc->base, "CLIENT-GEN-1",
					 "the socket stays open through messages of unknown type",
					 "the socket closed at %+.0f ms (code %ld), %.0f ms after a message "
					 "of type x-future", cc->ev[ci[0]].t - cc->t_start,
					 cc->ev[ci[0]].close_code, cc->ev[ci[0]].t - cc->ev[xf].t);
				return;
			}
			eb_wirelog_note(cc->base.wire, "the socket closed for another reason (a ping "
					"went unanswered in time); not judged here");
			return;
		}
	}
	n = ebcc_q_find(cc, &att, 0, 0, 1e300, NULL, 0);
	if (n != 1) {
		ebc_fail(&cc->base, "CLIENT-GEN-1", "one socket for the whole case (unknown members ignored)",
			 "%zu socket attempts", n);
		return;
	}
	ebcc_check_state(cc, A, s, "CLIENT-GEN-1");
}

static void case_large_integers(ebcc_ctx *cc)
{
	const char *s = ebcc_store(cc, 0);
	char f[400], id[64];
	uint64_t v = 0, have = 0;
	long live, pending;
	ebcc_q push = { EBCC_Q_PUSH, s, A, NULL };
	long at;
	const uint64_t base = 9007199254740991ULL - 10;

	snprintf(f, sizeof(f), "{\"storeVersion\":{\"store\":\"%s\",\"version\":%llu}}", s,
		 (unsigned long long)base);
	if (!ebcc_fault(cc, f))
		return;
	if (!ebcc_suite_push(cc, s, 1, &v))
		return;
	live = ebcc_boot(cc, A, "active", 1, true);
	if (live < 0)
		return;
	if (!ebcc_wait_version(cc, A, s, v, ebcc_now() + (double)ebc_ms(&cc->base, 3000))) {
		if (!ebc_done(&cc->base))
			ebc_fail(&cc->base, "CLIENT-GEN-2", "the client reaches version 2^53-10",
				 "it did not reach %llu", (unsigned long long)v);
		return;
	}
	if (!ebcc_state(cc, A, s, NULL, &have, &pending))
		return;
	if (have != v) {
		ebc_fail(&cc->base, "CLIENT-GEN-2", "versions near 2^53-1 kept exactly",
			 "the client says version %llu, the server %llu", (unsigned long long)have,
			 (unsigned long long)v);
		return;
	}
	if (!ebcc_set(cc, A, s, "big", "9007199254740991", id, sizeof(id)))
		return;
	at = ebcc_q_wait(cc, &push, (size_t)live + 1, ebcc_now() + (double)ebc_ms(&cc->base, 3000));
	if (at < 0) {
		ebc_fail(&cc->base, "CLIENT-QUEUE-1", "the local change is pushed", "no push");
		return;
	}
	if (cc->ev[at].lkv != (int64_t)v) {
		ebc_fail(&cc->base, "CLIENT-GEN-2", "lastKnownVersion sent exactly",
			 "the push said lastKnownVersion %lld, the client knew %llu",
			 (long long)cc->ev[at].lkv, (unsigned long long)v);
		return;
	}
	{
		bool ok = false;

		if (!ebcc_flush(cc, A, ebc_ms(&cc->base, 3000), &ok))
			return;
	}
	ebcc_check_state(cc, A, s, "CLIENT-GEN-2");
}

typedef struct live_ticker {
	ebcc_ctx *cc;
	double until;
} live_ticker;

static void case_messages_while_live(ebcc_ctx *cc)
{
	long live = ebcc_boot(cc, A, "active", 1, true);
	const char *s = ebcc_store(cc, 0);
	ebcc_q ping = { EBCC_Q_WS_IN, NULL, -1, "ping" };
	double until, t;
	size_t idx[64], n, i;

	if (live < 0)
		return;
	/* A commit every third of the ping interval: messages keep arriving,
	 * so the client never needs a ping. */
	until = ebcc_now() + 6 * ebcc_proto_ms(cc, 30);
	for (t = ebcc_now(); t < until; t += ebcc_proto_ms(cc, 10)) {
		if (!ebcc_sleep_until(cc, t))
			return;
		if (!ebcc_suite_push(cc, s, 1, NULL))
			return;
	}
	ebcc_sleep(cc, 100);
	n = ebcc_q_find(cc, &ping, (size_t)live + 1, cc->ev[live].t, until, idx, 64);
	for (i = 0; i + 1 < n && i < 63; i++) {
		ebcc_window w;

		ebcc_window_for(ebcc_proto_ms(cc, 30), 0.0, cc->time_scale, &w);
		if (cc->ev[idx[i + 1]].t - cc->ev[idx[i]].t < w.lo) {
			ebc_fail(&cc->base, "CLIENT-WS-7",
				 "at most one ping per 30 s while messages arrive",
				 "pings at %+.0f and %+.0f ms (window %.0f ms)",
				 cc->ev[idx[i]].t - cc->t_start, cc->ev[idx[i + 1]].t - cc->t_start, w.lo);
			return;
		}
	}
	for (i = (size_t)live; i < cc->n_ev; i++) {
		const ebcc_ev *e = &cc->ev[i];

		if (e->kind == EBCC_EV_WS_IN && !live_allowed_type(e->type)) {
			ebc_fail(&cc->base, "CLIENT-WS-7",
				 "only auth, subscribe, unsubscribe and ping while live",
				 "the client sent \"%s\" at %+.0f ms", e->type, e->t - cc->t_start);
			return;
		}
	}
}

static void case_ping_when_quiet(ebcc_ctx *cc)
{
	long live = ebcc_boot(cc, A, "active", 1, true);
	ebcc_q ping = { EBCC_Q_WS_IN, NULL, -1, "ping" };
	double until, t[16], prev;
	size_t idx[16], n, i;
	ebcc_window w;

	if (live < 0)
		return;
	until = cc->ev[live].t + 5 * ebcc_proto_ms(cc, 30) + ebcc_proto_ms(cc, 15);
	if (!ebcc_sleep_until(cc, until))
		return;
	n = ebcc_q_find(cc, &ping, (size_t)live + 1, 0, 1e300, idx, 16);
	if (n < 3) {
		ebc_fail(&cc->base, "CLIENT-WS-6",
			 "a ping after every 30 s without a message from the server",
			 "%zu pings in %.0f ms of a quiet socket (5 intervals of %.0f ms)", n,
			 until - cc->ev[live].t, ebcc_proto_ms(cc, 30));
		return;
	}
	/* Each gap: from the server's last message (the ack, then each pong)
	 * to the next ping. */
	ebcc_window_for(ebcc_proto_ms(cc, 30), 0.0, cc->time_scale, &w);
	prev = cc->ev[live].t;
	for (i = 0; i < n && i < 16; i++) {
		size_t j;
		char what[64];

		t[i] = cc->ev[idx[i]].t;
		for (j = (size_t)live; j < idx[i]; j++)
			if (cc->ev[j].kind == EBCC_EV_WS_OUT && cc->ev[j].t > prev)
				prev = cc->ev[j].t;
		ebcc_tl_expect(cc, A, prev + w.lo, prev + w.hi, "ping");
		snprintf(what, sizeof(what), "ping %zu after the server's last message", i + 1);
		if (!ebcc_expect_in(cc, i ? "CLIENT-WS-7" : "CLIENT-WS-6", what, &w, t[i] - prev))
			return;
		prev = t[i];
	}
}

static void case_silent_socket(ebcc_ctx *cc)
{
	long live = ebcc_boot(cc, A, "active", 1, true);
	const char *s = ebcc_store(cc, 0);
	ebcc_q ping = { EBCC_Q_WS_IN, NULL, -1, "ping" };
	ebcc_q cl = { EBCC_Q_WS_CLOSE, NULL, -1, NULL };
	ebcc_q rd = { EBCC_Q_READ, s, A, NULL };
	long p, c, r;
	double last = 0, silent_at;
	size_t j;
	ebcc_window w, wp;

	if (live < 0)
		return;
	silent_at = ebcc_now();
	if (!ebcc_fault(cc, "{\"silentWs\":true}"))
		return;
	ebcc_evlog_poll(cc);
	p = ebcc_q_wait(cc, &ping, cc->n_ev, ebcc_now() + 3 * ebcc_proto_ms(cc, 30) +
			(double)ebc_ms(&cc->base, 1000));
	if (p < 0) {
		ebc_fail(&cc->base, "CLIENT-WS-6", "a ping after 30 s without a message",
			 "no ping within %.0f ms of silence", 3 * ebcc_proto_ms(cc, 30));
		return;
	}
	for (j = 0; j < (size_t)p; j++)
		if (cc->ev[j].kind == EBCC_EV_WS_OUT && cc->ev[j].conn == cc->ev[p].conn)
			last = cc->ev[j].t;
	if (last < silent_at - 5000)
		last = cc->ev[live].t;
	ebcc_window_for(ebcc_proto_ms(cc, 30), 0.0, cc->time_scale, &wp);
	if (!ebcc_expect_in(cc, "CLIENT-WS-6", "first ping after the server's last message", &wp,
			    cc->ev[p].t - last))
		return;
	/* The pong deadline: 10 s scaled, never below 1 s (12.2). Closing
	 * before it is not judged here: the rule is about closing by it. */
	ebcc_window_for(ebcc_rt_deadline_ms(cc, 10), 0.0, cc->time_scale, &w);
	w.lo = 0;
	c = ebcc_q_wait(cc, &cl, (size_t)p + 1, cc->ev[p].t + w.hi + (double)ebc_ms(&cc->base, 500));
	ebcc_tl_expect(cc, A, cc->ev[p].t + w.lo, cc->ev[p].t + w.hi, "close: no pong");
	if (c < 0) {
		ebc_fail(&cc->base, "CLIENT-WS-6", "the socket closed 10 s after an unanswered ping",
			 "still open %.0f ms after the ping", ebcc_now() - cc->ev[p].t);
		return;
	}
	if (!ebcc_expect_in(cc, "CLIENT-WS-6", "close after the unanswered ping", &w,
			    cc->ev[c].t - cc->ev[p].t))
		return;
	r = ebcc_q_wait(cc, &rd, (size_t)c, cc->ev[c].t + ebcc_proto_ms(cc, 15) +
			(double)ebc_ms(&cc->base, 300));
	if (r < 0) {
		ebc_fail(&cc->base, "CLIENT-WS-6",
			 "polling as after a loss: a catch-up read at once after the close",
			 "no read within %.0f ms of closing the silent socket",
			 ebcc_proto_ms(cc, 15) + (double)ebc_ms(&cc->base, 300));
	}
}

static void case_subscribe_batches(ebcc_ctx *cc)
{
	ebcc_q sub = { EBCC_Q_WS_IN, NULL, -1, "subscribe" };
	size_t idx[64], n, i, total = 0;
	size_t from;
	int k;

	/* 120 stores opened while offline: the reconnect subscribes them
	 * all, in batches of at most 100 ids (WS-SUB-6). */
	if (!ebcc_fault(cc, "{\"refuseWs\":true}"))
		return;
	if (!ebcc_start(cc, A, "background"))
		return;
	for (k = 0; k < 120; k++) {
		char name[200];

		snprintf(name, sizeof(name), "%sb%d", cc->base.store_prefix, k);
		if (!ebcc_open(cc, A, name))
			return;
	}
	ebcc_evlog_poll(cc);
	from = cc->n_ev;
	if (!ebcc_fault(cc, "{\"refuseWs\":false}"))
		return;
	if (ebcc_wait_live(cc, from, 120) < 0)
		return;
	n = ebcc_q_find(cc, &sub, from, 0, 1e300, idx, 64);
	for (i = 0; i < n && i < 64; i++) {
		const cJSON *ids = cJSON_GetObjectItemCaseSensitive(cc->ev[idx[i]].raw, "storeIds");
		int m = cJSON_IsArray(ids) ? cJSON_GetArraySize(ids) : 0;

		if (m > 100) {
			ebc_fail(&cc->base, "CLIENT-WS-4", "subscribe in batches of at most 100 ids",
				 "a subscribe named %d stores", m);
			return;
		}
		total += (size_t)m;
	}
	if (total < 120)
		ebc_fail(&cc->base, "CLIENT-WS-4", "every open store subscribed on the new socket",
			 "%zu of 120 stores subscribed", total);
}

static void case_lower_ack_resync(ebcc_ctx *cc)
{
	const char *s = ebcc_store(cc, 0);
	long live = ebcc_boot(cc, A, "active", 1, true), c, ack, r;
	uint64_t v = 0;
	char f[300];
	ebcc_q cl = { EBCC_Q_WS_CLOSE, NULL, -1, NULL };
	ebcc_q sq = { EBCC_Q_WS_OUT, NULL, -1, "subscribed" };
	ebcc_q rd = { EBCC_Q_REQ, s, A, NULL };

	if (live < 0)
		return;
	if (!ebcc_suite_push(cc, s, 3, &v))
		return;
	if (!ebcc_wait_version(cc, A, s, v, ebcc_now() + (double)ebc_ms(&cc->base, 3000))) {
		if (!ebc_done(&cc->base))
			ebc_fail(&cc->base, "CLIENT-WS-2", "the client follows 3 commits", "it did not");
		return;
	}
	/* The store restarts at version 1, unseen; reads fail for a while, so
	 * the only news of the lower version is the ack of the reconnect
	 * that close 4401 makes at once. */
	snprintf(f, sizeof(f), "{\"dropStore\":\"%s\",\"noNotify\":true}", s);
	if (!ebcc_fault(cc, f) || !ebcc_suite_push(cc, s, 1, &v))
		return;
	if (!ebcc_give_token(cc, A, 3600, NULL, 0))
		return;
	if (!ebcc_fault(cc, "{\"http503Ms\":60000,\"retryAfterSeconds\":1}") ||
	    !ebcc_fault(cc, "{\"closeWs\":4401}"))
		return;
	c = ebcc_q_wait(cc, &cl, (size_t)live + 1, ebcc_now() + (double)ebc_ms(&cc->base, 2000));
	if (c < 0) {
		ebc_error(&cc->base, "closeWs 4401 closed no socket");
		return;
	}
	ack = ebcc_q_wait(cc, &sq, (size_t)c + 1, ebcc_now() + (double)ebc_ms(&cc->base, 2000) +
			  ebcc_proto_ms(cc, 150));
	if (ack < 0) {
		ebc_fail(&cc->base, "CLIENT-TOKEN-3", "a reconnect after 4401", "no subscribed socket");
		return;
	}
	if (!ebcc_fault(cc, "{\"http503Ms\":0}"))
		return;
	/* The first read that starts after the ack must start from 0. */
	ebcc_evlog_poll(cc);
	for (r = ack + 1;; r++) {
		r = ebcc_q_wait(cc, &rd, (size_t)r, ebcc_now() + ebcc_proto_ms(cc, 400) +
				(double)ebc_ms(&cc->base, 1000));
		if (r < 0) {
			ebc_fail(&cc->base, "CLIENT-WS-5", "a read from version 0 after an ack below the known version",
				 "no read after the ack");
			return;
		}
		if (cc->ev[r].t0 > cc->ev[ack].t)
			break;
	}
	if (cc->ev[r].since != 0 && cc->ev[r].lkv != 0) {
		char d[300];

		ebcc_ev_describe(&cc->ev[r], cc->t_start, d, sizeof(d));
		ebc_fail(&cc->base, "CLIENT-WS-5",
			 "an ack below the known version is treated as RESYNC_REQUIRED: the next read is from 0",
			 "after an ack of version %llu (known 3) the next read was: %s",
			 (unsigned long long)v, d);
		return;
	}
	(void)ebcc_wait_version(cc, A, s, v, ebcc_now() + (double)ebc_ms(&cc->base, 2000));
	ebcc_check_state(cc, A, s, "CLIENT-WS-5");
}

const ebcc_case ebcc_cases_live[] = {
	{ { "client/live/subscribe-batches", "120 open stores subscribed in batches of at most 100 ids",
	    "MUST", { "CLIENT-WS-4" }, { 0 }, 0, NULL },
	  case_subscribe_batches, 1, "--max-subscriptions 200", 150 },
	{ { "client/live/lower-ack-resyncs", "an ack below the known version: the next read is from version 0",
	    "MUST", { "CLIENT-WS-5", "CLIENT-QUEUE-2" }, { 0 }, 0, NULL },
	  case_lower_ack_resync, 1, NULL, 100 },
	{ { "client/live/no-polling-while-live", "no reads while the socket is live; auth first, subscribe after auth_ok",
	    "MUST", { "CLIENT-WS-1", "CLIENT-WS-4" }, { "timing" }, 0, NULL },
	  case_no_polling_while_live, 1, NULL, 150 },
	{ { "client/live/sync-on-store-changed", "a store_changed above the known version makes the client sync",
	    "MUST", { "CLIENT-WS-2", "CLIENT-MERGE-1" }, { 0 }, 0, NULL },
	  case_sync_on_store_changed, 1, NULL, 10 },
	{ { "client/live/one-sync-at-a-time", "slow syncs while notifications arrive: one at a time, one coalesced follow-up",
	    "MUST", { "CLIENT-WS-2" }, { 0 }, 0, NULL },
	  case_one_sync_at_a_time, 1, NULL, 20 },
	{ { "client/live/ack-higher-version", "a subscribe ack above the known version makes the client sync",
	    "MUST", { "CLIENT-WS-3" }, { 0 }, 0, NULL },
	  case_ack_higher_version, 1, NULL, 10 },
	{ { "client/live/store-opened-while-live", "a store opened while live is subscribed on the open socket",
	    "MUST", { "CLIENT-WS-4" }, { 0 }, 0, NULL },
	  case_store_opened_while_live, 1, NULL, 10 },
	{ { "client/live/no-sync-for-known-version", "the notification of the client's own push causes no read",
	    "MUST", { "CLIENT-WS-8" }, { 0 }, 0, NULL },
	  case_no_sync_for_own_version, 1, "--coalesce-ms 150", 100 },
	{ { "client/live/unknown-members-ignored", "unknown members and message types are ignored (extras fault)",
	    "MUST", { "CLIENT-GEN-1" }, { 0 }, 0, NULL },
	  case_unknown_members_ignored, 1, NULL, 10 },
	{ { "client/live/large-integers", "versions near 2^53-1 are kept and sent exactly",
	    "MUST", { "CLIENT-GEN-2" }, { 0 }, 0, NULL },
	  case_large_integers, 1, NULL, 10 },
	{ { "client/live/only-allowed-messages", "while messages arrive: no ping, only auth/subscribe/unsubscribe/ping",
	    "MUST", { "CLIENT-WS-7" }, { "timing" }, 0, NULL },
	  case_messages_while_live, 1, NULL, 200 },
	{ { "client/live/ping-when-quiet", "a quiet socket gets a ping every 30 s, never more often",
	    "MUST", { "CLIENT-WS-6", "CLIENT-WS-7" }, { "timing" }, 0, NULL },
	  case_ping_when_quiet, 1, NULL, 180 },
	{ { "client/live/silent-socket", "a socket that stops answering: ping at 30 s, close at +10 s, catch-up",
	    "MUST", { "CLIENT-WS-6" }, { "timing" }, 0, NULL },
	  case_silent_socket, 1, NULL, 100 },
};
const size_t ebcc_cases_live_n = sizeof(ebcc_cases_live) / sizeof(ebcc_cases_live[0]);
