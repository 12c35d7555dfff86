/*
 * eb_loadreport.c — ebload's result model, its JSON form, merging and
 * --expect evaluation.
 */
#include "eb_loadreport.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eb_json.h"

static const char *const hist_names[EB_LH_COUNT] = {
	"notification", "fanout", "push", "connect"
};

eb_loadreport *eb_loadreport_new(void)
{
	eb_loadreport *r = calloc(1, sizeof *r);
	if (r == NULL)
		return NULL;
	r->runs = 1;
	for (int i = 0; i < EB_LH_COUNT; i++) {
		r->hist[i] = malloc(sizeof(eb_hist));
		if (r->hist[i] == NULL) {
			eb_loadreport_free(r);
			return NULL;
		}
		eb_hist_init(r->hist[i]);
	}
	return r;
}

void eb_loadreport_free(eb_loadreport *r)
{
	if (r == NULL)
		return;
	for (int i = 0; i < EB_LH_COUNT; i++)
		free(r->hist[i]);
	for (size_t i = 0; i < r->n_samples; i++) {
		free(r->samples[i].idx);
		free(r->samples[i].cnt);
	}
	free(r->samples);
	for (size_t i = 0; i < r->n_limits; i++)
		free(r->limits[i]);
	free(r->limits);
	cJSON_Delete(r->config);
	free(r->command);
	free(r->incomplete);
	free(r->not_run);
	for (size_t i = 0; i < r->n_problems; i++)
		free(r->problems[i]);
	free(r->problems);
	free(r->expects);
	free(r);
}

static eb_rc sample_set_hist(eb_load_sample *s, const eb_hist *h)
{
	s->n_buckets = 0;
	s->idx = NULL;
	s->cnt = NULL;
	if (h == NULL)
		return EB_OK;
	uint32_t n = 0;
	for (size_t i = 0; i < EB_HIST_BUCKETS; i++)
		n += h->counts[i] != 0;
	if (n == 0)
		return EB_OK;
	s->idx = malloc(n * sizeof *s->idx);
	s->cnt = malloc(n * sizeof *s->cnt);
	if (s->idx == NULL || s->cnt == NULL) {
		free(s->idx);
		free(s->cnt);
		s->idx = NULL;
		s->cnt = NULL;
		return EB_ERR_NOMEM;
	}
	for (size_t i = 0; i < EB_HIST_BUCKETS; i++) {
		if (h->counts[i] == 0)
			continue;
		s->idx[s->n_buckets] = (uint32_t)i;
		s->cnt[s->n_buckets] = h->counts[i];
		s->n_buckets++;
	}
	return EB_OK;
}

void eb_load_sample_hist(const eb_load_sample *s, eb_hist *h)
{
	eb_hist_init(h);
	size_t lo = EB_HIST_BUCKETS, hi = 0;
	for (uint32_t i = 0; i < s->n_buckets; i++) {
		if (s->idx[i] >= EB_HIST_BUCKETS)
			continue;
		h->counts[s->idx[i]] += s->cnt[i];
		h->count += s->cnt[i];
		h->sum += s->cnt[i] * eb_hist_bucket_low(s->idx[i]);
		if (lo == EB_HIST_BUCKETS || s->idx[i] < lo)
			lo = s->idx[i];
		if (s->idx[i] > hi)
			hi = s->idx[i];
	}
	if (h->count != 0) {
		h->min = eb_hist_bucket_low(lo);
		h->max = eb_hist_bucket_high(hi);
	}
}

eb_rc eb_loadreport_add_sample(eb_loadreport *r, const eb_load_sample *s,
			       const eb_hist *h)
{
	if (r->n_samples == r->cap_samples) {
		size_t cap = r->cap_samples ? r->cap_samples * 2 : 64;
		eb_load_sample *ns = realloc(r->samples, cap * sizeof *ns);
		if (ns == NULL)
			return EB_ERR_NOMEM;
		r->samples = ns;
		r->cap_samples = cap;
	}
	eb_load_sample copy = *s;
	eb_rc rc = sample_set_hist(&copy, h);
	if (rc != EB_OK)
		return rc;
	r->samples[r->n_samples++] = copy;
	return EB_OK;
}

