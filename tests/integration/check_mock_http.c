/*
 * check_mock_http.c — ebmock's HTTP endpoints on a real server: routes,
 * sync (section 3), the changes feed (section 4), idempotency (section 5),
 * errors and the ERR-3 order of checks (section 7), limits (section 8), rate
 * limiting (section 11) and the extensions (healthz, metrics, limits).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include "check_mock_common.h"

static char *g_tok;

static void setup(void)
{
	g_tok = mock_token("alice");
}

static void teardown(void)
{
	free(g_tok);
}

static char *change_json(const char *id, uint64_t ts, const char *path_json,
			 const char *value_json)
{
	size_t cap = strlen(path_json) + (value_json ? strlen(value_json) : 0) + 256;
	char *out = malloc(cap);
	if (!out)
		return NULL;
	if (value_json)
		snprintf(out, cap, "{\"id\":\"%s\",\"timestamp\":%llu,\"operation\":\"set\",\"path\":%s,\"value\":%s}",
			id, (unsigned long long)ts, path_json, value_json);
	else
		snprintf(out, cap, "{\"id\":\"%s\",\"timestamp\":%llu,\"operation\":\"delete\",\"path\":%s}",
			id, (unsigned long long)ts, path_json);
	return out;
}

START_TEST(test_healthz_limits_metrics_answer_without_token)
{
	mock m;
	eb_http_resp r;
	char code[32];
	MOCK_START_DEFAULT(&m);
	MOCK_CHECK(&m, mock_req(&m, "GET", "/healthz", NULL, NULL, &r) == 200, "healthz");
	MOCK_CHECK(&m, mock_int(r.body, r.body_len, "pid") == (long long)m.proc.pid, "pid");
	eb_http_resp_clear(&r);
	MOCK_CHECK(&m, mock_req(&m, "GET", "/api/limits", NULL, NULL, &r) == 200, "limits LIMIT-10");
	MOCK_CHECK(&m, mock_int(r.body, r.body_len, "maxBodyBytes") == 1048576, "maxBodyBytes");
	MOCK_CHECK(&m, mock_int(r.body, r.body_len, "maxSubscriptionsPerSocket") == 100, "subs");
	MOCK_CHECK(&m, mock_int(r.body, r.body_len, "timestampSkewMs") == 60000, "skew");
	MOCK_CHECK(&m, strstr(r.body, "rateLimit") == NULL, "no rateLimit when off");
	char ct[64];
	MOCK_CHECK(&m, eb_http_resp_header(&r, "Content-Type", ct, sizeof ct) &&
		   strstr(ct, "application/json"), "GEN-2 content type");
	eb_http_resp_clear(&r);
	MOCK_CHECK(&m, mock_req(&m, "GET", "/metrics", NULL, NULL, &r) == 200, "metrics");
	MOCK_CHECK(&m, strstr(r.body, "ebmock_http_requests_total{route=\"limits\",status=\"200\"} 1"),
		   "metrics counts requests: %s", r.body);
	MOCK_CHECK(&m, strstr(r.body, "ebmock_ws_sessions 0"), "ws gauge");
	eb_http_resp_clear(&r);
	MOCK_CHECK(&m, mock_req(&m, "GET", "/nope", NULL, NULL, &r) == 404, "404");
	MOCK_CHECK(&m, strcmp(mock_code(&r, code, sizeof code), "NOT_FOUND") == 0, "NOT_FOUND");
	eb_http_resp_clear(&r);
	MOCK_CHECK(&m, mock_req(&m, "POST", "/api/limits", NULL, "{}", &r) == 405, "405");
	MOCK_CHECK(&m, eb_http_resp_header(&r, "Allow", ct, sizeof ct) && strcmp(ct, "GET") == 0,
		   "ERR-5 Allow");
	eb_http_resp_clear(&r);
	MOCK_STOP_OK(&m);
}
END_TEST

START_TEST(test_sync_assigns_dense_versions_and_leaves_out_own_changes_SYNC_5)
{
	mock m;
	eb_http_resp r;
	uint64_t now = eb_time_now_ms();
	MOCK_START_DEFAULT(&m);
	char *a = change_json("a", now, "[\"x\"]", "1");
	char *b = change_json("b", now, "[\"y\",\"z\"]", "{\"deep\":[1,2,null]}");
	char *d = change_json("c", now, "[\"x\"]", NULL);
	char body[2048];
	snprintf(body, sizeof body, "{\"lastKnownVersion\":0,\"changes\":[%s,%s,%s]}", a, b, d);
	MOCK_CHECK(&m, mock_req(&m, "POST", "/api/stores/s1/sync", g_tok, body, &r) == 200, "sync");
	MOCK_CHECK(&m, mock_int(r.body, r.body_len, "currentVersion") == 3, "VER-2: %s", r.body);
	MOCK_CHECK(&m, strstr(r.body, "\"changes\":[]"), "SYNC-5 own changes left out: %s", r.body);
	MOCK_CHECK(&m, mock_int(r.body, r.body_len, "toVersion") == 3, "SYNC-7");
	MOCK_CHECK(&m, strstr(r.body, "\"hasMore\":false"), "hasMore");
	eb_http_resp_clear(&r);
	/* another client sees all three in order, exactly as pushed (CHG-9) */
	MOCK_CHECK(&m, mock_req(&m, "GET", "/api/stores/s1/changes?since=0", g_tok, NULL, &r) == 200, "feed");
	const char *p1 = strstr(r.body, "\"id\":\"a\""), *p2 = strstr(r.body, "\"id\":\"b\""),
		   *p3 = strstr(r.body, "\"id\":\"c\"");
	MOCK_CHECK(&m, p1 && p2 && p3 && p1 < p2 && p2 < p3, "FEED-3 order: %s", r.body);
	MOCK_CHECK(&m, strstr(r.body, "{\"deep\":[1,2,null]}"), "value kept: %s", r.body);
	MOCK_CHECK(&m, strstr(r.body, "\"version\":3"), "VER-6");
	eb_http_resp_clear(&r);
	/* a sync from version 1 gets 2 and 3; an empty sync does not bump (VER-5) */
	MOCK_CHECK(&m, mock_req(&m, "POST", "/api/stores/s1/sync", g_tok, "{\"lastKnownVersion\":1}", &r) == 200, "read sync");
	MOCK_CHECK(&m, !strstr(r.body, "\"id\":\"a\"") && strstr(r.body, "\"id\":\"b\""), "SYNC-5 after lkv: %s", r.body);
	MOCK_CHECK(&m, mock_int(r.body, r.body_len, "currentVersion") == 3, "VER-5");
	eb_http_resp_clear(&r);
	free(a); free(b); free(d);
	MOCK_STOP_OK(&m);
}
END_TEST

