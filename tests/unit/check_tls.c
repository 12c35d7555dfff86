/*
 * check_tls.c — net/eb_tls against an in-thread OpenSSL server with the
 * certificates of tools/tls-ca.sh: the chain and the name (or address) are
 * verified, a certificate not trusted says --cacert and --insecure,
 * --insecure takes any, the handshake runs in non-blocking steps, bytes go
 * both ways, a plain server is told; eb_wsc over wss://; the TLS URL forms.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "eb_target.h"
#include "eb_tls.h"
#include "eb_wsc.h"

static char dir[] = "/tmp/check_tls.XXXXXX";
static char ca_pem[300], server_pem[300], server_key[300], other_pem[300], other_key[300];

/* ---- the in-thread server ------------------------------------------------- */

typedef enum srv_mode {
	SRV_ECHO,    /* TLS, echoes what it reads until the client closes or says "drop" */
	SRV_WS,      /* TLS, answers a WebSocket upgrade, sends "hello" */
	SRV_PLAIN    /* no TLS: answers like a plain HTTP server */
} srv_mode;

typedef struct srv {
	int lfd;
	int port;
	srv_mode mode;
	const char *cert, *key;
	pthread_t th;
} srv;

/* Sec-WebSocket-Accept for the key of the request in req. */
static void ws_accept(const char *req, char out[64])
{
	const char *k = strstr(req, "Sec-WebSocket-Key: ");
	char cat[128];
	unsigned char dg[SHA_DIGEST_LENGTH];
	size_t n;

	out[0] = '\0';
	if (!k)
		return;
	k += 19;
	n = strcspn(k, "\r");
	snprintf(cat, sizeof(cat), "%.*s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", (int)n, k);
	SHA1((const unsigned char *)cat, strlen(cat), dg);
	EVP_EncodeBlock((unsigned char *)out, dg, SHA_DIGEST_LENGTH);
}

static void srv_ws(SSL *ssl)
{
	char req[4096], acc[64], resp[512];
	static const unsigned char hello[] = { 0x81, 5, 'h', 'e', 'l', 'l', 'o' };
	int n = 0, r;

	while (n < (int)sizeof(req) - 1 && (r = SSL_read(ssl, req + n, (int)sizeof(req) - 1 - n)) > 0) {
		n += r;
		req[n] = '\0';
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	if (n <= 0)
		return;
	ws_accept(req, acc);
	/* the frame right behind the 101, in the same record */
	r = snprintf(resp, sizeof(resp), "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		     "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", acc);
	memcpy(resp + r, hello, sizeof(hello));
	SSL_write(ssl, resp, r + (int)sizeof(hello));
	/* until the client goes */
	while (SSL_read(ssl, req, sizeof(req)) > 0)
		;
}

static void *srv_main(void *arg)
{
	srv *s = arg;
	int fd = accept(s->lfd, NULL, NULL);
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	char buf[4096];
	int n;

	if (fd < 0)
		return NULL;
	if (s->mode == SRV_PLAIN) {
		static const char ans[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";

		n = (int)recv(fd, buf, sizeof(buf), 0);
		(void)n;
		n = (int)send(fd, ans, sizeof(ans) - 1, MSG_NOSIGNAL);
		(void)n;
		close(fd);
		return NULL;
	}
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx && SSL_CTX_use_certificate_chain_file(ctx, s->cert) == 1 &&
	    SSL_CTX_use_PrivateKey_file(ctx, s->key, SSL_FILETYPE_PEM) == 1)
		ssl = SSL_new(ctx);
	if (ssl) {
		SSL_set_fd(ssl, fd);
		if (SSL_accept(ssl) == 1) {
			if (s->mode == SRV_WS)
				srv_ws(ssl);
			else
				/* "drop": the TCP end without a close_notify */
				while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0 &&
				       !(n == 4 && memcmp(buf, "drop", 4) == 0))
					SSL_write(ssl, buf, n);
		}
		SSL_free(ssl);
	}
	SSL_CTX_free(ctx);
	ERR_clear_error();
	close(fd);
	return NULL;
}

static void srv_start(srv *s, srv_mode mode, const char *cert, const char *key)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);

	memset(s, 0, sizeof(*s));
	s->mode = mode;
	s->cert = cert;
	s->key = key;
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(s->lfd, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(s->lfd, 4), 0);
	ck_assert_int_eq(getsockname(s->lfd, (struct sockaddr *)&a, &al), 0);
	s->port = ntohs(a.sin_port);
	ck_assert_int_eq(pthread_create(&s->th, NULL, srv_main, s), 0);
}

