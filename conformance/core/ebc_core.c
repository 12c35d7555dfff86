/*
 * ebc_core.c — the pure pieces of the runner: option parsing, case selection
 * by glob, outcome resolution, exit codes, shell quoting. No I/O; built into
 * libebconform.a so tests/unit/check_conform.c links it like ebconform does.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ebc.h"

static void core_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void core_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int core_push(const char ***arr, size_t *n, const char *s)
{
	const char **p = realloc((void *)*arr, (*n + 1) * sizeof(*p));

	if (!p)
		return -1;
	p[*n] = s;
	*arr = p;
	(*n)++;
	return 0;
}

/* Options that take a value; the rest are flags. */
static const char *const core_valued[] = {
	"--cases", "--exclude",
	"--time-scale", "--jobs", "--report-dir", "--junit", "--json", "--html",
	"--seed", "--driver", "--clock-scale", "--ebmock", "--deadline", NULL
};

static bool core_is_valued(const char *name)
{
	size_t i;

	for (i = 0; core_valued[i]; i++)
		if (strcmp(core_valued[i], name) == 0)
			return true;
	return false;
}

/* Every --url is kept in o->urls (the nodes of one deployment). The first
 * is also parsed by the shared table (0: not consumed); a later one is
 * checked and consumed here (1). -1 with err on a bad or missing value. */
static int core_add_url(ebc_opts *o, int argc, char **argv, int *i, char *err,
			size_t errlen)
{
	const char *a = argv[*i], *val = a[5] == '=' ? a + 6 : NULL;
	eb_url u;
	eb_err e;

	if (!val) {
		if (*i + 1 >= argc) {
			core_err(err, errlen, "--url needs a value");
			return -1;
		}
		val = argv[*i + 1];
	}
	eb_err_clear(&e);
	if (eb_url_parse(val, &u, &e) != EB_OK) {
		core_err(err, errlen, "bad value '%s' for --url", val);
		return -1;
	}
	if (o->n_urls >= 16) {
		core_err(err, errlen, "at most 16 --url");
		return -1;
	}
	char **nu = realloc(o->urls, (o->n_urls + 1) * sizeof(*nu));
	if (!nu) {
		core_err(err, errlen, "out of memory");
		return -1;
	}
	o->urls = nu;
	o->urls[o->n_urls] = strdup(u.http);
	if (!o->urls[o->n_urls]) {
		core_err(err, errlen, "out of memory");
		return -1;
	}
	if (++o->n_urls == 1)
		return 0;
	if (a[5] != '=')
		(*i)++;
	return 1;
}

