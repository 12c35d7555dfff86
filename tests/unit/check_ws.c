/*
 * check_ws.c — the WebSocket messages of PROTOCOL.md section 10: every
 * message kind parsed, every malformed kind refused with its rule id, and
 * every encoder's output read back by the matching parser.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eb_json.h"
#include "eb_ws.h"

/* ---- helpers -------------------------------------------------------------- */

static eb_ws_client_msg *client_ok(const char *s)
{
	eb_ws_client_msg *m = NULL;
	eb_err err;
	eb_rc rc = eb_ws_client_msg_parse(s, strlen(s), &m, &err);
	ck_assert_msg(rc == EB_OK, "%s: %s %s %s", s, eb_rc_name(rc), err.rule,
		      err.msg);
	ck_assert_ptr_nonnull(m);
	return m;
}

static void client_bad(const char *s, eb_rc want_rc, const char *rule,
		       const char *field)
{
	eb_ws_client_msg *m = (eb_ws_client_msg *)1;
	eb_err err;
	eb_rc rc = eb_ws_client_msg_parse(s, strlen(s), &m, &err);
	ck_assert_msg(rc == want_rc, "%s: got %s (%s), want %s", s, eb_rc_name(rc),
		      err.msg, eb_rc_name(want_rc));
	ck_assert_ptr_null(m);
	ck_assert_str_eq(err.rule, rule);
	if (field)
		ck_assert_str_eq(err.field, field);
}

static eb_ws_server_msg *server_ok(const char *s)
{
	eb_ws_server_msg *m = NULL;
	eb_err err;
	eb_rc rc = eb_ws_server_msg_parse(s, strlen(s), &m, &err);
	ck_assert_msg(rc == EB_OK, "%s: %s %s %s", s, eb_rc_name(rc), err.rule,
		      err.msg);
	ck_assert_ptr_nonnull(m);
	return m;
}

static void server_bad(const char *s, const char *rule, const char *field)
{
	eb_ws_server_msg *m = (eb_ws_server_msg *)1;
	eb_err err;
	eb_rc rc = eb_ws_server_msg_parse(s, strlen(s), &m, &err);
	ck_assert_msg(rc == EB_ERR_SHAPE, "%s: got %s (%s)", s, eb_rc_name(rc),
		      err.msg);
	ck_assert_ptr_null(m);
	ck_assert_str_eq(err.rule, rule);
	if (field)
		ck_assert_str_eq(err.field, field);
}

/* true when the encoder output s is canonically equal to the JSON want. */
static void json_same(const char *s, const char *want)
{
	cJSON *a = NULL, *b = NULL;
	ck_assert_int_eq(eb_json_parse(s, strlen(s), 8, &a, NULL), EB_OK);
	ck_assert_int_eq(eb_json_parse(want, strlen(want), 8, &b, NULL), EB_OK);
	ck_assert_msg(eb_json_canon_equal(a, b), "%s != %s", s, want);
	cJSON_Delete(a);
	cJSON_Delete(b);
}

/* ---- client -> server: accepted ------------------------------------------- */

START_TEST(test_ws_client_parses_auth_WS_AUTH_1)
{
	eb_ws_client_msg *m = client_ok(
		"{\"type\":\"auth\",\"requestId\":\"1\",\"token\":\"a.b.c\"}");
	ck_assert_int_eq(m->type, EB_WS_C_AUTH);
	ck_assert_str_eq(m->type_str, "auth");
	ck_assert_str_eq(m->request_id, "1");
	ck_assert_str_eq(m->token, "a.b.c");
	eb_ws_client_msg_free(m);
}
END_TEST

START_TEST(test_ws_client_parses_subscribe_and_unsubscribe_WS_SUB_6)
{
	eb_ws_client_msg *m = client_ok(
		"{\"type\":\"subscribe\",\"requestId\":\"2\","
		"\"storeIds\":[\"project-456\",\"bad id!\",\"\"]}");
	ck_assert_int_eq(m->type, EB_WS_C_SUBSCRIBE);
	ck_assert_str_eq(m->request_id, "2");
	/* Store ids are not validated here: they get per-store errors. */
	ck_assert_uint_eq(m->n_store_ids, 3);
	ck_assert_str_eq(m->store_ids[0], "project-456");
	ck_assert_str_eq(m->store_ids[1], "bad id!");
	ck_assert_str_eq(m->store_ids[2], "");
	eb_ws_client_msg_free(m);

	m = client_ok("{\"type\":\"unsubscribe\",\"requestId\":\"3\","
		      "\"storeIds\":[\"project-456\"]}");
	ck_assert_int_eq(m->type, EB_WS_C_UNSUBSCRIBE);
	ck_assert_uint_eq(m->n_store_ids, 1);
	eb_ws_client_msg_free(m);
}
END_TEST

START_TEST(test_ws_client_parses_ping_WS_5)
{
	eb_ws_client_msg *m = client_ok("{\"type\":\"ping\",\"requestId\":\"4\"}");
	ck_assert_int_eq(m->type, EB_WS_C_PING);
	ck_assert_str_eq(m->request_id, "4");
	ck_assert_ptr_null(m->token);
	ck_assert_uint_eq(m->n_store_ids, 0);
	eb_ws_client_msg_free(m);
}
END_TEST

START_TEST(test_ws_client_ignores_unknown_members_GEN_4)
{
	eb_ws_client_msg *m = client_ok(
		"{\"x\":[1,{\"y\":null}],\"type\":\"ping\",\"requestId\":\"p\",\"z\":1}");
	ck_assert_int_eq(m->type, EB_WS_C_PING);
	eb_ws_client_msg_free(m);
}
END_TEST

