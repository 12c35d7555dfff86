/*
 * check_loadreport.c — ebload's report model: JSON round trip
 * (ebload-report/1), exact merging of runs, --expect parsing and evaluation.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "eb_json.h"
#include "eb_loadreport.h"

static eb_loadreport *sample_report(uint64_t base)
{
	eb_loadreport *r = eb_loadreport_new();
	ck_assert_ptr_nonnull(r);
	r->c.conn_target = 100;
	r->c.conn_subscribed = 90 + base;
	r->c.conn_peak_open = 90;
	r->c.notif_received = 1000;
	r->c.notif_missed = base;
	r->c.ramp_ms = 1000 + base;
	r->c.hold_ms = 2000;
	r->c.fail_refused = 10;
	eb_hist *h = malloc(sizeof *h);
	ck_assert_ptr_nonnull(h);
	for (uint64_t t = 1; t <= 3; t++) {
		eb_hist_init(h);
		for (uint64_t v = 1; v <= 100; v++)
			eb_hist_record(h, v * 100000 * (t + base));   /* 0.1 ms steps */
		for (uint64_t v = 1; v <= 100; v++)
			eb_hist_record(r->hist[EB_LH_NOTIFY], v * 100000 * (t + base));
		eb_load_sample s = { .t_s = t, .open = 90, .connects = t == 1 ? 90 : 0,
				     .notifications = 100, .pushes = 10, .errors = 0 };
		ck_assert_int_eq(eb_loadreport_add_sample(r, &s, h), EB_OK);
	}
	free(h);
	return r;
}

static eb_loadreport *round_trip(const eb_loadreport *r)
{
	cJSON *j = eb_loadreport_to_json(r);
	ck_assert_ptr_nonnull(j);
	char *txt = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	cJSON *back = NULL;
	ck_assert_int_eq(eb_json_parse(txt, strlen(txt), 16, &back, NULL), EB_OK);
	free(txt);
	eb_loadreport *out = NULL;
	eb_err err;
	ck_assert_int_eq(eb_loadreport_from_json(back, &out, &err), EB_OK);
	cJSON_Delete(back);
	return out;
}

START_TEST(test_loadreport_json_round_trip_keeps_counters_histograms_and_series)
{
	eb_loadreport *r = sample_report(0);
	eb_loadreport_add_limit(r, "open-file limit: use more --procs");
	eb_loadreport *b = round_trip(r);
	ck_assert(memcmp(&b->c, &r->c, sizeof r->c) == 0);
	ck_assert(memcmp(b->hist[EB_LH_NOTIFY]->counts, r->hist[EB_LH_NOTIFY]->counts,
			 sizeof r->hist[0]->counts) == 0);
	ck_assert_uint_eq(b->n_samples, 3);
	ck_assert_uint_eq(b->samples[2].n_buckets, r->samples[2].n_buckets);
	ck_assert_uint_eq(b->n_limits, 1);
	ck_assert_str_eq(b->limits[0], "open-file limit: use more --procs");
	eb_loadreport_free(r);
	eb_loadreport_free(b);
}
END_TEST

START_TEST(test_ebload_cost_divides_each_phase_cpu_by_that_phase_work)
{
	eb_loadreport *r = eb_loadreport_new();
	ck_assert_ptr_nonnull(r);
	ck_assert(eb_loadreport_cpu_per_connection_ms(r) == 0);
	ck_assert(eb_loadreport_cpu_per_notification_us(r) == 0);
	r->c.conn_attempted = 5000;          /* churn and failures do not count */
	r->c.conn_ramp_subscribed = 4000;
	r->c.cpu_ramp_ms = 600;
	r->c.notif_received = 90000;         /* ramp and drain do not count */
	r->c.notif_hold = 80000;
	r->c.cpu_hold_ms = 1000;
	r->c.cpu_user_ms = 99999;            /* whole-run CPU is not used */
	ck_assert_double_eq_tol(eb_loadreport_cpu_per_connection_ms(r), 0.15, 1e-9);
	ck_assert_double_eq_tol(eb_loadreport_cpu_per_notification_us(r), 12.5, 1e-9);
	eb_loadreport *b = round_trip(r);
	ck_assert_double_eq_tol(eb_loadreport_cpu_per_notification_us(b), 12.5, 1e-9);
	eb_loadreport_free(r);
	eb_loadreport_free(b);
}
END_TEST

