/*
 * eb_hist.c — log-linear histogram; see eb_hist.h for the bucket layout.
 */
#include "eb_hist.h"

#include <string.h>

#include "eb_json.h"

#define LD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define EB_HIST_MAX_JSON 9007199254740991ULL
#define ST(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

void eb_hist_init(eb_hist *h)
{
	memset(h, 0, sizeof *h);
	h->min = UINT64_MAX;
}

size_t eb_hist_index(uint64_t v)
{
	if (v < 2u * EB_HIST_HALF)
		return (size_t)v;
	unsigned e = 63u - (unsigned)__builtin_clzll(v);
	unsigned shift = e - EB_HIST_SUB_BITS + 1u;
	return (size_t)shift * EB_HIST_HALF + (size_t)(v >> shift);
}

uint64_t eb_hist_bucket_low(size_t idx)
{
	if (idx < 2u * EB_HIST_HALF)
		return idx;
	size_t shift = idx / EB_HIST_HALF - 1u;
	uint64_t top = idx - shift * EB_HIST_HALF;
	return top << shift;
}

uint64_t eb_hist_bucket_high(size_t idx)
{
	if (idx < 2u * EB_HIST_HALF)
		return idx;
	size_t shift = idx / EB_HIST_HALF - 1u;
	return eb_hist_bucket_low(idx) + ((UINT64_C(1) << shift) - 1u);
}

void eb_hist_record_n(eb_hist *h, uint64_t v, uint64_t n)
{
	if (n == 0)
		return;
	size_t i = eb_hist_index(v);
	ST(&h->counts[i], LD(&h->counts[i]) + n);
	ST(&h->count, LD(&h->count) + n);
	if (v < LD(&h->min))
		ST(&h->min, v);
	if (v > LD(&h->max))
		ST(&h->max, v);
	uint64_t s = LD(&h->sum);
	uint64_t add = v * n;
	if ((n != 0 && add / n != v) || s > UINT64_MAX - add)
		ST(&h->sum, UINT64_MAX);
	else
		ST(&h->sum, s + add);
}

void eb_hist_record(eb_hist *h, uint64_t v)
{
	eb_hist_record_n(h, v, 1);
}

void eb_hist_add(eb_hist *dst, const eb_hist *src)
{
	uint64_t n = 0;
	for (size_t i = 0; i < EB_HIST_BUCKETS; i++) {
		uint64_t c = LD(&src->counts[i]);
		if (c != 0) {
			dst->counts[i] += c;
			n += c;
		}
	}
	dst->count += n;
	if (n == 0)
		return;
	uint64_t mn = LD(&src->min), mx = LD(&src->max), s = LD(&src->sum);
	if (mn < dst->min)
		dst->min = mn;
	if (mx > dst->max)
		dst->max = mx;
	dst->sum = (dst->sum > UINT64_MAX - s) ? UINT64_MAX : dst->sum + s;
}

void eb_hist_diff(eb_hist *out, const eb_hist *now, const eb_hist *before)
{
	eb_hist_init(out);
	size_t lo = EB_HIST_BUCKETS, hi = 0;
	for (size_t i = 0; i < EB_HIST_BUCKETS; i++) {
		uint64_t a = now->counts[i], b = before->counts[i];
		uint64_t c = a > b ? a - b : 0;
		out->counts[i] = c;
		out->count += c;
		if (c != 0) {
			if (lo == EB_HIST_BUCKETS)
				lo = i;
			hi = i;
		}
	}
	if (out->count == 0)
		return;
	out->min = eb_hist_bucket_low(lo);
	out->max = eb_hist_bucket_high(hi);
	if (now->min > out->min && now->min <= out->max)
		out->min = now->min;
	if (now->max < out->max && now->max >= out->min)
		out->max = now->max;
	out->sum = now->sum >= before->sum ? now->sum - before->sum : 0;
}

uint64_t eb_hist_percentile(const eb_hist *h, double p)
{
	if (h->count == 0)
		return 0;
	if (p <= 0)
		return h->min;
	if (p >= 100)
		return h->max;
	double want_d = p / 100.0 * (double)h->count;
	uint64_t want = (uint64_t)want_d;
	if ((double)want < want_d)
		want++;
	if (want == 0)
		want = 1;
	uint64_t seen = 0;
	for (size_t i = 0; i < EB_HIST_BUCKETS; i++) {
		seen += h->counts[i];
		if (seen >= want) {
			uint64_t v = eb_hist_bucket_high(i);
			if (v > h->max)
				v = h->max;
			if (v < h->min)
				v = h->min;
			return v;
		}
	}
	return h->max;
}

