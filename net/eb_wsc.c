/*
 * eb_wsc.c — RFC 6455 client over a plain non-blocking TCP socket.
 *
 * Frames are parsed from one receive buffer; a frame is consumed only when
 * complete, so a received message can sit in the buffer while poll() on the
 * socket shows nothing (eb_wsc_pending). Server frames that RFC 6455 forbids
 * end parsing: the harness must see the violation, not a repaired stream.
 *
 * wss:// runs the same code over TLS (net/eb_tls.h): every byte goes through
 * wsc_io_send/wsc_io_recv, which speak send(2)/recv(2) over the plain socket
 * or the TLS session, and every wait polls for what the transport asked
 * (wsc_io_events: TLS may need to write to read).
 */
#include "eb_wsc.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "eb_time.h"
#include "eb_target.h"
#include "eb_tls.h"

#define WSC_DEFAULT_MAX_MESSAGE ((size_t)1024 * 1024)
#define WSC_DEFAULT_SEND_TIMEOUT_MS 10000L
#define WSC_HANDSHAKE_MAX 16384
/* Small per-connection buffers: load runs hold thousands of clients. A
 * buffer grown for a large message is released once it drains. */
#define WSC_READ_CHUNK 4096
#define WSC_KEEP_BUF ((size_t)64 * 1024)
#define WSC_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WSC_LOG_TEXT_MAX 4096

enum { WSC_OP_CONT = 0, WSC_OP_TEXT = 1, WSC_OP_BINARY = 2, WSC_OP_CLOSE = 8,
       WSC_OP_PING = 9, WSC_OP_PONG = 10 };

struct eb_wsc {
	int fd;
	eb_tls *tls;                /* wss://: the session over fd; NULL for ws:// */
	eb_wirelog *wire;           /* borrowed */
	int conn;
	size_t max_message;
	long send_timeout_ms;
	unsigned char *rbuf;        /* received, not yet consumed */
	size_t rlen, rcap;
	unsigned char *msg;         /* fragments of the message being joined */
	size_t msg_len, msg_cap;
	int msg_opcode;             /* 0: no fragmented message in progress */
	bool finished;              /* close, EOF or protocol error seen */
	/* eb_wsc_connect_start: 0 open, else a phase of the upgrade */
	int hs_phase;
	char *hs_buf;               /* request being sent, then head being read */
	size_t hs_len, hs_off;
	char hs_expect[64];
	bool close_sent;
	uint64_t last_read_ns;
};

/* One parsed frame header. */
typedef struct wsc_frame {
	bool fin;
	int rsv;
	int opcode;
	bool masked;
	uint64_t len;
	size_t hdr_len;
} wsc_frame;

typedef enum wsc_parse {
	WSC_PARSE_NEED_MORE,
	WSC_PARSE_OK,
	WSC_PARSE_BAD
} wsc_parse;

/* ---- helpers ---------------------------------------------------------------- */

