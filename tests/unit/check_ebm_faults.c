/*
 * check_ebm_faults.c — the scripted faults for client tests in ebmock's
 * socket-free core (mockserver/core/ebm_faults.c and their effect on the
 * HTTP handler and the WebSocket sessions): the strict admin POST, closeWs,
 * silentWs, revoke, extras and pageMax, driven without a socket.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eb_json.h"
#include "eb_jwt.h"
#include "eb_time.h"
#include "eb_ws.h"
#include "../../mockserver/core/ebm_core.h"

#define SECRET "unit-secret"
#define ADMIN "Bearer adm"

static void no_wake(void *glue, void *user)
{
	(void)glue;
	(void)user;
}

static ebm_server *server(void)
{
	ebm_config cfg;
	ebm_config_default(&cfg);
	cfg.jwt_secret = SECRET;
	cfg.admin_token = "adm";
	ebm_server *srv = NULL;
	eb_err err;
	ck_assert_int_eq(ebm_server_new(&cfg, no_wake, NULL, &srv, &err), EB_OK);
	return srv;
}

static char *token(const char *jti)
{
	static const char *const all[] = { "*" };
	eb_jwt_mint_opts o;
	char *tok = NULL;
	memset(&o, 0, sizeof o);
	o.alg = EB_JWT_HS256;
	o.key = SECRET;
	o.key_len = strlen(SECRET);
	o.sub = "alice";
	o.has_exp = true;
	o.exp = (int64_t)(eb_time_now_ms() / 1000) + 3600;
	o.read = all;
	o.n_read = 1;
	o.write = all;
	o.n_write = 1;
	o.jti = jti;
	ck_assert_int_eq(eb_jwt_mint(&o, &tok, NULL), EB_OK);
	return tok;
}

/* One request through the core; the body of the answer in *body (caller
 * frees) when body is non-NULL. */
static int req(ebm_server *srv, const char *method, const char *path, const char *query,
	       const char *auth, const char *in, char **body)
{
	ebm_http_req r;
	ebm_http_resp resp;
	char hdr[2048];
	memset(&r, 0, sizeof r);
	memset(&resp, 0, sizeof resp);
	r.method = method;
	r.path = path;
	r.path_len = strlen(path);
	r.query = query;
	r.query_len = query ? strlen(query) : 0;
	if (auth && strncmp(auth, "Bearer ", 7) != 0) {
		snprintf(hdr, sizeof hdr, "Bearer %s", auth);
		auth = hdr;
	}
	r.authorization = auth;
	r.content_type = in ? "application/json" : NULL;
	r.content_length = in ? (int64_t)strlen(in) : -1;
	r.body = in;
	r.body_len = in ? strlen(in) : 0;
	r.remote_addr = "127.0.0.1";
	ebm_http_handle(srv, &r, &resp);
	int st = resp.reset ? 0 : resp.status;
	if (body) {
		*body = resp.body ? strdup(resp.body) : NULL;
	}
	ebm_http_resp_clear(&resp);
	return st;
}

static int admin(ebm_server *srv, const char *json)
{
	return req(srv, "POST", "/admin/faults", NULL, ADMIN, json, NULL);
}

static char *state(ebm_server *srv)
{
	char *b = NULL;
	ck_assert_int_eq(req(srv, "GET", "/admin/faults", NULL, ADMIN, NULL, &b), 200);
	return b;
}

/* The next output of s: its type for a text message ("" when none), the
 * close code in *code for a close. */
static ebm_ws_out next(ebm_ws_session *s, char *type, size_t tlen, int *code)
{
	char *text = NULL;
	size_t len = 0;
	int c = 0;
	ebm_ws_out o = ebm_ws_next_out(s, &text, &len, &c);
	type[0] = '\0';
	if (o == EBM_WS_OUT_TEXT) {
		cJSON *j = NULL;
		if (eb_json_parse(text, len, 64, &j, NULL) == EB_OK) {
			const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "type");
			snprintf(type, tlen, "%s", cJSON_IsString(t) ? t->valuestring : "?");
			if (cJSON_GetObjectItemCaseSensitive(j, "x-ext"))
				strncat(type, "+x", tlen - strlen(type) - 1);
		}
		cJSON_Delete(j);
	}
	if (code)
		*code = c;
	free(text);
	return o;
}

static ebm_ws_session *authed(ebm_server *srv, const char *tok)
{
	char msg[2048], type[32];
	ebm_ws_session *s = ebm_ws_open(srv, "127.0.0.1", NULL);
	ck_assert_ptr_nonnull(s);
	snprintf(msg, sizeof msg, "{\"type\":\"auth\",\"requestId\":\"a\",\"token\":\"%s\"}", tok);
	ebm_ws_on_message(s, msg, strlen(msg), false);
	ck_assert_int_eq(next(s, type, sizeof type, NULL), EBM_WS_OUT_TEXT);
	ck_assert_str_eq(type, "auth_ok");
	return s;
}

