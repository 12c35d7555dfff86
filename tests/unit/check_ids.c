/*
 * check_ids.c — store ids (STORE-1), permission patterns (AUTH-9), routes and
 * the changes-feed query string (FEED-1, FEED-2, FEED-5, LIMIT-7).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "eb_ids.h"

#define S(lit) lit, sizeof(lit) - 1

START_TEST(test_store_id_accepts_every_allowed_character_STORE_1)
{
	ck_assert(eb_store_id_valid(S("a")));
	ck_assert(eb_store_id_valid(S("project-456")));
	ck_assert(eb_store_id_valid(S("ABCxyz019._:-")));
	ck_assert(eb_store_id_valid(S("...")));
}
END_TEST

START_TEST(test_store_id_rejects_other_characters_STORE_1)
{
	ck_assert(!eb_store_id_valid(S("")));
	ck_assert(!eb_store_id_valid(S("a b")));
	ck_assert(!eb_store_id_valid(S("a/b")));
	ck_assert(!eb_store_id_valid(S("a%20b")));
	ck_assert(!eb_store_id_valid(S("a*")));
	ck_assert(!eb_store_id_valid(S("caf\xc3\xa9")));
	ck_assert(!eb_store_id_valid(S("a\0b")));
	ck_assert(!eb_store_id_valid(NULL, 3));
}
END_TEST

START_TEST(test_store_id_at_128_accepted_129_rejected_STORE_1_LIMIT_9)
{
	char id[130];

	memset(id, 'x', sizeof(id));
	ck_assert(eb_store_id_valid(id, 128));
	ck_assert(!eb_store_id_valid(id, 129));
}
END_TEST

START_TEST(test_pattern_exact_id_matches_only_itself_AUTH_9)
{
	ck_assert(eb_pattern_match("project-1", "project-1"));
	ck_assert(!eb_pattern_match("project-1", "project-10"));
	ck_assert(!eb_pattern_match("project-1", "project-"));
	/* STORE-4: ids are case-sensitive */
	ck_assert(!eb_pattern_match("a", "A"));
}
END_TEST

START_TEST(test_pattern_prefix_star_matches_prefix_AUTH_9)
{
	ck_assert(eb_pattern_match("project-*", "project-1"));
	ck_assert(eb_pattern_match("project-*", "project-"));
	ck_assert(!eb_pattern_match("project-*", "project"));
	ck_assert(!eb_pattern_match("project-*", "Project-1"));
	ck_assert(eb_pattern_match("*", "anything"));
	ck_assert(eb_pattern_match("*", "a"));
}
END_TEST

START_TEST(test_pattern_star_elsewhere_is_no_pattern_AUTH_9)
{
	ck_assert(!eb_pattern_match("a*b", "axb"));
	ck_assert(!eb_pattern_match("a*b", "ab"));
	ck_assert(!eb_pattern_match("a**", "abc"));
	ck_assert(!eb_pattern_match("*a*", "xa"));
	ck_assert(!eb_pattern_match("", "a"));
	ck_assert(!eb_pattern_match(NULL, "a"));
	ck_assert(!eb_pattern_match("*", NULL));
}
END_TEST

static eb_route route(const char *p)
{
	eb_route r;

	memset(&r, 0x5a, sizeof(r));
	eb_route_parse(p, strlen(p), &r);
	return r;
}

START_TEST(test_route_parses_the_protocol_paths)
{
	eb_route r;

	r = route("/api/stores/project-456/sync");
	ck_assert_int_eq(r.kind, EB_ROUTE_SYNC);
	ck_assert(r.store_id_ok);
	ck_assert_str_eq(r.store_id, "project-456");
	r = route("/api/stores/a/changes");
	ck_assert_int_eq(r.kind, EB_ROUTE_CHANGES);
	ck_assert(r.store_id_ok);
	ck_assert_str_eq(r.store_id, "a");
	ck_assert_int_eq(route("/api/sync/notifications").kind,
			 EB_ROUTE_NOTIFICATIONS);
	ck_assert_int_eq(route("/api/limits").kind, EB_ROUTE_LIMITS);
}
END_TEST

