/*
 * check_mock_events.c — ebmock's event log (--event-log) and the scripted
 * faults for client testing (closeWs, silentWs, httpResetMs, http503Ms,
 * http429Ms, retryAfterSeconds, dropStore, storeVersion, extras, pageMax,
 * revoke): each event kind and each fault against a real server, the log
 * read back line by line as the client suite reads it.
 */
#include <sys/stat.h>
#include "check_mock_common.h"

#define ADMIN "admin-secret"
#define MAX_SAFE "9007199254740991"

static char g_log[256];
static char *g_tok;

static void setup(void)
{
	static int seq;
	snprintf(g_log, sizeof g_log, "/tmp/ebm-events-%ld-%d.log", (long)getpid(), ++seq);
	g_tok = mock_token("alice");
}

static void teardown(void)
{
	unlink(g_log);
	free(g_tok);
}

static uint64_t now_ms(void)
{
	return eb_time_mono_ns() / 1000000u;
}

/* A token for sub with a jti claim (the revoke fault). */
static char *token_jti(const char *sub, const char *jti)
{
	static const char *const all[] = { "*" };
	eb_jwt_mint_opts o;
	char *tok = NULL;
	memset(&o, 0, sizeof o);
	o.alg = EB_JWT_HS256;
	o.key = MOCK_SECRET;
	o.key_len = strlen(MOCK_SECRET);
	o.sub = sub;
	o.has_exp = true;
	o.exp = (int64_t)(eb_time_now_ms() / 1000) + 3600;
	o.read = all;
	o.n_read = 1;
	o.write = all;
	o.n_write = 1;
	o.jti = jti;
	if (eb_jwt_mint(&o, &tok, NULL) != EB_OK)
		return NULL;
	return tok;
}

static long admin(mock *m, const char *body, eb_http_resp *r)
{
	return mock_req(m, "POST", "/admin/faults", ADMIN, body, r);
}

static long admin_status(mock *m, const char *body)
{
	eb_http_resp r;
	long st = admin(m, body, &r);
	eb_http_resp_clear(&r);
	return st;
}

/* ---- reading the log ------------------------------------------------------- */

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;
	*len = 0;
	if (!f)
		return NULL;
	for (;;) {
		if (n + 4097 > cap) {
			cap = cap ? cap * 2 : 65536;
			char *nb = realloc(buf, cap);
			if (!nb)
				break;
			buf = nb;
		}
		size_t r = fread(buf + n, 1, 4096, f);
		n += r;
		if (r < 4096)
			break;
	}
	fclose(f);
	if (buf)
		buf[n] = '\0';
	*len = n;
	return buf;
}

/* true when member k of o prints as v (strings bare, numbers as integers,
 * true/false/null). */
static bool member_is(const cJSON *o, const char *k, const char *v)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, k);
	char buf[64];
	uint64_t u;
	if (!m)
		return false;
	if (cJSON_IsString(m))
		return strcmp(m->valuestring, v) == 0;
	if (cJSON_IsNull(m))
		return strcmp(v, "null") == 0;
	if (cJSON_IsBool(m))
		return strcmp(v, cJSON_IsTrue(m) ? "true" : "false") == 0;
	if (eb_json_get_uint53(m, &u)) {
		snprintf(buf, sizeof buf, "%llu", (unsigned long long)u);
		return strcmp(buf, v) == 0;
	}
	return false;
}

/* Every complete line of the log must be a JSON object starting with
 * {"t":<ms>.<3 digits>,"ev":"..."; returns the matching lines' count and
 * a copy of the first (or *nth*, 1-based) match in *out. k1/k2 may be NULL. */
static int log_find(const char *ev, const char *k1, const char *v1, const char *k2,
		    const char *v2, int nth, cJSON **out, char *why, size_t why_len)
{
	size_t len = 0;
	char *buf = read_all(g_log, &len);
	int found = 0;
	if (out)
		*out = NULL;
	why[0] = '\0';
	for (char *line = buf; buf && line < buf + len;) {
		char *nl = memchr(line, '\n', (size_t)(buf + len - line));
		if (!nl)
			break;   /* a torn line would be a defect, but not complete yet */
		cJSON *j = NULL;
		const char *d = line + 5;
		if (strncmp(line, "{\"t\":", 5) != 0)
			snprintf(why, why_len, "line does not start with {\"t\": %.80s", line);
		while (*d >= '0' && *d <= '9')
			d++;
		if (!(d[0] == '.' && d[1] >= '0' && d[1] <= '9' && d[2] >= '0' && d[2] <= '9' &&
		      d[3] >= '0' && d[3] <= '9' && strncmp(d + 4, ",\"ev\":\"", 7) == 0))
			snprintf(why, why_len, "t without 3 decimals or ev not second: %.80s", line);
		if (eb_json_parse(line, (size_t)(nl - line), 64, &j, NULL) != EB_OK ||
		    !cJSON_IsObject(j))
			snprintf(why, why_len, "line is not a JSON object: %.80s", line);
		if (j && member_is(j, "ev", ev) && (!k1 || member_is(j, k1, v1)) &&
		    (!k2 || member_is(j, k2, v2))) {
			found++;
			if (out && !*out && found >= nth)
				*out = cJSON_Duplicate(j, 1);
		}
		cJSON_Delete(j);
		line = nl + 1;
	}
	free(buf);
	return found;
}

/* Waits (polls) until the log holds a matching line; a copy of it or NULL. */
static cJSON *log_wait(const char *ev, const char *k1, const char *v1, const char *k2,
		       const char *v2)
{
	uint64_t end = now_ms() + 3000;
	char why[256];
	for (;;) {
		cJSON *j = NULL;
		log_find(ev, k1, v1, k2, v2, 1, &j, why, sizeof why);
		ck_assert_msg(!why[0], "%s", why);
		if (j || now_ms() >= end)
			return j;
		usleep(10000);
	}
}