START_TEST(test_ebload_user_and_system_cost_are_split_per_phase_and_in_the_json)
{
	eb_loadreport *r = eb_loadreport_new();
	ck_assert_ptr_nonnull(r);
	eb_load_cpu_split cs;
	eb_loadreport_cpu_split(r, &cs);
	ck_assert(cs.user_per_conn_us == 0 && cs.sys_per_conn_us == 0 &&
		  cs.user_per_notif_us == 0 && cs.sys_per_notif_us == 0);
	r->c.conn_ramp_subscribed = 8000;
	r->c.cpu_ramp_user_us = 100000;
	r->c.cpu_ramp_sys_us = 400000;
	r->c.notif_hold = 400000;
	r->c.cpu_hold_user_us = 500000;
	r->c.cpu_hold_sys_us = 1500000;
	eb_loadreport_cpu_split(r, &cs);
	ck_assert_double_eq_tol(cs.user_per_conn_us, 12.5, 1e-9);
	ck_assert_double_eq_tol(cs.sys_per_conn_us, 50.0, 1e-9);
	ck_assert_double_eq_tol(cs.user_per_notif_us, 1.25, 1e-9);
	ck_assert_double_eq_tol(cs.sys_per_notif_us, 3.75, 1e-9);
	cJSON *j = eb_loadreport_to_json(r);
	ck_assert_ptr_nonnull(j);
	const cJSON *res = cJSON_GetObjectItemCaseSensitive(j, "resources");
	ck_assert_double_eq_tol(cJSON_GetObjectItemCaseSensitive(res, "userPerConnectionUs")->valuedouble,
				12.5, 1e-9);
	ck_assert_double_eq_tol(cJSON_GetObjectItemCaseSensitive(res, "sysPerNotificationUs")->valuedouble,
				3.75, 1e-9);
	ck_assert_double_eq_tol(cJSON_GetObjectItemCaseSensitive(res, "workerUserRampUs")->valuedouble,
				100000, 1e-9);
	cJSON_Delete(j);
	/* merged runs: the counters add, so the split is of all the work */
	eb_loadreport *b = round_trip(r);
	ck_assert_int_eq(eb_loadreport_merge(b, r), EB_OK);
	ck_assert_uint_eq(b->c.cpu_hold_sys_us, 3000000);
	eb_loadreport_cpu_split(b, &cs);
	ck_assert_double_eq_tol(cs.user_per_conn_us, 12.5, 1e-9);
	eb_loadreport_free(r);
	eb_loadreport_free(b);
}
END_TEST

START_TEST(test_loadreport_merge_is_exact_and_aligns_seconds)
{
	eb_loadreport *a = sample_report(0), *b = sample_report(1);
	eb_loadreport *all = eb_loadreport_new();
	eb_hist *expect = malloc(sizeof *expect);
	eb_hist_init(expect);
	eb_hist_add(expect, a->hist[EB_LH_NOTIFY]);
	eb_hist_add(expect, b->hist[EB_LH_NOTIFY]);
	ck_assert_int_eq(eb_loadreport_merge(a, b), EB_OK);
	ck_assert_uint_eq(a->runs, 2);
	ck_assert_uint_eq(a->c.conn_subscribed, 90 + 91);
	ck_assert_uint_eq(a->c.notif_missed, 1);
	ck_assert_uint_eq(a->c.ramp_ms, 1001);        /* durations: max */
	ck_assert(memcmp(a->hist[EB_LH_NOTIFY]->counts, expect->counts,
			 sizeof expect->counts) == 0);
	ck_assert_uint_eq(a->n_samples, 3);
	ck_assert_uint_eq(a->samples[0].notifications, 200);
	eb_hist *h = malloc(sizeof *h);
	eb_load_sample_hist(&a->samples[0], h);
	ck_assert_uint_eq(h->count, 200);
	/* merging a merged report read back from JSON keeps exactness */
	eb_loadreport *back = round_trip(a);
	ck_assert_int_eq(eb_loadreport_merge(all, back), EB_OK);
	ck_assert_uint_eq(eb_hist_percentile(all->hist[EB_LH_NOTIFY], 99),
			  eb_hist_percentile(expect, 99));
	free(h);
	free(expect);
	eb_loadreport_free(a);
	eb_loadreport_free(b);
	eb_loadreport_free(back);
	eb_loadreport_free(all);
}
END_TEST

START_TEST(test_merged_start_skew_is_the_latest_shard_after_the_plan)
{
	eb_loadreport *a = sample_report(0), *b = sample_report(1), *c = sample_report(2);
	eb_expect e;
	eb_err err;
	double v = 0;
	a->start_planned_ms = b->start_planned_ms = 1800000000000ULL;
	a->start_first_us = a->start_last_us = 1800000000000ULL * 1000 + 300;
	b->start_first_us = b->start_last_us = 1800000000000ULL * 1000 + 4200;
	ck_assert_uint_eq(eb_loadreport_start_skew_us(a), 300);
	/* a run without --start-at leaves the others' plan alone */
	ck_assert_int_eq(eb_loadreport_merge(c, a), EB_OK);
	ck_assert_int_eq(eb_loadreport_merge(c, b), EB_OK);
	ck_assert_uint_eq(c->start_planned_ms, 1800000000000ULL);
	ck_assert_uint_eq(eb_loadreport_start_skew_us(c), 4200);
	ck_assert_uint_eq(c->start_last_us - c->start_first_us, 3900);
	/* the start survives the JSON, and --expect judges it */
	eb_loadreport *back = round_trip(c);
	ck_assert_uint_eq(eb_loadreport_start_skew_us(back), 4200);
	ck_assert_uint_eq(back->start_first_us, c->start_first_us);
	ck_assert_int_eq(eb_expect_parse("start_skew<4ms", &e, &err), EB_OK);
	ck_assert(!eb_expect_eval(&e, back, &v));
	ck_assert_double_eq_tol(v, 4200000.0, 0.5);
	ck_assert_int_eq(eb_expect_parse("start_skew<5ms", &e, &err), EB_OK);
	ck_assert(eb_expect_eval(&e, back, NULL));
	eb_loadreport_free(a);
	eb_loadreport_free(b);
	eb_loadreport_free(c);
	eb_loadreport_free(back);
}
END_TEST

