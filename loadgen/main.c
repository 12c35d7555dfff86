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
#include "eb_file.h"
#include "eb_jwt.h"
#include "eb_preflight.h"
#include "eb_startat.h"
#include "eb_target.h"
#include "eb_time.h"

#define EBL_MAX_EXPECT 32
#define EBL_MAX_PROBLEMS 16

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
"  --url URL              target base URL (http://host:port[/base/path], ws://,\n"
"                         https:// and wss:// too); repeat for several\n"
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
"  --deadline S           the whole run's deadline in seconds (default: the\n"
"                         planned phases + 60 s, i.e. connections/connect-rate\n"
"                         + connect-timeout + duration + drain + ramp-down + 60:\n"
"                         83 s with default flags); when it is reached, or on\n"
"                         SIGINT/SIGTERM, the run stops within 1 s and the\n"
"                         reports say INCOMPLETE with the phases not run (exit 1)\n"
"\n"
"Scale:\n"
"  --procs N              worker processes (default: enough for the open-file\n"
"                         limit, at least 1)\n"
"  --threads T            worker threads per worker process, one epoll loop each\n"
"                         (default 1)\n"
"  --event-loop ev|poll   accepted for older command lines and recorded in the\n"
"                         report; ebload's own client always runs on epoll\n"
"  --source LIST          bind client sockets to these local addresses, round-robin:\n"
"                         comma list and/or ranges 127.0.0.2-127.0.0.40; 'auto'\n"
"                         (default) binds over 127.0.0.2.. when a loopback target\n"
"                         needs more ports than one address has; 'none' never binds\n"
"  --shard I/N            run share I (0-based) of N: N/ of the connections, connect\n"
"                         and push rates, own stores; combine with `ebload merge`\n"
"  --start-at T           ramp up at wall-clock instant T, the same for every shard:\n"
"                         +S (seconds from now), or a Unix time in seconds (or ms,\n"
"                         12+ digits); the setup (token, plan, preflight) runs\n"
"                         first, then the wait, which nothing extends; a T in the\n"
"                         past or over 3600 s ahead is a usage error; the report's\n"
"                         \"start\" gives the plan and the measured skew (--expect\n"
"                         'start_skew<50ms'); hosts need synchronized clocks\n"
"\n"
"Authentication (tokens minted like ebconform does):\n"
"  --jwt-secret S         HS256 secret; better from $EB_JWT_SECRET (or a file named\n"
"                         by $EB_JWT_SECRET_FILE); never written to reports\n"
"  --jwt-private-key PEM  RS256 private key file\n"
"  --jwt-issuer ISS       iss claim\n"
"  --jwt-audience AUD     aud claim\n"
"  --no-auth              no token: no auth message, no Authorization header\n"
"                         (alias --no-auth-server)\n"
"TLS (https:// and wss:// targets; system trust store by default):\n"
"  --cacert FILE          trust the CA certificates of this PEM file instead\n"
"  --insecure             check neither the certificate nor the name (test servers)\n"
"Before the run, a preflight checks each target: an Early Bird server that takes\n"
"the token over HTTP and on the socket (exit 2 with a hint if not).\n"
"\n"
"Output:\n"
"  --json FILE            report, schema ebload-report/1 (docs/LOADGEN.md)\n"
"  --csv FILE             per-second time series\n"
"  --html FILE            self-contained page with SVG charts\n"
"  --expect EXPR          threshold, repeatable, e.g. 'p99<50ms' 'connections>=50000'\n"
"                         'missed==0'; exit 1 when one is not met (metrics in\n"
"                         docs/LOADGEN.md); each one's threshold, measured value\n"
"                         and result, and the verdict, go into the JSON and HTML\n"
"  --quiet                no progress line\n"
"  --verbose              each failed connection and push on stderr, with its cause\n"
"  --help, --version\n"
"\n"
"Exit: 0 done (and every --expect met), 1 the run failed: an --expect not met,\n"
"nothing subscribed, every push failed, a worker process died, or the run was\n"
"INCOMPLETE (deadline or signal); 2 usage or setup error (a refused token, not\n"
"an Early Bird server, a report or merge input that cannot be written or\n"
"read), 3 target unreachable.\n"
"Bounds against a hostile server (docs/LOADGEN.md#hostile-servers): push answers\n"
"are capped at 64 MiB each and 48 MiB in flight in all, each connection's wait\n"
"for its subscribed ack ends by --connect-timeout, each push by --push-timeout,\n"
"the run by --deadline; merge inputs are read up to 64 MiB each.\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "ebload: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n(see ebload --help)\n");
	va_end(ap);
	return EB_EXIT_USAGE;
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

/* ---- the command line ----------------------------------------------------------- */

typedef struct run_opts {
	ebl_config cfg;
	eb_target target;            /* the token flags (net/eb_target.h) */
	eb_expect expects[EBL_MAX_EXPECT];
	unsigned n_expects;
	const char *source_arg;
	bool help, version;
	char command[4096];
} run_opts;

static int opt_url(void *ctx, const char *v, char *err, size_t errlen)
{
	ebl_config *cfg = ctx;
	eb_url u;
	eb_err e;

	if (cfg->n_urls >= EBL_MAX_URLS) {
		snprintf(err, errlen, "at most %d targets", EBL_MAX_URLS);
		return -1;
	}
	if (eb_url_parse(v, &u, &e) != EB_OK) {
		const char *why = strstr(e.msg, "': ");
		snprintf(err, errlen, "%s", why ? why + 3 : e.msg);
		return -1;
	}
	ebl_url *t = &cfg->urls[cfg->n_urls++];
	t->tls = u.tls;
	snprintf(t->host, sizeof t->host, "%s", u.host);
	t->port = u.port;
	snprintf(t->base, sizeof t->base, "%s", u.http);
	snprintf(t->ws_path, sizeof t->ws_path, "%s%s", u.path, EBL_WS_PATH);
	return 0;
}

