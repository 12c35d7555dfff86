/*
 * ebload — many-connection WebSocket load generator for servers of the
 * Early Bird sync protocol: concurrent subscribed connections, connect
 * rate, and notification latency from the intended push time.
 *
 *   ebload --url http://127.0.0.1:8080 --connections 10000 --connect-rate 2000 \
 *          --stores 10 --push-rate 100 --duration 30 --jwt-secret S --json r.json
 *   ebload merge a.json b.json --json all.json
 *
 * See docs/LOADGEN.md for the model, the report schema and tuning.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ebl.h"
#include "eb_http.h"
#include "eb_json.h"
#include "eb_jwt.h"
#include "eb_time.h"

#define EBL_VERSION "1.0"
#define EBL_MAX_EXPECT 32

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static const char usage_text[] =
"usage: ebload --url http://HOST:PORT [--url ...] [options]\n"
"       ebload merge [--json F] [--csv F] [--html F] [--expect E]... A.json B.json ...\n"
"\n"
"Opens many WebSocket connections to /api/sync/notifications, authenticates\n"
"each (PROTOCOL.md 10.2), subscribes it to its stores and holds them while\n"
"pushers commit changes over HTTP at a fixed rate; every notification is\n"
"matched to the pushes it covers and timed from their intended send time.\n"
"Phases: ramp-up (--connect-rate), hold (--duration, pushes, --churn-rate),\n"
"drain (--drain), ramp-down (--ramp-down-rate).\n"
"\n"
"Targets and load:\n"
"  --url URL              target base URL (http://host:port); repeat for several\n"
"                         servers; connections are spread round-robin\n"
"  --shared-backend       the URLs front one backend (pushes through any URL\n"
"                         reach subscribers on all); default: each URL is an\n"
"                         independent server with its own stores\n"
"  --connections N        connections to hold (default 1000)\n"
"  --connect-rate R       new connections per second during ramp-up (default 1000)\n"
"  --max-pending N        connection attempts in flight per thread (default 300)\n"
"  --connect-timeout S    seconds from connect to subscribed ack (default 10)\n"
"  --stores S             stores per target (default 10)\n"
"  --subs-per-conn K      stores each connection subscribes to (default 1, max 100)\n"
"  --push-rate P          pushes per second in all, during the hold (default 10;\n"
"                         0: no pushes, capacity only)\n"
"  --pushers N            pusher threads (default: one per store, at most 8);\n"
"                         pusher i owns the stores s with s%N == i\n"
"  --push-timeout S       seconds a push may take (default 30); a slow answer\n"
"                         delays the next pushes and shows as latency\n"
"  --duration D           hold seconds (default 10)\n"
"  --drain D              seconds after the last push before counting misses\n"
"                         (default 2)\n"
"  --churn-rate C         during the hold, close and reopen C connections/s (default 0)\n"
"  --ramp-down-rate R     closes per second at the end (default 0: all at once)\n"
"  --store-prefix P       store id prefix (default ebload-<run id>[-shard<i>])\n"
"\n"
"Scale:\n"
"  --procs N              worker processes (default: enough for the open-file\n"
"                         limit, at least 1)\n"
"  --threads T            lws contexts (threads) per worker process (default 1)\n"
"  --event-loop ev|poll   lws event loop: libev/epoll (default; cost per event is\n"
"                         independent of the connection count) or poll()\n"
"  --source LIST          bind client sockets to these local addresses, round-robin:\n"
"                         comma list and/or ranges 127.0.0.2-127.0.0.40; 'auto'\n"
"                         (default) binds over 127.0.0.2.. when a loopback target\n"
"                         needs more ports than one address has; 'none' never binds\n"
"  --shard I/N            run share I (0-based) of N: N/ of the connections, connect\n"
"                         and push rates, own stores; combine with `ebload merge`\n"
"\n"
"Authentication (tokens minted like ebconform does):\n"
"  --jwt-secret S         HS256 secret\n"
"  --jwt-private-key PEM  RS256 private key file\n"
"  --jwt-issuer ISS       iss claim\n"
"  --jwt-audience AUD     aud claim\n"
"  --no-auth              no token: no auth message, no Authorization header\n"
"\n"
"Output:\n"
"  --json FILE            report, schema ebload-report/1 (docs/LOADGEN.md)\n"
"  --csv FILE             per-second time series\n"
"  --html FILE            self-contained page with SVG charts\n"
"  --expect EXPR          threshold, repeatable, e.g. 'p99<50ms' 'connections>=50000'\n"
"                         'missed==0'; exit 1 when one is not met (metrics in\n"
"                         docs/LOADGEN.md)\n"
"  --quiet                no progress line\n"
"  --verbose              lws errors and each failed connection on stderr\n"
"  --help, --version\n"
"\n"
"Exit: 0 done (and every --expect met), 1 an --expect not met, 2 usage or setup\n"
"error, 3 target unreachable.\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "ebload: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n(ebload --help for usage)\n");
	va_end(ap);
	return 2;
}

static bool parse_double(const char *s, double lo, double hi, double *out)
{
	char *end = NULL;
	errno = 0;
	double v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static bool parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end = NULL;
	errno = 0;
	if (*s == '-' || *s == '\0')
		return false;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static bool parse_url(const char *s, ebl_url *u)
{
	const char *p = s;
	if (strncmp(p, "http://", 7) == 0)
		p += 7;
	else if (strncmp(p, "ws://", 5) == 0)
		p += 5;
	else
		return false;
	const char *colon = strrchr(p, ':');
	if (colon == NULL || colon == p || (size_t)(colon - p) >= sizeof u->host)
		return false;
	memcpy(u->host, p, (size_t)(colon - p));
	u->host[colon - p] = '\0';
	char port[8];
	const char *pe = colon + 1;
	size_t pl = strcspn(pe, "/");
	if (pl == 0 || pl >= sizeof port)
		return false;
	memcpy(port, pe, pl);
	port[pl] = '\0';
	uint64_t v;
	if (!parse_u64(port, 1, 65535, &v))
		return false;
	u->port = (int)v;
	char host[256];
	memcpy(host, u->host, sizeof host);
	snprintf(u->base, sizeof u->base, "http://%s:%d", host, u->port);
	return true;
}

static bool ipv4_parse(const char *s, uint32_t *out)
{
	uint32_t v = 0;
	const char *p = s;
	for (int i = 0; i < 4; i++) {
		char *end = NULL;
		errno = 0;
		unsigned long o = strtoul(p, &end, 10);
		if (errno || end == p || o > 255 || (i < 3 && *end != '.') || (i == 3 && *end != '\0'))
			return false;
		v = v << 8 | (uint32_t)o;
		p = end + 1;
	}
	*out = v;
	return true;
}

static void ipv4_str(uint32_t v, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255);
}

/* "a,b-c,..." into cfg->sources. */
static bool parse_sources(const char *s, ebl_config *cfg)
{
	const char *p = s;
	while (*p != '\0') {
		size_t n = strcspn(p, ",");
		char tok[64];
		if (n == 0 || n >= sizeof tok)
			return false;
		memcpy(tok, p, n);
		tok[n] = '\0';
		p += n;
		if (*p == ',')
			p++;
		char *dash = strchr(tok, '-');
		uint32_t a, b;
		if (dash != NULL) {
			*dash = '\0';
			if (!ipv4_parse(tok, &a) || !ipv4_parse(dash + 1, &b) || b < a)
				return false;
		} else {
			if (!ipv4_parse(tok, &a))
				return false;
			b = a;
		}
		for (uint64_t v = a; v <= b; v++) {
			if (cfg->n_sources >= EBL_MAX_SOURCES)
				return false;
			ipv4_str((uint32_t)v, cfg->sources[cfg->n_sources++], sizeof cfg->sources[0]);
		}
	}
	return cfg->n_sources > 0;
}

