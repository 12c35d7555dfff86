/*
 * eb_wsgen.h — the WebSocket wire of ebload's own client (RFC 6455, client
 * side, no extensions), cut to what a load generator repeats per connection
 * and per message: the upgrade request built once per target and patched
 * with each connection's key, the 101 answer checked without copying,
 * masked frames written with a word-wide xor, server frame heads decoded in
 * place, and a scan of `store_changed` notifications that reads only the
 * fields the measurement needs.
 *
 * The scan never widens what ebload accepts: it decides only messages of
 * the plain form every server of the protocol sends (one flat object, ASCII
 * strings without escapes, integers), and for each of those its answer is
 * the one eb_ws_server_msg_parse gives; anything else it leaves to that
 * parser. Socket-free, allocation-free, thread-safe (no state).
 */
#ifndef EB_WSGEN_H
#define EB_WSGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length of a Sec-WebSocket-Key (base64 of 16 bytes) and of an accept value
 * (base64 of a SHA-1 digest), without the NUL. */
#define EB_WSGEN_KEY_LEN 24
#define EB_WSGEN_ACCEPT_LEN 28
/* Opcodes (RFC 6455 5.2). */
#define EB_WSGEN_OP_CONT 0
#define EB_WSGEN_OP_TEXT 1
#define EB_WSGEN_OP_BINARY 2
#define EB_WSGEN_OP_CLOSE 8
#define EB_WSGEN_OP_PING 9
#define EB_WSGEN_OP_PONG 10
/* Longest client frame head (2 + 8 length + 4 mask). */
#define EB_WSGEN_HEAD_MAX 14

/* Writes the upgrade request for path on host:port (host without IPv6
 * brackets; they are added for a literal with ':') into buf, with a
 * placeholder key at *key_off (EB_WSGEN_KEY_LEN bytes, to overwrite per
 * connection). Returns its length, or 0 when it does not fit in cap. */
size_t eb_wsgen_request(char *buf, size_t cap, const char *host, int port,
			const char *path, size_t *key_off);

/* Makes a fresh key from 16 random bytes r (caller's generator) into key
 * (EB_WSGEN_KEY_LEN bytes, no NUL written) and the accept value a server
 * must answer with into accept (EB_WSGEN_ACCEPT_LEN + 1 bytes, NUL-ended).
 * Returns 0, or -1 when the digest fails. */
int eb_wsgen_key(const uint8_t r[16], char *key, char *accept);

/* Checks the HTTP response head at buf[0, len). Returns 0 while the head is
 * incomplete, -1 when it is malformed or longer than max_head, otherwise
 * the head's length (bytes after it are frames). On a complete head
 * *status is the status code and *accept_ok tells whether it is a 101 with
 * `Upgrade: websocket`, a Sec-WebSocket-Accept equal to accept and no
 * extension or subprotocol (which ebload never asks for). */
long eb_wsgen_response(const char *buf, size_t len, size_t max_head,
		       const char *accept, int *status, bool *accept_ok);

/* Writes one masked client frame (fin set) with opcode and the len bytes at
 * payload into out, which must hold len + EB_WSGEN_HEAD_MAX bytes; mask is
 * the masking key. Returns the frame's length. */
size_t eb_wsgen_frame(uint8_t *out, int opcode, const void *payload, size_t len,
		      uint32_t mask);

/* XORs len bytes at p with the 4-byte key (as sent on the wire), starting
 * at key offset phase (0-3); a word at a time. */
void eb_wsgen_mask(uint8_t *p, size_t len, const uint8_t key[4], unsigned phase);

/* A decoded server frame head. */
typedef struct eb_wsgen_head {
	int opcode;          /* 0 continuation, 1 text, 2 binary, 8 close, 9 ping, 10 pong */
	bool fin;
	size_t head_len;     /* bytes of the head */
	uint64_t len;        /* payload length */
} eb_wsgen_head;

/* Decodes the frame head at buf[0, n). Returns 1 with *h filled, 0 when
 * more bytes are needed, -1 for a head a server must not send (masked,
 * reserved bits, unknown opcode, a control frame over 125 bytes or
 * fragmented, a 64-bit length with its top bit set). */
int eb_wsgen_head_parse(const uint8_t *buf, size_t n, eb_wsgen_head *h);

/* What the scan found in a store_changed. store_id points into the message. */
typedef struct eb_wsgen_notif {
	const char *store_id;
	size_t store_id_len;
	uint64_t version;
	uint64_t timestamp;
} eb_wsgen_notif;

/* true when msg[0, len) is a well-formed store_changed of the plain form
 * (see above) with a storeId string and version and timestamp integers in
 * [0, 2^53-1], *n filled. false: not decided here — pass the message to
 * eb_ws_server_msg_parse (it may still be a store_changed, or another
 * message, or invalid). */
bool eb_wsgen_store_changed(const char *msg, size_t len, eb_wsgen_notif *n);

#endif
