/*
 * check_ebm_store.c — the store of ebmock's core (mockserver/core/
 * ebm_store.c) as the handler uses it, driven without a socket: versions
 * dense from 1 and never reused (VER-2, VER-4, also across a restart on
 * --data), change ids idempotent (IDEM-2..4), since-reads exact (FEED-3,
 * FEED-4), pages and request sizes bounded (SYNC-7, LIMIT-2, LIMIT-7); and
 * the change-id index and version search of a large store directly.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eb_json.h"
#include "ebm_int.h"
#include "ebm_store.h"

static ebm_server *server_with(const ebm_config *cfg)
{
	ebm_server *srv = NULL;
	eb_err err;
	eb_err_clear(&err);
	ck_assert_msg(ebm_server_new(cfg, NULL, NULL, &srv, &err) == EB_OK, "%s", err.msg);
	return srv;
}

static ebm_server *server(void)
{
	ebm_config cfg;
	ebm_config_default(&cfg);
	cfg.no_auth = true;
	return server_with(&cfg);
}

/* One request through the handler; the parsed answer in *out (caller
 * deletes; NULL without a JSON body). Returns the status. */
static int request(ebm_server *srv, const char *method, const char *path,
		   const char *query, const char *body, cJSON **out)
{
	ebm_http_req r;
	ebm_http_resp resp;
	memset(&r, 0, sizeof r);
	memset(&resp, 0, sizeof resp);
	r.method = method;
	r.path = path;
	r.path_len = strlen(path);
	r.query = query;
	r.query_len = query ? strlen(query) : 0;
	r.content_type = body ? "application/json" : NULL;
	r.content_length = body ? (int64_t)strlen(body) : -1;
	r.body = body;
	r.body_len = body ? strlen(body) : 0;
	r.remote_addr = "127.0.0.1";
	ebm_http_handle(srv, &r, &resp);
	*out = NULL;
	if (resp.body)
		ck_assert_int_eq(eb_json_parse(resp.body, resp.body_len, 64, out, NULL), EB_OK);
	int st = resp.status;
	ebm_http_resp_clear(&resp);
	return st;
}

/* POST /api/stores/s/sync with lastKnownVersion lkv and the changes given
 * as "id=value" words (a set of path ["p"], timestamp 1). */
static int push(ebm_server *srv, uint64_t lkv, const char *const *ids, size_t n, cJSON **out)
{
	char body[8192];
	size_t len = (size_t)snprintf(body, sizeof body, "{\"lastKnownVersion\":%llu,\"changes\":[",
				      (unsigned long long)lkv);
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(ids[i], '=');
		ck_assert_ptr_nonnull(eq);
		len += (size_t)snprintf(body + len, sizeof body - len,
					"%s{\"id\":\"%.*s\",\"timestamp\":1,\"operation\":\"set\","
					"\"path\":[\"p\"],\"value\":%s}", i ? "," : "",
					(int)(eq - ids[i]), ids[i], eq + 1);
		ck_assert_uint_lt(len, sizeof body);
	}
	snprintf(body + len, sizeof body - len, "]}");
	return request(srv, "POST", "/api/stores/s/sync", NULL, body, out);
}

static uint64_t num(const cJSON *j, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);
	ck_assert_msg(cJSON_IsNumber(v), "no number %s", name);
	return (uint64_t)v->valuedouble;
}

static const char *err_code(const cJSON *j)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "code");
	return cJSON_IsString(v) ? v->valuestring : "";
}

/* GET …/changes?query: the ids and versions of the page as "id@v id@v",
 * hasMore in *more. Returns the status. */
static int feed(ebm_server *srv, const char *query, char *got, size_t cap, bool *more)
{
	cJSON *j = NULL;
	int st = request(srv, "GET", "/api/stores/s/changes", query, NULL, &j);
	got[0] = '\0';
	if (st == 200) {
		const cJSON *c;
		size_t len = 0;
		cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(j, "changes")) {
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(c, "id");
			len += (size_t)snprintf(got + len, cap - len, "%s%s@%llu", len ? " " : "",
						id->valuestring, (unsigned long long)num(c, "version"));
			ck_assert_uint_lt(len, cap);
		}
		if (more)
			*more = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "hasMore"));
	}
	cJSON_Delete(j);
	return st;
}

START_TEST(test_accepted_changes_take_dense_versions_from_one_across_requests)
{
	ebm_server *srv = server();
	const char *first[] = { "a=1", "b=2", "c=3" }, *second[] = { "d=4", "e=5" };
	char got[512];
	cJSON *j;
	ck_assert_int_eq(push(srv, 0, first, 3, &j), 200);
	ck_assert_uint_eq(num(j, "currentVersion"), 3);
	cJSON_Delete(j);
	ck_assert_int_eq(push(srv, 3, second, 2, &j), 200);
	ck_assert_uint_eq(num(j, "currentVersion"), 5);
	cJSON_Delete(j);
	ck_assert_int_eq(feed(srv, "since=0", got, sizeof got, NULL), 200);
	ck_assert_str_eq(got, "a@1 b@2 c@3 d@4 e@5");
	ebm_server_free(srv);
}
END_TEST

