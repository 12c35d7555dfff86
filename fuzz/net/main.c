/*
 * ebfuzz — network fuzzing of any Early Bird server (docs/FUZZING.md).
 *
 * Sends grammar-aware mutations of valid sync, changes-feed and WebSocket
 * traffic plus raw TCP oddities, checks every answer against PROTOCOL.md
 * and probes the server's health after each batch. Findings are grouped by
 * category (kind of failure and rule), each saved as a replayable file.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eb_file.h"
#include "eb_preflight.h"
#include "eb_report.h"
#include "eb_target.h"
#include "eb_time.h"
#include "ebf.h"

#define MAIN_MAX_CATEGORIES 128
#define MAIN_DEATH_RETRIES 3
#define MAIN_TARGET_FLAGS (EB_TF_URL | EB_TF_JWT | EB_TF_NO_AUTH | EB_TF_TIMEOUT | EB_TF_TLS)

static volatile sig_atomic_t main_stop;

static void main_on_signal(int sig)
{
	(void)sig;
	main_stop = 1;
}

/* The preflight's stop (eb_target.stop): the same flag. */
static bool main_stopped(void *arg)
{
	(void)arg;
	return main_stop != 0;
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
	uint64_t shrink_ns;   /* spent shrinking so far */
	uint64_t deadline_ns; /* the run's total deadline (monotonic) */
	char incomplete[160]; /* why the run stopped before its cases, or "" */
	unsigned long next_case; /* the first case not run */
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
"Target and tokens (like ebconform; a signing key is required: --no-auth only\n"
"checks that the server wants none):\n"
"%s"
"Run:\n"
"  --seed N                random seed (default: the clock; printed); same seed,\n"
"                          same cases\n"
"  --runs N                cases to run (default 2000; with --duration: no bound\n"
"                          but the time)\n"
"  --duration SECONDS      stop after this long\n"
"  --deadline SECONDS      the whole run's deadline (default 180, or --duration\n"
"                          + 60: 180 s with default flags); cases stop early\n"
"                          enough for it, the reports then say INCOMPLETE with\n"
"                          the cases not run (exit 1); SIGINT/SIGTERM too,\n"
"                          within 1 s (every wait of a case, and of the\n"
"                          preflight, checks the signal and the deadline)\n"
"                          (an answer later than --timeout is a \"hang\" finding)\n"
"  --batch N               cases between health probes (default 50)\n"
"Output:\n"
"  --report-dir DIR        write DIR/report.json, DIR/junit.xml, DIR/report.html\n"
"                          and the finding files under DIR/findings\n"
"  --findings-dir DIR      where finding files go (default DIR/findings with\n"
"                          --report-dir, else ebfuzz-findings)\n"
"  --max-saved N           finding files kept per category (default 3, max 4)\n"
"  --shrink-runs N         reruns spent shrinking the first finding of each\n"
"                          category to a minimal reproducer (default 200;\n"
"                          0: save findings as found)\n"
"  --shrink-time SECONDS   shrinking time for the whole run (default 30)\n"
"  --json FILE             JSON report (earlybird-report/1)\n"
"  --junit FILE            JUnit XML report\n"
"  --html FILE             self-contained HTML report\n"
"  -v, --verbose           wire logs in the console summary\n"
"  --replay FILE           rerun one finding file; says whether it reproduces\n"
"  -h, --help              this text;  --version  the version\n"
"\n"
"Before fuzzing, a preflight checks that the target is an Early Bird server and\n"
"takes ebfuzz's token over HTTP and on the socket (exit 2 with a hint if not).\n"
"Findings: 5xx answers, connection resets, hangs past the timeout, server death\n"
"(failed health probe: GET /api/stores/<id>/changes?since=0 with a valid\n"
"token), and answers that break PROTOCOL.md: 2xx for invalid input, refusals of\n"
"valid input, another status or code than the first failing check of ERR-3,\n"
"error bodies without code (ERR-1), missing WWW-Authenticate/Allow/Retry-After\n"
"(ERR-4..6), wrong WebSocket close codes (WS-2, WS-AUTH-2/3, LIMIT-6) and\n"
"invalid server messages. One report case per finding category.\n"
"Exit status: 0 no findings, 1 findings (or the replayed finding reproduces),\n"
"2 usage or setup error (also: the server refuses the token, or is not an\n"
"Early Bird server; a report that cannot be written), 3 target unreachable;\n"
"an INCOMPLETE run (deadline or signal) is 1.\n"
"Bounds against a hostile server (docs/FUZZING.md#hostile-servers): every wait\n"
"ends by --timeout whatever the server sends, response bodies are capped at\n"
"64 MiB (--max-response-mib; over it is an ERROR), WebSocket messages at 1 MiB, --replay files at 64 MiB, the run by\n"
"--deadline.\n", eb_target_help(MAIN_TARGET_FLAGS));
}

