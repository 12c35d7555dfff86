/*
 * ebl_ws.c — the subscriber side of ebload: its own WebSocket client
 * (eb_wsgen.h for the wire) on one epoll loop per worker thread, as wrk
 * does it. Each connection authenticates, subscribes and holds; a tick of
 * 1 ms (20 ms in a steady hold) drives the phases (ramp-up at the connect
 * rate, churn, ramp-down) from the shared phase word.
 *
 * Why not libwebsockets: its client machinery (an object, timers and
 * header tables per connection, a callback per event) cost 70-100 us of
 * user CPU per connection and 6 us per notification; a generator must
 * disappear from the profile of the server it drives. Here a connection is
 * one ebl_conn and a socket registered once (edge-triggered, read and
 * write), the upgrade request is built once per target and patched with
 * the connection's key, and notifications are read in place.
 *
 * Every notification is matched against the push rings in shared memory:
 * a store_changed with version v covers every push of that store with a
 * version in (last seen, v] (servers may coalesce, WS-NOTIF-5), and each
 * such push contributes one latency sample measured from its intended send
 * time, so a slow server or a late pusher shows as latency (no coordinated
 * omission).
 *
 * wss:// runs the same loop over net/eb_tls (non-blocking handshake, read
 * and write steps).
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ebl.h"
#include "eb_time.h"
#include "eb_ws.h"
#include "eb_wsgen.h"

/* Order matters: every state up to CS_WAIT_SUB is "pending". */
enum conn_state {
	CS_IDLE = 0, CS_CONNECTING, CS_TLS, CS_UPGRADING, CS_WAIT_AUTH,
	CS_WAIT_SUB, CS_SUBSCRIBED, CS_CLOSING
};

enum close_why { CW_NONE = 0, CW_CHURN, CW_FINAL, CW_FAILED };

#define EBL_RX_MAX (1u << 20)      /* one message, reassembled */
#define EBL_HEAD_MAX 8192          /* the 101 answer's head */
#define EBL_TX_MAX (1u << 20)      /* bytes waiting for the socket */
#define EBL_READ_BUF 65536
#define EBL_EVENTS 512
#define EBL_CLOSE_WAIT_NS 2000000000ULL   /* close handshake, then the socket goes */

typedef struct ebl_conn {
	int fd;                 /* -1 when idle */
	uint32_t gen;           /* tells a reused slot's events from stale ones */
	uint64_t gidx;          /* global connection index */
	uint64_t t_start_ns;
	uint64_t deadline_ns;   /* handshake or close handshake ends by then */
	uint8_t state;
	uint8_t why;            /* enum close_why when we close it */
	uint8_t failed;         /* failure already counted */
	uint8_t url;
	uint16_t close_code;    /* from the peer's close frame */
	/* frame decoding: a head split across reads, then its payload */
	uint8_t hbuf[EB_WSGEN_HEAD_MAX];
	uint8_t hlen;
	uint8_t op;             /* opcode of the frame being read */
	uint8_t fin;
	uint8_t msg_op;         /* opcode of the fragmented message being assembled */
	uint64_t need;          /* payload bytes of the current frame still to come */
	bool in_payload;
	char *rx;               /* upgrade head, message or control payload being assembled */
	uint32_t rx_len, rx_cap;
	char *ctl;              /* control frame payload (<= 125 bytes) */
	uint32_t ctl_len;
	uint8_t *tx;            /* bytes the socket did not take yet */
	uint32_t tx_len, tx_off;
	char accept[EB_WSGEN_ACCEPT_LEN + 1];
	eb_tls *tls;
} ebl_conn;

typedef struct ebl_target {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	char *req;              /* upgrade request with a placeholder key */
	size_t req_len, key_off;
	bool tls;
} ebl_target;

typedef struct ebl_worker {
	const ebl_config *cfg;
	ebl_shm *shm;
	ebl_wstat *st;
	unsigned wid;
	int ep;
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
	uint64_t next_expire_ns; /* next scan for handshakes past their deadline */
	uint64_t phase_seen;     /* last phase whose CPU mark was taken */
	bool exit;
	uint64_t rng;
	ebl_target *targets;     /* cfg->n_urls */
	struct sockaddr_storage *sources;
	socklen_t *source_lens;
	eb_tls_ctx *tls;
	uint8_t *auth_frame;     /* auth message, unmasked payload */
	size_t auth_len;
	uint8_t *txbuf;          /* EBL_TX_MAX + head: frames are built here */
	uint8_t *rbuf;           /* EBL_READ_BUF */
	pthread_t th;
} ebl_worker;

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
		/* seqlock reader (writer: ebl_push.c): version, field, version
		 * again, the first two acquires (the field's keeps the second
		 * look after it) */
		uint64_t v0 = __atomic_load_n(&r->version, __ATOMIC_ACQUIRE);
		uint64_t cn = __atomic_load_n(&r->commit_ns, __ATOMIC_ACQUIRE);
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
		/* an acquire: the second look at the version stays after it */
		uint64_t intended = __atomic_load_n(&r->intended_ns, __ATOMIC_ACQUIRE);
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

