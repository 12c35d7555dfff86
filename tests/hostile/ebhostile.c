/*
 * ebhostile — a server that misbehaves on purpose, for the harness's tests
 * (tests/scripts/hostile_servers.sh): each client program of the kit must
 * finish within its stated total deadline, with bounded memory and the
 * documented exit code, whatever the server does.
 *
 *   ebhostile --mode MODE [--preflight-ok] --port 0 --port-file F
 *
 * Plain sockets and one poll() loop; no libwebsockets (it would refuse to
 * misbehave). Modes (what every request gets, HTTP or upgrade):
 *   silent        reads everything, never answers
 *   garbage       64 KiB of random bytes, then close
 *   endless-body  200 with no length, then body bytes forever
 *   huge-headers  a status line, then header lines forever
 *   slow          a valid-looking 200 with a large body, one byte per second
 *   close-mid     the head and part of the body (or of a frame), then close
 *   ws-flood      upgrades, then valid store_changed messages forever
 *   ws-fragments  upgrades, then a text message of endless 1-byte fragments
 * --preflight-ok (implied by the ws-* modes) answers GET /api/limits with a
 * valid limits object and the first GET of a changes feed with an empty
 * feed, so the programs' preflight passes and they meet the misbehaviour in
 * their run proper. In ws-* modes the other HTTP requests get a 503 error
 * body at once. --lifetime S (default 600) ends the process in any case.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/sha.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HS_MAX_CONN 1024
#define HS_HEAD_MAX 16384

typedef enum hs_mode {
	HS_SILENT, HS_GARBAGE, HS_ENDLESS_BODY, HS_HUGE_HEADERS, HS_SLOW, HS_CLOSE_MID,
	HS_WS_FLOOD, HS_WS_FRAGMENTS
} hs_mode;

static const char *const hs_mode_names[] = {
	"silent", "garbage", "endless-body", "huge-headers", "slow", "close-mid",
	"ws-flood", "ws-fragments"
};

typedef enum hs_state {
	HS_READ_HEAD = 0, /* collecting a request head */
	HS_SKIP_BODY,     /* discarding a request body, then the next head */
	HS_WRITE_ONCE,    /* writing out[], then back to reading (keep-alive) */
	HS_WRITE_CLOSE,   /* writing out[], then closing */
	HS_STREAM,        /* generating bytes forever (mode decides which) */
	HS_DRIP,          /* one byte of out[] per second */
	HS_IGNORE         /* reading and discarding, never answering */
} hs_state;

typedef struct hs_conn {
	int fd;
	hs_state st;
	char head[HS_HEAD_MAX];
	size_t head_len;
	uint64_t body_left;
	char *out;         /* pending bytes (malloc'd) */
	size_t out_len, out_off;
	bool ws;           /* upgraded: stream frames */
	bool frag_started;
	uint64_t seq;      /* stream counter */
	uint64_t next_drip_ms;
} hs_conn;

static volatile sig_atomic_t hs_stop;

static void hs_on_signal(int sig)
{
	(void)sig;
	hs_stop = 1;
}

static uint64_t hs_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void hs_usage(FILE *f)
{
	fputs("usage: ebhostile --mode MODE [--preflight-ok] [--lifetime S] --port N "
	      "[--port-file F]\n"
	      "MODE: silent garbage endless-body huge-headers slow close-mid ws-flood "
	      "ws-fragments\n"
	      "  --preflight-ok   answer GET /api/limits and the first changes feed read\n"
	      "                   correctly (implied by ws-*), misbehave afterwards\n"
	      "  --lifetime S     exit after S seconds whatever happens (default 600)\n"
	      "  --port N         0: any free port; --port-file F gets the port\n"
	      "Exit: 0 stopped by SIGTERM/SIGINT or the lifetime, 2 usage or setup error.\n", f);
}