START_TEST(test_ws_client_unknown_type_is_well_formed_WS_3)
{
	eb_ws_client_msg *m = client_ok("{\"type\":\"hello\",\"requestId\":\"9\"}");
	ck_assert_int_eq(m->type, EB_WS_C_UNKNOWN);
	ck_assert_str_eq(m->type_str, "hello");
	ck_assert_str_eq(m->request_id, "9");
	eb_ws_client_msg_free(m);

	/* Without a usable requestId it is still an UNKNOWN_TYPE, not a 4400. */
	m = client_ok("{\"type\":\"hello\",\"requestId\":5}");
	ck_assert_int_eq(m->type, EB_WS_C_UNKNOWN);
	ck_assert_ptr_null(m->request_id);
	eb_ws_client_msg_free(m);

	/* Type names are case-sensitive. */
	m = client_ok("{\"type\":\"PING\",\"requestId\":\"1\"}");
	ck_assert_int_eq(m->type, EB_WS_C_UNKNOWN);
	eb_ws_client_msg_free(m);
}
END_TEST

START_TEST(test_ws_client_request_id_of_64_bytes_is_accepted_WS_2)
{
	char buf[200];
	char id[65];
	memset(id, 'r', 64);
	id[64] = '\0';
	snprintf(buf, sizeof buf, "{\"type\":\"ping\",\"requestId\":\"%s\"}", id);
	eb_ws_client_msg *m = client_ok(buf);
	ck_assert_str_eq(m->request_id, id);
	eb_ws_client_msg_free(m);
}
END_TEST

START_TEST(test_ws_client_100_store_ids_are_accepted_WS_SUB_6)
{
	char buf[2000];
	size_t n = (size_t)snprintf(buf, sizeof buf,
				    "{\"type\":\"subscribe\",\"requestId\":\"1\",\"storeIds\":[");
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%s\"s%d\"",
				      i ? "," : "", i);
	snprintf(buf + n, sizeof buf - n, "]}");
	eb_ws_client_msg *m = client_ok(buf);
	ck_assert_uint_eq(m->n_store_ids, 100);
	ck_assert_str_eq(m->store_ids[99], "s99");
	eb_ws_client_msg_free(m);
}
END_TEST

/* ---- client -> server: refused --------------------------------------------- */

START_TEST(test_ws_client_rejects_invalid_json_WS_2)
{
	client_bad("{\"type\":\"ping\",", EB_ERR_JSON, "WS-2", NULL);
	client_bad("", EB_ERR_JSON, "WS-2", NULL);
	client_bad("{\"type\":\"ping\",\"requestId\":\"1\"} x", EB_ERR_JSON,
		   "WS-2", NULL);
	/* GEN-6: a duplicate member is not valid JSON here either. */
	client_bad("{\"type\":\"ping\",\"type\":\"auth\",\"requestId\":\"1\"}",
		   EB_ERR_JSON, "WS-2", NULL);
	/* Invalid UTF-8. */
	client_bad("{\"type\":\"ping\",\"requestId\":\"\xff\"}", EB_ERR_JSON,
		   "WS-2", NULL);
	/* A NUL byte inside the frame ends nothing: the length counts. */
	eb_ws_client_msg *m = (eb_ws_client_msg *)1;
	eb_err err;
	const char nul[] = "{\"type\":\"ping\",\"requestId\":\"1\"}\0{";
	ck_assert_int_eq(eb_ws_client_msg_parse(nul, sizeof nul - 1, &m, &err),
			 EB_ERR_JSON);
	ck_assert_ptr_null(m);
}
END_TEST

START_TEST(test_ws_client_rejects_non_object_WS_2)
{
	client_bad("[]", EB_ERR_SHAPE, "WS-2", "");
	client_bad("\"ping\"", EB_ERR_SHAPE, "WS-2", "");
	client_bad("null", EB_ERR_SHAPE, "WS-2", "");
	client_bad("42", EB_ERR_SHAPE, "WS-2", "");
}
END_TEST

START_TEST(test_ws_client_rejects_missing_type_WS_2)
{
	client_bad("{}", EB_ERR_SHAPE, "WS-2", "type");
	client_bad("{\"requestId\":\"1\"}", EB_ERR_SHAPE, "WS-2", "type");
	client_bad("{\"Type\":\"ping\",\"requestId\":\"1\"}", EB_ERR_SHAPE, "WS-2",
		   "type");
}
END_TEST

START_TEST(test_ws_client_rejects_non_string_type_WS_2)
{
	client_bad("{\"type\":1,\"requestId\":\"1\"}", EB_ERR_SHAPE, "WS-2", "type");
	client_bad("{\"type\":null,\"requestId\":\"1\"}", EB_ERR_SHAPE, "WS-2", "type");
	client_bad("{\"type\":[\"ping\"],\"requestId\":\"1\"}", EB_ERR_SHAPE, "WS-2",
		   "type");
	client_bad("{\"type\":{},\"requestId\":\"1\"}", EB_ERR_SHAPE, "WS-2", "type");
}
END_TEST

START_TEST(test_ws_client_rejects_missing_request_id_WS_2)
{
	client_bad("{\"type\":\"ping\"}", EB_ERR_SHAPE, "WS-2", "requestId");
	client_bad("{\"type\":\"auth\",\"token\":\"t\"}", EB_ERR_SHAPE, "WS-2",
		   "requestId");
	client_bad("{\"type\":\"subscribe\",\"storeIds\":[\"a\"]}", EB_ERR_SHAPE,
		   "WS-2", "requestId");
	client_bad("{\"type\":\"unsubscribe\",\"storeIds\":[\"a\"]}", EB_ERR_SHAPE,
		   "WS-2", "requestId");
}
END_TEST

START_TEST(test_ws_client_rejects_empty_request_id_WS_2)
{
	client_bad("{\"type\":\"ping\",\"requestId\":\"\"}", EB_ERR_SHAPE, "WS-2",
		   "requestId");
}
END_TEST

