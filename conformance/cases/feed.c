/*
 * feed.c — the changes feed and the read side of sync: since, ordering, own
 * changes left out, pagination, RESYNC_REQUIRED, unknown stores, query
 * parameter syntax (FEED-*, SYNC-4..10, STORE-3, LIMIT-7).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eb_json.h"
#include "../ebc.h"

/* Pushes n changes one request each (so a server cannot reorder a batch). */
static bool f_push_singles(ebc_ctx *ctx, const char *store, size_t n, char (*ids)[32])
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!ebc_push_n(ctx, NULL, store, ebc_token(ctx), 1, 0, ids ? &ids[i] : NULL,
				NULL, "SYNC-9"))
			return false;
	return true;
}

/* GET the feed with query and expect 200; NULL after a verdict. */
static eb_sync_response *f_get(ebc_ctx *ctx, const char *store, const char *query, const char *rule)
{
	eb_http_resp resp;
	eb_sync_response *r = NULL;

	if (!ebc_get_changes(ctx, NULL, store, ebc_token(ctx), query, &resp))
		return NULL;
	r = ebc_expect_ok(ctx, &resp, rule);
	eb_http_resp_clear(&resp);
	return r;
}

/* True when the page has n changes, hasMore more and toVersion to; else a
 * FAIL citing rule with want as the expectation. */
static bool f_page_is(ebc_ctx *ctx, const eb_sync_response *r, size_t n, bool more, uint64_t to,
		      const char *rule, const char *want)
{
	if (r->n == n && r->has_more == more && r->to_version == to)
		return true;
	ebc_fail(ctx, rule, want, "%zu changes, hasMore %s, toVersion %llu", r->n,
		 r->has_more ? "true" : "false", (unsigned long long)r->to_version);
	return false;
}

static void f_since_returns_later(ebc_ctx *ctx)
{
	char store[160];
	eb_sync_response *r = NULL;
	size_t i;

	ebc_store(ctx, NULL, store, sizeof(store));
	if (!ebc_push_n(ctx, NULL, store, ebc_token(ctx), 5, 0, NULL, NULL, "SYNC-9"))
		goto out;
	r = f_get(ctx, store, "since=2", "FEED-3");
	if (!r)
		goto out;
	if (r->n != 3) {
		ebc_fail(ctx, "FEED-3", "versions 3, 4, 5 for since=2", "%zu changes%s%llu", r->n,
			 r->n ? ", first version " : "", r->n ? (unsigned long long)r->changes[0].version : 0ULL);
		goto out;
	}
	for (i = 0; i < 3; i++)
		if (r->changes[i].version != 3 + i) {
			ebc_fail(ctx, "FEED-3", "versions 3, 4, 5 for since=2",
				 "change %zu has version %llu", i, (unsigned long long)r->changes[i].version);
			goto out;
		}
	if (r->has_more || r->to_version != 5 || r->current_version != 5)
		ebc_fail(ctx, "SYNC-7", "hasMore false, toVersion = currentVersion = 5",
			 "hasMore %s, toVersion %llu, currentVersion %llu", r->has_more ? "true" : "false",
			 (unsigned long long)r->to_version, (unsigned long long)r->current_version);
out:
	eb_sync_response_free(r);
}

static void f_ascending_order(ebc_ctx *ctx)
{
	char store[160], ids[6][32];
	eb_sync_response *r = NULL;
	size_t i;

	ebc_store(ctx, NULL, store, sizeof(store));
	if (!f_push_singles(ctx, store, 6, ids))
		goto out;
	r = f_get(ctx, store, "since=0", "FEED-3");
	if (!r)
		goto out;
	if (r->n != 6) {
		ebc_fail(ctx, "FEED-3", "6 changes", "%zu changes", r->n);
		goto out;
	}
	for (i = 0; i < 6; i++)
		if (r->changes[i].version != i + 1 || strcmp(r->changes[i].id, ids[i]) != 0) {
			ebc_fail(ctx, "FEED-3", "changes in ascending version order 1..6",
				 "position %zu holds version %llu (id %s)", i,
				 (unsigned long long)r->changes[i].version, r->changes[i].id);
			goto out;
		}
out:
	eb_sync_response_free(r);
}