START_TEST(test_loadreport_rejects_other_schema_and_bad_counters)
{
	const char *txt[] = {
		"{\"schema\":\"ebload-report/2\",\"runs\":1}",
		"{\"schema\":\"ebload-report/1\",\"runs\":0}",
		"{\"schema\":\"ebload-report/1\",\"runs\":1,\"connections\":{\"target\":-1}}",
	};
	for (size_t i = 0; i < 3; i++) {
		cJSON *j = NULL;
		ck_assert_int_eq(eb_json_parse(txt[i], strlen(txt[i]), 8, &j, NULL), EB_OK);
		eb_loadreport *r = NULL;
		eb_err err;
		ck_assert_int_eq(eb_loadreport_from_json(j, &r, &err), EB_ERR_SHAPE);
		ck_assert_ptr_null(r);
		cJSON_Delete(j);
	}
}
END_TEST

START_TEST(test_expect_parses_units_and_evaluates_thresholds)
{
	eb_loadreport *r = sample_report(0);
	eb_expect e;
	eb_err err;
	double actual;
	ck_assert_int_eq(eb_expect_parse("p99<50ms", &e, &err), EB_OK);
	ck_assert(e.value == 50e6);
	ck_assert(eb_expect_eval(&e, r, &actual));       /* p99 ~ 29.7 ms */
	ck_assert_int_eq(eb_expect_parse("p99 < 20", &e, &err), EB_OK);
	ck_assert(!eb_expect_eval(&e, r, &actual));
	ck_assert_int_eq(eb_expect_parse("p50<=1s", &e, &err), EB_OK);
	ck_assert(e.value == 1e9);
	ck_assert_int_eq(eb_expect_parse("connections>=90", &e, &err), EB_OK);
	ck_assert(eb_expect_eval(&e, r, &actual));
	ck_assert(actual == 90);
	ck_assert_int_eq(eb_expect_parse("connections>=50000", &e, &err), EB_OK);
	ck_assert(!eb_expect_eval(&e, r, NULL));
	ck_assert_int_eq(eb_expect_parse("missed==0", &e, &err), EB_OK);
	ck_assert(eb_expect_eval(&e, r, NULL));
	r->c.notif_missed = 3;
	ck_assert(!eb_expect_eval(&e, r, &actual));
	ck_assert(actual == 3);
	ck_assert_int_eq(eb_expect_parse("connect_rate>80/s", &e, &err), EB_OK);
	ck_assert(eb_expect_eval(&e, r, &actual));     /* 90 per 1 s ramp */
	eb_loadreport_free(r);
}
END_TEST

START_TEST(test_expect_rejects_unknown_metric_operator_and_unit)
{
	eb_expect e;
	eb_err err;
	ck_assert_int_eq(eb_expect_parse("latency<5ms", &e, &err), EB_ERR_ARG);
	ck_assert_int_eq(eb_expect_parse("p99=5ms", &e, &err), EB_ERR_ARG);
	ck_assert_int_eq(eb_expect_parse("p99<5parsecs", &e, &err), EB_ERR_ARG);
	ck_assert_int_eq(eb_expect_parse("missed==0ms", &e, &err), EB_ERR_ARG);
	ck_assert_int_eq(eb_expect_parse("missed==", &e, &err), EB_ERR_ARG);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("loadreport");
	TCase *t = tcase_create("core");
	tcase_add_test(t, test_loadreport_json_round_trip_keeps_counters_histograms_and_series);
	tcase_add_test(t, test_loadreport_merge_is_exact_and_aligns_seconds);
	tcase_add_test(t, test_ebload_cost_divides_each_phase_cpu_by_that_phase_work);
	tcase_add_test(t, test_ebload_user_and_system_cost_are_split_per_phase_and_in_the_json);
	tcase_add_test(t, test_merged_start_skew_is_the_latest_shard_after_the_plan);
	tcase_add_test(t, test_loadreport_rejects_other_schema_and_bad_counters);
	tcase_add_test(t, test_expect_parses_units_and_evaluates_thresholds);
	tcase_add_test(t, test_expect_rejects_unknown_metric_operator_and_unit);
	suite_add_tcase(s, t);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
