/*
 * check_ebm_ws.c — ebmock's socket-free WebSocket session core: the paced
 * shutdown (WS-CLOSE-1, every session closed with 1001, a bounded number of
 * close handshakes at a time); the reply bound (WS-CLOSE-4: reads pause at
 * 64 KiB of replies, a socket that stays there is dropped by its timer) and
 * the memory budget the replies are charged to.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eb_time.h"
#include "eb_ws.h"
#include "../../mockserver/core/ebm_core.h"

#define N_SESSIONS 1200
#define MAX_CLOSING 500

static size_t g_wakes;

static void count_wake(void *glue, void *user)
{
	(void)glue;
	(void)user;
	g_wakes++;
}

static ebm_server *server(void)
{
	ebm_config cfg;
	ebm_config_default(&cfg);
	cfg.no_auth = true;
	ebm_server *srv = NULL;
	eb_err err;
	ck_assert_int_eq(ebm_server_new(&cfg, count_wake, NULL, &srv, &err), EB_OK);
	return srv;
}

/* Frees (as the glue does once the close frame went out) every session
 * whose next output is a close with 1001; returns how many. */
static size_t close_told(ebm_ws_session **s, size_t n)
{
	size_t closed = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == NULL || !ebm_ws_wants_write(s[i]))
			continue;
		char *text = NULL;
		size_t len = 0;
		int code = 0;
		ebm_ws_out o = ebm_ws_next_out(s[i], &text, &len, &code);
		free(text);
		if (o != EBM_WS_OUT_CLOSE)
			continue;
		ck_assert_int_eq(code, EB_WS_CLOSE_GOING_AWAY);
		ebm_ws_free(s[i]);
		s[i] = NULL;
		closed++;
	}
	return closed;
}

START_TEST(test_shutdown_closes_every_session_with_1001_a_bounded_number_at_a_time)
{
	ebm_server *srv = server();
	ebm_ws_session **s = calloc(N_SESSIONS, sizeof *s);
	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < N_SESSIONS; i++) {
		s[i] = ebm_ws_open(srv, "127.0.0.1", NULL);
		ck_assert_ptr_nonnull(s[i]);
	}
	g_wakes = 0;
	size_t waiting = ebm_ws_shutdown_step(srv, MAX_CLOSING);
	ck_assert_uint_eq(waiting, N_SESSIONS - MAX_CLOSING);
	ck_assert_uint_eq(g_wakes, MAX_CLOSING);
	/* a second step before any closed tells nobody new */
	ck_assert_uint_eq(ebm_ws_shutdown_step(srv, MAX_CLOSING), N_SESSIONS - MAX_CLOSING);
	ck_assert_uint_eq(g_wakes, MAX_CLOSING);

	size_t total = 0, rounds = 0;
	for (;;) {
		size_t closed = close_told(s, N_SESSIONS);
		ck_assert_uint_le(closed, MAX_CLOSING);
		total += closed;
		ck_assert_uint_eq(ebm_ws_count(srv), N_SESSIONS - total);
		if (waiting == 0)
			break;
		waiting = ebm_ws_shutdown_step(srv, MAX_CLOSING);
		rounds++;
		ck_assert_uint_lt(rounds, 10);
	}
	ck_assert_uint_eq(total, N_SESSIONS);
	ck_assert_uint_eq(g_wakes, N_SESSIONS);
	ck_assert_uint_eq(ebm_ws_count(srv), 0);
	free(s);
	ebm_server_free(srv);
}
END_TEST

START_TEST(test_shutdown_of_no_sessions_has_nothing_waiting)
{
	ebm_server *srv = server();
	ck_assert_uint_eq(ebm_ws_shutdown_step(srv, MAX_CLOSING), 0);
	ebm_server_free(srv);
}
END_TEST

static ebm_server *server_cfg(uint32_t stall_ms, uint64_t budget)
{
	ebm_config cfg;
	ebm_config_default(&cfg);
	cfg.no_auth = true;
	cfg.ws_stall_ms = stall_ms;
	cfg.mem_budget_bytes = budget;
	ebm_server *srv = NULL;
	eb_err err;
	ck_assert_int_eq(ebm_server_new(&cfg, count_wake, NULL, &srv, &err), EB_OK);
	return srv;
}

/* Pings until the session's reads should pause; returns how many. */
static size_t ping_until_paused(ebm_ws_session *s, size_t max)
{
	char msg[96];
	size_t n = 0;
	while (n < max && !ebm_ws_rx_paused(s)) {
		int len = snprintf(msg, sizeof msg, "{\"type\":\"ping\",\"requestId\":\"p%zu\"}", n);
		ebm_ws_on_message(s, msg, (size_t)len, false);
		n++;
	}
	return n;
}