eb_rc eb_loadreport_add_limit(eb_loadreport *r, const char *sentence)
{
	for (size_t i = 0; i < r->n_limits; i++)
		if (strcmp(r->limits[i], sentence) == 0)
			return EB_OK;
	char **nl = realloc(r->limits, (r->n_limits + 1) * sizeof *nl);
	if (nl == NULL)
		return EB_ERR_NOMEM;
	r->limits = nl;
	r->limits[r->n_limits] = strdup(sentence);
	if (r->limits[r->n_limits] == NULL)
		return EB_ERR_NOMEM;
	r->n_limits++;
	return EB_OK;
}

static eb_load_sample *find_sample(eb_loadreport *r, uint64_t t)
{
	for (size_t i = 0; i < r->n_samples; i++)
		if (r->samples[i].t_s == t)
			return &r->samples[i];
	return NULL;
}

static int cmp_sample(const void *a, const void *b)
{
	const eb_load_sample *x = a, *y = b;
	return x->t_s < y->t_s ? -1 : x->t_s > y->t_s;
}

/* The synchronized start: the earliest plan, first and last start. */
static void merge_start(eb_loadreport *dst, const eb_loadreport *src)
{
	if (src->start_planned_ms == 0)
		return;
	if (dst->start_planned_ms == 0) {
		dst->start_planned_ms = src->start_planned_ms;
		dst->start_first_us = src->start_first_us;
		dst->start_last_us = src->start_last_us;
		return;
	}
	if (src->start_planned_ms < dst->start_planned_ms)
		dst->start_planned_ms = src->start_planned_ms;
	if (src->start_first_us < dst->start_first_us)
		dst->start_first_us = src->start_first_us;
	if (src->start_last_us > dst->start_last_us)
		dst->start_last_us = src->start_last_us;
}

uint64_t eb_loadreport_start_skew_us(const eb_loadreport *r)
{
	uint64_t plan_us = r->start_planned_ms * 1000ULL;
	if (r->start_planned_ms == 0 || r->start_last_us <= plan_us)
		return 0;
	return r->start_last_us - plan_us;
}

eb_rc eb_loadreport_merge(eb_loadreport *dst, const eb_loadreport *src)
{
	eb_rc rc = EB_OK;
	eb_hist *a = malloc(sizeof *a), *b = malloc(sizeof *b);
	if (a == NULL || b == NULL) {
		rc = EB_ERR_NOMEM;
		goto out;
	}
#define EB_LOAD_MERGE(f, s, n, m) \
	dst->c.f = (m) ? (dst->c.f > src->c.f ? dst->c.f : src->c.f) : dst->c.f + src->c.f;
	EB_LOAD_COUNTERS(EB_LOAD_MERGE)
#undef EB_LOAD_MERGE
	for (int i = 0; i < EB_LH_COUNT; i++)
		eb_hist_add(dst->hist[i], src->hist[i]);
	for (size_t i = 0; i < src->n_samples; i++) {
		const eb_load_sample *s = &src->samples[i];
		eb_load_sample *d = find_sample(dst, s->t_s);
		eb_load_sample_hist(s, b);
		if (d == NULL) {
			eb_load_sample ns = *s;
			if ((rc = eb_loadreport_add_sample(dst, &ns, b)) != EB_OK)
				goto out;
			continue;
		}
		d->open += s->open;
		d->connects += s->connects;
		d->notifications += s->notifications;
		d->pushes += s->pushes;
		d->errors += s->errors;
		eb_load_sample_hist(d, a);
		eb_hist_add(a, b);
		free(d->idx);
		free(d->cnt);
		if ((rc = sample_set_hist(d, a)) != EB_OK)
			goto out;
	}
	if (dst->n_samples > 1)
		qsort(dst->samples, dst->n_samples, sizeof *dst->samples, cmp_sample);
	for (size_t i = 0; i < src->n_limits; i++)
		if ((rc = eb_loadreport_add_limit(dst, src->limits[i])) != EB_OK)
			goto out;
	if (dst->config == NULL && src->config != NULL)
		dst->config = cJSON_Duplicate(src->config, 1);
	if (dst->started_at_ms == 0 ||
	    (src->started_at_ms != 0 && src->started_at_ms < dst->started_at_ms))
		dst->started_at_ms = src->started_at_ms;
	merge_start(dst, src);
	dst->runs += src->runs;
out:
	free(a);
	free(b);
	return rc;
}

