/*
 * check_mock_faults.c — ebmock's scripted faults, by flag and through the
 * admin endpoint, the command line (usage errors, --help, --defect list
 * against docs/DEFECTS.md, every defect accepted) and a sample of defect
 * behaviours.
 */
#include <sys/wait.h>
#include "check_mock_common.h"

#define ADMIN "admin-secret"

static char *g_tok;

static void setup(void)
{
	g_tok = mock_token("alice");
}

static void teardown(void)
{
	free(g_tok);
}

static long admin(mock *m, const char *method, const char *body, eb_http_resp *r)
{
	return mock_req(m, method, "/admin/faults", ADMIN, body, r);
}

static long admin_status(mock *m, const char *method, const char *body)
{
	eb_http_resp r;
	long st = admin(m, method, body, &r);
	eb_http_resp_clear(&r);
	return st;
}

/* Upgrade status: 101 when the socket opened (then closed again). */
static int ws_upgrade_status(mock *m)
{
	eb_wsc *c = NULL;
	int st = 0;
	eb_rc rc = eb_wsc_connect(m->proc.url, MOCK_NOTIF_PATH, 2000, NULL, 0, &c, &st, NULL);
	if (rc == EB_OK) {
		eb_wsc_free(c);
		return 101;
	}
	return rc == EB_ERR_SHAPE ? st : -1;
}

START_TEST(test_admin_endpoint_off_without_token_and_guarded_with_one)
{
	mock m;
	eb_http_resp r;
	MOCK_START_DEFAULT(&m);
	MOCK_CHECK(&m, mock_status(&m, "GET", "/admin/faults", ADMIN, NULL) == 404, "off: 404");
	mock_stop(&m);
	MOCK_START(&m, "--admin-token", ADMIN);
	MOCK_CHECK(&m, mock_status(&m, "GET", "/admin/faults", NULL, NULL) == 401, "no token");
	MOCK_CHECK(&m, mock_status(&m, "GET", "/admin/faults", "wrong", NULL) == 401, "wrong token");
	MOCK_CHECK(&m, mock_status(&m, "GET", "/admin/faults", g_tok, NULL) == 401, "a JWT is not the admin token");
	MOCK_CHECK(&m, admin(&m, "GET", NULL, &r) == 200, "state");
	MOCK_CHECK(&m, strstr(r.body, "\"refuseWs\":false") && strstr(r.body, "\"dropWs\":null") &&
		   strstr(r.body, "\"delayMs\":0"), "initial state: %s", r.body);
	eb_http_resp_clear(&r);
	MOCK_CHECK(&m, admin_status(&m, "POST", "{\"bogus\":1}") == 400, "unknown field");
	MOCK_CHECK(&m, admin_status(&m, "POST", "{\"delayMs\":-1}") == 400, "bad value");
	MOCK_CHECK(&m, admin_status(&m, "POST", "{\"delayMs\":") == 400, "bad JSON");
	MOCK_CHECK(&m, admin_status(&m, "PUT", "{}") == 405, "405");
	MOCK_CHECK(&m, admin(&m, "POST", "{\"noNotify\":true,\"http503Seconds\":30}", &r) == 200, "set");
	MOCK_CHECK(&m, strstr(r.body, "\"noNotify\":true") && strstr(r.body, "\"http503Seconds\":30"),
		   "state echoed: %s", r.body);
	eb_http_resp_clear(&r);
	MOCK_CHECK(&m, admin(&m, "DELETE", NULL, &r) == 200, "clear");
	MOCK_CHECK(&m, strstr(r.body, "\"noNotify\":false") && strstr(r.body, "\"http503Seconds\":0"),
		   "cleared: %s", r.body);
	eb_http_resp_clear(&r);
	MOCK_STOP_OK(&m);
}
END_TEST

START_TEST(test_refuse_ws_by_flag_and_admin)
{
	mock m;
	MOCK_START(&m, "--fault", "refuse-ws", "--admin-token", ADMIN);
	MOCK_CHECK(&m, ws_upgrade_status(&m) == 503, "flag: upgrade answered 503");
	MOCK_CHECK(&m, admin_status(&m, "DELETE", NULL) == 200, "clear");
	MOCK_CHECK(&m, ws_upgrade_status(&m) == 101, "accepted again");
	MOCK_CHECK(&m, admin_status(&m, "POST", "{\"refuseWs\":true}") == 200, "set");
	MOCK_CHECK(&m, ws_upgrade_status(&m) == 503, "admin: 503");
	MOCK_CHECK(&m, mock_status(&m, "GET", "/api/limits", NULL, NULL) == 200, "HTTP unaffected");
	MOCK_STOP_OK(&m);
}
END_TEST

