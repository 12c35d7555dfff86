/*
 * check_wsc.c — eb_wsc against a minimal WebSocket server in a thread on
 * 127.0.0.1 port 0. The server does the RFC 6455 handshake and then runs one
 * scripted exchange per test, crafting frames byte by byte (fragmented,
 * 16/64-bit lengths, ping, close codes, masked or RSV frames, EOF) and
 * checking the client's frames (mask bit, length encoding, payload).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "eb_time.h"
#include "eb_wirelog.h"
#include "eb_wsc.h"

/* ---- the in-test server ---------------------------------------------------- */

typedef enum hs_mode {
	HS_OK = 0,
	HS_REFUSE_401,
	HS_BAD_ACCEPT,
	HS_SILENT,        /* accepts TCP, never answers the upgrade */
	HS_OK_WITH_FRAMES /* 101 and two text frames in one write */
} hs_mode;

typedef struct wsrv wsrv;
typedef void (*ws_script)(wsrv *s, int fd);

struct wsrv {
	int lfd;
	int port;
	pthread_t th;
	hs_mode mode;
	ws_script script;
	char request[4096];      /* the upgrade request as received */
	/* What scripts observed; read by the test after ws_stop. */
	int checks_failed;
	char why[256];
	atomic_int step;         /* scripts wait for the test to reach a step */
	size_t got_len;
	unsigned char got[256];
};

typedef struct sframe {
	bool fin;
	int rsv;
	int opcode;
	bool masked;
	int len_form;            /* 7, 16 or 64 */
	size_t len;
	unsigned char *payload;  /* unmasked, owned */
} sframe;

static void s_fail(wsrv *s, const char *why)
{
	if (s->checks_failed++ == 0)
		snprintf(s->why, sizeof s->why, "%s", why);
}

static bool s_read_exact(int fd, void *buf, size_t n, int timeout_ms)
{
	unsigned char *p = buf;
	while (n > 0) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		if (poll(&pf, 1, timeout_ms) <= 0)
			return false;
		ssize_t k = recv(fd, p, n, 0);
		if (k <= 0)
			return false;
		p += k;
		n -= (size_t)k;
	}
	return true;
}

static void s_write(int fd, const void *buf, size_t n)
{
	const unsigned char *p = buf;
	while (n > 0) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
		if (k <= 0)
			return;
		p += k;
		n -= (size_t)k;
	}
}

/* Builds a server frame; byte0 carries fin/rsv/opcode as given. */
static size_t s_frame(unsigned char *out, int byte0, bool mask,
		      const void *payload, size_t len)
{
	size_t i = 0;
	out[i++] = (unsigned char)byte0;
	unsigned char m = mask ? 0x80 : 0;
	if (len > 65535) {
		out[i++] = m | 127;
		for (int sh = 56; sh >= 0; sh -= 8)
			out[i++] = (unsigned char)((uint64_t)len >> sh);
	} else if (len > 125) {
		out[i++] = m | 126;
		out[i++] = (unsigned char)(len >> 8);
		out[i++] = (unsigned char)len;
	} else {
		out[i++] = m | (unsigned char)len;
	}
	const unsigned char key[4] = { 1, 2, 3, 4 };
	if (mask) {
		memcpy(out + i, key, 4);
		i += 4;
	}
	const unsigned char *p = payload;
	for (size_t k = 0; k < len; k++)
		out[i + k] = mask ? p[k] ^ key[k & 3] : p[k];
	return i + len;
}

static void s_send(int fd, int byte0, const void *payload, size_t len)
{
	unsigned char *buf = malloc(len + 14);
	if (buf == NULL)
		return;
	size_t n = s_frame(buf, byte0, false, payload, len);
	s_write(fd, buf, n);
	free(buf);
}

static bool s_recv_frame(int fd, sframe *f, int timeout_ms)
{
	unsigned char h[14];
	memset(f, 0, sizeof *f);
	if (!s_read_exact(fd, h, 2, timeout_ms))
		return false;
	f->fin = (h[0] & 0x80) != 0;
	f->rsv = (h[0] >> 4) & 7;
	f->opcode = h[0] & 0x0f;
	f->masked = (h[1] & 0x80) != 0;
	uint64_t len = h[1] & 0x7f;
	f->len_form = 7;
	if (len == 126) {
		if (!s_read_exact(fd, h + 2, 2, timeout_ms))
			return false;
		len = ((uint64_t)h[2] << 8) | h[3];
		f->len_form = 16;
	} else if (len == 127) {
		if (!s_read_exact(fd, h + 2, 8, timeout_ms))
			return false;
		len = 0;
		for (int i = 0; i < 8; i++)
			len = (len << 8) | h[2 + i];
		f->len_form = 64;
	}
	unsigned char key[4] = { 0, 0, 0, 0 };
	if (f->masked && !s_read_exact(fd, key, 4, timeout_ms))
		return false;
	f->len = (size_t)len;
	f->payload = malloc(f->len + 1);
	if (f->payload == NULL)
		return false;
	if (f->len > 0 && !s_read_exact(fd, f->payload, f->len, timeout_ms)) {
		free(f->payload);
		f->payload = NULL;
		return false;
	}
	for (size_t i = 0; i < f->len; i++)
		f->payload[i] ^= key[i & 3];
	f->payload[f->len] = '\0';
	return true;
}

static void s_wait_step(wsrv *s, int step)
{
	for (int i = 0; i < 5000 && atomic_load(&s->step) < step; i++)
		usleep(1000);
}

