/*
 * limits.c — LIMIT-*: every limit of section 8 exactly at the limit
 * (accepted, LIMIT-9) and one past it (rejected with the right status, code
 * and field, nothing applied). Sizes follow the server's advertised limits
 * where it has GET /api/limits, else the protocol defaults.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eb_json.h"
#include "../ebc.h"

/* A change whose value is a JSON string of n bytes serialized (n-2 chars). */
static void l_string_value(eb_buf *b, size_t serialized)
{
	size_t i;

	eb_buf_put(b, "\"", 1);
	for (i = 0; i + 2 < serialized; i++)
		eb_buf_put(b, "x", 1);
	eb_buf_put(b, "\"", 1);
}

/* [valid, candidate]: want_ok -> 200 with version 2; else status/code with
 * one errors entry at index 1 (field checked when given) and version 0. */
static void l_check(ebc_ctx *ctx, const char *candidate, bool want_ok, long status,
		    const char *code, const char *field, const char *rule)
{
	char store[160], gid[32], good[256], fieldbuf[160];
	const char *ch[2] = { good, candidate };
	char *body = NULL;
	eb_http_resp resp;
	eb_error_body *b = NULL;
	uint64_t v = 99;

	memset(&resp, 0, sizeof(resp));
	if (!candidate) {
		ebc_error(ctx, "out of memory");
		return;
	}
	ebc_store(ctx, NULL, store, sizeof(store));
	snprintf(good, sizeof(good), "{\"id\":\"%s\",\"timestamp\":1000,\"operation\":\"set\",\"path\":[\"ok\"],\"value\":1}",
		 ebc_cid(ctx, gid, sizeof(gid)));
	body = ebc_body(0, ch, 2, -1);
	if (!body) {
		ebc_error(ctx, "out of memory");
		goto out;
	}
	if (!ebc_post_sync(ctx, NULL, store, ebc_token(ctx), body, &resp))
		goto out;
	if (want_ok) {
		eb_sync_response *r = ebc_expect_ok(ctx, &resp, "LIMIT-9");

		if (r && r->current_version != 2)
			ebc_fail(ctx, "LIMIT-9", "both changes committed (version 2)", "currentVersion %llu",
				 (unsigned long long)r->current_version);
		eb_sync_response_free(r);
		goto out;
	}
	if (!ebc_expect_error(ctx, &resp, status, code, rule, &b))
		goto out;
	if (field) {
		snprintf(fieldbuf, sizeof(fieldbuf), "changes[1].%s", field);
		if (!ebc_expect_problem(ctx, b, 1, fieldbuf, code, "ERR-2"))
			goto out;
	}
	if (!ebc_version(ctx, store, &v))
		goto out;
	if (v != 0)
		ebc_fail(ctx, "SYNC-2", "nothing applied (version 0)", "version %llu", (unsigned long long)v);
out:
	eb_error_body_free(b);
	eb_http_resp_clear(&resp);
	free(body);
}

static char *l_change_path(ebc_ctx *ctx, size_t segs, size_t seg_bytes, const char *unit)
{
	char id[32];
	eb_buf b = { 0 };
	size_t i, j, ul = strlen(unit);

	eb_buf_fmt(&b, "{\"id\":\"%s\",\"timestamp\":1000,\"operation\":\"set\",\"path\":[",
		       ebc_cid(ctx, id, sizeof(id)));
	for (i = 0; i < segs; i++) {
		eb_buf_put(&b, i ? ",\"" : "\"", i ? 2 : 1);
		for (j = 0; j + ul <= seg_bytes; j += ul)
			eb_buf_put(&b, unit, ul);
		eb_buf_put(&b, "\"", 1);
	}
	eb_buf_put(&b, "],\"value\":1}", 12);
	return b.oom ? (eb_buf_clear(&b), NULL) : b.p;
}

static void l_segments_at(ebc_ctx *ctx)
{
	char *c = l_change_path(ctx, ctx->run->limits.max_path_segments, 1, "s");

	l_check(ctx, c, true, 0, NULL, NULL, "LIMIT-3");
	free(c);
}