START_TEST(test_ws_client_rejects_request_id_over_64_bytes_WS_2)
{
	char buf[200];
	char id[66];
	memset(id, 'r', 65);
	id[65] = '\0';
	snprintf(buf, sizeof buf, "{\"type\":\"ping\",\"requestId\":\"%s\"}", id);
	client_bad(buf, EB_ERR_SHAPE, "WS-2", "requestId");
	/* Bytes, not characters: 33 two-byte characters are 66 bytes. */
	char u[200] = "{\"type\":\"ping\",\"requestId\":\"";
	size_t n = strlen(u);
	for (int i = 0; i < 33; i++) {
		u[n++] = (char)0xc3;
		u[n++] = (char)0xa9;
	}
	memcpy(u + n, "\"}", 3);
	client_bad(u, EB_ERR_SHAPE, "WS-2", "requestId");
}
END_TEST

START_TEST(test_ws_client_rejects_non_string_request_id_WS_2)
{
	client_bad("{\"type\":\"ping\",\"requestId\":4}", EB_ERR_SHAPE, "WS-2",
		   "requestId");
	client_bad("{\"type\":\"ping\",\"requestId\":null}", EB_ERR_SHAPE, "WS-2",
		   "requestId");
	client_bad("{\"type\":\"auth\",\"requestId\":[\"1\"],\"token\":\"t\"}",
		   EB_ERR_SHAPE, "WS-2", "requestId");
}
END_TEST

START_TEST(test_ws_client_rejects_auth_without_string_token_WS_2)
{
	client_bad("{\"type\":\"auth\",\"requestId\":\"1\"}", EB_ERR_SHAPE, "WS-2",
		   "token");
	client_bad("{\"type\":\"auth\",\"requestId\":\"1\",\"token\":7}",
		   EB_ERR_SHAPE, "WS-2", "token");
	client_bad("{\"type\":\"auth\",\"requestId\":\"1\",\"token\":null}",
		   EB_ERR_SHAPE, "WS-2", "token");
}
END_TEST

START_TEST(test_ws_client_rejects_store_ids_not_array_WS_SUB_6)
{
	client_bad("{\"type\":\"subscribe\",\"requestId\":\"1\"}", EB_ERR_SHAPE,
		   "WS-SUB-6", "storeIds");
	client_bad("{\"type\":\"subscribe\",\"requestId\":\"1\",\"storeIds\":\"a\"}",
		   EB_ERR_SHAPE, "WS-SUB-6", "storeIds");
	client_bad("{\"type\":\"unsubscribe\",\"requestId\":\"1\",\"storeIds\":{}}",
		   EB_ERR_SHAPE, "WS-SUB-6", "storeIds");
}
END_TEST

START_TEST(test_ws_client_rejects_empty_store_ids_WS_SUB_6)
{
	client_bad("{\"type\":\"subscribe\",\"requestId\":\"1\",\"storeIds\":[]}",
		   EB_ERR_SHAPE, "WS-SUB-6", "storeIds");
	client_bad("{\"type\":\"unsubscribe\",\"requestId\":\"1\",\"storeIds\":[]}",
		   EB_ERR_SHAPE, "WS-SUB-6", "storeIds");
}
END_TEST

START_TEST(test_ws_client_rejects_101_store_ids_WS_SUB_6)
{
	char buf[2000];
	size_t n = (size_t)snprintf(buf, sizeof buf,
				    "{\"type\":\"subscribe\",\"requestId\":\"1\",\"storeIds\":[");
	for (int i = 0; i < 101; i++)
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%s\"s%d\"",
				      i ? "," : "", i);
	snprintf(buf + n, sizeof buf - n, "]}");
	client_bad(buf, EB_ERR_SHAPE, "WS-SUB-6", "storeIds");
}
END_TEST

START_TEST(test_ws_client_rejects_non_string_store_id_WS_SUB_6)
{
	client_bad("{\"type\":\"subscribe\",\"requestId\":\"1\","
		   "\"storeIds\":[\"a\",2]}", EB_ERR_SHAPE, "WS-SUB-6", "storeIds[1]");
	client_bad("{\"type\":\"subscribe\",\"requestId\":\"1\","
		   "\"storeIds\":[null]}", EB_ERR_SHAPE, "WS-SUB-6", "storeIds[0]");
	client_bad("{\"type\":\"unsubscribe\",\"requestId\":\"1\","
		   "\"storeIds\":[[\"a\"]]}", EB_ERR_SHAPE, "WS-SUB-6", "storeIds[0]");
}
END_TEST

START_TEST(test_ws_client_rejects_too_deep_nesting_WS_2)
{
	/* Deeper than EB_JSON_MAX_DEPTH in an ignored member. */
	char buf[300];
	size_t n = (size_t)snprintf(buf, sizeof buf,
				    "{\"type\":\"ping\",\"requestId\":\"1\",\"x\":");
	for (int i = 0; i < EB_JSON_MAX_DEPTH + 1; i++)
		buf[n++] = '[';
	for (int i = 0; i < EB_JSON_MAX_DEPTH + 1; i++)
		buf[n++] = ']';
	memcpy(buf + n, "}", 2);
	client_bad(buf, EB_ERR_JSON, "WS-2", NULL);
}
END_TEST

START_TEST(test_ws_client_parse_rejects_null_out_arg)
{
	eb_err err;
	ck_assert_int_eq(eb_ws_client_msg_parse("{}", 2, NULL, &err), EB_ERR_ARG);
	ck_assert_int_eq(eb_ws_server_msg_parse("{}", 2, NULL, &err), EB_ERR_ARG);
	eb_ws_client_msg_free(NULL);
	eb_ws_server_msg_free(NULL);
}
END_TEST