static bool wsc_random(void *buf, size_t len)
{
	unsigned char *p = buf;
	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static long wsc_remaining_ms(uint64_t deadline_ns)
{
	uint64_t now = eb_time_mono_ns();
	if (now >= deadline_ns)
		return 0;
	uint64_t ms = (deadline_ns - now + 999999u) / 1000000u;
	return ms > 0x7fffffff ? 0x7fffffff : (long)ms;
}

static uint64_t wsc_deadline(long timeout_ms)
{
	return eb_time_mono_ns() +
	       (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000u;
}

/* A NUL-terminated owned copy (an empty string for len 0). */
static char *wsc_dup(const void *p, size_t len)
{
	char *s = malloc(len + 1);
	if (s == NULL)
		return NULL;
	if (len > 0)
		memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

static bool wsc_utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		size_t k;
		uint32_t cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i <= k)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}

/* Wire log text of one frame: text payloads as text, the rest summarised. */
static void wsc_log_frame(eb_wsc *c, eb_wire_dir dir, int opcode, bool fin,
			  const unsigned char *payload, size_t len,
			  bool unmasked, int cont_of)
{
	if (c->wire == NULL)
		return;
	char head[160];
	int hn = 0;
	const char *tag = unmasked ? "[unmasked] " : "";
	bool text = opcode == WSC_OP_TEXT ||
		    (opcode == WSC_OP_CONT && cont_of == WSC_OP_TEXT);
	if (text) {
		if (opcode == WSC_OP_CONT || !fin)
			hn = snprintf(head, sizeof head, "%s[%s fin=%d] ", tag,
				      opcode == WSC_OP_CONT ? "continuation" : "text",
				      fin ? 1 : 0);
		else
			hn = snprintf(head, sizeof head, "%s", tag);
		size_t show = len < WSC_LOG_TEXT_MAX ? len : WSC_LOG_TEXT_MAX;
		char *buf = malloc((size_t)hn + show + 1);
		if (buf == NULL)
			return;
		memcpy(buf, head, (size_t)hn);
		if (show > 0)
			memcpy(buf + hn, payload, show);
		/* the part not copied is counted in the entry's marker */
		eb_wirelog_add_part(c->wire, dir, "WS", c->conn, buf, (size_t)hn + show,
				    (size_t)hn + len);
		free(buf);
		return;
	}
	switch (opcode) {
	case WSC_OP_BINARY:
		hn = snprintf(head, sizeof head, "%s[binary %zu bytes%s]", tag,
			      len, fin ? "" : " fin=0");
		break;
	case WSC_OP_CONT:
		hn = snprintf(head, sizeof head, "%s[continuation %zu bytes fin=%d]",
			      tag, len, fin ? 1 : 0);
		break;
	case WSC_OP_CLOSE:
		if (len >= 2) {
			int code = (payload[0] << 8) | payload[1];
			int rl = len - 2 > 123 ? 123 : (int)(len - 2);
			if (rl > 0)
				hn = snprintf(head, sizeof head, "%s[close %d %.*s]",
					      tag, code, rl,
					      (const char *)payload + 2);
			else
				hn = snprintf(head, sizeof head, "%s[close %d]",
					      tag, code);
		} else {
			hn = snprintf(head, sizeof head, "%s[close%s]", tag,
				      len == 1 ? " 1 byte" : "");
		}
		break;
	case WSC_OP_PING:
		hn = snprintf(head, sizeof head, "%s[ping%s]", tag,
			      len ? " with payload" : "");
		break;
	case WSC_OP_PONG:
		hn = snprintf(head, sizeof head, "%s[pong%s]", tag,
			      len ? " with payload" : "");
		break;
	default:
		hn = snprintf(head, sizeof head, "%s[opcode %d %zu bytes fin=%d]",
			      tag, opcode, len, fin ? 1 : 0);
		break;
	}
	if (hn < 0)
		return;
	if ((size_t)hn >= sizeof head)
		hn = (int)sizeof head - 1;
	eb_wirelog_add(c->wire, dir, "WS", c->conn, head, (size_t)hn);
}

/* ---- transport: the plain socket, or TLS over it ------------------------------- */

/* send(2) over the transport: bytes written, or -1 with errno (EAGAIN: wait
 * for wsc_io_events; EPIPE: the peer closed; EPROTO: a TLS failure). */
static ssize_t wsc_io_send(eb_wsc *c, const void *p, size_t len)
{
	return c->tls != NULL ? eb_tls_send(c->tls, p, len)
			      : send(c->fd, p, len, MSG_NOSIGNAL);
}

/* recv(2) over the transport: bytes read, 0 at the end (TLS: close_notify
 * or a TCP end), or -1 with errno (EAGAIN, ECONNRESET, EPROTO). */
static ssize_t wsc_io_recv(eb_wsc *c, void *p, size_t len)
{
	return c->tls != NULL ? eb_tls_recv(c->tls, p, len) : recv(c->fd, p, len, 0);
}

/* The poll events to wait for before retrying an I/O that said EAGAIN:
 * plain sockets the obvious one, TLS what the session asked for. */
static short wsc_io_events(const eb_wsc *c, short plain)
{
	return c->tls != NULL ? eb_tls_events(c->tls) : plain;
}

/* Writes all bytes within the send timeout. */
static eb_rc wsc_write_all(eb_wsc *c, const void *data, size_t len, eb_err *err)
{
	const unsigned char *p = data;
	uint64_t deadline = wsc_deadline(c->send_timeout_ms);
	while (len > 0) {
		ssize_t n = wsc_io_send(c, p, len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			long left = wsc_remaining_ms(deadline);
			if (left == 0)
				return eb_err_set(err, EB_ERR_IO, NULL, NULL, NULL,
						  -1, "send timed out after %ld ms",
						  c->send_timeout_ms);
			struct pollfd pf = { .fd = c->fd,
					     .events = wsc_io_events(c, POLLOUT) };
			int r = poll(&pf, 1, (int)left);
			if (r < 0 && errno != EINTR)
				return eb_err_set(err, EB_ERR_IO, NULL, NULL, NULL,
						  -1, "poll: %s", strerror(errno));
			continue;
		}
		return eb_err_set(err, EB_ERR_IO, NULL, NULL, NULL, -1,
				  "send: %s", n < 0 ? strerror(errno) : "closed");
	}
	return EB_OK;
}

/* ---- connect and handshake ---------------------------------------------------- */

static eb_rc wsc_tcp_connect(const char *host, const char *port,
			     uint64_t deadline, int *out, eb_err *err)
{
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	int gr = getaddrinfo(host, port, &hints, &res);
	if (gr != 0)
		return eb_err_set(err, EB_ERR_IO, NULL, NULL, NULL, -1,
				  "resolve %s:%s: %s", host, port, gai_strerror(gr));
	eb_rc rc = EB_ERR_IO;
	int last_errno = ECONNREFUSED;
	bool timed_out = false;
	for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		int fd = socket(ai->ai_family,
				ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
				ai->ai_protocol);
		if (fd < 0) {
			last_errno = errno;
			continue;
		}
		int r = connect(fd, ai->ai_addr, ai->ai_addrlen);
		if (r < 0 && errno == EINPROGRESS) {
			struct pollfd pf = { .fd = fd, .events = POLLOUT };
			int pr;
			do {
				pr = poll(&pf, 1, (int)wsc_remaining_ms(deadline));
			} while (pr < 0 && errno == EINTR);
			if (pr == 0) {
				timed_out = true;
				close(fd);
				break;
			}
			int soerr = 0;
			socklen_t sl = sizeof soerr;
			if (pr < 0 ||
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
				soerr = errno;
			if (soerr != 0) {
				last_errno = soerr;
				close(fd);
				continue;
			}
			r = 0;
		}
		if (r != 0) {
			last_errno = errno;
			close(fd);
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		*out = fd;
		rc = EB_OK;
		break;
	}
	freeaddrinfo(res);
	if (rc != EB_OK) {
		if (timed_out)
			eb_err_set(err, EB_ERR_IO, NULL, NULL, NULL, -1,
				   "connect %s:%s: timed out", host, port);
		else
			eb_err_set(err, EB_ERR_IO, NULL, NULL, NULL, -1,
				   "connect %s:%s: %s", host, port,
				   strerror(last_errno));
	}
	return rc;
}

/* Value of header name in the response head (between the status line and
 * the blank line), trimmed; false when absent. */
static bool wsc_head_header(const char *head, const char *name, char *buf,
			    size_t buflen)
{
	size_t nl = strlen(name);
	const char *line = strstr(head, "\r\n");
	while (line != NULL) {
		line += 2;
		const char *eol = strstr(line, "\r\n");
		if (eol == NULL || eol == line)
			return false;
		if ((size_t)(eol - line) > nl && line[nl] == ':' &&
		    strncasecmp(line, name, nl) == 0) {
			const char *v = line + nl + 1;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			const char *ve = eol;
			while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			size_t vl = (size_t)(ve - v);
			if (vl >= buflen)
				vl = buflen - 1;
			memcpy(buf, v, vl);
			buf[vl] = '\0';
			return true;
		}
		line = eol;
	}
	return false;
}

static bool wsc_token_in_list(const char *list, const char *token)
{
	size_t tl = strlen(token);
	const char *p = list;
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		const char *e = p + strcspn(p, ",");
		const char *te = e;
		while (te > p && (te[-1] == ' ' || te[-1] == '\t'))
			te--;
		if ((size_t)(te - p) == tl && strncasecmp(p, token, tl) == 0)
			return true;
		p = e;
	}
	return false;
}

/* The upgrade request for host:port and path into req (reqlen bytes; its
 * length in *rl) and the Sec-WebSocket-Accept the server must answer. */
static eb_rc wsc_upgrade_request(const char *host, const char *port,
				 const char *path, char *req, size_t reqlen,
				 size_t *rl_out, char expect[64], eb_err *err)
{
	unsigned char nonce[16];
	char key[32];

	if (!wsc_random(nonce, sizeof nonce))
		return eb_err_set(err, EB_ERR_IO, NULL, NULL, NULL, -1,
				  "no random bytes for Sec-WebSocket-Key");
	EVP_EncodeBlock((unsigned char *)key, nonce, sizeof nonce);

	/* Sec-WebSocket-Accept = base64(SHA-1(key + GUID)), RFC 6455 4.2.2. */
	char cat[96];
	int cl = snprintf(cat, sizeof cat, "%s%s", key, WSC_GUID);
	unsigned char dg[SHA_DIGEST_LENGTH];
	SHA1((const unsigned char *)cat, (size_t)cl, dg);
	EVP_EncodeBlock((unsigned char *)expect, dg, SHA_DIGEST_LENGTH);

	bool v6 = strchr(host, ':') != NULL;
	int rl = snprintf(req, reqlen,
			  "GET %s HTTP/1.1\r\n"
			  "Host: %s%s%s:%s\r\n"
			  "Upgrade: websocket\r\n"
			  "Connection: Upgrade\r\n"
			  "Sec-WebSocket-Key: %s\r\n"
			  "Sec-WebSocket-Version: 13\r\n"
			  "\r\n",
			  path, v6 ? "[" : "", host, v6 ? "]" : "", port, key);
	if (rl < 0 || (size_t)rl >= reqlen)
		return eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1,
				  "upgrade path too long");
	*rl_out = (size_t)rl;
	return EB_OK;
}

