/*
 * eb_timeline.c — timelines of client cases: data, JSON form, SVG picture.
 */
#include <stdlib.h>
#include <string.h>

#include "eb_timeline.h"

static const char *const tl_kind_names[EB_TL_N_KINDS] = {
	"read", "push", "error", "ws_open", "ws_close", "ws_refused", "ws_msg",
	"fault", "note", "expect"
};

const char *eb_tl_kind_name(eb_tl_kind k)
{
	return (unsigned)k < EB_TL_N_KINDS ? tl_kind_names[k] : "note";
}

int eb_tl_kind_parse(const char *s)
{
	int i;

	for (i = 0; s && i < EB_TL_N_KINDS; i++)
		if (strcmp(tl_kind_names[i], s) == 0)
			return i;
	return -1;
}

eb_timeline *eb_timeline_new(void)
{
	return calloc(1, sizeof(eb_timeline));
}

void eb_timeline_free(eb_timeline *tl)
{
	size_t i;

	if (!tl)
		return;
	for (i = 0; i < tl->n_lanes; i++)
		free(tl->lanes[i]);
	free(tl->lanes);
	for (i = 0; i < tl->n; i++)
		free(tl->items[i].label);
	free(tl->items);
	free(tl);
}

int eb_timeline_lane(eb_timeline *tl, const char *name)
{
	size_t i;
	char **p, *s;

	for (i = 0; i < tl->n_lanes; i++)
		if (strcmp(tl->lanes[i], name) == 0)
			return (int)i;
	if (tl->n_lanes >= 16)
		return -1;
	s = strdup(name);
	if (!s)
		return -1;
	p = realloc(tl->lanes, (tl->n_lanes + 1) * sizeof(*p));
	if (!p) {
		free(s);
		return -1;
	}
	tl->lanes = p;
	tl->lanes[tl->n_lanes] = s;
	return (int)tl->n_lanes++;
}

int eb_timeline_add(eb_timeline *tl, int lane, eb_tl_kind kind, double t0, double t1,
		    const char *label)
{
	eb_tl_item *it;

	if (!tl || lane < 0 || (size_t)lane >= tl->n_lanes || (unsigned)kind >= EB_TL_N_KINDS ||
	    tl->n >= EB_TL_MAX_ITEMS)
		return -1;
	if (tl->n == tl->cap) {
		size_t nc = tl->cap ? tl->cap * 2 : 64;
		eb_tl_item *p = realloc(tl->items, nc * sizeof(*p));

		if (!p)
			return -1;
		tl->items = p;
		tl->cap = nc;
	}
	it = &tl->items[tl->n];
	it->label = strdup(label ? label : "");
	if (!it->label)
		return -1;
	it->t0 = t0;
	it->t1 = t1 < t0 ? t0 : t1;
	it->lane = lane;
	it->kind = kind;
	tl->n++;
	return 0;
}

eb_timeline *eb_timeline_copy(const eb_timeline *src)
{
	eb_timeline *tl;
	size_t i;

	if (!src)
		return NULL;
	tl = eb_timeline_new();
	if (!tl)
		return NULL;
	tl->span_ms = src->span_ms;
	for (i = 0; i < src->n_lanes; i++)
		if (eb_timeline_lane(tl, src->lanes[i]) < 0)
			goto fail;
	for (i = 0; i < src->n; i++) {
		const eb_tl_item *it = &src->items[i];

		if (eb_timeline_add(tl, it->lane, it->kind, it->t0, it->t1, it->label) != 0)
			goto fail;
	}
	return tl;
fail:
	eb_timeline_free(tl);
	return NULL;
}

/* ---- JSON ------------------------------------------------------------------------ */