static bool s_handshake(wsrv *s, int fd)
{
	size_t n = 0;
	while (n < sizeof s->request - 1) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		if (poll(&pf, 1, 5000) <= 0)
			return false;
		ssize_t k = recv(fd, s->request + n, sizeof s->request - 1 - n, 0);
		if (k <= 0)
			return false;
		n += (size_t)k;
		s->request[n] = '\0';
		if (strstr(s->request, "\r\n\r\n") != NULL)
			break;
	}
	const char *k = strcasestr(s->request, "\r\nSec-WebSocket-Key: ");
	if (k == NULL) {
		s_fail(s, "no Sec-WebSocket-Key");
		return false;
	}
	k += 21;
	char key[64];
	size_t kl = strcspn(k, "\r");
	if (kl >= sizeof key)
		kl = sizeof key - 1;
	memcpy(key, k, kl);
	key[kl] = '\0';
	char cat[128], accept[64];
	int cl = snprintf(cat, sizeof cat, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
	unsigned char dg[SHA_DIGEST_LENGTH];
	SHA1((const unsigned char *)cat, (size_t)cl, dg);
	EVP_EncodeBlock((unsigned char *)accept, dg, SHA_DIGEST_LENGTH);
	char resp[512];
	int rl;
	switch (s->mode) {
	case HS_REFUSE_401:
		rl = snprintf(resp, sizeof resp, "HTTP/1.1 401 Unauthorized\r\n"
			      "Content-Length: 0\r\n\r\n");
		s_write(fd, resp, (size_t)rl);
		return false;
	case HS_SILENT:
		s_wait_step(s, 1);
		return false;
	case HS_BAD_ACCEPT:
		accept[0] = accept[0] == 'A' ? 'B' : 'A';
		break;
	default:
		break;
	}
	rl = snprintf(resp, sizeof resp, "HTTP/1.1 101 Switching Protocols\r\n"
		      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
		      "Sec-WebSocket-Accept: %s\r\n\r\n", accept);
	if (s->mode == HS_OK_WITH_FRAMES) {
		rl += (int)s_frame((unsigned char *)resp + rl, 0x81, false, "first", 5);
		rl += (int)s_frame((unsigned char *)resp + rl, 0x81, false, "second", 6);
	}
	s_write(fd, resp, (size_t)rl);
	return s->mode != HS_BAD_ACCEPT;
}

static void *ws_main(void *arg)
{
	wsrv *s = arg;
	struct pollfd pf = { .fd = s->lfd, .events = POLLIN };
	if (poll(&pf, 1, 5000) <= 0)
		return NULL;
	int fd = accept(s->lfd, NULL, NULL);
	if (fd < 0)
		return NULL;
	if (s_handshake(s, fd) && s->script != NULL)
		s->script(s, fd);
	close(fd);
	return NULL;
}

static wsrv *ws_start(hs_mode mode, ws_script script)
{
	wsrv *s = calloc(1, sizeof *s);
	ck_assert_ptr_nonnull(s);
	s->mode = mode;
	s->script = script;
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(s->lfd, 0);
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof sin;
	ck_assert_int_eq(bind(s->lfd, (struct sockaddr *)&sin, sizeof sin), 0);
	ck_assert_int_eq(listen(s->lfd, 4), 0);
	ck_assert_int_eq(getsockname(s->lfd, (struct sockaddr *)&sin, &sl), 0);
	s->port = ntohs(sin.sin_port);
	ck_assert_int_eq(pthread_create(&s->th, NULL, ws_main, s), 0);
	return s;
}

/* Joins the server and fails the test with what the script saw. */
static void ws_stop(wsrv *s)
{
	atomic_store(&s->step, 1000);
	pthread_join(s->th, NULL);
	close(s->lfd);
	int failed = s->checks_failed;
	char why[256];
	snprintf(why, sizeof why, "%s", s->why);
	free(s);
	ck_assert_msg(failed == 0, "server saw: %s", why);
}

static eb_wsc *ws_connect(wsrv *s, eb_wirelog *w)
{
	char url[64];
	snprintf(url, sizeof url, "http://127.0.0.1:%d", s->port);
	eb_wsc *c = NULL;
	eb_err err;
	int status = -1;
	eb_rc rc = eb_wsc_connect(url, "/api/sync/notifications", 3000, w, 7,
				  &c, &status, &err);
	ck_assert_msg(rc == EB_OK, "connect: %s", err.msg);
	ck_assert_int_eq(status, 101);
	return c;
}

static void expect_event(eb_wsc *c, eb_wsc_event ev, const char *data,
			 size_t len)
{
	eb_wsc_msg m;
	eb_err err;
	ck_assert_int_eq(eb_wsc_recv(c, 3000, &m, &err), EB_OK);
	ck_assert_msg(m.ev == ev, "event %d, want %d (%s)", m.ev, ev,
		      m.data ? m.data : "");
	if (data != NULL) {
		ck_assert_uint_eq(m.len, len);
		ck_assert_int_eq(memcmp(m.data, data, len), 0);
	}
	ck_assert_int_eq(m.data[m.len], '\0');
	eb_wsc_msg_clear(&m);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	if (d == NULL)
		return -1;
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

static double mono_ms(void)
{
	return (double)eb_time_mono_ns() / 1e6;
}

/* ---- scripts (run in the server thread) -------------------------------------- */

static void sc_echo(wsrv *s, int fd)
{
	sframe f;
	if (!s_recv_frame(fd, &f, 10000)) {
		s_fail(s, "no frame from the client");
		return;
	}
	if (!f.masked)
		s_fail(s, "client frame not masked");
	if (!f.fin || f.opcode != 1 || f.rsv != 0)
		s_fail(s, "client frame not fin/text/rsv0");
	s_send(fd, 0x81, f.payload, f.len);
	free(f.payload);
	s_wait_step(s, 1);
}

START_TEST(test_wsc_handshake_and_masked_text_echo)
{
	wsrv *s = ws_start(HS_OK, sc_echo);
	eb_wsc *c = ws_connect(s, NULL);
	eb_err err;
	ck_assert_int_eq(eb_wsc_send_text(c, "hello", 5, &err), EB_OK);
	expect_event(c, EB_WSC_TEXT, "hello", 5);
	ck_assert(strncmp(s->request, "GET /api/sync/notifications HTTP/1.1\r\n", 38) == 0);
	ck_assert_ptr_nonnull(strcasestr(s->request, "\r\nUpgrade: websocket\r\n"));
	ck_assert_ptr_nonnull(strcasestr(s->request, "\r\nConnection: Upgrade\r\n"));
	ck_assert_ptr_nonnull(strcasestr(s->request, "\r\nSec-WebSocket-Version: 13\r\n"));
	char host[64];
	snprintf(host, sizeof host, "\r\nHost: 127.0.0.1:%d\r\n", s->port);
	ck_assert_ptr_nonnull(strstr(s->request, host));
	eb_wsc_free(c);
	ws_stop(s);
}
END_TEST

static void sc_lengths(wsrv *s, int fd)
{
	static const size_t sizes[] = { 0, 125, 126, 65535, 65536, 200000 };
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		unsigned char *p = malloc(sizes[i] + 1);
		for (size_t k = 0; k < sizes[i]; k++)
			p[k] = (unsigned char)(k * 7 + i);
		s_send(fd, 0x82, p, sizes[i]);
		free(p);
	}
	/* And the client's encodings, in the same order. */
	static const int forms[] = { 7, 7, 16, 16, 64, 64 };
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		sframe f;
		if (!s_recv_frame(fd, &f, 10000)) {
			s_fail(s, "missing client frame");
			return;
		}
		if (f.len != sizes[i] || f.len_form != forms[i] || !f.masked ||
		    f.opcode != 2)
			s_fail(s, "client frame length encoding wrong");
		for (size_t k = 0; k < f.len; k++)
			if (f.payload[k] != (unsigned char)(k * 3 + i)) {
				s_fail(s, "client payload corrupted by masking");
				break;
			}
		free(f.payload);
	}
	s_wait_step(s, 1);
}