int ebc_opts_parse(int argc, char **argv, ebc_opts *o, char *err, size_t errlen)
{
	int i;

	memset(o, 0, sizeof(*o));
	eb_target_init(&o->target, EBC_TARGET_FLAGS);
	ebc_opts_target(o);
	o->time_scale = 1.0;
	o->jobs = 4;
	o->clock_scale = 0.01;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		char name[64];
		const char *val = NULL;
		const char *eq;
		uint64_t uv;
		/* --url again: another node of the same deployment */
		if (strcmp(a, "--url") == 0 || strncmp(a, "--url=", 6) == 0) {
			int u = core_add_url(o, argc, argv, &i, err, errlen);
			if (u < 0)
				goto fail;
			if (u > 0)
				continue;
		}
		/* --url, --jwt-*, --no-auth, --timeout: the kit's shared table */
		int t = eb_target_arg(&o->target, argc, argv, &i, err, errlen);

		if (t < 0)
			goto fail;
		if (t > 0)
			continue;
		if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
			if (o->verbose < 2)
				o->verbose++;
			continue;
		}
		if (strcmp(a, "-vv") == 0) {
			o->verbose = 2;
			continue;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			o->help = true;
			continue;
		}
		if (strncmp(a, "--", 2) != 0) {
			core_err(err, errlen, "unexpected argument '%s'", a);
			goto fail;
		}
		eq = strchr(a, '=');
		if (eq) {
			size_t nl = (size_t)(eq - a);

			if (nl >= sizeof(name)) {
				core_err(err, errlen, "unknown option '%s'", a);
				goto fail;
			}
			memcpy(name, a, nl);
			name[nl] = '\0';
			val = eq + 1;
		} else {
			size_t nl = strlen(a);

			if (nl >= sizeof(name)) {
				core_err(err, errlen, "unknown option '%s'", a);
				goto fail;
			}
			memcpy(name, a, nl + 1);
		}
		if (core_is_valued(name)) {
			if (!val) {
				if (i + 1 >= argc) {
					core_err(err, errlen, "%s needs a value", name);
					goto fail;
				}
				val = argv[++i];
			}
		} else if (val) {
			core_err(err, errlen, "%s takes no value", name);
			goto fail;
		}

		if (strcmp(name, "--cases") == 0) {
			if (core_push(&o->cases, &o->n_cases, val))
				goto oom;
		} else if (strcmp(name, "--exclude") == 0) {
			if (core_push(&o->exclude, &o->n_exclude, val))
				goto oom;
		} else if (strcmp(name, "--list") == 0) {
			o->list = true;
		} else if (strcmp(name, "--strict") == 0) {
			o->strict = true;
		} else if (strcmp(name, "--version") == 0) {
			o->version = true;
		} else if (strcmp(name, "--time-scale") == 0) {
			/* Only stretches the suite's patience: below 1 it would
			 * shorten the spec's fixed deadlines (10 s auth timeout,
			 * leeway + 2 s expiry), which is the server's to meet. */
			if (!eb_parse_double(val, 1.0, 100.0, &o->time_scale)) {
				core_err(err, errlen, "bad value '%s' for --time-scale: want a factor "
					 "1-100 (it only lengthens waits; the spec's deadlines are fixed)",
					 val);
				goto fail;
			}
		} else if (strcmp(name, "--jobs") == 0) {
			if (!eb_parse_u64(val, 1, 64, &uv)) {
				core_err(err, errlen, "bad value '%s' for --jobs: want 1-64", val);
				goto fail;
			}
			o->jobs = (int)uv;
		} else if (strcmp(name, "--report-dir") == 0) {
			o->report_dir = val;
		} else if (strcmp(name, "--junit") == 0) {
			o->junit = val;
		} else if (strcmp(name, "--json") == 0) {
			o->json = val;
		} else if (strcmp(name, "--html") == 0) {
			o->html = val;
		} else if (strcmp(name, "--seed") == 0) {
			if (!eb_parse_u64(val, 0, UINT64_MAX, &o->seed)) {
				core_err(err, errlen, "bad value '%s' for --seed: want a non-negative "
					 "integer", val);
				goto fail;
			}
			o->seed_set = true;
		} else if (strcmp(name, "--driver") == 0) {
			if (!*val) {
				core_err(err, errlen, "--driver needs a command");
				goto fail;
			}
			o->driver = val;
		} else if (strcmp(name, "--clock-scale") == 0) {
			char *end = NULL;
			double d;

			errno = 0;
			d = strtod(val, &end);
			/* The SDK's timers run this much faster (CLIENT-DRIVER.md):
			 * 1 is real time; below 0.001 a 30 s poll would be 30 ms,
			 * under scheduling noise. */
			if (errno || end == val || *end || !(d >= 0.001 && d <= 1.0)) {
				core_err(err, errlen, "--clock-scale: a factor 0.001-1, got '%s'", val);
				goto fail;
			}
			o->clock_scale = d;
		} else if (strcmp(name, "--ebmock") == 0) {
			o->ebmock = val;
		} else if (strcmp(name, "--deadline") == 0) {
			if (!eb_parse_u64(val, 1, 86400, &uv)) {
				core_err(err, errlen, "bad value '%s' for --deadline: want seconds "
					 "1-86400", val);
				goto fail;
			}
			o->deadline_s = (long)uv;
		} else {
			core_err(err, errlen, "unknown option '%s'", name);
			goto fail;
		}
	}
	ebc_opts_target(o);
	if (!o->help && !o->list && !o->version && !o->url) {
		if (!o->driver) {
			core_err(err, errlen, "--url is required (or --driver CMD for the client suite)");
			goto fail;
		}
	}
	if (o->url && o->driver) {
		core_err(err, errlen, "--url tests a server, --driver a client SDK: give one of them");
		goto fail;
	}
	if (o->url && strncmp(o->url, "http://", 7) != 0 &&
	    strncmp(o->url, "https://", 8) != 0) {
		core_err(err, errlen, "--url must start with http:// (got '%s')", o->url);
		goto fail;
	}
	return 0;
