/*
 * cases_queue.c — client cases about local changes and reads: the offline
 * queue (order, ids, retries, rejections, batches, restarts), resyncs,
 * pagination, the merge and the convergence of several clients.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eb_json.h"
#include "eb_time.h"
#include "ebcc.h"

#define A 0
#define QMAX 16

/* Live, then offline: upgrades refused, every request 503 (Retry-After
 * 1 s), the socket dropped. */
static long queue_offline(ebcc_ctx *cc, int i, int n_stores)
{
	long live = ebcc_boot(cc, i, "active", n_stores, true);

	if (live < 0)
		return -1;
	if (!ebcc_fault(cc, "{\"refuseWs\":true,\"http503Ms\":600000,\"retryAfterSeconds\":1}") ||
	    !ebcc_fault(cc, "{\"dropWs\":\"now\"}"))
		return -1;
	return live;
}

/* Clears every fault and waits for client i to have pushed everything. */
static bool queue_back_online(ebcc_ctx *cc, int i, const char *rule)
{
	bool ok = false;
	long t = ebc_ms(&cc->base, 4000) + (long)ebcc_proto_ms(cc, 300);

	if (!ebcc_fault_clear(cc))
		return false;
	if (!ebcc_flush(cc, i, t, &ok))
		return false;
	if (!ok) {
		ebc_fail(&cc->base, rule, "queued changes pushed once the server answers again",
			 "flush did not complete within %ld ms of the faults ending", t);
		return false;
	}
	return true;
}

/* The ids of the client's successful pushes of store, in order. */
static size_t queue_pushed_ids(ebcc_ctx *cc, const char *store, size_t from, char ids[][64], size_t cap)
{
	ebcc_q q = { EBCC_Q_PUSH, store, -1, NULL };
	size_t idx[256], n, i, j, k = 0;

	n = ebcc_q_find(cc, &q, from, 0, 1e300, idx, 256);
	for (i = 0; i < n && i < 256; i++) {
		const ebcc_ev *e = &cc->ev[idx[i]];

		if (e->status != 200)
			continue;
		for (j = 0; j < e->n_change_ids && k < cap; j++)
			snprintf(ids[k++], 64, "%s", e->change_ids[j]);
	}
	return k;
}

static void case_offline_order(ebcc_ctx *cc)
{
	const char *s = ebcc_store(cc, 0);
	char made[5][64], pushed[QMAX][64];
	long live = queue_offline(cc, A, 1);
	size_t n, k;

	if (live < 0)
		return;
	for (k = 0; k < 5; k++) {
		char key[16], val[16];

		snprintf(key, sizeof(key), "q%zu", k);
		snprintf(val, sizeof(val), "%zu", k);
		if (!ebcc_set(cc, A, s, key, val, made[k], sizeof(made[k])))
			return;
	}
	if (!ebcc_sleep(cc, ebcc_proto_ms(cc, 20)))
		return;
	if (!queue_back_online(cc, A, "CLIENT-QUEUE-1"))
		return;
	n = queue_pushed_ids(cc, s, (size_t)live, pushed, QMAX);
	if (n != 5) {
		ebc_fail(&cc->base, "CLIENT-QUEUE-1", "the 5 offline changes pushed once each (200)",
			 "%zu change ids in successful pushes", n);
		return;
	}
	for (k = 0; k < 5; k++)
		if (strcmp(made[k], pushed[k]) != 0) {
			ebc_fail(&cc->base, "CLIENT-QUEUE-1",
				 "offline changes pushed in their original order with their original ids",
				 "change %zu was made as %s, pushed as %s", k + 1, made[k], pushed[k]);
			return;
		}
	ebcc_check_state(cc, A, s, "CLIENT-MERGE-1");
}

