/*
 * validation.c — malformed requests: JSON syntax (GEN-1, GEN-6), request
 * shape (SYNC-1, GEN-5), every field of a change (CHG-1..CHG-6), error
 * bodies (ERR-2), timestamps (TS-2) and all-or-nothing batches (SYNC-2).
 *
 * Per-change cases send [valid change, bad change]: the error must name
 * index 1 and, afterwards, the store must still be at version 0 — a server
 * that applied the valid half fails SYNC-2 for the right reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ebc.h"

/* Posts a raw body to a fresh store and expects status/code. */
static bool val_body(ebc_ctx *ctx, const char *body, size_t len, long status,
		     const char *code, const char *rule)
{
	char store[160], path[256];
	eb_http_resp resp;
	bool ok;

	ebc_store(ctx, NULL, store, sizeof(store));
	snprintf(path, sizeof(path), "/api/stores/%s/sync", store);
	if (!ebc_req(ctx, NULL, "POST", path, ebc_token(ctx), NULL, body, len, NULL, 0, 0, &resp))
		return false;
	ok = ebc_expect_error(ctx, &resp, status, code, rule, NULL);
	eb_http_resp_clear(&resp);
	return ok;
}

static bool val_bodies(ebc_ctx *ctx, const char *const *bodies, size_t n, long status,
		       const char *code, const char *rule)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!val_body(ctx, bodies[i], strlen(bodies[i]), status, code, rule)) {
			ebc_note(ctx, "body was: %s", bodies[i]);
			return false;
		}
	}
	return true;
}

/* [valid, bad] where bad_fmt has one %s for a fresh id (or none). Expects
 * status/code, one errors entry at index 1 with field "changes[1].<field>"
 * (field NULL: not checked), and nothing applied. */
static bool val_change(ebc_ctx *ctx, const char *bad_fmt, long status, const char *code,
		       const char *field, const char *rule)
{
	char store[160], id[32], gid[32], bad[2048], good[256], fieldbuf[128];
	const char *ch[2] = { good, bad };
	char *body = NULL;
	eb_http_resp resp;
	eb_error_body *b = NULL;
	uint64_t v = 99;
	bool ok = false;
	const char *entry_code = status == 422 ? code : "INVALID_FIELD";

	memset(&resp, 0, sizeof(resp));
	ebc_store(ctx, NULL, store, sizeof(store));
	snprintf(good, sizeof(good), "{\"id\":\"%s\",\"timestamp\":%llu,\"operation\":\"set\",\"path\":[\"ok\"],\"value\":1}",
		 ebc_cid(ctx, gid, sizeof(gid)), (unsigned long long)(ebc_now_ms() - 1000));
	ebc_subst(bad, sizeof(bad), bad_fmt, ebc_cid(ctx, id, sizeof(id)));
	body = ebc_body(0, ch, 2, -1);
	if (!body) {
		ebc_error(ctx, "out of memory");
		goto out;
	}
	if (!ebc_post_sync(ctx, NULL, store, ebc_token(ctx), body, &resp))
		goto out;
	if (!ebc_expect_error(ctx, &resp, status, code, rule, &b)) {
		ebc_note(ctx, "bad change was: %s", bad);
		goto out;
	}
	if (field) {
		snprintf(fieldbuf, sizeof(fieldbuf), "changes[1].%s", field);
		if (!ebc_expect_problem(ctx, b, 1, fieldbuf, entry_code, "ERR-2"))
			goto out;
	} else if (!b->has_errors || b->errors.n != 1 || b->errors.items[0].index != 1) {
		ebc_fail(ctx, "ERR-2", "errors with one entry for index 1",
			 "errors %s, %zu entries, first index %ld", b->has_errors ? "present" : "absent",
			 b->errors.n, b->errors.n ? b->errors.items[0].index : -1L);
		goto out;
	}
	if (!ebc_version(ctx, store, &v))
		goto out;
	if (v != 0) {
		ebc_fail(ctx, "SYNC-2", "no change of a rejected batch applied (version 0)",
			 "version %llu after the rejected batch", (unsigned long long)v);
		goto out;
	}
	ok = true;
out:
	eb_error_body_free(b);
	eb_http_resp_clear(&resp);
	free(body);
	return ok;
}

#define CHG_PRE "{\"id\":\"%s\",\"timestamp\":1000,"