/* The response head (hlen bytes in head, NUL-terminated, the blank line
 * at end): keeps the frames behind it and checks the 101 (RFC 6455 4.1). */
static eb_rc wsc_upgrade_check(eb_wsc *c, char *head, size_t hlen,
			       const char *end, const char *expect,
			       int *http_status, eb_err *err)
{
	c->last_read_ns = eb_time_mono_ns();
	size_t head_len = (size_t)(end - head) + 4;
	if (c->wire != NULL)
		eb_wirelog_add(c->wire, EB_WIRE_IN, "HTTP", c->conn, head, head_len);
	size_t extra = hlen - head_len;
	if (extra > 0) {
		c->rbuf = malloc(extra > WSC_READ_CHUNK ? extra : WSC_READ_CHUNK);
		if (c->rbuf == NULL)
			return eb_err_set(err, EB_ERR_NOMEM, NULL, NULL, NULL, -1,
					  "out of memory");
		c->rcap = extra > WSC_READ_CHUNK ? extra : WSC_READ_CHUNK;
		memcpy(c->rbuf, head + head_len, extra);
		c->rlen = extra;
	}
	head[head_len] = '\0';

	/* "HTTP/1.1 101 Switching Protocols" */
	int status = 0;
	if (strncmp(head, "HTTP/1.", 7) == 0 && head[8] == ' ') {
		char *e = NULL;
		long v = strtol(head + 9, &e, 10);
		if (e == head + 12 && v >= 100 && v <= 999)
			status = (int)v;
	}
	if (http_status != NULL)
		*http_status = status;
	if (status == 0)
		return eb_err_set(err, EB_ERR_SHAPE, NULL, NULL, NULL, -1,
				  "malformed upgrade response status line");
	if (status != 101)
		return eb_err_set(err, EB_ERR_SHAPE, NULL, NULL, NULL, -1,
				  "upgrade refused: HTTP %d", status);
	char v[256];
	if (!wsc_head_header(head, "Upgrade", v, sizeof v) ||
	    strcasecmp(v, "websocket") != 0)
		return eb_err_set(err, EB_ERR_SHAPE, NULL, NULL, NULL, -1,
				  "101 without Upgrade: websocket");
	if (!wsc_head_header(head, "Connection", v, sizeof v) ||
	    !wsc_token_in_list(v, "upgrade"))
		return eb_err_set(err, EB_ERR_SHAPE, NULL, NULL, NULL, -1,
				  "101 without Connection: Upgrade");
	if (!wsc_head_header(head, "Sec-WebSocket-Accept", v, sizeof v) ||
	    strcmp(v, expect) != 0)
		return eb_err_set(err, EB_ERR_SHAPE, NULL, NULL, NULL, -1,
				  "Sec-WebSocket-Accept missing or wrong (want %s)",
				  expect);
	/* We offered neither extensions nor subprotocols (RFC 6455 4.1). */
	if (wsc_head_header(head, "Sec-WebSocket-Extensions", v, sizeof v))
		return eb_err_set(err, EB_ERR_SHAPE, NULL, NULL, NULL, -1,
				  "server chose an extension that was not offered: %s",
				  v);
	if (wsc_head_header(head, "Sec-WebSocket-Protocol", v, sizeof v))
		return eb_err_set(err, EB_ERR_SHAPE, NULL, NULL, NULL, -1,
				  "server chose a subprotocol that was not offered: %s",
				  v);
	return EB_OK;
}