START_TEST(test_pages_hold_every_change_once_SYNC_6_SYNC_10)
{
	mock m;
	eb_http_resp r;
	MOCK_START_DEFAULT(&m);
	for (int i = 0; i < 7; i++) {
		char id[16];
		snprintf(id, sizeof id, "c%d", i);
		MOCK_CHECK(&m, mock_push(&m, g_tok, "pages", id, i, NULL) == 200, "push %d", i);
	}
	long long since = 0;
	int pages = 0, total = 0;
	for (;;) {
		char path[128];
		snprintf(path, sizeof path, "/api/stores/pages/changes?since=%lld&limit=3", since);
		MOCK_CHECK(&m, mock_req(&m, "GET", path, g_tok, NULL, &r) == 200, "page");
		long long to = mock_int(r.body, r.body_len, "toVersion");
		bool more = strstr(r.body, "\"hasMore\":true") != NULL;
		for (const char *p = r.body; (p = strstr(p, "\"version\":")); p++)
			total++;
		eb_http_resp_clear(&r);
		pages++;
		MOCK_CHECK(&m, to > since, "toVersion advances");
		since = to;
		if (!more)
			break;
		MOCK_CHECK(&m, pages < 10, "pagination ends");
	}
	MOCK_CHECK(&m, pages == 3 && total == 7 && since == 7, "3 pages, 7 changes (%d, %d)", pages, total);
	/* sync with limit: same rule */
	MOCK_CHECK(&m, mock_req(&m, "POST", "/api/stores/pages/sync", g_tok,
				"{\"lastKnownVersion\":5,\"limit\":1}", &r) == 200, "sync page");
	MOCK_CHECK(&m, mock_int(r.body, r.body_len, "toVersion") == 6 &&
		   strstr(r.body, "\"hasMore\":true"), "SYNC-6: %s", r.body);
	eb_http_resp_clear(&r);
	MOCK_STOP_OK(&m);
}
END_TEST

START_TEST(test_unknown_store_reads_as_version_0_and_is_not_created_STORE_3)
{
	mock m;
	eb_http_resp r;
	MOCK_START_DEFAULT(&m);
	MOCK_CHECK(&m, mock_req(&m, "GET", "/api/stores/never/changes?since=0", g_tok, NULL, &r) == 200, "200");
	MOCK_CHECK(&m, mock_int(r.body, r.body_len, "currentVersion") == 0, "version 0");
	eb_http_resp_clear(&r);
	MOCK_CHECK(&m, mock_req(&m, "GET", "/metrics", NULL, NULL, &r) == 200, "metrics");
	MOCK_CHECK(&m, strstr(r.body, "ebmock_stores 0"), "reading created nothing: %s", r.body);
	eb_http_resp_clear(&r);
	MOCK_CHECK(&m, mock_push(&m, g_tok, "A", "x", 0, NULL) == 200, "push A");
	MOCK_CHECK(&m, mock_req(&m, "GET", "/api/stores/a/changes?since=0", g_tok, NULL, &r) == 200, "a");
	MOCK_CHECK(&m, mock_int(r.body, r.body_len, "currentVersion") == 0, "STORE-4 case-sensitive");
	eb_http_resp_clear(&r);
	MOCK_STOP_OK(&m);
}
END_TEST

START_TEST(test_resync_required_when_client_is_ahead_SYNC_8_FEED_4)
{
	mock m;
	eb_http_resp r;
	char code[32];
	MOCK_START_DEFAULT(&m);
	MOCK_CHECK(&m, mock_push(&m, g_tok, "rs", "x", 0, NULL) == 200, "push");
	MOCK_CHECK(&m, mock_push(&m, g_tok, "rs", "y", 5, &r) == 409, "SYNC-8");
	MOCK_CHECK(&m, strcmp(mock_code(&r, code, sizeof code), "RESYNC_REQUIRED") == 0, "code");
	MOCK_CHECK(&m, mock_int(r.body, r.body_len, "currentVersion") == 1, "currentVersion");
	eb_http_resp_clear(&r);
	MOCK_CHECK(&m, mock_req(&m, "GET", "/api/stores/rs/changes?since=2", g_tok, NULL, &r) == 409, "FEED-4");
	eb_http_resp_clear(&r);
	MOCK_CHECK(&m, mock_req(&m, "GET", "/api/stores/rs/changes?since=0", g_tok, NULL, &r) == 200, "request");
	MOCK_CHECK(&m, mock_int(r.body, r.body_len, "currentVersion") == 1, "nothing applied");
	eb_http_resp_clear(&r);
	MOCK_STOP_OK(&m);
}
END_TEST

