/*
 * check_client.c — the pure parts of libebclient: the timers of PROTOCOL.md
 * 12.2 on an injected clock (ebcl_timing), the store's queue, dedup and
 * merge (ebcl_store), the persistent queue file (ebcl_db), the defect
 * table, local changes through the public API without a network, and the
 * queue's rejection and resync handling through the SDK against an ebmock.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eb_http.h"
#include "eb_json.h"
#include "eb_jwt.h"
#include "eb_merge.h"
#include "eb_proc.h"
#include "eb_time.h"
#include "ebcl_db.h"
#include "ebcl_store.h"
#include "ebcl_timing.h"
#include "ebclient.h"

static char tmpdir[] = "/tmp/check_client.XXXXXX";

/* ---- timers ---------------------------------------------------------------------- */

START_TEST(test_poll_interval_is_30s_active_5min_idle_15min_background)
{
	ck_assert_uint_eq(ebcl_poll_interval_ms(EBCL_ACTIVE), 30000);
	ck_assert_uint_eq(ebcl_poll_interval_ms(EBCL_IDLE), 300000);
	ck_assert_uint_eq(ebcl_poll_interval_ms(EBCL_BACKGROUND), 900000);
}
END_TEST

START_TEST(test_backoff_doubles_from_30s_and_stops_at_5min)
{
	const uint64_t want[] = { 0, 30000, 60000, 120000, 240000, 300000, 300000 };
	for (unsigned i = 0; i < 7; i++)
		ck_assert_uint_eq(ebcl_backoff_ms(i, true), want[i]);
	ck_assert_uint_eq(ebcl_backoff_ms(1000, true), 300000);
	/* The backoff-no-cap defect goes on doubling. */
	ck_assert_uint_eq(ebcl_backoff_ms(6, false), 960000);
}
END_TEST

START_TEST(test_clock_scale_multiplies_every_wait_and_never_gives_zero)
{
	ck_assert_uint_eq(ebcl_scaled(30000, 0.01), 300);
	ck_assert_uint_eq(ebcl_scaled(120000, 0.01), 1200);
	ck_assert_uint_eq(ebcl_scaled(10000, 1.0), 10000);
	ck_assert_uint_eq(ebcl_scaled(10, 0.001), 1);
	ck_assert_uint_eq(ebcl_scaled(30000, 0), 30000);   /* 0: unscaled */
	ebcl_sched s;
	ebcl_sched_init(&s, 0.01, EBCL_IDLE, 0);
	ck_assert_uint_eq(ebcl_sched_interval(&s), 3000);
}
END_TEST

START_TEST(test_pong_and_attempt_deadlines_never_scale_below_one_second)
{
	ck_assert_uint_eq(ebcl_round_trip_ms(EBCL_PONG_MS, 0.01), 1000);
	ck_assert_uint_eq(ebcl_round_trip_ms(EBCL_ATTEMPT_MS, 0.05), 1000);
	ck_assert_uint_eq(ebcl_round_trip_ms(EBCL_PONG_MS, 0.5), 5000);
	ck_assert_uint_eq(ebcl_round_trip_ms(EBCL_PONG_MS, 1.0), 10000);
}
END_TEST

START_TEST(test_jitter_stays_within_its_bound)
{
	ck_assert_uint_eq(ebcl_jitter(1000, 0.1, 0.0), 900);
	ck_assert_uint_eq(ebcl_jitter(1000, 0.1, 0.5), 1000);
	ck_assert(ebcl_jitter(1000, 0.1, 0.9999999) <= 1100);
	ck_assert(ebcl_jitter(1000, 0.1, 0.9999999) >= 1099);
	ck_assert_uint_eq(ebcl_jitter(1000, 0.1, -3), 900);
	ck_assert(ebcl_jitter(1000, 0.1, 7) <= 1100);
}
END_TEST