START_TEST(test_route_rejects_other_paths)
{
	const char *none[] = {
		"", "/", "/api", "/api/stores", "/api/stores/", "/api/stores/a",
		"/api/stores/a/", "/api/stores/a/sync/", "/api/stores/a/syncx",
		"/api/stores/a/b/sync", "/api/limits/", "/api/sync/notifications/",
		"/API/limits", "api/limits", "/api/stores/a/Sync", "//api/limits",
		"/api/stores/a/changes/x", "/healthz",
	};
	size_t i;

	for (i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		ck_assert_msg(route(none[i]).kind == EB_ROUTE_NONE, "%s routed",
			      none[i]);
}
END_TEST

START_TEST(test_route_keeps_kind_for_invalid_store_id_STORE_1)
{
	eb_route r;
	char p[300];

	r = route("/api/stores/a%20b/sync");
	ck_assert_int_eq(r.kind, EB_ROUTE_SYNC);
	ck_assert(!r.store_id_ok);
	r = route("/api/stores//changes");
	ck_assert_int_eq(r.kind, EB_ROUTE_CHANGES);
	ck_assert(!r.store_id_ok);
	r = route("/api/stores/caf\xc3\xa9/changes");
	ck_assert_int_eq(r.kind, EB_ROUTE_CHANGES);
	ck_assert(!r.store_id_ok);
	memcpy(p, "/api/stores/", 12);
	memset(p + 12, 'x', 128);
	memcpy(p + 140, "/sync", 6);
	r = route(p);
	ck_assert(r.store_id_ok);
	ck_assert_uint_eq(strlen(r.store_id), 128);
	memset(p + 12, 'x', 129);
	memcpy(p + 141, "/sync", 6);
	r = route(p);
	ck_assert_int_eq(r.kind, EB_ROUTE_SYNC);
	ck_assert(!r.store_id_ok);
}
END_TEST

START_TEST(test_route_respects_len_and_null)
{
	eb_route r;

	eb_route_parse("/api/limitsXYZ", 11, &r);
	ck_assert_int_eq(r.kind, EB_ROUTE_LIMITS);
	eb_route_parse(NULL, 0, &r);
	ck_assert_int_eq(r.kind, EB_ROUTE_NONE);
	eb_route_parse("/api/limits", 11, NULL);
}
END_TEST

START_TEST(test_parse_uint53_accepts_plain_decimals_FEED_1)
{
	uint64_t v = 1;

	ck_assert(eb_parse_uint53(S("0"), &v));
	ck_assert_uint_eq(v, 0);
	ck_assert(eb_parse_uint53(S("42"), &v));
	ck_assert_uint_eq(v, 42);
	ck_assert(eb_parse_uint53(S("9007199254740991"), &v));
	ck_assert_uint_eq(v, 9007199254740991ULL);
}
END_TEST

START_TEST(test_parse_uint53_rejects_sign_zeros_and_range_FEED_1)
{
	const char *bad[] = { "", "-1", "+1", "01", "00", "1.0", "1e2", " 1",
			      "1 ", "0x1", "9007199254740992",
			      "99999999999999999999", "%31", "1a" };
	size_t i;
	uint64_t v;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!eb_parse_uint53(bad[i], strlen(bad[i]), &v),
			      "%s accepted", bad[i]);
	ck_assert(!eb_parse_uint53(NULL, 1, &v));
}
END_TEST

/* Runs the feed query parser; on failure checks code and field. */
static eb_rc feed(const char *q, uint64_t *since, uint32_t *limit, eb_err *e)
{
	eb_err_clear(e);
	return eb_feed_query_parse(q, q ? strlen(q) : 0, 1000, since, limit, e);
}

static void feed_rejects(const char *q, const char *rule, const char *field)
{
	uint64_t s;
	uint32_t l;
	eb_err e;

	ck_assert_msg(feed(q, &s, &l, &e) == EB_ERR_SHAPE, "%s accepted", q);
	ck_assert_str_eq(e.rule, rule);
	ck_assert_str_eq(e.field, field);
	ck_assert_str_eq(e.code, "INVALID_REQUEST");
}

START_TEST(test_feed_query_reads_since_and_default_limit_FEED_1)
{
	uint64_t s = 9;
	uint32_t l = 9;
	eb_err e;

	ck_assert_int_eq(feed("since=0", &s, &l, &e), EB_OK);
	ck_assert_uint_eq(s, 0);
	ck_assert_uint_eq(l, 1000);
	ck_assert_int_eq(feed("since=9007199254740991", &s, &l, &e), EB_OK);
	ck_assert_uint_eq(s, 9007199254740991ULL);
}
END_TEST

START_TEST(test_feed_query_rejects_missing_or_malformed_since_FEED_1)
{
	feed_rejects("", "FEED-1", "since");
	feed_rejects(NULL, "FEED-1", "since");
	feed_rejects("limit=5", "FEED-1", "since");
	feed_rejects("since", "FEED-1", "since");
	feed_rejects("since=", "FEED-1", "since");
	feed_rejects("since=-1", "FEED-1", "since");
	feed_rejects("since=01", "FEED-1", "since");
	feed_rejects("since=1.0", "FEED-1", "since");
	feed_rejects("since=%31", "FEED-1", "since");
	feed_rejects("since=9007199254740992", "FEED-1", "since");
	feed_rejects("Since=1", "FEED-1", "since");
}
END_TEST

START_TEST(test_feed_query_accepts_limit_1_and_1000_FEED_2_LIMIT_9)
{
	uint64_t s;
	uint32_t l = 0;
	eb_err e;

	ck_assert_int_eq(feed("since=5&limit=1", &s, &l, &e), EB_OK);
	ck_assert_uint_eq(s, 5);
	ck_assert_uint_eq(l, 1);
	ck_assert_int_eq(feed("limit=1000&since=5", &s, &l, &e), EB_OK);
	ck_assert_uint_eq(l, 1000);
}
END_TEST