double eb_loadreport_cpu_per_connection_ms(const eb_loadreport *r)
{
	return r->c.conn_ramp_subscribed
	       ? (double)r->c.cpu_ramp_ms / (double)r->c.conn_ramp_subscribed : 0;
}

double eb_loadreport_cpu_per_notification_us(const eb_loadreport *r)
{
	return r->c.notif_hold ? (double)r->c.cpu_hold_ms * 1000.0 / (double)r->c.notif_hold : 0;
}

void eb_loadreport_cpu_split(const eb_loadreport *r, eb_load_cpu_split *out)
{
	double nc = (double)r->c.conn_ramp_subscribed, nn = (double)r->c.notif_hold;
	out->user_per_conn_us = nc > 0 ? (double)r->c.cpu_ramp_user_us / nc : 0;
	out->sys_per_conn_us = nc > 0 ? (double)r->c.cpu_ramp_sys_us / nc : 0;
	out->user_per_notif_us = nn > 0 ? (double)r->c.cpu_hold_user_us / nn : 0;
	out->sys_per_notif_us = nn > 0 ? (double)r->c.cpu_hold_sys_us / nn : 0;
}

double eb_loadreport_connect_rate(const eb_loadreport *r)
{
	if (r->c.ramp_ms == 0)
		return 0;
	return (double)r->c.conn_subscribed * 1000.0 / (double)r->c.ramp_ms;
}

double eb_loadreport_notif_rate(const eb_loadreport *r)
{
	if (r->c.hold_ms == 0)
		return 0;
	return (double)r->c.notif_received * 1000.0 / (double)r->c.hold_ms;
}

uint64_t eb_loadreport_peak_connect_rate(const eb_loadreport *r)
{
	uint64_t m = 0;
	for (size_t i = 0; i < r->n_samples; i++)
		if (r->samples[i].connects > m)
			m = r->samples[i].connects;
	return m;
}

uint64_t eb_loadreport_peak_notif_rate(const eb_loadreport *r)
{
	uint64_t m = 0;
	for (size_t i = 0; i < r->n_samples; i++)
		if (r->samples[i].notifications > m)
			m = r->samples[i].notifications;
	return m;
}

uint64_t eb_loadreport_connect_failures(const eb_loadreport *r)
{
	const eb_load_counters *c = &r->c;
	return c->fail_refused + c->fail_timeout + c->fail_emfile + c->fail_addr +
	       c->fail_upgrade + c->fail_auth + c->fail_subscribe +
	       c->fail_closed + c->fail_other;
}

/* ---- JSON ------------------------------------------------------------------ */

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static cJSON *section(cJSON *root, const char *name)
{
	cJSON *s = cJSON_GetObjectItemCaseSensitive(root, name);
	if (s == NULL) {
		s = cJSON_CreateObject();
		cJSON_AddItemToObject(root, name, s);
	}
	return s;
}

static cJSON *hist_summary(const eb_hist *h)
{
	cJSON *o = cJSON_CreateObject();
	if (o == NULL)
		return NULL;
	cJSON_AddNumberToObject(o, "count", (double)h->count);
	cJSON_AddNumberToObject(o, "minMs", h->count ? ms(h->min) : 0);
	cJSON_AddNumberToObject(o, "meanMs", eb_hist_mean(h) / 1e6);
	cJSON_AddNumberToObject(o, "p50Ms", ms(eb_hist_percentile(h, 50)));
	cJSON_AddNumberToObject(o, "p90Ms", ms(eb_hist_percentile(h, 90)));
	cJSON_AddNumberToObject(o, "p99Ms", ms(eb_hist_percentile(h, 99)));
	cJSON_AddNumberToObject(o, "p999Ms", ms(eb_hist_percentile(h, 99.9)));
	cJSON_AddNumberToObject(o, "maxMs", ms(h->max));
	cJSON_AddItemToObject(o, "histogram", eb_hist_to_json(h));
	return o;
}

/* "verdict": the result, the problems and each --expect as k6 shows its
 * thresholds (read back by nothing: merge judges again). */
