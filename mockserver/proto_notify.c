/*
 * proto_notify.c — the notification WebSocket of ebmock on lws. Each socket
 * is one core session (ebm_ws_*); this file only reassembles messages, keeps
 * each socket in one timer heap at the core's next deadline (one lws timer
 * for all of them), and writes what the core hands out from the WRITEABLE
 * callback.
 *
 * Memory: the pss is a few pointers; the reassembly buffer exists only while
 * a fragmented message is arriving, and a message that arrives whole is
 * handed to the core straight from lws's buffer.
 */
#include "ebmock.h"
#include "core/ebm_evlog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

typedef struct notify_pss {
	ebm_ws_session *sess;
	struct lws *wsi;
	char *rx;              /* fragments of the message being received */
	size_t rx_len;
	uint64_t due_ms;       /* key in the glue's timer heap, 0: not in it */
	uint64_t alive_ms;     /* last sign of life: open or pong */
	uint32_t heap_pos;     /* index in the heap + 1, 0: not in it */
	bool rx_binary;
	bool rx_skip;          /* the message is already known too big */
	bool idle_pinged;      /* liveness ping sent, no pong yet */
	bool idle_ping_now;    /* liveness ping to send */
	bool rx_paused;        /* lws_rx_flow_control(wsi, 0) in force */
	uint8_t closed_by;     /* event log: CLOSED_BY_* */
	int close_code;        /* code of that close, 0: none (a drop) */
} notify_pss;

enum { CLOSED_BY_NONE = 0, CLOSED_BY_SERVER, CLOSED_BY_CLIENT };

size_t ebmock_notify_pss_size(void)
{
	return sizeof(notify_pss);
}

/* ---- the timer heap (see ebmock_timers) ---------------------------------- */

static void heap_place(ebmock_timers *t, size_t i, notify_pss *p)
{
	t->heap[i] = p;
	p->heap_pos = (uint32_t)i + 1;
}

static void heap_up(ebmock_timers *t, size_t i)
{
	notify_pss *p = t->heap[i];
	while (i > 0) {
		size_t up = (i - 1) / 2;
		if (t->heap[up]->due_ms <= p->due_ms)
			break;
		heap_place(t, i, t->heap[up]);
		i = up;
	}
	heap_place(t, i, p);
}

static void heap_down(ebmock_timers *t, size_t i)
{
	notify_pss *p = t->heap[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= t->n)
			break;
		if (c + 1 < t->n && t->heap[c + 1]->due_ms < t->heap[c]->due_ms)
			c++;
		if (p->due_ms <= t->heap[c]->due_ms)
			break;
		heap_place(t, i, t->heap[c]);
		i = c;
	}
	heap_place(t, i, p);
}

static void heap_remove(ebmock_timers *t, notify_pss *p)
{
	if (!p->heap_pos)
		return;
	size_t i = p->heap_pos - 1;
	p->heap_pos = 0;
	p->due_ms = 0;
	t->n--;
	if (i == t->n)
		return;
	notify_pss *last = t->heap[t->n];
	heap_place(t, i, last);
	heap_up(t, i);
	heap_down(t, last->heap_pos - 1);
}

/* Room for one more socket, taken when it opens, so that arming its timer
 * later cannot fail. */
static bool heap_reserve(ebmock_timers *t, size_t sockets)
{
	if (sockets <= t->cap)
		return true;
	size_t cap = t->cap ? t->cap * 2 : 256;
	while (cap < sockets)
		cap *= 2;
	notify_pss **nh = realloc(t->heap, cap * sizeof *nh);
	if (!nh)
		return false;
	t->heap = nh;
	t->cap = cap;
	return true;
}