START_TEST(test_drop_ws_after_by_flag_and_drop_now_by_admin)
{
	mock m;
	MOCK_START(&m, "--fault", "drop-ws-after=1", "--admin-token", ADMIN);
	eb_wsc *c = mock_ws_authed(&m, g_tok);
	MOCK_CHECK(&m, c, "auth");
	uint64_t t0 = eb_time_mono_ns() / 1000000u;
	int code = mock_ws_wait_close(c, 3000);
	uint64_t dt = eb_time_mono_ns() / 1000000u - t0;
	MOCK_CHECK(&m, code == -1, "dropped without close frame (got %d)", code);
	MOCK_CHECK(&m, dt >= 700 && dt <= 2000, "after about 1 s (%llu)", (unsigned long long)dt);
	eb_wsc_free(c);
	MOCK_CHECK(&m, admin_status(&m, "DELETE", NULL) == 200, "clear");
	c = mock_ws_authed(&m, g_tok);
	eb_wsc *d = mock_ws(&m);
	MOCK_CHECK(&m, mock_ws_wait_close(c, 1500) == 0, "no longer dropped");
	MOCK_CHECK(&m, admin_status(&m, "POST", "{\"dropWs\":\"now\"}") == 200, "drop now");
	MOCK_CHECK(&m, mock_ws_wait_close(c, 1000) == -1, "dropped now");
	MOCK_CHECK(&m, mock_ws_wait_close(d, 1000) == -1, "unauthenticated dropped too");
	eb_wsc_free(c);
	eb_wsc_free(d);
	c = mock_ws_authed(&m, g_tok);
	MOCK_CHECK(&m, c && mock_ws_wait_close(c, 500) == 0, "new sockets unaffected by a past drop");
	MOCK_CHECK(&m, admin_status(&m, "POST", "{\"dropWs\":1}") == 200, "drop after 1 s");
	MOCK_CHECK(&m, mock_ws_wait_close(c, 2500) == -1, "dropped after the admin delay");
	eb_wsc_free(c);
	MOCK_STOP_OK(&m);
}
END_TEST

START_TEST(test_stall_by_flag_and_admin)
{
	mock m;
	eb_http_resp r;
	MOCK_START(&m, "--fault", "stall", "--admin-token", ADMIN);
	eb_http *h = eb_http_new(m.proc.url, 600);
	eb_rc rc = eb_http_request(h, "GET", "/api/limits", NULL, NULL, NULL, 0, NULL, 0, &r);
	MOCK_CHECK(&m, rc != EB_OK || r.status == 0, "stalled HTTP never answers (status %ld)", r.status);
	eb_http_resp_clear(&r);
	eb_wsc *c = mock_ws(&m);
	MOCK_CHECK(&m, c, "WS upgrade accepted while stalled");
	char msg[1024];
	snprintf(msg, sizeof msg, "{\"type\":\"auth\",\"requestId\":\"1\",\"token\":\"%s\"}", g_tok);
	MOCK_CHECK(&m, mock_ws_send(c, msg), "send");
	char *got = mock_ws_recv(c, 600, NULL);
	MOCK_CHECK(&m, got == NULL, "no auth_ok while stalled: %s", got ? got : "-");
	MOCK_ALIVE(&m);
	MOCK_CHECK(&m, admin_status(&m, "POST", "{\"stall\":false}") == 200, "unstall");
	MOCK_CHECK(&m, mock_status(&m, "GET", "/api/limits", NULL, NULL) == 200, "answers again");
	eb_wsc_free(c);
	MOCK_CHECK(&m, admin_status(&m, "POST", "{\"stall\":true}") == 200, "stall by admin");
	rc = eb_http_request(h, "GET", "/api/limits", NULL, NULL, NULL, 0, NULL, 0, &r);
	MOCK_CHECK(&m, rc != EB_OK || r.status == 0, "admin stall");
	eb_http_resp_clear(&r);
	eb_http_free(h);
	MOCK_STOP_OK(&m);
}
END_TEST