START_TEST(test_reconnect_delay_is_2min_within_10_percent_spread_uniformly)
{
	/* 10 buckets over the +-10 % window get roughly a tenth each. */
	unsigned buckets[10] = { 0 };
	uint64_t x = 88172645463325252ULL;
	for (int i = 0; i < 10000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		double u = (double)(x >> 11) / 9007199254740992.0;
		uint64_t d = ebcl_reconnect_delay(1.0, u, false);
		ck_assert(d >= 108000 && d <= 132000);
		unsigned b = (unsigned)((d - 108000) / 2400);
		buckets[b > 9 ? 9 : b]++;
	}
	for (int b = 0; b < 10; b++)
		ck_assert_msg(buckets[b] > 800 && buckets[b] < 1200,
			      "bucket %d has %u of 10000", b, buckets[b]);
	ck_assert_uint_eq(ebcl_reconnect_delay(0.01, 0.5, false), 1200);
	ck_assert_uint_eq(ebcl_reconnect_delay(1.0, 0.5, true), 5000);
}
END_TEST

START_TEST(test_retry_after_is_whole_seconds_capped_at_an_hour)
{
	ck_assert_uint_eq(ebcl_retry_after_parse("7"), 7);
	ck_assert_uint_eq(ebcl_retry_after_parse(" 12 \r\n"), 12);
	ck_assert_uint_eq(ebcl_retry_after_parse("99999999999999999999"), 3600);
	ck_assert_uint_eq(ebcl_retry_after_parse("Wed, 21 Oct 2015 07:28:00 GMT"), 0);
	ck_assert_uint_eq(ebcl_retry_after_parse("-1"), 0);
	ck_assert_uint_eq(ebcl_retry_after_parse(NULL), 0);
}
END_TEST

START_TEST(test_catch_up_is_due_at_once_then_rounds_every_interval)
{
	ebcl_sched s;
	ebcl_sched_init(&s, 1.0, EBCL_ACTIVE, 0);
	ck_assert(!ebcl_sched_round_due(&s, 1000));
	ebcl_sched_start_polling(&s, 1000);
	ck_assert(ebcl_sched_round_due(&s, 1000));
	ebcl_sched_round_started(&s, 1000);
	ck_assert(!ebcl_sched_round_due(&s, 30999));
	ck_assert(ebcl_sched_round_due(&s, 31000));
	ck_assert_uint_eq(ebcl_sched_next_deadline(&s, 2000), 31000);
	ebcl_sched_stop_polling(&s);
	ck_assert(!ebcl_sched_round_due(&s, 100000));
	ck_assert_uint_eq(ebcl_sched_next_deadline(&s, 2000), UINT64_MAX);
}
END_TEST

START_TEST(test_failures_back_off_30_60_120_240_300_then_reset_after_success)
{
	ebcl_sched s;
	ebcl_sched_init(&s, 1.0, EBCL_ACTIVE, 0);
	ebcl_sched_start_polling(&s, 0);
	ebcl_sched_round_started(&s, 0);
	const uint64_t want[] = { 30000, 60000, 120000, 240000, 300000, 300000 };
	uint64_t t = 0;
	for (int i = 0; i < 6; i++) {
		ebcl_sched_failure(&s, t, 0);
		ck_assert(!ebcl_sched_may_request(&s, t + want[i] - 1));
		ck_assert(ebcl_sched_may_request(&s, t + want[i]));
		ck_assert(!ebcl_sched_round_due(&s, t + want[i] - 1));
		ck_assert(ebcl_sched_round_due(&s, t + want[i]));
		t += want[i];
		ebcl_sched_round_started(&s, t);
	}
	ebcl_sched_success(&s);
	ebcl_sched_failure(&s, t, 0);
	ck_assert(ebcl_sched_may_request(&s, t + 30000));
	ck_assert(!ebcl_sched_may_request(&s, t + 29999));
}
END_TEST

START_TEST(test_backoff_no_reset_defect_keeps_the_count)
{
	ebcl_sched s;
	ebcl_sched_init(&s, 1.0, EBCL_ACTIVE, EBCL_SF_BACKOFF_NO_RESET);
	ebcl_sched_failure(&s, 0, 0);
	ebcl_sched_failure(&s, 30000, 0);
	ebcl_sched_success(&s);
	ck_assert(ebcl_sched_may_request(&s, 90001));
	ebcl_sched_failure(&s, 100000, 0);
	ck_assert(!ebcl_sched_may_request(&s, 100000 + 119999));
}
END_TEST

