/*
 * eb_preflight.c — limits, one read with the token, one socket handshake,
 * and the verdict that separates a wrong command from a broken server (see
 * eb_preflight.h).
 */
#include <ctype.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eb_http.h"
#include "eb_preflight.h"
#include "eb_time.h"
#include "eb_ws.h"
#include "eb_wsc.h"

#define PF_WS_PATH "/api/sync/notifications"
/* The longest single wait on the socket: t->stop is checked between. */
#define PF_SLICE_MS 50

static bool pf_stopped(const eb_target *t)
{
	return t->stop != NULL && t->stop(t->stop_arg);
}

/* Appends up to 160 bytes of body as one printable line in quotes. */
static void pf_quote(char *buf, size_t len, const char *body, size_t n)
{
	size_t at = strlen(buf), i;

	if (n > 160)
		n = 160;
	if (at + 2 >= len)
		return;
	buf[at++] = '"';
	for (i = 0; i < n && at + 5 < len; i++) {
		char ch = isprint((unsigned char)body[i]) ? body[i] : ' ';

		/* one line: runs of blanks (HTML indentation, newlines) as one */
		if (ch == ' ' && at > 0 && buf[at - 1] == ' ')
			continue;
		buf[at++] = ch;
	}
	if (i < n && at + 5 < len) {
		memcpy(buf + at, "...", 3);
		at += 3;
	}
	buf[at++] = '"';
	buf[at] = '\0';
}

/* An answer only an Early Bird server (or a failing one) gives: an ERR-1
 * error body other than 404, or a server error, which is for the run to
 * report. */
static bool pf_speaks(const eb_http_resp *r)
{
	eb_error_body *eb = NULL;
	bool yes = r->status >= 500;

	/* 404 is "no such route" (ERR-3): the URL or its base path is wrong */
	if (!yes && r->status >= 400 && r->status != 404 &&
	    eb_error_body_parse(r->body, r->body_len, &eb, NULL) == EB_OK)
		yes = true;
	eb_error_body_free(eb);
	return yes;
}

static void pf_limits(eb_http *h, eb_preflight *p)
{
	eb_http_resp r;

	if (eb_http_request(h, "GET", "/api/limits", NULL, NULL, NULL, 0, NULL, 0, &r) != EB_OK) {
		snprintf(p->seen_http, sizeof(p->seen_http), "%s", r.error[0] ? r.error : "no answer");
		p->transport_error = r.transport_error;
		p->tls_untrusted = r.transport_error == EB_HTTP_UNTRUSTED;
		eb_http_resp_clear(&r);
		return;
	}
	p->limits_status = r.status;
	if (r.status == 200 && eb_limits_parse(r.body, r.body_len, &p->limits, NULL) == EB_OK)
		p->limits_offered = true;
	else
		eb_limits_default(&p->limits);
	p->speaks |= pf_speaks(&r);
	eb_http_resp_clear(&r);
}

/* The read of a fresh store with the token: 200 with a feed body, or a
 * refusal (401/403; with an ERR-1 body or from a server that offers limits). */
static bool pf_http(eb_http *h, const char *token, const char *store, eb_preflight *p)
{
	char path[300];
	eb_http_resp r;
	eb_error_body *eb = NULL;
	eb_sync_response *sr = NULL;
	char ctype[96] = "";

	snprintf(path, sizeof(path), "/api/stores/%s/changes?since=0", store);
	if (eb_http_request(h, "GET", path, token && *token ? token : NULL, NULL, NULL, 0, NULL,
			    0, &r) != EB_OK) {
		snprintf(p->seen_http, sizeof(p->seen_http), "%s", r.error[0] ? r.error : "no answer");
		eb_http_resp_clear(&r);
		return false;
	}
	p->http_status = r.status;
	eb_http_resp_header(&r, "Content-Type", ctype, sizeof(ctype));
	snprintf(p->seen_http, sizeof(p->seen_http), "GET %.200s answered %ld%s%.80s%s ", path, r.status,
		 ctype[0] ? " (" : "", ctype, ctype[0] ? ")" : "");
	pf_quote(p->seen_http, sizeof(p->seen_http), r.body, r.body_len);
	p->speaks |= pf_speaks(&r);
	if (r.status == 200 && eb_sync_response_parse(r.body, r.body_len, &sr, NULL) == EB_OK)
		p->http_ok = true;
	else if ((r.status == 401 || r.status == 403) &&
		 (eb_error_body_parse(r.body, r.body_len, &eb, NULL) == EB_OK || p->limits_offered))
		p->http_refused = true;
	eb_sync_response_free(sr);
	eb_error_body_free(eb);
	eb_http_resp_clear(&r);
	return true;
}

