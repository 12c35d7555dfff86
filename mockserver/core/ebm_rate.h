/*
 * ebm_rate.h — the token-bucket rate limiter of ebmock (RATE-1..5): one
 * bucket per key (a subject, a token or an address), refilled at per_s
 * tokens a second up to burst. The clock is the caller's (now_ms): nothing
 * here reads time, so tests drive it without sleeping. A leaf module.
 */
#ifndef EBM_RATE_H
#define EBM_RATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ebm_bucket {
	struct ebm_bucket *next;
	double tokens;
	uint64_t last_ms;
	char key[];
} ebm_bucket;

/* A table of buckets. Zero-initialised it is empty and limits nothing. */
typedef struct ebm_buckets {
	ebm_bucket **tab;
	size_t cap, n;
	double per_s, burst;
} ebm_buckets;

/* Sets the rate: per_s tokens a second (<= 0: no limit, every take
 * succeeds), burst the bucket size (<= 0 taken as 1). Call before the first
 * take; existing buckets are kept. */
void ebm_rate_init(ebm_buckets *b, double per_s, double burst);

/* Takes one token from key's bucket at now_ms (monotonic ms, never going
 * back); a key not seen yet starts with a full bucket. true when a token
 * was taken; false when the bucket is empty, then *retry_s (may be NULL)
 * gets the whole seconds until one is available (at least 1). Out of
 * memory: true (the limiter never refuses for its own sake). Buckets that
 * have refilled are swept when the table holds 4 keys a slot, so many keys
 * cannot grow it without bound. */
bool ebm_rate_take(ebm_buckets *b, const char *key, uint64_t now_ms,
		   unsigned *retry_s);

/* Number of buckets held (tests: the sweep). */
size_t ebm_rate_count(const ebm_buckets *b);

/* Frees every bucket; b is empty afterwards (its rate kept). */
void ebm_rate_clear(ebm_buckets *b);

#endif