/* Tokens of every auth choice, minted as the target is configured. */
static int main_mint(const ebf_ctx *x, int64_t ttl, bool write, eb_jwt_alg alg,
		     const char *key, char **out)
{
	static const char *const all[] = { "*" };
	eb_jwt_mint_opts m;
	eb_err err;

	eb_target_mint_opts(&x->o->target, "ebfuzz", ttl, &m);
	if (alg != m.alg || key) {
		m.alg = alg;
		m.key = key;
		m.key_len = key ? strlen(key) : 0;
	}
	m.read = all;
	m.n_read = 1;
	if (write) {
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
	eb_jwt_alg alg = x->o->target.secret ? EB_JWT_HS256 : EB_JWT_RS256;

	if (main_mint(x, 3600, true, alg, NULL, &x->token) ||
	    main_mint(x, -3600, true, alg, NULL, &x->token_expired) ||
	    main_mint(x, 3600, true, EB_JWT_NONE, NULL, &x->token_none) ||
	    main_mint(x, 3600, true, EB_JWT_HS256, "ebfuzz-wrong-secret", &x->token_badsig) ||
	    main_mint(x, 3600, false, alg, NULL, &x->token_readonly))
		return -1;
	return 0;
}

/* The preflight (net/eb_preflight.h): limits, the token over HTTP and on the
 * socket. 0 to run, else the exit code. */
static int main_preflight(ebf_ctx *x)
{
	eb_preflight pf;
	char store[64];

	snprintf(store, sizeof(store), "ebfuzz-health-%llx", (unsigned long long)x->run_id);
	eb_preflight_run(&x->o->target, "ebfuzz", x->token, store, &pf);
	/* a preflight a signal cut short says nothing of the server */
	if (pf.verdict != EB_PF_OK && !main_stop)
		fprintf(stderr, "%s\n", pf.message);
	x->limits = pf.limits;
	x->limits_advertised = pf.limits_offered;
	return (int)eb_preflight_exit(pf.verdict);
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

/* Shrinks a copy of c into *small within the run's shrinking budget; the
 * result goes into f->note. true when *small holds a case (the caller
 * clears it). */
static bool main_shrink(ebf_ctx *x, main_run *run, const ebf_case *c, ebf_finding *f,
			ebf_case *small)
{
	uint64_t budget = x->o->shrink_s * 1000000000ULL, t0 = eb_time_mono_ns();
	ebf_shrink_stats st;
	int r;

	if (x->o->shrink_runs == 0 || run->shrink_ns >= budget ||
	    ebf_case_copy(small, c) != 0)
		return false;
	{
		uint64_t until = t0 + (budget - run->shrink_ns);
		/* shrinking never eats the run's deadline */
		uint64_t stop = run->deadline_ns - (uint64_t)x->o->timeout_ms * 4000000ULL -
				1000000000ULL;

		if (until > stop)
			until = stop > t0 ? stop : t0;
		r = ebf_shrink(x, small, f, x->o->shrink_runs, until, &st);
	}
	run->shrink_ns += eb_time_mono_ns() - t0;
	if (!st.reproduced)
		snprintf(f->note, sizeof(f->note), "not shrunk: did not reproduce on a rerun");
	else
		snprintf(f->note, sizeof(f->note), "shrunk from %zu to %zu bytes (%u reductions, %u reruns)",
			 st.before, st.after, st.kept, st.runs);
	if (r < 0) {
		ebf_case_clear(small);
		return false;
	}
	return true;
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
		ebf_case small;
		ebf_finding fs = *f;
		bool shrunk = cat->saved == 0 && main_shrink(x, run, c, &fs, &small);

		if (shrunk)
			snprintf(cat->first.note, sizeof(cat->first.note), "%s", fs.note);
		if (ebf_file_save(x, shrunk ? &small : c, &fs, x->o->findings_dir,
				  ++run->file_index, path, sizeof(path)) == 0)
			snprintf(cat->files[cat->saved++], sizeof(cat->files[0]), "%s", path);
		else
			fprintf(stderr, "ebfuzz: cannot write a finding under %s\n",
				x->o->findings_dir);
		if (shrunk)
			ebf_case_clear(&small);
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

/* One report case per finding category, with a rerun command that works
 * when pasted (the secret read from $EB_JWT_SECRET). */
static void main_report_finding(const ebf_ctx *x, eb_report *rep, main_cat *cat)
{
	eb_case_result cr;
	const char *rules[1] = { cat->first.rule };
	char id[128], title[256], rerun[1100], actual[700];

	memset(&cr, 0, sizeof(cr));
	snprintf(id, sizeof(id), "finding/%s", cat->first.category);
	snprintf(title, sizeof(title), "%s (%lu occurrence%s)", cat->first.category,
		 cat->count, cat->count == 1 ? "" : "s");
	/* Pasted, it works: the secret comes from $EB_JWT_SECRET. */
	snprintf(rerun, sizeof(rerun), "ebfuzz ");
	if (cat->saved) {
		snprintf(rerun + strlen(rerun), sizeof(rerun) - strlen(rerun), "--replay ");
		eb_shell_quote(rerun, sizeof(rerun), cat->files[0]);
		snprintf(rerun + strlen(rerun), sizeof(rerun) - strlen(rerun), " ");
	}
	snprintf(rerun + strlen(rerun), sizeof(rerun) - strlen(rerun), "--url ");
	eb_shell_quote(rerun, sizeof(rerun), x->o->target.url_text);
	eb_target_rerun_flags(&x->o->target, rerun, sizeof(rerun));
	if (!cat->saved)
		snprintf(rerun + strlen(rerun), sizeof(rerun) - strlen(rerun),
			 " --seed %llu", (unsigned long long)x->o->seed);
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

/* Fills rep (made when the run started, so that its duration is the run's)
 * with the run, writes the reports and frees it. 0 or -1. */
static int main_report(const ebf_ctx *x, main_run *run, eb_report *rep,
		       unsigned long total, bool died)
{
	char buf[512], err[256];
	int rc = 0;

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)x->o->seed);
	eb_report_set_meta(rep, "seed", buf);
	snprintf(buf, sizeof(buf), "%lu of %lu", run->cases, total);
	eb_report_set_meta(rep, "cases run", buf);
	eb_report_set_meta(rep, "findings dir", x->o->findings_dir);
	if (x->o->target.secret)
		eb_report_set_meta(rep, "secret", EB_SECRET_NOTE);
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
	for (size_t i = 0; i < run->n_cats; i++)
		main_report_finding(x, rep, &run->cats[i]);
	if (died)
		eb_report_set_meta(rep, "stopped", "the server stopped answering");
	snprintf(buf, sizeof(buf), "%llu s", (unsigned long long)x->o->deadline_s);
	eb_report_set_meta(rep, "deadline", buf);
	if (run->incomplete[0]) {
		const char *ids[1];

		snprintf(buf, sizeof(buf), "fuzz cases %lu-%lu of seed %llu", run->next_case,
			 total - 1, (unsigned long long)x->o->seed);
		ids[0] = buf;
		eb_report_set_incomplete(rep, run->incomplete, ids, 1);
	}
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
		return EB_EXIT_USAGE;
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
		return EB_EXIT_UNREACHABLE;
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
	return r == 1 ? EB_EXIT_FAIL : EB_EXIT_OK;
}

/* With --report-dir the reports and the findings go under it unless their
 * own flags say otherwise; without, findings go to ./ebfuzz-findings. */
static void main_report_paths(ebf_opts *o)
{
	static const char *const names[4] = { "report.json", "junit.xml", "report.html",
					      "findings" };
	const char **dst[4] = { &o->json_path, &o->junit_path, &o->html_path, &o->findings_dir };

	for (int k = 0; k < 4; k++) {
		if (*dst[k] || !o->report_dir)
			continue;
		snprintf(o->report_paths[k], sizeof(o->report_paths[k]), "%s/%s", o->report_dir,
			 names[k]);
		*dst[k] = o->report_paths[k];
	}
	if (!o->findings_dir)
		o->findings_dir = "ebfuzz-findings";
}

/* Reads the command line into o (defaults first). 0 run, 1 done (help or
 * version printed), -1 usage error (message in err). */
static int main_parse(int argc, char **argv, ebf_opts *o, char *err, size_t errlen)
{
	bool help = false, version = false, runs_given;
	int verbose = 0;
	uint64_t runs = 0;
	const eb_opt tab[] = {
		{ "--seed", NULL, EB_OPT_U64, &o->seed, 0, (double)UINT64_MAX, "a non-negative integer", NULL, NULL, false },
		{ "--runs", NULL, EB_OPT_U64, &runs, 1, 100000000, "cases 1-100000000", NULL, NULL, false },
		{ "--duration", NULL, EB_OPT_U64, &o->duration_s, 1, 86400.0 * 365, "seconds", NULL, NULL, false },
		{ "--deadline", NULL, EB_OPT_U64, &o->deadline_s, 10, 86400.0 * 365, "seconds 10-31536000", NULL, NULL, false },
		{ "--batch", NULL, EB_OPT_UINT, &o->batch, 1, 100000, "cases 1-100000", NULL, NULL, false },
		{ "--findings-dir", NULL, EB_OPT_STR, &o->findings_dir, 0, 0, NULL, NULL, NULL, false },
		{ "--report-dir", NULL, EB_OPT_STR, &o->report_dir, 0, 0, NULL, NULL, NULL, false },
		{ "--max-saved", NULL, EB_OPT_UINT, &o->max_saved, 0, 4, "0-4", NULL, NULL, false },
		{ "--shrink-runs", NULL, EB_OPT_UINT, &o->shrink_runs, 0, 100000, "reruns 0-100000", NULL, NULL, false },
		{ "--shrink-time", NULL, EB_OPT_U64, &o->shrink_s, 0, 3600, "seconds 0-3600", NULL, NULL, false },
		{ "--json", NULL, EB_OPT_STR, &o->json_path, 0, 0, NULL, NULL, NULL, false },
		{ "--junit", NULL, EB_OPT_STR, &o->junit_path, 0, 0, NULL, NULL, NULL, false },
		{ "--html", NULL, EB_OPT_STR, &o->html_path, 0, 0, NULL, NULL, NULL, false },
		{ "--replay", NULL, EB_OPT_STR, &o->replay_path, 0, 0, NULL, NULL, NULL, false },
		{ "--verbose", "-v", EB_OPT_COUNT, &verbose, 0, 0, NULL, NULL, NULL, false },
		{ "--help", "-h", EB_OPT_FLAG, &help, 0, 0, NULL, NULL, NULL, false },
		{ "--version", NULL, EB_OPT_FLAG, &version, 0, 0, NULL, NULL, NULL, false },
	};

	memset(o, 0, sizeof(*o));
	eb_target_init(&o->target, MAIN_TARGET_FLAGS);
	o->batch = 50;
	o->max_saved = 3;
	o->shrink_runs = 200;
	o->shrink_s = 30;
	o->seed = (uint64_t)time(NULL);
	for (int i = 1; i < argc; i++) {
		int r = eb_target_arg(&o->target, argc, argv, &i, err, errlen);

		if (r == 0)
			r = eb_opt_parse(tab, sizeof(tab) / sizeof(tab[0]), argc, argv, &i, err, errlen);
		if (r < 0)
			return -1;
		if (r == 0) {
			snprintf(err, errlen, "unknown option '%s'", argv[i]);
			return -1;
		}
	}
	if (help)
		main_usage(stdout);
	else if (version)
		printf("ebfuzz %s\n", EB_KIT_VERSION);
	if (help || version)
		return 1;
	if (eb_target_finish(&o->target, true, err, errlen) != 0)
		return -1;
	runs_given = runs != 0;
	/* --duration alone bounds the time, not the default case count */
	o->runs = runs_given ? (unsigned long)runs : o->duration_s ? 100000000UL : 2000;
	if (!o->deadline_s)
		o->deadline_s = o->duration_s ? o->duration_s + 60 : EBF_DEFAULT_DEADLINE_S;
	o->url = o->target.url.http;
	o->timeout_ms = o->target.timeout_ms;
	main_report_paths(o);
	o->verbose = verbose > 0;
	return 0;
}

/* Health probe after a batch; on failure, every case of the batch is saved
 * under <findings>/death-<n> as a suspect. true when the server is gone. */
static bool main_batch_probe(ebf_ctx *x, main_run *run, ebf_case *batch, size_t n_batch,
			     const ebf_case *last)
{
	const ebf_opts *o = x->o;
	char why[512], dir[600], p[700];
	ebf_finding d;
	eb_wirelog *none = NULL;
	int tries = 0;

	/* a probe cut by a stop says nothing of the server */
	if (ebf_stopped(x) || ebf_probe(x, why, sizeof(why)) || ebf_stopped(x))
		return false;
	memset(&d, 0, sizeof(d));
	snprintf(d.category, sizeof(d.category), "server-death");
	snprintf(d.expected, sizeof(d.expected), "the health probe answers 200");
	snprintf(d.actual, sizeof(d.actual), "%.400s, after case %.60s", why, last->gen);
	snprintf(d.reason, sizeof(d.reason), "server-death: %s", d.actual);
	snprintf(dir, sizeof(dir), "%s/death-%lu", o->findings_dir, ++run->deaths);
	if (eb_file_mkdirs(o->findings_dir, NULL) != EB_OK)
		fprintf(stderr, "ebfuzz: cannot create %s\n", o->findings_dir);
	for (size_t k = 0; k < n_batch; k++)
		if (ebf_file_save(x, &batch[k], &d, dir, k + 1, p, sizeof(p)) != 0)
			fprintf(stderr, "ebfuzz: cannot write under %s\n", dir);
	snprintf(d.actual + strlen(d.actual), sizeof(d.actual) - strlen(d.actual),
		 "; the batch's %zu cases are in %.200s", n_batch, dir);
	main_record(x, run, last, &d, &none);
	/* retries end at the run's deadline too (the server is then taken
	 * for dead: it has not answered for a while) */
	while (tries++ < MAIN_DEATH_RETRIES && !ebf_stopped(x) &&
	       eb_time_mono_ns() + (uint64_t)x->o->timeout_ms * 1000000ULL + 1000000000ULL <
		       run->deadline_ns &&
	       !ebf_probe(x, why, sizeof(why))) {
		/* a second between retries, in slices a stop ends */
		for (int k = 0; k < 20 && !ebf_stopped(x); k++) {
			struct timespec ts = { 0, 50000000L };

			nanosleep(&ts, NULL);
		}
	}
	if (tries <= MAIN_DEATH_RETRIES || ebf_stopped(x))
		return false;
	fprintf(stderr, "\nebfuzz: the server stopped answering; stopping\n");
	return true;
}

/* Runs case c (number i) and records what it found. *res as
 * ebf_run_case's, or MAIN_CUT when a stop cut the case short (not run). */
#define MAIN_CUT (-2)
static void main_one(ebf_ctx *x, main_run *run, ebf_case *batch, size_t n_batch,
		     unsigned long i, int *res)
{
	ebf_case *c = &batch[n_batch - 1];
	eb_wirelog *wire = eb_wirelog_new(0, 0);
	uint64_t t0 = eb_time_mono_ns();
	ebf_finding f;

	*res = ebf_run_case(x, c, &f, wire);
	if (*res < 0 && ebf_stopped(x)) {
		*res = MAIN_CUT;
		eb_wirelog_free(wire);
		return;
	}
	run->per_family[main_family(c->gen)]++;
	run->cases++;
	if (x->o->verbose)
		fprintf(stderr, "case %lu %s: %s %.1f ms\n", i, c->gen,
			*res == 1 ? f.category : *res ? "harness error" : "ok",
			(double)(eb_time_mono_ns() - t0) / 1e6);
	if (*res == 1 && strcmp(f.category, "hang") == 0 && c->kind == EBF_HTTP &&
	    ebf_recheck_fresh(x, c)) {
		/* Answered on a fresh connection: the exchange before left the
		 * kept-alive connection unusable. That case is the finding. */
		const ebf_case *prev = n_batch >= 2 ? &batch[n_batch - 2] : c;

		snprintf(f.category, sizeof(f.category), "keepalive-stuck");
		snprintf(f.expected, sizeof(f.expected),
			 "the connection answers the next request (HTTP/1.1 keep-alive)");
		snprintf(f.actual, sizeof(f.actual),
			 "after %.60s the next request on the connection got no answer "
			 "within %ld ms; on a new connection it did", prev->gen, x->o->timeout_ms);
		snprintf(f.reason, sizeof(f.reason), "keepalive-stuck: %.600s", f.actual);
		main_record(x, run, prev, &f, &wire);
	} else if (*res == 1) {
		main_record(x, run, c, &f, &wire);
	} else if (*res < 0) {
		run->harness_errors++;
	}
	eb_wirelog_free(wire);
}

/* The fuzz loop: --runs cases (or --duration), a health probe per batch.
 * 0, or -1 when out of memory. *died: the server stopped answering. */
static int main_fuzz(ebf_ctx *x, main_run *run, ebf_case *batch, bool *died)
{
	const ebf_opts *o = x->o;
	size_t n_batch = 0;
	uint64_t start_ns = eb_time_mono_ns(), last_progress = 0;
	int rc = 0;

	unsigned long i;

	for (i = 0; i < o->runs && !*died; i++) {
		/* Each case has its own stream: case i is the same whatever ran before. */
		ebf_rng r = { o->seed * 0x9E3779B97F4A7C15ULL + i * 0xD1B54A32D192ED03ULL + 1 };
		int res;

		if (o->duration_s && eb_time_mono_ns() - start_ns >= o->duration_s * 1000000000ULL)
			break;
		/* every wait of a case ends at x->stop_ns (the deadline less a
		 * second for the reports) or at a signal: a case cut so is not
		 * run, and the run stops */
		if (ebf_stopped(x)) {
			snprintf(run->incomplete, sizeof(run->incomplete), "%s",
				 main_stop ? "interrupted by a signal" :
				 "the run's total deadline (--deadline) was reached");
			break;
		}
		if (ebf_gen_case(x, &r, i, &batch[n_batch]) != 0) {
			fprintf(stderr, "ebfuzz: out of memory generating case %lu\n", i);
			ebf_case_clear(&batch[n_batch]);
			rc = -1;
			break;
		}
		n_batch++;
		main_one(x, run, batch, n_batch, i, &res);
		if (res == MAIN_CUT) {
			snprintf(run->incomplete, sizeof(run->incomplete), "%s",
				 main_stop ? "interrupted by a signal" :
				 "the run's total deadline (--deadline) was reached");
			break;
		}
		if (n_batch == o->batch || res < 0 || i + 1 == o->runs) {
			*died = main_batch_probe(x, run, batch, n_batch, &batch[n_batch - 1]);
			for (size_t k = 0; k < n_batch; k++)
				ebf_case_clear(&batch[k]);
			n_batch = 0;
		}
		if (eb_time_mono_ns() - last_progress > 2000000000ULL) {
			main_progress(run, o->runs, start_ns, false);
			last_progress = eb_time_mono_ns();
		}
	}
	run->next_case = i;
	for (size_t k = 0; k < n_batch; k++)
		ebf_case_clear(&batch[k]);
	main_progress(run, o->runs, start_ns, true);
	return rc;
}

/* Sets up the client, the tokens and runs the preflight. 0, or the exit code. */
static int main_setup(ebf_ctx *x)
{
	const ebf_opts *o = x->o;
	eb_err e;
	int rc;

	/* Store and change ids carry a per-run nonce: a second run with the same
	 * seed against a server that kept its data must not collide with the
	 * first (IDEM-3 would refuse the valid pushes). The cases themselves
	 * depend on the seed only. */
	x->run_id = (o->seed * 0x9E3779B97F4A7C15ULL) ^ eb_time_now_ms() ^ ((uint64_t)getpid() << 40);
	snprintf(x->host, sizeof(x->host), "%s", o->target.url.host);
	x->port = o->target.url.port;
	if (o->report_dir && eb_file_mkdirs(o->report_dir, &e) != EB_OK) {
		fprintf(stderr, "ebfuzz: bad value '%s' for --report-dir: %s\n", o->report_dir, e.msg);
		return EB_EXIT_USAGE;
	}
	if (eb_http_global_init() != 0)
		return EB_EXIT_USAGE;
	x->http = eb_http_new(o->url, o->timeout_ms);
	eb_http_set_max_body(x->http, (size_t)o->target.max_response_mib << 20);
	if (!x->http || eb_http_set_tls(x->http, &o->target.tls_opts) != EB_OK ||
	    (!o->target.no_auth && main_tokens(x) != 0))
		return EB_EXIT_USAGE;
	rc = main_preflight(x);
	if (rc == 0 && o->target.no_auth) {
		/* the preflight told a server that wants tokens; for one that
		 * does not, the auth cases would all be false findings */
		fprintf(stderr, "ebfuzz: the server takes requests without a token, but ebfuzz "
			"fuzzes servers with auth only (its cases send good and bad tokens); "
			"nothing was run\n");
		rc = EB_EXIT_USAGE;
	}
	return rc;
}

static void main_cleanup(ebf_ctx *x, main_run *run, ebf_case *batch)
{
	free(batch);
	if (run)
		for (size_t k = 0; k < run->n_cats; k++)
			eb_wirelog_free(run->cats[k].wire);
	free(run);
	free(x->token);
	free(x->token_expired);
	free(x->token_none);
	free(x->token_badsig);
	free(x->token_readonly);
	eb_http_free(x->http);
	eb_http_global_cleanup();
}

/* A file that is no finding file is a usage error before any network
 * traffic (and is read under its cap, EBF_FILE_MAX). */
static int main_replay_check(const char *path)
{
	ebf_case pre;
	char err[512];

	if (ebf_file_load(path, &pre, err, sizeof(err)) != 0) {
		fprintf(stderr, "ebfuzz: %s\n", err);
		return -1;
	}
	ebf_case_clear(&pre);
	return 0;
}

int main(int argc, char **argv)
{
	ebf_opts o;
	ebf_ctx x;
	main_run *run = NULL;
	ebf_case *batch = NULL;
	eb_report *rep = NULL;
	char cmdline[2048], err[512];
	bool died = false;
	uint64_t t_start;
	int rc;

	memset(&x, 0, sizeof(x));
	x.o = &o;
	/* every wait of a case checks it (ebf_stopped) */
	x.stop = &main_stop;
	rc = main_parse(argc, argv, &o, err, sizeof(err));
	if (rc != 0) {
		if (rc < 0)
			fprintf(stderr, "ebfuzz: %s\n(see ebfuzz --help)\n", err);
		return rc < 0 ? EB_EXIT_USAGE : EB_EXIT_OK;
	}
	/* the run's deadline counts from here: the preflight is part of it */
	t_start = eb_time_mono_ns();
	/* Reports get uploaded: the line never holds the secret. */
	eb_cmdline_record(argc, argv, cmdline, sizeof(cmdline));
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, main_on_signal);
	signal(SIGTERM, main_on_signal);
	if (o.replay_path && main_replay_check(o.replay_path) != 0) {
		eb_target_clear(&o.target);
		return EB_EXIT_USAGE;
	}
	o.target.stop = main_stopped;
	rc = main_setup(&x);
	/* a signal during the preflight: the run below stops at once and
	 * writes its INCOMPLETE reports (no case run) */
	if (rc != 0 && !(main_stop && !o.replay_path))
		goto out;
	if (o.replay_path) {
		rc = main_replay(&x);
		goto out;
	}
	rc = EB_EXIT_USAGE;
	run = calloc(1, sizeof(*run));
	batch = calloc(o.batch, sizeof(*batch));
	if (!run || !batch)
		goto out;
	fprintf(stderr, "ebfuzz: %s, seed %llu, %lu cases%s, limits %s\n", o.url,
		(unsigned long long)o.seed, o.runs, o.duration_s ? " (time-bounded)" : "",
		x.limits_advertised ? "advertised" : "of section 8");
	run->deadline_ns = t_start + o.deadline_s * 1000000000ULL;
	/* the waits of the cases end a second before it: the reports fit */
	x.stop_ns = run->deadline_ns - 1000000000ULL;
	rep = eb_report_new("ebfuzz", EB_KIT_VERSION, o.url, cmdline);
	if (!rep || main_fuzz(&x, run, batch, &died) != 0) {
		eb_report_free(rep);
		goto out;
	}
	if (run->harness_errors)
		fprintf(stderr, "ebfuzz: %lu cases could not be run (network trouble)\n",
			run->harness_errors);
	if (main_report(&x, run, rep, o.runs, died) != 0)
		goto out;
	printf("ebfuzz: %lu cases, %lu findings in %zu categories%s%s\n", run->cases,
	       run->findings, run->n_cats, run->n_cats ? "; files under " : "",
	       run->n_cats ? o.findings_dir : "");
	rc = run->findings || run->incomplete[0] ? EB_EXIT_FAIL : EB_EXIT_OK;
	if (run->incomplete[0])
		fprintf(stderr, "ebfuzz: %s; the reports are marked INCOMPLETE\n", run->incomplete);
out:
	main_cleanup(&x, run, batch);
	eb_target_clear(&o.target);
	return rc;
}