START_TEST(test_feed_query_rules_FEED_1_FEED_2_FEED_5_LIMIT_7)
{
	mock m;
	static const char *const bad[] = {
		"", "?since=", "?since=-1", "?since=01", "?since=1.0", "?since=abc",
		"?since=9007199254740992", "?since=0&limit=0", "?since=0&limit=1001",
		"?since=0&limit=", "?since=0&since=0", "?since=0&limit=5&limit=5",
	};
	MOCK_START_DEFAULT(&m);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char path[128], code[32];
		eb_http_resp r;
		snprintf(path, sizeof path, "/api/stores/q/changes%s", bad[i]);
		MOCK_CHECK(&m, mock_req(&m, "GET", path, g_tok, NULL, &r) == 400, "%s -> 400", bad[i]);
		MOCK_CHECK(&m, strcmp(mock_code(&r, code, sizeof code), "INVALID_REQUEST") == 0, "%s", bad[i]);
		eb_http_resp_clear(&r);
	}
	MOCK_CHECK(&m, mock_status(&m, "GET", "/api/stores/q/changes?since=0&limit=1000&x=1", g_tok, NULL) == 200,
		   "LIMIT-9 and unknown parameters ignored");
	MOCK_ALIVE(&m);
	MOCK_STOP_OK(&m);
}
END_TEST

START_TEST(test_duplicates_and_conflicts_IDEM_2_to_IDEM_5)
{
	mock m;
	eb_http_resp r;
	char code[32], body[1024];
	uint64_t now = eb_time_now_ms();
	MOCK_START_DEFAULT(&m);
	snprintf(body, sizeof body,
		 "{\"lastKnownVersion\":0,\"changes\":[{\"id\":\"d1\",\"timestamp\":%llu,\"operation\":\"set\",\"path\":[\"a\"],\"value\":{\"b\":1,\"a\":2}}]}",
		 (unsigned long long)now);
	MOCK_CHECK(&m, mock_status(&m, "POST", "/api/stores/idem/sync", g_tok, body) == 200, "first");
	/* IDEM-5: replay succeeds and commits nothing */
	MOCK_CHECK(&m, mock_req(&m, "POST", "/api/stores/idem/sync", g_tok, body, &r) == 200, "replay");
	MOCK_CHECK(&m, mock_int(r.body, r.body_len, "currentVersion") == 1, "IDEM-2 no version");
	MOCK_CHECK(&m, strstr(r.body, "\"changes\":[]"), "SYNC-5 duplicate left out: %s", r.body);
	eb_http_resp_clear(&r);
	/* canonically equal (member order differs) is still a duplicate */
	snprintf(body, sizeof body,
		 "{\"lastKnownVersion\":1,\"changes\":[{\"value\":{\"a\":2,\"b\":1},\"id\":\"d1\",\"timestamp\":%llu,\"operation\":\"set\",\"path\":[\"a\"]}]}",
		 (unsigned long long)now);
	MOCK_CHECK(&m, mock_req(&m, "POST", "/api/stores/idem/sync", g_tok, body, &r) == 200, "canonical dup");
	MOCK_CHECK(&m, mock_int(r.body, r.body_len, "currentVersion") == 1, "no version");
	eb_http_resp_clear(&r);
	/* IDEM-3: same id, other content, at index 1 */
	snprintf(body, sizeof body,
		 "{\"lastKnownVersion\":1,\"changes\":[{\"id\":\"n1\",\"timestamp\":%llu,\"operation\":\"delete\",\"path\":[\"q\"]},"
		 "{\"id\":\"d1\",\"timestamp\":%llu,\"operation\":\"set\",\"path\":[\"a\"],\"value\":3}]}",
		 (unsigned long long)now, (unsigned long long)now);
	MOCK_CHECK(&m, mock_req(&m, "POST", "/api/stores/idem/sync", g_tok, body, &r) == 409, "IDEM-3");
	MOCK_CHECK(&m, strcmp(mock_code(&r, code, sizeof code), "CHANGE_ID_CONFLICT") == 0, "code");
	MOCK_CHECK(&m, strstr(r.body, "\"index\":1") && strstr(r.body, "changes[1].id"), "ERR-2: %s", r.body);
	eb_http_resp_clear(&r);
	MOCK_CHECK(&m, mock_req(&m, "GET", "/api/stores/idem/changes?since=0", g_tok, NULL, &r) == 200, "request");
	MOCK_CHECK(&m, mock_int(r.body, r.body_len, "currentVersion") == 1, "ERR-7 nothing applied");
	eb_http_resp_clear(&r);
	/* IDEM-4: twice in one request, other content: the later index */
	snprintf(body, sizeof body,
		 "{\"lastKnownVersion\":1,\"changes\":[{\"id\":\"t\",\"timestamp\":1,\"operation\":\"delete\",\"path\":[\"q\"]},"
		 "{\"id\":\"t\",\"timestamp\":2,\"operation\":\"delete\",\"path\":[\"q\"]}]}");
	MOCK_CHECK(&m, mock_req(&m, "POST", "/api/stores/idem/sync", g_tok, body, &r) == 409, "IDEM-4");
	MOCK_CHECK(&m, strstr(r.body, "\"index\":1") && !strstr(r.body, "\"index\":0"), "later index: %s", r.body);
	eb_http_resp_clear(&r);
	/* equal content twice in one request: one version */
	snprintf(body, sizeof body,
		 "{\"lastKnownVersion\":1,\"changes\":[{\"id\":\"t\",\"timestamp\":1,\"operation\":\"delete\",\"path\":[\"q\"]},"
		 "{\"id\":\"t\",\"timestamp\":1,\"operation\":\"delete\",\"path\":[\"q\"]}]}");
	MOCK_CHECK(&m, mock_req(&m, "POST", "/api/stores/idem/sync", g_tok, body, &r) == 200, "internal dup");
	MOCK_CHECK(&m, mock_int(r.body, r.body_len, "currentVersion") == 2, "one version: %s", r.body);
	eb_http_resp_clear(&r);
	MOCK_STOP_OK(&m);
}
END_TEST

