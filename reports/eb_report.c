/*
 * eb_report.c — the result store every writer reads: thread-safe adds in
 * insertion order, snapshots sorted by case id so every output format is
 * deterministic whatever order worker threads finished in.
 */
#include "eb_report_priv.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "eb_time.h"
#include "eb_utf8.h"

static const char *const outcome_names[EB_RPT_N_OUTCOMES] = {
	"PASS", "FAIL", "NON-STRICT", "SKIP", "ERROR"
};
static const char *const outcome_classes[EB_RPT_N_OUTCOMES] = {
	"pass", "fail", "nonstrict", "skip", "error"
};

const char *eb_outcome_name(eb_outcome o)
{
	if ((unsigned)o >= EB_RPT_N_OUTCOMES)
		return "UNKNOWN";
	return outcome_names[o];
}

const char *eb_rpt_outcome_class(eb_outcome o)
{
	if ((unsigned)o >= EB_RPT_N_OUTCOMES)
		return "error";
	return outcome_classes[o];
}

void eb_rpt_err(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!errbuf || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
}

/* Copy of s whose bytes that are not valid UTF-8 become the text \xNN, so
 * every format (JSON above all, which eb_json_parse reads back strictly) can
 * carry it. NULL stays NULL; *oom is set on allocation failure. */
static char *dup_utf8(const char *s, bool *oom)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *u = (const unsigned char *)s;
	size_t len, i, o = 0, bad = 0;
	char *out;

	if (!s)
		return NULL;
	len = strlen(s);
	for (i = 0; i < len;) {
		size_t q;

		if (u[i] < 0x80) {
			i++;
		} else if ((q = eb_utf8_seq_len(u + i, len - i)) != 0) {
			i += q;
		} else {
			bad++;
			i++;
		}
	}
	out = malloc(len + bad * 3 + 1);
	if (!out) {
		*oom = true;
		return NULL;
	}
	for (i = 0; i < len;) {
		size_t q;

		if (u[i] < 0x80) {
			out[o++] = (char)u[i++];
		} else if ((q = eb_utf8_seq_len(u + i, len - i)) != 0) {
			memcpy(out + o, u + i, q);
			o += q;
			i += q;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[u[i] >> 4];
			out[o++] = hex[u[i] & 15];
			i++;
		}
	}
	out[o] = '\0';
	return out;
}

static void lock(const eb_report *r)
{
	pthread_mutex_lock(&r->sync->lock);
}

static void unlock(const eb_report *r)
{
	pthread_mutex_unlock(&r->sync->lock);
}

eb_report *eb_report_new(const char *tool, const char *tool_version,
			 const char *target, const char *command_line)
{
	eb_report *r = calloc(1, sizeof(*r));
	bool oom = false;

	if (!r)
		return NULL;
	r->sync = calloc(1, sizeof(*r->sync));
	if (!r->sync || pthread_mutex_init(&r->sync->lock, NULL) != 0) {
		free(r->sync);
		free(r);
		return NULL;
	}
	r->tool = dup_utf8(tool ? tool : "", &oom);
	r->tool_version = dup_utf8(tool_version ? tool_version : "", &oom);
	r->target = dup_utf8(target ? target : "", &oom);
	r->command = dup_utf8(command_line ? command_line : "", &oom);
	r->started_ms = eb_time_now_ms();
	r->start_mono_ns = eb_time_mono_ns();
	if (oom) {
		eb_report_free(r);
		return NULL;
	}
	return r;
}

static void case_free(eb_rpt_case *c)
{
	size_t i;

	if (!c)
		return;
	free(c->id);
	free(c->title);
	free(c->category);
	free(c->level);
	for (i = 0; i < c->n_rules; i++)
		free(c->rules[i]);
	free(c->rules);
	for (i = 0; i < c->n_tags; i++)
		free(c->tags[i]);
	free(c->tags);
	free(c->failed_rule);
	free(c->reason);
	free(c->expected);
	free(c->actual);
	free(c->rerun);
	eb_wirelog_free(c->wire);
	eb_timeline_free(c->timeline);
	free(c);
}

