/*
 * versioning.c — VER, STORE, TS and CHG-9 cases: dense versions, one version
 * per change, none for duplicates or rejected changes, concurrent writers,
 * content preserved exactly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eb_json.h"
#include "../ebc.h"

/* First change of a new store takes version 1 and the store appears. */
static void v_first_change(ebc_ctx *ctx)
{
	char store[160];
	eb_sync_response *r = NULL;
	eb_change *c = NULL;
	size_t n = 0;
	uint64_t cur = 0;

	ebc_store(ctx, NULL, store, sizeof(store));
	if (!ebc_push_n(ctx, NULL, store, ebc_token(ctx), 1, 0, NULL, &r, "STORE-2"))
		goto out;
	if (r->current_version != 1) {
		ebc_fail(ctx, "VER-2", "currentVersion 1 after the first change of a new store",
			 "currentVersion %llu", (unsigned long long)r->current_version);
		goto out;
	}
	if (!ebc_read_all(ctx, NULL, store, ebc_token(ctx), 0, 0, false, &c, &n, &cur))
		goto out;
	if (n != 1 || c[0].version != 1) {
		ebc_fail(ctx, "VER-2", "one change with version 1",
			 "%zu changes, first version %llu", n, n ? (unsigned long long)c[0].version : 0ULL);
		goto out;
	}
out:
	ebc_changes_free(c, n);
	eb_sync_response_free(r);
}

/* One request with several changes: each takes previous + 1 in array order. */
static void v_dense_after_batch(ebc_ctx *ctx)
{
	char store[160], ids[5][32];
	eb_sync_response *r = NULL;
	eb_change *c = NULL;
	size_t n = 0, i;

	ebc_store(ctx, NULL, store, sizeof(store));
	if (!ebc_push_n(ctx, NULL, store, ebc_token(ctx), 2, 0, NULL, NULL, "SYNC-9"))
		goto out;
	if (!ebc_push_n(ctx, NULL, store, ebc_token(ctx), 5, 2, ids, &r, "SYNC-9"))
		goto out;
	if (r->current_version != 7) {
		ebc_fail(ctx, "VER-2", "currentVersion 7 after 2 + 5 changes",
			 "currentVersion %llu", (unsigned long long)r->current_version);
		goto out;
	}
	if (!ebc_read_all(ctx, NULL, store, ebc_token(ctx), 0, 0, false, &c, &n, NULL))
		goto out;
	if (n != 7) {
		ebc_fail(ctx, "VER-2", "7 changes in the feed", "%zu changes", n);
		goto out;
	}
	if (!ebc_check_dense(ctx, c, n, 0, "VER-2"))
		goto out;
	for (i = 0; i < 5; i++) {
		if (strcmp(c[2 + i].id, ids[i]) != 0) {
			ebc_fail(ctx, "SYNC-3", "the batch's changes in array order",
				 "version %zu holds %s, expected %s", 3 + i, c[2 + i].id, ids[i]);
			goto out;
		}
	}
out:
	ebc_changes_free(c, n);
	eb_sync_response_free(r);
}

/* Several requests: versions stay dense and currentVersion counts changes. */
static void v_version_per_change(ebc_ctx *ctx)
{
	char store[160];
	eb_sync_response *r = NULL;
	uint64_t v = 0;
	size_t k;

	ebc_store(ctx, NULL, store, sizeof(store));
	for (k = 1; k <= 4; k++) {
		if (!ebc_push_n(ctx, NULL, store, ebc_token(ctx), k, v, NULL, &r, "SYNC-9"))
			goto out;
		if (r->current_version != v + k) {
			ebc_fail(ctx, "VER-2", "the version grows by the number of changes committed",
				 "after pushing %zu changes at version %llu: currentVersion %llu",
				 k, (unsigned long long)v, (unsigned long long)r->current_version);
			goto out;
		}
		v = r->current_version;
		eb_sync_response_free(r);
		r = NULL;
	}
out:
	eb_sync_response_free(r);
}