START_TEST(test_validation_errors_name_each_change_ERR_2_SYNC_2)
{
	mock m;
	eb_http_resp r;
	char code[32];
	MOCK_START_DEFAULT(&m);
	const char *body =
		"{\"lastKnownVersion\":0,\"changes\":["
		"{\"id\":\"ok\",\"timestamp\":1,\"operation\":\"set\",\"path\":[\"a\"],\"value\":1},"
		"{\"id\":\"\",\"timestamp\":1,\"operation\":\"set\",\"path\":[\"a\"],\"value\":1},"
		"{\"id\":\"p\",\"timestamp\":1,\"operation\":\"set\",\"path\":[\"a\",\"\"],\"value\":1},"
		"{\"id\":\"d\",\"timestamp\":1,\"operation\":\"delete\",\"path\":[\"a\"],\"value\":1},"
		"{\"id\":\"v\",\"timestamp\":1,\"operation\":\"set\",\"path\":[\"a\"]},"
		"{\"id\":\"o\",\"timestamp\":1,\"operation\":\"move\",\"path\":[\"a\"]}]}";
	MOCK_CHECK(&m, mock_req(&m, "POST", "/api/stores/v/sync", g_tok, body, &r) == 400, "400");
	MOCK_CHECK(&m, strcmp(mock_code(&r, code, sizeof code), "INVALID_REQUEST") == 0, "code");
	for (int i = 1; i <= 5; i++) {
		char idx[32];
		snprintf(idx, sizeof idx, "\"index\":%d", i);
		MOCK_CHECK(&m, strstr(r.body, idx), "ERR-2 entry %d: %s", i, r.body);
	}
	MOCK_CHECK(&m, !strstr(r.body, "\"index\":0"), "valid change not named");
	MOCK_CHECK(&m, strstr(r.body, "changes[2].path[1]"), "field path: %s", r.body);
	eb_http_resp_clear(&r);
	MOCK_CHECK(&m, mock_req(&m, "GET", "/api/stores/v/changes?since=0", g_tok, NULL, &r) == 200, "request");
	MOCK_CHECK(&m, mock_int(r.body, r.body_len, "currentVersion") == 0, "SYNC-2 nothing applied");
	eb_http_resp_clear(&r);
	static const char *const shapes[] = {
		"[]", "{}", "{\"lastKnownVersion\":-1}", "{\"lastKnownVersion\":1.5}",
"{\"lastKnownVersion\":\"1\"}",
		"{\"lastKnownVersion\":0,\"changes\":{}}", "{\"lastKnownVersion\":0,\"limit\":0}",
		"{\"lastKnownVersion\":0,\"limit\":1001}",
		"{\"lastKnownVersion\":0,\"changes\":[{\"id\":\"a\",\"timestamp\":1,\"operation\":\"set\",\"path\":\"a\",\"value\":1}]}",
	};
	for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
		MOCK_CHECK(&m, mock_req(&m, "POST", "/api/stores/v/sync", g_tok, shapes[i], &r) == 400,
			   "%s -> 400", shapes[i]);
		MOCK_CHECK(&m, strcmp(mock_code(&r, code, sizeof code), "INVALID_REQUEST") == 0,
			   "%s: %s", shapes[i], r.body);
		eb_http_resp_clear(&r);
		MOCK_ALIVE(&m);
	}
	static const char *const badjson[] = {
		"", "{", "{\"lastKnownVersion\":0,}", "{\"lastKnownVersion\":0,\"lastKnownVersion\":0}",
		"{\"lastKnownVersion\":0} x", "\xff\xfe", "{\"a\":\"\xc3\x28\"}", "nul\x00l",
	};
	for (size_t i = 0; i < sizeof badjson / sizeof badjson[0]; i++) {
		MOCK_CHECK(&m, mock_req(&m, "POST", "/api/stores/v/sync", g_tok, badjson[i], &r) == 400,
			   "bad json %zu", i);
		MOCK_CHECK(&m, strcmp(mock_code(&r, code, sizeof code), "INVALID_JSON") == 0,
			   "GEN-1/GEN-6 %zu: %s", i, r.body);
		eb_http_resp_clear(&r);
		MOCK_ALIVE(&m);
	}
	MOCK_STOP_OK(&m);
}
END_TEST

/* Builds a body with one change whose parts are given. */
static long push_one(mock *m, const char *id, const char *path_json, const char *value,
		     eb_http_resp *r)
{
	size_t cap = strlen(id) + strlen(path_json) + strlen(value) + 256;
	char *body = malloc(cap);
	snprintf(body, cap,
		 "{\"lastKnownVersion\":0,\"changes\":[{\"id\":\"%s\",\"timestamp\":1,\"operation\":\"set\",\"path\":%s,\"value\":%s}]}",
		 id, path_json, value);
	long st = mock_req(m, "POST", "/api/stores/lim/sync", g_tok, body, r);
	free(body);
	return st;
}

/* Appends s to the NUL-terminated buf of cap bytes (truncating). */
static void app(char *buf, size_t cap, const char *s)
{
	size_t l = strlen(buf), n = strlen(s);
	if (l + n >= cap)
		n = cap - l - 1;
	memcpy(buf + l, s, n);
	buf[l + n] = '\0';
}

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