START_TEST(test_http_503_and_429_with_retry_after_by_flag_and_admin_ERR_6)
{
	mock m;
	eb_http_resp r;
	char ra[16], code[32];
	MOCK_START(&m, "--fault", "http-503=2", "--admin-token", ADMIN);
	MOCK_CHECK(&m, mock_req(&m, "GET", "/api/stores/a/changes?since=0", g_tok, NULL, &r) == 503, "503");
	MOCK_CHECK(&m, strcmp(mock_code(&r, code, sizeof code), "UNAVAILABLE") == 0, "UNAVAILABLE");
	MOCK_CHECK(&m, eb_http_resp_header(&r, "Retry-After", ra, sizeof ra) && (int)strtol(ra, NULL, 10) >= 1 &&
		   (int)strtol(ra, NULL, 10) <= 2, "Retry-After %s", ra);
	eb_http_resp_clear(&r);
	MOCK_CHECK(&m, mock_status(&m, "GET", "/healthz", NULL, NULL) == 200, "healthz exempt");
	usleep(2100 * 1000);
	MOCK_CHECK(&m, mock_status(&m, "GET", "/api/stores/a/changes?since=0", g_tok, NULL) == 200, "over");
	MOCK_CHECK(&m, admin_status(&m, "POST", "{\"http429Seconds\":1}") == 200, "429 by admin");
	MOCK_CHECK(&m, mock_req(&m, "POST", "/api/stores/a/sync", g_tok, "{\"lastKnownVersion\":0}", &r) == 429, "429");
	MOCK_CHECK(&m, eb_http_resp_header(&r, "Retry-After", ra, sizeof ra) && (int)strtol(ra, NULL, 10) == 1, "Retry-After");
	eb_http_resp_clear(&r);
	usleep(1100 * 1000);
	MOCK_CHECK(&m, mock_status(&m, "POST", "/api/stores/a/sync", g_tok, "{\"lastKnownVersion\":0}") == 200, "over");
	MOCK_CHECK(&m, admin_status(&m, "POST", "{\"http503Seconds\":60}") == 200, "503 by admin");
	MOCK_CHECK(&m, mock_status(&m, "GET", "/api/limits", NULL, NULL) == 503, "503 again");
	MOCK_CHECK(&m, admin_status(&m, "DELETE", NULL) == 200, "clear");
	MOCK_CHECK(&m, mock_status(&m, "GET", "/api/limits", NULL, NULL) == 200, "cleared");
	mock_stop(&m);
	MOCK_START(&m, "--fault", "http-429=5");
	MOCK_CHECK(&m, mock_status(&m, "GET", "/api/limits", NULL, NULL) == 429, "429 by flag");
	MOCK_STOP_OK(&m);
}
END_TEST

START_TEST(test_delay_ms_by_flag_and_admin)
{
	mock m;
	MOCK_START(&m, "--fault", "delay-ms=300", "--admin-token", ADMIN);
	uint64_t t0 = eb_time_mono_ns() / 1000000u;
	MOCK_CHECK(&m, mock_status(&m, "GET", "/api/stores/d/changes?since=0", g_tok, NULL) == 200, "answer");
	uint64_t dt = eb_time_mono_ns() / 1000000u - t0;
	MOCK_CHECK(&m, dt >= 290 && dt < 2000, "delayed (%llu ms)", (unsigned long long)dt);
	/* the event loop is not blocked meanwhile: health answers at once */
	t0 = eb_time_mono_ns() / 1000000u;
	MOCK_ALIVE(&m);
	MOCK_CHECK(&m, eb_time_mono_ns() / 1000000u - t0 < 250, "healthz not delayed");
	MOCK_CHECK(&m, admin_status(&m, "POST", "{\"delayMs\":0}") == 200, "off");
	t0 = eb_time_mono_ns() / 1000000u;
	MOCK_CHECK(&m, mock_status(&m, "GET", "/api/limits", NULL, NULL) == 200, "answer");
	MOCK_CHECK(&m, eb_time_mono_ns() / 1000000u - t0 < 250, "not delayed");
	MOCK_CHECK(&m, admin_status(&m, "POST", "{\"delayMs\":400}") == 200, "on");
	t0 = eb_time_mono_ns() / 1000000u;
	MOCK_CHECK(&m, mock_push(&m, g_tok, "d", "x", 0, NULL) == 200, "push");
	MOCK_CHECK(&m, eb_time_mono_ns() / 1000000u - t0 >= 390, "admin delay");
	MOCK_STOP_OK(&m);
}
END_TEST