static const char *s_or(const char *s)
{
	return s ? s : "";
}

#define LOG_HAS(m, j, ev, k1, v1, k2, v2) do { \
		(j) = log_wait(ev, k1, v1, k2, v2); \
		if (!(j)) { \
			size_t l_; char *b_ = read_all(g_log, &l_); \
			fprintf(stderr, "event log:\n%s\n", b_ ? b_ : "(none)"); free(b_); \
		} \
		MOCK_CHECK(m, (j) != NULL, "no %s line with %s=%s %s=%s", ev, \
			   s_or(k1), s_or(v1), s_or(k2), s_or(v2)); \
	} while (0)

static double num(const cJSON *j, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);
	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

#define START_LOGGED(m, ...) MOCK_START(m, "--event-log", g_log, "--admin-token", ADMIN, \
					 ##__VA_ARGS__)

/* ---- the event log ----------------------------------------------------------- */

START_TEST(test_event_log_http_lines_carry_request_answer_and_monotonic_times)
{
	mock m;
	cJSON *j;
	eb_http_resp r;
	START_LOGGED(&m);
	uint64_t before = now_ms();
	char body[512];
	snprintf(body, sizeof body,
		 "{\"lastKnownVersion\":0,\"changes\":["
		 "{\"id\":\"c1\",\"timestamp\":%llu,\"operation\":\"set\",\"path\":[\"a\"],\"value\":1},"
		 "{\"id\":\"c2\",\"timestamp\":%llu,\"operation\":\"set\",\"path\":[\"b\"],\"value\":2}]}",
		 (unsigned long long)eb_time_now_ms(), (unsigned long long)eb_time_now_ms());
	MOCK_CHECK(&m, mock_req(&m, "POST", "/api/stores/s1/sync", g_tok, body, &r) == 200, "push");
	eb_http_resp_clear(&r);
	MOCK_CHECK(&m, mock_status(&m, "GET", "/api/stores/s1/changes?since=0&limit=1", g_tok,
				   NULL) == 200, "read");
	MOCK_CHECK(&m, mock_status(&m, "GET", "/api/stores/s1/changes?since=0", NULL, NULL) == 401,
		   "no token");
	MOCK_CHECK(&m, mock_status(&m, "GET", "/healthz", NULL, NULL) == 200, "health");
	uint64_t after = now_ms();

	LOG_HAS(&m, j, "http", "method", "POST", "path", "/api/stores/s1/sync");
	MOCK_CHECK(&m, member_is(j, "store", "s1") && member_is(j, "status", "200") &&
		   member_is(j, "subject", "alice") && member_is(j, "lkv", "0") &&
		   member_is(j, "n", "0") && member_is(j, "currentVersion", "2") &&
		   member_is(j, "hasMore", "false") && member_is(j, "query", "null") &&
		   !cJSON_GetObjectItemCaseSensitive(j, "code") &&
		   !cJSON_GetObjectItemCaseSensitive(j, "fault"), "sync line fields");
	const cJSON *ids = cJSON_GetObjectItemCaseSensitive(j, "changeIds");
	MOCK_CHECK(&m, cJSON_GetArraySize(ids) == 2 &&
		   strcmp(cJSON_GetArrayItem(ids, 0)->valuestring, "c1") == 0 &&
		   strcmp(cJSON_GetArrayItem(ids, 1)->valuestring, "c2") == 0, "changeIds in order");
	double t = num(j, "t"), t0 = num(j, "t0");
	MOCK_CHECK(&m, t0 >= (double)before - 1 && t0 <= t && t <= (double)after + 1,
		   "t0 %.3f <= t %.3f within the test's monotonic clock [%llu, %llu]", t0, t,
		   (unsigned long long)before, (unsigned long long)after);
	MOCK_CHECK(&m, num(j, "conn") >= 1, "conn numbered from 1");
	cJSON_Delete(j);

	LOG_HAS(&m, j, "http", "query", "since=0&limit=1", NULL, NULL);
	MOCK_CHECK(&m, member_is(j, "method", "GET") && member_is(j, "n", "1") &&
		   member_is(j, "hasMore", "true") && member_is(j, "currentVersion", "2") &&
		   !cJSON_GetObjectItemCaseSensitive(j, "lkv"), "changes line");
	cJSON_Delete(j);
	LOG_HAS(&m, j, "http", "status", "401", NULL, NULL);
	MOCK_CHECK(&m, member_is(j, "code", "UNAUTHORIZED") && member_is(j, "subject", "null"),
		   "401 line: code, subject null");
	cJSON_Delete(j);
	char why[256];
	MOCK_CHECK(&m, log_find("http", "path", "/healthz", NULL, NULL, 1, NULL, why,
				sizeof why) == 0, "/healthz is not logged");
	MOCK_CHECK(&m, log_find("http", "path", "/admin/faults", NULL, NULL, 1, NULL, why,
				sizeof why) == 0, "/admin is not logged as http");
	MOCK_STOP_OK(&m);
}
END_TEST