static void queue_retry(ebcc_ctx *cc, const char *fault, const char *what)
{
	const char *s = ebcc_store(cc, 0);
	long live = ebcc_boot(cc, A, "active", 1, true);
	char made[2][64];
	/* Every POST of the store: a push answered by the fault never had
	 * its body read, so the event log cannot show its ids. */
	ebcc_q q = { EBCC_Q_REQ, s, A, NULL };
	size_t idx[64], n, i, j, failed = 0;
	bool ok = false;
	eb_change *ch = NULL;
	size_t nch = 0;
	uint64_t cur;

	if (live < 0)
		return;
	if (!ebcc_fault(cc, fault))
		return;
	if (!ebcc_set(cc, A, s, "r0", "\"x\"", made[0], sizeof(made[0])) ||
	    !ebcc_set(cc, A, s, "r1", "\"y\"", made[1], sizeof(made[1])))
		return;
	/* The fault lasts until it hit the push (a fixed window could end
	 * before a slow machine sends it), then ends. */
	{
		ebcc_q post = { EBCC_Q_REQ, s, A, NULL };
		long at = (long)live;

		for (;;) {
			at = ebcc_q_wait(cc, &post, (size_t)at + 1, ebcc_now() + (double)ebc_ms(&cc->base, 3000));
			if (at < 0 || (strcmp(cc->ev[at].method, "POST") == 0 && cc->ev[at].fault[0]))
				break;
		}
		if (!ebcc_fault(cc, "{\"http503Ms\":0,\"httpResetMs\":0}"))
			return;
	}
	if (!ebcc_flush(cc, A, ebc_ms(&cc->base, 5000), &ok))
		return;
	if (!ok) {
		ebc_fail(&cc->base, "CLIENT-QUEUE-4", "the push retried after the fault ends",
			 "flush did not complete after %s", what);
		return;
	}
	n = ebcc_q_find(cc, &q, (size_t)live, 0, 1e300, idx, 64);
	for (i = 0; i < n && i < 64; i++) {
		const ebcc_ev *e = &cc->ev[idx[i]];

		if (strcmp(e->method, "POST") == 0 && e->status != 200 && e->fault[0])
			failed++;
		for (j = 0; j < e->n_change_ids; j++)
			if (strcmp(e->change_ids[j], made[0]) != 0 && strcmp(e->change_ids[j], made[1]) != 0) {
				ebc_fail(&cc->base, "CLIENT-QUEUE-4", "a retried push carries the same ids",
					 "a push after %s carried id %s (made: %s, %s)", what,
					 e->change_ids[j], made[0], made[1]);
				return;
			}
	}
	if (failed == 0) {
		ebc_error(&cc->base, "no push failed: the fault (%s) did not hit the client's push", what);
		return;
	}
	/* Same content: the stored changes are exactly the two made. */
	if (!ebc_read_all(&cc->base, NULL, s, ebc_token(&cc->base), 0, 0, false, &ch, &nch, &cur))
		return;
	if (nch != 2 || strcmp(ch[0].id, made[0]) != 0 || strcmp(ch[1].id, made[1]) != 0)
		ebc_fail(&cc->base, "CLIENT-QUEUE-4", "the store holds the two changes once each, in order",
			 "%zu changes stored", nch);
	ebc_changes_free(ch, nch);
}

static void case_retry_reset(ebcc_ctx *cc) { queue_retry(cc, "{\"httpResetMs\":60000}", "connection resets"); }
static void case_retry_503(ebcc_ctx *cc) { queue_retry(cc, "{\"http503Ms\":60000,\"retryAfterSeconds\":1}", "503 answers"); }

