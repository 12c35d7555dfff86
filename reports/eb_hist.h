/*
 * eb_hist.h — a log-linear latency histogram in the manner of HdrHistogram:
 * values below 2^EB_HIST_SUB_BITS are counted exactly, larger ones in
 * buckets whose width is at most 1/2^(EB_HIST_SUB_BITS-1) of their lowest
 * value (< 0.8 % relative error with 8 bits) over the whole uint64 range.
 *
 * The struct has a fixed size and no pointers, so it can live in memory
 * shared between processes: one writer (eb_hist_record) and any number of
 * concurrent readers (eb_hist_add, eb_hist_diff), through relaxed atomic
 * loads and stores, never torn. Merging is exact: bucket-wise sums, so the
 * merge of per-thread, per-process or per-machine histograms equals the
 * histogram of all values. Socket-free; no allocation except the JSON
 * helpers.
 */
#ifndef EB_HIST_H
#define EB_HIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "eb_error.h"

#define EB_HIST_SUB_BITS 8
#define EB_HIST_HALF (1u << (EB_HIST_SUB_BITS - 1))
/* Exact range [0, 2^SUB_BITS), then 64 - SUB_BITS halves of HALF buckets. */
#define EB_HIST_BUCKETS ((66 - EB_HIST_SUB_BITS) * EB_HIST_HALF)

typedef struct eb_hist {
	uint64_t count;   /* number of recorded values */
	uint64_t min;     /* UINT64_MAX when empty */
	uint64_t max;     /* 0 when empty */
	uint64_t sum;     /* saturates at UINT64_MAX */
	uint64_t counts[EB_HIST_BUCKETS];
} eb_hist;

/* Empties h. */
void eb_hist_init(eb_hist *h);

/* Bucket index of value v (always < EB_HIST_BUCKETS). */
size_t eb_hist_index(uint64_t v);
/* Lowest and highest value that fall into bucket idx (idx < EB_HIST_BUCKETS). */
uint64_t eb_hist_bucket_low(size_t idx);
uint64_t eb_hist_bucket_high(size_t idx);

/* Records one value; n times for eb_hist_record_n. Single writer per
 * histogram; readers may run concurrently. */
void eb_hist_record(eb_hist *h, uint64_t v);
void eb_hist_record_n(eb_hist *h, uint64_t v, uint64_t n);

/* dst += src, exactly. src may be concurrently written by its one writer:
 * dst then holds a consistent snapshot (count is the sum of the buckets
 * read). */
void eb_hist_add(eb_hist *dst, const eb_hist *src);

/* out = now - before (both snapshots of the same growing histogram, before
 * taken earlier). min/max of out are the bounds of its lowest and highest
 * non-empty bucket, since exact extremes of an interval are not kept. A
 * bucket that shrank (not a snapshot pair) counts as 0. */
void eb_hist_diff(eb_hist *out, const eb_hist *now, const eb_hist *before);

/* Value at percentile p (0..100): the highest value of the bucket holding
 * the ceil(p/100*count)-th value, clamped to [min, max]; p <= 0 gives min,
 * p >= 100 max. 0 when empty. */
uint64_t eb_hist_percentile(const eb_hist *h, double p);

/* Mean of the recorded values (0 when empty). */
double eb_hist_mean(const eb_hist *h);

/* Number of values <= v (counting whole buckets up to v's bucket). */
uint64_t eb_hist_count_at_or_below(const eb_hist *h, uint64_t v);

/* JSON form: {"subBucketBits":8,"count":N,"min":..,"max":..,"sum":..,
 * "buckets":[index,count,index,count,...]} (non-empty buckets, ascending).
 * Values above 2^53-1 are written clamped (JSON numbers). NULL on
 * allocation failure; caller owns the result (cJSON_Delete). */
cJSON *eb_hist_to_json(const eb_hist *h);

/* Reads the JSON form into *h (initialised first). EB_ERR_SHAPE when
 * members are missing, of the wrong type, indexes are not ascending or out
 * of range, subBucketBits differs from this build, or count disagrees with
 * the buckets. */
eb_rc eb_hist_from_json(const cJSON *j, eb_hist *h, eb_err *err);

#endif