oom:
	core_err(err, errlen, "out of memory");
fail:
	ebc_opts_free(o);
	return -1;
}

void ebc_opts_target(ebc_opts *o)
{
	const eb_target *t = &o->target;

	o->url = t->has_url ? t->url.http : NULL;
	o->jwt_secret = t->secret;
	o->jwt_private_key = t->private_key_path;
	o->jwt_issuer = t->issuer;
	o->jwt_audience = t->audience;
	o->jwt_leeway_s = t->leeway_s;
	o->no_auth_server = t->no_auth;
	o->timeout_ms = t->timeout_ms;
}

void ebc_opts_free(ebc_opts *o)
{
	if (!o)
		return;
	for (size_t k = 0; k < o->n_urls; k++)
		free(o->urls[k]);
	free(o->urls);
	o->urls = NULL;
	o->n_urls = 0;
	free((void *)o->cases);
	free((void *)o->exclude);
	o->cases = o->exclude = NULL;
	o->n_cases = o->n_exclude = 0;
}

bool ebc_glob_match(const char *glob, const char *id)
{
	return fnmatch(glob, id, 0) == 0;
}

bool ebc_case_selected(const ebc_opts *o, const char *id)
{
	size_t i;
	bool in = o->n_cases == 0;

	for (i = 0; !in && i < o->n_cases; i++)
		if (ebc_glob_match(o->cases[i], id))
			in = true;
	for (i = 0; in && i < o->n_exclude; i++)
		if (ebc_glob_match(o->exclude[i], id))
			in = false;
	return in;
}

eb_outcome ebc_outcome_resolve(ebc_raw raw, const char *level, bool strict)
{
	switch (raw) {
	case EBC_RAW_PASS:
		return EB_OUT_PASS;
	case EBC_RAW_SKIP:
		return EB_OUT_SKIP;
	case EBC_RAW_ERROR:
		return EB_OUT_ERROR;
	case EBC_RAW_FAIL:
		if (level && strcmp(level, "SHOULD") == 0 && !strict)
			return EB_OUT_NON_STRICT;
		return EB_OUT_FAIL;
	}
	return EB_OUT_ERROR;
}

long ebc_deadline_s(const ebc_opts *o)
{
	if (o->deadline_s > 0)
		return o->deadline_s;
	return (long)((double)EBC_DEFAULT_DEADLINE_S * o->time_scale);
}

int ebc_result_add(eb_report *rep, eb_case_result *res)
{
	/* eb_report_add owns wire and timeline from the call on, failed or not */
	int rc = eb_report_add(rep, res);

	res->wire = NULL;
	res->timeline = NULL;
	return rc;
}

size_t ebc_not_run(const eb_report *rep, const ebc_case *const *sel, size_t n_sel,
		   const char **out)
{
	size_t i, j, n = 0, nc = eb_report_case_count(rep);

	for (i = 0; i < n_sel; i++) {
		bool ran = false;

		for (j = 0; j < nc && !ran; j++) {
			eb_case_result r;

			if (eb_report_case_get(rep, j, &r) == 0 && strcmp(r.id, sel[i]->id) == 0)
				ran = true;
		}
		if (!ran)
			out[n++] = sel[i]->id;
	}
	return n;
}

int ebc_exit_code(size_t n_fail, size_t n_error)
{
	return (n_fail || n_error) ? EBC_EXIT_FAIL : EBC_EXIT_OK;
}

void ebc_shell_quote(char *buf, size_t len, const char *s)
{
	eb_shell_quote(buf, len, s);
}