static void f_since_current_empty(ebc_ctx *ctx)
{
	char store[160];
	eb_sync_response *r = NULL;

	ebc_store(ctx, NULL, store, sizeof(store));
	if (!ebc_push_n(ctx, NULL, store, ebc_token(ctx), 3, 0, NULL, NULL, "SYNC-9"))
		goto out;
	r = f_get(ctx, store, "since=3", "FEED-3");
	if (!r)
		goto out;
	if (r->n != 0 || r->has_more || r->to_version != 3 || r->current_version != 3)
		ebc_fail(ctx, "SYNC-7", "no changes, hasMore false, toVersion = currentVersion = 3",
			 "%zu changes, hasMore %s, toVersion %llu, currentVersion %llu", r->n,
			 r->has_more ? "true" : "false", (unsigned long long)r->to_version,
			 (unsigned long long)r->current_version);
out:
	eb_sync_response_free(r);
}

/* Another client's changes come back; the request's own do not. */
static void f_own_changes_omitted(ebc_ctx *ctx)
{
	char store[160], other_ids[2][32], mine[3][32];
	eb_sync_response *r = NULL;
	eb_http *h2 = NULL;
	size_t i, j;

	ebc_store(ctx, NULL, store, sizeof(store));
	h2 = ebc_http_new(ctx);
	if (!h2)
		goto out;
	if (!ebc_push_n(ctx, h2, store, ebc_token(ctx), 2, 0, other_ids, NULL, "SYNC-9"))
		goto out;
	if (!ebc_push_n(ctx, NULL, store, ebc_token(ctx), 3, 0, mine, &r, "SYNC-9"))
		goto out;
	for (i = 0; i < r->n; i++)
		for (j = 0; j < 3; j++)
			if (strcmp(r->changes[i].id, mine[j]) == 0) {
				ebc_fail(ctx, "SYNC-5", "the response leaves out the changes the request pushed",
					 "the response holds its own change %s (version %llu)", mine[j],
					 (unsigned long long)r->changes[i].version);
				goto out;
			}
	if (r->n != 2 || strcmp(r->changes[0].id, other_ids[0]) != 0 ||
	    strcmp(r->changes[1].id, other_ids[1]) != 0) {
		ebc_fail(ctx, "SYNC-5", "exactly the other client's 2 changes (versions 1, 2)",
			 "%zu changes", r->n);
		goto out;
	}
	if (r->current_version != 5 || r->to_version != 5 || r->has_more)
		ebc_fail(ctx, "SYNC-7", "currentVersion 5, toVersion 5, hasMore false",
			 "currentVersion %llu, toVersion %llu, hasMore %s",
			 (unsigned long long)r->current_version, (unsigned long long)r->to_version,
			 r->has_more ? "true" : "false");
out:
	eb_http_free(h2);
	eb_sync_response_free(r);
}

/* Re-pushing an old change (duplicate) does not echo it either. */
static void f_own_duplicates_omitted(ebc_ctx *ctx)
{
	char store[160], id[32];
	char *ch = NULL, *body = NULL;
	eb_sync_response *r = NULL;
	size_t i;

	ebc_store(ctx, NULL, store, sizeof(store));
	ch = ebc_set_json(ebc_cid(ctx, id, sizeof(id)), ebc_now_ms() - 10, "d", "\"dup\"");
	body = ebc_body(0, (const char *const *)&ch, 1, -1);
	r = ebc_sync_ok(ctx, NULL, store, ebc_token(ctx), body, "SYNC-9");
	if (!r)
		goto out;
	eb_sync_response_free(r);
	r = NULL;
	if (!ebc_push_n(ctx, NULL, store, ebc_token(ctx), 1, 1, NULL, NULL, "SYNC-9"))
		goto out;
	r = ebc_sync_ok(ctx, NULL, store, ebc_token(ctx), body, "IDEM-2");
	if (!r)
		goto out;
	for (i = 0; i < r->n; i++)
		if (strcmp(r->changes[i].id, id) == 0) {
			ebc_fail(ctx, "SYNC-5", "the pushed duplicate left out of the response",
				 "the response holds %s (version %llu)", id,
				 (unsigned long long)r->changes[i].version);
			goto out;
		}
	if (r->n != 1 || r->changes[0].version != 2)
		ebc_fail(ctx, "SYNC-5", "only the change at version 2", "%zu changes", r->n);
out:
	eb_sync_response_free(r);
	free(ch);
	free(body);
}