static void va_not_json(ebc_ctx *ctx)
{
	const char *b[] = { "{", "hello", "{\"lastKnownVersion\":0,}", "{'lastKnownVersion':0}",
			    "{\"lastKnownVersion\":0} {}", "{\"lastKnownVersion\":0}]" };

	if (!val_body(ctx, "", 0, 400, "INVALID_JSON", "GEN-1"))
		return;
	val_bodies(ctx, b, 6, 400, "INVALID_JSON", "GEN-1");
}

static void va_bad_utf8(ebc_ctx *ctx)
{
	const char *b[] = {
		"{\"lastKnownVersion\":0,\"changes\":[{\"id\":\"\xff\",\"timestamp\":1,\"operation\":\"set\",\"path\":[\"a\"],\"value\":1}]}",
		"{\"lastKnownVersion\":0,\"changes\":[{\"id\":\"x\",\"timestamp\":1,\"operation\":\"set\",\"path\":[\"\xc0\xaf\"],\"value\":1}]}",
		"{\"lastKnownVersion\":0,\"changes\":[{\"id\":\"x\",\"timestamp\":1,\"operation\":\"set\",\"path\":[\"a\"],\"value\":\"\xed\xa0\x80\"}]}",
		"{\"lastKnownVersion\":0,\"x\":\"\xe2\x82\"}",
	};

	val_bodies(ctx, b, 4, 400, "INVALID_JSON", "GEN-1");
}

static void va_duplicate_key(ebc_ctx *ctx)
{
	char a[512], c[512], i1[32], i2[32];
	const char *b[3];

	b[0] = "{\"lastKnownVersion\":0,\"lastKnownVersion\":0}";
	snprintf(a, sizeof(a), "{\"lastKnownVersion\":0,\"changes\":[{\"id\":\"%s\",\"timestamp\":1,\"operation\":\"set\","
		 "\"path\":[\"a\"],\"value\":1,\"value\":2}]}", ebc_cid(ctx, i1, sizeof(i1)));
	snprintf(c, sizeof(c), "{\"lastKnownVersion\":0,\"changes\":[{\"id\":\"%s\",\"timestamp\":1,\"operation\":\"set\","
		 "\"path\":[\"a\"],\"value\":{\"k\":1,\"k\":1}}]}", ebc_cid(ctx, i2, sizeof(i2)));
	b[1] = a;
	b[2] = c;
	val_bodies(ctx, b, 3, 400, "INVALID_JSON", "GEN-6");
}

static void va_not_object(ebc_ctx *ctx)
{
	const char *b[] = { "[]", "1", "\"x\"", "null", "true", "[{\"lastKnownVersion\":0}]" };

	val_bodies(ctx, b, 6, 400, "INVALID_REQUEST", "SYNC-1");
}

static void va_missing_lkv(ebc_ctx *ctx)
{
	const char *b[] = { "{}", "{\"changes\":[]}", "{\"lastknownversion\":0}" };

	val_bodies(ctx, b, 3, 400, "INVALID_REQUEST", "SYNC-1");
}

static void va_lkv_types(ebc_ctx *ctx)
{
	const char *b[] = { "{\"lastKnownVersion\":\"0\"}", "{\"lastKnownVersion\":-1}",
			    "{\"lastKnownVersion\":1.5}", "{\"lastKnownVersion\":true}",
			    "{\"lastKnownVersion\":null}", "{\"lastKnownVersion\":9007199254740992}",
			    "{\"lastKnownVersion\":[0]}" };

	val_bodies(ctx, b, 7, 400, "INVALID_REQUEST", "GEN-5");
}

static void va_changes_not_array(ebc_ctx *ctx)
{
	const char *b[] = { "{\"lastKnownVersion\":0,\"changes\":{}}",
			    "{\"lastKnownVersion\":0,\"changes\":\"x\"}",
			    "{\"lastKnownVersion\":0,\"changes\":null}",
			    "{\"lastKnownVersion\":0,\"changes\":1}" };

	val_bodies(ctx, b, 4, 400, "INVALID_REQUEST", "SYNC-1");
}

static void va_change_not_object(ebc_ctx *ctx)
{
	if (val_change(ctx, "5", 400, "INVALID_REQUEST", NULL, "SYNC-1"))
		val_change(ctx, "[\"%s\"]", 400, "INVALID_REQUEST", NULL, "SYNC-1");
}