START_TEST(test_limits_at_and_over_LIMIT_2_to_LIMIT_5_LIMIT_9)
{
	mock m;
	eb_http_resp r;
	char code[32];
	MOCK_START_DEFAULT(&m);
	/* id: 128 ok, 129 too long */
	char *id128 = repeat('i', 128), *id129 = repeat('j', 129);
	MOCK_CHECK(&m, push_one(&m, id128, "[\"a\"]", "1", &r) == 200, "LIMIT-9 id 128");
	eb_http_resp_clear(&r);
	MOCK_CHECK(&m, push_one(&m, id129, "[\"a\"]", "1", &r) == 422, "LIMIT-5 id 129");
	MOCK_CHECK(&m, strcmp(mock_code(&r, code, sizeof code), "LIMIT_EXCEEDED") == 0, "code");
	eb_http_resp_clear(&r);
	/* path: 32 segments ok, 33 over; segment 256 ok, 257 over */
	char seg32[512] = "[", segs[600];
	for (int i = 0; i < 32; i++)
		app(seg32, sizeof seg32, i == 31 ? "\"s\"]" : "\"s\",");
	MOCK_CHECK(&m, push_one(&m, "p32", seg32, "1", &r) == 200, "32 segments");
	eb_http_resp_clear(&r);
	snprintf(segs, sizeof segs, "[\"t\",%s", seg32 + 1);
	MOCK_CHECK(&m, push_one(&m, "p33", segs, "1", &r) == 422, "33 segments: %s", r.body);
	eb_http_resp_clear(&r);
	char *s256 = repeat('s', 256), *s257 = repeat('s', 257);
	char p[600];
	snprintf(p, sizeof p, "[\"%s\"]", s256);
	MOCK_CHECK(&m, push_one(&m, "s256", p, "1", &r) == 200, "segment 256");
	eb_http_resp_clear(&r);
	snprintf(p, sizeof p, "[\"%s\"]", s257);
	MOCK_CHECK(&m, push_one(&m, "s257", p, "1", &r) == 422, "segment 257");
	eb_http_resp_clear(&r);
	/* value: 65536 bytes serialized ok, 65537 over; depth 32 ok, 33 over */
	char *v = repeat('v', 65536 - 2);
	char *vq = malloc(65536 + 1);
	snprintf(vq, 65537, "\"%s\"", v);
	MOCK_CHECK(&m, push_one(&m, "v64k", "[\"a\"]", vq, &r) == 200, "value 65536: %s", r.body);
	eb_http_resp_clear(&r);
	free(v);
	v = repeat('v', 65536 - 1);
	free(vq);
	vq = malloc(65536 + 2);
	snprintf(vq, 65538, "\"%s\"", v);
	MOCK_CHECK(&m, push_one(&m, "v64k1", "[\"a\"]", vq, &r) == 422, "value 65537");
	eb_http_resp_clear(&r);
	char deep[200] = "", deep33[200] = "";
	for (int i = 0; i < 32; i++) app(deep, sizeof deep, "[");
	for (int i = 0; i < 32; i++) app(deep, sizeof deep, "]");
	for (int i = 0; i < 33; i++) app(deep33, sizeof deep33, "[");
	for (int i = 0; i < 33; i++) app(deep33, sizeof deep33, "]");
	MOCK_CHECK(&m, push_one(&m, "d32", "[\"a\"]", deep, &r) == 200, "depth 32");
	eb_http_resp_clear(&r);
	MOCK_CHECK(&m, push_one(&m, "d33", "[\"a\"]", deep33, &r) == 422, "depth 33: %s", r.body);
	eb_http_resp_clear(&r);
	/* LIMIT-2: 500 changes ok, 501 over (field "changes") */
	for (int n = 500; n <= 501; n++) {
		size_t cap = (size_t)n * 100 + 100;
		char *body = malloc(cap);
		size_t len = (size_t)snprintf(body, cap, "{\"lastKnownVersion\":0,\"changes\":[");
		for (int i = 0; i < n; i++)
			len += (size_t)snprintf(body + len, cap - len,
				"%s{\"id\":\"b%d-%d\",\"timestamp\":1,\"operation\":\"delete\",\"path\":[\"a\"]}",
				i ? "," : "", n, i);
		snprintf(body + len, cap - len, "]}");
		long st = mock_req(&m, "POST", "/api/stores/batch/sync", g_tok, body, &r);
		MOCK_CHECK(&m, st == (n == 500 ? 200 : 422), "batch of %d -> %ld", n, st);
		if (n == 501)
			MOCK_CHECK(&m, strstr(r.body, "\"field\":\"changes\""), "field changes: %s", r.body);
		eb_http_resp_clear(&r);
		free(body);
	}
	free(id128); free(id129); free(s256); free(s257); free(v); free(vq);
	MOCK_ALIVE(&m);
	MOCK_STOP_OK(&m);
}
END_TEST

START_TEST(test_body_size_and_media_type_LIMIT_1)
{
	mock m;
	eb_http_resp r;
	char code[32];
	MOCK_START(&m, "--max-body-bytes", "100");
	char *big = repeat(' ', 101);
	memcpy(big, "{\"lastKnownVersion\":0}", 22);
	MOCK_CHECK(&m, mock_req(&m, "POST", "/api/stores/b/sync", g_tok, big, &r) == 413, "413");
	MOCK_CHECK(&m, strcmp(mock_code(&r, code, sizeof code), "PAYLOAD_TOO_LARGE") == 0, "code");
	eb_http_resp_clear(&r);
	big[100] = '\0';
	MOCK_CHECK(&m, mock_status(&m, "POST", "/api/stores/b/sync", g_tok, big) == 200, "exactly at the limit");
	free(big);
	eb_http_resp_clear(&r);
	eb_rc rc = eb_http_request(m.http, "POST", "/api/stores/b/sync", g_tok, "text/plain",
				   "{\"lastKnownVersion\":0}", 22, NULL, 0, &r);
	MOCK_CHECK(&m, rc == EB_OK && r.status == 415, "415 for text/plain");
	eb_http_resp_clear(&r);
	rc = eb_http_request(m.http, "POST", "/api/stores/b/sync", g_tok,
			     "application/json; charset=utf-8", "{\"lastKnownVersion\":0}", 22,
			     NULL, 0, &r);
	MOCK_CHECK(&m, rc == EB_OK && r.status == 200, "parameters allowed");
	eb_http_resp_clear(&r);
	MOCK_ALIVE(&m);
	MOCK_STOP_OK(&m);
}
END_TEST