static void case_rejected_dropped(ebcc_ctx *cc)
{
	const char *s = ebcc_store(cc, 0);
	char g1[64], bad[64], g2[64], last[128], big[400], pushed[QMAX][64];
	long live = queue_offline(cc, A, 1);
	/* All POSTs: a rejected push's ids are not in the event log (the
	 * server refused the body before logging them). */
	ebcc_q q = { EBCC_Q_REQ, s, A, NULL };
	size_t idx[64], n, i, j, np;
	long rej_at = -1;

	if (live < 0)
		return;
	memset(big, 'z', 300);
	big[0] = '"';
	big[299] = '"';
	big[300] = '\0';
	if (!ebcc_set(cc, A, s, "g1", "1", g1, sizeof(g1)) ||
	    !ebcc_set(cc, A, s, "bad", big, bad, sizeof(bad)) ||
	    !ebcc_set(cc, A, s, "g2", "2", g2, sizeof(g2)))
		return;
	if (!ebcc_sleep(cc, ebcc_proto_ms(cc, 10)))
		return;
	if (!queue_back_online(cc, A, "CLIENT-QUEUE-5"))
		return;
	n = ebcc_q_find(cc, &q, (size_t)live, 0, 1e300, idx, 64);
	for (i = 0; i < n && i < 64; i++) {
		const ebcc_ev *e = &cc->ev[idx[i]];
		bool has_bad = false;

		for (j = 0; j < e->n_change_ids; j++)
			if (strcmp(e->change_ids[j], bad) == 0)
				has_bad = true;
		if (has_bad && rej_at >= 0) {
			ebc_fail(&cc->base, "CLIENT-QUEUE-5", "a rejected change is never pushed again",
				 "%s pushed again at %+.0f ms after its rejection (%ld)", bad,
				 e->t0 - cc->t_start, cc->ev[rej_at].status);
			return;
		}
		if (rej_at < 0 && strcmp(e->method, "POST") == 0 &&
		    (e->status == 400 || e->status == 413 || e->status == 422 || e->status == 403))
			rej_at = (long)idx[i];
	}
	if (rej_at < 0) {
		ebc_error(&cc->base, "the server never rejected the oversized change (ebmock --max-value-bytes)");
		return;
	}
	if (ebcc_rejected(cc, A, last, sizeof(last)) < 1 || strcmp(last, bad) != 0) {
		ebc_fail(&cc->base, "CLIENT-QUEUE-5", "the application is told of the rejected change",
			 "no rejected event naming %s (last: \"%s\")", bad, last);
		return;
	}
	np = queue_pushed_ids(cc, s, (size_t)live, pushed, QMAX);
	if (np != 2 || strcmp(pushed[0], g1) != 0 || strcmp(pushed[1], g2) != 0) {
		ebc_fail(&cc->base, "CLIENT-QUEUE-5", "the other changes of the batch pushed again in order",
			 "%zu changes accepted after the rejection (expected %s, %s)", np, g1, g2);
		return;
	}
	ebcc_check_state(cc, A, s, "CLIENT-MERGE-1");
}

/* A read from version 0 of store after index from: a feed since=0 or a
 * sync with lastKnownVersion 0. */
static long queue_read_from_zero(ebcc_ctx *cc, const char *s, size_t from, double deadline)
{
	ebcc_q q = { EBCC_Q_REQ, s, A, NULL };
	long at = (long)from - 1;

	for (;;) {
		at = ebcc_q_wait(cc, &q, (size_t)(at + 1), deadline);
		if (at < 0)
			return -1;
		if (cc->ev[at].since == 0 || cc->ev[at].lkv == 0)
			return at;
	}
}

/* Boots client A live on store s, commits 3 changes and waits until the
 * client follows them, then drops the store on the server without a
 * notification: the server is back at version 0, below the client's 3.
 * False after a verdict. */
static bool queue_drop_followed_store(ebcc_ctx *cc, const char *s)
{
	uint64_t v = 0;
	char f[300];

	if (ebcc_boot(cc, A, "active", 1, true) < 0)
		return false;
	if (!ebcc_suite_push(cc, s, 3, &v))
		return false;
	if (!ebcc_wait_version(cc, A, s, v, ebcc_now() + (double)ebc_ms(&cc->base, 3000))) {
		if (!ebc_done(&cc->base))
			ebc_fail(&cc->base, "CLIENT-WS-2", "the client follows 3 commits", "it did not");
		return false;
	}
	snprintf(f, sizeof(f), "{\"dropStore\":\"%s\",\"noNotify\":true}", s);
	return ebcc_fault(cc, f);
}

