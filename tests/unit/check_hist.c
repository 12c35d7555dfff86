/*
 * check_hist.c — eb_hist: bucket layout, relative error bound, percentiles,
 * exact merge, interval difference, JSON round trip and rejection of bad
 * JSON.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "eb_hist.h"
#include "eb_json.h"

static eb_hist *hist_new(void)
{
	eb_hist *h = malloc(sizeof *h);
	ck_assert_ptr_nonnull(h);
	eb_hist_init(h);
	return h;
}

START_TEST(test_hist_small_values_are_counted_exactly)
{
	for (uint64_t v = 0; v < 2u * EB_HIST_HALF; v++) {
		size_t i = eb_hist_index(v);
		ck_assert_uint_eq(eb_hist_bucket_low(i), v);
		ck_assert_uint_eq(eb_hist_bucket_high(i), v);
	}
}
END_TEST

START_TEST(test_hist_buckets_are_contiguous_and_cover_uint64)
{
	ck_assert_uint_eq(eb_hist_bucket_low(0), 0);
	for (size_t i = 1; i < EB_HIST_BUCKETS; i++)
		ck_assert_uint_eq(eb_hist_bucket_low(i), eb_hist_bucket_high(i - 1) + 1);
	ck_assert_uint_eq(eb_hist_bucket_high(EB_HIST_BUCKETS - 1), UINT64_MAX);
	ck_assert_uint_eq(eb_hist_index(UINT64_MAX), EB_HIST_BUCKETS - 1);
}
END_TEST

START_TEST(test_hist_value_falls_in_its_bucket_within_relative_error)
{
	uint64_t v = 1;
	for (int k = 0; k < 2000; k++) {
		size_t i = eb_hist_index(v);
		uint64_t lo = eb_hist_bucket_low(i), hi = eb_hist_bucket_high(i);
		ck_assert(lo <= v && v <= hi);
		/* width relative to the lowest value: <= 1/HALF */
		ck_assert((double)(hi - lo) <= (double)lo / EB_HIST_HALF + 0.5);
		v = v + v / 7 + 3;
		if (v > UINT64_MAX / 2)
			v = 1 + (uint64_t)k;
	}
}
END_TEST

START_TEST(test_hist_percentiles_of_uniform_values_within_one_percent)
{
	eb_hist *h = hist_new();
	for (uint64_t v = 1; v <= 100000; v++)
		eb_hist_record(h, v * 1000);   /* 1 us .. 100 ms in ns */
	ck_assert_uint_eq(h->count, 100000);
	ck_assert_uint_eq(h->min, 1000);
	ck_assert_uint_eq(h->max, 100000000);
	double p50 = (double)eb_hist_percentile(h, 50);
	double p99 = (double)eb_hist_percentile(h, 99);
	ck_assert(p50 >= 50000000.0 && p50 <= 50000000.0 * 1.01);
	ck_assert(p99 >= 99000000.0 && p99 <= 99000000.0 * 1.01);
	ck_assert_uint_eq(eb_hist_percentile(h, 100), 100000000);
	ck_assert_uint_eq(eb_hist_percentile(h, 0), 1000);
	double mean = eb_hist_mean(h);
	ck_assert(mean > 50000000.0 && mean < 50001000.0);
	free(h);
}
END_TEST

START_TEST(test_hist_empty_percentile_is_zero)
{
	eb_hist *h = hist_new();
	ck_assert_uint_eq(eb_hist_percentile(h, 99), 0);
	ck_assert(eb_hist_mean(h) == 0.0);
	free(h);
}
END_TEST

START_TEST(test_hist_merge_equals_histogram_of_all_values)
{
	eb_hist *a = hist_new(), *b = hist_new(), *all = hist_new(), *m = hist_new();
	uint64_t x = 88172645463325252ULL;
	for (int i = 0; i < 50000; i++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		uint64_t v = x % 5000000000ULL;
		eb_hist_record(i % 3 ? a : b, v);
		eb_hist_record(all, v);
	}
	eb_hist_add(m, a);
	eb_hist_add(m, b);
	ck_assert_uint_eq(m->count, all->count);
	ck_assert_uint_eq(m->min, all->min);
	ck_assert_uint_eq(m->max, all->max);
	ck_assert_uint_eq(m->sum, all->sum);
	ck_assert(memcmp(m->counts, all->counts, sizeof m->counts) == 0);
	for (double p = 0; p <= 100; p += 0.5)
		ck_assert_uint_eq(eb_hist_percentile(m, p), eb_hist_percentile(all, p));
	free(a); free(b); free(all); free(m);
}
END_TEST

START_TEST(test_hist_diff_gives_the_interval_between_snapshots)
{
	eb_hist *h = hist_new(), *s1 = hist_new(), *s2 = hist_new(), *d = hist_new();
	for (uint64_t v = 1; v <= 1000; v++)
		eb_hist_record(h, v);
	eb_hist_add(s1, h);
	for (uint64_t v = 0; v < 500; v++)
		eb_hist_record(h, 7000000);
	eb_hist_add(s2, h);
	eb_hist_diff(d, s2, s1);
	ck_assert_uint_eq(d->count, 500);
	ck_assert_uint_eq(d->sum, 500ULL * 7000000ULL);
	uint64_t p50 = eb_hist_percentile(d, 50);
	ck_assert(p50 >= 7000000 && p50 <= 7000000 + 7000000 / EB_HIST_HALF);
	ck_assert(d->min <= 7000000 && d->max >= 7000000);
	free(h); free(s1); free(s2); free(d);
}
END_TEST

