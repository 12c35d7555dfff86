/*
 * idempotency.c — IDEM-*: replays, duplicates, conflicting reuse of change
 * ids across and within requests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ebc.h"

/* POSTs body and expects 409 CHANGE_ID_CONFLICT naming index idx. */
static bool i_expect_conflict(ebc_ctx *ctx, const char *store, const char *body,
			      long idx, const char *rule)
{
	eb_http_resp resp;
	eb_error_body *b = NULL;
	char field[64];
	bool ok = false;

	if (!ebc_post_sync(ctx, NULL, store, ebc_token(ctx), body, &resp))
		return false;
	if (!ebc_expect_error(ctx, &resp, 409, "CHANGE_ID_CONFLICT", rule, &b))
		goto out;
	snprintf(field, sizeof(field), "changes[%ld].id", idx);
	if (!ebc_expect_problem(ctx, b, idx, field, NULL, rule))
		goto out;
	ok = true;
out:
	eb_error_body_free(b);
	eb_http_resp_clear(&resp);
	return ok;
}

static bool i_expect_version(ebc_ctx *ctx, const char *store, uint64_t want, const char *rule)
{
	uint64_t v = 0;

	if (!ebc_version(ctx, store, &v))
		return false;
	if (v != want) {
		ebc_fail(ctx, rule, "the store unchanged by the rejected request",
			 "version %llu, expected %llu", (unsigned long long)v, (unsigned long long)want);
		return false;
	}
	return true;
}

static void i_replay_batch(ebc_ctx *ctx)
{
	char store[160], ids[3][32];
	char *ch[3] = { NULL, NULL, NULL }, *body = NULL;
	eb_sync_response *r = NULL;
	eb_change *c = NULL;
	size_t n = 0, i;

	ebc_store(ctx, NULL, store, sizeof(store));
	for (i = 0; i < 3; i++)
		ch[i] = ebc_set_json(ebc_cid(ctx, ids[i], sizeof(ids[i])), ebc_now_ms() - 100 + i, ids[i], "[1,2]");
	body = ebc_body(0, (const char *const *)ch, 3, -1);
	r = ebc_sync_ok(ctx, NULL, store, ebc_token(ctx), body, "SYNC-9");
	if (!r)
		goto out;
	for (i = 0; i < 2; i++) {
		eb_sync_response_free(r);
		r = ebc_sync_ok(ctx, NULL, store, ebc_token(ctx), body, "IDEM-5");
		if (!r)
			goto out;
		if (r->current_version != 3) {
			ebc_fail(ctx, "IDEM-5", "the replay commits nothing: version stays 3",
				 "currentVersion %llu after replay %zu", (unsigned long long)r->current_version, i + 1);
			goto out;
		}
	}
	if (!ebc_read_all(ctx, NULL, store, ebc_token(ctx), 0, 0, false, &c, &n, NULL))
		goto out;
	if (n != 3)
		ebc_fail(ctx, "IDEM-5", "3 changes stored once", "%zu changes", n);
out:
	ebc_changes_free(c, n);
	eb_sync_response_free(r);
	for (i = 0; i < 3; i++)
		free(ch[i]);
	free(body);
}