static void f_sync_returns_after_lkv(ebc_ctx *ctx)
{
	char store[160];
	eb_sync_response *r = NULL;

	ebc_store(ctx, NULL, store, sizeof(store));
	if (!ebc_push_n(ctx, NULL, store, ebc_token(ctx), 6, 0, NULL, NULL, "SYNC-9"))
		goto out;
	r = ebc_sync_ok(ctx, NULL, store, ebc_token(ctx), "{\"lastKnownVersion\":4}", "SYNC-9");
	if (!r)
		goto out;
	if (r->n != 2 || r->changes[0].version != 5 || r->changes[1].version != 6)
		ebc_fail(ctx, "SYNC-5", "versions 5 and 6 for lastKnownVersion 4",
			 "%zu changes, first version %llu", r->n,
			 r->n ? (unsigned long long)r->changes[0].version : 0ULL);
out:
	eb_sync_response_free(r);
}

/* Pagination: pushes total changes and reads them back page by page. */
static void f_paginate(ebc_ctx *ctx, size_t total, size_t per_push, unsigned limit, bool via_sync)
{
	char store[160];
	eb_change *c = NULL;
	size_t n = 0, pushed = 0;
	uint64_t cur = 0;

	ebc_store(ctx, NULL, store, sizeof(store));
	while (pushed < total) {
		size_t k = total - pushed < per_push ? total - pushed : per_push;

		if (!ebc_push_n(ctx, NULL, store, ebc_token(ctx), k, 0, NULL, NULL, "SYNC-9"))
			goto out;
		pushed += k;
	}
	if (!ebc_read_all(ctx, NULL, store, ebc_token(ctx), 0, limit, via_sync, &c, &n, &cur))
		goto out;
	if (n != total) {
		ebc_fail(ctx, "SYNC-10", "every change exactly once across the pages",
			 "%zu of %zu changes", n, total);
		goto out;
	}
	ebc_check_dense(ctx, c, n, 0, "SYNC-10");
out:
	ebc_changes_free(c, n);
}

static void f_paginate_feed(ebc_ctx *ctx)
{
	f_paginate(ctx, 25, 25, 7, false);
}

static void f_paginate_sync(ebc_ctx *ctx)
{
	f_paginate(ctx, 25, 10, 4, true);
}

static void f_paginate_default_limit(ebc_ctx *ctx)
{
	f_paginate(ctx, 1234, 450, 0, false);
}

/* limit equal to what remains: that page is the last one. */
static void f_last_page_exact(ebc_ctx *ctx)
{
	char store[160];
	eb_sync_response *r = NULL;

	ebc_store(ctx, NULL, store, sizeof(store));
	if (!ebc_push_n(ctx, NULL, store, ebc_token(ctx), 6, 0, NULL, NULL, "SYNC-9"))
		goto out;
	r = f_get(ctx, store, "since=2&limit=4", "FEED-3");
	if (!r)
		goto out;
	if (!f_page_is(ctx, r, 4, false, 6, "SYNC-7", "4 changes, hasMore false, toVersion 6 (nothing remains)"))
		goto out;
	eb_sync_response_free(r);
	r = f_get(ctx, store, "since=2&limit=3", "FEED-3");
	if (!r)
		goto out;
	f_page_is(ctx, r, 3, true, 5, "SYNC-6", "3 changes, hasMore true, toVersion 5 (one remains)");
out:
	eb_sync_response_free(r);
}

static void f_resync_sync(ebc_ctx *ctx)
{
	char store[160];
	eb_http_resp resp;
	eb_error_body *b = NULL;

	memset(&resp, 0, sizeof(resp));
	ebc_store(ctx, NULL, store, sizeof(store));
	if (!ebc_push_n(ctx, NULL, store, ebc_token(ctx), 3, 0, NULL, NULL, "SYNC-9"))
		goto out;
	if (!ebc_post_sync(ctx, NULL, store, ebc_token(ctx), "{\"lastKnownVersion\":8}", &resp))
		goto out;
	if (!ebc_expect_error(ctx, &resp, 409, "RESYNC_REQUIRED", "SYNC-8", &b))
		goto out;
	if (!b->has_current_version || b->current_version != 3)
		ebc_fail(ctx, "SYNC-8", "currentVersion 3 in the error body",
			 "currentVersion %s%llu", b->has_current_version ? "" : "absent ",
			 (unsigned long long)b->current_version);
out:
	eb_error_body_free(b);
	eb_http_resp_clear(&resp);
}