START_TEST(test_hist_record_n_counts_n_times)
{
	eb_hist *h = hist_new();
	eb_hist_record_n(h, 42, 10);
	eb_hist_record_n(h, 43, 0);
	ck_assert_uint_eq(h->count, 10);
	ck_assert_uint_eq(h->sum, 420);
	ck_assert_uint_eq(eb_hist_count_at_or_below(h, 41), 0);
	ck_assert_uint_eq(eb_hist_count_at_or_below(h, 42), 10);
	free(h);
}
END_TEST

START_TEST(test_hist_json_round_trip_is_exact)
{
	eb_hist *h = hist_new(), *r = hist_new();
	for (uint64_t v = 1; v < 3000000000ULL; v = v * 3 + 1)
		eb_hist_record_n(h, v, v % 7 + 1);
	cJSON *j = eb_hist_to_json(h);
	ck_assert_ptr_nonnull(j);
	char *txt = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	cJSON *back = NULL;
	ck_assert_int_eq(eb_json_parse(txt, strlen(txt), 8, &back, NULL), EB_OK);
	eb_err err;
	ck_assert_int_eq(eb_hist_from_json(back, r, &err), EB_OK);
	ck_assert_uint_eq(r->count, h->count);
	ck_assert_uint_eq(r->min, h->min);
	ck_assert_uint_eq(r->max, h->max);
	ck_assert_uint_eq(r->sum, h->sum);
	ck_assert(memcmp(r->counts, h->counts, sizeof h->counts) == 0);
	cJSON_Delete(back);
	free(txt);
	free(h); free(r);
}
END_TEST

static eb_rc parse_hist(const char *txt)
{
	cJSON *j = NULL;
	ck_assert_int_eq(eb_json_parse(txt, strlen(txt), 8, &j, NULL), EB_OK);
	eb_hist *h = hist_new();
	eb_err err;
	eb_rc rc = eb_hist_from_json(j, h, &err);
	cJSON_Delete(j);
	free(h);
	return rc;
}

START_TEST(test_hist_json_rejects_inconsistent_or_foreign_histograms)
{
	/* count disagrees with the buckets */
	ck_assert_int_eq(parse_hist("{\"subBucketBits\":8,\"count\":3,\"min\":1,\"max\":1,"
				    "\"sum\":2,\"buckets\":[1,2]}"), EB_ERR_SHAPE);
	/* another precision: merging it would not be exact */
	ck_assert_int_eq(parse_hist("{\"subBucketBits\":7,\"count\":2,\"min\":1,\"max\":1,"
				    "\"sum\":2,\"buckets\":[1,2]}"), EB_ERR_SHAPE);
	/* indexes not ascending */
	ck_assert_int_eq(parse_hist("{\"subBucketBits\":8,\"count\":2,\"min\":1,\"max\":2,"
				    "\"sum\":3,\"buckets\":[2,1,1,1]}"), EB_ERR_SHAPE);
	/* index out of range */
	ck_assert_int_eq(parse_hist("{\"subBucketBits\":8,\"count\":1,\"min\":1,\"max\":1,"
				    "\"sum\":1,\"buckets\":[99999,1]}"), EB_ERR_SHAPE);
	/* odd number of entries */
	ck_assert_int_eq(parse_hist("{\"subBucketBits\":8,\"count\":1,\"min\":1,\"max\":1,"
				    "\"sum\":1,\"buckets\":[1]}"), EB_ERR_SHAPE);
	/* missing member */
	ck_assert_int_eq(parse_hist("{\"subBucketBits\":8,\"count\":0,\"min\":0,"
				    "\"sum\":0,\"buckets\":[]}"), EB_ERR_SHAPE);
	ck_assert_int_eq(parse_hist("{\"subBucketBits\":8,\"count\":2,\"min\":1,\"max\":1,"
				    "\"sum\":2,\"buckets\":[1,2]}"), EB_OK);
}
END_TEST

static Suite *hist_suite(void)
{
	Suite *s = suite_create("hist");
	TCase *t = tcase_create("core");
	tcase_add_test(t, test_hist_small_values_are_counted_exactly);
	tcase_add_test(t, test_hist_buckets_are_contiguous_and_cover_uint64);
	tcase_add_test(t, test_hist_value_falls_in_its_bucket_within_relative_error);
	tcase_add_test(t, test_hist_percentiles_of_uniform_values_within_one_percent);
	tcase_add_test(t, test_hist_empty_percentile_is_zero);
	tcase_add_test(t, test_hist_merge_equals_histogram_of_all_values);
	tcase_add_test(t, test_hist_diff_gives_the_interval_between_snapshots);
	tcase_add_test(t, test_hist_record_n_counts_n_times);
	tcase_add_test(t, test_hist_json_round_trip_is_exact);
	tcase_add_test(t, test_hist_json_rejects_inconsistent_or_foreign_histograms);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(hist_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
