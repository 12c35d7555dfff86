/*
 * ebconform — the Early Bird server conformance suite.
 *
 *   ebconform --url http://127.0.0.1:8080 --jwt-secret S [--report-dir DIR]
 *
 * Exit codes: 0 every required case passed, 1 a case failed (or errored),
 * 2 usage or setup error, 3 server unreachable.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eb_file.h"
#include "eb_time.h"
#include "eb_http.h"
#include "eb_preflight.h"
#include "eb_rules.h"
#include "client/ebcc.h"
#include "ebc.h"

static ebc_stop_flag main_stop;
/* client mode: the suite is done (the deadline thread then ends) */
static atomic_int main_client_done;

static void main_on_signal(int sig)
{
	(void)sig;
	main_stop = 1;
}

static void main_usage(FILE *f)
{
	fputs(
"usage: ebconform --url http://HOST:PORT [token flags] [options]\n"
"       ebconform --driver CMD [--clock-scale F] [options]   (client SDK)\n"
"       ebconform report IN.json... [--report-dir DIR] [--json F] [--junit F]\n"
"                        [--html F]   (reports again from saved JSON, merged)\n"
"\n"
"Runs the Early Bird server conformance suite against a running server and\n"
"prints a verdict; every case cites the rule ids of docs/PROTOCOL.md.\n"
"\n"
"Target and tokens (the suite mints its own tokens, one subject per case):\n"
"  --url URL              server under test: http://HOST:PORT[/BASE/PATH] (a base\n"
"                         path prefixes every request; IPv6 as [::1])\n"
"  --jwt-secret S         HS256 secret the server verifies tokens with; better\n"
"                         from $EB_JWT_SECRET (or the file $EB_JWT_SECRET_FILE;\n"
"                         $EBCONFORM_JWT_SECRET still works). Reports and rerun\n"
"                         commands never show it: they say \"$EB_JWT_SECRET\"\n"
"  --jwt-private-key PEM  RS256 private key (file) whose public half the server\n"
"                         has; also enables the algorithm-confusion case\n"
"  --jwt-issuer ISS       the server's configured issuer (enables AUTH-6 cases)\n"
"  --jwt-audience AUD     the server's configured audience (enables AUTH-6 cases)\n"
"  --jwt-leeway S         the server's clock leeway in seconds (default 5)\n"
"  --no-auth              the server runs without auth: auth cases SKIP\n"
"                         (alias --no-auth-server)\n"
"  --cacert FILE          https:// URLs: trust the CA certificates of this PEM\n"
"                         file instead of the system's (wss:// follows the URL)\n"
"  --insecure             https:// URLs: check neither the server's certificate\n"
"                         nor its name (test servers only)\n"
"Before the cases, a preflight checks that the server speaks the protocol and\n"
"takes the suite's token over HTTP and on the socket: a wrong flag is exit 2\n"
"with a hint naming it, not a list of failures.\n"
"\n"
"Selection:\n"
"  --cases GLOB           run only cases whose id matches (repeatable, fnmatch)\n"
"  --exclude GLOB         skip cases whose id matches (repeatable)\n"
"  --list                 print id, level, rule ids and title of each case; run nothing\n"
"\n"
"Verdict and timing:\n"
"  --strict               SHOULD cases count as failures (else NON-STRICT)\n"
"  --timeout MS           timeout of each network operation (default 5000)\n"
"  --max-response-mib N   cap on one HTTP response body (default 64, 1-4096);\n"
"                         no rule bounds a response's size: over it is an ERROR\n"
"  --time-scale F         stretch the suite's waits by F, 1-100 (slow servers,\n"
"                         sanitizers); the spec's deadlines are never shortened\n"
"  --jobs N               cases run in parallel on N threads (default 4); slow\n"
"                         cases (long waits) run on their own threads besides\n"
"  --seed N               fixes the run prefix of store ids and subjects\n"
"  --deadline S           the whole run's deadline in seconds (default 180 x\n"
"                         --time-scale: 180 s with default flags); when it is\n"
"                         reached, or on SIGINT/SIGTERM, the run stops within\n"
"                         1 s and the reports say INCOMPLETE, listing the cases\n"
"                         not run (exit 1)\n"
"\n"
"Client SDK mode (docs/CLIENT-DRIVER.md; instead of --url):\n"
"  --driver CMD           run the client suite: CMD (run with /bin/sh -c) is\n"
"                         your SDK's driver, started once per simulated client;\n"
"                         each case gets a fresh ebmock. --list lists client cases\n"
"  --clock-scale F        the SDK runs its protocol timers F times real time\n"
"                         (0.001-1, default 0.01: a 30 s poll is 300 ms)\n"
"  --ebmock PATH          the ebmock to stage cases with (default: beside ebconform)\n"
"  (--jobs defaults to 12 in client mode: the cases mostly wait)\n"
"\n"
"Reports:\n"
"  --report-dir DIR       write DIR/report.json, DIR/junit.xml, DIR/report.html\n"
"  --json F, --junit F, --html F   write one report to F ('-' for stdout)\n"
"  -v, --verbose          print the wire log of failures; -vv of every case\n"
"  --help                 this text;  --version  the version\n"
"\n"
"Exit codes: 0 every required case passed, 1 a case failed or errored, or the\n"
"run was INCOMPLETE (deadline or signal), 2 usage or setup error (also: a\n"
"report could not be written), 3 server unreachable.\n"
"Bounds against a hostile server (docs/CONFORMANCE.md#hostile-servers): each\n"
"network wait ends by --timeout whatever the server sends, HTTP bodies are\n"
"capped at 64 MiB (--max-response-mib), WebSocket messages at 1 MiB, a socket's queue of unread\n"
"messages at 4096 (more is the server's failure, with the rule), the run by\n"
"--deadline.\n", f);
}

