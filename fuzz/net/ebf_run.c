/*
 * ebf_run.c — runs one ebfuzz case against the target and judges the answer
 * against PROTOCOL.md: HTTP through eb_http, raw TCP on a plain socket (for
 * what a correct HTTP client never sends; TLS over it for https://, through
 * net/eb_tls.h), WebSocket through eb_wsc.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "eb_json.h"
#include "eb_time.h"
#include "eb_tls.h"
#include "eb_ws.h"
#include "eb_wsc.h"
#include "ebf.h"

#define RUN_PROBE_ID "ebfuzz-probe"
#define RUN_TCP_MAX (1 << 20)
/* The longest single wait: every wait of a case is cut in slices this long
 * and checks the stop flag and the run's deadline between them, so a
 * signal or the deadline ends a case within it whatever the server does. */
#define RUN_SLICE_MS 50

const char *ebf_token(const ebf_ctx *x, ebf_auth a)
{
	switch (a) {
	case EBF_AUTH_VALID: return x->token;
	case EBF_AUTH_EXPIRED: return x->token_expired;
	case EBF_AUTH_ALG_NONE: return x->token_none;
	case EBF_AUTH_BADSIG: return x->token_badsig;
	case EBF_AUTH_READONLY: return x->token_readonly;
	case EBF_AUTH_GARBAGE: return "not-a-jwt";
	default: return NULL;
	}
}

bool ebf_stopped(const ebf_ctx *x)
{
	return (x->stop && *x->stop) || (x->stop_ns && eb_time_mono_ns() >= x->stop_ns);
}

/* The absolute end of a wait of ms from now: never past the run's deadline,
 * so what the server sends meanwhile cannot extend it. */
static uint64_t run_until(const ebf_ctx *x, long ms)
{
	uint64_t u = eb_time_mono_ns() + (uint64_t)(ms > 0 ? ms : 0) * 1000000ULL;

	return x->stop_ns && x->stop_ns < u ? x->stop_ns : u;
}

/* The next slice (ms) of a wait that ends at until; 0 when it is over or
 * the run stops. */
static int run_slice_ms(const ebf_ctx *x, uint64_t until)
{
	uint64_t now = eb_time_mono_ns(), left;

	if (ebf_stopped(x) || now >= until)
		return 0;
	left = (until - now + 999999ULL) / 1000000ULL;
	return left < RUN_SLICE_MS ? (int)left : RUN_SLICE_MS;
}

/* A case cut short by a signal or the run's deadline: not judged. */
static int run_stopped(ebf_finding *f)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->reason, sizeof(f->reason),
		 "stopped (a signal or the run's deadline) before the case ended");
	return -1;
}

/* eb_http's stop hook: the same flag and deadline. */
static bool run_http_stop(void *arg)
{
	return ebf_stopped(arg);
}

/* Points x->http's next request at the stop flag and bounds it by the
 * run's deadline. false when the run stops already. */
static bool run_http_prepare(ebf_ctx *x)
{
	uint64_t until = run_until(x, x->o->timeout_ms), now = eb_time_mono_ns();

	if (ebf_stopped(x) || now >= until)
		return false;
	eb_http_set_stop(x->http, run_http_stop, x);
	eb_http_set_timeout(x->http, (long)((until - now + 999999ULL) / 1000000ULL));
	return true;
}