static void verdict_json(cJSON *root, const eb_loadreport *r)
{
	cJSON *v = cJSON_AddObjectToObject(root, "verdict");
	cJSON_AddStringToObject(v, "result", r->verdict);
	if (r->incomplete != NULL) {
		cJSON *inc = cJSON_AddObjectToObject(v, "incomplete");
		cJSON_AddStringToObject(inc, "reason", r->incomplete);
		cJSON_AddStringToObject(inc, "notRun", r->not_run ? r->not_run : "");
	}
	cJSON *pr = cJSON_AddArrayToObject(v, "problems");
	for (size_t i = 0; i < r->n_problems; i++)
		cJSON_AddItemToArray(pr, cJSON_CreateString(r->problems[i]));
	cJSON *ex = cJSON_AddArrayToObject(v, "expects");
	for (size_t i = 0; i < r->n_expects; i++) {
		const eb_expect_result *e = &r->expects[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "expr", e->text);
		cJSON_AddStringToObject(o, "metric", e->metric);
		cJSON_AddStringToObject(o, "op", e->op);
		cJSON_AddNumberToObject(o, "threshold", e->threshold);
		cJSON_AddNumberToObject(o, "measured", e->measured);
		cJSON_AddStringToObject(o, "unit", e->unit);
		cJSON_AddBoolToObject(o, "met", e->met);
		cJSON_AddItemToArray(ex, o);
	}
}

