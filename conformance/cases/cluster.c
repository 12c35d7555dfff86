/*
 * cluster.c — the cases of a multi-node deployment (PROTOCOL.md section 14),
 * run when --url names two nodes or more of one server: a commit on one node
 * must reach the subscribers on every node (CLUSTER-5), be in the next read
 * from any node (CLUSTER-2), take a version no other node gives out
 * (CLUSTER-3), be a duplicate on every other node (CLUSTER-4), and close the
 * subscribe/sync race across nodes (CLUSTER-6). Against a single URL they
 * SKIP: a single node cannot show any of this.
 *
 * Each case opens its connections on chosen nodes (ebc_pin_node). Racing
 * requests meet at a barrier so they arrive within a fraction of a
 * millisecond on different nodes, and run for several rounds on fresh
 * stores, which makes a per-node counter or index show up.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ebc.h"

#define CL_MAX_NODES 16
#define CL_NOTIFY_MS 1000    /* WS-NOTIF-2's bound */
#define CL_RYW_ROUNDS 6
#define CL_DENSE_PUSHES 12   /* per node */
#define CL_IDEM_ROUNDS 6
#define CL_SUB_ROUNDS 5

/* SKIP against one node; else the number of nodes (capped). */
static size_t cl_nodes(ebc_ctx *ctx)
{
	size_t n = ebc_n_nodes(ctx);
	if (n < 2) {
		ebc_skip(ctx, "one --url given: the cluster cases need two nodes or more of one "
			 "deployment (--url A --url B ...)");
		return 0;
	}
	return n > CL_MAX_NODES ? CL_MAX_NODES : n;
}

/* One HTTP client per node (h[i] on node i). false after a verdict. */
static bool cl_clients(ebc_ctx *ctx, eb_http **h, size_t n)
{
	bool ok = true;
	for (size_t i = 0; i < n && ok; i++) {
		ebc_pin_node(ctx, (int)i);
		h[i] = ebc_http_new(ctx);
		ok = h[i] != NULL;
	}
	ebc_pin_node(ctx, -1);
	return ok;
}

static void cl_clients_free(eb_http **h, size_t n)
{
	for (size_t i = 0; i < n; i++)
		eb_http_free(h[i]);
}

/* A socket on node i, authenticated and subscribed to store. */
static ebc_ws *cl_ws_on(ebc_ctx *ctx, size_t i, const char *store, uint64_t *ack)
{
	ebc_pin_node(ctx, (int)i);
	ebc_ws *w = ebc_ws_ready(ctx, NULL, store, ack);
	ebc_pin_node(ctx, -1);
	return w;
}

/* Is change id in the feed read from node h? */
static bool cl_feed_has(ebc_ctx *ctx, eb_http *h, const char *store, const char *id,
			uint64_t *version, bool *found)
{
	eb_change *c = NULL;
	size_t n = 0;

	*found = false;
	if (!ebc_read_all(ctx, h, store, ebc_token(ctx), 0, 0, false, &c, &n, NULL))
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(c[i].id, id) == 0) {
			*found = true;
			if (version)
				*version = c[i].version;
		}
	ebc_changes_free(c, n);
	return true;
}

/* ---- CLUSTER-5: a commit on one node reaches the subscribers on every node */

static void cl_notify_every_node(ebc_ctx *ctx)
{
	size_t n = cl_nodes(ctx);
	eb_http *h[CL_MAX_NODES] = { 0 };
	ebc_ws *w[CL_MAX_NODES] = { 0 };
	char store[160], ids[1][32];
	eb_sync_response *res = NULL;

	if (!n || !ebc_token(ctx) || !cl_clients(ctx, h, n))
		goto out;
	ebc_store(ctx, NULL, store, sizeof(store));
	for (size_t i = 0; i < n; i++)
		if (!(w[i] = cl_ws_on(ctx, i, store, NULL)))
			goto out;
	/* a commit through each node in turn, seen on every node */
	for (size_t p = 0; p < n && !ebc_done(ctx); p++) {
		eb_sync_response_free(res);
		res = NULL;
		if (!ebc_push_n(ctx, h[p], store, ebc_token(ctx), 1, p, ids, &res, "SYNC-1"))
			goto out;
		uint64_t v = res->current_version;
		uint64_t t0 = ebc_now_ms();
		for (size_t i = 0; i < n; i++) {
			long left = ebc_ms(ctx, CL_NOTIFY_MS) - (long)(ebc_now_ms() - t0);
			int r = ebc_ws_wait_notif(w[i], store, v, left > 0 ? left : 1, NULL,
						  "CLUSTER-5");
			if (r == 0)
				ebc_fail(ctx, "CLUSTER-5",
					 "store_changed with version >= the commit's on every node within 1000 ms",
					 "the socket on node %zu got no store_changed for version %llu "
					 "committed through node %zu within %ld ms", i + 1,
					 (unsigned long long)v, p + 1, ebc_ms(ctx, CL_NOTIFY_MS));
			if (r != 1)
				goto out;
		}
	}
out:
	eb_sync_response_free(res);
	for (size_t i = 0; i < CL_MAX_NODES; i++)
		ebc_ws_free(w[i]);
	cl_clients_free(h, n);
}

