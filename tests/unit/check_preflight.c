/*
 * check_preflight.c — the preflight's verdict from what the server answered:
 * a consistent refusal stops the run with a hint naming the likely flag; an
 * inconsistent one (HTTP and socket disagree) runs, so that the case that
 * checks it fails; a certificate the program does not trust, or a https://
 * port without TLS, is a setup error naming the flags; exit codes of each
 * verdict. The requests themselves are
 * exercised against ebmock by tests/scripts/preflight.sh.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "eb_http.h"
#include "eb_preflight.h"
#include "eb_target.h"

static void target(eb_target *t, bool no_auth, const char *secret)
{
	eb_err e;

	eb_target_init(t, EB_TF_URL | EB_TF_JWT | EB_TF_NO_AUTH);
	ck_assert_int_eq(eb_url_parse("http://127.0.0.1:8080", &t->url, &e), EB_OK);
	t->has_url = true;
	t->url_text = "http://127.0.0.1:8080";
	t->no_auth = no_auth;
	t->secret = secret;
}

static void seen(eb_preflight *p, const char *http, const char *ws)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->seen_http, sizeof(p->seen_http), "%s", http);
	snprintf(p->seen_ws, sizeof(p->seen_ws), "%s", ws);
}

START_TEST(test_refused_on_both_is_a_setup_error_quoting_the_server)
{
	eb_target t;
	eb_preflight p;

	target(&t, false, "s");
	seen(&p, "GET /x answered 401 \"{\"code\":\"UNAUTHORIZED\",\"message\":\"token refused "
	     "(AUTH-2): signature does not verify\"}\"", "the socket was closed with 4401");
	p.http_refused = p.ws_refused = true;
	ck_assert_int_eq(eb_preflight_judge(&t, "prog", &p), EB_PF_REFUSED);
	ck_assert_int_eq(eb_preflight_exit(p.verdict), EB_EXIT_USAGE);
	ck_assert_ptr_nonnull(strstr(p.message, "signature does not verify"));
	ck_assert_ptr_nonnull(strstr(p.message, "closed with 4401"));
	ck_assert_ptr_nonnull(strstr(p.message, "check --jwt-secret"));
	ck_assert_ptr_nonnull(strstr(p.message, "Nothing was run"));
	ck_assert_ptr_null(strchr(p.message, '\n'));
}
END_TEST

START_TEST(test_refused_over_http_with_a_silent_socket_is_a_setup_error)
{
	eb_target t;
	eb_preflight p;

	target(&t, false, "s");
	seen(&p, "GET /x answered 401 \"token refused (AUTH-6): iss is not the configured issuer\"",
	     "no answer on the socket within the timeout");
	p.http_refused = true;
	ck_assert_int_eq(eb_preflight_judge(&t, "prog", &p), EB_PF_REFUSED);
	ck_assert_ptr_nonnull(strstr(p.message, "check --jwt-issuer/--jwt-audience"));
}
END_TEST

START_TEST(test_the_hint_names_the_flag_the_server_points_at)
{
	static const struct { bool no_auth; const char *secret, *body, *flag; } rows[] = {
		{ false, "s", "\"signature does not verify\"", "check --jwt-secret" },
		{ false, NULL, "\"signature does not verify\"", "check --jwt-private-key" },
		{ false, "s", "\"aud does not name the configured audience\"", "--jwt-issuer/--jwt-audience" },
		{ false, "s", "\"token expired (AUTH-4)\"", "--jwt-leeway" },
		{ true, NULL, "\"missing bearer token\"", "check --no-auth" },
		{ false, "s", "\"missing signature, expected a JWT\"", "check --jwt-secret" },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		eb_target t;
		eb_preflight p;
		char http[200];

		target(&t, rows[i].no_auth, rows[i].secret);
		/* the store id in the path must not steer the hint */
		snprintf(http, sizeof(http), "GET /api/stores/issaudexp/changes answered 401 %s",
			 rows[i].body);
		seen(&p, http, "the socket was closed with 4401");
		p.http_refused = p.ws_refused = true;
		ck_assert_int_eq(eb_preflight_judge(&t, "prog", &p), EB_PF_REFUSED);
		ck_assert_msg(strstr(p.message, rows[i].flag) != NULL, "row %zu: %s", i, p.message);
	}
}
END_TEST

