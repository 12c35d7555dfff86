/*
 * check_ebm_evlog.c — ebmock's event-log writer (mockserver/core/ebm_evlog.c):
 * whole JSON lines with a 3-decimal monotonic "t", strings escaped into
 * valid JSON whatever bytes they hold, the cap with its one log_full line,
 * and the open errors.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "eb_json.h"
#include "../../mockserver/core/ebm_evlog.h"

static char g_path[256];

static void setup(void)
{
	static int seq;
	snprintf(g_path, sizeof g_path, "/tmp/check-ebm-evlog-%ld-%d.log", (long)getpid(), ++seq);
}

static void teardown(void)
{
	unlink(g_path);
}

static char *slurp(size_t *len)
{
	FILE *f = fopen(g_path, "rb");
	char *buf = calloc(1, 1 << 20);
	*len = 0;
	if (f && buf)
		*len = fread(buf, 1, (1 << 20) - 1, f);
	if (f)
		fclose(f);
	return buf;
}

static ebm_evlog *open_log(uint64_t cap)
{
	ebm_evlog *l = NULL;
	eb_err err;
	ck_assert_int_eq(ebm_evlog_open(g_path, cap, &l, &err), EB_OK);
	return l;
}

START_TEST(test_a_line_is_one_json_object_with_t_in_ms_with_3_decimals_first)
{
	ebm_evlog *l = open_log(EBM_EVLOG_DEFAULT_MAX);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	double before = (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
	ebm_ev e;
	ck_assert(ebm_ev_begin(l, &e, "http"));
	ebm_ev_uint(&e, "conn", 7);
	ebm_ev_int(&e, "neg", -3);
	ebm_ev_str(&e, "path", "/api/stores/s/sync");
	ebm_ev_str(&e, "none", NULL);
	ebm_ev_bool(&e, "hasMore", true);
	ebm_ev_time(&e, "t0", 1234567);
	ebm_ev_raw(&e, "ids", "[\"a\",\"b\"]");
	ebm_ev_end(l, &e);
	ebm_evlog_free(l);

	size_t len;
	char *all = slurp(&len);
	ck_assert_msg(len > 0 && all[len - 1] == '\n' && memchr(all, '\n', len) == all + len - 1,
		      "one whole line: %s", all);
	ck_assert_msg(strncmp(all, "{\"t\":", 5) == 0, "t first: %s", all);
	const char *dot = strchr(all, '.');
	ck_assert_msg(dot && strncmp(dot + 4, ",\"ev\":\"http\"", 12) == 0, "3 decimals, ev second: %s",
		      all);
	cJSON *j = NULL;
	ck_assert_int_eq(eb_json_parse(all, len, 8, &j, NULL), EB_OK);
	double t = cJSON_GetObjectItemCaseSensitive(j, "t")->valuedouble;
	ck_assert_msg(t >= before - 1 && t < before + 5000, "t %.3f is CLOCK_MONOTONIC ms (%.3f)", t,
		      before);
	ck_assert(strstr(all, "\"t0\":1234.567"));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "none")));
	ck_assert_int_eq((int)cJSON_GetObjectItemCaseSensitive(j, "neg")->valuedouble, -3);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "ids")), 2);
	cJSON_Delete(j);
	free(all);
}
END_TEST

START_TEST(test_strings_with_quotes_controls_and_bad_utf8_stay_valid_json)
{
	static const char nasty[] = "a\"b\\c\nd\x01" "e\xff" "f\xc3\xa9g\xe2\x82" "h\xed\xa0\x80";
	ebm_evlog *l = open_log(EBM_EVLOG_DEFAULT_MAX);
	ebm_ev e;
	ck_assert(ebm_ev_begin(l, &e, "ws_in"));
	ebm_ev_str(&e, "type", nasty);
	ebm_ev_end(l, &e);
	ebm_evlog_free(l);
	size_t len;
	char *all = slurp(&len);
	cJSON *j = NULL;
	ck_assert_msg(eb_json_parse(all, len, 8, &j, NULL) == EB_OK, "valid JSON: %s", all);
	const char *v = cJSON_GetObjectItemCaseSensitive(j, "type")->valuestring;
	/* kept: the quote, backslash, newline, control, the valid é; replaced:
	 * the lone 0xff, the cut 3-byte sequence, the encoded surrogate */
	static const char want[] = "a\"b\\c\nd\x01" "e\xef\xbf\xbd" "f\xc3\xa9g";
	ck_assert_msg(strncmp(v, want, sizeof want - 1) == 0, "%s", v);
	ck_assert_msg(!strstr(v, "\xff") && !strstr(v, "\xed\xa0"), "%s", v);
	cJSON_Delete(j);
	free(all);
}
END_TEST

START_TEST(test_the_cap_ends_with_one_log_full_line_and_is_never_passed)
{
	ebm_evlog *l = open_log(EBM_EVLOG_MIN_MAX);
	char filler[200];
	memset(filler, 'x', sizeof filler - 1);
	filler[sizeof filler - 1] = '\0';
	int written = 0;
	for (int i = 0; i < 50; i++) {
		ebm_ev e;
		if (!ebm_ev_begin(l, &e, "http"))
			break;
		ebm_ev_str(&e, "path", filler);
		ebm_ev_end(l, &e);
		written++;
	}
	ck_assert_msg(written > 1 && written < 50, "logging stops at the cap (%d lines)", written);
	ebm_ev e;
	ck_assert_msg(!ebm_ev_begin(l, &e, "http"), "nothing after log_full");
	ebm_evlog_free(l);
	struct stat sb;
	ck_assert_int_eq(stat(g_path, &sb), 0);
	ck_assert_int_le(sb.st_size, EBM_EVLOG_MIN_MAX);
	size_t len;
	char *all = slurp(&len);
	ck_assert(len && all[len - 1] == '\n');
	all[len - 1] = '\0';
	char *last = strrchr(all, '\n');
	last = last ? last + 1 : all;
	ck_assert_msg(strstr(last, "\"ev\":\"log_full\"") && strncmp(last, "{\"t\":", 5) == 0,
		      "last: %s", last);
	int n_full = 0;
	for (const char *p = all; (p = strstr(p, "log_full")) != NULL; p++)
		n_full++;
	ck_assert_int_eq(n_full, 1);
	free(all);
}
END_TEST

START_TEST(test_open_refuses_a_small_cap_and_an_unwritable_path)
{
	ebm_evlog *l = NULL;
	eb_err err;
	ck_assert_int_eq(ebm_evlog_open(g_path, EBM_EVLOG_MIN_MAX - 1, &l, &err), EB_ERR_ARG);
	ck_assert_ptr_null(l);
	ck_assert_int_eq(ebm_evlog_open("/nonexistent-dir/x.log", EBM_EVLOG_DEFAULT_MAX, &l, &err),
			 EB_ERR_IO);
	ck_assert_ptr_null(l);
	ebm_evlog_free(NULL);
	ebm_ev e;
	ck_assert(!ebm_ev_begin(NULL, &e, "http"));
	ebm_ev_str(&e, "k", "v");   /* inert */
	ebm_ev_end(NULL, &e);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ebm_evlog");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_a_line_is_one_json_object_with_t_in_ms_with_3_decimals_first);
	tcase_add_test(tc, test_strings_with_quotes_controls_and_bad_utf8_stay_valid_json);
	tcase_add_test(tc, test_the_cap_ends_with_one_log_full_line_and_is_never_passed);
	tcase_add_test(tc, test_open_refuses_a_small_cap_and_an_unwritable_path);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