/* Waits for the server's answer to the first message: 1 accepted, -1
 * refused (4401 close, or an UNAUTHORIZED error), 0 anything else. */
static int pf_ws_answer(const eb_target *t, eb_wsc *c, eb_ws_server_type want,
			uint64_t deadline_ms, eb_preflight *p)
{
	for (;;) {
		long left = (long)(deadline_ms - (eb_time_mono_ns() / 1000000));
		eb_wsc_msg m;
		eb_ws_server_msg *sm = NULL;
		int res = 0;

		/* in slices: t->stop (a signal) ends the wait too */
		if (deadline_ms <= (eb_time_mono_ns() / 1000000) || pf_stopped(t) ||
		    eb_wsc_recv(c, left < PF_SLICE_MS ? left : PF_SLICE_MS, &m, NULL) != EB_OK) {
			snprintf(p->seen_ws, sizeof(p->seen_ws), "no answer on the socket within the timeout");
			return 0;
		}
		if (m.ev == EB_WSC_PING || m.ev == EB_WSC_PONG || m.ev == EB_WSC_TIMEOUT) {
			eb_wsc_msg_clear(&m);
			continue;
		}
		if (m.ev == EB_WSC_CLOSE) {
			p->ws_close = m.close_code;
			snprintf(p->seen_ws, sizeof(p->seen_ws), "the socket was closed with %d%s",
				 m.close_code, m.data[0] ? " " : "");
			if (m.data[0])
				pf_quote(p->seen_ws, sizeof(p->seen_ws), m.data, m.len);
			res = m.close_code == EB_WS_CLOSE_AUTH ? -1 : 0;
		} else if (m.ev == EB_WSC_TEXT) {
			snprintf(p->seen_ws, sizeof(p->seen_ws), "the socket answered ");
			pf_quote(p->seen_ws, sizeof(p->seen_ws), m.data, m.len);
			if (eb_ws_server_msg_parse(m.data, m.len, &sm, NULL) == EB_OK) {
				if (sm->type == want)
					res = 1;
				else if (sm->type == EB_WS_S_ERROR && sm->code &&
					 strcmp(sm->code, EB_CODE_UNAUTHORIZED) == 0)
					res = -1;
			}
			eb_ws_server_msg_free(sm);
		} else {
			snprintf(p->seen_ws, sizeof(p->seen_ws), "the socket %s",
				 m.ev == EB_WSC_EOF ? "closed without a close frame" : "broke the protocol");
		}
		eb_wsc_msg_clear(&m);
		return res;
	}
}

/* eb_wsc_connect_tls within the timeout, in slices that t->stop ends. */
static eb_rc pf_ws_connect(const eb_target *t, eb_tls_ctx *tls, uint64_t deadline_ms,
			   eb_wsc **out, int *status, eb_err *e)
{
	bool done = false;
	eb_rc rc = eb_wsc_connect_start_tls(t->url.ws, PF_WS_PATH, tls, NULL, 0, out, e);

	while (rc == EB_OK) {
		struct pollfd pfd;
		uint64_t now = eb_time_mono_ns() / 1000000;

		rc = eb_wsc_connect_step(*out, &done, status, e);
		if (rc != EB_OK || done)
			break;
		if (now >= deadline_ms || pf_stopped(t)) {
			eb_err_set(e, EB_ERR_IO, NULL, NULL, NULL, 0, "no upgrade within the timeout");
			rc = EB_ERR_IO;
			break;
		}
		pfd.fd = eb_wsc_fd(*out);
		pfd.events = eb_wsc_connect_events(*out);
		pfd.revents = 0;
		poll(&pfd, 1, deadline_ms - now < PF_SLICE_MS ? (int)(deadline_ms - now) : PF_SLICE_MS);
	}
	if (rc != EB_OK) {
		eb_wsc_free(*out);
		*out = NULL;
	}
	return rc;
}