static int finding(ebf_finding *f, const char *kind, const char *rule,
		   const char *expected, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int finding(ebf_finding *f, const char *kind, const char *rule,
		   const char *expected, const char *fmt, ...)
{
	va_list ap;

	memset(f, 0, sizeof(*f));
	snprintf(f->rule, sizeof(f->rule), "%s", rule ? rule : "");
	if (rule && rule[0])
		snprintf(f->category, sizeof(f->category), "%s/%s", kind, rule);
	else
		snprintf(f->category, sizeof(f->category), "%s", kind);
	snprintf(f->expected, sizeof(f->expected), "%s", expected ? expected : "");
	va_start(ap, fmt);
	vsnprintf(f->actual, sizeof(f->actual), fmt, ap);
	va_end(ap);
	snprintf(f->reason, sizeof(f->reason), "%s: %s", f->category, f->actual);
	return 1;
}

/* A pause of ms, ended early by a stop. */
static void run_sleep(const ebf_ctx *x, long ms)
{
	uint64_t until = run_until(x, ms);
	int sl;

	while ((sl = run_slice_ms(x, until)) > 0) {
		struct timespec ts = { 0, (long)sl * 1000000L };

		nanosleep(&ts, NULL);
	}
}

/* Value of header name in a raw "Name: value\r\n" block; false when absent. */
static bool header_in(const char *block, const char *name, char *buf, size_t len)
{
	size_t nl = strlen(name);
	const char *p = block;

	while (p && *p) {
		const char *eol = strstr(p, "\r\n");
		size_t ll = eol ? (size_t)(eol - p) : strlen(p);

		if (ll > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1;
			size_t vl = ll - nl - 1;

			while (vl && (*v == ' ' || *v == '\t')) {
				v++;
				vl--;
			}
			snprintf(buf, len, "%.*s", (int)vl, v);
			return true;
		}
		p = eol ? eol + 2 : NULL;
	}
	return false;
}

static void snippet(const char *body, size_t len, char *out, size_t outlen)
{
	size_t n = len < 160 ? len : 160, o = 0;

	for (size_t i = 0; i < n && o + 5 < outlen; i++) {
		unsigned char ch = (unsigned char)body[i];

		if (ch < 0x20 || ch == 0x7f)
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02X", ch);
		else
			out[o++] = (char)ch;
	}
	out[o] = '\0';
	if (len > n && o + 4 < outlen)
		memcpy(out + o, "...", 4);
}

/* What every answer must satisfy, whatever the request (section 7, GEN-2,
 * SYNC-4). 1 with f filled on a finding. */
static int check_answer(const ebf_case *c, long status, const char *headers,
			const char *body, size_t body_len, ebf_finding *f)
{
	char ct[128], hv[256], snip[200];
	const ebf_expect *ex = &c->ex;
	eb_error_body *eb = NULL;
	eb_err err;
	bool is_sync_or_feed = c->path && strstr(c->path, "/api/stores/") &&
			       (strstr(c->path, "/sync") || strstr(c->path, "/changes"));

	snippet(body ? body : "", body_len, snip, sizeof(snip));
	if (status >= 500)
		return finding(f, "server-error", "", "no 5xx for any client input",
			       "%ld %s", status, snip);
	if (ex->raw_only)
		return 0;
	if (status >= 200 && status < 300 && ex->want_status >= 400)
		return finding(f, "accepted-invalid", ex->rule,
			       ex->want_code[0] ? ex->want_code : "a 4xx refusal",
			       "%ld for input that breaks %s: %s", status, ex->rule, snip);
	if (status >= 400 && status != 429) {
		if (!body || body_len == 0)
			return finding(f, "error-body", "ERR-1",
				       "a JSON error body with code and message",
				       "%ld with an empty body", status);
		eb_err_clear(&err);
		if (eb_error_body_parse(body, body_len, &eb, &err) != EB_OK)
			return finding(f, "error-body", "ERR-1",
				       "a JSON error body with code and message",
				       "%ld %s (%s)", status, snip, err.msg);
		if (eb_code_http_status(eb->code) != status) {
			int r = finding(f, "error-code-status", "ERR-1",
					"the code of section 7's table for the status",
					"%ld with code %s", status, eb->code);
			eb_error_body_free(eb);
			return r;
		}
		if (ex->valid) {
			int r = finding(f, "rejected-valid", ex->rule, "2xx for a valid request",
					"%ld %s", status, eb->code);
			eb_error_body_free(eb);
			return r;
		}
		/* Another refusal than the first failing check breaks ERR-3; the
		 * category keeps the input's rule so distinct causes stay apart. */
		if (!ex->any_refusal &&
		    ((ex->want_status >= 400 && status != ex->want_status) ||
		     (ex->want_code[0] && strcmp(eb->code, ex->want_code) != 0))) {
			int r = finding(f, status != ex->want_status ? "wrong-status" : "wrong-code",
					"ERR-3", ex->want_code,
					"%ld %s; the first failing check is %s (%d %s)", status,
					eb->code, ex->rule, ex->want_status, ex->want_code);

			snprintf(f->category + strlen(f->category),
				 sizeof(f->category) - strlen(f->category), "/%s", ex->rule);
			eb_error_body_free(eb);
			return r;
		}
		eb_error_body_free(eb);
		if (status == 401 && (!header_in(headers, "WWW-Authenticate", hv, sizeof(hv)) ||
				      strncasecmp(hv, "Bearer", 6) != 0))
			return finding(f, "www-authenticate", "ERR-4",
				       "WWW-Authenticate: Bearer", "401 without it");
		if (status == 405 && !header_in(headers, "Allow", hv, sizeof(hv)))
			return finding(f, "allow", "ERR-5", "an Allow header", "405 without it");
	}
	if (status == 429 && (!header_in(headers, "Retry-After", hv, sizeof(hv)) ||
			      strtol(hv, NULL, 10) < 1))
		return finding(f, "retry-after", "ERR-6", "Retry-After of at least 1 s",
			       "429 without it");
	if (body_len > 0 && (status >= 400 || is_sync_or_feed) &&
	    (!header_in(headers, "Content-Type", ct, sizeof(ct)) ||
	     strncasecmp(ct, "application/json", 16) != 0))
		return finding(f, "content-type", "GEN-2", "Content-Type: application/json",
			       "%ld with Content-Type '%s'", status,
			       header_in(headers, "Content-Type", ct, sizeof(ct)) ? ct : "");
	if (status == 200 && is_sync_or_feed) {
		eb_sync_response *p = NULL;

		eb_err_clear(&err);
		if (eb_sync_response_parse(body ? body : "", body_len, &p, &err) != EB_OK)
			return finding(f, "response-shape", err.rule[0] ? err.rule : "SYNC-4",
				       "a SYNC-4 response", "%s (%s)", snip, err.msg);
		if (!p->has_more && p->to_version != p->current_version) {
			eb_sync_response_free(p);
			return finding(f, "page", "SYNC-7", "toVersion == currentVersion",
				       "hasMore false, toVersion %llu, currentVersion %llu",
				       (unsigned long long)p->to_version,
				       (unsigned long long)p->current_version);
		}
		eb_sync_response_free(p);
	}
	return 0;
}

/* ---- HTTP ----------------------------------------------------------------------- */

static int run_http(ebf_ctx *x, const ebf_case *c, ebf_finding *f, eb_wirelog *wire)
{
	eb_http_resp resp;
	eb_rc rc;
	int r;

	if (!run_http_prepare(x))
		return run_stopped(f);
	eb_http_set_wirelog(x->http, wire, 0);
	rc = eb_http_request(x->http, c->method, c->path, ebf_token(x, c->auth),
			     c->content_type, c->has_body ? c->body : NULL, c->body_len,
			     NULL, 0, &resp);
	eb_http_set_wirelog(x->http, NULL, 0);
	if (rc == EB_ERR_NOMEM) {
		eb_http_resp_clear(&resp);
		snprintf(f->reason, sizeof(f->reason), "out of memory");
		return -1;
	}
	if (rc != EB_OK && ebf_stopped(x)) {
		/* the timeout was the run's deadline, or a signal came */
		eb_http_resp_clear(&resp);
		return run_stopped(f);
	}
	if (rc != EB_OK) {
		int te = resp.transport_error;

		if (te == 28)
			r = finding(f, "hang", "", "an answer within the timeout", "%s", resp.error);
		else if (te == 7) {
			snprintf(f->reason, sizeof(f->reason), "connection refused: %.200s", resp.error);
			r = -1;
		} else
			r = finding(f, "connection-reset", "", "an HTTP answer", "%s", resp.error);
		eb_http_resp_clear(&resp);
		return r;
	}
	if (resp.status == 429) {
		char hv[32];
		long s = header_in(resp.headers, "Retry-After", hv, sizeof(hv)) ? strtol(hv, NULL, 10) : 1;

		r = check_answer(c, resp.status, resp.headers, resp.body, resp.body_len, f);
		eb_http_resp_clear(&resp);
		/* Rate limiting is allowed (RATE-1): wait, do not judge. */
		run_sleep(x, 1000 * (s < 1 ? 1 : s > 2 ? 2 : s));
		return r;
	}
	r = check_answer(c, resp.status, resp.headers, resp.body, resp.body_len, f);
	eb_http_resp_clear(&resp);
	return r;
}

int ebf_http_reset(ebf_ctx *x)
{
	eb_http *h = eb_http_new(x->o->url, x->o->timeout_ms);

	if (!h || eb_http_set_tls(h, &x->o->target.tls_opts) != EB_OK) {
		eb_http_free(h);
		return -1;
	}
	eb_http_free(x->http);
	x->http = h;
	eb_http_set_stop(h, run_http_stop, x);
	eb_http_set_max_body(h, (size_t)x->o->target.max_response_mib << 20);
	return 0;
}

bool ebf_recheck_fresh(ebf_ctx *x, const ebf_case *c)
{
	eb_http_resp resp;
	eb_rc rc;
	bool answered;

	if (c->kind != EBF_HTTP || ebf_http_reset(x) != 0 || !run_http_prepare(x))
		return false;
	rc = eb_http_request(x->http, c->method, c->path, ebf_token(x, c->auth),
			     c->content_type, c->has_body ? c->body : NULL, c->body_len,
			     NULL, 0, &resp);
	answered = rc == EB_OK;
	eb_http_resp_clear(&resp);
	return answered;
}

bool ebf_probe(ebf_ctx *x, char *why, size_t whylen)
{
	char path[160];
	eb_http_resp resp;
	eb_rc rc;
	bool ok;

	snprintf(path, sizeof(path), "/api/stores/ebfuzz-health-%llx/changes?since=0",
		 (unsigned long long)x->run_id);
	if (!run_http_prepare(x)) {
		snprintf(why, whylen, "stopped (a signal or the run's deadline)");
		return false;
	}
	rc = eb_http_request(x->http, "GET", path, x->token, NULL, NULL, 0, NULL, 0, &resp);
	ok = rc == EB_OK && (resp.status == 200 || resp.status == 429);
	if (!ok)
		snprintf(why, whylen, "%s", rc != EB_OK ? resp.error : "health probe not 200");
	if (rc == EB_OK && !ok)
		snprintf(why, whylen, "GET %s answered %ld", path, resp.status);
	eb_http_resp_clear(&resp);
	return ok;
}

/* ---- raw TCP ------------------------------------------------------------------------- */

/* A non-blocking connection to the target within timeout_ms (and the run's
 * deadline). The socket stays non-blocking: every later wait polls it. */
static int tcp_connect(const ebf_ctx *x, long timeout_ms, char *why, size_t whylen)
{
	struct addrinfo hints, *res = NULL, *ai;
	char port[16];
	int fd = -1, err = 0;
	uint64_t until = run_until(x, timeout_ms);

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%d", x->port);
	if (getaddrinfo(x->host, port, &hints, &res) != 0) {
		snprintf(why, whylen, "cannot resolve %s", x->host);
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		socklen_t el = sizeof(err);
		int sl;

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		err = errno;
		while (err == EINPROGRESS && (sl = run_slice_ms(x, until)) > 0) {
			struct pollfd pfd = { fd, POLLOUT, 0 };

			if (poll(&pfd, 1, sl) > 0) {
				err = 0;
				if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
					err = errno;
			}
		}
		if (err == 0)
			break;
		if (err == EINPROGRESS)
			err = ETIMEDOUT;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(why, whylen, "cannot connect to %s:%d: %s", x->host, x->port,
			 strerror(err ? err : errno));
	return fd;
}

/* One raw connection: the socket (non-blocking), and TLS over it for an
 * https:// target. */
typedef struct tcp_conn {
	int fd;
	eb_tls *tls;
} tcp_conn;

/* TLS over t->fd within timeout_ms (and the run's deadline). 0, or -1 with
 * why. */
static int tcp_tls(const ebf_ctx *x, tcp_conn *t, long timeout_ms, char *why, size_t whylen)
{
	uint64_t until = run_until(x, timeout_ms);
	eb_err e;

	eb_err_clear(&e);
	if (eb_tls_new(x->o->target.tls, t->fd, x->host, &t->tls, &e) != EB_OK) {
		snprintf(why, whylen, "%s", e.msg);
		return -1;
	}
	for (;;) {
		eb_tls_io io = eb_tls_handshake(t->tls, &e);
		struct pollfd pfd = { t->fd, io == EB_TLS_WANT_WRITE ? POLLOUT : POLLIN, 0 };
		int sl;

		if (io == EB_TLS_DONE)
			return 0;
		if (io != EB_TLS_WANT_READ && io != EB_TLS_WANT_WRITE) {
			snprintf(why, whylen, "%s", e.msg);
			return -1;
		}
		if ((sl = run_slice_ms(x, until)) <= 0) {
			snprintf(why, whylen, "TLS handshake: no end within %ld ms", timeout_ms);
			return -1;
		}
		poll(&pfd, 1, sl);
	}
}

/* send(2) over the connection, waiting up to timeout_ms (and the run's
 * deadline) for room. -1 with errno as send (EPIPE for a closed peer,
 * ECONNRESET for a TLS failure, EAGAIN for a timeout or a stop). */
static ssize_t tcp_send(const ebf_ctx *x, tcp_conn *t, const void *p, size_t n, long timeout_ms)
{
	uint64_t until = run_until(x, timeout_ms);

	for (;;) {
		struct pollfd pfd = { t->fd, POLLOUT, 0 };
		ssize_t w = t->tls ? eb_tls_send(t->tls, p, n) : send(t->fd, p, n, MSG_NOSIGNAL);
		int sl;

		if (w >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
			if (w < 0 && errno == EPROTO)
				errno = ECONNRESET;
			return w;
		}
		if ((sl = run_slice_ms(x, until)) <= 0) {
			errno = EAGAIN;
			return -1;
		}
		if (t->tls)
			pfd.events = eb_tls_events(t->tls);
		poll(&pfd, 1, sl);
	}
}

/* recv(2) over the connection: -1 with EAGAIN when nothing is there yet. */
static ssize_t tcp_recv(tcp_conn *t, void *p, size_t n)
{
	return t->tls ? eb_tls_recv(t->tls, p, n) : recv(t->fd, p, n, 0);
}

/* true when buf holds a whole response (head plus Content-Length body). */
static bool tcp_complete(const char *buf, size_t len)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4);
	char cl[32];
	char *head;
	bool done;

	if (!end)
		return false;
	head = strndup(buf, (size_t)(end - buf) + 2);
	if (!head)
		return false;
	if (header_in(head, "Content-Length", cl, sizeof(cl)))
		done = len - (size_t)(end + 4 - buf) >= (size_t)strtoull(cl, NULL, 10);
	else
		done = false; /* read until close */
	free(head);
	return done;
}