static int opt_store_prefix(void *ctx, const char *v, char *err, size_t errlen)
{
	ebl_config *cfg = ctx;
	if (strlen(v) == 0 || strlen(v) > 80 || strspn(v,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-") != strlen(v)) {
		snprintf(err, errlen, "want 1-80 STORE-1 characters");
		return -1;
	}
	snprintf(cfg->store_prefix, sizeof cfg->store_prefix, "%s", v);
	return 0;
}

static int opt_shard(void *ctx, const char *v, char *err, size_t errlen)
{
	ebl_config *cfg = ctx;
	const char *slash = strchr(v, '/');
	char first[24];
	uint64_t si, sn;
	if (slash == NULL || (size_t)(slash - v) >= sizeof first) {
		snprintf(err, errlen, "want I/N");
		return -1;
	}
	memcpy(first, v, (size_t)(slash - v));
	first[slash - v] = '\0';
	if (!eb_parse_u64(first, 0, 9999, &si) || !eb_parse_u64(slash + 1, 1, 10000, &sn) ||
	    si >= sn) {
		snprintf(err, errlen, "want I/N, 0 <= I < N <= 10000");
		return -1;
	}
	cfg->shard_index = (unsigned)si;
	cfg->shard_count = (unsigned)sn;
	return 0;
}

static int opt_start_at(void *ctx, const char *v, char *err, size_t errlen)
{
	return eb_startat_parse(v, eb_time_now_ms(), &((ebl_config *)ctx)->start_at_ms, err, errlen);
}

static int opt_expect(void *ctx, const char *v, char *err, size_t errlen)
{
	run_opts *o = ctx;
	eb_err e;
	if (o->n_expects >= EBL_MAX_EXPECT) {
		snprintf(err, errlen, "at most %d --expect", EBL_MAX_EXPECT);
		return -1;
	}
	if (eb_expect_parse(v, &o->expects[o->n_expects], &e) != EB_OK) {
		snprintf(err, errlen, "%s", e.msg);
		return -1;
	}
	o->n_expects++;
	return 0;
}

static int opt_event_loop(void *ctx, const char *v, char *err, size_t errlen)
{
	ebl_config *cfg = ctx;
	if (strcmp(v, "ev") != 0 && strcmp(v, "poll") != 0) {
		snprintf(err, errlen, "want ev or poll");
		return -1;
	}
	cfg->evlib = strcmp(v, "ev") == 0;
	return 0;
}

static int opt_verbose(void *ctx, const char *v, char *err, size_t errlen)
{
	(void)v;
	(void)err;
	(void)errlen;
	((ebl_config *)ctx)->lws_log_level = 1;
	return 0;
}

/* One table for every flag of a run; -1 with err, 1 not an option here. */
static int parse_one(run_opts *o, int argc, char **argv, int *i, char *err, size_t errlen)
{
	ebl_config *cfg = &o->cfg;
	const eb_opt tab[] = {
		{ "--url", NULL, EB_OPT_FN, NULL, 0, 0, NULL, opt_url, cfg, true },
		{ "--shared-backend", NULL, EB_OPT_FLAG, &cfg->shared_backend, 0, 0, NULL, NULL, NULL, false },
		{ "--connections", NULL, EB_OPT_U64, &cfg->connections_total, 1, 100000000, "1-100000000", NULL, NULL, false },
		{ "--connect-rate", NULL, EB_OPT_DOUBLE, &cfg->connect_rate, 0.1, 1e7, "per second, 0.1-1e7", NULL, NULL, false },
		{ "--max-pending", NULL, EB_OPT_UINT, &cfg->max_pending, 1, 1000000, "1-1000000", NULL, NULL, false },
		{ "--connect-timeout", NULL, EB_OPT_DOUBLE, &cfg->connect_timeout_s, 0.1, 600, "seconds 0.1-600", NULL, NULL, false },
		{ "--push-timeout", NULL, EB_OPT_DOUBLE, &cfg->push_timeout_s, 0.1, 600, "seconds 0.1-600", NULL, NULL, false },
		{ "--deadline", NULL, EB_OPT_DOUBLE, &cfg->deadline_s, 1, 86400 * 2, "seconds 1-172800", NULL, NULL, false },
		{ "--stores", NULL, EB_OPT_UINT, &cfg->stores, 1, 1000000, "1-1000000", NULL, NULL, false },
		{ "--subs-per-conn", NULL, EB_OPT_UINT, &cfg->subs_per_conn, 1, 100, "1-100", NULL, NULL, false },
		{ "--push-rate", NULL, EB_OPT_DOUBLE, &cfg->push_rate, 0, 1e7, "per second, 0-1e7", NULL, NULL, false },
		{ "--pushers", NULL, EB_OPT_UINT, &cfg->pushers, 1, 256, "1-256", NULL, NULL, false },
		{ "--duration", NULL, EB_OPT_DOUBLE, &cfg->duration_s, 0, 86400, "seconds 0-86400", NULL, NULL, false },
		{ "--drain", NULL, EB_OPT_DOUBLE, &cfg->drain_s, 0, 600, "seconds 0-600", NULL, NULL, false },
		{ "--churn-rate", NULL, EB_OPT_DOUBLE, &cfg->churn_rate, 0, 1e7, "per second, 0-1e7", NULL, NULL, false },
		{ "--ramp-down-rate", NULL, EB_OPT_DOUBLE, &cfg->rampdown_rate, 0, 1e7, "per second, 0-1e7", NULL, NULL, false },
		{ "--store-prefix", NULL, EB_OPT_FN, NULL, 0, 0, NULL, opt_store_prefix, cfg, true },
		{ "--procs", NULL, EB_OPT_UINT, &cfg->procs, 1, 256, "1-256", NULL, NULL, false },
		{ "--threads", NULL, EB_OPT_UINT, &cfg->threads, 1, 64, "1-64", NULL, NULL, false },
		{ "--source", NULL, EB_OPT_STR, &o->source_arg, 0, 0, NULL, NULL, NULL, false },
		{ "--shard", NULL, EB_OPT_FN, NULL, 0, 0, NULL, opt_shard, cfg, true },
		{ "--start-at", NULL, EB_OPT_FN, NULL, 0, 0, NULL, opt_start_at, cfg, true },
		{ "--json", NULL, EB_OPT_STR, &cfg->json_path, 0, 0, NULL, NULL, NULL, false },
		{ "--csv", NULL, EB_OPT_STR, &cfg->csv_path, 0, 0, NULL, NULL, NULL, false },
		{ "--html", NULL, EB_OPT_STR, &cfg->html_path, 0, 0, NULL, NULL, NULL, false },
		{ "--expect", NULL, EB_OPT_FN, NULL, 0, 0, NULL, opt_expect, o, true },
		{ "--event-loop", NULL, EB_OPT_FN, NULL, 0, 0, NULL, opt_event_loop, cfg, true },
		{ "--quiet", NULL, EB_OPT_FLAG, &cfg->quiet, 0, 0, NULL, NULL, NULL, false },
		{ "--verbose", NULL, EB_OPT_FN, NULL, 0, 0, NULL, opt_verbose, cfg, false },
		{ "--help", "-h", EB_OPT_FLAG, &o->help, 0, 0, NULL, NULL, NULL, false },
		{ "--version", NULL, EB_OPT_FLAG, &o->version, 0, 0, NULL, NULL, NULL, false },
	};
	int r = eb_target_arg(&o->target, argc, argv, i, err, errlen);
	if (r == 0)
		r = eb_opt_parse(tab, sizeof tab / sizeof tab[0], argc, argv, i, err, errlen);
	if (r == 0)
		snprintf(err, errlen, "unknown option '%s'", argv[*i]);
	return r > 0 ? 0 : -1;
}

/* This shard's share of the load and the default store prefix. */
static void shard_share(ebl_config *cfg)
{
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
}

/* 0 to run, 1 done (help or version printed), 2 usage error (printed). */
static int parse_run_args(int argc, char **argv, run_opts *o)
{
	ebl_config *cfg = &o->cfg;
	char err[512];
	memset(o, 0, sizeof *o);
	eb_target_init(&o->target, EB_TF_JWT | EB_TF_NO_AUTH | EB_TF_TLS);
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
	/* reports get uploaded: the line never holds the secret */
	eb_cmdline_record(argc, argv, o->command, sizeof o->command);
	for (int i = 1; i < argc; i++)
		if (parse_one(o, argc, argv, &i, err, sizeof err) != 0)
			return usage_error("%s", err);
	if (o->help)
		fputs(usage_text, stdout);
	else if (o->version)
		printf("ebload %s\n", EB_KIT_VERSION);
	if (o->help || o->version)
		return 1;
	if (cfg->n_urls == 0)
		return usage_error("%s", "give at least one --url");
	if (cfg->subs_per_conn > cfg->stores)
		return usage_error("%s", "--subs-per-conn must not exceed --stores");
	if (eb_target_finish(&o->target, false, err, sizeof err) != 0)
		return usage_error("%s", err);
	for (unsigned u = 0; u < cfg->n_urls; u++)
		if (cfg->urls[u].tls && eb_target_tls(&o->target, err, sizeof err) != 0)
			return usage_error("%s", err);
	cfg->no_auth = o->target.no_auth;
	cfg->tls = o->target.tls_opts;
	shard_share(cfg);
	return 0;
}

/* Seconds from now to --start-at (0 without it): the token's life and the
 * run's deadline grow by the wait. */
static double start_lead_s(const ebl_config *cfg)
{
	uint64_t now = eb_time_now_ms();
	return cfg->start_at_ms > now ? (double)(cfg->start_at_ms - now) / 1000.0 : 0;
}

static int mint_token(run_opts *o, double run_s)
{
	eb_err err;
	if (o->cfg.no_auth)
		return 0;
	if (eb_target_mint(&o->target, "ebload", (int64_t)run_s + 3600, true, &o->cfg.token,
			   &err) != EB_OK) {
		fprintf(stderr, "ebload: cannot mint a token: %s\n", err.msg);
		return EB_EXIT_USAGE;
	}
	return 0;
}

/* ---- planning ------------------------------------------------------------------- */

/* The local port range connect() draws from. */
static void port_range(unsigned *lo, unsigned *hi)
{
	*lo = 32768;
	*hi = 60999;
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	if (f == NULL)
		return;
	char line[64];
	if (fgets(line, sizeof line, f) != NULL) {
		char *end = NULL;
		unsigned long a = strtoul(line, &end, 10);
		unsigned long b = strtoul(end, NULL, 10);
		if (a > 0 && b > a) {
			*lo = (unsigned)a;
			*hi = (unsigned)b;
		}
	}
	fclose(f);
}

/* Source addresses: none, auto (loopback targets needing more ports than
 * one address has), or a list; notes when connects will slow down. */
static int plan_sources(run_opts *o)
{
	ebl_config *cfg = &o->cfg;
	unsigned lo, hi;
	port_range(&lo, &hi);
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
		return usage_error("bad value '%s' for --source: want none, auto or IPv4 "
				   "addresses and ranges", o->source_arg);
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
	if (cfg->procs == 0) {
		uint64_t p = (cfg->connections + room - 1) / room;
		cfg->procs = (unsigned)(p < 1 ? 1 : p);
		if (cfg->procs > 256) {
			fprintf(stderr, "ebload: %llu connections need more than 256 processes at the "
				"open-file limit of %llu\n", (unsigned long long)cfg->connections,
				(unsigned long long)fds);
			return EB_EXIT_USAGE;
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
		return EB_EXIT_USAGE;
	}
	return plan_sources(o);
}

/* The preflight's stop (eb_target.stop): the signal flag. */
static bool target_stopped(void *arg)
{
	(void)arg;
	return g_stop != 0;
}

/* The preflight of every target (net/eb_preflight.h): an Early Bird server
 * that takes the token over HTTP and on the socket. 0 or the exit code;
 * 0 too when a signal cut it short: the run then stops at its first step
 * and writes INCOMPLETE reports (a cut preflight says nothing of the
 * server). */
static int check_targets(run_opts *o)
{
	const ebl_config *cfg = &o->cfg;
	char store[160];
	snprintf(store, sizeof store, "%s-preflight", cfg->store_prefix);
	for (unsigned u = 0; u < cfg->n_urls; u++) {
		eb_preflight pf;
		eb_err e;
		if (eb_url_parse(cfg->urls[u].base, &o->target.url, &e) != EB_OK)
			return EB_EXIT_USAGE;
		o->target.url_text = cfg->urls[u].base;
		o->target.has_url = true;
		o->target.timeout_ms = 3000;
		o->target.stop = target_stopped;
		eb_preflight_run(&o->target, "ebload", cfg->token, store, &pf);
		if (g_stop)
			return 0;
		if (pf.verdict != EB_PF_OK)
			fprintf(stderr, "%s\n", pf.message);
		if (eb_preflight_exit(pf.verdict) != EB_EXIT_OK)
			return (int)eb_preflight_exit(pf.verdict);
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

/* Judges r (problems of the run itself and every --expect), prints the
 * summary and writes the reports. The exit code: 0, 1 a problem or an
 * --expect not met, 2 a report could not be written. */
static int finish_report(eb_loadreport *r, const eb_expect *ex, unsigned n_ex,
			 const char *const *problems, size_t n_problems,
			 const char *json, const char *csv, const char *html)
{
	int rc = 0;
	if (eb_loadreport_judge(r, ex, n_ex, problems, n_problems) != EB_OK)
		return EB_EXIT_USAGE;
	ebl_print_summary(r, stdout);
	if (json != NULL && ebl_write_json(r, json) != 0)
		rc = EB_EXIT_USAGE;
	if (csv != NULL && ebl_write_csv(r, csv) != 0)
		rc = EB_EXIT_USAGE;
	if (html != NULL && ebl_write_html(r, html) != 0)
		rc = EB_EXIT_USAGE;
	if (rc == 0 && strcmp(r->verdict, "pass") != 0)
		rc = EB_EXIT_FAIL;
	return rc;
}

/* ---- the run -------------------------------------------------------------------- */

/* Everything a run holds; the phase machine's state included. */
typedef struct run_state {
	run_opts *o;
	ebl_config *cfg;
	ebl_shm *shm;
	pid_t *kids;
	bool *kid_done;          /* reaped */
	unsigned n_kids;
	ebl_pushers *pushers;
	eb_loadreport *r;
	eb_hist *snap, *prev, *iv;
	totals t;
	uint64_t ph, ph_start, ramp_ns, hold_ns, next_sample;
	uint64_t prev_sub, prev_notif, prev_push, prev_err, peak_open;
	/* worker CPU and notifications per phase */
	uint64_t cpu_mark, notif_mark, cpu_ramp, cpu_hold, notif_hold;
	uint64_t ramp_subscribed, last_ended, last_progress;
	double ramp_limit;
	char problems[EBL_MAX_PROBLEMS][256];
	size_t n_problems;
	uint64_t deadline_ns;    /* the run's total deadline (monotonic) */
	char stop_why[128];      /* why the run stops early (signal, deadline), or "" */
	char not_run[64];        /* the phases that did not run to their end */
	bool abandoned;          /* pushers still in flight: end with _exit */
} run_state;

/* The run's total deadline in seconds: --deadline, or every phase as
 * planned plus 60 s (83 s with the default flags). */
static double ebl_deadline_s(const ebl_config *cfg)
{
	if (cfg->deadline_s > 0)
		return cfg->deadline_s;
	return (double)cfg->connections / cfg->connect_rate + cfg->connect_timeout_s +
	       cfg->duration_s + cfg->drain_s +
	       (cfg->rampdown_rate > 0 ? (double)cfg->connections / cfg->rampdown_rate : 0) + 60;
}

static void add_problem(run_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_problem(run_state *st, const char *fmt, ...)
{
	va_list ap;
	if (st->n_problems >= EBL_MAX_PROBLEMS)
		return;
	va_start(ap, fmt);
	vsnprintf(st->problems[st->n_problems++], sizeof st->problems[0], fmt, ap);
	va_end(ap);
}

static void state_free(run_state *st)
{
	if (st->pushers != NULL)
		ebl_pushers_join(st->pushers);
	eb_loadreport_free(st->r);
	ebl_shm_free(st->shm);
	free(st->kids);
	free(st->kid_done);
	free(st->snap);
	free(st->prev);
	free(st->iv);
}

/* Token, scale, preflight, shared memory and the report. 0 or the exit code. */
static int run_setup(run_state *st)
{
	ebl_config *cfg = st->cfg;
	int rc;
	double est = (double)cfg->connections / cfg->connect_rate + cfg->duration_s +
		     cfg->drain_s + 60 + start_lead_s(cfg);
	if ((rc = mint_token(st->o, est)) != 0 || (rc = plan_scale(st->o)) != 0)
		return rc;
	if (eb_http_global_init() != 0)
		return EB_EXIT_USAGE;
	if ((rc = check_targets(st->o)) != 0)
		return rc;
	if ((st->shm = ebl_shm_new(cfg)) == NULL)
		return EB_EXIT_USAGE;
	st->r = eb_loadreport_new();
	st->snap = malloc(sizeof *st->snap);
	st->prev = malloc(sizeof *st->prev);
	st->iv = malloc(sizeof *st->iv);
	st->kids = calloc(cfg->procs, sizeof *st->kids);
	st->kid_done = calloc(cfg->procs, sizeof *st->kid_done);
	if (!st->r || !st->snap || !st->prev || !st->iv || !st->kids || !st->kid_done)
		return EB_EXIT_USAGE;
	st->r->command = strdup(st->o->command);
	st->r->config = config_json(st->o);
	if (st->r->config != NULL)
		cJSON_AddNumberToObject(st->r->config, "deadlineS", ebl_deadline_s(cfg));
	st->r->started_at_ms = eb_time_now_ms();
	if (!cfg->quiet)
		fprintf(stderr, "ebload: %llu connections to %u target(s), %u proc(s) x %u "
			"thread(s), %u source address(es), stores %s-*, %.0f pushes/s\n",
			(unsigned long long)cfg->connections, cfg->n_urls, cfg->procs,
			cfg->threads, cfg->n_sources, cfg->store_prefix, cfg->push_rate);
	fflush(stdout);
	fflush(stderr);
	return 0;
}

/* Forks the worker processes. 0, or the exit code (the shm says stop). */
static int run_fork(run_state *st)
{
	for (unsigned p = 0; p < st->cfg->procs; p++) {
		pid_t pid = fork();
		if (pid < 0) {
			fprintf(stderr, "ebload: fork: %s\n", strerror(errno));
			EBL_ST(&st->shm->stop, 1);
			return EB_EXIT_USAGE;
		}
		if (pid == 0) {
			/* the worker needs none of the parent's bookkeeping */
			ebl_shm *shm = st->shm;
			st->shm = NULL;
			st->pushers = NULL;
			state_free(st);
			int code = ebl_worker_process(st->cfg, shm, p);
			free(st->cfg->token);
			eb_target_clear(&st->o->target);
			free(st->o);
			_exit(code);
		}
		st->kids[st->n_kids++] = pid;
	}
	st->pushers = ebl_pushers_start(st->cfg, st->shm);
	return 0;
}

/* --start-at: waits for the shared instant and records the plan and the
 * measured start; a setup that overran the instant starts at once, late,
 * and the skew says by how much. */
static void start_wait(run_state *st)
{
	const ebl_config *cfg = st->cfg;
	uint64_t now = eb_time_now_ms();
	if (now > cfg->start_at_ms)
		fprintf(stderr, "ebload: warning: the setup ended %llu ms after --start-at: this "
			"shard starts late (give a later --start-at)\n",
			(unsigned long long)(now - cfg->start_at_ms));
	else if (!cfg->quiet)
		fprintf(stderr, "ebload: set up; ramp-up in %.3f s (--start-at)\n",
			(double)(cfg->start_at_ms - now) / 1000.0);
	uint64_t at_us = eb_startat_wait(cfg->start_at_ms, &g_stop);
	st->r->start_planned_ms = cfg->start_at_ms;
	st->r->start_first_us = at_us;
	st->r->start_last_us = at_us;
	st->r->started_at_ms = at_us / 1000;
}

/* Waits until every worker's context runs, then starts the clock. */
static void run_start_clock(run_state *st)
{
	uint64_t t_wait = eb_time_mono_ns();
	for (;;) {
		sum_workers(st->shm, &st->t, NULL);
		if (st->t.ready >= st->shm->n_workers || g_stop ||
		    eb_time_mono_ns() - t_wait > 10000000000ULL)
			break;
		sleep_ms(5);
	}
	uint64_t rss_base = 0;
	for (unsigned k = 0; k < st->n_kids; k++)
		rss_base += rss_kib(st->kids[k]);
	st->r->c.rss_base_kib = rss_base;
	st->cpu_mark = kids_cpu_ms(st->kids, st->n_kids);
	if (st->cfg->start_at_ms != 0)
		start_wait(st);
	st->shm->t0_ns = eb_time_mono_ns();
	set_phase(st->shm, EBL_PH_RAMP);
	st->ph = EBL_PH_RAMP;
	st->ph_start = st->shm->t0_ns;
	st->last_progress = st->shm->t0_ns;
	st->next_sample = st->shm->t0_ns + 1000000000ULL;
	/* past the schedule, ramp-up ends once no attempt ended for a while */
	st->ramp_limit = (double)st->cfg->connections / st->cfg->connect_rate;
	eb_hist_init(st->prev);
}

static void enter_phase(run_state *st, uint64_t ph, uint64_t now)
{
	st->ph = ph;
	st->ph_start = now;
	set_phase(st->shm, ph);
}

/* One step of the phase machine; true when the run is over. */
static bool run_phase_step(run_state *st, uint64_t now)
{
	const ebl_config *cfg = st->cfg;
	totals *t = &st->t;
	double in_phase = (double)(now - st->ph_start) / 1e9;
	/* 1.5 s before the deadline: the stop, the reap and the reports fit */
	if (!st->stop_why[0] && (g_stop || now + 1500000000ULL >= st->deadline_ns)) {
		static const char *const left[] = {
			[EBL_PH_INIT] = "ramp-up, hold, drain, ramp-down",
			[EBL_PH_RAMP] = "ramp-up, hold, drain, ramp-down",
			[EBL_PH_HOLD] = "hold, drain, ramp-down",
			[EBL_PH_DRAIN] = "drain, ramp-down",
			[EBL_PH_FINAL] = "ramp-down",
		};
		snprintf(st->stop_why, sizeof st->stop_why, "%s",
			 g_stop ? "interrupted by a signal" :
			 "the run's total deadline (--deadline) was reached");
		snprintf(st->not_run, sizeof st->not_run, "%s",
			 st->ph <= EBL_PH_FINAL ? left[st->ph] : "-");
		g_stop = 1;
	}
	if (st->stop_why[0] && st->ph == EBL_PH_FINAL && in_phase > 0.5) {
		/* stopped: the closes are not measured, 1 s is the bound */
		return true;
	}
	if (g_stop && st->ph < EBL_PH_FINAL) {
		EBL_ST(&st->shm->stop, 1);
		if (st->ph == EBL_PH_RAMP)
			st->ramp_ns = now - st->shm->t0_ns;
		if (st->ph == EBL_PH_HOLD)
			st->hold_ns = now - st->ph_start;
		enter_phase(st, EBL_PH_FINAL, now);
	} else if (st->ph == EBL_PH_RAMP &&
		   (t->ramp_done >= st->shm->n_workers ||
		    (in_phase > st->ramp_limit && (double)(now - st->last_progress) / 1e9 >
		     cfg->connect_timeout_s + 5.0))) {
		st->ramp_ns = now - st->ph_start;
		uint64_t c = kids_cpu_ms(st->kids, st->n_kids);
		st->cpu_ramp = c - st->cpu_mark;
		st->cpu_mark = c;
		st->ramp_subscribed = t->c.conn_subscribed;
		st->notif_mark = t->c.notif_received;
		enter_phase(st, EBL_PH_HOLD, now);
	} else if (st->ph == EBL_PH_HOLD && in_phase >= cfg->duration_s) {
		st->hold_ns = now - st->ph_start;
		st->cpu_hold = kids_cpu_ms(st->kids, st->n_kids) - st->cpu_mark;
		st->notif_hold = t->c.notif_received - st->notif_mark;
		uint64_t rss = 0;
		for (unsigned k = 0; k < st->n_kids; k++)
			rss += rss_kib(st->kids[k]);
		st->r->c.rss_hold_kib = rss;
		st->r->c.conn_open_at_end = t->open;
		enter_phase(st, EBL_PH_DRAIN, now);
		/* the drain starts once the last push got its answer, or at the
		 * deadline, whichever comes first (the next step then stops) */
		while (!g_stop && eb_time_mono_ns() + 1500000000ULL < st->deadline_ns) {
			if (ebl_pushers_join_within(st->pushers, 100)) {
				st->pushers = NULL;
				break;
			}
		}
		st->ph_start = eb_time_mono_ns();
	} else if (st->ph == EBL_PH_DRAIN && in_phase >= cfg->drain_s) {
		enter_phase(st, EBL_PH_FINAL, now);
	} else if (st->ph == EBL_PH_FINAL &&
		   (t->finished >= st->shm->n_workers || in_phase > 30 +
		    (cfg->rampdown_rate > 0 ? (double)cfg->connections / cfg->rampdown_rate : 0))) {
		return true;
	}
	return false;
}

/* The once-a-second sample and progress line. */
static void run_sample(run_state *st, uint64_t now)
{
	const totals *t = &st->t;
	eb_load_sample s;
	st->next_sample += 1000000000ULL;
	memset(&s, 0, sizeof s);
	s.t_s = (now - st->shm->t0_ns + 500000000ULL) / 1000000000ULL;
	s.open = t->open;
	s.connects = t->c.conn_subscribed - st->prev_sub;
	s.notifications = t->c.notif_received - st->prev_notif;
	s.pushes = t->push_ok - st->prev_push;
	uint64_t errs = failures_of(&t->c) + t->c.conn_drops;
	s.errors = errs - st->prev_err;
	eb_hist_diff(st->iv, st->snap, st->prev);
	eb_loadreport_add_sample(st->r, &s, st->iv);
	progress(st->cfg, st->ph, (double)(now - st->shm->t0_ns) / 1e9, t, &s, st->iv);
	st->prev_sub = t->c.conn_subscribed;
	st->prev_notif = t->c.notif_received;
	st->prev_push = t->push_ok;
	st->prev_err = errs;
	memcpy(st->prev, st->snap, sizeof *st->prev);
}

/* Worker process k ended with wait status code: a death or a failure is a
 * problem of the run, and its threads count as done, so that the phases do
 * not wait for them. */
static void kid_ended(run_state *st, unsigned k, int code)
{
	st->kid_done[k] = true;
	for (unsigned t = 0; t < st->cfg->threads; t++) {
		ebl_wstat *w = &st->shm->w[k * st->cfg->threads + t];
		/* the worker is gone: its slots have no writer left */
		EBL_ST(&w->ready, 1);
		EBL_ST(&w->ramp_done, 1);
		EBL_ST(&w->finished, 1);
	}
	if (WIFSIGNALED(code))
		add_problem(st, "worker process %u died (signal %d, %s); its connections "
			    "are missing from the counts", k, WTERMSIG(code),
			    strsignal(WTERMSIG(code)));
	else if (WIFEXITED(code) && WEXITSTATUS(code) != 0)
		add_problem(st, "worker process %u failed (exit %d): see the messages above",
			    k, WEXITSTATUS(code));
}

/* Reaps the workers that ended; before the final phase any end is early. */
static void poll_kids(run_state *st)
{
	for (unsigned k = 0; k < st->n_kids; k++) {
		int code = 0;
		if (!st->kid_done[k] && waitpid(st->kids[k], &code, WNOHANG) == st->kids[k])
			kid_ended(st, k, code);
	}
}

/* Stops the pushers and waits for the workers (15 s at the most each). */
static void run_reap(run_state *st)
{
	/* stopped early: 1 s in all for the pushers and the workers */
	uint64_t grace = st->stop_why[0] ? 300000000ULL : 15000000000ULL;
	EBL_ST(&st->shm->stop, 1);
	if (st->stop_why[0]) {
		if (ebl_pushers_join_within(st->pushers, 300))
			st->pushers = NULL;
		else
			st->abandoned = true;
	} else {
		ebl_pushers_join(st->pushers);
		st->pushers = NULL;
	}
	uint64_t t_kill = eb_time_mono_ns();
	for (unsigned k = 0; k < st->n_kids; k++) {
		int code = 0;
		if (st->kid_done[k])
			continue;
		while (waitpid(st->kids[k], &code, WNOHANG) == 0) {
			if (eb_time_mono_ns() - t_kill > grace) {
				kill(st->kids[k], SIGKILL);
				waitpid(st->kids[k], &code, 0);
				break;
			}
			sleep_ms(10);
		}
		kid_ended(st, k, code);
	}
}

/* The worker threads' CPU in the ramp-up and the hold, from the marks each
 * thread takes when it first sees a phase (getrusage per thread: finer than
 * /proc's clock ticks, user and system apart). */
static uint64_t mark_diff(const uint64_t *m, int from, int to)
{
	uint64_t a = EBL_LD(&m[from]), b = EBL_LD(&m[to]);
	return a != 0 && b > a ? b - a : 0;
}

static void worker_cpu(const ebl_shm *shm, eb_load_counters *c)
{
	for (unsigned i = 0; i < shm->n_workers; i++) {
		const ebl_wstat *w = &shm->w[i];
		c->cpu_ramp_user_us += mark_diff(w->cpu_user_us, EBL_PH_RAMP, EBL_PH_HOLD);
		c->cpu_ramp_sys_us += mark_diff(w->cpu_sys_us, EBL_PH_RAMP, EBL_PH_HOLD);
		c->cpu_hold_user_us += mark_diff(w->cpu_user_us, EBL_PH_HOLD, EBL_PH_DRAIN);
		c->cpu_hold_sys_us += mark_diff(w->cpu_sys_us, EBL_PH_HOLD, EBL_PH_DRAIN);
	}
}

/* Ramp-up, hold, drain and ramp-down, sampled every second. */
static void run_phases(run_state *st)
{
	for (;;) {
		sleep_ms(20);
		poll_kids(st);
		uint64_t now = eb_time_mono_ns();
		sum_workers(st->shm, &st->t, st->snap);
		if (st->t.open > st->peak_open)
			st->peak_open = st->t.open;
		/* ramp-up lasts while attempts still end (slow servers take long) */
		uint64_t ended = st->t.c.conn_subscribed + failures_of(&st->t.c);
		if (ended != st->last_ended) {
			st->last_ended = ended;
			st->last_progress = now;
		}
		if (run_phase_step(st, now))
			break;
		if (now >= st->next_sample)
			run_sample(st, now);
	}
	set_phase(st->shm, EBL_PH_DONE);
}

/* Counters and histograms of the workers and pushers into the report. */
static void run_collect(run_state *st)
{
	eb_loadreport *r = st->r;
	ebl_shm *shm = st->shm;
	sum_workers(shm, &st->t, r->hist[EB_LH_NOTIFY]);
	uint64_t keep_base = r->c.rss_base_kib, keep_hold = r->c.rss_hold_kib,
		 keep_open = r->c.conn_open_at_end;
	r->c = st->t.c;
	r->c.rss_base_kib = keep_base;
	r->c.rss_hold_kib = keep_hold;
	r->c.conn_open_at_end = keep_open;
	r->c.conn_peak_open = st->peak_open;
	r->c.conn_ramp_subscribed = st->ramp_subscribed;
	r->c.notif_hold = st->notif_hold;
	r->c.cpu_ramp_ms = st->cpu_ramp;
	r->c.cpu_hold_ms = st->cpu_hold;
	for (unsigned i = 0; i < shm->n_workers; i++)
		eb_hist_add(r->hist[EB_LH_CONNECT], &shm->w[i].connect);
	worker_cpu(shm, &r->c);
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
	r->c.ramp_ms = st->ramp_ns / 1000000;
	r->c.hold_ms = st->hold_ns / 1000000;
	r->c.total_ms = (eb_time_mono_ns() - shm->t0_ns) / 1000000;
	struct rusage ru_c, ru_s;
	getrusage(RUSAGE_CHILDREN, &ru_c);
	getrusage(RUSAGE_SELF, &ru_s);
	r->c.cpu_user_ms = (uint64_t)(ru_c.ru_utime.tv_sec + ru_s.ru_utime.tv_sec) * 1000 +
			   (uint64_t)(ru_c.ru_utime.tv_usec + ru_s.ru_utime.tv_usec) / 1000;
	r->c.cpu_sys_ms = (uint64_t)(ru_c.ru_stime.tv_sec + ru_s.ru_stime.tv_sec) * 1000 +
			  (uint64_t)(ru_c.ru_stime.tv_usec + ru_s.ru_stime.tv_usec) / 1000;
	add_limits(r, st->cfg, &st->t);
	for (size_t i = 0; i < r->n_limits && !st->cfg->quiet; i++)
		fprintf(stderr, "ebload: limit hit: %s\n", r->limits[i]);
}

/* No silent zero: a run that measured nothing fails. Then the verdict. */
static int run_judge(run_state *st)
{
	const eb_load_counters *c = &st->r->c;
	const ebl_config *cfg = st->cfg;
	const char *probs[EBL_MAX_PROBLEMS];
	if (c->conn_target > 0 && c->conn_subscribed == 0 && !g_stop)
		add_problem(st, "nothing subscribed: all %llu connection attempts failed (auth "
			    "%llu, upgrade %llu, subscribe %llu, refused %llu, timeout %llu, other "
			    "%llu)", (unsigned long long)c->conn_attempted,
			    (unsigned long long)c->fail_auth, (unsigned long long)c->fail_upgrade,
			    (unsigned long long)c->fail_subscribe, (unsigned long long)c->fail_refused,
			    (unsigned long long)c->fail_timeout,
			    (unsigned long long)(c->fail_other + c->fail_closed));
	if (c->push_sent > 0 && c->push_ok == 0)
		add_problem(st, "every push failed: %llu sent, %llu HTTP errors, %llu transport "
			    "errors", (unsigned long long)c->push_sent,
			    (unsigned long long)c->push_http_err,
			    (unsigned long long)c->push_transport_err);
	for (size_t i = 0; i < st->n_problems; i++) {
		probs[i] = st->problems[i];
		fprintf(stderr, "ebload: FAIL: %s\n", st->problems[i]);
	}
	if (st->stop_why[0]) {
		st->r->incomplete = strdup(st->stop_why);
		st->r->not_run = strdup(st->not_run);
		fprintf(stderr, "ebload: %s; the reports are marked INCOMPLETE (not run to their "
			"end: %s)\n", st->stop_why, st->not_run);
	}
	int rc = finish_report(st->r, st->o->expects, st->o->n_expects, probs, st->n_problems,
			       cfg->json_path, cfg->csv_path, cfg->html_path);
	if (c->conn_subscribed == 0 && c->fail_refused > 0 &&
	    c->fail_refused == failures_of(c) && rc != EB_EXIT_USAGE)
		rc = EB_EXIT_UNREACHABLE;
	return rc;
}

static int run(int argc, char **argv)
{
	run_state st;
	memset(&st, 0, sizeof st);
	st.o = calloc(1, sizeof *st.o);
	if (st.o == NULL)
		return EB_EXIT_USAGE;
	st.cfg = &st.o->cfg;
	int rc = parse_run_args(argc, argv, st.o);
	/* from the start: the preflight and the setup count too */
	if (rc == 0)
		st.deadline_ns = eb_time_mono_ns() +
				 (uint64_t)((ebl_deadline_s(st.cfg) + start_lead_s(st.cfg)) * 1e9);
	if (rc == 1)
		rc = EB_EXIT_OK;
	else if (rc == 0)
		rc = run_setup(&st);
	else
		rc = EB_EXIT_USAGE;
	if (rc != 0 || st.o->help || st.o->version)
		goto out;
	rc = run_fork(&st);
	if (rc == 0) {
		run_start_clock(&st);
		run_phases(&st);
	}
	run_reap(&st);
	if (rc == 0 && st.n_kids > 0) {
		if (!st.abandoned)
			ebl_pushers_finalize(st.cfg, st.shm);
		run_collect(&st);
		rc = run_judge(&st);
	}
	if (st.abandoned) {
		/* a pusher still waits on a push the server never answers: it
		 * uses the shm, which is therefore not freed; nothing else runs */
		fflush(NULL);
		_exit(rc);
	}
out:
	state_free(&st);
	free(st.cfg->token);
	eb_target_clear(&st.o->target);
	free(st.o);
	eb_http_global_cleanup();
	return rc;
}

/* ---- merge -------------------------------------------------------------------------- */

/* Largest report `ebload merge` reads: a report is a few MiB at most (its
 * per-second series), and the run stays under 256 MiB with a few of them. */
#define EBL_MERGE_MAX ((size_t)64 << 20)

/* Reads one report file and adds it to *all. 0 or the exit code. */
static int merge_one(const char *path, eb_loadreport **all)
{
	char *txt = NULL;
	cJSON *j = NULL;
	eb_err err;
	eb_loadreport *one = NULL;
	size_t len = 0;
	eb_rc prc = eb_file_read(path, EBL_MERGE_MAX, &txt, &len, &err);
	if (prc == EB_OK)
		prc = eb_json_parse(txt, len, 16, &j, &err);
	free(txt);
	if (prc == EB_OK)
		prc = eb_loadreport_from_json(j, &one, &err);
	cJSON_Delete(j);
	if (prc != EB_OK) {
		fprintf(stderr, "ebload: %s: %s\n", path, err.msg);
		return EB_EXIT_USAGE;
	}
	if (*all == NULL) {
		*all = one;
		return 0;
	}
	prc = eb_loadreport_merge(*all, one);
	eb_loadreport_free(one);
	return prc == EB_OK ? 0 : EB_EXIT_USAGE;
}

static int merge(int argc, char **argv)
{
	const char *json = NULL, *csv = NULL, *html = NULL;
	bool help = false;
	run_opts *o = calloc(1, sizeof *o);
	eb_loadreport *all = NULL;
	int rc = 0, files = 0;
	char err[512];
	if (o == NULL)
		return EB_EXIT_USAGE;
	const eb_opt tab[] = {
		{ "--json", NULL, EB_OPT_STR, &json, 0, 0, NULL, NULL, NULL, false },
		{ "--csv", NULL, EB_OPT_STR, &csv, 0, 0, NULL, NULL, NULL, false },
		{ "--html", NULL, EB_OPT_STR, &html, 0, 0, NULL, NULL, NULL, false },
		{ "--expect", NULL, EB_OPT_FN, NULL, 0, 0, NULL, opt_expect, o, true },
		{ "--help", "-h", EB_OPT_FLAG, &help, 0, 0, NULL, NULL, NULL, false },
	};
	for (int i = 2; i < argc && rc == 0; i++) {
		int r = eb_opt_parse(tab, sizeof tab / sizeof tab[0], argc, argv, &i, err, sizeof err);
		if (r < 0)
			rc = usage_error("%s", err);
		else if (r == 0 && argv[i][0] == '-')
			rc = usage_error("unknown merge option '%s'", argv[i]);
		else if (r == 0 && (rc = merge_one(argv[i], &all)) == 0)
			files++;
	}
	if (help) {
		fputs(usage_text, stdout);
	} else if (rc == 0 && files == 0) {
		rc = usage_error("%s", "merge needs at least one report file");
	} else if (rc == 0) {
		free(all->command);
		all->command = NULL;
		rc = finish_report(all, o->expects, o->n_expects, NULL, 0, json, csv, html);
	}
	eb_loadreport_free(all);
	free(o);
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
		fprintf(stderr, "ebload: give at least one --url\n(see ebload --help)\n");
		return EB_EXIT_USAGE;
	}
	return run(argc, argv);
}
