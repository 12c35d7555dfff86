/*
 * fuzz_roundtrip.c — encode -> parse gives back what was encoded, for every
 * message the library writes: sync request, sync response, error body, the
 * four client WebSocket messages and the five server ones.
 *
 * The input is a stream of choices (fuzz_gen.h): the first picks the
 * message, the rest build a well-formed instance of it with strings that
 * need escaping, multi-byte UTF-8, edge numbers and integers up to 2^53-1.
 * The encoder must accept it, and the parser must accept the encoder's text
 * and return equal values (CHG-9 for changes: canonically equal).
 */
#include "../fuzz_gen.h"

#include "eb_json.h"
#include "eb_ws.h"

#define FT_MAXN 6

static uint64_t ft_u53(fz_in *in)
{
	static const uint64_t edges[] = { 0, 1, 42, 1640995200000ULL,
		4294967295ULL, 4294967296ULL, 999999999999999ULL,
		1000000000000000ULL, 9007199254740990ULL, 9007199254740991ULL };
	uint8_t k = fz_u8(in);

	if (k < 160)
		return edges[k % (sizeof(edges) / sizeof(edges[0]))];
	return fz_u64(in) & 0x1FFFFFFFFFFFFFULL;
}

static bool ft_streq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static void ft_report(const char *enc, eb_rc rc, const eb_err *err)
{
	if (rc != EB_OK && rc != EB_ERR_NOMEM)
		fprintf(stderr, "parse of %s failed: %s (%s)\n", enc, err->msg, err->rule);
}

static void ft_sync(fz_in *in, bool response)
{
	eb_change cs[FT_MAXN];
	size_t n = fz_below(in, FT_MAXN + 1), built, i;
	char *enc = NULL;
	eb_err err;
	eb_rc rc;

	for (built = 0; built < n; built++) {
		if (!fg_change(in, &cs[built], false, false, 3, 3))
			goto out;
		cs[built].timestamp = ft_u53(in);
		if (response) {
			cs[built].version = ft_u53(in);
			cs[built].has_version = true;
		}
	}
	if (!response) {
		eb_sync_request req = { ft_u53(in), cs, n, 1 + fz_below(in, 1000), false };
		eb_sync_request *back = NULL;

		req.has_limit = fz_u8(in) & 1;
		if (!req.has_limit)
			req.limit = 1000;
		rc = eb_sync_request_encode(&req, &enc);
		FZ_CHECK(rc == EB_OK || rc == EB_ERR_NOMEM, "a valid request encodes");
		if (rc != EB_OK)
			goto out;
		rc = eb_sync_request_parse(enc, strlen(enc), NULL, &back, NULL, &err);
		ft_report(enc, rc, &err);
		FZ_CHECK(rc == EB_OK || rc == EB_ERR_NOMEM, "an encoded request parses");
		if (back) {
			FZ_CHECK(back->last_known_version == req.last_known_version,
				 "round trip keeps lastKnownVersion");
			FZ_CHECK(back->limit == req.limit && back->has_limit == req.has_limit,
				 "round trip keeps limit");
			FZ_CHECK(back->n == n, "round trip keeps the changes");
			for (i = 0; i < n; i++) {
				if (!fg_change_equal(&back->changes[i], &cs[i]))
					fprintf(stderr, "change %zu differs after %s\n", i, enc);
				FZ_CHECK(fg_change_equal(&back->changes[i], &cs[i]),
					 "round trip keeps every change (CHG-9)");
			}
		}
		eb_sync_request_free(back);
	} else {
		eb_sync_response resp = { ft_u53(in), cs, n, ft_u53(in), fz_u8(in) & 1 };
		eb_sync_response *back = NULL;

		rc = eb_sync_response_encode(&resp, &enc);
		FZ_CHECK(rc == EB_OK || rc == EB_ERR_NOMEM, "a valid response encodes");
		if (rc != EB_OK)
			goto out;
		rc = eb_sync_response_parse(enc, strlen(enc), &back, &err);
		ft_report(enc, rc, &err);
		FZ_CHECK(rc == EB_OK || rc == EB_ERR_NOMEM, "an encoded response parses");
		if (back) {
			FZ_CHECK(back->current_version == resp.current_version &&
				 back->to_version == resp.to_version &&
				 back->has_more == resp.has_more && back->n == n,
				 "round trip keeps the response members");
			for (i = 0; i < n; i++) {
				if (!fg_change_equal(&back->changes[i], &cs[i]))
					fprintf(stderr, "change %zu differs after %s\n", i, enc);
				FZ_CHECK(fg_change_equal(&back->changes[i], &cs[i]),
					 "round trip keeps every change and version (CHG-9, VER-6)");
			}
		}
		eb_sync_response_free(back);
	}
out:
	free(enc);
	for (i = 0; i < built; i++)
		eb_change_clear(&cs[i]);
}