static eb_rc wsc_handshake(eb_wsc *c, const char *host, const char *port,
			   const char *path, uint64_t deadline,
			   int *http_status, eb_err *err)
{
	char expect[64];
	char req[2048];
	char head[WSC_HANDSHAKE_MAX + 1];
	size_t hlen = 0, rl = 0;

	eb_rc rc = wsc_upgrade_request(host, port, path, req, sizeof req, &rl,
				       expect, err);
	if (rc != EB_OK)
		return rc;
	if (c->wire != NULL)
		eb_wirelog_add(c->wire, EB_WIRE_OUT, "HTTP", c->conn, req, rl);
	rc = wsc_write_all(c, req, rl, err);
	if (rc != EB_OK)
		return rc;

	/* Read the response head; bytes after it are already frames. */
	const char *end = NULL;
	while (end == NULL) {
		long left = wsc_remaining_ms(deadline);
		struct pollfd pf = { .fd = c->fd, .events = wsc_io_events(c, POLLIN) };
		/* TLS may hold decrypted bytes poll() cannot see */
		int pr = c->tls != NULL && eb_tls_pending(c->tls) > 0 ? 1
			 : left > 0 ? poll(&pf, 1, (int)left) : 0;
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr == 0)
			return eb_err_set(err, EB_ERR_IO, NULL, NULL, NULL, -1,
					  "no upgrade response within the timeout");
		if (pr < 0)
			return eb_err_set(err, EB_ERR_IO, NULL, NULL, NULL, -1,
					  "poll: %s", strerror(errno));
		if (hlen >= WSC_HANDSHAKE_MAX)
			return eb_err_set(err, EB_ERR_SHAPE, NULL, NULL, NULL, -1,
					  "upgrade response head exceeds %d bytes",
					  WSC_HANDSHAKE_MAX);
		ssize_t n = wsc_io_recv(c, head + hlen, WSC_HANDSHAKE_MAX - hlen);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return eb_err_set(err, EB_ERR_IO, NULL, NULL, NULL, -1,
					  "connection closed during the upgrade%s%s",
					  n < 0 ? ": " : "",
					  n < 0 ? strerror(errno) : "");
		hlen += (size_t)n;
		head[hlen] = '\0';
		end = memmem(head, hlen, "\r\n\r\n", 4);
	}
	return wsc_upgrade_check(c, head, hlen, end, expect, http_status, err);
}

/* url and path of eb_wsc_connect into host, port (16) and the full path
 * (1024; a base path in url prefixes path). A TLS url needs *tls; a plain
 * one sets *tls to NULL (no TLS under ws://). */
static eb_rc wsc_target(const char *url, const char *path, eb_tls_ctx **tls,
			char host[256], char port[16], char full[1024], eb_err *err)
{
	eb_url u;
	/* The kit's one URL parser. */
	eb_rc rc = eb_url_parse(url, &u, err);
	if (rc != EB_OK)
		return rc;
	if (u.tls && *tls == NULL)
		return eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1,
				  "%.200s: TLS needs a client context (eb_wsc_connect_tls)",
				  url);
	if (!u.tls)
		*tls = NULL;
	if (snprintf(full, 1024, "%s%s", u.path, path) >= 1024)
		return eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1,
				  "eb_wsc_connect: path too long");
	snprintf(host, 256, "%s", u.host);
	snprintf(port, 16, "%d", u.port);
	return EB_OK;
}

eb_rc eb_wsc_connect(const char *url, const char *path, long timeout_ms,
		     eb_wirelog *wire, int conn, eb_wsc **out,
		     int *http_status, eb_err *err)
{
	return eb_wsc_connect_tls(url, path, NULL, timeout_ms, wire, conn, out,
				  http_status, err);
}

/* TLS over the connected socket of c within the connect deadline. */
static eb_rc wsc_tls_start(eb_wsc *c, eb_tls_ctx *tls, const char *host,
			   uint64_t deadline, eb_err *err)
{
	char how[96];
	eb_rc rc = eb_tls_new(tls, c->fd, host, &c->tls, err);
	if (rc != EB_OK)
		return rc;
	rc = eb_tls_handshake_wait(c->tls, wsc_remaining_ms(deadline), err);
	if (rc == EB_OK)
		eb_wirelog_note(c->wire, "WS conn %d: TLS %s%s", c->conn,
				eb_tls_describe(c->tls, how, sizeof how),
				eb_tls_ctx_insecure(tls) ? " (not verified: --insecure)" : "");
	return rc;
}

eb_rc eb_wsc_connect_tls(const char *url, const char *path, eb_tls_ctx *tls,
			 long timeout_ms, eb_wirelog *wire, int conn, eb_wsc **out,
			 int *http_status, eb_err *err)
{
	char host[256], port[16], full[1024];
	eb_rc rc;
	eb_wsc *c = NULL;

	if (http_status != NULL)
		*http_status = 0;
	if (out == NULL || url == NULL || path == NULL || path[0] != '/')
		return eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1,
				  "eb_wsc_connect: bad arguments");
	*out = NULL;
	rc = wsc_target(url, path, &tls, host, port, full, err);
	if (rc != EB_OK)
		return rc;
	path = full;
	c = calloc(1, sizeof *c);
	if (c == NULL)
		return eb_err_set(err, EB_ERR_NOMEM, NULL, NULL, NULL, -1,
				  "out of memory");
	c->fd = -1;
	c->wire = wire;
	c->conn = conn;
	c->max_message = WSC_DEFAULT_MAX_MESSAGE;
	c->send_timeout_ms = WSC_DEFAULT_SEND_TIMEOUT_MS;
	uint64_t deadline = wsc_deadline(timeout_ms);
	rc = wsc_tcp_connect(host, port, deadline, &c->fd, err);
	if (rc != EB_OK)
		goto out;
	if (tls != NULL) {
		rc = wsc_tls_start(c, tls, host, deadline, err);
		if (rc != EB_OK)
			goto out;
	}
	/* The handshake shares the connect deadline. */
	long saved = c->send_timeout_ms;
	c->send_timeout_ms = wsc_remaining_ms(deadline);
	rc = wsc_handshake(c, host, port, path, deadline, http_status, err);
	c->send_timeout_ms = saved;
out:
	if (rc != EB_OK) {
		eb_wirelog_note(wire, "WS conn %d: connect %s%s failed: %s", conn,
				url, path, err ? err->msg : eb_rc_name(rc));
		eb_wsc_free(c);
		return rc;
	}
	*out = c;
	return EB_OK;
}

void eb_wsc_free(eb_wsc *c)
{
	if (c == NULL)
		return;
	eb_tls_free(c->tls);
	if (c->fd >= 0)
		close(c->fd);
	free(c->hs_buf);
	free(c->rbuf);
	free(c->msg);
	free(c);
}

/* ---- non-blocking connect --------------------------------------------------------- */