static void l_segments_over(ebc_ctx *ctx)
{
	char *c = l_change_path(ctx, ctx->run->limits.max_path_segments + 1, 1, "s");

	l_check(ctx, c, false, 422, "LIMIT_EXCEEDED", NULL, "LIMIT-3");
	free(c);
}

static void l_segment_bytes_at(ebc_ctx *ctx)
{
	char *c = l_change_path(ctx, 2, ctx->run->limits.max_path_segment_bytes, "b");

	l_check(ctx, c, true, 0, NULL, NULL, "LIMIT-3");
	free(c);
}

static void l_segment_bytes_over(ebc_ctx *ctx)
{
	char *c = l_change_path(ctx, 2, ctx->run->limits.max_path_segment_bytes + 1, "b");

	l_check(ctx, c, false, 422, "LIMIT_EXCEEDED", "path[0]", "LIMIT-3");
	free(c);
}

/* Multi-byte characters: the limit counts UTF-8 bytes, not characters. */
static void l_segment_utf8_bytes(ebc_ctx *ctx)
{
	unsigned max = ctx->run->limits.max_path_segment_bytes;
	char *c;

	if (max % 2) {
		ebc_skip(ctx, "the advertised segment limit (%u) is odd", max);
		return;
	}
	c = l_change_path(ctx, 1, max, "\xc3\xa9");
	l_check(ctx, c, true, 0, NULL, NULL, "LIMIT-3");
	free(c);
	if (ebc_done(ctx))
		return;
	c = l_change_path(ctx, 1, max + 2, "\xc3\xa9");
	l_check(ctx, c, false, 422, "LIMIT_EXCEEDED", "path[0]", "LIMIT-3");
	free(c);
}

static char *l_change_value_bytes(ebc_ctx *ctx, size_t serialized)
{
	char id[32];
	eb_buf b = { 0 };

	eb_buf_fmt(&b, "{\"id\":\"%s\",\"timestamp\":1000,\"operation\":\"set\",\"path\":[\"v\"],\"value\":",
		       ebc_cid(ctx, id, sizeof(id)));
	l_string_value(&b, serialized);
	eb_buf_put(&b, "}", 1);
	return b.oom ? (eb_buf_clear(&b), NULL) : b.p;
}

static void l_value_at(ebc_ctx *ctx)
{
	char *c = l_change_value_bytes(ctx, ctx->run->limits.max_value_bytes);

	l_check(ctx, c, true, 0, NULL, NULL, "LIMIT-4");
	free(c);
}

static void l_value_over(ebc_ctx *ctx)
{
	char *c = l_change_value_bytes(ctx, ctx->run->limits.max_value_bytes + 1);

	l_check(ctx, c, false, 422, "LIMIT_EXCEEDED", "value", "LIMIT-4");
	free(c);
}

/* Canonical size: the value is sent with whitespace that canonical form
 * drops, so only its canonical size counts (exactly at the limit). */
static void l_value_canonical_size(ebc_ctx *ctx)
{
	char id[32];
	eb_buf b = { 0 };
	size_t max = ctx->run->limits.max_value_bytes;

	/* {"a":"xxx"} canonical = 6 + string; pad with spaces inside */
	eb_buf_fmt(&b, "{\"id\":\"%s\",\"timestamp\":1000,\"operation\":\"set\",\"path\":[\"v\"],\"value\":{   \"a\"   :   ",
		       ebc_cid(ctx, id, sizeof(id)));
	l_string_value(&b, max - 6);
	eb_buf_put(&b, "   }}", 5);
	l_check(ctx, b.oom ? NULL : b.p, true, 0, NULL, NULL, "CHG-7");
	eb_buf_clear(&b);
}