static void case_resync_409(ebcc_ctx *cc)
{
	const char *s = ebcc_store(cc, 0);
	long c, z;
	char id[64];
	ebcc_q q = { EBCC_Q_PUSH, s, A, NULL };
	bool ok = false;

	/* The store is gone on the server: version 0, below the client's. */
	if (!queue_drop_followed_store(cc, s))
		return;
	ebcc_evlog_poll(cc);
	c = (long)cc->n_ev;
	if (!ebcc_set(cc, A, s, "after", "1", id, sizeof(id)))
		return;
	if (!ebcc_flush(cc, A, ebc_ms(&cc->base, 5000), &ok))
		return;
	{
		size_t idx[32], n, i;
		long first409 = -1;

		n = ebcc_q_find(cc, &q, (size_t)c, 0, 1e300, idx, 32);
		for (i = 0; i < n && i < 32; i++)
			if (cc->ev[idx[i]].status == 409) {
				first409 = (long)idx[i];
				break;
			}
		if (first409 < 0) {
			ebc_error(&cc->base, "the client's push after dropStore got no 409 (lastKnownVersion %lld)",
				  n ? (long long)cc->ev[idx[0]].lkv : -1LL);
			return;
		}
		z = queue_read_from_zero(cc, s, (size_t)first409 + 1, ebcc_now() + 10);
		if (z < 0) {
			ebc_fail(&cc->base, "CLIENT-QUEUE-2", "after 409 RESYNC_REQUIRED a read from version 0",
				 "no read from 0 after the 409 at %+.0f ms", cc->ev[first409].t - cc->t_start);
			return;
		}
	}
	if (!ok) {
		ebc_fail(&cc->base, "CLIENT-QUEUE-2", "the queue pushed again after the resync",
			 "flush did not complete");
		return;
	}
	ebcc_check_state(cc, A, s, "CLIENT-QUEUE-2");
}

static void case_lower_version_resync(ebcc_ctx *cc)
{
	const char *s = ebcc_store(cc, 0);
	long c, z;
	uint64_t v = 0;

	if (!queue_drop_followed_store(cc, s))
		return;
	if (!ebcc_suite_push(cc, s, 1, &v))
		return;
	ebcc_evlog_poll(cc);
	c = (long)cc->n_ev;
	/* The catch-up after the close shows version 1, below the 3 the
	 * client knows. */
	if (!ebcc_fault(cc, "{\"closeWs\":1012}"))
		return;
	z = queue_read_from_zero(cc, s, (size_t)c, ebcc_now() + ebcc_proto_ms(cc, 60) +
				 (double)ebc_ms(&cc->base, 1500));
	if (z < 0) {
		ebc_fail(&cc->base, "CLIENT-WS-5",
			 "a read showing a version below the known one is a resync: read from 0",
			 "no read from version 0 after the store went back to version 1");
		return;
	}
	/* Not reaching it shows in the state comparison below. */
	(void)ebcc_wait_version(cc, A, s, v, ebcc_now() + (double)ebc_ms(&cc->base, 2000));
	ebcc_check_state(cc, A, s, "CLIENT-WS-5");
}