/* A replayed change (same id, same content) takes no version. */
static void v_duplicate_no_version(ebc_ctx *ctx)
{
	char store[160], id[32];
	char *ch = NULL, *body = NULL;
	eb_sync_response *r = NULL;
	eb_change *c = NULL;
	size_t n = 0;
	uint64_t ts = ebc_now_ms() - 5000;

	ebc_store(ctx, NULL, store, sizeof(store));
	ebc_cid(ctx, id, sizeof(id));
	ch = ebc_set_json(id, ts, "a", "{\"x\":1}");
	body = ebc_body(0, (const char *const *)&ch, 1, -1);
	r = ebc_sync_ok(ctx, NULL, store, ebc_token(ctx), body, "SYNC-9");
	if (!r)
		goto out;
	eb_sync_response_free(r);
	r = ebc_sync_ok(ctx, NULL, store, ebc_token(ctx), body, "IDEM-2");
	if (!r)
		goto out;
	if (r->current_version != 1) {
		ebc_fail(ctx, "VER-4", "currentVersion stays 1 after a duplicate",
			 "currentVersion %llu", (unsigned long long)r->current_version);
		goto out;
	}
	if (!ebc_read_all(ctx, NULL, store, ebc_token(ctx), 0, 0, false, &c, &n, NULL))
		goto out;
	if (n != 1) {
		ebc_fail(ctx, "IDEM-2", "the change stored once", "%zu changes in the feed", n);
		goto out;
	}
out:
	ebc_changes_free(c, n);
	eb_sync_response_free(r);
	free(ch);
	free(body);
}

/* A rejected batch takes no version and the next change gets previous + 1. */
static void v_rejected_no_version(ebc_ctx *ctx)
{
	char store[160], id[32], id2[32];
	char *ch[2] = { NULL, NULL }, *body = NULL;
	eb_http_resp resp;
	eb_sync_response *r = NULL;
	eb_change *c = NULL;
	size_t n = 0;

	memset(&resp, 0, sizeof(resp));
	ebc_store(ctx, NULL, store, sizeof(store));
	if (!ebc_push_n(ctx, NULL, store, ebc_token(ctx), 2, 0, NULL, NULL, "SYNC-9"))
		goto out;
	ch[0] = ebc_set_json(ebc_cid(ctx, id, sizeof(id)), ebc_now_ms(), "a", "1");
	ch[1] = strdup("{\"id\":\"bad\",\"timestamp\":1,\"operation\":\"nope\",\"path\":[\"a\"],\"value\":1}");
	body = ebc_body(2, (const char *const *)ch, 2, -1);
	if (!ch[0] || !ch[1] || !body) {
		ebc_error(ctx, "out of memory");
		goto out;
	}
	if (!ebc_post_sync(ctx, NULL, store, ebc_token(ctx), body, &resp))
		goto out;
	if (!ebc_expect_error(ctx, &resp, 400, "INVALID_REQUEST", "CHG-3", NULL))
		goto out;
	if (!ebc_push_n(ctx, NULL, store, ebc_token(ctx), 1, 2, NULL, &r, "SYNC-9"))
		goto out;
	(void)id2;
	if (r->current_version != 3) {
		ebc_fail(ctx, "VER-4", "version 3 after 2 changes, a rejected batch and 1 change",
			 "currentVersion %llu", (unsigned long long)r->current_version);
		goto out;
	}
	if (!ebc_read_all(ctx, NULL, store, ebc_token(ctx), 0, 0, false, &c, &n, NULL))
		goto out;
	if (n != 3) {
		ebc_fail(ctx, "VER-4", "3 changes", "%zu changes", n);
		goto out;
	}
	ebc_check_dense(ctx, c, n, 0, "VER-2");
out:
	eb_http_resp_clear(&resp);
	ebc_changes_free(c, n);
	eb_sync_response_free(r);
	free(ch[0]);
	free(ch[1]);
	free(body);
}

/* Syncs without changes (absent and empty array) keep the version. */
static void v_no_change_keeps_version(ebc_ctx *ctx)
{
	char store[160];
	const char *bodies[] = { "{\"lastKnownVersion\":3}",
				 "{\"lastKnownVersion\":3,\"changes\":[]}",
				 "{\"lastKnownVersion\":0}" };
	eb_sync_response *r = NULL;
	size_t i;

	ebc_store(ctx, NULL, store, sizeof(store));
	if (!ebc_push_n(ctx, NULL, store, ebc_token(ctx), 3, 0, NULL, NULL, "SYNC-9"))
		goto out;
	for (i = 0; i < 6; i++) {
		r = ebc_sync_ok(ctx, NULL, store, ebc_token(ctx), bodies[i % 3], "SYNC-9");
		if (!r)
			goto out;
		if (r->current_version != 3) {
			ebc_fail(ctx, "VER-5", "currentVersion 3 after syncs without changes",
				 "currentVersion %llu after %s (request %zu)",
				 (unsigned long long)r->current_version, bodies[i % 3], i + 1);
			goto out;
		}
		eb_sync_response_free(r);
		r = NULL;
	}
out:
	eb_sync_response_free(r);
}