double eb_hist_mean(const eb_hist *h)
{
	if (h->count == 0)
		return 0.0;
	return (double)h->sum / (double)h->count;
}

uint64_t eb_hist_count_at_or_below(const eb_hist *h, uint64_t v)
{
	size_t last = eb_hist_index(v);
	uint64_t n = 0;
	for (size_t i = 0; i <= last; i++)
		n += h->counts[i];
	return n;
}

static double clamp53(uint64_t v)
{
	return (double)(v > EB_HIST_MAX_JSON ? EB_HIST_MAX_JSON : v);
}

cJSON *eb_hist_to_json(const eb_hist *h)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *b = cJSON_CreateArray();
	if (o == NULL || b == NULL)
		goto fail;
	cJSON_AddItemToObject(o, "subBucketBits", cJSON_CreateNumber(EB_HIST_SUB_BITS));
	cJSON_AddItemToObject(o, "count", cJSON_CreateNumber(clamp53(h->count)));
	cJSON_AddItemToObject(o, "min", cJSON_CreateNumber(h->count ? clamp53(h->min) : 0));
	cJSON_AddItemToObject(o, "max", cJSON_CreateNumber(clamp53(h->max)));
	cJSON_AddItemToObject(o, "sum", cJSON_CreateNumber(clamp53(h->sum)));
	for (size_t i = 0; i < EB_HIST_BUCKETS; i++) {
		if (h->counts[i] == 0)
			continue;
		cJSON *ix = cJSON_CreateNumber((double)i);
		cJSON *c = cJSON_CreateNumber(clamp53(h->counts[i]));
		if (ix == NULL || c == NULL) {
			cJSON_Delete(ix);
			cJSON_Delete(c);
			goto fail;
		}
		cJSON_AddItemToArray(b, ix);
		cJSON_AddItemToArray(b, c);
	}
	cJSON_AddItemToObject(o, "buckets", b);
	return o;
fail:
	cJSON_Delete(o);
	cJSON_Delete(b);
	return NULL;
}

static bool get_u(const cJSON *o, const char *name, uint64_t *out)
{
	return eb_json_get_uint53(cJSON_GetObjectItemCaseSensitive(o, name), out);
}

eb_rc eb_hist_from_json(const cJSON *j, eb_hist *h, eb_err *err)
{
	eb_hist_init(h);
	uint64_t bits, count, mn, mx, sum;
	if (!cJSON_IsObject(j) || !get_u(j, "subBucketBits", &bits) ||
	    !get_u(j, "count", &count) || !get_u(j, "min", &mn) ||
	    !get_u(j, "max", &mx) || !get_u(j, "sum", &sum))
		return eb_err_set(err, EB_ERR_SHAPE, NULL, "histogram", NULL, -1,
				  "histogram: missing or non-integer member");
	if (bits != EB_HIST_SUB_BITS)
		return eb_err_set(err, EB_ERR_SHAPE, NULL, "histogram.subBucketBits",
				  NULL, -1, "histogram: subBucketBits %llu, this build uses %u",
				  (unsigned long long)bits, (unsigned)EB_HIST_SUB_BITS);
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(j, "buckets");
	if (!cJSON_IsArray(b) || cJSON_GetArraySize(b) % 2 != 0)
		return eb_err_set(err, EB_ERR_SHAPE, NULL, "histogram.buckets", NULL,
				  -1, "histogram: buckets must be an array of index,count pairs");
	uint64_t seen = 0;
	long prev = -1;
	const cJSON *it = b->child;
	while (it != NULL) {
		uint64_t ix, c;
		if (!eb_json_get_uint53(it, &ix) || it->next == NULL ||
		    !eb_json_get_uint53(it->next, &c) || ix >= EB_HIST_BUCKETS ||
		    (long)ix <= prev)
			return eb_err_set(err, EB_ERR_SHAPE, NULL, "histogram.buckets",
					  NULL, -1, "histogram: bad bucket entry after index %ld", prev);
		h->counts[ix] = c;
		seen += c;
		prev = (long)ix;
		it = it->next->next;
	}
	if (seen != count)
		return eb_err_set(err, EB_ERR_SHAPE, NULL, "histogram.count", NULL, -1,
				  "histogram: count %llu but buckets hold %llu",
				  (unsigned long long)count, (unsigned long long)seen);
	h->count = count;
	h->min = count ? mn : UINT64_MAX;
	h->max = mx;
	h->sum = sum;
	return EB_OK;
}