START_TEST(test_event_log_websocket_open_messages_and_close_by_whom)
{
	mock m;
	cJSON *j;
	START_LOGGED(&m);
	eb_wsc *c = mock_ws_authed(&m, g_tok);
	MOCK_CHECK(&m, c, "socket");
	free(mock_ws_subscribe(c, "s2", false));
	MOCK_CHECK(&m, mock_push(&m, g_tok, "s2", "x1", 0, NULL) == 200, "push");
	char *n = mock_ws_recv(c, MOCK_TIMEOUT_MS, NULL);
	MOCK_CHECK(&m, n && strstr(n, "store_changed"), "notified");
	free(n);
	MOCK_CHECK(&m, mock_ws_send(c, "{\"type\":\"ping\",\"requestId\":\"p1\"}"), "ping");
	free(mock_ws_recv(c, MOCK_TIMEOUT_MS, NULL));
	eb_wsc_send_close(c, 1000, "bye", NULL);
	mock_ws_wait_close(c, 2000);
	eb_wsc_free(c);

	LOG_HAS(&m, j, "ws_open", NULL, NULL, NULL, NULL);
	char conn[24];
	snprintf(conn, sizeof conn, "%.0f", num(j, "conn"));
	cJSON_Delete(j);
	LOG_HAS(&m, j, "ws_in", "type", "auth", "conn", conn);
	MOCK_CHECK(&m, member_is(j, "requestId", "a1") &&
		   !cJSON_GetObjectItemCaseSensitive(j, "token") &&
		   !cJSON_GetObjectItemCaseSensitive(j, "valid"), "auth in, no token");
	cJSON_Delete(j);
	LOG_HAS(&m, j, "ws_out", "type", "auth_ok", "conn", conn);
	MOCK_CHECK(&m, member_is(j, "subject", "alice") && num(j, "expiresAt") > 0, "auth_ok out");
	cJSON_Delete(j);
	LOG_HAS(&m, j, "ws_in", "type", "subscribe", NULL, NULL);
	const cJSON *ids = cJSON_GetObjectItemCaseSensitive(j, "storeIds");
	MOCK_CHECK(&m, cJSON_GetArraySize(ids) == 1 &&
		   strcmp(cJSON_GetArrayItem(ids, 0)->valuestring, "s2") == 0, "storeIds");
	cJSON_Delete(j);
	LOG_HAS(&m, j, "ws_out", "type", "subscribed", NULL, NULL);
	const cJSON *st = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "stores"), 0);
	MOCK_CHECK(&m, st && member_is(st, "storeId", "s2") && member_is(st, "version", "0"),
		   "ack stores");
	cJSON_Delete(j);
	LOG_HAS(&m, j, "ws_out", "type", "store_changed", "storeId", "s2");
	MOCK_CHECK(&m, member_is(j, "version", "1"), "store_changed version");
	cJSON_Delete(j);
	LOG_HAS(&m, j, "ws_out", "type", "pong", "requestId", "p1");
	cJSON_Delete(j);
	LOG_HAS(&m, j, "ws_close", "conn", conn, NULL, NULL);
	MOCK_CHECK(&m, member_is(j, "by", "client") && member_is(j, "code", "1000"),
		   "closed by the client with 1000");
	cJSON_Delete(j);

	/* malformed: valid false, closed by the server with 4400 */
	c = mock_ws_authed(&m, g_tok);
	MOCK_CHECK(&m, c, "socket 2");
	MOCK_CHECK(&m, mock_ws_send(c, "{\"type\":"), "garbage");
	MOCK_CHECK(&m, mock_ws_wait_close(c, 2000) == 4400, "4400");
	eb_wsc_free(c);
	LOG_HAS(&m, j, "ws_in", "valid", "false", NULL, NULL);
	cJSON_Delete(j);
	LOG_HAS(&m, j, "ws_close", "by", "server", "code", "4400");
	cJSON_Delete(j);

	/* too big: logged without its content, closed 1009 */
	c = mock_ws_authed(&m, g_tok);
	MOCK_CHECK(&m, c, "socket 4");
	char *big = malloc(70000);
	MOCK_CHECK(&m, big, "memory");
	memset(big, 'a', 69999);
	big[69999] = '\0';
	memcpy(big, "{\"type\":\"", 9);
	mock_ws_send(c, big);
	free(big);
	MOCK_CHECK(&m, mock_ws_wait_close(c, 2000) == 1009, "1009");
	eb_wsc_free(c);
	LOG_HAS(&m, j, "ws_in", "tooBig", "true", "valid", "false");
	cJSON_Delete(j);
	LOG_HAS(&m, j, "ws_close", "by", "server", "code", "1009");
	cJSON_Delete(j);

	/* a TCP drop by the client */
	c = mock_ws_authed(&m, g_tok);
	MOCK_CHECK(&m, c, "socket 3");
	eb_wsc_free(c);
	LOG_HAS(&m, j, "ws_close", "by", "drop", "code", "null");
	cJSON_Delete(j);
	MOCK_STOP_OK(&m);
}
END_TEST

START_TEST(test_event_log_never_holds_a_token)
{
	mock m;
	START_LOGGED(&m);
	eb_wsc *c = mock_ws_authed(&m, g_tok);
	MOCK_CHECK(&m, c, "socket");
	eb_wsc_free(c);
	char q[2048];
	snprintf(q, sizeof q, "/api/stores/s/changes?since=0&access_token=%s", g_tok);
	mock_status(&m, "GET", q, g_tok, NULL);
	cJSON *j;
	LOG_HAS(&m, j, "http", "query", "since=0&access_token=REDACTED", NULL, NULL);
	cJSON_Delete(j);
	LOG_HAS(&m, j, "ws_close", NULL, NULL, NULL, NULL);
	cJSON_Delete(j);
	size_t len;
	char *all = read_all(g_log, &len);
	char sig[24];
	snprintf(sig, sizeof sig, "%.20s", strrchr(g_tok, '.') + 1);
	MOCK_CHECK(&m, all && !strstr(all, "eyJ") && !strstr(all, sig) && !strstr(all, ADMIN),
		   "no token or admin secret in the log");
	free(all);
	MOCK_STOP_OK(&m);
}
END_TEST

