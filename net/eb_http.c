/*
 * eb_http.c — blocking HTTP/1.1 client on the libcurl easy API.
 *
 * One eb_http owns one curl easy handle; curl_easy_reset between requests
 * clears options but keeps live connections, so consecutive requests reuse
 * the keep-alive connection. Harness requests must reach the target exactly
 * as written: no proxy, no "Expect: 100-continue", no path normalisation,
 * no content decoding, and any method string or body bytes.
 */
#include "eb_http.h"

#include <curl/curl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define HTTP_HEADERS_MAX ((size_t)1024 * 1024)
/* A body past this is logged as its head and a count: the wire log keeps a
 * few KiB per entry anyway, copying megabytes for it would be waste. */
#define HTTP_LOG_BODY_FULL ((size_t)256 * 1024)
#define HTTP_LOG_BODY_HEAD ((size_t)16 * 1024)

struct eb_http {
	CURL *curl;
	char *base;          /* without trailing '/' */
	long timeout_ms;
	size_t max_body;     /* eb_http_set_max_body */
	eb_wirelog *wire;    /* borrowed */
	int conn;
	char *cacert;        /* eb_http_set_tls: CA file, or NULL (system's) */
	bool insecure;
	eb_http_budget *budget; /* borrowed, may be NULL */
	bool (*stop)(void *arg); /* eb_http_set_stop: polled during a request */
	void *stop_arg;
};

struct eb_http_budget {
	size_t max;
	atomic_size_t used;
};

typedef struct http_buf {
	char *p;
	size_t len, cap, max;
	bool overflow;
	bool nomem;
	eb_http_budget *budget; /* bodies only: bytes drawn are in drawn */
	size_t drawn;
	bool over_budget;
} http_buf;

/* State of one request, shared with the curl callbacks. */
typedef struct http_xfer {
	eb_http *h;
	http_buf body;
	http_buf headers;     /* "Name: value\r\n" lines of the final response */
	http_buf raw_in;      /* status line + header lines, for the wire log */
	http_buf out;         /* request head as curl sent it */
	const char *req_body;
	size_t req_body_len;
	bool out_logged;
} http_xfer;

static uint64_t http_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool http_buf_add(http_buf *b, const char *data, size_t len)
{
	if (b->nomem || b->overflow)
		return false;
	if (len > b->max - b->len) {
		b->overflow = true;
		return false;
	}
	if (b->budget != NULL && len > 0) {
		size_t was = atomic_fetch_add(&b->budget->used, len);

		b->drawn += len;
		if (was + len > b->budget->max) {
			b->over_budget = true;
			b->overflow = true;
			return false;
		}
	}
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		while (cap < b->len + len + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (p == NULL) {
			b->nomem = true;
			return false;
		}
		b->p = p;
		b->cap = cap;
	}
	if (len > 0)
		memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
	return true;
}

/* Gives back what the body drew from the shared budget. */
static void http_buf_release(http_buf *b)
{
	if (b->budget != NULL && b->drawn > 0)
		atomic_fetch_sub(&b->budget->used, b->drawn);
	b->drawn = 0;
}

eb_http_budget *eb_http_budget_new(size_t max_bytes)
{
	eb_http_budget *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	b->max = max_bytes;
	atomic_init(&b->used, 0);
	return b;
}

void eb_http_budget_free(eb_http_budget *b)
{
	free(b);
}

void eb_http_set_budget(eb_http *h, eb_http_budget *b)
{
	if (h != NULL)
		h->budget = b;
}