cJSON *eb_timeline_to_json(const eb_timeline *tl)
{
	cJSON *o = cJSON_CreateObject(), *lanes, *items;
	size_t i;

	if (!o)
		return NULL;
	if (!cJSON_AddNumberToObject(o, "spanMs", tl->span_ms))
		goto fail;
	lanes = cJSON_AddArrayToObject(o, "lanes");
	items = cJSON_AddArrayToObject(o, "items");
	if (!lanes || !items)
		goto fail;
	for (i = 0; i < tl->n_lanes; i++) {
		cJSON *s = cJSON_CreateString(tl->lanes[i]);

		if (!s)
			goto fail;
		cJSON_AddItemToArray(lanes, s);
	}
	for (i = 0; i < tl->n; i++) {
		const eb_tl_item *it = &tl->items[i];
		cJSON *x = cJSON_CreateObject();

		if (!x)
			goto fail;
		cJSON_AddItemToArray(items, x);
		/* Whole microseconds keep the numbers short and exact. */
		if (!cJSON_AddNumberToObject(x, "t0", (double)(long long)(it->t0 * 1000) / 1000) ||
		    !cJSON_AddNumberToObject(x, "t1", (double)(long long)(it->t1 * 1000) / 1000) ||
		    !cJSON_AddNumberToObject(x, "lane", it->lane) ||
		    !cJSON_AddStringToObject(x, "kind", eb_tl_kind_name(it->kind)) ||
		    !cJSON_AddStringToObject(x, "label", it->label))
			goto fail;
	}
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

eb_timeline *eb_timeline_from_json(const cJSON *v)
{
	const cJSON *lanes, *items, *it, *span;
	eb_timeline *tl;

	if (!cJSON_IsObject(v))
		return NULL;
	lanes = cJSON_GetObjectItemCaseSensitive(v, "lanes");
	items = cJSON_GetObjectItemCaseSensitive(v, "items");
	if (!cJSON_IsArray(lanes) || !cJSON_IsArray(items))
		return NULL;
	tl = eb_timeline_new();
	if (!tl)
		return NULL;
	span = cJSON_GetObjectItemCaseSensitive(v, "spanMs");
	if (cJSON_IsNumber(span) && span->valuedouble >= 0)
		tl->span_ms = span->valuedouble;
	cJSON_ArrayForEach(it, lanes) {
		if (!cJSON_IsString(it) || eb_timeline_lane(tl, it->valuestring) < 0)
			goto fail;
	}
	cJSON_ArrayForEach(it, items) {
		const cJSON *t0 = cJSON_GetObjectItemCaseSensitive(it, "t0");
		const cJSON *t1 = cJSON_GetObjectItemCaseSensitive(it, "t1");
		const cJSON *ln = cJSON_GetObjectItemCaseSensitive(it, "lane");
		const cJSON *kd = cJSON_GetObjectItemCaseSensitive(it, "kind");
		const cJSON *lb = cJSON_GetObjectItemCaseSensitive(it, "label");
		int k;

		if (!cJSON_IsNumber(t0) || !cJSON_IsNumber(t1) || !cJSON_IsNumber(ln) ||
		    !cJSON_IsString(kd))
			continue;
		k = eb_tl_kind_parse(kd->valuestring);
		if (k < 0 || ln->valuedouble < 0 || ln->valuedouble >= (double)tl->n_lanes)
			continue;
		if (eb_timeline_add(tl, (int)ln->valuedouble, (eb_tl_kind)k, t0->valuedouble,
				    t1->valuedouble, cJSON_IsString(lb) ? lb->valuestring : "") != 0 &&
		    tl->n < EB_TL_MAX_ITEMS)
			goto fail;
	}
	return tl;
fail:
	eb_timeline_free(tl);
	return NULL;
}

/* ---- SVG ------------------------------------------------------------------------- */

static void tl_xml(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default:
			if ((unsigned char)*s >= 0x20 || *s == '\t')
				fputc(*s, f);
		}
	}
}

