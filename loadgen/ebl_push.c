/*
 * ebl_push.c — the pushers: each thread owns the stores s with
 * s % pushers == its index (one writer per store, so the committed version
 * of a push is known before it is sent), and sends one change at a time on
 * a fixed schedule (push k at hold start + k / rate). The ring slot of the
 * version a push will take is written before the request leaves, so a
 * notification that overtakes the HTTP response still finds its push.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ebl.h"
#include "eb_http.h"
#include "eb_msg.h"
#include "eb_time.h"

typedef struct pusher {
	const ebl_config *cfg;
	ebl_shm *shm;
	unsigned idx;
	eb_http *http[EBL_MAX_URLS];
	pthread_t th;
	bool running;
} pusher;

struct ebl_pushers {
	pusher *p;
	unsigned n;
	eb_http_budget *budget;  /* response bodies in flight, every pusher */
};

/* Response bodies the pushers receive at one time, in all: 8 pushers
 * receiving endless bodies held 502 MiB with the per-response cap alone. */
#define EBL_PUSH_BODY_BUDGET ((size_t)48 << 20)

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };
	nanosleep(&ts, NULL);
}

static void record_fanout(ebl_pstat *ps, const ebl_push_rec *r)
{
	uint64_t v = EBL_LD(&r->version);
	uint64_t n = EBL_LD(&r->n_recv);
	if (v == 0 || n == 0)
		return;
	uint64_t last = EBL_LD(&r->last_recv_ns), t0 = EBL_LD(&r->intended_ns);
	eb_hist_record(&ps->fanout, last > t0 ? last - t0 : 0);
}

static void push_one(pusher *p, uint32_t s, uint64_t intended, uint64_t seq)
{
	const ebl_config *cfg = p->cfg;
	ebl_shm *shm = p->shm;
	ebl_pstat *ps = &shm->p[p->idx];
	uint64_t cur = EBL_LD(&shm->stores[s].committed);
	uint64_t ver = cur + 1;
	ebl_push_rec *r = &shm->recs[(size_t)s * shm->ring + (ver & (shm->ring - 1))];
	record_fanout(ps, r);
	/* Seqlock writer (readers: ebl_ws.c), without standalone fences (which
	 * ThreadSanitizer cannot follow): version 0 first; every field store
	 * is a release, so a reader that sees a new field value (its loads are
	 * acquires) sees version 0 or later on its second look; the new
	 * version last, released. */
	EBL_ST(&r->version, 0);
	__atomic_store_n(&r->intended_ns, intended, __ATOMIC_RELEASE);
	__atomic_store_n(&r->commit_ns, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&r->n_recv, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&r->last_recv_ns, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&r->version, ver, __ATOMIC_RELEASE);

	char body[512], path[256];
	int bl = snprintf(body, sizeof body,
			  "{\"lastKnownVersion\":%llu,\"changes\":[{\"id\":\"ebl-%llu-%llu\","
			  "\"timestamp\":%llu,\"operation\":\"set\",\"path\":[\"ebload\",\"seq\"],"
			  "\"value\":%llu}]}",
			  (unsigned long long)cur, (unsigned long long)ver,
			  (unsigned long long)seq, (unsigned long long)eb_time_now_ms(),
			  (unsigned long long)seq);
	snprintf(path, sizeof path, "/api/stores/%s/sync", shm->store_ids[s]);
	eb_http_resp resp;
	EBL_INC(&ps->sent);
	uint64_t t_send = eb_time_mono_ns();
	eb_rc rc = eb_http_request(p->http[shm->stores[s].url], "POST", path,
				   cfg->no_auth ? NULL : cfg->token, NULL, body,
				   (size_t)bl, NULL, 0, &resp);
	uint64_t t_done = eb_time_mono_ns();
	if (rc != EB_OK) {
		EBL_INC(&ps->transport_err);
		eb_http_resp_clear(&resp);
		return;
	}
	eb_hist_record(&ps->push, t_done - t_send);
	if (resp.status != 200) {
		EBL_INC(&ps->http_err);
		if (cfg->lws_log_level)
			fprintf(stderr, "ebload: push to %s: HTTP %ld %.200s\n",
				shm->store_ids[s], resp.status, resp.body ? resp.body : "");
		eb_http_resp_clear(&resp);
		return;
	}
	eb_sync_response *sr = NULL;
	if (eb_sync_response_parse(resp.body, resp.body_len, &sr, NULL) != EB_OK) {
		EBL_INC(&ps->http_err);
		eb_http_resp_clear(&resp);
		return;
	}
	if (sr->current_version == ver) {
		__atomic_store_n(&r->commit_ns, t_done, __ATOMIC_RELEASE);
		EBL_INC(&ps->ok);
	} else {
		/* another writer (or an earlier push whose answer was lost) took
		 * versions: this push's own version is unknown */
		EBL_INC(&ps->mismatch);
		__atomic_store_n(&r->version, 0, __ATOMIC_RELEASE);
	}
	if (sr->current_version > cur)
		__atomic_store_n(&shm->stores[s].committed, sr->current_version, __ATOMIC_RELEASE);
	eb_sync_response_free(sr);
	eb_http_resp_clear(&resp);
}