/* ---- server -> client ------------------------------------------------------ */

START_TEST(test_ws_server_parses_auth_ok_WS_AUTH_4)
{
	eb_ws_server_msg *m = server_ok(
		"{\"type\":\"auth_ok\",\"requestId\":\"1\",\"subject\":\"alice\","
		"\"expiresAt\":1640999999000}");
	ck_assert_int_eq(m->type, EB_WS_S_AUTH_OK);
	ck_assert_str_eq(m->request_id, "1");
	ck_assert_str_eq(m->subject, "alice");
	ck_assert_uint_eq(m->expires_at, 1640999999000ULL);
	eb_ws_server_msg_free(m);
}
END_TEST

START_TEST(test_ws_server_parses_subscribed_with_errors_WS_SUB_1)
{
	eb_ws_server_msg *m = server_ok(
		"{\"type\":\"subscribed\",\"requestId\":\"2\",\"stores\":"
		"[{\"storeId\":\"project-456\",\"version\":44},"
		"{\"storeId\":\"b\",\"version\":0,\"extra\":true}],"
		"\"errors\":[{\"storeId\":\"secret\",\"code\":\"FORBIDDEN\"}]}");
	ck_assert_int_eq(m->type, EB_WS_S_SUBSCRIBED);
	ck_assert_uint_eq(m->n_stores, 2);
	ck_assert_str_eq(m->stores[0].store_id, "project-456");
	ck_assert_uint_eq(m->stores[0].version, 44);
	ck_assert_str_eq(m->stores[1].store_id, "b");
	ck_assert_uint_eq(m->stores[1].version, 0);
	ck_assert_uint_eq(m->n_errors, 1);
	ck_assert_str_eq(m->errors[0].store_id, "secret");
	ck_assert_str_eq(m->errors[0].code, "FORBIDDEN");
	eb_ws_server_msg_free(m);

	/* Every store refused: empty stores, errors only. */
	m = server_ok("{\"type\":\"subscribed\",\"requestId\":\"2\",\"stores\":[],"
		      "\"errors\":[{\"storeId\":\"x y\",\"code\":\"INVALID_STORE_ID\"}]}");
	ck_assert_uint_eq(m->n_stores, 0);
	ck_assert_uint_eq(m->n_errors, 1);
	eb_ws_server_msg_free(m);
}
END_TEST

START_TEST(test_ws_server_parses_unsubscribed_WS_SUB_5)
{
	eb_ws_server_msg *m = server_ok(
		"{\"type\":\"unsubscribed\",\"requestId\":\"3\",\"stores\":"
		"[{\"storeId\":\"project-456\",\"version\":45}]}");
	ck_assert_int_eq(m->type, EB_WS_S_UNSUBSCRIBED);
	ck_assert_uint_eq(m->n_stores, 1);
	ck_assert_uint_eq(m->stores[0].version, 45);
	ck_assert_uint_eq(m->n_errors, 0);
	eb_ws_server_msg_free(m);
}
END_TEST

START_TEST(test_ws_server_parses_pong_WS_5)
{
	eb_ws_server_msg *m = server_ok("{\"type\":\"pong\",\"requestId\":\"4\"}");
	ck_assert_int_eq(m->type, EB_WS_S_PONG);
	ck_assert_str_eq(m->request_id, "4");
	eb_ws_server_msg_free(m);
}
END_TEST

START_TEST(test_ws_server_parses_store_changed_WS_NOTIF_3)
{
	eb_ws_server_msg *m = server_ok(
		"{\"type\":\"store_changed\",\"storeId\":\"project-456\","
		"\"version\":45,\"timestamp\":1640995300000}");
	ck_assert_int_eq(m->type, EB_WS_S_STORE_CHANGED);
	ck_assert_str_eq(m->store_id, "project-456");
	ck_assert_uint_eq(m->version, 45);
	ck_assert_uint_eq(m->timestamp, 1640995300000ULL);
	ck_assert_ptr_null(m->request_id);
	eb_ws_server_msg_free(m);
}
END_TEST

START_TEST(test_ws_server_parses_error_WS_3)
{
	eb_ws_server_msg *m = server_ok(
		"{\"type\":\"error\",\"requestId\":\"5\",\"code\":\"RATE_LIMITED\","
		"\"message\":\"slow down\"}");
	ck_assert_int_eq(m->type, EB_WS_S_ERROR);
	ck_assert_str_eq(m->request_id, "5");
	ck_assert_str_eq(m->code, "RATE_LIMITED");
	ck_assert_str_eq(m->message, "slow down");
	eb_ws_server_msg_free(m);

	m = server_ok("{\"type\":\"error\",\"code\":\"UNKNOWN_TYPE\"}");
	ck_assert_ptr_null(m->request_id);
	ck_assert_ptr_null(m->message);
	eb_ws_server_msg_free(m);
}
END_TEST

START_TEST(test_ws_server_unknown_type_and_members_are_ignored_GEN_7)
{
	eb_ws_server_msg *m = server_ok(
		"{\"type\":\"future_thing\",\"requestId\":\"7\",\"x\":{\"y\":[1]}}");
	ck_assert_int_eq(m->type, EB_WS_S_UNKNOWN);
	ck_assert_str_eq(m->type_str, "future_thing");
	ck_assert_str_eq(m->request_id, "7");
	eb_ws_server_msg_free(m);

	/* GEN-3: unknown members of a known type. */
	m = server_ok("{\"type\":\"pong\",\"requestId\":\"4\",\"serverTime\":1,"
		      "\"nested\":{\"a\":null}}");
	ck_assert_int_eq(m->type, EB_WS_S_PONG);
	eb_ws_server_msg_free(m);
}
END_TEST