static bool is_loopback(const char *host)
{
	return strncmp(host, "127.", 4) == 0 || strcmp(host, "localhost") == 0;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			char *nb = realloc(buf, cap);
			if (nb == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		size_t n = fread(buf + len, 1, 4096, f);
		len += n;
		if (n < 4096)
			break;
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}

/* ---- shared memory ----------------------------------------------------------- */

static size_t align64(size_t n)
{
	return (n + 63) & ~(size_t)63;
}

static size_t g_shm_len;

ebl_shm *ebl_shm_new(const ebl_config *cfg)
{
	unsigned nw = cfg->procs * cfg->threads;
	unsigned np = cfg->pushers ? cfg->pushers : 1;
	uint32_t nst = cfg->shared_backend ? cfg->stores : cfg->stores * cfg->n_urls;
	/* ring: pushes per store over drain + 4 s, doubled, power of two */
	double per_store = cfg->push_rate / (double)nst * (cfg->drain_s + 4.0) * 2.0;
	uint32_t ring = 64;
	while (ring < per_store && ring < 65536)
		ring <<= 1;
	while ((size_t)ring * nst * sizeof(ebl_push_rec) > (size_t)512 << 20 && ring > 16)
		ring >>= 1;
	size_t off = align64(sizeof(ebl_shm));
	size_t o_w = off; off += align64(nw * sizeof(ebl_wstat));
	size_t o_p = off; off += align64(np * sizeof(ebl_pstat));
	size_t o_s = off; off += align64(nst * sizeof(ebl_store));
	size_t o_r = off; off += align64((size_t)nst * ring * sizeof(ebl_push_rec));
	size_t o_i = off; off += align64((size_t)nst * 128);
	void *m = mmap(NULL, off, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		fprintf(stderr, "ebload: cannot map %zu bytes of shared memory: %s\n", off,
			strerror(errno));
		return NULL;
	}
	g_shm_len = off;
	ebl_shm *s = m;
	char *base = m;
	s->n_workers = nw;
	s->n_pushers = cfg->push_rate > 0 ? np : 0;
	s->n_stores_total = nst;
	s->ring = ring;
	s->w = (ebl_wstat *)(base + o_w);
	s->p = (ebl_pstat *)(base + o_p);
	s->stores = (ebl_store *)(base + o_s);
	s->recs = (ebl_push_rec *)(base + o_r);
	s->store_ids = (char (*)[128])(base + o_i);
	for (unsigned i = 0; i < nw; i++) {
		eb_hist_init(&s->w[i].lat);
		eb_hist_init(&s->w[i].connect);
	}
	for (unsigned i = 0; i < np; i++) {
		eb_hist_init(&s->p[i].push);
		eb_hist_init(&s->p[i].fanout);
	}
	for (uint32_t i = 0; i < nst; i++) {
		uint32_t local = cfg->shared_backend ? i : i % cfg->stores;
		snprintf(s->store_ids[i], 128, "%s-%u", cfg->store_prefix, local);
		s->stores[i].url = cfg->shared_backend ? i % cfg->n_urls : i / cfg->stores;
	}
	return s;
}

void ebl_shm_free(ebl_shm *s)
{
	if (s != NULL)
		munmap(s, g_shm_len);
}

/* ---- sampling ------------------------------------------------------------------ */

typedef struct totals {
	eb_load_counters c;
	uint64_t open, pending, ready, ramp_done, finished, emfile, addr;
	uint64_t push_ok, push_sent;
} totals;

static void sum_workers(const ebl_shm *shm, totals *t, eb_hist *lat)
{
	memset(t, 0, sizeof *t);
	if (lat != NULL)
		eb_hist_init(lat);
	for (unsigned i = 0; i < shm->n_workers; i++) {
		const ebl_wstat *w = &shm->w[i];
		const uint64_t *src = (const uint64_t *)&w->c;
		uint64_t *dst = (uint64_t *)&t->c;
		for (size_t k = 0; k < sizeof(eb_load_counters) / sizeof(uint64_t); k++)
			dst[k] += EBL_LD(&src[k]);
		t->open += EBL_LD(&w->open);
		t->pending += EBL_LD(&w->pending);
		t->ready += EBL_LD(&w->ready);
		t->ramp_done += EBL_LD(&w->ramp_done);
		t->finished += EBL_LD(&w->finished);
		t->emfile += EBL_LD(&w->limit_emfile);
		t->addr += EBL_LD(&w->limit_addr);
		if (lat != NULL)
			eb_hist_add(lat, &w->lat);
	}
	for (unsigned i = 0; i < shm->n_pushers; i++) {
		t->push_ok += EBL_LD(&shm->p[i].ok);
		t->push_sent += EBL_LD(&shm->p[i].sent);
	}
}

static uint64_t failures_of(const eb_load_counters *c)
{
	return c->fail_refused + c->fail_timeout + c->fail_emfile + c->fail_addr +
	       c->fail_upgrade + c->fail_auth + c->fail_subscribe + c->fail_closed +
	       c->fail_other;
}

/* Reads /proc/PID/NAME into buf (NUL-terminated, cut at cap - 1 bytes);
 * its length, 0 when it cannot be read. */
static size_t proc_read(pid_t pid, const char *name, char *buf, size_t cap)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	size_t n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n] = '\0';
	return n;
}