static void va_missing_id(ebc_ctx *ctx)
{
	val_change(ctx, "{\"timestamp\":1000,\"operation\":\"set\",\"path\":[\"a\"],\"value\":1}",
		   400, "INVALID_REQUEST", "id", "CHG-1");
}

static void va_id_not_string(ebc_ctx *ctx)
{
	if (val_change(ctx, "{\"id\":42,\"timestamp\":1000,\"operation\":\"set\",\"path\":[\"a\"],\"value\":1}",
		       400, "INVALID_REQUEST", "id", "CHG-1"))
		val_change(ctx, "{\"id\":null,\"timestamp\":1000,\"operation\":\"set\",\"path\":[\"a\"],\"value\":1}",
			   400, "INVALID_REQUEST", "id", "CHG-1");
}

static void va_id_control(ebc_ctx *ctx)
{
	if (val_change(ctx, "{\"id\":\"%s\\u0001\",\"timestamp\":1000,\"operation\":\"set\",\"path\":[\"a\"],\"value\":1}",
		       400, "INVALID_REQUEST", "id", "CHG-1"))
		val_change(ctx, "{\"id\":\"%s\\u007f\",\"timestamp\":1000,\"operation\":\"set\",\"path\":[\"a\"],\"value\":1}",
			   400, "INVALID_REQUEST", "id", "CHG-1");
}

static void va_missing_timestamp(ebc_ctx *ctx)
{
	val_change(ctx, "{\"id\":\"%s\",\"operation\":\"set\",\"path\":[\"a\"],\"value\":1}",
		   400, "INVALID_REQUEST", "timestamp", "CHG-2");
}

static void va_timestamp_types(ebc_ctx *ctx)
{
	const char *fmts[] = {
		"{\"id\":\"%s\",\"timestamp\":1.5,\"operation\":\"set\",\"path\":[\"a\"],\"value\":1}",
		"{\"id\":\"%s\",\"timestamp\":-1,\"operation\":\"set\",\"path\":[\"a\"],\"value\":1}",
		"{\"id\":\"%s\",\"timestamp\":\"1000\",\"operation\":\"set\",\"path\":[\"a\"],\"value\":1}",
		"{\"id\":\"%s\",\"timestamp\":9007199254740992,\"operation\":\"set\",\"path\":[\"a\"],\"value\":1}",
		"{\"id\":\"%s\",\"timestamp\":null,\"operation\":\"set\",\"path\":[\"a\"],\"value\":1}",
	};
	size_t i;

	for (i = 0; i < 5; i++)
		if (!val_change(ctx, fmts[i], 400, "INVALID_REQUEST", "timestamp", "CHG-2"))
			return;
}

static void va_missing_operation(ebc_ctx *ctx)
{
	val_change(ctx, CHG_PRE "\"path\":[\"a\"],\"value\":1}", 400, "INVALID_REQUEST", "operation", "CHG-3");
}

static void va_bad_operation(ebc_ctx *ctx)
{
	const char *fmts[] = { CHG_PRE "\"operation\":\"update\",\"path\":[\"a\"],\"value\":1}",
			       CHG_PRE "\"operation\":\"SET\",\"path\":[\"a\"],\"value\":1}",
			       CHG_PRE "\"operation\":\"\",\"path\":[\"a\"],\"value\":1}",
			       CHG_PRE "\"operation\":1,\"path\":[\"a\"],\"value\":1}" };
	size_t i;

	for (i = 0; i < 4; i++)
		if (!val_change(ctx, fmts[i], 400, "INVALID_REQUEST", "operation", "CHG-3"))
			return;
}

static void va_missing_path(ebc_ctx *ctx)
{
	val_change(ctx, CHG_PRE "\"operation\":\"set\",\"value\":1}", 400, "INVALID_REQUEST", "path", "CHG-4");
}

static void va_path_not_array(ebc_ctx *ctx)
{
	if (val_change(ctx, CHG_PRE "\"operation\":\"set\",\"path\":\"a\",\"value\":1}", 400,
		       "INVALID_REQUEST", "path", "CHG-4"))
		val_change(ctx, CHG_PRE "\"operation\":\"set\",\"path\":{\"a\":1},\"value\":1}", 400,
			   "INVALID_REQUEST", "path", "CHG-4");
}