static void case_pagination(ebcc_ctx *cc)
{
	const char *s = ebcc_store(cc, 0);
	uint64_t v = 0;
	long live;
	ebcc_q q = { EBCC_Q_READ, s, A, NULL };
	size_t idx[64], n, i;

	if (!ebcc_fault(cc, "{\"pageMax\":2}"))
		return;
	if (!ebcc_suite_push(cc, s, 7, &v))
		return;
	live = ebcc_boot(cc, A, "active", 1, true);
	if (live < 0)
		return;
	if (!ebcc_wait_version(cc, A, s, v, ebcc_now() + (double)ebc_ms(&cc->base, 4000))) {
		if (!ebc_done(&cc->base))
			ebc_fail(&cc->base, "CLIENT-QUEUE-3", "pages read until hasMore is false",
				 "the client stayed below version %llu", (unsigned long long)v);
		ebcc_evlog_poll(cc);
	}
	n = ebcc_q_find(cc, &q, 0, 0, 1e300, idx, 64);
	for (i = 0; i < n && i < 64; i++) {
		const ebcc_ev *e = &cc->ev[idx[i]];
		int64_t from = e->since >= 0 ? e->since : e->lkv;

		if (e->has_more != 1 || e->n <= 0)
			continue;
		if (i + 1 >= n) {
			uint64_t have = 0;
			long pend = 0;
			int64_t cur = e->current_version, to = from + e->n;

			/* No next page: a client that took currentVersion as its
			 * version thinks it has everything (CLIENT-QUEUE-7); one
			 * that just stopped knows toVersion (CLIENT-QUEUE-3). */
			/* This verdict is more precise than the wait's above:
			 * it replaces it. */
			cc->base.raw = EBC_RAW_PASS;
			if (ebcc_state(cc, A, s, NULL, &have, &pend) && (int64_t)have >= cur && cur > to)
				ebc_fail(&cc->base, "CLIENT-QUEUE-7",
					 "after a page with hasMore, the known version is toVersion",
					 "after a page from %lld to %lld (hasMore, currentVersion %lld) the "
					 "client says version %llu and reads no further", (long long)from,
					 (long long)to, (long long)cur, (unsigned long long)have);
			else
				ebc_fail(&cc->base, "CLIENT-QUEUE-3", "a read with hasMore true is followed by the next page",
					 "the last read (from %lld, %ld changes) had hasMore true", (long long)from, e->n);
			return;
		}
		{
			const ebcc_ev *nx = &cc->ev[idx[i + 1]];
			int64_t nfrom = nx->since >= 0 ? nx->since : nx->lkv;

			if (nfrom != from + e->n) {
				ebc_fail(&cc->base, nfrom == e->current_version ? "CLIENT-QUEUE-7" : "CLIENT-QUEUE-3",
					 "the next page starts at toVersion",
					 "a page from %lld with %ld changes (toVersion %lld, currentVersion %lld) "
					 "was followed by a read from %lld", (long long)from, e->n,
					 (long long)(from + e->n), (long long)e->current_version, (long long)nfrom);
				return;
			}
		}
	}
	if (!ebc_done(&cc->base))
		ebcc_check_state(cc, A, s, "CLIENT-QUEUE-3");
}

static void case_batch_limit(ebcc_ctx *cc)
{
	const char *s = ebcc_store(cc, 0);
	long live = queue_offline(cc, A, 1);
	ebcc_q q = { EBCC_Q_PUSH, s, A, NULL };
	size_t idx[64], n, i;
	int k;
	int64_t known = -1;

	if (live < 0)
		return;
	for (k = 0; k < 7; k++) {
		char key[16];

		snprintf(key, sizeof(key), "b%d", k);
		if (!ebcc_set(cc, A, s, key, "true", NULL, 0))
			return;
	}
	if (!queue_back_online(cc, A, "CLIENT-QUEUE-6"))
		return;
	n = ebcc_q_find(cc, &q, (size_t)live, 0, 1e300, idx, 64);
	for (i = 0; i < n && i < 64; i++) {
		const ebcc_ev *e = &cc->ev[idx[i]];
		long cnt = e->n_change_ids ? (long)e->n_change_ids : e->n;

		if (cnt > 3) {
			ebc_fail(&cc->base, "CLIENT-QUEUE-6", "at most maxChangesPerRequest (3) changes per push",
				 "a push of %ld changes", cnt);
			return;
		}
		if (i > 0 && e->t0 < cc->ev[idx[i - 1]].t) {
			ebc_fail(&cc->base, "CLIENT-QUEUE-6", "one push at a time per store",
				 "pushes overlapped at %+.0f ms", e->t0 - cc->t_start);
			return;
		}
		if (known >= 0 && e->lkv != known && e->status == 200) {
			ebc_fail(&cc->base, "CLIENT-QUEUE-6", "lastKnownVersion is the last known version",
				 "a push after one answered version %lld said lastKnownVersion %lld",
				 (long long)known, (long long)e->lkv);
			return;
		}
		known = e->status == 200 ? e->current_version : -1;
	}
	ebcc_check_state(cc, A, s, "CLIENT-MERGE-1");
}

