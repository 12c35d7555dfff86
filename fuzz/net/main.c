/*
 * ebfuzz — network fuzzing of any Early Bird server (docs/FUZZING.md).
 *
 * Sends grammar-aware mutations of valid sync, changes-feed and WebSocket
 * traffic plus raw TCP oddities, checks every answer against PROTOCOL.md
 * and probes the server's health after each batch. Findings are grouped by
 * category (kind of failure and rule), each saved as a replayable file.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eb_report.h"
#include "eb_time.h"
#include "ebf.h"

#define MAIN_MAX_CATEGORIES 128
#define MAIN_DEATH_RETRIES 3

static volatile sig_atomic_t main_stop;

static void main_on_signal(int sig)
{
	(void)sig;
	main_stop = 1;
}

typedef struct main_cat {
	ebf_finding first;
	unsigned long count;
	unsigned saved;
	char files[4][512];
	eb_wirelog *wire;   /* of the first occurrence */
} main_cat;

typedef struct main_run {
	main_cat cats[MAIN_MAX_CATEGORIES];
	size_t n_cats;
	unsigned long findings, harness_errors, cases, file_index, deaths;
	unsigned long per_family[8];
} main_run;

static const char *const main_families[] = { "sync", "auth", "route", "feed", "tcp",
	"ws", "big", "other" };

static int main_family(const char *gen)
{
	for (int i = 0; i < 7; i++) {
		size_t n = strlen(main_families[i]);

		if (strncmp(gen, main_families[i], n) == 0 && gen[n] == '/')
			return i;
	}
	return 7;
}

static void main_usage(FILE *out)
{
	fprintf(out,
"usage: ebfuzz --url URL [token flags] [options]\n"
"       ebfuzz --replay FILE --url URL [token flags]\n"
"Network fuzzing of an Early Bird sync server: mutated sync, changes-feed and\n"
"WebSocket traffic and raw TCP oddities, each answer checked against\n"
"docs/PROTOCOL.md (rule ids cited), the server's health probed after each batch.\n"
"\n"
"Target:\n"
"  --url URL               server base URL, e.g. http://127.0.0.1:8080 (required)\n"
"Tokens (like ebconform; one of the first two is required):\n"
"  --jwt-secret S          HS256 secret the server verifies with\n"
"  --jwt-private-key FILE  RS256 private key PEM (server holds the public key)\n"
"  --jwt-issuer S          iss to put in tokens\n"
"  --jwt-audience S        aud to put in tokens\n"
"Run:\n"
"  --seed N                random seed (default: the clock; printed); same seed,\n"
"                          same cases\n"
"  --runs N                cases to run (default 2000)\n"
"  --duration SECONDS      stop after this long (default: no limit but --runs)\n"
"  --timeout-ms N          per request / per WebSocket wait (default 5000); an\n"
"                          answer later than this is a \"hang\" finding\n"
"  --batch N               cases between health probes (default 50)\n"
"Output:\n"
"  --findings-dir DIR      where finding files go (default ebfuzz-findings)\n"
"  --max-saved N           finding files kept per category (default 3, max 4)\n"
"  --json FILE             JSON report (earlybird-report/1)\n"
"  --junit FILE            JUnit XML report\n"
"  --html FILE             self-contained HTML report\n"
"  -v, --verbose           wire logs in the console summary\n"
"  --replay FILE           rerun one finding file; says whether it reproduces\n"
"  -h, --help              this text\n"
"\n"
"Findings: 5xx answers, connection resets, hangs past the timeout, server death\n"
"(failed health probe: GET /api/stores/<id>/changes?since=0 with a valid\n"
"token), and answers that break PROTOCOL.md: 2xx for invalid input, refusals of\n"
"valid input, another status or code than the first failing check of ERR-3,\n"
"error bodies without code (ERR-1), missing WWW-Authenticate/Allow/Retry-After\n"
"(ERR-4..6), wrong WebSocket close codes (WS-2, WS-AUTH-2/3, LIMIT-6) and\n"
"invalid server messages. One report case per finding category.\n"
"Exit status: 0 no findings, 1 findings (or the replayed finding reproduces),\n"
"2 usage or setup error (also: the server refuses the token), 3 target\n"
"unreachable.\n");
}

