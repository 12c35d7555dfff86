/*
 * eb_report_json.c — the JSON report ("earlybird-report/1", described in
 * docs/REPORT-SCHEMA.md), the source every other format can be regenerated
 * from, and its reader.
 */
#include "eb_report_priv.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "eb_json.h"

/* A report nests 4 levels (root > cases > case > wire > entry); the margin
 * lets a newer minor revision add a level without old readers refusing. */
#define READ_MAX_DEPTH 16
/* Hundreds of cases with 1 MiB wire logs each stay well below this. */
#define READ_MAX_BYTES (512u * 1024u * 1024u)

static const char *const dir_names[] = { "out", "in", "note" };

/* ---- writing -------------------------------------------------------------- */

/* Adds item under key; remembers the first failure in *ok (cJSON returns NULL
 * items when out of memory). */
static void put(cJSON *obj, const char *key, cJSON *item, bool *ok)
{
	if (!item || !obj || !cJSON_AddItemToObject(obj, key, item)) {
		cJSON_Delete(item);
		*ok = false;
	}
}

static void push(cJSON *arr, cJSON *item, bool *ok)
{
	if (!item || !arr || !cJSON_AddItemToArray(arr, item)) {
		cJSON_Delete(item);
		*ok = false;
	}
}

static cJSON *str_or_null(const char *s)
{
	return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *str_array(char *const *v, size_t n, bool *ok)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; a && i < n; i++)
		push(a, cJSON_CreateString(v[i]), ok);
	return a;
}

static cJSON *wire_json(const eb_wirelog *w, bool *ok)
{
	cJSON *a;
	size_t i, n;

	if (!w)
		return cJSON_CreateNull();
	a = cJSON_CreateArray();
	n = eb_wirelog_count(w);
	for (i = 0; a && i < n; i++) {
		const eb_wire_entry *e = eb_wirelog_get(w, i);
		cJSON *o = cJSON_CreateObject();

		put(o, "tUs", cJSON_CreateNumber((double)e->t_us), ok);
		put(o, "dir", cJSON_CreateString((unsigned)e->dir <= EB_WIRE_NOTE ?
						 dir_names[e->dir] : "note"), ok);
		put(o, "proto", cJSON_CreateString(e->proto), ok);
		put(o, "conn", cJSON_CreateNumber(e->conn), ok);
		put(o, "text", cJSON_CreateString(e->text ? e->text : ""), ok);
		push(a, o, ok);
	}
	return a;
}

static cJSON *case_json(const eb_rpt_case *c, bool *ok)
{
	cJSON *o = cJSON_CreateObject();

	put(o, "id", cJSON_CreateString(c->id), ok);
	put(o, "title", cJSON_CreateString(c->title), ok);
	put(o, "category", cJSON_CreateString(c->category), ok);
	put(o, "level", str_or_null(c->level), ok);
	put(o, "rules", str_array(c->rules, c->n_rules, ok), ok);
	put(o, "tags", str_array(c->tags, c->n_tags, ok), ok);
	put(o, "outcome", cJSON_CreateString(eb_outcome_name(c->outcome)), ok);
	put(o, "failedRule", str_or_null(c->failed_rule), ok);
	put(o, "reason", str_or_null(c->reason), ok);
	put(o, "expected", str_or_null(c->expected), ok);
	put(o, "actual", str_or_null(c->actual), ok);
	put(o, "rerun", str_or_null(c->rerun), ok);
	put(o, "durationMs", cJSON_CreateNumber(c->duration_ms), ok);
	put(o, "wire", wire_json(c->wire, ok), ok);
	put(o, "wireDropped", cJSON_CreateNumber((double)eb_wirelog_dropped(c->wire)), ok);
	/* Client cases only: an optional member, so readers of server
	 * reports see nothing new. */
	if (c->timeline)
		put(o, "timeline", eb_timeline_to_json(c->timeline), ok);
	return o;
}