START_TEST(test_wsc_handles_7_16_and_64_bit_lengths_both_ways)
{
	static const size_t sizes[] = { 0, 125, 126, 65535, 65536, 200000 };
	wsrv *s = ws_start(HS_OK, sc_lengths);
	eb_wsc *c = ws_connect(s, NULL);
	eb_err err;
	for (size_t i = 0; i < 6; i++) {
		eb_wsc_msg m;
		ck_assert_int_eq(eb_wsc_recv(c, 3000, &m, &err), EB_OK);
		ck_assert_int_eq(m.ev, EB_WSC_BINARY);
		ck_assert_uint_eq(m.len, sizes[i]);
		size_t bad = 0;
		for (size_t k = 0; k < m.len; k++)
			bad += (unsigned char)m.data[k] != (unsigned char)(k * 7 + i);
		ck_assert_uint_eq(bad, 0);
		eb_wsc_msg_clear(&m);
	}
	for (size_t i = 0; i < 6; i++) {
		unsigned char *p = malloc(sizes[i] + 1);
		for (size_t k = 0; k < sizes[i]; k++)
			p[k] = (unsigned char)(k * 3 + i);
		eb_rc rc = eb_wsc_send_frame(c, 2, true, p, sizes[i], false, &err);
		ck_assert_msg(rc == EB_OK, "send %zu bytes: %s", sizes[i], err.msg);
		free(p);
	}
	eb_wsc_free(c);
	ws_stop(s);
}
END_TEST

static void sc_fragments(wsrv *s, int fd)
{
	s_send(fd, 0x01, "Hel", 3);          /* text, fin=0 */
	s_send(fd, 0x89, "p1", 2);           /* ping in between */
	s_send(fd, 0x00, "lo ", 3);          /* continuation, fin=0 */
	s_send(fd, 0x8a, "", 0);             /* unsolicited pong */
	s_send(fd, 0x80, "world", 5);        /* continuation, fin=1 */
	s_send(fd, 0x02, "\x00\x01", 2);     /* binary, fin=0 */
	s_send(fd, 0x80, "\x02", 1);
	sframe f;
	if (!s_recv_frame(fd, &f, 10000) || f.opcode != 10 || !f.masked ||
	    f.len != 2 || memcmp(f.payload, "p1", 2) != 0)
		s_fail(s, "no masked pong echoing the ping payload");
	free(f.payload);
	s_wait_step(s, 1);
}

START_TEST(test_wsc_joins_fragments_around_control_frames_and_pongs_pings)
{
	wsrv *s = ws_start(HS_OK, sc_fragments);
	eb_wsc *c = ws_connect(s, NULL);
	expect_event(c, EB_WSC_PING, "p1", 2);
	expect_event(c, EB_WSC_PONG, "", 0);
	expect_event(c, EB_WSC_TEXT, "Hello world", 11);
	expect_event(c, EB_WSC_BINARY, "\x00\x01\x02", 3);
	eb_wsc_free(c);
	ws_stop(s);
}
END_TEST

static void sc_close_4400(wsrv *s, int fd)
{
	unsigned char p[32] = { 0x11, 0x30 };   /* 4400 */
	memcpy(p + 2, "bad message", 11);
	s_send(fd, 0x88, p, 13);
	sframe f;
	if (!s_recv_frame(fd, &f, 10000) || f.opcode != 8 || !f.masked ||
	    f.len < 2 || ((f.payload[0] << 8) | f.payload[1]) != 4400)
		s_fail(s, "client did not echo close 4400");
	free(f.payload);
	/* Exactly one close: nothing more arrives. */
	if (s_recv_frame(fd, &f, 200)) {
		s_fail(s, "client sent a second frame after its close");
		free(f.payload);
	}
}

START_TEST(test_wsc_reports_close_code_and_reason_and_replies_once)
{
	wsrv *s = ws_start(HS_OK, sc_close_4400);
	eb_wsc *c = ws_connect(s, NULL);
	eb_wsc_msg m;
	eb_err err;
	ck_assert_int_eq(eb_wsc_recv(c, 3000, &m, &err), EB_OK);
	ck_assert_int_eq(m.ev, EB_WSC_CLOSE);
	ck_assert_int_eq(m.close_code, 4400);
	ck_assert_str_eq(m.data, "bad message");
	eb_wsc_msg_clear(&m);
	expect_event(c, EB_WSC_EOF, NULL, 0);
	expect_event(c, EB_WSC_EOF, NULL, 0);
	ws_stop(s);
	eb_wsc_free(c);
}
END_TEST

static void sc_close_empty(wsrv *s, int fd)
{
	s_send(fd, 0x88, "", 0);
	sframe f;
	if (!s_recv_frame(fd, &f, 10000) || f.opcode != 8 || f.len != 0)
		s_fail(s, "client did not answer an empty close with an empty close");
	free(f.payload);
}

START_TEST(test_wsc_close_without_code_is_1005)
{
	wsrv *s = ws_start(HS_OK, sc_close_empty);
	eb_wsc *c = ws_connect(s, NULL);
	eb_wsc_msg m;
	eb_err err;
	ck_assert_int_eq(eb_wsc_recv(c, 3000, &m, &err), EB_OK);
	ck_assert_int_eq(m.ev, EB_WSC_CLOSE);
	ck_assert_int_eq(m.close_code, 1005);
	ck_assert_uint_eq(m.len, 0);
	eb_wsc_msg_clear(&m);
	ws_stop(s);
	eb_wsc_free(c);
}
END_TEST

static void sc_client_close(wsrv *s, int fd)
{
	sframe f;
	if (!s_recv_frame(fd, &f, 10000) || f.opcode != 8 || f.len != 5 ||
	    ((f.payload[0] << 8) | f.payload[1]) != 1000 ||
	    memcmp(f.payload + 2, "bye", 3) != 0)
		s_fail(s, "client close 1000 bye not received");
	free(f.payload);
	unsigned char p[2] = { 0x03, 0xe8 };
	s_send(fd, 0x88, p, 2);
	if (s_recv_frame(fd, &f, 200)) {
		s_fail(s, "client answered the close reply with another close");
		free(f.payload);
	}
}

