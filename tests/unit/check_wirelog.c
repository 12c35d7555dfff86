/*
 * check_wirelog.c — the wire log: escaping, per-entry and total bounds,
 * relative monotonic times, notes, rebuilding, and concurrent appends.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eb_wirelog.h"

static const char *text_of(const eb_wirelog *w, size_t i)
{
	const eb_wire_entry *e = eb_wirelog_get(w, i);

	ck_assert_ptr_nonnull(e);
	return e->text;
}

START_TEST(test_wirelog_escapes_nonprintable_bytes_keeps_newline_tab_and_utf8)
{
	eb_wirelog *w = eb_wirelog_new(0, 0);
	static const char in[] = "GET / HTTP/1.1\r\nX:\ta\x01\x7f\xff\xc3\xa9\x00z\n";

	ck_assert_ptr_nonnull(w);
	eb_wirelog_add(w, EB_WIRE_OUT, "HTTP", 1, in, sizeof(in) - 1);
	ck_assert_uint_eq(eb_wirelog_count(w), 1);
	ck_assert_str_eq(text_of(w, 0),
			 "GET / HTTP/1.1\\x0D\nX:\ta\\x01\\x7F\\xFF\xc3\xa9\\x00z\n");
	ck_assert_str_eq(eb_wirelog_get(w, 0)->proto, "HTTP");
	ck_assert_int_eq(eb_wirelog_get(w, 0)->conn, 1);
	ck_assert_int_eq(eb_wirelog_get(w, 0)->dir, EB_WIRE_OUT);
	eb_wirelog_free(w);
}
END_TEST

START_TEST(test_wirelog_escapes_invalid_utf8_overlong_surrogate_and_truncated)
{
	eb_wirelog *w = eb_wirelog_new(0, 0);
	/* overlong '/', a UTF-16 surrogate, a sequence cut short at the end */
	static const char in[] = "\xc0\xaf|\xed\xa0\x80|\xe2\x82";

	eb_wirelog_add(w, EB_WIRE_IN, "WS", 0, in, sizeof(in) - 1);
	ck_assert_str_eq(text_of(w, 0), "\\xC0\\xAF|\\xED\\xA0\\x80|\\xE2\\x82");
	eb_wirelog_free(w);
}
END_TEST

START_TEST(test_wirelog_truncates_entry_to_cap_with_bytes_more_marker)
{
	eb_wirelog *w = eb_wirelog_new(16, 0);
	char big[100];

	memset(big, 'a', sizeof(big));
	eb_wirelog_add(w, EB_WIRE_IN, "HTTP", 0, big, sizeof(big));
	ck_assert_str_eq(text_of(w, 0), "aaaaaaaaaaaaaaaa[... 84 bytes more]");
	/* exactly at the cap: no marker */
	eb_wirelog_add(w, EB_WIRE_IN, "HTTP", 0, big, 16);
	ck_assert_str_eq(text_of(w, 1), "aaaaaaaaaaaaaaaa");
	eb_wirelog_free(w);
}
END_TEST

START_TEST(test_wirelog_truncation_never_splits_an_escape_or_utf8_sequence)
{
	eb_wirelog *w = eb_wirelog_new(6, 0);

	eb_wirelog_add(w, EB_WIRE_IN, "", 0, "ab\x01\x02", 4);
	ck_assert_str_eq(text_of(w, 0), "ab\\x01[... 1 bytes more]");
	eb_wirelog_free(w);

	w = eb_wirelog_new(4, 0);
	eb_wirelog_add(w, EB_WIRE_IN, "", 0, "abc\xc3\xa9", 5);
	ck_assert_str_eq(text_of(w, 0), "abc[... 2 bytes more]");
	eb_wirelog_free(w);
}
END_TEST

START_TEST(test_wirelog_entry_cut_by_its_caller_counts_every_byte_not_shown)
{
	eb_wirelog *w = eb_wirelog_new(8, 0);

	/* the caller kept 4 bytes of 100: shown whole, 96 counted */
	eb_wirelog_add_part(w, EB_WIRE_IN, "WS", 0, "abcd", 4, 100);
	ck_assert_str_eq(text_of(w, 0), "abcd[... 96 bytes more]");
	/* the log's own cap cuts further: still every missing byte counted */
	eb_wirelog_add_part(w, EB_WIRE_IN, "WS", 0, "0123456789", 10, 50);
	ck_assert_str_eq(text_of(w, 1), "01234567[... 42 bytes more]");
	/* nothing cut: no marker */
	eb_wirelog_add_part(w, EB_WIRE_IN, "WS", 0, "xy", 2, 2);
	ck_assert_str_eq(text_of(w, 2), "xy");
	eb_wirelog_free(w);
}
END_TEST

