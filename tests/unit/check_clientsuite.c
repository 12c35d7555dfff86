/*
 * check_clientsuite.c — the pure parts of ebconform's client suite
 * (conformance/core/ebcc_core.c): driver line framing, ebmock event-log
 * lines, the tolerance windows of timing verdicts; and the timeline of a
 * client case through the JSON report and back.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/ebcc.h"
#include "eb_report.h"
#include "eb_timeline.h"

/* ---- line framing ------------------------------------------------------------- */

START_TEST(test_lines_split_at_newlines_across_reads)
{
	ebcc_lines l;
	char *s;
	size_t n;

	ebcc_lines_init(&l, 0);
	ck_assert_int_eq(ebcc_lines_push(&l, "{\"id\":\"1\"", 9), 0);
	ck_assert_int_eq(ebcc_lines_next(&l, &s, &n), 0);
	{
		const char *more = ",\"ok\":true}\r\n{\"event\":\"log\"}\n{\"x";

		ck_assert_int_eq(ebcc_lines_push(&l, more, strlen(more)), 0);
	}
	ck_assert_int_eq(ebcc_lines_next(&l, &s, &n), 1);
	ck_assert_str_eq(s, "{\"id\":\"1\",\"ok\":true}");
	ck_assert_uint_eq(n, strlen(s));
	free(s);
	ck_assert_int_eq(ebcc_lines_next(&l, &s, &n), 1);
	ck_assert_str_eq(s, "{\"event\":\"log\"}");
	free(s);
	ck_assert_int_eq(ebcc_lines_next(&l, &s, &n), 0);
	ck_assert_ptr_null(s);
	ebcc_lines_clear(&l);
}
END_TEST

START_TEST(test_a_line_over_the_cap_breaks_the_stream_without_growing)
{
	ebcc_lines l;
	char buf[64];

	memset(buf, 'a', sizeof(buf));
	ebcc_lines_init(&l, 100);
	ck_assert_int_eq(ebcc_lines_push(&l, buf, 64), 0);
	ck_assert_int_eq(ebcc_lines_push(&l, buf, 36), 0);   /* exactly 100 */
	ck_assert_int_eq(ebcc_lines_push(&l, buf, 1), -1);   /* 101: over */
	ck_assert(l.too_long);
	ck_assert_int_eq(ebcc_lines_push(&l, "\n", 1), -1);  /* stays broken */
	ck_assert_uint_le(l.len, 100);
	ebcc_lines_clear(&l);
}
END_TEST

START_TEST(test_the_cap_counts_from_the_last_newline)
{
	ebcc_lines l;
	char *s;
	size_t n;
	int i;

	ebcc_lines_init(&l, 10);
	/* Many short lines in one read never hit the per-line cap. */
	for (i = 0; i < 50; i++)
		ck_assert_int_eq(ebcc_lines_push(&l, "123456789\n", 10), 0);
	for (i = 0; i < 50; i++) {
		ck_assert_int_eq(ebcc_lines_next(&l, &s, &n), 1);
		ck_assert_str_eq(s, "123456789");
		free(s);
	}
	ebcc_lines_clear(&l);
}
END_TEST

/* ---- event log ------------------------------------------------------------------ */

START_TEST(test_an_http_event_gives_its_store_since_and_ids)
{
	const char *line =
		"{\"t\":1234.5,\"ev\":\"http\",\"conn\":3,\"t0\":1230.25,\"method\":\"POST\","
		"\"path\":\"/api/stores/s-1/sync\",\"query\":\"\",\"status\":200,"
		"\"subject\":\"p:client/x#b\",\"lkv\":9007199254740991,\"changeIds\":[\"c1\",\"c2\"],"
		"\"n\":2,\"currentVersion\":12,\"hasMore\":false,\"x-unknown\":[1]}";
	ebcc_ev e;
	char err[128];

	ck_assert_int_eq(ebcc_ev_parse(line, strlen(line), &e, err, sizeof(err)), 0);
	ck_assert_int_eq(e.kind, EBCC_EV_HTTP);
	ck_assert(e.t == 1234.5 && e.t0 == 1230.25);
	ck_assert_int_eq(e.conn, 3);
	ck_assert_str_eq(e.store, "s-1");
	ck_assert_int_eq(e.status, 200);
	ck_assert(e.lkv == 9007199254740991LL);
	ck_assert_uint_eq(e.n_change_ids, 2);
	ck_assert_str_eq(e.change_ids[1], "c2");
	ck_assert_int_eq(e.has_more, 0);
	ck_assert(ebcc_ev_is_push(&e));
	ck_assert(!ebcc_ev_is_feed(&e));
	ebcc_ev_clear(&e);
}
END_TEST