START_TEST(test_failure_while_polling_waits_the_longest_of_backoff_interval_and_retry_after)
{
	ebcl_sched s;
	/* Idle: the 300 s interval beats the 30 s back-off. */
	ebcl_sched_init(&s, 1.0, EBCL_IDLE, 0);
	ebcl_sched_start_polling(&s, 0);
	ebcl_sched_round_started(&s, 0);
	ebcl_sched_failure(&s, 10, 0);
	ck_assert(!ebcl_sched_may_request(&s, 10 + 299999));
	ck_assert(ebcl_sched_may_request(&s, 10 + 300000));
	/* Not polling (live): the back-off alone. */
	ebcl_sched_init(&s, 1.0, EBCL_IDLE, 0);
	ebcl_sched_failure(&s, 10, 0);
	ck_assert(ebcl_sched_may_request(&s, 10 + 30000));
	/* Retry-After above both: a minimum wait (CLIENT-POLL-3). */
	ebcl_sched_init(&s, 1.0, EBCL_ACTIVE, 0);
	ebcl_sched_start_polling(&s, 0);
	ebcl_sched_round_started(&s, 0);
	ebcl_sched_failure(&s, 0, 45);
	ck_assert(!ebcl_sched_may_request(&s, 44999));
	ck_assert(!ebcl_sched_round_due(&s, 44999));
	ck_assert(ebcl_sched_round_due(&s, 45000));
	/* ... even after a success resets the back-off. */
	ebcl_sched_success(&s);
	ck_assert(!ebcl_sched_may_request(&s, 44999));
	/* Scaled like every wait. */
	ebcl_sched_init(&s, 0.01, EBCL_ACTIVE, 0);
	ebcl_sched_failure(&s, 0, 45);
	ck_assert(!ebcl_sched_may_request(&s, 449));
	ck_assert(ebcl_sched_may_request(&s, 450));
	/* The ignores-retry-after defect waits the back-off only. */
	ebcl_sched_init(&s, 1.0, EBCL_ACTIVE, EBCL_SF_IGNORE_RETRY_AFTER);
	ebcl_sched_failure(&s, 0, 45);
	ck_assert(ebcl_sched_may_request(&s, 30000));
}
END_TEST

START_TEST(test_activity_change_shorter_takes_effect_at_once_longer_postpones)
{
	ebcl_sched s;
	ebcl_sched_init(&s, 1.0, EBCL_BACKGROUND, 0);
	ebcl_sched_start_polling(&s, 0);
	ebcl_sched_round_started(&s, 0);
	/* 100 s into a 900 s wait, active: 30 s after the last round has
	 * passed, so the poll is due at once. */
	ebcl_sched_set_activity(&s, EBCL_ACTIVE, 100000);
	ck_assert(ebcl_sched_round_due(&s, 100000));
	ebcl_sched_round_started(&s, 100000);
	ck_assert(ebcl_sched_round_due(&s, 130000));
	/* 10 s after a round, idle: due 300 s after that round. */
	ebcl_sched_set_activity(&s, EBCL_IDLE, 110000);
	ck_assert(!ebcl_sched_round_due(&s, 130000));
	ck_assert(!ebcl_sched_round_due(&s, 399999));
	ck_assert(ebcl_sched_round_due(&s, 400000));
	/* activity-change-late: the pending round keeps its interval. */
	ebcl_sched_init(&s, 1.0, EBCL_BACKGROUND, EBCL_SF_ACTIVITY_LATE);
	ebcl_sched_start_polling(&s, 0);
	ebcl_sched_round_started(&s, 0);
	ebcl_sched_set_activity(&s, EBCL_ACTIVE, 100000);
	ck_assert(!ebcl_sched_round_due(&s, 100000));
	ck_assert(ebcl_sched_round_due(&s, 900000));
	/* ignores-activity: 30 s whatever the activity. */
	ebcl_sched_init(&s, 1.0, EBCL_BACKGROUND, EBCL_SF_IGNORE_ACTIVITY);
	ck_assert_uint_eq(ebcl_sched_interval(&s), 30000);
}
END_TEST

