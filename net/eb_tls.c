/*
 * eb_tls.c — OpenSSL client contexts and sessions over a caller's socket
 * (see eb_tls.h).
 *
 * The socket is reached through a small BIO of our own rather than
 * OpenSSL's socket BIO: that one writes with write(2), which raises SIGPIPE
 * on a closed connection, and the harness must see a dead peer as an error,
 * not die of it. The BIO also keeps the errno of the last socket call, so a
 * reset is told from an orderly end.
 */
#include "eb_tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "eb_time.h"

struct eb_tls_ctx {
	SSL_CTX *ssl;
	BIO_METHOD *bio;     /* the socket BIO of this file */
	bool insecure;
	int refs;            /* the caller's and one per session (atomic) */
};

struct eb_tls {
	eb_tls_ctx *ctx;     /* one reference */
	SSL *ssl;
	int fd;
	int last_errno;      /* of the last socket call of the BIO */
	short want;          /* POLLIN or POLLOUT */
	bool untrusted;
};

/* ---- the socket BIO ------------------------------------------------------- */

static int tls_bio_write(BIO *b, const char *buf, int len)
{
	eb_tls *t = BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	do
		n = send(t->fd, buf, (size_t)len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n >= 0)
		return (int)n;
	t->last_errno = errno;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		BIO_set_retry_write(b);
	return -1;
}

static int tls_bio_read(BIO *b, char *buf, int len)
{
	eb_tls *t = BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	do
		n = recv(t->fd, buf, (size_t)len, 0);
	while (n < 0 && errno == EINTR);
	if (n >= 0) {
		if (n == 0)
			t->last_errno = 0;
		return (int)n;
	}
	t->last_errno = errno;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		BIO_set_retry_read(b);
	return -1;
}

static int tls_bio_puts(BIO *b, const char *s)
{
	return tls_bio_write(b, s, (int)strlen(s));
}

static long tls_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	/* nothing is buffered here: a flush has nothing to do */
	return cmd == BIO_CTRL_FLUSH || cmd == BIO_CTRL_DUP ? 1 : 0;
}

static int tls_bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

/* ---- contexts ------------------------------------------------------------- */

/* The first OpenSSL error in the queue as text, or fallback. */
static const char *tls_ssl_error(char *buf, size_t len, const char *fallback)
{
	unsigned long e = ERR_peek_last_error();

	if (e == 0) {
		snprintf(buf, len, "%s", fallback);
		return buf;
	}
	ERR_error_string_n(e, buf, len);
	return buf;
}

eb_rc eb_tls_ctx_new(const eb_tls_opts *o, eb_tls_ctx **out, eb_err *err)
{
	eb_tls_opts none = { NULL, false };
	eb_tls_ctx *c = NULL;
	eb_rc rc = EB_OK;
	char why[200];
	FILE *f;

	*out = NULL;
	if (!o)
		o = &none;
	ERR_clear_error();
	c = calloc(1, sizeof(*c));
	if (!c)
		return eb_err_set(err, EB_ERR_NOMEM, NULL, NULL, NULL, -1, "out of memory");
	c->refs = 1;
	c->insecure = o->insecure;
	c->ssl = SSL_CTX_new(TLS_client_method());
	c->bio = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "eb_tls socket");
	if (!c->ssl || !c->bio) {
		rc = eb_err_set(err, EB_ERR_IO, NULL, NULL, NULL, -1, "TLS: %s",
				tls_ssl_error(why, sizeof(why), "cannot create a client context"));
		goto out;
	}
	BIO_meth_set_write(c->bio, tls_bio_write);
	BIO_meth_set_read(c->bio, tls_bio_read);
	BIO_meth_set_puts(c->bio, tls_bio_puts);
	BIO_meth_set_ctrl(c->bio, tls_bio_ctrl);
	BIO_meth_set_create(c->bio, tls_bio_create);
	SSL_CTX_set_min_proto_version(c->ssl, TLS1_2_VERSION);
	/* send()-like writes: partial, and retried from another buffer; the
	 * record buffers (about 34 KB) freed while a connection is idle, as a
	 * load generator's held connections mostly are */
	SSL_CTX_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
			 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	/* a peer that closes TCP without close_notify has ended, as with ws:// */
	SSL_CTX_set_options(c->ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_verify(c->ssl, o->insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
	if (o->cacert) {
		/* fopen first: its errno names the problem better than OpenSSL */
		f = fopen(o->cacert, "r");
		if (!f) {
			rc = eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1, "%.150s: %s",
					o->cacert, strerror(errno));
			goto out;
		}
		fclose(f);
		if (SSL_CTX_load_verify_locations(c->ssl, o->cacert, NULL) != 1) {
			rc = eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1,
					"%.150s: no PEM certificate in it (%.60s)", o->cacert,
					tls_ssl_error(why, sizeof(why), "unreadable"));
			goto out;
		}
	} else if (SSL_CTX_set_default_verify_paths(c->ssl) != 1) {
		rc = eb_err_set(err, EB_ERR_IO, NULL, NULL, NULL, -1,
				"TLS: cannot load the system trust store: %s",
				tls_ssl_error(why, sizeof(why), "unknown error"));
		goto out;
	}