START_TEST(test_order_of_checks_ERR_3)
{
	mock m;
	eb_http_resp r;
	char code[32];
	static const char *const ro[] = { "ro*" };
	char *readonly = mock_token_full("bob", ro, 1, NULL, 0, 3600);
	MOCK_START(&m, "--max-body-bytes", "200");
	/* 404 before 401 */
	MOCK_CHECK(&m, mock_status(&m, "GET", "/api/stores/x/nope", NULL, NULL) == 404, "404 first");
	/* 405 before 401 */
	MOCK_CHECK(&m, mock_status(&m, "PUT", "/api/stores/x/sync", NULL, "{") == 405, "405 before 401");
	/* 401 before store id, permission, media type, size, JSON */
	MOCK_CHECK(&m, mock_req(&m, "POST", "/api/stores/bad!id/sync", NULL, "{", &r) == 401, "401");
	MOCK_CHECK(&m, eb_http_resp_header(&r, "WWW-Authenticate", code, sizeof code) &&
		   strncmp(code, "Bearer", 6) == 0, "ERR-4");
	eb_http_resp_clear(&r);
	/* 400 store id before 403 */
	MOCK_CHECK(&m, mock_req(&m, "POST", "/api/stores/bad!id/sync", readonly, "{", &r) == 400, "store id");
	MOCK_CHECK(&m, strcmp(mock_code(&r, code, sizeof code), "INVALID_STORE_ID") == 0, "code");
	eb_http_resp_clear(&r);
	/* 403 (no read) before 415 and 413 */
	MOCK_CHECK(&m, eb_http_request(m.http, "POST", "/api/stores/other/sync", readonly, "text/plain",
				       "{", 1, NULL, 0, &r) == EB_OK && r.status == 403, "403 before 415");
	eb_http_resp_clear(&r);
	/* 415 before 413 */
	char *big = repeat('x', 300);
	MOCK_CHECK(&m, eb_http_request(m.http, "POST", "/api/stores/ro1/sync", readonly, "text/plain",
				       big, 300, NULL, 0, &r) == EB_OK && r.status == 415, "415 before 413");
	eb_http_resp_clear(&r);
	/* 413 before JSON */
	MOCK_CHECK(&m, mock_status(&m, "POST", "/api/stores/ro1/sync", readonly, big) == 413, "413 before 400");
	free(big);
	/* JSON before shape; shape before limits; limits before timestamps */
	MOCK_CHECK(&m, mock_req(&m, "POST", "/api/stores/o/sync", g_tok, "{\"lastKnownVersion\":", &r) == 400, "request");
	MOCK_CHECK(&m, strcmp(mock_code(&r, code, sizeof code), "INVALID_JSON") == 0, "INVALID_JSON");
	eb_http_resp_clear(&r);
	char body[600];
	char *id129 = repeat('i', 129);
	snprintf(body, sizeof body,
		 "{\"lastKnownVersion\":9,\"changes\":[{\"id\":\"%s\",\"timestamp\":99999999999999,\"operation\":\"set\",\"path\":[\"a\"],\"value\":1}]}",
		 id129);
	eb_http_resp_clear(&r);
	mock_stop(&m);
	MOCK_START_DEFAULT(&m);
	MOCK_CHECK(&m, mock_req(&m, "POST", "/api/stores/o/sync", g_tok, body, &r) == 422, "limits first");
	MOCK_CHECK(&m, strcmp(mock_code(&r, code, sizeof code), "LIMIT_EXCEEDED") == 0, "%s", r.body);
	eb_http_resp_clear(&r);
	snprintf(body, sizeof body,
		 "{\"lastKnownVersion\":9,\"changes\":[{\"id\":\"d1\",\"timestamp\":99999999999999,\"operation\":\"set\",\"path\":[\"a\"],\"value\":1}]}");
	MOCK_CHECK(&m, mock_req(&m, "POST", "/api/stores/o/sync", g_tok, body, &r) == 422, "timestamp");
	MOCK_CHECK(&m, strcmp(mock_code(&r, code, sizeof code), "TIMESTAMP_IN_FUTURE") == 0, "TS-2: %s", r.body);
	MOCK_CHECK(&m, strstr(r.body, "\"index\":0"), "names the index");
	eb_http_resp_clear(&r);
	/* version check before conflicts */
	MOCK_CHECK(&m, mock_push(&m, g_tok, "o", "d1", 0, NULL) == 200, "push d1");
	snprintf(body, sizeof body,
		 "{\"lastKnownVersion\":9,\"changes\":[{\"id\":\"d1\",\"timestamp\":1,\"operation\":\"set\",\"path\":[\"a\"],\"value\":1}]}");
	MOCK_CHECK(&m, mock_req(&m, "POST", "/api/stores/o/sync", g_tok, body, &r) == 409, "request");
	MOCK_CHECK(&m, strcmp(mock_code(&r, code, sizeof code), "RESYNC_REQUIRED") == 0, "resync before conflict");
	eb_http_resp_clear(&r);
	/* TS-3: a timestamp in the past is fine; the skew allowance is honoured */
	snprintf(body, sizeof body,
		 "{\"lastKnownVersion\":1,\"changes\":[{\"id\":\"old\",\"timestamp\":0,\"operation\":\"delete\",\"path\":[\"a\"]},"
		 "{\"id\":\"soon\",\"timestamp\":%llu,\"operation\":\"delete\",\"path\":[\"a\"]}]}",
		 (unsigned long long)(eb_time_now_ms() + 30000));
	MOCK_CHECK(&m, mock_status(&m, "POST", "/api/stores/o/sync", g_tok, body) == 200, "TS-3");
	free(id129);
	free(readonly);
	MOCK_STOP_OK(&m);
}
END_TEST

START_TEST(test_permissions_AUTH_9_to_AUTH_12)
{
	mock m;
	static const char *const rd[] = { "pub", "team-*" };
	static const char *const wr[] = { "team-a" };
	char *t = mock_token_full("carol", rd, 2, wr, 1, 3600);
	MOCK_START_DEFAULT(&m);
	MOCK_CHECK(&m, mock_status(&m, "GET", "/api/stores/pub/changes?since=0", t, NULL) == 200, "exact");
	MOCK_CHECK(&m, mock_status(&m, "GET", "/api/stores/team-zz/changes?since=0", t, NULL) == 200, "prefix");
	MOCK_CHECK(&m, mock_status(&m, "GET", "/api/stores/pubx/changes?since=0", t, NULL) == 403, "no prefix match");
	MOCK_CHECK(&m, mock_status(&m, "GET", "/api/stores/team/changes?since=0", t, NULL) == 403, "prefix needs the dash");
	MOCK_CHECK(&m, mock_push(&m, t, "team-a", "w1", 0, NULL) == 200, "write");
	MOCK_CHECK(&m, mock_push(&m, t, "team-b", "w1", 0, NULL) == 403, "AUTH-11 read-only push");
	MOCK_CHECK(&m, mock_status(&m, "POST", "/api/stores/team-b/sync", t, "{\"lastKnownVersion\":0}") == 200,
		   "AUTH-11 sync without changes needs read only");
	MOCK_CHECK(&m, mock_status(&m, "POST", "/api/stores/team-b/sync", t,
				   "{\"lastKnownVersion\":0,\"changes\":[]}") == 200, "empty changes");
	static const char *const w_only[] = { "x" };
	char *t2 = mock_token_full("dave", NULL, 0, w_only, 1, 3600);
	MOCK_CHECK(&m, mock_status(&m, "GET", "/api/stores/x/changes?since=0", t2, NULL) == 200, "AUTH-10");
	free(t);
	free(t2);
	MOCK_STOP_OK(&m);
}
END_TEST