/* [duplicate of A, new B]: only B takes a version. */
static void i_duplicate_mixed(ebc_ctx *ctx)
{
	char store[160], ia[32], ib[32];
	char *ch[2] = { NULL, NULL }, *body = NULL;
	eb_sync_response *r = NULL;
	eb_change *c = NULL;
	size_t n = 0;
	uint64_t ts = ebc_now_ms() - 50;

	ebc_store(ctx, NULL, store, sizeof(store));
	ch[0] = ebc_set_json(ebc_cid(ctx, ia, sizeof(ia)), ts, "a", "{\"v\":\"a\"}");
	body = ebc_body(0, (const char *const *)ch, 1, -1);
	r = ebc_sync_ok(ctx, NULL, store, ebc_token(ctx), body, "SYNC-9");
	free(body);
	body = NULL;
	if (!r)
		goto out;
	eb_sync_response_free(r);
	ch[1] = ebc_set_json(ebc_cid(ctx, ib, sizeof(ib)), ts, "b", "{\"v\":\"b\"}");
	body = ebc_body(1, (const char *const *)ch, 2, -1);
	r = ebc_sync_ok(ctx, NULL, store, ebc_token(ctx), body, "IDEM-2");
	if (!r)
		goto out;
	if (r->current_version != 2) {
		ebc_fail(ctx, "IDEM-2", "version 2: only the new change commits",
			 "currentVersion %llu", (unsigned long long)r->current_version);
		goto out;
	}
	if (!ebc_read_all(ctx, NULL, store, ebc_token(ctx), 0, 0, false, &c, &n, NULL))
		goto out;
	if (n != 2 || strcmp(c[0].id, ia) != 0 || strcmp(c[1].id, ib) != 0)
		ebc_fail(ctx, "IDEM-2", "A at version 1, B at version 2", "%zu changes", n);
out:
	ebc_changes_free(c, n);
	eb_sync_response_free(r);
	free(ch[0]);
	free(ch[1]);
	free(body);
}

/* Same id, same content written with other member order and spacing. */
static void i_canonical_duplicate(ebc_ctx *ctx)
{
	char store[160], id[32], a[256], b[256];
	const char *ch[1];
	char *body = NULL;
	eb_sync_response *r = NULL;

	ebc_store(ctx, NULL, store, sizeof(store));
	ebc_cid(ctx, id, sizeof(id));
	snprintf(a, sizeof(a), "{\"id\":\"%s\",\"timestamp\":1000,\"operation\":\"set\",\"path\":[\"a\"],"
		 "\"value\":{\"x\":1,\"y\":[true,null]}}", id);
	snprintf(b, sizeof(b), "{ \"value\" : { \"y\" : [ true , null ] , \"x\" : 1.0 } , \"path\" : [ \"a\" ],"
		 " \"operation\":\"set\", \"timestamp\": 1000, \"id\": \"%s\" }", id);
	ch[0] = a;
	body = ebc_body(0, ch, 1, -1);
	r = ebc_sync_ok(ctx, NULL, store, ebc_token(ctx), body, "SYNC-9");
	free(body);
	body = NULL;
	if (!r)
		goto out;
	eb_sync_response_free(r);
	ch[0] = b;
	body = ebc_body(1, ch, 1, -1);
	r = ebc_sync_ok(ctx, NULL, store, ebc_token(ctx), body, "IDEM-2");
	if (!r)
		goto out;
	if (r->current_version != 1)
		ebc_fail(ctx, "IDEM-2", "a canonically equal change is a duplicate: version stays 1",
			 "currentVersion %llu", (unsigned long long)r->current_version);
out:
	eb_sync_response_free(r);
	free(body);
}

/* Pushes A, then `other` (same id) and expects a conflict at index idx with
 * the store unchanged. prefix: raw changes placed before `other`. */
static void i_conflict(ebc_ctx *ctx, const char *value_a, const char *other_fmt, bool with_new_first)
{
	char store[160], id[32], nid[32], a[512], o[512], nw[256];
	const char *ch[2];
	char *body = NULL;
	eb_sync_response *r = NULL;
	size_t n = 0;

	ebc_store(ctx, NULL, store, sizeof(store));
	ebc_cid(ctx, id, sizeof(id));
	snprintf(a, sizeof(a), "{\"id\":\"%s\",\"timestamp\":2000,\"operation\":\"set\",\"path\":[\"a\"],\"value\":%s}",
		 id, value_a);
	ch[0] = a;
	body = ebc_body(0, ch, 1, -1);
	r = ebc_sync_ok(ctx, NULL, store, ebc_token(ctx), body, "SYNC-9");
	free(body);
	body = NULL;
	eb_sync_response_free(r);
	if (!r)
		return;
	ebc_subst(o, sizeof(o), other_fmt, id);
	if (with_new_first) {
		snprintf(nw, sizeof(nw), "{\"id\":\"%s\",\"timestamp\":2000,\"operation\":\"set\",\"path\":[\"b\"],\"value\":1}",
			 ebc_cid(ctx, nid, sizeof(nid)));
		ch[n++] = nw;
	}
	ch[n++] = o;
	body = ebc_body(1, ch, n, -1);
	if (i_expect_conflict(ctx, store, body, (long)n - 1, "IDEM-3"))
		i_expect_version(ctx, store, 1, "ERR-7");
	free(body);
}