START_TEST(test_no_notify_by_flag_and_admin)
{
	mock m;
	MOCK_START(&m, "--fault", "no-notify", "--admin-token", ADMIN);
	eb_wsc *c = mock_ws_authed(&m, g_tok);
	free(mock_ws_subscribe(c, "nn", false));
	MOCK_CHECK(&m, mock_push(&m, g_tok, "nn", "a", 0, NULL) == 200, "push");
	char *n = mock_ws_recv(c, 400, NULL);
	MOCK_CHECK(&m, n == NULL, "no notification: %s", n ? n : "-");
	MOCK_CHECK(&m, admin_status(&m, "DELETE", NULL) == 200, "clear");
	MOCK_CHECK(&m, mock_push(&m, g_tok, "nn", "b", 1, NULL) == 200, "push");
	n = mock_ws_recv(c, 1000, NULL);
	MOCK_CHECK(&m, n && mock_int(n, strlen(n), "version") == 2, "notified again: %s", n ? n : "-");
	free(n);
	MOCK_CHECK(&m, admin_status(&m, "POST", "{\"noNotify\":true}") == 200, "admin");
	MOCK_CHECK(&m, mock_push(&m, g_tok, "nn", "c", 2, NULL) == 200, "push");
	n = mock_ws_recv(c, 400, NULL);
	MOCK_CHECK(&m, n == NULL, "admin no-notify: %s", n ? n : "-");
	eb_wsc_free(c);
	MOCK_STOP_OK(&m);
}
END_TEST

/* Runs ebmock with args to completion; returns the exit status and fills out
 * (stdout) when non-NULL. */
static int run_cli(const char *args, char *out, size_t outlen)
{
	char bin[512], cmd[1024];
	eb_proc_bin("ebmock", bin, sizeof bin);
	snprintf(cmd, sizeof cmd, "'%s' %s 2>/dev/null", bin, args);
	FILE *f = popen(cmd, "r");
	if (!f)
		return -1;
	size_t n = 0;
	char buf[4096];
	size_t got;
	while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
		if (out && n + got < outlen) {
			memcpy(out + n, buf, got);
			n += got;
		}
	}
	if (out)
		out[n] = '\0';
	int st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(test_command_line_usage_errors_exit_2)
{
	static char out[65536];
	ck_assert_int_eq(run_cli("--port 0", NULL, 0), 2);                 /* no key, no --no-auth */
	ck_assert_int_eq(run_cli("--jwt-secret s --defect nosuch", NULL, 0), 2);
	ck_assert_int_eq(run_cli("--jwt-secret s --fault nosuch", NULL, 0), 2);
	ck_assert_int_eq(run_cli("--jwt-secret s --coalesce-ms 251", NULL, 0), 2);
	ck_assert_int_eq(run_cli("--jwt-secret s --jwt-leeway 61", NULL, 0), 2);
	ck_assert_int_eq(run_cli("--jwt-secret s --port 70000", NULL, 0), 2);
	ck_assert_int_eq(run_cli("--jwt-secret s --bogus", NULL, 0), 2);
	ck_assert_int_eq(run_cli("--jwt-secret s --fault page-max=x", NULL, 0), 2);
	ck_assert_int_eq(run_cli("--jwt-secret s --fault http-reset-ms=86400001", NULL, 0), 2);
	ck_assert_int_eq(run_cli("--jwt-secret s --event-log-max-bytes 1023", NULL, 0), 2);
	ck_assert_int_eq(run_cli("--jwt-public-key /nonexistent/key.pem", NULL, 0), 2);
	ck_assert_int_eq(run_cli("--help", out, sizeof out), 0);
	static const char *const flags[] = {
		"--host", "--port", "--port-file", "--no-auth", "--jwt-secret", "--jwt-public-key",
		"--jwt-issuer", "--jwt-audience", "--jwt-leeway", "--data", "--coalesce-ms",
		"--timestamp-skew-ms", "--max-body-bytes", "--max-changes", "--max-path-segments",
		"--max-segment-bytes", "--max-value-bytes", "--max-value-depth",
		"--max-change-id-bytes", "--max-frame-bytes", "--max-page-limit",
		"--max-subscriptions", "--rate-http", "--rate-http-burst", "--rate-ws",
		"--rate-ws-burst", "--auth-timeout-ms", "--ping-interval-s", "--max-conns",
		"--admin-token", "--fault", "--defect", "--quiet", "--help", "--event-log",
		"--event-log-max-bytes",
	};
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
		ck_assert_msg(strstr(out, flags[i]), "--help documents %s", flags[i]);
}
END_TEST