static void va_empty_path(ebc_ctx *ctx)
{
	val_change(ctx, CHG_PRE "\"operation\":\"set\",\"path\":[],\"value\":1}", 400,
		   "INVALID_REQUEST", "path", "LIMIT-3");
}

static void va_empty_segment(ebc_ctx *ctx)
{
	val_change(ctx, CHG_PRE "\"operation\":\"set\",\"path\":[\"a\",\"\"],\"value\":1}", 400,
		   "INVALID_REQUEST", "path[1]", "LIMIT-3");
}

static void va_non_string_segment(ebc_ctx *ctx)
{
	if (val_change(ctx, CHG_PRE "\"operation\":\"set\",\"path\":[\"a\",1],\"value\":1}", 400,
		       "INVALID_REQUEST", "path[1]", "CHG-4"))
		val_change(ctx, CHG_PRE "\"operation\":\"set\",\"path\":[null],\"value\":1}", 400,
			   "INVALID_REQUEST", "path[0]", "CHG-4");
}

static void va_set_without_value(ebc_ctx *ctx)
{
	val_change(ctx, CHG_PRE "\"operation\":\"set\",\"path\":[\"a\"]}", 400, "INVALID_REQUEST",
		   "value", "CHG-5");
}

static void va_set_null_ok(ebc_ctx *ctx)
{
	char store[160], id[32], ch[256];
	const char *c = ch;
	char *body;
	eb_sync_response *r;

	ebc_store(ctx, NULL, store, sizeof(store));
	snprintf(ch, sizeof(ch), CHG_PRE "\"operation\":\"set\",\"path\":[\"a\"],\"value\":null}",
		 ebc_cid(ctx, id, sizeof(id)));
	body = ebc_body(0, &c, 1, -1);
	r = ebc_sync_ok(ctx, NULL, store, ebc_token(ctx), body, "CHG-5");
	if (r && r->current_version != 1)
		ebc_fail(ctx, "CHG-5", "the null value committed (version 1)", "currentVersion %llu",
			 (unsigned long long)r->current_version);
	eb_sync_response_free(r);
	free(body);
}

static void va_delete_with_value(ebc_ctx *ctx)
{
	if (val_change(ctx, CHG_PRE "\"operation\":\"delete\",\"path\":[\"a\"],\"value\":1}", 400,
		       "INVALID_REQUEST", "value", "CHG-6"))
		val_change(ctx, CHG_PRE "\"operation\":\"delete\",\"path\":[\"a\"],\"value\":null}", 400,
			   "INVALID_REQUEST", "value", "CHG-6");
}

static void va_unknown_members(ebc_ctx *ctx)
{
	char store[160], id[32], ch[512];
	const char *c = ch;
	eb_buf b = { 0 };
	eb_sync_response *r;

	ebc_store(ctx, NULL, store, sizeof(store));
	snprintf(ch, sizeof(ch), CHG_PRE "\"operation\":\"set\",\"path\":[\"a\"],\"value\":1,"
		 "\"clientInfo\":{\"x\":[1]},\"zz\":null}", ebc_cid(ctx, id, sizeof(id)));
	eb_buf_fmt(&b, "{\"extension\":{\"a\":1},\"lastKnownVersion\":0,\"changes\":[%s],\"other\":[]}", c);
	r = ebc_sync_ok(ctx, NULL, store, ebc_token(ctx), b.p, "GEN-4");
	if (r && r->current_version != 1)
		ebc_fail(ctx, "GEN-4", "the change committed (version 1)", "currentVersion %llu",
			 (unsigned long long)r->current_version);
	eb_sync_response_free(r);
	eb_buf_clear(&b);
}

/* Only the first failing field of a change is reported, in field order. */
static void va_first_failing_field(ebc_ctx *ctx)
{
	if (!val_change(ctx, "{\"id\":7,\"timestamp\":\"x\",\"operation\":\"nope\",\"path\":[],\"value\":1}",
			400, "INVALID_REQUEST", "id", "ERR-2"))
		return;
	if (!val_change(ctx, "{\"id\":\"%s\",\"timestamp\":-5,\"operation\":\"nope\",\"path\":[]}",
			400, "INVALID_REQUEST", "timestamp", "ERR-2"))
		return;
	val_change(ctx, CHG_PRE "\"operation\":\"nope\",\"path\":[\"\"]}", 400, "INVALID_REQUEST",
		   "operation", "ERR-2");
}

