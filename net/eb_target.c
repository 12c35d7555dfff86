/*
 * eb_target.c — URLs, option values, the target and token flags, the secret
 * from the environment, minting, and the redacting command-line recorder
 * shared by every client program (see eb_target.h).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "eb_file.h"
#include "eb_target.h"
#include "eb_time.h"

#define TARGET_MAX_KEY (1u << 20)
#define TARGET_MAX_SECRET 4096

static void target_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void target_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---- URLs ------------------------------------------------------------------ */

static eb_rc url_bad(eb_err *err, const char *text, const char *why)
{
	return eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1, "bad URL '%.300s': %s", text, why);
}

/* Scheme of text: its length with "://" into *skip, or NULL. */
static const char *url_scheme(const char *text, size_t *skip, bool *tls)
{
	static const struct { const char *s; bool tls; } schemes[] = {
		{ "http", false }, { "https", true }, { "ws", false }, { "wss", true },
	};
	size_t i;

	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		size_t n = strlen(schemes[i].s);

		if (strncasecmp(text, schemes[i].s, n) == 0 && strncmp(text + n, "://", 3) == 0) {
			*skip = n + 3;
			*tls = schemes[i].tls;
			return schemes[i].s;
		}
	}
	return NULL;
}

/* Host of [p, end): brackets for IPv6; sets *after past the host. */
static eb_rc url_host(const char *text, const char *p, const char *end, eb_url *u,
		      const char **after, eb_err *err)
{
	const char *hs = p, *he;
	const char *ok = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._";

	if (*p == '[') {
		hs = p + 1;
		he = memchr(hs, ']', (size_t)(end - hs));
		if (!he)
			return url_bad(err, text, "'[' of an IPv6 address without ']'");
		ok = "0123456789abcdefABCDEF:.";
		*after = he + 1;
		u->ipv6 = true;
	} else {
		he = memchr(hs, ':', (size_t)(end - hs));
		if (!he)
			he = end;
		*after = he;
	}
	if (he == hs)
		return url_bad(err, text, "missing host");
	if ((size_t)(he - hs) >= sizeof(u->host))
		return url_bad(err, text, "host too long");
	for (p = hs; p < he; p++)
		if (!strchr(ok, *p))
			return url_bad(err, text, u->ipv6 ? "not an IPv6 address in brackets"
						  : "bad character in host");
	if (u->ipv6 && !memchr(hs, ':', (size_t)(he - hs)))
		return url_bad(err, text, "not an IPv6 address in brackets");
	memcpy(u->host, hs, (size_t)(he - hs));
	u->host[he - hs] = '\0';
	return EB_OK;
}

static eb_rc url_port(const char *text, const char *p, const char *end, eb_url *u, eb_err *err)
{
	uint64_t v;
	char digits[8];
	size_t n = (size_t)(end - p);

	if (p == end) {
		u->port = u->tls ? 443 : 80;
		return EB_OK;
	}
	if (*p != ':')
		return url_bad(err, text, "expected ':' and a port after the host");
	p++;
	n--;
	if (n == 0)
		return url_bad(err, text, "empty port");
	if (n >= sizeof(digits))
		return url_bad(err, text, "port is not a number 1-65535");
	memcpy(digits, p, n);
	digits[n] = '\0';
	if (!eb_parse_u64(digits, 1, 65535, &v))
		return url_bad(err, text, "port is not a number 1-65535");
	u->port = (int)v;
	return EB_OK;
}

static eb_rc url_path(const char *text, const char *p, eb_url *u, eb_err *err)
{
	size_t n = strlen(p);
	const char *q;

	for (q = p; *q; q++) {
		if (*q == '?' || *q == '#')
			return url_bad(err, text, "a base URL takes no query or fragment");
		if ((unsigned char)*q <= ' ' || *q == 0x7f)
			return url_bad(err, text, "space or control character in the path");
	}
	if (n > 0 && p[n - 1] == '/')
		n--;
	if (n >= sizeof(u->path))
		return url_bad(err, text, "path too long");
	memcpy(u->path, p, n);
	u->path[n] = '\0';
	return EB_OK;
}

