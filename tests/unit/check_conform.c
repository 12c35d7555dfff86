/*
 * check_conform.c — unit tests of ebconform's runner pieces: option parsing,
 * case selection by glob, outcome resolution, exit codes, shell quoting.
 * The pure runner pieces come from libebconform.a, as in ebconform.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ebc.h"

static int parse(ebc_opts *o, char *err, size_t errlen, int argc, const char **argv)
{
	return ebc_opts_parse(argc, (char **)argv, o, err, errlen);
}

/* The run's total deadline: 180 s by default (times --time-scale), or
 * --deadline; a bad value is a usage error. */
START_TEST(test_deadline_default_180_s_scaled_and_flag)
{
	const char *a1[] = { "ebconform", "--url", "http://127.0.0.1:1" };
	const char *a2[] = { "ebconform", "--url", "http://127.0.0.1:1", "--time-scale", "2" };
	const char *a3[] = { "ebconform", "--url", "http://127.0.0.1:1", "--deadline", "7" };
	const char *a4[] = { "ebconform", "--url", "http://127.0.0.1:1", "--deadline", "0" };
	ebc_opts o;
	char err[256];

	ck_assert_int_eq(parse(&o, err, sizeof(err), 3, a1), 0);
	ck_assert_int_eq(ebc_deadline_s(&o), 180);
	ck_assert_int_le(ebc_deadline_s(&o), 240);
	ebc_opts_free(&o);
	ck_assert_int_eq(parse(&o, err, sizeof(err), 5, a2), 0);
	ck_assert_int_eq(ebc_deadline_s(&o), 360);
	ebc_opts_free(&o);
	ck_assert_int_eq(parse(&o, err, sizeof(err), 5, a3), 0);
	ck_assert_int_eq(ebc_deadline_s(&o), 7);
	ebc_opts_free(&o);
	ck_assert_int_eq(parse(&o, err, sizeof(err), 5, a4), -1);
	ck_assert_ptr_nonnull(strstr(err, "--deadline"));
}
END_TEST

/* A failed eb_report_add has freed the wire log already: the runner's
 * helper leaves no pointer to free again (ASan catches the double free of
 * the runner before the fix). */
START_TEST(test_failed_report_add_leaves_no_wire_log_to_free_twice)
{
	eb_case_result res;
	eb_wirelog *w = eb_wirelog_new(0, 0);

	ck_assert_ptr_nonnull(w);
	eb_wirelog_add(w, EB_WIRE_OUT, "HTTP", 1, "GET /", 5);
	memset(&res, 0, sizeof(res));
	res.id = "x/y";
	res.title = "t";
	res.level = "MUST";
	res.wire = w;
	/* no report: the add fails and frees the log */
	ck_assert_int_eq(ebc_result_add(NULL, &res), -1);
	ck_assert_ptr_null(res.wire);
	ck_assert_ptr_null(res.timeline);
	/* what run_one does next: free what it still holds (nothing) */
	eb_wirelog_free(res.wire);
}
END_TEST

static void noop_case(ebc_ctx *ctx)
{
	(void)ctx;
}

/* Cases without a result are "not run": a runner that ran none (it could
 * not allocate its queue) leaves every selected case listed, so the run is
 * INCOMPLETE, never a PASS of zero cases. */
START_TEST(test_not_run_lists_selected_cases_without_a_result)
{
	static const ebc_case cs[3] = {
		{ "a/one", "one", "MUST", { "GEN-1" }, { NULL }, 0, noop_case },
		{ "a/two", "two", "MUST", { "GEN-1" }, { NULL }, 0, noop_case },
		{ "b/three", "three", "MUST", { "GEN-1" }, { NULL }, 0, noop_case },
	};
	const ebc_case *sel[3] = { &cs[0], &cs[1], &cs[2] };
	const char *out[3];
	eb_report *rep = eb_report_new("ebconform", "t", "http://x", "cmd");
	eb_case_result res;

	ck_assert_ptr_nonnull(rep);
	ck_assert_uint_eq(ebc_not_run(rep, sel, 3, out), 3);
	ck_assert_str_eq(out[0], "a/one");
	memset(&res, 0, sizeof(res));
	res.id = "a/two";
	res.title = "two";
	res.level = "MUST";
	res.outcome = EB_OUT_PASS;
	ck_assert_int_eq(ebc_result_add(rep, &res), 0);
	ck_assert_uint_eq(ebc_not_run(rep, sel, 3, out), 2);
	ck_assert_str_eq(out[0], "a/one");
	ck_assert_str_eq(out[1], "b/three");
	eb_report_set_incomplete(rep, "the runner could not allocate its queue", out, 2);
	ck_assert_str_eq(eb_report_verdict_name(rep), "INCOMPLETE");
	eb_report_free(rep);
}
END_TEST

