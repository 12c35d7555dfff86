/*
 * races.c — the same request raced from several connections at once, for
 * the state a server keeps per change id: a duplicate pushed concurrently
 * must still take exactly one version (IDEM-2 under VER-3), and concurrent
 * pushes of one id with different content must leave exactly one winner,
 * every other request answered 409 CHANGE_ID_CONFLICT (IDEM-3).
 *
 * The threads meet at a barrier before sending, so the requests arrive
 * within a fraction of a millisecond of each other; several rounds on fresh
 * stores make an unlocked check-then-insert show up.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ebc.h"

#define RC_THREADS 3
#define RC_ROUNDS 6

typedef struct rc_arg {
	ebc_ctx *ctx;
	pthread_barrier_t *bar;
	eb_http *h;
	const char *store;
	char body[512];
	long status;
	char code[40];
	bool sent;
} rc_arg;

static void *rc_run(void *p)
{
	rc_arg *a = p;
	char path[256];
	eb_http_resp resp;

	snprintf(path, sizeof(path), "/api/stores/%s/sync", a->store);
	pthread_barrier_wait(a->bar);
	a->sent = ebc_req(a->ctx, a->h, "POST", path, ebc_token(a->ctx), NULL, a->body,
			  strlen(a->body), NULL, 0, 0, &resp);
	if (a->sent) {
		eb_error_body *eb = NULL;
		eb_err err;

		eb_err_clear(&err);
		a->status = resp.status;
		if (resp.status != 200 && eb_error_body_parse(resp.body, resp.body_len, &eb, &err) == EB_OK)
			snprintf(a->code, sizeof(a->code), "%s", eb->code ? eb->code : "");
		eb_error_body_free(eb);
	}
	eb_http_resp_clear(&resp);
	return NULL;
}

/* One round: RC_THREADS pushes of change ids[0] to a fresh store, with
 * value "same" or a value per thread. */
static void rc_round(ebc_ctx *ctx, rc_arg *a, bool conflict)
{
	pthread_barrier_t bar;
	char store[160], id[32];
	eb_change *c = NULL;
	size_t n = 0, i, ok = 0, conf = 0;

	ebc_store(ctx, NULL, store, sizeof(store));
	ebc_cid(ctx, id, sizeof(id));
	if (pthread_barrier_init(&bar, NULL, RC_THREADS) != 0) {
		ebc_error(ctx, "pthread_barrier_init failed");
		return;
	}
	for (i = 0; i < RC_THREADS; i++) {
		a[i].bar = &bar;
		a[i].store = store;
		a[i].status = 0;
		a[i].code[0] = '\0';
		snprintf(a[i].body, sizeof(a[i].body),
			 "{\"lastKnownVersion\":0,\"changes\":[{\"id\":\"%s\",\"timestamp\":1000,"
			 "\"operation\":\"set\",\"path\":[\"r\"],\"value\":%zu}]}", id, conflict ? i : 7);
	}
	ebc_parallel(RC_THREADS, rc_run, a, sizeof(a[0]));
	pthread_barrier_destroy(&bar);
	if (ebc_done(ctx))
		return;
	for (i = 0; i < RC_THREADS; i++) {
		if (!a[i].sent)
			return;
		if (a[i].status == 200)
			ok++;
		else if (a[i].status == 409 && strcmp(a[i].code, "CHANGE_ID_CONFLICT") == 0)
			conf++;
	}
	if (!conflict && ok != RC_THREADS) {
		ebc_fail(ctx, "IDEM-2", "200 for every copy of a duplicate pushed at once",
			 "%zu of %d answered 200", ok, RC_THREADS);
		return;
	}
	if (conflict && (ok != 1 || conf != RC_THREADS - 1)) {
		ebc_fail(ctx, "IDEM-3", "one 200 and 409 CHANGE_ID_CONFLICT for the others",
			 "%zu answered 200, %zu 409 CHANGE_ID_CONFLICT of %d racing pushes of one id "
			 "with different values", ok, conf, RC_THREADS);
		return;
	}
	if (!ebc_read_all(ctx, NULL, store, ebc_token(ctx), 0, 0, false, &c, &n, NULL))
		return;
	if (n != 1 || c[0].version != 1)
		ebc_fail(ctx, conflict ? "IDEM-3" : "IDEM-2", "exactly one change at version 1",
			 "%zu changes in the feed after %d racing pushes of %s", n, RC_THREADS, id);
	ebc_changes_free(c, n);
}

static void rc_case(ebc_ctx *ctx, bool conflict)
{
	rc_arg a[RC_THREADS];
	size_t i;
	int round;

	memset(a, 0, sizeof(a));
	if (!ebc_token(ctx))
		return;
	for (i = 0; i < RC_THREADS; i++) {
		a[i].ctx = ctx;
		a[i].h = ebc_http_new(ctx);
		if (!a[i].h)
			goto out;
	}
	for (round = 0; round < RC_ROUNDS && !ebc_done(ctx); round++)
		rc_round(ctx, a, conflict);
out:
	for (i = 0; i < RC_THREADS; i++)
		eb_http_free(a[i].h);
}

static void rc_same(ebc_ctx *ctx)
{
	rc_case(ctx, false);
}

static void rc_conflict(ebc_ctx *ctx)
{
	rc_case(ctx, true);
}

const ebc_case ebc_cases_races[] = {
	{ "idempotency/race-duplicate", "One change pushed from 3 connections at once takes one version",
	  "MUST", { "IDEM-2", "VER-3", "VER-4" }, { "idempotency", "races" }, 0, rc_same },
	{ "idempotency/race-conflict", "One id with 3 values pushed at once: one 200, the others 409",
	  "MUST", { "IDEM-3", "VER-3" }, { "idempotency", "races" }, 0, rc_conflict },
};
const size_t ebc_cases_races_n = sizeof(ebc_cases_races) / sizeof(ebc_cases_races[0]);