void eb_report_free(eb_report *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n_cases; i++)
		case_free(r->cases[i]);
	free(r->cases);
	for (i = 0; i < r->n_meta; i++) {
		free(r->meta_key[i]);
		free(r->meta_val[i]);
	}
	free(r->meta_key);
	free(r->meta_val);
	free(r->tool);
	free(r->tool_version);
	free(r->target);
	free(r->command);
	free(r->incomplete);
	for (i = 0; i < r->n_not_run; i++)
		free(r->not_run[i]);
	free(r->not_run);
	if (r->sync)
		pthread_mutex_destroy(&r->sync->lock);
	free(r->sync);
	free(r);
}

static char **dup_list(const char *const *v, size_t n, bool *oom)
{
	char **out;
	size_t i;

	if (!v || n == 0)
		return NULL;
	out = calloc(n, sizeof(*out));
	if (!out) {
		*oom = true;
		return NULL;
	}
	for (i = 0; i < n; i++)
		out[i] = dup_utf8(v[i] ? v[i] : "", oom);
	return out;
}

/* "versioning/dense-after-batch" -> "versioning"; an id without '/' is its
 * own category's only member, so it goes under "other". */
static char *derive_category(const char *id, bool *oom)
{
	const char *slash = strchr(id, '/');
	char *out;
	size_t n;

	if (!slash || slash == id)
		return dup_utf8("other", oom);
	n = (size_t)(slash - id);
	out = malloc(n + 1);
	if (!out) {
		*oom = true;
		return NULL;
	}
	memcpy(out, id, n);
	out[n] = '\0';
	return out;
}

/* Builds a stored case from res; takes res->wire when take_wire. */
static eb_rpt_case *case_build(const eb_case_result *res, bool take_wire)
{
	eb_rpt_case *c = calloc(1, sizeof(*c));
	bool oom = false;

	if (!c)
		return NULL;
	c->id = dup_utf8(res->id ? res->id : "", &oom);
	c->title = dup_utf8(res->title ? res->title : "", &oom);
	if (res->category && res->category[0])
		c->category = dup_utf8(res->category, &oom);
	else if (c->id)
		c->category = derive_category(c->id, &oom);
	c->level = dup_utf8(res->level, &oom);
	c->rules = dup_list(res->rules, res->n_rules, &oom);
	c->n_rules = c->rules ? res->n_rules : 0;
	c->tags = dup_list(res->tags, res->n_tags, &oom);
	c->n_tags = c->tags ? res->n_tags : 0;
	c->outcome = (unsigned)res->outcome < EB_RPT_N_OUTCOMES ? res->outcome : EB_OUT_ERROR;
	c->failed_rule = dup_utf8(res->failed_rule, &oom);
	c->reason = dup_utf8(res->reason, &oom);
	c->expected = dup_utf8(res->expected, &oom);
	c->actual = dup_utf8(res->actual, &oom);
	c->rerun = dup_utf8(res->rerun, &oom);
	/* JSON has no NaN or infinity; a bogus duration must not spoil the file */
	c->duration_ms = isfinite(res->duration_ms) && res->duration_ms > 0 ? res->duration_ms : 0.0;
	if (take_wire) {
		c->wire = res->wire;
		c->timeline = res->timeline;
	}
	if (oom || !c->category) {
		c->wire = NULL; /* the caller keeps it on failure */
		c->timeline = NULL;
		case_free(c);
		return NULL;
	}
	return c;
}

/* Appends c (taken) under the lock. 0 or -1. */
static int case_push(eb_report *r, eb_rpt_case *c)
{
	int rc = -1;

	lock(r);
	if (r->n_cases == r->cap_cases) {
		size_t ncap = r->cap_cases ? r->cap_cases * 2 : 64;
		eb_rpt_case **nc = realloc(r->cases, ncap * sizeof(*nc));

		if (!nc)
			goto out;
		r->cases = nc;
		r->cap_cases = ncap;
	}
	c->seq = r->n_cases;
	r->cases[r->n_cases++] = c;
	r->counts[c->outcome]++;
	rc = 0;
out:
	unlock(r);
	return rc;
}