/* ---- CLUSTER-2: read-your-writes across nodes ------------------------------- */

static void cl_read_your_writes(ebc_ctx *ctx)
{
	size_t n = cl_nodes(ctx);
	eb_http *h[CL_MAX_NODES] = { 0 };
	char store[160], ids[1][32];

	if (!n || !ebc_token(ctx) || !cl_clients(ctx, h, n))
		goto out;
	ebc_store(ctx, NULL, store, sizeof(store));
	for (size_t r = 0; r < CL_RYW_ROUNDS * n && !ebc_done(ctx); r++) {
		size_t p = r % n, q = (r + 1) % n;
		eb_sync_response *res = NULL;
		uint64_t v = 0;
		bool found;
		if (!ebc_push_n(ctx, h[p], store, ebc_token(ctx), 1, r, ids, &res, "SYNC-1"))
			goto out;
		uint64_t acked = res->current_version;
		eb_sync_response_free(res);
		/* at once, from the next node */
		if (!cl_feed_has(ctx, h[q], store, ids[0], &v, &found))
			goto out;
		if (!found)
			ebc_fail(ctx, "CLUSTER-2",
				 "a change acknowledged by one node in the next read from any node",
				 "change %s acknowledged by node %zu (currentVersion %llu) is missing "
				 "from the feed read right after from node %zu", ids[0], p + 1,
				 (unsigned long long)acked, q + 1);
	}
out:
	cl_clients_free(h, n);
}

/* ---- CLUSTER-3: dense versions under concurrent pushes through every node --- */

typedef struct cl_push_arg {
	ebc_ctx *ctx;
	eb_http *h;
	pthread_barrier_t *bar;
	const char *store;
	char ids[CL_DENSE_PUSHES][32];
	size_t done;
} cl_push_arg;

static void *cl_push_run(void *p)
{
	cl_push_arg *a = p;
	pthread_barrier_wait(a->bar);
	for (size_t k = 0; k < CL_DENSE_PUSHES; k++) {
		eb_sync_response *res = NULL;
		char one[1][32];
		if (!ebc_push_n(a->ctx, a->h, a->store, ebc_token(a->ctx), 1, 0, one, &res,
				"SYNC-1"))
			break;
		memcpy(a->ids[k], one[0], sizeof(one[0]));
		eb_sync_response_free(res);
		a->done++;
	}
	return NULL;
}

static void cl_dense_versions(ebc_ctx *ctx)
{
	size_t n = cl_nodes(ctx);
	cl_push_arg a[CL_MAX_NODES];
	eb_http *h[CL_MAX_NODES] = { 0 };
	pthread_barrier_t bar;
	char store[160];
	eb_change *c = NULL;
	size_t nc = 0, total = 0;

	memset(a, 0, sizeof(a));
	if (!n || !ebc_token(ctx) || !cl_clients(ctx, h, n))
		goto out;
	ebc_store(ctx, NULL, store, sizeof(store));
	if (pthread_barrier_init(&bar, NULL, (unsigned)n) != 0) {
		ebc_error(ctx, "pthread_barrier_init failed");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		a[i].ctx = ctx;
		a[i].h = h[i];
		a[i].bar = &bar;
		a[i].store = store;
	}
	ebc_parallel(n, cl_push_run, a, sizeof(a[0]));
	pthread_barrier_destroy(&bar);
	if (ebc_done(ctx))
		goto out;
	for (size_t i = 0; i < n; i++)
		total += a[i].done;
	if (!ebc_read_all(ctx, h[0], store, ebc_token(ctx), 0, 0, false, &c, &nc, NULL))
		goto out;
	if (nc != total) {
		ebc_fail(ctx, "CLUSTER-3", "one version per acknowledged change, whichever node took it",
			 "%zu changes acknowledged through %zu nodes at once, %zu in the feed", total,
			 n, nc);
		goto out;
	}
	if (!ebc_check_dense(ctx, c, nc, 0, "CLUSTER-3"))
		goto out;
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < a[i].done; k++) {
			size_t seen = 0;
			for (size_t j = 0; j < nc; j++)
				seen += strcmp(c[j].id, a[i].ids[k]) == 0;
			if (seen != 1) {
				ebc_fail(ctx, "CLUSTER-3", "every acknowledged change once in the feed",
					 "change %s acknowledged by node %zu is %zu times in the feed",
					 a[i].ids[k], i + 1, seen);
				goto out;
			}
		}