START_TEST(test_a_feed_read_takes_since_from_the_query)
{
	const char *line = "{\"t\":1,\"ev\":\"http\",\"method\":\"GET\","
			   "\"path\":\"/api/stores/abc/changes\",\"query\":\"limit=2&since=40\","
			   "\"status\":200,\"n\":2,\"hasMore\":true}";
	ebcc_ev e;
	char err[128];

	ck_assert_int_eq(ebcc_ev_parse(line, strlen(line), &e, err, sizeof(err)), 0);
	ck_assert(ebcc_ev_is_feed(&e));
	ck_assert(e.since == 40);
	ck_assert(e.lkv == -1);
	ck_assert_int_eq(e.has_more, 1);
	ck_assert(e.t0 == 1.0);
	ebcc_ev_clear(&e);
}
END_TEST

START_TEST(test_a_close_without_frame_has_code_zero)
{
	const char *a = "{\"t\":5,\"ev\":\"ws_close\",\"conn\":1,\"code\":4401}";
	const char *b = "{\"t\":6,\"ev\":\"ws_close\",\"conn\":2,\"code\":null}";
	ebcc_ev e;
	char err[128];

	ck_assert_int_eq(ebcc_ev_parse(a, strlen(a), &e, err, sizeof(err)), 0);
	ck_assert_int_eq(e.close_code, 4401);
	ebcc_ev_clear(&e);
	ck_assert_int_eq(ebcc_ev_parse(b, strlen(b), &e, err, sizeof(err)), 0);
	ck_assert_int_eq(e.kind, EBCC_EV_WS_CLOSE);
	ck_assert_int_eq(e.close_code, 0);
	ebcc_ev_clear(&e);
}
END_TEST

START_TEST(test_bad_event_lines_are_refused_with_a_reason)
{
	static const char *const bad[] = {
		"not json", "[1,2]", "{\"ev\":\"http\"}", "{\"t\":1,\"t\":2}", "{\"t\":\"1\"}", "",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ebcc_ev e;
		char err[128] = "";

		ck_assert_int_eq(ebcc_ev_parse(bad[i], strlen(bad[i]), &e, err, sizeof(err)), -1);
		ck_assert(err[0] != '\0');
		ck_assert_ptr_null(e.raw);
	}
}
END_TEST

START_TEST(test_unknown_events_parse_as_other)
{
	const char *line = "{\"t\":7,\"ev\":\"log_full\"}";
	ebcc_ev e;
	char err[128];

	ck_assert_int_eq(ebcc_ev_parse(line, strlen(line), &e, err, sizeof(err)), 0);
	ck_assert_int_eq(e.kind, EBCC_EV_OTHER);
	ck_assert_str_eq(e.name, "log_full");
	ebcc_ev_clear(&e);
}
END_TEST

/* ---- tolerance windows ----------------------------------------------------------- */

START_TEST(test_the_window_is_jitter_plus_slack_stated_in_the_doc)
{
	ebcc_window w;

	/* 30 s at clock scale 0.01: 300 ms ±10 % + (100 + 30) ms. */
	ebcc_window_for(300, 0.10, 1.0, &w);
	ck_assert(w.slack == 130.0);
	ck_assert(w.lo == 140.0 && w.hi == 460.0);
	ck_assert(ebcc_window_holds(&w, 140.0));
	ck_assert(ebcc_window_holds(&w, 460.0));
	ck_assert(!ebcc_window_holds(&w, 139.9));
	ck_assert(!ebcc_window_holds(&w, 460.1));
	/* --time-scale 2 doubles the late side's slack, never the jitter,
	 * never the early side. */
	ebcc_window_for(300, 0.10, 2.0, &w);
	ck_assert(w.slack == 260.0 && w.lo == 140.0 && w.hi == 590.0);
	/* A time scale below 1 never shrinks the slack. */
	ebcc_window_for(300, 0.10, 0.5, &w);
	ck_assert(w.slack == 130.0);
	/* No jitter (ping, pong and attempt deadlines): the slack only. */
	ebcc_window_for(100, 0.0, 1.0, &w);
	ck_assert(w.lo == 0.0 && w.hi == 210.0);
}
END_TEST

START_TEST(test_a_short_window_never_goes_below_zero)
{
	ebcc_window w;

	ebcc_window_for(10, 0.10, 3.0, &w);
	ck_assert(w.lo == 0.0);
}
END_TEST

START_TEST(test_backoff_doubles_from_30_s_and_caps_at_300_s)
{
	ck_assert(ebcc_backoff_s(0) == 0);
	ck_assert(ebcc_backoff_s(1) == 30);
	ck_assert(ebcc_backoff_s(2) == 60);
	ck_assert(ebcc_backoff_s(3) == 120);
	ck_assert(ebcc_backoff_s(4) == 240);
	ck_assert(ebcc_backoff_s(5) == 300);
	ck_assert(ebcc_backoff_s(40) == 300);
}
END_TEST