static void ft_error(fz_in *in)
{
	static const char *const codes[] = { "INVALID_JSON", "INVALID_REQUEST",
		"RESYNC_REQUIRED", "CHANGE_ID_CONFLICT", "LIMIT_EXCEEDED",
		"TIMESTAMP_IN_FUTURE", "UNAUTHORIZED", "INTERNAL" };
	char msg[200];
	eb_problems pr = { 0 };
	eb_error_body *back = NULL;
	char *enc = NULL;
	const char *code = codes[fz_below(in, 8)];
	int64_t cv = fz_u8(in) & 1 ? (int64_t)ft_u53(in) : -1;
	size_t n = fz_below(in, 4), i;
	eb_err err;
	eb_rc rc;

	fg_text(in, msg, sizeof(msg), 10, false, false);
	for (i = 0; i < n; i++) {
		char field[100];
		long idx = fz_u8(in) & 1 ? (long)fz_below(in, 600) : -1;

		fg_text(in, field, sizeof(field), 6, true, false);
		if (eb_problems_add(&pr, idx, field, "INVALID_FIELD", "", "") != EB_OK)
			goto out;
	}
	rc = eb_error_body_encode(code, msg, &pr, cv, &enc);
	FZ_CHECK(rc == EB_OK || rc == EB_ERR_NOMEM, "an error body encodes");
	if (rc != EB_OK)
		goto out;
	rc = eb_error_body_parse(enc, strlen(enc), &back, &err);
	ft_report(enc, rc, &err);
	FZ_CHECK(rc == EB_OK || rc == EB_ERR_NOMEM, "an encoded error body parses");
	if (back) {
		FZ_CHECK(strcmp(back->code, code) == 0 && strcmp(back->message, msg) == 0,
			 "round trip keeps code and message");
		FZ_CHECK(back->has_current_version == (cv >= 0) &&
			 (cv < 0 || back->current_version == (uint64_t)cv),
			 "round trip keeps currentVersion");
		FZ_CHECK(back->errors.n == pr.n, "round trip keeps errors");
		for (i = 0; i < pr.n; i++)
			FZ_CHECK(back->errors.items[i].index == pr.items[i].index &&
				 strcmp(back->errors.items[i].field, pr.items[i].field) == 0,
				 "round trip keeps each entry");
	}
out:
	eb_error_body_free(back);
	eb_problems_clear(&pr);
	free(enc);
}

static void ft_request_id(fz_in *in, char *buf)
{
	fg_text(in, buf, EB_WS_REQUEST_ID_MAX + 1, 10, true, false);
}

static void ft_ws_client(fz_in *in)
{
	char rid[EB_WS_REQUEST_ID_MAX + 1], token[300], ids[4][140];
	const char *idp[4];
	eb_ws_client_msg *back = NULL;
	char *enc = NULL;
	uint8_t kind = fz_u8(in) % 4;
	size_t n = 1 + fz_below(in, 4), i;
	eb_err err;
	eb_rc rc;

	ft_request_id(in, rid);
	fg_text(in, token, sizeof(token), 20, false, false);
	for (i = 0; i < n; i++) {
		fg_text(in, ids[i], sizeof(ids[i]), 8, false, false);
		idp[i] = ids[i];
	}
	if (kind == 0)
		rc = eb_ws_encode_auth(rid, token, &enc);
	else if (kind == 3)
		rc = eb_ws_encode_ping(rid, &enc);
	else
		rc = eb_ws_encode_subscribe(rid, kind == 2, idp, n, &enc);
	FZ_CHECK(rc == EB_OK || rc == EB_ERR_NOMEM, "a valid client message encodes");
	if (rc != EB_OK)
		return;
	rc = eb_ws_client_msg_parse(enc, strlen(enc), &back, &err);
	ft_report(enc, rc, &err);
	FZ_CHECK(rc == EB_OK || rc == EB_ERR_NOMEM, "an encoded client message parses");
	if (back) {
		static const eb_ws_client_type types[] = { EB_WS_C_AUTH,
			EB_WS_C_SUBSCRIBE, EB_WS_C_UNSUBSCRIBE, EB_WS_C_PING };

		FZ_CHECK(back->type == types[kind], "round trip keeps the type");
		FZ_CHECK(ft_streq(back->request_id, rid), "round trip keeps requestId");
		if (kind == 0)
			FZ_CHECK(ft_streq(back->token, token), "round trip keeps the token");
		if (kind == 1 || kind == 2) {
			FZ_CHECK(back->n_store_ids == n, "round trip keeps storeIds");
			for (i = 0; i < n; i++)
				FZ_CHECK(ft_streq(back->store_ids[i], ids[i]),
					 "round trip keeps each store id");
		}
	}
	eb_ws_client_msg_free(back);
	free(enc);
}