START_TEST(test_wirelog_total_cap_drops_and_counts_later_entries)
{
	eb_wirelog *w = eb_wirelog_new(0, 2048);
	char chunk[200];
	size_t i, kept;

	memset(chunk, 'x', sizeof(chunk));
	for (i = 0; i < 50; i++)
		eb_wirelog_add(w, EB_WIRE_OUT, "TCP", 0, chunk, sizeof(chunk));
	kept = eb_wirelog_count(w);
	ck_assert_uint_gt(kept, 0);
	ck_assert_uint_lt(kept, 50);
	ck_assert_uint_eq(kept + eb_wirelog_dropped(w), 50);
	/* a small entry after the cap was hit is dropped too: the kept part
	 * stays an unbroken prefix */
	eb_wirelog_add(w, EB_WIRE_OUT, "TCP", 0, "x", 1);
	ck_assert_uint_eq(eb_wirelog_count(w), kept);
	ck_assert_uint_eq(eb_wirelog_dropped(w), 51 - kept);
	eb_wirelog_free(w);
}
END_TEST

START_TEST(test_wirelog_times_are_relative_monotonic_microseconds)
{
	eb_wirelog *w = eb_wirelog_new(0, 0);
	struct timespec ts = { 0, 30 * 1000 * 1000 };
	uint64_t t0, t1;

	eb_wirelog_add(w, EB_WIRE_OUT, "HTTP", 0, "a", 1);
	nanosleep(&ts, NULL);
	eb_wirelog_add(w, EB_WIRE_IN, "HTTP", 0, "b", 1);
	t0 = eb_wirelog_get(w, 0)->t_us;
	t1 = eb_wirelog_get(w, 1)->t_us;
	/* relative to creation: the first entry is close to 0, not an epoch */
	ck_assert_uint_lt(t0, 1000000);
	ck_assert_uint_ge(t1 - t0, 30000);
	ck_assert_uint_lt(t1 - t0, 5000000);
	eb_wirelog_free(w);
}
END_TEST