START_TEST(test_gap_check_names_the_first_gap_outside)
{
	ebcc_window w;
	const double ok[] = { 0, 300, 760, 1000 };
	const double bad[] = { 0, 300, 430, 800 };

	ebcc_window_for(300, 0.10, 1.0, &w);
	ck_assert_int_eq(ebcc_check_gaps(ok, 4, &w), -1);
	ck_assert_int_eq(ebcc_check_gaps(bad, 4, &w), 1);
	ck_assert_int_eq(ebcc_check_gaps(bad, 1, &w), -1);
}
END_TEST

START_TEST(test_window_text_names_nominal_slack_and_bounds)
{
	ebcc_window w;
	char buf[160];

	ebcc_window_for(1200, 0.10, 1.0, &w);
	ebcc_window_text(&w, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "1200 ms"));
	ck_assert_ptr_nonnull(strstr(buf, "slack 220 ms"));
	ck_assert_ptr_nonnull(strstr(buf, "860-1540 ms"));
}
END_TEST

/* ---- timeline ----------------------------------------------------------------------- */

START_TEST(test_a_timeline_survives_the_json_report_and_draws_escaped)
{
	eb_report *r = eb_report_new("ebconform", "1", "driver", "cmd"), *back;
	eb_timeline *tl = eb_timeline_new();
	eb_case_result res, got;
	const char *rules[] = { "CLIENT-POLL-1" };
	char path[] = "/tmp/ebcc-tl-XXXXXX", err[256];
	int fd = mkstemp(path), a;
	FILE *f;
	char svg[16384];
	size_t n;

	ck_assert_int_ge(fd, 0);
	close(fd);
	a = eb_timeline_lane(tl, "client a");
	ck_assert_int_eq(eb_timeline_lane(tl, "client a"), a);
	ck_assert_int_eq(eb_timeline_add(tl, a, EB_TL_READ, 10, 12, "GET s?since=0 -> 200"), 0);
	ck_assert_int_eq(eb_timeline_add(tl, a, EB_TL_EXPECT, 270, 330, "poll <&>"), 0);
	ck_assert_int_eq(eb_timeline_add(tl, 7, EB_TL_READ, 1, 1, "no such lane"), -1);
	memset(&res, 0, sizeof(res));
	res.id = "client/poll/x";
	res.title = "t";
	res.level = "MUST";
	res.rules = rules;
	res.n_rules = 1;
	res.outcome = EB_OUT_PASS;
	res.timeline = tl;
	ck_assert_int_eq(eb_report_add(r, &res), 0);
	ck_assert_int_eq(eb_report_write_json(r, path, err, sizeof(err)), 0);
	back = eb_report_read_json(path, err, sizeof(err));
	ck_assert_msg(back != NULL, "%s", err);
	ck_assert_int_eq(eb_report_case_get(back, 0, &got), 0);
	ck_assert_ptr_nonnull(got.timeline);
	ck_assert_uint_eq(got.timeline->n, 2);
	ck_assert_str_eq(got.timeline->items[1].label, "poll <&>");
	ck_assert(got.timeline->items[1].kind == EB_TL_EXPECT);
	ck_assert(got.timeline->items[1].t1 == 330);
	f = fopen(path, "w+");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(eb_timeline_write_svg(got.timeline, f), 0);
	rewind(f);
	n = fread(svg, 1, sizeof(svg) - 1, f);
	svg[n] = '\0';
	fclose(f);
	ck_assert_ptr_nonnull(strstr(svg, "<svg"));
	ck_assert_ptr_nonnull(strstr(svg, "poll &lt;&amp;&gt;"));
	ck_assert_ptr_null(strstr(svg, "poll <&>"));
	unlink(path);
	eb_report_free(back);
	eb_report_free(r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("clientsuite");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_lines_split_at_newlines_across_reads);
	tcase_add_test(tc, test_a_line_over_the_cap_breaks_the_stream_without_growing);
	tcase_add_test(tc, test_the_cap_counts_from_the_last_newline);
	tcase_add_test(tc, test_an_http_event_gives_its_store_since_and_ids);
	tcase_add_test(tc, test_a_feed_read_takes_since_from_the_query);
	tcase_add_test(tc, test_a_close_without_frame_has_code_zero);
	tcase_add_test(tc, test_bad_event_lines_are_refused_with_a_reason);
	tcase_add_test(tc, test_unknown_events_parse_as_other);
	tcase_add_test(tc, test_the_window_is_jitter_plus_slack_stated_in_the_doc);
	tcase_add_test(tc, test_a_short_window_never_goes_below_zero);
	tcase_add_test(tc, test_backoff_doubles_from_30_s_and_caps_at_300_s);
	tcase_add_test(tc, test_gap_check_names_the_first_gap_outside);
	tcase_add_test(tc, test_window_text_names_nominal_slack_and_bounds);
	tcase_add_test(tc, test_a_timeline_survives_the_json_report_and_draws_escaped);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
