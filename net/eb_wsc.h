/*
 * eb_wsc.h — a WebSocket client over plain sockets for the harnesses. It is
 * not built on libwebsockets on purpose: conformance and fuzz cases must send
 * frames a correct library never would (oversize, binary, fragmented,
 * truncated, bad masks) and see close codes exactly. RFC 6455 client side,
 * no extensions; ws:// over TCP, wss:// over TLS (net/eb_tls.h) with the
 * same frame code. Every call takes a timeout.
 */
#ifndef EB_WSC_H
#define EB_WSC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "eb_error.h"
#include "eb_tls.h"
#include "eb_wirelog.h"

typedef struct eb_wsc eb_wsc;

/* Connects to url ("http://host:port" or "ws://host:port", parsed by
 * eb_url_parse; a base path in url is prefixed to path) and upgrades
 * at path (e.g. "/api/sync/notifications"). timeout_ms bounds connect+handshake.
 * Returns EB_OK, EB_ERR_IO (connection refused/timeout; msg in err), or
 * EB_ERR_SHAPE when the server answered but refused the upgrade (the HTTP
 * status is in *http_status if non-NULL). wire may be NULL.
 * Also EB_ERR_ARG (unparsable url, path not starting with '/') and
 * EB_ERR_NOMEM. A 101 whose Sec-WebSocket-Accept is wrong, or that picks an
 * extension or subprotocol, is EB_ERR_SHAPE with *http_status 101. Frames
 * the server sends right behind the 101 are kept for eb_wsc_recv. IPv6
 * literals as "ws://[::1]:8080"; every address of a name is tried. A
 * https:// or wss:// url is EB_ERR_ARG here: use eb_wsc_connect_tls. */
eb_rc eb_wsc_connect(const char *url, const char *path, long timeout_ms,
		     eb_wirelog *wire, int conn, eb_wsc **out,
		     int *http_status, eb_err *err);

/* eb_wsc_connect for any url: https:// and wss:// run TLS with tls (a
 * client context, borrowed; the connection keeps its own reference) inside
 * the same timeout; plain urls ignore tls (NULL allowed). A TLS failure is
 * EB_ERR_IO with err->msg saying why (a certificate that does not verify
 * names --cacert and --insecure, eb_tls.h). */
eb_rc eb_wsc_connect_tls(const char *url, const char *path, eb_tls_ctx *tls,
			 long timeout_ms, eb_wirelog *wire, int conn, eb_wsc **out,
			 int *http_status, eb_err *err);

/* Non-blocking connect for event loops (ebclient): resolves url (a name
 * blocks in getaddrinfo; numeric hosts do not), starts the TCP connect to
 * its first address and returns at once with *out in progress. The caller
 * polls eb_wsc_fd for eb_wsc_connect_events and calls eb_wsc_connect_step
 * when it is ready (or on its timer); the caller owns the deadline and
 * frees *out (eb_wsc_free) when it gives up. Errors as eb_wsc_connect. */
eb_rc eb_wsc_connect_start(const char *url, const char *path, eb_wirelog *wire,
			   int conn, eb_wsc **out, eb_err *err);

/* eb_wsc_connect_start for any url: with https:// or wss:// the TLS
 * handshake runs in eb_wsc_connect_step too (tls as eb_wsc_connect_tls). */
eb_rc eb_wsc_connect_start_tls(const char *url, const char *path, eb_tls_ctx *tls,
			       eb_wirelog *wire, int conn, eb_wsc **out, eb_err *err);

/* POLLOUT or POLLIN: what the connect in progress waits for (over TLS,
 * what the session asked for). */
short eb_wsc_connect_events(const eb_wsc *c);

/* Advances the connect of eb_wsc_connect_start without waiting: EB_OK with
 * *done false (call again when ready), EB_OK with *done true (upgraded: use
 * c as if from eb_wsc_connect), or the errors of eb_wsc_connect (a refused
 * upgrade is EB_ERR_SHAPE with its status in *http_status). */