START_TEST(test_event_log_is_capped_with_one_log_full_line)
{
	mock m;
	START_LOGGED(&m, "--event-log-max-bytes", "2048");
	for (int i = 0; i < 40; i++)
		mock_status(&m, "GET", "/api/stores/s/changes?since=0", g_tok, NULL);
	cJSON *j;
	LOG_HAS(&m, j, "log_full", NULL, NULL, NULL, NULL);
	cJSON_Delete(j);
	for (int i = 0; i < 5; i++)
		mock_status(&m, "GET", "/api/stores/s/changes?since=0", g_tok, NULL);
	MOCK_STOP_OK(&m);
	struct stat sb;
	ck_assert_int_eq(stat(g_log, &sb), 0);
	ck_assert_msg(sb.st_size <= 2048, "log within its cap (%lld bytes)", (long long)sb.st_size);
	size_t len;
	char *all = read_all(g_log, &len);
	ck_assert_msg(all && len > 2 && all[len - 1] == '\n', "whole lines");
	all[len - 1] = '\0';
	const char *last = strrchr(all, '\n');
	last = last ? last + 1 : all;
	ck_assert_msg(strstr(last, "\"ev\":\"log_full\""), "last line is log_full: %s", last);
	free(all);
}
END_TEST

START_TEST(test_event_log_bad_flags_exit_2)
{
	char bin[512], cmd[1200];
	eb_proc_bin("ebmock", bin, sizeof bin);
	snprintf(cmd, sizeof cmd, "%s --jwt-secret s --event-log-max-bytes 10 --event-log /tmp/x "
		 ">/dev/null 2>&1", bin);
	int st = system(cmd);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 2, "cap below 1024: exit 2");
	snprintf(cmd, sizeof cmd, "%s --jwt-secret s --port 0 --event-log /nonexistent/dir/x "
		 ">/dev/null 2>&1", bin);
	st = system(cmd);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) != 0, "unwritable log: fails");
}
END_TEST

/* ---- faults -------------------------------------------------------------------- */

START_TEST(test_fault_close_ws_closes_every_socket_with_the_code)
{
	mock m;
	cJSON *j;
	START_LOGGED(&m);
	eb_wsc *a = mock_ws_authed(&m, g_tok), *b = mock_ws_authed(&m, g_tok);
	MOCK_CHECK(&m, a && b, "sockets");
	MOCK_CHECK(&m, admin_status(&m, "{\"closeWs\":4429}") == 200, "closeWs");
	MOCK_CHECK(&m, mock_ws_wait_close(a, 2000) == 4429, "a closed 4429");
	MOCK_CHECK(&m, mock_ws_wait_close(b, 2000) == 4429, "b closed 4429");
	eb_wsc_free(a);
	eb_wsc_free(b);
	LOG_HAS(&m, j, "admin", "action", "closeWs", "code", "4429");
	MOCK_CHECK(&m, member_is(j, "sockets", "2"), "two sockets");
	cJSON_Delete(j);
	LOG_HAS(&m, j, "ws_close", "by", "server", "code", "4429");
	cJSON_Delete(j);
	LOG_HAS(&m, j, "fault", NULL, NULL, NULL, NULL);
	MOCK_CHECK(&m, cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "faults")), "state");
	cJSON_Delete(j);
	a = mock_ws_authed(&m, g_tok);
	MOCK_CHECK(&m, a, "new sockets are not affected (an action, not a state)");
	eb_wsc_free(a);
	static const char *const bad[] = { "{\"closeWs\":999}", "{\"closeWs\":5000}",
		"{\"closeWs\":1006}", "{\"closeWs\":\"1000\"}", "{\"closeWs\":1000.5}" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		MOCK_CHECK(&m, admin_status(&m, bad[i]) == 400, "refused: %s", bad[i]);
	MOCK_STOP_OK(&m);
}
END_TEST

START_TEST(test_fault_silent_ws_keeps_tcp_but_answers_nothing_http_works)
{
	mock m;
	START_LOGGED(&m, "--ping-interval-s", "1");
	eb_wsc *c = mock_ws_authed(&m, g_tok);
	MOCK_CHECK(&m, c, "socket");
	free(mock_ws_subscribe(c, "s", false));
	MOCK_CHECK(&m, admin_status(&m, "{\"silentWs\":true}") == 200, "silent");
	MOCK_CHECK(&m, mock_ws_send(c, "{\"type\":\"ping\",\"requestId\":\"p\"}"), "ping");
	MOCK_CHECK(&m, mock_push(&m, g_tok, "s", "q1", 0, NULL) == 200, "HTTP still works");
	/* nothing at all, not even a protocol ping (interval 1 s), for 1.5 s */
	uint64_t end = now_ms() + 1500;
	bool quiet = true;
	while (now_ms() < end) {
		eb_wsc_msg msg;
		if (eb_wsc_recv(c, (long)(end - now_ms()), &msg, NULL) != EB_OK)
			break;
		if (msg.ev != EB_WSC_TIMEOUT)
			quiet = false;
		eb_wsc_msg_clear(&msg);
		if (!quiet)
			break;
	}
	MOCK_CHECK(&m, quiet, "the silent socket sent something");
	cJSON *j;
	LOG_HAS(&m, j, "ws_in", "type", "ping", NULL, NULL);   /* arrived, ignored */
	cJSON_Delete(j);
	char why[256];
	MOCK_CHECK(&m, log_find("ws_out", "type", "pong", NULL, NULL, 1, NULL, why, sizeof why) == 0,
		   "no pong logged");
	/* new sockets are silent too: no auth_ok */
	eb_wsc *d = mock_ws(&m);
	MOCK_CHECK(&m, d, "upgrade still accepted");
	char msg[2048];
	snprintf(msg, sizeof msg, "{\"type\":\"auth\",\"requestId\":\"a\",\"token\":\"%s\"}", g_tok);
	mock_ws_send(d, msg);
	char *r = mock_ws_recv(d, 500, NULL);
	MOCK_CHECK(&m, r == NULL, "no auth_ok while silent: %s", r ? r : "");
	eb_wsc_free(d);
	MOCK_CHECK(&m, admin_status(&m, "{\"silentWs\":false}") == 200, "speak again");
	MOCK_CHECK(&m, mock_ws_send(c, "{\"type\":\"ping\",\"requestId\":\"p2\"}"), "ping 2");
	char t[32];
	bool pong = false;
	for (int i = 0; i < 5 && !pong; i++) {
		char *x = mock_ws_recv(c, 2000, NULL);
		if (!x)
			break;
		pong = strcmp(mock_str(x, "type", t, sizeof t), "pong") == 0;
		free(x);
	}
	MOCK_CHECK(&m, pong, "pong once the fault is off");
	eb_wsc_free(c);
	MOCK_STOP_OK(&m);
}
END_TEST