static uint64_t rss_kib(pid_t pid)
{
	char buf[4096];
	if (proc_read(pid, "status", buf, sizeof buf) == 0)
		return 0;
	const char *p = strstr(buf, "\nVmRSS:");
	if (p == NULL)
		return 0;
	p += 7;
	while (*p == ' ' || *p == '\t')
		p++;
	return strtoull(p, NULL, 10);
}

/* CPU time (user + system) of process pid so far, from /proc/PID/stat;
 * 0 when it cannot be read. */
static uint64_t cpu_ms(pid_t pid)
{
	char buf[1024];
	if (proc_read(pid, "stat", buf, sizeof buf) == 0)
		return 0;
	/* the command name may hold spaces and parentheses: fields count
	 * from the last ')', one space each; utime and stime are fields 14
	 * and 15, so utime follows the 12th space after it */
	char *p = strrchr(buf, ')');
	for (int sp = 0; p != NULL && sp < 12; sp++)
		p = strchr(p + 1, ' ');
	if (p == NULL)
		return 0;
	char *end = NULL;
	uint64_t utime = strtoull(p + 1, &end, 10);
	uint64_t stime = strtoull(end, NULL, 10);
	long tck = sysconf(_SC_CLK_TCK);
	if (tck <= 0)
		return 0;
	return (utime + stime) * 1000 / (uint64_t)tck;
}

static uint64_t kids_cpu_ms(const pid_t *kids, unsigned n)
{
	uint64_t sum = 0;
	for (unsigned k = 0; k < n; k++)
		sum += cpu_ms(kids[k]);
	return sum;
}

static const char *phase_name(uint64_t ph)
{
	switch (ph) {
	case EBL_PH_INIT: return "init";
	case EBL_PH_RAMP: return "ramp";
	case EBL_PH_HOLD: return "hold";
	case EBL_PH_DRAIN: return "drain";
	case EBL_PH_FINAL: return "down";
	default: return "done";
	}
}