/* Concurrent writers on separate connections. */
typedef struct v_writer {
	ebc_ctx *ctx;
	const char *store;
	const char *token;
	int rounds;
	bool ok;
	char ids[10][2][32];
} v_writer;

static void *v_writer_run(void *arg)
{
	v_writer *w = arg;
	eb_http *h = ebc_http_new(w->ctx);
	int i;

	w->ok = false;
	if (!h)
		return NULL;
	for (i = 0; i < w->rounds; i++) {
		if (ebc_done(w->ctx))
			break;
		if (!ebc_push_n(w->ctx, h, w->store, w->token, 2, 0, w->ids[i], NULL, "VER-3"))
			break;
	}
	w->ok = i == w->rounds;
	eb_http_free(h);
	return NULL;
}

static void v_concurrent_writers(ebc_ctx *ctx)
{
	char store[160];
	v_writer w[4];
	eb_change *c = NULL;
	size_t n = 0, i, j, k;
	const char *tok;

	ebc_store(ctx, NULL, store, sizeof(store));
	tok = ebc_token(ctx);
	if (ebc_done(ctx))
		return;
	memset(w, 0, sizeof(w));
	for (i = 0; i < 4; i++) {
		w[i].ctx = ctx;
		w[i].store = store;
		w[i].token = tok;
		w[i].rounds = 10;
	}
	ebc_parallel(4, v_writer_run, w, sizeof(w[0]));
	if (ebc_done(ctx))
		goto out;
	if (!ebc_read_all(ctx, NULL, store, tok, 0, 0, false, &c, &n, NULL))
		goto out;
	if (n != 80) {
		ebc_fail(ctx, "VER-3", "80 changes from 4 writers x 10 requests x 2",
			 "%zu changes in the feed", n);
		goto out;
	}
	if (!ebc_check_dense(ctx, c, n, 0, "VER-3"))
		goto out;
	/* every pushed id exactly once; each request's pair adjacent and in order */
	for (i = 0; i < 4; i++) {
		for (j = 0; j < 10; j++) {
			for (k = 0; k < n; k++)
				if (strcmp(c[k].id, w[i].ids[j][0]) == 0)
					break;
			if (k + 1 >= n || strcmp(c[k + 1].id, w[i].ids[j][1]) != 0) {
				ebc_fail(ctx, "SYNC-3",
					 "the two changes of one request take consecutive versions",
					 "change %s (writer %zu) not followed by %s",
					 w[i].ids[j][0], i, w[i].ids[j][1]);
				goto out;
			}
		}
	}
out:
	ebc_changes_free(c, n);
}

/* Content returned exactly as pushed. */
static bool v_roundtrip(ebc_ctx *ctx, const char *const *changes, size_t nch,
			const char *rule)
{
	char store[160];
	char *body = ebc_body(0, changes, nch, -1);
	eb_sync_response *r = NULL;
	eb_change *c = NULL;
	size_t n = 0, i;
	bool ok = false;

	ebc_store(ctx, NULL, store, sizeof(store));
	r = ebc_sync_ok(ctx, NULL, store, ebc_token(ctx), body, "SYNC-9");
	if (!r)
		goto out;
	if (!ebc_read_all(ctx, NULL, store, ebc_token(ctx), 0, 0, false, &c, &n, NULL))
		goto out;
	if (n != nch) {
		ebc_fail(ctx, rule, "every pushed change in the feed", "%zu of %zu", n, nch);
		goto out;
	}
	for (i = 0; i < nch; i++) {
		cJSON *pj = NULL, *got = NULL;
		char *a = NULL, *b = NULL;
		eb_err err;
		bool same;

		eb_err_clear(&err);
		if (eb_json_parse(changes[i], strlen(changes[i]), EB_JSON_MAX_DEPTH, &pj, &err) != EB_OK) {
			ebc_error(ctx, "internal: bad case JSON %s", changes[i]);
			goto out;
		}
		cJSON_DeleteItemFromObject(pj, "version");
		got = eb_change_to_json(&c[i]);
		if (got)
			cJSON_DeleteItemFromObject(got, "version");
		same = got && eb_json_canon_equal(pj, got);
		if (!same) {
			eb_json_canonical(pj, &a, NULL);
			if (got)
				eb_json_canonical(got, &b, NULL);
			ebc_fail(ctx, rule, a ? a : "?", "%s", b ? b : "(unreadable)");
		}
		free(a);
		free(b);
		cJSON_Delete(pj);
		cJSON_Delete(got);
		if (!same)
			goto out;
	}
	ok = true;
out:
	ebc_changes_free(c, n);
	eb_sync_response_free(r);
	free(body);
	return ok;
}

