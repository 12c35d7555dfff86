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

static int core_long(const char *s, long lo, long hi, long *out)
{
	char *end = NULL;
	long v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
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
	"--url", "--jwt-secret", "--jwt-private-key", "--jwt-issuer",
	"--jwt-audience", "--jwt-leeway", "--cases", "--exclude", "--timeout",
	"--time-scale", "--jobs", "--report-dir", "--junit", "--json", "--html",
	"--seed", "--driver", "--clock-scale", "--ebmock", NULL
};

static bool core_is_valued(const char *name)
{
	size_t i;

	for (i = 0; core_valued[i]; i++)
		if (strcmp(core_valued[i], name) == 0)
			return true;
	return false;
}

int ebc_opts_parse(int argc, char **argv, ebc_opts *o, char *err, size_t errlen)
{
	int i;

	memset(o, 0, sizeof(*o));
	o->jwt_leeway_s = 5;
	o->timeout_ms = 5000;
	o->time_scale = 1.0;
	o->jobs = 4;
	o->clock_scale = 0.01;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		char name[64];
		const char *val = NULL;
		const char *eq;
		long lv;

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

		if (strcmp(name, "--url") == 0) {
			o->url = val;
		} else if (strcmp(name, "--jwt-secret") == 0) {
			if (!*val) {
				core_err(err, errlen, "--jwt-secret must not be empty");
				goto fail;
			}
			o->jwt_secret = val;
		} else if (strcmp(name, "--jwt-private-key") == 0) {
			o->jwt_private_key = val;
		} else if (strcmp(name, "--jwt-issuer") == 0) {
			o->jwt_issuer = val;
		} else if (strcmp(name, "--jwt-audience") == 0) {
			o->jwt_audience = val;
		} else if (strcmp(name, "--jwt-leeway") == 0) {
			if (core_long(val, 0, 60, &lv)) {
				core_err(err, errlen, "--jwt-leeway: seconds 0-60 (AUTH-7), got '%s'", val);
				goto fail;
			}
			o->jwt_leeway_s = lv;
		} else if (strcmp(name, "--no-auth-server") == 0) {
			o->no_auth_server = true;
		} else if (strcmp(name, "--cases") == 0) {
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
		} else if (strcmp(name, "--timeout") == 0) {
			if (core_long(val, 50, 600000, &lv)) {
				core_err(err, errlen, "--timeout: milliseconds 50-600000, got '%s'", val);
				goto fail;
			}
			o->timeout_ms = lv;
		} else if (strcmp(name, "--time-scale") == 0) {
			char *end = NULL;
			double d;

			errno = 0;
			d = strtod(val, &end);
			/* Only stretches the suite's patience: below 1 it would
			 * shorten the spec's fixed deadlines (10 s auth timeout,
			 * leeway + 2 s expiry), which is the server's to meet. */
			if (errno || end == val || *end || !(d >= 1.0 && d <= 100.0)) {
				core_err(err, errlen, "--time-scale: a factor 1-100 (it only lengthens "
					 "waits; the spec's deadlines are fixed), got '%s'", val);
				goto fail;
			}
			o->time_scale = d;
		} else if (strcmp(name, "--jobs") == 0) {
			if (core_long(val, 1, 64, &lv)) {
				core_err(err, errlen, "--jobs: 1-64, got '%s'", val);
				goto fail;
			}
			o->jobs = (int)lv;
		} else if (strcmp(name, "--report-dir") == 0) {
			o->report_dir = val;
		} else if (strcmp(name, "--junit") == 0) {
			o->junit = val;
		} else if (strcmp(name, "--json") == 0) {
			o->json = val;
		} else if (strcmp(name, "--html") == 0) {
			o->html = val;
		} else if (strcmp(name, "--seed") == 0) {
			char *end = NULL;
			unsigned long long s;

			errno = 0;
			s = strtoull(val, &end, 10);
			if (errno || end == val || *end || val[0] == '-') {
				core_err(err, errlen, "--seed: a non-negative integer, got '%s'", val);
				goto fail;
			}
			o->seed = s;
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
		} else {
			core_err(err, errlen, "unknown option '%s'", name);
			goto fail;
		}
	}
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

void ebc_opts_free(ebc_opts *o)
{
	if (!o)
		return;
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

int ebc_exit_code(size_t n_fail, size_t n_error)
{
	return (n_fail || n_error) ? EBC_EXIT_FAIL : EBC_EXIT_OK;
}

void ebc_shell_quote(char *buf, size_t len, const char *s)
{
	size_t at = strlen(buf);
	const char *p;
	bool plain = *s != '\0';

	for (p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("-_./:=@,+%", *p)))
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