static void ft_ws_server(fz_in *in)
{
	char rid[EB_WS_REQUEST_ID_MAX + 1], text[200], code[40], ids[4][140], eids[4][140];
	eb_ws_store_version sv[4];
	eb_ws_store_error se[4];
	eb_ws_server_msg *back = NULL;
	char *enc = NULL;
	uint8_t kind = fz_u8(in) % 6;
	size_t ns = fz_below(in, 5), ne = fz_below(in, 5), i;
	uint64_t a = ft_u53(in), b = ft_u53(in);
	bool with_rid = (fz_u8(in) & 3) != 0;
	eb_err err;
	eb_rc rc;

	ft_request_id(in, rid);
	fg_text(in, text, sizeof(text), 12, false, false);
	fg_text(in, code, sizeof(code), 4, true, false);
	for (i = 0; i < ns; i++) {
		fg_text(in, ids[i], sizeof(ids[i]), 8, false, false);
		sv[i].store_id = ids[i];
		sv[i].version = ft_u53(in);
	}
	for (i = 0; i < ne; i++) {
		fg_text(in, eids[i], sizeof(eids[i]), 8, false, false);
		se[i].store_id = eids[i];
		se[i].code = code;
	}
	switch (kind) {
	case 0: rc = eb_ws_encode_auth_ok(rid, text, a, &enc); break;
	case 1:
	case 2: rc = eb_ws_encode_sub_ack(rid, kind == 2, sv, ns, se, ne, &enc); break;
	case 3: rc = eb_ws_encode_pong(rid, &enc); break;
	case 4: rc = eb_ws_encode_store_changed(text, a, b, &enc); break;
	default: rc = eb_ws_encode_error(with_rid ? rid : NULL, code, text, &enc); break;
	}
	FZ_CHECK(rc == EB_OK || rc == EB_ERR_NOMEM, "a valid server message encodes");
	if (rc != EB_OK)
		return;
	rc = eb_ws_server_msg_parse(enc, strlen(enc), &back, &err);
	ft_report(enc, rc, &err);
	FZ_CHECK(rc == EB_OK || rc == EB_ERR_NOMEM, "an encoded server message parses");
	if (!back)
		goto out;
	switch (kind) {
	case 0:
		FZ_CHECK(back->type == EB_WS_S_AUTH_OK && ft_streq(back->request_id, rid) &&
			 ft_streq(back->subject, text) && back->expires_at == a,
			 "round trip keeps auth_ok");
		break;
	case 1:
	case 2:
		FZ_CHECK(back->type == (kind == 1 ? EB_WS_S_SUBSCRIBED : EB_WS_S_UNSUBSCRIBED) &&
			 ft_streq(back->request_id, rid) && back->n_stores == ns &&
			 back->n_errors == ne, "round trip keeps the ack");
		for (i = 0; i < ns; i++)
			FZ_CHECK(ft_streq(back->stores[i].store_id, ids[i]) &&
				 back->stores[i].version == sv[i].version,
				 "round trip keeps each store and version");
		for (i = 0; i < ne; i++)
			FZ_CHECK(ft_streq(back->errors[i].store_id, eids[i]) &&
				 ft_streq(back->errors[i].code, code),
				 "round trip keeps each per-store error");
		break;
	case 3:
		FZ_CHECK(back->type == EB_WS_S_PONG && ft_streq(back->request_id, rid),
			 "round trip keeps pong");
		break;
	case 4:
		FZ_CHECK(back->type == EB_WS_S_STORE_CHANGED && ft_streq(back->store_id, text) &&
			 back->version == a && back->timestamp == b,
			 "round trip keeps store_changed");
		break;
	default:
		FZ_CHECK(back->type == EB_WS_S_ERROR &&
			 ft_streq(back->request_id, with_rid ? rid : NULL) &&
			 ft_streq(back->code, code) && ft_streq(back->message, text),
			 "round trip keeps error");
		break;
	}
out:
	eb_ws_server_msg_free(back);
	free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_in in;

	fz_init(&in, data, size);
	switch (fz_u8(&in) % 5) {
	case 0: ft_sync(&in, false); break;
	case 1: ft_sync(&in, true); break;
	case 2: ft_error(&in); break;
	case 3: ft_ws_client(&in); break;
	default: ft_ws_server(&in); break;
	}
	return 0;
}