static void pf_ws(const eb_target *t, const char *token, const char *store, eb_preflight *p)
{
	eb_wsc *c = NULL;
	eb_err e;
	int status = 0, res;
	char *msg = NULL;
	const char *stores[1] = { store };
	uint64_t deadline = (eb_time_mono_ns() / 1000000) + (uint64_t)t->timeout_ms;

	eb_tls_ctx *tls = t->tls, *own = NULL;

	eb_err_clear(&e);
	/* a program that made no context yet (ebload checks each URL) */
	if (t->url.tls && !tls && eb_tls_ctx_new(&t->tls_opts, &own, &e) != EB_OK) {
		snprintf(p->seen_ws, sizeof(p->seen_ws), "no TLS: %s", e.msg);
		return;
	}
	if (own)
		tls = own;
	if (pf_ws_connect(t, tls, deadline, &c, &status, &e) != EB_OK) {
		snprintf(p->seen_ws, sizeof(p->seen_ws), "the upgrade at %s failed: %s", PF_WS_PATH,
			 e.msg);
		if (status == 401 || status == 403)
			p->ws_refused = true;
		eb_tls_ctx_free(own);
		return;
	}
	if (t->no_auth)
		eb_ws_encode_subscribe("preflight", false, stores, 1, &msg);
	else
		eb_ws_encode_auth("preflight", token, &msg);
	if (!msg || eb_wsc_send_text(c, msg, strlen(msg), &e) != EB_OK) {
		snprintf(p->seen_ws, sizeof(p->seen_ws), "could not send on the socket: %s", e.msg);
		goto out;
	}
	res = pf_ws_answer(t, c, t->no_auth ? EB_WS_S_SUBSCRIBED : EB_WS_S_AUTH_OK, deadline, p);
	p->ws_ok = res == 1;
	p->ws_refused = res == -1;
out:
	free(msg);
	eb_wsc_free(c);
	eb_tls_ctx_free(own);
}

/* The flag a refusal most likely points at, from the server's own words. */
static const char *pf_likely_flag(const eb_target *t, const eb_preflight *p)
{
	char low[sizeof(p->seen_http)];
	const char *body;
	size_t i;

	if (t->no_auth)
		return "--no-auth: the server wants a token; drop --no-auth and give --jwt-secret "
		       "(or export EB_JWT_SECRET) or --jwt-private-key";
	/* the body only: the path holds a random store id */
	body = strchr(p->seen_http, '"');
	if (!body)
		body = "";
	for (i = 0; body[i] && i + 1 < sizeof(low); i++)
		low[i] = (char)tolower((unsigned char)body[i]);
	low[i] = '\0';
	/* words, not fragments: "missing" holds "iss", "expected" "exp" */
	if (strstr(low, "issuer") || strstr(low, "iss ") || strstr(low, "audience") ||
	    strstr(low, "aud "))
		return "--jwt-issuer/--jwt-audience: give the issuer and audience the server is "
		       "configured with";
	if (strstr(low, "expired") || strstr(low, "exp ") || strstr(low, "nbf") ||
	    strstr(low, "not yet"))
		return "the clocks or --jwt-leeway: the server finds the token's time window wrong";
	if (t->secret)
		return "--jwt-secret (or $EB_JWT_SECRET): it is not the HS256 secret the server "
		       "verifies with (or the server verifies RS256 only: give --jwt-private-key)";
	return "--jwt-private-key: its public half is not the key the server verifies with";
}

eb_pf_verdict eb_preflight_judge(const eb_target *t, const char *prog, eb_preflight *p)
{
	const char *url = t->url_text ? t->url_text : t->url.http;

	if (p->http_refused && !p->ws_ok) {
		p->verdict = EB_PF_REFUSED;
		snprintf(p->message, sizeof(p->message),
			 "%.32s: the server at %.200s refuses %.32s%s over HTTP (%.400s) and on the "
			 "socket (%.400s). This is a setup error, not a verdict: check %.300s. "
			 "Nothing was run.",
			 prog, url, t->no_auth ? "requests without a token" : prog,
			 t->no_auth ? "" : "'s token", p->seen_http, p->seen_ws,
			 pf_likely_flag(t, p));
	} else if (p->http_refused != p->ws_refused && (p->http_ok || p->ws_ok)) {
		p->verdict = EB_PF_INCONSISTENT;
		snprintf(p->message, sizeof(p->message),
			 "%.32s: note: the server takes the token on %s but refuses it on %s (%.400s); "
			 "running anyway, the cases that check it will fail.", prog,
			 p->http_ok ? "HTTP" : "the socket", p->http_ok ? "the socket" : "HTTP",
			 p->http_ok ? p->seen_ws : p->seen_http);
	} else {
		p->verdict = EB_PF_OK;
	}
	return p->verdict;
}