static const char hs_limits[] =
	"{\"maxBodyBytes\":1048576,\"maxChangesPerRequest\":500,\"maxPathSegments\":32,"
	"\"maxPathSegmentBytes\":256,\"maxValueBytes\":65536,\"maxValueDepth\":32,"
	"\"maxChangeIdBytes\":128,\"maxFrameBytes\":65536,\"maxPageLimit\":1000,"
	"\"maxSubscriptionsPerSocket\":100,\"timestampSkewMs\":60000,\"coalesceMs\":0}";
static const char hs_feed[] = "{\"currentVersion\":0,\"changes\":[],\"toVersion\":0,\"hasMore\":false}";
static const char hs_unavail[] = "{\"code\":\"UNAVAILABLE\",\"message\":\"hostile test server\"}";

/* Sets c->out to a response with body; keep-alive. */
static int hs_set_response(hs_conn *c, int status, const char *text, const char *body, bool close)
{
	size_t blen = strlen(body), cap = blen + 256;
	int n;

	free(c->out);
	c->out = malloc(cap);
	if (!c->out)
		return -1;
	n = snprintf(c->out, cap, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
		     "Content-Length: %zu\r\nCache-Control: no-store\r\n%s\r\n%s",
		     status, text, blen, close ? "Connection: close\r\n" : "", body);
	c->out_len = (size_t)n;
	c->out_off = 0;
	c->st = close ? HS_WRITE_CLOSE : HS_WRITE_ONCE;
	return 0;
}

static int hs_set_out(hs_conn *c, const void *data, size_t len, hs_state next)
{
	free(c->out);
	c->out = malloc(len ? len : 1);
	if (!c->out)
		return -1;
	memcpy(c->out, data, len);
	c->out_len = len;
	c->out_off = 0;
	c->st = next;
	return 0;
}

/* The value of header name in head (case-insensitive), copied into v. */
static bool hs_header(const char *head, const char *name, char *v, size_t vlen)
{
	size_t nl = strlen(name);
	const char *p = strstr(head, "\r\n");

	while (p && p[2] && !(p[2] == '\r' && p[3] == '\n')) {
		const char *line = p + 2, *end = strstr(line, "\r\n");

		if (!end)
			break;
		if ((size_t)(end - line) > nl && strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
			const char *s = line + nl + 1;
			size_t n;

			while (*s == ' ' || *s == '\t')
				s++;
			n = (size_t)(end - s);
			if (n >= vlen)
				n = vlen - 1;
			memcpy(v, s, n);
			v[n] = '\0';
			return true;
		}
		p = end;
	}
	return false;
}