START_TEST(test_opts_defaults)
{
	const char *argv[] = { "ebconform", "--url", "http://127.0.0.1:8080" };
	ebc_opts o;
	char err[256];

	ck_assert_int_eq(parse(&o, err, sizeof(err), 3, argv), 0);
	ck_assert_str_eq(o.url, "http://127.0.0.1:8080");
	ck_assert_int_eq(o.jobs, 4);
	ck_assert_int_eq(o.timeout_ms, 5000);
	ck_assert(o.time_scale == 1.0);
	ck_assert_int_eq(o.jwt_leeway_s, 5);
	ck_assert(!o.strict && !o.list && !o.no_auth_server && !o.seed_set);
	ck_assert_int_eq(o.verbose, 0);
	ck_assert_uint_eq(o.n_cases, 0);
	ebc_opts_free(&o);
}
END_TEST

START_TEST(test_opts_every_flag)
{
	const char *argv[] = {
		"ebconform", "--url=http://h:1", "--jwt-secret", "s", "--jwt-private-key", "k.pem",
		"--jwt-issuer", "iss", "--jwt-audience=aud", "--jwt-leeway", "60", "--no-auth-server",
		"--cases", "ws/*", "--cases", "auth/*", "--exclude", "*timeout*", "--strict",
		"--timeout", "250", "--time-scale", "2.5", "--jobs", "8", "--report-dir", "out",
		"--junit", "j.xml", "--json", "r.json", "--html", "r.html", "-vv", "--seed", "42"
	};
	ebc_opts o;
	char err[256];

	ck_assert_int_eq(parse(&o, err, sizeof(err), (int)(sizeof(argv) / sizeof(argv[0])), argv), 0);
	ck_assert_str_eq(o.url, "http://h:1");
	ck_assert_str_eq(o.jwt_secret, "s");
	ck_assert_str_eq(o.jwt_private_key, "k.pem");
	ck_assert_str_eq(o.jwt_issuer, "iss");
	ck_assert_str_eq(o.jwt_audience, "aud");
	ck_assert_int_eq(o.jwt_leeway_s, 60);
	ck_assert(o.no_auth_server && o.strict);
	ck_assert_uint_eq(o.n_cases, 2);
	ck_assert_str_eq(o.cases[1], "auth/*");
	ck_assert_uint_eq(o.n_exclude, 1);
	ck_assert_int_eq(o.timeout_ms, 250);
	ck_assert(o.time_scale == 2.5);
	ck_assert_int_eq(o.jobs, 8);
	ck_assert_str_eq(o.report_dir, "out");
	ck_assert_str_eq(o.junit, "j.xml");
	ck_assert_str_eq(o.json, "r.json");
	ck_assert_str_eq(o.html, "r.html");
	ck_assert_int_eq(o.verbose, 2);
	ck_assert(o.seed_set);
	ck_assert_uint_eq(o.seed, 42);
	ebc_opts_free(&o);
}
END_TEST

START_TEST(test_opts_verbose_counts)
{
	const char *argv[] = { "ebconform", "--url", "http://h:1", "-v" };
	const char *argv2[] = { "ebconform", "--url", "http://h:1", "-v", "--verbose", "-v" };
	ebc_opts o;
	char err[256];

	ck_assert_int_eq(parse(&o, err, sizeof(err), 4, argv), 0);
	ck_assert_int_eq(o.verbose, 1);
	ebc_opts_free(&o);
	ck_assert_int_eq(parse(&o, err, sizeof(err), 6, argv2), 0);
	ck_assert_int_eq(o.verbose, 2);
	ebc_opts_free(&o);
}
END_TEST

START_TEST(test_opts_list_and_help_need_no_url)
{
	const char *a1[] = { "ebconform", "--list" };
	const char *a2[] = { "ebconform", "--help" };
	ebc_opts o;
	char err[256];

	ck_assert_int_eq(parse(&o, err, sizeof(err), 2, a1), 0);
	ck_assert(o.list);
	ebc_opts_free(&o);
	ck_assert_int_eq(parse(&o, err, sizeof(err), 2, a2), 0);
	ck_assert(o.help);
	ebc_opts_free(&o);
}
END_TEST