START_TEST(test_wsc_client_initiated_close_is_not_echoed_back)
{
	wsrv *s = ws_start(HS_OK, sc_client_close);
	eb_wsc *c = ws_connect(s, NULL);
	eb_err err;
	ck_assert_int_eq(eb_wsc_send_close(c, 1000, "bye", &err), EB_OK);
	eb_wsc_msg m;
	ck_assert_int_eq(eb_wsc_recv(c, 3000, &m, &err), EB_OK);
	ck_assert_int_eq(m.ev, EB_WSC_CLOSE);
	ck_assert_int_eq(m.close_code, 1000);
	eb_wsc_msg_clear(&m);
	ws_stop(s);
	eb_wsc_free(c);
}
END_TEST

/* Each protocol-error script sends one forbidden thing after a good frame. */
static void sc_masked(wsrv *s, int fd)
{
	(void)s;
	s_send(fd, 0x81, "ok", 2);
	unsigned char buf[32];
	size_t n = s_frame(buf, 0x81, true, "hidden", 6);
	s_write(fd, buf, n);
	s_wait_step(s, 1);
}
static void sc_rsv(wsrv *s, int fd)
{
	s_send(fd, 0x81, "ok", 2);
	s_send(fd, 0xc1, "rsv1", 4);
	s_wait_step(s, 1);
}
static void sc_opcode3(wsrv *s, int fd)
{
	s_send(fd, 0x81, "ok", 2);
	s_send(fd, 0x83, "x", 1);
	s_wait_step(s, 1);
}
static void sc_orphan_cont(wsrv *s, int fd)
{
	s_send(fd, 0x81, "ok", 2);
	s_send(fd, 0x80, "x", 1);
	s_wait_step(s, 1);
}
static void sc_interleaved_data(wsrv *s, int fd)
{
	s_send(fd, 0x81, "ok", 2);
	s_send(fd, 0x01, "a", 1);
	s_send(fd, 0x81, "b", 1);
	s_wait_step(s, 1);
}
static void sc_big_ping(wsrv *s, int fd)
{
	char p[126];
	memset(p, 'p', sizeof p);
	s_send(fd, 0x81, "ok", 2);
	s_send(fd, 0x89, p, sizeof p);
	s_wait_step(s, 1);
}
static void sc_fragmented_ping(wsrv *s, int fd)
{
	s_send(fd, 0x81, "ok", 2);
	s_send(fd, 0x09, "p", 1);
	s_wait_step(s, 1);
}
static void sc_bad_utf8(wsrv *s, int fd)
{
	s_send(fd, 0x81, "ok", 2);
	s_send(fd, 0x81, "\xc3\x28", 2);
	s_wait_step(s, 1);
}
static void sc_close_1byte(wsrv *s, int fd)
{
	s_send(fd, 0x81, "ok", 2);
	s_send(fd, 0x88, "\x03", 1);
	s_wait_step(s, 1);
}

static void expect_protocol_error(ws_script script, const char *why)
{
	wsrv *s = ws_start(HS_OK, script);
	eb_wirelog *w = eb_wirelog_new(0, 0);
	eb_wsc *c = ws_connect(s, w);
	expect_event(c, EB_WSC_TEXT, "ok", 2);
	eb_wsc_msg m;
	eb_err err;
	ck_assert_int_eq(eb_wsc_recv(c, 3000, &m, &err), EB_OK);
	ck_assert_msg(m.ev == EB_WSC_PROTOCOL_ERROR, "event %d, want PROTOCOL_ERROR (%s)",
		      m.ev, why);
	ck_assert_msg(strstr(m.data, why) != NULL, "'%s' lacks '%s'", m.data, why);
	eb_wsc_msg_clear(&m);
	/* The stream cannot be trusted after a violation. */
	expect_event(c, EB_WSC_EOF, NULL, 0);
	ck_assert(!eb_wsc_pending(c));
	bool noted = false;
	for (size_t i = 0; i < eb_wirelog_count(w); i++)
		if (eb_wirelog_get(w, i)->dir == EB_WIRE_NOTE &&
		    strstr(eb_wirelog_get(w, i)->text, "protocol error") != NULL)
			noted = true;
	ck_assert(noted);
	eb_wsc_free(c);
	eb_wirelog_free(w);
	ws_stop(s);
}

START_TEST(test_wsc_masked_server_frame_is_protocol_error)
{
	expect_protocol_error(sc_masked, "masked");
}
END_TEST

START_TEST(test_wsc_rsv_bits_are_protocol_error)
{
	expect_protocol_error(sc_rsv, "RSV");
}
END_TEST

START_TEST(test_wsc_reserved_opcode_is_protocol_error)
{
	expect_protocol_error(sc_opcode3, "opcode 3");
}
END_TEST

START_TEST(test_wsc_orphan_continuation_is_protocol_error)
{
	expect_protocol_error(sc_orphan_cont, "continuation");
}
END_TEST

START_TEST(test_wsc_data_frame_inside_fragmented_message_is_protocol_error)
{
	expect_protocol_error(sc_interleaved_data, "fragmented message");
}
END_TEST

START_TEST(test_wsc_control_frame_over_125_bytes_is_protocol_error)
{
	expect_protocol_error(sc_big_ping, "125");
}
END_TEST

START_TEST(test_wsc_fragmented_control_frame_is_protocol_error)
{
	expect_protocol_error(sc_fragmented_ping, "fragmented control");
}
END_TEST

START_TEST(test_wsc_invalid_utf8_text_is_protocol_error)
{
	expect_protocol_error(sc_bad_utf8, "UTF-8");
}
END_TEST

START_TEST(test_wsc_one_byte_close_payload_is_protocol_error)
{
	expect_protocol_error(sc_close_1byte, "1-byte");
}
END_TEST

static void sc_oversize(wsrv *s, int fd)
{
	char p[1001];
	memset(p, 'a', sizeof p);
	s_send(fd, 0x81, p, 1000);      /* exactly at the bound */
	s_send(fd, 0x01, p, 600);       /* fragments summing past it */
	s_send(fd, 0x80, p, 401);
	s_wait_step(s, 1);
}