static void v_timestamps_preserved(ebc_ctx *ctx)
{
	char a[512], b[512], c[512], d[512];
	char i1[32], i2[32], i3[32], i4[32];
	const char *ch[4] = { a, b, c, d };
	uint64_t now = ebc_now_ms();

	snprintf(a, sizeof(a), "{\"id\":\"%s\",\"timestamp\":%llu,\"operation\":\"set\",\"path\":[\"t\"],\"value\":1}",
		 ebc_cid(ctx, i1, sizeof(i1)), (unsigned long long)(now - 123457));
	snprintf(b, sizeof(b), "{\"id\":\"%s\",\"timestamp\":1640995200000,\"operation\":\"set\",\"path\":[\"t\"],\"value\":2}",
		 ebc_cid(ctx, i2, sizeof(i2)));
	snprintf(c, sizeof(c), "{\"id\":\"%s\",\"timestamp\":%llu,\"operation\":\"delete\",\"path\":[\"t\"]}",
		 ebc_cid(ctx, i3, sizeof(i3)), (unsigned long long)(now - 1));
	snprintf(d, sizeof(d), "{\"id\":\"%s\",\"timestamp\":7,\"operation\":\"set\",\"path\":[\"u\"],\"value\":3}",
		 ebc_cid(ctx, i4, sizeof(i4)));
	v_roundtrip(ctx, ch, 4, "TS-1");
}

static void v_values_preserved(ebc_ctx *ctx)
{
	static const char *const vals[] = {
		"null", "true", "false", "0", "9007199254740991", "-42", "1.5",
		"\"\"", "\"caf\\u00e9 \\u2603 \\ud83d\\ude00\"", "\"tab\\tquote\\\"back\\\\slash\"",
		"[]", "{}", "[1,[2,[3]],{\"a\":null}]",
		"{\"z\":1,\"a\":{\"y\":[true,false],\"b\":\"x\"}}",
	};
	char buf[14][512], ids[14][32];
	const char *ch[14];
	size_t i;

	for (i = 0; i < 14; i++) {
		snprintf(buf[i], sizeof(buf[i]), "{\"id\":\"%s\",\"timestamp\":%llu,\"operation\":\"set\","
			 "\"path\":[\"v\",\"%zu\"],\"value\":%s}", ebc_cid(ctx, ids[i], sizeof(ids[i])),
			 (unsigned long long)(ebc_now_ms() - 1000), i, vals[i]);
		ch[i] = buf[i];
	}
	v_roundtrip(ctx, ch, 14, "CHG-9");
}

static void v_paths_preserved(ebc_ctx *ctx)
{
	char buf[4][1024], ids[4][32];
	const char *ch[4];
	static const char *const paths[] = {
		"[\"a\"]",
		"[\"users\",\"user-456\",\"name\"]",
		"[\"\\u00fcber\",\"with space\",\"dot.and/slash\",\"\\\"q\\\"\"]",
		"[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\",\"12\",\"13\",\"14\",\"15\",\"16\"]",
	};
	size_t i;

	for (i = 0; i < 4; i++) {
		snprintf(buf[i], sizeof(buf[i]), "{\"id\":\"%s\",\"timestamp\":%llu,\"operation\":\"set\","
			 "\"path\":%s,\"value\":%zu}", ebc_cid(ctx, ids[i], sizeof(ids[i])),
			 (unsigned long long)(ebc_now_ms() - 1000), paths[i], i);
		ch[i] = buf[i];
	}
	v_roundtrip(ctx, ch, 4, "CHG-9");
}