cJSON *eb_loadreport_to_json(const eb_loadreport *r)
{
	cJSON *root = cJSON_CreateObject();
	eb_hist *h = malloc(sizeof *h);
	if (root == NULL || h == NULL)
		goto fail;
	cJSON_AddStringToObject(root, "schema", EB_LOADREPORT_SCHEMA);
	cJSON_AddStringToObject(root, "tool", "ebload");
	cJSON_AddNumberToObject(root, "runs", r->runs);
	cJSON_AddNumberToObject(root, "startedAtMs", (double)r->started_at_ms);
	if (r->command != NULL)
		cJSON_AddStringToObject(root, "command", r->command);
	if (r->start_planned_ms != 0) {
		cJSON *st = cJSON_AddObjectToObject(root, "start");
		cJSON_AddNumberToObject(st, "plannedAtMs", (double)r->start_planned_ms);
		cJSON_AddNumberToObject(st, "firstAtUs", (double)r->start_first_us);
		cJSON_AddNumberToObject(st, "lastAtUs", (double)r->start_last_us);
		cJSON_AddNumberToObject(st, "skewUs", (double)eb_loadreport_start_skew_us(r));
		cJSON_AddNumberToObject(st, "spreadUs", (double)(r->start_last_us - r->start_first_us));
	}
	cJSON_AddItemToObject(root, "config", r->config ? cJSON_Duplicate(r->config, 1)
				  : cJSON_CreateObject());
	cJSON *lim = cJSON_AddArrayToObject(root, "limitsHit");
	for (size_t i = 0; i < r->n_limits; i++)
		cJSON_AddItemToArray(lim, cJSON_CreateString(r->limits[i]));
	if (r->verdict != NULL)
		verdict_json(root, r);
#define EB_LOAD_OUT(f, s, n, m) cJSON_AddNumberToObject(section(root, s), n, (double)r->c.f);
	EB_LOAD_COUNTERS(EB_LOAD_OUT)
#undef EB_LOAD_OUT
	cJSON *d = cJSON_AddObjectToObject(root, "rates");
	cJSON_AddNumberToObject(d, "connectPerSecondMean", eb_loadreport_connect_rate(r));
	cJSON_AddNumberToObject(d, "connectPerSecondPeak",
				(double)eb_loadreport_peak_connect_rate(r));
	cJSON_AddNumberToObject(d, "notificationsPerSecondMean", eb_loadreport_notif_rate(r));
	cJSON_AddNumberToObject(d, "notificationsPerSecondPeak",
				(double)eb_loadreport_peak_notif_rate(r));
	cJSON_AddNumberToObject(d, "pushesPerSecondMean",
				r->c.hold_ms ? (double)r->c.push_ok * 1000.0 / (double)r->c.hold_ms : 0);
	cJSON *res = section(root, "resources");
	uint64_t open = r->c.conn_open_at_end ? r->c.conn_open_at_end : r->c.conn_peak_open;
	cJSON_AddNumberToObject(res, "rssPerConnectionBytes",
				open && r->c.rss_hold_kib > r->c.rss_base_kib
				? (double)(r->c.rss_hold_kib - r->c.rss_base_kib) * 1024.0 / (double)open : 0);
	cJSON_AddNumberToObject(res, "cpuPerConnectionMs", eb_loadreport_cpu_per_connection_ms(r));
	cJSON_AddNumberToObject(res, "cpuPerNotificationUs",
				eb_loadreport_cpu_per_notification_us(r));
	eb_load_cpu_split cs;
	eb_loadreport_cpu_split(r, &cs);
	cJSON_AddNumberToObject(res, "userPerConnectionUs", cs.user_per_conn_us);
	cJSON_AddNumberToObject(res, "sysPerConnectionUs", cs.sys_per_conn_us);
	cJSON_AddNumberToObject(res, "userPerNotificationUs", cs.user_per_notif_us);
	cJSON_AddNumberToObject(res, "sysPerNotificationUs", cs.sys_per_notif_us);
	cJSON *lat = cJSON_AddObjectToObject(root, "latency");
	for (int i = 0; i < EB_LH_COUNT; i++)
		cJSON_AddItemToObject(lat, hist_names[i], hist_summary(r->hist[i]));
	cJSON *ts = cJSON_AddArrayToObject(root, "timeseries");
	for (size_t i = 0; i < r->n_samples; i++) {
		const eb_load_sample *s = &r->samples[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddItemToArray(ts, o);
		cJSON_AddNumberToObject(o, "t", (double)s->t_s);
		cJSON_AddNumberToObject(o, "open", (double)s->open);
		cJSON_AddNumberToObject(o, "connects", (double)s->connects);
		cJSON_AddNumberToObject(o, "notifications", (double)s->notifications);
		cJSON_AddNumberToObject(o, "pushes", (double)s->pushes);
		cJSON_AddNumberToObject(o, "errors", (double)s->errors);
		eb_load_sample_hist(s, h);
		cJSON_AddNumberToObject(o, "p50Ms", ms(eb_hist_percentile(h, 50)));
		cJSON_AddNumberToObject(o, "p99Ms", ms(eb_hist_percentile(h, 99)));
		cJSON_AddNumberToObject(o, "maxMs", ms(h->max));
		cJSON *b = cJSON_AddArrayToObject(o, "buckets");
		for (uint32_t k = 0; k < s->n_buckets; k++) {
			cJSON_AddItemToArray(b, cJSON_CreateNumber(s->idx[k]));
			cJSON_AddItemToArray(b, cJSON_CreateNumber((double)s->cnt[k]));
		}
	}
	free(h);
	return root;
fail:
	free(h);
	cJSON_Delete(root);
	return NULL;
}

static bool get_u(const cJSON *o, const char *name, uint64_t *out)
{
	return eb_json_get_uint53(cJSON_GetObjectItemCaseSensitive(o, name), out);
}

eb_rc eb_loadreport_from_json(const cJSON *j, eb_loadreport **out, eb_err *err)
{
	eb_rc rc = EB_OK;
	*out = NULL;
	const cJSON *schema = cJSON_GetObjectItemCaseSensitive(j, "schema");
	if (!cJSON_IsString(schema) || strcmp(schema->valuestring, EB_LOADREPORT_SCHEMA) != 0)
		return eb_err_set(err, EB_ERR_SHAPE, NULL, "schema", NULL, -1,
				  "not an %s document", EB_LOADREPORT_SCHEMA);
	eb_loadreport *r = eb_loadreport_new();
	if (r == NULL)
		return EB_ERR_NOMEM;
	uint64_t runs = 1;
	if (!get_u(j, "runs", &runs) || runs == 0 || runs > 1000000) {
		rc = eb_err_set(err, EB_ERR_SHAPE, NULL, "runs", NULL, -1, "runs: not a positive integer");
		goto out;
	}
	r->runs = (unsigned)runs;
	get_u(j, "startedAtMs", &r->started_at_ms);
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "start");
	if (st != NULL && (!get_u(st, "plannedAtMs", &r->start_planned_ms) ||
			   !get_u(st, "firstAtUs", &r->start_first_us) ||
			   !get_u(st, "lastAtUs", &r->start_last_us) ||
			   r->start_first_us > r->start_last_us)) {
		rc = eb_err_set(err, EB_ERR_SHAPE, NULL, "start", NULL, -1,
				"start: plannedAtMs, firstAtUs <= lastAtUs must be integers");
		goto out;
	}
	const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(j, "command");
	if (cJSON_IsString(cmd) && (r->command = strdup(cmd->valuestring)) == NULL) {
		rc = EB_ERR_NOMEM;
		goto out;
	}
	const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(j, "config");
	if (cJSON_IsObject(cfg))
		r->config = cJSON_Duplicate(cfg, 1);
	const cJSON *lim = cJSON_GetObjectItemCaseSensitive(j, "limitsHit");
	const cJSON *it;
	cJSON_ArrayForEach(it, lim)
		if (cJSON_IsString(it) && (rc = eb_loadreport_add_limit(r, it->valuestring)) != EB_OK)
			goto out;
#define EB_LOAD_IN(f, s, n, m) \
	if (!get_u(cJSON_GetObjectItemCaseSensitive(j, s), n, &r->c.f)) { \
		rc = eb_err_set(err, EB_ERR_SHAPE, NULL, s "." n, NULL, -1, \
				"%s.%s: missing or not an integer", s, n); \
		goto out; \
	}
	EB_LOAD_COUNTERS(EB_LOAD_IN)
#undef EB_LOAD_IN
	const cJSON *lat = cJSON_GetObjectItemCaseSensitive(j, "latency");
	for (int i = 0; i < EB_LH_COUNT; i++) {
		const cJSON *one = cJSON_GetObjectItemCaseSensitive(lat, hist_names[i]);
		rc = eb_hist_from_json(cJSON_GetObjectItemCaseSensitive(one, "histogram"),
				       r->hist[i], err);
		if (rc != EB_OK)
			goto out;
	}
	const cJSON *ts = cJSON_GetObjectItemCaseSensitive(j, "timeseries");
	if (!cJSON_IsArray(ts)) {
		rc = eb_err_set(err, EB_ERR_SHAPE, NULL, "timeseries", NULL, -1, "timeseries: not an array");
		goto out;
	}
	eb_hist *h = malloc(sizeof *h);
	if (h == NULL) {
		rc = EB_ERR_NOMEM;
		goto out;
	}
	cJSON_ArrayForEach(it, ts) {
		eb_load_sample s;
		memset(&s, 0, sizeof s);
		const cJSON *b = cJSON_GetObjectItemCaseSensitive(it, "buckets");
		if (!get_u(it, "t", &s.t_s) || !get_u(it, "open", &s.open) ||
		    !get_u(it, "connects", &s.connects) ||
		    !get_u(it, "notifications", &s.notifications) ||
		    !get_u(it, "pushes", &s.pushes) || !get_u(it, "errors", &s.errors) ||
		    !cJSON_IsArray(b) || cJSON_GetArraySize(b) % 2 != 0) {
			rc = eb_err_set(err, EB_ERR_SHAPE, NULL, "timeseries", NULL, -1,
					"timeseries: bad sample");
			break;
		}
		eb_hist_init(h);
		const cJSON *e = b->child;
		while (e != NULL && e->next != NULL) {
			uint64_t ix, c;
			if (!eb_json_get_uint53(e, &ix) || !eb_json_get_uint53(e->next, &c) ||
			    ix >= EB_HIST_BUCKETS) {
				rc = eb_err_set(err, EB_ERR_SHAPE, NULL, "timeseries", NULL, -1,
						"timeseries: bad bucket");
				break;
			}
			h->counts[ix] += c;
			e = e->next->next;
		}
		if (rc != EB_OK || (rc = eb_loadreport_add_sample(r, &s, h)) != EB_OK)
			break;
	}
	free(h);
out:
	if (rc != EB_OK) {
		eb_loadreport_free(r);
		return rc;
	}
	*out = r;
	return EB_OK;
}