static void srv_stop(srv *s)
{
	pthread_join(s->th, NULL);
	close(s->lfd);
}

/* A blocking TCP connection to 127.0.0.1:port. */
static int tcp_to(int port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* Handshake with host through ctx against a server with cert/key: the
 * result of eb_tls_handshake_wait; err and untrusted for the caller. */
static eb_rc handshake(eb_tls_ctx *ctx, const char *host, const char *cert, const char *key,
		       eb_err *err, bool *untrusted)
{
	srv s;
	eb_tls *t = NULL;
	int fd;
	eb_rc rc;

	srv_start(&s, SRV_ECHO, cert, key);
	fd = tcp_to(s.port);
	ck_assert_int_eq(eb_tls_new(ctx, fd, host, &t, err), EB_OK);
	rc = eb_tls_handshake_wait(t, 5000, err);
	*untrusted = eb_tls_untrusted(t);
	eb_tls_free(t);
	close(fd);   /* the server sees the end and returns */
	srv_stop(&s);
	return rc;
}

/* ---- contexts ------------------------------------------------------------- */

START_TEST(test_a_missing_cacert_is_an_argument_error_naming_the_file)
{
	eb_tls_opts o = { "/nonexistent/ca.pem", false };
	eb_tls_ctx *ctx = NULL;
	eb_err err;

	ck_assert_int_eq(eb_tls_ctx_new(&o, &ctx, &err), EB_ERR_ARG);
	ck_assert_ptr_null(ctx);
	ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/ca.pem"));
	ck_assert_ptr_nonnull(strstr(err.msg, "No such file"));
}
END_TEST

START_TEST(test_a_cacert_without_a_certificate_is_an_argument_error)
{
	eb_tls_opts o = { server_key, false };
	eb_tls_ctx *ctx = NULL;
	eb_err err;

	ck_assert_int_eq(eb_tls_ctx_new(&o, &ctx, &err), EB_ERR_ARG);
	ck_assert_ptr_null(ctx);
	ck_assert_ptr_nonnull(strstr(err.msg, "no PEM certificate"));
	eb_tls_ctx_free(NULL);
}
END_TEST

/* ---- verification --------------------------------------------------------- */

/* A client context from --cacert/--insecure; the test fails when it cannot
 * be made. */
static eb_tls_ctx *ctx_new(const char *cacert, bool insecure)
{
	eb_tls_opts o = { cacert, insecure };
	eb_tls_ctx *ctx = NULL;
	eb_err err;

	ck_assert_msg(eb_tls_ctx_new(&o, &ctx, &err) == EB_OK, "%s", err.msg);
	ck_assert(eb_tls_ctx_insecure(ctx) == insecure);
	return ctx;
}

/* The handshake with host against a server with cert/key succeeds and the
 * peer counts as trusted. */
static void expect_trusted(eb_tls_ctx *ctx, const char *host, const char *cert, const char *key)
{
	eb_err err;
	bool untrusted = true;

	ck_assert_msg(handshake(ctx, host, cert, key, &err, &untrusted) == EB_OK, "%s: %s", host,
		      err.msg);
	ck_assert(!untrusted);
}

/* The handshake fails as untrusted (EB_ERR_IO), its message holding each of
 * the NULL-terminated words. */
static void expect_untrusted(eb_tls_ctx *ctx, const char *host, const char *cert,
			     const char *key, const char *const *words)
{
	eb_err err;
	bool untrusted = false;

	ck_assert_int_eq(handshake(ctx, host, cert, key, &err, &untrusted), EB_ERR_IO);
	ck_assert_msg(untrusted, "%s: %s", host, err.msg);
	for (; words && *words; words++)
		ck_assert_msg(strstr(err.msg, *words) != NULL, "'%s' lacks '%s'", err.msg, *words);
}

START_TEST(test_the_signing_ca_verifies_the_name_and_the_address)
{
	eb_tls_ctx *ctx = ctx_new(ca_pem, false);

	expect_trusted(ctx, "localhost", server_pem, server_key);
	expect_trusted(ctx, "127.0.0.1", server_pem, server_key);
	eb_tls_ctx_free(ctx);
}
END_TEST

START_TEST(test_a_certificate_not_trusted_fails_naming_cacert_and_insecure)
{
	static const char *const hint[] = { "not trusted", "--cacert", "--insecure", NULL };
	/* the system's trust store does not know the throwaway CA */
	eb_tls_ctx *ctx = ctx_new(NULL, false);

	expect_untrusted(ctx, "localhost", server_pem, server_key, hint);
	eb_tls_ctx_free(ctx);
	/* a self-signed certificate the CA did not sign */
	ctx = ctx_new(ca_pem, false);
	expect_untrusted(ctx, "localhost", other_pem, other_key, NULL);
	eb_tls_ctx_free(ctx);
}
END_TEST

START_TEST(test_a_certificate_for_another_name_or_address_fails)
{
	static const char *const hint[] = { "--cacert", NULL };
	eb_tls_ctx *ctx = ctx_new(ca_pem, false);

	expect_untrusted(ctx, "example.invalid", server_pem, server_key, hint);
	expect_untrusted(ctx, "127.0.0.2", server_pem, server_key, NULL);
	eb_tls_ctx_free(ctx);
}
END_TEST

START_TEST(test_insecure_takes_any_certificate_and_name)
{
	eb_tls_ctx *ctx = ctx_new(NULL, true);

	expect_trusted(ctx, "example.invalid", other_pem, other_key);
	eb_tls_ctx_free(ctx);
}
END_TEST

/* ---- non-blocking steps and bytes ------------------------------------------- */

START_TEST(test_the_handshake_runs_in_nonblocking_steps_and_bytes_go_both_ways)
{
	eb_tls_ctx *ctx = ctx_new(ca_pem, false);
	eb_tls *t = NULL;
	eb_err err;
	srv s;
	int fd, steps = 0;
	eb_tls_io io;
	char buf[64], how[96];
	size_t put = 0, got = 0, have = 0;
	bool reset = false;

	srv_start(&s, SRV_ECHO, server_pem, server_key);
	fd = tcp_to(s.port);
	ck_assert_int_eq(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
	ck_assert_int_eq(eb_tls_new(ctx, fd, "127.0.0.1", &t, &err), EB_OK);
	/* the session keeps the context alive */
	eb_tls_ctx_free(ctx);
	/* the ClientHello goes out; the ServerHello cannot be there yet */
	io = eb_tls_handshake(t, &err);
	ck_assert_int_eq(io, EB_TLS_WANT_READ);
	ck_assert_int_eq(eb_tls_events(t), POLLIN);
	while (io == EB_TLS_WANT_READ || io == EB_TLS_WANT_WRITE) {
		struct pollfd pf = { fd, eb_tls_events(t), 0 };

		ck_assert_int_eq(poll(&pf, 1, 5000), 1);
		io = eb_tls_handshake(t, &err);
		ck_assert_int_lt(++steps, 100);
	}
	ck_assert_msg(io == EB_TLS_DONE, "handshake: %s", err.msg);
	ck_assert_ptr_nonnull(strstr(eb_tls_describe(t, how, sizeof(how)), "TLS"));
	/* nothing to read yet */
	ck_assert_int_eq(eb_tls_read(t, buf, sizeof(buf), &got, &reset, &err), EB_TLS_WANT_READ);
	ck_assert_int_eq(eb_tls_write(t, "ping over tls", 13, &put, &err), EB_TLS_DONE);
	ck_assert_uint_eq(put, 13);
	while (have < 13) {
		struct pollfd pf = { fd, eb_tls_events(t), 0 };

		ck_assert_int_eq(poll(&pf, 1, 5000), 1);
		io = eb_tls_read(t, buf + have, sizeof(buf) - have, &got, &reset, &err);
		ck_assert(io == EB_TLS_DONE || io == EB_TLS_WANT_READ);
		have += got;
	}
	ck_assert_int_eq(memcmp(buf, "ping over tls", 13), 0);
	ck_assert_uint_eq(eb_tls_pending(t), 0);
	/* a peer that ends TCP without close_notify has ended: CLOSED, not
	 * an error (as a ws:// peer's end) */
	ck_assert_int_eq(eb_tls_write(t, "drop", 4, &put, &err), EB_TLS_DONE);
	do {
		struct pollfd pf = { fd, eb_tls_events(t), 0 };

		ck_assert_int_eq(poll(&pf, 1, 5000), 1);
		io = eb_tls_read(t, buf, sizeof(buf), &got, &reset, &err);
	} while (io == EB_TLS_WANT_READ);
	ck_assert_msg(io == EB_TLS_CLOSED, "read at the end: %d %s", (int)io, err.msg);
	ck_assert(!reset);
	eb_tls_free(t);
	close(fd);
	srv_stop(&s);
}
END_TEST

START_TEST(test_a_server_without_tls_is_told)
{
	eb_tls_ctx *ctx = ctx_new(ca_pem, false);
	eb_tls *t = NULL;
	eb_err err;
	srv s;
	int fd;

	srv_start(&s, SRV_PLAIN, NULL, NULL);
	fd = tcp_to(s.port);
	ck_assert_int_eq(eb_tls_new(ctx, fd, "127.0.0.1", &t, &err), EB_OK);
	ck_assert_int_eq(eb_tls_handshake_wait(t, 5000, &err), EB_ERR_IO);
	ck_assert(!eb_tls_untrusted(t));
	ck_assert_msg(strstr(err.msg, "TLS") != NULL, "%s", err.msg);
	eb_tls_free(t);
	close(fd);
	srv_stop(&s);
	eb_tls_ctx_free(ctx);
}
END_TEST

/* ---- eb_wsc over TLS, URLs ---------------------------------------------------- */

/* The SRV_WS server's first frame, right behind its 101, arrives. */
static void expect_hello(eb_wsc *c)
{
	eb_wsc_msg m;
	eb_err err;

	ck_assert_msg(eb_wsc_recv(c, 5000, &m, &err) == EB_OK, "%s", err.msg);
	ck_assert_int_eq(m.ev, EB_WSC_TEXT);
	ck_assert_str_eq(m.data, "hello");
	eb_wsc_msg_clear(&m);
}

START_TEST(test_wsc_upgrades_over_wss_and_receives_the_frame_behind_the_101)
{
	eb_tls_ctx *ctx = ctx_new(ca_pem, false);
	eb_wsc *c = NULL;
	eb_err err;
	srv s;
	char url[64];
	int status = 0;

	srv_start(&s, SRV_WS, server_pem, server_key);
	snprintf(url, sizeof(url), "wss://127.0.0.1:%d", s.port);
	ck_assert_msg(eb_wsc_connect_tls(url, "/api/sync/notifications", ctx, 5000, NULL, 0, &c,
					 &status, &err) == EB_OK, "%s", err.msg);
	expect_hello(c);
	ck_assert_int_eq(eb_wsc_send_text(c, "hi", 2, &err), EB_OK);
	eb_wsc_free(c);
	srv_stop(&s);
	eb_tls_ctx_free(ctx);
}
END_TEST

START_TEST(test_wsc_nonblocking_connect_runs_the_tls_handshake_in_steps)
{
	eb_tls_ctx *ctx = ctx_new(ca_pem, false);
	eb_wsc *c = NULL;
	eb_err err;
	srv s;
	char url[64];
	int status = 0, steps = 0;
	bool done = false;

	srv_start(&s, SRV_WS, server_pem, server_key);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d", s.port);
	ck_assert_int_eq(eb_wsc_connect_start_tls(url, "/api/sync/notifications", ctx, NULL, 0, &c,
						  &err), EB_OK);
	eb_tls_ctx_free(ctx);
	while (!done) {
		struct pollfd pf = { eb_wsc_fd(c), eb_wsc_connect_events(c), 0 };

		ck_assert_int_eq(poll(&pf, 1, 5000), 1);
		ck_assert_msg(eb_wsc_connect_step(c, &done, &status, &err) == EB_OK, "%s", err.msg);
		ck_assert_int_lt(++steps, 100);
	}
	/* the handshake took more than one step */
	ck_assert_int_gt(steps, 1);
	expect_hello(c);
	eb_wsc_free(c);
	srv_stop(&s);
}
END_TEST

START_TEST(test_wsc_refuses_wss_without_a_context)
{
	eb_wsc *c = NULL;
	eb_err err;

	ck_assert_int_eq(eb_wsc_connect("wss://127.0.0.1:1", "/x", 100, NULL, 0, &c, NULL, &err),
			 EB_ERR_ARG);
	ck_assert_ptr_nonnull(strstr(err.msg, "eb_wsc_connect_tls"));
	ck_assert_int_eq(eb_wsc_connect_start("https://127.0.0.1:1", "/x", NULL, 0, &c, &err),
			 EB_ERR_ARG);
}
END_TEST

START_TEST(test_tls_urls_default_to_443_and_keep_their_scheme)
{
	eb_url u;
	eb_err err;

	ck_assert_int_eq(eb_url_parse("https://api.example.com/sync/", &u, &err), EB_OK);
	ck_assert(u.tls);
	ck_assert_int_eq(u.port, 443);
	ck_assert_str_eq(u.http, "https://api.example.com:443/sync");
	ck_assert_str_eq(u.ws, "wss://api.example.com:443/sync");
	ck_assert_int_eq(eb_url_parse("WSS://[::1]:8443", &u, &err), EB_OK);
	ck_assert(u.tls);
	ck_assert_int_eq(u.port, 8443);
	ck_assert_str_eq(u.http, "https://[::1]:8443");
	ck_assert_int_eq(eb_url_parse("ws://h", &u, &err), EB_OK);
	ck_assert(!u.tls);
	ck_assert_int_eq(u.port, 80);
}
END_TEST

/* The certificates, from the script the TLS tests share. */
static int make_certs(void)
{
	const char *root = getenv("EB_ROOT");
	char cmd[1024];

	if (!mkdtemp(dir))
		return -1;
	snprintf(cmd, sizeof(cmd), "sh '%s/tools/tls-ca.sh' '%s' >/dev/null 2>&1",
		 root && *root ? root : ".", dir);
	if (system(cmd) != 0)
		return -1;
	snprintf(ca_pem, sizeof(ca_pem), "%s/ca.pem", dir);
	snprintf(server_pem, sizeof(server_pem), "%s/server.pem", dir);
	snprintf(server_key, sizeof(server_key), "%s/server.key", dir);
	snprintf(other_pem, sizeof(other_pem), "%s/other.pem", dir);
	snprintf(other_key, sizeof(other_key), "%s/other.key", dir);
	return 0;
}

int main(void)
{
	Suite *s = suite_create("tls");
	TCase *tc = tcase_create("tls");
	SRunner *sr;
	int failed;
	char cmd[400];

	/* the server threads write to clients that may have gone */
	signal(SIGPIPE, SIG_IGN);
	if (make_certs() != 0) {
		fprintf(stderr, "check_tls: tools/tls-ca.sh failed (openssl missing? run from the "
			"source root or set EB_ROOT)\n");
		return EXIT_FAILURE;
	}
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_a_missing_cacert_is_an_argument_error_naming_the_file);
	tcase_add_test(tc, test_a_cacert_without_a_certificate_is_an_argument_error);
	tcase_add_test(tc, test_the_signing_ca_verifies_the_name_and_the_address);
	tcase_add_test(tc, test_a_certificate_not_trusted_fails_naming_cacert_and_insecure);
	tcase_add_test(tc, test_a_certificate_for_another_name_or_address_fails);
	tcase_add_test(tc, test_insecure_takes_any_certificate_and_name);
	tcase_add_test(tc, test_the_handshake_runs_in_nonblocking_steps_and_bytes_go_both_ways);
	tcase_add_test(tc, test_a_server_without_tls_is_told);
	tcase_add_test(tc, test_wsc_upgrades_over_wss_and_receives_the_frame_behind_the_101);
	tcase_add_test(tc, test_wsc_nonblocking_connect_runs_the_tls_handshake_in_steps);
	tcase_add_test(tc, test_wsc_refuses_wss_without_a_context);
	tcase_add_test(tc, test_tls_urls_default_to_443_and_keep_their_scheme);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		failed++;
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
