/*
 * ebcl_store.c — the changes, queue and merged state of one store (see
 * ebcl_store.h).
 */
#include "ebcl_store.h"

#include <stdlib.h>
#include <string.h>

#include "eb_merge.h"

ebcl_store *ebcl_store_new(const char *id)
{
	ebcl_store *st = calloc(1, sizeof *st);
	if (st == NULL)
		return NULL;
	st->id = strdup(id);
	if (st->id == NULL) {
		free(st);
		return NULL;
	}
	return st;
}

static void store_clear_seen(ebcl_store *st)
{
	for (size_t i = 0; i < st->n_seen; i++)
		eb_change_clear(&st->seen[i]);
	free(st->seen);
	free(st->set);
	st->seen = NULL;
	st->set = NULL;
	st->n_seen = st->cap_seen = st->set_cap = 0;
}

void ebcl_store_free(ebcl_store *st)
{
	if (st == NULL)
		return;
	store_clear_seen(st);
	for (size_t i = 0; i < st->n_queue; i++)
		eb_change_clear(&st->queue[i]);
	free(st->queue);
	free(st->id);
	free(st);
}

void ebcl_store_reset(ebcl_store *st)
{
	store_clear_seen(st);
	st->known = 0;
}

/* FNV-1a of an id. */
static size_t store_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return (size_t)h;
}

/* Slot of id in the set: its entry, or the empty slot where it goes. */
static size_t store_slot(const ebcl_store *st, const char *id)
{
	size_t mask = st->set_cap - 1;
	size_t i = store_hash(id) & mask;
	while (st->set[i] != 0 && strcmp(st->seen[st->set[i] - 1].id, id) != 0)
		i = (i + 1) & mask;
	return i;
}

static int store_grow_set(ebcl_store *st)
{
	size_t cap = st->set_cap ? st->set_cap * 2 : 64;
	size_t *ns = calloc(cap, sizeof *ns);
	if (ns == NULL)
		return -1;
	free(st->set);
	st->set = ns;
	st->set_cap = cap;
	for (size_t k = 0; k < st->n_seen; k++)
		st->set[store_slot(st, st->seen[k].id)] = k + 1;
	return 0;
}

bool ebcl_store_has_seen(const ebcl_store *st, const char *id)
{
	if (st->set_cap == 0)
		return false;
	return st->set[store_slot(st, id)] != 0;
}

int ebcl_store_add_seen(ebcl_store *st, const eb_change *c)
{
	if (ebcl_store_has_seen(st, c->id))
		return 0;
	if (st->n_seen >= EBCL_MAX_SEEN)
		return -1;
	if ((st->n_seen + 1) * 2 > st->set_cap && store_grow_set(st) != 0)
		return -1;
	if (st->n_seen == st->cap_seen) {
		size_t cap = st->cap_seen ? st->cap_seen * 2 : 32;
		eb_change *ns = realloc(st->seen, cap * sizeof *ns);
		if (ns == NULL)
			return -1;
		st->seen = ns;
		st->cap_seen = cap;
	}
	if (eb_change_copy(&st->seen[st->n_seen], c) != EB_OK)
		return -1;
	st->set[store_slot(st, c->id)] = st->n_seen + 1;
	st->n_seen++;
	return 1;
}

int ebcl_store_enqueue(ebcl_store *st, eb_change *c)
{
	if (st->n_queue >= EBCL_MAX_QUEUE)
		return -1;
	if (st->n_queue == st->cap_queue) {
		size_t cap = st->cap_queue ? st->cap_queue * 2 : 16;
		eb_change *nq = realloc(st->queue, cap * sizeof *nq);
		if (nq == NULL)
			return -1;
		st->queue = nq;
		st->cap_queue = cap;
	}
	st->queue[st->n_queue++] = *c;
	memset(c, 0, sizeof *c);
	return 0;
}

void ebcl_store_dequeue_at(ebcl_store *st, size_t i)
{
	if (i >= st->n_queue)
		return;
	eb_change_clear(&st->queue[i]);
	memmove(&st->queue[i], &st->queue[i + 1],
		(st->n_queue - i - 1) * sizeof *st->queue);
	st->n_queue--;
}

void ebcl_store_acked(ebcl_store *st, size_t n)
{
	if (n > st->n_queue)
		n = st->n_queue;
	for (size_t i = 0; i < n; i++)
		(void)ebcl_store_add_seen(st, &st->queue[i]);
	for (size_t i = 0; i < n; i++)
		eb_change_clear(&st->queue[i]);
	memmove(&st->queue[0], &st->queue[n],
		(st->n_queue - n) * sizeof *st->queue);
	st->n_queue -= n;
}

int ebcl_store_state(const ebcl_store *st, bool by_arrival, cJSON **out)
{
	*out = NULL;
	size_t n = st->n_seen + st->n_queue;
	if (by_arrival) {
		cJSON *s = cJSON_CreateObject();
		if (s == NULL)
			return -1;
		for (size_t i = 0; i < n; i++) {
			const eb_change *c = i < st->n_seen ? &st->seen[i]
				: &st->queue[i - st->n_seen];
			if (eb_merge_apply(s, c, NULL) != EB_OK) {
				cJSON_Delete(s);
				return -1;
			}
		}
		*out = s;
		return 0;
	}
	/* eb_merge_state takes one array: a shallow view of both. */
	eb_change *all = malloc((n ? n : 1) * sizeof *all);
	if (all == NULL)
		return -1;
	if (st->n_seen)
		memcpy(all, st->seen, st->n_seen * sizeof *all);
	if (st->n_queue)
		memcpy(all + st->n_seen, st->queue, st->n_queue * sizeof *all);
	eb_rc rc = eb_merge_state(all, n, out, NULL);
	free(all);
	return rc == EB_OK ? 0 : -1;
}