static cJSON *report_json(const eb_report *r, const eb_rpt_case *const *v, size_t n, bool *ok)
{
	static const char *const count_keys[EB_RPT_N_OUTCOMES] = {
		"pass", "fail", "nonStrict", "skip", "error"
	};
	cJSON *root = cJSON_CreateObject(), *meta, *sum, *cases, *rules;
	size_t counts[EB_RPT_N_OUTCOMES], i, j, n_cov = 0;
	eb_rpt_cov *cov = NULL;
	char when[40];
	eb_outcome verdict;

	if (!root) {
		*ok = false;
		return NULL;
	}
	eb_rpt_count(v, n, counts);
	verdict = counts[EB_OUT_FAIL] ? EB_OUT_FAIL : counts[EB_OUT_ERROR] ? EB_OUT_ERROR : EB_OUT_PASS;
	eb_rpt_time_iso(r->started_ms, when, sizeof(when));

	put(root, "schema", cJSON_CreateString(EB_RPT_SCHEMA), ok);
	put(root, "tool", cJSON_CreateString(r->tool), ok);
	put(root, "toolVersion", cJSON_CreateString(r->tool_version), ok);
	put(root, "target", cJSON_CreateString(r->target), ok);
	put(root, "command", cJSON_CreateString(r->command), ok);
	put(root, "startedAt", cJSON_CreateString(when), ok);
	put(root, "durationMs", cJSON_CreateNumber(eb_report_duration_ms(r)), ok);

	meta = cJSON_CreateObject();
	pthread_mutex_lock(&r->sync->lock);
	for (i = 0; meta && i < r->n_meta; i++)
		put(meta, r->meta_key[i], cJSON_CreateString(r->meta_val[i]), ok);
	pthread_mutex_unlock(&r->sync->lock);
	put(root, "meta", meta, ok);

	sum = cJSON_CreateObject();
	for (i = 0; i < EB_RPT_N_OUTCOMES; i++)
		put(sum, count_keys[i], cJSON_CreateNumber((double)counts[i]), ok);
	put(sum, "total", cJSON_CreateNumber((double)n), ok);
	if (eb_report_incomplete(r)) {
		cJSON *inc = cJSON_CreateObject(), *ids = cJSON_CreateArray();

		put(sum, "verdict", cJSON_CreateString("INCOMPLETE"), ok);
		put(inc, "reason", cJSON_CreateString(eb_report_incomplete(r)), ok);
		for (i = 0; ids && i < eb_report_not_run_count(r); i++)
			push(ids, cJSON_CreateString(eb_report_not_run(r, i)), ok);
		put(inc, "notRun", ids, ok);
		put(sum, "incomplete", inc, ok);
	} else {
		put(sum, "verdict", cJSON_CreateString(eb_outcome_name(verdict)), ok);
	}
	put(root, "summary", sum, ok);

	cases = cJSON_CreateArray();
	for (i = 0; cases && i < n && *ok; i++)
		push(cases, case_json(v[i], ok), ok);
	put(root, "cases", cases, ok);

	if (eb_rpt_coverage(v, n, &cov, &n_cov) != 0) {
		*ok = false;
		return root;
	}
	rules = cJSON_CreateArray();
	for (i = 0; rules && i < n_cov && *ok; i++) {
		cJSON *o = cJSON_CreateObject(), *ids = cJSON_CreateArray();

		put(o, "id", cJSON_CreateString(cov[i].id), ok);
		put(o, "level", cJSON_CreateString(cov[i].rule ? cov[i].rule->level : ""), ok);
		put(o, "section", cJSON_CreateString(cov[i].rule ? cov[i].rule->section : ""), ok);
		put(o, "text", cJSON_CreateString(cov[i].rule ? cov[i].rule->text : ""), ok);
		/* the matrix's status (eb_rpt_rule_status); rules no case cites
		 * have none */
		if (cov[i].n)
			put(o, "status", cJSON_CreateString(eb_outcome_name(eb_rpt_rule_status(&cov[i]))),
			    ok);
		for (j = 0; ids && j < cov[i].n; j++)
			push(ids, cJSON_CreateString(cov[i].cases[j]->id), ok);
		put(o, "cases", ids, ok);
		push(rules, o, ok);
	}
	put(root, "rules", rules, ok);
	eb_rpt_coverage_free(cov, n_cov);
	return root;
}