static const char *tl_color(eb_tl_kind k)
{
	switch (k) {
	case EB_TL_READ: return "#2b7bb9";
	case EB_TL_PUSH: return "#2e8b57";
	case EB_TL_ERROR: return "#d62728";
	case EB_TL_WS_OPEN: return "#6a3d9a";
	case EB_TL_WS_CLOSE: return "#ff7f0e";
	case EB_TL_WS_REFUSED: return "#8c564b";
	case EB_TL_WS_MSG: return "#9e9ac8";
	case EB_TL_FAULT: return "#e377c2";
	case EB_TL_NOTE: return "#555555";
	case EB_TL_EXPECT: return "#bcbd22";
	default: return "#000000";
	}
}

/* Label rows: the first row of a lane whose last label ends left of x takes
 * a label w px wide; -1 when every row is taken there, and the label is left
 * out (the marker and its tooltip stay), since overlapping text reads as
 * neither. */
#define TL_LABEL_ROWS 3
static int tl_label_row(double *ends, double x, double w)
{
	int r;

	for (r = 0; r < TL_LABEL_ROWS; r++)
		if (ends[r] <= x) {
			ends[r] = x + w + 3;
			return r;
		}
	return -1;
}

/* About 5.2 px per character of the 9 px labels. */
static double tl_label_w(const char *s, size_t cap)
{
	size_t n = strlen(s);

	return 5.2 * (double)(n < cap ? n : cap);
}