START_TEST(test_feed_query_rejects_malformed_limit_FEED_2)
{
	feed_rejects("since=0&limit=", "FEED-2", "limit");
	feed_rejects("since=0&limit", "FEED-2", "limit");
	feed_rejects("since=0&limit=01", "FEED-2", "limit");
	feed_rejects("since=0&limit=-5", "FEED-2", "limit");
	feed_rejects("since=0&limit=ten", "FEED-2", "limit");
}
END_TEST

START_TEST(test_feed_query_rejects_limit_outside_1_to_1000_LIMIT_7)
{
	feed_rejects("since=0&limit=0", "LIMIT-7", "limit");
	feed_rejects("since=0&limit=1001", "LIMIT-7", "limit");
	feed_rejects("since=0&limit=9007199254740991", "LIMIT-7", "limit");
}
END_TEST

START_TEST(test_feed_query_honours_a_larger_server_maximum_LIMIT_7)
{
	uint64_t s;
	uint32_t l;
	eb_err e;

	ck_assert_int_eq(eb_feed_query_parse(S("since=0&limit=5000"), 5000, &s, &l, &e),
			 EB_OK);
	ck_assert_uint_eq(l, 5000);
	ck_assert_int_eq(eb_feed_query_parse(S("since=0"), 5000, &s, &l, &e), EB_OK);
	ck_assert_uint_eq(l, 5000);
	ck_assert_int_eq(eb_feed_query_parse(S("since=0&limit=5001"), 5000, &s, &l, &e),
			 EB_ERR_SHAPE);
}
END_TEST

START_TEST(test_feed_query_rejects_parameter_given_twice_FEED_5)
{
	feed_rejects("since=1&since=1", "FEED-5", "since");
	feed_rejects("since=1&limit=5&limit=5", "FEED-5", "limit");
	feed_rejects("since=1&since", "FEED-5", "since");
	/* duplicates win over a malformed value: both are 400 anyway */
	feed_rejects("since=x&since=1", "FEED-5", "since");
}
END_TEST

START_TEST(test_feed_query_ignores_unknown_parameters_FEED_5)
{
	uint64_t s;
	uint32_t l;
	eb_err e;

	ck_assert_int_eq(feed("foo=bar&since=3&x&&y=1&y=2&limitx=0", &s, &l, &e),
			 EB_OK);
	ck_assert_uint_eq(s, 3);
	ck_assert_uint_eq(l, 1000);
	ck_assert_int_eq(feed("&since=3&", &s, &l, &e), EB_OK);
}
END_TEST

START_TEST(test_feed_query_refuses_null_outputs)
{
	uint64_t s;
	uint32_t l;
	eb_err e;

	ck_assert_int_eq(eb_feed_query_parse(S("since=0"), 1000, NULL, &l, &e),
			 EB_ERR_ARG);
	ck_assert_int_eq(eb_feed_query_parse(S("since=0"), 1000, &s, NULL, &e),
			 EB_ERR_ARG);
}
END_TEST

static Suite *ids_suite(void)
{
	Suite *s = suite_create("eb_ids");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_store_id_accepts_every_allowed_character_STORE_1);
	tcase_add_test(tc, test_store_id_rejects_other_characters_STORE_1);
	tcase_add_test(tc, test_store_id_at_128_accepted_129_rejected_STORE_1_LIMIT_9);
	tcase_add_test(tc, test_pattern_exact_id_matches_only_itself_AUTH_9);
	tcase_add_test(tc, test_pattern_prefix_star_matches_prefix_AUTH_9);
	tcase_add_test(tc, test_pattern_star_elsewhere_is_no_pattern_AUTH_9);
	tcase_add_test(tc, test_route_parses_the_protocol_paths);
	tcase_add_test(tc, test_route_rejects_other_paths);
	tcase_add_test(tc, test_route_keeps_kind_for_invalid_store_id_STORE_1);
	tcase_add_test(tc, test_route_respects_len_and_null);
	tcase_add_test(tc, test_parse_uint53_accepts_plain_decimals_FEED_1);
	tcase_add_test(tc, test_parse_uint53_rejects_sign_zeros_and_range_FEED_1);
	tcase_add_test(tc, test_feed_query_reads_since_and_default_limit_FEED_1);
	tcase_add_test(tc, test_feed_query_rejects_missing_or_malformed_since_FEED_1);
	tcase_add_test(tc, test_feed_query_accepts_limit_1_and_1000_FEED_2_LIMIT_9);
	tcase_add_test(tc, test_feed_query_rejects_malformed_limit_FEED_2);
	tcase_add_test(tc, test_feed_query_rejects_limit_outside_1_to_1000_LIMIT_7);
	tcase_add_test(tc, test_feed_query_honours_a_larger_server_maximum_LIMIT_7);
	tcase_add_test(tc, test_feed_query_rejects_parameter_given_twice_FEED_5);
	tcase_add_test(tc, test_feed_query_ignores_unknown_parameters_FEED_5);
	tcase_add_test(tc, test_feed_query_refuses_null_outputs);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ids_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
