/*
 * main.c — ebmock, the reference server of the Early Bird sync protocol:
 * flags, the lws context (HTTP and WebSocket on one port, one event loop),
 * the port file, signals and an orderly shutdown (sockets closed with 1001,
 * store flushed and closed, exit 0).
 */
#include "ebmock.h"
#include "core/ebm_evlog.h"
#include "core/ebm_backend.h"
#include "eb_file.h"
#include "eb_target.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/resource.h>

#define SHUTDOWN_GRACE_MS 1500   /* after the last socket was told to close */
#define SHUTDOWN_MAX_MS 10000
#define TICK_US 50000     /* the libev loop looks at the stop flag this often */

static volatile sig_atomic_t g_stop;
/* for on_lws_signal, which lws calls without a user pointer */
static ebmock_glue *g_glue;

/* lws's error lines, at most one a second (a client can make lws log on
 * every packet: ~22 000 lines/s at the open-file limit), with a count of
 * those left out; none at all with --quiet (they are about clients). */
static void on_lws_log(int level, const char *line)
{
	static uint64_t last_ms;
	static unsigned long skipped;
	(void)level;
	if (g_glue && g_glue->quiet)
		return;
	uint64_t now = ebm_mono_ms();
	if (last_ms && now - last_ms < 1000) {
		skipped++;
		return;
	}
	if (skipped)
		fprintf(stderr, "ebmock: (%lu lws log lines left out)\n", skipped);
	skipped = 0;
	last_ms = now;
	fprintf(stderr, "ebmock: lws: %s", line);
}

static void accept_resume(lws_sorted_usec_list_t *sul)
{
	ebmock_glue *g = lws_container_of(sul, ebmock_glue, accept_sul);
	g->accept_paused = false;
	if (g->listen_wsi)
		lws_rx_flow_control(g->listen_wsi, 1);
}

bool ebmock_accept_ok(ebmock_glue *g, struct lws *listen_wsi, int fd)
{
	static uint64_t last_log_ms;
	g->listen_wsi = listen_wsi;
	if (!g->fd_limit || fd < 0 || (unsigned)fd + EBMOCK_FD_RESERVE < g->fd_limit)
		return true;
	/* near the limit: the next accept would fail with EMFILE, and lws
	 * would find the listen socket readable again at once (a spin at
	 * 100 % CPU). Stop polling it for a while; the connections wait in
	 * the kernel's backlog; a few fds stay for the store and the log. */
	ebm_metrics_refusal(g->srv, EBM_REFUSE_FD_LIMIT);
	if (!g->accept_paused) {
		g->accept_paused = true;
		lws_rx_flow_control(listen_wsi, 0);
		lws_sul_schedule(g->ctx, 0, &g->accept_sul, accept_resume,
				 (lws_usec_t)EBMOCK_ACCEPT_PAUSE_MS * 1000);
	}
	uint64_t now = ebm_mono_ms();
	if (!g->quiet && (!last_log_ms || now - last_log_ms >= 10000)) {
		last_log_ms = now;
		fprintf(stderr, "ebmock: open-file limit %u nearly reached: new connections "
			"wait (accepting paused %d ms at a time)\n", g->fd_limit,
			EBMOCK_ACCEPT_PAUSE_MS);
	}
	return false;
}

/* --data FILE is this process's alone: a second ebmock on the same file
 * would serve stale data and fail its commits (500). flock is independent
 * of SQLite's own POSIX locks; the fd stays open until exit. -1 when the
 * file is locked or cannot be opened (message in err). */