static void v_ids_preserved(ebc_ctx *ctx)
{
	char buf[3][512];
	const char *ch[3];
	char p[32];

	snprintf(p, sizeof(p), "%s", ctx->run->prefix);
	snprintf(buf[0], sizeof(buf[0]), "{\"id\":\"%s-\\u00e9t\\u00e9 \\u2603\",\"timestamp\":5,\"operation\":\"set\",\"path\":[\"a\"],\"value\":1}", p);
	snprintf(buf[1], sizeof(buf[1]), "{\"id\":\"%s-with \\\"quotes\\\" and \\\\\",\"timestamp\":5,\"operation\":\"set\",\"path\":[\"a\"],\"value\":2}", p);
	snprintf(buf[2], sizeof(buf[2]), "{\"id\":\"%s-/slash:colon\",\"timestamp\":5,\"operation\":\"delete\",\"path\":[\"a\"]}", p);
	ch[0] = buf[0];
	ch[1] = buf[1];
	ch[2] = buf[2];
	v_roundtrip(ctx, ch, 3, "CHG-9");
}

/* A pushed "version" member is ignored. */
static void v_version_member_ignored(ebc_ctx *ctx)
{
	char store[160], id[32], ch[512];
	const char *chp = ch;
	char *body = NULL;
	eb_sync_response *r = NULL;
	eb_change *c = NULL;
	size_t n = 0;

	ebc_store(ctx, NULL, store, sizeof(store));
	snprintf(ch, sizeof(ch), "{\"id\":\"%s\",\"timestamp\":%llu,\"operation\":\"set\",\"path\":[\"a\"],"
		 "\"value\":1,\"version\":999}", ebc_cid(ctx, id, sizeof(id)),
		 (unsigned long long)ebc_now_ms());
	body = ebc_body(0, &chp, 1, -1);
	r = ebc_sync_ok(ctx, NULL, store, ebc_token(ctx), body, "CHG-8");
	if (!r)
		goto out;
	if (!ebc_read_all(ctx, NULL, store, ebc_token(ctx), 0, 0, false, &c, &n, NULL))
		goto out;
	if (n != 1 || c[0].version != 1) {
		ebc_fail(ctx, "CHG-8", "version 1 assigned by the server",
			 "%zu changes, version %llu", n, n ? (unsigned long long)c[0].version : 0ULL);
		goto out;
	}
out:
	ebc_changes_free(c, n);
	eb_sync_response_free(r);
	free(body);
}

/* Timestamps in the past, however old, are accepted. */
static void v_past_timestamps(ebc_ctx *ctx)
{
	char a[256], b[256], i1[32], i2[32];
	const char *ch[2] = { a, b };

	snprintf(a, sizeof(a), "{\"id\":\"%s\",\"timestamp\":0,\"operation\":\"set\",\"path\":[\"a\"],\"value\":1}",
		 ebc_cid(ctx, i1, sizeof(i1)));
	snprintf(b, sizeof(b), "{\"id\":\"%s\",\"timestamp\":1,\"operation\":\"set\",\"path\":[\"b\"],\"value\":2}",
		 ebc_cid(ctx, i2, sizeof(i2)));
	v_roundtrip(ctx, ch, 2, "TS-3");
}

/* Store ids differ by case. */
static void v_case_sensitive(ebc_ctx *ctx)
{
	char lo[160], up[160];
	eb_http_resp resp;
	eb_sync_response *r = NULL;
	size_t i;

	memset(&resp, 0, sizeof(resp));
	ebc_store(ctx, "abc", lo, sizeof(lo));
	snprintf(up, sizeof(up), "%s", lo);
	for (i = strlen(up) - 3; up[i]; i++)
		up[i] = (char)(up[i] - 'a' + 'A');
	if (!ebc_push_n(ctx, NULL, lo, ebc_token(ctx), 2, 0, NULL, NULL, "SYNC-9"))
		goto out;
	if (!ebc_get_changes(ctx, NULL, up, ebc_token(ctx), "since=0", &resp))
		goto out;
	r = ebc_expect_ok(ctx, &resp, "STORE-4");
	if (!r)
		goto out;
	if (r->current_version != 0 || r->n != 0) {
		ebc_fail(ctx, "STORE-4", "store ...-ABC empty while ...-abc holds 2 changes",
			 "%s has version %llu and %zu changes", up,
			 (unsigned long long)r->current_version, r->n);
		goto out;
	}
out:
	eb_http_resp_clear(&resp);
	eb_sync_response_free(r);
}

