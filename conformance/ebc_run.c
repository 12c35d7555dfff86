/*
 * ebc_run.c — the catalogue, the setup of a run (probe, limits, keys) and the
 * runner: cases on --jobs threads, slow ones first so their waits overlap,
 * each with a fresh context, its own wire log and its result in the report.
 */
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eb_preflight.h"
#include "eb_time.h"
#include "ebc.h"

/* ---- catalogue ----------------------------------------------------------- */

size_t ebc_catalogue(const ebc_case **out, size_t cap)
{
	const struct { const ebc_case *cases; size_t n; } t[] = {
		{ ebc_cases_versioning, ebc_cases_versioning_n },
		{ ebc_cases_feed, ebc_cases_feed_n },
		{ ebc_cases_idempotency, ebc_cases_idempotency_n },
		{ ebc_cases_validation, ebc_cases_validation_n },
		{ ebc_cases_limits, ebc_cases_limits_n },
		{ ebc_cases_errors, ebc_cases_errors_n },
		{ ebc_cases_auth, ebc_cases_auth_n },
		{ ebc_cases_ws, ebc_cases_ws_n },
		{ ebc_cases_fallback, ebc_cases_fallback_n },
		{ ebc_cases_timing, ebc_cases_timing_n },
		{ ebc_cases_rate, ebc_cases_rate_n },
		{ ebc_cases_decisions, ebc_cases_decisions_n },
		{ ebc_cases_behaviours, ebc_cases_behaviours_n },
		{ ebc_cases_bounds, ebc_cases_bounds_n },
		{ ebc_cases_races, ebc_cases_races_n },
		{ ebc_cases_chars, ebc_cases_chars_n },
		{ ebc_cases_types, ebc_cases_types_n },
		{ ebc_cases_cluster, ebc_cases_cluster_n },
	};
	size_t i, j, n = 0;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		for (j = 0; j < t[i].n && n < cap; j++)
			/* cppcheck-suppress autoVariables ; t[i].cases points into a static table */
			out[n++] = &t[i].cases[j];
	return n;
}

/* ---- setup --------------------------------------------------------------- */

/* The public half of an RSA private key, as the PEM an RS256 server is
 * configured with: the algorithm-confusion case signs HS256 with it. */
static char *run_public_pem(const char *priv, char *err, size_t errlen)
{
	BIO *in = BIO_new_mem_buf(priv, -1);
	BIO *out = BIO_new(BIO_s_mem());
	EVP_PKEY *k = NULL;
	char *pem = NULL, *data = NULL;
	long len;

	if (!in || !out)
		goto out;
	k = PEM_read_bio_PrivateKey(in, NULL, NULL, NULL);
	if (!k) {
		snprintf(err, errlen, "--jwt-private-key: not a PEM private key");
		goto out;
	}
	if (!PEM_write_bio_PUBKEY(out, k))
		goto out;
	len = BIO_get_mem_data(out, &data);
	if (len <= 0)
		goto out;
	pem = malloc((size_t)len + 1);
	if (!pem)
		goto out;
	memcpy(pem, data, (size_t)len);
	pem[len] = '\0';
out:
	if (!pem && !err[0])
		snprintf(err, errlen, "cannot derive the public key of --jwt-private-key");
	EVP_PKEY_free(k);
	BIO_free(in);
	BIO_free(out);
	return pem;
}

static uint64_t run_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