eb_rc eb_wsc_connect_step(eb_wsc *c, bool *done, int *http_status, eb_err *err);

/* Closes the TCP connection without a close frame and frees. NULL no-op. */
void eb_wsc_free(eb_wsc *c);

/* Sends one text message in one frame. */
eb_rc eb_wsc_send_text(eb_wsc *c, const char *data, size_t len, eb_err *err);

/* Sends one raw frame: opcode (1 text, 2 binary, 0 continuation, 8 close,
 * 9 ping, 10 pong), fin flag, payload; masked as clients must unless
 * unmasked is true. */
eb_rc eb_wsc_send_frame(eb_wsc *c, int opcode, bool fin, const void *payload,
			size_t len, bool unmasked, eb_err *err);

/* Sends raw bytes on the socket (for truncated frames). */
eb_rc eb_wsc_send_raw(eb_wsc *c, const void *data, size_t len, eb_err *err);

/* Sends a close frame with code (0: no code) and reason. */
eb_rc eb_wsc_send_close(eb_wsc *c, int code, const char *reason, eb_err *err);

typedef enum eb_wsc_event {
	EB_WSC_TEXT = 1,      /* a complete text message (fragments joined) */
	EB_WSC_BINARY,
	EB_WSC_PING,          /* answered with a pong automatically */
	EB_WSC_PONG,
	EB_WSC_CLOSE,         /* close frame received; code in close_code (1005 if none) */
	EB_WSC_EOF,           /* TCP closed without close frame */
	EB_WSC_TIMEOUT,       /* nothing within timeout_ms */
	EB_WSC_PROTOCOL_ERROR /* server sent something RFC 6455 forbids (e.g. masked frame) */
} eb_wsc_event;

typedef struct eb_wsc_msg {
	eb_wsc_event ev;
	char *data;           /* owned, NUL-terminated payload (text/binary/ping/pong/close reason) */
	size_t len;
	int close_code;
	uint64_t recv_mono_ns; /* eb_time_mono_ns() at arrival of the last byte */
} eb_wsc_msg;

/* Waits up to timeout_ms for the next event. Returns EB_OK with msg filled
 * (including TIMEOUT/EOF events), EB_ERR_NOMEM or EB_ERR_IO. After CLOSE or
 * EOF further calls return EOF. Free msg with eb_wsc_msg_clear. max_message
 * bytes bound a received message (default 1 MiB).
 * timeout_ms <= 0 checks without waiting. On EB_OK msg->data is never NULL.
 * A close frame is answered once with a close echoing its code (none when
 * it had none) unless one was sent already. PROTOCOL_ERROR's data is the
 * reason (masked frame, RSV bits, reserved opcode, bad fragmentation,
 * control frame over 125 bytes or fragmented, 1-byte close payload, text
 * that is not UTF-8, message over max_message); the stream is not parsed
 * further and later calls return EOF. EOF's data is "connection reset" when
 * the peer reset the connection, "" otherwise. */
eb_rc eb_wsc_recv(eb_wsc *c, long timeout_ms, eb_wsc_msg *msg, eb_err *err);

void eb_wsc_msg_clear(eb_wsc_msg *msg);

/* Bound on one received message (all fragments joined); a larger one is a
 * PROTOCOL_ERROR event. 0 restores the default of 1 MiB. */
void eb_wsc_set_max_message(eb_wsc *c, size_t max_bytes);

/* Bound on each send call (a server that does not read blocks sends);
 * default 10 s, 0 restores it. A send that times out returns EB_ERR_IO. */
void eb_wsc_set_send_timeout(eb_wsc *c, long timeout_ms);

/* Underlying socket fd, for poll() over several clients. */
int eb_wsc_fd(const eb_wsc *c);
/* true when a received message is already buffered (poll would not show it);
 * over TLS also when decrypted bytes wait in the session (the next recv may
 * then find only part of a message and wait for the rest). */
bool eb_wsc_pending(const eb_wsc *c);

#endif