enum { WSC_HS_OPEN = 0, WSC_HS_TCP, WSC_HS_SEND, WSC_HS_HEAD, WSC_HS_TLS };

eb_rc eb_wsc_connect_start(const char *url, const char *path, eb_wirelog *wire,
			   int conn, eb_wsc **out, eb_err *err)
{
	return eb_wsc_connect_start_tls(url, path, NULL, wire, conn, out, err);
}

eb_rc eb_wsc_connect_start_tls(const char *url, const char *path, eb_tls_ctx *tls,
			       eb_wirelog *wire, int conn, eb_wsc **out, eb_err *err)
{
	char host[256], port[16], full[1024];
	struct addrinfo hints, *res = NULL;
	eb_wsc *c = NULL;
	eb_rc rc;

	if (out == NULL || url == NULL || path == NULL || path[0] != '/')
		return eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1,
				  "eb_wsc_connect_start: bad arguments");
	*out = NULL;
	rc = wsc_target(url, path, &tls, host, port, full, err);
	if (rc != EB_OK)
		return rc;
	c = calloc(1, sizeof *c);
	if (c == NULL)
		return eb_err_set(err, EB_ERR_NOMEM, NULL, NULL, NULL, -1,
				  "out of memory");
	c->fd = -1;
	c->wire = wire;
	c->conn = conn;
	c->max_message = WSC_DEFAULT_MAX_MESSAGE;
	c->send_timeout_ms = WSC_DEFAULT_SEND_TIMEOUT_MS;
	c->hs_buf = malloc(2048);
	if (c->hs_buf == NULL) {
		rc = eb_err_set(err, EB_ERR_NOMEM, NULL, NULL, NULL, -1, "out of memory");
		goto out;
	}
	rc = wsc_upgrade_request(host, port, full, c->hs_buf, 2048, &c->hs_len,
				 c->hs_expect, err);
	if (rc != EB_OK)
		goto out;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	int gr = getaddrinfo(host, port, &hints, &res);
	if (gr != 0) {
		rc = eb_err_set(err, EB_ERR_IO, NULL, NULL, NULL, -1,
				"resolve %s:%s: %s", host, port, gai_strerror(gr));
		goto out;
	}
	/* The first address only: a loop that cannot wait tries one. */
	c->fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       res->ai_protocol);
	if (c->fd < 0) {
		rc = eb_err_set(err, EB_ERR_IO, NULL, NULL, NULL, -1, "socket: %s",
				strerror(errno));
		goto out;
	}
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (tls != NULL) {
		/* the session waits for the TCP connect; its steps run later */
		rc = eb_tls_new(tls, c->fd, host, &c->tls, err);
		if (rc != EB_OK)
			goto out;
	}
	if (connect(c->fd, res->ai_addr, res->ai_addrlen) == 0) {
		c->hs_phase = c->tls != NULL ? WSC_HS_TLS : WSC_HS_SEND;
	} else if (errno == EINPROGRESS) {
		c->hs_phase = WSC_HS_TCP;
	} else {
		rc = eb_err_set(err, EB_ERR_IO, NULL, NULL, NULL, -1,
				"connect %s:%s: %s", host, port, strerror(errno));
		goto out;
	}
	if (c->wire != NULL)
		eb_wirelog_add(c->wire, EB_WIRE_OUT, "HTTP", c->conn, c->hs_buf,
			       c->hs_len);
out:
	if (res != NULL)
		freeaddrinfo(res);
	if (rc != EB_OK) {
		eb_wsc_free(c);
		return rc;
	}
	*out = c;
	return EB_OK;
}

short eb_wsc_connect_events(const eb_wsc *c)
{
	if (c == NULL)
		return 0;
	/* TLS: the last step of the session said what it waits for */
	if (c->tls != NULL && c->hs_phase != WSC_HS_TCP)
		return eb_tls_events(c->tls);
	return (c->hs_phase == WSC_HS_TCP || c->hs_phase == WSC_HS_SEND) ? POLLOUT
									: POLLIN;
}

