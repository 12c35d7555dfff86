/*
 * fuzz_ws_server.c — eb_ws_server_msg_parse (what a client SDK or the
 * conformance suite does with every frame from a server) on arbitrary bytes.
 *
 * Invariants: refusals are INVALID_JSON / INVALID_REQUEST with a rule id and
 * no message; accepted known types hold what section 10 requires; and
 * parse -> encode -> parse gives the same message (a missing error message
 * is encoded as "").
 */
#include "../fuzz_common.h"

#include "eb_ws.h"

static bool fs_streq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static const char *fs_or_empty(const char *s)
{
	return s ? s : "";
}

static void fs_same(const eb_ws_server_msg *a, const eb_ws_server_msg *b)
{
	size_t i;

	FZ_CHECK(a->type == b->type, "round trip keeps type");
	FZ_CHECK(fs_streq(a->type_str, b->type_str), "round trip keeps type string");
	FZ_CHECK(fs_streq(a->request_id, b->request_id), "round trip keeps requestId");
	switch (a->type) {
	case EB_WS_S_AUTH_OK:
		FZ_CHECK(fs_streq(a->subject, b->subject), "round trip keeps subject");
		FZ_CHECK(a->expires_at == b->expires_at, "round trip keeps expiresAt");
		break;
	case EB_WS_S_SUBSCRIBED:
	case EB_WS_S_UNSUBSCRIBED:
		FZ_CHECK(a->n_stores == b->n_stores, "round trip keeps stores");
		for (i = 0; i < a->n_stores; i++) {
			FZ_CHECK(fs_streq(a->stores[i].store_id, b->stores[i].store_id),
				 "round trip keeps storeId");
			FZ_CHECK(a->stores[i].version == b->stores[i].version,
				 "round trip keeps version");
		}
		FZ_CHECK(a->n_errors == b->n_errors, "round trip keeps errors");
		for (i = 0; i < a->n_errors; i++) {
			FZ_CHECK(fs_streq(a->errors[i].store_id, b->errors[i].store_id),
				 "round trip keeps error storeId");
			FZ_CHECK(fs_streq(a->errors[i].code, b->errors[i].code),
				 "round trip keeps error code");
		}
		break;
	case EB_WS_S_STORE_CHANGED:
		FZ_CHECK(fs_streq(a->store_id, b->store_id), "round trip keeps storeId");
		FZ_CHECK(a->version == b->version && a->timestamp == b->timestamp,
			 "round trip keeps version and timestamp");
		break;
	case EB_WS_S_ERROR:
		FZ_CHECK(fs_streq(a->code, b->code), "round trip keeps code");
		FZ_CHECK(strcmp(fs_or_empty(a->message), fs_or_empty(b->message)) == 0,
			 "round trip keeps message");
		break;
	default:
		break;
	}
}

static void fs_roundtrip(const eb_ws_server_msg *m)
{
	char *enc = NULL;
	eb_ws_server_msg *back = NULL;
	eb_err err;
	eb_rc rc;

	switch (m->type) {
	case EB_WS_S_AUTH_OK:
		rc = eb_ws_encode_auth_ok(m->request_id, m->subject, m->expires_at, &enc);
		break;
	case EB_WS_S_SUBSCRIBED:
	case EB_WS_S_UNSUBSCRIBED:
		rc = eb_ws_encode_sub_ack(m->request_id, m->type == EB_WS_S_UNSUBSCRIBED,
					  m->stores, m->n_stores, m->errors,
					  m->n_errors, &enc);
		break;
	case EB_WS_S_PONG:
		rc = eb_ws_encode_pong(m->request_id, &enc);
		break;
	case EB_WS_S_STORE_CHANGED:
		rc = eb_ws_encode_store_changed(m->store_id, m->version, m->timestamp, &enc);
		break;
	case EB_WS_S_ERROR:
		rc = eb_ws_encode_error(m->request_id, m->code, m->message, &enc);
		break;
	default:
		return;
	}
	if (rc == EB_ERR_NOMEM)
		return;
	FZ_CHECK(rc == EB_OK, "a parsed server message can be encoded again");
	rc = eb_ws_server_msg_parse(enc, strlen(enc), &back, &err);
	FZ_CHECK(rc == EB_OK || rc == EB_ERR_NOMEM, "an encoded server message parses");
	if (rc == EB_OK)
		fs_same(m, back);
	eb_ws_server_msg_free(back);
	free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	eb_ws_server_msg *m = (eb_ws_server_msg *)(uintptr_t)1;
	eb_err err;
	eb_rc rc = eb_ws_server_msg_parse((const char *)data, size, &m, &err);
	size_t i, n;

	if (rc != EB_OK) {
		FZ_CHECK(m == NULL, "refused message yields nothing");
		FZ_CHECK(rc == EB_ERR_JSON || rc == EB_ERR_SHAPE || rc == EB_ERR_NOMEM,
			 "server message refusals are JSON or SHAPE");
		if (rc != EB_ERR_NOMEM)
			FZ_CHECK(err.rule[0] != '\0', "server message refusals cite a rule");
		return 0;
	}
	FZ_CHECK(m != NULL && m->type_str != NULL, "accepted message has a type");
	if (m->type != EB_WS_S_UNKNOWN && m->type != EB_WS_S_STORE_CHANGED &&
	    (m->type != EB_WS_S_ERROR || m->request_id)) {
		n = m->request_id ? strlen(m->request_id) : 0;
		FZ_CHECK(n >= 1 && n <= EB_WS_REQUEST_ID_MAX, "requestId is 1..64 bytes");
	}
	switch (m->type) {
	case EB_WS_S_AUTH_OK:
		FZ_CHECK(m->subject != NULL, "auth_ok has a subject (WS-AUTH-4)");
		FZ_CHECK(m->expires_at <= 9007199254740991ULL, "expiresAt is GEN-5");
		break;
	case EB_WS_S_SUBSCRIBED:
	case EB_WS_S_UNSUBSCRIBED:
		for (i = 0; i < m->n_stores; i++)
			FZ_CHECK(m->stores[i].store_id != NULL &&
				 m->stores[i].version <= 9007199254740991ULL,
				 "ack stores have storeId and version");
		for (i = 0; i < m->n_errors; i++)
			FZ_CHECK(m->errors[i].store_id && m->errors[i].code,
				 "ack errors have storeId and code");
		break;
	case EB_WS_S_STORE_CHANGED:
		FZ_CHECK(m->store_id != NULL, "store_changed has a storeId");
		break;
	case EB_WS_S_ERROR:
		FZ_CHECK(m->code != NULL, "error has a code");
		break;
	default:
		break;
	}
	fs_roundtrip(m);
	eb_ws_server_msg_free(m);
	return 0;
}