/* currentVersion covers the request's own commits (VER-7). */
static void v_current_version_covers_commit(ebc_ctx *ctx)
{
	char store[160];
	eb_sync_response *r = NULL;
	eb_http *other = NULL;
	uint64_t before = 0, v;

	ebc_store(ctx, NULL, store, sizeof(store));
	other = ebc_http_new(ctx);
	if (!other)
		goto out;
	if (!ebc_push_n(ctx, other, store, ebc_token(ctx), 3, 0, NULL, NULL, "SYNC-9"))
		goto out;
	if (!ebc_push_n(ctx, NULL, store, ebc_token(ctx), 2, 0, NULL, &r, "SYNC-9"))
		goto out;
	if (r->current_version != 5) {
		ebc_fail(ctx, "VER-7", "currentVersion 5 (3 earlier + 2 of this request)",
			 "currentVersion %llu", (unsigned long long)r->current_version);
		goto out;
	}
	if (r->n != 3) {
		ebc_fail(ctx, "SYNC-5", "the 3 changes of the other writer (versions 1-3)",
			 "%zu changes", r->n);
		goto out;
	}
	(void)before;
	if (!ebc_version(ctx, store, &v))
		goto out;
	if (v != 5)
		ebc_fail(ctx, "VER-7", "store version 5", "feed currentVersion %llu",
			 (unsigned long long)v);
out:
	eb_http_free(other);
	eb_sync_response_free(r);
}

const ebc_case ebc_cases_versioning[] = {
	{ "versioning/first-change-version-1", "The first change of a new store takes version 1 and creates the store",
	  "MUST", { "VER-2", "STORE-2", "VER-1", "VER-6" }, { "versions" }, 0, v_first_change },
	{ "versioning/dense-after-batch", "A batch takes dense versions in array order",
	  "MUST", { "VER-2", "SYNC-3", "VER-6" }, { "versions" }, 0, v_dense_after_batch },
	{ "versioning/version-per-change", "The version grows by one per committed change, not per request",
	  "MUST", { "VER-2", "VER-7" }, { "versions" }, 0, v_version_per_change },
	{ "versioning/duplicate-takes-no-version", "Replaying a change takes no version and stores nothing",
	  "MUST", { "VER-4", "IDEM-2" }, { "versions", "idempotency" }, 0, v_duplicate_no_version },
	{ "versioning/rejected-takes-no-version", "A rejected batch takes no version; the next change is previous + 1",
	  "MUST", { "VER-4", "VER-2", "ERR-7" }, { "versions" }, 0, v_rejected_no_version },
	{ "versioning/no-change-keeps-version", "Syncs without changes leave the version unchanged",
	  "MUST", { "VER-5" }, { "versions" }, 0, v_no_change_keeps_version },
	{ "versioning/concurrent-writers-dense", "4 writers on separate connections get dense, distinct versions",
	  "MUST", { "VER-3", "VER-2", "SYNC-3" }, { "versions", "concurrency" }, 0, v_concurrent_writers },
	{ "versioning/timestamps-preserved", "Timestamps are returned exactly as pushed",
	  "MUST", { "TS-1", "CHG-9" }, { "content" }, 0, v_timestamps_preserved },
	{ "versioning/values-preserved", "Values of every JSON kind are returned canonically equal",
	  "MUST", { "CHG-9", "CHG-5" }, { "content" }, 0, v_values_preserved },
	{ "versioning/paths-preserved", "Paths (unicode, escapes, 16 segments) are returned exactly",
	  "MUST", { "CHG-9" }, { "content" }, 0, v_paths_preserved },
	{ "versioning/ids-preserved", "Change ids with unicode and escapes are returned exactly",
	  "MUST", { "CHG-9", "CHG-1" }, { "content" }, 0, v_ids_preserved },
	{ "versioning/version-member-ignored", "A pushed version member is ignored; the server assigns",
	  "MUST", { "CHG-8", "VER-2" }, { "versions" }, 0, v_version_member_ignored },
	{ "versioning/past-timestamps-accepted", "Timestamps 0 and 1 are accepted and kept",
	  "MUST", { "TS-3", "TS-1" }, { "content" }, 0, v_past_timestamps },
	{ "versioning/store-ids-case-sensitive", "Store ids differing only in case are different stores",
	  "MUST", { "STORE-4" }, { "stores" }, 0, v_case_sensitive },
	{ "versioning/current-version-covers-commit", "currentVersion includes the request's own commits",
	  "MUST", { "VER-7", "SYNC-5" }, { "versions" }, 0, v_current_version_covers_commit },
};
const size_t ebc_cases_versioning_n = sizeof(ebc_cases_versioning) / sizeof(ebc_cases_versioning[0]);
