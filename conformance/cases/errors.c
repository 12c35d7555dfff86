/*
 * errors.c — section 7: routes and methods (404, 405 + Allow), media type
 * (415), store id syntax (STORE-1), and the fixed order of checks (ERR-3):
 * each case breaks two rules at once and expects the earlier check's answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ebc.h"

/* For oversized bodies: lets a server refuse before the body is sent
 * instead of closing on a client that is still writing. */
static const eb_http_header e_expect100[1] = { { "Expect", "100-continue" } };

static bool e_expect(ebc_ctx *ctx, const char *method, const char *path, const char *token,
		     const char *ctype, const char *body, size_t len, long status,
		     const char *code, const char *rule, eb_http_resp *keep)
{
	eb_http_resp resp;
	bool ok;
	bool big = len > ctx->run->limits.max_body_bytes;

	if (!ebc_req(ctx, NULL, method, path, token, ctype, body, len, big ? e_expect100 : NULL,
		     big ? 1 : 0, 0, &resp))
		return false;
	ok = ebc_expect_error(ctx, &resp, status, code, rule, NULL);
	if (!ok)
		ebc_note(ctx, "request was %s %s", method, path);
	if (keep && ok)
		*keep = resp;
	else
		eb_http_resp_clear(&resp);
	return ok;
}

static void e_not_found(ebc_ctx *ctx)
{
	const char *paths[] = { "/api/nope", "/api/stores", "/api/stores/x", "/api/stores/x/other",
				"/api/stores/x/sync/more", "/api/sync" };
	size_t i;

	for (i = 0; i < 6; i++)
		if (!e_expect(ctx, "GET", paths[i], ebc_token(ctx), NULL, NULL, 0, 404, "NOT_FOUND", "ERR-1", NULL))
			return;
}

static bool e_allow(ebc_ctx *ctx, const char *method, const char *path, const char *must)
{
	eb_http_resp resp;
	char allow[256];
	bool ok = false;

	memset(&resp, 0, sizeof(resp));
	if (!e_expect(ctx, method, path, ebc_token(ctx), NULL, method[0] == 'P' ? "{}" : NULL,
		      method[0] == 'P' ? 2 : 0, 405, "METHOD_NOT_ALLOWED", "ERR-5", &resp))
		return false;
	if (!eb_http_resp_header(&resp, "Allow", allow, sizeof(allow)) || !strstr(allow, must)) {
		ebc_fail(ctx, "ERR-5", "an Allow header listing the route's methods",
			 "%s %s: Allow %s", method, path,
			 eb_http_resp_header(&resp, "Allow", allow, sizeof(allow)) ? allow : "absent");
		goto out;
	}
	ok = true;
out:
	eb_http_resp_clear(&resp);
	return ok;
}

static void e_method_not_allowed(ebc_ctx *ctx)
{
	char store[160], p1[256], p2[256];

	ebc_store(ctx, NULL, store, sizeof(store));
	snprintf(p1, sizeof(p1), "/api/stores/%s/sync", store);
	snprintf(p2, sizeof(p2), "/api/stores/%s/changes", store);
	if (!e_allow(ctx, "GET", p1, "POST"))
		return;
	if (!e_allow(ctx, "PUT", p1, "POST"))
		return;
	if (!e_allow(ctx, "DELETE", p2, "GET"))
		return;
	e_allow(ctx, "POST", p2, "GET");
}

static void e_unsupported_media(ebc_ctx *ctx)
{
	char store[160], path[256];
	const char *types[] = { "text/plain", "application/x-www-form-urlencoded", "application/xml" };
	const char *body = "{\"lastKnownVersion\":0}";
	size_t i;

	ebc_store(ctx, NULL, store, sizeof(store));
	snprintf(path, sizeof(path), "/api/stores/%s/sync", store);
	for (i = 0; i < 3; i++)
		if (!e_expect(ctx, "POST", path, ebc_token(ctx), types[i], body, strlen(body), 415,
			      "UNSUPPORTED_MEDIA_TYPE", "ERR-3", NULL))
			return;
}