eb_rc eb_url_parse(const char *text, eb_url *out, eb_err *err)
{
	eb_url u;
	const char *scheme, *p, *end, *after = NULL;
	size_t skip = 0;
	eb_rc rc;
	char host[262];

	memset(&u, 0, sizeof(u));
	if (!text || !*text)
		return url_bad(err, "", "empty");
	scheme = url_scheme(text, &skip, &u.tls);
	if (!scheme)
		return url_bad(err, text, strstr(text, "://") ? "scheme is not http, https, ws or wss"
							       : "no scheme: write http://HOST:PORT");
	snprintf(u.scheme, sizeof(u.scheme), "%s", scheme);
	p = text + skip;
	end = p + strcspn(p, "/?#");
	if (memchr(p, '@', (size_t)(end - p)))
		return url_bad(err, text, "user info (user@) is not supported");
	rc = url_host(text, p, end, &u, &after, err);
	if (rc == EB_OK)
		rc = url_port(text, after, end, &u, err);
	if (rc == EB_OK && (*end == '?' || *end == '#'))
		rc = url_bad(err, text, "a base URL takes no query or fragment");
	if (rc == EB_OK)
		rc = url_path(text, end, &u, err);
	if (rc != EB_OK)
		return rc;
	snprintf(host, sizeof(host), u.ipv6 ? "[%s]" : "%s", u.host);
	snprintf(u.hostport, sizeof(u.hostport), "%s:%d", host, u.port);
	snprintf(u.http, sizeof(u.http), "%s://%s%s", u.tls ? "https" : "http", u.hostport, u.path);
	snprintf(u.ws, sizeof(u.ws), "%s://%s%s", u.tls ? "wss" : "ws", u.hostport, u.path);
	*out = u;
	return EB_OK;
}

/* ---- option values --------------------------------------------------------- */