START_TEST(test_wsc_bounds_message_size_across_fragments)
{
	wsrv *s = ws_start(HS_OK, sc_oversize);
	eb_wsc *c = ws_connect(s, NULL);
	eb_wsc_set_max_message(c, 1000);
	eb_wsc_msg m;
	eb_err err;
	ck_assert_int_eq(eb_wsc_recv(c, 3000, &m, &err), EB_OK);
	ck_assert_int_eq(m.ev, EB_WSC_TEXT);
	ck_assert_uint_eq(m.len, 1000);
	eb_wsc_msg_clear(&m);
	ck_assert_int_eq(eb_wsc_recv(c, 3000, &m, &err), EB_OK);
	ck_assert_int_eq(m.ev, EB_WSC_PROTOCOL_ERROR);
	ck_assert_ptr_nonnull(strstr(m.data, "1000 bytes"));
	eb_wsc_msg_clear(&m);
	eb_wsc_free(c);
	ws_stop(s);
}
END_TEST

static void sc_default_bound(wsrv *s, int fd)
{
	/* Only the header: the client must refuse before the payload. */
	unsigned char h[10] = { 0x82, 127, 0, 0, 0, 0, 0, 0x10, 0, 1 };
	s_write(fd, h, sizeof h);
	s_wait_step(s, 1);
}

START_TEST(test_wsc_default_bound_is_1_mib)
{
	wsrv *s = ws_start(HS_OK, sc_default_bound);
	eb_wsc *c = ws_connect(s, NULL);
	eb_wsc_msg m;
	eb_err err;
	ck_assert_int_eq(eb_wsc_recv(c, 3000, &m, &err), EB_OK);
	ck_assert_int_eq(m.ev, EB_WSC_PROTOCOL_ERROR);
	ck_assert_ptr_nonnull(strstr(m.data, "1048576"));
	eb_wsc_msg_clear(&m);
	eb_wsc_free(c);
	ws_stop(s);
}
END_TEST

/* A text message of endless 1-byte fragments, a fragment every 2 ms (a
 * hostile server): never a complete message, never a quiet socket. */
static void sc_endless_fragments(wsrv *s, int fd)
{
	s_write(fd, "\x01\x01{", 3);
	while (atomic_load(&s->step) < 1) {
		unsigned char f[3] = { 0x00, 0x01, ' ' };
		struct timespec ts = { 0, 2000000 };

		if (send(fd, f, sizeof f, MSG_NOSIGNAL) != (ssize_t)sizeof f)
			break;
		nanosleep(&ts, NULL);
	}
}

START_TEST(test_wsc_recv_deadline_holds_while_fragments_keep_coming)
{
	wsrv *s = ws_start(HS_OK, sc_endless_fragments);
	eb_wsc *c = ws_connect(s, NULL);
	eb_wsc_msg m;
	eb_err err;
	uint64_t t0 = eb_time_mono_ns();

	ck_assert_int_eq(eb_wsc_recv(c, 300, &m, &err), EB_OK);
	uint64_t took_ms = (eb_time_mono_ns() - t0) / 1000000u;
	ck_assert_int_eq(m.ev, EB_WSC_TIMEOUT);
	eb_wsc_msg_clear(&m);
	/* the bytes kept coming: only the deadline ended the wait */
	ck_assert_msg(took_ms >= 290 && took_ms < 1500, "took %llu ms",
		      (unsigned long long)took_ms);
	atomic_store(&s->step, 1);
	eb_wsc_free(c);
	ws_stop(s);
}
END_TEST

static void sc_eof(wsrv *s, int fd)
{
	(void)s;
	s_send(fd, 0x81, "last", 4);
	/* Half a frame, then the TCP close. */
	s_write(fd, "\x81\x05he", 4);
}

START_TEST(test_wsc_reports_eof_without_close_frame)
{
	wsrv *s = ws_start(HS_OK, sc_eof);
	eb_wsc *c = ws_connect(s, NULL);
	expect_event(c, EB_WSC_TEXT, "last", 4);
	expect_event(c, EB_WSC_EOF, NULL, 0);
	expect_event(c, EB_WSC_EOF, NULL, 0);
	eb_err err;
	ws_stop(s);
	/* Sending on a dead connection fails cleanly, without SIGPIPE. */
	eb_rc rc = EB_OK;
	for (int i = 0; i < 50 && rc == EB_OK; i++) {
		rc = eb_wsc_send_text(c, "x", 1, &err);
		usleep(1000);
	}
	ck_assert_int_eq(rc, EB_ERR_IO);
	eb_wsc_free(c);
}
END_TEST

static void sc_reset(wsrv *s, int fd)
{
	(void)s;
	s_send(fd, 0x81, "bye", 3);
	/* Linger 0: close sends a RST instead of a FIN. */
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	usleep(50000);
}

START_TEST(test_wsc_reset_connection_is_eof)
{
	wsrv *s = ws_start(HS_OK, sc_reset);
	eb_wsc *c = ws_connect(s, NULL);
	expect_event(c, EB_WSC_TEXT, "bye", 3);
	ws_stop(s);
	eb_wsc_msg m;
	eb_err err;
	ck_assert_int_eq(eb_wsc_recv(c, 3000, &m, &err), EB_OK);
	ck_assert_int_eq(m.ev, EB_WSC_EOF);
	ck_assert_str_eq(m.data, "connection reset");
	eb_wsc_msg_clear(&m);
	eb_wsc_free(c);
}
END_TEST

static void sc_silent(wsrv *s, int fd)
{
	(void)fd;
	s_wait_step(s, 1);
}

START_TEST(test_wsc_recv_times_out_within_bound)
{
	wsrv *s = ws_start(HS_OK, sc_silent);
	eb_wsc *c = ws_connect(s, NULL);
	eb_wsc_msg m;
	eb_err err;
	double t0 = mono_ms();
	ck_assert_int_eq(eb_wsc_recv(c, 200, &m, &err), EB_OK);
	double dt = mono_ms() - t0;
	ck_assert_int_eq(m.ev, EB_WSC_TIMEOUT);
	ck_assert(dt >= 190.0);
	ck_assert(dt < 2000.0);
	eb_wsc_msg_clear(&m);
	/* timeout 0 is a non-blocking check. */
	t0 = mono_ms();
	ck_assert_int_eq(eb_wsc_recv(c, 0, &m, &err), EB_OK);
	ck_assert_int_eq(m.ev, EB_WSC_TIMEOUT);
	ck_assert(mono_ms() - t0 < 500.0);
	eb_wsc_msg_clear(&m);
	eb_wsc_free(c);
	ws_stop(s);
}
END_TEST