int ebc_run_setup(ebc_run *run, const ebc_opts *o, char *token_flags, size_t tflen,
		  char *err, size_t errlen)
{
	eb_http *h = NULL;
	eb_http_resp resp;
	uint64_t seed, x;
	const char *digits = "0123456789abcdefghijklmnopqrstuvwxyz";
	int rc = EBC_EXIT_USAGE, i;

	memset(run, 0, sizeof(*run));
	memset(&resp, 0, sizeof(resp));
	err[0] = '\0';
	run->opts = o;
	run->shared = calloc(1, sizeof(*run->shared));
	if (!run->shared) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	pthread_mutex_init(&run->shared->mu, NULL);
	run->budget = eb_http_budget_new(EBC_HTTP_BUDGET);
	if (!run->budget) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	eb_limits_default(&run->limits);
	if (!o->no_auth_server && !o->jwt_secret && !o->jwt_private_key) {
		snprintf(err, errlen, "give --jwt-secret and/or --jwt-private-key to mint tokens "
			 "for the server, or --no-auth-server when it runs without auth");
		goto out;
	}
	if (o->target.private_pem) {
		/* read (eb_file_read) and checked by eb_target_finish */
		run->private_pem = strdup(o->target.private_pem);
		if (!run->private_pem) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		run->public_pem = run_public_pem(run->private_pem, err, errlen);
		if (!run->public_pem)
			goto out;
	}
	seed = o->seed_set ? o->seed : (eb_time_now_ms() ^ ((uint64_t)getpid() << 32) ^ eb_time_mono_ns());
	x = run_mix(seed);
	run->prefix[0] = 'e';
	for (i = 1; i < 9; i++) {
		run->prefix[i] = digits[x % 36];
		x /= 36;
	}
	run->prefix[9] = '\0';

	token_flags[0] = '\0';
	/* The rerun command names the secret's variable, never its value. */
	eb_target_rerun_flags(&o->target, token_flags, tflen);
	run->token_flags = token_flags;

	/* Probe: is anything there, and does it advertise limits? */
	h = eb_http_new(o->url, (long)((double)o->timeout_ms * o->time_scale));
	if (!h || eb_http_set_tls(h, &o->target.tls_opts) != EB_OK) {
		snprintf(err, errlen, "cannot create an HTTP client");
		goto out;
	}
	if (eb_http_request(h, "GET", "/api/limits", NULL, NULL, NULL, 0, NULL, 0, &resp) != EB_OK) {
		/* a certificate not trusted is the command's mistake (exit 2) */
		if (eb_preflight_tls_hint(&o->target, "ebconform", resp.transport_error, resp.error,
					  err, errlen)) {
			/* the caller prints "ebconform: " before err */
			size_t k = strlen("ebconform: ");
			if (strlen(err) > k)
				memmove(err, err + k, strlen(err + k) + 1);
			rc = EBC_EXIT_USAGE;
			goto out;
		}
		snprintf(err, errlen, "server unreachable at %s: %s", o->url,
			 resp.error[0] ? resp.error : "no response");
		rc = EBC_EXIT_UNREACHABLE;
		goto out;
	}
	/* 404 means not offered (LIMIT-10 "where offered"): the defaults of
	 * section 8 hold. Any other answer is an endpoint that is there but
	 * wrong, which limits/advertised reports as a LIMIT-10 failure. */
	run->limits_status = resp.status;
	if (resp.status == 200) {
		eb_err e;
		eb_limits l;

		eb_limits_default(&l);
		eb_err_clear(&e);
		if (eb_limits_parse(resp.body, resp.body_len, &l, &e) == EB_OK) {
			run->limits = l;
			run->limits_offered = true;
		} else {
			snprintf(run->limits_problem, sizeof(run->limits_problem),
				 "its 200 body is not a limits object: %.100s", e.msg);
		}
	} else if (resp.status != 404) {
		snprintf(run->limits_problem, sizeof(run->limits_problem),
			 "it answered %ld to a request without a token, not 200", resp.status);
	}
	rc = 0;
out:
	eb_http_resp_clear(&resp);
	eb_http_free(h);
	if (rc)
		ebc_run_clear(run);
	return rc;
}

void ebc_run_clear(ebc_run *run)
{
	if (!run)
		return;
	free(run->private_pem);
	free(run->public_pem);
	run->private_pem = run->public_pem = NULL;
	if (run->shared) {
		pthread_mutex_destroy(&run->shared->mu);
		free(run->shared);
		run->shared = NULL;
	}
	eb_http_budget_free(run->budget);
	run->budget = NULL;
}

/* ---- runner -------------------------------------------------------------- */

typedef struct run_pool {
	const ebc_run *run;
	const ebc_case *const *cases;
	size_t n, next, done, total;
	eb_report *rep;
	ebc_stop_flag *stop;
	pthread_mutex_t mu;
} run_pool;

/* Why a case cannot run against this server, or NULL (buf holds the text
 * of reasons that are built). */