static void heap_set(ebmock_timers *t, notify_pss *p, uint64_t due)
{
	if (!due) {
		heap_remove(t, p);
		return;
	}
	if (p->heap_pos) {
		if (due == p->due_ms)
			return;
		bool earlier = due < p->due_ms;
		p->due_ms = due;
		if (earlier)
			heap_up(t, p->heap_pos - 1);
		else
			heap_down(t, p->heap_pos - 1);
		return;
	}
	if (t->n >= t->cap)
		return;   /* cannot happen: heap_reserve ran when the socket opened */
	p->due_ms = due;
	heap_place(t, t->n++, p);
	heap_up(t, t->n - 1);
}

static void timers_fire(lws_sorted_usec_list_t *sul);

/* Points the one lws timer at the earliest deadline of the heap. */
static void timers_rearm(ebmock_glue *g)
{
	ebmock_timers *t = &g->timers;
	if (!t->n) {
		if (t->armed_ms) {
			lws_sul_cancel(&t->sul);
			t->armed_ms = 0;
		}
		return;
	}
	uint64_t d = t->heap[0]->due_ms;
	if (d == t->armed_ms)
		return;
	uint64_t now = ebm_mono_ms();
	uint64_t us = d > now ? (d - now) * 1000u : 1;
	lws_sul_schedule(g->ctx, 0, &t->sul, timers_fire, (lws_usec_t)us);
	t->armed_ms = d;
}

static uint64_t idle_deadline(const notify_pss *p)
{
	return p->alive_ms + (p->idle_pinged ? EBMOCK_IDLE_HANGUP_MS : EBMOCK_IDLE_PING_MS);
}

/* Makes lws's view match the core's: WRITEABLE when there is something to
 * send, the socket's place in the timer heap at its next deadline. */
static void notify_arm(notify_pss *p)
{
	if (!p->sess || !p->wsi)
		return;
	if (p->idle_ping_now || ebm_ws_wants_write(p->sess))
		lws_callback_on_writable(p->wsi);
	/* WS-CLOSE-4: replies at the bound pause the reads of this socket
	 * (they only come from messages read); they resume as it drains */
	bool pause = ebm_ws_rx_paused(p->sess);
	if (pause != p->rx_paused) {
		p->rx_paused = pause;
		lws_rx_flow_control(p->wsi, pause ? 0 : 1);
	}
	uint64_t d = ebm_ws_next_deadline_ms(p->sess);
	uint64_t idle = idle_deadline(p);
	if (!d || idle < d)
		d = idle;
	ebmock_glue *g = ebmock_glue_of(p->wsi);
	heap_set(&g->timers, p, d);
	timers_rearm(g);
}

/* The socket faults under which the server sends nothing, protocol pings
 * included (the idle rule waits instead). */
static bool notify_silent(const ebmock_glue *g)
{
	const ebm_faults *f = ebm_server_faults(g->srv);
	return f->silent_ws || f->stall;
}