static void http_buf_free(http_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* Hands the buffer's storage to the caller: always a NUL-terminated string
 * (an empty one when nothing arrived), NULL only when out of memory. */
static char *http_buf_take(http_buf *b, size_t *len)
{
	if (b->p == NULL) {
		b->p = malloc(1);
		if (b->p == NULL)
			return NULL;
		b->p[0] = '\0';
	}
	char *p = b->p;
	if (len != NULL)
		*len = b->len;
	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

static size_t http_on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	http_xfer *x = ud;
	size_t n = size * nmemb;
	/* Returning short makes curl fail the transfer with a write error. */
	return http_buf_add(&x->body, data, n) ? n : 0;
}

static size_t http_on_header(char *data, size_t size, size_t nmemb, void *ud)
{
	http_xfer *x = ud;
	size_t n = size * nmemb;
	if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		/* A new status line: an interim 1xx response ends here, only
		 * the final response's headers are kept. */
		x->headers.len = 0;
		if (x->headers.p != NULL)
			x->headers.p[0] = '\0';
		x->raw_in.len = 0;
		if (x->raw_in.p != NULL)
			x->raw_in.p[0] = '\0';
		return http_buf_add(&x->raw_in, data, n) ? n : 0;
	}
	if (!http_buf_add(&x->raw_in, data, n))
		return 0;
	if (n == 2 && data[0] == '\r' && data[1] == '\n')
		return n;
	if (n == 1 && data[0] == '\n')
		return n;
	return http_buf_add(&x->headers, data, n) ? n : 0;
}

static void http_log_body(http_buf *b, const char *body, size_t len)
{
	if (len <= HTTP_LOG_BODY_FULL) {
		http_buf_add(b, body, len);
		return;
	}
	char more[64];
	int n = snprintf(more, sizeof more, "[... %zu bytes more]",
			 len - HTTP_LOG_BODY_HEAD);
	http_buf_add(b, body, HTTP_LOG_BODY_HEAD);
	http_buf_add(b, more, (size_t)n);
}

static void http_log_out(http_xfer *x)
{
	if (x->out_logged || x->h->wire == NULL)
		return;
	x->out_logged = true;
	if (x->req_body != NULL && x->req_body_len > 0)
		http_log_body(&x->out, x->req_body, x->req_body_len);
	eb_wirelog_add(x->h->wire, EB_WIRE_OUT, "HTTP", x->h->conn,
		       x->out.p ? x->out.p : "", x->out.len);
}

/* The request head exactly as curl sent it; logged (with the body) when the
 * first response byte or body byte goes by, so the OUT entry precedes IN. */
static int http_on_debug(CURL *curl, curl_infotype type, char *data,
			 size_t size, void *ud)
{
	(void)curl;
	http_xfer *x = ud;
	switch (type) {
	case CURLINFO_HEADER_OUT:
		if (x->out_logged)
			break;
		/* A complete head seen again: curl resends on a stale
		 * keep-alive connection; keep only the last attempt. */
		if (x->out.len >= 4 &&
		    memcmp(x->out.p + x->out.len - 4, "\r\n\r\n", 4) == 0)
			x->out.len = 0;
		http_buf_add(&x->out, data, size);
		break;
	case CURLINFO_DATA_OUT:
	case CURLINFO_HEADER_IN:
	case CURLINFO_DATA_IN:
		http_log_out(x);
		break;
	default:
		break;
	}
	return 0;
}

int eb_http_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void eb_http_global_cleanup(void)
{
	curl_global_cleanup();
}

eb_http *eb_http_new(const char *base_url, long timeout_ms)
{
	if (base_url == NULL || timeout_ms <= 0)
		return NULL;
	eb_http *h = calloc(1, sizeof *h);
	if (h == NULL)
		return NULL;
	h->base = strdup(base_url);
	h->curl = curl_easy_init();
	if (h->base == NULL || h->curl == NULL) {
		eb_http_free(h);
		return NULL;
	}
	size_t n = strlen(h->base);
	while (n > 0 && h->base[n - 1] == '/')
		h->base[--n] = '\0';
	h->timeout_ms = timeout_ms;
	h->max_body = EB_HTTP_MAX_BODY_DEFAULT;
	h->conn = -1;
	return h;
}