static void e_json_charset_ok(ebc_ctx *ctx)
{
	char store[160], path[256];
	const char *body = "{\"lastKnownVersion\":0}";
	eb_http_resp resp;
	eb_sync_response *r;

	ebc_store(ctx, NULL, store, sizeof(store));
	snprintf(path, sizeof(path), "/api/stores/%s/sync", store);
	if (!ebc_req(ctx, NULL, "POST", path, ebc_token(ctx), "application/json; charset=utf-8",
		     body, strlen(body), NULL, 0, 0, &resp))
		return;
	r = ebc_expect_ok(ctx, &resp, "GEN-1");
	eb_sync_response_free(r);
	eb_http_resp_clear(&resp);
}

static void e_invalid_store_id(ebc_ctx *ctx)
{
	char long_id[200], path[400];
	const char *ids[] = { "bad!id", "sp%20ace", "caf%C3%A9", "star*", "dollar$", long_id };
	size_t i;

	memset(long_id, 'x', 129);
	long_id[129] = '\0';
	for (i = 0; i < 6; i++) {
		snprintf(path, sizeof(path), "/api/stores/%s/sync", ids[i]);
		if (!e_expect(ctx, "POST", path, ebc_token(ctx), NULL, "{\"lastKnownVersion\":0}", 22, 400,
			      "INVALID_STORE_ID", "STORE-1", NULL))
			return;
		snprintf(path, sizeof(path), "/api/stores/%s/changes?since=0", ids[i]);
		if (!e_expect(ctx, "GET", path, ebc_token(ctx), NULL, NULL, 0, 400,
			      "INVALID_STORE_ID", "STORE-1", NULL))
			return;
	}
}

/* A 128-character id of every allowed character class is valid. */
static void e_store_id_at_limit(ebc_ctx *ctx)
{
	char store[200], pat[200];
	const char *read[1], *write[1];
	char *tok = NULL;
	size_t k;
	eb_sync_response *r = NULL;

	snprintf(store, sizeof(store), "%sAZaz09._:-", ctx->store_prefix);
	for (k = strlen(store); k < 128; k++)
		store[k] = 'q';
	store[128] = '\0';
	snprintf(pat, sizeof(pat), "%s", store);
	read[0] = pat;
	write[0] = pat;
	tok = ebc_token_perm(ctx, read, 1, write, 1);
	if (!tok)
		return;
	r = ebc_sync_ok(ctx, NULL, store, tok, "{\"lastKnownVersion\":0}", "STORE-1");
	eb_sync_response_free(r);
	free(tok);
}

/* ---- ERR-3: two faults, the earlier check answers -------------------------- */

static void o_route_before_auth(ebc_ctx *ctx)
{
	char store[160], path[256];

	if (!e_expect(ctx, "GET", "/api/nope", NULL, NULL, NULL, 0, 404, "NOT_FOUND", "ERR-3", NULL))
		return;
	ebc_store(ctx, NULL, store, sizeof(store));
	snprintf(path, sizeof(path), "/api/stores/%s/sync", store);
	e_expect(ctx, "GET", path, NULL, NULL, NULL, 0, 405, "METHOD_NOT_ALLOWED", "ERR-3", NULL);
}

static void o_auth_before_json(ebc_ctx *ctx)
{
	char store[160], path[256];

	ebc_store(ctx, NULL, store, sizeof(store));
	snprintf(path, sizeof(path), "/api/stores/%s/sync", store);
	if (!e_expect(ctx, "POST", path, NULL, NULL, "{not json", 9, 401, "UNAUTHORIZED", "ERR-3", NULL))
		return;
	e_expect(ctx, "POST", path, "not-a-token", NULL, "{\"lastKnownVersion\":-1}", 23, 401,
		 "UNAUTHORIZED", "ERR-3", NULL);
}

static void o_auth_before_store_id(ebc_ctx *ctx)
{
	e_expect(ctx, "GET", "/api/stores/bad!id/changes?since=0", NULL, NULL, NULL, 0, 401,
		 "UNAUTHORIZED", "ERR-3", NULL);
}

