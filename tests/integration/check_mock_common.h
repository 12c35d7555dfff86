/*
 * check_mock_common.h — helpers shared by the check_mock_*.c integration
 * tests: start a real ebmock on loopback (eb_proc), mint tokens, make HTTP
 * requests and drive WebSocket clients, with the server log printed when a
 * test fails. Header-only (static inline) so every test stays one file.
 */
#ifndef CHECK_MOCK_COMMON_H
#define CHECK_MOCK_COMMON_H

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "eb_http.h"
#include "eb_json.h"
#include "eb_jwt.h"
#include "eb_proc.h"
#include "eb_time.h"
#include "eb_wsc.h"

#define MOCK_SECRET "integration-secret"
#define MOCK_TIMEOUT_MS 5000
#define MOCK_NOTIF_PATH "/api/sync/notifications"

typedef struct mock {
	eb_proc proc;
	eb_http *http;
	bool started;
} mock;

/* Starts ebmock with args (NULL-terminated, without --port/--port-file).
 * With auth_args true, "--jwt-secret MOCK_SECRET" is added first. */
static inline int mock_start_args(mock *m, bool auth_args, const char *const *args)
{
	char bin[512];
	const char *argv[96];
	size_t n = 0;
	memset(m, 0, sizeof *m);
	argv[n++] = eb_proc_bin("ebmock", bin, sizeof bin);
	if (auth_args) {
		argv[n++] = "--jwt-secret";
		argv[n++] = MOCK_SECRET;
	}
	for (size_t i = 0; args && args[i] && n < 94; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (eb_proc_start(&m->proc, argv, 10000) != 0)
		return -1;
	m->started = true;
	m->http = eb_http_new(m->proc.url, MOCK_TIMEOUT_MS);
	return m->http ? 0 : -1;
}

#define MOCK_START(m, ...) do { \
		const char *const a_[] = { __VA_ARGS__, NULL }; \
		ck_assert_int_eq(mock_start_args((m), true, a_), 0); \
	} while (0)

#define MOCK_START_DEFAULT(m) ck_assert_int_eq(mock_start_args((m), true, NULL), 0)

/* Stops the server (SIGTERM then SIGKILL); returns the wait status. With
 * dump, the server log goes to stderr (the test failed or wants it). */
static inline int mock_stop(mock *m)
{
	int st = -1;
	if (!m->started)
		return st;
	eb_http_free(m->http);
	m->http = NULL;
	st = eb_proc_stop(&m->proc, 5000, false);
	m->started = false;
	return st;
}

/* Tests call this at the end: the server must have exited 0 on SIGTERM
 * (and, under ASan, leak-free, which makes the exit status non-zero). */
#define MOCK_STOP_OK(m) do { \
		int st_ = mock_stop(m); \
		ck_assert_msg(WIFEXITED(st_) && WEXITSTATUS(st_) == 0, \
			      "ebmock did not exit cleanly (status %d)", st_); \
	} while (0)

/* Printed from a failing assertion through ck_assert_msg side effects is not
 * possible; tests use MOCK_CHECK which dumps the log before failing. */
#define MOCK_CHECK(m, cond, ...) do { \
		if (!(cond)) { \
			if ((m)->started) eb_proc_dump_log(&(m)->proc); \
			ck_abort_msg(__VA_ARGS__); \
		} \
	} while (0)

static inline char *mock_token_full(const char *sub, const char *const *rd, size_t nrd,
				    const char *const *wr, size_t nwr, int64_t exp_in_s)
{
	eb_jwt_mint_opts o;
	char *tok = NULL;
	int64_t now = (int64_t)(eb_time_now_ms() / 1000);
	memset(&o, 0, sizeof o);
	o.alg = EB_JWT_HS256;
	o.key = MOCK_SECRET;
	o.key_len = strlen(MOCK_SECRET);
	o.sub = sub;
	o.has_exp = true;
	o.exp = now + exp_in_s;
	o.read = rd;
	o.n_read = nrd;
	o.write = wr;
	o.n_write = nwr;
	if (eb_jwt_mint(&o, &tok, NULL) != EB_OK)
		return NULL;
	return tok;
}