int eb_report_add(eb_report *r, const eb_case_result *res)
{
	eb_rpt_case *c;

	if (!res)
		return -1;
	if (!r) {
		eb_wirelog_free(res->wire);
		eb_timeline_free(res->timeline);
		return -1;
	}
	/* The wire log is the report's even on failure, so callers can drop
	 * their pointer right after the call whatever it returned. */
	c = case_build(res, true);
	if (!c) {
		eb_wirelog_free(res->wire);
		eb_timeline_free(res->timeline);
		return -1;
	}
	if (case_push(r, c) != 0) {
		case_free(c);
		return -1;
	}
	return 0;
}

int eb_report_set_meta(eb_report *r, const char *key, const char *value)
{
	bool oom = false;
	char *k, *v;
	size_t i;
	int rc = -1;

	if (!r || !key)
		return -1;
	k = dup_utf8(key, &oom);
	v = dup_utf8(value ? value : "", &oom);
	if (oom)
		goto fail;
	lock(r);
	for (i = 0; i < r->n_meta; i++) {
		if (strcmp(r->meta_key[i], k) == 0) {
			free(r->meta_val[i]);
			r->meta_val[i] = v;
			free(k);
			unlock(r);
			return 0;
		}
	}
	if (r->n_meta == r->cap_meta) {
		size_t ncap = r->cap_meta ? r->cap_meta * 2 : 8;
		char **nk = realloc(r->meta_key, ncap * sizeof(*nk));
		char **nv;

		if (!nk) {
			unlock(r);
			goto fail;
		}
		r->meta_key = nk;
		nv = realloc(r->meta_val, ncap * sizeof(*nv));
		if (!nv) {
			unlock(r);
			goto fail;
		}
		r->meta_val = nv;
		r->cap_meta = ncap;
	}
	r->meta_key[r->n_meta] = k;
	r->meta_val[r->n_meta] = v;
	r->n_meta++;
	unlock(r);
	return 0;
fail:
	free(k);
	free(v);
	return rc;
}

void eb_report_finish(eb_report *r)
{
	uint64_t now;

	if (!r)
		return;
	now = eb_time_mono_ns();
	lock(r);
	r->duration_ms = now > r->start_mono_ns ? (double)(now - r->start_mono_ns) / 1e6 : 0.0;
	r->finished = true;
	unlock(r);
}

size_t eb_report_count(const eb_report *r, eb_outcome o)
{
	size_t n;

	if (!r || (unsigned)o >= EB_RPT_N_OUTCOMES)
		return 0;
	lock(r);
	n = r->counts[o];
	unlock(r);
	return n;
}

eb_outcome eb_report_verdict(const eb_report *r)
{
	if (eb_report_count(r, EB_OUT_FAIL) > 0)
		return EB_OUT_FAIL;
	if (eb_report_count(r, EB_OUT_ERROR) > 0)
		return EB_OUT_ERROR;
	return EB_OUT_PASS;
}

int eb_report_set_incomplete(eb_report *r, const char *reason,
			     const char *const *not_run, size_t n_not_run)
{
	bool oom = false;
	char *why, **ids = NULL, *list = NULL;
	size_t i, len = 64;
	int rc = 0;

	if (!r)
		return -1;
	why = dup_utf8(reason && *reason ? reason : "the run did not finish", &oom);
	if (n_not_run) {
		ids = dup_list(not_run, n_not_run, &oom);
		for (i = 0; i < n_not_run; i++)
			len += strlen(not_run[i]) + 2;
		list = malloc(len);
		if (list) {
			size_t o = (size_t)snprintf(list, len, "%zu case(s): ", n_not_run);

			for (i = 0; i < n_not_run && o < len; i++)
				o += (size_t)snprintf(list + o, len - o, "%s%s", i ? ", " : "",
						      not_run[i]);
		} else {
			oom = true;
		}
	}
	if (oom || !why) {
		free(why);
		why = NULL;
		if (ids)
			for (i = 0; i < n_not_run; i++)
				free(ids[i]);
		free(ids);
		ids = NULL;
		n_not_run = 0;
		rc = -1;
	}
	lock(r);
	free(r->incomplete);
	for (i = 0; i < r->n_not_run; i++)
		free(r->not_run[i]);
	free(r->not_run);
	/* a static fallback would be freed later: keep a heap copy or none */
	r->incomplete = why ? why : strdup("out of memory");
	r->not_run = ids;
	r->n_not_run = ids ? n_not_run : 0;
	unlock(r);
	if (r->incomplete)
		eb_report_set_meta(r, "incomplete", r->incomplete);
	eb_report_set_meta(r, "notRun", list ? list : "none");
	free(list);
	return rc;
}