static void case_persist_restart(ebcc_ctx *cc)
{
	const char *s = ebcc_store(cc, 0);
	char made[2][64], pushed[QMAX][64];
	long b;
	bool ok = false;

	if (!ebcc_fault(cc, "{\"refuseWs\":true,\"http503Ms\":600000,\"retryAfterSeconds\":1}"))
		return;
	b = ebcc_boot(cc, A, "active", 1, false);
	if (b < 0)
		return;
	if (!ebcc_set(cc, A, s, "p0", "0", made[0], sizeof(made[0])) ||
	    !ebcc_set(cc, A, s, "p1", "1", made[1], sizeof(made[1])))
		return;
	if (!ebcc_sleep(cc, ebcc_proto_ms(cc, 5)))
		return;
	/* The application restarts with the same data directory. */
	ebcc_drv_stop(cc, A);
	if (!ebcc_fault_clear(cc))
		return;
	if (!ebcc_drv_launch(cc, A))
		return;
	if (ebcc_boot(cc, A, "active", 1, false) < 0)
		return;
	if (!ebcc_flush(cc, A, ebc_ms(&cc->base, 3000), &ok))
		return;
	if (queue_pushed_ids(cc, s, 0, pushed, QMAX) != 2 || strcmp(pushed[0], made[0]) != 0 ||
	    strcmp(pushed[1], made[1]) != 0) {
		ebc_fail(&cc->base, "CLIENT-QUEUE-8",
			 "changes queued before a restart pushed after it with their original ids",
			 "the restarted client did not push %s, %s", made[0], made[1]);
		return;
	}
}

static void case_merge_oracle(ebcc_ctx *cc)
{
	const char *s = ebcc_store(cc, 0);
	/* Out of stamp order on purpose: later timestamps first, a tie
	 * broken by id, a delete of a parent, a set below it afterwards. */
	static const char *const ch[] = {
		"{\"id\":\"m5\",\"timestamp\":5000,\"operation\":\"set\",\"path\":[\"a\"],\"value\":\"five\"}",
		"{\"id\":\"m3\",\"timestamp\":3000,\"operation\":\"set\",\"path\":[\"a\"],\"value\":\"three\"}",
		"{\"id\":\"m4b\",\"timestamp\":4000,\"operation\":\"set\",\"path\":[\"b\"],\"value\":2}",
		"{\"id\":\"m4a\",\"timestamp\":4000,\"operation\":\"set\",\"path\":[\"b\"],\"value\":1}",
		"{\"id\":\"m6\",\"timestamp\":6000,\"operation\":\"set\",\"path\":[\"c\",\"x\"],\"value\":{\"y\":[1,2]}}",
		"{\"id\":\"m7\",\"timestamp\":7000,\"operation\":\"delete\",\"path\":[\"c\"]}",
		"{\"id\":\"m8\",\"timestamp\":8000,\"operation\":\"set\",\"path\":[\"c\",\"z\"],\"value\":null}",
		"{\"id\":\"m2\",\"timestamp\":2000,\"operation\":\"delete\",\"path\":[\"a\"]}",
	};
	char *body = ebc_body(0, ch, sizeof(ch) / sizeof(ch[0]), -1);
	eb_sync_response *r;
	long live;

	if (!body) {
		ebc_error(&cc->base, "out of memory");
		return;
	}
	r = ebc_sync_ok(&cc->base, NULL, s, ebc_token(&cc->base), body, "SYNC-1");
	free(body);
	if (!r) {
		cc->base.raw = cc->base.raw == EBC_RAW_FAIL ? EBC_RAW_ERROR : cc->base.raw;
		return;
	}
	live = ebcc_boot(cc, A, "active", 1, true);
	if (live >= 0 && ebcc_wait_version(cc, A, s, r->current_version,
					   ebcc_now() + (double)ebc_ms(&cc->base, 3000)))
		ebcc_check_state(cc, A, s, "CLIENT-MERGE-1");
	else if (!ebc_done(&cc->base))
		ebc_fail(&cc->base, "CLIENT-WS-3", "the client reads the store", "it never reached the version");
	eb_sync_response_free(r);
}