int ebf_tcp_exchange(ebf_ctx *x, const ebf_case *c, ebf_tcp_result *res,
		     char *why, size_t whylen)
{
	tcp_conn t = { tcp_connect(x, x->o->timeout_ms, why, whylen), NULL };
	int fd = t.fd;
	uint64_t deadline;
	size_t cap = 8192;

	memset(res, 0, sizeof(*res));
	if (fd < 0)
		return -1;
	if (x->o->target.url.tls && tcp_tls(x, &t, x->o->timeout_ms, why, whylen) != 0) {
		/* the handshake or the connect ran out at a stop: that ends the case */
		eb_tls_free(t.tls);
		close(fd);
		return -1;
	}
	for (size_t i = 0; i < c->n_steps; i++) {
		const ebf_step *s = &c->steps[i];
		size_t off = 0, piece = s->op == EBF_S_SLOW ? (s->len + 7) / 8 : s->len;

		if (s->op == EBF_S_SLEEP) {
			run_sleep(x, s->ms);
			continue;
		}
		while (off < s->len && !ebf_stopped(x)) {
			size_t n = s->len - off < piece ? s->len - off : piece;
			ssize_t w = tcp_send(x, &t, s->data + off, n, x->o->timeout_ms);

			if (w <= 0) {
				if (errno == ECONNRESET || errno == EPIPE)
					res->reset = true;
				off = s->len;
				break;
			}
			off += (size_t)w;
			if (s->op == EBF_S_SLOW && off < s->len)
				run_sleep(x, s->ms);
		}
	}
	if (strcmp(c->gen, "tcp/short-body") == 0)
		shutdown(fd, SHUT_WR);
	res->data = malloc(cap);
	if (!res->data) {
		eb_tls_free(t.tls);
		close(fd);
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	deadline = run_until(x, x->o->timeout_ms);
	for (;;) {
		struct pollfd pfd = { fd, t.tls ? eb_tls_events(t.tls) : POLLIN, 0 };
		int sl = run_slice_ms(x, deadline);
		ssize_t n;

		if (sl <= 0) {
			res->timed_out = true;
			break;
		}
		/* TLS may hold decrypted bytes that poll() cannot see */
		if (!(t.tls && eb_tls_pending(t.tls) > 0) && poll(&pfd, 1, sl) <= 0)
			continue;
		if (res->len + 4096 + 1 > cap) {
			char *nb;

			if (cap >= RUN_TCP_MAX)
				break;
			nb = realloc(res->data, cap * 2);
			if (!nb)
				break;
			res->data = nb;
			cap *= 2;
		}
		n = tcp_recv(&t, res->data + res->len, cap - res->len - 1);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			res->reset = true;
			break;
		}
		res->len += (size_t)n;
		res->data[res->len] = '\0';
		if (tcp_complete(res->data, res->len))
			break;
	}
	res->data[res->len] = '\0';
	eb_tls_free(t.tls);
	close(fd);
	if (res->len > 12 && strncmp(res->data, "HTTP/1.", 7) == 0)
		res->status = (int)strtol(res->data + 9, NULL, 10);
	return 0;
}