out:
	ERR_clear_error();
	if (rc != EB_OK) {
		eb_tls_ctx_free(c);
		return rc;
	}
	*out = c;
	return EB_OK;
}

void eb_tls_ctx_free(eb_tls_ctx *ctx)
{
	if (!ctx || __atomic_sub_fetch(&ctx->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	SSL_CTX_free(ctx->ssl);
	BIO_meth_free(ctx->bio);
	free(ctx);
}

bool eb_tls_ctx_insecure(const eb_tls_ctx *ctx)
{
	return ctx && ctx->insecure;
}

/* ---- sessions ------------------------------------------------------------- */

static bool tls_is_ip(const char *host)
{
	unsigned char a[16];

	return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

eb_rc eb_tls_new(eb_tls_ctx *ctx, int fd, const char *host, eb_tls **out, eb_err *err)
{
	eb_tls *t;
	BIO *b = NULL;
	char why[200];
	bool ok;

	*out = NULL;
	if (!ctx || fd < 0 || !host || !*host)
		return eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1, "eb_tls_new: bad arguments");
	ERR_clear_error();
	t = calloc(1, sizeof(*t));
	if (!t)
		return eb_err_set(err, EB_ERR_NOMEM, NULL, NULL, NULL, -1, "out of memory");
	t->fd = fd;
	t->want = POLLIN;
	t->ctx = ctx;
	__atomic_add_fetch(&ctx->refs, 1, __ATOMIC_ACQ_REL);
	t->ssl = SSL_new(ctx->ssl);
	b = t->ssl ? BIO_new(ctx->bio) : NULL;
	ok = b != NULL;
	if (ok) {
		BIO_set_data(b, t);
		SSL_set_bio(t->ssl, b, b);
		SSL_set_connect_state(t->ssl);
		if (tls_is_ip(host)) {
			/* no SNI for an address (RFC 6066 3) */
			if (!ctx->insecure)
				ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), host) == 1;
		} else {
			ok = SSL_set_tlsext_host_name(t->ssl, host) == 1;
			if (ok && !ctx->insecure)
				ok = SSL_set1_host(t->ssl, host) == 1;
		}
	}
	if (!ok) {
		eb_err_set(err, EB_ERR_IO, NULL, NULL, NULL, -1, "TLS: %s",
			   tls_ssl_error(why, sizeof(why), "cannot start a session"));
		ERR_clear_error();
		eb_tls_free(t);
		return EB_ERR_IO;
	}
	*out = t;
	return EB_OK;
}

void eb_tls_free(eb_tls *t)
{
	if (!t)
		return;
	SSL_free(t->ssl);
	eb_tls_ctx_free(t->ctx);
	free(t);
}

/* What an SSL call that returned r <= 0 means. */
static eb_tls_io tls_result(eb_tls *t, int r, const char *what, bool *reset, eb_err *err)
{
	int e = SSL_get_error(t->ssl, r);
	char why[200];

	switch (e) {
	case SSL_ERROR_WANT_READ:
		t->want = POLLIN;
		return EB_TLS_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		t->want = POLLOUT;
		return EB_TLS_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		return EB_TLS_CLOSED;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0) {
			if (t->last_errno == ECONNRESET || t->last_errno == EPIPE) {
				if (reset)
					*reset = true;
				return EB_TLS_CLOSED;
			}
			if (t->last_errno == 0)
				return EB_TLS_CLOSED;
			eb_err_set(err, EB_ERR_IO, NULL, NULL, NULL, -1, "TLS %s: %s", what,
				   strerror(t->last_errno));
			ERR_clear_error();
			return EB_TLS_ERROR;
		}
		break;
	default:
		break;
	}
	eb_err_set(err, EB_ERR_IO, NULL, NULL, NULL, -1, "TLS %s: %s", what,
		   tls_ssl_error(why, sizeof(why), "error"));
	ERR_clear_error();
	return EB_TLS_ERROR;
}

eb_tls_io eb_tls_handshake(eb_tls *t, eb_err *err)
{
	int r;
	long v;
	eb_tls_io io;
	bool reset = false;

	ERR_clear_error();
	t->last_errno = 0;
	r = SSL_connect(t->ssl);
	if (r == 1)
		return EB_TLS_DONE;
	v = SSL_get_verify_result(t->ssl);
	/* --insecure records the verdict but never fails on it */
	if (v != X509_V_OK && !t->ctx->insecure && SSL_get_error(t->ssl, r) == SSL_ERROR_SSL) {
		t->untrusted = true;
		eb_err_set(err, EB_ERR_IO, NULL, NULL, NULL, -1,
			   "TLS: the server's certificate is not trusted (%.80s): " EB_TLS_TRUST_HINT,
			   X509_verify_cert_error_string(v));
		ERR_clear_error();
		return EB_TLS_ERROR;
	}
	io = tls_result(t, r, "handshake", &reset, err);
	if (io == EB_TLS_CLOSED) {
		eb_err_set(err, EB_ERR_IO, NULL, NULL, NULL, -1,
			   "connection %s during the TLS handshake (does the server speak TLS "
			   "on this port?)", reset ? "reset" : "closed");
		return EB_TLS_ERROR;
	}
	if (io == EB_TLS_ERROR && err && strstr(err->msg, "wrong version number"))
		eb_err_set(err, EB_ERR_IO, NULL, NULL, NULL, -1,
			   "TLS handshake: the server does not speak TLS on this port "
			   "(use http:// or ws://)");
	return io;
}