/* A token for sub that may read and write every store, valid for an hour. */
static inline char *mock_token(const char *sub)
{
	static const char *const all[] = { "*" };
	return mock_token_full(sub, all, 1, all, 1, 3600);
}

static inline long mock_req(mock *m, const char *method, const char *path,
			    const char *token, const char *body, eb_http_resp *r)
{
	eb_rc rc = eb_http_request(m->http, method, path, token, NULL, body,
				   body ? strlen(body) : 0, NULL, 0, r);
	if (rc != EB_OK)
		return 0;
	return r->status;
}

/* Status of one request (body dropped). */
static inline long mock_status(mock *m, const char *method, const char *path,
			       const char *token, const char *body)
{
	eb_http_resp r;
	long st = mock_req(m, method, path, token, body, &r);
	eb_http_resp_clear(&r);
	return st;
}

/* The "code" of an error body, copied into buf ("" when absent). */
static inline const char *mock_code(const eb_http_resp *r, char *buf, size_t len)
{
	cJSON *j = NULL;
	buf[0] = '\0';
	if (r->body && eb_json_parse(r->body, r->body_len, 64, &j, NULL) == EB_OK) {
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "code");
		if (cJSON_IsString(c))
			snprintf(buf, len, "%s", c->valuestring);
	}
	cJSON_Delete(j);
	return buf;
}

/* Integer member of a JSON body (-1 when absent). */
static inline long long mock_int(const char *body, size_t len, const char *name)
{
	cJSON *j = NULL;
	long long v = -1;
	uint64_t u;
	if (body && eb_json_parse(body, len, 64, &j, NULL) == EB_OK &&
	    eb_json_get_uint53(cJSON_GetObjectItemCaseSensitive(j, name), &u))
		v = (long long)u;
	cJSON_Delete(j);
	return v;
}

/* Server still healthy: GET /healthz answers 200. */
#define MOCK_ALIVE(m) MOCK_CHECK(m, mock_status((m), "GET", "/healthz", NULL, NULL) == 200, \
				 "server stopped answering /healthz")

/* Pushes one set change with id at path ["k"] to store; returns status. */
static inline long mock_push(mock *m, const char *token, const char *store,
			     const char *id, long long lkv, eb_http_resp *out)
{
	char path[256], body[512];
	snprintf(path, sizeof path, "/api/stores/%s/sync", store);
	snprintf(body, sizeof body,
		 "{\"lastKnownVersion\":%lld,\"changes\":[{\"id\":\"%s\",\"timestamp\":%llu,"
		 "\"operation\":\"set\",\"path\":[\"k\"],\"value\":\"%s\"}]}",
		 lkv, id, (unsigned long long)eb_time_now_ms(), id);
	eb_http_resp r;
	long st = mock_req(m, "POST", path, token, body, out ? out : &r);
	if (!out)
		eb_http_resp_clear(&r);
	return st;
}

/* ---- WebSocket ------------------------------------------------------------ */

static inline eb_wsc *mock_ws(mock *m)
{
	eb_wsc *c = NULL;
	int st = 0;
	if (eb_wsc_connect(m->proc.url, MOCK_NOTIF_PATH, MOCK_TIMEOUT_MS, NULL, 0, &c, &st,
			   NULL) != EB_OK)
		return NULL;
	return c;
}

static inline bool mock_ws_send(eb_wsc *c, const char *text)
{
	return eb_wsc_send_text(c, text, strlen(text), NULL) == EB_OK;
}

/* Next text message within timeout_ms (protocol pings are skipped); NULL on
 * close/EOF/timeout. *close_code gets the close code (or -1 for EOF, 0 for
 * a timeout) when non-NULL. Caller frees. */