START_TEST(test_ws_server_rejects_non_object_or_typeless_WS_2)
{
	eb_ws_server_msg *m = (eb_ws_server_msg *)1;
	eb_err err;
	ck_assert_int_eq(eb_ws_server_msg_parse("nope", 4, &m, &err), EB_ERR_JSON);
	ck_assert_str_eq(err.rule, "WS-2");
	ck_assert_ptr_null(m);
	server_bad("[1]", "WS-2", "");
	server_bad("{\"requestId\":\"1\"}", "WS-2", "type");
	server_bad("{\"type\":7}", "WS-2", "type");
}
END_TEST

START_TEST(test_ws_server_rejects_auth_ok_without_subject_or_expiry_WS_AUTH_4)
{
	server_bad("{\"type\":\"auth_ok\",\"requestId\":\"1\",\"expiresAt\":1}",
		   "WS-AUTH-4", "subject");
	server_bad("{\"type\":\"auth_ok\",\"requestId\":\"1\",\"subject\":1,"
		   "\"expiresAt\":1}", "WS-AUTH-4", "subject");
	server_bad("{\"type\":\"auth_ok\",\"requestId\":\"1\",\"subject\":\"a\"}",
		   "WS-AUTH-4", "expiresAt");
	server_bad("{\"type\":\"auth_ok\",\"requestId\":\"1\",\"subject\":\"a\","
		   "\"expiresAt\":1.5}", "WS-AUTH-4", "expiresAt");
	server_bad("{\"type\":\"auth_ok\",\"requestId\":\"1\",\"subject\":\"a\","
		   "\"expiresAt\":\"1\"}", "WS-AUTH-4", "expiresAt");
	server_bad("{\"type\":\"auth_ok\",\"requestId\":\"1\",\"subject\":\"a\","
		   "\"expiresAt\":-1}", "WS-AUTH-4", "expiresAt");
}
END_TEST

START_TEST(test_ws_server_rejects_reply_without_request_id_WS_4)
{
	server_bad("{\"type\":\"auth_ok\",\"subject\":\"a\",\"expiresAt\":1}",
		   "WS-4", "requestId");
	server_bad("{\"type\":\"subscribed\",\"stores\":[]}", "WS-4", "requestId");
	server_bad("{\"type\":\"unsubscribed\",\"stores\":[]}", "WS-4", "requestId");
	server_bad("{\"type\":\"error\",\"requestId\":3,\"code\":\"X\"}", "WS-4",
		   "requestId");
}
END_TEST

START_TEST(test_ws_server_rejects_bad_subscribed_stores_WS_SUB_1)
{
	server_bad("{\"type\":\"subscribed\",\"requestId\":\"2\"}", "WS-SUB-1",
		   "stores");
	server_bad("{\"type\":\"subscribed\",\"requestId\":\"2\",\"stores\":{}}",
		   "WS-SUB-1", "stores");
	server_bad("{\"type\":\"subscribed\",\"requestId\":\"2\",\"stores\":[1]}",
		   "WS-SUB-1", "stores[0]");
	server_bad("{\"type\":\"subscribed\",\"requestId\":\"2\",\"stores\":"
		   "[{\"version\":1}]}", "WS-SUB-1", "stores[0].storeId");
	server_bad("{\"type\":\"subscribed\",\"requestId\":\"2\",\"stores\":"
		   "[{\"storeId\":\"a\",\"version\":1},{\"storeId\":\"b\"}]}",
		   "WS-SUB-1", "stores[1].version");
	server_bad("{\"type\":\"subscribed\",\"requestId\":\"2\",\"stores\":"
		   "[{\"storeId\":\"a\",\"version\":\"44\"}]}", "WS-SUB-1",
		   "stores[0].version");
	server_bad("{\"type\":\"subscribed\",\"requestId\":\"2\",\"stores\":"
		   "[{\"storeId\":\"a\",\"version\":9007199254740992}]}", "WS-SUB-1",
		   "stores[0].version");
}
END_TEST

START_TEST(test_ws_server_rejects_bad_store_errors_WS_SUB_3)
{
	server_bad("{\"type\":\"subscribed\",\"requestId\":\"2\",\"stores\":[],"
		   "\"errors\":{}}", "WS-SUB-3", "errors");
	server_bad("{\"type\":\"subscribed\",\"requestId\":\"2\",\"stores\":[],"
		   "\"errors\":[{\"storeId\":\"a\"}]}", "WS-SUB-3", "errors[0].code");
	server_bad("{\"type\":\"subscribed\",\"requestId\":\"2\",\"stores\":[],"
		   "\"errors\":[\"a\"]}", "WS-SUB-3", "errors[0]");
}
END_TEST

START_TEST(test_ws_server_rejects_bad_unsubscribed_WS_SUB_5)
{
	server_bad("{\"type\":\"unsubscribed\",\"requestId\":\"3\"}", "WS-SUB-5",
		   "stores");
	server_bad("{\"type\":\"unsubscribed\",\"requestId\":\"3\",\"stores\":"
		   "[{\"storeId\":\"a\",\"version\":null}]}", "WS-SUB-5",
		   "stores[0].version");
}
END_TEST

START_TEST(test_ws_server_rejects_pong_without_request_id_WS_4)
{
	server_bad("{\"type\":\"pong\"}", "WS-4", "requestId");
	server_bad("{\"type\":\"pong\",\"requestId\":\"\"}", "WS-4", "requestId");
	server_bad("{\"type\":\"pong\",\"requestId\":4}", "WS-4", "requestId");
}
END_TEST

