/*
 * types.c — every field of a sync request against every JSON type and the
 * number forms GEN-5 allows (1.0, 1e3) or forbids (fractions, negatives,
 * 2^53), one request each on a fresh store: accepted where the spec allows
 * the form, 400 otherwise, with the ERR-2 entry naming the field for the
 * fields of a change, and nothing applied.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ebc.h"

/* A field and the JSON texts to try for it; ok[i] says whether text i is a
 * valid value. */
typedef struct ty_row {
	const char *field;          /* "lastKnownVersion", "changes[0].id", ... */
	const char *rule;
	const char *vals[12];
	bool ok[12];
} ty_row;

static const ty_row ty_top[] = {
	{ "lastKnownVersion", "GEN-5",
	  { "0", "0.0", "0e5", "\"0\"", "-1", "0.5", "true", "null", "[]", "{}", "9007199254740992", NULL },
	  { true, true, true } },
	{ "limit", "SYNC-1",
	  { "1", "1.0", "1e1", "\"1\"", "-1", "0.5", "true", "null", "[]", "{}", "0", NULL },
	  { true, true, true } },
	{ "changes", "SYNC-1",
	  { "[]", "\"x\"", "1", "true", "null", "{}", NULL },
	  { true } },
};

/* In a change; %s in the template is where the value goes. */
static const struct {
	const char *field, *rule, *tmpl;
	const char *vals[14];
	bool ok[14];
} ty_change[] = {
	{ "id", "CHG-1", "{\"id\":%s,\"timestamp\":1000,\"operation\":\"set\",\"path\":[\"a\"],\"value\":1}",
	  { "\"@ID\"", "1", "true", "null", "[\"x\"]", "{}", NULL }, { true } },
	{ "timestamp", "CHG-2", "{\"id\":\"@ID\",\"timestamp\":%s,\"operation\":\"set\",\"path\":[\"a\"],\"value\":1}",
	  { "1000", "1000.0", "1e3", "0", "\"1000\"", "-1", "1000.5", "true", "null", "[]", "{}",
	    "9007199254740992", NULL },
	  { true, true, true, true } },
	{ "operation", "CHG-3", "{\"id\":\"@ID\",\"timestamp\":1000,\"operation\":%s,\"path\":[\"a\"],\"value\":1}",
	  { "\"set\"", "\"SET\"", "\"\"", "\"put\"", "1", "true", "null", "[\"set\"]", "{}", NULL }, { true } },
	{ "path", "CHG-4", "{\"id\":\"@ID\",\"timestamp\":1000,\"operation\":\"set\",\"path\":%s,\"value\":1}",
	  { "[\"a\"]", "[\"a\",\"b\"]", "\"a\"", "1", "true", "null", "{}", "[1]", "[null]", "[[\"a\"]]", "[true]",
	    "[{}]", NULL },
	  { true, true } },
	{ "value", "CHG-5", "{\"id\":\"@ID\",\"timestamp\":1000,\"operation\":\"set\",\"path\":[\"a\"],\"value\":%s}",
	  { "\"s\"", "1", "1.5", "-1", "1e300", "true", "false", "null", "[]", "{}", "[1,{\"a\":null}]", NULL },
	  { true, true, true, true, true, true, true, true, true, true, true } },
};

/* Posts body to a fresh store; ok: 200 expected, else 400 (per-change
 * entry at changes[0].<field...> when change_field). */
