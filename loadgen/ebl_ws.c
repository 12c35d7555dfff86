/*
 * ebl_ws.c — the subscriber side of ebload: one lws protocol ("ebload")
 * whose connections authenticate, subscribe and hold, one lws context per
 * worker thread, a 1 ms timer per thread that drives the phases (ramp-up at
 * the connect rate, churn, ramp-down) from the shared phase word.
 *
 * Every notification is matched against the push rings in shared memory:
 * a store_changed with version v covers every push of that store with a
 * version in (last seen, v] (servers may coalesce, WS-NOTIF-5), and each
 * such push contributes one latency sample measured from its intended send
 * time, so a slow server or a late pusher shows as latency (no coordinated
 * omission).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "ebl.h"
#include "eb_time.h"
#include "eb_ws.h"

enum conn_state {
	CS_IDLE = 0, CS_CONNECTING, CS_SEND_AUTH, CS_WAIT_AUTH, CS_SEND_SUB,
	CS_WAIT_SUB, CS_SUBSCRIBED, CS_CLOSING
};

enum close_why { CW_NONE = 0, CW_CHURN, CW_FINAL, CW_FAILED };

typedef struct ebl_conn {
	struct lws *wsi;
	uint64_t gidx;          /* global connection index */
	uint64_t t_start_ns;
	uint8_t state;
	uint8_t why;            /* enum close_why when we close it */
	uint8_t failed;         /* failure already counted */
	uint16_t close_code;    /* from the peer's close frame */
	char *rx;               /* partial message being reassembled */
	uint32_t rx_len, rx_cap;
} ebl_conn;

typedef struct ebl_worker {
	const ebl_config *cfg;
	ebl_shm *shm;
	ebl_wstat *st;
	unsigned wid;
	struct lws_context *ctx;
	lws_sorted_usec_list_t sul;
	ebl_conn *conns;
	uint64_t n;              /* connections of this worker */
	uint64_t *last;          /* n * subs_per_conn last seen versions */
	uint64_t next_start;     /* ramp: next connection to start */
	double rate;             /* connect rate of this worker */
	double churn_rate, down_rate;
	uint64_t churn_done, churn_ptr;
	uint64_t *reopen;        /* queue of connections to open again (churn) */
	uint64_t n_reopen;
	bool final_started;
	uint64_t final_ns, closed_ptr;
	uint64_t closing;        /* close handshakes in flight */
	uint64_t next_expire_ns; /* next scan for handshakes past --connect-timeout */
	bool exit;
	bool evlib;              /* libev loop (epoll) instead of poll() */
	char *auth_msg;
	size_t auth_len;
	unsigned char *txbuf;    /* LWS_PRE + EBL_TX_MAX */
	pthread_t th;
} ebl_worker;

#define EBL_TX_MAX 16384
#define EBL_RX_MAX (1u << 20)

struct ebl_vhd {
	ebl_worker *w;
};

struct ebl_pss {
	ebl_conn *c;
};

uint32_t ebl_store_of(const ebl_config *cfg, uint64_t conn, unsigned j)
{
	uint32_t s = (uint32_t)((conn / cfg->n_urls * cfg->subs_per_conn + j) % cfg->stores);
	if (cfg->shared_backend)
		return s;
	return ebl_url_of(cfg, conn) * cfg->stores + s;
}

unsigned ebl_url_of(const ebl_config *cfg, uint64_t conn)
{
	return (unsigned)(conn % cfg->n_urls);
}

static uint64_t *conn_last(ebl_worker *w, const ebl_conn *c)
{
	return &w->last[(size_t)(c - w->conns) * w->cfg->subs_per_conn];
}