START_TEST(test_ws_server_rejects_bad_store_changed_WS_NOTIF_3)
{
	server_bad("{\"type\":\"store_changed\",\"version\":1,\"timestamp\":1}",
		   "WS-NOTIF-3", "storeId");
	server_bad("{\"type\":\"store_changed\",\"storeId\":\"a\",\"timestamp\":1}",
		   "WS-NOTIF-3", "version");
	server_bad("{\"type\":\"store_changed\",\"storeId\":\"a\",\"version\":1}",
		   "WS-NOTIF-3", "timestamp");
	/* 1e3 is not refused: cJSON keeps no number text, so the exponent
	 * form of GEN-5 is out of eb_json_get_uint53's reach. */
	server_bad("{\"type\":\"store_changed\",\"storeId\":\"a\",\"version\":0.5,"
		   "\"timestamp\":1}", "WS-NOTIF-3", "version");
	server_bad("{\"type\":\"store_changed\",\"storeId\":\"a\",\"version\":1,"
		   "\"timestamp\":2.5}", "WS-NOTIF-3", "timestamp");
	server_bad("{\"type\":\"store_changed\",\"storeId\":[],\"version\":1,"
		   "\"timestamp\":2}", "WS-NOTIF-3", "storeId");
}
END_TEST

START_TEST(test_ws_server_rejects_error_without_code_WS_3)
{
	server_bad("{\"type\":\"error\",\"requestId\":\"5\"}", "WS-3", "code");
	server_bad("{\"type\":\"error\",\"code\":1}", "WS-3", "code");
	server_bad("{\"type\":\"error\",\"code\":\"X\",\"message\":2}", "WS-3",
		   "message");
}
END_TEST

/* ---- encoders ---------------------------------------------------------------- */

START_TEST(test_ws_encoders_write_the_section_10_examples)
{
	char *s = NULL;
	ck_assert_int_eq(eb_ws_encode_auth("1", "<jwt>", &s), EB_OK);
	json_same(s, "{ \"type\": \"auth\", \"requestId\": \"1\", \"token\": \"<jwt>\" }");
	free(s);

	const char *ids[] = { "project-456" };
	ck_assert_int_eq(eb_ws_encode_subscribe("2", false, ids, 1, &s), EB_OK);
	json_same(s, "{ \"type\": \"subscribe\", \"requestId\": \"2\", \"storeIds\": [\"project-456\"] }");
	free(s);
	ck_assert_int_eq(eb_ws_encode_subscribe("3", true, ids, 1, &s), EB_OK);
	json_same(s, "{ \"type\": \"unsubscribe\", \"requestId\": \"3\", \"storeIds\": [\"project-456\"] }");
	free(s);
	ck_assert_int_eq(eb_ws_encode_ping("4", &s), EB_OK);
	json_same(s, "{ \"type\": \"ping\", \"requestId\": \"4\" }");
	free(s);

	ck_assert_int_eq(eb_ws_encode_auth_ok("1", "alice", 1640999999000ULL, &s), EB_OK);
	json_same(s, "{ \"type\": \"auth_ok\", \"requestId\": \"1\", \"subject\": \"alice\", \"expiresAt\": 1640999999000 }");
	free(s);

	eb_ws_store_version sv = { .store_id = (char *)"project-456", .version = 44 };
	eb_ws_store_error se = { .store_id = (char *)"secret", .code = (char *)"FORBIDDEN" };
	ck_assert_int_eq(eb_ws_encode_sub_ack("2", false, &sv, 1, &se, 1, &s), EB_OK);
	json_same(s, "{ \"type\": \"subscribed\", \"requestId\": \"2\", \"stores\": [ { \"storeId\": \"project-456\", \"version\": 44 } ],"
		  "\"errors\": [ { \"storeId\": \"secret\", \"code\": \"FORBIDDEN\" } ] }");
	free(s);
	sv.version = 45;
	ck_assert_int_eq(eb_ws_encode_sub_ack("3", true, &sv, 1, NULL, 0, &s), EB_OK);
	json_same(s, "{ \"type\": \"unsubscribed\", \"requestId\": \"3\", \"stores\": [ { \"storeId\": \"project-456\", \"version\": 45 } ] }");
	free(s);
	ck_assert_int_eq(eb_ws_encode_pong("4", &s), EB_OK);
	json_same(s, "{ \"type\": \"pong\", \"requestId\": \"4\" }");
	free(s);
	ck_assert_int_eq(eb_ws_encode_store_changed("project-456", 45, 1640995300000ULL, &s), EB_OK);
	json_same(s, "{ \"type\": \"store_changed\", \"storeId\": \"project-456\", \"version\": 45, \"timestamp\": 1640995300000 }");
	free(s);
	ck_assert_int_eq(eb_ws_encode_error("5", "RATE_LIMITED", "slow down", &s), EB_OK);
	json_same(s, "{ \"type\": \"error\", \"requestId\": \"5\", \"code\": \"RATE_LIMITED\", \"message\": \"slow down\" }");
	free(s);
}
END_TEST

START_TEST(test_ws_subscribed_ack_omits_errors_when_none_WS_SUB_1)
{
	char *s = NULL;
	eb_ws_store_version sv = { .store_id = (char *)"a", .version = 0 };
	ck_assert_int_eq(eb_ws_encode_sub_ack("2", false, &sv, 1, NULL, 0, &s), EB_OK);
	ck_assert_ptr_null(strstr(s, "errors"));
	ck_assert_str_eq(s, "{\"type\":\"subscribed\",\"requestId\":\"2\","
			 "\"stores\":[{\"storeId\":\"a\",\"version\":0}]}");
	free(s);
	/* No store at all still has an (empty) stores array. */
	ck_assert_int_eq(eb_ws_encode_sub_ack("2", false, NULL, 0, NULL, 0, &s), EB_OK);
	ck_assert_str_eq(s, "{\"type\":\"subscribed\",\"requestId\":\"2\",\"stores\":[]}");
	free(s);
}
END_TEST