/* Two failing changes: one entry each, ascending index. */
static void va_errors_ascending(ebc_ctx *ctx)
{
	char store[160], i0[32], i1[32], i2[32], i3[32], c0[256], c1[256], c2[256], c3[256];
	const char *ch[4] = { c0, c1, c2, c3 };
	char *body = NULL;
	eb_http_resp resp;
	eb_error_body *b = NULL;

	memset(&resp, 0, sizeof(resp));
	ebc_store(ctx, NULL, store, sizeof(store));
	snprintf(c0, sizeof(c0), CHG_PRE "\"operation\":\"set\",\"path\":[\"a\"],\"value\":1}", ebc_cid(ctx, i0, sizeof(i0)));
	snprintf(c1, sizeof(c1), CHG_PRE "\"operation\":\"bad\",\"path\":[\"a\"],\"value\":1}", ebc_cid(ctx, i1, sizeof(i1)));
	snprintf(c2, sizeof(c2), CHG_PRE "\"operation\":\"set\",\"path\":[\"b\"],\"value\":1}", ebc_cid(ctx, i2, sizeof(i2)));
	snprintf(c3, sizeof(c3), CHG_PRE "\"operation\":\"set\",\"path\":[\"\"],\"value\":1}", ebc_cid(ctx, i3, sizeof(i3)));
	body = ebc_body(0, ch, 4, -1);
	if (!ebc_post_sync(ctx, NULL, store, ebc_token(ctx), body, &resp))
		goto out;
	if (!ebc_expect_error(ctx, &resp, 400, "INVALID_REQUEST", "CHG-3", &b))
		goto out;
	if (!b->has_errors || b->errors.n != 2 || b->errors.items[0].index != 1 ||
	    b->errors.items[1].index != 3 ||
	    strcmp(b->errors.items[0].field, "changes[1].operation") != 0 ||
	    strcmp(b->errors.items[1].field, "changes[3].path[0]") != 0) {
		ebc_fail(ctx, "ERR-2",
			 "errors: changes[1].operation (index 1) then changes[3].path[0] (index 3)",
			 "%zu entries: %ld %s, %ld %s", b->errors.n,
			 b->errors.n > 0 ? b->errors.items[0].index : -1L,
			 b->errors.n > 0 ? b->errors.items[0].field : "",
			 b->errors.n > 1 ? b->errors.items[1].index : -1L,
			 b->errors.n > 1 ? b->errors.items[1].field : "");
	}
out:
	eb_error_body_free(b);
	eb_http_resp_clear(&resp);
	free(body);
}

/* A batch whose last change is invalid leaves the store untouched. */
static void va_partial_batch(ebc_ctx *ctx)
{
	char store[160], id[5][32], c[5][512];
	const char *ch[5];
	char *body = NULL;
	eb_http_resp resp;
	uint64_t v = 0, ts = ebc_now_ms() - 1000;
	size_t i;
	int round;

	memset(&resp, 0, sizeof(resp));
	ebc_store(ctx, NULL, store, sizeof(store));
	if (!ebc_push_n(ctx, NULL, store, ebc_token(ctx), 2, 0, NULL, NULL, "SYNC-9"))
		goto out;
	for (round = 0; round < 3; round++) {
		for (i = 0; i < 4; i++) {
			snprintf(c[i], sizeof(c[i]), "{\"id\":\"%s\",\"timestamp\":%llu,\"operation\":\"set\","
				 "\"path\":[\"p\",\"%zu\"],\"value\":%zu}", ebc_cid(ctx, id[i], sizeof(id[i])),
				 (unsigned long long)ts, i, i);
			ch[i] = c[i];
		}
		if (round == 0)
			snprintf(c[4], sizeof(c[4]), "{\"id\":\"%s\",\"timestamp\":1,\"operation\":\"set\",\"path\":[]}",
				 ebc_cid(ctx, id[4], sizeof(id[4])));
		else if (round == 1)
			snprintf(c[4], sizeof(c[4]), "{\"id\":\"%s\",\"timestamp\":%llu,\"operation\":\"set\",\"path\":[\"a\"],\"value\":1}",
				 ebc_cid(ctx, id[4], sizeof(id[4])),
				 (unsigned long long)(ebc_now_ms() + ctx->run->limits.timestamp_skew_ms + 3600000ULL));
		else
			snprintf(c[4], sizeof(c[4]), "{\"id\":\"%s\",\"timestamp\":1,\"operation\":\"delete\",\"path\":[\"a\"],\"value\":1}",
				 ebc_cid(ctx, id[4], sizeof(id[4])));
		ch[4] = c[4];
		body = ebc_body(2, ch, 5, -1);
		if (!ebc_post_sync(ctx, NULL, store, ebc_token(ctx), body, &resp))
			goto out;
		free(body);
		body = NULL;
		if (resp.status == 200 || resp.status < 400) {
			/* checked below through the version */
			ebc_note(ctx, "round %d answered %ld", round, resp.status);
		}
		eb_http_resp_clear(&resp);
		if (!ebc_version(ctx, store, &v))
			goto out;
		if (v != 2) {
			ebc_fail(ctx, "SYNC-2", "nothing of a batch with an invalid last change applied (version 2)",
				 "version %llu after a batch whose change 4 was %s", (unsigned long long)v,
				 round == 0 ? "invalid (empty path)" : round == 1 ? "in the future" : "a delete with value");
			goto out;
		}
	}
out:
	eb_http_resp_clear(&resp);
	free(body);
}