static void main_list(const ebc_case *const *cases, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		const ebc_case *c = cases[i];

		printf("%s\t%s\t", c->id, c->level);
		for (j = 0; j < EBC_MAX_RULES && c->rules[j]; j++)
			printf("%s%s", j ? "," : "", c->rules[j]);
		printf("\t%s\n", c->title);
	}
}

/* The secret from the environment, the key read: 0, or EBC_EXIT_USAGE
 * after a one-line message. */
static int main_target(ebc_opts *o)
{
	char err[512];

	if (eb_target_finish(&o->target, true, err, sizeof(err)) != 0) {
		fprintf(stderr, "ebconform: %s\n(see ebconform --help)\n", err);
		return EBC_EXIT_USAGE;
	}
	ebc_opts_target(o);
	return 0;
}

/* The preflight (net/eb_preflight.h): the server speaks the protocol and
 * takes the suite's token over HTTP and on the socket. A consistent refusal
 * or a server that is not an Early Bird server stops the run (exit 2) with
 * a hint instead of a wall of FAILs; an inconsistent one runs, so that the
 * case checking it fails. 0 or the exit code. */
static int main_preflight(const ebc_opts *o, const ebc_run *run)
{
	eb_target t = o->target;
	eb_preflight pf;
	char sub[64], store[64], *tok = NULL;
	eb_err e;
	int rc;

	snprintf(sub, sizeof(sub), "%s:preflight", run->prefix);
	snprintf(store, sizeof(store), "%s-preflight", run->prefix);
	t.timeout_ms = (long)((double)o->timeout_ms * o->time_scale);
	if (eb_target_mint(&t, sub, 600, true, &tok, &e) != EB_OK) {
		fprintf(stderr, "ebconform: cannot mint a token: %s\n", e.msg);
		return EBC_EXIT_USAGE;
	}
	eb_preflight_run(&t, "ebconform", tok, store, &pf);
	free(tok);
	if (pf.verdict != EB_PF_OK)
		fprintf(stderr, "%s\n", pf.message);
	rc = (int)eb_preflight_exit(pf.verdict);
	return rc;
}

/* The report with the run's settings; NULL when out of memory. */
static eb_report *main_report_new(const ebc_opts *o, const ebc_run *run, int argc, char **argv)
{
	char cmd[4096], meta[256];
	eb_report *rep;

	/* Reports get attached to bug reports: never copy the secret. */
	eb_cmdline_record(argc, argv, cmd, sizeof(cmd));
	rep = eb_report_new("ebconform", EBC_VERSION, o->url, cmd);
	if (!rep)
		return NULL;
	eb_report_set_meta(rep, "runPrefix", run->prefix);
	snprintf(meta, sizeof(meta), "%d", o->jobs);
	eb_report_set_meta(rep, "jobs", meta);
	eb_report_set_meta(rep, "strict", o->strict ? "true" : "false");
	snprintf(meta, sizeof(meta), "%ld ms x %.2f", o->timeout_ms, o->time_scale);
	eb_report_set_meta(rep, "timeout", meta);
	if (run->limits_offered)
		snprintf(meta, sizeof(meta), "advertised: body %llu, changes %u, page %u, coalesce %u ms%s",
			 (unsigned long long)run->limits.max_body_bytes,
			 run->limits.max_changes_per_request, run->limits.max_page_limit,
			 run->limits.coalesce_ms, run->limits.rate_limit_on ? ", rate limited" : "");
	else
		snprintf(meta, sizeof(meta), "not advertised (GET /api/limits); protocol defaults");
	eb_report_set_meta(rep, "serverLimits", meta);
	if (o->jwt_secret)
		eb_report_set_meta(rep, "secret", EB_SECRET_NOTE);
	return rep;
}