static char *main_read_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!fp)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 && fseek(fp, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) != NULL) {
		if (fread(buf, 1, (size_t)n, fp) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
		}
	}
	fclose(fp);
	return buf;
}

static int main_mint(const ebf_opts *o, const char *pem, int64_t exp_off, bool readonly,
		     eb_jwt_alg alg, const char *key_override, char **out)
{
	static const char *const all[] = { "*" };
	eb_jwt_mint_opts m;
	int64_t now = (int64_t)(eb_time_now_ms() / 1000);
	eb_err err;

	memset(&m, 0, sizeof(m));
	m.alg = alg;
	if (key_override) {
		m.key = key_override;
		m.key_len = strlen(key_override);
	} else if (alg == EB_JWT_RS256) {
		m.key = pem;
		m.key_len = strlen(pem);
	} else {
		m.key = o->jwt_secret;
		m.key_len = o->jwt_secret ? strlen(o->jwt_secret) : 0;
	}
	m.sub = "ebfuzz";
	m.has_exp = true;
	m.exp = now + exp_off;
	m.has_iat = true;
	m.iat = now;
	m.iss = o->jwt_issuer;
	m.aud = o->jwt_audience;
	m.read = all;
	m.n_read = 1;
	if (!readonly) {
		m.write = all;
		m.n_write = 1;
	}
	if (eb_jwt_mint(&m, out, &err) != EB_OK) {
		fprintf(stderr, "ebfuzz: cannot mint a token: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static int main_tokens(ebf_ctx *x)
{
	const ebf_opts *o = x->o;
	char *pem = NULL;
	eb_jwt_alg alg = EB_JWT_HS256;
	int rc = -1;

	if (o->jwt_private_key) {
		pem = main_read_file(o->jwt_private_key);
		if (!pem) {
			fprintf(stderr, "ebfuzz: cannot read %s: %s\n", o->jwt_private_key,
				strerror(errno));
			return -1;
		}
		alg = EB_JWT_RS256;
	}
	if (main_mint(o, pem, 3600, false, alg, NULL, &x->token) ||
	    main_mint(o, pem, -3600, false, alg, NULL, &x->token_expired) ||
	    main_mint(o, pem, 3600, false, EB_JWT_NONE, NULL, &x->token_none) ||
	    main_mint(o, pem, 3600, false, EB_JWT_HS256, "ebfuzz-wrong-secret", &x->token_badsig) ||
	    main_mint(o, pem, 3600, true, alg, NULL, &x->token_readonly))
		goto out;
	rc = 0;
out:
	free(pem);
	return rc;
}

/* Host and port of "http://host:port" for raw TCP. */
static int main_parse_url(ebf_ctx *x, const char *url)
{
	const char *p = url, *colon, *slash;
	size_t hl;

	if (strncmp(p, "http://", 7) == 0)
		p += 7;
	else if (strncmp(p, "ws://", 5) == 0)
		p += 5;
	else
		return -1;
	slash = strchr(p, '/');
	if (*p == '[') {
		const char *rb = strchr(p, ']');

		if (!rb)
			return -1;
		hl = (size_t)(rb - p - 1);
		if (hl >= sizeof(x->host))
			return -1;
		memcpy(x->host, p + 1, hl);
		x->host[hl] = '\0';
		colon = rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = strchr(p, ':');
		if (slash && colon && colon > slash)
			colon = NULL;
		hl = colon ? (size_t)(colon - p) : slash ? (size_t)(slash - p) : strlen(p);
		if (hl == 0 || hl >= sizeof(x->host))
			return -1;
		memcpy(x->host, p, hl);
		x->host[hl] = '\0';
	}
	x->port = colon ? (int)strtol(colon + 1, NULL, 10) : 80;
	return x->port > 0 && x->port < 65536 ? 0 : -1;
}

/* GET /api/limits (LIMIT-10); 0, 3 when unreachable. */
static int main_limits(ebf_ctx *x)
{
	eb_http_resp resp;
	eb_rc rc;

	eb_limits_default(&x->limits);
	rc = eb_http_request(x->http, "GET", "/api/limits", NULL, NULL, NULL, 0, NULL, 0, &resp);
	if (rc != EB_OK) {
		fprintf(stderr, "ebfuzz: %s is unreachable: %s\n", x->o->url, resp.error);
		eb_http_resp_clear(&resp);
		return 3;
	}
	if (resp.status == 200 &&
	    eb_limits_parse(resp.body, resp.body_len, &x->limits, NULL) == EB_OK)
		x->limits_advertised = true;
	else
		eb_limits_default(&x->limits);
	eb_http_resp_clear(&resp);
	return 0;
}

/* A run whose token the server refuses would only report 401s: say so and
 * stop (exit 2). 0, 2 or 3. */
static int main_token_accepted(ebf_ctx *x)
{
	char path[160];
	eb_http_resp resp;
	eb_rc rc;
	int ret = 0;

	snprintf(path, sizeof(path), "/api/stores/ebfuzz-health-%llx/changes?since=0",
		 (unsigned long long)x->run_id);
	rc = eb_http_request(x->http, "GET", path, x->token, NULL, NULL, 0, NULL, 0, &resp);
	if (rc != EB_OK) {
		fprintf(stderr, "ebfuzz: %s is unreachable: %s\n", x->o->url, resp.error);
		ret = 3;
	} else if (resp.status == 401 || resp.status == 403) {
		fprintf(stderr, "ebfuzz: the server refuses ebfuzz's token (%ld %.*s); check "
			"--jwt-secret/--jwt-private-key, --jwt-issuer and --jwt-audience\n",
			resp.status, (int)(resp.body_len > 200 ? 200 : resp.body_len),
			resp.body ? resp.body : "");
		ret = 2;
	}
	eb_http_resp_clear(&resp);
	return ret;
}

static main_cat *main_category(main_run *run, const ebf_finding *f)
{
	for (size_t i = 0; i < run->n_cats; i++)
		if (strcmp(run->cats[i].first.category, f->category) == 0)
			return &run->cats[i];
	if (run->n_cats == MAIN_MAX_CATEGORIES)
		return NULL;
	memset(&run->cats[run->n_cats], 0, sizeof(run->cats[0]));
	run->cats[run->n_cats].first = *f;
	return &run->cats[run->n_cats++];
}

static void main_record(ebf_ctx *x, main_run *run, const ebf_case *c, const ebf_finding *f,
			eb_wirelog **wire)
{
	main_cat *cat = main_category(run, f);

	run->findings++;
	if (!cat)
		return;
	cat->count++;
	if (cat->saved < x->o->max_saved) {
		char path[512];

		if (ebf_file_save(x, c, f, x->o->findings_dir, ++run->file_index, path,
				  sizeof(path)) == 0)
			snprintf(cat->files[cat->saved++], sizeof(cat->files[0]), "%s", path);
		else
			fprintf(stderr, "ebfuzz: cannot write a finding under %s\n",
				x->o->findings_dir);
	}
	if (!cat->wire) {
		cat->wire = *wire;
		*wire = NULL;
	}
	if (cat->count == 1)
		fprintf(stderr, "\rebfuzz: finding %s (case %s): %s\n", f->category, c->gen,
			f->actual);
}

static void main_progress(const main_run *run, unsigned long total, uint64_t start_ns,
			  bool final)
{
	double s = (double)(eb_time_mono_ns() - start_ns) / 1e9;

	fprintf(stderr, "%sebfuzz: %lu/%lu cases, %lu findings in %zu categories, %.0f cases/s%s",
		isatty(2) ? "\r" : "", run->cases, total, run->findings, run->n_cats,
		s > 0 ? (double)run->cases / s : 0.0, final || !isatty(2) ? "\n" : "");
	fflush(stderr);
}

static int main_report(const ebf_ctx *x, main_run *run, const char *cmdline,
		       unsigned long total, bool died)
{
	eb_report *rep = eb_report_new("ebfuzz", EBF_VERSION, x->o->url, cmdline);
	char buf[512], err[256];
	int rc = 0;

	if (!rep)
		return -1;
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)x->o->seed);
	eb_report_set_meta(rep, "seed", buf);
	snprintf(buf, sizeof(buf), "%lu of %lu", run->cases, total);
	eb_report_set_meta(rep, "cases run", buf);
	eb_report_set_meta(rep, "findings dir", x->o->findings_dir);
	eb_report_set_meta(rep, "limits", x->limits_advertised ? "advertised (GET /api/limits)"
							       : "defaults of section 8");
	for (int fam = 0; fam < 8; fam++) {
		eb_case_result cr;
		char id[64], actual[128];

		if (!run->per_family[fam])
			continue;
		memset(&cr, 0, sizeof(cr));
		snprintf(id, sizeof(id), "fuzz/%s", main_families[fam]);
		snprintf(actual, sizeof(actual), "%lu cases sent", run->per_family[fam]);
		cr.id = id;
		cr.title = "generated cases sent (findings are reported separately)";
		cr.category = "fuzz";
		cr.level = "MUST";
		cr.outcome = EB_OUT_PASS;
		cr.actual = actual;
		eb_report_add(rep, &cr);
	}
	for (size_t i = 0; i < run->n_cats; i++) {
		main_cat *cat = &run->cats[i];
		eb_case_result cr;
		const char *rules[1] = { cat->first.rule };
		char id[128], title[256], rerun[1100], actual[700];

		memset(&cr, 0, sizeof(cr));
		snprintf(id, sizeof(id), "finding/%s", cat->first.category);
		snprintf(title, sizeof(title), "%s (%lu occurrence%s)", cat->first.category,
			 cat->count, cat->count == 1 ? "" : "s");
		if (cat->saved)
			snprintf(rerun, sizeof(rerun), "ebfuzz --replay %s --url %s%s", cat->files[0],
				 x->o->url, x->o->jwt_secret ? " --jwt-secret ..." :
				 " --jwt-private-key ...");
		else
			snprintf(rerun, sizeof(rerun), "ebfuzz --url %s --seed %llu", x->o->url,
				 (unsigned long long)x->o->seed);
		snprintf(actual, sizeof(actual), "%s", cat->first.actual);
		cr.id = id;
		cr.title = title;
		cr.category = "findings";
		cr.level = "MUST";
		cr.rules = cat->first.rule[0] ? rules : NULL;
		cr.n_rules = cat->first.rule[0] ? 1 : 0;
		cr.outcome = EB_OUT_FAIL;
		cr.failed_rule = cat->first.rule[0] ? cat->first.rule : NULL;
		cr.reason = cat->first.reason;
		cr.expected = cat->first.expected;
		cr.actual = actual;
		cr.rerun = rerun;
		cr.wire = cat->wire;
		cat->wire = NULL;
		eb_report_add(rep, &cr);
	}
	if (died)
		eb_report_set_meta(rep, "stopped", "the server stopped answering");
	eb_report_finish(rep);
	eb_report_console_summary(rep, stdout, x->o->verbose);
	if (x->o->json_path && eb_report_write_json(rep, x->o->json_path, err, sizeof(err))) {
		fprintf(stderr, "ebfuzz: %s\n", err);
		rc = -1;
	}
	if (x->o->junit_path && eb_report_write_junit(rep, x->o->junit_path, err, sizeof(err))) {
		fprintf(stderr, "ebfuzz: %s\n", err);
		rc = -1;
	}
	if (x->o->html_path && eb_report_write_html(rep, x->o->html_path, err, sizeof(err))) {
		fprintf(stderr, "ebfuzz: %s\n", err);
		rc = -1;
	}
	eb_report_free(rep);
	return rc;
}

static int main_replay(ebf_ctx *x)
{
	ebf_case c;
	ebf_finding f;
	char why[512];
	int r;

	if (ebf_file_load(x->o->replay_path, &c, why, sizeof(why)) != 0) {
		fprintf(stderr, "ebfuzz: %s\n", why);
		return 2;
	}
	r = ebf_run_case(x, &c, &f, NULL);
	if (r == 0 && c.kind == EBF_HTTP && !ebf_probe(x, why, sizeof(why))) {
		/* A follow-up on the same kept-alive connection must be answered. */
		bool dead = ebf_http_reset(x) != 0 || !ebf_probe(x, why, sizeof(why));

		snprintf(f.category, sizeof(f.category), dead ? "server-death" : "keepalive-stuck");
		snprintf(f.rule, sizeof(f.rule), "%s", "");
		snprintf(f.actual, sizeof(f.actual), "%s: %.400s",
			 dead ? "the health probe failed" : "the next request on the connection",
			 why);
		r = 1;
	}
	if (r < 0) {
		fprintf(stderr, "ebfuzz: could not run the case: %s\n", f.reason);
		ebf_case_clear(&c);
		return 3;
	}
	if (r == 0 && !ebf_probe(x, why, sizeof(why))) {
		snprintf(f.category, sizeof(f.category), "server-death");
		snprintf(f.actual, sizeof(f.actual), "%s", why);
		r = 1;
	}
	if (r == 1)
		printf("reproduces: %s%s%s: %s\n", f.category, f.rule[0] ? " citing " : "",
		       f.rule, f.actual);
	else
		printf("does not reproduce: %s answered as PROTOCOL.md requires\n", c.gen);
	ebf_case_clear(&c);
	return r == 1 ? 1 : 0;
}

static bool main_num(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end = NULL;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || !end || *end || end == s || s[0] == '-' || v > max)
		return false;
	*out = v;
	return true;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "jwt-secret", required_argument, NULL, 's' },
		{ "jwt-private-key", required_argument, NULL, 'k' },
		{ "jwt-issuer", required_argument, NULL, 'i' },
		{ "jwt-audience", required_argument, NULL, 'a' },
		{ "seed", required_argument, NULL, 'S' },
		{ "runs", required_argument, NULL, 'r' },
		{ "duration", required_argument, NULL, 'd' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "batch", required_argument, NULL, 'b' },
		{ "findings-dir", required_argument, NULL, 'f' },
		{ "max-saved", required_argument, NULL, 'm' },
		{ "json", required_argument, NULL, 'J' },
		{ "junit", required_argument, NULL, 'U' },
		{ "html", required_argument, NULL, 'H' },
		{ "replay", required_argument, NULL, 'R' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	ebf_opts o;
	ebf_ctx x;
	main_run *run = NULL;
	ebf_case *batch = NULL;
	size_t n_batch = 0;
	unsigned long long v;
	char cmdline[2048] = "", why[512];
	uint64_t start_ns, last_progress = 0;
	bool died = false;
	int opt, rc = 2;
	size_t cl = 0;

	memset(&o, 0, sizeof(o));
	o.runs = 2000;
	o.timeout_ms = 5000;
	o.batch = 50;
	o.findings_dir = "ebfuzz-findings";
	o.max_saved = 3;
	o.seed = (uint64_t)time(NULL);
	for (int i = 0; i < argc && cl + 2 < sizeof(cmdline); i++)
		cl += (size_t)snprintf(cmdline + cl, sizeof(cmdline) - cl, "%s%s", i ? " " : "",
				       argv[i]);
	while ((opt = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'u': o.url = optarg; break;
		case 's': o.jwt_secret = optarg; break;
		case 'k': o.jwt_private_key = optarg; break;
		case 'i': o.jwt_issuer = optarg; break;
		case 'a': o.jwt_audience = optarg; break;
		case 'S':
			if (!main_num(optarg, UINT64_MAX, &v))
				goto usage;
			o.seed = v;
			break;
		case 'r':
			if (!main_num(optarg, 100000000ULL, &v) || v == 0)
				goto usage;
			o.runs = (unsigned long)v;
			break;
		case 'd':
			if (!main_num(optarg, 86400ULL * 365, &v))
				goto usage;
			o.duration_s = (unsigned long)v;
			break;
		case 't':
			if (!main_num(optarg, 600000, &v) || v < 10)
				goto usage;
			o.timeout_ms = (long)v;
			break;
		case 'b':
			if (!main_num(optarg, 100000, &v) || v == 0)
				goto usage;
			o.batch = (unsigned)v;
			break;
		case 'f': o.findings_dir = optarg; break;
		case 'm':
			if (!main_num(optarg, 4, &v))
				goto usage;
			o.max_saved = (unsigned)v;
			break;
		case 'J': o.json_path = optarg; break;
		case 'U': o.junit_path = optarg; break;
		case 'H': o.html_path = optarg; break;
		case 'R': o.replay_path = optarg; break;
		case 'v': o.verbose = true; break;
		case 'h': main_usage(stdout); return 0;
		default: goto usage;
		}
	}
	if (optind != argc || !o.url || (!o.jwt_secret && !o.jwt_private_key) ||
	    (o.jwt_secret && o.jwt_private_key))
		goto usage;

	memset(&x, 0, sizeof(x));
	x.o = &o;
	/* Store and change ids carry a per-run nonce: a second run with the same
	 * seed against a server that kept its data must not collide with the
	 * first (IDEM-3 would refuse the valid pushes). The cases themselves
	 * depend on the seed only. */
	x.run_id = (o.seed * 0x9E3779B97F4A7C15ULL) ^ eb_time_now_ms() ^ ((uint64_t)getpid() << 40);
	if (main_parse_url(&x, o.url) != 0) {
		fprintf(stderr, "ebfuzz: --url must be http://host:port\n");
		return 2;
	}
	if (eb_http_global_init() != 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, main_on_signal);
	signal(SIGTERM, main_on_signal);
	x.http = eb_http_new(o.url, o.timeout_ms);
	if (!x.http || main_tokens(&x) != 0)
		goto out;
	rc = main_limits(&x);
	if (rc != 0)
		goto out;
	rc = main_token_accepted(&x);
	if (rc != 0)
		goto out;
	if (o.replay_path) {
		rc = main_replay(&x);
		goto out;
	}
	rc = 2;
	run = calloc(1, sizeof(*run));
	batch = calloc(o.batch, sizeof(*batch));
	if (!run || !batch)
		goto out;
	fprintf(stderr, "ebfuzz: %s, seed %llu, %lu cases%s, limits %s\n", o.url,
		(unsigned long long)o.seed, o.runs, o.duration_s ? " (time-bounded)" : "",
		x.limits_advertised ? "advertised" : "of section 8");
	start_ns = eb_time_mono_ns();
	for (unsigned long i = 0; i < o.runs && !main_stop; i++) {
		/* Each case has its own stream: case i is the same whatever ran before. */
		ebf_rng r = { o.seed * 0x9E3779B97F4A7C15ULL + i * 0xD1B54A32D192ED03ULL + 1 };
		ebf_case *c = &batch[n_batch];
		ebf_finding f;
		eb_wirelog *wire;
		int res;

		if (o.duration_s && eb_time_mono_ns() - start_ns >= o.duration_s * 1000000000ULL)
			break;
		if (ebf_gen_case(&x, &r, i, c) != 0) {
			fprintf(stderr, "ebfuzz: out of memory generating case %lu\n", i);
			ebf_case_clear(c);
			goto out;
		}
		n_batch++;
		run->per_family[main_family(c->gen)]++;
		wire = eb_wirelog_new(0, 0);
		uint64_t t0 = eb_time_mono_ns();

		res = ebf_run_case(&x, c, &f, wire);
		run->cases++;
		if (o.verbose)
			fprintf(stderr, "case %lu %s: %s %.1f ms\n", i, c->gen,
				res == 1 ? f.category : res ? "harness error" : "ok",
				(double)(eb_time_mono_ns() - t0) / 1e6);
		if (res == 1 && strcmp(f.category, "hang") == 0 && c->kind == EBF_HTTP &&
		    ebf_recheck_fresh(&x, c)) {
			/* Answered on a fresh connection: the exchange before left the
			 * kept-alive connection unusable. That case is the finding. */
			const ebf_case *prev = n_batch >= 2 ? &batch[n_batch - 2] : c;

			snprintf(f.category, sizeof(f.category), "keepalive-stuck");
			snprintf(f.expected, sizeof(f.expected),
				 "the connection answers the next request (HTTP/1.1 keep-alive)");
			snprintf(f.actual, sizeof(f.actual),
				 "after %.60s the next request on the connection got no answer "
				 "within %ld ms; on a new connection it did", prev->gen, o.timeout_ms);
			snprintf(f.reason, sizeof(f.reason), "keepalive-stuck: %.600s", f.actual);
			main_record(&x, run, prev, &f, &wire);
		} else if (res == 1) {
			main_record(&x, run, c, &f, &wire);
		}
		else if (res < 0)
			run->harness_errors++;
		eb_wirelog_free(wire);
		if (n_batch == o.batch || res < 0 || i + 1 == o.runs) {
			if (!ebf_probe(&x, why, sizeof(why))) {
				int tries = 0;
				ebf_finding d;
				eb_wirelog *none = NULL;

				memset(&d, 0, sizeof(d));
				snprintf(d.category, sizeof(d.category), "server-death");
				snprintf(d.expected, sizeof(d.expected), "the health probe answers 200");
				snprintf(d.actual, sizeof(d.actual), "%.400s, after case %.60s", why, c->gen);
				snprintf(d.reason, sizeof(d.reason), "server-death: %s", d.actual);
				/* Every case of the batch is a suspect: save them all in a
				 * folder of their own; replay them one by one to find it. */
				char dir[600], p[700];
				unsigned long deaths = ++run->deaths;

				snprintf(dir, sizeof(dir), "%s/death-%lu", o.findings_dir, deaths);
				if (mkdir(o.findings_dir, 0777) != 0 && errno != EEXIST)
					fprintf(stderr, "ebfuzz: cannot create %s\n", o.findings_dir);
				for (size_t k = 0; k < n_batch; k++)
					if (ebf_file_save(&x, &batch[k], &d, dir, k + 1, p, sizeof(p)) != 0)
						fprintf(stderr, "ebfuzz: cannot write under %s\n", dir);
				snprintf(d.actual + strlen(d.actual), sizeof(d.actual) - strlen(d.actual),
					 "; the batch's %zu cases are in %.200s", n_batch, dir);
				main_record(&x, run, c, &d, &none);
				while (tries++ < MAIN_DEATH_RETRIES &&
				       !ebf_probe(&x, why, sizeof(why))) {
					struct timespec ts = { 1, 0 };

					nanosleep(&ts, NULL);
				}
				if (tries > MAIN_DEATH_RETRIES) {
					fprintf(stderr, "\nebfuzz: the server stopped answering; stopping\n");
					died = true;
				}
			}
			for (size_t k = 0; k < n_batch; k++)
				ebf_case_clear(&batch[k]);
			n_batch = 0;
			if (died)
				break;
		}
		if (eb_time_mono_ns() - last_progress > 2000000000ULL) {
			main_progress(run, o.runs, start_ns, false);
			last_progress = eb_time_mono_ns();
		}
	}
	main_progress(run, o.runs, start_ns, true);
	if (run->harness_errors)
		fprintf(stderr, "ebfuzz: %lu cases could not be run (network trouble)\n",
			run->harness_errors);
	if (main_report(&x, run, cmdline, o.runs, died) != 0)
		goto out;
	printf("ebfuzz: %lu cases, %lu findings in %zu categories%s%s\n", run->cases,
	       run->findings, run->n_cats, run->n_cats ? "; files under " : "",
	       run->n_cats ? o.findings_dir : "");
	rc = run->findings ? 1 : 0;
out:
	if (batch) {
		for (size_t k = 0; k < n_batch; k++)
			ebf_case_clear(&batch[k]);
		free(batch);
	}
	if (run)
		for (size_t k = 0; k < run->n_cats; k++)
			eb_wirelog_free(run->cats[k].wire);
	free(run);
	free(x.token);
	free(x.token_expired);
	free(x.token_none);
	free(x.token_badsig);
	free(x.token_readonly);
	eb_http_free(x.http);
	eb_http_global_cleanup();
	return rc;
usage:
	main_usage(stderr);
	return 2;
}