static void notify_due(notify_pss *p, uint64_t now)
{
	if (notify_silent(ebmock_glue_of(p->wsi)))
		p->alive_ms = now;
	if (now >= idle_deadline(p)) {
		if (p->idle_pinged) {
			/* no sign of life for the whole idle allowance: hang up
			 * without a close frame, as lws's own idle rule does */
			p->closed_by = CLOSED_BY_SERVER;
			lws_set_timeout(p->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
			return;
		}
		p->idle_pinged = true;
		p->idle_ping_now = true;
	}
	ebm_ws_on_timer(p->sess);
	notify_arm(p);
}

static void timers_fire(lws_sorted_usec_list_t *sul)
{
	ebmock_glue *g = lws_container_of(sul, ebmock_glue, timers.sul);
	ebmock_timers *t = &g->timers;
	uint64_t now = ebm_mono_ms();

	t->armed_ms = 0;
	while (t->n && t->heap[0]->due_ms <= now) {
		notify_pss *p = t->heap[0];
		heap_remove(t, p);
		notify_due(p, now);
		/* a deadline the core left in the past is served next pass,
		 * not again in this loop */
		if (p->heap_pos && p->due_ms <= now)
			heap_set(t, p, now + 1);
	}
	timers_rearm(g);
}

void ebmock_notify_cleanup(ebmock_glue *g)
{
	free(g->timers.heap);
	g->timers.heap = NULL;
	g->timers.n = g->timers.cap = 0;
	free(g->wbuf);
	g->wbuf = NULL;
	g->wbuf_cap = 0;
}

void ebmock_notify_wake(void *glue, void *user)
{
	(void)glue;
	notify_arm(user);
}

static void notify_rx(notify_pss *p, struct lws *wsi, const char *in, size_t len)
{
	ebmock_glue *g = ebmock_glue_of(wsi);
	size_t max = ebm_ws_max_message(g->srv);
	bool first = lws_is_first_fragment(wsi);
	bool last = lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi);

	if (first && !p->rx_len) {
		p->rx_binary = lws_frame_is_binary(wsi);
		p->rx_skip = false;
	}
	if (!p->rx_skip && p->rx_len + len > max) {
		/* LIMIT-6: close 1009 without keeping any more of it */
		p->rx_skip = true;
		free(p->rx);
		p->rx = NULL;
		p->rx_len = 0;
		ebm_ws_on_too_big(p->sess);
	}
	if (p->rx_skip) {
		if (last)
			p->rx_skip = false;
		return;
	}
	if (last && !p->rx_len) {
		ebm_ws_on_message(p->sess, in, len, p->rx_binary);
		return;
	}
	char *nb = realloc(p->rx, p->rx_len + len + 1);
	if (!nb) {
		ebm_ws_on_too_big(p->sess);
		p->rx_skip = !last;
		return;
	}
	p->rx = nb;
	memcpy(p->rx + p->rx_len, in, len);
	p->rx_len += len;
	if (!last)
		return;
	ebm_ws_on_message(p->sess, p->rx, p->rx_len, p->rx_binary);
	free(p->rx);
	p->rx = NULL;
	p->rx_len = 0;
}

static int notify_writeable(notify_pss *p, struct lws *wsi)
{
	char *text = NULL;
	size_t len = 0;
	int code = 0;
	int rc = 0;

	if (p->idle_ping_now) {
		unsigned char buf[LWS_PRE + 4];
		p->idle_ping_now = false;
		if (lws_write(wsi, buf + LWS_PRE, 0, LWS_WRITE_PING) < 0)
			return -1;
		notify_arm(p);
		return 0;
	}
	switch (ebm_ws_next_out(p->sess, &text, &len, &code)) {
	case EBM_WS_OUT_NONE:
		break;
	case EBM_WS_OUT_TEXT: {
		/* one buffer for every socket: lws copies what the kernel
		 * does not take at once into its own partial buffer */
		ebmock_glue *g = ebmock_glue_of(wsi);
		if (LWS_PRE + len > g->wbuf_cap) {
			size_t cap = LWS_PRE + len + 4096;
			unsigned char *nb = realloc(g->wbuf, cap);
			if (!nb) {
				rc = -1;
				break;
			}
			g->wbuf = nb;
			g->wbuf_cap = cap;
		}
		memcpy(g->wbuf + LWS_PRE, text, len);
		if (lws_write(wsi, g->wbuf + LWS_PRE, len, LWS_WRITE_TEXT) < (int)len)
			rc = -1;
		break;
	}
	case EBM_WS_OUT_PING: {
		unsigned char buf[LWS_PRE + 4];
		if (lws_write(wsi, buf + LWS_PRE, 0, LWS_WRITE_PING) < 0)
			rc = -1;
		break;
	}
	case EBM_WS_OUT_CLOSE: {
		char reason[24];
		int n = snprintf(reason, sizeof reason, "ebmock %d", code);
		lws_close_reason(wsi, (enum lws_close_status)code, (unsigned char *)reason,
				 (size_t)n);
		if (!p->closed_by) {
			p->closed_by = CLOSED_BY_SERVER;
			p->close_code = code;
		}
		rc = -1;
		break;
	}
	case EBM_WS_OUT_DROP:
		/* WS-CLOSE-4 and the drop fault: no close frame can get out */
		if (!p->closed_by)
			p->closed_by = CLOSED_BY_SERVER;
		shutdown(lws_get_socket_fd(wsi), SHUT_RDWR);
		rc = -1;
		break;
	}
	free(text);
	if (rc == 0)
		notify_arm(p);
	return rc;
}