int eb_report_write_json(const eb_report *r, const char *path, char *errbuf, size_t errlen)
{
	const eb_rpt_case **v = NULL;
	size_t n = 0;
	bool oom = false, ok = true;
	cJSON *root = NULL;
	char *text = NULL;
	eb_rpt_out out;
	int rc = -1;

	if (!r) {
		eb_rpt_err(errbuf, errlen, "no report");
		return -1;
	}
	v = eb_rpt_sorted(r, &n, &oom);
	if (oom)
		goto nomem;
	root = report_json(r, v, n, &ok);
	if (!ok)
		goto nomem;
	text = cJSON_Print(root);
	if (!text)
		goto nomem;
	if (eb_rpt_open(&out, path, errbuf, errlen) != 0)
		goto out;
	fputs(text, out.f);
	fputc('\n', out.f);
	rc = eb_rpt_close(&out, true, errbuf, errlen);
	goto out;
nomem:
	eb_rpt_err(errbuf, errlen, "out of memory building the JSON report");
out:
	cJSON_free(text);
	cJSON_Delete(root);
	free(v);
	return rc;
}

/* ---- reading -------------------------------------------------------------- */

typedef struct rd {
	char *errbuf;
	size_t errlen;
	bool failed;
} rd;

static void rd_fail(rd *d, const char *what, const char *where)
{
	if (d->failed)
		return;
	d->failed = true;
	eb_rpt_err(d->errbuf, d->errlen, "report: %s: %s", where, what);
}

/* Member key of o: a string, or NULL (null or absent) when nullable. */
static const char *get_str(rd *d, const cJSON *o, const char *key, bool nullable,
			   const char *where)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	char msg[96];

	if (cJSON_IsString(v) && v->valuestring)
		return v->valuestring;
	if (nullable && (!v || cJSON_IsNull(v)))
		return NULL;
	snprintf(msg, sizeof(msg), "\"%s\" must be a string%s", key, nullable ? " or null" : "");
	rd_fail(d, msg, where);
	return NULL;
}

static double get_num(rd *d, const cJSON *o, const char *key, double lo, double hi,
		      const char *where)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	char msg[96];

	if (cJSON_IsNumber(v) && isfinite(v->valuedouble) && v->valuedouble >= lo &&
	    v->valuedouble <= hi)
		return v->valuedouble;
	snprintf(msg, sizeof(msg), "\"%s\" must be a number in [%.0f, %.0f]", key, lo, hi);
	rd_fail(d, msg, where);
	return 0;
}

/* Array of strings under key (absent: empty). *v is malloc'd, strings
 * borrowed from the tree. */
static size_t get_str_array(rd *d, const cJSON *o, const char *key, const char ***v,
			    const char *where)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key), *it;
	size_t n = 0;
	char msg[96];

	*v = NULL;
	if (!a)
		return 0;
	if (!cJSON_IsArray(a))
		goto bad;
	*v = malloc(((size_t)cJSON_GetArraySize(a) + 1) * sizeof(**v));
	if (!*v) {
		rd_fail(d, "out of memory", where);
		return 0;
	}
	cJSON_ArrayForEach(it, a) {
		if (!cJSON_IsString(it) || !it->valuestring)
			goto bad;
		(*v)[n++] = it->valuestring;
	}
	return n;
bad:
	snprintf(msg, sizeof(msg), "\"%s\" must be an array of strings", key);
	rd_fail(d, msg, where);
	return 0;
}

static eb_wirelog *read_wire(rd *d, const cJSON *c, const char *where)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(c, "wire"), *it;
	eb_wirelog *w;
	double dropped;

	if (!a || cJSON_IsNull(a))
		return NULL;
	if (!cJSON_IsArray(a)) {
		rd_fail(d, "\"wire\" must be an array or null", where);
		return NULL;
	}
	w = eb_wirelog_new(0, SIZE_MAX / 2);
	if (!w) {
		rd_fail(d, "out of memory", where);
		return NULL;
	}
	cJSON_ArrayForEach(it, a) {
		eb_wire_entry e;
		const char *dir, *proto;
		size_t k, pl;

		memset(&e, 0, sizeof(e));
		if (!cJSON_IsObject(it)) {
			rd_fail(d, "wire entries must be objects", where);
			break;
		}
		e.t_us = (uint64_t)get_num(d, it, "tUs", 0, 9007199254740991.0, where);
		e.conn = (int)get_num(d, it, "conn", -1, 2147483647.0, where);
		dir = get_str(d, it, "dir", false, where);
		proto = get_str(d, it, "proto", false, where);
		e.text = (char *)get_str(d, it, "text", false, where);
		if (d->failed)
			break;
		for (k = 0; k <= EB_WIRE_NOTE; k++)
			if (strcmp(dir, dir_names[k]) == 0)
				break;
		if (k > EB_WIRE_NOTE) {
			rd_fail(d, "wire \"dir\" must be \"out\", \"in\" or \"note\"", where);
			break;
		}
		e.dir = (eb_wire_dir)k;
		pl = strnlen(proto, sizeof(e.proto) - 1);
		memcpy(e.proto, proto, pl);
		if (eb_wirelog_add_entry(w, &e) != 0) {
			rd_fail(d, "out of memory", where);
			break;
		}
	}
	dropped = cJSON_GetObjectItemCaseSensitive(c, "wireDropped") ?
		  get_num(d, c, "wireDropped", 0, 9007199254740991.0, where) : 0;
	if (d->failed) {
		eb_wirelog_free(w);
		return NULL;
	}
	eb_wirelog_add_dropped(w, (size_t)dropped);
	return w;
}