uint64_t ebl_missed(const ebl_config *cfg, ebl_shm *shm, uint32_t store,
		    uint64_t last, uint64_t end_ns)
{
	uint64_t top = __atomic_load_n(&shm->stores[store].committed, __ATOMIC_ACQUIRE);
	if (top <= last)
		return 0;
	uint64_t drain = (uint64_t)(cfg->drain_s * 1e9);
	uint64_t cut = end_ns > drain ? end_ns - drain : 0;
	uint64_t v = top;
	while (v > last && top - v < shm->ring) {
		const ebl_push_rec *r = &shm->recs[(size_t)store * shm->ring + (v & (shm->ring - 1))];
		/* seqlock reader (writer: ebl_push.c): version, field, fence,
		 * version again */
		uint64_t v0 = __atomic_load_n(&r->version, __ATOMIC_ACQUIRE);
		uint64_t cn = EBL_LD(&r->commit_ns);
		atomic_thread_fence(memory_order_acquire);
		if (v0 == v && EBL_LD(&r->version) == v && cn != 0 && cn <= cut)
			break;
		v--;
	}
	return v > last ? v - last : 0;
}

static void count_missed(ebl_worker *w, ebl_conn *c, uint64_t now)
{
	uint64_t *last = conn_last(w, c);
	for (unsigned j = 0; j < w->cfg->subs_per_conn; j++)
		EBL_ADD(&w->st->c.notif_missed,
			ebl_missed(w->cfg, w->shm, ebl_store_of(w->cfg, c->gidx, j), last[j], now));
}