static void o_store_id_before_permission(ebc_ctx *ctx)
{
	const char *other[1] = { "nothing-here-*" };
	char *tok = ebc_token_perm(ctx, other, 1, NULL, 0);

	if (!tok)
		return;
	e_expect(ctx, "POST", "/api/stores/bad!id/sync", tok, NULL, "{\"lastKnownVersion\":0}", 22,
		 400, "INVALID_STORE_ID", "ERR-3", NULL);
	free(tok);
}

static void o_permission_before_media(ebc_ctx *ctx)
{
	char store[160], path[256];
	const char *other[1] = { "nothing-here-*" };
	char *tok = ebc_token_perm(ctx, other, 1, NULL, 0);

	if (!tok)
		return;
	ebc_store(ctx, NULL, store, sizeof(store));
	snprintf(path, sizeof(path), "/api/stores/%s/sync", store);
	e_expect(ctx, "POST", path, tok, "text/plain", "x", 1, 403, "FORBIDDEN", "ERR-3", NULL);
	free(tok);
}

/* POSTs a body of fill bytes 10 over the size limit with content type ctype
 * to a sync and expects status and code (ERR-3: which check answers first). */
static void o_oversize_body(ebc_ctx *ctx, char fill, const char *ctype, long status, const char *code)
{
	char store[160], path[256];
	size_t n = ctx->run->limits.max_body_bytes + 10;
	char *big = malloc(n);

	if (!big) {
		ebc_error(ctx, "out of memory");
		return;
	}
	memset(big, fill, n);
	ebc_store(ctx, NULL, store, sizeof(store));
	snprintf(path, sizeof(path), "/api/stores/%s/sync", store);
	e_expect(ctx, "POST", path, ebc_token(ctx), ctype, big, n, status, code, "ERR-3", NULL);
	free(big);
}

static void o_media_before_size(ebc_ctx *ctx)
{
	o_oversize_body(ctx, ' ', "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE");
}

static void o_size_before_json(ebc_ctx *ctx)
{
	o_oversize_body(ctx, '[', NULL, 413, "PAYLOAD_TOO_LARGE");
}

static void o_json_before_shape(ebc_ctx *ctx)
{
	char store[160], path[256];
	const char *body = "{\"changes\":1,\"changes\":2}";

	ebc_store(ctx, NULL, store, sizeof(store));
	snprintf(path, sizeof(path), "/api/stores/%s/sync", store);
	e_expect(ctx, "POST", path, ebc_token(ctx), NULL, body, strlen(body), 400, "INVALID_JSON", "ERR-3", NULL);
}

/* body with the given changes; expects status/code and exactly one entry at idx. */
static void o_changes(ebc_ctx *ctx, uint64_t lkv, const char *const *ch, size_t n, long status,
		      const char *code, long idx, bool push_first)
{
	char store[160];
	char *body = ebc_body(lkv, ch, n, -1);
	eb_http_resp resp;
	eb_error_body *b = NULL;

	memset(&resp, 0, sizeof(resp));
	ebc_store(ctx, NULL, store, sizeof(store));
	if (!body) {
		ebc_error(ctx, "out of memory");
		return;
	}
	if (push_first && !ebc_push_n(ctx, NULL, store, ebc_token(ctx), 1, 0, NULL, NULL, "SYNC-9"))
		goto out;
	if (!ebc_post_sync(ctx, NULL, store, ebc_token(ctx), body, &resp))
		goto out;
	if (!ebc_expect_error(ctx, &resp, status, code, "ERR-3", &b))
		goto out;
	if (idx >= 0 && (!b->has_errors || b->errors.n != 1 || b->errors.items[0].index != idx))
		ebc_fail(ctx, "ERR-3", "only the errors of the first failing check",
			 "%zu errors entries, first index %ld", b->errors.n,
			 b->errors.n ? b->errors.items[0].index : -1L);
out:
	eb_error_body_free(b);
	eb_http_resp_clear(&resp);
	free(body);
}

/* The over-limit changes of the order cases are sized from the ADVERTISED
 * limits (the defaults when none are advertised): a server MAY allow more
 * (section 8), and a violation of the default can be legal there. */