START_TEST(test_fault_http_reset_ms_closes_api_requests_without_answer)
{
	mock m;
	eb_http_resp r;
	cJSON *j;
	START_LOGGED(&m);
	MOCK_CHECK(&m, admin_status(&m, "{\"httpResetMs\":1000}") == 200, "set");
	eb_rc rc = eb_http_request(m.http, "GET", "/api/stores/s/changes?since=0", g_tok, NULL,
				   NULL, 0, NULL, 0, &r);
	MOCK_CHECK(&m, rc != EB_OK || r.status == 0, "no answer: a network error (status %ld)",
		   r.status);
	eb_http_resp_clear(&r);
	MOCK_CHECK(&m, mock_status(&m, "GET", "/healthz", NULL, NULL) == 200, "health answers");
	LOG_HAS(&m, j, "http", "fault", "http-reset", "status", "0");
	cJSON_Delete(j);
	usleep(1100000);
	MOCK_CHECK(&m, mock_status(&m, "GET", "/api/stores/s/changes?since=0", g_tok, NULL) == 200,
		   "answers again after 1000 ms");
	MOCK_CHECK(&m, admin_status(&m, "{\"httpResetMs\":-1}") == 400, "negative refused");
	MOCK_CHECK(&m, admin_status(&m, "{\"httpResetMs\":86400001}") == 400, "too long refused");
	MOCK_STOP_OK(&m);
}
END_TEST

START_TEST(test_fault_http_503_429_ms_and_retry_after_override)
{
	mock m;
	eb_http_resp r;
	char ra[16], code[32];
	cJSON *j;
	START_LOGGED(&m);
	MOCK_CHECK(&m, admin_status(&m, "{\"http503Ms\":1000}") == 200, "503 ms");
	MOCK_CHECK(&m, mock_req(&m, "GET", "/api/stores/s/changes?since=0", g_tok, NULL, &r) == 503,
		   "503");
	MOCK_CHECK(&m, eb_http_resp_header(&r, "Retry-After", ra, sizeof ra) && strcmp(ra, "1") == 0,
		   "default Retry-After: whole seconds left, at least 1 (%s)", ra);
	eb_http_resp_clear(&r);
	LOG_HAS(&m, j, "http", "fault", "http-503", NULL, NULL);
	MOCK_CHECK(&m, member_is(j, "code", "UNAVAILABLE"), "code logged");
	cJSON_Delete(j);
	usleep(1100000);
	MOCK_CHECK(&m, mock_status(&m, "GET", "/api/stores/s/changes?since=0", g_tok, NULL) == 200,
		   "over after 1000 ms");
	MOCK_CHECK(&m, admin_status(&m, "{\"http429Ms\":1000,\"retryAfterSeconds\":7}") == 200, "429");
	MOCK_CHECK(&m, mock_req(&m, "GET", "/api/stores/s/changes?since=0", g_tok, NULL, &r) == 429,
		   "429");
	MOCK_CHECK(&m, eb_http_resp_header(&r, "Retry-After", ra, sizeof ra) && strcmp(ra, "7") == 0,
		   "Retry-After overridden (%s)", ra);
	MOCK_CHECK(&m, strcmp(mock_code(&r, code, sizeof code), "RATE_LIMITED") == 0, "code");
	eb_http_resp_clear(&r);
	MOCK_CHECK(&m, admin(&m, "{}", &r) == 200 && strstr(r.body, "\"retryAfterSeconds\":7") &&
		   strstr(r.body, "\"http429Ms\":"), "state: %s", r.body);
	eb_http_resp_clear(&r);
	usleep(1100000);
	MOCK_CHECK(&m, mock_status(&m, "GET", "/api/stores/s/changes?since=0", g_tok, NULL) == 200,
		   "over after 1000 ms");
	MOCK_CHECK(&m, admin_status(&m, "{\"retryAfterSeconds\":true}") == 400, "type checked");
	MOCK_STOP_OK(&m);
}
END_TEST

