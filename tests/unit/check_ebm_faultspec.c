/*
 * check_ebm_faultspec.c — the parser of one `ebmock --fault SPEC`
 * (mockserver/core/ebm_faultspec.c): every spec of docs/EBMOCK.md sets its
 * field, timed faults count from the clock given, numbers are bounded, and
 * every malformed spec is refused with a message that names it, leaving
 * the fault state untouched.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ebm_faultspec.h"

#define NOW 5000u   /* an arbitrary monotonic clock, ms */

static ebm_faults parse_ok(const char *spec)
{
	ebm_faults f;
	eb_err err;
	memset(&f, 0, sizeof f);
	eb_err_clear(&err);
	ck_assert_msg(ebm_fault_parse(spec, NOW, &f, &err) == EB_OK, "%s: %s", spec, err.msg);
	return f;
}

/* spec is refused, f keeps every byte, and the message quotes spec. */
static void parse_bad(const char *spec)
{
	ebm_faults f, before;
	eb_err err;
	char quoted[256];
	memset(&f, 0x5a, sizeof f);
	before = f;
	eb_err_clear(&err);
	ck_assert_msg(ebm_fault_parse(spec, NOW, &f, &err) == EB_ERR_ARG, "accepted: '%s'", spec);
	ck_assert_msg(memcmp(&f, &before, sizeof f) == 0, "'%s' changed the state", spec);
	snprintf(quoted, sizeof quoted, "'%s'", spec);
	ck_assert_msg(strstr(err.msg, quoted) != NULL, "message does not name %s: %s",
		      quoted, err.msg);
	ck_assert_msg(strstr(err.msg, "refuse-ws") && strstr(err.msg, "page-max=N"),
		      "message does not list the valid specs: %s", err.msg);
}

START_TEST(test_each_switch_fault_is_turned_on_by_its_bare_name)
{
	ck_assert(parse_ok("refuse-ws").refuse_ws);
	ck_assert(parse_ok("stall").stall);
	ck_assert(parse_ok("no-notify").no_notify);
	ck_assert(parse_ok("silent-ws").silent_ws);
	ck_assert(parse_ok("extras").extras);
	ebm_faults f = parse_ok("stall");
	ck_assert(!f.refuse_ws && !f.no_notify && !f.silent_ws && !f.extras);
}
END_TEST

START_TEST(test_timed_faults_count_from_the_clock_given_and_zero_turns_them_off)
{
	ck_assert_uint_eq(parse_ok("http-503=3").http503_until_ms, NOW + 3000);
	ck_assert_uint_eq(parse_ok("http-429=2").http429_until_ms, NOW + 2000);
	ck_assert_uint_eq(parse_ok("http-503-ms=250").http503_until_ms, NOW + 250);
	ck_assert_uint_eq(parse_ok("http-429-ms=1").http429_until_ms, NOW + 1);
	ck_assert_uint_eq(parse_ok("http-reset-ms=700").http_reset_until_ms, NOW + 700);
	ck_assert_uint_eq(parse_ok("http-503=0").http503_until_ms, 0);
	ck_assert_uint_eq(parse_ok("http-reset-ms=0").http_reset_until_ms, 0);
	ebm_faults f = parse_ok("drop-ws-after=7");
	ck_assert_uint_eq(f.drop_ws_after_s, 7);
	ck_assert_uint_eq(f.drop_set_ms, NOW);
}
END_TEST

START_TEST(test_number_faults_take_their_value_up_to_their_bound)
{
	ck_assert_uint_eq(parse_ok("delay-ms=600000").delay_ms, 600000);
	ck_assert_uint_eq(parse_ok("retry-after=86400").retry_after_s, 86400);
	ck_assert_uint_eq(parse_ok("page-max=1000000").page_max, 1000000);
	ck_assert_uint_eq(parse_ok("drop-ws-after=86400").drop_ws_after_s, 86400);
	ck_assert_uint_eq(parse_ok("http-503=86400").http503_until_ms, NOW + 86400000ull);
	ck_assert_uint_eq(parse_ok("http-503-ms=86400000").http503_until_ms, NOW + 86400000ull);
	parse_bad("delay-ms=600001");
	parse_bad("retry-after=86401");
	parse_bad("page-max=1000001");
	parse_bad("drop-ws-after=86401");
	parse_bad("http-429=86401");
	parse_bad("http-reset-ms=86400001");
	parse_bad("delay-ms=99999999999999999999999");
}
END_TEST

START_TEST(test_malformed_numbers_are_refused)
{
	parse_bad("delay-ms=");
	parse_bad("delay-ms=-1");
	parse_bad("delay-ms=+1");
	parse_bad("delay-ms= 1");
	parse_bad("delay-ms=1x");
	parse_bad("delay-ms=1.5");
	parse_bad("delay-ms=0x10");
	parse_bad("http-503=1=2");
}
END_TEST

START_TEST(test_a_value_where_none_belongs_or_none_where_one_does_is_refused)
{
	parse_bad("stall=1");
	parse_bad("refuse-ws=");
	parse_bad("extras=yes");
	parse_bad("delay-ms");
	parse_bad("page-max");
	parse_bad("drop-ws-after");
}
END_TEST

START_TEST(test_unknown_names_and_prefixes_of_names_are_refused)
{
	parse_bad("");
	parse_bad("=5");
	parse_bad("bogus");
	parse_bad("stal");
	parse_bad("stalls");
	parse_bad("STALL");
	parse_bad("http-503-m=5");
	parse_bad("http-5=5");
	parse_bad("revoke=abc");   /* admin only (POST /admin/faults) */
}
END_TEST

START_TEST(test_specs_add_up_each_changing_only_its_own_field)
{
	ebm_faults f;
	eb_err err;
	memset(&f, 0, sizeof f);
	ck_assert_int_eq(ebm_fault_parse("stall", NOW, &f, &err), EB_OK);
	ck_assert_int_eq(ebm_fault_parse("delay-ms=20", NOW, &f, &err), EB_OK);
	ck_assert_int_eq(ebm_fault_parse("http-503=1", NOW + 10, &f, &err), EB_OK);
	ck_assert_int_eq(ebm_fault_parse("nope", NOW, &f, &err), EB_ERR_ARG);
	ck_assert(f.stall);
	ck_assert_uint_eq(f.delay_ms, 20);
	ck_assert_uint_eq(f.http503_until_ms, NOW + 10 + 1000);
	ck_assert(!f.refuse_ws);
	ck_assert_uint_eq(f.http429_until_ms, 0);
	ck_assert_uint_eq(f.n_revoke, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ebm_faultspec");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, test_each_switch_fault_is_turned_on_by_its_bare_name);
	tcase_add_test(tc, test_timed_faults_count_from_the_clock_given_and_zero_turns_them_off);
	tcase_add_test(tc, test_number_faults_take_their_value_up_to_their_bound);
	tcase_add_test(tc, test_malformed_numbers_are_refused);
	tcase_add_test(tc, test_a_value_where_none_belongs_or_none_where_one_does_is_refused);
	tcase_add_test(tc, test_unknown_names_and_prefixes_of_names_are_refused);
	tcase_add_test(tc, test_specs_add_up_each_changing_only_its_own_field);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