START_TEST(test_reauth_comes_at_90_percent_of_the_lifetime)
{
	ck_assert_uint_eq(ebcl_reauth_at(1000000, 1100000), 1090000);
	ck_assert_uint_eq(ebcl_reauth_at(0, 3600000), 3240000);
	ck_assert_uint_eq(ebcl_reauth_at(500, 400), 500);
}
END_TEST

/* ---- store ------------------------------------------------------------------------------- */

/* A change with one path segment; value an integer (set) or none (delete). */
static eb_change mk(const char *id, uint64_t ts, const char *seg, int value, bool del)
{
	eb_change c;
	memset(&c, 0, sizeof c);
	c.id = strdup(id);
	c.timestamp = ts;
	c.op = del ? EB_OP_DELETE : EB_OP_SET;
	c.path = calloc(1, sizeof *c.path);
	c.path[0] = strdup(seg);
	c.path_len = 1;
	c.value = del ? NULL : cJSON_CreateNumber(value);
	return c;
}

static char *state_text(const ebcl_store *st, bool by_arrival)
{
	cJSON *s = NULL;
	ck_assert_int_eq(ebcl_store_state(st, by_arrival, &s), 0);
	char *t = NULL;
	ck_assert_int_eq(eb_json_canonical(s, &t, NULL), EB_OK);
	cJSON_Delete(s);
	return t;
}

START_TEST(test_changes_read_are_kept_once_per_id)
{
	ebcl_store *st = ebcl_store_new("s");
	for (int i = 0; i < 300; i++) {
		char id[16];
		snprintf(id, sizeof id, "c%d", i);
		eb_change c = mk(id, (uint64_t)i, "k", i, false);
		ck_assert_int_eq(ebcl_store_add_seen(st, &c), 1);
		ck_assert_int_eq(ebcl_store_add_seen(st, &c), 0);
		eb_change_clear(&c);
	}
	ck_assert_uint_eq(st->n_seen, 300);
	ck_assert(ebcl_store_has_seen(st, "c299"));
	ck_assert(!ebcl_store_has_seen(st, "c300"));
	st->known = 300;
	ebcl_store_reset(st);
	ck_assert_uint_eq(st->n_seen, 0);
	ck_assert_uint_eq(st->known, 0);
	ck_assert(!ebcl_store_has_seen(st, "c1"));
	ebcl_store_free(st);
}
END_TEST

START_TEST(test_queue_keeps_order_drops_one_and_acks_move_to_the_read_changes)
{
	ebcl_store *st = ebcl_store_new("s");
	for (int i = 0; i < 5; i++) {
		char id[16];
		snprintf(id, sizeof id, "q%d", i);
		eb_change c = mk(id, 100 + (uint64_t)i, "k", i, false);
		ck_assert_int_eq(ebcl_store_enqueue(st, &c), 0);
		ck_assert_ptr_null(c.id);   /* ownership moved */
	}
	ebcl_store_dequeue_at(st, 1);   /* a rejected change */
	ck_assert_uint_eq(st->n_queue, 4);
	ck_assert_str_eq(st->queue[0].id, "q0");
	ck_assert_str_eq(st->queue[1].id, "q2");
	ck_assert_str_eq(st->queue[3].id, "q4");
	ebcl_store_acked(st, 2);
	ck_assert_uint_eq(st->n_queue, 2);
	ck_assert_str_eq(st->queue[0].id, "q3");
	ck_assert(ebcl_store_has_seen(st, "q0"));
	ck_assert(ebcl_store_has_seen(st, "q2"));
	ck_assert(!ebcl_store_has_seen(st, "q3"));
	/* The state covers both: the newest queued change wins. */
	char *t = state_text(st, false);
	ck_assert_str_eq(t, "{\"k\":4}");
	free(t);
	ebcl_store_free(st);
}
END_TEST