static void drop_store_case(bool durable)
{
	mock m;
	eb_http_resp r;
	char code[32], db[300];
	cJSON *j;
	snprintf(db, sizeof db, "%s.db", g_log);
	if (durable)
		START_LOGGED(&m, "--data", db);
	else
		START_LOGGED(&m);
	MOCK_CHECK(&m, mock_push(&m, g_tok, "d", "d1", 0, NULL) == 200, "push 1");
	MOCK_CHECK(&m, mock_push(&m, g_tok, "d", "d2", 1, NULL) == 200, "push 2");
	MOCK_CHECK(&m, admin_status(&m, "{\"dropStore\":\"d\"}") == 200, "drop");
	MOCK_CHECK(&m, mock_req(&m, "GET", "/api/stores/d/changes?since=0", g_tok, NULL, &r) == 200 &&
		   mock_int(r.body, r.body_len, "currentVersion") == 0, "version 0 after the drop");
	eb_http_resp_clear(&r);
	MOCK_CHECK(&m, mock_push(&m, g_tok, "d", "d3", 2, &r) == 409 &&
		   strcmp(mock_code(&r, code, sizeof code), "RESYNC_REQUIRED") == 0,
		   "a client ahead gets 409 RESYNC_REQUIRED");
	eb_http_resp_clear(&r);
	MOCK_CHECK(&m, mock_push(&m, g_tok, "d", "d1", 0, &r) == 200 &&
		   mock_int(r.body, r.body_len, "currentVersion") == 1,
		   "the old ids are forgotten: d1 is new again");
	eb_http_resp_clear(&r);
	LOG_HAS(&m, j, "admin", "action", "dropStore", "store", "d");
	cJSON_Delete(j);
	MOCK_CHECK(&m, admin_status(&m, "{\"dropStore\":\"bad id!\"}") == 400, "invalid id");
	MOCK_CHECK(&m, admin_status(&m, "{\"dropStore\":1}") == 400, "wrong type");
	MOCK_STOP_OK(&m);
	if (durable) {
		MOCK_START(&m, "--data", db);
		MOCK_CHECK(&m, mock_req(&m, "GET", "/api/stores/d/changes?since=0", g_tok, NULL, &r) ==
			   200 && mock_int(r.body, r.body_len, "currentVersion") == 1,
			   "after restart: only what came after the drop");
		eb_http_resp_clear(&r);
		MOCK_STOP_OK(&m);
		char f[320];
		unlink(db);
		snprintf(f, sizeof f, "%s-wal", db);
		unlink(f);
		snprintf(f, sizeof f, "%s-shm", db);
		unlink(f);
	}
}

START_TEST(test_fault_drop_store_forgets_changes_memory)
{
	drop_store_case(false);
}
END_TEST

START_TEST(test_fault_drop_store_forgets_changes_sqlite)
{
	drop_store_case(true);
}
END_TEST

START_TEST(test_fault_store_version_starts_an_empty_store_near_2_53)
{
	mock m;
	eb_http_resp r;
	START_LOGGED(&m);
	MOCK_CHECK(&m, admin_status(&m, "{\"storeVersion\":{\"store\":\"big\",\"version\":9007199254740990}}")
		   == 200, "set");
	MOCK_CHECK(&m, mock_req(&m, "GET", "/api/stores/big/changes?since=0", g_tok, NULL, &r) == 200 &&
		   strstr(r.body, "\"currentVersion\":9007199254740990"), "empty at 2^53-2: %s",
		   r.body ? r.body : "");
	eb_http_resp_clear(&r);
	MOCK_CHECK(&m, mock_push(&m, g_tok, "big", "b1", 9007199254740990LL, &r) == 200 &&
		   strstr(r.body, "\"currentVersion\":" MAX_SAFE), "next change takes 2^53-1: %s",
		   r.body ? r.body : "");
	eb_http_resp_clear(&r);
	MOCK_CHECK(&m, mock_push(&m, g_tok, "big", "b2", 9007199254740991LL, NULL) == 422,
		   "then VER-8");
	MOCK_CHECK(&m, admin_status(&m, "{\"storeVersion\":{\"store\":\"big\",\"version\":5}}") == 400,
		   "refused on a store with changes");
	MOCK_CHECK(&m, admin_status(&m, "{\"storeVersion\":{\"store\":\"e\",\"version\":" MAX_SAFE "}}")
		   == 400, "refused above 2^53-2");
	MOCK_CHECK(&m, admin_status(&m, "{\"storeVersion\":{\"store\":\"e\"}}") == 400, "no version");
	MOCK_CHECK(&m, admin_status(&m, "{\"storeVersion\":{\"store\":\"e\",\"version\":1,\"x\":1}}")
		   == 400, "extra member");
	MOCK_CHECK(&m, admin_status(&m, "{\"dropStore\":\"big\",\"storeVersion\":{\"store\":\"big\","
				     "\"version\":42}}") == 200, "drop then re-version in one call");
	MOCK_CHECK(&m, mock_push(&m, g_tok, "big", "b3", 42, &r) == 200 &&
		   mock_int(r.body, r.body_len, "currentVersion") == 43, "43");
	eb_http_resp_clear(&r);
	cJSON *j;
	LOG_HAS(&m, j, "admin", "action", "storeVersion", "version", "42");
	cJSON_Delete(j);
	MOCK_STOP_OK(&m);
}
END_TEST