START_TEST(test_replies_at_the_bound_pause_reads_that_resume_as_they_drain_WS_CLOSE_4)
{
	ebm_server *srv = server_cfg(1000, 32u << 20);
	ebm_ws_session *s = ebm_ws_open(srv, "127.0.0.1", NULL);
	ck_assert_ptr_nonnull(s);
	size_t n = ping_until_paused(s, 100000);
	/* about 64 KiB of pongs of ~30 bytes, and not a message more */
	ck_assert(ebm_ws_rx_paused(s));
	ck_assert_uint_gt(n, 1000);
	ck_assert_uint_lt(n, 4000);
	/* the client reads: the first pong goes, the reads resume, nothing
	 * was dropped and every pong comes in order */
	size_t got = 0;
	char want[32];
	for (;;) {
		char *text = NULL;
		size_t len = 0;
		int code = 0;
		ebm_ws_out o = ebm_ws_next_out(s, &text, &len, &code);
		if (o == EBM_WS_OUT_NONE)
			break;
		ck_assert_int_eq(o, EBM_WS_OUT_TEXT);
		snprintf(want, sizeof want, "\"p%zu\"", got);
		ck_assert_ptr_nonnull(strstr(text, want));
		free(text);
		got++;
		if (got == 1)
			ck_assert(!ebm_ws_rx_paused(s));
	}
	ck_assert_uint_eq(got, n);
	ck_assert_uint_eq(ebm_ws_next_deadline_ms(s) == 0 ||
			  ebm_ws_next_deadline_ms(s) > ebm_mono_ms() + 2000, 1);
	ebm_ws_free(s);
	ebm_server_free(srv);
}
END_TEST

START_TEST(test_replies_that_stay_at_the_bound_drop_the_socket_after_ws_stall_ms_WS_CLOSE_4)
{
	ebm_server *srv = server_cfg(60, 32u << 20);
	ebm_ws_session *s = ebm_ws_open(srv, "127.0.0.1", NULL);
	ck_assert_ptr_nonnull(s);
	uint64_t t0 = ebm_mono_ms();
	ping_until_paused(s, 100000);
	uint64_t d = ebm_ws_next_deadline_ms(s);
	ck_assert_uint_ge(d, t0 + 60);
	ck_assert_uint_le(d, ebm_mono_ms() + 60);
	/* before the deadline the timer changes nothing */
	ebm_ws_on_timer(s);
	ck_assert(ebm_ws_rx_paused(s));
	while (ebm_mono_ms() < d)
		usleep(5000);
	ebm_ws_on_timer(s);
	char *text = NULL;
	size_t len = 0;
	int code = 0;
	ck_assert_int_eq(ebm_ws_next_out(s, &text, &len, &code), EBM_WS_OUT_DROP);
	free(text);
	/* its replies are given back to the budget at once */
	ck_assert(ebm_mem_take(srv, 32u << 20));
	ebm_mem_give(srv, 32u << 20);
	ebm_ws_free(s);
	ebm_server_free(srv);
}
END_TEST

START_TEST(test_the_memory_budget_takes_up_to_its_size_and_pauses_sockets_with_replies)
{
	ebm_server *srv = server_cfg(1000, 65536);
	ck_assert(ebm_mem_take(srv, 40000));
	ck_assert(!ebm_mem_take(srv, 30000));     /* would not fit: nothing charged */
	ck_assert(ebm_mem_take(srv, 25536));
	ck_assert(ebm_mem_spent(srv));
	ebm_mem_give(srv, 25536);
	ck_assert(!ebm_mem_spent(srv));
	/* forced charges (decided output) go over; a socket with replies
	 * waiting then pauses its reads, one without does not */
	ebm_mem_force(srv, 30000);
	ck_assert(ebm_mem_spent(srv));
	ebm_ws_session *a = ebm_ws_open(srv, "127.0.0.1", NULL);
	ebm_ws_session *b = ebm_ws_open(srv, "127.0.0.1", NULL);
	ck_assert(!ebm_ws_rx_paused(a));
	ebm_ws_on_message(a, "{\"type\":\"ping\",\"requestId\":\"x\"}", 31, false);
	ck_assert(ebm_ws_rx_paused(a));
	ck_assert(!ebm_ws_rx_paused(b));
	ebm_mem_give(srv, 70000);
	ck_assert(!ebm_ws_rx_paused(a));
	ebm_ws_free(a);
	ebm_ws_free(b);
	/* everything given back: the whole budget is free again */
	ck_assert(ebm_mem_take(srv, 65536));
	ebm_server_free(srv);
}
END_TEST

/* ---- fan-out: one encoding per pass (WS-NOTIF-3 as amended) -------------- */

#define N_FAN 5