START_TEST(test_defect_list_matches_docs_DEFECTS_md)
{
	static char out[65536];
	char path[1024];
	const char *root = getenv("EB_ROOT");
	ck_assert_int_eq(run_cli("--defect list", out, sizeof out), 0);
	snprintf(path, sizeof path, "%s/docs/DEFECTS.md", root ? root : ".");
	FILE *f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	char line[1024];
	int rows = 0;
	while (fgets(line, sizeof line, f)) {
		char name[128], rule[64], want[600];
		if (strncmp(line, "| ", 2) != 0 || strncmp(line, "| name", 6) == 0 ||
		    strncmp(line, "|---", 4) == 0)
			continue;
		/* | name | rule | description | */
		char *p = line + 2, *q = strstr(p, " | ");
		ck_assert(q != NULL);
		snprintf(name, sizeof name, "%.*s", (int)(q - p), p);
		p = q + 3;
		q = strstr(p, " | ");
		ck_assert(q != NULL);
		snprintf(rule, sizeof rule, "%.*s", (int)(q - p), p);
		p = q + 3;
		q = strstr(p, " |");
		ck_assert(q != NULL);
		char desc[300];
		snprintf(desc, sizeof desc, "%.*s", (int)(q - p), p);
		snprintf(want, sizeof want, "%s\t%s\t%s\n", name, rule, desc);
		ck_assert_msg(strstr(out, want), "--defect list lacks: %s", want);
		rows++;
	}
	fclose(f);
	int lines = 0;
	for (const char *p = out; *p; p++)
		lines += *p == '\n';
	ck_assert_msg(rows > 30 && lines == rows, "%d rows in DEFECTS.md, %d lines listed", rows, lines);
}
END_TEST

START_TEST(test_every_defect_is_accepted_and_serves)
{
	static char out[65536];
	ck_assert_int_eq(run_cli("--defect list", out, sizeof out), 0);
	int n = 0;
	for (char *line = out, *nl; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		ck_assert(nl != NULL);
		*nl = '\0';
		char *tab = strchr(line, '\t');
		ck_assert(tab != NULL);
		*tab = '\0';
		mock m;
		const char *const a[] = { "--defect", line, "--quiet", NULL };
		ck_assert_msg(mock_start_args(&m, true, a) == 0, "--defect %s starts", line);
		MOCK_ALIVE(&m);
		MOCK_STOP_OK(&m);
		n++;
	}
	ck_assert_int_ge(n, 38);
}
END_TEST