static char *l_change_depth(ebc_ctx *ctx, unsigned depth)
{
	char id[32];
	eb_buf b = { 0 };
	unsigned i;

	eb_buf_fmt(&b, "{\"id\":\"%s\",\"timestamp\":1000,\"operation\":\"set\",\"path\":[\"d\"],\"value\":",
		       ebc_cid(ctx, id, sizeof(id)));
	for (i = 0; i < depth; i++)
		eb_buf_put(&b, i % 2 ? "{\"k\":" : "[", i % 2 ? 5 : 1);
	eb_buf_put(&b, "1", 1);
	for (i = depth; i-- > 0;)
		eb_buf_put(&b, i % 2 ? "}" : "]", 1);
	eb_buf_put(&b, "}", 1);
	return b.oom ? (eb_buf_clear(&b), NULL) : b.p;
}

static void l_depth_at(ebc_ctx *ctx)
{
	char *c = l_change_depth(ctx, ctx->run->limits.max_value_depth);

	l_check(ctx, c, true, 0, NULL, NULL, "LIMIT-4");
	free(c);
}

static void l_depth_over(ebc_ctx *ctx)
{
	char *c = l_change_depth(ctx, ctx->run->limits.max_value_depth + 1);

	l_check(ctx, c, false, 422, "LIMIT_EXCEEDED", "value", "LIMIT-4");
	free(c);
}

static char *l_change_id(ebc_ctx *ctx, size_t bytes)
{
	eb_buf b = { 0 };
	char id[32];
	size_t i, have;

	ebc_cid(ctx, id, sizeof(id));
	eb_buf_fmt(&b, "{\"id\":\"%s", id);
	have = strlen(id);
	for (i = have; i < bytes; i++)
		eb_buf_put(&b, "i", 1);
	eb_buf_fmt(&b, "\",\"timestamp\":1000,\"operation\":\"set\",\"path\":[\"i\"],\"value\":1}");
	return b.oom ? (eb_buf_clear(&b), NULL) : b.p;
}

static void l_id_at(ebc_ctx *ctx)
{
	char *c = l_change_id(ctx, ctx->run->limits.max_change_id_bytes);

	l_check(ctx, c, true, 0, NULL, NULL, "LIMIT-5");
	free(c);
}

static void l_id_over(ebc_ctx *ctx)
{
	char *c = l_change_id(ctx, ctx->run->limits.max_change_id_bytes + 1);

	l_check(ctx, c, false, 422, "LIMIT_EXCEEDED", "id", "LIMIT-5");
	free(c);
}

static void l_id_empty(ebc_ctx *ctx)
{
	l_check(ctx, "{\"id\":\"\",\"timestamp\":1000,\"operation\":\"set\",\"path\":[\"i\"],\"value\":1}",
		false, 400, "INVALID_REQUEST", NULL, "LIMIT-5");
}

/* A batch of n small changes. */
static char *l_batch(ebc_ctx *ctx, size_t n)
{
	eb_buf b = { 0 };
	size_t i;

	eb_buf_put(&b, "{\"lastKnownVersion\":0,\"changes\":[", 33);
	for (i = 0; i < n; i++) {
		char id[32];

		eb_buf_fmt(&b, "%s{\"id\":\"%s\",\"timestamp\":1000,\"operation\":\"set\",\"path\":[\"n\"],\"value\":%zu}",
			       i ? "," : "", ebc_cid(ctx, id, sizeof(id)), i);
	}
	eb_buf_put(&b, "]}", 2);
	return b.oom ? (eb_buf_clear(&b), NULL) : b.p;
}

static void l_batch_at(ebc_ctx *ctx)
{
	char store[160];
	size_t max = ctx->run->limits.max_changes_per_request;
	char *body = l_batch(ctx, max);
	eb_sync_response *r;

	ebc_store(ctx, NULL, store, sizeof(store));
	r = ebc_sync_ok(ctx, NULL, store, ebc_token(ctx), body, "LIMIT-9");
	if (r && r->current_version != max)
		ebc_fail(ctx, "LIMIT-9", "every change of a full batch committed",
			 "currentVersion %llu, expected %zu", (unsigned long long)r->current_version, max);
	eb_sync_response_free(r);
	free(body);
}