static void atomic_max(uint64_t *p, uint64_t v)
{
	uint64_t cur = __atomic_load_n(p, __ATOMIC_RELAXED);
	while (cur < v && !__atomic_compare_exchange_n(p, &cur, v, true,
						       __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

static void on_notification(ebl_worker *w, ebl_conn *c, unsigned j, uint64_t v,
			    uint64_t now)
{
	ebl_wstat *st = w->st;
	uint64_t *last = &conn_last(w, c)[j];
	EBL_INC(&st->c.notif_received);
	if (v == *last) {
		EBL_INC(&st->c.notif_duplicates);
		return;
	}
	if (v < *last) {
		EBL_INC(&st->c.notif_out_of_order);
		return;
	}
	uint32_t s = ebl_store_of(w->cfg, c->gidx, j);
	uint64_t from = *last + 1;
	if (v - *last > w->shm->ring) {
		EBL_ADD(&st->c.notif_unmatched, v - *last - w->shm->ring);
		from = v - w->shm->ring + 1;
	}
	for (uint64_t ver = from; ver <= v; ver++) {
		ebl_push_rec *r = &w->shm->recs[(size_t)s * w->shm->ring + (ver & (w->shm->ring - 1))];
		if (__atomic_load_n(&r->version, __ATOMIC_ACQUIRE) != ver) {
			EBL_INC(&st->c.notif_unmatched);
			continue;
		}
		uint64_t intended = EBL_LD(&r->intended_ns);
		/* the field is read before the second look at the version: an
		 * acquire load would not keep it there, a fence does */
		atomic_thread_fence(memory_order_acquire);
		if (EBL_LD(&r->version) != ver) {
			EBL_INC(&st->c.notif_unmatched);
			continue;
		}
		eb_hist_record(&st->lat, now > intended ? now - intended : 0);
		EBL_INC(&st->c.notif_matched);
		__atomic_fetch_add(&r->n_recv, 1, __ATOMIC_RELAXED);
		atomic_max(&r->last_recv_ns, now);
	}
	*last = v;
}

/* Counts a failed attempt once, by cause. */
static void fail(ebl_conn *c, uint64_t *counter)
{
	if (c->failed)
		return;
	c->failed = 1;
	EBL_INC(counter);
}

static void classify_connect_error(ebl_worker *w, ebl_conn *c, const char *msg, int err)
{
	ebl_wstat *st = w->st;
	if (err == EMFILE || err == ENFILE || (msg && strstr(msg, "Too many open files"))) {
		fail(c, &st->c.fail_emfile);
		EBL_ST(&st->limit_emfile, 1);
	} else if (err == EADDRNOTAVAIL || err == EADDRINUSE ||
		   (msg && strstr(msg, "ddress not available"))) {
		fail(c, &st->c.fail_addr);
		EBL_ST(&st->limit_addr, 1);
	} else if (msg && (strstr(msg, "refused") || strstr(msg, "connect failed"))) {
		fail(c, &st->c.fail_refused);
	} else if (msg && (strstr(msg, "timeout") || strstr(msg, "timed out"))) {
		fail(c, &st->c.fail_timeout);
	} else if (msg && (strstr(msg, "HS:") || strstr(msg, "upgrade") ||
			   strstr(msg, "101") || strstr(msg, "status"))) {
		fail(c, &st->c.fail_upgrade);
	} else {
		fail(c, &st->c.fail_other);
	}
	if (w->cfg->lws_log_level && msg)
		fprintf(stderr, "ebload: connection %llu failed: %s (errno %d)\n",
			(unsigned long long)c->gidx, msg, err);
}

/* No lws validity (idle ping) timer: lws 4.1 keeps those in a sorted list
 * walked from the head on every insert, which made each new connection cost
 * O(open connections) — a quadratic ramp. The protocol's own ping (WS-5) is
 * the server's business; ebload answers it and counts drops. */
static const lws_retry_bo_t ebl_no_validity = {
	.secs_since_valid_ping = 0, .secs_since_valid_hangup = 0
};

static void conn_start(ebl_worker *w, ebl_conn *c)
{
	const ebl_config *cfg = w->cfg;
	const ebl_url *u = &cfg->urls[ebl_url_of(cfg, c->gidx)];
	struct lws_client_connect_info i;
	memset(&i, 0, sizeof i);
	i.context = w->ctx;
	i.address = u->host;
	i.port = u->port;
	i.path = u->ws_path;
	i.host = u->host;
	i.origin = u->host;
	i.local_protocol_name = "ebload";
	i.opaque_user_data = c;
	i.pwsi = &c->wsi;
	i.retry_and_idle_policy = &ebl_no_validity;
	if (u->tls) {
		/* wss://: name (or address) and chain checked unless --insecure */
		i.ssl_connection = LCCSCF_USE_SSL;
		if (cfg->tls.insecure)
			i.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_ALLOW_EXPIRED |
					    LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
					    LCCSCF_ALLOW_INSECURE;
	}
	if (cfg->n_sources != 0)
		i.iface = cfg->sources[(c->gidx / cfg->n_urls) % cfg->n_sources];
	c->state = CS_CONNECTING;
	c->why = CW_NONE;
	c->failed = 0;
	c->close_code = 0;
	c->rx_len = 0;
	c->t_start_ns = eb_time_mono_ns();
	memset(conn_last(w, c), 0, cfg->subs_per_conn * sizeof(uint64_t));
	EBL_INC(&w->st->c.conn_attempted);
	EBL_INC(&w->st->pending);
	errno = 0;
	if (lws_client_connect_via_info(&i) == NULL) {
		int e = errno;
		/* lws may already have reported CONNECTION_ERROR and reset state */
		if (c->state == CS_CONNECTING) {
			c->wsi = NULL;
			c->state = CS_IDLE;
			EBL_ST(&w->st->pending, EBL_LD(&w->st->pending) - 1);
			classify_connect_error(w, c, strerror(e ? e : EIO), e);
		}
	}
}

/* The connection ended (any way); state back to idle, counted once. */
static void conn_ended(ebl_worker *w, ebl_conn *c)
{
	ebl_wstat *st = w->st;
	uint64_t now = eb_time_mono_ns();
	if (c->state == CS_IDLE)
		return;
	if (c->state == CS_SUBSCRIBED || (c->state == CS_CLOSING && c->why != CW_FAILED)) {
		EBL_ST(&st->open, EBL_LD(&st->open) - 1);
		if (c->why == CW_NONE) {
			EBL_INC(&st->c.conn_drops);
			count_missed(w, c, now);
		} else {
			EBL_INC(&st->c.conn_closed);
		}
	} else {
		if (c->state <= CS_WAIT_SUB)
			EBL_ST(&st->pending, EBL_LD(&st->pending) - 1);
		if (c->why != CW_FINAL && c->why != CW_FAILED) {
			double age = (double)(now - c->t_start_ns) / 1e9;
			if (c->close_code == EB_WS_CLOSE_AUTH)
				fail(c, &st->c.fail_auth);
			else if (c->close_code == EB_WS_CLOSE_AUTH_TIMEOUT ||
				 age >= w->cfg->connect_timeout_s - 0.05)
				fail(c, &st->c.fail_timeout);
			else
				fail(c, &st->c.fail_closed);
		}
	}
	bool reopen = c->why == CW_CHURN;
	if (c->state == CS_CLOSING && w->closing > 0)
		w->closing--;
	c->wsi = NULL;
	c->state = CS_IDLE;
	free(c->rx);
	c->rx = NULL;
	c->rx_cap = c->rx_len = 0;
	if (reopen && w->n_reopen < w->n)
		w->reopen[w->n_reopen++] = (uint64_t)(c - w->conns);
}

static int send_text(struct lws *wsi, ebl_worker *w, const char *msg, size_t len)
{
	if (len > EBL_TX_MAX)
		return -1;
	memcpy(w->txbuf + LWS_PRE, msg, len);
	if (lws_write(wsi, w->txbuf + LWS_PRE, len, LWS_WRITE_TEXT) < (int)len)
		return -1;
	return 0;
}

static int handle_message(struct lws *wsi, ebl_worker *w, ebl_conn *c,
			  const char *buf, size_t len)
{
	uint64_t now = eb_time_mono_ns();
	eb_ws_server_msg *m = NULL;
	if (eb_ws_server_msg_parse(buf, len, &m, NULL) != EB_OK) {
		EBL_INC(&w->st->c.ws_errors);
		return 0;
	}
	const ebl_config *cfg = w->cfg;
	int rc = 0;
	switch (m->type) {
	case EB_WS_S_STORE_CHANGED:
		if (c->state != CS_SUBSCRIBED || m->store_id == NULL)
			break;
		for (unsigned j = 0; j < cfg->subs_per_conn; j++) {
			uint32_t s = ebl_store_of(cfg, c->gidx, j);
			if (strcmp(w->shm->store_ids[s], m->store_id) == 0) {
				on_notification(w, c, j, m->version, now);
				break;
			}
		}
		break;
	case EB_WS_S_AUTH_OK:
		if (c->state == CS_WAIT_AUTH) {
			c->state = CS_SEND_SUB;
			lws_callback_on_writable(wsi);
		}
		break;
	case EB_WS_S_SUBSCRIBED:
		if (c->state != CS_WAIT_SUB)
			break;
		if (m->n_errors != 0) {
			fail(c, &w->st->c.fail_subscribe);
			c->why = CW_FAILED;
			rc = -1;
			break;
		}
		for (size_t k = 0; k < m->n_stores; k++)
			for (unsigned j = 0; j < cfg->subs_per_conn; j++)
				if (strcmp(w->shm->store_ids[ebl_store_of(cfg, c->gidx, j)],
					   m->stores[k].store_id) == 0)
					conn_last(w, c)[j] = m->stores[k].version;
		c->state = CS_SUBSCRIBED;
		EBL_ST(&w->st->pending, EBL_LD(&w->st->pending) - 1);
		EBL_INC(&w->st->c.conn_subscribed);
		EBL_ST(&w->st->open, EBL_LD(&w->st->open) + 1);
		eb_hist_record(&w->st->connect, now - c->t_start_ns);
		break;
	case EB_WS_S_ERROR:
		EBL_INC(&w->st->c.ws_errors);
		if (c->state == CS_WAIT_AUTH || c->state == CS_WAIT_SUB) {
			fail(c, c->state == CS_WAIT_AUTH ? &w->st->c.fail_auth
						  : &w->st->c.fail_subscribe);
			c->why = CW_FAILED;
			rc = -1;
		}
		break;
	default:
		break;
	}
	eb_ws_server_msg_free(m);
	return rc;
}

static int callback_ebload(struct lws *wsi, enum lws_callback_reasons reason,
			   void *user, void *in, size_t len)
{
	struct ebl_pss *pss = user;
	struct ebl_vhd *vhd = lws_protocol_vh_priv_get(lws_get_vhost(wsi),
							lws_get_protocol(wsi));
	ebl_worker *w = vhd ? vhd->w : lws_context_user(lws_get_context(wsi));
	ebl_conn *c = lws_get_opaque_user_data(wsi);

	switch (reason) {
	case LWS_CALLBACK_PROTOCOL_INIT:
		vhd = lws_protocol_vh_priv_zalloc(lws_get_vhost(wsi), lws_get_protocol(wsi),
						  sizeof *vhd);
		if (vhd == NULL)
			return -1;
		vhd->w = lws_context_user(lws_get_context(wsi));
		return 0;

	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (c == NULL || c->state == CS_IDLE)
			return 0;
		if (c->state == CS_CONNECTING || c->state <= CS_WAIT_SUB)
			EBL_ST(&w->st->pending, EBL_LD(&w->st->pending) - 1);
		if (c->why != CW_FINAL)
			classify_connect_error(w, c, in, errno);
		c->wsi = NULL;
		c->state = CS_IDLE;
		return 0;

	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		if (c == NULL)
			return -1;
		if (pss != NULL)
			pss->c = c;
		EBL_INC(&w->st->c.conn_established);
		c->state = w->cfg->no_auth ? CS_SEND_SUB : CS_SEND_AUTH;
		if (c->why == CW_FINAL) {
			c->state = CS_CLOSING;
			w->closing++;
			return -1;
		}
		lws_callback_on_writable(wsi);
		return 0;

	case LWS_CALLBACK_CLIENT_WRITEABLE: {
		if (c == NULL)
			return -1;
		if (c->state == CS_CLOSING) {
			lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
			return -1;
		}
		if (c->state == CS_SEND_AUTH) {
			c->state = CS_WAIT_AUTH;
			return send_text(wsi, w, w->auth_msg, w->auth_len);
		}
		if (c->state == CS_SEND_SUB) {
			const ebl_config *cfg = w->cfg;
			const char *ids[EB_WS_MAX_STORE_IDS];
			for (unsigned j = 0; j < cfg->subs_per_conn; j++)
				ids[j] = w->shm->store_ids[ebl_store_of(cfg, c->gidx, j)];
			char *msg = NULL;
			if (eb_ws_encode_subscribe("2", false, ids, cfg->subs_per_conn, &msg) != EB_OK)
				return -1;
			c->state = CS_WAIT_SUB;
			int rc = send_text(wsi, w, msg, strlen(msg));
			free(msg);
			return rc;
		}
		return 0;
	}

	case LWS_CALLBACK_CLIENT_RECEIVE: {
		if (c == NULL)
			return -1;
		bool whole = lws_is_first_fragment(wsi) && lws_is_final_fragment(wsi) &&
			     lws_remaining_packet_payload(wsi) == 0;
		if (whole && c->rx_len == 0)
			return handle_message(wsi, w, c, in, len);
		if (c->rx_len + len > EBL_RX_MAX) {
			EBL_INC(&w->st->c.ws_errors);
			return -1;
		}
		if (c->rx_len + len > c->rx_cap) {
			uint32_t cap = (uint32_t)(c->rx_len + len) * 2u;
			char *nb = realloc(c->rx, cap);
			if (nb == NULL)
				return -1;
			c->rx = nb;
			c->rx_cap = cap;
		}
		memcpy(c->rx + c->rx_len, in, len);
		c->rx_len += (uint32_t)len;
		if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) {
			int rc = handle_message(wsi, w, c, c->rx, c->rx_len);
			c->rx_len = 0;
			return rc;
		}
		return 0;
	}

	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		if (c != NULL && len >= 2) {
			const unsigned char *p = in;
			c->close_code = (uint16_t)(p[0] << 8 | p[1]);
		}
		return 0;

	case LWS_CALLBACK_CLIENT_CLOSED:
		if (c != NULL)
			conn_ended(w, c);
		return 0;

	case LWS_CALLBACK_WSI_DESTROY:
		/* reached without CLIENT_CLOSED when the upgrade never completed */
		if (c != NULL && c->wsi == wsi && c->state != CS_IDLE) {
			if (c->state == CS_CONNECTING) {
				EBL_ST(&w->st->pending, EBL_LD(&w->st->pending) - 1);
				if (c->why != CW_FINAL)
					fail(c, &w->st->c.fail_closed);
				c->wsi = NULL;
				c->state = CS_IDLE;
			} else {
				conn_ended(w, c);
			}
		}
		return 0;

	default:
		break;
	}
	return 0;
}

static const struct lws_protocols ebl_protocols[] = {
	{ "ebload", callback_ebload, sizeof(struct ebl_pss), 1024, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static void close_conn(ebl_worker *w, ebl_conn *c, enum close_why why)
{
	c->why = (uint8_t)why;
	if (c->wsi == NULL)
		return;
	if (c->state == CS_SUBSCRIBED) {
		c->state = CS_CLOSING;
		w->closing++;
		lws_callback_on_writable(c->wsi);
	} else if (c->state != CS_CLOSING && c->state != CS_IDLE) {
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	}
}

/* --connect-timeout for the auth and subscribe steps. Not an lws timeout
 * per connection: lws 4.1 files those in a list sorted on insert (a tenth
 * of ebload's CPU in a ramp); a scan of the worker's table every 100 ms
 * costs microseconds. */
static void expire_pending(ebl_worker *w, uint64_t now)
{
	if (now < w->next_expire_ns || EBL_LD(&w->st->pending) == 0)
		return;
	w->next_expire_ns = now + 100000000ULL;
	uint64_t limit = (uint64_t)(w->cfg->connect_timeout_s * 1e9);
	for (uint64_t i = 0; i < w->n; i++) {
		ebl_conn *c = &w->conns[i];
		if (c->state > CS_CONNECTING && c->state <= CS_WAIT_SUB && c->wsi != NULL &&
		    now - c->t_start_ns >= limit)
			lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	}
}

static void tick(lws_sorted_usec_list_t *sul)
{
	ebl_worker *w = lws_container_of(sul, ebl_worker, sul);
	const ebl_config *cfg = w->cfg;
	ebl_wstat *st = w->st;
	uint64_t now = eb_time_mono_ns();
	uint64_t phase = EBL_LD(&w->shm->phase);
	uint64_t phase_ns = EBL_LD(&w->shm->phase_ns);
	bool limited = EBL_LD(&st->limit_emfile) || EBL_LD(&st->limit_addr);

	EBL_ST(&st->ready, 1);
	if (phase < EBL_PH_FINAL)
		expire_pending(w, now);
	if (phase == EBL_PH_INIT) {
		/* waiting for the parent to start the clock */
	} else if (phase == EBL_PH_RAMP) {
		double t = (double)(now - phase_ns) / 1e9;
		uint64_t due = (uint64_t)(w->rate * t) + 1;
		if (due > w->n)
			due = w->n;
		while (!limited && w->next_start < due &&
		       EBL_LD(&st->pending) < cfg->max_pending) {
			conn_start(w, &w->conns[w->next_start++]);
			limited = EBL_LD(&st->limit_emfile) || EBL_LD(&st->limit_addr);
		}
		if ((w->next_start >= w->n || limited) && EBL_LD(&st->pending) == 0)
			EBL_ST(&st->ramp_done, 1);
	} else if (phase == EBL_PH_HOLD || phase == EBL_PH_DRAIN) {
		if (!EBL_LD(&st->ramp_done) && EBL_LD(&st->pending) == 0)
			EBL_ST(&st->ramp_done, 1);
		while (w->n_reopen > 0 && !limited && EBL_LD(&st->pending) < cfg->max_pending) {
			conn_start(w, &w->conns[w->reopen[--w->n_reopen]]);
			limited = EBL_LD(&st->limit_emfile) || EBL_LD(&st->limit_addr);
		}
		if (phase == EBL_PH_HOLD && w->churn_rate > 0) {
			double t = (double)(now - phase_ns) / 1e9;
			uint64_t due = (uint64_t)(w->churn_rate * t);
			for (uint64_t tries = 0; w->churn_done < due && tries < w->n; tries++) {
				ebl_conn *c = &w->conns[w->churn_ptr++ % w->n];
				if (c->state != CS_SUBSCRIBED)
					continue;
				count_missed(w, c, now);
				close_conn(w, c, CW_CHURN);
				EBL_INC(&st->c.conn_churned);
				w->churn_done++;
			}
		}
	} else if (phase >= EBL_PH_FINAL) {
		if (!w->final_started) {
			w->final_started = true;
			w->final_ns = now;
			w->n_reopen = 0;
			/* pushes ended and the drain passed: every committed
			 * push counts */
			uint64_t end = now + (uint64_t)(cfg->drain_s * 1e9);
			for (uint64_t i = 0; i < w->n; i++)
				if (w->conns[i].state == CS_SUBSCRIBED)
					count_missed(w, &w->conns[i], end);
		}
		double t = (double)(now - w->final_ns) / 1e9;
		uint64_t due = w->down_rate > 0 ? (uint64_t)(w->down_rate * t) + 1 : w->n;
		if (EBL_LD(&w->shm->stop))
			due = w->n;
		/* at most --max-pending close handshakes at a time: lws 4.1 files
		 * each one's close-ack timeout in a list sorted on insert, so
		 * closing 17000 at once cost seconds of CPU per worker */
		while (w->closed_ptr < due && w->closed_ptr < w->n &&
		       (w->closing < cfg->max_pending || EBL_LD(&w->shm->stop)))
			close_conn(w, &w->conns[w->closed_ptr++], CW_FINAL);
		/* closing connections stay counted in open until they end */
		bool any = EBL_LD(&st->pending) + EBL_LD(&st->open) > 0;
		if ((!any && w->closed_ptr >= w->n) || t > 10.0 + (w->down_rate > 0 ? (double)w->n / w->down_rate : 0)) {
			w->exit = true;
			if (w->evlib)
				lws_context_destroy(w->ctx);   /* ends the event loop */
			else
				lws_cancel_service(w->ctx);
			return;
		}
	}
	/* 1 ms while connections are paced; a steady hold needs only the
	 * phase change and the timeout scan, and a thousand wake-ups a second
	 * would be the bulk of an idle worker's CPU */
	bool pacing = phase != EBL_PH_HOLD && phase != EBL_PH_DRAIN;
	pacing = pacing || w->churn_rate > 0 || w->n_reopen > 0;
	lws_sul_schedule(w->ctx, 0, &w->sul, tick, pacing ? 1000 : 20000);
}

static void *worker_main(void *arg)
{
	ebl_worker *w = arg;
	lws_sul_schedule(w->ctx, 0, &w->sul, tick, 1000);
	while (!w->exit)
		if (lws_service(w->ctx, 0) < 0)
			break;
	lws_sul_cancel(&w->sul);
	lws_context_destroy(w->ctx);
	w->ctx = NULL;
	EBL_ST(&w->st->finished, 1);
	return NULL;
}

static int worker_init(ebl_worker *w, const ebl_config *cfg, ebl_shm *shm, unsigned wid)
{
	memset(w, 0, sizeof *w);
	w->cfg = cfg;
	w->shm = shm;
	w->wid = wid;
	w->st = &shm->w[wid];
	uint64_t nw = shm->n_workers;
	w->n = cfg->connections / nw + (wid < cfg->connections % nw ? 1 : 0);
	double share = cfg->connections ? (double)w->n / (double)cfg->connections : 0;
	w->rate = cfg->connect_rate * share;
	w->churn_rate = cfg->churn_rate * share;
	w->down_rate = cfg->rampdown_rate * share;
	EBL_ST(&w->st->c.conn_target, w->n);
	w->conns = calloc(w->n ? w->n : 1, sizeof *w->conns);
	w->last = calloc((w->n ? w->n : 1) * cfg->subs_per_conn, sizeof *w->last);
	w->reopen = calloc(w->n ? w->n : 1, sizeof *w->reopen);
	w->txbuf = malloc(LWS_PRE + EBL_TX_MAX);
	if (w->conns == NULL || w->last == NULL || w->reopen == NULL || w->txbuf == NULL)
		return -1;
	for (uint64_t i = 0; i < w->n; i++)
		w->conns[i].gidx = i * nw + wid;
	if (!cfg->no_auth && eb_ws_encode_auth("1", cfg->token, &w->auth_msg) != EB_OK)
		return -1;
	w->auth_len = w->auth_msg ? strlen(w->auth_msg) : 0;

	struct lws_context_creation_info info;
	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = ebl_protocols;
	info.user = w;
	info.timeout_secs = (unsigned)(cfg->connect_timeout_s + 0.999);
	info.connect_timeout_secs = info.timeout_secs;
	info.gid = -1;
	info.uid = -1;
	info.retry_and_idle_policy = &ebl_no_validity;
	for (unsigned u = 0; u < cfg->n_urls; u++)
		if (cfg->urls[u].tls) {
			/* wss:// targets: --cacert replaces the system's CAs */
			info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
			info.client_ssl_ca_filepath = cfg->tls.cacert;
		}
	if (cfg->evlib) {
		info.options |= LWS_SERVER_OPTION_LIBEV;
		w->evlib = true;
	}
	w->ctx = lws_create_context(&info);
	return w->ctx ? 0 : -1;
}

static void worker_free(ebl_worker *w)
{
	for (uint64_t i = 0; i < w->n && w->conns; i++)
		free(w->conns[i].rx);
	free(w->conns);
	free(w->last);
	free(w->reopen);
	free(w->txbuf);
	free(w->auth_msg);
}

int ebl_worker_process(const ebl_config *cfg, ebl_shm *shm, unsigned proc)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	lws_set_log_level(cfg->lws_log_level, NULL);
	unsigned T = cfg->threads;
	ebl_worker *ws = calloc(T, sizeof *ws);
	bool *running = calloc(T, sizeof *running);
	int status = 0;
	if (ws == NULL || running == NULL) {
		free(ws);
		free(running);
		return 2;
	}
	for (unsigned t = 0; t < T; t++) {
		unsigned wid = proc * T + t;
		if (worker_init(&ws[t], cfg, shm, wid) != 0 ||
		    pthread_create(&ws[t].th, NULL, worker_main, &ws[t]) != 0) {
			fprintf(stderr, "ebload: worker %u: cannot start (lws context or thread)\n", wid);
			if (ws[t].ctx != NULL)
				lws_context_destroy(ws[t].ctx);
			ws[t].ctx = NULL;
			EBL_ST(&shm->w[wid].ramp_done, 1);
			EBL_ST(&shm->w[wid].finished, 1);
			status = 2;
			continue;
		}
		running[t] = true;
	}
	for (unsigned t = 0; t < T; t++) {
		if (running[t])
			pthread_join(ws[t].th, NULL);
		worker_free(&ws[t]);
	}
	free(ws);
	free(running);
	return status;
}