const char *eb_report_incomplete(const eb_report *r)
{
	const char *s;

	if (!r)
		return NULL;
	lock(r);
	s = r->incomplete;
	unlock(r);
	return s;
}

size_t eb_report_not_run_count(const eb_report *r)
{
	size_t n;

	if (!r)
		return 0;
	lock(r);
	n = r->n_not_run;
	unlock(r);
	return n;
}

const char *eb_report_not_run(const eb_report *r, size_t i)
{
	const char *s = NULL;

	if (!r)
		return NULL;
	lock(r);
	if (i < r->n_not_run)
		s = r->not_run[i];
	unlock(r);
	return s;
}

const char *eb_report_verdict_name(const eb_report *r)
{
	if (eb_report_incomplete(r))
		return "INCOMPLETE";
	return eb_outcome_name(eb_report_verdict(r));
}

size_t eb_report_case_count(const eb_report *r)
{
	size_t n;

	if (!r)
		return 0;
	lock(r);
	n = r->n_cases;
	unlock(r);
	return n;
}

static void case_view(const eb_rpt_case *c, eb_case_result *out)
{
	memset(out, 0, sizeof(*out));
	out->id = c->id;
	out->title = c->title;
	out->category = c->category;
	out->level = c->level;
	out->rules = (const char *const *)c->rules;
	out->n_rules = c->n_rules;
	out->tags = (const char *const *)c->tags;
	out->n_tags = c->n_tags;
	out->outcome = c->outcome;
	out->failed_rule = c->failed_rule;
	out->reason = c->reason;
	out->expected = c->expected;
	out->actual = c->actual;
	out->rerun = c->rerun;
	out->duration_ms = c->duration_ms;
	out->wire = c->wire;
	out->timeline = c->timeline;
}

int eb_report_case_get(const eb_report *r, size_t i, eb_case_result *out)
{
	const eb_rpt_case *c = NULL;

	if (!r || !out)
		return -1;
	lock(r);
	if (i < r->n_cases)
		c = r->cases[i];
	unlock(r);
	if (!c)
		return -1;
	case_view(c, out);
	return 0;
}

const char *eb_report_meta_get(const eb_report *r, const char *key)
{
	const char *v = NULL;
	size_t i;

	if (!r || !key)
		return NULL;
	lock(r);
	for (i = 0; i < r->n_meta; i++) {
		if (strcmp(r->meta_key[i], key) == 0) {
			v = r->meta_val[i];
			break;
		}
	}
	unlock(r);
	return v;
}

const char *eb_report_tool(const eb_report *r)
{
	return r ? r->tool : "";
}

const char *eb_report_tool_version(const eb_report *r)
{
	return r ? r->tool_version : "";
}

const char *eb_report_target(const eb_report *r)
{
	return r ? r->target : "";
}

const char *eb_report_command(const eb_report *r)
{
	return r ? r->command : "";
}

uint64_t eb_report_started_ms(const eb_report *r)
{
	return r ? r->started_ms : 0;
}

double eb_report_duration_ms(const eb_report *r)
{
	double d;
	uint64_t now;

	if (!r)
		return 0.0;
	lock(r);
	d = r->duration_ms;
	if (!r->finished) {
		now = eb_time_mono_ns();
		d = now > r->start_mono_ns ? (double)(now - r->start_mono_ns) / 1e6 : 0.0;
	}
	unlock(r);
	return d;
}