static void l_batch_over(ebc_ctx *ctx)
{
	char store[160];
	size_t max = ctx->run->limits.max_changes_per_request;
	char *body = l_batch(ctx, max + 1);
	eb_http_resp resp;
	eb_error_body *b = NULL;
	uint64_t v = 0;

	memset(&resp, 0, sizeof(resp));
	ebc_store(ctx, NULL, store, sizeof(store));
	if (!body || !ebc_post_sync(ctx, NULL, store, ebc_token(ctx), body, &resp))
		goto out;
	if (!ebc_expect_error(ctx, &resp, 422, "LIMIT_EXCEEDED", "LIMIT-2", &b))
		goto out;
	if (!b->has_errors || b->errors.n != 1 || strcmp(b->errors.items[0].field, "changes") != 0 ||
	    b->errors.items[0].index != -1) {
		ebc_fail(ctx, "ERR-2", "one errors entry with field \"changes\" and no index",
			 "%zu entries, first field %s index %ld", b->errors.n,
			 b->errors.n ? b->errors.items[0].field : "-",
			 b->errors.n ? b->errors.items[0].index : -1L);
		goto out;
	}
	if (ebc_version(ctx, store, &v) && v != 0)
		ebc_fail(ctx, "LIMIT-2", "nothing applied", "version %llu", (unsigned long long)v);
out:
	eb_error_body_free(b);
	eb_http_resp_clear(&resp);
	free(body);
}

/* A body of exactly `size` bytes holding real changes (padded with spaces
 * before the final brace), so a server that ignores the limit applies them. */
static char *l_body_of(ebc_ctx *ctx, size_t size)
{
	eb_buf b = { 0 };
	size_t chunk = ctx->run->limits.max_value_bytes - 1024;
	size_t i;

	eb_buf_put(&b, "{\"lastKnownVersion\":0,\"changes\":[", 33);
	for (i = 0; b.len + chunk + 300 < size && i < ctx->run->limits.max_changes_per_request; i++) {
		char id[32];

		eb_buf_fmt(&b, "%s{\"id\":\"%s\",\"timestamp\":1000,\"operation\":\"set\",\"path\":[\"b\",\"%zu\"],\"value\":",
			       i ? "," : "", ebc_cid(ctx, id, sizeof(id)), i);
		l_string_value(&b, chunk);
		eb_buf_put(&b, "}", 1);
	}
	eb_buf_put(&b, "]", 1);
	while (!b.oom && b.len + 1 < size)
		eb_buf_put(&b, " ", 1);
	eb_buf_put(&b, "}", 1);
	if (b.oom || b.len != size) {
		eb_buf_clear(&b);
		return NULL;
	}
	return b.p;
}

static const eb_http_header l_expect100[1] = { { "Expect", "100-continue" } };

static void l_body(ebc_ctx *ctx, bool over)
{
	char store[160], path[256];
	size_t size = ctx->run->limits.max_body_bytes + (over ? 1 : 0);
	char *body;
	eb_http_resp resp;
	uint64_t v = 0;

	memset(&resp, 0, sizeof(resp));
	if (ctx->run->limits.max_body_bytes > (64u << 20)) {
		ebc_skip(ctx, "the advertised body limit is above 64 MiB");
		return;
	}
	body = l_body_of(ctx, size);
	if (!body) {
		ebc_error(ctx, "cannot build a body of %zu bytes", size);
		return;
	}
	ebc_store(ctx, NULL, store, sizeof(store));
	snprintf(path, sizeof(path), "/api/stores/%s/sync", store);
	ebc_note(ctx, "sending a body of %zu bytes (limit %llu)", size,
		 (unsigned long long)ctx->run->limits.max_body_bytes);
	/* Expect: 100-continue lets a server refuse the oversized body before
	 * it is sent, instead of closing on a client that is still writing. */
	if (!ebc_req(ctx, NULL, "POST", path, ebc_token(ctx), NULL, body, size,
		     over ? l_expect100 : NULL, over ? 1 : 0, 0, &resp))
		goto out;
	if (!over) {
		eb_sync_response *r = ebc_expect_ok(ctx, &resp, "LIMIT-9");

		eb_sync_response_free(r);
		goto out;
	}
	if (!ebc_expect_error(ctx, &resp, 413, "PAYLOAD_TOO_LARGE", "LIMIT-1", NULL))
		goto out;
	if (ebc_version(ctx, store, &v) && v != 0)
		ebc_fail(ctx, "LIMIT-1", "the oversized body not applied", "version %llu",
			 (unsigned long long)v);
out:
	eb_http_resp_clear(&resp);
	free(body);
}