out:
	ebc_changes_free(c, nc);
	cl_clients_free(h, n);
}

/* ---- CLUSTER-4: idempotency across nodes ---------------------------------- */

typedef struct cl_idem_arg {
	ebc_ctx *ctx;
	eb_http *h;
	pthread_barrier_t *bar;
	const char *store;
	const char *body;
	long status;
	bool sent;
} cl_idem_arg;

static void *cl_idem_run(void *p)
{
	cl_idem_arg *a = p;
	eb_http_resp resp;

	pthread_barrier_wait(a->bar);
	a->sent = ebc_post_sync(a->ctx, a->h, a->store, ebc_token(a->ctx), a->body, &resp);
	if (a->sent)
		a->status = resp.status;
	eb_http_resp_clear(&resp);
	return NULL;
}

static void cl_idempotency(ebc_ctx *ctx)
{
	size_t n = cl_nodes(ctx);
	eb_http *h[CL_MAX_NODES] = { 0 };
	cl_idem_arg a[CL_MAX_NODES];
	char store[160], id[32], body[512];
	eb_change *c = NULL;
	size_t nc = 0;

	memset(a, 0, sizeof(a));
	if (!n || !ebc_token(ctx) || !cl_clients(ctx, h, n))
		goto out;
	for (int round = 0; round < CL_IDEM_ROUNDS && !ebc_done(ctx); round++) {
		pthread_barrier_t bar;
		bool raced = round % 2 == 0;   /* else one node after the other */
		ebc_store(ctx, NULL, store, sizeof(store));
		ebc_cid(ctx, id, sizeof(id));
		snprintf(body, sizeof(body),
			 "{\"lastKnownVersion\":0,\"changes\":[{\"id\":\"%s\",\"timestamp\":1000,"
			 "\"operation\":\"set\",\"path\":[\"i\"],\"value\":%d}]}", id, round);
		if (raced) {
			if (pthread_barrier_init(&bar, NULL, (unsigned)n) != 0) {
				ebc_error(ctx, "pthread_barrier_init failed");
				goto out;
			}
			for (size_t i = 0; i < n; i++) {
				a[i] = (cl_idem_arg){ .ctx = ctx, .h = h[i], .bar = &bar,
						      .store = store, .body = body };
			}
			ebc_parallel(n, cl_idem_run, a, sizeof(a[0]));
			pthread_barrier_destroy(&bar);
		} else {
			for (size_t i = 0; i < n && !ebc_done(ctx); i++) {
				eb_http_resp resp;
				a[i].sent = ebc_post_sync(ctx, h[i], store, ebc_token(ctx), body, &resp);
				a[i].status = a[i].sent ? resp.status : 0;
				eb_http_resp_clear(&resp);
			}
		}
		if (ebc_done(ctx))
			goto out;
		for (size_t i = 0; i < n; i++)
			if (!a[i].sent || a[i].status != 200) {
				ebc_fail(ctx, "CLUSTER-4", "200 from every node for one change",
					 "node %zu answered %ld to change %s also sent to %zu other "
					 "node(s)%s", i + 1, a[i].status, id, n - 1,
					 raced ? " at the same time" : " before it");
				goto out;
			}
		ebc_changes_free(c, nc);
		c = NULL;
		nc = 0;
		if (!ebc_read_all(ctx, h[(size_t)round % n], store, ebc_token(ctx), 0, 0, false,
				  &c, &nc, NULL))
			goto out;
		if (nc != 1 || c[0].version != 1) {
			ebc_fail(ctx, "CLUSTER-4", "exactly one change at version 1",
				 "%zu changes in the feed after change %s was sent to %zu nodes %s",
				 nc, id, n, raced ? "at the same time" : "one after the other");
			goto out;
		}
	}
out:
	ebc_changes_free(c, nc);
	cl_clients_free(h, n);
}

/* ---- CLUSTER-6: the subscribe ack on one node vs a commit on another ------ */

typedef struct cl_sub_arg {
	ebc_ctx *ctx;
	eb_http *h;
	pthread_barrier_t *bar;
	const char *store;
	uint64_t version;
	bool ok;
} cl_sub_arg;

static void *cl_sub_push(void *p)
{
	cl_sub_arg *a = p;
	eb_sync_response *res = NULL;
	char ids[1][32];

	pthread_barrier_wait(a->bar);
	a->ok = ebc_push_n(a->ctx, a->h, a->store, ebc_token(a->ctx), 1, 0, ids, &res, "SYNC-1");
	if (a->ok)
		a->version = res->current_version;
	eb_sync_response_free(res);
	return NULL;
}