/* ---- --expect ---------------------------------------------------------------- */

typedef struct metric_def {
	const char *name;
	int kind;        /* 0 count, 1 latency (ns), 2 rate */
} metric_def;

static const metric_def metrics[] = {
	{"p50", 1}, {"p90", 1}, {"p99", 1}, {"p999", 1}, {"max", 1}, {"mean", 1},
	{"fanout_p50", 1}, {"fanout_p99", 1}, {"fanout_max", 1},
	{"push_p99", 1}, {"connect_p99", 1},
	{"connections", 0}, {"subscribed", 0}, {"connect_failures", 0},
	{"drops", 0}, {"missed", 0}, {"duplicates", 0}, {"out_of_order", 0},
	{"unmatched", 0}, {"notifications", 0}, {"push_errors", 0},
	{"connect_rate", 2}, {"notif_rate", 2}, {"start_skew", 1},
};

static const metric_def *metric_find(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof metrics / sizeof metrics[0]; i++)
		if (strlen(metrics[i].name) == len && memcmp(metrics[i].name, name, len) == 0)
			return &metrics[i];
	return NULL;
}

bool eb_loadreport_metric(const eb_loadreport *r, const char *m, double *out)
{
	const eb_hist *n = r->hist[EB_LH_NOTIFY], *f = r->hist[EB_LH_FANOUT];
	const eb_load_counters *c = &r->c;
	if (strcmp(m, "p50") == 0) *out = (double)eb_hist_percentile(n, 50);
	else if (strcmp(m, "p90") == 0) *out = (double)eb_hist_percentile(n, 90);
	else if (strcmp(m, "p99") == 0) *out = (double)eb_hist_percentile(n, 99);
	else if (strcmp(m, "p999") == 0) *out = (double)eb_hist_percentile(n, 99.9);
	else if (strcmp(m, "max") == 0) *out = (double)n->max;
	else if (strcmp(m, "mean") == 0) *out = eb_hist_mean(n);
	else if (strcmp(m, "fanout_p50") == 0) *out = (double)eb_hist_percentile(f, 50);
	else if (strcmp(m, "fanout_p99") == 0) *out = (double)eb_hist_percentile(f, 99);
	else if (strcmp(m, "fanout_max") == 0) *out = (double)f->max;
	else if (strcmp(m, "push_p99") == 0) *out = (double)eb_hist_percentile(r->hist[EB_LH_PUSH], 99);
	else if (strcmp(m, "connect_p99") == 0) *out = (double)eb_hist_percentile(r->hist[EB_LH_CONNECT], 99);
	else if (strcmp(m, "connections") == 0) *out = (double)c->conn_peak_open;
	else if (strcmp(m, "subscribed") == 0) *out = (double)c->conn_subscribed;
	else if (strcmp(m, "connect_failures") == 0) *out = (double)eb_loadreport_connect_failures(r);
	else if (strcmp(m, "drops") == 0) *out = (double)c->conn_drops;
	else if (strcmp(m, "missed") == 0) *out = (double)c->notif_missed;
	else if (strcmp(m, "duplicates") == 0) *out = (double)c->notif_duplicates;
	else if (strcmp(m, "out_of_order") == 0) *out = (double)c->notif_out_of_order;
	else if (strcmp(m, "unmatched") == 0) *out = (double)c->notif_unmatched;
	else if (strcmp(m, "notifications") == 0) *out = (double)c->notif_received;
	else if (strcmp(m, "push_errors") == 0) *out = (double)(c->push_transport_err + c->push_http_err);
	else if (strcmp(m, "connect_rate") == 0) *out = eb_loadreport_connect_rate(r);
	else if (strcmp(m, "notif_rate") == 0) *out = eb_loadreport_notif_rate(r);
	else if (strcmp(m, "start_skew") == 0) *out = (double)eb_loadreport_start_skew_us(r) * 1000.0;
	else return false;
	return true;
}