static void l_body_at(ebc_ctx *ctx)
{
	l_body(ctx, false);
}

static void l_body_over(ebc_ctx *ctx)
{
	l_body(ctx, true);
}

/* GET /api/limits: every member, sane values, no token needed. */
static void l_advertised(ebc_ctx *ctx)
{
	static const char *const members[] = {
		"maxBodyBytes", "maxChangesPerRequest", "maxPathSegments", "maxPathSegmentBytes",
		"maxValueBytes", "maxValueDepth", "maxChangeIdBytes", "maxFrameBytes", "maxPageLimit",
		"maxSubscriptionsPerSocket", "timestampSkewMs", "coalesceMs", NULL };
	static const char *const rate[] = { "httpPerSecond", "httpBurst", "wsPerSecond", "wsBurst", NULL };
	eb_http_resp resp;
	cJSON *j = NULL, *rl;
	size_t i;

	memset(&resp, 0, sizeof(resp));
	if (!ebc_req(ctx, NULL, "GET", "/api/limits", NULL, NULL, NULL, 0, NULL, 0, 0, &resp))
		goto out;
	if (resp.status == 404) {
		/* not offered: the defaults of section 8 hold (LIMIT-10 "where offered") */
		ebc_skip(ctx, "GET /api/limits answers 404: not offered, the suite uses the defaults of section 8");
		goto out;
	}
	if (resp.status != 200) {
		ebc_fail(ctx, "LIMIT-10", "200 without a token", "status %ld", resp.status);
		goto out;
	}
	if (eb_json_parse(resp.body, resp.body_len, EB_JSON_MAX_DEPTH, &j, NULL) != EB_OK ||
	    !cJSON_IsObject(j)) {
		ebc_fail(ctx, "LIMIT-10", "a JSON object", "%.200s", resp.body);
		goto out;
	}
	for (i = 0; members[i]; i++) {
		cJSON *m = cJSON_GetObjectItemCaseSensitive(j, members[i]);

		if (!cJSON_IsNumber(m) || m->valuedouble < 0) {
			ebc_fail(ctx, "LIMIT-10", "every limit as a number", "member %s missing or not a number",
				 members[i]);
			goto out;
		}
	}
	rl = cJSON_GetObjectItemCaseSensitive(j, "rateLimit");
	if (rl) {
		for (i = 0; rate[i]; i++)
			if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(rl, rate[i]))) {
				ebc_fail(ctx, "LIMIT-10", "rateLimit with httpPerSecond, httpBurst, wsPerSecond, wsBurst",
					 "rateLimit.%s missing", rate[i]);
				goto out;
			}
	}
	{
		const eb_limits *l = &ctx->run->limits;
		eb_limits d;

		eb_limits_default(&d);
		if (l->max_body_bytes < d.max_body_bytes || l->max_changes_per_request < d.max_changes_per_request ||
		    l->max_path_segments < d.max_path_segments || l->max_path_segment_bytes < d.max_path_segment_bytes ||
		    l->max_value_bytes < d.max_value_bytes || l->max_value_depth < d.max_value_depth ||
		    l->max_change_id_bytes < d.max_change_id_bytes || l->max_frame_bytes < d.max_frame_bytes ||
		    l->max_page_limit < d.max_page_limit || l->max_subscriptions < d.max_subscriptions) {
			ebc_fail(ctx, "LIMIT-9", "limits at least the protocol defaults (a server MAY allow more)",
				 "an advertised limit is below its default");
			goto out;
		}
		if (l->coalesce_ms > 250) {
			ebc_fail(ctx, "WS-NOTIF-5", "coalesceMs at most 250", "coalesceMs %u", l->coalesce_ms);
			goto out;
		}
	}