static void *cl_sub_idle(void *p)
{
	cl_sub_arg *a = p;
	pthread_barrier_wait(a->bar);
	return NULL;
}

static void cl_subscribe_race(ebc_ctx *ctx)
{
	size_t n = cl_nodes(ctx);
	eb_http *h[CL_MAX_NODES] = { 0 };
	char store[160];
	ebc_ws *w = NULL;

	if (!n || !ebc_token(ctx) || !cl_clients(ctx, h, n))
		goto out;
	for (int round = 0; round < CL_SUB_ROUNDS && !ebc_done(ctx); round++) {
		size_t sub = (size_t)round % n, push = (sub + 1) % n;
		pthread_barrier_t bar;
		cl_sub_arg a[2];
		uint64_t ack = 0;

		ebc_store(ctx, NULL, store, sizeof(store));
		ebc_ws_free(w);
		ebc_pin_node(ctx, (int)sub);
		w = ebc_ws_ready(ctx, NULL, NULL, NULL);   /* open and authenticated */
		ebc_pin_node(ctx, -1);
		if (!w)
			goto out;
		if (pthread_barrier_init(&bar, NULL, 2) != 0) {
			ebc_error(ctx, "pthread_barrier_init failed");
			goto out;
		}
		memset(a, 0, sizeof(a));
		a[0] = (cl_sub_arg){ .ctx = ctx, .h = h[push], .bar = &bar, .store = store };
		a[1] = (cl_sub_arg){ .ctx = ctx, .bar = &bar };
		/* the push on one node runs while this thread subscribes on another */
		pthread_t th;
		if (pthread_create(&th, NULL, cl_sub_push, &a[0]) != 0) {
			pthread_barrier_destroy(&bar);
			ebc_error(ctx, "pthread_create failed");
			goto out;
		}
		cl_sub_idle(&a[1]);
		const char *one[1] = { store };
		eb_ws_server_msg *m = ebc_ws_sub(w, false, one, 1, "WS-SUB-1");
		pthread_join(th, NULL);
		pthread_barrier_destroy(&bar);
		if (!m || !a[0].ok)
			goto out;
		for (size_t k = 0; k < m->n_stores; k++)
			if (strcmp(m->stores[k].store_id, store) == 0)
				ack = m->stores[k].version;
		eb_ws_server_msg_free(m);
		if (a[0].version <= ack)
			continue;   /* the ack already covers the commit */
		int r = ebc_ws_wait_notif(w, store, a[0].version, ebc_ms(ctx, CL_NOTIFY_MS), NULL,
					  "CLUSTER-6");
		if (r == 0)
			ebc_fail(ctx, "CLUSTER-6",
				 "a notification for a commit after the ack's version, whichever node "
				 "committed it",
				 "subscribed on node %zu with ack version %llu; version %llu committed "
				 "through node %zu never notified within %ld ms", sub + 1,
				 (unsigned long long)ack, (unsigned long long)a[0].version, push + 1,
				 ebc_ms(ctx, CL_NOTIFY_MS));
		if (r != 1)
			goto out;
	}
out:
	ebc_ws_free(w);
	cl_clients_free(h, n);
}

const ebc_case ebc_cases_cluster[] = {
	{ "cluster/notify-every-node",
	  "A commit through each node is notified to subscribers on every node within 1000 ms",
	  "MUST", { "CLUSTER-5", "WS-NOTIF-2", "CLUSTER-1" }, { "cluster", "ws" }, 0,
	  cl_notify_every_node },
	{ "cluster/read-your-writes",
	  "A change acknowledged by one node is in the next read from another node",
	  "MUST", { "CLUSTER-2", "CLUSTER-1" }, { "cluster", "feed" }, 0, cl_read_your_writes },
	{ "cluster/dense-versions-concurrent",
	  "Pushes through every node at once get dense versions, each change once",
	  "MUST", { "CLUSTER-3", "VER-2", "CLUSTER-1" }, { "cluster", "versioning" }, 0,
	  cl_dense_versions },
	{ "cluster/idempotency-across-nodes",
	  "One change sent to every node (at once, or one after the other) takes one version",
	  "MUST", { "CLUSTER-4", "IDEM-2", "CLUSTER-1" }, { "cluster", "idempotency" }, 0,
	  cl_idempotency },
	{ "cluster/subscribe-ack-vs-commit",
	  "A commit on one node after the subscribe ack on another is notified (WS-SUB-2)",
	  "MUST", { "CLUSTER-6", "WS-SUB-2", "CLUSTER-1" }, { "cluster", "ws" }, 0,
	  cl_subscribe_race },
};
const size_t ebc_cases_cluster_n = sizeof(ebc_cases_cluster) / sizeof(ebc_cases_cluster[0]);