static void set_phase(ebl_shm *shm, uint64_t ph)
{
	EBL_ST(&shm->phase_ns, eb_time_mono_ns());
	__atomic_store_n(&shm->phase, ph, __ATOMIC_RELEASE);
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* ---- the run -------------------------------------------------------------------- */

typedef struct run_opts {
	ebl_config cfg;
	eb_expect expects[EBL_MAX_EXPECT];
	unsigned n_expects;
	const char *jwt_secret, *jwt_key_file, *jwt_iss, *jwt_aud;
	const char *source_arg;
	bool procs_given;
	char command[4096];
} run_opts;

static int mint_token(run_opts *o, double run_s)
{
	ebl_config *cfg = &o->cfg;
	if (cfg->no_auth)
		return 0;
	if (o->jwt_secret == NULL && o->jwt_key_file == NULL)
		return usage_error("%s", "give --jwt-secret, --jwt-private-key or --no-auth");
	char *pem = NULL;
	eb_jwt_mint_opts m;
	memset(&m, 0, sizeof m);
	if (o->jwt_key_file != NULL) {
		pem = read_file(o->jwt_key_file);
		if (pem == NULL)
			return usage_error("cannot read --jwt-private-key %s", o->jwt_key_file);
		m.alg = EB_JWT_RS256;
		m.key = pem;
		m.key_len = strlen(pem);
	} else {
		m.alg = EB_JWT_HS256;
		m.key = o->jwt_secret;
		m.key_len = strlen(o->jwt_secret);
	}
	static const char *const all[] = { "*" };
	int64_t now = (int64_t)(eb_time_now_ms() / 1000);
	m.sub = "ebload";
	m.has_exp = true;
	m.exp = now + (int64_t)run_s + 3600;
	m.has_iat = true;
	m.iat = now;
	m.iss = o->jwt_iss;
	m.aud = o->jwt_aud;
	m.read = all;
	m.n_read = 1;
	m.write = all;
	m.n_write = 1;
	eb_err err;
	eb_rc rc = eb_jwt_mint(&m, &cfg->token, &err);
	free(pem);
	if (rc != EB_OK) {
		fprintf(stderr, "ebload: cannot mint a token: %s\n", err.msg);
		return 2;
	}
	return 0;
}

static int parse_run_args(int argc, char **argv, run_opts *o)
{
	ebl_config *cfg = &o->cfg;
	memset(o, 0, sizeof *o);
	cfg->connections_total = 1000;
	cfg->connect_rate = 1000;
	cfg->stores = 10;
	cfg->subs_per_conn = 1;
	cfg->push_rate = 10;
	cfg->pushers = 0;   /* auto: one per store, at most 8 */
	cfg->duration_s = 10;
	cfg->drain_s = 2;
	cfg->connect_timeout_s = 10;
	cfg->push_timeout_s = 30;
	cfg->threads = 1;
	cfg->max_pending = 300;
	cfg->shard_count = 1;
	cfg->evlib = true;
	o->source_arg = "auto";
	size_t cl = 0;
	for (int i = 0; i < argc && cl < sizeof o->command - 1; i++)
		cl += (size_t)snprintf(o->command + cl, sizeof o->command - cl, "%s%s",
				       i ? " " : "", argv[i]);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t u;
#define NEED() do { if (v == NULL) return usage_error("%s needs a value", a); i++; } while (0)
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(usage_text, stdout);
			exit(0);
		} else if (strcmp(a, "--version") == 0) {
			printf("ebload %s\n", EBL_VERSION);
			exit(0);
		} else if (strcmp(a, "--url") == 0) {
			NEED();
			if (cfg->n_urls >= EBL_MAX_URLS || !parse_url(v, &cfg->urls[cfg->n_urls]))
				return usage_error("bad --url %s (want http://host:port)", v);
			cfg->n_urls++;
		} else if (strcmp(a, "--shared-backend") == 0) {
			cfg->shared_backend = true;
		} else if (strcmp(a, "--connections") == 0) {
			NEED();
			if (!parse_u64(v, 1, 100000000, &u))
				return usage_error("bad --connections %s", v);
			cfg->connections_total = u;
		} else if (strcmp(a, "--connect-rate") == 0) {
			NEED();
			if (!parse_double(v, 0.1, 1e7, &cfg->connect_rate))
				return usage_error("bad --connect-rate %s", v);
		} else if (strcmp(a, "--max-pending") == 0) {
			NEED();
			if (!parse_u64(v, 1, 1000000, &u))
				return usage_error("bad --max-pending %s", v);
			cfg->max_pending = (unsigned)u;
		} else if (strcmp(a, "--connect-timeout") == 0) {
			NEED();
			if (!parse_double(v, 0.1, 600, &cfg->connect_timeout_s))
				return usage_error("bad --connect-timeout %s", v);
		} else if (strcmp(a, "--push-timeout") == 0) {
			NEED();
			if (!parse_double(v, 0.1, 600, &cfg->push_timeout_s))
				return usage_error("bad --push-timeout %s", v);
		} else if (strcmp(a, "--stores") == 0) {
			NEED();
			if (!parse_u64(v, 1, 1000000, &u))
				return usage_error("bad --stores %s", v);
			cfg->stores = (unsigned)u;
		} else if (strcmp(a, "--subs-per-conn") == 0) {
			NEED();
			if (!parse_u64(v, 1, 100, &u))
				return usage_error("bad --subs-per-conn %s (1-100)", v);
			cfg->subs_per_conn = (unsigned)u;
		} else if (strcmp(a, "--push-rate") == 0) {
			NEED();
			if (!parse_double(v, 0, 1e7, &cfg->push_rate))
				return usage_error("bad --push-rate %s", v);
		} else if (strcmp(a, "--pushers") == 0) {
			NEED();
			if (!parse_u64(v, 1, 256, &u))
				return usage_error("bad --pushers %s", v);
			cfg->pushers = (unsigned)u;
		} else if (strcmp(a, "--duration") == 0) {
			NEED();
			if (!parse_double(v, 0, 86400, &cfg->duration_s))
				return usage_error("bad --duration %s", v);
		} else if (strcmp(a, "--drain") == 0) {
			NEED();
			if (!parse_double(v, 0, 600, &cfg->drain_s))
				return usage_error("bad --drain %s", v);
		} else if (strcmp(a, "--churn-rate") == 0) {
			NEED();
			if (!parse_double(v, 0, 1e7, &cfg->churn_rate))
				return usage_error("bad --churn-rate %s", v);
		} else if (strcmp(a, "--ramp-down-rate") == 0) {
			NEED();
			if (!parse_double(v, 0, 1e7, &cfg->rampdown_rate))
				return usage_error("bad --ramp-down-rate %s", v);
		} else if (strcmp(a, "--store-prefix") == 0) {
			NEED();
			if (strlen(v) == 0 || strlen(v) > 80 || strspn(v,
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-") != strlen(v))
				return usage_error("bad --store-prefix %s (STORE-1 characters, <= 80)", v);
			snprintf(cfg->store_prefix, sizeof cfg->store_prefix, "%s", v);
		} else if (strcmp(a, "--procs") == 0) {
			NEED();
			if (!parse_u64(v, 1, 256, &u))
				return usage_error("bad --procs %s", v);
			cfg->procs = (unsigned)u;
			o->procs_given = true;
		} else if (strcmp(a, "--threads") == 0) {
			NEED();
			if (!parse_u64(v, 1, 64, &u))
				return usage_error("bad --threads %s", v);
			cfg->threads = (unsigned)u;
		} else if (strcmp(a, "--source") == 0) {
			NEED();
			o->source_arg = v;
		} else if (strcmp(a, "--shard") == 0) {
			NEED();
			char *end = NULL;
			unsigned long si = strtoul(v, &end, 10);
			if (end == v || *end != '/')
				return usage_error("bad --shard %s (want I/N)", v);
			const char *ns = end + 1;
			unsigned long sn = strtoul(ns, &end, 10);
			if (end == ns || *end != '\0' || sn == 0 || sn > 10000 || si >= sn)
				return usage_error("bad --shard %s (want I/N, 0 <= I < N)", v);
			cfg->shard_index = (unsigned)si;
			cfg->shard_count = (unsigned)sn;
		} else if (strcmp(a, "--jwt-secret") == 0) {
			NEED();
			o->jwt_secret = v;
		} else if (strcmp(a, "--jwt-private-key") == 0) {
			NEED();
			o->jwt_key_file = v;
		} else if (strcmp(a, "--jwt-issuer") == 0) {
			NEED();
			o->jwt_iss = v;
		} else if (strcmp(a, "--jwt-audience") == 0) {
			NEED();
			o->jwt_aud = v;
		} else if (strcmp(a, "--no-auth") == 0) {
			cfg->no_auth = true;
		} else if (strcmp(a, "--json") == 0) {
			NEED();
			cfg->json_path = v;
		} else if (strcmp(a, "--csv") == 0) {
			NEED();
			cfg->csv_path = v;
		} else if (strcmp(a, "--html") == 0) {
			NEED();
			cfg->html_path = v;
		} else if (strcmp(a, "--expect") == 0) {
			NEED();
			eb_err err;
			if (o->n_expects >= EBL_MAX_EXPECT)
				return usage_error("too many --expect (max %s)", "32");
			if (eb_expect_parse(v, &o->expects[o->n_expects], &err) != EB_OK)
				return usage_error("%s", err.msg);
			o->n_expects++;
		} else if (strcmp(a, "--event-loop") == 0) {
			NEED();
			if (strcmp(v, "ev") == 0)
				cfg->evlib = true;
			else if (strcmp(v, "poll") == 0)
				cfg->evlib = false;
			else
				return usage_error("bad --event-loop %s (ev or poll)", v);
		} else if (strcmp(a, "--quiet") == 0) {
			cfg->quiet = true;
		} else if (strcmp(a, "--verbose") == 0) {
			cfg->lws_log_level = 1;
		} else {
			return usage_error("unknown option %s", a);
		}
#undef NEED
	}
	if (cfg->n_urls == 0)
		return usage_error("%s", "give at least one --url");
	if (cfg->subs_per_conn > cfg->stores)
		return usage_error("%s", "--subs-per-conn must not exceed --stores");
	if (cfg->no_auth && (o->jwt_secret || o->jwt_key_file))
		return usage_error("%s", "--no-auth and a token key exclude each other");
	/* this shard's share */
	uint64_t n = cfg->connections_total;
	cfg->connections = n / cfg->shard_count + (cfg->shard_index < n % cfg->shard_count ? 1 : 0);
	cfg->connect_rate /= cfg->shard_count;
	cfg->push_rate /= cfg->shard_count;
	cfg->churn_rate /= cfg->shard_count;
	cfg->rampdown_rate /= cfg->shard_count;
	if (cfg->store_prefix[0] == '\0') {
		unsigned long long id = (eb_time_now_ms() ^ ((unsigned long long)getpid() << 20)) & 0xffffffffffULL;
		if (cfg->shard_count > 1)
			snprintf(cfg->store_prefix, sizeof cfg->store_prefix, "ebload-%llx-shard%u",
				 id, cfg->shard_index);
		else
			snprintf(cfg->store_prefix, sizeof cfg->store_prefix, "ebload-%llx", id);
	}
	return 0;
}

static int plan_scale(run_opts *o)
{
	ebl_config *cfg = &o->cfg;
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	getrlimit(RLIMIT_NOFILE, &rl);
	uint64_t fds = rl.rlim_cur == RLIM_INFINITY ? 1000000 : rl.rlim_cur;
	uint64_t room = fds > 300 ? fds - 200 - 50 * (uint64_t)cfg->threads : fds / 2;
	if (!o->procs_given) {
		uint64_t p = (cfg->connections + room - 1) / room;
		cfg->procs = (unsigned)(p < 1 ? 1 : p);
		if (cfg->procs > 256) {
			fprintf(stderr, "ebload: %llu connections need more than 256 processes at the "
				"open-file limit of %llu\n", (unsigned long long)cfg->connections,
				(unsigned long long)fds);
			return 2;
		}
	}
	if (cfg->pushers == 0) {
		/* pushes to one store wait for each other (one writer, versions
		 * known in advance), but different stores need not: one pusher
		 * caps the rate at one push per round trip, and a server busy
		 * fanning out answers late (measured: 12 pushes/s of 30 offered
		 * to two servers with one pusher, 19 with two) */
		unsigned nst = cfg->shared_backend ? cfg->stores : cfg->stores * cfg->n_urls;
		cfg->pushers = nst < 8 ? nst : 8;
	}
	uint64_t per_proc = (cfg->connections + cfg->procs - 1) / cfg->procs;
	if (per_proc > room) {
		fprintf(stderr, "ebload: limit: %llu connections per process exceed the open-file "
			"limit (%llu per process, about %llu usable); use --procs %llu or more\n",
			(unsigned long long)per_proc, (unsigned long long)fds,
			(unsigned long long)room,
			(unsigned long long)((cfg->connections + room - 1) / room));
		return 2;
	}
	/* source addresses */
	unsigned lo = 32768, hi = 60999;
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	if (f != NULL) {
		char line[64];
		if (fgets(line, sizeof line, f) != NULL) {
			char *end = NULL;
			unsigned long a = strtoul(line, &end, 10);
			unsigned long b = strtoul(end, NULL, 10);
			if (a > 0 && b > a) {
				lo = (unsigned)a;
				hi = (unsigned)b;
			}
		}
		fclose(f);
	}
	uint64_t ports = (uint64_t)(hi - lo + 1) * 9 / 10;
	if (strcmp(o->source_arg, "none") == 0) {
		cfg->n_sources = 0;
	} else if (strcmp(o->source_arg, "auto") == 0) {
		bool loop = true;
		for (unsigned u = 0; u < cfg->n_urls; u++)
			loop = loop && is_loopback(cfg->urls[u].host);
		uint64_t per_target = cfg->connections / cfg->n_urls + 1;
		if (loop && per_target > ports) {
			uint64_t need = (cfg->connections + ports - 1) / ports;
			if (need > 250)
				need = 250;
			for (uint64_t k = 0; k < need; k++)
				ipv4_str(0x7f000002u + (uint32_t)k, cfg->sources[cfg->n_sources++],
					 sizeof cfg->sources[0]);
		}
	} else if (!parse_sources(o->source_arg, cfg)) {
		return usage_error("bad --source %s", o->source_arg);
	}
	/* connect() searches the even half of the range first (Linux 4.6 on);
	 * once one target's share of it is used up, every connect scans it
	 * all before trying an odd port: measured here, 83k connections over
	 * 6 targets ramped at 6000/s, then at 400/s */
	uint64_t fast = (uint64_t)(hi - lo + 1) / 2;
	uint64_t per_pair = cfg->connections / cfg->n_urls /
			    (cfg->n_sources ? cfg->n_sources : 1) + 1;
	if (per_pair > fast)
		fprintf(stderr, "ebload: note: about %llu connections per target and source "
			"address exceed the %llu ports connect() searches first "
			"(half of ip_local_port_range %u-%u); connects slow down past "
			"that: add targets (--url) or --source addresses\n",
			(unsigned long long)per_pair, (unsigned long long)fast, lo, hi);
	if (cfg->n_sources > 0 && cfg->connections > (uint64_t)cfg->n_sources * ports)
		fprintf(stderr, "ebload: warning: %llu connections over %u source addresses "
			"exceed the %llu local ports per address (ip_local_port_range %u-%u); "
			"add --source addresses\n", (unsigned long long)cfg->connections,
			cfg->n_sources, (unsigned long long)ports, lo, hi);
	return 0;
}

static int check_targets(const ebl_config *cfg)
{
	for (unsigned u = 0; u < cfg->n_urls; u++) {
		eb_http *h = eb_http_new(cfg->urls[u].base, 3000);
		if (h == NULL)
			return 2;
		eb_http_resp resp;
		eb_rc rc = eb_http_request(h, "GET", "/api/limits", NULL, NULL, NULL, 0,
					   NULL, 0, &resp);
		if (rc != EB_OK) {
			fprintf(stderr, "ebload: target %s unreachable: %s\n", cfg->urls[u].base,
				resp.error);
			eb_http_resp_clear(&resp);
			eb_http_free(h);
			return 3;
		}
		eb_http_resp_clear(&resp);
		eb_http_free(h);
	}
	return 0;
}

static cJSON *config_json(const run_opts *o)
{
	const ebl_config *cfg = &o->cfg;
	cJSON *c = cJSON_CreateObject();
	cJSON *urls = cJSON_AddArrayToObject(c, "urls");
	for (unsigned u = 0; u < cfg->n_urls; u++)
		cJSON_AddItemToArray(urls, cJSON_CreateString(cfg->urls[u].base));
	cJSON_AddBoolToObject(c, "sharedBackend", cfg->shared_backend);
	cJSON_AddNumberToObject(c, "connections", (double)cfg->connections_total);
	cJSON_AddNumberToObject(c, "connectRate", cfg->connect_rate * cfg->shard_count);
	cJSON_AddNumberToObject(c, "stores", cfg->stores);
	cJSON_AddNumberToObject(c, "subsPerConn", cfg->subs_per_conn);
	cJSON_AddNumberToObject(c, "pushRate", cfg->push_rate * cfg->shard_count);
	cJSON_AddNumberToObject(c, "pushers", cfg->pushers);
	cJSON_AddNumberToObject(c, "durationS", cfg->duration_s);
	cJSON_AddNumberToObject(c, "drainS", cfg->drain_s);
	cJSON_AddNumberToObject(c, "churnRate", cfg->churn_rate * cfg->shard_count);
	cJSON_AddNumberToObject(c, "procs", cfg->procs);
	cJSON_AddNumberToObject(c, "threads", cfg->threads);
	cJSON_AddStringToObject(c, "eventLoop", cfg->evlib ? "ev" : "poll");
	cJSON_AddNumberToObject(c, "sources", cfg->n_sources);
	cJSON_AddNumberToObject(c, "shardIndex", cfg->shard_index);
	cJSON_AddNumberToObject(c, "shardCount", cfg->shard_count);
	cJSON_AddStringToObject(c, "storePrefix", cfg->store_prefix);
	cJSON_AddBoolToObject(c, "auth", !cfg->no_auth);
	return c;
}

static void progress(const ebl_config *cfg, uint64_t phase, double t, const totals *tt,
		     const eb_load_sample *s, const eb_hist *iv)
{
	if (cfg->quiet)
		return;
	fprintf(stderr, "[%6.1fs] %-5s open %llu/%llu  conn/s %llu  notif/s %llu  "
		"p50 %.2fms p99 %.2fms  push/s %llu  errors %llu\n",
		t, phase_name(phase), (unsigned long long)tt->open,
		(unsigned long long)cfg->connections, (unsigned long long)s->connects,
		(unsigned long long)s->notifications,
		(double)eb_hist_percentile(iv, 50) / 1e6,
		(double)eb_hist_percentile(iv, 99) / 1e6, (unsigned long long)s->pushes,
		(unsigned long long)(failures_of(&tt->c) + tt->c.conn_drops));
}

static void add_limits(eb_loadreport *r, const ebl_config *cfg, const totals *t)
{
	char buf[512];
	if (t->emfile) {
		struct rlimit rl;
		getrlimit(RLIMIT_NOFILE, &rl);
		snprintf(buf, sizeof buf, "open-file limit: a worker process reached its %llu "
			 "descriptors (EMFILE) after %llu connections in all; use more --procs "
			 "(now %u) so each holds fewer",
			 (unsigned long long)rl.rlim_cur, (unsigned long long)t->c.conn_subscribed,
			 cfg->procs);
		eb_loadreport_add_limit(r, buf);
	}
	if (t->addr) {
		snprintf(buf, sizeof buf, "local ports: no free port/address pair "
			 "(EADDRNOTAVAIL) with %u source addresses; add --source addresses "
			 "(e.g. --source 127.0.0.2-127.0.0.20) or more --url targets",
			 cfg->n_sources);
		eb_loadreport_add_limit(r, buf);
	}
	if (t->c.fail_timeout > t->c.conn_attempted / 100 && t->c.fail_timeout > 0) {
		snprintf(buf, sizeof buf, "connect timeouts: %llu attempts timed out; the "
			 "server's accept backlog (listen backlog, net.core.somaxconn) overflowed "
			 "or it cannot keep up: lower --connect-rate or --max-pending, or raise "
			 "--connect-timeout", (unsigned long long)t->c.fail_timeout);
		eb_loadreport_add_limit(r, buf);
	}
	if (t->c.fail_refused > 0 && t->c.conn_subscribed > 0) {
		snprintf(buf, sizeof buf, "refused connections: %llu; the server's listen "
			 "backlog or its connection limit (e.g. ebmock --max-conns) was reached",
			 (unsigned long long)t->c.fail_refused);
		eb_loadreport_add_limit(r, buf);
	}
}

static int finish_report(eb_loadreport *r, const eb_expect *ex, unsigned n_ex,
			 const char *json, const char *csv, const char *html, bool quiet)
{
	int rc = 0;
	if (!quiet)
		ebl_print_summary(r, stdout);
	if (json != NULL && ebl_write_json(r, json) != 0)
		rc = 2;
	if (csv != NULL && ebl_write_csv(r, csv) != 0)
		rc = 2;
	if (html != NULL && ebl_write_html(r, html) != 0)
		rc = 2;
	bool all = true;
	for (unsigned i = 0; i < n_ex; i++) {
		double actual = 0;
		bool ok = eb_expect_eval(&ex[i], r, &actual);
		const char *unit = "";
		double shown = actual;
		if (strncmp(ex[i].metric, "p", 1) == 0 || strstr(ex[i].metric, "max") ||
		    strstr(ex[i].metric, "mean") || strstr(ex[i].metric, "_p")) {
			shown = actual / 1e6;
			unit = "ms";
		}
		printf("expect %-28s %s (actual %.3f%s)\n", ex[i].text, ok ? "met" : "NOT MET",
		       shown, unit);
		all = all && ok;
	}
	if (rc == 0 && !all)
		rc = 1;
	return rc;
}

static int run(int argc, char **argv)
{
	run_opts *o = calloc(1, sizeof *o);
	if (o == NULL)
		return 2;
	int rc = parse_run_args(argc, argv, o);
	ebl_config *cfg = &o->cfg;
	ebl_shm *shm = NULL;
	pid_t *kids = NULL;
	ebl_pushers *pushers = NULL;
	eb_loadreport *r = NULL;
	eb_hist *snap = NULL, *prev = NULL, *iv = NULL;
	unsigned n_kids = 0;
	totals t;
	uint64_t ph = EBL_PH_INIT, ph_start = 0, ramp_ns = 0, hold_ns = 0, next_sample = 0;
	uint64_t prev_sub = 0, prev_notif = 0, prev_push = 0, prev_err = 0, peak_open = 0;
	/* worker CPU and notifications per phase */
	uint64_t cpu_mark = 0, notif_mark = 0, cpu_ramp = 0, cpu_hold = 0, notif_hold = 0;
	uint64_t ramp_subscribed = 0;
	uint64_t last_ended = 0, last_progress = 0;
	memset(&t, 0, sizeof t);
	if (rc != 0)
		goto out;
	double est = (double)cfg->connections / cfg->connect_rate + cfg->duration_s +
		     cfg->drain_s + 60;
	if ((rc = mint_token(o, est)) != 0)
		goto out;
	if ((rc = plan_scale(o)) != 0)
		goto out;
	if (eb_http_global_init() != 0) {
		rc = 2;
		goto out;
	}
	if ((rc = check_targets(cfg)) != 0)
		goto out;
	if ((shm = ebl_shm_new(cfg)) == NULL) {
		rc = 2;
		goto out;
	}
	r = eb_loadreport_new();
	snap = malloc(sizeof *snap);
	prev = malloc(sizeof *prev);
	iv = malloc(sizeof *iv);
	kids = calloc(cfg->procs, sizeof *kids);
	if (r == NULL || snap == NULL || prev == NULL || iv == NULL || kids == NULL) {
		rc = 2;
		goto out;
	}
	r->command = strdup(o->command);
	r->config = config_json(o);
	r->started_at_ms = eb_time_now_ms();
	if (!cfg->quiet)
		fprintf(stderr, "ebload: %llu connections to %u target(s), %u proc(s) x %u "
			"thread(s), %u source address(es), stores %s-*, %.0f pushes/s\n",
			(unsigned long long)cfg->connections, cfg->n_urls, cfg->procs,
			cfg->threads, cfg->n_sources, cfg->store_prefix, cfg->push_rate);
	fflush(stdout);
	fflush(stderr);
	for (unsigned p = 0; p < cfg->procs; p++) {
		pid_t pid = fork();
		if (pid < 0) {
			fprintf(stderr, "ebload: fork: %s\n", strerror(errno));
			EBL_ST(&shm->stop, 1);
			rc = 2;
			goto reap;
		}
		if (pid == 0) {
			/* the worker needs none of the parent's bookkeeping */
			free(kids);
			eb_loadreport_free(r);
			free(snap);
			free(prev);
			free(iv);
			int st = ebl_worker_process(cfg, shm, p);
			free(o->cfg.token);
			free(o);
			_exit(st);
		}
		kids[n_kids++] = pid;
	}
	pushers = ebl_pushers_start(cfg, shm);

	/* wait until every worker's context runs, then start the clock */
	uint64_t t_wait = eb_time_mono_ns();
	for (;;) {
		sum_workers(shm, &t, NULL);
		if (t.ready >= shm->n_workers || g_stop ||
		    eb_time_mono_ns() - t_wait > 10000000000ULL)
			break;
		sleep_ms(5);
	}
	uint64_t rss_base = 0;
	for (unsigned k = 0; k < n_kids; k++)
		rss_base += rss_kib(kids[k]);
	r->c.rss_base_kib = rss_base;
	cpu_mark = kids_cpu_ms(kids, n_kids);
	shm->t0_ns = eb_time_mono_ns();
	set_phase(shm, EBL_PH_RAMP);

	ph = EBL_PH_RAMP;
	ph_start = shm->t0_ns;
	last_progress = shm->t0_ns;
	next_sample = shm->t0_ns + 1000000000ULL;
	/* past the schedule, ramp-up ends once no attempt ended for a while */
	double ramp_limit = (double)cfg->connections / cfg->connect_rate;
	eb_hist_init(prev);
	for (;;) {
		sleep_ms(20);
		uint64_t now = eb_time_mono_ns();
		sum_workers(shm, &t, snap);
		if (t.open > peak_open)
			peak_open = t.open;
		/* ramp-up lasts while attempts still end (slow servers take long) */
		uint64_t ended = t.c.conn_subscribed + failures_of(&t.c);
		if (ended != last_ended) {
			last_ended = ended;
			last_progress = now;
		}
		double in_phase = (double)(now - ph_start) / 1e9;
		if (g_stop && ph < EBL_PH_FINAL) {
			EBL_ST(&shm->stop, 1);
			if (ph == EBL_PH_RAMP)
				ramp_ns = now - shm->t0_ns;
			if (ph == EBL_PH_HOLD)
				hold_ns = now - ph_start;
			ph = EBL_PH_FINAL;
			ph_start = now;
			set_phase(shm, ph);
		} else if (ph == EBL_PH_RAMP &&
			   (t.ramp_done >= shm->n_workers ||
			    (in_phase > ramp_limit && (double)(now - last_progress) / 1e9 >
			     cfg->connect_timeout_s + 5.0))) {
			ramp_ns = now - ph_start;
			uint64_t c = kids_cpu_ms(kids, n_kids);
			cpu_ramp = c - cpu_mark;
			cpu_mark = c;
			ramp_subscribed = t.c.conn_subscribed;
			notif_mark = t.c.notif_received;
			ph = EBL_PH_HOLD;
			ph_start = now;
			set_phase(shm, ph);
		} else if (ph == EBL_PH_HOLD && in_phase >= cfg->duration_s) {
			hold_ns = now - ph_start;
			cpu_hold = kids_cpu_ms(kids, n_kids) - cpu_mark;
			notif_hold = t.c.notif_received - notif_mark;
			uint64_t rss = 0;
			for (unsigned k = 0; k < n_kids; k++)
				rss += rss_kib(kids[k]);
			r->c.rss_hold_kib = rss;
			r->c.conn_open_at_end = t.open;
			ph = EBL_PH_DRAIN;
			set_phase(shm, ph);
			/* the drain starts once the last push got its answer */
			ebl_pushers_join(pushers);
			pushers = NULL;
			ph_start = eb_time_mono_ns();
		} else if (ph == EBL_PH_DRAIN && in_phase >= cfg->drain_s) {
			ph = EBL_PH_FINAL;
			ph_start = now;
			set_phase(shm, ph);
		} else if (ph == EBL_PH_FINAL &&
			   (t.finished >= shm->n_workers || in_phase > 30 +
			    (cfg->rampdown_rate > 0 ? (double)cfg->connections / cfg->rampdown_rate : 0))) {
			break;
		}
		if (now >= next_sample) {
			next_sample += 1000000000ULL;
			eb_load_sample s;
			memset(&s, 0, sizeof s);
			s.t_s = (now - shm->t0_ns + 500000000ULL) / 1000000000ULL;
			s.open = t.open;
			s.connects = t.c.conn_subscribed - prev_sub;
			s.notifications = t.c.notif_received - prev_notif;
			s.pushes = t.push_ok - prev_push;
			uint64_t errs = failures_of(&t.c) + t.c.conn_drops;
			s.errors = errs - prev_err;
			eb_hist_diff(iv, snap, prev);
			eb_loadreport_add_sample(r, &s, iv);
			progress(cfg, ph, (double)(now - shm->t0_ns) / 1e9, &t, &s, iv);
			prev_sub = t.c.conn_subscribed;
			prev_notif = t.c.notif_received;
			prev_push = t.push_ok;
			prev_err = errs;
			memcpy(prev, snap, sizeof *prev);
		}
	}
	set_phase(shm, EBL_PH_DONE);
reap:
	EBL_ST(&shm->stop, 1);
	ebl_pushers_join(pushers);
	pushers = NULL;
	for (unsigned k = 0; k < n_kids; k++) {
		int st = 0;
		uint64_t t_kill = eb_time_mono_ns();
		while (waitpid(kids[k], &st, WNOHANG) == 0) {
			if (eb_time_mono_ns() - t_kill > 15000000000ULL) {
				kill(kids[k], SIGKILL);
				waitpid(kids[k], &st, 0);
				break;
			}
			sleep_ms(10);
		}
		if (WIFEXITED(st) && WEXITSTATUS(st) != 0 && rc == 0)
			rc = 2;
	}
	if (r == NULL || n_kids == 0)
		goto out;
	ebl_pushers_finalize(cfg, shm);

	/* the report */
	sum_workers(shm, &t, r->hist[EB_LH_NOTIFY]);
	uint64_t *dst = (uint64_t *)&r->c;
	const uint64_t *src = (const uint64_t *)&t.c;
	uint64_t keep_base = r->c.rss_base_kib, keep_hold = r->c.rss_hold_kib,
		 keep_open = r->c.conn_open_at_end;
	for (size_t k = 0; k < sizeof(eb_load_counters) / sizeof(uint64_t); k++)
		dst[k] = src[k];
	r->c.rss_base_kib = keep_base;
	r->c.rss_hold_kib = keep_hold;
	r->c.conn_open_at_end = keep_open;
	r->c.conn_peak_open = peak_open;
	r->c.conn_ramp_subscribed = ramp_subscribed;
	r->c.notif_hold = notif_hold;
	r->c.cpu_ramp_ms = cpu_ramp;
	r->c.cpu_hold_ms = cpu_hold;
	for (unsigned i = 0; i < shm->n_workers; i++)
		eb_hist_add(r->hist[EB_LH_CONNECT], &shm->w[i].connect);
	for (unsigned i = 0; i < shm->n_pushers; i++) {
		const ebl_pstat *p = &shm->p[i];
		r->c.push_sent += p->sent;
		r->c.push_ok += p->ok;
		r->c.push_transport_err += p->transport_err;
		r->c.push_http_err += p->http_err;
		r->c.push_mismatch += p->mismatch;
		r->c.push_late += p->late;
		eb_hist_add(r->hist[EB_LH_PUSH], &p->push);
		eb_hist_add(r->hist[EB_LH_FANOUT], &p->fanout);
	}
	r->c.notif_expected = r->c.notif_matched + r->c.notif_missed;
	r->c.ramp_ms = ramp_ns / 1000000;
	r->c.hold_ms = hold_ns / 1000000;
	r->c.total_ms = (eb_time_mono_ns() - shm->t0_ns) / 1000000;
	struct rusage ru_c, ru_s;
	getrusage(RUSAGE_CHILDREN, &ru_c);
	getrusage(RUSAGE_SELF, &ru_s);
	r->c.cpu_user_ms = (uint64_t)(ru_c.ru_utime.tv_sec + ru_s.ru_utime.tv_sec) * 1000 +
			   (uint64_t)(ru_c.ru_utime.tv_usec + ru_s.ru_utime.tv_usec) / 1000;
	r->c.cpu_sys_ms = (uint64_t)(ru_c.ru_stime.tv_sec + ru_s.ru_stime.tv_sec) * 1000 +
			  (uint64_t)(ru_c.ru_stime.tv_usec + ru_s.ru_stime.tv_usec) / 1000;
	add_limits(r, cfg, &t);
	for (size_t i = 0; i < r->n_limits && !cfg->quiet; i++)
		fprintf(stderr, "ebload: limit hit: %s\n", r->limits[i]);
	int frc = finish_report(r, o->expects, o->n_expects, cfg->json_path, cfg->csv_path,
				cfg->html_path, false);
	if (rc == 0)
		rc = frc;
	if (rc == 0 && t.c.conn_subscribed == 0 && t.c.fail_refused > 0 &&
	    t.c.fail_refused == failures_of(&t.c))
		rc = 3;
out:
	if (pushers != NULL)
		ebl_pushers_join(pushers);
	eb_loadreport_free(r);
	ebl_shm_free(shm);
	free(kids);
	free(snap);
	free(prev);
	free(iv);
	if (o != NULL)
		free(o->cfg.token);
	free(o);
	eb_http_global_cleanup();
	return rc;
}

/* ---- merge -------------------------------------------------------------------------- */

static int merge(int argc, char **argv)
{
	const char *json = NULL, *csv = NULL, *html = NULL;
	eb_expect ex[EBL_MAX_EXPECT];
	unsigned n_ex = 0;
	eb_loadreport *all = NULL;
	int rc = 0, files = 0;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--help") == 0) {
			fputs(usage_text, stdout);
			return 0;
		}
		if (strcmp(a, "--json") == 0 || strcmp(a, "--csv") == 0 ||
		    strcmp(a, "--html") == 0 || strcmp(a, "--expect") == 0) {
			if (v == NULL)
				return usage_error("%s needs a value", a);
			i++;
			if (a[2] == 'j')
				json = v;
			else if (a[2] == 'c')
				csv = v;
			else if (a[2] == 'h')
				html = v;
			else {
				eb_err err;
				if (n_ex >= EBL_MAX_EXPECT || eb_expect_parse(v, &ex[n_ex], &err) != EB_OK)
					return usage_error("bad --expect %s", v);
				n_ex++;
			}
			continue;
		}
		if (a[0] == '-')
			return usage_error("unknown merge option %s", a);
		char *txt = read_file(a);
		if (txt == NULL) {
			fprintf(stderr, "ebload: cannot read %s\n", a);
			rc = 2;
			goto out;
		}
		cJSON *j = NULL;
		eb_err err;
		eb_loadreport *one = NULL;
		eb_rc prc = eb_json_parse(txt, strlen(txt), 16, &j, &err);
		free(txt);
		if (prc == EB_OK)
			prc = eb_loadreport_from_json(j, &one, &err);
		cJSON_Delete(j);
		if (prc != EB_OK) {
			fprintf(stderr, "ebload: %s: %s\n", a, err.msg);
			rc = 2;
			goto out;
		}
		if (all == NULL) {
			all = one;
		} else {
			eb_rc mrc = eb_loadreport_merge(all, one);
			eb_loadreport_free(one);
			if (mrc != EB_OK) {
				rc = 2;
				goto out;
			}
		}
		files++;
	}
	if (files == 0)
		return usage_error("%s", "merge needs at least one report file");
	free(all->command);
	all->command = NULL;
	rc = finish_report(all, ex, n_ex, json, csv, html, false);
out:
	eb_loadreport_free(all);
	return rc;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 2 && strcmp(argv[1], "merge") == 0)
		return merge(argc, argv);
	if (argc < 2) {
		fputs(usage_text, stderr);
		return 2;
	}
	return run(argc, argv);
}