eb_rc eb_wsc_connect_step(eb_wsc *c, bool *done, int *http_status, eb_err *err)
{
	*done = false;
	if (http_status != NULL)
		*http_status = 0;
	if (c->hs_phase == WSC_HS_TCP) {
		struct pollfd pf = { .fd = c->fd, .events = POLLOUT };
		if (poll(&pf, 1, 0) <= 0)
			return EB_OK;
		int soerr = 0;
		socklen_t sl = sizeof soerr;
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
			soerr = errno;
		if (soerr != 0)
			return eb_err_set(err, EB_ERR_IO, NULL, NULL, NULL, -1,
					  "connect: %s", strerror(soerr));
		c->hs_phase = c->tls != NULL ? WSC_HS_TLS : WSC_HS_SEND;
	}
	if (c->hs_phase == WSC_HS_TLS) {
		eb_tls_io io = eb_tls_handshake(c->tls, err);
		if (io == EB_TLS_ERROR)
			return EB_ERR_IO;
		if (io != EB_TLS_DONE)
			return EB_OK;
		c->hs_phase = WSC_HS_SEND;
	}
	if (c->hs_phase == WSC_HS_SEND) {
		while (c->hs_off < c->hs_len) {
			ssize_t n = wsc_io_send(c, c->hs_buf + c->hs_off,
						c->hs_len - c->hs_off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return EB_OK;
			if (n <= 0)
				return eb_err_set(err, EB_ERR_IO, NULL, NULL, NULL, -1,
						  "send: %s", n < 0 ? strerror(errno)
								    : "closed");
			c->hs_off += (size_t)n;
		}
		free(c->hs_buf);
		c->hs_buf = malloc(WSC_HANDSHAKE_MAX + 1);
		if (c->hs_buf == NULL)
			return eb_err_set(err, EB_ERR_NOMEM, NULL, NULL, NULL, -1,
					  "out of memory");
		c->hs_len = 0;
		c->hs_phase = WSC_HS_HEAD;
	}
	if (c->hs_phase != WSC_HS_HEAD)
		return EB_OK;
	for (;;) {
		if (c->hs_len >= WSC_HANDSHAKE_MAX)
			return eb_err_set(err, EB_ERR_SHAPE, NULL, NULL, NULL, -1,
					  "upgrade response head exceeds %d bytes",
					  WSC_HANDSHAKE_MAX);
		ssize_t n = wsc_io_recv(c, c->hs_buf + c->hs_len,
					WSC_HANDSHAKE_MAX - c->hs_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return EB_OK;
		if (n <= 0)
			return eb_err_set(err, EB_ERR_IO, NULL, NULL, NULL, -1,
					  "connection closed during the upgrade%s%s",
					  n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
		c->hs_len += (size_t)n;
		c->hs_buf[c->hs_len] = '\0';
		const char *end = memmem(c->hs_buf, c->hs_len, "\r\n\r\n", 4);
		if (end == NULL)
			continue;
		eb_rc rc = wsc_upgrade_check(c, c->hs_buf, c->hs_len, end,
					     c->hs_expect, http_status, err);
		free(c->hs_buf);
		c->hs_buf = NULL;
		if (rc != EB_OK)
			return rc;
		c->hs_phase = WSC_HS_OPEN;
		*done = true;
		return EB_OK;
	}
}

void eb_wsc_set_max_message(eb_wsc *c, size_t max_bytes)
{
	if (c != NULL)
		c->max_message = max_bytes > 0 ? max_bytes : WSC_DEFAULT_MAX_MESSAGE;
}

void eb_wsc_set_send_timeout(eb_wsc *c, long timeout_ms)
{
	if (c != NULL)
		c->send_timeout_ms = timeout_ms > 0 ? timeout_ms
						    : WSC_DEFAULT_SEND_TIMEOUT_MS;
}

/* ---- send ------------------------------------------------------------------ */

eb_rc eb_wsc_send_frame(eb_wsc *c, int opcode, bool fin, const void *payload,
			size_t len, bool unmasked, eb_err *err)
{
	if (c == NULL || c->fd < 0 || opcode < 0 || opcode > 15 ||
	    (payload == NULL && len > 0))
		return eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1,
				  "eb_wsc_send_frame: bad arguments");
	size_t hdr = 2 + (len > 65535 ? 8 : len > 125 ? 2 : 0) + (unmasked ? 0 : 4);
	if (len > SIZE_MAX - hdr)
		return eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1,
				  "frame too large");
	unsigned char *f = malloc(hdr + len);
	if (f == NULL)
		return eb_err_set(err, EB_ERR_NOMEM, NULL, NULL, NULL, -1,
				  "out of memory");
	size_t i = 0;
	f[i++] = (unsigned char)((fin ? 0x80 : 0) | (opcode & 0x0f));
	unsigned char mbit = unmasked ? 0 : 0x80;
	if (len > 65535) {
		f[i++] = mbit | 127;
		for (int s = 56; s >= 0; s -= 8)
			f[i++] = (unsigned char)((uint64_t)len >> s);
	} else if (len > 125) {
		f[i++] = mbit | 126;
		f[i++] = (unsigned char)(len >> 8);
		f[i++] = (unsigned char)len;
	} else {
		f[i++] = mbit | (unsigned char)len;
	}
	const unsigned char *src = payload;
	if (unmasked) {
		if (len > 0)
			memcpy(f + i, src, len);
	} else {
		unsigned char mask[4];
		if (!wsc_random(mask, sizeof mask)) {
			free(f);
			return eb_err_set(err, EB_ERR_IO, NULL, NULL, NULL, -1,
					  "no random bytes for the mask");
		}
		memcpy(f + i, mask, 4);
		i += 4;
		for (size_t k = 0; k < len; k++)
			f[i + k] = src[k] ^ mask[k & 3];
	}
	wsc_log_frame(c, EB_WIRE_OUT, opcode, fin, src, len, unmasked,
		      WSC_OP_TEXT);
	eb_rc rc = wsc_write_all(c, f, hdr + len, err);
	free(f);
	if (rc == EB_OK && opcode == WSC_OP_CLOSE)
		c->close_sent = true;
	return rc;
}

eb_rc eb_wsc_send_text(eb_wsc *c, const char *data, size_t len, eb_err *err)
{
	return eb_wsc_send_frame(c, WSC_OP_TEXT, true, data, len, false, err);
}

eb_rc eb_wsc_send_raw(eb_wsc *c, const void *data, size_t len, eb_err *err)
{
	if (c == NULL || c->fd < 0 || (data == NULL && len > 0))
		return eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1,
				  "eb_wsc_send_raw: bad arguments");
	if (c->wire != NULL) {
		char note[64];
		int n = snprintf(note, sizeof note, "[raw %zu bytes]", len);
		eb_wirelog_add(c->wire, EB_WIRE_OUT, "WS", c->conn, note, (size_t)n);
	}
	return wsc_write_all(c, data, len, err);
}

eb_rc eb_wsc_send_close(eb_wsc *c, int code, const char *reason, eb_err *err)
{
	unsigned char p[2 + 1024];
	size_t n = 0;
	if (code < 0 || code > 65535)
		return eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1,
				  "close code %d out of range", code);
	if (code > 0) {
		size_t rl = reason ? strlen(reason) : 0;
		if (rl > sizeof p - 2)
			rl = sizeof p - 2;
		p[0] = (unsigned char)(code >> 8);
		p[1] = (unsigned char)code;
		if (rl > 0)
			memcpy(p + 2, reason, rl);
		n = 2 + rl;
	}
	return eb_wsc_send_frame(c, WSC_OP_CLOSE, true, p, n, false, err);
}

/* ---- receive --------------------------------------------------------------- */

static wsc_parse wsc_parse_header(const unsigned char *b, size_t n, wsc_frame *f)
{
	if (n < 2)
		return WSC_PARSE_NEED_MORE;
	f->fin = (b[0] & 0x80) != 0;
	f->rsv = (b[0] >> 4) & 0x07;
	f->opcode = b[0] & 0x0f;
	f->masked = (b[1] & 0x80) != 0;
	uint64_t len = b[1] & 0x7f;
	size_t h = 2;
	if (len == 126) {
		if (n < 4)
			return WSC_PARSE_NEED_MORE;
		len = ((uint64_t)b[2] << 8) | b[3];
		h = 4;
	} else if (len == 127) {
		if (n < 10)
			return WSC_PARSE_NEED_MORE;
		len = 0;
		for (int i = 0; i < 8; i++)
			len = (len << 8) | b[2 + i];
		h = 10;
	}
	if (f->masked)
		h += 4;
	f->len = len;
	f->hdr_len = h;
	return WSC_PARSE_OK;
}

