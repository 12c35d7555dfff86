/*
 * check_mock_durable.c — ebmock with --data FILE (SQLite): after kill -9 a
 * restart loses no acknowledged change and versions stay dense (VER-2,
 * SYNC-9); a clean SIGTERM keeps everything too.
 */
#include <sys/stat.h>
#include <sys/wait.h>
#include "check_mock_common.h"
#include "eb_msg.h"

static char g_dir[64];
static char g_db[128];

static void setup(void)
{
	snprintf(g_dir, sizeof g_dir, "/tmp/ebmock-durable-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(g_dir));
	snprintf(g_db, sizeof g_db, "%s/store.db", g_dir);
}

static void teardown(void)
{
	char p[192];
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof p, "%s%s", g_db, suffix[i]);
		unlink(p);
	}
	rmdir(g_dir);
}

/* Every version 1..n present once, in order, with the expected ids: the
 * feed is read page by page (a page holds at most maxPageLimit changes,
 * 1 000 by default; a fast machine acknowledges more in a stream). */
static void check_dense(mock *m, const char *tok, const char *store, int n, const char *prefix)
{
	char path[160];
	long long since = 0;
	int v = 1, pages = 0;

	for (;;) {
		eb_http_resp r;
		eb_sync_response *sr = NULL;

		snprintf(path, sizeof path, "/api/stores/%s/changes?since=%lld", store, since);
		MOCK_CHECK(m, mock_req(m, "GET", path, tok, NULL, &r) == 200, "feed page %d", pages);
		MOCK_CHECK(m, eb_sync_response_parse(r.body, r.body_len, &sr, NULL) == EB_OK,
			   "page %d parses: %.200s", pages, r.body);
		MOCK_CHECK(m, sr->current_version == (uint64_t)n, "version %d: %llu", n,
			   (unsigned long long)sr->current_version);
		for (size_t i = 0; i < sr->n; i++, v++) {
			char id[64];

			snprintf(id, sizeof id, "%s%d", prefix, v);
			MOCK_CHECK(m, v <= n, "change past version %d: %s", n, sr->changes[i].id);
			MOCK_CHECK(m, strcmp(sr->changes[i].id, id) == 0, "change %s at version %d, got %s",
				   id, v, sr->changes[i].id);
			MOCK_CHECK(m, sr->changes[i].version == (uint64_t)v, "%s has version %d", id, v);
		}
		pages++;
		since = (long long)sr->to_version;
		bool more = sr->has_more && sr->n > 0;
		eb_sync_response_free(sr);
		eb_http_resp_clear(&r);
		if (!more)
			break;
		MOCK_CHECK(m, pages < 10000, "the feed never ends");
	}
	MOCK_CHECK(m, v == n + 1, "%d changes read, want %d", v - 1, n);
}

/* Pushes n changes "<prefix>1".."<prefix>n" to store, 500 a request. */
static void push_many(mock *m, const char *tok, const char *store, int n, const char *prefix)
{
	char path[128];
	size_t cap = 500 * 160 + 64;
	char *body = malloc(cap);
	int v = 0;

	ck_assert_ptr_nonnull(body);
	snprintf(path, sizeof path, "/api/stores/%s/sync", store);
	while (v < n) {
		size_t o = (size_t)snprintf(body, cap, "{\"lastKnownVersion\":%d,\"changes\":[", v);
		int k;

		for (k = 0; k < 500 && v + k < n; k++)
			o += (size_t)snprintf(body + o, cap - o, "%s{\"id\":\"%s%d\",\"timestamp\":%llu,"
					      "\"operation\":\"set\",\"path\":[\"k%d\"],\"value\":%d}",
					      k ? "," : "", prefix, v + k + 1,
					      (unsigned long long)eb_time_now_ms(), v + k + 1, v + k + 1);
		snprintf(body + o, cap - o, "]}");
		MOCK_CHECK(m, mock_status(m, "POST", path, tok, body) == 200, "push of %d changes", k);
		v += k;
	}
	free(body);
}