void eb_http_free(eb_http *h)
{
	if (h == NULL)
		return;
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	free(h->base);
	free(h->cacert);
	free(h);
}

eb_rc eb_http_set_tls(eb_http *h, const eb_tls_opts *o)
{
	char *ca = NULL;

	if (h == NULL)
		return EB_ERR_ARG;
	if (o != NULL && o->cacert != NULL && (ca = strdup(o->cacert)) == NULL)
		return EB_ERR_NOMEM;
	free(h->cacert);
	h->cacert = ca;
	h->insecure = o != NULL && o->insecure;
	return EB_OK;
}

void eb_http_set_timeout(eb_http *h, long timeout_ms)
{
	if (h != NULL && timeout_ms > 0)
		h->timeout_ms = timeout_ms;
}

void eb_http_set_stop(eb_http *h, bool (*stop)(void *arg), void *arg)
{
	if (h == NULL)
		return;
	h->stop = stop;
	h->stop_arg = arg;
}

/* curl's progress callback: nonzero aborts the transfer. curl calls it on
 * each pass of its loop, which a signal's EINTR or its own 1 s poll bound
 * starts, so a stop is seen within a second at worst. */
static int http_on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut,
			    curl_off_t un)
{
	const eb_http *h = ud;

	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return h->stop != NULL && h->stop(h->stop_arg) ? 1 : 0;
}

void eb_http_set_max_body(eb_http *h, size_t max_bytes)
{
	if (h != NULL && max_bytes > 0)
		h->max_body = max_bytes;
}

void eb_http_set_wirelog(eb_http *h, eb_wirelog *w, int conn)
{
	if (h == NULL)
		return;
	h->wire = w;
	h->conn = conn;
}

static bool http_has_header(const eb_http_header *extra, size_t n,
			    const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (extra[i].name != NULL && strcasecmp(extra[i].name, name) == 0)
			return true;
	return false;
}

/* Appends "Name: value"; an empty value is sent as an empty header
 * ("Name;" is curl's spelling for that), a NULL value removes a header curl
 * would add by itself. */
static eb_rc http_add_header(struct curl_slist **list, const char *name,
			     const char *value)
{
	size_t nl = strlen(name), vl = value ? strlen(value) : 0;
	char *line = malloc(nl + vl + 3);
	if (line == NULL)
		return EB_ERR_NOMEM;
	memcpy(line, name, nl);
	if (value == NULL) {
		line[nl] = ':';
		line[nl + 1] = '\0';
	} else if (vl == 0) {
		line[nl] = ';';
		line[nl + 1] = '\0';
	} else {
		line[nl] = ':';
		line[nl + 1] = ' ';
		memcpy(line + nl + 2, value, vl);
		line[nl + 2 + vl] = '\0';
	}
	struct curl_slist *l = curl_slist_append(*list, line);
	free(line);
	if (l == NULL)
		return EB_ERR_NOMEM;
	*list = l;
	return EB_OK;
}

static void http_set_error(eb_http_resp *resp, int code, const char *msg)
{
	resp->transport_error = code;
	snprintf(resp->error, sizeof resp->error, "%s", msg);
}