/* Checks a frame header against RFC 6455 5.2-5.5 and the message bound;
 * NULL when fine, else why not. */
static const char *wsc_frame_violation(const eb_wsc *c, const wsc_frame *f,
				       char *why, size_t wlen)
{
	if (f->rsv != 0) {
		snprintf(why, wlen, "frame with RSV bits %d and no extension", f->rsv);
		return why;
	}
	if (f->masked)
		return "masked frame from the server";
	if ((f->opcode >= 3 && f->opcode <= 7) || f->opcode >= 11) {
		snprintf(why, wlen, "reserved opcode %d", f->opcode);
		return why;
	}
	if (f->len >> 63)
		return "64-bit length with the top bit set";
	if (f->opcode >= 8) {
		if (!f->fin)
			return "fragmented control frame";
		if (f->len > 125)
			return "control frame payload over 125 bytes";
		if (f->opcode == WSC_OP_CLOSE && f->len == 1)
			return "close frame with a 1-byte payload";
		return NULL;
	}
	if (f->opcode == WSC_OP_CONT && c->msg_opcode == 0)
		return "continuation frame without a message to continue";
	if (f->opcode != WSC_OP_CONT && c->msg_opcode != 0)
		return "new data frame inside a fragmented message";
	uint64_t total = (f->opcode == WSC_OP_CONT ? c->msg_len : 0) + f->len;
	if (total > c->max_message) {
		snprintf(why, wlen, "message of more than %zu bytes", c->max_message);
		return why;
	}
	return NULL;
}

static eb_rc wsc_event(eb_wsc_msg *m, eb_wsc_event ev, const void *data,
		       size_t len, uint64_t t, eb_err *err)
{
	m->ev = ev;
	m->data = wsc_dup(data, len);
	m->len = len;
	m->recv_mono_ns = t;
	if (m->data == NULL) {
		m->len = 0;
		return eb_err_set(err, EB_ERR_NOMEM, NULL, NULL, NULL, -1,
				  "out of memory");
	}
	return EB_OK;
}

static eb_rc wsc_protocol_error(eb_wsc *c, eb_wsc_msg *m, const char *why,
				eb_err *err)
{
	c->finished = true;
	eb_wirelog_note(c->wire, "WS conn %d: protocol error: %s", c->conn, why);
	return wsc_event(m, EB_WSC_PROTOCOL_ERROR, why, strlen(why),
			 c->last_read_ns, err);
}

static bool wsc_msg_append(eb_wsc *c, const unsigned char *p, size_t n)
{
	if (c->msg_len + n + 1 > c->msg_cap) {
		size_t cap = c->msg_cap ? c->msg_cap : 1024;
		while (cap < c->msg_len + n + 1)
			cap *= 2;
		unsigned char *q = realloc(c->msg, cap);
		if (q == NULL)
			return false;
		c->msg = q;
		c->msg_cap = cap;
	}
	if (n > 0)
		memcpy(c->msg + c->msg_len, p, n);
	c->msg_len += n;
	return true;
}

/* Consumes one complete frame from rbuf. *got is true when it produced an
 * event in m. */
static eb_rc wsc_take_frame(eb_wsc *c, const wsc_frame *f, eb_wsc_msg *m,
			    bool *got, eb_err *err)
{
	const unsigned char *p = c->rbuf + f->hdr_len;
	size_t len = (size_t)f->len;
	size_t total = f->hdr_len + len;
	eb_rc rc = EB_OK;
	uint64_t t = c->last_read_ns;

	*got = false;
	wsc_log_frame(c, EB_WIRE_IN, f->opcode, f->fin, p, len, false,
		      c->msg_opcode);
	switch (f->opcode) {
	case WSC_OP_PING:
		rc = wsc_event(m, EB_WSC_PING, p, len, t, err);
		*got = true;
		if (rc == EB_OK && !c->close_sent) {
			/* A failed pong shows up as EOF or an error on the
			 * next call; the ping itself was received. */
			eb_err perr;
			eb_wsc_send_frame(c, WSC_OP_PONG, true, p, len, false, &perr);
		}
		break;
	case WSC_OP_PONG:
		rc = wsc_event(m, EB_WSC_PONG, p, len, t, err);
		*got = true;
		break;
	case WSC_OP_CLOSE: {
		int code = len >= 2 ? (p[0] << 8) | p[1] : 1005;
		rc = len >= 2 ? wsc_event(m, EB_WSC_CLOSE, p + 2, len - 2, t, err)
			      : wsc_event(m, EB_WSC_CLOSE, "", 0, t, err);
		m->close_code = code;
		*got = true;
		c->finished = true;
		if (!c->close_sent) {
			/* Echo the code once, as RFC 6455 5.5.1 asks. */
			eb_err cerr;
			eb_wsc_send_close(c, len >= 2 ? code : 0, NULL, &cerr);
		}
		break;
	}
	default: {
		int op = f->opcode == WSC_OP_CONT ? c->msg_opcode : f->opcode;
		if (!wsc_msg_append(c, p, len)) {
			rc = eb_err_set(err, EB_ERR_NOMEM, NULL, NULL, NULL, -1,
					"out of memory");
			break;
		}
		if (!f->fin) {
			c->msg_opcode = op;
			break;
		}
		c->msg_opcode = 0;
		size_t ml = c->msg_len;
		c->msg_len = 0;
		if (op == WSC_OP_TEXT && !wsc_utf8_valid(c->msg, ml)) {
			memmove(c->rbuf, c->rbuf + total, c->rlen - total);
			c->rlen -= total;
			*got = true;
			return wsc_protocol_error(c, m, "text message is not valid UTF-8",
						  err);
		}
		rc = wsc_event(m, op == WSC_OP_TEXT ? EB_WSC_TEXT : EB_WSC_BINARY,
			       c->msg, ml, t, err);
		*got = true;
		break;
	}
	}
	memmove(c->rbuf, c->rbuf + total, c->rlen - total);
	c->rlen -= total;
	if (c->rlen == 0 && c->rcap > WSC_KEEP_BUF) {
		free(c->rbuf);
		c->rbuf = NULL;
		c->rcap = 0;
	}
	if (c->msg_opcode == 0 && c->msg_cap > WSC_KEEP_BUF) {
		free(c->msg);
		c->msg = NULL;
		c->msg_cap = 0;
	}
	return rc;
}