START_TEST(test_kill_9_loses_no_acknowledged_change_VER_2_SYNC_9)
{
	mock m;
	char *tok = mock_token("alice");
	MOCK_START(&m, "--data", g_db, "--quiet");
	int acked = 0;
	for (int i = 1; i <= 40; i++) {
		char id[16];
		snprintf(id, sizeof id, "c%d", i);
		if (mock_push(&m, tok, "dur", id, i - 1, NULL) == 200)
			acked = i;
	}
	MOCK_CHECK(&m, acked == 40, "all acknowledged");
	eb_http_resp r;
	char body[1024];
	/* and a multi-change batch in one request, with an exact big number */
	snprintf(body, sizeof body,
		 "{\"lastKnownVersion\":40,\"changes\":[{\"id\":\"c41\",\"timestamp\":1,\"operation\":\"set\",\"path\":[\"a\"],\"value\":9007199254740991},"
		 "{\"id\":\"c42\",\"timestamp\":2,\"operation\":\"delete\",\"path\":[\"a\",\"b\"]}]}");
	MOCK_CHECK(&m, mock_req(&m, "POST", "/api/stores/dur/sync", tok, body, &r) == 200, "batch");
	eb_http_resp_clear(&r);
	eb_proc_kill9(&m.proc);
	eb_http_free(m.http);
	m.started = false;
	MOCK_START(&m, "--data", g_db, "--quiet");
	check_dense(&m, tok, "dur", 42, "c");
	MOCK_CHECK(&m, mock_req(&m, "GET", "/api/stores/dur/changes?since=40", tok, NULL, &r) == 200, "tail");
	MOCK_CHECK(&m, strstr(r.body, "\"value\":9007199254740991"), "CHG-9 exact value after restart: %s", r.body);
	eb_http_resp_clear(&r);
	/* versions continue densely, ids are still known (IDEM-2 after restart) */
	MOCK_CHECK(&m, mock_req(&m, "POST", "/api/stores/dur/sync", tok, body, &r) == 200, "replay");
	MOCK_CHECK(&m, mock_int(r.body, r.body_len, "currentVersion") == 42, "replay commits nothing");
	eb_http_resp_clear(&r);
	MOCK_CHECK(&m, mock_push(&m, tok, "dur", "c43", 42, &r) == 200, "push after restart");
	MOCK_CHECK(&m, mock_int(r.body, r.body_len, "currentVersion") == 43, "VER-2 across restart");
	eb_http_resp_clear(&r);
	MOCK_STOP_OK(&m);
	/* a clean stop keeps everything as well */
	MOCK_START(&m, "--data", g_db, "--quiet");
	check_dense(&m, tok, "dur", 43, "c");
	MOCK_STOP_OK(&m);
	free(tok);
}
END_TEST

START_TEST(test_kill_9_during_a_stream_of_pushes_keeps_acked_prefix)
{
	mock m;
	char *tok = mock_token("bob");
	MOCK_START(&m, "--data", g_db, "--quiet");
	/* a child pushes as fast as it can; the parent kills the server */
	int acked = 0;
	pid_t child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		usleep(150 * 1000);
		kill(m.proc.pid, SIGKILL);
		_exit(0);
	}
	for (int i = 1; i <= 100000; i++) {
		char id[16];
		snprintf(id, sizeof id, "s%d", i);
		if (mock_push(&m, tok, "stream", id, i - 1, NULL) != 200)
			break;
		acked = i;
	}
	waitpid(child, NULL, 0);
	eb_proc_kill9(&m.proc);
	eb_http_free(m.http);
	m.started = false;
	MOCK_CHECK(&m, acked > 0, "some pushes acknowledged");
	MOCK_START(&m, "--data", g_db, "--quiet");
	eb_http_resp r;
	MOCK_CHECK(&m, mock_req(&m, "GET", "/api/stores/stream/changes?since=0&limit=1", tok, NULL, &r) == 200, "feed");
	long long v = mock_int(r.body, r.body_len, "currentVersion");
	eb_http_resp_clear(&r);
	/* the last push may have committed without its answer arriving */
	MOCK_CHECK(&m, v == acked || v == acked + 1, "acked %d, stored %lld", acked, v);
	check_dense(&m, tok, "stream", (int)v, "s");
	MOCK_STOP_OK(&m);
	free(tok);
}
END_TEST

START_TEST(test_kill_9_keeps_a_feed_longer_than_one_page)
{
	mock m;
	char *tok = mock_token("carol");
	MOCK_START(&m, "--data", g_db, "--quiet");
	/* more than one page of 1 000: the check reads them all */
	push_many(&m, tok, "long", 2300, "l");
	eb_proc_kill9(&m.proc);
	eb_http_free(m.http);
	m.started = false;
	MOCK_START(&m, "--data", g_db, "--quiet");
	check_dense(&m, tok, "long", 2300, "l");
	MOCK_STOP_OK(&m);
	free(tok);
}
END_TEST

START_TEST(test_unwritable_data_file_is_a_setup_error)
{
	char bin[512];
	char cmd[1024];
	eb_proc_bin("ebmock", bin, sizeof bin);
	snprintf(cmd, sizeof cmd, "'%s' --jwt-secret s --port 0 --data /nonexistent-dir/x.db 2>/dev/null", bin);
	int st = system(cmd);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 2, "exit 2 (status %d)", st);
}
END_TEST

int main(void)
{
	TCase *tc;
	Suite *s = mock_suite_one("mock_durable", &tc);
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_kill_9_loses_no_acknowledged_change_VER_2_SYNC_9);
	tcase_add_test(tc, test_kill_9_during_a_stream_of_pushes_keeps_acked_prefix);
	tcase_add_test(tc, test_kill_9_keeps_a_feed_longer_than_one_page);
	tcase_add_test(tc, test_unwritable_data_file_is_a_setup_error);
	return mock_run(s);
}
