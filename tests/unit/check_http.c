/*
 * check_http.c — eb_http against a minimal HTTP/1.1 responder running in a
 * thread on 127.0.0.1 port 0: exact request bytes, keep-alive reuse,
 * timeouts, refusals, body bounds, headers and the wire log.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
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

#include "eb_http.h"
#include "eb_wirelog.h"

/* ---- the in-test server ---------------------------------------------------- */

#define TS_CONNS 16
#define TS_REQ_MAX (4 * 1024 * 1024)
#define TS_HUGE ((size_t)64 * 1024 * 1024 + 1)

typedef struct ts_conn {
	int fd;
	char *buf;
	size_t len;
	bool hang;
	bool head;      /* the request being answered is a HEAD */
} ts_conn;

typedef struct tsrv {
	int lfd;
	int port;
	pthread_t th;
	atomic_int stop;
	atomic_int accepted;
	atomic_int requests;
	pthread_mutex_t mu;
	char *last_req;     /* raw bytes of the last complete request */
	size_t last_len;
	ts_conn c[TS_CONNS];
} tsrv;

static void ts_write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return;
		p += k;
		n -= (size_t)k;
	}
}

/* HEAD responses announce the length but carry no body (RFC 9110 9.3.2). */
static void ts_reply(const ts_conn *c, const char *status, const char *extra_headers,
		     const char *body, size_t body_len)
{
	char head[1024];
	int n = snprintf(head, sizeof head,
			 "HTTP/1.1 %s\r\nContent-Length: %zu\r\n%s\r\n", status,
			 body_len, extra_headers ? extra_headers : "");
	ts_write_all(c->fd, head, (size_t)n);
	if (body_len > 0 && !c->head)
		ts_write_all(c->fd, body, body_len);
}

/* Length of a complete request at the start of buf, 0 if incomplete. */
static size_t ts_request_len(const char *buf, size_t len)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4);
	if (end == NULL)
		return 0;
	size_t head = (size_t)(end - buf) + 4;
	size_t body = 0;
	for (const char *p = buf; p < end; p++) {
		if ((p == buf || p[-1] == '\n') &&
		    strncasecmp(p, "Content-Length:", 15) == 0) {
			body = strtoull(p + 15, NULL, 10);
			break;
		}
	}
	return len >= head + body ? head + body : 0;
}

/* Returns false when the connection must be closed. */
static bool ts_handle(tsrv *s, ts_conn *c, const char *req, size_t len)
{
	atomic_fetch_add(&s->requests, 1);
	pthread_mutex_lock(&s->mu);
	free(s->last_req);
	s->last_req = malloc(len + 1);
	if (s->last_req != NULL) {
		memcpy(s->last_req, req, len);
		s->last_req[len] = '\0';
		s->last_len = len;
	}
	pthread_mutex_unlock(&s->mu);

	c->head = len > 5 && memcmp(req, "HEAD ", 5) == 0;
	const char *sp = memchr(req, ' ', len);
	const char *path = sp ? sp + 1 : "";
	if (strncmp(path, "/echo", 5) == 0) {
		ts_reply(c, "200 OK", "Content-Type: text/plain\r\n", req, len);
	} else if (strncmp(path, "/status/418", 11) == 0) {
		ts_reply(c, "418 I'm a teapot", NULL, "{\"error\":\"tea\"}", 15);
	} else if (strncmp(path, "/headers", 8) == 0) {
		ts_reply(c, "200 OK",
			 "X-First: one\r\nx-spaced:   padded value  \r\n"
			 "Retry-After: 7\r\nX-Empty:\r\n",
			 "", 0);
	} else if (strncmp(path, "/interim", 8) == 0) {
		ts_write_all(c->fd, "HTTP/1.1 100 Continue\r\nX-Interim: yes\r\n\r\n", 42);
		ts_reply(c, "201 Created", "X-Final: yes\r\n", "made", 4);
	} else if (strncmp(path, "/binary", 7) == 0) {
		static const char bin[] = { 'a', 0, 'b', (char)0xff, 0 };
		ts_reply(c, "200 OK", "Content-Type: application/octet-stream\r\n",
			 bin, sizeof bin);
	} else if (strncmp(path, "/big", 4) == 0) {
		size_t n = 3 * 1024 * 1024;
		char *b = malloc(n);
		if (b != NULL) {
			memset(b, 'x', n);
			ts_reply(c, "200 OK", NULL, b, n);
			free(b);
		}
	} else if (strncmp(path, "/huge", 5) == 0) {
		char head[128];
		int k = snprintf(head, sizeof head,
				 "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", TS_HUGE);
		ts_write_all(c->fd, head, (size_t)k);
		char *b = calloc(1, 1 << 20);
		for (size_t sent = 0; b != NULL && sent < TS_HUGE; sent += 1 << 20) {
			size_t chunk = TS_HUGE - sent < (1u << 20) ? TS_HUGE - sent : 1u << 20;
			ts_write_all(c->fd, b, chunk);
		}
		free(b);
		return false;
	} else if (strncmp(path, "/hang", 5) == 0) {
		c->hang = true;
	} else if (strncmp(path, "/drop", 5) == 0) {
		/* Keep-alive promised, then the socket is closed anyway (an
		 * idle timeout): the client must notice and reconnect. */
		ts_reply(c, "200 OK", NULL, "dropped", 7);
		return false;
	} else if (strncmp(path, "/close", 6) == 0) {
		ts_reply(c, "200 OK", "Connection: close\r\n", "bye", 3);
		return false;
	} else if (strncmp(path, "/garbage", 8) == 0) {
		ts_write_all(c->fd, "this is not http\r\n\r\n", 20);
		return false;
	} else {
		ts_reply(c, "404 Not Found", NULL, "", 0);
	}
	return true;
}