/* A push with lastKnownVersion ahead applies nothing. */
static void f_resync_applies_nothing(ebc_ctx *ctx)
{
	char store[160], id[32];
	char *ch = NULL, *body = NULL;
	eb_http_resp resp;
	uint64_t v = 0;

	memset(&resp, 0, sizeof(resp));
	ebc_store(ctx, NULL, store, sizeof(store));
	if (!ebc_push_n(ctx, NULL, store, ebc_token(ctx), 2, 0, NULL, NULL, "SYNC-9"))
		goto out;
	ch = ebc_set_json(ebc_cid(ctx, id, sizeof(id)), ebc_now_ms(), "x", "1");
	body = ebc_body(5, (const char *const *)&ch, 1, -1);
	if (!ebc_post_sync(ctx, NULL, store, ebc_token(ctx), body, &resp))
		goto out;
	if (!ebc_expect_error(ctx, &resp, 409, "RESYNC_REQUIRED", "SYNC-8", NULL))
		goto out;
	if (!ebc_version(ctx, store, &v))
		goto out;
	if (v != 2)
		ebc_fail(ctx, "SYNC-8", "nothing applied: version stays 2", "version %llu",
			 (unsigned long long)v);
out:
	eb_http_resp_clear(&resp);
	free(ch);
	free(body);
}

static void f_resync_feed(ebc_ctx *ctx)
{
	char store[160];
	eb_http_resp resp;

	memset(&resp, 0, sizeof(resp));
	ebc_store(ctx, NULL, store, sizeof(store));
	if (!ebc_push_n(ctx, NULL, store, ebc_token(ctx), 2, 0, NULL, NULL, "SYNC-9"))
		goto out;
	if (!ebc_get_changes(ctx, NULL, store, ebc_token(ctx), "since=3", &resp))
		goto out;
	ebc_expect_error(ctx, &resp, 409, "RESYNC_REQUIRED", "FEED-4", NULL);
out:
	eb_http_resp_clear(&resp);
}

/* A store nobody wrote reads as version 0, and reading does not create it. */
static void f_unknown_store(ebc_ctx *ctx)
{
	char store[160];
	eb_sync_response *r = NULL;
	eb_http_resp resp;

	memset(&resp, 0, sizeof(resp));
	ebc_store(ctx, "never", store, sizeof(store));
	r = f_get(ctx, store, "since=0", "STORE-3");
	if (!r)
		goto out;
	if (r->current_version != 0 || r->n != 0 || r->has_more || r->to_version != 0) {
		ebc_fail(ctx, "STORE-3", "version 0, no changes", "currentVersion %llu, %zu changes",
			 (unsigned long long)r->current_version, r->n);
		goto out;
	}
	eb_sync_response_free(r);
	r = ebc_sync_ok(ctx, NULL, store, ebc_token(ctx), "{\"lastKnownVersion\":0}", "STORE-3");
	if (!r)
		goto out;
	if (r->current_version != 0 || r->n != 0) {
		ebc_fail(ctx, "STORE-3", "version 0 on sync", "currentVersion %llu",
			 (unsigned long long)r->current_version);
		goto out;
	}
	/* still version 0: since=1 is ahead of it */
	if (!ebc_get_changes(ctx, NULL, store, ebc_token(ctx), "since=1", &resp))
		goto out;
	ebc_expect_error(ctx, &resp, 409, "RESYNC_REQUIRED", "FEED-4", NULL);
out:
	eb_http_resp_clear(&resp);
	eb_sync_response_free(r);
}

/* One query that must give 400 INVALID_REQUEST. */
static bool f_bad_query(ebc_ctx *ctx, const char *store, const char *query, const char *rule)
{
	eb_http_resp resp;
	bool ok;

	if (!ebc_get_changes(ctx, NULL, store, ebc_token(ctx), query, &resp))
		return false;
	ok = ebc_expect_error(ctx, &resp, 400, "INVALID_REQUEST", rule, NULL);
	if (!ok)
		ebc_note(ctx, "query was: ?%s", query ? query : "(none)");
	eb_http_resp_clear(&resp);
	return ok;
}

