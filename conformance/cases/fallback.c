/*
 * fallback.c — the server side of section 12's fallback: a client whose
 * socket dropped recovers every change since its last version over HTTP,
 * across pagination and concurrent writers, with no gap or duplicate, and
 * the state it merges (eb_merge_state) equals the state of all changes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eb_json.h"
#include "eb_merge.h"
#include "../ebc.h"

#define FB_WRITERS 3
#define FB_ROUNDS 8
#define FB_PER 4

typedef struct fb_writer {
	ebc_ctx *ctx;
	const char *store;
	char *token;
	int no;
	eb_change *sent;     /* every change this writer committed */
	size_t n_sent;
	bool ok;
} fb_writer;

/* Builds a batch on shared paths (so the merge matters), keeps a parsed
 * copy, and pushes it. */
static bool fb_push_batch(ebc_ctx *ctx, eb_http *h, const char *store, const char *tok,
			  int writer, int round, size_t per, uint64_t lkv,
			  eb_change **sent, size_t *n_sent, eb_sync_response **resp)
{
	eb_buf b = { 0 };
	eb_sync_request *req = NULL;
	eb_sync_response *r = NULL;
	eb_err err;
	size_t i;
	bool ok = false;
	eb_change *grown;

	eb_buf_fmt(&b, "{\"lastKnownVersion\":%llu,\"changes\":[", (unsigned long long)lkv);
	for (i = 0; i < per; i++) {
		char id[32];
		uint64_t ts = 1700000000000ULL + (uint64_t)((round * 7 + (int)i * 13 + writer * 5) % 23) * 1000;

		ebc_cid(ctx, id, sizeof(id));
		if ((round + (int)i + writer) % 5 == 4)
			eb_buf_fmt(&b, "%s{\"id\":\"%s\",\"timestamp\":%llu,\"operation\":\"delete\","
				       "\"path\":[\"doc\",\"f%zu\"]}", i ? "," : "", id, (unsigned long long)ts, i % 3);
		else
			eb_buf_fmt(&b, "%s{\"id\":\"%s\",\"timestamp\":%llu,\"operation\":\"set\","
				       "\"path\":[\"doc\",\"f%zu\"%s],\"value\":{\"w\":%d,\"r\":%d,\"i\":%zu}}",
				       i ? "," : "", id, (unsigned long long)ts, i % 3,
				       i % 2 ? ",\"sub\"" : "", writer, round, i);
	}
	eb_buf_put(&b, "]}", 2);
	if (b.oom) {
		ebc_error(ctx, "out of memory");
		goto out;
	}
	eb_err_clear(&err);
	if (eb_sync_request_parse(b.p, b.len, NULL, &req, NULL, &err) != EB_OK) {
		ebc_error(ctx, "internal: the harness built an invalid batch: %s", err.msg);
		goto out;
	}
	r = ebc_sync_ok(ctx, h, store, tok, b.p, "SYNC-9");
	if (!r)
		goto out;
	grown = realloc(*sent, (*n_sent + req->n) * sizeof(**sent));
	if (!grown) {
		ebc_error(ctx, "out of memory");
		goto out;
	}
	*sent = grown;
	for (i = 0; i < req->n; i++) {
		(*sent)[*n_sent] = req->changes[i];
		memset(&req->changes[i], 0, sizeof(req->changes[i]));
		(*n_sent)++;
	}
	ok = true;
	if (resp) {
		*resp = r;
		r = NULL;
	}
out:
	eb_sync_response_free(r);
	eb_sync_request_free(req);
	eb_buf_clear(&b);
	return ok;
}

static void *fb_writer_run(void *arg)
{
	fb_writer *w = arg;
	eb_http *h = ebc_http_new(w->ctx);
	int round;

	w->ok = false;
	if (!h)
		return NULL;
	for (round = 0; round < FB_ROUNDS && !ebc_done(w->ctx); round++)
		if (!fb_push_batch(w->ctx, h, w->store, w->token, w->no, round, FB_PER, 0,
				   &w->sent, &w->n_sent, NULL))
			break;
	w->ok = round == FB_ROUNDS;
	eb_http_free(h);
	return NULL;
}