static int run_tcp(ebf_ctx *x, const ebf_case *c, ebf_finding *f, eb_wirelog *wire)
{
	ebf_tcp_result res;
	char why[256];
	int r = 0;

	for (size_t i = 0; i < c->n_steps; i++)
		eb_wirelog_add(wire, EB_WIRE_OUT, "TCP", 0, c->steps[i].data, c->steps[i].len);
	if (ebf_tcp_exchange(x, c, &res, why, sizeof(why)) != 0) {
		free(res.data);
		if (ebf_stopped(x))
			return run_stopped(f);
		snprintf(f->reason, sizeof(f->reason), "%s", why);
		return -1;
	}
	if (ebf_stopped(x)) {
		/* what came so far was cut by the stop, not by the server */
		free(res.data);
		return run_stopped(f);
	}
	eb_wirelog_add(wire, EB_WIRE_IN, "TCP", 0, res.data, res.len);
	if (res.status == 0) {
		/* No HTTP answer: acceptable for garbage, not for valid input. */
		if (c->ex.valid || c->ex.want_status)
			r = res.timed_out ? finding(f, "hang", "", "an HTTP answer",
						    "no answer within %ld ms", x->o->timeout_ms)
					  : finding(f, "connection-reset", "", "an HTTP answer",
						    "the connection ended without a response");
	} else {
		const char *hdr_end = strstr(res.data, "\r\n\r\n");
		const char *hdrs = strstr(res.data, "\r\n");
		char *block = hdrs && hdr_end ? strndup(hdrs + 2, (size_t)(hdr_end - hdrs)) : NULL;
		const char *body = hdr_end ? hdr_end + 4 : "";
		/* no end of the head (endless headers): no body either; the
		 * difference of body ("") and res.data was a wild length */
		size_t blen = hdr_end ? res.len - (size_t)(body - res.data) : 0;
		char cl[32];

		if (block && header_in(block, "Content-Length", cl, sizeof(cl)) &&
		    strtoull(cl, NULL, 10) < blen)
			blen = strtoull(cl, NULL, 10); /* pipelined: the first answer only */
		if (block && header_in(block, "Transfer-Encoding", cl, sizeof(cl)))
			blen = 0; /* chunked: judged by status only */
		r = check_answer(c, res.status, block ? block : "", body, blen, f);
		free(block);
	}
	free(res.data);
	return r;
}