eb_rc eb_tls_handshake_wait(eb_tls *t, long timeout_ms, eb_err *err)
{
	uint64_t deadline = eb_time_mono_ns() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000u;
	int fl = fcntl(t->fd, F_GETFL);
	eb_rc rc = EB_ERR_IO;

	if (fl >= 0 && !(fl & O_NONBLOCK))
		fcntl(t->fd, F_SETFL, fl | O_NONBLOCK);
	for (;;) {
		eb_tls_io io = eb_tls_handshake(t, err);
		uint64_t now;
		struct pollfd pf;
		int pr;

		if (io == EB_TLS_DONE) {
			rc = EB_OK;
			break;
		}
		if (io == EB_TLS_ERROR)
			break;
		now = eb_time_mono_ns();
		if (now >= deadline) {
			eb_err_set(err, EB_ERR_IO, NULL, NULL, NULL, -1,
				   "TLS handshake: no answer within %ld ms", timeout_ms);
			break;
		}
		pf.fd = t->fd;
		pf.events = t->want;
		pf.revents = 0;
		pr = poll(&pf, 1, (int)((deadline - now + 999999u) / 1000000u));
		if (pr < 0 && errno != EINTR) {
			eb_err_set(err, EB_ERR_IO, NULL, NULL, NULL, -1, "poll: %s", strerror(errno));
			break;
		}
	}
	if (fl >= 0 && !(fl & O_NONBLOCK))
		fcntl(t->fd, F_SETFL, fl);
	return rc;
}

bool eb_tls_untrusted(const eb_tls *t)
{
	return t && t->untrusted;
}

eb_tls_io eb_tls_read(eb_tls *t, void *buf, size_t len, size_t *got, bool *reset,
		      eb_err *err)
{
	int r;

	*got = 0;
	if (reset)
		*reset = false;
	ERR_clear_error();
	t->last_errno = 0;
	r = SSL_read(t->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
	if (r > 0) {
		*got = (size_t)r;
		return EB_TLS_DONE;
	}
	return tls_result(t, r, "read", reset, err);
}

eb_tls_io eb_tls_write(eb_tls *t, const void *buf, size_t len, size_t *put, eb_err *err)
{
	int r;

	*put = 0;
	if (len == 0)
		return EB_TLS_DONE;
	ERR_clear_error();
	t->last_errno = 0;
	r = SSL_write(t->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
	if (r > 0) {
		*put = (size_t)r;
		return EB_TLS_DONE;
	}
	return tls_result(t, r, "write", NULL, err);
}

ssize_t eb_tls_send(eb_tls *t, const void *buf, size_t len)
{
	size_t put = 0;
	eb_err e;

	switch (eb_tls_write(t, buf, len, &put, &e)) {
	case EB_TLS_DONE:
		return (ssize_t)put;
	case EB_TLS_WANT_READ:
	case EB_TLS_WANT_WRITE:
		errno = EAGAIN;
		return -1;
	case EB_TLS_CLOSED:
		errno = EPIPE;
		return -1;
	case EB_TLS_ERROR:
		break;
	}
	errno = EPROTO;
	return -1;
}

ssize_t eb_tls_recv(eb_tls *t, void *buf, size_t len)
{
	size_t got = 0;
	bool reset = false;
	eb_err e;

	switch (eb_tls_read(t, buf, len, &got, &reset, &e)) {
	case EB_TLS_DONE:
		return (ssize_t)got;
	case EB_TLS_WANT_READ:
	case EB_TLS_WANT_WRITE:
		errno = EAGAIN;
		return -1;
	case EB_TLS_CLOSED:
		if (!reset)
			return 0;
		errno = ECONNRESET;
		return -1;
	case EB_TLS_ERROR:
		break;
	}
	errno = EPROTO;
	return -1;
}

size_t eb_tls_pending(const eb_tls *t)
{
	int n = t ? SSL_pending(t->ssl) : 0;

	return n > 0 ? (size_t)n : 0;
}

short eb_tls_events(const eb_tls *t)
{
	return t ? t->want : POLLIN;
}

const char *eb_tls_describe(const eb_tls *t, char *buf, size_t len)
{
	snprintf(buf, len, "%s %s", SSL_get_version(t->ssl), SSL_get_cipher_name(t->ssl));
	return buf;
}
