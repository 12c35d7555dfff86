/*
 * eb_tls.h — TLS (OpenSSL) under the kit's own sockets: one client context
 * per program made from the TLS flags (--cacert FILE, --insecure), and one
 * session per connection with non-blocking steps, so that a blocking caller
 * (eb_wsc's connect, ebfuzz's raw TCP) and an event loop (ebclient, an epoll
 * load generator) drive it alike: every call does what it can without
 * waiting and says which readiness of the socket it needs next.
 *
 * Verification: the peer's chain against the system trust store, or only
 * against the certificates of --cacert; the host name (or IP address) of
 * the URL against the certificate; SNI sent for names. --insecure skips
 * the chain and name checks (never the handshake itself).
 */
#ifndef EB_TLS_H
#define EB_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "eb_error.h"

typedef struct eb_tls_opts {
	const char *cacert;  /* PEM file of the CAs to trust instead of the system's; NULL */
	bool insecure;       /* verify neither the chain nor the name */
} eb_tls_opts;

/* The hint every program prints for a certificate it does not trust. */
#define EB_TLS_TRUST_HINT "give --cacert FILE (the CA that signed it) or --insecure"

typedef struct eb_tls_ctx eb_tls_ctx;   /* shared by threads; reference counted */
typedef struct eb_tls eb_tls;           /* one connection; one thread at a time */

/* Makes a client context (TLS 1.2 or later) from o (NULL: defaults). A
 * --cacert that cannot be read or holds no certificate is EB_ERR_ARG with
 * err->msg naming the file; EB_ERR_NOMEM, or EB_ERR_IO when OpenSSL fails.
 * Free with eb_tls_ctx_free; sessions keep it alive until they are freed. */
eb_rc eb_tls_ctx_new(const eb_tls_opts *o, eb_tls_ctx **out, eb_err *err);

/* Drops the caller's reference. NULL no-op. */
void eb_tls_ctx_free(eb_tls_ctx *ctx);

/* true when ctx verifies nothing (--insecure). */
bool eb_tls_ctx_insecure(const eb_tls_ctx *ctx);

/* Starts a client session on the connected socket fd (borrowed: the caller
 * closes it after eb_tls_free) for host (a name, or an IPv4/IPv6 literal
 * without brackets): SNI for a name, the name or address checked against
 * the certificate unless insecure. Writes never raise SIGPIPE. EB_OK,
 * EB_ERR_NOMEM or EB_ERR_IO. */
eb_rc eb_tls_new(eb_tls_ctx *ctx, int fd, const char *host, eb_tls **out, eb_err *err);

/* Frees the session without a close_notify (the caller closes the socket).
 * NULL no-op. */
void eb_tls_free(eb_tls *t);

/* What a step of a session needs or did. */
typedef enum eb_tls_io {
	EB_TLS_DONE = 0,     /* handshake finished / bytes moved */
	EB_TLS_WANT_READ,    /* call again when the socket is readable */
	EB_TLS_WANT_WRITE,   /* call again when the socket is writable */
	EB_TLS_CLOSED,       /* the peer closed (close_notify or TCP end) */
	EB_TLS_ERROR         /* failed; err says why */
} eb_tls_io;

/* One step of the client handshake. DONE, WANT_READ/WANT_WRITE, or ERROR
 * with err->msg (for a certificate that fails verification it says why and
 * ends with EB_TLS_TRUST_HINT; eb_tls_untrusted is then true). CLOSED is
 * reported as ERROR ("closed during the TLS handshake"). */
eb_tls_io eb_tls_handshake(eb_tls *t, eb_err *err);

/* The whole handshake within timeout_ms, polling the socket (which may be
 * blocking or not: it is non-blocking while this runs). EB_OK, or EB_ERR_IO
 * with err->msg (a timeout says so). */
eb_rc eb_tls_handshake_wait(eb_tls *t, long timeout_ms, eb_err *err);

/* true after a handshake that failed because the certificate chain or name
 * did not verify. */
bool eb_tls_untrusted(const eb_tls *t);

/* Reads up to len decrypted bytes into buf: DONE with *got > 0, WANT_READ
 * or WANT_WRITE (nothing yet), CLOSED (orderly or not: a TCP end without
 * close_notify is CLOSED too; *reset true when the peer reset), or ERROR. */
eb_tls_io eb_tls_read(eb_tls *t, void *buf, size_t len, size_t *got, bool *reset,
		      eb_err *err);

/* Writes up to len bytes: DONE with *put > 0 (maybe fewer than len), WANT_*
 * (nothing written; call again with the same bytes), CLOSED, or ERROR. */
eb_tls_io eb_tls_write(eb_tls *t, const void *buf, size_t len, size_t *put, eb_err *err);

/* send(2) and recv(2) over the session, for code written for sockets:
 * bytes moved, 0 from eb_tls_recv at the peer's end (close_notify or a TCP
 * end), or -1 with errno EAGAIN (poll for eb_tls_events), EPIPE (send: the
 * peer closed), ECONNRESET (the peer reset) or EPROTO (a TLS failure). */
ssize_t eb_tls_send(eb_tls *t, const void *buf, size_t len);
ssize_t eb_tls_recv(eb_tls *t, void *buf, size_t len);

/* Decrypted bytes already buffered in the session: poll() on the socket
 * would not show them. */
size_t eb_tls_pending(const eb_tls *t);

/* POLLIN or POLLOUT: what the last WANT_* asked for (POLLIN before any). */
short eb_tls_events(const eb_tls *t);

/* "TLSv1.3 TLS_AES_256_GCM_SHA384" after the handshake, for wire logs. */
const char *eb_tls_describe(const eb_tls *t, char *buf, size_t len);

#endif