START_TEST(test_fault_extras_adds_unknown_members_and_message_types)
{
	mock m;
	eb_http_resp r;
	START_LOGGED(&m, "--fault", "extras");
	eb_wsc *c = mock_ws_authed(&m, g_tok);
	MOCK_CHECK(&m, c, "socket");
	char *ack = mock_ws_subscribe(c, "x", false);
	MOCK_CHECK(&m, ack && strstr(ack, "\"x-ext\":{\"a\":[1]}"), "ack decorated: %s",
		   ack ? ack : "");
	free(ack);
	MOCK_CHECK(&m, mock_push(&m, g_tok, "x", "e1", 0, NULL) == 200, "push");
	char *n1 = mock_ws_recv(c, MOCK_TIMEOUT_MS, NULL);
	char *n2 = mock_ws_recv(c, MOCK_TIMEOUT_MS, NULL);
	char t[32];
	MOCK_CHECK(&m, n1 && strcmp(mock_str(n1, "type", t, sizeof t), "store_changed") == 0 &&
		   strstr(n1, "\"x-ext\""), "store_changed decorated: %s", n1 ? n1 : "");
	MOCK_CHECK(&m, n2 && strcmp(mock_str(n2, "type", t, sizeof t), "x-future") == 0 &&
		   strcmp(mock_str(n2, "storeId", t, sizeof t), "x") == 0,
		   "then an unknown type: %s", n2 ? n2 : "");
	free(n1);
	free(n2);
	eb_wsc_free(c);
	char body[512];
	snprintf(body, sizeof body, "{\"lastKnownVersion\":0,\"changes\":[{\"id\":\"e2\",\"timestamp\":%llu,"
		 "\"operation\":\"set\",\"path\":[\"o\"],\"value\":{\"k\":[{\"z\":1}]}}]}",
		 (unsigned long long)eb_time_now_ms());
	MOCK_CHECK(&m, mock_req(&m, "POST", "/api/stores/x/sync", g_tok, body, &r) == 200, "push 2");
	eb_http_resp_clear(&r);
	MOCK_CHECK(&m, mock_req(&m, "GET", "/api/stores/x/changes?since=0", g_tok, NULL, &r) == 200,
		   "read");
	cJSON *root = NULL;
	MOCK_CHECK(&m, eb_json_parse(r.body, r.body_len, 64, &root, NULL) == EB_OK, "JSON");
	MOCK_CHECK(&m, cJSON_GetObjectItemCaseSensitive(root, "x-ext"), "top level decorated");
	const cJSON *chs = cJSON_GetObjectItemCaseSensitive(root, "changes");
	MOCK_CHECK(&m, cJSON_GetArraySize(chs) == 2, "two changes");
	const cJSON *c2 = cJSON_GetArrayItem(chs, 1);
	MOCK_CHECK(&m, cJSON_GetObjectItemCaseSensitive(c2, "x-ext"), "each change decorated");
	char *val = NULL;
	eb_json_print(cJSON_GetObjectItemCaseSensitive(c2, "value"), &val, NULL);
	MOCK_CHECK(&m, val && strcmp(val, "{\"k\":[{\"z\":1}]}") == 0, "values untouched: %s",
		   val ? val : "");
	free(val);
	cJSON_Delete(root);
	eb_http_resp_clear(&r);
	MOCK_CHECK(&m, mock_req(&m, "GET", "/api/stores/x/changes", g_tok, NULL, &r) == 400 &&
		   strstr(r.body, "\"x-ext\""), "errors decorated");
	eb_http_resp_clear(&r);
	MOCK_CHECK(&m, mock_req(&m, "GET", "/healthz", NULL, NULL, &r) == 200 && !strstr(r.body, "x-ext"),
		   "not outside /api");
	eb_http_resp_clear(&r);
	MOCK_CHECK(&m, admin_status(&m, "{\"extras\":false}") == 200, "off");
	MOCK_CHECK(&m, mock_req(&m, "GET", "/api/stores/x/changes?since=0", g_tok, NULL, &r) == 200 &&
		   !strstr(r.body, "x-ext"), "plain again");
	eb_http_resp_clear(&r);
	MOCK_CHECK(&m, admin_status(&m, "{\"extras\":1}") == 400, "type checked");
	MOCK_STOP_OK(&m);
}
END_TEST

START_TEST(test_fault_page_max_forces_pagination_SYNC_6)
{
	mock m;
	eb_http_resp r;
	START_LOGGED(&m, "--fault", "page-max=2");
	for (int i = 0; i < 5; i++) {
		char id[16];
		snprintf(id, sizeof id, "p%d", i);
		MOCK_CHECK(&m, mock_push(&m, g_tok, "pg", id, i, NULL) == 200, "push %d", i);
	}
	cJSON *root = NULL;
	MOCK_CHECK(&m, mock_req(&m, "GET", "/api/stores/pg/changes?since=0&limit=100", g_tok, NULL,
				&r) == 200, "read");
	MOCK_CHECK(&m, eb_json_parse(r.body, r.body_len, 64, &root, NULL) == EB_OK &&
		   cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root, "changes")) == 2 &&
		   cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "hasMore")) &&
		   mock_int(r.body, r.body_len, "toVersion") == 2, "2 of 5, hasMore: %s", r.body);
	cJSON_Delete(root);
	eb_http_resp_clear(&r);
	MOCK_CHECK(&m, mock_req(&m, "GET", "/api/stores/pg/changes?since=4", g_tok, NULL, &r) == 200 &&
		   strstr(r.body, "\"hasMore\":false"), "last page: %s", r.body);
	eb_http_resp_clear(&r);
	char body[128];
	snprintf(body, sizeof body, "{\"lastKnownVersion\":0,\"changes\":[]}");
	MOCK_CHECK(&m, mock_req(&m, "POST", "/api/stores/pg/sync", g_tok, body, &r) == 200 &&
		   strstr(r.body, "\"hasMore\":true") && mock_int(r.body, r.body_len, "toVersion") == 2,
		   "sync pages too: %s", r.body);
	eb_http_resp_clear(&r);
	cJSON *j;
	LOG_HAS(&m, j, "http", "method", "POST", "hasMore", "true");
	MOCK_CHECK(&m, member_is(j, "n", "2"), "n logged");
	cJSON_Delete(j);
	MOCK_CHECK(&m, admin_status(&m, "{\"pageMax\":0}") == 200, "off");
	MOCK_CHECK(&m, mock_req(&m, "GET", "/api/stores/pg/changes?since=0", g_tok, NULL, &r) == 200 &&
		   strstr(r.body, "\"hasMore\":false"), "whole feed again");
	eb_http_resp_clear(&r);
	MOCK_CHECK(&m, admin_status(&m, "{\"pageMax\":\"2\"}") == 400, "type checked");
	MOCK_STOP_OK(&m);
}
END_TEST