START_TEST(test_state_is_the_merge_oracle_whatever_the_arrival_order)
{
	ebcl_store *a = ebcl_store_new("s"), *b = ebcl_store_new("s");
	eb_change ch[4] = {
		mk("x", 30, "k", 3, false), mk("y", 10, "k", 1, false),
		mk("z", 20, "j", 2, false), mk("w", 40, "j", 0, true),
	};
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(ebcl_store_add_seen(a, &ch[i]), 1);
	for (int i = 3; i >= 0; i--)
		ck_assert_int_eq(ebcl_store_add_seen(b, &ch[i]), 1);
	cJSON *oracle = NULL;
	ck_assert_int_eq(eb_merge_state(ch, 4, &oracle, NULL), EB_OK);
	char *o = NULL;
	ck_assert_int_eq(eb_json_canonical(oracle, &o, NULL), EB_OK);
	char *ta = state_text(a, false), *tb = state_text(b, false);
	ck_assert_str_eq(ta, o);
	ck_assert_str_eq(tb, o);
	ck_assert_str_eq(o, "{\"k\":3}");
	/* merge-by-arrival gives another state for the reversed order. */
	char *arr = state_text(b, true);
	ck_assert_str_ne(arr, o);
	free(arr);
	free(ta);
	free(tb);
	free(o);
	cJSON_Delete(oracle);
	for (int i = 0; i < 4; i++)
		eb_change_clear(&ch[i]);
	ebcl_store_free(a);
	ebcl_store_free(b);
}
END_TEST

/* ---- the queue file ---------------------------------------------------------------------- */