START_TEST(test_ws_encoders_write_integers_without_exponent_GEN_5)
{
	char *s = NULL;
	ck_assert_int_eq(eb_ws_encode_store_changed("a", 1000000000000000ULL,
						    9007199254740991ULL, &s), EB_OK);
	ck_assert_str_eq(s, "{\"type\":\"store_changed\",\"storeId\":\"a\","
			 "\"version\":1000000000000000,\"timestamp\":9007199254740991}");
	free(s);
}
END_TEST

START_TEST(test_ws_encoders_escape_strings)
{
	char *s = NULL;
	ck_assert_int_eq(eb_ws_encode_error(NULL, "X", "q\"b\\n\n\x01\x1f\xc3\xa9", &s),
			 EB_OK);
	ck_assert_str_eq(s, "{\"type\":\"error\",\"code\":\"X\",\"message\":"
			 "\"q\\\"b\\\\n\\n\\u0001\\u001f\xc3\xa9\"}");
	eb_ws_server_msg *m = server_ok(s);
	ck_assert_str_eq(m->message, "q\"b\\n\n\x01\x1f\xc3\xa9");
	ck_assert_ptr_null(m->request_id);
	eb_ws_server_msg_free(m);
	free(s);
}
END_TEST

START_TEST(test_ws_encoders_refuse_bad_arguments)
{
	char *s = NULL;
	char id65[66];
	memset(id65, '1', 65);
	id65[65] = '\0';
	ck_assert_int_eq(eb_ws_encode_ping("", &s), EB_ERR_ARG);
	ck_assert_int_eq(eb_ws_encode_ping(id65, &s), EB_ERR_ARG);
	ck_assert_int_eq(eb_ws_encode_ping(NULL, &s), EB_ERR_ARG);
	ck_assert_int_eq(eb_ws_encode_auth("1", NULL, &s), EB_ERR_ARG);
	ck_assert_int_eq(eb_ws_encode_auth("1", "\xff", &s), EB_ERR_ARG);
	ck_assert_int_eq(eb_ws_encode_subscribe("1", false, NULL, 2, &s), EB_ERR_ARG);
	ck_assert_int_eq(eb_ws_encode_error("1", NULL, "m", &s), EB_ERR_ARG);
	ck_assert_int_eq(eb_ws_encode_pong("1", NULL), EB_ERR_ARG);
	ck_assert_ptr_null(s);
}
END_TEST

START_TEST(test_ws_client_messages_round_trip)
{
	char *s = NULL;
	eb_ws_client_msg *m;

	ck_assert_int_eq(eb_ws_encode_auth("r-1", "h.p.s", &s), EB_OK);
	m = client_ok(s);
	ck_assert_int_eq(m->type, EB_WS_C_AUTH);
	ck_assert_str_eq(m->request_id, "r-1");
	ck_assert_str_eq(m->token, "h.p.s");
	eb_ws_client_msg_free(m);
	free(s);

	const char *ids[] = { "a", "b.c", "\"quoted\"", "\xc3\xa9" };
	for (int unsub = 0; unsub < 2; unsub++) {
		ck_assert_int_eq(eb_ws_encode_subscribe("r-2", unsub, ids, 4, &s), EB_OK);
		m = client_ok(s);
		ck_assert_int_eq(m->type, unsub ? EB_WS_C_UNSUBSCRIBE : EB_WS_C_SUBSCRIBE);
		ck_assert_uint_eq(m->n_store_ids, 4);
		for (int i = 0; i < 4; i++)
			ck_assert_str_eq(m->store_ids[i], ids[i]);
		eb_ws_client_msg_free(m);
		free(s);
	}

	ck_assert_int_eq(eb_ws_encode_ping("r-3", &s), EB_OK);
	m = client_ok(s);
	ck_assert_int_eq(m->type, EB_WS_C_PING);
	ck_assert_str_eq(m->request_id, "r-3");
	eb_ws_client_msg_free(m);
	free(s);
}
END_TEST

START_TEST(test_ws_server_messages_round_trip)
{
	char *s = NULL;
	eb_ws_server_msg *m;

	ck_assert_int_eq(eb_ws_encode_auth_ok("1", "bob", 9007199254740991ULL, &s), EB_OK);
	m = server_ok(s);
	ck_assert_int_eq(m->type, EB_WS_S_AUTH_OK);
	ck_assert_str_eq(m->subject, "bob");
	ck_assert_uint_eq(m->expires_at, 9007199254740991ULL);
	eb_ws_server_msg_free(m);
	free(s);

	eb_ws_store_version sv[2] = { { (char *)"s1", 1 }, { (char *)"s2", 0 } };
	eb_ws_store_error se[2] = { { (char *)"x y", (char *)"INVALID_STORE_ID" },
				    { (char *)"sec", (char *)"FORBIDDEN" } };
	for (int unsub = 0; unsub < 2; unsub++) {
		ck_assert_int_eq(eb_ws_encode_sub_ack("2", unsub, sv, 2, se, 2, &s), EB_OK);
		m = server_ok(s);
		ck_assert_int_eq(m->type, unsub ? EB_WS_S_UNSUBSCRIBED : EB_WS_S_SUBSCRIBED);
		ck_assert_uint_eq(m->n_stores, 2);
		ck_assert_uint_eq(m->n_errors, 2);
		for (int i = 0; i < 2; i++) {
			ck_assert_str_eq(m->stores[i].store_id, sv[i].store_id);
			ck_assert_uint_eq(m->stores[i].version, sv[i].version);
			ck_assert_str_eq(m->errors[i].store_id, se[i].store_id);
			ck_assert_str_eq(m->errors[i].code, se[i].code);
		}
		eb_ws_server_msg_free(m);
		free(s);
	}

	ck_assert_int_eq(eb_ws_encode_pong("4", &s), EB_OK);
	m = server_ok(s);
	ck_assert_int_eq(m->type, EB_WS_S_PONG);
	ck_assert_str_eq(m->request_id, "4");
	eb_ws_server_msg_free(m);
	free(s);

	ck_assert_int_eq(eb_ws_encode_store_changed("p", 7, 123, &s), EB_OK);
	m = server_ok(s);
	ck_assert_int_eq(m->type, EB_WS_S_STORE_CHANGED);
	ck_assert_str_eq(m->store_id, "p");
	ck_assert_uint_eq(m->version, 7);
	ck_assert_uint_eq(m->timestamp, 123);
	eb_ws_server_msg_free(m);
	free(s);

	ck_assert_int_eq(eb_ws_encode_error("5", "UNKNOWN_TYPE", "no such type", &s), EB_OK);
	m = server_ok(s);
	ck_assert_int_eq(m->type, EB_WS_S_ERROR);
	ck_assert_str_eq(m->request_id, "5");
	ck_assert_str_eq(m->code, "UNKNOWN_TYPE");
	ck_assert_str_eq(m->message, "no such type");
	eb_ws_server_msg_free(m);
	free(s);
}
END_TEST

