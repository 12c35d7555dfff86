/*
 * chars.c — character rules probed at the edges of their classes: the
 * neighbours of `A-Z a-z 0-9 . _ : -` in store ids (STORE-1), over HTTP
 * (percent-encoded in the URL) and in a WebSocket subscription; the edges of
 * the control range that change ids may not hold (CHG-1: U+001F and U+007F
 * refused, U+0020, U+007E and U+0080 accepted).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ebc.h"

/* The byte just outside each allowed range, percent-encoded for the URL,
 * and raw for JSON. */
static const struct { const char *url, *raw; } ch_outside[] = {
	{ "%2F", "/" },   /* after '.', before '0' */
	{ "%3B", ";" },   /* after ':' */
	{ "%40", "@" },   /* before 'A' */
	{ "%5B", "[" },   /* after 'Z' */
	{ "%5E", "^" },   /* before '_' */
	{ "%60", "`" },   /* after '_', before 'a' */
	{ "%7B", "{" },   /* after 'z' */
	{ "%2C", "," },   /* before '-' */
	{ "%7E", "~" },   /* unreserved in URLs, not in store ids */
	{ "%C3%80", "\xc3\x80" }, /* U+00C0, a letter outside ASCII */
};
#define CH_N (sizeof(ch_outside) / sizeof(ch_outside[0]))

static void ch_store_http(ebc_ctx *ctx)
{
	size_t i;

	for (i = 0; i < CH_N && !ebc_done(ctx); i++) {
		char path[256];
		eb_http_resp resp;

		/* an encoded slash is decoded before routing by many HTTP stacks
		 * (another route, not another store id): socket only */
		if (strcmp(ch_outside[i].raw, "/") == 0)
			continue;

		snprintf(path, sizeof(path), "/api/stores/%sx%s/changes?since=0", ctx->store_prefix,
			 ch_outside[i].url);
		if (!ebc_req(ctx, NULL, "GET", path, ebc_token(ctx), NULL, NULL, 0, NULL, 0, 0, &resp))
			return;
		if (!ebc_expect_error(ctx, &resp, 400, "INVALID_STORE_ID", "STORE-1", NULL))
			ebc_note(ctx, "store id with %s (%s)", ch_outside[i].url, ch_outside[i].raw);
		eb_http_resp_clear(&resp);
	}
}

static void ch_store_ws(ebc_ctx *ctx)
{
	char ids[CH_N + 1][160];
	const char *ptrs[CH_N + 1];
	ebc_ws *w;
	eb_ws_server_msg *m;
	size_t i, j;

	for (i = 0; i < CH_N; i++) {
		snprintf(ids[i], sizeof(ids[i]), "%sx%s", ctx->store_prefix, ch_outside[i].raw);
		ptrs[i] = ids[i];
	}
	/* and one valid id with every edge of the allowed classes */
	snprintf(ids[CH_N], sizeof(ids[CH_N]), "%s-AZaz09._:-", ctx->store_prefix);
	ptrs[CH_N] = ids[CH_N];
	w = ebc_ws_ready(ctx, NULL, NULL, NULL);
	if (!w)
		return;
	m = ebc_ws_sub(w, false, ptrs, CH_N + 1, "WS-SUB-1");
	if (!m)
		goto out;
	for (i = 0; i <= CH_N; i++) {
		const char *code = NULL;
		bool listed = false;

		for (j = 0; j < m->n_stores; j++)
			if (strcmp(m->stores[j].store_id, ids[i]) == 0)
				listed = true;
		for (j = 0; j < m->n_errors; j++)
			if (strcmp(m->errors[j].store_id, ids[i]) == 0)
				code = m->errors[j].code;
		if (i < CH_N && (listed || !code || strcmp(code, "INVALID_STORE_ID") != 0)) {
			ebc_fail(ctx, "STORE-1", "a per-store error INVALID_STORE_ID",
				 "store id with %s: %s", ch_outside[i].url,
				 listed ? "subscribed" : code ? code : "not in the ack");
			break;
		}
		if (i == CH_N && !listed) {
			ebc_fail(ctx, "STORE-1", "the id made of the class edges A Z a z 0 9 . _ : - subscribed",
				 "%s", code ? code : "not in the ack");
			break;
		}
	}
	eb_ws_server_msg_free(m);
out:
	ebc_ws_free(w);
}

/* A change whose id ends with the given escape (JSON text): 200 or 400. */
static void ch_id_edges(ebc_ctx *ctx)
{
	static const struct { const char *esc; bool ok; } t[] = {
		{ "\\u001f", false }, { "\\u007f", false }, { "\\u0020", true }, { "~", true },
		{ "\\u0080", true }, { "\\u00a0", true },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]) && !ebc_done(ctx); i++) {
		char store[160], id[32], body[512];
		eb_http_resp resp;
		eb_error_body *eb = NULL;

		ebc_store(ctx, NULL, store, sizeof(store));
		snprintf(body, sizeof(body), "{\"lastKnownVersion\":0,\"changes\":[{\"id\":\"%s%s\","
			 "\"timestamp\":1000,\"operation\":\"set\",\"path\":[\"a\"],\"value\":1}]}",
			 ebc_cid(ctx, id, sizeof(id)), t[i].esc);
		if (!ebc_post_sync(ctx, NULL, store, ebc_token(ctx), body, &resp))
			return;
		if (t[i].ok) {
			if (resp.status != 200)
				ebc_fail(ctx, "CHG-1", "200: only U+0000-U+001F and U+007F are refused in ids",
					 "status %ld for an id ending in %s", resp.status, t[i].esc);
		} else if (ebc_expect_error(ctx, &resp, 400, "INVALID_REQUEST", "CHG-1", &eb)) {
			ebc_expect_problem(ctx, eb, 0, "changes[0].id", "INVALID_FIELD", "ERR-2");
		} else {
			ebc_note(ctx, "an id ending in %s", t[i].esc);
		}
		eb_error_body_free(eb);
		eb_http_resp_clear(&resp);
	}
}

const ebc_case ebc_cases_chars[] = {
	{ "errors/store-id-class-edges", "Store ids with a neighbour of each allowed class in the URL are 400",
	  "MUST", { "STORE-1" }, { "errors", "stores" }, 0, ch_store_http },
	{ "ws/store-id-class-edges", "The same ids in a subscription get INVALID_STORE_ID; the class edges are valid",
	  "MUST", { "STORE-1", "WS-SUB-3" }, { "ws", "stores" }, 0, ch_store_ws },
	{ "validation/id-control-edges", "Change ids: U+001F and U+007F refused, U+0020, ~, U+0080, U+00A0 accepted",
	  "MUST", { "CHG-1", "ERR-2" }, { "validation" }, 0, ch_id_edges },
};
const size_t ebc_cases_chars_n = sizeof(ebc_cases_chars) / sizeof(ebc_cases_chars[0]);