static void va_future_timestamp(ebc_ctx *ctx)
{
	char fmt[256];

	snprintf(fmt, sizeof(fmt), "{\"id\":\"%%s\",\"timestamp\":%llu,\"operation\":\"set\",\"path\":[\"a\"],\"value\":1}",
		 (unsigned long long)(ebc_now_ms() + ctx->run->limits.timestamp_skew_ms + 120000ULL));
	val_change(ctx, fmt, 422, "TIMESTAMP_IN_FUTURE", "timestamp", "TS-2");
}

static void va_timestamp_within_skew(ebc_ctx *ctx)
{
	char store[160], id[32];
	char *ch = NULL, *body = NULL;
	eb_sync_response *r;
	uint64_t skew = ctx->run->limits.timestamp_skew_ms;

	/* Half the allowance: the server's clock only moves on while the
	 * request travels, so the timestamp stays inside however small it is. */
	if (skew / 2 == 0) {
		ebc_skip(ctx, "the server allows no future timestamps (skew %llu ms): nothing to test inside it",
			 (unsigned long long)skew);
		return;
	}
	ebc_note(ctx, "timestamp %llu ms ahead of the suite's clock (half the %llu ms allowance)",
		 (unsigned long long)(skew / 2), (unsigned long long)skew);
	ebc_store(ctx, NULL, store, sizeof(store));
	ch = ebc_set_json(ebc_cid(ctx, id, sizeof(id)), ebc_now_ms() + skew / 2, "a", "1");
	body = ebc_body(0, (const char *const *)&ch, 1, -1);
	r = ebc_sync_ok(ctx, NULL, store, ebc_token(ctx), body, "TS-2");
	eb_sync_response_free(r);
	free(ch);
	free(body);
}