static void f_queries(ebc_ctx *ctx, const char *const *qs, size_t n, const char *rule)
{
	char store[160];
	size_t i;

	ebc_store(ctx, NULL, store, sizeof(store));
	if (!ebc_push_n(ctx, NULL, store, ebc_token(ctx), 1, 0, NULL, NULL, "SYNC-9"))
		return;
	for (i = 0; i < n; i++)
		if (!f_bad_query(ctx, store, qs[i], rule))
			return;
}

static void f_since_missing(ebc_ctx *ctx)
{
	char store[160];
	const char *qs[] = { "limit=5", "since=", "since" };

	ebc_store(ctx, NULL, store, sizeof(store));
	if (!f_bad_query(ctx, store, NULL, "FEED-1"))
		return;
	f_queries(ctx, qs, 3, "FEED-1");
}

static void f_since_leading_zero(ebc_ctx *ctx)
{
	const char *qs[] = { "since=01", "since=00" };

	f_queries(ctx, qs, 2, "FEED-1");
}

static void f_since_sign(ebc_ctx *ctx)
{
	const char *qs[] = { "since=-1", "since=%2B1", "since=+1" };

	f_queries(ctx, qs, 3, "FEED-1");
}

static void f_since_not_integer(ebc_ctx *ctx)
{
	const char *qs[] = { "since=abc", "since=1.0", "since=1e2", "since=0x1", "since=%201" };

	f_queries(ctx, qs, 5, "FEED-1");
}

static void f_since_too_large(ebc_ctx *ctx)
{
	char store[160];
	const char *qs[] = { "since=9007199254740992", "since=99999999999999999999999" };
	eb_http_resp resp;

	memset(&resp, 0, sizeof(resp));
	f_queries(ctx, qs, 2, "FEED-1");
	if (ebc_done(ctx))
		return;
	/* 2^53-1 itself is valid syntax: ahead of the store, so 409 */
	ebc_store(ctx, NULL, store, sizeof(store));
	if (!ebc_get_changes(ctx, NULL, store, ebc_token(ctx), "since=9007199254740991", &resp))
		return;
	ebc_expect_error(ctx, &resp, 409, "RESYNC_REQUIRED", "FEED-1", NULL);
	eb_http_resp_clear(&resp);
}

static void f_param_twice(ebc_ctx *ctx)
{
	const char *qs[] = { "since=0&since=0", "since=0&limit=5&limit=5" };

	f_queries(ctx, qs, 2, "FEED-5");
}

static void f_unknown_param(ebc_ctx *ctx)
{
	char store[160];
	eb_sync_response *r = NULL;

	ebc_store(ctx, NULL, store, sizeof(store));
	if (!ebc_push_n(ctx, NULL, store, ebc_token(ctx), 2, 0, NULL, NULL, "SYNC-9"))
		return;
	r = f_get(ctx, store, "since=0&extension=1&x", "FEED-5");
	if (r && r->n != 2)
		ebc_fail(ctx, "FEED-5", "unknown parameters ignored: 2 changes", "%zu changes", r->n);
	eb_sync_response_free(r);
}

static void f_limit_bad(ebc_ctx *ctx)
{
	/* one over the ADVERTISED page maximum, which replaces 1000 (LIMIT-11) */
	unsigned long long max = ctx->run->limits.max_page_limit;
	char over[48], far[48];
	const char *qs[] = { "since=0&limit=0", over, "since=0&limit=-1",
			     "since=0&limit=01", "since=0&limit=", "since=0&limit=abc", far };

	snprintf(over, sizeof(over), "since=0&limit=%llu", max + 1);
	snprintf(far, sizeof(far), "since=0&limit=%llu", max * 100);
	f_queries(ctx, qs, 7, "LIMIT-7");
}

