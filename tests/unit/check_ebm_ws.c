/*
 * check_ebm_ws.c — ebmock's socket-free WebSocket session core: the paced
 * shutdown (WS-CLOSE-1, every session closed with 1001, a bounded number of
 * close handshakes at a time).
 */
#include <check.h>
#include <stdlib.h>

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

int main(void)
{
	Suite *su = suite_create("ebm_ws");
	TCase *t = tcase_create("shutdown");
	tcase_add_test(t, test_shutdown_closes_every_session_with_1001_a_bounded_number_at_a_time);
	tcase_add_test(t, test_shutdown_of_no_sessions_has_nothing_waiting);
	suite_add_tcase(su, t);
	SRunner *sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
