/*
 * fuzz_ws_client.c — eb_ws_client_msg_parse (what a server does with every
 * text frame) on arbitrary bytes.
 *
 * Invariants: a refusal is INVALID_JSON or INVALID_REQUEST citing WS-2 or
 * WS-SUB-6 (the server closes 4400) and yields no message; an accepted
 * message of a known type has the members section 10 requires (requestId of
 * 1..64 bytes, token for auth, 1..100 storeIds for (un)subscribe); and
 * parse -> encode -> parse gives the same message.
 */
#include "../fuzz_common.h"

#include "eb_ws.h"

static bool fw_streq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static void fw_roundtrip(const eb_ws_client_msg *m)
{
	char *enc = NULL;
	eb_ws_client_msg *back = NULL;
	eb_err err;
	eb_rc rc;
	size_t i;

	switch (m->type) {
	case EB_WS_C_AUTH:
		rc = eb_ws_encode_auth(m->request_id, m->token, &enc);
		break;
	case EB_WS_C_SUBSCRIBE:
	case EB_WS_C_UNSUBSCRIBE:
		rc = eb_ws_encode_subscribe(m->request_id,
					    m->type == EB_WS_C_UNSUBSCRIBE,
					    (const char *const *)m->store_ids,
					    m->n_store_ids, &enc);
		break;
	case EB_WS_C_PING:
		rc = eb_ws_encode_ping(m->request_id, &enc);
		break;
	default:
		return;
	}
	if (rc == EB_ERR_NOMEM)
		return;
	FZ_CHECK(rc == EB_OK, "a parsed client message can be encoded again");
	rc = eb_ws_client_msg_parse(enc, strlen(enc), &back, &err);
	FZ_CHECK(rc == EB_OK || rc == EB_ERR_NOMEM, "an encoded client message parses");
	if (rc == EB_OK) {
		FZ_CHECK(back->type == m->type, "round trip keeps type");
		FZ_CHECK(fw_streq(back->type_str, m->type_str), "round trip keeps type string");
		FZ_CHECK(fw_streq(back->request_id, m->request_id), "round trip keeps requestId");
		FZ_CHECK(fw_streq(back->token, m->token), "round trip keeps token");
		FZ_CHECK(back->n_store_ids == m->n_store_ids, "round trip keeps storeIds count");
		for (i = 0; i < m->n_store_ids; i++)
			FZ_CHECK(fw_streq(back->store_ids[i], m->store_ids[i]),
				 "round trip keeps storeIds");
	}
	eb_ws_client_msg_free(back);
	free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	eb_ws_client_msg *m = (eb_ws_client_msg *)(uintptr_t)1;
	eb_err err;
	eb_rc rc = eb_ws_client_msg_parse((const char *)data, size, &m, &err);
	size_t i, n;

	if (rc != EB_OK) {
		FZ_CHECK(m == NULL, "refused message yields nothing");
		FZ_CHECK(rc == EB_ERR_JSON || rc == EB_ERR_SHAPE || rc == EB_ERR_NOMEM,
			 "client message refusals are JSON or SHAPE");
		if (rc != EB_ERR_NOMEM)
			FZ_CHECK(strcmp(err.rule, "WS-2") == 0 ||
				 strcmp(err.rule, "WS-SUB-6") == 0,
				 "client message refusals cite WS-2 or WS-SUB-6");
		return 0;
	}
	FZ_CHECK(m != NULL && m->type_str != NULL, "accepted message has a type");
	if (m->type != EB_WS_C_UNKNOWN) {
		n = m->request_id ? strlen(m->request_id) : 0;
		FZ_CHECK(n >= 1 && n <= EB_WS_REQUEST_ID_MAX, "requestId is 1..64 bytes");
	}
	switch (m->type) {
	case EB_WS_C_AUTH:
		FZ_CHECK(strcmp(m->type_str, "auth") == 0 && m->token != NULL,
			 "auth carries a token");
		break;
	case EB_WS_C_SUBSCRIBE:
	case EB_WS_C_UNSUBSCRIBE:
		FZ_CHECK(m->n_store_ids >= 1 && m->n_store_ids <= EB_WS_MAX_STORE_IDS,
			 "storeIds holds 1..100 entries (WS-SUB-6)");
		for (i = 0; i < m->n_store_ids; i++)
			FZ_CHECK(m->store_ids[i] != NULL, "storeIds entries are strings");
		break;
	case EB_WS_C_PING:
		FZ_CHECK(strcmp(m->type_str, "ping") == 0, "ping type");
		break;
	default:
		FZ_CHECK(strcmp(m->type_str, "auth") && strcmp(m->type_str, "subscribe") &&
			 strcmp(m->type_str, "unsubscribe") && strcmp(m->type_str, "ping"),
			 "known type names are never UNKNOWN");
		break;
	}
	fw_roundtrip(m);
	eb_ws_client_msg_free(m);
	return 0;
}