static void read_case(rd *d, eb_report *r, const cJSON *c, size_t idx)
{
	eb_case_result res;
	const char **rules = NULL, **tags = NULL;
	const char *outcome;
	char where[64];
	size_t k;

	snprintf(where, sizeof(where), "cases[%zu]", idx);
	if (!cJSON_IsObject(c)) {
		rd_fail(d, "must be an object", where);
		return;
	}
	memset(&res, 0, sizeof(res));
	res.id = get_str(d, c, "id", false, where);
	res.title = get_str(d, c, "title", true, where);
	res.category = get_str(d, c, "category", true, where);
	res.level = get_str(d, c, "level", true, where);
	res.n_rules = get_str_array(d, c, "rules", &rules, where);
	res.rules = rules;
	res.n_tags = get_str_array(d, c, "tags", &tags, where);
	res.tags = tags;
	outcome = get_str(d, c, "outcome", false, where);
	res.failed_rule = get_str(d, c, "failedRule", true, where);
	res.reason = get_str(d, c, "reason", true, where);
	res.expected = get_str(d, c, "expected", true, where);
	res.actual = get_str(d, c, "actual", true, where);
	res.rerun = get_str(d, c, "rerun", true, where);
	res.duration_ms = get_num(d, c, "durationMs", 0, 1e15, where);
	if (!d->failed) {
		for (k = 0; k < EB_RPT_N_OUTCOMES; k++)
			if (strcmp(outcome, eb_outcome_name((eb_outcome)k)) == 0)
				break;
		if (k == EB_RPT_N_OUTCOMES)
			rd_fail(d, "\"outcome\" must be PASS, FAIL, NON-STRICT, SKIP or ERROR", where);
		res.outcome = (eb_outcome)k;
	}
	if (!d->failed)
		res.wire = read_wire(d, c, where);
	if (!d->failed && cJSON_GetObjectItemCaseSensitive(c, "timeline")) {
		const cJSON *tv = cJSON_GetObjectItemCaseSensitive(c, "timeline");

		if (!cJSON_IsNull(tv)) {
			res.timeline = eb_timeline_from_json(tv);
			if (!res.timeline) {
				rd_fail(d, "\"timeline\" must be an object with lanes and items", where);
				eb_wirelog_free(res.wire);
				res.wire = NULL;
			}
		}
	}
	if (!d->failed && eb_report_add(r, &res) != 0)
		rd_fail(d, "out of memory", where);
	free(rules);
	free(tags);
}