/* A TLS setup mistake seen by the first request: a certificate the program
 * does not trust (chain or name), or https:// to a port without TLS. true
 * with the verdict and message set. */
bool eb_preflight_tls_hint(const eb_target *t, const char *prog, int transport_error,
			   const char *seen, char *msg, size_t len)
{
	const char *url = t->url_text ? t->url_text : t->url.http;

	if (transport_error == EB_HTTP_UNTRUSTED) {
		snprintf(msg, len,
			 "%.32s: the server at %.200s presents a certificate %.32s does not trust "
			 "(%.400s). This is a setup error, not a verdict: give --cacert FILE with "
			 "the CA certificate that signed the server's certificate (PEM), or "
			 "--insecure to skip the check (test servers only). Nothing was run.",
			 prog, url, prog, seen);
		return true;
	}
	if (t->url.tls && transport_error != 0 && strstr(seen, "wrong version number")) {
		snprintf(msg, len,
			 "%.32s: the server at %.200s does not speak TLS on this port (%.400s). "
			 "This is a setup error, not a verdict: use http:// (or ws://) for a "
			 "plain server. Nothing was run.", prog, url, seen);
		return true;
	}
	return false;
}

static bool pf_tls_setup(const eb_target *t, const char *prog, eb_preflight *p)
{
	if (!eb_preflight_tls_hint(t, prog, p->transport_error, p->seen_http, p->message,
				   sizeof(p->message)))
		return false;
	p->verdict = EB_PF_TLS;
	return true;
}

eb_pf_verdict eb_preflight_run(const eb_target *t, const char *prog, const char *token,
			       const char *store, eb_preflight *out)
{
	eb_http *h = eb_http_new(t->url.http, t->timeout_ms);
	const char *url = t->url_text ? t->url_text : t->url.http;
	char limits_seen[sizeof(out->seen_http)];

	memset(out, 0, sizeof(*out));
	eb_limits_default(&out->limits);
	eb_http_set_stop(h, t->stop, t->stop_arg);
	if (!h || eb_http_set_tls(h, &t->tls_opts) != EB_OK) {
		eb_http_free(h);
		out->verdict = EB_PF_UNREACHABLE;
		snprintf(out->message, sizeof(out->message), "%.32s: cannot create an HTTP client", prog);
		return out->verdict;
	}
	pf_limits(h, out);
	snprintf(limits_seen, sizeof(limits_seen), "%s", out->seen_http);
	if (out->limits_status == 0 && pf_tls_setup(t, prog, out))
		goto out;
	if (out->limits_status == 0 || !pf_http(h, token, store, out)) {
		out->verdict = EB_PF_UNREACHABLE;
		snprintf(out->message, sizeof(out->message), "%.32s: the server at %.200s is unreachable: %.400s",
			 prog, url, out->limits_status ? out->seen_http : limits_seen);
		goto out;
	}
	if (!out->limits_offered && !out->http_ok && !out->http_refused && !out->speaks) {
		out->verdict = EB_PF_NOT_EB;
		snprintf(out->message, sizeof(out->message),
			 "%.32s: %.200s does not look like an Early Bird server (at this base path): "
			 "GET /api/limits answered %ld and %.400s. Check --url (host, port and base "
			 "path). Nothing was run.",
			 prog, url, out->limits_status, out->seen_http);
		goto out;
	}
	pf_ws(t, token, store, out);
	eb_preflight_judge(t, prog, out);
out:
	eb_http_free(h);
	return out->verdict;
}

eb_exit eb_preflight_exit(eb_pf_verdict v)
{
	switch (v) {
	case EB_PF_REFUSED:
	case EB_PF_NOT_EB:
	case EB_PF_TLS:
		return EB_EXIT_USAGE;
	case EB_PF_UNREACHABLE:
		return EB_EXIT_UNREACHABLE;
	case EB_PF_OK:
	case EB_PF_INCONSISTENT:
		break;
	}
	return EB_EXIT_OK;
}