static void verbose(ebl_worker *w, const ebl_conn *c, const char *what, int err)
{
	if (w->cfg->lws_log_level)
		fprintf(stderr, "ebload: connection %llu failed: %s%s%s\n",
			(unsigned long long)c->gidx, what, err ? ": " : "",
			err ? strerror(err) : "");
}

/* A socket error before the upgrade, by errno. */
static void fail_errno(ebl_worker *w, ebl_conn *c, int err, const char *what)
{
	ebl_wstat *st = w->st;
	if (err == EMFILE || err == ENFILE) {
		fail(c, &st->c.fail_emfile);
		EBL_ST(&st->limit_emfile, 1);
	} else if (err == EADDRNOTAVAIL || err == EADDRINUSE) {
		fail(c, &st->c.fail_addr);
		EBL_ST(&st->limit_addr, 1);
	} else if (err == ECONNREFUSED) {
		fail(c, &st->c.fail_refused);
	} else if (err == ETIMEDOUT) {
		fail(c, &st->c.fail_timeout);
	} else if (err == ECONNRESET || err == EPIPE || err == 0) {
		fail(c, &st->c.fail_closed);
	} else {
		fail(c, &st->c.fail_other);
	}
	verbose(w, c, what, err);
}

static uint64_t rng_next(ebl_worker *w)
{
	/* xorshift64*: masking keys and upgrade nonces need to be unpredictable
	 * to an intermediary, not secret (RFC 6455 10.3) */
	uint64_t x = w->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	w->rng = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* Closes the socket; the slot keeps its state for conn_ended. */
static void conn_drop_socket(ebl_conn *c)
{
	if (c->tls != NULL) {
		eb_tls_free(c->tls);
		c->tls = NULL;
	}
	if (c->fd >= 0) {
		close(c->fd);   /* also leaves the epoll set */
		c->fd = -1;
	}
	c->gen++;
	free(c->tx);
	c->tx = NULL;
	c->tx_len = c->tx_off = 0;
	free(c->rx);
	c->rx = NULL;
	c->rx_len = c->rx_cap = 0;
	free(c->ctl);
	c->ctl = NULL;
	c->ctl_len = 0;
}

/* The connection ended (any way): socket closed, state back to idle,
 * counted once. */
static void conn_ended(ebl_worker *w, ebl_conn *c)
{
	ebl_wstat *st = w->st;
	uint64_t now = eb_time_mono_ns();
	conn_drop_socket(c);
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
			else if (c->state == CS_CONNECTING)
				fail(c, &st->c.fail_refused);
			else
				fail(c, &st->c.fail_closed);
		}
	}
	bool reopen = c->why == CW_CHURN;
	if (c->state == CS_CLOSING && w->closing > 0)
		w->closing--;
	c->state = CS_IDLE;
	if (reopen && w->n_reopen < w->n)
		w->reopen[w->n_reopen++] = (uint64_t)(c - w->conns);
}

/* ---- writing ----------------------------------------------------------------- */

/* Moves bytes to the socket: 0 all taken or kept for later, -1 the socket
 * failed (errno set). */
static int sock_write(ebl_conn *c, const uint8_t *p, size_t len, size_t *put)
{
	*put = 0;
	if (c->tls != NULL) {
		while (*put < len) {
			size_t k = 0;
			eb_tls_io io = eb_tls_write(c->tls, p + *put, len - *put, &k, NULL);
			if (io == EB_TLS_WANT_READ || io == EB_TLS_WANT_WRITE)
				return 0;
			if (io != EB_TLS_DONE) {
				errno = EPIPE;
				return -1;
			}
			*put += k;
		}
		return 0;
	}
	while (*put < len) {
		ssize_t k = send(c->fd, p + *put, len - *put, MSG_NOSIGNAL);
		if (k < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			return -1;
		}
		*put += (size_t)k;
	}
	return 0;
}

/* Sends the bytes that waited, then what is left of p (either may be
 * empty); what the socket does not take now waits in c->tx (capped).
 * 0, or -1 when the connection must end. */
static int conn_send(ebl_conn *c, const uint8_t *p, size_t len)
{
	size_t put;
	if (c->tx_len > c->tx_off) {
		if (sock_write(c, c->tx + c->tx_off, c->tx_len - c->tx_off, &put) != 0)
			return -1;
		c->tx_off += (uint32_t)put;
		if (c->tx_off == c->tx_len)
			c->tx_off = c->tx_len = 0;
	}
	if (len == 0)
		return 0;
	if (c->tx_len == 0) {
		if (sock_write(c, p, len, &put) != 0)
			return -1;
		p += put;
		len -= put;
		if (len == 0)
			return 0;
	}
	if ((size_t)c->tx_len + len > EBL_TX_MAX)
		return -1;
	uint8_t *nt = realloc(c->tx, c->tx_len + len);
	if (nt == NULL)
		return -1;
	memcpy(nt + c->tx_len, p, len);
	c->tx = nt;
	c->tx_len += (uint32_t)len;
	return 0;
}