/* Each row is a usage error: parse must fail and say why. */
START_TEST(test_opts_usage_errors)
{
	static const char *const rows[][4] = {
		{ "--bogus", NULL, NULL, NULL },                       /* unknown option */
		{ "--url", NULL, NULL, NULL },                         /* missing value */
		{ "--jobs", "0", NULL, NULL },
		{ "--jobs", "x", NULL, NULL },
		{ "--timeout", "10", NULL, NULL },                     /* below 50 ms */
		{ "--jwt-leeway", "61", NULL, NULL },                  /* AUTH-7: at most 60 s */
		{ "--time-scale", "0", NULL, NULL },
		{ "--time-scale", "0.5", NULL, NULL },
		{ "--seed", "-3", NULL, NULL },
		{ "--strict=yes", NULL, NULL, NULL },                  /* flag with a value */
		{ "--jwt-secret", "", NULL, NULL },                    /* empty secret */
		{ "positional", NULL, NULL, NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *argv[6] = { "ebconform", "--url", "http://h:1", NULL, NULL, NULL };
		int argc = 3, k;
		ebc_opts o;
		char err[256] = "";

		for (k = 0; k < 4 && rows[i][k]; k++)
			argv[argc++] = rows[i][k];
		ck_assert_msg(parse(&o, err, sizeof(err), argc, argv) == -1, "row %zu accepted", i);
		ck_assert_msg(err[0] != '\0', "row %zu: no message", i);
	}
}
END_TEST

START_TEST(test_opts_url_required_and_http)
{
	const char *a1[] = { "ebconform", "--jwt-secret", "s" };
	const char *a2[] = { "ebconform", "--url", "ftp://h:1" };
	ebc_opts o;
	char err[256];

	ck_assert_int_eq(parse(&o, err, sizeof(err), 3, a1), -1);
	ck_assert(strstr(err, "--url") != NULL);
	ck_assert_int_eq(parse(&o, err, sizeof(err), 3, a2), -1);
}
END_TEST

/* --url more than once: the nodes of one deployment, in order, each in
 * the http form eb_http takes; the first is also the target's. */
START_TEST(test_opts_url_repeated_names_the_nodes_in_order)
{
	const char *a1[] = { "ebconform", "--url", "http://127.0.0.1:1", "--url=http://127.0.0.1:2",
			     "--url", "ws://127.0.0.1:3" };
	const char *a2[] = { "ebconform", "--url", "http://127.0.0.1:1", "--url", "ftp://h:2" };
	const char *a3[] = { "ebconform", "--url", "http://127.0.0.1:1" };
	ebc_opts o;
	char err[256];

	ck_assert_int_eq(parse(&o, err, sizeof(err), 6, a1), 0);
	ck_assert_uint_eq(o.n_urls, 3);
	ck_assert_str_eq(o.urls[0], "http://127.0.0.1:1");
	ck_assert_str_eq(o.urls[1], "http://127.0.0.1:2");
	ck_assert_str_eq(o.urls[2], "http://127.0.0.1:3");
	ck_assert_str_eq(o.url, "http://127.0.0.1:1");
	ebc_opts_free(&o);
	ck_assert_int_eq(parse(&o, err, sizeof(err), 5, a2), -1);
	ck_assert(strstr(err, "--url") != NULL);
	ck_assert_int_eq(parse(&o, err, sizeof(err), 3, a3), 0);
	ck_assert_uint_eq(o.n_urls, 1);
	ebc_opts_free(&o);
}
END_TEST

START_TEST(test_glob_star_crosses_slash)
{
	ck_assert(ebc_glob_match("ws/*", "ws/app-ping"));
	ck_assert(ebc_glob_match("*ping*", "ws/app-ping"));
	ck_assert(ebc_glob_match("*", "versioning/dense-after-batch"));
	ck_assert(ebc_glob_match("*/dense-*", "versioning/dense-after-batch"));
	ck_assert(ebc_glob_match("ws/app-pin?", "ws/app-ping"));
	ck_assert(ebc_glob_match("ws/[ab]pp-ping", "ws/app-ping"));
	ck_assert(!ebc_glob_match("ws/*", "rate/ws-error-then-close"));
	ck_assert(!ebc_glob_match("ws/app", "ws/app-ping"));
	ck_assert(ebc_glob_match("ws/app-ping", "ws/app-ping"));
}
END_TEST

START_TEST(test_selection_cases_then_exclude)
{
	const char *argv[] = { "ebconform", "--url", "http://h:1", "--cases", "ws/*",
			       "--cases", "auth/expired", "--exclude", "ws/auth-*" };
	ebc_opts o;
	char err[256];

	ck_assert_int_eq(parse(&o, err, sizeof(err), 9, argv), 0);
	ck_assert(ebc_case_selected(&o, "ws/app-ping"));
	ck_assert(ebc_case_selected(&o, "auth/expired"));
	ck_assert(!ebc_case_selected(&o, "ws/auth-timeout"));
	ck_assert(!ebc_case_selected(&o, "auth/missing-token"));
	ck_assert(!ebc_case_selected(&o, "versioning/dense-after-batch"));
	ebc_opts_free(&o);
}
END_TEST

START_TEST(test_selection_default_all_minus_exclude)
{
	const char *argv[] = { "ebconform", "--url", "http://h:1", "--exclude", "timing/*" };
	ebc_opts o;
	char err[256];

	ck_assert_int_eq(parse(&o, err, sizeof(err), 5, argv), 0);
	ck_assert(ebc_case_selected(&o, "feed/ascending-order"));
	ck_assert(!ebc_case_selected(&o, "timing/notify-latency-1000ms"));
	ebc_opts_free(&o);
}
END_TEST

START_TEST(test_outcome_must_failure_is_fail)
{
	ck_assert_int_eq(ebc_outcome_resolve(EBC_RAW_FAIL, "MUST", false), EB_OUT_FAIL);
	ck_assert_int_eq(ebc_outcome_resolve(EBC_RAW_FAIL, "MUST", true), EB_OUT_FAIL);
}
END_TEST

START_TEST(test_outcome_should_failure_is_non_strict_unless_strict)
{
	ck_assert_int_eq(ebc_outcome_resolve(EBC_RAW_FAIL, "SHOULD", false), EB_OUT_NON_STRICT);
	ck_assert_int_eq(ebc_outcome_resolve(EBC_RAW_FAIL, "SHOULD", true), EB_OUT_FAIL);
}
END_TEST

START_TEST(test_outcome_skip_error_pass_unchanged_by_level)
{
	ck_assert_int_eq(ebc_outcome_resolve(EBC_RAW_PASS, "SHOULD", true), EB_OUT_PASS);
	ck_assert_int_eq(ebc_outcome_resolve(EBC_RAW_SKIP, "MUST", true), EB_OUT_SKIP);
	ck_assert_int_eq(ebc_outcome_resolve(EBC_RAW_ERROR, "SHOULD", false), EB_OUT_ERROR);
	ck_assert_int_eq(ebc_outcome_resolve(EBC_RAW_ERROR, "MUST", true), EB_OUT_ERROR);
}
END_TEST

START_TEST(test_exit_code_fail_or_error_is_1)
{
	ck_assert_int_eq(ebc_exit_code(0, 0), EBC_EXIT_OK);
	ck_assert_int_eq(ebc_exit_code(1, 0), EBC_EXIT_FAIL);
	ck_assert_int_eq(ebc_exit_code(0, 2), EBC_EXIT_FAIL);
}
END_TEST

START_TEST(test_shell_quote_for_rerun_commands)
{
	char b[128];

	b[0] = '\0';
	ebc_shell_quote(b, sizeof(b), "http://127.0.0.1:8080");
	ck_assert_str_eq(b, "http://127.0.0.1:8080");
	b[0] = '\0';
	ebc_shell_quote(b, sizeof(b), "my secret");
	ck_assert_str_eq(b, "'my secret'");
	b[0] = '\0';
	ebc_shell_quote(b, sizeof(b), "it's");
	ck_assert_str_eq(b, "'it'\\''s'");
	b[0] = '\0';
	ebc_shell_quote(b, sizeof(b), "");
	ck_assert_str_eq(b, "''");
	snprintf(b, sizeof(b), "--x ");
	ebc_shell_quote(b, sizeof(b), "$HOME");
	ck_assert_str_eq(b, "--x '$HOME'");
}
END_TEST

START_TEST(test_shell_quote_truncates_safely)
{
	char b[8];

	b[0] = '\0';
	ebc_shell_quote(b, sizeof(b), "a b c d e f g h");
	ck_assert_uint_lt(strlen(b), sizeof(b));
}
END_TEST

static Suite *conform_suite(void)
{
	Suite *s = suite_create("conform");
	TCase *t = tcase_create("runner");

	tcase_add_test(t, test_opts_defaults);
	tcase_add_test(t, test_deadline_default_180_s_scaled_and_flag);
	tcase_add_test(t, test_failed_report_add_leaves_no_wire_log_to_free_twice);
	tcase_add_test(t, test_not_run_lists_selected_cases_without_a_result);
	tcase_add_test(t, test_opts_every_flag);
	tcase_add_test(t, test_opts_verbose_counts);
	tcase_add_test(t, test_opts_list_and_help_need_no_url);
	tcase_add_test(t, test_opts_usage_errors);
	tcase_add_test(t, test_opts_url_required_and_http);
	tcase_add_test(t, test_opts_url_repeated_names_the_nodes_in_order);
	tcase_add_test(t, test_glob_star_crosses_slash);
	tcase_add_test(t, test_selection_cases_then_exclude);
	tcase_add_test(t, test_selection_default_all_minus_exclude);
	tcase_add_test(t, test_outcome_must_failure_is_fail);
	tcase_add_test(t, test_outcome_should_failure_is_non_strict_unless_strict);
	tcase_add_test(t, test_outcome_skip_error_pass_unchanged_by_level);
	tcase_add_test(t, test_exit_code_fail_or_error_is_1);
	tcase_add_test(t, test_shell_quote_for_rerun_commands);
	tcase_add_test(t, test_shell_quote_truncates_safely);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(conform_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