static bool ty_try(ebc_ctx *ctx, const char *body, bool ok, const char *field, bool change_field,
		   const char *rule)
{
	char store[160], want[64];
	eb_http_resp resp;
	eb_error_body *eb = NULL;
	bool good = false;
	uint64_t v = 99;

	ebc_store(ctx, NULL, store, sizeof(store));
	if (!ebc_post_sync(ctx, NULL, store, ebc_token(ctx), body, &resp))
		return false;
	if (ok) {
		if (resp.status != 200) {
			ebc_fail(ctx, rule, "200: a valid form of the field",
				 "status %ld for %.300s", resp.status, body);
			goto out;
		}
		good = true;
		goto out;
	}
	if (resp.status == 200) {
		ebc_fail(ctx, rule, "400 INVALID_REQUEST: a form the spec forbids", "200 for %.300s", body);
		goto out;
	}
	if (!ebc_expect_error(ctx, &resp, 400, "INVALID_REQUEST", rule, &eb)) {
		ebc_note(ctx, "body was %.300s", body);
		goto out;
	}
	if (change_field) {
		snprintf(want, sizeof(want), "changes[0].%s", field);
		if (!eb->has_errors || eb->errors.n != 1 || eb->errors.items[0].index != 0 ||
		    strncmp(eb->errors.items[0].field, want, strlen(want)) != 0 ||
		    strcmp(eb->errors.items[0].code, "INVALID_FIELD") != 0) {
			ebc_fail(ctx, "ERR-2", "one errors entry: index 0, field changes[0].<field>, INVALID_FIELD",
				 "%zu entries, first %s index %ld code %s, for %.200s", eb->errors.n,
				 eb->errors.n ? eb->errors.items[0].field : "-",
				 eb->errors.n ? eb->errors.items[0].index : -1L,
				 eb->errors.n ? eb->errors.items[0].code : "-", body);
			goto out;
		}
	}
	if (!ebc_version(ctx, store, &v))
		goto out;
	if (v != 0) {
		ebc_fail(ctx, "ERR-7", "nothing applied", "version %llu after a refused body", (unsigned long long)v);
		goto out;
	}
	good = true;
out:
	eb_error_body_free(eb);
	eb_http_resp_clear(&resp);
	return good;
}

static void ty_top_fields(ebc_ctx *ctx)
{
	size_t r, i;

	for (r = 0; r < sizeof(ty_top) / sizeof(ty_top[0]); r++) {
		for (i = 0; ty_top[r].vals[i]; i++) {
			char body[256];

			if (r == 0)
				snprintf(body, sizeof(body), "{\"lastKnownVersion\":%s}", ty_top[r].vals[i]);
			else if (r == 1)
				snprintf(body, sizeof(body), "{\"lastKnownVersion\":0,\"limit\":%s}", ty_top[r].vals[i]);
			else
				snprintf(body, sizeof(body), "{\"lastKnownVersion\":0,\"changes\":%s}", ty_top[r].vals[i]);
			if (!ty_try(ctx, body, ty_top[r].ok[i], ty_top[r].field, false, ty_top[r].rule))
				return;
		}
	}
}

static void ty_change_fields(ebc_ctx *ctx)
{
	size_t r, i;

	for (r = 0; r < sizeof(ty_change) / sizeof(ty_change[0]); r++) {
		for (i = 0; ty_change[r].vals[i]; i++) {
			char id[32], val[64], ch[512], body[640];

			ebc_cid(ctx, id, sizeof(id));
			snprintf(val, sizeof(val), "%s", ty_change[r].vals[i]);
			/* "@ID" stands for a fresh change id */
			if (strstr(val, "@ID"))
				snprintf(val, sizeof(val), "\"%s\"", id);
			ebc_subst(ch, sizeof(ch), ty_change[r].tmpl, val);
			{
				/* replace the @ID of the template */
				char *at = strstr(ch, "@ID");

				if (at) {
					char tail[512];

					snprintf(tail, sizeof(tail), "%s", at + 3);
					snprintf(at, sizeof(ch) - (size_t)(at - ch), "%s%s", id, tail);
				}
			}
			snprintf(body, sizeof(body), "{\"lastKnownVersion\":0,\"changes\":[%s]}", ch);
			if (!ty_try(ctx, body, ty_change[r].ok[i], ty_change[r].field, true, ty_change[r].rule))
				return;
		}
	}
}

const ebc_case ebc_cases_types[] = {
	{ "validation/type-matrix-request", "lastKnownVersion, limit, changes against every JSON type and number form",
	  "MUST", { "GEN-5", "SYNC-1", "GEN-11" }, { "validation", "types" }, 0, ty_top_fields },
	{ "validation/type-matrix-change", "id, timestamp, operation, path, value against every JSON type and number form",
	  "MUST", { "CHG-1", "CHG-2", "CHG-3", "CHG-4", "CHG-5", "ERR-2" }, { "validation", "types" }, 0,
	  ty_change_fields },
};
const size_t ebc_cases_types_n = sizeof(ebc_cases_types) / sizeof(ebc_cases_types[0]);