static void i_conflict_value(ebc_ctx *ctx)
{
	i_conflict(ctx, "\"first\"",
		   "{\"id\":\"%s\",\"timestamp\":2000,\"operation\":\"set\",\"path\":[\"a\"],\"value\":\"second\"}", false);
}

static void i_conflict_index_named(ebc_ctx *ctx)
{
	i_conflict(ctx, "1",
		   "{\"id\":\"%s\",\"timestamp\":2000,\"operation\":\"set\",\"path\":[\"a\"],\"value\":2}", true);
}

static void i_conflict_timestamp(ebc_ctx *ctx)
{
	i_conflict(ctx, "1",
		   "{\"id\":\"%s\",\"timestamp\":2001,\"operation\":\"set\",\"path\":[\"a\"],\"value\":1}", false);
}

static void i_conflict_operation(ebc_ctx *ctx)
{
	i_conflict(ctx, "1",
		   "{\"id\":\"%s\",\"timestamp\":2000,\"operation\":\"delete\",\"path\":[\"a\"]}", false);
}

static void i_conflict_path(ebc_ctx *ctx)
{
	i_conflict(ctx, "1",
		   "{\"id\":\"%s\",\"timestamp\":2000,\"operation\":\"set\",\"path\":[\"a\",\"b\"],\"value\":1}", false);
}

/* Two changes with one id in one request. */
static void i_internal(ebc_ctx *ctx, bool same)
{
	char store[160], id[32], first[32], a[256], b[256], f[256];
	const char *ch[3];
	char *body = NULL;
	eb_sync_response *r = NULL;

	ebc_store(ctx, NULL, store, sizeof(store));
	ebc_cid(ctx, id, sizeof(id));
	snprintf(f, sizeof(f), "{\"id\":\"%s\",\"timestamp\":3000,\"operation\":\"set\",\"path\":[\"f\"],\"value\":0}",
		 ebc_cid(ctx, first, sizeof(first)));
	snprintf(a, sizeof(a), "{\"id\":\"%s\",\"timestamp\":3000,\"operation\":\"set\",\"path\":[\"a\"],\"value\":1}", id);
	snprintf(b, sizeof(b), "{\"id\":\"%s\",\"timestamp\":3000,\"operation\":\"set\",\"path\":[\"a\"],\"value\":%d}",
		 id, same ? 1 : 2);
	ch[0] = f;
	ch[1] = a;
	ch[2] = b;
	body = ebc_body(0, ch, 3, -1);
	if (same) {
		r = ebc_sync_ok(ctx, NULL, store, ebc_token(ctx), body, "IDEM-4");
		if (r && r->current_version != 2)
			ebc_fail(ctx, "IDEM-4", "the later equal change is a duplicate: version 2",
				 "currentVersion %llu", (unsigned long long)r->current_version);
	} else if (i_expect_conflict(ctx, store, body, 2, "IDEM-4")) {
		i_expect_version(ctx, store, 0, "SYNC-2");
	}
	eb_sync_response_free(r);
	free(body);
}

static void i_internal_conflict(ebc_ctx *ctx)
{
	i_internal(ctx, false);
}

static void i_internal_duplicate(ebc_ctx *ctx)
{
	i_internal(ctx, true);
}