/* ---- WebSocket ------------------------------------------------------------------- */

static int ws_check_text(const char *data, size_t len, ebf_finding *f, eb_ws_server_msg **out)
{
	eb_err err;
	char snip[200];

	eb_err_clear(&err);
	if (eb_ws_server_msg_parse(data, len, out, &err) == EB_OK)
		return 0;
	snippet(data, len, snip, sizeof(snip));
	return finding(f, "ws-bad-message", err.rule[0] ? err.rule : "WS-2",
		       "a valid server message of section 10", "%s (%s)", snip, err.msg);
}

/* RATE-4: a rate-limited socket is allowed; such a case is not judged and
 * the next one waits a little. */
static bool ws_rate_limited(const eb_ws_server_msg *sm)
{
	return sm && sm->type == EB_WS_S_ERROR && sm->code &&
	       strcmp(sm->code, "RATE_LIMITED") == 0;
}

/* The case's WebSocket, connected and upgraded within the timeout and the
 * run's deadline: eb_wsc's step API, polled in slices. EB_OK, or the errors
 * of eb_wsc_connect_tls (a timeout or a stop is EB_ERR_IO). */
static eb_rc run_ws_connect(ebf_ctx *x, eb_wirelog *wire, eb_wsc **out, int *http_status,
			    eb_err *err)
{
	uint64_t until = run_until(x, x->o->timeout_ms);
	eb_wsc *ws = NULL;
	bool done = false;
	eb_rc rc = eb_wsc_connect_start_tls(x->o->url, "/api/sync/notifications",
					    x->o->target.tls, wire, 0, &ws, err);

	while (rc == EB_OK) {
		struct pollfd pfd;
		int sl;

		rc = eb_wsc_connect_step(ws, &done, http_status, err);
		if (rc != EB_OK || done)
			break;
		if ((sl = run_slice_ms(x, until)) <= 0) {
			snprintf(err->msg, sizeof(err->msg), "no upgrade within %ld ms",
				 x->o->timeout_ms);
			rc = EB_ERR_IO;
			break;
		}
		pfd.fd = eb_wsc_fd(ws);
		pfd.events = eb_wsc_connect_events(ws);
		pfd.revents = 0;
		poll(&pfd, 1, sl);
	}
	if (rc != EB_OK) {
		eb_wsc_free(ws);
		ws = NULL;
	}
	*out = ws;
	return rc;
}