static void queue_converge(ebcc_ctx *cc, int nc)
{
	const char *s = ebcc_store(cc, 0);
	static const char *const faults[] = {
		"{\"dropWs\":\"now\"}", "{\"http503Ms\":150,\"retryAfterSeconds\":1}",
		"{\"closeWs\":1012}", "{\"httpResetMs\":100}",
	};
	int i, r;
	uint64_t v = 0;
	cJSON *st[EBCC_MAX_CLIENTS] = { 0 };

	for (i = 0; i < nc; i++)
		if (ebcc_boot(cc, i, "active", 1, true) < 0)
			return;
	/* Rounds of concurrent edits of the same four keys, a fault between
	 * rounds. Keys collide on purpose: the merge decides. */
	for (r = 0; r < 4; r++) {
		for (i = 0; i < nc; i++) {
			char key[8], val[32];
			int k;

			for (k = 0; k < 3; k++) {
				snprintf(key, sizeof(key), "k%d", (r + k + i) % 4);
				snprintf(val, sizeof(val), "\"%c%d.%d\"", 'a' + i, r, k);
				if (!ebcc_set(cc, i, s, key, val, NULL, 0))
					return;
			}
		}
		if (!ebcc_fault(cc, faults[r]))
			return;
		if (!ebcc_sleep(cc, ebcc_proto_ms(cc, 10)))
			return;
	}
	if (!ebcc_fault_clear(cc))
		return;
	for (i = 0; i < nc; i++) {
		bool ok = false;

		if (!ebcc_flush(cc, i, ebc_ms(&cc->base, 4000) + (long)ebcc_proto_ms(cc, 300), &ok))
			return;
		if (!ok) {
			ebc_fail(&cc->base, "CLIENT-QUEUE-1", "every client's queue pushed after the faults",
				 "client %c did not flush", 'a' + i);
			return;
		}
	}
	if (!ebc_version(&cc->base, s, &v))
		return;
	/* Every client must come to the store's version: notifications, or
	 * the reconnect's catch-up after the faults. */
	for (i = 0; i < nc; i++)
		if (!ebcc_wait_version(cc, i, s, v, ebcc_now() + ebcc_proto_ms(cc, 150) +
				       (double)ebc_ms(&cc->base, 3000))) {
			if (!ebc_done(&cc->base))
				ebc_fail(&cc->base, "CLIENT-MERGE-2", "every client reaches the store's version",
					 "client %c stayed below %llu", 'a' + i, (unsigned long long)v);
			return;
		}
	for (i = 0; i < nc; i++)
		if (!ebcc_check_state(cc, i, s, "CLIENT-MERGE-2"))
			goto out;
	for (i = 0; i < nc; i++)
		if (!ebcc_state(cc, i, s, &st[i], NULL, NULL))
			goto out;
	for (i = 1; i < nc; i++)
		if (!eb_json_canon_equal(st[0], st[i])) {
			ebc_fail(&cc->base, "CLIENT-MERGE-2", "clients that saw the same changes have equal states",
				 "client a and client %c differ", 'a' + i);
			goto out;
		}
out:
	for (i = 0; i < nc; i++)
		cJSON_Delete(st[i]);
}