static void ts_close(ts_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof *c);
	c->fd = -1;
}

static void *ts_main(void *arg)
{
	tsrv *s = arg;
	while (!atomic_load(&s->stop)) {
		struct pollfd pf[TS_CONNS + 1];
		pf[0].fd = s->lfd;
		pf[0].events = POLLIN;
		for (int i = 0; i < TS_CONNS; i++) {
			pf[i + 1].fd = s->c[i].fd;
			pf[i + 1].events = POLLIN;
		}
		if (poll(pf, TS_CONNS + 1, 20) <= 0)
			continue;
		if (pf[0].revents & POLLIN) {
			int fd = accept(s->lfd, NULL, NULL);
			int slot = -1;
			for (int i = 0; fd >= 0 && i < TS_CONNS; i++)
				if (s->c[i].fd < 0) {
					slot = i;
					break;
				}
			if (slot < 0) {
				if (fd >= 0)
					close(fd);
			} else {
				s->c[slot].fd = fd;
				s->c[slot].buf = malloc(TS_REQ_MAX);
				atomic_fetch_add(&s->accepted, 1);
			}
		}
		for (int i = 0; i < TS_CONNS; i++) {
			ts_conn *c = &s->c[i];
			if (c->fd < 0 || !(pf[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t k = c->buf && c->len < TS_REQ_MAX
				? recv(c->fd, c->buf + c->len, TS_REQ_MAX - c->len, 0) : 0;
			if (k <= 0) {
				ts_close(c);
				continue;
			}
			c->len += (size_t)k;
			size_t rl;
			while (!c->hang && (rl = ts_request_len(c->buf, c->len)) > 0) {
				bool keep = ts_handle(s, c, c->buf, rl);
				memmove(c->buf, c->buf + rl, c->len - rl);
				c->len -= rl;
				if (!keep) {
					ts_close(c);
					break;
				}
			}
		}
	}
	for (int i = 0; i < TS_CONNS; i++)
		ts_close(&s->c[i]);
	return NULL;
}

static tsrv *ts_start(void)
{
	tsrv *s = calloc(1, sizeof *s);
	ck_assert_ptr_nonnull(s);
	pthread_mutex_init(&s->mu, NULL);
	for (int i = 0; i < TS_CONNS; i++)
		s->c[i].fd = -1;
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(s->lfd, 0);
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof sin;
	ck_assert_int_eq(bind(s->lfd, (struct sockaddr *)&sin, sizeof sin), 0);
	ck_assert_int_eq(listen(s->lfd, 16), 0);
	ck_assert_int_eq(getsockname(s->lfd, (struct sockaddr *)&sin, &sl), 0);
	s->port = ntohs(sin.sin_port);
	ck_assert_int_eq(pthread_create(&s->th, NULL, ts_main, s), 0);
	return s;
}

static void ts_stop(tsrv *s)
{
	atomic_store(&s->stop, 1);
	pthread_join(s->th, NULL);
	close(s->lfd);
	free(s->last_req);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

/* Copy of the last request the server saw (caller frees). */
static char *ts_last(tsrv *s, size_t *len)
{
	pthread_mutex_lock(&s->mu);
	char *r = NULL;
	if (s->last_req != NULL) {
		r = malloc(s->last_len + 1);
		if (r != NULL) {
			memcpy(r, s->last_req, s->last_len + 1);
			*len = s->last_len;
		}
	}
	pthread_mutex_unlock(&s->mu);
	return r;
}

static eb_http *ts_client(tsrv *s, long timeout_ms)
{
	char url[64];
	snprintf(url, sizeof url, "http://127.0.0.1:%d", s->port);
	eb_http *h = eb_http_new(url, timeout_ms);
	ck_assert_ptr_nonnull(h);
	return h;
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

/* ---- tests ---------------------------------------------------------------- */

START_TEST(test_http_post_sends_json_body_bearer_and_no_expect)
{
	tsrv *s = ts_start();
	eb_http *h = ts_client(s, 5000);
	eb_http_resp r;
	/* Large enough that curl would normally ask for 100-continue. */
	size_t n = 200000;
	char *body = malloc(n);
	memset(body, 'j', n);
	ck_assert_int_eq(eb_http_request(h, "POST", "/echo?x=1", "tok123", NULL,
					 body, n, NULL, 0, &r), EB_OK);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(r.transport_error, 0);
	ck_assert(strncmp(r.body, "POST /echo?x=1 HTTP/1.1\r\n", 25) == 0);
	ck_assert_ptr_nonnull(strcasestr(r.body, "\r\nAuthorization: Bearer tok123\r\n"));
	ck_assert_ptr_nonnull(strcasestr(r.body, "\r\nContent-Type: application/json\r\n"));
	ck_assert_ptr_nonnull(strcasestr(r.body, "\r\nContent-Length: 200000\r\n"));
	ck_assert_ptr_null(strcasestr(r.body, "Expect:"));
	ck_assert_ptr_null(strcasestr(r.body, "100-continue"));
	char *end = strstr(r.body, "\r\n\r\n");
	ck_assert_ptr_nonnull(end);
	ck_assert_uint_eq(r.body_len - (size_t)(end + 4 - r.body), n);
	ck_assert(r.elapsed_ms > 0.0);
	char ct[64];
	ck_assert(eb_http_resp_header(&r, "content-type", ct, sizeof ct));
	ck_assert_str_eq(ct, "text/plain");
	eb_http_resp_clear(&r);
	ck_assert_ptr_null(r.body);
	free(body);
	eb_http_free(h);
	ts_stop(s);
}
END_TEST

START_TEST(test_http_sends_raw_bodies_with_nul_and_invalid_utf8)
{
	tsrv *s = ts_start();
	eb_http *h = ts_client(s, 5000);
	eb_http_resp r;
	const char body[] = { '{', 0, '"', (char)0xc3, (char)0x28, (char)0xff, '}' };
	ck_assert_int_eq(eb_http_request(h, "PUT", "/echo", NULL,
					 "text/x-weird; charset=latin1",
					 body, sizeof body, NULL, 0, &r), EB_OK);
	size_t len;
	char *req = ts_last(s, &len);
	ck_assert_ptr_nonnull(req);
	ck_assert(strncmp(req, "PUT /echo HTTP/1.1\r\n", 20) == 0);
	ck_assert_ptr_nonnull(strcasestr(req, "\r\nContent-Type: text/x-weird; charset=latin1\r\n"));
	ck_assert_ptr_null(strcasestr(req, "Authorization"));
	ck_assert_uint_ge(len, sizeof body);
	ck_assert_int_eq(memcmp(req + len - sizeof body, body, sizeof body), 0);
	free(req);
	eb_http_resp_clear(&r);
	eb_http_free(h);
	ts_stop(s);
}
END_TEST

START_TEST(test_http_allows_body_on_get_and_arbitrary_methods)
{
	tsrv *s = ts_start();
	eb_http *h = ts_client(s, 5000);
	eb_http_resp r;
	ck_assert_int_eq(eb_http_request(h, "GET", "/echo", NULL, NULL, "{}", 2,
					 NULL, 0, &r), EB_OK);
	ck_assert(strncmp(r.body, "GET /echo HTTP/1.1\r\n", 20) == 0);
	ck_assert_ptr_nonnull(strcasestr(r.body, "\r\nContent-Length: 2\r\n"));
	ck_assert(r.body_len >= 2 && memcmp(r.body + r.body_len - 2, "{}", 2) == 0);
	eb_http_resp_clear(&r);

	ck_assert_int_eq(eb_http_request(h, "BREW", "/echo", NULL, NULL, NULL, 0,
					 NULL, 0, &r), EB_OK);
	ck_assert(strncmp(r.body, "BREW /echo HTTP/1.1\r\n", 21) == 0);
	ck_assert_ptr_null(strcasestr(r.body, "Content-Type"));
	eb_http_resp_clear(&r);

	/* Empty body is still a body: Content-Length: 0. */
	ck_assert_int_eq(eb_http_request(h, "POST", "/echo", NULL, NULL, "", 0,
					 NULL, 0, &r), EB_OK);
	ck_assert_ptr_nonnull(strcasestr(r.body, "\r\nContent-Length: 0\r\n"));
	eb_http_resp_clear(&r);

	ck_assert_int_eq(eb_http_request(h, "DELETE", "/echo", NULL, NULL, NULL, 0,
					 NULL, 0, &r), EB_OK);
	ck_assert(strncmp(r.body, "DELETE /echo HTTP/1.1\r\n", 23) == 0);
	ck_assert_ptr_null(strcasestr(r.body, "Content-Length"));
	eb_http_resp_clear(&r);

	/* Dot segments reach the server as written. */
	ck_assert_int_eq(eb_http_request(h, "GET", "/echo/../x/./y", NULL, NULL,
					 NULL, 0, NULL, 0, &r), EB_OK);
	ck_assert(strncmp(r.body, "GET /echo/../x/./y HTTP/1.1\r\n", 29) == 0);
	eb_http_resp_clear(&r);
	eb_http_free(h);
	ts_stop(s);
}
END_TEST

START_TEST(test_http_extra_headers_replace_defaults_and_can_remove)
{
	tsrv *s = ts_start();
	eb_http *h = ts_client(s, 5000);
	eb_http_resp r;
	eb_http_header extra[] = {
		{ "Content-Type", "application/merge-patch+json" },
		{ "Authorization", "Basic Zm9vOmJhcg==" },
		{ "X-Trace", "abc" },
		{ "X-Empty", "" },
		{ "Accept", NULL },
	};
	ck_assert_int_eq(eb_http_request(h, "PATCH", "/echo", "ignored", NULL,
					 "{}", 2, extra, 5, &r), EB_OK);
	ck_assert_ptr_nonnull(strcasestr(r.body, "\r\nContent-Type: application/merge-patch+json\r\n"));
	ck_assert_ptr_null(strcasestr(r.body, "application/json"));
	ck_assert_ptr_nonnull(strcasestr(r.body, "\r\nAuthorization: Basic Zm9vOmJhcg==\r\n"));
	ck_assert_ptr_null(strcasestr(r.body, "Bearer"));
	ck_assert_ptr_nonnull(strcasestr(r.body, "\r\nX-Trace: abc\r\n"));
	ck_assert_ptr_nonnull(strcasestr(r.body, "\r\nX-Empty:\r\n"));
	ck_assert_ptr_null(strcasestr(r.body, "\r\nAccept:"));
	eb_http_resp_clear(&r);

	/* content_type "" sends a body without any Content-Type. */
	ck_assert_int_eq(eb_http_request(h, "POST", "/echo", NULL, "", "x", 1,
					 NULL, 0, &r), EB_OK);
	ck_assert_ptr_null(strcasestr(r.body, "Content-Type"));
	eb_http_resp_clear(&r);
	eb_http_free(h);
	ts_stop(s);
}
END_TEST

START_TEST(test_http_reuses_keepalive_connection)
{
	tsrv *s = ts_start();
	eb_http *h = ts_client(s, 5000);
	eb_http_resp r;
	for (int i = 0; i < 20; i++) {
		ck_assert_int_eq(eb_http_request(h, i % 2 ? "POST" : "GET", "/echo",
						 NULL, NULL, i % 2 ? "{}" : NULL,
						 2, NULL, 0, &r), EB_OK);
		ck_assert_int_eq(r.status, 200);
		eb_http_resp_clear(&r);
	}
	ck_assert_int_eq(atomic_load(&s->accepted), 1);
	ck_assert_int_eq(atomic_load(&s->requests), 20);

	/* A server that closes is reconnected to transparently. */
	ck_assert_int_eq(eb_http_request(h, "GET", "/close", NULL, NULL, NULL, 0,
					 NULL, 0, &r), EB_OK);
	ck_assert_str_eq(r.body, "bye");
	eb_http_resp_clear(&r);
	ck_assert_int_eq(eb_http_request(h, "GET", "/echo", NULL, NULL, NULL, 0,
					 NULL, 0, &r), EB_OK);
	ck_assert_int_eq(r.status, 200);
	eb_http_resp_clear(&r);
	ck_assert_int_eq(atomic_load(&s->accepted), 2);

	/* A kept-alive connection closed by the server while idle. */
	eb_wirelog *w = eb_wirelog_new(0, 0);
	eb_http_set_wirelog(h, w, 1);
	ck_assert_int_eq(eb_http_request(h, "GET", "/drop", NULL, NULL, NULL, 0,
					 NULL, 0, &r), EB_OK);
	eb_http_resp_clear(&r);
	usleep(50000);
	ck_assert_int_eq(eb_http_request(h, "POST", "/echo", NULL, NULL, "{}", 2,
					 NULL, 0, &r), EB_OK);
	ck_assert_int_eq(r.status, 200);
	eb_http_resp_clear(&r);
	ck_assert_int_eq(atomic_load(&s->accepted), 3);
	/* One OUT and one IN per request, the request head logged once. */
	ck_assert_uint_eq(eb_wirelog_count(w), 4);
	const char *out = eb_wirelog_get(w, 2)->text;
	ck_assert_ptr_nonnull(strstr(out, "POST /echo HTTP/1.1"));
	ck_assert_ptr_null(strstr(strstr(out, "POST /echo") + 1, "POST /echo"));
	eb_wirelog_free(w);
	eb_http_free(h);
	ts_stop(s);
}
END_TEST

START_TEST(test_http_timeout_can_change_between_requests)
{
	tsrv *s = ts_start();
	eb_http *h = ts_client(s, 5000);
	eb_http_set_timeout(h, 200);
	eb_http_resp r;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(eb_http_request(h, "GET", "/hang", NULL, NULL,
					 NULL, 0, NULL, 0, &r), EB_ERR_IO);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ms = (double)(t1.tv_sec - t0.tv_sec) * 1000.0 +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	ck_assert_int_eq(r.transport_error, 28);
	ck_assert(ms >= 180.0 && ms < 3000.0);
	eb_http_resp_clear(&r);
	eb_http_set_timeout(h, 0);   /* ignored: a request always has a bound */
	ck_assert_int_eq(eb_http_request(h, "GET", "/echo", NULL, NULL,
					 NULL, 0, NULL, 0, &r), EB_OK);
	eb_http_resp_clear(&r);
	eb_http_free(h);
	ts_stop(s);
}
END_TEST

START_TEST(test_http_reports_status_headers_and_binary_body)
{
	tsrv *s = ts_start();
	eb_http *h = ts_client(s, 5000);
	eb_http_resp r;
	ck_assert_int_eq(eb_http_request(h, "GET", "/status/418", NULL, NULL,
					 NULL, 0, NULL, 0, &r), EB_OK);
	ck_assert_int_eq(r.status, 418);
	ck_assert_str_eq(r.body, "{\"error\":\"tea\"}");
	ck_assert_uint_eq(r.body_len, 15);
	eb_http_resp_clear(&r);

	ck_assert_int_eq(eb_http_request(h, "GET", "/headers", NULL, NULL,
					 NULL, 0, NULL, 0, &r), EB_OK);
	char v[64];
	ck_assert(eb_http_resp_header(&r, "X-SPACED", v, sizeof v));
	ck_assert_str_eq(v, "padded value");
	ck_assert(eb_http_resp_header(&r, "retry-after", v, sizeof v));
	ck_assert_str_eq(v, "7");
	ck_assert(eb_http_resp_header(&r, "X-Empty", v, sizeof v));
	ck_assert_str_eq(v, "");
	ck_assert(!eb_http_resp_header(&r, "X-Firs", v, sizeof v));
	ck_assert(!eb_http_resp_header(&r, "X-Missing", v, sizeof v));
	char small[4];
	ck_assert(eb_http_resp_header(&r, "x-spaced", small, sizeof small));
	ck_assert_str_eq(small, "pad");
	ck_assert_ptr_null(strstr(r.headers, "HTTP/1.1"));
	ck_assert_str_eq(r.body, "");
	eb_http_resp_clear(&r);

	ck_assert_int_eq(eb_http_request(h, "GET", "/interim", NULL, NULL,
					 NULL, 0, NULL, 0, &r), EB_OK);
	ck_assert_int_eq(r.status, 201);
	ck_assert(eb_http_resp_header(&r, "X-Final", v, sizeof v));
	ck_assert(!eb_http_resp_header(&r, "X-Interim", v, sizeof v));
	ck_assert_str_eq(r.body, "made");
	eb_http_resp_clear(&r);

	ck_assert_int_eq(eb_http_request(h, "GET", "/binary", NULL, NULL,
					 NULL, 0, NULL, 0, &r), EB_OK);
	ck_assert_uint_eq(r.body_len, 5);
	ck_assert_int_eq(memcmp(r.body, "a\0b\xff\0", 5), 0);
	ck_assert_int_eq(r.body[5], '\0');
	eb_http_resp_clear(&r);

	ck_assert_int_eq(eb_http_request(h, "HEAD", "/status/418", NULL, NULL,
					 NULL, 0, NULL, 0, &r), EB_OK);
	ck_assert_int_eq(r.status, 418);
	ck_assert_uint_eq(r.body_len, 0);
	eb_http_resp_clear(&r);

	ck_assert_int_eq(eb_http_request(h, "GET", "/big", NULL, NULL,
					 NULL, 0, NULL, 0, &r), EB_OK);
	ck_assert_uint_eq(r.body_len, 3 * 1024 * 1024);
	ck_assert_int_eq(r.body[r.body_len - 1], 'x');
	eb_http_resp_clear(&r);
	eb_http_free(h);
	ts_stop(s);
}
END_TEST

START_TEST(test_http_bounds_response_body_at_64_mib)
{
	tsrv *s = ts_start();
	eb_http *h = ts_client(s, 20000);
	eb_http_resp r;
	ck_assert_int_eq(eb_http_request(h, "GET", "/huge", NULL, NULL,
					 NULL, 0, NULL, 0, &r), EB_ERR_IO);
	ck_assert_int_ne(r.transport_error, 0);
	ck_assert_ptr_nonnull(strstr(r.error, "exceeds"));
	ck_assert_ptr_null(r.body);
	eb_http_resp_clear(&r);
	/* The client is usable afterwards. */
	ck_assert_int_eq(eb_http_request(h, "GET", "/echo", NULL, NULL,
					 NULL, 0, NULL, 0, &r), EB_OK);
	ck_assert_int_eq(r.status, 200);
	eb_http_resp_clear(&r);
	eb_http_free(h);
	ts_stop(s);
}
END_TEST

START_TEST(test_http_max_body_caps_a_response_and_names_the_cap_and_flag)
{
	tsrv *s = ts_start();
	eb_http *h = ts_client(s, 20000);
	eb_http_resp r;
	eb_http_set_max_body(h, (size_t)1 << 20);
	ck_assert_int_eq(eb_http_request(h, "GET", "/big", NULL, NULL,
					 NULL, 0, NULL, 0, &r), EB_ERR_IO);
	ck_assert_ptr_nonnull(strstr(r.error, "harness's cap of 1 MiB"));
	ck_assert_ptr_nonnull(strstr(r.error, "--max-response-mib"));
	eb_http_resp_clear(&r);
	/* 0 keeps the cap; a larger one takes the 3 MiB body */
	eb_http_set_max_body(h, 0);
	ck_assert_int_eq(eb_http_request(h, "GET", "/big", NULL, NULL,
					 NULL, 0, NULL, 0, &r), EB_ERR_IO);
	eb_http_resp_clear(&r);
	eb_http_set_max_body(h, (size_t)4 << 20);
	ck_assert_int_eq(eb_http_request(h, "GET", "/big", NULL, NULL,
					 NULL, 0, NULL, 0, &r), EB_OK);
	ck_assert_uint_eq(r.body_len, (size_t)3 * 1024 * 1024);
	eb_http_resp_clear(&r);
	eb_http_free(h);
	ts_stop(s);
}
END_TEST

/* A stop hook that turns true 300 ms after *arg (CLOCK_MONOTONIC). */
static bool ts_stop_after_300ms(void *arg)
{
	const struct timespec *t0 = arg;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) * 1000.0 +
	       (double)(now.tv_nsec - t0->tv_nsec) / 1e6 >= 300.0;
}

START_TEST(test_http_stop_hook_ends_a_request_the_server_never_answers)
{
	tsrv *s = ts_start();
	eb_http *h = ts_client(s, 20000);
	eb_http_resp r;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	eb_http_set_stop(h, ts_stop_after_300ms, &t0);
	ck_assert_int_eq(eb_http_request(h, "GET", "/hang", NULL, NULL,
					 NULL, 0, NULL, 0, &r), EB_ERR_IO);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ms = (double)(t1.tv_sec - t0.tv_sec) * 1000.0 +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	ck_assert_int_eq(r.transport_error, EB_HTTP_STOPPED);
	ck_assert(ms >= 250.0);
	/* without a signal curl polls the hook at least once a second: 1.3 s,
	 * and slack for a loaded machine (the timeout is 20 s) */
	ck_assert(ms < 5000.0);
	eb_http_resp_clear(&r);
	/* NULL: no hook; the client is usable afterwards */
	eb_http_set_stop(h, NULL, NULL);
	ck_assert_int_eq(eb_http_request(h, "GET", "/echo", NULL, NULL,
					 NULL, 0, NULL, 0, &r), EB_OK);
	eb_http_resp_clear(&r);
	eb_http_free(h);
	ts_stop(s);
}
END_TEST

START_TEST(test_http_times_out_within_bound_when_server_never_answers)
{
	tsrv *s = ts_start();
	eb_http *h = ts_client(s, 300);
	eb_http_resp r;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(eb_http_request(h, "GET", "/hang", NULL, NULL,
					 NULL, 0, NULL, 0, &r), EB_ERR_IO);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ms = (double)(t1.tv_sec - t0.tv_sec) * 1000.0 +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	ck_assert_int_eq(r.transport_error, 28);
	ck_assert_int_eq(r.status, 0);
	ck_assert(ms >= 250.0);
	ck_assert(ms < 3000.0);   /* 10x slack for a loaded machine */
	ck_assert(r.elapsed_ms >= 250.0);
	ck_assert(r.error[0] != '\0');
	eb_http_resp_clear(&r);
	eb_http_free(h);
	ts_stop(s);
}
END_TEST

START_TEST(test_http_refused_connection_is_transport_error_7)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof sin;
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	close(fd);   /* bound, never listened: the port now refuses */
	char url[64];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/", ntohs(sin.sin_port));
	eb_wirelog *w = eb_wirelog_new(0, 0);
	eb_http *h = eb_http_new(url, 2000);
	eb_http_set_wirelog(h, w, 3);
	eb_http_resp r;
	ck_assert_int_eq(eb_http_request(h, "GET", "/x", NULL, NULL, NULL, 0,
					 NULL, 0, &r), EB_ERR_IO);
	ck_assert_int_eq(r.transport_error, 7);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_null(r.body);
	ck_assert(eb_wirelog_count(w) >= 1);
	eb_http_resp_clear(&r);
	eb_http_free(h);
	eb_wirelog_free(w);
}
END_TEST

START_TEST(test_http_garbage_response_is_transport_error)
{
	tsrv *s = ts_start();
	eb_http *h = ts_client(s, 2000);
	eb_http_resp r;
	ck_assert_int_eq(eb_http_request(h, "GET", "/garbage", NULL, NULL,
					 NULL, 0, NULL, 0, &r), EB_ERR_IO);
	ck_assert_int_ne(r.transport_error, 0);
	eb_http_resp_clear(&r);
	eb_http_free(h);
	ts_stop(s);
}
END_TEST

START_TEST(test_http_wire_log_records_request_and_response)
{
	tsrv *s = ts_start();
	eb_http *h = ts_client(s, 5000);
	eb_wirelog *w = eb_wirelog_new(0, 0);
	eb_http_set_wirelog(h, w, 5);
	eb_http_resp r;
	ck_assert_int_eq(eb_http_request(h, "POST", "/status/418", "t0k", NULL,
					 "{\"a\":1}", 7, NULL, 0, &r), EB_OK);
	eb_http_resp_clear(&r);
	ck_assert_uint_eq(eb_wirelog_count(w), 2);
	const eb_wire_entry *out = eb_wirelog_get(w, 0);
	const eb_wire_entry *in = eb_wirelog_get(w, 1);
	ck_assert_int_eq(out->dir, EB_WIRE_OUT);
	ck_assert_str_eq(out->proto, "HTTP");
	ck_assert_int_eq(out->conn, 5);
	ck_assert_ptr_nonnull(strstr(out->text, "POST /status/418 HTTP/1.1"));
	ck_assert_ptr_nonnull(strstr(out->text, "Bearer t0k"));
	ck_assert_ptr_nonnull(strstr(out->text, "{\"a\":1}"));
	ck_assert_int_eq(in->dir, EB_WIRE_IN);
	ck_assert_str_eq(in->proto, "HTTP");
	ck_assert_int_eq(in->conn, 5);
	ck_assert_ptr_nonnull(strstr(in->text, "HTTP/1.1 418"));
	ck_assert_ptr_nonnull(strstr(in->text, "{\"error\":\"tea\"}"));
	ck_assert(in->t_us >= out->t_us);

	/* A 3 MiB body is logged as its head, within the log's entry cap. */
	ck_assert_int_eq(eb_http_request(h, "GET", "/big", NULL, NULL, NULL, 0,
					 NULL, 0, &r), EB_OK);
	ck_assert_uint_eq(r.body_len, 3 * 1024 * 1024);
	eb_http_resp_clear(&r);
	ck_assert_uint_eq(eb_wirelog_count(w), 4);
	const eb_wire_entry *big = eb_wirelog_get(w, 3);
	ck_assert_int_eq(big->dir, EB_WIRE_IN);
	ck_assert(strncmp(big->text, "HTTP/1.1 200", 12) == 0);
	ck_assert_ptr_nonnull(strstr(big->text, "xxxx"));
	ck_assert_uint_lt(strlen(big->text), 64 * 1024);

	/* Detached: nothing more is logged. */
	eb_http_set_wirelog(h, NULL, -1);
	ck_assert_int_eq(eb_http_request(h, "GET", "/echo", NULL, NULL, NULL, 0,
					 NULL, 0, &r), EB_OK);
	eb_http_resp_clear(&r);
	ck_assert_uint_eq(eb_wirelog_count(w), 4);
	eb_wirelog_free(w);
	eb_http_free(h);
	ts_stop(s);
}
END_TEST

START_TEST(test_http_rejects_bad_arguments_and_frees_null)
{
	ck_assert_ptr_null(eb_http_new(NULL, 1000));
	ck_assert_ptr_null(eb_http_new("http://127.0.0.1:1", 0));
	eb_http_free(NULL);
	eb_http_resp_clear(NULL);
	eb_http *h = eb_http_new("http://127.0.0.1:1", 1000);
	eb_http_resp r;
	ck_assert_int_eq(eb_http_request(h, NULL, "/", NULL, NULL, NULL, 0, NULL,
					 0, &r), EB_ERR_ARG);
	ck_assert_int_eq(eb_http_request(h, "GET", "/", NULL, NULL, NULL, 0, NULL,
					 2, &r), EB_ERR_ARG);
	ck_assert(!eb_http_resp_header(&r, "x", NULL, 0));
	eb_http_resp_clear(&r);
	eb_http_free(h);
}
END_TEST

START_TEST(test_http_leaks_no_fds)
{
	int before = count_fds();
	tsrv *s = ts_start();
	for (int i = 0; i < 5; i++) {
		eb_http *h = ts_client(s, 2000);
		eb_http_resp r;
		ck_assert_int_eq(eb_http_request(h, "GET", "/echo", NULL, NULL,
						 NULL, 0, NULL, 0, &r), EB_OK);
		eb_http_resp_clear(&r);
		eb_http_free(h);
	}
	ts_stop(s);
	ck_assert_int_eq(count_fds(), before);
}
END_TEST

static Suite *http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_http_post_sends_json_body_bearer_and_no_expect);
	tcase_add_test(tc, test_http_sends_raw_bodies_with_nul_and_invalid_utf8);
	tcase_add_test(tc, test_http_allows_body_on_get_and_arbitrary_methods);
	tcase_add_test(tc, test_http_extra_headers_replace_defaults_and_can_remove);
	tcase_add_test(tc, test_http_reuses_keepalive_connection);
	tcase_add_test(tc, test_http_reports_status_headers_and_binary_body);
	tcase_add_test(tc, test_http_bounds_response_body_at_64_mib);
	tcase_add_test(tc, test_http_max_body_caps_a_response_and_names_the_cap_and_flag);
	tcase_add_test(tc, test_http_stop_hook_ends_a_request_the_server_never_answers);
	tcase_add_test(tc, test_http_times_out_within_bound_when_server_never_answers);
	tcase_add_test(tc, test_http_timeout_can_change_between_requests);
	tcase_add_test(tc, test_http_refused_connection_is_transport_error_7);
	tcase_add_test(tc, test_http_garbage_response_is_transport_error);
	tcase_add_test(tc, test_http_wire_log_records_request_and_response);
	tcase_add_test(tc, test_http_rejects_bad_arguments_and_frees_null);
	tcase_add_test(tc, test_http_leaks_no_fds);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	if (eb_http_global_init() != 0)
		return 2;
	SRunner *sr = srunner_create(http_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	eb_http_global_cleanup();
	return failed == 0 ? 0 : 1;
}