const ebc_case ebc_cases_validation[] = {
	{ "validation/not-json", "A body that is not one JSON text is 400 INVALID_JSON",
	  "MUST", { "GEN-1", "ERR-1" }, { "validation" }, 0, va_not_json },
	{ "validation/bad-utf8", "Invalid UTF-8 (bad byte, overlong, surrogate, truncated) is 400 INVALID_JSON",
	  "MUST", { "GEN-1" }, { "validation" }, 0, va_bad_utf8 },
	{ "validation/duplicate-key", "A duplicate member name anywhere is 400 INVALID_JSON",
	  "MUST", { "GEN-6" }, { "validation" }, 0, va_duplicate_key },
	{ "validation/not-object", "A body that is not a JSON object is 400 INVALID_REQUEST",
	  "MUST", { "SYNC-1" }, { "validation" }, 0, va_not_object },
	{ "validation/missing-last-known-version", "lastKnownVersion is required",
	  "MUST", { "SYNC-1" }, { "validation" }, 0, va_missing_lkv },
	{ "validation/last-known-version-types", "lastKnownVersion must be an integer 0..2^53-1",
	  "MUST", { "GEN-5", "SYNC-1" }, { "validation" }, 0, va_lkv_types },
	{ "validation/changes-not-array", "changes must be an array",
	  "MUST", { "SYNC-1" }, { "validation" }, 0, va_changes_not_array },
	{ "validation/change-not-object", "A change that is not an object is rejected at its index",
	  "MUST", { "SYNC-1", "ERR-2", "SYNC-2" }, { "validation" }, 0, va_change_not_object },
	{ "validation/missing-id", "A change without id: 400 at changes[1].id, nothing applied",
	  "MUST", { "CHG-1", "ERR-2", "SYNC-2" }, { "validation" }, 0, va_missing_id },
	{ "validation/id-not-string", "A non-string id is 400",
	  "MUST", { "CHG-1", "ERR-2" }, { "validation" }, 0, va_id_not_string },
	{ "validation/id-control-char", "An id with a control character (U+0001, U+007F) is 400",
	  "MUST", { "CHG-1" }, { "validation" }, 0, va_id_control },
	{ "validation/missing-timestamp", "A change without timestamp is 400",
	  "MUST", { "CHG-2", "ERR-2" }, { "validation" }, 0, va_missing_timestamp },
	{ "validation/timestamp-not-integer", "Fraction, negative, string, null or > 2^53-1 timestamps are 400",
	  "MUST", { "CHG-2", "GEN-5" }, { "validation" }, 0, va_timestamp_types },
	{ "validation/missing-operation", "A change without operation is 400",
	  "MUST", { "CHG-3", "ERR-2" }, { "validation" }, 0, va_missing_operation },
	{ "validation/bad-operation", "An operation other than set/delete is 400",
	  "MUST", { "CHG-3" }, { "validation" }, 0, va_bad_operation },
	{ "validation/missing-path", "A change without path is 400",
	  "MUST", { "CHG-4", "ERR-2" }, { "validation" }, 0, va_missing_path },
	{ "validation/path-not-array", "A path that is not an array is 400",
	  "MUST", { "CHG-4" }, { "validation" }, 0, va_path_not_array },
	{ "validation/empty-path", "An empty path is 400 INVALID_FIELD",
	  "MUST", { "LIMIT-3", "CHG-4" }, { "validation" }, 0, va_empty_path },
	{ "validation/empty-segment", "An empty path segment is 400 at changes[1].path[1]",
	  "MUST", { "LIMIT-3", "CHG-4", "ERR-2" }, { "validation" }, 0, va_empty_segment },
	{ "validation/non-string-segment", "A path segment that is not a string is 400",
	  "MUST", { "CHG-4" }, { "validation" }, 0, va_non_string_segment },
	{ "validation/set-without-value", "A set without value is 400 at changes[1].value",
	  "MUST", { "CHG-5" }, { "validation" }, 0, va_set_without_value },
	{ "validation/set-null-value-accepted", "A set with value null is accepted",
	  "MUST", { "CHG-5" }, { "validation" }, 0, va_set_null_ok },
	{ "validation/delete-with-value", "A delete carrying value (even null) is 400",
	  "MUST", { "CHG-6", "SYNC-2" }, { "validation" }, 0, va_delete_with_value },
	{ "validation/unknown-members-ignored", "Unknown members of the request and of changes are ignored",
	  "MUST", { "GEN-4" }, { "validation" }, 0, va_unknown_members },
	{ "validation/first-failing-field-only", "Only the first failing field of a change is reported, in field order",
	  "MUST", { "ERR-2", "ERR-3" }, { "validation", "errors" }, 0, va_first_failing_field },
	{ "validation/errors-ascending", "Each failing change gets one errors entry, in ascending index order",
	  "MUST", { "ERR-2" }, { "validation", "errors" }, 0, va_errors_ascending },
	{ "validation/partial-batch-never-applied", "A batch with an invalid, future or delete-with-value last change applies nothing",
	  "MUST", { "SYNC-2", "ERR-7" }, { "validation" }, 0, va_partial_batch },
	{ "validation/future-timestamp", "A timestamp beyond the skew allowance is 422 TIMESTAMP_IN_FUTURE at its index",
	  "MUST", { "TS-2", "ERR-2" }, { "validation", "timestamps" }, 0, va_future_timestamp },
	{ "validation/timestamp-within-skew-accepted", "A timestamp ahead by half the skew allowance is accepted",
	  "MUST", { "TS-2", "TS-1" }, { "validation", "timestamps" }, 0, va_timestamp_within_skew },
};
const size_t ebc_cases_validation_n = sizeof(ebc_cases_validation) / sizeof(ebc_cases_validation[0]);