eb_rc eb_expect_parse(const char *text, eb_expect *out, eb_err *err)
{
	memset(out, 0, sizeof *out);
	snprintf(out->text, sizeof out->text, "%s", text);
	const char *p = text;
	while (*p == ' ')
		p++;
	const char *ms_ = p;
	while ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')
		p++;
	size_t mlen = (size_t)(p - ms_);
	const metric_def *md = metric_find(ms_, mlen);
	if (md == NULL)
		return eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1,
				  "--expect '%s': unknown metric '%.*s'", text, (int)mlen, ms_);
	memcpy(out->metric, ms_, mlen);
	while (*p == ' ')
		p++;
	static const char *const ops[] = {"<=", ">=", "==", "!=", "<", ">"};
	size_t i;
	for (i = 0; i < 6; i++)
		if (strncmp(p, ops[i], strlen(ops[i])) == 0)
			break;
	if (i == 6)
		return eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1,
				  "--expect '%s': expected one of < <= > >= == != after '%s'",
				  text, out->metric);
	memcpy(out->op, ops[i], strlen(ops[i]));
	p += strlen(ops[i]);
	while (*p == ' ')
		p++;
	char *end = NULL;
	double v = strtod(p, &end);
	if (end == p || !isfinite(v))
		return eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1,
				  "--expect '%s': no number after the operator", text);
	p = end;
	while (*p == ' ')
		p++;
	double scale = 1.0;
	if (md->kind == 1) {
		scale = 1e6; /* ms by default */
		if (strcmp(p, "ns") == 0) scale = 1;
		else if (strcmp(p, "us") == 0) scale = 1e3;
		else if (strcmp(p, "ms") == 0 || *p == '\0') scale = 1e6;
		else if (strcmp(p, "s") == 0) scale = 1e9;
		else
			return eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1,
					  "--expect '%s': unit must be ns, us, ms or s", text);
	} else if (md->kind == 2) {
		if (*p != '\0' && strcmp(p, "/s") != 0)
			return eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1,
					  "--expect '%s': a rate takes no unit or /s", text);
	} else if (*p != '\0') {
		return eb_err_set(err, EB_ERR_ARG, NULL, NULL, NULL, -1,
				  "--expect '%s': a count takes no unit", text);
	}
	out->value = v * scale;
	return EB_OK;
}