static const char *run_skip_reason(const ebc_run *run, const ebc_case *c, char *buf, size_t len)
{
	const ebc_opts *o = run->opts;

	if ((c->flags & (EBC_F_LIMITS | EBC_F_RATE)) && run->limits_problem[0]) {
		snprintf(buf, len, "GET /api/limits is there but wrong (%s): see limits/advertised "
			 "(LIMIT-10)", run->limits_problem);
		return buf;
	}

	if ((c->flags & EBC_F_AUTH) && o->no_auth_server)
		return "the server runs without authentication (--no-auth-server)";
	if ((c->flags & EBC_F_AUTH) && !o->jwt_secret && !run->private_pem)
		return "no signing key given (--jwt-secret or --jwt-private-key)";
	if ((c->flags & EBC_F_LIMITS) && !run->limits_offered)
		return "GET /api/limits is not offered (404): the server advertises no limits";
	if ((c->flags & EBC_F_RATE) && !(run->limits_offered && run->limits.rate_limit_on))
		return "rate limiting not offered: GET /api/limits has no rateLimit (RATE-1)";
	/* Rate cases empty their own subject's buckets; without auth the
	 * subject is the address, shared by every case running beside. */
	if ((c->flags & EBC_F_RATE) && o->no_auth_server)
		return "the server runs without auth (--no-auth-server): every case shares the "
		       "address's buckets, which this case would empty under the others";
	if ((c->flags & EBC_F_ISS) && !o->jwt_issuer)
		return "the server's issuer is unknown (give --jwt-issuer)";
	if ((c->flags & EBC_F_AUD) && !o->jwt_audience)
		return "the server's audience is unknown (give --jwt-audience)";
	if ((c->flags & EBC_F_RSA) && !run->private_pem)
		return "no RS256 key given (--jwt-private-key)";
	return NULL;
}

static void run_dump_wire(const ebc_case *c, eb_wirelog *w)
{
	size_t i, n = eb_wirelog_count(w);

	fprintf(stderr, "--- wire log of %s (%zu entries)\n", c->id, n);
	for (i = 0; i < n; i++) {
		const eb_wire_entry *e = eb_wirelog_get(w, i);

		fprintf(stderr, "%8.3f %s %-4s #%d %s\n", (double)e->t_us / 1000.0,
			e->dir == EB_WIRE_OUT ? ">>" : e->dir == EB_WIRE_IN ? "<<" : "--",
			e->proto, e->conn, e->text);
	}
}

static void run_one(run_pool *p, const ebc_case *c)
{
	const ebc_run *run = p->run;
	ebc_ctx ctx;
	eb_case_result res;
	char skipbuf[320];
	const char *skip = run_skip_reason(run, c, skipbuf, sizeof(skipbuf));
	char rerun[2048];
	size_t i, nr = 0, nt = 0;
	uint64_t t0 = eb_time_mono_ns();

	memset(&ctx, 0, sizeof(ctx));
	pthread_mutex_init(&ctx.mu, NULL);
	ctx.run = run;
	ctx.c = c;
	/* 128 KiB a case: the logs of every case stay near 32 MiB even when a
	 * flooding server fills each one (with 256 KiB the whole run against a
	 * flood peaked at 172 MiB, the JSON writer's copies included) */
	ctx.wire = eb_wirelog_new(0, (size_t)128 << 10);
	snprintf(ctx.case_tag, sizeof(ctx.case_tag), "%s", c->id);
	for (i = 0; ctx.case_tag[i]; i++)
		if (ctx.case_tag[i] == '/')
			ctx.case_tag[i] = '.';
	snprintf(ctx.subject, sizeof(ctx.subject), "%s:%s", run->prefix, c->id);
	snprintf(ctx.store_prefix, sizeof(ctx.store_prefix), "%s-%s-", run->prefix, ctx.case_tag);

	if (skip)
		ebc_skip(&ctx, "%s", skip);
	else
		c->run(&ctx);

	eb_http_free(ctx.http);
	ctx.http = NULL;
	free(ctx.token);
	ctx.token = NULL;

	memset(&res, 0, sizeof(res));
	res.id = c->id;
	res.title = c->title;
	res.level = c->level;
	while (nr < EBC_MAX_RULES && c->rules[nr])
		nr++;
	while (nt < EBC_MAX_TAGS && c->tags[nt])
		nt++;
	res.rules = c->rules;
	res.n_rules = nr;
	res.tags = c->tags;
	res.n_tags = nt;
	res.outcome = ebc_outcome_resolve(ctx.raw, c->level, run->opts->strict);
	if (ctx.raw != EBC_RAW_PASS) {
		res.reason = ctx.reason;
		if (ctx.raw == EBC_RAW_FAIL) {
			res.failed_rule = ctx.failed_rule;
			res.expected = ctx.expected;
			res.actual = ctx.actual;
		}
	}
	snprintf(rerun, sizeof(rerun), "ebconform --url ");
	ebc_shell_quote(rerun, sizeof(rerun), run->opts->url);
	snprintf(rerun + strlen(rerun), sizeof(rerun) - strlen(rerun), " --cases %s%s",
		 c->id, run->token_flags);
	if (run->opts->strict)
		snprintf(rerun + strlen(rerun), sizeof(rerun) - strlen(rerun), " --strict");
	res.rerun = rerun;
	res.duration_ms = (double)(eb_time_mono_ns() - t0) / 1e6;
	if (run->opts->verbose >= 2)
		run_dump_wire(c, ctx.wire);
	res.wire = ctx.wire;

	pthread_mutex_lock(&p->mu);
	/* the report owns the wire log now, even when the add failed */
	ebc_result_add(p->rep, &res);
	ctx.wire = NULL;
	p->done++;
	eb_report_console_progress(p->rep, stderr, p->total);
	pthread_mutex_unlock(&p->mu);
	pthread_mutex_destroy(&ctx.mu);
}