int eb_timeline_write_svg(const eb_timeline *tl, FILE *f)
{
	const double W = 960, left = 90, right = 20, lane_h = 46, top = 24;
	double span = tl->span_ms, plot = W - left - right, tick;
	double H = top + lane_h * (double)(tl->n_lanes ? tl->n_lanes : 1) + 56;
	size_t i;
	int k;
	/* Per lane: TL_LABEL_ROWS rows from the top, then from the bottom. */
	double *ends = calloc((tl->n_lanes ? tl->n_lanes : 1) * 2 * TL_LABEL_ROWS, sizeof(double));

	if (!ends)
		return -1;
	for (i = 0; i < tl->n; i++)
		if (tl->items[i].t1 > span)
			span = tl->items[i].t1;
	if (span <= 0)
		span = 1;
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\" width=\"%.0f\" "
		"height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"11\">\n",
		W, H, W, H);
	fprintf(f, "<title>timeline: server-side events per client over %.0f ms</title>\n", span);
	/* Axis ticks at a round step giving 5-12 ticks. */
	{
		static const double steps[] = { 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000,
						5000, 10000, 20000, 60000, 120000, 300000 };
		size_t s;

		tick = steps[sizeof(steps) / sizeof(steps[0]) - 1];
		for (s = 0; s < sizeof(steps) / sizeof(steps[0]); s++)
			if (span / steps[s] <= 12) {
				tick = steps[s];
				break;
			}
	}
	for (double t = 0; t <= span + 1e-9; t += tick) {
		double x = left + plot * t / span;

		fprintf(f, "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#ddd\"/>"
			"<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\" fill=\"#666\">%.0f ms</text>\n",
			x, top - 6, x, top + lane_h * (double)tl->n_lanes, x,
			top + lane_h * (double)tl->n_lanes + 14, t);
	}
	for (i = 0; i < tl->n_lanes; i++) {
		double y = top + lane_h * (double)i;

		fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"%s\"/>",
			left, y, plot, lane_h, i % 2 ? "#fafafa" : "#f2f2f2");
		fprintf(f, "<text x=\"4\" y=\"%.0f\" fill=\"#333\">", y + lane_h / 2 + 4);
		tl_xml(f, tl->lanes[i]);
		fputs("</text>\n", f);
	}
	/* Windows first (behind), then points. */
	for (i = 0; i < tl->n; i++) {
		const eb_tl_item *it = &tl->items[i];
		double y = top + lane_h * (double)it->lane;
		double x0 = left + plot * it->t0 / span, x1 = left + plot * it->t1 / span;

		if (it->kind != EB_TL_EXPECT)
			continue;
		if (x1 - x0 < 1)
			x1 = x0 + 1;
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
			"fill-opacity=\"0.35\"><title>expected: ", x0, y + 2, x1 - x0, lane_h - 4,
			tl_color(it->kind));
		tl_xml(f, it->label);
		fprintf(f, " (%.0f-%.0f ms)</title></rect>\n", it->t0, it->t1);
	}
	for (i = 0; i < tl->n; i++) {
		const eb_tl_item *it = &tl->items[i];
		double y = top + lane_h * (double)it->lane;
		double x0 = left + plot * it->t0 / span, x1 = left + plot * it->t1 / span;
		const char *c = tl_color(it->kind);

		if (it->kind == EB_TL_EXPECT)
			continue;
		fputs("<g><title>", f);
		fprintf(f, "%.0f ms %s: ", it->t0, eb_tl_kind_name(it->kind));
		tl_xml(f, it->label);
		fputs("</title>", f);
		switch (it->kind) {
		case EB_TL_READ:
		case EB_TL_PUSH:
		case EB_TL_ERROR:
			/* A request: a bar from arrival to answer, at least 2 px. */
			fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.0f\" fill=\"%s\"/>",
				x0, y + (it->kind == EB_TL_PUSH ? 24 : 8), x1 - x0 < 2 ? 2 : x1 - x0, 12.0, c);
			break;
		case EB_TL_WS_OPEN:
		case EB_TL_WS_CLOSE:
		case EB_TL_WS_REFUSED: {
			const char *txt = it->kind == EB_TL_WS_OPEN ? "open" :
					  it->kind == EB_TL_WS_REFUSED ? "refused" : it->label;
			int row = tl_label_row(ends + (it->lane * 2 + 1) * TL_LABEL_ROWS, x0 + 2,
					       tl_label_w(txt, 64));

			fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
				"stroke-width=\"2\"/>", x0, y + 2, x0, y + lane_h - 2, c);
			if (row >= 0) {
				fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\" font-size=\"9\">",
					x0 + 2, y + lane_h - 4 - 9.0 * row, c);
				tl_xml(f, txt);
				fputs("</text>", f);
			}
			break;
		}
		case EB_TL_WS_MSG:
			fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>", x0, y + 40, c);
			break;
		case EB_TL_FAULT:
		case EB_TL_NOTE:
			fprintf(f, "<path d=\"M%.1f %.1f l4 -7 l-8 0 z\" fill=\"%s\"/>", x0, y + 8, c);
			{
				char shortl[28];
				int row;

				snprintf(shortl, sizeof(shortl), "%s", it->label);
				row = tl_label_row(ends + (it->lane * 2) * TL_LABEL_ROWS, x0 + 4,
						   tl_label_w(shortl, sizeof(shortl)));
				if (row >= 0) {
					fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\" font-size=\"9\">",
						x0 + 4, y + 8 + 9.0 * row, c);
					tl_xml(f, shortl);
					fputs("</text>", f);
				}
			}
			break;
		default:
			break;
		}
		fputs("</g>\n", f);
	}
	/* Legend. */
	{
		double y = top + lane_h * (double)tl->n_lanes + 34, x = left;

		for (k = 0; k < EB_TL_N_KINDS; k++) {
			fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"10\" height=\"10\" fill=\"%s\"%s/>"
				"<text x=\"%.0f\" y=\"%.0f\" fill=\"#333\">%s</text>\n", x, y, tl_color((eb_tl_kind)k),
				k == EB_TL_EXPECT ? " fill-opacity=\"0.35\"" : "", x + 13, y + 9,
				k == EB_TL_EXPECT ? "expected window" : eb_tl_kind_name((eb_tl_kind)k));
			x += 84;
		}
	}
	fputs("</svg>\n", f);
	free(ends);
	return ferror(f) ? -1 : 0;
}