START_TEST(test_wsc_send_to_a_server_that_never_reads_times_out)
{
	wsrv *s = ws_start(HS_OK, sc_silent);
	eb_wsc *c = ws_connect(s, NULL);
	eb_wsc_set_send_timeout(c, 200);
	size_t n = 1024 * 1024;
	char *p = calloc(1, n);
	ck_assert_ptr_nonnull(p);
	eb_err err;
	eb_rc rc = EB_OK;
	double t0 = mono_ms(), t_fail = 0;
	for (int i = 0; i < 256 && rc == EB_OK; i++) {
		t_fail = mono_ms();
		rc = eb_wsc_send_frame(c, 2, true, p, n, false, &err);
	}
	double dt = mono_ms() - t_fail;
	free(p);
	ck_assert_int_eq(rc, EB_ERR_IO);
	ck_assert_ptr_nonnull(strstr(err.msg, "timed out"));
	ck_assert(dt >= 190.0 && dt < 2000.0);
	ck_assert(mono_ms() - t0 < 20000.0);
	eb_wsc_free(c);
	ws_stop(s);
}
END_TEST

START_TEST(test_wsc_frames_right_after_101_are_buffered_and_pending)
{
	wsrv *s = ws_start(HS_OK_WITH_FRAMES, sc_silent);
	eb_wsc *c = ws_connect(s, NULL);
	ck_assert(eb_wsc_pending(c));
	uint64_t before = eb_time_mono_ns();
	eb_wsc_msg m;
	eb_err err;
	ck_assert_int_eq(eb_wsc_recv(c, 0, &m, &err), EB_OK);
	ck_assert_int_eq(m.ev, EB_WSC_TEXT);
	ck_assert_str_eq(m.data, "first");
	ck_assert(m.recv_mono_ns > 0 && m.recv_mono_ns <= before);
	eb_wsc_msg_clear(&m);
	ck_assert(eb_wsc_pending(c));
	expect_event(c, EB_WSC_TEXT, "second", 6);
	ck_assert(!eb_wsc_pending(c));
	ck_assert_int_ge(eb_wsc_fd(c), 0);
	eb_wsc_free(c);
	ws_stop(s);
}
END_TEST

static void sc_pending_fragment(wsrv *s, int fd)
{
	unsigned char buf[64];
	size_t n = s_frame(buf, 0x01, false, "par", 3);
	s_write(fd, buf, n);
	s_wait_step(s, 1);
	s_send(fd, 0x80, "t", 1);
	s_wait_step(s, 2);
}

START_TEST(test_wsc_pending_ignores_a_lone_fragment)
{
	wsrv *s = ws_start(HS_OK, sc_pending_fragment);
	eb_wsc *c = ws_connect(s, NULL);
	eb_wsc_msg m;
	eb_err err;
	ck_assert_int_eq(eb_wsc_recv(c, 200, &m, &err), EB_OK);
	ck_assert_int_eq(m.ev, EB_WSC_TIMEOUT);
	eb_wsc_msg_clear(&m);
	ck_assert(!eb_wsc_pending(c));
	atomic_store(&s->step, 1);
	expect_event(c, EB_WSC_TEXT, "part", 4);
	eb_wsc_free(c);
	ws_stop(s);
}
END_TEST

static void sc_raw_frames(wsrv *s, int fd)
{
	sframe f;
	/* Fragmented text via send_frame. */
	if (!s_recv_frame(fd, &f, 10000) || f.fin || f.opcode != 1 || !f.masked ||
	    memcmp(f.payload, "ab", 2) != 0)
		s_fail(s, "first fragment wrong");
	free(f.payload);
	if (!s_recv_frame(fd, &f, 10000) || !f.fin || f.opcode != 0 ||
	    memcmp(f.payload, "cd", 2) != 0)
		s_fail(s, "continuation wrong");
	free(f.payload);
	/* Unmasked binary. */
	if (!s_recv_frame(fd, &f, 10000) || f.masked || f.opcode != 2 ||
	    f.len != 3 || memcmp(f.payload, "\x00\xff\x01", 3) != 0)
		s_fail(s, "unmasked binary wrong");
	free(f.payload);
	/* Raw bytes arrive exactly as sent. */
	unsigned char raw[4];
	if (!s_read_exact(fd, raw, 4, 3000) || memcmp(raw, "\x81\x85\x00\x00", 4) != 0)
		s_fail(s, "raw bytes wrong");
	s_wait_step(s, 1);
}

START_TEST(test_wsc_sends_fragments_unmasked_and_raw_bytes_as_asked)
{
	wsrv *s = ws_start(HS_OK, sc_raw_frames);
	eb_wirelog *w = eb_wirelog_new(0, 0);
	eb_wsc *c = ws_connect(s, w);
	eb_err err;
	ck_assert_int_eq(eb_wsc_send_frame(c, 1, false, "ab", 2, false, &err), EB_OK);
	ck_assert_int_eq(eb_wsc_send_frame(c, 0, true, "cd", 2, false, &err), EB_OK);
	ck_assert_int_eq(eb_wsc_send_frame(c, 2, true, "\x00\xff\x01", 3, true, &err), EB_OK);
	ck_assert_int_eq(eb_wsc_send_raw(c, "\x81\x85\x00\x00", 4, &err), EB_OK);
	ck_assert_int_eq(eb_wsc_send_frame(c, 16, true, "", 0, false, &err), EB_ERR_ARG);
	atomic_store(&s->step, 1);
	eb_wsc_free(c);
	ws_stop(s);
	bool raw = false, unmasked = false;
	for (size_t i = 0; i < eb_wirelog_count(w); i++) {
		const char *t = eb_wirelog_get(w, i)->text;
		if (strstr(t, "[raw 4 bytes]"))
			raw = true;
		if (strstr(t, "[unmasked] [binary 3 bytes]"))
			unmasked = true;
	}
	ck_assert(raw && unmasked);
	eb_wirelog_free(w);
}
END_TEST

static void sc_wirelog(wsrv *s, int fd)
{
	(void)s;
	sframe f;
	if (s_recv_frame(fd, &f, 10000))
		free(f.payload);
	s_send(fd, 0x81, "{\"type\":\"auth_ok\"}", 18);
	s_send(fd, 0x82, "abcd", 4);
	s_send(fd, 0x89, "", 0);
	if (s_recv_frame(fd, &f, 10000))
		free(f.payload);
	unsigned char p[16] = { 0x11, 0x31 };
	memcpy(p + 2, "auth", 4);
	s_send(fd, 0x88, p, 6);
	if (s_recv_frame(fd, &f, 10000))
		free(f.payload);
}