START_TEST(test_wirelog_note_is_formatted_without_proto_or_conn)
{
	eb_wirelog *w = eb_wirelog_new(0, 0);
	char longer[600];
	const eb_wire_entry *e;

	eb_wirelog_note(w, "waiting %d ms for %s", 250, "notification");
	e = eb_wirelog_get(w, 0);
	ck_assert_str_eq(e->text, "waiting 250 ms for notification");
	ck_assert_int_eq(e->dir, EB_WIRE_NOTE);
	ck_assert_str_eq(e->proto, "");
	ck_assert_int_eq(e->conn, -1);
	/* longer than any stack buffer the note might start with */
	memset(longer, 'n', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	eb_wirelog_note(w, "%s|%c", longer, '\x02');
	ck_assert_uint_eq(strlen(text_of(w, 1)), 599 + 1 + 4);
	ck_assert_str_eq(text_of(w, 1) + 600, "\\x02");
	eb_wirelog_free(w);
}
END_TEST

START_TEST(test_wirelog_null_log_calls_are_noops)
{
	eb_wirelog_add(NULL, EB_WIRE_OUT, "HTTP", 0, "x", 1);
	eb_wirelog_note(NULL, "%s", "x");
	eb_wirelog_add_dropped(NULL, 3);
	ck_assert_int_eq(eb_wirelog_add_entry(NULL, NULL), -1);
	ck_assert_uint_eq(eb_wirelog_count(NULL), 0);
	ck_assert_uint_eq(eb_wirelog_dropped(NULL), 0);
	ck_assert_ptr_null(eb_wirelog_get(NULL, 0));
	eb_wirelog_free(NULL);
}
END_TEST

START_TEST(test_wirelog_get_out_of_range_is_null_and_proto_is_truncated)
{
	eb_wirelog *w = eb_wirelog_new(0, 0);

	eb_wirelog_add(w, EB_WIRE_OUT, "VERYLONGPROTO", 2, NULL, 5);
	ck_assert_str_eq(eb_wirelog_get(w, 0)->proto, "VERYLON");
	ck_assert_str_eq(eb_wirelog_get(w, 0)->text, "");
	ck_assert_ptr_null(eb_wirelog_get(w, 1));
	eb_wirelog_free(w);
}
END_TEST

START_TEST(test_wirelog_add_entry_keeps_time_and_reescaping_is_idempotent)
{
	eb_wirelog *a = eb_wirelog_new(0, 0), *b = eb_wirelog_new(8, 0);
	eb_wire_entry e;

	eb_wirelog_add(a, EB_WIRE_IN, "WS", 3, "\x01\xff hello world, longer than 8", 29);
	e = *eb_wirelog_get(a, 0);
	e.t_us = 123456789;
	ck_assert_int_eq(eb_wirelog_add_entry(b, &e), 0);
	ck_assert_uint_eq(eb_wirelog_get(b, 0)->t_us, 123456789);
	ck_assert_str_eq(eb_wirelog_get(b, 0)->text, eb_wirelog_get(a, 0)->text);
	ck_assert_str_eq(eb_wirelog_get(b, 0)->proto, "WS");
	ck_assert_int_eq(eb_wirelog_get(b, 0)->conn, 3);
	ck_assert_int_eq(eb_wirelog_get(b, 0)->dir, EB_WIRE_IN);
	/* raw control bytes in a rebuilt entry are escaped like any other */
	e.text = (char *)"a\x1b[2Jb";
	eb_wirelog_add_entry(b, &e);
	ck_assert_str_eq(eb_wirelog_get(b, 1)->text, "a\\x1B[2Jb");
	eb_wirelog_add_dropped(b, 7);
	ck_assert_uint_eq(eb_wirelog_dropped(b), 7);
	eb_wirelog_free(a);
	eb_wirelog_free(b);
}
END_TEST

#define N_THREADS 8
#define PER_THREAD 2000

typedef struct worker {
	eb_wirelog *w;
	int id;
} worker;

static void *append_many(void *arg)
{
	worker *k = arg;
	char buf[32];
	int i;

	for (i = 0; i < PER_THREAD; i++) {
		int n = snprintf(buf, sizeof(buf), "t%d-%d", k->id, i);

		if (i % 10 == 0)
			eb_wirelog_note(k->w, "t%d-%d", k->id, i);
		else
			eb_wirelog_add(k->w, EB_WIRE_OUT, "TCP", k->id, buf, (size_t)n);
	}
	return NULL;
}

START_TEST(test_wirelog_concurrent_appends_lose_nothing_and_keep_order)
{
	eb_wirelog *w = eb_wirelog_new(0, 64u * 1024u * 1024u);
	pthread_t th[N_THREADS];
	worker k[N_THREADS];
	int next[N_THREADS] = { 0 };
	uint64_t last = 0;
	size_t i;
	int t;

	for (t = 0; t < N_THREADS; t++) {
		k[t].w = w;
		k[t].id = t;
		ck_assert_int_eq(pthread_create(&th[t], NULL, append_many, &k[t]), 0);
	}
	for (t = 0; t < N_THREADS; t++)
		pthread_join(th[t], NULL);
	ck_assert_uint_eq(eb_wirelog_count(w), N_THREADS * PER_THREAD);
	ck_assert_uint_eq(eb_wirelog_dropped(w), 0);
	for (i = 0; i < eb_wirelog_count(w); i++) {
		const eb_wire_entry *e = eb_wirelog_get(w, i);
		char want[32];
		int id = e->text[1] - '0';

		ck_assert_int_ge(id, 0);
		ck_assert_int_lt(id, N_THREADS);
		snprintf(want, sizeof(want), "t%d-%d", id, next[id]++);
		ck_assert_str_eq(e->text, want);
		ck_assert_uint_ge(e->t_us, last); /* times follow log order */
		last = e->t_us;
	}
	eb_wirelog_free(w);
}
END_TEST

START_TEST(test_wirelog_concurrent_appends_past_total_cap_are_counted)
{
	eb_wirelog *w = eb_wirelog_new(0, 32u * 1024u);
	pthread_t th[N_THREADS];
	worker k[N_THREADS];
	int t;

	for (t = 0; t < N_THREADS; t++) {
		k[t].w = w;
		k[t].id = t;
		ck_assert_int_eq(pthread_create(&th[t], NULL, append_many, &k[t]), 0);
	}
	for (t = 0; t < N_THREADS; t++)
		pthread_join(th[t], NULL);
	ck_assert_uint_gt(eb_wirelog_dropped(w), 0);
	ck_assert_uint_eq(eb_wirelog_count(w) + eb_wirelog_dropped(w), N_THREADS * PER_THREAD);
	eb_wirelog_free(w);
}
END_TEST

static Suite *wirelog_suite(void)
{
	Suite *s = suite_create("wirelog");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_wirelog_escapes_nonprintable_bytes_keeps_newline_tab_and_utf8);
	tcase_add_test(tc, test_wirelog_escapes_invalid_utf8_overlong_surrogate_and_truncated);
	tcase_add_test(tc, test_wirelog_truncates_entry_to_cap_with_bytes_more_marker);
	tcase_add_test(tc, test_wirelog_truncation_never_splits_an_escape_or_utf8_sequence);
	tcase_add_test(tc, test_wirelog_entry_cut_by_its_caller_counts_every_byte_not_shown);
	tcase_add_test(tc, test_wirelog_total_cap_drops_and_counts_later_entries);
	tcase_add_test(tc, test_wirelog_times_are_relative_monotonic_microseconds);
	tcase_add_test(tc, test_wirelog_note_is_formatted_without_proto_or_conn);
	tcase_add_test(tc, test_wirelog_null_log_calls_are_noops);
	tcase_add_test(tc, test_wirelog_get_out_of_range_is_null_and_proto_is_truncated);
	tcase_add_test(tc, test_wirelog_add_entry_keeps_time_and_reescaping_is_idempotent);
	tcase_add_test(tc, test_wirelog_concurrent_appends_lose_nothing_and_keep_order);
	tcase_add_test(tc, test_wirelog_concurrent_appends_past_total_cap_are_counted);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(wirelog_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