/* Client mode's total deadline: sets the stop flag when it passes before
 * the suite is done (the suite then stops like on SIGINT). */
static void *main_client_deadline(void *arg)
{
	uint64_t end = eb_time_mono_ns() + (uint64_t)*(const long *)arg * 1000000000ull;

	while (!atomic_load(&main_client_done) && eb_time_mono_ns() < end)
		ebc_sleep_ms(50);
	if (!atomic_load(&main_client_done))
		main_stop = 1;
	return NULL;
}

/* One run of the server suite: the runner thread does the setup, the
 * preflight and the cases; the main thread watches the clock and the
 * signals, and writes the verdict and the reports in every case. */
typedef struct main_job {
	ebc_opts *o;
	const ebc_case **sel;
	size_t n_sel;
	int argc;
	char **argv;
	ebc_run run;
	char token_flags[2048];
	pthread_mutex_t mu;
	eb_report *rep;          /* published under mu once the cases start */
	int rc;                  /* setup/preflight exit code, or 0 */
	bool runner_failed;      /* ebc_run_cases could not allocate its queue */
	atomic_bool done;        /* the runner thread has returned */
} main_job;

static void *main_runner(void *arg)
{
	main_job *j = arg;
	char err[512];
	eb_report *rep = NULL;
	int rc;

	rc = ebc_run_setup(&j->run, j->o, j->token_flags, sizeof(j->token_flags), err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "ebconform: %s\n", err);
	if (rc == 0 && !main_stop)
		rc = main_preflight(j->o, &j->run);
	if (rc == 0 && !main_stop) {
		rep = main_report_new(j->o, &j->run, j->argc, j->argv);
		if (!rep) {
			fprintf(stderr, "ebconform: out of memory\n");
			rc = EBC_EXIT_USAGE;
		}
	}
	pthread_mutex_lock(&j->mu);
	j->rc = rc;
	j->rep = rep;
	pthread_mutex_unlock(&j->mu);
	if (rep) {
		j->run.stop = &main_stop;
		fprintf(stderr, "ebconform: %zu cases against %s (run prefix %s, %d jobs, "
			"total deadline %ld s)\n", j->n_sel, j->o->url, j->run.prefix, j->o->jobs,
			ebc_deadline_s(j->o));
		if (ebc_run_cases(&j->run, j->sel, j->n_sel, rep, &main_stop) != 0) {
			fprintf(stderr, "ebconform: out of memory: the runner could not queue the "
				"cases\n");
			j->runner_failed = true;
		}
	}
	atomic_store(&j->done, true);
	return NULL;
}

/* How long the main thread lets the cases that are running finish after a
 * signal or the deadline, before it writes the reports without them: the
 * whole stop stays under 1 s. */
#define MAIN_GRACE_MS 250

/* The runner's job, its thread started; NULL (message printed) when it
 * could not be. The cases stop early enough for the grace and the reports
 * (a few MiB of wire logs to write, beside case threads a flood keeps
 * busy) to end by the deadline: a third of it, at most 3 s, is kept for
 * them. */
static main_job *main_job_start(ebc_opts *o, const ebc_case **sel, size_t n_sel, int argc,
				char **argv, pthread_t *th, uint64_t *deadline_ns)
{
	main_job *j = calloc(1, sizeof(*j));
	uint64_t total = (uint64_t)ebc_deadline_s(o) * 1000000000ull;
	uint64_t keep = total / 3 < 3000000000ull ? total / 3 : 3000000000ull;

	if (!j) {
		fprintf(stderr, "ebconform: out of memory\n");
		return NULL;
	}
	j->o = o;
	j->sel = sel;
	j->n_sel = n_sel;
	j->argc = argc;
	j->argv = argv;
	pthread_mutex_init(&j->mu, NULL);
	atomic_init(&j->done, false);
	*deadline_ns = eb_time_mono_ns() + total - keep;
	if (pthread_create(th, NULL, main_runner, j) != 0) {
		fprintf(stderr, "ebconform: cannot start the runner thread\n");
		pthread_mutex_destroy(&j->mu);
		free(j);
		return NULL;
	}
	return j;
}