/* ws_open and ws_close lines of the event log. by: "server" (close frame
 * or drop by the server), "client" (close frame from the client), "drop"
 * (the connection ended without either); code null without a close frame. */
static void notify_event(ebmock_glue *g, struct lws *wsi, const char *ev,
			 const notify_pss *p)
{
	ebm_evlog *l = ebm_evlog_of(g->srv);
	ebm_ev e;
	if (!ebm_ev_begin(l, &e, ev))
		return;
	ebm_ev_uint(&e, "conn", ebmock_conn_of(wsi));
	if (strcmp(ev, "ws_close") == 0) {
		if (p->close_code)
			ebm_ev_int(&e, "code", p->close_code);
		else
			ebm_ev_null(&e, "code");
		ebm_ev_str(&e, "by", p->closed_by == CLOSED_BY_SERVER ? "server"
				     : p->closed_by == CLOSED_BY_CLIENT ? "client" : "drop");
	}
	ebm_ev_end(l, &e);
}

int ebmock_notify_callback(struct lws *wsi, enum lws_callback_reasons reason,
			   void *user, void *in, size_t len)
{
	notify_pss *p = user;
	ebmock_glue *g;
	char addr[48];

	switch (reason) {
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		/* lws asks the protocol the connection is bound to */
		return ebmock_confirm_upgrade(wsi);
	case LWS_CALLBACK_ESTABLISHED:
		g = ebmock_glue_of(wsi);
		if (!lws_get_peer_simple(wsi, addr, sizeof addr))
			snprintf(addr, sizeof addr, "unknown");
		memset(p, 0, sizeof *p);
		if (!heap_reserve(&g->timers, ebm_ws_count(g->srv) + 1))
			return -1;
		p->wsi = wsi;
		p->alive_ms = ebm_mono_ms();
		p->sess = ebm_ws_open(g->srv, addr, p);
		if (!p->sess)
			return -1;
		ebm_ws_set_conn(p->sess, ebmock_conn_of(wsi));
		notify_event(g, wsi, "ws_open", p);
		if (g->shutting_down)
			g->shutdown_waiting = ebm_ws_shutdown_step(g->srv, EBMOCK_SHUTDOWN_CLOSING);
		notify_arm(p);
		return 0;
	case LWS_CALLBACK_RECEIVE:
		if (!p->sess)
			return -1;
		notify_rx(p, wsi, in, len);
		notify_arm(p);
		return 0;
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		if (p && !p->closed_by) {
			const unsigned char *b = in;
			p->closed_by = CLOSED_BY_CLIENT;
			/* no status code in the frame is 1005 (RFC 6455 7.1.5) */
			p->close_code = b && len >= 2 ? (b[0] << 8) | b[1] : 1005;
		}
		return 0;
	case LWS_CALLBACK_RECEIVE_PONG:
		if (!p->sess)
			return 0;
		p->alive_ms = ebm_mono_ms();
		p->idle_pinged = false;
		notify_arm(p);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (!p->sess)
			return -1;
		return notify_writeable(p, wsi);
	case LWS_CALLBACK_CLOSED:
		g = ebmock_glue_of(wsi);
		if (p->sess)
			notify_event(g, wsi, "ws_close", p);
		heap_remove(&g->timers, p);
		timers_rearm(g);
		ebm_ws_free(p->sess);
		p->sess = NULL;
		p->wsi = NULL;
		free(p->rx);
		p->rx = NULL;
		return 0;
	default:
		break;
	}
	return 0;
}