/* The change built in b, which it takes; NULL after ebc_error. Caller frees. */
static char *o_change_text(ebc_ctx *ctx, eb_buf *b)
{
	char *out = eb_buf_take(b, NULL);

	if (!out)
		ebc_error(ctx, "out of memory");
	return out;
}

/* A set change whose id is one byte over the change-id limit (LIMIT-5).
 * NULL after ebc_error. Caller frees. */
static char *o_long_id_change(ebc_ctx *ctx)
{
	size_t want = (size_t)ctx->run->limits.max_change_id_bytes + 1, k;
	char id[32];
	eb_buf b = { 0 };

	ebc_cid(ctx, id, sizeof(id));
	eb_buf_fmt(&b, "{\"id\":\"%s", id);
	for (k = strlen(id); k < want; k++)
		eb_buf_put(&b, "L", 1);
	eb_buf_str(&b, "\",\"timestamp\":1,\"operation\":\"set\",\"path\":[\"a\"],\"value\":1}");
	return o_change_text(ctx, &b);
}

/* A set change with a path segment one byte over the segment limit
 * (LIMIT-3). NULL after ebc_error. Caller frees. */
static char *o_long_segment_change(ebc_ctx *ctx)
{
	size_t want = (size_t)ctx->run->limits.max_path_segment_bytes + 1, k;
	char id[32];
	eb_buf b = { 0 };

	eb_buf_fmt(&b, "{\"id\":\"%s\",\"timestamp\":1,\"operation\":\"set\",\"path\":[\"",
		   ebc_cid(ctx, id, sizeof(id)));
	for (k = 0; k < want; k++)
		eb_buf_put(&b, "S", 1);
	eb_buf_str(&b, "\"],\"value\":1}");
	return o_change_text(ctx, &b);
}

/* A set change whose path has one segment more than the limit (LIMIT-3).
 * NULL after ebc_error. Caller frees. */
static char *o_many_segments_change(ebc_ctx *ctx)
{
	size_t want = (size_t)ctx->run->limits.max_path_segments + 1, k;
	char id[32];
	eb_buf b = { 0 };

	eb_buf_fmt(&b, "{\"id\":\"%s\",\"timestamp\":1,\"operation\":\"set\",\"path\":[",
		   ebc_cid(ctx, id, sizeof(id)));
	for (k = 0; k < want; k++)
		eb_buf_fmt(&b, "%s\"%zu\"", k ? "," : "", k + 1);
	eb_buf_str(&b, "],\"value\":1}");
	return o_change_text(ctx, &b);
}

static void o_shape_before_limits(ebc_ctx *ctx)
{
	char c1[256], id[32];
	char *c0 = o_long_id_change(ctx);
	const char *ch[2] = { c0, c1 };

	/* change 0 breaks a limit (an id one byte too long), change 1 the shape */
	if (!c0)
		return;
	snprintf(c1, sizeof(c1), "{\"id\":\"%s\",\"timestamp\":1,\"operation\":\"bogus\",\"path\":[\"a\"],\"value\":1}",
		 ebc_cid(ctx, id, sizeof(id)));
	o_changes(ctx, 0, ch, 2, 400, "INVALID_REQUEST", 1, false);
	free(c0);
}

static void o_limits_before_timestamp(ebc_ctx *ctx)
{
	char c0[256], id[32];
	char *c1 = NULL;
	const char *ch[2];

	snprintf(c0, sizeof(c0), "{\"id\":\"%s\",\"timestamp\":%llu,\"operation\":\"set\",\"path\":[\"a\"],\"value\":1}",
		 ebc_cid(ctx, id, sizeof(id)),
		 (unsigned long long)(ebc_now_ms() + ctx->run->limits.timestamp_skew_ms + 3600000ULL));
	/* change 1: a segment one byte over the advertised limit */
	c1 = o_long_segment_change(ctx);
	if (!c1)
		return;
	ch[0] = c0;
	ch[1] = c1;
	o_changes(ctx, 0, ch, 2, 422, "LIMIT_EXCEEDED", 1, false);
	free(c1);
}