START_TEST(test_a_change_id_pushed_again_with_equal_content_takes_no_version)
{
	ebm_server *srv = server();
	const char *one[] = { "a=1" }, *again[] = { "a=1", "b=2", "b=2" };
	char got[512];
	cJSON *j;
	ck_assert_int_eq(push(srv, 0, one, 1, &j), 200);
	cJSON_Delete(j);
	/* a: stored before; the second b: within the request (IDEM-4) */
	ck_assert_int_eq(push(srv, 0, again, 3, &j), 200);
	ck_assert_uint_eq(num(j, "currentVersion"), 2);
	cJSON_Delete(j);
	ck_assert_int_eq(feed(srv, "since=0", got, sizeof got, NULL), 200);
	ck_assert_str_eq(got, "a@1 b@2");
	ebm_server_free(srv);
}
END_TEST

START_TEST(test_a_change_id_reused_with_other_content_refuses_the_request_and_burns_no_version)
{
	ebm_server *srv = server();
	const char *one[] = { "a=1" }, *conflict[] = { "n=7", "a=2" }, *inner[] = { "m=1", "m=2" };
	const char *next[] = { "z=0" };
	char got[512];
	cJSON *j;
	ck_assert_int_eq(push(srv, 0, one, 1, &j), 200);
	cJSON_Delete(j);
	ck_assert_int_eq(push(srv, 1, conflict, 2, &j), 409);
	ck_assert_str_eq(err_code(j), "CHANGE_ID_CONFLICT");
	cJSON_Delete(j);
	ck_assert_int_eq(push(srv, 1, inner, 2, &j), 409);
	ck_assert_str_eq(err_code(j), "CHANGE_ID_CONFLICT");
	cJSON_Delete(j);
	ck_assert_int_eq(push(srv, 1, next, 1, &j), 200);
	ck_assert_uint_eq(num(j, "currentVersion"), 2);
	cJSON_Delete(j);
	ck_assert_int_eq(feed(srv, "since=0", got, sizeof got, NULL), 200);
	ck_assert_str_eq(got, "a@1 z@2");
	ebm_server_free(srv);
}
END_TEST

START_TEST(test_a_since_read_returns_exactly_the_changes_after_it_in_order)
{
	ebm_server *srv = server();
	const char *five[] = { "a=1", "b=2", "c=3", "d=4", "e=5" };
	char got[512];
	cJSON *j;
	ck_assert_int_eq(push(srv, 0, five, 5, &j), 200);
	cJSON_Delete(j);
	ck_assert_int_eq(feed(srv, "since=2", got, sizeof got, NULL), 200);
	ck_assert_str_eq(got, "c@3 d@4 e@5");
	ck_assert_int_eq(feed(srv, "since=4", got, sizeof got, NULL), 200);
	ck_assert_str_eq(got, "e@5");
	ck_assert_int_eq(feed(srv, "since=5", got, sizeof got, NULL), 200);
	ck_assert_str_eq(got, "");
	ck_assert_int_eq(request(srv, "GET", "/api/stores/s/changes", "since=6", NULL, &j), 409);
	ck_assert_str_eq(err_code(j), "RESYNC_REQUIRED");
	cJSON_Delete(j);
	/* a sync ahead of the store is refused and applies nothing (SYNC-8) */
	ck_assert_int_eq(push(srv, 6, five, 1, &j), 409);
	cJSON_Delete(j);
	ck_assert_int_eq(feed(srv, "since=4", got, sizeof got, NULL), 200);
	ck_assert_str_eq(got, "e@5");
	ebm_server_free(srv);
}
END_TEST

START_TEST(test_a_page_stops_at_its_limit_and_says_there_is_more)
{
	ebm_server *srv = server();
	const char *five[] = { "a=1", "b=2", "c=3", "d=4", "e=5" };
	char got[512];
	bool more = false;
	cJSON *j;
	ck_assert_int_eq(push(srv, 0, five, 5, &j), 200);
	cJSON_Delete(j);
	ck_assert_int_eq(feed(srv, "since=0&limit=2", got, sizeof got, &more), 200);
	ck_assert_str_eq(got, "a@1 b@2");
	ck_assert(more);
	ck_assert_int_eq(feed(srv, "since=4&limit=2", got, sizeof got, &more), 200);
	ck_assert_str_eq(got, "e@5");
	ck_assert(!more);
	ck_assert_int_eq(feed(srv, "since=0&limit=1000", got, sizeof got, &more), 200);
	ck_assert(!more);
	ck_assert_int_eq(feed(srv, "since=0&limit=1001", got, sizeof got, NULL), 400);
	ck_assert_int_eq(feed(srv, "since=0&limit=0", got, sizeof got, NULL), 400);
	ebm_server_free(srv);
}
END_TEST