/* Waits for the runner until deadline_ns or a signal, then for the grace.
 * Fills why (empty when the runner finished in time); returns true when the
 * runner thread is abandoned (still running, not joined). Polled, not
 * waited on: a signal handler may only set a flag. */
static bool main_job_wait(main_job *j, uint64_t deadline_ns, char *why, size_t whylen)
{
	uint64_t grace_ns;

	while (!atomic_load(&j->done) && !main_stop && eb_time_mono_ns() < deadline_ns)
		ebc_sleep_ms(10);
	if (atomic_load(&j->done))
		return false;
	if (main_stop)
		snprintf(why, whylen, "interrupted by a signal");
	else
		snprintf(why, whylen, "the run's total deadline of %ld s was reached (--deadline)",
			 ebc_deadline_s(j->o));
	main_stop = 1;
	grace_ns = eb_time_mono_ns() + MAIN_GRACE_MS * 1000000ull;
	while (!atomic_load(&j->done) && eb_time_mono_ns() < grace_ns)
		ebc_sleep_ms(10);
	return !atomic_load(&j->done);
}

/* The runner's report, or, when it stopped before the cases, a new one that
 * will say so (published to the job, which frees it). NULL when there is
 * none to write: setup or preflight said no (their code in *rc), or out of
 * memory. */
static eb_report *main_job_report(main_job *j, bool stopped, int *rc)
{
	eb_report *rep;
	char cmd[4096];

	pthread_mutex_lock(&j->mu);
	rep = j->rep;
	*rc = j->rc;
	pthread_mutex_unlock(&j->mu);
	if (rep || !stopped)
		return rep;
	eb_cmdline_record(j->argc, j->argv, cmd, sizeof(cmd));
	rep = eb_report_new("ebconform", EBC_VERSION, j->o->url, cmd);
	pthread_mutex_lock(&j->mu);
	j->rep = rep;
	pthread_mutex_unlock(&j->mu);
	if (!rep) {
		fprintf(stderr, "ebconform: out of memory\n");
		*rc = EBC_EXIT_USAGE;
	}
	return rep;
}

/* The verdict and the reports of a run: a run that stopped early (why set)
 * or left selected cases unrun is marked INCOMPLETE with them. Returns the
 * exit code. */
static int main_job_finish(main_job *j, eb_report *rep, char *why, size_t whylen)
{
	const char **not_run = calloc(j->n_sel ? j->n_sel : 1, sizeof(*not_run));
	char meta[64];
	size_t nn;
	int rc;

	snprintf(meta, sizeof(meta), "%ld s", ebc_deadline_s(j->o));
	eb_report_set_meta(rep, "deadline", meta);
	nn = not_run ? ebc_not_run(rep, j->sel, j->n_sel, not_run) : j->n_sel;
	if (!why[0] && (j->runner_failed || nn > 0))
		snprintf(why, whylen, "%s", j->runner_failed ?
			 "the runner could not allocate its queue (out of memory)" :
			 "some selected cases did not run");
	if (why[0])
		eb_report_set_incomplete(rep, why, not_run, not_run ? nn : 0);
	eb_report_finish(rep);
	eb_report_console_summary(rep, stdout, j->o->verbose >= 1);
	rc = ebc_exit_code(eb_report_count(rep, EB_OUT_FAIL), eb_report_count(rep, EB_OUT_ERROR));
	if (why[0]) {
		fprintf(stderr, "ebconform: %s; the reports are marked INCOMPLETE (%zu case(s) not "
			"run)\n", why, nn);
		/* a harness failure is a setup error, an interrupted run no verdict */
		rc = j->runner_failed || (!main_stop && nn > 0) ? EBC_EXIT_USAGE : EBC_EXIT_FAIL;
	}
	free(not_run);
	return ebc_outputs(j->o, rep, rc);
}

/* Setup, preflight, the cases, the verdict and the reports, within the
 * run's total deadline (ebc_deadline_s). A signal or the deadline stops the
 * run: the reports written then are marked INCOMPLETE with the cases that
 * did not run, and the exit code is 1 (2 when the runner itself failed). */