out:
	cJSON_Delete(j);
	eb_http_resp_clear(&resp);
}

const ebc_case ebc_cases_limits[] = {
	{ "limits/body-at-limit", "A body of exactly the size limit (1 MiB) is accepted",
	  "MUST", { "LIMIT-9", "LIMIT-1" }, { "limits" }, 0, l_body_at },
	{ "limits/body-over-limit", "A body one byte over the limit is 413 PAYLOAD_TOO_LARGE and not applied",
	  "MUST", { "LIMIT-1" }, { "limits" }, 0, l_body_over },
	{ "limits/changes-at-limit", "A batch of 500 changes is accepted",
	  "MUST", { "LIMIT-9", "LIMIT-2" }, { "limits" }, 0, l_batch_at },
	{ "limits/changes-over-limit", "501 changes is 422 LIMIT_EXCEEDED at field changes",
	  "MUST", { "LIMIT-2", "ERR-2" }, { "limits" }, 0, l_batch_over },
	{ "limits/path-segments-at-limit", "A path of 32 segments is accepted",
	  "MUST", { "LIMIT-9", "LIMIT-3" }, { "limits" }, 0, l_segments_at },
	{ "limits/path-segments-over-limit", "A path of 33 segments is 422",
	  "MUST", { "LIMIT-3" }, { "limits" }, 0, l_segments_over },
	{ "limits/segment-bytes-at-limit", "A 256-byte segment is accepted",
	  "MUST", { "LIMIT-9", "LIMIT-3" }, { "limits" }, 0, l_segment_bytes_at },
	{ "limits/segment-bytes-over-limit", "A 257-byte segment is 422 at changes[1].path[0]",
	  "MUST", { "LIMIT-3", "ERR-2" }, { "limits" }, 0, l_segment_bytes_over },
	{ "limits/segment-counts-utf8-bytes", "Segment limits count UTF-8 bytes (128 x U+00E9 ok, 129 not)",
	  "MUST", { "LIMIT-3", "CHG-4" }, { "limits" }, 0, l_segment_utf8_bytes },
	{ "limits/value-at-limit", "A value of 65536 serialized bytes is accepted",
	  "MUST", { "LIMIT-9", "LIMIT-4", "CHG-7" }, { "limits" }, 0, l_value_at },
	{ "limits/value-over-limit", "A value of 65537 serialized bytes is 422 at changes[1].value",
	  "MUST", { "LIMIT-4", "CHG-7" }, { "limits" }, 0, l_value_over },
	{ "limits/value-canonical-size", "The value limit counts the canonical form, not the whitespace sent",
	  "MUST", { "CHG-7", "LIMIT-9" }, { "limits" }, 0, l_value_canonical_size },
	{ "limits/depth-at-limit", "A value nested 32 deep is accepted",
	  "MUST", { "LIMIT-9", "LIMIT-4", "CHG-7" }, { "limits" }, 0, l_depth_at },
	{ "limits/depth-over-limit", "A value nested 33 deep is 422",
	  "MUST", { "LIMIT-4", "CHG-7" }, { "limits" }, 0, l_depth_over },
	{ "limits/id-at-limit", "A 128-byte change id is accepted",
	  "MUST", { "LIMIT-9", "LIMIT-5", "CHG-1" }, { "limits" }, 0, l_id_at },
	{ "limits/id-over-limit", "A 129-byte change id is 422 at changes[1].id",
	  "MUST", { "LIMIT-5", "CHG-1" }, { "limits" }, 0, l_id_over },
	{ "limits/id-empty", "An empty change id is 400",
	  "MUST", { "LIMIT-5", "CHG-1" }, { "limits" }, 0, l_id_empty },
	{ "limits/advertised", "GET /api/limits answers every limit without a token",
	  "MUST", { "LIMIT-10", "LIMIT-9", "WS-NOTIF-5" }, { "limits" }, 0, l_advertised },
};
const size_t ebc_cases_limits_n = sizeof(ebc_cases_limits) / sizeof(ebc_cases_limits[0]);