START_TEST(test_http_and_socket_disagreeing_runs_so_a_case_fails)
{
	eb_target t;
	eb_preflight p;

	target(&t, false, "s");
	seen(&p, "GET /x answered 200", "the socket was closed with 4401");
	p.http_ok = p.ws_refused = true;
	ck_assert_int_eq(eb_preflight_judge(&t, "prog", &p), EB_PF_INCONSISTENT);
	ck_assert_int_eq(eb_preflight_exit(p.verdict), EB_EXIT_OK);
	ck_assert_ptr_nonnull(strstr(p.message, "takes the token on HTTP but refuses it on the socket"));

	seen(&p, "GET /x answered 401 \"UNAUTHORIZED\"", "the socket answered auth_ok");
	p.http_refused = p.ws_ok = true;
	ck_assert_int_eq(eb_preflight_judge(&t, "prog", &p), EB_PF_INCONSISTENT);
	ck_assert_int_eq(eb_preflight_exit(p.verdict), EB_EXIT_OK);
	ck_assert_ptr_nonnull(strstr(p.message, "on the socket but refuses it on HTTP"));
}
END_TEST

START_TEST(test_accepted_or_undecided_runs)
{
	eb_target t;
	eb_preflight p;

	target(&t, false, "s");
	seen(&p, "GET /x answered 200", "the socket answered auth_ok");
	p.http_ok = p.ws_ok = true;
	ck_assert_int_eq(eb_preflight_judge(&t, "prog", &p), EB_PF_OK);
	/* a socket that does not answer is for the cases to judge */
	seen(&p, "GET /x answered 200", "no answer on the socket within the timeout");
	p.http_ok = true;
	ck_assert_int_eq(eb_preflight_judge(&t, "prog", &p), EB_PF_OK);
	/* a 500 on the read is a server bug, not a setup error */
	seen(&p, "GET /x answered 500", "the socket answered auth_ok");
	p.ws_ok = true;
	ck_assert_int_eq(eb_preflight_judge(&t, "prog", &p), EB_PF_OK);
}
END_TEST

START_TEST(test_exit_codes_of_each_verdict)
{
	ck_assert_int_eq(eb_preflight_exit(EB_PF_OK), 0);
	ck_assert_int_eq(eb_preflight_exit(EB_PF_INCONSISTENT), 0);
	ck_assert_int_eq(eb_preflight_exit(EB_PF_REFUSED), 2);
	ck_assert_int_eq(eb_preflight_exit(EB_PF_NOT_EB), 2);
	ck_assert_int_eq(eb_preflight_exit(EB_PF_UNREACHABLE), 3);
}
END_TEST

START_TEST(test_nothing_listening_is_unreachable)
{
	eb_target t;
	eb_preflight p;
	eb_err e;

	target(&t, false, "s");
	/* port 1 on loopback: refused at once */
	ck_assert_int_eq(eb_url_parse("http://127.0.0.1:1", &t.url, &e), EB_OK);
	t.url_text = "http://127.0.0.1:1";
	t.timeout_ms = 1000;
	ck_assert_int_eq(eb_preflight_run(&t, "prog", "tok", "s1", &p), EB_PF_UNREACHABLE);
	ck_assert_int_eq(eb_preflight_exit(p.verdict), EB_EXIT_UNREACHABLE);
	ck_assert_ptr_nonnull(strstr(p.message, "unreachable"));
}
END_TEST