static void f_limit_edges_ok(ebc_ctx *ctx)
{
	char store[160];
	eb_sync_response *r = NULL;

	ebc_store(ctx, NULL, store, sizeof(store));
	if (!ebc_push_n(ctx, NULL, store, ebc_token(ctx), 3, 0, NULL, NULL, "SYNC-9"))
		goto out;
	r = f_get(ctx, store, "since=0&limit=1000", "LIMIT-9");
	if (!r)
		goto out;
	if (r->n != 3) {
		ebc_fail(ctx, "FEED-2", "3 changes with limit 1000", "%zu", r->n);
		goto out;
	}
	eb_sync_response_free(r);
	r = f_get(ctx, store, "since=0&limit=1", "FEED-2");
	if (!r)
		goto out;
	f_page_is(ctx, r, 1, true, 1, "SYNC-6", "1 change, hasMore true, toVersion 1");
out:
	eb_sync_response_free(r);
}

static void f_sync_limit_bad(ebc_ctx *ctx)
{
	char store[160], over[64];
	const char *bodies[] = { "{\"lastKnownVersion\":0,\"limit\":0}",
				 over,   /* one over the advertised maximum (LIMIT-11) */
				 "{\"lastKnownVersion\":0,\"limit\":-5}",
				 "{\"lastKnownVersion\":0,\"limit\":2.5}",
				 "{\"lastKnownVersion\":0,\"limit\":\"10\"}" };
	size_t i;

	snprintf(over, sizeof(over), "{\"lastKnownVersion\":0,\"limit\":%llu}",
		 (unsigned long long)ctx->run->limits.max_page_limit + 1);
	ebc_store(ctx, NULL, store, sizeof(store));
	if (!ebc_push_n(ctx, NULL, store, ebc_token(ctx), 1, 0, NULL, NULL, "SYNC-9"))
		return;
	for (i = 0; i < 5; i++) {
		eb_http_resp resp;
		bool ok;

		if (!ebc_post_sync(ctx, NULL, store, ebc_token(ctx), bodies[i], &resp))
			return;
		ok = ebc_expect_error(ctx, &resp, 400, "INVALID_REQUEST", "LIMIT-7", NULL);
		eb_http_resp_clear(&resp);
		if (!ok) {
			ebc_note(ctx, "body was %s", bodies[i]);
			return;
		}
	}
}

static void f_sync_limit_1000(ebc_ctx *ctx)
{
	char store[160];
	eb_sync_response *r = NULL;

	ebc_store(ctx, NULL, store, sizeof(store));
	if (!ebc_push_n(ctx, NULL, store, ebc_token(ctx), 2, 0, NULL, NULL, "SYNC-9"))
		return;
	r = ebc_sync_ok(ctx, NULL, store, ebc_token(ctx), "{\"lastKnownVersion\":0,\"limit\":1000}", "LIMIT-9");
	if (r && r->n != 2)
		ebc_fail(ctx, "SYNC-5", "2 changes", "%zu", r->n);
	eb_sync_response_free(r);
}

/* Both changes of a conflict (same path) are kept and returned. */
static void f_losers_returned(ebc_ctx *ctx)
{
	char store[160], a[256], b[256], i1[32], i2[32];
	const char *ch[1];
	char *body = NULL;
	eb_sync_response *r = NULL;
	eb_change *c = NULL;
	size_t n = 0;
	uint64_t now = ebc_now_ms();

	ebc_store(ctx, NULL, store, sizeof(store));
	/* the newer stamp first, the older (losing) one second */
	snprintf(a, sizeof(a), "{\"id\":\"%s\",\"timestamp\":%llu,\"operation\":\"set\",\"path\":[\"p\"],\"value\":\"new\"}",
		 ebc_cid(ctx, i1, sizeof(i1)), (unsigned long long)now);
	snprintf(b, sizeof(b), "{\"id\":\"%s\",\"timestamp\":%llu,\"operation\":\"set\",\"path\":[\"p\"],\"value\":\"old\"}",
		 ebc_cid(ctx, i2, sizeof(i2)), (unsigned long long)(now - 60000));
	ch[0] = a;
	body = ebc_body(0, ch, 1, -1);
	r = ebc_sync_ok(ctx, NULL, store, ebc_token(ctx), body, "SYNC-9");
	free(body);
	eb_sync_response_free(r);
	if (!r)
		return;
	ch[0] = b;
	body = ebc_body(1, ch, 1, -1);
	r = ebc_sync_ok(ctx, NULL, store, ebc_token(ctx), body, "MERGE-6");
	if (!r)
		goto out;
	if (!ebc_read_all(ctx, NULL, store, ebc_token(ctx), 0, 0, false, &c, &n, NULL))
		goto out;
	if (n != 2 || strcmp(c[1].id, i2) != 0)
		ebc_fail(ctx, "FEED-6", "both changes, the older-stamped one at version 2",
			 "%zu changes", n);
out:
	ebc_changes_free(c, n);
	eb_sync_response_free(r);
	free(body);
}