static void o_batch_size_first(ebc_ctx *ctx)
{
	size_t n = ctx->run->limits.max_changes_per_request + 1, i;
	char **ch = calloc(n, sizeof(*ch));
	char store[160];
	char *body = NULL;
	eb_http_resp resp;
	eb_error_body *b = NULL;

	memset(&resp, 0, sizeof(resp));
	if (!ch) {
		ebc_error(ctx, "out of memory");
		return;
	}
	for (i = 0; i < n; i++) {
		char id[32];

		ebc_cid(ctx, id, sizeof(id));
		/* change 3 also breaks a per-change limit (one segment too many) */
		if (i == 3)
			ch[i] = o_many_segments_change(ctx);
		else
			ch[i] = ebc_set_json(id, 1, "k", "1");
		if (!ch[i]) {
			ebc_error(ctx, "out of memory");
			goto out;
		}
	}
	body = ebc_body(0, (const char *const *)ch, n, -1);
	ebc_store(ctx, NULL, store, sizeof(store));
	if (!body || !ebc_post_sync(ctx, NULL, store, ebc_token(ctx), body, &resp))
		goto out;
	if (!ebc_expect_error(ctx, &resp, 422, "LIMIT_EXCEEDED", "ERR-3", &b))
		goto out;
	if (!b->has_errors || b->errors.n != 1 || strcmp(b->errors.items[0].field, "changes") != 0)
		ebc_fail(ctx, "ERR-3", "only the batch-size error (field changes), checked before per-change limits",
			 "%zu entries, first field %s", b->errors.n, b->errors.n ? b->errors.items[0].field : "-");
out:
	eb_error_body_free(b);
	eb_http_resp_clear(&resp);
	for (i = 0; i < n; i++)
		free(ch[i]);
	free(ch);
	free(body);
}

static void o_timestamp_before_resync(ebc_ctx *ctx)
{
	char c0[256], id[32];
	const char *ch[1] = { c0 };

	snprintf(c0, sizeof(c0), "{\"id\":\"%s\",\"timestamp\":%llu,\"operation\":\"set\",\"path\":[\"a\"],\"value\":1}",
		 ebc_cid(ctx, id, sizeof(id)),
		 (unsigned long long)(ebc_now_ms() + ctx->run->limits.timestamp_skew_ms + 3600000ULL));
	o_changes(ctx, 50, ch, 1, 422, "TIMESTAMP_IN_FUTURE", 0, true);
}

static void o_resync_before_conflict(ebc_ctx *ctx)
{
	char store[160], id[32], a[256], b2[256];
	const char *ch[1];
	char *body = NULL;
	eb_sync_response *r = NULL;
	eb_http_resp resp;

	memset(&resp, 0, sizeof(resp));
	ebc_store(ctx, NULL, store, sizeof(store));
	ebc_cid(ctx, id, sizeof(id));
	snprintf(a, sizeof(a), "{\"id\":\"%s\",\"timestamp\":1,\"operation\":\"set\",\"path\":[\"a\"],\"value\":1}", id);
	snprintf(b2, sizeof(b2), "{\"id\":\"%s\",\"timestamp\":1,\"operation\":\"set\",\"path\":[\"a\"],\"value\":2}", id);
	ch[0] = a;
	body = ebc_body(0, ch, 1, -1);
	r = ebc_sync_ok(ctx, NULL, store, ebc_token(ctx), body, "SYNC-9");
	free(body);
	body = NULL;
	if (!r)
		goto out;
	ch[0] = b2;
	body = ebc_body(9, ch, 1, -1);
	if (!ebc_post_sync(ctx, NULL, store, ebc_token(ctx), body, &resp))
		goto out;
	ebc_expect_error(ctx, &resp, 409, "RESYNC_REQUIRED", "ERR-3", NULL);
out:
	eb_http_resp_clear(&resp);
	eb_sync_response_free(r);
	free(body);
}