static void case_converge_2(ebcc_ctx *cc) { queue_converge(cc, 2); }
static void case_converge_3(ebcc_ctx *cc) { queue_converge(cc, 3); }

const ebcc_case ebcc_cases_queue[] = {
	{ { "client/queue/offline-order-and-ids", "changes made offline pushed in order with their ids",
	    "MUST", { "CLIENT-QUEUE-1" }, { 0 }, 0, NULL },
	  case_offline_order, 1, NULL, 300 },
	{ { "client/queue/retry-after-reset", "a push reset in flight is retried with the same ids",
	    "MUST", { "CLIENT-QUEUE-4" }, { 0 }, 0, NULL },
	  case_retry_reset, 1, NULL, 100 },
	{ { "client/queue/retry-after-503", "a push answered 503 is retried with the same ids",
	    "MUST", { "CLIENT-QUEUE-4" }, { 0 }, 0, NULL },
	  case_retry_503, 1, NULL, 100 },
	{ { "client/queue/rejected-dropped", "a change the server rejects is dropped and reported, the rest pushed",
	    "MUST", { "CLIENT-QUEUE-5" }, { 0 }, 0, NULL },
	  case_rejected_dropped, 1, "--max-value-bytes 100", 300 },
	{ { "client/queue/resync-after-409", "409 RESYNC_REQUIRED: read from 0, then push the queue again",
	    "MUST", { "CLIENT-QUEUE-2" }, { 0 }, 0, NULL },
	  case_resync_409, 1, NULL, 100 },
	{ { "client/queue/lower-version-resyncs", "a store version below the known one is treated as a resync",
	    "MUST", { "CLIENT-WS-5", "CLIENT-QUEUE-2" }, { 0 }, 0, NULL },
	  case_lower_version_resync, 1, NULL, 100 },
	{ { "client/queue/pagination", "pages followed from toVersion until hasMore is false (pageMax 2)",
	    "MUST", { "CLIENT-QUEUE-3", "CLIENT-QUEUE-7" }, { 0 }, 0, NULL },
	  case_pagination, 1, NULL, 20 },
	{ { "client/queue/batch-limit", "pushes of at most maxChangesPerRequest, one at a time, right lastKnownVersion",
	    "MUST", { "CLIENT-QUEUE-6" }, { 0 }, 0, NULL },
	  case_batch_limit, 1, "--max-changes 3", 300 },
	{ { "client/queue/persist-restart", "a change queued before a restart is pushed after it with its id",
	    "SHOULD", { "CLIENT-QUEUE-8" }, { 0 }, 0, NULL },
	  case_persist_restart, 1, NULL, 100 },
	{ { "client/merge/state-equals-oracle", "out-of-order, tied and nested changes merge as section 6 says",
	    "MUST", { "CLIENT-MERGE-1" }, { 0 }, 0, NULL },
	  case_merge_oracle, 1, NULL, 10 },
	{ { "client/merge/converge-two", "two clients editing the same keys through faults converge",
	    "MUST", { "CLIENT-MERGE-2", "CLIENT-MERGE-1" }, { 0 }, 0, NULL },
	  case_converge_2, 2, NULL, 300 },
	{ { "client/merge/converge-three", "three clients editing the same keys through faults converge",
	    "MUST", { "CLIENT-MERGE-2", "CLIENT-MERGE-1" }, { 0 }, 0, NULL },
	  case_converge_3, 3, NULL, 300 },
};
const size_t ebcc_cases_queue_n = sizeof(ebcc_cases_queue) / sizeof(ebcc_cases_queue[0]);