static void f_response_shape(ebc_ctx *ctx)
{
	char store[160];
	eb_http_resp resp;
	cJSON *j = NULL;
	const char *members[] = { "currentVersion", "changes", "toVersion", "hasMore" };
	size_t i;

	memset(&resp, 0, sizeof(resp));
	ebc_store(ctx, NULL, store, sizeof(store));
	if (!ebc_push_n(ctx, NULL, store, ebc_token(ctx), 2, 0, NULL, NULL, "SYNC-9"))
		goto out;
	for (i = 0; i < 2; i++) {
		eb_sync_response *r;
		cJSON *chs, *it;

		eb_http_resp_clear(&resp);
		if (i == 0 && !ebc_get_changes(ctx, NULL, store, ebc_token(ctx), "since=0", &resp))
			goto out;
		if (i == 1 && !ebc_post_sync(ctx, NULL, store, ebc_token(ctx), "{\"lastKnownVersion\":0}", &resp))
			goto out;
		r = ebc_expect_ok(ctx, &resp, "SYNC-4");
		eb_sync_response_free(r);
		if (!r)
			goto out;
		if (eb_json_parse(resp.body, resp.body_len, EB_JSON_MAX_DEPTH, &j, NULL) != EB_OK ||
		    !cJSON_IsObject(j)) {
			ebc_fail(ctx, "SYNC-4", "a JSON object", "%.200s", resp.body);
			goto out;
		}
		for (size_t m = 0; m < 4; m++)
			if (!cJSON_GetObjectItemCaseSensitive(j, members[m])) {
				ebc_fail(ctx, "SYNC-4", "currentVersion, changes, toVersion, hasMore",
					 "no member %s", members[m]);
				goto out;
			}
		chs = cJSON_GetObjectItemCaseSensitive(j, "changes");
		cJSON_ArrayForEach(it, chs) {
			if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(it, "version"))) {
				ebc_fail(ctx, "VER-6", "every change carries its version", "a change without version");
				goto out;
			}
		}
		cJSON_Delete(j);
		j = NULL;
	}
out:
	cJSON_Delete(j);
	eb_http_resp_clear(&resp);
}