eb_rc eb_http_request(eb_http *h, const char *method, const char *path,
		      const char *bearer, const char *content_type,
		      const char *body, size_t body_len,
		      const eb_http_header *extra, size_t n_extra,
		      eb_http_resp *resp)
{
	eb_rc rc = EB_OK;
	struct curl_slist *hdrs = NULL;
	char *url = NULL;
	char *auth = NULL;
	char errbuf[CURL_ERROR_SIZE];
	http_xfer x;

	memset(&x, 0, sizeof x);
	if (resp == NULL)
		return EB_ERR_ARG;
	memset(resp, 0, sizeof *resp);
	if (h == NULL || method == NULL || path == NULL ||
	    (extra == NULL && n_extra > 0)) {
		http_set_error(resp, -1, "invalid argument");
		return EB_ERR_ARG;
	}
	x.h = h;
	x.body.max = h->max_body;
	x.body.budget = h->budget;
	x.headers.max = HTTP_HEADERS_MAX;
	x.raw_in.max = HTTP_HEADERS_MAX;
	x.out.max = 2 * HTTP_HEADERS_MAX;
	x.req_body = body;
	x.req_body_len = body ? body_len : 0;
	errbuf[0] = '\0';

	size_t bl = strlen(h->base), pl = strlen(path);
	url = malloc(bl + pl + 1);
	if (url == NULL) {
		rc = EB_ERR_NOMEM;
		goto out;
	}
	memcpy(url, h->base, bl);
	memcpy(url + bl, path, pl + 1);

	/* Default headers first; a caller's extra header of the same name
	 * replaces ours rather than duplicating it. */
	if (!http_has_header(extra, n_extra, "Expect"))
		rc = http_add_header(&hdrs, "Expect", NULL);
	if (rc == EB_OK && body != NULL &&
	    !http_has_header(extra, n_extra, "Content-Type")) {
		const char *ct = content_type ? content_type : "application/json";
		/* "" means: send no Content-Type at all. */
		rc = http_add_header(&hdrs, "Content-Type",
				     ct[0] ? ct : NULL);
	} else if (rc == EB_OK && body == NULL && content_type != NULL &&
		   !http_has_header(extra, n_extra, "Content-Type")) {
		rc = http_add_header(&hdrs, "Content-Type",
				     content_type[0] ? content_type : NULL);
	}
	if (rc == EB_OK && bearer != NULL &&
	    !http_has_header(extra, n_extra, "Authorization")) {
		size_t tl = strlen(bearer);
		auth = malloc(tl + 8);
		if (auth == NULL) {
			rc = EB_ERR_NOMEM;
		} else {
			memcpy(auth, "Bearer ", 7);
			memcpy(auth + 7, bearer, tl + 1);
			rc = http_add_header(&hdrs, "Authorization", auth);
		}
	}
	for (size_t i = 0; rc == EB_OK && i < n_extra; i++) {
		if (extra[i].name == NULL)
			continue;
		rc = http_add_header(&hdrs, extra[i].name,
				     extra[i].value ? extra[i].value : NULL);
	}
	if (rc != EB_OK)
		goto out;

	CURL *c = h->curl;
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, h->timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, h->timeout_ms);
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
	/* https: the trust of the program's --cacert / --insecure (eb_tls.h) */
	if (h->cacert != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, h->cacert);
	if (h->insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	if (h->stop != NULL) {
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, http_on_progress);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, h);
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, http_on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (h->wire != NULL) {
		curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, http_on_debug);
		curl_easy_setopt(c, CURLOPT_DEBUGDATA, &x);
		curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
	}
	if (body != NULL) {
		/* Size first: the body may hold NULs and need not be UTF-8. */
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)body_len);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	} else if (strcasecmp(method, "HEAD") == 0) {
		/* A HEAD response has no body whatever its Content-Length. */
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	}
	/* Any method string, also with a body (GET with a body included). */
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);

	uint64_t t0 = http_mono_ns();
	CURLcode cc = curl_easy_perform(c);
	resp->elapsed_ms = (double)(http_mono_ns() - t0) / 1e6;
	http_log_out(&x);

	if (x.body.nomem || x.headers.nomem || x.raw_in.nomem) {
		rc = EB_ERR_NOMEM;
		http_set_error(resp, cc != CURLE_OK ? (int)cc : -1,
			       "out of memory");
		goto out;
	}
	if (cc != CURLE_OK) {
		char msg[sizeof resp->error];
		if (x.body.over_budget)
			snprintf(msg, sizeof msg,
				 "response bodies in flight exceed the harness's cap of "
				 "%zu bytes in all (a limit of the harness, not a rule)",
				 h->budget->max);
		else if (x.body.overflow)
			snprintf(msg, sizeof msg,
				 "response body exceeds the harness's cap of %zu %s "
				 "(--max-response-mib raises it; no rule bounds a "
				 "response's size)",
				 h->max_body % ((size_t)1 << 20) ? h->max_body : h->max_body >> 20,
				 h->max_body % ((size_t)1 << 20) ? "bytes" : "MiB");
		else if (x.headers.overflow || x.raw_in.overflow)
			snprintf(msg, sizeof msg,
				 "response headers exceed %zu bytes",
				 HTTP_HEADERS_MAX);
		else if (cc == CURLE_ABORTED_BY_CALLBACK)
			snprintf(msg, sizeof msg, "stopped (eb_http_set_stop)");
		else
			snprintf(msg, sizeof msg, "%s",
				 errbuf[0] ? errbuf : curl_easy_strerror(cc));
		/* curl's messages end with a newline at times. */
		size_t ml = strlen(msg);
		while (ml > 0 && (msg[ml - 1] == '\n' || msg[ml - 1] == '\r'))
			msg[--ml] = '\0';
		http_set_error(resp, (int)cc, msg);
		eb_wirelog_note(h->wire, "HTTP conn %d: transport error %d: %s",
				h->conn, (int)cc, msg);
		rc = EB_ERR_IO;
		goto out;
	}
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	resp->status = status;
	if (h->wire != NULL) {
		x.raw_in.max = 2 * HTTP_HEADERS_MAX;
		http_log_body(&x.raw_in, x.body.p ? x.body.p : "", x.body.len);
		eb_wirelog_add(h->wire, EB_WIRE_IN, "HTTP", h->conn,
			       x.raw_in.p ? x.raw_in.p : "", x.raw_in.len);
	}
	resp->body = http_buf_take(&x.body, &resp->body_len);
	resp->headers = http_buf_take(&x.headers, NULL);
	if (resp->body == NULL || resp->headers == NULL) {
		eb_http_resp_clear(resp);
		http_set_error(resp, -1, "out of memory");
		rc = EB_ERR_NOMEM;
	}