/* A sample of defect switches changes behaviour the way DEFECTS.md says. */
START_TEST(test_defect_switches_change_behaviour)
{
	mock m;
	eb_http_resp r;
	const char *two =
		"{\"lastKnownVersion\":0,\"changes\":[{\"id\":\"a\",\"timestamp\":1,\"operation\":\"delete\",\"path\":[\"x\"]},"
		"{\"id\":\"b\",\"timestamp\":1,\"operation\":\"delete\",\"path\":[\"x\"]}]}";
	MOCK_START(&m, "--defect", "version-gap");
	MOCK_CHECK(&m, mock_req(&m, "POST", "/api/stores/g/sync", g_tok, two, &r) == 200, "push");
	MOCK_CHECK(&m, mock_int(r.body, r.body_len, "currentVersion") == 3, "VER-2 gap: %s", r.body);
	eb_http_resp_clear(&r);
	mock_stop(&m);
	MOCK_START(&m, "--defect", "echo-own-changes");
	MOCK_CHECK(&m, mock_req(&m, "POST", "/api/stores/g/sync", g_tok, two, &r) == 200, "push");
	MOCK_CHECK(&m, strstr(r.body, "\"id\":\"a\""), "SYNC-5 echo: %s", r.body);
	eb_http_resp_clear(&r);
	mock_stop(&m);
	MOCK_START(&m, "--defect", "error-without-code");
	MOCK_CHECK(&m, mock_req(&m, "GET", "/nope", NULL, NULL, &r) == 404, "404");
	MOCK_CHECK(&m, !strstr(r.body, "\"code\"") && strstr(r.body, "message"), "ERR-1: %s", r.body);
	eb_http_resp_clear(&r);
	mock_stop(&m);
	MOCK_START(&m, "--defect", "check-order-wrong");
	MOCK_CHECK(&m, mock_status(&m, "POST", "/api/stores/g/sync", NULL, "{") == 400, "ERR-3 wrong order");
	MOCK_CHECK(&m, mock_status(&m, "POST", "/api/stores/g/sync", NULL, "{\"lastKnownVersion\":0}") == 401, "still 401");
	mock_stop(&m);
	MOCK_START(&m, "--defect", "limit-clamped");
	MOCK_CHECK(&m, mock_status(&m, "GET", "/api/stores/g/changes?since=0&limit=5000", g_tok, NULL) == 200, "LIMIT-7");
	mock_stop(&m);
	MOCK_START(&m, "--defect", "dup-key-accepted", "--defect", "delete-value-accepted");
	MOCK_CHECK(&m, mock_status(&m, "POST", "/api/stores/g/sync", g_tok,
				   "{\"lastKnownVersion\":5,\"lastKnownVersion\":0}") == 200, "GEN-6");
	MOCK_CHECK(&m, mock_status(&m, "POST", "/api/stores/g/sync", g_tok,
				   "{\"lastKnownVersion\":0,\"changes\":[{\"id\":\"d\",\"timestamp\":1,\"operation\":\"delete\",\"path\":[\"x\"],\"value\":1}]}") == 200,
		   "CHG-6");
	mock_stop(&m);
	MOCK_START(&m, "--defect", "partial-batch");
	MOCK_CHECK(&m, mock_status(&m, "POST", "/api/stores/g/sync", g_tok,
				   "{\"lastKnownVersion\":0,\"changes\":[{\"id\":\"ok\",\"timestamp\":1,\"operation\":\"delete\",\"path\":[\"x\"]},"
				   "{\"id\":\"\",\"timestamp\":1,\"operation\":\"delete\",\"path\":[\"x\"]}]}") == 400, "400");
	MOCK_CHECK(&m, mock_req(&m, "GET", "/api/stores/g/changes?since=0", g_tok, NULL, &r) == 200, "feed");
	MOCK_CHECK(&m, mock_int(r.body, r.body_len, "currentVersion") == 1, "SYNC-2 partial: %s", r.body);
	eb_http_resp_clear(&r);
	mock_stop(&m);
	MOCK_START(&m, "--defect", "no-pong");
	eb_wsc *c = mock_ws_authed(&m, g_tok);
	MOCK_CHECK(&m, mock_ws_send(c, "{\"type\":\"ping\",\"requestId\":\"1\"}"), "ping");
	char *got = mock_ws_recv(c, 400, NULL);
	MOCK_CHECK(&m, got == NULL, "WS-5 no pong: %s", got ? got : "-");
	eb_wsc_free(c);
	MOCK_STOP_OK(&m);
}
END_TEST

int main(void)
{
	TCase *tc;
	Suite *s = mock_suite_one("mock_faults", &tc);
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_admin_endpoint_off_without_token_and_guarded_with_one);
	tcase_add_test(tc, test_refuse_ws_by_flag_and_admin);
	tcase_add_test(tc, test_drop_ws_after_by_flag_and_drop_now_by_admin);
	tcase_add_test(tc, test_stall_by_flag_and_admin);
	tcase_add_test(tc, test_http_503_and_429_with_retry_after_by_flag_and_admin_ERR_6);
	tcase_add_test(tc, test_delay_ms_by_flag_and_admin);
	tcase_add_test(tc, test_no_notify_by_flag_and_admin);
	tcase_add_test(tc, test_command_line_usage_errors_exit_2);
	tcase_add_test(tc, test_defect_list_matches_docs_DEFECTS_md);
	tcase_add_test(tc, test_every_defect_is_accepted_and_serves);
	tcase_add_test(tc, test_defect_switches_change_behaviour);
	return mock_run(s);
}