const ebc_case ebc_cases_feed[] = {
	{ "feed/since-returns-later", "The feed returns exactly the changes after since",
	  "MUST", { "FEED-3", "SYNC-7" }, { "feed" }, 0, f_since_returns_later },
	{ "feed/ascending-order", "The feed lists changes in ascending version order",
	  "MUST", { "FEED-3" }, { "feed" }, 0, f_ascending_order },
	{ "feed/since-current-empty", "since = current version gives an empty last page",
	  "MUST", { "FEED-3", "SYNC-7" }, { "feed" }, 0, f_since_current_empty },
	{ "feed/response-shape", "Feed and sync answer the SYNC-4 shape with versions and JSON content type",
	  "MUST", { "SYNC-4", "FEED-3", "VER-6", "GEN-2" }, { "feed" }, 0, f_response_shape },
	{ "sync/own-changes-omitted", "A sync response leaves out the changes the request pushed",
	  "MUST", { "SYNC-5", "SYNC-7" }, { "sync" }, 0, f_own_changes_omitted },
	{ "sync/own-duplicates-omitted", "A re-pushed (duplicate) change is not echoed back",
	  "MUST", { "SYNC-5", "IDEM-2" }, { "sync" }, 0, f_own_duplicates_omitted },
	{ "sync/returns-after-last-known", "Sync returns the changes above lastKnownVersion",
	  "MUST", { "SYNC-5" }, { "sync" }, 0, f_sync_returns_after_lkv },
	{ "feed/pagination-no-gap", "Feed pages (limit 7) hold 25 changes once each, hasMore/toVersion right",
	  "MUST", { "SYNC-10", "SYNC-6", "SYNC-7", "FEED-3" }, { "feed", "pagination" }, 0, f_paginate_feed },
	{ "sync/pagination-no-gap", "Sync pages (limit 4) hold every change once",
	  "MUST", { "SYNC-10", "SYNC-6", "SYNC-7" }, { "sync", "pagination" }, 0, f_paginate_sync },
	{ "feed/pagination-default-limit", "1234 changes read with the default page size (1000)",
	  "MUST", { "SYNC-10", "SYNC-6", "FEED-2" }, { "feed", "pagination" }, 0, f_paginate_default_limit },
	{ "feed/last-page-exact-limit", "A page that takes exactly what remains has hasMore false",
	  "MUST", { "SYNC-7", "SYNC-6" }, { "feed", "pagination" }, 0, f_last_page_exact },
	{ "sync/resync-required", "lastKnownVersion ahead of the store: 409 RESYNC_REQUIRED with currentVersion",
	  "MUST", { "SYNC-8" }, { "sync" }, 0, f_resync_sync },
	{ "sync/resync-applies-nothing", "A push with lastKnownVersion ahead applies nothing",
	  "MUST", { "SYNC-8", "ERR-7" }, { "sync" }, 0, f_resync_applies_nothing },
	{ "feed/resync-required", "since ahead of the store: 409 RESYNC_REQUIRED",
	  "MUST", { "FEED-4" }, { "feed" }, 0, f_resync_feed },
	{ "feed/unknown-store-version-0", "A store nobody wrote reads as version 0 and is not created",
	  "MUST", { "STORE-3", "FEED-4" }, { "feed", "stores" }, 0, f_unknown_store },
	{ "feed/since-missing", "A missing or empty since is 400 INVALID_REQUEST",
	  "MUST", { "FEED-1" }, { "feed", "syntax" }, 0, f_since_missing },
	{ "feed/since-leading-zero", "since with a leading zero is 400",
	  "MUST", { "FEED-1" }, { "feed", "syntax" }, 0, f_since_leading_zero },
	{ "feed/since-sign", "since with a sign is 400",
	  "MUST", { "FEED-1" }, { "feed", "syntax" }, 0, f_since_sign },
	{ "feed/since-not-integer", "since that is not a decimal integer is 400",
	  "MUST", { "FEED-1" }, { "feed", "syntax" }, 0, f_since_not_integer },
	{ "feed/since-too-large", "since above 2^53-1 is 400; 2^53-1 itself is 409",
	  "MUST", { "FEED-1", "GEN-5" }, { "feed", "syntax" }, 0, f_since_too_large },
	{ "feed/param-twice", "A query parameter given twice is 400",
	  "MUST", { "FEED-5" }, { "feed", "syntax" }, 0, f_param_twice },
	{ "feed/unknown-param-ignored", "Unknown query parameters are ignored",
	  "MUST", { "FEED-5" }, { "feed", "syntax" }, 0, f_unknown_param },
	{ "feed/limit-out-of-range", "limit 0, 1001, signed, leading zero or not a number is 400, never clamped",
	  "MUST", { "LIMIT-7", "FEED-2" }, { "feed", "syntax" }, 0, f_limit_bad },
	{ "feed/limit-edges-accepted", "limit 1000 and 1 are accepted and honoured",
	  "MUST", { "LIMIT-9", "FEED-2", "SYNC-6" }, { "feed", "syntax" }, 0, f_limit_edges_ok },
	{ "sync/limit-out-of-range", "A sync limit outside 1-1000 (or not an integer) is 400",
	  "MUST", { "LIMIT-7", "SYNC-1" }, { "sync", "syntax" }, 0, f_sync_limit_bad },
	{ "sync/limit-1000-accepted", "A sync limit of 1000 is accepted",
	  "MUST", { "LIMIT-9", "SYNC-1" }, { "sync", "syntax" }, 0, f_sync_limit_1000 },
	{ "feed/losers-returned", "Both changes of a conflict are stored and returned",
	  "MUST", { "FEED-6", "MERGE-6" }, { "feed" }, 0, f_losers_returned },
};
const size_t ebc_cases_feed_n = sizeof(ebc_cases_feed) / sizeof(ebc_cases_feed[0]);