/* One step of parsing: an event, or nothing because more bytes are needed. */
static eb_rc wsc_parse_buffered(eb_wsc *c, eb_wsc_msg *m, bool *got,
				size_t *need, eb_err *err)
{
	*got = false;
	while (!c->finished) {
		wsc_frame f;
		if (wsc_parse_header(c->rbuf, c->rlen, &f) == WSC_PARSE_NEED_MORE) {
			*need = 14;
			return EB_OK;
		}
		char why[96];
		const char *bad = wsc_frame_violation(c, &f, why, sizeof why);
		if (bad != NULL) {
			*got = true;
			return wsc_protocol_error(c, m, bad, err);
		}
		if (c->rlen < f.hdr_len + f.len) {
			*need = f.hdr_len + (size_t)f.len;
			return EB_OK;
		}
		eb_rc rc = wsc_take_frame(c, &f, m, got, err);
		if (rc != EB_OK || *got)
			return rc;
	}
	return EB_OK;
}

eb_rc eb_wsc_recv(eb_wsc *c, long timeout_ms, eb_wsc_msg *msg, eb_err *err)
{
	if (msg == NULL)
		return eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1,
				  "eb_wsc_recv: no msg");
	memset(msg, 0, sizeof *msg);
	if (c == NULL)
		return eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1,
				  "eb_wsc_recv: no client");
	uint64_t deadline = wsc_deadline(timeout_ms);
	for (;;) {
		if (c->finished || c->fd < 0)
			return wsc_event(msg, EB_WSC_EOF, "", 0, eb_time_mono_ns(),
					 err);
		bool got;
		size_t need = 0;
		eb_rc rc = wsc_parse_buffered(c, msg, &got, &need, err);
		if (rc != EB_OK || got)
			return rc;
		if (need < c->rlen + 1)
			need = c->rlen + 1;
		if (need - c->rlen < WSC_READ_CHUNK)
			need = c->rlen + WSC_READ_CHUNK;
		if (need > c->rcap) {
			unsigned char *nb = realloc(c->rbuf, need);
			if (nb == NULL)
				return eb_err_set(err, EB_ERR_NOMEM, NULL, NULL,
						  NULL, -1, "out of memory");
			c->rbuf = nb;
			c->rcap = need;
		}
		ssize_t n = wsc_io_recv(c, c->rbuf + c->rlen, c->rcap - c->rlen);
		if (n > 0) {
			c->rlen += (size_t)n;
			c->last_read_ns = eb_time_mono_ns();
			/* A server that streams bytes without completing an
			 * event (endless fragments) must not extend the wait:
			 * what arrived stays buffered for the next call. */
			if (c->last_read_ns >= deadline) {
				rc = wsc_parse_buffered(c, msg, &got, &need, err);
				if (rc != EB_OK || got)
					return rc;
				return wsc_event(msg, EB_WSC_TIMEOUT, "", 0,
						 c->last_read_ns, err);
			}
			continue;
		}
		if (n == 0 || (n < 0 && (errno == ECONNRESET || errno == EPIPE))) {
			const char *why = n == 0 ? "" : "connection reset";
			c->finished = true;
			eb_wirelog_note(c->wire, "WS conn %d: TCP closed%s "
					"without a close frame", c->conn,
					n == 0 ? "" : " by reset");
			return wsc_event(msg, EB_WSC_EOF, why, strlen(why),
					 eb_time_mono_ns(), err);
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return eb_err_set(err, EB_ERR_IO, NULL, NULL, NULL, -1,
					  "recv: %s", strerror(errno));
		long left = wsc_remaining_ms(deadline);
		struct pollfd pf = { .fd = c->fd, .events = wsc_io_events(c, POLLIN) };
		int pr = left > 0 ? poll(&pf, 1, (int)left) : 0;
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			return eb_err_set(err, EB_ERR_IO, NULL, NULL, NULL, -1,
					  "poll: %s", strerror(errno));
		if (pr == 0)
			return wsc_event(msg, EB_WSC_TIMEOUT, "", 0,
					 eb_time_mono_ns(), err);
	}
}

void eb_wsc_msg_clear(eb_wsc_msg *msg)
{
	if (msg == NULL)
		return;
	free(msg->data);
	msg->data = NULL;
	msg->len = 0;
}

int eb_wsc_fd(const eb_wsc *c)
{
	return c ? c->fd : -1;
}

bool eb_wsc_pending(const eb_wsc *c)
{
	/* TLS: decrypted bytes poll() cannot see; the next recv takes them */
	if (c != NULL && !c->finished && c->tls != NULL && eb_tls_pending(c->tls) > 0)
		return true;
	if (c == NULL || c->finished || c->rlen == 0)
		return false;
	/* Walks the buffered frames: a non-final fragment alone is no event,
	 * anything else complete (or broken) is one for the next recv. */
	size_t off = 0;
	eb_wsc st = *c;   /* fragment state as the walk advances */
	for (;;) {
		wsc_frame f;
		if (wsc_parse_header(c->rbuf + off, c->rlen - off, &f) ==
		    WSC_PARSE_NEED_MORE)
			return false;
		char why[96];
		if (wsc_frame_violation(&st, &f, why, sizeof why) != NULL)
			return true;
		if (c->rlen - off < f.hdr_len + f.len)
			return false;
		if (f.opcode >= 8 || f.fin)
			return true;
		if (f.opcode != WSC_OP_CONT)
			st.msg_opcode = f.opcode;
		st.msg_len += (size_t)f.len;
		off += f.hdr_len + (size_t)f.len;
	}
}