static int lock_data_file(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open --data %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK)
			snprintf(err, errlen, "--data %s is in use by another process "
				 "(another ebmock?): it is locked", path);
		else
			snprintf(err, errlen, "cannot lock --data %s: %s", path,
				 strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

/* libev owns SIGINT while its loop runs and lws hands it over here, from
 * the loop but outside lws's own servicing: the one place where the context
 * may be destroyed to end the loop (main_tick raises SIGINT for that). */
static void on_lws_signal(void *handle, int sig)
{
	(void)handle;
	(void)sig;
	if (g_glue && g_glue->loop_ended)
		lws_context_destroy(g_glue->ctx);
	else
		g_stop = 1;
}

/* WS-CLOSE-1: every socket gets a close frame with 1001, a few hundred at a
 * time; the grace period starts once the last one was told, and the whole
 * shutdown is capped. */
static void shutdown_step(ebmock_glue *g)
{
	bool was = g->shutdown_waiting > 0;
	g->shutdown_waiting = ebm_ws_shutdown_step(g->srv, EBMOCK_SHUTDOWN_CLOSING);
	if (was && g->shutdown_waiting == 0) {
		uint64_t d = ebm_mono_ms() + SHUTDOWN_GRACE_MS;
		if (d < g->shutdown_deadline_ms)
			g->shutdown_deadline_ms = d;
	}
}

static void begin_shutdown(ebmock_glue *g)
{
	g->shutting_down = true;
	fprintf(stderr, "ebmock: shutting down (%zu sockets)\n", ebm_ws_count(g->srv));
	g->shutdown_deadline_ms = ebm_mono_ms() + SHUTDOWN_MAX_MS;
	g->shutdown_waiting = 1;
	shutdown_step(g);
}

/* The libev loop runs inside lws_service until the context is destroyed, so
 * the stop flag and the shutdown grace period are watched from a timer. */
static void main_tick(lws_sorted_usec_list_t *sul)
{
	ebmock_glue *g = lws_container_of(sul, ebmock_glue, tick);

	ebm_server_poll(g->srv);   /* --backend: a wake lost before the loop ran */

	if (g_stop && !g->shutting_down)
		begin_shutdown(g);
	else if (g->shutting_down && g->shutdown_waiting > 0)
		shutdown_step(g);
	if (g->shutting_down && (ebm_ws_count(g->srv) == 0 ||
				 ebm_mono_ms() >= g->shutdown_deadline_ms)) {
		g->loop_ended = true;
		raise(SIGINT);   /* on_lws_signal ends the loop; main finishes it */
		return;
	}
	lws_sul_schedule(g->ctx, 0, &g->tick, main_tick, TICK_US);
}

/* --backend: the database thread has results; only wakes the loop (the
 * context may not exist yet: the loop's own poll picks them up then). */
static void main_backend_wake(void *arg)
{
	ebmock_glue *g = arg;
	struct lws_context *c = __atomic_load_n(&g->ctx, __ATOMIC_ACQUIRE);
	if (c)
		lws_cancel_service(c);
}

static void usage(FILE *f)
{
	fputs(
"usage: ebmock [options]\n"
"The reference server of docs/PROTOCOL.md (HTTP and WebSocket on one port).\n"
"See docs/EBMOCK.md for the details of every option, fault and defect.\n"
"\n"
"Network:\n"
"  --host ADDR               listen address (default 127.0.0.1)\n"
"  --port N                  port, 0 = any free port (default 8080)\n"
"  --port-file F             write the bound port + newline to F (atomically)\n"
"  --max-conns N             refuse connections beyond N (default: no limit)\n"
"Hostile clients (docs/EBMOCK.md, \"Hostile clients\"):\n"
"  --memory-budget BYTES     request bodies and pending output of all\n"
"                            connections together (default 33554432); beyond\n"
"                            it: 503 UNAVAILABLE + Retry-After, socket reads paused\n"
"  --body-timeout-ms N       a request body must be complete N ms after its\n"
"                            head, not restarted per byte (default 10000)\n"
"  --ws-stall-ms N           a socket whose replies stay at 64 KiB unread for\n"
"                            N ms is dropped (WS-CLOSE-4, default 1000)\n"
"  --quiet                   no per-request log line\n"
"  --event-log FILE          JSON line per request, socket event and admin\n"
"                            action, with monotonic ms times (docs/EBMOCK.md)\n"
"  --event-log-max-bytes N   cap of the event log (64 MiB); then one log_full line\n"
"  --event-loop poll|ev      lws's poll() loop (default) or libev/epoll (cost\n"
"                            per event independent of the number of sockets)\n"
"  --tls-cert PEMFILE        serve HTTP and the socket over TLS (https://, wss://)\n"
"  --tls-key PEMFILE         on the same port, with this certificate (chain) and key\n"
"Authentication (one of them is required):\n"
"  --no-auth                 accept everything; subject = remote address (loud warning)\n"
"  --no-auth-ws answer|ignore  with --no-auth, answer `auth` on the socket with\n"
"                            auth_ok (default) or ignore it (WS-AUTH-7)\n"
"  --jwt-secret S            HS256 secret\n"
"  --jwt-public-key PEMFILE  RS256 public key\n"
"  --jwt-issuer S            required iss\n"
"  --jwt-audience S          required aud\n"
"  --jwt-leeway SECONDS      clock leeway for exp/nbf, at most 60 (default 5)\n"
"Storage:\n"
"  --data FILE               SQLite file (WAL, synchronous=FULL); default: memory\n"
"  --backend URL             PostgreSQL (libpq URI, e.g. postgresql:///eb?host=/run/pg):\n"
"                            every ebmock on one database is one server (docs/EBMOCK.md)\n"
"Limits (defaults of PROTOCOL.md section 8):\n"
"  --max-body-bytes N        (1048576)      --max-changes N           (500)\n"
"  --max-path-segments N     (32)           --max-segment-bytes N     (256)\n"
"  --max-value-bytes N       (65536)        --max-value-depth N       (32)\n"
"  --max-change-id-bytes N   (128)          --max-frame-bytes N       (65536)\n"
"  --max-page-limit N        (1000)         --max-subscriptions N     (100)\n"
"  --timestamp-skew-ms N     allowance for future timestamps (60000)\n"
"  --coalesce-ms N           notification coalescing window, 0-250 (0 = send at once)\n"
"  --no-limits-endpoint      GET /api/limits answers 404 (not offered, LIMIT-10)\n"
"Rate limiting (token bucket per subject, per address without a token; 0 = off):\n"
"  --rate-http PER_SEC       --rate-http-burst N\n"
"  --rate-ws PER_SEC         --rate-ws-burst N\n"
"  --rate-ws-preauth-addr    charge socket messages before auth to the address\n"
"WebSocket:\n"
"  --auth-timeout-ms N       close unauthenticated sockets after N ms with 4408 (10000)\n"
"  --ping-interval-s N       protocol-level ping interval, 0 = off (30)\n"
"Scripted faults and defects:\n"
"  --admin-token T           enable GET/POST/DELETE /admin/faults with Bearer T\n"
"  --fault SPEC              repeatable: refuse-ws | stall | no-notify | drop-ws-after=N\n"
"                            | http-503=SECONDS | http-429=SECONDS | delay-ms=N\n"
"                            | silent-ws | extras | http-reset-ms=N | http-503-ms=N\n"
"                            | http-429-ms=N | retry-after=SECONDS | page-max=N\n"
"  --defect NAME             repeatable: switch on an injectable defect;\n"
"                            --defect list prints NAME<TAB>RULE<TAB>description\n"
"  --help                    this text;  --version  the kit's version\n"
"Exit codes: 0 clean shutdown, 2 usage or setup error.\n", f);
}

enum {
	O_HOST = 1000, O_PORT, O_PORT_FILE, O_NO_AUTH, O_JWT_SECRET, O_JWT_PUB,
	O_JWT_ISS, O_JWT_AUD, O_JWT_LEEWAY, O_DATA, O_BACKEND, O_COALESCE, O_SKEW,
	O_MAX_BODY, O_MAX_CHANGES, O_MAX_SEGS, O_MAX_SEG_BYTES, O_MAX_VALUE,
	O_MAX_DEPTH, O_MAX_ID, O_MAX_FRAME, O_MAX_PAGE, O_MAX_SUBS, O_RATE_HTTP,
	O_RATE_HTTP_BURST, O_RATE_WS, O_RATE_WS_BURST, O_AUTH_TIMEOUT, O_PING,
	O_MAX_CONNS, O_ADMIN, O_FAULT, O_DEFECT, O_QUIET, O_EVENT_LOOP, O_HELP,
	O_NO_AUTH_WS, O_NO_LIMITS, O_RATE_WS_PREAUTH, O_EVENT_LOG, O_EVENT_LOG_MAX,
	O_TLS_CERT, O_TLS_KEY,
	O_MEM_BUDGET, O_BODY_TIMEOUT, O_WS_STALL
};

static const struct option long_opts[] = {
	{ "host", required_argument, NULL, O_HOST },
	{ "port", required_argument, NULL, O_PORT },
	{ "port-file", required_argument, NULL, O_PORT_FILE },
	{ "no-auth", no_argument, NULL, O_NO_AUTH },
	{ "no-auth-ws", required_argument, NULL, O_NO_AUTH_WS },
	{ "no-limits-endpoint", no_argument, NULL, O_NO_LIMITS },
	{ "rate-ws-preauth-addr", no_argument, NULL, O_RATE_WS_PREAUTH },
	{ "jwt-secret", required_argument, NULL, O_JWT_SECRET },
	{ "jwt-public-key", required_argument, NULL, O_JWT_PUB },
	{ "jwt-issuer", required_argument, NULL, O_JWT_ISS },
	{ "jwt-audience", required_argument, NULL, O_JWT_AUD },
	{ "jwt-leeway", required_argument, NULL, O_JWT_LEEWAY },
	{ "data", required_argument, NULL, O_DATA },
	{ "backend", required_argument, NULL, O_BACKEND },
	{ "coalesce-ms", required_argument, NULL, O_COALESCE },
	{ "timestamp-skew-ms", required_argument, NULL, O_SKEW },
	{ "max-body-bytes", required_argument, NULL, O_MAX_BODY },
	{ "max-changes", required_argument, NULL, O_MAX_CHANGES },
	{ "max-path-segments", required_argument, NULL, O_MAX_SEGS },
	{ "max-segment-bytes", required_argument, NULL, O_MAX_SEG_BYTES },
	{ "max-value-bytes", required_argument, NULL, O_MAX_VALUE },
	{ "max-value-depth", required_argument, NULL, O_MAX_DEPTH },
	{ "max-change-id-bytes", required_argument, NULL, O_MAX_ID },
	{ "max-frame-bytes", required_argument, NULL, O_MAX_FRAME },
	{ "max-page-limit", required_argument, NULL, O_MAX_PAGE },
	{ "max-subscriptions", required_argument, NULL, O_MAX_SUBS },
	{ "rate-http", required_argument, NULL, O_RATE_HTTP },
	{ "rate-http-burst", required_argument, NULL, O_RATE_HTTP_BURST },
	{ "rate-ws", required_argument, NULL, O_RATE_WS },
	{ "rate-ws-burst", required_argument, NULL, O_RATE_WS_BURST },
	{ "auth-timeout-ms", required_argument, NULL, O_AUTH_TIMEOUT },
	{ "ping-interval-s", required_argument, NULL, O_PING },
	{ "max-conns", required_argument, NULL, O_MAX_CONNS },
	{ "memory-budget", required_argument, NULL, O_MEM_BUDGET },
	{ "body-timeout-ms", required_argument, NULL, O_BODY_TIMEOUT },
	{ "ws-stall-ms", required_argument, NULL, O_WS_STALL },
	{ "admin-token", required_argument, NULL, O_ADMIN },
	{ "fault", required_argument, NULL, O_FAULT },
	{ "defect", required_argument, NULL, O_DEFECT },
	{ "quiet", no_argument, NULL, O_QUIET },
	{ "event-log", required_argument, NULL, O_EVENT_LOG },
	{ "event-log-max-bytes", required_argument, NULL, O_EVENT_LOG_MAX },
	{ "event-loop", required_argument, NULL, O_EVENT_LOOP },
	{ "tls-cert", required_argument, NULL, O_TLS_CERT },
	{ "tls-key", required_argument, NULL, O_TLS_KEY },
	{ "help", no_argument, NULL, O_HELP },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

static int write_port_file(const char *path, int port)
{
	char tmp[4096];
	char line[16];
	int n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof tmp)
		return -1;
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -1;
	int ln = snprintf(line, sizeof line, "%d\n", port);
	bool ok = fwrite(line, 1, (size_t)ln, f) == (size_t)ln;
	ok = (fclose(f) == 0) && ok;
	if (!ok || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

static void print_defects(void)
{
	for (int i = 0; i < EBM_DEFECT__COUNT; i++) {
		const ebm_defect_info *d = ebm_defect_get((ebm_defect)i);
		printf("%s\t%s\t%s\n", d->name, d->rule, d->desc);
	}
}

/* ---- options ------------------------------------------------------------- */

/* What the command line asked for. Strings are borrowed from argv. */
typedef struct ebmock_opts {
	ebm_config cfg;
	const char *host, *port_file, *pem_path, *tls_cert, *tls_key;
	const char *evlog_path;
	const char *backend_url;   /* --backend, never printed (password) */
	uint64_t evlog_max;
	int port;
	double rate_http, rate_ws, burst_http, burst_ws;
	bool no_auth_ws_set;
	uint32_t max_conns;
	bool quiet;
	bool evlib;
	uint64_t now_ms;           /* the clock the timed --fault specs start from */
} ebmock_opts;

/* What one option did: go on, a bad value (the caller names the flag), or
 * an exit code (>= 0: --help, --version, --defect list, a usage error). */
#define OPT_NEXT (-1)
#define OPT_BAD (-2)

#define LIMIT_OPT(field, lo, hi) do { \
		uint64_t v_; \
		if (!eb_parse_u64(arg, lo, hi, &v_)) \
			return OPT_BAD; \
		o->cfg.limits.field = (__typeof__(o->cfg.limits.field))v_; \
	} while (0)

/* The limits of PROTOCOL.md section 8 and the rate limits. */
static int opt_limit(ebmock_opts *o, int c, const char *arg)
{
	switch (c) {
	case O_COALESCE: LIMIT_OPT(coalesce_ms, 0, 250); break;
	case O_SKEW: LIMIT_OPT(timestamp_skew_ms, 0, 86400000ULL * 365); break;
	case O_MAX_BODY: LIMIT_OPT(max_body_bytes, 1, 1ULL << 30); break;
	case O_MAX_CHANGES: LIMIT_OPT(max_changes_per_request, 1, 1000000); break;
	case O_MAX_SEGS: LIMIT_OPT(max_path_segments, 1, 10000); break;
	case O_MAX_SEG_BYTES: LIMIT_OPT(max_path_segment_bytes, 1, 1 << 20); break;
	case O_MAX_VALUE: LIMIT_OPT(max_value_bytes, 1, 1 << 30); break;
	case O_MAX_DEPTH: LIMIT_OPT(max_value_depth, 1, 1000); break;
	case O_MAX_ID: LIMIT_OPT(max_change_id_bytes, 1, 1 << 20); break;
	case O_MAX_FRAME: LIMIT_OPT(max_frame_bytes, 16, 64 << 20); break;
	case O_MAX_PAGE: LIMIT_OPT(max_page_limit, 1, 1000000); break;
	case O_MAX_SUBS: LIMIT_OPT(max_subscriptions, 1, 1000000); break;
	case O_RATE_HTTP: return eb_parse_double(arg, 0, 1e9, &o->rate_http) ? OPT_NEXT : OPT_BAD;
	case O_RATE_HTTP_BURST: return eb_parse_double(arg, 0, 1e9, &o->burst_http) ? OPT_NEXT : OPT_BAD;
	case O_RATE_WS: return eb_parse_double(arg, 0, 1e9, &o->rate_ws) ? OPT_NEXT : OPT_BAD;
	case O_RATE_WS_BURST: return eb_parse_double(arg, 0, 1e9, &o->burst_ws) ? OPT_NEXT : OPT_BAD;
	default: return OPT_BAD;
	}
	return OPT_NEXT;
}

/* A whole number in [lo, hi] into *dst. */
static int opt_u32(const char *arg, uint64_t lo, uint64_t hi, uint32_t *dst)
{
	uint64_t v;
	if (!eb_parse_u64(arg, lo, hi, &v))
		return OPT_BAD;
	*dst = (uint32_t)v;
	return OPT_NEXT;
}

/* Network, timeouts and the hostile-client bounds. */
static int opt_server(ebmock_opts *o, int c, const char *arg)
{
	uint64_t v;
	switch (c) {
	case O_HOST: o->host = arg; return OPT_NEXT;
	case O_PORT:
		if (!eb_parse_u64(arg, 0, 65535, &v))
			return OPT_BAD;
		o->port = (int)v;
		return OPT_NEXT;
	case O_PORT_FILE: o->port_file = arg; return OPT_NEXT;
	case O_MAX_CONNS: return opt_u32(arg, 0, 1000000, &o->max_conns);
	case O_AUTH_TIMEOUT:
		return opt_u32(arg, 1, 3600000, &o->cfg.auth_timeout_ms);
	case O_PING:
		return opt_u32(arg, 0, 3600, &o->cfg.ping_interval_s);
	case O_MEM_BUDGET:
		return eb_parse_u64(arg, 65536, 1ULL << 40, &o->cfg.mem_budget_bytes) ?
		       OPT_NEXT : OPT_BAD;
	case O_BODY_TIMEOUT:
		return opt_u32(arg, 100, 3600000, &o->cfg.body_timeout_ms);
	case O_WS_STALL:
		return opt_u32(arg, 100, 600000, &o->cfg.ws_stall_ms);
	case O_QUIET: o->quiet = true; return OPT_NEXT;
	case O_EVENT_LOG:
		if (!arg[0])
			return OPT_BAD;
		o->evlog_path = arg;
		return OPT_NEXT;
	case O_EVENT_LOG_MAX:
		return eb_parse_u64(arg, EBM_EVLOG_MIN_MAX, 1ULL << 40, &o->evlog_max) ?
		       OPT_NEXT : OPT_BAD;
	case O_EVENT_LOOP:
		if (strcmp(arg, "ev") != 0 && strcmp(arg, "poll") != 0)
			return OPT_BAD;
		o->evlib = strcmp(arg, "ev") == 0;
		return OPT_NEXT;
	case O_TLS_CERT: o->tls_cert = arg; return OPT_NEXT;
	case O_TLS_KEY: o->tls_key = arg; return OPT_NEXT;
	case O_DATA: o->cfg.data_path = arg; return OPT_NEXT;
	case O_BACKEND: o->backend_url = arg; return OPT_NEXT;
	default: return opt_limit(o, c, arg);
	}
}

/* Authentication. */
static int opt_auth(ebmock_opts *o, int c, const char *arg)
{
	uint64_t v;
	switch (c) {
	case O_NO_AUTH: o->cfg.no_auth = true; return OPT_NEXT;
	case O_NO_AUTH_WS:
		o->no_auth_ws_set = true;
		if (strcmp(arg, "ignore") != 0 && strcmp(arg, "answer") != 0)
			return OPT_BAD;
		o->cfg.no_auth_ws_ignore = strcmp(arg, "ignore") == 0;
		return OPT_NEXT;
	case O_NO_LIMITS: o->cfg.no_limits_endpoint = true; return OPT_NEXT;
	case O_RATE_WS_PREAUTH: o->cfg.rate_ws_preauth_addr = true; return OPT_NEXT;
	case O_JWT_SECRET:
		if (!arg[0])
			return OPT_BAD;
		o->cfg.jwt_secret = arg;
		return OPT_NEXT;
	case O_JWT_PUB: o->pem_path = arg; return OPT_NEXT;
	case O_JWT_ISS: o->cfg.jwt_issuer = arg; return OPT_NEXT;
	case O_JWT_AUD: o->cfg.jwt_audience = arg; return OPT_NEXT;
	case O_JWT_LEEWAY:
		if (!eb_parse_u64(arg, 0, 60, &v))
			return OPT_BAD;
		o->cfg.jwt_leeway_s = (unsigned)v;
		return OPT_NEXT;
	case O_ADMIN:
		if (!arg[0])
			return OPT_BAD;
		o->cfg.admin_token = arg;
		return OPT_NEXT;
	default: return opt_server(o, c, arg);
	}
}

/* Faults, defects, --help and --version; the rest by group. */
static int opt_one(ebmock_opts *o, int c, const char *arg)
{
	eb_err err;
	switch (c) {
	case O_FAULT:
		eb_err_clear(&err);
		if (ebm_fault_parse(arg, o->now_ms, &o->cfg.faults, &err) != EB_OK) {
			fprintf(stderr, "ebmock: %s\n", err.msg);
			return EB_EXIT_USAGE;
		}
		return OPT_NEXT;
	case O_DEFECT: {
		if (strcmp(arg, "list") == 0) {
			print_defects();
			return EB_EXIT_OK;
		}
		int d = ebm_defect_by_name(arg);
		if (d < 0) {
			fprintf(stderr, "ebmock: unknown defect '%s' (--defect list shows them)\n",
				arg);
			return EB_EXIT_USAGE;
		}
		o->cfg.defects |= (uint64_t)1 << d;
		return OPT_NEXT;
	}
	case O_HELP:
		usage(stdout);
		return EB_EXIT_OK;
	case 'V':
		printf("ebmock %s\n", EB_KIT_VERSION);
		return EB_EXIT_OK;
	case '?':
	case ':':
		/* getopt said what is wrong; one line, not the whole help */
		fprintf(stderr, "(see ebmock --help)\n");
		return EB_EXIT_USAGE;
	default: return opt_auth(o, c, arg);
	}
}

/* The flag's name from the table (argv[optind - 1] is the value when it
 * was given as a separate word). */
static int bad_value(int c, const char *arg)
{
	size_t i;
	for (i = 0; long_opts[i].name && long_opts[i].val != c; i++)
		;
	fprintf(stderr, "ebmock: bad value '%s' for --%s\n(see ebmock --help)\n",
		arg ? arg : "", long_opts[i].name ? long_opts[i].name : "?");
	return EB_EXIT_USAGE;
}

/* Reads the command line into o. OPT_NEXT: serve; otherwise the exit code
 * (its message printed). */
static int parse_options(int argc, char **argv, ebmock_opts *o)
{
	int c;
	memset(o, 0, sizeof *o);
	ebm_config_default(&o->cfg);
	o->host = "127.0.0.1";
	o->port = 8080;
	o->evlog_max = EBM_EVLOG_DEFAULT_MAX;
	/* poll until ev is shown to pay off: it measured slower on fan-out. */
	o->evlib = false;
	o->now_ms = ebm_mono_ms();
	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		int r = opt_one(o, c, optarg);
		if (r == OPT_BAD)
			return bad_value(c, optarg);
		if (r != OPT_NEXT)
			return r;
	}
	if (optind < argc) {
		fprintf(stderr, "ebmock: unexpected argument '%s'\n", argv[optind]);
		return EB_EXIT_USAGE;
	}
	return OPT_NEXT;
}

/* The checks that need every flag; fills in what follows from them (the
 * public key read, the rate limits' bursts). OPT_NEXT or EB_EXIT_USAGE;
 * *pem (owned by the caller) holds the key text. */
static int check_options(ebmock_opts *o, char **pem)
{
	eb_err err;
	if (!o->tls_cert != !o->tls_key) {
		fprintf(stderr, "ebmock: --tls-cert and --tls-key go together\n(see ebmock --help)\n");
		return EB_EXIT_USAGE;
	}
	/* lws would only say that it cannot create the context */
	if (o->tls_cert && (access(o->tls_cert, R_OK) != 0 || access(o->tls_key, R_OK) != 0)) {
		bool cert_bad = access(o->tls_cert, R_OK) != 0;
		fprintf(stderr, "ebmock: bad value '%s' for --%s: %s\n",
			cert_bad ? o->tls_cert : o->tls_key,
			cert_bad ? "tls-cert" : "tls-key", strerror(errno));
		return EB_EXIT_USAGE;
	}
	if (o->no_auth_ws_set && !o->cfg.no_auth) {
		fprintf(stderr, "ebmock: --no-auth-ws only applies with --no-auth\n");
		return EB_EXIT_USAGE;
	}
	if (!o->cfg.no_auth && !o->cfg.jwt_secret && !o->pem_path) {
		fprintf(stderr, "ebmock: give --jwt-secret or --jwt-public-key (or --no-auth)\n");
		return EB_EXIT_USAGE;
	}
	if (o->pem_path) {
		/* the kit's one file reader (net/eb_file.h), 1 MiB at the most */
		if (eb_file_read(o->pem_path, 1u << 20, pem, NULL, &err) != EB_OK) {
			fprintf(stderr, "ebmock: bad value '%s' for --jwt-public-key: %s\n",
				o->pem_path, err.msg);
			return EB_EXIT_USAGE;
		}
		o->cfg.jwt_public_pem = *pem;
	}
	if (o->rate_http > 0 || o->rate_ws > 0) {
		eb_limits *l = &o->cfg.limits;
		l->rate_limit_on = true;
		l->http_per_second = o->rate_http;
		l->http_burst = o->burst_http > 0 ? o->burst_http : (o->rate_http >= 1 ? o->rate_http : 1);
		l->ws_per_second = o->rate_ws;
		l->ws_burst = o->burst_ws > 0 ? o->burst_ws : (o->rate_ws >= 1 ? o->rate_ws : 1);
	}
	if (o->cfg.no_auth)
		fprintf(stderr,
			"ebmock: WARNING: --no-auth: every request is allowed without a token; "
			"never expose this server\n");
	return OPT_NEXT;
}

/* ---- set up, serve, clean up ---------------------------------------------- */

/* Everything main owns, in one place so that one cleanup frees it. The lws
 * protocol list and vhost options must outlive the context. */
typedef struct ebmock_main {
	ebmock_opts o;
	ebmock_glue glue;
	char *pem;                 /* --jwt-public-key text */
	ebm_evlog *evlog;
	int data_lock_fd;
	struct lws_context_creation_info info;
	struct lws_protocols protocols[3];
	struct lws_protocol_vhost_options pvo_default, pvo_notify;
} ebmock_main;

/* The core server with its storage (--data locked, or --backend) and its
 * event log. 0, or -1 with the message printed. */
static int open_server(ebmock_main *m)
{
	ebmock_opts *o = &m->o;
	ebmock_glue *g = &m->glue;
	struct rlimit rl;
	eb_err err;

	eb_err_clear(&err);
	if (o->cfg.data_path) {
		char lerr[512];
		m->data_lock_fd = lock_data_file(o->cfg.data_path, lerr, sizeof lerr);
		if (m->data_lock_fd < 0) {
			fprintf(stderr, "ebmock: %s\n", lerr);
			return -1;
		}
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < UINT32_MAX)
		g->fd_limit = (unsigned)rl.rlim_cur;
	if (ebm_server_new(&o->cfg, ebmock_notify_wake, g, &g->srv, &err) != EB_OK) {
		fprintf(stderr, "ebmock: %s\n", err.msg);
		return -1;
	}
	if (o->backend_url && o->cfg.data_path) {
		fprintf(stderr, "ebmock: --data and --backend exclude each other (try --help)\n");
		return -1;
	}
	if (o->backend_url && ebm_server_open_pg(g->srv, o->backend_url, main_backend_wake, g,
						 ebmock_http_wake, &err) != EB_OK) {
		fprintf(stderr, "ebmock: --backend: %s\n", err.msg);
		return -1;
	}
	if (o->evlog_path) {
		if (ebm_evlog_open(o->evlog_path, o->evlog_max, &m->evlog, &err) != EB_OK) {
			fprintf(stderr, "ebmock: %s\n", err.msg);
			return -1;
		}
		ebm_server_set_evlog(g->srv, m->evlog);   /* first line: the faults */
	}
	return 0;
}

static void install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* no lws idle timer per socket (proto_notify.c keeps the same rule);
 * the retry fields do not matter to a server */
static const lws_retry_bo_t ebmock_retry = { .secs_since_valid_ping = 0,
					     .secs_since_valid_hangup = 0 };

/* The lws protocol list and context options: HTTP and the socket on one
 * port, the socket's protocol the vhost's default. */
static void fill_lws_info(ebmock_main *m)
{
	const ebmock_opts *o = &m->o;
	struct lws_context_creation_info *info = &m->info;
	struct lws_protocols *p = m->protocols;

	memset(p, 0, sizeof m->protocols);
	p[0].name = "http";
	p[0].callback = ebmock_http_callback;
	p[0].per_session_data_size = ebmock_http_pss_size();
	p[0].rx_buffer_size = 0;
	p[1].name = "eb-notify";
	p[1].callback = ebmock_notify_callback;
	p[1].per_session_data_size = ebmock_notify_pss_size();
	/* small on purpose: lws keeps one rx buffer per socket; bigger
	 * messages arrive in pieces and are joined in proto_notify.c */
	p[1].rx_buffer_size = o->tls_cert ? 32768 : 1024;   /* TLS: see pt_serv_buf_size */
	p[1].tx_packet_size = 0;
	m->pvo_default = (struct lws_protocol_vhost_options){ NULL, NULL, "default", "1" };
	m->pvo_notify = (struct lws_protocol_vhost_options){ NULL, &m->pvo_default,
							     "eb-notify", "" };

	memset(info, 0, sizeof *info);
	info->retry_and_idle_policy = &ebmock_retry;
	info->port = o->port;
	info->iface = o->host;
	info->protocols = p;
	info->pvo = &m->pvo_notify;
	info->user = &m->glue;
	info->options = LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND |
			LWS_SERVER_OPTION_VALIDATE_UTF8;
	if (!strchr(o->host, ':'))
		info->options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	info->keepalive_timeout = 5;      /* idle keep-alive and slow headers */
	info->timeout_secs = 5;
	info->timeout_secs_ah_idle = 5;   /* slowloris: 5 s to finish the headers */
	info->max_http_header_data = 8192;
	info->fd_limit_per_thread = 0;
	info->signal_cb = on_lws_signal;
	if (o->tls_cert) {
		/* one vhost, one port: HTTP and the socket both over TLS */
		info->options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info->ssl_cert_filepath = o->tls_cert;
		info->ssl_private_key_filepath = o->tls_key;
		/* each read takes a whole TLS record (16 KiB at most; with the
		 * socket's rx buffer, see protocols[1]): lws 4.1 loops forever
		 * on a socket whose reads are paused (WS-CLOSE-4) while OpenSSL
		 * still holds part of a record (SSL_pending) */
		info->pt_serv_buf_size = 32768;
	}
}

/* The lws context on libev when asked for and available, else poll(). */
static void create_context(ebmock_main *m)
{
	ebmock_glue *g = &m->glue;
	if (g->evlib) {
		m->info.options |= LWS_SERVER_OPTION_LIBEV;
		g->ctx = lws_create_context(&m->info);
		if (!g->ctx) {
			/* e.g. the libev plugin of lws is not installed */
			fprintf(stderr, "ebmock: libev event loop unavailable, using poll()\n");
			m->info.options &= ~(uint64_t)LWS_SERVER_OPTION_LIBEV;
			g->evlib = false;
		}
	}
	if (!g->ctx)
		g->ctx = lws_create_context(&m->info);
	if (g->ctx && g->evlib) {
		/* lws 4.1 runs the protocol init (PROTOCOL_INIT, the vhost
		 * options that make eb-notify the default WebSocket protocol)
		 * from a timer; under libev timers only run after an idle pass,
		 * so a connection served in the loop's first batch was bound to
		 * "http". Done here, before the port file exists. */
		lws_state_transition_steps(lws_system_get_state_manager(g->ctx),
					   LWS_SYSTATE_OPERATIONAL);
		/* an event on lws's pipe: its idle pass arms libev's timer,
		 * which main_tick (the stop flag) depends on */
		lws_cancel_service(g->ctx);
	}
}

/* Listens and tells where: the port file, the "listening" line. 0, or -1
 * with the message printed; a port that cannot be bound ends the process
 * (exit 2) here. */
static int start_listening(ebmock_main *m)
{
	const ebmock_opts *o = &m->o;
	ebmock_glue *g = &m->glue;

	lws_set_log_level(LLL_ERR, on_lws_log);
	fill_lws_info(m);
	create_context(m);
	if (!g->ctx) {
		fprintf(stderr, "ebmock: cannot listen on %s:%d%s\n", o->host, o->port,
			o->tls_cert ? " (or the TLS certificate and key do not load or match)" : "");
		/* lws 4.1 leaks parts of a context whose listen socket failed:
		 * under LeakSanitizer that turned this exit 2 into 1. Nothing is
		 * left to flush (the store holds no unacknowledged change yet). */
		ebm_server_free(g->srv);
		ebm_evlog_free(m->evlog);
		free(m->pem);
		fflush(stderr);
		_exit(EB_EXIT_USAGE);
	}
	struct lws_vhost *vh = lws_get_vhost_by_name(g->ctx, "default");
	int bound = vh ? lws_get_vhost_listen_port(vh) : o->port;
	if (o->port_file && write_port_file(o->port_file, bound) != 0) {
		fprintf(stderr, "ebmock: cannot write port file %s: %s\n", o->port_file,
			strerror(errno));
		return -1;
	}
	fprintf(stderr, "ebmock: listening on %s://%s:%d (pid %ld, %s store)\n",
		o->tls_cert ? "https" : "http", o->host, bound, (long)getpid(),
		o->backend_url ? "postgresql" : o->cfg.data_path ? o->cfg.data_path : "memory");
	return 0;
}

/* Serves until SIGTERM/SIGINT, then closes every socket with 1001
 * (WS-CLOSE-1) and gives them a moment. */
static void serve(ebmock_glue *g)
{
	if (g->evlib) {
		/* lws_service runs libev's loop; main_tick ends it */
		lws_sul_schedule(g->ctx, 0, &g->tick, main_tick, TICK_US);
		while (!g->loop_ended)
			if (lws_service(g->ctx, 0) < 0)
				break;
		return;
	}
	while (!g_stop) {
		if (lws_service(g->ctx, 250) < 0)
			break;
		ebm_server_poll(g->srv);
	}
	begin_shutdown(g);
	while (ebm_ws_count(g->srv) > 0 && ebm_mono_ms() < g->shutdown_deadline_ms) {
		if (lws_service(g->ctx, 50) < 0)
			break;
		if (g->shutdown_waiting > 0)
			shutdown_step(g);
	}
}

/* The store is flushed and closed by ebm_server_free; every pointer may
 * be NULL. */
static void close_all(ebmock_main *m)
{
	if (m->glue.ctx)
		lws_context_destroy(m->glue.ctx);
	ebmock_notify_cleanup(&m->glue);
	ebm_server_free(m->glue.srv);
	ebm_evlog_free(m->evlog);
	free(m->pem);
	if (m->data_lock_fd >= 0)
		close(m->data_lock_fd);
}

int main(int argc, char **argv)
{
	static ebmock_main m;   /* zeroed; lws and the signal path point into it */
	int rc;

	m.data_lock_fd = -1;
	g_glue = &m.glue;
	rc = parse_options(argc, argv, &m.o);
	if (rc == OPT_NEXT)
		rc = check_options(&m.o, &m.pem);
	if (rc != OPT_NEXT)
		return rc;
	m.glue.max_conns = m.o.max_conns;
	m.glue.quiet = m.o.quiet;
	m.glue.evlib = m.o.evlib;

	rc = EB_EXIT_USAGE;
	if (open_server(&m) != 0)
		goto out;
	install_signals();
	if (start_listening(&m) != 0)
		goto out;
	serve(&m.glue);
	rc = EB_EXIT_OK;
out:
	close_all(&m);
	return rc;
}