START_TEST(test_http_rate_limit_and_recovery_RATE_1_to_RATE_3)
{
	mock m;
	eb_http_resp r;
	char ra[16];
	char *t2 = mock_token("other");
	MOCK_START(&m, "--rate-http", "2", "--rate-http-burst", "3");
	MOCK_CHECK(&m, mock_req(&m, "GET", "/api/limits", NULL, NULL, &r) == 200, "limits");
	MOCK_CHECK(&m, strstr(r.body, "\"rateLimit\"") && strstr(r.body, "\"httpPerSecond\":2"),
		   "RATE-1 advertised: %s", r.body);
	eb_http_resp_clear(&r);
	int ok = 0;
	long st = 0;
	for (int i = 0; i < 10; i++) {
		st = mock_req(&m, "GET", "/api/stores/r/changes?since=0", g_tok, NULL, &r);
		if (st == 200)
			ok++;
		if (st == 429)
			break;
		eb_http_resp_clear(&r);
	}
	MOCK_CHECK(&m, st == 429 && ok >= 3 && ok <= 4, "RATE-2 after the burst (%d ok)", ok);
	MOCK_CHECK(&m, eb_http_resp_header(&r, "Retry-After", ra, sizeof ra) && (int)strtol(ra, NULL, 10) >= 1,
		   "ERR-6 Retry-After");
	eb_http_resp_clear(&r);
	/* a push over the limit is not applied */
	MOCK_CHECK(&m, mock_push(&m, g_tok, "r", "limited", 0, NULL) == 429, "push refused");
	/* another subject has its own bucket */
	MOCK_CHECK(&m, mock_status(&m, "GET", "/api/stores/r/changes?since=0", t2, NULL) == 200, "per subject");
	sleep((unsigned)(int)strtol(ra, NULL, 10));
	MOCK_CHECK(&m, mock_req(&m, "GET", "/api/stores/r/changes?since=0", g_tok, NULL, &r) == 200, "RATE-3");
	MOCK_CHECK(&m, mock_int(r.body, r.body_len, "currentVersion") == 0, "refused push not applied");
	eb_http_resp_clear(&r);
	free(t2);
	MOCK_STOP_OK(&m);
}
END_TEST

START_TEST(test_malformed_http_requests_keep_the_server_alive)
{
	mock m;
	MOCK_START_DEFAULT(&m);
	static const char *const paths[] = {
		"/api/stores//sync", "/api/stores/%00/changes?since=0", "/api/stores/a/changes?since=%ff",
		"/api/stores/a/changes?&&&", "/api/stores/a/changes?since=0&limit=99999999999999999999",
		"/api/stores/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/changes?since=0",
		"/api/sync/notifications", "/admin/faults", "/../../etc/passwd",
	};
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		long st = mock_status(&m, "GET", paths[i], g_tok, NULL);
		MOCK_CHECK(&m, st >= 400 && st < 500, "%s -> %ld", paths[i], st);
		MOCK_ALIVE(&m);
	}
	static const char *const bodies[] = {
		"{\"lastKnownVersion\":0,\"changes\":[1,2,3]}",
		"{\"lastKnownVersion\":0,\"changes\":[{}]}",
		"{\"lastKnownVersion\":0,\"changes\":[{\"id\":1}]}",
		"{\"lastKnownVersion\":0,\"changes\":[null]}",
		"{\"lastKnownVersion\":9007199254740992}",
		"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]",
		"\"\\ud800\"",
	};
	for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
		long st = mock_status(&m, "POST", "/api/stores/m/sync", g_tok, bodies[i]);
		MOCK_CHECK(&m, st == 400 || st == 422, "%s -> %ld", bodies[i], st);
		MOCK_ALIVE(&m);
	}
	MOCK_STOP_OK(&m);
}
END_TEST

/* Sends raw bytes on a fresh TCP connection and reads until the server
 * closes or timeout_ms pass; returns what was read (caller frees). With
 * keep_open_ms > 0 nothing is sent after req and the wait measures how long
 * the server keeps the connection. */
static char *raw_http(int port, const char *req, size_t len, long timeout_ms, long *elapsed_ms)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	char *out = calloc(1, 65536);
	size_t n = 0;
	uint64_t t0 = eb_time_mono_ns() / 1000000u;
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		if (fd >= 0)
			close(fd);
		return out;
	}
	if (len && send(fd, req, len, MSG_NOSIGNAL) < 0)
		goto done;
	for (;;) {
		long left = timeout_ms - (long)(eb_time_mono_ns() / 1000000u - t0);
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			break;
		ssize_t r = recv(fd, out + n, 65535 - n, 0);
		if (r <= 0)
			break;
		n += (size_t)r;
		if (n >= 65535)
			break;
	}
done:
	if (elapsed_ms)
		*elapsed_ms = (long)(eb_time_mono_ns() / 1000000u - t0);
	close(fd);
	return out;
}