START_TEST(test_fault_revoke_refuses_tokens_by_jti_and_closes_their_sockets)
{
	mock m;
	cJSON *j;
	char *t1 = token_jti("alice", "j-1"), *t2 = token_jti("alice", "j-2");
	ck_assert(t1 && t2);
	START_LOGGED(&m);
	eb_wsc *a = mock_ws_authed(&m, t1), *b = mock_ws_authed(&m, t2), *c = mock_ws_authed(&m, g_tok);
	MOCK_CHECK(&m, a && b && c, "sockets");
	MOCK_CHECK(&m, admin_status(&m, "{\"revoke\":[\"j-1\"]}") == 200, "revoke");
	MOCK_CHECK(&m, mock_ws_wait_close(a, 2000) == 4401, "socket of j-1 closed 4401");
	MOCK_CHECK(&m, mock_ws_wait_close(b, 300) == 0, "j-2 stays open");
	MOCK_CHECK(&m, mock_ws_wait_close(c, 100) == 0, "token without jti stays open");
	MOCK_CHECK(&m, mock_status(&m, "GET", "/api/stores/s/changes?since=0", t1, NULL) == 401,
		   "HTTP 401 for j-1");
	MOCK_CHECK(&m, mock_status(&m, "GET", "/api/stores/s/changes?since=0", t2, NULL) == 200,
		   "j-2 fine");
	LOG_HAS(&m, j, "http", "status", "401", "fault", "revoke");
	cJSON_Delete(j);
	eb_wsc *d = mock_ws(&m);
	char msg[2048];
	snprintf(msg, sizeof msg, "{\"type\":\"auth\",\"requestId\":\"a\",\"token\":\"%s\"}", t1);
	MOCK_CHECK(&m, d && mock_ws_send(d, msg), "auth with j-1");
	MOCK_CHECK(&m, mock_ws_wait_close(d, 2000) == 4401, "auth with a revoked token: 4401");
	LOG_HAS(&m, j, "admin", "action", "revoke", "sockets", "1");
	cJSON_Delete(j);
	MOCK_CHECK(&m, admin_status(&m, "{\"revoke\":[]}") == 200, "unrevoke");
	MOCK_CHECK(&m, mock_status(&m, "GET", "/api/stores/s/changes?since=0", t1, NULL) == 200,
		   "j-1 fine again");
	MOCK_CHECK(&m, admin_status(&m, "{\"revoke\":[1]}") == 400, "jti must be strings");
	MOCK_CHECK(&m, admin_status(&m, "{\"revoke\":\"j-1\"}") == 400, "array required");
	eb_wsc_free(a);
	eb_wsc_free(b);
	eb_wsc_free(c);
	eb_wsc_free(d);
	free(t1);
	free(t2);
	MOCK_STOP_OK(&m);
}
END_TEST

START_TEST(test_admin_refuses_a_whole_post_when_one_field_is_wrong)
{
	mock m;
	eb_http_resp r;
	START_LOGGED(&m, "--fault", "silent-ws", "--fault", "http-503-ms=60000",
		     "--fault", "retry-after=3", "--fault", "page-max=4");
	MOCK_CHECK(&m, admin(&m, "{}", &r) == 200 && strstr(r.body, "\"silentWs\":true") &&
		   strstr(r.body, "\"retryAfterSeconds\":3") && strstr(r.body, "\"pageMax\":4") &&
		   strstr(r.body, "\"http503Seconds\":60"), "flags set the state: %s", r.body);
	eb_http_resp_clear(&r);
	MOCK_CHECK(&m, admin(&m, "{\"pageMax\":9,\"silentWs\":\"no\"}", &r) == 400 &&
		   strstr(r.body, "silentWs"), "message names the field: %s", r.body);
	eb_http_resp_clear(&r);
	MOCK_CHECK(&m, admin(&m, "{}", &r) == 200 && strstr(r.body, "\"pageMax\":4"),
		   "nothing applied: %s", r.body);
	eb_http_resp_clear(&r);
	MOCK_CHECK(&m, mock_req(&m, "DELETE", "/admin/faults", ADMIN, NULL, &r) == 200 &&
		   strstr(r.body, "\"silentWs\":false") && strstr(r.body, "\"revoke\":[]"),
		   "DELETE clears the new faults too: %s", r.body);
	eb_http_resp_clear(&r);
	cJSON *j;
	LOG_HAS(&m, j, "admin", "action", "clear", NULL, NULL);
	cJSON_Delete(j);
	MOCK_STOP_OK(&m);
}
END_TEST

int main(void)
{
	TCase *tc;
	Suite *s = mock_suite_one("mock_events", &tc);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_event_log_http_lines_carry_request_answer_and_monotonic_times);
	tcase_add_test(tc, test_event_log_websocket_open_messages_and_close_by_whom);
	tcase_add_test(tc, test_event_log_never_holds_a_token);
	tcase_add_test(tc, test_event_log_is_capped_with_one_log_full_line);
	tcase_add_test(tc, test_event_log_bad_flags_exit_2);
	tcase_add_test(tc, test_fault_close_ws_closes_every_socket_with_the_code);
	tcase_add_test(tc, test_fault_silent_ws_keeps_tcp_but_answers_nothing_http_works);
	tcase_add_test(tc, test_fault_http_reset_ms_closes_api_requests_without_answer);
	tcase_add_test(tc, test_fault_http_503_429_ms_and_retry_after_override);
	tcase_add_test(tc, test_fault_drop_store_forgets_changes_memory);
	tcase_add_test(tc, test_fault_drop_store_forgets_changes_sqlite);
	tcase_add_test(tc, test_fault_store_version_starts_an_empty_store_near_2_53);
	tcase_add_test(tc, test_fault_extras_adds_unknown_members_and_message_types);
	tcase_add_test(tc, test_fault_page_max_forces_pagination_SYNC_6);
	tcase_add_test(tc, test_fault_revoke_refuses_tokens_by_jti_and_closes_their_sockets);
	tcase_add_test(tc, test_admin_refuses_a_whole_post_when_one_field_is_wrong);
	return mock_run(s);
}