static eb_wirelog *wire_copy(const eb_wirelog *w, bool *oom)
{
	eb_wirelog *c;
	size_t i, n;

	if (!w)
		return NULL;
	c = eb_wirelog_new(0, SIZE_MAX / 2);
	if (!c) {
		*oom = true;
		return NULL;
	}
	n = eb_wirelog_count(w);
	for (i = 0; i < n; i++) {
		if (eb_wirelog_add_entry(c, eb_wirelog_get(w, i)) != 0) {
			*oom = true;
			eb_wirelog_free(c);
			return NULL;
		}
	}
	eb_wirelog_add_dropped(c, eb_wirelog_dropped(w));
	return c;
}

int eb_report_merge(eb_report *dst, const eb_report *src)
{
	size_t i, n;

	if (!dst || !src || dst == src)
		return -1;
	n = eb_report_case_count(src);
	for (i = 0; i < n; i++) {
		eb_case_result v;
		eb_rpt_case *c;
		bool oom = false;

		if (eb_report_case_get(src, i, &v) != 0)
			return -1;
		v.wire = wire_copy(v.wire, &oom);
		if (oom)
			return -1;
		if (v.timeline) {
			v.timeline = eb_timeline_copy(v.timeline);
			if (!v.timeline) {
				eb_wirelog_free(v.wire);
				return -1;
			}
		}
		c = case_build(&v, true);
		if (!c) {
			eb_wirelog_free(v.wire);
			eb_timeline_free(v.timeline);
			return -1;
		}
		if (case_push(dst, c) != 0) {
			case_free(c);
			return -1;
		}
	}
	lock(src);
	n = src->n_meta;
	unlock(src);
	for (i = 0; i < n; i++) {
		const char *k, *v;

		lock(src);
		k = src->meta_key[i];
		v = src->meta_val[i];
		unlock(src);
		if (eb_report_meta_get(dst, k))
			continue;
		if (eb_report_set_meta(dst, k, v) != 0)
			return -1;
	}
	return 0;
}

/* ---- helpers for the writers -------------------------------------------- */