/* One masked frame. */
static int send_frame(ebl_worker *w, ebl_conn *c, int op, const void *p, size_t len)
{
	if (len + EB_WSGEN_HEAD_MAX > EBL_TX_MAX)
		return -1;
	size_t n = eb_wsgen_frame(w->txbuf, op, p, len, (uint32_t)rng_next(w));
	return conn_send(c, w->txbuf, n);
}

static int send_subscribe(ebl_worker *w, ebl_conn *c)
{
	const ebl_config *cfg = w->cfg;
	const char *ids[EB_WS_MAX_STORE_IDS];
	for (unsigned j = 0; j < cfg->subs_per_conn; j++)
		ids[j] = w->shm->store_ids[ebl_store_of(cfg, c->gidx, j)];
	char *msg = NULL;
	if (eb_ws_encode_subscribe("2", false, ids, cfg->subs_per_conn, &msg) != EB_OK)
		return -1;
	c->state = CS_WAIT_SUB;
	int rc = send_frame(w, c, EB_WSGEN_OP_TEXT, msg, strlen(msg));
	free(msg);
	return rc;
}

/* Starts our close handshake (code 1000); the socket goes when the
 * server answers or at the deadline. */
static void start_close(ebl_worker *w, ebl_conn *c)
{
	static const uint8_t code[2] = { 0x03, 0xe8 };
	c->state = CS_CLOSING;
	w->closing++;
	c->deadline_ns = eb_time_mono_ns() + EBL_CLOSE_WAIT_NS;
	if (send_frame(w, c, EB_WSGEN_OP_CLOSE, code, 2) != 0)
		conn_ended(w, c);
}

/* ---- reading ----------------------------------------------------------------- */

static bool store_id_eq(const char *id, const char *s, size_t n)
{
	return strncmp(id, s, n) == 0 && id[n] == '\0';
}

static void on_store_changed(ebl_worker *w, ebl_conn *c, const char *id, size_t id_len,
			     uint64_t version, uint64_t now)
{
	const ebl_config *cfg = w->cfg;
	if (c->state != CS_SUBSCRIBED)
		return;
	for (unsigned j = 0; j < cfg->subs_per_conn; j++) {
		uint32_t s = ebl_store_of(cfg, c->gidx, j);
		if (store_id_eq(w->shm->store_ids[s], id, id_len)) {
			on_notification(w, c, j, version, now);
			return;
		}
	}
}

/* A whole text message. 0, or -1 when the connection must end (c->why
 * says why). */