/* state(a) == state(b), else fail. */
static bool fb_same_state(ebc_ctx *ctx, const eb_change *a, size_t na, const eb_change *b, size_t nb)
{
	cJSON *sa = NULL, *sb = NULL;
	char *ca = NULL, *cb = NULL;
	eb_err err;
	bool ok = false;

	eb_err_clear(&err);
	if (eb_merge_state(a, na, &sa, &err) != EB_OK || eb_merge_state(b, nb, &sb, &err) != EB_OK) {
		ebc_error(ctx, "merge failed: %s", err.msg);
		goto out;
	}
	if (!eb_json_canon_equal(sa, sb)) {
		eb_json_canonical(sa, &ca, NULL);
		eb_json_canonical(sb, &cb, NULL);
		ebc_fail(ctx, "CHG-9", ca ? ca : "?", "recovered state %s", cb ? cb : "?");
		goto out;
	}
	ok = true;
out:
	free(ca);
	free(cb);
	cJSON_Delete(sa);
	cJSON_Delete(sb);
	return ok;
}

/* Every change of `sent` appears exactly once (by id) in got, with equal content. */
static bool fb_all_once(ebc_ctx *ctx, const eb_change *sent, size_t ns, const eb_change *got, size_t ng,
			const char *rule)
{
	size_t i, j;

	if (ns != ng) {
		ebc_fail(ctx, rule, "every change since the last known version exactly once",
			 "%zu changes recovered, %zu committed", ng, ns);
		return false;
	}
	for (i = 0; i < ns; i++) {
		size_t hits = 0;

		for (j = 0; j < ng; j++)
			if (strcmp(sent[i].id, got[j].id) == 0) {
				hits++;
				if (!eb_change_same_content(&sent[i], &got[j])) {
					ebc_fail(ctx, "CHG-9", "the change as pushed", "change %s differs", sent[i].id);
					return false;
				}
			}
		if (hits != 1) {
			ebc_fail(ctx, rule, "each change once", "change %s recovered %zu times", sent[i].id, hits);
			return false;
		}
	}
	return true;
}