/* Before a send: waits in slices until the socket takes bytes, and bounds
 * the send itself by the timeout and the run's deadline (a server that
 * does not read blocks a send; a case's messages are small, so one that
 * finds room rarely waits). false when the run stops first. */
static bool run_ws_writable(ebf_ctx *x, eb_wsc *ws)
{
	uint64_t until = run_until(x, x->o->timeout_ms), now;
	int sl;

	while ((sl = run_slice_ms(x, until)) > 0) {
		struct pollfd pfd = { eb_wsc_fd(ws), POLLOUT, 0 };

		if (poll(&pfd, 1, sl) != 0)
			break;
	}
	now = eb_time_mono_ns();
	if (ebf_stopped(x) || now >= until)
		return false;
	eb_wsc_set_send_timeout(ws, (long)((until - now + 999999ULL) / 1000000ULL));
	return true;
}

/* The next event within the wait that ends at until, in slices: EB_OK with
 * m filled (TIMEOUT once until passes), or EB_ERR_IO. *stopped true (and m
 * a TIMEOUT) when the run stops first. */
static eb_rc run_ws_recv(ebf_ctx *x, eb_wsc *ws, uint64_t until, eb_wsc_msg *m, bool *stopped,
			 eb_err *err)
{
	int sl;

	*stopped = false;
	for (;;) {
		eb_rc rc;

		memset(m, 0, sizeof(*m));
		if ((sl = run_slice_ms(x, until)) <= 0) {
			*stopped = ebf_stopped(x);
			m->ev = EB_WSC_TIMEOUT;
			return EB_OK;
		}
		rc = eb_wsc_recv(ws, sl, m, err);
		if (rc != EB_OK || m->ev != EB_WSC_TIMEOUT)
			return rc;
		eb_wsc_msg_clear(m);
	}
}