START_TEST(test_raw_http_chunked_body_big_header_and_slow_headers)
{
	mock m;
	char req[2048];
	MOCK_START(&m, "--max-body-bytes", "64");
	/* chunked bodies are decoded and counted against the limit */
	int n = snprintf(req, sizeof req,
			 "POST /api/stores/c/sync HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
			 "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
			 "Connection: close\r\n\r\n"
			 "5\r\n{\"las\r\n11\r\ntKnownVersion\":0}\r\n0\r\n\r\n", g_tok);
	char *out = raw_http(m.proc.port, req, (size_t)n, 3000, NULL);
	MOCK_CHECK(&m, strstr(out, "HTTP/1.1 200") && strstr(out, "\"currentVersion\":0"), "chunked: %s", out);
	free(out);
	n = snprintf(req, sizeof req,
		     "POST /api/stores/c/sync HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
		     "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
		     "40\r\n{\"lastKnownVersion\":0}                                          \r\n"
		     "10\r\n                \r\n0\r\n\r\n", g_tok);
	out = raw_http(m.proc.port, req, (size_t)n, 3000, NULL);
	MOCK_CHECK(&m, strstr(out, "HTTP/1.1 413"), "chunked over the limit: %s", out);
	free(out);
	MOCK_ALIVE(&m);
	/* Content-Length over the limit: 413 before the body is read */
	n = snprintf(req, sizeof req,
		     "POST /api/stores/c/sync HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
		     "Content-Type: application/json\r\nContent-Length: 100000000\r\nConnection: close\r\n\r\n", g_tok);
	/* the server may close before reading the body: answer seen either way */
	out = raw_http(m.proc.port, req, (size_t)n, 3000, NULL);
	MOCK_CHECK(&m, strstr(out, "HTTP/1.1 413"), "413 from Content-Length: %s", out);
	free(out);
	/* a huge header is refused without harm */
	size_t big = 20000;
	char *hdr = malloc(big + 200);
	n = snprintf(hdr, big + 200, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ");
	memset(hdr + n, 'a', big);
	memcpy(hdr + n + big, "\r\n\r\n", 4);
	out = raw_http(m.proc.port, hdr, (size_t)n + big + 4, 3000, NULL);
	MOCK_CHECK(&m, !strstr(out, "200 OK"), "oversized header not served");
	free(out);
	free(hdr);
	MOCK_ALIVE(&m);
	/* slow headers: a connection that never finishes them is closed */
	long el = 0;
	out = raw_http(m.proc.port, "GET /healthz HTTP/1.1\r\nHost:", 29, 15000, &el);
	MOCK_CHECK(&m, el < 8000, "slow header connection closed after %ld ms", el);
	free(out);
	/* HEAD gets headers only, so the next request on the connection works */
	const char *head = "HEAD /api/limits HTTP/1.1\r\nHost: x\r\n\r\n"
			   "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	out = raw_http(m.proc.port, head, strlen(head), 3000, NULL);
	const char *second = strstr(out, "HTTP/1.1 200");
	MOCK_CHECK(&m, strstr(out, "HTTP/1.1 405") && second && !strstr(out, "METHOD_NOT_ALLOWED") &&
		   strstr(second, "\"status\":\"ok\""), "HEAD without body: %s", out);
	free(out);
	/* garbage request line */
	out = raw_http(m.proc.port, "\x01\x02 garbage\r\n\r\n", 13, 1000, NULL);
	free(out);
	MOCK_ALIVE(&m);
	MOCK_STOP_OK(&m);
}
END_TEST

START_TEST(test_max_conns_refuses_connections_beyond_the_limit)
{
	mock m;
	MOCK_START(&m, "--max-conns", "3");
	/* the test's own keep-alive client holds one */
	MOCK_ALIVE(&m);
	eb_wsc *a = mock_ws(&m), *b = mock_ws(&m);
	MOCK_CHECK(&m, a && b, "two more fit");
	eb_wsc *c = mock_ws(&m);
	MOCK_CHECK(&m, c == NULL, "the fourth is refused");
	eb_wsc_free(a);
	/* the server frees the slot when it sees the close: poll, up to 3 s */
	for (int i = 0; i < 60 && !c; i++) {
		usleep(50 * 1000);
		c = mock_ws(&m);
	}
	MOCK_CHECK(&m, c != NULL, "room again after a close");
	eb_wsc_free(b);
	eb_wsc_free(c);
	MOCK_STOP_OK(&m);
}
END_TEST

int main(void)
{
	TCase *tc;
	Suite *s = mock_suite_one("mock_http", &tc);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_healthz_limits_metrics_answer_without_token);
	tcase_add_test(tc, test_sync_assigns_dense_versions_and_leaves_out_own_changes_SYNC_5);
	tcase_add_test(tc, test_pages_hold_every_change_once_SYNC_6_SYNC_10);
	tcase_add_test(tc, test_unknown_store_reads_as_version_0_and_is_not_created_STORE_3);
	tcase_add_test(tc, test_resync_required_when_client_is_ahead_SYNC_8_FEED_4);
	tcase_add_test(tc, test_feed_query_rules_FEED_1_FEED_2_FEED_5_LIMIT_7);
	tcase_add_test(tc, test_duplicates_and_conflicts_IDEM_2_to_IDEM_5);
	tcase_add_test(tc, test_validation_errors_name_each_change_ERR_2_SYNC_2);
	tcase_add_test(tc, test_limits_at_and_over_LIMIT_2_to_LIMIT_5_LIMIT_9);
	tcase_add_test(tc, test_body_size_and_media_type_LIMIT_1);
	tcase_add_test(tc, test_order_of_checks_ERR_3);
	tcase_add_test(tc, test_permissions_AUTH_9_to_AUTH_12);
	tcase_add_test(tc, test_http_rate_limit_and_recovery_RATE_1_to_RATE_3);
	tcase_add_test(tc, test_malformed_http_requests_keep_the_server_alive);
	tcase_add_test(tc, test_raw_http_chunked_body_big_header_and_slow_headers);
	tcase_add_test(tc, test_max_conns_refuses_connections_beyond_the_limit);
	return mock_run(s);
}