START_TEST(test_wsc_wire_log_shows_text_and_summarises_other_frames)
{
	wsrv *s = ws_start(HS_OK, sc_wirelog);
	eb_wirelog *w = eb_wirelog_new(0, 0);
	eb_wsc *c = ws_connect(s, w);
	eb_err err;
	ck_assert_int_eq(eb_wsc_send_text(c, "{\"type\":\"auth\"}", 15, &err), EB_OK);
	expect_event(c, EB_WSC_TEXT, NULL, 0);
	expect_event(c, EB_WSC_BINARY, NULL, 0);
	expect_event(c, EB_WSC_PING, NULL, 0);
	expect_event(c, EB_WSC_CLOSE, NULL, 0);
	ws_stop(s);
	eb_wsc_free(c);
	static const struct { eb_wire_dir dir; const char *proto, *text; } want[] = {
		{ EB_WIRE_OUT, "HTTP", "GET /api/sync/notifications HTTP/1.1" },
		{ EB_WIRE_IN, "HTTP", "HTTP/1.1 101" },
		{ EB_WIRE_OUT, "WS", "{\"type\":\"auth\"}" },
		{ EB_WIRE_IN, "WS", "{\"type\":\"auth_ok\"}" },
		{ EB_WIRE_IN, "WS", "[binary 4 bytes]" },
		{ EB_WIRE_IN, "WS", "[ping]" },
		{ EB_WIRE_OUT, "WS", "[pong]" },
		{ EB_WIRE_IN, "WS", "[close 4401 auth]" },
		{ EB_WIRE_OUT, "WS", "[close 4401]" },
	};
	size_t n = sizeof want / sizeof want[0];
	ck_assert_uint_ge(eb_wirelog_count(w), n);
	for (size_t i = 0; i < n; i++) {
		const eb_wire_entry *e = eb_wirelog_get(w, i);
		ck_assert_int_eq(e->dir, want[i].dir);
		ck_assert_str_eq(e->proto, want[i].proto);
		ck_assert_int_eq(e->conn, 7);
		ck_assert_msg(strstr(e->text, want[i].text) != NULL,
			      "entry %zu '%s' lacks '%s'", i, e->text, want[i].text);
	}
	eb_wirelog_free(w);
}
END_TEST

static void sc_long_text(wsrv *s, int fd)
{
	(void)s;
	char *big = malloc(10000);
	if (big == NULL)
		return;
	memset(big, 'a', 10000);
	s_send(fd, 0x81, big, 10000);
	free(big);
	sframe f;
	if (s_recv_frame(fd, &f, 10000))
		free(f.payload);
}

START_TEST(test_wsc_wire_log_marks_a_long_message_cut_with_the_bytes_omitted)
{
	wsrv *s = ws_start(HS_OK, sc_long_text);
	eb_wirelog *w = eb_wirelog_new(0, 0);
	eb_wsc *c = ws_connect(s, w);
	expect_event(c, EB_WSC_TEXT, NULL, 0);
	ws_stop(s);
	eb_wsc_free(c);
	const char *text = NULL;
	for (size_t i = 0; i < eb_wirelog_count(w); i++) {
		const eb_wire_entry *e = eb_wirelog_get(w, i);
		if (e->dir == EB_WIRE_IN && strcmp(e->proto, "WS") == 0)
			text = e->text;
	}
	ck_assert_ptr_nonnull(text);
	/* 4096 bytes shown, the other 5904 named, not silently dropped */
	ck_assert_uint_eq(strspn(text, "a"), 4096);
	ck_assert_str_eq(text + 4096, "[... 5904 bytes more]");
	eb_wirelog_free(w);
}
END_TEST

START_TEST(test_wsc_refused_upgrade_reports_http_status)
{
	wsrv *s = ws_start(HS_REFUSE_401, NULL);
	char url[64];
	snprintf(url, sizeof url, "ws://127.0.0.1:%d", s->port);
	eb_wsc *c = (eb_wsc *)1;
	eb_err err;
	int status = 0;
	ck_assert_int_eq(eb_wsc_connect(url, "/api/sync/notifications", 3000,
					NULL, 0, &c, &status, &err), EB_ERR_SHAPE);
	ck_assert_int_eq(status, 401);
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(strstr(err.msg, "401"));
	ws_stop(s);
}
END_TEST

START_TEST(test_wsc_wrong_accept_key_is_refused)
{
	wsrv *s = ws_start(HS_BAD_ACCEPT, NULL);
	char url[64];
	snprintf(url, sizeof url, "ws://127.0.0.1:%d/", s->port);
	eb_wsc *c = NULL;
	eb_err err;
	int status = 0;
	ck_assert_int_eq(eb_wsc_connect(url, "/x", 3000, NULL, 0, &c, &status,
					&err), EB_ERR_SHAPE);
	ck_assert_int_eq(status, 101);
	ck_assert_ptr_nonnull(strstr(err.msg, "Sec-WebSocket-Accept"));
	ws_stop(s);
}
END_TEST

START_TEST(test_wsc_silent_server_times_out_handshake_within_bound)
{
	wsrv *s = ws_start(HS_SILENT, NULL);
	char url[64];
	snprintf(url, sizeof url, "http://127.0.0.1:%d", s->port);
	eb_wsc *c = NULL;
	eb_err err;
	double t0 = mono_ms();
	ck_assert_int_eq(eb_wsc_connect(url, "/x", 300, NULL, 0, &c, NULL, &err),
			 EB_ERR_IO);
	double dt = mono_ms() - t0;
	ck_assert(dt >= 280.0 && dt < 3000.0);
	ws_stop(s);
}
END_TEST

START_TEST(test_wsc_refused_connection_is_io_error)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof sin;
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	close(fd);
	char url[64];
	snprintf(url, sizeof url, "http://127.0.0.1:%d", ntohs(sin.sin_port));
	eb_wsc *c = NULL;
	eb_err err;
	int status = -1;
	ck_assert_int_eq(eb_wsc_connect(url, "/x", 2000, NULL, 0, &c, &status, &err),
			 EB_ERR_IO);
	ck_assert_int_eq(status, 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "refused"));
}
END_TEST