static double ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) * 1000.0 +
	       (double)(now.tv_nsec - t0->tv_nsec) / 1e6;
}

/* true 300 ms after *arg: a signal's flag, set while the preflight waits */
static bool stop_after_300ms(void *arg)
{
	return ms_since(arg) >= 300.0;
}

START_TEST(test_the_stop_hook_ends_the_preflight_against_a_silent_server)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	char url[64];
	struct timespec t0;
	eb_target t;
	eb_preflight p;
	eb_err e;
	/* listening, never accepting: connections complete in the backlog and
	 * no byte ever comes back */
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(fd, 16), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)ntohs(a.sin_port));
	target(&t, false, "s");
	ck_assert_int_eq(eb_url_parse(url, &t.url, &e), EB_OK);
	t.url_text = url;
	t.timeout_ms = 20000;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	t.stop = stop_after_300ms;
	t.stop_arg = &t0;
	ck_assert_int_ne(eb_preflight_run(&t, "prog", "tok", "s1", &p), EB_PF_OK);
	/* curl polls the hook at least once a second without a signal; the
	 * socket waits in 50 ms slices; slack for a loaded machine (each of
	 * the three waits would take 20 s without the hook) */
	ck_assert(ms_since(&t0) < 5000.0);
	close(fd);
}
END_TEST

START_TEST(test_an_untrusted_certificate_is_a_setup_error_naming_cacert_and_insecure)
{
	eb_target t;
	eb_err e;
	char msg[2048];

	target(&t, false, "s");
	ck_assert_int_eq(eb_url_parse("https://127.0.0.1:8443", &t.url, &e), EB_OK);
	t.url_text = "https://127.0.0.1:8443";
	ck_assert(eb_preflight_tls_hint(&t, "prog", EB_HTTP_UNTRUSTED,
					"SSL certificate problem: self-signed certificate", msg,
					sizeof(msg)));
	ck_assert_ptr_nonnull(strstr(msg, "prog: the server at https://127.0.0.1:8443"));
	ck_assert_ptr_nonnull(strstr(msg, "self-signed certificate"));
	ck_assert_ptr_nonnull(strstr(msg, "--cacert FILE"));
	ck_assert_ptr_nonnull(strstr(msg, "--insecure"));
	ck_assert_ptr_nonnull(strstr(msg, "Nothing was run."));
	/* https:// to a port that answers without TLS */
	ck_assert(eb_preflight_tls_hint(&t, "prog", 35, "error:0A00010B:SSL routines::wrong "
					"version number", msg, sizeof(msg)));
	ck_assert_ptr_nonnull(strstr(msg, "does not speak TLS"));
	ck_assert_ptr_nonnull(strstr(msg, "http://"));
	/* other transport errors are not TLS setup mistakes */
	ck_assert(!eb_preflight_tls_hint(&t, "prog", 7, "Connection refused", msg, sizeof(msg)));
	ck_assert(!eb_preflight_tls_hint(&t, "prog", 0, "", msg, sizeof(msg)));
	ck_assert_int_eq(eb_preflight_exit(EB_PF_TLS), EB_EXIT_USAGE);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("preflight");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_refused_on_both_is_a_setup_error_quoting_the_server);
	tcase_add_test(tc, test_refused_over_http_with_a_silent_socket_is_a_setup_error);
	tcase_add_test(tc, test_the_hint_names_the_flag_the_server_points_at);
	tcase_add_test(tc, test_http_and_socket_disagreeing_runs_so_a_case_fails);
	tcase_add_test(tc, test_accepted_or_undecided_runs);
	tcase_add_test(tc, test_exit_codes_of_each_verdict);
	tcase_add_test(tc, test_nothing_listening_is_unreachable);
	tcase_add_test(tc, test_the_stop_hook_ends_the_preflight_against_a_silent_server);
	tcase_add_test(tc, test_an_untrusted_certificate_is_a_setup_error_naming_cacert_and_insecure);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