static int run_ws(ebf_ctx *x, const ebf_case *c, ebf_finding *f, eb_wirelog *wire)
{
	static const char probe[] = "{\"type\":\"ping\",\"requestId\":\"" RUN_PROBE_ID "\"}";
	const ebf_expect *ex = &c->ex;
	eb_wsc *ws = NULL;
	eb_wsc_msg m;
	eb_err err;
	int http_status = 0, r = 0;
	bool saw_error = false, saw_pong_frame = false, valid_auth = c->auth == EBF_AUTH_VALID;
	bool stopped = false;
	uint64_t deadline;
	eb_rc rc;

	eb_err_clear(&err);
	rc = run_ws_connect(x, wire, &ws, &http_status, &err);
	if (rc != EB_OK && ebf_stopped(x))
		return run_stopped(f);
	if (rc == EB_ERR_SHAPE)
		return finding(f, "ws-upgrade", "WS-1", "101 Switching Protocols",
			       "upgrade refused with %d", http_status);
	if (rc != EB_OK) {
		snprintf(f->reason, sizeof(f->reason), "WebSocket connect: %s", err.msg);
		return -1;
	}
	if (c->ws_auth) {
		char *auth = NULL;
		const char *tok = ebf_token(x, c->auth);

		if (!run_ws_writable(x, ws)) {
			stopped = ebf_stopped(x);
			snprintf(f->reason, sizeof(f->reason), "cannot send auth: no room within %ld ms",
				 x->o->timeout_ms);
			r = -1;
			goto out;
		}
		if (eb_ws_encode_auth("ebfuzz-auth", tok ? tok : "", &auth) != EB_OK ||
		    eb_wsc_send_text(ws, auth, strlen(auth), &err) != EB_OK) {
			free(auth);
			snprintf(f->reason, sizeof(f->reason), "cannot send auth");
			r = -1;
			goto out;
		}
		free(auth);
		/* one deadline for auth_ok: the messages before it (a flood of
		 * valid ones included) do not extend it */
		deadline = run_until(x, x->o->timeout_ms);
		while (valid_auth) {
			eb_ws_server_msg *sm = NULL;

			if (run_ws_recv(x, ws, deadline, &m, &stopped, &err) != EB_OK) {
				snprintf(f->reason, sizeof(f->reason), "WebSocket read: %.200s", err.msg);
				r = -1;
				goto out;
			}
			if (stopped)
				goto out;
			if (m.ev == EB_WSC_TEXT) {
				r = ws_check_text(m.data, m.len, f, &sm);
				if (!r && ws_rate_limited(sm)) {
					eb_ws_server_msg_free(sm);
					eb_wsc_msg_clear(&m);
					run_sleep(x, 1000);
					goto out;
				}
				if (!r && sm->type == EB_WS_S_AUTH_OK) {
					eb_ws_server_msg_free(sm);
					eb_wsc_msg_clear(&m);
					break;
				}
				eb_ws_server_msg_free(sm);
				eb_wsc_msg_clear(&m);
				if (r)
					goto out;
				continue;
			}
			if (m.ev == EB_WSC_PING || m.ev == EB_WSC_PONG) {
				eb_wsc_msg_clear(&m);
				continue;
			}
			if (m.ev == EB_WSC_CLOSE && m.close_code == 4429)
				run_sleep(x, 1000); /* rate limited (RATE-4): not judged */
			else if (m.ev == EB_WSC_CLOSE)
				r = finding(f, "ws-auth-refused", "WS-AUTH-4", "auth_ok for a valid token",
					    "closed with %d", m.close_code);
			else if (m.ev == EB_WSC_TIMEOUT)
				r = finding(f, "ws-auth-refused", "WS-AUTH-4", "auth_ok for a valid token",
					    "no auth_ok within %ld ms (whatever else came)",
					    x->o->timeout_ms);
			else
				r = finding(f, "ws-auth-refused", "WS-AUTH-4", "auth_ok for a valid token",
					    "the connection ended (event %d)", (int)m.ev);
			eb_wsc_msg_clear(&m);
			goto out;
		}
	}
	for (size_t i = 0; i < c->n_steps; i++) {
		const ebf_step *s = &c->steps[i];

		if (s->op != EBF_S_SLEEP && !run_ws_writable(x, ws)) {
			if ((stopped = ebf_stopped(x)))
				goto out;
			continue; /* no room: the server does not read; judged below */
		}
		/* Send errors are expected once the server has closed. */
		switch (s->op) {
		case EBF_S_TEXT: eb_wsc_send_text(ws, s->data, s->len, NULL); break;
		case EBF_S_FRAME:
			eb_wsc_send_frame(ws, s->opcode, s->fin, s->data, s->len, s->unmasked, NULL);
			break;
		case EBF_S_RAW: eb_wsc_send_raw(ws, s->data, s->len, NULL); break;
		case EBF_S_SLEEP: run_sleep(x, s->ms); break;
		case EBF_S_SLOW: {
			/* sixteen pieces, a pause after each */
			size_t piece = s->len / 16 ? s->len / 16 : 1;

			for (size_t k = 0; k < s->len && !ebf_stopped(x); k += piece) {
				if (k && !run_ws_writable(x, ws))
					break;
				eb_wsc_send_raw(ws, s->data + k,
						s->len - k < piece ? s->len - k : piece, NULL);
				run_sleep(x, s->ms);
			}
			break;
		}
		}
	}
	if (!ex->want_close && !ex->want_open) {
		/* Robustness only: the batch's health probe judges the server. */
		goto out;
	}
	if (ebf_stopped(x)) {
		stopped = true;
		goto out;
	}
	/* A ping after the case tells "still open" from "closed" quickly. */
	if (run_ws_writable(x, ws))
		eb_wsc_send_text(ws, probe, sizeof(probe) - 1, NULL);
	deadline = run_until(x, x->o->timeout_ms);
	for (;;) {
		eb_ws_server_msg *sm = NULL;
		bool probe_pong;

		if (run_ws_recv(x, ws, deadline, &m, &stopped, &err) != EB_OK ||
		    m.ev == EB_WSC_TIMEOUT) {
			eb_wsc_msg_clear(&m);
			if (stopped || ebf_stopped(x)) {
				stopped = true;
				goto out;
			}
			r = ex->want_close
				? finding(f, "ws-not-closed", ex->rule, "a close frame",
					  "nothing within %ld ms", x->o->timeout_ms)
				: finding(f, "ws-no-reply", "WS-5", "pong to a ping",
					  "nothing within %ld ms", x->o->timeout_ms);
			goto out;
		}
		switch (m.ev) {
		case EB_WSC_TEXT:
			r = ws_check_text(m.data, m.len, f, &sm);
			if (r) {
				eb_wsc_msg_clear(&m);
				goto out;
			}
			if (ws_rate_limited(sm)) {
				eb_ws_server_msg_free(sm);
				eb_wsc_msg_clear(&m);
				run_sleep(x, 1000);
				goto out;
			}
			if (sm->type == EB_WS_S_ERROR && ex->want_code[0] && sm->code &&
			    strcmp(sm->code, ex->want_code) == 0)
				saw_error = true;
			probe_pong = sm->type == EB_WS_S_PONG && sm->request_id &&
				     strcmp(sm->request_id, RUN_PROBE_ID) == 0;
			eb_ws_server_msg_free(sm);
			eb_wsc_msg_clear(&m);
			if (!probe_pong)
				continue;
			if (ex->want_close)
				r = finding(f, "ws-not-closed", ex->rule,
					    "close with the code of the rule",
					    "the socket stayed open and answered a ping");
			else if (ex->want_code[0] && !saw_error)
				r = finding(f, "ws-missing-error", ex->rule,
					    "an error message with the rule's code",
					    "no %s error before the pong", ex->want_code);
			else if (strcmp(ex->rule, "WS-7") == 0 && !saw_pong_frame)
				r = finding(f, "ws-no-pong-frame", "WS-7",
					    "a pong frame for a ping frame", "none came");
			goto out;
		case EB_WSC_PING:
			eb_wsc_msg_clear(&m);
			continue;
		case EB_WSC_PONG:
			saw_pong_frame = true;
			eb_wsc_msg_clear(&m);
			continue;
		case EB_WSC_CLOSE:
			if (m.close_code == 4429 && ex->want_close != 4429) {
				run_sleep(x, 1000); /* rate limited (RATE-4): not judged */
				eb_wsc_msg_clear(&m);
				goto out;
			}
			if (ex->want_close && m.close_code != ex->want_close &&
			    (!ex->alt_close || m.close_code != ex->alt_close))
				r = finding(f, "ws-wrong-close", ex->rule, "the rule's close code",
					    "closed with %d, expected %d", m.close_code, ex->want_close);
			else if (!ex->want_close &&
				 (!ex->alt_close || m.close_code != ex->alt_close))
				r = finding(f, "ws-closed", ex->rule, "the socket stays open",
					    "closed with %d", m.close_code);
			eb_wsc_msg_clear(&m);
			goto out;
		case EB_WSC_EOF:
			r = ex->want_close
				? finding(f, "ws-dropped", ex->rule, "a close frame with the rule's code",
					  "TCP closed without a close frame")
				: finding(f, "ws-closed", ex->rule, "the socket stays open",
					  "TCP closed");
			eb_wsc_msg_clear(&m);
			goto out;
		case EB_WSC_BINARY:
			r = finding(f, "ws-binary-message", "WS-2", "JSON objects in text frames",
				    "a binary message of %zu bytes", m.len);
			eb_wsc_msg_clear(&m);
			goto out;
		default:
			r = finding(f, "ws-protocol-error", "WS-1", "RFC 6455 frames",
				    "%s", m.data && m.data[0] ? m.data : "a frame RFC 6455 forbids");
			eb_wsc_msg_clear(&m);
			goto out;
		}
	}
out:
	if (ws && !stopped && run_ws_writable(x, ws))
		eb_wsc_send_close(ws, 1000, "", NULL);
	eb_wsc_free(ws);
	return stopped ? run_stopped(f) : r;
}

int ebf_run_case(ebf_ctx *x, const ebf_case *c, ebf_finding *f, eb_wirelog *wire)
{
	memset(f, 0, sizeof(*f));
	switch (c->kind) {
	case EBF_HTTP: return run_http(x, c, f, wire);
	case EBF_TCP: return run_tcp(x, c, f, wire);
	case EBF_WS: return run_ws(x, c, f, wire);
	}
	snprintf(f->reason, sizeof(f->reason), "unknown case kind");
	return -1;
}