static void fb_recover(ebc_ctx *ctx, bool via_sync)
{
	char store[160];
	ebc_ws *w = NULL;
	fb_writer wr[FB_WRITERS];
	eb_change *before = NULL, *rec = NULL, *all = NULL, *own = NULL, *committed = NULL;
	size_t nb = 0, nr = 0, nall = 0, nown = 0, ncom = 0, i, k;
	uint64_t v0 = 0, cur = 0;

	memset(wr, 0, sizeof(wr));
	ebc_store(ctx, NULL, store, sizeof(store));
	/* the client's state before the drop */
	if (!fb_push_batch(ctx, NULL, store, ebc_token(ctx), 9, 0, 5, 0, &committed, &ncom, NULL))
		goto out;
	w = ebc_ws_ready(ctx, NULL, store, &v0);
	if (!w)
		goto out;
	if (!ebc_read_all(ctx, NULL, store, ebc_token(ctx), 0, 0, false, &before, &nb, NULL))
		goto out;
	ebc_note(ctx, "client at version %llu drops its socket; %d writers push %d x %d changes concurrently",
		 (unsigned long long)v0, FB_WRITERS, FB_ROUNDS, FB_PER);
	ebc_ws_free(w);
	w = NULL;
	for (i = 0; i < FB_WRITERS; i++) {
		char tag[16];

		snprintf(tag, sizeof(tag), "w%zu", i);
		wr[i].ctx = ctx;
		wr[i].store = store;
		wr[i].no = (int)i;
		wr[i].token = ebc_token_sub(ctx, tag);
		if (!wr[i].token)
			goto out;
	}
	ebc_parallel(FB_WRITERS, fb_writer_run, wr, sizeof(wr[0]));
	for (i = 0; i < FB_WRITERS; i++)
		if (!wr[i].ok)
			goto out;
	if (via_sync) {
		/* the client also pushes its offline queue in its first catch-up
		 * sync; its own changes are left out of the responses (SYNC-5) */
		eb_sync_response *r = NULL;
		eb_change *page = NULL;
		size_t np = 0;

		if (!fb_push_batch(ctx, NULL, store, ebc_token(ctx), 7, 1, 3, v0, &own, &nown, &r))
			goto out;
		for (i = 0; i < r->n; i++)
			for (k = 0; k < nown; k++)
				if (strcmp(r->changes[i].id, own[k].id) == 0) {
					ebc_fail(ctx, "SYNC-5", "own queued changes left out", "%s echoed", own[k].id);
					eb_sync_response_free(r);
					goto out;
				}
		rec = calloc(r->n ? r->n : 1, sizeof(*rec));
		if (!rec) {
			eb_sync_response_free(r);
			goto out;
		}
		for (i = 0; i < r->n; i++) {
			rec[nr++] = r->changes[i];
			memset(&r->changes[i], 0, sizeof(r->changes[i]));
		}
		if (r->has_more) {
			uint64_t from = r->to_version;

			eb_sync_response_free(r);
			if (!ebc_read_all(ctx, NULL, store, ebc_token(ctx), from, 5, true, &page, &np, &cur))
				goto out;
			{
				eb_change *g = realloc(rec, (nr + np + 1) * sizeof(*rec));

				if (!g) {
					ebc_changes_free(page, np);
					goto out;
				}
				rec = g;
				if (np)
					memcpy(rec + nr, page, np * sizeof(*page));
				nr += np;
				free(page);
			}
		} else {
			eb_sync_response_free(r);
		}
	} else if (!ebc_read_all(ctx, NULL, store, ebc_token(ctx), v0, 7, false, &rec, &nr, &cur)) {
		goto out;
	}
	/* expected: every writer's change (and nothing of the client's own) */
	{
		eb_change *exp = NULL;
		size_t ne = 0;

		for (i = 0; i < FB_WRITERS; i++)
			ne += wr[i].n_sent;
		exp = calloc(ne ? ne : 1, sizeof(*exp));
		if (!exp)
			goto out;
		ne = 0;
		for (i = 0; i < FB_WRITERS; i++)
			for (k = 0; k < wr[i].n_sent; k++)
				exp[ne++] = wr[i].sent[k];   /* shallow view */
		if (!fb_all_once(ctx, exp, ne, rec, nr, via_sync ? "SYNC-10" : "FEED-3")) {
			free(exp);
			goto out;
		}
		free(exp);
	}
	/* the state the client merges equals the state of all changes */
	all = calloc(nb + nr + nown + 1, sizeof(*all));
	if (!all)
		goto out;
	if (nb)
		memcpy(all, before, nb * sizeof(*all));
	if (nr)
		memcpy(all + nb, rec, nr * sizeof(*all));
	if (nown)
		memcpy(all + nb + nr, own, nown * sizeof(*all));
	nall = nb + nr + nown;
	{
		eb_change *truth = NULL;
		size_t nt = 0;

		if (!ebc_read_all(ctx, NULL, store, ebc_token(ctx), 0, 0, false, &truth, &nt, NULL))
			goto out_all;
		if (nt != nall)
			ebc_fail(ctx, "SYNC-10", "the client's changes = the store's changes",
				 "client holds %zu, store %zu", nall, nt);
		else if (ebc_check_dense(ctx, truth, nt, 0, "VER-3"))
			fb_same_state(ctx, truth, nt, all, nall);
		ebc_changes_free(truth, nt);
	}
out_all:
	free(all);   /* shallow: the arrays below own the members */
	all = NULL;
out:
	ebc_ws_free(w);
	for (i = 0; i < FB_WRITERS; i++) {
		ebc_changes_free(wr[i].sent, wr[i].n_sent);
		free(wr[i].token);
	}
	ebc_changes_free(before, nb);
	ebc_changes_free(rec, nr);
	ebc_changes_free(own, nown);
	ebc_changes_free(committed, ncom);
	(void)cur;
}

static void fb_feed(ebc_ctx *ctx)
{
	fb_recover(ctx, false);
}

static void fb_sync(ebc_ctx *ctx)
{
	fb_recover(ctx, true);
}

const ebc_case ebc_cases_fallback[] = {
	{ "fallback/recover-via-feed", "After a dropped socket, paginated feed reads recover every change of 3 concurrent writers once; merged state equals the store's",
	  "MUST", { "SYNC-10", "FEED-3", "CHG-9", "MERGE-6", "VER-3" }, { "fallback", "pagination", "concurrency" }, 0, fb_feed },
	{ "fallback/recover-via-sync", "Catch-up syncs (with the offline queue pushed) recover every change once; merged state equals the store's",
	  "MUST", { "SYNC-10", "SYNC-5", "CHG-9", "MERGE-6" }, { "fallback", "pagination", "concurrency" }, 0, fb_sync },
};
const size_t ebc_cases_fallback_n = sizeof(ebc_cases_fallback) / sizeof(ebc_cases_fallback[0]);