START_TEST(test_queue_file_keeps_order_and_ids_across_a_reopen)
{
	char path[128], err[256];
	snprintf(path, sizeof path, "%s/q1.db", tmpdir);
	ebcl_db *db = ebcl_db_open(path, err, sizeof err);
	ck_assert_msg(db != NULL, "%s", err);
	for (int i = 0; i < 4; i++) {
		char id[16];
		snprintf(id, sizeof id, "id-%d", i);
		eb_change c = mk(id, 1000 + (uint64_t)i, "p", i, i == 2);
		ck_assert_int_eq(ebcl_db_add(db, i == 3 ? "other" : "s", &c), 0);
		eb_change_clear(&c);
	}
	ck_assert_int_eq(ebcl_db_remove(db, "s", "id-0"), 0);
	ck_assert_int_eq(ebcl_db_rename(db, "s", "id-1", "id-1b"), 0);
	ebcl_db_close(db);
	db = ebcl_db_open(path, err, sizeof err);
	ck_assert_ptr_nonnull(db);
	eb_change *arr = NULL;
	size_t n = 0;
	ck_assert_int_eq(ebcl_db_load(db, "s", 100, &arr, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(arr[0].id, "id-1b");
	ck_assert_uint_eq(arr[0].timestamp, 1001);
	ck_assert_int_eq(arr[0].op, EB_OP_SET);
	ck_assert_str_eq(arr[1].id, "id-2");
	ck_assert_int_eq(arr[1].op, EB_OP_DELETE);
	ck_assert_ptr_null(arr[1].value);
	ck_assert(!arr[0].has_version);
	for (size_t i = 0; i < n; i++)
		eb_change_clear(&arr[i]);
	free(arr);
	ebcl_db_close(db);
}
END_TEST

/* ---- defects and the public API ------------------------------------------------------------ */

START_TEST(test_every_defect_has_a_unique_name_a_client_rule_and_a_description)
{
	ck_assert_int_ge(EBCL_DEFECT_COUNT, 22);
	for (int i = 0; i < EBCL_DEFECT_COUNT; i++) {
		const ebcl_defect_desc *d = ebcl_defect_info((ebcl_defect)i);
		ck_assert_ptr_nonnull(d);
		ck_assert_ptr_nonnull(d->name);
		ck_assert_msg(strncmp(d->rule, "CLIENT-", 7) == 0, "%s", d->name);
		ck_assert(strlen(d->desc) > 10);
		ck_assert_int_eq(ebcl_defect_by_name(d->name), i);
	}
	ck_assert_ptr_null(ebcl_defect_info(EBCL_DEFECT_COUNT));
	ck_assert_int_eq(ebcl_defect_by_name("no-such-defect"), -1);
}
END_TEST

START_TEST(test_a_local_change_gets_id_and_timestamp_at_once_and_joins_the_state)
{
	char err[256];
	ebcl_config cfg = { .url = "http://127.0.0.1:9", .clock_scale = 0.01 };
	ebcl_client *c = ebcl_client_new(&cfg, err, sizeof err);
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_int_eq(ebcl_client_open(c, "bad id!", err, sizeof err), -1);
	ck_assert_int_eq(ebcl_client_open(c, "s", err, sizeof err), 0);
	const char *path[] = { "a", "b" };
	cJSON *v = cJSON_CreateNumber(9007199254740991.0);
	char id1[64], id2[64];
	uint64_t ts1 = 0, ts2 = 0;
	ck_assert_int_eq(ebcl_client_change(c, "s", path, 2, v, id1, &ts1, err,
					    sizeof err), 0);
	ck_assert_int_eq(ebcl_client_change(c, "s", path, 1, NULL, id2, &ts2, err,
					    sizeof err), 0);
	ck_assert_str_ne(id1, id2);
	ck_assert(strcmp(id1, id2) < 0);   /* ids of one client sort in order */
	ck_assert(ts1 > 1600000000000ULL && ts2 >= ts1);
	ck_assert_uint_eq(ebcl_client_pending(c, "s"), 2);
	ck_assert(!ebcl_client_quiet(c));
	ck_assert_int_eq(ebcl_client_change(c, "nope", path, 1, v, NULL, NULL, err,
					    sizeof err), -1);
	ck_assert_int_eq(ebcl_client_change(c, "s", path, 0, v, NULL, NULL, err,
					    sizeof err), -1);
	cJSON *st = ebcl_client_state(c, "s");
	char *t = NULL;
	ck_assert_int_eq(eb_json_canonical(st, &t, NULL), EB_OK);
	ck_assert_str_eq(t, "{}");   /* the delete of "a" is the newer stamp */
	free(t);
	cJSON_Delete(st);
	cJSON_Delete(v);
	ck_assert_uint_eq(ebcl_client_version(c, "s"), 0);
	ck_assert_int_eq(ebcl_client_conn_state(c), EBCL_STOPPED);
	ebcl_client_free(c);
	ebcl_client_free(NULL);
	ck_assert_ptr_null(ebcl_client_new(&(ebcl_config){ .url = "ftp://x" }, err,
					   sizeof err));
}
END_TEST

/* ---- the SDK against an ebmock ------------------------------------------------------------ */

#define NET_SECRET "check-client-secret"
#define NET_ADMIN "check-client-admin"

typedef struct net_seen {
	char rejected[8][64];
	int status[8];
	char code[8][40];
	int n_rejected;
} net_seen;

static char *net_token(void *ud)
{
	(void)ud;
	const char *all[] = { "*" };
	eb_jwt_mint_opts m = {
		.alg = EB_JWT_HS256, .key = NET_SECRET, .key_len = strlen(NET_SECRET),
		.sub = "check-client", .has_exp = true,
		.exp = (int64_t)(eb_time_now_ms() / 1000u) + 3600,
		.read = all, .n_read = 1, .write = all, .n_write = 1,
	};
	char *t = NULL;
	return eb_jwt_mint(&m, &t, NULL) == EB_OK ? t : NULL;
}

static void net_rejected(void *ud, const char *store, const char *id, int status,
			 const char *code)
{
	net_seen *s = ud;
	(void)store;
	if (s->n_rejected >= 8)
		return;
	snprintf(s->rejected[s->n_rejected], 64, "%s", id);
	s->status[s->n_rejected] = status;
	snprintf(s->code[s->n_rejected], 40, "%s", code);
	s->n_rejected++;
}

/* Starts ebmock with extra flags (NULL-terminated, at most 4). */
static void net_mock(eb_proc *p, const char *const *extra)
{
	char bin[512];
	const char *argv[16] = { eb_proc_bin("ebmock", bin, sizeof bin), "--quiet",
				 "--jwt-secret", NET_SECRET, "--admin-token", NET_ADMIN };
	size_t n = 6;
	for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 14; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	ck_assert_int_eq(eb_proc_start(p, argv, 10000), 0);
}

static ebcl_client *net_client(const eb_proc *p, net_seen *seen)
{
	char err[256];
	ebcl_config cfg = { .url = p->url, .clock_scale = 0.01,
			    .cb = { .token = net_token, .rejected = net_rejected,
				    .ud = seen } };
	ebcl_client *c = ebcl_client_new(&cfg, err, sizeof err);
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_int_eq(ebcl_client_open(c, "q", err, sizeof err), 0);
	ck_assert_int_eq(ebcl_client_start(c, err, sizeof err), 0);
	return c;
}

/* Steps c until it is live and quiet (nothing queued or in flight), at
 * most ms. */
static bool net_settle(ebcl_client *c, long ms)
{
	uint64_t end = eb_time_mono_ns() / 1000000u + (uint64_t)ms;
	while (eb_time_mono_ns() / 1000000u < end) {
		(void)ebcl_client_step(c, NULL, 0, 20);
		if (ebcl_client_conn_state(c) == EBCL_LIVE && ebcl_client_quiet(c))
			return true;
	}
	return false;
}

static void net_set(ebcl_client *c, const char *key, cJSON *value, char *id)
{
	char err[256];
	const char *path[] = { key };
	ck_assert_int_eq(ebcl_client_change(c, "q", path, 1, value, id, NULL, err,
					    sizeof err), 0);
	cJSON_Delete(value);
}

/* The ids of store q on the server, in version order, joined by ','. */
static void net_server_ids(const eb_proc *p, char *out, size_t len)
{
	eb_http *h = eb_http_new(p->url, 5000);
	eb_http_resp r;
	char *tok = net_token(NULL);
	out[0] = '\0';
	ck_assert_int_eq(eb_http_request(h, "GET", "/api/stores/q/changes?since=0",
					 tok, NULL, NULL, 0, NULL, 0, &r), EB_OK);
	ck_assert_int_eq(r.status, 200);
	eb_sync_response *resp = NULL;
	ck_assert_int_eq(eb_sync_response_parse(r.body, r.body_len, &resp, NULL), EB_OK);
	for (size_t i = 0; i < resp->n; i++) {
		size_t l = strlen(out);
		snprintf(out + l, len - l, "%s%s", i ? "," : "", resp->changes[i].id);
	}
	eb_sync_response_free(resp);
	eb_http_resp_clear(&r);
	free(tok);
	eb_http_free(h);
}

static void net_admin(const eb_proc *p, const char *body)
{
	eb_http *h = eb_http_new(p->url, 5000);
	eb_http_resp r;
	ck_assert_int_eq(eb_http_request(h, "POST", "/admin/faults", NET_ADMIN, NULL,
					 body, strlen(body), NULL, 0, &r), EB_OK);
	ck_assert_int_eq(r.status, 200);
	eb_http_resp_clear(&r);
	eb_http_free(h);
}

START_TEST(test_a_rejected_change_is_dropped_and_reported_the_others_pushed_in_order)
{
	eb_proc p;
	const char *extra[] = { "--max-value-bytes", "100", NULL };
	net_mock(&p, extra);
	net_seen seen;
	memset(&seen, 0, sizeof seen);
	ebcl_client *c = net_client(&p, &seen);
	ck_assert(net_settle(c, 5000));
	char id1[64], id2[64], id3[64], big[300];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	/* Three changes queued before the client may push them: one batch. */
	net_set(c, "g1", cJSON_CreateNumber(1), id1);
	net_set(c, "bad", cJSON_CreateString(big), id2);
	net_set(c, "g2", cJSON_CreateNumber(2), id3);
	ck_assert(net_settle(c, 5000));
	ck_assert_int_eq(seen.n_rejected, 1);
	ck_assert_str_eq(seen.rejected[0], id2);
	ck_assert_int_eq(seen.status[0], 422);
	ck_assert_str_eq(seen.code[0], "LIMIT_EXCEEDED");
	char ids[512], want[200];
	net_server_ids(&p, ids, sizeof ids);
	snprintf(want, sizeof want, "%s,%s", id1, id3);
	ck_assert_str_eq(ids, want);
	cJSON *st = ebcl_client_state(c, "q");
	char *t = NULL;
	ck_assert_int_eq(eb_json_canonical(st, &t, NULL), EB_OK);
	ck_assert_str_eq(t, "{\"g1\":1,\"g2\":2}");
	ck_assert_uint_eq(ebcl_client_version(c, "q"), 2);
	free(t);
	cJSON_Delete(st);
	ebcl_client_free(c);
	eb_proc_stop(&p, 3000, false);
}
END_TEST

START_TEST(test_after_409_resync_the_client_reads_from_0_then_pushes_its_queue)
{
	eb_proc p;
	net_mock(&p, NULL);
	net_seen seen;
	memset(&seen, 0, sizeof seen);
	ebcl_client *c = net_client(&p, &seen);
	ck_assert(net_settle(c, 5000));
	char id[64];
	net_set(c, "a", cJSON_CreateNumber(1), id);
	net_set(c, "b", cJSON_CreateNumber(2), id);
	ck_assert(net_settle(c, 5000));
	ck_assert_uint_eq(ebcl_client_version(c, "q"), 2);
	/* The server loses the store (an old backup): the next push meets
	 * 409 RESYNC_REQUIRED. */
	net_admin(&p, "{\"dropStore\":\"q\",\"noNotify\":true}");
	net_set(c, "c", cJSON_CreateNumber(3), id);
	ck_assert(net_settle(c, 5000));
	char ids[512];
	net_server_ids(&p, ids, sizeof ids);
	ck_assert_str_eq(ids, id);
	ck_assert_uint_eq(ebcl_client_version(c, "q"), 1);
	cJSON *st = ebcl_client_state(c, "q");
	char *t = NULL;
	ck_assert_int_eq(eb_json_canonical(st, &t, NULL), EB_OK);
	ck_assert_str_eq(t, "{\"c\":3}");
	ck_assert_int_eq(seen.n_rejected, 0);
	free(t);
	cJSON_Delete(st);
	ebcl_client_free(c);
	eb_proc_stop(&p, 3000, false);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("client");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;
	char cmd[160];

	if (!mkdtemp(tmpdir) || eb_http_global_init() != 0)
		return EXIT_FAILURE;
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_poll_interval_is_30s_active_5min_idle_15min_background);
	tcase_add_test(tc, test_backoff_doubles_from_30s_and_stops_at_5min);
	tcase_add_test(tc, test_clock_scale_multiplies_every_wait_and_never_gives_zero);
	tcase_add_test(tc, test_pong_and_attempt_deadlines_never_scale_below_one_second);
	tcase_add_test(tc, test_jitter_stays_within_its_bound);
	tcase_add_test(tc, test_reconnect_delay_is_2min_within_10_percent_spread_uniformly);
	tcase_add_test(tc, test_retry_after_is_whole_seconds_capped_at_an_hour);
	tcase_add_test(tc, test_catch_up_is_due_at_once_then_rounds_every_interval);
	tcase_add_test(tc, test_failures_back_off_30_60_120_240_300_then_reset_after_success);
	tcase_add_test(tc, test_backoff_no_reset_defect_keeps_the_count);
	tcase_add_test(tc, test_failure_while_polling_waits_the_longest_of_backoff_interval_and_retry_after);
	tcase_add_test(tc, test_activity_change_shorter_takes_effect_at_once_longer_postpones);
	tcase_add_test(tc, test_reauth_comes_at_90_percent_of_the_lifetime);
	tcase_add_test(tc, test_changes_read_are_kept_once_per_id);
	tcase_add_test(tc, test_queue_keeps_order_drops_one_and_acks_move_to_the_read_changes);
	tcase_add_test(tc, test_state_is_the_merge_oracle_whatever_the_arrival_order);
	tcase_add_test(tc, test_queue_file_keeps_order_and_ids_across_a_reopen);
	tcase_add_test(tc, test_every_defect_has_a_unique_name_a_client_rule_and_a_description);
	tcase_add_test(tc, test_a_local_change_gets_id_and_timestamp_at_once_and_joins_the_state);
	tcase_add_test(tc, test_a_rejected_change_is_dropped_and_reported_the_others_pushed_in_order);
	tcase_add_test(tc, test_after_409_resync_the_client_reads_from_0_then_pushes_its_queue);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		failed++;
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