START_TEST(test_a_request_over_the_change_limit_is_refused_whole)
{
	ebm_config cfg;
	ebm_config_default(&cfg);
	cfg.no_auth = true;
	cfg.limits.max_changes_per_request = 3;
	ebm_server *srv = server_with(&cfg);
	const char *four[] = { "a=1", "b=2", "c=3", "d=4" };
	char got[512];
	cJSON *j;
	ck_assert_int_eq(push(srv, 0, four, 4, &j), 422);
	ck_assert_str_eq(err_code(j), "LIMIT_EXCEEDED");
	cJSON_Delete(j);
	ck_assert_int_eq(push(srv, 0, four, 3, &j), 200);
	ck_assert_uint_eq(num(j, "currentVersion"), 3);
	cJSON_Delete(j);
	ck_assert_int_eq(feed(srv, "since=0", got, sizeof got, NULL), 200);
	ck_assert_str_eq(got, "a@1 b@2 c@3");
	ebm_server_free(srv);
}
END_TEST

START_TEST(test_versions_and_ids_survive_a_restart_on_data)
{
	char path[] = "/tmp/check_ebm_store.XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	unlink(path);   /* the store creates it */
	ebm_config cfg;
	ebm_config_default(&cfg);
	cfg.no_auth = true;
	cfg.data_path = path;
	const char *two[] = { "a=1", "b=2" }, *again[] = { "b=2", "c=3" };
	char got[512];
	cJSON *j;
	ebm_server *srv = server_with(&cfg);
	ck_assert_int_eq(push(srv, 0, two, 2, &j), 200);
	cJSON_Delete(j);
	ebm_server_free(srv);

	srv = server_with(&cfg);
	ck_assert_int_eq(push(srv, 2, again, 2, &j), 200);   /* b: a duplicate */
	ck_assert_uint_eq(num(j, "currentVersion"), 3);
	cJSON_Delete(j);
	ck_assert_int_eq(feed(srv, "since=0", got, sizeof got, NULL), 200);
	ck_assert_str_eq(got, "a@1 b@2 c@3");
	ebm_server_free(srv);
	unlink(path);
	char side[sizeof path + 8];
	snprintf(side, sizeof side, "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", path);
	unlink(side);
}
END_TEST

/* The store's own lookups on a store far larger than its first index:
 * every id found at its place after the index grew, versions searched by
 * bisection. */
START_TEST(test_the_id_index_and_version_search_hold_on_a_large_store)
{
	enum { N = 3000, BATCH = 100 };
	ebm_server *srv = server();
	ebm_store *st = ebm_store_get(srv, "big");
	eb_err err;
	char id[32];
	ck_assert_ptr_nonnull(st);
	for (size_t done = 0; done < N; done += BATCH) {
		eb_change batch[BATCH];
		memset(batch, 0, sizeof batch);
		for (size_t i = 0; i < BATCH; i++) {
			snprintf(id, sizeof id, "id-%zu", done + i);
			batch[i].id = strdup(id);
			batch[i].timestamp = 1;
			batch[i].op = EB_OP_DELETE;
			batch[i].path = calloc(1, sizeof *batch[i].path);
			batch[i].path[0] = strdup("p");
			batch[i].path_len = 1;
			batch[i].version = done + i + 1;
			batch[i].has_version = true;
		}
		ck_assert_int_eq(ebm_store_commit(srv, st, batch, BATCH, done + BATCH, &err), EB_OK);
		for (size_t i = 0; i < BATCH; i++)
			eb_change_clear(&batch[i]);   /* moved out: nothing left */
	}
	ck_assert_uint_eq(st->version, N);
	for (size_t i = 0; i < N; i++) {
		snprintf(id, sizeof id, "id-%zu", i);
		ck_assert_int_eq(ebm_store_lookup(st, id), (long)i);
	}
	ck_assert_int_eq(ebm_store_lookup(st, "id-3000"), -1);
	ck_assert_int_eq(ebm_store_lookup(st, "id-"), -1);
	for (uint64_t v = 0; v <= N; v += 7)
		ck_assert_uint_eq(ebm_store_first_after(st, v), v);
	ck_assert_uint_eq(ebm_store_first_after(st, N), N);
	ck_assert_uint_eq(ebm_store_first_after(st, N + 100), N);
	ebm_server_free(srv);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ebm_store");
	TCase *tc = tcase_create("store");
	tcase_add_test(tc, test_accepted_changes_take_dense_versions_from_one_across_requests);
	tcase_add_test(tc, test_a_change_id_pushed_again_with_equal_content_takes_no_version);
	tcase_add_test(tc, test_a_change_id_reused_with_other_content_refuses_the_request_and_burns_no_version);
	tcase_add_test(tc, test_a_since_read_returns_exactly_the_changes_after_it_in_order);
	tcase_add_test(tc, test_a_page_stops_at_its_limit_and_says_there_is_more);
	tcase_add_test(tc, test_a_request_over_the_change_limit_is_refused_whole);
	tcase_add_test(tc, test_versions_and_ids_survive_a_restart_on_data);
	tcase_add_test(tc, test_the_id_index_and_version_search_hold_on_a_large_store);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