bool eb_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end = NULL;
	unsigned long long v;

	if (!s || !isdigit((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

bool eb_parse_double(const char *s, double lo, double hi, double *out)
{
	char *end = NULL;
	double v;

	if (!s || !*s || isspace((unsigned char)*s))
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static bool opt_takes_value(const eb_opt *o)
{
	if (o->kind == EB_OPT_FN)
		return o->takes_value;
	return o->kind != EB_OPT_FLAG && o->kind != EB_OPT_COUNT;
}

static int opt_store(const eb_opt *o, const char *name, const char *val, char *err, size_t errlen)
{
	uint64_t u;
	double d;
	char why[256];

	switch (o->kind) {
	case EB_OPT_FLAG:
		*(bool *)o->dst = true;
		return 0;
	case EB_OPT_COUNT:
		(*(int *)o->dst)++;
		return 0;
	case EB_OPT_STR:
		*(const char **)o->dst = val;
		return 0;
	case EB_OPT_U64:
	case EB_OPT_UINT:
	case EB_OPT_LONG:
		/* a double holds UINT64_MAX only rounded up: out of range for a cast */
		if (!eb_parse_u64(val, (uint64_t)o->lo,
				  o->hi >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)o->hi, &u))
			break;
		if (o->kind == EB_OPT_U64)
			*(uint64_t *)o->dst = u;
		else if (o->kind == EB_OPT_UINT)
			*(unsigned *)o->dst = (unsigned)u;
		else
			*(long *)o->dst = (long)u;
		return 0;
	case EB_OPT_DOUBLE:
		if (!eb_parse_double(val, o->lo, o->hi, &d))
			break;
		*(double *)o->dst = d;
		return 0;
	case EB_OPT_FN:
		why[0] = '\0';
		if (o->fn(o->ctx, val, why, sizeof(why)) == 0)
			return 0;
		if (val)
			target_err(err, errlen, "bad value '%.200s' for %s: %s", val, name, why);
		else
			target_err(err, errlen, "%s: %s", name, why);
		return -1;
	}
	target_err(err, errlen, "bad value '%.200s' for %s: want %s", val, name,
		   o->what ? o->what : "a number");
	return -1;
}

int eb_opt_parse(const eb_opt *tab, size_t n, int argc, char **argv, int *i,
		 char *err, size_t errlen)
{
	const char *a = argv[*i], *eq, *val = NULL;
	size_t nl, k;

	if (strncmp(a, "-", 1) != 0)
		return 0;
	eq = strchr(a, '=');
	nl = eq ? (size_t)(eq - a) : strlen(a);
	for (k = 0; k < n; k++) {
		const eb_opt *o = &tab[k];
		const char *name = NULL;

		if (strlen(o->name) == nl && strncmp(o->name, a, nl) == 0)
			name = o->name;
		else if (o->alias && strlen(o->alias) == nl && strncmp(o->alias, a, nl) == 0)
			name = o->alias;
		if (!name)
			continue;
		if (!opt_takes_value(o)) {
			if (eq) {
				target_err(err, errlen, "%s takes no value (got '%.200s')", name, eq + 1);
				return -1;
			}
		} else if (eq) {
			val = eq + 1;
		} else if (*i + 1 < argc) {
			val = argv[++*i];
		} else {
			target_err(err, errlen, "%s needs a value", name);
			return -1;
		}
		return opt_store(o, name, val, err, errlen) == 0 ? 1 : -1;
	}
	return 0;
}

/* ---- the target ------------------------------------------------------------ */

void eb_target_init(eb_target *t, unsigned flags)
{
	memset(t, 0, sizeof(*t));
	t->flags = flags;
	t->leeway_s = EB_JWT_DEFAULT_LEEWAY_S;
	t->timeout_ms = 5000;
	t->max_response_mib = 64;
}

const char *eb_target_help(unsigned flags)
{
	/* One text per combination the programs use; the lines are shared. */
#define H_URL "  --url URL              the server: http://HOST:PORT[/BASE/PATH] (ws:// too;\n" \
	      "                         IPv6 as http://[::1]:8080); a base path prefixes\n" \
	      "                         every request\n"
#define H_JWT "  --jwt-secret S         HS256 secret the server verifies tokens with; better\n" \
	      "                         from $EB_JWT_SECRET (or a file named by\n" \
	      "                         $EB_JWT_SECRET_FILE). Never written to reports:\n" \
	      "                         rerun commands say \"$EB_JWT_SECRET\"\n" \
	      "  --jwt-private-key PEM  RS256 private key file whose public half the server has\n" \
	      "  --jwt-issuer ISS       the server's issuer (iss of every token)\n" \
	      "  --jwt-audience AUD     the server's audience (aud of every token)\n"
#define H_LEEWAY "  --jwt-leeway S         the server's clock leeway in seconds (default 5)\n"
#define H_NOAUTH "  --no-auth              the server takes no token (alias --no-auth-server)\n"
#define H_TIMEOUT "  --timeout MS           timeout of each network operation (default 5000;\n" \
		  "                         alias --timeout-ms)\n" \
		  "  --max-response-mib N   the cap on one HTTP response body (default 64,\n" \
		  "                         1-4096): no rule bounds a response's size, so one\n" \
		  "                         over it is an ERROR of the run, not a FAIL\n"
#define H_TLS "  --cacert FILE          with https:// or wss://: trust the CA certificates\n" \
	      "                         of this PEM file instead of the system's\n" \
	      "  --insecure             with https:// or wss://: check neither the server's\n" \
	      "                         certificate nor its name (test servers only)\n"
	if (flags & EB_TF_TLS) {
		if ((flags & (EB_TF_LEEWAY | EB_TF_NO_AUTH | EB_TF_TIMEOUT)) ==
		    (EB_TF_LEEWAY | EB_TF_NO_AUTH | EB_TF_TIMEOUT))
			return H_URL H_JWT H_LEEWAY H_NOAUTH H_TIMEOUT H_TLS;
		if ((flags & (EB_TF_NO_AUTH | EB_TF_TIMEOUT)) == (EB_TF_NO_AUTH | EB_TF_TIMEOUT))
			return H_URL H_JWT H_NOAUTH H_TIMEOUT H_TLS;
		if (flags & EB_TF_NO_AUTH)
			return H_URL H_JWT H_NOAUTH H_TLS;
		if (flags & EB_TF_TIMEOUT)
			return H_URL H_JWT H_TIMEOUT H_TLS;
		return H_URL H_JWT H_TLS;
	}
	if ((flags & (EB_TF_LEEWAY | EB_TF_NO_AUTH | EB_TF_TIMEOUT)) ==
	    (EB_TF_LEEWAY | EB_TF_NO_AUTH | EB_TF_TIMEOUT))
		return H_URL H_JWT H_LEEWAY H_NOAUTH H_TIMEOUT;
	if ((flags & (EB_TF_NO_AUTH | EB_TF_TIMEOUT)) == (EB_TF_NO_AUTH | EB_TF_TIMEOUT))
		return H_URL H_JWT H_NOAUTH H_TIMEOUT;
	if (flags & EB_TF_NO_AUTH)
		return H_URL H_JWT H_NOAUTH;
	if (flags & EB_TF_TIMEOUT)
		return H_URL H_JWT H_TIMEOUT;
	return H_URL H_JWT;
#undef H_URL
#undef H_JWT
#undef H_LEEWAY
#undef H_NOAUTH
#undef H_TIMEOUT
#undef H_TLS
}

static int target_set_url(void *ctx, const char *val, char *err, size_t errlen)
{
	eb_target *t = ctx;
	eb_err e;

	eb_err_clear(&e);
	if (eb_url_parse(val, &t->url, &e) != EB_OK) {
		/* e.msg repeats the value: keep only the reason */
		const char *why = strstr(e.msg, "': ");

		target_err(err, errlen, "%s", why ? why + 3 : e.msg);
		return -1;
	}
	t->url_text = val;
	t->has_url = true;
	return 0;
}

static int target_set_secret(void *ctx, const char *val, char *err, size_t errlen)
{
	eb_target *t = ctx;

	if (!*val) {
		target_err(err, errlen, "must not be empty");
		return -1;
	}
	t->secret = val;
	t->secret_from = "--jwt-secret";
	return 0;
}

int eb_target_arg(eb_target *t, int argc, char **argv, int *i, char *err, size_t errlen)
{
	const eb_opt all[] = {
		{ "--url", NULL, EB_OPT_FN, NULL, 0, 0, NULL, target_set_url, t, true },
		{ "--jwt-secret", NULL, EB_OPT_FN, NULL, 0, 0, NULL, target_set_secret, t, true },
		{ "--jwt-private-key", NULL, EB_OPT_STR, &t->private_key_path, 0, 0, NULL, NULL, NULL, false },
		{ "--jwt-issuer", NULL, EB_OPT_STR, &t->issuer, 0, 0, NULL, NULL, NULL, false },
		{ "--jwt-audience", NULL, EB_OPT_STR, &t->audience, 0, 0, NULL, NULL, NULL, false },
		{ "--jwt-leeway", NULL, EB_OPT_LONG, &t->leeway_s, 0, 60, "seconds 0-60 (AUTH-7)", NULL, NULL, false },
		{ "--no-auth", "--no-auth-server", EB_OPT_FLAG, &t->no_auth, 0, 0, NULL, NULL, NULL, false },
		{ "--timeout", "--timeout-ms", EB_OPT_LONG, &t->timeout_ms, 50, 600000, "milliseconds 50-600000", NULL, NULL, false },
		{ "--max-response-mib", NULL, EB_OPT_LONG, &t->max_response_mib, 1, 4096, "MiB 1-4096", NULL, NULL, false },
		{ "--cacert", NULL, EB_OPT_STR, &t->tls_opts.cacert, 0, 0, NULL, NULL, NULL, false },
		{ "--insecure", NULL, EB_OPT_FLAG, &t->tls_opts.insecure, 0, 0, NULL, NULL, NULL, false },
	};
	const unsigned need[] = { EB_TF_URL, EB_TF_JWT, EB_TF_JWT, EB_TF_JWT, EB_TF_JWT,
				  EB_TF_LEEWAY, EB_TF_NO_AUTH, EB_TF_TIMEOUT, EB_TF_TIMEOUT,
				  EB_TF_TLS, EB_TF_TLS };
	eb_opt mine[sizeof(all) / sizeof(all[0])];
	size_t k, n = 0;

	for (k = 0; k < sizeof(all) / sizeof(all[0]); k++)
		if (t->flags & need[k])
			mine[n++] = all[k];
	return eb_opt_parse(mine, n, argc, argv, i, err, errlen);
}

/* The secret from the environment: EB_JWT_SECRET, EB_JWT_SECRET_FILE, then
 * the older EBCONFORM_JWT_SECRET. 0, or -1 with err. */
static int target_env_secret(eb_target *t, char *err, size_t errlen)
{
	const char *v = getenv(EB_SECRET_ENV);
	char *buf = NULL;
	size_t n = 0;
	eb_err e;

	if (v && *v) {
		t->secret = v;
		t->secret_from = "$" EB_SECRET_ENV;
		return 0;
	}
	v = getenv(EB_SECRET_FILE_ENV);
	if (v && *v) {
		eb_err_clear(&e);
		if (eb_file_read(v, TARGET_MAX_SECRET, &buf, &n, &e) != EB_OK) {
			target_err(err, errlen, "$%s: %s", EB_SECRET_FILE_ENV, e.msg);
			return -1;
		}
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
			buf[--n] = '\0';
		if (n == 0 || strlen(buf) != n) {
			target_err(err, errlen, "$%s: %s holds no secret (empty or NUL bytes)",
				   EB_SECRET_FILE_ENV, v);
			free(buf);
			return -1;
		}
		t->secret_owned = buf;
		t->secret = buf;
		t->secret_from = "$" EB_SECRET_FILE_ENV;
		return 0;
	}
	v = getenv(EB_SECRET_ENV_ALIAS);
	if (v && *v) {
		t->secret = v;
		t->secret_from = "$" EB_SECRET_ENV_ALIAS;
	}
	return 0;
}

/* Reads the private key and checks it signs. 0 or -1 with err. */
static int target_key(eb_target *t, char *err, size_t errlen)
{
	eb_jwt_mint_opts m;
	char *tok = NULL;
	eb_err e;

	eb_err_clear(&e);
	if (eb_file_read(t->private_key_path, TARGET_MAX_KEY, &t->private_pem, NULL, &e) != EB_OK) {
		target_err(err, errlen, "bad value '%.200s' for --jwt-private-key: %s",
			   t->private_key_path, e.msg);
		return -1;
	}
	eb_target_mint_opts(t, "eb-key-check", 60, &m);
	m.alg = EB_JWT_RS256;
	m.key = t->private_pem;
	m.key_len = strlen(t->private_pem);
	if (eb_jwt_mint(&m, &tok, &e) != EB_OK) {
		target_err(err, errlen, "bad value '%.200s' for --jwt-private-key: not an RSA "
			   "private key in PEM (%s)", t->private_key_path, e.msg);
		return -1;
	}
	free(tok);
	return 0;
}

int eb_target_tls(eb_target *t, char *err, size_t errlen)
{
	eb_err e;

	if (t->tls)
		return 0;
	if (t->tls_opts.cacert && t->tls_opts.insecure) {
		target_err(err, errlen, "--cacert and --insecure exclude each other");
		return -1;
	}
	eb_err_clear(&e);
	if (eb_tls_ctx_new(&t->tls_opts, &t->tls, &e) != EB_OK) {
		if (e.msg[0] && t->tls_opts.cacert && strncmp(e.msg, "TLS", 3) != 0)
			target_err(err, errlen, "bad value for --cacert: %s", e.msg);
		else
			target_err(err, errlen, "%s", e.msg);
		return -1;
	}
	return 0;
}

int eb_target_finish(eb_target *t, bool need_url, char *err, size_t errlen)
{
	if (need_url && !t->has_url) {
		target_err(err, errlen, "--url is required");
		return -1;
	}
	if (t->has_url && t->url.tls && !(t->flags & EB_TF_TLS)) {
		target_err(err, errlen, "bad value '%.200s' for --url: this program does not "
			   "speak TLS (https://, wss://); use http:// or ws://", t->url_text);
		return -1;
	}
	if ((t->has_url && t->url.tls) || t->tls_opts.cacert || t->tls_opts.insecure) {
		if (eb_target_tls(t, err, errlen) != 0)
			return -1;
	}
	if (t->no_auth) {
		if (t->secret || t->private_key_path) {
			target_err(err, errlen, "--no-auth and %s exclude each other",
				   t->secret ? "--jwt-secret" : "--jwt-private-key");
			return -1;
		}
		return 0;
	}
	if (!(t->flags & EB_TF_JWT))
		return 0;
	if (!t->secret && target_env_secret(t, err, errlen) != 0)
		return -1;
	if (t->private_key_path && target_key(t, err, errlen) != 0)
		return -1;
	if (!t->secret && !t->private_pem) {
		target_err(err, errlen, "no signing key: give --jwt-secret S (or export %s), "
			   "--jwt-private-key FILE%s", EB_SECRET_ENV,
			   (t->flags & EB_TF_NO_AUTH) ? ", or --no-auth when the server takes no token"
						       : "");
		return -1;
	}
	return 0;
}

void eb_target_clear(eb_target *t)
{
	if (!t)
		return;
	if (t->secret == t->secret_owned) {
		t->secret = NULL;
		t->secret_from = NULL;
	}
	free(t->secret_owned);
	free(t->private_pem);
	eb_tls_ctx_free(t->tls);
	t->secret_owned = NULL;
	t->private_pem = NULL;
	t->tls = NULL;
}

void eb_target_mint_opts(const eb_target *t, const char *sub, int64_t ttl_s,
			 eb_jwt_mint_opts *m)
{
	int64_t now = (int64_t)(eb_time_now_ms() / 1000);

	memset(m, 0, sizeof(*m));
	if (t->secret) {
		m->alg = EB_JWT_HS256;
		m->key = t->secret;
		m->key_len = strlen(t->secret);
	} else {
		m->alg = EB_JWT_RS256;
		m->key = t->private_pem;
		m->key_len = t->private_pem ? strlen(t->private_pem) : 0;
	}
	m->sub = sub;
	m->has_iat = true;
	m->iat = now;
	m->has_exp = true;
	m->exp = now + ttl_s;
	m->iss = t->issuer;
	m->aud = t->audience;
}

eb_rc eb_target_mint(const eb_target *t, const char *sub, int64_t ttl_s, bool write,
		     char **out, eb_err *err)
{
	static const char *const all[] = { "*" };
	eb_jwt_mint_opts m;

	*out = NULL;
	if (t->no_auth) {
		*out = strdup("");
		return *out ? EB_OK : eb_err_set(err, EB_ERR_NOMEM, NULL, NULL, NULL, -1,
						 "out of memory");
	}
	eb_target_mint_opts(t, sub, ttl_s, &m);
	m.read = all;
	m.n_read = 1;
	if (write) {
		m.write = all;
		m.n_write = 1;
	}
	return eb_jwt_mint(&m, out, err);
}

/* ---- recording the command line -------------------------------------------- */

void eb_shell_quote(char *buf, size_t len, const char *s)
{
	size_t at = strlen(buf);
	const char *p;
	bool plain = *s != '\0';

	for (p = s; *p; p++)
		if (!(isalnum((unsigned char)*p) || strchr("-_./:=@,+%", *p)))
			plain = false;
	if (plain) {
		snprintf(buf + at, len > at ? len - at : 0, "%s", s);
		return;
	}
	if (at + 1 < len)
		buf[at++] = '\'';
	for (p = s; *p && at + 5 < len; p++) {
		if (*p == '\'') {
			memcpy(buf + at, "'\\''", 4);
			at += 4;
		} else {
			buf[at++] = *p;
		}
	}
	if (at + 1 < len)
		buf[at++] = '\'';
	if (at < len)
		buf[at] = '\0';
}

int eb_cmdline_record(int argc, char *const *argv, char *buf, size_t len)
{
	int i;

	if (len == 0)
		return -1;
	buf[0] = '\0';
	for (i = 0; i < argc; i++) {
		size_t at = strlen(buf);

		if (i)
			snprintf(buf + at, len - at, " ");
		at = strlen(buf);
		/* Reports get attached to bug reports and uploaded by CI. */
		if (i > 0 && strcmp(argv[i - 1], "--jwt-secret") == 0)
			snprintf(buf + at, len - at, "\"$%s\"", EB_SECRET_ENV);
		else if (strncmp(argv[i], "--jwt-secret=", 13) == 0)
			snprintf(buf + at, len - at, "--jwt-secret=\"$%s\"", EB_SECRET_ENV);
		else
			eb_shell_quote(buf, len, argv[i]);
		if (strlen(buf) + 1 >= len)
			return -1;
	}
	return 0;
}

static void rerun_flag(char *buf, size_t len, const char *flag, const char *val)
{
	size_t at = strlen(buf);

	snprintf(buf + at, len > at ? len - at : 0, " %s", flag);
	if (val) {
		at = strlen(buf);
		snprintf(buf + at, len > at ? len - at : 0, " ");
		eb_shell_quote(buf, len, val);
	}
}

void eb_target_rerun_flags(const eb_target *t, char *buf, size_t len)
{
	char v[32];

	/* a rerun over TLS needs the same trust */
	if (t->tls_opts.cacert)
		rerun_flag(buf, len, "--cacert", t->tls_opts.cacert);
	if (t->tls_opts.insecure)
		rerun_flag(buf, len, "--insecure", NULL);
	if (t->no_auth) {
		rerun_flag(buf, len, "--no-auth", NULL);
		return;
	}
	if (t->secret) {
		size_t at = strlen(buf);

		snprintf(buf + at, len > at ? len - at : 0, " --jwt-secret \"$%s\"", EB_SECRET_ENV);
	}
	if (t->private_key_path)
		rerun_flag(buf, len, "--jwt-private-key", t->private_key_path);
	if (t->issuer)
		rerun_flag(buf, len, "--jwt-issuer", t->issuer);
	if (t->audience)
		rerun_flag(buf, len, "--jwt-audience", t->audience);
	if ((t->flags & EB_TF_LEEWAY) && t->leeway_s != EB_JWT_DEFAULT_LEEWAY_S) {
		snprintf(v, sizeof(v), "%ld", t->leeway_s);
		rerun_flag(buf, len, "--jwt-leeway", v);
	}
}