/* Pushes one change to store fan over the core's HTTP handler (no auth). */
static void push_one(ebm_server *srv, int n)
{
	char body[160];
	snprintf(body, sizeof body,
		 "{\"lastKnownVersion\":0,\"changes\":[{\"id\":\"c%d\",\"operation\":\"set\","
		 "\"path\":[\"k\"],\"value\":%d,\"timestamp\":1700000000000}]}", n, n);
	ebm_http_req req;
	memset(&req, 0, sizeof req);
	req.method = "POST";
	req.path = "/api/stores/fan/sync";
	req.path_len = strlen(req.path);
	req.content_type = "application/json";
	req.content_length = (int64_t)strlen(body);
	req.body = body;
	req.body_len = strlen(body);
	req.remote_addr = "127.0.0.1";
	ebm_http_resp resp;
	memset(&resp, 0, sizeof resp);
	ck_assert_int_eq(ebm_http_handle(srv, &req, &resp), EBM_HTTP_DONE);
	ck_assert_msg(resp.status == 200, "push: %d %.*s", resp.status, (int)resp.body_len,
		      resp.body ? resp.body : "");
	ebm_http_resp_clear(&resp);
}

/* The next text s writes (NULL when it has none), malloc'd. */
static char *next_text(ebm_ws_session *s)
{
	char *text = NULL;
	size_t len = 0;
	int code = 0;
	if (ebm_ws_next_out(s, &text, &len, &code) != EBM_WS_OUT_TEXT) {
		free(text);
		return NULL;
	}
	ck_assert_uint_eq(strlen(text), len);
	return text;
}

START_TEST(test_one_commit_sends_the_same_bytes_to_every_subscriber_WS_NOTIF_3)
{
	ebm_server *srv = server();
	ebm_ws_session *s[N_FAN];
	static const char sub[] = "{\"type\":\"subscribe\",\"requestId\":\"r1\",\"storeIds\":[\"fan\"]}";

	for (int i = 0; i < N_FAN; i++) {
		s[i] = ebm_ws_open(srv, "127.0.0.1", NULL);
		ck_assert_ptr_nonnull(s[i]);
		ebm_ws_on_message(s[i], sub, strlen(sub), false);
		char *ack = next_text(s[i]);
		ck_assert_ptr_nonnull(ack);
		ck_assert_ptr_nonnull(strstr(ack, "\"subscribed\""));
		free(ack);
	}
	for (int round = 1; round <= 2; round++) {
		push_one(srv, round);
		char *first = NULL;
		uint64_t t0 = eb_time_now_ms();
		for (int i = 0; i < N_FAN; i++) {
			/* a clock that moves between sockets: a per-socket
			 * encoding would differ in its timestamp */
			if (i)
				usleep(2000);
			char *t = next_text(s[i]);
			bool in_pass = eb_time_now_ms() - t0 < 20;
			ck_assert_msg(t != NULL, "subscriber %d told of commit %d", i, round);
			eb_ws_server_msg *m = NULL;
			ck_assert_int_eq(eb_ws_server_msg_parse(t, strlen(t), &m, NULL), EB_OK);
			ck_assert_int_eq(m->type, EB_WS_S_STORE_CHANGED);
			/* WS-NOTIF-3: the store's version when sent, the commit's */
			ck_assert_uint_eq(m->version, (uint64_t)round);
			eb_ws_server_msg_free(m);
			if (!first)
				first = t;
			else {
				/* one encoding for the pass: the same bytes, the
				 * same timestamp, for every subscriber served within
				 * ebmock's 20 ms (past it, on a stalled machine, a
				 * new encoding is right and nothing is judged) */
				if (in_pass)
					ck_assert_str_eq(t, first);
				free(t);
			}
			ck_assert_ptr_null(next_text(s[i]));
		}
		free(first);
	}
	for (int i = 0; i < N_FAN; i++)
		ebm_ws_free(s[i]);
	ebm_server_free(srv);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("ebm_ws");
	TCase *t = tcase_create("shutdown");
	tcase_add_test(t, test_shutdown_closes_every_session_with_1001_a_bounded_number_at_a_time);
	tcase_add_test(t, test_shutdown_of_no_sessions_has_nothing_waiting);
	suite_add_tcase(su, t);
	TCase *b = tcase_create("bounds");
	tcase_add_test(b, test_replies_at_the_bound_pause_reads_that_resume_as_they_drain_WS_CLOSE_4);
	tcase_add_test(b, test_replies_that_stay_at_the_bound_drop_the_socket_after_ws_stall_ms_WS_CLOSE_4);
	tcase_add_test(b, test_the_memory_budget_takes_up_to_its_size_and_pauses_sockets_with_replies);
	suite_add_tcase(su, b);
	TCase *f = tcase_create("fanout");
	tcase_add_test(f, test_one_commit_sends_the_same_bytes_to_every_subscriber_WS_NOTIF_3);
	suite_add_tcase(su, f);
	SRunner *sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