static int handle_message(ebl_worker *w, ebl_conn *c, const char *buf, size_t len)
{
	uint64_t now = eb_time_mono_ns();
	eb_wsgen_notif nf;
	if (eb_wsgen_store_changed(buf, len, &nf)) {
		on_store_changed(w, c, nf.store_id, nf.store_id_len, nf.version, now);
		return 0;
	}
	eb_ws_server_msg *m = NULL;
	if (eb_ws_server_msg_parse(buf, len, &m, NULL) != EB_OK) {
		EBL_INC(&w->st->c.ws_errors);
		return 0;
	}
	const ebl_config *cfg = w->cfg;
	int rc = 0;
	switch (m->type) {
	case EB_WS_S_STORE_CHANGED:
		if (m->store_id != NULL)
			on_store_changed(w, c, m->store_id, strlen(m->store_id), m->version, now);
		break;
	case EB_WS_S_AUTH_OK:
		if (c->state == CS_WAIT_AUTH && send_subscribe(w, c) != 0) {
			fail(c, &w->st->c.fail_closed);
			c->why = CW_FAILED;
			rc = -1;
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

/* A whole control frame. 0, 1 the connection ended (close), -1 failed. */
static int handle_control(ebl_worker *w, ebl_conn *c, int op, const uint8_t *p, size_t len)
{
	if (op == EB_WSGEN_OP_PING)
		return send_frame(w, c, EB_WSGEN_OP_PONG, p, len);
	if (op != EB_WSGEN_OP_CLOSE)
		return 0;   /* an unsolicited pong */
	if (len >= 2)
		c->close_code = (uint16_t)(p[0] << 8 | p[1]);
	if (c->state != CS_CLOSING)
		(void)send_frame(w, c, EB_WSGEN_OP_CLOSE, p, len >= 2 ? 2 : 0);
	conn_ended(w, c);
	return 1;
}

/* Appends to c->rx up to cap bytes in all. */
static int rx_append(ebl_conn *c, const void *p, size_t len, size_t cap)
{
	if ((size_t)c->rx_len + len > cap)
		return -1;
	if (c->rx_len + len > c->rx_cap) {
		size_t nc = c->rx_cap ? c->rx_cap : 256;
		while (nc < c->rx_len + len)
			nc *= 2;
		char *nb = realloc(c->rx, nc);
		if (nb == NULL)
			return -1;
		c->rx = nb;
		c->rx_cap = (uint32_t)nc;
	}
	memcpy(c->rx + c->rx_len, p, len);
	c->rx_len += (uint32_t)len;
	return 0;
}

/* The end of a data frame's payload (whole in p, or assembled in c->rx). */
static int data_frame_done(ebl_worker *w, ebl_conn *c, const uint8_t *p, size_t len)
{
	if (!c->fin)
		return 0;
	int rc = 0;
	if (c->msg_op == EB_WSGEN_OP_TEXT)
		rc = handle_message(w, c, (const char *)p, len);
	else
		EBL_INC(&w->st->c.ws_errors);   /* binary: not a protocol message */
	/* assembled messages are rare: their buffer does not stay */
	free(c->rx);
	c->rx = NULL;
	c->rx_len = c->rx_cap = 0;
	return rc;
}

/* Decodes frames from data[0, n). 0 consumed, 1 the connection ended here,
 * -1 it must end (protocol error or a fatal message). */
static int feed_frames(ebl_worker *w, ebl_conn *c, const uint8_t *data, size_t n)
{
	/* a frame with an empty payload completes with no byte left */
	while (n > 0 || (c->in_payload && c->need == 0)) {
		if (!c->in_payload) {
			/* a head: from data directly, or assembled across reads */
			eb_wsgen_head h = { 0 };
			int r = c->hlen == 0 ? eb_wsgen_head_parse(data, n, &h) : 0;
			size_t used = h.head_len;
			if (r == 0) {
				size_t take = EB_WSGEN_HEAD_MAX - c->hlen;
				if (take > n)
					take = n;
				memcpy(c->hbuf + c->hlen, data, take);
				r = eb_wsgen_head_parse(c->hbuf, c->hlen + take, &h);
				if (r == 0) {
					c->hlen = (uint8_t)(c->hlen + take);
					return 0;
				}
				used = h.head_len - c->hlen;
				c->hlen = 0;
			}
			if (r < 0)
				return -1;
			data += used;
			n -= used;
			if (h.opcode < 8) {
				/* continuation only inside a message, new data only outside */
				bool cont = h.opcode == EB_WSGEN_OP_CONT;
				if (cont != (c->msg_op != 0))
					return -1;
				if (!cont) {
					c->msg_op = (uint8_t)h.opcode;
					c->rx_len = 0;
				}
				if ((uint64_t)c->rx_len + h.len > EBL_RX_MAX)
					return -1;
			}
			c->op = (uint8_t)h.opcode;
			c->fin = h.fin;
			c->need = h.len;
			c->in_payload = true;
			c->ctl_len = 0;
		}
		bool ctl = c->op >= 8;
		size_t take = c->need < n ? (size_t)c->need : n;
		if (ctl) {
			if (c->ctl == NULL && (c->ctl = malloc(125)) == NULL)
				return -1;
			memcpy(c->ctl + c->ctl_len, data, take);
			c->ctl_len += (uint32_t)take;
		} else if (!(take == c->need && c->rx_len == 0 && c->fin)) {
			if (rx_append(c, data, take, EBL_RX_MAX) != 0)
				return -1;
		}
		const uint8_t *whole = data;
		data += take;
		n -= take;
		c->need -= take;
		if (c->need > 0)
			return 0;
		c->in_payload = false;
		int rc;
		if (ctl) {
			rc = handle_control(w, c, c->op, (const uint8_t *)c->ctl, c->ctl_len);
		} else {
			bool direct = c->rx_len == 0 && c->fin;
			rc = data_frame_done(w, c, direct ? whole : (const uint8_t *)c->rx,
					     direct ? take : c->rx_len);
			if (c->fin)
				c->msg_op = 0;
		}
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* The connection is upgraded: auth (or subscribe with --no-auth). */
static int on_upgraded(ebl_worker *w, ebl_conn *c)
{
	EBL_INC(&w->st->c.conn_established);
	if (w->cfg->no_auth)
		return send_subscribe(w, c);
	c->state = CS_WAIT_AUTH;
	return send_frame(w, c, EB_WSGEN_OP_TEXT, w->auth_frame, w->auth_len);
}

/* Bytes of the 101 answer (and maybe frames behind it). 0 or -1 (counted). */
static int feed_upgrade(ebl_worker *w, ebl_conn *c, const uint8_t *data, size_t n)
{
	/* the head may come in pieces: it is assembled in c->rx */
	if (rx_append(c, data, n, EBL_HEAD_MAX + EBL_READ_BUF) != 0) {
		fail(c, &w->st->c.fail_upgrade);
		return -1;
	}
	const char *head = c->rx;
	size_t have = c->rx_len;
	int status = 0;
	bool ok = false;
	long hl = eb_wsgen_response(head, have, EBL_HEAD_MAX, c->accept, &status, &ok);
	if (hl == 0)
		return 0;
	if (hl < 0 || !ok) {
		fail(c, &w->st->c.fail_upgrade);
		if (w->cfg->lws_log_level)
			fprintf(stderr, "ebload: connection %llu failed: upgrade answered %d%s\n",
				(unsigned long long)c->gidx, status,
				status == 101 ? " with a wrong handshake" : "");
		return -1;
	}
	size_t rest = have - (size_t)hl;
	uint8_t *tail = NULL;
	if (rest > 0) {
		tail = malloc(rest);
		if (tail == NULL)
			return -1;
		memcpy(tail, head + hl, rest);
	}
	/* the head's buffer goes: a held connection keeps no buffer */
	free(c->rx);
	c->rx = NULL;
	c->rx_len = c->rx_cap = 0;
	int rc = on_upgraded(w, c);
	if (rc == 0 && rest > 0)
		rc = feed_frames(w, c, tail, rest);
	free(tail);
	return rc;
}

/* Reads until the socket has nothing more. 0, 1 ended here, -1 must end. */
static int conn_read(ebl_worker *w, ebl_conn *c)
{
	for (;;) {
		size_t got = 0;
		if (c->tls != NULL) {
			bool reset = false;
			eb_tls_io io = eb_tls_read(c->tls, w->rbuf, EBL_READ_BUF, &got, &reset, NULL);
			if (io == EB_TLS_WANT_READ || io == EB_TLS_WANT_WRITE)
				return 0;
			if (io != EB_TLS_DONE)
				return -1;
		} else {
			ssize_t k = recv(c->fd, w->rbuf, EBL_READ_BUF, 0);
			if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return 0;
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				return -1;
			got = (size_t)k;
		}
		int rc = c->state == CS_UPGRADING ? feed_upgrade(w, c, w->rbuf, got)
						  : feed_frames(w, c, w->rbuf, got);
		if (rc != 0)
			return rc;
		if (c->tls == NULL && got < EBL_READ_BUF)
			return 0;   /* a short read drained the socket */
	}
}

/* ---- connecting ---------------------------------------------------------------- */

static uint64_t ev_data(const ebl_worker *w, const ebl_conn *c)
{
	return (uint64_t)(c - w->conns) | (uint64_t)c->gen << 40;
}

static int send_upgrade(ebl_worker *w, ebl_conn *c)
{
	const ebl_target *t = &w->targets[c->url];
	uint8_t r[16];
	uint64_t a = rng_next(w), b = rng_next(w);
	memcpy(r, &a, 8);
	memcpy(r + 8, &b, 8);
	memcpy(w->txbuf, t->req, t->req_len);
	if (eb_wsgen_key(r, (char *)w->txbuf + t->key_off, c->accept) != 0)
		return -1;
	c->state = CS_UPGRADING;
	return conn_send(c, w->txbuf, t->req_len);
}

/* Advances a TLS handshake. 0 (done or waiting), -1 failed (counted). */
static int tls_step(ebl_worker *w, ebl_conn *c)
{
	eb_err err = { 0 };
	eb_tls_io io = eb_tls_handshake(c->tls, &err);
	if (io == EB_TLS_WANT_READ || io == EB_TLS_WANT_WRITE)
		return 0;
	if (io != EB_TLS_DONE) {
		fail(c, &w->st->c.fail_other);
		if (w->cfg->lws_log_level)
			fprintf(stderr, "ebload: connection %llu failed: TLS: %s\n",
				(unsigned long long)c->gidx, err.msg);
		return -1;
	}
	return send_upgrade(w, c);
}

/* The TCP connect finished (writable). 0 or -1 (counted). */
static int connected(ebl_worker *w, ebl_conn *c)
{
	int err = 0;
	socklen_t el = sizeof err;
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
		err = errno;
	if (err != 0) {
		fail_errno(w, c, err, "connect");
		return -1;
	}
	if (w->targets[c->url].tls) {
		eb_err e = { 0 };
		const char *host = w->cfg->urls[c->url].host;
		if (eb_tls_new(w->tls, c->fd, host, &c->tls, &e) != EB_OK) {
			fail(c, &w->st->c.fail_other);
			return -1;
		}
		c->state = CS_TLS;
		return tls_step(w, c);
	}
	return send_upgrade(w, c);
}

static void conn_start(ebl_worker *w, ebl_conn *c)
{
	const ebl_config *cfg = w->cfg;
	unsigned u = ebl_url_of(cfg, c->gidx);
	const ebl_target *t = &w->targets[u];
	c->url = (uint8_t)u;
	c->state = CS_CONNECTING;
	c->why = CW_NONE;
	c->failed = 0;
	c->close_code = 0;
	c->hlen = 0;
	c->in_payload = false;
	c->msg_op = 0;
	c->t_start_ns = eb_time_mono_ns();
	c->deadline_ns = c->t_start_ns + (uint64_t)(cfg->connect_timeout_s * 1e9);
	memset(conn_last(w, c), 0, cfg->subs_per_conn * sizeof(uint64_t));
	EBL_INC(&w->st->c.conn_attempted);
	EBL_INC(&w->st->pending);
	c->fd = socket(t->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		fail_errno(w, c, errno, "socket");
		c->why = CW_FAILED;
		conn_ended(w, c);
		return;
	}
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (cfg->n_sources != 0) {
		unsigned s = (unsigned)((c->gidx / cfg->n_urls) % cfg->n_sources);
		/* the port is chosen at connect(), per destination, instead of
		 * by a search over every port bound so far */
		setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
		if (bind(c->fd, (const struct sockaddr *)&w->sources[s], w->source_lens[s]) != 0) {
			fail_errno(w, c, errno, "bind");
			c->why = CW_FAILED;
			conn_ended(w, c);
			return;
		}
	}
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
				  .data.u64 = ev_data(w, c) };
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
		fail_errno(w, c, errno, "epoll_ctl");
		c->why = CW_FAILED;
		conn_ended(w, c);
		return;
	}
	if (connect(c->fd, (const struct sockaddr *)&t->addr, t->addr_len) != 0 &&
	    errno != EINPROGRESS) {
		fail_errno(w, c, errno, "connect");
		c->why = CW_FAILED;
		conn_ended(w, c);
	}
}

/* One epoll event of connection c. */
static void conn_event(ebl_worker *w, ebl_conn *c, uint32_t events)
{
	int rc = 0;
	if (c->state == CS_CONNECTING) {
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		rc = connected(w, c);
	} else if (c->state == CS_TLS) {
		rc = tls_step(w, c);
		if (rc == 0 && c->state == CS_TLS)
			return;
	}
	if (rc == 0 && c->tx_len > c->tx_off)
		rc = conn_send(c, NULL, 0);
	if (rc == 0 && (c->state >= CS_UPGRADING || c->tls != NULL))
		rc = conn_read(w, c);
	if (rc == 1)
		return;   /* ended inside (close frame) */
	if (rc != 0 || (events & (EPOLLERR | EPOLLHUP)) != 0) {
		if (c->state == CS_UPGRADING && !c->failed && c->why != CW_FINAL)
			fail(c, &w->st->c.fail_closed);
		conn_ended(w, c);
	}
}

/* ---- phases ---------------------------------------------------------------------- */

static void close_conn(ebl_worker *w, ebl_conn *c, enum close_why why)
{
	c->why = (uint8_t)why;
	if (c->state == CS_IDLE || c->state == CS_CLOSING)
		return;
	if (c->state == CS_SUBSCRIBED)
		start_close(w, c);
	else
		conn_ended(w, c);   /* an attempt still in its handshake */
}

/* --connect-timeout for every handshake step and a bound on our close
 * handshakes: a scan of the worker's table every 100 ms. */
static void expire(ebl_worker *w, uint64_t now)
{
	if (now < w->next_expire_ns ||
	    EBL_LD(&w->st->pending) + w->closing == 0)
		return;
	w->next_expire_ns = now + 100000000ULL;
	for (uint64_t i = 0; i < w->n; i++) {
		ebl_conn *c = &w->conns[i];
		if ((c->state != CS_IDLE && c->state <= CS_WAIT_SUB) || c->state == CS_CLOSING)
			if (now >= c->deadline_ns) {
				if (c->state <= CS_WAIT_SUB && c->why != CW_FINAL)
					fail(c, &w->st->c.fail_timeout);
				conn_ended(w, c);
			}
	}
}

/* The worker thread's CPU at the start of each phase, so the report can
 * say what a connection and a notification cost (user and system apart). */
static void mark_cpu(ebl_worker *w, uint64_t phase)
{
	while (w->phase_seen < phase && w->phase_seen < EBL_PH_DONE) {
		w->phase_seen++;
		struct rusage ru;
		if (getrusage(RUSAGE_THREAD, &ru) != 0)
			continue;
		uint64_t us = (uint64_t)ru.ru_utime.tv_sec * 1000000 + (uint64_t)ru.ru_utime.tv_usec;
		uint64_t sy = (uint64_t)ru.ru_stime.tv_sec * 1000000 + (uint64_t)ru.ru_stime.tv_usec;
		/* + 1: a mark of 0 means "not taken" */
		EBL_ST(&w->st->cpu_user_us[w->phase_seen], us + 1);
		EBL_ST(&w->st->cpu_sys_us[w->phase_seen], sy + 1);
	}
}

static void tick_ramp(ebl_worker *w, uint64_t now, uint64_t phase_ns)
{
	const ebl_config *cfg = w->cfg;
	ebl_wstat *st = w->st;
	bool limited = EBL_LD(&st->limit_emfile) || EBL_LD(&st->limit_addr);
	double t = (double)(now - phase_ns) / 1e9;
	uint64_t due = (uint64_t)(w->rate * t) + 1;
	if (due > w->n)
		due = w->n;
	while (!limited && w->next_start < due && EBL_LD(&st->pending) < cfg->max_pending) {
		conn_start(w, &w->conns[w->next_start++]);
		limited = EBL_LD(&st->limit_emfile) || EBL_LD(&st->limit_addr);
	}
	if ((w->next_start >= w->n || limited) && EBL_LD(&st->pending) == 0)
		EBL_ST(&st->ramp_done, 1);
}

static void tick_hold(ebl_worker *w, uint64_t now, uint64_t phase, uint64_t phase_ns)
{
	const ebl_config *cfg = w->cfg;
	ebl_wstat *st = w->st;
	bool limited = EBL_LD(&st->limit_emfile) || EBL_LD(&st->limit_addr);
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
}

static void tick_final(ebl_worker *w, uint64_t now)
{
	const ebl_config *cfg = w->cfg;
	ebl_wstat *st = w->st;
	if (!w->final_started) {
		w->final_started = true;
		w->final_ns = now;
		w->n_reopen = 0;
		/* pushes ended and the drain passed: every committed push counts */
		uint64_t end = now + (uint64_t)(cfg->drain_s * 1e9);
		for (uint64_t i = 0; i < w->n; i++)
			if (w->conns[i].state == CS_SUBSCRIBED)
				count_missed(w, &w->conns[i], end);
	}
	double t = (double)(now - w->final_ns) / 1e9;
	uint64_t due = w->down_rate > 0 ? (uint64_t)(w->down_rate * t) + 1 : w->n;
	bool stop = EBL_LD(&w->shm->stop) != 0;
	if (stop)
		due = w->n;
	/* at most --max-pending close handshakes at a time: the server gets
	 * a ramp-down, not a wall of closes */
	while (w->closed_ptr < due && w->closed_ptr < w->n &&
	       (w->closing < cfg->max_pending || stop))
		close_conn(w, &w->conns[w->closed_ptr++], CW_FINAL);
	/* closing connections stay counted in open until they end */
	bool any = EBL_LD(&st->pending) + EBL_LD(&st->open) > 0;
	if ((!any && w->closed_ptr >= w->n) ||
	    t > 10.0 + (w->down_rate > 0 ? (double)w->n / w->down_rate : 0))
		w->exit = true;
}

/* Returns the time to the next tick in ms. */
static int tick(ebl_worker *w)
{
	uint64_t now = eb_time_mono_ns();
	uint64_t phase = EBL_LD(&w->shm->phase);
	uint64_t phase_ns = EBL_LD(&w->shm->phase_ns);

	EBL_ST(&w->st->ready, 1);
	mark_cpu(w, phase);
	if (phase < EBL_PH_FINAL)
		expire(w, now);
	if (phase == EBL_PH_RAMP)
		tick_ramp(w, now, phase_ns);
	else if (phase == EBL_PH_HOLD || phase == EBL_PH_DRAIN)
		tick_hold(w, now, phase, phase_ns);
	else if (phase >= EBL_PH_FINAL) {
		expire(w, now);
		tick_final(w, now);
	}
	/* 1 ms while connections are paced; a steady hold needs only the
	 * phase change and the timeout scan, and a thousand wake-ups a second
	 * would be the bulk of an idle worker's CPU */
	bool pacing = phase != EBL_PH_HOLD && phase != EBL_PH_DRAIN;
	pacing = pacing || w->churn_rate > 0 || w->n_reopen > 0;
	return pacing ? 1 : 20;
}

static void *worker_main(void *arg)
{
	ebl_worker *w = arg;
	struct epoll_event evs[EBL_EVENTS];
	uint64_t next_tick = 0;
	while (!w->exit) {
		uint64_t now = eb_time_mono_ns();
		if (now >= next_tick) {
			int ms = tick(w);
			if (w->exit)
				break;
			next_tick = now + (uint64_t)ms * 1000000ULL;
		}
		uint64_t left = next_tick > now ? next_tick - now : 0;
		int n = epoll_wait(w->ep, evs, EBL_EVENTS, (int)((left + 999999) / 1000000));
		for (int i = 0; i < n; i++) {
			uint64_t d = evs[i].data.u64;
			uint64_t idx = d & ((1ULL << 40) - 1);
			if (idx >= w->n)
				continue;
			ebl_conn *c = &w->conns[idx];
			if (c->gen != (uint32_t)(d >> 40) || c->state == CS_IDLE)
				continue;   /* a socket closed earlier in this batch */
			conn_event(w, c, evs[i].events);
		}
	}
	mark_cpu(w, EBL_PH_DONE);
	for (uint64_t i = 0; i < w->n; i++)
		if (w->conns[i].state != CS_IDLE) {
			w->conns[i].why = CW_FINAL;
			conn_ended(w, &w->conns[i]);
		}
	EBL_ST(&w->st->finished, 1);
	return NULL;
}

/* ---- setup ------------------------------------------------------------------------ */

/* true when a TCP connect to a succeeds within 1 s. */
static bool reachable(const struct addrinfo *a)
{
	int fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	bool ok = connect(fd, a->ai_addr, a->ai_addrlen) == 0;
	if (!ok && errno == EINPROGRESS) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int err = 0;
		socklen_t el = sizeof err;
		ok = poll(&p, 1, 1000) == 1 &&
		     getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == 0;
	}
	close(fd);
	return ok;
}

/* The address of host:port connections go to. A name with several
 * addresses (localhost: ::1 and 127.0.0.1) takes the first that accepts a
 * connection, as a client trying each in turn would end up on; sources
 * (probe false) take the first. */
static int resolve(const char *host, int port, bool probe, struct sockaddr_storage *ss,
		   socklen_t *len)
{
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	char ps[16];
	snprintf(ps, sizeof ps, "%d", port);
	if (getaddrinfo(host, ps, &hints, &res) != 0 || res == NULL)
		return -1;
	const struct addrinfo *pick = res;
	if (probe && res->ai_next != NULL)
		for (const struct addrinfo *a = res; a != NULL; a = a->ai_next)
			if (reachable(a)) {
				pick = a;
				break;
			}
	memcpy(ss, pick->ai_addr, pick->ai_addrlen);
	*len = pick->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int targets_init(ebl_worker *w)
{
	const ebl_config *cfg = w->cfg;
	w->targets = calloc(cfg->n_urls, sizeof *w->targets);
	if (w->targets == NULL)
		return -1;
	bool any_tls = false;
	for (unsigned u = 0; u < cfg->n_urls; u++) {
		const ebl_url *url = &cfg->urls[u];
		ebl_target *t = &w->targets[u];
		if (resolve(url->host, url->port, true, &t->addr, &t->addr_len) != 0) {
			fprintf(stderr, "ebload: cannot resolve %s\n", url->host);
			return -1;
		}
		char buf[2048];
		t->req_len = eb_wsgen_request(buf, sizeof buf, url->host, url->port,
					      url->ws_path, &t->key_off);
		if (t->req_len == 0 || (t->req = malloc(t->req_len)) == NULL)
			return -1;
		memcpy(t->req, buf, t->req_len);
		t->tls = url->tls;
		any_tls = any_tls || url->tls;
	}
	if (any_tls) {
		eb_err e = { 0 };
		if (eb_tls_ctx_new(&cfg->tls, &w->tls, &e) != EB_OK) {
			fprintf(stderr, "ebload: TLS: %s\n", e.msg);
			return -1;
		}
	}
	if (cfg->n_sources != 0) {
		w->sources = calloc(cfg->n_sources, sizeof *w->sources);
		w->source_lens = calloc(cfg->n_sources, sizeof *w->source_lens);
		if (w->sources == NULL || w->source_lens == NULL)
			return -1;
		for (unsigned s = 0; s < cfg->n_sources; s++)
			if (resolve(cfg->sources[s], 0, false, &w->sources[s], &w->source_lens[s]) != 0) {
				fprintf(stderr, "ebload: bad --source address %s\n", cfg->sources[s]);
				return -1;
			}
	}
	return 0;
}

static int worker_init(ebl_worker *w, const ebl_config *cfg, ebl_shm *shm, unsigned wid)
{
	memset(w, 0, sizeof *w);
	w->cfg = cfg;
	w->shm = shm;
	w->wid = wid;
	w->st = &shm->w[wid];
	w->ep = -1;
	uint64_t nw = shm->n_workers;
	w->n = cfg->connections / nw + (wid < cfg->connections % nw ? 1 : 0);
	double share = cfg->connections ? (double)w->n / (double)cfg->connections : 0;
	w->rate = cfg->connect_rate * share;
	w->churn_rate = cfg->churn_rate * share;
	w->down_rate = cfg->rampdown_rate * share;
	w->rng = (eb_time_mono_ns() ^ ((uint64_t)getpid() << 32) ^ ((uint64_t)wid << 16)) | 1;
	EBL_ST(&w->st->c.conn_target, w->n);
	w->conns = calloc(w->n ? w->n : 1, sizeof *w->conns);
	w->last = calloc((w->n ? w->n : 1) * cfg->subs_per_conn, sizeof *w->last);
	w->reopen = calloc(w->n ? w->n : 1, sizeof *w->reopen);
	w->txbuf = malloc(EBL_TX_MAX + EB_WSGEN_HEAD_MAX);
	w->rbuf = malloc(EBL_READ_BUF);
	if (w->conns == NULL || w->last == NULL || w->reopen == NULL || w->txbuf == NULL ||
	    w->rbuf == NULL)
		return -1;
	for (uint64_t i = 0; i < w->n; i++) {
		w->conns[i].gidx = i * nw + wid;
		w->conns[i].fd = -1;
	}
	if (!cfg->no_auth) {
		char *auth = NULL;
		if (eb_ws_encode_auth("1", cfg->token, &auth) != EB_OK)
			return -1;
		w->auth_frame = (uint8_t *)auth;
		w->auth_len = strlen(auth);
	}
	if (targets_init(w) != 0)
		return -1;
	w->ep = epoll_create1(EPOLL_CLOEXEC);
	return w->ep >= 0 ? 0 : -1;
}

static void worker_free(ebl_worker *w)
{
	for (uint64_t i = 0; i < w->n && w->conns; i++)
		conn_drop_socket(&w->conns[i]);
	if (w->ep >= 0)
		close(w->ep);
	for (unsigned u = 0; w->targets != NULL && u < w->cfg->n_urls; u++)
		free(w->targets[u].req);
	free(w->targets);
	free(w->sources);
	free(w->source_lens);
	eb_tls_ctx_free(w->tls);
	free(w->conns);
	free(w->last);
	free(w->reopen);
	free(w->txbuf);
	free(w->rbuf);
	free(w->auth_frame);
}

int ebl_worker_process(const ebl_config *cfg, ebl_shm *shm, unsigned proc)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
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
			fprintf(stderr, "ebload: worker %u: cannot start (socket setup or thread)\n", wid);
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