START_TEST(test_wsc_localhost_url_falls_back_across_addresses)
{
	wsrv *s = ws_start(HS_OK, sc_echo);
	char url[64];
	snprintf(url, sizeof url, "ws://localhost:%d", s->port);
	eb_wsc *c = NULL;
	eb_err err;
	ck_assert_int_eq(eb_wsc_connect(url, "/x", 3000, NULL, 0, &c, NULL, &err),
			 EB_OK);
	ck_assert_int_eq(eb_wsc_send_text(c, "hi", 2, &err), EB_OK);
	expect_event(c, EB_WSC_TEXT, "hi", 2);
	eb_wsc_free(c);
	ws_stop(s);
}
END_TEST

START_TEST(test_wsc_ipv6_literal_url_is_parsed)
{
	eb_wsc *c = NULL;
	eb_err err;
	/* Port 1 on ::1 is closed (or IPv6 is off): an I/O error, not a
	 * parse error. */
	ck_assert_int_eq(eb_wsc_connect("ws://[::1]:1", "/x", 1000, NULL, 0, &c,
					NULL, &err), EB_ERR_IO);
	ck_assert_int_eq(eb_wsc_connect("ws://[::1:1", "/x", 1000, NULL, 0, &c,
					NULL, &err), EB_ERR_ARG);
}
END_TEST

START_TEST(test_wsc_rejects_bad_arguments_and_frees_null)
{
	eb_wsc *c = NULL;
	eb_err err;
	ck_assert_int_eq(eb_wsc_connect("https://127.0.0.1:1", "/x", 100, NULL, 0,
					&c, NULL, &err), EB_ERR_ARG);
	ck_assert_int_eq(eb_wsc_connect("http://127.0.0.1:", "/x", 100, NULL, 0,
					&c, NULL, &err), EB_ERR_ARG);
	ck_assert_int_eq(eb_wsc_connect("http://127.0.0.1:1", "x", 100, NULL, 0,
					&c, NULL, &err), EB_ERR_ARG);
	eb_wsc_free(NULL);
	eb_wsc_msg_clear(NULL);
	ck_assert_int_eq(eb_wsc_fd(NULL), -1);
	ck_assert(!eb_wsc_pending(NULL));
}
END_TEST

START_TEST(test_wsc_leaks_no_fds)
{
	int before = count_fds();
	for (int i = 0; i < 3; i++) {
		wsrv *s = ws_start(HS_OK, sc_echo);
		eb_wsc *c = ws_connect(s, NULL);
		eb_err err;
		ck_assert_int_eq(eb_wsc_send_text(c, "x", 1, &err), EB_OK);
		expect_event(c, EB_WSC_TEXT, "x", 1);
		eb_wsc_free(c);
		ws_stop(s);
	}
	wsrv *s = ws_start(HS_REFUSE_401, NULL);
	char url[64];
	snprintf(url, sizeof url, "http://127.0.0.1:%d", s->port);
	eb_wsc *c = NULL;
	eb_err err;
	ck_assert_int_eq(eb_wsc_connect(url, "/x", 2000, NULL, 0, &c, NULL, &err),
			 EB_ERR_SHAPE);
	ws_stop(s);
	ck_assert_int_eq(count_fds(), before);
}
END_TEST

static Suite *wsc_suite(void)
{
	Suite *s = suite_create("wsc");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_wsc_handshake_and_masked_text_echo);
	tcase_add_test(tc, test_wsc_handles_7_16_and_64_bit_lengths_both_ways);
	tcase_add_test(tc, test_wsc_joins_fragments_around_control_frames_and_pongs_pings);
	tcase_add_test(tc, test_wsc_reports_close_code_and_reason_and_replies_once);
	tcase_add_test(tc, test_wsc_close_without_code_is_1005);
	tcase_add_test(tc, test_wsc_client_initiated_close_is_not_echoed_back);
	tcase_add_test(tc, test_wsc_masked_server_frame_is_protocol_error);
	tcase_add_test(tc, test_wsc_rsv_bits_are_protocol_error);
	tcase_add_test(tc, test_wsc_reserved_opcode_is_protocol_error);
	tcase_add_test(tc, test_wsc_orphan_continuation_is_protocol_error);
	tcase_add_test(tc, test_wsc_data_frame_inside_fragmented_message_is_protocol_error);
	tcase_add_test(tc, test_wsc_control_frame_over_125_bytes_is_protocol_error);
	tcase_add_test(tc, test_wsc_fragmented_control_frame_is_protocol_error);
	tcase_add_test(tc, test_wsc_invalid_utf8_text_is_protocol_error);
	tcase_add_test(tc, test_wsc_one_byte_close_payload_is_protocol_error);
	tcase_add_test(tc, test_wsc_bounds_message_size_across_fragments);
	tcase_add_test(tc, test_wsc_default_bound_is_1_mib);
	tcase_add_test(tc, test_wsc_recv_deadline_holds_while_fragments_keep_coming);
	tcase_add_test(tc, test_wsc_reports_eof_without_close_frame);
	tcase_add_test(tc, test_wsc_recv_times_out_within_bound);
	tcase_add_test(tc, test_wsc_reset_connection_is_eof);
	tcase_add_test(tc, test_wsc_send_to_a_server_that_never_reads_times_out);
	tcase_add_test(tc, test_wsc_ipv6_literal_url_is_parsed);
	tcase_add_test(tc, test_wsc_frames_right_after_101_are_buffered_and_pending);
	tcase_add_test(tc, test_wsc_pending_ignores_a_lone_fragment);
	tcase_add_test(tc, test_wsc_sends_fragments_unmasked_and_raw_bytes_as_asked);
	tcase_add_test(tc, test_wsc_wire_log_shows_text_and_summarises_other_frames);
	tcase_add_test(tc, test_wsc_wire_log_marks_a_long_message_cut_with_the_bytes_omitted);
	tcase_add_test(tc, test_wsc_refused_upgrade_reports_http_status);
	tcase_add_test(tc, test_wsc_wrong_accept_key_is_refused);
	tcase_add_test(tc, test_wsc_silent_server_times_out_handshake_within_bound);
	tcase_add_test(tc, test_wsc_refused_connection_is_io_error);
	tcase_add_test(tc, test_wsc_localhost_url_falls_back_across_addresses);
	tcase_add_test(tc, test_wsc_rejects_bad_arguments_and_frees_null);
	tcase_add_test(tc, test_wsc_leaks_no_fds);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(wsc_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