out:
	if (h->curl != NULL) {
		/* The handle must not keep pointers into this call's frame. */
		curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
		curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, NULL);
	}
	if (rc == EB_ERR_NOMEM && resp->error[0] == '\0')
		http_set_error(resp, -1, "out of memory");
	curl_slist_free_all(hdrs);
	free(url);
	free(auth);
	http_buf_release(&x.body);
	http_buf_free(&x.body);
	http_buf_free(&x.headers);
	http_buf_free(&x.raw_in);
	http_buf_free(&x.out);
	return rc;
}

bool eb_http_resp_header(const eb_http_resp *resp, const char *name,
			 char *buf, size_t buflen)
{
	if (resp == NULL || resp->headers == NULL || name == NULL)
		return false;
	size_t nl = strlen(name);
	const char *line = resp->headers;
	while (*line != '\0') {
		const char *eol = strchr(line, '\n');
		const char *end = eol ? eol : line + strlen(line);
		const char *colon = memchr(line, ':', (size_t)(end - line));
		if (colon != NULL && (size_t)(colon - line) == nl &&
		    strncasecmp(line, name, nl) == 0) {
			const char *v = colon + 1;
			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
			const char *ve = end;
			while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' ||
					  ve[-1] == '\t'))
				ve--;
			if (buf != NULL && buflen > 0) {
				size_t vl = (size_t)(ve - v);
				if (vl >= buflen)
					vl = buflen - 1;
				memcpy(buf, v, vl);
				buf[vl] = '\0';
			}
			return true;
		}
		if (eol == NULL)
			break;
		line = eol + 1;
	}
	return false;
}

void eb_http_resp_clear(eb_http_resp *resp)
{
	if (resp == NULL)
		return;
	free(resp->body);
	free(resp->headers);
	resp->body = NULL;
	resp->headers = NULL;
	resp->body_len = 0;
}