START_TEST(test_admin_post_is_all_or_nothing_and_names_the_bad_field)
{
	ebm_server *srv = server();
	static const char *const bad[] = {
		"{\"silentWs\":1}", "{\"extras\":\"yes\"}", "{\"httpResetMs\":-5}",
		"{\"http503Ms\":86400001}", "{\"http429Ms\":1.5}", "{\"retryAfterSeconds\":86401}",
		"{\"pageMax\":null}", "{\"closeWs\":1015}", "{\"closeWs\":2000}", "{\"dropStore\":\"\"}",
		"{\"storeVersion\":{\"store\":\"s\",\"version\":9007199254740991}}",
		"{\"storeVersion\":[1]}", "{\"revoke\":[\"\"]}", "{\"revoke\":[\"a\",2]}",
		"{\"nope\":true}", "[1]", "{\"pageMax\":3,\"closeWs\":true}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(admin(srv, bad[i]) == 400, "refused: %s", bad[i]);
	char *msg = NULL;
	ck_assert_int_eq(req(srv, "POST", "/admin/faults", NULL, ADMIN,
			     "{\"pageMax\":2,\"silentWs\":1}", &msg), 400);
	ck_assert_msg(msg && strstr(msg, "silentWs") && strstr(msg, "INVALID_REQUEST"), "%s", msg);
	free(msg);
	char *st = state(srv);
	ck_assert_msg(strstr(st, "\"pageMax\":0") && strstr(st, "\"silentWs\":false"),
		      "nothing applied: %s", st);
	free(st);
	ck_assert_int_eq(admin(srv, "{\"silentWs\":true,\"extras\":true,\"pageMax\":3,"
				"\"retryAfterSeconds\":9,\"revoke\":[\"j1\",\"j\\\"2\"]}"), 200);
	st = state(srv);
	ck_assert_msg(strstr(st, "\"silentWs\":true") && strstr(st, "\"extras\":true") &&
		      strstr(st, "\"pageMax\":3") && strstr(st, "\"retryAfterSeconds\":9") &&
		      strstr(st, "\"revoke\":[\"j1\",\"j\\\"2\"]"), "state: %s", st);
	cJSON *j = NULL;
	ck_assert_int_eq(eb_json_parse(st, strlen(st), 8, &j, NULL), EB_OK);
	cJSON_Delete(j);
	free(st);
	ck_assert_int_eq(req(srv, "DELETE", "/admin/faults", NULL, ADMIN, NULL, NULL), 200);
	st = state(srv);
	ck_assert_msg(strstr(st, "\"revoke\":[]") && strstr(st, "\"extras\":false"), "cleared: %s", st);
	free(st);
	ebm_server_free(srv);
}
END_TEST

START_TEST(test_close_ws_tells_every_open_session_to_close_with_the_code)
{
	ebm_server *srv = server();
	char *tok = token(NULL);
	ebm_ws_session *a = authed(srv, tok), *b = authed(srv, tok);
	char type[32];
	int code = 0;
	ck_assert_int_eq(admin(srv, "{\"closeWs\":1012}"), 200);
	ck_assert_int_eq(next(a, type, sizeof type, &code), EBM_WS_OUT_CLOSE);
	ck_assert_int_eq(code, 1012);
	ck_assert_int_eq(next(b, type, sizeof type, &code), EBM_WS_OUT_CLOSE);
	ck_assert_int_eq(code, 1012);
	ebm_ws_free(a);
	ebm_ws_free(b);
	free(tok);
	ebm_server_free(srv);
}
END_TEST

START_TEST(test_silent_ws_sends_nothing_until_lifted)
{
	ebm_server *srv = server();
	char *tok = token(NULL);
	ebm_ws_session *s = authed(srv, tok);
	char type[32];
	ck_assert_int_eq(admin(srv, "{\"silentWs\":true}"), 200);
	static const char ping[] = "{\"type\":\"ping\",\"requestId\":\"p\"}";
	ebm_ws_on_message(s, ping, strlen(ping), false);
	ck_assert(!ebm_ws_wants_write(s));
	ck_assert_int_eq(next(s, type, sizeof type, NULL), EBM_WS_OUT_NONE);
	ck_assert_int_eq(ebm_ws_next_deadline_ms(s) == 0 ||
			 ebm_ws_next_deadline_ms(s) > ebm_mono_ms() + 1000, 1);
	ck_assert_int_eq(admin(srv, "{\"silentWs\":false}"), 200);
	ebm_ws_on_message(s, ping, strlen(ping), false);
	ck_assert_int_eq(next(s, type, sizeof type, NULL), EBM_WS_OUT_TEXT);
	ck_assert_str_eq(type, "pong");
	ck_assert_msg(req(srv, "GET", "/api/stores/s/changes", "since=0", tok, NULL, NULL) == 200,
		      "HTTP unaffected");
	ebm_ws_free(s);
	free(tok);
	ebm_server_free(srv);
}
END_TEST

START_TEST(test_revoke_closes_sessions_of_a_listed_jti_and_refuses_it)
{
	ebm_server *srv = server();
	char *t1 = token("j1"), *t2 = token("j2");
	ebm_ws_session *a = authed(srv, t1), *b = authed(srv, t2);
	char type[32];
	int code = 0;
	ck_assert_int_eq(admin(srv, "{\"revoke\":[\"j1\"]}"), 200);
	ck_assert_int_eq(next(a, type, sizeof type, &code), EBM_WS_OUT_CLOSE);
	ck_assert_int_eq(code, EB_WS_CLOSE_AUTH);
	ck_assert_int_eq(next(b, type, sizeof type, &code), EBM_WS_OUT_NONE);
	ck_assert_int_eq(req(srv, "GET", "/api/stores/s/changes", "since=0", t1, NULL, NULL), 401);
	ck_assert_int_eq(req(srv, "GET", "/api/stores/s/changes", "since=0", t2, NULL, NULL), 200);
	ebm_ws_free(a);
	ebm_ws_free(b);
	free(t1);
	free(t2);
	ebm_server_free(srv);
}
END_TEST

START_TEST(test_extras_decorates_objects_but_not_values_and_adds_x_future)
{
	ebm_server *srv = server();
	char *tok = token(NULL);
	ebm_ws_session *s = authed(srv, tok);
	char type[32], body[512];
	static const char sub[] = "{\"type\":\"subscribe\",\"requestId\":\"s\",\"storeIds\":[\"x\"]}";
	ebm_ws_on_message(s, sub, strlen(sub), false);
	ck_assert_int_eq(next(s, type, sizeof type, NULL), EBM_WS_OUT_TEXT);
	ck_assert_int_eq(admin(srv, "{\"extras\":true}"), 200);
	snprintf(body, sizeof body, "{\"lastKnownVersion\":0,\"changes\":[{\"id\":\"c\",\"timestamp\":%llu,"
		 "\"operation\":\"set\",\"path\":[\"p\"],\"value\":{\"v\":{}}}]}",
		 (unsigned long long)eb_time_now_ms());
	ck_assert_int_eq(req(srv, "POST", "/api/stores/x/sync", NULL, tok, body, NULL), 200);
	ck_assert_int_eq(next(s, type, sizeof type, NULL), EBM_WS_OUT_TEXT);
	ck_assert_str_eq(type, "store_changed+x");
	ck_assert_int_eq(next(s, type, sizeof type, NULL), EBM_WS_OUT_TEXT);
	ck_assert_str_eq(type, "x-future+x");
	char *out = NULL;
	ck_assert_int_eq(req(srv, "GET", "/api/stores/x/changes", "since=0", tok, NULL, &out), 200);
	ck_assert_msg(strstr(out, "\"value\":{\"v\":{}}") && strstr(out, "\"x-ext\":{\"a\":[1]}"),
		      "%s", out);
	free(out);
	ebm_ws_free(s);
	free(tok);
	ebm_server_free(srv);
}
END_TEST

START_TEST(test_page_max_drop_store_and_store_version_through_the_handler)
{
	ebm_server *srv = server();
	char *tok = token(NULL), body[512], *out = NULL;
	ck_assert_int_eq(admin(srv, "{\"storeVersion\":{\"store\":\"v\",\"version\":100}}"), 200);
	for (int i = 0; i < 3; i++) {
		snprintf(body, sizeof body, "{\"lastKnownVersion\":%d,\"changes\":[{\"id\":\"c%d\","
			 "\"timestamp\":1,\"operation\":\"set\",\"path\":[\"p\"],\"value\":%d}]}",
			 100 + i, i, i);
		ck_assert_int_eq(req(srv, "POST", "/api/stores/v/sync", NULL, tok, body, NULL), 200);
	}
	ck_assert_int_eq(admin(srv, "{\"pageMax\":2}"), 200);
	ck_assert_int_eq(req(srv, "GET", "/api/stores/v/changes", "since=0", tok, NULL, &out), 200);
	ck_assert_msg(strstr(out, "\"toVersion\":102") && strstr(out, "\"hasMore\":true") &&
		      strstr(out, "\"currentVersion\":103"), "%s", out);
	free(out);
	ck_assert_int_eq(admin(srv, "{\"storeVersion\":{\"store\":\"v\",\"version\":1}}"), 400);
	ck_assert_int_eq(admin(srv, "{\"dropStore\":\"v\"}"), 200);
	ck_assert_int_eq(req(srv, "GET", "/api/stores/v/changes", "since=0", tok, NULL, &out), 200);
	ck_assert_msg(strstr(out, "\"currentVersion\":0") && strstr(out, "\"changes\":[]"), "%s", out);
	free(out);
	ck_assert_int_eq(req(srv, "GET", "/api/stores/v/changes", "since=103", tok, NULL, NULL), 409);
	free(tok);
	ebm_server_free(srv);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ebm_faults");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_admin_post_is_all_or_nothing_and_names_the_bad_field);
	tcase_add_test(tc, test_close_ws_tells_every_open_session_to_close_with_the_code);
	tcase_add_test(tc, test_silent_ws_sends_nothing_until_lifted);
	tcase_add_test(tc, test_revoke_closes_sessions_of_a_listed_jti_and_refuses_it);
	tcase_add_test(tc, test_extras_decorates_objects_but_not_values_and_adds_x_future);
	tcase_add_test(tc, test_page_max_drop_store_and_store_version_through_the_handler);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