/* The id space is per store: the same id in another store is a new change. */
static void i_ids_per_store(ebc_ctx *ctx)
{
	char s1[160], s2[160], id[32];
	char *ch = NULL, *body = NULL, *ch2 = NULL, *body2 = NULL;
	eb_sync_response *r = NULL;

	ebc_store(ctx, NULL, s1, sizeof(s1));
	ebc_store(ctx, NULL, s2, sizeof(s2));
	ebc_cid(ctx, id, sizeof(id));
	ch = ebc_set_json(id, 4000, "a", "1");
	ch2 = ebc_set_json(id, 4000, "a", "2");
	body = ebc_body(0, (const char *const *)&ch, 1, -1);
	body2 = ebc_body(0, (const char *const *)&ch2, 1, -1);
	r = ebc_sync_ok(ctx, NULL, s1, ebc_token(ctx), body, "SYNC-9");
	eb_sync_response_free(r);
	if (!r)
		goto out;
	r = ebc_sync_ok(ctx, NULL, s2, ebc_token(ctx), body2, "IDEM-1");
	if (r && r->current_version != 1)
		ebc_fail(ctx, "IDEM-1", "version 1 in the other store", "currentVersion %llu",
			 (unsigned long long)r->current_version);
	eb_sync_response_free(r);
out:
	free(ch);
	free(ch2);
	free(body);
	free(body2);
}

const ebc_case ebc_cases_idempotency[] = {
	{ "idempotency/replay-batch", "Replaying a whole successful request commits nothing",
	  "MUST", { "IDEM-5", "IDEM-2" }, { "idempotency" }, 0, i_replay_batch },
	{ "idempotency/duplicate-mixed-with-new", "In [duplicate, new] only the new change takes a version",
	  "MUST", { "IDEM-2", "VER-4" }, { "idempotency" }, 0, i_duplicate_mixed },
	{ "idempotency/canonical-duplicate", "Member order, spacing and 1 vs 1.0 do not make a change different",
	  "MUST", { "IDEM-2" }, { "idempotency" }, 0, i_canonical_duplicate },
	{ "idempotency/conflict-other-value", "Same id with another value: 409 CHANGE_ID_CONFLICT at changes[0].id",
	  "MUST", { "IDEM-3", "ERR-2", "ERR-7" }, { "idempotency" }, 0, i_conflict_value },
	{ "idempotency/conflict-index-named", "The conflict names the index of the change (changes[1].id); nothing applied",
	  "MUST", { "IDEM-3", "ERR-2", "SYNC-2" }, { "idempotency" }, 0, i_conflict_index_named },
	{ "idempotency/conflict-other-timestamp", "Same id with another timestamp is a conflict",
	  "MUST", { "IDEM-3" }, { "idempotency" }, 0, i_conflict_timestamp },
	{ "idempotency/conflict-other-operation", "Same id with another operation is a conflict",
	  "MUST", { "IDEM-3" }, { "idempotency" }, 0, i_conflict_operation },
	{ "idempotency/conflict-other-path", "Same id with another path is a conflict",
	  "MUST", { "IDEM-3" }, { "idempotency" }, 0, i_conflict_path },
	{ "idempotency/internal-conflict", "One id twice with different content in one request: 409 naming the later index",
	  "MUST", { "IDEM-4", "SYNC-2" }, { "idempotency" }, 0, i_internal_conflict },
	{ "idempotency/internal-duplicate", "One id twice with equal content in one request: the later is a duplicate",
	  "MUST", { "IDEM-4", "IDEM-2" }, { "idempotency" }, 0, i_internal_duplicate },
	{ "idempotency/ids-per-store", "A change id is unique within its store only",
	  "MUST", { "IDEM-1" }, { "idempotency" }, 0, i_ids_per_store },
};
const size_t ebc_cases_idempotency_n = sizeof(ebc_cases_idempotency) / sizeof(ebc_cases_idempotency[0]);