bool eb_expect_eval(const eb_expect *e, const eb_loadreport *r, double *actual)
{
	double a = 0;
	if (!eb_loadreport_metric(r, e->metric, &a))
		return false;
	if (actual != NULL)
		*actual = a;
	if (strcmp(e->op, "<") == 0) return a < e->value;
	if (strcmp(e->op, "<=") == 0) return a <= e->value;
	if (strcmp(e->op, ">") == 0) return a > e->value;
	if (strcmp(e->op, ">=") == 0) return a >= e->value;
	if (strcmp(e->op, "==") == 0) return a == e->value;
	if (strcmp(e->op, "!=") == 0) return a != e->value;
	return false;
}

/* Latency metrics are kept in ns and shown in ms. */
static bool expect_is_latency(const char *metric)
{
	const metric_def *d = metric_find(metric, strlen(metric));
	return d != NULL && d->kind == 1;
}

eb_rc eb_loadreport_judge(eb_loadreport *r, const eb_expect *ex, size_t n_ex,
			  const char *const *problems, size_t n_problems)
{
	if (n_problems > 0) {
		char **np = realloc(r->problems, (r->n_problems + n_problems) * sizeof *np);
		if (np == NULL)
			return EB_ERR_NOMEM;
		r->problems = np;
		for (size_t i = 0; i < n_problems; i++) {
			if ((np[r->n_problems] = strdup(problems[i])) == NULL)
				return EB_ERR_NOMEM;
			r->n_problems++;
		}
	}
	free(r->expects);
	r->expects = NULL;
	r->n_expects = 0;
	bool all = r->n_problems == 0;
	if (n_ex > 0 && (r->expects = calloc(n_ex, sizeof *r->expects)) == NULL)
		return EB_ERR_NOMEM;
	for (size_t i = 0; i < n_ex; i++) {
		eb_expect_result *e = &r->expects[i];
		double actual = 0, scale = 1;
		e->met = eb_expect_eval(&ex[i], r, &actual);
		if (expect_is_latency(ex[i].metric)) {
			scale = 1e6;
			snprintf(e->unit, sizeof e->unit, "ms");
		}
		snprintf(e->text, sizeof e->text, "%s", ex[i].text);
		snprintf(e->metric, sizeof e->metric, "%s", ex[i].metric);
		snprintf(e->op, sizeof e->op, "%s", ex[i].op);
		e->threshold = ex[i].value / scale;
		e->measured = actual / scale;
		all = all && e->met;
		r->n_expects++;
	}
	r->verdict = r->incomplete ? "incomplete" : all ? "pass" : "fail";
	return EB_OK;
}
