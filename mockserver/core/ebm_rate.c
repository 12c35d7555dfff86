/*
 * ebm_rate.c — token buckets in a chained hash table (ebm_rate.h).
 */
#include "ebm_rate.h"

#include <stdlib.h>
#include <string.h>

void ebm_rate_init(ebm_buckets *b, double per_s, double burst)
{
	b->per_s = per_s;
	b->burst = burst;
}

static double ebm_rate_burst(const ebm_buckets *b)
{
	return b->burst > 0 ? b->burst : 1;
}

static uint64_t ebm_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

/* A full bucket is the same as no bucket: drop those so that many distinct
 * addresses cannot grow the table without bound. */
static void ebm_buckets_sweep(ebm_buckets *b, uint64_t now_ms)
{
	for (size_t i = 0; i < b->cap; i++) {
		ebm_bucket **pp = &b->tab[i];
		while (*pp) {
			ebm_bucket *k = *pp;
			double t = k->tokens + (double)(now_ms - k->last_ms) * b->per_s / 1000.0;
			if (t >= ebm_rate_burst(b)) {
				*pp = k->next;
				free(k);
				b->n--;
			} else {
				pp = &k->next;
			}
		}
	}
}

/* key's bucket, created full when missing; NULL when out of memory. */
static ebm_bucket *ebm_bucket_get(ebm_buckets *b, const char *key,
				  uint64_t now_ms)
{
	size_t slot = ebm_hash(key) % b->cap;
	ebm_bucket *k = b->tab[slot];
	while (k && strcmp(k->key, key) != 0)
		k = k->next;
	if (k)
		return k;
	size_t kl = strlen(key);
	k = malloc(sizeof *k + kl + 1);
	if (!k)
		return NULL;
	memcpy(k->key, key, kl + 1);
	k->tokens = ebm_rate_burst(b);
	k->last_ms = now_ms;
	k->next = b->tab[slot];
	b->tab[slot] = k;
	b->n++;
	return k;
}

bool ebm_rate_take(ebm_buckets *b, const char *key, uint64_t now_ms,
		   unsigned *retry_s)
{
	if (b->per_s <= 0)
		return true;
	if (!b->tab) {
		b->cap = 256;
		b->tab = calloc(b->cap, sizeof *b->tab);
		if (!b->tab) {
			b->cap = 0;
			return true;
		}
	}
	if (b->n > 4 * b->cap)
		ebm_buckets_sweep(b, now_ms);
	ebm_bucket *k = ebm_bucket_get(b, key, now_ms);
	if (!k)
		return true;
	double burst = ebm_rate_burst(b);
	k->tokens += (double)(now_ms - k->last_ms) * b->per_s / 1000.0;
	if (k->tokens > burst)
		k->tokens = burst;
	k->last_ms = now_ms;
	if (k->tokens >= 1.0) {
		k->tokens -= 1.0;
		return true;
	}
	if (retry_s) {
		double wait = (1.0 - k->tokens) / b->per_s;
		unsigned s = (unsigned)wait;
		if ((double)s < wait)
			s++;
		*retry_s = s < 1 ? 1 : s;
	}
	return false;
}

size_t ebm_rate_count(const ebm_buckets *b)
{
	return b->n;
}

void ebm_rate_clear(ebm_buckets *b)
{
	for (size_t i = 0; i < b->cap; i++) {
		ebm_bucket *k = b->tab[i];
		while (k) {
			ebm_bucket *nx = k->next;
			free(k);
			k = nx;
		}
	}
	free(b->tab);
	b->tab = NULL;
	b->cap = b->n = 0;
}