static inline char *mock_ws_recv(eb_wsc *c, long timeout_ms, int *close_code)
{
	uint64_t end = eb_time_mono_ns() / 1000000u + (uint64_t)timeout_ms;
	if (close_code)
		*close_code = 0;
	for (;;) {
		uint64_t now = eb_time_mono_ns() / 1000000u;
		eb_wsc_msg msg;
		if (now >= end)
			return NULL;
		if (eb_wsc_recv(c, (long)(end - now), &msg, NULL) != EB_OK)
			return NULL;
		if (msg.ev == EB_WSC_TEXT) {
			char *d = msg.data;
			msg.data = NULL;
			eb_wsc_msg_clear(&msg);
			return d;
		}
		int ev = msg.ev, code = msg.close_code;
		eb_wsc_msg_clear(&msg);
		if (ev == EB_WSC_CLOSE) {
			if (close_code)
				*close_code = code;
			return NULL;
		}
		if (ev == EB_WSC_EOF || ev == EB_WSC_PROTOCOL_ERROR) {
			if (close_code)
				*close_code = -1;
			return NULL;
		}
		if (ev == EB_WSC_TIMEOUT)
			return NULL;
	}
}

/* Waits for the socket to be closed; returns the close code, -1 for a TCP
 * close without close frame, 0 if still open after timeout_ms. Messages
 * before the close are discarded. */
static inline int mock_ws_wait_close(eb_wsc *c, long timeout_ms)
{
	uint64_t end = eb_time_mono_ns() / 1000000u + (uint64_t)timeout_ms;
	for (;;) {
		uint64_t now = eb_time_mono_ns() / 1000000u;
		int code = 0;
		if (now >= end)
			return 0;
		char *t = mock_ws_recv(c, (long)(end - now), &code);
		if (!t)
			return code;
		free(t);
	}
}

/* String member of a WS message ("" when absent). */
static inline const char *mock_str(const char *json, const char *name, char *buf,
				   size_t len)
{
	cJSON *j = NULL;
	buf[0] = '\0';
	if (json && eb_json_parse(json, strlen(json), 64, &j, NULL) == EB_OK) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);
		if (cJSON_IsString(v))
			snprintf(buf, len, "%s", v->valuestring);
	}
	cJSON_Delete(j);
	return buf;
}

/* Connects and authenticates as sub; NULL on failure. */
static inline eb_wsc *mock_ws_authed(mock *m, const char *token)
{
	char msg[2048], t[32];
	eb_wsc *c = mock_ws(m);
	if (!c)
		return NULL;
	snprintf(msg, sizeof msg, "{\"type\":\"auth\",\"requestId\":\"a1\",\"token\":\"%s\"}", token);
	if (!mock_ws_send(c, msg)) {
		eb_wsc_free(c);
		return NULL;
	}
	char *r = mock_ws_recv(c, MOCK_TIMEOUT_MS, NULL);
	bool ok = r && strcmp(mock_str(r, "type", t, sizeof t), "auth_ok") == 0;
	free(r);
	if (!ok) {
		eb_wsc_free(c);
		return NULL;
	}
	return c;
}

/* Subscribes to one store, returns the ack (caller frees) or NULL. */
static inline char *mock_ws_subscribe(eb_wsc *c, const char *store, bool unsub)
{
	char msg[512];
	snprintf(msg, sizeof msg, "{\"type\":\"%s\",\"requestId\":\"s-%s\",\"storeIds\":[\"%s\"]}",
		 unsub ? "unsubscribe" : "subscribe", store, store);
	if (!mock_ws_send(c, msg))
		return NULL;
	return mock_ws_recv(c, MOCK_TIMEOUT_MS, NULL);
}

static inline Suite *mock_suite_one(const char *name, TCase **tc)
{
	Suite *s = suite_create(name);
	*tc = tcase_create("core");
	tcase_set_timeout(*tc, 30);
	suite_add_tcase(s, *tc);
	return s;
}

static inline int mock_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	eb_http_global_init();
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	eb_http_global_cleanup();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