static int main_run(ebc_opts *o, const ebc_case **sel, size_t n_sel, int argc, char **argv)
{
	main_job *j;
	pthread_t th;
	uint64_t deadline_ns;
	char why[160] = "";
	eb_report *rep;
	bool abandoned;
	int rc = EBC_EXIT_USAGE;

	if (eb_http_global_init() != 0) {
		fprintf(stderr, "ebconform: HTTP client initialisation failed\n");
		return EBC_EXIT_USAGE;
	}
	j = main_job_start(o, sel, n_sel, argc, argv, &th, &deadline_ns);
	if (!j)
		goto out_http;
	abandoned = main_job_wait(j, deadline_ns, why, sizeof(why));
	if (!abandoned)
		pthread_join(th, NULL);
	rep = main_job_report(j, why[0] != '\0', &rc);
	if (rep)
		rc = main_job_finish(j, rep, why, sizeof(why));
	if (abandoned) {
		/* Cases still hold sockets the server never answers: leave them
		 * to the kernel rather than wait; nothing else runs after this. */
		fflush(NULL);
		_exit(rc);
	}
	ebc_run_clear(&j->run);
	pthread_mutex_destroy(&j->mu);
	/* the job's report (the runner's or ours) is freed here, once */
	eb_report_free(j->rep);
	free(j);
out_http:
	eb_http_global_cleanup();
	return rc;
}

/* The server suite: selection, --list, the target's settings, the run. */
static int main_server(ebc_opts *o, int argc, char **argv)
{
	static const ebc_case *all[EBC_MAX_CASES];
	const ebc_case **sel = NULL;
	size_t n_all, n_sel = 0, i;
	int rc = EBC_EXIT_USAGE;
	eb_err e;

	n_all = ebc_catalogue(all, EBC_MAX_CASES);
	sel = malloc(n_all * sizeof(*sel));
	if (!sel) {
		fprintf(stderr, "ebconform: out of memory\n");
		return rc;
	}
	for (i = 0; i < n_all; i++)
		if (ebc_case_selected(o, all[i]->id))
			sel[n_sel++] = all[i];
	if (o->list) {
		main_list(sel, n_sel);
		rc = EBC_EXIT_OK;
	} else if (n_sel == 0) {
		fprintf(stderr, "ebconform: no case matches the --cases/--exclude globs\n"
			"(see ebconform --list)\n");
	} else if (main_target(o) != 0) {
		rc = EBC_EXIT_USAGE;
	} else if (o->report_dir && eb_file_mkdirs(o->report_dir, &e) != EB_OK) {
		fprintf(stderr, "ebconform: bad value '%s' for --report-dir: %s\n", o->report_dir,
			e.msg);
	} else {
		rc = main_run(o, sel, n_sel, argc, argv);
	}
	free(sel);
	return rc;
}

/* Client mode: the client suite with its own stage (conformance/client),
 * stopped by its total deadline like by SIGINT; a quarter of the deadline
 * (at most 3 s) is kept for the cases running and the reports. */
static int main_client(ebc_opts *o, int argc, char **argv)
{
	pthread_t dl;
	long dl_s = ebc_deadline_s(o);
	long keep = dl_s / 4 < 3 ? dl_s / 4 : 3;
	bool dl_started;
	int rc;

	dl_s -= keep;
	dl_started = pthread_create(&dl, NULL, main_client_deadline, &dl_s) == 0;
	rc = ebcc_main(o, argc, argv, &main_stop);
	atomic_store(&main_client_done, 1);
	if (dl_started)
		pthread_join(dl, NULL);
	return rc;
}

/* SIGINT and SIGTERM stop the run with its reports; a peer that closes
 * never kills the process. */
static void main_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = main_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
	ebc_opts o;
	char err[512];
	int rc;

	/* first of all: a signal during the setup or the preflight stops the
	 * run with a report too (ASan's start alone can take 0.3 s) */
	main_signals();
	if (argc >= 2 && strcmp(argv[1], "report") == 0)
		return ebc_report_cmd(argc, argv);
	if (ebc_opts_parse(argc, argv, &o, err, sizeof(err)) != 0) {
		fprintf(stderr, "ebconform: %s\n(see ebconform --help)\n", err);
		return EBC_EXIT_USAGE;
	}
	if (o.help)
		main_usage(stdout);
	else if (o.version)
		printf("ebconform %s\n", EBC_VERSION);
	if (o.help || o.version)
		rc = EBC_EXIT_OK;
	else if (o.driver)
		rc = main_client(&o, argc, argv);
	else
		rc = main_server(&o, argc, argv);
	ebc_opts_free(&o);
	eb_target_clear(&o.target);
	return rc;
}