/* Reads the whole file (bounded). NULL with the error reported. */
static char *slurp(rd *d, const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL, *nb;
	size_t cap = 0, n = 0;

	if (!f) {
		eb_rpt_err(d->errbuf, d->errlen, "%s: %s", path, strerror(errno));
		d->failed = true;
		return NULL;
	}
	for (;;) {
		size_t got;

		if (n == cap) {
			if (cap >= READ_MAX_BYTES) {
				eb_rpt_err(d->errbuf, d->errlen, "%s: larger than %u bytes",
					   path, READ_MAX_BYTES);
				goto fail;
			}
			cap = cap ? cap * 2 : 65536;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				eb_rpt_err(d->errbuf, d->errlen, "%s: out of memory", path);
				goto fail;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		eb_rpt_err(d->errbuf, d->errlen, "%s: read error", path);
		goto fail;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
fail:
	d->failed = true;
	fclose(f);
	free(buf);
	return NULL;
}

eb_report *eb_report_read_json(const char *path, char *errbuf, size_t errlen)
{
	rd d = { errbuf, errlen, false };
	char *buf = NULL;
	size_t len = 0, i = 0;
	cJSON *root = NULL;
	const cJSON *cases, *meta, *it;
	const char *schema, *started;
	eb_report *r = NULL;
	uint64_t started_ms = 0;
	double duration;
	eb_err err;

	if (!path) {
		eb_rpt_err(errbuf, errlen, "no path");
		return NULL;
	}
	buf = slurp(&d, path, &len);
	if (!buf)
		goto out;
	if (eb_json_parse(buf, len, READ_MAX_DEPTH, &root, &err) != EB_OK) {
		eb_rpt_err(errbuf, errlen, "%s: %s", path, err.msg);
		d.failed = true;
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		rd_fail(&d, "not a JSON object", path);
		goto out;
	}
	schema = get_str(&d, root, "schema", false, path);
	if (d.failed)
		goto out;
	if (strcmp(schema, EB_RPT_SCHEMA) != 0) {
		eb_rpt_err(errbuf, errlen, "%s: schema \"%s\" is not \"%s\"", path, schema,
			   EB_RPT_SCHEMA);
		d.failed = true;
		goto out;
	}
	r = eb_report_new(get_str(&d, root, "tool", false, path),
			  get_str(&d, root, "toolVersion", false, path),
			  get_str(&d, root, "target", false, path),
			  get_str(&d, root, "command", false, path));
	started = get_str(&d, root, "startedAt", false, path);
	duration = get_num(&d, root, "durationMs", 0, 1e15, path);
	if (d.failed)
		goto out;
	if (!r) {
		rd_fail(&d, "out of memory", path);
		goto out;
	}
	if (!eb_rpt_time_parse(started, &started_ms)) {
		rd_fail(&d, "\"startedAt\" must be a UTC time like 2024-05-01T12:00:00.000Z", path);
		goto out;
	}
	r->started_ms = started_ms;
	r->duration_ms = duration;
	r->finished = true;

	meta = cJSON_GetObjectItemCaseSensitive(root, "meta");
	if (meta && !cJSON_IsObject(meta)) {
		rd_fail(&d, "\"meta\" must be an object", path);
		goto out;
	}
	cJSON_ArrayForEach(it, meta) {
		if (!cJSON_IsString(it) || !it->valuestring) {
			rd_fail(&d, "\"meta\" values must be strings", path);
			goto out;
		}
		if (eb_report_set_meta(r, it->string, it->valuestring) != 0) {
			rd_fail(&d, "out of memory", path);
			goto out;
		}
	}
	cases = cJSON_GetObjectItemCaseSensitive(root, "cases");
	if (!cJSON_IsArray(cases)) {
		rd_fail(&d, "\"cases\" must be an array", path);
		goto out;
	}
	cJSON_ArrayForEach(it, cases) {
		read_case(&d, r, it, i++);
		if (d.failed)
			goto out;
	}
	/* "summary" and "rules" are derived from the cases and recomputed by
	 * every writer, so they are not read; but for the INCOMPLETE mark,
	 * which no case says. */
	{
		const cJSON *sum = cJSON_GetObjectItemCaseSensitive(root, "summary");
		const cJSON *inc = cJSON_GetObjectItemCaseSensitive(sum, "incomplete");
		const cJSON *why = cJSON_GetObjectItemCaseSensitive(inc, "reason");
		const cJSON *ids = cJSON_GetObjectItemCaseSensitive(inc, "notRun");
		const char **v = NULL;
		size_t nv = 0, k = 0;
		const cJSON *id;

		if (cJSON_IsObject(inc)) {
			nv = (size_t)cJSON_GetArraySize(ids);
			v = calloc(nv ? nv : 1, sizeof(*v));
			if (!v) {
				rd_fail(&d, "out of memory", path);
				goto out;
			}
			cJSON_ArrayForEach(id, ids)
				if (cJSON_IsString(id) && k < nv)
					v[k++] = id->valuestring;
			eb_report_set_incomplete(r, cJSON_IsString(why) ? why->valuestring : NULL, v, k);
			free(v);
		}
	}
out:
	cJSON_Delete(root);
	free(buf);
	if (d.failed) {
		eb_report_free(r);
		return NULL;
	}
	return r;
}