static void *pusher_main(void *arg)
{
	pusher *p = arg;
	const ebl_config *cfg = p->cfg;
	ebl_shm *shm = p->shm;
	ebl_pstat *ps = &shm->p[p->idx];
	while (EBL_LD(&shm->phase) < EBL_PH_HOLD && !EBL_LD(&shm->stop))
		sleep_ns(1000000);
	if (EBL_LD(&shm->phase) != EBL_PH_HOLD)
		return NULL;
	uint32_t n_mine = 0;
	for (uint32_t s = p->idx; s < shm->n_stores_total; s += p->cfg->pushers)
		n_mine++;
	if (n_mine == 0)
		return NULL;
	double rate = cfg->push_rate / cfg->pushers;
	uint64_t t0 = EBL_LD(&shm->phase_ns);
	for (uint64_t k = 0;; k++) {
		uint64_t intended = t0 + (uint64_t)((double)k * 1e9 / rate);
		uint64_t now;
		while ((now = eb_time_mono_ns()) < intended) {
			if (EBL_LD(&shm->phase) != EBL_PH_HOLD)
				return NULL;
			uint64_t d = intended - now;
			sleep_ns(d > 5000000 ? 5000000 : d);
		}
		if (EBL_LD(&shm->phase) != EBL_PH_HOLD)
			return NULL;
		if (now > intended + 10000000)
			EBL_INC(&ps->late);
		uint32_t s = p->idx + (uint32_t)(k % n_mine) * cfg->pushers;
		push_one(p, s, intended, k * cfg->pushers + p->idx);
	}
}

ebl_pushers *ebl_pushers_start(const ebl_config *cfg, ebl_shm *shm)
{
	ebl_pushers *ps = calloc(1, sizeof *ps);
	if (ps == NULL)
		return NULL;
	if (cfg->push_rate <= 0)
		return ps;
	ps->p = calloc(cfg->pushers, sizeof *ps->p);
	if (ps->p == NULL) {
		free(ps);
		return NULL;
	}
	ps->n = cfg->pushers;
	ps->budget = eb_http_budget_new(EBL_PUSH_BODY_BUDGET);
	if (ps->budget == NULL) {
		free(ps->p);
		free(ps);
		return NULL;
	}
	for (unsigned i = 0; i < ps->n; i++) {
		pusher *p = &ps->p[i];
		p->cfg = cfg;
		p->shm = shm;
		p->idx = i;
		bool ok = true;
		for (unsigned u = 0; u < cfg->n_urls; u++)
			if ((p->http[u] = eb_http_new(cfg->urls[u].base, (long)(cfg->push_timeout_s * 1000))) == NULL ||
			    eb_http_set_tls(p->http[u], &cfg->tls) != EB_OK)
				ok = false;
			else
				eb_http_set_budget(p->http[u], ps->budget);
		if (ok && pthread_create(&p->th, NULL, pusher_main, p) == 0)
			p->running = true;
		else
			fprintf(stderr, "ebload: pusher %u could not start\n", i);
	}
	return ps;
}

void ebl_pushers_join(ebl_pushers *ps)
{
	if (ps == NULL)
		return;
	for (unsigned i = 0; i < ps->n; i++) {
		if (ps->p[i].running)
			pthread_join(ps->p[i].th, NULL);
		for (unsigned u = 0; u < EBL_MAX_URLS; u++)
			eb_http_free(ps->p[i].http[u]);
	}
	free(ps->p);
	eb_http_budget_free(ps->budget);
	free(ps);
}

bool ebl_pushers_join_within(ebl_pushers *ps, unsigned ms)
{
	if (ps == NULL)
		return true;
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	for (unsigned i = 0; i < ps->n; i++) {
		if (!ps->p[i].running)
			continue;
		if (pthread_timedjoin_np(ps->p[i].th, NULL, &until) != 0)
			return false;
		ps->p[i].running = false;
	}
	ebl_pushers_join(ps);
	return true;
}

void ebl_pushers_finalize(const ebl_config *cfg, ebl_shm *shm)
{
	if (shm->n_pushers == 0)
		return;
	for (uint32_t s = 0; s < shm->n_stores_total; s++)
		for (uint32_t k = 0; k < shm->ring; k++) {
			ebl_push_rec *r = &shm->recs[(size_t)s * shm->ring + k];
			record_fanout(&shm->p[s % cfg->pushers], r);
			EBL_ST(&r->n_recv, 0);
		}
}