static void *run_worker(void *arg)
{
	run_pool *p = arg;

	for (;;) {
		const ebc_case *c;

		pthread_mutex_lock(&p->mu);
		if (p->next >= p->n || *p->stop) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		c = p->cases[p->next++];
		pthread_mutex_unlock(&p->mu);
		run_one(p, c);
	}
}

typedef struct run_slow {
	run_pool *p;
	const ebc_case *c;
} run_slow;

static void *run_slow_thread(void *arg)
{
	run_slow *s = arg;

	if (!*s->p->stop)
		run_one(s->p, s->c);
	return NULL;
}

int ebc_run_cases(const ebc_run *run, const ebc_case *const *cases, size_t n,
		  eb_report *rep, ebc_stop_flag *stop)
{
	const ebc_case **order = malloc((n ? n : 1) * sizeof(*order));
	const ebc_case **alone = malloc((n ? n : 1) * sizeof(*alone));
	run_slow slow[32];
	pthread_t th[64], sth[32];
	bool sstarted[32] = { false };
	run_pool p;
	size_t i, k = 0, ns = 0, na = 0;
	int j, jobs = run->opts->jobs;

	if (!order || !alone) {
		free(order);
		free(alone);
		return -1;
	}
	memset(&p, 0, sizeof(p));
	p.run = run;
	p.rep = rep;
	p.stop = stop;
	p.total = n;
	pthread_mutex_init(&p.mu, NULL);
	/* Slow cases (auth timeout, token expiry) mostly wait: each gets its
	 * own thread beside the --jobs workers so the waits overlap with the
	 * rest of the run instead of adding to it. */
	for (i = 0; i < n; i++) {
		if ((cases[i]->flags & EBC_F_SLOW) && ns < 32) {
			slow[ns].p = &p;
			slow[ns].c = cases[i];
			ns++;
		} else if (cases[i]->flags & EBC_F_ALONE) {
			alone[na++] = cases[i];
		} else {
			order[k++] = cases[i];
		}
	}
	p.cases = order;
	p.n = k;
	for (i = 0; i < ns; i++)
		sstarted[i] = pthread_create(&sth[i], NULL, run_slow_thread, &slow[i]) == 0;
	if (jobs > 64)
		jobs = 64;
	if ((size_t)jobs > k)
		jobs = (int)k;
	for (j = 0; j < jobs; j++)
		if (pthread_create(&th[j], NULL, run_worker, &p) != 0)
			break;
	if (j == 0)
		run_worker(&p);
	while (j-- > 0)
		pthread_join(th[j], NULL);
	/* Timing measures once the other cases are done (the slow ones only
	 * wait on idle sockets); beside each other, as their own load is a
	 * notification a second. */
	{
		run_slow al[32];
		pthread_t ath[32];
		bool astarted[32] = { false };
		size_t m = na < 32 ? na : 32;

		for (i = 0; i < m; i++) {
			al[i].p = &p;
			al[i].c = alone[i];
			astarted[i] = pthread_create(&ath[i], NULL, run_slow_thread, &al[i]) == 0;
		}
		for (i = 0; i < m; i++) {
			if (astarted[i])
				pthread_join(ath[i], NULL);
			else
				run_slow_thread(&al[i]);
		}
	}
	for (i = 0; i < ns; i++) {
		if (sstarted[i])
			pthread_join(sth[i], NULL);
		else
			run_slow_thread(&slow[i]);
	}
	pthread_mutex_destroy(&p.mu);
	free(order);
	free(alone);
	return 0;
}