static int case_cmp(const void *a, const void *b)
{
	const eb_rpt_case *x = *(const eb_rpt_case *const *)a;
	const eb_rpt_case *y = *(const eb_rpt_case *const *)b;
	int c = strcmp(x->id, y->id);

	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

const eb_rpt_case **eb_rpt_sorted(const eb_report *r, size_t *n, bool *oom)
{
	const eb_rpt_case **v = NULL;

	*n = 0;
	if (oom)
		*oom = false;
	lock(r);
	if (r->n_cases) {
		v = malloc(r->n_cases * sizeof(*v));
		if (v) {
			memcpy(v, r->cases, r->n_cases * sizeof(*v));
			*n = r->n_cases;
		} else if (oom) {
			*oom = true;
		}
	}
	unlock(r);
	if (v)
		qsort(v, *n, sizeof(*v), case_cmp);
	return v;
}

void eb_rpt_count(const eb_rpt_case *const *c, size_t n, size_t counts[EB_RPT_N_OUTCOMES])
{
	size_t i;

	memset(counts, 0, EB_RPT_N_OUTCOMES * sizeof(counts[0]));
	for (i = 0; i < n; i++)
		counts[c[i]->outcome]++;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char **eb_rpt_categories(const eb_rpt_case *const *c, size_t n, size_t *n_cat)
{
	const char **v;
	size_t i, k = 0;

	*n_cat = 0;
	if (n == 0)
		return NULL;
	v = malloc(n * sizeof(*v));
	if (!v)
		return NULL;
	for (i = 0; i < n; i++)
		v[i] = c[i]->category;
	qsort(v, n, sizeof(*v), str_cmp);
	for (i = 0; i < n; i++)
		if (k == 0 || strcmp(v[k - 1], v[i]) != 0)
			v[k++] = v[i];
	*n_cat = k;
	return v;
}

/* Adds c to row unless it is already the last one (a case citing a rule
 * twice, or as rule and failed_rule, counts once: cases arrive in order). */
static int cov_push(eb_rpt_cov *row, const eb_rpt_case *c)
{
	if (row->n && row->cases[row->n - 1] == c)
		return 0;
	if (row->n == row->cap) {
		size_t ncap = row->cap ? row->cap * 2 : 4;
		const eb_rpt_case **nc = realloc(row->cases, ncap * sizeof(*nc));

		if (!nc)
			return -1;
		row->cases = nc;
		row->cap = ncap;
	}
	row->cases[row->n++] = c;
	return 0;
}

static int cov_cmp(const void *a, const void *b)
{
	return strcmp(((const eb_rpt_cov *)a)->id, ((const eb_rpt_cov *)b)->id);
}

int eb_rpt_coverage(const eb_rpt_case *const *c, size_t n, eb_rpt_cov **out, size_t *n_out)
{
	eb_rpt_cov *rows;
	size_t n_rows = eb_rules_count, cap_rows, i, j;
	int rc = -1;

	*out = NULL;
	*n_out = 0;
	/* Upper bound of rows: every rule plus every id any case cites. */
	cap_rows = eb_rules_count;
	for (i = 0; i < n; i++)
		cap_rows += c[i]->n_rules + 1;
	rows = calloc(cap_rows ? cap_rows : 1, sizeof(*rows));
	if (!rows)
		return -1;
	for (i = 0; i < eb_rules_count; i++) {
		rows[i].id = eb_rules[i].id;
		rows[i].rule = &eb_rules[i];
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j <= c[i]->n_rules; j++) {
			const char *id = j < c[i]->n_rules ? c[i]->rules[j] : c[i]->failed_rule;
			const eb_rule *rule;
			size_t k;

			if (!id || !id[0])
				continue;
			rule = eb_rule_find(id);
			if (rule) {
				k = (size_t)(rule - eb_rules);
			} else {
				for (k = eb_rules_count; k < n_rows; k++)
					if (strcmp(rows[k].id, id) == 0)
						break;
				if (k == n_rows) {
					rows[k].id = id;
					n_rows++;
				}
			}
			if (cov_push(&rows[k], c[i]) != 0)
				goto out;
		}
	}
	qsort(rows + eb_rules_count, n_rows - eb_rules_count, sizeof(*rows), cov_cmp);
	*out = rows;
	*n_out = n_rows;
	rows = NULL;
	rc = 0;
out:
	if (rows)
		eb_rpt_coverage_free(rows, n_rows);
	return rc;
}

eb_outcome eb_rpt_rule_status(const eb_rpt_cov *row)
{
	static const eb_outcome order[] = { EB_OUT_FAIL, EB_OUT_ERROR, EB_OUT_NON_STRICT,
					    EB_OUT_PASS };
	size_t j, k;

	for (k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		for (j = 0; j < row->n; j++) {
			const eb_rpt_case *c = row->cases[j];

			if (c->outcome != order[k])
				continue;
			if ((c->outcome == EB_OUT_FAIL || c->outcome == EB_OUT_NON_STRICT) &&
			    c->failed_rule && c->failed_rule[0] && strcmp(c->failed_rule, row->id) != 0)
				continue;
			return order[k];
		}
	}
	return EB_OUT_SKIP;
}

void eb_rpt_coverage_free(eb_rpt_cov *cov, size_t n)
{
	size_t i;

	if (!cov)
		return;
	for (i = 0; i < n; i++)
		free(cov[i].cases);
	free(cov);
}

void eb_rpt_time_iso(uint64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000u);
	struct tm tm;

	if (!gmtime_r(&t, &tm)) {
		snprintf(buf, len, "1970-01-01T00:00:00.000Z");
		return;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (unsigned)(ms % 1000u));
}

/* Reads exactly n decimal digits. */
static bool digits(const char **p, int n, int *out)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		char ch = (*p)[i];

		if (ch < '0' || ch > '9')
			return false;
		v = v * 10 + (ch - '0');
	}
	*p += n;
	*out = v;
	return true;
}