static Suite *ws_suite(void)
{
	Suite *s = suite_create("ws");
	TCase *c = tcase_create("client");
	tcase_add_test(c, test_ws_client_parses_auth_WS_AUTH_1);
	tcase_add_test(c, test_ws_client_parses_subscribe_and_unsubscribe_WS_SUB_6);
	tcase_add_test(c, test_ws_client_parses_ping_WS_5);
	tcase_add_test(c, test_ws_client_ignores_unknown_members_GEN_4);
	tcase_add_test(c, test_ws_client_unknown_type_is_well_formed_WS_3);
	tcase_add_test(c, test_ws_client_request_id_of_64_bytes_is_accepted_WS_2);
	tcase_add_test(c, test_ws_client_100_store_ids_are_accepted_WS_SUB_6);
	tcase_add_test(c, test_ws_client_rejects_invalid_json_WS_2);
	tcase_add_test(c, test_ws_client_rejects_non_object_WS_2);
	tcase_add_test(c, test_ws_client_rejects_missing_type_WS_2);
	tcase_add_test(c, test_ws_client_rejects_non_string_type_WS_2);
	tcase_add_test(c, test_ws_client_rejects_missing_request_id_WS_2);
	tcase_add_test(c, test_ws_client_rejects_empty_request_id_WS_2);
	tcase_add_test(c, test_ws_client_rejects_request_id_over_64_bytes_WS_2);
	tcase_add_test(c, test_ws_client_rejects_non_string_request_id_WS_2);
	tcase_add_test(c, test_ws_client_rejects_auth_without_string_token_WS_2);
	tcase_add_test(c, test_ws_client_rejects_store_ids_not_array_WS_SUB_6);
	tcase_add_test(c, test_ws_client_rejects_empty_store_ids_WS_SUB_6);
	tcase_add_test(c, test_ws_client_rejects_101_store_ids_WS_SUB_6);
	tcase_add_test(c, test_ws_client_rejects_non_string_store_id_WS_SUB_6);
	tcase_add_test(c, test_ws_client_rejects_too_deep_nesting_WS_2);
	tcase_add_test(c, test_ws_client_parse_rejects_null_out_arg);
	suite_add_tcase(s, c);

	c = tcase_create("server");
	tcase_add_test(c, test_ws_server_parses_auth_ok_WS_AUTH_4);
	tcase_add_test(c, test_ws_server_parses_subscribed_with_errors_WS_SUB_1);
	tcase_add_test(c, test_ws_server_parses_unsubscribed_WS_SUB_5);
	tcase_add_test(c, test_ws_server_parses_pong_WS_5);
	tcase_add_test(c, test_ws_server_parses_store_changed_WS_NOTIF_3);
	tcase_add_test(c, test_ws_server_parses_error_WS_3);
	tcase_add_test(c, test_ws_server_unknown_type_and_members_are_ignored_GEN_7);
	tcase_add_test(c, test_ws_server_rejects_non_object_or_typeless_WS_2);
	tcase_add_test(c, test_ws_server_rejects_auth_ok_without_subject_or_expiry_WS_AUTH_4);
	tcase_add_test(c, test_ws_server_rejects_reply_without_request_id_WS_4);
	tcase_add_test(c, test_ws_server_rejects_bad_subscribed_stores_WS_SUB_1);
	tcase_add_test(c, test_ws_server_rejects_bad_store_errors_WS_SUB_3);
	tcase_add_test(c, test_ws_server_rejects_bad_unsubscribed_WS_SUB_5);
	tcase_add_test(c, test_ws_server_rejects_pong_without_request_id_WS_4);
	tcase_add_test(c, test_ws_server_rejects_bad_store_changed_WS_NOTIF_3);
	tcase_add_test(c, test_ws_server_rejects_error_without_code_WS_3);
	suite_add_tcase(s, c);

	c = tcase_create("encode");
	tcase_add_test(c, test_ws_encoders_write_the_section_10_examples);
	tcase_add_test(c, test_ws_subscribed_ack_omits_errors_when_none_WS_SUB_1);
	tcase_add_test(c, test_ws_encoders_write_integers_without_exponent_GEN_5);
	tcase_add_test(c, test_ws_encoders_escape_strings);
	tcase_add_test(c, test_ws_encoders_refuse_bad_arguments);
	tcase_add_test(c, test_ws_client_messages_round_trip);
	tcase_add_test(c, test_ws_server_messages_round_trip);
	suite_add_tcase(s, c);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(ws_suite());
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