const ebc_case ebc_cases_errors[] = {
	{ "errors/not-found", "Unknown routes are 404 NOT_FOUND with an error body",
	  "MUST", { "ERR-1", "ERR-3" }, { "errors" }, 0, e_not_found },
	{ "errors/method-not-allowed", "Wrong methods are 405 with an Allow header",
	  "MUST", { "ERR-5", "ERR-1" }, { "errors" }, 0, e_method_not_allowed },
	{ "errors/unsupported-media-type", "A POST body that is not application/json is 415",
	  "MUST", { "ERR-3", "ERR-1" }, { "errors" }, 0, e_unsupported_media },
	{ "errors/json-with-charset-accepted", "application/json; charset=utf-8 is accepted",
	  "MUST", { "GEN-1" }, { "errors" }, 0, e_json_charset_ok },
	{ "errors/invalid-store-id", "Store ids outside [A-Za-z0-9._:-] or over 128 bytes are 400 INVALID_STORE_ID",
	  "MUST", { "STORE-1" }, { "errors", "stores" }, 0, e_invalid_store_id },
	{ "errors/store-id-at-limit", "A 128-character store id of every allowed class is valid",
	  "MUST", { "STORE-1", "LIMIT-9" }, { "errors", "stores" }, 0, e_store_id_at_limit },
	{ "errors/order-route-before-auth", "404/405 come before authentication",
	  "MUST", { "ERR-3" }, { "errors", "order" }, EBC_F_AUTH, o_route_before_auth },
	{ "errors/order-auth-before-json", "No or bad token plus a bad body is 401, not 400",
	  "MUST", { "ERR-3", "AUTH-1" }, { "errors", "order" }, EBC_F_AUTH, o_auth_before_json },
	{ "errors/order-auth-before-store-id", "No token plus a bad store id is 401",
	  "MUST", { "ERR-3" }, { "errors", "order" }, EBC_F_AUTH, o_auth_before_store_id },
	{ "errors/order-store-id-before-permission", "A bad store id with a token lacking permission is 400 INVALID_STORE_ID",
	  "MUST", { "ERR-3" }, { "errors", "order" }, EBC_F_AUTH, o_store_id_before_permission },
	{ "errors/order-permission-before-media-type", "Missing permission plus a wrong media type is 403",
	  "MUST", { "ERR-3" }, { "errors", "order" }, EBC_F_AUTH, o_permission_before_media },
	{ "errors/order-media-type-before-size", "A wrong media type plus an oversized body is 415",
	  "MUST", { "ERR-3" }, { "errors", "order" }, 0, o_media_before_size },
	{ "errors/order-size-before-json", "An oversized body that is not JSON is 413",
	  "MUST", { "ERR-3", "LIMIT-1" }, { "errors", "order" }, 0, o_size_before_json },
	{ "errors/order-json-before-shape", "Duplicate keys plus a wrong shape is INVALID_JSON",
	  "MUST", { "ERR-3", "GEN-6" }, { "errors", "order" }, 0, o_json_before_shape },
	{ "errors/order-shape-before-limits", "A shape error in change 1 and a limit error in change 0: only the shape error",
	  "MUST", { "ERR-3", "ERR-2" }, { "errors", "order" }, 0, o_shape_before_limits },
	{ "errors/order-limits-before-timestamps", "A future timestamp in change 0 and a limit error in change 1: 422 LIMIT_EXCEEDED",
	  "MUST", { "ERR-3" }, { "errors", "order" }, 0, o_limits_before_timestamp },
	{ "errors/order-batch-size-first", "501 changes with a per-change limit error: only the batch-size error",
	  "MUST", { "ERR-3", "LIMIT-2" }, { "errors", "order" }, 0, o_batch_size_first },
	{ "errors/order-timestamp-before-resync", "A future timestamp with lastKnownVersion ahead is 422 TIMESTAMP_IN_FUTURE",
	  "MUST", { "ERR-3", "TS-2" }, { "errors", "order" }, 0, o_timestamp_before_resync },
	{ "errors/order-resync-before-conflict", "lastKnownVersion ahead plus an id conflict is 409 RESYNC_REQUIRED",
	  "MUST", { "ERR-3", "SYNC-8" }, { "errors", "order" }, 0, o_resync_before_conflict },
};
const size_t ebc_cases_errors_n = sizeof(ebc_cases_errors) / sizeof(ebc_cases_errors[0]);