bool eb_rpt_time_parse(const char *s, uint64_t *ms)
{
	struct tm tm;
	int y, mo, d, h, mi, se, frac = 0;
	time_t t;

	if (!s)
		return false;
	memset(&tm, 0, sizeof(tm));
	if (!digits(&s, 4, &y) || *s++ != '-' || !digits(&s, 2, &mo) || *s++ != '-' ||
	    !digits(&s, 2, &d) || *s++ != 'T' || !digits(&s, 2, &h) || *s++ != ':' ||
	    !digits(&s, 2, &mi) || *s++ != ':' || !digits(&s, 2, &se))
		return false;
	if (*s == '.') {
		s++;
		if (!digits(&s, 3, &frac))
			return false;
	}
	if (strcmp(s, "Z") != 0)
		return false;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return false;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	t = timegm(&tm);
	if (t < 0)
		return false;
	*ms = (uint64_t)t * 1000u + (uint64_t)frac;
	return true;
}

int eb_rpt_open(eb_rpt_out *o, const char *path, char *errbuf, size_t errlen)
{
	size_t n;

	memset(o, 0, sizeof(*o));
	if (!path || !path[0]) {
		eb_rpt_err(errbuf, errlen, "no output path");
		return -1;
	}
	if (strcmp(path, "-") == 0) {
		o->f = stdout;
		return 0;
	}
	{
		struct stat st;

		/* A device or a pipe (/dev/stdout, /dev/full, a FIFO) is written
		 * in place: a temporary file beside it renamed over it would
		 * replace the device node itself. */
		if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
			o->path = strdup(path);
			if (!o->path) {
				eb_rpt_err(errbuf, errlen, "out of memory");
				return -1;
			}
			o->f = fopen(path, "w");
			if (!o->f) {
				eb_rpt_err(errbuf, errlen, "%s: %s", path, strerror(errno));
				free(o->path);
				o->path = NULL;
				return -1;
			}
			o->in_place = true;
			return 0;
		}
	}
	n = strlen(path) + 32;
	o->path = strdup(path);
	o->tmp = malloc(n);
	if (!o->path || !o->tmp) {
		eb_rpt_err(errbuf, errlen, "out of memory");
		goto fail;
	}
	snprintf(o->tmp, n, "%s.tmp%ld", path, (long)getpid());
	o->f = fopen(o->tmp, "w");
	if (!o->f) {
		eb_rpt_err(errbuf, errlen, "%s: %s", o->tmp, strerror(errno));
		goto fail;
	}
	return 0;
fail:
	free(o->path);
	free(o->tmp);
	memset(o, 0, sizeof(*o));
	return -1;
}

int eb_rpt_close(eb_rpt_out *o, bool ok, char *errbuf, size_t errlen)
{
	int rc = 0;

	if (!o->f)
		return -1;
	if (fflush(o->f) != 0 || ferror(o->f)) {
		if (ok)
			eb_rpt_err(errbuf, errlen, "%s: write failed: %s",
				   o->path ? o->path : "stdout", strerror(errno));
		ok = false;
	}
	if (o->in_place) {
		if (fclose(o->f) != 0 && ok) {
			eb_rpt_err(errbuf, errlen, "%s: %s", o->path, strerror(errno));
			ok = false;
		}
		o->f = NULL;
		free(o->path);
		o->path = NULL;
		o->in_place = false;
		return ok ? 0 : -1;
	}
	if (!o->tmp) { /* stdout stays open */
		o->f = NULL;
		return ok ? 0 : -1;
	}
	if (fclose(o->f) != 0 && ok) {
		eb_rpt_err(errbuf, errlen, "%s: %s", o->path, strerror(errno));
		ok = false;
	}
	o->f = NULL;
	if (ok && rename(o->tmp, o->path) != 0) {
		eb_rpt_err(errbuf, errlen, "%s: %s", o->path, strerror(errno));
		ok = false;
	}
	if (!ok) {
		remove(o->tmp);
		rc = -1;
	}
	free(o->tmp);
	free(o->path);
	o->tmp = o->path = NULL;
	return rc;
}