static void hs_b64(const unsigned char *in, size_t n, char *out)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		out[o++] = t[in[i] >> 2];
		out[o++] = t[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		out[o++] = t[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
		out[o++] = t[in[i + 2] & 63];
	}
	if (i < n) {
		out[o++] = t[in[i] >> 2];
		if (i + 1 < n) {
			out[o++] = t[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
			out[o++] = t[(in[i + 1] & 15) << 2];
		} else {
			out[o++] = t[(in[i] & 3) << 4];
			out[o++] = '=';
		}
		out[o++] = '=';
	}
	out[o] = '\0';
}

static int hs_upgrade(hs_conn *c, const char *key)
{
	char cat[256], acc[64], resp[512];
	unsigned char dig[SHA_DIGEST_LENGTH];
	int n;

	snprintf(cat, sizeof(cat), "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
	SHA1((const unsigned char *)cat, strlen(cat), dig);
	hs_b64(dig, sizeof(dig), acc);
	n = snprintf(resp, sizeof(resp), "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		     "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", acc);
	c->ws = true;
	return hs_set_out(c, resp, (size_t)n, HS_STREAM);
}

/* The misbehaviour of the mode for one request (upgrade or not). */
static int hs_misbehave(hs_conn *c, hs_mode mode, bool upgrade, const char *key)
{
	static const char slow_head[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
					"Content-Length: 100000\r\n\r\n{\"currentVersion\":0,\"changes\":[";
	static const char mid_head[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
				       "Content-Length: 4000\r\n\r\n{\"currentVersion\":0,\"chan";
	unsigned char junk[65536];
	size_t i;
	uint32_t x = (uint32_t)c->fd * 2654435761u + 12345u;

	switch (mode) {
	case HS_SILENT:
		c->st = HS_IGNORE;
		return 0;
	case HS_GARBAGE:
		for (i = 0; i < sizeof(junk); i++) {
			x = x * 1103515245u + 12345u;
			junk[i] = (unsigned char)(x >> 16);
		}
		junk[0] = 0xff; /* never "HTTP/" */
		return hs_set_out(c, junk, sizeof(junk), HS_WRITE_CLOSE);
	case HS_ENDLESS_BODY:
	case HS_HUGE_HEADERS:
		c->st = HS_STREAM;
		c->seq = 0;
		return 0;
	case HS_SLOW:
		c->next_drip_ms = hs_now_ms();
		return hs_set_out(c, slow_head, sizeof(slow_head) - 1, HS_DRIP);
	case HS_CLOSE_MID:
		if (upgrade && key) {
			char resp[512];
			char cat[256], acc[64];
			unsigned char dig[SHA_DIGEST_LENGTH];
			int n;

			snprintf(cat, sizeof(cat), "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
			SHA1((const unsigned char *)cat, strlen(cat), dig);
			hs_b64(dig, sizeof(dig), acc);
			/* the 101, then a text frame announcing 100 bytes, 5 sent */
			n = snprintf(resp, sizeof(resp), "HTTP/1.1 101 Switching Protocols\r\n"
				     "Upgrade: websocket\r\nConnection: Upgrade\r\n"
				     "Sec-WebSocket-Accept: %s\r\n\r\n\x81\x64{\"typ", acc);
			return hs_set_out(c, resp, (size_t)n, HS_WRITE_CLOSE);
		}
		return hs_set_out(c, mid_head, sizeof(mid_head) - 1, HS_WRITE_CLOSE);
	case HS_WS_FLOOD:
	case HS_WS_FRAGMENTS:
		if (upgrade && key)
			return hs_upgrade(c, key);
		return hs_set_response(c, 503, "Service Unavailable", hs_unavail, false);
	}
	return -1;
}

/* One complete request head in c->head: decide the answer. */
static int hs_request(hs_conn *c, hs_mode mode, bool pf_ok, unsigned *feeds_answered)
{
	char method[16] = "", path[1024] = "", v[256];
	const char *sp1 = strchr(c->head, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	bool upgrade = false, has_key = false;
	char key[128] = "";

	if (sp1 && sp2 && (size_t)(sp1 - c->head) < sizeof(method) &&
	    (size_t)(sp2 - sp1 - 1) < sizeof(path)) {
		memcpy(method, c->head, (size_t)(sp1 - c->head));
		memcpy(path, sp1 + 1, (size_t)(sp2 - sp1 - 1));
	}
	c->body_left = 0;
	if (hs_header(c->head, "Content-Length", v, sizeof(v)))
		c->body_left = strtoull(v, NULL, 10);
	if (hs_header(c->head, "Upgrade", v, sizeof(v)) && strcasecmp(v, "websocket") == 0)
		upgrade = true;
	has_key = hs_header(c->head, "Sec-WebSocket-Key", key, sizeof(key));
	if (pf_ok && !upgrade && strcmp(method, "GET") == 0) {
		if (strcmp(path, "/api/limits") == 0)
			return hs_set_response(c, 200, "OK", hs_limits, false);
		if (strncmp(path, "/api/stores/", 12) == 0 && strstr(path, "/changes?since=0") &&
		    *feeds_answered < 1) {
			(*feeds_answered)++;
			return hs_set_response(c, 200, "OK", hs_feed, false);
		}
	}
	return hs_misbehave(c, mode, upgrade, has_key ? key : NULL);
}

/* Fills buf with the next stream bytes of the mode; returns the count. */
static size_t hs_stream_fill(hs_conn *c, hs_mode mode, char *buf, size_t cap)
{
	size_t n = 0;

	if (c->ws && mode == HS_WS_FLOOD) {
		/* unmasked text frames of valid store_changed messages */
		while (n + 200 < cap) {
			char msg[160];
			int m = snprintf(msg, sizeof(msg), "{\"type\":\"store_changed\",\"storeId\":"
					 "\"hostile\",\"version\":%llu,\"timestamp\":1700000000000}",
					 (unsigned long long)++c->seq);

			buf[n++] = (char)0x81;
			buf[n++] = (char)m;
			memcpy(buf + n, msg, (size_t)m);
			n += (size_t)m;
		}
		return n;
	}
	if (c->ws && mode == HS_WS_FRAGMENTS) {
		if (!c->frag_started) {
			/* text, FIN clear, one byte */
			buf[n++] = 0x01;
			buf[n++] = 0x01;
			buf[n++] = '{';
			c->frag_started = true;
		}
		while (n + 3 <= cap) {
			buf[n++] = 0x00; /* continuation, FIN clear */
			buf[n++] = 0x01;
			buf[n++] = ' ';
		}
		return n;
	}
	if (c->ws) {
		/* an upgraded socket in an HTTP mode: endless pings would be
		 * valid; junk frames of the mode's kind are not needed */
		return 0;
	}
	if (mode == HS_ENDLESS_BODY) {
		if (c->seq++ == 0) {
			static const char h[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
						"Connection: close\r\n\r\n[";
			memcpy(buf, h, sizeof(h) - 1);
			n = sizeof(h) - 1;
		}
		while (n + 2 <= cap) {
			buf[n++] = '0';
			buf[n++] = ',';
		}
		return n;
	}
	if (mode == HS_HUGE_HEADERS) {
		if (c->seq++ == 0) {
			static const char h[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n";
			memcpy(buf, h, sizeof(h) - 1);
			n = sizeof(h) - 1;
		}
		while (n + 1100 <= cap) {
			int m = snprintf(buf + n, cap - n, "X-Filler-%llu: ", (unsigned long long)c->seq++);

			n += (size_t)m;
			memset(buf + n, 'a', 1000);
			n += 1000;
			buf[n++] = '\r';
			buf[n++] = '\n';
		}
		return n;
	}
	return 0;
}

static void hs_close(hs_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* Reads what the peer sent and advances the request state. -1: close. */
static int hs_on_readable(hs_conn *c, hs_mode mode, bool pf_ok, unsigned *feeds)
{
	char buf[16384];
	ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
	size_t off = 0;

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		return -1;
	if (n < 0)
		return 0;
	while (off < (size_t)n) {
		if (c->st == HS_SKIP_BODY) {
			size_t take = (size_t)n - off;

			if (take > c->body_left)
				take = (size_t)c->body_left;
			c->body_left -= take;
			off += take;
			if (c->body_left == 0)
				c->st = HS_READ_HEAD;
			continue;
		}
		if (c->st != HS_READ_HEAD)
			return 0; /* upgraded, ignoring or writing: input discarded */
		{
			size_t take = (size_t)n - off;
			char *end;

			if (take > sizeof(c->head) - 1 - c->head_len)
				take = sizeof(c->head) - 1 - c->head_len;
			if (take == 0)
				return -1; /* a head over 16 KiB: not ours to serve */
			memcpy(c->head + c->head_len, buf + off, take);
			c->head_len += take;
			c->head[c->head_len] = '\0';
			end = strstr(c->head, "\r\n\r\n");
			if (!end) {
				off += take;
				continue;
			}
			/* bytes past the head belong to the body or the next request */
			off += take - (c->head_len - (size_t)(end + 4 - c->head));
			c->head_len = (size_t)(end + 4 - c->head);
			c->head[c->head_len] = '\0';
			if (hs_request(c, mode, pf_ok, feeds) != 0)
				return -1;
			c->head_len = 0;
			if (c->st == HS_WRITE_ONCE && c->body_left > 0) {
				/* answered before its body: the body is skipped
				 * after the answer is written (hs_on_writable) */
			}
			return 0;
		}
	}
	return 0;
}

static int hs_on_writable(hs_conn *c, hs_mode mode)
{
	char buf[65536];

	if (c->out && c->out_off < c->out_len) {
		ssize_t w;

		if (c->st == HS_DRIP) {
			if (hs_now_ms() < c->next_drip_ms)
				return 0;
			/* the head at once would be fine too; one byte a second is
			 * the point */
			w = send(c->fd, c->out + c->out_off, 1, MSG_NOSIGNAL);
			c->next_drip_ms = hs_now_ms() + 1000;
		} else {
			w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		}
		if (w < 0)
			return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
		c->out_off += (size_t)w;
		if (c->out_off < c->out_len)
			return 0;
		free(c->out);
		c->out = NULL;
		c->out_len = c->out_off = 0;
		if (c->st == HS_WRITE_CLOSE)
			return -1;
		if (c->st == HS_WRITE_ONCE)
			c->st = c->body_left > 0 ? HS_SKIP_BODY : HS_READ_HEAD;
		if (c->st == HS_DRIP) {
			/* the body never ends: keep dripping spaces */
			return hs_set_out(c, "                ", 16, HS_DRIP);
		}
		return 0;
	}
	if (c->st == HS_STREAM) {
		size_t n = hs_stream_fill(c, mode, buf, sizeof(buf));
		ssize_t w;

		if (n == 0)
			return 0;
		w = send(c->fd, buf, n, MSG_NOSIGNAL);
		if (w < 0)
			return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
		/* a partial send cuts a frame: keep the rest for next time */
		if ((size_t)w < n)
			return hs_set_out(c, buf + w, n - (size_t)w, HS_STREAM);
	}
	return 0;
}

static bool hs_wants_write(const hs_conn *c, hs_mode mode)
{
	if (c->out && c->out_off < c->out_len)
		return c->st != HS_DRIP || hs_now_ms() >= c->next_drip_ms;
	return c->st == HS_STREAM && (!c->ws || mode == HS_WS_FLOOD || mode == HS_WS_FRAGMENTS);
}

int main(int argc, char **argv)
{
	static hs_conn conns[HS_MAX_CONN];
	static struct pollfd pfd[HS_MAX_CONN + 1];
	static int idx[HS_MAX_CONN + 1];
	const char *port_file = NULL;
	long port = -1, lifetime = 600;
	int mode = -1, lfd = -1, i, one = 1, rc = 2;
	bool pf_ok = false;
	unsigned feeds = 0;
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	struct sigaction act;
	uint64_t end_ms;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *e = NULL;

		if (!strcmp(a, "--help")) {
			hs_usage(stdout);
			return 0;
		} else if (!strcmp(a, "--preflight-ok")) {
			pf_ok = true;
		} else if (v && !strcmp(a, "--mode")) {
			for (size_t m = 0; m < sizeof(hs_mode_names) / sizeof(hs_mode_names[0]); m++)
				if (!strcmp(v, hs_mode_names[m]))
					mode = (int)m;
			i++;
		} else if (v && !strcmp(a, "--port")) {
			port = strtol(v, &e, 10);
			if (!*v || *e || port < 0 || port > 65535)
				port = -2;
			i++;
		} else if (v && !strcmp(a, "--port-file")) {
			port_file = v;
			i++;
		} else if (v && !strcmp(a, "--lifetime")) {
			lifetime = strtol(v, &e, 10);
			if (!*v || *e || lifetime < 1)
				lifetime = -1;
			i++;
		} else {
			fprintf(stderr, "ebhostile: unknown or incomplete option '%s'\n(see ebhostile --help)\n", a);
			return 2;
		}
	}
	if (mode < 0 || port < 0 || lifetime < 1) {
		fprintf(stderr, "ebhostile: give --mode MODE and --port N (see ebhostile --help)\n");
		return 2;
	}
	if (mode == HS_WS_FLOOD || mode == HS_WS_FRAGMENTS)
		pf_ok = true;
	memset(&act, 0, sizeof(act));
	act.sa_handler = hs_on_signal;
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	signal(SIGPIPE, SIG_IGN);

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		goto fail;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 512) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl) != 0)
		goto fail;
	if (port_file) {
		char tmp[4096];
		FILE *f;

		snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
		f = fopen(tmp, "w");
		if (!f || fprintf(f, "%u\n", ntohs(sa.sin_port)) < 0 || fclose(f) != 0 ||
		    rename(tmp, port_file) != 0)
			goto fail;
	}
	fprintf(stderr, "ebhostile: %s%s on 127.0.0.1:%u\n", hs_mode_names[mode],
		pf_ok ? " (preflight answered)" : "", ntohs(sa.sin_port));
	for (i = 0; i < HS_MAX_CONN; i++)
		conns[i].fd = -1;
	end_ms = hs_now_ms() + (uint64_t)lifetime * 1000u;
	while (!hs_stop && hs_now_ms() < end_ms) {
		int n = 0, r, timeout = 1000;

		pfd[n].fd = lfd;
		pfd[n].events = POLLIN;
		idx[n++] = -1;
		for (i = 0; i < HS_MAX_CONN; i++) {
			hs_conn *c = &conns[i];

			if (c->fd < 0)
				continue;
			pfd[n].fd = c->fd;
			pfd[n].events = POLLIN;
			if (hs_wants_write(c, (hs_mode)mode))
				pfd[n].events |= POLLOUT;
			if (c->st == HS_DRIP && c->out) {
				uint64_t now = hs_now_ms();
				int left = c->next_drip_ms > now ? (int)(c->next_drip_ms - now) : 0;

				if (left < timeout)
					timeout = left;
			}
			idx[n++] = i;
		}
		r = poll(pfd, (nfds_t)n, timeout);
		if (r < 0 && errno != EINTR)
			goto fail;
		for (i = 0; i < n && r > 0; i++) {
			hs_conn *c;

			if (!pfd[i].revents)
				continue;
			if (idx[i] < 0) {
				for (;;) {
					int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
					int k;

					if (fd < 0)
						break;
					for (k = 0; k < HS_MAX_CONN && conns[k].fd >= 0; k++)
						;
					if (k == HS_MAX_CONN) {
						close(fd);
						continue;
					}
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
					memset(&conns[k], 0, sizeof(conns[k]));
					conns[k].fd = fd;
				}
				continue;
			}
			c = &conns[idx[i]];
			if ((pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) &&
			    hs_on_readable(c, (hs_mode)mode, pf_ok, &feeds) != 0) {
				hs_close(c);
				continue;
			}
			if (c->fd >= 0 && (pfd[i].revents & POLLOUT) &&
			    hs_on_writable(c, (hs_mode)mode) != 0)
				hs_close(c);
		}
		/* drips are due on the clock, not on POLLOUT */
		for (i = 0; i < HS_MAX_CONN; i++)
			if (conns[i].fd >= 0 && conns[i].st == HS_DRIP && conns[i].out &&
			    hs_now_ms() >= conns[i].next_drip_ms && hs_on_writable(&conns[i], (hs_mode)mode) != 0)
				hs_close(&conns[i]);
	}
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "ebhostile: %s\n", strerror(errno));
out:
	for (i = 0; i < HS_MAX_CONN; i++)
		if (conns[i].fd >= 0)
			hs_close(&conns[i]);
	if (lfd >= 0)
		close(lfd);
	return rc;
}
